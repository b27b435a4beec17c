"""Score-based diffusion SDEs (SPEC FP-VP, fokker_planck.md A.6): exact marginals and scores, PF-ODE and
reverse-SDE samplers, score Fokker–Planck residual, W2 and the ODE–SDE gap (Deveney et al. 2023)."""
import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from pdekit.errors import ParameterError
from pdekit.fokker_planck import score as sc
from pdekit.fokker_planck.score import (GaussianMixture, VESDE, VPSDE, exact_score, forward_sde, ode_sde_gap,
                                        perturbed_score, probability_flow, reverse_sde, score_fp_residual,
                                        score_fp_residual_norm, wasserstein2_1d, wasserstein2_to_mixture_1d)

N_SAMPLES = 20_000
KS99 = 1.63 / math.sqrt(N_SAMPLES)     # asymptotic 99% quantile of the one-sample KS statistic


@pytest.fixture(scope="module")
def mix():
    """The 1D spec mixture: w = (0.3, 0.7), mu = (-2, 1.5), sigma = (0.3, 0.5)."""
    return GaussianMixture([0.3, 0.7], [-2.0, 1.5], stds=[0.3, 0.5])


@pytest.fixture(scope="module")
def mix2():
    """The 2D spec suggestion: w = (½, ½), mu = (±2, 0), Sigma_k = R(±30°) diag(0.3², 0.1²) R(±30°)ᵀ."""
    def rot(a):
        return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    D = np.diag([0.3**2, 0.1**2])
    covs = np.stack([rot(a) @ D @ rot(a).T for a in (math.pi / 6, -math.pi / 6)])
    return GaussianMixture([0.5, 0.5], [[2.0, 0.0], [-2.0, 0.0]], covs)


def ks_statistic(x, cdf):
    x = np.sort(x)
    F = cdf(x)
    i = np.arange(1, x.size + 1)
    return max(np.max(i / x.size - F), np.max(F - (i - 1) / x.size))


def central_fourth_moment(m):
    mu, var, w = m.means, m.covariances, m.weights
    c = mu - m.mean()
    return float(np.sum(w * (c**4 + 6 * c**2 * var + 3 * var**2)))


def moments_within_3se(x, m):
    """Sample mean and variance against the exact ones, to 3 standard errors (exact 4th moment)."""
    n, var = x.size, m.covariance()
    se_mean = math.sqrt(var / n)
    se_var = math.sqrt((central_fourth_moment(m) - var**2) / n)
    assert abs(x.mean() - m.mean()) <= 3 * se_mean
    assert abs(x.var() - var) <= 3 * se_var


# ------------------------------------------------------------------------------------- SDE coefficients

def test_vp_coefficients_and_fp_time_scale():
    sde = VPSDE()
    t = np.array([0.0, 0.1, 0.3, 1.0])
    B = 0.1 * t + 0.5 * 19.9 * t**2
    assert np.allclose(sde.beta_integral(t), B, rtol=1e-15, atol=0)
    assert np.allclose(sde.mean_scale(t), np.exp(-B / 2), rtol=1e-15)
    assert np.allclose(sde.marginal_std_added(t) ** 2, 1 - np.exp(-B), rtol=1e-14, atol=1e-300)
    assert np.allclose(sde.diffusion(t) ** 2, sde.beta(t), rtol=1e-15)
    assert np.allclose(sde.drift(np.array([1.0, -2.0]), 0.5), -0.5 * sde.beta(0.5) * np.array([1.0, -2.0]))
    # FP generator beta(t) L0: the time scale is dB/dt
    h = 1e-6
    assert np.allclose((sde.fp_time_integral(t[1:] + h) - sde.fp_time_integral(t[1:] - h)) / (2 * h),
                       sde.fp_time_scale(t[1:]), rtol=1e-8)


