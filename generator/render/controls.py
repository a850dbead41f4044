"""Control maps of a rolled-out scene: HD map + boxes, depth, semantic, instance, and labels.

``render_controls`` samples the rollout at the camera's frame rate, renders every frame with the
numba kernels of :mod:`generator.render.raster`, draws the Cosmos-Transfer HD-map video and
builds per-frame object labels. Static map solids (signal poles and housings, signs, and the
street lamps of ``STREET_LAMP`` elements: post, arm, luminaire) go through the same z-buffer as
the agents: real depth, semantic ``pole_sign_light``, instance 0 (scenery), HD-map pole colour;
a lamp whose post an agent of the clip would pass through is left out (:func:`lamps_in_the_way`).
Instance ids: an agent's index in ``scene.agents`` (the ego,
index 0, is never drawn), so ids are 1-based over the non-ego agents; 0 is background.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from generator import buffers as pool
from generator.errors import RenderError
from generator.render import raster
from generator.render.camera import NEAR_M, box_corners, world_to_camera_matrix
from generator.render.frames import run_frames
from generator.render.groundmap import (
    DASH_ON_M,
    DASH_PERIOD_M,
    GROUND_SEMANTIC,
    GroundRaster,
    ground_raster_for,
    resample_polyline,
)
from generator.render.palette import (
    HD_BOX_EDGE_WIDTH_PX,
    HD_GROUND_LUT,
    HD_LANE_LINE,
    HD_POLE,
    HD_POLYLINE_WIDTH_PX,
    HD_ROAD_BOUNDARY,
    HD_TRAFFIC_LIGHT,
    HD_TRAFFIC_SIGN,
    HD_WAIT_LINE,
    INSTANCE_LUT,
    KIND_CODE_BOX_RGB,
    KIND_CODE_SEMANTIC,
    SEMANTIC_LUT,
    apply_lut,
    box_fade,
    depth_grey,
)
from generator.render.types import (
    SEMANTIC_CLASSES,
    CameraConfig,
    ControlMaps,
    FrameLabels,
    ObjectFrameLabel,
)
from generator.world.geometry import lamp_head
from generator.world.types import MapElementKind, RoadGeometry, RolloutBatch
from scenario_library.scene import Scene

#: ground farther than this along the camera axis is drawn as sky [m]
FAR_GROUND_M = 1500.0
#: map lines beyond this camera depth are not drawn on the HD-map video [m]
HD_MAP_RANGE_M = 200.0
POLE_SIZE_M = 0.2
LIGHT_HOUSING_DEPTH_M = 0.3
#: street-lamp solids: arm cross-section, luminaire (length along the arm, width, height) [m]
LAMP_ARM_SIZE_M = 0.12
LAMP_HEAD_SIZE_M = (0.6, 0.3, 0.2)
#: a street-lamp post closer than this to an agent's box (any rollout step) is left out [m]
LAMP_AGENT_CLEARANCE_M = 0.3


@dataclass(frozen=True)
class FramePoses:
    """Agent states at the frame times (linear interpolation; yaw on the circle)."""

    t_s: np.ndarray  # [T]
    x_m: np.ndarray  # [A, T]
    y_m: np.ndarray  # [A, T]
    yaw_rad: np.ndarray  # [A, T]
    speed_mps: np.ndarray  # [A, T]


def frame_times(
    rollout: RolloutBatch, fps: float, seconds: float | None, start_s: float = 0.0
) -> np.ndarray:
    """Frame times start_s + k / fps for ``seconds`` (default: the rest of the horizon) [s]."""
    horizon = (rollout.n_steps - 1) * rollout.dt_s
    if not 0.0 <= start_s < horizon:
        raise RenderError(f"start_s={start_s}: must be in [0, {horizon:.3f}) s")
    if seconds is None:
        seconds = horizon - start_s
    if seconds <= 0:
        raise RenderError(f"seconds={seconds}: must be > 0")
    n = max(round(seconds * fps), 1)
    t = start_s + np.arange(n, dtype=np.float64) / fps
    if t[-1] > horizon + 1e-6:
        raise RenderError(
            f"seconds={seconds}: needs frames up to t={t[-1]:.3f} s but the rollout ends at "
            f"{horizon:.3f} s"
        )
    return t


def interpolate_states(rollout: RolloutBatch, t_s: np.ndarray, world: int = 0) -> FramePoses:
    """Sample world ``world`` of a rollout at times ``t_s``."""
    ts = rollout.t_s
    a_n = rollout.n_agents
    out = {k: np.empty((a_n, len(t_s))) for k in ("x", "y", "yaw", "v")}
    for a in range(a_n):
        out["x"][a] = np.interp(t_s, ts, rollout.x_m[world, a].astype(np.float64))
        out["y"][a] = np.interp(t_s, ts, rollout.y_m[world, a].astype(np.float64))
        yaw = np.unwrap(rollout.yaw_rad[world, a].astype(np.float64))
        out["yaw"][a] = np.interp(t_s, ts, yaw)
        out["v"][a] = np.interp(t_s, ts, rollout.speed_mps[world, a].astype(np.float64))
    return FramePoses(t_s=t_s, x_m=out["x"], y_m=out["y"], yaw_rad=out["yaw"], speed_mps=out["v"])


# ------------------------------------------------------------------------------ static map parts
@dataclass(frozen=True)
class MapDrawables:
    """What the HD-map overlay and the z-buffer need from a road, prepared once per road."""

    seg_a: np.ndarray  # [S, 3]
    seg_b: np.ndarray  # [S, 3]
    seg_col: np.ndarray  # [S, 3] uint8
    seg_halfw: np.ndarray  # [S] px
    poly_pts: np.ndarray  # [P, 3] vertical polygons (lights, signs)
    poly_start: np.ndarray  # [G + 1]
    poly_col: np.ndarray  # [G, 3] uint8
    solid_corners: np.ndarray  # [K, 8, 3] static solids (poles, light housings, signs)
    solid_kind: tuple[str, ...]  # [K] element kind of each solid
    solid_ids: tuple[str, ...]  # [K] element id of each solid
    #: [L, 3] light sources of the drawn street lamps (world [m]); the sketch lights from these
    lamp_heads: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))


def _simplify(points: np.ndarray, tol_m: float = 0.02) -> np.ndarray:
    """Ramer-Douglas-Peucker simplification of a polyline [N, 3]."""
    n = len(points)
    if n <= 2:
        return points
    keep = np.zeros(n, bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        if j <= i + 1:
            continue
        a, b = points[i, :2], points[j, :2]
        d = b - a
        ln = float(np.hypot(*d))
        mid = points[i + 1 : j, :2] - a
        if ln < 1e-12:
            dist = np.hypot(mid[:, 0], mid[:, 1])
        else:
            dist = np.abs(mid[:, 0] * d[1] - mid[:, 1] * d[0]) / ln
        k = int(np.argmax(dist))
        if dist[k] > tol_m:
            keep[i + 1 + k] = True
            stack += [(i, i + 1 + k), (i + 1 + k, j)]
    return points[keep]


def _vertical_box(points: np.ndarray, depth_m: float) -> np.ndarray:
    """A thin box [8, 3] around a vertical polygon (light housing, sign)."""
    xy = points[:, :2]
    centre = xy.mean(axis=0)
    d = xy - centre
    k = int(np.argmax(np.hypot(d[:, 0], d[:, 1])))
    yaw = float(np.arctan2(d[k, 1], d[k, 0])) if np.hypot(*d[k]) > 1e-6 else 0.0
    along = d @ np.array([np.cos(yaw), np.sin(yaw)])
    length = max(float(along.max() - along.min()), 0.1)
    z0, z1 = float(points[:, 2].min()), float(points[:, 2].max())
    c = box_corners(centre[0], centre[1], yaw, length, depth_m, max(z1 - z0, 0.1))
    c[:, 2] += z0
    return c


def street_lamp_solids(points: np.ndarray) -> list[np.ndarray]:
    """Solid boxes [8, 3] of one ``STREET_LAMP`` element: the post, the arm and the luminaire
    at the arm end (its underside ``LAMP_HEAD_SIZE_M[2]`` below the arm top)."""
    base, top, end = points[0], points[1], points[-1]
    h = max(float(top[2]), 0.1)
    out = [box_corners(base[0], base[1], 0.0, POLE_SIZE_M, POLE_SIZE_M, h)]
    d = end[:2] - top[:2]
    arm_len = float(np.hypot(*d))
    if arm_len > 1e-6:
        yaw = float(np.arctan2(d[1], d[0]))
        mid = (top[:2] + end[:2]) / 2
        arm = box_corners(mid[0], mid[1], yaw, arm_len, LAMP_ARM_SIZE_M, LAMP_ARM_SIZE_M)
        arm[:, 2] += h - LAMP_ARM_SIZE_M
        hl, hw, hh = LAMP_HEAD_SIZE_M
        c = end[:2] - (hl / 2 - LAMP_ARM_SIZE_M / 2) * d / arm_len
        head = box_corners(c[0], c[1], yaw, hl, hw, hh)
        head[:, 2] += h - hh
        out += [arm, head]
    return out


def build_map_drawables(road: RoadGeometry, skip_ids: frozenset[str] = frozenset()) -> MapDrawables:
    """Segments, polygons and solids of the map elements of ``road`` (minus ``skip_ids``)."""
    seg_a: list[np.ndarray] = []
    seg_b: list[np.ndarray] = []
    cols: list[tuple[int, int, int]] = []
    line_col = {
        MapElementKind.LANE_LINE: HD_LANE_LINE,
        MapElementKind.CENTRE_LINE: HD_LANE_LINE,
        MapElementKind.ROAD_BOUNDARY: HD_ROAD_BOUNDARY,
        MapElementKind.STOP_LINE: HD_WAIT_LINE,
    }
    polys: list[np.ndarray] = []
    poly_cols: list[tuple[int, int, int]] = []
    solids: list[np.ndarray] = []
    solid_kind: list[str] = []
    solid_ids: list[str] = []
    heads: list[tuple[float, float, float]] = []
    for e in road.elements:
        if e.element_id and e.element_id in skip_ids:
            continue
        p = np.asarray(e.points_xyz, dtype=np.float64)
        if e.kind in line_col:
            if e.dashed:
                xy, s = resample_polyline(p, 0.25)
                on = np.mod(s, DASH_PERIOD_M) < DASH_ON_M
                pts = np.column_stack([xy, np.zeros(len(xy))])
                for i in range(len(pts) - 1):
                    if on[i] and on[i + 1]:
                        seg_a.append(pts[i])
                        seg_b.append(pts[i + 1])
                        cols.append(line_col[e.kind])
            else:
                q = _simplify(p)
                for i in range(len(q) - 1):
                    seg_a.append(q[i])
                    seg_b.append(q[i + 1])
                    cols.append(line_col[e.kind])
        elif e.kind is MapElementKind.POLE:
            seg_a.append(p[0])
            seg_b.append(p[-1])
            cols.append(HD_POLE)
            h = float(p[:, 2].max())
            solids.append(box_corners(p[0, 0], p[0, 1], 0.0, POLE_SIZE_M, POLE_SIZE_M, max(h, 0.1)))
            solid_kind.append(e.kind.value)
            solid_ids.append(e.element_id)
        elif e.kind is MapElementKind.STREET_LAMP:
            # a pole in the HD map (post and arm as pole polylines), post/arm/luminaire solids
            for i in range(len(p) - 1):
                seg_a.append(p[i])
                seg_b.append(p[i + 1])
                cols.append(HD_POLE)
            for box in street_lamp_solids(p):
                solids.append(box)
                solid_kind.append(e.kind.value)
                solid_ids.append(e.element_id)
            heads.append(lamp_head(p))
        elif e.kind in (MapElementKind.TRAFFIC_LIGHT, MapElementKind.TRAFFIC_SIGN):
            pts = p[:-1] if np.allclose(p[0], p[-1]) and len(p) > 3 else p
            polys.append(pts)
            is_light = e.kind is MapElementKind.TRAFFIC_LIGHT
            poly_cols.append(HD_TRAFFIC_LIGHT if is_light else HD_TRAFFIC_SIGN)
            solids.append(_vertical_box(pts, LIGHT_HOUSING_DEPTH_M if is_light else 0.05))
            solid_kind.append(e.kind.value)
            solid_ids.append(e.element_id)
    starts = np.cumsum([0] + [len(q) for q in polys]).astype(np.int64)
    return MapDrawables(
        seg_a=np.array(seg_a, np.float64).reshape(-1, 3),
        seg_b=np.array(seg_b, np.float64).reshape(-1, 3),
        seg_col=np.array(cols, np.uint8).reshape(-1, 3),
        seg_halfw=np.full(len(seg_a), HD_POLYLINE_WIDTH_PX / 2),
        poly_pts=np.concatenate(polys).astype(np.float64) if polys else np.zeros((0, 3)),
        poly_start=starts,
        poly_col=np.array(poly_cols, np.uint8).reshape(-1, 3),
        solid_corners=np.array(solids, np.float64).reshape(-1, 8, 3),
        solid_kind=tuple(solid_kind),
        solid_ids=tuple(solid_ids),
        lamp_heads=np.array(heads, np.float64).reshape(-1, 3),
    )


_DRAWABLES: dict[int, tuple[weakref.ref[RoadGeometry], MapDrawables]] = {}


def map_drawables_for(road: RoadGeometry) -> MapDrawables:
    """``build_map_drawables`` cached per RoadGeometry object."""
    hit = _DRAWABLES.get(id(road))
    if hit is not None and hit[0]() is road:
        return hit[1]
    d = build_map_drawables(road)
    key = id(road)
    _DRAWABLES[key] = (weakref.ref(road, lambda _r: _DRAWABLES.pop(key, None)), d)
    return d


def lamps_in_the_way(road: RoadGeometry, rollout: RolloutBatch) -> frozenset[str]:
    """Ids of the ``STREET_LAMP`` elements whose post an agent of world 0 passes within
    ``LAMP_AGENT_CLEARANCE_M`` of (its box, at any rollout step).

    Lamp positions are fixed per road layout and agents never drive on the sidewalk or the
    median, but some hazards cross them (a pedestrian stepping off the kerb, a wrong-way car
    crossing the central reservation): a post there would stand inside the agent. Such a post
    is left out of the clip, in every control map and the RGB alike."""
    lamps = [e for e in road.elements if e.kind is MapElementKind.STREET_LAMP]
    if not lamps or rollout.n_agents == 0:
        return frozenset()
    post = np.array([e.points_xyz[0, :2] for e in lamps], np.float64)  # [L, 2]
    x = rollout.x_m[0].astype(np.float64)  # [A, T]
    y = rollout.y_m[0].astype(np.float64)
    yaw = rollout.yaw_rad[0].astype(np.float64)
    reach = LAMP_AGENT_CLEARANCE_M + POLE_SIZE_M / 2
    half_l = rollout.dims_m[:, 0].astype(np.float64)[:, None] / 2 + reach  # [A, 1]
    half_w = rollout.dims_m[:, 1].astype(np.float64)[:, None] / 2 + reach
    radius = np.hypot(half_l, half_w)  # coarse test first: [L] x [A, T] distances
    blocked = []
    for k, (px, py) in enumerate(post):
        dx, dy = px - x, py - y
        near = dx * dx + dy * dy < radius * radius
        if not near.any():
            continue
        c, s = np.cos(yaw[near]), np.sin(yaw[near])
        lx = c * dx[near] + s * dy[near]
        ly = -s * dx[near] + c * dy[near]
        hl = np.broadcast_to(half_l, x.shape)[near]
        hw = np.broadcast_to(half_w, x.shape)[near]
        if ((np.abs(lx) < hl) & (np.abs(ly) < hw)).any():
            blocked.append(lamps[k].element_id)
    return frozenset(blocked)


def drawables_for_clip(road: RoadGeometry, rollout: RolloutBatch) -> MapDrawables:
    """``map_drawables_for(road)`` minus the street lamps the clip's agents pass through."""
    blocked = lamps_in_the_way(road, rollout)
    if not blocked:
        return map_drawables_for(road)
    return build_map_drawables(road, skip_ids=blocked)


