"""The sheaf-diffusion case scripts run from `pdekit run` and print their findings; the separation measures."""
import numpy as np
import pytest

from pdekit.cli import main
from pdekit.sheaf.separation import between_class_fraction, separation_margin


@pytest.mark.parametrize("case,overrides,expect", [
    ("sheaf-holonomy", ["n=8", "t_end=200.0", "snapshots=5"], "dim ker Delta_F = 0"),
    ("sheaf-holonomy", ["holonomy=0.0", "graph=torus", "n=4", "t_end=50.0", "snapshots=5"], "dim ker Delta_F = 2"),
    ("sheaf-heterophily", ["nodes_per_class=20", "p_out=0.3", "snapshots=5"], "limit +2.000"),
    ("sheaf-heterophily", ["classes=4", "sheaf=diagonal", "nodes_per_class=15", "p_out=0.25", "snapshots=5"],
     "limit +0."),
])
def test_sheaf_case_runs(tmp_path, capsys, case, overrides, expect):
    out = tmp_path / "case.h5"
    args = ["run", case, "--output", str(out), "--no-progress"]
    for kv in overrides:
        args += ["--set", kv]
    assert main(args) == 0
    assert expect in capsys.readouterr().out
    assert (tmp_path / "case.png").stat().st_size > 10_000


def test_signed_sheaf_is_refused_for_four_classes(tmp_path, capsys):
    assert main(["run", "sheaf-heterophily", "--set", "classes=4", "--output", str(tmp_path / "x.h5")]) == 2
    assert "two classes" in capsys.readouterr().err


def test_separation_measures():
    labels = np.array([0, 0, 1, 1])
    apart = np.array([[1.0, 0.1], [2.0, -0.1], [-1.0, 0.0], [-3.0, 0.2]])
    assert separation_margin(apart, labels) > 1.9
    collapsed = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [0.5, 0.5]])
    assert separation_margin(collapsed, labels) == pytest.approx(0.0, abs=1e-12)
    assert between_class_fraction(collapsed, labels) == 0.0
    assert between_class_fraction(apart, labels) > 0.98
    mixed = np.array([[1.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    assert separation_margin(mixed, labels) < 0
