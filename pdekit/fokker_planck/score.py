"""Score-based diffusion SDEs: exact Gaussian-mixture marginals and scores, samplers, score-FP residual.

Notation follows Song et al. (2021), "Score-Based Generative Modeling through Stochastic
Differential Equations" (ICLR 2021), and Deveney, Stanczuk, Kreusser, Budd & Schönlieb (2023),
"Closing the ODE–SDE gap in score-based diffusion models through the Fokker–Planck equation".

Forward (noising) SDE, data ``x(0) ~ p_0``::

    dx = f(x, t) dt + g(t) dW,        p_t = law of x(t)

* VP-SDE (Song et al., eq. 11):  ``f = -½β(t) x``, ``g = sqrt(β(t))``,
  ``β(t) = β_min + t (β_max - β_min)``, ``B(t) = ∫_0^t β = β_min t + ½(β_max - β_min) t²``.
  Perturbation kernel ``N(x; a(t) x_0, (1 - a²) I)`` with ``a(t) = exp(-½B(t))``.
* VE-SDE (Song et al., eq. 9):  ``f = 0``, ``g = sqrt(dσ²/dt)``, ``σ(t) = σ_min (σ_max/σ_min)^t``.
  Perturbation kernel ``N(x; x_0, (σ²(t) - σ²(0)) I)``.

The time ``t`` enters these formulas as is (as in Song et al.'s code); ``T`` is only the terminal
time of the process (``T = 1`` reproduces the paper).

The density obeys the Fokker–Planck equation ``∂_t p = -∇·(f p) + ½g²Δp``.  For a Gaussian mixture
``p_0 = Σ_k w_k N(μ_k, Σ_k)`` every ``p_t`` is again a Gaussian mixture
(:meth:`VPSDE.marginal`, :meth:`VESDE.marginal`) and its score ``s = ∇log p_t`` is known in closed
form (:func:`exact_score`).

Samplers driven by a score ``s(x, t)`` (exact, perturbed or user-supplied):

* probability-flow ODE (Song et al., eq. 13):  ``dx/dt = f(x, t) - ½ g(t)² s(x, t)``
  (:func:`probability_flow`, adaptive Runge–Kutta, forward or backward in time);
* reverse-time SDE (Song et al., eq. 6):  ``dx = [f(x, t) - g(t)² s(x, t)] dt + g(t) dW̄`` run from
  ``T`` down to ``t_end`` (:func:`reverse_sde`, Euler–Maruyama); :func:`forward_sde` samples the
  forward SDE.

With the exact score both produce the marginals ``p_t``; with an approximate score they differ.
Deveney et al. (2023) bound that ODE–SDE gap by the *score Fokker–Planck residual*: the true score
satisfies (differentiate ``log p`` in the FP equation, for state-independent ``g``)::

    ∂_t s = ∇[ -∇·f - f·s + ½ g² (∇·s + |s|²) ]

(for the VP-SDE: ``∂_t s = ½β(t) ∇[ x·s + ∇·s + |s|² ]``), and the residual
``r = ∂_t s - ∇[...]`` of any other field measures how far it is from being a score of a
density evolving under the SDE (:func:`score_fp_residual`).  :func:`wasserstein2_1d` and
:func:`ode_sde_gap` reproduce their experiment in 1D: with the exact score the W2 distance between
PF-ODE and reverse-SDE samples is at the sampling-error level, with a perturbed score it grows with
the perturbation (and with the residual).

Particles are NumPy arrays of shape ``(n,)`` for a one-dimensional (univariate) problem or
``(n, d)``; score callables take ``(x, t)`` with ``t`` a float and return an array of the shape of
``x``.  Nothing loops over particles in Python.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp
from scipy.special import ndtr

from pdekit.errors import InstabilityError, ParameterError, PdekitError

__all__ = ["VPSDE", "VESDE", "GaussianMixture", "exact_score", "perturbed_score", "default_perturbation",
           "probability_flow", "reverse_sde", "forward_sde", "score_fp_residual", "score_fp_residual_norm",
           "time_integrated_residual", "wasserstein2_1d", "wasserstein2_to_mixture_1d", "ode_sde_gap",
           "GapResult"]


# ----------------------------------------------------------------------------------------------
# validation helpers

def _real(name, value, *, positive=False, nonnegative=False, what=None):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v):
        raise ParameterError(f"{name} must be finite, got {value!r}")
    if positive and not v > 0:
        raise ParameterError(f"{name} must be > 0 (accepted range: (0, inf)), got {v!r}" if what is None else what)
    if nonnegative and not v >= 0:
        raise ParameterError(f"{name} must be >= 0 (accepted range: [0, inf)), got {v!r}" if what is None else what)
    return v


def _logsumexp(a, axis):
    """``log Σ exp(a)`` along ``axis`` (kept), shifted by the maximum; faster than SciPy's for small K."""
    m = np.max(a, axis=axis, keepdims=True)
    return m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))


def _rng(rng):
    if isinstance(rng, np.random.Generator):
        return rng
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError):
        raise ParameterError(f"rng must be a numpy Generator, an integer seed or None, got {rng!r}") from None


