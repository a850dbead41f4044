"""A concrete scene: the pure-data description of one corner case, ready to roll out.

``sampling.sample_scene(spec, seed)`` produces a :class:`Scene`; ``generator.world`` turns it into
road geometry and a rollout; ``export.openscenario`` turns it into .xosc/.xodr.

Conventions (shared by every consumer; do not change without changing all of them)
-------------------------------------------------------------------------------
* World frame: metres, x forward along road 0 at s=0, y to the left, z up, flat ground z=0.
  Yaw in radians, counter-clockwise from +x. Right-hand traffic.
* Roads follow OpenDRIVE habits. Road 0 is the ego's road; its reference line starts at the
  origin heading +x and is straight or a constant-curvature arc (``curve_radius_m``, >0 curves
  left). Lane ids: -1, -2, ... are right of the reference line and travel in +s; +1, +2, ... are
  left of it and travel in -s (oncoming). Lane -1 is the ego's default lane (innermost right).
  After the driving lanes come, outwards: a parking lane (if any), then a sidewalk (if any).
  ``lane_kind(road, lane_id)`` tells which.
* Road 1 exists only with a junction: a straight road crossing road 0 at right angles at
  ``junction.s_m`` on road 0; its reference line heads +y (left to right of ego is -y..+y),
  its s=0 at y = -junction.arm_length_m, so the junction centre is at s = arm_length_m.
* Lateral position t is + left of a road's reference line. The reference line runs down the
  middle of the median (``median_width_m``, 0 for undivided roads). Lane widths: driving lanes
  ``lane_width_m``, parking lanes ``PARKING_LANE_WIDTH_M``, sidewalks ``sidewalk_width_m``.
  ``lane_bounds_t`` / ``lane_center_t`` give the numbers; every consumer uses them.
* ``offset_m`` is lateral from the lane centre, + to the left of the lane's travel direction.
* Speeds in m/s, accelerations in m/s², times in s. Parameters in ``ConcreteScenario.params``
  carry their unit in the name (``ego_speed_kmh``, ``ttc_trigger_s``...).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    """Base of the frozen, strict data models of this package."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- axes of the taxonomy
class HazardFamily(StrEnum):
    LEAD_STOPPED = "lead_vehicle_stopped"
    LEAD_BRAKING = "lead_vehicle_braking"
    LEAD_SLOWER = "lead_vehicle_slower"
    CUT_IN = "cut_in"
    CUT_OUT = "cut_out_reveals_stopped"
    PED_NEARSIDE = "pedestrian_crossing_nearside"
    PED_FARSIDE = "pedestrian_crossing_farside"
    CHILD_OCCLUDED = "child_emerging_behind_parked_cars"
    PED_ALONG = "pedestrian_walking_along_lane"
    CYCLIST_CROSSING = "cyclist_crossing"
    CYCLIST_ALONG = "cyclist_riding_along"
    ONCOMING_IN_LANE = "oncoming_vehicle_in_ego_lane"
    LEFT_TURN_ACROSS = "left_turn_across_path"
    RED_LIGHT_RUNNER = "red_light_runner"
    ANIMAL = "animal_on_road"
    STATIC_OBSTACLE = "static_obstacle_road_works"


class RoadContext(StrEnum):
    URBAN_STRAIGHT = "urban_straight"
    URBAN_INTERSECTION = "urban_intersection"
    HIGHWAY = "highway"
    RURAL_CURVE = "rural_curve"


class Weather(StrEnum):
    CLEAR = "clear"
    RAIN = "rain"
    FOG = "fog"
    SNOW = "snow"


class Lighting(StrEnum):
    DAY = "day"
    DUSK = "dusk"
    NIGHT = "night"
    LOW_SUN = "low_sun_glare"


#: Tyre-road friction coefficient by weather: bounds the physically possible deceleration
#: (mu * g). Dry asphalt ~0.9, wet ~0.6, packed snow ~0.3; fog leaves the road dry.
FRICTION_BY_WEATHER: dict[Weather, float] = {
    Weather.CLEAR: 0.9,
    Weather.RAIN: 0.6,
    Weather.FOG: 0.9,
    Weather.SNOW: 0.3,
}
GRAVITY_MPS2 = 9.81


class AgentKind(StrEnum):
    CAR = "car"
    TRUCK = "truck"
    PEDESTRIAN = "pedestrian"
    CYCLIST = "cyclist"
    ANIMAL = "animal"
    OBSTACLE = "obstacle"  # static: cone, barrier, road-works trailer, debris


#: Stable small-integer codes for array storage (never reorder; append only).
AGENT_KIND_CODES: dict[AgentKind, int] = {k: i for i, k in enumerate(AgentKind)}