def test_ve_coefficients_and_fp_time_scale():
    sde = VESDE(sigma_min=0.01, sigma_max=5.0)
    t = np.array([0.0, 0.2, 0.7, 1.0])
    sig = 0.01 * 500.0**t
    assert np.allclose(sde.sigma(t), sig, rtol=1e-14)
    assert np.allclose(sde.marginal_std_added(t) ** 2, sig**2 - 1e-4, rtol=1e-12, atol=1e-300)
    h = 1e-6
    dsig2 = (sde.sigma(t[1:] + h) ** 2 - sde.sigma(t[1:] - h) ** 2) / (2 * h)
    assert np.allclose(sde.diffusion(t[1:]) ** 2, dsig2, rtol=1e-8)
    assert np.allclose(sde.fp_time_scale(t[1:]), 0.5 * dsig2, rtol=1e-8)        # heat eq. D = ½ dσ²/dt
    assert np.allclose(2 * sde.fp_time_integral(t), sde.marginal_variance_added(t), rtol=1e-14)
    assert np.all(sde.drift(np.ones((3, 2)), 0.4) == 0)


# ------------------------------------------------------------------------------------- marginals and score

def _brute_force_marginal(mix, x, a, v):
    """p_t(x) = ∫ p_0(y) N(x; a y, v) dy by the trapezoid rule on a fine grid (spectrally accurate for
    these Gaussian integrands: the narrowest width is >= 0.17 against a step of 1e-3)."""
    y = np.linspace(-12, 12, 24001)
    kern = np.exp(-(x[:, None] - a * y[None, :]) ** 2 / (2 * v)) / math.sqrt(2 * math.pi * v)
    return integrate.trapezoid(kern * mix.pdf(y)[None, :], y, axis=1)


@pytest.mark.parametrize("t", [0.05, 0.3, 1.0])
def test_vp_marginal_equals_convolution(mix, t):
    B = 0.1 * t + 0.5 * 19.9 * t * t               # independent of the module's formulas
    a, v = math.exp(-B / 2), 1 - math.exp(-B)
    x = np.linspace(-5, 5, 41)
    p = VPSDE().marginal(mix, t).pdf(x)
    assert np.max(np.abs(p - _brute_force_marginal(mix, x, a, v))) <= 1e-10


@pytest.mark.parametrize("t", [0.3, 1.0])
def test_ve_marginal_equals_convolution(mix, t):
    v = (0.01 * 500.0**t) ** 2 - 0.01**2
    x = np.linspace(-8, 8, 41)
    p = VESDE().marginal(mix, t).pdf(x)
    assert np.max(np.abs(p - _brute_force_marginal(mix, x, 1.0, v))) <= 1e-10


def test_marginal_at_zero_is_the_data(mix, mix2):
    for sde in (VPSDE(), VESDE()):
        for m in (mix, mix2):
            m0 = sde.marginal(m, 0.0)
            assert np.array_equal(m0.means, m.means) and np.allclose(m0.covariances, m.covariances, rtol=1e-15)


def test_mixture_basics(mix, mix2):
    x = np.linspace(-8, 8, 4001)
    assert abs(integrate.trapezoid(mix.pdf(x), x) - 1) < 1e-12
    assert np.allclose(np.gradient(mix.cdf(x), x)[1:-1], mix.pdf(x)[1:-1], atol=1e-4)
    u = np.array([1e-6, 0.3, 0.5, 0.999])
    assert np.allclose(mix.cdf(mix.ppf(u)), u, rtol=1e-12)
    # weights are normalised
    assert np.allclose(GaussianMixture([3, 7], [-2, 1.5], stds=[0.3, 0.5]).weights, [0.3, 0.7], rtol=1e-15)
    # 2D pdf against scipy
    pts = np.array([[2.0, 0.1], [-1.0, 0.3], [0.0, 0.0]])
    ref = sum(0.5 * stats.multivariate_normal(m, c).pdf(pts) for m, c in zip(mix2.means, mix2.covariances))
    assert np.allclose(mix2.pdf(pts), ref, rtol=1e-13)
    xs = mix2.sample(40_000, 5)
    assert xs.shape == (40_000, 2)
    se = np.sqrt(np.diag(mix2.covariance()) / xs.shape[0])
    assert np.all(np.abs(xs.mean(0) - mix2.mean()) <= 3 * se)


