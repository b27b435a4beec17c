"""``pdekit bench chromatography``: the quick run (no CADET) and its JSON, the note-based comparison, the
CADET runner's configuration (CHROM-GC-7 / research note section 3) built without CADET, time-to-error
interpolation and the "peer missing" path. No timing thresholds (the numbers are the benchmark's business)."""
import json
import math

import numpy as np
import pytest

from pdekit.bench import BENCHMARKS
from pdekit.bench import cadet_runner as cr
from pdekit.bench import chromatography as cb


def test_registered():
    assert "chromatography" in BENCHMARKS


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    path = tmp_path_factory.mktemp("chrom") / "quick.json"
    assert cb.main(["--quick", "--json", str(path)]) == 0
    return json.loads(path.read_text())


def test_quick_json_structure(quick):
    assert quick["quick"] is True and quick["cadet"]["available"] is False
    assert [c["case"] for c in quick["cases"]] == list(cb.CASES)
    assert [s["case"] for s in quick["summary"]] == list(cb.CASES)
    for key in ("versions", "machine", "wall_seconds", "aim_ratio", "repeats", "lang2_reference"):
        assert key in quick
    for case in quick["cases"]:
        m = len(cb.CASES[case["case"]]["c0"])
        assert case["pdekit"]["warmup_seconds"] >= 0
        for p in case["pdekit"]["sweep"]:
            assert len(p["error"]) == m and all(np.isfinite(p["error"]))
            assert p["seconds"] > 0 and len(p["seconds_all"]) == quick["repeats"]
            assert p["c_min"] >= 0.0  # positivity of both pdekit paths
        for key in ("cadet_wall_over_pdekit", "cadet_wall_over_pdekit_interpolated", "aim_met"):
            assert key in case["ratio"]
        assert "frontier" in case["time_to_error"]


def test_quick_errors_decrease_with_cells(quick):
    for case in quick["cases"]:
        rows = {}
        for p in case["pdekit"]["sweep"]:
            rows.setdefault(p["config"].get("dt_factor"), []).append(p)
        for row in rows.values():
            cells = [p["config"]["cells"] for p in row]
            assert cells == sorted(cells)
            errs = [max(p["error"]) for p in row]
            assert all(b < a for a, b in zip(errs, errs[1:])), (case["case"], errs)


def test_quick_uses_the_research_note_as_the_comparison(quick):
    for case in quick["cases"]:
        name = case["case"]
        cad = case["cadet"]
        assert cad["source"] == "research note" and cad["label"] == cb.NOTE_LABEL
        assert [r["cells"] for r in cad["runs"]] == [100, 400, 1600]
        wall, err = cb.NOTE_CADET[name][1600]
        assert case["target"] == err
        assert cad["runs"][-1]["seconds"]["wall"] == wall
    lin_kin = next(c for c in quick["cases"] if c["case"] == "LIN-KIN")
    assert lin_kin["target"] == [4.4e-5]
    lang2 = next(c for c in quick["cases"] if c["case"] == "LANG-2")
    assert lang2["target"] == [4.4e-4, 3.6e-4]


def test_quick_linear_errors_against_the_exact_solution(quick):
    """The implicit path's errors are those of the column tests (exact V1 reference): LIN-KIN at 400 cells
    with dt = 4 default_dt (1.0 s) is ~1.4e-4."""
    lin_kin = next(c for c in quick["cases"] if c["case"] == "LIN-KIN")
    p400 = next(p for p in lin_kin["pdekit"]["sweep"] if p["config"]["cells"] == 400)
    assert p400["config"]["dt"] == pytest.approx(1.0)
    assert 5e-5 < p400["error"][0] < 5e-4


