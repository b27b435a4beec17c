"""Euler–Maruyama particle sampler (pdekit.fokker_planck.particles).

Every tolerance is statistical: ``K`` standard errors of the estimate (computed from the sample
size) plus, where the scheme has one, the Euler–Maruyama bias — taken from the exact EM moments of
linear SDEs (no O(dt) constant is guessed). Seeds are fixed, so each test is deterministic; with
``K = 4`` and p-value thresholds of 1e-3 a false alarm is a <= 1e-3 event per check for other seeds.
"""
import math

import numba
import numpy as np
import pytest
from scipy import stats
from scipy.linalg import expm, solve_continuous_lyapunov

from pdekit.errors import InstabilityError, ParameterError
from pdekit.fokker_planck.particles import (compare_to_density, euler_maruyama, histogram_density,
                                            sde_coefficients_from_fp, standard_normal)
from pdekit.fokker_planck import particles as P

K = 4.0


# ---- numba coefficient functions (module level: compiled once per session) -----------------
@numba.njit
def ou_drift(x, t):
    return -x


@numba.njit
def ou_drift_wrong_sign(x, t):
    return x


@numba.njit
def gbm_drift(x, t):
    return 0.5 * x


@numba.njit
def gbm_diffusion(x, t):
    return 0.125 * x * x          # C = sigma^2 s^2 / 2, sigma = 0.5


@numba.njit
def gbm_diffusion_dx(x, t):
    return 0.25 * x


@numba.njit
def ou2_drift(x, t, out):         # a = -A x, A = [[1, -2], [2, 1]]
    out[0] = -(x[0] - 2.0 * x[1])
    out[1] = -(2.0 * x[0] + x[1])


@numba.njit
def harmonic_loss(x, t):
    return x * x


@numba.njit
def loss_2d(x, t):
    return 0.5 * x[0] * x[0] + 0.1


@numba.njit
def mult_C(x, t):
    return 0.5 * (1.0 + x * x)


@numba.njit
def mult_B(x, t):
    return x


@numba.njit
def negative_diffusion(x, t):
    return 1.0 - x * x            # < 0 for |x| > 1


@numba.njit
def explosive_drift(x, t):
    return x * x * x * x * x


A2 = np.array([[1.0, -2.0], [2.0, 1.0]])


def gauss_cell_density(faces, mean, sd):
    """Exact cell averages of N(mean, sd^2) on ``faces``."""
    return np.diff(stats.norm.cdf(faces, mean, sd)) / np.diff(faces)


# ---- OU 1D -----------------------------------------------------------------------------------
THETA, DIFF, M0, S0, T = 1.0, 1.0, 1.5, 0.3, 1.0


def ou_exact(t):
    m = M0 * math.exp(-THETA * t)
    v = S0**2 * math.exp(-2 * THETA * t) + DIFF / THETA * (1 - math.exp(-2 * THETA * t))
    return m, v


def ou_em(t, nsteps):
    """Exact moments of the EM chain X_{k+1} = (1 - theta dt) X_k + sqrt(2 D dt) Z."""
    dt = t / nsteps
    r = 1.0 - THETA * dt
    m = M0 * r**nsteps
    v = S0**2 * r ** (2 * nsteps) + 2 * DIFF * dt * (1 - r ** (2 * nsteps)) / (1 - r * r)
    return m, v


@pytest.fixture(scope="module")
def ou_x0():
    return M0 + S0 * np.random.default_rng(11).standard_normal(200_000)


