"""Time-dependent fractional diffusion through the run loop: orders in time on a separable exact solution
(spatially exact for p = 4: u = e^{-t} x^2 (1-x)^2 lies in the spline space), both solver paths, result
files that re-evaluate anywhere, restart, bad input."""
import numpy as np
import pytest
from numpy.polynomial import Polynomial as P

import pdekit
from pdekit.errors import ParameterError
from pdekit.riesz import BSplineSpace, FractionalDiffusion, evaluate_result
from pdekit.riesz.collocation import polynomial_riesz

U4 = P((P([0, 1]) ** 2 * P([1, -1]) ** 2).coef)
ALPHA, KAPPA = 1.5, 0.1
X = np.linspace(0, 1, 201)


STOP_AFTER = [None]  # set to a time to simulate a Ctrl-C inside a run


def source(x, t):
    if STOP_AFTER[0] is not None and t > STOP_AFTER[0]:
        raise KeyboardInterrupt
    return np.exp(-t) * (-U4(x) + KAPPA * polynomial_riesz(U4.coef, x, ALPHA))


def final_error(method, dt, n=16, solver="auto"):
    m = FractionalDiffusion(n, ALPHA, kappa=KAPPA, source=source, degree=4, solver=solver)
    ds = pdekit.run(m, U4, t_end=1.0, dt=dt, method=method, snapshots=2, progress=False)
    return np.abs(evaluate_result(ds, X)[-1] - np.exp(-1.0) * U4(X)).max() / U4(0.5), m


@pytest.mark.parametrize("method,order", [("crank-nicolson", 2), ("tr-bdf2", 2), ("backward-euler", 1)])
def test_order_in_time(method, order):
    errs = [final_error(method, dt)[0] for dt in (0.1, 0.05, 0.025)]
    observed = np.log2(np.array(errs[:-1]) / errs[1:])
    assert observed == pytest.approx([order, order], abs=0.05)


def test_fast_path_gives_the_dense_answer_with_bounded_iterations():
    e_dense, _ = final_error("crank-nicolson", 0.05, n=500, solver="dense")
    e_fast, m = final_error("crank-nicolson", 0.05, n=500, solver="gmres")
    assert e_fast == pytest.approx(e_dense, rel=1e-6)
    assert m.solver == "gmres" and len(m.iterations) == 20 and max(m.iterations) <= 12


def test_result_file_reevaluates_and_restarts(tmp_path):
    out = tmp_path / "frac.h5"
    m = FractionalDiffusion(32, ALPHA, kappa=KAPPA, source=source, degree=4)
    ds = pdekit.run(m, U4, t_end=0.5, dt=0.05, output=out, snapshots=5, progress=False)
    assert ds["u"].dims == ("t", "x") and ds["coefficient"].dims == ("t", "x") and ds["knots"].dims == ("knot",)
    np.testing.assert_allclose(ds["x"].values, m.collocation.points)
    back = pdekit.open_result(out)
    vals = evaluate_result(back, m.collocation.points)
    np.testing.assert_allclose(vals, back["u"].values, atol=1e-13)
    np.testing.assert_allclose(evaluate_result(back, X)[-1], np.exp(-0.5) * U4(X), atol=2e-5)
    # a run interrupted by Ctrl-C keeps its snapshots and continues from its checkpoint to the same answer
    out2 = tmp_path / "piece.h5"
    STOP_AFTER[0] = 0.31
    try:
        with pytest.raises(KeyboardInterrupt):
            pdekit.run(m, U4, t_end=0.5, dt=0.05, output=out2, snapshots=5, progress=False)
    finally:
        STOP_AFTER[0] = None
    partial = pdekit.open_result(out2)
    assert partial.attrs["status"] == "interrupted" and 3 <= partial.sizes["t"] < 6
    again = pdekit.run(m, None, t_end=0.5, dt=0.05, output=out2, snapshots=5, progress=False, restart=True)
    assert again.sizes["t"] == 6 and again.attrs["status"] == "completed"
    np.testing.assert_allclose(again["coefficient"].values, back["coefficient"].values, rtol=1e-12, atol=1e-15)


def test_initial_data_forms_and_heat_decay():
    m = FractionalDiffusion(BSplineSpace(3, 40), 1.8)
    bump = lambda x: np.exp(-200 * (x - 0.5) ** 2)  # noqa: E731
    s1 = m.state_from(bump)
    s2 = m.state_from(bump(m.collocation.points))
    s3 = m.state_from({"coefficient": m.interior(s1)[1]})
    np.testing.assert_allclose(m.interior(s1), m.interior(s2))
    np.testing.assert_allclose(m.interior(s1), m.interior(s3))
    np.testing.assert_allclose(m.interior(s1)[0], bump(m.collocation.points), atol=1e-13)
    ds = pdekit.run(m, bump, t_end=0.02, dt=0.001, method="tr-bdf2", snapshots=4, progress=False)
    peaks = ds["u"].max("x").values
    assert np.all(np.diff(peaks) < 0)


