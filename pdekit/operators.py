"""Sparse finite-volume operators assembled with vectorised NumPy (no Python loops over cells).

:func:`diffusion_operator` builds the matrix ``L`` and the boundary vectors of the two-point flux
discretisation of ``div(D grad u)`` used by the explicit kernels, so that implicit and explicit
steps solve the same semi-discrete system ``du/dt = L u + b(t)``.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .boundary import DIRICHLET, NEUMANN, PERIODIC


def _face_index_arrays(shape, d, f_lo, f_hi):
    """Flat indices of the cells left/right of faces ``f`` along axis ``d`` (other axes all)."""
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    left = np.take(idx, f_lo, axis=d)
    right = np.take(idx, f_hi, axis=d)
    return left, right


def diffusion_operator(grid, boundaries, face_diffusivity):
    """Matrix and boundary vectors of ``div(D grad u)`` on ``grid`` with ``boundaries``.

    ``face_diffusivity``: per axis, an array of face diffusivities shaped like that axis' faces.
    Returns ``(L, bvecs)`` where ``L`` is CSR (N x N, N = grid.size, C order) and ``bvecs`` a dict
    ``{(d, side): vector}`` so that the boundary contribution at time t is
    ``sum(value(d, side, t) * bvecs[d, side])`` (Dirichlet values and Neumann inflow fluxes).
    """
    shape = grid.shape
    N = grid.size
    rows, cols, vals = [], [], []
    diag = np.zeros(N)
    bvecs = {}
    for d, axis in enumerate(grid.axes):
        n = axis.n
        w = axis.widths
        A = grid.face_area(d)
        im = 1.0 / grid.cell_measure(d)
        D = np.asarray(face_diffusivity[d])
        msh = [1] * grid.ndim
        msh[d] = -1
        lo, hi = boundaries.sides[d]
        # interior faces 1..n-1 and, if periodic, the wrap face 0 (left cell n-1)
        f = np.arange(1, n)
        left_i, right_i = f - 1, f
        h = 0.5 * (w[left_i] + w[right_i])
        if lo.code == PERIODIC:
            f = np.concatenate([f, [0]])
            left_i = np.concatenate([left_i, [n - 1]])
            right_i = np.concatenate([right_i, [0]])
            h = np.concatenate([h, [0.5 * (w[n - 1] + w[0])]])
        L, R = _face_index_arrays(shape, d, left_i, right_i)
        Df = np.take(D, f, axis=d)
        c = Df * (A[f] / h).reshape(msh)  # A D / h per face, shaped like L/R
        cL = (c * im[left_i].reshape(msh)).ravel()
        cR = (c * im[right_i].reshape(msh)).ravel()
        L, R = L.ravel(), R.ravel()
        # rate_R += -c (u_R - u_L)/M_R ; rate_L += c (u_R - u_L)/M_L
        rows += [R, R, L, L]
        cols += [R, L, R, L]
        vals += [-cR, cR, cL, -cL]
        for side, cond in ((0, lo), (1, hi)):
            fb = 0 if side == 0 else n
            cell = 0 if side == 0 else n - 1
            C = np.take(_face_index_arrays(shape, d, [cell], [cell])[0], 0, axis=d).ravel()
            Ab = A[fb] * im[cell]
            Db = np.take(D, fb, axis=d).ravel()
            if cond.code == DIRICHLET:
                k = 2.0 * Ab * Db / w[cell]
                np.add.at(diag, C, -k)
                vec = np.zeros(N)
                vec[C] = k
                bvecs[(d, side)] = vec
            elif cond.code == NEUMANN:
                vec = np.zeros(N)
                vec[C] = Ab
                bvecs[(d, side)] = vec
    rows.append(np.arange(N))
    cols.append(np.arange(N))
    vals.append(diag)
    Lmat = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(N, N))
    Lmat.sum_duplicates()
    return Lmat, bvecs
