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

from generator.world.geometry import world_to_road0
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
    s_e, _ = world_to_road0(layout, xs[:, 0, :], ys[:, 0, :])

    def frenet(i: int) -> tuple[np.ndarray, ...]:
        s, t = world_to_road0(layout, xs[:, i, :], ys[:, i, :])
        r = layout.curve_radius_m
        road_h = 0.0 if r is None else s / r
        rel = yaws[:, i, :].astype(np.float64) - road_h
        a = scene.agents[i]
        ext = 0.5 * (a.length_m * np.abs(np.sin(rel)) + a.width_m * np.abs(np.cos(rel)))
        overlap = np.minimum(t + ext, hi) - np.maximum(t - ext, lo)
        in_lane = overlap >= min(OVERLAP_M, ext.min() if ext.size else OVERLAP_M)
        centred = (t > lo) & (t < hi)
        ds = (s - s_e) * ego_sign
        ahead = (ds > -0.5 * ego.length_m) & (ds < AHEAD_M)  # in front of the ego's rear
        return in_lane, centred, ahead

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
