"""Road geometry from a parametric :class:`~scenario_library.scene.RoadLayout`.

Everything follows the conventions of ``scenario_library.scene`` (world frame, OpenDRIVE lane
ids, ``lane_bounds_t`` / ``lane_center_t``). Road 0 is straight or a constant-curvature arc
starting at the origin heading +x; road 1 (junction only) is straight, perpendicular to road 0 at
``junction.s_m``, heading to the left of road 0, with its s=0 at ``arm_length_m`` before the
junction centre.

``build_road(layout)`` returns a cached :class:`RoadGeometry` (drawable map elements, the
centreline of every driving lane in its travel direction, drivable polygons).

Street lighting (``MapElementKind.STREET_LAMP``, see :func:`street_lamp_elements`) is part of
the road: the renderer draws the posts in every control map and the RGB, and lights the scene
from their lamps at night and dusk; ``street_lamp_heads(road)`` lists the light sources.
``turn_path(layout, from_lane, to_lane)`` returns the path of a vehicle that enters the junction
from one lane and leaves into another. ``lane_path`` gives the centreline of any lane (driving,
parking or sidewalk) in travel direction. All polylines are sampled every <= 0.5 m.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from generator.errors import RolloutError
from generator.world.types import MapElement, MapElementKind, RoadGeometry
from scenario_library.scene import (
    LaneRef,
    RoadLayout,
    carriageway_half_widths,
    lane_bounds_t,
    lane_center_t,
    lane_kind,
)

#: sampling step of every polyline [m]
STEP_M = 0.5
CROSSWALK_WIDTH_M = 3.0
STOP_LINE_GAP_M = 1.0  # between a stop line and the crosswalk / junction box [m]
GRASS_WIDTH_M = 12.0
POLE_HEIGHT_M = 5.5
#: urban street lamps: staggered along both sidewalks, on the kerb side of the sidewalk
URBAN_LAMP_SPACING_M = 30.0
URBAN_LAMP_HEIGHT_M = 7.0
URBAN_LAMP_KERB_OFFSET_M = 0.5  # post axis behind the kerb line [m]
URBAN_LAMP_ARM_M = 1.5  # arm from the post top towards the carriageway [m]
#: highway lamps: central-reservation posts (outside the shoulder when there is no median)
HIGHWAY_LAMP_SPACING_M = 40.0
HIGHWAY_LAMP_HEIGHT_M = 10.0
HIGHWAY_LAMP_ARM_M = 2.0
HIGHWAY_LAMP_VERGE_OFFSET_M = 1.0  # beyond the outer edge of the shoulder [m]
#: no lamp post this close (along the road) to a junction box edge or a crosswalk centre [m]
LAMP_CLEARANCE_M = 6.0
LAMP_HEAD_DROP_M = 0.2  # the light source below the arm end [m]
LIGHT_HOUSING_M = (0.35, 1.0)  # width, height of a signal head [m]


# --------------------------------------------------------------------------- reference lines
def road_frame(
    layout: RoadLayout, road_id: int, s_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference point (x, y) [.., 2] and heading [..] [rad] of a road at arc length s [m]."""
    s = np.asarray(s_m, dtype=np.float64)
    if road_id == 0:
        r = layout.curve_radius_m
        if r is None or not math.isfinite(r) or abs(r) > 1e7:
            xy = np.stack([s, np.zeros_like(s)], axis=-1)
            return xy, np.zeros_like(s), np.zeros_like(s)
        th = s / r
        xy = np.stack([r * np.sin(th), r * (1.0 - np.cos(th))], axis=-1)
        return xy, th, np.full_like(s, 1.0 / r)
    j = layout.junction
    if j is None:
        raise RolloutError(f"road_id={road_id}: road 1 exists only with a junction")
    c, h0, _ = road_frame(layout, 0, np.array(j.s_m))
    h1 = float(h0) + math.pi / 2
    d = np.array([math.cos(h1), math.sin(h1)])
    xy = c[None, :] * 1.0 + (s[..., None] - j.arm_length_m) * d
    xy = xy.reshape((*s.shape, 2))
    return xy, np.full_like(s, h1), np.zeros_like(s)


