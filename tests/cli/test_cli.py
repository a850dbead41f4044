"""The ``wmgen`` command line: outputs users script against, and one-line errors with exit 2."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import run

SMALL = ["--width", "160", "--height", "96", "--seconds", "1"]


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_classes_lists_all_1024(capsys) -> None:
    data = run_json(capsys, "classes")
    assert [c["class_id"] for c in data] == list(range(1024))
    assert all(c["name"] and c["tags"] for c in data)
    fog = run_json(capsys, "classes", "--tag", "weather:fog")
    assert len(fog) == 256 and all("weather:fog" in c["tags"] for c in fog)


def test_sample_is_deterministic(capsys) -> None:
    a = run_json(capsys, "sample", "17", "--seed", "3")
    b = run_json(capsys, "sample", "17", "--seed", "3")
    c = run_json(capsys, "sample", "17", "--seed", "4")
    assert a == b and a != c
    assert a["scenario"]["class_id"] == 17 and a["agents"][0]["role"] == "ego"


def test_rollout_json_has_trajectories_and_checks(capsys) -> None:
    d = run_json(capsys, "rollout", "17", "--seed", "0", "--horizon-s", "8")
    assert d["agents"][0]["agent_id"] == "ego"
    for ag in d["agents"]:
        assert {"agent_id", "type", "length_m", "width_m", "height_m", "steps"} <= set(ag)
        assert len(ag["steps"]) == 81
        assert set(ag["steps"][0]) == {"t", "x", "y", "yaw", "speed"}
    assert d["checks"]["physics_violations"] == 0
    assert d["checks"]["corner_case_occurred"] is True


def test_whatif_returns_a_best_plan(capsys) -> None:
    d = run_json(capsys, "whatif", "0", "--seed", "0", "--plans", "3", "--samples", "4")
    assert d["n_futures"] == 12 and len(d["plans"]) == 3
    assert d["plans"][0]["name"] == "keep" and d["plans"][0]["collision_rate"] == 1.0
    scores = [p["score"] for p in d["plans"]]
    assert d["plans"][d["best_index"]]["name"] == d["best_name"]
    assert scores[d["best_index"]] == max(scores)


def test_export_openscenario_writes_both_files(capsys, tmp_path: Path) -> None:
    code, out, err = run(
        capsys, "export-openscenario", "17", "--seed", "1", "--out", str(tmp_path / "x")
    )
    assert code == 0, err
    paths = [Path(p) for p in out.split()]
    assert {p.suffix for p in paths} == {".xosc", ".xodr"}
    assert all(p.stat().st_size > 0 for p in paths)


def test_generate_query_stats_and_nuscenes_export(capsys, tmp_path: Path) -> None:
    d = run_json(capsys, "generate", "17", "--seed", "0", *SMALL, "--out", str(tmp_path / "o"))
    token = d["clip_id"]
    assert len(token) == 32 and d["created"] is True
    assert Path(d["files"]["video"]).is_file()
    again = run_json(capsys, "generate", "17", "--seed", "0", *SMALL)
    assert again["clip_id"] == token and again["created"] is False
    q = run_json(capsys, "catalog", "query", "--class-id", "17")
    assert [c["token"] for c in q["items"]] == [token]
    speed = q["items"][0]["params"]["ego_speed_kmh"]
    hit = run_json(capsys, "catalog", "query", "--where", f"ego_speed_kmh>={speed}")
    miss = run_json(capsys, "catalog", "query", "--where", f"ego_speed_kmh>{speed}")
    assert len(hit["items"]) == 1 and miss["items"] == []
    st = run_json(capsys, "catalog", "stats")
    assert st["n_clips"] == 1 and 17 not in st["classes_without_clips"]
    code, _out, err = run(capsys, "export-nuscenes", "--out", str(tmp_path / "nu"))
    assert code == 0, err
    assert (tmp_path / "nu" / "v1.0-wmgen" / "sample_annotation.json").is_file()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["sample", "5000"], "5000"),
        (["sample", "17", "--seed", "-1"], "seed"),
        (["generate", "17", "--width", "333", "--height", "96"], "333"),
        (["generate", "17", "--backend", "nope", *SMALL], "nope"),
        (["build", "--classes", "1-x"], "1-x"),
        (["build", "--classes", "2000"], "2000"),
        (["catalog", "query", "--where", "ego_speed_kmh>>3"], "ego_speed_kmh>>3"),
        (["augment", "/no/such.mp4", "--out", "/tmp", "--effects", "rain"], "/no/such.mp4"),
        (["rollout", "17", "--horizon-s", "0"], "horizon"),
        (["frobnicate"], "frobnicate"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(capsys, args, needle) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert needle in err


def test_augment_rejects_a_non_video_file(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "x.mp4"
    bad.write_bytes(b"\x00\x01garbage" * 100)
    code, _out, err = run(
        capsys, "augment", str(bad), "--out", str(tmp_path / "o"), "--effects", "rain"
    )
    assert code == 2 and "x.mp4" in err and err.count("\n") == 1
    code, _out, err = run(
        capsys, "augment", str(bad), "--out", str(tmp_path / "o"), "--effects", "sparkles"
    )
    assert code == 2 and "sparkles" in err


def _published(home: Path) -> list[Path]:
    root = home / "storage" / "clips"
    return [p for p in root.glob("*/*") if p.is_dir()] if root.exists() else []


@pytest.mark.slow
def test_build_resumes_after_a_kill_with_no_duplicate(capsys, home: Path) -> None:
    """Kill a build after its first published clip, run it again: complete, no duplicate."""
    env = {**os.environ, "WMGEN_HOME": str(home), "TQDM_DISABLE": "1"}
    args = [
        sys.executable,
        "-c",
        "from serving.cli import main; main()",
        "build",
        "--classes",
        "0-5",
        "--variants",
        "1",
        "--workers",
        "1",
        *SMALL,
    ]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not _published(home) and proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    first = len(_published(home))
    assert 1 <= first <= 6
    d = run_json(capsys, "build", "--classes", "0-5", "--variants", "1", "--workers", "2", *SMALL)
    assert d["failed"] == 0
    assert d["generated"] + d["skipped_existing"] == 6
    assert d["skipped_existing"] >= 1
    q = run_json(capsys, "catalog", "query", "--limit", "100")
    tokens = [c["token"] for c in q["items"]]
    assert len(tokens) == len(set(tokens)) == 6 == len(_published(home))
    again = run_json(capsys, "build", "--classes", "0-5", "--variants", "1", *SMALL)
    assert again["generated"] == 0 and again["skipped_existing"] == 6
