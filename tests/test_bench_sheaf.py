"""``pdekit bench sheaf-diffusion``: problem construction, the matrix-free kernel against the
assembled operator on every code path, the agreement check, the memory cap and the JSON output.
No timing thresholds (the numbers are the benchmark's business)."""
import json

import numpy as np
import pytest

from pdekit.bench import BENCHMARKS
from pdekit.bench import sheaf_diffusion as sdb
from pdekit.sheaf import kernels as K
from pdekit.sheaf.graph import Graph
from pdekit.sheaf.sheaf import Sheaf


def test_registered():
    assert "sheaf-diffusion" in BENCHMARKS


def test_n_nodes_for():
    assert sdb.n_nodes_for(10_000) == 2000  # mean degree 10
    assert sdb.n_nodes_for(100, mean_degree=4) == 50
    assert sdb.n_nodes_for(10, mean_degree=100) == 5  # raised until 10 edges fit: 5 * 4 / 2 = 10
    with pytest.raises(ValueError):
        sdb.n_nodes_for(0)
    with pytest.raises(ValueError):
        sdb.n_nodes_for(10, mean_degree=0)


@pytest.mark.parametrize("E", [1, 57, 2000])
def test_random_graph_is_simple_with_exact_edge_count(E):
    g = sdb.random_graph(E, seed=3)
    e = g.edges
    assert g.n_edges == E and g.n_nodes == sdb.n_nodes_for(E)
    assert np.all(e[:, 0] < e[:, 1])  # no self-loops, stored u < v
    keys = e[:, 0] * g.n_nodes + e[:, 1]
    assert np.all(np.diff(keys) > 0)  # sorted and distinct
    again = sdb.random_graph(E, seed=3)
    assert np.array_equal(again.edges, e)  # reproducible


def test_random_graph_nearly_complete_and_too_many_edges():
    g = sdb.random_graph(44, n_nodes=10, seed=1)  # 45 possible pairs
    assert g.n_edges == 44
    with pytest.raises(ValueError, match="at most 45"):
        sdb.random_graph(46, n_nodes=10)


def test_mean_degree():
    g = sdb.random_graph(5000, seed=0)
    assert g.degrees.mean() == pytest.approx(10.0, rel=1e-12)


def test_random_sheaf_and_features():
    g = sdb.random_graph(300, seed=0)
    s = sdb.random_sheaf(g, 3, seed=5)
    assert s.d == 3 and s.maps.shape == (300, 2, 3, 3) and s.kind == "general"
    assert np.array_equal(s.maps, sdb.random_sheaf(g, 3, seed=5).maps)
    assert 0.2 < s.maps.var() * 3 < 5  # entries N(0, 1/d)
    X = sdb.features(g.n_nodes, 3, 7, seed=1)
    assert X.shape == (g.n_nodes, 3, 7) and X.flags.c_contiguous


def test_max_rel_diff():
    b = np.array([1.0, -4.0, 2.0])
    assert sdb.max_rel_diff(b, b) == 0.0
    assert sdb.max_rel_diff(b + [0, 0, 1e-3], b) == pytest.approx(2.5e-4)
    assert sdb.max_rel_diff(np.zeros(2), np.zeros(2)) == 0.0


def test_estimate_bytes_grows_and_the_cap_skips(capsys):
    small = sdb.estimate_bytes(10_000, 2000, 1, 1)
    big = sdb.estimate_bytes(1_000_000, 200_000, 4, 64)
    assert 0 < small < big
    assert big > 4 * 200_000 * 4 * 64 * 8  # at least the four feature arrays
    res = sdb.run(sizes=(200,), stalks=(1, 2), channels=(1, 4), repeats=1, threads=(1,),
                  max_gib=sdb.estimate_bytes(200, 40, 1, 4) / 2 ** 30 * 1.001, out=lambda *a: None)
    done = {(c["d"], c["f"]) for c in res["cases"]}
    skipped = {(s["d"], s["f"]) for s in res["skipped"]}
    assert done == {(1, 1), (1, 4)} and skipped == {(2, 1), (2, 4)}
    assert all("max-gib" in s["reason"] for s in res["skipped"])


# ---- the kernel against the assembled operator on every code path ----------------------------------------
# d = 1 (own loop, f = 1 and f > 1), f >= d (blocks formed on the fly), f < d (two maps in turn),
# d = 9 > MAX_SPECIALISED_D (generic loops), prefetch on and off.


def _isolated_graph():
    # 12 nodes, node 11 isolated; a few cycles
    e = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 3), (6, 7), (7, 8), (8, 9), (9, 6), (0, 9), (10, 4)]
    return Graph(12, e)


@pytest.mark.parametrize("d,f", [(1, 1), (1, 5), (2, 1), (2, 2), (2, 17), (3, 2), (4, 1), (4, 3), (4, 16),
                                 (9, 2), (9, 12)])
