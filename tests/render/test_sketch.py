"""The sketch backend: non-blank, weather/light visibly different, deterministic, aligned."""

from __future__ import annotations

import numpy as np
import pytest

from generator.backends.base import BackendRequest, VideoBackend
from generator.backends.registry import BACKENDS
from generator.backends.sketch import SketchBackend
from generator.render.controls import render_controls
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
    road = c.semantic[0] == SEMANTIC_CLASSES["road"]
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
