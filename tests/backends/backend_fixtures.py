"""Hand-made synthetic requests with small control maps for the neural backend tests
(imported by name: tests/backends/conftest.py puts this folder on sys.path)."""

from __future__ import annotations

import numpy as np

from generator.backends.base import BackendRequest
from generator.render.types import CameraConfig, ControlMaps, FrameLabels, ObjectFrameLabel
from generator.world.types import RoadGeometry, RolloutBatch, RolloutChecks
from scenario_library.scene import (
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


def make_scene(
    family: HazardFamily = HazardFamily.CHILD_OCCLUDED,
    weather: Weather = Weather.RAIN,
    lighting: Lighting = Lighting.NIGHT,
    road: RoadContext = RoadContext.URBAN_STRAIGHT,
    tags: tuple[str, ...] = ("family:child_emerging_behind_parked_cars", "vru", "occlusion"),
) -> Scene:
    scenario = ConcreteScenario(
        class_id=7,
        class_name="child behind parked cars",
        tags=tags,
        family=family,
        road_context=road,
        weather=weather,
        lighting=lighting,
        seed=0,
        params={"ego_speed_kmh": 40.0},
    )
    layout = RoadLayout(
        context=road,
        length_m=200.0,
        lane_width_m=3.5,
        lanes_right=1,
        lanes_left=1,
        parking_lane_right=True,
        sidewalk_width_m=2.0,
        speed_limit_mps=13.9,
    )
    ego = AgentInit(
        agent_id="ego",
        kind=AgentKind.CAR,
        role=AgentRole.EGO,
        length_m=4.5,
        width_m=1.8,
        height_m=1.5,
        start=LaneRef(road_id=0, lane_id=-1),
        s_m=10.0,
        speed_mps=11.0,
    )
    child = AgentInit(
        agent_id="hazard",
        kind=AgentKind.PEDESTRIAN,
        role=AgentRole.HAZARD,
        length_m=0.4,
        width_m=0.4,
        height_m=1.2,
        start=LaneRef(road_id=0, lane_id=-2),
        s_m=40.0,
        speed_mps=0.0,
        heading_rad=1.57,
    )
    return Scene(
        scenario=scenario, road=layout, agents=(ego, child), manoeuvres=(), friction_mu=0.6
    )


def make_controls(n_frames: int, height: int, width: int, seed: int = 0) -> ControlMaps:
    """Small synthetic control maps: a road trapezoid, lane lines and one moving box."""
    rng = np.random.default_rng(seed)
    cam = CameraConfig(width_px=width, height_px=height, fps=10.0)
    hd = np.zeros((n_frames, height, width, 3), np.uint8)
    depth = np.full((n_frames, height, width), np.inf, np.float32)
    sem = np.zeros((n_frames, height, width), np.uint8)
    inst = np.zeros((n_frames, height, width), np.uint16)
    rows = np.arange(height)[:, None]
    depth[:, height // 2 :, :] = (75.0 * (height - rows[height // 2 :]) / (height / 2)).astype(
        np.float32
    )
    sem[:, height // 2 :, :] = 2
    hd[:, height // 2 :, width // 2 - 1 : width // 2 + 1] = (98, 183, 249)  # lane line
    labels = []
    for t in range(n_frames):
        x0 = 2 + t % max(1, width - 14)
        y0 = height // 2 - 2
        x1, y1 = x0 + 8, y0 + 10
        inst[t, y0:y1, x0:x1] = 1
        sem[t, y0:y1, x0:x1] = 9
        depth[t, y0:y1, x0:x1] = 20.0
        hd[t, y0, x0:x1] = hd[t, y1 - 1, x0:x1] = (0, 255, 0)
        hd[t, y0:y1, x0] = hd[t, y0:y1, x1 - 1] = (0, 255, 0)
        corners = rng.normal(size=(8, 3))
        ob = ObjectFrameLabel(
            agent_id="hazard",
            instance_id=1,
            corners_world=corners,
            corners_ego=corners,
            bbox_xyxy=(float(x0), float(y0), float(x1), float(y1)),
            visible_fraction=1.0,
            pixel_count=80,
            distance_m=20.0,
        )
        labels.append(FrameLabels(t, t / 10.0, (0.0, 0.0, 0.0), (ob,)))
    c = ControlMaps(
        camera=cam,
        t_s=np.arange(n_frames) / 10.0,
        hdmap=hd,
        depth_m=depth,
        semantic=sem,
        instance=inst,
        labels=tuple(labels),
    )
    c.validate()
    return c


def make_rollout(n_steps: int = 10) -> RolloutBatch:
    z = np.zeros((1, 2, n_steps), np.float32)
    checks = RolloutChecks(
        collision=np.zeros(1, bool),
        ego_collision=np.zeros(1, bool),
        first_collision_step=np.full(1, -1, np.int32),
        offroad=np.zeros((1, 2), bool),
        comfort_violation=np.zeros((1, 2), bool),
        physics_violation=np.zeros((1, 2), bool),
        min_ttc_s=np.full(1, np.inf),
        corner_case_occurred=np.ones(1, bool),
        progress_m=np.zeros(1),
    )
    return RolloutBatch(
        dt_s=0.1,
        agent_ids=("ego", "hazard"),
        kind_codes=np.array([0, 2], np.int8),
        role_codes=np.array([0, 1], np.int8),
        dims_m=np.ones((2, 3), np.float32),
        x_m=z,
        y_m=z,
        yaw_rad=z,
        speed_mps=z,
        accel_mps2=z,
        checks=checks,
    )


def make_request(
    n_frames: int = 9,
    height: int = 32,
    width: int = 48,
    seed: int = 0,
    prompt: str = "",
    source_frames: np.ndarray | None = None,
    strength: float = 1.0,
) -> BackendRequest:
    return BackendRequest(
        scene=make_scene(),
        road=RoadGeometry(elements=(), centrelines={}, drivable=()),
        rollout=make_rollout(),
        controls=make_controls(n_frames, height, width),
        prompt=prompt,
        seed=seed,
        source_frames=source_frames,
        strength=strength,
    )
