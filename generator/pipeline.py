"""The one pipeline object behind HTTP requests, batch builds and augmentation jobs.

``ClipPipeline.generate`` runs the whole data flow for one request, as numbered stages::

    1 content address      token = sha256(spec, seed, backend + its version/weights, size, length)
    2 already published?   return the catalog record (a retry never duplicates)
    3 scene                scenario_library.sampling.sample_scene(spec, seed)
    4 world                road geometry + one nominal rollout (with checks)
    5 control maps         camera rendering: HD map + boxes, depth, semantic, instance, labels
    6 video backend        sketch renderer or a neural model, conditioned on the control maps
    7 quality gate         rollout checks, frames, labels vs instance mask, frame counts
    8 files                mp4s, OpenLABEL labels, thumbnail, scene + provenance, in staging
    9 publish              atomic rename into storage, then one catalog transaction

Nothing is visible until stage 9: a crash anywhere earlier leaves no half clip or row.

``generate(req)`` is ``finish(prepare(req))`` after stages 1-2: :meth:`ClipPipeline.prepare`
runs the CPU stages 3-5 into a picklable :class:`PreparedClip`, :meth:`ClipPipeline.finish`
the backend and publishing stages 6-9, so that two workers (a CPU and a GPU one) can share
a clip. ``ClipPipeline.augment`` is the same object's path for real clips (classical and
neural effects, ``generator.augment``).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from generator.backends.base import BackendRequest, VideoBackend
from generator.backends.registry import BACKENDS
from generator.errors import BackendRequestError, ClipWriteError, QualityGateError, RenderError
from generator.render.types import CameraConfig, ControlMaps
from generator.world.types import RoadGeometry, RolloutBatch
from scenario_library.catalog import Catalog, ClipRecord
from scenario_library.errors import CatalogNotFoundError
from scenario_library.scene import AGENT_ROLE_CODES, AgentRole, Scene
from scenario_library.spec import ScenarioSpec
from scenario_library.storage import Storage

if TYPE_CHECKING:
    from generator.augment.neural import NeuralEffects

Progress = Callable[[float, str], None]

#: File names of a published clip (FileRef.kind is the part before the first dot).
VIDEO = "video.mp4"
CONTROL_FILES = {
    "hdmap": "hdmap.mp4",
    "depth": "depth.mp4",
    "semantic": "semantic.mp4",
    "instance": "instance.mp4",
}
LABELS = "labels.openlabel.json"
THUMBNAIL = "thumbnail.jpg"
SCENE = "scene.json"
RECORD = "record.json"

#: Rollout horizon of every clip's scene [s] (the taxonomy's design horizon: each corner case
#: culminates before 7.5 s); a shorter clip shows the window around the culmination.
SCENE_HORIZON_S = 8.0
#: How long a clip keeps running after the culmination when it is shorter than the horizon [s].
AFTER_CULMINATION_S = 1.5
#: Videos encoded at once per clip.
ENCODER_THREADS = 2
#: x264 preset and constant quantiser of every clip video. "ultrafast" encodes a 5 s
#: 1280x704 clip ~4x faster than "veryfast"; constant QP 16 instead of CRF 20 halves the
#: encoding time again (no per-frame complexity estimate) for the same PSNR on the sketch
#: video (~52 dB) and smaller files; the control maps stay above 56 dB (bench/generate.py).
X264_PRESET = "ultrafast"
X264_QP = 16


class ClipRequest(BaseModel):
    """One clip to generate. Units: pixels, frames per second, seconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    spec: ScenarioSpec
    seed: int = Field(default=0, ge=0, lt=2**31)
    backend: str = "sketch"
    width_px: int = Field(default=1280, ge=64, le=3840)
    height_px: int = Field(default=704, ge=64, le=2160)
    fps: float = Field(default=10.0, gt=0, le=60)
    seconds: float = Field(default=5.0, gt=0, le=60)
    prompt: str = Field(default="", max_length=2000)
    model_dir: str | None = None

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, v: str) -> str:
        if v not in BACKENDS.names():
            raise ValueError(f"unknown backend {v!r}; choose one of {', '.join(BACKENDS.names())}")
        return v

    @field_validator("width_px", "height_px")
    @classmethod
    def _even(cls, v: int) -> int:
        if v % 2:
            raise ValueError(f"{v} must be even (H.264 yuv420p)")
        return v

    @property
    def n_frames(self) -> int:
        return round(self.seconds * self.fps)

    def camera(self) -> CameraConfig:
        return CameraConfig(width_px=self.width_px, height_px=self.height_px, fps=self.fps)


