"""Uploaded clips: size-limited streaming, container sniffing, decode probe, shared storage.

Uploads are kept in a ``scenario_library.storage.Storage`` (a local folder or
``s3://bucket/prefix`` through fsspec), so the worker that runs an augment job reads the
upload on whatever node it runs (``Storage.local_path(uri)``). :func:`store_upload` streams
the request's parts into a staging folder of that storage, checks them, and publishes them
under the upload's content address as ``source.<ext>`` (+ ``labels.json``).

Upload names never reach the file system: parts are written under random hex names and then
renamed to fixed names, ``ext`` coming from the sniffed container type, so no client-chosen
name can escape the upload root.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from pathlib import Path
from typing import Any, Protocol

from serving.errors import InvalidFieldError, PayloadTooLargeError, UnsupportedMediaError

CHUNK_BYTES = 1 << 20


class AsyncReadable(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


def sniff_container(head: bytes) -> str | None:
    """File extension of a video container recognised from its first bytes, else None."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "mov" if head[8:10] == b"qt" else "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "mkv"  # Matroska / WebM
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    return None


async def save_upload(
    src: AsyncReadable, root: Path, *, field: str, max_bytes: int, kind: str = "video"
) -> Path:
    """Stream ``src`` to a fresh file under ``root``; 413 past ``max_bytes``; 415 for bytes
    that are not a video container (``kind="video"``) or not JSON (``kind="json"``)."""
    root.mkdir(parents=True, exist_ok=True)
    head = await src.read(CHUNK_BYTES)
    if not head:
        raise InvalidFieldError(field, "<empty>", "the uploaded file is empty")
    if kind == "video":
        ext = sniff_container(head)
        if ext is None:
            raise UnsupportedMediaError(
                f"{field}: not a video container (expected mp4/mov/mkv/webm/avi bytes)",
                field=field,
            )
    else:
        ext = "json"
        if head.lstrip()[:1] not in (b"{", b"["):
            raise UnsupportedMediaError(f"{field}: not a JSON document", field=field)
    path = (root / f"{secrets.token_hex(16)}.{ext}").resolve()
    if path.parent != root.resolve():  # cannot happen with a hex name; kept as a guard
        raise InvalidFieldError(field, str(path), "upload path escapes the upload root")
    size = 0
    try:
        with path.open("wb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLargeError(
                        f"{field}: upload exceeds the limit of {max_bytes} bytes", field=field
                    )
                out.write(chunk)
                chunk = await src.read(CHUNK_BYTES)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def probe_video(path: Path, field: str) -> tuple[int, int]:
    """Decode the first frame; returns (width, height). Undecodable bytes -> 422."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InvalidFieldError(field, path.name, "the container has no video stream")
            for frame in container.decode(video=0):
                return int(frame.width), int(frame.height)
    except InvalidFieldError:
        raise
    except Exception as exc:  # PyAV raises many error types for broken input
        raise InvalidFieldError(field, path.name, f"not a decodable video ({exc})") from None
    raise InvalidFieldError(field, path.name, "the video has no frames")


def _upload_token(paths: list[Path]) -> str:
    """Content address of an upload (32 hex) over its parts' bytes."""
    from scenario_library.storage import sha256_file

    h = hashlib.sha256()
    for p in paths:
        h.update(f"{p.name}:{sha256_file(p)[0]};".encode())
    return h.hexdigest()[:32]


def _check_json(path: Path, field: str) -> None:
    try:
        json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidFieldError(field, "<upload>", f"invalid JSON ({exc})") from None


async def store_upload(
    storage: Any,
    video: AsyncReadable,
    labels: AsyncReadable | None,
    *,
    max_video_bytes: int,
    max_labels_bytes: int,
) -> tuple[str, str | None]:
    """Check an uploaded video (+ optional OpenLABEL JSON) and store it in ``storage``.

    Returns the ``(video uri, labels uri | None)`` any node opens with
    ``storage.local_path(uri)``. 413 past the limits, 415 for bytes that are not a video
    container / JSON, 422 for a container that does not decode or JSON that does not parse.
    Nothing is kept of a rejected upload."""
    with storage.staging() as stage:
        stage = Path(stage)
        src = await save_upload(video, stage, field="file", max_bytes=max_video_bytes)
        await asyncio.to_thread(probe_video, src, "file")
        parts = [src.rename(stage / f"source{src.suffix}")]
        if labels is not None:
            lab = await save_upload(
                labels, stage, field="labels", max_bytes=max_labels_bytes, kind="json"
            )
            await asyncio.to_thread(_check_json, lab, "labels")
            parts.append(lab.rename(stage / "labels.json"))
        token = await asyncio.to_thread(_upload_token, parts)
        refs = await asyncio.to_thread(storage.publish, token, stage)
    uris = {r.kind: r.uri for r in refs}
    return uris["source"], uris.get("labels")
