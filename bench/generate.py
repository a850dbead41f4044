"""End-to-end ``generate``: one 5 s clip at 1280x704, 10 fps, sketch backend, and library builds.

    python bench/generate.py [--runs 5] [--class-id 17] [--library-classes 0-63] [--workers 2]

Prints one JSON object:
  * ``clip``: median seconds of ``ClipPipeline.generate`` for a fresh clip (a new seed each run,
    so nothing is served from the catalog), with the median seconds of each stage (from the
    pipeline's progress reports), after one warm-up run that pays the numba cache load.
  * ``writer_baseline``: the five videos written the plain PyAV way (RGB frames handed to
    FFmpeg's scaler, CRF 20, ``veryfast``, one video after another) on the same frames, in the
    same run, and the ratio against the pipeline's file-writing stage.
  * ``library``: a local build (``generator.build.build_library``) of ``--library-classes`` x 1
    variant on ``--workers`` processes: clips/s and the time the full 1024-class library takes
    at that rate (``extrapolated`` says whether all 1024 classes were built).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av
import numpy as np

from generator.build import BuildOptions, build_library, parse_class_list, plan_items
from generator.pipeline import ClipPipeline, ClipRequest
from scenario_library.spec import ScenarioSpec


def _clip_run(pipe: ClipPipeline, class_id: int, seed: int) -> dict[str, float]:
    marks: list[tuple[float, str]] = []
    t0 = time.perf_counter()
    req = ClipRequest(spec=ScenarioSpec(class_id=class_id), seed=seed)
    res = pipe.generate(req, progress=lambda _f, msg: marks.append((time.perf_counter(), msg)))
    total = time.perf_counter() - t0
    assert res.created
    stages: dict[str, float] = {"total": total}
    prev_t, prev_m = t0, "content address"
    for t, m in marks:
        stages[prev_m] = stages.get(prev_m, 0.0) + t - prev_t
        prev_t, prev_m = t, m
    return stages


def _plain_pyav_write(path: Path, frames: np.ndarray, fps: float) -> None:
    """What a first PyAV writer looks like: rgb24 frames, the scaler converts, CRF 20."""
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as c:
        stream = c.add_stream("libx264", rate=int(fps))
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode():
            c.mux(packet)


def _writer_baseline(pipe: ClipPipeline, token: str, tmp: Path) -> float:
    """Re-encode the published clip's five videos the plain way, one after another."""
    from generator.io.video import read_video

    rec = pipe.catalog.get_clip(token)
    videos = [
        read_video(pipe.storage.local_path(rec.file(k).uri))[0]
        for k in ("video", "hdmap", "depth", "semantic", "instance")
    ]
    t0 = time.perf_counter()
    for i, frames in enumerate(videos):
        _plain_pyav_write(tmp / f"b{i}.mp4", frames, 10.0)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--class-id", type=int, default=17)
    ap.add_argument("--library-classes", default="0-63")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="wmgen-bench-") as d:
        tmp = Path(d)
        pipe = ClipPipeline.from_env(tmp / "home")
        _clip_run(pipe, args.class_id, 10_000)  # warm-up: numba cache, imports
        runs = [_clip_run(pipe, args.class_id, 20_000 + i) for i in range(args.runs)]
        stage_names = [k for k in runs[0] if k != "total"]
        clip = {
            "class_id": args.class_id,
            "size": [1280, 704],
            "fps": 10,
            "seconds": 5,
            "median_s": round(statistics.median(r["total"] for r in runs), 3),
            "min_s": round(min(r["total"] for r in runs), 3),
            "stages_median_s": {
                k: round(statistics.median(r.get(k, 0.0) for r in runs), 3) for k in stage_names
            },
            "target_s": 2.0,
        }
        token = pipe.token_for(ClipRequest(spec=ScenarioSpec(class_id=args.class_id), seed=20_000))
        base = [_writer_baseline(pipe, token, tmp) for _ in range(3)]
        ours = clip["stages_median_s"].get("writing files", float("nan"))
        writer = {
            "plain_pyav_sequential_s": round(statistics.median(base), 3),
            "pipeline_writer_s": ours,
            "speedup": round(statistics.median(base) / ours, 2) if ours else None,
        }

        ids = parse_class_list(args.library_classes)
        lib_pipe = ClipPipeline.from_env(tmp / "library")
        t0 = time.perf_counter()
        summary = build_library(
            lib_pipe,
            plan_items(ids, 1),
            BuildOptions(),
            workers=args.workers,
            root=str(tmp / "library"),
        )
        wall = time.perf_counter() - t0
        rate = summary.generated / wall if wall > 0 else 0.0
        library = {
            "classes": len(ids),
            "workers": args.workers,
            "generated": summary.generated,
            "failed": summary.failed,
            "errors": summary.errors[:10],
            "wall_s": round(wall, 1),
            "clips_per_s": round(rate, 3),
            "full_library_min": round(1024 / rate / 60, 1) if rate else None,
            "extrapolated": len(ids) < 1024,
            "target_min": 15,
        }
    print(json.dumps({"clip": clip, "writer_baseline": writer, "library": library}, indent=2))


if __name__ == "__main__":
    main()
