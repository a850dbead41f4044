"""The sketch backend: non-blank, weather/light visibly different, deterministic, aligned."""

from __future__ import annotations

import numpy as np
import pytest

from generator.backends.base import BackendRequest, VideoBackend
from generator.backends.registry import BACKENDS
from generator.backends.sketch import SketchBackend
from generator.render import effects as fx_look
from generator.render.controls import render_controls
from generator.render.effects import make_look
from generator.render.shade import (
    FOG_LUT_SPAN,
    HEAD_RANGE_M,
    HEAD_TAN_MAX,
    POOL_RADIUS_M,
    POOL_SIGMA2_M2,
    light_tables,
    pool_map,
)
from generator.render.types import SEMANTIC_CLASSES, CameraConfig
from scenario_library.scene import AgentKind, Lighting, Weather

CAM = CameraConfig(width_px=160, height_px=96)
AGENTS = [("lead", AgentKind.CAR, (4.5, 1.8, 1.5)), ("ped", AgentKind.PEDESTRIAN, (0.5, 0.6, 1.75))]
POSES = [(0.0, -1.75, 0.0), (15.0, -1.75, 0.0), (10.0, -5.0, 1.57)]


def _frames(hand, weather=Weather.CLEAR, lighting=Lighting.DAY, seed=0, fresh_controls=False):  # type: ignore[no-untyped-def]
    scene = hand.scene(AGENTS, weather, lighting)
    st = hand.static(POSES)
    st[0, :, 0] = np.linspace(0, 2, st.shape[1])
    road = hand.road()
    ro = hand.rollout(scene, st)
    controls = render_controls(scene, road, ro, CAM, seconds=0.3)
    if fresh_controls:  # not made by render_controls in this process: the backend re-rasterises
        controls = type(controls)(
            **{k: getattr(controls, k) for k in controls.__dataclass_fields__}
        )
    req = BackendRequest(
        scene=scene, road=road, rollout=ro, controls=controls, prompt="", seed=seed
    )
    out = SketchBackend()(req)
    out.validate(controls.n_frames, CAM.height_px, CAM.width_px)
    return out.frames, controls


def test_registry_and_provenance() -> None:
    be = BACKENDS.load("sketch")
    assert isinstance(be, VideoBackend) and be.name == "sketch"
    prov = be.provenance()
    assert prov["backend"] == "sketch" and prov["weights_sha256"] == "none"
    assert prov["version"] and len(prov["renderer_sha256"]) == 64


def test_frames_not_blank_and_show_the_scene(hand) -> None:  # type: ignore[no-untyped-def]
    f, c = _frames(hand)
    assert f.shape == (3, 96, 160, 3) and f.dtype == np.uint8
    assert f.std() > 20
    sky = c.semantic[0] == SEMANTIC_CLASSES["sky"]
    car = c.instance[0] == 1
    road = c.semantic[0] == SEMANTIC_CLASSES["road"]
    img = f[0].astype(float)
    # blue-ish sky on top, grey road, and the car differs from the road around it
    assert img[sky][:, 2].mean() > img[sky][:, 0].mean()
    assert abs(img[road].mean(axis=0) - img[car].mean(axis=0)).sum() > 20


def test_deterministic_with_seed(hand) -> None:  # type: ignore[no-untyped-def]
    a, _ = _frames(hand, Weather.RAIN, seed=5)
    b, _ = _frames(hand, Weather.RAIN, seed=5)
    c, _ = _frames(hand, Weather.RAIN, seed=6)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_rerasterised_path_matches_cached(hand) -> None:  # type: ignore[no-untyped-def]
    a, _ = _frames(hand, Weather.SNOW, Lighting.NIGHT, seed=2)
    b, _ = _frames(hand, Weather.SNOW, Lighting.NIGHT, seed=2, fresh_controls=True)
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    ("weather", "lighting"),
    [
        (Weather.RAIN, Lighting.DAY),
        (Weather.FOG, Lighting.DAY),
        (Weather.SNOW, Lighting.DAY),
        (Weather.CLEAR, Lighting.NIGHT),
        (Weather.CLEAR, Lighting.DUSK),
        (Weather.CLEAR, Lighting.LOW_SUN),
    ],
)
def test_weather_and_light_change_the_frames(hand, weather, lighting) -> None:  # type: ignore[no-untyped-def]
    base, _ = _frames(hand)
    f, _ = _frames(hand, weather, lighting)
    assert np.abs(f.astype(int) - base.astype(int)).mean() > 8


