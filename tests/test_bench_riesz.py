"""``pdekit bench riesz-fractional``: the quick run and its JSON, agreement of the fast (GMRES) and
dense (LU) paths, the exponent fit, the crossover interpolation and argument checks.
No timing thresholds (the numbers are the benchmark's business)."""
import json
import math

import numpy as np
import pytest

from pdekit.bench import BENCHMARKS
from pdekit.bench import riesz_fractional as rzb


def test_registered():
    assert "riesz-fractional" in BENCHMARKS


def test_exact_solution_and_sizes():
    x = np.linspace(0.0, 1.0, 11)
    assert np.array_equal(rzb.exact_solution(x), x ** 4 * (1 - x) ** 4)
    assert np.allclose(np.polynomial.polynomial.polyval(x, rzb.EXACT), rzb.exact_solution(x), rtol=0, atol=1e-15)
    assert rzb.sizes(16, 128) == [16, 32, 64, 128]
    assert rzb.sizes(256, 256) == [256]
    for lo, hi in ((16, 100), (3, 16), (64, 32)):
        with pytest.raises(ValueError):
            rzb.sizes(lo, hi)


def test_fit_exponent_recovers_a_power_law():
    N = [2.0 ** k for k in range(8, 17)]
    fit = rzb.fit_exponent(N, [3e-7 * v ** 1.5 for v in N])
    assert fit["exponent"] == pytest.approx(1.5, abs=1e-12)
    assert fit["points"] == 5 and fit["N_range"] == [2.0 ** 12, 2.0 ** 16]  # upper half of 9 sizes
    # missing sizes (paths not run there) are skipped; fewer than two points: no fit
    assert rzb.fit_exponent([1.0, 2.0, 4.0], [None, 1.0, 8.0])["exponent"] == pytest.approx(3.0)
    assert rzb.fit_exponent([1.0, 2.0], [None, 1.0]) is None


def test_crossover_interpolation_and_edge_cases():
    ns = [16, 32, 64, 128]
    Ns = [n + 1 for n in ns]
    fast = [1.0, 1.0, 1.0, 1.0]
    # ratio slow/fast: 0.5, 0.5, 0.5, 2 -> crosses 1 half-way (in log) between 64 and 128
    c = rzb.crossover(ns, Ns, [0.5, 0.5, 0.5, 2.0], fast)
    assert c["status"] == "within" and c["n"] == pytest.approx(math.sqrt(64 * 128))
    assert c["N"] == pytest.approx(c["n"] + 1)
    below = rzb.crossover(ns, Ns, [2.0] * 4, fast)
    assert below["status"] == "below" and below["text"].startswith("< 2^4")
    assert rzb.crossover(ns, Ns, [0.5] * 4, fast)["status"] == "above"
    # not measured everywhere: only the common sizes count
    c = rzb.crossover(ns, Ns, [0.5, 4.0, None, None], fast)
    assert c["status"] == "within" and 16 < c["n"] < 32
    assert rzb.crossover(ns, Ns, [None] * 4, fast)["status"] == "none"


def test_one_size_each_path_agrees():
    """The three paths on one small problem: same solution, exact-solution error of the scheme."""
    n = 64
    R = rzb.problem(3, n, 1.5)
    b = rzb.right_hand_side(R)
    f = rzb.time_fast(3, n, 1.5, b)
    d = rzb.time_dense(3, n, 1.5, b)
    r = rzb.time_reference(3, n, 1.5, b)
    assert f["R"] is not R and f["R"].size == n + 1  # a fresh problem each time, N = n + p - 2
    assert f["iterations"] <= 12 and f["converged"] and f["residual"] <= 1e-10
    assert np.max(np.abs(r["A"] - d["A"])) <= 1e-12 * np.max(np.abs(d["A"]))
    for other in (d, r):
        assert rzb._rel_diff_u(R, f["c"], other["c"]) <= 1e-8
    e = rzb.relative_error(R, f["c"])
    assert 1e-6 < e < 1e-3  # second-and-a-half order: 6.7e-5 at n = 64 (p = 3, alpha = 1.5)
    assert abs(rzb.relative_error(R, d["c"]) - e) <= 1e-8
    assert f["total"] == pytest.approx(f["operator"] + f["solve"])