def road_length(layout: RoadLayout, road_id: int) -> float:
    if road_id == 0:
        return layout.length_m
    if layout.junction is None:
        raise RolloutError(f"road_id={road_id}: road 1 exists only with a junction")
    return 2.0 * layout.junction.arm_length_m


def road_to_world(layout: RoadLayout, road_id: int, s_m: np.ndarray, t_m: np.ndarray) -> np.ndarray:
    """World (x, y) [.., 2] of road coordinates (s along, t + left) [m]."""
    xy, h, _ = road_frame(layout, road_id, s_m)
    t = np.asarray(t_m, dtype=np.float64)
    n = np.stack([-np.sin(h), np.cos(h)], axis=-1)
    return xy + t[..., None] * n


def world_to_road0(
    layout: RoadLayout, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Road-0 coordinates (s, t) [m] of world points (exact for straight and arc roads)."""
    r = layout.curve_radius_m
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if r is None or abs(r) > 1e7:
        return x, y
    th = np.arctan2(x / r, (r - y) / r)
    d = np.hypot(x, y - r)
    return r * th, r - math.copysign(1.0, r) * d


def _samples(length_m: float) -> np.ndarray:
    n = max(2, math.ceil(length_m / STEP_M) + 1)
    return np.linspace(0.0, length_m, n)


# --------------------------------------------------------------------------- junction helpers
def junction_box_half(layout: RoadLayout, road_id: int) -> float:
    """Half extent of the junction box along road ``road_id`` [m] (the other road's width)."""
    other = 1 - road_id
    if layout.junction is None:
        return 0.0
    r, left = carriageway_half_widths(layout, other)
    return max(r, left)


def junction_centre_s(layout: RoadLayout, road_id: int) -> float:
    j = layout.junction
    if j is None:
        raise RolloutError("junction: layout has none")
    return j.s_m if road_id == 0 else j.arm_length_m


def stop_line_s(layout: RoadLayout, road_id: int, lane_id: int) -> float:
    """Along-road s [m] of the stop line that the lane ``lane_id`` of ``road_id`` meets
    before the junction (before the crosswalk, if any)."""
    j = layout.junction
    if j is None:
        raise RolloutError("junction: layout has none")
    d = junction_box_half(layout, road_id) + STOP_LINE_GAP_M
    if j.has_crosswalks:
        d += CROSSWALK_WIDTH_M
    c = junction_centre_s(layout, road_id)
    return c - d if lane_id < 0 else c + d


def _cut_ranges(layout: RoadLayout, road_id: int) -> list[tuple[float, float]]:
    """s-ranges of a road kept for kerb-side elements (junction box cut out)."""
    length = road_length(layout, road_id)
    if layout.junction is None:
        return [(0.0, length)]
    c = junction_centre_s(layout, road_id)
    h = junction_box_half(layout, road_id)
    return [(0.0, max(0.0, c - h)), (min(length, c + h), length)]


# --------------------------------------------------------------------------- lanes
def _travel_sign(lane_id: int) -> int:
    """+1 when the lane travels in +s (right lanes, negative ids), else -1."""
    return 1 if lane_id < 0 else -1


def lane_path(layout: RoadLayout, road_id: int, lane_id: int) -> np.ndarray:
    """Centreline of any lane of a road in its travel direction [N, 2] (every <= 0.5 m)."""
    if lane_kind(layout, road_id, lane_id) == "none":
        raise RolloutError(f"lane_id={lane_id}: road {road_id} has no such lane")
    t = lane_center_t(layout, road_id, lane_id)
    length = road_length(layout, road_id)
    r = layout.curve_radius_m if road_id == 0 else None
    stretch = abs(1.0 - t / r) if r else 1.0  # a lane at offset t on an arc of radius r
    s = np.linspace(0.0, length, max(2, math.ceil(length * stretch / STEP_M) + 1))
    if _travel_sign(lane_id) < 0:
        s = s[::-1]
    return road_to_world(layout, road_id, s, np.full_like(s, t))


def resample(poly: np.ndarray, step_m: float = STEP_M) -> np.ndarray:
    """Resample a polyline uniformly by arc length (end points kept)."""
    seg = np.hypot(*np.diff(poly, axis=0).T)
    keep = np.concatenate([[True], seg > 1e-9])
    poly = poly[keep]
    seg = np.hypot(*np.diff(poly, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(cum[-1])
    n = max(2, math.ceil(total / step_m) + 1)
    s = np.linspace(0.0, total, n)
    return np.stack([np.interp(s, cum, poly[:, 0]), np.interp(s, cum, poly[:, 1])], axis=-1)


def _entry_exit_s(layout: RoadLayout, road_id: int, lane_id: int) -> tuple[float, float]:
    """s [m] where a lane enters and leaves the junction box (in travel order)."""
    c = junction_centre_s(layout, road_id)
    h = junction_box_half(layout, road_id)
    return (c - h, c + h) if lane_id < 0 else (c + h, c - h)


def turn_path(layout: RoadLayout, from_lane: LaneRef, to_lane: LaneRef) -> np.ndarray:
    """Path [N, 2] of a vehicle coming along ``from_lane``, turning through the junction into
    ``to_lane`` and following it to its end: lane centreline, a cubic Bezier inside the junction
    box with tangents along both lanes, then the exit lane centreline."""
    if layout.junction is None:
        raise RolloutError("turn_to: the layout has no junction")
    fr, fl, tr, tl = from_lane.road_id, from_lane.lane_id, to_lane.road_id, to_lane.lane_id
    for r, lid in ((fr, fl), (tr, tl)):
        if lane_kind(layout, r, lid) != "driving":
            raise RolloutError(f"lane_id={lid}: road {r} lane is not a driving lane")
    s_in, _ = _entry_exit_s(layout, fr, fl)
    if fr == tr:  # straight through on the same road
        return lane_path(layout, fr, fl)
    _, s_out = _entry_exit_s(layout, tr, tl)
    # the exit road leaves the junction at the far side of the box in its travel direction
    c_out = junction_centre_s(layout, tr)
    h_out = junction_box_half(layout, tr)
    s_out = c_out + h_out if tl < 0 else c_out - h_out
    t_f, t_t = lane_center_t(layout, fr, fl), lane_center_t(layout, tr, tl)
    sf, st = _travel_sign(fl), _travel_sign(tl)
    len_f, len_t = road_length(layout, fr), road_length(layout, tr)
    s_a = _samples(len_f)
    s_a = s_a[s_a <= s_in] if sf > 0 else s_a[s_a >= s_in][::-1]
    approach = road_to_world(layout, fr, s_a, np.full_like(s_a, t_f))
    s_b = _samples(len_t)
    s_b = s_b[s_b >= s_out] if st > 0 else s_b[s_b <= s_out][::-1]
    exit_ = road_to_world(layout, tr, s_b, np.full_like(s_b, t_t))
    p0 = road_to_world(layout, fr, np.array(s_in), np.array(t_f))
    p3 = road_to_world(layout, tr, np.array(s_out), np.array(t_t))
    _, h_f, _ = road_frame(layout, fr, np.array(s_in))
    _, h_t, _ = road_frame(layout, tr, np.array(s_out))
    d0 = np.array([math.cos(float(h_f)), math.sin(float(h_f))]) * sf
    d3 = np.array([math.cos(float(h_t)), math.sin(float(h_t))]) * st
    k = 0.3905 * float(np.hypot(*(p3 - p0)))  # ~circular arc for a 90 degree turn
    u = np.linspace(0.0, 1.0, 60)[:, None]
    p1, p2 = p0 + k * d0, p3 - k * d3
    bez = (1 - u) ** 3 * p0 + 3 * (1 - u) ** 2 * u * p1 + 3 * (1 - u) * u**2 * p2 + u**3 * p3
    return resample(np.concatenate([approach, bez, exit_], axis=0))


# --------------------------------------------------------------------------- elements
def _line(layout: RoadLayout, road_id: int, s0: float, s1: float, t: float) -> np.ndarray:
    s = np.linspace(s0, s1, max(2, math.ceil((s1 - s0) / STEP_M) + 1))
    xy = road_to_world(layout, road_id, s, np.full_like(s, t))
    return np.concatenate([xy, np.zeros((len(s), 1))], axis=1)


def _band(
    layout: RoadLayout, road_id: int, s0: float, s1: float, t0: float, t1: float
) -> np.ndarray:
    a = _line(layout, road_id, s0, s1, t0)
    b = _line(layout, road_id, s0, s1, t1)[::-1]
    return np.concatenate([a, b], axis=0)


def _road_elements(layout: RoadLayout, road_id: int) -> list[MapElement]:
    out: list[MapElement] = []
    length = road_length(layout, road_id)
    cuts = _cut_ranges(layout, road_id)
    full = [(0.0, length)]
    tag = f"road{road_id}"
    n_right = layout.lanes_right if road_id == 0 else layout.junction.lanes_per_direction  # type: ignore[union-attr]
    n_left = layout.lanes_left if road_id == 0 else layout.junction.lanes_per_direction  # type: ignore[union-attr]
    median = layout.median_width_m if road_id == 0 else 0.0
    # lanes (polygons), lane lines, kerbside elements
    for side, n in ((-1, n_right), (1, n_left)):
        k = 1
        while True:
            lid = side * k
            kind = lane_kind(layout, road_id, lid)
            if kind == "none":
                break
            a, b = lane_bounds_t(layout, road_id, lid)
            ranges = full if kind == "driving" else cuts
            ek = {
                "driving": MapElementKind.LANE,
                "parking": MapElementKind.PARKING,
                "sidewalk": MapElementKind.SIDEWALK,
            }[kind]
            for i, (s0, s1) in enumerate(ranges):
                if s1 - s0 > 0.1:
                    out.append(
                        MapElement(
                            ek,
                            _band(layout, road_id, s0, s1, a, b),
                            closed=True,
                            element_id=f"{tag}/lane{lid}/{i}",
                        )
                    )
            if kind == "driving" and k < n:  # dashed line to the next driving lane
                for i, (s0, s1) in enumerate(cuts):
                    if s1 - s0 > 0.1:
                        out.append(
                            MapElement(
                                MapElementKind.LANE_LINE,
                                _line(layout, road_id, s0, s1, b),
                                dashed=True,
                                element_id=f"{tag}/line{lid}/{i}",
                            )
                        )
            if (
                kind == "driving"
                and k == n
                and lane_kind(layout, road_id, side * (k + 1)) == "parking"
            ):
                for i, (s0, s1) in enumerate(cuts):
                    if s1 - s0 > 0.1:
                        out.append(
                            MapElement(
                                MapElementKind.LANE_LINE,
                                _line(layout, road_id, s0, s1, b),
                                element_id=f"{tag}/edge{lid}/{i}",
                            )
                        )
            k += 1
        # road boundary (kerb) at the carriageway edge
        half_r, half_l = carriageway_half_widths(layout, road_id)
        t_edge = -half_r if side < 0 else half_l
        if n > 0 or abs(t_edge) > median / 2 + 1e-6:
            for i, (s0, s1) in enumerate(cuts):
                if s1 - s0 > 0.1:
                    out.append(
                        MapElement(
                            MapElementKind.ROAD_BOUNDARY,
                            _line(layout, road_id, s0, s1, t_edge),
                            element_id=f"{tag}/boundary{side:+d}/{i}",
                        )
                    )
            if layout.shoulder_width_m > 0 and n > 0:
                t_dl = lane_bounds_t(layout, road_id, side * n)[1]
                for i, (s0, s1) in enumerate(cuts):
                    if s1 - s0 > 0.1:
                        out.append(
                            MapElement(
                                MapElementKind.LANE_LINE,
                                _line(layout, road_id, s0, s1, t_dl),
                                element_id=f"{tag}/shoulder{side:+d}/{i}",
                            )
                        )
        # grass verge beyond everything
        outer = t_edge
        if layout.sidewalk_width_m > 0:
            outer = side * max(abs(t_edge), abs(_outermost_t(layout, road_id, side)))
        for i, (s0, s1) in enumerate(cuts):
            if s1 - s0 > 0.1:
                out.append(
                    MapElement(
                        MapElementKind.GRASS,
                        _band(layout, road_id, s0, s1, outer, outer + side * GRASS_WIDTH_M),
                        closed=True,
                        element_id=f"{tag}/grass{side:+d}/{i}",
                    )
                )
    # centre line(s) between directions
    if n_right > 0 and n_left > 0:
        ts = [0.0] if median <= 0 else [-median / 2, median / 2]
        for t in ts:
            for i, (s0, s1) in enumerate(cuts):
                if s1 - s0 > 0.1:
                    out.append(
                        MapElement(
                            MapElementKind.CENTRE_LINE,
                            _line(layout, road_id, s0, s1, t),
                            element_id=f"{tag}/centre{t:+.1f}/{i}",
                        )
                    )
        if median > 1.0:
            for i, (s0, s1) in enumerate(cuts):
                if s1 - s0 > 0.1:
                    out.append(
                        MapElement(
                            MapElementKind.GRASS,
                            _band(layout, road_id, s0, s1, -median / 2 + 0.2, median / 2 - 0.2),
                            closed=True,
                            element_id=f"{tag}/median/{i}",
                        )
                    )
    return out


def _outermost_t(layout: RoadLayout, road_id: int, side: int) -> float:
    k, last = 1, 0.0
    while lane_kind(layout, road_id, side * k) != "none":
        last = lane_bounds_t(layout, road_id, side * k)[1]
        k += 1
    return last


def _crosswalk(layout: RoadLayout, road_id: int, s_c: float, name: str) -> MapElement:
    half_r, half_l = carriageway_half_widths(layout, road_id)
    poly = _band(
        layout, road_id, s_c - CROSSWALK_WIDTH_M / 2, s_c + CROSSWALK_WIDTH_M / 2, -half_r, half_l
    )
    return MapElement(MapElementKind.CROSSWALK, poly, closed=True, element_id=name)


def _junction_elements(layout: RoadLayout) -> list[MapElement]:
    j = layout.junction
    assert j is not None
    out: list[MapElement] = []
    for road_id in (0, 1):
        c = junction_centre_s(layout, road_id)
        h = junction_box_half(layout, road_id)
        n = j.lanes_per_direction if road_id == 1 else None
        for side in (-1, 1):  # -1: lanes travelling +s (approach from s < c)
            n_dir = n if n is not None else (layout.lanes_right if side < 0 else layout.lanes_left)
            if n_dir == 0:
                continue
            if j.has_crosswalks:
                s_cw = c + (-1 if side < 0 else 1) * (h + CROSSWALK_WIDTH_M / 2)
                out.append(_crosswalk(layout, road_id, s_cw, f"crosswalk:road{road_id}{side:+d}"))
            s_stop = stop_line_s(layout, road_id, side)
            t_in = lane_bounds_t(layout, road_id, side)[0]
            t_out = lane_bounds_t(layout, road_id, side * n_dir)[1]
            a = road_to_world(layout, road_id, np.array([s_stop, s_stop]), np.array([t_in, t_out]))
            out.append(
                MapElement(
                    MapElementKind.STOP_LINE,
                    np.concatenate([a, np.zeros((2, 1))], axis=1),
                    element_id=f"stop:road{road_id}{side:+d}",
                )
            )
            if j.has_traffic_lights:
                # pole on the kerb at the driver's right of the stop line, head facing traffic
                half_r, half_l = carriageway_half_widths(layout, road_id)
                t_pole = (-half_r - 0.8) if side < 0 else (half_l + 0.8)
                p = road_to_world(layout, road_id, np.array(s_stop), np.array(t_pole))
                x, y = float(p[0]), float(p[1])
                out.append(
                    MapElement(
                        MapElementKind.POLE,
                        np.array([[x, y, 0.0], [x, y, POLE_HEIGHT_M]]),
                        element_id=f"light:road{road_id}{side:+d}/pole",
                    )
                )
                _, hd, _ = road_frame(layout, road_id, np.array(s_stop))
                nx, ny = -math.sin(float(hd)), math.cos(float(hd))  # across the road
                w, hh = LIGHT_HOUSING_M
                z0 = POLE_HEIGHT_M - hh
                pts = np.array(
                    [
                        [x - nx * w / 2, y - ny * w / 2, z0],
                        [x + nx * w / 2, y + ny * w / 2, z0],
                        [x + nx * w / 2, y + ny * w / 2, z0 + hh],
                        [x - nx * w / 2, y - ny * w / 2, z0 + hh],
                    ]
                )
                out.append(
                    MapElement(
                        MapElementKind.TRAFFIC_LIGHT,
                        pts,
                        closed=True,
                        element_id=f"light:road{road_id}{side:+d}",
                    )
                )
    return out


def _lamp_s(layout: RoadLayout, road_id: int, spacing_m: float, first_m: float) -> list[float]:
    """Along-road s [m] of lamp posts: every ``spacing_m`` from ``first_m``, kept clear of the
    junction box (and its crosswalks / signal poles) and of mid-block crosswalks."""
    length = road_length(layout, road_id)
    keep_out: list[tuple[float, float]] = []
    if layout.junction is not None:
        c = junction_centre_s(layout, road_id)
        h = junction_box_half(layout, road_id) + CROSSWALK_WIDTH_M + STOP_LINE_GAP_M
        keep_out.append((c - h - LAMP_CLEARANCE_M, c + h + LAMP_CLEARANCE_M))
    if road_id == 0:
        for s_c in layout.crosswalk_s_m:
            half = CROSSWALK_WIDTH_M / 2 + LAMP_CLEARANCE_M
            keep_out.append((s_c - half, s_c + half))
    out = []
    s = first_m
    while s <= length - 1.0:
        if not any(a <= s <= b for a, b in keep_out):
            out.append(s)
        s += spacing_m
    return out


def _lamp(
    layout: RoadLayout, road_id: int, s: float, t_post: float, t_arm: float, h: float, name: str
) -> MapElement:
    p = road_to_world(layout, road_id, np.array([s, s]), np.array([t_post, t_arm]))
    pts = np.array(
        [[p[0, 0], p[0, 1], 0.0], [p[0, 0], p[0, 1], h], [p[1, 0], p[1, 1], h]], np.float64
    )
    return MapElement(MapElementKind.STREET_LAMP, pts, element_id=name)


def street_lamp_elements(layout: RoadLayout) -> list[MapElement]:
    """Street lamps implied by the road context (deterministic per layout).

    * Urban (straight and intersection) roads with a sidewalk: posts every
      ``URBAN_LAMP_SPACING_M`` along both sidewalks of every road, staggered by half a spacing
      between the two sides, ``URBAN_LAMP_KERB_OFFSET_M`` behind the kerb (on the sidewalk's
      kerb side, out of the walking line at the sidewalk centre), ``URBAN_LAMP_HEIGHT_M`` high,
      with an arm of ``URBAN_LAMP_ARM_M`` towards the carriageway.
    * Highway: central-reservation posts on road 0 every ``HIGHWAY_LAMP_SPACING_M`` in the
      middle of the median (arms alternately over the two carriageways), or, with a median
      under 1 m, staggered posts ``HIGHWAY_LAMP_VERGE_OFFSET_M`` beyond the outer shoulder
      edges; ``HIGHWAY_LAMP_HEIGHT_M`` high. The crossing road of a highway junction is unlit.
    * Rural roads are unlit (night there is headlights only), as most rural roads are.

    No post stands within ``LAMP_CLEARANCE_M`` (along the road) of a junction box with its
    crosswalks and signal poles, or of a mid-block crosswalk, and no post is on the
    carriageway: lamps are static roadside scenery, never in an agent's lane.
    """
    ctx = layout.context.value
    out: list[MapElement] = []
    if ctx.startswith("urban") and layout.sidewalk_width_m > 0:
        off = min(URBAN_LAMP_KERB_OFFSET_M, layout.sidewalk_width_m / 4)
        roads = (0, 1) if layout.junction is not None else (0,)
        for road_id in roads:
            half_r, half_l = carriageway_half_widths(layout, road_id)
            for side, t_kerb, first in (
                (-1, -half_r, URBAN_LAMP_SPACING_M / 2),
                (1, half_l, URBAN_LAMP_SPACING_M),
            ):
                t_post = t_kerb + side * off
                t_arm = t_post - side * URBAN_LAMP_ARM_M
                for k, s in enumerate(_lamp_s(layout, road_id, URBAN_LAMP_SPACING_M, first)):
                    out.append(
                        _lamp(
                            layout,
                            road_id,
                            s,
                            t_post,
                            t_arm,
                            URBAN_LAMP_HEIGHT_M,
                            f"lamp:road{road_id}{side:+d}/{k}",
                        )
                    )
    elif ctx == "highway":
        lamps_s = _lamp_s(layout, 0, HIGHWAY_LAMP_SPACING_M, HIGHWAY_LAMP_SPACING_M / 2)
        if layout.median_width_m >= 1.0:
            for k, s in enumerate(lamps_s):
                arm = -HIGHWAY_LAMP_ARM_M if k % 2 == 0 else HIGHWAY_LAMP_ARM_M
                out.append(
                    _lamp(layout, 0, s, 0.0, arm, HIGHWAY_LAMP_HEIGHT_M, f"lamp:road0/median/{k}")
                )
        else:
            half_r, half_l = carriageway_half_widths(layout, 0)
            for side, t_edge in ((-1, -half_r), (1, half_l)):
                t_post = t_edge + side * HIGHWAY_LAMP_VERGE_OFFSET_M
                t_arm = t_post - side * HIGHWAY_LAMP_ARM_M
                for k, s in enumerate(lamps_s):
                    if (k % 2 == 0) == (side < 0):
                        out.append(
                            _lamp(
                                layout,
                                0,
                                s,
                                t_post,
                                t_arm,
                                HIGHWAY_LAMP_HEIGHT_M,
                                f"lamp:road0{side:+d}/{k}",
                            )
                        )
    return out


def lamp_head(points_xyz: np.ndarray) -> tuple[float, float, float]:
    """The light source of one ``STREET_LAMP`` element (world [m]): under its arm end."""
    p = points_xyz[-1]
    return float(p[0]), float(p[1]), float(p[2]) - LAMP_HEAD_DROP_M


def street_lamp_heads(road: RoadGeometry) -> np.ndarray:
    """Light sources [L, 3] (world [m]) of every ``STREET_LAMP`` element of ``road``."""
    heads = [lamp_head(e.points_xyz) for e in road.elements if e.kind is MapElementKind.STREET_LAMP]
    return np.array(heads, np.float64).reshape(-1, 3)


def _drivable(layout: RoadLayout) -> tuple[np.ndarray, ...]:
    polys = []
    roads = (0, 1) if layout.junction is not None else (0,)
    for road_id in roads:
        half_r, half_l = carriageway_half_widths(layout, road_id)
        poly = _band(layout, road_id, 0.0, road_length(layout, road_id), -half_r, half_l)
        polys.append(poly[:, :2].copy())
    return tuple(polys)


@lru_cache(maxsize=64)
def build_road(layout: RoadLayout) -> RoadGeometry:
    """Map elements, driving-lane centrelines (travel direction) and drivable polygons.

    Cached by layout (layouts are frozen and hashable); treat the result as read-only.
    """
    elements = _road_elements(layout, 0)
    if layout.junction is not None:
        elements += _road_elements(layout, 1)
        elements += _junction_elements(layout)
    for i, s_c in enumerate(layout.crosswalk_s_m):
        elements.append(_crosswalk(layout, 0, s_c, f"crosswalk:road0/{i}"))
    elements += street_lamp_elements(layout)
    centrelines: dict[tuple[int, int], np.ndarray] = {}
    roads = (0, 1) if layout.junction is not None else (0,)
    for road_id in roads:
        for side in (-1, 1):
            k = 1
            while lane_kind(layout, road_id, side * k) == "driving":
                centrelines[(road_id, side * k)] = lane_path(layout, road_id, side * k)
                k += 1
    geom = RoadGeometry(
        elements=tuple(elements), centrelines=centrelines, drivable=_drivable(layout)
    )
    geom.validate()
    for c in centrelines.values():
        c.setflags(write=False)
    return geom
