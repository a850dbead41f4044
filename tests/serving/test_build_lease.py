"""The job row of a CLI Ray build: lease, heartbeats, re-claim after a kill (injected clock).

No Ray here: ``acquire_build_job`` and the lease keeper are what a driver does before and
while it sends tasks; the clock and the sleep are injected so that no test waits for a lease.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from generator.build import BuildOptions
from scenario_library.catalog import Catalog
from serving.api import job_out
from serving.errors import ClusterError
from serving.jobs import WORKER_KINDS, lease_state
from serving.ray_build import _LeaseKeeper, acquire_build_job, build_identity, find_build_job

OPTS = BuildOptions(width_px=160, height_px=96, seconds=1.0)
LEASE_S = 2.0


class FakeClock:
    def __init__(self) -> None:
        self.t = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


@pytest.fixture()
def env(tmp_path: Path) -> tuple[Catalog, FakeClock]:
    clock = FakeClock()
    return Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}", clock=clock), clock


def test_same_build_same_row_and_kind_no_service_worker_claims(
    env: tuple[Catalog, FakeClock],
) -> None:
    cat, clock = env
    assert build_identity([3, 1], 2, OPTS) == build_identity([1, 3, 3], 2, OPTS)
    assert build_identity([1, 3], 2, OPTS)[0] != build_identity([1, 3], 3, OPTS)[0]
    job, hold = acquire_build_job(cat, [1, 3], 2, OPTS, "driver-a", LEASE_S, now=clock)
    assert hold and job.state.value == "running" and job.attempts == 1
    assert job.worker_id == "driver-a"
    assert find_build_job(cat, [3, 1], 2, OPTS).token == job.token
    clock.advance(10 * LEASE_S)  # even expired, the service's claim loop leaves it alone
    assert cat.claim_job("serve-worker", WORKER_KINDS, 60.0) is None


def test_killed_driver_row_is_reclaimed_by_the_rerun(env: tuple[Catalog, FakeClock]) -> None:
    cat, clock = env
    job, _ = acquire_build_job(cat, [5], 2, OPTS, "driver-a", LEASE_S, now=clock)
    killed = _LeaseKeeper(cat, job.token, "driver-a", LEASE_S)
    killed.progress = 0.5
    killed.beat()  # one heartbeat, then the driver is killed
    row = cat.get_job(job.token)
    assert lease_state(row, clock()) == "held" and not job_out(row).stale
    clock.advance(LEASE_S + 0.1)
    row = cat.get_job(job.token)
    assert row.state.value == "running"
    assert lease_state(row, clock()) == "expired", "a dead driver's row is re-claimable"

    sleeps: list[float] = []
    rerun, hold = acquire_build_job(
        cat, [5], 2, OPTS, "driver-b", LEASE_S, now=clock, sleep=sleeps.append
    )
    assert hold and sleeps == [], "an expired lease is taken without waiting"
    assert rerun.token == job.token and rerun.attempts == 2 and rerun.worker_id == "driver-b"
    killed.beat()  # the old driver, were it alive, learns it lost the row
    assert killed.lost

    cat.finish_job(rerun.token, "succeeded", None, "driver-b")
    again, hold = acquire_build_job(cat, [5], 2, OPTS, "driver-c", LEASE_S, now=clock)
    assert again.token == job.token and not hold and again.state.value == "succeeded"


def test_rerun_waits_out_a_fresh_lease_but_not_a_live_driver(
    env: tuple[Catalog, FakeClock],
) -> None:
    cat, clock = env
    job, _ = acquire_build_job(cat, [8], 1, OPTS, "driver-a", LEASE_S, now=clock)

    def sleep_dead(s: float) -> None:  # the holder was killed: time passes, no heartbeat
        clock.advance(s)

    rerun, hold = acquire_build_job(
        cat, [8], 1, OPTS, "driver-b", LEASE_S, now=clock, sleep=sleep_dead
    )
    assert hold and rerun.token == job.token and rerun.attempts == 2
    assert clock() > job.lease_expires_at.replace(tzinfo=UTC)

    def sleep_alive(s: float) -> None:  # the holder heartbeats while we wait
        clock.advance(s / 2)
        cat.heartbeat(job.token, "driver-b", 0.1)

    with pytest.raises(ClusterError, match="another driver"):
        acquire_build_job(cat, [8], 1, OPTS, "driver-c", LEASE_S, now=clock, sleep=sleep_alive)


def test_failed_build_reruns_on_a_fresh_row(env: tuple[Catalog, FakeClock]) -> None:
    cat, clock = env
    job, _ = acquire_build_job(cat, [9], 1, OPTS, "driver-a", LEASE_S, now=clock)
    cat.finish_job(job.token, "failed", "boom", "driver-a")
    rerun, hold = acquire_build_job(cat, [9], 1, OPTS, "driver-b", LEASE_S, now=clock)
    assert hold and rerun.token != job.token and rerun.attempts == 1
    assert find_build_job(cat, [9], 1, OPTS).token == rerun.token


def test_api_reports_a_dead_build_as_stale(env: tuple[Catalog, FakeClock]) -> None:
    cat, clock = env
    job, _ = acquire_build_job(cat, [4], 1, OPTS, "driver-a", LEASE_S, now=clock)
    assert not job_out(cat.get_job(job.token)).stale
    clock.t -= timedelta(hours=1)  # a heartbeat an hour ago: the driver is long dead
    cat.heartbeat(job.token, "driver-a", 0.2)
    out = job_out(cat.get_job(job.token))
    assert out.state == "running" and out.stale and out.lease_expires_at is not None
