"""Compiled finite-volume kernels for advection–diffusion (plain arrays and scalars only).

Semi-discrete form on cell ``i`` along each active axis (see :mod:`pdekit.grid` for the metric):

    du_i/dt = -(A_{i+1/2} F_{i+1/2} - A_{i-1/2} F_{i-1/2}) / M_i + S_i,
    F_{f} = v_f^+ u^L_f + v_f^- u^R_f - D_f (u_R - u_L) / h_f,

with ``h_f`` the distance between the centres next to face ``f`` and ``u^L``, ``u^R`` the
reconstructed face values: first-order upwind (``u^L = u_L``) or MUSCL/TVD with slope limiter
``sigma = lim(s_-, s_+)`` of the one-sided slopes (minmod, van Leer, MC, superbee; on a uniform
grid identical to the flux-limiter form ``phi(r)`` of Sweby 1984).

Arrays are padded 3D (``(nvar, A, B, C)`` with ghost layers on active axes); one kernel call
performs a whole explicit stage ``out = a*u0 + b*(u + dt*L(u))`` (the Shu–Osher form of the
SSP Runge–Kutta methods) so that every stage is one pass over memory.
"""
import numba
import numpy as np

from ..boundary import fill_ghosts

UPWIND, MINMOD, VANLEER, MC, SUPERBEE = 0, 1, 2, 3, 4
LIMITERS = {"upwind": UPWIND, "minmod": MINMOD, "vanleer": VANLEER, "van-leer": VANLEER,
            "van_leer": VANLEER, "mc": MC, "superbee": SUPERBEE}
#: face flags: computed from ghosts, prescribed flux, dirichlet face value
FACE_GHOST, FACE_FLUX, FACE_DIRICHLET = 0, 1, 2


@numba.njit(cache=True, inline="always", error_model="numpy")
def limited_slope(sm, sp, limiter):
    """Limited slope from the left and right one-sided slopes (0 where they differ in sign)."""
    if sm * sp <= 0.0:
        return 0.0
    if limiter == MINMOD:
        return sm if abs(sm) < abs(sp) else sp
    elif limiter == VANLEER:
        return 2.0 * sm * sp / (sm + sp)
    elif limiter == MC:
        c = 0.5 * (sm + sp)
        m = 2.0 * sm if abs(2.0 * sm) < abs(2.0 * sp) else 2.0 * sp
        return c if abs(c) < abs(m) else m
    else:  # superbee
        a = sm if abs(sm) < abs(2.0 * sp) else 2.0 * sp
        b = 2.0 * sm if abs(2.0 * sm) < abs(sp) else sp
        return a if abs(a) > abs(b) else b


@numba.njit(cache=True, inline="always", error_model="numpy")
def face_flux(uLL, uL, uR, uRR, wLL, wL, wR, wRR, v, D, limiter):
    """Numerical flux through the face between cells L and R (widths w, values u)."""
    hf = 0.5 * (wL + wR)
    if limiter == UPWIND:
        fl = uL
        fr = uR
    else:
        s0 = (uR - uL) / hf
        fl = uL + 0.5 * wL * limited_slope((uL - uLL) / (0.5 * (wLL + wL)), s0, limiter)
        fr = uR - 0.5 * wR * limited_slope(s0, (uRR - uR) / (0.5 * (wR + wRR)), limiter)
    adv = v * fl if v > 0.0 else v * fr
    return adv - D * (uR - uL) / hf


@numba.njit(cache=True, inline="always", error_model="numpy")
def boundary_face_flux(flux, flag, bval, side, v, D, uL, uR, hf):
    """Apply a boundary condition at a boundary face (side 0 = lo, 1 = hi)."""
    if flag == FACE_FLUX:
        return bval if side == 0 else -bval
    elif flag == FACE_DIRICHLET:
        return v * bval - D * (uR - uL) / hf
    return flux