def test_score_is_gradient_of_logpdf_1d(mix):
    """Central difference of log p converges to the score at O(h²); also far out in the tails,
    where p underflows but log-sum-exp keeps log p and the score finite."""
    x = np.array([-40.0, -3.0, -2.0, -0.4, 0.0, 1.5, 3.0, 25.0])
    s = VPSDE().marginal(mix, 0.3)
    errs = []
    for h in (4e-3, 2e-3, 1e-3):
        fd = (s.logpdf(x + h) - s.logpdf(x - h)) / (2 * h)
        errs.append(np.max(np.abs(fd - s.score(x)) / (1 + np.abs(s.score(x)))))
    orders = np.log2(np.array(errs[:-1]) / errs[1:])
    assert np.all(np.abs(orders - 2) < 0.1), orders
    assert errs[-1] < 1e-5 and np.all(np.isfinite(s.score(x)))
    assert mix.pdf(-40.0) == 0.0 and np.isfinite(mix.score(-40.0))


def test_score_is_gradient_of_logpdf_2d(mix2):
    m = VPSDE().marginal(mix2, 0.2)
    x = np.array([[2.0, 0.1], [0.3, -0.2], [-2.5, 0.4]])
    errs = []
    for h in (4e-3, 2e-3, 1e-3):
        fd = np.stack([(m.logpdf(x + h * e) - m.logpdf(x - h * e)) / (2 * h) for e in np.eye(2)], axis=-1)
        errs.append(np.max(np.abs(fd - m.score(x))))
    orders = np.log2(np.array(errs[:-1]) / errs[1:])
    assert np.all(np.abs(orders - 2) < 0.1), orders
    assert m.score(x).shape == x.shape


def test_exact_score_callable(mix):
    sde = VPSDE()
    s = exact_score(sde, mix)
    x = np.linspace(-3, 3, 7)
    assert np.array_equal(s(x, 0.4), sde.marginal(mix, 0.4).score(x))
    # single Gaussian: s = -(x - a mu) / (a² σ² + 1 - a²)
    g = GaussianMixture([1.0], [0.7], [0.2])
    a = float(sde.mean_scale(0.4))
    assert np.allclose(exact_score(sde, g)(x, 0.4), -(x - a * 0.7) / (a * a * 0.2 + 1 - a * a), rtol=1e-13)


# ------------------------------------------------------------------------------------- samplers

@pytest.fixture(scope="module")
def x0(mix):
    return mix.sample(N_SAMPLES, np.random.default_rng(20210101))


def test_probability_flow_forward_matches_marginal(mix, x0):
    sde = VPSDE()
    s = exact_score(sde, mix)
    x, t_prev = x0, 0.0
    for t in (0.3, 1.0):                      # 0 -> 0.3 -> 1 (the second leg continues the first)
        x = probability_flow(sde, s, x, t_prev, t, rtol=1e-8)
        t_prev = t
        pt = sde.marginal(mix, t)
        # measured D_KS = 0.00562 at both times (bound 0.0115): the D_KS of x0 against p_0, see below
        assert ks_statistic(x, pt.cdf) <= KS99
        moments_within_3se(x, pt)
        # in 1D the PF-ODE flow map is the monotone transport p_0 -> p_t, so F_t(x(t)) = F_0(x(0)) for
        # each particle; only the time-integration error (rtol 1e-8) remains (measured 4e-10, 6e-10)
        assert np.max(np.abs(pt.cdf(x) - mix.cdf(x0))) <= 1e-7


def test_probability_flow_backward_and_perturbed_score(mix):
    sde = VPSDE()
    rng = np.random.default_rng(11)
    xT = sde.marginal(mix, 1.0).sample(N_SAMPLES, rng)
    s = exact_score(sde, mix)
    x = probability_flow(sde, s, xT, 1.0, 0.0, method="DOP853")
    assert ks_statistic(x, mix.cdf) <= KS99          # measured 0.0038
    moments_within_3se(x, mix)
    # negative control: the same test rejects a perturbed score (measured D_KS = 0.115)
    xp = probability_flow(sde, perturbed_score(s, 0.1), xT, 1.0, 0.0, rtol=1e-6)
    assert ks_statistic(xp, mix.cdf) > 3 * KS99


