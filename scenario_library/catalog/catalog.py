"""The catalog facade: clips and jobs in one SQL database (SQLite file or PostgreSQL).

Every public method is one transaction. Example::

    cat = Catalog.from_env("library/catalog.sqlite")       # WMGEN_CATALOG_URL overrides
    cat.add_clip(record)                                    # False if the token existed
    page = cat.query_clips(ClipQuery(tags=["road:highway", "weather:rain"],
                                     where=["ego_speed_kmh>60"]))
    job, created = cat.create_job("generate", {"class_id": 17}, idempotency_key="abc")
    job = cat.claim_job("worker-1", kinds=["generate"], lease_s=60)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from scenario_library.catalog import clips as _clips
from scenario_library.catalog import jobs as _jobs
from scenario_library.catalog.engine import make_engine, normalize_url, sqlite_url
from scenario_library.catalog.models import SCHEMA_VERSION, Base, Clip, SchemaVersion
from scenario_library.catalog.records import (
    N_CLASSES_DEFAULT,
    ClipPage,
    ClipQuery,
    ClipRecord,
    CoverageStats,
    JobRecord,
    JobState,
    utcnow,
)
from scenario_library.errors import (
    CatalogConflictError,
    CatalogError,
    CatalogNotFoundError,
    SpecError,
)

ENV_URL = "WMGEN_CATALOG_URL"
_PG_SCHEMA_LOCK = 0x776D67656E  # advisory lock id for create_all ("wmgen")


def _state(value: JobState | str, field: str = "state") -> JobState:
    try:
        return JobState(value)
    except ValueError as exc:
        raise SpecError(field, value, f"one of {[s.value for s in JobState]}") from exc


class Catalog:
    """Clips and jobs of one wmgen installation.

    ``url``: ``sqlite:///path/catalog.sqlite`` or ``postgresql://user@host:port/db``.
    ``create``: create missing tables on open (idempotent, safe from many processes).
    ``clock``: returns the current UTC time (tests inject a fake clock for lease expiry).
    """

    def __init__(
        self,
        url: str,
        *,
        create: bool = True,
        clock: Callable[[], datetime] = utcnow,
        n_classes: int = N_CLASSES_DEFAULT,
    ) -> None:
        self.url = normalize_url(url).render_as_string(hide_password=False)
        self.n_classes = n_classes
        self._clock = clock
        self._engine = make_engine(self.url)
        self.dialect = self._engine.dialect.name
        if create:
            self.create_all()

    @classmethod
    def from_env(cls, default_sqlite_path: str | Path, **kwargs: Any) -> Catalog:
        """``WMGEN_CATALOG_URL`` if set, else a SQLite file at ``default_sqlite_path``."""
        url = os.environ.get(ENV_URL) or sqlite_url(default_sqlite_path)
        return cls(url, **kwargs)

    def __repr__(self) -> str:
        return f"Catalog({normalize_url(self.url).render_as_string(hide_password=True)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable (e.g. to Ray workers): the receiver opens its own engine. A custom clock
        # does not travel.
        return (Catalog, (self.url,), None)

    def close(self) -> None:
        self._engine.dispose()

    @property
    def engine(self) -> Any:
        """The SQLAlchemy engine (for maintenance and benchmarks)."""
        return self._engine

    # ----------------------------------------------------------------------- transactions

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """One transaction; ``write=True`` takes the write lock at BEGIN on SQLite."""
        try:
            with self._engine.connect() as conn:
                conn.execution_options(wmgen_write=write)
                with conn.begin():
                    s = Session(bind=conn, expire_on_commit=False, autoflush=True)
                    try:
                        yield s
                        s.flush()
                    finally:
                        s.close()
        except OperationalError as exc:
            raise CatalogError(f"catalog database error ({self!r}): {exc.orig}") from exc

    def create_all(self) -> None:
        """Create missing tables and record the schema version (idempotent)."""
        with self.session(write=True) as s:
            if self.dialect == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_SCHEMA_LOCK})
            Base.metadata.create_all(s.connection())
            if s.get(SchemaVersion, SCHEMA_VERSION) is None:
                s.add(SchemaVersion(version=SCHEMA_VERSION, created_at=self._clock()))

    def schema_version(self) -> int:
        with self.session() as s:
            v = s.execute(select(SchemaVersion.version).order_by(SchemaVersion.version.desc()))
            return int(v.scalars().first() or 0)

    # ---------------------------------------------------------------------------- clips

    def add_clip(self, record: ClipRecord) -> bool:
        """Store ``record``; False (and nothing written) when its token is already there.
        Safe against concurrent inserts of the same token."""
        try:
            with self.session(write=True) as s:
                return _clips.insert_clip(s, record)
        except IntegrityError as exc:
            if self.has_clip(record.token):
                return False  # a concurrent writer stored it first
            raise CatalogConflictError(
                f"clip {record.token}: insert conflicts with existing rows: {exc.orig}"
            ) from exc

    def has_clip(self, token: str) -> bool:
        with self.session() as s:
            return _clips.clip_id_of(s, token) is not None

    def existing_tokens(self, tokens: Sequence[str]) -> set[str]:
        """The subset of ``tokens`` that are catalogued (for resumable builds)."""
        out: set[str] = set()
        tokens = list(dict.fromkeys(tokens))
        with self.session() as s:
            for i in range(0, len(tokens), 500):
                chunk = tokens[i : i + 500]
                out.update(s.execute(select(Clip.token).where(Clip.token.in_(chunk))).scalars())
        return out

    def get_clip(self, token: str) -> ClipRecord:
        """The record of ``token``; raises ``CatalogNotFoundError``."""
        with self.session() as s:
            clip_id = _clips.clip_id_of(s, token)
            if clip_id is None:
                raise CatalogNotFoundError(f"clip {token!r} is not in the catalog")
            return _clips.load_records(s, [clip_id])[0]

    def get_clips(self, tokens: Sequence[str]) -> list[ClipRecord]:
        """Records of ``tokens`` in that order; raises ``CatalogNotFoundError`` on a miss."""
        with self.session() as s:
            ids = dict(s.execute(select(Clip.token, Clip.id).where(Clip.token.in_(tokens))).all())
            missing = [t for t in tokens if t not in ids]
            if missing:
                raise CatalogNotFoundError(f"clips not in the catalog: {missing[:5]}")
            return _clips.load_records(s, [ids[t] for t in tokens])

    def query_clips(self, query: ClipQuery | None = None) -> ClipPage:
        """One page of clips matching ``query`` (ALL tags, all ranges), newest first."""
        with self.session() as s:
            return _clips.query(s, query or ClipQuery())

    def iter_clips(self, query: ClipQuery | None = None) -> Iterator[ClipRecord]:
        """All clips matching ``query`` (from its offset on), page by page."""
        q = query or ClipQuery(limit=500)
        while True:
            page = self.query_clips(q)
            yield from page.items
            if page.next_offset is None:
                return
            q = q.model_copy(update={"offset": page.next_offset})

    def explain_query(self, query: ClipQuery) -> tuple[str, list[str]]:
        """(driver, database plan lines) of ``query``, for benchmarks and debugging."""
        with self.session() as s:
            plan, tagsets = _clips.plan_query(s, query)
            if plan.driver == "empty":
                return plan.driver, []
            sql, params = _clips.build_id_query(s, query, plan, tagsets)
            prefix = "EXPLAIN QUERY PLAN " if self.dialect == "sqlite" else "EXPLAIN "
            rows = s.execute(text(prefix + sql), params).all()
            return plan.driver, [" | ".join(str(c) for c in r) for r in rows]

    def stats(self) -> CoverageStats:
        """Clips per class / tag / backend and the classes with no clip yet."""
        with self.session() as s:
            return _clips.coverage(s, self.n_classes)

    def rebuild_stats(self) -> None:
        """Recompute the live counters from the clip rows (after bulk loads)."""
        with self.session(write=True) as s:
            _clips.rebuild_stats(s)

    # ----------------------------------------------------------------------------- jobs

    def create_job(
        self,
        kind: str,
        payload: dict[str, Any],
        idempotency_key: str | None = None,
        *,
        max_attempts: int = 3,
    ) -> tuple[JobRecord, bool]:
        """A new queued job, or ``(existing, False)`` when ``idempotency_key`` was used
        before (whatever its payload: the key alone identifies the request). Race-safe."""
        if idempotency_key is not None:
            existing = self.job_by_key(idempotency_key)
            if existing is not None:
                return existing, False
        try:
            with self.session(write=True) as s:
                job = _jobs.insert(s, kind, payload, idempotency_key, max_attempts, self._clock())
                return _jobs.to_record(s, job), True
        except IntegrityError:
            if idempotency_key is None:
                raise
            existing = self.job_by_key(idempotency_key)
            if existing is None:
                raise
            return existing, False

    def job_by_key(self, key: str) -> JobRecord | None:
        """The job created with ``Idempotency-Key`` ``key``, or None."""
        with self.session() as s:
            job = _jobs.by_idempotency_key(s, key)
            return None if job is None else _jobs.to_record(s, job)

    def get_job(self, token: str) -> JobRecord:
        with self.session() as s:
            return _jobs.to_record(s, _jobs.get(s, token))

    def claim_job(
        self, worker_id: str, kinds: Sequence[str] | None = None, lease_s: float = 60.0
    ) -> JobRecord | None:
        """Atomically move the oldest claimable job to ``running`` for ``worker_id``:
        a queued job, or a running one whose lease expired (``attempts`` + 1). None if
        there is nothing to do. Expired jobs out of attempts are failed on the way."""
        with self.session(write=True) as s:
            job = _jobs.claim(s, worker_id, kinds, lease_s, self._clock())
            return None if job is None else _jobs.to_record(s, job)

    def heartbeat(
        self, token: str, worker_id: str, progress: float, message: str | None = None
    ) -> JobRecord:
        """Extend the lease and record progress (0..1, never decreasing within an attempt;
        a retry after an expired lease starts at 0). Returns the job; if its state is no
        longer ``running`` (cancelled) the worker should stop. Raises
        ``CatalogConflictError`` when another worker holds the lease now."""
        with self.session(write=True) as s:
            return _jobs.to_record(
                s, _jobs.heartbeat(s, token, worker_id, progress, message, self._clock())
            )

    def add_job_clips(self, token: str, clip_tokens: Sequence[str]) -> JobRecord:
        """Append clip tokens to the job's result list (duplicates ignored, order kept)."""
        with self.session(write=True) as s:
            return _jobs.to_record(s, _jobs.add_clips(s, token, clip_tokens, self._clock()))

    def finish_job(
        self,
        token: str,
        state: JobState | str,
        error: str | None = None,
        worker_id: str | None = None,
    ) -> JobRecord:
        """Move a job to a final state. A job already final is returned unchanged (check
        ``state``). With ``worker_id``, raises ``CatalogConflictError`` if that worker lost
        the lease."""
        with self.session(write=True) as s:
            job = _jobs.finish(s, token, _state(state), error, worker_id, self._clock())
            return _jobs.to_record(s, job)

    def cancel_job(self, token: str) -> JobRecord:
        """queued/running -> cancelled. A finished job is returned unchanged."""
        with self.session(write=True) as s:
            return _jobs.to_record(s, _jobs.cancel(s, token, self._clock()))

    def reap_expired_jobs(self) -> int:
        """Fail running jobs whose lease expired on their last attempt; returns how many."""
        with self.session(write=True) as s:
            return _jobs.fail_exhausted(s, self._clock())

    def list_jobs(
        self,
        state: JobState | str | None = None,
        kind: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[JobRecord]:
        """Jobs, newest first."""
        st = None if state is None else _state(state)
        with self.session() as s:
            return [_jobs.to_record(s, j) for j in _jobs.list_(s, st, kind, limit, offset)]

    def job_counts(self) -> dict[str, int]:
        """Number of jobs per state (every state present, 0 when none)."""
        with self.session() as s:
            return _jobs.counts(s)
