"""Riesz collocation, dense reference: exactness for splines in the space and the convergence table of
the research note (riesz_fractional.md, RZ-EX (1) and (2)): errors within a factor 1.5 of the table for
n in {32, 64, 128}, order between 64 and 128 within +-0.25 (p = 2, 3) and +-0.4 (p = 4, 5) of
p + 2 - alpha (even p) / p + 1 - alpha (odd p)."""
import numpy as np
import pytest
from numpy.polynomial import Polynomial as P

from pdekit.errors import ParameterError
from pdekit.riesz.bspline import BSplineSpace
from pdekit.riesz.collocation import RieszCollocation, polynomial_riesz

U4 = (P([0, 1]) ** 2 * P([1, -1]) ** 2).coef  # x^2 (1-x)^2
U8 = (P([0, 1]) ** 4 * P([1, -1]) ** 4).coef  # x^4 (1-x)^4

# research note B.4 table: errors at n = 32, 64, 128
TABLE = {
    (1.2, 2): (2.03e-4, 2.81e-5, 3.94e-6), (1.2, 3): (1.57e-4, 2.12e-5, 2.96e-6),
    (1.2, 4): (2.74e-6, 1.13e-7, 4.39e-9), (1.2, 5): (9.00e-7, 3.63e-8, 1.37e-9),
    (1.5, 2): (3.75e-4, 6.61e-5, 1.17e-5), (1.5, 3): (3.95e-4, 6.68e-5, 1.20e-5),
    (1.5, 4): (5.92e-6, 3.09e-7, 1.49e-8), (1.5, 5): (2.25e-6, 1.12e-7, 5.09e-9),
    (1.8, 2): (7.90e-4, 1.73e-4, 3.77e-5), (1.8, 3): (1.12e-3, 2.52e-4, 5.53e-5),
    (1.8, 4): (1.29e-5, 8.42e-7, 5.00e-8), (1.8, 5): (5.54e-6, 3.38e-7, 1.90e-8),
}


def max_error(R, c, u, n):
    x = np.linspace(0, 1, 20 * n + 1)
    ue = P(u)(x)
    return np.abs(R.evaluate(c, x) - ue).max() / np.abs(ue).max()


@pytest.mark.parametrize("p", [4, 5])
@pytest.mark.parametrize("alpha", [1.2, 1.5, 1.8])
def test_collocation_is_exact_in_the_spline_space(p, alpha):
    R = RieszCollocation(BSplineSpace(p, 16), alpha)
    c = R.solve_dense(lambda x: polynomial_riesz(U4, x, alpha))
    assert max_error(R, c, U4, 16) <= 1e-10


@pytest.mark.parametrize("alpha,p", sorted(TABLE))
def test_convergence_matches_the_research_table(alpha, p):
    errs = []
    for n in (32, 64, 128):
        R = RieszCollocation(BSplineSpace(p, n), alpha)
        errs.append(max_error(R, R.solve_dense(lambda x: polynomial_riesz(U8, x, alpha)), U8, n))
    for e, ref in zip(errs, TABLE[alpha, p]):
        assert ref / 1.5 <= e <= 1.5 * ref
    expected = p + 2 - alpha if p % 2 == 0 else p + 1 - alpha
    assert np.log2(errs[1] / errs[2]) == pytest.approx(expected, abs=0.25 if p <= 3 else 0.4)


def test_matrix_interior_is_toeplitz_and_symmetric():
    """RZ-DISC: away from the clamped ends A_ij = h^-alpha psi(i - j)."""
    R = RieszCollocation(BSplineSpace(3, 40), 1.5)
    A = R.dense_matrix()
    inner = A[8:-8, 8:-8]
    np.testing.assert_allclose(inner[1:, 1:], inner[:-1, :-1], rtol=1e-9, atol=1e-9 * np.abs(inner).max())
    np.testing.assert_allclose(inner, inner.T, rtol=1e-9, atol=1e-9 * np.abs(inner).max())


def test_bad_input():
    with pytest.raises(ParameterError, match=r"\(1, 2\)"):
        RieszCollocation(BSplineSpace(3, 8), 2.0)
    R = RieszCollocation(BSplineSpace(3, 8), 1.5)
    with pytest.raises(ParameterError, match="finite"):
        R.solve_dense(lambda x: np.where(x > 0.5, np.nan, 1.0))
    with pytest.raises(ParameterError, match="BSplineSpace"):
        RieszCollocation("space", 1.5)
