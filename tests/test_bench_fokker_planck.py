"""``pdekit bench fokker-planck``: problem set-up, error metric, equal-error search, the missing-peer
path and the JSON output. No timing thresholds (the numbers are the benchmark's business)."""
import json
import math
import types

import numpy as np
import pytest

from pdekit.bench import BENCHMARKS
from pdekit.bench import fokker_planck as fpb


@pytest.fixture
def no_fplanck(monkeypatch):
    """Make fplanck look absent even where it is installed."""
    monkeypatch.setattr(fpb, "_import_fplanck", lambda: None)
    monkeypatch.setattr(fpb, "fplanck_version", lambda: None)


def test_registered():
    assert "fokker-planck" in BENCHMARKS


def test_drift_matrices():
    assert np.array_equal(fpb.drift_matrix("FP-OU1"), [[1.0]])
    K = fpb.drift_matrix("FP-OU2a")
    assert np.allclose(K, K.T)
    assert np.allclose(np.linalg.eigvalsh(K), [1.0, 4.0])
    # principal axis of the eigenvalue 1 is at 30 degrees
    v = np.array([math.cos(math.pi / 6), math.sin(math.pi / 6)])
    assert np.allclose(K @ v, v)
    with pytest.raises(ValueError, match="unknown case"):
        fpb.drift_matrix("nope")


def test_ou1_exact_matches_closed_form():
    x = np.linspace(-6, 6, 41)
    for t in (0.0, 0.3, 1.0):
        m = 1.5 * math.exp(-t)
        s2 = 0.09 * math.exp(-2 * t) + (1 - math.exp(-2 * t))
        ref = np.exp(-(x - m) ** 2 / (2 * s2)) / math.sqrt(2 * math.pi * s2)
        assert np.allclose(fpb.exact_density("FP-OU1", [x], t), ref, rtol=1e-10, atol=0)


def test_ou2_moments():
    K = fpb.drift_matrix("FP-OU2a")
    m0, S0 = fpb.ou_moments("FP-OU2a", 0.0)
    assert np.allclose(m0, [1.5, -1.0]) and np.allclose(S0, 0.09 * np.eye(2))
    m, S = fpb.ou_moments("FP-OU2a", 50.0)  # stationary N(0, D K^-1) (gradient drift)
    assert np.allclose(m, 0, atol=1e-12) and np.allclose(S, np.linalg.inv(K))
    # d S/dt = -K S - S K^T + 2 D I
    t, e = 0.7, 1e-6
    dS = (fpb.ou_moments("FP-OU2a", t + e)[1] - fpb.ou_moments("FP-OU2a", t - e)[1]) / (2 * e)
    S = fpb.ou_moments("FP-OU2a", t)[1]
    assert np.allclose(dS, -K @ S - S @ K.T + 2 * np.eye(2), atol=1e-7)


def test_exact_density_normalised_on_the_grid():
    for case, n in (("FP-OU1", 200), ("FP-OU2a", 120)):
        p = fpb._exact_on_grid(case, n, 1.0)
        assert p.shape == (n,) * fpb.CASES[case]["ndim"]
        assert abs(p.sum() * fpb._cell_volume(case, n) - 1.0) < 1e-7  # tails beyond [-6, 6]: 3e-9
    with pytest.raises(ValueError, match="coordinate"):
        fpb.exact_density("FP-OU2a", [np.zeros(3)], 0.0)


def test_cell_centres_are_fplanck_nodes():
    # fplanck: nodes arange(ceil(extent / h)) * h shifted to mean 0, h = 12 / n
    for n in (50, 200, 256):
        h = 12.0 / n
        count = int(np.ceil(np.atleast_1d(12.0) / h)[0])
        nodes = np.arange(count) * h
        nodes -= np.average(nodes)
        assert count == n
        assert np.allclose(fpb.cell_centres("FP-OU1", n), nodes, rtol=0, atol=1e-13)
    x = fpb.cell_centres("FP-OU1", 200)
    assert x[0] == pytest.approx(-5.97) and x[-1] == pytest.approx(5.97)


def test_l1_error():
    u = np.array([1.0, 2.0, 3.0])
    p = np.array([1.5, 2.0, 1.0])
    assert fpb.l1_error(u, p, 0.5) == pytest.approx(1.25)
    assert fpb.l1_error(u, p, np.array([1.0, 1.0, 2.0])) == pytest.approx(4.5)
    with pytest.raises(ValueError, match="shape"):
        fpb.l1_error(u, p[:2], 1.0)


