"""Quality gate: passes a sound clip, catches each kind of defect with a clear reason."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from generator.errors import QualityGateError
from generator.io.openlabel import build_openlabel
from generator.quality import check_quality


def test_sound_clip_passes(clip):
    doc = build_openlabel(clip.scene, clip.rollout, clip.controls)
    report = check_quality(
        clip.rollout,
        clip.controls,
        clip.frames,
        labels_doc=doc,
        encoded_counts={"video.mp4": 11, "hdmap.mp4": 11},
    )
    assert report.passed, report.failures
    assert report.metrics["n_frames"] == 11
    assert report.metrics["visible_labels"] > 0
    assert report.metrics["visible_labels_without_pixels"] == 0
    report.raise_if_failed()
    assert report.to_dict()["passed"] is True


def test_blank_and_frozen_frames_fail(clip):
    frames = clip.frames.copy()
    frames[3] = 128
    report = check_quality(clip.rollout, clip.controls, frames)
    assert not report.passed
    assert any("blank" in f and "3" in f for f in report.failures), report.failures
    same = np.repeat(clip.frames[:1], clip.frames.shape[0], axis=0)
    report = check_quality(clip.rollout, clip.controls, same)
    assert any("identical" in f for f in report.failures), report.failures
    with pytest.raises(QualityGateError, match="identical"):
        report.raise_if_failed()


def test_frame_count_mismatch_fails(clip):
    report = check_quality(clip.rollout, clip.controls, clip.frames[:-1])
    assert any("frame counts differ" in f and "hdmap=11" in f for f in report.failures)
    report = check_quality(
        clip.rollout, clip.controls, clip.frames, encoded_counts={"depth.mp4": 9}
    )
    assert any("file:depth.mp4=9" in f for f in report.failures), report.failures
    doc = build_openlabel(clip.scene, clip.rollout, clip.controls)
    del doc["openlabel"]["frames"]["10"]
    report = check_quality(clip.rollout, clip.controls, clip.frames, labels_doc=doc)
    assert any("openlabel.frames=10" in f for f in report.failures), report.failures


def test_visible_label_without_pixels_fails(clip):
    hazard_id = next(
        o.instance_id for o in clip.controls.labels[4].objects if o.agent_id == "hazard"
    )
    inst = clip.controls.instance.copy()
    inst[4][inst[4] == hazard_id] = 0  # the mask lost the hazard in frame 4
    controls = dataclasses.replace(clip.controls, instance=inst)
    report = check_quality(clip.rollout, controls, clip.frames)
    assert not report.passed
    msg = next(f for f in report.failures if "cover no pixel" in f)
    assert "frame 4 hazard" in msg
    assert report.metrics["visible_labels_without_pixels"] == 1


def test_rollout_violations_fail(clip):
    checks = dataclasses.replace(
        clip.rollout.checks,
        physics_violation=np.array([[False, True, False, False]]),
        offroad=np.array([[False, False, True, False]]),
        notes=("hazard: decel 14 m/s2 beyond mu*g",),
    )
    rollout = dataclasses.replace(clip.rollout, checks=checks)
    report = check_quality(rollout, clip.controls, clip.frames)
    text = " | ".join(report.failures)
    assert "physics violation by agents hazard" in text and "14 m/s2" in text
    assert "drivable area: bg0" in text


def test_wrong_frame_shape_fails(clip):
    report = check_quality(clip.rollout, clip.controls, clip.frames[:, :50])
    assert any("expected uint8" in f for f in report.failures)


def test_fast_frame_statistics_equal_numpy():
    from generator.quality import _frame_std, _instance_counts

    rng = np.random.default_rng(7)
    frames = rng.integers(0, 256, size=(3, 37, 53 * 3), dtype=np.uint8)
    frames[1] = 200  # a flat frame: std exactly 0
    got = _frame_std(frames.reshape(3, -1))
    want = frames.reshape(3, -1).astype(np.float64).std(axis=1)
    assert np.allclose(got, want, atol=1e-9) and got[1] == 0.0
    inst = rng.integers(0, 9, size=(4, 21, 17), dtype=np.uint16)
    counts = _instance_counts(inst, 6)  # ids 6..8 are not counted
    for t in range(4):
        assert np.array_equal(counts[t], np.bincount(inst[t].ravel(), minlength=9)[:6])
