"""Quality gate run on every clip before it is published.

A clip passes when:

* its rollout is sound: finite, no physics violation, no vehicle off the drivable area;
* its RGB frames are not blank (each frame's pixel standard deviation is above a floor) and
  not all identical;
* every object labelled visible (``visible_fraction > 0`` with a 2D box) covers pixels of its
  instance id in the instance mask (labels agree with the pixels);
* the video, every control map, the per-frame labels (and, when given, the OpenLABEL document
  and the encoded files) have the same frame count.

``check_quality`` never raises on a bad clip: it returns a ``QualityReport`` whose ``failures``
are readable sentences; ``QualityReport.raise_if_failed()`` turns them into ``QualityGateError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from generator.errors import GeneratorError, QualityGateError
from generator.render.types import ControlMaps
from generator.world.types import RolloutBatch

#: Default floor of the per-frame pixel standard deviation (0-255 scale) below which a frame
#: counts as blank. A flat grey frame has 0; H.264 noise on a flat frame stays below 1.
MIN_FRAME_STD = 2.0
#: At most this many examples are listed per failure kind.
_MAX_EXAMPLES = 5


@dataclass(frozen=True)
class QualityReport:
    passed: bool
    failures: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        if self.passed != (not self.failures):
            raise QualityGateError(["report inconsistent: passed must equal 'no failures'"])

    def raise_if_failed(self) -> None:
        """Raise ``QualityGateError`` listing the failures if the clip did not pass."""
        if not self.passed:
            raise QualityGateError(self.failures)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, e.g. for the catalog's ``quality`` column."""
        return {
            "passed": self.passed,
            "failures": list(self.failures),
            "metrics": dict(self.metrics),
        }


@njit(cache=True, nogil=True)
def _frame_std(flat: np.ndarray) -> np.ndarray:  # pragma: no cover - numba
    """Per-frame pixel standard deviation of ``[T, N]`` uint8, exact integer sums."""
    out = np.empty(flat.shape[0], dtype=np.float64)
    n = flat.shape[1]
    for t in range(flat.shape[0]):
        s = np.int64(0)
        s2 = np.int64(0)
        for i in range(n):
            v = np.int64(flat[t, i])
            s += v
            s2 += v * v
        mean = s / n
        out[t] = np.sqrt(max(s2 / n - mean * mean, 0.0))
    return out


@njit(cache=True, nogil=True)
def _instance_counts(instance: np.ndarray, n_ids: int) -> np.ndarray:  # pragma: no cover
    """Pixels per instance id per frame: ``[T, H, W]`` ids -> ``[T, n_ids]`` (ids >= n_ids
    are not counted)."""
    t_n = instance.shape[0]
    out = np.zeros((t_n, n_ids), dtype=np.int64)
    for t in range(t_n):
        frame = instance[t]
        for r in range(frame.shape[0]):
            for c in range(frame.shape[1]):
                k = frame[r, c]
                if k < n_ids:
                    out[t, k] += 1
    return out


def _examples(items: list[str]) -> str:
    more = len(items) - _MAX_EXAMPLES
    return ", ".join(items[:_MAX_EXAMPLES]) + (f" (+{more} more)" if more > 0 else "")


def _check_rollout(rollout: RolloutBatch, failures: list[str], metrics: dict[str, Any]) -> None:
    try:
        rollout.validate()
    except GeneratorError as exc:
        failures.append(f"rollout invalid: {exc}")
        return
    c = rollout.checks
    summary = c.summary(0)
    metrics.update({f"rollout_{k}": v for k, v in summary.items()})
    phys = [rollout.agent_ids[a] for a in np.flatnonzero(c.physics_violation[0])]
    if phys:
        notes = f" ({'; '.join(c.notes[:3])})" if c.notes else ""
        failures.append(f"rollout: physics violation by agents {_examples(phys)}{notes}")
    off = [rollout.agent_ids[a] for a in np.flatnonzero(c.offroad[0])]
    if off:
        failures.append(f"rollout: vehicles left the drivable area: {_examples(off)}")


def _check_frames(
    frames: np.ndarray,
    controls: ControlMaps,
    min_frame_std: float,
    failures: list[str],
    metrics: dict[str, Any],
) -> bool:
    cam = controls.camera
    want = (cam.height_px, cam.width_px, 3)
    if (
        not isinstance(frames, np.ndarray)
        or frames.ndim != 4
        or frames.shape[1:] != want
        or frames.dtype != np.uint8
    ):
        failures.append(
            f"frames: expected uint8 [T, {want[0]}, {want[1]}, 3], got "
            f"{getattr(frames, 'dtype', None)} {getattr(frames, 'shape', None)}"
        )
        return False
    if frames.shape[0] == 0:
        failures.append("frames: the video has no frame")
        return False
    flat = np.ascontiguousarray(frames).reshape(frames.shape[0], -1)
    std = _frame_std(flat)
    metrics["min_frame_std"] = round(float(std.min()), 3)
    metrics["mean_frame_std"] = round(float(std.mean()), 3)
    blank = [str(i) for i in np.flatnonzero(std < min_frame_std)]
    if blank:
        failures.append(
            f"frames: {len(blank)} blank frame(s) (pixel std < {min_frame_std}): "
            f"indices {_examples(blank)}"
        )
    if frames.shape[0] > 1 and all(np.array_equal(flat[0], f) for f in flat[1:]):
        failures.append(f"frames: all {frames.shape[0]} frames are identical")
    return True


