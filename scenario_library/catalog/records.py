"""Read models of the catalog (pydantic, frozen), kept apart from the ORM rows.

These are what callers hand to and get back from :class:`~scenario_library.catalog.Catalog`;
the database layout (``models.py``) can change without touching them.

Conventions
-----------
- Tokens are 32 lowercase hex characters (nuScenes style). A clip token is a content address
  computed by the pipeline; a job token is random (uuid4).
- Tags are short strings such as ``"family:cut_in"``, ``"road:highway"``, ``"vru"``. A record
  keeps them sorted and unique, so equal tag sets compare equal.
- Parameter names carry their unit (``ego_speed_kmh``); values are finite floats.
- Times are timezone-aware UTC ``datetime``.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from scenario_library.errors import SpecError

TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
PARAM_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_TAG_LEN = 100
N_CLASSES_DEFAULT = 1024

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def utcnow() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def check_token(token: str, field: str = "token") -> str:
    """Return ``token`` if it is 32 lowercase hex characters, else raise ``SpecError``."""
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        raise SpecError(field, token, "must be 32 lowercase hex characters")
    return token


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _check_tags(tags: list[str], field: str) -> list[str]:
    out: set[str] = set()
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip() or tag != tag.strip():
            raise SpecError(field, tag, "a tag is a non-empty string without outer whitespace")
        if len(tag) > MAX_TAG_LEN:
            raise SpecError(field, tag, f"a tag has at most {MAX_TAG_LEN} characters")
        out.add(tag)
    return sorted(out)


class FileRef(BaseModel):
    """One stored file of a clip: ``kind`` (e.g. ``video``, ``labels``, ``controls/depth``),
    its ``uri`` (``file://`` or ``s3://``), SHA-256 hex digest and size [bytes]."""

    model_config = _FROZEN

    kind: str = Field(min_length=1, max_length=200)
    uri: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(ge=0)


class ClipRecord(BaseModel):
    """Everything the catalog knows about one generated (or augmented) clip."""

    model_config = _FROZEN

    token: str
    #: None only for augmented real clips without labels (no scenario class is known)
    class_id: int | None = Field(ge=0)
    class_name: str = ""
    tags: list[str] = Field(default_factory=list)
    params: dict[str, float] = Field(default_factory=dict)
    seed: int = 0
    backend: str = Field(min_length=1, max_length=100)
    spec: dict[str, Any] = Field(default_factory=dict)
    provenance: dict[str, str] = Field(default_factory=dict)
    files: list[FileRef] = Field(default_factory=list)
    quality: dict[str, Any] = Field(default_factory=dict)
    width_px: int = Field(ge=1)
    height_px: int = Field(ge=1)
    fps: float = Field(gt=0)
    n_frames: int = Field(ge=0)
    source_clip_token: str | None = None
    created_at: datetime = Field(default_factory=utcnow)

    @field_validator("token")
    @classmethod
    def _token(cls, v: str) -> str:
        return check_token(v, "token")

    @field_validator("source_clip_token")
    @classmethod
    def _source(cls, v: str | None) -> str | None:
        return None if v is None else check_token(v, "source_clip_token")

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        return _check_tags(v, "tags")

    @field_validator("params")
    @classmethod
    def _params(cls, v: dict[str, float]) -> dict[str, float]:
        for name, value in v.items():
            if not PARAM_NAME_RE.match(name):
                raise SpecError("params", name, "parameter names are identifiers")
            if not math.isfinite(value):
                raise SpecError(f"params.{name}", value, "must be a finite number")
        return dict(sorted(v.items()))

    @field_validator("created_at")
    @classmethod
    def _created(cls, v: datetime) -> datetime:
        return _as_utc(v)

    def file(self, kind: str) -> FileRef:
        """The file of the given kind (raises ``KeyError`` naming the kinds there are)."""
        for ref in self.files:
            if ref.kind == kind:
                return ref
        raise KeyError(f"clip {self.token} has no file of kind {kind!r}; has {self.file_kinds()}")

    def file_kinds(self) -> list[str]:
        return [ref.kind for ref in self.files]

    def validate(self) -> None:  # type: ignore[override]
        """Re-check invariants (construction already enforces them)."""
        type(self).model_validate(self.model_dump())


ParamOp = Literal[">", ">=", "<", "<=", "=", "!="]
_WHERE_RE = re.compile(
    r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>>=|<=|!=|==|=|>|<)\s*"
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)


