"""Placement of the hazard actor(s) of each family, so that the corner case WILL happen.

Every placer turns a family's parameters into agents and scripted manoeuvres, following the
manoeuvre semantics of ``scenario_library.scene`` as implemented by the rollout engine:

* TTC trigger = ego-frame longitudinal gap (ego front to the actor's nearest point along the
  ego heading) / max(ego speed - actor speed along the ego heading, 0.1).
* Timing assumes the ego keeps its initial speed until the hazard starts (nothing is ahead of it
  in its lane except the hazard itself): the ego is at ``ego_s0`` driving ``v_e`` and the first
  ``LEAD_IN_S`` seconds are calm, then the hazard unfolds and culminates at ``event_time_s``
  (the nominal collision / conflict time if nobody reacted). Hazard actors are scripted and do
  not react to the ego.
* Crossing pedestrians, children and cyclists stand still (on the sidewalk / shoulder /
  between parked cars; cyclists wait on the carriageway edge) and start at a TTC trigger equal
  to the time they need to reach the impact point, accelerating at the start-up acceleration
  they declare in ``Manoeuvre.accel_mps2`` (> 0) up to ``target_speed_mps`` (synchronised like
  Euro NCAP's targets). Animals are already running towards the road at t = 0 (from the verge
  / forest), timed to reach the impact point when the ego does.
* Vehicles that cross the ego's path at a junction (left turner, red-light runner) move at
  constant speed from t = 0, timed to reach the conflict point at ``time_to_conflict_s`` (+
  ``arrival_offset_s``, <= 0) together with the ego. The left turner follows a cubic Bezier
  connector from the junction-box edge of its lane into road 1 lane +1 (tangents along both
  lanes, control distance 0.55 x chord), the connector the engine builds.
* Pull-outs (urban parking lane, rural shoulder) accelerate from standstill at
  ``accel_mps2`` = target speed / lane-change duration.

Each placer also returns a coarse ``Track`` per hazard (road-0 lanes occupied over time) so that
background traffic can be kept out of the way of the corner case.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from scenario_library.scene import (
    AgentInit,
    AgentRole,
    HazardFamily,
    LaneRef,
    Manoeuvre,
    ManoeuvreKind,
    RoadContext,
    RoadLayout,
    Trigger,
    TriggerKind,
    Weather,
    lane_bounds_t,
    lane_center_t,
    lane_kind,
)
from scenario_library.taxonomy.layouts import (
    ADULT,
    BARRIER,
    CAR,
    CHILD,
    CROSSWALK_WIDTH_M,
    CYCLIST,
    DEBRIS,
    DEER,
    DOG,
    EGO_BODY,
    LEAD_IN_S,
    TRAILER,
    TRUCK,
    VAN,
    Body,
    agent_at,
    junction_box_half,
    kerb_t,
    lane_at,
    lanes_covering,
    outer_edge_t,
    side_lanes,
    stop_line_offsets,
)

F = HazardFamily
US, UI, HW, RC = (
    RoadContext.URBAN_STRAIGHT,
    RoadContext.URBAN_INTERSECTION,
    RoadContext.HIGHWAY,
    RoadContext.RURAL_CURVE,
)
HAZ, PARKED = AgentRole.HAZARD, AgentRole.PARKED
TRACK_DT_S = 0.25


class Infeasible(Exception):
    """These parameters cannot produce the corner case (reason in ``args[0]``)."""


@dataclass(frozen=True)
class Track:
    """Coarse nominal occupancy of road 0 by one hazard / parked agent."""

    times_s: np.ndarray
    s_m: np.ndarray
    lanes: tuple[frozenset[int], ...]
    length_m: float


@dataclass
class Placement:
    agents: list[AgentInit]
    manoeuvres: list[Manoeuvre]
    tracks: list[Track]
    event_time_s: float
    junction_s: float | None = None
    arm_length_m: float | None = None
    #: road-1 lanes where background cars may queue at the junction
    road1_queue_lanes: tuple[int, ...] = (-1, 1)


@dataclass(frozen=True)
class Ctx:
    family: HazardFamily
    ctx: RoadContext
    weather: Weather
    p: dict[str, float]
    road: RoadLayout
    horizon_s: float
    ego_s0: float
    v_e: float
    t_e: float
    times: np.ndarray = field(repr=False)

    @property
    def ego_front(self) -> float:
        return self.ego_s0 + EGO_BODY.length_m / 2

    def kmh(self, name: str) -> float:
        return self.p[name] / 3.6

    def junction_after(self, anchor_s: float, extra_m: float = 0.0) -> float:
        """Junction centre such that road 0's stop line lies ``extra_m`` beyond ``anchor_s``."""
        return anchor_s + extra_m + stop_line_offsets(self.road)[0]


