"""Hand-built scenes for the world tests (independent of the sampling module)."""

from __future__ import annotations

from scenario_library.scene import (
    FRICTION_BY_WEATHER,
    AgentInit,
    AgentKind,
    AgentRole,
    ConcreteScenario,
    HazardFamily,
    JunctionLayout,
    LaneRef,
    Lighting,
    LightPhase,
    Manoeuvre,
    ManoeuvreKind,
    RoadContext,
    RoadLayout,
    Scene,
    TrafficLight,
    Trigger,
    TriggerKind,
    Weather,
)


def scenario(
    family: HazardFamily,
    context: RoadContext = RoadContext.URBAN_STRAIGHT,
    weather: Weather = Weather.CLEAR,
) -> ConcreteScenario:
    return ConcreteScenario(
        class_id=0,
        class_name=f"test_{family.value}",
        tags=(),
        family=family,
        road_context=context,
        weather=weather,
        lighting=Lighting.DAY,
        seed=0,
        params={},
    )


def straight(
    lanes_right: int = 2, lanes_left: int = 1, length_m: float = 300.0, **kw: object
) -> RoadLayout:
    return RoadLayout(
        context=RoadContext.URBAN_STRAIGHT,
        length_m=length_m,
        lane_width_m=3.5,
        lanes_right=lanes_right,
        lanes_left=lanes_left,
        speed_limit_mps=16.7,
        **kw,
    )


def car(
    agent_id: str, role: AgentRole, lane: int, s_m: float, speed: float, road: int = 0, **kw: object
) -> AgentInit:
    return AgentInit(
        agent_id=agent_id,
        kind=AgentKind.CAR,
        role=role,
        length_m=4.6,
        width_m=1.9,
        height_m=1.5,
        start=LaneRef(road_id=road, lane_id=lane),
        s_m=s_m,
        speed_mps=speed,
        **kw,
    )


def make_scene(
    family: HazardFamily,
    road: RoadLayout,
    agents: list[AgentInit],
    manoeuvres: list[Manoeuvre] = (),
    lights: list[TrafficLight] = (),
    weather: Weather = Weather.CLEAR,
    horizon_s: float = 8.0,
) -> Scene:
    s = Scene(
        scenario=scenario(family, road.context, weather),
        road=road,
        agents=tuple(agents),
        manoeuvres=tuple(manoeuvres),
        traffic_lights=tuple(lights),
        friction_mu=FRICTION_BY_WEATHER[weather],
        horizon_s=horizon_s,
    )
    s.validate_scene()
    return s


def lead_stopped_scene(ego_speed: float = 13.9, gap_m: float = 60.0) -> Scene:
    return make_scene(
        HazardFamily.LEAD_STOPPED,
        straight(),
        [
            car("ego", AgentRole.EGO, -1, 20.0, ego_speed),
            car("hazard", AgentRole.HAZARD, -1, 20.0 + gap_m, 0.0),
        ],
        horizon_s=10.0,
    )


def cut_in_scene() -> Scene:
    return make_scene(
        HazardFamily.CUT_IN,
        straight(),
        [
            car("ego", AgentRole.EGO, -1, 20.0, 16.0),
            car("hazard", AgentRole.HAZARD, -2, 35.0, 14.0),
            car("bg0", AgentRole.BACKGROUND, -2, 70.0, 14.0),
            car("bg1", AgentRole.BACKGROUND, 1, 200.0, 14.0),
        ],
        [
            Manoeuvre(
                agent_id="hazard",
                kind=ManoeuvreKind.LANE_CHANGE,
                trigger=Trigger(kind=TriggerKind.TTC, value=4.0),
                target_lane=LaneRef(road_id=0, lane_id=-1),
                duration_s=2.5,
            )
        ],
    )


def ped_crossing_scene() -> Scene:
    road = straight(lanes_right=1, lanes_left=1, sidewalk_width_m=2.0, parking_lane_right=True)
    return make_scene(
        HazardFamily.PED_NEARSIDE,
        road,
        [
            car("ego", AgentRole.EGO, -1, 10.0, 11.0),
            AgentInit(
                agent_id="hazard",
                kind=AgentKind.PEDESTRIAN,
                role=AgentRole.HAZARD,
                length_m=0.5,
                width_m=0.6,
                height_m=1.75,
                start=LaneRef(road_id=0, lane_id=-3),
                s_m=70.0,
                speed_mps=0.0,
                heading_rad=1.5708,
            ),
            AgentInit(
                agent_id="parked0",
                kind=AgentKind.CAR,
                role=AgentRole.PARKED,
                length_m=4.5,
                width_m=1.8,
                height_m=1.5,
                start=LaneRef(road_id=0, lane_id=-2),
                s_m=62.0,
                speed_mps=0.0,
            ),
        ],
        [
            Manoeuvre(
                agent_id="hazard",
                kind=ManoeuvreKind.CROSS,
                trigger=Trigger(kind=TriggerKind.TTC, value=4.5),
                target_speed_mps=1.4,
            )
        ],
    )


