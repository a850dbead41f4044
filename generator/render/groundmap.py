"""Top-down raster of the flat ground (z = 0), made once per road and looked up per pixel.

Every ground pixel of every frame is the intersection of its camera ray with z = 0; its class
comes from this raster. One byte per cell, a :class:`GroundCode`. Cells are ``res_m`` square;
cell (row r, column c) covers x in [x0 + c res, x0 + (c+1) res), y in [y0 + r res, ...).
Outside the raster the ground is grass.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from enum import IntEnum

import numba as nb
import numpy as np

from generator.render.types import SEMANTIC_CLASSES
from generator.world.types import MapElementKind, RoadGeometry


class GroundCode(IntEnum):
    GRASS = 0
    ASPHALT = 1  # paved but not a lane (shoulder, junction box, median strip)
    LANE = 2
    MARK_WHITE = 3  # lane lines, edge lines
    MARK_YELLOW = 4  # centre lines between directions
    SIDEWALK = 5
    CROSS_STRIPE = 6  # white bar of a zebra crossing
    CROSS_GAP = 7  # asphalt between the bars
    PARKING = 8
    STOP_LINE = 9
    ROAD_MARKING = 10  # arrows and other painted symbols


N_GROUND_CODES = 11

#: ground code -> semantic class id
GROUND_SEMANTIC = np.zeros(N_GROUND_CODES, np.uint8)
for _code, _name in {
    GroundCode.GRASS: "vegetation",
    GroundCode.ASPHALT: "road",
    GroundCode.LANE: "road",
    GroundCode.MARK_WHITE: "lane_marking",
    GroundCode.MARK_YELLOW: "lane_marking",
    GroundCode.SIDEWALK: "sidewalk",
    GroundCode.CROSS_STRIPE: "crosswalk",
    GroundCode.CROSS_GAP: "crosswalk",
    GroundCode.PARKING: "parking",
    GroundCode.STOP_LINE: "lane_marking",
    GroundCode.ROAD_MARKING: "lane_marking",
}.items():
    GROUND_SEMANTIC[_code] = SEMANTIC_CLASSES[_name]

#: painted widths [m]
LANE_LINE_WIDTH_M = 0.15
CENTRE_LINE_WIDTH_M = 0.2
EDGE_LINE_WIDTH_M = 0.2
STOP_LINE_WIDTH_M = 0.5
#: dashed lines: painted / period [m] (urban habit 3 m on, 6 m off)
DASH_ON_M = 3.0
DASH_PERIOD_M = 9.0
#: zebra bar width (bars and gaps alternate) [m]
ZEBRA_BAR_M = 0.5
MAX_CELLS = 48_000_000


@dataclass(frozen=True)
class GroundRaster:
    codes: np.ndarray  # [rows (y), cols (x)] uint8 GroundCode
    x0_m: float
    y0_m: float
    res_m: float


@nb.njit(cache=True)
def _fill_polygon(grid, xs, ys, x0, y0, res, code_a, code_b, ax, ay, period):  # type: ignore[no-untyped-def]
    """Even-odd fill of a polygon (cell centres inside). If period > 0, cells alternate between
    code_a and code_b in bands of ``period`` along the unit axis (ax, ay) (zebra bars)."""
    nrows, ncols = grid.shape
    n = xs.shape[0]
    ymin = ys.min()
    ymax = ys.max()
    r0 = max(int(np.floor((ymin - y0) / res - 0.5)), 0)
    r1 = min(int(np.ceil((ymax - y0) / res - 0.5)), nrows - 1)
    if r1 < r0:
        return
    nr = r1 - r0 + 1
    counts = np.zeros(nr, np.int64)
    for i in range(n):
        ya = ys[i]
        yb = ys[(i + 1) % n]
        lo = min(ya, yb)
        hi = max(ya, yb)
        ra = max(int(np.ceil((lo - y0) / res - 0.5)), r0)
        rb = min(int(np.ceil((hi - y0) / res - 0.5)) - 1, r1)
        for r in range(ra, rb + 1):
            counts[r - r0] += 1
    starts = np.zeros(nr + 1, np.int64)
    for r in range(nr):
        starts[r + 1] = starts[r] + counts[r]
    xsect = np.empty(starts[nr], np.float64)
    fillc = np.zeros(nr, np.int64)
    for i in range(n):
        xa = xs[i]
        ya = ys[i]
        xb = xs[(i + 1) % n]
        yb = ys[(i + 1) % n]
        if ya == yb:
            continue
        lo = min(ya, yb)
        hi = max(ya, yb)
        ra = max(int(np.ceil((lo - y0) / res - 0.5)), r0)
        rb = min(int(np.ceil((hi - y0) / res - 0.5)) - 1, r1)
        for r in range(ra, rb + 1):
            yc = y0 + (r + 0.5) * res
            t = (yc - ya) / (yb - ya)
            k = r - r0
            xsect[starts[k] + fillc[k]] = xa + t * (xb - xa)
            fillc[k] += 1
    for k in range(nr):
        m = fillc[k]
        if m < 2:
            continue
        row = np.sort(xsect[starts[k] : starts[k] + m])
        r = r0 + k
        yc = y0 + (r + 0.5) * res
        for j in range(0, m - 1, 2):
            c0 = max(int(np.ceil((row[j] - x0) / res - 0.5)), 0)
            c1 = min(int(np.ceil((row[j + 1] - x0) / res - 0.5)) - 1, ncols - 1)
            for c in range(c0, c1 + 1):
                if period > 0.0:
                    xc = x0 + (c + 0.5) * res
                    band = int(np.floor((xc * ax + yc * ay) / period))
                    grid[r, c] = code_a if band % 2 == 0 else code_b
                else:
                    grid[r, c] = code_a


@nb.njit(cache=True)
def _stamp_polyline(grid, xs, ys, keep, x0, y0, res, half_w, code):  # type: ignore[no-untyped-def]
    """Paint segments i -> i+1 (where keep[i] and keep[i+1]) with half width ``half_w``."""
    nrows, ncols = grid.shape
    for i in range(xs.shape[0] - 1):
        if not (keep[i] and keep[i + 1]):
            continue
        ax = xs[i]
        ay = ys[i]
        bx = xs[i + 1]
        by = ys[i + 1]
        dx = bx - ax
        dy = by - ay
        ll = dx * dx + dy * dy
        c0 = max(int(np.floor((min(ax, bx) - half_w - x0) / res)), 0)
        c1 = min(int(np.floor((max(ax, bx) + half_w - x0) / res)), ncols - 1)
        r0 = max(int(np.floor((min(ay, by) - half_w - y0) / res)), 0)
        r1 = min(int(np.floor((max(ay, by) + half_w - y0) / res)), nrows - 1)
        for r in range(r0, r1 + 1):
            yc = y0 + (r + 0.5) * res
            for c in range(c0, c1 + 1):
                xc = x0 + (c + 0.5) * res
                t = 0.0
                if ll > 0:
                    t = ((xc - ax) * dx + (yc - ay) * dy) / ll
                    t = min(max(t, 0.0), 1.0)
                ex = ax + t * dx - xc
                ey = ay + t * dy - yc
                if ex * ex + ey * ey <= half_w * half_w:
                    grid[r, c] = code


def resample_polyline(points_xy: np.ndarray, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Resample a polyline at ``step_m`` spacing -> (points [M, 2], arc length [M])."""
    p = np.asarray(points_xy, dtype=np.float64)[:, :2]
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return p[:1].repeat(2, axis=0), np.zeros(2)
    si = np.arange(0.0, s[-1] + 1e-9, step_m)
    if si[-1] < s[-1]:
        si = np.append(si, s[-1])
    return np.stack([np.interp(si, s, p[:, 0]), np.interp(si, s, p[:, 1])], axis=1), si


