"""Exact and semi-analytic solutions of chromatography column models (fast forward models).

References of the chromatography validation specs (research note ``chromatography.md``:
CHROM-GC-1…7, V1…V5). Names follow Cabrera-Codony, Valverde, Born, Noreldin & Myers,
"Mathematical modelling of flow and adsorption in a gas chromatograph", arXiv:2501.00001 (2024).
SI units throughout: lengths m, times s, velocities m/s, diffusivities m²/s, pressures Pa,
concentrations mol/m³ (any unit works for linear models: outputs scale with ``c0``), rate
constants 1/s, viscosity Pa s.

Column models (mobile-phase concentration ``c``, stationary-phase concentration ``q``)::

    GC (capillary, phase ratio alpha = 2 delta / R):  c_t + u c_x = D c_xx - alpha q_t
    LC (LRM without pores, F = (1 - eps_t)/eps_t):    c_t + F q_t + u c_x = D c_xx
    linear binding:  q_t = k_a c - k_d q  (kinetic)   or  q = K c (equilibrium), K = k_a / k_d
    Langmuir:        q = q_m b c / (1 + b c)           (equilibrium, ideal model)
    inlet  (Danckwerts)  u c - D c_x = u c_in(t) at x = 0;   c_x = 0 at x = L;  c = q = 0 at t = 0.

The GC model is the LC model with ``F = alpha`` (CHROM-GC-7), so every linear function below takes
``F`` and serves both. Rectangular injection: ``c_in = c0`` on ``[0, t1)``.

Contents
--------
* Dispersion-free kinetic closed form (Thomas / Giddings–Eyring, CHROM-GC-3, V4):
  :func:`thomas_kernel`, :func:`thomas_cdf`, :func:`thomas_pulse`, :func:`thomas_step`.
* Finite column with dispersion (closed–closed Danckwerts transfer function, V1) and its inversion on
  the Bromwich line by one real FFT: :func:`transfer_function`, :func:`outlet_linear`;
  exact moments (V2): :func:`moments`.
* Compressible carrier (GC, CHROM-GC-2/3): :func:`pressure_profile`, :func:`velocity_profile`,
  :func:`travel_time`, :func:`poiseuille_inlet_velocity`, :class:`GCColumn`.
* BTEX data of the paper (Tables 1–3) and the synthetic chromatogram (CHROM-GC-5/6):
  :func:`btex`, :func:`btex_chromatogram`.
* Ideal single-component Langmuir model, rectangular pulse (V5): :func:`langmuir_ideal_pulse`,
  :func:`langmuir_ideal_times`.
* Semi-infinite equilibrium column, Dirichlet inlet (Lapidus–Amundson, V3): :func:`lapidus_amundson`.

Time arguments are a scalar or a 1-D strictly increasing array of finite times (s); negative times
are allowed (the concentration is 0 there).
"""
from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from typing import NamedTuple

import numpy as np
from scipy import fft as sfft
from scipy import special
from scipy.interpolate import make_interp_spline
from scipy.stats import ncx2

from ..errors import ParameterError

__all__ = [
    "thomas_kernel", "thomas_cdf", "thomas_pulse", "thomas_step",
    "transfer_function", "outlet_linear", "moments",
    "pressure_profile", "velocity_profile", "travel_time", "poiseuille_inlet_velocity",
    "GCColumn", "Analyte", "BTEXData", "btex", "btex_chromatogram",
    "LangmuirPulseTimes", "langmuir_ideal_times", "langmuir_ideal_pulse",
    "lapidus_amundson",
]


# ---------------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------------

from ..checks import nonneg as _nonneg  # noqa: E402  (shared parameter checks)
from ..checks import positive as _positive  # noqa: E402