# ------------------------------------------------------------------------------ small helpers
def _track(c: Ctx, body_len: float, fn: Callable[[float], tuple[float, float, float]]) -> Track:
    """fn(time) -> (s, t_lo, t_hi) on road 0."""
    s, lanes = [], []
    for tau in c.times:
        si, lo, hi = fn(float(tau))
        s.append(si)
        lanes.append(lanes_covering(c.road, lo, hi))
    return Track(c.times, np.asarray(s), tuple(lanes), body_len)


def _static_track(c: Ctx, a: AgentInit, t: float) -> Track:
    return _track(c, a.length_m, lambda tau: (a.s_m, t - a.width_m / 2, t + a.width_m / 2))


def _overlap_offset(overlap_pct: float, body: Body) -> float:
    """Lateral offset of a target from the ego lane centre giving that overlap [m], + left."""
    f = abs(overlap_pct) / 100.0
    d = (EGO_BODY.width_m + body.width_m) / 2 - f * EGO_BODY.width_m
    d = max(d, 0.0)
    return -d if overlap_pct >= 0 else d


def _smooth(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x - math.sin(2 * math.pi * x) / (2 * math.pi)


def _keep(agent_id: str, speed: float) -> Manoeuvre:
    return Manoeuvre(
        agent_id=agent_id,
        kind=ManoeuvreKind.KEEP,
        trigger=Trigger(kind=TriggerKind.TIME, value=0.0),
        target_speed_mps=speed,
    )


def _lane_change_track(
    c: Ctx,
    a: AgentInit,
    t0: float,
    t1: float,
    t_start: float,
    dur: float,
    s_of: Callable[[float], float],
) -> Track:
    """Lanes swept by a lateral manoeuvre; from its start the same-direction neighbours of the
    target lane count as occupied too (traffic there could change into the target lane at the
    same moment)."""

    def fn(tau: float) -> tuple[float, float, float]:
        t = t0 + (t1 - t0) * _smooth((tau - t_start) / dur)
        return s_of(tau), t - a.width_m / 2, t + a.width_m / 2

    tr = _track(c, a.length_m, fn)
    target = lane_at(c.road, 0, t1)
    if target is None:
        return tr
    side = -1 if target < 0 else 1
    neighbours = frozenset(
        x
        for x in side_lanes(c.road, 0, side)
        if abs(abs(x) - abs(target)) == 1 and lane_kind(c.road, 0, x) == "driving"
    )
    lanes = tuple(
        ln | neighbours if tau >= t_start else ln
        for tau, ln in zip(tr.times_s, tr.lanes, strict=True)
    )
    return Track(tr.times_s, tr.s_m, lanes, tr.length_m)


def _heading_towards(lane: int, direction: int) -> float:
    """Heading relative to ``lane``'s travel direction for moving towards +t (1) / -t (-1)."""
    left_of_travel = 1 if lane < 0 else -1  # +t is left of travel for right lanes
    return math.pi / 2 if direction == left_of_travel else -math.pi / 2


def _resolved_lane(road: RoadLayout, t: float) -> int:
    lane = lane_at(road, 0, t)
    if lane is not None:
        return lane
    side = -1 if t < 0 else 1
    lanes = side_lanes(road, 0, side)
    inner = abs(t) < abs(lane_bounds_t(road, 0, lanes[0])[0]) + 1e-9
    return lanes[0] if inner else lanes[-1]


# ------------------------------------------------------------------------------ vehicle ahead
def _lead_stopped(c: Ctx) -> Placement:
    """CCRs: a stopped car at ``ttc_at_start_s`` ahead, offset by ``overlap_pct``."""
    body = CAR
    s = c.ego_front + c.v_e * c.p["ttc_at_start_s"] + body.length_m / 2
    t = c.t_e + _overlap_offset(c.p["overlap_pct"], body)
    a = agent_at("hazard", body, HAZ, c.road, s_m=s, t_m=t, desired_speed_mps=0.0)
    j = c.junction_after(s + body.length_m / 2) if c.ctx is UI else None
    return Placement(
        [a], [_keep("hazard", 0.0)], [_static_track(c, a, t)], c.p["ttc_at_start_s"], junction_s=j
    )


def _lead_braking(c: Ctx) -> Placement:
    """CCRb: lead at the ego's speed and ``headway_s``; brakes at ``brake_onset_s``."""
    body, v = CAR, c.v_e
    dec, on = c.p["lead_decel_mps2"], c.p["brake_onset_s"]
    s0 = c.ego_front + v * c.p["headway_s"] + body.length_m / 2
    a = agent_at("hazard", body, HAZ, c.road, s_m=s0, lane=-1, speed_mps=v, desired_speed_mps=v)
    m = Manoeuvre(
        agent_id="hazard",
        kind=ManoeuvreKind.BRAKE,
        trigger=Trigger(kind=TriggerKind.TIME, value=on),
        target_speed_mps=0.0,
        accel_mps2=-dec,
    )
    t_stop = v / dec

    def s_of(tau: float) -> float:
        if tau <= on:
            return s0 + v * tau
        dt = min(tau - on, t_stop)
        return s0 + v * on + v * dt - 0.5 * dec * dt * dt

    tr = _track(c, body.length_m, lambda tau: (s_of(tau), c.t_e - 1.0, c.t_e + 1.0))
    stop_front = s0 + body.length_m / 2 + v * on + v * v / (2 * dec)
    j = c.junction_after(stop_front) if c.ctx is UI else None
    return Placement([a], [m], [tr], on + min(t_stop, 2.0), junction_s=j)


def _lead_slower(c: Ctx) -> Placement:
    """CCRm: slower lead at constant speed, gap = closing speed x ``ttc_at_start_s``."""
    body = TRUCK if c.ctx in (HW, RC) else CAR
    vl, ttc = c.kmh("lead_speed_kmh"), c.p["ttc_at_start_s"]
    s0 = c.ego_front + (c.v_e - vl) * ttc + body.length_m / 2
    t = c.t_e + _overlap_offset(c.p["overlap_pct"], body)
    a = agent_at("hazard", body, HAZ, c.road, s_m=s0, t_m=t, speed_mps=vl, desired_speed_mps=vl)
    tr = _track(
        c, body.length_m, lambda tau: (s0 + vl * tau, t - body.width_m / 2, t + body.width_m / 2)
    )
    j = c.junction_after(s0 + body.length_m / 2 + vl * ttc, 10.0) if c.ctx is UI else None
    return Placement([a], [_keep("hazard", vl)], [tr], ttc, junction_s=j)


def _cut_in(c: Ctx) -> Placement:
    """A car starts entering the ego lane at ``LEAD_IN_S`` and is centred in it
    ``lane_change_duration_s`` later, its rear ``cut_in_gap_m`` ahead of the ego's front: from
    lane -2 (highway, intersection) at constant speed, or pulling out from standstill (parking
    lane on the urban straight, shoulder on the rural road) accelerating at speed/duration."""
    body, va, gap, dur = (
        CAR,
        c.kmh("cut_in_speed_kmh"),
        c.p["cut_in_gap_m"],
        c.p["lane_change_duration_s"],
    )
    T = LEAD_IN_S
    rear_at_end = c.ego_front + c.v_e * (T + dur) + gap
    agents: list[AgentInit] = []
    tracks: list[Track] = []
    accel: float | None = None
    if c.ctx in (HW, UI):
        s0 = rear_at_end + body.length_m / 2 - va * (T + dur)
        t0 = lane_center_t(c.road, 0, -2)
        a = agent_at(
            "hazard", body, HAZ, c.road, s_m=s0, lane=-2, speed_mps=va, desired_speed_mps=va
        )

        def s_of(tau: float) -> float:
            return s0 + va * tau
    else:
        accel = va / dur
        s0 = rear_at_end + body.length_m / 2 - 0.5 * va * dur
        if c.ctx is US:  # parked car pulling out in front of another parked car (a free
            # space ahead: a car parked right in front would block the pull-out)
            t0 = lane_center_t(c.road, 0, -2)
            a = agent_at("hazard", body, HAZ, c.road, s_m=s0, lane=-2, desired_speed_mps=0.0)
            for k, ds in enumerate((-6.5,)):
                pk = agent_at(
                    f"parked{k}", CAR, PARKED, c.road, s_m=s0 + ds, lane=-2, desired_speed_mps=0.0
                )
                agents.append(pk)
                tracks.append(_static_track(c, pk, t0))
        else:  # rural: from the shoulder
            t0 = lane_bounds_t(c.road, 0, -1)[1] - c.road.shoulder_width_m / 2
            a = agent_at("hazard", body, HAZ, c.road, s_m=s0, t_m=t0, desired_speed_mps=0.0)

        def s_of(tau: float) -> float:
            return s0 + _ramp_dist_m(tau - T, va, va / dur)

    m = Manoeuvre(
        agent_id="hazard",
        kind=ManoeuvreKind.LANE_CHANGE,
        trigger=Trigger(kind=TriggerKind.TIME, value=T),
        target_speed_mps=va,
        accel_mps2=accel,
        target_lane=LaneRef(road_id=0, lane_id=-1),
        duration_s=dur,
    )
    tracks.insert(0, _lane_change_track(c, a, t0, c.t_e, T, dur, s_of))
    j = c.junction_after(s_of(T + dur), 30.0) if c.ctx is UI else None
    return Placement([a, *agents], [m], tracks, T + dur, junction_s=j)


def _cut_out(c: Ctx) -> Placement:
    """The lead (at the ego's speed, ``headway_s``) changes lane at ``LEAD_IN_S`` and reveals
    a stopped vehicle the ego reaches ``reveal_ttc_s`` later: to lane -2 where there is one,
    else into the free oncoming lane (overtaking it)."""
    v, dur, T = c.v_e, c.p["lane_change_duration_s"], LEAD_IN_S
    lead, stopped = CAR, (VAN if c.ctx is US else CAR)
    s_l = c.ego_front + v * c.p["headway_s"] + lead.length_m / 2
    s_st = c.ego_front + v * T + v * c.p["reveal_ttc_s"] + stopped.length_m / 2
    if s_st - stopped.length_m / 2 - (s_l + lead.length_m / 2 + v * T) < 0.75 * dur * v:
        raise Infeasible("the lead cannot clear the stopped vehicle")
    target = -2 if c.ctx in (HW, UI) else 1
    a = agent_at("hazard", lead, HAZ, c.road, s_m=s_l, lane=-1, speed_mps=v, desired_speed_mps=v)
    b = agent_at("hazard2", stopped, HAZ, c.road, s_m=s_st, lane=-1, desired_speed_mps=0.0)
    m = Manoeuvre(
        agent_id="hazard",
        kind=ManoeuvreKind.LANE_CHANGE,
        trigger=Trigger(kind=TriggerKind.TIME, value=T),
        target_speed_mps=v,
        target_lane=LaneRef(road_id=0, lane_id=target),
        duration_s=dur,
    )
    tr = _lane_change_track(
        c, a, c.t_e, lane_center_t(c.road, 0, target), T, dur, lambda tau: s_l + v * tau
    )
    j = c.junction_after(s_st + stopped.length_m / 2) if c.ctx is UI else None
    return Placement(
        [a, b],
        [m, _keep("hazard2", 0.0)],
        [tr, _static_track(c, b, c.t_e)],
        T + max(dur, c.p["reveal_ttc_s"]),
        junction_s=j,
    )


# ---------------------------------------------------------------------------------- crossing
#: start-up acceleration declared on standing-start crossings (``Manoeuvre.accel_mps2`` > 0)
START_ACCEL_MPS2 = {id(ADULT): 2.5, id(CHILD): 2.5, id(CYCLIST): 2.0}


def ramp_time_s(dist_m: float, speed_mps: float, accel_mps2: float) -> float:
    """Time to cover ``dist_m`` from standstill accelerating at ``accel_mps2`` up to
    ``speed_mps`` and then holding it."""
    d_ramp = speed_mps * speed_mps / (2 * accel_mps2)
    if dist_m <= d_ramp:
        return math.sqrt(2 * dist_m / accel_mps2)
    return dist_m / speed_mps + speed_mps / (2 * accel_mps2)


def _ramp_dist_m(tau: float, speed_mps: float, accel_mps2: float) -> float:
    if tau <= 0:
        return 0.0
    t_ramp = speed_mps / accel_mps2
    if tau <= t_ramp:
        return 0.5 * accel_mps2 * tau * tau
    return 0.5 * speed_mps * t_ramp + speed_mps * (tau - t_ramp)


def _impact_t(c: Ctx, from_left: bool) -> float:
    w, pct = EGO_BODY.width_m, c.p["impact_point_pct"] / 100.0
    return c.t_e + w / 2 - pct * w if from_left else c.t_e - w / 2 + pct * w


def _kerb_line(c: Ctx, from_left: bool) -> float:
    """Where a crossing pedestrian stands / an animal passes at ``LEAD_IN_S``."""
    if c.ctx in (US, UI):
        return kerb_t(c.road, 1) + 0.7 if from_left else kerb_t(c.road, -1) - 0.7
    if c.ctx is HW:
        if from_left:  # in the median, at the barrier
            return -c.road.median_width_m / 2 + 0.5
        return outer_edge_t(c.road, -1) + c.road.shoulder_width_m / 2  # hard shoulder
    return outer_edge_t(c.road, 1) + 0.8 if from_left else outer_edge_t(c.road, -1) - 0.8


def _edge_line(c: Ctx, from_left: bool, body: Body) -> float:
    """Where a cyclist waits: on the carriageway edge (parking lane, shoulder, kerb-side lane;
    the median on the highway), its whole body inside the paved area."""
    if c.ctx is HW and from_left:
        return 0.0
    half = body.length_m / 2 + 0.1
    return outer_edge_t(c.road, 1) - half if from_left else outer_edge_t(c.road, -1) + half


def _cross(
    c: Ctx, body: Body, speed: float, from_left: bool, t_start: float, moving: bool
) -> tuple[AgentInit, Manoeuvre, Track, float, float]:
    """A crossing actor timed to reach the impact point when the ego does.

    Standing start (pedestrians, children, cyclists): TTC trigger = time to cover the distance
    to the impact point with the declared start-up acceleration. Moving start (animals): already
    running at t = 0, passing ``t_start`` at ``LEAD_IN_S``.
    Returns (agent, manoeuvre, track, conflict time, s of the crossing line)."""
    direction = -1 if from_left else 1
    t_imp = _impact_t(c, from_left)
    dist = (t_imp - t_start) * direction
    if dist <= 0.2:
        raise Infeasible("crossing actor starts past the impact point")
    accel = START_ACCEL_MPS2.get(id(body), 3.0)
    walk = dist / speed if moving else ramp_time_s(dist, speed, accel)
    t_conf = LEAD_IN_S + walk
    s_p = c.ego_front + c.v_e * t_conf + body.width_m / 2
    t0 = t_start - direction * speed * LEAD_IN_S if moving else t_start
    lane = _resolved_lane(c.road, t0)
    heading = _heading_towards(lane, direction)
    a = agent_at(
        "hazard",
        body,
        HAZ,
        c.road,
        s_m=s_p,
        t_m=t0,
        lane=lane,
        speed_mps=speed if moving else 0.0,
        heading_rad=heading,
        desired_speed_mps=speed if moving else 0.0,
    )
    if moving:
        m = Manoeuvre(
            agent_id="hazard",
            kind=ManoeuvreKind.CROSS,
            trigger=Trigger(kind=TriggerKind.TIME, value=0.0),
            target_speed_mps=speed,
        )
    else:
        m = Manoeuvre(
            agent_id="hazard",
            kind=ManoeuvreKind.CROSS,
            trigger=Trigger(kind=TriggerKind.TTC, value=walk),
            target_speed_mps=speed,
            accel_mps2=accel,
        )

    def fn(tau: float) -> tuple[float, float, float]:
        if moving:
            t = t0 + direction * speed * tau
        else:
            t = t0 + direction * _ramp_dist_m(tau - LEAD_IN_S, speed, accel)
        return s_p, t - body.length_m / 2, t + body.length_m / 2

    return a, m, _track(c, body.width_m, fn), t_conf, s_p


def _crossing_placement(
    c: Ctx, body: Body, speed: float, from_left: bool, moving: bool
) -> Placement:
    t_start = _edge_line(c, from_left, body) if body is CYCLIST else _kerb_line(c, from_left)
    a, m, tr, t_conf, s_p = _cross(c, body, speed, from_left, t_start, moving)
    agents, tracks = [a], [tr]
    if c.ctx is HW and not from_left and body is ADULT:  # the broken-down car he left
        car_t = outer_edge_t(c.road, -1) + c.road.shoulder_width_m / 2
        pk = agent_at(
            "parked0", CAR, PARKED, c.road, s_m=s_p + 6.0, t_m=car_t, desired_speed_mps=0.0
        )
        agents.append(pk)
        tracks.append(_static_track(c, pk, car_t))
    # urban junction: on the crosswalk just before the junction box
    j = s_p + junction_box_half(c.road, 0) + CROSSWALK_WIDTH_M / 2 if c.ctx is UI else None
    return Placement(agents, [m], tracks, t_conf, junction_s=j)


def _ped_nearside(c: Ctx) -> Placement:
    """CPNA: adult from the right, standing start, TTC-triggered."""
    return _crossing_placement(c, ADULT, c.kmh("pedestrian_speed_kmh"), False, False)


def _ped_farside(c: Ctx) -> Placement:
    """CPFA: adult from the left, standing start, TTC-triggered."""
    return _crossing_placement(c, ADULT, c.kmh("pedestrian_speed_kmh"), True, False)


def _cyclist_crossing(c: Ctx) -> Placement:
    """CBNA / CBFA: a cyclist waiting at the carriageway edge sets off (TTC-triggered)."""
    return _crossing_placement(
        c, CYCLIST, c.kmh("cyclist_speed_kmh"), c.p["from_farside_bool"] >= 0.5, False
    )


def _animal(c: Ctx) -> Placement:
    """A running dog (urban) or deer (highway, rural), timed like the cyclist."""
    body = DOG if c.ctx in (US, UI) else DEER
    return _crossing_placement(
        c, body, c.kmh("animal_speed_kmh"), c.p["from_farside_bool"] >= 0.5, True
    )


def _child_occluded(c: Ctx) -> Placement:
    """CPNCO: a child steps out between parked vehicles that hide it from the ego."""
    if c.ctx in (US, UI):
        park_lane = next(
            x for x in side_lanes(c.road, 0, -1) if lane_kind(c.road, 0, x) == "parking"
        )
        car_t = lane_center_t(c.road, 0, park_lane) - 0.2
        t_start = kerb_t(c.road, -1) + 0.5
    elif c.ctx is HW:  # crashed / broken-down cars standing in lane -2
        car_t = lane_center_t(c.road, 0, -2)
        t_start = car_t
    else:  # cars parked on the shoulder
        car_t = outer_edge_t(c.road, -1) + CAR.width_m / 2 + 0.1
        t_start = outer_edge_t(c.road, -1) + 0.3
    a, m, tr, t_conf, s_p = _cross(c, CHILD, c.kmh("child_speed_kmh"), False, t_start, False)
    agents, tracks = [a], [tr]
    pitch = CHILD.width_m / 2 + 0.6 + CAR.length_m / 2
    offsets = [-pitch, pitch, -pitch - CAR.length_m - 1.0][: round(c.p["parked_vehicles_count"])]
    for k, ds in enumerate(offsets):
        pk = agent_at(
            f"parked{k}", CAR, PARKED, c.road, s_m=s_p + ds, t_m=car_t, desired_speed_mps=0.0
        )
        agents.append(pk)
        tracks.append(_static_track(c, pk, car_t))
    j = c.junction_after(s_p + pitch + CAR.length_m / 2, 5.0) if c.ctx is UI else None
    return Placement(agents, [m], tracks, t_conf, junction_s=j)


# ------------------------------------------------------------------------------ along the lane
def _along(c: Ctx, body: Body, speed: float) -> Placement:
    w, pct = EGO_BODY.width_m, c.p["impact_point_pct"] / 100.0
    # kerb side = right, except on the highway where it walks / rides along the median edge
    t = c.t_e + w / 2 - pct * w if c.ctx is HW else c.t_e - w / 2 + pct * w
    ttc = c.p["ttc_at_start_s"]
    s0 = c.ego_front + (c.v_e - speed) * ttc + body.length_m / 2
    a = agent_at(
        "hazard", body, HAZ, c.road, s_m=s0, t_m=t, speed_mps=speed, desired_speed_mps=speed
    )
    tr = _track(
        c, body.length_m, lambda tau: (s0 + speed * tau, t - body.width_m / 2, t + body.width_m / 2)
    )
    j = c.junction_after(s0 + speed * ttc, 10.0) if c.ctx is UI else None
    return Placement([a], [_keep("hazard", speed)], [tr], ttc, junction_s=j)


def _ped_along(c: Ctx) -> Placement:
    """CPLA: adult walking along the lane edge away from the ego."""
    return _along(c, ADULT, c.kmh("pedestrian_speed_kmh"))


def _cyclist_along(c: Ctx) -> Placement:
    """CBLA: cyclist riding along in the ego lane."""
    return _along(c, CYCLIST, c.kmh("cyclist_speed_kmh"))


# ------------------------------------------------------------------------------------ oncoming
def _oncoming(c: Ctx) -> Placement:
    """CCFhos: oncoming car in lane +1 moves into the ego lane (highway: across the median) at
    ``ttc_trigger_s`` (closing speed = sum of speeds)."""
    body, vo, ttc, dur = (
        CAR,
        c.kmh("oncoming_speed_kmh"),
        c.p["ttc_trigger_s"],
        c.p["lane_change_duration_s"],
    )
    T = LEAD_IN_S
    front_T = c.ego_front + c.v_e * T + (c.v_e + vo) * ttc
    s0 = front_T + body.length_m / 2 + vo * T
    lane, heading = 1, 0.0
    a = agent_at(
        "hazard",
        body,
        HAZ,
        c.road,
        s_m=s0,
        lane=lane,
        speed_mps=vo,
        heading_rad=heading,
        desired_speed_mps=vo,
    )
    m = Manoeuvre(
        agent_id="hazard",
        kind=ManoeuvreKind.LANE_CHANGE,
        trigger=Trigger(kind=TriggerKind.TTC, value=ttc),
        target_speed_mps=vo,
        target_lane=LaneRef(road_id=0, lane_id=-1),
        duration_s=dur,
    )
    tr = _lane_change_track(
        c, a, lane_center_t(c.road, 0, lane), c.t_e, T, dur, lambda tau: s0 - vo * tau
    )
    meet = c.ego_front + c.v_e * (T + ttc)
    j = c.junction_after(meet, 20.0) if c.ctx is UI else None
    return Placement([a], [m], [tr], T + ttc, junction_s=j)


# ------------------------------------------------------------------------------------ junction
def left_turn_connector(road: RoadLayout, n: int = 240) -> np.ndarray:
    """[n, 2] (x - junction centre, t) of the connector from road 0 lane +1 into road 1 lane +1:
    a cubic Bezier from the junction-box edge with tangents along both lanes and control
    distance 0.55 x chord (the connector the engine's geometry builds)."""
    h_in = junction_box_half(road, 0)
    h_out = junction_box_half(road, 1)
    p0 = np.array([h_in, lane_center_t(road, 0, 1)])
    p3 = np.array([-lane_center_t(road, 1, 1), -h_out])
    d0, d3 = np.array([-1.0, 0.0]), np.array([0.0, -1.0])
    k = 0.55 * float(np.hypot(*(p3 - p0)))
    p1, p2 = p0 + k * d0, p3 - k * d3
    u = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - u) ** 3 * p0 + 3 * (1 - u) ** 2 * u * p1 + 3 * (1 - u) * u**2 * p2 + u**3 * p3


