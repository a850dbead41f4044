"""bf16 and torch.compile options, exercised on the CPU (the GPU-only paths are in test_gpu)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from backend_fixtures import make_request

from generator.backends.wan_vace import WanVaceBackend

_KW = {"num_inference_steps": 2, "max_chunk_frames": 9, "overlap_frames": 2}


def test_bf16_on_cpu_keeps_vae_fp32_and_reproduces(tiny_dirs) -> None:
    b = WanVaceBackend(tiny_dirs["wan-vace"], device="cpu", dtype="bf16", **_KW)
    assert b.pipe.transformer.dtype == torch.bfloat16
    assert b.pipe.vae.dtype == torch.float32  # Wan's VAE decodes in fp32
    assert b.provenance()["dtype"] == "bfloat16"
    a = b(make_request(n_frames=13, seed=2)).frames
    assert a.shape == (13, 32, 48, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b(make_request(n_frames=13, seed=2)).frames)


@pytest.mark.slow
def test_compiled_transformer_matches_eager(tiny_dirs) -> None:
    eager = WanVaceBackend(tiny_dirs["wan-vace"], device="cpu", **_KW)
    compiled = WanVaceBackend(tiny_dirs["wan-vace"], device="cpu", compile=True, **_KW)
    assert compiled.pipe is not eager.pipe  # compile is part of the warm-cache key
    req = make_request(n_frames=13, seed=4)
    a, c = eager(req).frames, compiled(req).frames
    assert c.shape == a.shape
    assert np.abs(a.astype(int) - c.astype(int)).max() <= 1