def test_cadet_config_lin_kin_mapping():
    """CHROM-GC-7 / section 3: LRM without pores, TOTAL_POROSITY, VELOCITY, COL_DISPERSION, LIN_KA, LIN_KD,
    IS_KINETIC, NCOL and WENO order 3; inlet as two piecewise-cubic sections; outlet grid."""
    spec = cb.cadet_spec("LIN-KIN", 1600)
    cfg = cr.build_config(spec)
    model = cfg["input"]["model"]
    col = model["unit_001"]
    assert col["unit_type"] == "LUMPED_RATE_MODEL_WITHOUT_PORES"
    assert col["total_porosity"] == 0.4 and col["velocity"] == 1e-3 and col["col_dispersion"] == 5e-8
    assert col["col_length"] == 0.1 and col["ncomp"] == 1 and col["nbound"] == [1]
    assert col["adsorption_model"] == "LINEAR"
    assert col["adsorption"] == {"is_kinetic": 1, "lin_ka": [2.0], "lin_kd": [1.0]}
    disc = col["discretization"]
    assert disc["spatial_method"] == "FV" and disc["ncol"] == 1600 and disc["use_analytic_jacobian"] == 1
    assert disc["weno"] == {"boundary_model": 0, "weno_eps": 1e-10, "weno_order": 3}
    inlet = model["unit_000"]
    assert inlet["unit_type"] == "INLET" and inlet["inlet_type"] == "PIECEWISE_CUBIC_POLY"
    assert inlet["sec_000"]["const_coeff"] == [1.0] and inlet["sec_001"]["const_coeff"] == [0.0]
    assert model["unit_002"]["unit_type"] == "OUTLET"
    conn = model["connections"]["switch_000"]["connections"]
    assert len(conn) == 10 and conn[:2] == [0, 1] and conn[5:7] == [1, 2]
    solver = cfg["input"]["solver"]
    assert solver["sections"]["section_times"] == [0.0, 10.0, 1000.0]
    ti = solver["time_integrator"]
    assert ti["abstol"] == 1e-10 and ti["reltol"] == 1e-8
    assert solver["nthreads"] == 1
    np.testing.assert_allclose(solver["user_solution_times"], cb.output_times("LIN-KIN"), rtol=0, atol=1e-9)
    assert cfg["input"]["return"]["unit_001"]["write_solution_outlet"] == 1


def test_cadet_config_gc_oxy_and_langmuir():
    gc = cr.build_config(cb.cadet_spec("GC-OXY", 400))["input"]["model"]["unit_001"]
    alpha = 2e-6 / 9e-5
    F = (1 - gc["total_porosity"]) / gc["total_porosity"]
    assert F == pytest.approx(alpha, rel=1e-12)  # eps_t = 1 / (1 + alpha)
    assert gc["adsorption"]["lin_ka"] == [1.0168e4] and gc["adsorption"]["lin_kd"] == [14.291]
    assert gc["velocity"] == 0.41 and gc["col_dispersion"] == 2.061e-6
    cfg = cr.build_config(cb.cadet_spec("LANG-2", 100))
    col = cfg["input"]["model"]["unit_001"]
    assert col["adsorption_model"] == "MULTI_COMPONENT_LANGMUIR" and col["ncomp"] == 2
    assert col["adsorption"] == {"is_kinetic": 0, "mcl_ka": [0.02, 0.03], "mcl_kd": [1.0, 1.0],
                                 "mcl_qmax": [100.0, 100.0]}
    assert 0.6 / col["velocity"] == pytest.approx(190.0, rel=1e-4)
    assert cfg["input"]["model"]["unit_000"]["sec_000"]["const_coeff"] == [10.0, 10.0]
    assert cfg["input"]["solver"]["time_integrator"]["abstol"] == 1e-8
    dg = cr.build_config(cb.cadet_spec("LANG-2", 256, method="DG", polydeg=4))["input"]["model"]["unit_001"]
    assert dg["discretization"]["spatial_method"] == "DG"
    assert dg["discretization"]["nelem"] == 256 and dg["discretization"]["polydeg"] == 4
    w5 = cr.build_config(cb.cadet_spec("LIN-EQ", 100, method="FV-WENO5"))["input"]["model"]["unit_001"]
    assert w5["discretization"]["weno"]["weno_order"] == 5 and w5["adsorption"]["is_kinetic"] == 0


def test_cadet_config_rejects_bad_specs():
    with pytest.raises(ValueError, match="method"):
        cr.build_config(cb.cadet_spec("LIN-EQ", 100, method="FV-WENO7"))
    spec = cb.cadet_spec("LIN-EQ", 100)
    del spec["velocity"]
    with pytest.raises(ValueError, match="velocity"):
        cr.build_config(spec)
    with pytest.raises(ValueError, match="multiple"):
        cr.output_times(10.0, 0.3)