class AgentRole(StrEnum):
    EGO = "ego"
    HAZARD = "hazard"  # the scripted actor(s) of the corner case
    BACKGROUND = "background"  # reactive traffic (IDM / MOBIL)
    PARKED = "parked"  # static parked vehicles (occluders)


AGENT_ROLE_CODES: dict[AgentRole, int] = {r: i for i, r in enumerate(AgentRole)}


# --------------------------------------------------------------------------------- concrete scene
class ConcreteScenario(Frozen):
    """A taxonomy class with every parameter fixed: what ``wmgen sample`` prints."""

    class_id: int = Field(ge=0, le=1023)
    class_name: str
    tags: tuple[str, ...]
    family: HazardFamily
    road_context: RoadContext
    weather: Weather
    lighting: Lighting
    seed: int = Field(ge=0)
    #: Sampled or pinned parameters, unit in the name, e.g. {"ego_speed_kmh": 50.0}.
    params: dict[str, float]


class JunctionLayout(Frozen):
    s_m: float = Field(gt=0, description="junction centre along road 0 [m]")
    arm_length_m: float = Field(gt=0, description="length of road 1 on each side of centre [m]")
    lanes_per_direction: int = Field(ge=1, le=3)
    has_traffic_lights: bool
    has_crosswalks: bool


class RoadLayout(Frozen):
    """Parametric road: enough to build geometry (generator) and OpenDRIVE (export)."""

    context: RoadContext
    length_m: float = Field(gt=0, description="length of road 0 [m]")
    lane_width_m: float = Field(gt=2.0, lt=5.0)
    lanes_right: int = Field(ge=1, le=4, description="driving lanes in +s (ego direction)")
    lanes_left: int = Field(ge=0, le=4, description="driving lanes in -s (oncoming)")
    median_width_m: float = Field(ge=0, default=0.0, description="gap between directions [m]")
    parking_lane_right: bool = False
    parking_lane_left: bool = False
    sidewalk_width_m: float = Field(ge=0, default=0.0, description="0 = no sidewalk")
    shoulder_width_m: float = Field(ge=0, default=0.0, description="paved shoulder (rural/highway)")
    curve_radius_m: float | None = Field(default=None, description="None straight; >0 left")
    speed_limit_mps: float = Field(gt=0)
    junction: JunctionLayout | None = None
    crosswalk_s_m: tuple[float, ...] = ()  # mid-block crosswalks on road 0 (s of centre)


class LaneRef(Frozen):
    road_id: Literal[0, 1]
    lane_id: int  # OpenDRIVE convention, see module docstring; never 0


class AgentInit(Frozen):
    """Initial state of one agent, in road coordinates."""

    agent_id: str  # "ego", "hazard", "hazard2", "bg0", "parked3", ...
    kind: AgentKind
    role: AgentRole
    length_m: float = Field(gt=0)
    width_m: float = Field(gt=0)
    height_m: float = Field(gt=0)
    start: LaneRef
    s_m: float = Field(description="along the road's reference line [m]")
    offset_m: float = Field(default=0.0, description="from lane centre, + left of travel [m]")
    speed_mps: float = Field(ge=0)
    #: heading relative to the lane's travel direction [rad]; pi/2 = facing left (crossing).
    heading_rad: float = 0.0
    #: for vehicles passing a junction: the lane they continue in (a turn), else None
    turn_to: LaneRef | None = None
    #: desired (cruise) speed for IDM [m/s]; defaults to the initial speed when None
    desired_speed_mps: float | None = None


class TriggerKind(StrEnum):
    TIME = "time_s"  # simulation time reached
    TTC = "ttc_s"  # ego time-to-collision w.r.t. the actor (or conflict point) below value
    DISTANCE = "distance_m"  # ego-to-actor centre distance below value


class Trigger(Frozen):
    kind: TriggerKind
    value: float = Field(ge=0)


class ManoeuvreKind(StrEnum):
    KEEP = "keep"  # keep speed / lane (already in place, e.g. stopped lead car)
    BRAKE = "brake"  # decelerate at accel_mps2 (<0) to target_speed_mps
    LANE_CHANGE = "lane_change"  # to target_lane (cut-in, cut-out, oncoming intrusion)
    CROSS = "cross"  # walk / ride across road 0 to the other side at target_speed_mps
    TURN = "turn"  # follow turn_to through the junction (left turn across path)
    RUN_RED = "run_red"  # keep going through a red light at target_speed_mps


class Manoeuvre(Frozen):
    """A scripted action of a hazard actor, started when ``trigger`` fires."""

    agent_id: str
    kind: ManoeuvreKind
    trigger: Trigger
    target_speed_mps: float | None = Field(default=None, ge=0)
    accel_mps2: float | None = None  # longitudinal, signed
    target_lane: LaneRef | None = None
    duration_s: float | None = Field(default=None, gt=0, description="lateral manoeuvre time")