def test_probability_flow_2d_moments(mix2):
    sde = VPSDE()
    x0 = mix2.sample(5000, 3)
    x = probability_flow(sde, exact_score(sde, mix2), x0, 0.0, 0.5)
    pt = sde.marginal(mix2, 0.5)
    se = np.sqrt(np.diag(pt.covariance()) / x.shape[0])
    assert x.shape == x0.shape and np.all(np.abs(x.mean(0) - pt.mean()) <= 3 * se)


# Euler–Maruyama bias of the reverse SDE (weak order 1): with n = 1e6 particles and the exact score we
# measured sup|F_EM - F| = 0.0143, 0.0075, 0.0035 at nsteps = 25, 50, 100, i.e. ≈ 0.36/nsteps (and below
# the n = 1e6 noise level, 0.0016, from 200 steps on).  The bound below adds 0.5/nsteps to the
# 99% statistical bound.
def _em_bias_bound(nsteps):
    return 0.5 / nsteps


def test_reverse_sde_matches_data(mix):
    sde = VPSDE()
    rng = np.random.default_rng(2023)
    s = exact_score(sde, mix)
    xT = sde.marginal(mix, 1.0).sample(N_SAMPLES, rng)
    p_end = sde.marginal(mix, 1e-3)
    x = reverse_sde(sde, s, xT, 1.0, t_end=1e-3, nsteps=500, rng=rng)
    D = ks_statistic(x, p_end.cdf)            # measured 0.0066 (seeds 0-4: 0.0060-0.0080), bound 0.0125
    assert D <= KS99 + _em_bias_bound(500)
    # the bound has power: 10 Euler–Maruyama steps are too few (measured D_KS = 0.048)
    x10 = reverse_sde(sde, s, xT, 1.0, t_end=1e-3, nsteps=10, rng=rng)
    assert ks_statistic(x10, p_end.cdf) > KS99 + _em_bias_bound(500)


def test_forward_sde_moments_match_euler_maruyama_recursion(mix, x0):
    """For the linear VP drift the Euler–Maruyama moments obey m <- (1 - ½βh) m, v <- (1 - ½βh)² v + βh
    exactly; the samples must match them to 3 standard errors, and they converge to the exact ones."""
    sde = VPSDE()
    t1, nsteps = 0.5, 200
    x = forward_sde(sde, x0, 0.0, t1, nsteps=nsteps, rng=np.random.default_rng(3))
    h = t1 / nsteps
    m, v = x0.mean(), x0.var()
    for i in range(nsteps):
        b = float(sde.beta(i * h))
        m, v = (1 - 0.5 * b * h) * m, (1 - 0.5 * b * h) ** 2 * v + b * h
    pt = sde.marginal(mix, t1)
    # the noise is Gaussian and independent of x0: var of the sample mean is (v - a²v0)/n
    a_em = m / x0.mean()
    assert abs(x.mean() - m) <= 3 * math.sqrt((v - a_em**2 * x0.var()) / x.size)
    assert abs(x.var() - v) <= 3 * math.sqrt((central_fourth_moment(pt) - pt.covariance() ** 2) / x.size)
    assert abs(v - (sde.mean_scale(t1) ** 2 * x0.var() + sde.marginal_variance_added(t1))) < 0.02


# ------------------------------------------------------------------------------------- score FP residual

def test_residual_vanishes_for_a_gaussian():
    """For a single Gaussian the score is linear in x, the bracket is quadratic and central differences
    are exact in x: only the O(dt²) time-difference error and round-off remain."""
    g = GaussianMixture([1.0], [0.7], [0.2])
    x = np.linspace(-4, 4, 33)
    for sde, t in ((VPSDE(), 0.3), (VESDE(), 0.6), (VPSDE(), 0.0)):
        r = score_fp_residual(sde, exact_score(sde, g), x, t)
        assert np.max(np.abs(r)) < 1e-5
        # the same score at the wrong time is not a solution
        wrong = score_fp_residual(sde, lambda y, tt: exact_score(sde, g)(y, 1.5 * tt + 0.05), x, t)
        assert np.max(np.abs(wrong)) > 1e-2


