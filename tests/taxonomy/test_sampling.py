"""Sampling: every class yields a valid Scene; determinism; the corner case is on course.

``_nominal_rollout`` is an independent constant-speed simulation of the manoeuvre semantics of
``scenario_library.scene`` (nobody reacts, the ego keeps its speed) used to check that the
hazard of each family really is on a collision / conflict course within the horizon.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from scenario_library.errors import SpecError
from scenario_library.sampling import build_scene, sample_scenario, sample_scene
from scenario_library.scene import (
    FRICTION_BY_WEATHER,
    GRAVITY_MPS2,
    AgentRole,
    HazardFamily,
    ManoeuvreKind,
    RoadContext,
    Scene,
    TriggerKind,
    lane_center_t,
    lane_kind,
)
from scenario_library.taxonomy import TAXONOMY

F = HazardFamily
STRAIGHT = (RoadContext.URBAN_STRAIGHT, RoadContext.URBAN_INTERSECTION, RoadContext.HIGHWAY)


def _digest(scene: Scene) -> str:
    return hashlib.sha256(scene.model_dump_json().encode()).hexdigest()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_class_samples_a_valid_scene(seed: int) -> None:
    for cls in TAXONOMY.all():
        scene = sample_scene(cls.class_id, seed)
        scene.validate_scene()
        assert scene.scenario.class_id == cls.class_id and scene.scenario.seed == seed
        assert len(scene.agents) <= 16
        ego = scene.agents[0]
        assert ego.role is AgentRole.EGO and ego.start.lane_id == -1 and ego.start.road_id == 0
        assert ego.speed_mps == pytest.approx(
            scene.scenario.params["ego_speed_kmh"] / 3.6, abs=1e-3
        )
        assert ego.desired_speed_mps == ego.speed_mps
        assert (ego.length_m, ego.width_m) == (4.6, 1.9)
        assert any(a.role is AgentRole.HAZARD for a in scene.agents)
        assert scene.friction_mu == FRICTION_BY_WEATHER[cls.weather]
        for p in cls.parameters:
            assert p.contains(scene.scenario.params[p.name]), (cls.name, p.name)
        for a in scene.agents:
            assert lane_kind(scene.road, a.start.road_id, a.start.lane_id) != "none"
        for m in scene.manoeuvres:
            if m.accel_mps2 is not None:
                assert -m.accel_mps2 <= scene.friction_mu * GRAVITY_MPS2
            if m.target_lane is not None:
                assert lane_kind(scene.road, 0, m.target_lane.lane_id) == "driving"
        junction = scene.road.junction is not None
        assert junction == ("junction" in cls.tags), cls.name
        assert bool(scene.traffic_lights) == ("traffic_light" in cls.tags), cls.name
        if cls.road_context is RoadContext.RURAL_CURVE and "limited_sight" in cls.tags:
            assert scene.road.curve_radius_m == scene.scenario.params["curve_radius_m"]


def test_same_class_and_seed_identical_different_seeds_differ() -> None:
    for cid in (0, 77, 300, 555, 833, 1023):
        a, b = sample_scene(cid, 5), sample_scene(cid, 5)
        assert a.model_dump_json() == b.model_dump_json()
        assert sample_scene(cid, 6).model_dump_json() != a.model_dump_json()


def test_identical_across_processes_with_other_hash_seeds() -> None:
    ids = (3, 450, 900)
    here = [_digest(sample_scene(cid, 11)) for cid in ids]
    code = (
        "import hashlib; from scenario_library.sampling import sample_scene; "
        f"print(' '.join(hashlib.sha256(sample_scene(c, 11).model_dump_json().encode())"
        f".hexdigest() for c in {ids!r}))"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=os.getcwd(),
    )
    assert out.stdout.split() == here


def test_seeds_are_parallel_worlds_of_one_class() -> None:
    speeds = {sample_scenario(100, s).params["ego_speed_kmh"] for s in range(20)}
    assert len(speeds) == 20
    p = TAXONOMY.get(100).parameter("ego_speed_kmh")
    assert p is not None and all(p.low <= v <= p.high for v in speeds)


def test_build_scene_rejects_too_short_horizon() -> None:
    concrete = sample_scenario(
        TAXONOMY.by_name("left_turn_across_path.urban_intersection.clear.day").class_id, 0
    )
    with pytest.raises(SpecError) as exc:
        build_scene(concrete, horizon_s=2.0)
    assert exc.value.field == "horizon_s" and exc.value.value == 2.0


def test_build_scene_rejects_bad_params() -> None:
    concrete = sample_scenario(0, 0)
    bad = concrete.model_copy(update={"params": {"ego_speed_kmh": 50.0}})
    with pytest.raises(SpecError, match="missing"):
        build_scene(bad)


# ------------------------------------------------------------------------ nominal rollout
def _world_pose(scene: Scene, a) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    road = scene.road
    sign = 1.0 if a.start.lane_id < 0 else -1.0
    t = lane_center_t(road, a.start.road_id, a.start.lane_id) + sign * a.offset_m
    base = 0.0 if a.start.lane_id < 0 else math.pi
    if a.start.road_id == 0:
        return a.s_m, t, base + a.heading_rad
    j = road.junction
    assert j is not None
    return j.s_m - t, a.s_m - j.arm_length_m, math.pi / 2 + base + a.heading_rad


def _nominal_rollout(scene: Scene, dt: float = 0.05) -> dict[str, float]:
    """First time [s] each agent's box overlaps the ego's (inf if never), constant speeds."""
    road = scene.road
    n = len(scene.agents)
    pose = np.array([_world_pose(scene, a) for a in scene.agents])
    x, y, yaw = pose[:, 0].copy(), pose[:, 1].copy(), pose[:, 2]
    v = np.array([a.speed_mps for a in scene.agents])
    ln = np.array([a.length_m for a in scene.agents])
    wd = np.array([a.width_m for a in scene.agents])
    ext_x = np.abs(np.cos(yaw)) * ln + np.abs(np.sin(yaw)) * wd
    ext_y = np.abs(np.sin(yaw)) * ln + np.abs(np.cos(yaw)) * wd
    idx = {a.agent_id: i for i, a in enumerate(scene.agents)}
    man = {m.agent_id: m for m in scene.manoeuvres}
    started: dict[str, float] = {}
    lc_from: dict[str, float] = {}
    first = {a.agent_id: math.inf for a in scene.agents}
    for step in range(int(scene.horizon_s / dt) + 1):
        t = step * dt
        for aid, m in man.items():
            i = idx[aid]
            if aid in started:
                continue
            vx = v[i] * math.cos(yaw[i])
            gap = (x[i] - ext_x[i] / 2) - (x[0] + ext_x[0] / 2)
            fire = {
                TriggerKind.TIME: t >= m.trigger.value - 1e-9,
                TriggerKind.TTC: gap >= 0 and gap / max(v[0] - vx, 0.1) <= m.trigger.value,
                TriggerKind.DISTANCE: math.hypot(x[i] - x[0], y[i] - y[0]) <= m.trigger.value,
            }[m.trigger.kind]
            if fire:
                started[aid] = t
                lc_from[aid] = y[i]
                ramps = m.accel_mps2 is not None and m.accel_mps2 > 0
                moves = (ManoeuvreKind.CROSS, ManoeuvreKind.RUN_RED, ManoeuvreKind.LANE_CHANGE)
                if m.kind in moves and m.target_speed_mps is not None and not ramps:
                    v[i] = m.target_speed_mps
        for aid, m in man.items():
            i = idx[aid]
            if aid in started and m.accel_mps2 is not None and m.accel_mps2 > 0:
                # declared start-up acceleration up to the target speed
                v[i] = min(m.target_speed_mps or 0.0, v[i] + m.accel_mps2 * dt)
            if aid in started and m.kind is ManoeuvreKind.BRAKE:
                assert m.accel_mps2 is not None
                v[i] = max(m.target_speed_mps or 0.0, v[i] + m.accel_mps2 * dt)
            if aid in started and m.kind is ManoeuvreKind.LANE_CHANGE:
                assert m.target_lane is not None and m.duration_s is not None
                goal = lane_center_t(road, 0, m.target_lane.lane_id)
                f = min((t - started[aid]) / m.duration_s, 1.0)
                y[i] = lc_from[aid] + (goal - lc_from[aid]) * f
        x += v * np.cos(yaw) * dt
        y += v * np.sin(yaw) * dt * (np.abs(np.sin(yaw)) > 0.5)
        hit = (np.abs(x - x[0]) < (ext_x + ext_x[0]) / 2) & (
            np.abs(y - y[0]) < (ext_y + ext_y[0]) / 2
        )
        for i in np.flatnonzero(hit[1:]) + 1:
            aid = scene.agents[i].agent_id
            first[aid] = min(first[aid], t)
        if n == 0:
            break
    return first


COLLISION_COURSE = (
    F.LEAD_STOPPED,
    F.LEAD_SLOWER,
    F.PED_NEARSIDE,
    F.PED_FARSIDE,
    F.CHILD_OCCLUDED,
    F.PED_ALONG,
    F.CYCLIST_CROSSING,
    F.CYCLIST_ALONG,
    F.ONCOMING_IN_LANE,
    F.RED_LIGHT_RUNNER,
    F.ANIMAL,
    F.STATIC_OBSTACLE,
    F.CUT_OUT,
)


@pytest.mark.parametrize("family", COLLISION_COURSE, ids=lambda f: f.value)
def test_hazard_is_on_collision_course_within_horizon(family: HazardFamily) -> None:
    """Without any reaction, the ego meets the hazard inside the horizon; nothing else does."""
    for cls in TAXONOMY.match([f"family:{family.value}"]):
        if cls.road_context not in STRAIGHT or cls.lighting.value != "day":
            continue
        for seed in (0, 1, 2, 3):
            scene = sample_scene(cls.class_id, seed)
            first = _nominal_rollout(scene)
            target = "hazard2" if family is F.CUT_OUT else "hazard"
            assert first[target] <= scene.horizon_s - 0.4, (cls.name, seed, first)
            for a in scene.agents[1:]:
                if a.agent_id != target:
                    # nothing else (lead, parked, background) is hit before the hazard
                    assert first[a.agent_id] >= first[target], (cls.name, seed, a.agent_id)


def test_crossing_pedestrian_timing_matches_impact_point() -> None:
    """TTC trigger = walking time (with the declared start-up acceleration): the pedestrian's
    centre is at the impact point when the ego's front reaches it at constant speed."""
    cls = TAXONOMY.by_name("pedestrian_crossing_nearside.urban_straight.clear.day")
    for seed in range(5):
        scene = sample_scene(cls.class_id, seed)
        ego, ped = scene.agents[0], scene.agents[1]
        m = scene.manoeuvres[0]
        assert m.kind is ManoeuvreKind.CROSS and m.trigger.kind is TriggerKind.TTC
        gap0 = ped.s_m - ped.width_m / 2 - (ego.s_m + ego.length_m / 2)
        t_trigger = (gap0 - ego.speed_mps * m.trigger.value) / ego.speed_mps
        assert t_trigger == pytest.approx(1.0, abs=1e-3)  # the calm lead-in
        t_ped = lane_center_t(scene.road, 0, ped.start.lane_id) + ped.offset_m
        v, acc, tt = m.target_speed_mps or 0.0, m.accel_mps2 or 0.0, m.trigger.value
        assert acc > 0  # declared start-up acceleration
        ramp = min(tt, v / acc)  # accelerate, then walk at speed
        t_imp = t_ped + 0.5 * acc * ramp**2 + v * (tt - ramp)
        ego_t = lane_center_t(scene.road, 0, -1)
        pct = scene.scenario.params["impact_point_pct"] / 100
        assert t_imp == pytest.approx(ego_t - ego.width_m / 2 + pct * ego.width_m, abs=2e-3)


