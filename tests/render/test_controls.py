"""Control maps: occlusion, labels vs instance mask, HD-map colours, depth, interpolation."""

from __future__ import annotations

import numpy as np
import pytest

from generator.errors import RenderError
from generator.render import palette
from generator.render.camera import horizon_row
from generator.render.controls import (
    depth_video,
    instance_video,
    interpolate_states,
    render_controls,
    semantic_video,
)
from generator.render.types import SEMANTIC_CLASSES, CameraConfig
from scenario_library.scene import AgentKind

CAR = (4.5, 1.8, 1.5)
TRUCK = (10.0, 2.5, 3.5)


def _render(hand, agents, poses, cam, road=None, ego_dx=0.0, seconds=None):  # type: ignore[no-untyped-def]
    scene = hand.scene(agents)
    st = hand.static([(0.0, -1.75, 0.0), *poses])
    st[0, :, 0] += np.linspace(0, ego_dx, st.shape[1])
    road = road if road is not None else hand.road()
    ro = hand.rollout(scene, st)
    return render_controls(scene, road, ro, cam, seconds=seconds), ro


def test_validate_and_frame_times(hand, small_camera) -> None:  # type: ignore[no-untyped-def]
    c, _ = _render(hand, [("lead", AgentKind.CAR, CAR)], [(20.0, -1.75, 0.0)], small_camera)
    c.validate()
    assert c.n_frames == 10 and np.allclose(c.t_s, np.arange(10) / 10.0)
    assert c.depth_m.dtype == np.float32 and c.instance.dtype == np.uint16
    c2, _ = _render(
        hand, [("lead", AgentKind.CAR, CAR)], [(20.0, -1.75, 0.0)], small_camera, seconds=0.5
    )
    assert c2.n_frames == 5
    with pytest.raises(RenderError, match="seconds"):
        _render(
            hand, [("lead", AgentKind.CAR, CAR)], [(20.0, -1.75, 0.0)], small_camera, seconds=5.0
        )


def test_near_box_hides_far_box(hand, small_camera) -> None:  # type: ignore[no-untyped-def]
    c, _ = _render(
        hand,
        [("near", AgentKind.CAR, CAR), ("far", AgentKind.TRUCK, TRUCK)],
        [(10.0, -1.75, 0.0), (25.0, -1.75, 0.0)],
        small_camera,
    )
    inst = c.instance[0]
    near_px = inst == 1
    far_px = inst == 2
    assert near_px.sum() > 50 and far_px.sum() > 10
    # where both would overlap (centre of the near box), the near id wins and depth is its rear
    cy, cx = np.argwhere(near_px).mean(axis=0).astype(int)
    assert inst[cy, cx] == 1
    rear_depth = 10.0 - CAR[0] / 2 - small_camera.mount_x_m  # camera z of the rear face
    assert abs(float(c.depth_m[0, cy, cx]) - rear_depth) < 0.3
    # the truck, taller and wider, shows above/beside the car; in the car's columns just above
    # its roof the truck is seen, so the truck is partly hidden
    labels = {o.agent_id: o for o in c.labels[0].objects}
    assert labels["near"].visible_fraction > 0.97
    assert 0.05 < labels["far"].visible_fraction < 0.9
    assert c.semantic[0, cy, cx] == SEMANTIC_CLASSES["car"]
    assert SEMANTIC_CLASSES["truck"] in c.semantic[0][far_px]


def test_far_box_alone_is_fully_visible(hand, small_camera) -> None:  # type: ignore[no-untyped-def]
    c, _ = _render(hand, [("far", AgentKind.TRUCK, TRUCK)], [(25.0, -1.75, 0.0)], small_camera)
    lab = c.labels[0].objects[0]
    assert lab.visible_fraction > 0.97 and lab.pixel_count == int((c.instance[0] == 1).sum())


