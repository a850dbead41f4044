"""Numba kernels of the world rollout: one step loop over many worlds at once.

One compiled entry point, :func:`rollout_kernel` (``cache=True``): it integrates W worlds x A
agents x T steps in parallel over worlds (``prange``) and runs the per-step checks that need
the live state - oriented-box collisions (bounding-circle prefilter, then separating axes),
off-road corners, the ego's minimum TTC, trigger firing. At the end of each world, while its
trajectories are still in cache, :func:`_checks_world` adds the comfort and physics bounds
from the recorded trajectories (finite differences, independent of the integrator's own
clamps), so ``rollout`` needs no second pass over [W, A, T] arrays.

Model summary (see ``rollout.py`` for the Python side that prepares the arrays):

* Every mover follows a reference path (uniformly sampled polyline, spacing ``ds``) with a
  time-varying lateral offset (lane changes: smoothstep from ``d_from`` to ``d_to`` over
  ``lc_dur``). Steering: pure pursuit to the offset path point ``Ld`` ahead, curvature clamped
  by the agent's steering limit and by the lateral-acceleration limit ``v^2 |k| <= alat_max``.
* Vehicles and cyclists: kinematic bicycle (unicycle form on curvature), pedestrians/animals:
  point model on the same path follower with a large curvature limit.
* Longitudinal: IDM for ego and background (leader = nearest box ahead in the heading corridor,
  bent by the path curvature; red lights, hold points and path ends are virtual stopped
  leaders), a first-order lag (reaction) on the IDM command; hazard actors track their script
  speed (P-control) and brake for non-ego leaders only. ``|a| <= mu g`` always, speed >= 0.
* Leader search: once per step, one branch-free pass (:func:`_rank_all`) gives every agent the
  integer rank key of its nearest candidate in its own path frame (gap to 1e-5 m, then index);
  per agent, :func:`_find_leader` then takes the exact gap and crossing rule of the winner
  (the next key from :func:`_rank_min` when crossing traffic is rejected). The choice is the
  plain all-pairs scan's up to gaps within 1e-5 m (``tests/world/test_leader.py``).
* MOBIL lane changes for background (politeness 0, min gain 0.2 m/s², imposed braking <= 2 m/s²)
  evaluated once per second per agent; skipped, exactly, when even a free road would not gain
  enough (IDM never exceeds its free-road term), before anything is passed to :func:`_mobil`.

How a step is laid out for speed (``bench/rollout.py``; trajectories unchanged by it, up to
the last bits of a speed at standstill):

* Controls run in passes over the agents: every leader rank key at once (j outside, agents
  inside: one vector per j, no per-agent set-up or horizontal minimum), every key's winner
  with its exact gap and crossing rule at once (:func:`_lead_rows`, branch-free) and a scalar
  search only for an agent whose winner was rejected, the longitudinal command of every agent
  in one branch-free loop (virtual stopped leaders and the path-end stop included, as
  selects), MOBIL as a scalar pass that reuses that loop's IDM term, then pure pursuit as a
  scalar target lookup and a branch-free curvature pass. The integrator is branch-free too;
  the rare step that turns an agent by 0.05 rad or more leaves its row unchanged there and is
  integrated with trig by a scalar pass after it. With 8 or more agents the branch-free loops
  run over the padded rows (agent data they read is padded too), so that no scalar remainder
  runs; below 8 agents the plain scalar loop is cheaper. LLVM vectorises the branch-free loops
  that read rows in order (its ``-pass-remarks=loop-vectorize`` output on a build without
  debug info confirms it; a ``NUMBA_DEBUGINFO`` build adds bounds checks and ``noinline`` and
  is not representative); a loop that loads by index (:func:`_lead_rows`) stays scalar, as
  LLVM cannot bound those loads against the rows it writes, but has no branch to mispredict.
* Path points are 64-byte records (x, y, tangent, curvature, speed cap): one cache line each.
  The point and tangent at each agent's projection are kept in rows, so the next step's
  projection and the controls read no record for them.
* The step loop records into the world's agent-major [5, A, T] block, which stays in cache
  for the checks; streaming (non-temporal) stores then copy it to the [W, A, T] outputs, so
  55 MB of trajectories per 2,160 worlds pass to memory without being read into the cache or
  evicting the path records.
* Checks: collisions as float32 bounding-circle tests, one 16-lane vector per agent and block
  of 16 others (:func:`_near_bits`, written as LLVM IR: LLVM's own vectoriser runs a loop of
  fewer than 32 of them one lane at a time; circles grown by ``COLL_MARGIN_M`` so that rounding
  never drops a pair), float64 circles and separating axes only for a row with a candidate; comfort/physics as one branch-free pass per agent,
  replayed step by step (:func:`_checks_agent`) only for an agent that breaks a physics bound.
* ``error_model="numpy"``: divisions carry no zero-check branches (none divides by zero).
* The non-inlined :func:`_mobil` is called only on its rare path: with the shortcut inside it
  (a call with some twenty array arguments on every MOBIL turn) the rollout measured 10 %
  slower.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}  # no nnan/ninf: we compare with BIG
BIG = 1.0e9

# roles (scenario_library.scene.AGENT_ROLE_CODES order)
R_EGO, R_HAZARD, R_BACKGROUND, R_PARKED = 0, 1, 2, 3
# kinds (AGENT_KIND_CODES order)
K_CAR, K_TRUCK, K_PED, K_CYCLIST, K_ANIMAL, K_OBSTACLE = 0, 1, 2, 3, 4, 5
# manoeuvre kinds
M_KEEP, M_BRAKE, M_LANE_CHANGE, M_CROSS, M_TURN, M_RUN_RED = 0, 1, 2, 3, 4, 5
# trigger kinds
T_TIME, T_TTC, T_DISTANCE = 0, 1, 2

IDM_DELTA = 4.0
MOBIL_GAIN = 0.2
MOBIL_BSAFE = 2.0
MOBIL_LC_S = 3.0
CORRIDOR_MARGIN_M = 0.3
NO_GAP = 4.0 * BIG  # "not a leader" in a leader row
COLL_MARGIN_M = 0.01  # the float32 collision rows grow each bounding circle by this much
# leader ranking (_rank_min): gap + RANK_SPAN_M quantised to RANK_RES_M, the agent index in the
# key's low RANK_SLOTS. A candidate's gap is > -RANK_SPAN_M (it is ahead: the gap is at least
# minus two half-lengths) and, with the paths inside +-RANK_SPAN_M (rollout.py checks), its key
# stays far below RANK_NONE. No clamp: it measured 3 % of the whole rollout
RANK_RES_M = 1.0e-5
RANK_SPAN_M = 1.0e6
RANK_SLOTS = 4096  # agents per rollout at most (rollout.py checks)
RANK_NONE = np.int64(2**62)  # above every key
OFFROAD_TOL_M = 0.3


def _store_nontemporal(arr, idx, val):
    """``arr[idx] = val``; compiled, a streaming (non-temporal) store: written to memory
    without reading the line into the cache first and without evicting what the rollout
    still uses. (This Python body is what ``bench/rollout.py``'s CPython baseline runs.)"""
    arr[idx] = val


@intrinsic
def _nontemporal_store_ir(typingctx, arr, idx, val):
    sig = types.void(arr, idx, val)

    def codegen(context, builder, signature, args):
        arrty = signature.args[0]
        ary = context.make_array(arrty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, arrty, ary, [args[1]], wraparound=False)
        value = context.cast(builder, args[2], signature.args[2], arrty.dtype)
        store = builder.store(value, ptr)
        store.set_metadata("nontemporal", builder.module.add_metadata([ir.IntType(32)(1)]))
        return context.get_dummy_value()

    return sig, codegen


@overload(_store_nontemporal, inline="always")
def _store_nontemporal_compiled(arr, idx, val):
    def impl(arr, idx, val):
        _nontemporal_store_ir(arr, idx, val)

    return impl


LANES = 16  # float32 lanes of one collision-row vector (_near_bits)


def _near_bits(px, py, r, base, pxi, pyi, ri):
    """Bit q (q < ``LANES``) set where circle ``base + q`` of the float32 rows (centre
    (px, py), radius r [m]) meets the circle (pxi, pyi, ri): centres at most the sum of the
    radii apart. The rows hold ``base + LANES`` entries at least (the kernel pads them with NaN,
    which never meets anything). Compiled, one vector of each row and one compare
    (:func:`_near_bits_ir`); this Python body is what ``bench/rollout.py``'s baseline runs."""
    bits = 0
    for q in range(LANES):
        dx = px[base + q] - pxi
        dy = py[base + q] - pyi
        rr = r[base + q] + ri
        if dx * dx + dy * dy <= rr * rr:
            bits |= 1 << q
    return bits


@intrinsic
def _near_bits_ir(typingctx, px, py, r, base, pxi, pyi, ri):
    """:func:`_near_bits` as LLVM IR: three unaligned <16 x float> loads at ``base``, the
    agent's values broadcast, IEEE arithmetic (no fast-math flags: NaN compares false), the
    <16 x i1> compare returned as a 16-bit mask (zero-extended to uint32)."""
    sig = types.uint32(px, py, r, base, pxi, pyi, ri)

    def codegen(context, builder, signature, args):
        f32 = ir.FloatType()
        vty = ir.VectorType(f32, LANES)
        zeros = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)

        def row(k):
            arrty = signature.args[k]
            ary = context.make_array(arrty)(context, builder, args[k])
            ptr = cgutils.get_item_pointer(
                context, builder, arrty, ary, [args[3]], wraparound=False
            )
            return builder.load(builder.bitcast(ptr, vty.as_pointer()), align=4, typ=vty)

        def splat(k):
            val = context.cast(builder, args[k], signature.args[k], types.float32)
            v = builder.insert_element(ir.Constant(vty, ir.Undefined), val, ir.IntType(32)(0))
            return builder.shuffle_vector(v, ir.Constant(vty, ir.Undefined), zeros)

        dx = builder.fsub(row(0), splat(4))
        dy = builder.fsub(row(1), splat(5))
        rr = builder.fadd(row(2), splat(6))
        d2 = builder.fadd(builder.fmul(dx, dx), builder.fmul(dy, dy))
        near = builder.fcmp_ordered("<=", d2, builder.fmul(rr, rr))
        bits = builder.bitcast(near, ir.IntType(LANES))
        return builder.zext(bits, ir.IntType(32))

    return sig, codegen


