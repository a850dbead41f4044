"""RGB -> yuv420p conversion used by the writer: agrees with FFmpeg's scaler, colours survive."""

from __future__ import annotations

import av
import numpy as np
import pytest

from generator.io.video import probe_video, read_video, write_video
from generator.io.yuv import DepthFrames, PaletteFrames, RgbFrames, planes_of, rgb_to_yuv420p

#: Cosmos-style flat control colours plus black, white and greys
_PALETTE = np.array(
    [[0, 0, 0], [255, 255, 255], [128, 128, 128], [255, 0, 0], [0, 255, 0], [0, 0, 255],
     [128, 64, 128], [244, 35, 232], [70, 70, 70], [220, 20, 60], [0, 0, 142], [250, 170, 30]],
    dtype=np.uint8,
)  # fmt: skip


def _blocky_frame(rng: np.random.Generator, h: int, w: int, block: int = 16) -> np.ndarray:
    """Flat-colour blocks (like semantic / instance maps) with every palette colour."""
    ids = rng.integers(0, len(_PALETTE), size=(h // block, w // block))
    return _PALETTE[np.kron(ids, np.ones((block, block), dtype=np.int64))]


def _ffmpeg_yuv(frame: np.ndarray) -> np.ndarray:
    return av.VideoFrame.from_ndarray(frame, format="rgb24").reformat(format="yuv420p").to_ndarray()


def test_luma_matches_ffmpeg_within_one_code_value():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, size=(64, 96, 3), dtype=np.uint8)
    ours, ref = rgb_to_yuv420p(frame), _ffmpeg_yuv(frame)
    assert ours.shape == ref.shape == (96, 96)
    assert np.abs(ours[:64].astype(int) - ref[:64]).max() <= 1


def test_chroma_of_flat_blocks_matches_ffmpeg():
    rng = np.random.default_rng(1)
    frame = _blocky_frame(rng, 64, 128)
    ours, ref = rgb_to_yuv420p(frame), _ffmpeg_yuv(frame)
    h, w = 64, 128
    u_ours = ours[h:].reshape(-1)[: h * w // 4].reshape(h // 2, w // 2)
    u_ref = ref[h:].reshape(-1)[: h * w // 4].reshape(h // 2, w // 2)
    # inside a flat block (away from edges, where chroma filters may differ) they agree
    inner = np.zeros((h // 2, w // 2), bool)
    for by in range(h // 16):
        for bx in range(w // 16):
            inner[by * 8 + 2 : by * 8 + 6, bx * 8 + 2 : bx * 8 + 6] = True
    assert np.abs(u_ours[inner].astype(int) - u_ref[inner]).max() <= 1


def test_known_colours_bt601_limited_range():
    frame = np.zeros((2, 6, 3), np.uint8)
    frame[:, 0:2] = (0, 0, 0)
    frame[:, 2:4] = (255, 255, 255)
    frame[:, 4:6] = (255, 0, 0)
    out = rgb_to_yuv420p(frame)
    y, u, v = out[:2].reshape(-1), out[2:].reshape(-1)[:3], out[2:].reshape(-1)[3:]
    assert list(y[[0, 2, 4]]) == [16, 235, 82]  # BT.601 limited: black 16, white 235, red 82
    assert list(u) == [128, 128, 90] and list(v) == [128, 128, 240]


def test_flat_colours_survive_encode_and_decode(tmp_path):
    rng = np.random.default_rng(2)
    frames = np.stack([_blocky_frame(rng, 64, 128) for _ in range(4)])
    path = write_video(tmp_path / "c.mp4", frames, 10.0, crf=12)
    decoded, _ = read_video(path)
    assert probe_video(path).pix_fmt == "yuv420p"
    # block interiors come back as the colour they went in as (a few code values of loss)
    inner = np.zeros((64, 128), bool)
    for by in range(4):
        for bx in range(8):
            inner[by * 16 + 4 : by * 16 + 12, bx * 16 + 4 : bx * 16 + 12] = True
    err = np.abs(decoded.astype(int) - frames.astype(int))[:, inner]
    assert np.percentile(err, 99) <= 6, np.percentile(err, 99)


@pytest.mark.parametrize(
    ("shape", "dtype", "match"),
    [((5, 8, 3), np.uint8, "even"), ((4, 8, 3), np.float32, "uint8"), ((4, 8), np.uint8, "uint8")],
)
def test_bad_frames_rejected(shape, dtype, match):
    with pytest.raises(ValueError, match=match):
        rgb_to_yuv420p(np.zeros(shape, dtype))


def _yuv(source, i: int) -> np.ndarray:
    out = np.empty((source.height * 3 // 2, source.width), np.uint8)
    source.fill_planes(i, *planes_of(out))
    return out


def test_palette_source_is_byte_identical_to_converting_the_colours():
    rng = np.random.default_rng(3)
    palette = rng.integers(0, 256, size=(300, 3), dtype=np.uint8)
    ids = rng.integers(0, 300, size=(2, 34, 50), dtype=np.uint16)
    ids[:, :10] = 7  # flat area too
    src = PaletteFrames(ids, palette)
    for i in range(2):
        assert np.array_equal(_yuv(src, i), rgb_to_yuv420p(palette[ids[i]]))


def test_depth_source_matches_the_reference_depth_video():
    rng = np.random.default_rng(4)
    depth = rng.uniform(-5.0, 120.0, size=(2, 20, 30)).astype(np.float32)
    depth[0, 0, :4] = [np.inf, np.nan, -np.inf, 74.99]
    # reference mapping (ControlMaps.depth_video): clip to 0..75 m, linear to 0..255 grey
    d = np.nan_to_num(depth, nan=75.0, posinf=75.0)
    grey = (np.clip(d, 0.0, 75.0) * (255.0 / 75.0)).astype(np.uint8)
    src = DepthFrames(depth)
    for i in range(2):
        rgb = np.repeat(grey[i][..., None], 3, axis=-1)
        assert np.array_equal(_yuv(src, i), rgb_to_yuv420p(rgb))


def test_sources_pad_odd_sizes_and_encode(tmp_path):
    rng = np.random.default_rng(5)
    ids = rng.integers(0, len(_PALETTE), size=(3, 33, 47), dtype=np.uint8)
    src = PaletteFrames(ids, _PALETTE)
    assert (src.height, src.width) == (34, 48)
    info = probe_video(write_video(tmp_path / "s.mp4", src, 10.0))
    assert (info.n_frames, info.width, info.height) == (3, 48, 34)
    rgb = RgbFrames(rng.integers(0, 256, size=(2, 8, 8, 3), dtype=np.uint8))
    assert probe_video(write_video(tmp_path / "r.mp4", rgb, 10.0)).n_frames == 2


def test_palette_source_rejects_ids_beyond_the_palette():
    with pytest.raises(ValueError, match="palette has 12 colours"):
        PaletteFrames(np.full((1, 4, 4), 12, np.uint8), _PALETTE)
