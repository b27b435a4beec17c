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
then capped to ``[0, (n_{j-1} - mu c_{j-1}) / lambda]`` (``lambda = dt u / dx``, ``mu`` = ``dt / dx^2`` times
the dispersion on the upwind cell's dispersive faces, ``n`` what the cell holds: ``n = c`` for a mobile
phase transported alone, ``n = c + F q*(c)`` at rapid equilibrium, where the totals are stepped), so a
forward-Euler step never takes more out of a cell than it holds: every forward-Euler stage, hence every
SSP-RK3 stage, keeps ``n`` (and ``c``) non-negative whenever ``mu c <= n`` (e.g. ``mu <= 1``), whatever
the advective Courant number. The cap is inactive in smooth regions when ``lambda + mu <= n/c`` (the
retention factor, >= 1): :func:`retention_dt` chooses rapid-equilibrium steps so.

The hot loops are compiled with ``error_model="numpy"`` (no ZeroDivisionError checks, so LLVM vectorises
them; every denominator is positive by construction) and index offset views by the loop counter.
"""
from __future__ import annotations

import numba
import numpy as np

LINEAR = 0
LANGMUIR = 1
NONE = 2

#: vectorised Newton sweeps of the competitive Langmuir inversion before the per-cell convergence check
NEWTON_SWEEPS = 2


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


@numba.njit(cache=True, inline="always", error_model="numpy")
def _weno5(a, b, m, d, e, eps):
    """WENO5-Z value at the right face of cell ``m`` from the cells ``a, b, m, d, e`` (Borges et al. 2008)."""
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
    return (w0 * p0 + w1 * p1 + w2 * p2) / (w0 + w1 + w2)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _weno3(b, m, d, eps):
    p0 = -0.5 * b + 1.5 * m
    p1 = 0.5 * m + 0.5 * d
    b0 = (m - b) ** 2
    b1 = (d - m) ** 2
    tau = abs(b0 - b1)
    w0 = (1.0 / 3.0) * (1.0 + tau / (b0 + eps))
    w1 = (2.0 / 3.0) * (1.0 + tau / (b1 + eps))
    return (w0 * p0 + w1 * p1) / (w0 + w1)


@numba.njit(cache=True, error_model="numpy")
def face_value(c, j, order, eps):
    """Left-biased WENO-Z value ``c^-_j`` at the one face ``j`` (``1 <= j <= N``), boundary extensions included."""
    N = c.size
    i = j - 1  # upwind cell
    if order == 5:
        return _weno5(_ext(c, i - 2, N), _ext(c, i - 1, N), c[i], _ext(c, i + 1, N), _ext(c, i + 2, N), eps)
    if order == 3:
        return _weno3(_ext(c, i - 1, N), c[i], _ext(c, i + 1, N), eps)
    return c[i]


@numba.njit(cache=True, error_model="numpy")
def face_values(c, order, eps, out):
    """Left-biased WENO-Z values ``out[j] = c^-_{j}`` at faces ``j = 1..N`` (``out[0]`` unused). The faces
    whose stencil lies inside the grid are computed in a loop without boundary branches (vectorised)."""
    N = c.size
    if order == 5:
        lo, hi = 3, N - 2
    elif order == 3:
        lo, hi = 2, N - 1
    else:
        for j in range(1, N + 1):
            out[j] = c[j - 1]
        return
    for j in range(1, lo):
        out[j] = face_value(c, j, order, eps)
    # interior faces: offset views, so that every index is the (non-negative) loop counter
    if order == 5:
        a, b, m, d, e, o = c[0:N - 4], c[1:N - 3], c[2:N - 2], c[3:N - 1], c[4:N], out[3:N - 1]
        for k in range(N - 4):
            o[k] = _weno5(a[k], b[k], m[k], d[k], e[k], eps)
    else:
        b, m, d, o = c[0:N - 2], c[1:N - 1], c[2:N], out[2:N]
        for k in range(N - 2):
            o[k] = _weno3(b[k], m[k], d[k], eps)
    for j in range(hi + 1, N + 1):
        out[j] = face_value(c, j, order, eps)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _capped(v, room, lam):
    """The face value ``v`` limited to ``[0, room / lam]`` (``room`` what the upwind cell may lose by
    advection in the step, ``lam = dt u / dx``)."""
    if v < 0.0:
        v = 0.0
    if lam * v > room:
        v = room / lam
        if not v > 0.0:  # room <= 0 (also lam = 0)
            v = 0.0
    return v


@numba.njit(cache=True, error_model="numpy")
def transport(c, n, cin, uf, Df, dx, dt, order, eps, face, out):
    """``out`` = the advection–dispersion rate of one component, ``-(F_{j+1} - F_j)/dx`` (the same for ``c``
    and for the total ``n``, which only moves with ``c``). ``n`` is the amount per unit volume a cell holds
    (``n = c`` for a mobile phase alone, ``n = c + F q*(c)`` at rapid equilibrium): the upwind face value
    is capped so that a forward-Euler step of length ``dt`` takes at most ``n_j`` out of cell ``j``
    (``n_new >= 0`` whenever ``mu_j c_j <= n_j``, ``mu_j`` = ``dt / dx^2`` times the dispersion on the
    cell's dispersive faces). ``face`` is scratch of size N + 1 (it holds the face fluxes afterwards);
    returns the capped outlet face value ``c^-_N``."""
    N = c.size
    face_values(c, order, eps, face)
    h = dt / dx
    hd = dt / (dx * dx)
    idx = 1.0 / dx
    # cell j-1 loses u_j c^-_j through face j and D (c_{j-1} - neighbour) through its dispersive faces;
    # face j's flux: u_j c^-_j - D_j (c_j - c_{j-1}) / dx (no dispersive flux through the outlet)
    face[1] = uf[1] * _capped(face[1], n[0] - c[0] * hd * Df[1], h * uf[1]) - Df[1] * (c[1] - c[0]) * idx
    # interior faces j = 2..N-1 (offset views: the loop counter is every index)
    fj, uj, dl, dj, cl, cj, nl = face[2:N], uf[2:N], Df[1:N - 1], Df[2:N], c[1:N - 1], c[2:N], n[1:N - 1]
    for k in range(N - 2):
        v = _capped(fj[k], nl[k] - cl[k] * (hd * (dl[k] + dj[k])), h * uj[k])
        fj[k] = uj[k] * v - dj[k] * (cj[k] - cl[k]) * idx
    v_out = _capped(face[N], n[N - 1] - c[N - 1] * hd * Df[N - 1], h * uf[N])
    face[N] = uf[N] * v_out
    face[0] = uf[0] * cin
    fr = face[1:N + 1]
    for j in range(N):
        out[j] = (face[j] - fr[j]) * idx
    return v_out


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
def _local_solve(qj, cj, n, rhs, coef, F, ka, kd, qm, r1, G, dq, J):
    """Newton for ``q - coef r(q) = rhs`` in one cell (``c = n - F q``), from ``qj`` (in place; ``cj`` follows)."""
    m = qj.size
    for it in range(40):
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
                J[i, k] = (1.0 if i == k else 0.0) - coef * d
            G[i] = qj[i] - coef * r1[i] - rhs[i]
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


_GAMMA_TRBDF2 = 2.0 - np.sqrt(2.0)


@numba.njit(cache=True)
def langmuir_kinetic_step(C, Q, F, ka, kd, qm, h, substeps):
    """Integrate the local kinetics over ``h`` in every cell with ``substeps`` TR-BDF2 substeps (a
    trapezoidal stage to ``gamma hs``, then BDF2; L-stable, second order), each stage solved by Newton on
    ``q`` with ``c = n - F q``, so ``c + F q`` is exact. L-stability matters when ``k_a c hs`` is large
    (an overloaded column): the trapezoidal rule alone oscillates there. Round-off excursions are clamped
    to ``0 <= q_i <= n_i / F`` (``c_i >= 0``), which keeps ``n`` exact."""
    m, N = C.shape
    hs = h / substeps
    g = _GAMMA_TRBDF2
    w = (1.0 - g) / (2.0 - g)
    a1 = 1.0 / (g * (2.0 - g))
    a0 = (1.0 - g) ** 2 / (g * (2.0 - g))
    cj = np.empty(m)
    qj = np.empty(m)
    q0 = np.empty(m)
    n = np.empty(m)
    r0 = np.empty(m)
    r1 = np.empty(m)
    rhs = np.empty(m)
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
                rhs[i] = qj[i] + 0.5 * g * hs * r0[i]
            _local_solve(qj, cj, n, rhs, 0.5 * g * hs, F, ka, kd, qm, r1, G, dq, J)
            for i in range(m):
                rhs[i] = a1 * qj[i] - a0 * q0[i]
            _local_solve(qj, cj, n, rhs, w * hs, F, ka, kd, qm, r1, G, dq, J)
            for i in range(m):
                if qj[i] < 0.0:
                    qj[i] = 0.0
                cj[i] = n[i] - F * qj[i]
                if cj[i] < 0.0:  # q above n/F: the mobile phase emptied (by round-off, or an overshoot)
                    cj[i] = 0.0
                    qj[i] = max(n[i], 0.0) / F
        for i in range(m):
            C[i, j] = cj[i]
            Q[i, j] = qj[i]


@numba.njit(cache=True, error_model="numpy")
def invert_equilibrium(Nt, C, F, K, qm, b, kind):
    """``c`` from the total ``n = c + F q*(c)`` in every cell (in place into ``C``): linear ``q* = K c``;
    competitive Langmuir ``q*_i = qm_i b_i c_i / (1 + sum_k b_k c_k)`` (closed form for one component, a
    scalar safeguarded Newton iteration on ``s = 1 + sum_k b_k c_k`` otherwise). A total that round-off left
    a few ulp below zero (a cell emptied exactly by the positivity cap) gives ``c = 0``."""
    m, N = Nt.shape
    if kind == LINEAR:
        for i in range(m):
            for j in range(N):
                C[i, j] = max(Nt[i, j], 0.0) / (1.0 + F * K[i])
        return
    if kind == NONE:
        for i in range(m):
            for j in range(N):
                C[i, j] = max(Nt[i, j], 0.0)
        return
    if m == 1:
        a = F * qm[0] * b[0]
        for j in range(N):
            n = max(Nt[0, j], 0.0)
            B = 1.0 + a - b[0] * n
            disc = B * B + 4.0 * b[0] * n
            # root of b c^2 + B c - n = 0, the non-negative one, without cancellation
            if B >= 0.0:
                C[0, j] = 2.0 * n / (B + np.sqrt(disc))
            else:
                C[0, j] = (-B + np.sqrt(disc)) / (2.0 * b[0])
        return
    # competitive Langmuir, m components: with s = 1 + sum_k b_k c_k, c_i = n_i s / (s + F a_i) (a_i = qm_i b_i),
    # so s solves the scalar equation g(s) = s - 1 - sum_i b_i n_i s / (s + F a_i) = 0 on [1, 1 + sum_i b_i n_i]
    # (c_i <= n_i). g is convex with g(1) <= 0, so the root is unique and a Newton step from any point with
    # g' > 0 lands at or right of it, from where Newton decreases monotonically to it. NEWTON_SWEEPS such
    # steps from the previous c (vectorised over the cells), then per cell: accept when the Newton step is
    # below round-off, else finish with the safeguarded scalar iteration.
    W = np.empty((m + 4, N))
    bn = W[:m]
    S = W[m]
    HI = W[m + 1]
    G = W[m + 2]
    D = W[m + 3]
    for j in range(N):
        S[j] = 1.0
        HI[j] = 1.0
    for i in range(m):
        bi = b[i]
        ni = Nt[i]
        ci = C[i]
        bni = bn[i]
        for j in range(N):
            v = bi * max(ni[j], 0.0)
            bni[j] = v
            HI[j] += v
            S[j] += bi * max(ci[j], 0.0)
    for it in range(NEWTON_SWEEPS + 1):
        for j in range(N):
            G[j] = S[j] - 1.0
            D[j] = 1.0
        for i in range(m):
            al = F * qm[i] * b[i]
            bni = bn[i]
            for j in range(N):
                r = 1.0 / (S[j] + al)
                t = bni[j] * r
                G[j] -= t * S[j]
                D[j] -= t * al * r
        if it == NEWTON_SWEEPS:
            break
        for j in range(N):
            new = S[j] - G[j] / D[j] if D[j] > 0.0 else HI[j]
            S[j] = min(max(new, 1.0), HI[j])
    for j in range(N):
        if D[j] > 0.0 and abs(G[j]) <= 4e-15 * D[j] * S[j]:  # the Newton step is below round-off: converged
            S[j] -= G[j] / D[j]
        else:
            S[j] = _solve_s(bn, j, F, qm, b, S[j], HI[j])
    for i in range(m):
        al = F * qm[i] * b[i]
        ni = Nt[i]
        ci = C[i]
        for j in range(N):
            ci[j] = max(ni[j], 0.0) * S[j] / (S[j] + al)


@numba.njit(cache=True, error_model="numpy")
def _solve_s(bn, j, F, qm, b, s_, hi):
    """Safeguarded Newton (bisection fallback) for ``g(s) = s - 1 - sum_i bn_ij s / (s + F qm_i b_i) = 0`` on
    ``[1, hi]`` from ``s_``, to round-off."""
    m = bn.shape[0]
    lo = 1.0
    if s_ < lo or s_ > hi:
        s_ = 0.5 * (lo + hi)
    for it in range(100):
        g = s_ - 1.0
        dg = 1.0
        for i in range(m):
            a_i = F * qm[i] * b[i]
            den = s_ + a_i
            g -= bn[i, j] * s_ / den
            dg -= bn[i, j] * a_i / (den * den)
        if dg > 0.0 and abs(g) <= 4e-15 * dg * s_:  # the Newton step is below round-off: converged
            return s_ - g / dg
        if g > 0.0:
            hi = s_
        else:
            lo = s_
        new = s_ - g / dg if dg > 0.0 else 0.5 * (lo + hi)
        if not (lo < new < hi):
            new = 0.5 * (lo + hi)
        if hi - lo <= 4e-15 * hi:
            return new
        s_ = new
    return s_


@numba.njit(cache=True, error_model="numpy")
def advance_kinetic(C, Q, nsteps, dt, dx, uf, Df, cin, order, eps, kind, F, ka, kd, qm, substeps, outlet, outflow):
    """``Df`` holds one dispersion field per component, shape ``(m, N + 1)``.
    ``nsteps`` Strang steps: half-step kinetics (exact for linear, TR-BDF2 substeps for Langmuir), one
    SSP-RK3 transport step of every mobile phase (:func:`_equilibrium_step` without binding: the mobile
    phase holds only ``c``), half-step kinetics. ``cin[s, i]`` is component ``i``'s inlet concentration
    averaged over step ``s`` (so injected mass is exact); ``outlet[s, i]`` receives the outlet face value
    after step ``s`` and ``outflow[s, i]`` the amount (per unit area) that left through the outlet during
    it, exactly as the scheme counts it."""
    m, N = C.shape
    Nt = np.empty((m, N))
    Y = np.empty((m, N))
    R = np.empty((m, N))
    face = np.empty(N + 1)
    for s in range(nsteps):
        _kinetics(C, Q, F, ka, kd, qm, 0.5 * dt, substeps, kind)
        for i in range(m):
            for j in range(N):
                Nt[i, j] = C[i, j]
        _equilibrium_step(Nt, C, Y, R, face, dt, cin, s, dx, uf, Df, order, eps, NONE, F, ka, qm, ka, outflow)
        _kinetics(C, Q, F, ka, kd, qm, 0.5 * dt, substeps, kind)
        for i in range(m):
            outlet[s, i] = max(face_value(C[i], N, order, eps), 0.0)


@numba.njit(cache=True)
def _kinetics(C, Q, F, ka, kd, qm, h, substeps, kind):
    """The local exchange over ``h`` in every cell: exact for linear binding, TR-BDF2 for Langmuir."""
    if kind == LINEAR:
        for i in range(C.shape[0]):
            linear_kinetic_exact(C[i], Q[i], F, ka[i], kd[i], h)
    elif kind == LANGMUIR:
        langmuir_kinetic_step(C, Q, F, ka, kd, qm, h, substeps)


@numba.njit(cache=True, error_model="numpy")
def _equilibrium_step(Nt, C, Y, R, face, dt, cin, s, dx, uf, Df, order, eps, kind, F, K, qm, b, outflow):
    """One Shu–Osher SSP-RK3 step of length ``dt`` of the totals ``Nt`` (``C`` holds ``c(Nt)`` on entry and
    on exit). Every stage is a convex combination of forward-Euler steps of length ``dt``, each of which the
    positivity cap of :func:`transport` keeps non-negative, so every stage's totals are non-negative.
    ``outflow[s, i]`` receives the amount that left through the outlet with the method's weights (1/6, 1/6,
    2/3), exactly as the scheme counts it."""
    m, N = Nt.shape
    for stage in range(3):
        if stage > 0:
            invert_equilibrium(Y, C, F, K, qm, b, kind)
        src = Nt if stage == 0 else Y
        w = 1.0 / 6.0 if stage < 2 else 2.0 / 3.0
        for i in range(m):
            v_out = transport(C[i], src[i], cin[s, i], uf, Df[i], dx, dt, order, eps, face, R[i])
            if stage == 0:
                outflow[s, i] = 0.0
            outflow[s, i] += dt * uf[N] * w * v_out
        for i in range(m):
            n, y, r = Nt[i], Y[i], R[i]
            if stage == 0:
                for j in range(N):
                    y[j] = n[j] + dt * r[j]
            elif stage == 1:
                for j in range(N):
                    y[j] = 0.75 * n[j] + 0.25 * (y[j] + dt * r[j])
            else:
                for j in range(N):
                    n[j] = n[j] / 3.0 + 2.0 / 3.0 * (y[j] + dt * r[j])
    invert_equilibrium(Nt, C, F, K, qm, b, kind)


@numba.njit(cache=True, error_model="numpy")
def advance_equilibrium(Nt, C, nsteps, dt, dx, uf, Df, cin, order, eps, kind, F, K, qm, b, outlet, outflow):
    """``nsteps`` SSP-RK3 steps of the totals ``n = c + F q*(c)`` (rapid equilibrium, or no binding):
    ``n_t = -(u c)_x + (D c_x)_x`` with ``c`` recovered from ``n`` in every stage; components couple only
    through the (competitive) isotherm. ``C`` holds ``c(Nt)`` on exit."""
    m, N = Nt.shape
    R = np.empty((m, N))
    Y = np.empty((m, N))
    face = np.empty(N + 1)
    invert_equilibrium(Nt, C, F, K, qm, b, kind)
    for s in range(nsteps):
        _equilibrium_step(Nt, C, Y, R, face, dt, cin, s, dx, uf, Df, order, eps, kind, F, K, qm, b, outflow)
        for i in range(m):
            outlet[s, i] = max(face_value(C[i], N, order, eps), 0.0)


#: advective Courant number on the fastest characteristic, relative to ``cfl``, below which WENO5-Z +
#: SSP-RK3 stays free of overshoot at a dispersion-free Langmuir shock: with ``cfl = 0.9`` the characteristic
#: Courant number is <= 0.75 (LANG-1 at 1600 cells, measured: overshoot 5e-5 c0 at 0.75, 4e-4 at 0.82,
#: 3.5e-3 at 0.88)
SHOCK_COURANT = 0.75 / 0.9


@numba.njit(cache=True, error_model="numpy")
def retention_dt(C, F, K, qm, b, kind, irate, iadv, cfl, S, W):
    """Forward-Euler length ``h`` for the current state ``C``, the largest with, in every cell ``j`` and
    component ``i``,

    * ``h rate_ij <= cfl rho_ij``: ``rate_ij = u/dx + (D_left + D_right)/dx^2`` (``irate`` = its inverse) and
      ``rho_ij = n_ij / c_ij`` the cell's retention factor (``1 + F K_i`` linear, ``1 + F qm_i b_i / s_j``
      competitive Langmuir with ``s_j = 1 + sum_k b_k c_kj``, 1 without binding): the total moves at
      ``u / rho``, and the positivity cap of :func:`transport` stays inactive where the face value is about
      the cell value;
    * Langmuir only (shocks): ``h u/dx <= SHOCK_COURANT cfl lambda_j`` (``iadv`` = ``dx/u``), ``lambda_j`` the
      smallest eigenvalue of ``dn/dc`` (the fastest characteristic moves at ``u / lambda_j``; exact for one
      and two components, for more the lower bound ``max(1, 1 + F (min_i qm_i b_i / s - sum_i qm_i b_i^2
      c_i / s^2))`` of the diagonal-minus-rank-one matrix).

    ``S``, ``W``: scratch of size N."""
    m, N = C.shape
    for j in range(N):
        W[j] = np.inf
    if kind != LANGMUIR:
        for i in range(m):
            rho = 1.0 + F * K[i] if kind == LINEAR else 1.0
            ir = irate[i]
            for j in range(N):
                v = rho * ir[j]
                W[j] = v if v < W[j] else W[j]
    else:
        for j in range(N):
            S[j] = 1.0
        for k in range(m):
            bk = b[k]
            ck = C[k]
            for j in range(N):
                S[j] += bk * max(ck[j], 0.0)
        for i in range(m):
            ai = F * qm[i] * b[i]
            ir = irate[i]
            for j in range(N):
                v = (1.0 + ai / S[j]) * ir[j]
                W[j] = v if v < W[j] else W[j]
        sc = SHOCK_COURANT
        if m == 1:
            a0 = F * qm[0] * b[0]
            for j in range(N):
                v = sc * (1.0 + a0 / (S[j] * S[j])) * iadv[j]
                W[j] = v if v < W[j] else W[j]
        elif m == 2:
            a0 = qm[0] * b[0]
            a1 = qm[1] * b[1]
            c0 = C[0]
            c1 = C[1]
            for j in range(N):
                r = 1.0 / S[j]
                r2 = r * r
                x0 = max(c0[j], 0.0)
                x1 = max(c1[j], 0.0)
                m00 = a0 * (S[j] - b[0] * x0) * r2
                m11 = a1 * (S[j] - b[1] * x1) * r2
                off = (a0 * x0 * b[1]) * (a1 * x1 * b[0]) * (r2 * r2)
                half = 0.5 * (m00 - m11)
                lam = 1.0 + F * (0.5 * (m00 + m11) - np.sqrt(half * half + off))
                lam = max(lam, 1.0)
                v = sc * lam * iadv[j]
                W[j] = v if v < W[j] else W[j]
        else:
            amin = np.inf
            for i in range(m):
                amin = min(amin, qm[i] * b[i])
            for j in range(N):
                G = 0.0
                for i in range(m):
                    G += qm[i] * b[i] * b[i] * max(C[i, j], 0.0)
                r = 1.0 / S[j]
                lam = max(1.0 + F * (amin * r - G * r * r), 1.0)
                v = sc * lam * iadv[j]
                W[j] = v if v < W[j] else W[j]
    best = np.inf
    for j in range(N):
        if W[j] < best:
            best = W[j]
    return cfl * best


@numba.njit(cache=True)
def inlet_cumulative(T, V, cum, t, out):
    """``out[i] = int_0^t c_in,i`` of the piecewise-linear inlet (breakpoints ``T``, values ``V``, ``cum`` the
    integrals up to each breakpoint): the compiled form of :meth:`Inlet.cumulative`."""
    nT = T.size
    m = V.shape[1]
    if t <= T[0]:
        for i in range(m):
            out[i] = 0.0
        return
    if t >= T[nT - 1]:
        for i in range(m):
            out[i] = cum[nT - 1, i] + V[nT - 1, i] * (t - T[nT - 1])
        return
    lo, hi = 0, nT - 1  # T[lo] <= t < T[hi]: bisect to the last breakpoint <= t (a repeated time is a jump)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if T[mid] <= t:
            lo = mid
        else:
            hi = mid
    k = lo
    t0 = T[k]
    t1 = T[k + 1]
    for i in range(m):
        v1 = V[k, i] + (V[k + 1, i] - V[k, i]) * ((t - t0) / (t1 - t0))
        out[i] = cum[k, i] + 0.5 * (V[k, i] + v1) * (t - t0)


@numba.njit(cache=True, error_model="numpy")
def advance_equilibrium_adaptive(Nt, C, t, t_end, cfl, irate, iadv, dt_hard, dx, uf, Df, T, V, cum, order, eps, kind,
                                 F, K, qm, b, times, outlet, outflow):
    """SSP-RK3 steps of the totals from ``t`` towards ``t_end``, each step chosen from the state at its start:
    ``dt = min(retention_dt(C, ..., cfl), dt_hard)`` (``dt_hard``: ``dt (D_left + D_right)/dx^2 <= rho_min``,
    the retention factor's state-independent lower bound, so dispersion alone never removes more than a cell
    holds and the cap's positivity guarantee holds in every stage whatever the state); the last two steps
    are shortened to end exactly at ``t_end``. The inlet is averaged exactly over every step
    (:func:`inlet_cumulative`), so the injected mass is exact. Fills ``times[s]``, ``outlet[s, i]`` and
    ``outflow[s, i]`` for at most ``times.size`` steps; returns ``(steps taken, time reached)``. ``C`` holds
    ``c(Nt)`` on exit."""
    m, N = Nt.shape
    R = np.empty((m, N))
    Y = np.empty((m, N))
    face = np.empty(N + 1)
    cin = np.empty((1, m))
    S = np.empty(N)
    Wdt = np.empty(N)
    ca = np.empty(m)
    cb = np.empty(m)
    invert_equilibrium(Nt, C, F, K, qm, b, kind)
    inlet_cumulative(T, V, cum, t, ca)
    nmax = times.size
    s = 0
    while s < nmax and t < t_end:
        dt = min(retention_dt(C, F, K, qm, b, kind, irate, iadv, cfl, S, Wdt), dt_hard)
        left = t_end - t
        if dt >= left * (1.0 - 1e-12):
            dt = left
            t_new = t_end
        else:
            if dt > 0.5 * left:
                dt = 0.5 * left  # two near-equal last steps, not one tiny one
            t_new = t + dt
        inlet_cumulative(T, V, cum, t_new, cb)
        for i in range(m):
            cin[0, i] = (cb[i] - ca[i]) / dt
            ca[i] = cb[i]
        _equilibrium_step(Nt, C, Y, R, face, dt, cin, 0, dx, uf, Df, order, eps, kind, F, K, qm, b,
                          outflow[s:s + 1])
        t = t_new
        times[s] = t
        for i in range(m):
            outlet[s, i] = max(face_value(C[i], N, order, eps), 0.0)
        s += 1
    return s, t


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
