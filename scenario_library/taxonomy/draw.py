"""Seeded parameter draws for one class, with pins, constraints and a feasibility check.

Determinism: every draw uses ``np.random.default_rng(SeedSequence([SALT, class_id, seed]))``
(integers only, no ``hash()`` of strings), so a class and a seed give the same numbers on any
machine. All parameters are drawn on every attempt, pinned or not, so pinning one parameter
does not change the values the seed gives the others (unless a constraint forces a redraw).
"""

from __future__ import annotations

import numpy as np

from scenario_library.errors import SpecError
from scenario_library.params import ParameterDef
from scenario_library.scene import lane_center_t
from scenario_library.taxonomy.families import DESIGN_HORIZON_S, constraints_of
from scenario_library.taxonomy.hazards import TRACK_DT_S, Ctx, Infeasible, place_hazard
from scenario_library.taxonomy.layouts import base_layout, ego_start_s
from scenario_library.taxonomy.registry import ScenarioClass

#: "wmgen" as an integer: the root of every seed sequence of the scenario library.
SALT = 0x776D67656E
MAX_DRAWS = 200


def rng_for(*keys: int) -> np.random.Generator:
    """A generator keyed by non-negative integers, identical on every platform."""
    return np.random.default_rng(np.random.SeedSequence([SALT, *(int(k) for k in keys)]))


def draw_one(p: ParameterDef, rng: np.random.Generator) -> float:
    if p.step is not None:
        n = round((p.high - p.low) / p.step)
        return float(p.low + p.step * int(rng.integers(0, n + 1)))
    x = round(float(rng.uniform(p.low, p.high)), 3)
    return float(min(max(x, p.low), p.high))


def make_ctx(cls: ScenarioClass, params: dict[str, float], horizon_s: float) -> Ctx:
    road = base_layout(cls.family, cls.road_context, params)
    v_e = params["ego_speed_kmh"] / 3.6
    return Ctx(
        family=cls.family,
        ctx=cls.road_context,
        weather=cls.weather,
        p=params,
        road=road,
        horizon_s=horizon_s,
        ego_s0=ego_start_s(v_e),
        v_e=v_e,
        t_e=lane_center_t(road, 0, -1),
        times=np.arange(0.0, horizon_s + 1e-9, TRACK_DT_S),
    )


def check_params(
    cls: ScenarioClass, params: dict[str, float], horizon_s: float = DESIGN_HORIZON_S
) -> str | None:
    """None when ``params`` give a realisable corner case of ``cls``, else the reason."""
    for con in constraints_of(cls.family):
        reason = con(params, cls.road_context, cls.weather)
        if reason is not None:
            return reason
    try:
        place_hazard(make_ctx(cls, params, horizon_s))
    except Infeasible as exc:
        return str(exc.args[0])
    return None


def draw_params(
    cls: ScenarioClass,
    seed: int,
    pins: dict[str, float] | None = None,
    horizon_s: float = DESIGN_HORIZON_S,
    max_draws: int = MAX_DRAWS,
) -> dict[str, float]:
    """Parameters of ``cls`` for ``seed``: pins kept, the rest drawn until feasible."""
    pins = dict(pins or {})
    rng = rng_for(cls.class_id, seed)
    last = "no draw"
    for _ in range(max_draws):
        values = {p.name: draw_one(p, rng) for p in cls.parameters}
        values.update(pins)
        reason = check_params(cls, values, horizon_s)
        if reason is None:
            return values
        last = reason
    raise SpecError(
        "params", pins, f"no feasible parameters for class {cls.name} ({max_draws} draws): {last}"
    )
