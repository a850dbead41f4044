"""Clip labels as ASAM OpenLABEL 1.0 JSON (validated against the published JSON schema).

Layout of the document built by :func:`build_openlabel` (root key ``openlabel``):

* ``metadata``: ``schema_version`` "1.0.0", name, annotator, plus ``wmgen`` facts (fps, frame
  count, image size, value conventions, ``road_layout``: the scene's ``RoadLayout`` as JSON, used
  to draw nuScenes map images) and ``augmentations`` (list, appended by ``generator.augment``).
* ``coordinate_systems``: ``odom`` (the scene's world frame, root), ``vehicle-iso8855`` (ego
  frame: x forward, y left, z up, origin at the ego box centre on the ground; child of odom; its
  static ``pose_wrt_parent`` is the frame-0 ego pose, each frame carries its own),
  ``CAM_FRONT`` (camera frame x right, y down, z forward; child of the vehicle, static
  ``pose_wrt_parent`` = camera-to-vehicle 4x4). Transforms follow OpenLABEL:
  ``X_dst = M X_src`` and ``pose_wrt_parent`` maps child coordinates to parent coordinates.
* ``streams.CAM_FRONT``: camera, ``uri`` "video.mp4", ``intrinsics_pinhole`` (width_px,
  height_px, 3x4 ``camera_matrix`` row-major, 5 zero ``distortion_coeffs``).
* ``objects``: one per non-ego agent, uid "0", "1", ... in scene order; ``name`` = agent id,
  ``type`` = class (car, truck, pedestrian, cyclist, animal, obstacle); static ``object_data``:
  num ``length_m``/``width_m``/``height_m``/``instance_id``, text ``role``.
* ``frames["i"]``: ``frame_properties`` (``timestamp`` [s], ``transforms``
  ``vehicle-iso8855_to_odom`` = ego pose as 4x4 matrix, ``ego_pose`` {x_m, y_m, yaw_rad}) and per
  object ``object_data``:

  - cuboid ``box3d_ego`` (coordinate_system vehicle-iso8855) and ``box3d_world`` (odom):
    10 values ``[x, y, z, qx, qy, qz, qw, sx, sy, sz]`` (centre [m], rotation quaternion,
    size = length, width, height [m]);
  - bbox ``box2d`` (CAM_FRONT) ``[cx, cy, w, h]`` [px], present only when the box projects into
    the image, with num attributes ``visible_fraction`` and ``pixel_count``;
  - num ``visible_fraction`` (0..1), ``occlusion`` (1 - visible_fraction), ``pixel_count``,
    ``distance_m``; boolean ``visible`` (visible_fraction > 0 and a 2D box);
  - vec ``corners_ego`` / ``corners_world``: the 8 box corners flattened (24 values, corner
    order of ``generator.render.camera.box_corners``), for box-conditioned video models.

* ``frame_intervals`` [0, T-1]; ``contexts["0"]`` the scenario (class id, seed, every parameter
  as num; class name, family, road, weather, light as text; tags as vec) and ``contexts["1"]``
  the road layout; ``tags``: one OpenLABEL tag per scenario tag (``type`` = the tag string).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np

from generator.errors import AugmentError, ClipWriteError
from generator.render.types import ControlMaps
from generator.world.types import RolloutBatch
from scenario_library.scene import AGENT_KIND_CODES, AGENT_ROLE_CODES, Scene

SCHEMA_PATH = Path(__file__).parent / "schemas" / "openlabel_json_schema-v1.0.0.json"
CS_WORLD = "odom"
CS_EGO = "vehicle-iso8855"
STREAM_CAMERA = "CAM_FRONT"
VIDEO_URI = "video.mp4"
EGO_POSE_TRANSFORM = f"{CS_EGO}_to_{CS_WORLD}"

_KIND_BY_CODE = {code: kind.value for kind, code in AGENT_KIND_CODES.items()}
_ROLE_BY_CODE = {code: role.value for role, code in AGENT_ROLE_CODES.items()}
_DECIMALS = 4


def _r(x: float) -> float:
    v = float(x)
    if not np.isfinite(v):
        raise ClipWriteError(f"OpenLABEL value must be finite, got {v}")
    return round(v, _DECIMALS)


def _rl(a: np.ndarray) -> list[float]:
    arr = np.asarray(a, dtype=np.float64).ravel()
    if not np.isfinite(arr).all():
        raise ClipWriteError("OpenLABEL array values must be finite")
    return [float(v) for v in np.round(arr, _DECIMALS)]


def yaw_quaternion_xyzw(yaw_rad: float) -> list[float]:
    """Quaternion (x, y, z, w) of a rotation by ``yaw_rad`` about +z."""
    return [0.0, 0.0, _r(np.sin(yaw_rad / 2)), _r(np.cos(yaw_rad / 2))]


def pose_matrix(x_m: float, y_m: float, yaw_rad: float) -> np.ndarray:
    """4x4 transform taking points of a frame posed at (x, y, yaw) into its parent frame."""
    c, s = np.cos(yaw_rad), np.sin(yaw_rad)
    m = np.eye(4)
    m[:2, :2] = [[c, -s], [s, c]]
    m[0, 3], m[1, 3] = x_m, y_m
    return m


def _wrap(a: np.ndarray | float) -> np.ndarray:
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


def _interp_yaw(rollout: RolloutBatch, t_s: np.ndarray) -> np.ndarray:
    """[A, T_frames] world yaw of every agent at the frame times (unwrapped interpolation)."""
    t_roll = rollout.t_s
    yaw = np.unwrap(rollout.yaw_rad[0].astype(np.float64), axis=1)
    out = np.stack([np.interp(t_s, t_roll, yaw[a]) for a in range(yaw.shape[0])])
    return _wrap(out)


def _num(name: str, val: float) -> dict[str, Any]:
    return {"name": name, "val": _r(val)}


def _text(name: str, val: str) -> dict[str, Any]:
    return {"name": name, "val": str(val)}


def _cuboid(name: str, cs: str, corners: np.ndarray, yaw: float, dims: np.ndarray) -> dict:
    centre = np.asarray(corners, dtype=np.float64).mean(axis=0)
    val = _rl(centre) + yaw_quaternion_xyzw(float(yaw)) + _rl(dims)
    return {"name": name, "coordinate_system": cs, "val": val}


def _check_inputs(scene: Scene, rollout: RolloutBatch, controls: ControlMaps) -> None:
    if rollout.n_worlds != 1:
        raise ClipWriteError(
            f"build_openlabel needs a rollout of one world, got n_worlds={rollout.n_worlds} "
            "(pass rollout.world(0))"
        )
    ids = tuple(a.agent_id for a in scene.agents)
    if rollout.agent_ids != ids:
        raise ClipWriteError(f"rollout.agent_ids {rollout.agent_ids} != scene agents {ids}")
    controls.validate()


def build_openlabel(
    scene: Scene, rollout: RolloutBatch, controls: ControlMaps, *, name: str | None = None
) -> dict[str, Any]:
    """OpenLABEL 1.0 document of one clip (see the module docstring for the layout)."""
    _check_inputs(scene, rollout, controls)
    cam = controls.camera
    sc = scene.scenario
    n_frames = controls.n_frames
    t_s = np.asarray(controls.t_s, dtype=np.float64)
    yaw_world = _interp_yaw(rollout, t_s)  # [A, T]
    agent_index = {aid: i for i, aid in enumerate(rollout.agent_ids)}

    # ------------------------------------------------------------------ static objects
    uid_of: dict[str, str] = {}
    objects: dict[str, Any] = {}
    for i, agent in enumerate(scene.agents):
        if i == 0:
            continue  # the ego is the vehicle coordinate system, not an object
        uid = str(len(uid_of))
        uid_of[agent.agent_id] = uid
        dims = rollout.dims_m[i]
        objects[uid] = {
            "name": agent.agent_id,
            "type": _KIND_BY_CODE[int(rollout.kind_codes[i])],
            "coordinate_system": CS_WORLD,
            "frame_intervals": [{"frame_start": 0, "frame_end": n_frames - 1}],
            "object_data": {
                "num": [
                    _num("length_m", dims[0]),
                    _num("width_m", dims[1]),
                    _num("height_m", dims[2]),
                ],
                "text": [_text("role", _ROLE_BY_CODE[int(rollout.role_codes[i])])],
            },
        }

    # ------------------------------------------------------------------ per-frame data
    frames: dict[str, Any] = {}
    for f, fl in enumerate(controls.labels):
        ex, ey, eyaw = (float(v) for v in fl.ego_pose_xy_yaw)
        frame_objects: dict[str, Any] = {}
        for ol in fl.objects:
            if ol.agent_id not in uid_of:
                raise ClipWriteError(f"frame {f}: label for unknown agent {ol.agent_id!r}")
            a = agent_index[ol.agent_id]
            dims = rollout.dims_m[a]
            yw = float(yaw_world[a, f])
            vf = float(np.clip(ol.visible_fraction, 0.0, 1.0))
            data: dict[str, Any] = {
                "cuboid": [
                    _cuboid("box3d_ego", CS_EGO, ol.corners_ego, float(_wrap(yw - eyaw)), dims),
                    _cuboid("box3d_world", CS_WORLD, ol.corners_world, yw, dims),
                ],
                "num": [
                    _num("visible_fraction", vf),
                    _num("occlusion", 1.0 - vf),
                    _num("pixel_count", ol.pixel_count),
                    _num("distance_m", ol.distance_m),
                    _num("instance_id", ol.instance_id),
                ],
                "boolean": [{"name": "visible", "val": bool(vf > 0 and ol.bbox_xyxy is not None)}],
                "vec": [
                    {
                        "name": "corners_ego",
                        "coordinate_system": CS_EGO,
                        "val": _rl(ol.corners_ego),
                    },
                    {
                        "name": "corners_world",
                        "coordinate_system": CS_WORLD,
                        "val": _rl(ol.corners_world),
                    },
                ],
            }
            if ol.bbox_xyxy is not None:
                x0, y0, x1, y1 = (float(v) for v in ol.bbox_xyxy)
                data["bbox"] = [
                    {
                        "name": "box2d",
                        "coordinate_system": STREAM_CAMERA,
                        "val": [_r((x0 + x1) / 2), _r((y0 + y1) / 2), _r(x1 - x0), _r(y1 - y0)],
                        "attributes": {
                            "num": [
                                _num("visible_fraction", vf),
                                _num("pixel_count", ol.pixel_count),
                            ]
                        },
                    }
                ]
            frame_objects[uid_of[ol.agent_id]] = {"object_data": data}
        frames[str(f)] = {
            "frame_properties": {
                "timestamp": _r(fl.t_s),
                "ego_pose": {"x_m": _r(ex), "y_m": _r(ey), "yaw_rad": _r(eyaw)},
                "transforms": {
                    EGO_POSE_TRANSFORM: {
                        "src": CS_EGO,
                        "dst": CS_WORLD,
                        "transform_src_to_dst": {"matrix4x4": _rl(pose_matrix(ex, ey, eyaw))},
                    }
                },
            },
            "objects": frame_objects,
        }

    # ------------------------------------------------------------------ calibration
    camera_to_ego = np.linalg.inv(cam.ego_to_camera)
    k34 = np.hstack([cam.intrinsic, np.zeros((3, 1))])
    coordinate_systems = {
        CS_WORLD: {"type": "scene_cs", "parent": "", "children": [CS_EGO]},
        CS_EGO: {
            "type": "local_cs",
            "parent": CS_WORLD,
            "children": [STREAM_CAMERA],
            "pose_wrt_parent": {"matrix4x4": _rl(pose_matrix(*labels_ego0(controls)))},
        },
        STREAM_CAMERA: {
            "type": "sensor_cs",
            "parent": CS_EGO,
            "pose_wrt_parent": {"matrix4x4": _rl(camera_to_ego)},
        },
    }
    streams = {
        STREAM_CAMERA: {
            "type": "camera",
            "uri": VIDEO_URI,
            "description": f"front pinhole camera, hfov {cam.hfov_deg} deg, {cam.fps} fps",
            "stream_properties": {
                "intrinsics_pinhole": {
                    "width_px": cam.width_px,
                    "height_px": cam.height_px,
                    "camera_matrix": _rl(k34),
                    "distortion_coeffs": [0.0] * 5,
                }
            },
        }
    }

    # ------------------------------------------------------------------ scenario context
    params = [_num(k, v) for k, v in sorted(sc.params.items())]
    scenario_ctx = {
        "name": sc.class_name,
        "type": "scenario",
        "frame_intervals": [{"frame_start": 0, "frame_end": n_frames - 1}],
        "context_data": {
            "num": [_num("class_id", sc.class_id), _num("seed", sc.seed), *params],
            "text": [
                _text("class_name", sc.class_name),
                _text("family", sc.family.value),
                _text("road", sc.road_context.value),
                _text("weather", sc.weather.value),
                _text("light", sc.lighting.value),
            ],
            "vec": [
                {"name": "tags", "val": list(sc.tags)},
                {"name": "params", "val": sorted(sc.params)},
            ],
        },
    }
    rd = scene.road
    road_ctx = {
        "name": rd.context.value,
        "type": "road_layout",
        "context_data": {
            "num": [
                _num("length_m", rd.length_m),
                _num("lane_width_m", rd.lane_width_m),
                _num("lanes_right", rd.lanes_right),
                _num("lanes_left", rd.lanes_left),
                _num("speed_limit_mps", rd.speed_limit_mps),
                _num("curve_radius_m", rd.curve_radius_m or 0.0),
                _num("friction_mu", scene.friction_mu),
            ],
            "boolean": [{"name": "junction", "val": rd.junction is not None}],
        },
    }
    tags = {str(i): {"type": tag} for i, tag in enumerate(sc.tags)}

    doc = {
        "openlabel": {
            "metadata": {
                "schema_version": "1.0.0",
                "file_version": "1",
                "name": name or f"{sc.class_name}-seed{sc.seed}",
                "annotator": "wmgen (generated from the scene rollout)",
                "comment": f"class {sc.class_id} {sc.class_name}",
                "wmgen": {
                    "fps": cam.fps,
                    "n_frames": n_frames,
                    "width_px": cam.width_px,
                    "height_px": cam.height_px,
                    "cuboid_val": "x,y,z,qx,qy,qz,qw,sx,sy,sz",
                    "bbox_val": "cx,cy,w,h [px]",
                    "size": "length,width,height [m]",
                    "road_layout": scene.road.model_dump(mode="json"),
                },
                "augmentations": [],
            },
            "coordinate_systems": coordinate_systems,
            "streams": streams,
            "objects": objects,
            "frames": frames,
            "frame_intervals": [{"frame_start": 0, "frame_end": n_frames - 1}],
            "contexts": {"0": scenario_ctx, "1": road_ctx},
            "tags": tags,
        }
    }
    return doc


def labels_ego0(controls: ControlMaps) -> tuple[float, float, float]:
    """Ego pose (x [m], y [m], yaw [rad]) of the first frame (the static vehicle pose)."""
    x, y, yaw = controls.labels[0].ego_pose_xy_yaw if controls.labels else (0.0, 0.0, 0.0)
    return float(x), float(y), float(yaw)


@cache
def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def openlabel_errors(doc: Any) -> list[str]:
    """Schema violations and consistency problems of an OpenLABEL document ([] if valid)."""
    errors = [f"{e.json_path}: {e.message}" for e in _validator().iter_errors(doc)]
    if errors or not isinstance(doc, dict):
        return errors[:20]
    root = doc["openlabel"]
    objects = root.get("objects", {})
    frame_keys = sorted(int(k) for k in root.get("frames", {}))
    if frame_keys and frame_keys != list(range(len(frame_keys))):
        errors.append("$.openlabel.frames: frame numbers must be 0..T-1 without gaps")
    for k, fr in root.get("frames", {}).items():
        for uid in fr.get("objects", {}):
            if uid not in objects:
                errors.append(f"$.openlabel.frames.{k}.objects: unknown object uid {uid!r}")
                break
    return errors[:20]


def validate_openlabel(doc: Any) -> None:
    """Raise ``ClipWriteError`` listing the problems if ``doc`` is not valid OpenLABEL 1.0."""
    errors = openlabel_errors(doc)
    if errors:
        raise ClipWriteError("OpenLABEL document invalid: " + "; ".join(errors))


def frame_count(doc: dict[str, Any]) -> int:
    """Number of frames of a document (``frame_intervals`` end + 1, else frames present)."""
    root = doc["openlabel"]
    ints = root.get("frame_intervals") or []
    if ints:
        return int(max(i["frame_end"] for i in ints)) + 1
    return len(root.get("frames", {}))


def write_openlabel(path: str | os.PathLike[str], doc: dict[str, Any]) -> Path:
    """Validate and write a document as compact JSON (temp name, then rename)."""
    validate_openlabel(doc)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(doc, separators=(",", ":"), allow_nan=False), encoding="utf-8")
        os.replace(tmp, out)
    except (OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        raise ClipWriteError(f"writing labels {out}: {exc}") from exc
    return out


def load_openlabel(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate an OpenLABEL file; ``AugmentError`` naming the file if it is not one."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AugmentError(f"labels file {p}: not readable JSON ({exc})") from exc
    errors = openlabel_errors(doc)
    if errors:
        raise AugmentError(f"labels file {p}: not valid OpenLABEL 1.0: " + "; ".join(errors[:5]))
    return doc


def scenario_of(doc: dict[str, Any]) -> dict[str, Any]:
    """Scenario facts stored by :func:`build_openlabel`: class_id, class_name, tags, params,
    family, road, weather, light, seed. Documents without a scenario context (labels of real
    clips) give class_id -1, the document's name and its OpenLABEL tags."""
    root = doc["openlabel"]
    tags = [str(t["type"]) for t in root.get("tags", {}).values()]
    ctx = next((c for c in root.get("contexts", {}).values() if c.get("type") == "scenario"), None)
    if ctx is None:
        return {
            "class_id": -1,
            "class_name": str(root["metadata"].get("name", "unknown")),
            "tags": tags,
            "params": {},
            "family": None,
            "road": None,
            "weather": None,
            "light": None,
            "seed": None,
        }
    data = ctx.get("context_data", {})
    nums = {n["name"]: float(n["val"]) for n in data.get("num", []) if "name" in n}
    texts = {t["name"]: str(t["val"]) for t in data.get("text", []) if "name" in t}
    vecs = {v["name"]: list(v["val"]) for v in data.get("vec", []) if "name" in v}
    param_names = vecs.get("params", [k for k in nums if k not in ("class_id", "seed")])
    return {
        "class_id": int(nums.get("class_id", -1)),
        "class_name": texts.get("class_name", str(ctx.get("name", "unknown"))),
        "tags": [str(t) for t in vecs.get("tags", tags)],
        "params": {str(k): nums[k] for k in param_names if k in nums},
        "family": texts.get("family"),
        "road": texts.get("road"),
        "weather": texts.get("weather"),
        "light": texts.get("light"),
        "seed": int(nums["seed"]) if "seed" in nums else None,
    }
