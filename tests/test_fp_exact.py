"""Exact and semi-analytic Fokker–Planck references (pdekit.fokker_planck.exact), checked against
independent routes (quadrature, ODE integration, closed forms) and the numbers of the research note
(/work/shared/research/fokker_planck.md, sections A.2–A.7)."""
import math
import time

import numpy as np
import pytest
from scipy import integrate, linalg, optimize

from pdekit.errors import ParameterError
from pdekit.fokker_planck import exact as ex


def hard_sphere_D(c):
    return c * c


def sync_pdot(c, b=1e-3):
    return -b * c * c


def escape_integral(D, pdot, tau, chi0, lo, hi, n=4001, breaks=()):
    """int chi^2 f / tau dchi by Simpson in ln chi, separately on both sides of the kink at chi0
    (and of any further ``breaks``)."""
    total = 0.0
    edges = sorted({lo, chi0, hi, *breaks})
    for a, b in zip(edges[:-1], edges[1:]):
        x = np.geomspace(a, b, n)
        f = ex.acceleration_green(x, D, pdot, tau, chi0, lo, hi)
        t = np.array([tau(v) for v in x]) if callable(tau) else tau
        total += integrate.simpson(x ** 3 * f / t, x=np.log(x))
    return total


# ------------------------------------------------------------------------------------------------
# Ornstein–Uhlenbeck
# ------------------------------------------------------------------------------------------------

def test_ou_1d_normalised_and_moments():
    for t in (0.0, 0.3, 1.0, math.inf):
        p = lambda x: float(ex.ou_1d(x, t))  # noqa: E731
        mass = integrate.quad(p, -np.inf, np.inf, epsabs=0, epsrel=1e-12)[0]
        mean = integrate.quad(lambda x: x * p(x), -np.inf, np.inf, epsabs=1e-14, epsrel=1e-12)[0]
        e = math.exp(-t)
        m = 1.5 * e
        var = integrate.quad(lambda x: (x - m) ** 2 * p(x), -np.inf, np.inf, epsabs=0, epsrel=1e-12)[0]
        assert abs(mass - 1) < 1e-10
        assert abs(mean - m) < 1e-10
        assert abs(var - (0.09 * e * e + 1 - e * e)) < 1e-10
    # delta initial data
    assert abs(integrate.quad(lambda x: float(ex.ou_1d(x, 0.2, s0=0.0)), -20, 20, epsrel=1e-12)[0] - 1) < 1e-10
    with pytest.raises(ParameterError, match="s0"):
        ex.ou_1d(0.0, 0.0, s0=0.0)
    with pytest.raises(ParameterError, match="theta"):
        ex.ou_1d(0.0, 1.0, theta=-1.0)


def _rot(deg):
    a = math.radians(deg)
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


K_GRAD = _rot(30) @ np.diag([1.0, 4.0]) @ _rot(30).T
A_ROT = np.array([[1.0, -2.0], [2.0, 1.0]])
M0 = np.array([1.5, -1.0])
S0 = 0.09 * np.eye(2)


def _moments_by_ode(A, D, m0, S0, t):
    n = len(m0)

    def rhs(_, y):
        m = y[:n]
        S = y[n:].reshape(n, n)
        return np.concatenate([-A @ m, (-A @ S - S @ A.T + 2 * D * np.eye(n)).ravel()])

    sol = integrate.solve_ivp(rhs, (0, t), np.concatenate([m0, S0.ravel()]), method="DOP853",
                              rtol=1e-13, atol=1e-14)
    return sol.y[:n, -1], sol.y[n:, -1].reshape(n, n)


@pytest.mark.parametrize("A", [K_GRAD, A_ROT, np.array([[0.5, 0.0], [0.3, -0.2]]), np.zeros((2, 2))],
                         ids=["gradient", "rotational", "unstable", "zero"])
