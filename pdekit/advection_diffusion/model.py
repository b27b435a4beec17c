"""The advection–diffusion model  du/dt + div(v u) = div(D grad u) + S  in 1–3D.

Finite-volume discretisation on a :class:`pdekit.Grid` (Cartesian or 1D spherical-radial), face
fluxes from :mod:`pdekit.advection_diffusion.kernels`. Time integration:

* ``euler``, ``ssprk2``, ``ssprk3`` — fully explicit, ``dt`` from the CFL number
  ``cfl = dt * max_i sum_d [ |v|/dx + (D_- / h_- + D_+ / h_+) / dx ]`` (``|v| dt/dx + 2 D dt/dx^2`` on a
  uniform grid); forward Euler with upwind fluxes is positive for ``cfl <= 1``, the TVD limiters
  keep their property for ``cfl <= 1/2``;
* ``crank-nicolson``, ``backward-euler``, ``theta`` — implicit diffusion (no advection), sparse LU
  factorised once;
* ``strang`` — Strang splitting: explicit SSP-RK advection half steps around an implicit
  Crank–Nicolson diffusion step; ``dt`` from the advective CFL number alone.

Several variables (passive tracers) may share the velocity and diffusivity.
"""
from __future__ import annotations

import numpy as np

from ..boundary import DIRICHLET, NEUMANN, ZERO_FLUX, fill_ghosts
from ..errors import ParameterError
from ..model import GridModel, describe_coefficient
from ..operators import diffusion_operator
from ..timestepping import SSP_METHODS, SSP_ORDER, THETA_METHODS, ThetaSolver, check_cfl
from . import kernels as K


