"""Clip file storage: a local directory or any fsspec URL (``s3://bucket/prefix``).

Layout under the root: ``clips/<token[:2]>/<token>/<name>`` plus two reserved files per clip,
``_manifest.json`` (kind, name, sha256, size of every file) and, on remote stores,
``_COMPLETE`` (written last).

Publishing is all-or-nothing and happens once per token:

- Local: files are written into a staging directory on the same filesystem
  (``<root>/.staging/``), hashed and fsync'ed, the manifest is added, and the directory is
  renamed into place in one ``rename``. An abandoned staging directory is never visible
  under ``clips/``. If the token directory exists already (a retry, or a concurrent
  publisher won), the staging copy is discarded and the existing refs are returned.
- Remote: files are uploaded, then the manifest, then the ``_COMPLETE`` marker; ``exists``
  checks the marker, so a half upload is invisible (and overwritten by the next publish,
  with identical content since tokens are content addresses).

File kinds: by default a file's kind is its relative name up to the first dot of the file
name (``video.mp4`` -> ``video``, ``labels.openlabel.json`` -> ``labels``,
``controls/depth.mp4`` -> ``controls/depth``); pass ``kinds`` to ``publish`` to choose them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import unquote, urlparse

from scenario_library.catalog.records import FileRef, check_token
from scenario_library.errors import StorageError

ENV_STORAGE = "WMGEN_STORAGE"
ENV_S3_ENDPOINT = "WMGEN_S3_ENDPOINT_URL"
MANIFEST = "_manifest.json"
COMPLETE = "_COMPLETE"
RESERVED = frozenset({MANIFEST, COMPLETE})
_CHUNK = 1 << 20


def default_kind(name: str) -> str:
    """The part before the first dot of the file name, keeping folders: ``video.mp4`` ->
    ``video``, ``labels.openlabel.json`` -> ``labels``, ``controls/depth.mp4`` ->
    ``controls/depth``."""
    p = PurePosixPath(name)
    stem = p.name.split(".")[0] or p.name
    return stem if str(p.parent) == "." else f"{p.parent}/{stem}"


def sha256_file(path: Path, *, fsync: bool = False) -> tuple[str, int]:
    """(hex digest, size [bytes]) of a file; optionally fsync it on the way."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
        if fsync:
            os.fsync(f.fileno())
    return h.hexdigest(), size


def _is_remote(root: str) -> bool:
    scheme = urlparse(root).scheme
    return bool(scheme) and scheme != "file" and len(scheme) > 1  # "C:" is not a scheme


