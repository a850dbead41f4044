"""Benchmark of the ``wan-vace`` backend against calling diffusers' pipeline directly.

    .venv/bin/python bench/neural.py                      # CUDA: Wan2.1-VACE-1.3B sizes, random
    .venv/bin/python bench/neural.py --model-dir DIR      # real (or tiny) weights from disk
    .venv/bin/python bench/neural.py --size tiny          # force the tiny configuration

With CUDA and no ``--model-dir`` it builds the *published architecture* of
Wan2.1-VACE-1.3B in code (UMT5-XXL encoder, Wan VAE, 30-layer 1536-wide transformer with VACE
blocks on every second layer) with random weights, in bf16 (VAE fp32), and runs 480x832,
81 frames. Without CUDA it says so (``"cuda": false``) and runs the tiny configuration on
the CPU. Prints one JSON object:

* ``step_s``: median seconds per denoising step (from ``callback_on_step_end`` timestamps);
* ``vae_decode_s``: median seconds to decode one clip's latents (tiling as configured);
* ``peak_gpu_mem_gib``: peak allocated GPU memory over a backend run (null on CPU);
* ``backend_clip_s`` / ``direct_clip_s``: median end-to-end seconds per clip through our
  backend (control maps -> uint8 frames) and through ``WanVACEPipeline.__call__`` directly
  with the same control video, mask, seed and steps (inputs prepared outside the timer);
* ``overhead``: backend / direct - 1, measured interleaved in the same process (target < 5%).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.backends.base import BackendRequest
from generator.backends.conditioning import (
    layout_control_video,
    mask_to_pil,
    to_pil_frames,
)
from generator.backends.prompting import NEGATIVE_PROMPT, compose_prompt
from generator.backends.wan_vace import WanVaceBackend, seeded_generator
from generator.render.controls import render_controls
from generator.render.types import CameraConfig
from generator.world.geometry import build_road
from generator.world.rollout import rollout
from scenario_library.sampling import sample_scene
from scenario_library.scene import HazardFamily, Lighting, RoadContext, Weather
from scenario_library.taxonomy import class_id_of

#: Wan2.1-VACE-1.3B architecture (diffusers layout), built in code: no download.
WAN_VACE_1_3B: dict[str, dict[str, Any]] = {
    "transformer": dict(
        patch_size=(1, 2, 2),
        num_attention_heads=12,
        attention_head_dim=128,
        in_channels=16,
        out_channels=16,
        text_dim=4096,
        freq_dim=256,
        ffn_dim=8960,
        num_layers=30,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        eps=1e-6,
        rope_max_seq_len=1024,
        vace_layers=list(range(0, 30, 2)),
        vace_in_channels=96,
    ),
    "vae": dict(
        base_dim=96,
        z_dim=16,
        dim_mult=[1, 2, 4, 4],
        num_res_blocks=2,
        temperal_downsample=[False, True, True],
    ),
    "text_encoder": dict(  # UMT5-XXL encoder
        vocab_size=256384,
        d_model=4096,
        d_kv=64,
        d_ff=10240,
        num_layers=24,
        num_heads=64,
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        pad_token_id=0,
        eos_token_id=1,
    ),
}


def build_real_size_pipeline(device: str, dtype: torch.dtype) -> Any:
    """Random-weight WanVACEPipeline with the published 1.3B architecture on ``device``."""
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanVACEPipeline,
        WanVACETransformer3DModel,
    )
    from transformers import UMT5Config, UMT5EncoderModel

    from generator.backends.tiny import build_tokenizer

    torch.manual_seed(0)
    with torch.device(device):
        transformer: Any = WanVACETransformer3DModel(**WAN_VACE_1_3B["transformer"])
        transformer.to(dtype)
        vae: Any = AutoencoderKLWan(**WAN_VACE_1_3B["vae"])
        vae.to(torch.float32)
        text_encoder: Any = UMT5EncoderModel(UMT5Config(**WAN_VACE_1_3B["text_encoder"]))
        text_encoder.to(dtype)
    pipe: Any = WanVACEPipeline(
        tokenizer=build_tokenizer(),  # ids stay < 160: valid for the 256k-entry embedding
        text_encoder=text_encoder.eval(),
        vae=vae.eval(),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
        transformer=transformer.eval(),
    )
    pipe.set_progress_bar_config(disable=True)
    pipe.vae.enable_tiling()
    pipe.vae.enable_slicing()
    return pipe


#: The conditioning comes from the real pipeline stages for this class: a child emerging from
#: behind parked cars on an urban street in rain at night.
BENCH_CLASS = class_id_of(
    HazardFamily.CHILD_OCCLUDED, RoadContext.URBAN_STRAIGHT, Weather.RAIN, Lighting.NIGHT
)


def bench_request(n_frames: int, height: int, width: int, seed: int = 0) -> BackendRequest:
    """The backend's real input for ``BENCH_CLASS``: scene, rollout and control maps at the
    benchmark's size (rendered outside any timer)."""
    fps = 10.0
    seconds = n_frames / fps
    scene = sample_scene(BENCH_CLASS, seed, horizon_s=max(8.0, seconds + 0.1))
    road = build_road(scene.road)
    roll = rollout(scene, n_worlds=1, seed=seed)
    camera = CameraConfig(width_px=width, height_px=height, fps=fps)
    controls = render_controls(scene, road, roll, camera, seconds=seconds)
    return BackendRequest(
        scene=scene, road=road, rollout=roll, controls=controls, prompt="", seed=seed
    )


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model-dir", default=None, help="weights directory (default: random)")
    ap.add_argument("--size", choices=["auto", "tiny", "wan2.1-vace-1.3b"], default="auto")
    ap.add_argument("--frames", type=int, default=None)
    ap.add_argument("--height", type=int, default=None)
    ap.add_argument("--width", type=int, default=None)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--guidance", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=None, help="timed runs per path (median)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    size = args.size if args.size != "auto" else ("wan2.1-vace-1.3b" if cuda else "tiny")
    real = size != "tiny"
    frames = args.frames or (81 if real else 17)
    height = args.height or (480 if real else 32)
    width = args.width or (832 if real else 48)
    steps = args.steps or (10 if real else 4)
    runs = args.runs or (3 if real else 7)
    dtype = (
        (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
        if cuda
        else (torch.float32)
    )

    opts = dict(
        num_inference_steps=steps,
        guidance_scale=args.guidance,
        max_chunk_frames=frames if (frames - 1) % 4 == 0 else 81,
    )
    t0 = time.perf_counter()
    tmp = None
    if args.model_dir:
        backend = WanVaceBackend(args.model_dir, device=device, **opts)
        weights = "model_dir"
    elif real:
        if not cuda:
            print("warning: real-size random weights on CPU will be very slow", file=sys.stderr)
        backend = WanVaceBackend.from_pipeline(build_real_size_pipeline(device, dtype), **opts)
        weights = "random (published Wan2.1-VACE-1.3B architecture)"
    else:
        from generator.backends.tiny import make_tiny

        tmp = tempfile.TemporaryDirectory()
        backend = WanVaceBackend(
            make_tiny("wan-vace", Path(tmp.name) / "ck"), device=device, **opts
        )
        weights = "random (tiny)"
    load_s = time.perf_counter() - t0
    pipe = backend.pipe

    request = bench_request(frames, height, width)
    # direct path inputs, prepared outside the timer (what a user holding a control video has)
    control = layout_control_video(request.controls, backend.depth_weight)
    pil_video = to_pil_frames(control)
    pil_mask = mask_to_pil(np.ones(control.shape[:3], bool))
    prompt = compose_prompt(request.scene.scenario, request.prompt)

    def direct(callback: Any = None) -> np.ndarray:
        out = pipe(
            prompt=prompt,
            negative_prompt=NEGATIVE_PROMPT,
            video=pil_video,
            mask=pil_mask,
            conditioning_scale=backend.conditioning_scale,
            height=height,
            width=width,
            num_frames=frames,
            num_inference_steps=steps,
            guidance_scale=args.guidance,
            generator=seeded_generator(request.seed),
            output_type="np",
            callback_on_step_end=callback,
        )
        return np.asarray(out.frames[0])

    def timed(fn: Any) -> float:
        _sync(device)
        t = time.perf_counter()
        fn()
        _sync(device)
        return time.perf_counter() - t

    # warm-up both paths (compilation, allocator, kernels); same seed and inputs must give
    # the same frames, which checks that the comparison is like for like
    from generator.backends.conditioning import float_frames_to_uint8

    same = bool(np.array_equal(backend(request).frames, float_frames_to_uint8(direct())))
    backend_s, direct_s = [], []
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    for _ in range(runs):  # interleaved so drift hits both paths alike
        backend_s.append(timed(lambda: backend(request)))
        direct_s.append(timed(direct))
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else None

    stamps: list[float] = []

    def on_step(p: Any, i: int, t: Any, kw: dict[str, Any]) -> dict[str, Any]:
        _sync(device)
        stamps.append(time.perf_counter())
        return kw

    _sync(device)
    stamps.append(time.perf_counter())
    direct(on_step)
    step_s = statistics.median(np.diff(stamps).tolist()) if len(stamps) > 1 else None

    lat_t = (frames - 1) // pipe.vae_scale_factor_temporal + 1
    sf = pipe.vae_scale_factor_spatial
    latents = torch.randn(
        (1, pipe.vae.config.z_dim, lat_t, height // sf, width // sf),
        generator=torch.Generator().manual_seed(0),
    ).to(device=device, dtype=pipe.vae.dtype)
    decode_s = []
    with torch.no_grad():
        pipe.vae.decode(latents)
        for _ in range(max(1, runs // 2)):
            decode_s.append(timed(lambda: pipe.vae.decode(latents)))

    b_med, d_med = statistics.median(backend_s), statistics.median(direct_s)
    result = {
        "cuda": cuda,
        "device": torch.cuda.get_device_name(0) if cuda else platform.processor() or "cpu",
        "size": size,
        "weights": weights,
        "dtype": str(dtype).removeprefix("torch."),
        "frames": frames,
        "height": height,
        "width": width,
        "steps": steps,
        "guidance_scale": args.guidance,
        "runs": runs,
        "torch_threads": torch.get_num_threads(),
        "load_s": round(load_s, 3),
        "step_s": None if step_s is None else round(step_s, 4),
        "vae_decode_s": round(statistics.median(decode_s), 4),
        "peak_gpu_mem_gib": None if peak is None else round(peak, 2),
        "backend_clip_s": round(b_med, 4),
        "direct_clip_s": round(d_med, 4),
        "overhead": round(b_med / d_med - 1.0, 4),
        "overhead_target": 0.05,
        "outputs_identical": same,
        "backend_runs_s": [round(x, 4) for x in backend_s],
        "direct_runs_s": [round(x, 4) for x in direct_s],
    }
    print(json.dumps(result, indent=2))
    if tmp is not None:
        tmp.cleanup()
    return result


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