class AdvectionDiffusion(GridModel):
    """Linear advection–diffusion of one or more scalars.

    Parameters
    ----------
    grid : pdekit.Grid
    bc : boundary specification (see :class:`pdekit.boundary.Boundaries`)
    velocity : float, sequence, face arrays or callable
        A number (1D), one number per axis, a tuple of per-axis face arrays (shape of the grid
        with one more entry along that axis), or ``f(*coords, t)`` returning the velocity
        components (evaluated at face centres at every stage time).
    diffusivity : float, array or tuple of face arrays
        ``D >= 0``: a number, a cell field of ``grid.shape`` (harmonic mean at faces), or per-axis
        face arrays.
    source : None, float, array of ``grid.shape`` or callable ``f(*coords, t)``
    scheme : {"upwind", "minmod", "vanleer", "mc", "superbee"}
        Reconstruction for the advective flux: first-order upwind or second-order TVD (MUSCL with
        that slope limiter).
    variables : tuple of str
        Names of the advected scalars (default ``("u",)``).
    """

    name = "advection-diffusion"
    methods = ("euler", "ssprk2", "ssprk3", "crank-nicolson", "backward-euler", "theta", "strang")
    implicit_methods = ("crank-nicolson", "backward-euler", "theta")
    default_method = "ssprk2"
    default_cfl = 0.4

    def __init__(self, grid, bc, *, velocity=0.0, diffusivity=0.0, source=None, scheme="vanleer",
                 variables=("u",), theta=0.5):
        super().__init__(grid, bc)
        if grid.ghost < 2:
            raise ParameterError(f"advection-diffusion needs a grid with ghost >= 2 (second-order fluxes read two "
                                 f"cells on each side of a face); got ghost={grid.ghost}")
        if isinstance(variables, str):
            variables = (variables,)
        variables = tuple(variables)
        if not variables or not all(isinstance(v, str) and v.isidentifier() for v in variables):
            raise ParameterError(f"variables must be a non-empty tuple of identifier names, got {variables!r}")
        if len(set(variables)) != len(variables) or set(variables) & set(grid.dims + ("t",)):
            raise ParameterError(f"variable names must be distinct and differ from dimension names, got {variables}")
        self.variables = variables
        key = str(scheme).lower()
        if key not in K.LIMITERS:
            raise ParameterError(f"unknown scheme {scheme!r}; accepted: upwind, minmod, vanleer, mc, superbee")
        self.scheme = {"van-leer": "vanleer", "van_leer": "vanleer"}.get(key, key)
        self.limiter = K.LIMITERS[key]
        if not 0.0 <= float(theta) <= 1.0:
            raise ParameterError(f"theta must be in [0, 1], got {theta}")
        self.theta = float(theta)
        self._velocity_spec = velocity
        self._diffusivity_spec = diffusivity
        self._source_spec = source
        self._velocity_fn = velocity if callable(velocity) else None
        self._source_fn = source if callable(source) else None
        self.face_velocity = self._parse_velocity(velocity)
        self.face_diffusivity = self._parse_diffusivity(diffusivity)
        self.source = self._parse_source(source)
        self._metrics()

    # ---- parameter parsing ---------------------------------------------------------------------
    def _parse_velocity(self, v):
        g = self.grid
        if callable(v):
            return self.velocity_at(0.0, v)
        if np.isscalar(v) or (isinstance(v, np.ndarray) and v.ndim == 0):
            if g.ndim != 1 and float(v) != 0.0:
                raise ParameterError(f"velocity: give one component per axis for a {g.ndim}D grid, got the number {v}")
            v = [float(v)] * g.ndim
        if not isinstance(v, (list, tuple)) or len(v) != g.ndim:
            raise ParameterError(f"velocity must be a number, {g.ndim} per-axis components, a tuple of "
                                 f"face arrays or a function of (*coords, t); got {v!r}")
        out = []
        for d, comp in enumerate(v):
            fs = g.face_shape(d)
            if np.isscalar(comp) or np.ndim(comp) == 0:
                try:
                    c = float(comp)
                except (TypeError, ValueError):
                    raise ParameterError(f"velocity component {d} must be a number or a face array, "
                                         f"got {comp!r}") from None
                if not np.isfinite(c):
                    raise ParameterError(f"velocity component {d} must be finite, got {c}")
                out.append(np.broadcast_to(c, fs))
            else:
                arr = np.asarray(comp, dtype=float)
                if arr.shape != fs:
                    raise ParameterError(f"velocity component along {g.dims[d]!r} has shape {arr.shape}; "
                                         f"a face field on this grid has shape {fs}")
                if not np.all(np.isfinite(arr)):
                    raise ParameterError(f"velocity component along {g.dims[d]!r} has non-finite values")
                out.append(self._periodic_face_check(np.ascontiguousarray(arr), d, "velocity"))
        return out

    def _periodic_face_check(self, arr, d, what):
        """On a periodic axis the first and last faces are the same face: their values must agree."""
        if self.boundaries.sides[d][0].kind == "periodic":
            if not np.array_equal(np.take(arr, 0, axis=d), np.take(arr, -1, axis=d)):
                raise ParameterError(f"{what} face field along periodic axis {self.grid.dims[d]!r}: the first and "
                                     "last faces are the same face and must have equal values")
        return arr

    def velocity_at(self, t, fn=None):
        fn = fn or self._velocity_fn
        g = self.grid
        out = []
        for d in range(g.ndim):
            comps = fn(*g.face_points(d), t)
            if g.ndim == 1 and (np.ndim(comps) == 0 or not isinstance(comps, (tuple, list))):
                comps = (comps,)
            if len(comps) != g.ndim:
                raise ParameterError(f"velocity function must return {g.ndim} components, got {len(comps)}")
            try:
                arr = np.array(np.broadcast_to(np.asarray(comps[d], float), g.face_shape(d)))
            except ValueError:
                raise ParameterError(f"velocity function: component {d} has shape {np.shape(comps[d])}, which does not "
                                     f"broadcast to the face shape {g.face_shape(d)} of axis {g.dims[d]!r}") from None
            if not np.all(np.isfinite(arr)):
                raise ParameterError(f"velocity function returned non-finite values along {g.dims[d]!r} at t={t}")
            if self.boundaries.sides[d][0].kind == "periodic":
                # the faces x = lo and x = hi are one face on a periodic axis: use the value at lo
                last = [slice(None)] * g.ndim
                first = list(last)
                last[d], first[d] = -1, 0
                arr[tuple(last)] = arr[tuple(first)]
            out.append(arr)
        return out

    def _parse_diffusivity(self, D):
        g = self.grid
        if callable(D):
            D = np.broadcast_to(np.asarray(D(*g.meshgrid()), dtype=float), g.shape)
        if np.isscalar(D) or (isinstance(D, np.ndarray) and D.ndim == 0):
            try:
                Dv = float(D)
            except (TypeError, ValueError):
                raise ParameterError(f"diffusivity must be a number >= 0 or an array, got {D!r}") from None
            if not np.isfinite(Dv) or Dv < 0:
                raise ParameterError(f"diffusivity must be finite and >= 0, got {D!r}")
            self._dmax = Dv
            return [np.broadcast_to(Dv, g.face_shape(d)) for d in range(g.ndim)]
        if isinstance(D, (list, tuple)):
            if len(D) != g.ndim:
                raise ParameterError(f"diffusivity: give {g.ndim} face arrays (one per axis), got {len(D)}")
            out = []
            for d, Dd in enumerate(D):
                arr = np.asarray(Dd, dtype=float)
                if arr.shape != g.face_shape(d):
                    raise ParameterError(f"diffusivity along {g.dims[d]!r} has shape {arr.shape}; "
                                         f"a face field has shape {g.face_shape(d)}")
                out.append(self._periodic_face_check(arr, d, "diffusivity"))
        else:
            arr = np.asarray(D, dtype=float)
            if arr.shape != g.shape:
                raise ParameterError(f"diffusivity field has shape {arr.shape}; expected the grid shape {g.shape} "
                                     "(cell values) or a tuple of face arrays")
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr) | (arr < 0))[0])
                raise ParameterError(f"diffusivity must be finite and >= 0 everywhere; cell {bad} has "
                                     f"{arr[tuple(bad)]}")
            cell = arr
            out = []
            for d in range(g.ndim):
                # harmonic mean of the two neighbours at interior faces, boundary faces take the cell value
                lo = np.take(cell, [0], axis=d)
                hi = np.take(cell, [-1], axis=d)
                a = np.take(cell, range(0, g.shape[d] - 1), axis=d)
                b = np.take(cell, range(1, g.shape[d]), axis=d)
                with np.errstate(divide="ignore", invalid="ignore"):
                    hm = np.where(a + b > 0, 2 * a * b / (a + b), 0.0)
                if self.boundaries.sides[d][0].kind == "periodic":
                    wa, wb = hi, lo
                    with np.errstate(divide="ignore", invalid="ignore"):
                        wrap = np.where(wa + wb > 0, 2 * wa * wb / (wa + wb), 0.0)
                    lo = hi = wrap
                out.append(np.concatenate([lo, hm, hi], axis=d))
        for d, arr in enumerate(out):
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise ParameterError(f"diffusivity must be finite and >= 0 everywhere (faces along axis {g.dims[d]!r})")
        self._dmax = max(float(a.max()) for a in out)
        return [np.ascontiguousarray(a) for a in out]

    def _parse_source(self, S):
        g = self.grid
        if S is None:
            return None
        if callable(S):
            return self.source_at(0.0, S)
        arr = np.asarray(S, dtype=float)
        if arr.ndim == 0:
            if not np.isfinite(arr):
                raise ParameterError(f"source must be finite, got {S}")
            return np.full(g.shape, float(arr)) if float(arr) != 0.0 else None
        if arr.shape != g.shape:
            raise ParameterError(f"source has shape {arr.shape}; expected the grid shape {g.shape}")
        if not np.all(np.isfinite(arr)):
            raise ParameterError("source has non-finite values")
        return np.ascontiguousarray(arr)

    def source_at(self, t, fn=None):
        fn = fn or self._source_fn
        g = self.grid
        try:
            arr = np.ascontiguousarray(np.broadcast_to(np.asarray(fn(*g.meshgrid(), t), float), g.shape))
        except ValueError:
            raise ParameterError(f"source function must return values of the grid shape {g.shape}") from None
        if not np.all(np.isfinite(arr)):
            raise ParameterError(f"source function returned non-finite values at t={t}")
        return arr

    # ---- kernel arguments ------------------------------------------------------------------------
    def _metrics(self):
        g = self.grid
        off = 3 - g.ndim
        gh = g.ghost
        self._g3 = np.array(g.ghost3, dtype=np.int64)
        self._w = [np.ones(1)] * 3
        self._ar = [np.ones(1)] * 3
        self._im = [np.ones(1)] * 3
        for d, axis in enumerate(g.axes):
            w = axis.widths
            lo, hi = self.boundaries.sides[d]
            if lo.kind == "periodic":
                left = np.resize(w[::-1], gh)[::-1] if w.size >= gh else np.full(gh, w[-1])
                right = np.resize(w, gh)
            else:
                left = np.resize(w, gh)[::-1]
                right = np.resize(w[::-1], gh)
            self._w[off + d] = np.concatenate([left, w, right])
            self._ar[off + d] = g.face_area(d)
            self._im[off + d] = 1.0 / g.cell_measure(d)

    def _face3(self, arrays):
        """Per-axis face arrays reshaped to the padded-3D internal layout (3 entries)."""
        g = self.grid
        off = 3 - g.ndim
        out = [np.broadcast_to(0.0, (1, 1, 1))] * 3
        for d, a in enumerate(arrays):
            out[off + d] = a.reshape((1,) * off + a.shape)
        return out

    def _flags(self, split_advection=False):
        flags = np.zeros((3, 2), dtype=np.int64)
        off = 3 - self.grid.ndim
        for d, pair in enumerate(self.boundaries.sides):
            for side, c in enumerate(pair):
                if c.code == DIRICHLET:
                    flags[off + d, side] = K.FACE_DIRICHLET
                elif c.code in (NEUMANN, ZERO_FLUX):
                    flags[off + d, side] = K.FACE_FLUX
        return flags

    def _bvals(self, t, split_advection=False, out=None):
        vals = self.boundaries.values(t, out)
        if split_advection:
            # in the advection sub-step a Neumann face carries no flux: the diffusion step adds q
            off = 3 - self.grid.ndim
            for d, pair in enumerate(self.boundaries.sides):
                for side, c in enumerate(pair):
                    if c.code == NEUMANN:
                        vals[off + d, side] = 0.0
        return vals

    @property
    def time_dependent(self) -> bool:
        return self._velocity_fn is not None or self._source_fn is not None or self.boundaries.time_dependent

    @property
    def has_advection(self) -> bool:
        return self._velocity_fn is not None or any(np.any(v != 0) for v in self.face_velocity)

    # ---- time step ----------------------------------------------------------------------------------
    def rate_bound(self, advection=True, diffusion=True, t=0.0):
        """1/dt of forward Euler at CFL 1: ``max_i sum_d (a_i + (A D/h)_faces / M_i)``.

        The advective rate ``a_i = max(max(|v_-|, |v_+|)/dx_i, (A_+ max(v_+, 0) + A_- max(-v_-, 0))/M_i)``
        covers both the usual ``|v|/dx`` and the outflow through both faces weighted by the metric
        (a cell next to r = 0 in spherical geometry empties three times faster than ``v/dr``).
        """
        g = self.grid
        vel = self.velocity_at(t) if self._velocity_fn is not None else self.face_velocity
        total = np.zeros(g.shape)
        for d, axis in enumerate(g.axes):
            sh = [1] * g.ndim
            sh[d] = -1
            n = axis.n
            if advection:
                vf = np.broadcast_to(vel[d], g.face_shape(d))
                vlo, vhi = np.take(vf, range(n), axis=d), np.take(vf, range(1, n + 1), axis=d)
                vmax = np.maximum(np.abs(vlo), np.abs(vhi))
                A = g.face_area(d)
                outflow = (A[1:].reshape(sh) * np.maximum(vhi, 0.0) + A[:-1].reshape(sh) * np.maximum(-vlo, 0.0)) \
                    / g.cell_measure(d).reshape(sh)
                total = total + np.maximum(vmax / axis.widths.reshape(sh), outflow)
            if diffusion:
                w = axis.widths
                # 1/h per face: centre distance inside, the wrap distance on periodic axes, w/2 at a
                # Dirichlet face (flux 2D(u-g)/w); other boundary faces carry no state-dependent flux
                inv_h = np.zeros(n + 1)
                inv_h[1:-1] = 2.0 / (w[1:] + w[:-1])
                lo, hi = self.boundaries.sides[d]
                if lo.kind == "periodic":
                    inv_h[0] = inv_h[-1] = 2.0 / (w[0] + w[-1])
                else:
                    inv_h[0] = 2.0 / w[0] if lo.kind == "dirichlet" else 0.0
                    inv_h[-1] = 2.0 / w[-1] if hi.kind == "dirichlet" else 0.0
                A = g.face_area(d)
                c = np.broadcast_to(self.face_diffusivity[d], g.face_shape(d)) * (A * inv_h).reshape(sh)
                total = total + (np.take(c, range(n), axis=d) + np.take(c, range(1, n + 1), axis=d)) \
                    * (1.0 / g.cell_measure(d)).reshape(sh)
        return float(total.max())

    def stable_dt(self, cfl, method=None, t=0.0):
        """Time step for CFL number ``cfl`` (coefficients given as functions are evaluated at ``t``).

        Explicit methods: ``dt = cfl / rate_bound()``. Strang: each advective half step runs at
        ``cfl`` (``dt = 2 cfl / advective rate``). Theta methods: ``cfl`` is a diffusion number.
        """
        method = self.check_method(method)
        if method in SSP_METHODS:
            cfl = check_cfl(cfl, limit=1.0)
            rate = self.rate_bound(t=t)
        elif method == "strang":
            cfl = check_cfl(cfl, limit=1.0, what="advective CFL number")
            rate = 0.5 * self.rate_bound(diffusion=False, t=t)
        else:
            self._check_no_advection(method)
            cfl = check_cfl(cfl, what="diffusion number")
            rate = self.rate_bound(advection=False, t=t)
        if rate == 0.0:
            raise ParameterError(f"no time-step limit for this problem with method {method!r}: give dt instead of cfl")
        return cfl / rate

    def _check_no_advection(self, method):
        if self.has_advection:
            raise ParameterError(f"method {method!r} integrates diffusion only; this model has a velocity: "
                                 "use 'strang' (explicit advection + implicit diffusion) or an SSP-RK method")

    # ---- steppers -----------------------------------------------------------------------------------
    def stepper(self, method=None, dt=None):
        method = self.check_method(method)
        if method in SSP_METHODS:
            return ExplicitStepper(self, method, dt)
        if method in THETA_METHODS:
            self._check_no_advection(method)
            theta = THETA_METHODS[method] if THETA_METHODS[method] is not None else self.theta
            return ThetaStepper(self, theta, dt)
        return StrangStepper(self, dt)

    def rate(self, state, t=0.0):
        """``du/dt`` on the interior for a padded state (fills ghosts): the semi-discrete operator."""
        u = state.copy()
        out = np.zeros_like(u)
        st = ExplicitStepper(self, "euler", 1.0)
        st._buffers(u)
        st.update(t)
        fill_ghosts(u, self._g3, self.boundaries.codes, st.bvals)
        st.stage(u, u, out, 0.0, 1.0, 1.0)
        return self.interior(out) - self.interior(u)

    def parameters(self) -> dict:
        p = super().parameters()

        desc = describe_coefficient
        p.update(velocity=desc(self._velocity_spec), diffusivity=desc(self._diffusivity_spec),
                 source=desc(self._source_spec), scheme=self.scheme, variables=list(self.variables),
                 theta=self.theta)
        return p


