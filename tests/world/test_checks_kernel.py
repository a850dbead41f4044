"""Comfort and physics checks of recorded trajectories (``kernels._checks_world``, which the
rollout kernel runs at the end of each world) and the per-step collision check.

``_checks_world`` answers with one branch-free pass per agent and replays an agent step by step
(``kernels._checks_agent``, the definition) only when a physics bound is broken. These tests
pin the definition on hand-made trajectories and check that the fast pass agrees with it.
"""

from __future__ import annotations

import numpy as np
import pytest

from generator.world import kernels as K

DT = 0.1
MU_G = 0.8 * 9.81
N_T = 81


def _straight(v_mps: float = 20.0, accel: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """One agent driving along +x, consistent finite differences (speed from ``accel``)."""
    a = np.zeros(N_T) if accel is None else accel.astype(float)
    v = v_mps + np.concatenate([[0.0], np.cumsum(a[:-1] * DT)])
    x = np.concatenate([[0.0], np.cumsum(0.5 * (v[:-1] + v[1:]) * DT)])
    return {"x": x, "y": np.zeros(N_T), "yaw": np.zeros(N_T), "v": v, "a": a}


def _run(trajs: list[dict[str, np.ndarray]], kind: int, role: int) -> tuple[np.ndarray, ...]:
    n_w = len(trajs)
    arrs = {
        k: np.stack([t[k] for t in trajs])[:, None, :].astype(np.float32)
        for k in ("x", "y", "yaw", "v", "a")
    }
    comfort = np.zeros((n_w, 1), np.bool_)
    physics = np.zeros((n_w, 1), np.bool_)
    reason = np.zeros((n_w, 1), np.int8)
    kinds = np.array([kind], np.int64)
    roles = np.array([role], np.int64)
    rows = [arrs[k] for k in ("x", "y", "yaw", "v", "a")]
    for w in range(n_w):
        K._checks_world(w, w, *rows, kinds, roles, MU_G, DT, comfort, physics, reason)
    return comfort[:, 0], physics[:, 0], reason[:, 0]


def test_smooth_driving_breaks_nothing() -> None:
    comfort, physics, reason = _run([_straight()], K.K_CAR, K.R_EGO)
    assert not comfort[0] and not physics[0] and reason[0] == 0


def test_hard_but_physical_braking_is_a_comfort_violation_only() -> None:
    a = np.zeros(N_T)
    a[20:40] = -6.0  # beyond nuPlan's -4.05 m/s², within mu g
    comfort, physics, _ = _run([_straight(accel=a)], K.K_CAR, K.R_BACKGROUND)
    assert comfort[0] and not physics[0]


def test_comfort_applies_to_ego_and_background_only() -> None:
    a = np.zeros(N_T)
    a[20:40] = -6.0
    comfort, physics, _ = _run([_straight(accel=a)], K.K_CAR, K.R_HAZARD)
    assert not comfort[0] and not physics[0]


def test_jerk_alone_is_a_comfort_violation() -> None:
    a = np.zeros(N_T)
    a[30:] = 1.5  # a step of 1.5 m/s² in one step: 15 m/s³ of (3-step) jerk
    t = _straight(accel=a)
    comfort, physics, _ = _run([t], K.K_CAR, K.R_EGO)
    assert comfort[0] and not physics[0]


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        ("accel", 1),
        ("lateral", 2),
        ("speed", 3),
        ("teleport", 4),
        ("nan", 5),
    ],
)
def test_each_physics_bound_reports_its_code(edit: str, code: int) -> None:
    t = _straight()
    if edit == "accel":
        t = _straight(accel=np.where(np.arange(N_T) == 40, -12.0, 0.0))  # beyond mu g
    elif edit == "lateral":
        t["yaw"] = np.where(np.arange(N_T) >= 40, 0.6, 0.0)  # 6 rad/s at 20 m/s
    elif edit == "speed":
        t = _straight(v_mps=75.0)  # a car's limit is 70 m/s
    elif edit == "teleport":
        t["x"][50:] += 15.0
    else:
        t["y"][60] = np.nan
    _, physics, reason = _run([t], K.K_CAR, K.R_HAZARD)
    assert physics[0] and reason[0] == code


def test_first_violation_decides_the_code() -> None:
    t = _straight()
    t["x"][30:] += 15.0  # teleport at step 30 ...
    t["y"][60] = np.nan  # ... before the non-finite value at 60
    _, physics, reason = _run([t], K.K_CAR, K.R_HAZARD)
    assert physics[0] and reason[0] == 4


def test_pedestrians_have_no_friction_bound_on_lateral_acceleration() -> None:
    t = _straight(v_mps=1.5)
    t["yaw"] = np.where(np.arange(N_T) >= 40, 2.5, 0.0)
    _, physics, _ = _run([t], K.K_PED, K.R_HAZARD)
    assert not physics[0]


