"""The rollout kernel's streaming-store copy (``kernels._stream_copy``) writes exactly the slice
it is given: the [W, A, T] outputs are filled world by world through it."""

from __future__ import annotations

import numpy as np

from generator.world.kernels import _stream_copy


def test_stream_copy_writes_exactly_its_slice() -> None:
    src = np.arange(1, 41, dtype=np.float32)
    dst = np.full(100, -1.0, np.float32)
    _stream_copy(src, dst, 30)
    assert np.array_equal(dst[30:70], src)
    assert (dst[:30] == -1.0).all() and (dst[70:] == -1.0).all()


def test_stream_copy_python_source_matches() -> None:
    """``bench/rollout.py`` runs the kernels' Python source as its baseline: same result."""
    src = np.arange(5, dtype=np.float32)
    dst = np.zeros(8, np.float32)
    _stream_copy.py_func(src, dst, 2)
    assert dst.tolist() == [0, 0, 0, 1, 2, 3, 4, 0]
