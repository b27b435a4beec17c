"""The Fokker–Planck model  du/dt = div(C grad u + B u) + S - nu u  in 1–3D (Chang–Cooper).

Diagonal diffusion: along every axis ``d`` the flux is ``C_d du/dx_d + B_d u``. For the Itô SDE
``dX_d = a_d dt + sqrt(2 C_d) dW_d`` the density obeys this equation with ``B_d = dC_d/dx_d - a_d``;
with constant ``C`` simply ``B = -a``. The model takes the drift velocity ``a`` (``drift=``), the
diffusion coefficient ``C`` (``diffusion=``) and, for drift from a potential, the potential itself
(``potential=U``): the Chang–Cooper weight is then the exact potential difference, so the discrete
steady state is the Boltzmann distribution ``exp(-U/kT)`` to round-off (Chang & Cooper 1970;
Larsen et al. 1985). Face fluxes, the matrix-free generator and the ADI line solves are compiled
(:mod:`pdekit.fokker_planck.kernels`).

Time integration (``method=``):

* ``euler``, ``ssprk2``, ``ssprk3`` — explicit, ``dt <= cfl / max_j |L_jj|`` (``cfl <= 1``: forward
  Euler is then positive, Chang & Cooper 1970);
* ``backward-euler`` — positive and mass-conserving for every ``dt`` (M-matrix);
* ``crank-nicolson`` — second order, A-stable;
* ``tr-bdf2`` — second order and L-stable (Bank et al. 1985; Hosea & Shampine 1996), one
  factorisation for both stages (``gamma = 2 - sqrt 2``);
* ``adi`` — Douglas alternating-direction implicit scheme with ``theta = 1/2`` (second order;
  tridiagonal line solves in compiled code, no factorisation at all);
* ``exact`` — ``u(t+dt) = exp(dt L) u + ...`` through :func:`scipy.sparse.linalg.expm_multiply`
  (time-independent generators, or generators ``beta(t) L`` given by ``time_scale=beta``).

Factorisations are reused across steps whenever the operator does not depend on time.
:meth:`FokkerPlanck.steady_state` solves for the stationary density directly.
"""
from __future__ import annotations

import inspect
import math
from functools import partial

import numpy as np
import scipy.integrate
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..boundary import DIRICHLET, NEUMANN, OUTFLOW, PERIODIC
from ..errors import ParameterError
from ..model import GridModel, describe_coefficient
from ..timestepping import SSP_METHODS, check_cfl
from . import kernels as K

IMPLICIT = ("backward-euler", "crank-nicolson", "tr-bdf2", "adi", "exact")
#: methods that keep u >= 0 (explicit ones within their bound)
POSITIVE_METHODS = ("euler", "ssprk2", "ssprk3", "backward-euler", "exact")


def _along(ndim, d, s):
    """Index tuple selecting ``s`` along axis ``d`` and everything along the others."""
    return tuple(s if k == d else slice(None) for k in range(ndim))


def _takes_time(fn, ndim, what):
    """Whether a coefficient function is ``f(*x, t)`` (True) or ``f(*x)`` (False)."""
    try:
        sig = inspect.signature(fn.py_func if hasattr(fn, "py_func") else fn)
    except (TypeError, ValueError):
        return True
    params = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values()):
        return True
    required = [p for p in params if p.default is p.empty]
    if len(required) == ndim + 1:
        return True
    if len(required) <= ndim <= len(params):
        # f(x) or f(x, q=..., ...): time-dependent only with a parameter named t right after the coordinates
        return len(params) > ndim and params[ndim].name == "t"
    raise ParameterError(f"{what}: a function must take the {ndim} coordinate(s) and optionally t, "
                         f"f({', '.join(['x', 'y', 'z'][:ndim])}[, t]); it takes {len(required)} required arguments")


class _Field:
    """A coefficient given as a number, an array or a function of (*x[, t])."""

    def __init__(self, spec, what, ndim):
        self.spec = spec
        self.what = what
        self.fn = spec if callable(spec) else None
        self.timed = _takes_time(spec, ndim, what) if self.fn is not None else False
        if self.fn is None:
            try:
                self.value = np.asarray(spec, dtype=float)
            except (TypeError, ValueError):
                raise ParameterError(f"{what} must be a number, an array or a function, got {spec!r}") from None
            if not np.all(np.isfinite(self.value)):
                raise ParameterError(f"{what} has non-finite values")

    def at(self, points, t, shape):
        """Values at ``points`` (a tuple of coordinate arrays of ``shape``) at time ``t``."""
        if self.fn is not None:
            out = self.fn(*points, t) if self.timed else self.fn(*points)
            try:
                out = np.asarray(out, dtype=float)
            except (TypeError, ValueError):
                raise ParameterError(f"{self.what}: the function returned {type(out).__name__}, "
                                     "not numbers") from None
            out = _fit(out, shape, f"{self.what}: the function returned shape {out.shape}")
            if not np.all(np.isfinite(out)):
                bad = np.argwhere(~np.isfinite(out))[0]
                where = ", ".join(f"{p[tuple(bad)]:.6g}" for p in points)
                raise ParameterError(f"{self.what} is not finite at ({where}), t={t}")
            return out
        return _fit(self.value, shape, f"{self.what} has shape {self.value.shape}")


def _fit(values, shape, what):
    """``values`` broadcast to ``shape``, or a ParameterError that says which shapes were expected."""
    try:
        return np.broadcast_to(values, shape)
    except ValueError:
        raise ParameterError(f"{what}; expected {shape} (cell values on this grid) or a number") from None


