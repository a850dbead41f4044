"""Closed-loop what-if: K candidate ego plans x M sampled futures in ONE batched rollout.

Every plan meets the same M behaviour samples of the other road users (sample 0 = nominal;
common random numbers make plans comparable), and the others react to the ego (background
traffic brakes for it; hazard actors follow their script). Each plan is scored from its M
futures, lower cost first:

``cost = 1000 collision_rate + 50 offroad_rate + 10 ttc_risk + 3 comfort_rate
- progress_m / max_progress_m`` where ``ttc_risk`` is the mean of clip((3 s - min TTC) / 3 s,
0, 1). ``score = -cost`` (higher is better); ties keep the earlier plan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from generator.errors import RolloutError
from generator.world.rollout import EgoPlan, rollout
from scenario_library.scene import Scene, lane_kind

TTC_RISK_S = 3.0
ACCEL_PLAN_MPS2 = 1.5
ACCEL_PLAN_S = 3.0
BRAKE_MILD_MPS2 = -2.0
BRAKE_HARD_MPS2 = -6.0


@dataclass(frozen=True)
class PlanStats:
    name: str
    collision_rate: float
    offroad_rate: float
    comfort_rate: float
    mean_min_ttc_s: float  # mean over futures of min TTC, each capped at 10 s
    worst_min_ttc_s: float | None  # None if never closing in any future
    mean_progress_m: float
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "collision_rate": self.collision_rate,
            "offroad_rate": self.offroad_rate,
            "comfort_rate": self.comfort_rate,
            "mean_min_ttc_s": self.mean_min_ttc_s,
            "worst_min_ttc_s": self.worst_min_ttc_s,
            "mean_progress_m": self.mean_progress_m,
            "score": self.score,
        }


@dataclass(frozen=True)
class WhatIfResult:
    best_index: int
    best_name: str
    plans: tuple[PlanStats, ...]
    n_samples: int
    seed: int
    n_futures: int
    elapsed_ms: float  # wall time of the batched rollout + scoring (not deterministic)

    def validate(self) -> None:
        if not 0 <= self.best_index < len(self.plans):
            raise RolloutError(f"best_index={self.best_index}: out of range")

    def to_dict(self) -> dict[str, Any]:
        return {
            "best_index": self.best_index,
            "best_name": self.best_name,
            "n_plans": len(self.plans),
            "n_samples": self.n_samples,
            "n_futures": self.n_futures,
            "seed": self.seed,
            "elapsed_ms": self.elapsed_ms,
            "plans": [p.to_dict() for p in self.plans],
        }


def candidate_plans(
    scene: Scene, n_plans: int = 6, horizon_s: float | None = None
) -> list[EgoPlan]:
    """The first ``n_plans`` of: keep, brake_mild, brake_hard, accelerate, swerve_left,
    swerve_right, idm, swerve_left_brake, swerve_right_brake (swerves only into an adjacent
    driving lane of the ego's direction that exists)."""
    if n_plans < 1:
        raise RolloutError(f"n_plans={n_plans}: must be >= 1")
    dt = scene.dt_s
    n = round((horizon_s or scene.horizon_s) / dt)
    mu_g = scene.friction_mu * 9.81
    ego = scene.agents[0]
    lid = ego.start.lane_id
    k = abs(lid)
    sign = -1 if lid < 0 else 1
    left = sign * (k - 1) if k > 1 else None
    right: int | None = sign * (k + 1)
    if lane_kind(scene.road, ego.start.road_id, sign * (k + 1)) != "driving":
        right = None
    n_acc = round(ACCEL_PLAN_S / dt)
    hard = max(BRAKE_HARD_MPS2, -0.8 * mu_g)
    out = [
        EgoPlan(accel_mps2=(0.0,), name="keep"),
        EgoPlan(accel_mps2=(BRAKE_MILD_MPS2,), name="brake_mild"),
        EgoPlan(accel_mps2=(hard,), name="brake_hard"),
        EgoPlan(
            accel_mps2=(ACCEL_PLAN_MPS2,) * n_acc + (0.0,) * max(n - n_acc, 1), name="accelerate"
        ),
    ]
    if left is not None:
        out.append(EgoPlan(accel_mps2=(0.0,), lane_change_to=left, name="swerve_left"))
    if right is not None:
        out.append(EgoPlan(accel_mps2=(0.0,), lane_change_to=right, name="swerve_right"))
    out.append(EgoPlan(name="idm"))
    if left is not None:
        out.append(
            EgoPlan(accel_mps2=(BRAKE_MILD_MPS2,), lane_change_to=left, name="swerve_left_brake")
        )
    if right is not None:
        out.append(
            EgoPlan(accel_mps2=(BRAKE_MILD_MPS2,), lane_change_to=right, name="swerve_right_brake")
        )
    return out[:n_plans]


def whatif(
    scene: Scene,
    *,
    n_plans: int = 6,
    n_samples: int = 36,
    seed: int = 0,
    plans: list[EgoPlan] | None = None,
) -> WhatIfResult:
    """Roll out every candidate plan against ``n_samples`` futures; return the best plan."""
    if n_samples < 1:
        raise RolloutError(f"n_samples={n_samples}: must be >= 1")
    t0 = time.perf_counter()
    cands = plans if plans is not None else candidate_plans(scene, n_plans)
    n_k, n_m = len(cands), n_samples
    world_plans = [p for p in cands for _ in range(n_m)]
    batch = rollout(scene, n_worlds=n_k * n_m, seed=seed, ego_plans=world_plans, n_behaviours=n_m)
    c = batch.checks
    coll = c.ego_collision.reshape(n_k, n_m).mean(axis=1)
    off = c.offroad[:, 0].reshape(n_k, n_m).mean(axis=1)
    comf = c.comfort_violation[:, 0].reshape(n_k, n_m).mean(axis=1)
    ttc = c.min_ttc_s.reshape(n_k, n_m)
    ttc_cap = np.minimum(ttc, 10.0)
    risk = np.clip((TTC_RISK_S - ttc_cap) / TTC_RISK_S, 0.0, 1.0).mean(axis=1)
    prog = c.progress_m.reshape(n_k, n_m).mean(axis=1)
    cost = 1000 * coll + 50 * off + 10 * risk + 3 * comf - prog / max(float(prog.max()), 1e-6)
    score = -cost
    best = int(np.argmax(score))
    stats = tuple(
        PlanStats(
            name=cands[k].name,
            collision_rate=float(coll[k]),
            offroad_rate=float(off[k]),
            comfort_rate=float(comf[k]),
            mean_min_ttc_s=float(ttc_cap[k].mean()),
            worst_min_ttc_s=(float(ttc[k].min()) if np.isfinite(ttc[k].min()) else None),
            mean_progress_m=float(prog[k]),
            score=float(score[k]),
        )
        for k in range(n_k)
    )
    res = WhatIfResult(
        best_index=best,
        best_name=cands[best].name,
        plans=stats,
        n_samples=n_m,
        seed=seed,
        n_futures=n_k * n_m,
        elapsed_ms=(time.perf_counter() - t0) * 1e3,
    )
    res.validate()
    return res


def warmup() -> None:
    """Load (or compile, the first time) the numba kernels and run one tiny what-if."""
    from generator.world.demo import stopped_car_scene

    whatif(stopped_car_scene(), n_plans=2, n_samples=2)
