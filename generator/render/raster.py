"""Numba kernels: z-buffered rasterisation of the ground, boxes and map lines for many frames.

Conventions: pixel (row i, column j) is covered by a primitive when its centre (j + 0.5, i + 0.5)
lies inside the primitive's projection. Depth is camera-frame z [m] (inf for sky). The ground is
flat (z = 0): a pixel's ground point is where its ray meets z = 0, looked up in the per-road
top-down raster (:mod:`generator.render.groundmap`). Solids (agent boxes, poles, light housings)
are convex boxes given by 8 corners (order of :func:`generator.render.camera.box_corners`);
their camera-facing faces are clipped to the near plane and filled with perspective-correct
depth (1/z is affine in screen space). Per-clip kernels take a frame range (see :mod:`generator.render.frames`).
"""

from __future__ import annotations

import numba as nb
import numpy as np

#: box faces as corner-index quads (any winding; culling uses the outward normal)
FACES = np.array(
    [[0, 1, 5, 4], [2, 3, 7, 6], [3, 0, 4, 7], [1, 2, 6, 5], [4, 5, 6, 7], [0, 3, 2, 1]],
    dtype=np.int64,
)
SKY_CODE = 255  # ground-code value written for sky pixels in the ground-code buffer
SOLID_CODE = 254  # ... and for pixels covered by a solid


@nb.njit(cache=True, inline="always")
def _clip_near(px, py, pz, n, near, ox, oy, oz):  # type: ignore[no-untyped-def]
    """Clip polygon (px,py,pz)[:n] to z >= near into (ox,oy,oz); returns vertex count."""
    m = 0
    for i in range(n):
        j = (i + 1) % n
        ina = pz[i] >= near
        inb = pz[j] >= near
        if ina:
            ox[m] = px[i]
            oy[m] = py[i]
            oz[m] = pz[i]
            m += 1
        if ina != inb:
            t = (near - pz[i]) / (pz[j] - pz[i])
            ox[m] = px[i] + t * (px[j] - px[i])
            oy[m] = py[i] + t * (py[j] - py[i])
            oz[m] = near
            m += 1
    return m


@nb.njit(cache=True)
def _fill_tri(  # type: ignore[no-untyped-def]
    u0, v0, w0, u1, v1, w1, u2, v2, w2, depth, sem, inst, gcode, sem_id, inst_id
):
    """Fill one screen triangle (w = 1/z) with a z-test.

    Returns the number of pixels the triangle covers, occluded or not: the camera-facing faces
    of a convex box tile its silhouette, so their sum is the box's unoccluded pixel count."""
    h, w = depth.shape
    area = (u1 - u0) * (v2 - v0) - (u2 - u0) * (v1 - v0)
    if area == 0.0:
        return 0
    inv = 1.0 / area
    j0 = max(int(np.floor(min(u0, u1, u2) - 0.5)), 0)
    j1 = min(int(np.ceil(max(u0, u1, u2) - 0.5)), w - 1)
    i0 = max(int(np.floor(min(v0, v1, v2) - 0.5)), 0)
    i1 = min(int(np.ceil(max(v0, v1, v2) - 0.5)), h - 1)
    newly = 0
    for i in range(i0, i1 + 1):
        py = i + 0.5
        for j in range(j0, j1 + 1):
            px = j + 0.5
            b0 = ((u1 - px) * (v2 - py) - (u2 - px) * (v1 - py)) * inv
            b1 = ((u2 - px) * (v0 - py) - (u0 - px) * (v2 - py)) * inv
            b2 = 1.0 - b0 - b1
            if b0 < 0.0 or b1 < 0.0 or b2 < 0.0:
                continue
            newly += 1
            z = 1.0 / (b0 * w0 + b1 * w1 + b2 * w2)
            if z < depth[i, j]:
                depth[i, j] = z
                sem[i, j] = sem_id
                inst[i, j] = inst_id
                gcode[i, j] = SOLID_CODE
    return newly


