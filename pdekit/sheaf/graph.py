"""Undirected simple graphs as data: nodes ``0..n-1`` and an edge list ``(E, 2)``.

Edges are stored in the order given, each as ``(u, v)`` with the orientation given by the user
(the orientation fixes which restriction map is ``F_{u◁e}`` and which ``F_{v◁e}``; the sheaf
Laplacian does not depend on it). Self-loops, repeated edges (in either orientation) and
out-of-range node indices are refused. Isolated nodes are allowed: their Laplacian rows are zero,
their features do not move under diffusion, and normalisation treats them with the pseudo-inverse
(documented in :mod:`pdekit.sheaf.sheaf`).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import ParameterError


class Graph:
    """An undirected simple graph on nodes ``0..n_nodes-1``.

    Build it with :meth:`from_edges`, :meth:`from_adjacency` (scipy.sparse or dense), or
    :meth:`from_networkx`; or the generators :meth:`ring`, :meth:`torus`, :meth:`planted_partition`.
    """

    def __init__(self, n_nodes, edges):
        try:
            n = int(n_nodes)
        except (TypeError, ValueError):
            raise ParameterError(f"n_nodes must be a positive integer, got {n_nodes!r}") from None
        if n != n_nodes or n < 1:
            raise ParameterError(f"n_nodes must be a positive integer, got {n_nodes!r} (an empty graph has no nodes "
                                 "to diffuse on)")
        try:
            e = np.asarray(edges, dtype=float) if not np.issubdtype(np.asarray(edges).dtype, np.integer) \
                else np.asarray(edges)
        except (TypeError, ValueError):
            raise ParameterError("edges must be an (E, 2) array of integer node indices") from None
        if e.size == 0:
            e = np.zeros((0, 2), dtype=np.int64)
        if e.ndim != 2 or e.shape[1] != 2:
            raise ParameterError(f"edges must be an array of shape (E, 2), got shape {e.shape}")
        if not np.issubdtype(e.dtype, np.integer):
            if not np.all(np.isfinite(e)) or not np.all(e == np.round(e)):
                raise ParameterError("edges must hold integer node indices")
        e = e.astype(np.int64)
        if e.size and (e.min() < 0 or e.max() >= n):
            bad = int(np.argmax((e < 0).any(axis=1) | (e >= n).any(axis=1)))
            raise ParameterError(f"edge {bad} = {tuple(e[bad])} refers to a node outside 0..{n - 1}")
        loops = np.nonzero(e[:, 0] == e[:, 1])[0]
        if loops.size:
            raise ParameterError(f"edge {loops[0]} = {tuple(e[loops[0]])} is a self-loop; sheaf Laplacians are "
                                 "defined on simple graphs")
        key = np.sort(e, axis=1)
        if len(key):
            uniq, first, counts = np.unique(key, axis=0, return_index=True, return_counts=True)
            if np.any(counts > 1):
                dup = uniq[np.argmax(counts > 1)]
                idx = np.nonzero((key == dup).all(axis=1))[0]
                raise ParameterError(f"edge {tuple(dup)} appears {counts.max()} times (edges {idx.tolist()}); "
                                     "give each undirected edge once")
        self.n_nodes = n
        self.edges = np.ascontiguousarray(e)
        self.edges.flags.writeable = False

    # ---- constructors ------------------------------------------------------------------------------
    @classmethod
    def from_edges(cls, edges, n_nodes=None):
        """From an edge list; ``n_nodes`` defaults to ``max index + 1``."""
        e = np.asarray(edges)
        if n_nodes is None:
            if e.size == 0:
                raise ParameterError("an empty edge list needs n_nodes")
            n_nodes = int(np.max(e)) + 1
        return cls(n_nodes, e)

    @classmethod
    def from_adjacency(cls, adjacency):
        """From a symmetric adjacency matrix (scipy.sparse or dense); the upper triangle gives the edges."""
        A = sp.csr_matrix(adjacency, dtype=float, copy=True)
        A.eliminate_zeros()  # explicitly stored zeros are not edges
        if not np.all(np.isfinite(A.data)):
            raise ParameterError("adjacency has non-finite entries")
        if A.nnz and not np.all(A.data == 1.0):
            raise ParameterError("adjacency must be a 0/1 matrix: edge weights are not used by sheaf Laplacians "
                                 "(put them into the restriction maps instead)")
        if A.shape[0] != A.shape[1]:
            raise ParameterError(f"adjacency must be square, got shape {A.shape}")
        if (A != A.T).nnz:
            raise ParameterError("adjacency must be symmetric (an undirected graph)")
        if A.diagonal().any():
            raise ParameterError("adjacency has non-zero diagonal entries (self-loops)")
        U = sp.triu(A, k=1).tocoo()
        order = np.lexsort((U.col, U.row))
        return cls(A.shape[0], np.stack([U.row[order], U.col[order]], axis=1))

    @classmethod
    def from_networkx(cls, graph):
        """From a ``networkx.Graph`` (nodes relabelled ``0..n-1`` in ``graph.nodes`` order)."""
        if getattr(graph, "is_multigraph", lambda: False)():
            raise ParameterError("from_networkx expects a simple graph, not a multigraph")
        if getattr(graph, "is_directed", lambda: False)():
            raise ParameterError("from_networkx expects an undirected graph")
        try:
            nodes = list(graph.nodes)
            pos = {v: i for i, v in enumerate(nodes)}
            edges = [(pos[u], pos[v]) for u, v in graph.edges]
        except AttributeError:
            raise ParameterError("from_networkx expects a networkx graph") from None
        return cls(len(nodes), np.array(edges, dtype=np.int64).reshape(-1, 2))

    @classmethod
    def ring(cls, n):
        """The cycle graph ``C_n`` (edges ``(i, i+1 mod n)``)."""
        n = _count(n, "n")
        if n < 3:
            raise ParameterError(f"a ring needs at least 3 nodes, got {n}")
        i = np.arange(int(n))
        return cls(int(n), np.stack([i, (i + 1) % n], axis=1))

    @classmethod
    def torus(cls, nx, ny):
        """The ``nx x ny`` periodic grid graph (node ``i*ny + j``)."""
        nx, ny = _count(nx, "nx"), _count(ny, "ny")
        if nx < 3 or ny < 3:
            raise ParameterError(f"a torus needs at least 3 x 3 nodes, got {nx} x {ny}")
        idx = np.arange(nx * ny).reshape(nx, ny)
        right = np.stack([idx.ravel(), np.roll(idx, -1, axis=1).ravel()], axis=1)
        down = np.stack([idx.ravel(), np.roll(idx, -1, axis=0).ravel()], axis=1)
        return cls(nx * ny, np.concatenate([right, down]))

    @classmethod
    def planted_partition(cls, sizes, p_in, p_out, seed=0, connected=True):
        """Stochastic block model: nodes in blocks of ``sizes``; an edge inside a block with
        probability ``p_in``, between blocks with ``p_out`` (``p_out > p_in``: heterophilic).
        Returns ``(graph, labels)``; with ``connected=True`` the draw is repeated (new seeds) until
        the graph is connected. Draws all ``n(n-1)/2`` pairs: for graphs up to a few thousand nodes."""
        sizes = [int(s) for s in sizes]
        if not sizes or min(sizes) < 1:
            raise ParameterError(f"sizes must be positive block sizes, got {sizes}")
        for name, p in (("p_in", p_in), ("p_out", p_out)):
            if not 0.0 <= float(p) <= 1.0:
                raise ParameterError(f"{name} must be a probability in [0, 1], got {p}")
        labels = np.repeat(np.arange(len(sizes)), sizes)
        n = labels.size
        rng = np.random.default_rng(seed)
        for _ in range(100):
            iu, ju = np.triu_indices(n, k=1)
            p = np.where(labels[iu] == labels[ju], p_in, p_out)
            keep = rng.random(iu.size) < p
            g = cls(n, np.stack([iu[keep], ju[keep]], axis=1))
            if not connected or g.n_components == 1:
                return g, labels
        raise ParameterError("could not draw a connected graph with these probabilities; raise p_in or p_out")

    # ---- properties ----------------------------------------------------------------------------------
    @property
    def n_edges(self) -> int:
        return int(self.edges.shape[0])

    @property
    def degrees(self) -> np.ndarray:
        return np.bincount(self.edges.ravel(), minlength=self.n_nodes)

    def adjacency(self) -> sp.csr_matrix:
        e = self.edges
        A = sp.coo_matrix((np.ones(2 * len(e)), (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])),
                          shape=(self.n_nodes, self.n_nodes))
        return A.tocsr()

    def laplacian(self) -> sp.csr_matrix:
        """The combinatorial graph Laplacian ``D - A``."""
        A = self.adjacency()
        return (sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A).tocsr()

    @property
    def n_components(self) -> int:
        from scipy.sparse.csgraph import connected_components

        return int(connected_components(self.adjacency(), directed=False)[0])

    def components(self) -> np.ndarray:
        """Connected-component label per node."""
        from scipy.sparse.csgraph import connected_components

        return connected_components(self.adjacency(), directed=False)[1]

    def cycle_basis_size(self) -> int:
        """``E - n + components``: the number of independent cycles."""
        return self.n_edges - self.n_nodes + self.n_components

    def describe(self) -> dict:
        return {"n_nodes": self.n_nodes, "n_edges": self.n_edges,
                "edges_sha1": __import__("hashlib").sha1(self.edges.tobytes()).hexdigest()[:12]}

    def __repr__(self):
        return f"Graph(n_nodes={self.n_nodes}, n_edges={self.n_edges})"


def _count(value, name):
    """A node count: an integer (also a float with an integer value)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be an integer, got {value!r}") from None
    if n != value:
        raise ParameterError(f"{name} must be an integer, got {value!r}")
    return n
