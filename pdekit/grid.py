"""Cell-centred finite-volume grids over boxes: axes, cells, faces, ghost layers and geometry.

A :class:`Grid` is a tensor product of 1 to 3 :class:`Axis` objects. Each axis is described by its
face coordinates ``x_{-1/2} < x_{1/2} < ... < x_{n-1/2}``; cell ``i`` spans
``[x_{i-1/2}, x_{i+1/2}]`` with centre at the midpoint.

Finite-volume divergence along an axis is written with two metric arrays per axis,

    (div F)_i = (A_{i+1/2} F_{i+1/2} - A_{i-1/2} F_{i-1/2}) / M_i,

where ``A`` is the face area factor and ``M`` the cell measure. In Cartesian geometry ``A = 1`` and
``M = dx_i``. In 1D spherical-radial geometry (isotropic problems in radius or momentum
magnitude) ``A = r^2`` and ``M = (r_{i+1/2}^3 - r_{i-1/2}^3)/3``, so that ``sum(u * volume)`` with
``volume = 4*pi*M`` is conserved exactly.

Internally every grid is handled as 3D with leading singleton axes: a 1D grid of ``nx`` cells is
``(1, 1, nx)``, a 2D grid ``(1, nx, ny)``. Kernels therefore always run their innermost loop over
the last (longest, contiguous) axis. Ghost layers are added only on active axes.
"""
from __future__ import annotations

import numpy as np

from .errors import GridError

GEOMETRIES = ("cartesian", "spherical")
DEFAULT_GHOST = 2


class Axis:
    """One coordinate axis given by its increasing face coordinates.

    Use the constructors :meth:`uniform`, :meth:`log` or :meth:`from_faces`.
    """

    def __init__(self, name: str, faces, kind: str = "faces"):
        if not isinstance(name, str) or not name.isidentifier():
            raise GridError(f"axis name must be an identifier string, got {name!r}")
        faces = np.asarray(faces, dtype=float)
        if faces.ndim != 1 or faces.size < 2:
            raise GridError(f"axis {name!r}: needs at least 2 face coordinates (1 cell), got shape {faces.shape}")
        if not np.all(np.isfinite(faces)):
            raise GridError(f"axis {name!r}: face coordinates must be finite")
        if not np.all(np.diff(faces) > 0):
            raise GridError(f"axis {name!r}: face coordinates must be strictly increasing")
        self.name = name
        self.faces = faces
        self.faces.flags.writeable = False
        self.kind = kind

    @classmethod
    def uniform(cls, name: str, lo: float, hi: float, n: int) -> "Axis":
        """``n`` equal cells on ``[lo, hi]``."""
        n = _check_count(name, n)
        _check_bounds(name, lo, hi)
        faces = lo + (hi - lo) * np.arange(n + 1) / n
        faces[-1] = hi
        return cls(name, faces, kind="uniform")

    @classmethod
    def log(cls, name: str, lo: float, hi: float, n: int) -> "Axis":
        """``n`` cells on ``[lo, hi]`` with faces in geometric progression (requires ``lo > 0``)."""
        n = _check_count(name, n)
        _check_bounds(name, lo, hi)
        if lo <= 0:
            raise GridError(f"axis {name!r}: a logarithmic axis needs lo > 0, got lo={lo}")
        faces = np.geomspace(lo, hi, n + 1)
        faces[0], faces[-1] = lo, hi
        return cls(name, faces, kind="log")

    @classmethod
    def from_faces(cls, name: str, faces) -> "Axis":
        """An axis with the given (strictly increasing) face coordinates."""
        return cls(name, faces, kind="faces")

    @property
    def n(self) -> int:
        return self.faces.size - 1

    @property
    def lo(self) -> float:
        return float(self.faces[0])

    @property
    def hi(self) -> float:
        return float(self.faces[-1])

    @property
    def length(self) -> float:
        return self.hi - self.lo

    @property
    def centres(self) -> np.ndarray:
        return 0.5 * (self.faces[1:] + self.faces[:-1])

    @property
    def widths(self) -> np.ndarray:
        return np.diff(self.faces)

    @property
    def is_uniform(self) -> bool:
        w = self.widths
        return bool(np.allclose(w, w[0], rtol=1e-12, atol=0.0))

    def describe(self) -> dict:
        d = {"name": self.name, "kind": self.kind, "n": self.n, "lo": self.lo, "hi": self.hi}
        if self.kind == "faces":
            d["faces"] = self.faces.tolist()
        return d

    def __repr__(self):
        return f"Axis({self.name!r}, n={self.n}, [{self.lo:g}, {self.hi:g}], {self.kind})"