def test_labels_agree_with_instance_mask(hand, small_camera) -> None:  # type: ignore[no-untyped-def]
    c, _ = _render(
        hand,
        [
            ("a", AgentKind.CAR, CAR),
            ("b", AgentKind.PEDESTRIAN, (0.5, 0.6, 1.75)),
            ("behind", AgentKind.CAR, CAR),
            ("off", AgentKind.CAR, CAR),
        ],
        [(15.0, -1.75, 0.3), (9.0, -6.0, 1.57), (-20.0, -1.75, 0.0), (15.0, 40.0, 0.0)],
        small_camera,
        ego_dx=3.0,
    )
    for t, fl in enumerate(c.labels):
        assert fl.frame_index == t
        for o in fl.objects:
            mask = c.instance[t] == o.instance_id
            assert o.pixel_count == int(mask.sum())
            assert o.corners_world.shape == (8, 3) and o.corners_ego.shape == (8, 3)
            if o.pixel_count:
                assert o.bbox_xyxy is not None
                x0, y0, x1, y1 = o.bbox_xyxy
                rows, cols = np.nonzero(mask)
                assert x0 <= cols.min() + 0.5 and cols.max() + 0.5 <= x1
                assert y0 <= rows.min() + 0.5 and rows.max() + 0.5 <= y1
                assert 0 < o.visible_fraction <= 1
            else:
                assert o.visible_fraction == 0.0
    objs = {o.agent_id: o for o in c.labels[0].objects}
    assert objs["behind"].bbox_xyxy is None and objs["behind"].pixel_count == 0
    assert objs["off"].pixel_count == 0
    # ego frame corners: the box ahead is ahead (x > 0) and its centre distance is right
    a = objs["a"]
    assert a.corners_ego[:, 0].mean() == pytest.approx(15.0, abs=1e-6)
    assert a.distance_m == pytest.approx(np.hypot(15.0, 0.0), abs=1e-6)


def test_ground_depth_and_sky(hand) -> None:  # type: ignore[no-untyped-def]
    cam = CameraConfig(width_px=160, height_px=96, pitch_deg=0.0)
    c, _ = _render(hand, [("far", AgentKind.CAR, CAR)], [(150.0, 20.0, 0.0)], cam)
    d = c.depth_m[0]
    i = 80  # a row below the horizon (row 48 for pitch 0)
    b = (i + 0.5 - 48.0) / cam.fx
    assert float(d[i, 80]) == pytest.approx(cam.mount_z_m / b, rel=1e-4)
    assert np.isinf(d[10]).all() and (c.semantic[0, 10] == SEMANTIC_CLASSES["sky"]).all()
    hz = horizon_row(cam)
    assert (c.semantic[0, int(hz) + 2] != SEMANTIC_CLASSES["sky"]).all()
    # ego in lane -1: pixels straight down the centre are road
    assert c.semantic[0, 90, 80] == SEMANTIC_CLASSES["road"]


def test_hdmap_colours_where_expected(hand) -> None:  # type: ignore[no-untyped-def]
    cam = CameraConfig(width_px=320, height_px=192)
    c, _ = _render(
        hand,
        [("lead", AgentKind.CAR, CAR), ("ped", AgentKind.PEDESTRIAN, (0.5, 0.6, 1.75))],
        [(15.0, -1.75, 0.0), (12.0, -5.0, 0.0)],
        cam,
    )
    hd = c.hdmap[0]

    def has(colour: tuple[int, int, int], region: np.ndarray | None = None) -> bool:
        img = hd if region is None else hd[region]
        return bool((img.reshape(-1, 3) == colour).all(axis=1).any())

    assert has(palette.HD_LANE)
    assert has(palette.HD_LANE_LINE)
    assert has(palette.HD_ROAD_BOUNDARY)
    assert has(palette.HD_CROSSWALK)
    assert has(palette.HD_POLE)
    fade = palette.box_fade(np.array(15.0))
    assert has(tuple(int(v) for v in (np.array([255, 0, 0]) * fade).astype(np.uint8)))
    assert has(
        tuple(
            int(v)
            for v in (
                np.array([0, 255, 0]) * palette.box_fade(np.array(np.hypot(12.0, 3.25)))
            ).astype(np.uint8)
        )
    )
    # the sky has no map colours
    assert (hd[:5] == 0).all()
    # a lane line is 8 px wide: count a horizontal run of lane-line colour near the bottom
    row = hd[170]
    run = (row == palette.HD_LANE_LINE).all(axis=1)
    assert 6 <= run.sum() <= 40


def test_far_box_fades_to_black(hand, small_camera) -> None:  # type: ignore[no-untyped-def]
    c, _ = _render(hand, [("far", AgentKind.CAR, CAR)], [(130.0, -1.75, 0.0)], small_camera)
    hd = c.hdmap[0].reshape(-1, 3)
    assert not ((hd[:, 0] > 0) & (hd[:, 1] == 0) & (hd[:, 2] == 0)).any()


def test_colour_videos(hand, small_camera) -> None:  # type: ignore[no-untyped-def]
    c, _ = _render(hand, [("lead", AgentKind.CAR, CAR)], [(15.0, -1.75, 0.0)], small_camera)
    assert np.array_equal(depth_video(c), c.depth_video())
    sv = semantic_video(c)
    assert sv.shape == (*c.semantic.shape, 3) and sv.dtype == np.uint8
    sky = c.semantic == SEMANTIC_CLASSES["sky"]
    assert (sv[sky] == palette.SEMANTIC_PALETTE["sky"]).all()
    iv = instance_video(c)
    assert (iv[c.instance == 1] == palette.instance_colour(1)).all()
    assert (iv[c.instance == 0] == 0).all()
    assert len({palette.instance_colour(i) for i in range(1, 40)}) == 39


