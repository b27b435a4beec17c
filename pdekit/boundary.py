"""Boundary conditions as data, and their ghost-cell fill in compiled code.

A boundary condition belongs to one side (``lo`` or ``hi``) of one axis:

==============  ==================================================================================
``periodic``    the axis wraps around (must be set on both sides)
``dirichlet``   prescribed value ``u = g`` on the boundary face; ``g`` constant or ``g(t)``
``neumann``     prescribed total normal flux *into* the domain, ``q`` (constant or ``q(t)``):
                the face flux is ``q`` whatever the interior state
``outflow``     zero-gradient: ghost cells copy the nearest interior cell; advective flux leaves
                freely, diffusive flux is zero
``zero-flux``   no flux through the face (reflecting / closed wall): ``neumann`` with ``q = 0``
==============  ==================================================================================

Ghost cells are filled as follows (layer ``k = 0, 1, ...`` counted outwards from the face, mirror
cell ``m_k`` the ``k``-th interior cell counted inwards): periodic copies the opposite side;
dirichlet uses the odd reflection ``2 g - u(m_k)`` so the face value is ``g`` to second order;
outflow copies the boundary cell; neumann and zero-flux use the even reflection ``u(m_k)`` (the
ghosts then only feed limiter slopes: the face flux itself is prescribed).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

import numba
import numpy as np

from .errors import BoundaryError

PERIODIC, DIRICHLET, NEUMANN, OUTFLOW, ZERO_FLUX = 0, 1, 2, 3, 4
KIND_CODES = {"periodic": PERIODIC, "dirichlet": DIRICHLET, "neumann": NEUMANN,
              "outflow": OUTFLOW, "zero-flux": ZERO_FLUX}
_ALIASES = {"zero_flux": "zero-flux", "zeroflux": "zero-flux", "reflecting": "zero-flux",
            "no-flux": "zero-flux", "zero-gradient": "outflow", "zero_gradient": "outflow"}
_TAKES_VALUE = ("dirichlet", "neumann")

Value = Union[float, Callable[[float], float]]


@dataclass(frozen=True)
class BoundaryCondition:
    """One side's condition: ``kind`` and, for dirichlet/neumann, a value or a function of ``t``."""

    kind: str
    value: Value = 0.0

    def __post_init__(self):
        kind = _ALIASES.get(self.kind, self.kind) if isinstance(self.kind, str) else self.kind
        if kind not in KIND_CODES:
            raise BoundaryError(
                f"unknown boundary condition {self.kind!r}; accepted: {', '.join(KIND_CODES)}")
        object.__setattr__(self, "kind", kind)
        if kind not in _TAKES_VALUE and not (np.isscalar(self.value) and self.value == 0.0):
            raise BoundaryError(f"boundary condition {kind!r} takes no value, got {self.value!r}")
        if not callable(self.value):
            try:
                v = float(self.value)
            except (TypeError, ValueError):
                raise BoundaryError(f"{kind} boundary value must be a number or a function of t, "
                                    f"got {self.value!r}") from None
            if not np.isfinite(v):
                raise BoundaryError(f"{kind} boundary value must be finite, got {v}")
            object.__setattr__(self, "value", v)

    @property
    def code(self) -> int:
        return KIND_CODES[self.kind]

    @property
    def time_dependent(self) -> bool:
        return callable(self.value)

    def value_at(self, t: float) -> float:
        if callable(self.value):
            v = float(self.value(t))
            if not np.isfinite(v):
                raise BoundaryError(f"{self.kind} boundary value g(t) is not finite at t={t}: {v}")
            return v
        return self.value

    def describe(self):
        if self.kind in _TAKES_VALUE:
            return {"kind": self.kind, "value": self.value if not callable(self.value)
                    else f"function {getattr(self.value, '__name__', repr(self.value))}"}
        return {"kind": self.kind}


def periodic() -> BoundaryCondition:
    return BoundaryCondition("periodic")


def dirichlet(value: Value) -> BoundaryCondition:
    """``u = value`` on the boundary; ``value`` a number or a function of ``t``."""
    return BoundaryCondition("dirichlet", value)


def neumann(flux: Value) -> BoundaryCondition:
    """Prescribed total normal flux into the domain (number or function of ``t``)."""
    return BoundaryCondition("neumann", flux)


def outflow() -> BoundaryCondition:
    return BoundaryCondition("outflow")


def zero_flux() -> BoundaryCondition:
    return BoundaryCondition("zero-flux")


def _as_condition(spec, where) -> BoundaryCondition:
    if isinstance(spec, BoundaryCondition):
        return spec
    if isinstance(spec, str):
        kind = _ALIASES.get(spec, spec)
        if kind in _TAKES_VALUE:
            raise BoundaryError(f"{where}: {kind!r} needs a value, e.g. ({kind!r}, 0.0) or pdekit.{kind}(0.0)")
        return BoundaryCondition(kind)
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        return BoundaryCondition(spec[0], spec[1])
    raise BoundaryError(f"{where}: cannot read boundary condition {spec!r}; use a name such as "
                        "'periodic', a pair like ('dirichlet', 1.0), or pdekit.dirichlet(1.0)")


