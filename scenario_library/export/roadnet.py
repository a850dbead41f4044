"""OpenDRIVE 1.7 road network of a :class:`~scenario_library.scene.RoadLayout`.

The scene describes at most two continuous roads (road 0, and road 1 crossing it at a junction).
OpenDRIVE needs roads to end at a junction, so a junction layout is written as four arms plus
connecting roads. :class:`RoadNet` keeps the mapping between scene road coordinates
``(road_id, lane_id, s)`` and OpenDRIVE ones, so that every position exported to OpenSCENARIO
refers to the road that is actually in the .xodr file.

Layout of the OpenDRIVE roads (ids)::

    scene road 0, straight or arc          -> xodr road 0 (whole length), no junction
    scene road 0 with a junction at s_j    -> xodr road 0: s in [0, s_j - a]
                                              xodr road 2: s in [s_j + a, length] (offset s_j + a)
    scene road 1 (junction only)           -> xodr road 1: s in [0, arm - b]
                                              xodr road 3: s in [arm + b, 2 arm] (offset arm + b)
    junction                               -> xodr junction 10, connecting roads 100, 101, ...

``a`` is the half width of road 1 (all its lanes) and ``b`` the half width of road 0: the
junction box is exactly the area where the two roads overlap.

Lanes, innermost first on each side, keep the lateral bounds of
:func:`scenario_library.scene.lane_bounds_t`: (median half, if any), driving lanes, parking
lane, sidewalk, then a paved shoulder outermost. A median is an OpenDRIVE lane of type
``median`` (width ``median_width_m / 2`` on each side), so with a median every scene lane id
``k`` becomes OpenDRIVE lane id ``k + sign(k)``; :meth:`RoadNet.xodr_lane_id` does the mapping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from scenariogeneration import xodr

from scenario_library.errors import ExportError
from scenario_library.scene import (
    PARKING_LANE_WIDTH_M,
    RoadLayout,
    lane_kind,
)

JUNCTION_ID = 10
CONNECTING_ROAD_START_ID = 100
#: length of the arm beyond which an exported road must extend to be meaningful [m]
_MIN_ARM_M = 1.0


@dataclass(frozen=True)
class LaneSpec:
    """One OpenDRIVE lane on one side of a road: type and width [m]."""

    lane_type: str  # "median", "driving", "parking", "sidewalk", "shoulder"
    width_m: float


@dataclass(frozen=True)
class XodrLanePos:
    """A lane position in OpenDRIVE terms: road id, lane id, s [m], offset [m] (+ along t)."""

    road_id: int
    lane_id: int
    s_m: float


@dataclass(frozen=True)
class WorldPose:
    """A point in the world frame of the scene: x, y [m], heading h [rad]."""

    x_m: float
    y_m: float
    h_rad: float


def side_lanes(road: RoadLayout, road_id: int, side: int) -> list[LaneSpec]:
    """Lanes of one side of a scene road, innermost first (side -1 right, +1 left)."""
    lanes: list[LaneSpec] = []
    if road_id == 0 and road.median_width_m > 0:
        lanes.append(LaneSpec("median", road.median_width_m / 2))
    k = 1
    while True:
        lane_id = side * k
        kind = lane_kind(road, road_id, lane_id)
        if kind == "none":
            break
        if kind == "driving":
            lanes.append(LaneSpec("driving", road.lane_width_m))
        elif kind == "parking":
            lanes.append(LaneSpec("parking", PARKING_LANE_WIDTH_M))
        elif kind == "sidewalk":
            lanes.append(LaneSpec("sidewalk", road.sidewalk_width_m))
        k += 1
    if road.shoulder_width_m > 0 and any(ls.lane_type == "driving" for ls in lanes):
        lanes.append(LaneSpec("shoulder", road.shoulder_width_m))
    return lanes


def half_width_m(road: RoadLayout, road_id: int) -> float:
    """Largest lateral extent of all lanes of a scene road from its reference line [m]."""
    return max(sum(ls.width_m for ls in side_lanes(road, road_id, side)) for side in (-1, 1))


_LANE_TYPES = {
    "median": xodr.LaneType.median,
    "driving": xodr.LaneType.driving,
    "parking": xodr.LaneType.parking,
    "sidewalk": xodr.LaneType.sidewalk,
    "shoulder": xodr.LaneType.shoulder,
}


def _lane(spec: LaneSpec, is_last_driving: bool, is_outer_edge: bool) -> xodr.Lane:
    lane = xodr.Lane(lane_type=_LANE_TYPES[spec.lane_type], a=spec.width_m)
    if spec.lane_type == "driving" and not is_last_driving:
        lane.add_roadmark(xodr.std_roadmark_broken())
    elif spec.lane_type in ("driving", "parking") or is_outer_edge:
        lane.add_roadmark(xodr.std_roadmark_solid())
    else:
        lane.add_roadmark(xodr.RoadMark(xodr.RoadMarkType.none))
    return lane


def _lanes(road: RoadLayout, road_id: int) -> xodr.Lanes:
    center = xodr.Lane(lane_type=xodr.LaneType.none)
    has_median = road_id == 0 and road.median_width_m > 0
    one_way = road_id == 0 and road.lanes_left == 0
    if has_median:
        center.add_roadmark(xodr.RoadMark(xodr.RoadMarkType.none))
    elif one_way:
        center.add_roadmark(xodr.std_roadmark_solid())
    else:
        center.add_roadmark(xodr.std_roadmark_solid())
    section = xodr.LaneSection(0, center)
    for side in (-1, 1):
        specs = side_lanes(road, road_id, side)
        n_driving = sum(1 for ls in specs if ls.lane_type == "driving")
        seen_driving = 0
        for i, spec in enumerate(specs):
            if spec.lane_type == "driving":
                seen_driving += 1
            lane = _lane(
                spec,
                is_last_driving=spec.lane_type == "driving" and seen_driving == n_driving,
                is_outer_edge=i == len(specs) - 1,
            )
            if side < 0:
                section.add_right_lane(lane)
            else:
                section.add_left_lane(lane)
    lanes = xodr.Lanes()
    lanes.add_lanesection(section)
    return lanes


def _road(road_id: int, length_m: float, layout: RoadLayout, scene_road: int) -> xodr.Road:
    planview = xodr.PlanView()
    if scene_road == 0 and layout.curve_radius_m is not None:
        planview.add_geometry(xodr.Arc(1.0 / layout.curve_radius_m, length=length_m))
    else:
        planview.add_geometry(xodr.Line(length_m))
    road = xodr.Road(road_id, planview, _lanes(layout, scene_road))
    road.add_elevation(0, 0, 0, 0, 0)
    road.add_superelevation(0, 0, 0, 0, 0)
    road.add_type(xodr.RoadType.town if _is_urban(layout) else xodr.RoadType.motorway)
    return road


def _is_urban(layout: RoadLayout) -> bool:
    return layout.context.value.startswith("urban")


@dataclass
class RoadNet:
    """The OpenDRIVE document of a road layout plus the scene -> OpenDRIVE position mapping."""

    layout: RoadLayout
    odr: xodr.OpenDrive
    #: half extents of the junction box along road 0 (a) and along road 1 (b) [m]
    box_a_m: float = 0.0
    box_b_m: float = 0.0
    #: (in_road, in_lane, out_road, out_lane) for every connecting road, xodr ids
    connections: list[tuple[int, int, int, int]] = field(default_factory=list)

    # ------------------------------------------------------------------ mapping helpers
    def xodr_lane_id(self, road_id: int, lane_id: int) -> int:
        """OpenDRIVE lane id of a scene lane (shifted by one outward when road 0 has a median)."""
        if road_id == 0 and self.layout.median_width_m > 0:
            return lane_id + (1 if lane_id > 0 else -1)
        return lane_id

    def in_junction_box(self, road_id: int, s_m: float) -> bool:
        j = self.layout.junction
        if j is None:
            return False
        if road_id == 0:
            return abs(s_m - j.s_m) < self.box_a_m
        return abs(s_m - j.arm_length_m) < self.box_b_m

    def lane_pos(self, road_id: int, lane_id: int, s_m: float) -> XodrLanePos:
        """Map a scene lane position to the OpenDRIVE road that holds it.

        Raises ExportError inside the junction box (no scene lane exists there).
        """
        j = self.layout.junction
        lane = self.xodr_lane_id(road_id, lane_id)
        if j is None:
            if road_id != 0:
                raise ExportError(f"road_id={road_id!r}: only road 0 exists without a junction")
            return XodrLanePos(0, lane, s_m)
        if self.in_junction_box(road_id, s_m):
            raise ExportError(f"s_m={s_m!r} on road {road_id} lies inside the junction box")
        centre, half = (j.s_m, self.box_a_m) if road_id == 0 else (j.arm_length_m, self.box_b_m)
        if s_m < centre:
            return XodrLanePos(road_id, lane, s_m)
        return XodrLanePos(road_id + 2, lane, s_m - (centre + half))

    def pose(self, road_id: int, s_m: float, t_m: float) -> WorldPose:
        """World pose of scene road coordinates (s along, t left of the reference line)."""
        j = self.layout.junction
        if road_id == 1:
            if j is None:
                raise ExportError(f"road_id={road_id!r}: only road 0 exists without a junction")
            return WorldPose(j.s_m - t_m, s_m - j.arm_length_m, math.pi / 2)
        r = self.layout.curve_radius_m
        if r is None:
            return WorldPose(s_m, t_m, 0.0)
        th = s_m / r
        return WorldPose((r - t_m) * math.sin(th), r - (r - t_m) * math.cos(th), th)


def build_roadnet(
    layout: RoadLayout, name: str, extra_turns: list[tuple[int, int, int, int]] | None = None
) -> RoadNet:
    """Build the OpenDRIVE 1.7 network of ``layout`` (raises ExportError if not realisable).

    ``extra_turns`` are scene ``(road, lane, road, lane)`` movements through the junction that
    must have a connecting road besides the default ones (see :func:`_junction_connections`).
    """
    odr = xodr.OpenDrive(name, revMinor="7")
    j = layout.junction
    if j is None:
        road0 = _road(0, layout.length_m, layout, 0)
        road0.planview.set_start_point(0, 0, 0)
        odr.add_road(road0)
        odr.adjust_roads_and_lanes()
        return RoadNet(layout, odr)
    if layout.curve_radius_m is not None:
        raise ExportError(
            f"curve_radius_m={layout.curve_radius_m!r}: a junction on a curved road 0 is not "
            "supported by the exporter (road 1 must cross at right angles)"
        )
    a = half_width_m(layout, 1)  # half extent of the box along road 0
    b = half_width_m(layout, 0)  # half extent of the box along road 1
    lengths = {
        0: j.s_m - a,
        2: layout.length_m - j.s_m - a,
        1: j.arm_length_m - b,
        3: j.arm_length_m - b,
    }
    for rid, length in lengths.items():
        if length < _MIN_ARM_M:
            raise ExportError(
                f"junction.s_m={j.s_m!r}: road arm {rid} would be {length:.2f} m long "
                f"(junction box {2 * a:.1f} x {2 * b:.1f} m)"
            )
    scene_road = {0: 0, 2: 0, 1: 1, 3: 1}
    roads = {rid: _road(rid, lengths[rid], layout, scene_road[rid]) for rid in (0, 1, 2, 3)}
    starts = {
        0: (0.0, 0.0, 0.0),
        2: (j.s_m + a, 0.0, 0.0),
        1: (j.s_m, -j.arm_length_m, math.pi / 2),
        3: (j.s_m, b, math.pi / 2),
    }
    for rid, (x, y, h) in starts.items():
        roads[rid].planview.set_start_point(x, y, h)

    jc = xodr.CommonJunctionCreator(JUNCTION_ID, "junction", startnum=CONNECTING_ROAD_START_ID)
    # local junction frame: origin at the junction centre, headings point into the junction
    jc.add_incoming_road_cartesian_geometry(roads[0], -a, 0, 0, "successor")
    jc.add_incoming_road_cartesian_geometry(roads[2], a, 0, math.pi, "predecessor")
    jc.add_incoming_road_cartesian_geometry(roads[1], 0, -b, math.pi / 2, "successor")
    jc.add_incoming_road_cartesian_geometry(roads[3], 0, b, -math.pi / 2, "predecessor")

    net = RoadNet(layout, odr, box_a_m=a, box_b_m=b)
    for conn in _junction_connections(layout, extra_turns or []):
        in_road, in_lane, out_road, out_lane = conn
        jc.add_connection(in_road, out_road, in_lane, out_lane)
        net.connections.append(conn)
    jc.add_constant_elevation(0)
    for rid in (0, 1, 2, 3):
        odr.add_road(roads[rid])
    odr.add_junction_creator(jc)
    odr.adjust_roads_and_lanes()
    return net


def _arm(layout: RoadLayout, road_id: int, lane_id: int, entering: bool) -> int:
    """Junction arm (xodr road id) where a scene lane enters or leaves the junction."""
    plus_s = lane_id < 0  # travels in +s
    approach = plus_s if entering else not plus_s
    return road_id if approach else road_id + 2


def _junction_connections(
    layout: RoadLayout, extra_turns: list[tuple[int, int, int, int]]
) -> list[tuple[int, int, int, int]]:
    """Driving-lane connections through the junction (xodr road/lane ids).

    Straight on for every driving lane; left turns from the innermost lane into the innermost
    lane; right turns from the outermost driving lane into the outermost driving lane.
    """
    j = layout.junction
    assert j is not None
    shift0 = 1 if layout.median_width_m > 0 else 0
    n1 = j.lanes_per_direction
    # per arm: (xodr road id, lanes entering the junction, lanes leaving it), innermost first
    inbound0 = [-(k + shift0) for k in range(1, layout.lanes_right + 1)]
    outbound0 = [k + shift0 for k in range(1, layout.lanes_left + 1)]
    arms = {
        # approach arms: right lanes (travel +s) enter, left lanes leave
        0: (inbound0, outbound0),
        1: ([-k for k in range(1, n1 + 1)], [k for k in range(1, n1 + 1)]),
        # exit arms: left lanes (travel -s) enter, right lanes leave
        2: (outbound0, inbound0),
        3: ([k for k in range(1, n1 + 1)], [-k for k in range(1, n1 + 1)]),
    }
    # arm order counter-clockwise seen from above: 0 (west), 1 (south), 2 (east), 3 (north)
    ccw = [0, 1, 2, 3]
    out: list[tuple[int, int, int, int]] = []
    for i, arm in enumerate(ccw):
        ins = arms[arm][0]
        if not ins:
            continue
        straight = ccw[(i + 2) % 4]
        left = ccw[(i + 3) % 4]  # travelling into the junction, the arm to the left
        right = ccw[(i + 1) % 4]
        for k, lane in enumerate(ins):
            outs = arms[straight][1]
            if k < len(outs):
                out.append((arm, lane, straight, outs[k]))
        if arms[left][1]:
            out.append((arm, ins[0], left, arms[left][1][0]))
        if arms[right][1]:
            out.append((arm, ins[-1], right, arms[right][1][-1]))
    shift = {0: shift0, 1: 0}
    for road_in, lane_in, road_out, lane_out in extra_turns:
        for road_id, lane_id in ((road_in, lane_in), (road_out, lane_out)):
            if lane_kind(layout, road_id, lane_id) != "driving":
                raise ExportError(
                    f"turn_to=({road_id}, {lane_id}): a turn must start and end in driving lanes"
                )
        arm_in = _arm(layout, road_in, lane_in, entering=True)
        arm_out = _arm(layout, road_out, lane_out, entering=False)
        if arm_in == arm_out:
            raise ExportError(f"turn_to=({road_out}, {lane_out}): U-turns are not exported")
        conn = (
            arm_in,
            lane_in + (shift[road_in] if lane_in > 0 else -shift[road_in]),
            arm_out,
            lane_out + (shift[road_out] if lane_out > 0 else -shift[road_out]),
        )
        if conn not in out:
            out.append(conn)
    return out
