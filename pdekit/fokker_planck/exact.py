"""Exact and semi-analytic reference solutions of Fokker–Planck problems.

These are the references of the Fokker–Planck validation specs (``FP-OU1``, ``FP-OU2``, ``FP-GBM``,
``FP-DW``, ``FP-SA-0/1/2`` and the general stochastic-acceleration Green's function). Conventions
follow the Chang–Cooper form used by the solver (Chang & Cooper, J. Comput. Phys. 6 (1970) 1):

    du/dt = d/dx [ C(x) du/dx + B(x) u ] + S - nu u,     (C = diffusion, B = -drift velocity)

so for ``dX = a dt + sqrt(2 D) dW``: ``C = D``, ``B = -a``.

Stochastic acceleration (problem class of Walter & Eichmann, "Stochastic acceleration in arbitrary
astrophysical environments", arXiv:2411.14804) is written in the dimensionless momentum ``chi``
(time in units of ``1/D0``) in the isotropic f-form

    df/dt = chi^-2 d/dchi [ chi^2 ( D df/dchi - pdot f ) ] - f/tau + Q,   Q = delta(chi - chi0)/chi0^2,

with zero particle flux ``chi^2 (D f' - pdot f) = 0`` at ``chi_min`` and ``chi_max``; typically
``D = chi^q``, ``pdot = a1 chi - b chi^s``, ``tau = tau0 chi^-beta``. The number density is
``N = chi^2 f``; in steady state escape balances injection, ``int chi^2 f / tau dchi = 1``.
Classical closed forms: Park & Petrosian, ApJ 446 (1995) 699 (Green's functions); Schlickeiser,
A&A 136 (1984) 227 and Stawarz & Petrosian, ApJ 681 (2008) 1725 (pile-up with synchrotron losses,
Kummer/Whittaker functions).

Gaussian-mixture and VP/VE-SDE marginals and scores live in :mod:`pdekit.fokker_planck.score`.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from scipy import integrate, linalg, special

from ..errors import ParameterError

__all__ = [
    "ou_1d", "ou_moments", "ou_density",
    "gbm_density", "gbm_mean",
    "double_well_potential", "double_well_derivative", "boltzmann_density",
    "equilibrium_momentum", "pileup_equilibrium", "pileup_peak", "pileup_potential",
    "hard_sphere_escape", "synchrotron_pileup_kummer", "acceleration_green",
    "local_index", "local_extremum", "pileup_maximum",
]


# ---------------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------------

from ..checks import finite as _finite  # noqa: E402  (shared parameter checks)
from ..checks import nonneg as _nonneg  # noqa: E402
from ..checks import positive as _positive  # noqa: E402
from ..checks import real as _real  # noqa: E402


def _q_below_3(q, name="q"):
    q = _finite(name, q)
    if q >= 3:
        raise ParameterError(f"{name} must be < 3 (the exponent 3 - {name} of the equilibrium must be > 0), got {q}")
    return q


def _bounds(name, bounds, *, positive=False):
    try:
        lo, hi = bounds
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a pair (lo, hi), got {bounds!r}") from None
    lo = _real(f"{name}[0]", lo)
    hi = _real(f"{name}[1]", hi)
    if positive and lo < 0:
        raise ParameterError(f"{name} must be non-negative momenta, got lower bound {lo}")
    if not hi > lo:
        raise ParameterError(f"{name} must satisfy lo < hi, got ({lo}, {hi})")
    return lo, hi


def _momentum_domain(chi0, chi_min, chi_max):
    chi_min = _positive("chi_min", chi_min)
    chi_max = _positive("chi_max", chi_max)
    if not chi_max > chi_min:
        raise ParameterError(f"chi_max must be > chi_min, got chi_min={chi_min}, chi_max={chi_max}")
    chi0 = _positive("chi0", chi0)
    if not chi_min < chi0 < chi_max:
        raise ParameterError(f"chi0 must lie strictly inside (chi_min, chi_max) = ({chi_min}, {chi_max}), got {chi0}")
    return chi0, chi_min, chi_max


def _chi_array(chi, lo=0.0, hi=math.inf, name="chi", allow_zero=False):
    c = np.asarray(chi, dtype=float)
    if not np.all(np.isfinite(c)):
        raise ParameterError(f"{name} must be finite")
    if np.any(c < 0) or (not allow_zero and np.any(c == 0)):
        raise ParameterError(f"{name} must be {'>=' if allow_zero else '>'} 0, got min {c.min()}")
    if np.any(c < lo * (1 - 1e-14)) or np.any(c > hi * (1 + 1e-14)):
        raise ParameterError(f"{name} must lie in [chi_min, chi_max] = [{lo}, {hi}], "
                             f"got range [{c.min()}, {c.max()}]")
    return c


# ---------------------------------------------------------------------------------------------------
# FP-OU1 / FP-OU2: Ornstein–Uhlenbeck
# ---------------------------------------------------------------------------------------------------

def ou_1d(x, t, theta=1.0, D=1.0, m0=1.5, s0=0.3):
    """Density of the 1D Ornstein–Uhlenbeck process (spec FP-OU1).

    SDE ``dX = -theta X dt + sqrt(2 D) dW``, Fokker–Planck ``p_t = d/dx[theta x p + D p_x]``
    (Chang–Cooper: ``C = D``, ``B = theta x``), initial ``N(m0, s0^2)``. Exact solution::

        p(x, t) = N(m(t), s^2(t)),  m = m0 e^{-theta t},
        s^2 = s0^2 e^{-2 theta t} + (D/theta)(1 - e^{-2 theta t}).

    ``t = inf`` gives the stationary density ``N(0, D/theta)``; ``s0 = 0`` is delta initial data
    (then ``t`` must be > 0).
    """
    theta = _positive("theta", theta)
    D = _positive("D", D)
    m0 = _finite("m0", m0)
    s0 = _nonneg("s0", s0)
    t = _nonneg("t", t, allow_inf=True)
    e = math.exp(-theta * t)
    m = m0 * e
    var = s0 * s0 * e * e - (D / theta) * math.expm1(-2.0 * theta * t)
    if not var > 0:
        raise ParameterError(f"s0 = 0 (delta initial data) needs t > 0, got t={t}")
    x = np.asarray(x, dtype=float)
    return np.exp(-0.5 * (x - m) ** 2 / var) / math.sqrt(2.0 * math.pi * var)


def _ou_matrices(A, D, m0, S0):
    A = np.atleast_2d(np.asarray(A, dtype=float))
    n = A.shape[0]
    if A.ndim != 2 or A.shape != (n, n) or not np.all(np.isfinite(A)):
        raise ParameterError(f"A must be a finite square matrix, got shape {A.shape}")
    Dm = np.asarray(D, dtype=float)
    if Dm.ndim == 0:
        if not (np.isfinite(Dm) and Dm >= 0):
            raise ParameterError(f"D must be >= 0 and finite, got {float(Dm)}")
        Dm = float(Dm) * np.eye(n)
    elif Dm.shape != (n, n) or not np.all(np.isfinite(Dm)) or not np.allclose(Dm, Dm.T):
        raise ParameterError(f"D must be a number or a symmetric {n}x{n} matrix, got shape {Dm.shape}")
    m0 = np.asarray(m0, dtype=float).reshape(-1)
    if m0.shape != (n,) or not np.all(np.isfinite(m0)):
        raise ParameterError(f"m0 must be a finite vector of length {n}, got shape {m0.shape}")
    S0 = np.asarray(S0, dtype=float)
    if S0.ndim == 0:
        S0 = float(S0) * np.eye(n)
    if S0.shape != (n, n) or not np.all(np.isfinite(S0)) or not np.allclose(S0, S0.T):
        raise ParameterError(f"S0 must be a symmetric {n}x{n} matrix, got shape {S0.shape}")
    if np.linalg.eigvalsh(S0).min() < -1e-14 * max(1.0, np.abs(S0).max()):
        raise ParameterError("S0 must be positive semi-definite")
    return A, Dm, m0, S0


def ou_moments(A, D, m0, S0, t):
    """Mean and covariance of the n-D Ornstein–Uhlenbeck process (spec FP-OU2).

    SDE ``dX = -A X dt + sqrt(2 D) dW`` (``D`` a number, i.e. ``D I``, or a symmetric matrix),
    Fokker–Planck ``p_t = div(A x p) + div(D grad p)``, initial ``N(m0, S0)``::

        m(t) = e^{-A t} m0,   S(t) = e^{-A t} (S0 - S_inf) e^{-A^T t} + S_inf,
        A S_inf + S_inf A^T = 2 D          (Lyapunov; scipy.linalg.solve_continuous_lyapunov).

    For a gradient drift ``A = K`` (symmetric) ``S_inf = D K^{-1}``. ``t = inf`` returns the
    stationary ``(0, S_inf)`` and needs every eigenvalue of ``A`` to have positive real part.
    Returns ``(m, S)``.
    """
    A, Dm, m0, S0 = _ou_matrices(A, D, m0, S0)
    t = _nonneg("t", t, allow_inf=True)
    ev = np.linalg.eigvals(A)
    stable = bool(np.all(ev.real > 0))
    if math.isinf(t) and not stable:
        raise ParameterError(f"A must have eigenvalues with positive real part for t = inf, got {ev}")
    if stable:
        S_inf = linalg.solve_continuous_lyapunov(A, 2.0 * Dm)
        S_inf = 0.5 * (S_inf + S_inf.T)
        if math.isinf(t):
            return np.zeros_like(m0), S_inf
        E = linalg.expm(-A * t)
        S = E @ (S0 - S_inf) @ E.T + S_inf
    else:  # Van Loan: integral of e^{-As} 2D e^{-A^T s} over [0, t] from one block exponential
        n = A.shape[0]
        M = np.zeros((2 * n, 2 * n))
        M[:n, :n] = -A
        M[:n, n:] = 2.0 * Dm
        M[n:, n:] = A.T
        F = linalg.expm(M * t)
        E = F[:n, :n]
        S = E @ S0 @ E.T + F[:n, n:] @ E.T
    return E @ m0, 0.5 * (S + S.T)


def ou_density(*coords, t, A, D=1.0, m0, S0):
    """n-D Ornstein–Uhlenbeck density at time ``t`` on coordinate arrays (spec FP-OU2).

    ``coords``: one array per dimension (e.g. ``X, Y = np.meshgrid(x, y, indexing="ij")``),
    broadcast together; the Gaussian ``N(m(t), S(t))`` of :func:`ou_moments` is evaluated there.
    Parameters after the coordinates are keyword-only: ``ou_density(X, Y, t=1, A=A, m0=m0, S0=S0)``.
    """
    m, S = ou_moments(A, D, m0, S0, t)
    n = m.size
    if len(coords) != n:
        raise ParameterError(f"coords: give {n} coordinate arrays for a {n}-D process, got {len(coords)}")
    X = np.broadcast_arrays(*[np.asarray(c, dtype=float) for c in coords])
    try:
        L = np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        raise ParameterError("the covariance S(t) is singular (delta initial data at t = 0)") from None
    d = np.stack([x - mi for x, mi in zip(X, m)], axis=-1)
    z = np.linalg.solve(L, d.reshape(-1, n).T)  # L z = d
    q = np.sum(z * z, axis=0).reshape(X[0].shape)
    logdet = 2.0 * np.sum(np.log(np.diag(L)))
    return np.exp(-0.5 * q - 0.5 * logdet - 0.5 * n * math.log(2.0 * math.pi))


# ---------------------------------------------------------------------------------------------------
# FP-GBM: geometric Brownian motion
# ---------------------------------------------------------------------------------------------------

def _gbm_params(t, mu, sigma, m0, v0):
    t = _nonneg("t", t)
    mu = _finite("mu", mu)
    sigma = _nonneg("sigma", sigma)
    m0 = _finite("m0", m0)
    v0 = _nonneg("v0", v0)
    return t, mu, sigma, m0, v0


def gbm_density(s, t, mu=0.5, sigma=0.5, m0=0.0, v0=0.25 ** 2):
    """Log-normal density of geometric Brownian motion (spec FP-GBM).

    Itô SDE ``dS = mu S dt + sigma S dW``; Fokker–Planck
    ``p_t = -d_s(mu s p) + 1/2 d_ss(sigma^2 s^2 p) = d_s[1/2 sigma^2 s^2 p_s + (sigma^2 - mu) s p]``.
    With ``ln S_0 ~ N(m0, v0)``: ``ln S_t ~ N(m0 + (mu - sigma^2/2) t, v0 + sigma^2 t)``, i.e.
    ``p(s, t) = exp(-(ln s - m)^2 / (2 v)) / (s sqrt(2 pi v))`` (zero for ``s <= 0``).
    """
    t, mu, sigma, m0, v0 = _gbm_params(t, mu, sigma, m0, v0)
    m = m0 + (mu - 0.5 * sigma * sigma) * t
    v = v0 + sigma * sigma * t
    if not v > 0:
        raise ParameterError("v0 = 0 (delta initial data) needs sigma > 0 and t > 0")
    s = np.asarray(s, dtype=float)
    out = np.zeros(s.shape)
    pos = s > 0
    ls = np.log(s[pos])
    out[pos] = np.exp(-0.5 * (ls - m) ** 2 / v - ls) / math.sqrt(2.0 * math.pi * v)
    return out


def gbm_mean(t, mu=0.5, sigma=0.5, m0=0.0, v0=0.25 ** 2):
    """Mean of geometric Brownian motion (spec FP-GBM): ``E[S_t] = exp(m0 + v0/2 + mu t)``
    (independent of ``sigma``)."""
    t, mu, sigma, m0, v0 = _gbm_params(t, mu, sigma, m0, v0)
    return math.exp(m0 + 0.5 * v0 + mu * t)


# ---------------------------------------------------------------------------------------------------
# FP-DW: Boltzmann steady states
# ---------------------------------------------------------------------------------------------------

def double_well_potential(x):
    """Double-well potential of spec FP-DW: ``U(x) = x^4/4 - x^2/2`` (minima at ±1, barrier 1/4)."""
    x = np.asarray(x, dtype=float)
    return 0.25 * x ** 4 - 0.5 * x ** 2


def double_well_derivative(x):
    """``U'(x) = x^3 - x`` of :func:`double_well_potential` (the CC drift ``B = U'``)."""
    x = np.asarray(x, dtype=float)
    return x ** 3 - x


def boltzmann_density(x, potential, D, bounds, *, points=None, return_norm=False):
    """Normalised Boltzmann steady state ``p(x) = exp(-U(x)/D) / Z`` on ``bounds`` (spec FP-DW).

    Zero-flux steady state of ``dX = -U'(X) dt + sqrt(2 D) dW``, i.e. of
    ``p_t = d/dx[U' p + D p_x]``. ``Z = int_bounds exp(-U/D) dx`` by adaptive quadrature
    (``scipy.integrate.quad``, relative tolerance 1e-13, breakpoints ``points`` — by default the
    extrema of ``U`` found on a fine grid). ``U`` is shifted by its minimum on the interval before
    exponentiating, so small ``D`` does not overflow. Spec case: ``double_well_potential``,
    ``D = 0.25``, ``bounds = (-2.5, 2.5)``.

    ``return_norm=True`` returns ``(p, Z)`` with ``Z`` for the *unshifted* potential.
    """
    if not callable(potential):
        raise ParameterError(f"potential must be a callable U(x), got {type(potential).__name__}")
    D = _positive("D", D)
    lo, hi = _bounds("bounds", bounds)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ParameterError(f"bounds must be finite, got ({lo}, {hi})")
    xs = np.linspace(lo, hi, 4001)
    us = np.asarray(potential(xs), dtype=float)
    if us.shape != xs.shape or not np.all(np.isfinite(us)):
        raise ParameterError("potential must return finite values of the shape of its argument on bounds")
    u_min = float(us.min())
    if points is None:
        du = np.diff(us)
        idx = np.nonzero(np.sign(du[1:]) != np.sign(du[:-1]))[0] + 1
        points = xs[idx]
    points = [p for p in np.atleast_1d(points) if lo < p < hi]
    w = lambda s: math.exp(-(float(potential(s)) - u_min) / D)  # noqa: E731
    Zs, err = integrate.quad(w, lo, hi, points=points or None, limit=500, epsabs=0.0, epsrel=1e-13)
    x = np.asarray(x, dtype=float)
    p = np.exp(-(np.asarray(potential(x), dtype=float) - u_min) / D) / Zs
    p = np.where((x >= lo) & (x <= hi), p, 0.0)
    if return_norm:
        return p, Zs * math.exp(-u_min / D)
    return p


# ---------------------------------------------------------------------------------------------------
# FP-SA: stochastic acceleration
# ---------------------------------------------------------------------------------------------------

def equilibrium_momentum(q, b):
    """Loss/acceleration balance ``chi_eq = b^{-1/(3-q)}`` for ``D = chi^q``, ``pdot = -b chi^2``
    (``t_acc = chi^2/D = t_loss = chi/|pdot|``)."""
    q = _q_below_3(q)
    b = _positive("b", b)
    return b ** (-1.0 / (3.0 - q))


def pileup_potential(chi, q, b):
    """Potential of the pure pile-up problem: ``Phi = b chi^{3-q} / (3-q)`` (spec FP-SA-0).

    For the f-form Chang–Cooper operator ``d/dchi[C f' + B f]`` with ``C = D = chi^q`` and
    ``B = -pdot = b chi^2`` one has ``B/C = Phi'``, so the zero-flux equilibrium is ``f ∝ e^{-Phi}``.
    (Sign convention differs from the Green's-function potential of :func:`acceleration_green`,
    where ``Phi' = pdot/D = -`` this one's derivative.)
    """
    q = _q_below_3(q)
    b = _positive("b", b)
    c = _chi_array(chi, allow_zero=True)
    k = 3.0 - q
    return b * c ** k / k


def pileup_equilibrium(chi, q, chi_eq, *, number=1.0, bounds=(0.0, math.inf)):
    """Exact zero-flux equilibrium of pure pile-up (spec FP-SA-0).

    ``D = chi^q``, ``pdot = -b chi^2`` with ``b = chi_eq^{-(3-q)}``, no escape, no injection::

        f(chi) = A exp(-(chi/chi_eq)^{3-q} / (3-q))            (particle flux identically 0)

    normalised so that ``int_bounds chi^2 f dchi = number`` (the particle number; default
    ``bounds = (0, inf)``). With ``k = 3 - q`` and ``z = (chi/chi_eq)^k / k`` the integral is
    ``chi_eq^3 k^{3/k-1} [Gamma(3/k, z_lo) - Gamma(3/k, z_hi)]`` (regularised incomplete gamma
    functions), so the normalisation is exact. ``N = chi^2 f`` peaks at :func:`pileup_peak`.
    Requires ``q < 3``.
    """
    q = _q_below_3(q)
    chi_eq = _positive("chi_eq", chi_eq)
    number = _positive("number", number)
    lo, hi = _bounds("bounds", bounds, positive=True)
    k = 3.0 - q
    a = 3.0 / k
    z_lo = (lo / chi_eq) ** k / k
    z_hi = (hi / chi_eq) ** k / k if math.isfinite(hi) else math.inf
    frac = special.gammaincc(a, z_lo) - (special.gammaincc(a, z_hi) if math.isfinite(z_hi) else 0.0)
    if not frac > 0:
        raise ParameterError(f"bounds ({lo}, {hi}) contain no particles of the equilibrium "
                             f"(chi_eq = {chi_eq}, q = {q})")
    log_int = 3.0 * math.log(chi_eq) + (a - 1.0) * math.log(k) + special.gammaln(a) + math.log(frac)
    c = _chi_array(chi, allow_zero=True)
    return number * np.exp(-(c / chi_eq) ** k / k - log_int)


def pileup_peak(q, chi_eq):
    """Maximum of ``N = chi^2 f`` for the pure pile-up equilibrium: ``chi_peak = 2^{1/(3-q)} chi_eq``
    (``q = 2``: ``2 chi_eq``; ``q = 5/3``: ``1.68 chi_eq``)."""
    q = _q_below_3(q)
    chi_eq = _positive("chi_eq", chi_eq)
    return 2.0 ** (1.0 / (3.0 - q)) * chi_eq


def hard_sphere_escape(chi, theta=1.0, chi0=1.0, chi_min=1e-2, chi_max=1e2):
    """Closed-form steady state for hard-sphere acceleration with escape (spec FP-SA-1).

    ``D = chi^2``, ``pdot = 0``, ``tau = 1/theta`` (``theta = 1/(D0 tau)``), injection
    ``delta(chi - chi0)/chi0^2``, zero flux at ``chi_min`` and ``chi_max``::

        (chi^4 f')' - theta chi^2 f = -delta(chi - chi0)
        r± = -3/2 ± sqrt(9/4 + theta),
        y1 = r+ (chi/chi_min)^{r-} - r- (chi/chi_min)^{r+},   y2 = same with chi_max,
        f  = y1(chi_<) y2(chi_>) / (-chi0^4 W(chi0)),        W = y1 y2' - y1' y2.

    (Park & Petrosian 1995 class; power law ``f ∝ chi^{-(3/2 + sqrt(9/4 + theta))}`` above ``chi0``.)
    Evaluated in log form (``y_i`` factored by their dominant power), so any domain ratio is safe.
    Escape balances injection: ``theta int chi^2 f dchi = 1``.
    """
    theta = _positive("theta", theta)
    chi0, chi_min, chi_max = _momentum_domain(chi0, chi_min, chi_max)
    c = _chi_array(chi, chi_min, chi_max)
    sq = math.sqrt(2.25 + theta)
    rp, rm = -1.5 + sq, -1.5 - sq
    dl = rp - rm

    def log_y1(x):  # y1 = rho^{r+} (-r- + r+ rho^{-dl}),  rho = x/chi_min >= 1
        lr = np.log(x / chi_min)
        return rp * lr + np.log(-rm + rp * np.exp(-dl * lr))

    def log_y2(x):  # y2 = sig^{r-} (r+ - r- sig^{dl}),  sig = x/chi_max <= 1
        ls = np.log(x / chi_max)
        return rm * ls + np.log(rp - rm * np.exp(dl * ls))

    e1 = math.exp(-dl * math.log(chi0 / chi_min))
    e2 = math.exp(dl * math.log(chi0 / chi_max))
    u1 = rp * rm * (e1 - 1.0) / (rp * e1 - rm)      # d ln y1 / d ln chi at chi0
    u2 = rp * rm * (1.0 - e2) / (rp - rm * e2)      # d ln y2 / d ln chi at chi0
    log_norm = -math.log(chi0 ** 3 * (u1 - u2))
    below = c <= chi0
    lf = np.where(below, log_y1(np.minimum(c, chi0)) - log_y1(chi0),
                  log_y2(np.maximum(c, chi0)) - log_y2(chi0)) + log_norm
    return np.exp(lf)


def synchrotron_pileup_kummer(chi, b=1e-3, theta=0.1, chi0=1.0):
    """Closed-form steady state with hard-sphere acceleration, synchrotron loss and escape
    (spec FP-SA-2, infinite domain).

    ``D = chi^2``, ``pdot = -b chi^2``, ``tau = 1/theta``, injection ``delta(chi - chi0)/chi0^2``::

        (chi^4 (f' + b f))' - theta chi^2 f = -delta(chi - chi0),    x = b chi,
        r = -3/2 + sqrt(9/4 + theta),
        f ∝ x^r e^{-x} M(r, 2r+4, x)  (chi < chi0),   f ∝ x^r e^{-x} U(r, 2r+4, x)  (chi > chi0),

    with Kummer's ``M`` (``hyp1f1``) and ``U`` (``hyperu``), continuous at ``chi0`` with the flux jump
    ``chi0^4 [f'] = -1`` (Schlickeiser 1984; Stawarz & Petrosian 2008). ``e^{-x} M(r, 2r+4, x)`` is
    evaluated as ``M(r+4, 2r+4, -x)`` (Kummer's transformation) and everything in logs, so large
    ``b chi`` neither overflows nor underflows prematurely. Power law ``chi^{-(3+r)}`` above ``chi0``,
    pile-up near ``chi_eq = 1/b``, cutoff ``e^{-b chi}``.
    """
    b = _positive("b", b)
    theta = _positive("theta", theta)
    chi0 = _positive("chi0", chi0)
    c = _chi_array(chi)
    r = -1.5 + math.sqrt(2.25 + theta)
    bb = 2.0 * r + 4.0

    def log_h1(x):  # x^r e^{-x} M(r, bb, x) = x^r M(bb - r, bb, -x)
        return r * np.log(x) + np.log(special.hyp1f1(bb - r, bb, -x))

    def log_h2(x):
        return r * np.log(x) - x + np.log(special.hyperu(r, bb, x))

    x0 = b * chi0
    # d ln h / d chi = b d ln h / dx;  d/dx M(a, c, -x) = -(a/c) M(a+1, c+1, -x),  U' = -a U(a+1, c+1, x)
    L1 = b * (r / x0 - (bb - r) / bb * special.hyp1f1(bb - r + 1.0, bb + 1.0, -x0)
              / special.hyp1f1(bb - r, bb, -x0))
    L2 = b * (r / x0 - 1.0 - r * special.hyperu(r + 1.0, bb + 1.0, x0) / special.hyperu(r, bb, x0))
    log_norm = -math.log(chi0 ** 4 * (L1 - L2))
    x = b * c
    xb = np.minimum(x, x0)
    xa = np.maximum(x, x0)
    lf = np.where(c <= chi0, log_h1(xb) - log_h1(x0), log_h2(xa) - log_h2(x0)) + log_norm
    return np.exp(lf)


def _as_callable(name, value, *, allow_none=False):
    if value is None and allow_none:
        return None
    if callable(value):
        return value
    if isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, bool):
        v = float(value)
        return lambda chi: v
    raise ParameterError(f"{name} must be a callable of chi or a number, got {type(value).__name__}")


def acceleration_green(chi, D, pdot, tau, chi0, chi_min, chi_max, *, dlnD=None, rtol=1e-12, atol=1e-15,
                       method="LSODA"):
    """Semi-analytic steady state of stochastic acceleration on a finite range (spec FP-SA).

    Solves ``0 = chi^-2 (chi^2 (D f' - pdot f))' - f/tau + delta(chi - chi0)/chi0^2`` on
    ``[chi_min, chi_max]`` with zero particle flux at both ends (the problem class of Walter &
    Eichmann 2024, arXiv:2411.14804; Green's-function route of Park & Petrosian 1995).

    With ``Phi' = pdot/D`` and ``y = e^{-Phi} f`` the equation is self-adjoint,
    ``(P y')' - R y = -delta(chi - chi0)``, ``P = chi^2 D e^Phi``, ``R = chi^2 e^Phi / tau``, and
    ``y = y1(chi_<) y2(chi_>) / [P (y1 y2' - y1' y2)](chi0)`` where ``y1`` (``y2``) satisfies the left
    (right) zero-flux condition ``P y' = 0``. In ``t = ln chi`` the Riccati variables
    ``u_i = d ln y_i / d ln chi`` obey

        du/dt = chi^2/(D tau) - (1 + dlnD/dlnchi + chi pdot/D) u - u^2,

    integrated (LSODA, ``rtol``) forward from ``chi_min`` with ``u1 = 0`` up to ``chi0`` and backward
    from ``chi_max`` with ``u2 = 0`` down to ``chi0`` — both the stable directions — together with
    ``ln f = Phi + ln y_i`` as a quadrature component (``d ln f / d ln chi = u + chi pdot / D``; carrying
    ``Phi`` and ``ln y`` separately would cancel large numbers when losses are strong). Then

        f(chi) = exp[Phi(chi) - Phi(chi0) + ln y_i(chi) - ln y_i(chi0)] / [chi0 D(chi0) (u1 - u2)(chi0)],

    all in logs, so nothing overflows. ``f`` at the requested ``chi`` comes from the integrator's
    dense output at those points (no fixed grid), ~0.01–0.05 s per call.

    Accuracy (defaults ``rtol = 1e-12``, ``atol = 1e-15``): ~1e-11 relative against the closed forms
    of :func:`hard_sphere_escape` and :func:`synchrotron_pileup_kummer`; where ``f`` has fallen by
    ``e^{-L}`` from its value at ``chi0`` the relative error grows like ``rtol * L`` (e.g. 2e-9 at
    ``f ~ 1e-50``).

    Parameters
    ----------
    chi : array_like, values in ``[chi_min, chi_max]``.
    D, pdot : callables of (scalar) ``chi`` (or numbers): momentum diffusion ``D > 0`` and continuous
        momentum change ``pdot``.
    tau : callable of ``chi``, number, ``None`` or ``inf``: escape time (``inf`` = no escape there).
        Escape must act somewhere: without any loss no steady state exists (injected particles
        accumulate; the Wronskian vanishes) and ``ParameterError`` is raised.
    chi0, chi_min, chi_max : injection momentum and the turbulence range, ``0 < chi_min < chi0 < chi_max``.
    dlnD : optional callable ``d ln D / d ln chi``; by default a 4th-order central difference in
        ``ln chi`` (step 1e-3; truncation ~1e-13 for power laws).
    """
    chi0, chi_min, chi_max = _momentum_domain(chi0, chi_min, chi_max)
    c = _chi_array(chi, chi_min, chi_max)
    Df = _as_callable("D", D)
    pf = _as_callable("pdot", pdot)
    if tau is None or (isinstance(tau, (numbers.Real, np.floating)) and math.isinf(float(tau))):
        raise ParameterError("tau: without escape (tau = None/inf everywhere) the injected particles "
                             "accumulate and no steady state exists; use pileup_equilibrium for the "
                             "zero-flux equilibrium without injection")
    if not callable(tau):
        _positive("tau", tau)
    tf = _as_callable("tau", tau)
    rtol = _positive("rtol", rtol)
    atol = _positive("atol", atol)

    def nu(x):
        tv = float(tf(x))
        return 0.0 if math.isinf(tv) else 1.0 / tv

    if dlnD is None:
        h = 1e-3
        eh, e2h = math.exp(h), math.exp(2 * h)

        def dlnDf(x):
            return (8.0 * (math.log(Df(x * eh)) - math.log(Df(x / eh)))
                    - (math.log(Df(x * e2h)) - math.log(Df(x / e2h)))) / (12.0 * h)
    else:
        dlnDf = _as_callable("dlnD", dlnD)

    # validate the coefficients at a few points before any work
    for x in np.geomspace(chi_min, chi_max, 7):
        dv, pv, tv = float(Df(x)), float(pf(x)), float(tf(x))
        if not (math.isfinite(dv) and dv > 0):
            raise ParameterError(f"D must be > 0 and finite on [chi_min, chi_max], got D({x:g}) = {dv}")
        if not math.isfinite(pv):
            raise ParameterError(f"pdot must be finite on [chi_min, chi_max], got pdot({x:g}) = {pv}")
        if not tv > 0:
            raise ParameterError(f"tau must be > 0 (inf for no escape) on [chi_min, chi_max], got tau({x:g}) = {tv}")

    def rhs(t, y):
        x = math.exp(t)
        d = float(Df(x))
        u = y[0]
        g = x * x * nu(x) / d
        xp = x * float(pf(x)) / d
        a = 1.0 + float(dlnDf(x)) + xp
        return [g - a * u - u * u, u + xp]   # (u, ln f up to a constant): ln f = Phi + ln y

    t0, tmin, tmax = math.log(chi0), math.log(chi_min), math.log(chi_max)
    tc = np.clip(np.log(c).reshape(-1), tmin, tmax)
    left = tc <= t0
    tl = np.unique(np.append(tc[left], t0))
    tr = np.unique(np.append(tc[~left], t0))[::-1]
    opts = dict(method=method, rtol=rtol, atol=atol)
    sl = integrate.solve_ivp(rhs, (tmin, t0), [0.0, 0.0], t_eval=tl, **opts)
    sr = integrate.solve_ivp(rhs, (tmax, t0), [0.0, 0.0], t_eval=tr, **opts)
    for s, side in ((sl, "left"), (sr, "right")):
        if not s.success:
            raise RuntimeError(f"acceleration_green: {side} Riccati integration failed: {s.message}")
    u1, u2 = sl.y[0, -1], sr.y[0, -1]
    if not u1 - u2 > 0:
        raise ParameterError("tau: the escape rate vanishes on [chi_min, chi_max] (Wronskian = 0); "
                             "no steady state exists without losses")
    log_norm = -math.log(chi0 * float(Df(chi0)) * (u1 - u2))
    lf = np.empty_like(tc)
    vl = sl.y[1] - sl.y[1, -1]
    vr = sr.y[1] - sr.y[1, -1]
    lf[left] = vl[np.searchsorted(tl, tc[left])]
    lf[~left] = vr[::-1][np.searchsorted(tr[::-1], tc[~left])]
    return np.exp(lf + log_norm).reshape(c.shape)


# ---------------------------------------------------------------------------------------------------
# spectral features
# ---------------------------------------------------------------------------------------------------

def _spectrum(chi, f):
    c = np.asarray(chi, dtype=float).reshape(-1)
    v = np.asarray(f, dtype=float).reshape(-1)
    if c.shape != v.shape or c.size < 3:
        raise ParameterError(f"chi and f must be 1-D arrays of equal length >= 3, got {c.shape} and {v.shape}")
    if not (np.all(c > 0) and np.all(np.diff(c) > 0)):
        raise ParameterError("chi must be positive and strictly increasing")
    if not np.all(v > 0):
        raise ParameterError("f must be positive (spectral features are taken in log space)")
    return c, v


def local_index(chi, f):
    """Local spectral index ``s = -d ln f / d ln chi`` (second-order differences on any grid)."""
    c, v = _spectrum(chi, f)
    return -np.gradient(np.log(v), np.log(c))


def local_extremum(chi, values, kind="max", above=None, below=None):
    """First interior local maximum (``kind="max"``) or minimum of ``values`` with ``above < chi < below``,
    refined by a parabola through the three neighbouring points in ``(ln chi, ln values)``.

    Returns ``(chi_ext, value_ext)``; raises ``ParameterError`` if there is none in the range.
    """
    if kind not in ("max", "min"):
        raise ParameterError(f"kind must be 'max' or 'min', got {kind!r}")
    c, v = _spectrum(chi, values)
    t, w = np.log(c), np.log(v)
    sgn = 1.0 if kind == "max" else -1.0
    lo = -np.inf if above is None else math.log(_positive("above", above))
    hi = np.inf if below is None else math.log(_positive("below", below))
    i = np.arange(1, c.size - 1)
    ok = (sgn * w[i] >= sgn * w[i - 1]) & (sgn * w[i] > sgn * w[i + 1]) & (t[i] > lo) & (t[i] < hi)
    if not np.any(ok):
        raise ParameterError(f"no local {kind}imum of the spectrum in chi range ({above}, {below})")
    j = int(i[ok][0])
    t0, t1, t2 = t[j - 1], t[j], t[j + 1]
    w0, w1, w2 = w[j - 1], w[j], w[j + 1]
    # Lagrange parabola through the three points; vertex
    d01, d12 = (w1 - w0) / (t1 - t0), (w2 - w1) / (t2 - t1)
    a2 = (d12 - d01) / (t2 - t0)
    if a2 == 0.0:
        return float(c[j]), float(v[j])
    tv = 0.5 * (t0 + t1) - d01 / (2.0 * a2)
    wv = w0 + d01 * (tv - t0) + a2 * (tv - t0) * (tv - t1)
    return float(math.exp(tv)), float(math.exp(wv))


def pileup_maximum(chi, f, above=None):
    """Location of the pile-up bump: the first local maximum of ``N = chi^2 f`` with ``chi > above``
    (parabolic refinement in log space, see :func:`local_extremum`)."""
    c, v = _spectrum(chi, f)
    return local_extremum(c, c * c * v, "max", above=above)[0]
