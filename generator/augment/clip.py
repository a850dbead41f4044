"""Apply a list of effects to a clip and keep its OpenLABEL labels valid.

* Effects run in the given order. Each effect draws from its own generator seeded by
  ``(seed, effect name)``, so one effect's look does not depend on which others run.
* Pixel effects leave the labels untouched (the geometry does not move); only the metadata
  records them.
* Temporal effects remap frames: dropped frames lose their labels and the rest are renumbered
  0..T'-1; frozen frames repeat the frozen frame's labels. Each output frame's
  ``frame_properties.source_frame`` names the input frame it shows.
* The augmentation (effects, seed, output frame -> input frame map) is appended to
  ``metadata.augmentations`` of the labels.
* The frame rate is unchanged (dropped frames appear as jumps, as from a real camera).
"""

from __future__ import annotations

import copy
import zlib
from typing import Any

import numpy as np

from generator.augment.effects import EFFECTS
from generator.errors import AugmentError

#: Frames are processed in chunks of this many to bound float32 memory.
_CHUNK_FRAMES = 8


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def check_effects(effects: list[str]) -> list[str]:
    """Validated effect names (comma string or list); AugmentError names a bad one."""
    if isinstance(effects, str):
        effects = [e.strip() for e in effects.split(",") if e.strip()]
    effects = list(effects)
    if not effects:
        raise AugmentError(f"effects: give at least one of {', '.join(EFFECTS.names())}")
    for name in effects:
        EFFECTS.get(name)  # raises AugmentError naming the effect and the valid ones
    dup = sorted({e for e in effects if effects.count(e) > 1})
    if dup:
        raise AugmentError(f"effects: {', '.join(dup)} given more than once")
    return effects


def _check_frames(frames: np.ndarray) -> None:
    if (
        not isinstance(frames, np.ndarray)
        or frames.dtype != np.uint8
        or frames.ndim != 4
        or frames.shape[-1] != 3
        or frames.shape[0] < 1
    ):
        raise AugmentError(
            f"frames: expected uint8 [T>=1, H, W, 3], got "
            f"{getattr(frames, 'dtype', None)} {getattr(frames, 'shape', None)}"
        )


def _apply_pixel(frames: np.ndarray, name: str, seed: int) -> np.ndarray:
    t, h, w, _ = frames.shape
    apply = EFFECTS.get(name).setup((t, h, w), _rng(seed, name))  # type: ignore[misc]
    out = np.empty_like(frames)
    for start in range(0, t, _CHUNK_FRAMES):
        for i in range(start, min(t, start + _CHUNK_FRAMES)):
            f = frames[i].astype(np.float32) * np.float32(1 / 255)
            g = apply(f, i)
            out[i] = np.clip(g * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


def _intervals(frames: list[int]) -> list[dict[str, int]]:
    """Closed runs of consecutive frame numbers."""
    out: list[dict[str, int]] = []
    for f in sorted(frames):
        if out and out[-1]["frame_end"] == f - 1:
            out[-1]["frame_end"] = f
        else:
            out.append({"frame_start": f, "frame_end": f})
    return out


def remap_labels(doc: dict[str, Any], index: np.ndarray) -> dict[str, Any]:
    """A copy of an OpenLABEL document whose frame i is the input frame ``index[i]``."""
    out = copy.deepcopy(doc)
    root = out["openlabel"]
    old = root.get("frames", {})
    new_frames: dict[str, Any] = {}
    present: dict[str, list[int]] = {}
    for i, src in enumerate(index.tolist()):
        fr = copy.deepcopy(old.get(str(src), {}))
        fr.setdefault("frame_properties", {})["source_frame"] = int(src)
        new_frames[str(i)] = fr
        for uid in fr.get("objects", {}):
            present.setdefault(uid, []).append(i)
    root["frames"] = new_frames
    n = len(index)
    root["frame_intervals"] = [{"frame_start": 0, "frame_end": n - 1}]
    for uid, obj in root.get("objects", {}).items():
        if "frame_intervals" in obj:
            obj["frame_intervals"] = _intervals(present.get(uid, []))
    for ctx in root.get("contexts", {}).values():
        if "frame_intervals" in ctx:
            ctx["frame_intervals"] = [{"frame_start": 0, "frame_end": n - 1}]
    meta_w = root["metadata"].get("wmgen")
    if isinstance(meta_w, dict) and "n_frames" in meta_w:
        meta_w["n_frames"] = n
    return out


def augment_clip(
    frames: np.ndarray,
    fps: float,
    labels_doc: dict[str, Any] | None,
    effects: list[str],
    seed: int,
) -> tuple[np.ndarray, float, dict[str, Any] | None]:
    """Apply ``effects`` (names of ``EFFECTS``, in order) to ``frames`` [T, H, W, 3] uint8.

    Returns ``(frames, fps, labels_doc)``; ``labels_doc`` is None when none was given. Raises
    ``AugmentError`` for unknown / repeated effect names, bad frames, or labels whose frame
    count differs from the video's.
    """
    names = check_effects(effects)
    _check_frames(frames)
    if not np.isfinite(fps) or fps <= 0:
        raise AugmentError(f"fps: must be positive, got {fps!r}")
    if labels_doc is not None:
        from generator.io.openlabel import frame_count, openlabel_errors

        errors = openlabel_errors(labels_doc)
        if errors:
            raise AugmentError("labels: not valid OpenLABEL 1.0: " + "; ".join(errors[:5]))
        n_labels = frame_count(labels_doc)
        if n_labels != frames.shape[0]:
            raise AugmentError(
                f"labels: {n_labels} labelled frames but the video has {frames.shape[0]}"
            )
    index = np.arange(frames.shape[0])
    out = frames
    for name in names:
        eff = EFFECTS.get(name)
        if eff.kind == "temporal":
            sel = np.asarray(eff.plan(out.shape[0], _rng(seed, name)), dtype=np.int64)  # type: ignore[misc]
            if sel.ndim != 1 or sel.size == 0 or sel.min() < 0 or sel.max() >= out.shape[0]:
                raise AugmentError(f"effect {name!r} produced an invalid frame plan")
            out = out[sel]
            index = index[sel]
        else:
            out = _apply_pixel(out, name, seed)
    new_doc = None
    if labels_doc is not None:
        from generator.io.openlabel import validate_openlabel

        retimed = any(EFFECTS.get(n).kind == "temporal" for n in names)
        new_doc = remap_labels(labels_doc, index) if retimed else copy.deepcopy(labels_doc)
        new_doc["openlabel"]["metadata"].setdefault("augmentations", []).append(
            {
                "effects": names,
                "seed": int(seed),
                "fps": float(fps),
                "n_frames_in": int(frames.shape[0]),
                "n_frames_out": int(out.shape[0]),
                "source_frames": [int(i) for i in index],
            }
        )
        validate_openlabel(new_doc)
    return out, float(fps), new_doc
