"""Time-dependent space-fractional diffusion ``du/dt = -kappa (-Delta)^{alpha/2} u + f(x, t)`` on ``(0, 1)``
(``u = 0`` outside) by B-spline collocation in space, as a pdekit model (run loop, results, checkpoints).

With ``u_h(x, t) = sum_j c_j(t) B_j(x)`` collocated at the Greville points, ``M c' = -kappa A c + f``
(``M_ij = B_j(xi_i)``, ``A`` the Riesz collocation matrix). Time integrators (``method=``):

* ``crank-nicolson`` (default; second order, A-stable),
* ``tr-bdf2`` (second order, L-stable: damps the stiff modes of rough initial data; gamma = 2 - sqrt 2),
* ``backward-euler`` (first order, L-stable).

Every implicit stage solves ``(M + w A) c = r``: by one dense LU (factorised once) up to
:data:`pdekit.riesz.collocation.DENSE_LIMIT` unknowns, otherwise by GMRES with FFT products and the tau
preconditioner of ``M + w A`` (symbol ``g_p + w h^{-alpha} f_p^alpha``), warm-started from the last step.

Results have dimension ``x`` (the Greville points) and two variables: ``u`` (values at the points) and
``coefficient`` (the B-spline coefficients); the knot vector is stored as ``knots``, so
:func:`evaluate_result` re-evaluates a result anywhere in ``[0, 1]``.
"""
from __future__ import annotations

import collections
import math

import numpy as np
import scipy.linalg as sl
from scipy.interpolate import BSpline

from ..errors import InstabilityError, ParameterError
from ..model import GridModel, describe_coefficient
from ..timestepping import check_cfl
from .bspline import BSplineSpace
from .collocation import DENSE_LIMIT, RieszCollocation
from .structured import gmres

GAMMA = 2.0 - math.sqrt(2.0)


class SplineLayout:
    """The state layout of a spline model, with the attributes the run loop and writer use from a
    :class:`pdekit.Grid`: one dimension ``x`` (the collocation points), no ghost layers."""

    def __init__(self, points):
        self.points = np.asarray(points, dtype=float)
        self.shape = (self.points.size,)
        self.dims = ("x",)
        self.ghost3 = (0, 0, 0)
        self.padded_shape3 = (self.points.size, 1, 1)
        self.ndim = 1

    @property
    def size(self):
        return int(self.points.size)

    def interior3(self):
        return (slice(None), slice(None), slice(None))

    @property
    def centres(self):
        return (self.points,)

    @property
    def coords(self):
        return {"x": self.points}

    def meshgrid(self):
        return (self.points,)

    def describe(self):
        return {"layout": "collocation points", "size": self.size}