@dataclass(frozen=True)
class ClipResult:
    token: str
    created: bool  # False when the clip already existed (content-addressed retry)
    record: ClipRecord


@dataclass(frozen=True)
class PreparedClip:
    """Output of stages 1 and 3-5 (:meth:`ClipPipeline.prepare`), input of stages 6-9
    (:meth:`ClipPipeline.finish`): everything a video backend needs, CPU work only.

    Picklable, so one worker can prepare it and another (a GPU one) finish it. Its control
    maps dominate its size: ~450 MB for a 5 s 1280x704 clip at 10 fps."""

    req: ClipRequest
    #: content address (32 hex) of the clip, from :meth:`ClipPipeline.token_for`
    token: str
    scene: Scene
    road: RoadGeometry
    rollout: RolloutBatch
    controls: ControlMaps
    #: the worker that ran stages 3-5 ("" when the same process finishes the clip)
    prepared_by: str = ""

    def validate(self) -> None:
        if len(self.token) != 32 or any(c not in "0123456789abcdef" for c in self.token):
            raise ClipWriteError(f"token={self.token!r}: expected 32 lowercase hex digits")
        self.rollout.validate()
        self.controls.validate()
        cam, req = self.controls.camera, self.req
        if (cam.width_px, cam.height_px, cam.fps) != (req.width_px, req.height_px, req.fps):
            raise RenderError(
                f"controls camera={cam.width_px}x{cam.height_px}@{cam.fps}: the request asks "
                f"for {req.width_px}x{req.height_px}@{req.fps}"
            )
        if self.scene.scenario.class_id != req.spec.class_id and req.spec.class_id is not None:
            raise RenderError(
                f"scene class_id={self.scene.scenario.class_id}: request asks for "
                f"{req.spec.class_id}"
            )


