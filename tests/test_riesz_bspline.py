"""Riesz family, first increment: B-spline spaces and exact Riemann–Liouville derivatives of B-splines
(research note riesz_fractional.md, B.2 and the exactness test of B.4)."""
from fractions import Fraction
from math import comb

import mpmath as mp
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.special import gamma

from pdekit.errors import ParameterError
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


# ---- accuracy against a high-precision reference -------------------------------------------------------------
def _exact_jumps(knots, p):
    """Exact truncated-power jumps ``[(tau, [c_0, ..., c_p])]`` (Fractions, coordinate ``y = x - knots[0]``) of
    the B-spline on the ``p + 2`` float ``knots``: Cox–de Boor on polynomial pieces in rational arithmetic."""
    t = [Fraction(float(v)) - Fraction(float(knots[0])) for v in knots]

    def add(a, b):
        n = max(len(a), len(b))
        return [(a[i] if i < len(a) else 0) + (b[i] if i < len(b) else 0) for i in range(n)]

    def mul(a, b):
        out = [Fraction(0)] * (len(a) + len(b) - 1)
        for i, x in enumerate(a):
            for k, y in enumerate(b):
                out[i + k] += x * y
        return out

    pieces = {}
    for s in range(p + 1):
        if t[s + 1] == t[s]:
            continue
        B = [[Fraction(int(i == s))] for i in range(p + 1)]
        for k in range(1, p + 1):
            nxt = []
            for i in range(p + 1 - k):
                term = [Fraction(0)]
                if t[i + k] > t[i]:
                    term = add(term, mul([-t[i] / (t[i + k] - t[i]), 1 / (t[i + k] - t[i])], B[i]))
                if t[i + k + 1] > t[i + 1]:
                    d = t[i + k + 1] - t[i + 1]
                    term = add(term, mul([t[i + k + 1] / d, -1 / d], B[i + 1]))
                nxt.append(term)
            B = nxt
        pieces[s] = B[0]

    def taylor(poly, y0):
        return [sum(c * comb(i, k) * y0 ** (i - k) for i, c in enumerate(poly) if i >= k) for k in range(p + 1)]

    out = []
    for tau in sorted(set(t)):
        right = next((taylor(q, tau) for s, q in pieces.items() if t[s] == tau), [0] * (p + 1))
        left = next((taylor(q, tau) for s, q in pieces.items() if t[s + 1] == tau), [0] * (p + 1))
        out.append((tau, [r - l for r, l in zip(right, left)]))
    return out


def reference_left_rl(knots, p, x, alpha, dps=40):
    """``D_L^alpha B(x) = sum_m sum_k c_mk Gamma(k+1)/Gamma(k+1-alpha) (x - tau_m)_+^(k-alpha)`` with exact
    jumps, summed in ``dps``-digit arithmetic (the sum's cancellation, up to ~1e18 at n = 1024 and p = 5,
    is absorbed by the extra digits)."""
    with mp.workdps(dps):
        jumps = [(mp.mpf(tau.numerator) / tau.denominator, [mp.mpf(c.numerator) / c.denominator for c in cs])
                 for tau, cs in _exact_jumps(knots, p)]
        a = mp.mpf(alpha)
        g = [mp.gamma(k + 1) / mp.gamma(k + 1 - a) for k in range(p + 1)]
        x0 = mp.mpf(float(knots[0]))
        out = []
        for xv in np.asarray(x, dtype=float):
            y = mp.mpf(float(xv)) - x0
            out.append(float(sum(c * g[k] * (y - tau) ** (k - a) for tau, cs in jumps if y > tau
                                 for k, c in enumerate(cs) if c != 0)))
    return np.array(out)


def accuracy_points(V, j, h):
    """Inside the support (with points 1e-12 and 1e-6 spans either side of its knots) and to its right: at
    1e-12 .. 3 spans from the support end, where the truncated-power sum cancels, and out to x = 1."""
    a, c = V.support(j)
    u = np.unique(V.knots[j:j + V.degree + 2])
    eps = np.array([1e-12, 1e-6]) * h
    x = np.concatenate([np.linspace(a, c, 12 * (u.size - 1) + 1), (u[:, None] + eps).ravel(),
                        (u[:, None] - eps).ravel(), c + h * np.array([1e-12, 1e-6, 1e-3, 0.1, 0.5, 1, 1.5, 2, 3]),
                        np.geomspace(c + 4 * h, V.hi, 40) if c + 4 * h < V.hi else []])
    return np.unique(x[(x > a) & (x <= V.hi)])