@numba.njit(cache=True, error_model="numpy")
def stage(u0, u, out, a, b, dt, g3, w0, w1, w2, ar0, ar1, ar2, im0, im1, im2,
          vel0, vel1, vel2, dif0, dif1, dif2, src, flags, bvals, limiter):
    """``out = a*u0 + b*(u + dt*L(u))`` on the interior; ``u`` must have its ghosts filled.

    ``w*``: padded cell widths per internal axis (length n+2g); ``ar*``: face areas (n+1);
    ``im*``: inverse cell measures (n); ``vel*``/``dif*``: face velocities/diffusivities per axis,
    shaped like that axis' faces (broadcast views allowed); ``src``: source (interior shape);
    ``flags``/``bvals``: (3, 2) boundary-face treatment and values.
    """
    nvar = u.shape[0]
    g0, g1, g2 = g3[0], g3[1], g3[2]
    nA = u.shape[1] - 2 * g0
    nB = u.shape[2] - 2 * g1
    nC = u.shape[3] - 2 * g2
    has_src = src.shape[0] == nA and src.shape[1] == nB and src.shape[2] == nC
    for var in range(nvar):
        for i in range(nA):
            I = i + g0
            for j in range(nB):
                J = j + g1
                for k in range(nC):
                    K = k + g2
                    uc = u[var, I, J, K]
                    rate = src[i, j, k] if has_src else 0.0
                    if g2 > 0:
                        # faces k (low) and k+1 (high) along the innermost axis
                        fm = face_flux(u[var, I, J, K - 2], u[var, I, J, K - 1], uc, u[var, I, J, K + 1],
                                       w2[K - 2], w2[K - 1], w2[K], w2[K + 1],
                                       vel2[i, j, k], dif2[i, j, k], limiter)
                        if k == 0:
                            fm = boundary_face_flux(fm, flags[2, 0], bvals[2, 0], 0, vel2[i, j, k], dif2[i, j, k],
                                                    u[var, I, J, K - 1], uc, 0.5 * (w2[K - 1] + w2[K]))
                        fp = face_flux(u[var, I, J, K - 1], uc, u[var, I, J, K + 1], u[var, I, J, K + 2],
                                       w2[K - 1], w2[K], w2[K + 1], w2[K + 2],
                                       vel2[i, j, k + 1], dif2[i, j, k + 1], limiter)
                        if k == nC - 1:
                            fp = boundary_face_flux(fp, flags[2, 1], bvals[2, 1], 1, vel2[i, j, k + 1],
                                                    dif2[i, j, k + 1], uc, u[var, I, J, K + 1],
                                                    0.5 * (w2[K] + w2[K + 1]))
                        rate -= (ar2[k + 1] * fp - ar2[k] * fm) * im2[k]
                    if g1 > 0:
                        fm = face_flux(u[var, I, J - 2, K], u[var, I, J - 1, K], uc, u[var, I, J + 1, K],
                                       w1[J - 2], w1[J - 1], w1[J], w1[J + 1],
                                       vel1[i, j, k], dif1[i, j, k], limiter)
                        if j == 0:
                            fm = boundary_face_flux(fm, flags[1, 0], bvals[1, 0], 0, vel1[i, j, k], dif1[i, j, k],
                                                    u[var, I, J - 1, K], uc, 0.5 * (w1[J - 1] + w1[J]))
                        fp = face_flux(u[var, I, J - 1, K], uc, u[var, I, J + 1, K], u[var, I, J + 2, K],
                                       w1[J - 1], w1[J], w1[J + 1], w1[J + 2],
                                       vel1[i, j + 1, k], dif1[i, j + 1, k], limiter)
                        if j == nB - 1:
                            fp = boundary_face_flux(fp, flags[1, 1], bvals[1, 1], 1, vel1[i, j + 1, k],
                                                    dif1[i, j + 1, k], uc, u[var, I, J + 1, K],
                                                    0.5 * (w1[J] + w1[J + 1]))
                        rate -= (ar1[j + 1] * fp - ar1[j] * fm) * im1[j]
                    if g0 > 0:
                        fm = face_flux(u[var, I - 2, J, K], u[var, I - 1, J, K], uc, u[var, I + 1, J, K],
                                       w0[I - 2], w0[I - 1], w0[I], w0[I + 1],
                                       vel0[i, j, k], dif0[i, j, k], limiter)
                        if i == 0:
                            fm = boundary_face_flux(fm, flags[0, 0], bvals[0, 0], 0, vel0[i, j, k], dif0[i, j, k],
                                                    u[var, I - 1, J, K], uc, 0.5 * (w0[I - 1] + w0[I]))
                        fp = face_flux(u[var, I - 1, J, K], uc, u[var, I + 1, J, K], u[var, I + 2, J, K],
                                       w0[I - 1], w0[I], w0[I + 1], w0[I + 2],
                                       vel0[i + 1, j, k], dif0[i + 1, j, k], limiter)
                        if i == nA - 1:
                            fp = boundary_face_flux(fp, flags[0, 1], bvals[0, 1], 1, vel0[i + 1, j, k],
                                                    dif0[i + 1, j, k], uc, u[var, I + 1, J, K],
                                                    0.5 * (w0[I] + w0[I + 1]))
                        rate -= (ar0[i + 1] * fp - ar0[i] * fm) * im0[i]
                    val = b * (uc + dt * rate)
                    if a != 0.0:
                        val += a * u0[var, I, J, K]
                    out[var, I, J, K] = val


