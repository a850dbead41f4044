"""Library builds on a Ray cluster (``wmgen build --ray`` and ``POST /v1/library/builds``).

The driver plans classes x variants, asks the catalog which content addresses are already
published (those are skipped: a rerun after a kill finishes the rest, no duplicates), and
sends the rest as Ray tasks in chunks, spread over the cluster's nodes. Each task opens the
catalog and storage by URL, so any node can run it; each clip is published atomically by
``ClipPipeline`` (the same per-item code as the local build, ``generator.build.build_item``).
Progress goes to a callback (the CLI's bar) and, when a job id is given, into the job row.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from generator.build import BuildItem, BuildOptions, build_item, plan_items
from generator.build import BuildSummary as LocalBuildSummary
from serving.errors import ClusterError

log = logging.getLogger("wmgen.serving.ray_build")

#: items per Ray task: big enough to amortise task start-up, small enough to balance nodes
DEFAULT_CHUNK = 4


@dataclass
class BuildSummary(LocalBuildSummary):
    """What a Ray build did (the local build's summary plus where it ran): ``tokens`` of
    every clip of the build, ``node_ids`` the Ray nodes its tasks ran on."""

    tokens: list[str] = field(default_factory=list)
    node_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    job_id: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            **super().to_dict(),
            "nodes": len(self.node_ids),
            "seconds": round(self.seconds, 3),
            "job_id": self.job_id,
        }


# ---------------------------------------------------------------------------- the task
_PIPELINES: dict[tuple[str, str], Any] = {}


def _pipeline(catalog_url: str, storage_url: str) -> Any:
    """One ClipPipeline per worker process and (catalog, storage), reused across tasks."""
    key = (catalog_url, storage_url)
    if key not in _PIPELINES:
        from generator.pipeline import ClipPipeline
        from serving.resources import open_catalog, open_storage

        _PIPELINES[key] = ClipPipeline(
            open_catalog(catalog_url),
            open_storage(storage_url),
            model_dir=os.environ.get("WMGEN_MODEL_DIR"),
        )
    return _PIPELINES[key]


def _build_chunk(
    items: list[tuple[int, int]], opts: BuildOptions, catalog_url: str, storage_url: str
) -> dict[str, Any]:
    """Body of the Ray task: build ``items``; one failure does not stop the others."""
    import ray

    pipe = _pipeline(catalog_url, storage_url)
    out: list[dict[str, Any]] = []
    for class_id, seed in items:
        try:
            token, created = build_item(pipe, BuildItem(class_id, seed), opts)
            out.append({"class_id": class_id, "seed": seed, "token": token, "created": created})
        except Exception as exc:
            out.append(
                {"class_id": class_id, "seed": seed, "error": f"{type(exc).__name__}: {exc}"}
            )
    return {
        "node_id": ray.get_runtime_context().get_node_id(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "items": out,
    }


# --------------------------------------------------------------------------- the driver
def build_library_on_ray(
    classes: list[int],
    variants: int,
    *,
    address: str | None = None,
    catalog_url: str | None = None,
    storage: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    options: BuildOptions | None = None,
    job_id: str | None = None,
    worker_id: str | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    task_cpus: float = 0.5,
    max_in_flight: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> BuildSummary:
    """Build classes x variants (seeds 0..variants-1) on Ray; resumable from the catalog.

    ``address``: a Ray cluster ("auto", "ray://..", "host:port"); None starts or reuses a
    local Ray. ``catalog_url`` / ``storage`` default to ``WMGEN_CATALOG_URL`` /
    ``WMGEN_STORAGE`` (then ``$WMGEN_HOME``'s embedded defaults). ``job_id``: a catalog job
    row to report progress into (created as kind ``build`` when ``worker_id`` is None).
    """
    import ray

    from serving.resources import default_urls, open_catalog, open_storage

    t0 = time.perf_counter()
    opts = options or BuildOptions()
    catalog_url, storage = default_urls(catalog_url, storage)
    catalog = open_catalog(catalog_url)
    items = plan_items(classes, variants)
    summary = BuildSummary(requested=len(items))

    own_job = False
    worker_id = worker_id or f"ray-build-{socket.gethostname()}-{os.getpid()}"
    if job_id is None:
        # a row of our own, of a kind no service worker claims ("build:<id>"), claimed at
        # once so that its lease and heartbeats show this driver is alive
        kind = f"build:{uuid.uuid4().hex[:12]}"
        catalog.create_job(
            kind,
            {
                "classes": list(classes),
                "variants": variants,
                "options": asdict(opts),
                "driver": "cli",
            },
        )
        job = catalog.claim_job(worker_id, [kind], lease_s=300.0)
        job_id, own_job = job.token, True
    summary.job_id = job_id

    # resume: skip every content address that is already published
    from generator.pipeline import ClipPipeline

    planner = ClipPipeline(catalog, open_storage(storage))
    todo: list[tuple[int, int]] = []
    for item in items:
        token = planner.token_for(opts.request(item))
        if planner.existing(token) is not None:
            summary.skipped_existing += 1
            summary.tokens.append(token)
        else:
            todo.append((item.class_id, item.seed))
    done = summary.skipped_existing

    def report() -> None:
        if progress:
            progress(done, summary.requested)
        msg = json.dumps({"done": done, "total": summary.requested, **summary.to_dict()})
        try:
            catalog.heartbeat(job_id, worker_id, done / max(summary.requested, 1), msg)
        except Exception as exc:  # the row may have been cancelled meanwhile
            log.info("build heartbeat failed: %s", exc)

    sent = 0

    def add_tokens() -> None:
        """Append the tokens not yet recorded on the job row."""
        nonlocal sent
        new = summary.tokens[sent:]
        if new:
            try:
                catalog.add_job_clips(job_id, new)
                sent = len(summary.tokens)
            except Exception as exc:
                log.info("add_job_clips(%s) failed: %s", job_id, exc)

    report()
    if todo:
        _ensure_ray(address)
        remote = ray.remote(num_cpus=task_cpus, max_retries=2, scheduling_strategy="SPREAD")(
            _build_chunk
        )
        chunks = [todo[i : i + chunk_size] for i in range(0, len(todo), chunk_size)]
        limit = max_in_flight or max(2, int(ray.cluster_resources().get("CPU", 1) / task_cpus))
        pending: list[Any] = []
        nodes: set[str] = set()
        while chunks or pending:
            if should_stop is not None and should_stop():
                for ref in pending:
                    ray.cancel(ref)
                break
            while chunks and len(pending) < limit:
                pending.append(remote.remote(chunks.pop(0), opts, catalog_url, storage))
            ready, pending = ray.wait(pending, num_returns=1, timeout=1.0)
            for ref in ready:
                try:
                    res = ray.get(ref)
                except Exception as exc:  # the task died for good (node lost, retries spent)
                    summary.failed += 1
                    summary.errors.append(f"task failed: {exc}")
                    continue
                nodes.add(res["node_id"])
                for it in res["items"]:
                    done += 1
                    if "error" in it:
                        summary.failed += 1
                        summary.errors.append(
                            f"class {it['class_id']} seed {it['seed']}: {it['error']}"
                        )
                    else:
                        summary.tokens.append(it["token"])
                        if it["created"]:
                            summary.generated += 1
                        else:
                            summary.skipped_existing += 1
            if ready:
                add_tokens()
                report()
        summary.node_ids = sorted(nodes)
    summary.seconds = time.perf_counter() - t0
    add_tokens()
    report()
    if own_job:
        stopped = should_stop is not None and should_stop()
        state = "cancelled" if stopped else ("failed" if summary.failed else "succeeded")
        err = "; ".join(summary.errors[:5]) if summary.failed else None
        try:
            catalog.finish_job(job_id, state, err, worker_id)
        except Exception as exc:
            log.info("finish_job(%s) not applied: %s", job_id, exc)
    return summary


def _ensure_ray(address: str | None) -> None:
    """Connect to ``address`` (or start a quiet local Ray) unless already connected."""
    import ray

    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        if address:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        else:
            ray.init(
                include_dashboard=False,
                dashboard_host="127.0.0.1",
                logging_level=logging.WARNING,
                log_to_driver=False,
                num_cpus=os.cpu_count() or 1,
            )
    except Exception as exc:
        raise ClusterError(f"address={address!r}: cannot start or reach Ray ({exc})") from exc
