"""Vectorised world rollouts: W parallel worlds of one scene in one numba call.

``rollout(scene, n_worlds=..., seed=..., ego_plans=...)`` prepares flat arrays from the
:class:`~scenario_library.scene.Scene` (paths, manoeuvres, per-world behaviour samples), runs
``kernels.rollout_kernel`` (which also runs the comfort/physics checks) and returns a
:class:`~generator.world.types.RolloutBatch` with its :class:`RolloutChecks`.

Worlds and seeds
----------------
World 0 is always the *nominal* world: every agent uses the scene's own values (nominal IDM
parameters, the exact trigger values and speeds of the manoeuvres). Worlds 1..W-1 sample the
other road users' behaviour from ``np.random.default_rng(seed)``: IDM parameters of background
traffic (a, b, T, s0 x U(0.8..1.25)/U(0.7..1.3), desired speed x U(0.9, 1.1), reaction lag
U(0.15, 0.6) s) and the hazard's timing (TTC / distance trigger x U(0.85, 1.15), time trigger
+-0.3 s, target speed x U(0.9, 1.1), brake deceleration x U(0.85, 1.15), capped at mu g).
The ego is never sampled (it follows its plan). Same scene + seed + plans -> identical arrays.

Manoeuvre semantics (as helper A's scenes rely on)
-------------------------------------------------
* Triggers: TIME fires when sim time >= value; DISTANCE when the ego-actor centre distance
  <= value; TTC when (ego-frame longitudinal gap from the ego's front to the actor's nearest
  point) / max(ego speed - actor speed along the ego heading, 0.1) <= value. A TTC trigger
  never fires while the actor's centre is behind the ego's centre.
* KEEP: nothing changes (optional target speed applied). BRAKE: decelerate at ``accel_mps2``
  (default -4) down to ``target_speed_mps`` (default 0). LANE_CHANGE: lateral smoothstep to the
  centre of ``target_lane`` (same road) over ``duration_s`` (default 3 s). CROSS: walk/ride
  along a straight path perpendicular to road 0 to the far side (from where it stands, towards
  the other side) at ``target_speed_mps``; before the trigger it keeps its initial speed, so a
  waiting pedestrian has speed 0. TURN: the actor follows ``turn_to`` (or ``target_lane``)
  through the junction; before the trigger it holds at its stop line. RUN_RED: the actor
  never stops for red lights; the trigger applies its target speed.
* Hazard actors never brake for the ego (they do brake for other road users); ego and
  background traffic do (reactive). Pedestrians and animals do not car-follow.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit, prange

from generator import buffers
from generator.errors import PhysicsViolationError, RolloutError
from generator.world import kernels as K
from generator.world.checks import corner_case_occurred
from generator.world.geometry import (
    STEP_M,
    lane_path,
    resample,
    road_frame,
    road_length,
    road_to_world,
    stop_line_s,
    turn_path,
    world_to_road0,
)
from generator.world.types import RolloutBatch, RolloutChecks
from scenario_library.scene import (
    AGENT_KIND_CODES,
    AGENT_ROLE_CODES,
    GRAVITY_MPS2,
    AgentInit,
    AgentKind,
    AgentRole,
    LightPhase,
    ManoeuvreKind,
    RoadLayout,
    Scene,
    TriggerKind,
    carriageway_half_widths,
    lane_center_t,
    lane_kind,
)

PATH_BACK_M = 60.0
PATH_AHEAD_M = 400.0
EGO_LANE_CHANGE_S = 2.5

_MAN_CODES = {
    ManoeuvreKind.KEEP: K.M_KEEP,
    ManoeuvreKind.BRAKE: K.M_BRAKE,
    ManoeuvreKind.LANE_CHANGE: K.M_LANE_CHANGE,
    ManoeuvreKind.CROSS: K.M_CROSS,
    ManoeuvreKind.TURN: K.M_TURN,
    ManoeuvreKind.RUN_RED: K.M_RUN_RED,
}
_TRIG_CODES = {
    TriggerKind.TIME: K.T_TIME,
    TriggerKind.TTC: K.T_TTC,
    TriggerKind.DISTANCE: K.T_DISTANCE,
}
_PHASE_CODES = {LightPhase.GREEN: 0, LightPhase.YELLOW: 1, LightPhase.RED: 2}

#: steering curvature limit [1/m] and lateral acceleration limit [m/s²] (None: friction based)
_KMAX = {
    AgentKind.CAR: 0.2,
    AgentKind.TRUCK: 0.12,
    AgentKind.CYCLIST: 0.35,
    AgentKind.PEDESTRIAN: 3.0,
    AgentKind.ANIMAL: 3.0,
    AgentKind.OBSTACLE: 0.0,
}
#: hazard speed-tracking acceleration by kind [m/s²]
_TRACK_ACCEL = {
    AgentKind.CAR: 2.5,
    AgentKind.TRUCK: 1.5,
    AgentKind.CYCLIST: 1.5,
    AgentKind.PEDESTRIAN: 1.5,
    AgentKind.ANIMAL: 3.0,
    AgentKind.OBSTACLE: 0.0,
}
# nominal IDM (ego, background) and hazard tracking parameters: a, b, T, s0, tau
_EGO_IDM = (1.5, 2.5, 1.5, 2.5, 0.15)
_BG_IDM = (1.2, 2.0, 1.5, 2.0, 0.3)


@dataclass(frozen=True)
class EgoPlan:
    """An ego action sequence for one world.

    ``accel_mps2``: per-step longitudinal acceleration [m/s²] (length >= 1; the last value is
    held; None = default IDM car-following). ``lane_change_to``: an OpenDRIVE lane id on the
    ego's road to move to, starting at ``lane_change_start_s`` [s] and lasting
    ``lane_change_duration_s`` [s]. ``name`` labels the plan in what-if results.
    """

    accel_mps2: tuple[float, ...] | None = None
    lane_change_to: int | None = None
    lane_change_start_s: float = 0.0
    lane_change_duration_s: float = EGO_LANE_CHANGE_S
    name: str = "idm"

    def validate(self) -> None:
        if self.accel_mps2 is not None and (
            len(self.accel_mps2) == 0 or not all(math.isfinite(a) for a in self.accel_mps2)
        ):
            raise RolloutError(f"EgoPlan.accel_mps2={self.accel_mps2!r}: need finite values")
        if self.lane_change_duration_s <= 0:
            raise RolloutError(
                f"EgoPlan.lane_change_duration_s={self.lane_change_duration_s}: must be > 0"
            )
        if self.lane_change_to == 0:
            raise RolloutError("EgoPlan.lane_change_to=0: lane ids are never 0")


# ---------------------------------------------------------------------------- preparation
@dataclass
class _Prepared:
    """Scene-level arrays (shared by all worlds), built once per scene and cached."""

    agent: dict[str, np.ndarray]
    paths: dict[str, np.ndarray]
    man: dict[str, np.ndarray]
    lights: np.ndarray
    light_ids: tuple[str, ...]
    scalars: dict[str, Any]
    nominal: dict[str, np.ndarray]  # [A] p_v0, p_a, p_b, p_t, p_s0, p_tau
    ego_lane_t: float
    ego_dir: int
    extra: dict[str, Any] = field(default_factory=dict)


def _travel_sign(lane_id: int) -> int:
    return 1 if lane_id < 0 else -1


def _extend(poly: np.ndarray, back_m: float, ahead_m: float) -> np.ndarray:
    d0 = poly[1] - poly[0]
    d0 /= max(np.hypot(*d0), 1e-9)
    d1 = poly[-1] - poly[-2]
    d1 /= max(np.hypot(*d1), 1e-9)
    parts = [poly]
    if back_m > 0:
        parts.insert(0, (poly[0] - d0 * back_m)[None])
    if ahead_m > 0:
        parts.append((poly[-1] + d1 * ahead_m)[None])
    return resample(np.concatenate(parts, axis=0), STEP_M)


def _agent_pose(layout: RoadLayout, a: AgentInit) -> tuple[float, float, float]:
    r, lid = a.start.road_id, a.start.lane_id
    if lane_kind(layout, r, lid) == "none":
        raise RolloutError(f"agents[{a.agent_id}].start.lane_id={lid}: road {r} has no such lane")
    sign = _travel_sign(lid)
    t = lane_center_t(layout, r, lid) + sign * a.offset_m
    xy = road_to_world(layout, r, np.array(a.s_m), np.array(t))
    _, h, _ = road_frame(layout, r, np.array(a.s_m))
    yaw = float(h) + (0.0 if sign > 0 else math.pi) + a.heading_rad
    return float(xy[0]), float(xy[1]), math.atan2(math.sin(yaw), math.cos(yaw))


def _cross_path(layout: RoadLayout, x: float, y: float, yaw: float) -> np.ndarray:
    """Straight path across road 0 (perpendicular at the agent's s) to beyond its far edge."""
    s0, t0 = world_to_road0(layout, np.array(x), np.array(y))
    _, h, _ = road_frame(layout, 0, np.array(float(s0)))
    nx, ny = -math.sin(float(h)), math.cos(float(h))
    along = math.cos(yaw) * nx + math.sin(yaw) * ny
    direction = (1.0 if along > 0 else -1.0) if abs(along) > 0.7 else (1.0 if t0 < 0 else -1.0)
    half_r, half_l = carriageway_half_widths(layout, 0)
    far = (half_l if direction > 0 else half_r) + layout.sidewalk_width_m + 1.5
    length = max(far - direction * float(t0), 2.0)
    p0 = np.array([x, y])
    p1 = p0 + direction * length * np.array([nx, ny])
    return resample(np.stack([p0, p1]), STEP_M)


def _path_curvature(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.diff(p, axis=0)
    seg = np.hypot(d[:, 0], d[:, 1])
    tan = d / np.maximum(seg, 1e-9)[:, None]
    tan = np.concatenate([tan, tan[-1:]], axis=0)
    h = np.unwrap(np.arctan2(tan[:, 1], tan[:, 0]))
    k = np.gradient(h) / max(float(seg.mean()), 1e-6)
    k = np.convolve(k, np.ones(5) / 5, mode="same")
    return tan, k, seg


def _speed_cap(k: np.ndarray, a_lat: float, ds: float, b_mps2: float = 2.0) -> np.ndarray:
    """Speed limit [m/s] per path point: the curve speed sqrt(a_lat/|k|) of every point ahead,
    reachable by braking at ``b_mps2``: min_j (cap_j^2 + 2 b (s_j - s_k)) for j >= k."""
    cap2 = np.minimum(a_lat / np.maximum(np.abs(k), 1e-6), 200.0**2)
    s = np.arange(len(k)) * ds
    v2 = np.minimum.accumulate((cap2 + 2 * b_mps2 * s)[::-1])[::-1] - 2 * b_mps2 * s
    return np.sqrt(np.maximum(v2, 0.0))


def _project(p: np.ndarray, x: float, y: float) -> tuple[int, float]:
    """Index of the segment nearest to (x, y) and the signed lateral offset (+ left)."""
    d2 = (p[:, 0] - x) ** 2 + (p[:, 1] - y) ** 2
    k = int(np.argmin(d2))
    k = min(k, len(p) - 2)
    tx, ty = p[k + 1] - p[k]
    n = math.hypot(tx, ty)
    tx, ty = tx / n, ty / n
    if (x - p[k, 0]) * tx + (y - p[k, 1]) * ty < 0 and k > 0:
        k -= 1
    return k, -(x - p[k, 0]) * ty + (y - p[k, 1]) * tx


def _arc_at(p: np.ndarray, ds: float, x: float, y: float) -> float:
    k, _ = _project(p, x, y)
    tx, ty = p[k + 1] - p[k]
    n = math.hypot(tx, ty)
    return k * ds + ((x - p[k, 0]) * tx + (y - p[k, 1]) * ty) / n


def _path_records(pa: np.ndarray) -> np.ndarray:
    """[P, N, 8] float64 records (x, y, tx, ty, curvature, speed cap, 0, 0) of [P, N, >=6]
    path samples, 64-byte aligned: one point is one cache line, so the kernel's projection,
    leader frame and pure pursuit each touch one line per point instead of six."""
    n_p, n = pa.shape[:2]
    raw = np.zeros(n_p * n * 8 + 8)
    off = (-raw.ctypes.data % 64) // 8
    rec = raw[off : off + n_p * n * 8].reshape(n_p, n, 8)
    rec[:, :, :6] = pa[:, :, :6]
    return rec


def _prepare(scene: Scene) -> _Prepared:
    scene.validate_scene()
    layout = scene.road
    mu_g = scene.friction_mu * GRAVITY_MPS2
    agents = scene.agents
    by_agent: dict[str, list[Any]] = {a.agent_id: [] for a in agents}
    for m in scene.manoeuvres:
        by_agent[m.agent_id].append(m)
    ids = [a.agent_id for a in agents]

    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "kind",
            "role",
            "length",
            "width",
            "static",
            "offroad_kind",
            "kmax",
            "alat_max",
            "x0",
            "y0",
            "yaw0",
            "v0_init",
            "idx0",
            "d0",
            "stop_s",
            "light_idx",
            "hold_s",
            "end_s",
            "ignore_red",
            "mobil_ok",
            "lane_lo",
            "lane_hi",
        )
    }
    paths: list[np.ndarray] = []
    nominal: dict[str, list[float]] = {k: [] for k in ("v0", "a", "b", "t", "s0", "tau")}
    a_lat_design = min(3.0, 0.6 * mu_g)
    for a in agents:
        x, y, yaw = _agent_pose(layout, a)
        mans = by_agent[a.agent_id]
        kinds = {m.kind for m in mans}
        static = a.role is AgentRole.PARKED or a.kind is AgentKind.OBSTACLE
        point = a.kind in (AgentKind.PEDESTRIAN, AgentKind.ANIMAL)
        r, lid = a.start.road_id, a.start.lane_id
        sign = _travel_sign(lid)
        turn_to = a.turn_to
        if turn_to is None:
            for m in mans:
                if m.kind is ManoeuvreKind.TURN and m.target_lane is not None:
                    turn_to = m.target_lane
        end_s = K.BIG
        if ManoeuvreKind.CROSS in kinds:
            base = _cross_path(layout, x, y, yaw)
            path = _extend(base, PATH_BACK_M, 0.0)
            end_s = (len(path) - 1) * float(np.hypot(*(path[1] - path[0])))
        elif turn_to is not None and not static:
            path = _extend(turn_path(layout, a.start, turn_to), PATH_BACK_M, PATH_AHEAD_M)
        elif point and abs(a.heading_rad) > 0.3:
            p0 = np.array([x, y])
            d = np.array([math.cos(yaw), math.sin(yaw)])
            path = resample(np.stack([p0 - d * PATH_BACK_M, p0 + d * 200.0]), STEP_M)
        else:
            path = _extend(lane_path(layout, r, lid), PATH_BACK_M, PATH_AHEAD_M)
        tan, kap, seg = _path_curvature(path)
        ds = float(seg.mean())
        k0, d0 = _project(path, x, y)
        vcap = _speed_cap(kap, a_lat_design, ds)
        if point:
            vcap[:] = 200.0
        paths.append(
            np.concatenate(
                [path, tan, kap[:, None], vcap[:, None], np.full((len(path), 1), ds)], axis=1
            )
        )
        # traffic lights: the stop line of a light on the agent's start road, on its side
        light_i, stop_arc = -1, K.BIG
        if layout.junction is not None and not static and not point:
            for li, tl in enumerate(scene.traffic_lights):
                if tl.road_id != r:
                    continue
                c_s = layout.junction.s_m if r == 0 else layout.junction.arm_length_m
                s_line = tl.stop_line_s_m
                if (s_line - c_s) * sign > 0:  # light is on the far side: mirror it
                    s_line = 2 * c_s - s_line
                p = road_to_world(
                    layout, r, np.array(s_line), np.array(lane_center_t(layout, r, lid))
                )
                arc = _arc_at(path, ds, float(p[0]), float(p[1]))
                if arc > k0 * ds + 0.5 * a.length_m - 0.5:
                    light_i, stop_arc = li, arc
                    break
        hold = K.BIG
        if ManoeuvreKind.TURN in kinds and layout.junction is not None:
            s_line = stop_line_s(layout, r, lid)
            p = road_to_world(layout, r, np.array(s_line), np.array(lane_center_t(layout, r, lid)))
            hold = _arc_at(path, ds, float(p[0]), float(p[1]))
            if hold < k0 * ds + 0.5 * a.length_m:
                hold = K.BIG
        # MOBIL lane range (in lanes, + towards the left of travel)
        mobil = (
            a.role is AgentRole.BACKGROUND
            and r == 0
            and layout.junction is None
            and a.kind in (AgentKind.CAR, AgentKind.TRUCK)
            and turn_to is None
            and lane_kind(layout, r, lid) == "driving"
        )
        n_dir = layout.lanes_right if lid < 0 else layout.lanes_left
        kk = abs(lid)
        cols["kind"].append(AGENT_KIND_CODES[a.kind])
        cols["role"].append(AGENT_ROLE_CODES[a.role])
        cols["length"].append(a.length_m)
        cols["width"].append(a.width_m)
        cols["static"].append(static)
        # vehicles must stay on the carriageway; a crossing cyclist rides off it on purpose
        cols["offroad_kind"].append(
            a.kind in (AgentKind.CAR, AgentKind.TRUCK, AgentKind.CYCLIST)
            and not static
            and ManoeuvreKind.CROSS not in kinds
        )
        cols["kmax"].append(_KMAX[a.kind])
        cols["alat_max"].append(3.0 if point else 0.9 * mu_g)
        cols["x0"].append(x)
        cols["y0"].append(y)
        cols["yaw0"].append(yaw)
        cols["v0_init"].append(0.0 if static else a.speed_mps)
        cols["idx0"].append(k0)
        cols["d0"].append(d0)
        cols["stop_s"].append(stop_arc)
        cols["light_idx"].append(light_i)
        cols["hold_s"].append(hold)
        cols["end_s"].append(end_s)
        cols["ignore_red"].append(ManoeuvreKind.RUN_RED in kinds)
        cols["mobil_ok"].append(mobil)
        cols["lane_lo"].append(-(n_dir - kk) if mobil else 0)
        cols["lane_hi"].append((kk - 1) if mobil else 0)
        vdes = a.desired_speed_mps if a.desired_speed_mps is not None else a.speed_mps
        if a.role is AgentRole.EGO:
            prm = _EGO_IDM
        elif a.role is AgentRole.BACKGROUND:
            prm = _BG_IDM
        else:
            prm = (_TRACK_ACCEL[a.kind], 3.0, 1.0, 2.0, 0.2)
        nominal["v0"].append(0.0 if static else vdes)
        for key, val in zip(("a", "b", "t", "s0", "tau"), prm, strict=True):
            nominal[key].append(val)

    dtypes = {
        "kind": np.int64,
        "role": np.int64,
        "static": np.bool_,
        "offroad_kind": np.bool_,
        "idx0": np.int64,
        "light_idx": np.int64,
        "ignore_red": np.bool_,
        "mobil_ok": np.bool_,
        "lane_lo": np.int64,
        "lane_hi": np.int64,
    }
    agent: dict[str, np.ndarray] = {
        k: np.asarray(v, dtype=dtypes.get(k, np.float64)) for k, v in cols.items()
    }
    n_max = max(len(p) for p in paths)
    # agents on the same lane share one path (fewer cache lines for the kernel to touch)
    unique: dict[bytes, int] = {}
    path_id = np.array([unique.setdefault(p.tobytes(), len(unique)) for p in paths], np.int64)
    pa = np.zeros((len(unique), n_max, 7))
    for i, p in enumerate(paths):
        pa[path_id[i], : len(p)] = p
        pa[path_id[i], len(p) :] = p[-1]
    # the leader ranking keeps an agent index in RANK_SLOTS slots and needs the paths within
    # +-RANK_SPAN_M (kernels.py)
    if len(paths) > K.RANK_SLOTS:
        raise RolloutError(f"scene.agents: {len(paths)} agents, at most {K.RANK_SLOTS} per rollout")
    extent = float(np.abs(pa[..., :2]).max())
    if not extent <= K.RANK_SPAN_M:
        raise RolloutError(f"scene.road: paths reach {extent:.3g} m from the origin, at most 1e6")
    pdict = {
        "path_id": path_id,
        "path": _path_records(pa),
        "path_n": np.array([len(p) for p in paths], np.int64),
        "path_ds": np.array([p[0, 6] for p in paths]),
    }

    # manoeuvres
    mcols: dict[str, list[Any]] = {
        k: []
        for k in (
            "man_agent",
            "man_kind",
            "trig_kind",
            "trig_val",
            "man_speed",
            "man_accel",
            "man_doff",
            "man_dur",
        )
    }
    for m in scene.manoeuvres:
        i = ids.index(m.agent_id)
        a = agents[i]
        doff = 0.0
        if m.kind is ManoeuvreKind.LANE_CHANGE:
            if m.target_lane is None:
                raise RolloutError(
                    f"manoeuvres[{m.agent_id}].target_lane=None: lane change needs a target lane"
                )
            if m.target_lane.road_id != a.start.road_id:
                raise RolloutError(
                    f"manoeuvres[{m.agent_id}].target_lane.road_id="
                    f"{m.target_lane.road_id}: must be the agent's road"
                )
            sign = _travel_sign(a.start.lane_id)
            doff = (
                lane_center_t(layout, a.start.road_id, m.target_lane.lane_id)
                - lane_center_t(layout, a.start.road_id, a.start.lane_id)
            ) * sign
        mcols["man_agent"].append(i)
        mcols["man_kind"].append(_MAN_CODES[m.kind])
        mcols["trig_kind"].append(_TRIG_CODES[m.trigger.kind])
        mcols["trig_val"].append(m.trigger.value)
        mcols["man_speed"].append(-1.0 if m.target_speed_mps is None else m.target_speed_mps)
        mcols["man_accel"].append(0.0 if m.accel_mps2 is None else m.accel_mps2)
        mcols["man_doff"].append(doff)
        mcols["man_dur"].append(3.0 if m.duration_s is None else m.duration_s)
    man = {
        k: np.asarray(
            v, dtype=np.int64 if k in ("man_agent", "man_kind", "trig_kind") else np.float64
        )
        for k, v in mcols.items()
    }

    # scalars for the off-road test
    half_r0, half_l0 = carriageway_half_widths(layout, 0)
    sc: dict[str, Any] = {
        "mu_g": mu_g,
        "lane_w": layout.lane_width_m,
        "radius0": float(layout.curve_radius_m or 0.0),
        "lo0": -half_r0,
        "hi0": half_l0,
        "has_j": layout.junction is not None,
        "j_ox": 0.0,
        "j_oy": 0.0,
        "j_hx": 1.0,
        "j_hy": 0.0,
        "lo1": 0.0,
        "hi1": 0.0,
    }
    if layout.junction is not None:
        o, h, _ = road_frame(layout, 1, np.array(0.0))
        half_r1, half_l1 = carriageway_half_widths(layout, 1)
        sc.update(
            j_ox=float(o[0]),
            j_oy=float(o[1]),
            j_hx=math.cos(float(h)),
            j_hy=math.sin(float(h)),
            lo1=-half_r1,
            hi1=half_l1,
        )
    ego = agents[0]
    return _Prepared(
        agent=agent,
        paths=pdict,
        man=man,
        lights=np.zeros((0, 0), np.int8),
        light_ids=tuple(tl.light_id for tl in scene.traffic_lights),
        scalars=sc,
        nominal={k: np.asarray(v, np.float64) for k, v in nominal.items()},
        ego_lane_t=lane_center_t(layout, ego.start.road_id, ego.start.lane_id),
        ego_dir=_travel_sign(ego.start.lane_id),
        extra={"road_length_m": road_length(layout, 0)},
    )


