"""Quality measures for neural clips that need no extra model weights (numpy only).

Two families of checks, both cheap (a few ms per frame at 1280x704):

Temporal stability (:func:`temporal_stability`), on luminance in [0, 1]:
  * ``mean_change``: mean absolute frame-to-frame difference. Dashcam video at 10-30 fps
    changes by about 0.01-0.08 per frame; noise or a "boiling" model output is > 0.15.
  * ``max_change``: the largest single frame-to-frame change; > 0.40 is a cut or a collapse.
  * ``flicker``: mean |L_t - (L_{t-1} + L_{t+1}) / 2| of the per-frame *mean* brightness:
    global brightness oscillation that motion cannot explain (> 0.04 fails).
  * ``frozen``: the frames do not move (mean change < 0.001) while the control video does
    (> 0.005): a "static frame" failure, common when guidance collapses.

Control-layout agreement (:func:`layout_agreement`), generated frames vs the control maps:
  * ``structure_edge_ratio`` (gated, >= 1.5): mean gradient of the frames on the layout's
    structure edges (semantic-class and instance boundaries, HD-map lines and box edges,
    dilated 1 px) / mean gradient elsewhere. Frames that follow the layout put their edges
    there; content unrelated to the layout gives ~1.0.
  * ``box_edge_ratio`` (gated, >= 1.3): edge density inside the labelled 2D boxes / outside.
    Objects carry more structure than road or sky; a low ratio means the objects are not
    where the labels say. Skipped (NaN) when no box is visible.
  * ``edge_correlation`` (recorded, not gated): Pearson correlation of 2x2-blurred gradient
    magnitudes of frames and layout control video; informative but scene dependent.

Calibration (measured, 128x80, 2 s clips of 13 classes spread over the taxonomy): the
built-in sketch renderer gives structure_edge_ratio 2.7-29.9 and box_edge_ratio 1.6-8.3;
tiny random-weight models give 0.99-1.01 and 0.73-1.18; the sketch frames shifted by
(25, 15) px give box_edge_ratio 0.06-2.5 (most < 1). Temporal: sketch clips have
mean_change 0.005-0.026, max_change <= 0.06, flicker <= 0.004.

For clips made with tiny random checkpoints, :func:`gate_applies` says to record the
metrics without rejecting (random weights cannot follow a layout).

The thresholds are heuristics (documented defaults in :class:`NeuralQualityThresholds`),
set so that the built-in renderer's clips pass and noise / shuffled / frozen clips fail.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from generator.backends.conditioning import dilate_mask, layout_control_video
from generator.render.types import ControlMaps


@dataclass(frozen=True)
class NeuralQualityThresholds:
    max_mean_change: float = 0.15
    max_frame_change: float = 0.40
    max_flicker: float = 0.04
    frozen_change: float = 0.001
    frozen_control_change: float = 0.005
    min_structure_edge_ratio: float = 1.5
    min_box_edge_ratio: float = 1.3


@dataclass(frozen=True)
class NeuralQualityReport:
    passed: bool
    failures: tuple[str, ...]
    metrics: dict[str, float] = field(default_factory=dict)

    def validate(self) -> None:
        if self.passed == bool(self.failures):
            raise AssertionError("passed must be True exactly when there are no failures")


def luminance(frames: np.ndarray) -> np.ndarray:
    """[T, H, W, 3] uint8 -> [T, H, W] float32 luma (BT.601) in [0, 1]."""
    f = frames.astype(np.float32) / 255.0
    return f[..., 0] * 0.299 + f[..., 1] * 0.587 + f[..., 2] * 0.114


def temporal_stability(frames: np.ndarray) -> dict[str, float]:
    lum = luminance(frames)
    if lum.shape[0] < 2:
        return {"mean_change": 0.0, "max_change": 0.0, "flicker": 0.0}
    change = np.abs(np.diff(lum, axis=0)).mean(axis=(1, 2))
    means = lum.mean(axis=(1, 2))
    flicker = (
        float(np.abs(means[1:-1] - (means[:-2] + means[2:]) / 2).mean()) if len(means) > 2 else 0.0
    )
    return {
        "mean_change": float(change.mean()),
        "max_change": float(change.max()),
        "flicker": flicker,
    }


def _edges(lum: np.ndarray) -> np.ndarray:
    """Gradient magnitude of [T, H, W] after a 2x2 block average -> [T, H/2-1, W/2-1]."""
    t, h, w = lum.shape
    h2, w2 = h // 2 * 2, w // 2 * 2
    small = lum[:, :h2, :w2].reshape(t, h2 // 2, 2, w2 // 2, 2).mean(axis=(2, 4))
    gx = np.diff(small, axis=2)[:, :-1, :]
    gy = np.diff(small, axis=1)[:, :, :-1]
    return np.sqrt(gx * gx + gy * gy)


def structure_edges(controls: ControlMaps, dilate_px: int = 1) -> np.ndarray:
    """[T, H, W] bool: where the layout says an edge must be: semantic-class boundaries,
    instance boundaries and drawn HD-map lines / box edges, dilated by ``dilate_px``."""
    sem, inst = controls.semantic, controls.instance
    edge = np.zeros(sem.shape, dtype=bool)
    for m in (sem, inst):
        edge[:, :, :-1] |= m[:, :, :-1] != m[:, :, 1:]
        edge[:, :-1, :] |= m[:, :-1, :] != m[:, 1:, :]
    edge |= (controls.hdmap > 0).any(axis=-1)
    return dilate_mask(edge, dilate_px)


def _grad(lum: np.ndarray) -> np.ndarray:
    """|d/dx| + |d/dy| of [T, H, W], same shape (last row / column repeated)."""
    g = np.zeros_like(lum)
    g[:, :, :-1] += np.abs(np.diff(lum, axis=2))
    g[:, :-1, :] += np.abs(np.diff(lum, axis=1))
    return g


def layout_agreement(frames: np.ndarray, controls: ControlMaps) -> dict[str, float]:
    lum = luminance(frames)
    # 1. correlation of blurred gradient magnitudes with the layout control video (recorded)
    ef = _edges(lum)
    ec = _edges(luminance(layout_control_video(controls)))
    corrs = []
    for a, b in zip(ef, ec, strict=True):
        a0, b0 = a - a.mean(), b - b.mean()
        den = math.sqrt(float((a0 * a0).sum()) * float((b0 * b0).sum()))
        corrs.append(float((a0 * b0).sum()) / den if den > 0 else 0.0)
    # 2. edge strength on the layout's structure edges vs elsewhere (gated)
    e = _grad(lum)
    struct = structure_edges(controls)
    structure_ratio = float("nan")
    if struct.any() and (~struct).any():
        off = float(e[~struct].mean())
        structure_ratio = float(e[struct].mean()) / off if off > 0 else float("inf")
    # 3. edge density inside the labelled 2D boxes vs outside (gated)
    inside = np.zeros(e.shape, dtype=bool)
    for fl in controls.labels:
        for ob in fl.objects:
            if ob.bbox_xyxy is None:
                continue
            x0, y0, x1, y1 = (round(v) for v in ob.bbox_xyxy)
            inside[fl.frame_index, max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = True
    ratio = float("nan")
    if inside.any() and (~inside).any():
        out_mean = float(e[~inside].mean())
        ratio = float(e[inside].mean()) / out_mean if out_mean > 0 else float("inf")
    return {
        "edge_correlation": float(np.mean(corrs)),
        "structure_edge_ratio": structure_ratio,
        "box_edge_ratio": ratio,
    }


def check_neural_quality(
    frames: np.ndarray,
    controls: ControlMaps,
    thresholds: NeuralQualityThresholds | None = None,
) -> NeuralQualityReport:
    """All measures + pass/fail; ``failures`` name the metric, its value and the threshold."""
    th = thresholds or NeuralQualityThresholds()
    metrics = temporal_stability(frames)
    metrics.update(layout_agreement(frames, controls))
    control_change = temporal_stability(controls.hdmap)["mean_change"]
    metrics["control_mean_change"] = control_change
    failures: list[str] = []

    def over(name: str, limit: float) -> None:
        if metrics[name] > limit:
            failures.append(f"{name}={metrics[name]:.4f} > {limit}")

    def under(name: str, limit: float) -> None:
        v = metrics[name]
        if not math.isnan(v) and v < limit:
            failures.append(f"{name}={v:.4f} < {limit}")

    over("mean_change", th.max_mean_change)
    over("max_change", th.max_frame_change)
    over("flicker", th.max_flicker)
    if metrics["mean_change"] < th.frozen_change and control_change > th.frozen_control_change:
        failures.append(
            f"frozen: mean_change={metrics['mean_change']:.5f} < {th.frozen_change} while the "
            f"control video changes by {control_change:.4f}"
        )
    under("structure_edge_ratio", th.min_structure_edge_ratio)
    under("box_edge_ratio", th.min_box_edge_ratio)
    report = NeuralQualityReport(not failures, tuple(failures), metrics)
    report.validate()
    return report


def gate_applies(provenance: dict[str, str]) -> bool:
    """Whether a clip's neural quality result should *reject* it. Tiny random checkpoints
    (``provenance["tiny_checkpoint"] == "true"``) produce noise by design: record their
    metrics, do not enforce them, or no end-to-end test with tiny weights could pass."""
    return provenance.get("tiny_checkpoint", "false") != "true"


def thresholds_dict() -> dict[str, float]:
    """The default thresholds, for documentation and provenance."""
    return asdict(NeuralQualityThresholds())
