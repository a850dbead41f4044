"""Jobs in the catalog: lifecycle, idempotency keys, atomic claims, lease expiry and
retries, cancellation. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from scenario_library.catalog import Catalog, JobState
from scenario_library.errors import CatalogConflictError, CatalogNotFoundError, SpecError

FakeClock = Any  # the fixture type lives in conftest.py (not importable by name)

T1 = "1" * 32
T2 = "2" * 32


def test_lifecycle(catalog: Catalog, clock: FakeClock) -> None:
    job, created = catalog.create_job("generate", {"class_id": 17, "seed": 0})
    assert created and job.state == JobState.queued and job.attempts == 0
    assert catalog.job_counts()["queued"] == 1
    claimed = catalog.claim_job("w1", ["generate"], lease_s=30)
    assert claimed is not None and claimed.token == job.token
    assert claimed.state == JobState.running and claimed.attempts == 1
    assert claimed.worker_id == "w1" and claimed.lease_expires_at is not None
    clock.advance(10)
    hb = catalog.heartbeat(job.token, "w1", 0.5, "rendering")
    assert hb.progress == 0.5 and hb.message == "rendering"
    assert hb.lease_expires_at == clock.now + __import__("datetime").timedelta(seconds=30)
    catalog.add_job_clips(job.token, [T1, T2, T1])
    catalog.add_job_clips(job.token, [T2])
    done = catalog.finish_job(job.token, "succeeded", worker_id="w1")
    assert done.state == JobState.succeeded and done.progress == 1.0
    assert done.clip_tokens == [T1, T2] and done.finished_at == clock.now
    assert catalog.get_job(job.token) == done
    assert catalog.job_counts() == {
        "queued": 0, "running": 0, "succeeded": 1, "failed": 0, "cancelled": 0,
    }  # fmt: skip
    # A final job stays final.
    assert catalog.finish_job(job.token, "failed", error="late").state == JobState.succeeded
    with pytest.raises(CatalogNotFoundError):
        catalog.get_job("f" * 32)
    with pytest.raises(SpecError):
        catalog.finish_job(job.token, "running")


def test_jobs_survive_a_restart(make_catalog: Callable[..., Catalog]) -> None:
    first = make_catalog()
    job, _ = first.create_job("build", {"classes": [1, 2]}, "key-restart")
    first.claim_job("w1", None, lease_s=60)
    first.close()
    second = make_catalog()
    assert second.get_job(job.token).state == JobState.running
    again, created = second.create_job("build", {"classes": [1, 2]}, "key-restart")
    assert not created and again.token == job.token


def test_idempotency_key(catalog: Catalog) -> None:
    a, created_a = catalog.create_job("generate", {"seed": 1}, idempotency_key="k-1")
    b, created_b = catalog.create_job("generate", {"seed": 1}, idempotency_key="k-1")
    c, created_c = catalog.create_job("generate", {"seed": 1}, idempotency_key="k-2")
    d, created_d = catalog.create_job("generate", {"seed": 1})
    assert (created_a, created_b, created_c, created_d) == (True, False, True, True)
    assert a.token == b.token and len({a.token, c.token, d.token}) == 3
    assert len(catalog.list_jobs()) == 3


def test_idempotency_key_race(catalog: Catalog) -> None:
    barrier = threading.Barrier(6)
    results: list[tuple[str, bool]] = []

    def submit() -> None:
        barrier.wait()
        job, created = catalog.create_job("generate", {"seed": 9}, idempotency_key="same")
        results.append((job.token, created))

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6
    assert len({tok for tok, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert catalog.job_counts()["queued"] == 1


def test_claim_is_atomic(make_catalog: Callable[..., Catalog]) -> None:
    # Two catalog objects (two connection pools, like two processes) race for one job.
    a, b = make_catalog(), make_catalog()
    a.create_job("generate", {})
    barrier = threading.Barrier(2)
    got: list[object] = []

    def claimer(cat: Catalog, wid: str) -> None:
        barrier.wait()
        got.append(cat.claim_job(wid, ["generate"], lease_s=60))

    threads = [threading.Thread(target=claimer, args=(c, f"w{i}")) for i, c in enumerate([a, b])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(j is not None for j in got) == 1


def test_many_claimers_never_share_a_job(make_catalog: Callable[..., Catalog]) -> None:
    cats = [make_catalog() for _ in range(3)]
    tokens = {cats[0].create_job("generate", {"i": i})[0].token for i in range(12)}
    claimed: list[str] = []
    lock = threading.Lock()

    def worker(cat: Catalog, wid: str) -> None:
        while (job := cat.claim_job(wid, ["generate"], lease_s=60)) is not None:
            with lock:
                claimed.append(job.token)
            cat.finish_job(job.token, "succeeded", worker_id=wid)

    threads = [threading.Thread(target=worker, args=(c, f"w{i}")) for i, c in enumerate(cats)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(tokens)  # each exactly once
    assert cats[0].job_counts()["succeeded"] == 12


def test_claim_respects_kinds_and_order(catalog: Catalog, clock: FakeClock) -> None:
    first, _ = catalog.create_job("augment", {})
    clock.advance(1)
    second, _ = catalog.create_job("generate", {})
    clock.advance(1)
    third, _ = catalog.create_job("generate", {})
    assert catalog.claim_job("w", ["build"]) is None
    got = catalog.claim_job("w", ["generate"])
    assert got is not None and got.token == second.token
    got = catalog.claim_job("w")
    assert got is not None and got.token == first.token
    assert [j.token for j in catalog.list_jobs(state="queued")] == [third.token]
    assert [j.token for j in catalog.list_jobs(kind="augment")] == [first.token]


def test_dead_worker_is_retried_then_failed(catalog: Catalog, clock: FakeClock) -> None:
    job, _ = catalog.create_job("generate", {}, max_attempts=2)
    assert catalog.claim_job("w1", lease_s=10) is not None
    clock.advance(5)
    assert catalog.claim_job("w2", lease_s=10) is None  # lease still valid
    catalog.heartbeat(job.token, "w1", 0.2)
    clock.advance(9)
    assert catalog.claim_job("w2", lease_s=10) is None  # heartbeat extended the lease
    clock.advance(2)  # w1 died: lease expired
    retry = catalog.claim_job("w2", lease_s=10)
    assert retry is not None and retry.token == job.token
    assert retry.attempts == 2 and retry.worker_id == "w2" and "retry" in (retry.message or "")
    assert retry.progress == 0.0  # the new attempt starts over
    # The dead worker wakes up: it no longer holds the lease.
    with pytest.raises(CatalogConflictError):
        catalog.heartbeat(job.token, "w1", 0.9)
    with pytest.raises(CatalogConflictError):
        catalog.finish_job(job.token, "succeeded", worker_id="w1")
    clock.advance(11)  # w2 dies too: attempts exhausted
    assert catalog.claim_job("w3", lease_s=10) is None
    failed = catalog.get_job(job.token)
    assert failed.state == JobState.failed and "lease expired" in (failed.error or "")


def test_reap_expired(catalog: Catalog, clock: FakeClock) -> None:
    job, _ = catalog.create_job("generate", {}, max_attempts=1)
    catalog.claim_job("w1", lease_s=5)
    assert catalog.reap_expired_jobs() == 0
    clock.advance(6)
    assert catalog.reap_expired_jobs() == 1
    assert catalog.get_job(job.token).state == JobState.failed


def test_cancel(catalog: Catalog) -> None:
    queued, _ = catalog.create_job("generate", {})
    running, _ = catalog.create_job("generate", {})
    done, _ = catalog.create_job("generate", {})
    assert catalog.claim_job("w1") is not None  # oldest: queued
    catalog.finish_job(queued.token, "succeeded")
    assert catalog.claim_job("w1") is not None  # running
    assert catalog.cancel_job(running.token).state == JobState.cancelled
    # The worker learns of the cancellation through its heartbeat.
    assert catalog.heartbeat(running.token, "w1", 0.5).state == JobState.cancelled
    assert catalog.cancel_job(done.token).state == JobState.cancelled  # was queued
    # A finished job is unchanged by cancel (the caller sees its final state).
    assert catalog.cancel_job(queued.token).state == JobState.succeeded
    assert catalog.claim_job("w1") is None  # cancelled jobs are never claimed
    with pytest.raises(CatalogNotFoundError):
        catalog.cancel_job("e" * 32)


def test_bad_job_arguments(catalog: Catalog) -> None:
    with pytest.raises(SpecError):
        catalog.create_job("", {})
    with pytest.raises(SpecError):
        catalog.create_job("generate", {}, max_attempts=0)
    job, _ = catalog.create_job("generate", {})
    with pytest.raises(SpecError):
        catalog.claim_job("w", lease_s=0)
    catalog.claim_job("w")
    with pytest.raises(SpecError):
        catalog.heartbeat(job.token, "w", 1.5)
    with pytest.raises(SpecError):
        catalog.add_job_clips(job.token, ["not-a-token"])
