"""Opening the catalog and the storage by URL, the same way on every node.

Defaults follow the pipeline's embedded ones: ``$WMGEN_HOME`` (or ``./var``) holds
``catalog.sqlite`` and ``storage/``; ``WMGEN_CATALOG_URL`` / ``WMGEN_STORAGE`` override them.
Paths are resolved to absolute ones on the driver so that Ray workers (whose working
directory differs) open the same files.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any


def default_urls(catalog_url: str | None, storage: str | None) -> tuple[str, str]:
    """(catalog URL, storage root/URL) with environment and embedded defaults applied."""
    root = Path(os.environ.get("WMGEN_HOME", "var")).expanduser().resolve()
    catalog_url = (
        catalog_url or os.environ.get("WMGEN_CATALOG_URL") or f"sqlite:///{root / 'catalog.sqlite'}"
    )
    storage = storage or os.environ.get("WMGEN_STORAGE") or str(root / "storage")
    if "://" not in storage:
        storage = str(Path(storage).expanduser().resolve())
    return catalog_url, storage


@cache
def open_catalog(url: str) -> Any:
    """A ``Catalog`` on ``url`` with its tables created (one per process and URL)."""
    from scenario_library.catalog import Catalog

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(url)
    catalog.create_all()
    return catalog


@cache
def open_storage(url: str) -> Any:
    """A ``Storage`` on a local root or an ``s3://bucket/prefix`` URL (one per process)."""
    from scenario_library.storage import Storage

    return Storage(url)