class ExplicitStepper:
    """Forward Euler / SSP-RK2 / SSP-RK3; the whole N-step loop runs in compiled code when no
    coefficient depends on time, otherwise one compiled stage per call with coefficients
    evaluated at the stage times."""

    def __init__(self, model, method, dt, split_advection=False):
        self.model = model
        self.method = method
        self.order = SSP_ORDER[method]
        self.dt = dt
        self.split = split_advection
        g = model.grid
        self.g3 = model._g3
        self.codes = model.boundaries.codes
        self.flags = model._flags(split_advection)
        self.bvals = np.zeros((3, 2))
        model._bvals(0.0, split_advection, self.bvals)
        self.vel = model._face3(model.face_velocity)
        dif = model.face_diffusivity if not split_advection else \
            [np.broadcast_to(0.0, g.face_shape(d)) for d in range(g.ndim)]
        self.dif = model._face3(dif)
        src = model.source if not split_advection else None
        # shape (0, 0, 0) tells the kernels that there is no source
        self.src = np.zeros((0, 0, 0)) if src is None else src.reshape(g.shape3)
        self._scratch = None
        self._fast = None

    @property
    def kernel_args(self):
        m = self.model
        return (*m._w, *m._ar, *m._im, *self.vel, *self.dif, self.src, self.flags, self.bvals, m.limiter)

    @property
    def fast(self) -> bool:
        """Uniform Cartesian axes with constant velocity and diffusivity: the row kernels apply
        (decided once: only a velocity function changes the coefficients, and it rules this out)."""
        if self._fast is None:
            m = self.model
            g = m.grid
            self._fast = (g.geometry == "cartesian" and all(a.is_uniform for a in g.axes) and m._velocity_fn is None
                          and all(_is_constant(a) for a in self.vel + self.dif))
        return self._fast

    def _uniform_args(self):
        m = self.model
        g = m.grid
        off = 3 - g.ndim
        vel, Dh, idx = np.zeros(3), np.zeros(3), np.zeros(3)
        for d, axis in enumerate(g.axes):
            dx = axis.widths[0]
            vel[off + d] = float(self.vel[off + d].flat[0])
            Dh[off + d] = float(self.dif[off + d].flat[0]) / dx
            idx[off + d] = 1.0 / dx
        return vel, Dh, idx

    def update(self, t):
        """Re-evaluate time-dependent coefficients at time ``t``."""
        m = self.model
        if m.boundaries.time_dependent:
            m._bvals(t, self.split, self.bvals)
        if m._velocity_fn is not None:
            self.vel = m._face3(m.velocity_at(t))
        if m._source_fn is not None and not self.split:
            self.src = m.source_at(t).reshape(m.grid.shape3)

    def _buffers(self, u):
        if self._scratch is None or self._scratch[0].shape != u.shape:
            self._scratch = (np.zeros_like(u), np.zeros_like(u))
            shape3 = self.model.grid.shape3
            self._fx = np.empty(shape3[2] + 1)
            self._fy = np.empty((2, shape3[2]))
        return self._scratch

    def stage(self, u0, cur, out, a, b, dt):
        """One Shu–Osher stage ``out = a*u0 + b*(cur + dt*L(cur))`` (ghosts of ``cur`` filled)."""
        if self.fast:
            vel, Dh, idx = self._uniform_args()
            limiter = self.model.limiter if np.any(vel != 0) else -1
            K.uniform_stage(u0, cur, out, a, b, dt, self.g3, vel, Dh, idx, self.src, self.flags, self.bvals,
                            limiter, self._fx, self._fy)
        else:
            K.stage(u0, cur, out, a, b, dt, self.g3, *self.kernel_args)

    def advance(self, u, t, nsteps, dt=None):
        dt = self.dt if dt is None else dt
        s1, s2 = self._buffers(u)
        if not self.model.time_dependent:
            if self.fast:
                K.advance_ssp_uniform(u, s1, s2, nsteps, dt, self.order, self.g3, self.codes, self.bvals,
                                      *self._uniform_args(), self.src, self.flags, self.bvals, self.model.limiter)
            else:
                K.advance_ssp(u, s1, s2, nsteps, dt, self.order, self.g3, self.codes, self.bvals,
                              *self.kernel_args)
            return
        stages = SSP_METHODS[self.method]
        for n in range(nsteps):
            tn = t + n * dt
            cur = u
            outs = (s1, s2, s1)
            for s, (a, b, c) in enumerate(stages):
                self.update(tn + c * dt)
                fill_ghosts(cur, self.g3, self.codes, self.bvals)
                self.stage(u, cur, outs[s], a, b, dt)
                cur = outs[s]
            K.copy_interior(cur, u, self.g3)


