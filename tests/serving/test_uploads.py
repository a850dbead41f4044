"""Uploads go through the Storage abstraction (no Ray): limits, types, names, sharing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from scenario_library.storage import Storage
from serving.errors import InvalidFieldError, PayloadTooLargeError, UnsupportedMediaError
from serving.uploads import store_upload


class Part:
    """An UploadFile-like async reader over bytes."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    async def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.pos + size
        out, self.pos = self.data[self.pos : end], min(end, len(self.data))
        return out


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from generator.io.video import write_video

    path = tmp_path_factory.mktemp("v") / "clip.mp4"
    rng = np.random.default_rng(0)
    write_video(path, rng.integers(0, 255, (6, 48, 64, 3), dtype=np.uint8), 10.0)
    return path.read_bytes()


def _store(storage: Storage, video: bytes, labels: bytes | None = None, limit: int = 1 << 20):
    return asyncio.run(
        store_upload(
            storage,
            Part(video),
            None if labels is None else Part(labels),
            max_video_bytes=limit,
            max_labels_bytes=4096,
        )
    )


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_upload_is_stored_and_readable_from_another_node(tmp_path: Path, video: bytes) -> None:
    root = tmp_path / "uploads"
    storage = Storage(str(root))
    labels = json.dumps({"openlabel": {"metadata": {"schema_version": "1.0.0"}}}).encode()
    src, lab = _store(storage, video, labels)
    assert src.startswith("file://") and lab is not None
    # another process / node opens the same store by its URL and reads the same bytes
    other = Storage(str(root))
    assert other.local_path(src).read_bytes() == video
    assert other.local_path(src).name == "source.mp4"
    assert json.loads(other.local_path(lab).read_text()) == json.loads(labels)
    assert all(p.resolve().is_relative_to(root.resolve()) for p in _files(root))
    # the same upload again: the same content address, stored once
    n_files = len(_files(root))
    assert _store(storage, video, labels) == (src, lab)
    assert len(_files(root)) == n_files
    src2, lab2 = _store(storage, video)
    assert src2 != src and lab2 is None


def test_rejected_uploads_leave_nothing(tmp_path: Path, video: bytes) -> None:
    root = tmp_path / "uploads"
    storage = Storage(str(root))
    with pytest.raises(UnsupportedMediaError) as e415:
        _store(storage, b"hello, this is not a video" * 10)
    assert e415.value.field == "file"
    with pytest.raises(InvalidFieldError) as e422:
        _store(storage, video[:64])
    assert e422.value.field == "file"
    with pytest.raises(PayloadTooLargeError):
        _store(storage, video[:32] + b"\0" * 4096, limit=2048)
    with pytest.raises(UnsupportedMediaError) as bad_json:
        _store(storage, video, b"not json")
    assert bad_json.value.field == "labels"
    with pytest.raises(InvalidFieldError) as broken_json:
        _store(storage, video, b'{"open": ')
    assert broken_json.value.field == "labels"
    with pytest.raises(PayloadTooLargeError):
        _store(storage, video, b"[" + b" " * 8192 + b"]")
    assert _files(root) == [], "no part of a rejected upload is kept"
