"""SQLAlchemy 2 ORM tables of the catalog (SQLite and PostgreSQL).

Layout, and why (queries must stay fast at one million clips):

- ``clip``: one row per clip. Public key ``token`` (32-hex content address, UNIQUE); an integer
  surrogate ``id`` (insertion order) keeps the secondary tables and indexes small and gives a
  "newest first" order for free. Tags and params are also kept as JSON on the row so that a
  page of records loads with one lookup per clip (clip rows are immutable).
- ``tagset`` / ``tagset_tag``: every distinct sorted tag set is stored once (a clip's tags are
  almost always its class's tags, so there are about as many tag sets as classes, not
  clips) with a live clip counter ``n_clips``. A tag query ("ALL of these tags") first
  resolves the few matching tag sets on the tiny ``tagset_tag(tag, tagset_id)`` index, which
  yields the exact number of matches at once, then reads clips via ``clip(tagset_id, id)``.
  ``tagset_tag`` is the nuScenes-style "clip tag" relation, factored through tag sets.
- ``clip_param(clip_id, name, value)``: primary key ``(clip_id, name)`` so a range condition
  is a point lookup per candidate clip (no ``(name, value)`` index: the planner never drives
  from a range, and it would double the table).
- ``clip_file``: the clip's stored files (kind, uri, sha256, size).
- ``clip_stat(dimension, value, n_clips)``: live counters per class, backend and tag
  (coverage statistics and cheap exact totals without scanning a million rows).
- ``job`` / ``job_clip``: asynchronous jobs (state machine, lease, attempts) and the clips a
  job produced, in order.
- ``schema_version``: one row, the layout version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA_VERSION = 1

# BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
IdType = BigInteger().with_variant(Integer(), "sqlite")
JsonType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC in the database (same on both engines)."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class SchemaVersion(Base):
    __tablename__ = "schema_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TagSet(Base):
    __tablename__ = "tagset"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    tags_key: Mapped[str] = mapped_column(Text, unique=True)  # JSON of the sorted tags
    n_tags: Mapped[int] = mapped_column(Integer)
    n_clips: Mapped[int] = mapped_column(BigInteger, default=0)


class TagSetTag(Base):
    __tablename__ = "tagset_tag"
    __table_args__ = ({"sqlite_with_rowid": False},)

    tag: Mapped[str] = mapped_column(String(100), primary_key=True)
    tagset_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("tagset.id", ondelete="CASCADE"), primary_key=True
    )


class Clip(Base):
    __tablename__ = "clip"
    __table_args__ = (
        Index("ix_clip_class_id", "class_id", "id"),
        Index("ix_clip_backend_id", "backend", "id"),
        Index("ix_clip_tagset_id", "tagset_id", "id"),
        Index("ix_clip_source", "source_clip_token"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    class_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    class_name: Mapped[str] = mapped_column(String(200))
    tagset_id: Mapped[int] = mapped_column(IdType, ForeignKey("tagset.id"))
    tags: Mapped[list[str]] = mapped_column(JsonType)
    params: Mapped[dict[str, float]] = mapped_column(JsonType)
    seed: Mapped[int] = mapped_column(BigInteger)
    backend: Mapped[str] = mapped_column(String(100))
    width_px: Mapped[int] = mapped_column(Integer)
    height_px: Mapped[int] = mapped_column(Integer)
    fps: Mapped[float] = mapped_column(Float)
    n_frames: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JsonType)
    provenance: Mapped[dict[str, str]] = mapped_column(JsonType)
    quality: Mapped[dict[str, Any]] = mapped_column(JsonType)
    source_clip_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ClipParam(Base):
    __tablename__ = "clip_param"
    __table_args__ = ({"sqlite_with_rowid": False},)

    clip_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("clip.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class ClipFile(Base):
    __tablename__ = "clip_file"
    __table_args__ = ({"sqlite_with_rowid": False},)

    clip_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("clip.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(200))
    uri: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)


class ClipStat(Base):
    __tablename__ = "clip_stat"
    __table_args__ = ({"sqlite_with_rowid": False},)

    dimension: Mapped[str] = mapped_column(
        String(20), primary_key=True
    )  # "class" | "backend" | "tag"
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    n_clips: Mapped[int] = mapped_column(BigInteger, default=0)


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_state_created", "state", "created_at"),
        Index("ix_job_state_lease", "state", "lease_expires_at"),
        Index("ix_job_created", "created_at"),
    )

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    lease_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    worker_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class JobClip(Base):
    __tablename__ = "job_clip"
    __table_args__ = ({"sqlite_with_rowid": False},)

    job_token: Mapped[str] = mapped_column(
        String(32), ForeignKey("job.token", ondelete="CASCADE"), primary_key=True
    )
    clip_token: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
