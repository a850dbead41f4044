"""Ray Serve deployments, one per resource profile (see the picture in ``serving/__init__``).

Heavy imports (the catalog engine, numba kernels, torch for neural backends) happen inside
the constructors, so importing this module is cheap and each replica pays them once.
Replicas talk to each other only through deployment handles: ``await handle.m.remote()``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from typing import Any

from ray import serve

from serving.api import Services, create_app
from serving.errors import ConflictError
from serving.metrics import GenerationStats, HttpMetrics
from serving.settings import AppArgs

log = logging.getLogger("wmgen.serving")


def _same_payload(a: dict[str, Any], b: dict[str, Any]) -> bool:
    import json

    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


# ----------------------------------------------------------------------------- catalog
@serve.deployment(name="CatalogService")
class CatalogService:
    """Catalog profile: database reads/writes for the API (clips, jobs, coverage).

    Also folds the generation counters reported by the video workers for ``/metrics``.
    """

    def __init__(self, args: AppArgs) -> None:
        from serving.resources import open_catalog

        self.args = args
        self.catalog = open_catalog(args.resolved_catalog_url)
        self.generation = GenerationStats()

    async def _call(self, fn: Any, *a: Any) -> Any:
        return await asyncio.to_thread(fn, *a)

    async def query_clips(self, query: Any) -> Any:
        return await self._call(self.catalog.query_clips, query)

    async def get_clip(self, token: str) -> Any:
        from scenario_library.errors import CatalogNotFoundError

        try:
            return await self._call(self.catalog.get_clip, token)
        except CatalogNotFoundError:
            return None

    async def stats(self) -> Any:
        return await self._call(self.catalog.stats)

    async def clips_per_backend(self) -> dict[str, int]:
        st = await self._call(self.catalog.stats)
        return dict(st.clips_per_backend)

    async def job_counts(self) -> dict[str, int]:
        counts = await self._call(self.catalog.job_counts)
        return {str(getattr(k, "value", k)): int(v) for k, v in counts.items()}

    async def create_job(
        self, kind: str, payload: dict[str, Any], key: str | None
    ) -> tuple[str, Any, bool]:
        """("ok" | "conflict" | "overloaded", job or None, created)."""
        if key is not None:  # a replay is answered even when the queue is full
            existing = await self._find_key(key)
            if existing is not None:
                if existing.kind != kind or not _same_payload(existing.payload, payload):
                    return "conflict", existing, False
                return "ok", existing, False
        counts = await self.job_counts()
        if counts.get("queued", 0) >= self.args.max_queued_jobs:
            return "overloaded", None, False
        job, created = await self._call(self.catalog.create_job, kind, payload, key)
        if not created and (job.kind != kind or not _same_payload(job.payload, payload)):
            return "conflict", job, False
        return "ok", job, created

    async def _find_key(self, key: str) -> Any:
        find = getattr(self.catalog, "get_job_by_key", None)
        if find is None:
            return None
        from scenario_library.errors import CatalogNotFoundError

        try:
            return await self._call(find, key)
        except CatalogNotFoundError:
            return None

    async def get_job(self, token: str) -> Any:
        from scenario_library.errors import CatalogNotFoundError

        try:
            return await self._call(self.catalog.get_job, token)
        except CatalogNotFoundError:
            return None

    async def cancel_job(self, token: str) -> Any:
        from scenario_library.errors import CatalogConflictError, CatalogNotFoundError

        try:
            return await self._call(self.catalog.cancel_job, token)
        except CatalogNotFoundError:
            return None
        except CatalogConflictError as exc:
            raise ConflictError(f"job_id={token!r}: {exc}", field="job_id") from None

    async def record_generation(self, backend: str, seconds: float) -> None:
        self.generation.observe(backend, seconds)

    async def generation_stats(self) -> dict[str, Any]:
        return self.generation.snapshot()


# ------------------------------------------------------------------------------- scene
@serve.deployment(name="SceneWorker")
class SceneWorker:
    """Scene profile (CPU): scene sampling and closed-loop what-if rollouts, synchronous."""

    def __init__(self, args: AppArgs) -> None:
        self.args = args
        # warm the imports and numba kernels once so the first request is as fast as the rest
        try:
            self._run({"class_id": 0, "tags": [], "params": {}}, 0, 2, 2)
        except Exception as exc:  # a warm-up failure must not kill the replica
            log.warning("what-if warm-up failed: %s", exc)

    def _run(self, spec: dict[str, Any], seed: int, n_plans: int, n_samples: int) -> dict[str, Any]:
        from generator.world.whatif import whatif

        from scenario_library.sampling import sample_scene
        from scenario_library.spec import ScenarioSpec

        t0 = time.perf_counter()
        scene = sample_scene(ScenarioSpec.model_validate(spec), seed)
        res = whatif(scene, n_plans=n_plans, n_samples=n_samples, seed=seed)
        out = whatif_to_dict(res)
        return {
            "class_id": int(scene.scenario.class_id),
            "seed": seed,
            "n_plans": n_plans,
            "n_samples": n_samples,
            "best_plan": out.pop("best_plan"),
            "plans": out.pop("plans"),
            "elapsed_ms": (time.perf_counter() - t0) * 1e3,
        }

    async def whatif(
        self, spec: dict[str, Any], seed: int, n_plans: int, n_samples: int
    ) -> dict[str, Any]:
        return await asyncio.to_thread(self._run, spec, seed, n_plans, n_samples)


def whatif_to_dict(res: Any) -> dict[str, Any]:
    """``WhatIfResult`` -> {"best_plan": int, "plans": [per-plan stats]} (JSON-ready)."""
    from generator.pipeline import _jsonable

    if hasattr(res, "to_dict"):
        d = res.to_dict()
    elif hasattr(res, "model_dump"):
        d = res.model_dump()
    else:
        from dataclasses import asdict, is_dataclass

        d = asdict(res) if is_dataclass(res) and not isinstance(res, type) else dict(vars(res))
    best = d.get("best_plan", d.get("best_plan_index", d.get("best")))
    plans = d.get("plans", d.get("plan_stats", []))
    if isinstance(plans, dict):  # columns -> rows
        n = len(next(iter(plans.values()))) if plans else 0
        plans = [{k: v[i] for k, v in plans.items()} for i in range(n)]
    return {"best_plan": int(best), "plans": [_jsonable(_plain(p)) for p in plans]}


def _plain(p: Any) -> Any:
    if hasattr(p, "model_dump"):
        return p.model_dump()
    from dataclasses import asdict, is_dataclass

    if is_dataclass(p) and not isinstance(p, type):
        return {k: _to_py(v) for k, v in asdict(p).items()}
    if isinstance(p, dict):
        return {k: _to_py(v) for k, v in p.items()}
    return p


def _to_py(v: Any) -> Any:
    import math

    import numpy as np

    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, float | np.floating) and not math.isfinite(float(v)):
        return None
    return v


# ------------------------------------------------------------------------------- video
@serve.deployment(name="VideoBackendWorker")
class VideoBackendWorker:
    """Video profile: sketch on CPU, neural on GPU (``video_gpus`` > 0 in the args).

    The configured backends are loaded once in the constructor and kept warm. The replica
    runs a claim loop over the catalog's job table; the clips of the jobs it holds go
    through :meth:`generate`, a ``@serve.batch`` method that groups same-shape requests.
    """

    def __init__(self, args: AppArgs, catalog: Any) -> None:
        from generator.pipeline import ClipPipeline
        from serving.jobs import JobRunner
        from serving.resources import open_catalog, open_storage

        self.args = args
        self.catalog_handle = catalog
        cat = open_catalog(args.resolved_catalog_url)
        storage = open_storage(args.resolved_storage)
        self.pipeline = ClipPipeline(cat, storage, model_dir=args.model_dir)
        for name in args.backends:  # load once per replica, before any request
            self.pipeline.backends.get(name)
        self.worker_id = f"serve-{socket.gethostname()}-{os.getpid()}"
        self.runner = JobRunner(
            cat,
            storage,
            self.pipeline,
            worker_id=self.worker_id,
            generate=self.generate_one,
            lease_s=args.job_lease_s,
            heartbeat_s=args.heartbeat_s,
            poll_s=args.poll_s,
            concurrency=args.jobs_per_worker,
            catalog_url=args.resolved_catalog_url,
            storage_url=args.resolved_storage,
            on_generated=self._report,
        )
        self._loop_task: asyncio.Task[None] | None = None
        self._start_loop()

    def _start_loop(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = loop.create_task(self.runner.run_forever())

    async def _report(self, backend: str, seconds: float) -> None:
        try:
            await self.catalog_handle.record_generation.remote(backend, seconds)
        except Exception as exc:
            log.info("record_generation failed: %s", exc)

    async def generate_one(self, req: Any) -> Any:
        """One ClipRequest -> ClipResult, through the batching queue."""
        out = await self.generate(req)
        if isinstance(out, _Failed):
            raise out.exc
        return out

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.05)
    async def generate(self, reqs: list[Any]) -> list[Any]:
        """Generate a batch of ClipRequests; same-shape requests run back to back."""

        def shape(r: Any) -> tuple[Any, ...]:
            return (r.backend, r.model_dir or "", r.width_px, r.height_px, r.fps, r.seconds)

        order = sorted(range(len(reqs)), key=lambda i: shape(reqs[i]))
        results: list[Any] = [None] * len(reqs)
        for i in order:
            try:
                results[i] = await asyncio.to_thread(self.pipeline.generate, reqs[i])
            except Exception as exc:  # one failure must not fail its batch neighbours
                results[i] = _Failed(exc)
        return results

    async def check_health(self) -> None:
        self._start_loop()  # (re)start the claim loop if it is not running
        if (
            self._loop_task is not None
            and self._loop_task.done()
            and self._loop_task.exception() is not None
        ):
            raise RuntimeError(f"claim loop died: {self._loop_task.exception()}")

    async def status(self) -> dict[str, Any]:
        self._start_loop()
        return {
            "worker_id": self.worker_id,
            "jobs_done": self.runner.jobs_done,
            "backends": list(self.args.backends),
        }

    def __del__(self) -> None:
        self.runner.stop()


class _Failed:
    """A failed item of a batch (returned, not raised, so the other items still succeed)."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc


# ----------------------------------------------------------------------------- ingress
@serve.deployment(name="ApiIngress")
@serve.ingress()
class ApiIngress:
    """HTTP ingress (FastAPI): validation, auth, limits, metrics, file streaming.

    The FastAPI app is built per replica, after the constructor, around its handles."""

    def __init__(self, args: AppArgs, catalog: Any, scene: Any, video: Any) -> None:
        from serving.resources import open_storage

        self.video = video  # bound so the workers are part of the app graph
        self.services = Services(
            args=args,
            catalog=catalog,
            scene=scene,
            storage=open_storage(args.resolved_storage),
            metrics=HttpMetrics(),
        )

    def __serve_build_asgi_app__(self) -> Any:
        return create_app(self.services)
