"""Recycled frame memory: never handed out while any view of it lives; renders unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from generator import buffers as buffer_pool
from generator.backends.base import BackendRequest
from generator.backends.sketch import SketchBackend
from generator.buffers import BufferPool
from generator.render import raster
from generator.render.controls import (
    depth_video,
    instance_video,
    render_controls,
    semantic_video,
)
from scenario_library.scene import AgentKind, Lighting, Weather

MB = 2**20


def test_slab_reused_only_after_every_view_is_gone() -> None:
    p = BufferPool(64 * MB)
    a = p.empty((100, 1000), np.float32)
    ptr = a.ctypes.data
    view = a[10:20]
    del a
    b = p.empty((100, 1000), np.float32)  # `view` still holds the first slab
    assert not np.shares_memory(b, view) and p.reused == 0
    del view
    c = p.empty((400, 1000), np.uint8)  # same byte size, other dtype: the freed slab
    assert c.ctypes.data == ptr and p.reused == 1
    assert c.shape == (400, 1000) and c.dtype == np.uint8 and c.flags.c_contiguous
    del b, c
    assert p.pooled_bytes == 2 * 400_000


def test_limit_bounds_the_pool_and_zero_disables_it() -> None:
    p = BufferPool(3 * MB)
    keep = [p.empty((MB,), np.uint8) for _ in range(5)]  # only three fit in the pool
    assert p.pooled_bytes == 3 * MB and all(k.size == MB for k in keep)
    del keep
    p.empty((2 * MB,), np.uint8)  # needs room: free 1 MB slabs are forgotten first
    assert p.pooled_bytes <= 3 * MB
    off = BufferPool(0)
    x = off.empty((10, 10), np.uint16)
    assert x.base is None and off.pooled_bytes == 0


def _clip(hand, cam, weather, lighting, x_lead):  # type: ignore[no-untyped-def]
    agents = [
        ("lead", AgentKind.CAR, (4.5, 1.8, 1.5)),
        ("ped", AgentKind.PEDESTRIAN, (0.5, 0.6, 1.8)),
    ]
    scene = hand.scene(agents, weather, lighting)
    st = hand.static([(0.0, -1.75, 0.0), (x_lead, -1.75, 0.0), (12.0, -5.0, 1.57)])
    st[0, :, 0] = np.linspace(0, 3, st.shape[1])
    road = hand.road()
    ro = hand.rollout(scene, st)
    c = render_controls(scene, road, ro, cam, seconds=0.5)
    req = BackendRequest(scene=scene, road=road, rollout=ro, controls=c, prompt="", seed=1)
    rgb = SketchBackend()(req).frames
    return {
        "hdmap": c.hdmap,
        "depth_m": c.depth_m,
        "semantic": c.semantic,
        "instance": c.instance,
        "semantic_video": semantic_video(c),
        "instance_video": instance_video(c),
        "depth_video": depth_video(c),
        "rgb": rgb,
    }


@pytest.fixture
def fresh_pool():  # type: ignore[no-untyped-def]
    p = buffer_pool.pool()
    limit = p.limit_bytes
    p.clear()
    yield p
    p.limit_bytes = limit
    p.clear()


def test_pooled_renders_equal_unpooled_and_live_clips_are_untouched(
    hand, small_camera, fresh_pool
) -> None:  # type: ignore[no-untyped-def]
    fresh_pool.limit_bytes = 0  # reference: plain np.empty everywhere
    ref_a = _clip(hand, small_camera, Weather.CLEAR, Lighting.DAY, 20.0)
    ref_b = _clip(hand, small_camera, Weather.RAIN, Lighting.NIGHT, 30.0)
    fresh_pool.limit_bytes = 64 * MB
    a = _clip(hand, small_camera, Weather.CLEAR, Lighting.DAY, 20.0)
    snapshot = {k: v.copy() for k, v in a.items()}
    b = _clip(hand, small_camera, Weather.RAIN, Lighting.NIGHT, 30.0)  # `a` is alive: no reuse
    for k in a:
        assert np.array_equal(a[k], snapshot[k]), k
        assert np.array_equal(a[k], ref_a[k]), k
        assert np.array_equal(b[k], ref_b[k]), k
        assert not np.shares_memory(a[k], b[k]), k
    reused = fresh_pool.reused
    del a, b, snapshot
    c = _clip(hand, small_camera, Weather.RAIN, Lighting.NIGHT, 30.0)  # now memory comes back
    assert fresh_pool.reused > reused
    for k in c:
        assert np.array_equal(c[k], ref_b[k]), k


def _fill_reference(h: int, w: int, us: np.ndarray, vs: np.ndarray) -> np.ndarray:
    """Even-odd scanline fill at pixel centres, written plainly (sorted crossings)."""
    img = np.zeros((h, w, 3), np.uint8)
    n = len(us)
    for i in range(h):
        y = i + 0.5
        xs = []
        for q in range(n):
            ya, yb = vs[q], vs[(q + 1) % n]
            if (ya <= y < yb) or (yb <= y < ya):
                xs.append(us[q] + (y - ya) / (yb - ya) * (us[(q + 1) % n] - us[q]))
        xs.sort()
        for p in range(0, len(xs) - 1, 2):
            j0 = max(int(np.ceil(xs[p] - 0.5)), 0)
            j1 = min(int(np.ceil(xs[p + 1] - 0.5)) - 1, w - 1)
            if j1 >= j0:
                img[i, j0 : j1 + 1] = (9, 8, 7)
    return img


def test_polygon_fill_matches_a_plain_scanline_fill() -> None:
    rng = np.random.default_rng(3)
    col = np.array([9, 8, 7], np.uint8)
    for n in (3, 4, 5, 7):
        for _ in range(20):
            us = rng.uniform(-10, 50, n)
            vs = rng.uniform(-10, 40, n)
            img = np.zeros((32, 40, 3), np.uint8)
            raster.fill_convex_rows(img, us, vs, n, col)
            assert np.array_equal(img, _fill_reference(32, 40, us, vs))


def test_pool_size_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from generator.errors import RenderError

    monkeypatch.setenv("WMGEN_RENDER_POOL_MB", "1.5")
    assert buffer_pool._env_limit_bytes() == int(1.5 * MB)
    for bad in ("lots", "-1"):
        monkeypatch.setenv("WMGEN_RENDER_POOL_MB", bad)
        with pytest.raises(RenderError, match="WMGEN_RENDER_POOL_MB"):
            buffer_pool._env_limit_bytes()