@nb.njit(cache=True)
def _render_one(  # type: ignore[no-untyped-def]
    r,
    c,
    fx,
    cx,
    cy,
    far_m,
    near_m,
    grid,
    gx0,
    gy0,
    gres,
    sem_lut,
    hd_lut,
    corners,
    inst_ids,
    sem_ids,
    n_dynamic,
    depth,
    sem,
    inst,
    gcode,
    hd,
    cover,
    bbox,
):
    h, w = depth.shape
    grows, gcols = grid.shape
    inv_res = 1.0 / gres
    # ---- ground / sky: ray through each pixel centre meets z = 0 at depth t (camera z) ----
    # World direction of the camera ray (a, b, 1) is a * R[0] + b * R[1] + R[2] (rows of R).
    # For a roll-free camera R[0, 2] == 0: t is constant along a row and the ground point is
    # linear in the column, so a row costs one division.
    inv_fx = 1.0 / fx
    roll_free = abs(r[0, 2]) < 1e-12
    for i in range(h):
        b = (i + 0.5 - cy) * inv_fx
        dx0 = r[1, 0] * b + r[2, 0]
        dy0 = r[1, 1] * b + r[2, 1]
        dz0 = r[1, 2] * b + r[2, 2]
        if roll_free:
            t = -c[2] / dz0 if dz0 < -1e-9 else np.inf
            if t > far_m:
                for j in range(w):
                    depth[i, j] = np.inf
                    sem[i, j] = 1  # sky
                    inst[i, j] = 0
                    gcode[i, j] = SKY_CODE
                    hd[i, j, 0] = 0
                    hd[i, j, 1] = 0
                    hd[i, j, 2] = 0
                continue
            a0 = (0.5 - cx) * inv_fx
            fc = (c[0] + t * (r[0, 0] * a0 + dx0) - gx0) * inv_res
            fr = (c[1] + t * (r[0, 1] * a0 + dy0) - gy0) * inv_res
            dfc = t * r[0, 0] * inv_fx * inv_res
            dfr = t * r[0, 1] * inv_fx * inv_res
            tf = np.float32(t)
            for j in range(w):
                code = 0
                if 0.0 <= fc < gcols and 0.0 <= fr < grows:
                    code = grid[int(fr), int(fc)]
                fc += dfc
                fr += dfr
                depth[i, j] = tf
                sem[i, j] = sem_lut[code]
                inst[i, j] = 0
                gcode[i, j] = code
                hd[i, j, 0] = hd_lut[code, 0]
                hd[i, j, 1] = hd_lut[code, 1]
                hd[i, j, 2] = hd_lut[code, 2]
            continue
        for j in range(w):
            a = (j + 0.5 - cx) * inv_fx
            dz = r[0, 2] * a + dz0
            t = -c[2] / dz if dz < -1e-9 else np.inf
            if t > far_m:
                depth[i, j] = np.inf
                sem[i, j] = 1  # sky
                inst[i, j] = 0
                gcode[i, j] = SKY_CODE
                hd[i, j, 0] = 0
                hd[i, j, 1] = 0
                hd[i, j, 2] = 0
                continue
            fc = (c[0] + t * (r[0, 0] * a + dx0) - gx0) * inv_res
            fr = (c[1] + t * (r[0, 1] * a + dy0) - gy0) * inv_res
            code = 0
            if 0.0 <= fc < gcols and 0.0 <= fr < grows:
                code = grid[int(fr), int(fc)]
            depth[i, j] = t
            sem[i, j] = sem_lut[code]
            inst[i, j] = 0
            gcode[i, j] = code
            hd[i, j, 0] = hd_lut[code, 0]
            hd[i, j, 1] = hd_lut[code, 1]
            hd[i, j, 2] = hd_lut[code, 2]
    # ---- solids ----
    nb_ = corners.shape[0]
    px = np.empty(4)
    py = np.empty(4)
    pz = np.empty(4)
    ox = np.empty(8)
    oy = np.empty(8)
    oz = np.empty(8)
    cam = np.empty((8, 3))
    for k in range(nb_):
        cover[k] = 0
        bbox[k, 0] = np.inf
        bbox[k, 1] = np.inf
        bbox[k, 2] = -np.inf
        bbox[k, 3] = -np.inf
        cxm = 0.0
        cym = 0.0
        czm = 0.0
        for q in range(8):
            for e in range(3):
                cam[q, e] = (
                    r[e, 0] * (corners[k, q, 0] - c[0])
                    + r[e, 1] * (corners[k, q, 1] - c[1])
                    + r[e, 2] * (corners[k, q, 2] - c[2])
                )
            cxm += cam[q, 0] / 8
            cym += cam[q, 1] / 8
            czm += cam[q, 2] / 8
        # cull: a box wholly behind the near plane covers nothing (every face would clip
        # away); a static solid (k >= n_dynamic, whose bbox no label reads) wholly beyond one
        # side of the view frustum neither
        zmin = cam[0, 2]
        zmax = cam[0, 2]
        for q in range(1, 8):
            zmin = min(zmin, cam[q, 2])
            zmax = max(zmax, cam[q, 2])
        if zmax < near_m:
            continue
        if k >= n_dynamic and zmin >= near_m:
            left = True
            right = True
            up = True
            down = True
            for q in range(8):
                zq = cam[q, 2]
                left = left and fx * cam[q, 0] < -cx * zq
                right = right and fx * cam[q, 0] > (w - cx) * zq
                up = up and fx * cam[q, 1] < -cy * zq
                down = down and fx * cam[q, 1] > (h - cy) * zq
            if left or right or up or down:
                continue
        for f in range(6):
            fcx = 0.0
            fcy = 0.0
            fcz = 0.0
            for q in range(4):
                idx = FACES[f, q]
                px[q] = cam[idx, 0]
                py[q] = cam[idx, 1]
                pz[q] = cam[idx, 2]
                fcx += px[q] / 4
                fcy += py[q] / 4
                fcz += pz[q] / 4
            m = _clip_near(px, py, pz, 4, near_m, ox, oy, oz)
            if m < 3:
                continue
            for q in range(m):
                uu = fx * ox[q] / oz[q] + cx
                vv = fx * oy[q] / oz[q] + cy
                bbox[k, 0] = min(bbox[k, 0], uu)
                bbox[k, 1] = min(bbox[k, 1], vv)
                bbox[k, 2] = max(bbox[k, 2], uu)
                bbox[k, 3] = max(bbox[k, 3], vv)
                ox[q] = uu
                oy[q] = vv
                oz[q] = 1.0 / oz[q]
            # outward normal n = (face centre - box centre); camera at origin sees the face when
            # the face plane's outward side contains the origin: n . (0 - face point) > 0
            nx = fcx - cxm
            ny = fcy - cym
            nz = fcz - czm
            if nx * fcx + ny * fcy + nz * fcz >= 0.0:
                continue
            for q in range(1, m - 1):
                cover[k] += _fill_tri(
                    ox[0],
                    oy[0],
                    oz[0],
                    ox[q],
                    oy[q],
                    oz[q],
                    ox[q + 1],
                    oy[q + 1],
                    oz[q + 1],
                    depth,
                    sem,
                    inst,
                    gcode,
                    sem_ids[k],
                    inst_ids[k],
                )


