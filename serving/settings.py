"""Typed arguments of the Ray Serve application (``build_app(args: AppArgs)``).

Everything a replica needs travels in :class:`AppArgs` (no hidden globals), so the same
application runs on one laptop or on a multi-node cluster: paths are made absolute when the
args are built, and the catalog / storage are addressed by URL (``WMGEN_CATALOG_URL``,
``WMGEN_STORAGE``).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator


def default_data_dir() -> str:
    """``$WMGEN_HOME`` or ``./var`` (the pipeline's embedded default), as an absolute path."""
    return str(Path(os.environ.get("WMGEN_HOME", "var")).expanduser().resolve())


class AppArgs(BaseModel):
    """Arguments of :func:`serving.app.build_app` (also the ``args:`` block of serve.yaml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: folder for the default SQLite catalog, local clip storage and uploads
    data_dir: str = Field(default_factory=default_data_dir)
    #: SQLAlchemy URL; None -> $WMGEN_CATALOG_URL or sqlite:///<data_dir>/catalog.sqlite (as the CLI)
    catalog_url: str | None = Field(default_factory=lambda: os.environ.get("WMGEN_CATALOG_URL"))
    #: local path or s3://bucket/prefix; None -> $WMGEN_STORAGE or <data_dir>/storage
    storage: str | None = Field(default_factory=lambda: os.environ.get("WMGEN_STORAGE"))
    #: neural weights folder; None -> $WMGEN_MODEL_DIR (neural backends need it)
    model_dir: str | None = Field(default_factory=lambda: os.environ.get("WMGEN_MODEL_DIR"))
    #: backends the video workers load (model loaded once per replica, kept warm)
    backends: tuple[str, ...] = Field(
        default_factory=lambda: tuple(
            b.strip() for b in os.environ.get("WMGEN_BACKENDS", "sketch").split(",") if b.strip()
        )
    )
    #: bearer token for write endpoints; None -> $WMGEN_API_TOKEN; "" disables auth
    api_token: str | None = Field(default_factory=lambda: os.environ.get("WMGEN_API_TOKEN"))
    #: where uploaded clips are stored: a local path or s3://bucket/prefix, read by every node
    #: through ``scenario_library.storage.Storage``; None -> <storage>/uploads
    upload_dir: str | None = None

    # --- limits -------------------------------------------------------------------------
    max_body_bytes: int = Field(default=1 << 20, ge=1024)  # JSON bodies [bytes]
    max_upload_bytes: int = Field(default=64 << 20, ge=1024)  # uploaded clips [bytes]
    max_queued_jobs: int = Field(default=2000, ge=1)  # queued jobs beyond -> 503
    max_clips_per_job: int = Field(default=64, ge=1)
    max_build_items: int = Field(default=1024 * 16, ge=1)  # classes x variants per build
    max_width_px: int = Field(default=1920, ge=64)  # clip size limits for HTTP jobs
    max_height_px: int = Field(default=1088, ge=64)
    max_seconds: float = Field(default=20.0, gt=0)
    retry_after_s: int = Field(default=2, ge=1)

    # --- job workers --------------------------------------------------------------------
    job_lease_s: float = Field(default=60.0, gt=1.0)  # a silent worker loses its job after
    heartbeat_s: float = Field(default=2.0, gt=0.05)
    poll_s: float = Field(default=0.2, gt=0.01)  # idle claim-loop sleep
    jobs_per_worker: int = Field(default=2, ge=1, le=64)  # jobs one replica runs at once

    # --- resources (fractional CPUs so that everything fits on 2 cores) -------------------
    ingress_cpus: float = Field(default=0.1, gt=0)
    catalog_cpus: float = Field(default=0.1, gt=0)
    scene_cpus: float = Field(default=0.25, gt=0)
    video_cpus: float = Field(default=0.5, gt=0)
    video_gpus: float = Field(
        default_factory=lambda: float(os.environ.get("WMGEN_VIDEO_GPUS", "0")), ge=0
    )
    video_replicas: int = Field(default=1, ge=1)
    video_max_replicas: int = Field(default=1, ge=1)

    @field_validator("backends")
    @classmethod
    def _known_backends(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        from generator.backends.registry import BACKENDS

        if not v:
            raise ValueError("at least one backend is needed")
        for name in v:
            if name not in BACKENDS.names():
                raise ValueError(f"unknown backend {name!r}; choose from {BACKENDS.names()}")
        return v

    @field_validator("data_dir", "upload_dir")
    @classmethod
    def _absolute(cls, v: str | None) -> str | None:
        if v is None or "://" in v:  # URLs (s3://...) are kept as they are
            return v
        return str(Path(v).expanduser().resolve())

    # --- derived ------------------------------------------------------------------------
    @property
    def resolved_catalog_url(self) -> str:
        if self.catalog_url:
            return self.catalog_url
        return f"sqlite:///{Path(self.data_dir) / 'catalog.sqlite'}"

    @property
    def resolved_storage(self) -> str:
        return self.storage or str(Path(self.data_dir) / "storage")

    @property
    def resolved_upload_store(self) -> str:
        """Root of the upload ``Storage``: ``upload_dir`` or ``<storage>/uploads``."""
        return self.upload_dir or f"{self.resolved_storage.rstrip('/')}/uploads"

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_token)