class LightPhase(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class TrafficLight(Frozen):
    """One signal head controlling the lanes of ``road_id`` that enter the junction."""

    light_id: str
    road_id: Literal[0, 1]
    stop_line_s_m: float  # along its road
    #: (phase, duration_s) repeating; the cycle starts at t=0
    cycle: tuple[tuple[LightPhase, float], ...]
    offset_s: float = 0.0


class Scene(Frozen):
    """Everything needed to roll out one concrete corner case."""

    scenario: ConcreteScenario
    road: RoadLayout
    agents: tuple[AgentInit, ...]  # agents[0] is the ego
    manoeuvres: tuple[Manoeuvre, ...]
    traffic_lights: tuple[TrafficLight, ...] = ()
    friction_mu: float = Field(gt=0, le=1.2)
    dt_s: float = Field(default=0.1, gt=0)
    horizon_s: float = Field(default=8.0, gt=0)

    def validate_scene(self) -> None:
        """Raise ``SpecError`` if the scene is internally inconsistent."""
        from scenario_library.errors import SpecError

        if not self.agents or self.agents[0].role is not AgentRole.EGO:
            raise SpecError(
                "agents[0].role",
                self.agents[0].role if self.agents else None,
                "the first agent must be the ego",
            )
        ids = [a.agent_id for a in self.agents]
        if len(set(ids)) != len(ids):
            raise SpecError("agents", ids, "agent ids must be unique")
        for m in self.manoeuvres:
            if m.agent_id not in ids:
                raise SpecError("manoeuvres.agent_id", m.agent_id, "no such agent")
        if self.road.junction is None and any(a.start.road_id == 1 for a in self.agents):
            raise SpecError("agents.start.road_id", 1, "road 1 exists only with a junction")


def lane_kind(road: RoadLayout, road_id: int, lane_id: int) -> str:
    """'driving', 'parking', 'sidewalk' or 'none' for an OpenDRIVE lane id of ``road``."""
    if lane_id == 0:
        return "none"
    if road_id == 1:
        j = road.junction
        if j is None:
            return "none"
        n, parking, sidewalk = j.lanes_per_direction, False, road.sidewalk_width_m > 0
    elif lane_id < 0:
        n, parking, sidewalk = road.lanes_right, road.parking_lane_right, road.sidewalk_width_m > 0
    else:
        n, parking, sidewalk = road.lanes_left, road.parking_lane_left, road.sidewalk_width_m > 0
    k = abs(lane_id)
    if k <= n:
        return "driving"
    k -= n
    if parking:
        if k == 1:
            return "parking"
        k -= 1
    if sidewalk and k == 1:
        return "sidewalk"
    return "none"


PARKING_LANE_WIDTH_M = 2.5


def _lane_widths(road: RoadLayout, road_id: int, side: int) -> list[float]:
    """Widths of the lanes on one side (side -1 right, +1 left), innermost first."""
    if road_id == 1:
        j = road.junction
        n = j.lanes_per_direction if j is not None else 0
        parking = False
    else:
        n = road.lanes_right if side < 0 else road.lanes_left
        parking = road.parking_lane_right if side < 0 else road.parking_lane_left
    widths = [road.lane_width_m] * n
    if parking:
        widths.append(PARKING_LANE_WIDTH_M)
    if road.sidewalk_width_m > 0:
        widths.append(road.sidewalk_width_m)
    return widths


def lane_bounds_t(road: RoadLayout, road_id: int, lane_id: int) -> tuple[float, float]:
    """Signed lateral (inner, outer) edges of a lane from the reference line [m], + left."""
    from scenario_library.errors import SpecError

    side = -1 if lane_id < 0 else 1
    widths = _lane_widths(road, road_id, side)
    k = abs(lane_id)
    if lane_id == 0 or k > len(widths):
        raise SpecError("lane_id", lane_id, f"road {road_id} has no such lane")
    inner = (road.median_width_m / 2 if road_id == 0 else 0.0) + sum(widths[: k - 1])
    outer = inner + widths[k - 1]
    return side * inner, side * outer


def lane_center_t(road: RoadLayout, road_id: int, lane_id: int) -> float:
    """Signed lateral position of a lane's centre from the reference line [m], + left."""
    a, b = lane_bounds_t(road, road_id, lane_id)
    return (a + b) / 2


def carriageway_half_widths(road: RoadLayout, road_id: int = 0) -> tuple[float, float]:
    """(right, left) lateral extent of the paved driving area (driving + parking lanes) [m]."""
    out = []
    for side in (-1, 1):
        widths = _lane_widths(road, road_id, side)
        if road.sidewalk_width_m > 0:
            widths = widths[:-1]
        base = road.median_width_m / 2 if road_id == 0 else 0.0
        out.append(base + sum(widths) + (road.shoulder_width_m if widths else 0.0))
    return out[0], out[1]
