"""Euler–Maruyama particle sampler for cross-checking Fokker–Planck grid solutions.

The grid model solves, per axis ``i`` (diagonal diffusion),

    du/dt = sum_i d/dx_i [ C_i(x,t) du/dx_i + B_i(x,t) u ] + S - nu(x,t) u,

which is the forward (Fokker–Planck) equation of the Itô SDE

    dX_i = a_i(X,t) dt + sqrt(2 C_i(X,t)) dW_i,      a_i = dC_i/dx_i - B_i

(``C`` is the FP diffusion coefficient, not the noise amplitude; for constant ``C``, ``a = -B``;
:func:`sde_coefficients_from_fp` does the conversion). Zero-flux walls are reflecting walls,
periodic axes wrap, Dirichlet-zero walls are absorbing (killing) walls, and a loss rate ``nu``
kills particles at rate ``nu``; here it is carried as the survival weight
``w = exp(-int nu(X_s,s) ds)`` (Feynman–Kac; variance-reduced compared with random killing).

Scheme (Kloeden & Platen, *Numerical Solution of Stochastic Differential Equations*, Springer
1992: Ch. 10 for the Euler and Milstein schemes and their strong orders, Ch. 14 for the weak
order), with ``dt = (t1 - t0)/nsteps``, ``t_k = t0 + k dt``, ``Z ~ N(0, 1)``:

    X_{k+1} = X_k + a(X_k, t_k) dt + sqrt(2 C(X_k, t_k) dt) Z                  (Euler–Maruyama)
    X_{k+1} += 1/2 C'(X_k, t_k) dt (Z^2 - 1)                          (Milstein, 1D only)

Euler–Maruyama has strong order 1/2 and **weak order 1**: for smooth test functions and
coefficients, ``|E f(X_N) - E f(X(T))| <= K(T, f) dt`` (K&P Ch. 14). Histograms and moments
are weak quantities, so halving ``dt`` halves the bias; Milstein (``sigma sigma' = C'`` for
``sigma = sqrt(2C)``) raises the strong order to 1 but keeps weak order 1. The log-weight uses the
left-point rule ``log w -= nu(X_k, t_k) dt`` (also weak order 1; exact for constant ``nu``).

Boundaries, applied after each step per axis:

* ``"reflecting"``: the symmetrized Euler scheme, ``x -> 2 lo - x`` (folded as often as needed, in
  O(1), for steps longer than the domain); weak order 1 (Bossy, Gobet & Talay, J. Appl. Probab.
  41 (2004) 877–889). Particle number is conserved exactly.
* ``"periodic"``: ``x -> lo + (x - lo) mod (hi - lo)``.
* ``"absorbing"``: a particle that lands at or beyond a wall is removed (``alive = False``, its
  position set to the wall it crossed, ``exit_time = t_{k+1}``). With ``bridge=True`` (default) it
  is also removed with the Brownian-bridge probability of having crossed the wall *during* the
  step, ``p = exp(-(x_k - lo)(x_{k+1} - lo) / (C dt))`` per wall; discrete monitoring alone has a
  bias of order ``sqrt(dt)``, the bridge test restores order ``dt`` (Gobet, Stoch. Proc. Appl. 87
  (2000) 167–197). Particles starting exactly on an absorbing wall are removed in the first step.

Random numbers: every particle has its own xoshiro256++ stream (Blackman & Vigna, ACM TOMS 47
(2021)) seeded from ``(seed, particle index)`` through splitmix64, and normals come from the
256-layer ziggurat of Marsaglia & Tsang (J. Stat. Softw. 5(8), 2000) with NumPy's 52-bit tables.
Results therefore depend on the seed only — not on the thread count, on ``chunk``, or on which of the
two code paths ran: the compiled path and the Python-callable path consume each particle's stream
in the same order (per step: one normal per axis in axis order, then, for absorbing walls with
``bridge=True``, one uniform per absorbing axis) and apply the same compiled update, so for equal
coefficient values they return identical positions (tests check this to rounding).

Coefficient conventions (``d`` = number of axes; ``d = 1`` for ``x0`` of shape ``(n,)`` or
``(n, 1)``):

================  ======================================  ======================================
kind              d = 1                                   d >= 2
================  ======================================  ======================================
constant          number                                  number or length-``d`` sequence
numba function    ``f(x: float, t: float) -> float``      ``f(x: float64[d], t: float, out: float64[d])``
                                                          writes ``out`` in place, returns nothing
Python callable   ``f(x: (m,), t) -> (m,)``               ``f(X: (m, d), t) -> (m, d)``
================  ======================================  ======================================

``loss_rate`` functions return one number per particle: numba ``nu(x, t) -> float`` (``x`` a float
for d = 1, a ``float64[d]`` array otherwise), Python ``nu(X, t) -> (m,)``. Numba functions are
``numba.njit`` dispatchers; the compiled kernels take them as first-class function pointers
(signatures above), so a new user function costs only its own compilation and the kernels are
compiled once and cached (``cache=True``). Python callables are vectorised: the time loop runs in
Python and each coefficient is one call over all particles of a chunk; they (and numba functions)
must be pointwise in the particles, must not modify their inputs, and Python callables may return
anything that broadcasts to the shapes above. If any coefficient is a Python callable, the Python
path is used (numba coefficients are then evaluated by a compiled loop).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache

import numba
import numpy as np
from numba import prange, types
from scipy import stats

from ..errors import InstabilityError, ParameterError

__all__ = ["euler_maruyama", "ParticleResult", "histogram_density", "compare_to_density",
           "DensityComparison", "sde_coefficients_from_fp", "standard_normal"]

# --------------------------------------------------------------------------------------------
# constants and codes
# --------------------------------------------------------------------------------------------
FREE, REFLECTING, PERIODIC, ABSORBING = 0, 1, 2, 3
BOUNDARY_CODES = {None: FREE, "none": FREE, "free": FREE, "reflecting": REFLECTING, "reflect": REFLECTING,
                  "zero_flux": REFLECTING, "periodic": PERIODIC, "absorbing": ABSORBING}
#: per-particle status codes written by the kernels
OK, ABSORBED, BAD_DIFFUSION, NON_FINITE = 0, 1, 2, 3
#: coefficient kinds passed to the kernels
K_CONST, K_FUNC = 0, 1
EULER, MILSTEIN = 0, 1
SCHEMES = {"euler": EULER, "euler-maruyama": EULER, "em": EULER, "milstein": MILSTEIN}
#: central-difference step (relative) for dC/dx: eps^(1/3) balances truncation and rounding
FD_H = float(np.finfo(float).eps ** (1.0 / 3.0))
DEFAULT_CHUNK = 1 << 18

_U64 = np.uint64
_GAMMA = _U64(0x9E3779B97F4A7C15)
_M1 = _U64(0xBF58476D1CE4E5B9)
_M2 = _U64(0x94D049BB133111EB)
_MASK52 = _U64(0x000FFFFFFFFFFFFF)
_TWO_M53 = 1.0 / 9007199254740992.0
_ZIG_R = 3.6541528853610088
_ZIG_INV_R = 1.0 / _ZIG_R


def _ziggurat_tables():
    """NumPy's 256-layer ziggurat tables for N(0,1) (Marsaglia & Tsang 2000, 52-bit mantissa).

    Layer ``i`` (1..255) is the rectangle ``[0, x_i] x [f(x_i), f(x_{i-1})]``, ``f = exp(-x^2/2)``,
    ``x_0 = 0``, ``x_255 = r``; layer 0 is the base strip (width ``v/f(r)``) including the tail.
    ``k_i = floor(2^52 x_{i-1}/x_i)`` is the inner-rectangle acceptance bound, ``w_i = x_i/2^52``.
    """
    m1 = 2.0 ** 52
    dn = tn = _ZIG_R
    # common area of the layers: base strip r f(r) + tail int_r^inf f (= 4.92867323399e-3 of M&T)
    vn = dn * math.exp(-0.5 * dn * dn) + math.sqrt(0.5 * math.pi) * math.erfc(dn / math.sqrt(2.0))
    q = vn / math.exp(-0.5 * dn * dn)
    ki = np.zeros(256, np.uint64)
    wi = np.zeros(256)
    fi = np.zeros(256)
    ki[0] = np.uint64(int((dn / q) * m1))
    ki[1] = 0
    wi[0] = q / m1
    wi[255] = dn / m1
    fi[0] = 1.0
    fi[255] = math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(vn / dn + math.exp(-0.5 * dn * dn)))
        ki[i + 1] = np.uint64(int((dn / tn) * m1))
        tn = dn
        fi[i] = math.exp(-0.5 * dn * dn)
        wi[i] = dn / m1
    return ki, wi, fi


_ZK, _ZW, _ZF = _ziggurat_tables()


def _splitmix64_py(z):
    """One splitmix64 output for the state ``z`` (Python ints, 64-bit wrap)."""
    mask = (1 << 64) - 1
    z = (z + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def _seed_base(seed):
    """64-bit stream base for a user seed (particle ``i`` uses splitmix64 outputs 4i+1..4i+4)."""
    return _U64(_splitmix64_py(_splitmix64_py(int(seed) ^ 0x5DEECE66D)))


# --------------------------------------------------------------------------------------------
# compiled random numbers (plain scalars; state is the tuple (s0, s1, s2, s3))
# --------------------------------------------------------------------------------------------
@numba.njit(cache=True, inline="always")
def _mix64(z):
    z = (z ^ (z >> _U64(30))) * _M1
    z = (z ^ (z >> _U64(27))) * _M2
    return z ^ (z >> _U64(31))


@numba.njit(cache=True, inline="always")
def _seed_particle(base, i):
    """xoshiro256++ state of particle ``i``: splitmix64 outputs 4i+1 .. 4i+4 of the stream ``base``."""
    z = base + _U64(4) * _U64(i) * _GAMMA
    s0 = _mix64(z + _GAMMA)
    s1 = _mix64(z + _U64(2) * _GAMMA)
    s2 = _mix64(z + _U64(3) * _GAMMA)
    s3 = _mix64(z + _U64(4) * _GAMMA)
    return s0, s1, s2, s3


@numba.njit(cache=True, inline="always")
def _next(s0, s1, s2, s3):
    """xoshiro256++: next 64-bit output and the new state."""
    x = s0 + s3
    r = ((x << _U64(23)) | (x >> _U64(41))) + s0
    t = s1 << _U64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _U64(45)) | (s3 >> _U64(19))
    return r, s0, s1, s2, s3


@numba.njit(cache=True, inline="always")
def _uniform(s0, s1, s2, s3):
    """Uniform on [0, 1) with 53 random bits."""
    r, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
    return float(r >> _U64(11)) * _TWO_M53, s0, s1, s2, s3


@numba.njit(cache=True)
def _normal_slow(idx, rabs, x, s0, s1, s2, s3):
    """Ziggurat rejection branch (about 1.5% of the draws): wedge or tail test, then retry."""
    while True:
        if idx == _U64(0):
            # tail beyond r (Marsaglia 1964), with 1 - U to avoid log(0)
            while True:
                u1, s0, s1, s2, s3 = _uniform(s0, s1, s2, s3)
                u2, s0, s1, s2, s3 = _uniform(s0, s1, s2, s3)
                xx = -_ZIG_INV_R * math.log1p(-u1)
                yy = -math.log1p(-u2)
                if yy + yy > xx * xx:
                    if ((rabs >> _U64(8)) & _U64(1)) != _U64(0):
                        return -(_ZIG_R + xx), s0, s1, s2, s3
                    return _ZIG_R + xx, s0, s1, s2, s3
        else:
            u, s0, s1, s2, s3 = _uniform(s0, s1, s2, s3)
            if (_ZF[idx - _U64(1)] - _ZF[idx]) * u + _ZF[idx] < math.exp(-0.5 * x * x):
                return x, s0, s1, s2, s3
        r, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
        idx = r & _U64(0xFF)
        r = r >> _U64(8)
        neg = (r & _U64(1)) != _U64(0)
        rabs = (r >> _U64(1)) & _MASK52
        x = float(rabs) * _ZW[idx]
        if neg:
            x = -x
        if rabs < _ZK[idx]:
            return x, s0, s1, s2, s3


@numba.njit(cache=True)
def _normal(s0, s1, s2, s3):
    """Standard normal by the ziggurat method (NumPy's layout: 8 index bits, sign bit, 52 bits).

    The tables are module globals (frozen into the compiled code) and the state is four scalars,
    so the fast path (98.5%) compiles to a few instructions with no array arguments.
    """
    r, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
    idx = r & _U64(0xFF)
    r = r >> _U64(8)
    neg = (r & _U64(1)) != _U64(0)
    rabs = (r >> _U64(1)) & _MASK52
    x = float(rabs) * _ZW[idx]
    if neg:
        x = -x
    if rabs < _ZK[idx]:
        return x, s0, s1, s2, s3
    return _normal_slow(idx, rabs, x, s0, s1, s2, s3)


@numba.njit(cache=True, parallel=True)
def _normals_kernel(out, base, first):
    """``out[i, j]``: the j-th normal of particle ``first + i`` (the sampler's stream layout)."""
    n, m = out.shape
    for i in prange(n):
        s0, s1, s2, s3 = _seed_particle(base, first + i)
        for j in range(m):
            z, s0, s1, s2, s3 = _normal(s0, s1, s2, s3)
            out[i, j] = z


@numba.njit(cache=True)
def _seed_states(states, base, first):
    """Fill ``states[i]`` with the xoshiro256++ state of particle ``first + i``."""
    for i in range(states.shape[0]):
        s0, s1, s2, s3 = _seed_particle(base, first + i)
        states[i, 0] = s0
        states[i, 1] = s1
        states[i, 2] = s2
        states[i, 3] = s3


def standard_normal(shape, seed):
    """Standard normals from the sampler's generator: row ``i`` is particle ``i``'s stream.

    ``shape`` is ``n`` or ``(n, m)``; useful to inspect the generator or to draw initial positions
    with the same reproducibility guarantees (independent of the thread count).
    """
    shp = (shape, 1) if np.ndim(shape) == 0 else tuple(shape)
    if len(shp) != 2 or shp[0] < 0 or shp[1] < 0:
        raise ParameterError(f"shape must be n or (n, m) with n, m >= 0, got {shape!r}")
    seed = _check_seed(seed)
    out = np.empty((int(shp[0]), int(shp[1])))
    _normals_kernel(out, _seed_base(seed), 0)
    return out[:, 0] if np.ndim(shape) == 0 else out


# --------------------------------------------------------------------------------------------
# compiled single-particle steps (shared by the compiled kernels and the Python path)
# --------------------------------------------------------------------------------------------
@numba.njit(cache=True, inline="always")
def _reflect(x, lo, hi):
    """Mirror ``x`` into [lo, hi] (one-sided if a bound is infinite), folding repeatedly in O(1)."""
    if x < lo or x > hi:
        if hi == np.inf:
            return 2.0 * lo - x
        if lo == -np.inf:
            return 2.0 * hi - x
        length = hi - lo
        y = (x - lo) % (2.0 * length)
        if y > length:
            y = 2.0 * length - y
        return min(lo + y, hi)        # lo + (hi - lo) may round above hi
    return x


@numba.njit(cache=True, inline="always")
def _wrap(x, lo, hi):
    if x < lo or x >= hi:
        x = lo + (x - lo) % (hi - lo)
        if x >= hi:
            x = lo
    return x


@numba.njit(cache=True, inline="always")
def _bridge_prob(x, xn, c, dt, lo, hi):
    """Probability that the Brownian bridge from x to xn (variance 2 c dt) touched lo or hi."""
    if not c > 0.0:
        return 0.0, True
    plo = 0.0
    phi = 0.0
    if lo > -np.inf:
        plo = math.exp(-(x - lo) * (xn - lo) / (c * dt))
    if hi < np.inf:
        phi = math.exp(-(hi - x) * (hi - xn) / (c * dt))
    return 1.0 - (1.0 - plo) * (1.0 - phi), plo >= phi


@numba.njit(cache=True, inline="always")
def _step_1d(x, a, c, dc, dt, scheme, bkind, lo, hi, bridge, s0, s1, s2, s3):
    """One EM/Milstein step of one particle; returns (new x, status code, state)."""
    if not (c >= 0.0 and c < np.inf):
        return x, BAD_DIFFUSION, s0, s1, s2, s3
    z, s0, s1, s2, s3 = _normal(s0, s1, s2, s3)
    xn = x + a * dt + math.sqrt(2.0 * c * dt) * z
    if scheme == MILSTEIN:
        xn += 0.5 * dc * dt * (z * z - 1.0)
    if not (xn - xn == 0.0):
        return x, NON_FINITE, s0, s1, s2, s3
    if bkind == REFLECTING:
        xn = _reflect(xn, lo, hi)
    elif bkind == PERIODIC:
        xn = _wrap(xn, lo, hi)
    elif bkind == ABSORBING:
        u = 1.0
        if bridge:
            u, s0, s1, s2, s3 = _uniform(s0, s1, s2, s3)
        if xn <= lo:
            return lo, ABSORBED, s0, s1, s2, s3
        if xn >= hi:
            return hi, ABSORBED, s0, s1, s2, s3
        if bridge:
            p, low_side = _bridge_prob(x, xn, c, dt, lo, hi)
            if u < p:
                return (lo if low_side else hi), ABSORBED, s0, s1, s2, s3
    return xn, OK, s0, s1, s2, s3


@numba.njit(cache=True, inline="always")
def _step_nd(x, a, c, xo, dt, bkind, lo, hi, bridge, s0, s1, s2, s3):
    """One EM step of one particle in d axes (writes ``xo``); returns (status code, state)."""
    d = x.shape[0]
    for j in range(d):
        if not (c[j] >= 0.0 and c[j] < np.inf):
            return BAD_DIFFUSION, s0, s1, s2, s3
    for j in range(d):
        z, s0, s1, s2, s3 = _normal(s0, s1, s2, s3)
        xo[j] = x[j] + a[j] * dt + math.sqrt(2.0 * c[j] * dt) * z
    for j in range(d):
        if not (xo[j] - xo[j] == 0.0):
            return NON_FINITE, s0, s1, s2, s3
    for j in range(d):
        kind = bkind[j]
        if kind == REFLECTING:
            xo[j] = _reflect(xo[j], lo[j], hi[j])
        elif kind == PERIODIC:
            xo[j] = _wrap(xo[j], lo[j], hi[j])
        elif kind == ABSORBING:
            u = 1.0
            if bridge:
                u, s0, s1, s2, s3 = _uniform(s0, s1, s2, s3)
            if xo[j] <= lo[j]:
                xo[j] = lo[j]
                return ABSORBED, s0, s1, s2, s3
            if xo[j] >= hi[j]:
                xo[j] = hi[j]
                return ABSORBED, s0, s1, s2, s3
            if bridge:
                p, low_side = _bridge_prob(x[j], xo[j], c[j], dt, lo[j], hi[j])
                if u < p:
                    xo[j] = lo[j] if low_side else hi[j]
                    return ABSORBED, s0, s1, s2, s3
    return OK, s0, s1, s2, s3


# --------------------------------------------------------------------------------------------
# compiled kernels (explicit signatures with first-class function arguments -> cacheable,
# compiled once for every user function); created lazily so that importing is cheap
# --------------------------------------------------------------------------------------------
_f8, _i8, _i1, _u8, _b1 = types.float64, types.int64, types.int8, types.uint64, types.boolean
_FN_S = types.FunctionType(_f8(_f8, _f8))                           # d = 1: f(x, t) -> float
_FN_V = types.FunctionType(types.none(_f8[::1], _f8, _f8[::1]))      # d >= 2: f(x, t, out)
_FN_LV = types.FunctionType(_f8(_f8[::1], _f8))                     # d >= 2: nu(x, t) -> float
_SIG_SCALAR = (_f8, _f8)
_SIG_VEC = (_f8[::1], _f8, _f8[::1])
_SIG_LOSS_VEC = (_f8[::1], _f8)


def _kernel_1d_py(x, logw, code, step, base, t0, dt, nsteps, akind, aconst, afn, ckind, cconst, cfn,
                  scheme, dckind, dcfn, nukind, nuconst, nufn, bkind, lo, hi, bridge):
    n = x.shape[0]
    # the loop is unswitched by hand: a loop without (not even untaken) indirect calls keeps the
    # generator state in registers; about 2x faster for constant coefficients
    plain = scheme == EULER and nukind != 2 and ckind == K_CONST
    for i in prange(n):
        s0, s1, s2, s3 = _seed_particle(base, i)
        xi = x[i]
        L = 0.0
        cd = OK
        kk = 0
        if plain and akind == K_CONST:
            for k in range(nsteps):
                if nukind == 1:
                    L += nuconst * dt
                xn, cd, s0, s1, s2, s3 = _step_1d(xi, aconst, cconst, 0.0, dt, EULER, bkind, lo, hi, bridge,
                                                  s0, s1, s2, s3)
                if cd != OK:
                    kk = k
                    if cd == ABSORBED:
                        xi = xn
                    break
                xi = xn
        elif plain:
            for k in range(nsteps):
                a = afn(xi, t0 + k * dt)
                if nukind == 1:
                    L += nuconst * dt
                xn, cd, s0, s1, s2, s3 = _step_1d(xi, a, cconst, 0.0, dt, EULER, bkind, lo, hi, bridge,
                                                  s0, s1, s2, s3)
                if cd != OK:
                    kk = k
                    if cd == ABSORBED:
                        xi = xn
                    break
                xi = xn
        else:
            for k in range(nsteps):
                t = t0 + k * dt
                a = aconst if akind == K_CONST else afn(xi, t)
                c = cconst if ckind == K_CONST else cfn(xi, t)
                dc = 0.0
                if scheme == MILSTEIN and ckind != K_CONST:
                    if dckind == K_FUNC:
                        dc = dcfn(xi, t)
                    else:
                        h = FD_H * max(1.0, abs(xi))
                        dc = (cfn(xi + h, t) - cfn(xi - h, t)) / (2.0 * h)
                if nukind == 1:
                    L += nuconst * dt
                elif nukind == 2:
                    L += nufn(xi, t) * dt
                xn, cd, s0, s1, s2, s3 = _step_1d(xi, a, c, dc, dt, scheme, bkind, lo, hi, bridge,
                                                  s0, s1, s2, s3)
                if cd != OK:
                    kk = k
                    if cd == ABSORBED:
                        xi = xn
                    break
                xi = xn
        code[i] = cd
        step[i] = kk
        x[i] = xi
        logw[i] = L


def _kernel_nd_py(x, logw, code, step, base, t0, dt, nsteps, akind, aconst, afn, ckind, cconst, cfn,
                  nukind, nuconst, nufn, bkind, lo, hi, bridge):
    n, d = x.shape
    for i in prange(n):
        s0, s1, s2, s3 = _seed_particle(base, i)
        xi = np.empty(d)
        xo = np.empty(d)
        ai = np.empty(d)
        ci = np.empty(d)
        for j in range(d):
            xi[j] = x[i, j]
            ai[j] = aconst[j]
            ci[j] = cconst[j]
        L = 0.0
        for k in range(nsteps):
            t = t0 + k * dt
            if akind == K_FUNC:
                afn(xi, t, ai)
            if ckind == K_FUNC:
                cfn(xi, t, ci)
            if nukind == 1:
                L += nuconst * dt
            elif nukind == 2:
                L += nufn(xi, t) * dt
            cd, s0, s1, s2, s3 = _step_nd(xi, ai, ci, xo, dt, bkind, lo, hi, bridge, s0, s1, s2, s3)
            if cd != OK:
                code[i] = cd
                step[i] = k
                if cd == ABSORBED:
                    for j in range(d):
                        xi[j] = xo[j]
                break
            for j in range(d):       # copy, not swap: rebinding arrays costs reference counting
                xi[j] = xo[j]
        for j in range(d):
            x[i, j] = xi[j]
        logw[i] = L


def _vstep_1d_py(x, a, c, dc, states, code, dt, scheme, bkind, lo, hi, bridge):
    """One step of all particles of the Python path (coefficients already evaluated; serial)."""
    n = x.shape[0]
    nev = 0
    for i in range(n):
        xn, cd, s0, s1, s2, s3 = _step_1d(x[i], a[i], c[i], dc[i], dt, scheme, bkind, lo, hi, bridge,
                                          states[i, 0], states[i, 1], states[i, 2], states[i, 3])
        states[i, 0] = s0
        states[i, 1] = s1
        states[i, 2] = s2
        states[i, 3] = s3
        code[i] = cd
        if cd == OK or cd == ABSORBED:
            x[i] = xn
        if cd != OK:
            nev += 1
    return nev


def _vstep_nd_py(x, a, c, states, code, dt, bkind, lo, hi, bridge):
    n, d = x.shape
    nev = 0
    xi = np.empty(d)           # serial kernel: one set of scratch arrays
    ai = np.empty(d)
    ci = np.empty(d)
    xo = np.empty(d)
    for i in range(n):
        for j in range(d):
            xi[j] = x[i, j]
            ai[j] = a[i, j]
            ci[j] = c[i, j]
        cd, s0, s1, s2, s3 = _step_nd(xi, ai, ci, xo, dt, bkind, lo, hi, bridge,
                                      states[i, 0], states[i, 1], states[i, 2], states[i, 3])
        states[i, 0] = s0
        states[i, 1] = s1
        states[i, 2] = s2
        states[i, 3] = s3
        code[i] = cd
        if cd == OK or cd == ABSORBED:
            for j in range(d):
                x[i, j] = xo[j]
        if cd != OK:
            nev += 1
    return nev


def _eval_scalar_py(fn, x, t, out):
    for i in range(x.shape[0]):
        out[i] = fn(x[i], t)


def _eval_vec_py(fn, x, t, out):
    n, d = x.shape
    xi = np.empty(d)
    oi = np.empty(d)
    for i in range(n):
        for j in range(d):
            xi[j] = x[i, j]
        fn(xi, t, oi)
        for j in range(d):
            out[i, j] = oi[j]


def _eval_loss_vec_py(fn, x, t, out):
    n, d = x.shape
    xi = np.empty(d)
    for i in range(n):
        for j in range(d):
            xi[j] = x[i, j]
        out[i] = fn(xi, t)


_KERNEL_SIGS = {
    "kernel_1d": (_kernel_1d_py, types.void(
        _f8[::1], _f8[::1], _i1[::1], _i8[::1], _u8, _f8, _f8, _i8, _i8, _f8, _FN_S, _i8, _f8, _FN_S,
        _i8, _i8, _FN_S, _i8, _f8, _FN_S, _i8, _f8, _f8, _b1)),
    "kernel_nd": (_kernel_nd_py, types.void(
        _f8[:, ::1], _f8[::1], _i1[::1], _i8[::1], _u8, _f8, _f8, _i8, _i8, _f8[::1], _FN_V, _i8, _f8[::1],
        _FN_V, _i8, _f8, _FN_LV, _i8[::1], _f8[::1], _f8[::1], _b1)),
    "vstep_1d": (_vstep_1d_py, _i8(
        _f8[::1], _f8[:], _f8[:], _f8[:], _u8[:, ::1], _i1[::1], _f8, _i8, _i8, _f8, _f8, _b1)),
    "vstep_nd": (_vstep_nd_py, _i8(
        _f8[:, ::1], _f8[:, :], _f8[:, :], _u8[:, ::1], _i1[::1], _f8, _i8[::1], _f8[::1], _f8[::1], _b1)),
    "eval_scalar": (_eval_scalar_py, types.void(_FN_S, _f8[::1], _f8, _f8[::1])),
    "eval_vec": (_eval_vec_py, types.void(_FN_V, _f8[:, ::1], _f8, _f8[:, ::1])),
    "eval_loss_vec": (_eval_loss_vec_py, types.void(_FN_LV, _f8[:, ::1], _f8, _f8[::1])),
}


#: kernels that run one long parallel region; the per-step helpers of the Python path stay serial
#: (many short parallel regions cost more than they gain next to serial NumPy calls, and under CPU
#: contention OpenMP's spin-waiting made them ~6x slower than serial in measurements)
_PARALLEL = {"kernel_1d", "kernel_nd"}


@lru_cache(maxsize=None)
def _kernel(name):
    """The compiled kernel ``name`` (compiled or loaded from the numba cache on first use)."""
    fn, sig = _KERNEL_SIGS[name]
    return numba.njit(sig, cache=True, parallel=name in _PARALLEL)(fn)


# placeholders passed for unused function arguments (never called)
@numba.njit(cache=True)
def _unused_scalar(x, t):
    return 0.0


@numba.njit(cache=True)
def _unused_vec(x, t, out):
    out[:] = 0.0


@numba.njit(cache=True)
def _unused_loss_vec(x, t):
    return 0.0


# --------------------------------------------------------------------------------------------
# input checking
# --------------------------------------------------------------------------------------------
def _is_jitted(f):
    return isinstance(f, numba.core.registry.CPUDispatcher)


def _check_seed(seed):
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**64:
        raise ParameterError(f"seed must be None or an integer in [0, 2**64), got {seed!r}")
    return int(seed)


@dataclass
class _Coef:
    name: str
    kind: str                  # "const" | "jit" | "py"
    value: object              # float64 array (d,) for const, callable otherwise


def _coef(value, name, d, *, nonneg=False):
    """Classify a drift/diffusion argument (constant, numba function or Python callable)."""
    if _is_jitted(value):
        return _Coef(name, "jit", value)
    if callable(value):
        return _Coef(name, "py", value)
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, a length-{d} sequence of numbers, a numba function "
                             f"or a callable, got {value!r}") from None
    if arr.ndim == 0:
        arr = np.full(d, float(arr))
    if arr.shape != (d,):
        raise ParameterError(f"{name}: a constant must be a number or a length-{d} sequence (one per axis), "
                             f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} must be finite, got {value!r}")
    if nonneg and np.any(arr < 0):
        raise ParameterError(f"{name} must be >= 0 (it is the Fokker–Planck diffusion coefficient C; noise "
                             f"amplitude sqrt(2C)), got {value!r}")
    return _Coef(name, "const", arr)


def _compile_user(fn, name, sig, convention):
    """Compile a numba dispatcher for the signature the kernels call it with."""
    try:
        fn.compile(sig)
    except Exception as exc:  # numba raises TypingError/TypeError/LoweringError
        raise ParameterError(f"{name}: the numba function must follow the convention {convention} "
                             f"(compiling it for {sig} failed: {str(exc).splitlines()[0]})") from None
    return fn


def _bounds_arrays(bounds, boundary, d):
    """Per-axis (kind, lo, hi) arrays from ``bounds`` and ``boundary``."""
    if isinstance(boundary, str) or boundary is None:
        names = [boundary] * d
    else:
        try:
            names = list(boundary)
        except TypeError:
            raise ParameterError(f"boundary must be a name, None or one name per axis, got {boundary!r}") from None
        if len(names) != d:
            raise ParameterError(f"boundary: one name per axis expected ({d} axes), got {boundary!r}")
    kinds = np.zeros(d, np.int64)
    for j, nm in enumerate(names):
        key = nm.lower() if isinstance(nm, str) else nm
        if not (key is None or isinstance(key, str)) or key not in BOUNDARY_CODES:
            raise ParameterError(f"unknown boundary {nm!r}; accepted: 'reflecting', 'periodic', 'absorbing' "
                                 f"or None")
        kinds[j] = BOUNDARY_CODES[key]
    lo = np.full(d, -np.inf)
    hi = np.full(d, np.inf)
    if bounds is None:
        if np.any((kinds == PERIODIC) | (kinds == ABSORBING)):
            raise ParameterError(f"boundary={boundary!r} needs bounds=(lo, hi) (one pair per axis for d >= 2)")
        return np.zeros(d, np.int64), lo, hi
    try:
        if len(bounds) == 2 and all(b is None or np.ndim(b) == 0 for b in bounds):
            per_axis = [bounds] * d          # one (lo, hi) for every axis
        else:
            per_axis = list(bounds)
    except TypeError:
        raise ParameterError(f"bounds must be (lo, hi) or one (lo, hi) per axis, got {bounds!r}") from None
    if len(per_axis) != d:
        raise ParameterError(f"bounds: expected (lo, hi) for each of the {d} axes, got {bounds!r}")
    for j, b in enumerate(per_axis):
        if b is None:
            kinds[j] = FREE
            continue
        try:
            if len(b) != 2:
                raise ValueError
            blo = -np.inf if b[0] is None else float(b[0])
            bhi = np.inf if b[1] is None else float(b[1])
        except (TypeError, ValueError):
            raise ParameterError(f"bounds[{j}] must be a pair (lo, hi) with lo < hi, got {b!r}") from None
        if np.isnan(blo) or np.isnan(bhi) or not blo < bhi:
            raise ParameterError(f"bounds[{j}] must satisfy lo < hi, got {b!r}")
        if kinds[j] == PERIODIC and not (np.isfinite(blo) and np.isfinite(bhi)):
            raise ParameterError(f"bounds[{j}]: a periodic axis needs finite lo < hi, got {b!r}")
        if kinds[j] == FREE:
            raise ParameterError(f"bounds[{j}] given but the boundary of axis {j} is None; use 'reflecting', "
                                 f"'periodic' or 'absorbing', or bounds[{j}] = None")
        lo[j], hi[j] = blo, bhi
    return kinds, lo, hi


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------
@dataclass
class ParticleResult:
    """Particle positions at ``t`` (shape of ``x0``) and, where relevant, weights and survival.

    ``weights``: survival weights ``exp(-int nu dt)`` (``None`` without ``loss_rate``).
    ``alive``: ``False`` for particles removed at an absorbing wall (``None`` without absorbing
    walls); their ``positions`` are the wall they crossed and ``exit_time`` the first step time after
    the crossing (NaN for survivors). Densities normalise by the initial number ``n`` of particles,
    so removed particles and lost weight show up as lost mass, like in the grid solution.
    """
    positions: np.ndarray
    weights: np.ndarray | None
    t: float
    t0: float
    dt: float
    nsteps: int
    seed: int
    path: str                      # "compiled" or "callable"
    scheme: str
    alive: np.ndarray | None = None
    exit_time: np.ndarray | None = None
    elapsed: float = field(default=0.0, repr=False)

    @property
    def n(self):
        """Initial number of particles (the normalisation of densities)."""
        return self.positions.shape[0]

    def _samples(self):
        if self.alive is None:
            return self.positions, self.weights
        w = None if self.weights is None else self.weights[self.alive]
        return self.positions[self.alive], w

    def density(self, faces):
        """Histogram density and standard error on ``faces`` (see :func:`histogram_density`)."""
        s, w = self._samples()
        return histogram_density(s, faces, w, n=self.n)

    def compare(self, faces, cell_density, **kwargs):
        """Compare with a grid solution (see :func:`compare_to_density`)."""
        s, w = self._samples()
        return compare_to_density(s, faces, cell_density, w, n=self.n, **kwargs)


# --------------------------------------------------------------------------------------------
# the sampler
# --------------------------------------------------------------------------------------------
def euler_maruyama(drift, diffusion, x0, t0, t1, nsteps, *, seed=None, bounds=None, boundary="reflecting",
                   loss_rate=None, scheme="euler", diffusion_dx=None, bridge=True, chunk=DEFAULT_CHUNK):
    """Sample ``dX = a(X,t) dt + sqrt(2 C(X,t)) dW`` from ``x0`` at ``t0`` to ``t1`` (Itô, diagonal C).

    Parameters
    ----------
    drift, diffusion
        ``a`` and the Fokker–Planck diffusion coefficient ``C >= 0`` (noise amplitude
        ``sqrt(2C)``): constants, numba functions or vectorised Python callables (conventions in the
        module docstring). ``C < 0`` or non-finite at any visited point raises ``ParameterError``.
    x0 : array (n,) or (n, d)
        Initial positions (finite, inside ``bounds``). The result has the same shape.
    t0, t1 : float
        Start and end time, ``t0 < t1``.
    nsteps : int
        Number of equal steps, ``dt = (t1 - t0)/nsteps`` (>= 1).
    seed : int or None
        Seed of the per-particle streams (``None``: fresh entropy, recorded in ``result.seed``).
    bounds : (lo, hi) for every axis, or one (lo, hi) or None (free axis) per axis
        Walls; ``lo = -inf`` / ``hi = inf`` give one-sided walls (not for periodic axes).
    boundary : str or sequence of str
        ``"reflecting"`` (default; zero flux), ``"periodic"``, ``"absorbing"``, or ``None`` (free), for
        all axes or one per axis. With ``bounds=None`` the particles are free ("reflecting" is then
        ignored; "periodic" and "absorbing" raise).
    loss_rate : None, number, numba function or Python callable
        Killing rate ``nu(x, t)``; carried as ``weights = exp(-sum_k nu(X_k, t_k) dt)`` (left-point
        rule; exactly ``exp(-nu (t1 - t0))`` for a constant). Negative values mean growth (weights > 1).
    scheme : "euler" or "milstein"
        Milstein adds ``1/2 C' dt (Z^2 - 1)``; 1D only; for constant ``C`` it is plain EM. ``C'`` is
        ``diffusion_dx`` (a numba function or a callable, same conventions) or a central difference
        with step ``eps^(1/3) max(1, |x|)``.
    bridge : bool
        Brownian-bridge crossing test at absorbing walls (see module docstring).
    chunk : int or None
        Python path only: particles per block (the whole time loop runs per block; memory and cache
        locality). ``None``: all particles at once. Results do not depend on it.

    Returns
    -------
    ParticleResult
    """
    started = time.perf_counter()
    # ---- scalar arguments
    if isinstance(nsteps, (bool, np.bool_)) or not isinstance(nsteps, (int, np.integer)) or nsteps < 1:
        raise ParameterError(f"nsteps must be an integer >= 1, got {nsteps!r}")
    nsteps = int(nsteps)
    try:
        t0 = float(t0)
        t1 = float(t1)
    except (TypeError, ValueError):
        raise ParameterError(f"t0 and t1 must be real numbers with t0 < t1, got t0={t0!r}, t1={t1!r}") from None
    if not (np.isfinite(t0) and np.isfinite(t1) and t1 > t0):
        raise ParameterError(f"t0 and t1 must be finite with t0 < t1 (t1 > t0), got t0={t0!r}, t1={t1!r}")
    dt = (t1 - t0) / nsteps
    if not dt > 0.0:
        raise ParameterError(f"nsteps={nsteps} is too large for t1 - t0 = {t1 - t0!r} (dt underflows)")
    if not isinstance(scheme, str) or scheme.lower() not in SCHEMES:
        raise ParameterError(f"scheme must be 'euler' or 'milstein', got {scheme!r}")
    scheme_code = SCHEMES[scheme.lower()]
    if chunk is not None and (isinstance(chunk, (bool, np.bool_)) or not isinstance(chunk, (int, np.integer))
                              or chunk < 1):
        raise ParameterError(f"chunk must be None or an integer >= 1, got {chunk!r}")
    seed = _check_seed(seed)
    base = _seed_base(seed)

    # ---- positions
    try:
        x = np.array(x0, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError("x0 must be a real array of shape (n,) or (n, d)") from None
    if x.ndim not in (1, 2) or x.shape[0] < 1 or (x.ndim == 2 and x.shape[1] < 1):
        raise ParameterError(f"x0 must have shape (n,) or (n, d) with n, d >= 1, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ParameterError(f"x0 must be finite; x0[{', '.join(map(str, bad))}] = {float(x[tuple(bad)])!r}")
    out_shape = x.shape
    d = 1 if x.ndim == 1 else x.shape[1]
    x = np.ascontiguousarray(x.reshape(-1) if d == 1 else x)
    n = x.shape[0]

    # ---- coefficients
    a = _coef(drift, "drift", d)
    c = _coef(diffusion, "diffusion", d, nonneg=True)
    nu = None
    if loss_rate is not None:
        nu = _coef(loss_rate, "loss_rate", 1)
    if scheme_code == MILSTEIN and d != 1:
        raise ParameterError(f"scheme='milstein' is implemented for d = 1 only (got d = {d}); use 'euler'")
    dc = None
    if diffusion_dx is not None:
        if scheme_code != MILSTEIN:
            raise ParameterError("diffusion_dx is only used by scheme='milstein'")
        dc = _coef(diffusion_dx, "diffusion_dx", 1)
        if dc.kind == "const":
            raise ParameterError("diffusion_dx must be a numba function or a callable (dC/dx of a non-constant "
                                 "diffusion); a constant diffusion needs no Milstein term")
    conv_s = "f(x: float, t: float) -> float"
    conv_v = "f(x: float64[d], t: float, out: float64[d]) -> None (writes out)"
    conv_lv = "nu(x: float64[d], t: float) -> float"
    for cf in (a, c, dc):
        if cf is not None and cf.kind == "jit":
            _compile_user(cf.value, cf.name, _SIG_SCALAR if (d == 1 or cf is dc) else _SIG_VEC,
                          conv_s if (d == 1 or cf is dc) else conv_v)
    if nu is not None and nu.kind == "jit":
        _compile_user(nu.value, "loss_rate", _SIG_SCALAR if d == 1 else _SIG_LOSS_VEC, conv_s if d == 1 else conv_lv)

    # ---- boundaries
    bkind, lo, hi = _bounds_arrays(bounds, boundary, d)
    if bounds is not None:
        X2 = x.reshape(n, d)
        for j in range(d):
            if bkind[j] == FREE:
                continue
            outside = (X2[:, j] < lo[j]) | (X2[:, j] > hi[j])
            if outside.any():
                i = int(np.argmax(outside))
                raise ParameterError(f"x0 must lie inside bounds[{j}] = [{lo[j]}, {hi[j]}]; particle {i} is at "
                                     f"{float(X2[i, j])!r} ({int(outside.sum())} particles outside)")
    absorbing = bool(np.any(bkind == ABSORBING))

    # constant C: the Milstein term vanishes; run plain EM (identical in both paths)
    common = dict(n=n, d=d, base=base, t0=t0, dt=dt, nsteps=nsteps, a=a, c=c, dc=dc, nu=nu,
                  scheme=EULER if c.kind == "const" else scheme_code,
                  bkind=bkind, lo=lo, hi=hi, bridge=bool(bridge))
    if any(cf is not None and cf.kind == "py" for cf in (a, c, dc, nu)):
        path = "callable"
        pos, logw, code, step = _run_callable(x, chunk=chunk if chunk is not None else n, **common)
    else:
        path = "compiled"
        pos, logw, code, step = _run_compiled(x, **common)

    # ---- failures
    bad = (code == BAD_DIFFUSION) | (code == NON_FINITE)
    if bad.any():
        ib = np.flatnonzero(bad)
        i = int(ib[np.argmin(step[ib])])
        k = int(step[i])
        tk = t0 + k * dt
        where = float(pos[i]) if d == 1 else tuple(float(v) for v in pos[i])
        if code[i] == BAD_DIFFUSION:
            raise ParameterError(f"diffusion must be finite and >= 0 at every visited point; it is not for "
                                 f"particle {i} at x = {where} at t = {tk} (step {k})")
        raise InstabilityError(f"particle {i} left the finite numbers at step {k + 1} (t = {tk + dt}) from "
                               f"x = {where}; reduce dt (nsteps = {nsteps}) or check the drift",
                               time=tk + dt, step=k + 1, cell=(i,), variable="positions")

    weights = None if nu is None else np.exp(-logw)
    alive = exit_time = None
    if absorbing:
        alive = code != ABSORBED
        exit_time = np.where(alive, np.nan, t0 + (step + 1) * dt)
        exit_time[~alive] = np.minimum(exit_time[~alive], t1)
    return ParticleResult(positions=pos.reshape(out_shape), weights=weights, t=t1, t0=t0, dt=dt, nsteps=nsteps,
                          seed=seed, path=path, scheme="milstein" if scheme_code == MILSTEIN else "euler",
                          alive=alive, exit_time=exit_time, elapsed=time.perf_counter() - started)


def _nu_args(nu, d):
    if nu is None:
        return 0, 0.0, (_unused_scalar if d == 1 else _unused_loss_vec)
    if nu.kind == "const":
        return 1, float(nu.value[0]), (_unused_scalar if d == 1 else _unused_loss_vec)
    return 2, 0.0, nu.value


def _run_compiled(x, *, n, d, base, t0, dt, nsteps, a, c, dc, nu, scheme, bkind, lo, hi, bridge):
    logw = np.zeros(n)
    code = np.zeros(n, np.int8)
    step = np.zeros(n, np.int64)
    nukind, nuconst, nufn = _nu_args(nu, d)
    if d == 1:
        _kernel("kernel_1d")(
            x, logw, code, step, base, t0, dt, nsteps,
            K_CONST if a.kind == "const" else K_FUNC, float(a.value[0]) if a.kind == "const" else 0.0,
            _unused_scalar if a.kind == "const" else a.value,
            K_CONST if c.kind == "const" else K_FUNC, float(c.value[0]) if c.kind == "const" else 0.0,
            _unused_scalar if c.kind == "const" else c.value,
            scheme, K_CONST if dc is None else K_FUNC, _unused_scalar if dc is None else dc.value,
            nukind, nuconst, nufn, int(bkind[0]), float(lo[0]), float(hi[0]), bridge)
    else:
        _kernel("kernel_nd")(
            x, logw, code, step, base, t0, dt, nsteps,
            K_CONST if a.kind == "const" else K_FUNC, a.value if a.kind == "const" else np.zeros(d),
            _unused_vec if a.kind == "const" else a.value,
            K_CONST if c.kind == "const" else K_FUNC, c.value if c.kind == "const" else np.zeros(d),
            _unused_vec if c.kind == "const" else c.value,
            nukind, nuconst, nufn, bkind, lo, hi, bridge)
    return x, logw, code, step


def _evaluate(cf, xw, t, shape):
    """Coefficient values at the working particles as a writeable float64 array of ``shape``."""
    if cf.kind == "const":
        return np.broadcast_to(cf.value if len(shape) == 2 else cf.value[0], shape).copy()
    if cf.kind == "jit":
        out = np.empty(shape)
        if len(shape) == 1:
            _kernel("eval_scalar")(cf.value, xw, t, out)
        else:
            _kernel("eval_vec")(cf.value, xw, t, out)
        return out
    try:
        v = np.asarray(cf.value(xw, t), dtype=float)
        if v.shape != shape:
            v = np.broadcast_to(v, shape).copy()
    except ValueError as exc:
        raise ParameterError(f"{cf.name}: the callable must return an array broadcastable to {shape} "
                             f"(one value per particle{' and axis' if len(shape) == 2 else ''}): {exc}") from None
    if not v.flags.writeable:
        v = v.copy()
    return v


def _evaluate_loss(nu, xw, t, m, d):
    if nu.kind == "const":
        return nu.value[0]
    if nu.kind == "jit":
        out = np.empty(m)
        if d == 1:
            _kernel("eval_scalar")(nu.value, xw, t, out)
        else:
            _kernel("eval_loss_vec")(nu.value, xw, t, out)
        return out
    try:
        v = np.broadcast_to(np.asarray(nu.value(xw, t), dtype=float), (m,))
    except ValueError as exc:
        raise ParameterError(f"loss_rate: the callable must return one value per particle, shape ({m},): "
                             f"{exc}") from None
    return v


def _run_callable(x, *, chunk, n, d, base, t0, dt, nsteps, a, c, dc, nu, scheme, bkind, lo, hi, bridge):
    pos = x.copy()
    logw = np.zeros(n)
    code = np.zeros(n, np.int8)
    step = np.zeros(n, np.int64)
    vstep = _kernel("vstep_1d" if d == 1 else "vstep_nd")
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        xw = pos[start:start + m].copy()
        states = np.empty((m, 4), np.uint64)
        _seed_states(states, base, start)
        idx = np.arange(start, start + m)
        Lw = np.zeros(m)
        cw = np.zeros(m, np.int8)
        for k in range(nsteps):
            m = xw.shape[0]
            if m == 0:
                break
            t = t0 + k * dt
            shape = (m,) if d == 1 else (m, d)
            av = _evaluate(a, xw, t, shape)
            cv = _evaluate(c, xw, t, shape)
            if nu is not None:
                Lw += _evaluate_loss(nu, xw, t, m, d) * dt
            if d == 1:
                if scheme == MILSTEIN and c.kind != "const":
                    if dc is not None:
                        dcv = _evaluate(dc, xw, t, shape)
                    else:
                        h = FD_H * np.maximum(1.0, np.abs(xw))
                        dcv = (_evaluate(c, xw + h, t, shape) - _evaluate(c, xw - h, t, shape)) / (2.0 * h)
                else:
                    dcv = np.zeros(m)
                nev = vstep(xw, av, cv, dcv, states, cw[:m], dt, scheme, int(bkind[0]), float(lo[0]),
                            float(hi[0]), bridge)
            else:
                nev = vstep(xw, av, cv, states, cw[:m], dt, bkind, lo, hi, bridge)
            if nev:
                ev = cw[:m] != OK
                gi = idx[ev]
                pos[gi] = xw[ev]
                logw[gi] = Lw[ev]
                code[gi] = cw[:m][ev]
                step[gi] = k
                if np.any((cw[:m] == BAD_DIFFUSION) | (cw[:m] == NON_FINITE)):
                    return pos, logw, code, step      # raised by the caller
                keep = ~ev
                xw = np.ascontiguousarray(xw[keep])
                states = np.ascontiguousarray(states[keep])
                idx = idx[keep]
                Lw = Lw[keep]
        pos[idx] = xw
        logw[idx] = Lw
    return pos, logw, code, step


# --------------------------------------------------------------------------------------------
# histograms and comparison with grid solutions
# --------------------------------------------------------------------------------------------
def _faces_tuple(samples, faces):
    """(samples as (m, d), faces as tuple of d increasing arrays)."""
    s = np.asarray(samples, dtype=float)
    if isinstance(faces, (list, tuple)) and len(faces) > 0 and np.ndim(faces[0]) == 1:
        ftuple = tuple(np.asarray(f, dtype=float) for f in faces)
    else:
        ftuple = (np.asarray(faces, dtype=float),)
    d = len(ftuple)
    if s.ndim == 1:
        s = s.reshape(-1, 1)
    if s.ndim != 2 or s.shape[1] != d:
        raise ParameterError(f"samples must have shape (m,) or (m, {d}) to match {d} face array(s), got {s.shape}")
    for j, f in enumerate(ftuple):
        if f.ndim != 1 or f.size < 2 or not np.all(np.isfinite(f)) or not np.all(np.diff(f) > 0):
            raise ParameterError(f"faces[{j}] must be a 1D finite strictly increasing array of >= 2 faces")
    return s, ftuple


def _cell_volumes(ftuple):
    vol = np.diff(ftuple[0])
    for f in ftuple[1:]:
        vol = np.multiply.outer(vol, np.diff(f))
    return vol


def _weighted_counts(samples, faces, weights, n):
    s, ftuple = _faces_tuple(samples, faces)
    m = s.shape[0]
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.shape != (m,) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ParameterError(f"weights must be finite, >= 0 and of shape ({m},)")
    else:
        w = None
    if n is None:
        n = m
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < max(m, 1):
        raise ParameterError(f"n (normalisation count) must be an integer >= number of samples ({m}), got {n!r}")
    if len(ftuple) == 1:
        W, _ = np.histogram(s[:, 0], ftuple[0], weights=w)
        S2 = W if w is None else np.histogram(s[:, 0], ftuple[0], weights=w * w)[0]
    else:
        W, _ = np.histogramdd(s, ftuple, weights=w)
        S2 = W if w is None else np.histogramdd(s, ftuple, weights=w * w)[0]
    return np.asarray(W, float), np.asarray(S2, float), w, ftuple, int(n)


def histogram_density(samples, faces, weights=None, *, n=None):
    """Histogram density of (weighted) samples and its standard error, per cell.

    ``samples``: (m,) or (m, d); ``faces``: one increasing array (1D) or a tuple of d arrays.
    ``density_j = sum_{i in cell j} w_i / (n V_j)`` (``w = 1`` without weights) and
    ``stderr_j = sqrt((S2_j/n - (W_j/n)^2)/n) / V_j`` with ``S2_j = sum w_i^2`` — for unit weights the
    binomial ``sqrt(p(1-p)/n)/V``. ``n`` (default ``m``) is the number of particles started; pass it
    when removed particles were dropped from ``samples`` so that lost mass stays lost. Samples outside
    the faces are not counted. Returns ``(density, stderr)`` shaped like the cells.
    """
    W, S2, _, ftuple, n = _weighted_counts(samples, faces, weights, n)
    V = _cell_volumes(ftuple)
    p = W / n
    se = np.sqrt(np.maximum(S2 / n - p * p, 0.0) / n) / V
    return p / V, se


@dataclass
class DensityComparison:
    """Statistics of a particle histogram against a grid density on the same cells.

    ``max_z``: largest ``|W_j - E_j| / sd_j`` over the cells with expected count ``E_j/r_j >= min_expected``
    (``E_j = n * mass_j``, ``sd_j^2 = E_j r_j - E_j^2/n``, ``r_j = sum w^2 / sum w`` in the cell, 1
    without weights); ``max_z_cell`` its cell index and ``max_z_pvalue`` the Šidák p-value
    ``1 - (1 - 2 Phi(-max_z))^cells``. ``chi2``/``dof``/``p_value``: Pearson statistic (see
    :func:`compare_to_density`). ``l1 = sum_j |density_j - grid_j| V_j`` over all cells and
    ``l1_floor`` its expectation for an exact grid density (pure sampling noise, De Moivre's binomial
    mean absolute deviation), with ``l1_floor_sd`` the standard deviation of that noise (cells taken
    independent). A grid solution agrees with the particles to sampling precision when ``p_value`` is
    not small and ``l1 - l1_floor`` is within a few ``l1_floor_sd``.
    """
    max_z: float
    max_z_cell: tuple
    max_z_pvalue: float
    chi2: float
    dof: int
    p_value: float
    l1: float
    l1_floor: float
    l1_floor_sd: float
    cells: int
    n: int
    density: np.ndarray = field(repr=False)
    stderr: np.ndarray = field(repr=False)


def _binom_mad(n, p):
    """E|X - n p| for X ~ Binomial(n, p) (De Moivre: 2 v (1-p) pmf(v), v = floor(n p) + 1)."""
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    v = np.floor(n * p) + 1.0
    mad = 2.0 * v * (1.0 - p) * stats.binom.pmf(v, n, p)
    return np.where((p <= 0.0) | (p >= 1.0), 0.0, mad)


def compare_to_density(samples, faces, cell_density, weights=None, *, n=None, min_expected=10.0):
    """Compare (weighted) particle samples with a grid density given as **cell averages** on ``faces``.

    ``cell_density[j]`` is the grid solution's mass in cell ``j`` divided by the cell volume ``V_j``
    (what a finite-volume solver stores); a solution known at cell centres is the cell average to
    ``O(h^2)`` (``h^2 p''/24``), which must be small against ``stderr`` for the test to be about the
    sampler and not the quadrature. Samples are normalised by ``n`` (default ``len(samples)``: pass the
    initial number if removed particles were dropped).

    Pearson statistic over the cells ``S`` whose expected number of particles
    ``E_j / r_j >= min_expected`` (``E_j = n V_j cell_density_j``, ``r_j`` below; ``r_j = 1`` unweighted):
    unweighted, ``chi2 = sum_S (O_j - E_j)^2/E_j`` plus the lumped rest (other cells, outside the
    faces, removed) when its expectation is ``>= min_expected``, ``dof = |S|`` (multinomial); if the rest
    is smaller it is left out and ``dof = |S| - 1``. Weighted, the compound-Poisson variance is used,
    ``chi2 = sum_S (W_j - E_j)^2 / (E_j r_j)``, ``r_j = sum w^2/sum w`` in cell ``j``, ``dof = |S|``
    (approximate; exact for equal weights up to the normalisation constraint, conservative then).
    """
    W, S2, w, ftuple, n = _weighted_counts(samples, faces, weights, n)
    V = _cell_volumes(ftuple)
    g = np.asarray(cell_density, dtype=float)
    if g.shape != V.shape:
        raise ParameterError(f"cell_density must have one value per cell, shape {V.shape}, got {g.shape}")
    if not np.all(np.isfinite(g)) or np.any(g < 0):
        raise ParameterError("cell_density must be finite and >= 0")
    if not (np.isfinite(min_expected) and min_expected > 0):
        raise ParameterError(f"min_expected must be > 0, got {min_expected!r}")
    E = n * g * V
    if w is None:
        r = np.ones_like(W)
    else:
        sw = float(w.sum())
        r_glob = float((w * w).sum() / sw) if sw > 0 else 1.0
        r = np.where(W > 0, S2 / np.where(W > 0, W, 1.0), r_glob)
    sel = E >= min_expected * r          # expected (effective) number of particles in the cell
    k = int(sel.sum())
    dens = W / n / V
    se = np.sqrt(np.maximum(S2 / n - (W / n) ** 2, 0.0) / n) / V
    if k == 0:
        raise ParameterError(f"no cell has an expected count >= min_expected = {min_expected}; use more "
                             f"particles or coarser faces")
    Es, Ws, rs = E[sel], W[sel], r[sel]
    var = np.maximum(Es * rs - Es * Es / n, 1e-300)
    z = (Ws - Es) / np.sqrt(var)
    jz = int(np.argmax(np.abs(z)))
    max_z = float(abs(z[jz]))
    max_z_cell = tuple(int(i) for i in np.argwhere(sel)[jz])
    max_z_p = float(-np.expm1(k * np.log1p(-min(2.0 * stats.norm.sf(max_z), 1.0)))) if max_z > 0 else 1.0
    if w is None:
        chi2 = float(np.sum((Ws - Es) ** 2 / Es))
        E_rest = n - float(Es.sum())
        if E_rest >= min_expected:           # r = 1 here
            O_rest = n - float(Ws.sum())
            chi2 += (O_rest - E_rest) ** 2 / E_rest
            dof = k
        else:
            dof = k - 1
    else:
        chi2 = float(np.sum((Ws - Es) ** 2 / (Es * rs)))
        dof = k
    p_value = float(stats.chi2.sf(chi2, dof)) if dof > 0 else float("nan")
    l1 = float(np.sum(np.abs(W - E)) / n)
    # sampling floor of l1 for an exact grid density: effective binomial per cell
    q = np.clip(E / (n * r), 0.0, 1.0)
    mad = r * _binom_mad(n, q)
    varabs = np.maximum(r * r * n * q * (1.0 - q) - mad * mad, 0.0)
    return DensityComparison(max_z=max_z, max_z_cell=max_z_cell, max_z_pvalue=max_z_p, chi2=chi2, dof=int(dof),
                             p_value=p_value, l1=l1, l1_floor=float(mad.sum() / n),
                             l1_floor_sd=float(np.sqrt(varabs.sum()) / n), cells=k, n=n, density=dens, stderr=se)


# --------------------------------------------------------------------------------------------
# FP (C, B) -> SDE drift
# --------------------------------------------------------------------------------------------
def sde_coefficients_from_fp(C, B, dC_dx=None, *, ndim=1):
    """SDE ``(drift, diffusion)`` of the FP operator ``div(C grad u + B u)`` (Itô, diagonal ``C``).

    ``a_i = dC_i/dx_i - B_i`` and the diffusion coefficient is ``C`` itself (noise ``sqrt(2C)``), so
    ``euler_maruyama(*sde_coefficients_from_fp(C, B), ...)`` samples the grid model's equation.
    ``C``, ``B`` (and ``dC_dx``) follow the coefficient conventions of :func:`euler_maruyama` for
    ``ndim`` axes (``ndim = 1``: scalar functions; ``ndim >= 2``: ``f(x, t, out)`` numba functions or
    ``(m, d)`` Python callables). Results:

    * both constant: constants ``(-B, C)``;
    * any Python callable: vectorised Python callables;
    * otherwise (numba functions and constants): numba functions (compiled on first use, not cached
      on disk because they close over the user's functions).

    Without ``dC_dx`` the derivative of a non-constant ``C`` is a central difference with step
    ``eps^(1/3) max(1, |x_i|)`` (relative error ~1e-10 for smooth ``C``).
    """
    if isinstance(ndim, (bool, np.bool_)) or not isinstance(ndim, (int, np.integer)) or ndim < 1:
        raise ParameterError(f"ndim must be an integer >= 1, got {ndim!r}")
    d = int(ndim)
    cC = _coef(C, "C", d, nonneg=True)
    cB = _coef(B, "B", d)
    cD = None if dC_dx is None else _coef(dC_dx, "dC_dx", d)
    if cC.kind == "const" and cB.kind == "const":
        a = -cB.value
        return (float(a[0]), float(cC.value[0])) if d == 1 else (tuple(a), tuple(cC.value))
    kinds = {cf.kind for cf in (cC, cB, cD) if cf is not None}
    if "py" in kinds:
        return _python_drift(cC, cB, cD, d), (cC.value if cC.kind != "const" else
                                               (float(cC.value[0]) if d == 1 else tuple(cC.value)))
    return _numba_drift(cC, cB, cD, d), (cC.value if cC.kind != "const" else
                                         (float(cC.value[0]) if d == 1 else tuple(cC.value)))


def _python_drift(cC, cB, cD, d):
    def as_py(cf):
        if cf.kind == "const":
            v = cf.value if d > 1 else cf.value[0]
            return lambda x, t: np.broadcast_to(v, np.shape(x))
        if cf.kind == "py":
            return cf.value
        fn = cf.value
        _compile_user(fn, cf.name, _SIG_SCALAR if d == 1 else _SIG_VEC,
                      "f(x, t) -> float" if d == 1 else "f(x, t, out)")

        def wrapped(x, t, cf=cf):
            xx = np.ascontiguousarray(x, dtype=float)
            return _evaluate(cf, xx, t, xx.shape)
        return wrapped

    Cf, Bf = as_py(cC), as_py(cB)
    Df = None if cD is None else as_py(cD)
    const_C = cC.kind == "const"

    def drift(x, t):
        x = np.asarray(x, dtype=float)
        b = np.broadcast_to(Bf(x, t), x.shape)
        if const_C:
            return -b
        if Df is not None:
            return np.broadcast_to(Df(x, t), x.shape) - b
        h = FD_H * np.maximum(1.0, np.abs(x))
        if d == 1:
            return (np.asarray(Cf(x + h, t)) - np.asarray(Cf(x - h, t))) / (2.0 * h) - b
        dcdx = np.empty_like(x)
        for j in range(d):        # d vectorised evaluations per axis (loop over axes only)
            e = np.zeros(d)
            e[j] = 1.0
            cp = np.broadcast_to(Cf(x + h[:, j:j + 1] * e, t), x.shape)[:, j]
            cm = np.broadcast_to(Cf(x - h[:, j:j + 1] * e, t), x.shape)[:, j]
            dcdx[:, j] = (cp - cm) / (2.0 * h[:, j])
        return dcdx - b

    drift.__doc__ = "SDE drift a = dC/dx - B (vectorised; from sde_coefficients_from_fp)"
    return drift


def _numba_drift(cC, cB, cD, d):
    if cC.kind == "jit":
        _compile_user(cC.value, "C", _SIG_SCALAR if d == 1 else _SIG_VEC,
                      "f(x, t) -> float" if d == 1 else "f(x, t, out)")
    if cB.kind == "jit":
        _compile_user(cB.value, "B", _SIG_SCALAR if d == 1 else _SIG_VEC,
                      "f(x, t) -> float" if d == 1 else "f(x, t, out)")
    bconst = np.ascontiguousarray(cB.value, dtype=float) if cB.kind == "const" else np.zeros(d)
    bfun = cB.value if cB.kind == "jit" else (_unused_scalar if d == 1 else _unused_vec)
    b_is_fn = cB.kind == "jit"
    cfun = cC.value if cC.kind == "jit" else (_unused_scalar if d == 1 else _unused_vec)
    c_is_fn = cC.kind == "jit"
    dfun = cD.value if cD is not None else (_unused_scalar if d == 1 else _unused_vec)
    d_is_fn = cD is not None
    h_rel = FD_H
    if d == 1:
        b0 = float(bconst[0])

        @numba.njit
        def drift(x, t):
            b = bfun(x, t) if b_is_fn else b0
            if not c_is_fn:
                return -b
            if d_is_fn:
                return dfun(x, t) - b
            h = h_rel * max(1.0, abs(x))
            return (cfun(x + h, t) - cfun(x - h, t)) / (2.0 * h) - b
        return drift

    @numba.njit
    def drift_nd(x, t, out):
        if b_is_fn:
            bfun(x, t, out)
        else:
            for j in range(d):
                out[j] = bconst[j]
        for j in range(d):
            out[j] = -out[j]
        if not c_is_fn:
            return
        if d_is_fn:
            tmp = np.empty(d)
            dfun(x, t, tmp)
            for j in range(d):
                out[j] += tmp[j]
            return
        xp = x.copy()
        cp = np.empty(d)
        cm = np.empty(d)
        for j in range(d):
            h = h_rel * max(1.0, abs(x[j]))
            xp[j] = x[j] + h
            cfun(xp, t, cp)
            xp[j] = x[j] - h
            cfun(xp, t, cm)
            xp[j] = x[j]
            out[j] += (cp[j] - cm[j]) / (2.0 * h)
    return drift_nd
