"""Ray Serve deployments, one per resource profile (see the picture in ``serving/__init__``).

A clip's stages split across two profiles by backend:

* neural backends: the video worker (GPU) computes the content address (its warm backend
  knows the weights hash), asks a :class:`SceneWorker` (CPU) for
  ``ClipPipeline.prepare`` (scene, rollout, control maps) and runs ``ClipPipeline.finish``
  (backend, quality gate, files, publish) on the ``PreparedClip`` that Ray hands over. The
  GPU never waits on numba / rasterisation, and scene work scales with CPU replicas.
* ``sketch``: both stages stay in the one CPU video worker (``ClipPipeline.generate``). Its
  backend is cheaper than shipping its input: the control maps of a 5 s 1280x704 clip at
  10 fps are ~450 MB (hdmap + depth + semantic + instance), which cost more to serialise and
  move between processes or nodes than to render where they are used.

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
from serving.metrics import GenerationStats, HttpMetrics
from serving.settings import AppArgs

log = logging.getLogger("wmgen.serving")


# ----------------------------------------------------------------------------- catalog
@serve.deployment(name="CatalogService")
class CatalogService:
    """Catalog profile: database reads/writes by handle (clips, jobs, coverage), and the
    generation counters reported by the video workers for ``/metrics``.

    The HTTP ingress reads and creates jobs through its own ``CatalogAccess`` (no handle hop
    per request); this deployment keeps the same calls for other callers by handle.
    """

    def __init__(self, args: AppArgs) -> None:
        from serving.catalog_access import CatalogAccess
        from serving.resources import open_catalog

        self.args = args
        self.catalog = open_catalog(args.resolved_catalog_url)
        self.db = CatalogAccess(self.catalog, max_queued_jobs=args.max_queued_jobs)
        self.generation = GenerationStats()

    async def query_clips(self, query: Any) -> Any:
        return await self.db.query_clips(query)

    async def get_clip(self, token: str) -> Any:
        return await self.db.get_clip(token)

    async def stats(self) -> Any:
        return await self.db.stats()

    async def clips_per_backend(self) -> dict[str, int]:
        return await self.db.clips_per_backend()

    async def job_counts(self) -> dict[str, int]:
        return await self.db.job_counts()

    async def create_job(
        self, kind: str, payload: dict[str, Any], key: str | None
    ) -> tuple[str, Any, bool]:
        """("ok" | "conflict" | "overloaded", job or None, created)."""
        return await self.db.create_job(kind, payload, key)

    async def get_job(self, token: str) -> Any:
        return await self.db.get_job(token)

    async def cancel_job(self, token: str) -> Any:
        return await self.db.cancel_job(token)

    async def record_generation(self, backend: str, seconds: float) -> None:
        self.generation.observe(backend, seconds)

    async def generation_stats(self) -> dict[str, Any]:
        return self.generation.snapshot()


# ------------------------------------------------------------------------------- scene
@serve.deployment(name="SceneWorker")
class SceneWorker:
    """Scene profile (CPU): closed-loop what-if rollouts (synchronous, for the API) and the
    CPU stages of neural clips (:meth:`prepare`, for the video workers)."""

    def __init__(self, args: AppArgs) -> None:
        self.args = args
        self.worker_id = f"SceneWorker:{socket.gethostname()}:{os.getpid()}"
        self._pipeline: Any = None
        # warm the imports and numba kernels once so the first request is as fast as the rest
        try:
            from generator.world.whatif import warmup

            warmup()
        except Exception as exc:  # a warm-up failure must not kill the replica
            log.warning("what-if warm-up failed: %s", exc)

    def _run(self, spec: dict[str, Any], seed: int, n_plans: int, n_samples: int) -> dict[str, Any]:
        from generator.world.whatif import whatif
        from scenario_library.sampling import sample_scene
        from scenario_library.spec import ScenarioSpec

        t0 = time.perf_counter()
        scene = sample_scene(ScenarioSpec.model_validate(spec), seed)
        res = whatif(scene, n_plans=n_plans, n_samples=n_samples, seed=seed)
        return {
            "class_id": int(scene.scenario.class_id),
            "seed": seed,
            "n_plans": n_plans,
            "n_samples": n_samples,
            **whatif_to_dict(res),
            "elapsed_ms": (time.perf_counter() - t0) * 1e3,
        }

    async def whatif(
        self, spec: dict[str, Any], seed: int, n_plans: int, n_samples: int
    ) -> dict[str, Any]:
        """The what-if answer, or {"error", "field"} when the spec cannot be played out."""
        from generator.errors import RolloutError
        from scenario_library.errors import SpecError

        try:
            return await asyncio.to_thread(self._run, spec, seed, n_plans, n_samples)
        except SpecError as exc:
            return {"error": str(exc), "field": exc.field}
        except RolloutError as exc:
            return {"error": str(exc), "field": "spec"}

    def _clip_pipeline(self) -> Any:
        if self._pipeline is None:  # opened on first use: what-if-only replicas never do
            from generator.pipeline import ClipPipeline
            from serving.resources import open_catalog, open_storage

            self._pipeline = ClipPipeline(
                open_catalog(self.args.resolved_catalog_url),
                open_storage(self.args.resolved_storage),
                model_dir=self.args.model_dir,
            )
        return self._pipeline

    async def prepare(self, req: dict[str, Any], token: str) -> Any:
        """``ClipPipeline.prepare`` of a ClipRequest (json) whose content address ``token``
        the caller computed: the ``PreparedClip`` (scene, rollout, control maps)."""
        from generator.pipeline import ClipRequest

        request = ClipRequest.model_validate(req)
        pipe = self._clip_pipeline()
        return await asyncio.to_thread(
            pipe.prepare, request, token=token, prepared_by=self.worker_id
        )


def whatif_to_dict(res: Any) -> dict[str, Any]:
    """``generator.world.whatif.WhatIfResult`` -> JSON-ready dict (non-finite -> None)."""
    from generator.pipeline import jsonable

    d = res.to_dict()
    return {
        "best_plan": int(d["best_index"]),
        "best_name": str(d["best_name"]),
        "n_futures": int(d["n_futures"]),
        "plans": [_finite(jsonable(p)) for p in d["plans"]],
    }


def _finite(p: dict[str, Any]) -> dict[str, Any]:
    import math

    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in p.items()}


# ------------------------------------------------------------------------------- video
@serve.deployment(name="VideoBackendWorker")
class VideoBackendWorker:
    """Video profile: sketch on CPU, neural on GPU (``video_gpus`` > 0 in the args).

    The configured backends are loaded once in the constructor and kept warm. The replica
    runs a claim loop over the catalog's job table; the clips of the jobs it holds go
    through :meth:`generate`, a ``@serve.batch`` method that groups same-shape requests.
    Neural clips are prepared by the ``scene`` deployment (see the module docstring).
    """

    def __init__(self, args: AppArgs, catalog: Any, scene: Any = None) -> None:
        from generator.pipeline import ClipPipeline
        from serving.jobs import JobRunner
        from serving.resources import open_catalog, open_storage

        self.args = args
        self.catalog_handle = catalog
        self.scene_handle = scene  # None: every stage runs here
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
            uploads=open_storage(args.resolved_upload_store),
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

    async def generate_one(self, req: Any, is_cancelled: Any) -> Any:
        """One ClipRequest -> ClipResult, through the batching queue."""
        out = await self.generate(_Item(req, is_cancelled))
        if isinstance(out, _Failed):
            raise out.exc
        return out

    def _run_item(self, item: _Item, prepared: Any = None) -> Any:
        """The item's ClipResult: generated here, or finished from ``prepared`` (a
        ``PreparedClip``, or the ClipResult of an already published clip)."""
        from generator.pipeline import PreparedClip
        from serving.jobs import JobCancelled

        if item.is_cancelled():  # checked when the item's turn comes, not when queued
            raise JobCancelled(item.req.seed)
        if prepared is None:
            return self.pipeline.generate(item.req)
        if isinstance(prepared, PreparedClip):
            return self.pipeline.finish(prepared)
        return prepared

    def _split(self, req: Any) -> bool:
        """Whether ``req``'s CPU stages run in the scene deployment (neural backends)."""
        from generator.backends.registry import BACKENDS

        return self.scene_handle is not None and BACKENDS.is_neural(req.backend)

    async def _prepare_remote(self, req: Any) -> Any:
        """A ``PreparedClip`` from the scene deployment, or the published ClipResult."""
        from generator.pipeline import ClipResult

        token = await asyncio.to_thread(self.pipeline.token_for, req)
        found = await asyncio.to_thread(self.pipeline.existing, token)
        if found is not None:
            return ClipResult(token=token, created=False, record=found)
        return await self.scene_handle.prepare.remote(req.model_dump(mode="json"), token)

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.05)
    async def generate(self, items: list[_Item]) -> list[Any]:
        """Generate a batch of ClipRequests; same-shape requests run back to back. The
        neural ones of the batch are all prepared (scene deployment) while they wait."""

        def shape(r: Any) -> tuple[Any, ...]:
            return (r.backend, r.model_dir or "", r.width_px, r.height_px, r.fps, r.seconds)

        order = sorted(range(len(items)), key=lambda i: shape(items[i].req))
        prepares = {
            i: asyncio.create_task(self._prepare_remote(items[i].req))
            for i in order
            if self._split(items[i].req)
        }
        results: list[Any] = [None] * len(items)
        for i in order:
            try:
                prepared = await prepares[i] if i in prepares else None
                results[i] = await asyncio.to_thread(self._run_item, items[i], prepared)
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


class _Item:
    """One queued clip: its request and how to tell that its job was cancelled."""

    def __init__(self, req: Any, is_cancelled: Any) -> None:
        self.req = req
        self.is_cancelled = is_cancelled


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
        from serving.catalog_access import CatalogAccess
        from serving.resources import open_catalog

        self.services = Services(
            args=args,
            catalog=catalog,
            db=CatalogAccess(
                open_catalog(args.resolved_catalog_url), max_queued_jobs=args.max_queued_jobs
            ),
            scene=scene,
            storage=open_storage(args.resolved_storage),
            metrics=HttpMetrics(),
            uploads=open_storage(args.resolved_upload_store),
        )

    def __serve_build_asgi_app__(self) -> Any:
        return create_app(self.services)
