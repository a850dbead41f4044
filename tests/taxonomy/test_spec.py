"""ScenarioSpec: validation messages name field and value; pins; tag selection."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from scenario_library.errors import SpecError, UnknownClassError
from scenario_library.sampling import sample_scenario, sample_scene
from scenario_library.scene import RoadContext
from scenario_library.spec import ScenarioSpec, spec_error_from
from scenario_library.taxonomy import TAXONOMY

RURAL_SNOW_ANIMAL = TAXONOMY.by_name("animal_on_road.rural_curve.snow.day").class_id


@pytest.mark.parametrize(
    ("kwargs", "field", "value", "needle", "exc_type"),
    [
        ({}, "class_id", None, "class_id or at least one tag", SpecError),
        (
            {"tags": ["road:motorway"]},
            "tags",
            "road:motorway",
            "did you mean 'road:highway'",
            UnknownClassError,
        ),
        (
            {"tags": ["road:highway", "road:rural_curve"]},
            "tags",
            ["road:highway", "road:rural_curve"],
            "contradictory",
            SpecError,
        ),
        ({"class_id": 1024}, "class_id", 1024, "no such class", UnknownClassError),
        (
            {"class_id": 0, "tags": ["road:highway"]},
            "tags",
            "road:highway",
            "contradicts class_id=0",
            SpecError,
        ),
        (
            {"tags": ["vru", "animal"]},
            "tags",
            ["vru", "animal"],
            "no class carries",
            UnknownClassError,
        ),
        (
            {"class_id": 0, "params": {"ego_speed_mps": 13.9}},
            "params.ego_speed_mps",
            13.9,
            "wrong unit: use 'ego_speed_kmh'",
            SpecError,
        ),
        (
            {"class_id": 0, "params": {"ego_speed_kmh": 300}},
            "params.ego_speed_kmh",
            300.0,
            "out of range",
            SpecError,
        ),
        (
            {"class_id": 0, "params": {"lead_decel_mps2": 3}},
            "params.lead_decel_mps2",
            3.0,
            "unknown parameter",
            SpecError,
        ),
        (
            {"class_id": 0, "params": {"ego_speed_kmh": float("inf")}},
            "params.ego_speed_kmh",
            float("inf"),
            "finite",
            SpecError,
        ),
        (
            {"class_id": 448, "params": {"parked_vehicles_count": 1.5}},
            "params.parked_vehicles_count",
            1.5,
            "steps of 1",
            SpecError,
        ),
        (
            {"tags": ["family:cut_in"], "params": {"ego_speed_kmh": "fast"}},
            "params.ego_speed_kmh",
            "fast",
            "valid number",
            SpecError,
        ),
        ({"class_id": 0, "colour": "red"}, "colour", "red", "Extra inputs", SpecError),
        (
            {"class_id": RURAL_SNOW_ANIMAL, "params": {"ego_speed_kmh": 70, "curve_radius_m": 150}},
            "params",
            {"ego_speed_kmh": 70.0, "curve_radius_m": 150.0},
            "contradictory pins",
            SpecError,
        ),
        (
            {
                "tags": ["family:cut_in", "road:highway"],
                "params": {"ego_speed_kmh": 90, "cut_in_speed_kmh": 100},
            },
            "params",
            {"ego_speed_kmh": 90.0, "cut_in_speed_kmh": 100.0},
            "contradictory pins",
            SpecError,
        ),
    ],
)
def test_invalid_specs_are_rejected_naming_field_and_value(
    kwargs: dict, field: str, value: object, needle: str, exc_type: type
) -> None:
    with pytest.raises(exc_type) as exc:
        ScenarioSpec(**kwargs)
    err = exc.value
    assert isinstance(err, SpecError)
    assert err.field == field
    if value != value or value == float("inf"):  # nan / inf
        assert repr(value) in str(err)
    else:
        assert err.value == value
    assert str(err).startswith(f"{field}=")
    assert needle in str(err)


def test_wrong_unit_message_gives_converted_value() -> None:
    with pytest.raises(SpecError, match=r"ego_speed_kmh=50\.04"):
        ScenarioSpec(class_id=0, params={"ego_speed_mps": 13.9})


def test_parse_and_nested_validation_recover_the_spec_error() -> None:
    with pytest.raises(SpecError, match=r"params\.ego_speed_kmh=300"):
        ScenarioSpec.parse({"class_id": 0, "params": {"ego_speed_kmh": 300}})

    class Request(BaseModel):
        spec: ScenarioSpec

    with pytest.raises(ValidationError) as exc:
        Request.model_validate({"spec": {"class_id": 0, "tags": ["road:highway"]}})
    err = spec_error_from(exc.value)
    assert err.field == "tags" and err.value == "road:highway"
    ok = Request.model_validate({"spec": {"class_id": 3, "params": {"ego_speed_kmh": 42}}})
    assert ok.spec.resolve(0).class_id == 3


def test_pins_are_respected_and_do_not_disturb_other_draws() -> None:
    cls = TAXONOMY.by_name("pedestrian_crossing_nearside.urban_straight.clear.night")
    free = sample_scenario(cls.class_id, 9)
    spec = ScenarioSpec(class_id=cls.class_id, params={"ego_speed_kmh": 42.5})
    pinned = sample_scenario(spec, 9)
    assert pinned.params["ego_speed_kmh"] == 42.5
    for name, v in free.params.items():
        if name != "ego_speed_kmh":
            assert pinned.params[name] == v
    scene = sample_scene(spec, 9)
    assert scene.agents[0].speed_mps == pytest.approx(42.5 / 3.6)


def test_tags_select_matching_classes_deterministically() -> None:
    spec = ScenarioSpec(tags=["vru", "weather:fog", "light:night"])
    cands = spec.candidates()
    assert len(cands) == 6 * 4
    picked = {spec.resolve(s).class_id for s in range(40)}
    assert len(picked) > 5
    assert picked <= {c.class_id for c in cands}
    assert [spec.resolve(s).class_id for s in range(10)] == [
        ScenarioSpec(tags=["vru", "weather:fog", "light:night"]).resolve(s).class_id
        for s in range(10)
    ]
    for s in range(5):
        c = sample_scenario(spec, s)
        assert {"vru", "weather:fog", "light:night"} <= set(c.tags)


def test_pins_narrow_a_tag_selection() -> None:
    spec = ScenarioSpec(tags=["family:cut_in"], params={"ego_speed_kmh": 120})
    roads = {c.road_context for c in spec.candidates()}
    assert roads == {RoadContext.HIGHWAY}
    # snow caps highway ego speed at 100 km/h
    assert all(c.weather.value != "snow" for c in spec.candidates())
    concrete = sample_scenario(spec, 3)
    assert concrete.params["ego_speed_kmh"] == 120
    assert concrete.road_context is RoadContext.HIGHWAY


def test_bad_seed_rejected() -> None:
    with pytest.raises(SpecError) as exc:
        sample_scenario(0, -1)
    assert exc.value.field == "seed"
    with pytest.raises(UnknownClassError):
        sample_scenario(4096, 0)
