"""The per-world behaviour samples and the corner-case lane flags against plain references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _world_scenes import cut_in_scene

from generator.world import checks as C
from generator.world import kernels as K
from generator.world import rollout as R
from scenario_library.sampling import sample_scene
from scenario_library.scene import AgentRole, HazardFamily, lane_bounds_t


def _reference_behaviour(prep: R._Prepared, n_worlds: int, seed: int) -> dict[str, np.ndarray]:
    """The documented sampling, one ``rng.uniform`` call per key in draw order."""
    nom = prep.nominal
    n_ag = len(nom["v0"])
    p = {k: np.repeat(v[None, :], n_worlds, axis=0) for k, v in nom.items()}
    rng = np.random.default_rng(seed)
    shape = (n_worlds - 1, n_ag)
    bg = prep.agent["role"] == K.R_BACKGROUND
    for key, lo, hi in (
        ("a", 0.8, 1.25),
        ("b", 0.8, 1.25),
        ("t", 0.7, 1.3),
        ("s0", 0.8, 1.3),
        ("v0", 0.9, 1.1),
    ):
        f = rng.uniform(lo, hi, shape)
        p[key][1:] = np.where(bg[None, :], p[key][1:] * f, p[key][1:])
    tau = rng.uniform(0.15, 0.6, shape)
    p["tau"][1:] = np.where(bg[None, :], tau, p["tau"][1:])
    return p


@pytest.mark.parametrize("n_worlds", [1, 2, 37])
@pytest.mark.parametrize("seed", [0, 8])
def test_behaviour_samples_are_the_documented_uniform_draws(n_worlds: int, seed: int) -> None:
    scene = cut_in_scene()
    prep = R.prepare(scene)
    assert (prep.agent["role"] == K.R_BACKGROUND).any()  # something is sampled
    got, _ = R._sample_behaviour(prep, scene, n_worlds, seed)
    want = _reference_behaviour(prep, n_worlds, seed)
    assert set(got) == set(want)
    for key in want:  # bit for bit
        assert np.array_equal(got[key], want[key]), key
    if n_worlds > 1:  # background agents really vary, the others keep their nominal values
        bg = prep.agent["role"] == K.R_BACKGROUND
        assert not np.array_equal(got["a"][1:, bg], want["a"][:1, bg].repeat(n_worlds - 1, 0))
        assert np.array_equal(
            got["a"][:, ~bg], np.repeat(prep.nominal["a"][None, ~bg], n_worlds, 0)
        )


def _reference_flags(
    ys: np.ndarray,
    yaws: np.ndarray,
    i: int,
    length: float,
    width: float,
    lo: float,
    hi: float,
    thr: float,
) -> np.ndarray:
    """In-lane flags of agent ``i`` on a straight road with every extent computed."""
    t = ys[:, i, :].astype(np.float64)
    rel = yaws[:, i, :].astype(np.float64)
    ext = 0.5 * (length * np.abs(np.sin(rel)) + width * np.abs(np.cos(rel)))
    overlap = np.minimum(t + ext, hi) - np.maximum(t - ext, lo)
    return overlap >= thr


def test_lane_flags_decided_by_extent_bounds_match_the_exact_extent() -> None:
    rng = np.random.default_rng(5)
    n_w, n_t, length, width, lo, hi = 400, 50, 4.5, 1.8, -1.75, 1.75
    e_lo, e_hi = C._extent_bounds(length, width)
    assert e_lo < 0.5 * width < e_hi and e_hi > 0.5 * math.hypot(length, width)
    xs = rng.uniform(-50, 50, (n_w, 2, n_t)).astype(np.float32)
    # lateral positions around the band edges, where the extent decides the flag
    edge = rng.choice([lo - 0.2, hi + 0.2, lo - 2.2, hi + 2.2], (n_w, n_t))
    ys = np.zeros((n_w, 2, n_t), np.float32)
    ys[:, 1, :] = edge + rng.normal(0.0, 0.8, (n_w, n_t))
    yaws = rng.uniform(-math.pi, math.pi, (n_w, 2, n_t)).astype(np.float32)
    s_e = xs[:, 0, :].astype(np.float64)
    flags = np.empty((3, n_w, n_t), np.bool_)
    for thr in (C.OVERLAP_M, 0.05):
        C._lane_flags(xs, ys, yaws, 1, 0.0, 0.0, length, width, s_e, lo, hi, 1.0, 4.5, thr, flags)
        want = _reference_flags(ys, yaws, 1, length, width, lo, hi, thr)
        assert np.array_equal(flags[0], want)
        # both outcomes and the in-between cases (the ones that need sin and cos) occur
        t = ys[:, 1, :].astype(np.float64)
        undecided = (np.minimum(t + e_lo, hi) - np.maximum(t - e_lo, lo) < thr) & (
            np.minimum(t + e_hi, hi) - np.maximum(t - e_hi, lo) >= thr
        )
        assert want.any() and not want.all() and undecided.sum() > 100
        assert np.array_equal(flags[1], (t > lo) & (t < hi))
        ds = xs[:, 1, :].astype(np.float64) - s_e
        assert np.array_equal(flags[2], (ds > -0.5 * 4.5) & (ds < C.AHEAD_M))


def test_thin_child_enters_the_lane_as_the_exact_extents_say() -> None:
    """A child (0.35 m x 0.45 m) is thinner than ``2 OVERLAP_M``: it counts as in the lane once
    it overlaps by its own smallest extent over the rollout, which needs every extent; the
    corner case is then the documented "enters the ego lane ahead after starting outside"."""
    scene = sample_scene(448, 0)  # child emerging behind parked cars, urban straight
    assert (
        scene.scenario.family is HazardFamily.CHILD_OCCLUDED and scene.road.curve_radius_m is None
    )
    p = next(i for i, a in enumerate(scene.agents) if a.role is AgentRole.HAZARD)
    child, ego = scene.agents[p], scene.agents[0]
    assert C._extent_bounds(child.length_m, child.width_m)[0] < C.OVERLAP_M
    b = R.rollout(scene, n_worlds=64, seed=4)
    got = C.corner_case_occurred(
        scene, b.x_m, b.y_m, b.yaw_rad, b.speed_mps, b.accel_mps2, b.light_states, b.light_ids
    )
    lo, hi = sorted(lane_bounds_t(scene.road, ego.start.road_id, ego.start.lane_id))
    rel = b.yaw_rad[:, p, :].astype(np.float64)
    ext = 0.5 * (child.length_m * np.abs(np.sin(rel)) + child.width_m * np.abs(np.cos(rel)))
    thr = min(C.OVERLAP_M, float(ext.min()))
    t = b.y_m[:, p, :].astype(np.float64)
    in_lane = np.minimum(t + ext, hi) - np.maximum(t - ext, lo) >= thr
    ds = (b.x_m[:, p, :].astype(np.float64) - b.x_m[:, 0, :]) * (
        1.0 if ego.start.lane_id < 0 else -1.0
    )
    ahead = (ds > -0.5 * ego.length_m) & (ds < C.AHEAD_M)
    want = ~in_lane[:, 0] & (in_lane & ahead).any(axis=1)
    assert want.any()
    assert np.array_equal(got, want)
