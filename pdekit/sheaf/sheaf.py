"""Cellular sheaves on graphs and their Laplacians (Hansen & Ghrist 2019; Bodnar, Di Giovanni,
Chamberlain, Liò & Bronstein, "Neural Sheaf Diffusion", NeurIPS 2022).

A sheaf ``F`` on a graph gives every node and edge a stalk ``R^d`` and every incidence ``v ◁ e`` a
restriction map ``F_{v◁e}: R^d -> R^d``. For an edge ``e = (u, v)``:

    coboundary        (delta x)_e = F_{u◁e} x_u - F_{v◁e} x_v
    sheaf Laplacian   L_F = delta^T delta:   L_vv = sum_{e ∋ v} F_{v◁e}^T F_{v◁e},
                                             L_uv = -F_{u◁e}^T F_{v◁e}
    normalised        Delta_F = D^{-1/2} L_F D^{-1/2},  D = blockdiag(L_vv)
    Dirichlet energy  E(X) = tr(X^T Delta_F X)
    global sections   ker delta = ker L_F  (D^{1/2} of them span ker Delta_F)

Restriction maps are stored as an array ``maps`` of shape ``(E, 2, d, d)``: ``maps[e, 0]`` is
``F_{u◁e}``, ``maps[e, 1]`` is ``F_{v◁e}`` for the edge ``graph.edges[e] = (u, v)``.

Where a block ``D_v`` is singular (an isolated node, or maps that annihilate a direction) the
normalisation uses the pseudo-inverse square root: eigen-directions of ``D_v`` with eigenvalue below
``1e-12 * max eigenvalue`` get a zero factor, so those components neither move nor drive others.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import ParameterError
from .graph import Graph
from . import kernels as K


def _rotation(theta):
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, -s], axis=-1), np.stack([s, c], axis=-1)], axis=-2)


class Sheaf:
    """A cellular sheaf with stalk dimension ``d`` on a :class:`Graph`.

    Use the constructors: :meth:`trivial`, :meth:`signed`, :meth:`scalar`, :meth:`diagonal`,
    :meth:`orthogonal`, :meth:`general`, :meth:`from_connection`, :meth:`from_section`.
    """

    def __init__(self, graph, maps, kind="general"):
        if not isinstance(graph, Graph):
            raise ParameterError(f"graph must be a pdekit.sheaf.Graph, got {type(graph).__name__}")
        try:
            m = np.array(maps, dtype=float, copy=True)  # a copy: the sheaf owns its maps (caches depend on them)
        except (TypeError, ValueError):
            raise ParameterError("restriction maps must be a real array of shape (E, 2, d, d)") from None
        E = graph.n_edges
        if m.ndim != 4 or m.shape[0] != E or m.shape[1] != 2 or m.shape[2] != m.shape[3]:
            raise ParameterError(f"restriction maps must have shape (E, 2, d, d) = ({E}, 2, d, d): one d x d map per "
                                 f"incidence (edge, side); got shape {m.shape}")
        if m.shape[2] < 1:
            raise ParameterError(f"the stalk dimension d must be >= 1, got {m.shape[2]}")
        if not np.all(np.isfinite(m)):
            e = int(np.argwhere(~np.isfinite(m))[0][0])
            raise ParameterError(f"restriction maps of edge {e} {tuple(graph.edges[e])} have non-finite entries")
        self.graph = graph
        self.d = int(m.shape[2])
        self.maps = np.ascontiguousarray(m)
        self.maps.flags.writeable = False
        self.kind = kind
        self._cache = {}

    # ---- the hierarchy of the paper ----------------------------------------------------------------------
    @classmethod
    def trivial(cls, graph, d=1):
        """Identity maps: ``L_F = L_graph ⊗ I_d`` (d = 1: the graph Laplacian)."""
        d = _check_d(d)
        maps = np.broadcast_to(np.eye(d), (graph.n_edges, 2, d, d)).copy()
        return cls(graph, maps, kind="trivial")

    @classmethod
    def scalar(cls, graph, values):
        """d = 1 with scalar maps ``values`` of shape (E, 2): ``F_{u◁e} = values[e, 0]``."""
        v = np.asarray(values, dtype=float)
        if v.shape != (graph.n_edges, 2):
            raise ParameterError(f"scalar sheaf values must have shape (E, 2) = ({graph.n_edges}, 2), got {v.shape}")
        return cls(graph, v[:, :, None, None], kind="scalar")

    @classmethod
    def signed(cls, graph, signs):
        """d = 1, ``F_{u◁e} = 1`` and ``F_{v◁e} = sign_e`` (±1): a sign -1 asks for opposite values."""
        s = np.asarray(signs, dtype=float).ravel()
        if s.shape != (graph.n_edges,) or not np.all(np.abs(s) == 1):
            raise ParameterError(f"signs must be {graph.n_edges} values of +1 or -1")
        return cls.scalar(graph, np.stack([np.ones_like(s), s], axis=1)).__with_kind("signed")

    @classmethod
    def diagonal(cls, graph, diagonals):
        """Diagonal maps from ``diagonals`` of shape (E, 2, d)."""
        v = np.asarray(diagonals, dtype=float)
        if v.ndim != 3 or v.shape[:2] != (graph.n_edges, 2):
            raise ParameterError(f"diagonals must have shape (E, 2, d) = ({graph.n_edges}, 2, d), got {v.shape}")
        d = _check_d(v.shape[2])
        maps = np.zeros((graph.n_edges, 2, d, d))
        idx = np.arange(d)
        maps[:, :, idx, idx] = v
        return cls(graph, maps, kind="diagonal")

    @classmethod
    def orthogonal(cls, graph, maps=None, angles=None, tol=1e-10):
        """O(d) maps ("bundle"): given as matrices (E, 2, d, d) that must be orthogonal, or for d = 2
        as rotation ``angles`` (E, 2)."""
        if (maps is None) == (angles is None):
            raise ParameterError("give either maps (E, 2, d, d) or angles (E, 2) for an orthogonal sheaf")
        if angles is not None:
            a = np.asarray(angles, dtype=float)
            if a.shape != (graph.n_edges, 2):
                raise ParameterError(f"angles must have shape (E, 2) = ({graph.n_edges}, 2), got {a.shape}")
            maps = _rotation(a)
        m = np.asarray(maps, dtype=float)
        sheaf = cls(graph, m, kind="orthogonal")
        d = sheaf.d
        err = np.abs(np.einsum("epji,epjk->epik", sheaf.maps, sheaf.maps) - np.eye(d)).max() if graph.n_edges else 0.0
        if err > tol:
            raise ParameterError(f"orthogonal sheaf: the maps are not orthogonal (max |F^T F - I| = {err:.2e})")
        return sheaf

    @classmethod
    def general(cls, graph, maps):
        """Arbitrary d x d restriction maps (E, 2, d, d)."""
        return cls(graph, maps, kind="general")

    @classmethod
    def from_connection(cls, graph, transports):
        """The sheaf of a connection: ``transports[e]`` (d x d, invertible) carries the stalk of ``u`` to
        that of ``v`` along ``e = (u, v)``; maps ``F_{u◁e} = T_e``, ``F_{v◁e} = I``, so a global section
        is a field with ``x_v = T_e x_u`` on every edge. Around a cycle the product of the transports
        (the holonomy) decides how many sections survive: all ``d`` per component when every holonomy
        is the identity, fewer otherwise."""
        T = np.asarray(transports, dtype=float)
        if T.ndim != 3 or T.shape[0] != graph.n_edges or T.shape[1] != T.shape[2]:
            raise ParameterError(f"transports must have shape (E, d, d) = ({graph.n_edges}, d, d), got {T.shape}")
        d = _check_d(T.shape[1])
        maps = np.empty((graph.n_edges, 2, d, d))
        maps[:, 0] = T
        maps[:, 1] = np.eye(d)
        return cls(graph, maps, kind="connection")

    @classmethod
    def from_section(cls, graph, field):
        """A sheaf for which the node field ``field`` (n, d), non-zero at every node, is a global
        section: ``F_{v◁e} = I`` and ``F_{u◁e} = (|x_v|/|x_u|) Q_e`` with ``Q_e`` the orthogonal
        (Householder) map taking the direction of ``x_u`` to that of ``x_v``."""
        X = np.asarray(field, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[0] != graph.n_nodes:
            raise ParameterError(f"field must have shape (n, d) = ({graph.n_nodes}, d), got {np.shape(field)}")
        d = _check_d(X.shape[1])
        norms = np.linalg.norm(X, axis=1)
        if not np.all(np.isfinite(X)) or np.any(norms == 0):
            raise ParameterError("field must be finite and non-zero at every node")
        u, v = graph.edges[:, 0], graph.edges[:, 1]
        a = X[u] / norms[u, None]
        b = X[v] / norms[v, None]
        # Householder reflection H = I - 2 w w^T/|w|^2 with w = a - b maps a to b; a = b: identity
        # for a.b >= 0 the stable form is -(I - 2 v v^T), v = (a + b)/|a + b| (no cancellation when a ~ b);
        # both are orthogonal and map a to b
        ab = np.einsum("ei,ei->e", a, b)
        H = np.broadcast_to(np.eye(d), (len(u), d, d)).copy()
        near = ab >= 0
        vsum = a[near] + b[near]
        vsum /= np.linalg.norm(vsum, axis=1, keepdims=True)
        H[near] = -(H[near] - 2.0 * np.einsum("ei,ej->eij", vsum, vsum))
        w = a[~near] - b[~near]
        w /= np.linalg.norm(w, axis=1, keepdims=True)
        H[~near] -= 2.0 * np.einsum("ei,ej->eij", w, w)
        maps = np.empty((len(u), 2, d, d))
        maps[:, 0] = H * (norms[v] / norms[u])[:, None, None]
        maps[:, 1] = np.eye(d)
        return cls(graph, maps, kind="section")

    def __with_kind(self, kind):
        self.kind = kind
        return self

    # ---- operators ---------------------------------------------------------------------------------------
    @property
    def n_nodes(self):
        return self.graph.n_nodes

    @property
    def size(self):
        """``n d``: the length of a 0-cochain."""
        return self.graph.n_nodes * self.d

    def coboundary(self) -> sp.csr_matrix:
        """``delta``: sparse (E d) x (n d) with ``(delta x)_e = F_{u◁e} x_u - F_{v◁e} x_v``."""
        g, d = self.graph, self.d
        E = g.n_edges
        rows = (np.arange(E)[:, None, None] * d + np.arange(d)[None, :, None]) * np.ones((1, 1, d), dtype=np.int64)
        cu = g.edges[:, 0][:, None, None] * d + np.arange(d)[None, None, :] + 0 * rows
        cv = g.edges[:, 1][:, None, None] * d + np.arange(d)[None, None, :] + 0 * rows
        data = np.concatenate([self.maps[:, 0].ravel(), -self.maps[:, 1].ravel()])
        return sp.csr_matrix((data, (np.concatenate([rows.ravel(), rows.ravel()]),
                                     np.concatenate([cu.ravel(), cv.ravel()]))), shape=(E * d, g.n_nodes * d))

    def laplacian(self, normalised=False, format="bsr"):
        """``L_F = delta^T delta`` (or ``Delta_F``) as a block-sparse matrix with d x d blocks."""
        key = ("L", normalised, format)
        if key not in self._cache:
            delta = self.coboundary()
            L = (delta.T @ delta).tocsr()
            if normalised:
                S = self._block_diag_matrix(self.degree_inv_sqrt())
                L = (S @ L @ S).tocsr()
            L.sum_duplicates()
            L.eliminate_zeros()
            if format == "bsr":
                L = L.tobsr(blocksize=(self.d, self.d))
            self._cache[key] = L
        return self._cache[key]

    def normalised_laplacian(self, format="bsr"):
        return self.laplacian(normalised=True, format=format)

    def degree_blocks(self) -> np.ndarray:
        """``D_v = sum_{e ∋ v} F_{v◁e}^T F_{v◁e}``, shape (n, d, d)."""
        g, d = self.graph, self.d
        D = np.zeros((g.n_nodes, d, d))
        for side in (0, 1):
            F = self.maps[:, side]
            np.add.at(D, g.edges[:, side], np.einsum("eji,ejk->eik", F, F))
        return D

    def degree_inv_sqrt(self, rel_tol=1e-12) -> np.ndarray:
        """``D_v^{-1/2}`` per node (pseudo-inverse where ``D_v`` is singular), shape (n, d, d)."""
        if "dis" not in self._cache:
            D = self.degree_blocks()
            lam, V = np.linalg.eigh(D)
            big = lam.max(axis=1, keepdims=True)
            inv = np.where(lam > rel_tol * np.maximum(big, 1e-300), 1.0 / np.sqrt(np.maximum(lam, 1e-300)), 0.0)
            self._cache["dis"] = np.ascontiguousarray(np.einsum("nij,nj,nkj->nik", V, inv, V))
        return self._cache["dis"]

    def _block_diag_matrix(self, B):
        n, d = self.graph.n_nodes, self.d
        return sp.bsr_matrix((B, np.arange(n), np.arange(n + 1)), shape=(n * d, n * d)).tocsr()

    # ---- matrix-free application ------------------------------------------------------------------------------
    def _incidence(self):
        """CSR incidence list by node: ``ptr`` (n + 1); per incidence ``k`` (the edges where the node is
        ``u``, then those where it is ``v``, each in edge order) the far end ``other[k]``, the edge
        ``edge[k]`` and the node's side ``side[k]`` (0: ``u``, 1: ``v``); ``bounds``: node ranges with
        about equal incidence counts for the threads."""
        if "inc" not in self._cache:
            g = self.graph
            E = g.n_edges
            nodes = np.concatenate([g.edges[:, 0], g.edges[:, 1]])
            other = np.concatenate([g.edges[:, 1], g.edges[:, 0]])
            order = np.argsort(nodes, kind="stable")
            ptr = np.zeros(g.n_nodes + 1, dtype=np.int64)
            ptr[1:] = np.cumsum(np.bincount(nodes, minlength=g.n_nodes))
            itype = np.uint32 if g.n_nodes < 2 ** 32 else np.uint64
            self._cache["inc"] = {"ptr": ptr, "other": np.ascontiguousarray(other[order], dtype=itype),
                                  "edge": order % E if E else order, "side": order // E if E else order}
        return self._cache["inc"]

    def _apply_operands(self, normalised):
        """``(Gi, C)`` of :func:`kernels.laplacian_apply`: per incidence the maps ``(G_{w◁e}, G_{o◁e})``
        in incidence order and per node ``C_w``; ``G = F`` and ``C = D`` (``L_F``), or
        ``G_{v◁e} = F_{v◁e} D_v^{-1/2}`` and ``C = D^{-1/2} D D^{-1/2}`` (``Delta_F``)."""
        key = ("ops", bool(normalised))
        if key not in self._cache:
            inc = self._incidence()
            n, d = self.graph.n_nodes, self.d
            S = self.degree_inv_sqrt() if normalised else np.zeros((1, d, d))
            Gi = np.empty((inc["edge"].size, 2, d, d))
            C = np.empty((n, d, d))
            K.incidence_operands(self._bounds(), inc["ptr"], inc["other"], inc["edge"], inc["side"], self.maps, S,
                                 bool(normalised), Gi, C)
            self._cache[key] = (Gi, C)
        return self._cache[key]

    def _bounds(self):
        """Node ranges with about equal incidence counts, 16 per numba thread (kept per thread count)."""
        inc = self._incidence()
        threads = K.numba.get_num_threads()
        if inc.get("bounds", (None,))[0] != threads:
            inc["bounds"] = (threads, K.chunk_bounds(inc["ptr"], 16 * threads))
        return inc["bounds"][1]

    def apply(self, X, normalised=True, out=None, work=None):
        """``Delta_F X`` (or ``L_F X``) matrix-free in compiled code; ``X`` of shape (n, d, f), (n, d)
        or (n d,). Returns an array of the same shape (``out``, if given: C-contiguous, of ``X``'s
        shape (n, d, f), not overlapping ``X``).

        One node-parallel pass over the incidence list (:func:`pdekit.sheaf.kernels.laplacian_apply`),
        no ``E x d x f`` scratch: ``work`` is accepted for compatibility and ignored. The first call
        per ``normalised`` copies the maps (times ``D^{-1/2}`` when normalised) into incidence order,
        ``2 E x 2 x d x d`` numbers (twice the maps), and keeps them."""
        X = np.asarray(X, dtype=float)
        shape = X.shape
        n, d = self.graph.n_nodes, self.d
        if X.ndim == 1 and X.size == n * d:
            X3 = X.reshape(n, d, 1)
        elif X.ndim == 2 and X.shape == (n, d):
            X3 = X.reshape(n, d, 1)
        elif X.ndim == 3 and X.shape[:2] == (n, d):
            X3 = X
        else:
            raise ParameterError(f"features must have shape (n, d, f), (n, d) or (n*d,) with n={n}, d={d}; "
                                 f"got {shape}")
        X3 = np.ascontiguousarray(X3)
        if out is None:
            out3 = np.empty_like(X3)
        else:
            if out.size != X3.size or out.dtype != np.float64 or not out.flags.c_contiguous:
                raise ParameterError(f"out must be a C-contiguous float array of {X3.size} values, got "
                                     f"shape {out.shape}, dtype {out.dtype}")
            if np.may_share_memory(out, X3):
                raise ParameterError("out must not overlap X (the matrix-free apply reads X while writing out)")
            out3 = out.reshape(X3.shape)
        inc = self._incidence()
        Gi, C = self._apply_operands(normalised)
        K.laplacian_apply(inc["ptr"], inc["other"], Gi, C, X3, out3, self._bounds())
        res = out if out is not None else out3
        return res if res.shape == shape else res.reshape(shape)

    def energy(self, X, normalised=True) -> float:
        """Dirichlet energy ``tr(X^T Delta_F X)`` (summed over channels)."""
        X = np.asarray(X, dtype=float)
        return float(np.sum(X * self.apply(X, normalised)))

    # ---- harmonic space ------------------------------------------------------------------------------------
    def harmonic_basis(self, normalised=True, tol=1e-9, max_size=6000) -> np.ndarray:
        """Orthonormal basis (columns, shape (n d, k)) of ``ker Delta_F`` (or ``ker L_F``): the global
        sections (times ``D^{1/2}`` for the normalised Laplacian). Dense eigendecomposition; eigenvalues
        below ``tol * max(1, lambda_max)`` count as zero."""
        N = self.size
        if N > max_size:
            raise ParameterError(f"harmonic_basis uses a dense eigendecomposition; n*d = {N} exceeds max_size={max_size}")
        key = ("H", normalised, tol)
        if key not in self._cache:
            L = self.laplacian(normalised=normalised).toarray()
            lam, V = np.linalg.eigh(L)
            zero = lam <= tol * max(lam[-1] if lam.size else 0.0, 1e-300)  # relative to the spectrum's scale
            self._cache[key] = (V[:, zero], lam)
        return self._cache[key][0]

    def spectrum(self, normalised=True) -> np.ndarray:
        self.harmonic_basis(normalised)
        return self._cache[("H", normalised, 1e-9)][1]

    def project_harmonic(self, X, normalised=True) -> np.ndarray:
        """Orthogonal projection of ``X`` (n, d[, f]) onto ``ker Delta_F``: the limit ``t -> inf`` of the
        heat flow."""
        X = np.asarray(X, dtype=float)
        H = self.harmonic_basis(normalised)
        flat = X.reshape(self.size, -1)
        return (H @ (H.T @ flat)).reshape(X.shape)

    def lambda_max(self, normalised=True) -> float:
        """Largest eigenvalue of ``Delta_F`` (or ``L_F``), or a cheap upper bound for large operators.

        Up to ``n d = 3000``: exact (dense). Larger: the bound ``lambda_max <= 2`` of the normalised
        Laplacian, or for ``L_F`` the Gershgorin bound ``max_i sum_j |L_ij|`` — so the explicit
        stability check never costs a Lanczos run on a huge graph (it is then conservative).
        """
        key = ("lmax", normalised)
        if key not in self._cache:
            if self.size <= 3000:
                L = self.laplacian(normalised=normalised, format="csr")
                val = float(np.linalg.eigvalsh(L.toarray())[-1]) if L.shape[0] else 0.0
            elif normalised:
                val = 2.0
            else:
                L = self.laplacian(normalised=False, format="csr")
                val = float(np.max(np.asarray(abs(L).sum(axis=1)).ravel()))
            self._cache[key] = val
        return self._cache[key]

    def describe(self) -> dict:
        import hashlib

        return {"kind": self.kind, "stalk_dimension": self.d, "graph": self.graph.describe(),
                "maps_sha1": hashlib.sha1(self.maps.tobytes()).hexdigest()[:12]}

    def __repr__(self):
        return f"Sheaf({self.kind}, d={self.d}, {self.graph!r})"


def _check_d(d):
    try:
        di = int(d)
    except (TypeError, ValueError):
        raise ParameterError(f"the stalk dimension d must be a positive integer, got {d!r}") from None
    if di != d or di < 1:
        raise ParameterError(f"the stalk dimension d must be a positive integer, got {d!r}")
    return di
