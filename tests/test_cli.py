"""Command line: cases, run, validate (JSON and exit-code contract), bench."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import pdekit
from pdekit.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_cases_lists_scripts(capsys):
    assert main(["cases"]) == 0
    out = capsys.readouterr().out
    assert "pulse-2d" in out and "square-pulse" in out


def test_run_case_with_overrides(tmp_path, capsys):
    out = tmp_path / "sq.h5"
    assert main(["run", "square-pulse", "--set", "n=40", "--set", "scheme=mc", "--output", str(out),
                 "--no-progress"]) == 0
    ds = pdekit.open_result(out)
    assert ds.sizes["x"] == 40 and ds.attrs["parameters"]["scheme"] == "mc"
    assert json.loads(ds.attrs["case_parameters"])["n"] == 40
    assert (tmp_path / "sq.png").exists()


def test_run_refuses_unknown_parameter(capsys):
    assert main(["run", "square-pulse", "--set", "nn=40"]) == 2
    assert "unknown case parameter 'nn'" in capsys.readouterr().err


def test_case_script_runs_directly(tmp_path):
    out = tmp_path / "p.h5"
    subprocess.run([sys.executable, str(ROOT / "cases" / "pulse_2d.py"), "--set", "n=24", "--set", "t_end=0.1",
                    "--output", str(out), "--no-progress"], check=True, capture_output=True,
                   env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert pdekit.open_result(out).sizes["x"] == 24


def test_validate_list_and_json_contract(tmp_path, capsys):
    assert main(["validate", "--list"]) == 0
    assert "advection-diffusion" in capsys.readouterr().out
    js = tmp_path / "v.json"
    code = main(["validate", "advection-diffusion", "--json", str(js), "--plot", str(tmp_path),
                 "--only", "mass-periodic-2d", "tvd-square-pulse-vanleer", "sine-dirichlet-ssprk2"])
    assert code == 0
    studies = json.loads(js.read_text())
    assert {s["name"] for s in studies} == {"mass-periodic-2d", "tvd-square-pulse-vanleer", "sine-dirichlet-ssprk2"}
    for s in studies:
        assert {"name", "passed", "observed_order", "expected_order", "final_error", "bound"} <= set(s)
        assert s["passed"] is True and s["final_error"] <= s["bound"]
    sine = next(s for s in studies if s["name"] == "sine-dirichlet-ssprk2")
    assert abs(sine["observed_order"] - 2.0) <= 0.15
    assert (tmp_path / "sine-dirichlet-ssprk2.png").exists()


def test_validate_exits_nonzero_when_a_study_fails(tmp_path, monkeypatch):
    from pdekit.validation import Study, main as vmain

    def failing(plot_dir):
        return Study(name="always-off", passed=False, final_error=1.0, bound=0.1)
    assert vmain([failing], ["--json", str(tmp_path / "f.json")]) == 1
    assert json.loads((tmp_path / "f.json").read_text())[0]["passed"] is False


def test_bench_quick_reports_peers_and_ratios(tmp_path, capsys):
    js = tmp_path / "b.json"
    assert main(["bench", "advection-diffusion", "--quick", "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "STREAM triad" in out and "Mcell/s" in out
    res = json.loads(js.read_text())
    assert set(res["peers"]) == {"py-pde", "fipy"}
    for row in res["comparisons"]:
        assert row["pdekit_kernel"]["cell_updates_per_s"] > 0
        if row["problem"] == "diffusion":
            # the same scheme as the NumPy reference: identical to round-off
            assert row["pdekit_kernel"]["max_abs_diff_vs_numpy_reference"] < 1e-12
        if res["peers"]["py-pde"] is None:
            assert row["pypde_stepper"] is None and row["ratio_kernel_vs_pypde_stepper"] is None


def test_every_subpackage_is_listed_in_setup_cfg():
    cfg = (ROOT / "setup.cfg").read_text()
    listed = set(cfg.split("packages =", 1)[1].split("package_dir", 1)[0].split())
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "pdekit").rglob("__init__.py")}
    assert on_disk <= listed, on_disk - listed