# ---------------------------------------------------------------------------------- the frames
@dataclass(frozen=True)
class FrameGeometry:
    """Per-frame camera and boxes; shared by control maps and the sketch renderer."""

    rot: np.ndarray  # [T, 3, 3] world -> camera rotation
    cen: np.ndarray  # [T, 3] camera centre, world frame [m]
    poses: FramePoses
    agent_index: np.ndarray  # [N] scene agent index of each drawn agent (ego excluded)
    agent_corners: np.ndarray  # [T, N, 8, 3] world frame


def frame_geometry(rollout: RolloutBatch, camera: CameraConfig, t_s: np.ndarray) -> FrameGeometry:
    poses = interpolate_states(rollout, t_s)
    n_t = len(t_s)
    rot = np.empty((n_t, 3, 3))
    cen = np.empty((n_t, 3))
    for t in range(n_t):
        m = world_to_camera_matrix(camera, poses.x_m[0, t], poses.y_m[0, t], poses.yaw_rad[0, t])
        rot[t] = m[:3, :3]
        cen[t] = -m[:3, :3].T @ m[:3, 3]
    idx = np.arange(1, rollout.n_agents)
    dims = rollout.dims_m.astype(np.float64)
    corners = box_corners(
        poses.x_m[idx].T,
        poses.y_m[idx].T,
        poses.yaw_rad[idx].T,
        dims[idx, 0][None],
        dims[idx, 1][None],
        dims[idx, 2][None],
    )  # [T, N, 8, 3]
    return FrameGeometry(rot=rot, cen=cen, poses=poses, agent_index=idx, agent_corners=corners)


