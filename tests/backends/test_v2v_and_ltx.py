"""Video-to-video restyling, masked actor insertion and the LTX family on tiny checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
from backend_fixtures import make_controls, make_request

from generator.backends.conditioning import actor_layer
from generator.backends.ltx import LtxConditionBackend
from generator.backends.registry import BACKENDS
from generator.backends.wan_v2v import WanV2VBackend, insert_actor, restyle_clip
from generator.errors import BackendRequestError


def _source(n: int, h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (1, h, w, 3), dtype=np.uint8)
    return np.repeat(base, n, axis=0)


def test_restyle_keeps_frames_and_size(tiny_dirs) -> None:
    src = _source(11, 32, 48)
    kw = dict(
        prompt="rainy night",
        seed=0,
        model_dir=tiny_dirs["wan-v2v"],
        num_inference_steps=4,
        max_chunk_frames=9,
    )
    a = restyle_clip(src, strength=0.5, **kw)
    assert a.shape == src.shape and a.dtype == np.uint8  # labels stay frame-aligned
    assert np.array_equal(a, restyle_clip(src, strength=0.5, **kw))
    assert not np.array_equal(a, restyle_clip(src, strength=0.9, **kw))  # 2 vs 3 steps
    with pytest.raises(BackendRequestError, match=r"no denoising step"):
        restyle_clip(src, strength=0.2, **kw)


def test_v2v_backend_interface(tiny_dirs) -> None:
    b = BACKENDS.load("wan-v2v", model_dir=tiny_dirs["wan-v2v"], num_inference_steps=2)
    assert isinstance(b, WanV2VBackend)
    req = make_request(n_frames=5, source_frames=_source(5, 32, 48), strength=0.6)
    assert b(req).frames.shape == (5, 32, 48, 3)
    with pytest.raises(BackendRequestError, match=r"source_frames=None"):
        b(make_request(n_frames=5))
    with pytest.raises(BackendRequestError, match=r"strength=0.0"):
        b(make_request(n_frames=5, source_frames=_source(5, 32, 48), strength=0.0))
    with pytest.raises(BackendRequestError, match=r"source_frames shape"):
        b(make_request(n_frames=5, source_frames=_source(4, 32, 48)))


def test_actor_layer_follows_labels_and_offset() -> None:
    controls = make_controls(5, 32, 48)
    control, mask = actor_layer(controls, "hazard", offset_px=(6, -3), dilate_px=0)
    for t, fl in enumerate(controls.labels):
        x0, y0, x1, y1 = (int(v) for v in fl.objects[0].bbox_xyxy)
        ys, xs = np.nonzero(mask[t])
        assert (xs.min(), xs.max() + 1) == (x0 + 6, x1 + 6)
        assert (ys.min(), ys.max() + 1) == (y0 - 3, y1 - 3)
        assert not control[t][~mask[t]].any()
    with pytest.raises(BackendRequestError, match=r"agent_id='nobody'"):
        actor_layer(controls, "nobody")


def test_insert_actor_keeps_shape_and_reproduces(tiny_dirs) -> None:
    controls = make_controls(9, 32, 48)
    control, mask = actor_layer(controls, "hazard")
    src = _source(9, 32, 48)
    kw = dict(
        prompt="a child runs out",
        seed=1,
        model_dir=tiny_dirs["wan-vace"],
        num_inference_steps=2,
        max_chunk_frames=9,
        overlap_frames=2,
    )
    a = insert_actor(src, control, mask, **kw)
    assert a.shape == src.shape and np.array_equal(a, insert_actor(src, control, mask, **kw))
    with pytest.raises(BackendRequestError, match=r"actor_mask: empty"):
        insert_actor(src, control, np.zeros_like(mask), **kw)


def test_ltx_family_generates_chunked_and_seeded(tiny_dirs) -> None:
    b = BACKENDS.load(
        "ltx-condition",
        model_dir=tiny_dirs["ltx-condition"],
        num_inference_steps=2,
        max_chunk_frames=9,
        overlap_frames=2,
    )
    assert isinstance(b, LtxConditionBackend)
    out = b(make_request(n_frames=13, height=32, width=64, seed=5)).frames
    assert out.shape == (13, 32, 64, 3) and out.dtype == np.uint8
    assert len(b.plan(13).chunks) == 2
    assert np.array_equal(out, b(make_request(n_frames=13, height=32, width=64, seed=5)).frames)
    assert not np.array_equal(out, b(make_request(n_frames=13, height=32, width=64, seed=6)).frames)
    with pytest.raises(
        BackendRequestError, match=r"width_px=48: must be a positive multiple of 32"
    ):
        b(make_request(n_frames=5, height=32, width=48))
    assert b.provenance()["pipeline"] == "LTXConditionPipeline"


def test_real_clip_sizes_are_snapped_and_restored(tiny_dirs) -> None:
    src = _source(5, 30, 50)  # a "real" clip whose size is no multiple of 16
    out = restyle_clip(
        src,
        prompt="fog",
        strength=0.5,
        seed=0,
        model_dir=tiny_dirs["wan-v2v"],
        num_inference_steps=2,
        max_chunk_frames=9,
    )
    assert out.shape == src.shape
    mask = np.zeros((5, 30, 50), bool)
    mask[:, 10:20, 20:30] = True
    ins = insert_actor(
        src,
        np.full_like(src, 90),
        mask,
        prompt="deer",
        seed=0,
        model_dir=tiny_dirs["wan-vace"],
        num_inference_steps=2,
        max_chunk_frames=9,
    )
    assert ins.shape == src.shape
