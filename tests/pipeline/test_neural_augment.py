"""Neural augmentation through ``ClipPipeline.augment(..., neural=...)`` on the CPU with a tiny
``wan-vace`` checkpoint (random weights: the frames are noise by design; what is checked is
the contract: shape kept, the actor's labels added, provenance, content address)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from generator.augment.neural import NeuralEffects, add_actor_labels, require_models
from generator.errors import NeuralEffectError
from generator.io.openlabel import validate_openlabel
from generator.io.video import probe_video
from generator.pipeline import ClipPipeline, ClipRequest
from scenario_library.spec import ScenarioSpec

os.environ["HF_HUB_OFFLINE"] = "1"  # tiny checkpoints load from disk; no hub

SMALL = {"width_px": 96, "height_px": 64, "fps": 8.0, "seconds": 1.0}


@pytest.fixture(scope="module")
def vace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from generator.backends.tiny import make_tiny

    return make_tiny("wan-vace", tmp_path_factory.mktemp("models") / "wan-vace")


def test_missing_model_names_the_field(tmp_path: Path, vace: Path) -> None:
    with pytest.raises(NeuralEffectError) as err:
        require_models(NeuralEffects(restyle_weather="rain"), None)
    assert err.value.field == "restyle_weather" and "WMGEN_MODEL_DIR" in str(err.value)
    with pytest.raises(NeuralEffectError) as err:
        require_models(NeuralEffects(restyle_lighting="night"), str(vace))
    assert err.value.field == "restyle_lighting" and "WanVideoToVideoPipeline" in str(err.value)
    assert require_models(NeuralEffects(insert_class_id=7), str(vace)) == {
        "insert": str(vace.resolve())
    }


def test_insert_hazard_actor_through_the_pipeline(tmp_path: Path, vace: Path) -> None:
    from generator.backends.weights import weights_sha256

    pipe = ClipPipeline.from_env(tmp_path / "home")
    src = pipe.generate(ClipRequest(spec=ScenarioSpec(class_id=7), seed=0, **SMALL))
    video = pipe.storage.local_path(src.record.file("video").uri)
    labels = pipe.storage.local_path(src.record.file("labels").uri)
    before = json.loads(labels.read_text())["openlabel"]["objects"]

    neural = NeuralEffects(insert_class_id=7, insert_offset_px=(4, 0))
    out = pipe.augment(video, [], seed=1, labels=labels, neural=neural, model_dir=str(vace))
    rec = out.record
    assert out.created and rec.backend == "wan-vace" and "neural:insert" in rec.tags
    assert rec.provenance["insert.weights_sha256"] == weights_sha256(vace)
    assert rec.provenance["weights_sha256"] == weights_sha256(vace)
    assert rec.spec["augment"]["neural"]["insert_class_id"] == 7
    info = probe_video(pipe.storage.local_path(rec.file("video").uri))
    assert (info.n_frames, info.width, info.height) == (8, 96, 64)
    doc = json.loads(pipe.storage.local_path(rec.file("labels").uri).read_text())
    validate_openlabel(doc)
    objs = doc["openlabel"]["objects"]
    assert set(before) < set(objs)
    (uid,) = set(objs) - set(before)
    assert objs[uid]["name"] == "inserted_hazard_7"

    # content addressed: the neural settings are part of the token, a retry is not redone
    again = pipe.augment(video, [], seed=1, labels=labels, neural=neural, model_dir=str(vace))
    assert again.token == out.token and not again.created
    moved = NeuralEffects(insert_class_id=7, insert_offset_px=(6, 0))
    assert pipe.augment(video, [], 1, labels, neural=moved, model_dir=str(vace)).token != out.token
    classical = pipe.augment(video, ["noise"], seed=1, labels=labels)
    assert classical.token != out.token and classical.record.backend == "augment-classical"

    # an actor moved out of the picture is refused, naming the field
    gone = NeuralEffects(insert_class_id=7, insert_offset_px=(4000, 0))
    with pytest.raises(NeuralEffectError) as err:
        pipe.augment(video, [], seed=1, labels=labels, neural=gone, model_dir=str(vace))
    assert err.value.field == "insert_offset_px"


def test_add_actor_labels_adds_one_object_with_boxes() -> None:
    from generator.io.openlabel import build_openlabel
    from generator.render.controls import render_controls
    from generator.render.types import CameraConfig
    from generator.world.geometry import build_road
    from generator.world.rollout import rollout
    from scenario_library.sampling import sample_scene

    scene = sample_scene(ScenarioSpec(class_id=3), 0, horizon_s=8.0)
    roll = rollout(scene, n_worlds=1, seed=0)
    controls = render_controls(
        scene, build_road(scene.road), roll, CameraConfig(width_px=96, height_px=64, fps=5.0), 1.0
    )
    doc = build_openlabel(scene, roll, controls)
    n = len(doc["openlabel"]["frames"])
    boxes = [None] + [(10.0, 20.0, 30.0, 40.0)] * (n - 1)
    out = add_actor_labels(doc, boxes, "pedestrian", 3)
    validate_openlabel(out)
    new = set(out["openlabel"]["objects"]) - set(doc["openlabel"]["objects"])
    (uid,) = new
    assert out["openlabel"]["objects"][uid]["frame_intervals"] == [
        {"frame_start": 1, "frame_end": n - 1}
    ]
    val = out["openlabel"]["frames"]["1"]["objects"][uid]["object_data"]["bbox"][0]["val"]
    assert val == [20.0, 30.0, 20.0, 20.0]  # centre x, centre y, width, height [px]
    assert uid not in out["openlabel"]["frames"]["0"].get("objects", {})
    assert doc is not out and uid not in doc["openlabel"]["objects"]
