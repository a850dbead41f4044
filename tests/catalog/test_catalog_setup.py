"""Opening a catalog: URLs, environment, pickling (Ray workers), bad URLs."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from scenario_library.catalog import Catalog
from scenario_library.catalog.engine import normalize_url
from scenario_library.errors import SpecError


def test_from_env_defaults_to_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WMGEN_CATALOG_URL", raising=False)
    cat = Catalog.from_env(tmp_path / "sub" / "catalog.sqlite")
    try:
        assert cat.dialect == "sqlite" and (tmp_path / "sub" / "catalog.sqlite").is_file()
        with cat.session() as s:
            assert s.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert s.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert s.connection().exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        cat.close()
    other = tmp_path / "env.sqlite"
    monkeypatch.setenv("WMGEN_CATALOG_URL", f"sqlite:///{other}")
    cat = Catalog.from_env(tmp_path / "ignored.sqlite")
    cat.close()
    assert other.is_file() and not (tmp_path / "ignored.sqlite").exists()


def test_postgres_url_gets_psycopg3_and_bad_urls_are_rejected() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    for bad in ["mysql://u@h/db", "not a url"]:
        with pytest.raises(SpecError) as info:
            normalize_url(bad)
        assert info.value.field == "catalog_url"


def test_pickled_catalog_reopens_the_same_database(catalog: Catalog) -> None:
    job, _ = catalog.create_job("generate", {"seed": 3})
    clone = pickle.loads(pickle.dumps(catalog))
    try:
        assert clone.get_job(job.token).payload == {"seed": 3}
    finally:
        clone.close()
    with pytest.raises(SpecError):
        catalog.list_jobs(state="bogus")
