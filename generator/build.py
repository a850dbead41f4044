"""Library builds on one machine: classes x variants, in parallel on local cores, resumable.

Resumable by construction: every clip is content-addressed and published atomically, so a
rerun after a kill skips what is already published and finishes the rest, with no duplicate
and no lost clip. The same per-item function (`build_item`) runs in Ray tasks for cluster
builds (``serving.ray_build``).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from generator.pipeline import ClipPipeline, ClipRequest
from scenario_library.errors import SpecError
from scenario_library.spec import ScenarioSpec

N_CLASSES = 1024


def parse_class_list(text: str) -> list[int]:
    """'all' or a comma list of ids and inclusive ranges ('1,2,5-9') -> sorted unique ids."""
    text = text.strip()
    if text == "all":
        return list(range(N_CLASSES))
    ids: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo_s, hi_s = part.split("-", 1)
                lo, hi = int(lo_s), int(hi_s)
                if lo > hi:
                    raise ValueError
                ids.update(range(lo, hi + 1))
            else:
                ids.add(int(part))
        except ValueError:
            raise SpecError("classes", text, "expected 'all' or ids/ranges like 1,2,5-9") from None
    bad = [i for i in ids if not 0 <= i < N_CLASSES]
    if bad:
        raise SpecError("classes", bad[0], f"class ids are 0..{N_CLASSES - 1}")
    return sorted(ids)


@dataclass(frozen=True)
class BuildItem:
    class_id: int
    seed: int


@dataclass
class BuildSummary:
    requested: int = 0
    skipped_existing: int = 0
    generated: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "requested": self.requested,
            "skipped_existing": self.skipped_existing,
            "generated": self.generated,
            "failed": self.failed,
            "errors": self.errors[:20],
        }


@dataclass(frozen=True)
class BuildOptions:
    """Clip format of a library build (smaller than the interactive default)."""

    backend: str = "sketch"
    width_px: int = 1280
    height_px: int = 704
    fps: float = 10.0
    seconds: float = 5.0

    def request(self, item: BuildItem) -> ClipRequest:
        return ClipRequest(
            spec=ScenarioSpec(class_id=item.class_id),
            seed=item.seed,
            backend=self.backend,
            width_px=self.width_px,
            height_px=self.height_px,
            fps=self.fps,
            seconds=self.seconds,
        )


def plan_items(classes: Iterable[int], variants: int) -> list[BuildItem]:
    if variants < 1:
        raise SpecError("variants", variants, "must be >= 1")
    return [BuildItem(c, s) for c in classes for s in range(variants)]


def build_item(pipeline: ClipPipeline, item: BuildItem, opts: BuildOptions) -> tuple[str, bool]:
    """Generate one library item; returns (token, created)."""
    result = pipeline.generate(opts.request(item))
    return result.token, result.created


# ------------------------------------------------------------------- worker processes
_WORKER: ClipPipeline | None = None


def _init_worker(root: str | None, env: dict[str, str]) -> None:
    global _WORKER
    os.environ.update(env)
    try:  # one rasteriser thread per process: processes give the parallelism
        import numba

        numba.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    _WORKER = ClipPipeline.from_env(root)


def _run_in_worker(item: BuildItem, opts: BuildOptions) -> tuple[str, bool]:
    assert _WORKER is not None
    return build_item(_WORKER, item, opts)


def build_library(
    pipeline: ClipPipeline,
    items: list[BuildItem],
    opts: BuildOptions,
    *,
    workers: int = 1,
    root: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BuildSummary:
    """Build ``items``; already published ones are skipped. ``workers`` > 1 uses processes
    that open the same catalog and storage (``root`` / environment)."""
    summary = BuildSummary(requested=len(items))
    todo = []
    for item in items:
        if pipeline.existing(pipeline.token_for(opts.request(item))) is not None:
            summary.skipped_existing += 1
        else:
            todo.append(item)
    done = summary.skipped_existing
    if progress:
        progress(done, len(items))

    def _record(item: BuildItem, exc: BaseException | None, created: bool) -> None:
        nonlocal done
        done += 1
        if exc is not None:
            summary.failed += 1
            summary.errors.append(f"class {item.class_id} seed {item.seed}: {exc}")
        elif created:
            summary.generated += 1
        else:
            summary.skipped_existing += 1
        if progress:
            progress(done, len(items))

    if workers <= 1:
        for item in todo:
            try:
                _tok, created = build_item(pipeline, item, opts)
                _record(item, None, created)
            except Exception as exc:  # one bad item must not stop a library build
                _record(item, exc, False)
        return summary

    env = {k: v for k, v in os.environ.items() if k.startswith("WMGEN_")}
    # spawn, not fork: the parent may already run numba / torch thread pools, which do not
    # survive a fork
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(root, env)
    ) as pool:
        pending: dict[Future[tuple[str, bool]], BuildItem] = {}
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < workers * 2:
                it = queue.pop(0)
                pending[pool.submit(_run_in_worker, it, opts)] = it
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in finished:
                it = pending.pop(fut)
                err = fut.exception()
                _record(it, err, False if err else fut.result()[1])
    return summary


def default_root() -> Path:
    return Path(os.environ.get("WMGEN_HOME", "var"))