_CACHE: OrderedDict[str, _Prepared] = OrderedDict()


def prepare(scene: Scene) -> _Prepared:
    """Scene arrays, cached by the scene's JSON (scenes are frozen)."""
    key = scene.model_dump_json()
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    prep = _prepare(scene)
    _CACHE[key] = prep
    if len(_CACHE) > 64:
        _CACHE.popitem(last=False)
    return prep


def light_states(scene: Scene, n_t: int, dt_s: float) -> np.ndarray:
    """[L, T] int8 phase codes (0 green, 1 yellow, 2 red) of every traffic light."""
    out = np.zeros((len(scene.traffic_lights), n_t), np.int8)
    t = np.arange(n_t) * dt_s
    for li, tl in enumerate(scene.traffic_lights):
        total = sum(d for _, d in tl.cycle)
        if total <= 0:
            raise RolloutError(f"traffic_lights[{tl.light_id}].cycle: total duration must be > 0")
        tt = np.mod(t + tl.offset_s, total)
        edges = np.cumsum([d for _, d in tl.cycle])
        phase = np.searchsorted(edges, tt, side="right")
        codes = np.array([_PHASE_CODES[p] for p, _ in tl.cycle], np.int8)
        out[li] = codes[np.minimum(phase, len(codes) - 1)]
    return out


