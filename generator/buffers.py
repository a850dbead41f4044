"""Recycled memory for the big arrays: clip frames, control maps, rollout trajectories.

A 5 s clip at 1280x704 allocates about 1 GB of frame arrays (depth, ids, HD map, three colour
videos, RGB). Fresh memory from the OS is zero-filled page by page on first touch, and that
page-fault work cost more than the rasterising itself (0.1-0.6 ms per MB, depending on whether
the kernel finds huge pages). :func:`empty` hands out views of pooled slabs instead, so a
process that renders clip after clip writes into memory it has already touched.

Safety: a slab is reused only when the pool holds the only reference to it (CPython reference
count): every array handed out is a view whose ``base`` is the slab, so as long as any array,
view or slice of it is alive anywhere, the slab stays taken. Contents are uninitialised, like
``np.empty``. The pool keeps at most ``WMGEN_RENDER_POOL_MB`` megabytes (default 2048; 0 turns
pooling off); slabs beyond that are plain allocations.
"""

from __future__ import annotations

import os
import sys
import threading

import numpy as np

from generator.errors import RenderError

DEFAULT_POOL_MB = 2048


def _env_limit_bytes() -> int:
    raw = os.environ.get("WMGEN_RENDER_POOL_MB", str(DEFAULT_POOL_MB))
    try:
        mb = float(raw)
    except ValueError:
        raise RenderError(f"WMGEN_RENDER_POOL_MB={raw!r}: must be a number of megabytes") from None
    if mb < 0:
        raise RenderError(f"WMGEN_RENDER_POOL_MB={raw!r}: must be >= 0")
    return int(mb * 2**20)


class BufferPool:
    """Slabs of bytes recycled once nothing but the pool references them."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self._slabs: list[np.ndarray] = []
        self._lock = threading.Lock()
        self.reused = 0  # statistics (tests, benchmarks)
        self.allocated = 0

    @property
    def pooled_bytes(self) -> int:
        return sum(s.nbytes for s in self._slabs)

    def _free(self, i: int) -> bool:
        # the list's reference + getrefcount's argument: nobody else holds the slab
        return sys.getrefcount(self._slabs[i]) <= 2

    def empty(self, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        """An uninitialised C-contiguous array (like ``np.empty``) backed by a pooled slab."""
        dt = np.dtype(dtype)
        n = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
        if self.limit_bytes <= 0 or n == 0 or n > self.limit_bytes:
            return np.empty(shape, dt)
        with self._lock:
            best = -1
            for i in range(len(self._slabs)):
                size = self._slabs[i].nbytes
                fits = n <= size <= 2 * n and (best < 0 or size < self._slabs[best].nbytes)
                if fits and self._free(i):
                    best = i
            if best >= 0:
                self.reused += 1
                slab = self._slabs[best]
            else:
                # make room: forget free slabs (oldest first) until the new one fits
                i = 0
                while self.pooled_bytes + n > self.limit_bytes and i < len(self._slabs):
                    if self._free(i):
                        del self._slabs[i]
                    else:
                        i += 1
                slab = np.empty(n, np.uint8)
                self.allocated += 1
                if self.pooled_bytes + n <= self.limit_bytes:
                    self._slabs.append(slab)
        # a view of the slab (its base is the slab; numpy collapses view chains)
        return slab[:n].view(dt).reshape(shape)

    def clear(self) -> None:
        """Forget every slab (arrays in use stay valid: they keep their slab alive)."""
        with self._lock:
            self._slabs.clear()


_POOL = BufferPool(_env_limit_bytes())


def pool() -> BufferPool:
    """The process-wide pool used by the renderer and the rollout."""
    return _POOL


def empty(shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """``np.empty`` from the process-wide pool (see the module docstring)."""
    return _POOL.empty(shape, dtype)
