"""Catalog fixtures: every ``catalog`` test runs on SQLite (file) and on a real PostgreSQL
server (throwaway cluster from tests/pgserver.py; skipped only if no server binaries)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pgserver import PgServer, find_pg_bin, start_pg_server

from scenario_library.catalog import Catalog


class FakeClock:
    """A settable UTC clock (lease expiry without sleeping)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    if find_pg_bin() is None:
        pytest.skip("PostgreSQL server binaries not installed (scripts/install-system-deps.sh)")
    server = start_pg_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_catalog(catalog_url: str) -> Iterator[Callable[..., Catalog]]:
    """Open (more) Catalog objects on the same database, closed at teardown."""
    opened: list[Catalog] = []

    def _make(**kwargs: object) -> Catalog:
        cat = Catalog(catalog_url, **kwargs)  # type: ignore[arg-type]
        opened.append(cat)
        return cat

    yield _make
    for cat in opened:
        cat.close()


@pytest.fixture
def catalog(make_catalog: Callable[..., Catalog], clock: FakeClock) -> Catalog:
    return make_catalog(clock=clock)
