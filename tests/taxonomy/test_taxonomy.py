"""The 1024-class taxonomy: coverage, names, tags, parameters, registry."""

from __future__ import annotations

import re

import pytest

from scenario_library.errors import SpecError, UnknownClassError
from scenario_library.scene import (
    FRICTION_BY_WEATHER,
    GRAVITY_MPS2,
    HazardFamily,
    Lighting,
    RoadContext,
    Weather,
)
from scenario_library.taxonomy import AXES, FAMILIES, TAXONOMY, Taxonomy, class_id_of

F = HazardFamily


def test_exactly_ids_0_to_1023_with_unique_names() -> None:
    classes = TAXONOMY.all()
    assert [c.class_id for c in classes] == list(range(1024))
    names = [c.name for c in classes]
    assert len(set(names)) == 1024
    for c in classes:
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+\.[a-z]+\.[a-z_]+", c.name)


def test_id_formula_and_name_follow_the_enum_order() -> None:
    for c in TAXONOMY.all():
        f = list(HazardFamily).index(c.family)
        r = list(RoadContext).index(c.road_context)
        w = list(Weather).index(c.weather)
        li = list(Lighting).index(c.lighting)
        assert c.class_id == ((f * 4 + r) * 4 + w) * 4 + li
        assert (
            c.name
            == f"{c.family.value}.{c.road_context.value}.{c.weather.value}.{c.lighting.value}"
        )
    assert class_id_of(F.CUT_IN, RoadContext.HIGHWAY, Weather.RAIN, Lighting.NIGHT) == (
        TAXONOMY.by_name("cut_in.highway.rain.night").class_id
    )


def test_axis_tags_are_consistent_and_unique() -> None:
    for c in TAXONOMY.all():
        values = (c.family, c.road_context, c.weather, c.lighting)
        for axis, value in zip(AXES, values, strict=True):
            assert [t for t in c.tags if t.startswith(axis + ":")] == [f"{axis}:{value.value}"]
        assert len(set(c.tags)) == len(c.tags)


def test_descriptive_tags() -> None:
    vru = {
        F.PED_NEARSIDE,
        F.PED_FARSIDE,
        F.CHILD_OCCLUDED,
        F.PED_ALONG,
        F.CYCLIST_CROSSING,
        F.CYCLIST_ALONG,
    }
    for c in TAXONOMY.all():
        assert ("vru" in c.tags) == (c.family in vru)
        assert ("animal" in c.tags) == (c.family is F.ANIMAL)
        if c.road_context is RoadContext.URBAN_INTERSECTION:
            assert "junction" in c.tags and "traffic_light" in c.tags
        if c.family is F.CHILD_OCCLUDED:
            assert {"occlusion", "euro_ncap:CPNCO"} <= set(c.tags)
        assert ("low_friction" in c.tags) == (c.weather in (Weather.RAIN, Weather.SNOW))
    assert "euro_ncap:CCRs" in TAXONOMY.tags()
    assert len(TAXONOMY.match(["vru"])) == 6 * 64
    assert len(TAXONOMY.match(["family:cut_in", "road:highway"])) == 16


def test_every_family_documents_a_variant_per_road_context() -> None:
    assert set(FAMILIES) == set(HazardFamily)
    for fdef in FAMILIES.values():
        assert set(fdef.variants) == set(RoadContext)
        assert all(len(v) > 10 for v in fdef.variants.values())
    c = TAXONOMY.by_name("pedestrian_crossing_nearside.highway.clear.day")
    assert "shoulder" in c.variant


def test_parameters_have_units_ranges_and_respect_physics() -> None:
    for c in TAXONOMY.all():
        names = [p.name for p in c.parameters]
        assert "ego_speed_kmh" in names and "traffic_density_veh_per_km" in names
        assert len(set(names)) == len(names)
        for p in c.parameters:
            assert p.name.endswith("_" + p.unit)
            assert p.low <= p.default <= p.high
            assert p.source and p.description
        decel = c.parameter("lead_decel_mps2")
        if decel is not None:
            assert decel.high <= FRICTION_BY_WEATHER[c.weather] * GRAVITY_MPS2
        radius = c.parameter("curve_radius_m")
        assert (radius is not None) == (
            c.road_context is RoadContext.RURAL_CURVE
            and c.family not in (F.LEFT_TURN_ACROSS, F.RED_LIGHT_RUNNER)
        )


def test_ranges_depend_on_road_context_and_weather() -> None:
    def ego(name: str) -> tuple[float, float]:
        p = TAXONOMY.by_name(name).parameter("ego_speed_kmh")
        assert p is not None
        return p.low, p.high

    assert ego("cut_in.highway.clear.day")[1] > ego("cut_in.urban_straight.clear.day")[1]
    assert ego("cut_in.highway.snow.day")[1] < ego("cut_in.highway.clear.day")[1]
    dry = TAXONOMY.by_name("lead_vehicle_braking.highway.clear.day").parameter("lead_decel_mps2")
    snow = TAXONOMY.by_name("lead_vehicle_braking.highway.snow.day").parameter("lead_decel_mps2")
    assert dry is not None and snow is not None and snow.high < dry.high


def test_registry_rejects_duplicates() -> None:
    a, b = TAXONOMY.get(0), TAXONOMY.get(1)
    reg = Taxonomy([a])
    with pytest.raises(SpecError, match="duplicate class id"):
        reg.register(a.model_copy(update={"name": "other.name.x.y"}))
    with pytest.raises(SpecError, match="duplicate class name"):
        reg.register(b.model_copy(update={"name": a.name}))
    reg.register(b)
    assert len(reg) == 2


def test_registry_rejects_inconsistent_class() -> None:
    c = TAXONOMY.get(5)
    with pytest.raises(SpecError, match="road"):
        Taxonomy([c.model_copy(update={"tags": (c.tags[0], "road:highway", *c.tags[2:])})])


def test_unknown_lookups() -> None:
    with pytest.raises(UnknownClassError, match="1024"):
        TAXONOMY.get(1024)
    with pytest.raises(UnknownClassError, match="did you mean 'road:highway'"):
        TAXONOMY.match(["road:higway"])
    with pytest.raises(UnknownClassError):
        TAXONOMY.by_name("cut_in.moon.clear.day")
