"""Fitting a linear liquid-chromatography column to a measured peak: the retention (``K``) and the width
(the axial dispersion ``D``, reported also as plates and HETP) of the equilibrium-dispersive model.

The model is the exact outlet of the finite Danckwerts column (research note V1,
:func:`~pdekit.chromatography.exact.outlet_linear`, inverted on the Bromwich line)::

    y(t) = b + f c_out(t; K, D),     rectangular injection c0 on [0, t1)

with known length ``L``, interstitial velocity ``u``, phase ratio ``F``, injection and detector factor
``f``; fitted: ``K`` and ``D`` (and the baseline ``b`` with ``baseline="fit"``). Start values come from
the peak's moments (V2): ``mu1 = t0 (1 + F K) + t1/2`` and ``sigma^2 - t1^2/12 ~ 2 t0^2 (1 + F K)^2 / Pe``
(``t0 = L/u``, ``Pe = u L / D``); the least-squares problem (``scipy.optimize.least_squares``, trust region)
is solved in ``log K, log D``. Standard errors from the Jacobian at the optimum with the residual variance
(or the given noise level). For the kinetic GC model use :func:`~pdekit.chromatography.fit_chromatogram`.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.optimize import least_squares

from ..checks import positive as _pos
from ..errors import ParameterError
from .exact import outlet_linear
from .fit import _moments, _signal, _times, _window

__all__ = ["LinearPeakFit", "fit_linear_peak"]


@dataclasses.dataclass(frozen=True)
class LinearPeakFit:
    """Result of :func:`fit_linear_peak`: ``K``, ``D`` (m²/s), ``baseline``; their standard errors; the
    ``K``–``D`` correlation; plates ``N = mu1^2 / sigma^2`` and ``hetp = L / N`` of the fitted peak
    (injection included); ``sse``, ``r2``; start values; ``t``, ``fitted`` (the curve on the data)."""

    K: float
    D: float
    baseline: float
    K_se: float
    D_se: float
    baseline_se: float
    corr: float
    plates: float
    hetp: float
    sse: float
    r2: float
    start: tuple
    nfev: int
    t: np.ndarray = dataclasses.field(repr=False)
    fitted: np.ndarray = dataclasses.field(repr=False)

    def summary(self, truth=None) -> str:
        """A short table; ``truth=(K, D)`` adds the relative errors."""
        lines = [f"{'':10} {'estimate':>12} {'std err':>10} {'start':>12}" + ("  rel. err" if truth else "")]
        for i, (name, v, se) in enumerate((("K", self.K, self.K_se), ("D (m2/s)", self.D, self.D_se))):
            row = f"{name:10} {v:12.6g} {se:10.2e} {self.start[i]:12.6g}"
            if truth:
                row += f"  {v / truth[i] - 1:+9.2e}"
            lines.append(row)
        lines.append(f"corr(K, D) = {self.corr:+.3f}; baseline {self.baseline:.4g} +- {self.baseline_se:.2g}; "
                     f"plates {self.plates:.0f}, HETP {self.hetp:.3g} m; R^2 = {self.r2:.6f}, SSE = {self.sse:.4g}, "
                     f"{self.nfev} model evaluations")
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


def fit_linear_peak(t, signal, *, length, velocity, phase_ratio, t1, c0=1.0, factor=1.0, baseline=0.0,
                    noise=None, window=None, guess=None) -> LinearPeakFit:
    """Fit ``K`` and ``D`` of a linear equilibrium-dispersive column to one peak.

    ``t`` (s, strictly increasing), ``signal`` (finite; ``factor * c_out + baseline``); column: ``length``
    (m), ``velocity`` (interstitial, m/s), ``phase_ratio`` ``F = (1 - eps_t)/eps_t``; injection ``c0`` for
    ``t1`` s. ``baseline``: a known value or ``"fit"``. ``noise``: the signal's standard deviation (else
    estimated from the residual). ``window=(lo, hi)``: fit only there. ``guess=(K, D)`` replaces the
    moment start values. Raises :class:`~pdekit.errors.ParameterError` for bad input and for a peak whose
    moments admit no positive ``K`` or ``D`` (then give ``guess``). ``D`` is kept to Peclet numbers
    ``u L / D`` in [1, 1e7]; at most 200 model evaluations."""
    t = _times(t)
    y = _signal(signal, t)
    L, u, F, t1 = _pos("length", length), _pos("velocity", velocity), _pos("phase_ratio", phase_ratio), _pos("t1", t1)
    c0, f = _pos("c0", c0), _pos("factor", factor)
    mask = _window(window, t)[1] if window is not None else np.ones(t.size, bool)
    fit_b = isinstance(baseline, str)
    if fit_b and baseline != "fit":
        raise ParameterError(f"baseline must be a number or 'fit', got {baseline!r}")
    edge = max(5, int(0.05 * mask.sum()))
    b0 = float(np.median(np.r_[y[mask][:edge], y[mask][-edge:]])) if fit_b else float(baseline)
    if not math.isfinite(b0):
        raise ParameterError(f"baseline must be finite, got {baseline!r}")
    sigma = None if noise is None else _pos("noise", noise)
    t0 = L / u
    if guess is None:
        # moments over the contiguous part around the maximum above 1 % of it (noise and a baseline error
        # far from the peak would dominate the variance otherwise)
        tm_, ym_ = t[mask], y[mask] - b0
        top = int(np.argmax(ym_))
        low = ym_ < 0.01 * ym_[top]
        lo = top - int(np.argmax(low[top::-1])) if low[:top + 1].any() else 0
        hi = top + int(np.argmax(low[top:])) if low[top:].any() else ym_.size - 1
        area, mu1, var = _moments(tm_[lo:hi + 1], ym_[lo:hi + 1])
        K0 = ((mu1 - 0.5 * t1) / t0 - 1.0) / F
        spread = var - t1 ** 2 / 12.0
        if not (K0 > 0 and spread > 0):
            raise ParameterError(f"the peak's moments (mean {mu1:.6g} s, variance {var:.6g} s^2) give no positive K "
                                 f"and D for t0 = {t0:.6g} s, t1 = {t1:.6g} s: check the column data or give guess=(K, D)")
        D0 = u * L * spread / (2.0 * t0 ** 2 * (1.0 + F * K0) ** 2)
    else:
        try:
            K0, D0 = (_pos("guess K", guess[0]), _pos("guess D", guess[1]))
        except (TypeError, IndexError):
            raise ParameterError(f"guess must be a pair (K, D), got {guess!r}") from None
    tm, ym = t[mask], y[mask]

    def model(p):
        K, D = math.exp(p[0]), math.exp(p[1])
        return f * outlet_linear(tm, L, u, D, F, K=K, c0=c0, t1=t1) + (p[2] if fit_b else b0)

    p0 = [math.log(K0), math.log(D0)] + ([b0] if fit_b else [])
    # bounds: Peclet number u L / D in [1, 1e7] (narrower peaks than Pe = 1e7 cost ever larger FFTs and
    # are below any detector's sampling), K within e^±12 of its start
    lo = [p0[0] - 12.0, math.log(u * L * 1e-7)] + ([-np.inf] if fit_b else [])
    hi = [p0[0] + 12.0, math.log(u * L)] + ([np.inf] if fit_b else [])
    p0[1] = min(max(p0[1], lo[1] + 1e-9), hi[1] - 1e-9)
    res = least_squares(lambda p: model(p) - ym, p0, bounds=(lo, hi), method="trf", x_scale="jac", xtol=1e-12,
                        ftol=1e-12, gtol=1e-12, diff_step=1e-7, max_nfev=200)
    p = res.x
    r = res.fun
    n, k = r.size, p.size
    sse = float(r @ r)
    s2 = sigma ** 2 if sigma is not None else sse / max(n - k, 1)
    J = res.jac
    try:
        cov = s2 * np.linalg.inv(J.T @ J)
    except np.linalg.LinAlgError:
        cov = np.full((k, k), np.nan)
    K, D = math.exp(p[0]), math.exp(p[1])
    se = np.sqrt(np.abs(np.diag(cov)))
    corr = float(cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1])) if np.all(np.isfinite(cov[:2, :2])) else math.nan
    fitted = f * outlet_linear(t, L, u, D, F, K=K, c0=c0, t1=t1) + (p[2] if fit_b else b0)
    area, mu1, var = _moments(t, fitted - (p[2] if fit_b else b0))
    plates = mu1 ** 2 / var
    ss_tot = float(((ym - ym.mean()) ** 2).sum())
    return LinearPeakFit(K=K, D=D, baseline=float(p[2]) if fit_b else b0, K_se=K * se[0], D_se=D * se[1],
                         baseline_se=float(se[2]) if fit_b else 0.0, corr=corr, plates=float(plates),
                         hetp=L / float(plates), sse=sse, r2=1.0 - sse / ss_tot if ss_tot > 0 else math.nan,
                         start=(K0, D0), nfev=int(res.nfev), t=t, fitted=fitted)