@cache
def code_version() -> str:
    """Package version plus the git commit when running from a checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("wmgen")
    except PackageNotFoundError:
        v = "0+unknown"
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        return f"{v}+g{sha}" if sha else v
    except (OSError, subprocess.SubprocessError):
        return v


class BackendPool:
    """Loaded backends kept warm and reused across requests, keyed by (name, model_dir)."""

    def __init__(self, model_dir: str | None = None) -> None:
        self.model_dir = model_dir
        self._loaded: dict[tuple[str, str | None], VideoBackend] = {}
        self._lock = threading.Lock()

    def get(self, name: str, model_dir: str | None = None) -> VideoBackend:
        neural = BACKENDS.is_neural(name)
        key = (name, (model_dir or self.model_dir) if neural else None)
        with self._lock:
            if key not in self._loaded:
                opts: dict[str, Any] = {"model_dir": key[1]} if neural else {}
                self._loaded[key] = BACKENDS.load(name, **opts)
            return self._loaded[key]


def _sha256_json(obj: Any) -> str:
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()


class ClipPipeline:
    """spec -> scene -> rollout -> control maps -> backend -> clip files -> catalog record."""

    def __init__(self, catalog: Catalog, storage: Storage, model_dir: str | None = None) -> None:
        self.catalog = catalog
        self.storage = storage
        self.backends = BackendPool(model_dir)

    @classmethod
    def from_env(cls, root: str | os.PathLike[str] | None = None) -> ClipPipeline:
        """Embedded defaults under ``root`` (default ``$WMGEN_HOME`` or ``./var``), overridable by
        ``WMGEN_CATALOG_URL``, ``WMGEN_STORAGE`` and ``WMGEN_MODEL_DIR``."""
        base = Path(root or os.environ.get("WMGEN_HOME", "var"))
        catalog = Catalog.from_env(base / "catalog.sqlite")
        catalog.create_all()
        storage = Storage.from_env(base / "storage")
        return cls(catalog, storage, model_dir=os.environ.get("WMGEN_MODEL_DIR"))

    # ------------------------------------------------------------------ content addressing
    def token_for(self, req: ClipRequest) -> str:
        """The clip's content address (32 hex): same request, same token, on any machine."""
        backend = self.backends.get(req.backend, req.model_dir)
        prov = backend.provenance()
        key = {
            "spec": req.spec.model_dump(mode="json"),
            "seed": req.seed,
            "backend": req.backend,
            "backend_version": prov.get("version", ""),
            "weights_sha256": prov.get("weights_sha256", ""),
            "size": [req.width_px, req.height_px],
            "fps": req.fps,
            "seconds": req.seconds,
            "prompt": req.prompt,
        }
        return _sha256_json(key)[:32]

    def existing(self, token: str) -> ClipRecord | None:
        """The published record of ``token``, repairing the catalog from storage if needed."""
        try:
            return self.catalog.get_clip(token)
        except CatalogNotFoundError:
            pass
        if self.storage.exists(token):  # published files but no row: a crash between 9a and 9b
            record = ClipRecord.model_validate_json(
                self.storage.local_path(self.storage.uri(token, RECORD)).read_text()
            ).model_copy(update={"files": self.storage.refs(token)})
            self.catalog.add_clip(record)
            return self.catalog.get_clip(token)
        return None

    # ------------------------------------------------------------------------- generation
    def generate(self, req: ClipRequest, progress: Progress | None = None) -> ClipResult:
        """Stages 1-9: the published clip of ``req`` (``finish(prepare(req))`` unless it was
        published already)."""
        report = progress or (lambda _f, _m: None)

        # 1-2. content address; a published clip is returned as it is
        token = self.token_for(req)
        found = self.existing(token)
        if found is not None:
            report(1.0, "already published")
            return ClipResult(token=token, created=False, record=found)
        return self.finish(self.prepare(req, report, token=token), report)

    def prepare(
        self,
        req: ClipRequest,
        progress: Progress | None = None,
        *,
        token: str | None = None,
        prepared_by: str = "",
    ) -> PreparedClip:
        """Stages 1 and 3-5 (CPU only): content address, scene, rollout, control maps.

        ``token``: the content address when the caller knows it already (computing it loads
        the backend for its version and weights hash, which a CPU-only scene worker must
        not); ``prepared_by`` names the worker for the provenance ("" when local)."""
        from generator.render.controls import render_controls
        from generator.world.geometry import build_road
        from generator.world.rollout import rollout
        from scenario_library.sampling import sample_scene

        report = progress or (lambda _f, _m: None)
        token = token if token is not None else self.token_for(req)

        # 3. scene: rolled out over at least the taxonomy's design horizon, so that the corner
        #    case culminates inside it whatever the clip length
        report(0.05, "sampling scene")
        scene = sample_scene(req.spec, req.seed, horizon_s=max(req.seconds, SCENE_HORIZON_S))

        # 4. world: road geometry and the nominal rollout with its checks
        report(0.1, "rolling out")
        road = build_road(scene.road)
        roll = rollout(scene, n_worlds=1, seed=req.seed)
        roll.validate()

        # 5. control maps and labels
        report(0.2, "rendering control maps")
        start_s = clip_window_start(roll, req.seconds)
        controls = render_controls(
            scene, road, roll, req.camera(), seconds=req.seconds, start_s=start_s
        )
        prepared = PreparedClip(
            req=req,
            token=token,
            scene=scene,
            road=road,
            rollout=roll,
            controls=controls,
            prepared_by=prepared_by,
        )
        prepared.validate()
        return prepared

    def finish(self, prepared: PreparedClip, progress: Progress | None = None) -> ClipResult:
        """Stages 6-9: video backend, quality gate, files, publish."""
        from generator.io.openlabel import build_openlabel
        from generator.io.video import FrameSource, write_thumbnail, write_video
        from generator.io.yuv import DepthFrames, PaletteFrames
        from generator.quality import check_quality
        from generator.render.palette import INSTANCE_LUT, SEMANTIC_LUT

        report = progress or (lambda _f, _m: None)
        prepared.validate()
        req, token, scene = prepared.req, prepared.token, prepared.scene
        road, roll, controls = prepared.road, prepared.rollout, prepared.controls

        # 6. video backend
        report(0.35, f"running backend {req.backend}")
        backend = self.backends.get(req.backend, req.model_dir)
        prompt = self._prompt(scene.scenario.tags, req.prompt)
        out = backend(
            BackendRequest(
                scene=scene,
                road=road,
                rollout=roll,
                controls=controls,
                prompt=prompt,
                seed=req.seed,
            )
        )
        out.validate(controls.n_frames, req.height_px, req.width_px)

        # 7. quality gate: geometry/labels for every backend; for neural backends also
        #    temporal stability and agreement with the control layout (not enforced for tiny
        #    random test checkpoints, whose frames are noise by design: recorded, flagged)
        report(0.8, "quality gate")
        quality = check_quality(roll, controls, out.frames)
        backend_prov = {k: str(v) for k, v in backend.provenance().items()}
        if BACKENDS.is_neural(req.backend):
            from generator.backends.neural_quality import check_neural_quality, gate_applies

            neural = check_neural_quality(out.frames, controls)
            enforced = gate_applies(backend_prov)
            quality.metrics.update({f"neural.{k}": v for k, v in neural.metrics.items()})
            quality.metrics["neural.enforced"] = enforced
            if enforced and not neural.passed:
                quality.failures.extend(neural.failures)
                quality = type(quality)(
                    passed=False, failures=quality.failures, metrics=quality.metrics
                )
        if not quality.passed:
            raise QualityGateError(quality.failures)

        # 8. files, in a staging directory that nobody else sees
        report(0.85, "writing files")
        labels = build_openlabel(scene, roll, controls)  # schema-valid by construction (tests)
        provenance = {
            "code_version": code_version(),
            "backend": req.backend,
            **backend_prov,
            "seed": str(req.seed),
            "prompt": prompt,
        }
        if prepared.prepared_by:  # stages 3-5 ran in another worker (serving's scene profile)
            provenance["prepared_by"] = prepared.prepared_by
        with self.storage.staging() as stage:
            # the five videos are encoded side by side (x264 and the YUV conversion run
            # outside the GIL); the id and depth maps go to YUV without an RGB detour
            videos: dict[str, np.ndarray | FrameSource] = {
                VIDEO: out.frames,
                CONTROL_FILES["hdmap"]: controls.hdmap,
                CONTROL_FILES["depth"]: DepthFrames(controls.depth_m),
                CONTROL_FILES["semantic"]: PaletteFrames(controls.semantic, SEMANTIC_LUT),
                CONTROL_FILES["instance"]: PaletteFrames(controls.instance, INSTANCE_LUT),
            }
            with ThreadPoolExecutor(max_workers=ENCODER_THREADS) as pool:
                jobs = [
                    pool.submit(
                        write_video,
                        stage / name,
                        frames,
                        req.fps,
                        qp=X264_QP,
                        preset=X264_PRESET,
                        threads=1,
                    )
                    for name, frames in videos.items()
                ]
                for job in jobs:
                    job.result()
            write_thumbnail(stage / THUMBNAIL, out.frames[len(out.frames) // 2])
            (stage / LABELS).write_text(json.dumps(labels, separators=(",", ":")))
            (stage / SCENE).write_text(
                json.dumps(
                    {
                        "request": req.model_dump(mode="json"),
                        "scene": scene.model_dump(mode="json"),
                    },
                    indent=1,
                )
            )
            record = self._record(token, req, scene, provenance, quality, controls.n_frames, [])
            (stage / RECORD).write_text(record.model_dump_json(indent=1))
            # 9. publish: files first (atomic rename), then the catalog row (one transaction)
            report(0.95, "publishing")
            refs = self.storage.publish(token, stage)
        record = record.model_copy(update={"files": refs})
        created = self.catalog.add_clip(record)
        report(1.0, "published")
        return ClipResult(token=token, created=created, record=self.catalog.get_clip(token))

    @staticmethod
    def _prompt(tags: tuple[str, ...], user_text: str) -> str:
        from generator.backends.prompting import compose_prompt

        return compose_prompt(tags, user_text)

    @staticmethod
    def _record(
        token: str,
        req: ClipRequest,
        scene: Any,
        provenance: dict[str, str],
        quality: Any,
        n_frames: int,
        files: list[Any],
        source_clip_token: str | None = None,
    ) -> ClipRecord:
        sc = scene.scenario
        return ClipRecord(
            token=token,
            class_id=sc.class_id,
            class_name=sc.class_name,
            tags=list(sc.tags),
            params=dict(sc.params),
            seed=req.seed,
            backend=req.backend,
            spec=req.model_dump(mode="json"),
            provenance=provenance,
            files=files,
            quality={
                "passed": bool(quality.passed),
                "failures": list(quality.failures),
                **{k: jsonable(v) for k, v in quality.metrics.items()},
            },
            width_px=req.width_px,
            height_px=req.height_px,
            fps=req.fps,
            n_frames=n_frames,
            source_clip_token=source_clip_token,
            created_at=datetime.now(UTC),
        )

    # ----------------------------------------------------------------------- augmentation
    def augment(
        self,
        source: Path,
        effects: list[str],
        seed: int = 0,
        labels: Path | None = None,
        source_clip_token: str | None = None,
        progress: Progress | None = None,
        neural: NeuralEffects | None = None,
        model_dir: str | None = None,
    ) -> ClipResult:
        """Corner-case augmentation of a real (or catalogued) clip, catalogued with its source
        as provenance: the ``neural`` effects first (hazard insertion, then restyling, with
        the models of ``model_dir``, default the pipeline's), then the classical ``effects``.

        The token hashes the source bytes, effects, seed and whether labels were given; with
        neural effects also their settings and the models' versions and weights hashes."""
        from generator.augment import augment_clip, check_effects
        from generator.augment.neural import NeuralModels
        from generator.io.openlabel import load_openlabel
        from generator.io.video import read_video

        report = progress or (lambda _f, _m: None)
        models = None
        if neural is not None and neural.any:
            models = NeuralModels.load(neural, model_dir or self.backends.model_dir, self.backends)
        # classical effects are optional only next to a neural one
        effects = check_effects(effects) if effects or models is None else []
        src_sha = hashlib.sha256(Path(source).read_bytes()).hexdigest()
        labels_doc = load_openlabel(Path(labels)) if labels is not None else None
        key: dict[str, Any] = {
            "augment": src_sha,
            "effects": list(effects),
            "seed": seed,
            "labels": labels_doc is not None,
        }
        if models is not None:
            key.update(models.token_fields())
        token = _sha256_json(key)[:32]
        found = self.existing(token)
        if found is not None:
            return ClipResult(token=token, created=False, record=found)

        report(0.05, "decoding source")
        frames, fps = read_video(Path(source))
        if models is not None:
            frames, labels_doc = models.apply(frames, fps, labels_doc, seed, report)
        out_frames, out_fps, out_labels = frames, fps, labels_doc
        if effects:
            report(0.75, "classical effects")
            out_frames, out_fps, out_labels = augment_clip(frames, fps, labels_doc, effects, seed)

        tags = ["augmented", *(f"effect:{e}" for e in effects)]
        backend = "augment-classical"
        spec: dict[str, Any] = {
            "source_sha256": src_sha,
            "effects": list(effects),
            "seed": seed,
            "source_clip_token": source_clip_token,
        }
        provenance = {
            "code_version": code_version(),
            "backend": backend,
            "source_sha256": src_sha,
            "effects": ",".join(effects),
            "seed": str(seed),
        }
        if models is not None:
            backend = provenance["backend"] = models.backend_name
            tags += models.tags()
            spec["neural"] = models.effects.model_dump(mode="json")
            provenance.update(models.provenance_fields())
        report(0.85, "writing files")
        return self._publish_augmented(
            token,
            out_frames,
            out_fps,
            out_labels,
            tags=tags,
            seed=seed,
            backend=backend,
            spec={"augment": spec},
            provenance=provenance,
            source_clip_token=source_clip_token,
            progress=report,
        )

    def _publish_augmented(
        self,
        token: str,
        frames: np.ndarray,
        fps: float,
        labels: dict[str, Any] | None,
        *,
        tags: list[str],
        seed: int,
        backend: str,
        spec: dict[str, Any],
        provenance: dict[str, str],
        source_clip_token: str | None,
        progress: Progress,
    ) -> ClipResult:
        """Write an augmented clip's video, thumbnail, labels and record, publish, catalogue."""
        from generator.io.video import write_thumbnail, write_video

        class_id: int | None = None
        class_name, params = "augmented_real_clip", dict[str, float]()
        if labels is not None:
            class_id, class_name, extra_tags, params = scenario_from_labels(labels)
            tags = tags + extra_tags
        with self.storage.staging() as stage:
            write_video(stage / VIDEO, frames, fps)
            write_thumbnail(stage / THUMBNAIL, frames[len(frames) // 2])
            if labels is not None:
                (stage / LABELS).write_text(json.dumps(labels, separators=(",", ":")))
            h, w = frames.shape[1:3]
            record = ClipRecord(
                token=token,
                class_id=class_id,
                class_name=class_name,
                tags=sorted(set(tags)),
                params=params,
                seed=seed,
                backend=backend,
                spec=spec,
                provenance=provenance,
                files=[],
                quality={"passed": True, "failures": []},
                width_px=int(w),
                height_px=int(h),
                fps=float(fps),
                n_frames=len(frames),
                source_clip_token=source_clip_token,
                created_at=datetime.now(UTC),
            )
            (stage / RECORD).write_text(record.model_dump_json(indent=1))
            refs = self.storage.publish(token, stage)
        record = record.model_copy(update={"files": refs})
        created = self.catalog.add_clip(record)
        progress(1.0, "published")
        return ClipResult(token=token, created=created, record=self.catalog.get_clip(token))


def scenario_from_labels(
    doc: dict[str, Any],
) -> tuple[int | None, str, list[str], dict[str, float]]:
    """Class id, name, tags and params recorded in an OpenLABEL document by build_openlabel."""
    from generator.io.openlabel import scenario_of

    info = scenario_of(doc)
    class_id = info["class_id"] if info["class_id"] >= 0 else None  # -1: labels of a real clip
    return class_id, info["class_name"], list(info["tags"]), dict(info["params"])


def culmination_time_s(roll: RolloutBatch) -> float:
    """When the corner case of world 0 culminates [s]: the first collision if any, else the
    closest approach (gap between bounding circles) of the ego to a hazard actor."""
    step = int(roll.checks.first_collision_step[0])
    if step >= 0:
        return step * roll.dt_s
    hazard = np.flatnonzero(roll.role_codes == AGENT_ROLE_CODES[AgentRole.HAZARD])
    if hazard.size == 0:
        return 0.0
    dx = roll.x_m[0, hazard] - roll.x_m[0, 0]
    dy = roll.y_m[0, hazard] - roll.y_m[0, 0]
    radii = 0.5 * np.hypot(roll.dims_m[hazard, 0], roll.dims_m[hazard, 1])[:, None]
    gap = np.hypot(dx, dy) - radii  # [H, T]
    return float(np.argmin(gap.min(axis=0))) * roll.dt_s


def clip_window_start(roll: RolloutBatch, seconds: float) -> float:
    """Start of a ``seconds`` long clip inside the rollout: from t=0 when the culmination fits,
    else ending ``AFTER_CULMINATION_S`` after it (never past the horizon)."""
    horizon = (roll.n_steps - 1) * roll.dt_s
    latest = max(0.0, horizon - seconds)
    start = culmination_time_s(roll) + AFTER_CULMINATION_S - seconds
    return round(min(max(start, 0.0), latest), 6)


def jsonable(v: Any) -> Any:
    """``v`` with numpy scalars as Python ones and unknown objects as strings (JSON-ready)."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float | int | str | bool) or v is None:
        return v
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    return str(v)


def check_request_for_backend(req: ClipRequest) -> None:
    """Cheap early validation shared by CLI and HTTP (the backend may reject more later)."""
    if req.n_frames < 2:
        raise BackendRequestError(
            f"seconds={req.seconds}: gives {req.n_frames} frames at "
            f"fps={req.fps}; a clip needs at least 2 frames"
        )