def test_fast_pass_agrees_with_the_step_by_step_definition() -> None:
    """Random trajectories (smooth, noisy, with the odd spike or non-finite value): the
    kernel's answer equals ``_checks_agent`` run on every agent."""
    rng = np.random.default_rng(7)
    n_w, n_ag = 64, 6
    shape = (n_w, n_ag, N_T)
    v = np.clip(15.0 + np.cumsum(rng.normal(0, 0.4, shape), axis=2), 0.0, None)
    yaw = np.cumsum(rng.normal(0, 0.02, shape), axis=2)
    yaw[:5] = np.cumsum(rng.normal(0, 0.2, (5, n_ag, N_T)), axis=2)  # wild yaw
    yaw[5:8] += np.pi * 0.999  # headings near the +-pi wrap
    x = np.cumsum(v * np.cos(yaw) * DT, axis=2)
    y = np.cumsum(v * np.sin(yaw) * DT, axis=2)
    a = np.diff(v, axis=2, append=v[:, :, -1:]) / DT
    x[8, 2, 40] += 30.0
    y[9, 1, 70] = np.inf
    v[10, 3, 20] = -1.0
    arrs = [np.ascontiguousarray(q, np.float32) for q in (x, y, yaw, v, a)]
    kind = np.array([K.K_CAR, K.K_TRUCK, K.K_PED, K.K_CYCLIST, K.K_ANIMAL, K.K_CAR], np.int64)
    role = np.array([K.R_EGO, K.R_BACKGROUND, K.R_HAZARD, K.R_BACKGROUND, K.R_HAZARD, 3])
    fast = [np.zeros((n_w, n_ag), np.bool_), np.zeros((n_w, n_ag), np.bool_)]
    fast.append(np.zeros((n_w, n_ag), np.int8))
    for w in range(n_w):
        K._checks_world(w, w, *arrs, kind, role, MU_G, DT, *fast)
    ref = [np.zeros_like(f) for f in fast]
    for w in range(n_w):
        for i in range(n_ag):
            K._checks_agent(w, w, i, *arrs, kind, role, MU_G, DT, *ref)
    for got, want in zip(fast, ref, strict=True):
        np.testing.assert_array_equal(got, want)
    # the sample covers both answers of both checks
    assert fast[0].any() and not fast[0].all()
    assert fast[1].any() and not fast[1].all()


def _record_checks(
    t: int,
    x: np.ndarray,
    y: np.ndarray,
    c: np.ndarray,
    s: np.ndarray,
    radius: np.ndarray,
    length: np.ndarray,
    width: np.ndarray,
    static: np.ndarray,
    collision: np.ndarray,
    ego_coll: np.ndarray,
    first: np.ndarray,
) -> None:
    """One world's per-step collision check, with the float32 rows built as the kernel does."""
    n_ag = len(x)
    px = (x - x[0]).astype(np.float32)
    py = (y - y[0]).astype(np.float32)
    rad32 = (radius + K.COLL_MARGIN_M).astype(np.float32)
    K._record_checks(
        0, t, x, y, c, s, px, py, rad32, radius, length, width, static,
        np.zeros(n_ag, np.bool_), n_ag, 0.0, -1e9, 1e9, False, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0,
        collision, ego_coll, first, np.zeros((1, n_ag), np.bool_),
    )  # fmt: skip


def test_collision_rows_match_all_pairs_separating_axes() -> None:
    """Per-step collision check (bounding-circle rows, then separating axes) against every
    pair tested directly; pairs of two static boxes never count, the ego flag only for the
    ego's pairs."""
    rng = np.random.default_rng(11)
    n_ag = 8
    seen = {"coll": 0, "ego": 0, "static_only": 0}
    for trial in range(400):
        x = rng.uniform(0.0, 60.0, n_ag)
        y = rng.uniform(-6.0, 6.0, n_ag)
        yaw = rng.uniform(-np.pi, np.pi, n_ag)
        c, s = np.cos(yaw), np.sin(yaw)
        length = rng.uniform(0.5, 12.0, n_ag)
        width = rng.uniform(0.5, 2.6, n_ag)
        radius = 0.5 * np.sqrt(length**2 + width**2)
        static = rng.random(n_ag) < 0.5
        collision = np.zeros(1, np.bool_)
        ego_coll = np.zeros(1, np.bool_)
        first = np.full(1, -1, np.int32)
        _record_checks(
            trial % 7, x, y, c, s, radius, length, width, static, collision, ego_coll, first
        )
        want = want_ego = static_hit = False
        for i in range(n_ag):
            for j in range(i + 1, n_ag):
                hit = K._boxes_overlap(
                    x[i], y[i], c[i], s[i], length[i], width[i],
                    x[j], y[j], c[j], s[j], length[j], width[j],
                )  # fmt: skip
                if hit and static[i] and static[j]:
                    static_hit = True
                elif hit:
                    want = True
                    want_ego |= i == 0
        assert collision[0] == want, trial
        assert ego_coll[0] == want_ego, trial
        assert first[0] == (trial % 7 if want else -1), trial
        seen["coll"] += want
        seen["ego"] += want_ego
        seen["static_only"] += static_hit and not want
    assert min(seen.values()) > 0, seen  # every case occurred


def test_float32_prefilter_keeps_corner_contacts_far_from_the_ego() -> None:
    """Two equal boxes whose corners overlap by 0.1 um sit almost exactly one bounding-circle
    sum apart; 3 km from the ego, float32 rounding (~2e-4 m) alone could drop the pair: the
    grown circles keep it, and the separating axes decide in float64."""
    length = np.array([4.6, 4.4, 4.4])
    width = np.array([1.9, 1.8, 1.8])
    radius = 0.5 * np.sqrt(length**2 + width**2)
    static = np.zeros(3, np.bool_)
    rng = np.random.default_rng(5)
    for x1, y1 in zip(rng.uniform(2900.0, 3100.0, 60), rng.uniform(-40.0, 40.0, 60), strict=True):
        for overlap in (1e-7, -1e-4):
            e = overlap
            x = np.array([0.0, x1, x1 + 4.4 - e])
            y = np.array([0.0, y1, y1 + 1.8 - e])
            c, s = np.ones(3), np.zeros(3)
            collision = np.zeros(1, np.bool_)
            ego_coll = np.zeros(1, np.bool_)
            first = np.full(1, -1, np.int32)
            _record_checks(3, x, y, c, s, radius, length, width, static, collision, ego_coll, first)
            assert collision[0] == (overlap > 0), (x1, overlap)
            assert not ego_coll[0]
