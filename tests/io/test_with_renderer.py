"""The io / quality parts on a clip from the real world + renderer + sketch backend."""

from __future__ import annotations

import numpy as np
import pytest

from generator.io.openlabel import build_openlabel, scenario_of, validate_openlabel
from generator.io.video import probe_video, read_video, write_video
from generator.quality import check_quality


@pytest.fixture(scope="module")
def rendered(clip):
    from generator.backends.base import BackendRequest
    from generator.backends.sketch import SketchBackend
    from generator.render.controls import render_controls
    from generator.render.types import CameraConfig
    from generator.world.geometry import build_road
    from generator.world.rollout import rollout

    scene = clip.scene.model_copy(update={"horizon_s": 2.0})
    road = build_road(scene.road)
    roll = rollout(scene, n_worlds=1, seed=0)
    controls = render_controls(
        scene, road, roll, CameraConfig(width_px=160, height_px=96), seconds=2.0
    )
    out = SketchBackend()(
        BackendRequest(scene=scene, road=road, rollout=roll, controls=controls, prompt="", seed=0)
    )
    return scene, roll, controls, out.frames


def test_gate_passes_and_labels_validate(rendered, tmp_path):
    scene, roll, controls, frames = rendered
    doc = build_openlabel(scene, roll, controls)
    validate_openlabel(doc)
    path = write_video(tmp_path / "video.mp4", frames, controls.camera.fps)
    report = check_quality(
        roll,
        controls,
        frames,
        labels_doc=doc,
        encoded_counts={"video.mp4": probe_video(path).n_frames},
    )
    assert report.passed, report.failures
    assert report.metrics["visible_labels"] > 0
    info = scenario_of(doc)
    assert info["class_id"] == scene.scenario.class_id
    assert info["params"] == pytest.approx(scene.scenario.params)
    assert info["tags"] == list(scene.scenario.tags)
    decoded, _ = read_video(path)
    assert decoded.shape == frames.shape


def test_gate_catches_blanked_renderer_output(rendered):
    _, roll, controls, frames = rendered
    report = check_quality(roll, controls, np.zeros_like(frames))
    assert not report.passed and any("blank" in f for f in report.failures)


def test_control_video_sources_equal_the_rendered_colour_videos(rendered):
    """The writer's id/depth -> YUV path gives the bytes of converting the colour videos."""
    from generator.io.yuv import DepthFrames, PaletteFrames, planes_of, rgb_to_yuv420p
    from generator.render.controls import depth_video, instance_video, semantic_video
    from generator.render.palette import INSTANCE_LUT, SEMANTIC_LUT

    _scene, _roll, controls, _frames = rendered
    pairs = [
        (PaletteFrames(controls.semantic, SEMANTIC_LUT), semantic_video(controls)),
        (PaletteFrames(controls.instance, INSTANCE_LUT), instance_video(controls)),
        (DepthFrames(controls.depth_m), depth_video(controls)),
    ]
    out = np.empty((96 * 3 // 2, 160), np.uint8)
    for source, rgb in pairs:
        assert source.n_frames == rgb.shape[0]
        for i in (0, rgb.shape[0] // 2, rgb.shape[0] - 1):
            source.fill_planes(i, *planes_of(out))
            assert np.array_equal(out, rgb_to_yuv420p(rgb[i]))
    assert controls.instance.max() > 0  # the instance map has objects to colour
