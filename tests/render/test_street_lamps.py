"""Street lamps are road geometry: placed per road context, drawn at the same pixels in every
control map and in the sketch RGB, and the night light pools come from those same lamps."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from generator.backends.base import BackendRequest
from generator.backends.sketch import SketchBackend
from generator.render import palette
from generator.render.camera import project_world, world_to_camera_matrix
from generator.render.controls import lamps_in_the_way, render_controls, render_state_of
from generator.render.types import SEMANTIC_CLASSES, CameraConfig
from generator.world.geometry import (
    LAMP_CLEARANCE_M,
    build_road,
    road_to_world,
    street_lamp_elements,
    street_lamp_heads,
    world_to_road0,
)
from generator.world.types import MapElement, MapElementKind, RoadGeometry
from scenario_library.scene import (
    AgentKind,
    JunctionLayout,
    Lighting,
    RoadContext,
    RoadLayout,
    Weather,
    carriageway_half_widths,
)

POLE = SEMANTIC_CLASSES["pole_sign_light"]
URBAN = RoadLayout(
    context=RoadContext.URBAN_STRAIGHT,
    length_m=300.0,
    lane_width_m=3.5,
    lanes_right=1,
    lanes_left=1,
    parking_lane_right=True,
    parking_lane_left=True,
    sidewalk_width_m=2.5,
    speed_limit_mps=14.0,
    crosswalk_s_m=(100.0,),
)


def _lamps(road: RoadGeometry) -> list[MapElement]:
    return [e for e in road.elements if e.kind is MapElementKind.STREET_LAMP]


def _without_lamps(road: RoadGeometry) -> RoadGeometry:
    keep = tuple(e for e in road.elements if e.kind is not MapElementKind.STREET_LAMP)
    return dataclasses.replace(road, elements=keep)


# ------------------------------------------------------------------------------- placement
def test_urban_lamps_stand_on_both_sidewalks_off_the_carriageway() -> None:
    road = build_road(URBAN)
    lamps = _lamps(road)
    assert lamps and [e.element_id for e in lamps] == [
        e.element_id for e in street_lamp_elements(URBAN)
    ]  # deterministic per layout
    half_r, half_l = carriageway_half_widths(URBAN)
    base = np.array([e.points_xyz[0] for e in lamps])
    s, t = world_to_road0(URBAN, base[:, 0], base[:, 1])
    right, left = t < 0, t > 0
    assert right.sum() >= 8 and left.sum() >= 8
    # on the sidewalk, clear of the kerb by more than half a post, short of its outer edge
    assert (-t[right] > half_r + 0.2).all() and (-t[right] < half_r + URBAN.sidewalk_width_m).all()
    assert (t[left] > half_l + 0.2).all() and (t[left] < half_l + URBAN.sidewalk_width_m).all()
    # staggered, evenly spaced, none near the mid-block crosswalk
    assert set(np.diff(np.sort(s[right])).round(3)) <= {30.0, 60.0}
    assert not np.isin(np.round(s[right]), np.round(s[left])).any()
    assert (np.abs(s - 100.0) > 1.5 + LAMP_CLEARANCE_M).all()
    for e in lamps:
        p = e.points_xyz
        assert p.shape == (3, 3) and p[0, 2] == 0.0 and p[1, 2] == p[2, 2] > 5.0
        assert np.allclose(p[0, :2], p[1, :2])  # a vertical post, then the arm
        _, t_end = world_to_road0(URBAN, p[2, 0], p[2, 1])
        assert abs(float(t_end)) < abs(float(world_to_road0(URBAN, p[0, 0], p[0, 1])[1]))
    heads = street_lamp_heads(road)
    assert heads.shape == (len(lamps), 3) and np.allclose(
        heads[:, :2], [e.points_xyz[-1, :2] for e in lamps]
    )


def test_lamps_by_context_and_clear_of_junctions() -> None:
    hw = RoadLayout(
        context=RoadContext.HIGHWAY,
        length_m=400.0,
        lane_width_m=3.75,
        lanes_right=3,
        lanes_left=3,
        median_width_m=3.0,
        shoulder_width_m=3.0,
        speed_limit_mps=36.0,
    )
    lamps = _lamps(build_road(hw))
    base = np.array([e.points_xyz[0] for e in lamps])
    assert len(lamps) >= 8 and np.allclose(base[:, 1], 0.0)  # in the middle of the median
    rural = hw.model_copy(update={"context": RoadContext.RURAL_CURVE, "median_width_m": 0.0})
    assert _lamps(build_road(rural)) == []  # rural roads are unlit
    junction = JunctionLayout(
        s_m=150.0,
        arm_length_m=60.0,
        lanes_per_direction=1,
        has_traffic_lights=True,
        has_crosswalks=True,
    )
    ui = URBAN.model_copy(
        update={
            "context": RoadContext.URBAN_INTERSECTION,
            "junction": junction,
            "crosswalk_s_m": (),
        }
    )
    road = build_road(ui)
    lamps = _lamps(road)
    on_road1 = [e for e in lamps if e.element_id.startswith("lamp:road1")]
    assert on_road1 and len(lamps) > len(on_road1)
    centre = road_to_world(ui, 0, np.array(150.0), np.array(0.0))
    signal_poles = np.array(
        [e.points_xyz[0, :2] for e in road.elements if e.kind is MapElementKind.POLE]
    )
    for e in lamps:
        xy = e.points_xyz[0, :2]
        assert np.abs(xy - centre).max() > 3.5 + 3.0 + LAMP_CLEARANCE_M  # box + crosswalk
        assert np.hypot(*(signal_poles - xy).T).min() > LAMP_CLEARANCE_M
    for poly in road.drivable:  # no post base inside the carriageway of either road
        lo, hi = poly.min(axis=0), poly.max(axis=0)
        for e in lamps:
            x, y = e.points_xyz[0, :2]
            inside_x, inside_y = lo[0] + 0.1 < x < hi[0] - 0.1, lo[1] + 0.1 < y < hi[1] - 0.1
            assert not (inside_x and inside_y), e.element_id


# ------------------------------------------------------------------------------ control maps
def _hand_road_with_lamp(hand, x: float = 25.0) -> RoadGeometry:  # type: ignore[no-untyped-def]
    """The hand road (sidewalk y -9..-7) without its signal pole, plus one street lamp."""
    road = hand.road(with_crosswalk=False)
    lamp = MapElement(
        MapElementKind.STREET_LAMP,
        np.array([[x, -7.5, 0.0], [x, -7.5, 7.0], [x, -6.0, 7.0]]),
        element_id="lamp:test",
    )
    els = (*(e for e in road.elements if e.kind is not MapElementKind.POLE), lamp)
    return dataclasses.replace(road, elements=els)


def _controls(hand, road, agents, poses, cam, lighting=Lighting.DAY):  # type: ignore[no-untyped-def]
    scene = hand.scene(agents, Weather.CLEAR, lighting)
    ro = hand.rollout(scene, hand.static([(0.0, -1.75, 0.0), *poses], n_steps=3))
    return scene, ro, render_controls(scene, road, ro, cam, seconds=0.1)


def test_post_in_depth_semantic_hdmap_not_instance(hand) -> None:  # type: ignore[no-untyped-def]
    cam = CameraConfig(width_px=320, height_px=192)
    road = _hand_road_with_lamp(hand)
    _, _, c = _controls(hand, road, [], [], cam)
    pole = c.semantic[0] == POLE
    assert pole.sum() > 100
    assert (c.instance[0][pole] == 0).all()  # scenery, not an instance
    # depth: the camera z of the post's camera-facing face (x = 24.9 - camera x)
    uv, z = project_world(cam, (0.0, -1.75, 0.0), np.array([[24.9, -7.5, 3.0]]))
    u, v = int(uv[0, 0]), int(uv[0, 1])
    assert pole[v, u] and abs(float(c.depth_m[0, v, u]) - float(z[0])) < 0.05
    # every pole pixel lies in the post/arm/luminaire columns, and the HD map has the pole
    # colour along the post
    cols = np.nonzero(pole.any(axis=0))[0]
    u_end = project_world(cam, (0.0, -1.75, 0.0), np.array([[25.0, -6.0, 7.0]]))[0][0, 0]
    assert cols.min() >= min(u, u_end) - 6 and cols.max() <= max(u, u_end) + 6
    hd = c.hdmap[0]
    is_pole_hd = (hd == np.array(palette.HD_POLE, np.uint8)).all(axis=-1)
    assert is_pole_hd[v, max(u - 3, 0) : u + 4].any() and is_pole_hd.sum() > 100
    # without the lamp element, none of this is there
    _, _, c0 = _controls(hand, _without_lamps(road), [], [], cam)
    assert not (c0.semantic[0] == POLE).any()
    assert not (c0.hdmap[0] == np.array(palette.HD_POLE, np.uint8)).all(axis=-1).any()


def test_post_occludes_and_is_occluded_through_the_z_buffer(hand) -> None:  # type: ignore[no-untyped-def]
    cam = CameraConfig(width_px=320, height_px=192)
    road = _hand_road_with_lamp(hand)
    uv, _ = project_world(cam, (0.0, -1.75, 0.0), np.array([[25.0, -7.5, 1.0]]))
    u, v = int(uv[0, 0]), int(uv[0, 1])
    # a pedestrian on the sidewalk behind the post, on the camera ray through it
    m = world_to_camera_matrix(cam, 0.0, -1.75, 0.0)
    eye = -m[:3, :3].T @ m[:3, 3]
    y_ped = eye[1] + (32.0 - eye[0]) / (25.0 - eye[0]) * (-7.5 - eye[1])
    ped = [("ped", AgentKind.PEDESTRIAN, (0.5, 0.6, 1.75))]
    _, _, c = _controls(hand, road, ped, [(32.0, y_ped, 0.0)], cam)
    assert c.semantic[0, v, u] == POLE and c.instance[0, v, u] == 0
    _, _, c_free = _controls(hand, _without_lamps(road), ped, [(32.0, y_ped, 0.0)], cam)
    assert c_free.instance[0, v, u] == 1  # the pixel is the pedestrian's without the post
    vis, vis_free = c.labels[0].objects[0], c_free.labels[0].objects[0]
    assert vis.pixel_count < vis_free.pixel_count and vis.visible_fraction < 0.999
    # a truck on the near lane in front of the post hides its lower part
    _, _, c3 = _controls(
        hand, road, [("truck", AgentKind.TRUCK, (10.0, 2.5, 3.5))], [(18.0, -5.25, 0.0)], cam
    )
    assert c3.instance[0, v, u] == 1 and c3.semantic[0, v, u] != POLE
    assert c3.depth_m[0, v, u] < c.depth_m[0, v, u]


# ------------------------------------------------------------------------ sketch RGB alignment
def _sketch(scene, road, ro, controls, seed=0):  # type: ignore[no-untyped-def]
    req = BackendRequest(
        scene=scene, road=road, rollout=ro, controls=controls, prompt="", seed=seed
    )
    return SketchBackend()(req).frames


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.mark.parametrize("lighting", [Lighting.NIGHT, Lighting.DAY])
def test_sketch_posts_coincide_with_semantic_poles(lighting, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """On a sampled urban scene, the pixels the sketch changes because of the posts (same
    scene and lamps, controls rendered with vs without the post solids) are the semantic
    pole_sign_light pixels. The no-post render is lit by the same lamps (the sketch's lamp
    source is pinned to the road's lamps), so lamp light pools and glows are identical in
    both and only the posts' own pixels may differ."""
    from generator.world.rollout import rollout
    from scenario_library.sampling import sample_scene

    scene = sample_scene(2, 0)  # lead_vehicle_stopped.urban_straight.clear.night
    assert scene.scenario.lighting is Lighting.NIGHT
    if lighting is not Lighting.NIGHT:
        scenario = scene.scenario.model_copy(update={"lighting": lighting})
        scene = scene.model_copy(update={"scenario": scenario})
    road = build_road(scene.road)
    ro = rollout(scene, seed=0)
    cam = CameraConfig(width_px=384, height_px=224)
    c = render_controls(scene, road, ro, cam, seconds=0.5)
    rgb = _sketch(scene, road, ro, c)
    lit = SketchBackend._lit_lamps(render_state_of(c), scene.scenario.lighting)
    assert len(lit) == (len(street_lamp_heads(road)) if lighting is Lighting.NIGHT else 0)
    c0 = render_controls(scene, _without_lamps(road), ro, cam, seconds=0.5)
    monkeypatch.setattr(SketchBackend, "_lit_lamps", staticmethod(lambda _st, _light: lit))
    rgb0 = _sketch(scene, road, ro, c0)  # same lamps and light pools, no post in the buffers
    drawn = (rgb != rgb0).any(axis=-1)
    pole = c.semantic == POLE
    assert not (c0.semantic == POLE).any() and pole.sum() > 500
    iou = _iou(drawn, pole)
    print(f"{lighting.value}: post pixels {int(pole.sum())}, IoU {iou:.4f}")
    assert iou > (0.99 if lighting is Lighting.DAY else 0.9)
    # the RGB of the post is grey metal by day, never the sky or sidewalk behind it
    if lighting is Lighting.DAY:
        px = rgb[pole].astype(float)
        assert np.abs(px[:, 0] - px[:, 2]).mean() < 12 and 60 < px.mean() < 160


def test_night_light_pools_come_from_the_posts() -> None:
    from generator.world.rollout import rollout
    from scenario_library.sampling import sample_scene

    scene = sample_scene(2, 0)
    road = build_road(scene.road)
    ro = rollout(scene, seed=0)
    cam = CameraConfig(width_px=384, height_px=224)
    c = render_controls(scene, road, ro, cam, seconds=0.1)
    rgb = _sketch(scene, road, ro, c)[0].astype(float).sum(axis=-1)
    c_dark = render_controls(scene, _without_lamps(road), ro, cam, seconds=0.1)
    dark = _sketch(scene, _without_lamps(road), ro, c_dark)[0].astype(float).sum(axis=-1)
    heads = street_lamp_heads(road)
    # the world point of each sidewalk pixel, from its depth and ray
    side = c.semantic[0] == SEMANTIC_CLASSES["sidewalk"]
    ii, jj = np.nonzero(side)
    k = cam.intrinsic
    d = c.depth_m[0][ii, jj].astype(float)
    cam_pts = np.stack([(jj + 0.5 - k[0, 2]) / k[0, 0] * d, (ii + 0.5 - k[1, 2]) / k[1, 1] * d, d])
    p = c.labels[0].ego_pose_xy_yaw
    m = world_to_camera_matrix(cam, *p)
    world = m[:3, :3].T @ (cam_pts - m[:3, 3:4])
    dist = np.hypot(world[0][:, None] - heads[:, 0], world[1][:, None] - heads[:, 1]).min(axis=1)
    gain = rgb[ii, jj] - dark[ii, jj]  # light added by the street lamps
    near, far = dist < 3.0, dist > 8.0
    assert near.sum() > 20 and far.sum() > 20
    assert gain[near].mean() > 2.0 * max(gain[far].mean(), 1.0)
    assert (gain >= 0).all()


def test_a_post_in_an_agents_path_is_left_out_everywhere(hand) -> None:  # type: ignore[no-untyped-def]
    """A pedestrian crossing the sidewalk right where a post stands: that clip has no post
    (not in semantic, HD map, nor the lamp list the sketch lights from)."""
    cam = CameraConfig(width_px=320, height_px=192)
    road = _hand_road_with_lamp(hand)
    scene = hand.scene([("ped", AgentKind.PEDESTRIAN, (0.5, 0.6, 1.75))], lighting=Lighting.NIGHT)
    st = hand.static([(0.0, -1.75, 0.0), (25.0, -8.5, 1.57)], n_steps=3)
    st[1, :, 1] = np.linspace(-8.5, -6.5, 3)  # walks across the post's spot towards the kerb
    ro = hand.rollout(scene, st)
    assert lamps_in_the_way(road, ro) == {"lamp:test"}
    c = render_controls(scene, road, ro, cam, seconds=0.1)
    assert not (c.semantic == POLE).any()
    assert not (c.hdmap == np.array(palette.HD_POLE, np.uint8)).all(axis=-1).any()
    state = render_state_of(c)
    assert state is not None and len(state.drawables.lamp_heads) == 0
    assert len(SketchBackend._lit_lamps(state, Lighting.NIGHT)) == 0
    # walking past at 1 m from the post leaves it in place
    st[1, :, 0] = 26.4
    ro2 = hand.rollout(scene, st)
    assert lamps_in_the_way(road, ro2) == frozenset()
    c2 = render_controls(scene, road, ro2, cam, seconds=0.1)
    assert (c2.semantic == POLE).any()
    st2 = render_state_of(c2)
    assert st2 is not None and np.allclose(st2.drawables.lamp_heads, street_lamp_heads(road))