# per-world behaviour jitter, in draw order (one block of uniforms each): IDM a, b, T, s0 and
# desired speed of background traffic as factors on the nominal value, then its reaction lag
# tau [s] itself; the hazard's trigger factor, time-trigger shift [s], target-speed factor and
# brake-deceleration factor
_BEHAVIOUR_KEYS = ("a", "b", "t", "s0", "v0", "tau")
_BEHAVIOUR_LO = np.array([0.8, 0.8, 0.7, 0.8, 0.9, 0.15])
_BEHAVIOUR_HI = np.array([1.25, 1.25, 1.3, 1.3, 1.1, 0.6])
_MANOEUVRE_LO = np.array([0.85, -0.3, 0.9, 0.85])
_MANOEUVRE_HI = np.array([1.15, 0.3, 1.1, 1.15])


@njit(cache=True, parallel=True)
def _fill_behaviour(nominal, u, lo, span, background, out):
    """``out[k, w, i]`` for world w >= 1 and background agent i: ``nominal[k, i]`` times the
    factor ``lo[k] + span[k] * u[k, w - 1, i]`` (the last key, tau, is the draw itself); every
    other entry is nominal. ``lo + span * u`` is ``Generator.uniform``'s own formula, so the
    values are the ones per-key ``rng.uniform`` calls in this order would give."""
    n_k, n_w, n_ag = out.shape
    for w in prange(n_w):
        for k in range(n_k):
            for i in range(n_ag):
                val = nominal[k, i]
                if w > 0 and background[i]:
                    f = lo[k] + span[k] * u[k, w - 1, i]
                    val = f if k == n_k - 1 else val * f
                out[k, w, i] = val