def _left_turn(c: Ctx) -> Placement:
    """LTAP/OD: oncoming car in lane +1 turns left into road 1 lane +1 across the ego lane,
    its centre reaching the ego lane's centre line ``arrival_offset_s`` before the ego's centre
    gets there (at ``time_to_conflict_s``)."""
    body, vt = CAR, c.kmh("turn_speed_kmh")
    t_c, off = c.p["time_to_conflict_s"], c.p["arrival_offset_s"]
    path = left_turn_connector(c.road)
    seg = np.hypot(*np.diff(path, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    k = int(np.argmax(path[:, 1] <= c.t_e))
    x_c, arc_c = float(path[k, 0]), float(arc[k])
    d_straight = vt * (t_c + off) - arc_c
    if d_straight < 2.0:
        raise Infeasible("the turner cannot reach the conflict point in time at turn_speed_kmh")
    j = c.ego_s0 + c.v_e * t_c - x_c
    x0 = float(path[0, 0])
    s0 = j + x0 + d_straight
    a = agent_at(
        "hazard",
        body,
        HAZ,
        c.road,
        s_m=s0,
        lane=1,
        speed_mps=vt,
        desired_speed_mps=vt,
        turn_to=LaneRef(road_id=1, lane_id=1),
    )
    m = Manoeuvre(
        agent_id="hazard",
        kind=ManoeuvreKind.TURN,
        trigger=Trigger(kind=TriggerKind.TIME, value=0.0),
        target_speed_mps=vt,
    )

    def fn(tau: float) -> tuple[float, float, float]:
        d = vt * tau - d_straight
        if d < 0:
            x, y = x0 - d, float(path[0, 1])
        elif d <= arc[-1]:
            x, y = float(np.interp(d, arc, path[:, 0])), float(np.interp(d, arc, path[:, 1]))
        else:
            x, y = float(path[-1, 0]), float(path[-1, 1]) - (d - arc[-1])
        return j + x, y - body.length_m / 2, y + body.length_m / 2

    return Placement([a], [m], [_track(c, body.length_m, fn)], t_c, junction_s=j)


def _red_light_runner(c: Ctx) -> Placement:
    """A car on road 1 lane -1 (from the ego's right) runs its red light at constant speed."""
    body, vr = CAR, c.kmh("runner_speed_kmh")
    t_c, off = c.p["time_to_conflict_s"], c.p["arrival_offset_s"]
    c1 = -lane_center_t(c.road, 1, -1)  # road 1 lane -1 lies at x = junction + c1
    j = c.ego_s0 + c.v_e * t_c - c1
    y0 = c.t_e - vr * (t_c + off)
    arm = max(60.0, -y0 + 25.0)
    a = agent_at(
        "hazard",
        body,
        HAZ,
        c.road,
        s_m=arm + y0,
        lane=-1,
        road_id=1,
        speed_mps=vr,
        desired_speed_mps=vr,
    )
    m = Manoeuvre(
        agent_id="hazard",
        kind=ManoeuvreKind.RUN_RED,
        trigger=Trigger(kind=TriggerKind.TIME, value=0.0),
        target_speed_mps=vr,
    )

    def fn(tau: float) -> tuple[float, float, float]:
        y = y0 + vr * tau
        return j + c1, y - body.length_m / 2, y + body.length_m / 2

    return Placement(
        [a],
        [m],
        [_track(c, body.length_m, fn)],
        t_c,
        junction_s=j,
        arm_length_m=arm,
        road1_queue_lanes=(1,),
    )


# -------------------------------------------------------------------------------------- static
def _static_obstacle(c: Ctx) -> Placement:
    """Road-works barrier / lane-closure trailer / debris covering ``overlap_pct`` of the ego's
    width from the right, ``ttc_at_start_s`` ahead."""
    body = {US: BARRIER, UI: BARRIER, HW: TRAILER, RC: DEBRIS}[c.ctx]
    s = c.ego_front + c.v_e * c.p["ttc_at_start_s"] + body.length_m / 2
    t = c.t_e + _overlap_offset(c.p["overlap_pct"], body)
    a = agent_at("hazard", body, HAZ, c.road, s_m=s, t_m=t, desired_speed_mps=0.0)
    j = c.junction_after(s + body.length_m / 2, 15.0) if c.ctx is UI else None
    return Placement(
        [a], [_keep("hazard", 0.0)], [_static_track(c, a, t)], c.p["ttc_at_start_s"], junction_s=j
    )


PLACERS: dict[HazardFamily, Callable[[Ctx], Placement]] = {
    F.LEAD_STOPPED: _lead_stopped,
    F.LEAD_BRAKING: _lead_braking,
    F.LEAD_SLOWER: _lead_slower,
    F.CUT_IN: _cut_in,
    F.CUT_OUT: _cut_out,
    F.PED_NEARSIDE: _ped_nearside,
    F.PED_FARSIDE: _ped_farside,
    F.CHILD_OCCLUDED: _child_occluded,
    F.PED_ALONG: _ped_along,
    F.CYCLIST_CROSSING: _cyclist_crossing,
    F.CYCLIST_ALONG: _cyclist_along,
    F.ONCOMING_IN_LANE: _oncoming,
    F.LEFT_TURN_ACROSS: _left_turn,
    F.RED_LIGHT_RUNNER: _red_light_runner,
    F.ANIMAL: _animal,
    F.STATIC_OBSTACLE: _static_obstacle,
}


def place_hazard(c: Ctx) -> Placement:
    """Place the family's actors; raise ``Infeasible`` when the corner case cannot happen
    within ``c.horizon_s`` (minus a 0.5 s margin)."""
    pl = PLACERS[c.family](c)
    if pl.event_time_s > c.horizon_s - 0.5:
        raise Infeasible(
            f"the corner case culminates at {pl.event_time_s:.2f} s, after the horizon "
            f"{c.horizon_s:g} s minus 0.5 s"
        )
    return pl
