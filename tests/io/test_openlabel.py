"""OpenLABEL 1.0 labels: schema-valid, complete, consistent with the controls."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from generator.errors import AugmentError, ClipWriteError
from generator.io.openlabel import (
    build_openlabel,
    load_openlabel,
    openlabel_errors,
    validate_openlabel,
    write_openlabel,
)


@pytest.fixture(scope="module")
def doc(clip):
    return build_openlabel(clip.scene, clip.rollout, clip.controls)


def test_validates_against_schema(doc):
    validate_openlabel(doc)
    json.dumps(doc, allow_nan=False)  # strict JSON: no NaN / inf


def test_structure_complete(doc, clip):
    ol = doc["openlabel"]
    assert ol["metadata"]["schema_version"] == "1.0.0"
    assert set(ol["coordinate_systems"]) == {"odom", "vehicle-iso8855", "CAM_FRONT"}
    pin = ol["streams"]["CAM_FRONT"]["stream_properties"]["intrinsics_pinhole"]
    k = clip.controls.camera.intrinsic
    assert (pin["width_px"], pin["height_px"]) == (160, 96)
    assert np.allclose(np.array(pin["camera_matrix"]).reshape(3, 4)[:, :3], k, atol=1e-3)
    # every non-ego agent is an object with its class
    names = {o["name"]: o["type"] for o in ol["objects"].values()}
    assert names == {"hazard": "car", "bg0": "truck", "bg1": "car"}
    assert len(ol["frames"]) == clip.controls.n_frames
    assert ol["frame_intervals"] == [{"frame_start": 0, "frame_end": clip.controls.n_frames - 1}]
    # scenario context: class id, every parameter, tags
    ctx = ol["contexts"]["0"]["context_data"]
    nums = {n["name"]: n["val"] for n in ctx["num"]}
    assert nums["class_id"] == 7
    for k_, v in clip.scene.scenario.params.items():
        assert nums[k_] == pytest.approx(v)
    texts = {t["name"]: t["val"] for t in ctx["text"]}
    assert texts["weather"] == "rain" and texts["family"] == "cut_in"
    assert sorted(t["type"] for t in ol["tags"].values()) == sorted(clip.scene.scenario.tags)


def test_frame_object_data_matches_labels(doc, clip):
    ol = doc["openlabel"]
    uid = next(k for k, o in ol["objects"].items() if o["name"] == "hazard")
    for f in (0, 5, 10):
        label = next(o for o in clip.controls.labels[f].objects if o.agent_id == "hazard")
        data = ol["frames"][str(f)]["objects"][uid]["object_data"]
        cub = {c["name"]: c for c in data["cuboid"]}
        world, ego = cub["box3d_world"]["val"], cub["box3d_ego"]["val"]
        assert len(world) == 10 and len(ego) == 10
        assert np.allclose(world[:3], label.corners_world.mean(axis=0), atol=1e-3)
        assert np.allclose(ego[:3], label.corners_ego.mean(axis=0), atol=1e-3)
        # yaw 0.15 rad in the world (quaternion z, w), ego yaw 0 -> same in the ego frame
        assert np.allclose(world[3:7], [0, 0, np.sin(0.075), np.cos(0.075)], atol=1e-4)
        assert np.allclose(ego[3:7], world[3:7], atol=1e-4)
        assert np.allclose(world[7:], [4.6, 1.9, 1.5], atol=1e-4)
        x0, y0, x1, y1 = label.bbox_xyxy
        assert np.allclose(
            data["bbox"][0]["val"], [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], atol=1e-3
        )
        corners = next(v for v in data["vec"] if v["name"] == "corners_ego")["val"]
        assert np.allclose(np.reshape(corners, (8, 3)), label.corners_ego, atol=1e-3)
        vis = {n["name"]: n["val"] for n in data["num"]}
        assert vis["visible_fraction"] == pytest.approx(label.visible_fraction, abs=1e-4)
        assert vis["occlusion"] == pytest.approx(1 - label.visible_fraction, abs=1e-4)
    # the car behind the ego is not in view: no 2D box, visible false
    uid_b = next(k for k, o in ol["objects"].items() if o["name"] == "bg1")
    data = ol["frames"]["0"]["objects"][uid_b]["object_data"]
    assert "bbox" not in data and data["boolean"][0]["val"] is False
    # ego pose per frame
    fp = ol["frames"]["10"]["frame_properties"]
    assert fp["ego_pose"]["x_m"] == pytest.approx(float(clip.rollout.x_m[0, 0, 10]))
    m = np.reshape(
        fp["transforms"]["vehicle-iso8855_to_odom"]["transform_src_to_dst"]["matrix4x4"], (4, 4)
    )
    assert m[0, 3] == pytest.approx(20.0)


def test_schema_catches_broken_documents(doc):
    bad = copy.deepcopy(doc)
    bad["openlabel"]["metadata"]["schema_version"] = "0.9"
    assert any("schema_version" in e or "0.9" in e for e in openlabel_errors(bad))
    bad = copy.deepcopy(doc)
    uid = next(iter(bad["openlabel"]["frames"]["0"]["objects"]))
    bad["openlabel"]["frames"]["0"]["objects"][uid]["object_data"]["cuboid"][0]["val"] = [1, 2]
    with pytest.raises(ClipWriteError, match="cuboid"):
        validate_openlabel(bad)
    bad = copy.deepcopy(doc)
    bad["openlabel"]["frames"]["3"]["objects"]["99"] = {"object_data": {}}
    with pytest.raises(ClipWriteError, match="unknown object uid"):
        validate_openlabel(bad)
    with pytest.raises(ClipWriteError):
        validate_openlabel({"labels": []})


def test_multi_world_rollout_rejected(clip):
    import dataclasses

    two = dataclasses.replace(clip.rollout, x_m=np.concatenate([clip.rollout.x_m] * 2))
    with pytest.raises(ClipWriteError, match="one world"):
        build_openlabel(clip.scene, two, clip.controls)


def test_write_and_load_roundtrip(tmp_path, doc):
    path = write_openlabel(tmp_path / "labels.openlabel.json", doc)
    assert load_openlabel(path) == json.loads(json.dumps(doc))
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    with pytest.raises(AugmentError, match=r"junk\.json"):
        load_openlabel(junk)