def test_pdekit_whole_run_error_is_second_order():
    l1 = {}
    for n in (40, 80):
        sec, u = fpb.pdekit_whole_run("FP-OU1", n, "exact")
        assert sec > 0 and u.shape == (n,)
        l1[n] = fpb.l1_error(u, fpb._exact_on_grid("FP-OU1", n, 1.0), fpb._cell_volume("FP-OU1", n))
    assert 3.5 < l1[40] / l1[80] < 4.5


def test_pdekit_timed_record():
    r = fpb.pdekit_timed("FP-OU2a", 20, "adi", 0.05, repeats=2)
    assert r["peer"] == "pdekit" and r["method"] == "adi" and r["n"] == 20
    assert r["steps"] == 20 and r["dt"] == 0.05 and len(r["seconds_all"]) == 2
    assert r["cell_updates_per_s"] == pytest.approx(20 * 20 * 20 / r["seconds"])
    r1 = fpb.pdekit_timed("FP-OU1", 30, "exact", None, repeats=1)
    assert r1["steps"] == 1 and r1["dt"] == 1.0
    assert r1["cell_updates_per_s"] == pytest.approx(30 / r1["seconds"])  # n cells in 1D, not n^2
    assert 0 < r1["l1"] < 0.1


def test_smallest_n():
    calls = []

    def l1_at(n):
        calls.append(n)
        return 1.0 / n ** 2

    # target between n=230 and 240: prediction 200*sqrt(1.3) = 228 -> 230 fails, walk up to 240
    n, tried = fpb.smallest_n(l1_at, 1.0 / 235 ** 2, 200, 1.0 / 200 ** 2, step=10)
    assert n == 240 and set(tried) == {200, 230, 240}
    # prediction too high (error falls faster than 2nd order): walk down
    n, tried = fpb.smallest_n(lambda m: 1.0 / m ** 3, 1.0 / 215 ** 3, 200, 1.0 / 200 ** 3, step=10)
    assert n == 220 and 210 in tried
    # already good enough: no evaluation
    calls.clear()
    n, tried = fpb.smallest_n(l1_at, 1.0, 200, 1e-3)
    assert n == 200 and calls == []
    # unreachable
    n, tried = fpb.smallest_n(lambda m: 1.0, 0.5, 20, 1.0, step=10, n_max=60)
    assert n is None and max(tried) <= 60


def test_numpy_product_shim():
    fake = types.SimpleNamespace(prod=np.prod)
    assert fpb._ensure_numpy_product(fake) is True
    assert fake.product is np.prod
    assert fpb._ensure_numpy_product(fake) is False


def test_fplanck_missing(no_fplanck):
    assert fpb.fplanck_timed("FP-OU1", 20, 1) is None
    assert fpb.fplanck_fresh("FP-OU1", 20) is None


def _fake_fplanck(fail=False):
    """A stand-in with fplanck 0.2.2's grid and call signature whose propagation is the identity."""
    mod = types.ModuleType("fplanck")
    mod.boundary = types.SimpleNamespace(reflecting="reflecting", periodic="periodic")

    class fokker_planck:
        def __init__(self, *, temperature, drag, extent, resolution, potential=None, force=None,
                     boundary="reflecting"):
            if fail:
                raise AttributeError("module 'numpy' has no attribute 'product'")
            self.extent = np.atleast_1d(extent)
            self.Ngrid = np.ceil(self.extent / resolution).astype(int)
            axes = [np.arange(k) * resolution for k in self.Ngrid]
            for ax in axes:
                ax -= np.average(ax)
            self.axes = axes
            self.grid = np.array(np.meshgrid(*axes, indexing="ij"))
            self.force = force

        def propagate(self, initial, time, normalize=True, dense=False):
            np.atleast_2d(self.force(*self.grid))
            return initial(*self.grid)

    mod.fokker_planck = fokker_planck
    return mod


