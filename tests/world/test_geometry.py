"""Road geometry: lane centrelines sit at lane_center_t, lengths match, junction elements exist."""

from __future__ import annotations

import numpy as np
import pytest
from _world_scenes import junction_road, straight

from generator.world.geometry import build_road, turn_path, world_to_road0
from generator.world.types import MapElementKind
from scenario_library.scene import LaneRef, RoadContext, RoadLayout, lane_center_t

HIGHWAY = RoadLayout(
    context=RoadContext.HIGHWAY,
    length_m=500.0,
    lane_width_m=3.7,
    lanes_right=3,
    lanes_left=3,
    median_width_m=3.0,
    shoulder_width_m=2.5,
    speed_limit_mps=33.0,
)
CURVE = RoadLayout(
    context=RoadContext.RURAL_CURVE,
    length_m=300.0,
    lane_width_m=3.5,
    lanes_right=1,
    lanes_left=1,
    shoulder_width_m=1.0,
    curve_radius_m=150.0,
    speed_limit_mps=25.0,
)
LAYOUTS = {
    "straight": straight(parking_lane_right=True, sidewalk_width_m=2.0),
    "junction": junction_road(),
    "highway": HIGHWAY,
    "curve": CURVE,
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_centrelines_at_lane_centre_in_travel_direction(name: str) -> None:
    layout = LAYOUTS[name]
    geom = build_road(layout)
    geom.validate()
    n_expected = layout.lanes_right + layout.lanes_left
    if layout.junction is not None:
        n_expected += 2 * layout.junction.lanes_per_direction
    assert len(geom.centrelines) == n_expected
    for (road_id, lane_id), c in geom.centrelines.items():
        step = np.hypot(*np.diff(c, axis=0).T)
        assert step.max() <= 0.5 + 1e-9
        if road_id != 0:
            continue
        s, t = world_to_road0(layout, c[:, 0], c[:, 1])
        assert np.allclose(t, lane_center_t(layout, 0, lane_id), atol=1e-6)
        ds = np.diff(s)
        assert (ds > 0).all() if lane_id < 0 else (ds < 0).all()  # travel direction
        # arc length of a lane at offset t on an arc of radius R is L (1 - t / R)
        r = layout.curve_radius_m
        expected = layout.length_m * (1 - (t[0] / r if r else 0.0))
        assert step.sum() == pytest.approx(expected, rel=1e-3)


def test_build_road_is_cached_and_has_junction_furniture() -> None:
    layout = junction_road()
    geom = build_road(layout)
    assert build_road(layout) is geom
    kinds = [e.kind for e in geom.elements]
    assert kinds.count(MapElementKind.STOP_LINE) == 4
    assert kinds.count(MapElementKind.CROSSWALK) == 4
    assert kinds.count(MapElementKind.TRAFFIC_LIGHT) == 4
    assert kinds.count(MapElementKind.POLE) == 4
    assert MapElementKind.SIDEWALK in kinds and MapElementKind.GRASS in kinds
    for e in geom.elements:
        if e.kind is MapElementKind.POLE:
            assert e.points_xyz[1, 2] > 4.0 and e.points_xyz[0, 2] == 0.0
    assert len(geom.drivable) == 2


def test_straight_has_dashed_lines_and_parking() -> None:
    geom = build_road(LAYOUTS["straight"])
    lines = [e for e in geom.elements if e.kind is MapElementKind.LANE_LINE]
    assert any(e.dashed for e in lines) and any(not e.dashed for e in lines)
    assert any(e.kind is MapElementKind.PARKING for e in geom.elements)
    assert any(e.kind is MapElementKind.CENTRE_LINE for e in geom.elements)


def test_turn_path_connects_lanes_smoothly() -> None:
    layout = junction_road()
    p = turn_path(layout, LaneRef(road_id=0, lane_id=1), LaneRef(road_id=1, lane_id=1))
    step = np.hypot(*np.diff(p, axis=0).T)
    assert step.max() <= 0.5 + 1e-9
    # starts on lane +1 of road 0 (x = 250 end, y = +1.75), ends on lane +1 of road 1 (heading -y)
    assert p[0] == pytest.approx([250.0, 1.75])
    assert p[-1, 0] == pytest.approx(100.0 - 1.75)
    assert p[-1, 1] == pytest.approx(-80.0)
    heading = np.unwrap(np.arctan2(*np.diff(p, axis=0).T[::-1]))
    assert np.abs(np.diff(heading)).max() < 0.12  # no kinks: curvature < 0.24 1/m
    assert heading[-1] - heading[0] == pytest.approx(np.pi / 2, abs=0.05)  # a left turn
