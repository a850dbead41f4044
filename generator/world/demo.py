"""Small hand-built scenes for kernel warm-up and benchmarks (no dependence on sampling).

``highway_braking_scene()``: a 3+3-lane highway, ego + a hard-braking lead + 14 background
cars (16 agents, the benchmark configuration). ``stopped_car_scene()``: ego approaching a
stopped car in its lane (the what-if sanity case).
"""

from __future__ import annotations

from scenario_library.scene import (
    FRICTION_BY_WEATHER,
    AgentInit,
    AgentKind,
    AgentRole,
    ConcreteScenario,
    HazardFamily,
    LaneRef,
    Lighting,
    Manoeuvre,
    ManoeuvreKind,
    RoadContext,
    RoadLayout,
    Scene,
    Trigger,
    TriggerKind,
    Weather,
)


def _car(
    agent_id: str,
    role: AgentRole,
    lane: int,
    s_m: float,
    speed: float,
    desired: float | None = None,
) -> AgentInit:
    return AgentInit(
        agent_id=agent_id,
        kind=AgentKind.CAR,
        role=role,
        length_m=4.6,
        width_m=1.9,
        height_m=1.5,
        start=LaneRef(road_id=0, lane_id=lane),
        s_m=s_m,
        speed_mps=speed,
        desired_speed_mps=desired,
    )


def _scenario(family: HazardFamily, context: RoadContext) -> ConcreteScenario:
    return ConcreteScenario(
        class_id=0,
        class_name=f"demo_{family.value}",
        tags=("demo",),
        family=family,
        road_context=context,
        weather=Weather.CLEAR,
        lighting=Lighting.DAY,
        seed=0,
        params={},
    )


def highway_braking_scene() -> Scene:
    """16 agents: ego, a lead braking at -6 m/s² after 2 s, 14 background cars."""
    road = RoadLayout(
        context=RoadContext.HIGHWAY,
        length_m=700.0,
        lane_width_m=3.7,
        lanes_right=3,
        lanes_left=3,
        median_width_m=3.0,
        shoulder_width_m=2.5,
        speed_limit_mps=33.0,
    )
    agents = [
        _car("ego", AgentRole.EGO, -2, 30.0, 30.0),
        _car("hazard", AgentRole.HAZARD, -2, 90.0, 30.0),
    ]
    for k in range(8):
        agents.append(
            _car(
                f"bg{k}",
                AgentRole.BACKGROUND,
                -(1 + k % 3),
                10.0 + 40.0 * k,
                25.0 + (k % 3),
                desired=30.0 + (k % 4),
            )
        )
    for k in range(6):
        agents.append(_car(f"bo{k}", AgentRole.BACKGROUND, 1 + k % 3, 150.0 + 70.0 * k, 30.0))
    return Scene(
        scenario=_scenario(HazardFamily.LEAD_BRAKING, RoadContext.HIGHWAY),
        road=road,
        agents=tuple(agents),
        manoeuvres=(
            Manoeuvre(
                agent_id="hazard",
                kind=ManoeuvreKind.BRAKE,
                trigger=Trigger(kind=TriggerKind.TIME, value=2.0),
                accel_mps2=-6.0,
                target_speed_mps=0.0,
            ),
        ),
        friction_mu=FRICTION_BY_WEATHER[Weather.CLEAR],
        horizon_s=8.0,
    )


def stopped_car_scene(ego_speed_mps: float = 15.0, gap_m: float = 45.0) -> Scene:
    """Ego at ``ego_speed_mps`` in lane -1 of a 2+1-lane road, a stopped car ``gap_m`` ahead."""
    road = RoadLayout(
        context=RoadContext.URBAN_STRAIGHT,
        length_m=300.0,
        lane_width_m=3.5,
        lanes_right=2,
        lanes_left=1,
        sidewalk_width_m=2.0,
        speed_limit_mps=16.7,
    )
    return Scene(
        scenario=_scenario(HazardFamily.LEAD_STOPPED, RoadContext.URBAN_STRAIGHT),
        road=road,
        agents=(
            _car("ego", AgentRole.EGO, -1, 20.0, ego_speed_mps),
            _car("hazard", AgentRole.HAZARD, -1, 20.0 + gap_m, 0.0),
        ),
        manoeuvres=(),
        friction_mu=FRICTION_BY_WEATHER[Weather.CLEAR],
        horizon_s=8.0,
    )
