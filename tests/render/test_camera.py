"""Projection geometry against hand-computed cases."""

from __future__ import annotations

import numpy as np

from generator.render.camera import (
    box_corners,
    clip_polygon_near,
    clip_segment_near,
    horizon_row,
    project,
    project_world,
    transform_points,
    world_to_ego_matrix,
)
from generator.render.types import CameraConfig


def test_point_straight_ahead_lands_on_principal_point() -> None:
    cam = CameraConfig(width_px=160, height_px=96, pitch_deg=0.0)
    d = 17.0
    # ego at the origin facing +x; a point at the camera's height, d metres in front of it
    p = np.array([cam.mount_x_m + d, cam.mount_y_m, cam.mount_z_m])
    uv, z = project_world(cam, (0.0, 0.0, 0.0), p)
    assert np.allclose(uv, [80.0, 48.0])
    assert np.isclose(z, d)


def test_lateral_offset_lands_at_fx_y_over_z() -> None:
    cam = CameraConfig(width_px=160, height_px=96, pitch_deg=0.0, hfov_deg=90.0)
    assert np.isclose(cam.fx, 80.0)
    d, y_left, up = 10.0, 2.0, 0.5
    p = np.array([cam.mount_x_m + d, y_left, cam.mount_z_m + up])
    uv, _ = project_world(cam, (0.0, 0.0, 0.0), p)
    # left in the ego frame is -x in the camera frame, up is -y
    assert np.isclose(uv[0], 80.0 - 80.0 * y_left / d)
    assert np.isclose(uv[1], 48.0 - 80.0 * up / d)


def test_ego_pose_moves_the_camera() -> None:
    cam = CameraConfig(width_px=160, height_px=96, pitch_deg=0.0)
    # ego at (100, 50) heading +y: a point 10 m further along +y is straight ahead
    p = np.array([100.0 + cam.mount_y_m, 50.0 + cam.mount_x_m + 10.0, cam.mount_z_m])
    uv, z = project_world(cam, (100.0, 50.0, np.pi / 2), p)
    assert np.allclose(uv, [80.0, 48.0], atol=1e-9)
    assert np.isclose(z, 10.0)


def test_horizon_row_is_the_image_of_far_points() -> None:
    cam = CameraConfig(width_px=160, height_px=96, pitch_deg=3.0)
    far = np.array([1e6, 0.0, cam.mount_z_m])
    uv, _ = project_world(cam, (0.0, 0.0, 0.0), far)
    assert np.isclose(uv[1], horizon_row(cam), atol=1e-3)
    assert np.isclose(horizon_row(CameraConfig(width_px=160, height_px=96, pitch_deg=0.0)), 48.0)


def test_positive_pitch_looks_down() -> None:
    cam = CameraConfig(width_px=160, height_px=96, pitch_deg=3.0)
    assert horizon_row(cam) < 48.0  # a down-tilted camera sees the horizon above the centre


def test_project_behind_camera_is_nan() -> None:
    cam = CameraConfig(width_px=160, height_px=96)
    uv, z = project(cam, np.array([[0.0, 0.0, -1.0]]))
    assert np.isnan(uv).all() and z[0] < 0


def test_box_corner_order() -> None:
    c = box_corners(10.0, 5.0, 0.0, 4.0, 2.0, 1.5)
    assert c.shape == (8, 3)
    assert np.allclose(c[0], [12, 6, 0])  # front-left bottom
    assert np.allclose(c[1], [12, 4, 0])  # front-right
    assert np.allclose(c[2], [8, 4, 0])  # rear-right
    assert np.allclose(c[3], [8, 6, 0])  # rear-left
    assert np.allclose(c[4:, :2], c[:4, :2]) and np.allclose(c[4:, 2], 1.5)
    # rotated 90 deg: front points to +y
    r = box_corners(0.0, 0.0, np.pi / 2, 4.0, 2.0, 1.0)
    assert np.allclose(r[0], [-1, 2, 0])
    batch = box_corners(np.zeros((3, 2)), 0.0, 0.0, 4.0, 2.0, 1.0)
    assert batch.shape == (3, 2, 8, 3)


def test_world_to_ego_inverts_pose() -> None:
    m = world_to_ego_matrix(3.0, 4.0, np.pi / 2)
    assert np.allclose(transform_points(m, np.array([3.0, 6.0, 1.0])), [2.0, 0.0, 1.0])


def test_near_plane_clipping() -> None:
    seg = clip_segment_near(np.array([0, 0, -1.0]), np.array([0, 0, 3.0]), 1.0)
    assert seg is not None and np.allclose(seg[0], [0, 0, 1.0])
    assert clip_segment_near(np.array([0, 0, -1.0]), np.array([0, 0, 0.5]), 1.0) is None
    sq = np.array([[-1, 0, -1.0], [1, 0, -1.0], [1, 0, 3.0], [-1, 0, 3.0]])
    out = clip_polygon_near(sq, 1.0)
    assert len(out) == 4 and out[:, 2].min() >= 1.0 - 1e-12
