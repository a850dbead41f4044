"""Weather and light of the sketch renderer: the look parameters and image-space overlays.

``make_look(weather, lighting, seed, ...)`` turns a scene's weather / lighting into a packed
float vector read by the shading kernel (:mod:`generator.render.shade`); every random choice
comes from ``np.random.default_rng(seed)``. The overlay kernels draw what is not a surface:
rain streaks, snow flakes, glows of lamps and car lights, the low sun's bloom and lens ghosts.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from scenario_library.scene import Lighting, Weather

# ---- indices into the packed look vector ----
AMBIENT = 0  # ambient light level 0..1
SUN = 1  # direct sun strength 0..1
SUN_X, SUN_Y, SUN_Z = 2, 3, 4  # world unit vector towards the sun
SKY_TOP = 5  # rgb 5..7
SKY_HOR = 8  # rgb 8..10
TINT = 11  # rgb 11..13, multiplies lit surfaces
FOG_VIS_M = 14  # visibility scale of exp(-d / vis) [m]; 0 = no fog
FOG_RGB = 15  # rgb 15..17
WET = 18  # 0..1 wet road: darker asphalt, sky and light reflections
SNOW = 19  # 0..1 snow cover of the ground and roofs
HEADLIGHTS = 20  # ego headlight strength
STREET = 21  # street-light strength
CARLIGHTS = 22  # emissive strength of other cars' lamps
GLARE = 23  # low-sun bloom strength
RAIN = 24  # rain streak density 0..1
FLAKES = 25  # snow flake density 0..1
SEED = 26  # per-clip integer seed (as float) for procedural noise
SUN_VISIBLE = 27  # 1 when the sun disc is drawn in the sky
N_LOOK = 28


def make_look(
    weather: Weather, lighting: Lighting, seed: int, ego_yaw_rad: float = 0.0
) -> np.ndarray:
    """Packed look vector for a weather / lighting pair; random details from ``seed``."""
    rng = np.random.default_rng(seed)
    lk = np.zeros(N_LOOK, np.float64)
    az = ego_yaw_rad + rng.uniform(-0.9, 0.9)
    elev = np.radians(rng.uniform(40, 60))
    lk[AMBIENT], lk[SUN] = 0.55, 0.55
    lk[SKY_TOP : SKY_TOP + 3] = (0.35, 0.55, 0.85)
    lk[SKY_HOR : SKY_HOR + 3] = (0.75, 0.85, 0.95)
    lk[TINT : TINT + 3] = (1.0, 1.0, 1.0)
    lk[SUN_VISIBLE] = 0.0
    if lighting is Lighting.DUSK:
        elev = np.radians(rng.uniform(3, 8))
        az = ego_yaw_rad + rng.choice([-1, 1]) * rng.uniform(0.8, 1.6)
        lk[AMBIENT], lk[SUN] = 0.32, 0.35
        lk[SKY_TOP : SKY_TOP + 3] = (0.22, 0.22, 0.42)
        lk[SKY_HOR : SKY_HOR + 3] = (0.95, 0.55, 0.30)
        lk[TINT : TINT + 3] = (1.0, 0.78, 0.6)
        lk[HEADLIGHTS], lk[CARLIGHTS], lk[STREET] = 0.35, 0.6, 0.3
    elif lighting is Lighting.NIGHT:
        elev = np.radians(-20)
        lk[AMBIENT], lk[SUN] = 0.07, 0.0
        lk[SKY_TOP : SKY_TOP + 3] = (0.01, 0.01, 0.03)
        lk[SKY_HOR : SKY_HOR + 3] = (0.05, 0.05, 0.09)
        lk[TINT : TINT + 3] = (0.85, 0.85, 1.0)
        lk[HEADLIGHTS], lk[CARLIGHTS], lk[STREET] = 1.0, 1.0, 1.0
    elif lighting is Lighting.LOW_SUN:
        # sun low and nearly straight ahead of the ego: glare into the camera
        elev = np.radians(rng.uniform(2.0, 5.0))
        az = ego_yaw_rad + rng.uniform(-0.25, 0.25)
        lk[AMBIENT], lk[SUN] = 0.42, 0.45
        lk[SKY_TOP : SKY_TOP + 3] = (0.45, 0.55, 0.75)
        lk[SKY_HOR : SKY_HOR + 3] = (1.0, 0.9, 0.7)
        lk[TINT : TINT + 3] = (1.0, 0.92, 0.8)
        lk[GLARE] = 1.0
        lk[SUN_VISIBLE] = 1.0
    lk[SUN_X : SUN_Z + 1] = (np.cos(elev) * np.cos(az), np.cos(elev) * np.sin(az), np.sin(elev))
    if weather is not Weather.CLEAR:
        # overcast: no direct sun, flatter light, grey sky
        lk[SUN] *= 0.25
        lk[GLARE] *= 0.5
        lk[SUN_VISIBLE] = 0.0
        grey = 0.6 if lighting in (Lighting.DAY, Lighting.LOW_SUN) else 0.3
        if lighting is Lighting.NIGHT:
            grey = 0.06
        lk[SKY_TOP : SKY_TOP + 3] = 0.25 * lk[SKY_TOP : SKY_TOP + 3] + 0.75 * grey
        lk[SKY_HOR : SKY_HOR + 3] = 0.25 * lk[SKY_HOR : SKY_HOR + 3] + 0.75 * (grey + 0.12)
        lk[AMBIENT] *= 1.1
    if weather is Weather.RAIN:
        lk[WET] = rng.uniform(0.7, 1.0)
        lk[RAIN] = rng.uniform(0.6, 1.0)
        lk[AMBIENT] *= 0.85
        lk[HEADLIGHTS] = max(lk[HEADLIGHTS], 0.3)
        lk[CARLIGHTS] = max(lk[CARLIGHTS], 0.4)
        lk[FOG_VIS_M] = rng.uniform(150, 250)  # spray haze
    elif weather is Weather.FOG:
        lk[FOG_VIS_M] = rng.uniform(25, 45)
        lk[HEADLIGHTS] = max(lk[HEADLIGHTS], 0.3)
        lk[CARLIGHTS] = max(lk[CARLIGHTS], 0.5)
    elif weather is Weather.SNOW:
        lk[SNOW] = rng.uniform(0.75, 0.95)
        lk[FLAKES] = rng.uniform(0.6, 1.0)
        lk[FOG_VIS_M] = rng.uniform(80, 140)
        lk[HEADLIGHTS] = max(lk[HEADLIGHTS], 0.3)
        lk[CARLIGHTS] = max(lk[CARLIGHTS], 0.4)
    fog_base = 0.5 * (lk[SKY_HOR : SKY_HOR + 3] + lk[SKY_TOP : SKY_TOP + 3])
    lk[FOG_RGB : FOG_RGB + 3] = np.clip(fog_base * 1.1 + 0.05, 0, 1)
    if weather is Weather.FOG and lighting in (Lighting.DAY, Lighting.LOW_SUN):
        lk[FOG_RGB : FOG_RGB + 3] = (0.78, 0.79, 0.8)
    if lighting is Lighting.NIGHT:
        lk[FOG_RGB : FOG_RGB + 3] = (0.09, 0.09, 0.11)
    lk[SEED] = float(seed % 1_000_003)
    return lk


# --------------------------------------------------------------------------------- overlays
#: at 1280 px width the sun bloom is evaluated every GLARE_STEP_PX columns (scaled with the
#: width) and interpolated linearly in between
GLARE_STEP_PX = 8


@nb.njit(cache=True)
def _hash01(a: int, b: int, c: int) -> float:
    h = (a * 73856093) ^ (b * 19349663) ^ (c * 83492791)
    h = (h ^ (h >> 13)) * 1274126177
    h = h ^ (h >> 16)
    return (h & 0xFFFFFF) / 16777216.0


@nb.njit(cache=True)
def _blend(img, i, j, r, g, b, alpha):  # type: ignore[no-untyped-def]
    img[i, j, 0] = np.uint8(min(255.0, img[i, j, 0] * (1 - alpha) + r * alpha))
    img[i, j, 1] = np.uint8(min(255.0, img[i, j, 1] * (1 - alpha) + g * alpha))
    img[i, j, 2] = np.uint8(min(255.0, img[i, j, 2] * (1 - alpha) + b * alpha))


@nb.njit(cache=True)
def rain_streaks(img, frame, seed, density, brightness):  # type: ignore[no-untyped-def]
    """Slanted translucent streaks; positions hashed from (seed, frame, k)."""
    h, w = img.shape[0], img.shape[1]
    n = int(density * w * h / 900)
    for k in range(n):
        u = _hash01(seed, frame, 2 * k) * w
        v = _hash01(seed, frame, 2 * k + 1) * h
        ln = 0.03 * h + _hash01(seed, k, 7) * 0.06 * h
        depthish = _hash01(seed, k, 11)
        alpha = 0.12 + 0.18 * depthish
        steps = int(ln)
        for s in range(steps):
            i = int(v + s)
            j = int(u + 0.18 * s)
            if 0 <= i < h and 0 <= j < w:
                _blend(img, i, j, brightness, brightness, brightness + 10, alpha)


@nb.njit(cache=True)
def snow_flakes(img, depth, frame, seed, density):  # type: ignore[no-untyped-def]
    """White discs of 1-4 px radius (bigger = nearer, drawn only in front of surfaces)."""
    h, w = img.shape[0], img.shape[1]
    n = int(density * w * h / 700)
    for k in range(n):
        u = _hash01(seed, frame, 2 * k) * w
        v = _hash01(seed, frame, 2 * k + 1) * h
        near = _hash01(seed, k, 5)
        rad = 0.6 + 3.0 * near * near * (h / 704.0)
        dist = 2.0 + (1.0 - near) * 40.0
        ci = int(v)
        cj = int(u)
        if not (0 <= ci < h and 0 <= cj < w) or depth[ci, cj] < dist:
            continue
        ri = int(rad) + 1
        for i in range(max(ci - ri, 0), min(ci + ri + 1, h)):
            for j in range(max(cj - ri, 0), min(cj + ri + 1, w)):
                d2 = (i - v) ** 2 + (j - u) ** 2
                if d2 <= rad * rad:
                    _blend(img, i, j, 245.0, 245.0, 250.0, 0.85 * (1 - d2 / (rad * rad + 1)))


@nb.njit(cache=True)
def add_glow(img, u, v, radius, r, g, b, strength):  # type: ignore[no-untyped-def]
    """Additive radial glow (light sources, bloom): strength * exp(-(d / radius)^2)."""
    h, w = img.shape[0], img.shape[1]
    ext = int(radius * 2.5) + 1
    i0 = max(int(v) - ext, 0)
    i1 = min(int(v) + ext + 1, h)
    j0 = max(int(u) - ext, 0)
    j1 = min(int(u) + ext + 1, w)
    inv = 1.0 / (radius * radius)
    for i in range(i0, i1):
        for j in range(j0, j1):
            d2 = ((i + 0.5 - v) ** 2 + (j + 0.5 - u) ** 2) * inv
            if d2 > 6.25:
                continue
            a = strength * np.exp(-d2)
            img[i, j, 0] = np.uint8(min(255.0, img[i, j, 0] + r * a))
            img[i, j, 1] = np.uint8(min(255.0, img[i, j, 1] + g * a))
            img[i, j, 2] = np.uint8(min(255.0, img[i, j, 2] + b * a))


@nb.njit(cache=True, fastmath=True)
def _blend_row(row, add, keep):  # type: ignore[no-untyped-def]
    """row[x] = min(255, row[x] * keep + add[x]) over one contiguous uint8 row (SIMD-friendly)."""
    for x in range(row.shape[0]):
        row[x] = np.uint8(min(np.float32(255.0), np.float32(row[x]) * keep + add[x]))


@nb.njit(cache=True)
def sun_glare(img, u, v, strength):  # type: ignore[no-untyped-def]
    """Bloom around the sun at pixel (u, v), washed-out contrast and lens ghosts."""
    h, w = img.shape[0], img.shape[1]
    scale = w / 1280.0
    wash = 0.28 * strength
    keep = np.float32(1.0 - wash)
    # the bloom is radial and smooth: tabulate wash + a(d) per pixel of distance, evaluate it
    # every `step` columns and interpolate linearly in between (low-res bloom, upsampled)
    step = max(1, int(GLARE_STEP_PX * scale + 0.5))
    far = np.sqrt(max(u * u, (w - u) ** 2) + max(v * v, (h - v) ** 2)) + step + 2.0
    n = int(far) + 2
    lut = np.empty(n, np.float32)
    for k in range(n):
        d = k / scale
        lut[k] = wash + strength * (0.9 * np.exp(-d / 60.0) + 0.35 * np.exp(-d / 260.0))
    n_knots = (w + step - 1) // step + 1
    knots = np.empty(n_knots, np.float32)
    inv_step = np.float32(1.0 / step)
    add = np.empty(3 * w, np.float32)  # per row: light added to each byte of the row
    col = (np.float32(255.0), np.float32(240.0), np.float32(200.0))
    for i in range(h):
        dv2 = (i + 0.5 - v) ** 2
        for q in range(n_knots):
            x = np.sqrt(dv2 + (q * step + 0.5 - u) ** 2)
            k = int(x)
            f = x - k
            knots[q] = lut[k] * (1.0 - f) + lut[k + 1] * f
        for q in range(n_knots - 1):
            k0 = knots[q]
            dk = (knots[q + 1] - k0) * inv_step
            for j in range(q * step, min((q + 1) * step, w)):
                kk = k0 + dk * np.float32(j - q * step)
                add[3 * j] = col[0] * kk
                add[3 * j + 1] = col[1] * kk
                add[3 * j + 2] = col[2] * kk
        _blend_row(img[i].reshape(3 * w), add, keep)
    # ghosts along the line from the sun through the image centre
    cu = w / 2.0
    cv = h / 2.0
    for q in range(4):
        f = 0.5 + 0.45 * q
        gu = u + (cu - u) * 2 * f
        gv = v + (cv - v) * 2 * f
        add_glow(img, gu, gv, (12 + 10 * q) * scale, 120.0, 200.0, 160.0, 0.18 * strength)
