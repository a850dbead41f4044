"""Did the intended corner case actually happen? (per world, vectorised over worlds and steps)

Collision, off-road, min TTC, comfort and physics checks run inside the numba kernels
(``kernels.py``); this module adds the family-specific ``corner_case_occurred`` flag, computed
from the trajectories in road-0 coordinates (s along, t left).

"Ego lane" is the ego's *start* lane (the corner case is defined against it, whatever the ego
does afterwards). "Ahead" means the actor's centre is in front of the ego's rear end and less than ``AHEAD_M``
metres ahead of the ego's centre along road 0 (in the ego's travel direction). "In the lane" means the actor's box
overlaps the lane band laterally by at least ``OVERLAP_M``; "centred in the lane" means its
centre is inside the band.

Per family (primary actor = first agent with role hazard):

* lead stopped / static obstacle / animal: a hazard is in the ego lane ahead of the ego while the
  ego is within ``AHEAD_M`` of it.
* lead braking: the primary, in the ego lane ahead, decelerates at <= -1.5 m/s².
* lead slower: the primary, in the ego lane ahead, is slower than the ego (by > 0.5 m/s).
* cut-in: the primary starts outside the ego lane and is later centred in it, ahead of the ego.
* cut-out: the primary starts in the ego lane ahead and later leaves it (centre outside), and
  (when there is a second hazard) that one is in the ego lane ahead at the end.
* pedestrian / child / cyclist crossing, left turn across path, oncoming in lane: the primary
  enters the ego lane ahead of the ego after starting outside it (oncoming: centred in it).
* pedestrian / cyclist along: the primary is in the ego lane ahead and the ego closes in on it.
* red-light runner: the primary enters the ego lane ahead of the ego; if its road has a traffic
  light, that light is red (or yellow) when it first enters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit, prange

from generator import buffers
from scenario_library.scene import (
    AgentRole,
    HazardFamily,
    Scene,
    lane_bounds_t,
)

AHEAD_M = 80.0
OVERLAP_M = 0.2
BRAKING_MPS2 = -1.5

_STOPPED_LIKE = {HazardFamily.LEAD_STOPPED, HazardFamily.STATIC_OBSTACLE, HazardFamily.ANIMAL}
_ENTERS = {
    HazardFamily.PED_NEARSIDE,
    HazardFamily.PED_FARSIDE,
    HazardFamily.CHILD_OCCLUDED,
    HazardFamily.CYCLIST_CROSSING,
    HazardFamily.LEFT_TURN_ACROSS,
}
_ALONG = {HazardFamily.PED_ALONG, HazardFamily.CYCLIST_ALONG}


def corner_case_occurred(
    scene: Scene,
    xs: np.ndarray,
    ys: np.ndarray,
    yaws: np.ndarray,
    vs: np.ndarray,
    accs: np.ndarray,
    lights: np.ndarray,
    light_ids: Sequence[str],
) -> np.ndarray:
    """[W] bool: the scene's hazard family really played out in each world (see module doc)."""
    n_w = xs.shape[0]
    hazards = [i for i, a in enumerate(scene.agents) if a.role is AgentRole.HAZARD]
    if not hazards:
        return np.zeros(n_w, bool)
    layout = scene.road
    ego = scene.agents[0]
    lo, hi = sorted(lane_bounds_t(layout, ego.start.road_id, ego.start.lane_id))
    ego_sign = 1.0 if ego.start.lane_id < 0 else -1.0
    radius = layout.curve_radius_m
    r = 0.0 if radius is None or abs(radius) > 1e7 else float(radius)  # as world_to_road0
    r_head = 0.0 if radius is None else float(radius)
    # [W, T] scratch from the recycled pool: fresh 1.4 MB arrays cost more in page faults
    # (2160 worlds) than the pass that fills them
    wt = xs.shape[::2]
    s_e = buffers.empty(wt, np.float64)  # the ego's s
    s, t, ext = (buffers.empty(wt, np.float64) for _ in range(3))  # one agent's, reused
    _road0_frame(xs, ys, yaws, 0, r, r_head, 0.0, 0.0, s_e, t, ext)

    def frenet(i: int) -> tuple[np.ndarray, ...]:
        a = scene.agents[i]
        # overlap threshold: OVERLAP_M, or the agent's smallest extent across the road over
        # all worlds and steps when that is less (only thin agents need the extents for it)
        thr = OVERLAP_M
        if _extent_bounds(a.length_m, a.width_m)[0] < OVERLAP_M:
            _road0_frame(xs, ys, yaws, i, r, r_head, a.length_m, a.width_m, s, t, ext)
            thr = min(OVERLAP_M, float(ext.min()))
        flags = buffers.empty((3, *wt), np.bool_)  # in_lane, centred, ahead
        _lane_flags(
            xs, ys, yaws, i, r, r_head, a.length_m, a.width_m, s_e, lo, hi, ego_sign,
            ego.length_m, thr, flags,
        )  # fmt: skip
        return flags[0], flags[1], flags[2]

    fam = scene.scenario.family
    p = hazards[0]
    in_lane, centred, ahead = frenet(p)
    if fam in _STOPPED_LIKE:
        occ = np.zeros(n_w, bool)
        for h in hazards:
            il, _, ah = frenet(h)
            occ |= (il & ah).any(axis=1)
        return occ
    if fam is HazardFamily.LEAD_BRAKING:
        return (in_lane & ahead & (accs[:, p, :] <= BRAKING_MPS2)).any(axis=1)
    if fam is HazardFamily.LEAD_SLOWER:
        return (in_lane & ahead & (vs[:, 0, :] > vs[:, p, :] + 0.5)).any(axis=1)
    if fam is HazardFamily.CUT_IN:
        return ~centred[:, 0] & (centred & ahead).any(axis=1)
    if fam is HazardFamily.CUT_OUT:
        was = (centred & ahead)[:, 0]
        left = (~centred[:, 1:]).any(axis=1)
        occ = was & left
        if len(hazards) > 1:
            il2, _, ah2 = frenet(hazards[1])
            occ &= (il2 & ah2)[:, -1] | (il2 & ah2).any(axis=1)
        return occ
    if fam is HazardFamily.ONCOMING_IN_LANE:
        return (centred & ahead).any(axis=1)
    if fam in _ENTERS:
        return ~in_lane[:, 0] & (in_lane & ahead).any(axis=1)
    if fam in _ALONG:
        return (in_lane & ahead & (vs[:, 0, :] > vs[:, p, :] + 0.5)).any(axis=1)
    if fam is HazardFamily.RED_LIGHT_RUNNER:
        hit = in_lane & ahead
        occ = ~in_lane[:, 0] & hit.any(axis=1)
        road = scene.agents[p].start.road_id
        li = [k for k, tl in enumerate(scene.traffic_lights) if tl.road_id == road]
        if li and lights.shape[0] > li[0]:
            first = np.argmax(hit, axis=1)
            state = lights[li[0]][first]
            occ &= state != 0  # 0 green, 1 yellow, 2 red: not green when it entered
        return occ
    return (in_lane & ahead).any(axis=1)


