"""The built-in ``sketch`` backend: readable, fast, deterministic RGB frames from the scene.

It shades the control buffers of :func:`generator.render.controls.render_controls` (depth,
instance, ground class) with the scene's weather and light (:mod:`generator.render.effects`):
no weights, CPU only. Same request and seed -> identical frames.

Everything it draws comes from those buffers, so the RGB is pixel-aligned with the control
maps: street-lamp posts are the road's ``STREET_LAMP`` map elements, rasterised into depth /
semantic (``pole_sign_light``) by the same z-buffer and shaded as grey metal in every light;
at night and dusk the lamps of the drawn posts (``MapDrawables.lamp_heads``) glow and cast the
light pools on the ground.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numba as nb
import numpy as np

from generator import buffers as buffer_pool
from generator.backends.base import BackendOutput, BackendRequest
from generator.errors import BackendError
from generator.render import effects as fx_
from generator.render.camera import NEAR_M
from generator.render.controls import (
    RenderState,
    drawables_for_clip,
    frame_geometry,
    ground_raster_for,
    rasterise,
    render_state_of,
)
from generator.render.frames import run_frames
from generator.render.shade import GROUND_ALBEDO, PAVED, light_tables, pool_map, shade_frame
from generator.world.types import MapElementKind, RoadGeometry, RolloutBatch
from scenario_library.scene import AGENT_KIND_CODES, AgentKind, Lighting, Scene

#: bump on any visual change of the sketch renderer
SKETCH_VERSION = "3"
BRAKE_LIGHT_ACCEL_MPS2 = -1.5

_CAR_PAINTS = np.array(
    [
        (0.85, 0.85, 0.85),
        (0.6, 0.62, 0.65),
        (0.12, 0.12, 0.14),
        (0.7, 0.1, 0.1),
        (0.15, 0.25, 0.6),
        (0.3, 0.32, 0.35),
        (0.2, 0.4, 0.25),
        (0.8, 0.75, 0.6),
    ]
)
_SHIRTS = np.array(
    [
        (0.85, 0.2, 0.2),
        (0.2, 0.5, 0.85),
        (0.95, 0.75, 0.1),
        (0.2, 0.65, 0.3),
        (0.9, 0.45, 0.1),
        (0.6, 0.3, 0.7),
    ]
)
_RENDER_FILES = (
    "camera.py",
    "raster.py",
    "groundmap.py",
    "controls.py",
    "palette.py",
    "shade.py",
    "effects.py",
    "frames.py",
)


def renderer_sha256() -> str:
    """Hash of the renderer's source (render modules, the road geometry that places the
    street lamps, and this file)."""
    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parents[1]
    for name in _RENDER_FILES:
        h.update((pkg / "render" / name).read_bytes())
    h.update((pkg / "world" / "geometry.py").read_bytes())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()


@nb.njit(cache=True)
def _glow_if_visible(img, depth, r, c, fx, cx, cy, p, size_m, col, strength, min_px):  # type: ignore[no-untyped-def]
    h, w = depth.shape
    q = np.empty(3)
    for e in range(3):
        q[e] = r[e, 0] * (p[0] - c[0]) + r[e, 1] * (p[1] - c[1]) + r[e, 2] * (p[2] - c[2])
    if q[2] < NEAR_M:
        return
    u = fx * q[0] / q[2] + cx
    v = fx * q[1] / q[2] + cy
    iu = int(u)
    iv = int(v)
    if not (0 <= iu < w and 0 <= iv < h):
        return
    if depth[iv, iu] < q[2] - 0.6:
        return
    rad = max(fx * size_m / q[2], min_px)
    fx_.add_glow(img, u, v, rad, col[0], col[1], col[2], strength)


@nb.njit(nogil=True, cache=True)
def _sketch_frames(  # type: ignore[no-untyped-def]
    t0,
    t1,
    out,
    depth,
    inst,
    gcode,
    rot,
    cen,
    fx,
    cx,
    cy,
    albedo,
    paved,
    pose,
    dims,
    kinds,
    body,
    brake,
    pool_meta,
    pool,
    lut,
    housings,
    hstate,
    lk,
    ego_half_len,
    glow_pts,
    glow_col,
    glow_str,
    frame_seed,
):
    for t in range(t0, t1):
        img = out[t]
        r = rot[t]
        c = cen[t]
        shade_frame(
            img,
            depth[t],
            inst[t],
            gcode[t],
            r,
            c,
            fx,
            cx,
            cy,
            albedo,
            paved,
            pose[t],
            dims,
            kinds,
            body,
            brake[t],
            pool_meta,
            pool,
            lut,
            housings,
            hstate[t],
            lk,
            pose[t, 0, 0],
            pose[t, 0, 1],
            pose[t, 0, 2],
            ego_half_len,
        )
        wet = lk[fx_.WET]
        for g in range(glow_pts.shape[1]):
            s = glow_str[t, g]
            if s <= 0.0:
                continue
            _glow_if_visible(
                img, depth[t], r, c, fx, cx, cy, glow_pts[t, g], 0.25, glow_col[g], s, 1.5
            )
            if wet > 0:  # streaky reflection of the lamp on the wet road
                m = glow_pts[t, g].copy()
                for k in range(4):
                    m[2] = -glow_pts[t, g, 2] * (1.0 + 0.5 * k)
                    _glow_if_visible(
                        img, depth[t], r, c, fx, cx, cy, m, 0.2, glow_col[g], 0.25 * wet * s, 1.0
                    )
        if lk[fx_.GLARE] > 0:
            sx = lk[fx_.SUN_X]
            sy = lk[fx_.SUN_Y]
            sz = lk[fx_.SUN_Z]
            qz = r[2, 0] * sx + r[2, 1] * sy + r[2, 2] * sz
            if qz > 0.05:
                u = fx * (r[0, 0] * sx + r[0, 1] * sy + r[0, 2] * sz) / qz + cx
                v = fx * (r[1, 0] * sx + r[1, 1] * sy + r[1, 2] * sz) / qz + cy
                fx_.sun_glare(img, u, v, lk[fx_.GLARE])
        seed = int(lk[fx_.SEED])
        if lk[fx_.RAIN] > 0:
            bright = 200.0 if lk[fx_.AMBIENT] > 0.2 else 90.0
            fx_.rain_streaks(img, frame_seed + t, seed, lk[fx_.RAIN], bright)
        if lk[fx_.FLAKES] > 0:
            fx_.snow_flakes(img, depth[t], frame_seed + t, seed, lk[fx_.FLAKES])


def _housings(scene: Scene, road: RoadGeometry, rollout: RolloutBatch, t_s: np.ndarray):  # type: ignore[no-untyped-def]
    """Traffic-light housings [Hn, 7] (cx, cy, yaw, half len, half depth, z0, z1) and their
    state per frame [T, Hn] (0 green, 1 yellow, 2 red, -1 unknown)."""
    boxes, states = [], []
    step = np.clip(np.round(t_s / rollout.dt_s).astype(int), 0, max(rollout.n_steps - 1, 0))
    for e in road.elements:
        if e.kind is not MapElementKind.TRAFFIC_LIGHT:
            continue
        p = e.points_xyz
        xy = p[:, :2]
        c = xy.mean(axis=0)
        d = xy - c
        k = int(np.argmax(np.hypot(d[:, 0], d[:, 1])))
        yaw = float(np.arctan2(d[k, 1], d[k, 0]))
        half = float(np.abs(d @ [np.cos(yaw), np.sin(yaw)]).max())
        boxes.append((c[0], c[1], yaw, half, 0.15, p[:, 2].min(), p[:, 2].max()))
        st = np.full(len(t_s), -1, np.int64)
        m = re.search(r"road(\d)", e.element_id)
        for li, light in enumerate(scene.traffic_lights):
            if m and light.road_id == int(m.group(1)) and light.light_id in rollout.light_ids:
                row = rollout.light_ids.index(light.light_id)
                if rollout.light_states.shape[1] > 0:
                    st = rollout.light_states[row][
                        np.minimum(step, rollout.light_states.shape[1] - 1)
                    ]
                break
            del li
        states.append(st)
    hs = np.array(boxes, np.float64).reshape(-1, 7)
    hst = (
        np.array(states, np.int64).reshape(-1, len(t_s)).T.copy()
        if states
        else np.zeros((len(t_s), 0), np.int64)
    )
    return hs, hst


class SketchBackend:
    """Built-in renderer (no weights). ``SketchBackend()(request).frames`` -> [T, H, W, 3]."""

    name = "sketch"

    def __init__(self, **_options: object) -> None:
        self._sha = renderer_sha256()

    def provenance(self) -> dict[str, str]:
        return {
            "backend": self.name,
            "version": SKETCH_VERSION,
            "weights_sha256": "none",
            "renderer_sha256": self._sha,
        }

    def _state(self, req: BackendRequest) -> RenderState:
        st = render_state_of(req.controls)
        if st is not None:
            return st
        camera = req.controls.camera
        geo = frame_geometry(req.rollout, camera, req.controls.t_s)
        ground = ground_raster_for(req.road)
        dr = drawables_for_clip(req.road, req.rollout)
        return RenderState(
            geometry=geo,
            buffers=rasterise(geo, req.rollout, camera, ground, dr),
            ground=ground,
            drawables=dr,
        )

    def __call__(self, request: BackendRequest) -> BackendOutput:
        req = request
        if req.rollout.n_worlds != 1:
            raise BackendError(f"rollout.n_worlds={req.rollout.n_worlds}: sketch needs W == 1")
        st = self._state(req)
        geo, buf = st.geometry, st.buffers
        controls = req.controls
        cam = controls.camera
        n_t, h, w = controls.depth_m.shape
        scene, ro = req.scene, req.rollout
        p = geo.poses
        pose = np.stack([p.x_m, p.y_m, p.yaw_rad], axis=-1).transpose(1, 0, 2).copy()  # [T,A,3]
        dims = ro.dims_m.astype(np.float64)
        kinds = ro.kind_codes.astype(np.int64)
        rng = np.random.default_rng(req.seed)
        paints = _CAR_PAINTS[rng.integers(0, len(_CAR_PAINTS), ro.n_agents)]
        shirts = _SHIRTS[rng.integers(0, len(_SHIRTS), ro.n_agents)]
        vru = np.isin(
            kinds, [AGENT_KIND_CODES[AgentKind.PEDESTRIAN], AGENT_KIND_CODES[AgentKind.CYCLIST]]
        )
        body = np.where(vru[:, None], shirts, paints)
        accel = np.stack(
            [
                np.interp(controls.t_s, ro.t_s, ro.accel_mps2[0, a].astype(np.float64))
                for a in range(ro.n_agents)
            ],
            axis=1,
        )  # [T, A]
        brake = (accel < BRAKE_LIGHT_ACCEL_MPS2).astype(np.float64)
        lk = fx_.make_look(
            scene.scenario.weather, scene.scenario.lighting, req.seed, float(p.yaw_rad[0, 0])
        )
        lighting = scene.scenario.lighting
        lamps = self._lit_lamps(st, lighting)
        pool_meta, pool = pool_map(lamps)
        housings, hstate = _housings(scene, req.road, ro, controls.t_s)
        glow_pts, glow_col, glow_str = self._glows(
            pose, dims, kinds, brake, lamps, housings, hstate, lk
        )
        out = buffer_pool.empty((n_t, h, w, 3), np.uint8)
        k = cam.intrinsic
        run_frames(
            _sketch_frames,
            n_t,
            out,
            controls.depth_m,
            controls.instance,
            buf.ground_code,
            geo.rot,
            geo.cen,
            float(k[0, 0]),
            float(k[0, 2]),
            float(k[1, 2]),
            GROUND_ALBEDO,
            PAVED,
            pose,
            dims,
            kinds,
            np.ascontiguousarray(body),
            brake,
            pool_meta,
            pool,
            light_tables(lk),
            housings,
            hstate,
            lk,
            float(dims[0, 0] / 2),
            glow_pts,
            glow_col,
            glow_str,
            int(req.seed % 1_000_003),
        )
        return BackendOutput(frames=out)

    @staticmethod
    def _lit_lamps(state: RenderState, lighting: Lighting) -> np.ndarray:
        """Street lamps [L, 3] that light the scene: at night and dusk, the lamps of the
        ``STREET_LAMP`` posts drawn in this clip's control maps (shaded there like every static
        solid, in every light), so light pools and glows sit on the drawn posts."""
        if lighting not in (Lighting.NIGHT, Lighting.DUSK):
            return np.zeros((0, 3))
        return state.drawables.lamp_heads

    @staticmethod
    def _glows(pose, dims, kinds, brake, lamps, housings, hstate, lk):  # type: ignore[no-untyped-def]
        """Light sources drawn as glows: car head/tail lamps, street lamps, active signals."""
        n_t, n_a, _ = pose.shape
        pts, cols, strs = [], [], []
        carl = lk[fx_.CARLIGHTS]
        vehicle = {AGENT_KIND_CODES[AgentKind.CAR], AGENT_KIND_CODES[AgentKind.TRUCK]}
        for a in range(1, n_a):
            if int(kinds[a]) not in vehicle:
                continue
            hl, hw, hh = dims[a] / 2
            for lx, ly, col, base in (
                (hl, 0.75 * hw, (255.0, 245.0, 220.0), carl * 1.2),
                (hl, -0.75 * hw, (255.0, 245.0, 220.0), carl * 1.2),
                (-hl, 0.75 * hw, (255.0, 30.0, 20.0), None),
                (-hl, -0.75 * hw, (255.0, 30.0, 20.0), None),
            ):
                c, s = np.cos(pose[:, a, 2]), np.sin(pose[:, a, 2])
                xyz = np.stack(
                    [
                        pose[:, a, 0] + c * lx - s * ly,
                        pose[:, a, 1] + s * lx + c * ly,
                        np.full(n_t, 0.38 * hh * 2),
                    ],
                    axis=1,
                )
                strength = (
                    np.full(n_t, base) if base is not None else carl * 0.7 + 0.8 * brake[:, a]
                )
                pts.append(xyz)
                cols.append(col)
                strs.append(strength)
        for lamp in lamps:
            pts.append(np.repeat(lamp[None], n_t, axis=0))
            cols.append((255.0, 200.0, 120.0))
            strs.append(np.full(n_t, lk[fx_.STREET] * 1.2))
        lamp_cols = ((40.0, 255.0, 120.0), (255.0, 200.0, 20.0), (255.0, 40.0, 20.0))
        for q, hsg in enumerate(housings):
            for state in range(3):
                third = (hsg[6] - hsg[5]) / 3
                z = hsg[5] + (state + 0.5) * third
                pts.append(np.repeat(np.array([[hsg[0], hsg[1], z]]), n_t, axis=0))
                cols.append(lamp_cols[state])
                strs.append((hstate[:, q] == state) * (0.35 + 0.6 * (1 - lk[fx_.AMBIENT])))
        if not pts:
            return np.zeros((n_t, 0, 3)), np.zeros((0, 3)), np.zeros((n_t, 0))
        return (
            np.stack(pts, axis=1).astype(np.float64),
            np.array(cols, np.float64),
            np.stack(strs, axis=1).astype(np.float64),
        )
