"""Export catalogued clips as a nuScenes-format dataset (camera only) for the official devkit.

Layout written under ``out_dir``::

    <version>/{category,attribute,visibility,instance,sensor,calibrated_sensor,ego_pose,log,
               scene,sample,sample_data,sample_annotation,map}.json
    samples/CAM_FRONT/<clip>__CAM_FRONT__<timestamp_us>.jpg     key frames
    sweeps/CAM_FRONT/<clip>__CAM_FRONT__<timestamp_us>.jpg      the other frames
    maps/<map token>.png                                        one top-down map per clip
    export_manifest.json                                        clips exported / skipped

Choices (nuScenes conventions: metres, quaternions w,x,y,z, sizes w,l,h, microseconds):

* one clip = one log, one scene, one map, one calibrated CAM_FRONT sensor;
* every video frame is a CAM_FRONT sample_data with its own ego_pose; key frames (samples with
  annotations) are taken every ``round(fps / keyframe_hz)`` frames starting at frame 0
  (``keyframe_hz=None``: every frame is a key frame). A non-key frame belongs to the next sample
  (the devkit interpolates boxes between the previous and that sample);
* every labelled object of a key frame gets a sample_annotation (also objects outside the view;
  their visibility is then "v0-40"); visibility bins come from the OpenLABEL
  ``visible_fraction``; ``num_lidar_pts`` / ``num_radar_pts`` are 0 (no such sensors);
* world coordinates are shifted per clip so that the clip's area starts at (+margin, +margin):
  the devkit's map mask puts the map image's bottom-left corner at the origin (0.1 m/px). The map
  image is the road drawn from the ``road_layout`` stored in the labels (drivable area 255,
  sidewalks 128); without it, an empty canvas with a caption;
* tokens are md5 hex digests of ``"<clip token>/<table>/<index>"`` (deterministic); the fixed
  vocabularies (category, attribute, sensor) hash their names; visibility tokens are "1".."4"
  as in nuScenes; each clip's base timestamp is derived from its token.

Clips without a labels file or a video file are skipped and listed in the manifest.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image, ImageDraw

from generator.errors import AugmentError, ClipWriteError
from generator.io.openlabel import (
    CS_WORLD,
    STREAM_CAMERA,
    frame_count,
    load_openlabel,
)
from generator.io.video import read_video

MAP_RESOLUTION_M = 0.1  # fixed by the devkit's MapMask
MAP_MARGIN_M = 40.0
_BASE_TIMESTAMP_US = 1_577_836_800_000_000  # 2020-01-01T00:00:00Z
_TABLES = (
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

#: wmgen class -> (nuScenes category name, description)
CATEGORIES: dict[str, tuple[str, str]] = {
    "car": ("vehicle.car", "Passenger car (wmgen car)."),
    "truck": ("vehicle.truck", "Truck (wmgen truck)."),
    "pedestrian": ("human.pedestrian.adult", "Pedestrian (wmgen pedestrian)."),
    "cyclist": ("vehicle.bicycle", "Bicycle with rider (wmgen cyclist)."),
    "animal": ("animal", "Animal on the road (wmgen animal)."),
    "obstacle": ("movable_object.barrier", "Static obstacle / road works (wmgen obstacle)."),
}
ATTRIBUTES: dict[str, str] = {
    "vehicle.moving": "Vehicle is moving.",
    "vehicle.stopped": "Vehicle is stopped, e.g. in traffic.",
    "vehicle.parked": "Vehicle is parked.",
    "cycle.with_rider": "There is a rider on the bicycle.",
    "pedestrian.moving": "The pedestrian is moving.",
    "pedestrian.standing": "The pedestrian is standing.",
}
#: (token, level, description, upper bound of visible_fraction)
VISIBILITY: tuple[tuple[str, str, str, float], ...] = (
    ("1", "v0-40", "visibility of whole object is between 0 and 40%", 0.4),
    ("2", "v40-60", "visibility of whole object is between 40 and 60%", 0.6),
    ("3", "v60-80", "visibility of whole object is between 60 and 80%", 0.8),
    ("4", "v80-100", "visibility of whole object is between 80 and 100%", math.inf),
)
_MOVING_MPS = 0.5


class _FileRef(Protocol):
    kind: str
    uri: str


class _ClipLike(Protocol):
    token: str
    class_name: str

    @property
    def files(self) -> Iterable[_FileRef]: ...


class _StorageLike(Protocol):
    def local_path(self, uri: str) -> Path: ...


def token(*parts: object) -> str:
    """Deterministic 32-hex token of its parts."""
    return hashlib.md5("/".join(str(p) for p in parts).encode()).hexdigest()


def visibility_token(visible_fraction: float) -> str:
    for tok, _, _, upper in VISIBILITY:
        if visible_fraction < upper:
            return tok
    return VISIBILITY[-1][0]


def rotation_to_quaternion_wxyz(r: np.ndarray) -> list[float]:
    """Unit quaternion (w, x, y, z) of a 3x3 rotation matrix."""
    m = np.asarray(r, dtype=np.float64)
    tr = np.trace(m)
    if tr > 0:
        s = math.sqrt(tr + 1.0) * 2
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2]) * 2
        q = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
    elif m[1, 1] > m[2, 2]:
        s = math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2]) * 2
        q = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
    else:
        s = math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1]) * 2
        q = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
    arr = np.array(q)
    arr /= np.linalg.norm(arr)
    if arr[0] < 0:
        arr = -arr
    return [float(v) for v in arr]


def _yaw_quat_wxyz(yaw: float) -> list[float]:
    return [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]


# ----------------------------------------------------------------------------- map drawing
def _road_polygons(layout: dict[str, Any]) -> list[tuple[np.ndarray, int]]:
    """(polygon [N, 2] world [m], grey value) of the drivable area and sidewalks."""
    from scenario_library.scene import RoadLayout, carriageway_half_widths

    road = RoadLayout.model_validate(layout)
    out: list[tuple[np.ndarray, int]] = []
    right, left = carriageway_half_widths(road, 0)
    walk = road.sidewalk_width_m
    s = np.linspace(0.0, road.length_m, max(2, int(road.length_m / 0.5) + 1))
    if road.curve_radius_m:
        r = road.curve_radius_m
        cx, cy, h = r * np.sin(s / r), r * (1 - np.cos(s / r)), s / r
    else:
        cx, cy, h = s, np.zeros_like(s), np.zeros_like(s)
    nx, ny = -np.sin(h), np.cos(h)  # left normal

    def band(t0: float, t1: float) -> np.ndarray:
        a = np.stack([cx + nx * t0, cy + ny * t0], axis=1)
        b = np.stack([cx + nx * t1, cy + ny * t1], axis=1)
        return np.concatenate([a, b[::-1]])

    if walk > 0:
        out.append((band(left, left + walk), 128))
        out.append((band(-right - walk, -right), 128))
    out.append((band(-right, left), 255))
    j = road.junction
    if j is not None:
        r1, l1 = carriageway_half_widths(road, 1)
        x0 = float(j.s_m)  # road 1 crosses at s = junction.s_m (road 0 straight there)
        y0, y1 = -j.arm_length_m, j.arm_length_m
        # road 1 heads +y: its left (+t) is -x
        out.append((np.array([[x0 - l1, y0], [x0 + r1, y0], [x0 + r1, y1], [x0 - l1, y1]]), 255))
    return out


def _draw_map(
    path: Path,
    extent: tuple[float, float, float, float],
    layout: dict[str, Any] | None,
    offset: np.ndarray,
    caption: str,
) -> None:
    """Top-down map PNG of ``extent`` (x0, y0, x1, y1 world [m]); pixel = (x, H - y) / res."""
    x0, y0, x1, y1 = extent
    w_px = math.ceil((x1 - x0 + 2 * MAP_MARGIN_M) / MAP_RESOLUTION_M)
    h_px = math.ceil((y1 - y0 + 2 * MAP_MARGIN_M) / MAP_RESOLUTION_M)
    img = Image.new("L", (w_px, h_px), 0)
    draw = ImageDraw.Draw(img)
    drawn = False
    if layout is not None:
        try:
            polys = _road_polygons(layout)
        except (ValueError, TypeError):
            polys = []
        for poly, value in polys:
            p = (poly + offset) / MAP_RESOLUTION_M
            draw.polygon([(float(u), float(h_px - v)) for u, v in p], fill=value)
            drawn = True
    if not drawn:
        draw.text((10, 10), caption, fill=255)
    tmp = path.with_name(f".{path.name}.tmp")
    img.save(tmp, format="PNG", optimize=False)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- one clip
def _find_file(clip: _ClipLike, kind: str) -> _FileRef | None:
    """The clip's file of ``kind``: exact kind first, then a kind / file name whose first
    dot-separated part is ``kind`` (``labels.openlabel`` / ``labels.openlabel.json``)."""
    files = list(clip.files)
    for f in files:
        if f.kind == kind:
            return f
    for f in files:
        name = f.uri.rstrip("/").rsplit("/", 1)[-1]
        if f.kind.split(".")[0] == kind or name.split(".")[0] == kind:
            return f
    return None


def _num(data: dict[str, Any], name: str, default: float = 0.0) -> float:
    for n in data.get("num", []):
        if n.get("name") == name:
            return float(n["val"])
    return default


def _text(data: dict[str, Any], name: str, default: str = "") -> str:
    for n in data.get("text", []):
        if n.get("name") == name:
            return str(n["val"])
    return default


def _cuboid(data: dict[str, Any], cs: str) -> list[float] | None:
    for c in data.get("cuboid", []):
        if c.get("coordinate_system") == cs and c.get("val") is not None:
            return [float(v) for v in c["val"]]
    return None


def _keyframes(n: int, fps: float, keyframe_hz: float | None) -> list[int]:
    if keyframe_hz is None:
        return list(range(n))
    stride = max(1, round(fps / keyframe_hz))
    return list(range(0, n, stride))


class _Tables:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in _TABLES}

    def add(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        self.rows[table].append(row)
        return row


def _link(rows: list[dict[str, Any]]) -> None:
    for i, r in enumerate(rows):
        r["prev"] = rows[i - 1]["token"] if i > 0 else ""
        r["next"] = rows[i + 1]["token"] if i + 1 < len(rows) else ""


def _export_clip(
    clip: _ClipLike,
    storage: _StorageLike,
    root: Path,
    tables: _Tables,
    keyframe_hz: float | None,
    jpeg_quality: int,
) -> None:
    labels_ref, video_ref = _find_file(clip, "labels"), _find_file(clip, "video")
    if labels_ref is None or video_ref is None:
        raise FileNotFoundError("no labels or no video file")
    try:
        doc = load_openlabel(storage.local_path(labels_ref.uri))
        frames, fps = read_video(storage.local_path(video_ref.uri))
    except AugmentError as exc:
        raise ClipWriteError(f"clip {clip.token}: {exc}") from exc
    ol = doc["openlabel"]
    n = frame_count(doc)
    if n != frames.shape[0]:
        raise ClipWriteError(f"clip {clip.token}: labels have {n} frames, video {frames.shape[0]}")
    ct = clip.token
    height, width = int(frames.shape[1]), int(frames.shape[2])
    stream = ol["streams"][STREAM_CAMERA]
    k34 = np.array(stream["stream_properties"]["intrinsics_pinhole"]["camera_matrix"]).reshape(3, 4)
    cam_to_ego = np.array(ol["coordinate_systems"][STREAM_CAMERA]["pose_wrt_parent"]["matrix4x4"])
    cam_to_ego = cam_to_ego.reshape(4, 4)

    # per-frame ego poses and object centres (world) -> extent and offset
    poses = []
    for f in range(n):
        fp = ol["frames"][str(f)]["frame_properties"]
        e = fp["ego_pose"]
        poses.append(
            (float(e["x_m"]), float(e["y_m"]), float(e["yaw_rad"]), float(fp["timestamp"]))
        )
    pts = [(x, y) for x, y, _, _ in poses]
    for fr in ol["frames"].values():
        for o in fr.get("objects", {}).values():
            c = _cuboid(o["object_data"], CS_WORLD)
            if c is not None:
                pts.append((c[0], c[1]))
    arr = np.array(pts)
    extent = (
        float(arr[:, 0].min()),
        float(arr[:, 1].min()),
        float(arr[:, 0].max()),
        float(arr[:, 1].max()),
    )
    offset = np.array([MAP_MARGIN_M - extent[0], MAP_MARGIN_M - extent[1]])

    # log, map, scene, sensor calibration
    log_tok, map_tok, scene_tok = token(ct, "log"), token(ct, "map"), token(ct, "scene")
    tables.add(
        "log",
        {
            "token": log_tok,
            "logfile": f"wmgen-{ct}",
            "vehicle": "wmgen-ego",
            "date_captured": "2020-01-01",
            "location": f"wmgen-{ct[:8]}",
        },
    )
    map_file = f"maps/{map_tok}.png"
    _draw_map(
        root / map_file,
        extent,
        ol["metadata"].get("wmgen", {}).get("road_layout"),
        offset,
        f"wmgen clip {ct}: no road layout",
    )
    tables.add(
        "map",
        {
            "token": map_tok,
            "log_tokens": [log_tok],
            "category": "semantic_prior",
            "filename": map_file,
        },
    )
    calib_tok = token(ct, "calibrated_sensor")
    tables.add(
        "calibrated_sensor",
        {
            "token": calib_tok,
            "sensor_token": token("sensor", STREAM_CAMERA),
            "translation": [float(v) for v in cam_to_ego[:3, 3]],
            "rotation": rotation_to_quaternion_wxyz(cam_to_ego[:3, :3]),
            "camera_intrinsic": [[float(v) for v in row] for row in k34[:, :3]],
        },
    )

    base_us = _BASE_TIMESTAMP_US + (int(ct[:8], 16) % 31_536_000) * 1_000_000
    stamps = [base_us + round(t * 1e6) for _, _, _, t in poses]
    keys = _keyframes(n, fps, keyframe_hz)
    key_set = set(keys)
    samples = [
        tables.add(
            "sample",
            {"token": token(ct, "sample", i), "timestamp": stamps[f], "scene_token": scene_tok},
        )
        for i, f in enumerate(keys)
    ]
    _link(samples)
    sample_of_frame = {}
    for f in range(n):
        nxt = next((i for i, k in enumerate(keys) if k >= f), len(keys) - 1)
        sample_of_frame[f] = samples[nxt]["token"]

    # sample_data + ego poses + JPEGs
    sds = []
    for f in range(n):
        x, y, yaw, _ = poses[f]
        pose_tok = token(ct, "ego_pose", f)
        tables.add(
            "ego_pose",
            {
                "token": pose_tok,
                "timestamp": stamps[f],
                "translation": [x + offset[0], y + offset[1], 0.0],
                "rotation": _yaw_quat_wxyz(yaw),
            },
        )
        folder = "samples" if f in key_set else "sweeps"
        fname = f"{folder}/{STREAM_CAMERA}/{ct}__{STREAM_CAMERA}__{stamps[f]}.jpg"
        Image.fromarray(frames[f]).save(root / fname, format="JPEG", quality=jpeg_quality)
        sds.append(
            tables.add(
                "sample_data",
                {
                    "token": token(ct, "sample_data", f),
                    "sample_token": sample_of_frame[f],
                    "ego_pose_token": pose_tok,
                    "calibrated_sensor_token": calib_tok,
                    "timestamp": stamps[f],
                    "fileformat": "jpg",
                    "is_key_frame": f in key_set,
                    "height": height,
                    "width": width,
                    "filename": fname,
                },
            )
        )
    _link(sds)

    # instances and annotations
    dt = (poses[keys[1]][3] - poses[keys[0]][3]) if len(keys) > 1 else 1.0
    for uid, obj in ol.get("objects", {}).items():
        cls = obj["type"]
        cat_name = CATEGORIES.get(cls, ("movable_object.debris", ""))[0]
        role = _text(obj.get("object_data", {}), "role")
        anns = []
        prev_xy: tuple[float, float] | None = None
        for i, f in enumerate(keys):
            o = ol["frames"][str(f)].get("objects", {}).get(uid)
            if o is None:
                continue
            data = o["object_data"]
            c = _cuboid(data, CS_WORLD)
            if c is None:
                continue
            x, y, z = c[0] + offset[0], c[1] + offset[1], c[2]
            qx, qy, qz, qw = c[3:7]
            sx, sy, sz = c[7:10]
            speed = 0.0 if prev_xy is None else math.hypot(x - prev_xy[0], y - prev_xy[1]) / dt
            prev_xy = (x, y)
            anns.append(
                tables.add(
                    "sample_annotation",
                    {
                        "token": token(ct, "ann", uid, i),
                        "sample_token": samples[i]["token"],
                        "instance_token": token(ct, "instance", uid),
                        "visibility_token": visibility_token(_num(data, "visible_fraction")),
                        "attribute_tokens": [
                            token("attribute", a) for a in _attributes(cls, role, speed)
                        ],
                        "translation": [x, y, z],
                        "size": [sy, sx, sz],
                        "rotation": [qw, qx, qy, qz],
                        "num_lidar_pts": 0,
                        "num_radar_pts": 0,
                    },
                )
            )
        if not anns:
            continue
        _link(anns)
        tables.add(
            "instance",
            {
                "token": token(ct, "instance", uid),
                "category_token": token("category", cat_name),
                "nbr_annotations": len(anns),
                "first_annotation_token": anns[0]["token"],
                "last_annotation_token": anns[-1]["token"],
            },
        )

    sc = ol.get("contexts", {}).get("0", {})
    tags = [t["type"] for t in ol.get("tags", {}).values()]
    tables.add(
        "scene",
        {
            "token": scene_tok,
            "log_token": log_tok,
            "nbr_samples": len(samples),
            "first_sample_token": samples[0]["token"],
            "last_sample_token": samples[-1]["token"],
            "name": f"wmgen-{ct}",
            "description": f"{sc.get('name', clip.class_name)}; tags: {', '.join(tags)}",
        },
    )


def _attributes(cls: str, role: str, speed_mps: float) -> list[str]:
    moving = speed_mps > _MOVING_MPS
    if cls in ("car", "truck"):
        if role == "parked":
            return ["vehicle.parked"]
        return ["vehicle.moving" if moving else "vehicle.stopped"]
    if cls == "cyclist":
        return ["cycle.with_rider"]
    if cls == "pedestrian":
        return ["pedestrian.moving" if moving else "pedestrian.standing"]
    return []


def export_nuscenes(
    clips: Iterable[_ClipLike],
    storage: _StorageLike,
    out_dir: str | os.PathLike[str],
    version: str = "v1.0-wmgen",
    *,
    keyframe_hz: float | None = 2.0,
    jpeg_quality: int = 90,
) -> Path:
    """Write ``clips`` as a nuScenes dataset under ``out_dir``; returns ``out_dir/version``.

    ``clips``: catalog records (``.token``, ``.class_name``, ``.files`` of FileRef with ``.kind``
    "video" / "labels" and ``.uri``); ``storage.local_path(uri)`` gives a local file. Raises
    ``ClipWriteError`` if nothing could be exported or a clip's files disagree.
    """
    if not version or "/" in version or version.startswith("."):
        raise ClipWriteError(f"version {version!r}: must be a plain folder name")
    if keyframe_hz is not None and keyframe_hz <= 0:
        raise ClipWriteError(f"keyframe_hz must be positive or None, got {keyframe_hz}")
    root = Path(out_dir)
    for sub in (version, "maps", f"samples/{STREAM_CAMERA}", f"sweeps/{STREAM_CAMERA}"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    tables = _Tables()
    for desc_name, desc in sorted(CATEGORIES.values()):
        tables.add(
            "category",
            {"token": token("category", desc_name), "name": desc_name, "description": desc},
        )
    tables.add(
        "category",
        {
            "token": token("category", "movable_object.debris"),
            "name": "movable_object.debris",
            "description": "Other objects.",
        },
    )
    for name, desc in ATTRIBUTES.items():
        tables.add(
            "attribute", {"token": token("attribute", name), "name": name, "description": desc}
        )
    for tok, level, desc, _ in VISIBILITY:
        tables.add("visibility", {"token": tok, "level": level, "description": desc})
    tables.add(
        "sensor",
        {"token": token("sensor", STREAM_CAMERA), "channel": STREAM_CAMERA, "modality": "camera"},
    )
    exported: list[str] = []
    skipped: dict[str, str] = {}
    seen: set[str] = set()
    for clip in clips:
        if clip.token in seen:
            continue
        seen.add(clip.token)
        try:
            _export_clip(clip, storage, root, tables, keyframe_hz, jpeg_quality)
            exported.append(clip.token)
        except FileNotFoundError as exc:
            skipped[clip.token] = str(exc)
    if not exported:
        raise ClipWriteError(f"export_nuscenes: no clip could be exported (skipped: {skipped})")
    vdir = root / version
    tmp = root / f".{version}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for table in _TABLES:
        (tmp / f"{table}.json").write_text(
            json.dumps(tables.rows[table], indent=0), encoding="utf-8"
        )
    shutil.rmtree(vdir, ignore_errors=True)
    os.replace(tmp, vdir)
    manifest = {
        "version": version,
        "keyframe_hz": keyframe_hz,
        "exported": exported,
        "skipped": skipped,
        "counts": {t: len(r) for t, r in tables.rows.items()},
    }
    (root / "export_manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return vdir