class ParamRange(BaseModel):
    """A condition on one sampled parameter, e.g. ``ego_speed_kmh > 60``.

    A clip without that parameter never matches (also not for ``!=``)."""

    model_config = _FROZEN

    name: str
    op: ParamOp
    value: float

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not PARAM_NAME_RE.match(v):
            raise SpecError("where", v, "parameter names are identifiers like ego_speed_kmh")
        return v

    @field_validator("value")
    @classmethod
    def _value(cls, v: float) -> float:
        if not math.isfinite(v):
            raise SpecError("where", v, "the value must be a finite number")
        return v

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.value:g}"


def parse_where(text: str) -> ParamRange:
    """Parse ``"ego_speed_kmh>60"`` (ops ``> >= < <= = == !=``) into a :class:`ParamRange`.

    Raises ``SpecError(field="where", value=text)`` on anything else."""
    if not isinstance(text, str):
        raise SpecError("where", text, "expected a string like 'ego_speed_kmh>60'")
    m = _WHERE_RE.match(text)
    if m is None:
        raise SpecError(
            "where",
            text,
            "expected NAME OP NUMBER with OP one of > >= < <= = != (e.g. speed_kmh>60)",
        )
    op = "=" if m["op"] == "==" else m["op"]
    value = float(m["value"])
    if not math.isfinite(value):
        raise SpecError("where", text, "the value must be a finite number")
    return ParamRange(name=m["name"], op=op, value=value)  # type: ignore[arg-type]


class ClipQuery(BaseModel):
    """A catalog query. All given conditions must hold (tags: ALL of them).

    ``where`` accepts :class:`ParamRange` objects or strings such as ``"ego_speed_kmh>60"``.
    Results are ordered newest first (insertion order) unless ``newest_first=False``.
    ``with_total=True`` asks for an exact total even when counting is not cheap."""

    model_config = _FROZEN

    class_id: int | None = Field(default=None, ge=0)
    tags: list[str] = Field(default_factory=list)
    where: list[ParamRange] = Field(default_factory=list)
    backend: str | None = None
    limit: int = Field(default=50, ge=1, le=10_000)
    offset: int = Field(default=0, ge=0)
    newest_first: bool = True
    with_total: bool = False

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        return _check_tags(v, "tags")

    @field_validator("where", mode="before")
    @classmethod
    def _where(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list | tuple):
            return [parse_where(x) if isinstance(x, str) else x for x in v]
        return v


class ClipPage(BaseModel):
    """One page of a query: ``total`` is exact or None (not cheap and not requested);
    ``next_offset`` is None on the last page."""

    model_config = _FROZEN

    items: list[ClipRecord]
    total: int | None
    next_offset: int | None


class CoverageStats(BaseModel):
    """How the catalog covers the taxonomy (classes ``0..n_classes-1``)."""

    model_config = _FROZEN

    n_clips: int
    n_classes: int
    clips_per_class: dict[int, int]
    clips_per_tag: dict[str, int]
    clips_per_backend: dict[str, int]
    classes_without_clips: list[int]

    @property
    def n_classes_covered(self) -> int:
        return self.n_classes - len(self.classes_without_clips)


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({JobState.succeeded, JobState.failed, JobState.cancelled})


class JobRecord(BaseModel):
    """A job as stored in the catalog (the source of truth for job state).

    ``attempts`` counts claims; a running job whose lease (``lease_expires_at``) passed is
    claimed again until ``max_attempts`` claims were made, then it is failed."""

    model_config = _FROZEN

    token: str
    kind: str
    state: JobState
    payload: dict[str, Any]
    idempotency_key: str | None
    progress: float = Field(ge=0.0, le=1.0)
    message: str | None
    error: str | None
    clip_tokens: list[str]
    attempts: int
    max_attempts: int
    worker_id: str | None
    heartbeat_at: datetime | None
    lease_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
