"""Library builds on a Ray cluster (``wmgen build --ray`` and ``POST /v1/library/builds``).

The driver plans classes x variants, asks the catalog which content addresses are already
published (those are skipped: a rerun after a kill finishes the rest, no duplicates), and
sends the rest as Ray tasks in chunks, spread over the cluster's nodes. Each task opens the
catalog and storage by URL, so any node can run it; each clip is published atomically by
``ClipPipeline`` (the same per-item code as the local build, ``generator.build.build_item``).
Progress goes to a callback (the CLI's bar) and, when a job id is given, into the job row.

A driver without a job id (``wmgen build --ray``) owns a job row of its own, keyed by what it
builds: the same classes x variants x options always map to the same row (an idempotency key
over them). The driver holds that row's lease and heartbeats from a thread every quarter
lease, like any job worker; a killed driver stops heartbeating, its lease expires and the row
is re-claimable (``lease_state``; the API reports it as ``stale``). Running the same build
again finds the row, waits at most one lease for a dead holder's lease to expire (a live
holder keeps heartbeating: that is an error, not a wait), re-claims it (``attempts`` + 1),
skips the clips already published and finishes the row ``succeeded``. A build whose row
ended ``failed`` or ``cancelled`` starts a fresh row (next key generation) when run again;
one that ``succeeded`` is reported as is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from generator.build import BuildItem, BuildOptions, build_item, plan_items
from generator.build import BuildSummary as LocalBuildSummary
from serving.errors import ClusterError
from serving.jobs import aware_utc, lease_state

log = logging.getLogger("wmgen.serving.ray_build")

#: items per Ray task: big enough to amortise task start-up, small enough to balance nodes
DEFAULT_CHUNK = 4
#: lease of a CLI build's job row [s]: a killed driver's row is re-claimable after this long
DEFAULT_LEASE_S = 30.0
#: claims of one CLI build row (each rerun after a kill is one); past it the row is failed
BUILD_MAX_ATTEMPTS = 100


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


# ------------------------------------------------------------------- the build's job row
def build_identity(
    classes: list[int], variants: int, opts: BuildOptions
) -> tuple[str, str, dict[str, Any]]:
    """(job kind, idempotency key prefix, payload) of a CLI build: the same classes x
    variants x options give the same row. The kind ``build:<digest>`` is one no service
    worker claims (they claim ``build``), so only a driver of this build takes it."""
    payload = {
        "classes": sorted(set(int(c) for c in classes)),
        "variants": int(variants),
        "options": asdict(opts),
        "driver": "cli",
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return f"build:{digest[:24]}", f"ray-build:{digest[:40]}", payload


def find_build_job(
    catalog: Any, classes: list[int], variants: int, opts: BuildOptions
) -> Any | None:
    """The latest job row of this build (any state), or None if it never ran."""
    kind, _key, _payload = build_identity(classes, variants, opts)
    jobs = catalog.list_jobs(kind=kind, limit=1000)

    def generation(job: Any) -> int:
        return int(str(job.idempotency_key or "#0").rsplit("#", 1)[-1])

    return max(jobs, key=generation) if jobs else None


def acquire_build_job(
    catalog: Any,
    classes: list[int],
    variants: int,
    opts: BuildOptions,
    worker_id: str,
    lease_s: float,
    *,
    now: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Any, bool]:
    """The job row this driver runs the build under, and whether it holds its lease.

    Returns ``(job, True)`` once claimed (new, queued, or re-claimed after its lease
    expired) and ``(job, False)`` for a build that already ``succeeded`` (nothing to hold).
    A row whose lease is live waits until it expires (at most one lease) unless its holder
    heartbeats meanwhile: then another driver runs this build and ``ClusterError`` says so.
    """
    clock = now or (lambda: datetime.now(UTC))
    kind, key, payload = build_identity(classes, variants, opts)
    generation = 0
    while True:
        job, _created = catalog.create_job(
            kind, payload, f"{key}#{generation}", max_attempts=BUILD_MAX_ATTEMPTS
        )
        state = str(getattr(job.state, "value", job.state))
        if state == "succeeded":
            return job, False
        if state in ("failed", "cancelled"):
            generation += 1  # a rerun of a failed / cancelled build: a fresh row
            continue
        break
    first_beat = aware_utc(job.heartbeat_at)
    while lease_state(job, clock()) == "held":
        expires = aware_utc(job.lease_expires_at)
        assert expires is not None
        log.warning(
            "build job %s is held by %s until %s; waiting for its lease to expire",
            job.token,
            job.worker_id,
            expires.isoformat(),
        )
        sleep(min(max((expires - clock()).total_seconds(), 0.0), lease_s) + 0.05)
        job = catalog.get_job(job.token)
        if lease_state(job, clock()) == "held" and aware_utc(job.heartbeat_at) != first_beat:
            raise ClusterError(
                f"job_id={job.token!r}: this build is running in another driver "
                f"({job.worker_id}, heartbeating); wait for it or cancel it"
            )
    if str(getattr(job.state, "value", job.state)) == "succeeded":
        return job, False
    claimed = catalog.claim_job(worker_id, [kind], lease_s=lease_s)
    if claimed is None or claimed.token != job.token:
        raise ClusterError(f"job_id={job.token!r}: could not claim this build's job row")
    return claimed, True


class _LeaseKeeper:
    """Heartbeats a job row from a daemon thread every quarter lease while a driver runs."""

    def __init__(self, catalog: Any, token: str, worker_id: str, lease_s: float) -> None:
        self.catalog = catalog
        self.token = token
        self.worker_id = worker_id
        self.interval_s = max(lease_s / 4.0, 0.05)
        self.progress = 0.0
        self.message: str | None = None
        self.lost = False  # another worker took the row (our lease had expired)
        self.cancelled = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{token[:8]}", daemon=True)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def beat(self) -> None:
        from scenario_library.errors import CatalogConflictError

        try:
            job = self.catalog.heartbeat(self.token, self.worker_id, self.progress, self.message)
            if str(getattr(job.state, "value", job.state)) == "cancelled":
                self.cancelled = True
        except CatalogConflictError as exc:
            log.warning("build job %s: lease lost (%s)", self.token, exc)
            self.lost = True
        except Exception as exc:
            log.info("build heartbeat of %s failed: %s", self.token, exc)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.beat()


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
    lease_s: float = DEFAULT_LEASE_S,
) -> BuildSummary:
    """Build classes x variants (seeds 0..variants-1) on Ray; resumable from the catalog.

    ``address``: a Ray cluster ("auto", "ray://..", "host:port"); None starts or reuses a
    local Ray. ``catalog_url`` / ``storage`` default to ``WMGEN_CATALOG_URL`` /
    ``WMGEN_STORAGE`` (then ``$WMGEN_HOME``'s embedded defaults). ``job_id``: a catalog job
    row held by the caller (a service worker, which heartbeats it) to report progress into;
    None: the driver owns this build's row (see the module docstring) and holds its lease
    of ``lease_s`` seconds [s], heartbeating every quarter lease.
    """
    from serving.resources import default_urls, open_catalog

    opts = options or BuildOptions()
    catalog_url, storage = default_urls(catalog_url, storage)
    catalog = open_catalog(catalog_url)
    worker_id = worker_id or f"ray-build-{socket.gethostname()}-{os.getpid()}"
    run = _BuildRun(
        catalog, catalog_url, storage, classes, variants, opts, worker_id, progress, should_stop
    )
    if job_id is not None:
        run.job_id = job_id
        return run.execute(address, chunk_size, task_cpus, max_in_flight)

    job, hold = acquire_build_job(catalog, classes, variants, opts, worker_id, lease_s)
    run.job_id = job.token
    if not hold:  # this build already succeeded: report it, change nothing
        return run.execute(address, chunk_size, task_cpus, max_in_flight, write=False)
    with _LeaseKeeper(catalog, job.token, worker_id, lease_s) as lease:
        run.lease = lease
        try:
            summary = run.execute(address, chunk_size, task_cpus, max_in_flight)
        except KeyboardInterrupt:
            # Ctrl-C: say so on the row (a rerun starts a fresh row and skips what exists)
            _finish(catalog, job.token, "cancelled", "interrupted; run again to resume", worker_id)
            raise
    if lease.lost:
        return summary  # another driver re-claimed the row; it finishes it
    stopped = run.stopped()
    state = "cancelled" if stopped else ("failed" if summary.failed else "succeeded")
    err = "; ".join(summary.errors[:5]) if summary.failed else None
    _finish(catalog, job.token, state, err, worker_id)
    return summary


def _finish(catalog: Any, token: str, state: str, error: str | None, worker_id: str) -> None:
    try:
        catalog.finish_job(token, state, error, worker_id)
    except Exception as exc:
        log.info("finish_job(%s) not applied: %s", token, exc)


class _BuildRun:
    """One run of a build: resume planning, Ray tasks, progress into the job row."""

    def __init__(
        self,
        catalog: Any,
        catalog_url: str,
        storage: str,
        classes: list[int],
        variants: int,
        opts: BuildOptions,
        worker_id: str,
        progress: Callable[[int, int], None] | None,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        self.catalog = catalog
        self.catalog_url = catalog_url
        self.storage = storage
        self.items = plan_items(classes, variants)
        self.opts = opts
        self.worker_id = worker_id
        self.progress = progress
        self.should_stop = should_stop
        self.job_id = ""
        self.lease: _LeaseKeeper | None = None
        self.summary = BuildSummary(requested=len(self.items))
        self.done = 0
        self.sent = 0
        self.write = True

    def stopped(self) -> bool:
        if self.lease is not None and (self.lease.lost or self.lease.cancelled):
            return True
        return self.should_stop is not None and self.should_stop()

    def report(self) -> None:
        s = self.summary
        if self.progress:
            self.progress(self.done, s.requested)
        if not self.write:
            return
        frac = self.done / max(s.requested, 1)
        msg = json.dumps({"done": self.done, "total": s.requested, **s.to_dict()})
        if self.lease is not None:  # the lease thread beats; beat now too so progress shows
            self.lease.progress, self.lease.message = frac, msg
            self.lease.beat()
            return
        try:
            self.catalog.heartbeat(self.job_id, self.worker_id, frac, msg)
        except Exception as exc:  # the row may have been cancelled meanwhile
            log.info("build heartbeat failed: %s", exc)

    def add_tokens(self) -> None:
        """Append the tokens not yet recorded on the job row."""
        new = self.summary.tokens[self.sent :]
        if new and self.write:
            try:
                self.catalog.add_job_clips(self.job_id, new)
                self.sent = len(self.summary.tokens)
            except Exception as exc:
                log.info("add_job_clips(%s) failed: %s", self.job_id, exc)

    def execute(
        self,
        address: str | None,
        chunk_size: int,
        task_cpus: float,
        max_in_flight: int | None,
        *,
        write: bool = True,
    ) -> BuildSummary:
        import ray

        from generator.pipeline import ClipPipeline
        from serving.resources import open_storage

        t0 = time.perf_counter()
        self.write = write
        summary = self.summary
        summary.job_id = self.job_id
        # resume: skip every content address that is already published
        planner = ClipPipeline(self.catalog, open_storage(self.storage))
        todo: list[tuple[int, int]] = []
        for item in self.items:
            token = planner.token_for(self.opts.request(item))
            if planner.existing(token) is not None:
                summary.skipped_existing += 1
                summary.tokens.append(token)
            else:
                todo.append((item.class_id, item.seed))
        self.done = summary.skipped_existing
        self.report()
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
                if self.stopped():
                    for ref in pending:
                        ray.cancel(ref)
                    break
                while chunks and len(pending) < limit:
                    pending.append(
                        remote.remote(chunks.pop(0), self.opts, self.catalog_url, self.storage)
                    )
                ready, pending = ray.wait(pending, num_returns=1, timeout=1.0)
                for ref in ready:
                    self._collect(ref, nodes)
                if ready:
                    self.add_tokens()
                    self.report()
            summary.node_ids = sorted(nodes)
        summary.seconds = time.perf_counter() - t0
        self.add_tokens()
        self.report()
        return summary

    def _collect(self, ref: Any, nodes: set[str]) -> None:
        import ray

        summary = self.summary
        try:
            res = ray.get(ref)
        except Exception as exc:  # the task died for good (node lost, retries spent)
            summary.failed += 1
            summary.errors.append(f"task failed: {exc}")
            return
        nodes.add(res["node_id"])
        for it in res["items"]:
            self.done += 1
            if "error" in it:
                summary.failed += 1
                summary.errors.append(f"class {it['class_id']} seed {it['seed']}: {it['error']}")
            else:
                summary.tokens.append(it["token"])
                if it["created"]:
                    summary.generated += 1
                else:
                    summary.skipped_existing += 1


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