def test_left_turn_crosses_ego_lane_near_the_ego_arrival() -> None:
    for road in ("urban_straight", "urban_intersection", "highway", "rural_curve"):
        cls = TAXONOMY.by_name(f"left_turn_across_path.{road}.clear.day")
        scene = sample_scene(cls.class_id, 0)
        turner = next(a for a in scene.agents if a.role is AgentRole.HAZARD)
        assert turner.start.lane_id == 1 and turner.turn_to is not None
        assert turner.turn_to.road_id == 1 and turner.turn_to.lane_id == 1
        assert scene.road.curve_radius_m is None and scene.road.junction is not None
        assert scene.manoeuvres[0].kind is ManoeuvreKind.TURN
        # the turner starts before the junction (in its direction of travel, -s)
        assert turner.s_m > scene.road.junction.s_m


def test_child_is_hidden_behind_parked_vehicles() -> None:
    for road in ("urban_straight", "urban_intersection", "highway", "rural_curve"):
        cls = TAXONOMY.by_name(f"child_emerging_behind_parked_cars.{road}.clear.day")
        scene = sample_scene(cls.class_id, 1)
        child = scene.agents[1]
        parked = [a for a in scene.agents if a.role is AgentRole.PARKED]
        assert len(parked) == int(scene.scenario.params["parked_vehicles_count"])
        # an occluder stands right before the child as seen from the ego
        assert any(0 < child.s_m - p.s_m < 4.0 for p in parked)


