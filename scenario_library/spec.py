"""User-facing scenario specs: pick a class or tags, pin some parameters, sample the rest.

>>> ScenarioSpec(tags=["family:cut_in", "road:highway"], params={"ego_speed_kmh": 110})

Validation (construction raises ``SpecError`` / ``UnknownClassError`` naming field and value):

* neither ``class_id`` nor ``tags`` given;
* unknown class id or tag (with a "did you mean" hint);
* two tags of the same axis (``road:highway`` + ``road:rural_curve``), or tags that contradict
  ``class_id``, or tags no class carries together;
* a pinned parameter no candidate class declares (a wrong unit such as ``ego_speed_mps`` for
  ``ego_speed_kmh`` names the right parameter and the converted value), a value outside the
  declared range, a non-finite value;
* pins that contradict each other (no feasible scene, e.g. 90 km/h on a 150 m curve in snow).

Pins narrow a tag selection: the candidates are the matching classes that accept every pin
(``ego_speed_kmh=120`` with ``family:cut_in`` selects the highway cut-in classes).
``resolve(seed)`` picks one candidate deterministically from the seed.

When a spec is validated as part of another model (e.g. the pipeline's ``ClipRequest``),
pydantic reports a ``ValidationError`` whose error context holds the ``SpecError``;
``spec_error_from`` recovers it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from scenario_library.errors import SpecError, UnknownClassError
from scenario_library.params import UNITS, suggest_name
from scenario_library.taxonomy import AXES, TAXONOMY, ScenarioClass
from scenario_library.taxonomy.draw import draw_params, rng_for

#: draws tried when checking that a set of pins is jointly feasible for a class
FEASIBILITY_DRAWS = 40
_RESOLVE_KEY = 0x5BEC


def spec_error_from(exc: ValidationError) -> SpecError:
    """The ``SpecError`` behind a pydantic ``ValidationError`` of a spec (or a new one)."""
    err = exc.errors()[0]
    inner = (err.get("ctx") or {}).get("error")
    if isinstance(inner, SpecError):
        return inner
    field = ".".join(str(x) for x in err.get("loc", ())) or "spec"
    return SpecError(field, err.get("input"), err.get("msg", "invalid"))


class ScenarioSpec(BaseModel):
    """What to generate: a class id or tags, plus parameter pins (name with unit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    class_id: int | None = None
    tags: list[str] = Field(default_factory=list)
    params: dict[str, float] = Field(default_factory=dict)
    _candidates: tuple[int, ...] = PrivateAttr(default=())

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise spec_error_from(exc) from None

    @classmethod
    def parse(cls, data: Mapping[str, Any] | ScenarioSpec) -> ScenarioSpec:
        """Validate a dict (e.g. parsed JSON); raises ``SpecError`` on any problem."""
        if isinstance(data, ScenarioSpec):
            return data
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise spec_error_from(exc) from None

    @model_validator(mode="after")
    def _validate(self) -> ScenarioSpec:
        self._candidates = tuple(c.class_id for c in _candidates(self))
        return self

    def candidates(self) -> list[ScenarioClass]:
        """The classes this spec may resolve to (sorted by id; never empty)."""
        return [TAXONOMY.get(i) for i in self._candidates]

    def resolve(self, seed: int) -> ScenarioClass:
        """The class for ``seed``: the class_id, or a seeded pick among the candidates."""
        ids = self._candidates
        if len(ids) == 1:
            return TAXONOMY.get(ids[0])
        k = int(rng_for(_RESOLVE_KEY, check_seed(seed)).integers(0, len(ids)))
        return TAXONOMY.get(ids[k])


def check_seed(seed: Any) -> int:
    """A seed must be a non-negative integer (numpy integers and integral floats accepted)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Real):
        raise SpecError("seed", seed, "must be a non-negative integer")
    x = float(seed)
    if not math.isfinite(x) or x != math.floor(x) or x < 0:
        raise SpecError("seed", seed, "must be a non-negative integer")
    return int(seed) if isinstance(seed, numbers.Integral) else int(x)


def _check_tags(tags: list[str]) -> None:
    for t in tags:
        TAXONOMY.check_tag(t)
    for axis in AXES:
        own = sorted({t for t in tags if t.startswith(axis + ":")})
        if len(own) > 1:
            raise SpecError("tags", own, f"contradictory: a class has exactly one {axis}")


def _candidates(spec: ScenarioSpec) -> list[ScenarioClass]:
    if spec.class_id is None and not spec.tags:
        raise SpecError("class_id", None, "give a class_id or at least one tag")
    _check_tags(spec.tags)
    if spec.class_id is not None:
        cls = TAXONOMY.get(spec.class_id)
        for t in spec.tags:
            if t not in cls.tags:
                raise SpecError(
                    "tags",
                    t,
                    f"contradicts class_id={cls.class_id} ({cls.name}), which does not carry it",
                )
        cands = [cls]
    else:
        cands = TAXONOMY.match(spec.tags)
        if not cands:
            raise UnknownClassError("tags", spec.tags, "no class carries all of these tags")
    for name, value in spec.params.items():
        cands = _filter_by_pin(cands, name, value)
    if spec.params:
        feasible = [c for c in cands if _pins_feasible(c, spec.params) is None]
        if not feasible:
            reason = _pins_feasible(cands[0], spec.params)
            raise SpecError("params", dict(spec.params), f"contradictory pins: {reason}")
        cands = feasible
    return cands


def _filter_by_pin(cands: list[ScenarioClass], name: str, value: float) -> list[ScenarioClass]:
    field = f"params.{name}"
    if not math.isfinite(value):
        raise SpecError(field, value, "must be a finite number")
    declaring = [c for c in cands if c.parameter(name) is not None]
    what = cands[0].name if len(cands) == 1 else f"the {len(cands)} selected classes"
    if not declaring:
        declared = {p.name: p for c in cands for p in c.parameters}
        hint = suggest_name(name, value, tuple(declared.values()))
        reason = f"unknown parameter for {what}"
        if hint:
            reason += f"; {hint}"
        reason += f"; declared: {sorted(declared)}"
        raise SpecError(field, value, reason)
    ok = [c for c in declaring if c.parameter(name).contains(value)]  # type: ignore[union-attr]
    if not ok:
        span: dict[str, tuple[float, float]] = {}
        for c in declaring:
            q = c.parameter(name)
            assert q is not None
            lo, hi = span.get(c.road_context.value, (q.low, q.high))
            span[c.road_context.value] = (min(lo, q.low), max(hi, q.high))
        shown = "; ".join(f"{road}: [{lo:g}, {hi:g}]" for road, (lo, hi) in sorted(span.items()))
        p = declaring[0].parameter(name)
        unit = UNITS[p.unit] if p is not None else ""
        step = " in steps of " + f"{p.step:g}" if p is not None and p.step else ""
        raise SpecError(field, value, f"out of range [{unit}]{step} for {what} ({shown})")
    return ok


def _pins_feasible(cls: ScenarioClass, pins: dict[str, float]) -> str | None:
    try:
        draw_params(cls, 0, pins, max_draws=FEASIBILITY_DRAWS)
    except SpecError as exc:
        return exc.reason
    return None
