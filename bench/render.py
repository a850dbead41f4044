"""Rendering speed: all control maps + sketch RGB at 1280x704, frames per second.

    python bench/render.py [--class-id 0] [--seconds 5] [--runs 5] [--width 1280 --height 704]

Measures, for a 5 s clip at 10 fps of a sampled scene (rolled out by generator.world):
  * ``controls``: render_controls (hdmap, depth, semantic, instance, labels) + the colour videos
    (semantic, instance, depth grey);
  * ``sketch``: the sketch backend's RGB on those controls;
  * ``total`` = both, on ONE core (``numba.set_num_threads(1)``) and on all numba threads.
``one_core`` is a rendering process in its steady state: clip after clip, the big frame arrays
come from ``generator.buffers`` (memory the process has touched before);
``one_core_fresh_memory`` is the same with the pool turned off, so every array is fresh memory
from the OS and pays its page faults (what the first clip of a process costs).
Baseline, same run: the same depth / semantic / instance buffers computed by a straightforward
vectorised NumPy path (per-pixel ray-ground intersection, per-face barycentric fill with a
z-test), on the same frames; ``speedup_vs_numpy`` compares it with the numba controls path on one
core. Prints one JSON object; figures are medians over ``--runs`` runs after one warm-up.

``street_lamps``: the cost of the road's street lamps (``STREET_LAMP`` map elements: posts in
every control map and the RGB, lamp light at night / dusk), ONE core, CPU time: controls +
sketch of the clip on its road vs the same road without the lamp elements, runs interleaved in
this process; ``lamps_vs_bare`` = fps with lamps / fps without (1.0 = free). Measured on the
class's own lighting and on the same scene at night.

``weather_light``: the sketch backend alone on ONE core for one class of each weather / light
(clear day, dusk, night, low sun, rain, fog, snow; the first such class of the taxonomy, seed
``--seed``, its own controls), ``--weather-runs`` runs each; ``vs_clear_day`` = that class's
median CPU time / the clear-day class's median CPU time, measured in the same run (1.0 = no
extra cost).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator import buffers as buffer_pool
from generator.backends.base import BackendRequest
from generator.backends.sketch import SketchBackend
from generator.render.controls import (
    depth_video,
    frame_geometry,
    frame_times,
    instance_video,
    map_drawables_for,
    rasterise,
    render_controls,
    semantic_video,
)
from generator.render.groundmap import GROUND_SEMANTIC, ground_raster_for
from generator.render.palette import KIND_CODE_SEMANTIC
from generator.render.raster import FACES
from generator.render.types import CameraConfig


def numpy_baseline(scene, road, ro, cam, t_s):  # type: ignore[no-untyped-def]
    """Depth / semantic / instance with plain vectorised NumPy (no numba)."""
    geo = frame_geometry(ro, cam, t_s)
    ground = ground_raster_for(road)
    h, w = cam.height_px, cam.width_px
    k = cam.intrinsic
    fx, cx, cy = k[0, 0], k[0, 2], k[1, 2]
    jj, ii = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    rays = np.stack([(jj - cx) / fx, (ii - cy) / fx, np.ones_like(jj)], axis=-1)
    sem_k = KIND_CODE_SEMANTIC[ro.kind_codes[geo.agent_index].astype(int)]
    for t in range(len(t_s)):
        r, c = geo.rot[t], geo.cen[t]
        d = rays @ r  # world directions (rows of R = camera axes in world)
        with np.errstate(divide="ignore", invalid="ignore"):
            depth = np.where(d[..., 2] < -1e-9, -c[2] / d[..., 2], np.inf)
        gx = c[0] + depth * d[..., 0]
        gy = c[1] + depth * d[..., 1]
        col = np.floor((gx - ground.x0_m) / ground.res_m)
        row = np.floor((gy - ground.y0_m) / ground.res_m)
        ok = np.isfinite(depth) & (row >= 0) & (row < ground.codes.shape[0]) & (col >= 0)
        ok &= col < ground.codes.shape[1]
        code = np.zeros((h, w), np.uint8)
        code[ok] = ground.codes[row[ok].astype(int), col[ok].astype(int)]
        sem = np.where(np.isfinite(depth), GROUND_SEMANTIC[code], 1).astype(np.uint8)
        inst = np.zeros((h, w), np.uint16)
        for n, a in enumerate(geo.agent_index):
            cam_pts = (geo.agent_corners[t, n] - c) @ r.T
            for f in FACES:
                q = cam_pts[f]
                if (q[:, 2] < 0.3).any():
                    continue
                uv = q[:, :2] / q[:, 2:3] * fx + [cx, cy]
                for tri in ((0, 1, 2), (0, 2, 3)):
                    p = uv[list(tri)]
                    z = q[list(tri), 2]
                    j0, j1 = max(int(p[:, 0].min()), 0), min(int(p[:, 0].max()) + 1, w)
                    i0, i1 = max(int(p[:, 1].min()), 0), min(int(p[:, 1].max()) + 1, h)
                    if j0 >= j1 or i0 >= i1:
                        continue
                    px, py = jj[i0:i1, j0:j1], ii[i0:i1, j0:j1]
                    den = (p[1, 1] - p[2, 1]) * (p[0, 0] - p[2, 0]) + (p[2, 0] - p[1, 0]) * (
                        p[0, 1] - p[2, 1]
                    )
                    if den == 0:
                        continue
                    b0 = (
                        (p[1, 1] - p[2, 1]) * (px - p[2, 0]) + (p[2, 0] - p[1, 0]) * (py - p[2, 1])
                    ) / den
                    b1 = (
                        (p[2, 1] - p[0, 1]) * (px - p[2, 0]) + (p[0, 0] - p[2, 0]) * (py - p[2, 1])
                    ) / den
                    b2 = 1 - b0 - b1
                    inside = (b0 >= 0) & (b1 >= 0) & (b2 >= 0)
                    zz = 1.0 / (b0 / z[0] + b1 / z[1] + b2 / z[2])
                    sub = depth[i0:i1, j0:j1]
                    win = inside & (zz < sub)
                    sub[win] = zz[win]
                    sem[i0:i1, j0:j1][win] = sem_k[n]
                    inst[i0:i1, j0:j1][win] = a


#: (weather, lighting) pairs timed in ``weather_light``
WEATHER_LIGHT = (
    ("clear", "day"),
    ("clear", "dusk"),
    ("clear", "night"),
    ("clear", "low_sun_glare"),
    ("rain", "day"),
    ("fog", "day"),
    ("snow", "day"),
)


def weather_light(args: argparse.Namespace, cam: CameraConfig) -> dict[str, dict[str, object]]:
    """Sketch-backend fps on one core per weather / light (one class each), medians."""
    from generator.world.geometry import build_road
    from generator.world.rollout import rollout
    from scenario_library.sampling import sample_scene
    from scenario_library.taxonomy import TAXONOMY

    numba.set_num_threads(1)
    backend = SketchBackend()
    medians: dict[str, float] = {}
    out: dict[str, dict[str, object]] = {}
    for weather, light in WEATHER_LIGHT:
        cls = next(
            (c for c in TAXONOMY.all() if (c.weather.value, c.lighting.value) == (weather, light)),
            None,
        )
        if cls is None:
            continue
        scene = sample_scene(cls.class_id, args.seed)
        road = build_road(scene.road)
        ro = rollout(scene, seed=args.seed)
        c = render_controls(scene, road, ro, cam, seconds=args.seconds)
        req = BackendRequest(scene=scene, road=road, rollout=ro, controls=c, prompt="", seed=0)
        backend(req)  # warm-up
        times, cpu = [], []
        for _ in range(args.weather_runs):
            t0, p0 = time.perf_counter(), time.process_time()
            backend(req)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - p0)
        key = f"{weather}.{light}"
        medians[key] = statistics.median(cpu)
        out[key] = {
            "class_id": cls.class_id,
            "frames": len(c.t_s),
            "sketch_s": round(statistics.median(times), 3),
            "sketch_fps": round(len(c.t_s) / statistics.median(times), 1),
            "sketch_fps_cpu": round(len(c.t_s) / medians[key], 1),
        }
        del req, c  # release this class's arrays before the next one
    base = medians.get("clear.day")
    if base:
        for key, row in out.items():
            row["vs_clear_day"] = round(medians[key] / base, 2)
    return out


def street_lamps(scene, road, ro, cam, seconds: float, runs: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """CPU fps (one core) of controls + sketch with vs without the road's street lamps."""
    import dataclasses

    from generator.world.types import MapElementKind
    from scenario_library.scene import Lighting

    numba.set_num_threads(1)
    bare = dataclasses.replace(
        road,
        elements=tuple(e for e in road.elements if e.kind is not MapElementKind.STREET_LAMP),
    )
    backend = SketchBackend()
    night = scene.model_copy(
        update={"scenario": scene.scenario.model_copy(update={"lighting": Lighting.NIGHT})}
    )
    out: dict[str, object] = {
        "lamps": sum(e.kind is MapElementKind.STREET_LAMP for e in road.elements)
    }
    for label, sc in ((scene.scenario.lighting.value, scene), ("night", night)):

        def once(r, sc=sc):  # type: ignore[no-untyped-def]
            p0 = time.process_time()
            c = render_controls(sc, r, ro, cam, seconds=seconds)
            videos = (semantic_video(c), instance_video(c), depth_video(c))
            req = BackendRequest(scene=sc, road=r, rollout=ro, controls=c, prompt="", seed=0)
            backend(req)
            del c, videos
            return time.process_time() - p0

        once(road)
        once(bare)
        t_l, t_b = [], []
        for _ in range(runs):
            t_l.append(once(road))
            t_b.append(once(bare))
        n = round(seconds * cam.fps)
        fl, fb = n / statistics.median(t_l), n / statistics.median(t_b)
        out[label] = {
            "with_lamps_fps_cpu": round(fl, 1),
            "without_lamps_fps_cpu": round(fb, 1),
            "lamps_vs_bare": round(fl / fb, 3),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--class-id", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=704)
    ap.add_argument("--baseline-frames", type=int, default=5)
    ap.add_argument("--weather-runs", type=int, default=3)
    ap.add_argument("--skip-weather", action="store_true")
    ap.add_argument("--skip-lamps", action="store_true")
    args = ap.parse_args()

    from generator.world.geometry import build_road
    from generator.world.rollout import rollout
    from scenario_library.sampling import sample_scene

    scene = sample_scene(args.class_id, args.seed)
    road = build_road(scene.road)
    ro = rollout(scene, seed=args.seed)
    cam = CameraConfig(width_px=args.width, height_px=args.height)
    backend = SketchBackend()

    def controls_once():  # type: ignore[no-untyped-def]
        c = render_controls(scene, road, ro, cam, seconds=args.seconds)
        # the colour videos stay alive with the controls (as in the pipeline, which encodes
        # them after the backend ran), so the RGB frames cannot reuse their memory
        return c, (semantic_video(c), instance_video(c), depth_video(c))

    def sketch_once(c):  # type: ignore[no-untyped-def]
        req = BackendRequest(scene=scene, road=road, rollout=ro, controls=c, prompt="", seed=0)
        return backend(req).frames

    def timed(threads: int, pooled: bool = True) -> dict[str, float]:
        numba.set_num_threads(threads)
        bp = buffer_pool.pool()
        limit = bp.limit_bytes
        if not pooled:
            bp.limit_bytes = 0
            bp.clear()
        try:
            return _timed(threads)
        finally:
            bp.limit_bytes = limit

    def _timed(threads: int) -> dict[str, float]:
        sketch_once(controls_once()[0])  # warm-up (compilation is cached on disk)
        wall: dict[str, list[float]] = {"controls": [], "sketch": []}
        cpu: dict[str, list[float]] = {"controls": [], "sketch": []}
        n = 0
        for _ in range(args.runs):
            w0, p0 = time.perf_counter(), time.process_time()
            c, videos = controls_once()
            w1, p1 = time.perf_counter(), time.process_time()
            sketch_once(c)
            w2, p2 = time.perf_counter(), time.process_time()
            n = len(c.t_s)
            del c, videos  # the clip is done: its arrays are released, as in a worker
            wall["controls"].append(w1 - w0)
            wall["sketch"].append(w2 - w1)
            cpu["controls"].append(p1 - p0)
            cpu["sketch"].append(p2 - p1)
        out: dict[str, float] = {"threads": threads, "frames": n}
        for label, d in (("", wall), ("_cpu", cpu)):
            mc, ms = statistics.median(d["controls"]), statistics.median(d["sketch"])
            out[f"controls_fps{label}"] = round(n / mc, 1)
            out[f"sketch_fps{label}"] = round(n / ms, 1)
            out[f"total_fps{label}"] = round(n / (mc + ms), 1)
        return out

    one = timed(1)
    fresh = timed(1, pooled=False)
    multi = timed(int(getattr(numba.config, "NUMBA_NUM_THREADS", 1)))
    # baseline vs the numba rasteriser alone, same frames, one thread, CPU time
    numba.set_num_threads(1)
    t_s = frame_times(ro, cam.fps, args.seconds)[: args.baseline_frames]
    ground = ground_raster_for(road)
    drawables = map_drawables_for(road)
    geo = frame_geometry(ro, cam, t_s)
    tb, tn = [], []
    for _ in range(max(1, args.runs // 2)):
        p0 = time.process_time()
        numpy_baseline(scene, road, ro, cam, t_s)
        p1 = time.process_time()
        rasterise(geo, ro, cam, ground, drawables)
        tn.append(time.process_time() - p1)
        tb.append(p1 - p0)
    weather = {} if args.skip_weather else weather_light(args, cam)
    lamps = {} if args.skip_lamps else street_lamps(scene, road, ro, cam, args.seconds, args.runs)
    base_fps = len(t_s) / statistics.median(tb)
    numba_fps = len(t_s) / statistics.median(tn)
    print(
        json.dumps(
            {
                "benchmark": "render",
                "resolution": f"{args.width}x{args.height}",
                "scene": {
                    "class_id": args.class_id,
                    "name": scene.scenario.class_name,
                    "agents": len(scene.agents),
                },
                "note": "*_fps: wall clock; *_fps_cpu: process CPU time (robust on a shared machine)",
                "one_core": one,
                "one_core_fresh_memory": fresh,
                "all_threads": multi,
                "baseline": {
                    "what": "depth+semantic+instance buffers, vectorised NumPy vs numba rasterise, "
                    "1 thread, CPU time",
                    "numpy_fps": round(base_fps, 2),
                    "numba_rasterise_fps": round(numba_fps, 1),
                    "speedup": round(numba_fps / base_fps, 1),
                },
                "weather_light": weather,
                "street_lamps": lamps,
                "target_total_fps_one_core": 60,
                "meets_target_wall": one["total_fps"] >= 60,
                "meets_target_cpu": one["total_fps_cpu"] >= 60,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
