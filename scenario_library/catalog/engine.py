"""Database engines for the catalog: SQLite (file, WAL) or PostgreSQL (psycopg 3), by URL.

SQLite: WAL journal, ``synchronous=NORMAL``, foreign keys on, 30 s busy timeout; the driver's
own transaction handling is switched off and we emit ``BEGIN`` ourselves, ``BEGIN IMMEDIATE``
for write transactions (connection execution option ``wmgen_write=True``), so a writer takes
the write lock up front and never fails half-way with "database is locked" on upgrade.
PostgreSQL: ``postgresql://`` is mapped to the psycopg 3 driver; connections are pre-pinged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from scenario_library.errors import SpecError

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str | URL) -> URL:
    """Parse a catalog URL; ``postgresql://`` gets the psycopg 3 driver."""
    try:
        u = make_url(url)
    except Exception as exc:
        raise SpecError("catalog_url", str(url), f"not a database URL ({exc})") from exc
    backend = u.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise SpecError("catalog_url", u.render_as_string(), "only sqlite and postgresql")
    if backend == "postgresql" and u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    return u


def sqlite_url(path: str | Path) -> str:
    """``sqlite:///`` URL of a database file."""
    return f"sqlite:///{Path(path).expanduser().resolve()}"


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine configured for the catalog (see module docstring)."""
    u = normalize_url(url)
    if u.get_backend_name() == "postgresql":
        return create_engine(u, pool_pre_ping=True, **kwargs)
    memory = u.database in (None, "", ":memory:")
    if memory:
        kwargs.setdefault("poolclass", StaticPool)
    else:
        Path(str(u.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        u,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache per connection
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("wmgen_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
