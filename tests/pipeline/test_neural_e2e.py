"""`wmgen generate --backend <neural> --model-dir DIR` end to end on the CPU with tiny
checkpoints made by `wmgen models make-tiny`: mp4, labels, catalog record, provenance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.io.video import probe_video
from generator.pipeline import ClipPipeline, ClipRequest
from scenario_library.spec import ScenarioSpec
from serving.cli import main


@pytest.mark.parametrize("family", ["wan-vace", "ltx-condition"])
def test_generate_with_a_tiny_checkpoint(family: str, tmp_path: Path, capsys) -> None:
    ckpt = tmp_path / f"tiny-{family}"
    main(["models", "make-tiny", family, "--out", str(ckpt)])
    assert (ckpt / "model_index.json").is_file()
    capsys.readouterr()

    pipe = ClipPipeline.from_env(tmp_path / "home")
    req = ClipRequest(
        spec=ScenarioSpec(class_id=17),
        seed=0,
        backend=family,
        width_px=96,
        height_px=64,
        fps=9.0,
        seconds=1.0,
        model_dir=str(ckpt),
    )
    res = pipe.generate(req)
    rec = res.record
    info = probe_video(pipe.storage.local_path(rec.file("video").uri))
    assert (info.n_frames, info.width, info.height, info.codec) == (9, 96, 64, "h264")
    labels = json.loads(pipe.storage.local_path(rec.file("labels").uri).read_text())
    assert len(labels["openlabel"]["frames"]) == 9
    prov = rec.provenance
    assert prov["backend"] == family and len(prov["weights_sha256"]) == 64
    assert prov["tiny_checkpoint"] == "true"
    # neural quality measured and recorded; not enforced for random tiny weights
    assert rec.quality["neural.enforced"] is False
    assert "neural.mean_change" in rec.quality
    # same request, same weights: same content address, stored once
    assert pipe.generate(req).token == res.token
