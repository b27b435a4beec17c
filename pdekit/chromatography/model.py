"""Column models: the gas-chromatograph model of Cabrera-Codony et al. (2024) and the liquid-chromatography
equilibrium-dispersive and lumped rate (without pores) models, on pdekit's 1D grid.

For every component ``i`` (mobile phase ``c_i``, stationary phase ``q_i``):

    c_t + (u(x) c)_x = (D(x) c_x)_x - F q_t
    kinetic:   q_t = k_a c - k_d q                                        (linear; GC: F = alpha = 2 delta/R)
               q_t = k_a c q_max (1 - sum_k q_k/q_max,k) - k_d q          (competitive Langmuir, CADET's form)
    rapid equilibrium:  q = K c  or  q = q_max b c / (1 + sum_k b_k c_k)   (equilibrium-dispersive model)
    inlet (Danckwerts):  u c - D c_x = u c_in(t) at x = 0;   outlet: c_x = 0 at x = L;   c = q = 0 at t = 0

``F = (1 - eps_t)/eps_t`` for a liquid column of total porosity ``eps_t``. Spatial discretisation:
conservative finite volumes. Linear binding (default ``method="esdirk3"``): the linear fifth-order upwind
flux and an implicit L-stable ESDIRK3 for the whole system (:mod:`pdekit.chromatography.linear`), no
splitting and no CFL limit; a step whose result would have a negative value (the linear scheme is not
monotone at sharp fronts such as the rectangular injection) is redone by a positivity-preserving flux
correction against the backward-Euler upwind step, counted by :meth:`Column.clip_report`.
Langmuir binding (``"ssp-rk3"``): WENO-Z
reconstruction (order 5 by default, 3 on request) with a positivity cap
(:mod:`pdekit.chromatography.kernels`) and SSP-RK3; kinetic binding by Strang splitting around it with the
local kinetics solved by TR-BDF2 substeps (``dt r <= 0.15``); rapid equilibrium by SSP-RK3 on
the totals ``n = c + F q*(c)`` with ``c`` recovered from ``n`` in every cell. Returned concentrations are
non-negative and ``sum_j (c_j + F q_j) dx`` changes exactly by the inflow minus the outflow.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..errors import ParameterError
from ..grid import Grid
from ..model import GridModel, describe_coefficient
from ..timestepping import check_cfl
from . import kernels as K


#: largest ``dt r`` of the split kinetic Langmuir path (``r = F k_a q_max + k_d``): measured relative L1
#: splitting error ~7e-4 at 0.15 against the exact linear-kinetic limit
KINETIC_SPLIT = 0.15
#: warn when that limit is this many times below the transport step (the run gets that much longer)
STIFF_KINETICS_WARNING = 50.0


def _vector(value, m, name, positive=False, nonnegative=True):
    a = np.atleast_1d(np.asarray(value, dtype=float))
    if a.ndim != 1:
        raise ParameterError(f"{name} must be a number or one number per component")
    if a.size == 1 and m > 1:
        a = np.full(m, a[0])
    if a.size != m:
        raise ParameterError(f"{name} has {a.size} values but there are {m} components")
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"{name} must be finite, got {a}")
    if positive and np.any(a <= 0):
        raise ParameterError(f"{name} must be > 0, got {a}")
    if nonnegative and np.any(a < 0):
        raise ParameterError(f"{name} must be >= 0, got {a}")
    return a


class Binding:
    """Adsorption model: ``Binding.none()``, ``Binding.linear(k_a, k_d, kinetic=True)``,
    ``Binding.linear_equilibrium(K)``, ``Binding.langmuir(k_a, k_d, q_max, kinetic=False)``. Rates and
    capacities are numbers or one value per component."""

    def __init__(self, kind, kinetic, k_a=None, k_d=None, q_max=None, K=None):
        if not isinstance(kinetic, (bool, np.bool_)):
            raise ParameterError(f"kinetic must be True or False, got {kinetic!r}")
        self.kind = kind
        self.kinetic = bool(kinetic)
        self._raw = dict(k_a=k_a, k_d=k_d, q_max=q_max, K=K)

    @classmethod
    def none(cls):
        return cls("none", False)

    @classmethod
    def linear(cls, k_a, k_d, kinetic=True):
        return cls("linear", kinetic, k_a=k_a, k_d=k_d)

    @classmethod
    def linear_equilibrium(cls, K):
        return cls("linear", False, K=K)

    @classmethod
    def langmuir(cls, k_a, k_d, q_max, kinetic=False):
        return cls("langmuir", kinetic, k_a=k_a, k_d=k_d, q_max=q_max)

    def resolve(self, m):
        """Per-component arrays ``(k_a, k_d, q_max, K)`` checked for ``m`` components."""
        r = self._raw
        ones = np.ones(m)
        if self.kind == "none":
            return np.zeros(m), ones, ones, np.zeros(m)
        if self.kind == "linear" and r["K"] is not None:
            Kv = _vector(r["K"], m, "K")
            return Kv, ones, ones, Kv
        ka = _vector(r["k_a"], m, "k_a")
        kd = _vector(r["k_d"], m, "k_d", positive=not self.kinetic)
        if self.kind == "linear":
            if np.any(kd <= 0) and not self.kinetic:
                raise ParameterError("k_d must be > 0 for equilibrium binding")
            return ka, kd, ones, ka / np.where(kd > 0, kd, 1.0)
        qm = _vector(r["q_max"], m, "q_max", positive=True)
        if not self.kinetic and np.any(kd <= 0):
            raise ParameterError("k_d must be > 0 for rapid-equilibrium Langmuir binding (b = k_a / k_d)")
        return ka, kd, qm, ka / np.where(kd > 0, kd, 1.0)

    def describe(self):
        d = {"kind": self.kind, "kinetic": self.kinetic}
        for k, v in self._raw.items():
            if v is not None:
                d[k] = np.atleast_1d(np.asarray(v, dtype=float)).tolist()
        return d


class Inlet:
    """Inlet concentration ``c_in(t)`` per component, piecewise linear in time: pulses, steps and linear
    gradients. :meth:`average` integrates it exactly over each time step, so the injected mass is exact
    whatever the step size."""

    def __init__(self, times, values, describe=None):
        self.times = np.asarray(times, dtype=float)  # breakpoints, non-decreasing (a repeated time is a jump)
        self.values = np.asarray(values, dtype=float)  # (len(times), m), joined linearly; 0 before, last after
        self._describe = describe or {}

    @classmethod
    def pulse(cls, c0, duration, start=0.0):
        """Rectangular injection of ``c0`` (number or per component) from ``start`` to ``start + duration``."""
        c0 = np.atleast_1d(np.asarray(c0, dtype=float))
        if not np.all(np.isfinite(c0)) or np.any(c0 < 0):
            raise ParameterError(f"inlet concentrations must be finite and >= 0, got {c0}")
        if not (math.isfinite(duration) and duration > 0):
            raise ParameterError(f"the injection duration must be > 0, got {duration!r}")
        if not (math.isfinite(start) and start >= 0):
            raise ParameterError(f"the injection start must be >= 0, got {start!r}")
        z = np.zeros_like(c0)
        return cls([start, start, start + duration, start + duration], [z, c0, c0, z],
                   describe={"kind": "pulse", "c0": c0.tolist(), "duration": float(duration), "start": float(start)})

    @classmethod
    def step(cls, c0, start=0.0):
        c0 = np.atleast_1d(np.asarray(c0, dtype=float))
        if not np.all(np.isfinite(c0)) or np.any(c0 < 0):
            raise ParameterError(f"inlet concentrations must be finite and >= 0, got {c0}")
        if not (math.isfinite(start) and start >= 0):
            raise ParameterError(f"the step start must be a finite time >= 0, got {start!r}")
        z = np.zeros_like(c0)
        return cls([start, start], [z, c0], describe={"kind": "step", "c0": c0.tolist(), "start": float(start)})

    @classmethod
    def from_function(cls, func, times):
        """A general inlet ``func(t)`` (scalar or per component, vectorised over ``t``) sampled at ``times``
        and joined linearly (second-order accurate in the sample spacing; include every jump time twice to
        keep a jump sharp)."""
        t = np.asarray(times, dtype=float)
        try:
            v = np.asarray(func(t), dtype=float)
        except Exception as exc:  # noqa: BLE001 - report any failure of the user's function clearly
            raise ParameterError(f"the inlet function failed on the sample times: {exc}") from None
        if v.ndim == 1:
            v = v[:, None]
        if v.shape[0] != t.size:
            raise ParameterError(f"the inlet function returned shape {v.shape} for {t.size} times")
        out = cls.piecewise_linear(t, v)
        out._describe = {"kind": "function", "samples": int(t.size), "t_first": float(t[0]), "t_last": float(t[-1])}
        return out

    @classmethod
    def piecewise_linear(cls, times, values):
        """Values ``(len(times), m)`` joined linearly; repeat a time for a jump; constant after the last."""
        t = np.asarray(times, dtype=float)
        v = np.asarray(values, dtype=float)
        if v.ndim == 1:
            v = v[:, None]
        if t.ndim != 1 or v.shape[0] != t.size or t.size < 1:
            raise ParameterError("piecewise_linear needs len(times) rows of values")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))) or np.any(np.diff(t) < 0) or np.any(v < 0):
            raise ParameterError("inlet times must be finite and non-decreasing, values finite and >= 0")
        return cls(t, v, describe={"kind": "piecewise-linear", "times": t.tolist(), "values": v.tolist()})

    def limits(self, t0, t1):
        """Right limit of ``c_in`` at ``t0`` and left limit at ``t1`` (for a step inside which the inlet is
        linear), arrays of length ``m``."""
        T, V = self.times, self.values

        def value(t, side):
            if t < T[0] or (t == T[0] and side == "left"):
                return np.zeros(V.shape[1])
            if t > T[-1] or (t == T[-1] and side == "right"):
                return V[-1].copy()
            i = np.searchsorted(T, t, side=side) - (1 if side == "right" else 0)
            if side == "left":
                i = max(i - 1, 0)
            i = min(max(i, 0), T.size - 2)
            a, b = T[i], T[i + 1]
            return V[i].copy() if b == a else V[i] + (V[i + 1] - V[i]) * (t - a) / (b - a)

        return value(t0, "right"), value(t1, "left")

    def breakpoints(self):
        return np.unique(self.times)

    def average(self, edges):
        """Mean of ``c_in`` over ``[edges[s], edges[s+1]]`` for every step ``s``: array ``(len(edges)-1, m)``."""
        e = np.asarray(edges, dtype=float)
        return np.diff(self.cumulative(e), axis=0) / np.diff(e)[:, None]

    def breakpoint_integrals(self):
        """``int_0^{T_k} c_in`` at every breakpoint ``T_k``, shape ``(len(times), m)`` (the trapezoid is exact
        for the linear pieces)."""
        T, V = self.times, self.values
        cum = np.zeros_like(V, dtype=float)
        cum[1:] = np.cumsum(0.5 * (V[1:] + V[:-1]) * np.diff(T)[:, None], axis=0)
        return cum

    def cumulative(self, t):
        """``int_0^t c_in`` (exact for the piecewise-linear form), shape ``(len(t), m)``."""
        T, V = self.times, self.values
        t = np.asarray(t, dtype=float)
        cum = self.breakpoint_integrals()
        out = np.zeros((t.size, V.shape[1]))
        after = t >= T[-1]
        out[after] = cum[-1] + V[-1] * (t[after] - T[-1])[:, None]
        inside = (t > T[0]) & ~after
        if inside.any():
            tk = t[inside]
            i = np.clip(np.searchsorted(T, tk, side="right") - 1, 0, T.size - 2)
            t0, t1 = T[i], T[i + 1]  # t0 <= tk < t1, so t1 > t0
            v1 = V[i] + (V[i + 1] - V[i]) * ((tk - t0) / (t1 - t0))[:, None]
            out[inside] = cum[i] + 0.5 * (V[i] + v1) * (tk - t0)[:, None]
        return out

    def describe(self):
        return self._describe


class Column(GridModel):
    """A chromatographic column on ``cells`` uniform finite volumes over ``[0, length]``.

    Parameters
    ----------
    length : float, m
    cells : int
    velocity : float, callable ``u(x)`` or face array (``cells + 1``), m/s, > 0 (interstitial velocity)
    dispersion : float, callable ``D(x)`` or face array, m^2/s, >= 0 — the same for every component; or a
        list of such fields, one per component (e.g. each analyte's own molecular diffusivity)
    phase_ratio : float ``F`` (GC: ``alpha = 2 delta / R``), or give ``porosity`` ``eps_t`` (``F = (1-eps_t)/eps_t``)
    binding : :class:`Binding`
    inlet : :class:`Inlet`
    components : list of names (default ``["A", "B", ...]``)
    scheme : ``"weno5"`` (default), ``"weno3"``, ``"upwind"``
    concentration_scale : float, scales WENO's epsilon (default: the largest inlet concentration)
    """

    name = "chromatography"
    methods = ("esdirk3", "tr-bdf2", "ssp-rk3")
    implicit_methods = ("esdirk3", "tr-bdf2")
    default_cfl = 0.9

    def __init__(self, length, cells, velocity, inlet, binding=None, dispersion=0.0, phase_ratio=None,
                 porosity=None, components=None, scheme="weno5", concentration_scale=None):
        try:
            length = float(length)
        except (TypeError, ValueError):
            raise ParameterError(f"length must be a positive number, got {length!r}") from None
        if not (math.isfinite(length) and length > 0):
            raise ParameterError(f"length must be a positive finite number, got {length!r}")
        if isinstance(cells, bool) or not isinstance(cells, (int, np.integer)) or cells < 5:
            raise ParameterError(f"cells must be an integer >= 5, got {cells!r}")
        grid = Grid.uniform(int(cells), (0.0, length), names=("x",), ghost=1)
        self.grid = grid
        self.boundaries = None
        self.length = length
        self.dx = length / cells
        xf = np.linspace(0.0, length, cells + 1)
        self.faces = xf
        self.u = self._face_field(velocity, xf, "velocity", positive=True)
        self._velocity_spec, self._dispersion_spec = velocity, dispersion
        if (phase_ratio is None) == (porosity is None):
            raise ParameterError("give exactly one of phase_ratio (F, or alpha for GC) and porosity (eps_t)")
        if porosity is not None:
            if isinstance(porosity, (bool, str)) or not isinstance(porosity, (int, float, np.floating)) \
                    or not (0 < porosity <= 1):
                raise ParameterError(f"porosity must lie in (0, 1], got {porosity!r}")
            self.F = (1.0 - porosity) / porosity
        else:
            if isinstance(phase_ratio, (bool, str)) or not isinstance(phase_ratio, (int, float, np.floating)) \
                    or not (math.isfinite(phase_ratio) and phase_ratio >= 0):
                raise ParameterError(f"phase_ratio must be >= 0, got {phase_ratio!r}")
            self.F = float(phase_ratio)
        if not isinstance(inlet, Inlet):
            raise ParameterError(f"inlet must be a pdekit.chromatography.Inlet, got {type(inlet).__name__}")
        self.inlet = inlet
        m = inlet.values.shape[1]
        if components is None:
            components = [chr(ord("A") + i) for i in range(m)] if m > 1 else ["A"]
        components = [str(c) for c in components]
        if len(components) != m:
            raise ParameterError(f"{len(components)} component names for an inlet with {m} components")
        if len(set(components)) != m or not all(c.isidentifier() for c in components):
            raise ParameterError(f"component names must be distinct identifiers, got {components}")
        self.components = components
        # dispersion: one field for every component, or a list (tuple) of one field per component, or a
        # (components, cells + 1) array
        if isinstance(dispersion, (list, tuple)) or (isinstance(dispersion, np.ndarray) and dispersion.ndim == 2):
            fields = list(dispersion)
            if len(fields) != m:
                raise ParameterError(f"dispersion has {len(fields)} per-component fields but there are {m} components")
            self.D = np.array([self._face_field(d, xf, f"dispersion of {c}", positive=False)
                               for d, c in zip(fields, components)])
        else:
            self.D = np.tile(self._face_field(dispersion, xf, "dispersion", positive=False), (m, 1))
        self.binding = Binding.none() if binding is None else binding
        if not isinstance(self.binding, Binding):
            raise ParameterError(f"binding must be a pdekit.chromatography.Binding, got {type(binding).__name__}")
        self.k_a, self.k_d, self.q_max, self.K = self.binding.resolve(m)
        orders = {"weno5": 5, "weno3": 3, "upwind": 1}
        if scheme not in orders:
            raise ParameterError(f"unknown scheme {scheme!r}; accepted: {', '.join(orders)}")
        self.scheme = scheme
        self.order = orders[scheme]
        scale = concentration_scale if concentration_scale is not None else float(np.max(inlet.values, initial=0.0))
        if not (math.isfinite(scale) and scale > 0):
            scale = 1.0
        self.concentration_scale = float(scale)
        self.eps = 1e-10 * scale ** 2
        bound = self.binding.kind != "none"
        # linear models: implicit (no CFL, no splitting error); nonlinear (Langmuir): explicit WENO + SSP-RK3
        self.linear = self.binding.kind in ("none", "linear")
        self.default_method = "esdirk3" if self.linear else "ssp-rk3"
        self.variables = tuple(f"c_{c}" for c in components) + (tuple(f"q_{c}" for c in components) if bound else ())
        self.outlet_times = []
        self.outlet_values = []
        self.outflow = np.zeros(len(components))  # amount per unit area that left through the outlet
        self.clip_moved = np.zeros(len(components))  # amount moved by the implicit path's round-off fix
        self.corrected_steps = np.zeros(len(components), dtype=int)  # implicit steps redone by the FCT
        self.limited_steps = np.zeros(len(components), dtype=int)  # ... with some flux limited
        self.undershoot = np.zeros(len(components))  # most negative value before that fix, / phase scale

    @staticmethod
    def _face_field(value, xf, name, positive):
        if callable(value):
            v = np.asarray(value(xf), dtype=float)
            v = np.broadcast_to(v, xf.shape).copy()
        else:
            v = np.asarray(value, dtype=float)
            if v.ndim == 0:
                v = np.full(xf.shape, float(v))
            elif v.shape != xf.shape:
                raise ParameterError(f"{name} as an array must have one value per face ({xf.size}), got {v.shape}")
            v = v.copy()
        if not np.all(np.isfinite(v)):
            raise ParameterError(f"{name} must be finite")
        if positive and np.any(v <= 0):
            raise ParameterError(f"{name} must be > 0 everywhere (flow from the inlet at x = 0 to the outlet)")
        if not positive and np.any(v < 0):
            raise ParameterError(f"{name} must be >= 0, got a minimum of {v.min()}")
        return v

    # ---- model interface ------------------------------------------------------------------------------
    @property
    def m(self):
        return len(self.components)

    def stable_dt(self, cfl, method=None, t=0.0):
        """State-independent step: ``dt (u/dx + (D_left + D_right)/dx^2) <= cfl rho_min`` in every cell, with
        ``rho_min`` the retention factor's lower bound (``1 + F K`` for linear equilibrium binding, else 1).
        On the explicit path any ``cfl <= 1`` then keeps every stage non-negative with the positivity cap
        inactive wherever the face value is about the cell value. (:meth:`chromatogram` on a rapid-equilibrium
        column instead chooses every step from the current state, the same ``cfl`` measured against the
        local retention factor.) For the implicit methods ``cfl`` is read the same way (they are
        unconditionally stable; pass ``dt`` to step by accuracy instead)."""
        method = self.check_method(method)
        cfl = check_cfl(cfl, limit=None if method in self.implicit_methods else 1.0)
        rate = _Stepper.cell_rates(self)
        if method not in self.implicit_methods:
            rate = rate / _Stepper.retention_floor(self)[:, None]
        dt = cfl / float(rate.max())
        if self.binding.kind == "langmuir" and self.binding.kinetic:
            # Strang splitting of stiff kinetics from transport costs accuracy ~ (dt r)^2 (r the relaxation
            # rate at low loading): dt r <= KINETIC_SPLIT keeps it near 1e-3 (measured, docs)
            r = float(np.max(self.F * self.k_a * self.q_max + self.k_d))
            if r > 0 and KINETIC_SPLIT / r < dt / STIFF_KINETICS_WARNING:
                warnings.warn(f"kinetic Langmuir binding with exchange rate F k_a q_max + k_d = {r:.4g} 1/s: the "
                              f"split kinetics limit the step to {KINETIC_SPLIT / r:.3g} s, {dt * r / KINETIC_SPLIT:.0f}x "
                              "below the transport limit. Exchange this fast is close to rapid equilibrium: "
                              "Binding.langmuir(..., kinetic=False) is the physical limit and far cheaper",
                              stacklevel=2)
            if r > 0:
                dt = min(dt, KINETIC_SPLIT / r)
        return dt

    def stepper(self, method=None, dt=None):
        method = self.check_method(method)
        if dt is None or not (np.isfinite(dt) and dt > 0):
            raise ParameterError(f"dt must be a positive finite number, got {dt!r}")
        if method in self.implicit_methods:
            if not self.linear:
                raise ParameterError(f"method {method!r} needs linear binding; Langmuir columns use ssp-rk3")
            return _LinearStepper(self, float(dt), method)
        rate = float((_Stepper.cell_rates(self) / _Stepper.retention_floor(self)[:, None]).max())
        if dt * rate > 1.0 + 1e-12:
            raise ParameterError(f"dt = {dt:.6g} exceeds the stability limit {1.0 / rate:.6g} of the explicit transport "
                                 "(dt (u/dx + D/dx^2) <= rho_min, see Column.stable_dt): reduce dt or use cfl")
        return _Stepper(self, float(dt))

    def _note_undershoot(self, i, c_rel, q_rel):
        self.undershoot[i] = min(self.undershoot[i], c_rel, q_rel)

    def clip_report(self):
        """Per component, for the implicit linear path: ``corrected_steps`` (steps whose high-order result had
        a negative value and were redone by the positivity-preserving flux correction), ``limited_steps``
        (of those, the steps where some antidiffusive flux had to be limited), ``undershoot`` (the most
        negative value left after that, relative to ``concentration_scale`` and to ``K`` times it for ``q``:
        round-off of the sparse solve, ~1e-17) and ``moved_fraction`` (what the final round-off fix moved
        between cells, relative to the injected amount). All zero on the explicit path, whose positivity
        cap keeps every stage non-negative by construction."""
        injected = self.u[0] * self.inlet.cumulative(np.array([self._t_reached]))[0] if hasattr(self, "_t_reached") \
            else np.full(self.m, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {"undershoot": self.undershoot.copy(), "moved_fraction": self.clip_moved / injected,
                    "corrected_steps": self.corrected_steps.copy(), "limited_steps": self.limited_steps.copy()}

    #: ``pdekit.run(col, None, ...)`` starts from an empty column
    default_initial = 0.0

    def series_layout(self, nsub, dt):
        """``pdekit.run`` hook: the outlet chromatogram goes into the results with every snapshot, as
        ``t_outlet`` and ``c_out_<component>`` with dims ``(t, outlet_step)`` — the ``nsub`` steps that led to
        the snapshot (NaN at the first snapshot). :func:`outlet_from_result` flattens them. Called at the
        start of a run: clears the record of earlier runs."""
        self.outlet_times, self.outlet_values = [], []
        self.outflow = np.zeros(self.m)
        self._series_cursor = 0
        names = ["t_outlet"] + [f"c_out_{c}" for c in self.components]
        return {"outlet_step": np.arange(1, nsub + 1)}, {v: ("outlet_step",) for v in names}

    def series_take(self, nsub, state, t):
        """The outlet records since the previous snapshot (``pdekit.run`` hook, see :meth:`series_layout`); at
        the first snapshot (nothing recorded yet) the outlet value of the state at ``t`` in the last slot."""
        out = {"t_outlet": np.full(nsub, np.nan)}
        out.update({f"c_out_{c}": np.full(nsub, np.nan) for c in self.components})
        if not self.outlet_times:
            out["t_outlet"][-1] = t
            inner = self.interior(state)
            for i, c in enumerate(self.components):
                ci = np.ascontiguousarray(inner[i])
                out[f"c_out_{c}"][-1] = max(K.face_value(ci, ci.size, self.order, self.eps), 0.0)
        if not self.outlet_times:
            return out
        tt = np.concatenate(self.outlet_times)
        vv = np.concatenate(self.outlet_values)
        self.outlet_times, self.outlet_values = [tt], [vv]  # keep the whole record (cases read it)
        new_t, new_v = tt[self._series_cursor:], vv[self._series_cursor:]
        self._series_cursor = tt.size
        k = min(nsub, new_t.size)
        out["t_outlet"][nsub - k:] = new_t[new_t.size - k:]
        for i, c in enumerate(self.components):
            out[f"c_out_{c}"][nsub - k:] = new_v[new_v.shape[0] - k:, i]
        return out

    def check_run(self, t_start, t_end):
        """Refuse a run that ends before the injection does (part of the feed would never enter); warn when
        it starts after feed has begun (that feed is not injected: right when ``initial`` is the column's
        state at ``t_start``, a mistake when it is the empty column)."""
        before = self.inlet.cumulative(np.array([float(t_start)]))[0]
        if np.any(before > 0):
            total = self.inlet.cumulative(np.array([float(max(t_end, t_start))]))[0]
            warnings.warn(f"the run starts at t_start = {t_start:g} s, after the inlet has fed "
                          f"{', '.join(f'{b:.4g}' for b in before)} (of {', '.join(f'{v:.4g}' for v in total)}) "
                          "concentration-seconds: that feed is not injected. Start at the injection, or pass the "
                          "column state at t_start as the initial data", stacklevel=3)
        last = float(self.inlet.breakpoints().max(initial=0.0))
        if np.any(self.inlet.values[-1] != 0):  # a step (or a ramp that stays on): nothing ends
            return
        if t_end < last:
            raise ParameterError(f"the injection lasts until t = {last:g} s but the run ends at t_end = {t_end:g} s: "
                                 "extend t_end (or shorten the injection)")

    def state_from(self, initial):
        if initial is None or (np.isscalar(initial) and initial == 0):
            return self.allocate()
        return super().state_from(initial)

    def parameters(self) -> dict:
        return {"grid": self.grid.describe(), "length": self.length, "velocity": describe_coefficient(self._velocity_spec),
                "dispersion": describe_coefficient(self._dispersion_spec), "phase_ratio": self.F,
                "binding": self.binding.describe(), "inlet": self.inlet.describe(), "components": self.components,
                "scheme": self.scheme, "concentration_scale": self.concentration_scale}

    def total_mass(self, state):
        """``sum_j (c_j + F q_j) dx`` per component."""
        inner = self.interior(state)
        c = inner[:self.m]
        tot = c.sum(axis=1)
        if self.binding.kind != "none":
            tot = tot + self.F * inner[self.m:].sum(axis=1)
        return tot * self.dx

    # ---- outlet chromatogram ------------------------------------------------------------------------
    def default_dt(self, t_end):
        """Accuracy-based step of the implicit methods: a sixteenth of the shortest inlet feature and at most
        ``t_end / 4000`` (measured on the research note's cases and the BTEX column: the time error is then
        below the spatial error at 400–1600 cells; benzene at 800 cells: 3.6e-4 with t_end/2000, 2.6e-5
        with dt = 0.1)."""
        feats = np.diff(self.inlet.breakpoints())
        feats = feats[feats > 0]
        dt = t_end / 4000.0
        if feats.size:
            dt = min(dt, feats.min() / 16.0)
        return dt

    def chromatogram(self, t_end, times=None, cfl=0.9, dt=None, method=None):
        """Run from an empty column to ``t_end`` and return the outlet concentrations at ``times``
        (default: 2001 points) as ``(times, c_out)`` with ``c_out`` of shape ``(len(times), m)``. The outlet
        value is recorded after every step and interpolated (cubic) to ``times``. Linear models step
        implicitly with ``dt`` (default :meth:`default_dt`), Langmuir models explicitly at ``cfl`` (<= 1).
        Explicit with rapid-equilibrium binding (or none) and no ``dt``: every step is chosen from the current
        state, ``cfl`` measured against the speed of the totals ``u / rho`` (``rho = 1 + F q/c``, the local
        retention factor) and, for Langmuir, 0.75 (cfl / 0.9) against the fastest characteristic
        (:meth:`_Stepper.run`); otherwise (kinetic binding, or ``dt`` given) fixed steps (:meth:`stable_dt`)."""
        method = self.check_method(method)
        from scipy.interpolate import CubicSpline

        if not (math.isfinite(t_end) and t_end > 0):
            raise ParameterError(f"t_end must be > 0, got {t_end!r}")
        self.check_run(0.0, t_end)
        if times is None:
            times = np.linspace(0.0, t_end, 2001)
        times = np.asarray(times, dtype=float)
        if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0) or times[0] < 0 \
                or times[-1] > t_end * (1 + 1e-12):
            raise ParameterError("times must be increasing, finite and within [0, t_end]")
        if dt is None:
            dt_max = self.default_dt(t_end) if method in self.implicit_methods else self.stable_dt(cfl, method)
        else:
            try:
                dt_max = float(dt)
            except (TypeError, ValueError):
                raise ParameterError(f"dt must be a positive number, got {dt!r}") from None
            if not (math.isfinite(dt_max) and dt_max > 0):
                raise ParameterError(f"dt must be a positive finite number, got {dt!r}")
        state = self.allocate()
        self.outlet_times, self.outlet_values = [], []
        self.outflow = np.zeros(self.m)
        self.clip_moved = np.zeros(self.m)
        self.undershoot = np.zeros(self.m)
        self.corrected_steps = np.zeros(self.m, dtype=int)
        self.limited_steps = np.zeros(self.m, dtype=int)
        if dt is None and method not in self.implicit_methods and not self.binding.kinetic:
            # explicit, rapid equilibrium (or no binding): every step chosen from the current state (the
            # local retention factor), see _Stepper.run
            _Stepper(self, dt_max).run(state, 0.0, t_end, check_cfl(cfl, limit=1.0))
        else:
            nsteps = max(1, int(math.ceil(t_end / dt_max * (1 - 1e-12))))
            self.stepper(method, dt=t_end / nsteps).advance(state, 0.0, nsteps)
        tt = np.r_[0.0, np.concatenate(self.outlet_times)]
        vv = np.vstack([np.zeros((1, self.m)), np.concatenate(self.outlet_values)])
        out = CubicSpline(tt, vv, axis=0)(times)
        self.final_state = state
        return times, np.maximum(out, 0.0)


def outlet_from_result(ds):
    """The outlet chromatogram stored by ``pdekit.run`` on a :class:`Column` (an ``xarray.Dataset`` from
    ``run`` or :func:`pdekit.open_result`): ``(times, values)`` with ``values`` of shape
    ``(len(times), components)``, one entry per time step, starting with the run's start time (the outlet
    value of the initial state)."""
    if "t_outlet" not in ds:
        raise ParameterError("this result has no outlet chromatogram (t_outlet): it was not written by "
                             "pdekit.run on a chromatography Column")
    names = [v for v in ds.data_vars if v.startswith("c_out_")]
    t = np.asarray(ds["t_outlet"].values, dtype=float).ravel()
    keep = np.isfinite(t)
    vals = np.stack([np.asarray(ds[v].values, dtype=float).ravel()[keep] for v in names], axis=1)
    return t[keep], vals


class _Stepper:
    """Explicit steps: WENO + SSP Runge–Kutta transport with the positivity cap of
    :func:`~pdekit.chromatography.kernels.transport`; :meth:`advance` takes ``nsteps`` steps of the fixed
    ``dt`` (``pdekit.run``, or ``chromatogram(dt=...)``), :meth:`run` (rapid equilibrium or no binding)
    chooses every step from the current state."""

    def __init__(self, model, dt):
        self.model = model
        self.dt = dt
        # TR-BDF2 substeps of the split Langmuir kinetics: h r <= 0.5 per substep (h = dt/2)
        r = float(np.max(model.F * model.k_a * model.q_max + model.k_d)) if model.binding.kind == "langmuir" else 0.0
        self.substeps = max(1, int(math.ceil(0.5 * dt * r / 0.5)))

    @staticmethod
    def retention_floor(col):
        """Per component, a lower bound of the retention factor ``rho = n/c`` (``n = c + F q``) that holds in
        every state: ``1 + F K`` for linear equilibrium binding, 1 otherwise (Langmuir: ``rho -> 1`` as the
        loading grows; kinetic binding: only ``c`` is transported)."""
        if col.binding.kind == "linear" and not col.binding.kinetic:
            return 1.0 + col.F * col.K
        return np.ones(col.m)

    @staticmethod
    def cell_rates(col):
        """``u/dx + (D_left + D_right)/dx^2`` per component and cell, shape ``(m, N)``."""
        return np.ascontiguousarray(col.u[None, 1:] / col.dx + (col.D[:, :-1] + col.D[:, 1:]) / col.dx ** 2)

    def _totals(self, C):
        m = self.model
        if m.binding.kind == "none":
            return C.copy()
        if m.binding.kind == "linear":
            return C * (1.0 + m.F * m.K[:, None])
        s = 1.0 + (m.K[:, None] * C).sum(axis=0)
        return C + m.F * m.q_max[:, None] * m.K[:, None] * C / s

    def _store(self, inner, C):
        m = self.model
        if m.binding.kind == "linear":
            inner[m.m:] = m.K[:, None] * C
        elif m.binding.kind == "langmuir":
            s = 1.0 + (m.K[:, None] * C).sum(axis=0)
            inner[m.m:] = m.q_max[:, None] * m.K[:, None] * C / s
        inner[:m.m] = C

    def run(self, state, t0, t1, cfl, chunk=4096):
        """Rapid equilibrium (or no binding) from ``t0`` to ``t1`` by SSP-RK3 on the totals ``n = c + F q*(c)``,
        every step chosen from the state at its start (:func:`~pdekit.chromatography.kernels.retention_dt`):
        ``dt (u/dx + (D_left + D_right)/dx^2) <= cfl rho_ij`` in every cell and component, ``rho_ij =
        n_ij / c_ij`` the local retention factor (the total moves at ``u / rho``), and for Langmuir binding
        ``dt u/dx <= 0.75 (cfl / 0.9) lambda_j`` (``lambda_j`` the smallest eigenvalue of ``dn/dc``: the
        fastest characteristic's Courant number, kept where WENO5-Z + SSP-RK3 shocks show no overshoot);
        always ``dt (D_left + D_right)/dx^2 <= rho_min`` (:meth:`retention_floor`). Every stage keeps
        the totals, hence ``c`` and ``q``, non-negative whatever the state (the cap of
        :func:`~pdekit.chromatography.kernels.transport`); the inlet is averaged exactly over every step and
        the outflow counted with the stage weights, so mass is exact."""
        m = self.model
        if m.binding.kinetic:
            raise ParameterError("state-dependent steps are for rapid-equilibrium columns; use advance")
        inner = m.interior(state)
        C = np.ascontiguousarray(inner[:m.m])
        Nt = np.ascontiguousarray(self._totals(C))
        kind = {"linear": K.LINEAR, "langmuir": K.LANGMUIR, "none": K.NONE}[m.binding.kind]
        irate = np.ascontiguousarray(1.0 / self.cell_rates(m))
        dx_u = np.ascontiguousarray(m.dx / m.u[1:])
        disp = (m.D[:, :-1] + m.D[:, 1:]) / m.dx ** 2
        dmax = float((disp / self.retention_floor(m)[:, None]).max())
        dt_hard = 1.0 / dmax if dmax > 0 else np.inf
        inl = m.inlet
        T = np.ascontiguousarray(inl.times, dtype=float)
        V = np.ascontiguousarray(inl.values, dtype=float)
        cum = np.ascontiguousarray(inl.breakpoint_integrals())
        times = np.empty(chunk)
        outlet = np.empty((chunk, m.m))
        outflow = np.empty((chunk, m.m))
        t = float(t0)
        while t < t1:
            n, t = K.advance_equilibrium_adaptive(Nt, C, t, float(t1), float(cfl), irate, dx_u, dt_hard, m.dx,
                                                  m.u, m.D, T, V, cum, m.order, m.eps, kind, m.F, m.K, m.q_max,
                                                  m.K, times, outlet, outflow)
            if n == 0:  # pragma: no cover - a step always advances t
                raise RuntimeError(f"the explicit step stalled at t = {t!r}")
            m.outlet_times.append(times[:n].copy())
            m.outlet_values.append(outlet[:n].copy())
            m.outflow += outflow[:n].sum(axis=0)
        self._store(inner, C)

    def advance(self, state, t, nsteps):
        m = self.model
        inner = m.interior(state)
        C = np.ascontiguousarray(inner[:m.m])
        edges = t + self.dt * np.arange(nsteps + 1)
        cin = np.ascontiguousarray(m.inlet.average(edges))
        outlet = np.empty((nsteps, m.m))
        outflow = np.empty((nsteps, m.m))
        kind = {"linear": K.LINEAR, "langmuir": K.LANGMUIR, "none": K.NONE}[m.binding.kind]
        if m.binding.kinetic:
            Q = np.ascontiguousarray(inner[m.m:])
            K.advance_kinetic(C, Q, nsteps, self.dt, m.dx, m.u, m.D, cin, m.order, m.eps, kind, m.F,
                              m.k_a, m.k_d, m.q_max, self.substeps, outlet, outflow)
            inner[m.m:] = Q
            inner[:m.m] = C
        else:
            Nt = self._totals(C)
            K.advance_equilibrium(Nt, C, nsteps, self.dt, m.dx, m.u, m.D, cin, m.order, m.eps, kind, m.F,
                                  m.K, m.q_max, m.K, outlet, outflow)
            self._store(inner, C)
        m.outlet_times.append(edges[1:])
        m.outlet_values.append(outlet)
        m.outflow += outflow.sum(axis=0)


class _LinearStepper:
    """Implicit steps of a linear column (one :class:`~pdekit.chromatography.linear.LinearColumnSolver` per
    component); steps that contain an inlet breakpoint are cut there, so the inlet is linear inside
    every (sub)step and the injected mass is exact."""

    def __init__(self, model, dt, method):
        from .linear import LinearColumnSolver

        self.model = model
        self.dt = dt
        m = model
        kin = m.binding.kinetic and m.binding.kind == "linear"
        self.kinetic = kin
        self.solvers = [LinearColumnSolver(m.grid.shape[0], m.dx, m.u, m.D[i], m.F, m.k_a[i], m.k_d[i], kin,
                                           order=m.order, method=method) for i in range(m.m)]
        self.breaks = m.inlet.breakpoints()
        self._counted = [(0, 0)] * m.m

    def advance(self, state, t, nsteps):
        m = self.model
        inner = m.interior(state)
        N = m.grid.shape[0]
        ys = []
        for i in range(m.m):
            if self.kinetic:
                y = np.empty(2 * N)
                y[0::2] = inner[i]
                y[1::2] = inner[m.m + i]
            else:
                y = inner[i].copy()
            ys.append(y)
        outlet = np.empty((nsteps, m.m))
        outflow = np.zeros(m.m)
        edges = t + self.dt * np.arange(nsteps + 1)
        for s in range(nsteps):
            a, b = edges[s], edges[s + 1]
            cuts = self.breaks[(self.breaks > a + 1e-12 * self.dt) & (self.breaks < b - 1e-12 * self.dt)]
            pts = (a, b) if cuts.size == 0 else np.concatenate(([a], cuts, [b]))
            for lo, hi in zip(pts[:-1], pts[1:]):
                v0, v1 = m.inlet.limits(lo, hi)
                for i, S in enumerate(self.solvers):
                    ys[i] = S.step(ys[i], lo, hi - lo, v0[i], v1[i])
                    outflow[i] += S.last_outflow
            for i, S in enumerate(self.solvers):
                y = ys[i]
                if y.min() < 0.0:
                    # after the positivity-preserving correction only round-off of the sparse solve is left
                    # (~1e-17 of the scale): record it and remove it conservatively (m.clip_report()).
                    if self.kinetic:
                        c, q = np.ascontiguousarray(y[0::2]), np.ascontiguousarray(y[1::2])
                        m._note_undershoot(i, c.min() / m.concentration_scale,
                                           q.min() / (m.concentration_scale * max(m.K[i], 1e-300)))
                        moved = K.conservative_clip(c) + m.F * K.conservative_clip(q)
                        y[0::2], y[1::2] = c, q
                    else:
                        m._note_undershoot(i, y.min() / m.concentration_scale, 0.0)
                        moved = K.conservative_clip(y) * (1.0 + m.F * m.K[i])
                    m.clip_moved[i] += moved * m.dx
                outlet[s, i] = max(S.outlet(y), 0.0)
        for i, S in enumerate(self.solvers):
            m.corrected_steps[i] += S.corrected_steps - self._counted[i][0]
            m.limited_steps[i] += S.limited_steps - self._counted[i][1]
            self._counted[i] = (S.corrected_steps, S.limited_steps)
        for i in range(m.m):
            if self.kinetic:
                inner[i] = ys[i][0::2]
                inner[m.m + i] = ys[i][1::2]
            else:
                inner[i] = ys[i]
                if m.binding.kind == "linear":
                    inner[m.m + i] = m.K[i] * ys[i]
        m.outlet_times.append(edges[1:])
        m.outlet_values.append(outlet)
        m.outflow += outflow
        m._t_reached = float(edges[-1])