@numba.njit(cache=True, error_model="numpy")
def advance_ssp(u, s1, s2, nsteps, dt, order, g3, codes, values, w0, w1, w2, ar0, ar1, ar2,
                im0, im1, im2, vel0, vel1, vel2, dif0, dif1, dif2, src, flags, bvals, limiter):
    """``nsteps`` steps of forward Euler (order 1), SSP-RK2 or SSP-RK3 (Shu & Osher 1988) in place.

    ``s1``, ``s2``: scratch arrays shaped like ``u``; buffers rotate instead of being copied.
    Ghosts are filled before every stage.
    """
    bufs = (u, s1, s2)
    c, p, q = 0, 1, 2  # current state, stage buffers
    for _ in range(nsteps):
        fill_ghosts(bufs[c], g3, codes, values)
        stage(bufs[c], bufs[c], bufs[p], 0.0, 1.0, dt, g3, w0, w1, w2, ar0, ar1, ar2, im0, im1, im2,
              vel0, vel1, vel2, dif0, dif1, dif2, src, flags, bvals, limiter)
        if order == 1:
            c, p = p, c
            continue
        fill_ghosts(bufs[p], g3, codes, values)
        a2, b2 = (0.5, 0.5) if order == 2 else (0.75, 0.25)
        stage(bufs[c], bufs[p], bufs[q], a2, b2, dt, g3, w0, w1, w2, ar0, ar1, ar2, im0, im1, im2,
              vel0, vel1, vel2, dif0, dif1, dif2, src, flags, bvals, limiter)
        if order == 2:
            c, q = q, c
            continue
        fill_ghosts(bufs[q], g3, codes, values)
        stage(bufs[c], bufs[q], bufs[p], 1.0 / 3.0, 2.0 / 3.0, dt, g3, w0, w1, w2, ar0, ar1, ar2, im0, im1, im2,
              vel0, vel1, vel2, dif0, dif1, dif2, src, flags, bvals, limiter)
        c, p = p, c
    if c != 0:
        copy_interior(bufs[c], u, g3)


@numba.njit(cache=True, error_model="numpy")
def copy_interior(src, dst, g3):
    g0, g1, g2 = g3[0], g3[1], g3[2]
    for var in range(src.shape[0]):
        for i in range(g0, src.shape[1] - g0):
            for j in range(g1, src.shape[2] - g1):
                for k in range(g2, src.shape[3] - g2):
                    dst[var, i, j, k] = src[var, i, j, k]


def numpy_rate(u, g3, w, ar, im, vel, dif, src, flags, bvals, limiter):
    """Plain-NumPy reference of ``L(u)`` (ghosts filled) for testing the compiled kernel.

    Same arguments as :func:`stage`, with the per-axis arrays given as 3-lists. Returns the rate
    on the interior, shape ``(nvar, nA, nB, nC)``.
    """
    nvar = u.shape[0]
    interior = tuple(slice(g, s - g) for g, s in zip(g3, u.shape[1:]))
    rate = np.broadcast_to(src, tuple(s - 2 * g for g, s in zip(g3, u.shape[1:]))).astype(float)
    rate = np.repeat(rate[None], nvar, axis=0)
    for d in range(3):
        g = g3[d]
        if g == 0:
            continue
        um = np.moveaxis(u, d + 1, 1)  # (nvar, n+2g, ...)
        # restrict the other axes to the interior
        other = [interior[e] for e in range(3) if e != d]
        um = um[:, :, other[0], other[1]]
        n = um.shape[1] - 2 * g
        wp = w[d]
        f_idx = np.arange(n + 1)  # face f between padded cells g+f-1 and g+f
        L = g + f_idx - 1
        R = g + f_idx
        uLL, uL, uR, uRR = um[:, L - 1], um[:, L], um[:, R], um[:, R + 1]
        sh = (1, n + 1, 1, 1)
        wLL, wL, wR, wRR = (wp[idx].reshape(sh) for idx in (L - 1, L, R, R + 1))
        hf = 0.5 * (wL + wR)
        if limiter == UPWIND:
            fl, fr = uL, uR
        else:
            s0 = (uR - uL) / hf
            fl = uL + 0.5 * wL * _np_limited(((uL - uLL) / (0.5 * (wLL + wL))), s0, limiter)
            fr = uR - 0.5 * wR * _np_limited(s0, (uRR - uR) / (0.5 * (wR + wRR)), limiter)
        v = np.moveaxis(np.broadcast_to(vel[d], _face_shape(rate.shape[1:], d)), d, 0)[None]
        D = np.moveaxis(np.broadcast_to(dif[d], _face_shape(rate.shape[1:], d)), d, 0)[None]
        F = np.where(v > 0, v * fl, v * fr) - D * (uR - uL) / hf
        for side, f in ((0, 0), (1, n)):
            flag, bv = flags[d, side], bvals[d, side]
            if flag == FACE_FLUX:
                F[:, f] = bv if side == 0 else -bv
            elif flag == FACE_DIRICHLET:
                F[:, f] = v[:, f] * bv - D[:, f] * (uR[:, f] - uL[:, f]) / hf[:, f]
        A = ar[d].reshape(sh)
        div = (A[:, 1:] * F[:, 1:] - A[:, :-1] * F[:, :-1]) * im[d].reshape((1, n, 1, 1))
        rate -= np.moveaxis(div, 1, d + 1)
    return rate