def _sample_behaviour(
    prep: _Prepared, scene: Scene, n_worlds: int, seed: int, n_behaviours: int | None = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    if n_behaviours is not None and n_behaviours < n_worlds:
        p, mw = _sample_behaviour(prep, scene, n_behaviours, seed)
        reps = -(-n_worlds // n_behaviours)
        tile = {k: np.tile(v, (reps, 1))[:n_worlds] for k, v in p.items()}
        tile_m = {k: np.tile(v, (reps, 1))[:n_worlds] for k, v in mw.items()}
        return tile, tile_m
    nom = prep.nominal
    n_ag = len(nom["v0"])
    m = prep.man
    n_m = len(m["man_agent"])
    mw = {
        k: np.repeat(m[k][None, :], n_worlds, axis=0)
        for k in ("trig_val", "man_speed", "man_accel")
    }
    # [6, W, A] in recycled memory: fresh 2160-world arrays cost more in page faults than
    # the sampling itself (generator.buffers)
    block = buffers.empty((len(_BEHAVIOUR_KEYS), n_worlds, n_ag), np.float64)
    u = buffers.empty((len(_BEHAVIOUR_KEYS), max(n_worlds - 1, 0), n_ag), np.float64)
    rng = np.random.default_rng(seed)
    if n_worlds > 1:
        rng.random(out=u)
    nominal = np.stack([nom[k] for k in _BEHAVIOUR_KEYS])
    background = prep.agent["role"] == K.R_BACKGROUND
    _fill_behaviour(nominal, u, _BEHAVIOUR_LO, _BEHAVIOUR_HI - _BEHAVIOUR_LO, background, block)
    p = {k: block[q] for q, k in enumerate(_BEHAVIOUR_KEYS)}
    if n_worlds > 1:
        um = rng.random((len(_MANOEUVRE_LO), n_worlds - 1, n_m))
        f_trig, d_time, f_speed, f_acc = (
            lo + (hi - lo) * um[q]
            for q, (lo, hi) in enumerate(zip(_MANOEUVRE_LO, _MANOEUVRE_HI, strict=True))
        )
        is_time = m["trig_kind"] == K.T_TIME
        tv = mw["trig_val"][1:]
        mw["trig_val"][1:] = np.where(is_time[None, :], np.maximum(tv + d_time, 0.0), tv * f_trig)
        sp = mw["man_speed"][1:]
        mw["man_speed"][1:] = np.where(sp >= 0, sp * f_speed, sp)
        ac = mw["man_accel"][1:]
        mu_g = prep.scalars["mu_g"]
        mw["man_accel"][1:] = np.where(ac < 0, np.maximum(ac * f_acc, -mu_g), ac)
    return p, mw


def _plan_arrays(
    prep: _Prepared, scene: Scene, plans: list[EgoPlan] | None, n_worlds: int, n_steps: int
) -> dict[str, np.ndarray]:
    has_acc = np.zeros(n_worlds, np.bool_)
    acc = np.zeros((n_worlds, max(n_steps, 1)))
    has_lc = np.zeros(n_worlds, np.bool_)
    lc_off = np.zeros(n_worlds)
    lc_t0 = np.zeros(n_worlds)
    lc_dur = np.ones(n_worlds)
    if plans is not None:
        if len(plans) != n_worlds:
            raise RolloutError(f"ego_plans: got {len(plans)} plans for n_worlds={n_worlds}")
        ego = scene.agents[0]
        for w, plan in enumerate(plans):
            plan.validate()
            if plan.accel_mps2 is not None:
                has_acc[w] = True
                seq = np.asarray(plan.accel_mps2, np.float64)[:n_steps]
                acc[w, : len(seq)] = seq
                acc[w, len(seq) :] = seq[-1]
            if plan.lane_change_to is not None:
                lid = plan.lane_change_to
                if lane_kind(scene.road, ego.start.road_id, lid) != "driving":
                    raise RolloutError(
                        f"EgoPlan.lane_change_to={lid}: not a driving lane of "
                        f"road {ego.start.road_id}"
                    )
                has_lc[w] = True
                lc_off[w] = (
                    lane_center_t(scene.road, ego.start.road_id, lid) - prep.ego_lane_t
                ) * prep.ego_dir
                lc_t0[w] = plan.lane_change_start_s
                lc_dur[w] = plan.lane_change_duration_s
    return {
        "plan_has_acc": has_acc,
        "plan_acc": acc,
        "plan_has_lc": has_lc,
        "plan_lc_off": lc_off,
        "plan_lc_t0": lc_t0,
        "plan_lc_dur": lc_dur,
    }


def rollout(
    scene: Scene,
    *,
    n_worlds: int = 1,
    seed: int = 0,
    ego_plans: list[EgoPlan] | None = None,
    horizon_s: float | None = None,
    n_behaviours: int | None = None,
    raise_on_physics: bool = False,
) -> RolloutBatch:
    """Roll out ``n_worlds`` parallel worlds of ``scene`` (world 0 nominal, see module doc).

    ``ego_plans``: one :class:`EgoPlan` per world, or None (IDM lane keeping everywhere).
    ``horizon_s``: defaults to ``scene.horizon_s``. ``n_behaviours``: sample only that many
    behaviour sets (set 0 nominal) and give world ``w`` set ``w % n_behaviours`` (what-if uses
    it so that every plan meets the same sampled futures). With ``raise_on_physics`` a physics
    violation raises :class:`PhysicsViolationError` (it is a bug, never a sample).
    """
    if n_worlds < 1:
        raise RolloutError(f"n_worlds={n_worlds}: must be >= 1")
    if seed < 0:
        raise RolloutError(f"seed={seed}: must be >= 0")
    horizon = scene.horizon_s if horizon_s is None else horizon_s
    if not (horizon > 0 and math.isfinite(horizon)):
        raise RolloutError(f"horizon_s={horizon_s}: must be > 0")
    dt = scene.dt_s
    n_steps = round(horizon / dt)
    n_t = n_steps + 1
    prep = prepare(scene)
    if n_behaviours is not None and n_behaviours < 1:
        raise RolloutError(f"n_behaviours={n_behaviours}: must be >= 1")
    params, mw = _sample_behaviour(prep, scene, n_worlds, seed, n_behaviours)
    plan = _plan_arrays(prep, scene, ego_plans, n_worlds, n_steps)
    lights_scene = light_states(scene, n_t, dt)
    lights = lights_scene if lights_scene.shape[0] > 0 else np.zeros((1, n_t), np.int8)
    ag, pa, m, sc = prep.agent, prep.paths, prep.man, prep.scalars
    n_ag = len(ag["kind"])
    n_m = len(m["man_agent"])
    # trajectories in recycled memory: 2160 worlds x 16 agents x 81 steps is 55 MB, whose
    # first-touch page faults cost ~10 % of a rollout (generator.buffers)
    out = {k: buffers.empty((n_worlds, n_ag, n_t), np.float32) for k in ("x", "y", "yaw", "v", "a")}
    collision = np.zeros(n_worlds, np.bool_)
    ego_coll = np.zeros(n_worlds, np.bool_)
    first_coll = np.full(n_worlds, -1, np.int32)
    offroad = np.zeros((n_worlds, n_ag), np.bool_)
    min_ttc = np.empty(n_worlds)
    fired = np.full((n_worlds, n_m), -1, np.int32)
    comfort = np.zeros((n_worlds, n_ag), np.bool_)
    physics = np.zeros((n_worlds, n_ag), np.bool_)
    reason = np.zeros((n_worlds, n_ag), np.int8)
    progress = np.empty(n_worlds)
    K.rollout_kernel(
        ag["kind"],
        ag["role"],
        ag["length"],
        ag["width"],
        ag["static"],
        ag["offroad_kind"],
        ag["kmax"],
        ag["alat_max"],
        ag["x0"],
        ag["y0"],
        ag["yaw0"],
        ag["v0_init"],
        ag["idx0"],
        ag["d0"],
        ag["stop_s"],
        ag["light_idx"],
        ag["hold_s"],
        ag["end_s"],
        ag["ignore_red"],
        ag["mobil_ok"],
        ag["lane_lo"],
        ag["lane_hi"],
        pa["path_id"],
        pa["path"],
        pa["path_n"],
        pa["path_ds"],
        m["man_agent"],
        m["man_kind"],
        m["trig_kind"],
        mw["trig_val"],
        mw["man_speed"],
        mw["man_accel"],
        m["man_doff"],
        m["man_dur"],
        params["v0"],
        params["a"],
        params["b"],
        params["t"],
        params["s0"],
        np.minimum(1.0, dt / np.maximum(params["tau"], dt)),
        plan["plan_has_acc"],
        plan["plan_acc"],
        plan["plan_has_lc"],
        plan["plan_lc_off"],
        plan["plan_lc_t0"],
        plan["plan_lc_dur"],
        lights,
        sc["mu_g"],
        dt,
        n_t,
        sc["lane_w"],
        sc["radius0"],
        sc["lo0"],
        sc["hi0"],
        sc["has_j"],
        sc["j_ox"],
        sc["j_oy"],
        sc["j_hx"],
        sc["j_hy"],
        sc["lo1"],
        sc["hi1"],
        out["x"],
        out["y"],
        out["yaw"],
        out["v"],
        out["a"],
        collision,
        ego_coll,
        first_coll,
        offroad,
        min_ttc,
        fired,
        comfort,
        physics,
        reason,
        progress,
    )
    min_ttc = np.where(min_ttc >= K.BIG * 0.5, np.inf, min_ttc)
    notes = _physics_notes(scene, physics, reason)
    occurred = corner_case_occurred(
        scene,
        out["x"],
        out["y"],
        out["yaw"],
        out["v"],
        out["a"],
        lights_scene,
        prep.light_ids,
    )
    checks = RolloutChecks(
        collision=collision,
        ego_collision=ego_coll,
        first_collision_step=first_coll,
        offroad=offroad,
        comfort_violation=comfort,
        physics_violation=physics,
        min_ttc_s=min_ttc,
        corner_case_occurred=occurred,
        progress_m=progress,
        notes=notes,
    )
    batch = RolloutBatch(
        dt_s=dt,
        agent_ids=tuple(a.agent_id for a in scene.agents),
        kind_codes=ag["kind"].astype(np.int8),
        role_codes=ag["role"].astype(np.int8),
        dims_m=np.array([[a.length_m, a.width_m, a.height_m] for a in scene.agents], np.float32),
        x_m=out["x"],
        y_m=out["y"],
        yaw_rad=out["yaw"],
        speed_mps=out["v"],
        accel_mps2=out["a"],
        checks=checks,
        light_states=lights_scene,
        light_ids=prep.light_ids,
    )
    if raise_on_physics and physics.any():
        raise PhysicsViolationError("; ".join(notes) or "physics bounds violated")
    return batch


_REASONS = {
    1: "longitudinal acceleration beyond mu*g",
    2: "lateral acceleration beyond mu*g",
    3: "speed beyond the kind's maximum",
    4: "position jump (teleport)",
    5: "non-finite state",
}


def _physics_notes(scene: Scene, physics: np.ndarray, reason: np.ndarray) -> tuple[str, ...]:
    notes = []
    for w, i in zip(*np.nonzero(physics), strict=True):
        notes.append(
            f"world {int(w)} agent {scene.agents[int(i)].agent_id}: "
            f"{_REASONS.get(int(reason[w, i]), 'unknown')}"
        )
        if len(notes) >= 5:
            break
    return tuple(notes)