def test_fplanck_wrapper_with_a_stand_in(monkeypatch):
    monkeypatch.setattr(fpb, "_import_fplanck", lambda: _fake_fplanck())
    for case, n in (("FP-OU1", 30), ("FP-OU2a", 24)):
        r = fpb.fplanck_timed(case, n, repeats=2)
        assert r["peer"] == "fplanck" and r["n"] == n and len(r["seconds_all"]) == 2
        assert r["seconds"] == pytest.approx(np.median([b + p for b, p in zip(r["build_seconds_all"],
                                                                              r["propagate_seconds_all"])]))
        assert r["max_node_offset"] < 1e-12
        # identity propagation: the error is |p(., 0) - p(., T)|
        p0 = fpb._exact_on_grid(case, n, 0.0)
        p1 = fpb._exact_on_grid(case, n, 1.0)
        assert r["l1"] == pytest.approx(fpb.l1_error(p0, p1, fpb._cell_volume(case, n)))


def test_fplanck_failure_is_reported_not_raised(monkeypatch):
    monkeypatch.setattr(fpb, "_import_fplanck", lambda: _fake_fplanck(fail=True))
    r = fpb.fplanck_timed("FP-OU1", 20, 1)
    assert "error" in r and "product" in r["error"] and "seconds" not in r
    with pytest.raises(AttributeError):
        fpb.fplanck_timed("FP-OU1", 20, 1, raise_errors=True)


def test_ratios():
    fp = {"seconds": 6.0}
    pk = {"seconds": 2.0}
    r = fpb._ratios(fp, {"seconds": 5.0, "import_seconds": 1.0}, pk, {"seconds": 1.0, "import_seconds": 2.0})
    assert r == {"in_process": 3.0, "fresh": 5.0, "fresh_with_import": 2.0}
    r = fpb._ratios(None, None, pk, None)
    assert r == {"in_process": None, "fresh": None, "fresh_with_import": None}
    assert fpb._ratios({"error": "x"}, None, pk, {"error": "y"})["in_process"] is None


def test_main_quick_without_peer_writes_json(tmp_path, capsys, no_fplanck):
    js = tmp_path / "fp.json"
    assert fpb.main(["--quick", "--no-fresh", "--repeats", "1", "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "fplanck not installed" in out
    assert out.count("not installed (pip install fplanck") == 2
    assert "equal-error comparison: skipped" in out
    data = json.loads(js.read_text())
    assert data["peers"] == {"fplanck": None}
    assert {"numpy", "scipy", "numba", "pdekit"} <= set(data["versions"])
    assert [c["case"] for c in data["cases"]] == ["FP-OU1", "FP-OU2a"]
    for c in data["cases"]:
        assert c["fplanck"] is None and c["equal_error"] == []
        methods = [r["method"] for r in c["same_grid"]]
        assert "exact" in methods
        assert ("crank-nicolson" if c["ndim"] == 1 else "adi") in methods
        for r in c["same_grid"]:
            assert r["pdekit"]["n"] == c["n"] == fpb.CASES[c["case"]]["quick_n"]
            assert r["pdekit"]["l1"] > 0 and r["pdekit_fresh"] is None
            assert r["ratio_fplanck_over_pdekit"]["in_process"] is None


def test_main_equal_error_with_stand_in(tmp_path, capsys, monkeypatch):
    """With a (fake, error-free-ish) peer the equal-error search runs and its rows land in the JSON."""
    monkeypatch.setattr(fpb, "_import_fplanck", lambda: _fake_fplanck())
    monkeypatch.setattr(fpb, "fplanck_version", lambda: "fake")
    js = tmp_path / "fp.json"
    assert fpb.main(["--quick", "--no-fresh", "--repeats", "1", "--case", "FP-OU1", "--json", str(js)]) == 0
    data = json.loads(js.read_text())
    (c,) = data["cases"]
    assert c["fplanck"]["l1"] > 0
    for rec in c["equal_error"]:
        # identity "propagation" has a huge error: the base grid already matches it
        assert rec["n"] == c["n"] and rec["l1_at_most_fplanck"] is True
        assert rec["ratio_fplanck_over_pdekit"]["in_process"] > 0


def test_fresh_process_run():
    r = fpb.pdekit_fresh("FP-OU1", 20, "crank-nicolson", 0.1)
    assert "error" not in r, r
    assert r["seconds"] > 0 and r["import_seconds"] > 0 and 0 < r["l1"] < 0.5


def test_cli_entry(capsys, no_fplanck):
    assert BENCHMARKS["fokker-planck"](["--quick", "--no-fresh", "--repeats", "1", "--case", "FP-OU1"]) == 0
    assert "FP-OU1" in capsys.readouterr().out