def test_ou_moments_against_ode(A):
    for t in (0.25, 1.0):
        m, S = ex.ou_moments(A, 1.0, M0, S0, t)
        m_ref, S_ref = _moments_by_ode(A, 1.0, M0, S0, t)
        assert np.abs(m - m_ref).max() < 1e-10
        assert np.abs(S - S_ref).max() < 1e-10 * max(1.0, np.abs(S_ref).max())
    if not np.any(A):
        m, S = ex.ou_moments(A, 1.0, M0, S0, 2.0)
        assert np.allclose(S, S0 + 4.0 * np.eye(2), rtol=0, atol=1e-13)


def test_ou_stationary_covariance():
    for A in (K_GRAD, A_ROT):
        m, S = ex.ou_moments(A, 1.0, M0, S0, math.inf)
        assert np.all(m == 0)
        assert np.abs(A @ S + S @ A.T - 2 * np.eye(2)).max() < 1e-12
        assert np.all(np.linalg.eigvalsh(S) > 0)
        # t large approaches it
        _, S_late = ex.ou_moments(A, 1.0, M0, S0, 40.0)
        assert np.abs(S_late - S).max() < 1e-12
    _, S = ex.ou_moments(K_GRAD, 1.0, M0, S0, math.inf)
    assert np.abs(S - np.linalg.inv(K_GRAD)).max() < 1e-12
    with pytest.raises(ParameterError, match="A must have eigenvalues"):
        ex.ou_moments(np.diag([1.0, -1.0]), 1.0, M0, S0, math.inf)


def test_ou_density_grid():
    x = np.linspace(-9, 9, 721)
    X, Y = np.meshgrid(x, x, indexing="ij")
    for A in (K_GRAD, A_ROT):
        for t in (0.1, 1.0, math.inf):
            p = ex.ou_density(X, Y, t=t, A=A, m0=M0, S0=S0)
            mass = integrate.trapezoid(integrate.trapezoid(p, x, axis=1), x)
            assert abs(mass - 1) < 1e-10
            m, S = ex.ou_moments(A, 1.0, M0, S0, t)
            mx = integrate.trapezoid(integrate.trapezoid(p * X, x, axis=1), x)
            cxy = integrate.trapezoid(integrate.trapezoid(p * (X - m[0]) * (Y - m[1]), x, axis=1), x)
            assert abs(mx - m[0]) < 1e-10 and abs(cxy - S[0, 1]) < 1e-10
    # point value against the textbook formula
    m, S = ex.ou_moments(A_ROT, 1.0, M0, S0, 0.5)
    z = np.array([0.3, -0.7]) - m
    ref = math.exp(-0.5 * z @ np.linalg.solve(S, z)) / (2 * math.pi * math.sqrt(np.linalg.det(S)))
    assert abs(float(ex.ou_density(0.3, -0.7, t=0.5, A=A_ROT, m0=M0, S0=S0)) / ref - 1) < 1e-13
    with pytest.raises(ParameterError, match="coords"):
        ex.ou_density(X, t=1.0, A=A_ROT, m0=M0, S0=S0)
    with pytest.raises(ParameterError, match="S0"):
        ex.ou_moments(A_ROT, 1.0, M0, -S0, 1.0)


# ------------------------------------------------------------------------------------------------
# geometric Brownian motion
# ------------------------------------------------------------------------------------------------

def test_gbm_normalised_and_mean():
    for t in (0.0, 0.5, 1.0, 3.0):
        p = lambda s: float(ex.gbm_density(s, t))  # noqa: E731
        mass = integrate.quad(p, 0, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]
        mean = integrate.quad(lambda s: s * p(s), 0, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]
        assert abs(mass - 1) < 1e-10
        assert abs(mean / ex.gbm_mean(t) - 1) < 1e-10
        assert abs(ex.gbm_mean(t) - math.exp(0.25 ** 2 / 2 + 0.5 * t)) < 1e-15 * math.exp(0.5 * t + 1)
    # the density in y = ln s is the Gaussian N(m0 + (mu - sigma^2/2) t, v0 + sigma^2 t)
    y = np.linspace(-3, 3, 7)
    t = 1.0
    py = np.exp(-(y - 0.375) ** 2 / (2 * 0.3125)) / math.sqrt(2 * math.pi * 0.3125)
    assert np.allclose(ex.gbm_density(np.exp(y), t) * np.exp(y), py, rtol=1e-13, atol=0)
    assert float(ex.gbm_density(0.0, 1.0)) == 0.0 and float(ex.gbm_density(-1.0, 1.0)) == 0.0
    with pytest.raises(ParameterError, match="sigma"):
        ex.gbm_density(1.0, 1.0, sigma=-0.5)