class FractionalDiffusion(GridModel):
    """``du/dt = -kappa (-Delta)^{alpha/2} u + source(x, t)``, ``u = 0`` outside ``(0, 1)``.

    Parameters
    ----------
    space : BSplineSpace or int
        The spline space, or the number of uniform intervals (then ``degree`` applies).
    alpha : float in (1, 2)
    kappa : float > 0
        Diffusion coefficient.
    source : None, number, or callable ``f(x)`` / ``f(x, t)``
    degree : int (default 3), used when ``space`` is an int.
    solver : ``"auto"`` | ``"dense"`` | ``"gmres"``
    rtol : GMRES relative residual of each stage solve.
    variable : name of the solution in results (default ``"u"``).
    """

    name = "riesz-fractional"
    methods = ("crank-nicolson", "tr-bdf2", "backward-euler")
    implicit_methods = methods
    default_method = "crank-nicolson"
    default_cfl = 1.0

    def __init__(self, space, alpha, kappa=1.0, source=None, degree=3, solver="auto", rtol=1e-10, variable="u"):
        if not isinstance(space, BSplineSpace):
            space = BSplineSpace(degree, space)
        self.collocation = RieszCollocation(space, alpha)
        self.space = space
        self.alpha = self.collocation.alpha
        try:
            self.kappa = float(kappa)
        except (TypeError, ValueError):
            raise ParameterError(f"kappa must be a positive number, got {kappa!r}") from None
        if not (math.isfinite(self.kappa) and self.kappa > 0):
            raise ParameterError(f"kappa must be a positive finite number, got {kappa!r}")
        if solver not in ("auto", "dense", "gmres"):
            raise ParameterError(f"unknown solver {solver!r}; accepted: auto, dense, gmres")
        if solver == "auto":
            solver = "dense" if (self.collocation.size <= DENSE_LIMIT or not self.collocation.uniform) else "gmres"
        if solver == "gmres" and not self.collocation.uniform:
            raise ParameterError("solver='gmres' needs uniform knots (the Toeplitz structure)")
        self.solver = solver
        if not (isinstance(rtol, (int, float)) and 0 < rtol < 1):
            raise ParameterError(f"rtol must be a number in (0, 1), got {rtol!r}")
        self.rtol = float(rtol)
        if not isinstance(variable, str) or not variable.isidentifier() or variable in ("t", "x", "coefficient"):
            raise ParameterError(f"variable must be an identifier other than t, x and coefficient, got {variable!r}")
        self.variables = (variable, "coefficient")
        self.source = self._check_source(source)
        self._source_spec = source
        self.grid = SplineLayout(self.collocation.points)
        self.boundaries = None
        self.iterations = collections.deque(maxlen=100_000)  # GMRES iterations of the latest stage solves

    def _check_source(self, source):
        if source is None:
            return None
        x = self.collocation.points
        if callable(source):
            try:
                val = np.asarray(source(x, 0.0), dtype=float)
                timed = True
            except TypeError:
                val = np.asarray(source(x), dtype=float)
                timed = False
            if val.shape not in ((), x.shape):
                raise ParameterError(f"the source returned shape {val.shape}; expected {x.shape} (it is called "
                                     "with the collocation points, and t)")
            if not np.all(np.isfinite(val)):
                raise ParameterError("the source is not finite at the collocation points")
            if timed:
                return lambda t: np.broadcast_to(np.asarray(source(x, t), dtype=float), x.shape)
            fixed = np.broadcast_to(val, x.shape).copy()
            return lambda t: fixed
        try:
            v = float(source)
        except (TypeError, ValueError):
            raise ParameterError(f"source must be None, a number or a callable, got {type(source).__name__}") from None
        if not math.isfinite(v):
            raise ParameterError("the source must be finite")
        fixed = np.full(x.shape, v)
        return lambda t: fixed

    # ---- state --------------------------------------------------------------------------------------
    def state_from(self, initial):
        """Initial data: a callable ``u0(x)``, values at the collocation points, or
        ``{"coefficient": c}``. Values are turned into coefficients by collocation (``M c = u0(xi)``)."""
        N = self.collocation.size
        if isinstance(initial, dict):
            if set(initial) != {"coefficient"}:
                raise ParameterError("initial data as a dict must be {'coefficient': array}")
            c = np.asarray(initial["coefficient"], dtype=float)
            if c.shape != (N,):
                raise ParameterError(f"coefficients must have shape ({N},), got {c.shape}")
        else:
            if callable(initial):
                u0 = np.asarray(initial(self.collocation.points), dtype=float)
            else:
                try:
                    u0 = np.asarray(initial, dtype=float)
                except (TypeError, ValueError):
                    raise ParameterError(f"initial data must be numeric, got {type(initial).__name__}") from None
            try:
                u0 = np.broadcast_to(u0, (N,))
            except ValueError:
                raise ParameterError(f"initial data has shape {u0.shape}; expected ({N},) values at the collocation "
                                     "points (or a callable of x)") from None
            if not np.all(np.isfinite(u0)):
                raise ParameterError("initial data is not finite at the collocation points")
            c = self._mass_lu().solve(u0)
        if not np.all(np.isfinite(c)):
            raise ParameterError("initial coefficients are not finite")
        state = self.allocate()
        inner = self.interior(state)
        inner[1] = c
        inner[0] = self._mass_values(c)
        return state

    def _mass_values(self, c):
        """Values of the spline at the collocation points, ``M c``."""
        R = self.collocation
        if R.uniform:
            return R.mass().matvec(c)
        return R.space.evaluate(R.points, sparse=True)[:, 1:-1] @ c

    def _mass_lu(self):
        if not hasattr(self, "_mlu"):
            import scipy.sparse.linalg as spla

            D = BSpline.design_matrix(self.collocation.points, self.space.knots, self.space.degree).tocsc()
            self._mlu = spla.splu(D[:, 1:-1].tocsc())
        return self._mlu

    # ---- stepping -------------------------------------------------------------------------------------
    def stable_dt(self, cfl, method=None, t=0.0):
        """Every method is implicit and unconditionally stable; ``cfl`` is read as the fractional diffusion
        number ``kappa dt / h^alpha``."""
        self.check_method(method)
        cfl = check_cfl(cfl)
        return cfl * self.space.h ** self.alpha / self.kappa

    def stepper(self, method=None, dt=None):
        method = self.check_method(method)
        if dt is None or not (np.isfinite(dt) and dt > 0):
            raise ParameterError(f"dt must be a positive finite number, got {dt!r}")
        return _Stepper(self, method, float(dt))

    def rate(self, c, t=0.0):
        """``M^{-1}``-free residual form: returns ``-kappa A c + f(t)`` (collocated right-hand side)."""
        r = -self.kappa * self.collocation.operator().matvec(c) if self.collocation.uniform else \
            -self.kappa * self.collocation.dense_matrix() @ c
        if self.source is not None:
            r = r + self.source(t)
        return r

    # ---- results ----------------------------------------------------------------------------------------
    def static_data(self) -> dict:
        return {"knots": (("knot",), np.asarray(self.space.knots, dtype=float))}

    def parameters(self) -> dict:
        return {"layout": self.grid.describe(), "degree": self.space.degree, "n_intervals": self.space.n_intervals,
                "alpha": self.alpha, "kappa": self.kappa, "source": describe_coefficient(self._source_spec),
                "solver": self.solver, "rtol": self.rtol, "variable": self.variables[0]}

    def evaluate(self, coefficients, x):
        """``u_h(x)`` from retained-basis coefficients."""
        return self.collocation.evaluate(coefficients, x)


