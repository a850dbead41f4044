"""Run a per-frame numba kernel over frame ranges, on ``numba.get_num_threads()`` threads.

Kernels here are ``@njit(nogil=True)`` and take ``(t0, t1, *args)``: they loop frames t0..t1-1
serially, so with one thread nothing but the calling thread works (no OpenMP spin, which made
``prange`` kernels several times slower on one thread), and several threads simply split the
frames. Also safe to use after ``fork``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba

_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        n = int(getattr(numba.config, "NUMBA_NUM_THREADS", 1))
        _POOL = ThreadPoolExecutor(max_workers=max(n, 1), thread_name_prefix="wmgen-render")
    return _POOL


def run_frames(kernel: Callable[..., Any], n_frames: int, *args: Any) -> None:
    """Call ``kernel(t0, t1, *args)`` over [0, n_frames) split across the numba thread count."""
    threads = min(numba.get_num_threads(), n_frames)
    if threads <= 1:
        kernel(0, n_frames, *args)
        return
    bounds = [n_frames * k // threads for k in range(threads + 1)]
    futures = [_pool().submit(kernel, bounds[k], bounds[k + 1], *args) for k in range(threads)]
    for f in futures:
        f.result()
