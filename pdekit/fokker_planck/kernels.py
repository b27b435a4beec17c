"""Compiled Chang–Cooper kernels: face coefficients, the matrix-free generator and ADI line solves.

Every Fokker–Planck operator in pdekit is a sum over axes of one-dimensional conservative
operators. Along an axis, the Chang–Cooper (Chang & Cooper, J. Comput. Phys. 6 (1970) 1) face
flux — algebraically the Scharfetter–Gummel (1969) exponentially fitted flux — of
``du/dt = d/dx (C du/dx + B u)`` is

    F_{j+1/2} = (A C / d)_{j+1/2} [ Bern(-w) u_{j+1} - Bern(w) u_j ],   w = d B / C,
    Bern(w) = w / (e^w - 1),

with ``d`` the distance between the two cell centres and ``A`` the face area factor of the grid
metric; where ``C = 0`` it falls back to pure upwinding ``F = max(B, 0) u_{j+1} - max(-B, 0) u_j``.
The update is ``du_j/dt = (F_{j+1/2} - F_{j-1/2}) / M_j``. Writing ``F = kR u_R - kL u_L`` the
coefficients ``kL = A C Bern(w)/d`` and ``kR = A C Bern(-w)/d`` are non-negative, which makes the
generator an M-matrix transpose (non-negative off-diagonals, zero column sums with weights ``M``):
mass is conserved to round-off and backward Euler keeps ``u >= 0`` for every time step. Zero flux
at a face means ``u_R / u_L = kL / kR = exp(-w)``: the discrete equilibrium is exactly Boltzmann
when ``w`` is a potential difference (Larsen, Levermore, Pomraning & Sanderson, JCP 61 (1985) 359).

The kernels work on the internal 3D layout of :mod:`pdekit.grid` (leading singleton axes), on
interior cells only; per axis ``d`` the face arrays have ``n_d + 1`` entries along ``d``. Periodic
axes use face 0 as the wrap face (left cell ``n-1``, right cell ``0``) and ignore face ``n``.
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def bernoulli(w):
    """``B(w) = w / (e^w - 1)`` with ``B(0) = 1``; accurate for every finite ``w``."""
    if abs(w) < 1e-6:
        return 1.0 - 0.5 * w + w * w / 12.0
    if w > 700.0:
        return w * np.exp(-w)
    return w / np.expm1(w)


@numba.njit(cache=True)
def chang_cooper_coefficients(C, B, w, dist, area, kL, kR):
    """Face coefficients ``kL``, ``kR`` (flat arrays of equal length) of ``F = kR u_R - kL u_L``.

    ``C`` diffusion, ``B`` drift coefficient (``-velocity``), ``w`` the Chang–Cooper weight
    ``∫ B/C dx`` over the face interval (used where ``C > 0``), ``dist`` the centre-to-centre
    distance and ``area`` the metric face factor.
    """
    for i in range(C.size):
        c = C[i]
        if c > 0.0:
            g = area[i] * c / dist[i]
            kL[i] = g * bernoulli(w[i])
            kR[i] = g * bernoulli(-w[i])
        else:
            b = B[i]
            kR[i] = area[i] * (b if b > 0.0 else 0.0)
            kL[i] = area[i] * (-b if b < 0.0 else 0.0)


@numba.njit(cache=True)
def _axis_line(a, d, i, j):
    """1D view along internal axis ``d`` of a 3D array at the other two indices ``(i, j)``."""
    if d == 0:
        return a[:, i, j]
    elif d == 1:
        return a[i, :, j]
    return a[i, j, :]


@numba.njit(cache=True)
def axis_rate(u, kL, kR, minv, d, periodic, out, accumulate):
    """``out (+)= L_d u``: the divergence of the Chang–Cooper fluxes along internal axis ``d``.

    ``u``: (n0, n1, n2) interior cells; ``kL``/``kR``: face coefficients with ``n_d + 1`` faces
    along ``d``; ``minv``: ``1/M`` per cell along ``d``. Dirichlet/Neumann data enter as a
    separate affine vector, so a missing neighbour counts as zero here.
    """
    n0, n1, n2 = u.shape
    n = u.shape[d]
    na = n1 if d == 0 else n0
    nb = n1 if d == 2 else n2
    for i in range(na):
        for j in range(nb):
            ul = _axis_line(u, d, i, j)
            ol = _axis_line(out, d, i, j)
            fl = _axis_line(kL, d, i, j)
            fr = _axis_line(kR, d, i, j)
            if not accumulate:
                for k in range(n):
                    ol[k] = 0.0
            # face 0
            if periodic:
                F = fr[0] * ul[0] - fl[0] * ul[n - 1]
                ol[n - 1] += F * minv[n - 1]
            else:
                F = fr[0] * ul[0]
            ol[0] -= F * minv[0]
            for f in range(1, n):
                F = fr[f] * ul[f] - fl[f] * ul[f - 1]
                ol[f - 1] += F * minv[f - 1]
                ol[f] -= F * minv[f]
            if not periodic:
                F = -fl[n] * ul[n - 1]
                ol[n - 1] += F * minv[n - 1]


@numba.njit(cache=True)
def _thomas(a, b, c, r, x, cp, dp):
    """Solve the tridiagonal system ``a_k x_{k-1} + b_k x_k + c_k x_{k+1} = r_k`` (Thomas)."""
    n = b.size
    cp[0] = c[0] / b[0]
    dp[0] = r[0] / b[0]
    for k in range(1, n):
        m = b[k] - a[k] * cp[k - 1]
        cp[k] = c[k] / m
        dp[k] = (r[k] - a[k] * dp[k - 1]) / m
    x[n - 1] = dp[n - 1]
    for k in range(n - 2, -1, -1):
        x[k] = dp[k] - cp[k] * x[k + 1]


@numba.njit(cache=True)
def _cyclic(a, b, c, r, x, cp, dp, bb, z, uvec):
    """Cyclic tridiagonal solve (corners ``a_0`` and ``c_{n-1}``) by Sherman–Morrison."""
    n = b.size
    alpha = c[n - 1]  # coefficient of x_0 in row n-1
    beta = a[0]  # coefficient of x_{n-1} in row 0
    gamma = -b[0]
    for k in range(n):
        bb[k] = b[k]
        uvec[k] = 0.0
    bb[0] = b[0] - gamma
    bb[n - 1] = b[n - 1] - alpha * beta / gamma
    _thomas(a, bb, c, r, x, cp, dp)
    uvec[0] = gamma
    uvec[n - 1] = alpha
    _thomas(a, bb, c, uvec, z, cp, dp)
    fact = (x[0] + beta * x[n - 1] / gamma) / (1.0 + z[0] + beta * z[n - 1] / gamma)
    for k in range(n):
        x[k] -= fact * z[k]


@numba.njit(cache=True)
def axis_implicit_solve(rhs, kL, kR, minv, nu, d, periodic, factor, out):
    """Solve ``(I - factor (L_d - nu)) out = rhs`` line by line along internal axis ``d``.

    ``nu`` is a per-cell diagonal rate (the axis' share of the loss term), shape like ``rhs``.
    """
    n0, n1, n2 = rhs.shape
    n = rhs.shape[d]
    na = n1 if d == 0 else n0
    nb = n1 if d == 2 else n2
    a = np.empty(n)
    b = np.empty(n)
    c = np.empty(n)
    r = np.empty(n)
    x = np.empty(n)
    cp = np.empty(n)
    dp = np.empty(n)
    bb = np.empty(n)
    z = np.empty(n)
    uv = np.empty(n)
    for i in range(na):
        for j in range(nb):
            fl = _axis_line(kL, d, i, j)
            fr = _axis_line(kR, d, i, j)
            rl = _axis_line(rhs, d, i, j)
            nl = _axis_line(nu, d, i, j)
            for k in range(n):
                # row k of L_d: u_{k-1} kL_k/M + u_{k+1} kR_{k+1}/M - (kR_k + kL_{k+1}) u_k / M
                kr_lo = fr[k]
                kl_hi = fl[k + 1]
                if periodic and k == n - 1:
                    kl_hi = fl[0]
                a[k] = -factor * fl[k] * minv[k]
                c[k] = -factor * (fr[k + 1] if k < n - 1 else fr[0]) * minv[k]
                b[k] = 1.0 + factor * ((kr_lo + kl_hi) * minv[k] + nl[k])
                r[k] = rl[k]
            if periodic and n > 2:
                a[0] = -factor * fl[0] * minv[0]
                c[n - 1] = -factor * fr[0] * minv[n - 1]
                _cyclic(a, b, c, r, x, cp, dp, bb, z, uv)
            else:
                if not periodic:
                    # the boundary faces couple to data only: no off-diagonal corner terms
                    c[n - 1] = 0.0
                    b[n - 1] = 1.0 + factor * ((fr[n - 1] + fl[n]) * minv[n - 1] + nl[n - 1])
                a[0] = 0.0
                _thomas(a, b, c, r, x, cp, dp)
            ol = _axis_line(out, d, i, j)
            for k in range(n):
                ol[k] = x[k]