def _polygon_axis(xy: np.ndarray) -> tuple[float, float]:
    """Unit direction of the longest edge of a polygon (the long axis of a crosswalk)."""
    d = np.diff(np.vstack([xy, xy[:1]]), axis=0)
    k = int(np.argmax(np.hypot(d[:, 0], d[:, 1])))
    n = float(np.hypot(*d[k])) or 1.0
    return float(d[k, 0] / n), float(d[k, 1] / n)


_FILL_ORDER = (
    (MapElementKind.GRASS, GroundCode.GRASS),
    (MapElementKind.SIDEWALK, GroundCode.SIDEWALK),
    (MapElementKind.PARKING, GroundCode.PARKING),
    (MapElementKind.LANE, GroundCode.LANE),
)


def build_ground_raster(road: RoadGeometry, res_m: float = 0.05) -> GroundRaster:
    """Rasterise the road's ground layers: drivable area, lanes, sidewalks, markings."""
    pts = [e.points_xyz[:, :2] for e in road.elements] + [p[:, :2] for p in road.drivable]
    allp = np.concatenate(pts, axis=0) if pts else np.zeros((1, 2))
    lo = allp.min(axis=0) - 2.0
    hi = allp.max(axis=0) + 2.0
    while (hi[0] - lo[0]) * (hi[1] - lo[1]) / res_m**2 > MAX_CELLS:
        res_m *= 1.25
    ncols = int(np.ceil((hi[0] - lo[0]) / res_m))
    nrows = int(np.ceil((hi[1] - lo[1]) / res_m))
    grid = np.zeros((nrows, ncols), np.uint8)
    x0, y0 = float(lo[0]), float(lo[1])

    def fill(xy: np.ndarray, code: int, axis: tuple[float, float] | None = None) -> None:
        xy = np.ascontiguousarray(xy[:, :2], dtype=np.float64)
        ax, ay = axis if axis is not None else (1.0, 0.0)
        code_b = GroundCode.CROSS_GAP if axis is not None else code
        period = ZEBRA_BAR_M if axis is not None else 0.0
        _fill_polygon(
            grid,
            xy[:, 0].copy(),
            xy[:, 1].copy(),
            x0,
            y0,
            res_m,
            int(code),
            int(code_b),
            ax,
            ay,
            period,
        )

    for poly in road.drivable:
        fill(poly, GroundCode.ASPHALT)
    for kind, code in _FILL_ORDER:
        for e in road.elements:
            if e.kind is kind and e.closed:
                fill(e.points_xyz, code)
    for e in road.elements:
        if e.kind is MapElementKind.CROSSWALK:
            xy = e.points_xyz[:, :2]
            # zebra bars run along traffic: bands alternate along the crosswalk's long axis
            fill(xy, GroundCode.CROSS_STRIPE, _polygon_axis(xy))
        elif e.kind is MapElementKind.ROAD_MARKING and e.closed:
            fill(e.points_xyz, GroundCode.ROAD_MARKING)
    lines = {
        MapElementKind.ROAD_BOUNDARY: (EDGE_LINE_WIDTH_M, GroundCode.MARK_WHITE),
        MapElementKind.LANE_LINE: (LANE_LINE_WIDTH_M, GroundCode.MARK_WHITE),
        MapElementKind.CENTRE_LINE: (CENTRE_LINE_WIDTH_M, GroundCode.MARK_YELLOW),
        MapElementKind.STOP_LINE: (STOP_LINE_WIDTH_M, GroundCode.STOP_LINE),
    }
    for e in road.elements:
        if e.kind not in lines:
            continue
        width, code = lines[e.kind]
        xy, s = resample_polyline(e.points_xyz, 0.1)
        keep = (np.mod(s, DASH_PERIOD_M) < DASH_ON_M) if e.dashed else np.ones(len(s), bool)
        _stamp_polyline(
            grid, xy[:, 0].copy(), xy[:, 1].copy(), keep, x0, y0, res_m, width / 2, int(code)
        )
    return GroundRaster(codes=grid, x0_m=x0, y0_m=y0, res_m=res_m)


#: most recently used rasters (a raster is up to tens of MB; keep only a few)
_CACHE: OrderedDict[int, tuple[weakref.ref[RoadGeometry], GroundRaster]] = OrderedDict()
_CACHE_SIZE = 4
_LOCK = threading.Lock()


def ground_raster_for(road: RoadGeometry) -> GroundRaster:
    """``build_ground_raster`` cached for the few most recent RoadGeometry objects."""
    key = id(road)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0]() is road:
            _CACHE.move_to_end(key)
            return hit[1]
    raster = build_ground_raster(road)
    with _LOCK:
        _CACHE[key] = (weakref.ref(road), raster)
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return raster
