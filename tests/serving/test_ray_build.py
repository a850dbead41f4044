"""Batch builds on a real two-node Ray cluster on this machine (``ray start``), resumable.

The head and the second node each offer one CPU; builds run from driver subprocesses so a
build can be killed mid-way and run again. The catalog is PostgreSQL when the Debian binaries
are there (E1's throwaway server), else SQLite.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ (pgserver)

RAY = str(Path(sys.executable).parent / "ray")
TINY_OPTS = {"width_px": 160, "height_px": 96, "fps": 10.0, "seconds": 1.0}

DRIVER = r"""
import json, sys
from generator.build import BuildOptions
from serving.ray_build import build_library_on_ray
cfg = json.loads(sys.argv[1])
def progress(done, total):
    print(json.dumps({"progress": [done, total]}), flush=True)
s = build_library_on_ray(cfg["classes"], cfg["variants"], address=cfg["address"],
                         catalog_url=cfg["catalog_url"], storage=cfg["storage"],
                         progress=progress, options=BuildOptions(**cfg["opts"]),
                         chunk_size=cfg["chunk"], task_cpus=1.0,
                         lease_s=cfg.get("lease_s", 30.0))
import ray
alive = sorted(n["NodeID"] for n in ray.nodes() if n["Alive"])
print(json.dumps({"summary": {**s.to_dict(), "node_ids": s.node_ids, "tokens": s.tokens,
                              "alive_nodes": alive}}), flush=True)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0", TQDM_DISABLE="1")
    return env


