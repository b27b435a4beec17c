"""Compiled kernels of the column models: WENO-Z reconstruction with a positivity cap, conservative
advection–dispersion with a Danckwerts inlet, local binding kinetics and equilibrium inversions, and
whole step loops (no Python between steps).

Transport of each mobile-phase concentration ``c`` on a uniform grid of ``N`` cells, face ``j`` at
``x = j dx`` (face 0 the inlet, face N the outlet), velocity ``u_f > 0`` and dispersion ``D_f`` given on
faces:

    dc_j/dt = -(F_{j+1} - F_j) / dx,
    F_0 = u_0 c_in(t)                                   (Danckwerts: total flux in = u c_in)
    F_j = u_j c^-_j - D_j (c_j - c_{j-1}) / dx          (interior faces)
    F_N = u_N c^-_N                                     (outlet: c_x = 0, no dispersive flux)

``c^-_j`` is the upwind (left-biased) WENO-Z value at face ``j`` (order 3 or 5; Borges et al. 2008),
with quadratic extrapolation (clipped at 0) left of the inlet and constant extension right of the
outlet (``c_x = 0``), and ``eps`` scaled by the square of a concentration scale
(WENO's absolute epsilon makes results depend on concentration units otherwise). The face value is
then capped to ``[0, c_{j-1} (1 - mu) / lambda]`` (``lambda = dt u / dx``, ``mu`` = ``dt / dx^2`` times the
dispersion on the upwind cell's dispersive faces), which makes every forward-Euler stage, hence
SSP-RK3, keep concentrations non-negative for ``lambda + mu <= 1``; in smooth positive regions the cap
is inactive (the face value is then at most about the cell value).
"""
from __future__ import annotations

import numba
import numpy as np

LINEAR = 0
LANGMUIR = 1
NONE = 2


@numba.njit(cache=True, inline="always")
def _ext(c, i, N):
    if i < 0:  # inlet side: quadratic extrapolation of the cell averages (the inlet has a gradient), >= 0
        if N < 3:
            return c[0]
        if i == -1:
            v = 3.0 * c[0] - 3.0 * c[1] + c[2]
        elif i == -2:
            v = 6.0 * c[0] - 8.0 * c[1] + 3.0 * c[2]
        else:
            v = 10.0 * c[0] - 15.0 * c[1] + 6.0 * c[2]
        return v if v > 0.0 else 0.0
    if i >= N:
        return c[N - 1]
    return c[i]


@numba.njit(cache=True)
def face_values(c, order, eps, out):
    """Left-biased WENO-Z values ``out[j] = c^-_{j}`` at faces ``j = 1..N`` (``out[0]`` unused)."""
    N = c.size
    for j in range(1, N + 1):
        i = j - 1  # upwind cell
        if order == 5:
            a = _ext(c, i - 2, N)
            b = _ext(c, i - 1, N)
            m = c[i]
            d = _ext(c, i + 1, N)
            e = _ext(c, i + 2, N)
            p0 = (2.0 * a - 7.0 * b + 11.0 * m) / 6.0
            p1 = (-b + 5.0 * m + 2.0 * d) / 6.0
            p2 = (2.0 * m + 5.0 * d - e) / 6.0
            b0 = 13.0 / 12.0 * (a - 2.0 * b + m) ** 2 + 0.25 * (a - 4.0 * b + 3.0 * m) ** 2
            b1 = 13.0 / 12.0 * (b - 2.0 * m + d) ** 2 + 0.25 * (b - d) ** 2
            b2 = 13.0 / 12.0 * (m - 2.0 * d + e) ** 2 + 0.25 * (3.0 * m - 4.0 * d + e) ** 2
            tau = abs(b0 - b2)
            w0 = 0.1 * (1.0 + tau / (b0 + eps))
            w1 = 0.6 * (1.0 + tau / (b1 + eps))
            w2 = 0.3 * (1.0 + tau / (b2 + eps))
            out[j] = (w0 * p0 + w1 * p1 + w2 * p2) / (w0 + w1 + w2)
        elif order == 3:
            b = _ext(c, i - 1, N)
            m = c[i]
            d = _ext(c, i + 1, N)
            p0 = -0.5 * b + 1.5 * m
            p1 = 0.5 * m + 0.5 * d
            b0 = (m - b) ** 2
            b1 = (d - m) ** 2
            tau = abs(b0 - b1)
            w0 = (1.0 / 3.0) * (1.0 + tau / (b0 + eps))
            w1 = (2.0 / 3.0) * (1.0 + tau / (b1 + eps))
            out[j] = (w0 * p0 + w1 * p1) / (w0 + w1)
        else:  # first-order upwind
            out[j] = c[i]