@pytest.mark.parametrize("normalised", [True, False])
def test_matrix_free_equals_assembled(d, f, normalised):
    g = sdb.random_graph(400, seed=d)
    s = sdb.random_sheaf(g, d, seed=f)
    X = sdb.features(g.n_nodes, d, f, seed=7)
    ref = (s.laplacian(normalised=normalised) @ X.reshape(-1, f)).reshape(X.shape)
    y = s.apply(X, normalised=normalised)
    assert sdb.max_rel_diff(y, ref) < 1e-12
    out = np.empty_like(X)
    assert s.apply(X, normalised=normalised, out=out) is out
    assert np.array_equal(out, y)


@pytest.mark.parametrize("prefetch", [0, 1, 8])
def test_prefetch_does_not_change_the_result(prefetch):
    g = sdb.random_graph(300, seed=1)
    s = sdb.random_sheaf(g, 2, seed=2)
    X = sdb.features(g.n_nodes, 2, 8)
    ref = s.apply(X)
    inc = s._incidence()
    Gi, C = s._apply_operands(True)
    out = np.empty_like(X)
    K.laplacian_apply(inc["ptr"], inc["other"], Gi, C, X, out, prefetch=prefetch)
    assert np.array_equal(out, ref)


@pytest.mark.parametrize("d,f", [(1, 1), (1, 8), (2, 1), (3, 5)])
def test_serial_and_parallel_paths_agree_exactly(monkeypatch, d, f):
    """Below SERIAL_BELOW the kernel runs on one thread; every node's sum is the same either way."""
    g = sdb.random_graph(2000, seed=4)
    s = sdb.random_sheaf(g, d, seed=1)
    X = sdb.features(g.n_nodes, d, f)
    monkeypatch.setattr(K, "SERIAL_BELOW", 0)
    par = s.apply(X)
    monkeypatch.setattr(K, "SERIAL_BELOW", 1 << 62)
    ser = s.apply(X)
    assert np.array_equal(par, ser)


def test_prefetch_distance():
    assert K.prefetch_distance(1, 1) == 0
    assert K.prefetch_distance(1, 16) == 8
    assert K.prefetch_distance(4, 64) == 2
    assert all(2 <= K.prefetch_distance(d, f) <= 8 for d in (1, 2, 4) for f in (2, 16, 64))


def test_chunk_bounds_cover_all_nodes():
    ptr = np.array([0, 10, 10, 11, 30, 31, 40], dtype=np.int64)
    for k in (1, 2, 3, 100):
        b = K.chunk_bounds(ptr, k)
        assert b[0] == 0 and b[-1] == 6 and np.all(np.diff(b) > 0)


@pytest.mark.parametrize("kind", ["diagonal", "isolated", "singular"])
def test_matrix_free_special_sheaves(kind):
    """Zero entries (diagonal maps), an isolated node (zero degree block) and maps that annihilate a
    direction (singular D_v: pseudo-inverse square root) still match the assembled operator."""
    rng = np.random.default_rng(0)
    g = _isolated_graph()
    d, f = 3, 4
    if kind == "diagonal":
        s = Sheaf.diagonal(g, rng.normal(size=(g.n_edges, 2, d)))
    else:
        maps = rng.normal(size=(g.n_edges, 2, d, d))
        if kind == "singular":
            maps[:, :, :, 0] = 0.0  # first stalk direction is killed everywhere
        s = Sheaf.general(g, maps)
    X = rng.normal(size=(g.n_nodes, d, f))
    for normalised in (True, False):
        ref = (s.laplacian(normalised=normalised) @ X.reshape(-1, f)).reshape(X.shape)
        assert sdb.max_rel_diff(s.apply(X, normalised=normalised), ref) < 1e-12
    assert np.all(s.apply(X)[11] == 0.0)  # the isolated node neither moves nor is driven


def test_apply_accepts_legacy_work_and_checks_out():
    g = sdb.random_graph(100, seed=0)
    s = sdb.random_sheaf(g, 2)
    X = sdb.features(g.n_nodes, 2, 3)
    work = (np.empty((g.n_edges, 2, 3)), np.empty_like(X))
    out = np.empty_like(X)
    assert np.array_equal(s.apply(X, out=out, work=work), s.apply(X))
    from pdekit.errors import ParameterError

    with pytest.raises(ParameterError, match="overlap"):
        s.apply(X, out=X)
    with pytest.raises(ParameterError, match="C-contiguous"):
        s.apply(X, out=np.empty((g.n_nodes, 3, 2)).transpose(0, 2, 1))


# ---- timing records and the driver --------------------------------------------------------------------


