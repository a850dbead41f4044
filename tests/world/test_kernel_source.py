"""The compiled rollout kernel computes what its Python source says.

``bench/rollout.py`` runs the kernel's own Python source under CPython as its baseline (every
numba function of ``generator.world.kernels`` swapped for its ``py_func``; the LLVM IR
intrinsics have plain Python definitions). Here the two are compared on a few worlds: the
compiled build's vector passes, padded rows, intrinsics and scalar fix-up passes (turns of
0.05 rad or more in a step, rejected leaders, collisions) must give the trajectories and
checks of the plain per-agent loops. Floating point may differ in the last bits (fused
multiply-adds), hence the tolerance on the trajectories; the checks must agree exactly."""

from __future__ import annotations

import numpy as np
import pytest
from numba.core.dispatcher import Dispatcher

from generator.world import kernels as K
from generator.world.demo import highway_braking_scene
from generator.world.rollout import RolloutBatch, rollout
from scenario_library.sampling import sample_scene
from scenario_library.scene import Scene


def _python_source_rollout(scene: Scene, n_worlds: int, seed: int) -> RolloutBatch:
    saved = {n: f for n, f in vars(K).items() if isinstance(f, Dispatcher)}
    try:
        for name, fn in saved.items():
            setattr(K, name, fn.py_func)
        # (the padded rows' NaN points give rank keys that overflow; they are never selected)
        with np.errstate(all="ignore"):
            return rollout(scene, n_worlds=n_worlds, seed=seed)
    finally:
        for name, fn in saved.items():
            setattr(K, name, fn)


def _largest_turn_rad(b: RolloutBatch) -> float:
    d = np.abs(np.diff(b.yaw_rad.astype(np.float64), axis=2))
    return float(np.minimum(d, 2.0 * np.pi - d).max())


@pytest.mark.parametrize(
    ("label", "n_agents"),
    [("demo", 16), ("805", 13), ("777", 4)],  # 805: turns and a collision; 777: < 8 agents
)
def test_compiled_kernel_equals_its_python_source(label: str, n_agents: int) -> None:
    scene = highway_braking_scene() if label == "demo" else sample_scene(int(label), 0)
    assert len(scene.agents) == n_agents
    fast = rollout(scene, n_worlds=2, seed=3)
    slow = _python_source_rollout(scene, n_worlds=2, seed=3)
    for name in ("x_m", "y_m", "yaw_rad", "speed_mps", "accel_mps2"):
        np.testing.assert_allclose(
            getattr(fast, name), getattr(slow, name), atol=1e-5, err_msg=name
        )
    fc, sc = fast.checks, slow.checks
    for name in ("collision", "ego_collision", "first_collision_step", "offroad"):
        assert np.array_equal(getattr(fc, name), getattr(sc, name)), name
    for name in ("comfort_violation", "physics_violation", "corner_case_occurred"):
        assert np.array_equal(getattr(fc, name), getattr(sc, name)), name
    np.testing.assert_allclose(fc.min_ttc_s, sc.min_ttc_s, rtol=1e-9)
    if label == "805":  # the scalar passes after the vector ones did run
        assert fc.collision.any()
        assert _largest_turn_rad(fast) >= 0.05
