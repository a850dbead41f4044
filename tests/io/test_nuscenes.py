"""nuScenes export: all 13 tables, loadable by the official devkit (separate venv)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generator.errors import ClipWriteError
from generator.io.nuscenes import export_nuscenes, rotation_to_quaternion_wxyz, visibility_token
from generator.io.openlabel import build_openlabel, write_openlabel
from generator.io.video import write_video

REPO = Path(__file__).resolve().parents[2]
DEVKIT_VENV = REPO / ".venv-tools" / "nuscenes"
TABLES = (
    "category",
    "attribute",
    "visibility",
    "instance",
    "sensor",
    "calibrated_sensor",
    "ego_pose",
    "log",
    "scene",
    "sample",
    "sample_data",
    "sample_annotation",
    "map",
)


@pytest.fixture(scope="module")
def stored_clips(tmp_path_factory, clip, catalog_fakes):
    """Two clips stored as the pipeline stores them, plus one without labels (skipped)."""
    file_ref, record, _ = catalog_fakes
    root = tmp_path_factory.mktemp("storage")
    doc = build_openlabel(clip.scene, clip.rollout, clip.controls)
    records = []
    for tok in ("0" * 31 + "a", "0" * 31 + "b"):
        d = root / tok
        write_video(d / "video.mp4", clip.frames, 10.0)
        write_openlabel(d / "labels.openlabel.json", doc)
        records.append(
            record(
                token=tok,
                class_name=clip.scene.scenario.class_name,
                files=[
                    file_ref("video", str(d / "video.mp4")),
                    file_ref("labels", str(d / "labels.openlabel.json")),
                ],
            )
        )
    d = root / "c"
    write_video(d / "video.mp4", clip.frames, 10.0)
    records.append(
        record(
            token="0" * 31 + "c",
            class_name="augmented",
            files=[file_ref("video", str(d / "video.mp4"))],
        )
    )
    return records


@pytest.fixture(scope="module")
def export(tmp_path_factory, stored_clips, catalog_fakes):
    out = tmp_path_factory.mktemp("nuscenes")
    vdir = export_nuscenes(stored_clips, catalog_fakes[2](), out, version="v1.0-test")
    return out, vdir


def test_tables_written_and_consistent(export, clip):
    out, vdir = export
    assert vdir == out / "v1.0-test"
    t = {name: json.loads((vdir / f"{name}.json").read_text()) for name in TABLES}
    assert all(t[name] for name in TABLES)
    assert len(t["scene"]) == len(t["log"]) == len(t["map"]) == 2
    n = clip.frames.shape[0]
    assert len(t["sample_data"]) == len(t["ego_pose"]) == 2 * n
    # 10 fps, key frames at 2 Hz: frames 0, 5, 10
    assert len(t["sample"]) == 2 * 3
    assert sum(sd["is_key_frame"] for sd in t["sample_data"]) == 6
    for sd in t["sample_data"]:
        img = out / sd["filename"]
        assert img.is_file() and sd["filename"].startswith(
            "samples/" if sd["is_key_frame"] else "sweeps/"
        )
    for m in t["map"]:
        assert (out / m["filename"]).is_file()
    tokens = [r["token"] for name in TABLES for r in t[name]]
    assert len(tokens) == len(set(tokens))
    manifest = json.loads((out / "export_manifest.json").read_text())
    assert list(manifest["skipped"]) == ["0" * 31 + "c"]
    # the first JPEG is the decoded first video frame
    with Image.open(out / t["sample_data"][0]["filename"]) as img:
        assert img.size == (160, 96)


def test_export_is_deterministic(tmp_path, stored_clips, catalog_fakes, export):
    vdir = export_nuscenes(stored_clips, catalog_fakes[2](), tmp_path, version="v1.0-test")
    for name in TABLES:
        assert (vdir / f"{name}.json").read_bytes() == (export[1] / f"{name}.json").read_bytes(), (
            name
        )


def test_helpers():
    assert [visibility_token(v) for v in (0.0, 0.39, 0.4, 0.7, 0.99, 1.0)] == [
        "1",
        "1",
        "2",
        "3",
        "4",
        "4",
    ]
    yaw = 0.7
    r = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    assert np.allclose(rotation_to_quaternion_wxyz(r), [np.cos(0.35), 0, 0, np.sin(0.35)])
    # the camera rotation (x right, y down, z forward in a x-forward ego) is not trivial
    cam = np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]], dtype=float)
    assert np.allclose(rotation_to_quaternion_wxyz(cam), [0.5, -0.5, 0.5, -0.5])


def test_nothing_exportable_rejected(tmp_path, stored_clips, catalog_fakes):
    with pytest.raises(ClipWriteError, match="no clip could be exported"):
        export_nuscenes(stored_clips[2:], catalog_fakes[2](), tmp_path)


@pytest.fixture(scope="module")
def devkit_python() -> Path:
    """The devkit venv (scripts/install-nuscenes-devkit.sh; idempotent, instant if present)."""
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "install-nuscenes-devkit.sh"), str(DEVKIT_VENV)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        pytest.skip(f"nuScenes devkit venv could not be created: {proc.stderr.strip()[-300:]}")
    return DEVKIT_VENV / "bin" / "python"


@pytest.mark.integration
def test_official_devkit_loads_export(devkit_python, export, clip):
    out, vdir = export
    proc = subprocess.run(
        [str(devkit_python), str(Path(__file__).with_name("devkit_check.py")), str(out), vdir.name],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    facts = json.loads(proc.stdout)
    assert facts["counts"]["scene"] == 2 and facts["counts"]["sample"] == 6
    assert facts["counts"]["sample_annotation"] == 2 * 3 * 3  # 3 objects x 3 key frames
    scene = facts["scenes"][0]
    assert scene["n_samples"] == 3 and Path(scene["image"]).is_file()
    assert np.allclose(scene["intrinsic"], clip.controls.camera.intrinsic, atol=1e-3)
    assert scene["categories"] == ["vehicle.car", "vehicle.truck"]
    assert scene["n_sweep_boxes"] == 3  # boxes interpolated for a non-key frame
    assert scene["ego_on_map"] is True  # the map image shows the road under the ego
    # the devkit's projection of each box (our calibration) lands on our 2D boxes
    boxes = sorted(scene["projected"].values())
    ours = sorted(o.bbox_xyxy for o in clip.controls.labels[0].objects if o.bbox_xyxy)
    assert len(boxes) == len(ours) == 2
    for got, want in zip(boxes, ours, strict=True):
        assert np.allclose(got, want, atol=0.05)


def test_export_from_real_storage_and_records(tmp_path, clip):
    """The catalog's own ClipRecord / Storage (published files, file:// URIs) work as input."""
    from scenario_library.catalog.records import ClipRecord
    from scenario_library.storage import Storage

    storage = Storage(tmp_path / "store")
    doc = build_openlabel(clip.scene, clip.rollout, clip.controls)
    tok = "1" * 32
    with storage.staging() as stage:
        write_video(stage / "video.mp4", clip.frames, 10.0)
        write_openlabel(stage / "labels.openlabel.json", doc)
        refs = storage.publish(tok, stage)
    assert {r.kind.split(".")[0] for r in refs} >= {"video", "labels"}
    record = ClipRecord(
        token=tok,
        class_id=7,
        class_name="x",
        backend="sketch",
        files=refs,
        width_px=160,
        height_px=96,
        fps=10.0,
        n_frames=11,
    )
    vdir = export_nuscenes([record], storage, tmp_path / "out")
    scenes = json.loads((vdir / "scene.json").read_text())
    assert len(scenes) == 1 and scenes[0]["nbr_samples"] == 3
    assert len(json.loads((vdir / "sample_data.json").read_text())) == 11
