"""Stage outputs of the world model: road geometry and rollouts (arrays, not objects).

Units: metres, radians, seconds, m/s, m/s². Frames: the world frame of
``scenario_library.scene`` (x forward along road 0, y left, z up, ground z=0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from generator.errors import RolloutError


class MapElementKind(StrEnum):
    """Map element kinds, named after the Cosmos-Transfer HD-map layers."""

    LANE_LINE = "lane_line"  # polyline (dashed or solid) between lanes of one direction
    CENTRE_LINE = "centre_line"  # polyline between directions (solid / double)
    ROAD_BOUNDARY = "road_boundary"  # polyline at the carriageway edge (kerb)
    LANE = "lane"  # closed polygon of one driving lane
    PARKING = "parking"  # closed polygon of a parking lane
    SIDEWALK = "sidewalk"  # closed polygon
    CROSSWALK = "crosswalk"  # closed polygon
    STOP_LINE = "stop_line"  # polyline across the lanes
    ROAD_MARKING = "road_marking"  # arrows, etc. (polygon)
    POLE = "pole"  # vertical segment: 2 points (x, y, 0) -> (x, y, h)
    #: street-lamp post: polyline (x, y, 0) -> (x, y, h) -> arm end (x', y', h); the lamp
    #: (light source) hangs under the last point. Rendered as a pole in every control map.
    STREET_LAMP = "street_lamp"
    TRAFFIC_LIGHT = "traffic_light"  # closed polygon (light housing, vertical, at its height)
    TRAFFIC_SIGN = "traffic_sign"  # closed polygon (vertical)
    GRASS = "grass"  # verge outside the road (closed polygon), for the sketch renderer


@dataclass(frozen=True)
class MapElement:
    kind: MapElementKind
    points_xyz: np.ndarray  # [N, 3] float64, world frame [m]
    closed: bool = False  # polygon (True) or polyline (False)
    dashed: bool = False
    element_id: str = ""  # e.g. "road0/lane-1", "light:north"

    def validate(self) -> None:
        p = self.points_xyz
        if p.ndim != 2 or p.shape[1] != 3 or p.shape[0] < 2 or not np.isfinite(p).all():
            raise RolloutError(f"map element {self.element_id!r}: points must be finite [N>=2, 3]")


@dataclass(frozen=True)
class RoadGeometry:
    """Everything drawable and the lane centrelines agents follow."""

    elements: tuple[MapElement, ...]
    #: (road_id, lane_id) -> [N, 2] centreline in travel direction, sampled every <= 0.5 m
    centrelines: dict[tuple[int, int], np.ndarray]
    #: drivable area as closed polygons [N, 2] (union = where vehicles may be)
    drivable: tuple[np.ndarray, ...]

    def validate(self) -> None:
        for e in self.elements:
            e.validate()
        for key, c in self.centrelines.items():
            if c.ndim != 2 or c.shape[1] != 2 or c.shape[0] < 2:
                raise RolloutError(f"centreline {key}: must be [N>=2, 2]")


@dataclass(frozen=True)
class RolloutChecks:
    """Checks computed on every rollout; per world arrays, W = number of worlds."""

    collision: np.ndarray  # [W] bool: any box overlap involving the ego or between movers
    ego_collision: np.ndarray  # [W] bool: the ego's box overlapped another box
    first_collision_step: np.ndarray  # [W] int32, -1 if none
    offroad: np.ndarray  # [W, A] bool: a vehicle's corner left the drivable area by > 0.3 m
    comfort_violation: np.ndarray  # [W, A] bool: nuPlan comfort bounds broken (ego/background)
    physics_violation: np.ndarray  # [W, A] bool: beyond tyre/physics limits (a bug)
    min_ttc_s: np.ndarray  # [W] float: ego minimum time-to-collision (inf if never closing)
    corner_case_occurred: np.ndarray  # [W] bool: the intended hazard really happened
    progress_m: np.ndarray  # [W] float: ego distance travelled
    #: free-text reasons for the first physics violations, for error messages
    notes: tuple[str, ...] = ()

    def validate(self, n_worlds: int, n_agents: int) -> None:
        for name in (
            "collision",
            "ego_collision",
            "first_collision_step",
            "min_ttc_s",
            "corner_case_occurred",
            "progress_m",
        ):
            if getattr(self, name).shape != (n_worlds,):
                raise RolloutError(f"checks.{name} must have shape ({n_worlds},)")
        for name in ("offroad", "comfort_violation", "physics_violation"):
            if getattr(self, name).shape != (n_worlds, n_agents):
                raise RolloutError(f"checks.{name} must have shape ({n_worlds}, {n_agents})")

    def summary(self, world: int = 0) -> dict[str, object]:
        """JSON-ready dict of one world's checks."""
        ttc = float(self.min_ttc_s[world])
        return {
            "collision": bool(self.collision[world]),
            "ego_collision": bool(self.ego_collision[world]),
            "first_collision_step": int(self.first_collision_step[world]),
            "offroad_agents": int(self.offroad[world].sum()),
            "comfort_violations": int(self.comfort_violation[world].sum()),
            "physics_violations": int(self.physics_violation[world].sum()),
            "min_ttc_s": ttc if np.isfinite(ttc) else None,
            "corner_case_occurred": bool(self.corner_case_occurred[world]),
            "progress_m": float(self.progress_m[world]),
        }


