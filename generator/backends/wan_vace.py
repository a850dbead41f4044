"""``wan-vace``: layout-controlled clip generation with diffusers' ``WanVACEPipeline``.

Wan 2.1 VACE (1.3B or 14B, diffusers layout, e.g. ``Wan-AI/Wan2.1-VACE-1.3B-diffusers``)
takes a control video, a mask and optional reference images. This backend turns a clip's
:class:`ControlMaps` into that conditioning so generated objects sit where the labels say.

``__call__(request)`` runs these stages, like a diffusers pipeline:

1. compose the prompt from the scenario's class tags plus the user text (``prompting``);
2. build the conditioning: the layout control video (HD map + 3D boxes in Cosmos colours,
   depth filled in where the map drew nothing; see ``conditioning.layout_control_video``),
   resized to the working size, with mask 1 (generate every pixel under the control), and
   an optional reference image for appearance;
3. plan chunks (``longclip.plan_chunks``): at most ``max_chunk_frames`` (81) per model call,
   consecutive chunks overlapping by ``overlap_frames``;
4. per chunk, call ``WanVACEPipeline`` with one seeded CPU ``torch.Generator`` per request
   (device-independent noise); chunk ``i > 0`` gets the last ``overlap_frames`` *generated*
   frames of chunk ``i - 1`` in its video with mask 0, which VACE keeps, so appearance
   continues instead of drifting;
5. join the chunks (no duplicated / missing frames) and resample to the requested size;
6. return uint8 ``[T, H, W, 3]`` frames, one per control frame (so labels stay aligned).

Weights load offline (``from_pretrained(model_dir, local_files_only=True)``); a hub id works
only with ``WMGEN_ALLOW_HUB=1``. On CUDA: bf16 (fp16 without bf16 support) with the VAE in fp32,
VAE tiling + slicing, optional model CPU offload and ``torch.compile`` of the transformer.
One loaded pipeline per (model_dir, device, dtype, options) is kept warm in a module cache.
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
    mask_to_pil,
    resize_video,
    to_pil_frames,
)
from generator.backends.longclip import ChunkPlan, chunk_window, join_chunks, plan_chunks
from generator.backends.prompting import NEGATIVE_PROMPT, compose_prompt
from generator.backends.weights import (
    LoadedPipeline,
    LoadOptions,
    load_pipeline,
    resolve_device,
    resolve_dtype,
    resolve_model_dir,
)
from generator.errors import BackendRequestError


def seeded_generator(seed: int) -> torch.Generator:
    """One CPU generator per request: same seed, same noise on every device."""
    return torch.Generator(device="cpu").manual_seed(int(seed))


class WanVaceBackend:
    """Wan 2.1 VACE behind the :class:`VideoBackend` interface (see module docstring)."""

    name = "wan-vace"
    pipeline_class_name = "WanVACEPipeline"

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
        conditioning_scale: float = 1.0,
        depth_weight: float = 0.5,
        max_chunk_frames: int = 81,
        overlap_frames: int = 5,
        max_total_frames: int = 1201,
        resolution: tuple[int, int] | None = None,
        negative_prompt: str = NEGATIVE_PROMPT,
    ) -> None:
        from diffusers import WanVACEPipeline

        dev = resolve_device(device)
        self.options = LoadOptions(
            device=dev,
            dtype=resolve_dtype(dtype, dev),
            enable_vae_tiling=enable_vae_tiling,
            cpu_offload=cpu_offload,
            compile=compile,
        )
        self.loaded: LoadedPipeline = load_pipeline(
            WanVACEPipeline, resolve_model_dir(model_dir), self.options
        )
        self._configure(
            num_inference_steps=num_inference_steps,
            guidance_scale=guidance_scale,
            conditioning_scale=conditioning_scale,
            depth_weight=depth_weight,
            max_chunk_frames=max_chunk_frames,
            overlap_frames=overlap_frames,
            max_total_frames=max_total_frames,
            resolution=resolution,
            negative_prompt=negative_prompt,
        )

    def _configure(
        self,
        *,
        num_inference_steps: int | None = None,
        guidance_scale: float = 5.0,
        conditioning_scale: float = 1.0,
        depth_weight: float = 0.5,
        max_chunk_frames: int = 81,
        overlap_frames: int = 5,
        max_total_frames: int = 1201,
        resolution: tuple[int, int] | None = None,
        negative_prompt: str = NEGATIVE_PROMPT,
    ) -> None:
        #: None -> 30 for real weights, the tiny checkpoint's own default (2) for tiny ones
        self.num_inference_steps = (
            int(num_inference_steps)
            if num_inference_steps is not None
            else self.loaded.default_steps(30)
        )
        self.guidance_scale = float(guidance_scale)
        self.conditioning_scale = float(conditioning_scale)
        self.depth_weight = float(depth_weight)
        self.max_total_frames = int(max_total_frames)
        self.resolution = resolution
        self.negative_prompt = negative_prompt
        # validates max_chunk_frames (4k+1) and overlap once, at construction
        plan_chunks(1, max_chunk_frames, overlap_frames, self.temporal_factor)
        self.max_chunk_frames = int(max_chunk_frames)
        self.overlap_frames = int(overlap_frames)

    @classmethod
    def from_pipeline(
        cls, pipe: Any, *, weights_sha256: str = "unhashed-in-memory", **options: Any
    ) -> WanVaceBackend:
        """Wrap an already built ``WanVACEPipeline`` (benchmarks with random real-size
        weights, notebooks). ``options`` are the keyword options of the constructor after
        ``compile``."""
        self = cls.__new__(cls)
        self.options = LoadOptions(device=str(pipe.device), dtype=pipe.transformer.dtype)
        self.loaded = LoadedPipeline(pipe, "<in-memory>", weights_sha256, self.options)
        self._configure(**options)
        return self

    # ------------------------------------------------------------------------------ properties
    @property
    def pipe(self) -> Any:
        return self.loaded.pipe

    @property
    def spatial_factor(self) -> int:
        """Height and width must be multiples of this: VAE factor x transformer patch."""
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
            "control_mix": f"hdmap+boxes, depth fill x{self.depth_weight}",
            "chunking": f"max {self.max_chunk_frames} frames, overlap {self.overlap_frames}",
        }

    # ----------------------------------------------------------------------------------- checks
    def work_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) the model runs at: ``resolution`` if set, else the request's
        (tiny checkpoints: scaled down, see ``weights.LoadedPipeline.work_size``)."""
        return self.loaded.work_size(height, width, self.spatial_factor, self.resolution)

    def check_inputs(self, height: int, width: int, n_frames: int) -> None:
        """Raise :class:`BackendRequestError` naming the argument for impossible requests."""
        self._check_hw(*self.work_size(height, width))
        if n_frames < 1:
            raise BackendRequestError(f"n_frames={n_frames}: must be >= 1")
        if n_frames > self.max_total_frames:
            raise BackendRequestError(
                f"n_frames={n_frames}: more than max_total_frames={self.max_total_frames} for "
                f"{self.name}; shorten the clip or raise max_total_frames (long clips are made of "
                f"{self.max_chunk_frames}-frame chunks)"
            )

    def _check_hw(self, height: int, width: int) -> None:
        f = self.spatial_factor
        for arg, v in (("height_px", height), ("width_px", width)):
            if v < f or v % f:
                lo, hi = max(f, v // f * f), (v // f + 1) * f
                raise BackendRequestError(
                    f"{arg}={v}: must be a positive multiple of {f} for {self.name} (VAE spatial "
                    f"factor {self.pipe.vae_scale_factor_spatial} x transformer patch "
                    f"{f // self.pipe.vae_scale_factor_spatial}); try {lo} or {hi}"
                )

    def check_chunk_frames(self, n_frames: int) -> None:
        """One model call can only make ``temporal_factor * k + 1`` frames, at most the max."""
        tf = self.temporal_factor
        if (n_frames - 1) % tf or not 1 <= n_frames <= self.max_chunk_frames:
            raise BackendRequestError(
                f"num_frames={n_frames}: one {self.pipeline_class_name} call makes {tf}k+1 frames "
                f"(<= {self.max_chunk_frames}): the VAE keeps frame 0 alone and packs every "
                f"following {tf} frames into one latent; longer clips are chunked"
            )

    def plan(self, n_frames: int) -> ChunkPlan:
        return plan_chunks(
            n_frames, self.max_chunk_frames, self.overlap_frames, self.temporal_factor
        )

    # -------------------------------------------------------------------------------- generate
    def __call__(self, request: BackendRequest) -> BackendOutput:
        return self.generate(request)

    def generate(
        self, request: BackendRequest, *, reference_image: np.ndarray | None = None
    ) -> BackendOutput:
        controls = request.controls
        t, h, w = controls.n_frames, controls.camera.height_px, controls.camera.width_px
        if request.source_frames is not None:
            raise BackendRequestError(
                "source_frames: wan-vace generates from control maps; use the 'wan-v2v' backend "
                "(generator.backends.wan_v2v.restyle_clip) to restyle a real clip"
            )
        self.check_inputs(h, w, t)
        # 1. prompt
        prompt = compose_prompt(request.scene.scenario, request.prompt)
        # 2. conditioning: layout control video at the working size, mask 1 = generate all
        wh, ww = self.work_size(h, w)
        control = resize_video(layout_control_video(controls, self.depth_weight), wh, ww)
        mask = np.ones(control.shape[:3], dtype=bool)
        # 3.-4. chunk plan + chunked VACE runs (inside run_vace)
        frames = self.run_vace(control, mask, prompt, request.seed, reference_image)
        # 5. resample to the requested size (frames already match the control frame count)
        frames = resize_video(frames, h, w)
        # 6. uint8 frames
        out = BackendOutput(frames=np.ascontiguousarray(frames, dtype=np.uint8))
        out.validate(t, h, w)
        return out

    def generate_batch(self, requests: Sequence[BackendRequest]) -> list[BackendOutput]:
        """Generate several clips; requests of the same shape run back to back (the pipeline
        takes one prompt and one generator per call, so a group is a loop), results come back
        in the order given."""
        groups: dict[tuple[int, int, int], list[int]] = {}
        for i, r in enumerate(requests):
            c = r.controls
            groups.setdefault((c.n_frames, c.camera.height_px, c.camera.width_px), []).append(i)
        results: list[BackendOutput | None] = [None] * len(requests)
        for idx in groups.values():
            for i in idx:
                results[i] = self(requests[i])
        return [r for r in results if r is not None]

    def run_vace(
        self,
        video: np.ndarray,
        mask: np.ndarray,
        prompt: str,
        seed: int,
        reference_image: np.ndarray | None = None,
    ) -> np.ndarray:
        """Chunked VACE at the video's own size.

        ``video`` [T, h, w, 3] uint8 (control and/or kept pixels), ``mask`` [T, h, w] bool
        (True = generate). Returns [T, h, w, 3] uint8.
        """
        t, h, w = video.shape[:3]
        if mask.shape != (t, h, w):
            raise BackendRequestError(f"mask shape {mask.shape}: expected {(t, h, w)}")
        self._check_hw(h, w)
        plan = self.plan(t)
        generator = seeded_generator(seed)
        outputs: list[np.ndarray] = []
        for chunk in plan.chunks:
            v = chunk_window(video, chunk).copy()
            m = chunk_window(mask, chunk).copy()
            if chunk.n_carry:  # keep the previous chunk's last frames (mask 0)
                prev = outputs[-1]
                prev_chunk = plan.chunks[chunk.index - 1]
                lo = chunk.start - prev_chunk.start
                v[: chunk.n_carry] = prev[lo : lo + chunk.n_carry]
                m[: chunk.n_carry] = False
            outputs.append(self._run_chunk(v, m, prompt, generator, reference_image))
        return join_chunks(plan, outputs)

    def _run_chunk(
        self,
        video: np.ndarray,
        mask: np.ndarray,
        prompt: str,
        generator: torch.Generator,
        reference_image: np.ndarray | None,
    ) -> np.ndarray:
        n, h, w = video.shape[:3]
        self.check_chunk_frames(n)
        refs = None if reference_image is None else to_pil_frames(reference_image[None])
        result = self.pipe(
            prompt=prompt,
            negative_prompt=self.negative_prompt,
            video=to_pil_frames(video),
            mask=mask_to_pil(mask),
            reference_images=refs,
            conditioning_scale=self.conditioning_scale,
            height=h,
            width=w,
            num_frames=n,
            num_inference_steps=self.num_inference_steps,
            guidance_scale=self.guidance_scale,
            generator=generator,
            output_type="np",
        )
        frames = np.asarray(result.frames[0])
        if frames.shape[0] != n:
            raise BackendRequestError(f"pipeline returned {frames.shape[0]} frames, expected {n}")
        return float_frames_to_uint8(frames)