@overload(_near_bits, inline="always")
def _near_bits_compiled(px, py, r, base, pxi, pyi, ri):
    def impl(px, py, r, base, pxi, pyi, ri):
        return _near_bits_ir(px, py, r, base, pxi, pyi, ri)

    return impl


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _stream_copy(src, dst, base):
    """``dst[base:base + len(src)] = src`` with streaming stores (one sequential stream)."""
    for q in range(src.shape[0]):
        _store_nontemporal(dst, base + q, src[q])


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _idm(
    v: float, v0: float, gap: float, vl: float, a: float, b: float, t_h: float, s0: float
) -> float:
    """IDM acceleration; ``v0 <= 0.1`` means 'come to rest'; free term floored at -b."""
    if v0 > 0.1:
        r = v / v0
        free = a * (1.0 - r * r * r * r)
        if free < -b:
            free = -b
    else:
        free = -b if v > 0.05 else 0.0
    if gap >= BIG * 0.5:
        return free
    dv = v - vl
    ss = s0 + max(0.0, v * t_h + v * dv / (2.0 * math.sqrt(a * b)))
    g = max(gap, 0.05)
    acc = free - a * (ss / g) * (ss / g)
    # no harsher than needed: at most max(b, 2x the kinematic deceleration to match speeds
    # before the gap closes) - avoids IDM's over-reaction to cut-ins (cf. ACC/CAH model)
    b_kin = dv * dv / (2.0 * max(gap - 0.5 * s0, 0.1)) if dv > 0.0 else 0.0
    floor = -max(b, 2.0 * b_kin)
    return acc if acc > floor else floor


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _smoothstep(u: float) -> float:
    if u <= 0.0:
        return 0.0
    if u >= 1.0:
        return 1.0
    return u * u * (3.0 - 2.0 * u)


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _leader_row(
    x, y, c, s, length, width, n_ag, xi, yi, ci, si, hk, hwi, hli, shift, rdx, rdy, rgap
):
    """Leader candidates of one agent, all j at once (branch-free: LLVM vectorises it).

    Frame: the agent's path point (xi, yi), tangent (ci, si), curvature 2 ``hk``; corridor
    half-width ``hwi`` + j's extent across it, around the path or ``shift`` beside it.
    ``rdx[j]`` longitudinal and ``rdy[j]`` lateral coordinate of j (bent by the curvature),
    ``rgap[j]`` j's bumper-to-bumper gap when j is ahead and inside the corridor, else
    ``NO_GAP``. The caller excludes itself; :func:`_pick_leader` applies the crossing rule."""
    for j in range(n_ag):
        dxw = x[j] - xi
        dyw = y[j] - yi
        dx = dxw * ci + dyw * si
        dy = -dxw * si + dyw * ci - hk * dx * dx
        acd = abs(ci * c[j] + si * s[j])
        asd = abs(ci * s[j] - si * c[j])
        half = hwi + 0.5 * (length[j] * asd + width[j] * acd)
        gap = dx - hli - 0.5 * (length[j] * acd + width[j] * asd)
        inside = (abs(dy) <= half) | (abs(dy - shift) <= half)
        rdx[j] = dx
        rdy[j] = dy
        rgap[j] = gap if (dx > 0.0) & inside else NO_GAP


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _frame_row(x, y, n_ag, xi, yi, ci, si, hk, rdx, rdy):
    """Every agent in a path frame (point (xi, yi), tangent (ci, si), curvature 2 ``hk``):
    longitudinal ``rdx`` and lateral ``rdy`` [m], as in :func:`_leader_row`."""
    for j in range(n_ag):
        dxw = x[j] - xi
        dyw = y[j] - yi
        dx = dxw * ci + dyw * si
        rdx[j] = dx
        rdy[j] = -dxw * si + dyw * ci - hk * dx * dx


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _pick_leader(rdx, rdy, rgap, n_ag, c, s, v, length, width, ci, si, hwi, vi):
    """The leader of a filled :func:`_leader_row` as the all-pairs scan picks it in ascending j:
    the first smallest gap, skipping any j more than 20 m beyond the best gap so far and
    crossing traffic that clears the corridor before we arrive. Only for scenes where that
    skip can matter (half an agent's length plus another's bounding radius over 20 m); the
    others take :func:`_rank_min`. Returns (j, gap), (-1, BIG) if none."""
    while True:
        best_gap = BIG
        best_j = -1
        for j in range(n_ag):
            g = rgap[j]
            if g < best_gap and rdx[j] <= best_gap + 20.0:
                best_gap = g
                best_j = j
        if best_j < 0:
            return -1, BIG
        # crossing traffic that clears the corridor before we arrive is not a leader
        gap = best_gap
        if gap <= 0.0:
            return best_j, gap
        acd = abs(ci * c[best_j] + si * s[best_j])
        sdj = ci * s[best_j] - si * c[best_j]
        vy = v[best_j] * sdj
        if abs(vy) <= 0.5:
            return best_j, gap
        dy = rdy[best_j]
        half = hwi + 0.5 * (length[best_j] * abs(sdj) + width[best_j] * acd)
        t_clear = (half + (dy if vy < 0.0 else -dy)) / abs(vy)
        if t_clear < gap / max(vi, 0.1):
            rgap[best_j] = NO_GAP  # not a leader: look for the next one
            continue
        return best_j, gap


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _rank_key(j, dxw, dyw, ci, si, hk, cj, sj, lj, wj, hwi, hli, shift):
    """Rank key of agent j (offset (dxw, dyw) [m], heading (cj, sj), length ``lj``, width
    ``wj``) in a leader frame - tangent (ci, si), curvature 2 ``hk``, corridor half-width
    ``hwi``, half-length ``hli``, lane change ``shift`` [m] -, and whether j is a candidate
    there (ahead, inside the corridor): :func:`_leader_row`'s test, the gap quantised to
    ``RANK_RES_M`` with j in the low ``RANK_SLOTS``."""
    dx = dxw * ci + dyw * si
    dy = -dxw * si + dyw * ci - hk * dx * dx
    acd = abs(ci * cj + si * sj)
    asd = abs(ci * sj - si * cj)
    half = hwi + 0.5 * (lj * asd + wj * acd)
    gap = dx - hli - 0.5 * (lj * acd + wj * asd)
    inside = (abs(dy) <= half) | (abs(dy - shift) <= half)
    key = np.int64((gap + RANK_SPAN_M) * (1.0 / RANK_RES_M)) * RANK_SLOTS + j
    return key, (dx > 0.0) & inside


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _rank_min(i, excl, x, y, c, s, length, width, n_ag, xi, yi, ci, si, hk, hwi, hli, shift, above):
    """Smallest leader rank key above ``above``: :func:`_leader_row`'s test for every j, each
    candidate's gap quantised to ``RANK_RES_M`` with its j in the low slots, so that one
    integer minimum finds the smallest gap and, among equal ones, the first j (no row to
    store and pick from). ``RANK_NONE`` when no candidate is left.

    The kernel calls it only for the next key after a rejected winner: the first key of
    every agent comes from :func:`_rank_all`, which gives the same keys
    (``tests/world/test_leader.py``)."""
    best = RANK_NONE
    for j in range(n_ag):
        key, cand = _rank_key(
            j, x[j] - xi, y[j] - yi, ci, si, hk, c[j], s[j], length[j], width[j], hwi, hli, shift
        )
        ok = cand & (j != i) & (j != excl) & (key > above)
        best = min(best, key if ok else RANK_NONE)
    return best


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _rank_all(x, y, c, s, length, width, n_ag, fc, fs, kap, d_to, d_now, hw, hl, excl, keys):
    """:func:`_rank_min` (``above`` = -1) of every agent at once: ``keys[i]`` is agent i's
    smallest rank key in its path frame (point (x[i], y[i]), tangent (fc[i], fs[i]),
    curvature ``kap[i]``, corridor half-width ``hw[i]``, half-length ``hl[i]``, the lane
    change shift ``d_to[i] - d_now[i]``), never itself or ``excl[i]``.

    The loops run j outside and i inside, so that the inner loop vectorises over the agents
    being ranked with j's values broadcast: no per-agent set-up and horizontal minimum. The
    kernel's rows are padded to a multiple of 8 (the vector width) with NaN points, whose keys
    come out ``RANK_NONE``: no scalar remainder loop runs whatever the agent count."""
    n_rows = fc.shape[0]
    for i in range(n_rows):
        keys[i] = RANK_NONE
    for j in range(n_ag):
        xj = x[j]
        yj = y[j]
        cj = c[j]
        sj = s[j]
        lj = length[j]
        wj = width[j]
        for i in range(n_rows):
            key, cand = _rank_key(
                j, xj - x[i], yj - y[i], fc[i], fs[i], 0.5 * kap[i], cj, sj, lj, wj, hw[i], hl[i],
                d_to[i] - d_now[i],
            )  # fmt: skip
            ok = cand & (j != i) & (j != excl[i])
            k0 = keys[i]
            keys[i] = min(k0, key if ok else RANK_NONE)


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _lead_rows(
    x, y, c, s, v, length, width, fc, fs, kap, hw, hl, static, point, keys, n_rows, lead_gap,
    lead_v, lead_open,
):  # fmt: skip
    """The first step of :func:`_find_leader` for every row at once, branch-free (no
    mispredicted branches; the loads by index keep LLVM from vectorising it): the winner of
    row i's rank key ``keys[i]`` (:func:`_rank_all`) in i's path frame (point (x[i], y[i]),
    tangent (fc[i], fs[i]), curvature ``kap[i]``, corridor half-width ``hw[i]``, half-length
    ``hl[i]``) with its exact gap and the crossing rule. ``lead_gap[i]`` [m] and ``lead_v[i]``
    (the winner's speed along i's path [m/s]); BIG and 0 when there is no candidate or i is
    static or a point agent (no car-following). ``lead_open[i]`` = 1 where the winner is
    crossing traffic that clears the corridor before i arrives: no leader, and
    :func:`_find_leader` must search on from the next key. Returns the number of such rows."""
    n_open = 0
    for i in range(n_rows):
        key = keys[i]
        j = key & (RANK_SLOTS - 1)  # (RANK_NONE: 0, a valid index; not used)
        ci = fc[i]
        si = fs[i]
        dxw = x[j] - x[i]
        dyw = y[j] - y[i]
        dx = dxw * ci + dyw * si
        cd = ci * c[j] + si * s[j]
        sdj = ci * s[j] - si * c[j]
        acd = abs(cd)
        asd = abs(sdj)
        gap = dx - hl[i] - 0.5 * (length[j] * acd + width[j] * asd)
        vy = v[j] * sdj
        dy = -dxw * si + dyw * ci - 0.5 * kap[i] * dx * dx
        half = hw[i] + 0.5 * (length[j] * asd + width[j] * acd)
        avy = abs(vy)
        t_clear = (half + (dy if vy < 0.0 else -dy)) / max(avy, 0.5)  # (avy > 0.5 counts)
        crossing = (gap > 0.0) & (avy > 0.5) & (t_clear < gap / max(v[i], 0.1))
        none = (key == RANK_NONE) | static[i] | point[i]
        lead_gap[i] = BIG if none else gap
        lead_v[i] = 0.0 if none else v[j] * cd
        lead_open[i] = 0 if none | (not crossing) else 1
        n_open += lead_open[i]
    return n_open


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _find_leader(
    i,
    excl,
    x,
    y,
    c,
    s,
    v,
    length,
    width,
    xi,
    yi,
    ci,
    si,
    hk,
    shift,
    exact_skip,
    first,
    rdx,
    rdy,
    rgap,
):
    """Leader of agent ``i`` (never itself or ``excl``): the nearest box ahead in its corridor,
    in the frame of its point (xi, yi), path tangent (ci, si), curvature 2 ``hk``, the corridor
    around the path and ``shift`` [m] beside it (a lane change under way). Returns (j, gap [m])
    or (-1, BIG).

    ``first`` is i's smallest rank key (:func:`_rank_all`: gaps to 1e-5 m, first j among equal
    ones); its j gets the exact gap and the crossing rule, as in the plain all-pairs scan, and a
    rejected j gives way to the next key (:func:`_rank_min`). The choice is that scan's except
    between gaps within 1e-5 m (tests/world/test_leader.py).
    When the scan's 20 m skip can matter (``exact_skip`` False) the rows ``rdx``/``rdy``/``rgap``
    and the scan's order are used instead (:func:`_pick_leader`)."""
    n_ag = length.shape[0]  # (the kernel's rows x, y, ... are padded beyond it)
    hwi = 0.5 * width[i] + CORRIDOR_MARGIN_M
    hli = 0.5 * length[i]
    if not exact_skip:
        _leader_row(
            x, y, c, s, length, width, n_ag, xi, yi, ci, si, hk, hwi, hli, shift, rdx, rdy, rgap
        )
        rgap[i] = NO_GAP
        if excl >= 0:
            rgap[excl] = NO_GAP
        return _pick_leader(rdx, rdy, rgap, n_ag, c, s, v, length, width, ci, si, hwi, v[i])
    above = first  # the smallest key (_rank_all)
    while True:
        if above == RANK_NONE:
            return -1, BIG
        j = above & (RANK_SLOTS - 1)  # (keys are >= 0)
        dxw = x[j] - xi
        dyw = y[j] - yi
        dx = dxw * ci + dyw * si
        acd = abs(ci * c[j] + si * s[j])
        sdj = ci * s[j] - si * c[j]
        asd = abs(sdj)
        gap = dx - hli - 0.5 * (length[j] * acd + width[j] * asd)
        if gap <= 0.0:
            return j, gap
        # crossing traffic that clears the corridor before we arrive is not a leader
        vy = v[j] * sdj
        if abs(vy) <= 0.5:
            return j, gap
        dy = -dxw * si + dyw * ci - hk * dx * dx
        half = hwi + 0.5 * (length[j] * asd + width[j] * acd)
        t_clear = (half + (dy if vy < 0.0 else -dy)) / abs(vy)
        if t_clear < gap / max(v[i], 0.1):  # not a leader: the next rank
            above = _rank_min(
                i, excl, x, y, c, s, length, width, n_ag, xi, yi, ci, si, hk, hwi, hli, shift, above
            )
            continue
        return j, gap


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _mobil(
    w,
    i,
    vd,
    a_cur,
    ci,
    si,
    lane_now,
    lane_lo,
    lane_hi,
    lane_w,
    d_now,
    c,
    s,
    v,
    length,
    width,
    static,
    vdes,
    amax,
    p_b,
    p_t,
    p_s0,
    rdx,
    rdy,
    mlead,
    mfol,
):
    """MOBIL lane-change decision of background agent ``i`` (politeness 0): -1, +1 or 0.

    ``rdx``/``rdy``: every agent in the path frame of ``i`` (tangent (ci, si), :func:`_frame_row`);
    ``a_cur``: its current IDM acceleration (the caller has checked that a free road would gain
    more than ``MOBIL_GAIN`` over it). For each neighbour lane the new leader and follower
    are the nearest boxes ahead / behind inside that lane's corridor (a branch-free
    row, then the first smallest gap, as an ascending scan picks); the change needs gaps >= 1 m,
    a follower braking no harder than ``MOBIL_BSAFE`` and a gain > ``MOBIL_GAIN`` (a small
    keep-right bias)."""
    n_ag = length.shape[0]  # (the kernel's rows v, ... are padded beyond it)
    best_gain = MOBIL_GAIN
    best_dir = 0
    hli = 0.5 * length[i]
    hwi = 0.5 * width[i] + CORRIDOR_MARGIN_M
    for dirn in (-1, 1):
        nk = lane_now + dirn
        if nk < lane_lo or nk > lane_hi:
            continue
        shift = nk * lane_w - d_now
        for j in range(n_ag):  # candidates of the target lane, branch-free
            cd = ci * c[j] + si * s[j]
            sd = ci * s[j] - si * c[j]
            half = hwi + 0.5 * (length[j] * abs(sd) + width[j] * abs(cd))
            ext = 0.5 * (length[j] * abs(cd) + width[j] * abs(sd))
            ok = (abs(rdy[j] - shift) <= half) & (j != i)
            dx = rdx[j]
            mlead[j] = dx - hli - ext if ok & (dx > 0.0) else NO_GAP
            mfol[j] = -dx - hli - ext if ok & (dx <= 0.0) else NO_GAP
        lg = BIG
        jl = -1
        fg = BIG
        fj = -1
        for j in range(n_ag):
            if mlead[j] < lg:
                lg = mlead[j]
                jl = j
            if mfol[j] < fg:
                fg = mfol[j]
                fj = j
        if lg < 1.0 or fg < 1.0:
            continue
        lv = 0.0
        if jl >= 0:
            lv = v[jl] * (ci * c[jl] + si * s[jl])
        if fj >= 0 and not static[fj]:
            a_f = _idm(
                v[fj],
                max(vdes[fj], 0.2),
                fg,
                v[i],
                max(amax[fj], 0.5),
                p_b[w, fj],
                p_t[w, fj],
                p_s0[w, fj],
            )
            if a_f < -MOBIL_BSAFE:
                continue
        a_new = _idm(v[i], vd, lg, lv, amax[i], p_b[w, i], p_t[w, i], p_s0[w, i])
        gain = a_new - a_cur - (0.1 if dirn > 0 else 0.0)  # keep-right bias
        if gain > best_gain:
            best_gain = gain
            best_dir = dirn
    return best_dir


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _boxes_overlap(
    xi: float,
    yi: float,
    ci: float,
    si: float,
    li: float,
    wi: float,
    xj: float,
    yj: float,
    cj: float,
    sj: float,
    lj: float,
    wj: float,
) -> bool:
    """Separating-axis test of two oriented rectangles (centre, heading cos/sin, length, width)."""
    dx = xj - xi
    dy = yj - yi
    hli, hwi, hlj, hwj = 0.5 * li, 0.5 * wi, 0.5 * lj, 0.5 * wj
    # axes of box i
    cd = abs(ci * cj + si * sj)
    sd = abs(ci * sj - si * cj)
    if abs(dx * ci + dy * si) > hli + hlj * cd + hwj * sd:
        return False
    if abs(-dx * si + dy * ci) > hwi + hlj * sd + hwj * cd:
        return False
    # axes of box j
    if abs(dx * cj + dy * sj) > hlj + hli * cd + hwi * sd:
        return False
    return not abs(-dx * sj + dy * cj) > hwj + hli * sd + hwi * cd


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _lateral_road(
    x: float, y: float, radius: float, ox: float, oy: float, hx: float, hy: float
) -> float:
    """Signed lateral coordinate t [m] of a point w.r.t. a straight (radius 0) or arc road."""
    if radius == 0.0:
        return -(x - ox) * hy + (y - oy) * hx
    d = math.sqrt(x * x + (y - radius) * (y - radius))
    return radius - d if radius > 0 else radius + d


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _record_checks(
    w: int,
    t: int,
    x,
    y,
    c,
    s,
    px,
    py,
    rad32,
    radius,
    length,
    width,
    static,
    offroad_kind,
    n_ag: int,
    radius0: float,
    lo0: float,
    hi0: float,
    has_j: bool,
    j_ox: float,
    j_oy: float,
    j_hx: float,
    j_hy: float,
    lo1: float,
    hi1: float,
    collision,
    ego_coll,
    first_coll,
    offroad,
) -> None:
    # collisions: every pair with at least one mover. Per agent one branch-free row of
    # bounding-circle tests against all later agents, in float32 with circles grown by
    # COLL_MARGIN_M (one vector per row; it never misses a pair the float64 test keeps), then
    # the float64 circles and separating axes only for a row that has a candidate (rare)
    n_rows = px.shape[0]
    for i in range(n_ag - 1):
        near = 0
        for b in range((i + 1) // LANES * LANES, n_rows, LANES):
            bits = _near_bits(px, py, rad32, b, px[i], py[i], rad32[i])
            if b <= i:
                bits &= ~((2 << (i - b)) - 1)
            near |= bits
        if near == 0:
            continue
        xi = x[i]
        yi = y[i]
        ri = radius[i]
        sti = static[i]
        for j in range(i + 1, n_ag):
            dx = x[j] - xi
            dy = y[j] - yi
            rr = ri + radius[j]
            if dx * dx + dy * dy > rr * rr or (sti and static[j]):
                continue
            if _boxes_overlap(
                xi, yi, c[i], s[i], length[i], width[i], x[j], y[j], c[j], s[j], length[j], width[j]
            ):
                collision[w] = True
                if first_coll[w] < 0:
                    first_coll[w] = t
                if i == 0:
                    ego_coll[w] = True
    # off-road: any corner of a vehicle box beyond the carriageway by more than the tolerance
    for i in range(n_ag):
        if not offroad_kind[i] or offroad[w, i]:
            continue
        tc = _lateral_road(x[i], y[i], radius0, 0.0, 0.0, 1.0, 0.0)
        if (lo0 + radius[i]) <= tc <= (hi0 - radius[i]):  # whole bounding circle inside
            continue
        hl = 0.5 * length[i]
        hw = 0.5 * width[i]
        for k in range(4):
            sl = 1.0 if k < 2 else -1.0
            sw = 1.0 if (k % 2) == 0 else -1.0
            px = x[i] + sl * hl * c[i] - sw * hw * s[i]
            py = y[i] + sl * hl * s[i] + sw * hw * c[i]
            t0 = _lateral_road(px, py, radius0, 0.0, 0.0, 1.0, 0.0)
            inside = (lo0 - OFFROAD_TOL_M) <= t0 <= (hi0 + OFFROAD_TOL_M)
            if not inside and has_j:
                t1 = _lateral_road(px, py, 0.0, j_ox, j_oy, j_hx, j_hy)
                inside = (lo1 - OFFROAD_TOL_M) <= t1 <= (hi1 + OFFROAD_TOL_M)
            if not inside:
                offroad[w, i] = True
                break


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, parallel=True)
def rollout_kernel(
    # agents [A]
    kind,
    role,
    length,
    width,
    static,
    offroad_kind,
    kmax,
    alat_max,
    x0,
    y0,
    yaw0,
    v0_init,
    idx0,
    d0,
    stop_s,
    light_idx,
    hold_s,
    end_s,
    ignore_red,
    mobil_ok,
    lane_lo,
    lane_hi,
    # paths [P, N, 8] records x, y, tx, ty, curvature, speed cap (agents on the same path share
    # it: path_id [A])
    path_id,
    path,
    path_n,
    path_ds,
    # manoeuvres [M] and their per-world samples [W, M]
    man_agent,
    man_kind,
    trig_kind,
    trig_val,
    man_speed,
    man_accel,
    man_doff,
    man_dur,
    # per-world behaviour [W, A]
    p_v0,
    p_a,
    p_b,
    p_t,
    p_s0,
    p_lag,  # reaction lag factor per step: min(1, dt / tau)
    # ego plan [W, T-1] / [W]
    plan_has_acc,
    plan_acc,
    plan_has_lc,
    plan_lc_off,
    plan_lc_t0,
    plan_lc_dur,
    # lights [L, T]
    light_state,
    # scene scalars
    mu_g,
    dt,
    n_t,
    lane_w,
    radius0,
    lo0,
    hi0,
    has_j,
    j_ox,
    j_oy,
    j_hx,
    j_hy,
    lo1,
    hi1,
    # outputs
    out_x,
    out_y,
    out_yaw,
    out_v,
    out_a,
    collision,
    ego_coll,
    first_coll,
    offroad,
    min_ttc,
    fired_step,
    comfort_out,
    physics_out,
    reason_out,
    progress_out,
):
    n_w = p_v0.shape[0]
    n_ag = kind.shape[0]
    n_m = man_agent.shape[0]
    radius = 0.5 * np.sqrt(length * length + width * width)
    r_max = radius.max() if n_ag > 0 else 0.0
    inv_ds = 1.0 / path_ds
    point = (kind == K_PED) | (kind == K_ANIMAL)  # point model, no car-following
    follows = (role == R_EGO) | (role == R_BACKGROUND)  # IDM through the reaction lag
    # the all-pairs leader scan's "20 m beyond the best gap" skip never changes its choice
    exact_skip = n_ag == 0 or 0.5 * length.max() + r_max <= 20.0
    # per-agent rows are padded to a multiple of the vector width (_rank_all)
    n_pad = (n_ag + 7) // 8 * 8
    # the branch-free control passes run over the padded rows (no scalar remainder) once there
    # are enough agents to fill a vector; below that the scalar loop is cheaper (and the
    # integrator and leader search run only their scalar passes)
    wide = n_ag >= 8
    n_vec = n_pad if wide else n_ag
    hw_c = np.zeros(n_pad)  # leader corridor half-width [m]
    hl_c = np.zeros(n_pad)  # half-length [m]
    excl_c = np.full(n_pad, -1, np.int64)  # hazard actors never follow the ego
    for i in range(n_ag):
        hw_c[i] = 0.5 * width[i] + CORRIDOR_MARGIN_M
        hl_c[i] = 0.5 * length[i]
        excl_c[i] = 0 if role[i] == R_HAZARD else -1
    # what the vectorised control passes read of the agents, padded as well (the padding is
    # static: its lanes compute values nobody reads)
    cb = np.zeros((6, n_pad))
    ds_c, stop_c, hold_c, end_c, kmax_c, alat_c = cb[0], cb[1], cb[2], cb[3], cb[4], cb[5]
    cib = np.ones((4, n_pad), np.bool_)
    static_c, point_c, follows_c, ego_c = cib[0], cib[1], cib[2], cib[3]
    for i in range(n_ag):
        ds_c[i] = path_ds[i]
        stop_c[i] = stop_s[i]
        hold_c[i] = hold_s[i]
        end_c[i] = end_s[i]
        kmax_c[i] = kmax[i]
        alat_c[i] = alat_max[i]
        static_c[i] = static[i]
        point_c[i] = point[i]
        follows_c[i] = follows[i]
        ego_c[i] = role[i] == R_EGO
    flat_x = out_x.reshape(-1)
    flat_y = out_y.reshape(-1)
    flat_yaw = out_yaw.reshape(-1)
    flat_v = out_v.reshape(-1)
    flat_a = out_a.reshape(-1)
    for w in prange(n_w):
        # one float block and one int block per world (few allocations), rows as views
        fb = np.zeros((33, n_pad))
        x, y, yaw, v, acc, c, s, kap = fb[0], fb[1], fb[2], fb[3], fb[4], fb[5], fb[6], fb[7]
        d_now, d_from, d_to, lc_t0, lc_dur = fb[8], fb[9], fb[10], fb[11], fb[12]
        vdes, amax, brake_acc, cmd_a, cmd_k = fb[13], fb[14], fb[15], fb[16], fb[17]
        # per-step results of one control pass read by the next: the leader's gap [m] and
        # speed [m/s] (1), the desired speed [m/s] and IDM acceleration [m/s²] (2)
        lead_gap, lead_v, vd_now, a_idm_row = fb[18], fb[19], fb[20], fb[21]
        # the path tangent (fc, fs), point (kx, ky) and speed cap [m/s] at each agent's
        # projection idx; pure pursuit's target point [m]
        fc, fs, kx, ky, vcap = fb[22], fb[23], fb[24], fb[25], fb[26]
        aim_x, aim_y = fb[27], fb[28]
        # this world's behaviour parameters (IDM b [m/s²], T [s], s0 [m], reaction lag factor)
        b_w, t_w, s0_w, lag_w = fb[29], fb[30], fb[31], fb[32]
        row = np.empty((5, n_ag))  # leader row of the agent being controlled, MOBIL rows
        rdx, rdy, rgap, mlead, mfol = row[0], row[1], row[2], row[3], row[4]
        f32b = np.full((3, (n_ag + LANES - 1) // LANES * LANES), np.nan, np.float32)
        px, py, rad32 = f32b[0], f32b[1], f32b[2]
        for i in range(n_ag):
            rad32[i] = radius[i] + COLL_MARGIN_M
        ib = np.zeros((8, n_pad), np.int64)
        light_now = ib[6]
        lead_open = ib[7]  # 1: the winner of the agent's rank key was rejected (pass (1))
        agm = np.empty((5, n_ag, n_t), np.float32)  # x, y, yaw, v, a per agent and step
        idx, lane_k, brake_on, hold_on, mob_phase = ib[0], ib[1], ib[2], ib[3], ib[4]
        lead_key = ib[5]  # smallest leader rank key per agent (_rank_all)
        for i in range(n_ag):
            x[i] = x0[i]
            y[i] = y0[i]
            yaw[i] = yaw0[i]
            v[i] = v0_init[i]
            acc[i] = 0.0
            c[i] = math.cos(yaw0[i])
            s[i] = math.sin(yaw0[i])
            kap[i] = 0.0
            kx[i] = path[path_id[i], idx0[i], 0]
            ky[i] = path[path_id[i], idx0[i], 1]
            fc[i] = path[path_id[i], idx0[i], 2]
            fs[i] = path[path_id[i], idx0[i], 3]
            vcap[i] = path[path_id[i], idx0[i], 5]
            d_now[i] = d0[i]
            d_from[i] = d0[i]
            d_to[i] = d0[i]
            lc_t0[i] = -BIG
            lc_dur[i] = 1.0
            vdes[i] = p_v0[w, i]
            amax[i] = p_a[w, i]
            b_w[i] = p_b[w, i]
            t_w[i] = p_t[w, i]
            s0_w[i] = p_s0[w, i]
            lag_w[i] = p_lag[w, i]
            brake_acc[i] = 0.0
            idx[i] = idx0[i]
            hold_on[i] = 1 if hold_s[i] < BIG * 0.5 else 0
            mob_phase[i] = i % 10  # MOBIL runs once per second, staggered by agent
        for i in range(n_ag, n_pad):  # padding: NaN points never rank as leaders
            x[i] = np.nan
            y[i] = np.nan
        fired = np.zeros(n_m, np.bool_)
        mttc = BIG
        if plan_has_lc[w]:
            d_to[0] = plan_lc_off[w]
            lc_t0[0] = plan_lc_t0[w]
            lc_dur[0] = plan_lc_dur[w]
        for t in range(n_t):
            time = t * dt
            phase = t % 10
            # ---------------------------------------------------------- record state
            for i in range(n_ag):
                agm[0, i, t] = x[i]
                agm[1, i, t] = y[i]
                agm[2, i, t] = yaw[i]
                agm[3, i, t] = v[i]
            xr = x[0]
            yr = y[0]
            for i in range(n_ag):
                px[i] = x[i] - xr
                py[i] = y[i] - yr
            _record_checks(
                w,
                t,
                x,
                y,
                c,
                s,
                px,
                py,
                rad32,
                radius,
                length,
                width,
                static,
                offroad_kind,
                n_ag,
                radius0,
                lo0,
                hi0,
                has_j,
                j_ox,
                j_oy,
                j_hx,
                j_hy,
                lo1,
                hi1,
                collision,
                ego_coll,
                first_coll,
                offroad,
            )
            # ---------------------------------------------------------- path projection
            for i in range(n_ag):
                if static[i]:
                    continue
                pid = path_id[i]
                k = idx[i]
                nmax = path_n[i] - 2
                # jump most of the way (the points are ds apart, the chord is never longer
                # than the arc; point and tangent of the last projection are kept in rows),
                # then walk: the walks below end at the same segment
                ahead = (x[i] - kx[i]) * fc[i] + (y[i] - ky[i]) * fs[i]
                jump = int(ahead * inv_ds[i])
                if jump > 0:
                    k = min(k + jump, nmax)
                while k < nmax:
                    ex = x[i] - path[pid, k + 1, 0]
                    ey = y[i] - path[pid, k + 1, 1]
                    if ex * path[pid, k + 1, 2] + ey * path[pid, k + 1, 3] > 0.0:
                        k += 1
                    else:
                        break
                pkx = path[pid, k, 0]
                pky = path[pid, k, 1]
                ptx = path[pid, k, 2]
                pty = path[pid, k, 3]
                while k > 0 and (x[i] - pkx) * ptx + (y[i] - pky) * pty < 0.0:
                    k -= 1
                    pkx = path[pid, k, 0]
                    pky = path[pid, k, 1]
                    ptx = path[pid, k, 2]
                    pty = path[pid, k, 3]
                idx[i] = k
                kx[i] = pkx
                ky[i] = pky
                fc[i] = ptx
                fs[i] = pty
                kap[i] = path[pid, k, 4]
                vcap[i] = path[pid, k, 5]
                d_now[i] = -(x[i] - pkx) * pty + (y[i] - pky) * ptx
            # ---------------------------------------------------------- ego min TTC
            # gap / closing speed in the ego frame, counted when the other box is (or, moving
            # at constant velocity, will be at contact time) inside the ego's lateral corridor
            for j in range(1, n_ag):
                dxw = x[j] - x[0]
                dyw = y[j] - y[0]
                dx = dxw * c[0] + dyw * s[0]
                if dx <= 0.0:
                    continue
                dy = -dxw * s[0] + dyw * c[0] - 0.5 * kap[0] * dx * dx
                cd = c[0] * c[j] + s[0] * s[j]
                sd = c[0] * s[j] - s[0] * c[j]
                ext_lon = 0.5 * (length[j] * abs(cd) + width[j] * abs(sd))
                ext_lat = 0.5 * (length[j] * abs(sd) + width[j] * abs(cd))
                gap = dx - 0.5 * length[0] - ext_lon
                vrx = v[j] * cd - v[0]
                vry = v[j] * sd
                half = 0.5 * width[0] + ext_lat
                if gap <= 0.0:
                    if abs(dy) <= half:
                        mttc = 0.0
                    continue
                if vrx >= -0.01:
                    continue
                tau = gap / -vrx
                if abs(dy + vry * tau) <= half and tau < mttc:
                    mttc = tau
            # ---------------------------------------------------------- triggers
            for m in range(n_m):
                if fired[m]:
                    continue
                i = man_agent[m]
                tk = trig_kind[m]
                val = trig_val[w, m]
                go = False
                if tk == T_TIME:
                    go = time >= val
                elif tk == T_DISTANCE:
                    ddx = x[i] - x[0]
                    ddy = y[i] - y[0]
                    go = math.sqrt(ddx * ddx + ddy * ddy) <= val
                else:
                    ddx = x[i] - x[0]
                    ddy = y[i] - y[0]
                    dx = ddx * c[0] + ddy * s[0]
                    if dx > 0.0:
                        cd = c[0] * c[i] + s[0] * s[i]
                        sd = c[0] * s[i] - s[0] * c[i]
                        ext_lon = 0.5 * (length[i] * abs(cd) + width[i] * abs(sd))
                        gap = max(0.0, dx - 0.5 * length[0] - ext_lon)
                        closing = max(v[0] - v[i] * cd, 0.1)
                        go = gap / closing <= val
                if not go:
                    continue
                fired[m] = True
                fired_step[w, m] = t
                mk = man_kind[m]
                if man_speed[w, m] >= 0.0:
                    vdes[i] = man_speed[w, m]
                if mk == M_BRAKE:
                    brake_on[i] = 1
                    brake_acc[i] = man_accel[w, m] if man_accel[w, m] < 0.0 else -4.0
                    if man_speed[w, m] < 0.0:
                        vdes[i] = 0.0
                elif man_accel[w, m] > 0.0:
                    amax[i] = man_accel[w, m]
                if mk == M_LANE_CHANGE:
                    d_from[i] = d_now[i]
                    d_to[i] = man_doff[m]
                    lc_t0[i] = time
                    lc_dur[i] = man_dur[m]
                elif mk in (M_TURN, M_CROSS, M_RUN_RED):
                    hold_on[i] = 0
            if t == n_t - 1:  # the last recorded state: its controls would act after the end
                for i in range(n_ag):
                    agm[4, i, t] = acc[i]  # (0 for a static agent)
                break
            # ---------------------------------------------------------- controls
            # (0) every agent's smallest leader rank key, all at once (vectorised)
            if exact_skip:
                _rank_all(
                    x, y, c, s, length, width, n_ag, fc, fs, kap, d_to, d_now, hw_c, hl_c, excl_c, lead_key
                )  # fmt: skip
            # (1) the leader of every agent, the nearest box ahead in its corridor (gap [m], its
            #     speed along our path [m/s]). The corridor is in the path frame (tangent at the
            #     projection): it follows the lane even while the agent is yawed by a lane
            #     change. The winner of each rank key first, branch-free over the rows
            #     (:func:`_lead_rows`); a winner that is crossing traffic clearing the corridor
            #     before we arrive is no leader, and only those agents (rare) search on in the
            #     scalar pass after it, as do all when the ranking is not used
            n_open = n_ag
            rows = exact_skip and wide  # (below 8 agents the scalar search is cheaper)
            if rows:
                n_open = _lead_rows(
                    x, y, c, s, v, length, width, fc, fs, kap, hw_c, hl_c, static_c, point_c,
                    lead_key, n_vec, lead_gap, lead_v, lead_open,
                )  # fmt: skip
            for i in range(n_ag if n_open > 0 else 0):
                if rows and lead_open[i] == 0:
                    continue
                lead_gap[i] = BIG
                lead_v[i] = 0.0
                if static[i] or point[i]:
                    continue
                # corridor in the path frame (tangent at the projection): it follows the lane
                # even while the agent is yawed by a lane change
                ci, si = fc[i], fs[i]
                best_j, best_gap = _find_leader(
                    i,
                    0 if role[i] == R_HAZARD else -1,
                    x,
                    y,
                    c,
                    s,
                    v,
                    length,
                    width,
                    x[i],
                    y[i],
                    ci,
                    si,
                    0.5 * kap[i],
                    d_to[i] - d_now[i],
                    exact_skip,
                    lead_key[i],
                    rdx,
                    rdy,
                    rgap,
                )
                if best_j >= 0:
                    lead_gap[i] = best_gap
                    lead_v[i] = v[best_j] * (ci * c[best_j] + si * s[best_j])
            # (2) longitudinal command of every agent, branch-free (the loop vectorises; with 8+
            #     agents it runs over the padded rows, so no scalar remainder): virtual stopped leaders - the
            #     stop line of a red light (or of a yellow one too late to stop for), a hold
            #     point -, the path end of crossing agents as a plain kinematic stop, the
            #     desired speed capped by the path's; then ego and background IDM through the
            #     reaction lag (or the ego's plan), hazard actors track their script speed and
            #     brake only for a leader
            for i in range(n_ag):  # each agent's light: 0 green (or none, or ignored), 1, 2 red
                li = light_idx[i]
                light_now[i] = light_state[li, t] if li >= 0 and not ignore_red[i] else 0
            plan_a = plan_acc[w, min(t, plan_acc.shape[1] - 1)]
            use_plan = plan_has_acc[w]
            for i in range(n_vec):
                vi = v[i]
                s_here = idx[i] * ds_c[i] + (x[i] - kx[i]) * fc[i] + (y[i] - ky[i]) * fs[i]
                s_front = s_here + hl_c[i]
                gap = lead_gap[i]
                vl = lead_v[i]
                st = light_now[i]
                dist = stop_c[i] - s_front
                red = (st == 2) | ((st == 1) & (dist > vi * vi / (2.0 * 3.0)))
                take = (s_front < stop_c[i]) & red & (dist < gap)
                gap = dist if take else gap
                vl = 0.0 if take else vl
                dist = hold_c[i] - s_front
                take = (hold_on[i] != 0) & (s_front < hold_c[i] + 0.5) & (dist < gap)
                gap = max(dist, 0.0) if take else gap
                vl = 0.0 if take else vl
                dist = end_c[i] - s_here - 0.3
                a_st = -vi * vi / (2.0 * max(dist, 0.05))
                end = (end_c[i] < BIG * 0.5) & (dist < vi * vi / (2.0 * 1.5) + 0.2)
                a_st = a_st if end else BIG
                vd = vdes[i]
                vc = vcap[i]
                vd = vc if (vc < vd) & (not point_c[i]) else vd
                sti = static_c[i]
                gap = BIG if sti else gap
                vl = 0.0 if sti else vl
                vd = 0.0 if sti else vd
                a_st = BIG if sti else a_st
                vd_now[i] = vd
                ai = amax[i]
                bi = b_w[i]
                haz = not follows_c[i]
                a_idm = _idm(
                    vi,
                    max(vd, 0.2) if haz else vd,
                    gap,
                    vl,
                    max(ai, 0.5) if haz else ai,
                    bi,
                    t_w[i],
                    s0_w[i],
                )
                a_idm_row[i] = a_idm
                a_follow = acc[i] + (a_idm - acc[i]) * lag_w[i]
                a_track = 2.0 * (vd - vi)
                a_track = ai if a_track > ai else a_track
                a_track = -bi if a_track < -bi else a_track
                a_track = brake_acc[i] if (brake_on[i] != 0) & (vi > vd + 0.05) else a_track
                if gap < 0.5 * BIG:
                    a_track = a_idm if a_idm < a_track else a_track
                a_cmd = a_track if haz else a_follow
                a_cmd = plan_a if use_plan & ego_c[i] else a_cmd
                a_cmd = a_st if a_st < a_cmd else a_cmd
                a_cmd = mu_g if a_cmd > mu_g else a_cmd
                a_cmd = -mu_g if a_cmd < -mu_g else a_cmd
                a_cmd = -vi / dt if vi + a_cmd * dt < 0.0 else a_cmd
                cmd_a[i] = 0.0 if sti else a_cmd
            # (3) MOBIL lane changes (background, once per second, staggered), scalar: the
            #     current acceleration is the IDM term of (2). IDM never exceeds its free-road
            #     term, so no lane can gain more than that over it: nothing to search when
            #     even a free road is not worth a change
            for i in range(n_ag):
                if not (
                    role[i] == R_BACKGROUND
                    and mobil_ok[i]
                    and not static[i]
                    and mob_phase[i] == phase
                    and v[i] > 2.0
                    and time > lc_t0[i] + lc_dur[i]
                ):
                    continue
                vd = vd_now[i]
                a_cur = a_idm_row[i]
                a_free = _idm(v[i], vd, BIG, 0.0, amax[i], b_w[i], t_w[i], s0_w[i])
                if a_free - a_cur > MOBIL_GAIN:
                    xi, yi, ci, si = x[i], y[i], fc[i], fs[i]
                    hk = 0.5 * kap[i]
                    _frame_row(x, y, n_ag, xi, yi, ci, si, hk, rdx, rdy)
                    best_dir = _mobil(
                        w,
                        i,
                        vd,
                        a_cur,
                        ci,
                        si,
                        lane_k[i],
                        lane_lo[i],
                        lane_hi[i],
                        lane_w,
                        d_now[i],
                        c,
                        s,
                        v,
                        length,
                        width,
                        static,
                        vdes,
                        amax,
                        p_b,
                        p_t,
                        p_s0,
                        rdx,
                        rdy,
                        mlead,
                        mfol,
                    )
                    if best_dir != 0:
                        lane_k[i] += best_dir
                        d_from[i] = d_now[i]
                        d_to[i] = lane_k[i] * lane_w
                        lc_t0[i] = time
                        lc_dur[i] = MOBIL_LC_S
            # (4) lateral: pure pursuit on the offset path. A scalar pass looks up each agent's
            #     target point (path records, the rare lane change), then one branch-free
            #     pass (vectorises) turns it into a clamped curvature
            for i in range(n_ag):
                vv = max(v[i], 0.0)
                ld = 1.5 if point[i] else min(25.0, max(4.0, 0.9 * vv + 2.0))
                pid = path_id[i]
                kk = min(idx[i] + int(ld * inv_ds[i]) + 1, path_n[i] - 1)
                if time > lc_t0[i] + lc_dur[i]:
                    off = d_to[i]  # no lane change under way: hold the target offset
                else:
                    u = (time + ld / max(vv, 1.0) - lc_t0[i]) / lc_dur[i]
                    off = d_from[i] + (d_to[i] - d_from[i]) * _smoothstep(u)
                aim_x[i] = path[pid, kk, 0] - path[pid, kk, 3] * off
                aim_y[i] = path[pid, kk, 1] + path[pid, kk, 2] * off
            for i in range(n_vec):
                vv = max(v[i], 0.0)
                tx = aim_x[i] - x[i]
                ty = aim_y[i] - y[i]
                lx = tx * c[i] + ty * s[i]
                ly = -tx * s[i] + ty * c[i]
                l2 = lx * lx + ly * ly
                curv = 2.0 * ly / l2 if l2 > 1e-6 else 0.0
                km = kmax_c[i]
                curv = (km if ly >= 0 else -km) if lx < 0.05 else curv
                vm = vv + 0.5 * cmd_a[i] * dt
                vm2 = vm * vm
                al = alat_c[i]
                kl = min(km, al / vm2) if abs(curv) * vm2 > al else km  # lateral-accel limit
                curv = kl if curv > kl else curv
                curv = -kl if curv < -kl else curv
                cmd_k[i] = 0.0 if static_c[i] else curv
            # ---------------------------------------------------------- integrate
            # with 8+ agents branch-free over the rows (vectorises): (cos, sin) rotated by a
            # Taylor series, no trig per step; a turn of 0.05 rad or more in one step (rare)
            # keeps the row unchanged there and is integrated with trig by the scalar pass
            # after it, which integrates every agent when there are fewer than 8
            turn = 0 if wide else n_ag  # (below 8 agents: the scalar pass only)
            for i in range(n_vec if wide else 0):
                vi = v[i]
                a_i = cmd_a[i]
                v_new = vi + a_i * dt
                stop = v_new < 0.0
                a_i = -vi / dt if stop else a_i
                v_new = 0.0 if stop else v_new
                vm = 0.5 * (vi + v_new)
                dyaw = vm * cmd_k[i] * dt
                h = 0.5 * dyaw
                ch = 1.0 - 0.5 * h * h
                sh = h - h * h * h / 6.0
                cm = c[i] * ch - s[i] * sh
                sm = s[i] * ch + c[i] * sh
                c2 = cm * ch - sm * sh
                s2 = sm * ch + cm * sh
                nrm = 1.5 - 0.5 * (c2 * c2 + s2 * s2)
                keep = static_c[i] | (abs(dyaw) >= 0.05)
                turn += 0 if static_c[i] | (abs(dyaw) < 0.05) else 1
                x[i] = x[i] if keep else x[i] + vm * cm * dt
                y[i] = y[i] if keep else y[i] + vm * sm * dt
                yaw[i] = yaw[i] if keep else yaw[i] + dyaw
                v[i] = v[i] if keep else v_new
                acc[i] = acc[i] if keep else a_i
                c[i] = c[i] if keep else c2 * nrm
                s[i] = s[i] if keep else s2 * nrm
            for i in range(n_ag if turn > 0 else 0):
                if static[i]:
                    continue
                a_i = cmd_a[i]
                v_new = v[i] + a_i * dt
                if v_new < 0.0:
                    v_new = 0.0
                    a_i = -v[i] / dt
                vm = 0.5 * (v[i] + v_new)
                dyaw = vm * cmd_k[i] * dt
                if abs(dyaw) < 0.05 and wide:
                    continue  # (done by the branch-free pass)
                yaw[i] += dyaw
                v[i] = v_new
                acc[i] = a_i
                if abs(dyaw) < 0.05:  # the same rotation as the branch-free pass
                    h = 0.5 * dyaw
                    ch = 1.0 - 0.5 * h * h
                    sh = h - h * h * h / 6.0
                    cm = c[i] * ch - s[i] * sh
                    sm = s[i] * ch + c[i] * sh
                    x[i] += vm * cm * dt
                    y[i] += vm * sm * dt
                    c2 = cm * ch - sm * sh
                    s2 = sm * ch + cm * sh
                    nrm = 1.5 - 0.5 * (c2 * c2 + s2 * s2)
                    c[i] = c2 * nrm
                    s[i] = s2 * nrm
                else:
                    ym = yaw[i] - 0.5 * dyaw
                    x[i] += vm * math.cos(ym) * dt
                    y[i] += vm * math.sin(ym) * dt
                    c[i] = math.cos(yaw[i])
                    s[i] = math.sin(yaw[i])
            for i in range(n_ag):
                agm[4, i, t] = acc[i]
        min_ttc[w] = mttc
        # the checks read the world's agent-major block while it is in cache; streaming
        # stores then copy it to the [W, A, T] outputs (below)
        # ego progress [m]: path length of its recorded (float32) trajectory
        prog = 0.0
        for t in range(n_t - 1):
            ddx = np.float64(agm[0, 0, t + 1]) - np.float64(agm[0, 0, t])
            ddy = np.float64(agm[1, 0, t + 1]) - np.float64(agm[1, 0, t])
            prog += math.sqrt(ddx * ddx + ddy * ddy)
        progress_out[w] = prog
        # comfort / physics from the recorded float32 trajectories
        _checks_world(
            w,
            0,
            agm[0:1],
            agm[1:2],
            agm[2:3],
            agm[3:4],
            agm[4:5],
            kind,
            role,
            mu_g,
            dt,
            comfort_out,
            physics_out,
            reason_out,
        )
        base = w * n_ag * n_t
        _stream_copy(agm[0].reshape(-1), flat_x, base)
        _stream_copy(agm[1].reshape(-1), flat_y, base)
        _stream_copy(agm[2].reshape(-1), flat_yaw, base)
        _stream_copy(agm[3].reshape(-1), flat_v, base)
        _stream_copy(agm[4].reshape(-1), flat_a, base)


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _checks_world(
    w, wi, xs, ys, yaws, vs, accs, kind, role, mu_g, dt, comfort_out, physics_out, reason_out
):
    """Comfort (nuPlan bounds, ego+background) and physics bounds (all agents) of world ``w``
    from its recorded (float32) trajectories, ``xs[wi]`` ... ``accs[wi]`` [A, T] (the kernel
    passes the world's own block as ``wi`` = 0): ``comfort_out[w, a]``,
    ``physics_out[w, a]`` and ``reason_out[w, a]``, the code of the first physics violation
    (1 accel, 2 lateral accel, 3 speed, 4 teleport, 5 non-finite; 0 none).

    Per agent one branch-free pass over the steps (it vectorises) answers both questions;
    only an agent that breaks a physics bound - a bug, never a sample - is replayed by
    :func:`_checks_agent`, the step-by-step definition, for the code of its first violation."""
    n_ag = xs.shape[1]
    n_t = xs.shape[2]
    for i in range(n_ag):
        vmax, vehicle, check_comfort = _agent_bounds(kind[i], role[i])
        a_lim = 1.02 * mu_g + 0.05
        lat_lim = 1.05 * mu_g + 0.1
        bad = False
        harsh = False
        for t in range(n_t - 1):
            v0 = vs[wi, i, t]
            v1 = vs[wi, i, t + 1]
            x1 = xs[wi, i, t + 1]
            y1 = ys[wi, i, t + 1]
            yw1 = yaws[wi, i, t + 1]
            finite = math.isfinite(x1) & math.isfinite(y1) & math.isfinite(v1)
            finite = finite & math.isfinite(yw1)
            a_fd = (v1 - v0) / dt
            yr = _wrap_pi(yw1 - yaws[wi, i, t]) / dt
            a_lat = 0.5 * (v0 + v1) * yr
            ddx = x1 - xs[wi, i, t]
            ddy = y1 - ys[wi, i, t]
            dist = math.sqrt(ddx * ddx + ddy * ddy)
            bad |= (
                (not finite)
                | (abs(a_fd) > a_lim)
                | (vehicle & (abs(a_lat) > lat_lim))
                | (v1 > vmax)
                | (v1 < -1e-3)
                | (dist > max(v0, v1) * dt * 1.02 + 0.01)
            )
            # 3-step differences: a light smoothing, like nuPlan's filtered signals
            tp = max(t, 3)
            yr_prev = _wrap_pi(yaws[wi, i, tp] - yaws[wi, i, tp - 1]) / dt
            jerk = (accs[wi, i, tp] - accs[wi, i, tp - 3]) / (3.0 * dt)
            harsh |= (a_fd < -4.05) | (a_fd > 2.40) | (abs(a_lat) > 4.89) | (abs(yr) > 0.95)
            harsh |= (t >= 3) & ((abs(jerk) > 4.13) | (abs((yr - yr_prev) / dt) > 1.93))
        if bad:
            _checks_agent(
                w,
                wi,
                i,
                xs,
                ys,
                yaws,
                vs,
                accs,
                kind,
                role,
                mu_g,
                dt,
                comfort_out,
                physics_out,
                reason_out,
            )
            continue
        comfort_out[w, i] = check_comfort & harsh
        physics_out[w, i] = False
        reason_out[w, i] = 0


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _wrap_pi(a):
    """An angle difference [rad] brought into [-pi, pi] (one wrap: steps are small)."""
    if a > math.pi:
        return a - 2.0 * math.pi
    if a < -math.pi:
        return a + 2.0 * math.pi
    return a


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _agent_bounds(kd, rl):
    """(speed limit [m/s] of the kind, whether its lateral acceleration is bounded by
    friction - vehicles -, whether comfort applies - ego and background)."""
    vmax = 70.0
    if kd == K_TRUCK:
        vmax = 45.0
    elif kd == K_CYCLIST:
        vmax = 20.0
    elif kd == K_PED:
        vmax = 12.0
    elif kd == K_ANIMAL:
        vmax = 25.0
    vehicle = kd in (K_CAR, K_TRUCK, K_CYCLIST)
    return vmax, vehicle, rl in (R_EGO, R_BACKGROUND)


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _checks_agent(
    w, wi, i, xs, ys, yaws, vs, accs, kind, role, mu_g, dt, comfort_out, physics_out, reason_out
):
    """The comfort and physics checks of agent ``i`` in world ``w`` (trajectories at ``wi``,
    as in :func:`_checks_world`), step by step: the
    definition :func:`_checks_world` follows, and the code of the first physics violation."""
    n_t = xs.shape[2]
    vmax, vehicle, check_comfort = _agent_bounds(kind[i], role[i])
    a_lim = 1.02 * mu_g + 0.05
    comfort = False
    phys = 0
    prev_yr = 0.0
    for t in range(n_t - 1):
        v0 = vs[wi, i, t]
        v1 = vs[wi, i, t + 1]
        if not (
            math.isfinite(xs[wi, i, t + 1])
            and math.isfinite(ys[wi, i, t + 1])
            and math.isfinite(v1)
            and math.isfinite(yaws[wi, i, t + 1])
        ):
            if phys == 0:  # (an earlier violation keeps its code)
                phys = 5
            break
        a_fd = (v1 - v0) / dt
        yr = _wrap_pi(yaws[wi, i, t + 1] - yaws[wi, i, t]) / dt
        vm = 0.5 * (v0 + v1)
        a_lat = vm * yr
        ddx = xs[wi, i, t + 1] - xs[wi, i, t]
        ddy = ys[wi, i, t + 1] - ys[wi, i, t]
        dist = math.sqrt(ddx * ddx + ddy * ddy)
        if phys == 0:
            if abs(a_fd) > a_lim:
                phys = 1
            elif vehicle and abs(a_lat) > 1.05 * mu_g + 0.1:
                phys = 2
            elif v1 > vmax or v1 < -1e-3:
                phys = 3
            elif dist > max(v0, v1) * dt * 1.02 + 0.01:
                phys = 4
        if check_comfort and not comfort:
            if a_fd < -4.05 or a_fd > 2.40 or abs(a_lat) > 4.89 or abs(yr) > 0.95:
                comfort = True
            elif t >= 3:
                # 3-step differences: a light smoothing, like nuPlan's filtered signals
                jerk = (accs[wi, i, t] - accs[wi, i, t - 3]) / (3.0 * dt)
                yacc = (yr - prev_yr) / dt
                if abs(jerk) > 4.13 or abs(yacc) > 1.93:
                    comfort = True
        prev_yr = yr
    comfort_out[w, i] = comfort
    physics_out[w, i] = phys > 0
    reason_out[w, i] = phys
