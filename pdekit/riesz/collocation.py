"""Collocation of the Riesz fractional Laplacian with B-splines (Mazza, Donatelli, Manni & Speleers,
arXiv:2106.14834): ``(-Delta)^{alpha/2} u = f`` on ``(0, 1)``, ``u = 0`` outside, with
``u_h = sum_{j=1}^{N} c_j B_j`` (the first and last B-splines dropped for the Dirichlet condition) and
collocation at the Greville abscissae of the retained B-splines:

    A_ij = [(-Delta)^{alpha/2} B_j](xi_i),   A c = f(xi).

This module holds the dense reference assembly (O(N^2) evaluations, kept as the test reference);
the Toeplitz-plus-corner assembly and the fast solvers are the next increments of issue 5.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sl

from ..errors import ParameterError
from .bspline import BSplineSpace, check_alpha, polynomial_left_rl


class RieszCollocation:
    """B-spline collocation of ``(-Delta)^{alpha/2}`` with homogeneous Dirichlet (exterior) data."""

    def __init__(self, space, alpha):
        if not isinstance(space, BSplineSpace):
            raise ParameterError(f"space must be a BSplineSpace, got {type(space).__name__}")
        self.space = space
        self.alpha = check_alpha(alpha)
        if space.dim - 2 < 1:
            raise ParameterError("the space has no B-spline left after dropping the two boundary ones: "
                                 "use more intervals")
        self.indices = np.arange(1, space.dim - 1)
        self.points = space.greville()[1:-1]
        self._A = None

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

    def rhs(self, f):
        """``f(xi)`` from a callable; refused if not finite."""
        vals = np.asarray(f(self.points), dtype=float)
        if vals.shape != self.points.shape or not np.all(np.isfinite(vals)):
            raise ParameterError("the right-hand side must be finite at every collocation point")
        return vals

    def solve_dense(self, f):
        """Coefficients ``c`` (length N) of ``u_h`` by dense LU; ``f`` callable or values at the points."""
        b = self.rhs(f) if callable(f) else np.asarray(f, dtype=float)
        if b.shape != (self.size,) or not np.all(np.isfinite(b)):
            raise ParameterError(f"the right-hand side must be {self.size} finite values")
        return sl.lu_solve(sl.lu_factor(self.dense_matrix()), b)

    def evaluate(self, coefficients, x):
        """``u_h(x)`` for the retained-basis coefficients."""
        full = np.zeros(self.space.dim)
        full[self.indices] = coefficients
        return self.space.evaluate(x) @ full


def polynomial_riesz(coefficients, x, alpha):
    """``(-Delta)^{alpha/2} u`` for a polynomial ``u = sum a_k x^k`` on [0, 1] (zero outside) with
    ``u(0) = u'(0) = u(1) = u'(1) = 0``: ``(D_L u + D_R u) / (2 cos(pi alpha/2))``, ``D_R u(x) = D_L u~(1-x)``,
    ``u~(y) = u(1 - y)`` (research note RZ-EX)."""
    alpha = check_alpha(alpha)
    a = np.asarray(coefficients, dtype=float)
    # coefficients of u(1 - y)
    P = np.polynomial.Polynomial(a)
    rev = P(np.polynomial.Polynomial([1.0, -1.0])).coef
    x = np.asarray(x, dtype=float)
    return (polynomial_left_rl(a, x, alpha) + polynomial_left_rl(rev, 1 - x, alpha)) / (2 * np.cos(np.pi * alpha / 2))