@numba.njit(cache=True)
def transport(c, cin, uf, Df, dx, dt, order, eps, face, out):
    """``out = dc/dt`` of advection–dispersion for one component; ``face`` is scratch of size N + 1 and
    holds the capped upwind face values afterwards (``face[N]`` = the outlet value)."""
    N = c.size
    face_values(c, order, eps, face)
    for j in range(1, N + 1):
        # cell j-1 loses u_j c^-_j through face j and D (c_{j-1} - neighbour) through its dispersive faces
        lam = dt * uf[j] / dx
        mu = 0.0
        if j - 1 >= 1:
            mu += dt * Df[j - 1] / (dx * dx)
        if j < N:
            mu += dt * Df[j] / (dx * dx)
        v = face[j]
        if v < 0.0:
            v = 0.0
        if lam > 0.0:
            cap = c[j - 1] * (1.0 - mu) / lam
            if v > cap:
                v = max(cap, 0.0)
        face[j] = v
    flux_left = uf[0] * cin
    for j in range(N):
        if j + 1 < N:
            flux_right = uf[j + 1] * face[j + 1] - Df[j + 1] * (c[j + 1] - c[j]) / dx
        else:
            flux_right = uf[N] * face[N]
        out[j] = -(flux_right - flux_left) / dx
        flux_left = flux_right


@numba.njit(cache=True)
def linear_kinetic_exact(c, q, F, ka, kd, h):
    """Exact solution over ``h`` of ``c' = -F (ka c - kd q)``, ``q' = ka c - kd q`` (in place). Conserves
    ``c + F q`` exactly and keeps both non-negative: the state relaxes to ``q = K c`` at rate
    ``r = F ka + kd``."""
    r = F * ka + kd
    if r <= 0.0:
        return
    E = np.exp(-r * h)
    for j in range(c.size):
        n = c[j] + F * q[j]
        ceq = n * kd / r  # c at equilibrium: c + F K c = n
        qeq = n * ka / r
        c[j] = ceq + (c[j] - ceq) * E
        q[j] = qeq + (q[j] - qeq) * E


@numba.njit(cache=True)
def langmuir_rate(cj, qj, ka, kd, qm, out):
    """Competitive (multi-component) Langmuir kinetics, CADET's form:
    ``q_i' = ka_i c_i qm_i (1 - sum_k q_k / qm_k) - kd_i q_i``."""
    free = 1.0
    for k in range(qj.size):
        free -= qj[k] / qm[k]
    for i in range(qj.size):
        out[i] = ka[i] * cj[i] * qm[i] * free - kd[i] * qj[i]


@numba.njit(cache=True)
def _solve_small(J, G, out):
    """Gaussian elimination with partial pivoting for a small dense system (J, G overwritten)."""
    m = G.size
    for k in range(m):
        p = k
        for i in range(k + 1, m):
            if abs(J[i, k]) > abs(J[p, k]):
                p = i
        if p != k:
            for c in range(m):
                J[k, c], J[p, c] = J[p, c], J[k, c]
            G[k], G[p] = G[p], G[k]
        for i in range(k + 1, m):
            f = J[i, k] / J[k, k]
            for c in range(k, m):
                J[i, c] -= f * J[k, c]
            G[i] -= f * G[k]
    for i in range(m - 1, -1, -1):
        acc = G[i]
        for c in range(i + 1, m):
            acc -= J[i, c] * out[c]
        out[i] = acc / J[i, i]


@numba.njit(cache=True)
def langmuir_kinetic_step(C, Q, F, ka, kd, qm, h, substeps):
    """Integrate the local kinetics over ``h`` in every cell with ``substeps`` implicit trapezoidal
    (Crank–Nicolson) substeps solved by Newton on ``q`` (``c = n - F q`` keeps ``c + F q`` exact)."""
    m, N = C.shape
    hs = h / substeps
    cj = np.empty(m)
    qj = np.empty(m)
    q0 = np.empty(m)
    n = np.empty(m)
    r0 = np.empty(m)
    r1 = np.empty(m)
    G = np.empty(m)
    dq = np.empty(m)
    J = np.empty((m, m))
    for j in range(N):
        for i in range(m):
            cj[i] = C[i, j]
            qj[i] = Q[i, j]
            n[i] = cj[i] + F * qj[i]
        for _ in range(substeps):
            langmuir_rate(cj, qj, ka, kd, qm, r0)
            for i in range(m):
                q0[i] = qj[i]
            for it in range(30):
                for i in range(m):
                    cj[i] = n[i] - F * qj[i]
                langmuir_rate(cj, qj, ka, kd, qm, r1)
                free = 1.0
                for k in range(m):
                    free -= qj[k] / qm[k]
                for i in range(m):
                    for k in range(m):
                        # d r_i / d q_k with c_i = n_i - F q_i
                        d = -ka[i] * cj[i] * qm[i] / qm[k]
                        if i == k:
                            d += -ka[i] * F * qm[i] * free - kd[i]
                        J[i, k] = (1.0 if i == k else 0.0) - 0.5 * hs * d
                    G[i] = qj[i] - q0[i] - 0.5 * hs * (r0[i] + r1[i])
                if m == 1:
                    dq[0] = G[0] / J[0, 0]
                else:
                    _solve_small(J, G, dq)
                err = 0.0
                for i in range(m):
                    qj[i] -= dq[i]
                    err = max(err, abs(dq[i]) / (abs(qj[i]) + qm[i] * 1e-14))
                if err < 1e-13:
                    break
            for i in range(m):
                cj[i] = n[i] - F * qj[i]
        for i in range(m):
            C[i, j] = cj[i]
            Q[i, j] = qj[i]


