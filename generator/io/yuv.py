"""RGB -> YUV 4:2:0 conversion for the H.264 writer, in numba, without the GIL.

FFmpeg's software scaler (``VideoFrame.reformat``) converts one RGB frame of 1280x704 to
yuv420p in about 5 ms; it was the largest part of writing a clip's five videos. This kernel
does the same conversion in about a third of that (``bench/generate.py``) and releases the GIL, so the encoder
threads of ``generator.io.video`` overlap it with x264.

Colour conventions (what FFmpeg's scaler does by default, and what ``read_video`` and
browsers assume for an untagged stream, which the writer tags explicitly):

* ITU-R BT.601 matrix, limited ("tv") range: Y in 16..235, Cb/Cr in 16..240;
* 4:2:0 chroma computed from the mean RGB of each 2x2 block (centre-sited);
* 8-bit fixed-point arithmetic with rounding (coefficients scaled by 2^8, as FFmpeg's C
  path does), so results are within one code value of the exact formula.

The output of one frame is the three planes stacked the way PyAV's
``VideoFrame.from_ndarray(..., format="yuv420p")`` expects: an ``[H * 3 / 2, W]`` uint8 array
holding Y (``H`` rows), then U and V (``H / 4`` rows each, every row holding two chroma rows
of ``W / 2`` samples).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _convert_frame(rgb: np.ndarray, flat: np.ndarray) -> None:  # pragma: no cover - numba
    h, w = rgb.shape[0], rgb.shape[1]
    src = rgb.reshape(-1)
    n = h * w
    # 1. luma, one pass over contiguous bytes
    for i in range(n):
        r = np.int32(src[3 * i])
        g = np.int32(src[3 * i + 1])
        b = np.int32(src[3 * i + 2])
        flat[i] = np.uint8(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16)
    # 2. chroma of each 2x2 block's mean RGB (the sums are 4x the mean: /4 folded into >> 10);
    #    U starts after Y, V after U (the flat layout of yuv420p)
    hc, wc = h // 2, w // 2
    u0 = n
    v0 = n + hc * wc
    row_bytes = 3 * w
    for yc in range(hc):
        a = 2 * yc * row_bytes
        c = a + row_bytes
        k0 = yc * wc
        for xc in range(wc):
            j = 6 * xc
            rs = (
                np.int32(src[a + j])
                + np.int32(src[a + j + 3])
                + np.int32(src[c + j])
                + np.int32(src[c + j + 3])
            )
            gs = (
                np.int32(src[a + j + 1])
                + np.int32(src[a + j + 4])
                + np.int32(src[c + j + 1])
                + np.int32(src[c + j + 4])
            )
            bs = (
                np.int32(src[a + j + 2])
                + np.int32(src[a + j + 5])
                + np.int32(src[c + j + 2])
                + np.int32(src[c + j + 5])
            )
            u = ((-38 * rs - 74 * gs + 112 * bs + 512) >> 10) + 128
            v = ((112 * rs - 94 * gs - 18 * bs + 512) >> 10) + 128
            flat[u0 + k0 + xc] = np.uint8(u if 16 <= u <= 240 else (16 if u < 16 else 240))
            flat[v0 + k0 + xc] = np.uint8(v if 16 <= v <= 240 else (16 if v < 16 else 240))


def rgb_to_yuv420p(frame: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """One RGB frame ``[H, W, 3]`` uint8 (``H``, ``W`` even) -> stacked yuv420p ``[H*3/2, W]``.

    ``out`` (optional) is a C-contiguous uint8 buffer of that shape to fill and return.
    """
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"frame must be uint8 [H, W, 3], got {frame.dtype} {frame.shape}")
    h, w = int(frame.shape[0]), int(frame.shape[1])
    if h % 2 or w % 2:
        raise ValueError(f"frame height and width must be even for 4:2:0, got {h}x{w}")
    if not frame.flags.c_contiguous:
        frame = np.ascontiguousarray(frame)
    if out is None:
        out = np.empty((h * 3 // 2, w), dtype=np.uint8)
    elif out.shape != (h * 3 // 2, w) or out.dtype != np.uint8 or not out.flags.c_contiguous:
        raise ValueError(f"out must be C-contiguous uint8 {(h * 3 // 2, w)}, got {out.shape}")
    _convert_frame(frame, out.reshape(-1))
    return out


# ------------------------------------------------------------- frames made on demand as YUV
@njit(cache=True, nogil=True)
def _palette_frame(  # pragma: no cover - numba
    ids: np.ndarray, y_lut: np.ndarray, u_lut: np.ndarray, v_lut: np.ndarray, flat: np.ndarray
) -> None:
    """Ids ``[H, W]`` -> yuv420p through per-colour tables: the same bytes as
    ``_convert_frame`` of the palette's RGB image (chroma is linear in RGB, so the 2x2 sums of
    the per-colour numerators equal the numerators of the 2x2 RGB sums)."""
    h, w = ids.shape[0], ids.shape[1]
    hc, wc = h // 2, w // 2
    u0 = h * w
    v0 = u0 + hc * wc
    for yc in range(hc):
        r0 = 2 * yc
        k0 = yc * wc
        for xc in range(wc):
            c0 = 2 * xc
            a = ids[r0, c0]
            b = ids[r0, c0 + 1]
            c = ids[r0 + 1, c0]
            d = ids[r0 + 1, c0 + 1]
            flat[r0 * w + c0] = y_lut[a]
            flat[r0 * w + c0 + 1] = y_lut[b]
            flat[(r0 + 1) * w + c0] = y_lut[c]
            flat[(r0 + 1) * w + c0 + 1] = y_lut[d]
            u = ((u_lut[a] + u_lut[b] + u_lut[c] + u_lut[d] + 512) >> 10) + 128
            v = ((v_lut[a] + v_lut[b] + v_lut[c] + v_lut[d] + 512) >> 10) + 128
            flat[u0 + k0 + xc] = np.uint8(u if 16 <= u <= 240 else (16 if u < 16 else 240))
            flat[v0 + k0 + xc] = np.uint8(v if 16 <= v <= 240 else (16 if v < 16 else 240))


@njit(cache=True, nogil=True)
def _depth_grey_frame(
    depth_m: np.ndarray, far_m: float, out: np.ndarray
) -> None:  # pragma: no cover
    """Depth [m] -> grey 0..255 over 0..far_m (inf / nan / beyond -> 255), float32 maths."""
    scale = np.float32(255.0 / far_m)
    for r in range(depth_m.shape[0]):
        for c in range(depth_m.shape[1]):
            d = depth_m[r, c]
            if not d < far_m:
                d = far_m
            elif d < 0.0:
                d = 0.0
            out[r, c] = np.uint8(np.float32(d) * scale)


def _even_hw(a: np.ndarray) -> np.ndarray:
    """Pad odd H / W (axes 1, 2) by one edge-replicated row / column, like the RGB path."""
    pad_h, pad_w = a.shape[1] % 2, a.shape[2] % 2
    if not (pad_h or pad_w):
        return a
    return np.pad(a, ((0, 0), (0, pad_h), (0, pad_w)), mode="edge")


class RgbFrames:
    """RGB frames ``[T, H, W, 3]`` uint8 (H, W even), converted frame by frame."""

    def __init__(self, frames: np.ndarray) -> None:
        self.frames = frames
        self.n_frames, self.height, self.width = (int(s) for s in frames.shape[:3])

    def fill_yuv420p(self, i: int, out: np.ndarray) -> None:
        rgb_to_yuv420p(self.frames[i], out)


class PaletteFrames:
    """Integer id maps ``[T, H, W]`` shown through a colour table ``palette[K, 3]`` uint8
    (semantic and instance videos): yuv420p made straight from the ids, byte-identical to
    converting the coloured RGB frames, without making them."""

    def __init__(self, ids: np.ndarray, palette: np.ndarray) -> None:
        if ids.ndim != 3 or ids.dtype.kind not in "ui":
            raise ValueError(f"ids must be integer [T, H, W], got {ids.dtype} {ids.shape}")
        pal = np.asarray(palette)
        if pal.ndim != 2 or pal.shape[1] != 3 or pal.dtype != np.uint8:
            raise ValueError(f"palette must be uint8 [K, 3], got {pal.dtype} {pal.shape}")
        covers_dtype = ids.dtype.kind == "u" and np.iinfo(ids.dtype).max < pal.shape[0]
        if ids.size and not covers_dtype and int(ids.max()) >= pal.shape[0]:
            raise ValueError(f"ids reach {int(ids.max())}, palette has {pal.shape[0]} colours")
        self.ids = np.ascontiguousarray(_even_hw(ids))
        self.n_frames, self.height, self.width = (int(s) for s in self.ids.shape)
        r, g, b = (pal[:, k].astype(np.int32) for k in range(3))
        self.y_lut = (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16).astype(np.uint8)
        self.u_lut = (-38 * r - 74 * g + 112 * b).astype(np.int32)
        self.v_lut = (112 * r - 94 * g - 18 * b).astype(np.int32)

    def fill_yuv420p(self, i: int, out: np.ndarray) -> None:
        _palette_frame(self.ids[i], self.y_lut, self.u_lut, self.v_lut, out.reshape(-1))


#: grey palette: level g -> (g, g, g)
_GREYS = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)


class DepthFrames:
    """Depth maps ``[T, H, W]`` [m] as the grey depth video (0..far_m -> 0..255, clipped)."""

    def __init__(self, depth_m: np.ndarray, far_m: float = 75.0) -> None:
        if depth_m.ndim != 3 or depth_m.dtype.kind != "f":
            raise ValueError(
                f"depth_m must be float [T, H, W], got {depth_m.dtype} {depth_m.shape}"
            )
        self.depth_m = np.ascontiguousarray(_even_hw(depth_m))
        self.far_m = float(far_m)
        self.n_frames, self.height, self.width = (int(s) for s in self.depth_m.shape)
        self._greys = PaletteFrames(np.zeros((1, 2, 2), np.uint8), _GREYS)

    def fill_yuv420p(self, i: int, out: np.ndarray) -> None:
        grey = np.empty((self.height, self.width), np.uint8)
        _depth_grey_frame(self.depth_m[i], self.far_m, grey)
        g = self._greys
        _palette_frame(grey, g.y_lut, g.u_lut, g.v_lut, out.reshape(-1))