class FokkerPlanck(GridModel):
    """Fokker–Planck equation ``du/dt = sum_d d/dx_d (C_d du/dx_d + B_d u) + S - nu u``.

    Parameters
    ----------
    grid : pdekit.Grid
        Uniform or stretched (e.g. :meth:`pdekit.Axis.log` for momentum space), 1–3D, Cartesian or
        1D ``geometry="spherical"`` (isotropic momentum diffusion: ``u_t = p^-2 d/dp[p^2 (C u_p + B u)]``).
    bc : boundary specification
        ``"zero-flux"`` (reflecting; default), ``"periodic"``, ``dirichlet(value)`` or
        ``neumann(flux)`` (total flux into the domain), per axis and side as in
        :class:`pdekit.boundary.Boundaries`.
    diffusion : number, array or function, or one of those per axis
        ``C >= 0``. Arrays of ``grid.shape`` are cell values (arithmetic mean at faces); arrays with
        one more entry along an axis are face values. Functions are ``C(*x)`` or ``C(*x, t)``,
        evaluated at face centres. A list/tuple of ``ndim`` entries gives one per axis.
    drift : number, array or function, or one per axis
        Itô drift ``a`` of the SDE ``dX = a dt + sqrt(2C) dW``: ``B = dC/dx - a`` at the faces
        (``dC/dx`` by differences of ``C`` at the adjacent cell centres; zero for constant ``C``).
        In nD a function returns the ``ndim`` components.
    drift_coefficient : number, array or function, or one per axis
        The Chang–Cooper drift coefficient ``B`` itself (minus the velocity of the flux
        ``C u_x + B u``), added to the part from ``drift`` and ``potential``.
    potential : array or function, optional
        Potential ``U`` at cell centres; the face weight is the potential difference. With
        ``temperature=kT`` the drift is ``B = C dU/dx / kT`` (mobility ``C/kT``; equilibrium
        ``exp(-U/kT)`` for any ``C``); without it the mobility is 1 (``B = dU/dx``, weight
        ``(U_R - U_L) / C_face``; equilibrium ``exp(-U/C)`` for constant ``C``).
    loss_rate : number, array or function, optional
        Catastrophic loss / escape rate ``nu(x) >= 0``.
    source : number, array or function, optional
        Distributed source ``S(x[, t])`` (density per unit time).
    point_sources : list of ``(position, rate)``, optional
        Point injection of ``rate`` (a number or ``rate(t)``) particles per unit time at
        ``position`` (a number in 1D, a tuple in nD). A point on a face is split equally between
        the two cells that share it. In spherical geometry rates are per unit ``p^2 dp``.
    time_scale : function ``beta(t)``, optional
        Multiplies the whole right-hand side (generators ``beta(t) L`` of score SDEs);
        ``time_scale_integral`` may give ``int_0^t beta`` in closed form (else quadrature).
    variable : str
        Name of the density in results (default ``"u"``).
    """

    name = "fokker-planck"
    methods = ("euler", "ssprk2", "ssprk3") + IMPLICIT
    implicit_methods = IMPLICIT
    default_method = "tr-bdf2"
    default_cfl = 0.9

    def __init__(self, grid, bc="zero-flux", *, diffusion, drift=None, drift_coefficient=None, potential=None,
                 temperature=None, loss_rate=None, source=None, point_sources=None, time_scale=None,
                 time_scale_integral=None, variable="u"):
        super().__init__(grid, bc)
        if not isinstance(variable, str) or not variable.isidentifier() or variable in grid.dims + ("t",):
            raise ParameterError(f"variable must be an identifier different from the dimension names, got {variable!r}")
        self.variables = (variable,)
        nd = grid.ndim
        for d, (lo, hi) in enumerate(self.boundaries.sides):
            for c in (lo, hi):
                if c.code == OUTFLOW:
                    raise ParameterError(f"boundary along {grid.dims[d]!r}: 'outflow' is not a Fokker–Planck "
                                         "boundary; use 'zero-flux', 'periodic', dirichlet(value) or neumann(flux)")
            if lo.code == PERIODIC and grid.axes[d].n < 3:
                raise ParameterError(f"a periodic axis needs at least 3 cells, axis {grid.dims[d]!r} has {grid.axes[d].n}")
        self._specs = dict(diffusion=diffusion, drift=drift, drift_coefficient=drift_coefficient,
                           potential=potential, temperature=temperature,
                           loss_rate=loss_rate, source=source, point_sources=point_sources,
                           time_scale=time_scale)
        self._diffusion = self._per_axis(diffusion, "diffusion")
        if drift is not None and grid.geometry == "spherical":
            raise ParameterError("drift= is the Cartesian Itô drift; in spherical geometry give the flux coefficient "
                                 "instead: drift_coefficient=B with p^-2 d/dp[p^2 (C f' + B f)], e.g. B = -pdot for "
                                 "momentum gains and losses pdot(p)")
        self._drift_fn = None
        if drift is None:
            self._drift = None
        elif callable(drift) and nd > 1:
            self._drift_fn = _Field(drift, "drift", nd)
            self._drift = None
        else:
            self._drift = self._per_axis(drift, "drift")
        self._bcoef_fn = None
        if drift_coefficient is None:
            self._bcoef = None
        elif callable(drift_coefficient) and nd > 1:
            self._bcoef_fn = _Field(drift_coefficient, "drift_coefficient", nd)
            self._bcoef = None
        else:
            self._bcoef = self._per_axis(drift_coefficient, "drift_coefficient")
        self._potential = None if potential is None else _Field(potential, "potential", nd)
        if temperature is not None:
            try:
                kT = float(temperature)
            except (TypeError, ValueError):
                raise ParameterError(f"temperature must be a positive number, got {temperature!r}") from None
            if not (np.isfinite(kT) and kT > 0):
                raise ParameterError(f"temperature must be a positive finite number, got {temperature!r}")
            if potential is None:
                raise ParameterError("temperature is only used with a potential: give potential=U as well")
            self.temperature = kT
        else:
            self.temperature = None
        self._loss = None if loss_rate is None else _Field(loss_rate, "loss_rate", nd)
        self._source = None if source is None else _Field(source, "source", nd)
        self._points = self._parse_point_sources(point_sources)
        if time_scale is not None and not callable(time_scale):
            raise ParameterError(f"time_scale must be a function beta(t), got {time_scale!r}")
        if time_scale_integral is not None and not callable(time_scale_integral):
            raise ParameterError("time_scale_integral must be a function of t")
        self.time_scale = time_scale
        self.time_scale_integral = time_scale_integral
        self._cache = {}
        # check the coefficients once, at t = 0: sign, shape and finiteness errors before any work
        self._coefficients(0.0)
        self._cell_rates(0.0)
        self.affine(0.0)
        self.beta(0.0)

    def state_from(self, initial):
        """Padded state from initial data (see :meth:`GridModel.state_from`); a density must be >= 0."""
        state = super().state_from(initial)
        inner = self.interior(state)[0]
        if np.any(inner < 0):
            idx = tuple(int(i) for i in np.argwhere(inner < 0)[0])
            raise ParameterError(f"initial density must be >= 0; it is {inner[idx]:.6g} at cell {idx}")
        return state

    # ---- parsing -----------------------------------------------------------------------------------
    def _per_axis(self, spec, what):
        nd = self.grid.ndim
        if isinstance(spec, (list, tuple)) and len(spec) == nd and (nd > 1 or np.ndim(spec) != 1
                                                                   or callable(spec[0])):
            items = list(spec)
        elif isinstance(spec, (list, tuple)) and nd > 1:
            raise ParameterError(f"{what}: give one entry per axis ({nd}), got {len(spec)}")
        else:
            items = [spec] * nd
        return [_Field(s, f"{what} along {self.grid.dims[d]!r}" if nd > 1 else what, nd) for d, s in enumerate(items)]

    def _parse_point_sources(self, points):
        if points is None:
            return []
        g = self.grid
        if not isinstance(points, (list, tuple)):
            raise ParameterError("point_sources must be a list of (position, rate) pairs")
        out = []
        for k, item in enumerate(points):
            try:
                pos, rate = item
            except (TypeError, ValueError):
                raise ParameterError(f"point_sources[{k}] must be a (position, rate) pair, got {item!r}") from None
            pos = np.atleast_1d(np.asarray(pos, dtype=float))
            if pos.shape != (g.ndim,):
                raise ParameterError(f"point_sources[{k}]: position needs {g.ndim} coordinate(s), got {pos.tolist()}")
            if not callable(rate):
                try:
                    rate = float(rate)
                except (TypeError, ValueError):
                    raise ParameterError(f"point_sources[{k}]: rate must be a number or rate(t)") from None
                if not np.isfinite(rate):
                    raise ParameterError(f"point_sources[{k}]: rate must be finite, got {rate}")
            # weights per cell: a point on a face is split 1/2-1/2 between the two cells
            weights = np.ones(())
            for d, a in enumerate(g.axes):
                x = pos[d]
                f = a.faces
                tol = 1e-10 * (f[-1] - f[0])
                if not (f[0] - tol <= x <= f[-1] + tol):
                    raise ParameterError(f"point_sources[{k}]: position {x} along {a.name!r} lies outside the "
                                         f"domain [{f[0]}, {f[-1]}]")
                w = np.zeros(a.n)
                j = int(np.argmin(np.abs(f - x)))
                if abs(f[j] - x) <= 1e-10 * max(a.widths[min(j, a.n - 1)], abs(x)):
                    periodic = self.boundaries.sides[d][0].code == PERIODIC
                    if (j == 0 or j == a.n) and periodic:
                        w[0] = w[-1] = 0.5  # x = lo and x = hi are the same face
                    elif j == 0:
                        w[0] = 1.0
                    elif j == a.n:
                        w[-1] = 1.0
                    else:
                        w[j - 1] = w[j] = 0.5
                else:
                    w[int(np.clip(np.searchsorted(f, x) - 1, 0, a.n - 1))] = 1.0
                w = w / g.cell_measure(d)
                weights = np.multiply.outer(weights, w)
            out.append((pos, rate, weights.reshape(g.shape)))
        return out

    # ---- coefficients --------------------------------------------------------------------------------
    @property
    def operator_time_dependent(self) -> bool:
        fields = list(self._diffusion) + (self._drift or []) + (self._bcoef or []) + [
            self._drift_fn, self._bcoef_fn, self._potential, self._loss]
        return any(f is not None and f.timed for f in fields)

    @property
    def affine_time_dependent(self) -> bool:
        return (self.boundaries.time_dependent or (self._source is not None and self._source.timed)
                or any(callable(r) for _, r, _ in self._points))

    @property
    def time_dependent(self) -> bool:
        return self.operator_time_dependent or self.affine_time_dependent or self.time_scale is not None

    def beta(self, t):
        if self.time_scale is None:
            return 1.0
        b = float(self.time_scale(t))
        if not (np.isfinite(b) and b >= 0):
            raise ParameterError(f"time_scale beta(t) must be finite and >= 0; beta({t:g}) = {b}")
        return b

    def beta_integral(self, t0, t1):
        """``int_{t0}^{t1} beta(t) dt`` (``t1 - t0`` without a time scale)."""
        if self.time_scale is None:
            return t1 - t0
        if self.time_scale_integral is not None:
            return float(self.time_scale_integral(t1) - self.time_scale_integral(t0))
        return float(scipy.integrate.quad(self.time_scale, t0, t1, epsabs=0, epsrel=1e-13, limit=200)[0])

    def _face_distance(self, d):
        """Centre-to-centre distance per face of axis ``d`` (half a cell at boundary faces)."""
        a = self.grid.axes[d]
        w = a.widths
        dist = np.empty(a.n + 1)
        dist[1:-1] = 0.5 * (w[1:] + w[:-1])
        if self.boundaries.sides[d][0].code == PERIODIC:
            dist[0] = dist[-1] = 0.5 * (w[0] + w[-1])
        else:
            dist[0], dist[-1] = 0.5 * w[0], 0.5 * w[-1]
        return dist

    def _to_faces(self, values, d, what):
        """Face values along axis ``d`` from cell values (arithmetic mean) or face values."""
        g = self.grid
        fs = g.face_shape(d)
        v = np.asarray(values, dtype=float)
        if v.ndim == 0:
            return np.broadcast_to(v, fs)
        if v.shape == fs:
            return v
        if v.shape == g.shape:
            n = g.axes[d].n
            out = np.empty(fs)
            sl = partial(_along, g.ndim, d)
            out[sl(slice(1, n))] = 0.5 * (v[sl(slice(0, n - 1))] + v[sl(slice(1, n))])
            if self.boundaries.sides[d][0].code == PERIODIC:
                wrap = 0.5 * (v[sl(slice(0, 1))] + v[sl(slice(n - 1, n))])
                out[sl(slice(0, 1))] = wrap
                out[sl(slice(n, n + 1))] = wrap
            else:
                out[sl(slice(0, 1))] = v[sl(slice(0, 1))]
                out[sl(slice(n, n + 1))] = v[sl(slice(n - 1, n))]
            return out
        raise ParameterError(f"{what} has shape {v.shape}; expected a cell field {g.shape} or a face field {fs}")

    def _coefficients(self, t):
        """Per axis the face coefficients ``(kL, kR)`` at time ``t`` (cached when time-independent)."""
        key = ("coef", t if self.operator_time_dependent else None)
        if key in self._cache:
            return self._cache[key]
        g = self.grid
        nd = g.ndim
        centres = g.meshgrid()
        U_cells = None
        if self._potential is not None:
            U_cells = np.ascontiguousarray(self._potential.at(centres, t, g.shape), dtype=float)
        out = []
        for d in range(nd):
            fs = g.face_shape(d)
            pts = g.face_points(d)
            C = self._diffusion[d]
            Cf = C.at(pts, t, fs) if C.fn is not None else self._to_faces(C.value, d, C.what)
            Cf = np.ascontiguousarray(np.broadcast_to(Cf, fs), dtype=float)
            if np.any(Cf < 0):
                bad = np.argwhere(Cf < 0)[0]
                where = ", ".join(f"{p[tuple(bad)]:.6g}" for p in pts)
                raise ParameterError(f"{C.what} must be >= 0; it is {Cf[tuple(bad)]:.6g} at ({where})")
            a = self._vector_at(self._drift_fn, self._drift, "drift", d, pts, t)
            B = np.zeros(fs)
            if a is not None:
                # Ito drift a: flux C u_x + (dC/dx - a) u
                B = B - a + self._diffusion_gradient(d, t)
            b = self._vector_at(self._bcoef_fn, self._bcoef, "drift_coefficient", d, pts, t)
            if b is not None:
                B = B + b
            B = np.ascontiguousarray(B, dtype=float)
            dist = self._face_distance(d)
            shp = [1] * nd
            shp[d] = -1
            distf = np.ascontiguousarray(np.broadcast_to(dist.reshape(shp), fs))
            area = np.ascontiguousarray(np.broadcast_to(g.face_area(d).reshape(shp), fs))
            pos = Cf > 0
            w = np.zeros(fs)
            w[pos] = distf[pos] * B[pos] / Cf[pos]
            if U_cells is not None:
                dU = self._potential_differences(U_cells, d, t)
                if self.temperature is not None:
                    w = w + dU / self.temperature
                    B = B + Cf * dU / (self.temperature * distf)
                else:
                    w[pos] += dU[pos] / Cf[pos]
                    B = B + dU / distf
            kL = np.empty(fs)
            kR = np.empty(fs)
            K.chang_cooper_coefficients(Cf.ravel(), np.ascontiguousarray(B).ravel(), np.ascontiguousarray(w).ravel(),
                                        distf.ravel(), area.ravel(), kL.reshape(-1), kR.reshape(-1))
            # boundary faces: zero-flux and Neumann carry no state-dependent flux
            lo, hi = self.boundaries.sides[d]
            n = g.axes[d].n
            for side, cond in ((0, lo), (1, hi)):
                if cond.code not in (DIRICHLET, PERIODIC):
                    idx = _along(nd, d, 0 if side == 0 else n)
                    kL[idx] = 0.0
                    kR[idx] = 0.0
            out.append((kL, kR))
        self._cache = {k: v for k, v in self._cache.items() if k[0] != "coef" or k[1] is None}
        self._cache[key] = out
        return out

    def _vector_at(self, fn_field, fields, what, d, pts, t):
        """Component ``d`` of a vector coefficient at the faces of axis ``d`` (or None)."""
        fs = self.grid.face_shape(d)
        if fn_field is not None:
            comps = fn_field.fn(*pts, t) if fn_field.timed else fn_field.fn(*pts)
            if not isinstance(comps, (list, tuple, np.ndarray)) or len(comps) != self.grid.ndim:
                raise ParameterError(f"{what}: the function must return a sequence of {self.grid.ndim} components "
                                     f"(one per axis), got {type(comps).__name__}")
            v = _fit(np.asarray(comps[d], dtype=float), fs, f"{what}: component {d} of the function has shape "
                     f"{np.shape(comps[d])} at the faces of axis {self.grid.dims[d]!r}")
            if not np.all(np.isfinite(v)):
                raise ParameterError(f"{what} component {d} is not finite at t={t}")
            return v
        if fields is None:
            return None
        F = fields[d]
        return np.broadcast_to(F.at(pts, t, fs) if F.fn is not None else self._to_faces(F.value, d, F.what), fs)

    def _diffusion_gradient(self, d, t):
        """``dC/dx_d`` at the faces of axis ``d``: the difference of C at the two adjacent cell centres
        over their distance (second order); at boundary faces from C at the face, when C is a function."""
        g = self.grid
        C = self._diffusion[d]
        fs = g.face_shape(d)
        if C.fn is None and C.value.ndim == 0:
            return np.zeros(fs)
        n = g.axes[d].n
        sl = partial(_along, g.ndim, d)
        if C.fn is not None:
            Cc = np.broadcast_to(C.at(g.meshgrid(), t, g.shape), g.shape)
        elif C.value.shape == g.shape:
            Cc = C.value
        else:  # face values: cell values by averaging
            Cc = 0.5 * (C.value[sl(slice(0, n))] + C.value[sl(slice(1, n + 1))])
        dist = self._face_distance(d)
        shp = [1] * g.ndim
        shp[d] = -1
        dist = dist.reshape(shp)
        grad = np.zeros(fs)
        grad[sl(slice(1, n))] = np.diff(Cc, axis=d) / dist[sl(slice(1, n))]
        if self.boundaries.sides[d][0].code == PERIODIC:
            wrap = (Cc[sl(slice(0, 1))] - Cc[sl(slice(n - 1, n))]) / dist[sl(slice(0, 1))]
            grad[sl(slice(0, 1))] = wrap
            grad[sl(slice(n, n + 1))] = wrap
        elif C.fn is not None:
            Cf = C.at(g.face_points(d), t, fs)
            grad[sl(slice(0, 1))] = (Cc[sl(slice(0, 1))] - Cf[sl(slice(0, 1))]) / dist[sl(slice(0, 1))]
            grad[sl(slice(n, n + 1))] = (Cf[sl(slice(n, n + 1))] - Cc[sl(slice(n - 1, n))]) / dist[sl(slice(n, n + 1))]
        return grad

    def _potential_differences(self, U, d, t):
        """``U_R - U_L`` per face of axis ``d`` (boundary faces: from U at the face, if a function)."""
        g = self.grid
        n = g.axes[d].n
        fs = g.face_shape(d)
        dU = np.zeros(fs)
        sl = partial(_along, g.ndim, d)
        dU[sl(slice(1, n))] = np.diff(U, axis=d)
        lo, hi = self.boundaries.sides[d]
        if lo.code == PERIODIC:
            wrap = U[sl(slice(0, 1))] - U[sl(slice(n - 1, n))]
            dU[sl(slice(0, 1))] = wrap
            dU[sl(slice(n, n + 1))] = wrap
        elif lo.code == DIRICHLET or hi.code == DIRICHLET:
            if self._potential.fn is not None:
                Uf = self._potential.at(g.face_points(d), t, fs)
                U_lo, U_hi = Uf[sl(slice(0, 1))], Uf[sl(slice(n, n + 1))]
            elif n >= 2:
                # cell values only: linear extrapolation from the two cells next to the wall
                x = g.axes[d].centres
                f = g.axes[d].faces
                U0, U1 = U[sl(slice(0, 1))], U[sl(slice(1, 2))]
                Um, Un = U[sl(slice(n - 2, n - 1))], U[sl(slice(n - 1, n))]
                U_lo = U0 + (U1 - U0) * (f[0] - x[0]) / (x[1] - x[0])
                U_hi = Un + (Un - Um) * (f[-1] - x[-1]) / (x[-1] - x[-2])
            else:
                U_lo = U_hi = U
            dU[sl(slice(0, 1))] = U[sl(slice(0, 1))] - U_lo
            dU[sl(slice(n, n + 1))] = U_hi - U[sl(slice(n - 1, n))]
        return dU

    def _cell_rates(self, t):
        """Loss rate ``nu`` at the cells (array or None)."""
        if self._loss is None:
            return None
        key = ("nu", t if self._loss.timed else None)
        if key in self._cache:
            return self._cache[key]
        g = self.grid
        nu = np.broadcast_to(self._loss.at(g.meshgrid(), t, g.shape), g.shape)
        if nu.shape != g.shape:
            raise ParameterError(f"loss_rate has shape {nu.shape}; expected {g.shape}")
        if np.any(nu < 0):
            raise ParameterError(f"loss_rate must be >= 0; its minimum is {nu.min():.6g}")
        nu = np.ascontiguousarray(nu, dtype=float)
        if self._loss.timed:
            self._cache = {k: v for k, v in self._cache.items() if k[0] != "nu"}
        self._cache[key] = nu
        return nu

    def source_at(self, t):
        """Distributed plus point sources at time ``t`` (array of ``grid.shape`` or None)."""
        g = self.grid
        S = None
        if self._source is not None:
            S = np.array(np.broadcast_to(self._source.at(g.meshgrid(), t, g.shape), g.shape), dtype=float)
        for _, rate, weights in self._points:
            r = float(rate(t)) if callable(rate) else rate
            S = r * weights if S is None else S + r * weights
        return S

    # ---- assembled operator ------------------------------------------------------------------------
    def operator(self, t=0.0):
        """The generator ``L`` (CSR, ``grid.size`` square, C order) without the time scale."""
        key = ("L", t if self.operator_time_dependent else None)
        if key in self._cache:
            return self._cache[key]
        g = self.grid
        N = g.size
        idx = np.arange(N).reshape(g.shape)
        rows, cols, vals = [], [], []
        diag = np.zeros(g.shape)
        for d, (kL, kR) in enumerate(self._coefficients(t)):
            n = g.axes[d].n
            shp = [1] * g.ndim
            shp[d] = -1
            minv = (1.0 / g.cell_measure(d)).reshape(shp)
            sl = partial(_along, g.ndim, d)
            periodic = self.boundaries.sides[d][0].code == PERIODIC
            # interior faces f = 1..n-1: left cell f-1, right cell f
            fL, fR = kL[sl(slice(1, n))], kR[sl(slice(1, n))]
            iL, iR = idx[sl(slice(0, n - 1))], idx[sl(slice(1, n))]
            mL, mR = minv[sl(slice(0, n - 1))], minv[sl(slice(1, n))]
            pairs = [(fL, fR, iL, iR, mL, mR)]
            if periodic:
                pairs.append((kL[sl(slice(0, 1))], kR[sl(slice(0, 1))], idx[sl(slice(n - 1, n))],
                              idx[sl(slice(0, 1))], minv[sl(slice(n - 1, n))], minv[sl(slice(0, 1))]))
            for fl, fr, il, ir, ml, mr in pairs:
                # F = fr u_R - fl u_L ; rate_L += F/M_L ; rate_R -= F/M_R
                bl = np.broadcast_to(ml, il.shape)
                br = np.broadcast_to(mr, ir.shape)
                rows += [il.ravel(), ir.ravel()]
                cols += [ir.ravel(), il.ravel()]
                vals += [(fr * bl).ravel(), (fl * br).ravel()]
                np.add.at(diag, tuple(np.unravel_index(il.ravel(), g.shape)), -(fl * bl).ravel())
                np.add.at(diag, tuple(np.unravel_index(ir.ravel(), g.shape)), -(fr * br).ravel())
            if not periodic:
                lo_i = idx[sl(slice(0, 1))]
                hi_i = idx[sl(slice(n - 1, n))]
                np.add.at(diag, tuple(np.unravel_index(lo_i.ravel(), g.shape)),
                          -(kR[sl(slice(0, 1))] * minv[sl(slice(0, 1))]).ravel())
                np.add.at(diag, tuple(np.unravel_index(hi_i.ravel(), g.shape)),
                          -(kL[sl(slice(n, n + 1))] * minv[sl(slice(n - 1, n))]).ravel())
        nu = self._cell_rates(t)
        if nu is not None:
            diag = diag - nu
        rows.append(idx.ravel())
        cols.append(idx.ravel())
        vals.append(diag.ravel())
        L = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(N, N))
        L.sum_duplicates()
        if self.operator_time_dependent:
            self._cache = {k: v for k, v in self._cache.items() if k[0] != "L"}
        self._cache[key] = L
        return L

    def affine(self, t=0.0):
        """The affine part ``r(t)`` (boundary data and sources) as a flat vector, or None
        (computed once when nothing in it depends on time; read-only)."""
        frozen = not (self.affine_time_dependent or self.operator_time_dependent)
        if frozen and ("r",) in self._cache:
            return self._cache[("r",)]
        r = self._affine(t)
        if frozen:
            if r is not None:
                r.flags.writeable = False
            self._cache[("r",)] = r
        return r

    def _affine(self, t):
        g = self.grid
        r = None
        coefs = self._coefficients(t)
        for d, (lo, hi) in enumerate(self.boundaries.sides):
            n = g.axes[d].n
            M = g.cell_measure(d)
            kL, kR = coefs[d]
            sl = partial(_along, g.ndim, d)
            for side, cond in ((0, lo), (1, hi)):
                if cond.code not in (DIRICHLET, NEUMANN):
                    continue
                val = cond.value_at(t)
                if val == 0.0:
                    continue
                cell = 0 if side == 0 else n - 1
                if cond.code == DIRICHLET:
                    k = kL[sl(slice(0, 1))] if side == 0 else kR[sl(slice(n, n + 1))]
                    contrib = val * k / M[cell]
                else:
                    contrib = np.full(kL[sl(slice(0, 1))].shape, val * g.face_area(d)[0 if side == 0 else n] / M[cell])
                full = np.zeros(g.shape)
                full[_along(g.ndim, d, slice(cell, cell + 1))] = contrib
                r = full if r is None else r + full
        S = self.source_at(t)
        if S is not None:
            r = S if r is None else r + S
        return None if r is None else np.ascontiguousarray(r).ravel()

    def rate(self, u, t=0.0):
        """``du/dt`` for interior values ``u`` (``grid.shape``), matrix-free in compiled code."""
        g = self.grid
        u3 = np.ascontiguousarray(np.asarray(u, dtype=float).reshape(g.shape3))
        out = np.zeros(g.shape3)
        self._apply(u3, t, out)
        return out.reshape(g.shape)

    def _axis_arrays(self, t):
        """Per active axis: (internal axis, kL3, kR3, 1/M, periodic) in the internal 3D layout."""
        key = ("axes3", t if self.operator_time_dependent else None)
        if key in self._cache:
            return self._cache[key]
        g = self.grid
        off = 3 - g.ndim
        res = []
        for d, (kL, kR) in enumerate(self._coefficients(t)):
            s3 = list(g.shape3)
            s3[off + d] += 1
            res.append((off + d, np.ascontiguousarray(kL.reshape(s3)), np.ascontiguousarray(kR.reshape(s3)),
                        np.ascontiguousarray(1.0 / g.cell_measure(d)),
                        self.boundaries.sides[d][0].code == PERIODIC))
        if self.operator_time_dependent:
            self._cache = {k: v for k, v in self._cache.items() if k[0] != "axes3"}
        self._cache[key] = res
        return res

    def _apply(self, u3, t, out, with_affine=True):
        """``out = beta(t) (L u + r(t))`` on internal 3D arrays (compiled per-axis kernels)."""
        for k, (d3, kL, kR, minv, per) in enumerate(self._axis_arrays(t)):
            K.axis_rate(u3, kL, kR, minv, d3, per, out, k > 0)
        nu = self._cell_rates(t)
        if nu is not None:
            out -= nu.reshape(u3.shape) * u3
        if with_affine:
            r = self.affine(t)
            if r is not None:
                out += r.reshape(u3.shape)
        if self.time_scale is not None:
            out *= self.beta(t)
        return out

    # ---- time steps ------------------------------------------------------------------------------------
    def rate_bound(self, t=0.0):
        """``max_j |L_jj|`` (times ``beta(t)``): forward Euler is positive for ``dt`` up to its inverse.

        Computed from the face coefficients: ``|L_jj| = sum_d (kR_{j-1/2} + kL_{j+1/2}) / M_j + nu_j``.
        """
        g = self.grid
        diag = np.zeros(g.shape)
        for d, (kL, kR) in enumerate(self._coefficients(t)):
            n = g.axes[d].n
            sl = partial(_along, g.ndim, d)
            hi = np.array(kL[sl(slice(1, n + 1))])
            if self.boundaries.sides[d][0].code == PERIODIC:
                hi[sl(slice(n - 1, n))] = kL[sl(slice(0, 1))]
            shp = [1] * g.ndim
            shp[d] = -1
            diag = diag + (kR[sl(slice(0, n))] + hi) / g.cell_measure(d).reshape(shp)
        nu = self._cell_rates(t)
        if nu is not None:
            diag = diag + nu
        return float(diag.max()) * self.beta(t)

    def stable_dt(self, cfl, method=None, t=0.0):
        """``dt = cfl / max_j |L_jj|`` — for explicit methods ``cfl <= 1`` keeps the scheme positive;
        for implicit methods ``cfl`` is read as the same diffusion/drift number."""
        method = self.check_method(method)
        cfl = check_cfl(cfl, limit=1.0 if method in SSP_METHODS else None)
        rate = self.rate_bound(t)
        if rate == 0.0:
            raise ParameterError(f"no time-step limit for this problem with method {method!r}: give dt instead of cfl")
        return cfl / rate

    def stepper(self, method=None, dt=None):
        method = self.check_method(method)
        if dt is None or not (np.isfinite(dt) and dt > 0):
            raise ParameterError(f"dt must be a positive finite number, got {dt!r}")
        if method in SSP_METHODS:
            return ExplicitStepper(self, method, dt)
        if method == "adi":
            return ADIStepper(self, dt)
        if method == "exact":
            return ExactStepper(self, dt)
        return ImplicitStepper(self, method, dt)

    def positivity_preserving(self, method) -> bool:
        """Whether ``method`` keeps ``u >= 0`` (used by the run loop's positivity guard)."""
        return method in POSITIVE_METHODS and not any(
            c.code == DIRICHLET and np.any(np.asarray(c.value_at(0.0)) < 0) for s in self.boundaries.sides for c in s)

    # ---- steady states -------------------------------------------------------------------------------
    def steady_state(self, mass=None, t=0.0, solver="auto"):
        """Stationary density: ``L u + r = 0`` solved directly (sparse LU).

        A closed system (no sources, losses or boundary data: ``L`` has a one-dimensional null
        space) needs a normalisation: one equation is replaced by ``sum_j V_j u_j = mass``
        (default 1, ``V`` the cell measure). A closed 1D system without periodic boundaries has zero
        flux through every face in its steady state; ``solver="auto"`` then evaluates the product
        ``u_{j+1}/u_j = kL/kR`` in logarithms (exact to round-off over any number of decades);
        ``solver="sparse"`` always solves the bordered linear system. Returns an array of ``grid.shape``.
        """
        if solver not in ("auto", "sparse"):
            raise ParameterError(f"solver must be 'auto' or 'sparse', got {solver!r}")
        g = self.grid
        L = self.operator(t)
        r = self.affine(t)
        nu = self._cell_rates(t)
        no_loss = nu is None or not np.any(nu)
        dirichlet = any(c.code == DIRICHLET for s in self.boundaries.sides for c in s)
        closed = (r is None or not np.any(r)) and no_loss and not dirichlet
        if not closed and no_loss and not dirichlet:
            raise ParameterError("no steady state: sources or boundary fluxes add or remove particles but nothing "
                                 "takes them out again (no loss_rate, no Dirichlet boundary); the mass changes "
                                 "linearly in time")
        meas = self._measure().ravel()
        if closed:
            m = 1.0 if mass is None else float(mass)
            if not np.isfinite(m) or m <= 0:
                raise ParameterError(f"mass must be a positive number, got {mass!r}")
            u = self._detailed_balance(t) if solver == "auto" else None
            if u is not None:
                return (u * (m / np.sum(u * meas))).reshape(g.shape)
            # replace one equation by the normalisation; the equation dropped should be one where the
            # density is large (dropping one in a far tail loses digits when u spans many decades):
            # a first solve locates the bulk of the mass, a second drops the equation there
            k = int(np.argmax(np.abs(L.diagonal())))
            for _ in range(2):
                A = L.tolil(copy=True)
                A[k, :] = meas
                b = np.zeros(g.size)
                b[k] = m
                u = spla.spsolve(A.tocsc(), b)
                if not np.all(np.isfinite(u)):
                    break
                k_new = int(np.argmax(u * meas))
                if k_new == k:
                    break
                k = k_new
            if not np.all(np.isfinite(u)):
                raise ParameterError("the steady-state system is singular (e.g. a region without diffusion and "
                                     "drift, or a closed system split into disconnected parts)")
            return u.reshape(g.shape)
        else:
            if mass is not None:
                raise ParameterError("mass is fixed by the sources, losses and boundary data of an open system; "
                                     "leave mass=None")
            A = L.tocsc()
            b = -r if r is not None else np.zeros(g.size)
        try:
            u = spla.spsolve(A, b)
        except RuntimeError as exc:  # pragma: no cover - singular factor
            raise ParameterError(f"the steady-state system is singular: {exc}") from None
        if not np.all(np.isfinite(u)):
            raise ParameterError("the steady-state system is singular (e.g. a region without diffusion and drift, "
                                 "or a closed system split into disconnected parts)")
        return u.reshape(g.shape)

    def _detailed_balance(self, t):
        """1D closed, non-periodic systems: the stationary flux vanishes at every face, so
        ``u_{j+1} / u_j = kL / kR`` (``exp(-w)``) — the product is evaluated in logarithms, exact to
        round-off however many decades ``u`` spans. None when not applicable."""
        g = self.grid
        if g.ndim != 1 or self.boundaries.sides[0][0].code == PERIODIC:
            return None
        kL, kR = self._coefficients(t)[0]
        kL, kR = kL[1:-1], kR[1:-1]
        if np.any(kL <= 0) or np.any(kR <= 0):
            return None
        logu = np.concatenate([[0.0], np.cumsum(np.log(kL) - np.log(kR))])
        return np.exp(logu - logu.max())

    def _measure(self):
        """Cell measures ``prod_d M_d`` (without the 4 pi of spherical shells)."""
        g = self.grid
        v = np.ones(g.shape)
        for d in range(g.ndim):
            shp = [1] * g.ndim
            shp[d] = -1
            v = v * g.cell_measure(d).reshape(shp)
        return v

    def mass(self, u):
        """``sum_j V_j u_j`` with the cell measure (conserved with zero-flux boundaries)."""
        return float(np.sum(np.asarray(u) * self._measure()))

    def parameters(self) -> dict:
        p = super().parameters()
        for k, v in self._specs.items():
            if k == "point_sources":
                p[k] = None if v is None else [[describe_coefficient(list(np.atleast_1d(pos).astype(float))),
                                                describe_coefficient(rate)] for pos, rate in v]
            else:
                p[k] = describe_coefficient(v)
        p["variable"] = self.variables[0]
        return p


