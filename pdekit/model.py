"""The base of every grid-based physics model: grid, boundaries, named variables, state layout.

A state is a set of named variables on one grid held in one contiguous array of shape
``(nvar, A, B, C)``: the grid padded to 3D with ghost layers on active axes (see
:mod:`pdekit.grid`). Models compute rates and choose kernels; the run loop (:mod:`pdekit.run`)
owns the state, the time and the output.

A model implements

* ``name`` (str), ``variables`` (tuple of names), ``methods`` (supported time integrators),
* ``parameters()`` -> JSON-serialisable dict,
* ``stable_dt(cfl, method)`` -> the time step for a CFL number,
* ``stepper(method, dt)`` -> an object with ``advance(state, t, nsteps)`` (in place).
"""
from __future__ import annotations

import hashlib

import numpy as np

from .boundary import Boundaries
from .errors import ParameterError


class GridModel:
    name = "model"
    variables: tuple = ("u",)
    methods: tuple = ()
    default_method: str = ""

    def __init__(self, grid, bc):
        from .grid import Grid

        if not isinstance(grid, Grid):
            raise ParameterError(f"grid must be a pdekit.Grid, got {type(grid).__name__}")
        self.grid = grid
        self.boundaries = bc if isinstance(bc, Boundaries) else Boundaries(grid, bc)

    # ---- state layout ----------------------------------------------------------------------------
    @property
    def nvar(self) -> int:
        return len(self.variables)

    def allocate(self) -> np.ndarray:
        return np.zeros((self.nvar,) + self.grid.padded_shape3)

    def interior(self, state) -> np.ndarray:
        """View of the interior cells, shape ``(nvar, *grid.shape)``."""
        sl = self.grid.interior3()
        return state[(slice(None),) + sl].reshape((self.nvar,) + self.grid.shape)

    def state_from(self, initial) -> np.ndarray:
        """Padded state from initial data: an array of ``grid.shape`` (one variable), an array
        ``(nvar, *grid.shape)``, a dict ``{name: array}``, or a callable ``f(*coords)``."""
        g = self.grid
        if callable(initial):
            initial = np.asarray(initial(*g.meshgrid()), dtype=float)
            want = g.shape if self.nvar == 1 else (self.nvar,) + g.shape
            try:
                initial = np.broadcast_to(initial, want)
            except ValueError:
                raise ParameterError(f"the initial-data function returned shape {initial.shape}; expected {want} "
                                     "(it is called with the cell-centre coordinate arrays)") from None
        if isinstance(initial, dict):
            unknown = set(initial) - set(self.variables)
            if unknown:
                raise ParameterError(f"initial data for unknown variables {sorted(unknown)}; "
                                     f"the model's variables are {list(self.variables)}")
            missing = [v for v in self.variables if v not in initial]
            if missing:
                raise ParameterError(f"initial data missing for variables {missing}")
            initial = np.stack([np.broadcast_to(np.asarray(initial[v], float), g.shape) for v in self.variables])
        try:
            arr = np.asarray(initial, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError(f"initial data must be numeric, got {type(initial).__name__}") from None
        if arr.shape == g.shape and self.nvar == 1:
            arr = arr[None]
        if arr.shape != (self.nvar,) + g.shape:
            raise ParameterError(
                f"initial data has shape {arr.shape}; expected {g.shape} "
                f"(or {(self.nvar,) + g.shape} for variables {list(self.variables)}) to match the grid")
        bad = ~np.isfinite(arr)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ParameterError(f"initial data is not finite: {arr[idx]} in variable "
                                 f"{self.variables[idx[0]]!r} at cell {idx[1:]}")
        state = self.allocate()
        self.interior(state)[...] = arr
        return state

    # ---- description ------------------------------------------------------------------------------
    def parameters(self) -> dict:
        return {"grid": self.grid.describe(), "boundaries": self.boundaries.describe()}

    def check_method(self, method):
        if method is None:
            return self.default_method
        if method not in self.methods:
            raise ParameterError(f"unknown time integration method {method!r} for {self.name}; "
                                 f"accepted: {', '.join(self.methods)}")
        return method


def describe_coefficient(x):
    """JSON-friendly record of a coefficient: numbers as numbers; arrays and functions by a digest.

    Arrays and functions are recorded with a sha1 digest of their values / code, so that a results
    file says which field was used and a restart can refuse a different one.
    """
    if callable(x):
        code = getattr(x, "__code__", None)
        if code is None and hasattr(x, "py_func"):  # numba dispatcher
            code = x.py_func.__code__
        digest = "" if code is None else " sha1 " + hashlib.sha1(
            code.co_code + repr(code.co_consts).encode()).hexdigest()[:12]
        return f"function {getattr(x, '__name__', repr(x))}{digest}"
    if x is None or np.isscalar(x):
        return x.item() if isinstance(x, np.generic) else x
    if isinstance(x, (list, tuple)) and all(np.isscalar(c) for c in x):
        return [float(c) for c in x]
    if isinstance(x, (list, tuple)) and any(callable(c) for c in x):
        return [describe_coefficient(c) for c in x]
    h = hashlib.sha1()
    for part in (x if isinstance(x, (list, tuple)) else [x]):
        h.update(np.ascontiguousarray(np.asarray(part, dtype=float)).tobytes())
    return f"field sha1 {h.hexdigest()[:12]}"