def test_bad_input():
    with pytest.raises(ParameterError, match="kappa"):
        FractionalDiffusion(16, 1.5, kappa=-1.0)
    with pytest.raises(ParameterError, match=r"\(1, 2\)"):
        FractionalDiffusion(16, 2.5)
    with pytest.raises(ParameterError, match="finite"):
        FractionalDiffusion(16, 1.5, source=lambda x: np.where(x > 0.5, np.nan, 0.0))
    with pytest.raises(ParameterError, match="shape"):
        FractionalDiffusion(16, 1.5, source=lambda x: np.ones(3))
    with pytest.raises(ParameterError, match="unknown solver"):
        FractionalDiffusion(16, 1.5, solver="lu")
    with pytest.raises(ParameterError, match="variable"):
        FractionalDiffusion(16, 1.5, variable="coefficient")
    m = FractionalDiffusion(16, 1.5)
    with pytest.raises(ParameterError, match="expected"):
        m.state_from(np.ones(5))
    with pytest.raises(ParameterError, match="not finite"):
        m.state_from(lambda x: np.full_like(x, np.inf))
    with pytest.raises(ParameterError, match="unknown time integration method"):
        pdekit.run(m, 0.0, t_end=1.0, dt=0.1, method="euler", progress=False)
    with pytest.raises(ParameterError, match="implicit"):
        pdekit.run(m, 0.0, t_end=1.0, progress=False)
    with pytest.raises(ParameterError, match="points must lie"):
        m.evaluate(np.zeros(m.collocation.size), [1.5])


def test_graded_knots_use_the_dense_path():
    """Any clamped knot vector works through the dense reference; u = e^{-t} x^2 (1-x)^2 is in the space
    for p = 4, so only the (second-order) time error remains, as on uniform knots."""
    inner = np.linspace(0, 1, 13)[1:-1] ** 1.5
    space = BSplineSpace.from_knots(4, np.r_[[0.0] * 5, inner, [1.0] * 5])
    errs = []
    for dt in (0.1, 0.05):
        m = FractionalDiffusion(space, ALPHA, kappa=KAPPA, source=source)
        assert m.solver == "dense" and not m.collocation.uniform
        ds = pdekit.run(m, U4, t_end=1.0, dt=dt, snapshots=1, progress=False)
        errs.append(np.abs(evaluate_result(ds, X)[-1] - np.exp(-1.0) * U4(X)).max() / U4(0.5))
    assert np.log2(errs[0] / errs[1]) == pytest.approx(2.0, abs=0.05)
    assert errs[1] == pytest.approx(final_error("crank-nicolson", 0.05)[0], rel=1e-3)


def test_nonfinite_source_during_a_run_names_the_time(tmp_path):
    bad = lambda x, t: np.where((t > 0.25) & (x > 0.5), np.nan, 0.0)  # noqa: E731
    for solver, n in (("dense", 16), ("gmres", 500)):
        m = FractionalDiffusion(n, 1.5, source=bad, solver=solver)
        out = tmp_path / f"{solver}.h5"
        with pytest.raises(pdekit.InstabilityError, match=r"source is not finite at t = 0\.3") as info:
            pdekit.run(m, U4, t_end=0.5, dt=0.1, snapshots=5, output=out, progress=False)
        assert info.value.time == pytest.approx(0.3)
        kept = pdekit.open_result(out)
        assert kept.sizes["t"] == 3 and kept.attrs["status"].startswith("failed")
        assert evaluate_result(kept.isel(t=-1), X).shape == X.shape


def test_exact_helpers():
    from pdekit.riesz import constant_source_solution, polynomial_riesz, separable_solution

    x = np.linspace(0, 1, 11)
    np.testing.assert_allclose(constant_source_solution(x, 2), x * (1 - x) / 2)
    with pytest.raises(ParameterError, match="vanish"):
        polynomial_riesz([0, 1, -1], x, 1.5)  # x (1 - x): u'(0) != 0
    with pytest.raises(ParameterError, match=r"\[0, 1\]"):
        polynomial_riesz(U4.coef, [1.5], 1.5)
    u, f = separable_solution(U4.coef, ALPHA, kappa=KAPPA)
    np.testing.assert_allclose(f(x, 0.7), source(x, 0.7), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(u(x, 0.7), np.exp(-0.7) * U4(x))
