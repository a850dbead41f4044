"""The kernel's vectorised leader search (every agent's rank key at once, then the exact gap
and crossing rule of the winner) picks the same leader as the plain all-pairs scan (up to gaps
within the ranking resolution, ``RANK_RES_M``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from generator.world.kernels import (
    BIG,
    CORRIDOR_MARGIN_M,
    RANK_NONE,
    RANK_RES_M,
    RANK_SLOTS,
    _find_leader,
    _lead_rows,
    _rank_all,
    _rank_min,
)


def _all_pairs_leader(
    i: int,
    excl: int,
    x: np.ndarray,
    y: np.ndarray,
    c: np.ndarray,
    s: np.ndarray,
    v: np.ndarray,
    radius: np.ndarray,
    length: np.ndarray,
    width: np.ndarray,
    xi: float,
    yi: float,
    ci: float,
    si: float,
    hk: float,
    shift: float,
) -> tuple[int, float]:
    """Reference: the original scan over every j in ascending order (early rejects first)."""
    best_gap, best_j = BIG, -1
    hwi = 0.5 * width[i] + CORRIDOR_MARGIN_M
    hli = 0.5 * length[i]
    for j in range(len(x)):
        dxw, dyw = x[j] - xi, y[j] - yi
        dx = dxw * ci + dyw * si
        if dx <= 0.0 or dx > best_gap + 20.0 or j in (i, excl):
            continue
        dy = -dxw * si + dyw * ci - hk * dx * dx
        acd = abs(ci * c[j] + si * s[j])
        asd = abs(ci * s[j] - si * c[j])
        half = hwi + 0.5 * (length[j] * asd + width[j] * acd)
        if abs(dy) > half and abs(dy - shift) > half:
            continue
        gap = dx - hli - 0.5 * (length[j] * acd + width[j] * asd)
        if gap < best_gap:
            vy = v[j] * (ci * s[j] - si * c[j])
            if abs(vy) > 0.5 and gap > 0.0:
                t_clear = (half + (dy if vy < 0.0 else -dy)) / abs(vy)
                if t_clear < gap / max(v[i], 0.1):
                    continue
            best_gap, best_j = gap, j
    return best_j, best_gap


def _kernel_leader(
    i: int,
    excl: int,
    wd: dict[str, np.ndarray],
    ci: float,
    si: float,
    hk: float,
    shift: float,
    exact_skip: bool,
) -> tuple[tuple[int, float], np.ndarray]:
    """What the rollout kernel does for agent i: ``_rank_all`` for every agent (agent i's frame
    in its rows, the others' along their own heading), then ``_find_leader`` from i's key."""
    n = len(wd["x"])
    n_pad = (n + 7) // 8 * 8  # the kernel pads its rows with NaN points
    xp, yp = np.full(n_pad, np.nan), np.full(n_pad, np.nan)
    xp[:n], yp[:n] = wd["x"], wd["y"]
    fc, fs = np.zeros(n_pad), np.zeros(n_pad)
    fc[:n], fs[:n] = wd["c"], wd["s"]
    fc[i], fs[i] = ci, si
    kap, d_to, d_now = np.zeros(n_pad), np.zeros(n_pad), np.zeros(n_pad)
    kap[i] = 2.0 * hk
    d_to[i] = shift
    hw, hl = np.zeros(n_pad), np.zeros(n_pad)
    hw[:n] = 0.5 * wd["width"] + CORRIDOR_MARGIN_M
    hl[:n] = 0.5 * wd["length"]
    excl_rows = np.full(n_pad, -1, np.int64)
    excl_rows[i] = excl
    keys = np.empty(n_pad, np.int64)
    rest = (wd["c"], wd["s"], wd["length"], wd["width"], n)
    _rank_all(xp, yp, *rest, fc, fs, kap, d_to, d_now, hw, hl, excl_rows, keys)
    assert (keys[n:] == RANK_NONE).all()  # padding never ranks
    args = (wd["x"], wd["y"], wd["c"], wd["s"])
    rows = np.empty(n), np.empty(n), np.empty(n)
    frame = (wd["x"][i], wd["y"][i], ci, si, hk, shift)
    got = _find_leader(
        i, excl, *args, wd["v"], wd["length"], wd["width"], *frame, exact_skip, keys[i], *rows
    )
    # the kernel first takes every row's winner at once (_lead_rows): where it is not rejected
    # as crossing traffic, that is _find_leader's answer, and its speed along the path
    vp, cp, sp = np.zeros(n_pad), np.zeros(n_pad), np.zeros(n_pad)
    vp[:n], cp[:n], sp[:n] = wd["v"], wd["c"], wd["s"]
    no = np.zeros(n_pad, np.bool_)
    lead_gap, lead_v, lead_open = np.empty(n_pad), np.empty(n_pad), np.zeros(n_pad, np.int64)
    n_open = _lead_rows(
        xp, yp, cp, sp, vp, wd["length"], wd["width"], fc, fs, kap, hw, hl, no, no, keys, n_pad,
        lead_gap, lead_v, lead_open,
    )  # fmt: skip
    assert n_open == lead_open.sum() and not lead_open[n:].any()
    if exact_skip and not lead_open[i]:
        j = -1 if keys[i] == RANK_NONE else int(keys[i] & (RANK_SLOTS - 1))
        assert j == got[0] and lead_gap[i] == pytest.approx(got[1], abs=1e-9)
        want_v = vp[j] * (ci * cp[j] + si * sp[j]) if j >= 0 else 0.0
        assert lead_v[i] == pytest.approx(want_v, rel=1e-12, abs=1e-12)
    _OPEN.append(bool(exact_skip and lead_open[i]))
    return got, keys


_OPEN: list[bool] = []  # whether _lead_rows left agent i to the search, per call


def _random_world(rng: np.random.Generator, n: int, long_agents: bool) -> dict[str, np.ndarray]:
    lanes = rng.integers(-2, 3, n) * 3.7
    crossing = rng.random(n) < 0.2
    yaw = np.where(crossing, rng.uniform(-math.pi, math.pi, n), rng.normal(0.0, 0.05, n))
    yaw = np.where(rng.random(n) < 0.15, yaw + math.pi, yaw)  # oncoming
    length = rng.choice([0.6, 1.8, 4.6, 10.0], n)
    if long_agents:
        length[rng.integers(n)] = 30.0  # a 30 m body: the 20 m skip of the scan matters
    width = np.where(length < 1.0, 0.6, np.where(length < 2.0, 0.7, rng.uniform(1.8, 2.5, n)))
    # snap some positions to a 0.5 m grid so that equal gaps (ties) occur
    x = rng.uniform(0.0, 120.0, n)
    x = np.where(rng.random(n) < 0.4, np.round(x * 2) / 2, x)
    y = lanes + rng.normal(0.0, 0.6, n)
    return {
        "x": x,
        "y": y,
        "c": np.cos(yaw),
        "s": np.sin(yaw),
        "v": rng.uniform(0.0, 30.0, n),
        "length": length,
        "width": width,
        "radius": 0.5 * np.sqrt(length**2 + width**2),
    }


@pytest.mark.parametrize("long_agents", [False, True])
def test_indexed_leader_equals_all_pairs_scan(long_agents: bool) -> None:
    rng = np.random.default_rng(7 if long_agents else 3)
    n_found = n_ties = 0
    n_calls = len(_OPEN)
    for trial in range(3000):
        n = int(rng.integers(2, 17))
        wd = _random_world(rng, n, long_agents)
        if trial % 7 == 0:  # duplicated agent: two boxes with the same gap
            for key in wd:
                wd[key][n - 1] = wd[key][n - 2]
        i = int(rng.integers(n))
        excl = int(rng.choice([-1, 0]))
        heading = math.atan2(wd["s"][i], wd["c"][i]) + rng.normal(0.0, 0.05)
        ci, si = math.cos(heading), math.sin(heading)
        hk = float(rng.choice([0.0, rng.normal(0.0, 0.01)]))
        shift = float(rng.choice([0.0, 3.7, -3.7, rng.uniform(-4.0, 4.0)]))
        args = (wd["x"], wd["y"], wd["c"], wd["s"], wd["v"])
        frame = (wd["x"][i], wd["y"][i], ci, si, hk, shift)
        ref = _all_pairs_leader(i, excl, *args, wd["radius"], wd["length"], wd["width"], *frame)
        exact_skip = 0.5 * wd["length"].max() + wd["radius"].max() <= 20.0
        # (a duplicated agent may overwrite the long one)
        assert bool(exact_skip) is not long_agents or trial % 7 == 0
        got, keys = _kernel_leader(i, excl, wd, ci, si, hk, shift, exact_skip)
        # the all-at-once ranking gives each agent the key of its own one-agent pass
        for k in range(n):
            hw, hl = 0.5 * wd["width"][k] + CORRIDOR_MARGIN_M, 0.5 * wd["length"][k]
            ck, sk = (ci, si) if k == i else (wd["c"][k], wd["s"][k])
            own = _rank_min(
                k, excl if k == i else -1, wd["x"], wd["y"], wd["c"], wd["s"], wd["length"],
                wd["width"], n, wd["x"][k], wd["y"][k], ck, sk, hk if k == i else 0.0, hw, hl,
                shift if k == i else 0.0, np.int64(-1),
            )  # fmt: skip
            assert keys[k] == own, f"trial {trial}, agent {k}: {keys[k]} != {own}"
        if got[0] != ref[0]:  # only two gaps within the ranking resolution may swap
            assert got[0] >= 0 and ref[0] >= 0, f"trial {trial}: {got} != all-pairs {ref}"
            assert abs(got[1] - ref[1]) <= RANK_RES_M, f"trial {trial}: {got} != {ref}"
        else:
            assert got[1] == pytest.approx(ref[1], abs=1e-9)
        n_found += ref[0] >= 0
        n_ties += trial % 7 == 0 and ref[0] == n - 2
    # the random worlds exercise both outcomes and the first-index tie rule
    assert 500 < n_found < 2900
    assert n_ties > 5
    # and both answers of _lead_rows: a winner taken, a crossing winner left to the search
    n_open = sum(_OPEN[n_calls:])
    if not long_agents:
        assert 100 < n_open < 2000


@pytest.mark.parametrize(
    ("x1", "x2", "want"),
    [
        (20.0, 20.0 + 3e-5, 1),  # 30 um apart: resolved
        (20.0 + 3e-5, 20.0, 2),
        (20.0, 20.0, 1),  # equal gaps: the first index, as the scan
        (35.0, 35.0 + 1e-3, 1),
    ],
)
def test_leader_rank_resolution_and_first_index_rule(x1: float, x2: float, want: int) -> None:
    x = np.array([0.0, x1, x2])
    y = np.zeros(3)
    c, s = np.ones(3), np.zeros(3)
    v = np.array([20.0, 10.0, 10.0])
    length = np.array([4.6, 4.6, 4.6])
    width = np.full(3, 1.9)
    wd = {"x": x, "y": y, "c": c, "s": s, "v": v, "length": length, "width": width}
    (j, gap), keys = _kernel_leader(0, -1, wd, 1.0, 0.0, 0.0, 0.0, True)
    assert j == want
    assert keys[int(np.argmax(x))] == RANK_NONE  # the front car has nobody ahead
    assert gap == pytest.approx(x[want] - 4.6, abs=1e-12)
