"""H.264 clip files: decode back with the right count / fps / codec, faststart, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from generator.errors import AugmentError, ClipWriteError
from generator.io.video import probe_video, read_video, write_thumbnail, write_video


def _atoms(data: bytes) -> list[str]:
    """Top-level MP4 box types in file order."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8].decode("latin-1")
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        out.append(kind)
        if size < 8:
            break
        pos += size
    return out


def _gradient_frames(t: int, h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    frames = np.empty((t, h, w, 3), np.uint8)
    for i in range(t):
        frames[i, ..., 0] = (xx * 255 // max(1, w - 1) + 8 * i) % 256
        frames[i, ..., 1] = yy * 255 // max(1, h - 1)
        frames[i, ..., 2] = 128
    return frames


@pytest.mark.parametrize("fps", [10.0, 12.5])
def test_h264_roundtrip_count_fps_codec(tmp_path, fps):
    frames = _gradient_frames(17, 64, 96)
    path = write_video(tmp_path / "video.mp4", frames, fps)
    info = probe_video(path)
    assert (info.n_frames, info.width, info.height) == (17, 96, 64)
    assert info.fps == pytest.approx(fps)
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    decoded, got_fps = read_video(path)
    assert decoded.shape == frames.shape and got_fps == pytest.approx(fps)
    # lossy but close: mean absolute error of a smooth gradient stays small
    assert np.abs(decoded.astype(int) - frames.astype(int)).mean() < 4.0
    # no temp file left next to it
    assert [p.name for p in tmp_path.iterdir()] == ["video.mp4"]


def test_faststart_moov_before_mdat(tmp_path):
    path = write_video(tmp_path / "v.mp4", _gradient_frames(5, 32, 32), 10.0)
    atoms = _atoms(path.read_bytes())
    assert "moov" in atoms and "mdat" in atoms
    assert atoms.index("moov") < atoms.index("mdat"), atoms


def test_odd_size_padded_to_even_keeping_pixels(tmp_path):
    frames = _gradient_frames(3, 33, 45)
    decoded, _ = read_video(write_video(tmp_path / "odd.mp4", frames, 10.0))
    assert decoded.shape == (3, 34, 46, 3)
    assert np.abs(decoded[:, :33, :45].astype(int) - frames.astype(int)).mean() < 4.0


def test_bad_frames_rejected_and_nothing_written(tmp_path):
    with pytest.raises(ClipWriteError, match="uint8"):
        write_video(tmp_path / "x.mp4", np.zeros((2, 8, 8, 3), np.float32), 10.0)
    with pytest.raises(ClipWriteError, match="fps"):
        write_video(tmp_path / "x.mp4", np.zeros((2, 8, 8, 3), np.uint8), 0.0)
    assert list(tmp_path.iterdir()) == []


def test_non_video_rejected_with_clear_message(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    with pytest.raises(AugmentError, match=r"notes\.mp4"):
        read_video(text)
    with pytest.raises(AugmentError, match="does not exist"):
        read_video(tmp_path / "missing.mp4")
    # a truncated real mp4 (header cut) is rejected as well
    good = write_video(tmp_path / "good.mp4", _gradient_frames(5, 32, 32), 10.0)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(AugmentError, match=r"cut\.mp4"):
        read_video(cut)
    with pytest.raises(AugmentError, match=r"notes\.mp4"):
        probe_video(text)
    # PyAV opens still images as one-frame videos: they are rejected as images
    image = write_thumbnail(tmp_path / "still.jpg", _gradient_frames(1, 32, 32)[0])
    with pytest.raises(AugmentError, match="still image"):
        read_video(image)
    png = tmp_path / "still.png"
    Image.fromarray(_gradient_frames(1, 32, 32)[0]).save(png)
    with pytest.raises(AugmentError, match="still image"):
        read_video(png)


def test_thumbnail_is_small_jpeg(tmp_path):
    path = write_thumbnail(tmp_path / "thumbnail.jpg", _gradient_frames(1, 352, 640)[0])
    with Image.open(path) as img:
        assert img.format == "JPEG" and img.size == (480, 264)


def test_constant_qp_rate_control(tmp_path):
    frames = _gradient_frames(6, 32, 48)
    path = write_video(tmp_path / "q.mp4", frames, 10.0, qp=16, preset="ultrafast", threads=1)
    decoded, _ = read_video(path)
    assert decoded.shape == frames.shape
    assert np.abs(decoded.astype(int) - frames.astype(int)).mean() < 4.0
    with pytest.raises(ClipWriteError, match="qp must be in"):
        write_video(tmp_path / "bad.mp4", frames, 10.0, qp=60)
    assert not (tmp_path / "bad.mp4").exists()
