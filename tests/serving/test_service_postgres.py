"""The service on a PostgreSQL catalog: jobs survive a restart; a job whose worker died
mid-way is re-claimed after its lease and finishes with every clip exactly once."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from serving_helpers import TINY, make_args, submit, wait_job

pytestmark = [pytest.mark.integration, pytest.mark.slow]

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ (pgserver)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    from pgserver import find_pg_bin, start_pg_server

    if find_pg_bin() is None:
        pytest.skip("PostgreSQL binaries not installed (scripts/install-system-deps.sh)")
    pg = start_pg_server()
    try:
        yield pg.create_database("wmgen_serving")
    finally:
        pg.stop()


def test_restart_keeps_jobs_and_resumes_a_dead_workers_job(
    instances: Any, tmp_path: Path, pg_url: str
) -> None:
    args = make_args(tmp_path, catalog_url=pg_url, job_lease_s=4.0, jobs_per_worker=1)
    svc = instances.get(args)
    with httpx.Client(base_url=svc.url, timeout=30.0) as c:
        assert c.get("/healthz").json()["catalog"].startswith("postgresql")
        done = wait_job(c, submit(c, {"class_id": 30, "seed": 0, **TINY}).json()["job_id"])
        assert done["state"] == "succeeded"
        r = submit(c, {"class_id": 31, "seeds": [0, 1, 2, 3], **TINY})
        jid = r.json()["job_id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until the worker is inside the job
            job = c.get(f"/v1/jobs/{jid}").json()
            if job["state"] == "running":
                break
            time.sleep(0.05)
        assert job["state"] == "running"
    instances.kill()  # the service (and its worker) dies mid-job

    svc = instances.get(args)  # a new service on the same database
    with httpx.Client(base_url=svc.url, timeout=30.0) as c:
        again = c.get(f"/v1/jobs/{done['job_id']}").json()
        assert again["state"] == "succeeded" and again["clip_ids"] == done["clip_ids"]
        assert c.get(f"/v1/clips/{done['clip_ids'][0]}").status_code == 200
        job = wait_job(c, jid, timeout_s=180)
        assert job["state"] == "succeeded", job
        assert job["attempts"] >= 2, "re-claimed after the dead worker's lease expired"
        assert len(job["clip_ids"]) == len(set(job["clip_ids"])) == 4
        clips = c.get("/v1/clips", params={"class_id": 31, "limit": 50}).json()
        assert clips["total"] == 4, "each clip published exactly once"
    instances.stop()