def _face_shape(shape, d):
    s = list(shape)
    s[d] += 1
    return tuple(s)


def _np_limited(sm, sp, limiter):
    same = sm * sp > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if limiter == MINMOD:
            s = np.where(np.abs(sm) < np.abs(sp), sm, sp)
        elif limiter == VANLEER:
            s = 2 * sm * sp / (sm + sp)
        elif limiter == MC:
            c = 0.5 * (sm + sp)
            m = np.where(np.abs(2 * sm) < np.abs(2 * sp), 2 * sm, 2 * sp)
            s = np.where(np.abs(c) < np.abs(m), c, m)
        else:
            a = np.where(np.abs(sm) < np.abs(2 * sp), sm, 2 * sp)
            b = np.where(np.abs(2 * sm) < np.abs(sp), 2 * sm, sp)
            s = np.where(np.abs(a) > np.abs(b), a, b)
    return np.where(same, s, 0.0)


# ---------------------------------------------------------------------------------------------
# Fast path: uniform Cartesian axes, constant velocity and diffusivity per axis.
# Face fluxes are computed once per face into row buffers (no recomputation), only the upwind
# side is reconstructed, and the innermost loop runs over contiguous memory.
# ---------------------------------------------------------------------------------------------
@numba.njit(cache=True, inline="always", error_model="numpy")
def uniform_flux(uLL, uL, uR, uRR, v, Dh, limiter):
    """Flux ``v u_upwind - (D/h)(u_R - u_L)`` on a uniform axis (difference-form limiters)."""
    if v >= 0.0:
        fu = uL
        if limiter != UPWIND:
            fu += 0.5 * limited_slope(uL - uLL, uR - uL, limiter)
    else:
        fu = uR
        if limiter != UPWIND:
            fu -= 0.5 * limited_slope(uR - uL, uRR - uR, limiter)
    return v * fu - Dh * (uR - uL)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _boundary_uniform(flux, flag, bval, side, v, Dh, uL, uR):
    if flag == FACE_FLUX:
        return bval if side == 0 else -bval
    elif flag == FACE_DIRICHLET:
        return v * bval - Dh * (uR - uL)
    return flux