def test_runner_reports_failure_as_json(tmp_path, capsys):
    """Without a usable CADET the runner prints ``{"ok": false, "error": ...}`` and exits 1 (never a
    traceback the benchmark could not read)."""
    req = tmp_path / "req.json"
    req.write_text(json.dumps({"probe": True, "install_path": str(tmp_path / "no-cadet-here")}))
    assert cr.main([str(req)]) == 1
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["ok"] is False and out["error"]


def test_time_to_error_measured_and_interpolated():
    def pt(n, s, e):
        return {"config": {"cells": n}, "seconds": s, "error": [e]}

    pts = [pt(100, 0.1, 1e-2), pt(200, 0.2, 1e-3), pt(400, 0.4, 1e-4), pt(300, 0.5, 5e-3)]
    r = cb.time_to_error(pts, [1e-4])
    assert r["reached"] and r["measured"]["config"]["cells"] == 400 and r["measured"]["seconds"] == 0.4
    assert r["interpolated"] == pytest.approx(0.4)
    # the slower, worse point (300 cells) is not on the frontier
    assert [p["config"]["cells"] for p in r["frontier"]] == [100, 200, 400]
    r = cb.time_to_error(pts, [math.sqrt(1e-3 * 1e-4)])  # half-way in log between 200 and 400
    assert r["measured"]["config"]["cells"] == 400
    assert r["interpolated"] == pytest.approx(math.sqrt(0.2 * 0.4))
    r = cb.time_to_error(pts, [1.0])
    assert r["interpolated"] == 0.1 and "upper bound" in r["interpolation"]
    r = cb.time_to_error(pts, [1e-5])
    assert not r["reached"] and r["measured"] is None and r["extrapolated"] > 0.4
    # several components: every one must reach its own target
    two = [{"config": {"cells": 1}, "seconds": 1.0, "error": [1e-4, 3e-4]},
           {"config": {"cells": 2}, "seconds": 2.0, "error": [2e-4, 1e-4]}]
    assert cb.time_to_error(two, [2e-4, 2e-4])["measured"]["config"]["cells"] == 2


def test_missing_cadet_is_reported_with_install_commands(tmp_path, capsys):
    path = tmp_path / "r.json"
    assert cb.main(["--quick", "--cases", "LIN-EQ", "--cadet-python", str(tmp_path / "nope" / "python"),
                    "--json", str(path)]) == 0
    text = capsys.readouterr().out
    assert "CADET-Core: not available" in text and "pip install cadet-core==5.1.1 cadet-python==1.3.0" in text
    assert cb.NOTE_LABEL in text
    rec = json.loads(path.read_text())
    assert rec["cadet"]["available"] is False and "no such file" in rec["cadet"]["reason"]
    assert [c["case"] for c in rec["cases"]] == ["LIN-EQ"] and rec["cases"][0]["pdekit"]["sweep"]


def test_find_cadet_python_order(tmp_path, monkeypatch):
    exe = tmp_path / "python"
    exe.write_text("")
    monkeypatch.setenv("PDEKIT_CADET_PYTHON", str(exe))
    assert cb.find_cadet_python(None)[:2] == (exe, "PDEKIT_CADET_PYTHON")
    p, src, why = cb.find_cadet_python(str(tmp_path / "missing"))
    assert p is None and src == "--cadet-python" and "no such file" in why


def test_case_specs_agree_between_codes():
    for name in cb.CASES:
        spec = cb.cadet_spec(name, 100)
        col = cb.make_column(name, 100)
        assert (1 - spec["porosity"]) / spec["porosity"] == pytest.approx(col.F, rel=1e-14)
        assert col.u[0] == spec["velocity"] and np.all(col.D == spec["dispersion"])
        t = cb.output_times(name)
        assert t[0] == 0.0 and t[-1] == pytest.approx(spec["t_end"])
        assert len(t) == len(cr.output_times(spec["t_end"], spec["dt_out"]))
    with pytest.raises(ValueError, match="unknown case"):
        cb.cadet_spec("LIN-XX", 100)