@dataclass(frozen=True)
class RasterBuffers:
    depth_m: np.ndarray  # [T, H, W] float32
    semantic: np.ndarray  # [T, H, W] uint8
    instance: np.ndarray  # [T, H, W] uint16
    ground_code: np.ndarray  # [T, H, W] uint8 GroundCode, raster.SKY_CODE, raster.SOLID_CODE
    hdmap: np.ndarray  # [T, H, W, 3] uint8 (ground fill only until the overlay is drawn)
    cover: np.ndarray  # [T, N + K] unoccluded pixel counts of agents then static solids
    visible: np.ndarray  # [T, A] pixels per instance id
    bbox: np.ndarray  # [T, N + K, 4]


def rasterise(
    geo: FrameGeometry,
    rollout: RolloutBatch,
    camera: CameraConfig,
    ground: GroundRaster,
    drawables: MapDrawables,
) -> RasterBuffers:
    n_t = geo.rot.shape[0]
    h, w = camera.height_px, camera.width_px
    k_static = drawables.solid_corners.shape[0]
    corners = np.concatenate(
        [geo.agent_corners, np.broadcast_to(drawables.solid_corners, (n_t, k_static, 8, 3))],
        axis=1,
    )
    inst_ids = np.concatenate([geo.agent_index, np.zeros(k_static, np.int64)]).astype(np.int32)
    kinds = rollout.kind_codes[geo.agent_index].astype(np.int64)
    sem_ids = np.concatenate(
        [KIND_CODE_SEMANTIC[kinds], np.full(k_static, SEMANTIC_CLASSES["pole_sign_light"])]
    ).astype(np.uint8)
    n_solid = corners.shape[1]
    buf = RasterBuffers(
        depth_m=pool.empty((n_t, h, w), np.float32),
        semantic=pool.empty((n_t, h, w), np.uint8),
        instance=pool.empty((n_t, h, w), np.uint16),
        ground_code=pool.empty((n_t, h, w), np.uint8),
        hdmap=pool.empty((n_t, h, w, 3), np.uint8),
        cover=np.zeros((n_t, n_solid), np.int64),
        visible=np.zeros((n_t, rollout.n_agents), np.int64),
        bbox=np.zeros((n_t, n_solid, 4), np.float64),
    )
    k = camera.intrinsic
    run_frames(
        raster.render_frames,
        n_t,
        geo.rot,
        geo.cen,
        float(k[0, 0]),
        float(k[0, 2]),
        float(k[1, 2]),
        FAR_GROUND_M,
        NEAR_M,
        ground.codes,
        ground.x0_m,
        ground.y0_m,
        ground.res_m,
        GROUND_SEMANTIC,
        HD_GROUND_LUT,
        np.ascontiguousarray(corners),
        inst_ids,
        sem_ids,
        geo.agent_corners.shape[1],
        buf.depth_m,
        buf.semantic,
        buf.instance,
        buf.ground_code,
        buf.hdmap,
        buf.cover,
        buf.visible,
        buf.bbox,
    )
    return buf


