"""Rollout engine: car-following, reactivity, scripted hazards, checks, determinism."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
from _world_scenes import (
    car,
    cut_in_scene,
    junction_road,
    lead_stopped_scene,
    make_scene,
    red_runner_scene,
    straight,
)

from generator.errors import RolloutError
from generator.world import kernels as K
from generator.world import rollout as R
from generator.world.kernels import _boxes_overlap
from generator.world.rollout import EgoPlan, rollout
from scenario_library.scene import (
    AgentRole,
    HazardFamily,
    LaneRef,
    LightPhase,
    Manoeuvre,
    ManoeuvreKind,
    Scene,
    TrafficLight,
    Trigger,
    TriggerKind,
)


def test_idm_ego_stops_behind_stopped_lead() -> None:
    b = rollout(lead_stopped_scene(ego_speed=13.9, gap_m=60.0))
    b.validate()
    assert not b.checks.collision[0]
    assert b.speed_mps[0, 0, -1] < 0.3  # came to rest
    gap = b.x_m[0, 1, -1] - b.x_m[0, 0, -1] - 4.6
    assert 0.5 < gap < 6.0  # stopped behind, at about s0
    assert b.checks.corner_case_occurred[0]
    assert not b.checks.physics_violation.any()


def test_oriented_box_overlap_hand_cases() -> None:
    c45, s45 = np.cos(np.pi / 4), np.sin(np.pi / 4)
    # two 4x2 boxes, 3.9 m apart along x: overlap; 4.1 m: not
    assert _boxes_overlap(0, 0, 1, 0, 4, 2, 3.9, 0, 1, 0, 4, 2)
    assert not _boxes_overlap(0, 0, 1, 0, 4, 2, 4.1, 0, 1, 0, 4, 2)
    # a 45-degree box whose corner reaches 2 + sqrt(2) m: its bounding circles overlap at
    # x=3.3 (dist < 2.24 + 2.24), but SAT separates (corner at 3.3 - 1.41 - ... ) vs touching
    assert _boxes_overlap(0, 0, 1, 0, 4, 2, 3.3, 0, c45, s45, 2, 2)
    assert not _boxes_overlap(0, 0, 1, 0, 4, 2, 3.5, 0, c45, s45, 2, 2)
    # lateral: side by side 2.1 m apart does not overlap, 1.9 m does
    assert not _boxes_overlap(0, 0, 1, 0, 4, 2, 0, 2.1, 1, 0, 4, 2)
    assert _boxes_overlap(0, 0, 1, 0, 4, 2, 0.5, 1.9, 1, 0, 4, 2)


def test_scripted_hazard_that_hits_is_a_collision() -> None:
    # hazard alongside the ego swerves into it at t=0; hazards never brake for the ego
    scene = make_scene(
        HazardFamily.CUT_IN,
        straight(),
        [
            car("ego", AgentRole.EGO, -1, 30.0, 15.0),
            car("hazard", AgentRole.HAZARD, -2, 31.0, 15.0),
        ],
        [
            Manoeuvre(
                agent_id="hazard",
                kind=ManoeuvreKind.LANE_CHANGE,
                trigger=Trigger(kind=TriggerKind.TIME, value=0.0),
                target_lane=LaneRef(road_id=0, lane_id=-1),
                duration_s=1.5,
            )
        ],
    )
    b = rollout(scene)
    assert b.checks.collision[0] and b.checks.ego_collision[0]
    step = int(b.checks.first_collision_step[0])
    assert 0 < step < 30
    lateral = b.y_m[0, 1, step] - b.y_m[0, 0, step]
    assert abs(lateral) < 1.9 + 0.05  # boxes really overlap laterally then
    assert abs(b.y_m[0, 1, step - 1] - b.y_m[0, 0, step - 1]) >= abs(lateral)
    assert b.checks.min_ttc_s[0] == 0.0


def _cut_in_front_of_background(plan: EgoPlan | None) -> np.ndarray:
    scene = make_scene(
        HazardFamily.CUT_IN,
        straight(),
        [
            car("ego", AgentRole.EGO, -1, 40.0, 16.0),
            car("bg0", AgentRole.BACKGROUND, -2, 28.0, 16.0),
        ],
    )
    return rollout(scene, ego_plans=None if plan is None else [plan]).accel_mps2[0, 1]


def test_background_brakes_for_ego_cutting_in() -> None:
    reference = _cut_in_front_of_background(None)
    cut = _cut_in_front_of_background(
        EgoPlan(accel_mps2=(-1.0,) * 20 + (0.0,), lane_change_to=-2, lane_change_duration_s=2.0)
    )
    assert reference.min() > -0.3  # nobody in its lane: no braking
    assert cut.min() < -1.0  # reacts to the ego entering its lane ahead


def test_ttc_trigger_fires_at_the_documented_ttc() -> None:
    scene = cut_in_scene()
    b = rollout(scene)
    ego_front = b.x_m[0, 0] + 4.6 / 2
    haz_rear = b.x_m[0, 1] - 4.6 / 2
    closing = np.maximum(b.speed_mps[0, 0] - b.speed_mps[0, 1], 0.1)
    ttc = np.maximum(haz_rear - ego_front, 0) / closing
    first = int(np.argmax(ttc <= 4.0))
    y = b.y_m[0, 1]
    assert np.allclose(y[: first + 1], y[0], atol=1e-4)  # no lateral motion before
    assert abs(y[first + 5] - y[0]) > 0.01  # lane change under way after
    assert b.checks.corner_case_occurred[0]


def test_never_fired_cut_in_is_not_a_corner_case() -> None:
    scene = cut_in_scene()
    late = scene.model_copy(
        update={
            "manoeuvres": (
                scene.manoeuvres[0].model_copy(
                    update={"trigger": Trigger(kind=TriggerKind.TIME, value=100.0)}
                ),
            )
        }
    )
    assert not rollout(late).checks.corner_case_occurred[0]


def test_ego_stops_at_red_light_and_runner_does_not() -> None:
    scene = red_runner_scene()
    red_main = TrafficLight(
        light_id="main",
        road_id=0,
        stop_line_s_m=90.0,
        cycle=((LightPhase.RED, 30.0), (LightPhase.GREEN, 30.0)),
    )
    scene = scene.model_copy(
        update={"traffic_lights": (red_main, scene.traffic_lights[1]), "horizon_s": 10.0}
    )
    b = rollout(scene)
    assert b.speed_mps[0, 0, -1] < 0.3
    assert b.x_m[0, 0, -1] + 2.3 < 90.0 + 0.5  # front before the stop line
    # the runner (road 1, heading +y) crosses its red stop line at y = 70 - 80 = -10
    assert b.y_m[0, 1, -1] > 0.0
    assert b.checks.corner_case_occurred[0]
    assert b.light_states.shape == (2, b.n_steps)


def test_hand_scenes_respect_physics(hand_scene: Scene) -> None:
    b = rollout(hand_scene, n_worlds=6, seed=3)
    b.validate()
    assert not b.checks.physics_violation.any(), b.checks.notes
    assert b.checks.corner_case_occurred[0], hand_scene.scenario.family
    # no teleports: per-step displacement bounded by speed
    step = np.hypot(np.diff(b.x_m, axis=2), np.diff(b.y_m, axis=2))
    assert (step <= np.maximum(b.speed_mps[..., 1:], b.speed_mps[..., :-1]) * 0.1 + 0.02).all()


def test_determinism_and_nominal_world_zero() -> None:
    scene = cut_in_scene()
    a = rollout(scene, n_worlds=5, seed=11)
    b = rollout(scene, n_worlds=5, seed=11)
    for name in ("x_m", "y_m", "yaw_rad", "speed_mps", "accel_mps2"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    c = rollout(scene, n_worlds=5, seed=12)
    assert not np.array_equal(a.x_m[1:], c.x_m[1:])  # other samples differ
    nominal = rollout(scene, n_worlds=1, seed=99)
    assert np.array_equal(nominal.x_m[0], a.x_m[0]) and np.array_equal(nominal.x_m[0], c.x_m[0])
    assert a.world(2).x_m.shape == (1, *a.x_m.shape[1:])


def test_bad_inputs_are_rejected() -> None:
    scene = lead_stopped_scene()
    with pytest.raises(RolloutError, match="n_worlds"):
        rollout(scene, n_worlds=0)
    with pytest.raises(RolloutError, match="ego_plans"):
        rollout(scene, n_worlds=2, ego_plans=[EgoPlan()])
    with pytest.raises(RolloutError, match="lane_change_to"):
        rollout(scene, ego_plans=[EgoPlan(lane_change_to=-5)])


def test_scenes_beyond_the_leader_ranking_range_are_rejected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The leader ranking keeps an agent index in RANK_SLOTS slots and needs the paths within
    +-RANK_SPAN_M: a scene beyond either gets a RolloutError naming the field (the limits are
    lowered here, and the per-scene preparation cache emptied; real scenes are far inside
    them)."""
    scene = lead_stopped_scene()
    for name, value, message in (
        ("RANK_SLOTS", len(scene.agents) - 1, r"scene\.agents: \d+ agents"),
        ("RANK_SPAN_M", 5.0, r"scene\.road: paths reach"),
    ):
        monkeypatch.setattr(R, "_CACHE", OrderedDict())
        monkeypatch.setattr(K, name, value)
        with pytest.raises(RolloutError, match=message):
            rollout(scene)
        monkeypatch.undo()
    monkeypatch.setattr(R, "_CACHE", OrderedDict())
    rollout(scene)  # within the limits


def test_left_turn_actor_holds_until_trigger() -> None:
    road = junction_road()
    scene = make_scene(
        HazardFamily.LEFT_TURN_ACROSS,
        road,
        [
            car("ego", AgentRole.EGO, -1, 10.0, 5.0),
            car("hazard", AgentRole.HAZARD, 1, 125.0, 5.0, turn_to=LaneRef(road_id=1, lane_id=1)),
        ],
        [
            Manoeuvre(
                agent_id="hazard",
                kind=ManoeuvreKind.TURN,
                trigger=Trigger(kind=TriggerKind.TIME, value=5.0),
                target_speed_mps=6.0,
            )
        ],
    )
    b = rollout(scene, horizon_s=11.0)
    t5 = 50
    # held at its stop line (x ~ 100 + 3.5 + 1 + 3 = 107.5, front at x - 2.3) until t = 5 s
    assert b.speed_mps[0, 1, t5] < 0.5
    assert b.x_m[0, 1, t5] - 2.3 > 107.5 - 1.0
    assert b.y_m[0, 1, -1] < -2.0  # then turned left into road 1 (heading -y)
    assert not b.checks.offroad[0].any()
