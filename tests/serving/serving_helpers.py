"""Helpers of the serving tests (imported by conftest and the test modules).

One real Ray Serve instance on loopback per set of args.

The instance runs in the test process (``serving.local.LocalService``) on a random port with
small fractional CPUs, a temp data folder and a bearer token, so auth is on for every test.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

TOKEN = "serving-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: the smallest clip the tests ask for: 160x96, 1 s at 10 fps (10 frames)
TINY = {"width_px": 160, "height_px": 96, "seconds": 1.0, "fps": 10.0}
FINAL = {"succeeded", "failed", "cancelled"}


class _Instances:
    """At most one Serve instance at a time; reused while the args stay the same."""

    def __init__(self) -> None:
        self.current: Any = None
        self.args: Any = None

    def get(self, args: Any) -> Any:
        from serving.local import LocalService

        if self.current is not None and self.args == args:
            return self.current
        self.stop()
        self.current = LocalService(args).start()
        self.args = args
        return self.current

    def stop(self) -> None:
        if self.current is not None:
            self.current.stop()
            self.current = None
            self.args = None

    def kill(self) -> None:
        """Tear the local Ray down at once (workers die mid-request, no graceful drain)."""
        import ray

        ray.shutdown()
        self.current = None
        self.args = None


def make_args(data_dir: Path, **over: Any) -> Any:
    from serving.settings import AppArgs

    base: dict[str, Any] = dict(
        data_dir=str(data_dir),
        catalog_url=None,
        storage=None,
        api_token=TOKEN,
        max_body_bytes=64 * 1024,
        max_upload_bytes=2 * 1024 * 1024,
        max_queued_jobs=6,
        max_clips_per_job=4,
        max_build_items=8,
        max_width_px=1280,
        max_height_px=704,
        max_seconds=5.0,
        job_lease_s=10.0,
        heartbeat_s=0.5,
        poll_s=0.1,
        ingress_cpus=0.05,
        catalog_cpus=0.05,
        scene_cpus=0.1,
        video_cpus=0.25,
        backends=("sketch",),
    )
    base.update(over)
    return AppArgs(**base)


def wait_job(client: httpx.Client, job_id: str, timeout_s: float = 120.0) -> dict[str, Any]:
    """Poll a job until it is final (bounded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        r = client.get(f"/v1/jobs/{job_id}")
        assert r.status_code == 200, r.text
        job = r.json()
        if job["state"] in FINAL:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not final after {timeout_s} s: {job}")


def submit(client: httpx.Client, body: dict[str, Any], **headers: str) -> httpx.Response:
    return client.post("/v1/clips", json=body, headers={**AUTH, **headers})
