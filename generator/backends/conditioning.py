"""Conditioning videos and masks for neural backends, built from :class:`ControlMaps`.

The control mix (``layout_control_video``)
-------------------------------------------
VACE-style models accept one control video. Ours is the **HD-map + 3D-box video** in the
Cosmos-Transfer colours (lane lines, boundaries, crosswalks, projected box edges by class),
with the **depth video** filled in wherever the HD map drew nothing, dimmed by
``depth_weight`` (default 0.5) so that map and box colours stay the strongest signal:

    control = hdmap                            where any hdmap channel > 0
              depth_weight * depth_grey        elsewhere (grey: 0 at 0 m .. 255 at >= 75 m)

Why both: the HD map + boxes pin *where* lanes and objects are (what the labels promise),
the depth fill gives the model the scene's geometry (road plane, kerbs, the bodies of
objects, the sky at "far") so it does not invent structure in the empty black areas.
``depth_weight=0`` gives the pure Cosmos HD-map video; ``depth_weight=1`` full depth.

Masks follow VACE: 1 = generate this pixel, 0 = keep the pixel given in the video.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from generator.errors import BackendRequestError
from generator.render.types import ControlMaps


def layout_control_video(controls: ControlMaps, depth_weight: float = 0.5) -> np.ndarray:
    """[T, H, W, 3] uint8 control video: HD map + boxes, depth elsewhere (see module doc)."""
    if not 0.0 <= depth_weight <= 1.0:
        raise BackendRequestError(f"depth_weight={depth_weight}: must be in [0, 1]")
    hd = controls.hdmap
    if depth_weight == 0.0:
        return hd.copy()
    depth = (controls.depth_video().astype(np.float32) * depth_weight).round().astype(np.uint8)
    drawn = (hd > 0).any(axis=-1, keepdims=True)
    return np.where(drawn, hd, depth)


def resize_video(
    frames: np.ndarray, height: int, width: int, *, nearest: bool = False
) -> np.ndarray:
    """Resize [T, H, W, C] uint8 (or [T, H, W] masks) frame by frame with PIL."""
    if frames.shape[1:3] == (height, width):
        return frames
    mode = Image.Resampling.NEAREST if nearest else Image.Resampling.BICUBIC
    out = [np.asarray(Image.fromarray(f).resize((width, height), mode)) for f in frames]
    return np.stack(out, axis=0)


def snap_size(height: int, width: int, factor: int) -> tuple[int, int]:
    """Nearest (height, width) that are positive multiples of ``factor`` (for real clips of
    arbitrary size: work there, resample back, so labels keep their pixel coordinates)."""
    return (
        max(factor, round(height / factor) * factor),
        max(factor, round(width / factor) * factor),
    )


def to_pil_frames(frames: np.ndarray) -> list[Image.Image]:
    """[T, H, W, 3] uint8 -> list of RGB PIL images (what diffusers video pipelines take)."""
    return [Image.fromarray(np.ascontiguousarray(f), "RGB") for f in frames]


def mask_to_pil(mask: np.ndarray) -> list[Image.Image]:
    """[T, H, W] bool/0-1 -> list of RGB PIL images, white = generate (VACE's mask)."""
    m = (np.asarray(mask) > 0).astype(np.uint8) * 255
    return [Image.fromarray(np.repeat(f[..., None], 3, axis=-1), "RGB") for f in m]


def float_frames_to_uint8(frames: np.ndarray) -> np.ndarray:
    """Pipeline output in [0, 1] float -> uint8 (round half up, clipped)."""
    return (np.clip(frames, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def dilate_mask(mask: np.ndarray, radius_px: int) -> np.ndarray:
    """Square dilation of a [T, H, W] bool mask by ``radius_px`` pixels (numpy only)."""
    m = np.asarray(mask, dtype=bool)
    if radius_px <= 0:
        return m
    out = m.copy()
    h, w = m.shape[1:]
    for dy in range(-radius_px, radius_px + 1):
        for dx in range(-radius_px, radius_px + 1):
            ys = slice(max(dy, 0), h + min(dy, 0))
            yd = slice(max(-dy, 0), h + min(-dy, 0))
            xs = slice(max(dx, 0), w + min(dx, 0))
            xd = slice(max(-dx, 0), w + min(-dx, 0))
            out[:, yd, xd] |= m[:, ys, xs]
    return out


def shift_video(frames: np.ndarray, dx_px: int, dy_px: int) -> np.ndarray:
    """Translate [T, H, W, ...] content by (dx right, dy down) pixels, zero fill."""
    out = np.zeros_like(frames)
    h, w = frames.shape[1:3]
    src_y = slice(max(-dy_px, 0), h - max(dy_px, 0))
    dst_y = slice(max(dy_px, 0), h - max(-dy_px, 0))
    src_x = slice(max(-dx_px, 0), w - max(dx_px, 0))
    dst_x = slice(max(dx_px, 0), w - max(-dx_px, 0))
    if src_y.start < src_y.stop and src_x.start < src_x.stop:
        out[:, dst_y, dst_x] = frames[:, src_y, src_x]
    return out


def actor_layer(
    controls: ControlMaps,
    agent_id: str,
    *,
    offset_px: tuple[int, int] = (0, 0),
    dilate_px: int = 4,
    depth_weight: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """The rendered control of one actor and its mask, moved by ``offset_px`` (dx, dy).

    Returns ``(control [T, H, W, 3] uint8, mask [T, H, W] bool)``: the layout control video
    (:func:`layout_control_video`) inside the actor's instance pixels plus its drawn box edges,
    zero elsewhere; the mask is those pixels dilated by ``dilate_px`` (room for shadows and
    the model's blending). Labels of the actor shift by the same ``offset_px``.
    """
    instance_id = None
    for fl in controls.labels:
        for ob in fl.objects:
            if ob.agent_id == agent_id:
                instance_id = ob.instance_id
                break
        if instance_id is not None:
            break
    if instance_id is None:
        raise BackendRequestError(f"agent_id={agent_id!r}: no such agent in the control maps")
    pixels = controls.instance == instance_id
    box_px = np.zeros_like(pixels)
    for t, fl in enumerate(controls.labels):
        for ob in fl.objects:
            if ob.agent_id == agent_id and ob.bbox_xyxy is not None:
                x0, y0, x1, y1 = (round(v) for v in ob.bbox_xyxy)
                box_px[t, max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = True
    box_px &= (controls.hdmap > 0).any(axis=-1)  # box edges drawn in the HD-map video
    region = pixels | box_px
    control = np.where(region[..., None], layout_control_video(controls, depth_weight), 0)
    dx, dy = offset_px
    control = shift_video(control.astype(np.uint8), dx, dy)
    mask = dilate_mask(shift_video(region, dx, dy), dilate_px)
    return control, mask