def _check_counts(
    n_video: int | None,
    controls: ControlMaps,
    labels_doc: dict | None,
    encoded_counts: dict[str, int] | None,
    failures: list[str],
    metrics: dict[str, Any],
) -> None:
    counts: dict[str, int] = {
        "controls.t_s": int(controls.t_s.shape[0]),
        "hdmap": int(controls.hdmap.shape[0]),
        "depth": int(controls.depth_m.shape[0]),
        "semantic": int(controls.semantic.shape[0]),
        "instance": int(controls.instance.shape[0]),
        "labels": len(controls.labels),
    }
    if n_video is not None:
        counts["video"] = n_video
    if labels_doc is not None:
        from generator.io.openlabel import frame_count

        try:
            counts["openlabel.frame_intervals"] = frame_count(labels_doc)
            counts["openlabel.frames"] = len(labels_doc["openlabel"].get("frames", {}))
        except (KeyError, TypeError, ValueError) as exc:
            failures.append(f"labels document unreadable: {exc!r}")
    for name, n in (encoded_counts or {}).items():
        counts[f"file:{name}"] = int(n)
    metrics["frame_counts"] = counts
    ref = counts.get("video", counts["hdmap"])
    metrics["n_frames"] = ref
    bad = [f"{k}={v}" for k, v in counts.items() if v != ref]
    if bad:
        failures.append(f"frame counts differ from the video's {ref}: {_examples(bad)}")


def _check_visible_pixels(
    controls: ControlMaps, failures: list[str], metrics: dict[str, Any]
) -> None:
    n_visible = 0
    missing: list[str] = []
    mismatched = 0
    n = min(len(controls.labels), int(controls.instance.shape[0]))
    n_ids = 1 + max((o.instance_id for fl in controls.labels[:n] for o in fl.objects), default=0)
    instance = np.ascontiguousarray(controls.instance[:n])
    all_counts = _instance_counts(instance, n_ids) if n else np.zeros((0, n_ids), np.int64)
    for f in range(n):
        fl = controls.labels[f]
        if not fl.objects:
            continue
        counts = all_counts[f]
        for o in fl.objects:
            got = int(counts[o.instance_id]) if 0 < o.instance_id < counts.shape[0] else 0
            if got != int(o.pixel_count):
                mismatched += 1
            if o.visible_fraction > 0 and o.bbox_xyxy is not None:
                n_visible += 1
                if got == 0:
                    missing.append(
                        f"frame {f} {o.agent_id} (instance {o.instance_id}, "
                        f"visible_fraction {o.visible_fraction:.2f})"
                    )
    metrics["visible_labels"] = n_visible
    metrics["visible_labels_without_pixels"] = len(missing)
    metrics["pixel_count_mismatches"] = mismatched
    if missing:
        failures.append(
            f"labels: {len(missing)} object(s) marked visible cover no pixel in the "
            f"instance mask: {_examples(missing)}"
        )


def check_quality(
    rollout: RolloutBatch,
    controls: ControlMaps,
    frames: np.ndarray,
    *,
    labels_doc: dict[str, Any] | None = None,
    encoded_counts: dict[str, int] | None = None,
    min_frame_std: float = MIN_FRAME_STD,
) -> QualityReport:
    """Run the gate on one clip (world 0 of ``rollout``); see the module docstring.

    ``labels_doc``: the clip's OpenLABEL document (its frame count is compared);
    ``encoded_counts``: frame counts of encoded files by name (e.g. from ``probe_video``).
    """
    failures: list[str] = []
    metrics: dict[str, Any] = {}
    _check_rollout(rollout, failures, metrics)
    try:
        controls.validate()
    except GeneratorError as exc:
        failures.append(f"control maps invalid: {exc}")
    frames_ok = _check_frames(frames, controls, min_frame_std, failures, metrics)
    _check_counts(
        int(frames.shape[0]) if frames_ok else None,
        controls,
        labels_doc,
        encoded_counts,
        failures,
        metrics,
    )
    _check_visible_pixels(controls, failures, metrics)
    report = QualityReport(passed=not failures, failures=failures, metrics=metrics)
    report.validate()
    return report