@numba.njit(cache=True, error_model="numpy")
def stage_uniform(u0, u, out, a, b, dt, g3, vel, Dh, idx, src, flags, bvals, limiter, fx, fy):
    """``out = a*u0 + b*(u + dt*L(u))`` for uniform Cartesian axes with constant coefficients.

    ``vel``, ``Dh`` (= D/dx), ``idx`` (= 1/dx): per internal axis (length 3); ``fx``: buffer of
    length nC+1; ``fy``: buffer (2, nC) for the faces along the middle axis.
    """
    nvar = u.shape[0]
    g0, g1, g2 = g3[0], g3[1], g3[2]
    nA = u.shape[1] - 2 * g0
    nB = u.shape[2] - 2 * g1
    nC = u.shape[3] - 2 * g2
    has_src = src.shape[0] == nA and src.shape[1] == nB and src.shape[2] == nC
    v0, v1, v2 = vel[0], vel[1], vel[2]
    D0, D1, D2 = Dh[0], Dh[1], Dh[2]
    for var in range(nvar):
        for i in range(nA):
            I = i + g0
            for j in range(nB):
                J = j + g1
                row = u[var, I, J]
                orow = out[var, I, J]
                u0row = u0[var, I, J]
                # innermost axis: faces f = 0..nC between padded cells g2+f-1 and g2+f
                if g2 > 0:
                    for f in range(nC + 1):
                        L = g2 + f - 1
                        fx[f] = uniform_flux(row[L - 1], row[L], row[L + 1], row[L + 2], v2, D2, limiter)
                    fx[0] = _boundary_uniform(fx[0], flags[2, 0], bvals[2, 0], 0, v2, D2, row[g2 - 1], row[g2])
                    fx[nC] = _boundary_uniform(fx[nC], flags[2, 1], bvals[2, 1], 1, v2, D2,
                                               row[g2 + nC - 1], row[g2 + nC])
                # middle axis: face j (low) is carried from the previous row, face j+1 computed
                lo = j % 2
                hi = 1 - lo
                if g1 > 0:
                    rm2 = u[var, I, J - 2]
                    rm1 = u[var, I, J - 1]
                    rp1 = u[var, I, J + 1]
                    rp2 = u[var, I, J + 2]
                    if j == 0:
                        for k in range(nC):
                            K = k + g2
                            fy[lo, k] = _boundary_uniform(
                                uniform_flux(rm2[K], rm1[K], row[K], rp1[K], v1, D1, limiter),
                                flags[1, 0], bvals[1, 0], 0, v1, D1, rm1[K], row[K])
                    if j == nB - 1:
                        for k in range(nC):
                            K = k + g2
                            fy[hi, k] = _boundary_uniform(
                                uniform_flux(rm1[K], row[K], rp1[K], rp2[K], v1, D1, limiter),
                                flags[1, 1], bvals[1, 1], 1, v1, D1, row[K], rp1[K])
                    else:
                        for k in range(nC):
                            K = k + g2
                            fy[hi, k] = uniform_flux(rm1[K], row[K], rp1[K], rp2[K], v1, D1, limiter)
                for k in range(nC):
                    K = k + g2
                    rate = src[i, j, k] if has_src else 0.0
                    if g2 > 0:
                        rate += (fx[k] - fx[k + 1]) * idx[2]
                    if g1 > 0:
                        rate += (fy[lo, k] - fy[hi, k]) * idx[1]
                    if g0 > 0:
                        fm = uniform_flux(u[var, I - 2, J, K], u[var, I - 1, J, K], row[K], u[var, I + 1, J, K],
                                          v0, D0, limiter)
                        if i == 0:
                            fm = _boundary_uniform(fm, flags[0, 0], bvals[0, 0], 0, v0, D0, u[var, I - 1, J, K], row[K])
                        fp = uniform_flux(u[var, I - 1, J, K], row[K], u[var, I + 1, J, K], u[var, I + 2, J, K],
                                          v0, D0, limiter)
                        if i == nA - 1:
                            fp = _boundary_uniform(fp, flags[0, 1], bvals[0, 1], 1, v0, D0, row[K], u[var, I + 1, J, K])
                        rate += (fm - fp) * idx[0]
                    val = b * (row[K] + dt * rate)
                    if a != 0.0:
                        val += a * u0row[K]
                    orow[K] = val


@numba.njit(cache=True, error_model="numpy")
def uniform_stage(u0, u, out, a, b, dt, g3, vel, Dh, idx, src, flags, bvals, limiter, fx, fy):
    """Dispatch: linear stencil for upwind or pure diffusion (limiter -1), else the TVD row kernel."""
    if limiter <= UPWIND:
        stage_linear_uniform(u0, u, out, a, b, dt, g3, vel, Dh, idx, src, flags, bvals)
    else:
        stage_rows(u0, u, out, a, b, dt, g3, vel, Dh, idx, src, flags, bvals, limiter, fx, fy)


@numba.njit(cache=True, error_model="numpy")
def advance_ssp_uniform(u, s1, s2, nsteps, dt, order, g3, codes, values, vel, Dh, idx, src, flags, bvals,
                        limiter):
    """``nsteps`` SSP-RK steps (order 1, 2 or 3) in place with :func:`stage_uniform`."""
    fx = np.empty(u.shape[3] - 2 * g3[2] + 1)
    fy = np.empty((2, u.shape[3] - 2 * g3[2]))
    bufs = (u, s1, s2)
    if vel[0] == 0.0 and vel[1] == 0.0 and vel[2] == 0.0:
        limiter = -1  # marks pure diffusion for uniform_stage
    c, p, q = 0, 1, 2
    for _ in range(nsteps):
        fill_ghosts(bufs[c], g3, codes, values)
        uniform_stage(bufs[c], bufs[c], bufs[p], 0.0, 1.0, dt, g3, vel, Dh, idx, src, flags, bvals, limiter, fx, fy)
        if order == 1:
            c, p = p, c
            continue
        fill_ghosts(bufs[p], g3, codes, values)
        a2, b2 = (0.5, 0.5) if order == 2 else (0.75, 0.25)
        uniform_stage(bufs[c], bufs[p], bufs[q], a2, b2, dt, g3, vel, Dh, idx, src, flags, bvals, limiter, fx, fy)
        if order == 2:
            c, q = q, c
            continue
        fill_ghosts(bufs[q], g3, codes, values)
        uniform_stage(bufs[c], bufs[q], bufs[p], 1.0 / 3.0, 2.0 / 3.0, dt, g3, vel, Dh, idx, src, flags, bvals,
                      limiter, fx, fy)
        c, p = p, c
    if c != 0:
        copy_interior(bufs[c], u, g3)


