"""The scenario-class model and its registry (rejects duplicate ids and names)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from scenario_library.errors import SpecError, UnknownClassError
from scenario_library.params import ParameterDef
from scenario_library.scene import HazardFamily, Lighting, RoadContext, Weather

#: Tag prefixes of the four taxonomy axes: a class has exactly one tag of each.
AXES: tuple[str, ...] = ("family", "road", "weather", "light")


class ScenarioClass(BaseModel):
    """One of the 1024 corner-case classes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    class_id: int = Field(ge=0, le=1023)
    name: str
    family: HazardFamily
    road_context: RoadContext
    weather: Weather
    lighting: Lighting
    tags: tuple[str, ...]
    parameters: tuple[ParameterDef, ...]
    #: the concrete variant of the family in this road context (documentation)
    variant: str = ""

    def parameter(self, name: str) -> ParameterDef | None:
        for p in self.parameters:
            if p.name == name:
                return p
        return None

    def validate(self) -> None:  # type: ignore[override]
        """Raise ``SpecError`` if tags or parameters are inconsistent."""
        for axis, value in zip(
            AXES, (self.family, self.road_context, self.weather, self.lighting), strict=True
        ):
            own = [t for t in self.tags if t.startswith(axis + ":")]
            if own != [f"{axis}:{value.value}"]:
                raise SpecError("tags", own, f"class {self.name} needs exactly {axis}:{value}")
        if len(set(self.tags)) != len(self.tags):
            raise SpecError("tags", self.tags, f"class {self.name} repeats a tag")
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise SpecError("parameters", names, f"class {self.name} repeats a parameter")


class Taxonomy:
    """Registry of scenario classes: ``get``, ``all``, ``match``, ``tags``."""

    def __init__(self, classes: Iterable[ScenarioClass] = ()) -> None:
        self._by_id: dict[int, ScenarioClass] = {}
        self._by_name: dict[str, ScenarioClass] = {}
        self._tags: set[str] = set()
        for c in classes:
            self.register(c)

    def register(self, cls: ScenarioClass) -> None:
        """Add a class; duplicates of id or name raise ``SpecError``."""
        if cls.class_id in self._by_id:
            raise SpecError("class_id", cls.class_id, "duplicate class id in the taxonomy")
        if cls.name in self._by_name:
            raise SpecError("name", cls.name, "duplicate class name in the taxonomy")
        cls.validate()
        self._by_id[cls.class_id] = cls
        self._by_name[cls.name] = cls
        self._tags.update(cls.tags)

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, class_id: int) -> ScenarioClass:
        try:
            return self._by_id[int(class_id)]
        except (KeyError, TypeError, ValueError):
            raise UnknownClassError(
                "class_id", class_id, f"no such class (ids are 0..{len(self) - 1})"
            ) from None

    def by_name(self, name: str) -> ScenarioClass:
        try:
            return self._by_name[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._by_name), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownClassError("name", name, "no such class" + hint) from None

    def all(self) -> list[ScenarioClass]:
        return [self._by_id[i] for i in sorted(self._by_id)]

    def tags(self) -> list[str]:
        return sorted(self._tags)

    def check_tag(self, tag: str) -> None:
        """Raise ``UnknownClassError`` (with a suggestion) for a tag no class has."""
        if tag in self._tags:
            return
        close = difflib.get_close_matches(tag, list(self._tags), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownClassError("tags", tag, "unknown tag" + hint + " (see `wmgen classes`)")

    def match(self, tags: Iterable[str]) -> list[ScenarioClass]:
        """Classes carrying all ``tags`` (unknown tags raise ``UnknownClassError``)."""
        wanted = list(tags)
        for t in wanted:
            self.check_tag(t)
        return [c for c in self.all() if all(t in c.tags for t in wanted)]
