"""Toeplitz-plus-corner assembly, symbol, FFT products, tau preconditioner and GMRES (research note
riesz_fractional.md, RZ-DISC, RZ-SYM, RZ-SOLVE)."""
import math

import numpy as np
import pytest
from numpy.polynomial import Polynomial as P

from pdekit.errors import ParameterError, SolverError
from pdekit.riesz import BSplineSpace, RieszCollocation, gmres, mass_symbol, symbol
from pdekit.riesz.collocation import polynomial_riesz
from pdekit.riesz.structured import TauPreconditioner, riesz_sequence
from pdekit.riesz.symbol import tau_grid

U8 = (P([0, 1]) ** 4 * P([1, -1]) ** 4).coef


@pytest.mark.parametrize("p", [2, 3, 4, 5])
@pytest.mark.parametrize("extra", [0, 3, 37])
def test_structured_assembly_equals_the_dense_reference(p, extra):
    n = p + extra  # n = p is the smallest space collocation accepts
    R = RieszCollocation(BSplineSpace(p, n), 1.3)
    A = R.dense_matrix()
    S = R.operator()
    assert np.abs(S.dense() - A).max() <= 1e-12 * np.abs(A).max()
    v = np.random.default_rng(p * n).standard_normal(R.size)
    assert np.abs(S.matvec(v) - A @ v).max() <= 1e-12 * np.abs(A @ v).max()
    M = R.space.evaluate(R.points)[:, 1:-1]
    # the cardinal B-spline's truncated-power sum loses ~ (p+1)^p / p! (65 for p = 5) times eps
    assert np.abs(R.mass().dense() - M).max() <= 1e-13


def test_combination_and_sizes():
    R = RieszCollocation(BSplineSpace(3, 30), 1.7)
    C = R.mass().combine(2.0, R.operator(), 0.25)
    np.testing.assert_allclose(C.dense(), 2 * R.mass().dense() + 0.25 * R.operator().dense(), rtol=1e-13, atol=1e-12)
    other = RieszCollocation(BSplineSpace(3, 31), 1.7).operator()
    with pytest.raises(ParameterError, match="combined"):
        R.operator().combine(1.0, other, 1.0)
    with pytest.raises(ParameterError, match="shape"):
        R.operator().matvec(np.ones(3))


@pytest.mark.parametrize("alpha", [1.2, 1.5, 1.8])
def test_symbol_f_pi_table_and_zero_of_order_alpha(alpha):
    table = {1.2: (1.8305, 1.3858, 0.8148, 0.5289, 0.3342), 1.5: (2.4841, 2.0201, 1.1429, 0.7474, 0.4709),
             1.8: (3.3258, 3.0072, 1.6002, 1.0572, 0.6633)}
    for p, ref in zip(range(2, 7), table[alpha]):
        assert symbol(math.pi, p, alpha) == pytest.approx(ref, abs=1.5e-4)
    for p in (2, 3):
        assert symbol(1e-3, p, alpha) / 1e-3 ** alpha == pytest.approx(1.0, abs=1e-5)
    assert symbol(0.0, 3, alpha) == 0.0


@pytest.mark.parametrize("p", [2, 3, 4, 5])
def test_symbol_is_the_fourier_series_of_the_generating_sequence(p):
    """f(theta) = psi(0) + 2 sum_k psi(k) cos(k theta); psi(k) ~ k^(-1-alpha), so the tail beyond K is
    bounded by ~ 2 psi(K) K / alpha."""
    alpha = 1.5
    K = 20000
    psi = riesz_sequence(p, alpha, K)
    th = np.linspace(0.05, math.pi, 7)
    series = psi[0] + 2 * (psi[1:, None] * np.cos(np.outer(np.arange(1, K + 1), th))).sum(axis=0)
    tail = 2 * abs(psi[-1]) * K / alpha
    assert np.abs(series - symbol(th, p, alpha)).max() <= tail
    assert tail < 1e-5