def _ego_distance(geo: FrameGeometry) -> np.ndarray:
    """[T, N] horizontal distance from the ego's centre to each drawn agent's centre [m]."""
    p = geo.poses
    dx = p.x_m[geo.agent_index] - p.x_m[0][None]
    dy = p.y_m[geo.agent_index] - p.y_m[0][None]
    return np.hypot(dx, dy).T


def draw_hdmap_overlay(
    buf: RasterBuffers,
    geo: FrameGeometry,
    rollout: RolloutBatch,
    camera: CameraConfig,
    drawables: MapDrawables,
) -> None:
    """Map polylines (8 px), light/sign polygons and 3D-box edges (5 px, depth-faded)."""
    dist = _ego_distance(geo)
    kinds = rollout.kind_codes[geo.agent_index].astype(np.int64)
    col = (KIND_CODE_BOX_RGB[kinds][None] * box_fade(dist)[..., None]).astype(np.uint8)
    order = np.argsort(-dist, axis=1, kind="stable").astype(np.int64)
    order = np.where((dist < 122.5)[np.arange(dist.shape[0])[:, None], order], order, -1)
    k = camera.intrinsic
    run_frames(
        raster.draw_hdmap_frames,
        buf.hdmap.shape[0],
        buf.hdmap,
        geo.rot,
        geo.cen,
        float(k[0, 0]),
        float(k[0, 2]),
        float(k[1, 2]),
        NEAR_M,
        HD_MAP_RANGE_M,
        drawables.seg_a,
        drawables.seg_b,
        drawables.seg_col,
        drawables.seg_halfw,
        drawables.poly_pts,
        drawables.poly_start,
        drawables.poly_col,
        np.ascontiguousarray(geo.agent_corners),
        order,
        np.ascontiguousarray(col),
        HD_BOX_EDGE_WIDTH_PX / 2,
    )