def _particles(name, x):
    try:
        a = np.array(x, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a real array of shape (n,) or (n, d)") from None
    if a.ndim not in (1, 2) or a.shape[0] == 0 or (a.ndim == 2 and a.shape[1] == 0):
        raise ParameterError(f"{name} must have shape (n,) or (n, d) with n, d >= 1, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"{name} must be finite")
    return a


def _callable(name, fn):
    if not callable(fn):
        raise ParameterError(f"{name} must be a callable s(x, t), got {type(fn).__name__}")
    return fn


def _sde(sde):
    if not isinstance(sde, _ScoreSDE):
        raise ParameterError(f"sde must be a VPSDE or VESDE, got {type(sde).__name__}")
    return sde


# ----------------------------------------------------------------------------------------------
# Gaussian mixtures

class GaussianMixture:
    """Gaussian mixture ``p(x) = Σ_k w_k N(x; μ_k, Σ_k)`` in ``d`` dimensions.

    Parameters
    ----------
    weights : (K,) array
        Mixture weights, each finite and > 0.  They are **normalised** to sum to one (so
        ``(3, 7)`` means ``(0.3, 0.7)``); non-positive weights raise :class:`ParameterError`.
    means : (K,) or (K, d) array
        Component means.  Shape ``(K,)`` makes a *univariate* mixture: points are scalars, particle
        arrays have shape ``(n,)``.  Shape ``(K, d)`` makes a ``d``-variate mixture: points are the
        last axis of an array of shape ``(..., d)``.
    covariances : array, optional
        Univariate: variances, shape ``(K,)`` (or ``(K, 1, 1)``).  ``d``-variate: covariance
        matrices ``(K, d, d)``, symmetric positive definite.
    stds : (K,) array, optional (keyword, univariate only)
        Standard deviations instead of ``covariances``; give exactly one of the two.

    Methods ``pdf``, ``logpdf``, ``score`` (``∇log p``, through log-sum-exp so it stays accurate far
    in the tails), ``cdf``/``ppf`` (univariate), ``sample``, ``mean``, ``covariance``.
    """

    def __init__(self, weights, means, covariances=None, *, stds=None):
        w = np.array(weights, dtype=float)
        if w.ndim != 1 or w.size == 0:
            raise ParameterError(f"weights must be a non-empty 1D array (K,), got shape {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ParameterError(f"weights must be finite and > 0 (accepted range: (0, inf), normalised to "
                                 f"sum 1), got {w.tolist()}")
        K = w.size
        mu = np.array(means, dtype=float)
        if mu.ndim == 1:
            univariate = True
            if mu.shape != (K,):
                raise ParameterError(f"means must have shape (K,) = ({K},) to match weights, got {mu.shape}")
            mu = mu[:, None]
        elif mu.ndim == 2:
            univariate = False
            if mu.shape[0] != K or mu.shape[1] == 0:
                raise ParameterError(f"means must have shape (K, d) with K = {K} (from weights), got {mu.shape}")
        else:
            raise ParameterError(f"means must have shape (K,) or (K, d), got {mu.shape}")
        if not np.all(np.isfinite(mu)):
            raise ParameterError("means must be finite")
        d = mu.shape[1]
        if (covariances is None) == (stds is None):
            raise ParameterError("give exactly one of covariances and stds")
        if stds is not None:
            if not univariate:
                raise ParameterError("stds is accepted only for a univariate mixture (means of shape (K,)); "
                                     "give covariances of shape (K, d, d)")
            sd = np.array(stds, dtype=float)
            if sd.shape != (K,):
                raise ParameterError(f"stds must have shape (K,) = ({K},), got {sd.shape}")
            if not np.all(np.isfinite(sd)) or np.any(sd <= 0):
                raise ParameterError(f"stds must be finite and > 0 (accepted range: (0, inf)), got {sd.tolist()}")
            cov = (sd**2)[:, None, None]
        else:
            cov = np.array(covariances, dtype=float)
            if univariate and cov.shape == (K,):
                if not np.all(np.isfinite(cov)) or np.any(cov <= 0):
                    raise ParameterError(f"variances must be finite and > 0 (accepted range: (0, inf)), "
                                         f"got {cov.tolist()}")
                cov = cov[:, None, None]
            elif cov.shape != (K, d, d):
                expect = f"(K,) = ({K},) or (K, 1, 1)" if univariate else f"(K, d, d) = ({K}, {d}, {d})"
                raise ParameterError(f"covariances must have shape {expect}, got {cov.shape}")
            if not np.all(np.isfinite(cov)):
                raise ParameterError("covariances must be finite")
            asym = np.max(np.abs(cov - np.swapaxes(cov, 1, 2)), axis=(1, 2))
            scale = np.max(np.abs(cov), axis=(1, 2))
            bad = np.nonzero(asym > 1e-12 * scale)[0]
            if bad.size:
                raise ParameterError(f"covariances[{bad[0]}] must be symmetric (asymmetry {asym[bad[0]]:.3e})")
            cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
            for k in range(K):
                lam = np.linalg.eigvalsh(cov[k])
                if not lam[0] > 0:
                    raise ParameterError(f"covariances[{k}] must be positive definite (accepted: all eigenvalues "
                                         f"> 0), smallest eigenvalue {lam[0]:.3e}")
        self._setup(w / w.sum(), mu, cov, univariate)

    # trusted constructor used for marginals (parameters already valid)
    @classmethod
    def _from_arrays(cls, w, mu, cov, univariate):
        self = cls.__new__(cls)
        self._setup(w, mu, cov, univariate)
        return self

    def _setup(self, w, mu, cov, univariate):
        self._w, self._mu, self._cov, self.univariate = w, mu, cov, bool(univariate)
        try:
            self._chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ParameterError("covariances must be positive definite (Cholesky factorisation failed)") from None
        eye = np.broadcast_to(np.eye(mu.shape[1]), cov.shape)
        linv = np.linalg.solve(self._chol, eye)
        self._prec = np.swapaxes(linv, 1, 2) @ linv
        logdet = 2.0 * np.sum(np.log(np.diagonal(self._chol, axis1=1, axis2=2)), axis=1)
        self._logc = np.log(w) - 0.5 * (mu.shape[1] * math.log(2 * math.pi) + logdet)

    # ---------------------------------------------------------------- properties
    @property
    def dim(self) -> int:
        """Dimension ``d`` (1 for a univariate mixture)."""
        return self._mu.shape[1]

    @property
    def n_components(self) -> int:
        return self._w.size

    @property
    def weights(self) -> np.ndarray:
        return self._w.copy()

    @property
    def means(self) -> np.ndarray:
        """``(K,)`` (univariate) or ``(K, d)``."""
        return self._mu[:, 0].copy() if self.univariate else self._mu.copy()

    @property
    def covariances(self) -> np.ndarray:
        """Variances ``(K,)`` (univariate) or covariance matrices ``(K, d, d)``."""
        return self._cov[:, 0, 0].copy() if self.univariate else self._cov.copy()

    @property
    def stds(self) -> np.ndarray:
        """Component standard deviations ``(K,)`` (univariate only)."""
        self._need_univariate("stds")
        return np.sqrt(self._cov[:, 0, 0])

    def __repr__(self):
        return (f"GaussianMixture(weights={self.weights.tolist()}, means={self.means.tolist()}, "
                f"covariances={self.covariances.tolist()})")

    def _need_univariate(self, what):
        if not (self.univariate or self.dim == 1):
            raise ParameterError(f"{what} is defined for one-dimensional mixtures only (this one has d = {self.dim})")

    def _points(self, x):
        x = np.asarray(x, dtype=float)
        if self.univariate:
            return x.reshape(-1, 1), x.shape
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ParameterError(f"points must have shape (..., d) with d = {self.dim}, got {x.shape}")
        return x.reshape(-1, self.dim), x.shape[:-1]

    def _component_terms(self, X):
        """``log(w_k N(x; μ_k, Σ_k))`` of shape (K, m) and ``Σ_k^{-1}(x - μ_k)`` of shape (K, d, m).

        Components lead and points are the last (contiguous) axis, so that reductions over the
        few components are fast."""
        diff = X.T[None, :, :] - self._mu[:, :, None]
        if self.dim == 1:
            pdiff = diff * self._prec[:, :, :1]
            quad = diff[:, 0, :] * pdiff[:, 0, :]
        else:
            pdiff = self._prec @ diff
            quad = np.sum(diff * pdiff, axis=1)
        return self._logc[:, None] - 0.5 * quad, pdiff

    # ---------------------------------------------------------------- densities
    def logpdf(self, x) -> np.ndarray:
        """``log p(x) = logsumexp_k [log w_k + log N(x; μ_k, Σ_k)]``."""
        X, shape = self._points(x)
        lc, _ = self._component_terms(X)
        return _logsumexp(lc, axis=0)[0].reshape(shape)

    def pdf(self, x) -> np.ndarray:
        return np.exp(self.logpdf(x))

    def score(self, x) -> np.ndarray:
        """``∇log p(x) = Σ_k γ_k(x) Σ_k^{-1}(μ_k - x)`` with responsibilities ``γ_k = w_k N_k / p``
        evaluated by log-sum-exp.  Same shape as ``x``."""
        x = np.asarray(x, dtype=float)
        X, _ = self._points(x)
        lc, pdiff = self._component_terms(X)
        gamma = np.exp(lc - _logsumexp(lc, axis=0))
        s = -np.sum(gamma[:, None, :] * pdiff, axis=0)
        return s.T.reshape(x.shape)

    def cdf(self, x) -> np.ndarray:
        """``F(x) = Σ_k w_k Φ((x - μ_k)/σ_k)`` (one-dimensional mixtures)."""
        self._need_univariate("cdf")
        x = np.asarray(x, dtype=float)
        if not self.univariate:
            x = x[..., 0]
        sd = np.sqrt(self._cov[:, 0, 0])
        out = np.zeros(x.shape)
        for k in range(self.n_components):
            out += self._w[k] * ndtr((x - self._mu[k, 0]) / sd[k])
        return out

    def ppf(self, u) -> np.ndarray:
        """Quantile function ``F^{-1}(u)`` for ``u`` in ``[0, 1]`` (one-dimensional mixtures), by
        vectorised bisection to round-off (``±inf`` at ``u = 0, 1``)."""
        self._need_univariate("ppf")
        u = np.asarray(u, dtype=float)
        if np.any(~(u >= 0) | ~(u <= 1)):
            raise ParameterError("ppf: probabilities must lie in [0, 1]")
        sd = np.sqrt(self._cov[:, 0, 0])
        mu = self._mu[:, 0]
        lo = np.full(u.shape, np.min(mu - 40 * sd))
        hi = np.full(u.shape, np.max(mu + 40 * sd))
        for _ in range(120):
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < u
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
            if np.all((hi - lo) <= 4 * np.finfo(float).eps * np.maximum(np.abs(lo), np.abs(hi))):
                break
        q = 0.5 * (lo + hi)
        return np.where(u <= 0, -np.inf, np.where(u >= 1, np.inf, q))

    # ---------------------------------------------------------------- moments and sampling
    def mean(self):
        """``Σ_k w_k μ_k`` (float for a univariate mixture, else ``(d,)``)."""
        m = self._w @ self._mu
        return float(m[0]) if self.univariate else m

    def covariance(self):
        """``Σ_k w_k (Σ_k + μ_k μ_kᵀ) - m mᵀ`` (the variance, a float, for a univariate mixture)."""
        m = self._w @ self._mu
        c = np.einsum("k,kij->ij", self._w, self._cov + self._mu[:, :, None] * self._mu[:, None, :])
        c = c - np.outer(m, m)
        return float(c[0, 0]) if self.univariate else c

    def sample(self, n, rng=None) -> np.ndarray:
        """``n`` independent draws, shape ``(n,)`` (univariate) or ``(n, d)``."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ParameterError(f"n must be an integer >= 1, got {n!r}")
        rng = _rng(rng)
        k = rng.choice(self.n_components, size=int(n), p=self._w)
        z = rng.standard_normal((int(n), self.dim))
        if self.dim == 1:
            x = self._mu[k] + self._chol[k, 0, 0][:, None] * z
        else:
            x = self._mu[k] + np.einsum("nij,nj->ni", self._chol[k], z)
        return x[:, 0] if self.univariate else x


# ----------------------------------------------------------------------------------------------
# SDEs

class _ScoreSDE:
    """Common interface of the score-based diffusion SDEs ``dx = f(x, t) dt + g(t) dW``."""

    T: float

    def drift(self, x, t):
        raise NotImplementedError

    def diffusion(self, t):
        """``g(t)``."""
        return np.sqrt(self.diffusion_squared(t))

    def diffusion_squared(self, t):
        raise NotImplementedError

    def mean_scale(self, t):
        raise NotImplementedError

    def marginal_variance_added(self, t):
        raise NotImplementedError

    def marginal_std_added(self, t):
        """Standard deviation of the perturbation kernel: ``x(t) | x(0) ~ N(a(t) x(0), std² I)``."""
        return np.sqrt(self.marginal_variance_added(t))

    def transition(self, x0, t):
        """Perturbation kernel ``p_{0t}(x | x0) = N(a(t) x0, v(t) I)``: returns ``(a(t) x0, v(t))``."""
        return self.mean_scale(t) * np.asarray(x0, dtype=float), self.marginal_variance_added(t)

    def marginal(self, mixture, t) -> GaussianMixture:
        """Marginal ``p_t`` of the forward SDE started from a Gaussian mixture ``p_0``: the mixture
        with means ``a(t) μ_k`` and covariances ``a(t)² Σ_k + v(t) I`` (``a`` = :meth:`mean_scale`,
        ``v`` = :meth:`marginal_variance_added`); exact because the kernel is Gaussian."""
        if not isinstance(mixture, GaussianMixture):
            raise ParameterError(f"mixture must be a GaussianMixture, got {type(mixture).__name__}")
        t = _real("t", t, nonnegative=True)
        a = float(self.mean_scale(t))
        v = float(self.marginal_variance_added(t))
        d = mixture.dim
        cov = a * a * mixture._cov + v * np.eye(d)[None, :, :]
        return GaussianMixture._from_arrays(mixture._w, a * mixture._mu, cov, mixture.univariate)

    def prior(self, dim=None) -> GaussianMixture:
        """Reference prior used to start samplers at ``T``: ``N(0, I)`` (VP) or ``N(0, σ(T)² I)`` (VE).
        ``dim=None`` gives a univariate distribution, an integer a ``dim``-variate one."""
        var = self._prior_variance()
        if dim is None:
            return GaussianMixture._from_arrays(np.ones(1), np.zeros((1, 1)), np.full((1, 1, 1), var), True)
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ParameterError(f"dim must be None or an integer >= 1, got {dim!r}")
        return GaussianMixture._from_arrays(np.ones(1), np.zeros((1, dim)), var * np.eye(dim)[None], False)


def _check_T(T):
    return _real("T", T, positive=True,
                 what=f"T must be finite and > 0 (accepted range: (0, inf)), got {T!r}")


class VPSDE(_ScoreSDE):
    """Variance-preserving SDE (Song et al. 2021, eq. 11; DDPM in the continuum limit)::

        dx = -½β(t) x dt + sqrt(β(t)) dW,   β(t) = β_min + t (β_max - β_min),   t ∈ [0, T]

    ``B(t) = ∫_0^t β(s) ds = β_min t + ½(β_max - β_min) t²``, ``a(t) = exp(-½B(t))``, kernel
    ``N(a x_0, (1 - a²) I)``.  Fokker–Planck: ``∂_t p = β(t) L0 p`` with the fixed operator
    ``L0 p = ½[∇·(x p) + Δp]`` (the Ornstein–Uhlenbeck generator), hence ``p_t = exp(B(t) L0) p_0``.

    Parameters: ``beta_min > 0``, ``beta_max >= beta_min`` (finite), ``T > 0``.
    """

    def __init__(self, beta_min=0.1, beta_max=20.0, T=1.0):
        self.beta_min = _real("beta_min", beta_min, positive=True,
                              what=f"beta_min must be finite and > 0 (accepted range: (0, inf)), got {beta_min!r}")
        bmax = _real("beta_max", beta_max)
        if not bmax >= self.beta_min:
            raise ParameterError(f"beta_max must be finite and >= beta_min = {self.beta_min!r} "
                                 f"(accepted range: [beta_min, inf)), got {beta_max!r}")
        self.beta_max = bmax
        self.T = _check_T(T)

    def __repr__(self):
        return f"VPSDE(beta_min={self.beta_min!r}, beta_max={self.beta_max!r}, T={self.T!r})"

    def beta(self, t):
        """``β(t) = β_min + t (β_max - β_min)``."""
        return self.beta_min + np.asarray(t, dtype=float) * (self.beta_max - self.beta_min)

    def beta_integral(self, t):
        """``B(t) = ∫_0^t β = β_min t + ½(β_max - β_min) t²``."""
        t = np.asarray(t, dtype=float)
        return self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t * t

    def drift(self, x, t):
        """``f(x, t) = -½β(t) x``."""
        return -0.5 * self.beta(t) * np.asarray(x, dtype=float)

    def diffusion_squared(self, t):
        """``g(t)² = β(t)``."""
        return self.beta(t)

    def mean_scale(self, t):
        """``a(t) = exp(-½B(t))``."""
        return np.exp(-0.5 * self.beta_integral(t))

    def marginal_variance_added(self, t):
        """``1 - a(t)² = 1 - exp(-B(t))`` (computed as ``-expm1(-B)``)."""
        return -np.expm1(-self.beta_integral(t))

    def fp_time_scale(self, t):
        """``β(t)``: the FP generator is ``β(t) L0`` with ``L0 p = ½ ∇·(x p + ∇p)``."""
        return self.beta(t)

    def fp_time_integral(self, t):
        """``B(t) = ∫_0^t β``: ``p_t = exp(B(t) L0) p_0``."""
        return self.beta_integral(t)

    def _prior_variance(self):
        return 1.0


class VESDE(_ScoreSDE):
    """Variance-exploding SDE (Song et al. 2021, eq. 9; SMLD/NCSN in the continuum limit)::

        dx = sqrt(dσ²/dt) dW,   σ(t) = σ_min (σ_max/σ_min)^t,   dσ²/dt = 2σ(t)² ln(σ_max/σ_min)

    Kernel ``N(x_0, (σ(t)² - σ(0)²) I)``.  Fokker–Planck: the heat equation ``∂_t p = D(t) Δp`` with
    diffusivity ``D(t) = ½ dσ²/dt`` (:meth:`fp_time_scale`), ``∫_0^t D = ½(σ(t)² - σ(0)²)``.

    Parameters: ``sigma_min > 0``, ``sigma_max > sigma_min`` (finite), ``T > 0``.
    """

    def __init__(self, sigma_min=0.01, sigma_max=5.0, T=1.0):
        self.sigma_min = _real("sigma_min", sigma_min, positive=True,
                               what=f"sigma_min must be finite and > 0 (accepted range: (0, inf)), got {sigma_min!r}")
        smax = _real("sigma_max", sigma_max)
        if not smax > self.sigma_min:
            raise ParameterError(f"sigma_max must be finite and > sigma_min = {self.sigma_min!r} "
                                 f"(accepted range: (sigma_min, inf)), got {sigma_max!r}")
        self.sigma_max = smax
        self.T = _check_T(T)
        self._log_ratio = math.log(self.sigma_max / self.sigma_min)

    def __repr__(self):
        return f"VESDE(sigma_min={self.sigma_min!r}, sigma_max={self.sigma_max!r}, T={self.T!r})"

    def sigma(self, t):
        """``σ(t) = σ_min (σ_max/σ_min)^t``."""
        return self.sigma_min * np.exp(np.asarray(t, dtype=float) * self._log_ratio)

    def drift(self, x, t):
        """``f = 0``."""
        return np.zeros_like(np.asarray(x, dtype=float))

    def diffusion_squared(self, t):
        """``g(t)² = dσ²/dt = 2σ(t)² ln(σ_max/σ_min)``."""
        return 2.0 * self.sigma(t) ** 2 * self._log_ratio

    def mean_scale(self, t):
        """``a(t) = 1``."""
        return np.ones_like(np.asarray(t, dtype=float))

    def marginal_variance_added(self, t):
        """``σ(t)² - σ(0)² = σ_min² expm1(2t ln(σ_max/σ_min))``."""
        return self.sigma_min**2 * np.expm1(2.0 * np.asarray(t, dtype=float) * self._log_ratio)

    def fp_time_scale(self, t):
        """Diffusivity ``D(t) = ½ dσ²/dt = σ(t)² ln(σ_max/σ_min)`` of ``∂_t p = D(t) Δp``."""
        return 0.5 * self.diffusion_squared(t)

    def fp_time_integral(self, t):
        """``∫_0^t D = ½(σ(t)² - σ(0)²)``."""
        return 0.5 * self.marginal_variance_added(t)

    def _prior_variance(self):
        return float(self.sigma(self.T)) ** 2


# ----------------------------------------------------------------------------------------------
# scores

def exact_score(sde, mixture):
    """Exact score ``s(x, t) = ∇log p_t(x)`` of the marginals of ``sde`` started from ``mixture``::

        ∇log p_t(x) = Σ_k γ_k(x) S_k^{-1}(a μ_k - x),   S_k = a²Σ_k + v(t) I,
        γ_k = w_k N(x; aμ_k, S_k) / Σ_j w_j N(x; aμ_j, S_j)      (log-sum-exp)

    Returns a callable ``s(x, t)`` (``t >= 0`` a float) with ``s.marginal(t)`` giving ``p_t``.
    """
    _sde(sde)
    if not isinstance(mixture, GaussianMixture):
        raise ParameterError(f"mixture must be a GaussianMixture, got {type(mixture).__name__}")

    def score(x, t):
        return sde.marginal(mixture, t).score(x)

    score.marginal = lambda t: sde.marginal(mixture, t)
    score.__doc__ = f"Exact score ∇log p_t of {sde!r} started from {mixture!r}."
    return score


def default_perturbation(x, t):
    """Default perturbation ``φ(x, t) = sin(x)`` (componentwise): smooth, bounded, time-independent,
    the gradient of ``-Σ_i cos(x_i)``."""
    return np.sin(np.asarray(x, dtype=float))


def perturbed_score(score, eps, phi=None):
    """Perturbed score ``s̃(x, t) = s(x, t) + ε φ(x, t)``; ``phi`` defaults to
    :func:`default_perturbation` (``sin x``).  ``s̃`` is in general not the score of any family of
    densities evolving under the SDE: its score-FP residual is ``O(ε)``."""
    _callable("score", score)
    eps = _real("eps", eps)
    phi = default_perturbation if phi is None else _callable("phi", phi)

    def s_eps(x, t):
        return score(x, t) + eps * phi(x, t)

    s_eps.eps = eps
    return s_eps


# ----------------------------------------------------------------------------------------------
# samplers

def _times(t0, t1):
    t0 = _real("t0", t0, nonnegative=True)
    t1 = _real("t1", t1, nonnegative=True)
    if t0 == t1:
        raise ParameterError(f"t0 and t1 must differ, both are {t0!r}")
    return t0, t1


def _nsteps(nsteps):
    if isinstance(nsteps, bool) or not isinstance(nsteps, (int, np.integer)) or nsteps < 1:
        raise ParameterError(f"nsteps must be an integer >= 1, got {nsteps!r}")
    return int(nsteps)


def probability_flow(sde, score, x0, t0, t1, *, rtol=1e-8, atol=1e-10, method="RK45", return_info=False):
    """Integrate the probability-flow ODE (Song et al. 2021, eq. 13)::

        dx/dt = f(x, t) - ½ g(t)² s(x, t)

    from ``t0`` to ``t1`` for all particles ``x0`` (shape ``(n,)`` or ``(n, d)``) at once, as one
    system, with :func:`scipy.integrate.solve_ivp` (``method`` ``"RK45"`` or ``"DOP853"``; ``rtol``,
    ``atol`` as there — note SciPy's error norm is the RMS over all components, i.e. over particles).
    ``t0 < t1`` runs data -> noise, ``t0 > t1`` noise -> data.  With the exact score the map pushes
    ``p_{t0}`` forward to ``p_{t1}``.

    Returns the particles at ``t1`` (same shape as ``x0``); with ``return_info=True`` also a dict
    with ``nfev``, ``nsteps`` and the solver ``message``.
    """
    _sde(sde)
    _callable("score", score)
    x0 = _particles("x0", x0)
    t0, t1 = _times(t0, t1)
    rtol = _real("rtol", rtol, positive=True)
    atol = _real("atol", atol, positive=True)
    if method not in ("RK45", "DOP853", "RK23"):
        raise ParameterError(f"method must be 'RK45', 'DOP853' or 'RK23', got {method!r}")
    shape = x0.shape

    def rhs(t, y):
        x = y.reshape(shape)
        v = sde.drift(x, t) - 0.5 * sde.diffusion_squared(t) * score(x, t)
        return np.asarray(v, dtype=float).ravel()

    sol = solve_ivp(rhs, (t0, t1), x0.ravel(), method=method, rtol=rtol, atol=atol, t_eval=[t1])
    if sol.status != 0:
        raise PdekitError(f"probability-flow ODE solver failed between t = {t0} and {t1}: {sol.message}")
    x = sol.y[:, -1].reshape(shape)
    if not np.all(np.isfinite(x)):
        raise InstabilityError(f"probability-flow ODE produced non-finite particles at t = {t1}", time=t1)
    if return_info:
        return x, {"nfev": int(sol.nfev), "nsteps": int(sol.t.size), "message": sol.message}
    return x


def reverse_sde(sde, score, xT, T=None, t_end=1e-3, nsteps=1000, rng=None):
    """Euler–Maruyama for the reverse-time SDE (Song et al. 2021, eq. 6; Anderson 1982)::

        dx = [f(x, t) - g(t)² s(x, t)] dt + g(t) dW̄,    t from T down to t_end

    with ``nsteps`` uniform steps ``h = (T - t_end)/nsteps``:
    ``x <- x - [f(x, t) - g² s(x, t)] h + g(t) sqrt(h) z``, ``z ~ N(0, I)``, ``t <- t - h``.
    Weak order 1: the law at ``t_end`` has an ``O(h)`` bias.  ``T`` defaults to ``sde.T``.
    Returns the particles at ``t_end`` (shape of ``xT``).
    """
    _sde(sde)
    _callable("score", score)
    x = _particles("xT", xT)
    T = sde.T if T is None else _real("T", T, positive=True)
    t_end = _real("t_end", t_end, nonnegative=True)
    if not t_end < T:
        raise ParameterError(f"t_end must lie in [0, T) = [0, {T}), got {t_end!r}")
    n = _nsteps(nsteps)
    rng = _rng(rng)
    h = (T - t_end) / n
    sq = math.sqrt(h)
    for i in range(n):
        t = T - i * h
        g2 = float(sde.diffusion_squared(t))
        x = x - (sde.drift(x, t) - g2 * score(x, t)) * h + math.sqrt(g2) * sq * rng.standard_normal(x.shape)
    if not np.all(np.isfinite(x)):
        raise InstabilityError(f"reverse SDE produced non-finite particles by t = {t_end}", time=t_end, step=n)
    return x


def forward_sde(sde, x0, t0=0.0, t1=None, nsteps=1000, rng=None):
    """Euler–Maruyama for the forward SDE ``dx = f(x, t) dt + g(t) dW`` from ``t0`` to ``t1 > t0``
    (default ``sde.T``) in ``nsteps`` uniform steps.  Returns the particles at ``t1``."""
    _sde(sde)
    x = _particles("x0", x0)
    t1 = sde.T if t1 is None else t1
    t0, t1 = _times(t0, t1)
    if not t1 > t0:
        raise ParameterError(f"forward_sde needs t1 > t0, got t0 = {t0}, t1 = {t1}")
    n = _nsteps(nsteps)
    rng = _rng(rng)
    h = (t1 - t0) / n
    sq = math.sqrt(h)
    for i in range(n):
        t = t0 + i * h
        x = x + sde.drift(x, t) * h + math.sqrt(float(sde.diffusion_squared(t))) * sq * rng.standard_normal(x.shape)
    return x


# ----------------------------------------------------------------------------------------------
# score Fokker–Planck residual

def _residual_axes(grid):
    if isinstance(grid, np.ndarray) and grid.ndim == 1 or (
            isinstance(grid, (list, tuple)) and len(grid) > 0 and np.ndim(grid[0]) == 0):
        axes, univariate = [np.asarray(grid, dtype=float)], True
    elif isinstance(grid, (list, tuple)) and len(grid) > 0:
        axes, univariate = [np.asarray(a, dtype=float) for a in grid], False
    else:
        raise ParameterError("grid must be a 1D array of points (univariate) or a sequence of d 1D arrays")
    hs = []
    for i, a in enumerate(axes):
        if a.ndim != 1 or a.size < 2 or not np.all(np.isfinite(a)):
            raise ParameterError(f"grid axis {i} must be a finite 1D array with at least 2 points")
        dx = np.diff(a)
        h = (a[-1] - a[0]) / (a.size - 1)
        if not h > 0 or np.max(np.abs(dx - h)) > 1e-9 * abs(h):
            raise ParameterError(f"grid axis {i} must be uniform and increasing")
        hs.append(h)
    return axes, hs, univariate


def score_fp_residual(sde, score, grid, t, dt=None):
    """Score Fokker–Planck residual (Deveney et al. 2023) of a field ``s(x, t)`` on a uniform grid::

        r(x, t) = ∂_t s - ∇[ -∇·f - f·s + ½ g(t)² (∇·s + |s|²) ]

    (VP: ``r = ∂_t s - ½β(t) ∇[x·s + ∇·s + |s|²]``).  ``r = 0`` exactly iff ``s`` is the score of a
    density evolving by the FP equation of ``sde`` (up to a time-dependent constant in the bracket).

    Discretisation: second-order central differences in every ``x`` direction (nested, for the
    divergence and then the gradient; ``score`` is evaluated at two ghost points beyond each end so
    that ``r`` is second order at every requested point) and the central difference
    ``(s(t+dt) - s(t-dt)) / 2dt`` in time (the one-sided second-order formula if ``t < dt``).
    ``dt`` defaults to ``1e-5 T``.

    ``grid``: a 1D uniform array (univariate score, particles ``(n,)``) or a sequence of ``d``
    uniform 1D axes (tensor grid, score on ``(n, d)`` points).  Returns ``r`` of shape ``(N,)``
    or ``(N_1, ..., N_d, d)``.
    """
    _sde(sde)
    _callable("score", score)
    axes, hs, univariate = _residual_axes(grid)
    t = _real("t", t, nonnegative=True)
    dt = 1e-5 * sde.T if dt is None else _real("dt", dt, positive=True)
    d = len(axes)
    ext = [np.concatenate([a[0] + h * np.arange(-2, 0), a, a[-1] + h * np.arange(1, 3)])
           for a, h in zip(axes, hs)]
    X = np.stack(np.meshgrid(*ext, indexing="ij"), axis=-1)
    inner = (slice(2, -2),) * d

    def field_on(fn, pts, tt):
        P = pts.reshape(-1, d)
        v = np.asarray(fn(P[:, 0] if univariate else P, tt), dtype=float)
        return v.reshape(pts.shape)

    def dcen(F, i):
        out = np.full(F.shape, np.nan)
        lo = [slice(None)] * F.ndim
        hi = [slice(None)] * F.ndim
        mid = [slice(None)] * F.ndim
        lo[i], hi[i], mid[i] = slice(None, -2), slice(2, None), slice(1, -1)
        out[tuple(mid)] = (F[tuple(hi)] - F[tuple(lo)]) / (2.0 * hs[i])
        return out

    s = field_on(score, X, t)
    f = field_on(sde.drift, X, t)
    g2 = float(sde.diffusion_squared(t))
    div_s = sum(dcen(s[..., i], i) for i in range(d))
    div_f = sum(dcen(f[..., i], i) for i in range(d))
    G = -div_f - np.sum(f * s, axis=-1) + 0.5 * g2 * (div_s + np.sum(s * s, axis=-1))
    grad_G = np.stack([dcen(G, i) for i in range(d)], axis=-1)[inner]
    Xin = X[inner]
    if t >= dt:
        ds_dt = (field_on(score, Xin, t + dt) - field_on(score, Xin, t - dt)) / (2.0 * dt)
    else:
        ds_dt = (-3.0 * s[inner] + 4.0 * field_on(score, Xin, t + dt) - field_on(score, Xin, t + 2 * dt)) / (2 * dt)
    r = ds_dt - grad_G
    return r[..., 0] if univariate else r


def score_fp_residual_norm(residual, grid, weight=None):
    """Discrete L2 norm ``(Σ_j |r_j|² w_j ΔV)^{1/2}`` of a residual from :func:`score_fp_residual` on
    the same grid; ``weight`` (e.g. the density ``p_t`` on the grid) defaults to 1, giving the plain
    L2 norm; with ``weight = p_t`` it is ``(E_{p_t}|r|²)^{1/2}``."""
    axes, hs, univariate = _residual_axes(grid)
    r = np.asarray(residual, dtype=float)
    shape = tuple(a.size for a in axes)
    r2 = r**2 if univariate else np.sum(r**2, axis=-1)
    if r2.shape != shape:
        raise ParameterError(f"residual shape {r.shape} does not match the grid {shape}")
    w = 1.0 if weight is None else np.broadcast_to(np.asarray(weight, dtype=float), shape)
    return float(np.sqrt(np.sum(r2 * w) * np.prod(hs)))


# ----------------------------------------------------------------------------------------------
# Wasserstein-2 in 1D

def _sample_1d(name, a):
    a = np.asarray(a, dtype=float)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
        raise ParameterError(f"{name} must be a non-empty finite 1D sample (shape (n,) or (n, 1)), got shape {a.shape}")
    return a


def wasserstein2_1d(a, b) -> float:
    """W2 distance between the empirical measures of two 1D samples::

        W2² = ∫_0^1 (Q_a(u) - Q_b(u))² du

    (monotone rearrangement; ``Q`` the empirical quantile functions, step functions).  Equal sizes:
    ``sqrt(mean((sort a - sort b)²))``; unequal sizes: the integral evaluated exactly over the merged
    breakpoints ``{i/n_a} ∪ {j/n_b}``.  ``W2(x, x + c) = |c|``."""
    a = np.sort(_sample_1d("a", a))
    b = np.sort(_sample_1d("b", b))
    if a.size == b.size:
        return float(np.sqrt(np.mean((a - b) ** 2)))
    na, nb = a.size, b.size
    u = np.unique(np.concatenate([np.arange(1, na + 1) / na, np.arange(1, nb + 1) / nb]))
    du = np.diff(u, prepend=0.0)
    mid = u - 0.5 * du
    ia = np.minimum((mid * na).astype(np.int64), na - 1)
    ib = np.minimum((mid * nb).astype(np.int64), nb - 1)
    return float(np.sqrt(np.sum(du * (a[ia] - b[ib]) ** 2)))


def wasserstein2_to_mixture_1d(samples, mixture) -> float:
    """W2 between the empirical measure of a 1D sample and a one-dimensional Gaussian mixture::

        W2² = Σ_i ∫_{q_{i-1}}^{q_i} (x_(i) - y)² p(y) dy,   q_i = F^{-1}(i/n)

    evaluated with the closed-form truncated moments of the Gaussian components (no sampling noise
    from the reference)."""
    if not isinstance(mixture, GaussianMixture):
        raise ParameterError(f"mixture must be a GaussianMixture, got {type(mixture).__name__}")
    mixture._need_univariate("wasserstein2_to_mixture_1d")
    x = np.sort(_sample_1d("samples", samples))
    n = x.size
    q = np.concatenate([[-np.inf], mixture.ppf(np.arange(1, n) / n), [np.inf]])
    mu = mixture._mu[:, 0]
    sd = np.sqrt(mixture._cov[:, 0, 0])
    z = (q[:, None] - mu) / sd                                     # (n+1, K)
    Phi = ndtr(z)
    with np.errstate(invalid="ignore", over="ignore"):
        phi = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        zphi = np.where(np.isfinite(z), z * phi, 0.0)
    dPhi, dphi, dzphi = np.diff(Phi, axis=0), np.diff(phi, axis=0), np.diff(zphi, axis=0)
    w = mixture._w
    P = dPhi @ w
    M1 = (dPhi * mu - dphi * sd) @ w
    M2 = (dPhi * mu**2 - 2 * mu * sd * dphi + sd**2 * (dPhi - dzphi)) @ w
    w2sq = np.sum(x * x * P - 2 * x * M1 + M2)
    return float(np.sqrt(max(w2sq, 0.0)))


# ----------------------------------------------------------------------------------------------
# the ODE–SDE gap experiment (Deveney et al. 2023)

@dataclass
class GapResult:
    """Outcome of :func:`ode_sde_gap` (all distances are W2 in 1D)."""
    w2_ode_sde: float          #: W2(PF-ODE samples, reverse-SDE samples) — the ODE–SDE gap
    w2_ode_exact: float        #: W2(PF-ODE samples, exact p_{t_end})
    w2_sde_exact: float        #: W2(reverse-SDE samples, exact p_{t_end})
    w2_sampling: float         #: RMS W2 between two independent exact n-samples of p_{t_end}
    residual_norm: float       #: (∫_{t_end}^T E_{p_t}|r|² dt)^{1/2}, r the score-FP residual
    x_T: np.ndarray = field(repr=False)
    x_ode: np.ndarray = field(repr=False)
    x_sde: np.ndarray = field(repr=False)


def time_integrated_residual(sde, score, mixture, t_start, t_stop, *, n_times=16, n_points=1601, width=10.0):
    """``(∫ E_{p_t}|r(·, t)|² dt)^{1/2}`` over ``[t_start, t_stop]`` for a 1D score: Gauss–Legendre in
    ``t`` (``n_times`` nodes), at each node :func:`score_fp_residual` on a uniform grid covering every
    component of the exact ``p_t`` to ``± width`` standard deviations, weighted by ``p_t``."""
    mixture._need_univariate("time_integrated_residual")
    nodes, wts = np.polynomial.legendre.leggauss(int(n_times))
    ts = 0.5 * (t_stop - t_start) * nodes + 0.5 * (t_stop + t_start)
    total = 0.0
    for t, wt in zip(ts, wts):
        pt = sde.marginal(mixture, t)
        mu, sd = pt._mu[:, 0], np.sqrt(pt._cov[:, 0, 0])
        xg = np.linspace(np.min(mu - width * sd), np.max(mu + width * sd), int(n_points))
        r = score_fp_residual(sde, score, xg if mixture.univariate else [xg], t)
        total += 0.5 * (t_stop - t_start) * wt * score_fp_residual_norm(
            r, xg if mixture.univariate else [xg], weight=pt.pdf(xg if mixture.univariate else xg[:, None])) ** 2
    return float(np.sqrt(total))


def ode_sde_gap(sde, mixture, score=None, n=20000, rng=None, *, t_end=1e-3, nsteps=1000, prior="marginal",
                rtol=1e-8, atol=1e-10, method="RK45", n_ref_pairs=32, residual=True) -> GapResult:
    """The ODE–SDE gap experiment of Deveney et al. (2023) in 1D.

    Draw ``x_T`` (``n`` particles) from the exact ``p_T`` (``prior="marginal"``) or from the
    reference prior :meth:`~VPSDE.prior` (``prior="reference"``); push the *same* ``x_T`` back to
    ``t_end`` with the probability-flow ODE (:func:`probability_flow`) and the reverse SDE
    (:func:`reverse_sde`, ``nsteps`` Euler–Maruyama steps), both driven by ``score`` (default: the
    exact score of ``mixture``).  Report W2 between the two sample sets, W2 of each to the exact
    marginal ``p_{t_end}`` (≈ ``p_0``), the sampling-error scale (RMS over ``n_ref_pairs`` pairs of
    W2 between two independent exact ``n``-samples of ``p_{t_end}``) and the time-integrated
    score-FP residual of ``score`` (:func:`time_integrated_residual`, skipped if ``residual=False``).

    Expected (Deveney et al.): exact score -> gap at the sampling-error level; perturbed score
    ``s + εφ`` -> gap growing with ε and with the residual.
    """
    _sde(sde)
    if not isinstance(mixture, GaussianMixture):
        raise ParameterError(f"mixture must be a GaussianMixture, got {type(mixture).__name__}")
    mixture._need_univariate("ode_sde_gap")
    score = exact_score(sde, mixture) if score is None else _callable("score", score)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ParameterError(f"n must be an integer >= 2, got {n!r}")
    if prior not in ("marginal", "reference"):
        raise ParameterError(f"prior must be 'marginal' or 'reference', got {prior!r}")
    rng = _rng(rng)
    T = sde.T
    pT = sde.marginal(mixture, T) if prior == "marginal" else sde.prior(None if mixture.univariate else 1)
    xT = pT.sample(int(n), rng)
    x_ode = probability_flow(sde, score, xT, T, t_end, rtol=rtol, atol=atol, method=method)
    x_sde = reverse_sde(sde, score, xT, T, t_end=t_end, nsteps=nsteps, rng=rng)
    p_end = sde.marginal(mixture, t_end)
    ref = [wasserstein2_1d(p_end.sample(int(n), rng), p_end.sample(int(n), rng)) ** 2 for _ in range(int(n_ref_pairs))]
    res = time_integrated_residual(sde, score, mixture, t_end, T) if residual else float("nan")
    return GapResult(w2_ode_sde=wasserstein2_1d(x_ode, x_sde),
                     w2_ode_exact=wasserstein2_to_mixture_1d(x_ode, p_end),
                     w2_sde_exact=wasserstein2_to_mixture_1d(x_sde, p_end),
                     w2_sampling=float(np.sqrt(np.mean(ref))), residual_norm=res,
                     x_T=xT, x_ode=x_ode, x_sde=x_sde)
