"""Clip file storage: atomic, once-only publish; local directory and a remote fsspec store
(``memory://``, the same code path as ``s3://``)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
import uuid
from pathlib import Path

import pytest

from scenario_library.errors import StorageError
from scenario_library.storage import COMPLETE, Storage

TOKEN = "ab" + "0" * 30


def _write_clip(d: Path, payload: bytes = b"video-bytes") -> None:
    (d / "video.mp4").write_bytes(payload)
    (d / "controls").mkdir()
    (d / "controls" / "depth.mp4").write_bytes(b"depth")
    (d / "labels.openlabel.json").write_text('{"openlabel": {}}')


def test_publish_is_atomic_and_described(tmp_path: Path) -> None:
    st = Storage(tmp_path / "lib")
    assert not st.exists(TOKEN)
    with st.staging() as d:
        _write_clip(d)
        assert not st.exists(TOKEN)  # nothing visible while staging
        refs = st.publish(TOKEN, d)
    assert st.exists(TOKEN)
    assert {r.kind for r in refs} == {"video", "controls/depth", "labels"}
    video = next(r for r in refs if r.kind == "video")
    assert video.sha256 == hashlib.sha256(b"video-bytes").hexdigest()
    assert video.size_bytes == len(b"video-bytes")
    assert video.uri == st.uri(TOKEN, "video.mp4")
    path = st.local_path(video.uri)
    assert path == tmp_path / "lib" / "clips" / "ab" / TOKEN / "video.mp4"
    assert path.read_bytes() == b"video-bytes"
    with st.open_read(video.uri) as f:
        assert f.read() == b"video-bytes"
    assert st.refs(TOKEN) == refs
    # Staging leftovers are gone.
    assert list((tmp_path / "lib" / ".staging").iterdir()) == []


def test_abandoned_staging_never_becomes_visible(tmp_path: Path) -> None:
    st = Storage(tmp_path / "lib")
    with pytest.raises(RuntimeError), st.staging() as d:
        _write_clip(d)
        raise RuntimeError("worker crashed before publish")
    assert not st.exists(TOKEN)
    assert list((tmp_path / "lib" / "clips").rglob("*.mp4")) == []
    # A hard crash leaves a staging dir behind: still invisible, and swept later.
    crashed = tmp_path / "lib" / ".staging" / "stage-crashed"
    crashed.mkdir()
    (crashed / "video.mp4").write_bytes(b"half")
    os.utime(crashed, (0, 0))
    assert not st.exists(TOKEN)
    assert st.cleanup_staging(older_than_s=60) == 1 and not crashed.exists()


def test_publish_twice_keeps_one_copy(tmp_path: Path) -> None:
    st = Storage(tmp_path / "lib")
    with st.staging() as d:
        _write_clip(d, b"first")
        first = st.publish(TOKEN, d)
    with st.staging() as d:
        _write_clip(d, b"second attempt")
        second = st.publish(TOKEN, d)
        assert not d.exists()  # discarded
    assert second == first
    clip_dirs = list((tmp_path / "lib" / "clips").glob("*/*"))
    assert clip_dirs == [st.clip_dir(TOKEN)]
    assert (st.clip_dir(TOKEN) / "video.mp4").read_bytes() == b"first"


def test_concurrent_publishers_one_winner(tmp_path: Path) -> None:
    st = Storage(tmp_path / "lib")
    barrier = threading.Barrier(4)
    results: list[list[object]] = []

    def publisher(i: int) -> None:
        with st.staging() as d:
            _write_clip(d, b"same content")
            barrier.wait()
            results.append(list(st.publish(TOKEN, d)))

    threads = [threading.Thread(target=publisher, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r == results[0] for r in results)
    assert len(list((tmp_path / "lib" / "clips").glob("*/*"))) == 1
    assert list((tmp_path / "lib" / ".staging").iterdir()) == []


def test_publish_from_a_foreign_directory_and_bad_input(tmp_path: Path) -> None:
    st = Storage(tmp_path / "lib")
    own = tmp_path / "elsewhere"
    own.mkdir()
    _write_clip(own)
    refs = st.publish(TOKEN, own, kinds={"labels.openlabel.json": "openlabel"})
    assert "openlabel" in {r.kind for r in refs} and st.exists(TOKEN)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(StorageError, match="no file"):
        st.publish("cd" + "0" * 30, empty)
    with pytest.raises(ValueError, match="token"):
        st.uri("nope", "video.mp4")
    with pytest.raises(StorageError):
        st.uri(TOKEN, "../escape")
    with pytest.raises(StorageError, match="not under the storage root"):
        st.local_path((tmp_path / "secret.txt").as_uri())
    with pytest.raises(StorageError, match="no such file"):
        st.local_path(st.uri(TOKEN, "missing.mp4"))


def test_remote_store_marker_and_cache(tmp_path: Path) -> None:
    root = f"memory://wmgen-test-{uuid.uuid4().hex}/lib"
    st = Storage(root, cache_dir=tmp_path / "cache")
    fs = st._fs
    # A half upload (no _COMPLETE marker) is not a clip.
    half = f"{st._base}/clips/ab/{TOKEN}/video.mp4"
    fs.pipe_file(half, b"partial")
    assert not st.exists(TOKEN)
    with st.staging() as d:
        _write_clip(d)
        refs = st.publish(TOKEN, d)
    assert st.exists(TOKEN) and fs.exists(f"{st._base}/clips/ab/{TOKEN}/{COMPLETE}")
    video = next(r for r in refs if r.kind == "video")
    assert video.uri == f"{root}/clips/ab/{TOKEN}/video.mp4"
    assert fs.cat_file(half) == b"video-bytes"  # the complete upload replaced the half one
    with st.open_read(video.uri) as f:
        assert f.read() == b"video-bytes"
    # Downloads go to the cache (a fresh Storage has an empty cache).
    other = Storage(root, cache_dir=tmp_path / "cache2")
    local = other.local_path(video.uri)
    assert local.is_relative_to(tmp_path / "cache2") and local.read_bytes() == b"video-bytes"
    assert other.refs(TOKEN) == refs
    with other.staging() as d:
        _write_clip(d, b"retry")
        assert other.publish(TOKEN, d) == refs  # exists: nothing re-uploaded
    assert fs.cat_file(half) == b"video-bytes"


@pytest.mark.skipif(importlib.util.find_spec("s3fs") is not None, reason="s3fs is installed")
def test_s3_without_s3fs_is_a_clear_error() -> None:
    with pytest.raises(StorageError, match="s3fs"):
        Storage("s3://bucket/prefix")


def test_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMGEN_STORAGE", str(tmp_path / "from-env"))
    assert Storage.from_env(tmp_path / "default").root == str(tmp_path / "from-env")
    monkeypatch.delenv("WMGEN_STORAGE")
    assert Storage.from_env(tmp_path / "default").root == str(tmp_path / "default")
