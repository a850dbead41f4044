"""Class + seed -> concrete scenario -> Scene.

``sample_scenario(spec_or_class_id, seed)`` fixes every parameter (pins kept, the rest drawn
from a stream keyed by (class_id, seed)); ``build_scene(concrete)`` lays out the road for the
road context, the ego, the hazard actor(s) (``taxonomy.hazards``: placed so the corner case
culminates inside the horizon), background traffic and traffic lights
(``taxonomy.traffic``), and friction from the weather. Same inputs give the identical Scene
(and JSON) on any machine. A class's "parallel worlds" are its seeds.
"""

from __future__ import annotations

import math

from scenario_library.errors import SpecError
from scenario_library.scene import (
    FRICTION_BY_WEATHER,
    AgentRole,
    ConcreteScenario,
    JunctionLayout,
    Scene,
    carriageway_half_widths,
    lane_kind,
)
from scenario_library.spec import ScenarioSpec, check_seed
from scenario_library.taxonomy import TAXONOMY, ScenarioClass
from scenario_library.taxonomy.draw import draw_params, make_ctx, rng_for
from scenario_library.taxonomy.families import constraints_of
from scenario_library.taxonomy.hazards import Infeasible, place_hazard
from scenario_library.taxonomy.layouts import EGO_BODY, agent_at
from scenario_library.taxonomy.traffic import MAX_AGENTS, background_traffic, traffic_lights

__all__ = ["build_scene", "resolve_class", "sample_scenario", "sample_scene"]

_SCENE_KEY = 0x5CE7E


def resolve_class(
    spec_or_class_id: ScenarioSpec | ScenarioClass | int, seed: int
) -> tuple[ScenarioClass, dict[str, float]]:
    """The class and the pins of a spec, class or class id."""
    if isinstance(spec_or_class_id, ScenarioSpec):
        return spec_or_class_id.resolve(seed), dict(spec_or_class_id.params)
    if isinstance(spec_or_class_id, ScenarioClass):
        return spec_or_class_id, {}
    if isinstance(spec_or_class_id, bool) or not isinstance(spec_or_class_id, int):
        raise SpecError("class_id", spec_or_class_id, "expected a ScenarioSpec or a class id")
    return TAXONOMY.get(spec_or_class_id), {}


def sample_scenario(
    spec_or_class_id: ScenarioSpec | ScenarioClass | int, seed: int
) -> ConcreteScenario:
    """Fix every parameter of the class for ``seed`` (pins of a spec are kept)."""
    seed = check_seed(seed)
    cls, pins = resolve_class(spec_or_class_id, seed)
    params = draw_params(cls, seed, pins)
    return ConcreteScenario(
        class_id=cls.class_id,
        class_name=cls.name,
        tags=cls.tags,
        family=cls.family,
        road_context=cls.road_context,
        weather=cls.weather,
        lighting=cls.lighting,
        seed=seed,
        params=params,
    )