def build_labels(
    buf: RasterBuffers, geo: FrameGeometry, rollout: RolloutBatch, camera: CameraConfig
) -> tuple[FrameLabels, ...]:
    h, w = camera.height_px, camera.width_px
    dist = _ego_distance(geo)
    p = geo.poses
    out = []
    for t in range(len(p.t_s)):
        c, s = np.cos(p.yaw_rad[0, t]), np.sin(p.yaw_rad[0, t])
        rot_we = np.array([[c, s], [-s, c]])
        objs = []
        for n, a in enumerate(geo.agent_index):
            cw = geo.agent_corners[t, n]
            ce = cw.copy()
            ce[:, :2] = (cw[:, :2] - [p.x_m[0, t], p.y_m[0, t]]) @ rot_we.T
            u0, v0, u1, v1 = buf.bbox[t, n]
            bb: tuple[float, float, float, float] | None = None
            if np.isfinite(u0):
                x0, y0 = max(float(u0), 0.0), max(float(v0), 0.0)
                x1, y1 = min(float(u1), float(w)), min(float(v1), float(h))
                if x1 > x0 and y1 > y0:
                    bb = (x0, y0, x1, y1)
            vis = int(buf.visible[t, a])
            cov = int(buf.cover[t, n])
            objs.append(
                ObjectFrameLabel(
                    agent_id=rollout.agent_ids[a],
                    instance_id=int(a),
                    corners_world=cw,
                    corners_ego=ce,
                    bbox_xyxy=bb,
                    visible_fraction=min(vis / cov, 1.0) if cov > 0 else 0.0,
                    pixel_count=vis,
                    distance_m=float(dist[t, n]),
                )
            )
        out.append(
            FrameLabels(
                frame_index=t,
                t_s=float(p.t_s[t]),
                ego_pose_xy_yaw=(float(p.x_m[0, t]), float(p.y_m[0, t]), float(p.yaw_rad[0, t])),
                objects=tuple(objs),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class RenderState:
    """Internals of one ``render_controls`` call, reused by the sketch renderer."""

    geometry: FrameGeometry
    buffers: RasterBuffers
    ground: GroundRaster
    drawables: MapDrawables


_STATES: dict[int, tuple[weakref.ref[ControlMaps], RenderState]] = {}


def render_state_of(controls: ControlMaps) -> RenderState | None:
    """The internal buffers of ``controls`` if it was made by ``render_controls`` here."""
    hit = _STATES.get(id(controls))
    if hit is not None and hit[0]() is controls:
        return hit[1]
    return None


def render_controls(
    scene: Scene,
    road: RoadGeometry,
    rollout: RolloutBatch,
    camera: CameraConfig,
    seconds: float | None = None,
    start_s: float = 0.0,
) -> ControlMaps:
    """Render the control maps and labels of world 0 of ``rollout`` at ``camera.fps``.

    Frames are at t = start_s + k / fps, k = 0 .. round(seconds * fps) - 1 (``seconds``
    defaults to the rest of the rollout horizon); agent states are interpolated linearly (yaw
    on the circle).
    """
    if rollout.n_agents != len(scene.agents):
        raise RenderError(
            f"rollout.n_agents={rollout.n_agents}: scene has {len(scene.agents)} agents"
        )
    t_s = frame_times(rollout, camera.fps, seconds, start_s)
    geo = frame_geometry(rollout, camera, t_s)
    ground = ground_raster_for(road)
    drawables = drawables_for_clip(road, rollout)
    buf = rasterise(geo, rollout, camera, ground, drawables)
    labels = build_labels(buf, geo, rollout, camera)
    draw_hdmap_overlay(buf, geo, rollout, camera, drawables)
    controls = ControlMaps(
        camera=camera,
        t_s=t_s,
        hdmap=buf.hdmap,
        depth_m=buf.depth_m,
        semantic=buf.semantic,
        instance=buf.instance,
        labels=labels,
    )
    key = id(controls)
    _STATES[key] = (
        weakref.ref(controls, lambda _r: _STATES.pop(key, None)),
        RenderState(geometry=geo, buffers=buf, ground=ground, drawables=drawables),
    )
    return controls


# ------------------------------------------------------------------------------- colour videos
def semantic_video(controls: ControlMaps) -> np.ndarray:
    """[T, H, W, 3] uint8 semantic video in the palette ``palette.SEMANTIC_PALETTE``."""
    return _lut_video(controls.semantic, SEMANTIC_LUT)


def instance_video(controls: ControlMaps) -> np.ndarray:
    """[T, H, W, 3] uint8: each instance id in a stable colour (``palette.instance_colour``)."""
    return _lut_video(controls.instance, INSTANCE_LUT)


def depth_video(controls: ControlMaps) -> np.ndarray:
    """Fast equivalent of ``ControlMaps.depth_video()`` (identical bytes)."""
    out = pool.empty((*controls.depth_m.shape, 3), np.uint8)
    run_frames(depth_grey, out.shape[0], controls.depth_m, out)
    return out


def _lut_video(ids: np.ndarray, lut: np.ndarray) -> np.ndarray:
    out = pool.empty((*ids.shape, 3), np.uint8)
    run_frames(apply_lut, out.shape[0], ids, lut, out)
    return out
