"""Prompt composition from class tags plus user text."""

from __future__ import annotations

from backend_fixtures import make_scene

from generator.backends.prompting import (
    HAZARD_SENTENCES,
    compose_prompt,
    restyle_prompt,
    scene_sentence,
)
from scenario_library.scene import HazardFamily, Lighting, RoadContext, Weather


def test_prompt_reads_from_tags() -> None:
    scenario = make_scene().scenario
    p = compose_prompt(scenario, "")
    assert p.startswith(
        "Dashcam video from a car's front camera, rainy night on a wet urban street."
    )
    assert "A child runs out from behind parked cars" in p
    assert "partly hidden until the last moment" in p  # from the "occlusion" tag
    assert p.endswith("Photorealistic, natural motion.")


def test_user_text_appended_and_idempotent() -> None:
    scenario = make_scene().scenario
    p = compose_prompt(scenario, "  heavy   traffic ")
    assert p.endswith(" heavy traffic.")
    assert compose_prompt(scenario, p) == p
    assert compose_prompt(scenario, "x") == compose_prompt(scenario, "x")


def test_every_axis_changes_the_prompt() -> None:
    base = make_scene()
    other = make_scene(
        family=HazardFamily.CUT_IN,
        weather=Weather.FOG,
        lighting=Lighting.DAY,
        road=RoadContext.HIGHWAY,
        tags=("family:cut_in",),
    )
    p = compose_prompt(other.scenario)
    assert "foggy day on a multi-lane highway" in p
    assert "cuts in" in p and p != compose_prompt(base.scenario)
    assert set(HAZARD_SENTENCES) == set(HazardFamily)
    for w in Weather:
        for light in Lighting:
            for r in RoadContext:
                assert scene_sentence(w, light, r)
    assert "snowy dusk" in restyle_prompt(Weather.SNOW, Lighting.DUSK)


def test_tags_and_scenario_give_the_same_prompt() -> None:
    s = make_scene(
        tags=(
            "family:child_emerging_behind_parked_cars",
            "road:urban_straight",
            "weather:rain",
            "light:night",
            "vru",
            "occlusion",
        )
    ).scenario
    assert compose_prompt(s.tags, "x") == compose_prompt(s, "x")
    # unknown / missing axes are left out, never guessed
    p = compose_prompt(("weather:hail", "light:night"))
    assert p == "Dashcam video from a car's front camera, night on a road. " + (
        "Photorealistic, natural motion."
    )
