"""Benchmark of the vectorised world rollout (prints one JSON document).

(a) target configuration: 2160 worlds x 16 agents x 80 steps (8 s at 10 Hz) with collision,
    off-road, TTC, comfort/physics and corner-case checks, on the hand-built 16-agent highway
    scene (``generator.world.demo``); plus the same on sampled scenes when
    ``scenario_library.sampling`` exists (their own agent counts);
(b) what-if latency: 6 plans x 36 samples = 216 futures, one batched call, scored;
(c) baseline: the *same model* as plain per-agent Python loops - the kernel's own Python
    source (``rollout_kernel.py_func`` with every helper swapped for its Python source), run by
    CPython on a few worlds and scaled per agent-step. Same process, so the ratio is fair.

Usage: ``python bench/rollout.py [--runs 7] [--worlds 2160] [--baseline-worlds 2]``.
Timings on a shared machine are noisy; the median of ``--runs`` is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Any

from numba.core.dispatcher import Dispatcher

from generator.world import kernels as K
from generator.world.demo import highway_braking_scene
from generator.world.rollout import rollout
from generator.world.whatif import warmup, whatif
from scenario_library.scene import Scene

_CPU_MS: list[float] = []


def _median_ms(fn: Any, runs: int) -> tuple[float, list[float]]:
    """Median wall time [ms] of ``runs`` calls; their process CPU times (all threads) go to
    ``_CPU_MS`` - on a shared machine CPU time / cores is the better estimate of idle wall."""
    times = []
    _CPU_MS.clear()
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
        _CPU_MS.append((time.process_time() - c0) * 1e3)
    return statistics.median(times), times


def _config(scene: Scene, n_worlds: int, runs: int, label: str) -> dict[str, Any]:
    steps = round(scene.horizon_s / scene.dt_s)
    seeds = iter(range(1, 10_000))
    med, times = _median_ms(lambda: rollout(scene, n_worlds=n_worlds, seed=next(seeds)), runs)
    n_ag = len(scene.agents)
    cpu = statistics.median(_CPU_MS)
    return {
        "cpu_ms": round(cpu, 1),
        "cpu_ms_per_core": round(cpu / max(os.cpu_count() or 1, 1), 1),
        "scene": label,
        "worlds": n_worlds,
        "agents_per_world": n_ag,
        "steps": steps,
        "median_ms": round(med, 2),
        "runs_ms": [round(t, 1) for t in times],
        "agent_steps_per_s": round(n_worlds * n_ag * steps / (med / 1e3)),
    }


def _compiled_functions() -> list[str]:
    """Every numba-compiled function of ``generator.world.kernels`` (entry points and helpers):
    the baseline swaps all of them for their Python source, so no compiled code is left."""
    return [name for name, f in vars(K).items() if isinstance(f, Dispatcher)]


def _python_baseline(scene: Scene, n_worlds: int, runs: int) -> dict[str, Any]:
    """Run the kernel's Python source (no numba anywhere) on ``n_worlds`` worlds."""
    saved = {name: getattr(K, name) for name in _compiled_functions()}
    try:
        for name, fn in saved.items():
            setattr(K, name, fn.py_func)
        med, _ = _median_ms(lambda: rollout(scene, n_worlds=n_worlds, seed=3), runs)
    finally:
        for name, fn in saved.items():
            setattr(K, name, fn)
    steps = round(scene.horizon_s / scene.dt_s)
    n_ag = len(scene.agents)
    return {
        "worlds": n_worlds,
        "agents_per_world": n_ag,
        "steps": steps,
        "median_ms": round(med, 1),
        "agent_steps_per_s": round(n_worlds * n_ag * steps / (med / 1e3)),
        "what": "same kernel source executed by CPython (per-agent loops, no numba)",
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--worlds", type=int, default=2160)
    ap.add_argument("--baseline-worlds", type=int, default=2)
    args = ap.parse_args()

    t0 = time.perf_counter()
    warmup()
    warm_s = time.perf_counter() - t0
    scene = highway_braking_scene()
    rollout(scene, n_worlds=8)  # scene preparation cache + page-in

    out: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numba_threads": int(os.environ.get("NUMBA_NUM_THREADS", os.cpu_count() or 1)),
        },
        "warmup_s": round(warm_s, 2),
    }
    out["target"] = _config(scene, args.worlds, args.runs, "demo.highway_braking_scene")
    out["target"]["goal_ms"] = 100.0

    seeds = iter(range(100, 10_000))
    med, times = _median_ms(
        lambda: whatif(scene, n_plans=6, n_samples=36, seed=next(seeds)), args.runs
    )
    out["whatif"] = {
        "scene": "demo.highway_braking_scene",
        "plans": 6,
        "samples": 36,
        "futures": 216,
        "median_ms": round(med, 2),
        "runs_ms": [round(t, 1) for t in times],
        "cpu_ms": round(statistics.median(_CPU_MS), 1),
        "goal_ms": 100.0,
    }

    base = _python_baseline(scene, args.baseline_worlds, max(1, min(args.runs, 3)))
    out["python_baseline"] = base
    out["speedup_vs_python"] = round(
        out["target"]["agent_steps_per_s"] / max(base["agent_steps_per_s"], 1), 1
    )

    try:  # sampled scenes (helper A's sampling), when present
        from scenario_library import sampling
    except ImportError:
        sampling = None  # type: ignore[assignment]
    if sampling is not None:
        sample_scene = sampling.sample_scene
        sampled = []
        for class_id in (0, 300, 700):
            try:
                sc = sample_scene(class_id, 0)
            except Exception as exc:  # report, don't hide
                sampled.append({"class_id": class_id, "error": repr(exc)})
                continue
            rollout(sc, n_worlds=4)
            cfg = _config(sc, args.worlds, max(3, args.runs // 2), f"sample_scene({class_id}, 0)")
            sampled.append(cfg)
        out["sampled_scenes"] = sampled
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