def _ray_start(args: list[str]) -> int:
    """``ray start ARGS`` in a new session; returns its process group id. The daemons it
    spawns stay in that group, so the teardown can stop exactly this node (never ``ray stop``,
    which would stop every Ray on the machine)."""
    proc = subprocess.Popen(
        [RAY, "start", *args],
        env=_env(),
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out, _ = proc.communicate(timeout=180)
    if proc.returncode != 0:
        _stop_group(proc.pid)
        raise RuntimeError(f"ray start {' '.join(args)} failed:\n{out[-2000:]}")
    return proc.pid


def _stop_group(pgid: int) -> None:
    for sig, wait_s in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A Ray head plus a second node, 1 CPU each, on loopback; stopped afterwards."""
    if not Path(RAY).exists():
        pytest.skip("ray CLI not installed")
    from serving.local import free_port

    tmp = tmp_path_factory.mktemp("raycluster")
    port = free_port()
    temp_dir = f"/tmp/ray-wmgen-{os.getpid()}"
    address = f"127.0.0.1:{port}"
    common = [
        "--num-cpus=1",
        "--num-gpus=0",
        "--node-ip-address=127.0.0.1",
        "--disable-usage-stats",
    ]
    groups: list[int] = []
    pg = None
    try:
        groups.append(
            _ray_start(
                [
                    "--head",
                    f"--port={port}",
                    "--include-dashboard=false",
                    "--dashboard-host=127.0.0.1",
                    f"--temp-dir={temp_dir}",
                    *common,
                ]
            )
        )
        groups.append(_ray_start([f"--address={address}", *common]))
        catalog_url, pg = _catalog_url(tmp)
        yield {
            "address": address,
            "catalog_url": catalog_url,
            "storage": str(tmp / "storage"),
            "pg": pg,
        }
    finally:
        for g in reversed(groups):
            _stop_group(g)
        shutil.rmtree(temp_dir, ignore_errors=True)
        if pg is not None:
            pg.stop()


def _catalog_url(tmp: Path) -> tuple[str, Any]:
    try:
        from pgserver import find_pg_bin, start_pg_server
    except ImportError:
        find_pg_bin = None  # type: ignore[assignment]
    if find_pg_bin is not None and find_pg_bin() is not None:
        pg = start_pg_server()
        return pg.create_database("wmgen_raybuild"), pg
    return f"sqlite:///{tmp / 'catalog.sqlite'}", None


def _run_driver(
    cluster: dict[str, Any],
    classes: list[int],
    variants: int,
    kill_after_progress: int | None = None,
    lease_s: float = 30.0,
) -> dict[str, Any] | None:
    cfg = {
        "classes": classes,
        "variants": variants,
        "address": cluster["address"],
        "catalog_url": cluster["catalog_url"],
        "storage": cluster["storage"],
        "opts": TINY_OPTS,
        "chunk": 1,
        "lease_s": lease_s,
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, json.dumps(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=Path(__file__).resolve().parents[2],
        start_new_session=True,
    )
    assert proc.stdout is not None
    summary = None
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        if time.monotonic() > deadline:
            break
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if "progress" in msg and kill_after_progress is not None:
            done, _total = msg["progress"]
            if done >= kill_after_progress:
                os.killpg(proc.pid, signal.SIGKILL)  # the driver dies mid-build
                proc.wait(timeout=60)
                return None
        if "summary" in msg:
            summary = msg["summary"]
    proc.wait(timeout=120)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return summary


def _catalog(cluster: dict[str, Any]) -> Any:
    from scenario_library.catalog import Catalog, ClipQuery

    cat = Catalog(cluster["catalog_url"])
    return cat, ClipQuery


def test_build_spreads_over_two_nodes(cluster: dict[str, Any]) -> None:
    summary = _run_driver(cluster, [2, 4], 2)
    assert summary is not None
    assert summary["requested"] == 4 and summary["failed"] == 0
    assert summary["generated"] == 4
    alive = set(summary["alive_nodes"])
    assert len(alive) == 2
    assert set(summary["node_ids"]) == alive, "tasks ran on both nodes"
    cat, query = _catalog(cluster)
    page = cat.query_clips(query(with_total=True, limit=100))
    assert page.total == 4
    job = cat.get_job(summary["job_id"])
    assert job.state.value == "succeeded" and sorted(job.clip_tokens) == sorted(summary["tokens"])


def test_build_resumes_after_kill_without_duplicates(cluster: dict[str, Any]) -> None:
    from datetime import UTC, datetime, timedelta

    from generator.build import BuildOptions
    from serving.api import job_out
    from serving.jobs import lease_state
    from serving.ray_build import find_build_job

    classes, variants, lease_s = [6, 7, 10], 2, 2.0
    killed = _run_driver(cluster, classes, variants, kill_after_progress=1, lease_s=lease_s)
    assert killed is None
    cat, query = _catalog(cluster)
    partial = {r.token for r in cat.query_clips(query(limit=500)).items if r.class_id in classes}
    assert len(partial) < len(classes) * variants, "the kill happened before the end"
    # the killed driver's row: still "running", re-claimable once its lease has run out
    dead = find_build_job(cat, classes, variants, BuildOptions(**TINY_OPTS))
    assert dead is not None and dead.state.value == "running" and dead.attempts == 1
    later = dead.lease_expires_at.replace(tzinfo=UTC) + timedelta(seconds=0.1)
    assert lease_state(dead, later) == "expired"
    assert lease_state(dead, later - timedelta(seconds=lease_s + 0.2)) == "held"
    # the same build again: same row, re-claimed after the lease, finished succeeded
    summary = _run_driver(cluster, classes, variants, lease_s=lease_s)
    assert summary is not None and summary["failed"] == 0
    assert summary["requested"] == 6
    assert summary["skipped_existing"] >= len(partial)
    assert summary["job_id"] == dead.token
    rows = [r for r in cat.query_clips(query(limit=500)).items if r.class_id in classes]
    assert len(rows) == 6 == len({r.token for r in rows}), "complete, no duplicates"
    assert {(r.class_id, r.seed) for r in rows} == {(c, s) for c in classes for s in range(2)}
    job = cat.get_job(dead.token)
    assert job.state.value == "succeeded" and job.attempts == 2 and job.progress == 1.0
    assert sorted(job.clip_tokens) == sorted(r.token for r in rows)
    assert not job_out(job).stale and lease_state(job, datetime.now(UTC)) is None