# ------------------------------------------------------------------------------------------------
# Boltzmann / double well
# ------------------------------------------------------------------------------------------------

def test_double_well_boltzmann():
    D, bounds = 0.25, (-2.5, 2.5)
    p, Z = ex.boltzmann_density(0.0, ex.double_well_potential, D, bounds, return_norm=True)
    x = np.linspace(-2.5, 2.5, 200001)
    Z_simpson = integrate.simpson(np.exp(-ex.double_well_potential(x) / D), x=x)
    assert abs(Z / Z_simpson - 1) < 1e-11
    mass = integrate.quad(lambda s: float(ex.boltzmann_density(s, ex.double_well_potential, D, bounds)),
                          -2.5, 2.5, points=[-1, 0, 1], epsabs=0, epsrel=1e-12, limit=200)[0]
    assert abs(mass - 1) < 1e-10
    p = ex.boltzmann_density(np.array([-1.0, 0.0, 1.0, 3.0]), ex.double_well_potential, D, bounds)
    assert abs(p[0] / p[1] - math.e) < 1e-13 and abs(p[0] / p[2] - 1) < 1e-14 and p[3] == 0.0
    # derivative
    h = 1e-6
    xs = np.linspace(-2, 2, 9)
    fd = (ex.double_well_potential(xs + h) - ex.double_well_potential(xs - h)) / (2 * h)
    assert np.allclose(ex.double_well_derivative(xs), fd, atol=1e-8)
    # small D does not overflow
    p = ex.boltzmann_density(np.array([1.0]), ex.double_well_potential, 1e-3, bounds)
    assert np.isfinite(p).all() and p[0] > 0
    with pytest.raises(ParameterError, match="D"):
        ex.boltzmann_density(0.0, ex.double_well_potential, 0.0, bounds)
    with pytest.raises(ParameterError, match="bounds"):
        ex.boltzmann_density(0.0, ex.double_well_potential, D, (1.0, -1.0))


# ------------------------------------------------------------------------------------------------
# stochastic acceleration: SA-0 pure pile-up
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("q", [2.0, 5.0 / 3.0, 1.5])
def test_pileup_equilibrium(q):
    chi_eq = 1e3 if q == 2.0 else 50.0
    f = lambda c: float(ex.pileup_equilibrium(c, q, chi_eq, number=3.0))  # noqa: E731
    n = integrate.quad(lambda c: c * c * f(c), 0, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]
    assert abs(n / 3.0 - 1) < 1e-10
    bounds = (0.1 * chi_eq, 3 * chi_eq)
    fb = lambda c: float(ex.pileup_equilibrium(c, q, chi_eq, bounds=bounds))  # noqa: E731
    nb = integrate.quad(lambda c: c * c * fb(c), *bounds, epsabs=0, epsrel=1e-12)[0]
    assert abs(nb - 1) < 1e-10
    # N = chi^2 f peaks at 2^{1/(3-q)} chi_eq
    res = optimize.minimize_scalar(lambda lc: -math.log(math.exp(2 * lc) * f(math.exp(lc))),
                                   bracket=(math.log(chi_eq), math.log(1.5 * chi_eq), math.log(4 * chi_eq)),
                                   tol=1e-12)
    assert abs(math.exp(res.x) / ex.pileup_peak(q, chi_eq) - 1) < 1e-6
    x = np.geomspace(chi_eq / 10, chi_eq * 5, 4001)
    assert abs(ex.pileup_maximum(x, ex.pileup_equilibrium(x, q, chi_eq)) / ex.pileup_peak(q, chi_eq) - 1) < 1e-6
    # f ∝ exp(-Phi) with b = chi_eq^{-(3-q)}: zero flux D f' + b chi^2 f = 0
    b = chi_eq ** (-(3 - q))
    assert abs(ex.equilibrium_momentum(q, b) / chi_eq - 1) < 1e-14
    c = np.geomspace(0.1, 10, 7) * chi_eq
    lf = np.log(ex.pileup_equilibrium(c, q, chi_eq))
    phi = ex.pileup_potential(c, q, b)
    assert np.allclose(lf - lf[0], -(phi - phi[0]), rtol=1e-12, atol=1e-12)
    h = 1e-5
    fp = (ex.pileup_equilibrium(c * (1 + h), q, chi_eq) - ex.pileup_equilibrium(c * (1 - h), q, chi_eq)) / (2 * h * c)
    flux = c ** q * fp + b * c * c * ex.pileup_equilibrium(c, q, chi_eq)
    assert np.abs(flux / (b * c * c * ex.pileup_equilibrium(c, q, chi_eq))).max() < 1e-7