def _check_count(name, n):
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise GridError(f"axis {name!r}: number of cells must be an integer >= 1, got {n!r}")
    if n < 1:
        raise GridError(f"axis {name!r}: number of cells must be >= 1, got {n}")
    return int(n)


def _check_bounds(name, lo, hi):
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise GridError(f"axis {name!r}: bounds must be finite, got [{lo}, {hi}]")
    if not hi > lo:
        raise GridError(f"axis {name!r}: needs hi > lo, got [{lo}, {hi}] (empty or reversed axis)")


class Grid:
    """A 1D, 2D or 3D cell-centred grid: the tensor product of its axes.

    Parameters
    ----------
    axes : sequence of Axis
        One to three axes with distinct names (e.g. ``x``, ``y``, ``z``).
    geometry : {"cartesian", "spherical"}
        ``"spherical"`` is 1D spherical-radial (the axis is the radius ``r >= 0``, or a momentum
        magnitude ``p``): face areas ``r^2``, cell measures ``(r_+^3 - r_-^3)/3``.
    ghost : int
        Ghost layers on each side of every axis (2 suffices for second-order TVD fluxes).
    """

    def __init__(self, axes, geometry: str = "cartesian", ghost: int = DEFAULT_GHOST):
        if isinstance(axes, Axis):
            axes = (axes,)
        axes = tuple(axes)
        if not 1 <= len(axes) <= 3:
            raise GridError(f"a grid has 1 to 3 axes, got {len(axes)}")
        for a in axes:
            if not isinstance(a, Axis):
                raise GridError(f"grid axes must be Axis objects, got {type(a).__name__}")
        names = [a.name for a in axes]
        if len(set(names)) != len(names):
            raise GridError(f"axis names must be distinct, got {names}")
        if "t" in names:
            raise GridError("'t' is reserved for the time dimension; name the axis otherwise")
        if geometry not in GEOMETRIES:
            raise GridError(f"unknown geometry {geometry!r}; accepted: {', '.join(GEOMETRIES)}")
        if geometry == "spherical":
            if len(axes) != 1:
                raise GridError("spherical-radial geometry is 1D only")
            if axes[0].lo < 0:
                raise GridError(f"spherical-radial axis must have lo >= 0, got {axes[0].lo}")
        if not isinstance(ghost, (int, np.integer)) or ghost < 1:
            raise GridError(f"ghost must be an integer >= 1, got {ghost!r}")
        self.axes = axes
        self.geometry = geometry
        self.ghost = int(ghost)

    # ---- convenience constructors -------------------------------------------------------------
    @classmethod
    def uniform(cls, shape, bounds, names=None, **kw) -> "Grid":
        """Uniform grid: ``Grid.uniform((64, 32), [(0, 1), (0, 0.5)])``."""
        shape = (shape,) if np.isscalar(shape) else tuple(shape)
        bounds = list(bounds)
        if len(bounds) == 2 and np.isscalar(bounds[0]):
            bounds = [tuple(bounds)] * len(shape)
        if len(bounds) != len(shape):
            raise GridError(f"got {len(shape)} cell counts but {len(bounds)} bounds")
        names = names or ("x", "y", "z")[: len(shape)]
        return cls([Axis.uniform(nm, lo, hi, n) for nm, (lo, hi), n in zip(names, bounds, shape)], **kw)

    # ---- shape -----------------------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.axes)

    @property
    def dims(self) -> tuple:
        return tuple(a.name for a in self.axes)

    @property
    def shape(self) -> tuple:
        return tuple(a.n for a in self.axes)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def shape3(self) -> tuple:
        """Interior shape padded to 3D with leading singleton axes."""
        return (1,) * (3 - self.ndim) + self.shape

    @property
    def ghost3(self) -> tuple:
        """Ghost layers per internal (3D) axis: ``ghost`` on active axes, 0 on padding axes."""
        return (0,) * (3 - self.ndim) + (self.ghost,) * self.ndim

    @property
    def padded_shape3(self) -> tuple:
        return tuple(n + 2 * g for n, g in zip(self.shape3, self.ghost3))

    def interior3(self):
        """Slices selecting interior cells of a padded 3D array."""
        return tuple(slice(g, g + n) for n, g in zip(self.shape3, self.ghost3))

    def axis(self, name: str) -> Axis:
        for a in self.axes:
            if a.name == name:
                return a
        raise GridError(f"grid has no axis {name!r}; axes are {self.dims}")

    # ---- geometry ---------------------------------------------------------------------------------
    @property
    def centres(self) -> tuple:
        return tuple(a.centres for a in self.axes)

    @property
    def faces(self) -> tuple:
        return tuple(a.faces for a in self.axes)

    @property
    def widths(self) -> tuple:
        return tuple(a.widths for a in self.axes)

    def meshgrid(self) -> tuple:
        """Cell-centre coordinate arrays, each of shape ``grid.shape``."""
        return tuple(np.meshgrid(*self.centres, indexing="ij"))

    def face_shape(self, d: int) -> tuple:
        """Shape of a face field of axis ``d``: ``grid.shape`` with one more entry along ``d``."""
        s = list(self.shape)
        s[d] += 1
        return tuple(s)

    def face_points(self, d: int) -> tuple:
        """Coordinate arrays of the face centres of axis ``d`` (faces along ``d``, centres elsewhere)."""
        coords = [a.centres for a in self.axes]
        coords[d] = self.axes[d].faces
        return tuple(np.meshgrid(*coords, indexing="ij"))

    def face_area(self, d: int) -> np.ndarray:
        """Face area factor ``A`` along axis ``d`` (length ``n_d + 1``)."""
        f = self.axes[d].faces
        if self.geometry == "spherical":
            return f**2
        return np.ones_like(f)

    def cell_measure(self, d: int) -> np.ndarray:
        """Cell measure ``M`` along axis ``d`` such that ``div F = (A F)_+ - (A F)_-) / M``."""
        f = self.axes[d].faces
        if self.geometry == "spherical":
            return (f[1:] ** 3 - f[:-1] ** 3) / 3.0
        return np.diff(f)

    @property
    def volumes(self) -> np.ndarray:
        """Cell volumes, shape ``grid.shape`` (for spherical geometry the full shell ``4 pi M``)."""
        if self.geometry == "spherical":
            return 4.0 * np.pi * self.cell_measure(0)
        v = np.ones(self.shape)
        for d, a in enumerate(self.axes):
            sh = [1] * self.ndim
            sh[d] = a.n
            v = v * a.widths.reshape(sh)
        return v

    def integrate(self, field) -> float:
        """``sum(field * volume)`` over the interior: total mass of a density."""
        return float(np.sum(np.asarray(field) * self.volumes))

    @property
    def min_spacing(self) -> tuple:
        return tuple(float(a.widths.min()) for a in self.axes)

    # ---- description --------------------------------------------------------------------------------
    def describe(self) -> dict:
        return {"geometry": self.geometry, "axes": [a.describe() for a in self.axes]}

    @property
    def coords(self) -> dict:
        return {a.name: a.centres for a in self.axes}

    def __eq__(self, other):
        return (
            isinstance(other, Grid)
            and self.geometry == other.geometry
            and self.dims == other.dims
            and all(np.array_equal(a.faces, b.faces) for a, b in zip(self.axes, other.axes))
        )

    def __repr__(self):
        return f"Grid({', '.join(map(repr, self.axes))}, geometry={self.geometry!r})"