class _System:
    """``(M + w A) c = r`` solved by dense LU (once) or GMRES + tau preconditioner."""

    def __init__(self, model, w):
        R = model.collocation
        self.model = model
        if model.solver == "dense":
            A = R.operator().dense() if R.uniform else R.dense_matrix()
            M = R.mass().dense() if R.uniform else R.space.evaluate(R.points, sparse=True)[:, 1:-1].toarray()
            self.lu = sl.lu_factor(M + w * A)
        else:
            self.lu = None
            self.op = R.mass().combine(1.0, R.operator(), w)
            self.P = R.tau_preconditioner(mass_weight=1.0, stiffness_weight=w)

    def solve(self, r, guess):
        if self.lu is not None:
            return sl.lu_solve(self.lu, r)
        res = gmres(self.op.matvec, r, precond=self.P.solve, x0=guess, rtol=self.model.rtol, maxiter=200,
                    accept_stagnation=True)
        self.model.iterations.append(res.iterations)
        return res.x


class _Stepper:
    def __init__(self, model, method, dt):
        self.model = model
        self.method = method
        self.dt = dt
        k = model.kappa
        R = model.collocation
        self.M = R.mass() if R.uniform else R.space.evaluate(R.points, sparse=True)[:, 1:-1]
        self.A = R.operator() if R.uniform else None
        if method == "crank-nicolson":
            self.sys = _System(model, 0.5 * dt * k)
        elif method == "backward-euler":
            self.sys = _System(model, dt * k)
        else:
            self.sys = _System(model, 0.5 * GAMMA * dt * k)  # trapezoidal stage
            self.w2 = (1 - GAMMA) / (2 - GAMMA) * dt * k
            self.sys2 = _System(model, self.w2)

    def _M(self, c):
        R = self.model.collocation
        return self.M.matvec(c) if R.uniform else self.M @ c

    def _A(self, c):
        R = self.model.collocation
        return self.A.matvec(c) if self.A is not None else R.dense_matrix() @ c

    def _f(self, t):
        s = self.model.source
        if s is None:
            return 0.0
        f = s(t)
        if not np.all(np.isfinite(f)):
            i = int(np.argmax(~np.isfinite(f)))
            raise InstabilityError(f"the source is not finite at t = {t:.6g}: {f[i]} at x = "
                                   f"{self.model.collocation.points[i]:.6g}", time=float(t), cell=(i,),
                                   variable=self.model.variables[0])
        return f

    def advance(self, state, t, nsteps):
        m = self.model
        inner = m.interior(state)
        c = inner[1].copy()
        dt, k = self.dt, m.kappa
        for i in range(nsteps):
            t0 = t + i * dt
            if self.method == "crank-nicolson":
                r = self._M(c) - 0.5 * dt * k * self._A(c) + 0.5 * dt * (self._f(t0) + self._f(t0 + dt))
                c = self.sys.solve(r, c)
            elif self.method == "backward-euler":
                c = self.sys.solve(self._M(c) + dt * self._f(t0 + dt), c)
            else:
                g = GAMMA
                Mc = self._M(c)
                r = Mc - 0.5 * g * dt * k * self._A(c) + 0.5 * g * dt * (self._f(t0) + self._f(t0 + g * dt))
                cg = self.sys.solve(r, c)
                r2 = (self._M(cg) - (1 - g) ** 2 * Mc) / (g * (2 - g)) + (1 - g) / (2 - g) * dt * self._f(t0 + dt)
                c = self.sys2.solve(r2, cg)
        inner[1] = c
        inner[0] = self._M(c)


def evaluate_result(ds, x):
    """Values of a ``riesz-fractional`` result (``pdekit.run`` output or ``pdekit.open_result``) at the
    points ``x`` of ``[0, 1]`` for every stored time: array of shape ``(t, len(x))`` (``(len(x),)`` for a
    dataset with one time selected, e.g. ``ds.isel(t=-1)``)."""
    try:
        knots = np.asarray(ds["knots"].values, dtype=float)
        coef = np.asarray(ds["coefficient"].values, dtype=float)
    except KeyError as exc:
        raise ParameterError(f"not a riesz-fractional result: missing {exc}") from None
    single = coef.ndim == 1  # one time selected, e.g. ds.isel(t=-1)
    coef = np.atleast_2d(coef)
    p = knots.size - coef.shape[-1] - 3
    x = np.asarray(x, dtype=float)
    if np.any(x < knots[0]) or np.any(x > knots[-1]):
        raise ParameterError(f"points must lie in [{knots[0]}, {knots[-1]}]")
    full = np.zeros((coef.shape[0], coef.shape[1] + 2))
    full[:, 1:-1] = coef
    vals = BSpline(knots, full.T, p)(x).T
    return vals[0] if single else vals