@numba.njit(cache=True)
def invert_equilibrium(Nt, C, F, K, qm, b, kind):
    """``c`` from the total ``n = c + F q*(c)`` in every cell (in place into ``C``): linear ``q* = K c``;
    competitive Langmuir ``q*_i = qm_i b_i c_i / (1 + sum_k b_k c_k)`` (closed form for one component, a
    scalar safeguarded Newton iteration on ``s = 1 + sum_k b_k c_k`` otherwise)."""
    m, N = Nt.shape
    if kind == LINEAR:
        for i in range(m):
            for j in range(N):
                C[i, j] = Nt[i, j] / (1.0 + F * K[i])
        return
    if kind == NONE:
        for i in range(m):
            for j in range(N):
                C[i, j] = Nt[i, j]
        return
    if m == 1:
        a = F * qm[0] * b[0]
        for j in range(N):
            n = Nt[0, j]
            B = 1.0 + a - b[0] * n
            disc = B * B + 4.0 * b[0] * n
            # root of b c^2 + B c - n = 0, the non-negative one, without cancellation
            if B >= 0.0:
                C[0, j] = 2.0 * n / (B + np.sqrt(disc))
            else:
                C[0, j] = (-B + np.sqrt(disc)) / (2.0 * b[0])
        return
    # competitive Langmuir, m components: with s = 1 + sum_k b_k c_k, c_i = n_i s / (s + F a_i) (a_i = qm_i b_i),
    # so s solves the scalar equation g(s) = s - 1 - sum_i b_i n_i s / (s + F a_i) = 0 on s >= 1. g(1) <= 0
    # and g(s) -> +inf, so a root is bracketed; safeguarded Newton from the previous cell value.
    for j in range(N):
        lo = 1.0
        hi = 1.0
        for i in range(m):
            hi += b[i] * max(Nt[i, j], 0.0)  # c_i <= n_i, so s <= 1 + sum b_i n_i
        s_ = 1.0
        for i in range(m):
            s_ += b[i] * max(C[i, j], 0.0)
        if s_ < lo or s_ > hi:
            s_ = 0.5 * (lo + hi)
        for it in range(100):
            g = s_ - 1.0
            dg = 1.0
            for i in range(m):
                a_i = F * qm[i] * b[i]
                den = s_ + a_i
                g -= b[i] * Nt[i, j] * s_ / den
                dg -= b[i] * Nt[i, j] * a_i / (den * den)
            if dg > 0.0 and abs(g) <= 4e-15 * dg * s_:  # the Newton step is below round-off: converged
                s_ -= g / dg
                break
            if g > 0.0:
                hi = s_
            else:
                lo = s_
            new = s_ - g / dg if dg > 0.0 else 0.5 * (lo + hi)
            if not (lo < new < hi):
                new = 0.5 * (lo + hi)
            if hi - lo <= 4e-15 * hi:
                s_ = new
                break
            s_ = new
        for i in range(m):
            C[i, j] = max(Nt[i, j], 0.0) * s_ / (s_ + F * qm[i] * b[i])


