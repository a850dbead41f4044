"""Neural augmentation of a real clip: restyle its weather / time of day, insert a hazard actor.

Two operations, run before the classical effects of :func:`generator.augment.augment_clip`
by ``ClipPipeline.augment(..., neural=NeuralEffects(...))``:

* restyle (``wan-v2v``, a ``WanVideoToVideoPipeline`` checkpoint): the clip's weather and/or
  time of day changed at a chosen ``strength`` (0 keeps the clip, 1 replaces it), layout kept,
  so its labels stay valid (``generator.backends.wan_v2v``).
* insert (``wan-vace``, a ``WanVACEPipeline`` checkpoint): the hazard actor of a scenario
  class, rendered at the clip's size and frame count, placed with a pixel offset and
  generated inside its mask only (``wan_v2v.insert_actor`` on a warm backend). The actor's
  2-D boxes are added to the clip's OpenLABEL labels when it has some.

The model folder (``--model-dir`` / ``WMGEN_MODEL_DIR``) is either one checkpoint or a folder
of checkpoints (one sub-folder each); :func:`neural_model_dirs` says which operation each one
serves, by its ``model_index.json`` class. Invalid options raise
:class:`generator.errors.NeuralEffectError` naming the field and value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from generator.errors import NeuralEffectError
from scenario_library.scene import Lighting, Weather

#: operation -> (backend name, diffusers pipeline class of the checkpoint it needs)
NEURAL_OPERATIONS: dict[str, tuple[str, str]] = {
    "restyle": ("wan-v2v", "WanVideoToVideoPipeline"),
    "insert": ("wan-vace", "WanVACEPipeline"),
}
#: the order the operations run in (the actor is inserted, then the whole clip restyled)
OPERATION_ORDER = ("insert", "restyle")

Progress = Callable[[float, str], None]


class NeuralEffects(BaseModel):
    """The neural part of an augmentation (all optional; empty means classical only)."""

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

    @property
    def operations(self) -> tuple[str, ...]:
        """The chosen operations, in the order they run."""
        return tuple(op for op in OPERATION_ORDER if getattr(self, op))


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


def require_models(neural: NeuralEffects, model_dir: str | None) -> dict[str, str]:
    """operation -> checkpoint folder for every operation ``neural`` needs.

    Raises :class:`NeuralEffectError` naming the option whose model is missing."""
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
                "no neural model folder is configured (--model-dir or WMGEN_MODEL_DIR)"
                if not model_dir
                else f"the model folder {model_dir!r} holds no {cls} checkpoint"
            )
            raise NeuralEffectError(
                field, value, f"a neural effect that needs the {backend!r} model: {where}"
            )
    return {op: dirs[op] for op in neural.operations}


class BackendSource(Protocol):
    """Where loaded backends come from (``generator.pipeline.BackendPool``: kept warm)."""

    def get(self, name: str, model_dir: str | None = None) -> Any: ...


@dataclass(frozen=True)
class NeuralModels:
    """The loaded backends of one :class:`NeuralEffects` and their provenance.

    ``backends``: operation -> loaded backend; ``provenance``: operation -> the backend's
    provenance (``version``, ``weights_sha256``, ...)."""

    effects: NeuralEffects
    backends: Mapping[str, Any]
    provenance: Mapping[str, Mapping[str, str]]

    @classmethod
    def load(
        cls, effects: NeuralEffects, model_dir: str | None, pool: BackendSource
    ) -> NeuralModels:
        dirs = require_models(effects, model_dir)
        backends = {op: pool.get(NEURAL_OPERATIONS[op][0], d) for op, d in dirs.items()}
        prov = {op: {k: str(v) for k, v in b.provenance().items()} for op, b in backends.items()}
        out = cls(effects=effects, backends=backends, provenance=prov)
        out.validate()
        return out

    def validate(self) -> None:
        ops = self.effects.operations
        if not ops:
            raise NeuralEffectError("neural", self.effects.model_dump(), "no neural effect chosen")
        if tuple(self.backends) != ops or set(self.provenance) != set(ops):
            raise NeuralEffectError("neural", list(self.backends), f"expected backends for {ops}")

    @property
    def backend_name(self) -> str:
        """``wan-vace``, ``wan-v2v`` or ``wan-vace+wan-v2v`` (in the order they run)."""
        return "+".join(NEURAL_OPERATIONS[op][0] for op in self.effects.operations)

    def token_fields(self) -> dict[str, Any]:
        """What the content address adds for neural effects: the settings and the weights."""
        return {
            "neural": self.effects.model_dump(mode="json"),
            "models": {
                op: [p.get("version", ""), p.get("weights_sha256", "")]
                for op, p in self.provenance.items()
            },
        }

    def tags(self) -> list[str]:
        tags = [f"neural:{op}" for op in self.effects.operations]
        if self.effects.restyle_weather is not None:
            tags.append(f"restyle:{self.effects.restyle_weather.value}")
        if self.effects.restyle_lighting is not None:
            tags.append(f"restyle:{self.effects.restyle_lighting.value}")
        return tags

    def provenance_fields(self) -> dict[str, str]:
        """Provenance of the output clip: the settings, the main backend's version and
        weights (restyle if any, else insert) and each operation's weights, device, dtype."""
        main = self.provenance["restyle" if "restyle" in self.provenance else "insert"]
        out = {
            "neural": json.dumps(self.effects.model_dump(mode="json"), sort_keys=True),
            "weights_sha256": main.get("weights_sha256", ""),
            "backend_version": main.get("version", ""),
        }
        for op, p in self.provenance.items():
            for k in (
                "weights_sha256",
                "pipeline",
                "model_dir",
                "device",
                "dtype",
                "tiny_checkpoint",
            ):
                if k in p:
                    out[f"{op}.{k}"] = p[k]
        return out

    def apply(
        self,
        frames: np.ndarray,
        fps: float,
        labels_doc: dict[str, Any] | None,
        seed: int,
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, dict[str, Any] | None]:
        """Insert and/or restyle ``frames`` [T, H, W, 3] uint8 at ``fps``; same shape out.

        The labels get the inserted actor's boxes; restyling keeps them as they are."""
        from generator.backends.prompting import compose_prompt, restyle_prompt
        from generator.backends.wan_v2v import insert_actor

        report = progress or (lambda _f, _m: None)
        fx = self.effects
        shape = frames.shape
        if "insert" in self.backends:
            assert fx.insert_class_id is not None
            report(0.1, "rendering the hazard actor")
            layer = hazard_layer(
                fx.insert_class_id, fx.insert_seed, frames.shape[:3], fps, fx.insert_offset_px
            )
            report(0.2, "inserting the hazard actor")
            # the prompt describes the hazard's class (its family, road, weather, light)
            frames = insert_actor(
                frames,
                layer.control,
                layer.mask,
                prompt=compose_prompt(layer.class_tags, fx.prompt),
                seed=seed,
                backend=self.backends["insert"],
            )
            if labels_doc is not None:
                labels_doc = add_actor_labels(labels_doc, layer.boxes, layer.kind, layer.class_id)
        if "restyle" in self.backends:
            report(0.45, "restyling")
            weather, light = scene_axes(labels_doc)
            prompt = restyle_prompt(
                fx.restyle_weather or weather, fx.restyle_lighting or light, fx.prompt
            )
            frames = self.backends["restyle"].restyle(frames, prompt, fx.strength, seed)
        if frames.shape != shape:  # the backends promise this
            raise RuntimeError(f"neural effects changed the clip's shape {shape} to {frames.shape}")
        return frames, labels_doc