def test_symbol_matches_an_assembled_row():
    """RZ-SYM pass check: n = 256, alpha = 1.5, p = 3, to 5e-4 (truncation of psi at N/2)."""
    n, alpha, p = 256, 1.5, 3
    R = RieszCollocation(BSplineSpace(p, n), alpha)
    A = R.dense_matrix() * R.space.h ** alpha
    mid = R.size // 2
    ks = np.arange(-(R.size // 2) + 1, R.size // 2)
    ks = ks[(mid + ks >= 0) & (mid + ks < R.size)]
    th = np.linspace(0, math.pi, 33)
    approx = (A[mid, mid + ks][:, None] * np.cos(np.outer(ks, th))).sum(axis=0)
    assert np.abs(approx - symbol(th, p, alpha)).max() <= 5e-4


def test_mass_symbol():
    for p in (2, 3, 4, 5):
        th = np.linspace(-math.pi, math.pi, 101)
        g = mass_symbol(th, p)
        assert g.min() > 0 and g.max() == pytest.approx(1.0)
    assert mass_symbol(math.pi, 3) == pytest.approx(1 / 3)  # 2/3 - 2 * 1/6


def test_tau_preconditioner_is_the_sine_transform_matrix():
    lam = np.linspace(1, 3, 9)
    T = TauPreconditioner(lam)
    D = T.dense()
    j = np.arange(1, 10)
    S = np.sqrt(2 / 10) * np.sin(np.outer(j, j) * math.pi / 10)
    np.testing.assert_allclose(D, S @ np.diag(lam) @ S, atol=1e-13)
    v = np.random.default_rng(1).standard_normal(9)
    np.testing.assert_allclose(T.solve(D @ v), v, atol=1e-13)
    with pytest.raises(ParameterError, match="positive"):
        TauPreconditioner(np.array([1.0, 0.0]))
    np.testing.assert_allclose(tau_grid(3), [math.pi / 4, math.pi / 2, 3 * math.pi / 4])


@pytest.mark.parametrize("p,alpha", [(2, 1.5), (3, 1.2), (4, 1.8), (5, 1.5)])
def test_tau_preconditioned_iterations_are_bounded(p, alpha):
    """RZ-SOLVE: <= 12 iterations to rtol 1e-10 for n = 64..1024; unpreconditioned counts grow."""
    counts, plain = [], []
    for n in (64, 256, 1024):
        R = RieszCollocation(BSplineSpace(p, n), alpha)
        b = R.rhs(lambda x: polynomial_riesz(U8, x, alpha))
        c, res = R.solve(b, solver="gmres", rtol=1e-10, info=True)
        counts.append(res.iterations)
        assert res.residual <= 1e-10
        np.testing.assert_allclose(R.operator().matvec(c), b, rtol=0, atol=1e-9 * np.abs(b).max())
        if n <= 256:
            plain.append(gmres(R.operator().matvec, b, rtol=1e-10, maxiter=2000).iterations)
    assert max(counts) <= 12
    assert plain[1] > 1.5 * plain[0] and plain[1] > 2 * counts[1]


def test_fast_and_dense_solutions_agree():
    alpha, p, n = 1.5, 3, 128
    R = RieszCollocation(BSplineSpace(p, n), alpha)
    f = lambda x: polynomial_riesz(U8, x, alpha)  # noqa: E731
    cd = R.solve(f, solver="dense")
    cg, res = R.solve(f, solver="gmres", info=True)
    assert np.abs(cd - cg).max() <= 1e-9 * np.abs(cd).max()
    x = np.linspace(0, 1, 20 * n + 1)
    err = np.abs(R.evaluate(cg, x) - P(U8)(x)).max() / P(U8)(0.5)
    assert err == pytest.approx(1.20e-5, rel=0.5)  # research note table, alpha = 1.5, p = 3, n = 128


def test_gmres_on_a_general_system_and_errors():
    rng = np.random.default_rng(3)
    A = np.eye(30) * 4 + rng.standard_normal((30, 30)) * 0.3
    b = rng.standard_normal(30)
    res = gmres(lambda v: A @ v, b, rtol=1e-12)
    np.testing.assert_allclose(A @ res.x, b, atol=1e-10)
    assert res.converged and res.iterations <= 30
    restarted = gmres(lambda v: A @ v, b, rtol=1e-12, restart=5, maxiter=500)
    np.testing.assert_allclose(restarted.x, res.x, atol=1e-10)
    with pytest.raises(SolverError, match="did not reach"):
        gmres(lambda v: A @ v, b, rtol=1e-12, maxiter=3)
    assert gmres(lambda v: A @ v, np.zeros(30)).iterations == 0
    with pytest.raises(ParameterError, match="finite"):
        gmres(lambda v: A @ v, np.full(30, np.nan))


def test_solver_choice_and_bad_input():
    R = RieszCollocation(BSplineSpace(3, 20), 1.5)
    with pytest.raises(ParameterError, match="unknown solver"):
        R.solve(lambda x: x, solver="cg")
    with pytest.raises(ParameterError, match="finite"):
        R.solve(lambda x: np.where(x > 0.5, np.inf, 1.0))
    with pytest.raises(ParameterError, match="finite values"):
        R.solve(np.ones(3))
    for bad in (1.0, 2.0, 0.5, float("nan"), "x"):
        with pytest.raises(ParameterError, match=r"\(1, 2\)"):
            RieszCollocation(BSplineSpace(3, 20), bad)
    with pytest.raises(ParameterError, match="degree must be >= 2"):
        BSplineSpace(1, 20)
    with pytest.raises(ParameterError, match="n_intervals must be >= 1"):
        BSplineSpace(3, 0)
    with pytest.raises(ParameterError, match="at least 10 B-splines"):
        RieszCollocation(BSplineSpace(5, 4), 1.5)
    with pytest.raises(ParameterError, match="at most p - 1 = 2 times"):
        RieszCollocation(BSplineSpace.from_knots(3, [0, 0, 0, 0, .5, .5, .5, 1, 1, 1, 1]), 1.5)
    RieszCollocation(BSplineSpace.from_knots(3, [0, 0, 0, 0, .25, .5, .5, .75, 1, 1, 1, 1]), 1.5)  # double: fine
    with pytest.raises(ParameterError, match="one value per collocation point"):
        R.solve(lambda x: np.ones(3))
    np.testing.assert_allclose(R.solve(lambda x: 1.0), R.solve(lambda x: np.ones_like(x)))
    for bad in (0.0, 1.5, -1e-3):
        with pytest.raises(ParameterError, match="rtol"):
            R.solve(lambda x: x, solver="gmres", rtol=bad)
    with pytest.raises(ParameterError, match="maxiter"):
        R.solve(lambda x: x, solver="gmres", maxiter=0)
    with pytest.raises(ParameterError, match="index"):
        R.space.riesz(R.space.dim, [0.5], 1.5)
    with pytest.raises(ParameterError, match="lie in"):
        R.space.left_rl(3, [1.5], 1.5)
    with pytest.raises(ParameterError, match=r"\(1, 2\)"):
        RieszCollocation(R.space, "1.5")
    with pytest.raises(ParameterError, match="at least 2"):
        BSplineSpace.from_knots(3, [0, 0, 0, 1, 1, 1])
    # non-uniform knots: dense reference only
    knots = np.r_[[0.0] * 4, 0.1, 0.3, 0.6, [1.0] * 4]
    Rn = RieszCollocation(BSplineSpace.from_knots(3, knots), 1.5)
    assert not Rn.uniform
    with pytest.raises(ParameterError, match="uniform"):
        Rn.operator()
    c = Rn.solve(lambda x: np.ones_like(x))  # auto: dense
    assert np.all(np.isfinite(c))


def test_condition_numbers_grow_like_h_minus_alpha():
    """cond(A) ~ h^-alpha (RZ-SOLVE: 6.4e3 at n = 512, p = 2, alpha = 1.5); the symbol estimate of the
    Toeplitz part is within a factor 1.5 for p = 2."""
    c = [RieszCollocation(BSplineSpace(2, n), 1.5).condition_number() for n in (128, 256, 512)]
    assert c[2] == pytest.approx(6.4e3, rel=0.05)
    assert np.log2(c[2] / c[1]) == pytest.approx(1.5, abs=0.1)
    est = RieszCollocation(BSplineSpace(2, 512), 1.5).condition_number(estimate=True)
    assert c[2] / 1.5 <= est <= c[2]


@pytest.mark.parametrize("p", [2, 3, 5])
@pytest.mark.parametrize("alpha", ["1.2", "1.8"])
def test_cardinal_derivative_against_50_digit_reference(p, alpha):
    """D_L^alpha phi_p: exact sum inside the support, refined quadrature beyond (where the sum cancels);
    a 50-digit truncated-power sum is the reference. Near round-off everywhere, also just past the end."""
    import mpmath as mp
    from pdekit.riesz.structured import _cardinal_left_rl

    mp.mp.dps = 50
    a = mp.mpf(alpha)

    def ref(y):
        y = mp.mpf(y)
        return sum((-1) ** m * mp.binomial(p + 1, m) * (y - m) ** (p - a) for m in range(p + 2) if y > m) / \
            mp.gamma(p + 1 - a)

    ys = [0.5, (p + 1) / 2, p + 0.7, p + 1, p + 1 + 1e-12, p + 1 + 2.0 ** -8 * (1 - 1e-12),
          p + 1 + 2.0 ** -8 * (1 + 1e-12), p + 1 + 1 / p, p + 3, p + 40, p + 2000]
    got = _cardinal_left_rl(p, float(alpha), np.array(ys))
    want = np.array([float(ref(y)) for y in ys])
    assert np.abs(got / want - 1).max() <= 5e-12


def test_assembly_needs_O_N_evaluations(monkeypatch):
    """Item 2 of the issue: psi(k) (N values), 2(p-1) boundary columns (N each) and 2(p-1) boundary rows
    (N each) — about (1 + 4(p-1)) N evaluations, not N^2."""
    import pdekit.riesz.collocation as col

    counts = {"cardinal": 0, "columns": 0}
    real_cardinal = col.cardinal_riesz
    real_riesz = BSplineSpace.riesz

    def cardinal(p, alpha, y):
        counts["cardinal"] += np.size(y)
        return real_cardinal(p, alpha, y)

    def riesz(self, j, x, alpha):
        counts["columns"] += np.size(x)
        return real_riesz(self, j, x, alpha)

    monkeypatch.setattr(col, "cardinal_riesz", cardinal)
    monkeypatch.setattr(BSplineSpace, "riesz", riesz)
    p, n = 4, 2000
    R = RieszCollocation(BSplineSpace(p, n), 1.5)
    R.operator()
    N = R.size
    assert counts["columns"] == 2 * (p - 1) * N
    assert counts["cardinal"] == N + 2 * (p - 1) * N
    assert counts["cardinal"] + counts["columns"] <= 4 * p * N < N * N / 50