def _is_constant(a) -> bool:
    """A broadcast scalar (all strides zero)."""
    return a.size == 1 or all(s == 0 for s in a.strides)


class ThetaStepper:
    """Theta method for pure diffusion (+ boundary and source terms), factorised once."""

    def __init__(self, model, theta, dt):
        self.model = model
        self.dt = dt
        L, self.bvecs = diffusion_operator(model.grid, model.boundaries, model.face_diffusivity)
        self.solver = ThetaSolver(L, dt, theta)

    def affine(self, t, with_source=True):
        m = self.model
        r = None
        for (d, side), vec in self.bvecs.items():
            val = m.boundaries.sides[d][side].value_at(t)
            r = val * vec if r is None else r + val * vec
        if with_source:
            S = m.source_at(t) if m._source_fn is not None else m.source
            if S is not None and np.any(S != 0):
                S = np.ravel(np.broadcast_to(S, m.grid.shape))
                r = S.copy() if r is None else r + S
        return r

    def advance(self, u, t, nsteps, dt=None):
        m = self.model
        inner = m.interior(u)
        for var in range(m.nvar):
            x = inner[var].ravel().copy()
            for n in range(nsteps):
                x = self.solver.step(x, t + n * self.dt, self.affine)
            inner[var] = x.reshape(m.grid.shape)


class StrangStepper:
    """Strang splitting: advection(dt/2) [SSP-RK2] - diffusion(dt) [Crank-Nicolson] - advection(dt/2)."""

    def __init__(self, model, dt, advection_method="ssprk2"):
        self.model = model
        self.dt = dt
        self.adv = ExplicitStepper(model, advection_method, 0.5 * dt, split_advection=True)
        self.diff = ThetaStepper(model, 0.5, dt)

    def advance(self, u, t, nsteps, dt=None):
        dt = self.dt
        for n in range(nsteps):
            tn = t + n * dt
            self.adv.advance(u, tn, 1)
            self.diff.advance(u, tn, 1)
            self.adv.advance(u, tn + 0.5 * dt, 1)
