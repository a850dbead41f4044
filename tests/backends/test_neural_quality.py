"""Weight-free quality measures: stability and layout agreement."""

from __future__ import annotations

import numpy as np
from backend_fixtures import make_controls

from generator.backends.conditioning import layout_control_video
from generator.backends.neural_quality import check_neural_quality, temporal_stability


def _render_like(controls) -> np.ndarray:
    """Frames that follow the layout: the control video, softened and tinted."""
    c = layout_control_video(controls).astype(np.float32)
    return np.clip(c * 0.8 + 30, 0, 255).astype(np.uint8)


def test_layout_following_clip_passes() -> None:
    controls = make_controls(12, 48, 64)
    report = check_neural_quality(_render_like(controls), controls)
    assert report.passed, report.failures
    assert report.metrics["edge_correlation"] > 0.5
    assert report.metrics["structure_edge_ratio"] > 1.5
    assert report.metrics["box_edge_ratio"] > 1.3


def test_noise_fails_stability_and_layout() -> None:
    controls = make_controls(12, 48, 64)
    noise = np.random.default_rng(0).integers(0, 256, (12, 48, 64, 3), dtype=np.uint8)
    report = check_neural_quality(noise, controls)
    assert not report.passed
    text = " ".join(report.failures)
    assert "mean_change" in text and "structure_edge_ratio" in text


def test_flicker_and_frozen_detected() -> None:
    controls = make_controls(12, 48, 64)
    frames = _render_like(controls).astype(np.int16)
    frames[::2] += 40  # every other frame brighter
    flick = check_neural_quality(np.clip(frames, 0, 255).astype(np.uint8), controls)
    assert any(f.startswith("flicker") for f in flick.failures)
    frozen = np.repeat(_render_like(controls)[:1], 12, axis=0)
    rep = check_neural_quality(frozen, controls)
    assert any(f.startswith("frozen") for f in rep.failures)


def test_objects_away_from_their_boxes_fail() -> None:
    controls = make_controls(12, 48, 64)
    frames = _render_like(controls)
    moved = np.roll(frames, shift=(20, 30), axis=(1, 2))  # layout no longer where labels say
    good = check_neural_quality(frames, controls).metrics
    bad = check_neural_quality(moved, controls)
    assert bad.metrics["box_edge_ratio"] < good["box_edge_ratio"]
    assert bad.metrics["edge_correlation"] < good["edge_correlation"]
    assert any(f.startswith("box_edge_ratio") for f in bad.failures)


def test_stability_of_static_clip_is_zero() -> None:
    frames = np.full((5, 8, 8, 3), 100, np.uint8)
    m = temporal_stability(frames)
    assert m == {"mean_change": 0.0, "max_change": 0.0, "flicker": 0.0}


def test_tiny_random_model_output_is_flagged(tiny_dirs) -> None:
    """Random weights cannot follow a layout: the measure must see that."""
    from backend_fixtures import make_request

    from generator.backends.wan_vace import WanVaceBackend

    b = WanVaceBackend(tiny_dirs["wan-vace"], num_inference_steps=2, max_chunk_frames=9)
    req = make_request(n_frames=9, height=48, width=64)
    report = check_neural_quality(b(req).frames, req.controls)
    assert any(f.startswith("structure_edge_ratio") for f in report.failures)