def test_build_operators_and_time_case():
    g = sdb.random_graph(500, seed=0)
    s = sdb.random_sheaf(g, 2)
    ops = sdb.build_operators(s)
    assert ops["bsr"].blocksize == (2, 2) and ops["csr"].format == "csr"
    assert ops["build_bsr_s"] > 0 and ops["build_csr_s"] > 0 and ops["setup_mf_s"] > 0
    assert ops["sheaf"] is not s and np.array_equal(ops["sheaf"].maps, s.maps) and not ops["sheaf"]._cache.get("L")
    X = sdb.features(g.n_nodes, 2, 4)
    rec = sdb.time_case(ops, X, repeats=2, threads=(None, 1, 1))
    import numba

    counts = rec["threads"]
    assert counts[0] == numba.get_num_threads() and counts[-1] == 1 and len(counts) == len(set(counts))
    assert set(rec["seconds"]) == {f"mf_{c}t" for c in counts} | {"bsr", "csr"}
    assert all(len(v) == 2 for v in rec["seconds_all"].values())
    assert rec["max_rel_diff_mf_vs_bsr"] < 1e-12 and rec["max_rel_diff_csr_vs_bsr"] < 1e-12
    with pytest.raises(ValueError):
        sdb.time_case(ops, X, repeats=0)


def test_agreement_check_catches_a_wrong_operator():
    g = sdb.random_graph(300, seed=0)
    s = sdb.random_sheaf(g, 2)
    ops = sdb.build_operators(s, csr=False)
    ops["bsr"] = (ops["bsr"] * 1.001).tobsr(blocksize=(2, 2))  # not the same operator any more
    rec = sdb.time_case(ops, sdb.features(g.n_nodes, 2, 3), repeats=1, threads=(1,), csr=False)
    assert rec["max_rel_diff_mf_vs_bsr"] > 1e-4 and "csr" not in rec["seconds"]


def test_summarise():
    def case(d, f, agree, diff, r2, r1):
        return {"E": 10, "d": d, "f": f, "agree": agree, "max_rel_diff_mf_vs_bsr": diff,
                "ratio_bsr_over_mf": {"2t": r2, "1t": r1}}

    cases = [case(1, 1, True, 1e-16, 0.5, 0.4), case(2, 16, True, 3e-15, 3.0, 2.0), case(4, 16, False, 1e-3, 5.0, 0.9)]
    s = sdb.summarise(cases)
    assert s["all_agree"] is False and s["max_rel_diff"] == 1e-3
    assert s["by_f"]["16"]["2t"] == {"min": 3.0, "median": 4.0, "max": 5.0, "count": 2}
    assert {(x["d"], x["f"], x["threads"]) for x in s["slower"]} == {(1, 1, "2t"), (1, 1, "1t"), (4, 16, "1t")}
    assert sdb.summarise([])["all_agree"] is None


def test_main_tiny_grid_writes_json(tmp_path, capsys):
    js = tmp_path / "sheaf.json"
    rc = sdb.main(["--sizes", "300", "--d", "1", "2", "--f", "1", "3", "--repeats", "2", "--threads", "1",
                   "--json", str(js)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "numba threads" in out and "BSR/mf 1t" in out and "note:" in out and "build BSR" in out
    data = json.loads(js.read_text())
    assert {"numpy", "scipy", "numba", "pdekit", "python"} <= set(data["versions"])
    assert data["machine"]["numba_threads"] >= 1 and data["repeats"] == 2
    assert [(c["d"], c["f"]) for c in data["cases"]] == [(1, 1), (1, 3), (2, 1), (2, 3)]
    for c in data["cases"]:
        assert c["E"] == 300 and c["n"] == sdb.n_nodes_for(300) and c["threads"] == [1]
        assert c["work"] == 300 * c["d"] ** 2 * c["f"]
        assert c["throughput"]["bsr"] == pytest.approx(c["work"] / c["seconds"]["bsr"])
        assert c["ratio_bsr_over_mf"]["1t"] == pytest.approx(c["seconds"]["bsr"] / c["seconds"]["mf_1t"])
        assert c["agree"] and c["max_rel_diff_mf_vs_bsr"] < 1e-12
    assert [b["d"] for b in data["builds"]] == [1, 2] and data["skipped"] == []
    assert data["summary"]["all_agree"] is True


def test_quick_path(monkeypatch, capsys):
    """``--quick`` picks the QUICK grid (run here at a tiny size to stay fast)."""
    seen = {}
    real_run = sdb.run

    def fake_run(sizes, stalks, channels, **kw):
        seen.update(sizes=sizes, stalks=stalks, channels=channels, **kw)
        return real_run((200,), (1,), (2,), repeats=1, threads=(1,), out=lambda *a: None)

    monkeypatch.setattr(sdb, "run", fake_run)
    assert BENCHMARKS["sheaf-diffusion"](["--quick", "--repeats", "1"]) == 0
    assert (seen["sizes"], seen["stalks"], seen["channels"]) == (sdb.QUICK["sizes"], sdb.QUICK["stalks"],
                                                                 sdb.QUICK["channels"])
    assert seen["threads"] == (None, 1)
    assert "summary" in capsys.readouterr().out


def test_bad_arguments():
    for argv in (["--repeats", "0"], ["--max-gib", "0"], ["--threads", "0"], ["--sizes", "0"]):
        with pytest.raises(SystemExit):
            sdb.main(argv)