def test_blas_threads_context():
    with rzb.blas_threads(1) as info:
        assert info["requested"] == 1
        for lib in info["libraries"]:
            assert lib["threads"] == 1
    with rzb.blas_threads(0) as info:
        assert info["method"] == "unchanged"


def test_main_quick_writes_json(tmp_path, capsys):
    js = tmp_path / "riesz.json"
    png = tmp_path / "riesz.png"
    rc = BENCHMARKS["riesz-fractional"](["--quick", "--json", str(js), "--plot", str(png)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "fitted cost exponents" in out and "crossover" in out and "agreement" in out
    assert png.stat().st_size > 0
    data = json.loads(js.read_text())
    assert data["quick"] is True and data["repeats"] == 1 and data["degree"] == 3 and data["alpha"] == 1.5
    assert {"numpy", "scipy", "pdekit", "python"} <= set(data["versions"])
    assert data["blas"]["requested"] == 1
    rows = data["rows"]
    assert [r["n"] for r in rows] == [16, 32, 64, 128]
    errors = []
    for r in rows:
        assert r["N"] == r["n"] + 1
        fast = r["fast"]
        assert set(fast["seconds"]) == {"operator", "tau", "solve", "total"}
        assert len(fast["seconds_all"]["total"]) == 1
        assert fast["iterations"] <= 12 and fast["converged"] and fast["residual"] <= 1e-10
        # every size of the quick run has the dense path; the reference up to n = 64
        assert set(r["dense"]["seconds"]) == {"operator", "todense", "assembly", "lu", "total"}
        assert (r["reference"] is not None) == (r["n"] <= 64)
        # the two paths solve the same system: solutions agree far below the discretisation error
        agree = r["agreement"]
        assert agree["agree"] and agree["u_fast_vs_dense"] <= 1e-8
        assert abs(fast["error"] - r["dense"]["error"]) <= 1e-8
        assert r["ratio"]["dense_over_fast"] == pytest.approx(r["dense"]["seconds"]["total"] / fast["seconds"]["total"])
        assert r["ratio"]["lu_over_gmres"] == pytest.approx(r["dense"]["seconds"]["lu"] / fast["seconds"]["solve"])
        if r["reference"] is not None:
            assert agree["matrix_reference_vs_dense"] <= 1e-12 and agree["u_reference_vs_dense"] <= 1e-8
            assert abs(r["reference"]["error"] - r["dense"]["error"]) <= 1e-8
        errors.append(fast["error"])
    # the scheme converges: order p + 1 - alpha = 2.5 for odd p (observed within +-0.15 at the finest pair)
    order = math.log2(errors[-2] / errors[-1])
    assert order == pytest.approx(2.5, abs=0.15)
    assert set(data["exponents"]) >= {"fast_total", "fast_solve", "dense_lu", "dense_assembly", "reference_assembly"}
    assert data["exponents"]["fast_total"]["points"] == 2
    assert set(data["crossover"]) == {"total_vs_dense", "total_vs_reference", "solve_only"}
    for c in data["crossover"].values():
        assert c["status"] in {"below", "within", "above"} and c["text"]
    assert data["all_agree"] is True and data["wall_seconds"] > 0


def test_bad_arguments():
    for argv in (["--repeats", "0"], ["--alpha", "2"], ["--alpha", "1"], ["--degree", "1"], ["--max-n", "100"],
                 ["--min-n", "64", "--max-n", "32"], ["--blas-threads", "-1"]):
        with pytest.raises(SystemExit):
            rzb.main(argv)
