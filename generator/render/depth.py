"""The depth video's grey scale (Cosmos-Transfer convention: 0..75 m -> 0..255 grey).

One definition, used by the renderer's colour videos (``palette.depth_grey``) and by the
writer, which turns depth maps straight into YUV (``generator.io.yuv``); the reference
is ``ControlMaps.depth_video``. Kept in its own small module so the writer does not import
the colour tables.
"""

from __future__ import annotations

import numba as nb
import numpy as np

#: depth that maps to white [m]; farther, inf and nan are white too
DEPTH_VIDEO_FAR_M = 75.0


@nb.njit(cache=True, inline="always")
def grey_of_depth(d):  # type: ignore[no-untyped-def]
    """Depth [m] -> grey level: clip to 0..75 m (inf and nan count as 75 m), linear 0..255,
    float32 maths (the same bytes as ``ControlMaps.depth_video``)."""
    if not d < DEPTH_VIDEO_FAR_M:  # inf, nan, >= 75
        d = DEPTH_VIDEO_FAR_M
    elif d < 0.0:
        d = 0.0
    return np.uint8(np.float32(d) * np.float32(255.0 / DEPTH_VIDEO_FAR_M))