@numba.njit(cache=True, error_model="numpy")
def _linear_2d(u, out, b, bdt, g1, g2, c0, cm1, cm2, cp1, cp2):
    """The 5-point linear stencil on a 2D padded state: a plain loop nest that LLVM vectorises."""
    nB = u.shape[2] - 2 * g1
    nC = u.shape[3] - 2 * g2
    for var in range(u.shape[0]):
        for j in range(nB):
            J = j + g1
            row = u[var, 0, J, g2:g2 + nC]
            rl = u[var, 0, J, g2 - 1:g2 + nC - 1]
            rr = u[var, 0, J, g2 + 1:g2 + nC + 1]
            rc = u[var, 0, J - 1, g2:g2 + nC]
            rd = u[var, 0, J + 1, g2:g2 + nC]
            orow = out[var, 0, J, g2:g2 + nC]
            for k in range(nC):
                orow[k] = b * row[k] + bdt * (c0 * row[k] + cm2 * rl[k] + cp2 * rr[k] + cm1 * rc[k] + cp1 * rd[k])


@numba.njit(cache=True, error_model="numpy")
def _linear_1d_3d(u, out, b, bdt, g3, c0, cm0, cm1, cm2, cp0, cp1, cp2):
    """The 3-point (1D) or 7-point (3D) linear stencil."""
    g0, g1, g2 = g3[0], g3[1], g3[2]
    nA = u.shape[1] - 2 * g0
    nB = u.shape[2] - 2 * g1
    nC = u.shape[3] - 2 * g2
    for var in range(u.shape[0]):
        for i in range(nA):
            I = i + g0
            for j in range(nB):
                J = j + g1
                row = u[var, I, J, g2:g2 + nC]
                rl = u[var, I, J, g2 - 1:g2 + nC - 1]
                rr = u[var, I, J, g2 + 1:g2 + nC + 1]
                orow = out[var, I, J, g2:g2 + nC]
                if g0 == 0:
                    for k in range(nC):
                        orow[k] = b * row[k] + bdt * (c0 * row[k] + cm2 * rl[k] + cp2 * rr[k])
                else:
                    rc = u[var, I, J - 1, g2:g2 + nC]
                    rd = u[var, I, J + 1, g2:g2 + nC]
                    ra = u[var, I - 1, J, g2:g2 + nC]
                    rb = u[var, I + 1, J, g2:g2 + nC]
                    for k in range(nC):
                        orow[k] = b * row[k] + bdt * (c0 * row[k] + cm2 * rl[k] + cp2 * rr[k] + cm1 * rc[k]
                                                      + cp1 * rd[k] + cm0 * ra[k] + cp0 * rb[k])


