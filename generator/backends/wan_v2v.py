"""Neural augmentation of real clips: restyle (weather / time of day) and hazard insertion.

Two operations, both keeping the clip's frame count, size and layout so that its labels stay
valid (an object's pixels stay where its boxes say):

* :func:`restyle_clip` / :class:`WanV2VBackend` (``wan-v2v``): diffusers
  ``WanVideoToVideoPipeline`` (Wan 2.1 T2V weights, e.g. ``Wan-AI/Wan2.1-T2V-1.3B-diffusers``).
  The source clip is noised to ``strength`` and denoised under a prompt describing the new
  weather / light. ``strength`` near 0 keeps the clip, 1 replaces it; 0.3-0.6 changes the
  atmosphere while keeping the layout. Long clips run as consecutive 81-frame chunks
  (``longclip.plan_chunks(overlap_frames=0)``): every source frame is restyled exactly once.
* :func:`insert_actor`: VACE masked editing (``WanVaceBackend.run_vace``). The video is the
  real clip outside the mask (mask 0: kept) and the hazard actor's rendered control (layout
  colours + depth of its pixels, from :func:`conditioning.actor_layer`, placed with an
  optional pixel offset) inside the mask (mask 1: generated). The actor's labels are the
  rendered ones, shifted by the same offset.

Lead's wiring for ``wmgen augment --neural``::

    frames2 = restyle_clip(frames, prompt=restyle_prompt(Weather.RAIN, Lighting.NIGHT),
                           strength=0.5, seed=seed, model_dir=v2v_dir)
    control, mask = actor_layer(controls, "hazard", offset_px=(dx, dy))
    frames3 = insert_actor(frames2, control, mask, prompt=..., seed=seed, model_dir=vace_dir)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from generator.backends.base import BackendOutput, BackendRequest
from generator.backends.conditioning import (
    float_frames_to_uint8,
    resize_video,
    snap_size,
    to_pil_frames,
)
from generator.backends.longclip import chunk_window, join_chunks, plan_chunks
from generator.backends.prompting import NEGATIVE_PROMPT, compose_prompt
from generator.backends.wan_vace import WanVaceBackend, seeded_generator
from generator.backends.weights import (
    LoadedPipeline,
    LoadOptions,
    load_pipeline,
    resolve_device,
    resolve_dtype,
    resolve_model_dir,
)
from generator.errors import BackendRequestError


def _check_frames(arg: str, frames: np.ndarray) -> None:
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise BackendRequestError(
            f"{arg}: expected uint8 [T, H, W, 3] frames, got {frames.dtype} {tuple(frames.shape)}"
        )


class WanV2VBackend:
    """Wan 2.1 video-to-video restyling behind the :class:`VideoBackend` interface.

    ``request.source_frames`` is the real clip ([T, H, W, 3] uint8, same T/H/W as the
    request's controls) and ``request.strength`` how much to change it.
    """

    name = "wan-v2v"
    pipeline_class_name = "WanVideoToVideoPipeline"

    def __init__(
        self,
        model_dir: str | Path | None = None,
        device: str | None = None,
        dtype: str | torch.dtype | None = None,
        enable_vae_tiling: bool = True,
        cpu_offload: bool = False,
        compile: bool = False,
        *,
        num_inference_steps: int | None = None,
        guidance_scale: float = 5.0,
        max_chunk_frames: int = 81,
        resolution: tuple[int, int] | None = None,
        negative_prompt: str = NEGATIVE_PROMPT,
    ) -> None:
        """``resolution=None`` works at the clip's size snapped to the nearest multiple of the
        model's factor (16) and resamples back; pass (h, w) to work elsewhere (e.g. Wan's
        native (480, 832) for large real clips)."""
        from diffusers import WanVideoToVideoPipeline

        dev = resolve_device(device)
        self.options = LoadOptions(
            device=dev,
            dtype=resolve_dtype(dtype, dev),
            enable_vae_tiling=enable_vae_tiling,
            cpu_offload=cpu_offload,
            compile=compile,
        )
        self.loaded: LoadedPipeline = load_pipeline(
            WanVideoToVideoPipeline, resolve_model_dir(model_dir), self.options
        )
        self.num_inference_steps = (
            int(num_inference_steps)
            if num_inference_steps is not None
            else self.loaded.default_steps(30)
        )
        self.guidance_scale = float(guidance_scale)
        self.resolution = resolution
        self.negative_prompt = negative_prompt
        plan_chunks(1, max_chunk_frames, 0, self.temporal_factor)  # validates 4k+1
        self.max_chunk_frames = int(max_chunk_frames)

    @property
    def pipe(self) -> Any:
        return self.loaded.pipe

    @property
    def spatial_factor(self) -> int:
        return int(self.pipe.vae_scale_factor_spatial * self.pipe.transformer.config.patch_size[1])

    @property
    def temporal_factor(self) -> int:
        return int(self.pipe.vae_scale_factor_temporal)

    def provenance(self) -> dict[str, str]:
        import diffusers

        return {
            "backend": self.name,
            "version": f"diffusers-{diffusers.__version__}",
            "pipeline": self.pipeline_class_name,
            "weights_sha256": self.loaded.weights_sha256,
            "tiny_checkpoint": str(self.loaded.tiny).lower(),
            "model_dir": self.loaded.model_dir,
            "device": self.options.device,
            "dtype": str(self.options.dtype).removeprefix("torch."),
            "num_inference_steps": str(self.num_inference_steps),
            "guidance_scale": str(self.guidance_scale),
        }

    def work_size(self, height: int, width: int) -> tuple[int, int]:
        h, w = self.loaded.work_size(height, width, self.spatial_factor, self.resolution)
        return (h, w) if self.resolution is not None else snap_size(h, w, self.spatial_factor)

    def check_inputs(self, height: int, width: int, strength: float) -> None:
        f = self.spatial_factor
        wh, ww = self.work_size(height, width)
        for arg, v in (("resolution height", wh), ("resolution width", ww)):
            if v < f or v % f:
                raise BackendRequestError(
                    f"{arg}={v}: must be a positive multiple of {f} for {self.name}"
                )
        if not 0.0 < strength <= 1.0:
            raise BackendRequestError(f"strength={strength}: must be in (0, 1]")
        if int(self.num_inference_steps * strength) < 1:
            raise BackendRequestError(
                f"strength={strength}: with num_inference_steps={self.num_inference_steps} no "
                f"denoising step is left (steps x strength < 1); raise either"
            )

    def restyle(self, frames: np.ndarray, prompt: str, strength: float, seed: int) -> np.ndarray:
        """[T, H, W, 3] uint8 -> restyled frames of the same shape."""
        _check_frames("source_frames", frames)
        t, h, w = frames.shape[:3]
        self.check_inputs(h, w, strength)
        wh, ww = self.work_size(h, w)
        src = resize_video(frames, wh, ww)
        plan = plan_chunks(t, self.max_chunk_frames, 0, self.temporal_factor)
        generator = seeded_generator(seed)
        outputs = []
        for chunk in plan.chunks:
            window = chunk_window(src, chunk)
            result = self.pipe(
                video=to_pil_frames(window),
                prompt=prompt,
                negative_prompt=self.negative_prompt,
                height=wh,
                width=ww,
                num_inference_steps=self.num_inference_steps,
                guidance_scale=self.guidance_scale,
                strength=strength,
                generator=generator,
                output_type="np",
            )
            out = np.asarray(result.frames[0])
            if out.shape[0] != chunk.n_frames:
                raise BackendRequestError(
                    f"pipeline returned {out.shape[0]} frames, expected {chunk.n_frames}"
                )
            outputs.append(float_frames_to_uint8(out))
        return resize_video(join_chunks(plan, outputs), h, w)

    def __call__(self, request: BackendRequest) -> BackendOutput:
        src = request.source_frames
        c = request.controls
        t, h, w = c.n_frames, c.camera.height_px, c.camera.width_px
        if src is None:
            raise BackendRequestError(
                "source_frames=None: wan-v2v restyles a real clip; give source_frames "
                "(or use 'wan-vace' to generate from control maps)"
            )
        if src.shape != (t, h, w, 3):
            raise BackendRequestError(
                f"source_frames shape {tuple(src.shape)}: must match the controls {(t, h, w, 3)}"
            )
        prompt = compose_prompt(request.scene.scenario, request.prompt)
        out = BackendOutput(frames=self.restyle(src, prompt, request.strength, request.seed))
        out.validate(t, h, w)
        return out


def restyle_clip(
    frames: np.ndarray,
    *,
    prompt: str,
    strength: float,
    seed: int,
    model_dir: str | Path | None = None,
    **backend_options: Any,
) -> np.ndarray:
    """Change weather / time of day of a real clip; same T, H, W (labels stay valid)."""
    backend = WanV2VBackend(model_dir, **backend_options)
    return backend.restyle(frames, prompt, strength, seed)


def insert_actor(
    frames: np.ndarray,
    actor_control: np.ndarray,
    actor_mask: np.ndarray,
    *,
    prompt: str,
    seed: int,
    model_dir: str | Path | None = None,
    backend: WanVaceBackend | None = None,
    **backend_options: Any,
) -> np.ndarray:
    """Insert a hazard actor into a real clip with VACE masks (see module docstring).

    ``backend``: an already loaded (warm) ``WanVaceBackend`` to use instead of loading one
    from ``model_dir`` / ``backend_options``.

    ``frames`` [T, H, W, 3] uint8 real clip; ``actor_control`` [T, H, W, 3] uint8 the actor's
    rendered control; ``actor_mask`` [T, H, W] bool where to generate. Any H, W: the clip is
    worked on at the nearest multiple of the model's factor (16 for Wan) and resampled back.
    Returns frames of the same shape.
    """
    _check_frames("frames", frames)
    _check_frames("actor_control", actor_control)
    if actor_control.shape != frames.shape or actor_mask.shape != frames.shape[:3]:
        raise BackendRequestError(
            f"actor_control {tuple(actor_control.shape)} / actor_mask {tuple(actor_mask.shape)}: "
            f"must match frames {tuple(frames.shape)} / {tuple(frames.shape[:3])}"
        )
    if not np.asarray(actor_mask).any():
        raise BackendRequestError("actor_mask: empty; the actor is not visible anywhere")
    if backend is None:
        backend = WanVaceBackend(model_dir, **backend_options)
    h, w = frames.shape[1:3]
    wh, ww = backend.work_size(h, w)
    if backend.resolution is None:
        wh, ww = snap_size(wh, ww, backend.spatial_factor)
    mask = resize_video(np.asarray(actor_mask, dtype=np.uint8) * 255, wh, ww, nearest=True) > 0
    video = np.where(
        mask[..., None], resize_video(actor_control, wh, ww), resize_video(frames, wh, ww)
    ).astype(np.uint8)
    out = backend.run_vace(video, mask, prompt, seed)
    return resize_video(out, h, w)
