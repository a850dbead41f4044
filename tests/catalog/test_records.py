"""Read models: validation, normalisation and the where-clause parser."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from scenario_library.catalog import ClipQuery, ClipRecord, ParamRange, parse_where
from scenario_library.errors import SpecError

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("text", "name", "op", "value"),
    [
        ("ego_speed_kmh>60", "ego_speed_kmh", ">", 60.0),
        (" ego_speed_kmh >= 60.5 ", "ego_speed_kmh", ">=", 60.5),
        ("gap_m<-1e1", "gap_m", "<", -10.0),
        ("gap_m<=.5", "gap_m", "<=", 0.5),
        ("n_agents=3", "n_agents", "=", 3.0),
        ("n_agents==3", "n_agents", "=", 3.0),
        ("friction!=0.8", "friction", "!=", 0.8),
    ],
)
def test_parse_where_accepts_all_ops(text: str, name: str, op: str, value: float) -> None:
    assert parse_where(text) == ParamRange(name=name, op=op, value=value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text", ["", "ego_speed_kmh", "ego_speed_kmh>", ">60", "speed=>60", "speed>sixty", "1x>2",
             "speed>60;drop table clip", "speed > 60 km/h", "speed>nan", "speed>inf"],
)  # fmt: skip
def test_parse_where_rejects_with_field_and_value(text: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_where(text)
    assert info.value.field == "where"
    assert info.value.value == text
    assert "where=" in str(info.value)


def test_clip_query_parses_where_strings_and_normalises_tags() -> None:
    q = ClipQuery(tags=["b", "a", "a"], where=["x>1", ParamRange(name="y", op="<", value=2)])
    assert q.tags == ["a", "b"]
    assert q.where == [ParamRange(name="x", op=">", value=1), ParamRange(name="y", op="<", value=2)]
    # Inside a model the SpecError surfaces as pydantic's ValidationError (a ValueError),
    # still naming the field and the value.
    with pytest.raises(ValidationError, match=r"where='x>>1'"):
        ClipQuery(where=["x>>1"])
    with pytest.raises(ValueError):
        ClipQuery(limit=0)


def _record(**kw: object) -> ClipRecord:
    base: dict[str, object] = dict(
        token=TOKEN, class_id=3, backend="sketch", width_px=64, height_px=32, fps=10.0,
        n_frames=50,
    )  # fmt: skip
    base.update(kw)
    return ClipRecord(**base)  # type: ignore[arg-type]


def test_clip_record_validates_token_tags_params() -> None:
    r = _record(tags=["road:urban", "family:cut_in", "road:urban"], params={"b_m": 1, "a_s": 2})
    assert r.tags == ["family:cut_in", "road:urban"]
    assert list(r.params) == ["a_s", "b_m"]
    assert r.created_at.tzinfo is not None
    for bad in ["ABCDEF0123456789abcdef0123456789", "abc", "g" * 32]:
        with pytest.raises(ValidationError, match=f"token={bad!r}"):
            _record(token=bad)
    with pytest.raises(ValidationError, match="source_clip_token='nope'"):
        _record(source_clip_token="nope")
    with pytest.raises(ValidationError, match="tags=' padded'"):
        _record(tags=[" padded"])
    with pytest.raises(ValidationError, match=r"params\.speed=nan"):
        _record(params={"speed": float("nan")})
    with pytest.raises(ValidationError, match="params='bad name'"):
        _record(params={"bad name": 1.0})
