"""``ltx-condition``: fast layout-guided generation with diffusers' ``LTXConditionPipeline``.

Why this second family
----------------------
Users of driving world models ask first for *speed* and *long clips without drift*.
LTX-Video (2B / 13B, e.g. ``Lightricks/LTX-Video-0.9.7-dev`` in diffusers layout) is the
fastest open video model with a diffusers pipeline (vendor figure: 121 frames of 768x512 in
about 2 s on an H100, against minutes for Wan 1.3B), and ``LTXConditionPipeline`` conditions
on whole *videos at given frame indices with a strength*, which gives both layout guidance
and chunk continuation with one mechanism.

Considered and not chosen: ``Cosmos2_5_TransferPipeline`` reads our Cosmos-format HD-map
video natively, but in diffusers 0.42.1 its constructor insists on the ``cosmos_guardrail``
safety checker (a separate package that downloads its own guardrail models), so it cannot be
loaded offline from a tiny local checkpoint, nor tested here; its 2B model also takes several
minutes per 93-frame chunk on an H100. CogVideoX video-to-video is slower than LTX and caps at
49 frames.

Conditioning: each chunk gets two ``LTXVideoCondition`` items at frame 0:
(a) the layout control video (``conditioning.layout_control_video``) at ``control_strength``
(default 0.6: the model starts from a partly noised layout, so lanes and boxes stay where the
labels say while textures become photographic), and (b) for chunk ``i > 0`` the last
``overlap_frames`` generated frames of chunk ``i - 1`` at strength 1.0 (kept), so appearance
continues. Stages as in ``wan_vace``: prompt, conditioning, chunk plan, seeded per-request
generator, join, resample, uint8.

Sizes: height and width multiples of 32 (LTX's VAE), frames ``8k + 1`` per call for the real
VAE (``vae_temporal_compression_ratio``; 4 for the tiny one), default chunk 161 frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from generator.backends.base import BackendOutput, BackendRequest
from generator.backends.conditioning import (
    float_frames_to_uint8,
    layout_control_video,
    resize_video,
    to_pil_frames,
)
from generator.backends.longclip import ChunkPlan, chunk_window, join_chunks, plan_chunks
from generator.backends.prompting import NEGATIVE_PROMPT, compose_prompt
from generator.backends.wan_vace import seeded_generator
from generator.backends.weights import (
    LoadedPipeline,
    LoadOptions,
    load_pipeline,
    resolve_device,
    resolve_dtype,
    resolve_model_dir,
)
from generator.errors import BackendRequestError

#: LTXConditionPipeline.check_inputs requires multiples of 32 whatever the VAE says.
LTX_MIN_SPATIAL_MULTIPLE = 32


class LtxConditionBackend:
    """LTX-Video condition pipeline behind the :class:`VideoBackend` interface."""

    name = "ltx-condition"
    pipeline_class_name = "LTXConditionPipeline"

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
        guidance_scale: float = 3.0,
        control_strength: float = 0.6,
        depth_weight: float = 0.5,
        max_chunk_frames: int | None = None,
        overlap_frames: int | None = None,
        max_total_frames: int = 1201,
        resolution: tuple[int, int] | None = None,
        negative_prompt: str = NEGATIVE_PROMPT,
    ) -> None:
        from diffusers import LTXConditionPipeline

        dev = resolve_device(device)
        self.options = LoadOptions(
            device=dev,
            dtype=resolve_dtype(dtype, dev),
            enable_vae_tiling=enable_vae_tiling,
            cpu_offload=cpu_offload,
            compile=compile,
            vae_fp32=False,  # LTX's VAE runs in the pipeline dtype
        )
        self.loaded: LoadedPipeline = load_pipeline(
            LTXConditionPipeline, resolve_model_dir(model_dir), self.options
        )
        if not 0.0 <= control_strength <= 1.0:
            raise BackendRequestError(f"control_strength={control_strength}: must be in [0, 1]")
        self.num_inference_steps = (
            int(num_inference_steps)
            if num_inference_steps is not None
            else self.loaded.default_steps(30)
        )
        self.guidance_scale = float(guidance_scale)
        self.control_strength = float(control_strength)
        self.depth_weight = float(depth_weight)
        self.max_total_frames = int(max_total_frames)
        self.resolution = resolution
        self.negative_prompt = negative_prompt
        tf = self.temporal_factor
        self.max_chunk_frames = int(max_chunk_frames or 20 * tf + 1)  # 161 for the real VAE
        self.overlap_frames = int(overlap_frames if overlap_frames is not None else tf + 1)
        plan_chunks(1, self.max_chunk_frames, self.overlap_frames, tf)  # validates

    @property
    def pipe(self) -> Any:
        return self.loaded.pipe

    @property
    def spatial_factor(self) -> int:
        vae_px = self.pipe.vae_spatial_compression_ratio * self.pipe.transformer_spatial_patch_size
        return int(max(LTX_MIN_SPATIAL_MULTIPLE, vae_px))

    @property
    def temporal_factor(self) -> int:
        return int(
            self.pipe.vae_temporal_compression_ratio * self.pipe.transformer_temporal_patch_size
        )

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
            "control_mix": f"hdmap+boxes, depth fill x{self.depth_weight}, "
            f"strength {self.control_strength}",
            "chunking": f"max {self.max_chunk_frames} frames, overlap {self.overlap_frames}",
        }

    def work_size(self, height: int, width: int) -> tuple[int, int]:
        """``resolution`` if set, else the request's size (tiny checkpoints: scaled down)."""
        return self.loaded.work_size(height, width, self.spatial_factor, self.resolution)

    def check_inputs(self, height: int, width: int, n_frames: int) -> None:
        f = self.spatial_factor
        wh, ww = self.work_size(height, width)
        for arg, v in (("height_px", wh), ("width_px", ww)):
            if v < f or v % f:
                raise BackendRequestError(
                    f"{arg}={v}: must be a positive multiple of {f} for {self.name} (LTX VAE); "
                    f"try {max(f, v // f * f)} or {(v // f + 1) * f}"
                )
        if not 1 <= n_frames <= self.max_total_frames:
            raise BackendRequestError(
                f"n_frames={n_frames}: must be in [1, max_total_frames={self.max_total_frames}] "
                f"for {self.name}"
            )

    def plan(self, n_frames: int) -> ChunkPlan:
        return plan_chunks(
            n_frames, self.max_chunk_frames, self.overlap_frames, self.temporal_factor
        )

    def __call__(self, request: BackendRequest) -> BackendOutput:
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        controls = request.controls
        t, h, w = controls.n_frames, controls.camera.height_px, controls.camera.width_px
        self.check_inputs(h, w, t)
        # 1. prompt
        prompt = compose_prompt(request.scene.scenario, request.prompt)
        # 2. conditioning video at the working size
        wh, ww = self.work_size(h, w)
        control = resize_video(layout_control_video(controls, self.depth_weight), wh, ww)
        # 3. chunk plan; 4. per chunk, seeded generator shared across the request's chunks
        plan = self.plan(t)
        generator = seeded_generator(request.seed)
        outputs: list[np.ndarray] = []
        for chunk in plan.chunks:
            conds = [
                LTXVideoCondition(
                    video=to_pil_frames(chunk_window(control, chunk)),
                    frame_index=0,
                    strength=self.control_strength,
                )
            ]
            if chunk.n_carry:
                prev_chunk = plan.chunks[chunk.index - 1]
                lo = chunk.start - prev_chunk.start
                carried = outputs[-1][lo : lo + chunk.n_carry]
                conds.append(
                    LTXVideoCondition(video=to_pil_frames(carried), frame_index=0, strength=1.0)
                )
            result = self.pipe(
                conditions=conds,
                prompt=prompt,
                negative_prompt=self.negative_prompt,
                height=wh,
                width=ww,
                num_frames=chunk.n_frames,
                frame_rate=round(controls.camera.fps),
                num_inference_steps=self.num_inference_steps,
                guidance_scale=self.guidance_scale,
                generator=generator,
                output_type="np",
            )
            frames = np.asarray(result.frames[0])
            if frames.shape[0] != chunk.n_frames:
                raise BackendRequestError(
                    f"pipeline returned {frames.shape[0]} frames, expected {chunk.n_frames}"
                )
            outputs.append(float_frames_to_uint8(frames))
        # 5. join + resample; 6. uint8
        out = BackendOutput(frames=resize_video(join_chunks(plan, outputs), h, w))
        out.validate(t, h, w)
        return out

    def generate_batch(self, requests: Sequence[BackendRequest]) -> list[BackendOutput]:
        """Same-shape requests back to back; results in the given order."""
        order = sorted(
            range(len(requests)),
            key=lambda i: (
                requests[i].controls.n_frames,
                requests[i].controls.camera.height_px,
                requests[i].controls.camera.width_px,
            ),
        )
        results: dict[int, BackendOutput] = {i: self(requests[i]) for i in order}
        return [results[i] for i in range(len(requests))]
