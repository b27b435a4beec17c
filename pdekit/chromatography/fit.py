"""Fitting the kinetic GC model to a chromatogram: moments, moment-based start values, least squares.

The model is the dispersion-free closed form of Cabrera-Codony et al. (2024) (research note
``chromatography.md``, CHROM-GC-3/6): the detector signal is

    I(t) = b + sum_i f_i c_i(L, t; k_a,i, k_d,i),     c_i = GCColumn.outlet(t, k_a,i, k_d,i, c0_i, t1)

(evaluated here by an equivalent quadrature of the Thomas kernel between the sample times, anchored
by one Marcum-Q value: same values to ~1e-14 of the peak, ~15x faster than ``thomas_pulse``)
with a known detector factor ``f_i`` (a.u. per mol/m³), injected concentration ``c0_i`` and injection
length ``t1``; per analyte only ``k_a`` and ``k_d`` are fitted (as in the paper, Table 3), optionally a
constant baseline ``b``. The column is a :class:`~pdekit.chromatography.exact.GCColumn`; by default its
own ``compressible`` setting decides between the variable-velocity model (the paper's choice, the
default of ``GCColumn``) and the constant-velocity one.

Contents
--------
* :func:`chromatogram_moments`: area, mean and variance of a (baseline-subtracted) peak in a window.
* :func:`start_values`: moment inversion (CHROM-GC-3)::

      K = (mu1 - t1/2 - t0) / (alpha t0),   k_d = 2 alpha K t0 / (sigma^2 - t1^2/12),   k_a = K k_d

  with ``t0`` the unretained travel time through the column (``GCColumn.t0``).
* :func:`fit_chromatogram`: nonlinear least squares (``scipy.optimize.least_squares``, analytic
  Jacobian) in ``log k_a, log k_d``; returns a :class:`ChromatogramFit` with estimates, standard
  errors, correlations, SSE, R², the fitted curve and :meth:`ChromatogramFit.summary`.
* :func:`load_chromatogram`: read a two-column CSV (``time_s,signal_au``), e.g. ``data/btex/``.

Overlapping peaks (``method="separate"``, the default): every analyte is fitted on its own time window,
as in the paper; analytes whose windows overlap (BTEX: ethylbenzene and p+m-xylene) form a group that
is fitted *jointly* on the union of its windows, and inside every window the current model of all
analytes outside the group (their tails) is subtracted. Groups are swept until the estimates stop
changing (block Gauss–Seidel, usually 2–3 sweeps). ``method="joint"`` fits all analytes (and the
baseline) at once on the union of all windows, with the full covariance matrix.

Analytic Jacobian. With ``Phi(tau) = Q_1(sqrt(2 k_d tau), sqrt(2 n))`` the cumulative response of
:func:`~pdekit.chromatography.exact.thomas_cdf` (``x = k_d tau``, ``n = alpha k_a t0``)::

    n dPhi/dn      = -n exp(-(sqrt n - sqrt x)^2) i0e(2 sqrt(n x))
    k_d dPhi/dk_d  = sqrt(n x) exp(-(sqrt n - sqrt x)^2) i1e(2 sqrt(n x))

(derivatives of the Marcum Q function), and the pulse is ``c0 p_hat(L) [Phi(tau) - Phi(tau - t1)]``.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import time as _time
import warnings
from typing import NamedTuple

import numpy as np
from scipy import special
from scipy.optimize import least_squares

from ..errors import ParameterError
from .exact import GCColumn, thomas_cdf

__all__ = ["Moments", "StartValues", "AnalyteSpec", "AnalyteFit", "ChromatogramFit",
           "chromatogram_moments", "start_values", "fit_chromatogram", "load_chromatogram"]

_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 has only trapz


# ---------------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------------

def _real(name, value):
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ParameterError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ParameterError(f"{name} must be finite, got {v}")
    return v


def _positive(name, value):
    v = _real(name, value)
    if not v > 0:
        raise ParameterError(f"{name} must be > 0, got {v}")
    return v


def _times(t, name="t", min_size=2):
    try:
        a = np.asarray(t, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a 1-D array of times, got {type(t).__name__}") from None
    if a.ndim != 1:
        raise ParameterError(f"{name} must be a 1-D array, got shape {a.shape}")
    if a.size < min_size:
        raise ParameterError(f"{name} must hold at least {min_size} times, got {a.size}")
    if not np.all(np.isfinite(a)):
        bad = int(np.flatnonzero(~np.isfinite(a))[0])
        raise ParameterError(f"{name} must contain finite times; {name}[{bad}] = {a[bad]}")
    d = np.diff(a)
    if not np.all(d > 0):
        bad = int(np.flatnonzero(~(d > 0))[0])
        raise ParameterError(f"{name} must be strictly increasing; {name}[{bad}] = {a[bad]} >= "
                             f"{name}[{bad + 1}] = {a[bad + 1]}")
    return a


def _signal(signal, t, name="signal"):
    try:
        y = np.asarray(signal, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a 1-D array of numbers") from None
    if y.ndim != 1:
        raise ParameterError(f"{name} must be a 1-D array, got shape {y.shape}")
    if y.shape != t.shape:
        raise ParameterError(f"{name} and t must have the same length, got {y.size} and {t.size}")
    if not np.all(np.isfinite(y)):
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ParameterError(f"{name} must be finite (no nan/inf); {name}[{bad}] = {y[bad]} at t = {t[bad]}")
    return y


def _window(window, t, name="window", min_points=5):
    """A (lo, hi) pair inside the data range with at least ``min_points`` samples -> bool mask."""
    try:
        lo, hi = window
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a pair (t_start, t_end), got {window!r}") from None
    lo, hi = _real(f"{name} start", lo), _real(f"{name} end", hi)
    if not lo < hi:
        raise ParameterError(f"{name} must have t_start < t_end, got ({lo}, {hi})")
    span = t[-1] - t[0]
    tol = 1e-9 * max(span, abs(t[0]), abs(t[-1]))
    if lo < t[0] - tol or hi > t[-1] + tol:
        raise ParameterError(f"{name} ({lo}, {hi}) lies (partly) outside the data range "
                             f"[{t[0]}, {t[-1]}]")
    mask = (t >= lo - tol) & (t <= hi + tol)
    if mask.sum() < min_points:
        raise ParameterError(f"{name} ({lo}, {hi}) holds {int(mask.sum())} samples; at least "
                             f"{min_points} are needed")
    return (lo, hi), mask


def _column(column, compressible):
    if not isinstance(column, GCColumn):
        raise ParameterError(f"column must be a GCColumn, got {type(column).__name__}")
    if compressible is None:
        return column
    if not isinstance(compressible, (bool, np.bool_)):
        raise ParameterError(f"compressible must be True, False or None, got {compressible!r}")
    if bool(compressible) == column.compressible:
        return column
    return dataclasses.replace(column, compressible=bool(compressible))


def _baseline_arg(baseline):
    if baseline is None:
        return 0.0
    if isinstance(baseline, str):
        if baseline != "fit":
            raise ParameterError(f"baseline must be None, a number or 'fit', got {baseline!r}")
        return "fit"
    return _real("baseline", baseline)


# ---------------------------------------------------------------------------------------------------
# moments and start values
# ---------------------------------------------------------------------------------------------------

class Moments(NamedTuple):
    """Zeroth moment ``area`` (signal units × s), mean ``mean`` (s) and variance ``variance`` (s²)."""

    area: float
    mean: float
    variance: float


def _moments(t, y):
    m0 = float(_trapezoid(y, t))
    if not m0 > 0:
        raise ParameterError(f"the peak area in the window is {m0:g} <= 0: no peak above the baseline "
                             "(check the window and the baseline)")
    mu = float(_trapezoid(t * y, t)) / m0
    var = float(_trapezoid((t - mu) ** 2 * y, t)) / m0
    return Moments(m0, mu, var)


def chromatogram_moments(t, signal, baseline=None, window=None):
    """Area, mean and variance of a peak: ``m0 = int (I - b) dt``, ``mu1 = int t (I - b) dt / m0``,
    ``sigma2 = int (t - mu1)^2 (I - b) dt / m0`` (trapezoidal rule on the samples).

    t : 1-D strictly increasing finite times (s); signal : same length, finite.
    baseline : ``None`` (signal already baseline-free), a number, or an array like ``signal``.
    window : ``None`` (all samples) or ``(t_start, t_end)`` inside the data range.
    Returns :class:`Moments`. Raises :class:`ParameterError` if the area is not positive.
    """
    t = _times(t)
    y = _signal(signal, t)
    if baseline is not None:
        if np.ndim(baseline) == 0:
            y = y - _real("baseline", baseline)
        else:
            y = y - _signal(baseline, t, "baseline")
    if window is not None:
        _, mask = _window(window, t, min_points=3)
        t, y = t[mask], y[mask]
    return _moments(t, y)


class StartValues(NamedTuple):
    """Moment-inversion estimates ``k_a`` (1/s), ``k_d`` (1/s) and ``K = k_a/k_d``."""

    k_a: float
    k_d: float
    K: float


def start_values(mean, variance, column, t1, *, compressible=None):
    """Invert the outlet-peak moments of the dispersion-free GC model (CHROM-GC-3)::

        K   = (mu1 - t1/2 - t0) / (alpha t0)
        k_d = 2 alpha K t0 / (sigma^2 - t1^2/12)
        k_a = K k_d

    mean, variance : ``mu1`` (s), ``sigma^2`` (s²) of the peak (:func:`chromatogram_moments`);
    column : :class:`GCColumn` (``t0 = column.t0``, the outlet travel time; ``alpha`` its phase ratio);
    t1 : injection length (s); compressible : override ``column.compressible`` (``None``: keep).
    Exact for the model (the moments are exact for both velocity models). Returns :class:`StartValues`.
    """
    col = _column(column, compressible)
    mu1 = _real("mean", mean)
    var = _positive("variance", variance)
    t1 = _positive("t1", t1)
    t0, alpha = col.t0, col.alpha
    ret = mu1 - 0.5 * t1 - t0
    if not ret > 0:
        raise ParameterError(f"mean {mu1:g} s <= t0 + t1/2 = {t0 + 0.5 * t1:g} s: the peak elutes no later "
                             "than an unretained solute (wrong window, baseline or column?)")
    kin = var - t1 * t1 / 12.0
    if not kin > 0:
        raise ParameterError(f"variance {var:g} s² <= t1²/12 = {t1 * t1 / 12:g} s²: the peak is narrower "
                             "than the injection alone (wrong window, baseline or t1?)")
    K = ret / (alpha * t0)
    k_d = 2.0 * alpha * K * t0 / kin
    return StartValues(K * k_d, k_d, K)


# ---------------------------------------------------------------------------------------------------
# model and analytic Jacobian
# ---------------------------------------------------------------------------------------------------

def _dphi(tau, n, k_d):
    """``(n dPhi/dn, k_d dPhi/dk_d)`` of the Thomas cumulative response at ``tau`` (0 for tau < 0)."""
    dn = np.zeros(tau.shape)
    dk = np.zeros(tau.shape)
    pos = tau > 0
    x = k_d * tau[pos]
    sx = np.sqrt(x)
    sn = math.sqrt(n)
    z = 2.0 * sn * sx
    e = np.exp(-(sn - sx) ** 2)
    dn[pos] = -n * e * special.i0e(z)
    dk[pos] = sn * sx * e * special.i1e(z)
    dn[tau == 0] = -n * math.exp(-n)
    return dn, dk


_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)


def _kernel(T, n, k_d):
    """Thomas kernel ``k(T)`` for ``T > 0`` (see :func:`~pdekit.chromatography.exact.thomas_kernel`)."""
    x = k_d * T
    sn, sx = math.sqrt(n), np.sqrt(x)
    return np.exp(-(sn - sx) ** 2) * special.i1e(2.0 * sn * sx) * np.sqrt(n * k_d / T)


def _pulse(tau, n, k_d, t1):
    """``c/c0`` of the Thomas pulse at the increasing times ``tau = t - t0`` (same values as
    :func:`~pdekit.chromatography.exact.thomas_pulse`, ~1e-15 absolutely, but ~30x faster).

    ``c/c0 = e^{-n} 1{0 <= tau < t1} + P(tau) - P(tau - t1)``, ``P(s) = int_0^s k(T) dT`` (0 for s <= 0).
    ``P`` is needed at the merged, sorted nodes ``{tau} u {tau - t1}`` (> 0): one anchor value
    ``P(s_0) = Phi(s_0) - e^{-n}`` (Marcum Q through :func:`thomas_cdf`), then the kernel integrated
    between consecutive nodes by 8-point Gauss–Legendre on panels no wider than half the kernel's
    width ``sqrt(2 n + 1)/k_d`` (the kernel is analytic for T > 0), accumulated by a cumulative sum.
    """
    a = tau
    b = tau - t1
    nodes = np.unique(np.concatenate([a[a > 0], b[b > 0]]))
    out = np.where((a >= 0) & (a < t1), math.exp(-n), 0.0)
    if nodes.size == 0:
        return out
    P = np.empty(nodes.size)
    P[0] = max(float(thomas_cdf(nodes[0], n, k_d)) - math.exp(-n), 0.0)
    if nodes.size > 1:
        gaps = np.diff(nodes)
        h_max = 0.5 * math.sqrt(2.0 * n + 1.0) / k_d
        m = np.maximum(1, np.ceil(gaps / h_max).astype(np.int64))
        gi = np.repeat(np.arange(gaps.size), m)                       # gap of every panel
        first = np.concatenate([[0], np.cumsum(m)[:-1]])
        k = np.arange(gi.size) - first[gi]                            # panel index inside its gap
        h = gaps[gi] / m[gi]
        lo = nodes[gi] + k * h
        T = lo[:, None] + (0.5 * h)[:, None] * (_GL_X + 1.0)[None, :]
        panel = (0.5 * h) * (_kernel(T, n, k_d) @ _GL_W)
        P[1:] = P[0] + np.cumsum(np.add.reduceat(panel, first))
    ia = a > 0
    out[ia] += P[np.searchsorted(nodes, a[ia])]
    ib = b > 0
    out[ib] -= P[np.searchsorted(nodes, b[ib])]
    return np.maximum(out, 0.0)


class _Peak:
    """One analyte's detector response ``f c(L, t)`` on increasing times, and its derivatives with
    respect to ``log k_a`` and ``log k_d``."""

    def __init__(self, col, t1, amp):
        self.t0 = col.t0
        self.alpha = col.alpha
        self.fac = float(col.p_hat(col.L))
        self.t1 = t1
        self.amp = amp  # f * c0

    def area(self):
        """Exact peak area ``f c0 t1 p(L)/p0`` (mass balance)."""
        return self.amp * self.fac * self.t1

    def _support(self, t, k_a, k_d):
        """Mask of the times where the pulse exceeds ~1e-18 of its size: stationary-phase time T in
        [mean - 15 sd, mean + 30 sd + 45/k_d], plus the injection length."""
        n = self.alpha * k_a * self.t0
        mT, sT = n / k_d, math.sqrt(2.0 * n) / k_d
        lo = self.t0 + max(0.0, mT - 15.0 * sT)
        hi = self.t0 + mT + 30.0 * sT + 45.0 / k_d + self.t1
        return (t >= lo) & (t <= hi)

    def value(self, t, k_a, k_d):
        n = self.alpha * k_a * self.t0
        out = np.zeros(t.shape)
        m = self._support(t, k_a, k_d)
        if m.any():
            out[m] = (self.amp * self.fac) * _pulse(t[m] - self.t0, n, k_d, self.t1)
        return out

    def jac(self, t, k_a, k_d):
        n = self.alpha * k_a * self.t0
        ja, jd = np.zeros(t.shape), np.zeros(t.shape)
        m = self._support(t, k_a, k_d)
        if m.any():
            tau = t[m] - self.t0
            dn_a, dk_a = _dphi(tau, n, k_d)
            dn_b, dk_b = _dphi(tau - self.t1, n, k_d)
            s = self.amp * self.fac
            ja[m], jd[m] = s * (dn_a - dn_b), s * (dk_a - dk_b)
        return ja, jd

    def moments(self, k_a, k_d):
        """Exact area, mean and variance of the peak."""
        n = self.alpha * k_a * self.t0
        return self.area(), self.t0 + n / k_d + 0.5 * self.t1, 2.0 * n / k_d ** 2 + self.t1 ** 2 / 12.0


# ---------------------------------------------------------------------------------------------------
# analyte specification and results
# ---------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class AnalyteSpec:
    """What :func:`fit_chromatogram` needs to know about one analyte.

    name; c0 injected concentration (mol/m³); f detector factor (signal units per mol/m³);
    window ``(t_start, t_end)`` (s) to fit on (``None``: from ``guess``: ``mu1 - 6 sigma`` to
    ``mu1 + 8 sigma`` of the guessed peak, clipped to the data); guess ``(k_a, k_d)`` start values
    (``None``: moment inversion on the window). At least one of window and guess is needed.
    """

    name: str
    c0: float
    f: float
    window: tuple | None = None
    guess: tuple | None = None


@dataclasses.dataclass(frozen=True)
class AnalyteFit:
    """Fit result for one analyte.

    k_a, k_d (1/s), K = k_a/k_d with standard errors ``*_se`` (delta method from the log-parameter
    covariance), ``corr`` the k_a–k_d correlation; ``start`` the start values (:class:`StartValues`),
    ``start_source`` ("moments" or "guess"); ``window`` and ``n_points`` of the analyte's own window,
    ``sse`` (signal units²) and ``r2`` of the full fitted model (all analytes + baseline) on it;
    ``group`` the analytes fitted jointly with it; ``cov_log`` the 2×2 covariance of (log k_a, log k_d).
    """

    name: str
    k_a: float
    k_d: float
    K: float
    k_a_se: float
    k_d_se: float
    K_se: float
    corr: float
    start: StartValues
    start_source: str
    window: tuple
    n_points: int
    sse: float
    r2: float
    group: tuple
    cov_log: np.ndarray = dataclasses.field(repr=False)

    @property
    def rel_se(self):
        """Relative standard errors ``(k_a_se/k_a, k_d_se/k_d)``."""
        return self.k_a_se / self.k_a, self.k_d_se / self.k_d


@dataclasses.dataclass(frozen=True)
class ChromatogramFit:
    """Result of :func:`fit_chromatogram`.

    analytes : tuple of :class:`AnalyteFit` (also ``fit["benzene"]``); baseline (signal units; the
    given value, or the fitted one: with ``method="separate"`` and ``baseline="fit"`` every group has its
    own constant, see ``group_baselines``, and ``baseline`` is their inverse-variance mean);
    baseline_se (0 if fixed); t, signal the data; fitted the model curve (baseline + all analytes) on
    ``t``; components ``name -> f c(L, t)``; residual = signal - fitted; used the mask of samples inside
    the fitted windows; sse, r2, dof over the used samples; s the residual standard deviation used for
    the errors (``noise`` if given, else ``sqrt(SSE / dof)`` per fit block); chi2_red the reduced
    chi-square ``sum (r/noise)^2 / dof`` if ``noise`` was given (≈ 1 when the model and the noise
    level fit the data); param_names / cov_log the
    covariance of the fitted log-parameters (block diagonal across groups for ``method="separate"``);
    method, groups, compressible, sweeps (block sweeps), nfev (model evaluations), success, message,
    runtime (s).
    """

    analytes: tuple
    baseline: float
    baseline_se: float
    group_baselines: tuple
    t: np.ndarray = dataclasses.field(repr=False)
    signal: np.ndarray = dataclasses.field(repr=False)
    fitted: np.ndarray = dataclasses.field(repr=False)
    components: dict = dataclasses.field(repr=False)
    used: np.ndarray = dataclasses.field(repr=False)
    sse: float = 0.0
    r2: float = 0.0
    dof: int = 0
    s: float = 0.0
    noise: object = None
    chi2_red: float | None = None
    param_names: tuple = ()
    cov_log: np.ndarray = dataclasses.field(default=None, repr=False)
    method: str = "separate"
    groups: tuple = ()
    compressible: bool = True
    sweeps: int = 0
    nfev: int = 0
    success: bool = True
    message: str = ""
    runtime: float = 0.0
    _model: object = dataclasses.field(default=None, repr=False)

    @property
    def residual(self):
        return self.signal - self.fitted

    def __getitem__(self, name):
        for a in self.analytes:
            if a.name == name:
                return a
        raise KeyError(f"unknown analyte {name!r}; fitted: {[a.name for a in self.analytes]}")

    @property
    def names(self):
        return tuple(a.name for a in self.analytes)

    def curve(self, t=None, components=False):
        """The fitted model (baseline + all analytes) at times ``t`` (default: the data times);
        ``components=True`` also returns the dict of per-analyte curves (without baseline)."""
        if t is None:
            return (self.fitted, dict(self.components)) if components else self.fitted
        t = np.atleast_1d(_times(t, min_size=1))
        comps = {a.name: self._model[a.name].value(t, a.k_a, a.k_d) for a in self.analytes}
        y = self.baseline + sum(comps.values())
        return (y, comps) if components else y

    def summary(self, truth=None):
        """A plain-text table: per analyte start values, fitted k_a, k_d (± standard error), K, the
        k_a–k_d correlation, SSE and R² on its window. ``truth``: optional mapping
        ``name -> (k_a, k_d)`` adds the relative errors of the fit."""
        lines = []
        model = "variable velocity (compressible)" if self.compressible else "constant velocity"
        lines.append(f"GC kinetic model fit: {model}, method={self.method}, groups="
                     + ", ".join("+".join(g) for g in self.groups))
        noise = (f"noise sigma = {self.noise:g} (given)" if isinstance(self.noise, float)
                 else "noise from residuals" if self.noise is None else "noise sigma per sample (given)")
        bl = (f"baseline = {self.baseline:.6g} ± {self.baseline_se:.2g}" if self.baseline_se
              else f"baseline = {self.baseline:.6g} (fixed)")
        chi = "" if self.chi2_red is None else f"; chi2/dof = {self.chi2_red:.4f}"
        lines.append(f"{bl}; {noise}{chi}; s = {self.s:.4g}; SSE = {self.sse:.6g}; R² = {self.r2:.6f}; "
                     f"N = {int(self.used.sum())}, dof = {self.dof}; sweeps = {self.sweeps}; "
                     f"nfev = {self.nfev}; {self.runtime:.2f} s")
        hdr = (f"{'analyte':<14} {'start k_a':>10} {'start k_d':>9} {'k_a (1/s)':>12} {'± se':>9} "
               f"{'k_d (1/s)':>10} {'± se':>8} {'K':>9} {'± se':>7} {'corr':>8} {'SSE':>10} {'R²':>8}")
        if truth is not None:
            hdr += f" {'err k_a':>9} {'err k_d':>9}"
        lines.append(hdr)
        lines.append("-" * len(hdr))
        for a in self.analytes:
            row = (f"{a.name:<14} {a.start.k_a:10.5g} {a.start.k_d:9.5g} {a.k_a:12.7g} {a.k_a_se:9.3g} "
                   f"{a.k_d:10.6g} {a.k_d_se:8.3g} {a.K:9.6g} {a.K_se:7.2g} {a.corr:8.5f} {a.sse:10.4g} "
                   f"{a.r2:8.6f}")
            if truth is not None and a.name in truth:
                ka, kd = truth[a.name]
                row += f" {a.k_a / ka - 1:9.2e} {a.k_d / kd - 1:9.2e}"
            lines.append(row)
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


# ---------------------------------------------------------------------------------------------------
# fitting
# ---------------------------------------------------------------------------------------------------

def _specs(analytes, windows, guesses):
    if analytes is None or isinstance(analytes, (str, bytes)):
        raise ParameterError("analytes must be a sequence of AnalyteSpec, dicts or objects with "
                             "name, c0 and f")
    try:
        items = list(analytes)
    except TypeError:
        raise ParameterError("analytes must be a sequence of AnalyteSpec, dicts or objects with "
                             "name, c0 and f") from None
    if not items:
        raise ParameterError("analytes must not be empty")
    for m, label in ((windows, "windows"), (guesses, "guesses")):
        if m is not None and not hasattr(m, "get"):
            raise ParameterError(f"{label} must be a mapping name -> value, got {type(m).__name__}")
    specs = []
    for k, a in enumerate(items):
        if isinstance(a, dict):
            unknown = set(a) - {"name", "c0", "f", "window", "guess"}
            if unknown:
                raise ParameterError(f"analytes[{k}]: unknown keys {sorted(unknown)}; allowed: "
                                     "name, c0, f, window, guess")
            get = a.get
        else:
            def get(key, default=None, _a=a):
                return getattr(_a, key, default)
        name = get("name")
        if not isinstance(name, str) or not name:
            raise ParameterError(f"analytes[{k}] needs a non-empty name, got {name!r}")
        c0 = _positive(f"c0 of {name!r}", get("c0"))
        f = _positive(f"f of {name!r}", get("f"))
        # only 'window' and 'guess' are used: e.g. the k_a, k_d of an exact.Analyte are ignored
        window = get("window")
        guess = get("guess")
        if windows is not None and name in windows:
            window = windows[name]
        if guesses is not None and name in guesses:
            guess = guesses[name]
        if guess is not None:
            try:
                ga, gd = guess
            except (TypeError, ValueError):
                raise ParameterError(f"guess of {name!r} must be a pair (k_a, k_d), got {guess!r}") from None
            guess = (_positive(f"guess k_a of {name!r}", ga), _positive(f"guess k_d of {name!r}", gd))
        if window is None and guess is None:
            raise ParameterError(f"analyte {name!r}: give a time window (t_start, t_end) or a guess (k_a, k_d)")
        specs.append(AnalyteSpec(name, c0, f, window, guess))
    names = [s.name for s in specs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ParameterError(f"analyte names must be unique, repeated: {sorted(dup)}")
    for m, label in ((windows, "windows"), (guesses, "guesses")):
        if m is not None:
            extra = set(m) - set(names)
            if extra:
                raise ParameterError(f"{label} name unknown analytes {sorted(extra)}; analytes: {names}")
    return specs


def _groups(order, intervals):
    """Connected components of overlapping intervals, in order of start time."""
    idx = sorted(order, key=lambda i: intervals[i][0])
    groups, cur, cur_hi = [], [], -math.inf
    for i in idx:
        lo, hi = intervals[i]
        if cur and lo > cur_hi:
            groups.append(cur)
            cur, cur_hi = [], -math.inf
        cur.append(i)
        cur_hi = max(cur_hi, hi)
    groups.append(cur)
    return groups


def _baseline_guess(t, y, masks):
    """Median of the samples outside every window, or a low percentile of the signal."""
    outside = ~np.any(masks, axis=0)
    if outside.sum() >= 10:
        return float(np.median(y[outside]))
    return float(np.percentile(y, 5))


def _check_offset(t, y0, masks):
    """Warn if the (baseline-subtracted) signal does not return to ~0 at the window edges."""
    edges, heights = [], []
    for m in masks:
        idx = np.flatnonzero(m)
        yw = y0[idx]
        edges += [yw[:3].mean(), yw[-3:].mean()]
        heights.append(np.ptp(yw))
    level, height = float(np.median(edges)), float(max(heights))
    if abs(level) > 0.5 * height:
        warnings.warn(f"the signal sits at {level:.6g} above the given baseline at the window edges, more "
                      f"than half the peak height ({height:.4g}): pass baseline=<level> or baseline='fit'",
                      RuntimeWarning, stacklevel=3)


def _moment_starts(t, y0, peaks, masks, col, t1, specs, max_iter=50, tol=1e-8):
    """Moment-inversion start values for all analytes (iterated; exact at its fixed point).

    For analyte i with window w: the moments of ``y0 - sum_{j != i} model_j`` on w (the neighbours'
    current estimates subtracted), completed by the part of its own current model outside w (exact
    total moments of the model minus its in-window trapezoid moments), then inverted
    (:func:`start_values`). The first pass has no estimates (plain window moments); later passes
    remove both the neighbours' overlap and the truncation of the window. On noise-free data the
    fixed point is the true (k_a, k_d).
    """
    est = {}
    order = sorted(range(len(specs)), key=lambda i: t[masks[i]][0])
    for i in order:
        if specs[i].guess is not None:
            ga, gd = specs[i].guess
            est[i] = StartValues(ga, gd, ga / gd)
    free = [i for i in order if specs[i].guess is None]
    for it in range(max_iter):
        change = 0.0
        for i in free:
            m = masks[i]
            tw, r = t[m], y0[m].copy()
            tref = 0.5 * (tw[0] + tw[-1])
            for j, sv in est.items():
                if j != i:
                    r -= peaks[j].value(tw, sv.k_a, sv.k_d)
            M = np.array([_trapezoid(r * (tw - tref) ** p, tw) for p in range(3)])
            if i in est:   # complete the window with the own model outside it
                sv = est[i]
                own = peaks[i].value(tw, sv.k_a, sv.k_d)
                A, mu, var = peaks[i].moments(sv.k_a, sv.k_d)
                d = mu - tref
                M += np.array([A, A * d, A * (var + d * d)])
                M -= np.array([_trapezoid(own * (tw - tref) ** p, tw) for p in range(3)])
            try:
                if not M[0] > 0:
                    raise ParameterError(f"the peak area is {M[0]:g} <= 0: no peak above the baseline")
                mean = M[1] / M[0]
                new = start_values(tref + mean, M[2] / M[0] - mean * mean, col, t1)
            except ParameterError as exc:
                raise ParameterError(f"start values of {specs[i].name!r} from the moments in its window "
                                     f"{specs[i].window} (pass {it + 1}): {exc}; give a guess (k_a, k_d) "
                                     "or a window around this peak only") from None
            if i in est:
                change = max(change, abs(math.log(new.k_a / est[i].k_a)), abs(math.log(new.k_d / est[i].k_d)))
            else:
                change = math.inf
            est[i] = new
        if change < tol:
            break
    return [est[i] for i in range(len(specs))]


def _noise_arg(noise, n):
    if noise is None:
        return None
    if np.ndim(noise) == 0:
        return _positive("noise", noise)
    try:
        a = np.asarray(noise, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError("noise must be None, a positive number or an array like signal") from None
    if a.shape != (n,):
        raise ParameterError(f"noise array must have the length of signal ({n}), got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ParameterError("noise must be positive and finite")
    return a


def _cov_from_jac(J, s2):
    """``s2 (J^T J)^{-1}`` from the normal equations with unit-scaled columns (condition number of the
    small matrix = that of the parameter correlation matrix); directions with no information
    (eigenvalues below 1e-12 of the largest) give nan for the parameters involved."""
    d = np.sqrt(np.einsum("ij,ij->j", J, J))
    if not np.all(d > 0):
        cov = np.full((J.shape[1], J.shape[1]), np.nan)
        ok = d > 0
        if ok.any():
            cov[np.ix_(ok, ok)] = _cov_from_jac(J[:, ok], s2)
        return cov
    Js = J / d
    A = Js.T @ Js
    w, V = np.linalg.eigh(A)
    good = w > 1e-12 * w[-1]
    inv = (V[:, good] / w[good]) @ V[:, good].T
    cov = s2 * inv / np.outer(d, d)
    if not good.all():
        bad = np.abs(V[:, ~good]).max(axis=1) > 1e-6
        cov[bad, :] = np.nan
        cov[:, bad] = np.nan
    return cov


_LOG_RANGE = 12.0   # the fit keeps log k within +-12 of its start value (a factor 1.6e5)


def fit_chromatogram(t, signal, column, analytes, t1, *, baseline=None, noise=None, windows=None,
                     guesses=None, method="separate", compressible=None, max_sweeps=10, xtol=1e-13,
                     max_nfev=200):
    """Fit ``k_a, k_d`` of every analyte to a chromatogram (kinetic GC model, CHROM-GC-3/6).

    Model ``I(t) = b + sum_i f_i c_i(L, t)`` with ``c_i = column.outlet(t, k_a,i, k_d,i, c0_i, t1)``
    (dispersion-free closed form; variable velocity if ``column.compressible``).

    t, signal : 1-D arrays of equal length; times finite and strictly increasing (s), signal finite.
    column : :class:`GCColumn`; ``compressible`` (``None``: keep ``column.compressible``) switches the
        velocity model.
    analytes : sequence of :class:`AnalyteSpec`, dicts (``name, c0, f`` and ``window`` and/or
        ``guess``) or objects with ``name, c0, f`` (e.g. ``btex().analytes``; their ``k_a, k_d`` are *not*
        used); ``windows`` / ``guesses`` (mappings ``name -> (t_start, t_end)`` / ``(k_a, k_d)``) add or
        override. Start values: the guess if given, else moment inversion (:func:`start_values`) on the
        window after subtracting the other analytes' current start models and completing the
        window's truncated tails with the own current model (iterated to a fixed point, which is the
        truth for noise-free data). Windows should bracket their analyte's peak; where peaks overlap,
        split at the valley (windows may touch or overlap a little). Windows that each contain most of
        a neighbour's peak can make the moment iteration fail (:class:`ParameterError`, give guesses).
    t1 : injection length (s).
    baseline : ``None`` (signal is baseline-free, b = 0), a number (fixed b), or ``"fit"`` (a fitted
        constant: one per group for ``method="separate"``, one in total for ``"joint"``).
    noise : ``None`` (errors from the residual variance ``s^2 = SSE/(N - p)``), a positive number
        (known sigma of the signal; ``s = noise``) or a per-sample array (weighted least squares).
    method : ``"separate"`` (each analyte on its own window; analytes with overlapping or touching
        windows fitted jointly on the union, other analytes' current models subtracted, block sweeps
        until the estimates change by < 1e-10 relative or ``max_sweeps``; cross-group covariances are
        neglected) or ``"joint"`` (all analytes, and the
        baseline if ``"fit"``, in one least-squares problem on the union of the windows).
    xtol, max_nfev : passed to ``scipy.optimize.least_squares`` (Levenberg–Marquardt, analytic
        Jacobian, parameters ``log k_a, log k_d`` and the baseline; ``log k`` is held within ±12 of its
        start value so that ``exp`` stays finite).

    Covariance of the log-parameters ``s^2 (J^T J)^{-1}`` (J the Jacobian of the (weighted) residuals);
    standard errors of k_a, k_d, K by the delta method (``se(k) = k se(log k)``).
    Returns :class:`ChromatogramFit`.
    """
    t_start = _time.perf_counter()
    t = _times(t)
    y = _signal(signal, t)
    col = _column(column, compressible)
    t1 = _positive("t1", t1)
    bl = _baseline_arg(baseline)
    sig = _noise_arg(noise, t.size)
    if method not in ("separate", "joint"):
        raise ParameterError(f"method must be 'separate' or 'joint', got {method!r}")
    if isinstance(max_sweeps, bool) or not isinstance(max_sweeps, numbers.Integral) or max_sweeps < 1:
        raise ParameterError(f"max_sweeps must be a positive integer, got {max_sweeps!r}")
    specs = _specs(analytes, windows, guesses)
    peaks = [_Peak(col, t1, s.f * s.c0) for s in specs]

    # windows (given, or from the guess: mu1 - 6 sigma .. mu1 + 8 sigma, clipped to the data)
    wins, masks = [], []
    for s in specs:
        if s.window is not None:
            w, m = _window(s.window, t, f"window of {s.name!r}")
        else:
            mu1, var = col.moments(s.guess[0], s.guess[1], t1)
            sd = math.sqrt(var)
            lo, hi = max(mu1 - 6.0 * sd, t[0]), min(mu1 + 8.0 * sd, t[-1])
            if not lo < hi:
                raise ParameterError(f"the guessed peak of {s.name!r} (mean {mu1:.4g} s) lies outside the "
                                     f"data range [{t[0]}, {t[-1]}]; give a window")
            w, m = _window((lo, hi), t, f"window of {s.name!r} (from its guess)")
        wins.append(w)
        masks.append(m)
    masks = np.array(masks)
    specs = [dataclasses.replace(s, window=w) for s, w in zip(specs, wins)]

    # baseline for the start values
    b0 = _baseline_guess(t, y, masks) if bl == "fit" else bl
    if bl != "fit":
        _check_offset(t, y - b0, masks)
    starts = _moment_starts(t, y - b0, peaks, masks, col, t1, specs)
    src = ["guess" if s.guess is not None else "moments" for s in specs]

    nA = len(specs)
    logk = np.array([[math.log(sv.k_a), math.log(sv.k_d)] for sv in starts])
    groups = _groups(range(nA), wins) if method == "separate" else [list(range(nA))]
    gmasks = [np.any(masks[g], axis=0) for g in groups]
    gbase = [b0 for _ in groups]
    w_all = None if sig is None else (np.full(t.size, 1.0 / sig) if np.ndim(sig) == 0 else 1.0 / sig)
    nfev = 0
    results = [None] * len(groups)
    fit_b = bl == "fit"

    def solve(gi):
        nonlocal nfev
        g, gm = groups[gi], gmasks[gi]
        tw, yw = t[gm], y[gm]
        wts = None if w_all is None else w_all[gm]
        fixed = np.zeros(tw.size)
        for j in range(nA):
            if j not in g:
                fixed += peaks[j].value(tw, math.exp(logk[j, 0]), math.exp(logk[j, 1]))
        target = yw - fixed
        p0 = logk[g].ravel()
        lo_k, hi_k = p0 - _LOG_RANGE, p0 + _LOG_RANGE
        if fit_b:
            p0 = np.append(p0, gbase[gi])
        if tw.size <= p0.size:
            raise ParameterError(f"the windows of {[specs[i].name for i in g]} hold {tw.size} samples for "
                                 f"{p0.size} parameters; widen them")

        def unpack(p):
            # clamp log k to +-_LOG_RANGE around the start (keeps exp() finite; never active in practice)
            lk = np.clip(p[:2 * len(g)], lo_k, hi_k).reshape(-1, 2)
            return lk, (p[-1] if fit_b else bl)

        def resid(p):
            lk, b = unpack(p)
            mdl = b + sum(peaks[i].value(tw, math.exp(a), math.exp(d)) for i, (a, d) in zip(g, lk))
            r = mdl - target
            return r if wts is None else r * wts

        def jac(p):
            lk, _ = unpack(p)
            J = np.empty((tw.size, p.size))
            for k, (i, (a, d)) in enumerate(zip(g, lk)):
                J[:, 2 * k], J[:, 2 * k + 1] = peaks[i].jac(tw, math.exp(a), math.exp(d))
            if fit_b:
                J[:, -1] = 1.0
            return J if wts is None else J * wts[:, None]

        x_scale = np.ones(p0.size)
        if fit_b:
            x_scale[-1] = max(1.0, float(np.std(yw)))
        # Levenberg-Marquardt (MINPACK, QR-based): small dense problems, no bounds needed in log space
        res = least_squares(resid, p0, jac=jac, method="lm", xtol=xtol, ftol=1e-15, gtol=1e-15,
                            x_scale=x_scale, max_nfev=max_nfev)
        nfev += res.nfev
        lk, b = unpack(res.x)
        return res, lk, b, resid(res.x), jac(res.x)

    sweeps = 0
    for sweep in range(max_sweeps if method == "separate" and len(groups) > 1 else 1):
        sweeps += 1
        change = 0.0
        for gi, g in enumerate(groups):
            res, lk, b, r, J = solve(gi)
            change = max(change, float(np.max(np.abs(lk - logk[g]))))
            logk[g] = lk
            if fit_b:
                gbase[gi] = float(b)
            results[gi] = (res, r, J)
        if change < 1e-10:
            break
    # covariance (log parameters; baseline last per block)
    pnames, blocks = [], []
    for gi, g in enumerate(groups):
        res, r, J = results[gi]
        m, p = r.size, J.shape[1]
        if sig is None:
            s2 = float(r @ r) / max(m - p, 1)
        else:
            s2 = 1.0  # residuals are already divided by sigma
        blocks.append(_cov_from_jac(J, s2))
        for i in g:
            pnames += [f"log k_a[{specs[i].name}]", f"log k_d[{specs[i].name}]"]
        if fit_b:
            pnames.append(f"baseline[{'+'.join(specs[i].name for i in g)}]")
    P = sum(b.shape[0] for b in blocks)
    cov = np.zeros((P, P))
    off = 0
    for blk in blocks:
        q = blk.shape[0]
        cov[off:off + q, off:off + q] = blk
        off += q

    # curves, statistics
    comps = {s.name: peaks[i].value(t, math.exp(logk[i, 0]), math.exp(logk[i, 1])) for i, s in enumerate(specs)}
    base_curve = np.zeros(t.size)
    gb_out = []
    if fit_b:
        bse = []
        idx = 0
        for gi, g in enumerate(groups):
            idx += 2 * len(g)
            v = cov[idx, idx]
            bse.append(math.sqrt(v) if v >= 0 else math.nan)
            idx += 1
            base_curve[gmasks[gi]] = gbase[gi]
            gb_out.append((tuple(specs[i].name for i in g), gbase[gi], bse[-1]))
        wts_b = np.array([1.0 / s ** 2 if s > 0 else 0.0 for s in bse])
        if wts_b.sum() > 0:
            b_final = float(np.sum(wts_b * np.array(gbase)) / wts_b.sum())
            b_se = float(1.0 / math.sqrt(wts_b.sum()))
        else:
            b_final, b_se = float(np.mean(gbase)), math.nan
        # outside the windows use the mean baseline
        outside = ~np.any(gmasks, axis=0)
        base_curve[outside] = b_final
    else:
        b_final, b_se = float(bl), 0.0
        base_curve[:] = b_final
    fitted = base_curve + sum(comps.values())
    resid_all = y - fitted
    used = np.any(masks, axis=0)

    def r2_of(mask):
        yy = y[mask]
        sst = float(np.sum((yy - yy.mean()) ** 2))
        sse = float(np.sum(resid_all[mask] ** 2))
        return sse, (1.0 - sse / sst if sst > 0 else math.nan)

    sse_tot, r2_tot = r2_of(used)
    n_par = 2 * nA + (len(groups) if fit_b else 0)
    dof = int(used.sum()) - n_par
    chi2 = None
    if sig is None:
        s_val = math.sqrt(sse_tot / max(dof, 1))
    else:
        s_val = float(sig) if np.ndim(sig) == 0 else float(np.sqrt(np.mean(sig[used] ** 2)))
        chi2 = float(np.sum((resid_all[used] * w_all[used]) ** 2)) / max(dof, 1)

    fits = []
    pos = {}
    k = 0
    for gi, g in enumerate(groups):
        for i in g:
            pos[i] = k
            k += 2
        if fit_b:
            k += 1
    for i, s in enumerate(specs):
        j = pos[i]
        C = cov[j:j + 2, j:j + 2].copy()
        ka, kd = math.exp(logk[i, 0]), math.exp(logk[i, 1])
        va, vd, cad = C[0, 0], C[1, 1], C[0, 1]
        vK = va + vd - 2.0 * cad
        corr = cad / math.sqrt(va * vd) if va > 0 and vd > 0 else math.nan
        sse_i, r2_i = r2_of(masks[i])
        grp = next(tuple(specs[m].name for m in g) for g in groups if i in g)
        fits.append(AnalyteFit(
            name=s.name, k_a=ka, k_d=kd, K=ka / kd,
            k_a_se=ka * math.sqrt(va) if va >= 0 else math.nan,
            k_d_se=kd * math.sqrt(vd) if vd >= 0 else math.nan,
            K_se=(ka / kd) * math.sqrt(vK) if vK >= 0 else math.nan,
            corr=corr, start=starts[i], start_source=src[i], window=s.window,
            n_points=int(masks[i].sum()), sse=sse_i, r2=r2_i, group=grp, cov_log=C))

    ok = all(results[gi][0].success for gi in range(len(groups)))
    msgs = sorted({results[gi][0].message for gi in range(len(groups))})
    bad = [a.name for a in fits if not (math.isfinite(a.k_a_se) and math.isfinite(a.k_d_se))]
    if bad:
        ok = False
        msgs.append(f"singular Jacobian (no information in the window?) for {bad}")
    return ChromatogramFit(
        analytes=tuple(fits), baseline=b_final, baseline_se=b_se, group_baselines=tuple(gb_out),
        t=t, signal=y, fitted=fitted, components=comps, used=used, sse=sse_tot, r2=r2_tot, dof=dof,
        s=s_val, chi2_red=chi2, noise=(None if sig is None else (float(sig) if np.ndim(sig) == 0 else sig)),
        param_names=tuple(pnames), cov_log=cov, method=method,
        groups=tuple(tuple(specs[i].name for i in g) for g in groups), compressible=col.compressible,
        sweeps=sweeps, nfev=nfev, success=ok, message="; ".join(msgs),
        runtime=_time.perf_counter() - t_start, _model={s.name: peaks[i] for i, s in enumerate(specs)})


def load_chromatogram(path):
    """Read a chromatogram CSV with a header line and two columns (time in s, signal), e.g. the files
    in ``data/btex/`` (``time_s,signal_au``). Returns ``(t, signal)`` as float arrays, checked like
    the inputs of :func:`fit_chromatogram`."""
    try:
        a = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    except (OSError, ValueError) as exc:
        raise ParameterError(f"cannot read chromatogram {path!s}: {exc}") from None
    if a.shape[1] != 2:
        raise ParameterError(f"chromatogram {path!s} must have two columns (time, signal), got {a.shape[1]}")
    t = _times(a[:, 0])
    return t, _signal(a[:, 1], t)
