"""wan-vace on a tiny offline checkpoint: sizes, seeds, chunking, errors, batches."""

from __future__ import annotations

import numpy as np
import pytest
from backend_fixtures import make_request

from generator.backends.base import VideoBackend
from generator.backends.conditioning import layout_control_video
from generator.backends.wan_vace import WanVaceBackend
from generator.errors import BackendRequestError


@pytest.fixture(scope="module")
def backend(tiny_dirs) -> WanVaceBackend:
    return WanVaceBackend(
        tiny_dirs["wan-vace"], num_inference_steps=2, max_chunk_frames=9, overlap_frames=2
    )


def test_generates_requested_frames_and_size(backend: WanVaceBackend) -> None:
    assert isinstance(backend, VideoBackend)
    out = backend(make_request(n_frames=11, height=32, width=48))
    assert out.frames.shape == (11, 32, 48, 3) and out.frames.dtype == np.uint8
    assert out.frames.std() > 0  # decoded content, not a constant fill
    prov = backend.provenance()
    assert prov["backend"] == "wan-vace" and len(prov["weights_sha256"]) == 64
    assert all(isinstance(v, str) for v in prov.values())


def test_seeds_reproduce(backend: WanVaceBackend) -> None:
    a = backend(make_request(n_frames=9, seed=3)).frames
    b = backend(make_request(n_frames=9, seed=3)).frames
    c = backend(make_request(n_frames=9, seed=4)).frames
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_chunked_long_clip_carries_previous_frames(backend: WanVaceBackend, monkeypatch) -> None:
    calls: list[tuple[np.ndarray, np.ndarray]] = []
    real = backend._run_chunk

    def spy(video, mask, prompt, generator, ref):
        out = real(video, mask, prompt, generator, ref)
        calls.append((video.copy(), mask.copy(), out))
        return out

    monkeypatch.setattr(backend, "_run_chunk", spy)
    req = make_request(n_frames=20)
    frames = backend(req).frames
    plan = backend.plan(20)
    assert frames.shape == (20, 32, 48, 3) and len(calls) == len(plan.chunks) == 3
    control = layout_control_video(req.controls)
    for chunk, (video, mask, _) in zip(plan.chunks, calls, strict=True):
        assert video.shape[0] == chunk.n_frames
        assert not mask[: chunk.n_carry].any() and mask[chunk.n_carry :].all()
        if chunk.n_carry:  # carried = the frames already in the output at those positions
            assert np.array_equal(video[: chunk.n_carry], frames[chunk.start : chunk.out_start])
        assert np.array_equal(video[chunk.n_carry], control[chunk.out_start])
    # the output is each chunk's kept frames, in order, once
    for chunk, (_, _, out) in zip(plan.chunks, calls, strict=True):
        kept = out[chunk.n_carry : chunk.n_carry + chunk.n_keep]
        assert np.array_equal(frames[chunk.out_start : chunk.out_stop], kept)


def test_impossible_requests_explained(backend: WanVaceBackend) -> None:
    with pytest.raises(
        BackendRequestError, match=r"width_px=40: must be a positive multiple of 16"
    ):
        backend(make_request(n_frames=5, height=32, width=40))
    small = WanVaceBackend(
        backend.loaded.model_dir,
        num_inference_steps=1,
        max_total_frames=8,
        max_chunk_frames=9,
        overlap_frames=2,
    )
    with pytest.raises(BackendRequestError, match=r"n_frames=9: more than max_total_frames=8"):
        small(make_request(n_frames=9))
    with pytest.raises(BackendRequestError, match=r"num_frames=8: .*4k\+1"):
        backend.check_chunk_frames(8)
    with pytest.raises(BackendRequestError, match=r"max_chunk_frames=10"):
        WanVaceBackend(backend.loaded.model_dir, max_chunk_frames=10)
    with pytest.raises(BackendRequestError, match=r"source_frames"):
        backend(make_request(source_frames=np.zeros((9, 32, 48, 3), np.uint8)))


def test_resolution_resamples_to_request(tiny_dirs) -> None:
    b = WanVaceBackend(
        tiny_dirs["wan-vace"], num_inference_steps=1, max_chunk_frames=9, resolution=(32, 32)
    )
    out = b(make_request(n_frames=5, height=30, width=44))  # not multiples of 16: resampled
    assert out.frames.shape == (5, 30, 44, 3)


def test_batch_groups_and_keeps_order(backend: WanVaceBackend) -> None:
    reqs = [
        make_request(n_frames=5, seed=1),
        make_request(n_frames=9, seed=2),
        make_request(n_frames=5, seed=3),
    ]
    outs = backend.generate_batch(reqs)
    assert [o.frames.shape[0] for o in outs] == [5, 9, 5]
    assert np.array_equal(outs[2].frames, backend(reqs[2]).frames)


def test_reference_image_changes_output(backend: WanVaceBackend) -> None:
    req = make_request(n_frames=5, seed=1)
    plain = backend(req).frames
    ref = np.full((32, 48, 3), 200, np.uint8)
    with_ref = backend.generate(req, reference_image=ref).frames
    assert with_ref.shape == plain.shape and not np.array_equal(with_ref, plain)


def test_tiny_checkpoint_defaults_keep_cpu_runs_small(tiny_dirs) -> None:
    b = WanVaceBackend(tiny_dirs["wan-vace"])  # no steps / resolution given
    assert b.num_inference_steps == 2 and b.provenance()["tiny_checkpoint"] == "true"
    h, w = b.work_size(704, 1280)
    assert h * w <= 64 * 112 and h % 16 == 0 and w % 16 == 0
    out = b(make_request(n_frames=5, height=176, width=320))
    assert out.frames.shape == (5, 176, 320, 3)
