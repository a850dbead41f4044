"""Small hand-built clips for the io / quality / augment tests.

The renderer is another part; here a scene, a straight-line rollout and control maps are built
by hand: boxes are projected with the real ``CameraConfig`` and each visible box fills its 2D
rectangle in the instance mask (nearer boxes drawn last), which is enough to exercise labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from generator.render.types import CameraConfig, ControlMaps, FrameLabels, ObjectFrameLabel
from generator.world.types import RolloutBatch, RolloutChecks
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


def _corners(x: float, y: float, yaw: float, lwh: np.ndarray) -> np.ndarray:
    sx = np.array([1, 1, -1, -1, 1, 1, -1, -1]) * 0.5 * lwh[0]
    sy = np.array([1, -1, -1, 1, 1, -1, -1, 1]) * 0.5 * lwh[1]
    sz = np.array([0, 0, 0, 0, 1, 1, 1, 1]) * lwh[2]
    c, s = np.cos(yaw), np.sin(yaw)
    return np.stack([x + c * sx - s * sy, y + s * sx + c * sy, sz], axis=-1)


def make_scene() -> Scene:
    scenario = ConcreteScenario(
        class_id=7,
        class_name="cut_in_highway_rain_day",
        tags=("family:cut_in", "road:highway", "weather:rain", "light:day", "lane_change"),
        family=HazardFamily.CUT_IN,
        road_context=RoadContext.HIGHWAY,
        weather=Weather.RAIN,
        lighting=Lighting.DAY,
        seed=3,
        params={"ego_speed_kmh": 90.0, "ttc_trigger_s": 2.5, "cut_in_gap_m": 18.0},
    )
    road = RoadLayout(
        context=RoadContext.HIGHWAY,
        length_m=400.0,
        lane_width_m=3.5,
        lanes_right=2,
        lanes_left=0,
        speed_limit_mps=33.0,
    )
    lane = LaneRef(road_id=0, lane_id=-1)
    agents = (
        AgentInit(
            agent_id="ego",
            kind=AgentKind.CAR,
            role=AgentRole.EGO,
            length_m=4.5,
            width_m=1.9,
            height_m=1.5,
            start=lane,
            s_m=10.0,
            speed_mps=10.0,
        ),
        AgentInit(
            agent_id="hazard",
            kind=AgentKind.CAR,
            role=AgentRole.HAZARD,
            length_m=4.6,
            width_m=1.9,
            height_m=1.5,
            start=LaneRef(road_id=0, lane_id=-2),
            s_m=30.0,
            speed_mps=8.0,
        ),
        AgentInit(
            agent_id="bg0",
            kind=AgentKind.TRUCK,
            role=AgentRole.BACKGROUND,
            length_m=10.0,
            width_m=2.5,
            height_m=3.5,
            start=lane,
            s_m=60.0,
            speed_mps=10.0,
        ),
        AgentInit(
            agent_id="bg1",
            kind=AgentKind.CAR,
            role=AgentRole.BACKGROUND,
            length_m=4.5,
            width_m=1.9,
            height_m=1.5,
            start=lane,
            s_m=-20.0,
            speed_mps=10.0,
        ),
    )
    return Scene(
        scenario=scenario,
        road=road,
        agents=agents,
        manoeuvres=(),
        friction_mu=0.6,
        dt_s=0.1,
        horizon_s=1.0,
    )


def make_rollout(scene: Scene, n_steps: int = 11) -> RolloutBatch:
    n_agents = len(scene.agents)
    t = np.arange(n_steps) * scene.dt_s
    x = np.zeros((1, n_agents, n_steps), np.float32)
    y = np.zeros_like(x)
    yaw = np.zeros_like(x)
    speed = np.zeros_like(x)
    lanes_y = {-1: -1.75, -2: -5.25}
    for a, ag in enumerate(scene.agents):
        x[0, a] = ag.s_m + ag.speed_mps * t
        y[0, a] = lanes_y[ag.start.lane_id]
        speed[0, a] = ag.speed_mps
    # the hazard drifts towards the ego lane (cut-in), yawing slightly right
    y[0, 1] += np.linspace(0.0, 1.5, n_steps)
    yaw[0, 1] = 0.15
    w = (1, n_agents)
    checks = RolloutChecks(
        collision=np.zeros(1, bool),
        ego_collision=np.zeros(1, bool),
        first_collision_step=np.full(1, -1, np.int32),
        offroad=np.zeros(w, bool),
        comfort_violation=np.zeros(w, bool),
        physics_violation=np.zeros(w, bool),
        min_ttc_s=np.full(1, 3.0),
        corner_case_occurred=np.ones(1, bool),
        progress_m=np.full(1, 10.0),
    )
    return RolloutBatch(
        dt_s=scene.dt_s,
        agent_ids=tuple(a.agent_id for a in scene.agents),
        kind_codes=np.array([AGENT_KIND_CODES[a.kind] for a in scene.agents], np.int8),
        role_codes=np.array([AGENT_ROLE_CODES[a.role] for a in scene.agents], np.int8),
        dims_m=np.array([[a.length_m, a.width_m, a.height_m] for a in scene.agents], np.float32),
        x_m=x,
        y_m=y,
        yaw_rad=yaw,
        speed_mps=speed,
        accel_mps2=np.zeros_like(x),
        checks=checks,
    )


def make_controls(rollout: RolloutBatch, camera: CameraConfig) -> ControlMaps:
    """Control maps at the rollout steps: instance mask = 2D box rectangles, far to near."""
    n = rollout.n_steps
    h, w = camera.height_px, camera.width_px
    inst = np.zeros((n, h, w), np.uint16)
    sem = np.full((n, h, w), 2, np.uint8)
    sem[:, : h // 2] = 1
    depth = np.full((n, h, w), np.inf, np.float32)
    hd = np.zeros((n, h, w, 3), np.uint8)
    labels = []
    k = camera.intrinsic
    for f in range(n):
        ex, ey, eyaw = (
            float(rollout.x_m[0, 0, f]),
            float(rollout.y_m[0, 0, f]),
            float(rollout.yaw_rad[0, 0, f]),
        )
        c, s = np.cos(eyaw), np.sin(eyaw)
        w2e = np.array([[c, s, 0], [-s, c, 0], [0, 0, 1.0]])
        objs = []
        order = []
        for a in range(1, rollout.n_agents):
            cw = _corners(
                float(rollout.x_m[0, a, f]),
                float(rollout.y_m[0, a, f]),
                float(rollout.yaw_rad[0, a, f]),
                rollout.dims_m[a].astype(float),
            )
            ce = (cw - [ex, ey, 0.0]) @ w2e.T
            pc = ce @ camera.ego_to_camera[:3, :3].T + camera.ego_to_camera[:3, 3]
            dist = float(np.linalg.norm(ce.mean(axis=0)[:2]))
            bbox = None
            if (pc[:, 2] > 0.3).all():
                u = k[0, 0] * pc[:, 0] / pc[:, 2] + k[0, 2]
                v = k[1, 1] * pc[:, 1] / pc[:, 2] + k[1, 2]
                x0, x1 = np.clip([u.min(), u.max()], 0, w)
                y0, y1 = np.clip([v.min(), v.max()], 0, h)
                if x1 - x0 >= 1 and y1 - y0 >= 1:
                    bbox = (float(x0), float(y0), float(x1), float(y1))
            objs.append([a, cw, ce, bbox, dist])
            order.append(dist)
        for i in np.argsort(order)[::-1]:  # far first, near last (occludes)
            a, _, _, bbox, dist = objs[i]
            if bbox is not None:
                x0, y0, x1, y1 = (round(v) for v in bbox)
                inst[f, y0:y1, x0:x1] = a
                sem[f, y0:y1, x0:x1] = 7
                depth[f, y0:y1, x0:x1] = dist
                hd[f, y0:y1, x0:x1] = (255, 0, 0)
        frame_objs = []
        for a, cw, ce, bbox, dist in objs:
            count = int((inst[f] == a).sum())
            if bbox is not None:
                x0, y0, x1, y1 = (round(v) for v in bbox)
                area = max(1, (y1 - y0) * (x1 - x0))
                vf = count / area
            else:
                vf = 0.0
            frame_objs.append(
                ObjectFrameLabel(
                    agent_id=rollout.agent_ids[a],
                    instance_id=a,
                    corners_world=cw,
                    corners_ego=ce,
                    bbox_xyxy=bbox if count > 0 else None,
                    visible_fraction=vf,
                    pixel_count=count,
                    distance_m=dist,
                )
            )
        labels.append(
            FrameLabels(
                frame_index=f,
                t_s=f * rollout.dt_s,
                ego_pose_xy_yaw=(ex, ey, eyaw),
                objects=tuple(frame_objs),
            )
        )
    return ControlMaps(
        camera=camera,
        t_s=np.arange(n) * rollout.dt_s,
        hdmap=hd,
        depth_m=depth,
        semantic=sem,
        instance=inst,
        labels=tuple(labels),
    )


def make_frames(controls: ControlMaps, seed: int = 0) -> np.ndarray:
    """RGB frames that look like a sketch: sky, road, red boxes where instances are, noise."""
    rng = np.random.default_rng(seed)
    sem = controls.semantic
    rgb = np.zeros((*sem.shape, 3), np.uint8)
    rgb[sem == 1] = (135, 180, 230)
    rgb[sem == 2] = (90, 90, 95)
    rgb[controls.instance > 0] = (200, 40, 40)
    noise = rng.integers(-12, 13, size=rgb.shape)
    return np.clip(rgb.astype(np.int16) + noise, 0, 255).astype(np.uint8)


@dataclass
class Clip:
    scene: Scene
    rollout: RolloutBatch
    controls: ControlMaps
    frames: np.ndarray
    extra: dict = field(default_factory=dict)


def make_clip(width: int = 160, height: int = 96, n_steps: int = 11) -> Clip:
    scene = make_scene()
    rollout = make_rollout(scene, n_steps)
    camera = CameraConfig(width_px=width, height_px=height, fps=1.0 / scene.dt_s)
    controls = make_controls(rollout, camera)
    return Clip(scene, rollout, controls, make_frames(controls))


@pytest.fixture(scope="session")
def clip() -> Clip:
    return make_clip()


# ------------------------------------------------------------------ fakes of catalog *data*
@dataclass(frozen=True)
class FakeFileRef:
    kind: str
    uri: str


@dataclass(frozen=True)
class FakeClipRecord:
    token: str
    class_name: str
    files: list[FakeFileRef]
    class_id: int = 7


class FakeStorage:
    """Storage whose URIs are plain local paths."""

    def local_path(self, uri: str) -> Path:
        return Path(uri)


@pytest.fixture(scope="session")
def clip_factory():
    """``make_clip(width, height, n_steps)`` for tests that need their own clip."""
    return make_clip


@pytest.fixture(scope="session")
def catalog_fakes():
    """(FileRef, ClipRecord, Storage) stand-ins: the catalog's data objects, duck-typed."""
    return FakeFileRef, FakeClipRecord, FakeStorage
