"""GPU-only behaviour (bf16, VAE tiling, offload): skipped cleanly without CUDA."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from backend_fixtures import make_request

from generator.backends.wan_vace import WanVaceBackend

pytestmark = pytest.mark.gpu


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("cpu_offload", [False, True])
def test_wan_vace_bf16_on_cuda(tiny_dirs, cpu_offload: bool) -> None:
    b = WanVaceBackend(
        tiny_dirs["wan-vace"],
        device="cuda",
        cpu_offload=cpu_offload,
        num_inference_steps=2,
        max_chunk_frames=9,
        overlap_frames=2,
    )
    assert b.options.dtype in (torch.bfloat16, torch.float16)
    assert b.pipe.vae.dtype == torch.float32
    a = b(make_request(n_frames=13, seed=2)).frames
    assert a.shape == (13, 32, 48, 3)
    assert np.array_equal(a, b(make_request(n_frames=13, seed=2)).frames)