class _Stepper:
    def __init__(self, model, dt):
        self.model = model
        self.dt = float(dt)

    def _get(self, state):
        m = self.model
        return np.ascontiguousarray(m.interior(state)[0].reshape(m.grid.shape3))

    def _put(self, state, u3):
        m = self.model
        m.interior(state)[0] = u3.reshape(m.grid.shape)


class ExplicitStepper(_Stepper):
    """Forward Euler / SSP-RK2 / SSP-RK3 (Shu–Osher form) on the compiled matrix-free generator."""

    def __init__(self, model, method, dt):
        super().__init__(model, dt)
        self.method = method
        self.time_dependent = model.operator_time_dependent or model.time_scale is not None
        self._checked = None
        self.table = SSP_METHODS[method]
        if not self.time_dependent:  # else every stage is checked at its own time
            self.check(0.0)

    def check(self, t):
        """Refuse a step beyond the forward-Euler bound ``dt <= 1/max|L_jj|`` at time ``t``."""
        bound = self.model.rate_bound(t)
        if bound * self.dt > 1.0 + 1e-12:
            raise ParameterError(f"dt = {self.dt:.6g} exceeds the stability (and positivity) bound 1/max|L_jj| = "
                                 f"{1.0 / bound:.6g} of the explicit method {self.method!r} at t = {t:.6g}; reduce dt "
                                 "(for coefficients that grow in time: below the bound at the end of the run) or use "
                                 "an implicit method (backward-euler, tr-bdf2, crank-nicolson, adi, exact)")

    def advance(self, state, t, nsteps):
        m = self.model
        dt = self.dt
        u0 = self._get(state)
        cur = u0.copy()
        rate = np.empty_like(u0)
        for n in range(nsteps):
            tn = t + n * dt
            np.copyto(u0, cur)
            for a, b, c in self.table:
                if self.time_dependent:
                    self.check(tn + c * dt)
                m._apply(cur, tn + c * dt, rate)
                cur *= b
                cur += (b * dt) * rate
                if a:
                    cur += a * u0
        self._put(state, cur)