def junction_road() -> RoadLayout:
    return RoadLayout(
        context=RoadContext.URBAN_INTERSECTION,
        length_m=250.0,
        lane_width_m=3.5,
        lanes_right=1,
        lanes_left=1,
        sidewalk_width_m=2.0,
        speed_limit_mps=13.9,
        junction=JunctionLayout(
            s_m=100.0,
            arm_length_m=80.0,
            lanes_per_direction=1,
            has_traffic_lights=True,
            has_crosswalks=True,
        ),
    )


def red_runner_scene() -> Scene:
    road = junction_road()
    lights = [
        TrafficLight(
            light_id="main",
            road_id=0,
            stop_line_s_m=90.0,
            cycle=((LightPhase.GREEN, 20.0), (LightPhase.YELLOW, 3.0), (LightPhase.RED, 20.0)),
        ),
        TrafficLight(
            light_id="side",
            road_id=1,
            stop_line_s_m=70.0,
            cycle=((LightPhase.RED, 23.0), (LightPhase.GREEN, 17.0), (LightPhase.YELLOW, 3.0)),
        ),
    ]
    return make_scene(
        HazardFamily.RED_LIGHT_RUNNER,
        road,
        [
            car("ego", AgentRole.EGO, -1, 30.0, 12.0),
            car("hazard", AgentRole.HAZARD, -1, 20.0, 12.0, road=1),
            car("bg0", AgentRole.BACKGROUND, 1, 40.0, 10.0, road=1),
        ],
        [
            Manoeuvre(
                agent_id="hazard",
                kind=ManoeuvreKind.RUN_RED,
                trigger=Trigger(kind=TriggerKind.TIME, value=0.0),
                target_speed_mps=12.0,
            )
        ],
        lights=lights,
    )


def left_turn_scene() -> Scene:
    road = junction_road()
    return make_scene(
        HazardFamily.LEFT_TURN_ACROSS,
        road,
        [
            car("ego", AgentRole.EGO, -1, 40.0, 12.0),
            car("hazard", AgentRole.HAZARD, 1, 135.0, 8.0, turn_to=LaneRef(road_id=1, lane_id=1)),
        ],
        [
            Manoeuvre(
                agent_id="hazard",
                kind=ManoeuvreKind.TURN,
                trigger=Trigger(kind=TriggerKind.TTC, value=4.0),
                target_speed_mps=7.0,
            )
        ],
    )


def curve_scene(weather: Weather = Weather.SNOW) -> Scene:
    road = RoadLayout(
        context=RoadContext.RURAL_CURVE,
        length_m=400.0,
        lane_width_m=3.5,
        lanes_right=1,
        lanes_left=1,
        shoulder_width_m=1.0,
        curve_radius_m=-180.0,
        speed_limit_mps=25.0,
    )
    return make_scene(
        HazardFamily.ONCOMING_IN_LANE,
        road,
        [
            car("ego", AgentRole.EGO, -1, 20.0, 22.0),
            car("hazard", AgentRole.HAZARD, 1, 260.0, 20.0),
            car("bg0", AgentRole.BACKGROUND, -1, 70.0, 20.0),
        ],
        [
            Manoeuvre(
                agent_id="hazard",
                kind=ManoeuvreKind.LANE_CHANGE,
                trigger=Trigger(kind=TriggerKind.DISTANCE, value=120.0),
                target_lane=LaneRef(road_id=0, lane_id=-1),
                duration_s=3.0,
            )
        ],
        weather=weather,
    )


def highway_scene() -> Scene:
    road = RoadLayout(
        context=RoadContext.HIGHWAY,
        length_m=600.0,
        lane_width_m=3.7,
        lanes_right=3,
        lanes_left=3,
        median_width_m=3.0,
        shoulder_width_m=2.5,
        speed_limit_mps=33.0,
    )
    agents = [
        car("ego", AgentRole.EGO, -2, 30.0, 30.0),
        car("hazard", AgentRole.HAZARD, -2, 90.0, 30.0),
    ]
    for k in range(8):
        agents.append(
            car(
                f"bg{k}",
                AgentRole.BACKGROUND,
                -(1 + k % 3),
                10.0 + 40.0 * k,
                25.0 + (k % 3),
                desired_speed_mps=30.0 + (k % 4),
            )
        )
    for k in range(6):
        agents.append(car(f"bo{k}", AgentRole.BACKGROUND, 1 + k % 3, 100.0 + 60.0 * k, 30.0))
    return make_scene(
        HazardFamily.LEAD_BRAKING,
        road,
        agents,
        [
            Manoeuvre(
                agent_id="hazard",
                kind=ManoeuvreKind.BRAKE,
                trigger=Trigger(kind=TriggerKind.TIME, value=2.0),
                accel_mps2=-6.0,
                target_speed_mps=0.0,
            )
        ],
    )


ALL_HAND_SCENES = {
    "lead_stopped": lead_stopped_scene,
    "cut_in": cut_in_scene,
    "ped": ped_crossing_scene,
    "red_runner": red_runner_scene,
    "left_turn": left_turn_scene,
    "curve": curve_scene,
    "highway": highway_scene,
}