def test_pileup_peak_values():
    assert ex.pileup_peak(2.0, 1e3) == pytest.approx(2e3, rel=1e-15)
    assert ex.pileup_peak(5 / 3, 1.0) == pytest.approx(2 ** 0.75, rel=1e-15)
    assert round(ex.pileup_peak(5 / 3, 1.0), 2) == 1.68
    assert ex.equilibrium_momentum(2.0, 1e-3) == pytest.approx(1e3, rel=1e-14)


# ------------------------------------------------------------------------------------------------
# SA-1 and SA-2 closed forms
# ------------------------------------------------------------------------------------------------

SA1_VALUES = {0.1: 1.381220e-1, 1.0: 2.773503e-1, 10.0: 1.384924e-4, 100.0: 8.190828e-7}
SA2_VALUES = {0.1: 3.027358e-1, 1.0: 3.263195e-1, 10.0: 3.037528e-4, 100.0: 2.976493e-7,
              1e3: 1.711972e-9, 2e3: 5.342399e-10, 5e3: 2.511007e-11}


def test_hard_sphere_escape_values_and_balance():
    c = np.array(list(SA1_VALUES))
    f = ex.hard_sphere_escape(c)
    assert np.abs(f / np.array(list(SA1_VALUES.values())) - 1).max() < 5e-7
    for theta in (1.0, 0.1, 30.0):
        g = lambda x: x * x * float(ex.hard_sphere_escape(x, theta=theta))  # noqa: E731
        n = sum(integrate.quad(g, a, b, epsabs=0, epsrel=1e-12, limit=200)[0] for a, b in ((1e-2, 1), (1, 1e2)))
        assert abs(theta * n - 1) < 1e-10
    # power law above chi0 and the zero-flux flattening near chi_max (note: 3.3026 at 3, 3.293 at 10)
    x = np.geomspace(1e-2, 1e2, 8001)
    s = ex.local_index(x, ex.hard_sphere_escape(x))
    at = lambda v: float(np.interp(math.log(v), np.log(x), s))  # noqa: E731
    assert round(at(3.0), 4) == 3.3026 and round(at(10.0), 3) == 3.293
    assert abs(at(100.0)) < 2e-3


def test_kummer_closed_form_jump_and_ode():
    b, theta = 1e-3, 0.1
    f = lambda c: ex.synchrotron_pileup_kummer(c, b=b, theta=theta)  # noqa: E731
    h = 1e-5
    fl = (f(1.0) - f(1.0 - h)) / h
    fr = (f(1.0 + h) - f(1.0)) / h
    assert abs((fr - fl) + 1.0) < 1e-4           # chi0^4 [f'] = -1
    # ODE residual (chi^4 (f' + b f))' - theta chi^2 f = 0 away from chi0: nested central differences
    # (error ∝ h^2, Richardson-extrapolated), relative to the escape term

    def residual(c, r):
        hh = r * c
        flux = lambda x: x ** 4 * ((f(x + hh) - f(x - hh)) / (2 * hh) + b * f(x))  # noqa: E731
        return ((flux(c + hh) - flux(c - hh)) / (2 * hh) - theta * c * c * f(c)) / (theta * c * c * f(c))

    for c in (0.05, 0.3, 5.0, 300.0, 2e3, 1e4):
        assert abs(4 * residual(c, 1e-3) - residual(c, 2e-3)) / 3 < 2e-6


