"""Road layouts per road context, agent dimensions, and road-coordinate helpers.

Layouts (all right-hand traffic, ego in lane -1 of road 0):

* urban straight: 1+1 lanes of 3.5 m, a 2.5 m parking lane and a 2.5 m sidewalk on each side,
  50 km/h. Junction-bound families add a side street (road 1, 1+1 lanes).
* urban intersection: 2+2 lanes of 3.5 m, 3 m sidewalks, a signalised junction with crosswalks
  (road 1: 1+1 lanes); the child family adds a right parking lane on the approach.
* highway: 3+3 lanes of 3.75 m, 3 m median, 3 m hard shoulders, 130 km/h. Junction-bound
  families turn it into an expressway (100 km/h) with an at-grade junction.
* rural curve: 1+1 lanes of 3.5 m with 2 m shoulders, 90 km/h, a left-hand arc of
  ``curve_radius_m``; the junction-bound families use a straight rural crossroads.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from scenario_library.scene import (
    AgentInit,
    AgentKind,
    AgentRole,
    HazardFamily,
    JunctionLayout,
    LaneRef,
    RoadContext,
    RoadLayout,
    carriageway_half_widths,
    lane_bounds_t,
    lane_center_t,
    lane_kind,
)
from scenario_library.taxonomy.families import is_curved

F = HazardFamily
US, UI, HW, RC = (
    RoadContext.URBAN_STRAIGHT,
    RoadContext.URBAN_INTERSECTION,
    RoadContext.HIGHWAY,
    RoadContext.RURAL_CURVE,
)


@dataclass(frozen=True)
class Body:
    kind: AgentKind
    length_m: float
    width_m: float
    height_m: float


CAR = Body(AgentKind.CAR, 4.6, 1.9, 1.5)
VAN = Body(AgentKind.TRUCK, 5.5, 2.0, 2.4)  # delivery van: truck class
TRUCK = Body(AgentKind.TRUCK, 10.0, 2.5, 3.5)
ADULT = Body(AgentKind.PEDESTRIAN, 0.5, 0.6, 1.75)
CHILD = Body(AgentKind.PEDESTRIAN, 0.35, 0.45, 1.15)  # Euro NCAP child target, ~6 years
CYCLIST = Body(AgentKind.CYCLIST, 1.8, 0.6, 1.75)
DOG = Body(AgentKind.ANIMAL, 0.9, 0.35, 0.6)
DEER = Body(AgentKind.ANIMAL, 1.6, 0.5, 1.4)
BARRIER = Body(AgentKind.OBSTACLE, 2.0, 1.6, 1.0)
TRAILER = Body(AgentKind.OBSTACLE, 4.0, 2.3, 3.0)  # lane-closure trailer with arrow board
DEBRIS = Body(AgentKind.OBSTACLE, 1.2, 1.0, 0.5)

EGO_BODY = CAR
#: calm driving before the corner case starts [s]
LEAD_IN_S = 1.0


def has_junction(family: HazardFamily, ctx: RoadContext) -> bool:
    return ctx is UI or family in (F.LEFT_TURN_ACROSS, F.RED_LIGHT_RUNNER)


def junction_has_lights(family: HazardFamily, ctx: RoadContext) -> bool:
    return ctx is UI or family is F.RED_LIGHT_RUNNER


def base_layout(family: HazardFamily, ctx: RoadContext, params: dict[str, float]) -> RoadLayout:
    """The road of a class before the scene fixes its length and junction position."""
    if ctx is US:
        road = RoadLayout(
            context=ctx,
            length_m=300.0,
            lane_width_m=3.5,
            lanes_right=1,
            lanes_left=1,
            parking_lane_right=True,
            parking_lane_left=True,
            sidewalk_width_m=2.5,
            speed_limit_mps=50 / 3.6,
        )
    elif ctx is UI:
        road = RoadLayout(
            context=ctx,
            length_m=300.0,
            lane_width_m=3.5,
            lanes_right=2,
            lanes_left=2,
            parking_lane_right=family is F.CHILD_OCCLUDED,
            sidewalk_width_m=3.0,
            speed_limit_mps=50 / 3.6,
        )
    elif ctx is HW:
        limit = 100 / 3.6 if has_junction(family, ctx) else 130 / 3.6
        road = RoadLayout(
            context=ctx,
            length_m=400.0,
            lane_width_m=3.75,
            lanes_right=3,
            lanes_left=3,
            median_width_m=3.0,
            shoulder_width_m=3.0,
            speed_limit_mps=limit,
        )
    else:
        radius = params.get("curve_radius_m") if is_curved(family, ctx) else None
        road = RoadLayout(
            context=ctx,
            length_m=300.0,
            lane_width_m=3.5,
            lanes_right=1,
            lanes_left=1,
            # 2.5 m: room for a car stopped on the shoulder to pull out on a curve without
            # its rear swinging off the paved area (a 2.0 m shoulder left 5 cm of margin)
            shoulder_width_m=2.5,
            curve_radius_m=radius,
            speed_limit_mps=90 / 3.6,
        )
    if has_junction(family, ctx):
        road = road.model_copy(
            update={
                "junction": JunctionLayout(
                    s_m=150.0,
                    arm_length_m=60.0,
                    lanes_per_direction=1,
                    has_traffic_lights=junction_has_lights(family, ctx),
                    has_crosswalks=ctx in (US, UI) and junction_has_lights(family, ctx),
                )
            }
        )
    return road


def ego_start_s(ego_speed_mps: float) -> float:
    """Ego centre at start: room behind for one follower at a 2 s gap."""
    return round(max(20.0, 2.5 * ego_speed_mps + 15.0), 2)


# ------------------------------------------------------------------------- road coordinates
def side_lanes(road: RoadLayout, road_id: int, side: int) -> list[int]:
    """Existing lane ids on one side (-1 right, +1 left), innermost first."""
    out = []
    k = 1
    while lane_kind(road, road_id, side * k) != "none":
        out.append(side * k)
        k += 1
    return out


def driving_lanes(road: RoadLayout, road_id: int = 0) -> list[int]:
    return [
        lane
        for side in (-1, 1)
        for lane in side_lanes(road, road_id, side)
        if lane_kind(road, road_id, lane) == "driving"
    ]


def lane_at(road: RoadLayout, road_id: int, t: float) -> int | None:
    """Lane containing lateral position t (None in the median / beyond the outermost lane)."""
    for side in (-1, 1):
        for lane in side_lanes(road, road_id, side):
            a, b = sorted(lane_bounds_t(road, road_id, lane))
            if a <= t <= b:
                return lane
    return None


@lru_cache(maxsize=256)
def _paved_lanes(road: RoadLayout) -> tuple[tuple[int, float, float], ...]:
    out = []
    for side in (-1, 1):
        for lane in side_lanes(road, 0, side):
            if lane_kind(road, 0, lane) != "sidewalk":
                a, b = sorted(lane_bounds_t(road, 0, lane))
                out.append((lane, a, b))
    return tuple(out)


def lanes_covering(road: RoadLayout, t_lo: float, t_hi: float) -> frozenset[int]:
    """Road-0 driving and parking lanes overlapping the lateral interval [t_lo, t_hi]."""
    return frozenset(lane for lane, a, b in _paved_lanes(road) if a < t_hi and t_lo < b)


def outer_edge_t(road: RoadLayout, side: int) -> float:
    """Lateral position of the carriageway edge (kerb / end of shoulder) on one side."""
    right, left = carriageway_half_widths(road, 0)
    return -right if side < 0 else left


def kerb_t(road: RoadLayout, side: int) -> float:
    """Edge of the paved area next to the sidewalk (driving + parking lanes)."""
    lanes = [lane for lane in side_lanes(road, 0, side) if lane_kind(road, 0, lane) != "sidewalk"]
    return lane_bounds_t(road, 0, lanes[-1])[1]


def sidewalk_lane(road: RoadLayout, side: int) -> int | None:
    for lane in side_lanes(road, 0, side):
        if lane_kind(road, 0, lane) == "sidewalk":
            return lane
    return None


def agent_at(
    agent_id: str,
    body: Body,
    role: AgentRole,
    road: RoadLayout,
    *,
    s_m: float,
    t_m: float | None = None,
    lane: int | None = None,
    road_id: int = 0,
    speed_mps: float = 0.0,
    heading_rad: float = 0.0,
    desired_speed_mps: float | None = None,
    turn_to: LaneRef | None = None,
) -> AgentInit:
    """An agent at (s, t) of a road: the lane is the one containing t (or the nearest
    existing lane on that side when t lies beyond it); the offset is measured from that lane's
    centre, + to the left of the lane's travel direction (scene convention)."""
    if lane is None:
        if t_m is None:
            raise ValueError("give lane or t_m")
        lane = lane_at(road, road_id, t_m)
        if lane is None:
            side = -1 if t_m < 0 else 1
            lanes = side_lanes(road, road_id, side)
            # in the median: innermost lane; beyond the road: outermost lane
            inner = abs(t_m) < abs(lane_bounds_t(road, road_id, lanes[0])[0]) + 1e-9
            lane = lanes[0] if inner else lanes[-1]
    centre = lane_center_t(road, road_id, lane)
    offset = 0.0 if t_m is None else (t_m - centre) * (1.0 if lane < 0 else -1.0)
    return AgentInit(
        agent_id=agent_id,
        kind=body.kind,
        role=role,
        length_m=body.length_m,
        width_m=body.width_m,
        height_m=body.height_m,
        start=LaneRef(road_id=road_id, lane_id=lane),
        s_m=round(s_m, 3),
        offset_m=round(offset, 3),
        speed_mps=speed_mps,
        heading_rad=heading_rad,
        turn_to=turn_to,
        desired_speed_mps=desired_speed_mps,
    )


def agent_t(road: RoadLayout, a: AgentInit) -> float:
    """Lateral position of an agent's centre from its road's reference line."""
    centre = lane_center_t(road, a.start.road_id, a.start.lane_id)
    return centre + a.offset_m * (1.0 if a.start.lane_id < 0 else -1.0)


#: junction furniture, as drawn by the engine's geometry (``generator.world.geometry``)
STOP_LINE_GAP_M = 1.0
CROSSWALK_WIDTH_M = 3.0


def junction_box_half(road: RoadLayout, road_id: int) -> float:
    """Half extent of the junction box along ``road_id``: the other road's half width [m]."""
    return max(carriageway_half_widths(road, 1 - road_id)) if road.junction else 0.0


def stop_line_offsets(road: RoadLayout) -> tuple[float, float]:
    """Distances from the junction centre to the stop lines of road 0 and road 1 [m]:
    box half + 1 m gap (+ a 3 m crosswalk when the junction has crosswalks)."""
    j = road.junction
    if j is None:
        return 0.0, 0.0
    extra = STOP_LINE_GAP_M + (CROSSWALK_WIDTH_M if j.has_crosswalks else 0.0)
    return junction_box_half(road, 0) + extra, junction_box_half(road, 1) + extra
