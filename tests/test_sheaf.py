"""Sheaf diffusion: graphs, sheaf constructors, operators (matrix-free vs assembled), heat flow
through the run loop, results that reload, and bad input."""
import json

import numpy as np
import pytest
import scipy.linalg as sl

import pdekit
from pdekit.errors import ParameterError
from pdekit.sheaf import Graph, Sheaf, SheafDiffusion, sheaf_from_result


def rot(a):
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


@pytest.fixture(scope="module")
def graph():
    g, labels = Graph.planted_partition([12, 14], 0.15, 0.5, seed=3)
    return g


# ---- graphs ---------------------------------------------------------------------------------------------
def test_graph_constructors_agree():
    edges = [(0, 1), (1, 2), (2, 0), (2, 3)]
    g = Graph.from_edges(edges)
    A = g.adjacency()
    assert Graph.from_adjacency(A).n_edges == 4
    assert Graph.from_adjacency(A.toarray()).laplacian().toarray().tolist() == g.laplacian().toarray().tolist()
    assert g.degrees.tolist() == [2, 2, 3, 1]
    assert g.n_components == 1 and g.cycle_basis_size() == 1
    r = Graph.ring(6)
    assert r.n_edges == 6 and np.all(r.degrees == 2)
    t = Graph.torus(3, 4)
    assert t.n_edges == 24 and np.all(t.degrees == 4)


def test_networkx_graph_is_accepted():
    nx = pytest.importorskip("networkx")
    g = Graph.from_networkx(nx.path_graph(["a", "b", "c"]))
    assert g.n_nodes == 3 and g.edges.tolist() == [[0, 1], [1, 2]]


@pytest.mark.parametrize("edges,n,match", [
    ([(0, 0), (0, 1)], 2, "self-loop"),
    ([(0, 1), (1, 0)], 2, "appears 2 times"),
    ([(0, 1), (1, 5)], 3, "outside 0..2"),
    ([(0, 1, 2)], 3, r"shape \(E, 2\)"),
    ([(0.5, 1)], 3, "integer"),
])
def test_bad_graphs_are_refused(edges, n, match):
    with pytest.raises(ParameterError, match=match):
        Graph(n, np.array(edges))


def test_empty_graph_is_refused_and_isolated_nodes_stay_put():
    with pytest.raises(ParameterError, match="empty graph"):
        Graph(0, [])
    g = Graph(4, [(0, 1), (1, 2)])  # node 3 is isolated
    S = Sheaf.trivial(g, 2)
    X = np.random.default_rng(0).normal(size=(4, 2, 3))
    out = S.apply(X)
    assert np.all(out[3] == 0) and np.all(np.isfinite(out))


# ---- sheaves and operators --------------------------------------------------------------------------------
def test_trivial_d1_is_the_graph_laplacian(graph):
    S = Sheaf.trivial(graph, 1)
    assert abs(S.laplacian(format="csr") - graph.laplacian()).max() == 0.0
    deg = graph.degrees.astype(float)
    Ln = np.diag(deg**-0.5) @ graph.laplacian().toarray() @ np.diag(deg**-0.5)
    np.testing.assert_allclose(S.normalised_laplacian().toarray(), Ln, atol=1e-14)


def test_trivial_d_is_kronecker_product(graph):
    S = Sheaf.trivial(graph, 3)
    np.testing.assert_allclose(S.laplacian().toarray(), np.kron(graph.laplacian().toarray(), np.eye(3)), atol=0)


def test_laplacian_blocks_match_the_definition(graph):
    rng = np.random.default_rng(5)
    d = 2
    S = Sheaf.general(graph, rng.normal(size=(graph.n_edges, 2, d, d)))
    L = S.laplacian().toarray()
    e = 7
    u, v = graph.edges[e]
    Fu, Fv = S.maps[e]
    np.testing.assert_allclose(L[u * d:(u + 1) * d, v * d:(v + 1) * d], -Fu.T @ Fv, atol=1e-13)
    Luu = sum(S.maps[k, side].T @ S.maps[k, side] for k in range(graph.n_edges) for side in (0, 1)
              if graph.edges[k, side] == u)
    np.testing.assert_allclose(L[u * d:(u + 1) * d, u * d:(u + 1) * d], Luu, atol=1e-12)
    delta = S.coboundary().toarray()
    np.testing.assert_allclose(L, delta.T @ delta, atol=1e-12)