@numba.njit(cache=True, error_model="numpy")
def stage_linear_uniform(u0, u, out, a, b, dt, g3, vel, Dh, idx, src, flags, bvals):
    """Upwind advection + diffusion (or pure diffusion) on uniform Cartesian axes as a linear stencil.

    With upwind face values the flux ``F_f = (v+ + Dh) u_{f-1} + (v- - Dh) u_f`` is linear, so the
    update is the 3/5/7-point stencil ``rate_k = c- u_{k-1} + c0 u_k + c+ u_{k+1}`` per axis with
    ``c- = (v+ + Dh)/dx``, ``c0 = (v- - v+ - 2 Dh)/dx``, ``c+ = (Dh - v-)/dx``. Boundary faces that
    are not plain ghost faces (prescribed flux, Dirichlet face value) get the difference between
    their flux and the stencil's added to the boundary cell afterwards. ``src`` of shape (0, 0, 0)
    means no source. The row loop is a separate small function so that it vectorises.
    """
    nvar = u.shape[0]
    g0, g1, g2 = g3[0], g3[1], g3[2]
    nA = u.shape[1] - 2 * g0
    nB = u.shape[2] - 2 * g1
    nC = u.shape[3] - 2 * g2
    dims = 1 + (g1 > 0) + (g0 > 0)
    has_src = src.shape[0] == nA and src.shape[1] == nB and src.shape[2] == nC
    cm = np.empty(3)
    cc = np.empty(3)
    cp = np.empty(3)
    for d in range(3):
        vp = max(vel[d], 0.0)
        vm = min(vel[d], 0.0)
        cm[d] = (vp + Dh[d]) * idx[d]
        cc[d] = (vm - vp - 2.0 * Dh[d]) * idx[d]
        cp[d] = (Dh[d] - vm) * idx[d]
    c0 = cc[0] + cc[1] + cc[2]
    bdt = b * dt
    if dims == 2:
        _linear_2d(u, out, b, bdt, g1, g2, c0, cm[1], cm[2], cp[1], cp[2])
    else:
        _linear_1d_3d(u, out, b, bdt, g3, c0, cm[0], cm[1], cm[2], cp[0], cp[1], cp[2])
    for var in range(nvar):
        if has_src or a != 0.0:
            for i in range(nA):
                for j in range(nB):
                    orow = out[var, i + g0, j + g1, g2:g2 + nC]
                    if has_src:
                        srow = src[i, j]
                        for k in range(nC):
                            orow[k] += bdt * srow[k]
                    if a != 0.0:
                        u0row = u0[var, i + g0, j + g1, g2:g2 + nC]
                        for k in range(nC):
                            orow[k] += a * u0row[k]
        # boundary faces whose flux is not the stencil's
        for d in range(3):
            if g3[d] == 0:
                continue
            for side in range(2):
                if flags[d, side] == FACE_GHOST:
                    continue
                sign = 1.0 if side == 0 else -1.0
                ia, ib = (0, nA) if d != 0 else ((0, 1) if side == 0 else (nA - 1, nA))
                ja, jb = (0, nB) if d != 1 else ((0, 1) if side == 0 else (nB - 1, nB))
                ka, kb = (0, nC) if d != 2 else ((0, 1) if side == 0 else (nC - 1, nC))
                for i in range(ia, ib):
                    for j in range(ja, jb):
                        for k in range(ka, kb):
                            I, J, K = i + g0, j + g1, k + g2
                            if d == 0:
                                uL = u[var, I - 1 + side, J, K]
                                uR = u[var, I + side, J, K]
                            elif d == 1:
                                uL = u[var, I, J - 1 + side, K]
                                uR = u[var, I, J + side, K]
                            else:
                                uL = u[var, I, J, K - 1 + side]
                                uR = u[var, I, J, K + side]
                            fs = uniform_flux(uL, uL, uR, uR, vel[d], Dh[d], UPWIND)
                            fb = _boundary_uniform(fs, flags[d, side], bvals[d, side], side, vel[d], Dh[d], uL, uR)
                            out[var, I, J, K] += bdt * (fb - fs) * idx[d] * sign


# ---------------------------------------------------------------------------------------------
# Row-vectorised face fluxes for the uniform fast path: the limiter and the sign of the velocity
# are loop invariants, so each combination gets its own branch-free inner loop that LLVM can
# vectorise. ``uLL, uL, uR, uRR`` are equally long 1D views aligned so that index f addresses the
# four cells around face f.
# ---------------------------------------------------------------------------------------------
@numba.njit(cache=True, inline="always", error_model="numpy")
def _minmod(a, b):
    s = a if abs(a) < abs(b) else b
    return s if a * b > 0.0 else 0.0


@numba.njit(cache=True, inline="always", error_model="numpy")
def _vanleer(a, b):
    ab = a * b
    return 2.0 * ab / (a + b) if ab > 0.0 else 0.0


@numba.njit(cache=True, inline="always", error_model="numpy")
def _mc(a, b):
    c = 0.5 * (a + b)
    m = 2.0 * a if abs(a) < abs(b) else 2.0 * b
    s = c if abs(c) < abs(m) else m
    return s if a * b > 0.0 else 0.0


@numba.njit(cache=True, inline="always", error_model="numpy")
def _superbee(a, b):
    p = a if abs(a) < abs(2.0 * b) else 2.0 * b
    q = 2.0 * a if abs(2.0 * a) < abs(b) else b
    s = p if abs(p) > abs(q) else q
    return s if a * b > 0.0 else 0.0


@numba.njit(cache=True, error_model="numpy")
def face_fluxes_row(out, uLL, uL, uR, uRR, v, Dh, limiter):
    """``out[f] = v * u_upwind(f) - Dh * (uR[f] - uL[f])`` for every face f of a row."""
    n = out.shape[0]
    if limiter == UPWIND or v == 0.0:
        if v >= 0.0:
            for f in range(n):
                out[f] = v * uL[f] - Dh * (uR[f] - uL[f])
        else:
            for f in range(n):
                out[f] = v * uR[f] - Dh * (uR[f] - uL[f])
        return
    # upwind side reconstruction: for v >= 0 from the left cell, else mirrored from the right
    if v >= 0.0:
        c0, c1, c2, h = uLL, uL, uR, 0.5
    else:
        c0, c1, c2, h = uRR, uR, uL, 0.5
    if limiter == MINMOD:
        for f in range(n):
            out[f] = v * (c1[f] + h * _minmod(c1[f] - c0[f], c2[f] - c1[f])) - Dh * (uR[f] - uL[f])
    elif limiter == VANLEER:
        for f in range(n):
            out[f] = v * (c1[f] + h * _vanleer(c1[f] - c0[f], c2[f] - c1[f])) - Dh * (uR[f] - uL[f])
    elif limiter == MC:
        for f in range(n):
            out[f] = v * (c1[f] + h * _mc(c1[f] - c0[f], c2[f] - c1[f])) - Dh * (uR[f] - uL[f])
    else:
        for f in range(n):
            out[f] = v * (c1[f] + h * _superbee(c1[f] - c0[f], c2[f] - c1[f])) - Dh * (uR[f] - uL[f])