def test_red_light_runner_has_red_while_ego_has_green() -> None:
    cls = TAXONOMY.by_name("red_light_runner.urban_straight.clear.night")
    scene = sample_scene(cls.class_id, 2)
    lights = {tl.light_id: tl for tl in scene.traffic_lights}
    assert lights["road0:+s"].cycle[0][0].value == "green"
    assert lights["road0:+s"].cycle[0][1] >= scene.horizon_s
    assert lights["road1:+s"].cycle[0][0].value == "red"
    assert lights["road1:+s"].cycle[0][1] >= scene.horizon_s
    runner = scene.agents[1]
    assert runner.start.road_id == 1 and runner.start.lane_id == -1
    assert runner.s_m < lights["road1:+s"].stop_line_s_m  # approaching its red light
    assert scene.manoeuvres[0].kind is ManoeuvreKind.RUN_RED
    cyc = [sum(d for _, d in tl.cycle) for tl in scene.traffic_lights]
    assert len(set(cyc)) == 1  # one common cycle length


def test_background_density_scales_and_budget_holds() -> None:
    from scenario_library.spec import ScenarioSpec

    cls = TAXONOMY.by_name("lead_vehicle_stopped.highway.clear.day")
    counts = {}
    for density in (0.0, 30.0):
        spec = ScenarioSpec(class_id=cls.class_id, params={"traffic_density_veh_per_km": density})
        scenes = [sample_scene(spec, s) for s in range(3)]
        counts[density] = [sum(a.role is AgentRole.BACKGROUND for a in sc.agents) for sc in scenes]
        assert all(len(sc.agents) <= 16 for sc in scenes)
    assert counts[0.0] == [0, 0, 0]
    assert min(counts[30.0]) >= 8
