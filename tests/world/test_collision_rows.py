"""The rollout kernel's collision test (``kernels._record_checks``): one 16-lane float32 vector
of bounding-circle tests per agent (``kernels._near_bits``, an LLVM IR intrinsic), then the
float64 circles and separating axes for the rows with a candidate.

The intrinsic is checked against its Python source (what ``bench/rollout.py``'s CPython
baseline runs), and the whole test against every pair's separating-axis test, with the
overlapping pair placed in each block of 16 lanes (first block, across blocks, later block)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from generator.world import kernels as K


@njit(cache=False)
def _all_bits(px, py, r, n):
    out = np.zeros(n, np.int64)
    for i in range(n):
        for b in range(0, px.shape[0], K.LANES):
            out[i] |= np.int64(K._near_bits(px, py, r, b, px[i], py[i], r[i])) << b
    return out


def _rows(x: np.ndarray, y: np.ndarray, radius: np.ndarray) -> tuple[np.ndarray, ...]:
    """The kernel's float32 rows: offsets from agent 0, grown circles, NaN padding."""
    n = len(x)
    n_rows = (n + K.LANES - 1) // K.LANES * K.LANES
    f32 = np.full((3, n_rows), np.nan, np.float32)
    f32[0, :n] = x - x[0]
    f32[1, :n] = y - y[0]
    f32[2, :n] = radius + K.COLL_MARGIN_M
    return f32[0], f32[1], f32[2]


@pytest.mark.parametrize("n", [3, 16, 23, 40])
def test_near_bits_equals_its_python_source(n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.uniform(-15.0, 15.0, n)
    y = rng.uniform(-4.0, 4.0, n)
    radius = rng.uniform(0.2, 3.0, n)
    x[1], y[1] = x[0] + radius[0] + radius[1], y[0]  # circles that touch: still "near"
    px, py, r = _rows(x, y, radius)
    got = _all_bits(px, py, r, n)
    want = _all_bits.py_func(px, py, r, n)
    assert got.tolist() == want.tolist()
    assert (got != 0).all()  # every agent is near itself
    assert not (got >> n).any()  # the NaN padding never is
    assert (got[0] >> 1) & 1 and (got[1] & 1)


def _checks(x, y, yaw, length, width, static):
    n = len(x)
    radius = 0.5 * np.sqrt(length**2 + width**2)
    px, py, r = _rows(x, y, radius)
    collision = np.zeros(1, np.bool_)
    ego = np.zeros(1, np.bool_)
    first = np.full(1, -1, np.int32)
    offroad = np.zeros((1, n), np.bool_)
    K._record_checks(
        0, 7, x, y, np.cos(yaw), np.sin(yaw), px, py, r, radius, length, width, static,
        np.zeros(n, np.bool_), n, 0.0, -1e6, 1e6, False, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0,
        collision, ego, first, offroad,
    )  # fmt: skip
    return bool(collision[0]), bool(ego[0]), int(first[0])


def _reference(x, y, yaw, length, width, static):
    n = len(x)
    c, s = np.cos(yaw), np.sin(yaw)
    hit = ego = False
    for i in range(n):
        for j in range(i + 1, n):
            if static[i] and static[j]:
                continue
            args = (x[i], y[i], c[i], s[i], length[i], width[i])
            if K._boxes_overlap(*args, x[j], y[j], c[j], s[j], length[j], width[j]):
                hit = True
                ego |= i == 0
    return hit, ego


@pytest.mark.parametrize(
    ("n", "pair"), [(20, (0, 1)), (20, (0, 17)), (20, (9, 16)), (20, (15, 16)), (40, (17, 38))]
)
@pytest.mark.parametrize("overlap", [True, False])
def test_collision_in_every_block_of_lanes(n: int, pair: tuple[int, int], overlap: bool) -> None:
    """Agents on a 10 m grid (no two near), then agent j moved next to agent i: overlapping
    by 0.2 m or clear by 0.2 m (their circles still meet, so the separating axes decide)."""
    x = (np.arange(n) % 8) * 10.0
    y = (np.arange(n) // 8) * 10.0
    yaw = np.zeros(n)
    length = np.full(n, 4.5)
    width = np.full(n, 1.8)
    static = np.zeros(n, np.bool_)
    i, j = pair
    x[j] = x[i] + 4.5 + (-0.2 if overlap else 0.2)
    y[j] = y[i] + 0.3
    got = _checks(x, y, yaw, length, width, static)
    assert got[:2] == _reference(x, y, yaw, length, width, static)
    assert got == ((True, i == 0, 7) if overlap else (False, False, -1))


def test_two_static_boxes_never_collide() -> None:
    """Parked cars that touch are not a collision: only pairs with a mover count."""
    x = np.array([0.0, 30.0, 34.0, 60.0])
    y = np.zeros(4)
    yaw = np.zeros(4)
    length = np.full(4, 4.5)
    width = np.full(4, 1.8)
    static = np.array([False, True, True, False])
    assert _checks(x, y, yaw, length, width, static) == (False, False, -1)
    static[2] = False
    assert _checks(x, y, yaw, length, width, static) == (True, False, 7)


def test_random_crowds_match_every_pair() -> None:
    rng = np.random.default_rng(5)
    outcomes = []
    for trial in range(60):
        n = int(rng.integers(2, 45))
        x = rng.uniform(0.0, 40.0 * n, n)
        y = rng.uniform(-6.0, 6.0, n)
        yaw = rng.uniform(-np.pi, np.pi, n)
        length = rng.uniform(0.4, 12.0, n)
        width = rng.uniform(0.4, 2.6, n)
        static = rng.random(n) < 0.2
        got = _checks(x, y, yaw, length, width, static)
        assert got[:2] == _reference(x, y, yaw, length, width, static), trial
        outcomes.append(got[0])
    assert 10 <= sum(outcomes) <= 50  # crowds with and without a collision
