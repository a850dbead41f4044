"""The 1024-class corner-case taxonomy: 16 hazard families x 4 roads x 4 weathers x 4 lights.

``class_id = ((family * 4 + road) * 4 + weather) * 4 + light`` with every axis in the enum
order of ``scenario_library.scene`` (``HazardFamily``, ``RoadContext``, ``Weather``,
``Lighting``). Names are ``family.road.weather.light`` with the enum values, e.g.
``cut_in.highway.rain.night``. Tags: one per axis (``family:cut_in``, ``road:highway``,
``weather:rain``, ``light:night``), the family's descriptive tags (``vru``, ``occlusion``,
``euro_ncap:CPNCO``...), context tags (``junction``, ``traffic_light``, ``limited_sight``,
``cross_median``) and condition tags (``adverse_weather``, ``low_friction``, ``low_visibility``).
"""

from __future__ import annotations

from scenario_library.scene import HazardFamily, Lighting, RoadContext, Weather
from scenario_library.taxonomy.families import (
    FAMILIES,
    FamilyDef,
    class_parameters,
    condition_tags,
    context_tags,
)
from scenario_library.taxonomy.registry import AXES, ScenarioClass, Taxonomy

__all__ = [
    "AXES",
    "FAMILIES",
    "TAXONOMY",
    "FamilyDef",
    "ScenarioClass",
    "Taxonomy",
    "class_id_of",
]


def class_id_of(
    family: HazardFamily, road: RoadContext, weather: Weather, lighting: Lighting
) -> int:
    """The class id of one cell of the taxonomy grid."""
    f = list(HazardFamily).index(family)
    r = list(RoadContext).index(road)
    w = list(Weather).index(weather)
    li = list(Lighting).index(lighting)
    return ((f * 4 + r) * 4 + w) * 4 + li


def _dedupe(*tags: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tags))


def _build() -> Taxonomy:
    tax = Taxonomy()
    for family in HazardFamily:
        fdef = FAMILIES[family]
        for road in RoadContext:
            for weather in Weather:
                params = class_parameters(family, road, weather)
                for light in Lighting:
                    tags = _dedupe(
                        f"family:{family.value}",
                        f"road:{road.value}",
                        f"weather:{weather.value}",
                        f"light:{light.value}",
                        *fdef.tags,
                        *context_tags(family, road),
                        *condition_tags(weather, light),
                    )
                    tax.register(
                        ScenarioClass(
                            class_id=class_id_of(family, road, weather, light),
                            name=f"{family.value}.{road.value}.{weather.value}.{light.value}",
                            family=family,
                            road_context=road,
                            weather=weather,
                            lighting=light,
                            tags=tags,
                            parameters=params,
                            variant=fdef.variants[road],
                        )
                    )
    return tax


#: The registry of all 1024 classes.
TAXONOMY: Taxonomy = _build()
