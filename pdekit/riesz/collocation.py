"""Collocation of the Riesz fractional Laplacian with B-splines (Mazza, Donatelli, Manni & Speleers,
arXiv:2106.14834): ``(-Delta)^{alpha/2} u = f`` on ``(0, 1)``, ``u = 0`` outside, with
``u_h = sum_{j=1}^{N} c_j B_j`` (the first and last B-splines dropped for the Dirichlet condition) and
collocation at the Greville abscissae of the retained B-splines:

    A_ij = [(-Delta)^{alpha/2} B_j](xi_i),   A c = f(xi).

Two assemblies: :meth:`RieszCollocation.dense_matrix` evaluates all ``N^2`` entries (the test
reference, any knot vector); :meth:`RieszCollocation.operator` (uniform knots) builds the
Toeplitz-plus-corner form ``h^{-alpha} T_N(psi) + R`` from ``O(N)`` evaluations
(:mod:`pdekit.riesz.structured`). :meth:`RieszCollocation.solve` uses dense LU for small systems and
GMRES with the tau preconditioner ``h^{-alpha} S diag(f_p^alpha(j pi/(N+1))) S`` (``S`` the DST-I)
otherwise: FFT products, an iteration count that stays bounded as ``N`` grows (5-11 for n = 64..1024,
p = 2..5), ``O(N log N)`` work.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sl

from ..errors import ParameterError
from .bspline import BSplineSpace, check_alpha
from .exact import polynomial_riesz  # noqa: F401  (re-exported: rhs helpers live in exact.py)
from .structured import StructuredMatrix, TauPreconditioner, cardinal_riesz, gmres
from .symbol import cardinal_bspline, mass_symbol, symbol, tau_grid

#: ``solver="auto"`` uses dense LU up to this many unknowns (the measured crossover, docs/riesz_fractional.md)
DENSE_LIMIT = 400
SOLVERS = ("auto", "dense", "gmres")


class RieszCollocation:
    """B-spline collocation of ``(-Delta)^{alpha/2}`` with homogeneous Dirichlet (exterior) data."""

    def __init__(self, space, alpha):
        if not isinstance(space, BSplineSpace):
            raise ParameterError(f"space must be a BSplineSpace, got {type(space).__name__}")
        self.space = space
        self.alpha = check_alpha(alpha)
        p = space.degree
        inner = space.knots[p + 1:space.knots.size - p - 1]
        if inner.size:
            mult = np.unique(inner, return_counts=True)[1].max()
            if mult >= p:
                raise ParameterError(f"interior knots may be repeated at most p - 1 = {p - 1} times for collocation: at "
                                     f"a knot of multiplicity {mult} a Greville point sits where the fractional "
                                     "derivative of a B-spline is singular")
        if space.dim < 2 * p:
            raise ParameterError(f"collocation of degree {p} needs at least {2 * p} B-splines ({p} knot intervals on "
                                 f"simple knots), got {space.dim} ({space.n_intervals} intervals): with fewer, no "
                                 "B-spline is free of the clamped ends; use more intervals or a lower degree")
        self.indices = np.arange(1, space.dim - 1)
        self.points = space.greville()[1:-1]
        self._A = None
        self._op = None
        self._mass = None
        self._lu = None

    @property
    def uniform(self):
        """True on uniform clamped knots (simple interior knots, equal spans): the Toeplitz structure holds."""
        sp = self.space
        u = np.unique(sp.knots)
        inner = sp.knots[sp.degree + 1:sp.knots.size - sp.degree - 1]
        d = np.diff(u)
        # k/n rounds to a relative spacing error ~ n eps: allow that, far below anything the matrix sees
        return bool(np.unique(inner).size == inner.size and np.allclose(d, d[0], rtol=1e-9, atol=0))

    @property
    def size(self):
        return int(self.indices.size)

    def dense_matrix(self):
        """``A_ij = (-Delta)^{alpha/2} B_j (xi_i)`` assembled column by column (reference)."""
        if self._A is None:
            A = np.empty((self.size, self.size))
            for col, j in enumerate(self.indices):
                A[:, col] = self.space.riesz(j, self.points, self.alpha)
            self._A = A
        return self._A

    # ---- structured (Toeplitz + corner) assembly -------------------------------------------------------
    def _boundary(self):
        """Retained positions whose B-spline (column) or Greville point (row) is not a shifted copy of the
        cardinal one: ``p - 1`` at each end."""
        p, n, N = self.space.degree, self.space.n_intervals, self.size
        if n - 1 < p:  # no interior B-spline: everything is boundary
            return np.arange(N)
        return np.r_[np.arange(0, p - 1), np.arange(n - 1, N)].astype(np.int64)

    def _structured(self, cardinal, column, scale, symmetric=True):
        if not self.uniform:
            raise ParameterError("the Toeplitz-plus-corner assembly needs uniform knots; use dense_matrix()")
        sp = self.space
        p, N, h = sp.degree, self.size, (sp.hi - sp.lo) / sp.n_intervals
        c = (p + 1) / 2.0
        k = np.arange(N)
        col = cardinal(c + k)
        row = col if symmetric else cardinal(c - k)
        bset = self._boundary()
        # boundary columns: direct evaluation at every point, minus the Toeplitz part
        cols = np.empty((N, bset.size))
        for m, j in enumerate(bset):
            cols[:, m] = column(self.indices[j])
        T_cols = np.where((k[:, None] - bset[None, :]) >= 0,
                          col[np.abs(k[:, None] - bset[None, :])], row[np.abs(k[:, None] - bset[None, :])])
        corr = cols - scale * T_cols
        # boundary rows: interior columns from the cardinal function, boundary columns from above
        starts = sp.knots[self.indices]  # left end of each retained B-spline's support
        rows = scale * cardinal((self.points[bset][:, None] - starts[None, :]) / h)
        rows[:, bset] = cols[bset, :]
        return StructuredMatrix(col, row, scale, bset, rows, corr)

    def operator(self):
        """The collocation matrix as a :class:`~pdekit.riesz.structured.StructuredMatrix`
        ``h^{-alpha} T_N(psi) + R`` from ``O(N)`` fractional-derivative evaluations (uniform knots)."""
        if self._op is None:
            sp, alpha = self.space, self.alpha
            self._op = self._structured(lambda y: cardinal_riesz(sp.degree, alpha, y),
                                        lambda j: sp.riesz(j, self.points, alpha), sp.h ** (-alpha))
        return self._op

    def mass(self):
        """The collocation mass matrix ``B_j(xi_i)`` (values of the spline at the points) in the same
        Toeplitz-plus-corner form (banded; symbol :func:`pdekit.riesz.symbol.mass_symbol`)."""
        if self._mass is None:
            sp = self.space
            from scipy.interpolate import BSpline

            D = BSpline.design_matrix(self.points, sp.knots, sp.degree).tocsc()
            self._mass = self._structured(lambda y: cardinal_bspline(sp.degree, y),
                                          lambda j: D[:, j].toarray().ravel(), 1.0)
        return self._mass

    def symbol(self, theta):
        """``f_p^alpha(theta)``, the symbol of ``h^alpha A`` (:func:`pdekit.riesz.symbol.symbol`)."""
        return symbol(theta, self.space.degree, self.alpha)

    def condition_number(self, estimate=False):
        """2-norm condition number of the collocation matrix: exact (dense SVD, ``N <= 4000``), or with
        ``estimate=True`` the symbol estimate of its Toeplitz part, ``max f / f(pi / (N + 1))`` (grows like
        ``h^{-alpha}``; the clamped corners raise the true value by a factor ~1.2 (p = 2) to ~6 (p = 4, 5),
        measured at n = 512)."""
        if estimate:
            th = np.linspace(0.0, np.pi, 2001)
            return float(self.symbol(th).max() / self.symbol(np.pi / (self.size + 1)))
        if self.size > 4000:
            raise ParameterError(f"exact condition numbers are computed for N <= 4000 (N = {self.size}); "
                                 "use estimate=True")
        A = self.operator().dense() if self.uniform else self.dense_matrix()
        return float(np.linalg.cond(A))

    def tau_preconditioner(self, mass_weight=0.0, stiffness_weight=1.0):
        """tau preconditioner for ``mass_weight * M + stiffness_weight * A``: eigenvalues
        ``mass_weight g_p(theta_j) + stiffness_weight h^{-alpha} f_p^alpha(theta_j)``,
        ``theta_j = j pi / (N + 1)``."""
        th = tau_grid(self.size)
        lam = stiffness_weight * self.space.h ** (-self.alpha) * self.symbol(th)
        if mass_weight:
            lam = lam + mass_weight * mass_symbol(th, self.space.degree)
        return TauPreconditioner(lam)

    def solve(self, f, solver="auto", rtol=None, maxiter=200, info=False):
        """Coefficients of ``u_h`` for ``(-Delta)^{alpha/2} u = f``.

        ``solver``: ``"dense"`` (LU of the assembled matrix, factorised once), ``"gmres"``
        (FFT products + tau preconditioner, uniform knots), ``"auto"`` (dense up to
        :data:`DENSE_LIMIT` unknowns or on non-uniform knots, GMRES above). ``rtol`` is GMRES's relative
        residual: ``None`` asks for ``1e-10`` but accepts the round-off floor of the FFT product where that
        lies higher (``n >~ 10^4`` as ``alpha -> 2``; the residual reached is in the info); an explicit
        ``rtol`` is strict (:class:`pdekit.errors.SolverError` if not met). With ``info=True`` returns
        ``(c, GMRESResult or None)``.
        """
        if solver not in SOLVERS:
            raise ParameterError(f"unknown solver {solver!r}; accepted: {', '.join(SOLVERS)}")
        if rtol is not None and not (isinstance(rtol, (int, float, np.floating)) and 0 < rtol < 1):
            raise ParameterError(f"rtol must be None or a number in (0, 1), got {rtol!r}")
        if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
            raise ParameterError(f"maxiter must be a positive integer, got {maxiter!r}")
        b = self.rhs(f) if callable(f) else np.asarray(f, dtype=float)
        if b.shape != (self.size,) or not np.all(np.isfinite(b)):
            raise ParameterError(f"the right-hand side must be {self.size} finite values")
        if solver == "auto":
            solver = "dense" if (self.size <= DENSE_LIMIT or not self.uniform) else "gmres"
        if solver == "dense":
            c, res = self.solve_dense(b), None
        else:
            A = self.operator()
            P = self.tau_preconditioner()
            res = gmres(A.matvec, b, precond=P.solve, rtol=1e-10 if rtol is None else rtol, maxiter=maxiter,
                        accept_stagnation=rtol is None)
            c = res.x
        return (c, res) if info else c

    def rhs(self, f):
        """``f(xi)`` from a callable (a constant return value is broadcast); refused if not finite."""
        try:
            vals = np.broadcast_to(np.asarray(f(self.points), dtype=float), self.points.shape).copy()
        except ValueError:
            raise ParameterError(f"the right-hand side function must return one value per collocation point "
                                 f"(shape {self.points.shape}) or a scalar") from None
        if not np.all(np.isfinite(vals)):
            bad = int(np.argmax(~np.isfinite(vals)))
            raise ParameterError(f"the right-hand side must be finite at every collocation point; it is "
                                 f"{vals[bad]} at x = {self.points[bad]:.6g}")
        return vals

    def solve_dense(self, f):
        """Coefficients ``c`` (length N) of ``u_h`` by dense LU; ``f`` callable or values at the points."""
        b = self.rhs(f) if callable(f) else np.asarray(f, dtype=float)
        if b.shape != (self.size,) or not np.all(np.isfinite(b)):
            raise ParameterError(f"the right-hand side must be {self.size} finite values")
        if self._lu is None:
            A = self.operator().dense() if self.uniform else self.dense_matrix()
            self._lu = sl.lu_factor(A)
        return sl.lu_solve(self._lu, b)

    def evaluate(self, coefficients, x):
        """``u_h(x)`` for the retained-basis coefficients."""
        c = np.asarray(coefficients, dtype=float)
        if c.shape != (self.size,):
            raise ParameterError(f"coefficients must have shape ({self.size},), got {c.shape}")
        x = np.asarray(x, dtype=float)
        if np.any(x < self.space.lo) or np.any(x > self.space.hi):
            raise ParameterError(f"points must lie in [{self.space.lo}, {self.space.hi}]")
        full = np.zeros(self.space.dim)
        full[self.indices] = c
        return self.space.spline(full)(x)
