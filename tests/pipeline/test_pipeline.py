"""The whole data flow, spec -> catalogued clip, on the sketch backend at a small size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from generator.errors import AugmentError, ClipWriteError
from generator.io.openlabel import validate_openlabel
from generator.io.video import probe_video, read_video
from generator.pipeline import (
    CONTROL_FILES,
    ClipPipeline,
    ClipRequest,
    clip_window_start,
    culmination_time_s,
)
from scenario_library.catalog import ClipQuery
from scenario_library.spec import ScenarioSpec

SMALL = {"width_px": 192, "height_px": 112, "fps": 10.0, "seconds": 2.0}


def _req(class_id: int = 17, seed: int = 0, **kw: object) -> ClipRequest:
    return ClipRequest(spec=ScenarioSpec(class_id=class_id), seed=seed, **{**SMALL, **kw})


@pytest.fixture()
def pipe(tmp_path: Path) -> ClipPipeline:
    return ClipPipeline.from_env(tmp_path / "home")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[ClipPipeline, object]:
    p = ClipPipeline.from_env(tmp_path_factory.mktemp("gen") / "home")
    return p, p.generate(_req())


def test_generate_publishes_every_file_and_a_catalog_record(generated) -> None:
    pipe, res = generated
    assert res.created
    rec = pipe.catalog.get_clip(res.token)
    kinds = {f.kind for f in rec.files}
    assert {"video", "labels", "thumbnail", "scene", "record", *CONTROL_FILES} <= kinds
    for f in rec.files:
        path = pipe.storage.local_path(f.uri)
        assert path.stat().st_size == f.size_bytes > 0
    n = int(SMALL["seconds"] * SMALL["fps"])
    for kind in ("video", *CONTROL_FILES):
        info = probe_video(pipe.storage.local_path(rec.file(kind).uri))
        assert (info.n_frames, info.width, info.height) == (n, 192, 112)
        assert info.codec == "h264" and info.pix_fmt == "yuv420p"
    labels = json.loads(pipe.storage.local_path(rec.file("labels").uri).read_text())
    validate_openlabel(labels)
    assert len(labels["openlabel"]["frames"]) == n
    assert rec.class_id == 17 and rec.n_frames == n and rec.quality["passed"] is True


def test_provenance_records_spec_seed_backend_weights_and_code(generated) -> None:
    _pipe, res = generated
    prov = res.record.provenance
    assert prov["backend"] == "sketch" and prov["seed"] == "0"
    assert prov["weights_sha256"] and prov["version"] and prov["code_version"]
    assert res.record.spec["spec"]["class_id"] == 17


def test_same_request_is_stored_once(generated) -> None:
    pipe, res = generated
    again = pipe.generate(_req())
    assert again.token == res.token and not again.created
    page = pipe.catalog.query_clips(ClipQuery(class_id=17, with_total=True))
    assert page.total == 1


def test_token_is_content_addressed(pipe: ClipPipeline) -> None:
    assert pipe.token_for(_req()) == pipe.token_for(_req())
    assert pipe.token_for(_req(seed=1)) != pipe.token_for(_req())
    assert pipe.token_for(_req(width_px=256)) != pipe.token_for(_req())
    assert len(pipe.token_for(_req())) == 32


def test_same_spec_and_seed_give_the_same_frames(generated, tmp_path: Path) -> None:
    pipe, res = generated
    other = ClipPipeline.from_env(tmp_path / "other")
    res2 = other.generate(_req())
    assert res2.token == res.token
    a, _ = read_video(pipe.storage.local_path(res.record.file("video").uri))
    b, _ = read_video(other.storage.local_path(res2.record.file("video").uri))
    assert np.array_equal(a, b)
    la = pipe.storage.local_path(res.record.file("labels").uri).read_bytes()
    lb = other.storage.local_path(res2.record.file("labels").uri).read_bytes()
    assert la == lb


def test_a_crash_before_publish_leaves_no_clip_and_no_row(
    pipe: ClipPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    import generator.io.video as video

    calls = {"n": 0}
    real = video.write_video

    def flaky(path, frames, fps, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ClipWriteError("disk full (simulated)")
        return real(path, frames, fps, **kw)

    monkeypatch.setattr(video, "write_video", flaky)
    req = _req(class_id=300)
    with pytest.raises(ClipWriteError):
        pipe.generate(req)
    token = pipe.token_for(req)
    assert not pipe.storage.exists(token)
    assert not pipe.catalog.has_clip(token)
    staging = Path(pipe.storage.root) / ".staging"
    assert not staging.exists() or not any(staging.iterdir())
    monkeypatch.setattr(video, "write_video", real)
    assert pipe.generate(req).created


def test_catalog_is_repaired_from_published_files(generated, tmp_path: Path) -> None:
    """A crash between the storage rename and the catalog commit loses nothing."""
    pipe, res = generated
    from scenario_library.catalog import Catalog

    fresh = ClipPipeline(Catalog(f"sqlite:///{tmp_path / 'empty.sqlite'}"), pipe.storage)
    assert not fresh.catalog.has_clip(res.token)
    again = fresh.generate(_req())
    assert again.token == res.token and not again.created
    assert fresh.catalog.get_clip(res.token).class_id == 17


def test_clip_window_contains_the_culmination(generated) -> None:
    from generator.world.rollout import rollout
    from scenario_library.sampling import sample_scene

    scene = sample_scene(ScenarioSpec(class_id=17), 0, horizon_s=8.0)
    roll = rollout(scene, n_worlds=1, seed=0)
    t_event = culmination_time_s(roll)
    for seconds in (2.0, 5.0, 8.0):
        start = clip_window_start(roll, seconds)
        assert 0.0 <= start <= 8.0 - seconds + 1e-9
        assert start <= t_event <= start + seconds
    assert clip_window_start(roll, 8.0) == 0.0


def test_augment_keeps_labels_and_records_its_source(generated) -> None:
    pipe, res = generated
    rec = res.record
    video = pipe.storage.local_path(rec.file("video").uri)
    labels = pipe.storage.local_path(rec.file("labels").uri)
    out = pipe.augment(video, ["rain", "night"], seed=3, labels=labels, source_clip_token=res.token)
    assert out.created
    arec = pipe.catalog.get_clip(out.token)
    assert arec.source_clip_token == res.token
    assert arec.class_id == 17 and "effect:rain" in arec.tags
    doc = json.loads(pipe.storage.local_path(arec.file("labels").uri).read_text())
    validate_openlabel(doc)
    frames, _ = read_video(pipe.storage.local_path(arec.file("video").uri))
    assert len(doc["openlabel"]["frames"]) == len(frames)
    # without labels: no class is known, still catalogued
    bare = pipe.augment(video, ["fog"], seed=0)
    assert pipe.catalog.get_clip(bare.token).class_id is None


def test_augment_rejects_non_video(pipe: ClipPipeline, tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video")
    with pytest.raises(AugmentError, match=r"notes\.mp4"):
        pipe.augment(bad, ["rain"])
    assert pipe.catalog.stats().n_clips == 0


def test_classical_augment_token_is_pinned(generated) -> None:
    """The content address of a classical augmentation hashes exactly the source bytes,
    effects, seed and whether labels were given: adding neural options to ``augment`` must
    not change the tokens of clips already published."""
    import hashlib

    pipe, res = generated
    video = pipe.storage.local_path(res.record.file("video").uri)
    labels = pipe.storage.local_path(res.record.file("labels").uri)
    key = {
        "augment": hashlib.sha256(video.read_bytes()).hexdigest(),
        "effects": ["noise"],
        "seed": 5,
        "labels": True,
    }
    blob = json.dumps(key, sort_keys=True, separators=(",", ":")).encode()
    out = pipe.augment(video, ["noise"], seed=5, labels=labels)
    assert out.token == hashlib.sha256(blob).hexdigest()[:32]
    assert out.record.backend == "augment-classical"
    assert "neural" not in out.record.provenance
    assert "neural" not in out.record.spec["augment"]


def test_prepare_then_finish_is_generate(pipe: ClipPipeline, tmp_path: Path) -> None:
    """The CPU stages (prepare) and the backend + publish stages (finish) can run in two
    processes: the PreparedClip survives pickling and gives the clip ``generate`` gives."""
    import dataclasses
    import pickle

    from generator.errors import ClipWriteError, RenderError
    from generator.pipeline import PreparedClip

    req = _req(seed=4)
    prepared = pipe.prepare(req)
    assert prepared.token == pipe.token_for(req) and prepared.prepared_by == ""
    assert not pipe.catalog.has_clip(prepared.token), "prepare publishes nothing"
    shipped = pickle.loads(pickle.dumps(prepared))
    assert isinstance(shipped, PreparedClip)
    with pytest.raises(ClipWriteError, match="token"):
        dataclasses.replace(shipped, token="nope").validate()
    with pytest.raises(RenderError, match="controls camera"):
        dataclasses.replace(shipped, req=_req(seed=4, width_px=256)).validate()
    res = pipe.finish(dataclasses.replace(shipped, prepared_by="elsewhere"))
    assert res.created and res.token == prepared.token
    assert res.record.provenance["prepared_by"] == "elsewhere"
    other = ClipPipeline.from_env(tmp_path / "other")
    direct = other.generate(req)
    assert direct.token == res.token and "prepared_by" not in direct.record.provenance
    assert direct.record.n_frames == res.record.n_frames == 20