class Boundaries:
    """The boundary conditions of a grid: one :class:`BoundaryCondition` per axis and side.

    ``spec`` is either one condition for every side (``"periodic"``) or a mapping from axis name
    to a condition for both sides or a pair ``(lo, hi)``::

        Boundaries(grid, {"x": "periodic", "y": (pdekit.dirichlet(1.0), "outflow")})

    Every axis must be given; unknown axis names are refused.
    """

    def __init__(self, grid, spec):
        self.grid = grid
        if not isinstance(spec, dict):
            spec = {name: spec for name in grid.dims}
        unknown = set(spec) - set(grid.dims)
        if unknown:
            raise BoundaryError(f"boundary conditions given for unknown axes {sorted(unknown)}; "
                                f"the grid's axes are {list(grid.dims)}")
        missing = [d for d in grid.dims if d not in spec]
        if missing:
            raise BoundaryError(f"no boundary condition for axes {missing}; give one per axis "
                                "(e.g. bc={'x': 'periodic'})")
        self.sides = []
        for name in grid.dims:
            s = spec[name]
            # a pair (lo, hi) unless it reads as (kind, value) with a number or function as value
            is_pair = isinstance(s, (list, tuple)) and len(s) == 2 and not (
                isinstance(s[0], str) and (callable(s[1]) or np.isscalar(s[1]) and not isinstance(s[1], str)))
            if is_pair:
                lo, hi = (_as_condition(c, f"axis {name!r} side {side}") for c, side in zip(s, ("lo", "hi")))
            else:
                lo = hi = _as_condition(s, f"axis {name!r}")
            if (lo.kind == "periodic") != (hi.kind == "periodic"):
                raise BoundaryError(f"axis {name!r}: periodic must be set on both sides, got {lo.kind}/{hi.kind}")
            self.sides.append((lo, hi))
        if grid.geometry == "spherical" and grid.axes[0].lo == 0.0 and self.sides[0][0].kind == "periodic":
            raise BoundaryError("a spherical-radial axis cannot be periodic")
        self._codes = np.zeros((3, 2), dtype=np.int64)
        self._codes[:] = ZERO_FLUX
        off = 3 - grid.ndim
        for d, (lo, hi) in enumerate(self.sides):
            self._codes[off + d, 0] = lo.code
            self._codes[off + d, 1] = hi.code

    def __getitem__(self, name):
        return self.sides[self.grid.dims.index(name)]

    @property
    def codes(self) -> np.ndarray:
        """Kind codes per internal 3D axis and side, shape (3, 2)."""
        return self._codes

    @property
    def time_dependent(self) -> bool:
        return any(c.time_dependent for pair in self.sides for c in pair)

    def values(self, t: float, out=None) -> np.ndarray:
        """Boundary values at time ``t`` per internal axis and side, shape (3, 2)."""
        if out is None:
            out = np.zeros((3, 2))
        off = 3 - self.grid.ndim
        for d, (lo, hi) in enumerate(self.sides):
            out[off + d, 0] = lo.value_at(t)
            out[off + d, 1] = hi.value_at(t)
        return out

    def is_periodic(self, name) -> bool:
        return self[name][0].kind == "periodic"

    def describe(self) -> dict:
        return {name: [lo.describe(), hi.describe()] for name, (lo, hi) in zip(self.grid.dims, self.sides)}


@numba.njit(cache=True)
def _axis_view(a, d):
    """3D view of ``a`` with internal axis ``d`` first."""
    if d == 0:
        return a.transpose((0, 1, 2))
    elif d == 1:
        return a.transpose((1, 0, 2))
    return a.transpose((2, 0, 1))


@numba.njit(cache=True)
def fill_ghosts(u, ghost3, codes, values):
    """Fill the ghost layers of a padded state ``u`` (nvar, A, B, C) in place.

    ``ghost3``: ghost layers per internal axis; ``codes``/``values``: (3, 2) kind codes and values.
    Axes are filled one after another; corner ghosts are not needed by dimension-split fluxes.
    """
    for var in range(u.shape[0]):
        for d in range(3):
            g = ghost3[d]
            if g == 0:
                continue
            v = _axis_view(u[var], d)
            n = v.shape[0] - 2 * g
            for side in range(2):
                code = codes[d, side]
                val = values[d, side]
                for k in range(g):
                    if side == 0:
                        dst = g - 1 - k
                        mirror = g + k if k < n else g + n - 1
                        edge = g
                        wrap = g + n - 1 - k
                    else:
                        dst = g + n + k
                        mirror = g + n - 1 - k if k < n else g
                        edge = g + n - 1
                        wrap = g + k
                    for i in range(v.shape[1]):
                        for j in range(v.shape[2]):
                            if code == PERIODIC:
                                v[dst, i, j] = v[wrap, i, j]
                            elif code == DIRICHLET:
                                v[dst, i, j] = 2.0 * val - v[mirror, i, j]
                            elif code == OUTFLOW:
                                v[dst, i, j] = v[edge, i, j]
                            else:
                                v[dst, i, j] = v[mirror, i, j]
