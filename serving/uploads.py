"""Uploaded clips: size-limited streaming to disk, container sniffing, decode probe.

Upload names never reach the file system: every upload is stored as
``<upload_root>/<random hex>.<ext>`` where ``ext`` comes from the sniffed container type, so
no client-chosen name can escape the upload root.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Protocol

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
