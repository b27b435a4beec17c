"""The Fokker–Planck case scripts run from `pdekit run` on small grids and print their comparisons."""
import h5py
import pytest

from pdekit.cli import main


@pytest.mark.parametrize("case,overrides,expect", [
    ("ou-relaxation", ["n=40", "snapshots=2", "drift=rotational"], "L1 error vs exact"),
    ("double-well", ["n=60", "t_end=20.0", "snapshots=4"], "right-well population"),
    ("stochastic-acceleration", ["per_decade=20", "chi_max=1e4", "t_end=20.0", "snapshots=3"], "pile-up maximum"),
    ("score-sde-gap", ["n=100", "particles=2000", "nsteps=100", "epsilons=[0.0, 0.5]"], "W2(ODE,SDE)"),
])
def test_fp_case_runs(tmp_path, capsys, case, overrides, expect):
    out = tmp_path / f"{case}.h5"
    args = ["run", case, "--output", str(out), "--no-progress"]
    for kv in overrides:
        args += ["--set", kv]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert expect in text
    assert (tmp_path / f"{case}.png").stat().st_size > 10_000
    with h5py.File(out) as f:
        assert f.attrs["model"] == "fokker-planck" and f.attrs["status"] == "completed"


def test_unknown_preset_is_refused(tmp_path, capsys):
    assert main(["run", "stochastic-acceleration", "--set", "preset=bohm", "--output", str(tmp_path / "x.h5")]) == 2
    assert "unknown preset" in capsys.readouterr().err