def relative_errors(got, ref, outside):
    """max error / max |ref|, and the pointwise relative error right of the support and inside it where
    |ref| >= 1% of its maximum (D_L^alpha B_j changes sign inside the support)."""
    err = np.abs(got - ref)
    scale = np.abs(ref).max()
    big = outside | (np.abs(ref) >= 1e-2 * scale)
    return err.max() / scale, (err[big] / np.abs(ref[big])).max()


@pytest.mark.parametrize("p,alpha", [(2, 1.8), (3, 1.5), (4, 1.2), (5, 1.2), (5, 1.5), (5, 1.8)])
def test_left_rl_is_accurate_to_round_off_at_n_1024(p, alpha):
    """Interior and clamped (j = 1, 2) B-splines at n = 1024 against the exact truncated-power sum in 40-digit
    arithmetic, over [support start, 1]: relative error <= 1e-13 (measured <= ~2e-14; the truncated-power sum
    in double precision loses up to ~1e-10 just right of the support for p = 5)."""
    V = BSplineSpace(p, 1024)
    mid = V.dim // 2
    for j in (1, 2, mid, mid + 7):  # mid + 7 reuses the quadrature rules cached for mid (same knot pattern)
        x = accuracy_points(V, j, 1 / 1024)
        ref = reference_left_rl(V.knots[j:j + p + 2], p, x, alpha)
        glob, pointwise = relative_errors(V.left_rl(j, x, alpha), ref, x > V.support(j)[1])
        assert glob <= 1e-13 and pointwise <= 1e-13, (j, glob, pointwise)


def test_right_rl_of_clamped_b_splines_at_the_right_end():
    """D_R by reflection: B-splines next to the clamped right end against the reference on mirrored knots."""
    p, alpha = 5, 1.5
    V = BSplineSpace(p, 1024)
    M = BSplineSpace.from_knots(p, (1.0 - V.knots)[::-1].copy())
    for j in (V.dim - 3, V.dim - 2):
        jm = V.dim - 1 - j
        x = 1.0 - accuracy_points(M, jm, 1 / 1024)
        y = 1.0 - x  # the mirrored points right_rl evaluates (1 - (1 - y) need not round back to y)
        ref = reference_left_rl(M.knots[jm:jm + p + 2], p, y, alpha)
        glob, pointwise = relative_errors(V.right_rl(j, x, alpha), ref, y > M.support(jm)[1])
        assert glob <= 1e-13 and pointwise <= 1e-13, (j, glob, pointwise)


@pytest.mark.parametrize("p", [3, 5])
def test_left_rl_on_a_graded_knot_vector(p):
    """Non-uniform knots (x_i = (i/32)^2): the same accuracy, spans of different length included."""
    t = np.r_[np.zeros(p), (np.arange(33) / 32) ** 2, np.ones(p)]
    V = BSplineSpace.from_knots(p, t)
    for j in (1, 4, 12, V.dim - 6):
        a, c = V.support(j)
        x = accuracy_points(V, j, (c - a) / (p + 1))
        ref = reference_left_rl(V.knots[j:j + p + 2], p, x, 1.7)
        glob, pointwise = relative_errors(V.left_rl(j, x, 1.7), ref, x > c)
        assert glob <= 1e-13 and pointwise <= 1e-13, (j, glob, pointwise)


def test_far_field_tends_to_the_leading_term():
    """200 spans away D_L^alpha B_j ~ h (x - centre)^(-1-alpha) / Gamma(-alpha) (int B_j = h inside)."""
    V = BSplineSpace(5, 1024)
    j = 10
    x = np.array([V.support(j)[1] + 200 / 1024])
    alpha = 1.5
    centre = np.mean(V.support(j))
    lead = (1 / 1024) * (x[0] - centre) ** (-1 - alpha) / gamma(-alpha)
    assert V.left_rl(j, x, alpha)[0] == pytest.approx(lead, rel=1e-3)


def test_left_rl_keeps_the_shape_and_vanishes_left_of_the_support():
    V = BSplineSpace(3, 16)
    x = np.linspace(0, 1, 12).reshape(3, 4)
    out = V.left_rl(8, x, 1.5)
    assert out.shape == (3, 4)
    assert np.all(out[x <= V.support(8)[0]] == 0.0)
    np.testing.assert_array_equal(out.ravel(), V.left_rl(8, x.ravel(), 1.5))


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