@nb.njit(nogil=True, cache=True)
def render_frames(  # type: ignore[no-untyped-def]
    t0,
    t1,
    rot,
    cen,
    fx,
    cx,
    cy,
    far_m,
    near_m,
    grid,
    gx0,
    gy0,
    gres,
    sem_lut,
    hd_lut,
    corners,
    inst_ids,
    sem_ids,
    n_dynamic,
    depth,
    sem,
    inst,
    gcode,
    hd,
    cover,
    visible,
    bbox,
):
    """Render T frames. rot [T,3,3] world->camera rotation, cen [T,3] camera centre (world);
    corners [T,N,8,3] (the first n_dynamic are agents, the rest static solids); outputs depth/sem/inst/gcode [T,H,W], hd [T,H,W,3] (ground fill only),
    cover [T,N] unoccluded pixel counts, visible [T,M] pixel count per instance id, bbox [T,N,4]
    (u0, v0, u1, v1 of the near-clipped projection; inf when fully behind the camera)."""
    h = depth.shape[1]
    w = depth.shape[2]
    for t in range(t0, t1):
        _render_one(
            rot[t],
            cen[t],
            fx,
            cx,
            cy,
            far_m,
            near_m,
            grid,
            gx0,
            gy0,
            gres,
            sem_lut,
            hd_lut,
            corners[t],
            inst_ids,
            sem_ids,
            n_dynamic,
            depth[t],
            sem[t],
            inst[t],
            gcode[t],
            hd[t],
            cover[t],
            bbox[t],
        )
        # instance pixels lie inside the agents' projected boxes: count only in their union
        m = visible.shape[1]
        u0 = np.inf
        v0 = np.inf
        u1 = -np.inf
        v1 = -np.inf
        for k in range(min(n_dynamic, bbox.shape[1])):
            u0 = min(u0, bbox[t, k, 0])
            v0 = min(v0, bbox[t, k, 1])
            u1 = max(u1, bbox[t, k, 2])
            v1 = max(v1, bbox[t, k, 3])
        if u1 < u0:
            continue
        i0 = max(int(np.floor(max(v0, -1.0))) - 1, 0)
        i1 = min(int(np.ceil(min(v1, h + 1.0))) + 1, h)
        j0 = max(int(np.floor(max(u0, -1.0))) - 1, 0)
        j1 = min(int(np.ceil(min(u1, w + 1.0))) + 1, w)
        for i in range(i0, i1):
            for j in range(j0, j1):
                v = inst[t, i, j]
                if 0 < v < m:
                    visible[t, v] += 1


