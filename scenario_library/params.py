"""Declared scenario parameters: name (unit in the name), unit, range, default and source.

Every hazard family of the taxonomy declares the parameters a concrete scene needs (ego speed,
actor speed, TTC at trigger, overlap, deceleration, gap, background density...). A parameter's
name always ends with its unit suffix (``ego_speed_kmh``, ``lead_decel_mps2``, ``headway_s``),
so a spec that pins ``ego_speed_mps`` when the family declares ``ego_speed_kmh`` can be told
exactly which name to use instead.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Unit suffix -> human-readable unit. Longest suffixes are matched first.
UNITS: dict[str, str] = {
    "veh_per_km": "vehicles/km/lane",
    "mps2": "m/s²",
    "kmh": "km/h",
    "mps": "m/s",
    "pct": "%",
    "count": "count",
    "bool": "0/1",
    "deg": "degrees",
    "s": "s",
    "m": "m",
}
_SUFFIXES = sorted(UNITS, key=len, reverse=True)

#: Conversion factors between units of the same quantity: (from, to) -> factor.
_CONVERSIONS: dict[tuple[str, str], float] = {
    ("mps", "kmh"): 3.6,
    ("kmh", "mps"): 1 / 3.6,
}


def split_unit(name: str) -> tuple[str, str | None]:
    """``"ego_speed_kmh"`` -> ``("ego_speed", "kmh")``; no known suffix -> ``(name, None)``."""
    for suffix in _SUFFIXES:
        if name.endswith("_" + suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix) - 1], suffix
    return name, None


def convert(value: float, from_unit: str, to_unit: str) -> float | None:
    """Convert between compatible units, None when there is no known conversion."""
    if from_unit == to_unit:
        return value
    factor = _CONVERSIONS.get((from_unit, to_unit))
    return None if factor is None else value * factor


class ParameterDef(BaseModel):
    """One declared parameter of a hazard family, possibly specialised to a road context."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    unit: str
    low: float
    high: float
    default: float
    description: str
    source: str
    #: sampling grid: None = continuous uniform; 1.0 = integers (counts, flags)
    step: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _check(self) -> ParameterDef:
        _base, unit = split_unit(self.name)
        if unit != self.unit:
            raise ValueError(f"parameter {self.name!r} must end with its unit suffix {self.unit!r}")
        if self.unit not in UNITS:
            raise ValueError(f"parameter {self.name!r}: unknown unit {self.unit!r}")
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low <= self.high):
            raise ValueError(f"parameter {self.name!r}: bad range [{self.low}, {self.high}]")
        if not self.low <= self.default <= self.high:
            raise ValueError(f"parameter {self.name!r}: default {self.default} outside range")
        return self

    @property
    def base(self) -> str:
        """Name without the unit suffix (``ego_speed`` for ``ego_speed_kmh``)."""
        return split_unit(self.name)[0]

    def describe_range(self) -> str:
        return f"[{self.low:g}, {self.high:g}] {UNITS[self.unit]}"

    def contains(self, value: float) -> bool:
        if not math.isfinite(value) or not self.low - 1e-9 <= value <= self.high + 1e-9:
            return False
        if self.step is not None:
            k = (value - self.low) / self.step
            return abs(k - round(k)) < 1e-9
        return True


def param(
    name: str,
    low: float,
    high: float,
    default: float,
    description: str,
    source: str,
    step: float | None = None,
) -> ParameterDef:
    """Shorthand: the unit comes from the name's suffix; the default is clipped into range."""
    _, unit = split_unit(name)
    if unit is None:
        raise ValueError(f"parameter {name!r} has no unit suffix (one of {sorted(UNITS)})")
    default = min(max(default, low), high)
    if step is not None:
        default = low + round((default - low) / step) * step
    return ParameterDef(
        name=name,
        unit=unit,
        low=low,
        high=high,
        default=default,
        description=description,
        source=source,
        step=step,
    )


def suggest_name(name: str, value: float, declared: tuple[ParameterDef, ...]) -> str | None:
    """If ``name`` is a declared parameter in another unit, a hint naming the right one."""
    base, unit = split_unit(name)
    for p in declared:
        if p.base == base and p.unit != unit:
            hint = f"wrong unit: use {p.name!r} [{UNITS[p.unit]}]"
            conv = convert(value, unit, p.unit) if unit else None
            if conv is not None:
                hint += f" ({name}={value:g} is {p.name}={conv:.4g})"
            return hint
    close = [p.name for p in declared if base in p.name or p.base in name]
    if close:
        return f"did you mean {close[0]!r}?"
    return None