class ImplicitStepper(_Stepper):
    """Backward Euler, Crank–Nicolson and TR-BDF2 on the assembled generator (SuperLU, reused)."""

    GAMMA = 2.0 - math.sqrt(2.0)

    def __init__(self, model, method, dt):
        super().__init__(model, dt)
        self.method = method
        self.N = model.grid.size
        self.I = sp.identity(self.N, format="csc")
        self._lu = {}
        self.frozen = not model.operator_time_dependent and model.time_scale is None

    def _solve(self, c, t, b):
        """Solve ``(I - c L(t)) x = b`` (the factorisation is reused when L is frozen)."""
        key = c if self.frozen else (c, t)
        lu = self._lu.get(key)
        if lu is None:
            lu = spla.splu((self.I - c * self.model.operator(t)).tocsc())
            if self.frozen:
                self._lu[key] = lu
            else:
                self._lu = {key: lu}
        return lu.solve(b)

    def _f(self, u, t):
        """``beta(t) (L(t) u + r(t))`` with the assembled operator."""
        m = self.model
        out = m.operator(t) @ u
        r = m.affine(t)
        if r is not None:
            out += r
        return m.beta(t) * out

    def _r(self, t):
        r = self.model.affine(t)
        return 0.0 if r is None else self.model.beta(t) * r

    def advance(self, state, t, nsteps):
        m = self.model
        dt = self.dt
        u = m.interior(state)[0].ravel().copy()
        for n in range(nsteps):
            tn = t + n * dt
            if self.method == "backward-euler":
                t1 = tn + dt
                u = self._solve(dt * m.beta(t1), t1, u + dt * self._r(t1))
            elif self.method == "crank-nicolson":
                t1 = tn + dt
                u = self._solve(0.5 * dt * m.beta(t1), t1, u + 0.5 * dt * (self._f(u, tn) + self._r(t1)))
            else:  # TR-BDF2: trapezoid to t + gamma dt, then BDF2 over the whole step
                g = self.GAMMA
                tg, t1 = tn + g * dt, tn + dt
                ug = self._solve(0.5 * g * dt * m.beta(tg), tg, u + 0.5 * g * dt * (self._f(u, tn) + self._r(tg)))
                c2 = 0.5 * g  # = (1 - g)/(2 - g) for g = 2 - sqrt 2: the same matrix as the first stage
                rhs = (ug - (1.0 - g) ** 2 * u) / (g * (2.0 - g)) + c2 * dt * self._r(t1)
                u = self._solve(c2 * dt * m.beta(t1), t1, rhs)
        m.interior(state)[0] = u.reshape(m.grid.shape)