# ------------------------------------------------------------------------- image-space drawing
@nb.njit(cache=True)
def fill_convex_rows(img, us, vs, n, col):  # type: ignore[no-untyped-def]
    """Fill a (convex or simple) polygon given in pixels, even-odd rule, pixel centres."""
    h, w = img.shape[0], img.shape[1]
    vmin = vs[0]
    vmax = vs[0]
    for q in range(1, n):
        vmin = min(vmin, vs[q])
        vmax = max(vmax, vs[q])
    i0 = max(int(np.ceil(vmin - 0.5)), 0)
    i1 = min(int(np.floor(vmax - 0.5)), h - 1)
    xs = np.empty(n)
    for i in range(i0, i1 + 1):
        y = i + 0.5
        m = 0
        for q in range(n):
            a = q
            b = (q + 1) % n
            ya = vs[a]
            yb = vs[b]
            if (ya <= y < yb) or (yb <= y < ya):
                x = us[a] + (y - ya) / (yb - ya) * (us[b] - us[a])
                k = m  # insertion sort as we go (m is tiny): no per-row allocation
                while k > 0 and xs[k - 1] > x:
                    xs[k] = xs[k - 1]
                    k -= 1
                xs[k] = x
                m += 1
        if m < 2:
            continue
        for p in range(0, m - 1, 2):
            j0 = max(int(np.ceil(xs[p] - 0.5)), 0)
            j1 = min(int(np.ceil(xs[p + 1] - 0.5)) - 1, w - 1)
            for j in range(j0, j1 + 1):
                img[i, j, 0] = col[0]
                img[i, j, 1] = col[1]
                img[i, j, 2] = col[2]


@nb.njit(cache=True)
def draw_thick_segment(img, u0, v0, u1, v1, half_w, col):  # type: ignore[no-untyped-def]
    """Draw a segment of width 2*half_w px as a filled quad (no caps)."""
    _thick_segment(img, u0, v0, u1, v1, half_w, col, np.empty(4), np.empty(4))


@nb.njit(cache=True)
def _thick_segment(img, u0, v0, u1, v1, half_w, col, us, vs):  # type: ignore[no-untyped-def]
    du = u1 - u0
    dv = v1 - v0
    ln = np.sqrt(du * du + dv * dv)
    if ln < 1e-9:
        us[0] = u0 - half_w
        us[1] = u0 + half_w
        us[2] = u0 + half_w
        us[3] = u0 - half_w
        vs[0] = v0 - half_w
        vs[1] = v0 - half_w
        vs[2] = v0 + half_w
        vs[3] = v0 + half_w
    else:
        nu = -dv / ln * half_w
        nv = du / ln * half_w
        us[0] = u0 + nu
        vs[0] = v0 + nv
        us[1] = u1 + nu
        vs[1] = v1 + nv
        us[2] = u1 - nu
        vs[2] = v1 - nv
        us[3] = u0 - nu
        vs[3] = v0 - nv
    fill_convex_rows(img, us, vs, 4, col)


@nb.njit(cache=True)
def _cam_point(r, c, p):  # type: ignore[no-untyped-def]
    out = np.empty(3)
    for e in range(3):
        out[e] = r[e, 0] * (p[0] - c[0]) + r[e, 1] * (p[1] - c[1]) + r[e, 2] * (p[2] - c[2])
    return out


@nb.njit(cache=True, inline="always")
def _cam_xyz(r, c, p):  # type: ignore[no-untyped-def]
    """Camera-frame coordinates of world point p, as scalars (no allocation)."""
    dx = p[0] - c[0]
    dy = p[1] - c[1]
    dz = p[2] - c[2]
    return (
        r[0, 0] * dx + r[0, 1] * dy + r[0, 2] * dz,
        r[1, 0] * dx + r[1, 1] * dy + r[1, 2] * dz,
        r[2, 0] * dx + r[2, 1] * dy + r[2, 2] * dz,
    )


