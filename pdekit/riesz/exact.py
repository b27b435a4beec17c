"""Exact solutions and exact right-hand sides for the Riesz fractional family (research note
riesz_fractional.md, RZ-EX), used by the validation, the cases and the tests.

* :func:`polynomial_riesz` — ``(-Delta)^{alpha/2} u`` of a polynomial ``u`` on ``[0, 1]`` (zero outside)
  with ``u(0) = u'(0) = u(1) = u'(1) = 0``, in closed form: right-hand sides without quadrature.
* :func:`constant_source_solution` — Getoor's solution of ``(-Delta)^{alpha/2} u = f0`` on ``(0, 1)``,
  ``u = f0 (x (1 - x))^{alpha/2} / Gamma(1 + alpha)`` (``alpha = 2``: ``x(1-x)/2``).
* :func:`separable_solution` — ``u = e^{-r t} U(x)`` with the manufactured source that makes it solve
  ``u_t = -kappa (-Delta)^{alpha/2} u + f``.
* The symbol :func:`pdekit.riesz.symbol.symbol` is exact as well (Hurwitz-zeta summation).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import gamma

from ..errors import ParameterError
from .bspline import check_alpha, polynomial_left_rl


def polynomial_riesz(coefficients, x, alpha):
    """``(-Delta)^{alpha/2} u`` for a polynomial ``u = sum a_k x^k`` on [0, 1] (zero outside) with
    ``u(0) = u'(0) = u(1) = u'(1) = 0``: ``(D_L u + D_R u) / (2 cos(pi alpha/2))``, ``D_R u(x) = D_L u~(1-x)``,
    ``u~(y) = u(1 - y)``. ``x`` in ``[0, 1]``."""
    alpha = check_alpha(alpha)
    a = np.asarray(coefficients, dtype=float)
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)) or np.any(x < 0) or np.any(x > 1):
        raise ParameterError("points must be finite and lie in [0, 1]")
    P = np.polynomial.Polynomial(a)
    if max(abs(P(0.0)), abs(P.deriv()(0.0)), abs(P(1.0)), abs(P.deriv()(1.0))) > 1e-12 * max(1.0, np.abs(a).max()):
        raise ParameterError("the polynomial and its derivative must vanish at 0 and 1 (u(0) = u'(0) = u(1) = "
                             "u'(1) = 0): otherwise its zero extension has an unbounded fractional Laplacian")
    rev = P(np.polynomial.Polynomial([1.0, -1.0])).coef  # coefficients of u(1 - y)
    return (polynomial_left_rl(a, x, alpha) + polynomial_left_rl(rev, 1 - x, alpha)) / (2 * np.cos(np.pi * alpha / 2))


def constant_source_solution(x, alpha, value=1.0):
    """Getoor: the solution of ``(-Delta)^{alpha/2} u = value`` on ``(0, 1)``, ``u = 0`` outside,
    ``value (x (1 - x))^{alpha/2} / Gamma(1 + alpha)``; ``alpha = 2`` is allowed (the classical ``x(1-x)/2``).
    It behaves like ``x^{alpha/2}`` at the walls, which caps every method's max-norm order at ``alpha/2``."""
    a = float(alpha) if alpha == 2 else check_alpha(alpha)
    x = np.asarray(x, dtype=float)
    return value * np.clip(x * (1 - x), 0.0, None) ** (a / 2) / gamma(1 + a)


def separable_solution(coefficients, alpha, kappa=1.0, rate=1.0):
    """``(u, source)`` with ``u(x, t) = e^{-rate t} U(x)`` (``U`` a polynomial as in :func:`polynomial_riesz`)
    and ``source(x, t) = e^{-rate t} (-rate U + kappa (-Delta)^{alpha/2} U)``, so that ``u`` solves
    ``u_t = -kappa (-Delta)^{alpha/2} u + source``. For ``U = x^2 (1-x)^2`` and degree ``p >= 4`` the
    solution lies in the spline space: only the time error remains."""
    alpha = check_alpha(alpha)
    if not (math.isfinite(kappa) and kappa > 0 and math.isfinite(rate)):
        raise ParameterError("kappa must be positive and rate finite")
    U = np.polynomial.Polynomial(np.asarray(coefficients, dtype=float))
    polynomial_riesz(U.coef, [0.5], alpha)  # checks the boundary conditions

    def u(x, t):
        return math.exp(-rate * t) * U(np.asarray(x, dtype=float))

    def source(x, t):
        x = np.asarray(x, dtype=float)
        return math.exp(-rate * t) * (-rate * U(x) + kappa * polynomial_riesz(U.coef, x, alpha))

    return u, source