def _times(t, name="t"):
    """A scalar or a 1-D strictly increasing array of finite times."""
    try:
        a = np.asarray(t, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a real number or a 1-D array of times, got {t!r}") from None
    if a.ndim > 1:
        raise ParameterError(f"{name} must be a scalar or a 1-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"{name} must contain finite times (no nan/inf)")
    if a.ndim == 1 and a.size > 1 and not np.all(np.diff(a) > 0):
        raise ParameterError(f"{name} must be strictly increasing")
    return a


def _nonneg_array(name, value):
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a real number or an array, got {value!r}") from None
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ParameterError(f"{name} must be >= 0 and finite")
    return a


def _linear_binding(F, K, k_a, k_d, kinetic):
    """Resolve the linear isotherm: returns (F, K, k_a, k_d, kinetic).

    ``K`` alone: equilibrium ``q = K c``. ``k_a`` and ``k_d``: kinetic ``q_t = k_a c - k_d q``
    (``kinetic=False`` makes it equilibrium with ``K = k_a/k_d``). ``K`` and ``k_d``: kinetic with
    ``k_a = K k_d``. ``F = 0`` needs no binding parameters.
    """
    F = _nonneg("F", F)
    if kinetic is not None and not isinstance(kinetic, (bool, np.bool_)):
        raise ParameterError(f"kinetic must be True, False or None, got {kinetic!r}")
    if K is not None and k_a is not None:
        raise ParameterError("give either K (with optional k_d) or k_a and k_d, not K and k_a")
    if k_a is not None:
        if k_d is None:
            raise ParameterError("k_a needs k_d (kinetic linear binding q_t = k_a c - k_d q)")
        k_a = _nonneg("k_a", k_a)
        k_d = _positive("k_d", k_d)
        K = k_a / k_d
        kin = True if kinetic is None else bool(kinetic)
    elif K is not None:
        K = _nonneg("K", K)
        if k_d is not None:
            k_d = _positive("k_d", k_d)
            k_a = K * k_d
            kin = True if kinetic is None else bool(kinetic)
        else:
            if kinetic:
                raise ParameterError("kinetic=True needs k_d (give K and k_d, or k_a and k_d)")
            kin = False
    else:
        if k_d is not None:
            raise ParameterError("k_d needs k_a or K")
        if F != 0:
            raise ParameterError("give the binding: K (equilibrium q = K c) or k_a and k_d (kinetic)")
        K, kin = 0.0, False
    if F == 0 or K == 0:
        kin = False  # no retention: kinetics are irrelevant
    return F, K, k_a, k_d, kin


def _column(L, u, D):
    return _positive("L", L), _positive("u", u), _nonneg("D", D)


# ---------------------------------------------------------------------------------------------------
# V4 / CHROM-GC-3: dispersion-free kinetic column (Thomas, Giddings–Eyring)
# ---------------------------------------------------------------------------------------------------

def thomas_kernel(T, n, k_d):
    """Continuous part ``k(T)`` of the dispersion-free kinetic impulse response (1/s).

    ``k(T) = exp(-n - k_d T) sqrt(n k_d / T) I1(2 sqrt(n k_d T))``, written overflow-free as
    ``exp(-(sqrt(n) - sqrt(k_d T))^2) i1e(2 sqrt(n k_d T)) sqrt(n k_d / T)`` (``i1e`` the exponentially
    scaled Bessel function; the exponent is <= 0). ``T`` (s) is the time spent in the stationary
    phase, i.e. time after the unretained arrival ``t0``; ``k(0+) = n k_d e^{-n}``; ``k = 0`` for
    ``T < 0``. Broadcasts over ``T``, ``n``.
    """
    n = _nonneg_array("n", n)
    k_d = _nonneg("k_d", k_d)
    T = np.asarray(T, dtype=float)
    if np.any(np.isnan(T)):
        raise ParameterError("T must not contain nan")
    T, n = np.broadcast_arrays(T, n)
    out = np.zeros(T.shape)
    pos = T > 0
    Tp, nposv = T[pos], n[pos]
    z = 2.0 * np.sqrt(nposv * k_d * Tp)
    out[pos] = np.exp(-(np.sqrt(nposv) - np.sqrt(k_d * Tp)) ** 2) * special.i1e(z) * np.sqrt(nposv * k_d / Tp)
    zero = T == 0
    out[zero] = n[zero] * k_d * np.exp(-n[zero])
    return out[()] if out.ndim == 0 else out


def _thomas_cdf_pair(tau, n, k_d):
    """``(Phi, 1 - Phi)`` with ``Phi(tau) = e^{-n} + int_0^tau k(T) dT`` (0 for tau < 0), each computed
    directly where it is the smaller one (Marcum Q through scipy's non-central chi-square)."""
    tau, n = np.broadcast_arrays(np.asarray(tau, dtype=float), np.asarray(n, dtype=float))
    P = np.zeros(tau.shape)
    Q = np.ones(tau.shape)
    inf = np.isposinf(tau)
    P[inf], Q[inf] = 1.0, 0.0
    pos = (tau >= 0) & ~inf
    if np.any(pos):
        x2, nc = 2.0 * n[pos], 2.0 * k_d * tau[pos]
        # cdf first: Boost's sf overflows (raises) for tiny n and large k_d tau, where Phi ~ 1 and the
        # cdf (= 1 - Phi) is the accurate side anyway; sf is only needed where Phi <= 1/2.
        q = ncx2.cdf(x2, 2.0, nc)
        p = 1.0 - q
        lo = q >= 0.5
        if np.any(lo):
            try:
                p[lo] = ncx2.sf(x2[lo], 2.0, nc[lo])
            except (OverflowError, FloatingPointError):  # pragma: no cover - not seen where Phi <= 1/2
                pass
        P[pos], Q[pos] = p, q
    return P, Q


def thomas_cdf(tau, n, k_d):
    """Cumulative dispersion-free kinetic response ``Phi(tau) = e^{-n} + int_0^tau k(T) dT``.

    ``Phi`` is the step response (breakthrough curve ``c/c0``) at time ``tau = t - t0`` after the
    unretained arrival, including the unadsorbed fraction ``e^{-n}``; ``Phi = 0`` for ``tau < 0``.
    Probabilistically the stationary-phase residence is compound Poisson(n)–exponential(k_d), and

        Phi(tau) = P(Poisson(n) <= Poisson(k_d tau)) = Q_1(sqrt(2 k_d tau), sqrt(2 n))
                 = ncx2.sf(2 n, df=2, nc=2 k_d tau)

    (Marcum Q function; ``Q_M(a, b) = ncx2.sf(b^2, 2M, a^2)``), evaluated by scipy (Boost), accurate
    to ~1e-15 relative in the bulk; the complement ``1 - Phi`` is computed directly (ncx2.cdf) and
    ``Phi`` itself only where ``Phi <= 1/2``.
    """
    n = _nonneg_array("n", n)
    k_d = _nonneg("k_d", k_d)
    tau = np.asarray(tau, dtype=float)
    if np.any(np.isnan(tau)):
        raise ParameterError("tau must not contain nan")
    P, _ = _thomas_cdf_pair(tau, n, k_d)
    return P[()] if P.ndim == 0 else P


def thomas_pulse(t, t0, n, k_d, t1, c0=1.0):
    """Outlet of a dispersion-free column with kinetic linear binding, rectangular injection (V4).

    Closed form of the paper's eq. (38) (Thomas / Giddings–Eyring)::

        c(x, t) = c0 [ e^{-n} 1{0 <= t - t0 < t1} + int_{max(0, t-t0-t1)}^{max(0, t-t0)} k(T) dT ]
                = c0 [ Phi(t - t0) - Phi(t - t0 - t1) ]

    with ``k`` = :func:`thomas_kernel` and ``Phi`` = :func:`thomas_cdf` (Marcum Q; no quadrature, no
    overflow). Parameters:

    t : float or 1-D strictly increasing array, s.
    t0 : unretained travel time to the observation point, s (``x/u``; GC with pressure drop:
        :func:`travel_time`). Scalar or array.
    n : number of adsorption events on the way, ``n = F k_a t0`` (LC) or ``alpha k_a t0`` (GC);
        scalar or array broadcastable with ``t0``.
    k_d : desorption rate constant, 1/s (``k_d = 0``: irreversible adsorption).
    t1 : injection length, s (``inf``: step injection).
    c0 : injected concentration.

    Returns an array of shape ``broadcast(t0, n).shape + t.shape``. The output is a difference of two
    values of ``Phi`` (or of ``1 - Phi``, whichever is smaller), accurate to ~1e-16 ``c0``
    absolutely. Evaluating 2000 times costs 5–20 ms. For the compressible GC column multiply by
    ``p(x)/p0`` (see :class:`GCColumn`).
    """
    t = _times(t)
    t0 = _nonneg_array("t0", t0)
    n = _nonneg_array("n", n)
    k_d = _nonneg("k_d", k_d)
    t1 = _positive("t1", t1, allow_inf=True)
    c0 = _positive("c0", c0)
    try:
        shape = np.broadcast_shapes(t0.shape, n.shape)
    except ValueError:
        raise ParameterError(f"t0 and n must broadcast together, got shapes {t0.shape} and {n.shape}") from None
    t0 = np.broadcast_to(t0, shape)[..., None] if t.ndim else np.broadcast_to(t0, shape)
    n = np.broadcast_to(n, shape)[..., None] if t.ndim else np.broadcast_to(n, shape)
    tau_a = t - t0
    Pa, Qa = _thomas_cdf_pair(tau_a, n, k_d)
    if math.isinf(t1):
        out = Pa
    else:
        Pb, Qb = _thomas_cdf_pair(tau_a - t1, n, k_d)
        out = np.where(Pb > 0.5, Qb - Qa, Pa - Pb)
    out = c0 * np.maximum(out, 0.0)
    return out[()] if out.ndim == 0 else out


def thomas_step(t, t0, n, k_d, c0=1.0):
    """Breakthrough curve (step injection of ``c0`` at ``t = 0``) of the dispersion-free kinetic
    column: ``c0 Phi(t - t0)``; same conventions as :func:`thomas_pulse`."""
    return thomas_pulse(t, t0, n, k_d, math.inf, c0)


# ---------------------------------------------------------------------------------------------------
# V1 / V2: finite column with axial dispersion, linear binding
# ---------------------------------------------------------------------------------------------------

def _phi(s, F, K, k_a, k_d, kinetic):
    if kinetic:
        return s * (1.0 + F * k_a / (s + k_d))
    return s * (1.0 + F * K)


def _G(s, L, u, D, F, K, k_a, k_d, kinetic):
    phi = _phi(s, F, K, k_a, k_d, kinetic)
    if D == 0:
        return np.exp(-phi * (L / u))
    eps = 4.0 * D * phi / (u * u)
    lam = np.sqrt(1.0 + eps)
    one_minus = -eps / (1.0 + lam)              # 1 - lambda without cancellation
    e1 = -(2.0 * L / u) * phi / (1.0 + lam)      # Pe (1 - lambda) / 2
    Pe = u * L / D
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        den = (1.0 + lam) ** 2 - one_minus ** 2 * np.exp(-lam * Pe)
        G = 4.0 * lam * np.exp(e1) / den
    # far out on the imaginary axis exp(e1) underflows to 0 while den may overflow: G = 0 there
    return np.where(np.isfinite(G), G, 0.0)


def transfer_function(s, L, u, D, F, *, K=None, k_a=None, k_d=None, kinetic=None):
    """Closed–closed (Danckwerts) transfer function ``G(s) = c_out(s) / c_in(s)`` of a linear column (V1).

    Model ``c_t + F q_t + u c_x = D c_xx`` on ``0 < x < L`` with Danckwerts inlet and ``c_x = 0`` at
    the outlet; binding ``q = K c`` (give ``K``) or ``q_t = k_a c - k_d q`` (give ``k_a, k_d``, or
    ``K, k_d``; ``kinetic=False`` turns ``k_a, k_d`` into equilibrium with ``K = k_a/k_d``). For GC use
    ``F = alpha``. With ``phi(s) = s (1 + F k_a/(s + k_d))`` (kinetic) or ``s (1 + F K)``,
    ``lambda = sqrt(1 + 4 D phi / u^2)`` and ``Pe = u L / D``::

        G(s) = 4 lambda exp(Pe (1 - lambda)/2) / [ (1 + lambda)^2 - (1 - lambda)^2 exp(-lambda Pe) ],

    with ``1 - lambda = -(4 D phi/u^2)/(1 + lambda)`` (no cancellation at large Pe) and
    ``Pe (1 - lambda)/2 = -2 L phi / (u (1 + lambda))``; ``D = 0`` gives ``exp(-phi L / u)``.
    ``s`` (1/s) is a complex scalar or array; meant for ``Re s >= 0`` (where ``Re lambda >= 1`` and
    nothing overflows).
    """
    L, u, D = _column(L, u, D)
    F, K, k_a, k_d, kin = _linear_binding(F, K, k_a, k_d, kinetic)
    s = np.asarray(s, dtype=complex)
    if not np.all(np.isfinite(s)):
        raise ParameterError("s must be finite")
    G = _G(s, L, u, D, F, K, k_a, k_d, kin)
    return G[()] if G.ndim == 0 else G


def _dispersion_factor(Pe):
    """``2/Pe - 2 (1 - e^{-Pe})/Pe^2`` (closed–closed variance of an unretained solute / t0^2)."""
    if math.isinf(Pe):
        return 0.0
    if Pe < 1e-2:  # series: 1 - Pe/3 + Pe^2/12 - Pe^3/60 + Pe^4/360
        return 1.0 - Pe / 3.0 + Pe ** 2 / 12.0 - Pe ** 3 / 60.0 + Pe ** 4 / 360.0
    return 2.0 * (Pe + math.expm1(-Pe)) / (Pe * Pe)


def moments(L, u, D, F, *, K=None, k_a=None, k_d=None, kinetic=None, t1=0.0):
    """Mean ``mu1`` (s) and variance ``sigma2`` (s²) of the outlet peak of a linear column (V2).

    Exact for :func:`transfer_function` (closed–closed dispersion) with a rectangular injection of
    length ``t1`` (``t1 = 0``: impulse)::

        mu1    = t0 (1 + F K) + t1/2,                                   t0 = L/u,  Pe = u L / D
        sigma2 = t0^2 (1 + F K)^2 [2/Pe - 2 (1 - e^{-Pe})/Pe^2]   (dispersion; 0 for D = 0)
                 + 2 t0 F K / k_d                                  (kinetic binding only)
                 + t1^2 / 12                                       (injection)

    Binding parameters as in :func:`transfer_function`. Returns ``(mu1, sigma2)``.
    """
    L, u, D = _column(L, u, D)
    F, K, k_a, k_d, kin = _linear_binding(F, K, k_a, k_d, kinetic)
    t1 = _nonneg("t1", t1)
    return _moments(L, u, D, F, K, k_d, kin, t1)


def _moments(L, u, D, F, K, k_d, kin, t1):
    t0 = L / u
    R = 1.0 + F * K
    Pe = math.inf if D == 0 else u * L / D
    var = (t0 * R) ** 2 * _dispersion_factor(Pe) + t1 * t1 / 12.0
    if kin:
        var += 2.0 * t0 * F * K / k_d
    return t0 * R + 0.5 * t1, var


def _hat_half(z):
    """``g(z) = (e^z - 1 - z)/z^2`` for complex z (series near 0)."""
    z = np.asarray(z, dtype=complex)
    out = np.empty(z.shape, dtype=complex)
    small = np.abs(z) < 0.5
    zs = z[small]
    acc = np.zeros(zs.shape, dtype=complex)
    term = np.full(zs.shape, 0.5, dtype=complex)
    for k in range(3, 22):  # sum_{k>=2} z^{k-2}/k!
        acc += term
        term = term * zs / k
    out[small] = acc
    zb = z[~small]
    with np.errstate(over="ignore", invalid="ignore"):
        out[~small] = (np.exp(zb) - 1.0 - zb) / (zb * zb)
    return out


def _uniform_step(a, rtol=1e-9):
    """Spacing of a uniform 1-D grid, or None."""
    if a.ndim != 1 or a.size < 2:
        return None
    d = np.diff(a)
    h = (a[-1] - a[0]) / (a.size - 1)
    if np.all(np.abs(d - h) <= rtol * max(abs(h), np.abs(a).max())):
        return float(h)
    return None


def _commensurate(h1, h2, max_den=1000):
    """Largest ``b`` with ``h1 = p b`` and ``h2 = q b`` (p, q integers up to max_den), or None."""
    fr = Fraction(h1 / h2).limit_denominator(max_den)
    p, q = fr.numerator, fr.denominator
    if p == 0 or abs(p * h2 - q * h1) > 1e-12 * max(h1 * q, h2 * p):
        return None
    return h2 / q  # = h1 / p


_FFT_MAX = 1 << 22   # largest automatic FFT length


def outlet_linear(t, L, u, D, F, *, K=None, k_a=None, k_d=None, kinetic=None, c0=1.0, t1=None,
                  inlet="pulse", method="auto", period=None, n_fft=None, full_output=False):
    """Outlet concentration ``c(L, t)`` of a linear column with axial dispersion (V1 inverted).

    Evaluates ``c_out = L^{-1}[G(s) c_in(s)]`` with ``G`` = :func:`transfer_function` (closed–closed
    Danckwerts, equilibrium or kinetic linear binding, parameters as there; GC: ``F = alpha``).

    Inlet (``c0`` scales all of them):
      * ``inlet="pulse"``: rectangular ``c0`` on ``[0, t1)``, ``c_in(s) = c0 (1 - e^{-s t1})/s``;
      * ``inlet="step"``: ``c0 H(t)`` (computed as a pulse longer than ``t[-1]``; causality makes
        the outputs identical);
      * ``inlet=(t_in, c_in)``: samples on a uniform grid with ``t_in[0] >= 0``, taken as the
        piecewise-linear interpolant on ``[t_in[0], t_in[-1]]`` and zero outside (its Laplace
        transform is evaluated exactly), times ``c0``.

    Method: the inverse transform is taken on the Bromwich line ``Re s = 0`` by one real FFT,
    ``c(t_a + j dt) = (N/T) irfft(G(i w_m) c_in(i w_m) e^{i w_m t_a})``, ``w_m = 2 pi m / T``: the
    Fourier series of the ``T``-periodic sum ``sum_k c(t + k T)``, exact up to the part of the
    signal beyond one period (``T >= 4 t[-1]`` and ``>= 2 x`` [inlet end + mean + 40 sigma (+ 40/k_d)];
    the signal is causal and decays) and up to the spectrum beyond Nyquist (``dt`` is chosen adaptively
    so that ``|G c_in|`` has fallen below 1e-17 of its value at 0). For a uniform time grid ``t`` the
    FFT nodes contain ``t`` (no interpolation); otherwise a quintic spline on the (finer) FFT grid
    interpolates. Typical cost: a few ms to 50 ms. Agrees with mpmath de Hoog to ~1e-16 absolutely.

    Talbot-type (deformed) contours are not used: they enter ``Re s < 0``, where ``exp(-lambda Pe)``
    grows like ``exp(Pe |Re lambda|)`` and, for kinetic binding, ``exp(n k_d/(s + k_d))`` has an
    essential singularity at ``s = -k_d``; both overflow or lose all digits (mpmath's Talbot returns
    values ~1e13 for LIN-EQ). The imaginary axis keeps ``|exp(-lambda Pe)| <= e^{-Pe}``.

    ``method="auto"`` uses exact closed forms where the output is discontinuous and an FFT would show
    Gibbs oscillations: ``D = 0`` with equilibrium binding (a pure shift of the inlet by
    ``t0 (1 + F K)``) and ``D = 0`` with kinetic binding for pulse/step inlets (:func:`thomas_pulse`).
    ``method="fft"`` forces the FFT (for ``D = 0`` it is accurate only when ``e^{-n}`` is negligible
    and the inlet continuous). ``period`` (s) and ``n_fft`` override the automatic choices.
    ``full_output=True`` also returns a dict with the method, period, n_fft, dt and grid start.
    """
    t = _times(t)
    L, u, D = _column(L, u, D)
    F, K, k_a, k_d, kin = _linear_binding(F, K, k_a, k_d, kinetic)
    c0 = _positive("c0", c0)
    if method not in ("auto", "fft"):
        raise ParameterError(f"method must be 'auto' or 'fft', got {method!r}")
    t_arr = np.atleast_1d(t)
    out = np.zeros(t_arr.shape)
    info = {"method": None, "period": None, "n_fft": None, "dt": None, "t_start": None}

    # ---- inlet
    if isinstance(inlet, str):
        if inlet == "pulse":
            if t1 is None:
                raise ParameterError("t1 (injection length, s) is required for inlet='pulse'")
            t1 = _positive("t1", t1)
        elif inlet == "step":
            if t1 is not None:
                raise ParameterError("t1 must not be given for inlet='step'")
        else:
            raise ParameterError(f"inlet must be 'pulse', 'step' or a pair (t_in, c_in), got {inlet!r}")
        kind = inlet
    else:
        try:
            t_in, c_in = inlet
        except (TypeError, ValueError):
            raise ParameterError("inlet must be 'pulse', 'step' or a pair (t_in, c_in) of arrays") from None
        t_in = _times(t_in, "t_in")
        c_in = np.asarray(c_in, dtype=float)
        if t_in.ndim != 1 or t_in.size < 2 or c_in.shape != t_in.shape:
            raise ParameterError("inlet samples (t_in, c_in) must be 1-D arrays of equal length >= 2")
        if not np.all(np.isfinite(c_in)):
            raise ParameterError("inlet concentrations c_in must be finite")
        if t_in[0] < 0:
            raise ParameterError(f"inlet times t_in must be >= 0 (causal inlet), got t_in[0] = {t_in[0]}")
        h_in = _uniform_step(t_in)
        if h_in is None:
            raise ParameterError("inlet times t_in must be uniformly spaced")
        if t1 is not None:
            raise ParameterError("t1 must not be given with a sampled inlet")
        kind = "samples"

    t_end = float(t_arr[-1])
    tR = L / u * (1.0 + F * K)
    if t_end <= 0:
        info["method"] = "zero"
        res = out[0] if t.ndim == 0 else out
        return (res, info) if full_output else res

    # ---- exact closed forms for D = 0
    if method == "auto" and D == 0 and (not kin or kind != "samples"):
        if not kin:
            info["method"] = "shift"
            tau = t_arr - tR
            if kind == "pulse":
                out = np.where((tau >= 0) & (tau < t1), c0, 0.0)
            elif kind == "step":
                out = np.where(tau >= 0, c0, 0.0)
            else:
                inside = (tau >= t_in[0]) & (tau <= t_in[-1])
                out = np.where(inside, c0 * np.interp(tau, t_in, c_in), 0.0)
        else:
            info["method"] = "thomas"
            t0 = L / u
            out = thomas_pulse(t_arr, t0, F * k_a * t0, k_d, t1 if kind == "pulse" else math.inf, c0)
        res = out[0] if t.ndim == 0 else out
        return (res, info) if full_output else res

    # ---- Bromwich-line FFT
    info["method"] = "fft"
    mu_h, var_h = _moments(L, u, D, F, K, k_d, kin, 0.0)
    sig_h = math.sqrt(var_h)
    if kind == "pulse":
        in_end, in_len = t1, t1
    elif kind == "step":
        t1 = t_end * (1.0 + 1e-9) + 1e-300
        in_end, in_len = t1, t1
    else:
        in_end, in_len = float(t_in[-1]), float(t_in[-1] - t_in[0])
    tail = 40.0 * sig_h + (40.0 / k_d if kin else 0.0)
    support = in_end + mu_h + tail
    if period is None:
        T = max(4.0 * t_end, 2.0 * support)
    else:
        T = _positive("period", period)
        if T <= t_end or T <= in_end:
            raise ParameterError(f"period must exceed t[-1] = {t_end} and the inlet end {in_end}, got {T}")

    def G_of(w):
        return _G(1j * w, L, u, D, F, K, k_a, k_d, kin)

    # Nyquist: first w (doubling) where |G(i w)| * envelope(|c_in(i w)| / c_in(0)) < 1e-17
    scale_len = max(in_len, 1e-300)
    n_cap = _FFT_MAX
    w = 2.0 * math.pi / T
    w_cap = math.pi * n_cap / T
    while w < w_cap:
        env = min(1.0, 2.0 / (w * scale_len)) if kind != "samples" else 1.0
        if abs(complex(G_of(np.array([w]))[0])) * env < 1e-17 and \
                abs(complex(G_of(np.array([1.5 * w]))[0])) * env < 1e-17:
            break
        w *= 2.0
    dt_max = math.pi / w
    if sig_h > 0:
        dt_max = min(dt_max, sig_h / 128.0)

    h_out = _uniform_step(t_arr) if t_arr.size >= 2 else None
    base = None
    if kind == "samples":
        base = h_in if h_out is None else (_commensurate(h_out, h_in) or h_in)
    elif h_out is not None:
        base = h_out
    if n_fft is not None:
        N = int(n_fft)
        if N < 16 or N != n_fft:
            raise ParameterError(f"n_fft must be an integer >= 16, got {n_fft!r}")
        dt = T / N
        if kind == "samples" and abs(h_in / dt - round(h_in / dt)) > 1e-9 * (h_in / dt):
            raise ParameterError("n_fft: period/n_fft must divide the inlet sample spacing")
    else:
        dt = max(dt_max, T / n_cap)
        if base is not None:
            m = max(1, math.ceil(base / dt - 1e-9))
            if kind == "samples" and T / (base / m) > n_cap:   # cap: keep dividing the inlet spacing
                m = max(1, math.floor(n_cap * base / T))
            dt = base / m
        N = sfft.next_fast_len(max(16, math.ceil(T / dt - 1e-9)), real=True)
        T = N * dt
    info.update(period=T, n_fft=N, dt=dt)

    # grid start: first user time >= 0 (aligned with a uniform user grid)
    first = np.searchsorted(t_arr, 0.0)
    t_a = float(t_arr[first])
    if h_out is None and kind != "samples":
        t_a = 0.0
    info["t_start"] = t_a

    m_idx = np.arange(N // 2 + 1)
    wm = 2.0 * math.pi * m_idx / T
    s = 1j * wm
    if kind in ("pulse", "step"):
        cin = c0 * t1 * np.exp(-0.5 * s * t1) * np.sinc(wm * t1 / (2.0 * math.pi))
    else:
        mi = int(round(h_in / dt))
        z = np.zeros(N)
        idx = np.arange(t_in.size) * mi
        if idx[-1] >= N:
            raise ParameterError("period too short for the inlet samples")
        z[idx] = c_in
        S = sfft.rfft(z)
        cin = h_in * np.sinc(wm * h_in / (2.0 * math.pi)) ** 2 * S
        cin -= c_in[0] * h_in * _hat_half(s * h_in)
        cin -= c_in[-1] * h_in * np.exp(-s * (t_in[-1] - t_in[0])) * _hat_half(-s * h_in)
        cin *= c0 * np.exp(-s * t_in[0])
    X = G_of(wm) * cin * np.exp(s * t_a)
    grid = sfft.irfft(X, n=N) * (N / T)

    pos = t_arr >= 0
    tp = t_arr[pos]
    j = (tp - t_a) / dt
    jr = np.rint(j)
    if np.all(np.abs(j - jr) < 1e-6) and jr.size and jr.min() >= 0 and jr.max() < N:
        out[pos] = grid[jr.astype(np.int64)]
    else:
        j0 = max(0, int(math.floor((tp[0] - t_a) / dt)) - 4)
        j1 = min(N, int(math.ceil((tp[-1] - t_a) / dt)) + 5)
        tg = t_a + dt * np.arange(j0, j1)
        spl = make_interp_spline(tg, grid[j0:j1], k=5)
        out[pos] = spl(tp)
    res = out[0] if t.ndim == 0 else out
    return (res, info) if full_output else res


# ---------------------------------------------------------------------------------------------------
# CHROM-GC-2/3: compressible carrier in a capillary
# ---------------------------------------------------------------------------------------------------

def _pressures(L, p0, pL):
    L = _positive("L", L)
    p0 = _positive("p0", p0)
    pL = _positive("pL", pL)
    if pL > p0:
        raise ParameterError(f"pL must be <= p0 (flow from inlet to outlet), got p0={p0}, pL={pL}")
    return L, p0, pL


def _position(x, L):
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)) or np.any(x < 0) or np.any(x > L * (1 + 1e-12)):
        raise ParameterError(f"x must lie in [0, L] = [0, {L}]")
    return np.minimum(x, L)


def _p_hat(x, L, p0, pL):
    return np.sqrt(1.0 - (1.0 - (pL / p0) ** 2) * x / L)


def pressure_profile(x, L, p0, pL):
    """Carrier pressure ``p(x)`` (Pa) in a capillary with isothermal ideal-gas Poiseuille flow (CHROM-GC-2):
    ``p/p0 = sqrt(1 - (1 - (pL/p0)^2) x / L)``, ``0 <= x <= L`` (m), inlet/outlet pressures ``p0 >= pL`` (Pa)."""
    L, p0, pL = _pressures(L, p0, pL)
    x = _position(x, L)
    p = p0 * _p_hat(x, L, p0, pL)
    return p[()] if p.ndim == 0 else p


def velocity_profile(x, L, u0, p0, pL):
    """Carrier velocity ``u(x) = u0 p0 / p(x)`` (m/s; the mass flux ``u p`` is constant), ``u0`` inlet
    velocity (m/s). See :func:`pressure_profile`."""
    L, p0, pL = _pressures(L, p0, pL)
    u0 = _positive("u0", u0)
    x = _position(x, L)
    v = u0 / _p_hat(x, L, p0, pL)
    return v[()] if v.ndim == 0 else v


def _travel(x, L, u0, p0, pL):
    eps = 1.0 - (pL / p0) ** 2
    if eps == 0:
        return x / u0
    y = eps * x / L
    # 1 - p_hat^3 = 1 - (1 - y)^{3/2}, without cancellation for small y
    return (L / u0) * 2.0 * (-np.expm1(1.5 * np.log1p(-y))) / (3.0 * eps)


def travel_time(x, L, u0, p0, pL):
    """Unretained travel time ``t0(x) = int_0^x dx'/u(x')`` (s) in the compressible capillary::

        t0(x) = (L/u0) 2 (1 - p_hat(x)^3) / (3 (1 - p_hat_L^2)),   p_hat = p/p0,  p_hat_L = pL/p0

    (paper eq. 46), evaluated without cancellation; ``p0 == pL`` gives the constant-velocity ``x/u0``.
    For the BTEX column ``t0(L) = 0.7006 L/u0 = 34.177 s``.
    """
    L, p0, pL = _pressures(L, p0, pL)
    u0 = _positive("u0", u0)
    x = _position(x, L)
    t0 = _travel(x, L, u0, p0, pL)
    return t0[()] if np.ndim(t0) == 0 else t0


def poiseuille_inlet_velocity(p0, pL, L, R, mu):
    """Inlet velocity (m/s) of compressible Poiseuille flow in a capillary of radius ``R`` (m):
    ``p0^2 - pL^2 = 16 mu u0 p0 L / R^2`` (``mu`` viscosity, Pa s). BTEX column: 0.4132 m/s
    (the paper uses 0.41 m/s)."""
    L, p0, pL = _pressures(L, p0, pL)
    R = _positive("R", R)
    mu = _positive("mu", mu)
    return (p0 - pL) * (p0 + pL) * R * R / (16.0 * mu * p0 * L)


@dataclasses.dataclass(frozen=True)
class GCColumn:
    """Open-tubular GC column with a compressible carrier (CHROM-GC-2/3).

    L : length (m); R : inner radius (m); delta : stationary-film thickness (m), phase ratio
    ``alpha = 2 delta / R``; u0 : inlet carrier velocity (m/s; ``None``: from Poiseuille with ``mu``);
    p0, pL : inlet/outlet pressure (Pa, ``pL <= p0``); mu : carrier viscosity (Pa s, optional);
    compressible : ``False`` gives the constant-velocity model (``u = u0``, ``t0 = x/u0``, no
    pressure factor) with the same parameters.

    With ``D = 0`` the compressible column is the constant-velocity column in travel time
    (paper eq. 49): ``c(x, t) = p_hat(x) * thomas_pulse(t, t0(x), alpha k_a t0(x), k_d, t1, c0)``.
    """

    L: float
    R: float
    delta: float
    u0: float | None
    p0: float
    pL: float
    mu: float | None = None
    compressible: bool = True

    def __post_init__(self):
        L, p0, pL = _pressures(self.L, self.p0, self.pL)
        R = _positive("R", self.R)
        delta = _positive("delta", self.delta)
        mu = None if self.mu is None else _positive("mu", self.mu)
        if self.u0 is None:
            if mu is None:
                raise ParameterError("u0 is None: give mu (viscosity, Pa s) to compute it from Poiseuille")
            u0 = poiseuille_inlet_velocity(p0, pL, L, R, mu)
        else:
            u0 = _positive("u0", self.u0)
        for k, v in dict(L=L, R=R, delta=delta, u0=u0, p0=p0, pL=pL, mu=mu).items():
            object.__setattr__(self, k, v)
        object.__setattr__(self, "compressible", bool(self.compressible))

    @property
    def alpha(self):
        """Phase ratio ``2 delta / R`` (= F of the LC model)."""
        return 2.0 * self.delta / self.R

    def _ratio(self):
        return self.pL / self.p0 if self.compressible else 1.0

    def pressure(self, x):
        """Pressure ``p(x)`` (Pa); ``p0`` everywhere if not compressible."""
        x = _position(x, self.L)
        p = self.p0 * _p_hat(x, self.L, self.p0, self.p0 * self._ratio())
        return p[()] if p.ndim == 0 else p

    def p_hat(self, x):
        """``p(x)/p0`` (the concentration factor of the compressible mapping)."""
        return self.pressure(x) / self.p0

    def velocity(self, x):
        """Carrier velocity ``u(x) = u0 p0 / p(x)`` (m/s)."""
        return self.u0 / self.p_hat(x)

    def diffusivity(self, x, D0):
        """Gas diffusivity ``D(x) = D0 p0 / p(x)`` (m²/s), ``D0`` at inlet pressure."""
        return _nonneg("D0", D0) / self.p_hat(x)

    def travel_time(self, x):
        """Unretained travel time ``t0(x)`` (s), see :func:`travel_time`."""
        x = _position(x, self.L)
        t0 = _travel(x, self.L, self.u0, self.p0, self.p0 * self._ratio())
        return t0[()] if np.ndim(t0) == 0 else t0

    @property
    def t0(self):
        """Outlet travel time ``t0(L)`` (s)."""
        return float(self.travel_time(self.L))

    def poiseuille_u0(self):
        """Inlet velocity implied by the pressures, radius and viscosity (check of ``u0``)."""
        if self.mu is None:
            raise ParameterError("mu (viscosity) is needed for the Poiseuille inlet velocity")
        return poiseuille_inlet_velocity(self.p0, self.pL, self.L, self.R, self.mu)

    def n(self, x, k_a):
        """Number of adsorption events up to ``x``: ``alpha k_a t0(x)``."""
        return self.alpha * _nonneg("k_a", k_a) * self.travel_time(x)

    def concentration(self, t, x, k_a, k_d, c0, t1):
        """Mobile-phase concentration ``c(x, t)`` for a rectangular injection (``c0`` for ``t1`` s) with
        ``D = 0`` (exact, paper eq. 49). ``x`` scalar or array (m); output shape ``x.shape + t.shape``."""
        k_a = _nonneg("k_a", k_a)
        k_d = _nonneg("k_d", k_d)
        x = _position(x, self.L)
        t0 = self.travel_time(x)
        c = thomas_pulse(t, t0, self.alpha * k_a * t0, k_d, t1, c0)
        fac = np.asarray(self.p_hat(x))
        return c * (fac[..., None] if np.ndim(t) else fac)

    def outlet(self, t, k_a, k_d, c0, t1):
        """Outlet concentration ``c(L, t)`` (mol/m³ if ``c0`` is), ``D = 0``."""
        return self.concentration(t, self.L, k_a, k_d, c0, t1)

    def moments(self, k_a, k_d, t1):
        """Mean (s) and variance (s²) of the outlet peak (``D = 0``):
        ``mu1 = t0 (1 + alpha K) + t1/2``, ``sigma2 = 2 n / k_d^2 + t1^2/12``, ``n = alpha k_a t0(L)``."""
        k_a = _nonneg("k_a", k_a)
        k_d = _positive("k_d", k_d)
        t1 = _nonneg("t1", t1)
        n = self.alpha * k_a * self.t0
        return self.t0 + n / k_d + 0.5 * t1, 2.0 * n / k_d ** 2 + t1 * t1 / 12.0


# ---------------------------------------------------------------------------------------------------
# CHROM-GC-5/6: the BTEX experiment and the synthetic chromatogram
# ---------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Analyte:
    """One BTEX analyte (paper Tables 2–3).

    name; k_a (1/s), k_d (1/s) fitted rate constants (``K = k_a/k_d``); c0 injected concentration
    (mol/m³; p+m-xylene counts twice); f detector factor (a.u. per mol/m³, ``f = A p0/(c0 t1 pL)``);
    calibration (a.u. s / ppb); ppb injected level; Pe_inv (Table 3, at the inlet);
    D0 diffusivity at inlet pressure (m²/s) derived as ``Pe_inv u0 L*``, ``L* = 1.8722e-3 m``.
    """

    name: str
    k_a: float
    k_d: float
    c0: float
    f: float
    calibration: float
    ppb: float
    Pe_inv: float
    D0: float

    @property
    def K(self):
        return self.k_a / self.k_d


@dataclasses.dataclass(frozen=True)
class BTEXData:
    """BTEX set-up of Cabrera-Codony et al. (2024), Tables 1–3 (experiment: Nasreddine et al. 2016,
    Fig. 6, 20 ppb). ``analytes`` in the paper's order i = 1..5 (o-xylene, p+m-xylene,
    ethylbenzene, toluene, benzene); ``t1`` injection time (s); ``baseline`` detector baseline (a.u.);
    ``temperature`` (K)."""

    column: GCColumn
    analytes: tuple
    t1: float
    baseline: float
    temperature: float

    def analyte(self, name):
        for a in self.analytes:
            if a.name == name:
                return a
        raise ParameterError(f"unknown analyte {name!r}; known: {[a.name for a in self.analytes]}")


_BTEX_C0 = 2.732e-6           # mol/m^3: 20 ppb at 4.01 bar, 353.15 K
_BTEX_LSTAR = 1.8722e-3       # m, the paper's L* (Table 3 footer)
_BTEX_TABLE = (
    # name, k_a (1/s), k_d (1/s), c0 multiplier, f (a.u. per mol/m^3), calibration (a.u. s/ppb), Pe_inv
    ("o-xylene", 1.0168e4, 14.291, 1, 1.8708e8, 25.82, 2.6926e-3),
    ("p+m-xylene", 0.6483e4, 11.057, 2, 2.5557e8, 35.28, 2.6926e-3),
    ("ethylbenzene", 0.9203e4, 16.940, 1, 2.0356e8, 28.10, 3.1069e-3),
    ("toluene", 0.2953e4, 11.502, 1, 3.3584e8, 46.36, 3.3968e-3),
    ("benzene", 0.0579e4, 5.299, 1, 4.1997e8, 57.97, 3.7696e-3),
)


def btex(compressible=True):
    """The BTEX column and analytes of the paper (CHROM-GC-5), as a :class:`BTEXData`.

    Column (Table 1): L = 20 m, R = 9e-5 m, delta = 1e-6 m (alpha = 0.02222), u0 = 0.41 m/s,
    p0 = 4.01e5 Pa, pL = 1.013e5 Pa, mu = 2.3e-5 Pa s, T = 353.15 K; t1 = 4 s; baseline 3935.4 a.u.
    Analytes (Tables 2–3): k_a, k_d fitted; c0 = 2.732e-6 mol/m³ (p+m-xylene 2 c0, 40 ppb);
    f_i detector factors. ``compressible=False`` gives the constant-velocity column.
    """
    col = GCColumn(L=20.0, R=9e-5, delta=1e-6, u0=0.41, p0=4.01e5, pL=1.013e5, mu=2.3e-5,
                   compressible=compressible)
    analytes = tuple(
        Analyte(name=nm, k_a=ka, k_d=kd, c0=m * _BTEX_C0, f=f, calibration=cal, ppb=20.0 * m,
                Pe_inv=pe, D0=pe * col.u0 * _BTEX_LSTAR)
        for nm, ka, kd, m, f, cal, pe in _BTEX_TABLE)
    return BTEXData(column=col, analytes=analytes, t1=4.0, baseline=3935.4, temperature=353.15)


def btex_chromatogram(t, noise=0.0, seed=None, compressible=True, return_components=False):
    """Synthetic BTEX detector signal (CHROM-GC-6): ``I(t) = 3935.4 + sum_i f_i c_i(L, t)`` (a.u.).

    ``c_i`` from the dispersion-free closed form with variable velocity (``compressible=True``, the
    paper's model) or constant velocity. ``noise``: standard deviation (a.u.) of added Gaussian
    noise (``numpy.random.default_rng(seed)``). ``return_components=True`` also returns a dict
    ``name -> f_i c_i(L, t)`` (noise-free, without baseline).
    """
    t = _times(t)
    noise = _nonneg("noise", noise)
    data = btex(compressible=compressible)
    col = data.column
    comps = {a.name: a.f * col.outlet(t, a.k_a, a.k_d, a.c0, data.t1) for a in data.analytes}
    signal = data.baseline + sum(comps.values())
    if noise > 0:
        rng = np.random.default_rng(seed)
        signal = signal + noise * rng.standard_normal(np.shape(signal))
    return (signal, comps) if return_components else signal


# ---------------------------------------------------------------------------------------------------
# V5: ideal model, single-component Langmuir, rectangular pulse
# ---------------------------------------------------------------------------------------------------

class LangmuirPulseTimes(NamedTuple):
    """Characteristic quantities of the ideal Langmuir pulse at position L (times in s).

    t0 unretained time L/u; x_star interaction distance (m; inf without retention); interacting
    (L >= x_star); c_shock shock height (c0 if not interacting); t_shock front shock time;
    t_plateau_end end of the c0 plateau (= t_shock if interacting); t_tail_end end of the rear
    simple wave (c = 0 afterwards)."""

    t0: float
    x_star: float
    interacting: bool
    c_shock: float
    t_shock: float
    t_plateau_end: float
    t_tail_end: float


def _langmuir_params(L, u, F, q_m, b, c0, t1):
    return (_positive("L", L), _positive("u", u), _nonneg("F", F), _nonneg("q_m", q_m),
            _positive("b", b), _positive("c0", c0), _positive("t1", t1))


def _langmuir_times(L, u, F, q_m, b, c0, t1):
    t0 = L / u
    a = q_m * b
    A = F * a * t0
    bc0 = b * c0
    if A == 0:
        return LangmuirPulseTimes(t0, math.inf, False, c0, t0, t0 + t1, t0 + t1)
    x_star = u * t1 * (1.0 + bc0) ** 2 / (F * a * bc0)
    t_tail = t1 + t0 + A
    if L < x_star:
        t_f = t0 + A / (1.0 + bc0)
        t_r = t1 + t0 + A / (1.0 + bc0) ** 2
        return LangmuirPulseTimes(t0, x_star, False, c0, t_f, t_r, t_tail)
    r = math.sqrt(bc0 * t1 / A)          # 1 - 1/y_s
    y_s = 1.0 / (1.0 - r)
    c_s = (y_s - 1.0) / b
    t_s = t1 + t0 + A / (y_s * y_s)
    return LangmuirPulseTimes(t0, x_star, True, c_s, t_s, t_s, t_tail)


def langmuir_ideal_times(L, u, F, q_m, b, c0, t1):
    """Shock/plateau/tail times of the ideal Langmuir pulse (V5), as :class:`LangmuirPulseTimes`.

    Ideal model ``c_t + F q_t + u c_x = 0``, ``q = q_m b c/(1 + b c)`` (Henry constant ``a = q_m b``),
    rectangular injection ``c0`` on ``[0, t1)``, observation at ``x = L`` (any ``L > 0``)::

        t0 = L/u,  A = F a t0,  x* = u t1 (1 + b c0)^2 / (F a b c0)
        L < x*:  shock c0 at t_f = t0 + A/(1 + b c0); plateau to t_r = t1 + t0 + A/(1 + b c0)^2
        L >= x*: shock c_s = (y_s - 1)/b, (1 - 1/y_s)^2 = b c0 t1 / A, at t_s = t1 + t0 + A/y_s^2
        rear simple wave c(t) = (sqrt(A/(t - t1 - t0)) - 1)/b, ending at t1 + t0 + A.

    LANG-1 (L = 0.6, u = 0.6/190, F = 3/7, q_m = 100, b = 0.02, c0 = 10): t1 = 60 s → t_f = 325.714,
    t_r = 363.095, tail end 412.857 s; t1 = 10 s → c_s = 6.2315, t_s = 328.762, tail end 362.857 s.
    """
    return _langmuir_times(*_langmuir_params(L, u, F, q_m, b, c0, t1))


def langmuir_ideal_pulse(t, L, u, F, q_m, b, c0, t1):
    """Outlet concentration of the ideal single-component Langmuir column, rectangular pulse (V5).

    Parameters and regimes as in :func:`langmuir_ideal_times`: a self-sharpening front shock
    (height ``c0``, or ``c_s < c0`` once the rear simple wave has caught it, ``L >= x*``), the
    plateau ``c0`` (non-interacting case only) and the centred rarefaction from ``(x = 0, t = t1)``.
    The shock is taken right-continuous (``c(t_shock) = c_shock``). Mass ``int c dt = c0 t1``
    exactly. Output shape = ``t.shape``.
    """
    t = _times(t)
    L, u, F, q_m, b, c0, t1 = _langmuir_params(L, u, F, q_m, b, c0, t1)
    tm = _langmuir_times(L, u, F, q_m, b, c0, t1)
    A = F * q_m * b * tm.t0
    out = np.zeros(t.shape)
    plateau = (t >= tm.t_shock) & (t < tm.t_plateau_end)
    out[plateau] = c0
    fan = (t >= max(tm.t_shock, tm.t_plateau_end)) & (t < tm.t_tail_end)
    if np.any(fan):
        tau = t[fan] - t1 - tm.t0
        out[fan] = np.clip((np.sqrt(A / tau) - 1.0) / b, 0.0, c0)
    return out[()] if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------------------
# V3: semi-infinite equilibrium column, Dirichlet inlet (Lapidus–Amundson / Ogata–Banks)
# ---------------------------------------------------------------------------------------------------

def lapidus_amundson(t, x, u, D, F, K, c0, t1):
    """Semi-infinite linear equilibrium column with a Dirichlet inlet pulse (V3; sanity check only).

    Retarded velocity ``v = u/(1 + F K)`` and dispersion ``D' = D/(1 + F K)``; step response::

        c/c0 = 1/2 [ erfc((x - v t)/(2 sqrt(D' t))) + exp(v x/D') erfc((x + v t)/(2 sqrt(D' t))) ]

    with the second term written ``exp(-z1^2) erfcx(z2)`` (``z1, z2`` the two erfc arguments), which
    cannot overflow. Pulse = step(t) - step(t - t1). ``x > 0`` (m) scalar; ``D > 0``. Differs from the
    finite closed–closed column (:func:`outlet_linear`) by O(1/Pe) because of the boundary conditions.
    """
    t = _times(t)
    x = _positive("x", x)
    u = _positive("u", u)
    D = _positive("D", D)
    F = _nonneg("F", F)
    K = _nonneg("K", K)
    c0 = _positive("c0", c0)
    t1 = _positive("t1", t1, allow_inf=True)
    R = 1.0 + F * K
    v, Dp = u / R, D / R

    def step(tt):
        out = np.zeros(tt.shape)
        p = tt > 0
        tp = tt[p]
        w = 2.0 * np.sqrt(Dp * tp)
        z1 = (x - v * tp) / w
        z2 = (x + v * tp) / w
        out[p] = 0.5 * (special.erfc(z1) + np.exp(-z1 * z1) * special.erfcx(z2))
        return out

    ta = np.atleast_1d(t)
    c = step(ta)
    if not math.isinf(t1):
        c = c - step(ta - t1)
    c = c0 * np.maximum(c, 0.0)
    return c[0] if t.ndim == 0 else c
