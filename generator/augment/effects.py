"""Classical corner-case effects applied to real clips (numpy, vectorised per frame).

Two kinds of effect:

* **pixel** effects change how frames look and keep their number: ``setup(shape, rng)`` is
  called once per clip with ``shape = (T, H, W)`` and returns ``apply(frame, t) -> frame`` working
  on float32 RGB in [0, 1] (``frame`` [H, W, 3], ``t`` the frame index). Static parts (dirt
  blotches, sun position) are drawn once in ``setup``; per-frame parts (rain streaks, flakes,
  noise) come from the same generator in frame order, so a seed gives one result.
* **temporal** effects change which frames exist: ``plan(n_frames, rng) -> index`` returns, for
  each output frame, the input frame it shows (dropped frames are missing, frozen frames repeat).

``EFFECTS`` is an explicit registry; registering a name twice raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from generator.errors import AugmentError

FrameFn = Callable[[np.ndarray, int], np.ndarray]
PixelSetup = Callable[[tuple[int, int, int], np.random.Generator], FrameFn]
TemporalPlan = Callable[[int, np.random.Generator], np.ndarray]

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class Effect:
    name: str
    kind: Literal["pixel", "temporal"]
    description: str
    setup: PixelSetup | None = None
    plan: TemporalPlan | None = None

    def validate(self) -> None:
        if self.kind == "pixel" and self.setup is None:
            raise AugmentError(f"effect {self.name!r}: a pixel effect needs setup")
        if self.kind == "temporal" and self.plan is None:
            raise AugmentError(f"effect {self.name!r}: a temporal effect needs plan")


class EffectRegistry:
    """Name -> Effect, in registration order; duplicates rejected."""

    def __init__(self) -> None:
        self._effects: dict[str, Effect] = {}

    def register(self, effect: Effect) -> Effect:
        effect.validate()
        if effect.name in self._effects:
            raise AugmentError(f"effect {effect.name!r} is already registered")
        self._effects[effect.name] = effect
        return effect

    def get(self, name: str) -> Effect:
        try:
            return self._effects[name]
        except KeyError:
            raise AugmentError(
                f"unknown effect {name!r}; valid effects: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return list(self._effects)

    def __contains__(self, name: object) -> bool:
        return name in self._effects

    def __len__(self) -> int:
        return len(self._effects)


# ----------------------------------------------------------------------------- helpers
def _luma(img: np.ndarray) -> np.ndarray:
    return img @ _LUMA


def _box_blur_1d(img: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """Mean over a window of 2*radius+1 along ``axis`` (edge-clamped), by cumulative sums."""
    if radius <= 0:
        return img
    n = img.shape[axis]
    pad = [(0, 0)] * img.ndim
    pad[axis] = (radius + 1, radius)
    c = np.cumsum(np.pad(img, pad, mode="edge"), axis=axis, dtype=np.float32)
    hi = np.take(c, np.arange(2 * radius + 1, 2 * radius + 1 + n), axis=axis)
    lo = np.take(c, np.arange(0, n), axis=axis)
    return (hi - lo) / np.float32(2 * radius + 1)


def _blur(img: np.ndarray, radius: int) -> np.ndarray:
    return _box_blur_1d(_box_blur_1d(img, radius, 0), radius, 1)


def _smooth_noise(h: int, w: int, cell_px: int, rng: np.random.Generator) -> np.ndarray:
    """Low-frequency noise in [0, 1], [H, W]: a coarse random grid bilinearly upsampled."""
    gh, gw = max(2, h // cell_px + 2), max(2, w // cell_px + 2)
    grid = rng.random((gh, gw), dtype=np.float32)
    ys = np.linspace(0, gh - 1.001, h, dtype=np.float32)
    xs = np.linspace(0, gw - 1.001, w, dtype=np.float32)
    y0, x0 = ys.astype(int), xs.astype(int)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    a = grid[y0][:, x0]
    b = grid[y0][:, x0 + 1]
    c = grid[y0 + 1][:, x0]
    d = grid[y0 + 1][:, x0 + 1]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy


def _streaks(
    h: int, w: int, density: float, length_px: int, slant: float, rng: np.random.Generator
) -> np.ndarray:
    """[H, W] float32 streak layer: random drops smeared along a slanted line."""
    drops = (rng.random((h, w), dtype=np.float32) < density).astype(np.float32)
    drops *= rng.uniform(0.5, 1.0, size=(h, w)).astype(np.float32)
    out = np.zeros_like(drops)
    for k in range(length_px):
        dy, dx = k, round(k * slant)  # out[y + dy, x + dx] += drops[y, x]
        if dy >= h or abs(dx) >= w:
            break
        out[dy:, max(dx, 0) : w + min(dx, 0)] += drops[: h - dy, max(-dx, 0) : w - max(dx, 0)]
    return np.minimum(out / max(1.0, length_px * 0.35), 1.0)


# ----------------------------------------------------------------------------- pixel effects
def _rain(shape: tuple[int, int, int], rng: np.random.Generator) -> FrameFn:
    _, h, w = shape
    density = float(rng.uniform(0.0015, 0.003))
    length = max(4, round(h * rng.uniform(0.03, 0.06)))
    slant = float(rng.uniform(-0.25, 0.25))
    dim = float(rng.uniform(0.75, 0.85))
    grey = np.array([0.55, 0.57, 0.6], dtype=np.float32)

    def apply(f: np.ndarray, t: int) -> np.ndarray:
        f = f * dim * 0.8 + grey * 0.2 * dim  # overcast: darker, flatter colours
        s = _streaks(h, w, density, length, slant, rng)[..., None]
        return f * (1 - 0.55 * s) + 0.85 * 0.55 * s

    return apply


def _fog(shape: tuple[int, int, int], rng: np.random.Generator) -> FrameFn:
    _, h, w = shape
    horizon = float(rng.uniform(0.4, 0.5)) * h
    density = float(rng.uniform(0.55, 0.8))
    rows = np.arange(h, dtype=np.float32)[:, None]
    # thickest around the horizon (far away), thinning towards the bottom (near the camera)
    profile = np.where(rows < horizon, 1.0, np.exp(-(rows - horizon) / (0.35 * h)))
    patches = 0.85 + 0.3 * _smooth_noise(h, w, max(8, w // 6), rng)
    alpha = np.clip(density * profile * patches, 0, 0.95).astype(np.float32)[..., None]
    colour = np.array([0.78, 0.8, 0.82], dtype=np.float32)

    def apply(f: np.ndarray, t: int) -> np.ndarray:
        return f * (1 - alpha) + colour * alpha

    return apply


def _snow(shape: tuple[int, int, int], rng: np.random.Generator) -> FrameFn:
    _, h, w = shape
    n_flakes = int(h * w * rng.uniform(0.002, 0.004))
    fy = rng.uniform(0, h, n_flakes)
    fx = rng.uniform(0, w, n_flakes)
    fall = rng.uniform(0.01, 0.03, n_flakes) * h
    drift = rng.normal(0, 0.005, n_flakes) * w
    size = rng.integers(1, 3, n_flakes)
    haze = np.array([0.85, 0.87, 0.9], dtype=np.float32)

    def apply(f: np.ndarray, t: int) -> np.ndarray:
        f = f * 0.75 + haze * 0.25
        ys = ((fy + fall * t) % h).astype(int)
        xs = ((fx + drift * t + rng.normal(0, 0.6, n_flakes)) % w).astype(int)
        layer = np.zeros((h, w), np.float32)
        layer[ys, xs] = 1.0
        big = size > 1
        layer[np.minimum(ys[big] + 1, h - 1), xs[big]] = 1.0
        layer[ys[big], np.minimum(xs[big] + 1, w - 1)] = 1.0
        a = np.clip(_blur(layer, 1) * 2.2, 0, 1)[..., None]
        return f * (1 - a) + 0.97 * a

    return apply


def _night(shape: tuple[int, int, int], rng: np.random.Generator) -> FrameFn:
    _, h, w = shape
    gain = float(rng.uniform(0.18, 0.28))
    tint = np.array([0.8, 0.9, 1.15], dtype=np.float32)
    sigma = float(rng.uniform(0.01, 0.02))

    def apply(f: np.ndarray, t: int) -> np.ndarray:
        lum = _luma(f)[..., None]
        dark = np.power(f, 1.8) * gain * tint
        lights = np.clip((lum - 0.8) / 0.2, 0, 1)  # bright pixels (lamps) survive
        out = dark * (1 - lights) + f * lights
        return out + rng.normal(0, sigma, size=(h, w, 1)).astype(np.float32)

    return apply


def _dusk(shape: tuple[int, int, int], rng: np.random.Generator) -> FrameFn:
    h = shape[1]
    gain = float(rng.uniform(0.5, 0.65))
    warm = np.array([1.15, 0.85, 0.65], dtype=np.float32)
    rows = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    sky = np.array([1.0, 0.55, 0.3], dtype=np.float32) * np.clip(0.5 - rows, 0, 0.5) * 0.6

    def apply(f: np.ndarray, t: int) -> np.ndarray:
        return f * gain * warm + sky

    return apply


def _glare(shape: tuple[int, int, int], rng: np.random.Generator) -> FrameFn:
    _, h, w = shape
    cx = float(rng.uniform(0.2, 0.8)) * w
    cy = float(rng.uniform(0.15, 0.4)) * h
    radius = float(rng.uniform(0.05, 0.09)) * w
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot(xx - cx, yy - cy)
    core = np.exp(-((r / radius) ** 2))
    halo = 0.5 * np.exp(-r / (2.5 * radius))
    flare = np.zeros((h, w), np.float32)
    # lens ghosts along the line through the image centre
    for k, frac in enumerate((0.5, 1.2, 1.6)):
        gx = cx + (w / 2 - cx) * 2 * frac / 1.6
        gy = cy + (h / 2 - cy) * 2 * frac / 1.6
        gr = radius * (0.25 + 0.2 * k)
        flare += 0.12 * np.clip(1.0 - np.hypot(xx - gx, yy - gy) / gr, 0.0, 1.0) ** 0.5
    layer = (core + halo + flare).astype(np.float32)[..., None]
    colour = np.array([1.0, 0.93, 0.75], dtype=np.float32)
    veil = float(rng.uniform(0.15, 0.25))

    def apply(f: np.ndarray, t: int) -> np.ndarray:
        jitter = 1.0 + 0.05 * float(rng.standard_normal())
        f = f * (1 - veil) + veil * 0.9  # veiling glare: contrast loss
        return f + layer * colour * jitter

    return apply


def _motion_blur(shape: tuple[int, int, int], rng: np.random.Generator) -> FrameFn:
    w = shape[2]
    radius = max(2, round(w * rng.uniform(0.006, 0.012)))
    vertical_share = float(rng.uniform(0.0, 0.4))
    radius_v = max(0, round(radius * vertical_share))

    def apply(f: np.ndarray, t: int) -> np.ndarray:
        out = _box_blur_1d(f, radius, axis=1)
        return _box_blur_1d(out, radius_v, axis=0)

    return apply


def _noise(shape: tuple[int, int, int], rng: np.random.Generator) -> FrameFn:
    _, h, w = shape
    read_sigma = float(rng.uniform(0.02, 0.04))
    shot = float(rng.uniform(0.02, 0.05))

    def apply(f: np.ndarray, t: int) -> np.ndarray:
        sigma = np.sqrt(read_sigma**2 + shot**2 * np.clip(f, 0, 1))
        n = rng.standard_normal(size=(h, w, 3), dtype=np.float32)
        chroma = rng.standard_normal(size=(h, w, 1), dtype=np.float32)  # correlated part
        return f + sigma * (0.6 * n + 0.4 * chroma)

    return apply


def _lens_dirt(shape: tuple[int, int, int], rng: np.random.Generator) -> FrameFn:
    _, h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    mask = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(5, 11))):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        rad = rng.uniform(0.03, 0.1) * min(h, w)
        mask += rng.uniform(0.35, 0.8) * np.exp(-((np.hypot(xx - cx, yy - cy) / rad) ** 2))
    mask *= 0.7 + 0.6 * _smooth_noise(h, w, max(4, min(h, w) // 12), rng)
    alpha = np.clip(mask, 0, 0.85)[..., None]
    dirt = np.array([0.28, 0.24, 0.18], dtype=np.float32)
    radius = max(1, min(h, w) // 60)

    def apply(f: np.ndarray, t: int) -> np.ndarray:
        soft = _blur(f, radius)  # dirt defocuses what is behind it
        return soft * (1 - alpha) * 0.9 + dirt * alpha + f * (1 - alpha) * 0.1

    return apply


# ----------------------------------------------------------------------------- temporal effects
def _drop_frames(n: int, rng: np.random.Generator) -> np.ndarray:
    """Drop 10-25 % of the frames at random (never the first; at least 2 frames remain)."""
    if n <= 2:
        return np.arange(n)
    n_drop = min(n - 2, max(1, round(n * rng.uniform(0.1, 0.25))))
    dropped = rng.choice(np.arange(1, n), size=n_drop, replace=False)
    keep = np.ones(n, bool)
    keep[dropped] = False
    return np.flatnonzero(keep)


def _freeze_frames(n: int, rng: np.random.Generator) -> np.ndarray:
    """One or two freezes: a frame repeats for 3-8 frames in place of the following ones."""
    index = np.arange(n)
    if n < 3:
        return index
    for _ in range(int(rng.integers(1, 3))):
        start = int(rng.integers(0, n - 1))
        length = int(rng.integers(3, 9))
        index[start + 1 : start + 1 + length] = index[start]
    return index


EFFECTS = EffectRegistry()
for _effect in (
    Effect("rain", "pixel", "overcast darkening and slanted rain streaks", setup=_rain),
    Effect("fog", "pixel", "grey veil, densest at the horizon, patchy", setup=_fog),
    Effect("snow", "pixel", "falling flakes and a white haze", setup=_snow),
    Effect("night", "pixel", "dark, blue-tinted, noisy; bright lights survive", setup=_night),
    Effect("dusk", "pixel", "warm, dimmed light with an orange sky", setup=_dusk),
    Effect(
        "glare", "pixel", "low sun: bright disc, halo, lens ghosts, veiling glare", setup=_glare
    ),
    Effect(
        "motion_blur", "pixel", "directional box blur (camera shake / speed)", setup=_motion_blur
    ),
    Effect("noise", "pixel", "sensor read and shot noise", setup=_noise),
    Effect("lens_dirt", "pixel", "static dirt blotches that darken and defocus", setup=_lens_dirt),
    Effect("drop_frames", "temporal", "10-25 % of frames missing", plan=_drop_frames),
    Effect(
        "freeze_frames",
        "temporal",
        "the camera stalls: a frame repeats 3-8 times",
        plan=_freeze_frames,
    ),
):
    EFFECTS.register(_effect)