def test_interpolation_is_linear_and_wraps_yaw(hand) -> None:  # type: ignore[no-untyped-def]
    scene = hand.scene([("a", AgentKind.CAR, CAR)])
    st = hand.static([(0.0, 0.0, 0.0), (10.0, 0.0, 3.1)], n_steps=3)
    st[0, :, 0] = [0.0, 1.0, 2.0]
    st[1, 1:, 2] = -3.1  # crosses +-pi
    ro = hand.rollout(scene, st)
    p = interpolate_states(ro, np.array([0.05, 0.15]))
    assert p.x_m[0] == pytest.approx([0.5, 1.5])
    yaw = np.mod(p.yaw_rad[1, 0] + np.pi, 2 * np.pi) - np.pi
    assert abs(abs(yaw) - np.pi) < 0.05  # through pi, not through 0


def test_moving_ego_changes_frames(hand, small_camera) -> None:  # type: ignore[no-untyped-def]
    c, _ = _render(
        hand, [("lead", AgentKind.CAR, CAR)], [(20.0, -1.75, 0.0)], small_camera, ego_dx=8.0
    )
    n0 = (c.instance[0] == 1).sum()
    n9 = (c.instance[-1] == 1).sum()
    assert n9 > n0 * 1.5  # the ego closes in on the stopped car
    assert c.labels[-1].ego_pose_xy_yaw[0] == pytest.approx(8.0 * 0.9, abs=1e-5)


def test_built_road_from_world_geometry(hand, small_camera) -> None:  # type: ignore[no-untyped-def]
    geometry = pytest.importorskip("generator.world.geometry")
    scene = hand.scene([("lead", AgentKind.CAR, CAR)])
    road = geometry.build_road(scene.road)
    c, _ = _render(
        hand, [("lead", AgentKind.CAR, CAR)], [(20.0, -1.75, 0.0)], small_camera, road=road
    )
    c.validate()
    sem = c.semantic[0]
    assert (sem == SEMANTIC_CLASSES["road"]).sum() > 500
    assert (sem == SEMANTIC_CLASSES["lane_marking"]).sum() > 5
    assert (c.instance[0] == 1).sum() > 20


def test_junction_lights_and_stop_lines(hand) -> None:  # type: ignore[no-untyped-def]
    geometry = pytest.importorskip("generator.world.geometry")
    from scenario_library.scene import JunctionLayout, RoadContext, RoadLayout

    layout = RoadLayout(
        context=RoadContext.URBAN_INTERSECTION,
        length_m=120.0,
        lane_width_m=3.5,
        lanes_right=1,
        lanes_left=1,
        sidewalk_width_m=2.0,
        speed_limit_mps=14.0,
        junction=JunctionLayout(
            s_m=35.0,
            arm_length_m=40.0,
            lanes_per_direction=1,
            has_traffic_lights=True,
            has_crosswalks=True,
        ),
    )
    road = geometry.build_road(layout)
    cam = CameraConfig(width_px=320, height_px=192)
    c, _ = _render(hand, [("lead", AgentKind.CAR, CAR)], [(60.0, -1.75, 0.0)], cam, road=road)
    c.validate()
    hd = c.hdmap[0].reshape(-1, 3)
    for colour in (
        palette.HD_TRAFFIC_LIGHT,
        palette.HD_WAIT_LINE,
        palette.HD_POLE,
        palette.HD_CROSSWALK,
    ):
        assert (hd == colour).all(axis=1).any(), colour
    assert (c.semantic[0] == SEMANTIC_CLASSES["pole_sign_light"]).sum() > 10
    assert (c.semantic[0] == SEMANTIC_CLASSES["crosswalk"]).sum() > 50


def test_start_s_shifts_the_clip_window(hand, small_camera) -> None:  # type: ignore[no-untyped-def]
    scene = hand.scene([("lead", AgentKind.CAR, CAR)])
    st = hand.static([(0.0, -1.75, 0.0), (20.0, -1.75, 0.0)])
    st[0, :, 0] = np.linspace(0.0, 10.0, st.shape[1])  # ego at 10 m/s over 1 s
    ro = hand.rollout(scene, st)
    c = render_controls(scene, hand.road(), ro, small_camera, seconds=0.3, start_s=0.5)
    assert np.allclose(c.t_s, [0.5, 0.6, 0.7])
    assert c.labels[0].ego_pose_xy_yaw[0] == pytest.approx(5.0, abs=1e-5)
    with pytest.raises(RenderError, match="start_s"):
        render_controls(scene, hand.road(), ro, small_camera, start_s=1.0)