# ------------------------------------------------------------------------------------------------
# general Green's function
# ------------------------------------------------------------------------------------------------

def test_green_matches_hard_sphere_closed_form():
    x = np.geomspace(1e-2, 1e2, 401)
    g = ex.acceleration_green(x, hard_sphere_D, 0.0, 1.0, 1.0, 1e-2, 1e2)
    assert np.abs(g / ex.hard_sphere_escape(x) - 1).max() < 1e-8
    # other escape strengths and injection point (strong escape: f spans ~25 decades)
    for theta, chi0 in ((1e-3, 1.0), (100.0, 0.5)):
        g = ex.acceleration_green(x, hard_sphere_D, 0.0, 1 / theta, chi0, 1e-2, 1e2)
        e = ex.hard_sphere_escape(x, theta=theta, chi0=chi0)
        assert np.abs(g / e - 1).max() < 1e-8


def test_green_sa2_values_and_kummer():
    c = np.array(list(SA2_VALUES))
    t = time.perf_counter()
    g = ex.acceleration_green(c, hard_sphere_D, sync_pdot, 10.0, 1.0, 1e-2, 1e5)
    elapsed = time.perf_counter() - t
    assert elapsed < 2.0
    assert np.abs(g / np.array(list(SA2_VALUES.values())) - 1).max() < 5e-7
    x = np.geomspace(0.1, 2e4, 301)
    g = ex.acceleration_green(x, hard_sphere_D, sync_pdot, 10.0, 1.0, 1e-2, 1e5)
    k = ex.synchrotron_pileup_kummer(x)
    rel = np.abs(g / k - 1)
    # the finite domain differs from the infinite one only near chi_min (note: < 1e-5 for chi >= 0.1)
    assert rel[x >= 1.0].max() < 1e-7
    assert rel.max() < 1e-5
    # moving chi_min far away removes that difference
    g = ex.acceleration_green(x, hard_sphere_D, sync_pdot, 10.0, 1.0, 1e-5, 1e5)
    assert np.abs(g / k - 1).max() < 1e-9


def test_escape_balance():
    assert abs(escape_integral(hard_sphere_D, 0.0, 1.0, 1.0, 1e-2, 1e2) - 1) < 1e-8
    assert abs(escape_integral(hard_sphere_D, sync_pdot, 10.0, 1.0, 1e-2, 1e5) - 1) < 1e-8
    # Kolmogorov turbulence, adiabatic gain + synchrotron loss, diffusive escape tau ∝ chi^{-(2-q)}
    q = 5 / 3
    assert abs(escape_integral(lambda c: c ** q, lambda c: 0.1 * c - 1e-3 * c * c,
                               lambda c: 30 * c ** (q - 2), 2.0, 1e-2, 1e6) - 1) < 1e-8


def test_green_numeric_dlnD_and_escape_only_somewhere():
    c = np.array([0.1, 1.0, 10.0, 1e3])
    args = (lambda x: x ** (5 / 3), sync_pdot, lambda x: 30 * x ** (-1 / 3), 1.0, 1e-2, 1e5)
    g1 = ex.acceleration_green(c, *args)
    g2 = ex.acceleration_green(c, *args, dlnD=5 / 3)
    assert np.abs(g1 / g2 - 1).max() < 1e-9
    # escape only above chi = 10 (tau = inf below, switched on smoothly)
    tau = lambda x: math.inf if x <= 10 else 5.0 / (1 - (10 / x) ** 2) ** 3  # noqa: E731
    assert abs(escape_integral(hard_sphere_D, 0.0, tau, 1.0, 1e-2, 1e2, breaks=(10.0,)) - 1) < 1e-8


