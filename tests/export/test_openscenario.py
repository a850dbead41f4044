"""OpenSCENARIO / OpenDRIVE export: structure, lane layout, storyboard per manoeuvre kind."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scenario_library.errors import ExportError
from scenario_library.export import export_openscenario
from scenario_library.export.roadnet import side_lanes
from scenario_library.scene import (
    AgentKind,
    JunctionLayout,
    LaneRef,
    Manoeuvre,
    ManoeuvreKind,
    Scene,
    Trigger,
    TriggerKind,
    carriageway_half_widths,
    lane_bounds_t,
    lane_center_t,
    lane_kind,
)


def _export(scene: Scene, tmp_path: Path) -> tuple[ET.Element, ET.Element, Path, Path]:
    xosc, xodr = export_openscenario(scene, tmp_path)
    return ET.parse(xosc).getroot(), ET.parse(xodr).getroot(), xosc, xodr


def _event(root: ET.Element, name: str) -> ET.Element:
    found = [e for e in root.iter("Event") if e.get("name") == name]
    assert len(found) == 1, f"event {name} not found exactly once"
    return found[0]


def _f(el: ET.Element | None, attr: str) -> float:
    assert el is not None
    return float(el.get(attr))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ files, entities
def test_files_named_deterministically_and_reproducible(build, tmp_path: Path) -> None:
    scene = build.urban_straight()
    a = export_openscenario(scene, tmp_path / "a")
    b = export_openscenario(scene, tmp_path / "b")
    assert a[0].name == "c0320_child_emerging_behind_parked_cars_urban_straight_rain_dusk_s0.xosc"
    assert a[1].name == a[0].with_suffix(".xodr").name
    assert [p.name for p in a] == [p.name for p in b]
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes()


def test_header_versions_and_road_network_link(hand_scene: Scene, tmp_path: Path) -> None:
    osc, odr, _, xodr = _export(hand_scene, tmp_path)
    header = osc.find("FileHeader")
    assert header is not None and (header.get("revMajor"), header.get("revMinor")) == ("1", "3")
    logic = osc.find("RoadNetwork/LogicFile")
    assert logic is not None and logic.get("filepath") == xodr.name
    odr_header = odr.find("header")
    assert odr_header is not None
    assert (odr_header.get("revMajor"), odr_header.get("revMinor")) == ("1", "7")
    props = {p.get("name"): p.get("value") for p in osc.iter("Property")}
    assert props["wmgen.class_id"] == str(hand_scene.scenario.class_id)
    assert props["wmgen.seed"] == str(hand_scene.scenario.seed)


def test_every_agent_is_an_entity_with_kind_and_dimensions(
    hand_scene: Scene, tmp_path: Path
) -> None:
    osc, _, _, _ = _export(hand_scene, tmp_path)
    objects = {o.get("name"): o for o in osc.iter("ScenarioObject")}
    assert set(objects) == {a.agent_id for a in hand_scene.agents}
    expected = {
        AgentKind.CAR: ("Vehicle", "vehicleCategory", "car"),
        AgentKind.TRUCK: ("Vehicle", "vehicleCategory", "truck"),
        AgentKind.CYCLIST: ("Vehicle", "vehicleCategory", "bicycle"),
        AgentKind.PEDESTRIAN: ("Pedestrian", "pedestrianCategory", "pedestrian"),
        AgentKind.ANIMAL: ("Pedestrian", "pedestrianCategory", "animal"),
        AgentKind.OBSTACLE: ("MiscObject", "miscObjectCategory", "obstacle"),
    }
    for a in hand_scene.agents:
        tag, attr, value = expected[a.kind]
        ent = objects[a.agent_id].find(tag)
        assert ent is not None, f"{a.agent_id} is not a {tag}"
        assert ent.get(attr) == value
        dims = ent.find("BoundingBox/Dimensions")
        assert dims is not None
        assert _f(dims, "length") == pytest.approx(a.length_m)
        assert _f(dims, "width") == pytest.approx(a.width_m)
        assert _f(dims, "height") == pytest.approx(a.height_m)


def test_init_places_agents_on_mapped_lanes_with_speed(build, tmp_path: Path) -> None:
    scene = build.urban_intersection()
    osc, _, _, _ = _export(scene, tmp_path)
    init = {
        p.get("entityRef"): p
        for p in osc.iter("Private")
        if p.find(".//TeleportAction") is not None
    }
    # junction box half extents: a = road-1 half width 5.5, b = road-0 half width 5.5
    expect = {
        "ego": ("0", "-1", 40.0, 0.0),  # before the junction: road 0 unchanged
        "hazard": ("1", "-1", 20.0, 0.0),  # road 1 approach arm
        "hazard2": ("2", "1", 160.0 - 105.5, math.pi),  # exit arm of road 0, facing -s
        "cyclist": ("3", "1", 100.0 - 65.5, math.pi),  # exit arm of road 1
    }
    for agent in scene.agents:
        lp = init[agent.agent_id].find(".//TeleportAction/Position/LanePosition")
        road, lane, s, h = expect[agent.agent_id]
        assert lp is not None
        assert (lp.get("roadId"), lp.get("laneId")) == (road, lane)
        assert _f(lp, "s") == pytest.approx(s)
        assert _f(lp.find("Orientation"), "h") == pytest.approx(h)
        speed = init[agent.agent_id].find(".//SpeedAction/SpeedActionTarget/AbsoluteTargetSpeed")
        assert _f(speed, "value") == pytest.approx(agent.speed_mps)


def test_median_shifts_lane_ids_and_offset_sign(build, tmp_path: Path) -> None:
    scene = build.highway()
    osc, _, _, _ = _export(scene, tmp_path)
    lanes = {
        p.get("entityRef"): p.find(".//TeleportAction/Position/LanePosition")
        for p in osc.iter("Private")
        if p.find(".//TeleportAction") is not None
    }
    assert lanes["ego"].get("laneId") == "-3"  # scene lane -2, median lane -1 in OpenDRIVE
    assert lanes["bg0"].get("laneId") == "3"


# ----------------------------------------------------------------------------------- OpenDRIVE
def _xodr_lanes(odr: ET.Element, road_id: str) -> dict[int, ET.Element]:
    road = next(r for r in odr.iter("road") if r.get("id") == road_id)
    return {int(ln.get("id")): ln for ln in road.iter("lane")}  # type: ignore[arg-type]


def test_xodr_lane_layout_matches_lane_bounds(hand_scene: Scene, tmp_path: Path) -> None:
    _, odr, _, _ = _export(hand_scene, tmp_path)
    layout = hand_scene.road
    shift = 1 if layout.median_width_m > 0 else 0
    road_ids = [(0, "0"), (1, "1"), (0, "2"), (1, "3")] if layout.junction else [(0, "0")]
    for scene_road, xodr_road in road_ids:
        lanes = _xodr_lanes(odr, xodr_road)
        for side in (-1, 1):
            k = 1
            while lane_kind(layout, scene_road, side * k) != "none":
                lane_id = side * k
                xl = lanes[lane_id + (side * shift if scene_road == 0 else 0)]
                inner, outer = lane_bounds_t(layout, scene_road, lane_id)
                assert _f(xl.find("width"), "a") == pytest.approx(abs(outer - inner))
                assert xl.get("type") == lane_kind(layout, scene_road, lane_id)
                # cumulative width of the lanes inside equals the inner bound
                inside = [
                    lanes[side * i] for i in range(1, abs(lane_id) + (scene_road == 0) * shift)
                ]
                assert sum(_f(x.find("width"), "a") for x in inside) == pytest.approx(abs(inner))
                k += 1
        if shift and scene_road == 0:
            assert lanes[-1].get("type") == "median" and lanes[1].get("type") == "median"
            assert _f(lanes[-1].find("width"), "a") == pytest.approx(layout.median_width_m / 2)
        if layout.shoulder_width_m > 0:
            outer_right = lanes[min(lanes)]
            assert outer_right.get("type") == "shoulder"
            assert _f(outer_right.find("width"), "a") == pytest.approx(layout.shoulder_width_m)


def test_every_road_has_elevation_and_geometry(hand_scene: Scene, tmp_path: Path) -> None:
    _, odr, _, _ = _export(hand_scene, tmp_path)
    roads = list(odr.iter("road"))
    assert roads
    for road in roads:
        assert road.find("elevationProfile/elevation") is not None, road.get("id")
    road0 = next(r for r in roads if r.get("id") == "0")
    arc = road0.find("planView/geometry/arc")
    if hand_scene.road.curve_radius_m is None:
        assert arc is None
    else:
        assert _f(arc, "curvature") == pytest.approx(1 / hand_scene.road.curve_radius_m)
        assert _f(road0, "length") == pytest.approx(hand_scene.road.length_m)


def test_junction_arms_and_connections(build, tmp_path: Path) -> None:
    scene = build.urban_intersection()
    _, odr, _, _ = _export(scene, tmp_path)
    junction = odr.find("junction")
    assert junction is not None
    incoming = {c.get("incomingRoad") for c in junction.iter("connection")}
    assert incoming == {"0", "1", "2", "3"}
    roads = {r.get("id"): r for r in odr.iter("road")}
    # road 1 crosses at right angles: its arms head +y and sit on x = junction.s_m
    for rid in ("1", "3"):
        g = roads[rid].find("planView/geometry")
        assert _f(g, "hdg") == pytest.approx(math.pi / 2)
        assert _f(g, "x") == pytest.approx(scene.road.junction.s_m)
    # the left turn of hazard2 (road 2 lane 1 -> road 1 lane 1) has a connecting road
    conns = [c for c in junction.iter("connection") if c.get("incomingRoad") == "2"]
    targets = set()
    for c in conns:
        conn_road = roads[c.get("connectingRoad")]
        succ = conn_road.find("link/successor")
        targets.add((succ.get("elementId"), c.find("laneLink").get("from")))
    assert ("1", "1") in targets


# ---------------------------------------------------------------------------------- storyboard
def test_stop_trigger_at_horizon(hand_scene: Scene, tmp_path: Path) -> None:
    osc, _, _, _ = _export(hand_scene, tmp_path)
    cond = osc.find("Storyboard/StopTrigger//SimulationTimeCondition")
    assert _f(cond, "value") == pytest.approx(hand_scene.horizon_s)
    assert cond.get("rule") == "greaterThan"


def test_no_teleport_outside_init(hand_scene: Scene, tmp_path: Path) -> None:
    osc, _, _, _ = _export(hand_scene, tmp_path)
    story = osc.find("Storyboard/Story")
    assert story is not None and story.find(".//TeleportAction") is None
    n_events = len(list(story.iter("Event")))
    assert n_events >= len(hand_scene.manoeuvres)


def test_brake_event_distance_trigger(build, tmp_path: Path) -> None:
    osc, _, _, _ = _export(build.urban_straight(), tmp_path)
    ev = _event(osc, "lead_brake_1")
    dyn = ev.find(".//SpeedAction/SpeedActionDynamics")
    assert (dyn.get("dynamicsShape"), dyn.get("dynamicsDimension")) == ("linear", "rate")
    assert _f(dyn, "value") == pytest.approx(6.0)
    assert _f(ev.find(".//AbsoluteTargetSpeed"), "value") == pytest.approx(0.0)
    cond = ev.find(".//RelativeDistanceCondition")
    assert cond.get("entityRef") == "lead" and _f(cond, "value") == pytest.approx(20.0)
    assert cond.get("rule") == "lessThan" and cond.get("freespace") == "false"
    assert ev.find(".//TriggeringEntities/EntityRef").get("entityRef") == "ego"


def test_cross_event_walks_across_beyond_far_sidewalk(build, tmp_path: Path) -> None:
    scene = build.urban_straight()
    osc, _, _, _ = _export(scene, tmp_path)
    ev = _event(osc, "hazard_cross_0")
    assert ev.find(".//TeleportAction") is None
    verts = ev.findall(".//FollowTrajectoryAction//Polyline/Vertex/Position/WorldPosition")
    assert len(verts) == 2
    hazard = next(a for a in scene.agents if a.agent_id == "hazard")
    t_start = lane_center_t(scene.road, 0, -3)  # right sidewalk
    # as the rollout walks it: to sidewalk width + 1.5 m beyond the far carriageway edge
    t_end = carriageway_half_widths(scene.road, 0)[1] + scene.road.sidewalk_width_m + 1.5
    assert (_f(verts[0], "x"), _f(verts[0], "y")) == pytest.approx((hazard.s_m, t_start))
    assert (_f(verts[1], "x"), _f(verts[1], "y")) == pytest.approx((hazard.s_m, t_end))
    assert _f(ev.find(".//AbsoluteTargetSpeed"), "value") == pytest.approx(1.4)
    ttc = ev.find(".//TimeToCollisionCondition")
    assert _f(ttc, "value") == pytest.approx(4.0)
    # the rollout's TTC: ego-frame longitudinal gap from the ego's front to the actor
    assert ttc.find("TimeToCollisionConditionTarget/EntityRef").get("entityRef") == "hazard"
    assert (ttc.get("relativeDistanceType"), ttc.get("coordinateSystem")) == (
        "longitudinal",
        "entity",
    )
    assert ttc.get("freespace") == "true"


def test_cross_on_curve_follows_the_arc(build, tmp_path: Path) -> None:
    scene = build.rural_curve()
    osc, _, _, _ = _export(scene, tmp_path)
    verts = _event(osc, "hazard_cross_0").findall(".//Polyline/Vertex/Position/WorldPosition")
    r = scene.road.curve_radius_m
    # both ends are on the radial line through the animal's s: distance to the arc centre
    for v, t in zip(verts, (lane_center_t(scene.road, 0, 1), None), strict=True):
        dist = math.hypot(_f(v, "x"), _f(v, "y") - r)
        if t is not None:
            assert dist == pytest.approx(r - t)
    # the animal faces left of its lane (+1, travelling -s): it crosses towards the right edge
    assert math.hypot(_f(verts[1], "x"), _f(verts[1], "y") - r) > r
    cond = _event(osc, "hazard_cross_0").find(".//RelativeDistanceCondition")
    assert cond.get("entityRef") == "hazard" and _f(cond, "value") == pytest.approx(60.0)


def test_lane_change_absolute_target_sinusoidal(build, tmp_path: Path) -> None:
    osc, _, _, _ = _export(build.highway(), tmp_path)
    ev = _event(osc, "hazard_lane_change_0")
    lc = ev.find(".//LaneChangeAction")
    dyn = lc.find("LaneChangeActionDynamics")
    assert (dyn.get("dynamicsShape"), dyn.get("dynamicsDimension")) == ("sinusoidal", "time")
    assert _f(dyn, "value") == pytest.approx(2.5)
    assert lc.find("LaneChangeTarget/AbsoluteTargetLane").get("value") == "-3"  # median shift
    assert _f(ev.find(".//AbsoluteTargetSpeed"), "value") == pytest.approx(24.0)
    ttc = ev.find(".//TimeToCollisionCondition")
    assert ttc.find("TimeToCollisionConditionTarget/EntityRef").get("entityRef") == "hazard"
    # oncoming intrusion on the rural curve: from +1 to -1, triggered by simulation time
    osc2, _, _, _ = _export(build.rural_curve(), tmp_path / "rural")
    ev2 = _event(osc2, "oncoming_lane_change_1")
    assert ev2.find(".//AbsoluteTargetLane").get("value") == "-1"
    assert _f(ev2.find(".//SimulationTimeCondition"), "value") == pytest.approx(2.0)


def test_turn_run_red_and_keep_events(build, tmp_path: Path) -> None:
    scene = build.urban_intersection()
    osc, _, _, _ = _export(scene, tmp_path)
    turn = _event(osc, "hazard2_turn_1")
    wps = turn.findall(".//AssignRouteAction/Route/Waypoint/Position/LanePosition")
    assert [(w.get("roadId"), w.get("laneId")) for w in wps] == [("2", "1"), ("1", "1")]
    assert _f(turn.find(".//AbsoluteTargetSpeed"), "value") == pytest.approx(7.0)
    red = _event(osc, "hazard_run_red_0")
    assert _f(red.find(".//AbsoluteTargetSpeed"), "value") == pytest.approx(14.0)
    assert _f(red.find(".//TimeToCollisionCondition"), "value") == pytest.approx(3.5)
    cyc = _event(osc, "cyclist_cross_2")
    verts = cyc.findall(".//Polyline/Vertex/Position/WorldPosition")
    # the cyclist (road 1, lane +1, heading -y) rides across road 0 and leaves the box
    assert _f(verts[1], "y") < -5.5 < 5.5 < _f(verts[0], "y")
    assert _f(cyc.find(".//SimulationTimeCondition"), "value") == pytest.approx(1.0)
    osc2, _, _, _ = _export(build.highway(), tmp_path / "hw")
    keep = _event(osc2, "lead_keep_1")
    assert _f(keep.find(".//AbsoluteTargetSpeed"), "value") == pytest.approx(22.0)


def test_traffic_lights_signals_and_controller_phases(build, tmp_path: Path) -> None:
    osc, odr, _, _ = _export(build.urban_intersection(), tmp_path)
    signal_ids = {s.get("id") for s in odr.iter("signal")}
    assert len(signal_ids) == 4  # two approaches per road
    for s in odr.iter("signal"):
        assert s.get("dynamic") == "yes"
    ctrls = {c.get("name"): c for c in osc.iter("TrafficSignalController")}
    assert set(ctrls) == {"controller_tl0", "controller_tl1"}
    phases0 = ctrls["controller_tl0"].findall("Phase")
    assert [_f(p, "duration") for p in phases0] == pytest.approx([20.0, 3.0, 25.0])
    # tl1 starts 5 s into its cycle: red for the remaining 20 s, ..., red 5 s at the end
    phases1 = ctrls["controller_tl1"].findall("Phase")
    assert [_f(p, "duration") for p in phases1] == pytest.approx([20.0, 20.0, 3.0, 5.0])
    used = {s.get("trafficSignalId") for c in ctrls.values() for s in c.iter("TrafficSignalState")}
    assert used == signal_ids


# ---------------------------------------------------------------------------------- errors
def test_export_errors_name_field_and_value(build, tmp_path: Path) -> None:
    scene = build.rural_curve()
    curved_junction = scene.road.model_copy(
        update={
            "junction": JunctionLayout(
                s_m=150, arm_length_m=50, lanes_per_direction=1, has_traffic_lights=False,
                has_crosswalks=False,
            )
        }
    )  # fmt: skip
    with pytest.raises(ExportError, match=r"curve_radius_m=250\.0"):
        export_openscenario(scene.model_copy(update={"road": curved_junction}), tmp_path)
    bad_lc = Manoeuvre(
        agent_id="oncoming", kind=ManoeuvreKind.LANE_CHANGE,
        trigger=Trigger(kind=TriggerKind.TIME, value=1.0),
    )  # fmt: skip
    with pytest.raises(ExportError, match="target_lane=None"):
        export_openscenario(scene.model_copy(update={"manoeuvres": (bad_lc,)}), tmp_path)
    bad_turn = build.urban_intersection()
    bad_turn = bad_turn.model_copy(
        update={
            "manoeuvres": (
                bad_turn.manoeuvres[1].model_copy(
                    update={"target_lane": LaneRef(road_id=0, lane_id=-1)}
                ),
            )
        }
    )
    with pytest.raises(ExportError, match="U-turn"):
        export_openscenario(bad_turn, tmp_path)
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.raises(ExportError, match="out_dir"):
        export_openscenario(build.urban_straight(), not_a_dir)


def test_side_lanes_order_innermost_first(build) -> None:
    layout = build.urban_straight().road
    assert [ls.lane_type for ls in side_lanes(layout, 0, -1)] == ["driving", "parking", "sidewalk"]
    assert [ls.lane_type for ls in side_lanes(layout, 0, 1)] == ["driving", "sidewalk"]
