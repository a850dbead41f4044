"""Closed-loop what-if: batched plans x futures, scoring prefers the collision-free plan."""

from __future__ import annotations

import json

from _world_scenes import car, make_scene, straight

from generator.world.demo import stopped_car_scene
from generator.world.whatif import candidate_plans, whatif
from scenario_library.scene import AgentRole, HazardFamily


def test_whatif_prefers_a_plan_that_avoids_the_stopped_car() -> None:
    # 15 m/s, stopped car 45 m ahead: keeping speed (or braking at only -2) hits it
    res = whatif(stopped_car_scene(15.0, 45.0), n_plans=6, n_samples=8, seed=1)
    stats = {p.name: p for p in res.plans}
    assert stats["keep"].collision_rate == 1.0
    assert stats["brake_mild"].collision_rate == 1.0
    assert stats["brake_hard"].collision_rate == 0.0
    best = res.plans[res.best_index]
    assert best.collision_rate == 0.0 and res.best_name == best.name
    assert best.score == max(p.score for p in res.plans)
    assert res.n_futures == len(res.plans) * 8
    json.dumps(res.to_dict())  # JSON-ready


def test_single_lane_road_offers_no_swerve_and_braking_wins() -> None:
    scene = make_scene(
        HazardFamily.LEAD_STOPPED,
        straight(lanes_right=1, lanes_left=0),
        [
            car("ego", AgentRole.EGO, -1, 20.0, 15.0),
            car("hazard", AgentRole.HAZARD, -1, 65.0, 0.0),
        ],
    )
    names = [p.name for p in candidate_plans(scene, n_plans=9)]
    assert not any("swerve" in n for n in names)
    res = whatif(scene, n_plans=4, n_samples=4)
    assert res.best_name == "brake_hard"


def test_whatif_is_deterministic() -> None:
    a = whatif(stopped_car_scene(), n_plans=6, n_samples=6, seed=4).to_dict()
    b = whatif(stopped_car_scene(), n_plans=6, n_samples=6, seed=4).to_dict()
    a.pop("elapsed_ms")
    b.pop("elapsed_ms")
    assert a == b
