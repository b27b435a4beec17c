"""The Riesz fractional case scripts run from `pdekit run`, print their findings and write their figures;
their numbers agree with theory (Getoor's exact solution, the alpha/2 max-norm order, mass loss by jumps)."""
import numpy as np
import pytest
from scipy.special import gamma

from pdekit.cli import main

from casetools import number, run_case
from pdekit.riesz import BSplineSpace, RieszCollocation, evaluate_result




@pytest.mark.parametrize("alpha", [1.2, 1.5, 1.8])
def test_fractional_poisson_matches_getoor(tmp_path, capsys, alpha):
    n = 32
    text, ds = run_case(tmp_path, capsys, "fractional-poisson", [f"alpha={alpha}", f"n={n}", "levels=4", "dt=1.0",
                                                             "t_end=20.0", "snapshots=20"])
    # the max-norm order of the steady solve is the Hoelder exponent alpha/2 of the exact solution at the walls
    order = number(r"observed max-norm order ([0-9.]+)", text)
    assert order == pytest.approx(alpha / 2, abs=0.05)
    # the run reached the steady collocation solution ...
    x = np.linspace(0.0, 1.0, 20 * n + 1)
    u = evaluate_result(ds, x)[-1]
    R = RieszCollocation(BSplineSpace(3, n), alpha)
    assert np.abs(u - R.evaluate(R.solve(lambda y: np.ones_like(y)), x)).max() < 1e-10
    # ... which is Getoor's solution up to an error C h^(alpha/2) max u (C measured 0.04 - 0.19 for alpha in
    # [1.2, 1.8], degree 3, n = 32), largest next to a wall, where u ~ x^(alpha/2) is not smooth
    exact = (x * (1 - x)) ** (alpha / 2) / gamma(1 + alpha)
    err = np.abs(u - exact)
    assert err.max() < 0.25 * exact.max() * (1.0 / n) ** (alpha / 2)
    assert min(x[err.argmax()], 1 - x[err.argmax()]) <= 2.0 / n
    # the first eigenvalue sits within 2 % of Kwasnicki's asymptotic value
    lam = number(r"lambda_1 = ([0-9.]+) \(collocation\)", text)
    assert lam == pytest.approx((np.pi - (2 - alpha) * np.pi / 4) ** alpha, rel=0.02)


def test_fractional_heat_tails_and_mass(tmp_path, capsys):
    text, ds = run_case(tmp_path, capsys, "fractional-heat", ["n=128", "t_end=0.002", "dt=4e-5", "snapshots=5"])
    assert "decreases monotonically: yes" in text
    # mass, integrated independently of the case: strictly decreasing (jumps out of (0,1) are lost)
    x = np.linspace(0.0, 1.0, 4001)
    mass = np.trapezoid(evaluate_result(ds, x), x, axis=1)
    assert np.all(np.diff(mass) < 0)
    # the early loss rate is the rate of jumps out of the interval: kappa C_alpha int u0 (y^-a + (1-y)^-a) / a / M
    measured = number(r"-dlnM/dt: ([0-9.]+) over", text)
    predicted = number(r"vs ([0-9.]+) predicted", text)
    assert measured == pytest.approx(predicted, rel=0.03)
    assert measured == pytest.approx(-np.log(mass[1] / mass[0]) / float(ds.t[1]), rel=0.01)
    # heavier algebraic tail: u(0.1)/u(1/2) well above the classical (Gaussian) one at t_end
    frac = number(r"fractional ([0-9.e+-]+) vs classical", text)
    classical = number(r"vs classical ([0-9.e+-]+) \(", text)
    assert frac > 10 * classical
    assert "heavier fractional tail" in text
    # the classical reference is accurate down to 1e-12 of its peak (finite volumes vs the exact image series)
    assert number(r"image series at t=[0-9.e+-]+: max relative error ([0-9.e+-]+)", text) < 0.05


def test_fractional_case_refuses_classical_alpha(tmp_path, capsys):
    assert main(["run", "fractional-heat", "--set", "alpha=2.0", "--output", str(tmp_path / "x.h5")]) == 2
    assert "alpha" in capsys.readouterr().err