@numba.njit(cache=True)
def advance_kinetic(C, Q, nsteps, dt, dx, uf, Df, cin, order, eps, kind, F, ka, kd, qm, substeps, outlet, outflow):
    """``Df`` holds one dispersion field per component, shape ``(m, N + 1)``.
    ``nsteps`` Strang steps: half-step kinetics (exact for linear, implicit trapezoid for Langmuir),
    one SSP-RK3 transport step of every mobile phase, half-step kinetics. ``cin[s, i]`` is component
    ``i``'s inlet concentration averaged over step ``s`` (so injected mass is exact); ``outlet[s, i]`` receives
    the outlet face value after step ``s`` and ``outflow[s, i]`` the amount (per unit area) that left
    through the outlet during it, exactly as the scheme counts it."""
    m, N = C.shape
    k1 = np.empty(N)
    k2 = np.empty(N)
    y = np.empty(N)
    face = np.empty(N + 1)
    for s in range(nsteps):
        if kind == LINEAR:
            for i in range(m):
                linear_kinetic_exact(C[i], Q[i], F, ka[i], kd[i], 0.5 * dt)
        elif kind == LANGMUIR:
            langmuir_kinetic_step(C, Q, F, ka, kd, qm, 0.5 * dt, substeps)
        for i in range(m):
            c = C[i]
            ci = cin[s, i]
            transport(c, ci, uf, Df[i], dx, dt, order, eps, face, k1)
            flow = face[N] / 6.0
            for j in range(N):
                y[j] = c[j] + dt * k1[j]
            transport(y, ci, uf, Df[i], dx, dt, order, eps, face, k2)
            flow += face[N] / 6.0
            for j in range(N):
                y[j] = 0.75 * c[j] + 0.25 * (y[j] + dt * k2[j])
            transport(y, ci, uf, Df[i], dx, dt, order, eps, face, k2)
            flow += 2.0 * face[N] / 3.0
            outflow[s, i] = dt * uf[N] * flow
            for j in range(N):
                c[j] = c[j] / 3.0 + 2.0 / 3.0 * (y[j] + dt * k2[j])
        if kind == LINEAR:
            for i in range(m):
                linear_kinetic_exact(C[i], Q[i], F, ka[i], kd[i], 0.5 * dt)
        elif kind == LANGMUIR:
            langmuir_kinetic_step(C, Q, F, ka, kd, qm, 0.5 * dt, substeps)
        for i in range(m):
            face_values(C[i], order, eps, face)
            outlet[s, i] = max(face[N], 0.0)


@numba.njit(cache=True)
def advance_equilibrium(Nt, C, nsteps, dt, dx, uf, Df, cin, order, eps, kind, F, K, qm, b, outlet, outflow):
    """``nsteps`` SSP-RK3 steps of the totals ``n = c + F q*(c)`` (rapid equilibrium, or no binding):
    ``n_t = -(u c)_x + (D c_x)_x`` with ``c`` recovered from ``n`` in every stage; components couple only
    through the (competitive) isotherm."""
    m, N = Nt.shape
    K1 = np.empty((m, N))
    Y = np.empty((m, N))
    face = np.empty(N + 1)
    for s in range(nsteps):
        for stage in range(3):
            src = Nt if stage == 0 else Y
            invert_equilibrium(src, C, F, K, qm, b, kind)
            for i in range(m):
                transport(C[i], cin[s, i], uf, Df[i], dx, dt, order, eps, face, K1[i])
                w = 1.0 / 6.0 if stage < 2 else 2.0 / 3.0
                if stage == 0:
                    outflow[s, i] = 0.0
                outflow[s, i] += dt * uf[N] * w * face[N]
            for i in range(m):
                for j in range(N):
                    if stage == 0:
                        Y[i, j] = Nt[i, j] + dt * K1[i, j]
                    elif stage == 1:
                        Y[i, j] = 0.75 * Nt[i, j] + 0.25 * (Y[i, j] + dt * K1[i, j])
                    else:
                        Nt[i, j] = Nt[i, j] / 3.0 + 2.0 / 3.0 * (Y[i, j] + dt * K1[i, j])
        invert_equilibrium(Nt, C, F, K, qm, b, kind)
        for i in range(m):
            face_values(C[i], order, eps, face)
            outlet[s, i] = max(face[N], 0.0)


@numba.njit(cache=True)
def conservative_clip(c):
    """Set negative values to zero and take the deficit from the nearest positive neighbours (in place):
    the sum is unchanged and every value ends ``>= 0`` (when the sum is). Returns the mass moved. Used
    after the linear high-order implicit steps, whose small undershoots (1e-9 of the peak on resolved
    grids) would otherwise show as negative concentrations."""
    N = c.size
    moved = 0.0
    for j in range(N):
        if c[j] < 0.0:
            deficit = -c[j]
            c[j] = 0.0
            moved += deficit
            r = 1
            while deficit > 0.0 and r < N:
                for k in (j - r, j + r):
                    if 0 <= k < N and c[k] > 0.0 and deficit > 0.0:
                        take = min(c[k], deficit)
                        c[k] -= take
                        deficit -= take
                r += 1
    return moved


@numba.njit(cache=True)
def csr_matvec(indptr, indices, data, x, out):
    """``out = A x`` for a CSR matrix (no Python dispatch: the implicit steps call it three times a step)."""
    for i in range(indptr.size - 1):
        acc = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            acc += data[k] * x[indices[k]]
        out[i] = acc
