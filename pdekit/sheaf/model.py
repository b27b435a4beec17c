"""Sheaf diffusion ``dX/dt = -Delta_F X`` as a pdekit model (run loop, results, checkpoints).

``X`` holds ``f`` feature channels on every stalk: shape ``(n, d, f)``, stored with dimensions
``(t, node, stalk, channel)``. The graph (``edges``) and the restriction maps are written into the
result file as static variables, so :func:`sheaf_from_result` rebuilds the sheaf from a file.

Time integration (``method=``):

* ``euler`` — ``X_{k+1} = X_k - tau Delta_F X_k``, the discretisation of sheaf neural networks
  (Bodnar et al. 2022), matrix-free in compiled code; stable (and energy-decreasing) for
  ``tau lambda_max <= 2``, which is enforced;
* ``backward-euler``, ``crank-nicolson`` — sparse LU of ``I + theta tau Delta_F`` computed once
  (on expander-like random graphs with 10^4+ nodes the LU fills in badly: prefer ``exact`` there);
* ``exact`` (default) — ``X(t + tau) = exp(-tau Delta_F) X(t)`` by ``scipy.sparse.linalg.expm_multiply``
  (Al-Mohy & Higham 2011), all channels at once.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import ParameterError
from ..model import GridModel
from ..timestepping import check_cfl
from .graph import Graph
from .sheaf import Sheaf


class GraphLayout:
    """The state layout of a graph model, with the attributes the run loop and writer use from a
    :class:`pdekit.Grid`: dims ``(node, stalk, channel)``, integer coordinates, no ghost layers."""

    def __init__(self, n_nodes, d, channels):
        self.shape = (int(n_nodes), int(d), int(channels))
        self.dims = ("node", "stalk", "channel")
        self.ghost3 = (0, 0, 0)
        self.padded_shape3 = self.shape
        self.ndim = 3

    @property
    def size(self):
        return int(np.prod(self.shape))

    def interior3(self):
        return (slice(None), slice(None), slice(None))

    @property
    def centres(self):
        return tuple(np.arange(s) for s in self.shape)

    @property
    def coords(self):
        return dict(zip(self.dims, self.centres))

    def meshgrid(self):
        return tuple(np.meshgrid(*self.centres, indexing="ij"))

    def describe(self):
        return {"layout": "graph", "shape": list(self.shape), "dims": list(self.dims)}


class SheafDiffusion(GridModel):
    """Heat flow of a cellular sheaf: ``dX/dt = -Delta_F X`` (or ``-L_F X`` with ``normalised=False``).

    Parameters
    ----------
    sheaf : pdekit.sheaf.Sheaf
    channels : int
        Number of feature channels ``f``.
    normalised : bool
        ``Delta_F = D^{-1/2} L_F D^{-1/2}`` (default, as in neural sheaf diffusion) or ``L_F``.
    variable : str
        Name of the features in results (default ``"x"``).
    """

    name = "sheaf-diffusion"
    methods = ("euler", "backward-euler", "crank-nicolson", "exact")
    implicit_methods = ("backward-euler", "crank-nicolson", "exact")
    default_method = "exact"
    default_cfl = 0.9

    def __init__(self, sheaf, channels=1, normalised=True, variable="x"):
        if not isinstance(sheaf, Sheaf):
            raise ParameterError(f"sheaf must be a pdekit.sheaf.Sheaf, got {type(sheaf).__name__}")
        try:
            f = int(channels)
        except (TypeError, ValueError):
            raise ParameterError(f"channels must be a positive integer, got {channels!r}") from None
        if isinstance(channels, bool) or f != channels or f < 1:
            raise ParameterError(f"channels must be a positive integer, got {channels!r}")
        if not isinstance(variable, str) or not variable.isidentifier() or variable in ("t", "node", "stalk",
                                                                                         "channel"):
            raise ParameterError(f"variable must be an identifier other than the dimension names, got {variable!r}")
        self.sheaf = sheaf
        self.channels = f
        self.normalised = bool(normalised)
        self.variables = (variable,)
        self.grid = GraphLayout(sheaf.n_nodes, sheaf.d, f)
        self.boundaries = None

    # ---- operator --------------------------------------------------------------------------------------
    def operator(self):
        """``Delta_F`` (or ``L_F``) as CSR."""
        return self.sheaf.laplacian(normalised=self.normalised, format="csr")

    def rate(self, X):
        """``-Delta_F X`` for ``X`` of shape (n, d, f), matrix-free."""
        return -self.sheaf.apply(X, normalised=self.normalised)

    def lambda_max(self):
        return self.sheaf.lambda_max(self.normalised)

    def stable_dt(self, cfl, method=None, t=0.0):
        """``tau = cfl * 2 / lambda_max``: explicit Euler is stable (and the Dirichlet energy decreases)
        for ``cfl <= 1``; for implicit methods ``cfl`` is read the same way."""
        method = self.check_method(method)
        cfl = check_cfl(cfl, limit=1.0 if method == "euler" else None)
        lam = self.lambda_max()
        if lam <= 0:
            raise ParameterError("the Laplacian is zero (no edges or all maps zero): give dt instead of cfl")
        return cfl * 2.0 / lam

    def stepper(self, method=None, dt=None):
        method = self.check_method(method)
        if dt is None or not (np.isfinite(dt) and dt > 0):
            raise ParameterError(f"dt must be a positive finite number, got {dt!r}")
        if method == "euler":
            return _EulerStepper(self, dt)
        if method == "exact":
            return _ExactStepper(self, dt)
        return _ThetaStepper(self, dt, 1.0 if method == "backward-euler" else 0.5)

    # ---- results -----------------------------------------------------------------------------------------
    def static_data(self) -> dict:
        """Graph and restriction maps for the results file: name -> (dims, array)."""
        return {"edges": (("edge", "end"), self.sheaf.graph.edges.astype(np.int64)),
                "restriction_maps": (("edge", "end", "edge_stalk", "stalk"), self.sheaf.maps)}

    def parameters(self) -> dict:
        return {"layout": self.grid.describe(), "sheaf": self.sheaf.describe(), "normalised": self.normalised,
                "channels": self.channels, "variable": self.variables[0]}

    def energy(self, X) -> float:
        return self.sheaf.energy(X, self.normalised)


def sheaf_from_result(ds) -> Sheaf:
    """Rebuild the :class:`Sheaf` of a sheaf-diffusion result (``pdekit.open_result(path)``)."""
    try:
        edges = np.asarray(ds["edges"].values, dtype=np.int64)
        maps = np.asarray(ds["restriction_maps"].values, dtype=float)
        n = ds.sizes["node"]
    except KeyError as exc:
        raise ParameterError(f"not a sheaf-diffusion result: missing {exc}") from None
    params = ds.attrs.get("parameters", {})
    if isinstance(params, str):  # xarray.open_dataset leaves the JSON attribute as a string
        import json

        try:
            params = json.loads(params)
        except ValueError:
            params = {}
    kind = params.get("sheaf", {}).get("kind", "general") if isinstance(params, dict) else "general"
    return Sheaf(Graph(n, edges), maps, kind=kind)


class _Stepper:
    def __init__(self, model, dt):
        self.model = model
        self.dt = float(dt)

    def _x(self, state):
        return self.model.interior(state)[0]


class _EulerStepper(_Stepper):
    def __init__(self, model, dt):
        super().__init__(model, dt)
        lam = model.lambda_max()
        if dt * lam > 2.0 * (1 + 1e-12):
            raise ParameterError(f"dt = {dt:.6g} exceeds the stability bound of explicit Euler, dt <= 2/lambda_max = "
                                 f"{2.0 / lam:.6g} (lambda_max = {lam:.6g} of the {'normalised ' if model.normalised else ''}"
                                 "sheaf Laplacian); reduce dt or use crank-nicolson / exact")

    def advance(self, state, t, nsteps):
        m = self.model
        X = np.ascontiguousarray(self._x(state))
        out = np.empty_like(X)
        for _ in range(nsteps):
            m.sheaf.apply(X, m.normalised, out=out)
            out *= self.dt
            X -= out
        self._x(state)[...] = X


class _ThetaStepper(_Stepper):
    def __init__(self, model, dt, theta):
        super().__init__(model, dt)
        L = model.operator()
        I = sp.identity(L.shape[0], format="csc")
        self.explicit = (I - (1 - theta) * dt * L).tocsr() if theta < 1 else None
        self.lu = spla.splu((I + theta * dt * L).tocsc())

    def advance(self, state, t, nsteps):
        X = self._x(state)
        flat = X.reshape(X.shape[0] * X.shape[1], X.shape[2]).copy()
        for _ in range(nsteps):
            rhs = flat if self.explicit is None else self.explicit @ flat
            flat = self.lu.solve(rhs)
        X[...] = flat.reshape(X.shape)


class _ExactStepper(_Stepper):
    def __init__(self, model, dt):
        super().__init__(model, dt)
        self.A = (-dt * model.operator()).tocsr()

    def advance(self, state, t, nsteps):
        X = self._x(state)
        flat = X.reshape(X.shape[0] * X.shape[1], X.shape[2]).copy()
        for _ in range(nsteps):
            flat = spla.expm_multiply(self.A, flat)
        X[...] = flat.reshape(X.shape)