def build_scene(concrete: ConcreteScenario, horizon_s: float = 8.0, dt_s: float = 0.1) -> Scene:
    """Lay out road, ego, hazard actor(s), background traffic and lights for ``concrete``."""
    if not (math.isfinite(horizon_s) and horizon_s > 0):
        raise SpecError("horizon_s", horizon_s, "must be a positive number of seconds")
    if not (math.isfinite(dt_s) and 0 < dt_s <= horizon_s):
        raise SpecError("dt_s", dt_s, "must be positive and at most horizon_s")
    cls = TAXONOMY.get(concrete.class_id)
    if cls.name != concrete.class_name:
        raise SpecError("class_name", concrete.class_name, f"class {cls.class_id} is {cls.name}")
    params = dict(concrete.params)
    missing = [p.name for p in cls.parameters if p.name not in params]
    if missing:
        raise SpecError("params", missing, f"missing parameters of {cls.name}")
    for con in constraints_of(cls.family):
        reason = con(params, cls.road_context, cls.weather)
        if reason is not None:
            raise SpecError("params", params, reason)
    c = make_ctx(cls, params, horizon_s)
    try:
        placement = place_hazard(c)
    except Infeasible as exc:
        reason = str(exc.args[0])
        if "horizon" in reason:
            raise SpecError("horizon_s", horizon_s, reason) from None
        raise SpecError("params", params, reason) from None

    road = c.road
    ego = agent_at(
        "ego",
        EGO_BODY,
        AgentRole.EGO,
        road,
        s_m=c.ego_s0,
        lane=-1,
        speed_mps=c.v_e,
        desired_speed_mps=c.v_e,
    )
    # junction position and road length
    if road.junction is not None:
        if placement.junction_s is None:  # pragma: no cover - every junction placer sets it
            raise SpecError("road.junction", None, f"{cls.name}: placer set no junction")
        road = road.model_copy(
            update={
                "junction": JunctionLayout(
                    s_m=round(placement.junction_s, 3),
                    arm_length_m=round(placement.arm_length_m or road.junction.arm_length_m, 3),
                    lanes_per_direction=road.junction.lanes_per_direction,
                    has_traffic_lights=road.junction.has_traffic_lights,
                    has_crosswalks=road.junction.has_crosswalks,
                )
            }
        )
    far = [c.ego_s0 + c.v_e * horizon_s + 150.0, 250.0]
    far += [a.s_m + 60.0 for a in placement.agents if a.start.road_id == 0]
    if road.junction is not None:
        far.append(road.junction.s_m + max(carriageway_half_widths(road, 1)) + 60.0)
    road = road.model_copy(update={"length_m": float(math.ceil(max(far) / 10.0) * 10.0)})

    rng = rng_for(_SCENE_KEY, concrete.class_id, concrete.seed)
    background = background_traffic(
        road,
        placement,
        ego,
        params.get("traffic_density_veh_per_km", 0.0),
        horizon_s,
        rng,
        n_existing=1 + len(placement.agents),
    )
    scene = Scene(
        scenario=concrete,
        road=road,
        agents=(ego, *placement.agents, *background),
        manoeuvres=tuple(placement.manoeuvres),
        traffic_lights=traffic_lights(road, horizon_s),
        friction_mu=FRICTION_BY_WEATHER[cls.weather],
        dt_s=dt_s,
        horizon_s=horizon_s,
    )
    _check_scene(scene)
    return scene


def sample_scene(
    spec_or_class_id: ScenarioSpec | ScenarioClass | int,
    seed: int,
    horizon_s: float = 8.0,
    dt_s: float = 0.1,
) -> Scene:
    """``build_scene(sample_scenario(spec_or_class_id, seed))``: same inputs, identical scene."""
    return build_scene(sample_scenario(spec_or_class_id, seed), horizon_s=horizon_s, dt_s=dt_s)


def _check_scene(scene: Scene) -> None:
    """Contract checks beyond ``Scene.validate_scene``: agent budget, lanes, positions."""
    scene.validate_scene()
    if len(scene.agents) > MAX_AGENTS:
        raise SpecError("agents", len(scene.agents), f"at most {MAX_AGENTS} agents per scene")
    road = scene.road
    for a in scene.agents:
        if lane_kind(road, a.start.road_id, a.start.lane_id) == "none":
            raise SpecError(f"agents[{a.agent_id}].start", a.start, "no such lane")
        length = road.length_m if a.start.road_id == 0 else 2 * road.junction.arm_length_m  # type: ignore[union-attr]
        if not 0.0 <= a.s_m <= length:
            raise SpecError(f"agents[{a.agent_id}].s_m", a.s_m, f"outside road (0..{length:g})")
        if a.role is not AgentRole.HAZARD and a.speed_mps > 0 and a.desired_speed_mps is None:
            raise SpecError(f"agents[{a.agent_id}].desired_speed_mps", None, "must be set")
    # a single TrafficLight must not appear twice
    ids = [t.light_id for t in scene.traffic_lights]
    if len(set(ids)) != len(ids):
        raise SpecError("traffic_lights", ids, "duplicate light ids")