class Storage:
    """Content-addressed clip files under ``root`` (a local path or an fsspec URL).

    ``cache_dir``: where remote files are downloaded by ``local_path`` and where remote
    staging directories live (default: a ``wmgen-cache`` folder in the temp dir).
    ``storage_options``: passed to fsspec (e.g. credentials); for ``s3://`` the endpoint is
    taken from ``WMGEN_S3_ENDPOINT_URL`` when set (MinIO).
    """

    def __init__(
        self,
        root: str | Path,
        *,
        cache_dir: str | Path | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        root_s = str(root)
        self.remote = _is_remote(root_s)
        self._fs: Any = None
        if self.remote:
            self.root = root_s.rstrip("/")
            self._fs, self._base = self._open_fs(self.root, dict(storage_options or {}))
            default_cache = Path(tempfile.gettempdir()) / "wmgen-cache"
            self.cache_dir = Path(cache_dir) if cache_dir else default_cache
        else:
            if root_s.startswith("file://"):
                root_s = unquote(urlparse(root_s).path)
            self.root = str(Path(root_s).expanduser().resolve())
            self._base = self.root
            self.cache_dir = Path(cache_dir) if cache_dir else Path(self.root) / ".cache"
            (Path(self.root) / "clips").mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_env(cls, default_root: str | Path, **kwargs: Any) -> Storage:
        """``WMGEN_STORAGE`` (local path or ``s3://bucket/prefix``) or ``default_root``."""
        return cls(os.environ.get(ENV_STORAGE) or default_root, **kwargs)

    @staticmethod
    def _open_fs(root: str, options: dict[str, Any]) -> tuple[Any, str]:
        try:
            import fsspec
        except ImportError as exc:  # pragma: no cover - fsspec is a core dependency
            raise StorageError(f"storage {root!r} needs fsspec: pip install fsspec") from exc
        scheme = urlparse(root).scheme
        if scheme in ("s3", "s3a"):
            endpoint = os.environ.get(ENV_S3_ENDPOINT)
            if endpoint:
                options.setdefault("client_kwargs", {}).setdefault("endpoint_url", endpoint)
        try:
            fs, base = fsspec.core.url_to_fs(root, **options)
        except ImportError as exc:
            raise StorageError(
                f"WMGEN_STORAGE={root!r}: the {scheme}:// filesystem is not installed "
                f"({exc}); for s3:// run: pip install 'wmgen[s3]' (s3fs)"
            ) from exc
        return fs, str(base).rstrip("/")

    def __repr__(self) -> str:
        return f"Storage({self.root!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Storage, (self.root,), None)

    # ------------------------------------------------------------------------ addresses

    def _rel(self, token: str, name: str = "") -> str:
        check_token(token)
        rel = f"clips/{token[:2]}/{token}"
        return f"{rel}/{name}" if name else rel

    def uri(self, token: str, name: str) -> str:
        """URI of file ``name`` of clip ``token`` (``file://...`` or ``s3://...``)."""
        _check_name(name)
        if self.remote:
            return f"{self.root}/{self._rel(token, name)}"
        return (Path(self.root) / self._rel(token, name)).as_uri()

    def clip_dir(self, token: str) -> Path:
        """Local directory of a published clip (local storage only)."""
        if self.remote:
            raise StorageError(f"{self!r} is remote: use local_path(uri) for files")
        return Path(self.root) / self._rel(token)

    # --------------------------------------------------------------------------- staging

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh local directory for a clip's files, removed on exit unless published.
        Local storage: on the same filesystem as the root (so publish is one rename)."""
        base = (Path(self.root) if not self.remote else self.cache_dir) / ".staging"
        base.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix="stage-", dir=base))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def cleanup_staging(self, older_than_s: float = 3600.0) -> int:
        """Remove staging directories abandoned by crashed writers; returns how many."""
        base = (Path(self.root) if not self.remote else self.cache_dir) / ".staging"
        n = 0
        if base.is_dir():
            cutoff = time.time() - older_than_s
            for d in base.iterdir():
                if d.stat().st_mtime < cutoff:
                    shutil.rmtree(d, ignore_errors=True)
                    n += 1
        return n

    # --------------------------------------------------------------------------- publish

    def _scan(self, staging_dir: Path, kinds: Mapping[str, str] | None) -> list[dict[str, Any]]:
        if not staging_dir.is_dir():
            raise StorageError(f"staging_dir={str(staging_dir)!r} is not a directory")
        entries = []
        seen: dict[str, str] = {}
        for p in sorted(staging_dir.rglob("*")):
            if p.is_symlink() or not p.is_file():
                if p.is_symlink():
                    raise StorageError(f"staging file {str(p)!r} is a symlink (not allowed)")
                continue
            name = p.relative_to(staging_dir).as_posix()
            if name in RESERVED:
                raise StorageError(f"staging file name {name!r} is reserved")
            kind = (kinds or {}).get(name) or default_kind(name)
            if kind in seen:
                raise StorageError(
                    f"files {seen[kind]!r} and {name!r} have the same kind {kind!r}; pass kinds="
                )
            seen[kind] = name
            digest, size = sha256_file(p, fsync=not self.remote)
            entries.append({"kind": kind, "name": name, "sha256": digest, "size_bytes": size})
        if not entries:
            raise StorageError(f"staging_dir={str(staging_dir)!r} holds no file to publish")
        return entries

    def _refs(self, token: str, entries: list[dict[str, Any]]) -> list[FileRef]:
        return [
            FileRef(
                kind=e["kind"],
                uri=self.uri(token, e["name"]),
                sha256=e["sha256"],
                size_bytes=e["size_bytes"],
            )
            for e in entries
        ]

    def publish(
        self, token: str, staging_dir: Path, kinds: Mapping[str, str] | None = None
    ) -> list[FileRef]:
        """Make the files of ``staging_dir`` the clip ``token``'s files, atomically and once.
        Returns their refs; if the clip already exists, ``staging_dir`` is discarded and the
        existing refs are returned (a retry never duplicates)."""
        check_token(token)
        staging_dir = Path(staging_dir)
        if self.exists(token):
            shutil.rmtree(staging_dir, ignore_errors=True)
            return self.refs(token)
        entries = self._scan(staging_dir, kinds)
        manifest = json.dumps({"token": token, "files": entries}, indent=1).encode()
        if self.remote:
            return self._publish_remote(token, staging_dir, entries, manifest)
        return self._publish_local(token, staging_dir, entries, manifest)

    def _publish_local(
        self, token: str, staging_dir: Path, entries: list[dict[str, Any]], manifest: bytes
    ) -> list[FileRef]:
        final = Path(self.root) / self._rel(token)
        same_fs = staging_dir.resolve().parent == (Path(self.root) / ".staging").resolve()
        if not same_fs:  # caller's own directory: copy next to the root first
            src, staging_dir = (
                staging_dir,
                Path(self.root) / ".staging" / f"copy-{uuid.uuid4().hex}",
            )
            shutil.copytree(src, staging_dir)
        with open(staging_dir / MANIFEST, "wb") as f:
            f.write(manifest)
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(staging_dir)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(staging_dir, final)
        except OSError:
            if not (final / MANIFEST).is_file():
                raise
            shutil.rmtree(staging_dir, ignore_errors=True)  # a concurrent publisher won
            return self.refs(token)
        _fsync_dir(final.parent)
        return self._refs(token, entries)

    def _publish_remote(
        self, token: str, staging_dir: Path, entries: list[dict[str, Any]], manifest: bytes
    ) -> list[FileRef]:
        base = f"{self._base}/{self._rel(token)}"
        try:
            for e in entries:
                self._fs.put_file(str(staging_dir / e["name"]), f"{base}/{e['name']}")
            self._fs.pipe_file(f"{base}/{MANIFEST}", manifest)
            self._fs.pipe_file(f"{base}/{COMPLETE}", b"")
        except Exception as exc:
            raise StorageError(f"upload of clip {token} to {self.root!r} failed: {exc}") from exc
        # Keep the files as the local cache copy (no download on the next local_path).
        cache = self.cache_dir / self._rel(token)
        if not cache.exists():
            cache.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):
                shutil.move(str(staging_dir), str(cache))
        shutil.rmtree(staging_dir, ignore_errors=True)
        return self._refs(token, entries)

    # ------------------------------------------------------------------------------ read

    def exists(self, token: str) -> bool:
        """True when clip ``token`` was published completely."""
        if self.remote:
            return bool(self._fs.exists(f"{self._base}/{self._rel(token, COMPLETE)}"))
        return (Path(self.root) / self._rel(token, MANIFEST)).is_file()

    def refs(self, token: str) -> list[FileRef]:
        """The refs of a published clip (from its manifest)."""
        if not self.exists(token):
            raise StorageError(f"clip {token} is not published in {self!r}")
        if self.remote:
            raw = self._fs.cat_file(f"{self._base}/{self._rel(token, MANIFEST)}")
        else:
            raw = (Path(self.root) / self._rel(token, MANIFEST)).read_bytes()
        return self._refs(token, json.loads(raw)["files"])

    def _rel_of_uri(self, uri: str) -> str:
        if self.remote:
            prefix = self.root + "/"
            if not uri.startswith(prefix):
                raise StorageError(f"uri={uri!r} is not under the storage root {self.root!r}")
            rel = uri[len(prefix) :]
        else:
            path = Path(unquote(urlparse(uri).path) if uri.startswith("file://") else uri)
            try:
                rel = path.resolve().relative_to(self.root).as_posix()
            except ValueError as exc:
                raise StorageError(f"uri={uri!r} is not under the storage root") from exc
        parts = PurePosixPath(rel).parts
        if len(parts) < 4 or parts[0] != "clips" or ".." in parts:
            raise StorageError(f"uri={uri!r} is not a clip file of {self!r}")
        return rel

    def local_path(self, uri: str) -> Path:
        """A local file for ``uri`` (remote files are downloaded once into the cache)."""
        rel = self._rel_of_uri(uri)
        if not self.remote:
            path = Path(self.root) / rel
            if not path.is_file():
                raise StorageError(f"uri={uri!r}: no such file")
            return path
        path = self.cache_dir / rel
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
            try:
                self._fs.get_file(f"{self._base}/{rel}", str(tmp))
                os.replace(tmp, path)
            except FileNotFoundError as exc:
                raise StorageError(f"uri={uri!r}: no such file") from exc
            finally:
                tmp.unlink(missing_ok=True)
        return path

    def open_read(self, uri: str) -> IO[bytes]:
        """Open a stored file for binary reading (stream; no full download)."""
        rel = self._rel_of_uri(uri)
        try:
            if self.remote:
                return self._fs.open(f"{self._base}/{rel}", "rb")  # type: ignore[no-any-return]
            return open(Path(self.root) / rel, "rb")
        except FileNotFoundError as exc:
            raise StorageError(f"uri={uri!r}: no such file") from exc


def _check_name(name: str) -> None:
    p = PurePosixPath(name)
    if not name or p.is_absolute() or ".." in p.parts or name in RESERVED:
        raise StorageError(f"name={name!r} is not a valid clip file name")


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