class ADIStepper(_Stepper):
    """Douglas ADI with ``theta = 1/2`` (Douglas 1962; Hundsdorfer & Verwer 2003, IV.3):

        Y_0 = u^n + dt F(t_{n+1/2}, u^n),
        Y_d = Y_{d-1} + theta dt (L_d Y_d - L_d u^n),  d = 1..ndim,   u^{n+1} = Y_ndim,

    with coefficients at the half step. Each stage is a set of tridiagonal solves along one axis
    (cyclic on periodic axes). Second order; mass-conserving (every ``L_d`` conserves mass).
    """

    def __init__(self, model, dt):
        super().__init__(model, dt)
        self.theta = 0.5

    def advance(self, state, t, nsteps):
        m = self.model
        dt = self.dt
        u = self._get(state)
        Y = np.empty_like(u)
        Lu = [np.empty_like(u) for _ in range(m.grid.ndim)]
        rhs = np.empty_like(u)
        for n in range(nsteps):
            th = t + (n + 0.5) * dt
            beta = m.beta(th)
            axes = m._axis_arrays(th)
            nu = m._cell_rates(th)
            nd = len(axes)
            nu_share = np.zeros_like(u) if nu is None else np.ascontiguousarray(nu.reshape(u.shape) / nd)
            for k, (d3, kL, kR, minv, per) in enumerate(axes):
                K.axis_rate(u, kL, kR, minv, d3, per, Lu[k], False)
                Lu[k] -= nu_share * u
            r0 = m.affine(t + n * dt)
            r1 = m.affine(t + (n + 1) * dt)
            np.copyto(Y, u)
            for k in range(nd):
                Y += (beta * dt) * Lu[k]
            if r0 is not None:
                Y += (0.5 * dt) * (m.beta(t + n * dt) * r0 + m.beta(t + (n + 1) * dt) * r1).reshape(u.shape)
            c = self.theta * dt * beta
            for k, (d3, kL, kR, minv, per) in enumerate(axes):
                np.copyto(rhs, Y)
                rhs -= c * Lu[k]
                K.axis_implicit_solve(rhs, kL, kR, minv, nu_share, d3, per, c, Y)
            np.copyto(u, Y)
        self._put(state, u)


