"""Jobs: payloads written by the API and the claim loop that runs them in a video worker.

Job state lives in the catalog database, never in memory: a worker claims a queued job
(atomically), heartbeats while it runs, appends clip tokens as clips are published, and
finishes it. A worker that dies stops heartbeating, its lease expires and another worker
re-claims the job; clips already published are found by content address and not redone, so
a clip is published exactly once.

Job kinds and payloads::

    clips    {"requests": [ClipRequest json, ...]}
    augment  {"source": upload uri | None, "labels": upload uri | None, "clip_id": token | None,
              "effects": [...], "seed": int, "neural": NeuralEffects json (optional)}
    build    {"classes": [...], "variants": n, "options": BuildOptions fields}
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from serving.errors import JobError

log = logging.getLogger("wmgen.serving.jobs")

KIND_CLIPS = "clips"
KIND_AUGMENT = "augment"
KIND_BUILD = "build"
WORKER_KINDS = [KIND_CLIPS, KIND_AUGMENT, KIND_BUILD]

#: (ClipRequest, is_cancelled) -> ClipResult; raises JobCancelled when is_cancelled() is True
GenerateFn = Callable[[Any, Callable[[], bool]], Awaitable[Any]]


def aware_utc(t: datetime | None) -> datetime | None:
    """``t`` as timezone-aware UTC (SQLite hands back naive UTC datetimes)."""
    if t is None or t.tzinfo is not None:
        return t
    return t.replace(tzinfo=UTC)


def lease_state(job: Any, now: datetime | None = None) -> str | None:
    """``"held"`` (running, lease live), ``"expired"`` (running, its worker stopped
    heartbeating: re-claimable) or None (not running)."""
    if str(getattr(job.state, "value", job.state)) != "running":
        return None
    expires = aware_utc(job.lease_expires_at)
    if expires is None:
        return "expired"
    return "held" if expires >= (now or datetime.now(UTC)) else "expired"


class JobCancelled(Exception):
    """Raised inside a running job when its row was cancelled."""


class JobRunner:
    """The claim loop of one worker replica: up to ``concurrency`` jobs at a time."""

    def __init__(
        self,
        catalog: Any,
        storage: Any,
        pipeline: Any,
        *,
        worker_id: str,
        generate: GenerateFn,
        lease_s: float,
        heartbeat_s: float,
        poll_s: float,
        concurrency: int,
        catalog_url: str,
        storage_url: str,
        on_generated: Callable[[str, float], Awaitable[None]] | None = None,
        uploads: Any = None,
    ) -> None:
        self.catalog = catalog
        self.storage = storage
        self.pipeline = pipeline
        self.worker_id = worker_id
        self.generate = generate
        self.lease_s = lease_s
        self.heartbeat_s = heartbeat_s
        self.poll_s = poll_s
        self.concurrency = concurrency
        self.catalog_url = catalog_url
        self.storage_url = storage_url
        self.on_generated = on_generated
        self.uploads = uploads  # Storage of uploaded clips (payload URIs), any node reads it
        self._stop = asyncio.Event()
        self.jobs_done = 0

    def stop(self) -> None:
        self._stop.set()

    async def run_forever(self) -> None:
        """Claim and run jobs until :meth:`stop`; never raises (errors go on job rows)."""
        slots = asyncio.Semaphore(self.concurrency)
        running: set[asyncio.Task[None]] = set()
        while not self._stop.is_set():
            await slots.acquire()
            try:
                job = await asyncio.to_thread(
                    self.catalog.claim_job, self.worker_id, WORKER_KINDS, self.lease_s
                )
            except Exception:
                log.exception("claim_job failed")
                job = None
            if job is None:
                slots.release()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=self.poll_s)
                continue
            task = asyncio.create_task(self._run_guarded(job, slots))
            running.add(task)
            task.add_done_callback(running.discard)
        for task in list(running):
            task.cancel()

    async def _run_guarded(self, job: Any, slots: asyncio.Semaphore) -> None:
        try:
            await self.run_job(job)
        finally:
            slots.release()
            self.jobs_done += 1

    # ----------------------------------------------------------------------------- a job
    async def run_job(self, job: Any) -> None:
        state = _JobState(job.token, float(getattr(job, "progress", 0.0) or 0.0))
        beat = asyncio.create_task(self._heartbeat(state))
        try:
            if job.kind == KIND_CLIPS:
                await self._run_clips(job, state)
            elif job.kind == KIND_AUGMENT:
                await self._run_augment(job, state)
            elif job.kind == KIND_BUILD:
                await self._run_build(job, state)
            else:
                raise JobError(f"job kind={job.kind!r}: no runner for this kind")
        except JobCancelled:
            log.info("job %s cancelled", job.token)
            return
        except Exception as exc:
            log.warning("job %s failed: %s", job.token, exc)
            await self._finish(job.token, "failed", f"{type(exc).__name__}: {exc}")
            return
        finally:
            beat.cancel()
        await self._finish(job.token, "succeeded", None)

    async def _finish(self, token: str, state: str, error: str | None) -> None:
        try:
            await asyncio.to_thread(self.catalog.finish_job, token, state, error, self.worker_id)
        except Exception as exc:  # cancelled meanwhile: the row keeps "cancelled"
            log.info("finish_job(%s, %s) not applied: %s", token, state, exc)

    async def _heartbeat(self, state: _JobState) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            await self._beat(state)

    async def _beat(self, state: _JobState) -> None:
        try:
            job = await asyncio.to_thread(self.catalog.get_job, state.token)
            if job.state == "cancelled":
                state.cancelled = True
                return
            await asyncio.to_thread(
                self.catalog.heartbeat, state.token, self.worker_id, state.progress, state.message
            )
        except Exception as exc:
            log.info("heartbeat of %s failed: %s", state.token, exc)

    # ------------------------------------------------------------------------ job kinds
    async def _run_clips(self, job: Any, state: _JobState) -> None:
        from generator.pipeline import ClipRequest

        reqs = [ClipRequest.model_validate(d) for d in job.payload["requests"]]
        n = len(reqs)
        done = 0
        errors: list[str] = []

        def is_cancelled() -> bool:
            return state.cancelled or self.catalog.get_job(job.token).state == "cancelled"

        async def one(req: ClipRequest) -> None:
            nonlocal done
            t0 = time.perf_counter()
            try:
                result = await self.generate(req, is_cancelled)
            except JobCancelled:
                state.cancelled = True
                return
            except Exception as exc:
                errors.append(f"seed {req.seed}: {type(exc).__name__}: {exc}")
                return
            if result.created and self.on_generated is not None:
                await self.on_generated(req.backend, time.perf_counter() - t0)
            await asyncio.to_thread(self.catalog.add_job_clips, job.token, [result.token])
            done += 1
            state.progress = done / n
            state.message = f"{done}/{n} clips"
            if done < n:  # progress now; after the last clip finish_job follows at once
                await self._beat(state)

        # all clips of the job are submitted together so that the worker's @serve.batch can
        # group same-shape requests; each one still reports as it finishes
        await asyncio.gather(*(one(r) for r in reqs))
        if state.cancelled:  # seen by a heartbeat or an item (finish_job never overrides
            raise JobCancelled(job.token)  # a cancelled row either)
        if errors:
            raise JobError(f"{len(errors)} of {n} clips failed: " + "; ".join(errors[:5]))

    async def _run_augment(self, job: Any, state: _JobState) -> None:
        p = job.payload
        labels = await self._upload_path(p.get("labels"))
        if p.get("clip_id"):
            record = await asyncio.to_thread(self.catalog.get_clip, p["clip_id"])
            files = {f.kind: f.uri for f in record.files}
            source = await asyncio.to_thread(self.storage.local_path, files["video"])
            if labels is None and "labels" in files:
                labels = await asyncio.to_thread(self.storage.local_path, files["labels"])
        else:
            source = await self._upload_path(p["source"])
        state.message = "augmenting"

        def progress(frac: float, msg: str) -> None:
            state.progress, state.message = float(frac), msg

        t0 = time.perf_counter()
        neural = None
        if p.get("neural"):
            from generator.augment.neural import NeuralEffects

            neural = NeuralEffects.model_validate(p["neural"])
        result = await asyncio.to_thread(
            self.pipeline.augment,
            Path(source),
            list(p["effects"]),
            int(p.get("seed", 0)),
            labels,
            p.get("clip_id"),
            progress,
            neural=neural,
        )
        if result.created and self.on_generated is not None:
            await self.on_generated(result.record.backend, time.perf_counter() - t0)
        await asyncio.to_thread(self.catalog.add_job_clips, job.token, [result.token])
        state.progress = 1.0

    async def _upload_path(self, ref: str | None) -> Path | None:
        """A local file for an uploaded part: a storage URI (downloaded on remote storage)
        or, for jobs queued before uploads moved to storage, a plain path."""
        if not ref:
            return None
        if "://" in ref and self.uploads is not None:
            return Path(await asyncio.to_thread(self.uploads.local_path, ref))
        return Path(ref)

    async def _run_build(self, job: Any, state: _JobState) -> None:
        from generator.build import BuildOptions
        from serving.ray_build import build_library_on_ray

        p = job.payload

        def progress(done: int, total: int) -> None:
            # the build writes its own JSON message (counts) into the row; keep it
            state.progress = done / max(total, 1)

        summary = await asyncio.to_thread(
            build_library_on_ray,
            list(p["classes"]),
            int(p["variants"]),
            catalog_url=self.catalog_url,
            storage=self.storage_url,
            progress=progress,
            options=BuildOptions(**p.get("options", {})),
            job_id=job.token,
            worker_id=self.worker_id,
            should_stop=lambda: state.cancelled,
        )
        if state.cancelled:
            raise JobCancelled(job.token)
        state.result = asdict(summary)
        if summary.failed:
            raise JobError(
                f"{summary.failed} of {summary.requested} items failed: "
                + "; ".join(summary.errors[:5])
            )


class _JobState:
    """Mutable progress of one running job, shared with its heartbeat task."""

    def __init__(self, token: str, progress: float = 0.0) -> None:
        self.token = token
        self.progress = progress
        self.message: str | None = None
        self.cancelled = False
        self.result: dict[str, Any] = {}
