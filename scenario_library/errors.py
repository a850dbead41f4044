"""Exception tree of ``scenario_library``.

::

    ScenarioLibraryError                 base of everything raised on purpose here
    ├── SpecError (also ValueError)      a spec or parameter is invalid; names field + value
    │   └── UnknownClassError            class id / name / tag does not exist
    ├── ExportError                      OpenSCENARIO / OpenDRIVE export failed
    ├── CatalogError                     catalog (database) problems
    │   ├── CatalogNotFoundError         a clip / job token is not in the catalog
    │   └── CatalogConflictError         a write conflicts with an existing row
    └── StorageError                     clip file storage (local directory or s3://) problems
"""

from __future__ import annotations

from typing import Any


class ScenarioLibraryError(Exception):
    """Base class of all deliberate errors of ``scenario_library``."""


class SpecError(ScenarioLibraryError, ValueError):
    """An invalid spec: the message names the field and the offending value."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={value!r}: {reason}")


class UnknownClassError(SpecError):
    """A class id, class name or tag that the taxonomy does not contain."""


class ExportError(ScenarioLibraryError):
    """Export to an interchange format failed."""


class CatalogError(ScenarioLibraryError):
    """The catalog could not complete an operation."""


class CatalogNotFoundError(CatalogError, KeyError):
    """A token that is not in the catalog."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "not found"


class CatalogConflictError(CatalogError):
    """A write that conflicts with an existing row."""


class StorageError(ScenarioLibraryError):
    """Clip file storage failed or is misconfigured (e.g. s3:// without s3fs installed)."""
