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
