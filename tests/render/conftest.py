"""Hand-built scenes, roads and rollouts for the render tests (no dependency on world/)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from generator.render.types import CameraConfig
from generator.world.types import (
    MapElement,
    MapElementKind,
    RoadGeometry,
    RolloutBatch,
    RolloutChecks,
)
from scenario_library.scene import (
    AGENT_KIND_CODES,
    AGENT_ROLE_CODES,
    AgentInit,
    AgentKind,
    AgentRole,
    ConcreteScenario,
    HazardFamily,
    LaneRef,
    Lighting,
    RoadContext,
    RoadLayout,
    Scene,
    Weather,
)

LANE_W = 3.5


def _band(x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0, 0], [x1, y0, 0], [x1, y1, 0], [x0, y1, 0]], dtype=np.float64)


def _line(x0: float, x1: float, y: float) -> np.ndarray:
    xs = np.arange(x0, x1 + 0.1, 0.5)
    return np.column_stack([xs, np.full_like(xs, y), np.zeros_like(xs)])


def hand_road(length_m: float = 200.0, with_crosswalk: bool = True) -> RoadGeometry:
    """Straight road along +x: lanes -1 (y -3.5..0), -2 (y -7..-3.5), +1 (y 0..3.5),
    sidewalks 2 m on both sides, grass beyond; optional crosswalk at x 40..44 and a pole."""
    x0, x1 = -20.0, length_m
    els = [
        MapElement(MapElementKind.GRASS, _band(x0, x1, -30, -9), closed=True),
        MapElement(MapElementKind.GRASS, _band(x0, x1, 5.5, 30), closed=True),
        MapElement(MapElementKind.SIDEWALK, _band(x0, x1, -9, -7), closed=True),
        MapElement(MapElementKind.SIDEWALK, _band(x0, x1, 3.5, 5.5), closed=True),
        MapElement(MapElementKind.LANE, _band(x0, x1, -3.5, 0), closed=True, element_id="l-1"),
        MapElement(MapElementKind.LANE, _band(x0, x1, -7, -3.5), closed=True, element_id="l-2"),
        MapElement(MapElementKind.LANE, _band(x0, x1, 0, 3.5), closed=True, element_id="l+1"),
        MapElement(MapElementKind.LANE_LINE, _line(x0, x1, -3.5), dashed=True),
        MapElement(MapElementKind.CENTRE_LINE, _line(x0, x1, 0.0)),
        MapElement(MapElementKind.ROAD_BOUNDARY, _line(x0, x1, -7.0)),
        MapElement(MapElementKind.ROAD_BOUNDARY, _line(x0, x1, 3.5)),
        MapElement(
            MapElementKind.POLE, np.array([[30.0, -8.0, 0.0], [30.0, -8.0, 6.0]]), element_id="p0"
        ),
    ]
    if with_crosswalk:
        els.append(MapElement(MapElementKind.CROSSWALK, _band(40, 44, -7, 3.5), closed=True))
    drivable = (_band(x0, x1, -7, 3.5)[:, :2],)
    return RoadGeometry(elements=tuple(els), centrelines={}, drivable=drivable)


def hand_scene(
    agents: Sequence[tuple[str, AgentKind, tuple[float, float, float]]],
    weather: Weather = Weather.CLEAR,
    lighting: Lighting = Lighting.DAY,
) -> Scene:
    """agents: (id, kind, (length, width, height)); the ego comes first automatically."""
    road = RoadLayout(
        context=RoadContext.URBAN_STRAIGHT,
        length_m=200.0,
        lane_width_m=LANE_W,
        lanes_right=2,
        lanes_left=1,
        sidewalk_width_m=2.0,
        speed_limit_mps=14.0,
    )
    inits = [
        AgentInit(
            agent_id="ego",
            kind=AgentKind.CAR,
            role=AgentRole.EGO,
            length_m=4.5,
            width_m=1.8,
            height_m=1.5,
            start=LaneRef(road_id=0, lane_id=-1),
            s_m=0.0,
            speed_mps=10.0,
        )
    ]
    for aid, kind, (ln, wd, ht) in agents:
        inits.append(
            AgentInit(
                agent_id=aid,
                kind=kind,
                role=AgentRole.BACKGROUND,
                length_m=ln,
                width_m=wd,
                height_m=ht,
                start=LaneRef(road_id=0, lane_id=-1),
                s_m=20.0,
                speed_mps=0.0,
            )
        )
    return Scene(
        scenario=ConcreteScenario(
            class_id=1,
            class_name="hand",
            tags=("family:lead_vehicle_stopped",),
            family=HazardFamily.LEAD_STOPPED,
            road_context=RoadContext.URBAN_STRAIGHT,
            weather=weather,
            lighting=lighting,
            seed=0,
            params={},
        ),
        road=road,
        agents=tuple(inits),
        manoeuvres=(),
        friction_mu=0.9,
        dt_s=0.1,
        horizon_s=2.0,
    )


def hand_rollout(scene: Scene, states: np.ndarray, dt_s: float = 0.1) -> RolloutBatch:
    """states: [A, T, 3] (x, y, yaw) per agent and step (agent 0 = ego)."""
    a_n, t_n, _ = states.shape
    w = 1
    dims = np.array([[a.length_m, a.width_m, a.height_m] for a in scene.agents], np.float32)
    checks = RolloutChecks(
        collision=np.zeros(w, bool),
        ego_collision=np.zeros(w, bool),
        first_collision_step=np.full(w, -1, np.int32),
        offroad=np.zeros((w, a_n), bool),
        comfort_violation=np.zeros((w, a_n), bool),
        physics_violation=np.zeros((w, a_n), bool),
        min_ttc_s=np.full(w, np.inf),
        corner_case_occurred=np.ones(w, bool),
        progress_m=np.zeros(w),
    )
    speed = np.zeros((w, a_n, t_n), np.float32)
    return RolloutBatch(
        dt_s=dt_s,
        agent_ids=tuple(a.agent_id for a in scene.agents),
        kind_codes=np.array([AGENT_KIND_CODES[a.kind] for a in scene.agents], np.int8),
        role_codes=np.array([AGENT_ROLE_CODES[a.role] for a in scene.agents], np.int8),
        dims_m=dims,
        x_m=states[None, :, :, 0].astype(np.float32),
        y_m=states[None, :, :, 1].astype(np.float32),
        yaw_rad=states[None, :, :, 2].astype(np.float32),
        speed_mps=speed,
        accel_mps2=speed.copy(),
        checks=checks,
    )


def static_states(poses: Sequence[tuple[float, float, float]], n_steps: int = 11) -> np.ndarray:
    """[A, T, 3] with every agent fixed at its pose."""
    return np.repeat(np.array(poses, np.float64)[:, None, :], n_steps, axis=1)


@pytest.fixture
def small_camera() -> CameraConfig:
    return CameraConfig(width_px=160, height_px=96, fps=10.0)


@pytest.fixture
def hand() -> object:
    """The hand-made factories of this module, for tests (conftest is not importable)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        road=hand_road, scene=hand_scene, rollout=hand_rollout, static=static_states
    )