@pytest.mark.parametrize("sde,t", [(VPSDE(), 0.3), (VESDE(), 0.7)])
def test_residual_is_second_order_for_the_exact_mixture_score(mix, sde, t):
    s = exact_score(sde, mix)
    norms = []
    for n in (121, 241, 481):
        x = np.linspace(-6, 6, n)
        norms.append(score_fp_residual_norm(score_fp_residual(sde, s, x, t), x))
    orders = np.log2(np.array(norms[:-1]) / norms[1:])
    # measured VP t=0.3: 1.963, 1.990;  VE t=0.7: 1.921, 1.980
    assert np.all(np.abs(orders - 2) <= 0.15), orders


def test_residual_2d_second_order(mix2):
    sde = VPSDE()
    s = exact_score(sde, mix2)
    norms = []
    for n in (61, 121, 241):
        ax = np.linspace(-6, 6, n)
        r = score_fp_residual(sde, s, [ax, ax], 0.7)
        assert r.shape == (n, n, 2)
        norms.append(score_fp_residual_norm(r, [ax, ax]))
    orders = np.log2(np.array(norms[:-1]) / norms[1:])
    assert np.all(np.abs(orders - 2) <= 0.15), orders       # measured 2.008, 2.004


def test_residual_grows_linearly_with_the_perturbation(mix):
    sde = VPSDE()
    s = exact_score(sde, mix)
    x = np.linspace(-6, 6, 481)
    r0, r1, r2 = (score_fp_residual_norm(score_fp_residual(sde, perturbed_score(s, e), x, 0.3), x)
                  for e in (0.0, 0.01, 0.02))
    assert r1 > 10 * r0                                      # measured 0.0173 / 0.338 / 0.675
    assert abs(r2 / r1 - 2) <= 0.1                           # measured 1.995


# ------------------------------------------------------------------------------------- W2 and the gap

def test_wasserstein2_1d_exact_values():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1000)
    assert abs(wasserstein2_1d(x, x + 0.37) - 0.37) < 1e-13
    assert abs(wasserstein2_1d(x, rng.permutation(x) - 2.5) - 2.5) < 1e-13
    # unequal sizes, exact over merged quantile breakpoints
    assert abs(wasserstein2_1d([0.0, 1.0], [0.0, 0.5, 1.0]) - math.sqrt(1 / 12)) < 1e-15
    assert abs(wasserstein2_1d(x, np.concatenate([x, x]) + 0.37) - 0.37) < 1e-13


def test_wasserstein2_to_mixture_against_quadrature(mix):
    x = np.sort(mix.sample(7, 1))
    n = x.size
    q = [-np.inf] + [optimize.brentq(lambda y, u=i / n: mix.cdf(y) - u, -10, 10, xtol=1e-14)
                     for i in range(1, n)] + [np.inf]
    w2sq = sum(integrate.quad(lambda y, xi=xi: (xi - y) ** 2 * mix.pdf(y), q[i], q[i + 1],
                              epsabs=1e-13, epsrel=1e-12)[0] for i, xi in enumerate(x))
    assert abs(wasserstein2_to_mixture_1d(x, mix) - math.sqrt(w2sq)) < 1e-9


@pytest.fixture(scope="module")
def gaps(mix):
    sde = VPSDE()
    s = exact_score(sde, mix)
    return {eps: ode_sde_gap(sde, mix, s if eps == 0 else perturbed_score(s, eps), n=N_SAMPLES, rng=42,
                             t_end=1e-3, nsteps=1000)
            for eps in (0.0, 0.1, 0.5)}


