"""Stage outputs of rendering: camera calibration, control maps and per-frame labels.

Camera frame (OpenCV habit): x right, y down, z forward, metres. Ego frame: x forward, y left,
z up, origin at the ego's box centre on the ground (projection of the rear axle is not used).
Image: pixel (u, v) with u to the right, v down, origin at the top-left pixel's corner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from generator.errors import RenderError


class CameraConfig(BaseModel):
    """A pinhole front camera rigidly mounted on the ego."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    width_px: int = Field(default=1280, ge=16, le=4096)
    height_px: int = Field(default=704, ge=16, le=4096)
    fps: float = Field(default=10.0, gt=0, le=60)
    hfov_deg: float = Field(default=70.0, gt=10, lt=170)
    #: mount position in the ego frame [m] (x forward of box centre, y left, z up)
    mount_x_m: float = 0.8
    mount_y_m: float = 0.0
    mount_z_m: float = 1.5
    pitch_deg: float = Field(default=2.0, description="down-tilt, + looks down")

    @property
    def fx(self) -> float:
        return self.width_px / 2 / float(np.tan(np.radians(self.hfov_deg) / 2))

    @property
    def intrinsic(self) -> np.ndarray:
        """3x3 K matrix [px]; square pixels, principal point at the image centre."""
        return np.array(
            [[self.fx, 0.0, self.width_px / 2], [0.0, self.fx, self.height_px / 2], [0, 0, 1.0]]
        )

    @property
    def ego_to_camera(self) -> np.ndarray:
        """4x4 transform taking ego-frame points to camera-frame points."""
        p = np.radians(self.pitch_deg)
        # axes of the camera expressed in the ego frame (rows): x_cam=-y_ego, y_cam=-z, z_cam=x
        base = np.array([[0, -1, 0], [0, 0, -1], [1, 0, 0]], dtype=np.float64)
        # pitch down about the camera x axis
        rot_x = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
        r = rot_x @ base
        t = -r @ np.array([self.mount_x_m, self.mount_y_m, self.mount_z_m])
        m = np.eye(4)
        m[:3, :3] = r
        m[:3, 3] = t
        return m


@dataclass(frozen=True)
class ObjectFrameLabel:
    """One agent in one frame."""

    agent_id: str
    instance_id: int  # value in the instance mask (1-based; 0 = background)
    #: [8, 3] box corners, world frame [m], order: see render.camera.box_corners
    corners_world: np.ndarray
    corners_ego: np.ndarray  # [8, 3] same corners, ego frame [m]
    bbox_xyxy: tuple[float, float, float, float] | None  # clipped to the image, None if off
    visible_fraction: float  # visible pixels / pixels the box would cover unoccluded, 0..1
    pixel_count: int  # pixels of this instance in the instance mask
    distance_m: float  # ego-frame distance to the box centre


@dataclass(frozen=True)
class FrameLabels:
    frame_index: int
    t_s: float
    ego_pose_xy_yaw: tuple[float, float, float]
    objects: tuple[ObjectFrameLabel, ...]  # every non-ego agent, visible or not


#: Semantic class ids of the semantic map (value in ``ControlMaps.semantic``).
SEMANTIC_CLASSES: dict[str, int] = {
    "unlabeled": 0,
    "sky": 1,
    "road": 2,
    "lane_marking": 3,
    "sidewalk": 4,
    "crosswalk": 5,
    "vegetation": 6,
    "car": 7,
    "truck": 8,
    "pedestrian": 9,
    "cyclist": 10,
    "animal": 11,
    "obstacle": 12,
    "pole_sign_light": 13,
    "parking": 14,
}


@dataclass(frozen=True)
class ControlMaps:
    """Pixel-aligned control videos for T frames of H x W pixels."""

    camera: CameraConfig
    t_s: np.ndarray  # [T] frame times [s]
    hdmap: np.ndarray  # [T, H, W, 3] uint8: HD map + 3D boxes, Cosmos-Transfer colours
    depth_m: np.ndarray  # [T, H, W] float32 metric depth (inf for sky)
    semantic: np.ndarray  # [T, H, W] uint8 class ids, see SEMANTIC_CLASSES
    instance: np.ndarray  # [T, H, W] uint16 instance ids (0 = none)
    labels: tuple[FrameLabels, ...]  # [T]

    @property
    def n_frames(self) -> int:
        return int(self.hdmap.shape[0])

    def depth_video(self) -> np.ndarray:
        """[T, H, W, 3] uint8: depth clipped to 75 m, mapped linearly to 0-255 grey."""
        d = np.nan_to_num(self.depth_m, nan=75.0, posinf=75.0)
        g = (np.clip(d, 0.0, 75.0) * (255.0 / 75.0)).astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=-1)

    def validate(self) -> None:
        t = self.t_s.shape[0]
        h, w = self.camera.height_px, self.camera.width_px
        if self.hdmap.shape != (t, h, w, 3) or self.hdmap.dtype != np.uint8:
            raise RenderError(f"hdmap must be uint8 [{t}, {h}, {w}, 3], got {self.hdmap.shape}")
        for name in ("depth_m", "semantic", "instance"):
            if getattr(self, name).shape != (t, h, w):
                raise RenderError(f"{name} must be [{t}, {h}, {w}]")
        if len(self.labels) != t:
            raise RenderError(f"labels must have {t} frames, got {len(self.labels)}")
