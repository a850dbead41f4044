"""Catalog access without blocking an event loop: a connection pool and a small thread pool.

Every replica that talks to the database (the HTTP ingress and ``CatalogService``) holds one
:class:`CatalogAccess`: its own ``Catalog`` (a SQLAlchemy connection pool) and a bounded
thread pool, so that synchronous database calls never run on the event loop. The ingress
uses it directly for reads and job creation: no deployment-handle round trip per request
(an HTTP request costs one proxy -> ingress hop, not two).

Queue backpressure needs the number of queued jobs on every submit; counting them per
request would scan the job table under load, so the count is cached for ``count_ttl_s``
seconds and bumped locally by each job this replica creates (over-counting between
refreshes errs on the side of a 503, never of an unbounded queue).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

#: database threads per replica: enough to overlap I/O, few enough for 2-core machines
DEFAULT_THREADS = 8


def same_payload(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


class CatalogAccess:
    """Async facade over a ``Catalog``: each call runs in this object's thread pool."""

    def __init__(
        self,
        catalog: Any,
        *,
        max_queued_jobs: int,
        threads: int = DEFAULT_THREADS,
        count_ttl_s: float = 0.5,
    ) -> None:
        self.catalog = catalog
        self.max_queued_jobs = max_queued_jobs
        self.count_ttl_s = count_ttl_s
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="catalog")
        self._lock = threading.Lock()
        self._queued = 0
        self._queued_at = -1e9

    async def call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    # ---------------------------------------------------------------------------- reads
    async def query_clips(self, query: Any) -> Any:
        return await self.call(self.catalog.query_clips, query)

    async def _or_none(self, fn: Any, token: str) -> Any:
        from scenario_library.errors import CatalogNotFoundError

        try:
            return await self.call(fn, token)
        except CatalogNotFoundError:
            return None

    async def get_clip(self, token: str) -> Any:
        """The record, or None when there is no such clip."""
        return await self._or_none(self.catalog.get_clip, token)

    async def get_job(self, token: str) -> Any:
        """The job, or None when there is no such job."""
        return await self._or_none(self.catalog.get_job, token)

    async def stats(self) -> Any:
        return await self.call(self.catalog.stats)

    async def clips_per_backend(self) -> dict[str, int]:
        st = await self.stats()
        return dict(st.clips_per_backend)

    async def job_counts(self) -> dict[str, int]:
        counts = await self.call(self.catalog.job_counts)
        out = {str(getattr(k, "value", k)): int(v) for k, v in counts.items()}
        with self._lock:
            self._queued, self._queued_at = out.get("queued", 0), time.monotonic()
        return out

    # --------------------------------------------------------------------------- writes
    async def cancel_job(self, token: str) -> Any:
        """The cancelled job, or None when there is no such job."""
        from scenario_library.errors import CatalogConflictError, CatalogNotFoundError
        from serving.errors import ConflictError

        try:
            return await self.call(self.catalog.cancel_job, token)
        except CatalogNotFoundError:
            return None
        except CatalogConflictError as exc:
            raise ConflictError(f"job_id={token!r}: {exc}", field="job_id") from None

    async def _queued_jobs(self) -> int:
        with self._lock:
            fresh = time.monotonic() - self._queued_at < self.count_ttl_s
            if fresh:
                return self._queued
        counts = await self.job_counts()
        return counts.get("queued", 0)

    async def create_job(
        self, kind: str, payload: dict[str, Any], key: str | None
    ) -> tuple[str, Any, bool]:
        """("ok" | "conflict" | "overloaded", job or None, created).

        A replayed ``Idempotency-Key`` is answered even when the queue is full; the same
        key with another request is a conflict."""
        if key is None and await self._queued_jobs() >= self.max_queued_jobs:
            return "overloaded", None, False
        if key is not None:
            existing = await self.call(self.catalog.job_by_key, key)
            if existing is not None:
                if existing.kind != kind or not same_payload(existing.payload, payload):
                    return "conflict", existing, False
                return "ok", existing, False
            if await self._queued_jobs() >= self.max_queued_jobs:
                return "overloaded", None, False
        job, created = await self.call(self.catalog.create_job, kind, payload, key)
        if not created and (job.kind != kind or not same_payload(job.payload, payload)):
            return "conflict", job, False
        if created:
            with self._lock:
                self._queued += 1
        return "ok", job, created

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
