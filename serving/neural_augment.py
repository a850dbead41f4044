"""Neural effects of ``POST /v1/augment``: restyle a real clip and insert a hazard actor.

Two neural operations, on top of (and before) the classical effects of ``generator.augment``:

* restyle (``wan-v2v``, a ``WanVideoToVideoPipeline`` checkpoint): the clip's weather and/or
  time of day changed at a chosen ``strength`` (0 keeps the clip, 1 replaces it), layout kept,
  so its labels stay valid (``generator.backends.wan_v2v``).
* insert (``wan-vace``, a ``WanVACEPipeline`` checkpoint): the hazard actor of a scenario
  class, rendered at the clip's size and frame count, placed with a pixel offset and
  generated inside its mask only (``wan_v2v.insert_actor``'s recipe, on the worker's warm
  backend). The actor's boxes are added to the clip's OpenLABEL labels when it has some.

The service's model folder (``AppArgs.model_dir`` / ``WMGEN_MODEL_DIR``) is either one
checkpoint or a folder of checkpoints (one sub-folder each); :func:`neural_model_dirs` says
which operation each one serves, by its ``model_index.json`` class. Backends are taken from
the worker's ``ClipPipeline.backends`` pool: loaded once per replica and kept warm.

The output is published like a classical augmentation (content-addressed: the token hashes
the source bytes, effects, seed, the neural settings and the weights' hashes), with the
backend and its weights' hash in the provenance.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from scenario_library.scene import Lighting, Weather
from serving.errors import InvalidFieldError

#: operation -> (backend name, diffusers pipeline class of the checkpoint it needs)
NEURAL_OPERATIONS: dict[str, tuple[str, str]] = {
    "restyle": ("wan-v2v", "WanVideoToVideoPipeline"),
    "insert": ("wan-vace", "WanVACEPipeline"),
}

Progress = Callable[[float, str], None]


class NeuralEffects(BaseModel):
    """The neural part of an augment request (all optional; empty means classical only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    restyle_weather: Weather | None = None
    restyle_lighting: Lighting | None = None
    #: how far the clip is noised before denoising under the new prompt, (0, 1]
    strength: float = Field(default=0.5, gt=0.0, le=1.0)
    prompt: str = Field(default="", max_length=500)
    #: scenario class whose hazard actor is inserted; None: no insertion
    insert_class_id: int | None = Field(default=None, ge=0, lt=1_000_000)
    insert_seed: int = Field(default=0, ge=0, lt=2**31)
    #: where the actor goes relative to where its scene puts it, (dx, dy) [px]
    insert_offset_px: tuple[int, int] = (0, 0)

    @property
    def restyle(self) -> bool:
        return self.restyle_weather is not None or self.restyle_lighting is not None

    @property
    def insert(self) -> bool:
        return self.insert_class_id is not None

    @property
    def any(self) -> bool:
        return self.restyle or self.insert


def neural_model_dirs(model_dir: str | None) -> dict[str, str]:
    """operation -> checkpoint folder, from ``model_dir`` itself or its sub-folders."""
    if not model_dir:
        return {}
    root = Path(model_dir).expanduser()
    candidates = [root] + (sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else [])
    by_class = {cls: op for op, (_b, cls) in NEURAL_OPERATIONS.items()}
    out: dict[str, str] = {}
    for d in candidates:
        try:
            cls = json.loads((d / "model_index.json").read_text()).get("_class_name")
        except (OSError, ValueError):
            continue
        op = by_class.get(str(cls))
        if op is not None and op not in out:
            out[op] = str(d.resolve())
    return out


def check_available(
    neural: NeuralEffects, model_dir: str | None, *, strict: bool = True
) -> dict[str, str]:
    """The checkpoint folders ``neural`` needs; 422 naming the field when one is missing.

    ``strict=False``: on a node where ``model_dir`` does not exist (an ingress node of a
    cluster whose weights live on the GPU nodes) nothing is checked here; the video worker
    checks again where the weights are and fails the job with the same message."""
    if model_dir and not strict and not Path(model_dir).expanduser().exists():
        return {}
    dirs = neural_model_dirs(model_dir)
    wanted: list[tuple[str, str, str]] = []
    if neural.restyle:
        if neural.restyle_weather is not None:
            wanted.append(("restyle", "restyle_weather", neural.restyle_weather.value))
        else:
            wanted.append(("restyle", "restyle_lighting", str(neural.restyle_lighting)))
    if neural.insert:
        wanted.append(("insert", "insert_class_id", str(neural.insert_class_id)))
    for op, field, value in wanted:
        if op not in dirs:
            backend, cls = NEURAL_OPERATIONS[op]
            where = (
                "no neural model is loaded on this server (set WMGEN_MODEL_DIR)"
                if not model_dir
                else f"the model folder {model_dir!r} holds no {cls} checkpoint"
            )
            raise InvalidFieldError(
                field, value, f"a neural effect that needs the {backend!r} model: {where}"
            )
    return dirs


def _sha256_json(obj: Any) -> str:
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def _fit_frames(a: np.ndarray, n: int) -> np.ndarray:
    """``a`` with exactly ``n`` frames (cut, or the last frame repeated)."""
    if len(a) >= n:
        return a[:n]
    return np.concatenate([a, np.repeat(a[-1:], n - len(a), axis=0)])


def _hazard_layer(
    class_id: int, seed: int, n_frames: int, height: int, width: int, fps: float, offset: Any
) -> tuple[np.ndarray, np.ndarray, list[list[float] | None], str, list[str]]:
    """(control [T,H,W,3], mask [T,H,W], per-frame box xyxy or None, agent kind, class
    tags) of the
    hazard actor of ``class_id``/``seed`` rendered at the clip's size, moved by ``offset``."""
    from generator.backends.conditioning import actor_layer
    from generator.pipeline import SCENE_HORIZON_S, ClipRequest, clip_window_start
    from generator.render.controls import render_controls
    from generator.world.geometry import build_road
    from generator.world.rollout import rollout
    from scenario_library.sampling import sample_scene
    from scenario_library.scene import AgentRole
    from scenario_library.spec import ScenarioSpec

    seconds = n_frames / fps
    req = ClipRequest(
        spec=ScenarioSpec(class_id=class_id),
        seed=seed,
        width_px=width,
        height_px=height,
        fps=fps,
        seconds=seconds,
    )
    scene = sample_scene(req.spec, seed, horizon_s=max(seconds, SCENE_HORIZON_S))
    hazard = next((a for a in scene.agents if a.role == AgentRole.HAZARD), None)
    if hazard is None:
        raise InvalidFieldError("insert_class_id", class_id, "this class has no hazard actor")
    road = build_road(scene.road)
    roll = rollout(scene, n_worlds=1, seed=seed)
    start_s = clip_window_start(roll, seconds)
    controls = render_controls(scene, road, roll, req.camera(), seconds=seconds, start_s=start_s)
    dx, dy = int(offset[0]), int(offset[1])
    control, mask = actor_layer(controls, hazard.agent_id, offset_px=(dx, dy))
    boxes: list[list[float] | None] = []
    for fl in controls.labels:
        ob = next((o for o in fl.objects if o.agent_id == hazard.agent_id), None)
        if ob is None or ob.bbox_xyxy is None:
            boxes.append(None)
            continue
        x0, y0, x1, y1 = (float(v) for v in ob.bbox_xyxy)
        x0, x1 = np.clip([x0 + dx, x1 + dx], 0, width)
        y0, y1 = np.clip([y0 + dy, y1 + dy], 0, height)
        boxes.append([float(x0), float(y0), float(x1), float(y1)] if x1 > x0 and y1 > y0 else None)
    control, mask = _fit_frames(control, n_frames), _fit_frames(mask, n_frames)
    boxes = (boxes + [boxes[-1] if boxes else None] * n_frames)[:n_frames]
    if not mask.any():
        raise InvalidFieldError(
            "insert_offset_px", (dx, dy), "the actor is not visible anywhere in the clip"
        )
    kind = str(getattr(hazard.kind, "value", hazard.kind))
    return control, mask, boxes, kind, list(scene.scenario.tags)


def _insert(backend: Any, frames: np.ndarray, control: np.ndarray, mask: np.ndarray, **kw: Any):
    """``wan_v2v.insert_actor`` on an already loaded (warm) ``WanVaceBackend``."""
    from generator.backends.conditioning import resize_video, snap_size

    h, w = frames.shape[1:3]
    wh, ww = backend.work_size(h, w)
    if backend.resolution is None:
        wh, ww = snap_size(wh, ww, backend.spatial_factor)
    m = resize_video(np.asarray(mask, dtype=np.uint8) * 255, wh, ww, nearest=True) > 0
    video = np.where(
        m[..., None], resize_video(control, wh, ww), resize_video(frames, wh, ww)
    ).astype(np.uint8)
    out = backend.run_vace(video, m, kw["prompt"], kw["seed"])
    return resize_video(out, h, w)


def add_actor_labels(
    doc: dict[str, Any], boxes: list[list[float] | None], kind: str, class_id: int
) -> dict[str, Any]:
    """A copy of OpenLABEL ``doc`` with the inserted actor as a new object (2-D boxes)."""
    from generator.io.openlabel import openlabel_errors

    doc = json.loads(json.dumps(doc))
    ol = doc["openlabel"]
    objects = ol.setdefault("objects", {})
    uid = str(max((int(k) for k in objects if str(k).isdigit()), default=-1) + 1)
    present = [i for i, b in enumerate(boxes) if b is not None]
    objects[uid] = {
        "name": f"inserted_hazard_{class_id}",
        "type": kind,
        "frame_intervals": [{"frame_start": present[0], "frame_end": present[-1]}]
        if present
        else [],
    }
    frames = ol.get("frames", {})
    stream = next(iter(ol.get("streams", {"camera": None})), "camera")
    for i in present:
        x0, y0, x1, y1 = boxes[i]  # type: ignore[misc]
        box = [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0]
        entry = frames.setdefault(str(i), {}).setdefault("objects", {})
        entry[uid] = {
            "object_data": {"bbox": [{"name": "box2d", "coordinate_system": stream, "val": box}]}
        }
    errors = openlabel_errors(doc)
    if errors:  # our own construction: a failure here is a bug, not a user error
        raise RuntimeError("inserted-actor labels: " + "; ".join(errors[:3]))
    return doc


def augment_neural(
    pipeline: Any,
    source: Path,
    effects: list[str],
    seed: int,
    labels: Path | None,
    source_clip_token: str | None,
    neural: NeuralEffects,
    model_dir: str | None,
    progress: Progress | None = None,
) -> Any:
    """Insert / restyle / classical effects on ``source``, published and catalogued.

    Returns the pipeline's ``ClipResult``; the output keeps the source's frame count and
    size (classical frame effects such as ``drop_frames`` aside) and its labels."""
    from generator.augment import augment_clip, check_effects
    from generator.backends.prompting import compose_prompt, restyle_prompt
    from generator.io.openlabel import load_openlabel
    from generator.io.video import read_video, write_thumbnail, write_video
    from generator.pipeline import (
        LABELS,
        RECORD,
        THUMBNAIL,
        VIDEO,
        ClipResult,
        _scenario_from_labels,
        code_version,
    )
    from scenario_library.catalog import ClipRecord

    report = progress or (lambda _f, _m: None)
    effects = check_effects(effects) if effects else []
    dirs = check_available(neural, model_dir, strict=True)
    backends: dict[str, Any] = {}
    for op in ("insert", "restyle"):
        if getattr(neural, op):
            name = NEURAL_OPERATIONS[op][0]
            backends[op] = pipeline.backends.get(name, dirs[op])
    provs = {op: {k: str(v) for k, v in b.provenance().items()} for op, b in backends.items()}
    src_sha = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    labels_doc = load_openlabel(Path(labels)) if labels is not None else None
    token = _sha256_json(
        {
            "augment": src_sha,
            "effects": list(effects),
            "seed": seed,
            "labels": labels_doc is not None,
            "neural": neural.model_dump(mode="json"),
            "models": {
                op: [p.get("version", ""), p.get("weights_sha256", "")] for op, p in provs.items()
            },
        }
    )[:32]
    found = pipeline.existing(token)
    if found is not None:
        return ClipResult(token=token, created=False, record=found)

    report(0.05, "decoding source")
    frames, fps = read_video(Path(source))
    n_frames, height, width = frames.shape[:3]
    if "insert" in backends:
        report(0.1, "rendering the hazard actor")
        assert neural.insert_class_id is not None
        control, mask, boxes, kind, class_tags = _hazard_layer(
            neural.insert_class_id,
            neural.insert_seed,
            n_frames,
            height,
            width,
            fps,
            neural.insert_offset_px,
        )
        report(0.2, "inserting the hazard actor")
        # the prompt describes the hazard's class (its family, road, weather, light)
        frames = _insert(
            backends["insert"],
            frames,
            control,
            mask,
            prompt=compose_prompt(class_tags, neural.prompt),
            seed=seed,
        )
        if labels_doc is not None:
            labels_doc = add_actor_labels(labels_doc, boxes, kind, neural.insert_class_id)
    if "restyle" in backends:
        report(0.45, "restyling")
        current = _scene_axes(labels_doc)
        prompt = restyle_prompt(
            neural.restyle_weather or current[0],
            neural.restyle_lighting or current[1],
            neural.prompt,
        )
        frames = backends["restyle"].restyle(frames, prompt, neural.strength, seed)
    if frames.shape[:3] != (n_frames, height, width):  # the backends promise this
        raise RuntimeError(f"neural effects changed the clip's shape to {frames.shape}")
    out_frames, out_fps, out_labels = frames, fps, labels_doc
    if effects:
        report(0.75, "classical effects")
        out_frames, out_fps, out_labels = augment_clip(frames, fps, labels_doc, effects, seed)

    names = [op for op in ("insert", "restyle") if op in provs]
    tags = ["augmented", *(f"effect:{e}" for e in effects), *(f"neural:{n}" for n in names)]
    if neural.restyle_weather is not None:
        tags.append(f"restyle:{neural.restyle_weather.value}")
    if neural.restyle_lighting is not None:
        tags.append(f"restyle:{neural.restyle_lighting.value}")
    class_id: int | None = None
    class_name, params = "augmented_real_clip", dict[str, float]()
    if out_labels is not None:
        class_id, class_name, extra_tags, params = _scenario_from_labels(out_labels)
        tags += extra_tags
    backend_name = "+".join(NEURAL_OPERATIONS[op][0] for op in ("insert", "restyle") if op in provs)
    provenance = {
        "code_version": code_version(),
        "backend": backend_name,
        "source_sha256": src_sha,
        "effects": ",".join(effects),
        "seed": str(seed),
        "neural": json.dumps(neural.model_dump(mode="json"), sort_keys=True),
    }
    first = provs["restyle"] if "restyle" in provs else provs["insert"]
    provenance["weights_sha256"] = first.get("weights_sha256", "")
    provenance["backend_version"] = first.get("version", "")
    for op, p in provs.items():
        for k in ("weights_sha256", "pipeline", "model_dir", "device", "dtype", "tiny_checkpoint"):
            if k in p:
                provenance[f"{op}.{k}"] = p[k]
    spec = {
        "augment": {
            "source_sha256": src_sha,
            "effects": list(effects),
            "seed": seed,
            "source_clip_token": source_clip_token,
            "neural": neural.model_dump(mode="json"),
        }
    }
    report(0.85, "writing files")
    with pipeline.storage.staging() as stage:
        write_video(stage / VIDEO, out_frames, out_fps)
        write_thumbnail(stage / THUMBNAIL, out_frames[len(out_frames) // 2])
        if out_labels is not None:
            (stage / LABELS).write_text(json.dumps(out_labels, separators=(",", ":")))
        h, w = out_frames.shape[1:3]
        record = ClipRecord(
            token=token,
            class_id=class_id,
            class_name=class_name,
            tags=sorted(set(tags)),
            params=params,
            seed=seed,
            backend=backend_name,
            spec=spec,
            provenance=provenance,
            files=[],
            quality={"passed": True, "failures": []},
            width_px=int(w),
            height_px=int(h),
            fps=float(out_fps),
            n_frames=len(out_frames),
            source_clip_token=source_clip_token,
            created_at=datetime.now(UTC),
        )
        (stage / RECORD).write_text(record.model_dump_json(indent=1))
        refs = pipeline.storage.publish(token, stage)
    record = record.model_copy(update={"files": refs})
    created = pipeline.catalog.add_clip(record)
    report(1.0, "published")
    return ClipResult(token=token, created=created, record=pipeline.catalog.get_clip(token))


def _tags_of(doc: dict[str, Any] | None) -> list[str]:
    if doc is None:
        return []
    from generator.pipeline import _scenario_from_labels

    try:
        return list(_scenario_from_labels(doc)[2])
    except Exception:
        return []


def _scene_axes(doc: dict[str, Any] | None) -> tuple[Weather, Lighting]:
    """The clip's current weather / light from its labels (clear day when unknown)."""
    weather, light = Weather.CLEAR, Lighting.DAY
    for tag in _tags_of(doc):
        key, _, value = tag.partition(":")
        if key == "weather" and value in {w.value for w in Weather}:
            weather = Weather(value)
        if key == "light" and value in {x.value for x in Lighting}:
            light = Lighting(value)
    return weather, light