class ExactStepper(_Stepper):
    """``u(t + dt) = exp(tau L) u + tau phi_1(tau L) r`` with ``tau = int beta`` via ``expm_multiply``
    (Al-Mohy & Higham 2011) on the matrix augmented by the constant affine term."""

    def __init__(self, model, dt):
        super().__init__(model, dt)
        if model.operator_time_dependent or model.affine_time_dependent:
            raise ParameterError("method 'exact' needs a time-independent generator (coefficients, sources and "
                                 "boundary data that do not depend on t; a factor beta(t) via time_scale is allowed)")
        L = model.operator(0.0)
        r = model.affine(0.0)
        if r is not None and np.any(r):
            N = L.shape[0]
            self.A = sp.bmat([[L, sp.csr_matrix(r.reshape(-1, 1))], [sp.csr_matrix((1, N)), sp.csr_matrix((1, 1))]],
                             format="csr")
            self.augmented = True
        else:
            self.A = L.tocsr()
            self.augmented = False

    def advance(self, state, t, nsteps):
        m = self.model
        u = m.interior(state)[0].ravel().copy()
        if self.augmented:
            u = np.append(u, 1.0)
        for n in range(nsteps):
            tau = m.beta_integral(t + n * self.dt, t + (n + 1) * self.dt)
            u = spla.expm_multiply(tau * self.A, u)
        if self.augmented:
            u = u[:-1]
        m.interior(state)[0] = u.reshape(m.grid.shape)