@njit(cache=True)
def _extent_bounds(length: float, width: float) -> tuple[float, float]:
    """Bounds [m] on ``0.5 (length |sin a| + width |cos a|)`` over every angle a: half the
    smaller dimension and half the diagonal, widened by 1e-9 relative so that they also bound
    the rounded value :func:`_road0_frame` computes."""
    return 0.5 * min(length, width) * (1.0 - 1e-9), 0.5 * math.hypot(length, width) * (1.0 + 1e-9)


@njit(cache=True, inline="always")
def _road0_point(x, y, r):
    """(s, t) of a point in road-0 coordinates (``geometry.world_to_road0``: straight for
    ``r`` = 0, else an arc of radius ``r``)."""
    if r == 0.0:
        return x, y
    th = np.arctan2(x / r, (r - y) / r)
    d = np.hypot(x, y - r)
    return r * th, r - (1.0 if r > 0.0 else -1.0) * d


@njit(cache=True, inline="always")
def _half_extent(yaw, s, r_head, length, width):
    """Half extent [m] across road 0 of a box with heading ``yaw`` at road coordinate ``s``:
    ``0.5 (length |sin(rel)| + width |cos(rel)|)``, rel = yaw - s / ``r_head`` (0: straight)."""
    road_h = 0.0 if r_head == 0.0 else s / r_head
    rel = yaw - road_h
    return 0.5 * (length * abs(np.sin(rel)) + width * abs(np.cos(rel)))


@njit(cache=True, parallel=True)
def _road0_frame(xs, ys, yaws, i, r, r_head, length, width, s_out, t_out, ext_out):
    """Road-0 coordinates of agent ``i`` for every world and step (:func:`_road0_point`) and
    its half extent across the road (:func:`_half_extent`; 0 when ``length`` and ``width``
    are 0: the ego's call wants s only)."""
    n_w, _, n_t = xs.shape
    for w in prange(n_w):
        for k in range(n_t):
            s, t = _road0_point(np.float64(xs[w, i, k]), np.float64(ys[w, i, k]), r)
            s_out[w, k] = s
            t_out[w, k] = t
            if length > 0.0 or width > 0.0:
                ext_out[w, k] = _half_extent(np.float64(yaws[w, i, k]), s, r_head, length, width)
            else:
                ext_out[w, k] = 0.0


@njit(cache=True, inline="always")
def _overlap(t, ext, lo, hi):
    """Overlap [m] of the band [t - ext, t + ext] with [lo, hi]; never decreases as ext grows
    (also in floating point: rounding is monotone)."""
    return min(t + ext, hi) - max(t - ext, lo)


@njit(cache=True, parallel=True)
def _lane_flags(
    xs, ys, yaws, i, r, r_head, length, width, s_e, lo, hi, ego_sign, ego_length, thr, flags
):
    """Per world and step, for agent ``i``: ``flags[0]`` in the ego lane (its box overlaps
    the band [lo, hi] by ``thr``), ``flags[1]`` centred in it, ``flags[2]`` ahead of the ego's
    rear and less than ``AHEAD_M`` in front of its centre (``s_e``: the ego's s).

    The overlap never decreases with the box's extent across the road, so the extent's bounds
    (:func:`_extent_bounds`) decide most steps; the extent itself (sin, cos) is computed only
    between them, and the flag is the one the exact extent gives."""
    n_w, _, n_t = xs.shape
    e_lo, e_hi = _extent_bounds(length, width)
    for w in prange(n_w):
        for k in range(n_t):
            s, t = _road0_point(np.float64(xs[w, i, k]), np.float64(ys[w, i, k]), r)
            if _overlap(t, e_lo, lo, hi) >= thr:
                in_lane = True
            elif _overlap(t, e_hi, lo, hi) < thr:
                in_lane = False
            else:
                ext = _half_extent(np.float64(yaws[w, i, k]), s, r_head, length, width)
                in_lane = _overlap(t, ext, lo, hi) >= thr
            flags[0, w, k] = in_lane
            flags[1, w, k] = (t > lo) and (t < hi)
            ds = (s - s_e[w, k]) * ego_sign
            flags[2, w, k] = (ds > -0.5 * ego_length) and (ds < AHEAD_M)
