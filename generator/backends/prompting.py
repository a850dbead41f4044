"""Text prompts for neural backends, composed from a scenario's class tags plus user text.

Deterministic and readable: the same scenario and user text always give the same prompt, e.g.

    "Dashcam video from a car's front camera, rainy night on a wet urban street. A child runs
    out from behind parked cars. Photorealistic, natural motion. Heavy traffic."

The composition is: ``"Dashcam video from a car's front camera, {weather} {light} on
{road}. {Hazard}. Photorealistic, natural motion."`` followed by the user's text, if any.
Descriptive tags (``vru``, ``occlusion``, ``junction``...) add short phrases where they say
something the hazard sentence does not.

:func:`compose_prompt` is idempotent: feeding an already composed prompt back in as the user
text returns it unchanged, so a caller that composed the prompt itself (the clip pipeline) and
a backend that composes again (to be safe) agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scenario_library.scene import (
    ConcreteScenario,
    HazardFamily,
    Lighting,
    RoadContext,
    Weather,
)

PROMPT_PREFIX = "Dashcam video from a car's front camera"
STYLE_SENTENCE = "Photorealistic, natural motion."

#: Negative prompt used by every neural backend unless the caller overrides it.
NEGATIVE_PROMPT = (
    "low quality, blurry, distorted, deformed vehicles, cartoon, painting, flicker, static "
    "frame, watermark, text, subtitles, overexposed, jerky motion"
)

WEATHER_WORDS: dict[Weather, str] = {
    Weather.CLEAR: "clear",
    Weather.RAIN: "rainy",
    Weather.FOG: "foggy",
    Weather.SNOW: "snowy",
}

LIGHT_WORDS: dict[Lighting, str] = {
    Lighting.DAY: "day",
    Lighting.DUSK: "dusk",
    Lighting.NIGHT: "night",
    Lighting.LOW_SUN: "day with low sun glare",
}

ROAD_WORDS: dict[RoadContext, str] = {
    RoadContext.URBAN_STRAIGHT: "an urban street",
    RoadContext.URBAN_INTERSECTION: "an urban intersection",
    RoadContext.HIGHWAY: "a multi-lane highway",
    RoadContext.RURAL_CURVE: "a curving rural road",
}

HAZARD_SENTENCES: dict[HazardFamily, str] = {
    HazardFamily.LEAD_STOPPED: "A car is stopped in the lane ahead",
    HazardFamily.LEAD_BRAKING: "The car ahead brakes hard",
    HazardFamily.LEAD_SLOWER: "A slow vehicle drives in the lane ahead",
    HazardFamily.CUT_IN: "A car from the next lane cuts in closely in front",
    HazardFamily.CUT_OUT: "The car ahead swerves out and reveals a stopped car",
    HazardFamily.PED_NEARSIDE: "A pedestrian steps onto the road from the near kerb",
    HazardFamily.PED_FARSIDE: "A pedestrian crosses the road from the far side",
    HazardFamily.CHILD_OCCLUDED: "A child runs out from behind parked cars",
    HazardFamily.PED_ALONG: "A pedestrian walks along the edge of the lane",
    HazardFamily.CYCLIST_CROSSING: "A cyclist crosses the road in front",
    HazardFamily.CYCLIST_ALONG: "A cyclist rides along the lane ahead",
    HazardFamily.ONCOMING_IN_LANE: "An oncoming car drifts into the ego lane",
    HazardFamily.LEFT_TURN_ACROSS: "An oncoming car turns left across the path",
    HazardFamily.RED_LIGHT_RUNNER: "A car runs the red light at the intersection",
    HazardFamily.ANIMAL: "An animal stands on the road",
    HazardFamily.STATIC_OBSTACLE: "Road works with cones and barriers block the lane",
}

#: Descriptive tags that add a phrase (only where the hazard sentence does not say it).
TAG_PHRASES: dict[str, str] = {
    "occlusion": "partly hidden until the last moment",
    "heavy_traffic": "heavy traffic",
    "parked_cars": "parked cars line the kerb",
    "junction": "at a junction",
}


def _road_phrase(road: RoadContext | None, weather: Weather | None) -> str:
    phrase = ROAD_WORDS[road] if road is not None else "a road"
    if weather is Weather.RAIN:
        return "a wet " + phrase.split(" ", 1)[1]
    if weather is Weather.SNOW:
        return phrase + " covered in snow"
    return phrase


def scene_sentence(
    weather: Weather | None, lighting: Lighting | None, road: RoadContext | None
) -> str:
    """'rainy night on a wet urban street' style phrase (missing axes are left out)."""
    words = [WEATHER_WORDS[weather]] if weather is not None else []
    words += [LIGHT_WORDS[lighting]] if lighting is not None else []
    head = " ".join(words) if words else "driving"
    return f"{head} on {_road_phrase(road, weather)}"


@dataclass(frozen=True)
class PromptAxes:
    """The four taxonomy axes (None where unknown) plus descriptive tags."""

    family: HazardFamily | None
    road: RoadContext | None
    weather: Weather | None
    lighting: Lighting | None
    tags: tuple[str, ...]


def axes_from_tags(tags: Sequence[str]) -> PromptAxes:
    """Read ``family:``, ``road:``, ``weather:``, ``light:`` tags; unknown values are ignored."""
    found: dict[str, str] = {}
    for tag in tags:
        key, sep, value = tag.partition(":")
        if sep and key in ("family", "road", "weather", "light"):
            found.setdefault(key, value)

    def pick(enum: type[Any], key: str) -> Any:
        try:
            return enum(found[key]) if key in found else None
        except ValueError:
            return None

    return PromptAxes(
        family=pick(HazardFamily, "family"),
        road=pick(RoadContext, "road"),
        weather=pick(Weather, "weather"),
        lighting=pick(Lighting, "light"),
        tags=tuple(tags),
    )


def _axes(source: ConcreteScenario | Sequence[str]) -> PromptAxes:
    if isinstance(source, ConcreteScenario):
        return PromptAxes(
            source.family, source.road_context, source.weather, source.lighting, source.tags
        )
    return axes_from_tags(source)


def base_prompt(source: ConcreteScenario | Sequence[str]) -> str:
    """The tag-derived part of the prompt (no user text), from a scenario or its tags."""
    ax = _axes(source)
    hazard = HAZARD_SENTENCES[ax.family] if ax.family is not None else ""
    extras = [
        phrase
        for tag, phrase in TAG_PHRASES.items()
        if tag in ax.tags and phrase.split()[-1] not in hazard.lower()
    ]
    if extras:
        extra = ", ".join(extras)
        hazard = f"{hazard}, {extra}" if hazard else extra[0].upper() + extra[1:]
    scene = scene_sentence(ax.weather, ax.lighting, ax.road)
    middle = f" {hazard}." if hazard else ""
    return f"{PROMPT_PREFIX}, {scene}.{middle} {STYLE_SENTENCE}"


def compose_prompt(source: ConcreteScenario | Sequence[str], user_text: str = "") -> str:
    """Tag-derived prompt followed by the user's text (whitespace-normalised). Idempotent.

    ``source`` is a :class:`ConcreteScenario` or its tags (``("family:cut_in",
    "weather:rain", "light:night", "road:highway", ...)``): both give the same prompt.
    """
    base = base_prompt(source)
    text = " ".join(user_text.split())
    if not text or text == base:
        return base
    if text.startswith(base):  # already composed (idempotence)
        return text
    if text[-1] not in ".!?":
        text += "."
    return f"{base} {text}"


def restyle_prompt(weather: Weather, lighting: Lighting, user_text: str = "") -> str:
    """Prompt for video-to-video restyling of a real clip to a new weather / time of day."""
    words = f"{WEATHER_WORDS[weather]} {LIGHT_WORDS[lighting]}"
    text = " ".join(user_text.split())
    out = f"{PROMPT_PREFIX}, the same street scene on a {words}. {STYLE_SENTENCE}"
    return f"{out} {text}" if text else out
