"""Shading kernel of the sketch renderer: control buffers + look -> RGB frames (uint8).

Every pixel's 3D point is recovered from its depth (camera z) and ray, so the kernel needs no
buffer beyond the control maps: the ground class comes from the ground-code buffer, an agent's
face and the part of it (window, wheel, lamp, head...) from the point in the agent's box frame.
Lighting: ambient + Lambert sun, ego headlight cone, street-light pools, emissive car lamps;
then wet-road reflection, snow cover and exponential fog exp(-d / visibility).

Speed: the smooth per-pixel terms (headlight cone and range falloff, fog factor) are read from
per-clip tables (:func:`light_tables`) and the street-lamp pools from a static world-space
raster (:func:`pool_map`), so weather and night cost a few table reads per pixel, not an
atan2 / exp per pixel or a loop over every lamp.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from generator.render import effects as fx_
from generator.render.groundmap import N_GROUND_CODES, GroundCode
from generator.render.raster import SKY_CODE, SOLID_CODE

#: ground albedo (sRGB 0..1) per ground code
GROUND_ALBEDO = np.zeros((N_GROUND_CODES, 3), np.float64)
GROUND_ALBEDO[GroundCode.GRASS] = (0.30, 0.42, 0.20)
GROUND_ALBEDO[GroundCode.ASPHALT] = (0.30, 0.30, 0.31)
GROUND_ALBEDO[GroundCode.LANE] = (0.33, 0.33, 0.34)
GROUND_ALBEDO[GroundCode.MARK_WHITE] = (0.92, 0.92, 0.90)
GROUND_ALBEDO[GroundCode.MARK_YELLOW] = (0.92, 0.74, 0.18)
GROUND_ALBEDO[GroundCode.SIDEWALK] = (0.62, 0.60, 0.57)
GROUND_ALBEDO[GroundCode.CROSS_STRIPE] = (0.92, 0.92, 0.90)
GROUND_ALBEDO[GroundCode.CROSS_GAP] = (0.33, 0.33, 0.34)
GROUND_ALBEDO[GroundCode.PARKING] = (0.37, 0.36, 0.36)
GROUND_ALBEDO[GroundCode.STOP_LINE] = (0.92, 0.92, 0.90)
GROUND_ALBEDO[GroundCode.ROAD_MARKING] = (0.92, 0.92, 0.90)
#: codes that are paved (get wet, only partly snow-covered)
PAVED = np.zeros(N_GROUND_CODES, np.bool_)
for _c in GroundCode:
    PAVED[_c] = _c not in (GroundCode.GRASS, GroundCode.SIDEWALK)

# agent kind codes (scenario_library.scene.AGENT_KIND_CODES order)
K_CAR, K_TRUCK, K_PED, K_CYCLIST, K_ANIMAL, K_OBSTACLE = 0, 1, 2, 3, 4, 5

#: street-lamp light pool: strength * 0.9 * exp(-r^2 / POOL_SIGMA2_M2) within POOL_RADIUS_M
POOL_RADIUS_M = 20.0
POOL_SIGMA2_M2 = 50.0
#: ego headlight cone: exp(-(angle / HEAD_CONE_RAD)^2), tabulated over tan(angle)
HEAD_CONE_RAD = 0.3
HEAD_TAN_MAX = 1.3  # tan(0.91 rad): beyond it the cone term is < 1e-4
HEAD_RANGE_M = 1000.0  # range falloff min(1, x / 5) / (1 + (x / 28)^2) tabulated to here
#: fog factor exp(-d / vis) is tabulated up to FOG_LUT_SPAN * vis (then < 1e-5)
FOG_LUT_SPAN = 12.0
LUT_SIZE = 8192


def light_tables(lk: np.ndarray) -> np.ndarray:
    """Per-clip lookup tables [3, LUT_SIZE] (float32) of the smooth per-pixel light terms.

    Row 0: headlight cone over tan(angle) in [-HEAD_TAN_MAX, HEAD_TAN_MAX]; row 1: fog factor
    exp(-d / vis) over d in [0, FOG_LUT_SPAN * vis] [m]; row 2: headlight range falloff over
    the distance ahead in [0, HEAD_RANGE_M] [m]. Read nearest-entry (:func:`_lut`; fine
    enough that the error stays below one grey level), they replace an atan2 + exp per pixel with a multiply-add."""
    x = np.linspace(0.0, 1.0, LUT_SIZE)
    out = np.zeros((3, LUT_SIZE), np.float64)
    tan = (2 * x - 1) * HEAD_TAN_MAX
    out[0] = np.exp(-((np.arctan(tan) / HEAD_CONE_RAD) ** 2))
    rng_m = x * HEAD_RANGE_M
    out[2] = np.minimum(1.0, rng_m / 5.0) / (1.0 + (rng_m / 28.0) ** 2)
    vis = float(lk[fx_.FOG_VIS_M])
    if vis > 0:
        out[1] = np.exp(-x * FOG_LUT_SPAN)
    return out.astype(np.float32)


def pool_map(lamps: np.ndarray, max_cells: int = 4_000_000):  # type: ignore[no-untyped-def]
    """World-space raster of the street-lamp light pools (static: built once per clip).

    Returns ``(meta, pool)``: meta = (x0 [m], y0 [m], 1 / cell [1/m], nx, ny) float64 and
    pool [ny, nx] float32 = sum over lamps within POOL_RADIUS_M of 0.9 exp(-r^2 / sigma^2),
    with cells of 0.25 m (coarser only if the lamps span more than ``max_cells`` cells). The
    kernel reads one cell per pixel instead of testing every lamp."""
    if len(lamps) == 0:
        return np.zeros(5), np.zeros((1, 1), np.float32)
    x0 = float(lamps[:, 0].min()) - POOL_RADIUS_M
    y0 = float(lamps[:, 1].min()) - POOL_RADIUS_M
    span_x = float(lamps[:, 0].max()) + POOL_RADIUS_M - x0
    span_y = float(lamps[:, 1].max()) + POOL_RADIUS_M - y0
    cell = max(0.25, float(np.sqrt(span_x * span_y / max_cells)))
    nx = int(np.ceil(span_x / cell)) + 1
    ny = int(np.ceil(span_y / cell)) + 1
    pool = np.zeros((ny, nx), np.float32)
    ext = int(np.ceil(POOL_RADIUS_M / cell)) + 1
    for lx, ly, _ in lamps:
        ci = int((ly - y0) / cell)
        cj = int((lx - x0) / cell)
        i0, i1 = max(ci - ext, 0), min(ci + ext + 1, ny)
        j0, j1 = max(cj - ext, 0), min(cj + ext + 1, nx)
        yy = y0 + (np.arange(i0, i1) + 0.5) * cell - ly
        xx = x0 + (np.arange(j0, j1) + 0.5) * cell - lx
        r2 = yy[:, None] ** 2 + xx[None, :] ** 2
        pool[i0:i1, j0:j1] += np.where(
            r2 < POOL_RADIUS_M**2, 0.9 * np.exp(-r2 / POOL_SIGMA2_M2), 0.0
        ).astype(np.float32)
    return np.array([x0, y0, 1.0 / cell, nx, ny], np.float64), pool


@nb.njit(cache=True, inline="always")
def _lut(lut, row, x):  # type: ignore[no-untyped-def]
    """Table row ``row`` at (fractional) index x >= 0, nearest entry, clamped at the end."""
    k = int(x + 0.5)
    n = lut.shape[1] - 1
    return lut[row, k if k < n else n]


@nb.njit(cache=True, inline="always")
def _hash01(a, b, c):  # type: ignore[no-untyped-def]
    h = (a * 73856093) ^ (b * 19349663) ^ (c * 83492791)
    h = (h ^ (h >> 13)) * 1274126177
    h = h ^ (h >> 16)
    return (h & 0xFFFFFF) / 16777216.0


@nb.njit(cache=True, inline="always")
def _value_noise(x, y, seed):  # type: ignore[no-untyped-def]
    """Smooth value noise in 0..1 (bilinear between hashed lattice values)."""
    x0 = np.floor(x)
    y0 = np.floor(y)
    fx = x - x0
    fy = y - y0
    ix = int(x0)
    iy = int(y0)
    a = _hash01(ix, iy, seed)
    b = _hash01(ix + 1, iy, seed)
    c = _hash01(ix, iy + 1, seed)
    d = _hash01(ix + 1, iy + 1, seed)
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy


@nb.njit(cache=True)
def _agent_colour(kind, face, lx, ly, lz, hl, hw, h, body, brake, lk, rgb):  # type: ignore[no-untyped-def]
    """Albedo of an agent point in box coords -> rgb[0:3]; returns emissive strength.

    face: 0 front, 1 rear, 2 left, 3 right, 4 top. rgb[3:6] receives the emissive colour."""
    zr = lz / h
    br = body[0]
    bg = body[1]
    bb = body[2]
    em = 0.0
    rgb[3] = 0.0
    rgb[4] = 0.0
    rgb[5] = 0.0
    carlights = lk[fx_.CARLIGHTS]
    if kind == K_CAR or kind == K_TRUCK:  # noqa: SIM109 (numba-friendly)
        cab = True
        if kind == K_TRUCK:
            cab = lx > hl - 0.45 * hl
            if not cab:
                br, bg, bb = 0.82, 0.82, 0.80
        glass = False
        if face != 4 and cab:
            if kind == K_CAR:
                lo, hi = 0.55, 0.9
            else:
                lo, hi = 0.6, 0.9
            if lo < zr < hi:
                if face >= 2 and (abs(lx) < 0.45 * hl if kind == K_CAR else lx > 0.7 * hl):
                    glass = True
                if face == 0 and abs(ly) < 0.85 * hw:
                    glass = True
                if face == 1 and abs(ly) < 0.85 * hw and kind == K_CAR:
                    glass = True
        if glass:
            br, bg, bb = 0.10, 0.12, 0.16
        elif face >= 2 and face != 4 and zr < 0.32 and abs(abs(lx) - 0.62 * hl) < 0.2 * hl:
            br, bg, bb = 0.05, 0.05, 0.05  # wheels
        elif face <= 1 and zr < 0.28:
            br, bg, bb = br * 0.45, bg * 0.45, bb * 0.45  # bumper
        if face <= 1 and 0.3 < zr < 0.47 and abs(ly) > 0.55 * hw:
            if face == 0:
                br, bg, bb = 0.95, 0.95, 0.85
                em = 0.25 + 1.6 * carlights
                rgb[3], rgb[4], rgb[5] = 1.0, 0.97, 0.85
            else:
                br, bg, bb = 0.6, 0.05, 0.05
                em = 0.1 + 1.2 * carlights + 1.2 * brake
                rgb[3], rgb[4], rgb[5] = 1.0, 0.1, 0.08
    elif kind == K_PED:
        if zr < 0.47:
            br, bg, bb = 0.16, 0.18, 0.30
        elif zr > 0.85:
            if face == 4:
                br, bg, bb = 0.20, 0.12, 0.08
            else:
                br, bg, bb = 0.86, 0.68, 0.56
    elif kind == K_CYCLIST:
        if zr < 0.5:
            br, bg, bb = 0.12, 0.12, 0.13
            if face >= 2 and face != 4:
                # two wheels seen from the side: light rims on a dark tyre
                wr = 0.22 * h
                for sgn in (-1.0, 1.0):
                    d = np.sqrt((lx - sgn * 0.55 * hl) ** 2 + (lz - wr) ** 2)
                    if abs(d - 0.8 * wr) < 0.12 * wr:
                        br, bg, bb = 0.75, 0.75, 0.78
        elif zr > 0.86:
            br, bg, bb = 0.95, 0.85, 0.10  # helmet
        if face == 1 and 0.35 < zr < 0.45 and abs(ly) < 0.35 * hw:
            em = 0.1 + 1.0 * carlights
            br, bg, bb = 0.7, 0.05, 0.05
            rgb[3], rgb[4], rgb[5] = 1.0, 0.1, 0.08
    elif kind == K_ANIMAL:
        br, bg, bb = 0.42, 0.28, 0.16
        if zr < 0.45:
            br, bg, bb = 0.30, 0.20, 0.12
        if face == 0 and zr > 0.6:
            br, bg, bb = 0.25, 0.16, 0.10
    elif kind == K_OBSTACLE:
        br, bg, bb = 0.95, 0.42, 0.05
        if int(np.floor(lz / 0.2)) % 2 == 1:
            br, bg, bb = 0.95, 0.95, 0.95
    rgb[0] = br
    rgb[1] = bg
    rgb[2] = bb
    return em


@nb.njit(cache=True, inline="always")
def _to_u8(v):  # type: ignore[no-untyped-def]
    x = int(v * 255.0)
    return np.uint8(255 if x > 255 else (0 if x < 0 else x))


@nb.njit(cache=True, inline="always")
def _cell_noise(x, y, seed):  # type: ignore[no-untyped-def]
    """Hash of the integer cell (x, y) (x, y >= -1e6) -> -0.5..0.5."""
    ix = int(x + 1048576.0)
    iy = int(y + 1048576.0)
    hv = (ix * 73856093) ^ (iy * 19349663) ^ seed
    hv = (hv ^ (hv >> 13)) * 1274126177
    return ((hv >> 16) & 255) * (1.0 / 255.0) - 0.5


@nb.njit(cache=True, fastmath=True)
def shade_frame(  # type: ignore[no-untyped-def]
    img,
    depth,
    inst,
    gcode,
    r,
    c,
    fx,
    cx,
    cy,
    albedo,
    paved,
    pose,
    dims,
    kinds,
    body,
    brake,
    pool_meta,
    pool,
    lut,
    housings,
    hstate,
    lk,
    ego_x,
    ego_y,
    ego_yaw,
    ego_half_len,
):
    h, w = depth.shape
    seed = int(lk[fx_.SEED]) * 2654435761
    amb = lk[fx_.AMBIENT]
    sun = lk[fx_.SUN]
    sx = lk[fx_.SUN_X]
    sy = lk[fx_.SUN_Y]
    sz = lk[fx_.SUN_Z]
    vis = lk[fx_.FOG_VIS_M]
    wet = lk[fx_.WET]
    snow = lk[fx_.SNOW]
    head = lk[fx_.HEADLIGHTS]
    street = lk[fx_.STREET]
    tint_r = lk[fx_.TINT]
    tint_g = lk[fx_.TINT + 1]
    tint_b = lk[fx_.TINT + 2]
    fog_r = lk[fx_.FOG_RGB]
    fog_g = lk[fx_.FOG_RGB + 1]
    fog_b = lk[fx_.FOG_RGB + 2]
    extras = head > 0 or street > 0 or wet > 0 or vis > 0
    ce = np.cos(ego_yaw)
    se = np.sin(ego_yaw)
    rgb = np.empty(6)
    cos_k = np.cos(pose[:, 2])
    sin_k = np.sin(pose[:, 2])
    # ground albedo per code after wet darkening and snow cover, and lit by sky + sun
    n_codes = albedo.shape[0]
    alb = np.empty((n_codes, 3))
    lit_g = amb + sun * max(sz, 0.0)
    glut = np.empty((n_codes, 3))
    white = (0.92, 0.93, 0.96)
    for code in range(n_codes):
        for e in range(3):
            a = albedo[code, e]
            if snow > 0:
                sn = snow * 0.62 if paved[code] else snow
                a = a * (1 - sn) + white[e] * sn
            if wet > 0 and paved[code]:
                a *= 1 - 0.5 * wet
            alb[code, e] = a
        glut[code, 0] = alb[code, 0] * lit_g * tint_r
        glut[code, 1] = alb[code, 1] * lit_g * tint_g
        glut[code, 2] = alb[code, 2] * lit_g * tint_b
    # horizon row for the (roll-free) camera: world z of the ray (a, b, 1) = 0
    hz_row = -1.0
    if abs(r[1, 2]) > 1e-9:
        hz_row = cy + fx * (-(r[2, 2]) / r[1, 2])
    g_x0 = pool_meta[0]
    g_y0 = pool_meta[1]
    g_inv = pool_meta[2]
    g_nx = pool_meta[3]
    g_ny = pool_meta[4]
    n_lut = lut.shape[1] - 1
    head_scale = n_lut / (2.0 * HEAD_TAN_MAX)
    fog_scale = n_lut / (FOG_LUT_SPAN * vis) if vis > 0 else 0.0
    range_scale = n_lut / HEAD_RANGE_M
    head_k = head * 1.6
    # sky colour per row (gradient by elevation at the centre column, fog-blended)
    sky_row = np.empty((h, 3), np.uint8)
    for i in range(h):
        b = (i + 0.5 - cy) / fx
        dx = r[1, 0] * b + r[2, 0]
        dy = r[1, 1] * b + r[2, 1]
        dz = r[1, 2] * b + r[2, 2]
        el = dz / np.sqrt(dx * dx + dy * dy + dz * dz)
        s = np.sqrt(min(max(el / 0.45, 0.0), 1.0))
        for e in range(3):
            v = lk[fx_.SKY_HOR + e] * (1 - s) + lk[fx_.SKY_TOP + e] * s
            if vis > 0:
                f = 0.25 if vis < 60 else 0.6
                v = lk[fx_.FOG_RGB + e] * (1 - f) + v * f
            sky_row[i, e] = _to_u8(v)
    # the sun disc (0.6 deg radius) when it is in front of the camera
    sun_vis = False
    sun_u = 0.0
    sun_v = 0.0
    sun_rad = fx * 0.0105
    if lk[fx_.SUN_VISIBLE] > 0:
        qz = r[2, 0] * sx + r[2, 1] * sy + r[2, 2] * sz
        if qz > 0.05:
            sun_vis = True
            sun_u = fx * (r[0, 0] * sx + r[0, 1] * sy + r[0, 2] * sz) / qz + cx
            sun_v = fx * (r[1, 0] * sx + r[1, 1] * sy + r[1, 2] * sz) / qz + cy
    inv_fx = 1.0 / fx
    # snow ruts: value-noise lattice values of the last cell (neighbouring pixels share cells)
    vn_ix = -(2**62)
    vn_iy = -(2**62)
    vn_a = vn_b = vn_c = vn_d = 0.0
    for i in range(h):
        b = (i + 0.5 - cy) * inv_fx
        dx0 = r[1, 0] * b + r[2, 0]
        dy0 = r[1, 1] * b + r[2, 1]
        dz0 = r[1, 2] * b + r[2, 2]
        for j in range(w):
            code = gcode[i, j]
            if code == SKY_CODE:
                if (
                    sun_vis
                    and abs(i + 0.5 - sun_v) < sun_rad
                    and (i + 0.5 - sun_v) ** 2 + (j + 0.5 - sun_u) ** 2 < sun_rad * sun_rad
                ):
                    img[i, j, 0] = 255
                    img[i, j, 1] = 250
                    img[i, j, 2] = 230
                    continue
                img[i, j, 0] = sky_row[i, 0]
                img[i, j, 1] = sky_row[i, 1]
                img[i, j, 2] = sky_row[i, 2]
                continue
            a = (j + 0.5 - cx) * inv_fx
            d = depth[i, j]
            px = c[0] + d * (r[0, 0] * a + dx0)
            py = c[1] + d * (r[0, 1] * a + dy0)
            is_ground = code != SOLID_CODE
            if is_ground:
                # ---- ground: lit albedo from the per-frame table, cell noise near the camera
                m = 1.0
                if code == 0:
                    if d < 60.0:
                        m += 0.35 * min(1.0, 15.0 / d) * _cell_noise(px * 2.0, py * 2.0, seed)
                elif d < 40.0:
                    m += 0.12 * min(1.0, 8.0 / d) * _cell_noise(px * 6.0, py * 6.0, seed)
                if snow > 0 and paved[code]:
                    # uneven snow on the carriageway (ruts)
                    # = _value_noise(px * 0.7, py * 0.7, seed + 1), hashing a lattice cell
                    # once per run of pixels in it
                    nx_ = px * 0.7
                    ny_ = py * 0.7
                    x0 = np.floor(nx_)
                    y0 = np.floor(ny_)
                    tx = nx_ - x0
                    ty = ny_ - y0
                    ix = int(x0)
                    iy = int(y0)
                    if ix != vn_ix or iy != vn_iy:
                        vn_ix = ix
                        vn_iy = iy
                        vn_a = _hash01(ix, iy, seed + 1)
                        vn_b = _hash01(ix + 1, iy, seed + 1)
                        vn_c = _hash01(ix, iy + 1, seed + 1)
                        vn_d = _hash01(ix + 1, iy + 1, seed + 1)
                    vn = (vn_a * (1 - tx) + vn_b * tx) * (1 - ty) + (
                        vn_c * (1 - tx) + vn_d * tx
                    ) * ty
                    m *= 0.88 + 0.24 * vn
                cr = glut[code, 0] * m
                cg = glut[code, 1] * m
                cb = glut[code, 2] * m
                if not extras:
                    img[i, j, 0] = _to_u8(cr)
                    img[i, j, 1] = _to_u8(cg)
                    img[i, j, 2] = _to_u8(cb)
                    continue
                ar = alb[code, 0] * m
                ag = alb[code, 1] * m
                ab = alb[code, 2] * m
                pz = 0.0
            else:
                pz = c[2] + d * (r[0, 2] * a + dz0)
                em = 0.0
                k_i = inst[i, j]
                if k_i > 0:
                    cy_ = cos_k[k_i]
                    sy_ = sin_k[k_i]
                    ox = px - pose[k_i, 0]
                    oy = py - pose[k_i, 1]
                    lx = cy_ * ox + sy_ * oy
                    ly = -sy_ * ox + cy_ * oy
                    hl = dims[k_i, 0] * 0.5
                    hw = dims[k_i, 1] * 0.5
                    hh = dims[k_i, 2]
                    rx = abs(lx) / hl
                    ry = abs(ly) / hw
                    rz = pz / hh
                    if rz >= rx and rz >= ry:
                        face = 4
                    elif rx >= ry:
                        face = 0 if lx > 0 else 1
                    else:
                        face = 2 if ly > 0 else 3
                    if face == 4:
                        nx, ny, nz = 0.0, 0.0, 1.0
                    elif face <= 1:
                        sg = 1.0 if face == 0 else -1.0
                        nx, ny, nz = sg * cy_, sg * sy_, 0.0
                    else:
                        sg = 1.0 if face == 2 else -1.0
                        nx, ny, nz = -sg * sy_, sg * cy_, 0.0
                    em = _agent_colour(
                        kinds[k_i], face, lx, ly, pz, hl, hw, hh, body[k_i], brake[k_i], lk, rgb
                    )
                    ar = rgb[0]
                    ag = rgb[1]
                    ab = rgb[2]
                    if face == 4 and snow > 0:
                        ar = ar * (1 - snow) + 0.93 * snow
                        ag = ag * (1 - snow) + 0.93 * snow
                        ab = ab * (1 - snow) + 0.96 * snow
                else:
                    ar, ag, ab = 0.42, 0.43, 0.45  # pole / sign metal
                    nx = -(r[0, 0] * a + dx0)
                    ny = -(r[0, 1] * a + dy0)
                    nz = 0.0
                    nn = np.sqrt(nx * nx + ny * ny) + 1e-9
                    nx /= nn
                    ny /= nn
                    for q in range(housings.shape[0]):
                        hyaw = housings[q, 2]
                        ox = px - housings[q, 0]
                        oy = py - housings[q, 1]
                        la = np.cos(hyaw) * ox + np.sin(hyaw) * oy
                        lb = -np.sin(hyaw) * ox + np.cos(hyaw) * oy
                        z0 = housings[q, 5]
                        z1 = housings[q, 6]
                        if (
                            abs(la) <= housings[q, 3] + 0.05
                            and abs(lb) <= housings[q, 4] + 0.05
                            and z0 - 0.05 <= pz <= z1 + 0.05
                        ):
                            ar, ag, ab = 0.06, 0.06, 0.06
                            third = (z1 - z0) / 3
                            rad = 0.32 * min(2 * housings[q, 3], third)
                            for lamp in range(3):  # 0 green (bottom), 1 yellow, 2 red (top)
                                zc = z0 + (lamp + 0.5) * third
                                if la * la + (pz - zc) ** 2 < rad * rad:
                                    lr = 1.0 if lamp >= 1 else 0.1
                                    lg = 0.85 if lamp == 0 else (0.75 if lamp == 1 else 0.08)
                                    lb_ = 0.3 if lamp == 0 else 0.05
                                    on = hstate[q] == lamp  # state code == lamp index
                                    kf = 1.0 if on else 0.12
                                    ar, ag, ab = lr * kf, lg * kf, lb_ * kf
                                    if on:
                                        em = 1.2
                                        rgb[3], rgb[4], rgb[5] = lr, lg, lb_
                            break
                lit = amb + sun * max(nx * sx + ny * sy + nz * sz, 0.0)
                if nz > 0.5:
                    lit += 0.1 * amb
                cr = ar * lit * tint_r
                cg = ag * lit * tint_g
                cb = ab * lit * tint_b
                if em > 0:
                    cr += em * rgb[3]
                    cg += em * rgb[4]
                    cb += em * rgb[5]
            if extras:
                # ---- extra light: ego headlights, street lamps; wet reflection; fog ----
                add_r = 0.0
                add_g = 0.0
                add_b = 0.0
                if head > 0:
                    ox = px - ego_x
                    oy = py - ego_y
                    ex = ce * ox + se * oy - ego_half_len
                    ey = -se * ox + ce * oy
                    if ex > 0.5 and pz < 2.5:
                        tn = (ey + 0.4) / ex  # tan of the angle off the beam axis
                        if -HEAD_TAN_MAX < tn < HEAD_TAN_MAX:
                            beam = _lut(lut, 0, (tn + HEAD_TAN_MAX) * head_scale)
                            beam *= _lut(lut, 2, ex * range_scale) * head_k
                            if not is_ground:
                                beam *= 0.45
                            add_r += beam
                            add_g += beam * 0.96
                            add_b += beam * 0.85
                if street > 0:
                    gx = (px - g_x0) * g_inv
                    gy = (py - g_y0) * g_inv
                    if 0.0 <= gx < g_nx and 0.0 <= gy < g_ny:
                        pl = street * pool[int(gy), int(gx)]
                        add_r += pl
                        add_g += pl * 0.82
                        add_b += pl * 0.55
                cr += ar * add_r
                cg += ag * add_g
                cb += ab * add_b
                if is_ground and wet > 0 and paved[code] and hz_row > 0:
                    mi = int(2 * hz_row - i)
                    if 0 <= mi < i and gcode[mi, j] >= SOLID_CODE:
                        fres = 0.25 + 0.55 * max(0.0, 1.0 - (i - hz_row) / (0.6 * h))
                        kk = wet * fres / 255.0
                        cr += float(img[mi, j, 0]) * kk
                        cg += float(img[mi, j, 1]) * kk
                        cb += float(img[mi, j, 2]) * kk
                if vis > 0:
                    f = _lut(lut, 1, d * fog_scale)
                    cr = fog_r * (1 - f) + cr * f
                    cg = fog_g * (1 - f) + cg * f
                    cb = fog_b * (1 - f) + cb * f
            img[i, j, 0] = _to_u8(cr)
            img[i, j, 1] = _to_u8(cg)
            img[i, j, 2] = _to_u8(cb)