@numba.njit(cache=True, error_model="numpy")
def stage_rows(u0, u, out, a, b, dt, g3, vel, Dh, idx, src, flags, bvals, limiter, fx, fy):
    """Same result as :func:`stage_uniform` for 1D and 2D grids, with row-vectorised fluxes.

    ``fx``: buffer (nC+1); ``fy``: buffer (2, nC). 3D grids go to :func:`stage_uniform`.
    """
    if g3[0] > 0:
        stage_uniform(u0, u, out, a, b, dt, g3, vel, Dh, idx, src, flags, bvals, limiter, fx, fy)
        return
    nvar = u.shape[0]
    g1, g2 = g3[1], g3[2]
    nB = u.shape[2] - 2 * g1
    nC = u.shape[3] - 2 * g2
    has_src = src.shape[0] == 1 and src.shape[1] == nB and src.shape[2] == nC
    v1, v2 = vel[1], vel[2]
    D1, D2 = Dh[1], Dh[2]
    i1, i2 = idx[1], idx[2]
    bdt = b * dt
    for var in range(nvar):
        for j in range(nB):
            J = j + g1
            row = u[var, 0, J]
            # faces f = 0..nC along the row sit between padded cells g2+f-1 and g2+f
            face_fluxes_row(fx, row[g2 - 2:g2 + nC - 1], row[g2 - 1:g2 + nC], row[g2:g2 + nC + 1],
                            row[g2 + 1:g2 + nC + 2], v2, D2, limiter)
            fx[0] = _boundary_uniform(fx[0], flags[2, 0], bvals[2, 0], 0, v2, D2, row[g2 - 1], row[g2])
            fx[nC] = _boundary_uniform(fx[nC], flags[2, 1], bvals[2, 1], 1, v2, D2, row[g2 + nC - 1], row[g2 + nC])
            lo = j % 2
            hi = 1 - lo
            if g1 > 0:
                sl = slice(g2, g2 + nC)
                if j == 0:
                    face_fluxes_row(fy[lo], u[var, 0, J - 2, sl], u[var, 0, J - 1, sl], row[sl], u[var, 0, J + 1, sl],
                                    v1, D1, limiter)
                    if flags[1, 0] != FACE_GHOST:
                        rm1 = u[var, 0, J - 1]
                        for k in range(nC):
                            fy[lo, k] = _boundary_uniform(fy[lo, k], flags[1, 0], bvals[1, 0], 0, v1, D1,
                                                          rm1[g2 + k], row[g2 + k])
                face_fluxes_row(fy[hi], u[var, 0, J - 1, sl], row[sl], u[var, 0, J + 1, sl], u[var, 0, J + 2, sl],
                                v1, D1, limiter)
                if j == nB - 1 and flags[1, 1] != FACE_GHOST:
                    rp1 = u[var, 0, J + 1]
                    for k in range(nC):
                        fy[hi, k] = _boundary_uniform(fy[hi, k], flags[1, 1], bvals[1, 1], 1, v1, D1,
                                                      row[g2 + k], rp1[g2 + k])
                fyl = fy[lo]
                fyh = fy[hi]
                orow = out[var, 0, J, g2:g2 + nC]
                urow = row[g2:g2 + nC]
                for k in range(nC):
                    orow[k] = b * urow[k] + bdt * ((fx[k] - fx[k + 1]) * i2 + (fyl[k] - fyh[k]) * i1)
            else:
                orow = out[var, 0, J, g2:g2 + nC]
                urow = row[g2:g2 + nC]
                for k in range(nC):
                    orow[k] = b * urow[k] + bdt * (fx[k] - fx[k + 1]) * i2
            if has_src:
                srow = src[0, j]
                for k in range(nC):
                    orow[k] += bdt * srow[k]
            if a != 0.0:
                u0row = u0[var, 0, J, g2:g2 + nC]
                for k in range(nC):
                    orow[k] += a * u0row[k]
