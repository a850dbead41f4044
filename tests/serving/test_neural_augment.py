"""Neural effects on POST /v1/augment, end to end through a real Ray Serve instance on CPU.

The instance's model folder holds two tiny random checkpoints (``make_tiny``): ``wan-v2v``
(restyle) and ``wan-vace`` (hazard insertion). Their frames are noise by design; what is
checked is the contract: the job succeeds, the clip keeps the source's frame count, size and
labels (plus the inserted actor's), and the provenance names the backend and weights hash.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from serving_helpers import AUTH, TINY, make_args, submit, wait_job

pytestmark = pytest.mark.integration

os.environ["HF_HUB_OFFLINE"] = "1"  # the tiny checkpoints load from disk; no hub


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from generator.backends.tiny import make_tiny

    root = tmp_path_factory.mktemp("models")
    for family in ("wan-v2v", "wan-vace"):
        make_tiny(family, root / family)
    return root


def _objects(doc: dict[str, Any]) -> dict[str, Any]:
    return dict(doc["openlabel"].get("objects", {}))


def test_neural_effect_without_a_model_is_a_422_naming_the_field(client: httpx.Client) -> None:
    r = submit(client, {"class_id": 3, "seed": 0, **TINY})
    job = wait_job(client, r.json()["job_id"])
    cid = job["clip_ids"][0]
    for data, field, value in (
        ({"restyle_weather": "rain"}, "restyle_weather", "rain"),
        ({"restyle_lighting": "night", "effects": "noise"}, "restyle_lighting", "night"),
        ({"insert_class_id": "7"}, "insert_class_id", "7"),
    ):
        out = client.post("/v1/augment", headers=AUTH, data={"clip_id": cid, **data})
        assert out.status_code == 422, out.text
        body = out.json()
        assert body["field"] == field and value in body["error"]
        assert "WMGEN_MODEL_DIR" in body["error"]
    bad = client.post("/v1/augment", headers=AUTH, data={"clip_id": cid, "restyle_weather": "lava"})
    assert bad.status_code == 422 and bad.json()["field"] == "restyle_weather"
    none = client.post("/v1/augment", headers=AUTH, data={"clip_id": cid})
    assert none.status_code == 422 and none.json()["field"] == "effects"


def test_restyle_and_insert_through_http(
    instances: Any, tmp_path_factory: pytest.TempPathFactory, models: Path
) -> None:
    from generator.backends.weights import weights_sha256

    svc = instances.get(make_args(tmp_path_factory.mktemp("neural-svc"), model_dir=str(models)))
    with httpx.Client(base_url=svc.url, timeout=60.0) as client:
        r = submit(client, {"class_id": 7, "seed": 0, **TINY})
        src_job = wait_job(client, r.json()["job_id"])
        assert src_job["state"] == "succeeded", src_job
        cid = src_job["clip_ids"][0]
        source = client.get(f"/v1/clips/{cid}").json()
        src_labels = client.get(f"/v1/clips/{cid}/labels").json()
        video = client.get(f"/v1/clips/{cid}/video").content

        # restyle an uploaded clip with its labels; no classical effect
        up = client.post(
            "/v1/augment",
            headers=AUTH,
            data={"restyle_weather": "snow", "strength": "0.6", "seed": "3"},
            files={
                "file": ("real.mp4", video, "video/mp4"),
                "labels": ("real.json", json.dumps(src_labels).encode(), "application/json"),
            },
        )
        assert up.status_code == 202, up.text
        job = wait_job(client, up.json()["job_id"], timeout_s=300)
        assert job["state"] == "succeeded", job
        out = client.get(f"/v1/clips/{job['clip_ids'][0]}").json()
        assert out["n_frames"] == source["n_frames"] == 10
        assert (out["width_px"], out["height_px"]) == (source["width_px"], source["height_px"])
        assert out["backend"] == "wan-v2v" and "restyle:snow" in out["tags"]
        prov = out["provenance"]
        assert prov["backend"] == "wan-v2v"
        assert prov["weights_sha256"] == weights_sha256(models / "wan-v2v")
        labels = client.get(f"/v1/clips/{out['clip_id']}/labels").json()
        assert _objects(labels) == _objects(src_labels), "restyling keeps the labels"
        assert out["class_id"] == 7

        # insert class 7's hazard actor into the catalogued clip, then restyle + a classical
        ins = client.post(
            "/v1/augment",
            headers=AUTH,
            data={
                "clip_id": cid,
                "insert_class_id": "7",
                "insert_offset_x_px": "8",
                "restyle_lighting": "night",
                "effects": "noise",
            },
        )
        assert ins.status_code == 202, ins.text
        job2 = wait_job(client, ins.json()["job_id"], timeout_s=300)
        assert job2["state"] == "succeeded", job2
        out2 = client.get(f"/v1/clips/{job2['clip_ids'][0]}").json()
        assert out2["n_frames"] == 10 and out2["source_clip_id"] == cid
        assert out2["backend"] == "wan-vace+wan-v2v"
        p2 = out2["provenance"]
        assert p2["insert.weights_sha256"] == weights_sha256(models / "wan-vace")
        assert p2["restyle.weights_sha256"] == weights_sha256(models / "wan-v2v")
        labels2 = client.get(f"/v1/clips/{out2['clip_id']}/labels").json()
        objs, before = _objects(labels2), _objects(src_labels)
        assert set(before) < set(objs), "the source's objects are kept, the actor is added"
        (new_uid,) = set(objs) - set(before)
        assert objs[new_uid]["name"] == "inserted_hazard_7"
        boxed = [f for f in labels2["openlabel"]["frames"].values() if new_uid in f["objects"]]
        assert boxed, "the inserted actor has boxes"


def test_model_folder_detection(models: Path, tmp_path: Path) -> None:
    from serving.errors import InvalidFieldError
    from serving.neural_augment import NeuralEffects, check_available, neural_model_dirs

    assert neural_model_dirs(str(models)) == {
        "restyle": str((models / "wan-v2v").resolve()),
        "insert": str((models / "wan-vace").resolve()),
    }
    assert neural_model_dirs(str(models / "wan-v2v")) == {
        "restyle": str((models / "wan-v2v").resolve())
    }
    insert = NeuralEffects(insert_class_id=7)
    with pytest.raises(InvalidFieldError) as err:
        check_available(insert, str(models / "wan-v2v"))
    assert err.value.field == "insert_class_id" and "WanVACEPipeline" in str(err.value)
    gone = str(tmp_path / "not-on-this-node")
    assert check_available(insert, gone, strict=False) == {}  # an ingress without the weights
    with pytest.raises(InvalidFieldError):
        check_available(insert, gone)  # the worker, where the weights must be
