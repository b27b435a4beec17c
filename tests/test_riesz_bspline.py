"""Riesz family, first increment: B-spline spaces and exact Riemann–Liouville derivatives of B-splines
(research note riesz_fractional.md, B.2 and the exactness test of B.4)."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from pdekit.errors import ParameterError
from pdekit.riesz import bspline as bs
from pdekit.riesz.bspline import BSplineSpace, polynomial_left_rl

U_COEF = [0.0, 0.0, 1.0, -2.0, 1.0]  # u = x^2 (1 - x)^2: in the spline space for p >= 4


def interpolant(V, f):
    g = V.greville()
    return spla.spsolve(sp.csc_matrix(V.evaluate(g)), f(g))


def test_space_dimensions_and_greville():
    V = BSplineSpace(3, 8)
    assert V.dim == 11 and V.n_intervals == 8 and V.h == pytest.approx(1 / 8)
    g = V.greville()
    assert g[0] == 0.0 and g[-1] == 1.0 and np.all(np.diff(g) > 0)
    np.testing.assert_allclose(g[3:-3], np.arange(2, 7) / 8)  # odd p: interior Greville points are knots
    x = np.linspace(0, 1, 101)
    np.testing.assert_allclose(V.evaluate(x).sum(axis=1), 1.0, atol=1e-14)  # partition of unity


@pytest.mark.parametrize("p,n", [(2, 7), (3, 16), (5, 32)])
def test_truncated_powers_reproduce_the_b_splines(p, n):
    V = BSplineSpace(p, n)
    x = np.linspace(0, 1, 2001)
    B = V.evaluate(x)
    for j in (0, 1, p, V.dim // 2, V.dim - 2, V.dim - 1):
        taus, coef = V.truncated_powers(j)
        val = np.zeros_like(x)
        for m, t in enumerate(taus):
            d = x - t
            for k in range(p + 1):
                if coef[m, k]:
                    val += coef[m, k] * np.where(d >= 0, np.maximum(d, 0) ** k, 0.0)
        inside = x < V.support(j)[1] - 1e-12
        np.testing.assert_allclose(val[inside], B[inside, j], atol=1e-12)


@pytest.mark.parametrize("p", [4, 5])
@pytest.mark.parametrize("alpha", [1.2, 1.5, 1.8])
def test_fractional_derivatives_exact_for_splines_in_the_space(p, alpha):
    """RZ-EX (1): x^2(1-x)^2 lies in S_p for p >= 4; D_L and D_R of its spline are exact (bound 1e-10)."""
    V = BSplineSpace(p, 16)
    c = interpolant(V, lambda x: x**2 * (1 - x) ** 2)
    x = np.linspace(0.013, 0.987, 41)
    DL = sum(c[j] * V.left_rl(j, x, alpha) for j in range(V.dim))
    DR = sum(c[j] * V.right_rl(j, x, alpha) for j in range(V.dim))
    exl = polynomial_left_rl(U_COEF, x, alpha)
    exr = polynomial_left_rl(U_COEF, 1 - x, alpha)  # u is symmetric: D_R u(x) = D_L u(1 - x)
    assert np.abs(DL - exl).max() / np.abs(exl).max() <= 1e-10
    assert np.abs(DR - exr).max() / np.abs(exr).max() <= 1e-10


def test_near_and_far_evaluations_agree_where_both_apply():
    """The truncated-power sum (near) and the regular integral by Gauss–Legendre (far) agree 2–3
    knot spans right of the support, at n = 1024, p = 5."""
    V = BSplineSpace(5, 1024)
    h = 1 / 1024
    j = 400
    c = V.support(j)[1]
    x = c + np.array([1.5, 2.0, 2.5, 3.0]) * h
    far_spans = bs.FAR_SPANS
    try:
        bs.FAR_SPANS = 1e9
        near = V.left_rl(j, x, 1.5)
        bs.FAR_SPANS = 0.0
        far = V.left_rl(j, x, 1.5)
    finally:
        bs.FAR_SPANS = far_spans
    np.testing.assert_allclose(near, far, rtol=1e-10)


def test_far_field_is_stable_where_the_truncated_power_sum_cancels():
    """200 spans away the naive truncated-power sum has lost most of its digits; the quadrature agrees
    with a 64-point rule and with the leading far-field term h (x - centre)^(-1-alpha) / Gamma(-alpha)
    (the integral of an interior B-spline is h)."""
    V = BSplineSpace(5, 1024)
    j = 10
    x = np.array([V.support(j)[1] + 200 / 1024])
    alpha = 1.5
    far = V.left_rl(j, x, alpha)[0]
    gp = bs.GAUSS_POINTS
    try:
        bs.GAUSS_POINTS = 64
        fine = V.left_rl(j, x, alpha)[0]
    finally:
        bs.GAUSS_POINTS = gp
    assert far == pytest.approx(fine, rel=1e-14)
    from scipy.special import gamma
    centre = np.mean(V.support(j))
    lead = (1 / 1024) * (x[0] - centre) ** (-1 - alpha) / gamma(-alpha)  # int B_j = h (interior B-spline)
    assert far == pytest.approx(lead, rel=1e-3)


def test_bad_input_is_refused():
    with pytest.raises(ParameterError, match="degree must be >= 2"):
        BSplineSpace(1, 8)
    with pytest.raises(ParameterError, match="integer"):
        BSplineSpace(2.5, 8)
    with pytest.raises(ParameterError, match="n_intervals must be >= 1"):
        BSplineSpace(3, 0)
    V = BSplineSpace(3, 8)
    for alpha in (1.0, 2.0, 0.5, 2.5, float("nan")):
        with pytest.raises(ParameterError, match=r"\(1, 2\)"):
            V.left_rl(3, [0.5], alpha)
    with pytest.raises(ParameterError, match="clamped"):
        BSplineSpace.from_knots(2, [0, 0, 0.5, 1, 1, 1])