def test_ou_1d_moments_and_histogram(ou_x0):
    n, nsteps = ou_x0.size, 200
    dt = T / nsteps
    res = euler_maruyama(ou_drift, DIFF, ou_x0, 0.0, T, nsteps, seed=2024)
    assert res.path == "compiled" and res.positions.shape == (n,) and res.weights is None
    x = res.positions
    m, v = ou_exact(T)
    m_em, v_em = ou_em(T, nsteps)
    # EM bias, weak order 1 (from 0 <= e^{-theta dt} - (1 - theta dt) <= (theta dt)^2/2):
    #   |m_em - m| <= |m0| theta^2 T dt / 2,
    #   |v_em - v| <= s0^2 theta^2 T dt + D theta T dt + (D/2) dt / (1 - theta dt/2)
    # checked here; the exact |m_em - m|, |v_em - v| are the allowances below
    assert abs(m_em - m) <= abs(M0) * THETA**2 * T * dt / 2
    assert abs(v_em - v) <= (S0**2 * THETA**2 * T + DIFF * THETA * T + DIFF / 2 / (1 - THETA * dt / 2)) * dt
    se_m = math.sqrt(v / n)
    se_v = v * math.sqrt(2.0 / (n - 1))
    assert abs(x.mean() - m) <= K * se_m + abs(m_em - m)
    assert abs(x.var(ddof=1) - v) <= K * se_v + abs(v_em - v)
    # histogram against the exact density (cell averages)
    faces = np.linspace(-4.0, 5.0, 61)
    cmp = res.compare(faces, gauss_cell_density(faces, m, math.sqrt(v)))
    assert cmp.p_value > 1e-3, cmp
    assert cmp.max_z_pvalue > 1e-3, cmp
    assert cmp.l1 - cmp.l1_floor <= K * cmp.l1_floor_sd, cmp
    # the same checks reject a drift of the wrong sign
    bad = euler_maruyama(ou_drift_wrong_sign, DIFF, ou_x0, 0.0, T, nsteps, seed=2024)
    assert abs(bad.positions.mean() - m) > 100 * se_m
    assert bad.compare(faces, gauss_cell_density(faces, m, math.sqrt(v))).p_value < 1e-10


def test_histogram_density_values_and_stderr():
    s = np.array([0.1, 0.2, 0.6, 1.5, 3.0])          # 3.0 is outside the faces
    faces = np.array([0.0, 0.5, 1.0, 2.0])
    dens, se = histogram_density(s, faces)
    n = 5
    p = np.array([2, 1, 1]) / n
    V = np.diff(faces)
    np.testing.assert_allclose(dens, p / V)
    np.testing.assert_allclose(se, np.sqrt(p * (1 - p) / n) / V)
    # unit weights == no weights; weights scale the density
    d1, s1 = histogram_density(s, faces, np.ones(5))
    np.testing.assert_allclose(d1, dens)
    np.testing.assert_allclose(s1, se)
    d2, _ = histogram_density(s, faces, np.full(5, 0.5))
    np.testing.assert_allclose(d2, 0.5 * dens)
    # normalisation by the initial count
    d3, _ = histogram_density(s, faces, n=10)
    np.testing.assert_allclose(d3, dens / 2)
    # 2D: tuple of faces, volumes are products of widths
    s2 = np.array([[0.1, 0.1], [0.7, 0.1], [0.7, 0.9]])
    d4, _ = histogram_density(s2, (np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.2, 1.0])))
    np.testing.assert_allclose(d4, np.array([[1, 0], [1, 1]]) / 3 / np.array([[0.1, 0.4], [0.1, 0.4]]))


def test_binomial_mad_matches_direct_sum():
    for n, p in [(50, 0.3), (1000, 0.001), (200, 0.97), (10**5, 0.02)]:
        k = np.arange(n + 1)
        direct = np.sum(np.abs(k - n * p) * stats.binom.pmf(k, n, p))
        assert P._binom_mad(n, p) == pytest.approx(direct, rel=1e-9)


