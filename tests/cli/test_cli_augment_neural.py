"""`wmgen augment` with neural effects, end to end on the CPU with a tiny ``wan-v2v``
checkpoint (random weights: frames are noise by design; the contract is checked: output clip,
frame count, kept labels, provenance backend + weights hash), and its one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_helpers import run

os.environ["HF_HUB_OFFLINE"] = "1"  # the tiny checkpoint loads from disk; no hub


@pytest.fixture()
def source(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[Path, Path]:
    """A small catalogued sketch clip of class 7 (mp4 + OpenLABEL labels)."""
    from generator.pipeline import ClipPipeline, ClipRequest
    from scenario_library.spec import ScenarioSpec

    pipe = ClipPipeline.from_env()
    req = ClipRequest(
        spec=ScenarioSpec(class_id=7), seed=0, width_px=96, height_px=64, fps=8.0, seconds=1.0
    )
    rec = pipe.generate(req).record
    return (
        pipe.storage.local_path(rec.file("video").uri),
        pipe.storage.local_path(rec.file("labels").uri),
    )


def test_augment_restyle_with_a_tiny_checkpoint(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    source: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from generator.backends.tiny import make_tiny
    from generator.backends.weights import weights_sha256
    from generator.io.video import probe_video

    ckpt = make_tiny("wan-v2v", tmp_path / "models" / "wan-v2v")
    video, labels = source
    out_dir = tmp_path / "out"
    args = ["augment", str(video), "--labels", str(labels), "--out", str(out_dir)]
    neural = ["--restyle-weather", "rain", "--strength", "0.6", "--seed", "2"]
    code, out, err = run(capsys, *args, *neural, "--model-dir", str(ckpt), "--format", "json")
    assert code == 0, err
    res = json.loads(out)
    assert res["created"] and Path(res["dir"]) == out_dir / res["clip_id"]
    info = probe_video(out_dir / res["clip_id"] / "video.mp4")
    assert (info.n_frames, info.width, info.height) == (8, 96, 64)
    before = json.loads(labels.read_text())["openlabel"]
    after = json.loads((out_dir / res["clip_id"] / "labels.openlabel.json").read_text())
    assert after["openlabel"]["objects"] == before["objects"], "restyling keeps the labels"
    assert len(after["openlabel"]["frames"]) == 8
    rec = json.loads((out_dir / res["clip_id"] / "record.json").read_text())
    assert rec["backend"] == "wan-v2v" and "restyle:rain" in rec["tags"]
    assert rec["provenance"]["backend"] == "wan-v2v"
    assert rec["provenance"]["weights_sha256"] == weights_sha256(ckpt)
    assert rec["class_id"] == 7

    # --model-dir defaults to $WMGEN_MODEL_DIR: the same request is the same clip
    monkeypatch.setenv("WMGEN_MODEL_DIR", str(ckpt.parent))
    code, out, err = run(capsys, *args, *neural, "--format", "json")
    assert code == 0, err
    again = json.loads(out)
    assert again["clip_id"] == res["clip_id"] and not again["created"]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--restyle-weather", "rain", "--strength", "2"], "strength"),
        (["--restyle-weather", "lava"], "lava"),
        (["--insert-class-id", "7", "--insert-offset-px", "3"], "--insert-offset-px"),
        (["--restyle-lighting", "night"], "WMGEN_MODEL_DIR"),  # no model folder anywhere
        ([], "--effects"),  # neither a classical nor a neural effect
    ],
)
def test_bad_neural_options_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: list[str], needle: str
) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not checked before the options")
    code, out, err = run(capsys, "augment", str(clip), "--out", str(tmp_path / "o"), *extra)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert needle in err