def test_sa2_spectral_features():
    x = np.geomspace(1e-2, 1e5, 7001)
    f = ex.acceleration_green(x, hard_sphere_D, sync_pdot, 10.0, 1.0, 1e-2, 1e5)
    chi_max = ex.pileup_maximum(x, f, above=100.0)
    chi_min, _ = ex.local_extremum(x, x * x * f, "min", above=100.0)
    assert float(f"{chi_max:.2e}") == 1.86e3            # note: pile-up maximum of chi^2 f at 1.86e3
    assert round(chi_min, -1) == 420.0                 # note: local minimum at chi ≈ 420
    s = ex.local_index(x, f)
    at = lambda v: float(np.interp(math.log(v), np.log(x), s))  # noqa: E731
    for chi, val, nd in ((10, 3.03, 2), (100, 2.95, 2), (1e3, 1.42, 2), (2e3, 2.12, 2), (1e4, 10.0, 1)):
        assert round(at(chi), nd) == val
    # compensated by the local index at chi = 10 (3.028): peak 2.96e3, 19.8x its value at 10
    s10 = at(10.0)
    cmax, vmax = ex.local_extremum(x, x ** s10 * f, "max", above=100.0)
    assert abs(cmax / 2.965e3 - 1) < 2e-3
    f10 = float(ex.acceleration_green(10.0, hard_sphere_D, sync_pdot, 10.0, 1.0, 1e-2, 1e5))
    assert round(vmax / (10 ** s10 * f10), 1) == 19.8


# ------------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------------

def test_bad_input_names_the_parameter():
    with pytest.raises(ParameterError, match="q"):
        ex.pileup_equilibrium(1.0, 3.0, 1.0)
    with pytest.raises(ParameterError, match="q"):
        ex.pileup_peak(3.5, 1.0)
    with pytest.raises(ParameterError, match="q"):
        ex.equilibrium_momentum(3.0, 1e-3)
    with pytest.raises(ParameterError, match="q"):
        ex.pileup_potential(1.0, 4.0, 1e-3)
    with pytest.raises(ParameterError, match="bounds"):
        ex.pileup_equilibrium(1.0, 2.0, 1.0, bounds=(-1.0, 10.0))
    with pytest.raises(ParameterError, match="chi_eq"):
        ex.pileup_equilibrium(1.0, 2.0, -1.0)
    with pytest.raises(ParameterError, match="chi0"):
        ex.hard_sphere_escape(1.0, chi0=1e3)
    with pytest.raises(ParameterError, match="chi0"):
        ex.acceleration_green(1.0, hard_sphere_D, 0.0, 1.0, 1e-3, 1e-2, 1e2)
    with pytest.raises(ParameterError, match="chi_min"):
        ex.acceleration_green(1.0, hard_sphere_D, 0.0, 1.0, 1.0, -1e-2, 1e2)
    with pytest.raises(ParameterError, match="chi_max"):
        ex.hard_sphere_escape(1.0, chi_min=1.0, chi_max=0.5)
    with pytest.raises(ParameterError, match="chi must lie"):
        ex.acceleration_green(1e3, hard_sphere_D, 0.0, 1.0, 1.0, 1e-2, 1e2)
    with pytest.raises(ParameterError, match="tau"):
        ex.acceleration_green(1.0, hard_sphere_D, 0.0, None, 1.0, 1e-2, 1e2)
    with pytest.raises(ParameterError, match="tau"):
        ex.acceleration_green(1.0, hard_sphere_D, 0.0, lambda c: math.inf, 1.0, 1e-2, 1e2)
    with pytest.raises(ParameterError, match="D must be > 0"):
        ex.acceleration_green(1.0, lambda c: -c, 0.0, 1.0, 1.0, 1e-2, 1e2)
    with pytest.raises(ParameterError, match="theta"):
        ex.hard_sphere_escape(1.0, theta=0.0)
    with pytest.raises(ParameterError, match="b"):
        ex.synchrotron_pileup_kummer(1.0, b=-1e-3)
    with pytest.raises(ParameterError, match="chi"):
        ex.synchrotron_pileup_kummer(-1.0)