@pytest.mark.parametrize("d,f", [(1, 1), (1, 16), (2, 3), (3, 8), (4, 1)])
@pytest.mark.parametrize("normalised", [False, True])
def test_matrix_free_apply_matches_block_sparse_operator(graph, d, f, normalised):
    rng = np.random.default_rng(d * 10 + f)
    S = Sheaf.general(graph, rng.normal(size=(graph.n_edges, 2, d, d)))
    X = rng.normal(size=(graph.n_nodes, d, f))
    ref = (S.laplacian(normalised=normalised) @ X.reshape(-1, f)).reshape(X.shape)
    np.testing.assert_allclose(S.apply(X, normalised=normalised), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert S.energy(X, normalised) == pytest.approx(float(np.sum(X.reshape(-1, f) * ref.reshape(-1, f))), rel=1e-12)


def test_normalised_laplacian_is_psd_with_spectrum_in_0_2(graph):
    rng = np.random.default_rng(2)
    S = Sheaf.general(graph, rng.normal(size=(graph.n_edges, 2, 2, 2)))
    lam = np.linalg.eigvalsh(S.normalised_laplacian().toarray())
    assert lam.min() >= -1e-12 and lam.max() <= 2 + 1e-12
    assert S.lambda_max() == pytest.approx(lam.max(), rel=1e-10)


def test_hierarchy_constructors(graph):
    E = graph.n_edges
    rng = np.random.default_rng(9)
    signs = rng.choice([-1.0, 1.0], E)
    S = Sheaf.signed(graph, signs)
    assert S.kind == "signed" and S.d == 1 and np.all(S.maps[:, 1, 0, 0] == signs)
    D = Sheaf.diagonal(graph, rng.normal(size=(E, 2, 3)))
    assert np.all(D.maps[:, :, 0, 1] == 0)
    O = Sheaf.orthogonal(graph, angles=rng.uniform(0, 2 * np.pi, (E, 2)))
    np.testing.assert_allclose(np.einsum("epji,epjk->epik", O.maps, O.maps), np.broadcast_to(np.eye(2), (E, 2, 2, 2)),
                               atol=1e-14)
    with pytest.raises(ParameterError, match="not orthogonal"):
        Sheaf.orthogonal(graph, maps=rng.normal(size=(E, 2, 2, 2)))


def test_connection_holonomy_decides_the_global_sections():
    ring = Graph.ring(9)
    phi = np.random.default_rng(1).uniform(0, 2 * np.pi, 9)  # a gauge: trivial holonomy
    u, v = ring.edges.T
    flat = Sheaf.from_connection(ring, np.stack([rot(phi[b] - phi[a]) for a, b in zip(u, v)]))
    assert flat.harmonic_basis().shape[1] == 2
    twisted = Sheaf.from_connection(ring, np.stack([rot(0.4)] * 9))  # holonomy R(3.6) has no fixed vector
    assert twisted.harmonic_basis().shape[1] == 0
    refl = np.stack([np.eye(2)] * 8 + [np.diag([1.0, -1.0])])  # holonomy a reflection: one fixed direction
    assert Sheaf.from_connection(ring, refl).harmonic_basis().shape[1] == 1
    two = Graph(6, [(0, 1), (1, 2), (3, 4), (4, 5)])  # two components: d per component
    assert Sheaf.trivial(two, 3).harmonic_basis().shape[1] == 6


def test_from_section_makes_the_field_a_global_section(graph):
    rng = np.random.default_rng(4)
    field = rng.normal(size=(graph.n_nodes, 3))
    S = Sheaf.from_section(graph, field)
    assert np.abs(S.coboundary() @ field.ravel()).max() <= 1e-12 * np.abs(field).max()
    H = S.harmonic_basis(normalised=False)
    x = field.ravel() / np.linalg.norm(field)
    assert np.linalg.norm(H @ (H.T @ x) - x) <= 1e-9


# ---- heat flow ----------------------------------------------------------------------------------------------
def test_exact_flow_is_the_heat_kernel_and_converges_to_the_projection(graph):
    S = Sheaf.orthogonal(graph, angles=np.zeros((graph.n_edges, 2)))  # identity maps as O(2)
    m = SheafDiffusion(S, channels=2)
    X0 = np.random.default_rng(0).normal(size=(graph.n_nodes, 2, 2))
    ds = pdekit.run(m, X0, t_end=2.0, dt=0.5, method="exact", snapshots=4, progress=False)
    ref = sl.expm(-2.0 * S.normalised_laplacian().toarray()) @ X0.reshape(-1, 2)
    np.testing.assert_allclose(ds.x.values[-1].reshape(-1, 2), ref, atol=1e-10)
    late = pdekit.run(m, X0, t_end=400.0, dt=100.0, method="exact", snapshots=1, progress=False).x.values[-1]
    np.testing.assert_allclose(late, S.project_harmonic(X0), atol=1e-8)


@pytest.mark.parametrize("method,order", [("euler", 1), ("backward-euler", 1), ("crank-nicolson", 2)])
def test_time_orders_against_exact_flow(graph, method, order):
    rng = np.random.default_rng(8)
    S = Sheaf.general(graph, rng.normal(size=(graph.n_edges, 2, 2, 2)))
    m = SheafDiffusion(S, channels=3)
    X0 = rng.normal(size=(graph.n_nodes, 2, 3))
    ref = pdekit.run(m, X0, t_end=0.5, dt=0.5, method="exact", progress=False).x.values[-1]
    errs = [np.abs(pdekit.run(m, X0, t_end=0.5, dt=dt, method=method, progress=False).x.values[-1] - ref).max()
            for dt in (0.01, 0.005)]
    assert np.log2(errs[0] / errs[1]) == pytest.approx(order, abs=0.15)


def test_energy_decreases_for_explicit_euler_at_the_bound(graph):
    rng = np.random.default_rng(1)
    S = Sheaf.general(graph, rng.normal(size=(graph.n_edges, 2, 2, 2)))
    m = SheafDiffusion(S, channels=2)
    tau = 2.0 / S.lambda_max()  # the largest step allowed: |1 - tau lambda| <= 1 for every mode
    ds = pdekit.run(m, rng.normal(size=(graph.n_nodes, 2, 2)), t_end=40 * tau, dt=tau, method="euler",
                    snapshots=40, progress=False)
    assert json.loads(ds.attrs["run"])["steps_per_snapshot"] == 1
    E = np.array([S.energy(x) for x in ds.x.values])
    assert np.all(np.diff(E) <= 1e-12 * E[0]) and E[-1] < 0.5 * E[0]
    # a step beyond the bound (where the top mode would grow) is refused
    with pytest.raises(ParameterError, match="stability bound"):
        pdekit.run(m, rng.normal(size=(graph.n_nodes, 2, 2)), t_end=4.5 * tau, dt=1.5 * tau, method="euler",
                   snapshots=1, progress=False)


def test_euler_without_dt_uses_the_default_cfl(graph):
    m = SheafDiffusion(Sheaf.trivial(graph, 1))
    ds = pdekit.run(m, np.ones((graph.n_nodes, 1, 1)), t_end=1.0, method="euler", progress=False)
    assert np.all(np.isfinite(ds.x.values))


def test_sheaf_owns_its_maps(graph):
    M = np.ones((graph.n_edges, 2, 1, 1))
    S = Sheaf.general(graph, M)
    L0 = S.laplacian().toarray()
    M[:] = 0.0  # the caller's array stays writable and changing it does not change the sheaf
    assert np.array_equal(S.laplacian().toarray(), L0) and np.all(S.maps == 1.0)


def test_adjacency_zeros_and_weights():
    import scipy.sparse as sp

    rows, cols = [0, 1, 1, 2, 0, 2], [1, 0, 2, 1, 2, 0]
    A = sp.csr_matrix(([1.0, 1.0, 1.0, 1.0, 0.0, 0.0], (rows, cols)), shape=(3, 3))  # (0, 2): stored zeros
    assert A.nnz == 6
    assert Graph.from_adjacency(A).n_edges == 2
    with pytest.raises(ParameterError, match="0/1"):
        Graph.from_adjacency(np.array([[0, 0.5], [0.5, 0]]))
    with pytest.raises(ParameterError, match="symmetric"):
        Graph.from_adjacency(np.array([[0, 1], [0, 0]]))
    with pytest.raises(ParameterError, match="self-loops"):
        Graph.from_adjacency(np.array([[1, 1], [1, 0]]))


def test_from_section_is_stable_for_nearly_parallel_neighbours():
    r = Graph.ring(50)
    X = np.array([1.0, 2.0, 3.0]) + 1e-10 * np.random.default_rng(0).normal(size=(50, 3))
    S = Sheaf.from_section(r, X)
    assert np.abs(S.coboundary() @ X.ravel()).max() <= 1e-13 * np.abs(X).max()


def test_harmonic_threshold_is_relative_to_the_spectrum(graph):
    rng = np.random.default_rng(3)
    S = Sheaf.general(graph, 1e-5 * rng.normal(size=(graph.n_edges, 2, 2, 2)))  # generic: no sections
    assert S.harmonic_basis(normalised=False).shape[1] == 0


def test_explicit_step_beyond_the_bound_is_refused(graph):
    S = Sheaf.trivial(graph, 1)
    m = SheafDiffusion(S)
    bound = 2.0 / S.lambda_max()
    with pytest.raises(ParameterError, match="stability bound"):
        pdekit.run(m, np.ones((graph.n_nodes, 1, 1)), t_end=11 * bound, dt=1.1 * bound, method="euler",
                   progress=False)
    with pytest.raises(ParameterError, match="exceeds"):
        pdekit.run(m, np.ones((graph.n_nodes, 1, 1)), t_end=1.0, cfl=1.5, method="euler", progress=False)


def test_results_store_the_sheaf_and_reload(graph, tmp_path):
    rng = np.random.default_rng(2)
    S = Sheaf.diagonal(graph, rng.normal(size=(graph.n_edges, 2, 2)))
    m = SheafDiffusion(S, channels=4)
    path = tmp_path / "sheaf.h5"
    pdekit.run(m, rng.normal(size=(graph.n_nodes, 2, 4)), t_end=1.0, dt=0.1, output=path, snapshots=2,
               progress=False)
    ds = pdekit.open_result(path)
    assert ds.x.dims == ("t", "node", "stalk", "channel") and ds.x.shape == (3, graph.n_nodes, 2, 4)
    again = sheaf_from_result(ds)
    assert np.array_equal(again.maps, S.maps) and np.array_equal(again.graph.edges, graph.edges)
    assert again.kind == "diagonal"
    x = ds.x.values
    np.testing.assert_allclose(again.apply(x[1]), S.apply(x[1]), atol=0)


def test_bad_sheaf_input_is_refused(graph):
    E = graph.n_edges
    with pytest.raises(ParameterError, match=r"shape \(E, 2, d, d\)"):
        Sheaf.general(graph, np.ones((E - 1, 2, 2, 2)))
    with pytest.raises(ParameterError, match=r"shape \(E, 2, d, d\)"):
        Sheaf.general(graph, np.ones((E, 2, 2, 3)))
    with pytest.raises(ParameterError, match="non-finite"):
        m = np.ones((E, 2, 2, 2))
        m[3, 1, 0, 0] = np.nan
        Sheaf.general(graph, m)
    with pytest.raises(ParameterError, match="positive integer"):
        Sheaf.trivial(graph, 0)
    with pytest.raises(ParameterError, match="positive integer"):
        Sheaf.trivial(graph, -2)
    with pytest.raises(ParameterError, match="d must be >= 1"):
        Sheaf.general(graph, np.ones((E, 2, 0, 0)))
    with pytest.raises(ParameterError, match=r"\+1 or -1"):
        Sheaf.signed(graph, np.full(E, 0.5))
    with pytest.raises(ParameterError, match="channels"):
        SheafDiffusion(Sheaf.trivial(graph), channels=0)
    m = SheafDiffusion(Sheaf.trivial(graph, 2), channels=3)
    with pytest.raises(ParameterError, match="shape"):
        pdekit.run(m, np.ones((graph.n_nodes, 3, 3)), t_end=1.0, dt=0.1, progress=False)
    with pytest.raises(ParameterError, match="not finite"):
        pdekit.run(m, np.full((graph.n_nodes, 2, 3), np.inf), t_end=1.0, dt=0.1, progress=False)
