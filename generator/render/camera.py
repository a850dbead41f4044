"""Pinhole camera geometry: world -> ego -> camera -> pixel, box corners, near-plane clipping.

Frames (see ``generator.render.types``): world (x forward along road 0, y left, z up), ego
(origin at the ego's box centre on the ground, x forward, y left, z up), camera (OpenCV: x right,
y down, z forward). Depth everywhere in this package is the camera-frame z [m] of a point
(not the Euclidean ray length). Pixel (u, v): u right, v down, origin at the top-left corner of
the top-left pixel, so the centre of pixel (row i, column j) is (j + 0.5, i + 0.5).
"""

from __future__ import annotations

import numpy as np

from generator.render.types import CameraConfig

#: Points closer than this to the camera plane are clipped away [m].
NEAR_M = 0.3


def box_corners(
    x: np.ndarray | float,
    y: np.ndarray | float,
    yaw: np.ndarray | float,
    length: np.ndarray | float,
    width: np.ndarray | float,
    height: np.ndarray | float,
) -> np.ndarray:
    """Corners of upright boxes standing on the ground (z from 0 to ``height``) [..., 8, 3].

    ``x, y`` is the box centre on the ground [m], ``yaw`` its heading [rad] (CCW from +x).
    Corner order (box-local: +x forward, +y left): bottom face first, then the top face in the
    same order: 0 front-left, 1 front-right, 2 rear-right, 3 rear-left (z=0); 4 front-left,
    5 front-right, 6 rear-right, 7 rear-left (z=height). Inputs broadcast together.
    """
    x, y, yaw, length, width, height = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (x, y, yaw, length, width, height))
    )
    sx = np.array([1, 1, -1, -1, 1, 1, -1, -1], dtype=np.float64) * 0.5
    sy = np.array([1, -1, -1, 1, 1, -1, -1, 1], dtype=np.float64) * 0.5
    sz = np.array([0, 0, 0, 0, 1, 1, 1, 1], dtype=np.float64)
    lx = length[..., None] * sx
    ly = width[..., None] * sy
    c, s = np.cos(yaw)[..., None], np.sin(yaw)[..., None]
    out = np.empty((*x.shape, 8, 3), dtype=np.float64)
    out[..., 0] = x[..., None] + c * lx - s * ly
    out[..., 1] = y[..., None] + s * lx + c * ly
    out[..., 2] = height[..., None] * sz
    return out


def world_to_ego_matrix(ego_x: float, ego_y: float, ego_yaw: float) -> np.ndarray:
    """4x4 transform taking world points to the ego frame of an ego pose (x, y, yaw)."""
    c, s = np.cos(ego_yaw), np.sin(ego_yaw)
    m = np.eye(4)
    m[:2, :2] = [[c, s], [-s, c]]
    m[:2, 3] = -(m[:2, :2] @ np.array([ego_x, ego_y]))
    return m


def world_to_camera_matrix(
    camera: CameraConfig, ego_x: float, ego_y: float, ego_yaw: float
) -> np.ndarray:
    """4x4 transform taking world points to camera-frame points for one ego pose."""
    return camera.ego_to_camera @ world_to_ego_matrix(ego_x, ego_y, ego_yaw)


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 4x4 rigid transform to points [..., 3]."""
    p = np.asarray(points, dtype=np.float64)
    return p @ matrix[:3, :3].T + matrix[:3, 3]


def project(camera: CameraConfig, points_cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera-frame points [..., 3] -> (pixel uv [..., 2], depth z [...]).

    u = fx * x / z + cx, v = fx * y / z + cy. Points with z <= 0 get nan pixels.
    """
    p = np.asarray(points_cam, dtype=np.float64)
    z = p[..., 2]
    k = camera.intrinsic
    with np.errstate(divide="ignore", invalid="ignore"):
        zz = np.where(z > 0, z, np.nan)
        u = k[0, 0] * p[..., 0] / zz + k[0, 2]
        v = k[1, 1] * p[..., 1] / zz + k[1, 2]
    return np.stack([u, v], axis=-1), z


def project_world(
    camera: CameraConfig, ego_pose: tuple[float, float, float], points_world: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """World points [..., 3] -> (pixel uv, camera depth) seen from the ego pose (x, y, yaw)."""
    m = world_to_camera_matrix(camera, *ego_pose)
    return project(camera, transform_points(m, points_world))


def clip_segment_near(
    p0: np.ndarray, p1: np.ndarray, near_m: float = NEAR_M
) -> tuple[np.ndarray, np.ndarray] | None:
    """Clip a camera-frame segment to z >= near_m; None if fully behind."""
    z0, z1 = float(p0[2]), float(p1[2])
    if z0 < near_m and z1 < near_m:
        return None
    if z0 >= near_m and z1 >= near_m:
        return p0, p1
    t = (near_m - z0) / (z1 - z0)
    q = p0 + t * (p1 - p0)
    return (q, p1) if z0 < near_m else (p0, q)


def clip_polygon_near(poly: np.ndarray, near_m: float = NEAR_M) -> np.ndarray:
    """Sutherland-Hodgman clip of a camera-frame polygon [N, 3] to z >= near_m -> [M, 3]."""
    out: list[np.ndarray] = []
    n = len(poly)
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        ina, inb = a[2] >= near_m, b[2] >= near_m
        if ina:
            out.append(a)
        if ina != inb:
            t = (near_m - a[2]) / (b[2] - a[2])
            out.append(a + t * (b - a))
    return np.array(out, dtype=np.float64).reshape(-1, 3)


def horizon_row(camera: CameraConfig) -> float:
    """Image row v [px] of the horizon (rays parallel to the ground) for a level ego.

    Computed from ``camera.ego_to_camera`` (the image of a point infinitely far ahead)."""
    r = camera.ego_to_camera[:3, :3]
    return float(camera.height_px / 2 + camera.fx * r[1, 0] / r[2, 0])
