"""The clip and job catalog (SQLAlchemy; SQLite by default, PostgreSQL by URL).

Public API: :class:`Catalog` and the read models of :mod:`.records`.
"""

from scenario_library.catalog.catalog import ENV_URL, Catalog
from scenario_library.catalog.records import (
    ClipPage,
    ClipQuery,
    ClipRecord,
    CoverageStats,
    FileRef,
    JobRecord,
    JobState,
    ParamRange,
    parse_where,
)

__all__ = [
    "ENV_URL",
    "Catalog",
    "ClipPage",
    "ClipQuery",
    "ClipRecord",
    "CoverageStats",
    "FileRef",
    "JobRecord",
    "JobState",
    "ParamRange",
    "parse_where",
]