def test_light_and_weather_read_as_such(hand) -> None:  # type: ignore[no-untyped-def]
    day, c = _frames(hand)
    night, _ = _frames(hand, lighting=Lighting.NIGHT)
    fog, _ = _frames(hand, Weather.FOG)
    snow, _ = _frames(hand, Weather.SNOW)
    assert night.mean() < 0.45 * day.mean()
    # ego headlights: at night the road just ahead is brighter than the far road
    # (the hand road has no street lamps: this is the ego's beam alone, so compare road pixels
    # in the beam's columns, the middle third of the image)
    road = c.semantic[0] == SEMANTIC_CLASSES["road"]
    road[:, : CAM.width_px // 3] = False
    road[:, 2 * CAM.width_px // 3 :] = False
    d = c.depth_m[0]
    lit = road & (d > 6) & (d < 18)
    far = road & (d > 28) & (d < 90)
    assert lit.sum() > 50 and far.sum() > 5
    assert night[0][lit].mean() > 1.25 * night[0][far].mean()
    # fog washes out what is far (exp(-d / visibility)); snow whitens the ground (grass)
    mid = (d > 40) & (d < 300)
    assert mid.sum() > 20
    assert fog[0][mid].std() < 0.5 * day[0][mid].std()
    grass = c.semantic[0] == SEMANTIC_CLASSES["vegetation"]
    assert snow[0][grass].mean() > day[0][grass].mean() + 60


def test_pool_map_matches_the_lamp_formula() -> None:
    lamps = np.array([[0.0, 0.0, 7.0], [30.0, 4.0, 7.0], [35.0, -3.0, 7.0]])
    meta, pool = pool_map(lamps)
    x0, y0, inv, nx, ny = meta
    assert pool.shape == (int(ny), int(nx))
    rng = np.random.default_rng(0)
    for px, py in rng.uniform([-25, -25], [60, 30], size=(200, 2)):
        gi, gj = (py - y0) * inv, (px - x0) * inv
        if not (0 <= gi < ny and 0 <= gj < nx):  # off the map: no lamp is in range
            r2 = (lamps[:, 0] - px) ** 2 + (lamps[:, 1] - py) ** 2
            assert (r2 >= POOL_RADIUS_M**2).all()
            continue
        i, j = int(gi), int(gj)
        # the cell centre's exact value: 0.9 exp(-r^2 / sigma^2) summed over lamps within range
        cx, cy = x0 + (j + 0.5) / inv, y0 + (i + 0.5) / inv
        r2 = (lamps[:, 0] - cx) ** 2 + (lamps[:, 1] - cy) ** 2
        want = (0.9 * np.exp(-r2 / POOL_SIGMA2_M2) * (r2 < POOL_RADIUS_M**2)).sum()
        assert abs(pool[i, j] - want) < 1e-5
    empty_meta, empty = pool_map(np.zeros((0, 3)))
    assert empty_meta[3] == 0 and empty.sum() == 0  # no lamps: the kernel never reads the map


def test_light_tables_match_the_exact_terms() -> None:
    lk = make_look(Weather.FOG, Lighting.DAY, 3)
    vis = lk[fx_look.FOG_VIS_M]
    lut = light_tables(lk)
    n = lut.shape[1] - 1
    tn = np.linspace(-HEAD_TAN_MAX, HEAD_TAN_MAX, 999)
    got = lut[0, np.rint((tn + HEAD_TAN_MAX) * n / (2 * HEAD_TAN_MAX)).astype(int)]
    assert np.abs(got - np.exp(-((np.arctan(tn) / 0.3) ** 2))).max() < 2e-3
    d = np.linspace(0, 400, 999)
    got = lut[1, np.minimum(np.rint(d * n / (FOG_LUT_SPAN * vis)).astype(int), n)]
    assert np.abs(got - np.exp(-d / vis)).max() < 2e-3
    ex = np.linspace(0.5, 300, 999)
    got = lut[2, np.rint(ex * n / HEAD_RANGE_M).astype(int)]
    assert np.abs(got - np.minimum(1, ex / 5) / (1 + (ex / 28) ** 2)).max() < 2e-2


def test_low_res_sun_bloom_matches_the_full_res_formula() -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 200, size=(176, 640, 3), dtype=np.uint8)  # bloom every 4 columns
    u, v, strength = 480.3, 40.7, 1.0
    got = img.copy()
    fx_look.sun_glare(got, u, v, strength)
    # reference: the per-pixel formula at full resolution, then the same lens ghosts
    scale = 640 / 1280.0
    ii, jj = np.mgrid[0:176, 0:640] + 0.5
    dist = np.hypot(ii - v, jj - u) / scale
    wash = 0.28 * strength
    k = wash + strength * (0.9 * np.exp(-dist / 60.0) + 0.35 * np.exp(-dist / 260.0))
    col = np.array([255.0, 240.0, 200.0])
    ref = np.minimum(255.0, img * (1 - wash) + col * k[..., None]).astype(np.uint8)
    for q in range(4):
        f = 0.5 + 0.45 * q
        gu, gv = u + (320 - u) * 2 * f, v + (88 - v) * 2 * f
        fx_look.add_glow(ref, gu, gv, (12 + 10 * q) * scale, 120.0, 200.0, 160.0, 0.18)
    diff = np.abs(got.astype(int) - ref.astype(int))
    assert diff.max() <= 3 and diff.mean() < 0.5
