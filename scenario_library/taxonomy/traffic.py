"""Background traffic and traffic lights around a placed corner case.

Background vehicles (role BACKGROUND, reactive IDM/MOBIL traffic in the engine) come from
``traffic_density_veh_per_km`` (per lane, over a 250 m window) and are drawn with the scene's
own random stream. They never start ahead of the ego in its lane (they would shield the hazard);
in the ego lane they only follow it at >= 2 s; all stay on road 0 for the whole horizon at
their initial speed. Every candidate is rejected when, driving at
constant speed, it would come within ``10 m + half lengths + 1 s at its speed`` of a hazard or parked agent in a
lane that agent occupies at that time (the hazards' nominal ``Track``s), so traffic never
blocks or collides with the corner case by construction. At a junction, cross traffic waits at
the stop line (speed 0, desired 0): behind a red light, or at the stop sign of an unsignalised
junction.

Signals: road 0 stays green for the whole horizon and road 1 red (two-phase plan with 3 s
amber and 2 s all-red); one head per approach direction, whose stop line lies before the
junction centre for the +s lanes and after it for the -s lanes.
"""

from __future__ import annotations

import numpy as np

from scenario_library.scene import (
    AgentInit,
    AgentRole,
    LightPhase,
    RoadContext,
    RoadLayout,
    TrafficLight,
)
from scenario_library.taxonomy.hazards import Placement, Track
from scenario_library.taxonomy.layouts import (
    CAR,
    TRUCK,
    VAN,
    Body,
    agent_at,
    driving_lanes,
    stop_line_offsets,
)

MAX_AGENTS = 16
WINDOW_M = 250.0
CLEARANCE_M = 10.0
TIME_GAP_S = 1.0


def _conflicts(s0: float, v_signed: float, lane: int, length: float, tracks: list[Track]) -> bool:
    """Would a background car (constant speed) come within 10 m + half lengths + a 1 s gap at
    its speed of a hazard / parked agent in a lane that agent occupies at that time?"""
    clearance = CLEARANCE_M + abs(v_signed) * TIME_GAP_S
    for tr in tracks:
        s_bg = s0 + v_signed * tr.times_s
        near = np.abs(s_bg - tr.s_m) < clearance + (length + tr.length_m) / 2
        for k in np.flatnonzero(near):
            if lane in tr.lanes[k]:
                return True
    return False


def background_traffic(
    road: RoadLayout,
    placement: Placement,
    ego: AgentInit,
    density_veh_per_km: float,
    horizon_s: float,
    rng: np.random.Generator,
    n_existing: int,
) -> list[AgentInit]:
    """Background vehicles on road 0 and queued cross traffic on road 1."""
    budget = MAX_AGENTS - n_existing
    lanes = driving_lanes(road, 0)
    target = round(density_veh_per_km * WINDOW_M / 1000.0 * len(lanes))
    occupied: list[tuple[int, float, float, float]] = [(-1, ego.s_m, ego.length_m, ego.speed_mps)]
    for a in placement.agents:
        if a.start.road_id == 0:
            occupied.append((a.start.lane_id, a.s_m, a.length_m, a.speed_mps))
    heavy = road.context in (RoadContext.HIGHWAY, RoadContext.RURAL_CURVE)
    limit = road.speed_limit_mps
    out: list[AgentInit] = []
    for _ in range(target):
        if len(out) >= budget:
            break
        for _try in range(25):
            lane = int(rng.choice(lanes))
            u = float(rng.random())
            body: Body = (TRUCK if u < 0.15 else CAR) if heavy else (VAN if u < 0.1 else CAR)
            if lane == -1:  # follower of the ego
                v = ego.speed_mps
                hi = ego.s_m - (ego.length_m + body.length_m) / 2 - max(2.0 * v, 8.0)
                if hi <= 5.0:
                    continue
                s = float(rng.uniform(5.0, hi))
            else:
                # stays on road 0 for the whole horizon at constant speed
                v = float(rng.uniform(0.75, 1.0)) * limit
                if lane < 0:
                    lo, hi = 5.0, road.length_m - 10.0 - v * horizon_s
                else:
                    lo, hi = 10.0 + v * horizon_s, road.length_m - 10.0
                hi = min(hi, ego.s_m + WINDOW_M + (v * horizon_s if lane > 0 else 0.0))
                if hi <= lo:
                    continue
                s = float(rng.uniform(lo, hi))
            gap_ok = all(
                abs(s - so) >= (body.length_m + lo) / 2 + max(8.0, 1.5 * max(v, vo))
                for (ln, so, lo, vo) in occupied
                if ln == lane
            )
            # no two cars side by side in the same direction (they could change into the
            # lane between them at the same moment)
            apart = all(
                abs(s - so) >= (body.length_m + lo) / 2 + 6.0
                for (ln, so, lo, _) in occupied
                if ln != lane and (ln < 0) == (lane < 0)
            )
            if not (gap_ok and apart):
                continue
            v_signed = v if lane < 0 else -v
            if _conflicts(s, v_signed, lane, body.length_m, placement.tracks):
                continue
            out.append(
                agent_at(
                    f"bg{len(out)}",
                    body,
                    AgentRole.BACKGROUND,
                    road,
                    s_m=s,
                    lane=lane,
                    speed_mps=v,
                    desired_speed_mps=v,
                )
            )
            occupied.append((lane, s, body.length_m, v))
            break
    j = road.junction
    if j is not None:
        _, stop1 = stop_line_offsets(road)
        per_lane = min(2, round(density_veh_per_km * 0.1))
        for lane in placement.road1_queue_lanes:
            for k in range(per_lane):
                if len(out) >= budget:
                    break
                d = 1.0 + CAR.length_m / 2 + k * (CAR.length_m + 2.0)
                s = j.arm_length_m - stop1 - d if lane < 0 else j.arm_length_m + stop1 + d
                if not 0.0 < s < 2 * j.arm_length_m:
                    continue
                out.append(
                    agent_at(
                        f"bg{len(out)}",
                        CAR,
                        AgentRole.BACKGROUND,
                        road,
                        s_m=s,
                        lane=lane,
                        road_id=1,
                        desired_speed_mps=0.0,
                    )
                )
    return out


def traffic_lights(road: RoadLayout, horizon_s: float) -> tuple[TrafficLight, ...]:
    """Road 0 green (whole horizon), road 1 red; one head per approach direction."""
    j = road.junction
    if j is None or not j.has_traffic_lights:
        return ()
    green, amber, all_red = max(60.0, horizon_s + 10.0), 3.0, 2.0
    main = (
        (LightPhase.GREEN, green),
        (LightPhase.YELLOW, amber),
        (LightPhase.RED, green + amber + 2 * all_red),
    )
    cross = (
        (LightPhase.RED, green + amber + all_red),
        (LightPhase.GREEN, green),
        (LightPhase.YELLOW, amber),
        (LightPhase.RED, all_red),
    )
    stop0, stop1 = stop_line_offsets(road)
    return (
        TrafficLight(
            light_id="road0:+s", road_id=0, stop_line_s_m=round(j.s_m - stop0, 3), cycle=main
        ),
        TrafficLight(
            light_id="road0:-s", road_id=0, stop_line_s_m=round(j.s_m + stop0, 3), cycle=main
        ),
        TrafficLight(
            light_id="road1:+s",
            road_id=1,
            stop_line_s_m=round(j.arm_length_m - stop1, 3),
            cycle=cross,
        ),
        TrafficLight(
            light_id="road1:-s",
            road_id=1,
            stop_line_s_m=round(j.arm_length_m + stop1, 3),
            cycle=cross,
        ),
    )
