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
        _road0_frame(xs, ys, yaws, i, r, r_head, a.length_m, a.width_m, s, t, ext)
        flags = buffers.empty((3, *wt), np.bool_)  # in_lane, centred, ahead
        _lane_flags(s, t, ext, s_e, lo, hi, ego_sign, ego.length_m, flags)
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


@njit(cache=True, parallel=True)
def _road0_frame(xs, ys, yaws, i, r, r_head, length, width, s_out, t_out, ext_out):
    """Road-0 coordinates of agent ``i`` for every world and step (``geometry.world_to_road0``,
    exact for straight (``r`` = 0) and arc roads) and its half extent across the road
    [m]: ``0.5 (length |sin(rel)| + width |cos(rel)|)``, rel = yaw - s / ``r_head`` (the road
    heading; ``r_head`` = 0: straight)."""
    n_w, _, n_t = xs.shape
    for w in prange(n_w):  # 2160 worlds x 81 steps: ~3 ms on one core
        for k in range(n_t):
            x = np.float64(xs[w, i, k])
            y = np.float64(ys[w, i, k])
            if r == 0.0:
                s = x
                t = y
            else:
                th = np.arctan2(x / r, (r - y) / r)
                d = np.hypot(x, y - r)
                s = r * th
                t = r - (1.0 if r > 0.0 else -1.0) * d
            road_h = 0.0 if r_head == 0.0 else s / r_head
            rel = np.float64(yaws[w, i, k]) - road_h
            s_out[w, k] = s
            t_out[w, k] = t
            if length > 0.0 or width > 0.0:  # (the ego's call wants s only)
                ext_out[w, k] = 0.5 * (length * abs(np.sin(rel)) + width * abs(np.cos(rel)))
            else:
                ext_out[w, k] = 0.0


@njit(cache=True)
def _lane_flags(s, t, ext, s_e, lo, hi, ego_sign, ego_length, flags):
    """``flags[0]`` in the ego lane (box overlaps the band [lo, hi] by ``OVERLAP_M``, or by
    its smallest extent when that is less), ``flags[1]`` centred in it, ``flags[2]`` ahead of
    the ego's rear and less than ``AHEAD_M`` in front of its centre; per [W, T]."""
    n_w, n_t = s.shape
    thr = OVERLAP_M
    for w in range(n_w):
        for k in range(n_t):
            thr = min(thr, ext[w, k])
    for w in range(n_w):
        for k in range(n_t):
            tk = t[w, k]
            overlap = min(tk + ext[w, k], hi) - max(tk - ext[w, k], lo)
            flags[0, w, k] = overlap >= thr
            flags[1, w, k] = (tk > lo) and (tk < hi)
            ds = (s[w, k] - s_e[w, k]) * ego_sign
            flags[2, w, k] = (ds > -0.5 * ego_length) and (ds < AHEAD_M)
