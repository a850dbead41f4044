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
