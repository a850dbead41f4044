"""Job rows: the state machine of asynchronous work, kept in the catalog database.

States: ``queued -> running -> succeeded | failed``, and ``queued | running -> cancelled``.
A claim leases a job to one worker for ``lease_s`` seconds; heartbeats extend the lease.
A running job whose lease expired (its worker died) is claimed again by the next claimer,
counting ``attempts``; once ``max_attempts`` claims were made it is failed instead.

Claims are atomic: on PostgreSQL the candidate row is locked with ``FOR UPDATE SKIP LOCKED``
(concurrent claimers take different jobs); on SQLite write transactions start with
``BEGIN IMMEDIATE`` (see ``engine.py``), so claimers are serialised by the database lock.
All functions run inside a transaction owned by the ``Catalog`` facade.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from scenario_library.catalog.clips import dialect_insert
from scenario_library.catalog.models import Job, JobClip
from scenario_library.catalog.records import FINAL_STATES, JobRecord, JobState, check_token
from scenario_library.errors import CatalogConflictError, CatalogNotFoundError, SpecError


def new_job_token() -> str:
    return uuid.uuid4().hex


def to_record(session: Session, job: Job) -> JobRecord:
    clip_tokens = list(
        session.execute(
            select(JobClip.clip_token)
            .where(JobClip.job_token == job.token)
            .order_by(JobClip.position)
        ).scalars()
    )
    return JobRecord(
        token=job.token,
        kind=job.kind,
        state=JobState(job.state),
        payload=job.payload,
        idempotency_key=job.idempotency_key,
        progress=job.progress,
        message=job.message,
        error=job.error,
        clip_tokens=clip_tokens,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        worker_id=job.worker_id,
        heartbeat_at=job.heartbeat_at,
        lease_expires_at=job.lease_expires_at,
        created_at=job.created_at,
        updated_at=job.updated_at,
        finished_at=job.finished_at,
    )


def get(session: Session, token: str, *, lock: bool = False) -> Job:
    stmt = select(Job).where(Job.token == token)
    if lock:
        stmt = stmt.with_for_update()
    job = session.execute(stmt).scalar_one_or_none()
    if job is None:
        raise CatalogNotFoundError(f"job {token!r} is not in the catalog")
    return job


def by_idempotency_key(session: Session, key: str) -> Job | None:
    return session.execute(select(Job).where(Job.idempotency_key == key)).scalar_one_or_none()


def insert(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    idempotency_key: str | None,
    max_attempts: int,
    now: datetime,
) -> Job:
    if not kind or len(kind) > 100:
        raise SpecError("kind", kind, "a job kind is a non-empty string of at most 100 chars")
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 255):
        raise SpecError("idempotency_key", idempotency_key, "must have 1..255 characters")
    if max_attempts < 1:
        raise SpecError("max_attempts", max_attempts, "must be at least 1")
    job = Job(
        token=new_job_token(),
        kind=kind,
        state=JobState.queued.value,
        payload=payload,
        idempotency_key=idempotency_key,
        progress=0.0,
        attempts=0,
        max_attempts=max_attempts,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    return job


def fail_exhausted(session: Session, now: datetime) -> int:
    """Fail running jobs whose lease expired and that used all their attempts."""
    result = session.execute(
        update(Job)
        .where(
            Job.state == JobState.running.value,
            Job.lease_expires_at < now,
            Job.attempts >= Job.max_attempts,
        )
        .values(
            state=JobState.failed.value,
            error="worker lost: lease expired on the last allowed attempt",
            finished_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claim(
    session: Session, worker_id: str, kinds: Sequence[str] | None, lease_s: float, now: datetime
) -> Job | None:
    if not worker_id:
        raise SpecError("worker_id", worker_id, "must be a non-empty string")
    if not lease_s > 0:
        raise SpecError("lease_s", lease_s, "must be positive [s]")
    fail_exhausted(session, now)
    claimable = or_(
        Job.state == JobState.queued.value,
        and_(
            Job.state == JobState.running.value,
            Job.lease_expires_at < now,
            Job.attempts < Job.max_attempts,
        ),
    )
    stmt = select(Job).where(claimable)
    if kinds is not None:
        stmt = stmt.where(Job.kind.in_(list(kinds)))
    stmt = stmt.order_by(Job.created_at, Job.token).limit(1).with_for_update(skip_locked=True)
    job = session.execute(stmt).scalar_one_or_none()
    if job is None:
        return None
    job.state = JobState.running.value
    job.attempts += 1
    job.worker_id = worker_id
    job.lease_s = lease_s
    job.heartbeat_at = now
    job.lease_expires_at = now + timedelta(seconds=lease_s)
    job.updated_at = now
    if job.attempts > 1:  # the previous worker died: this attempt starts over
        job.progress = 0.0
        job.message = f"retry {job.attempts}/{job.max_attempts} after an expired lease"
    session.flush()
    return job


def _check_worker(job: Job, worker_id: str | None) -> None:
    if worker_id is not None and job.worker_id != worker_id:
        raise CatalogConflictError(
            f"job {job.token}: worker_id={worker_id!r} does not hold the lease "
            f"(held by {job.worker_id!r}, state {job.state})"
        )


def heartbeat(
    session: Session,
    token: str,
    worker_id: str,
    progress: float,
    message: str | None,
    now: datetime,
) -> Job:
    if not 0.0 <= progress <= 1.0:
        raise SpecError("progress", progress, "must be within [0, 1]")
    job = get(session, token, lock=True)
    if job.state != JobState.running.value:
        return job  # e.g. cancelled: the worker reads the state and stops
    _check_worker(job, worker_id)
    job.progress = max(job.progress, progress)
    if message is not None:
        job.message = message
    job.heartbeat_at = now
    job.lease_expires_at = now + timedelta(seconds=job.lease_s or 0.0)
    job.updated_at = now
    session.flush()
    return job


def add_clips(session: Session, token: str, clip_tokens: Sequence[str], now: datetime) -> Job:
    for t in clip_tokens:
        check_token(t, "clip_tokens")
    job = get(session, token, lock=True)
    have = set(
        session.execute(select(JobClip.clip_token).where(JobClip.job_token == token)).scalars()
    )
    start = session.execute(
        select(func.coalesce(func.max(JobClip.position), -1)).where(JobClip.job_token == token)
    ).scalar_one()
    rows = []
    for t in dict.fromkeys(clip_tokens):  # keep order, drop duplicates
        if t not in have:
            start += 1
            rows.append({"job_token": token, "clip_token": t, "position": start})
    if rows:
        session.execute(dialect_insert(session, JobClip).on_conflict_do_nothing(), rows)
        job.updated_at = now
        session.flush()
    return job


def finish(
    session: Session,
    token: str,
    state: JobState,
    error: str | None,
    worker_id: str | None,
    now: datetime,
) -> Job:
    if state not in FINAL_STATES:
        raise SpecError("state", state.value, "finish_job needs succeeded, failed or cancelled")
    job = get(session, token, lock=True)
    if JobState(job.state) in FINAL_STATES:
        return job  # already final: unchanged
    _check_worker(job, worker_id)
    job.state = state.value
    job.error = error
    if state == JobState.succeeded:
        job.progress = 1.0
    job.finished_at = now
    job.updated_at = now
    job.lease_expires_at = None
    session.flush()
    return job


def cancel(session: Session, token: str, now: datetime) -> Job:
    job = get(session, token, lock=True)
    if JobState(job.state) in FINAL_STATES:
        return job
    job.state = JobState.cancelled.value
    job.finished_at = now
    job.updated_at = now
    job.lease_expires_at = None
    session.flush()
    return job


def list_(
    session: Session, state: JobState | None, kind: str | None, limit: int, offset: int
) -> list[Job]:
    stmt = select(Job)
    if state is not None:
        stmt = stmt.where(Job.state == state.value)
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    stmt = stmt.order_by(Job.created_at.desc(), Job.token).limit(limit).offset(offset)
    return list(session.execute(stmt).scalars())


def counts(session: Session) -> dict[str, int]:
    out = {s.value: 0 for s in JobState}
    for state, n in session.execute(select(Job.state, func.count()).group_by(Job.state)):
        out[state] = int(n)
    return out