def test_compare_to_density_calibration_and_weights():
    """Exact samples give non-small p-values; equal weights reproduce the unweighted statistic."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal(100_000)
    faces = np.linspace(-4, 4, 41)
    c = compare_to_density(x, faces, gauss_cell_density(faces, 0.0, 1.0))
    assert c.p_value > 1e-3 and c.max_z_pvalue > 1e-3
    assert abs(c.l1 - c.l1_floor) <= K * c.l1_floor_sd
    assert c.dof == c.cells              # tails and sparse edge cells lumped: expected ~32 >= 10
    faces = np.linspace(-8, 8, 33)       # |x| > 4 expects 6.3 < 10: no rest bin
    g = gauss_cell_density(faces, 0.0, 1.0)
    c = compare_to_density(x, faces, g)
    assert c.dof == c.cells - 1
    assert c.p_value > 1e-3
    cw = compare_to_density(x, faces, 0.3 * g, np.full(x.size, 0.3))
    assert cw.chi2 == pytest.approx(c.chi2, rel=1e-10)
    assert cw.max_z == pytest.approx(c.max_z, rel=1e-6)
    assert cw.l1 == pytest.approx(0.3 * c.l1, rel=1e-10)
    # a visibly wrong density is rejected
    assert compare_to_density(x, faces, gauss_cell_density(faces, 0.05, 1.0)).p_value < 1e-6


# ---- compiled vs Python paths ----------------------------------------------------------------
def _same(r1, r2):
    np.testing.assert_allclose(r1.positions, r2.positions, rtol=0, atol=1e-12)
    for name in ("weights", "exit_time"):
        a, b = getattr(r1, name), getattr(r2, name)
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=0, equal_nan=True)
    if r1.alive is not None:
        np.testing.assert_array_equal(r1.alive, r2.alive)


def test_compiled_and_callable_paths_identical():
    rng = np.random.default_rng(1)
    x0 = 1.5 + 0.3 * rng.standard_normal(3000)
    kw = dict(seed=77)
    cases = [
        ((ou_drift, 1.0), (lambda x, t: -x, 1.0), {}),
        ((ou_drift, gbm_diffusion), (lambda x, t: -x, lambda x, t: 0.125 * x * x), {}),
        ((gbm_drift, gbm_diffusion), (lambda x, t: 0.5 * x, lambda x, t: 0.125 * x * x), dict(scheme="milstein")),
        ((0.3, 0.5), (lambda x, t: np.full(x.shape, 0.3), lambda x, t: 0.5), {}),
        ((ou_drift, 1.0), (lambda x, t: -x, 1.0), dict(bounds=(0.0, 3.0))),
        ((ou_drift, 1.0), (lambda x, t: -x, 1.0), dict(bounds=(0.0, 3.0), boundary="periodic", loss_rate=0.4)),
        ((ou_drift, 1.0), (lambda x, t: -x, 1.0),
         dict(bounds=(0.8, 2.6), boundary="absorbing", loss_rate=harmonic_loss)),
    ]
    x0c = np.clip(x0, 0.81, 2.59)
    for (fa, fc), (ga, gc), extra in cases:
        xs = x0c if "bounds" in extra else x0
        r1 = euler_maruyama(fa, fc, xs, 0.0, 1.0, 60, **kw, **extra)
        extra_py = dict(extra)
        if extra_py.get("loss_rate") is harmonic_loss:
            extra_py["loss_rate"] = lambda x, t: x * x
        r2 = euler_maruyama(ga, gc, xs, 0.0, 1.0, 60, chunk=777, **kw, **extra_py)
        assert r1.path == "compiled" and r2.path == "callable"
        _same(r1, r2)
    # the absorbing case removed some particles (so that path is exercised)
    assert 0 < np.count_nonzero(~r1.alive) < x0c.size
    # 2D, with an absorbing axis and a free axis
    X0 = np.column_stack([1.5 + 0.3 * rng.standard_normal(3000), -1.0 + 0.3 * rng.standard_normal(3000)])
    for extra in ({}, dict(bounds=[(-1.0, 3.0), None], boundary=["absorbing", None]),
                  dict(bounds=[(-0.5, 3.5), (-3.0, 1.0)], boundary=["reflecting", "periodic"], loss_rate=loss_2d)):
        extra_py = dict(extra)
        if "loss_rate" in extra:
            extra_py["loss_rate"] = lambda X, t: 0.5 * X[:, 0] ** 2 + 0.1
        r1 = euler_maruyama(ou2_drift, (1.0, 0.5), X0, 0.0, 1.0, 60, **kw, **extra)
        r2 = euler_maruyama(lambda X, t: -(X @ A2.T), (1.0, 0.5), X0, 0.0, 1.0, 60, **kw, **extra_py)
        assert r1.path == "compiled" and r2.path == "callable" and r1.positions.shape == X0.shape
        _same(r1, r2)


def test_reproducible_and_independent_of_threads_and_chunks():
    x0 = np.zeros(5000)
    r1 = euler_maruyama(ou_drift, 1.0, x0, 0.0, 1.0, 50, seed=3)
    prev = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        r2 = euler_maruyama(ou_drift, 1.0, x0, 0.0, 1.0, 50, seed=3)
    finally:
        numba.set_num_threads(prev)
    np.testing.assert_array_equal(r1.positions, r2.positions)
    r3 = euler_maruyama(lambda x, t: -x, 1.0, x0, 0.0, 1.0, 50, seed=3, chunk=None)
    r4 = euler_maruyama(lambda x, t: -x, 1.0, x0, 0.0, 1.0, 50, seed=3, chunk=123)
    np.testing.assert_array_equal(r3.positions, r4.positions)
    r5 = euler_maruyama(ou_drift, 1.0, x0, 0.0, 1.0, 50, seed=4)
    assert np.mean(r5.positions == r1.positions) < 1e-3
    # particle i's stream does not depend on n: the first 100 particles agree
    r6 = euler_maruyama(ou_drift, 1.0, x0[:100], 0.0, 1.0, 50, seed=3)
    np.testing.assert_array_equal(r6.positions, r1.positions[:100])
    # seed=None draws and records a seed
    r7 = euler_maruyama(ou_drift, 1.0, x0[:10], 0.0, 1.0, 5)
    np.testing.assert_array_equal(euler_maruyama(ou_drift, 1.0, x0[:10], 0.0, 1.0, 5, seed=r7.seed).positions,
                                  r7.positions)


def test_standard_normal_generator():
    z = standard_normal(1_000_000, seed=8)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    n = z.size
    assert abs(z.mean()) <= K / math.sqrt(n)
    assert abs(z.var() - 1.0) <= K * math.sqrt(2.0 / n)
    # tails (the ziggurat's slow branches): P(|Z| > 3) within binomial error
    p3 = 2 * stats.norm.sf(3.0)
    assert abs(np.mean(np.abs(z) > 3.0) - p3) <= K * math.sqrt(p3 * (1 - p3) / n)
    np.testing.assert_array_equal(standard_normal((4, 3), 8)[:, 0], z[:4])


# ---- boundaries -------------------------------------------------------------------------------
def test_reflecting_walls_conserve_and_reach_truncated_gaussian():
    lo, hi = -1.0, 1.5
    n = 100_000
    x0 = np.random.default_rng(2).uniform(lo, hi, n)
    res = euler_maruyama(ou_drift, 1.0, x0, 0.0, 5.0, 1000, seed=9, bounds=(lo, hi))
    x = res.positions
    assert x.shape == (n,) and res.alive is None
    assert np.all((x >= lo) & (x <= hi))
    faces = np.linspace(lo, hi, 51)
    dens, _ = res.density(faces)
    assert np.sum(dens * np.diff(faces)) == pytest.approx(1.0, abs=1e-12)   # every particle counted
    # stationary zero-flux density: N(0, D/theta) truncated to [lo, hi]
    Z = stats.norm.cdf(hi) - stats.norm.cdf(lo)
    cmp = res.compare(faces, gauss_cell_density(faces, 0.0, 1.0) / Z)
    assert cmp.p_value > 1e-3 and cmp.max_z_pvalue > 1e-3, cmp


def test_reflection_folds_long_steps():
    """Steps of ~1 domain length (fold more than once) still give the uniform stationary density."""
    n = 50_000
    res = euler_maruyama(0.0, 50.0, np.full(n, 0.3), 0.0, 1.0, 100, seed=1, bounds=(0.0, 1.0))
    x = res.positions
    assert np.all((x >= 0.0) & (x <= 1.0))
    faces = np.linspace(0, 1, 21)
    assert res.compare(faces, np.ones(20)).p_value > 1e-3


def test_periodic_wrapped_gaussian():
    """Constant drift and diffusion on a periodic interval: EM is exact, compare with the wrapped Gaussian."""
    from pdekit.advection_diffusion.exact import gaussian_periodic_average
    n, v, C, sig0, xc, T1 = 100_000, 0.7, 0.01, 0.05, 0.8, 1.0
    x0 = np.mod(xc + sig0 * np.random.default_rng(4).standard_normal(n), 1.0)
    res = euler_maruyama(v, C, x0, 0.0, T1, 20, seed=5, bounds=(0.0, 1.0), boundary="periodic")
    assert np.all((res.positions >= 0.0) & (res.positions < 1.0))
    faces = np.linspace(0.0, 1.0, 41)
    avg = gaussian_periodic_average(faces, T1, x0=xc, sigma0=sig0, velocity=v, diffusivity=C, period=1.0)
    cmp = res.compare(faces, avg / (sig0 * math.sqrt(2 * math.pi)))
    assert cmp.p_value > 1e-3, cmp


def test_absorbing_walls_survival_with_bridge_correction():
    """Brownian motion (C = 1/2) killed at 0 and 1 from x0 = 1/2: survival = sum over odd modes."""
    n, Dc, T1, nsteps = 100_000, 0.5, 0.2, 20
    S = sum(4 / (k * math.pi) * math.sin(k * math.pi / 2) * math.exp(-(k * math.pi) ** 2 * Dc * T1)
            for k in range(1, 60, 2))
    se = math.sqrt(S * (1 - S) / n)
    x0 = np.full(n, 0.5)
    res = euler_maruyama(0.0, Dc, x0, 0.0, T1, nsteps, seed=12, bounds=(0.0, 1.0), boundary="absorbing")
    alive = res.alive
    assert abs(alive.mean() - S) <= K * se
    dead = ~alive
    assert np.all(np.isin(res.positions[dead], [0.0, 1.0]))
    assert np.all(np.isnan(res.exit_time[alive]))
    assert np.all((res.exit_time[dead] > 0.0) & (res.exit_time[dead] <= T1 + 1e-12))
    assert np.all((res.positions[alive] > 0.0) & (res.positions[alive] < 1.0))
    # discrete monitoring alone overestimates survival by O(sqrt(dt)) -- far outside the noise
    res2 = euler_maruyama(0.0, Dc, x0, 0.0, T1, nsteps, seed=12, bounds=(0.0, 1.0), boundary="absorbing",
                          bridge=False)
    assert res2.alive.mean() - S > 10 * se
    # the density normalises by the initial count: the removed mass is missing
    dens, _ = res.density(np.linspace(0, 1, 11))
    assert np.sum(dens * 0.1) == pytest.approx(alive.mean(), abs=1e-12)


# ---- GBM -------------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", ["euler", "milstein"])
def test_gbm_mean_and_lognormal_density(scheme):
    mu, sig, m0, v0, T1, n, nsteps = 0.5, 0.5, 0.0, 0.25**2, 1.0, 200_000, 200
    dt = T1 / nsteps
    s0 = np.exp(m0 + math.sqrt(v0) * np.random.default_rng(6).standard_normal(n))
    kw = dict(diffusion_dx=gbm_diffusion_dx) if scheme == "milstein" else {}
    res = euler_maruyama(gbm_drift, gbm_diffusion, s0, 0.0, T1, nsteps, seed=21, scheme=scheme, **kw)
    s = res.positions
    exact = math.exp(m0 + v0 / 2 + mu * T1)
    # EM and Milstein have E[S_{k+1}] = (1 + mu dt) E[S_k] exactly: the bias is known in closed form
    bias = math.exp(m0 + v0 / 2) * ((1 + mu * dt) ** nsteps - math.exp(mu * T1))
    assert abs(bias) <= exact * mu**2 * T1 * dt / 2           # stated O(dt) bound
    assert abs(s.mean() - exact) <= K * s.std() / math.sqrt(n) + abs(bias)
    # density in s on a geometric grid against the log-normal cell averages
    faces = np.exp(np.linspace(-1.5, 3.0, 46))
    mT, vT = m0 + (mu - sig**2 / 2) * T1, v0 + sig**2 * T1
    cell = np.diff(stats.norm.cdf(np.log(faces), mT, math.sqrt(vT))) / np.diff(faces)
    cmp = res.compare(faces, cell)
    assert cmp.p_value > 1e-3 and cmp.max_z_pvalue > 1e-3, cmp


def test_milstein_numerical_derivative_matches_explicit():
    s0 = np.exp(0.25 * np.random.default_rng(7).standard_normal(2000))
    r1 = euler_maruyama(gbm_drift, gbm_diffusion, s0, 0.0, 1.0, 50, seed=1, scheme="milstein",
                        diffusion_dx=gbm_diffusion_dx)
    r2 = euler_maruyama(gbm_drift, gbm_diffusion, s0, 0.0, 1.0, 50, seed=1, scheme="milstein")
    r3 = euler_maruyama(gbm_drift, gbm_diffusion, s0, 0.0, 1.0, 50, seed=1)
    np.testing.assert_allclose(r2.positions, r1.positions, rtol=1e-8)
    assert np.max(np.abs(r3.positions - r1.positions)) > 1e-3      # the Milstein term is active


# ---- 2D OU -----------------------------------------------------------------------------------
def test_ou_2d_anisotropic_moments():
    n, nsteps, T1, D = 100_000, 200, 1.0, 1.0
    dt = T1 / nsteps
    m0 = np.array([1.5, -1.0])
    S0m = 0.09 * np.eye(2)
    X0 = m0 + 0.3 * np.random.default_rng(8).standard_normal((n, 2))
    res = euler_maruyama(ou2_drift, D, X0, 0.0, T1, nsteps, seed=31)
    X = res.positions
    assert X.shape == (n, 2)
    E = expm(-A2 * T1)
    m = E @ m0
    Sinf = solve_continuous_lyapunov(A2, 2 * D * np.eye(2))       # A S + S A^T = 2 D I
    S = E @ (S0m - Sinf) @ E.T + Sinf
    # exact EM moments: m_{k+1} = M m_k, S_{k+1} = M S_k M^T + 2 D dt I, M = I - A dt
    M = np.eye(2) - A2 * dt
    m_em, S_em = m0.copy(), S0m.copy()
    for _ in range(nsteps):
        m_em = M @ m_em
        S_em = M @ S_em @ M.T + 2 * D * dt * np.eye(2)
    mean = X.mean(axis=0)
    cov = np.cov(X.T)
    se_m = np.sqrt(np.diag(S) / n)
    assert np.all(np.abs(mean - m) <= K * se_m + np.abs(m_em - m))
    se_S = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S**2) / n)
    assert np.all(np.abs(cov - S) <= K * se_S + np.abs(S_em - S))
    # bias is O(dt): at most a few dt times the moments
    assert np.max(np.abs(m_em - m)) < 5 * dt * np.max(np.abs(m0))


def test_2d_histogram_constant_coefficients():
    """Constant per-axis drift and diffusion: EM is exact; 2D histogram vs product of Gaussians."""
    n, T1 = 100_000, 1.0
    a, C = (0.3, -0.2), (0.5, 0.1)
    res = euler_maruyama(a, C, np.zeros((n, 2)), 0.0, T1, 10, seed=41)
    fx, fy = np.linspace(-3.5, 4.1, 21), np.linspace(-2.0, 1.6, 16)
    gx = gauss_cell_density(fx, a[0] * T1, math.sqrt(2 * C[0] * T1))
    gy = gauss_cell_density(fy, a[1] * T1, math.sqrt(2 * C[1] * T1))
    cmp = res.compare((fx, fy), np.outer(gx, gy))
    assert cmp.p_value > 1e-3 and cmp.max_z_pvalue > 1e-3, cmp
    assert len(cmp.max_z_cell) == 2


# ---- loss rate --------------------------------------------------------------------------------
def test_constant_loss_rate_weights_exact():
    nu, T1 = 0.7, 1.3
    x0 = np.zeros(1000)
    for drift in (ou_drift, lambda x, t: -x):
        res = euler_maruyama(drift, 1.0, x0, 0.0, T1, 100, seed=1, loss_rate=nu)
        np.testing.assert_allclose(res.weights, math.exp(-nu * T1), rtol=1e-12)
        assert res.weights.sum() / x0.size == pytest.approx(math.exp(-nu * T1), rel=1e-12)
        dens, _ = res.density(np.linspace(-6, 6, 25))
        assert np.sum(dens * 0.5) == pytest.approx(math.exp(-nu * T1), rel=1e-12)


def test_state_dependent_loss_feynman_kac():
    """E exp(-kappa int X^2) for X = sqrt(2D) W from 0: cosh(lambda T)^(-1/2), lambda = 2 sqrt(kappa D)."""
    n, D, T1, nsteps = 100_000, 0.5, 1.0, 200
    dt = T1 / nsteps
    res = euler_maruyama(0.0, D, np.zeros(n), 0.0, T1, nsteps, seed=13, loss_rate=harmonic_loss)
    w = res.weights
    exact = math.cosh(2 * math.sqrt(D) * T1) ** -0.5
    # left-point rule: E[sum X_k^2 dt] = D T^2 - D T dt, so the weight is biased up by ~ D T dt E[w]
    bias = 2 * D * T1 * dt * exact
    assert abs(w.mean() - exact) <= K * w.std() / math.sqrt(n) + bias


# ---- FP -> SDE conversion ----------------------------------------------------------------------
def test_sde_coefficients_from_fp_constant_and_callable():
    assert sde_coefficients_from_fp(2.0, 0.5) == (-0.5, 2.0)
    assert sde_coefficients_from_fp((1.0, 2.0), (0.5, -1.0), ndim=2) == ((-0.5, 1.0), (1.0, 2.0))
    xs = np.linspace(-2, 2, 9)
    a_py, c_py = sde_coefficients_from_fp(lambda x, t: 0.5 * (1 + x * x), lambda x, t: 3 * x)
    np.testing.assert_allclose(a_py(xs, 0.0), xs - 3 * xs, atol=1e-8)           # dC/dx - B
    a_nb, c_nb = sde_coefficients_from_fp(mult_C, mult_B)
    assert c_nb is mult_C
    np.testing.assert_allclose([a_nb(x, 0.0) for x in xs], 0.0, atol=1e-8)
    a_ex, _ = sde_coefficients_from_fp(mult_C, mult_B, dC_dx=lambda x, t: x)
    np.testing.assert_allclose(a_ex(xs, 0.0), 0.0, atol=0)
    # 2D, per-axis C_i(x) = 1 + x_i^2 x_j: a_i = 2 x_i x_j - B_i
    a2, _ = sde_coefficients_from_fp(lambda X, t: 1 + X**2 * X[:, ::-1], lambda X, t: X, ndim=2)
    X = np.array([[0.5, 2.0], [-1.0, 0.3]])
    np.testing.assert_allclose(a2(X, 0.0), 2 * X * X[:, ::-1] - X, atol=1e-8)


def test_multiplicative_noise_stationary_density_from_fp_form():
    """FP form C = (1 + x^2)/2, B = x on [-2, 2] (zero flux): u = exp(-int B/C) ∝ 1/(1 + x^2).

    The Itô drift is a = C' - B = 0: forgetting C' (a = -B) would give u ∝ (1 + x^2)^-2.
    """
    drift, diffusion = sde_coefficients_from_fp(mult_C, mult_B)
    n = 100_000
    x0 = np.random.default_rng(3).uniform(-2, 2, n)
    res = euler_maruyama(drift, diffusion, x0, 0.0, 8.0, 1600, seed=17, bounds=(-2.0, 2.0))
    faces = np.linspace(-2, 2, 41)
    cell = np.diff(np.arctan(faces)) / (2 * math.atan(2.0)) / np.diff(faces)
    cmp = res.compare(faces, cell)
    assert cmp.p_value > 1e-3 and cmp.max_z_pvalue > 1e-3, cmp
    wrong = np.diff(faces / (1 + faces**2) / 2 + np.arctan(faces) / 2)
    wrong = wrong / wrong.sum() / np.diff(faces)
    assert res.compare(faces, wrong).p_value < 1e-10


# ---- errors -------------------------------------------------------------------------------------
X0 = np.zeros(10)


@pytest.mark.parametrize("kwargs, words", [
    (dict(nsteps=0), ["nsteps", ">= 1"]),
    (dict(nsteps=-3), ["nsteps", ">= 1"]),
    (dict(nsteps=2.5), ["nsteps", "integer"]),
    (dict(t1=0.0), ["t1", "t0 < t1"]),
    (dict(t1=-1.0), ["t1", "t0 < t1"]),
    (dict(t1=np.inf), ["t1", "finite"]),
    (dict(diffusion=-1.0), ["diffusion", ">= 0"]),
    (dict(diffusion=(1.0, 2.0)), ["diffusion", "length-1"]),
    (dict(x0=np.array([0.0, np.nan])), ["x0", "finite"]),
    (dict(x0=np.array([0.0, np.inf])), ["x0", "finite"]),
    (dict(x0=np.zeros((2, 2, 2))), ["x0", "(n, d)"]),
    (dict(x0=np.array([0.0, 1.5]), bounds=(-1.0, 1.0)), ["x0", "inside bounds", "[-1.0, 1.0]"]),
    (dict(bounds=(0.0, 1.0), boundary="sticky"), ["boundary", "'reflecting', 'periodic', 'absorbing'"]),
    (dict(boundary="absorbing"), ["bounds", "absorbing"]),
    (dict(bounds=(1.0, -1.0)), ["bounds", "lo < hi"]),
    (dict(bounds=(0.0, np.inf), boundary="periodic"), ["periodic", "finite"]),
    (dict(seed=-1), ["seed", "2**64"]),
    (dict(scheme="heun"), ["scheme", "'euler' or 'milstein'"]),
    (dict(chunk=0), ["chunk", ">= 1"]),
    (dict(drift="fast"), ["drift"]),
])
def test_bad_input_raises_parameter_error(kwargs, words):
    args = dict(drift=0.0, diffusion=1.0, x0=X0, t0=0.0, t1=1.0, nsteps=10)
    args.update(kwargs)
    with pytest.raises(ParameterError) as info:
        euler_maruyama(args.pop("drift"), args.pop("diffusion"), args.pop("x0"), args.pop("t0"), args.pop("t1"),
                       args.pop("nsteps"), **args)
    msg = str(info.value)
    for w in words:
        assert w in msg, msg


def test_errors_during_the_run():
    with pytest.raises(ParameterError, match="diffusion .* particle .* at t = "):
        euler_maruyama(0.0, negative_diffusion, np.linspace(0, 0.9, 5), 0.0, 1.0, 10, seed=1,
                       bounds=(-3.0, 3.0))
    with pytest.raises(ParameterError, match="diffusion"):
        euler_maruyama(0.0, lambda x, t: 1.0 - x * x, np.array([0.0, 2.0]), 0.0, 1.0, 10, seed=1)
    with pytest.raises(InstabilityError) as info:
        euler_maruyama(explosive_drift, 0.1, np.array([0.0, 10.0]), 0.0, 1.0, 10, seed=1)
    assert info.value.cell == (1,) and info.value.step >= 1
    with pytest.raises(ParameterError, match="milstein"):
        euler_maruyama(ou2_drift, 1.0, np.zeros((3, 2)), 0.0, 1.0, 10, scheme="milstein")
    with pytest.raises(ParameterError, match="drift: the numba function must follow the convention"):
        euler_maruyama(ou_drift, 1.0, np.zeros((3, 2)), 0.0, 1.0, 10)      # scalar function for d = 2
    with pytest.raises(ParameterError, match="broadcastable"):
        euler_maruyama(lambda x, t: np.zeros(3), 1.0, np.zeros(5), 0.0, 1.0, 2)
    with pytest.raises(ParameterError, match="cell_density"):
        compare_to_density(np.zeros(10), np.linspace(0, 1, 5), np.ones(3))
    with pytest.raises(ParameterError, match="faces"):
        histogram_density(np.zeros(10), np.array([0.0, 1.0, 0.5]))
