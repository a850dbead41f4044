"""HTTP request and response models of the /v1 API (kept apart from catalog rows).

Requests forbid unknown fields, so a typo is a 422 naming the field rather than a silently
ignored option. Responses are built from catalog rows by the ``*_out`` helpers in
``serving.api``; catalog rows never leak to clients as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
FINAL_STATES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})

_REQ = ConfigDict(frozen=True, extra="forbid")
_OUT = ConfigDict(frozen=True, extra="forbid")


# ------------------------------------------------------------------------------ requests
class ScenarioSelector(BaseModel):
    """A class by id, or tags that the class must all carry, plus pinned parameters."""

    model_config = _REQ

    class_id: int | None = Field(default=None, ge=0, lt=1_000_000)
    tags: list[str] = Field(default_factory=list, max_length=32)
    params: dict[str, float] = Field(
        default_factory=dict, description="pinned parameters, names with units (ego_speed_kmh)"
    )

    @model_validator(mode="after")
    def _class_or_tags(self) -> ScenarioSelector:
        if self.class_id is None and not self.tags:
            raise ValueError("give class_id or at least one tag")
        return self


class ClipJobRequest(ScenarioSelector):
    """POST /v1/clips. Simplest body: ``{"class_id": 17, "seed": 0}``.

    Seeds: ``seed`` (one clip), ``seeds`` (explicit list) or ``variants`` (seeds 0..N-1).
    """

    seed: int | None = Field(default=None, ge=0, lt=2**31)
    seeds: list[int] | None = Field(default=None, min_length=1, max_length=256)
    variants: int | None = Field(default=None, ge=1, le=256)
    backend: str = Field(default="sketch", max_length=64)
    width_px: int = Field(default=1280, ge=64, le=3840, description="even")
    height_px: int = Field(default=704, ge=64, le=2160, description="even")
    fps: float = Field(default=10.0, gt=0, le=60)
    seconds: float = Field(default=5.0, gt=0, le=60)
    prompt: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _one_seed_form(self) -> ClipJobRequest:
        given = [n for n in ("seed", "seeds", "variants") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"give only one of seed, seeds, variants (got {', '.join(given)})")
        if self.seeds is not None and any(not 0 <= s < 2**31 for s in self.seeds):
            raise ValueError("seeds must be in 0..2**31-1")
        return self

    def seed_list(self) -> list[int]:
        if self.seeds is not None:
            return list(dict.fromkeys(self.seeds))
        if self.variants is not None:
            return list(range(self.variants))
        return [self.seed or 0]


class WhatIfRequest(ScenarioSelector):
    """POST /v1/rollouts/whatif: K ego plans x M sampled futures of one scene."""

    seed: int = Field(default=0, ge=0, lt=2**31)
    n_plans: int = Field(default=6, ge=1, le=16)
    n_samples: int = Field(default=36, ge=1, le=256)


class LibraryBuildRequest(BaseModel):
    """POST /v1/library/builds: classes x variants on the Ray cluster."""

    model_config = _REQ

    classes: str | list[int] = Field(
        default="all", description="'all', '1,2,5-9' or a list of class ids"
    )
    variants: int = Field(default=1, ge=1, le=64)
    backend: str = Field(default="sketch", max_length=64)
    width_px: int = Field(default=640, ge=64, le=3840)
    height_px: int = Field(default=352, ge=64, le=2160)
    fps: float = Field(default=10.0, gt=0, le=60)
    seconds: float = Field(default=5.0, gt=0, le=60)


# ----------------------------------------------------------------------------- responses
class ErrorOut(BaseModel):
    model_config = _OUT

    error: str
    field: str = ""
    detail: list[dict[str, Any]] = Field(default_factory=list)


class ParameterOut(BaseModel):
    model_config = _OUT

    name: str
    unit: str
    low: float
    high: float
    default: float
    description: str = ""


class ClassOut(BaseModel):
    model_config = _OUT

    class_id: int
    name: str
    family: str
    road_context: str
    weather: str
    lighting: str
    tags: list[str]
    parameters: list[ParameterOut] = Field(default_factory=list)
    n_clips: int | None = None


class ClassPage(BaseModel):
    model_config = _OUT

    items: list[ClassOut]
    total: int


class JobAccepted(BaseModel):
    model_config = _OUT

    job_id: str
    state: JobState
    created: bool = Field(description="False when an Idempotency-Key replayed an earlier job")
    n_clips: int = 0
    poll: str


class JobOut(BaseModel):
    model_config = _OUT

    job_id: str
    kind: str
    state: JobState
    progress: float = Field(ge=0.0, le=1.0)
    message: str | None = None
    clip_ids: list[str] = Field(default_factory=list)
    error: str | None = None
    attempts: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    result: dict[str, Any] = Field(default_factory=dict)
    lease_expires_at: datetime | None = Field(
        default=None, description="running jobs: when the holder's lease runs out"
    )
    stale: bool = Field(
        default=False,
        description="running, but its worker stopped heartbeating (lease expired): the job "
        "is re-claimable; a service worker retries it, a CLI build resumes when run again",
    )


class FileOut(BaseModel):
    model_config = _OUT

    kind: str
    url: str
    sha256: str
    size_bytes: int


class ClipOut(BaseModel):
    model_config = _OUT

    clip_id: str
    class_id: int | None = Field(description="None for an augmented real clip without labels")
    class_name: str
    tags: list[str]
    params: dict[str, float]
    seed: int
    backend: str
    width_px: int
    height_px: int
    fps: float
    n_frames: int
    created_at: datetime | None = None
    source_clip_id: str | None = None
    provenance: dict[str, str] = Field(default_factory=dict)
    quality: dict[str, Any] = Field(default_factory=dict)
    files: list[FileOut] = Field(default_factory=list)


class ClipPageOut(BaseModel):
    model_config = _OUT

    items: list[ClipOut]
    total: int | None
    next_offset: int | None


class WhatIfOut(BaseModel):
    model_config = _OUT

    class_id: int
    seed: int
    n_plans: int
    n_samples: int
    best_plan: int = Field(description="index into plans")
    best_name: str
    n_futures: int = Field(description="plans x samples rollouts run")
    plans: list[dict[str, Any]] = Field(
        description="per plan: name, collision_rate, offroad_rate, comfort_rate, "
        "mean_min_ttc_s, worst_min_ttc_s, mean_progress_m, score"
    )
    elapsed_ms: float = Field(description="scene sampling + rollouts + scoring [ms]")


class HealthOut(BaseModel):
    model_config = _OUT

    status: Literal["ok"]
    version: str
    backends: list[str]
    catalog: str
    jobs: dict[str, int]