@nb.njit(cache=True)
def _draw_world_segment(img, r, c, fx, cx, cy, near_m, far_m, a, b, half_w, col, us, vs):  # type: ignore[no-untyped-def]
    """us, vs: scratch arrays of 4 for the quad."""
    h, w = img.shape[0], img.shape[1]
    ax, ay, az = _cam_xyz(r, c, a)
    bx, by, bz = _cam_xyz(r, c, b)
    if az < near_m and bz < near_m:
        return
    if az > far_m and bz > far_m:
        return
    if az < near_m:
        t = (near_m - az) / (bz - az)
        ax, ay, az = ax + t * (bx - ax), ay + t * (by - ay), az + t * (bz - az)
    elif bz < near_m:
        t = (near_m - bz) / (az - bz)
        bx, by, bz = bx + t * (ax - bx), by + t * (ay - by), bz + t * (az - bz)
    u0 = fx * ax / az + cx
    v0 = fx * ay / az + cy
    u1 = fx * bx / bz + cx
    v1 = fx * by / bz + cy
    if max(u0, u1) < -half_w or min(u0, u1) > w + half_w:
        return
    if max(v0, v1) < -half_w or min(v0, v1) > h + half_w:
        return
    _thick_segment(img, u0, v0, u1, v1, half_w, col, us, vs)


@nb.njit(nogil=True, cache=True)
def draw_hdmap_frames(  # type: ignore[no-untyped-def]
    t0,
    t1,
    hd,
    rot,
    cen,
    fx,
    cx,
    cy,
    near_m,
    far_m,
    seg_a,
    seg_b,
    seg_col,
    seg_halfw,
    poly_pts,
    poly_start,
    poly_col,
    box_corners,
    box_order,
    box_col,
    box_halfw,
):
    """Overlay map segments, then vertical map polygons (lights, signs), then box edges.

    seg_a/seg_b [S,3] world endpoints, seg_col [S,3] uint8, seg_halfw [S] px; poly_pts [P,3]
    with poly_start [G+1] offsets and poly_col [G,3]; box_corners [T,N,8,3], box_order [T,N]
    (far to near), box_col [T,N,3] uint8 (already depth-faded)."""
    edges = np.array(
        [
            [0, 1],
            [1, 2],
            [2, 3],
            [3, 0],
            [4, 5],
            [5, 6],
            [6, 7],
            [7, 4],
            [0, 4],
            [1, 5],
            [2, 6],
            [3, 7],
        ]
    )
    us = np.empty(4)
    vs = np.empty(4)
    for t in range(t0, t1):
        r = rot[t]
        c = cen[t]
        img = hd[t]
        for s in range(seg_a.shape[0]):
            _draw_world_segment(
                img,
                r,
                c,
                fx,
                cx,
                cy,
                near_m,
                far_m,
                seg_a[s],
                seg_b[s],
                seg_halfw[s],
                seg_col[s],
                us,
                vs,
            )
        for g in range(poly_start.shape[0] - 1):
            s0 = poly_start[g]
            n = poly_start[g + 1] - s0
            px = np.empty(n)
            py = np.empty(n)
            pz = np.empty(n)
            for q in range(n):
                p = _cam_point(r, c, poly_pts[s0 + q])
                px[q] = p[0]
                py[q] = p[1]
                pz[q] = p[2]
            ox = np.empty(2 * n)
            oy = np.empty(2 * n)
            oz = np.empty(2 * n)
            m = _clip_near(px, py, pz, n, near_m, ox, oy, oz)
            if m < 3:
                continue
            zmin = oz[:m].min()
            if zmin > far_m:
                continue
            pu = np.empty(m)
            pv = np.empty(m)
            for q in range(m):
                pu[q] = fx * ox[q] / oz[q] + cx
                pv[q] = fx * oy[q] / oz[q] + cy
            fill_convex_rows(img, pu, pv, m, poly_col[g])
        for kk in range(box_order.shape[1]):
            k = box_order[t, kk]
            if k < 0:
                continue
            for e in range(12):
                _draw_world_segment(
                    img,
                    r,
                    c,
                    fx,
                    cx,
                    cy,
                    near_m,
                    1e9,
                    box_corners[t, k, edges[e, 0]],
                    box_corners[t, k, edges[e, 1]],
                    box_halfw,
                    box_col[t, k],
                    us,
                    vs,
                )
