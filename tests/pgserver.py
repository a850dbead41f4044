"""A throwaway PostgreSQL server for tests (Debian ``postgresql`` binaries).

``start_pg_server()`` runs ``initdb`` in a temp directory and starts ``postgres`` on a free
loopback port (and a Unix socket in that directory), with durability off for speed, trust
auth and a superuser ``wmgen``. As root, the server runs as the ``postgres`` system user
(``runuser``), since PostgreSQL refuses to run as root. ``PgServer.stop()`` stops it and
removes the directory. Reusable by any test area::

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # tests/
    from pgserver import find_pg_bin, start_pg_server

Manual use: ``python tests/pgserver.py`` prints the URL and keeps the server until Ctrl-C
(``scripts/pg-test-server.sh`` wraps this).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

PG_USER = "wmgen"


def find_pg_bin() -> Path | None:
    """Directory holding ``initdb``/``pg_ctl`` (newest Debian version first), or None."""
    env = os.environ.get("WMGEN_PG_BIN")
    if env and (Path(env) / "pg_ctl").is_file():
        return Path(env)
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(cand) / "initdb").is_file() and (Path(cand) / "pg_ctl").is_file():
            return Path(cand)
    which = shutil.which("pg_ctl")
    if which and (Path(which).parent / "initdb").is_file():
        return Path(which).parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "postgres", "--"]
    return ["su", "postgres", "-s", "/bin/sh", "-c"]  # pragma: no cover


def _run(prefix: list[str], args: list[str], timeout: float = 120.0) -> None:
    if prefix and prefix[0] == "su":  # pragma: no cover - su needs one command string
        cmd = [*prefix, " ".join(_quote(a) for a in args)]
    else:
        cmd = [*prefix, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({proc.returncode}): {proc.stderr or proc.stdout}")


def _quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


@dataclass
class PgServer:
    """A running throwaway server; ``url`` points at database ``postgres``."""

    bin_dir: Path
    base_dir: Path
    port: int
    prefix: list[str] = field(default_factory=list)
    stopped: bool = False

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """Create a fresh database; returns its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=PG_USER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        with contextlib.suppress(Exception):
            _run(
                self.prefix,
                [
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                timeout=60,
            )
        shutil.rmtree(self.base_dir, ignore_errors=True)


def start_pg_server(base_dir: Path | None = None) -> PgServer:
    """initdb + start a server on a free loopback port. Raises RuntimeError if it fails
    (FileNotFoundError when no PostgreSQL binaries are installed)."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb, pg_ctl) found")
    base = Path(base_dir or tempfile.mkdtemp(prefix="wmgen-pg-"))
    base.mkdir(parents=True, exist_ok=True)
    prefix = _as_user_prefix()
    if prefix:
        shutil.chown(base, user="postgres", group="postgres")
        os.chmod(base, 0o700)
    server = PgServer(bin_dir=bin_dir, base_dir=base, port=0, prefix=prefix)
    try:
        _run(
            prefix,
            [
                str(bin_dir / "initdb"),
                "-D",
                str(server.data_dir),
                "-U",
                PG_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )
        last_err: Exception | None = None
        for _ in range(3):  # a free port can be taken between probe and bind: retry
            server.port = _free_port()
            opts = (
                f"-p {server.port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                "-c shared_buffers=64MB"
            )
            try:
                _run(
                    prefix,
                    [
                        str(bin_dir / "pg_ctl"),
                        "-D",
                        str(server.data_dir),
                        "-o",
                        opts,
                        "-l",
                        str(base / "server.log"),
                        "-w",
                        "-t",
                        "60",
                        "start",
                    ],
                )
                return server
            except RuntimeError as exc:
                last_err = exc
                time.sleep(0.2)
        log = (base / "server.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"postgres did not start: {last_err}\n{log}")
    except BaseException:
        server.stop()
        raise


if __name__ == "__main__":
    srv = start_pg_server()
    print(srv.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
