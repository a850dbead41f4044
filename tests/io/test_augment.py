"""Classical augmentation: each effect changes pixels deterministically; labels stay valid."""

from __future__ import annotations

import numpy as np
import pytest

from generator.augment import EFFECTS, Effect, EffectRegistry, augment_clip
from generator.errors import AugmentError
from generator.io.openlabel import build_openlabel, frame_count, validate_openlabel

PIXEL = [n for n in EFFECTS.names() if EFFECTS.get(n).kind == "pixel"]
TEMPORAL = [n for n in EFFECTS.names() if EFFECTS.get(n).kind == "temporal"]


@pytest.fixture(scope="module")
def doc(clip):
    return build_openlabel(clip.scene, clip.rollout, clip.controls)


def test_registry_has_all_effects_and_rejects_duplicates():
    assert set(EFFECTS.names()) == {
        "rain",
        "fog",
        "snow",
        "night",
        "dusk",
        "glare",
        "motion_blur",
        "noise",
        "lens_dirt",
        "drop_frames",
        "freeze_frames",
    }
    reg = EffectRegistry()
    eff = Effect("x", "temporal", "test", plan=lambda n, rng: np.arange(n))
    reg.register(eff)
    with pytest.raises(AugmentError, match="already registered"):
        reg.register(eff)


@pytest.mark.parametrize("name", PIXEL)
def test_pixel_effect_changes_pixels_deterministically(clip, doc, name):
    a, fps, doc_a = augment_clip(clip.frames, 10.0, doc, [name], seed=5)
    b, _, _ = augment_clip(clip.frames, 10.0, doc, [name], seed=5)
    c, _, _ = augment_clip(clip.frames, 10.0, doc, [name], seed=6)
    assert a.shape == clip.frames.shape and a.dtype == np.uint8 and fps == 10.0
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.abs(a.astype(int) - clip.frames.astype(int)).mean() > 1.0
    # pixel effects keep the labels, recording the augmentation
    assert doc_a["openlabel"]["frames"] == doc["openlabel"]["frames"]
    aug = doc_a["openlabel"]["metadata"]["augmentations"]
    assert aug[-1]["effects"] == [name] and aug[-1]["seed"] == 5
    assert doc["openlabel"]["metadata"]["augmentations"] == []  # input untouched


def test_look_of_light_effects(clip):
    base = clip.frames.astype(float).mean()
    night, _, _ = augment_clip(clip.frames, 10.0, None, ["night"], seed=1)
    fog, _, _ = augment_clip(clip.frames, 10.0, None, ["fog"], seed=1)
    assert night.astype(float).mean() < 0.5 * base
    # fog lowers contrast
    assert fog.astype(float).std() < clip.frames.astype(float).std()


def test_drop_frames_removes_labels_and_renumbers(clip, doc):
    out, _, d = augment_clip(clip.frames, 10.0, doc, ["drop_frames"], seed=2)
    n = out.shape[0]
    assert 2 <= n < clip.frames.shape[0]
    validate_openlabel(d)
    assert frame_count(d) == n and sorted(map(int, d["openlabel"]["frames"])) == list(range(n))
    src = d["openlabel"]["metadata"]["augmentations"][-1]["source_frames"]
    assert len(src) == n and src == sorted(set(src))
    for i, s in enumerate(src):
        assert np.array_equal(out[i], clip.frames[s])
        fr = d["openlabel"]["frames"][str(i)]
        assert fr["frame_properties"]["source_frame"] == s
        assert fr["objects"] == doc["openlabel"]["frames"][str(s)]["objects"]
    for obj in d["openlabel"]["objects"].values():
        assert obj["frame_intervals"][0]["frame_start"] == 0
        assert obj["frame_intervals"][-1]["frame_end"] == n - 1


def test_freeze_frames_repeat_labels(clip, doc):
    out, _, d = augment_clip(clip.frames, 10.0, doc, ["freeze_frames"], seed=4)
    assert out.shape == clip.frames.shape
    src = d["openlabel"]["metadata"]["augmentations"][-1]["source_frames"]
    assert len(set(src)) < len(src)  # something froze
    for i, s in enumerate(src):
        assert np.array_equal(out[i], clip.frames[s])
        assert (
            d["openlabel"]["frames"][str(i)]["objects"]
            == doc["openlabel"]["frames"][str(s)]["objects"]
        )


def test_chain_keeps_counts_consistent(clip, doc):
    out, _, d = augment_clip(
        clip.frames, 10.0, doc, ["rain", "drop_frames", "noise", "freeze_frames"], seed=9
    )
    validate_openlabel(d)
    assert frame_count(d) == out.shape[0] == len(d["openlabel"]["frames"])


def test_bad_inputs_rejected(clip, doc):
    with pytest.raises(AugmentError, match=r"'hail'.*valid effects: rain, fog"):
        augment_clip(clip.frames, 10.0, None, ["rain", "hail"], seed=0)
    with pytest.raises(AugmentError, match="more than once"):
        augment_clip(clip.frames, 10.0, None, ["fog", "fog"], seed=0)
    with pytest.raises(AugmentError, match="at least one"):
        augment_clip(clip.frames, 10.0, None, [], seed=0)
    with pytest.raises(AugmentError, match="labelled frames"):
        augment_clip(clip.frames[:5], 10.0, doc, ["rain"], seed=0)
    with pytest.raises(AugmentError, match="uint8"):
        augment_clip(clip.frames.astype(np.float32), 10.0, None, ["rain"], seed=0)
