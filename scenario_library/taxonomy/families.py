"""The 16 hazard families: what each one is, per road context, its tags and its parameters.

Sources of the numbers (see ``shared/reference/scenario-parameters.md``):

* Euro NCAP AEB C2C v4.3.1 / VRU v4.5.1 test scenarios (CCRs, CCRm, CCRb, CCFhos, CPNA, CPFA,
  CPNCO, CPLA, CBNA, CBFA, CBLA): ego and target speeds, overlaps, impact points, start TTC.
* NHTSA pre-crash typology (DOT HS 810 767): the families and their frequency.
* UN R157 (ALKS) cut-in / cut-out: gap, relative speed and lane-change duration.
* Friction: ``scene.FRICTION_BY_WEATHER``; a hazard actor may brake or steer beyond comfort but
  never beyond ``mu * g`` (ranges below are clipped to 90 % / 50 % of it).

Road-context variants: every family exists in every road context. Where a hazard needs a
feature a context lacks, the nearest realistic variant is used; ``FamilyDef.variants`` documents
each one (and ``wmgen classes`` / the catalog show it through the tags). Two contract facts
shape them: the ego always drives in lane -1 (the innermost lane of its direction), and road 1
(a junction) can only cross a *straight* road 0 at right angles, so the two junction-bound
families on the rural-curve context use a straight rural crossroads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from scenario_library.params import ParameterDef, param
from scenario_library.scene import (
    FRICTION_BY_WEATHER,
    GRAVITY_MPS2,
    HazardFamily,
    Lighting,
    RoadContext,
    Weather,
)

F = HazardFamily
US, UI, HW, RC = (
    RoadContext.URBAN_STRAIGHT,
    RoadContext.URBAN_INTERSECTION,
    RoadContext.HIGHWAY,
    RoadContext.RURAL_CURVE,
)

#: Nominal horizon the parameter ranges are designed for: every sampled corner case
#: culminates before ``DESIGN_HORIZON_S - EVENT_MARGIN_S``.
DESIGN_HORIZON_S = 8.0
EVENT_MARGIN_S = 0.5

#: Ego speed caps by weather [km/h] (drivers slow down; fog/snow limits such as the 50 km/h
#: fog rule in several EU countries and typical 100 km/h snow limits on motorways).
_SPEED_CAP_KMH: dict[Weather, dict[RoadContext, float]] = {
    Weather.CLEAR: {},
    Weather.RAIN: {HW: 120.0},
    Weather.FOG: {HW: 100.0, RC: 80.0, US: 50.0, UI: 50.0},
    Weather.SNOW: {HW: 100.0, RC: 70.0, US: 50.0, UI: 50.0},
}

SRC_NCAP = "Euro NCAP AEB C2C v4.3.1 / VRU v4.5.1"
SRC_NHTSA = "NHTSA DOT HS 810 767 pre-crash typology"
SRC_R157 = "UN R157 (ALKS) cut-in/cut-out test parameters"
SRC_IDM = "IDM / highway-env traffic model defaults"
SRC_PHYS = "tyre friction by weather (scene.FRICTION_BY_WEATHER), nuPlan comfort bounds"
SRC_LAYOUT = "road design practice for the road context"


def max_hazard_decel_mps2(weather: Weather) -> float:
    """Hardest braking a scripted hazard actor may do: 90 % of mu*g, at most 9 m/s²."""
    return round(min(9.0, 0.9 * FRICTION_BY_WEATHER[weather] * GRAVITY_MPS2), 2)


def max_lateral_accel_mps2(weather: Weather) -> float:
    """Lateral acceleration budget for lane changes and curve driving: min(3, 0.5 mu g)."""
    return min(3.0, 0.5 * FRICTION_BY_WEATHER[weather] * GRAVITY_MPS2)


def min_lane_change_s(weather: Weather, lateral_m: float = 3.75) -> float:
    """Shortest lane change within the lateral budget: a sinusoidal-acceleration lane change
    of width W over duration d peaks at 2*pi*W/d² m/s²."""
    return round(
        math.sqrt(2 * math.pi * lateral_m / (0.5 * FRICTION_BY_WEATHER[weather] * 9.81)), 2
    )


# ------------------------------------------------------------------------------------- helpers
def _speed(
    name: str,
    ranges: dict[RoadContext, tuple[float, float, float]],
    ctx: RoadContext,
    desc: str,
    src: str,
    weather: Weather | None = None,
) -> ParameterDef:
    lo, hi, d = ranges[ctx]
    if weather is not None:
        cap = _SPEED_CAP_KMH[weather].get(ctx)
        if cap is not None and hi > cap:
            hi = cap
            lo = min(lo, cap - 10.0)
    return param(name, lo, hi, d, desc, src)


def _ego(
    ranges: dict[RoadContext, tuple[float, float, float]],
    ctx: RoadContext,
    weather: Weather,
    src: str = SRC_NCAP,
) -> ParameterDef:
    return _speed("ego_speed_kmh", ranges, ctx, "initial and desired ego speed", src, weather)


def _density(ctx: RoadContext) -> ParameterDef:
    hi = {US: 20.0, UI: 20.0, HW: 30.0, RC: 12.0}[ctx]
    return param(
        "traffic_density_veh_per_km",
        0.0,
        hi,
        hi / 2,
        "background traffic per lane and km (free flow up to ~25)",
        SRC_IDM,
    )


def _overlap(low: float = -100.0) -> ParameterDef:
    return param(
        "overlap_pct",
        low,
        100.0,
        100.0,
        "lateral overlap of the target with the ego's width; 100 = centred, sign = "
        "side the target is offset to (+ right, - left)",
        SRC_NCAP,
    )


def _impact(low: float = 25.0, high: float = 75.0, default: float = 50.0) -> ParameterDef:
    return param(
        "impact_point_pct",
        low,
        high,
        default,
        "impact point across the ego's front, % of its width from the side the actor "
        "comes from (for actors walking along: from the kerb-side edge)",
        SRC_NCAP,
    )


def _ttc_start(lo: float = 3.0, hi: float = 6.0, d: float = 4.0) -> ParameterDef:
    return param(
        "ttc_at_start_s",
        lo,
        hi,
        d,
        "ego time-to-collision with the target at t = 0 (constant speeds)",
        SRC_NCAP,
    )


def _lc_duration(weather: Weather, lateral_m: float) -> ParameterDef:
    lo = min_lane_change_s(weather, lateral_m)
    return param(
        "lane_change_duration_s",
        lo,
        round(lo + 2.0, 2),
        lo + 0.8,
        "duration of the hazard's lateral manoeuvre (shortest = lateral budget)",
        SRC_R157 + "; " + SRC_PHYS,
    )


def _lateral_of(ctx: RoadContext) -> float:
    return 3.75 if ctx is HW else 3.5


# ------------------------------------------------------------------------------- family model
Constraint = Callable[[dict[str, float], RoadContext, Weather], "str | None"]


@dataclass(frozen=True)
class FamilyDef:
    """Static description of one hazard family (its classes differ by context/weather/light)."""

    family: HazardFamily
    summary: str
    #: the concrete variant per road context (rationale for nearest-realistic substitutes)
    variants: dict[RoadContext, str]
    tags: tuple[str, ...]
    params: Callable[[RoadContext, Weather], tuple[ParameterDef, ...]]
    #: cross-parameter constraints: return a reason string when violated
    constraints: tuple[Constraint, ...] = field(default=())


def _slower_than_ego(name: str, min_diff_kmh: float = 0.0) -> Constraint:
    def check(p: dict[str, float], ctx: RoadContext, w: Weather) -> str | None:
        if name in p and p[name] > p["ego_speed_kmh"] - min_diff_kmh:
            return (
                f"{name}={p[name]:g} must be at least {min_diff_kmh:g} km/h below "
                f"ego_speed_kmh={p['ego_speed_kmh']:g}"
            )
        return None

    return check


def _cut_out_room(p: dict[str, float], ctx: RoadContext, w: Weather) -> str | None:
    v = p["ego_speed_kmh"] / 3.6
    need = p["headway_s"] + 0.75 * p["lane_change_duration_s"] + 4.6 / max(v, 1.0)
    if p["reveal_ttc_s"] < need:
        return (
            f"reveal_ttc_s={p['reveal_ttc_s']:g} leaves the lead no room to change lane "
            f"(needs >= {need:.2f} s with headway_s and lane_change_duration_s)"
        )
    return None


def _oncoming_room(p: dict[str, float], ctx: RoadContext, w: Weather) -> str | None:
    if p["ttc_trigger_s"] < p["lane_change_duration_s"]:
        return (
            f"ttc_trigger_s={p['ttc_trigger_s']:g} is shorter than "
            f"lane_change_duration_s={p['lane_change_duration_s']:g}: the intruder would "
            "not reach the ego lane"
        )
    return None


def _arrival_window(speed_name: str) -> Constraint:
    """Crossing vehicles must still collide at constant speeds: the arrival offset stays within
    80 % of the time window in which the two boxes (car 4.6 x 1.9 m) overlap."""

    def check(p: dict[str, float], ctx: RoadContext, w: Weather) -> str | None:
        half = (4.6 + 1.9) / 2
        window = 0.8 * (half / (p["ego_speed_kmh"] / 3.6) + half / (p[speed_name] / 3.6))
        if abs(p["arrival_offset_s"]) > window:
            return (
                f"arrival_offset_s={p['arrival_offset_s']:g} makes a near miss: at these "
                f"speeds it must stay within +-{window:.2f} s"
            )
        return None

    return check


def _params(*extra: Callable[[RoadContext, Weather], list[ParameterDef]]):  # type: ignore[no-untyped-def]
    """Compose a params function: family-specific ones, then density (+ radius on curves)."""

    def make(ctx: RoadContext, weather: Weather) -> tuple[ParameterDef, ...]:
        out: list[ParameterDef] = []
        for f in extra:
            out.extend(f(ctx, weather))
        out.append(_density(ctx))
        return tuple(out)

    return make


# Ego speed ranges [km/h] per context: (low, high, default).
_EGO_CCR = {
    US: (10.0, 60.0, 50.0),
    UI: (10.0, 50.0, 40.0),
    HW: (60.0, 130.0, 100.0),
    RC: (40.0, 90.0, 70.0),
}
_EGO_TRAFFIC = {
    US: (30.0, 60.0, 50.0),
    UI: (30.0, 60.0, 50.0),
    HW: (80.0, 130.0, 110.0),
    RC: (50.0, 90.0, 70.0),
}
_EGO_VRU = {
    US: (10.0, 60.0, 40.0),
    UI: (10.0, 50.0, 30.0),
    HW: (60.0, 110.0, 90.0),
    RC: (40.0, 90.0, 60.0),
}
_EGO_ALONG = {
    US: (20.0, 60.0, 50.0),
    UI: (20.0, 50.0, 40.0),
    HW: (60.0, 110.0, 80.0),
    RC: (40.0, 90.0, 70.0),
}
_EGO_JUNCTION = {
    US: (30.0, 60.0, 50.0),
    UI: (30.0, 60.0, 50.0),
    HW: (70.0, 110.0, 90.0),
    RC: (50.0, 90.0, 70.0),
}


def curve_radius_param() -> ParameterDef:
    return param(
        "curve_radius_m",
        150.0,
        400.0,
        250.0,
        "radius of the rural curve (left-hand); ego speed²/radius stays within the lateral budget",
        SRC_LAYOUT,
    )


def is_curved(family: HazardFamily, ctx: RoadContext) -> bool:
    """Rural-curve classes curve, except the junction-bound families (straight crossroads)."""
    return ctx is RC and family not in (F.LEFT_TURN_ACROSS, F.RED_LIGHT_RUNNER)


def _curve_ok(p: dict[str, float], ctx: RoadContext, w: Weather) -> str | None:
    if "curve_radius_m" not in p:
        return None
    v = p["ego_speed_kmh"] / 3.6
    a = v * v / p["curve_radius_m"]
    lim = max_lateral_accel_mps2(w)
    if a > lim + 1e-9:
        return (
            f"ego_speed_kmh={p['ego_speed_kmh']:g} on curve_radius_m={p['curve_radius_m']:g} "
            f"needs {a:.2f} m/s² lateral, above the {lim:.2f} m/s² budget in {w.value}"
        )
    return None


def _families() -> dict[HazardFamily, FamilyDef]:
    defs: list[FamilyDef] = []

    def ego(ranges, src=SRC_NCAP):  # type: ignore[no-untyped-def]
        return lambda c, w: [_ego(ranges, c, w, src)]

    defs.append(
        FamilyDef(
            F.LEAD_STOPPED,
            "A stationary vehicle stands in the ego lane ahead (NHTSA's most frequent pre-crash "
            "scenario, Euro NCAP CCRs).",
            {
                US: "car stopped in the lane (breakdown / waiting to turn into a driveway)",
                UI: "car stopped at the junction's stop line on green, waiting to turn left",
                HW: "car stopped at the tail of a traffic jam / broken down in the fast lane",
                RC: "car stopped in the lane behind the bend (limited sight)",
            },
            ("vehicle", "rear_end", "static", "euro_ncap:CCRs", "nhtsa:lead_vehicle_stopped"),
            _params(ego(_EGO_CCR), lambda c, w: [_ttc_start(), _overlap()]),
        )
    )
    defs.append(
        FamilyDef(
            F.LEAD_BRAKING,
            "The lead vehicle, travelling at the ego's speed, brakes hard (Euro NCAP CCRb).",
            {
                US: "lead brakes hard (for something the ego cannot see)",
                UI: "lead brakes hard to stop at the junction entry",
                HW: "lead brakes hard for a jam ahead",
                RC: "lead brakes hard in the bend",
            },
            ("vehicle", "rear_end", "braking", "euro_ncap:CCRb", "nhtsa:lead_vehicle_decelerating"),
            _params(
                ego(_EGO_TRAFFIC),
                lambda c, w: [
                    param(
                        "headway_s",
                        0.8,
                        3.0,
                        1.0,
                        "time gap from ego front to lead rear "
                        "(CCRb 12 m / 40 m at 50 km/h; 2026: 1 s)",
                        SRC_NCAP,
                    ),
                    param(
                        "lead_decel_mps2",
                        2.0,
                        max_hazard_decel_mps2(w),
                        6.0,
                        "lead deceleration magnitude (CCRb 2 / 4 / 6 m/s²), <= 0.9 mu g",
                        SRC_NCAP,
                    ),
                    param(
                        "brake_onset_s",
                        1.0,
                        3.0,
                        1.5,
                        "time at which the lead starts braking",
                        SRC_NCAP,
                    ),
                ],
            ),
        )
    )
    defs.append(
        FamilyDef(
            F.LEAD_SLOWER,
            "The ego closes in on a slower lead vehicle at constant speed (Euro NCAP CCRm).",
            {
                US: "slow car (searching for parking)",
                UI: "slow car approaching the junction",
                HW: "slow truck in the fast lane",
                RC: "slow agricultural vehicle (truck class) in the bend",
            },
            ("vehicle", "rear_end", "euro_ncap:CCRm", "nhtsa:lead_vehicle_lower_speed"),
            _params(
                ego(_EGO_TRAFFIC),
                lambda c, w: [
                    _speed(
                        "lead_speed_kmh",
                        {
                            US: (10.0, 30.0, 20.0),
                            UI: (10.0, 25.0, 20.0),
                            HW: (40.0, 80.0, 60.0),
                            RC: (15.0, 40.0, 25.0),
                        },
                        c,
                        "constant speed of the slower lead (CCRm 20 km/h)",
                        SRC_NCAP,
                    ),
                    _ttc_start(3.0, 7.0, 4.0),
                    _overlap(),
                ],
            ),
            (_slower_than_ego("lead_speed_kmh", 10.0),),
        )
    )
    defs.append(
        FamilyDef(
            F.CUT_IN,
            "A vehicle cuts into the ego lane a short gap ahead (NHTSA lane change / UN R157 "
            "cut-in).",
            {
                US: "parked car pulls out of the parking lane into the ego lane (no same-direction "
                "second lane on an urban 1+1 road)",
                UI: "car in the right lane cuts into the ego lane before the junction",
                HW: "car in lane -2 cuts into the ego lane",
                RC: "car pulls out from the shoulder / a lay-by into the ego lane",
            },
            ("vehicle", "lane_change", "cut_in", "nhtsa:lane_change_same_direction"),
            _params(
                ego(_EGO_TRAFFIC, SRC_R157),
                lambda c, w: [
                    _speed(
                        "cut_in_speed_kmh",
                        {
                            US: (10.0, 25.0, 15.0),
                            UI: (20.0, 50.0, 30.0),
                            HW: (60.0, 120.0, 90.0),
                            RC: (15.0, 40.0, 25.0),
                        },
                        c,
                        "speed of the cutting-in vehicle after its lane change",
                        SRC_R157,
                    ),
                    param(
                        "cut_in_gap_m",
                        5.0 if c in (US, UI) else 10.0,
                        25.0 if c in (US, UI) else 40.0,
                        10.0 if c in (US, UI) else 20.0,
                        "ego front to actor rear when the actor is centred in the ego lane",
                        SRC_R157,
                    ),
                    _lc_duration(w, _lateral_of(c)),
                ],
            ),
            (_slower_than_ego("cut_in_speed_kmh"),),
        )
    )
    defs.append(
        FamilyDef(
            F.CUT_OUT,
            "The lead vehicle swerves out of the ego lane and reveals a stopped vehicle ahead "
            "(UN R157 cut-out).",
            {
                US: "lead swerves into the free oncoming lane around a double-parked delivery van",
                UI: "lead changes to the right lane, revealing a car waiting to turn left",
                HW: "lead changes to lane -2, revealing a broken-down car",
                RC: "lead swerves into the free oncoming lane around a car stopped in the bend",
            },
            ("vehicle", "lane_change", "cut_out", "static", "occlusion", "rear_end"),
            _params(
                ego(_EGO_TRAFFIC, SRC_R157),
                lambda c, w: [
                    param(
                        "headway_s", 0.8, 2.0, 1.2, "time gap from ego front to lead rear", SRC_R157
                    ),
                    param(
                        "reveal_ttc_s",
                        2.0,
                        6.5,
                        4.0,
                        "ego time-to-collision with the stopped vehicle when the lead starts its "
                        "lane change",
                        SRC_R157,
                    ),
                    _lc_duration(w, _lateral_of(c)),
                ],
            ),
            (_cut_out_room,),
        )
    )
    ped_near = {US: (3.0, 8.0, 5.0), UI: (4.0, 8.0, 5.0), HW: (7.0, 12.0, 9.0), RC: (3.0, 8.0, 5.0)}
    defs.append(
        FamilyDef(
            F.PED_NEARSIDE,
            "An adult walks across the road from the ego's right (Euro NCAP CPNA-25/75).",
            {
                US: "from the right sidewalk across the empty parking lane",
                UI: "on the crosswalk just before the junction, against the signal",
                HW: "person hurrying across from a broken-down car on the hard shoulder",
                RC: "from the right verge in the bend",
            },
            ("vru", "pedestrian", "crossing", "euro_ncap:CPNA", "nhtsa:pedestrian"),
            _params(
                ego(_EGO_VRU),
                lambda c, w: [
                    _speed(
                        "pedestrian_speed_kmh",
                        ped_near,
                        c,
                        "walking speed (CPNA 5 km/h; highway: hurrying across two lanes)",
                        SRC_NCAP,
                    ),
                    _impact(),
                ],
            ),
        )
    )
    defs.append(
        FamilyDef(
            F.PED_FARSIDE,
            "An adult crosses from the ego's left, across the oncoming lane first (Euro NCAP "
            "CPFA-50).",
            {
                US: "from the left sidewalk across parking and oncoming lane",
                UI: "on the crosswalk before the junction from the left, against the signal",
                HW: "person climbing over the median barrier into the fast lane",
                RC: "from the left verge across the oncoming lane in the bend",
            },
            ("vru", "pedestrian", "crossing", "euro_ncap:CPFA", "nhtsa:pedestrian"),
            _params(
                ego(_EGO_VRU),
                lambda c, w: [
                    _speed(
                        "pedestrian_speed_kmh",
                        {
                            US: (5.0, 10.0, 8.0),
                            UI: (6.0, 10.0, 8.0),
                            HW: (3.0, 10.0, 6.0),
                            RC: (5.0, 10.0, 8.0),
                        },
                        c,
                        "walking speed (CPFA 8 km/h)",
                        SRC_NCAP,
                    ),
                    _impact(),
                ],
            ),
        )
    )
    defs.append(
        FamilyDef(
            F.CHILD_OCCLUDED,
            "A child runs out from behind parked vehicles on the right (Euro NCAP CPNCO-50).",
            {
                US: "from between cars in the right parking lane",
                UI: "from between cars in the right parking lane before the junction",
                HW: "from between two crashed / broken-down cars standing in lane -2",
                RC: "from between cars parked on the shoulder (farm shop / lay-by)",
            },
            (
                "vru",
                "pedestrian",
                "child",
                "crossing",
                "occlusion",
                "euro_ncap:CPNCO",
                "nhtsa:pedestrian",
            ),
            _params(
                ego(_EGO_VRU),
                lambda c, w: [
                    param(
                        "child_speed_kmh", 3.0, 8.0, 5.0, "running speed (CPNCO 5 km/h)", SRC_NCAP
                    ),
                    _impact(),
                    param(
                        "parked_vehicles_count",
                        1.0,
                        3.0,
                        2.0,
                        "parked vehicles around the child",
                        SRC_NCAP,
                        step=1.0,
                    ),
                ],
            ),
        )
    )
    defs.append(
        FamilyDef(
            F.PED_ALONG,
            "A pedestrian walks along the ego lane in the ego's direction (Euro NCAP CPLA-25/50).",
            {
                US: "walking in the lane next to the blocked sidewalk",
                UI: "walking along the lane edge towards the junction",
                HW: "person walking along the median edge of the fast lane (after a crash)",
                RC: "walking along the lane edge in the bend (no sidewalk)",
            },
            ("vru", "pedestrian", "along", "euro_ncap:CPLA", "nhtsa:pedestrian"),
            _params(
                ego(_EGO_ALONG),
                lambda c, w: [
                    param(
                        "pedestrian_speed_kmh",
                        3.0,
                        6.0,
                        5.0,
                        "walking speed (CPLA 5 km/h)",
                        SRC_NCAP,
                    ),
                    _impact(25.0, 50.0, 25.0),
                    _ttc_start(),
                ],
            ),
        )
    )
    defs.append(
        FamilyDef(
            F.CYCLIST_CROSSING,
            "A cyclist crosses the road from the right or the left (Euro NCAP CBNA / CBFA).",
            {
                US: "riding out of a driveway across the sidewalk and road",
                UI: "riding across on the crossing before the junction, against the signal",
                HW: "cyclist crossing the expressway on an at-grade field track",
                RC: "cyclist crossing from a field track in the bend",
            },
            (
                "vru",
                "cyclist",
                "crossing",
                "euro_ncap:CBNA",
                "euro_ncap:CBFA",
                "nhtsa:pedalcyclist",
            ),
            _params(
                ego(_EGO_VRU),
                lambda c, w: [
                    param(
                        "cyclist_speed_kmh", 10.0, 25.0, 15.0, "CBNA 15 / CBFA 20 km/h", SRC_NCAP
                    ),
                    _impact(),
                    param(
                        "from_farside_bool",
                        0.0,
                        1.0,
                        0.0,
                        "1 = from the left (CBFA)",
                        SRC_NCAP,
                        step=1.0,
                    ),
                ],
            ),
        )
    )
    defs.append(
        FamilyDef(
            F.CYCLIST_ALONG,
            "A cyclist rides along in the ego lane ahead (Euro NCAP CBLA-25/50).",
            {
                US: "riding at the right edge of the ego lane",
                UI: "riding towards the junction",
                HW: "cyclist that strayed onto the expressway riding along the median edge",
                RC: "riding at the right edge of the lane in the bend",
            },
            ("vru", "cyclist", "along", "euro_ncap:CBLA", "nhtsa:pedalcyclist"),
            _params(
                ego(
                    {
                        US: (25.0, 60.0, 50.0),
                        UI: (25.0, 50.0, 40.0),
                        HW: (60.0, 110.0, 80.0),
                        RC: (50.0, 90.0, 70.0),
                    }
                ),
                lambda c, w: [
                    param("cyclist_speed_kmh", 10.0, 25.0, 15.0, "CBLA 15 / 20 km/h", SRC_NCAP),
                    _impact(25.0, 50.0, 50.0),
                    _ttc_start(),
                ],
            ),
            (_slower_than_ego("cyclist_speed_kmh", 10.0),),
        )
    )
    defs.append(
        FamilyDef(
            F.ONCOMING_IN_LANE,
            "An oncoming vehicle moves into the ego lane (Euro NCAP CCFhos/hol head-on).",
            {
                US: "oncoming car overtakes into the ego lane",
                UI: "oncoming car swerves into the ego lane before the junction",
                HW: "car from the oncoming carriageway crosses the median into the ego lane "
                "(cross-median crash on the divided highway)",
                RC: "oncoming car overtaking in the bend",
            },
            (
                "vehicle",
                "oncoming",
                "head_on",
                "lane_change",
                "euro_ncap:CCFhos",
                "nhtsa:opposite_direction",
            ),
            _params(
                ego(_EGO_TRAFFIC),
                lambda c, w: [
                    _speed(
                        "oncoming_speed_kmh",
                        {
                            US: (30.0, 60.0, 50.0),
                            UI: (30.0, 50.0, 40.0),
                            HW: (60.0, 120.0, 90.0),
                            RC: (50.0, 90.0, 70.0),
                        },
                        c,
                        "speed of the intruding vehicle (CCFhos 50 / 70 km/h)",
                        SRC_NCAP,
                        w,
                    ),
                    param(
                        "ttc_trigger_s",
                        3.0,
                        7.0,
                        4.0,
                        "ego TTC to the intruder when it starts moving into the ego lane",
                        SRC_NCAP,
                    ),
                    _lc_duration(w, 6.75 if c is HW else 3.5),
                ],
            ),
            (_oncoming_room,),
        )
    )
    defs.append(
        FamilyDef(
            F.LEFT_TURN_ACROSS,
            "An oncoming vehicle turns left across the ego's path (NHTSA LTAP/OD; the mirror "
            "of Euro NCAP CCFtap, whose target speeds are the ego's here).",
            {
                US: "at an unsignalised side street",
                UI: "permissive left turn on green at the signalised junction",
                HW: "through a median crossover of an at-grade expressway junction (unsignalised)",
                RC: "at a straight rural crossroads (a junction cannot sit on the curve arc)",
            },
            (
                "vehicle",
                "oncoming",
                "junction",
                "turning",
                "nhtsa:left_turn_across_path_opposite_direction",
            ),
            _params(
                ego(_EGO_JUNCTION, SRC_NHTSA),
                lambda c, w: [
                    param(
                        "turn_speed_kmh",
                        15.0 if c is HW else 10.0,
                        30.0 if c is HW else 25.0,
                        20.0 if c is HW else 15.0,
                        "speed through the turn (CCFtap 10/15/20 km/h)",
                        SRC_NCAP,
                    ),
                    param(
                        "time_to_conflict_s",
                        4.0,
                        7.0,
                        5.0,
                        "time at which ego and turner reach the conflict point at constant speeds",
                        SRC_NHTSA,
                    ),
                    param(
                        "arrival_offset_s",
                        -0.5,
                        0.0,
                        0.0,
                        "turner reaches the conflict point this much before the ego "
                        "(0 = centres meet; earlier = the ego hits its side)",
                        SRC_NHTSA,
                    ),
                ],
            ),
            (_arrival_window("turn_speed_kmh"),),
        )
    )
    defs.append(
        FamilyDef(
            F.RED_LIGHT_RUNNER,
            "A vehicle on the crossing road runs its red light while the ego has green (NHTSA "
            "running red light / straight crossing paths).",
            {
                US: "signalised side-street junction",
                UI: "signalised urban junction",
                HW: "signalised at-grade junction of an expressway",
                RC: "signalised straight rural crossroads (a junction cannot sit on the curve arc)",
            },
            ("vehicle", "junction", "traffic_light", "crossing_paths", "nhtsa:running_red_light"),
            _params(
                ego(_EGO_JUNCTION, SRC_NHTSA),
                lambda c, w: [
                    _speed(
                        "runner_speed_kmh",
                        {
                            US: (30.0, 60.0, 50.0),
                            UI: (30.0, 60.0, 50.0),
                            HW: (50.0, 90.0, 70.0),
                            RC: (50.0, 90.0, 70.0),
                        },
                        c,
                        "speed of the red-light runner",
                        SRC_NHTSA,
                    ),
                    param(
                        "time_to_conflict_s",
                        3.0,
                        6.0,
                        4.0,
                        "time at which ego and runner reach the conflict point at constant speeds",
                        SRC_NHTSA,
                    ),
                    param(
                        "arrival_offset_s",
                        -0.5,
                        0.0,
                        0.0,
                        "runner reaches the conflict point this much before the ego "
                        "(0 = centres meet; earlier = the ego hits its side)",
                        SRC_NHTSA,
                    ),
                ],
            ),
            (_arrival_window("runner_speed_kmh"),),
        )
    )
    defs.append(
        FamilyDef(
            F.ANIMAL,
            "An animal runs across the road (NHTSA animal crashes, 5.1 %).",
            {
                US: "dog running across from the right/left sidewalk",
                UI: "dog running across before the junction",
                HW: "deer running across the highway from the verge / median",
                RC: "deer leaping out of the forest in the bend",
            },
            ("animal", "crossing", "nhtsa:animal"),
            _params(
                ego(
                    {
                        US: (20.0, 60.0, 40.0),
                        UI: (20.0, 50.0, 30.0),
                        HW: (80.0, 130.0, 100.0),
                        RC: (50.0, 90.0, 80.0),
                    },
                    SRC_NHTSA,
                ),
                lambda c, w: [
                    _speed(
                        "animal_speed_kmh",
                        {
                            US: (5.0, 20.0, 10.0),
                            UI: (5.0, 20.0, 10.0),
                            HW: (10.0, 30.0, 20.0),
                            RC: (10.0, 30.0, 20.0),
                        },
                        c,
                        "running speed (dog / deer)",
                        SRC_NHTSA,
                    ),
                    _impact(),
                    param(
                        "from_farside_bool", 0.0, 1.0, 0.0, "1 = from the left", SRC_NHTSA, step=1.0
                    ),
                ],
            ),
        )
    )
    defs.append(
        FamilyDef(
            F.STATIC_OBSTACLE,
            "A static obstacle partly blocks the ego lane: road works or debris.",
            {
                US: "road-works barrier in the lane",
                UI: "road-works barrier before the junction",
                HW: "lane-closure trailer with arrow board in the fast lane",
                RC: "rock fall / debris in the bend",
            },
            ("static", "obstacle", "road_works"),
            _params(
                ego(
                    {
                        US: (20.0, 60.0, 40.0),
                        UI: (20.0, 50.0, 40.0),
                        HW: (80.0, 130.0, 100.0),
                        RC: (40.0, 90.0, 70.0),
                    },
                    SRC_NHTSA,
                ),
                lambda c, w: [_ttc_start(3.0, 7.0, 4.0), _overlap(25.0)],
            ),
        )
    )
    return {d.family: d for d in defs}


FAMILIES: dict[HazardFamily, FamilyDef] = _families()


def class_parameters(
    family: HazardFamily, ctx: RoadContext, weather: Weather
) -> tuple[ParameterDef, ...]:
    """Declared parameters of one (family, road, weather) cell (lighting does not matter)."""
    ps = FAMILIES[family].params(ctx, weather)
    if is_curved(family, ctx):
        ps = (*ps, curve_radius_param())
    return ps


def constraints_of(family: HazardFamily) -> tuple[Constraint, ...]:
    return (*FAMILIES[family].constraints, _curve_ok)


def condition_tags(weather: Weather, lighting: Lighting) -> tuple[str, ...]:
    tags: list[str] = []
    if weather is not Weather.CLEAR:
        tags.append("adverse_weather")
    if weather in (Weather.RAIN, Weather.SNOW):
        tags.append("low_friction")
    if weather is Weather.FOG or lighting in (Lighting.NIGHT, Lighting.LOW_SUN):
        tags.append("low_visibility")
    return tuple(tags)


def context_tags(family: HazardFamily, ctx: RoadContext) -> tuple[str, ...]:
    tags: list[str] = []
    junction = ctx is UI or family in (F.LEFT_TURN_ACROSS, F.RED_LIGHT_RUNNER)
    if junction:
        tags.append("junction")
    if ctx is UI or family is F.RED_LIGHT_RUNNER:
        tags.append("traffic_light")
    if is_curved(family, ctx):
        tags.append("limited_sight")
    if ctx is HW and family is F.ONCOMING_IN_LANE:
        tags.append("cross_median")
    return tuple(tags)