@dataclass(frozen=True)
class RolloutBatch:
    """W worlds x A agents x T steps (T includes t=0). Agent order = scene.agents order."""

    dt_s: float
    agent_ids: tuple[str, ...]  # [A]
    kind_codes: np.ndarray  # [A] int8, scenario_library.scene.AGENT_KIND_CODES
    role_codes: np.ndarray  # [A] int8, scenario_library.scene.AGENT_ROLE_CODES
    dims_m: np.ndarray  # [A, 3] float32: length, width, height
    x_m: np.ndarray  # [W, A, T] float32
    y_m: np.ndarray  # [W, A, T] float32
    yaw_rad: np.ndarray  # [W, A, T] float32
    speed_mps: np.ndarray  # [W, A, T] float32
    accel_mps2: np.ndarray  # [W, A, T] float32 (longitudinal)
    checks: RolloutChecks
    #: [L, T] int8 light state per traffic light (0 green, 1 yellow, 2 red); L may be 0
    light_states: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int8))
    light_ids: tuple[str, ...] = ()

    @property
    def n_worlds(self) -> int:
        return int(self.x_m.shape[0])

    @property
    def n_agents(self) -> int:
        return int(self.x_m.shape[1])

    @property
    def n_steps(self) -> int:
        return int(self.x_m.shape[2])

    @property
    def t_s(self) -> np.ndarray:
        return np.arange(self.n_steps, dtype=np.float64) * self.dt_s

    def validate(self) -> None:
        shape = self.x_m.shape
        if len(shape) != 3:
            raise RolloutError("x_m must be [W, A, T]")
        for name in ("y_m", "yaw_rad", "speed_mps", "accel_mps2"):
            if getattr(self, name).shape != shape:
                raise RolloutError(f"{name} must have shape {shape}")
        if len(self.agent_ids) != shape[1] or self.dims_m.shape != (shape[1], 3):
            raise RolloutError("agent_ids / dims_m do not match the agent axis")
        for name in ("x_m", "y_m", "yaw_rad", "speed_mps"):
            if not np.isfinite(getattr(self, name)).all():
                raise RolloutError(f"{name} has non-finite values")
        self.checks.validate(shape[0], shape[1])

    def world(self, w: int) -> RolloutBatch:
        """A view of one world as a batch of one."""
        c = self.checks
        sl = slice(w, w + 1)
        checks = RolloutChecks(
            collision=c.collision[sl],
            ego_collision=c.ego_collision[sl],
            first_collision_step=c.first_collision_step[sl],
            offroad=c.offroad[sl],
            comfort_violation=c.comfort_violation[sl],
            physics_violation=c.physics_violation[sl],
            min_ttc_s=c.min_ttc_s[sl],
            corner_case_occurred=c.corner_case_occurred[sl],
            progress_m=c.progress_m[sl],
            notes=c.notes,
        )
        return RolloutBatch(
            dt_s=self.dt_s,
            agent_ids=self.agent_ids,
            kind_codes=self.kind_codes,
            role_codes=self.role_codes,
            dims_m=self.dims_m,
            x_m=self.x_m[sl],
            y_m=self.y_m[sl],
            yaw_rad=self.yaw_rad[sl],
            speed_mps=self.speed_mps[sl],
            accel_mps2=self.accel_mps2[sl],
            checks=checks,
            light_states=self.light_states,
            light_ids=self.light_ids,
        )