def test_ode_sde_gap_exact_score_within_sampling_error(gaps):
    g = gaps[0.0]
    # measured over seeds 42, 0, 1, 2, 3: gap / sampling scale = 1.28, 0.89, 0.62, 0.70, 1.01
    # (gap 0.055-0.111, sampling scale 0.087-0.103, the RMS W2 of 32 pairs of independent exact samples)
    assert g.w2_ode_sde <= 3 * g.w2_sampling
    assert g.w2_ode_exact <= 3 * g.w2_sampling and g.w2_sde_exact <= 3 * g.w2_sampling
    assert g.residual_norm < 0.02          # finite-difference error only (measured 0.0060)


def test_ode_sde_gap_grows_with_the_perturbation_and_residual(gaps):
    g0, g1, g5 = gaps[0.0], gaps[0.1], gaps[0.5]
    # measured over seeds 42, 0, 1, 2, 3: gap / sampling scale 4.7-6.2 at eps = 0.1 (gap 0.48-0.55) and
    # 11.3-13.9 at eps = 0.5 (gap 1.12-1.22); time-integrated residual 0.006, 0.92, 4.1
    assert g1.w2_ode_sde > 3 * g1.w2_sampling
    assert g5.w2_ode_sde > 8 * g5.w2_sampling
    assert g5.w2_ode_sde > g1.w2_ode_sde > g0.w2_ode_sde
    assert g5.residual_norm > g1.residual_norm > 10 * g0.residual_norm


# ------------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("make,word", [
    (lambda: VPSDE(beta_min=-0.1), "beta_min"),
    (lambda: VPSDE(beta_min=1.0, beta_max=0.5), "beta_max"),
    (lambda: VPSDE(beta_max=float("inf")), "beta_max"),
    (lambda: VPSDE(T=0.0), "T"),
    (lambda: VESDE(sigma_min=0.0), "sigma_min"),
    (lambda: VESDE(sigma_min=1.0, sigma_max=1.0), "sigma_max"),
    (lambda: GaussianMixture([-0.3, 1.3], [0.0, 1.0], stds=[1.0, 1.0]), "weights"),
    (lambda: GaussianMixture([0.5, 0.5], [0.0, 1.0], stds=[1.0, -1.0]), "stds"),
    (lambda: GaussianMixture([0.5, 0.5], [0.0, 1.0, 2.0], stds=[1.0, 1.0]), "means"),
    (lambda: GaussianMixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], np.stack([np.eye(2), [[1.0, 2.0], [2.0, 1.0]]])),
     "positive definite"),
    (lambda: GaussianMixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], np.stack([np.eye(2), [[1.0, 0.5], [0.0, 1.0]]])),
     "symmetric"),
    (lambda: GaussianMixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], np.stack([np.eye(3)] * 2)), "covariances"),
    (lambda: GaussianMixture([1.0], [0.0], [1.0], stds=[1.0]), "exactly one"),
])
def test_bad_parameters(make, word):
    with pytest.raises(ParameterError, match=word):
        make()


def test_bad_sampler_and_grid_input(mix, mix2):
    sde = VPSDE()
    s = exact_score(sde, mix)
    with pytest.raises(ParameterError, match="x0"):
        probability_flow(sde, s, np.zeros((2, 2, 2)), 0.0, 1.0)
    with pytest.raises(ParameterError, match="score"):
        probability_flow(sde, "not a score", np.zeros(3), 0.0, 1.0)
    with pytest.raises(ParameterError, match="t_end"):
        reverse_sde(sde, s, np.zeros(3), 1.0, t_end=1.0)
    with pytest.raises(ParameterError, match="nsteps"):
        reverse_sde(sde, s, np.zeros(3), nsteps=0)
    with pytest.raises(ParameterError, match="uniform"):
        score_fp_residual(sde, s, np.array([0.0, 0.1, 0.3]), 0.5)
    with pytest.raises(ParameterError, match="points"):
        mix2.score(np.zeros((4, 3)))
    with pytest.raises(ParameterError, match="t"):
        sde.marginal(mix, -0.1)
    with pytest.raises(ParameterError, match="one-dimensional"):
        wasserstein2_to_mixture_1d(np.zeros(3), mix2)
    with pytest.raises(ParameterError, match="shape"):
        wasserstein2_1d(np.zeros((3, 2)), np.zeros(3))
    assert set(sc.__all__) <= set(dir(sc))