@dataclass(frozen=True)
class HazardLayer:
    """The hazard actor of a class rendered at a clip's size: ``control`` [T, H, W, 3] uint8,
    ``mask`` [T, H, W] bool (where it is generated), ``boxes`` per frame xyxy [px] or None."""

    class_id: int
    control: np.ndarray
    mask: np.ndarray
    boxes: tuple[tuple[float, float, float, float] | None, ...]
    kind: str
    class_tags: tuple[str, ...]

    def validate(self) -> None:
        t = len(self.boxes)
        if self.control.dtype != np.uint8 or self.control.shape[:1] != (t,):
            raise ValueError(
                f"control {self.control.dtype} {self.control.shape}: expected {t} frames"
            )
        if self.mask.shape != self.control.shape[:3]:
            raise ValueError(f"mask {self.mask.shape}: expected {self.control.shape[:3]}")


def _fit_frames(a: np.ndarray, n: int) -> np.ndarray:
    """``a`` with exactly ``n`` frames (cut, or the last frame repeated)."""
    if len(a) >= n:
        return a[:n]
    return np.concatenate([a, np.repeat(a[-1:], n - len(a), axis=0)])


def hazard_layer(
    class_id: int,
    seed: int,
    shape: tuple[int, int, int],
    fps: float,
    offset_px: tuple[int, int] = (0, 0),
) -> HazardLayer:
    """The hazard actor of ``class_id`` / ``seed`` rendered for a clip of ``shape`` (frames,
    height, width) at ``fps``, moved by ``offset_px`` (dx, dy) [px].

    Raises :class:`NeuralEffectError` when the class has no hazard actor or the moved actor
    is visible nowhere in the clip."""
    from generator.backends.conditioning import actor_layer
    from generator.pipeline import SCENE_HORIZON_S, clip_window_start
    from generator.render.controls import render_controls
    from generator.render.types import CameraConfig
    from generator.world.geometry import build_road
    from generator.world.rollout import rollout
    from scenario_library.sampling import sample_scene
    from scenario_library.scene import AgentRole
    from scenario_library.spec import ScenarioSpec

    n_frames, height, width = shape
    seconds = n_frames / fps
    scene = sample_scene(
        ScenarioSpec(class_id=class_id), seed, horizon_s=max(seconds, SCENE_HORIZON_S)
    )
    hazard = next((a for a in scene.agents if a.role == AgentRole.HAZARD), None)
    if hazard is None:
        raise NeuralEffectError("insert_class_id", class_id, "this class has no hazard actor")
    road = build_road(scene.road)
    roll = rollout(scene, n_worlds=1, seed=seed)
    camera = CameraConfig(width_px=width, height_px=height, fps=fps)
    start_s = clip_window_start(roll, seconds)
    controls = render_controls(scene, road, roll, camera, seconds=seconds, start_s=start_s)
    dx, dy = int(offset_px[0]), int(offset_px[1])
    control, mask = actor_layer(controls, hazard.agent_id, offset_px=(dx, dy))
    boxes: list[tuple[float, float, float, float] | None] = []
    for fl in controls.labels:
        ob = next((o for o in fl.objects if o.agent_id == hazard.agent_id), None)
        if ob is None or ob.bbox_xyxy is None:
            boxes.append(None)
            continue
        x0, y0, x1, y1 = (float(v) for v in ob.bbox_xyxy)
        x0, x1 = (float(v) for v in np.clip([x0 + dx, x1 + dx], 0, width))
        y0, y1 = (float(v) for v in np.clip([y0 + dy, y1 + dy], 0, height))
        boxes.append((x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None)
    control, mask = _fit_frames(control, n_frames), _fit_frames(mask, n_frames)
    boxes = (boxes + [boxes[-1] if boxes else None] * n_frames)[:n_frames]
    if not mask.any():
        raise NeuralEffectError(
            "insert_offset_px", (dx, dy), "the actor is not visible anywhere in the clip"
        )
    layer = HazardLayer(
        class_id=class_id,
        control=control,
        mask=mask,
        boxes=tuple(boxes),
        kind=str(getattr(hazard.kind, "value", hazard.kind)),
        class_tags=tuple(scene.scenario.tags),
    )
    layer.validate()
    return layer


def add_actor_labels(
    doc: dict[str, Any],
    boxes: tuple[tuple[float, float, float, float] | None, ...] | list[Any],
    kind: str,
    class_id: int,
) -> dict[str, Any]:
    """A copy of OpenLABEL ``doc`` with the inserted actor as a new object (2-D boxes xyxy
    [px] per frame, None where it is not visible)."""
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
        x0, y0, x1, y1 = boxes[i] or (0.0, 0.0, 0.0, 0.0)  # present: never None
        box = [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0]
        entry = frames.setdefault(str(i), {}).setdefault("objects", {})
        entry[uid] = {
            "object_data": {"bbox": [{"name": "box2d", "coordinate_system": stream, "val": box}]}
        }
    errors = openlabel_errors(doc)
    if errors:  # our own construction: a failure here is a bug, not a user error
        raise RuntimeError("inserted-actor labels: " + "; ".join(errors[:3]))
    return doc


def scene_axes(doc: dict[str, Any] | None) -> tuple[Weather, Lighting]:
    """The clip's current weather / light from its labels' tags (clear day when unknown)."""
    from generator.pipeline import scenario_from_labels

    weather, light = Weather.CLEAR, Lighting.DAY
    if doc is None:
        return weather, light
    try:
        tags = scenario_from_labels(doc)[2]
    except Exception:  # labels of a real clip without our scenario block
        tags = []
    for tag in tags:
        key, _, value = tag.partition(":")
        if key == "weather" and value in {w.value for w in Weather}:
            weather = Weather(value)
        if key == "light" and value in {x.value for x in Lighting}:
            light = Lighting(value)
    return weather, light
