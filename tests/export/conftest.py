"""Hand-built scenes for the export tests: all four road contexts, every manoeuvre kind.

They stand in for ``scenario_library.sampling.sample_scene`` and are written the way the scene
contract (scenario_library/scene.py) describes, independent of the sampler.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from scenario_library.scene import (
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

REPO = Path(__file__).resolve().parents[2]
TOOLS_VENV = REPO / ".venv-tools" / "asam-qc"

DIMS = {
    AgentKind.CAR: (4.5, 1.85, 1.5),
    AgentKind.TRUCK: (9.0, 2.5, 3.4),
    AgentKind.PEDESTRIAN: (0.5, 0.6, 1.75),
    AgentKind.CYCLIST: (1.8, 0.6, 1.7),
    AgentKind.ANIMAL: (1.6, 0.5, 1.2),
    AgentKind.OBSTACLE: (2.0, 1.0, 1.0),
}


def agent(agent_id, kind, role, road, lane, s, speed, **kw) -> AgentInit:
    length, width, height = kw.pop("dims", DIMS[kind])
    return AgentInit(
        agent_id=agent_id,
        kind=kind,
        role=role,
        length_m=length,
        width_m=width,
        height_m=height,
        start=LaneRef(road_id=road, lane_id=lane),
        s_m=s,
        speed_mps=speed,
        **kw,
    )


def scenario(class_id, family, context, weather=Weather.CLEAR, lighting=Lighting.DAY, seed=0):
    return ConcreteScenario(
        class_id=class_id,
        class_name=f"{family.value} / {context.value} / {weather.value} / {lighting.value}",
        tags=(f"family:{family.value}", f"road:{context.value}"),
        family=family,
        road_context=context,
        weather=weather,
        lighting=lighting,
        seed=seed,
        params={"ego_speed_kmh": 50.0},
    )


def urban_straight_scene() -> Scene:
    road = RoadLayout(
        context=RoadContext.URBAN_STRAIGHT, length_m=200.0, lane_width_m=3.25, lanes_right=1,
        lanes_left=1, parking_lane_right=True, sidewalk_width_m=2.0, speed_limit_mps=13.9,
        crosswalk_s_m=(120.0,),
    )  # fmt: skip
    agents = (
        agent("ego", AgentKind.CAR, AgentRole.EGO, 0, -1, 20.0, 13.9, desired_speed_mps=13.9),
        agent("lead", AgentKind.CAR, AgentRole.BACKGROUND, 0, -1, 45.0, 12.0,
              desired_speed_mps=13.0),
        agent("parked0", AgentKind.CAR, AgentRole.PARKED, 0, -2, 60.0, 0.0),
        agent("parked1", AgentKind.TRUCK, AgentRole.PARKED, 0, -2, 68.0, 0.0),
        agent("hazard", AgentKind.PEDESTRIAN, AgentRole.HAZARD, 0, -3, 72.0, 0.0,
              heading_rad=math.pi / 2, dims=(0.4, 0.5, 1.15)),
        agent("bg0", AgentKind.CAR, AgentRole.BACKGROUND, 0, 1, 150.0, 12.0),
    )  # fmt: skip
    manoeuvres = (
        Manoeuvre(agent_id="hazard", kind=ManoeuvreKind.CROSS,
                  trigger=Trigger(kind=TriggerKind.TTC, value=4.0), target_speed_mps=1.4),
        Manoeuvre(agent_id="lead", kind=ManoeuvreKind.BRAKE,
                  trigger=Trigger(kind=TriggerKind.DISTANCE, value=20.0),
                  target_speed_mps=0.0, accel_mps2=-6.0),
        Manoeuvre(agent_id="bg0", kind=ManoeuvreKind.KEEP,
                  trigger=Trigger(kind=TriggerKind.TIME, value=0.0), target_speed_mps=12.0),
    )  # fmt: skip
    return Scene(
        scenario=scenario(5 * 64 + 0, HazardFamily.CHILD_OCCLUDED, RoadContext.URBAN_STRAIGHT,
                          Weather.RAIN, Lighting.DUSK),
        road=road, agents=agents, manoeuvres=manoeuvres, friction_mu=0.6,
    )  # fmt: skip


def urban_intersection_scene() -> Scene:
    junction = JunctionLayout(
        s_m=100.0, arm_length_m=60.0, lanes_per_direction=1, has_traffic_lights=True,
        has_crosswalks=True,
    )  # fmt: skip
    road = RoadLayout(
        context=RoadContext.URBAN_INTERSECTION, length_m=200.0, lane_width_m=3.5, lanes_right=1,
        lanes_left=1, sidewalk_width_m=2.0, speed_limit_mps=13.9, junction=junction,
    )  # fmt: skip
    agents = (
        agent("ego", AgentKind.CAR, AgentRole.EGO, 0, -1, 40.0, 13.0),
        agent("hazard", AgentKind.CAR, AgentRole.HAZARD, 1, -1, 20.0, 12.0),
        agent("hazard2", AgentKind.CAR, AgentRole.HAZARD, 0, 1, 160.0, 10.0,
              turn_to=LaneRef(road_id=1, lane_id=1)),
        agent("cyclist", AgentKind.CYCLIST, AgentRole.HAZARD, 1, 1, 100.0, 5.0),
    )  # fmt: skip
    manoeuvres = (
        Manoeuvre(agent_id="hazard", kind=ManoeuvreKind.RUN_RED,
                  trigger=Trigger(kind=TriggerKind.TTC, value=3.5), target_speed_mps=14.0),
        Manoeuvre(agent_id="hazard2", kind=ManoeuvreKind.TURN,
                  trigger=Trigger(kind=TriggerKind.DISTANCE, value=45.0),
                  target_lane=LaneRef(road_id=1, lane_id=1), target_speed_mps=7.0),
        Manoeuvre(agent_id="cyclist", kind=ManoeuvreKind.CROSS,
                  trigger=Trigger(kind=TriggerKind.TIME, value=1.0), target_speed_mps=5.5),
    )  # fmt: skip
    cycle = ((LightPhase.GREEN, 20.0), (LightPhase.YELLOW, 3.0), (LightPhase.RED, 25.0))
    lights = (
        TrafficLight(light_id="tl0", road_id=0, stop_line_s_m=92.0, cycle=cycle),
        TrafficLight(light_id="tl1", road_id=1, stop_line_s_m=52.0,
                     cycle=((LightPhase.RED, 25.0), (LightPhase.GREEN, 20.0),
                            (LightPhase.YELLOW, 3.0)), offset_s=5.0),
    )  # fmt: skip
    return Scene(
        scenario=scenario(13 * 64 + 16, HazardFamily.RED_LIGHT_RUNNER,
                          RoadContext.URBAN_INTERSECTION, Weather.CLEAR, Lighting.NIGHT, seed=3),
        road=road, agents=agents, manoeuvres=manoeuvres, traffic_lights=lights,
        friction_mu=0.9,
    )  # fmt: skip


def highway_scene() -> Scene:
    road = RoadLayout(
        context=RoadContext.HIGHWAY, length_m=400.0, lane_width_m=3.75, lanes_right=3,
        lanes_left=3, median_width_m=3.0, shoulder_width_m=2.5, speed_limit_mps=36.1,
    )  # fmt: skip
    agents = (
        agent("ego", AgentKind.CAR, AgentRole.EGO, 0, -2, 50.0, 30.0),
        agent("hazard", AgentKind.CAR, AgentRole.HAZARD, 0, -3, 70.0, 25.0),
        agent("lead", AgentKind.TRUCK, AgentRole.BACKGROUND, 0, -2, 140.0, 22.0),
        agent("obstacle", AgentKind.OBSTACLE, AgentRole.HAZARD, 0, -1, 250.0, 0.0),
        agent("bg0", AgentKind.CAR, AgentRole.BACKGROUND, 0, 2, 300.0, 30.0),
    )  # fmt: skip
    manoeuvres = (
        Manoeuvre(agent_id="hazard", kind=ManoeuvreKind.LANE_CHANGE,
                  trigger=Trigger(kind=TriggerKind.TTC, value=3.0),
                  target_lane=LaneRef(road_id=0, lane_id=-2), duration_s=2.5,
                  target_speed_mps=24.0),
        Manoeuvre(agent_id="lead", kind=ManoeuvreKind.KEEP,
                  trigger=Trigger(kind=TriggerKind.TIME, value=0.5)),
    )  # fmt: skip
    return Scene(
        scenario=scenario(3 * 64 + 32, HazardFamily.CUT_IN, RoadContext.HIGHWAY, Weather.FOG,
                          Lighting.LOW_SUN, seed=7),
        road=road, agents=agents, manoeuvres=manoeuvres, friction_mu=0.9, horizon_s=10.0,
    )  # fmt: skip


def rural_curve_scene() -> Scene:
    road = RoadLayout(
        context=RoadContext.RURAL_CURVE, length_m=300.0, lane_width_m=3.25, lanes_right=1,
        lanes_left=1, shoulder_width_m=1.0, curve_radius_m=250.0, speed_limit_mps=25.0,
    )  # fmt: skip
    agents = (
        agent("ego", AgentKind.CAR, AgentRole.EGO, 0, -1, 30.0, 22.0),
        agent("hazard", AgentKind.ANIMAL, AgentRole.HAZARD, 0, 1, 140.0, 0.0,
              heading_rad=math.pi / 2),
        agent("oncoming", AgentKind.CAR, AgentRole.HAZARD, 0, 1, 280.0, 20.0),
    )  # fmt: skip
    manoeuvres = (
        Manoeuvre(agent_id="hazard", kind=ManoeuvreKind.CROSS,
                  trigger=Trigger(kind=TriggerKind.DISTANCE, value=60.0), target_speed_mps=3.0),
        Manoeuvre(agent_id="oncoming", kind=ManoeuvreKind.LANE_CHANGE,
                  trigger=Trigger(kind=TriggerKind.TIME, value=2.0),
                  target_lane=LaneRef(road_id=0, lane_id=-1), duration_s=3.0),
    )  # fmt: skip
    return Scene(
        scenario=scenario(14 * 64 + 48, HazardFamily.ANIMAL, RoadContext.RURAL_CURVE,
                          Weather.SNOW, Lighting.NIGHT, seed=11),
        road=road, agents=agents, manoeuvres=manoeuvres, friction_mu=0.3,
    )  # fmt: skip


HAND_SCENES = {
    "urban_straight": urban_straight_scene,
    "urban_intersection": urban_intersection_scene,
    "highway": highway_scene,
    "rural_curve": rural_curve_scene,
}


@pytest.fixture(params=sorted(HAND_SCENES))
def hand_scene(request) -> Scene:
    return HAND_SCENES[request.param]()


@pytest.fixture(scope="session")
def asam_tools() -> Path:
    """The ASAM checker venv, created by scripts/install-asam-qc.sh (idempotent, fast if present).

    Skips only if the environment cannot be created (no access to PyPI).
    """
    import subprocess

    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "install-asam-qc.sh"), str(TOOLS_VENV)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        pytest.skip(f"ASAM checker venv could not be created: {proc.stderr.strip()[-300:]}")
    return TOOLS_VENV


@pytest.fixture
def build():
    """The hand-scene builders by road context: ``build.highway()`` etc."""
    from types import SimpleNamespace

    return SimpleNamespace(**HAND_SCENES)
