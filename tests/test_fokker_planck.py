"""Fokker–Planck model: the Chang–Cooper properties P1–P5 of the research note, the time
integrators' orders, steady states, the compiled kernels against the assembled operator, bad input."""
import numpy as np
import pytest
import scipy.integrate as si

import pdekit
from pdekit.errors import InstabilityError, ParameterError
from pdekit.fokker_planck.kernels import bernoulli
from pdekit.fokker_planck.model import FokkerPlanck


def ou_exact(x, t, m0=1.5, s0=0.3, theta=1.0, D=1.0):
    m = m0 * np.exp(-theta * t)
    s2 = s0**2 * np.exp(-2 * theta * t) + D / theta * (1 - np.exp(-2 * theta * t))
    return np.exp(-(x - m) ** 2 / (2 * s2)) / np.sqrt(2 * np.pi * s2)


def ou_model(N, bc="zero-flux"):
    g = pdekit.Grid([pdekit.Axis.uniform("x", -6, 6, N)])
    return g, FokkerPlanck(g, bc, diffusion=1.0, drift=lambda x: -x)


def l1(g, u, p):
    return float(np.sum(np.abs(u - p) * g.volumes))


def final(model, u0, method, dt, t_end=1.0, **kw):
    ds = pdekit.run(model, u0, t_end=t_end, dt=dt, method=method, progress=False, **kw)
    return ds["u"].values[-1]


# ---- the flux -----------------------------------------------------------------------------------------
def test_bernoulli_function():
    for w in (-800.0, -30.0, -1.0, -1e-7, 0.0, 1e-9, 1e-3, 2.0, 40.0, 800.0):
        exact = 1.0 if w == 0 else (w / np.expm1(w) if w < 0 else w * np.exp(-w) / -np.expm1(-w))
        assert bernoulli(w) == pytest.approx(exact, rel=1e-12, abs=1e-300)
    # B(w) / B(-w) = exp(-w): the zero-flux ratio of neighbouring cells
    for w in (-5.0, 0.3, 7.0):
        assert bernoulli(w) / bernoulli(-w) == pytest.approx(np.exp(-w), rel=1e-13)


@pytest.mark.parametrize("case", ["1d-zero-flux", "1d-dirichlet", "1d-periodic", "1d-neumann", "1d-spherical",
                                  "2d-mixed", "3d"])
def test_matrix_free_kernel_matches_assembled_operator(case):
    rng = np.random.default_rng(1)
    if case.startswith("1d"):
        bc = {"1d-zero-flux": "zero-flux", "1d-dirichlet": (pdekit.dirichlet(0.7), pdekit.dirichlet(0.2)),
              "1d-periodic": "periodic", "1d-neumann": (pdekit.neumann(0.3), "zero-flux"),
              "1d-spherical": "zero-flux"}[case]
        geom = "spherical" if case == "1d-spherical" else "cartesian"
        ax = pdekit.Axis.log("x", 0.1, 10, 37) if geom == "spherical" else pdekit.Axis.from_faces(
            "x", np.cumsum(np.r_[0.0, rng.uniform(0.5, 1.5, 37)]))
        g = pdekit.Grid([ax], geometry=geom)
        per = case == "1d-periodic"
        drift = dict(drift_coefficient=lambda x: 0.3 * x - 1.0) if geom == "spherical" else dict(
            drift=lambda x: np.cos(x) if per else 1.0 - 0.3 * x)
        m = FokkerPlanck(g, bc, diffusion=lambda x: 0.5 + np.sin(x) ** 2 if per else 0.5 + 0.1 * x, **drift,
                         loss_rate=lambda x: 0.1 + 0.05 * np.cos(x), source=lambda x: np.exp(-x**2))
    elif case == "2d-mixed":
        g = pdekit.Grid.uniform((13, 17), [(-1, 1), (0, 2)])
        m = FokkerPlanck(g, {"x": "periodic", "y": (pdekit.dirichlet(0.5), "zero-flux")},
                         diffusion=(0.3, lambda x, y: 0.1 + y), drift=lambda x, y: (np.sin(np.pi * x) + y, -x * y),
                         loss_rate=0.2)
    else:
        g = pdekit.Grid.uniform((6, 7, 8), [(0, 1)] * 3)
        m = FokkerPlanck(g, "zero-flux", diffusion=(0.1, 0.2, 0.3), drift=lambda x, y, z: (x - y, z, -x))
    u = rng.uniform(0.1, 1.0, g.shape)
    r = m.affine(0.0)
    assembled = m.operator(0.0) @ u.ravel() + (0.0 if r is None else r)
    np.testing.assert_allclose(m.rate(u).ravel(), assembled, rtol=1e-12, atol=1e-12 * np.abs(assembled).max())


def test_generator_is_conservative_m_matrix():
    """P1/P2: non-negative off-diagonals and zero weighted column sums (zero-flux, no loss)."""
    g = pdekit.Grid([pdekit.Axis.log("p", 1e-2, 1e2, 80)], geometry="spherical")
    m = FokkerPlanck(g, diffusion=lambda p: p**2, drift_coefficient=lambda p: 1e-3 * p**2 - 3.0 * p)
    L = m.operator().tocoo()
    off = L.row != L.col
    assert np.all(L.data[off] >= 0)
    M = g.cell_measure(0)
    colsum = (M @ m.operator().toarray())
    assert np.max(np.abs(colsum)) <= 1e-13 * np.max(np.abs(L.data)) * M.max()


@pytest.mark.parametrize("method,dt", [("backward-euler", 50.0), ("crank-nicolson", 0.05), ("tr-bdf2", 0.3),
                                       ("exact", 1.0), ("euler", None), ("ssprk3", None)])
def test_mass_is_conserved_to_round_off(method, dt):
    """P1: zero-flux, no source or loss: sum V u conserved to 1e-12 for any dt."""
    g, m = ou_model(120)
    x = g.centres[0]
    u0 = ou_exact(x, 0)
    kw = dict(dt=dt) if dt else dict(cfl=0.9)
    ds = pdekit.run(m, u0, t_end=1.0, method=method, progress=False, snapshots=2, **kw)
    mass = np.sum(ds["u"].values * g.volumes, axis=1)
    assert np.max(np.abs(mass - mass[0])) <= 1e-12 * mass[0]


def test_mass_conserved_in_2d_adi_with_rotational_drift():
    g = pdekit.Grid.uniform((40, 50), [(-5, 5), (-5, 5)])
    m = FokkerPlanck(g, diffusion=1.0, drift=lambda x, y: (-x + 2 * y, -2 * x - y))
    X, Y = g.meshgrid()
    u0 = np.exp(-((X - 1) ** 2 + Y**2) / 0.5)
    u = final(m, u0, "adi", 0.1)
    assert abs(g.integrate(u) - g.integrate(u0)) <= 1e-12 * g.integrate(u0)


def test_backward_euler_is_positive_for_any_step_and_large_peclet():
    """P2: a spike under strong drift and tiny diffusion (cell Péclet ~1e4) with huge steps."""
    g = pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 200)])
    m = FokkerPlanck(g, diffusion=1e-6, drift=lambda x: np.sin(6 * x))
    u0 = np.zeros(200)
    u0[37] = 1.0
    for dt in (1e-3, 1.0, 1e4):
        u = final(m, u0, "backward-euler", dt, t_end=dt * 5)
        assert u.min() >= 0.0
        assert g.integrate(u) == pytest.approx(g.integrate(u0), rel=1e-12)


def test_pure_upwind_where_diffusion_vanishes():
    g = pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 10)])
    m = FokkerPlanck(g, diffusion=0.0, drift=2.0)  # velocity +2: flux to the right from the left cell
    L = m.operator().toarray()
    h = 0.1
    assert L[5, 4] == pytest.approx(2.0 / h)
    assert L[4, 5] == 0.0
    assert L[5, 5] == pytest.approx(-2.0 / h)
    assert L[9, 9] == 0.0  # zero flux through the right wall: the mass piles up in the last cell


def test_large_peclet_degrades_to_first_order_upwind():
    """P4: for |w| >> 1 the Chang–Cooper flux tends to the upwind flux."""
    g = pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 50)])
    L_cc = FokkerPlanck(g, diffusion=1e-9, drift=1.0).operator().toarray()
    L_up = FokkerPlanck(g, diffusion=0.0, drift=1.0).operator().toarray()
    np.testing.assert_allclose(L_cc, L_up, atol=1e-6)


# ---- equilibria ------------------------------------------------------------------------------------------
def double_well(x):
    return x**4 / 4 - x**2 / 2


@pytest.mark.parametrize("N", [100, 200, 400])
def test_boltzmann_equilibrium_is_exact_with_potential_weights(N):
    """P3 / FP-DW (i): the discrete steady state is exp(-U/D) to round-off (bound 1e-10)."""
    D = 0.25
    g = pdekit.Grid([pdekit.Axis.uniform("x", -2.5, 2.5, N)])
    u = FokkerPlanck(g, diffusion=D, potential=double_well).steady_state()
    x = g.centres[0]
    p = np.exp(-double_well(x) / D)
    p /= g.integrate(p)
    assert np.max(np.abs(u - p)) / p.max() <= 1e-10


def test_boltzmann_exact_with_temperature_and_variable_diffusion_2d():
    """With temperature kT the equilibrium is exp(-U/kT) for any C(x) (mobility C/kT)."""
    g = pdekit.Grid([pdekit.Axis.uniform("x", -2, 2, 30), pdekit.Axis.log("y", 0.5, 3, 25)])
    U = lambda x, y: x**4 / 4 - x**2 / 2 + (y - 1.5) ** 2 + 0.3 * x * y  # noqa: E731
    m = FokkerPlanck(g, diffusion=(lambda x, y: 0.2 + x**2, lambda x, y: 1.0 / y), potential=U, temperature=0.7)
    u = m.steady_state(mass=3.0)
    X, Y = g.meshgrid()
    p = np.exp(-U(X, Y) / 0.7)
    p *= 3.0 / g.integrate(p)
    assert np.max(np.abs(u - p)) / p.max() <= 1e-10


def test_double_well_face_drift_is_second_order():
    """FP-DW (ii): B = U'(x_face): L1 1.61e-4 at N=200, order 2 (pass: <= 2e-4)."""
    D = 0.25
    Z = si.quad(lambda x: np.exp(-double_well(x) / D), -2.5, 2.5, epsabs=0, epsrel=1e-13)[0]
    errs = []
    for N in (100, 200):
        g = pdekit.Grid([pdekit.Axis.uniform("x", -2.5, 2.5, N)])
        u = FokkerPlanck(g, diffusion=D, drift=lambda x: x - x**3).steady_state()
        errs.append(l1(g, u, np.exp(-double_well(g.centres[0]) / D) / Z))
    assert errs[1] <= 2e-4
    assert np.log2(errs[0] / errs[1]) == pytest.approx(2.0, abs=0.15)


def test_transient_run_relaxes_to_the_steady_state():
    D = 0.5
    g = pdekit.Grid([pdekit.Axis.uniform("x", -2.5, 2.5, 80)])
    m = FokkerPlanck(g, diffusion=D, potential=double_well)
    x = g.centres[0]
    u = final(m, np.exp(-(x + 1) ** 2 / 0.1), "backward-euler", 0.5, t_end=200.0)
    steady = m.steady_state(mass=g.integrate(np.exp(-(x + 1) ** 2 / 0.1)))
    assert np.max(np.abs(u - steady)) <= 1e-9 * steady.max()


def test_open_system_steady_state_balances_injection_and_escape():
    """SA-1 type: point injection on a face, constant escape: escape rate = injection (P5)."""
    g = pdekit.Grid([pdekit.Axis.log("p", 1e-2, 1e2, 200)], geometry="spherical")
    m = FokkerPlanck(g, diffusion=lambda p: p**2, loss_rate=1.0, point_sources=[(1.0, 1.0)])
    f = m.steady_state()
    assert m.mass(f * 1.0) == pytest.approx(1.0, rel=1e-12)  # sum M f nu = injection rate 1
    with pytest.raises(ParameterError, match="mass"):
        m.steady_state(mass=2.0)


def test_point_source_on_a_face_is_split_equally():
    g = pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 10)])
    m = FokkerPlanck(g, diffusion=1.0, point_sources=[(0.3, 2.0), (0.55, 1.0)])
    S = m.source_at(0.0)
    w = g.volumes
    assert S[2] * w[2] == pytest.approx(1.0) and S[3] * w[3] == pytest.approx(1.0)
    assert S[5] * w[5] == pytest.approx(1.0)
    assert np.sum(S * w) == pytest.approx(3.0)


# ---- accuracy and time integration ------------------------------------------------------------------
def test_ou_spatial_order_two_with_exact_propagation():
    """FP-OU1 with exact time integration: L1 3.24e-4 at N=200 (pass 4e-4), order 2."""
    errs = []
    for N in (100, 200):
        g, m = ou_model(N)
        x = g.centres[0]
        errs.append(l1(g, final(m, ou_exact(x, 0), "exact", 1.0), ou_exact(x, 1)))
    assert errs[1] <= 4e-4
    assert np.log2(errs[0] / errs[1]) == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize("method,order", [("backward-euler", 1), ("crank-nicolson", 2), ("tr-bdf2", 2),
                                          ("adi", 2), ("ssprk2", 2), ("ssprk3", 3)])
def test_time_integration_orders_against_exact_propagation(method, order):
    g, m = ou_model(60)
    u0 = ou_exact(g.centres[0], 0)
    ref = final(m, u0, "exact", 0.5, t_end=0.5)
    if method.startswith("ssprk"):
        dt0 = 0.2 / m.rate_bound()
        dts = (dt0, dt0 / 2)
    else:
        dts = (0.05, 0.025)
    errs = [l1(g, final(m, u0, method, dt, t_end=0.5), ref) for dt in dts]
    assert np.log2(errs[0] / errs[1]) == pytest.approx(order, abs=0.15)


def test_adi_in_2d_second_order_in_time():
    g = pdekit.Grid.uniform((30, 30), [(-5, 5), (-5, 5)])
    m = FokkerPlanck(g, diffusion=(1.0, 0.5), drift=lambda x, y: (-x + y, -x - 2 * y))
    X, Y = g.meshgrid()
    u0 = np.exp(-((X - 1) ** 2 + (Y + 0.5) ** 2) / 0.5)
    ref = final(m, u0, "exact", 0.5, t_end=0.5)
    errs = [l1(g, final(m, u0, "adi", dt, t_end=0.5), ref) for dt in (0.05, 0.025)]
    assert np.log2(errs[0] / errs[1]) == pytest.approx(2.0, abs=0.15)


def test_exact_propagation_with_time_scale_matches_vp_marginal():
    """Generator beta(t) L0 (VP-SDE): exp(B(t) L0) with B = int beta; Gaussian data stay Gaussian."""
    bmin, bmax = 0.1, 20.0
    beta = lambda t: bmin + t * (bmax - bmin)  # noqa: E731
    g = pdekit.Grid([pdekit.Axis.uniform("x", -6, 6, 400)])
    m = FokkerPlanck(g, diffusion=0.5, drift=lambda x: -0.5 * x, time_scale=beta)
    x = g.centres[0]
    m0, s0 = 1.5, 0.5
    u0 = np.exp(-(x - m0) ** 2 / (2 * s0**2)) / np.sqrt(2 * np.pi * s0**2)
    for t in (0.1, 0.3):
        a = np.exp(-0.5 * (bmin * t + 0.5 * (bmax - bmin) * t**2))
        s2 = a**2 * s0**2 + 1 - a**2
        p = np.exp(-(x - a * m0) ** 2 / (2 * s2)) / np.sqrt(2 * np.pi * s2)
        u = final(m, u0, "exact", t / 3, t_end=t)
        assert l1(g, u, p) <= 2e-4
        u_cn = final(m, u0, "crank-nicolson", t / 400, t_end=t)
        assert l1(g, u_cn, p) <= 2.5e-4


def test_gbm_on_a_geometric_grid_second_order():
    """FP-GBM: log-normal density on a geometric grid (pass: L1 <= 4e-4 at N=400, order 2)."""
    mu = sig = 0.5
    v0 = 0.25**2

    def p(s, t):
        m, v = (mu - sig**2 / 2) * t, v0 + sig**2 * t
        return np.exp(-(np.log(s) - m) ** 2 / (2 * v)) / (s * np.sqrt(2 * np.pi * v))
    errs = []
    for N in (200, 400):
        g = pdekit.Grid([pdekit.Axis.log("s", np.exp(-5), np.exp(5), N)])
        m = FokkerPlanck(g, diffusion=lambda s: 0.5 * sig**2 * s**2, drift=lambda s: mu * s)
        s = g.centres[0]
        errs.append(l1(g, final(m, p(s, 0), "exact", 1.0), p(s, 1)))
    assert errs[1] <= 4e-4
    assert np.log2(errs[0] / errs[1]) == pytest.approx(2.0, abs=0.1)


def test_dirichlet_and_time_dependent_source_with_backward_euler():
    """Sources and Dirichlet data enter the affine term: manufactured solution, first order in time."""
    g = pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 100)])
    # u = exp(-t) sin(pi x) + 1 solves u_t = u_xx + S with S = (pi^2 - 1) exp(-t) sin(pi x); u = 1 at walls
    m = FokkerPlanck(g, pdekit.dirichlet(1.0), diffusion=1.0,
                     source=lambda x, t: (np.pi**2 - 1) * np.exp(-t) * np.sin(np.pi * x))
    x = g.centres[0]
    exact = np.exp(-0.2) * np.sin(np.pi * x) + 1
    errs = [np.max(np.abs(final(m, np.sin(np.pi * x) + 1, "backward-euler", dt, t_end=0.2) - exact))
            for dt in (0.02, 0.01)]
    assert np.log2(errs[0] / errs[1]) == pytest.approx(1.0, abs=0.15)
    u = final(m, np.sin(np.pi * x) + 1, "crank-nicolson", 0.005, t_end=0.2)
    assert np.max(np.abs(u - exact)) <= 1e-4


# ---- run loop integration and bad input -----------------------------------------------------------------
def test_results_file_and_parameters(tmp_path):
    g, m = ou_model(50)
    out = tmp_path / "ou.h5"
    ds = pdekit.run(m, ou_exact(g.centres[0], 0), t_end=0.5, dt=0.05, method="tr-bdf2", output=out,
                    snapshots=5, progress=False)
    assert ds.attrs["model"] == "fokker-planck"
    params = ds.attrs["parameters"]
    assert params["diffusion"] == 1.0 and params["drift"].startswith("function")
    assert ds["u"].shape == (6, 50)


def test_negative_density_stops_a_positive_method():
    """The run loop's positivity guard: a sink that empties a cell is reported with time and cell."""
    g = pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 20)])
    m = FokkerPlanck(g, diffusion=1e-3, source=lambda x: np.where(x > 0.8, -5.0, 0.0))
    with pytest.raises(InstabilityError, match="negative density") as exc:
        pdekit.run(m, np.ones(20), t_end=1.0, dt=0.01, method="backward-euler", progress=False)
    assert exc.value.cell[0] >= 16 and 0.15 < exc.value.time < 0.3


def test_explicit_step_beyond_stability_bound_is_refused():
    g, m = ou_model(100)
    bound = 1.0 / m.rate_bound()
    with pytest.raises(ParameterError, match="stability"):
        pdekit.run(m, ou_exact(g.centres[0], 0), t_end=1.0, dt=1.5 * bound, method="euler", progress=False)
    with pytest.raises(ParameterError, match="exceeds"):
        pdekit.run(m, ou_exact(g.centres[0], 0), t_end=1.0, cfl=1.5, method="ssprk2", progress=False)


def test_bad_input_is_refused_with_clear_errors():
    g = pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 10)])
    with pytest.raises(ParameterError, match="diffusion must be >= 0"):
        FokkerPlanck(g, diffusion=-1.0)
    with pytest.raises(ParameterError, match=">= 0"):
        FokkerPlanck(g, diffusion=lambda x: x - 0.5)
    with pytest.raises(pdekit.GridError, match="lo > 0"):
        pdekit.Axis.log("p", 0.0, 10.0, 10)
    with pytest.raises(pdekit.GridError, match="lo > 0"):
        pdekit.Axis.log("p", -1.0, 10.0, 10)
    m = FokkerPlanck(g, diffusion=1.0)
    with pytest.raises(ParameterError, match="initial density must be >= 0"):
        pdekit.run(m, np.full(10, -0.1), t_end=1.0, dt=0.1, progress=False)
    with pytest.raises(ParameterError, match="not finite"):
        pdekit.run(m, np.full(10, np.nan), t_end=1.0, dt=0.1, progress=False)
    with pytest.raises(ParameterError, match="outside the domain"):
        FokkerPlanck(g, diffusion=1.0, point_sources=[(1.5, 1.0)])
    with pytest.raises(ParameterError, match="loss_rate must be >= 0"):
        FokkerPlanck(g, diffusion=1.0, loss_rate=-0.1)
    with pytest.raises(ParameterError, match="outflow"):
        FokkerPlanck(g, "outflow", diffusion=1.0)
    with pytest.raises(ParameterError, match="function must take"):
        FokkerPlanck(g, diffusion=lambda x, y, z: 1.0)
    with pytest.raises(ParameterError, match="temperature"):
        FokkerPlanck(g, diffusion=1.0, temperature=1.0)
    with pytest.raises(ParameterError, match="time-independent"):
        FokkerPlanck(g, diffusion=lambda x, t: 1 + t).stepper("exact", 0.1)
    with pytest.raises(ParameterError, match="unknown time integration method"):
        m.stepper("rk4", 0.1)


@pytest.mark.parametrize("method", ["tr-bdf2", "adi"])
def test_interrupted_run_restarts_bit_for_bit(tmp_path, method):
    g = pdekit.Grid.uniform((24, 20), [(-4, 4), (-4, 4)])

    def model():
        return FokkerPlanck(g, diffusion=1.0, drift=lambda x, y: (-x + y, -x - y))
    X, Y = g.meshgrid()
    u0 = np.exp(-((X - 1) ** 2 + Y**2))
    kw = dict(t_end=1.0, dt=0.01, method=method, snapshots=10, progress=False, chunk_steps=5)
    full = pdekit.run(model(), u0, **kw)

    m = model()
    make = m.stepper

    def interrupting(method, dt):
        st = make(method, dt)
        advance, calls = st.advance, [0]

        def adv(state, t, n):
            calls[0] += 1
            if calls[0] == 9:
                raise KeyboardInterrupt
            advance(state, t, n)
        st.advance = adv
        return st
    m.stepper = interrupting
    path = tmp_path / "fp.h5"
    with pytest.raises(KeyboardInterrupt):
        pdekit.run(m, u0, output=path, **kw)
    assert pdekit.open_result(path).attrs["status"] == "interrupted"
    resumed = pdekit.run(model(), None, output=path, restart=True, **kw)
    assert np.array_equal(resumed.u.values, full.u.values)


# ---- edge cases found in review ---------------------------------------------------------------------------
def test_potential_array_with_dirichlet_walls_is_exact_for_constant_drift():
    """A potential given as cell values is extrapolated to Dirichlet walls (as a function it is evaluated there)."""
    errs = {}
    for kind in ("function", "array"):
        e = []
        for n in (40, 80):
            g = pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, n)])
            U = (lambda x: -3 * x) if kind == "function" else -3 * g.centres[0]
            m = FokkerPlanck(g, (pdekit.dirichlet(1.0), pdekit.dirichlet(0.0)), diffusion=1.0, potential=U)
            x = g.centres[0]
            # steady state of (u' - 3u)' = 0 (B = U' = -3): u = (e^{3x} - e^3) / (1 - e^3)
            exact = (np.exp(3 * x) - np.exp(3)) / (1 - np.exp(3))
            e.append(np.max(np.abs(m.steady_state() - exact)))
        errs[kind] = e
    # constant drift: exponential fitting is exact when the wall's potential difference is exact (it was
    # first order, 0.036 at n=40, when the wall difference of an array potential was taken as zero)
    for kind, e in errs.items():
        assert max(e) <= 1e-12, (kind, e)


def test_zero_loss_rate_counts_as_a_closed_system():
    g = pdekit.Grid([pdekit.Axis.uniform("x", -2, 2, 50)])
    u = FokkerPlanck(g, diffusion=0.5, potential=lambda x: x**2, loss_rate=0.0).steady_state()
    assert g.integrate(u) == pytest.approx(1.0, rel=1e-12)
    with pytest.raises(ParameterError, match="no steady state"):
        FokkerPlanck(g, diffusion=0.5, source=1.0).steady_state()


def test_point_source_on_a_periodic_boundary_is_split_between_the_end_cells():
    g = pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 10)])
    for pos in (0.0, 1.0):
        S = FokkerPlanck(g, "periodic", diffusion=1.0, point_sources=[(pos, 1.0)]).source_at(0.0) * g.volumes
        assert S[0] == pytest.approx(0.5) and S[-1] == pytest.approx(0.5)


def test_explicit_bound_is_checked_as_coefficients_grow():
    g = pdekit.Grid([pdekit.Axis.uniform("x", -3, 3, 60)])
    m = FokkerPlanck(g, diffusion=lambda x, t: 1 + 20 * t)
    dt = 0.9 / m.rate_bound(0.0)
    with pytest.raises(ParameterError, match=r"at t = 0\.0"):
        pdekit.run(m, np.exp(-g.centres[0] ** 2), t_end=0.5, dt=dt, method="euler", progress=False)
    m = FokkerPlanck(g, diffusion=0.5, drift=lambda x: -0.5 * x, time_scale=lambda t: 0.1 + 19.9 * t)
    with pytest.raises(ParameterError, match="exceeds the stability"):
        pdekit.run(m, np.exp(-g.centres[0] ** 2), t_end=1.0, cfl=0.9, method="ssprk2", progress=False)
    with pytest.raises(ParameterError, match="time_scale"):
        FokkerPlanck(g, diffusion=1.0, time_scale=lambda t: t - 1.0)


def test_periodic_potential_equilibrium_is_exact_in_2d():
    g = pdekit.Grid.uniform((24, 30), [(0, 2 * np.pi), (0, 2 * np.pi)])
    U = lambda x, y: np.cos(x) + 0.5 * np.sin(2 * y) + 0.3 * np.cos(x - y)  # noqa: E731
    m = FokkerPlanck(g, "periodic", diffusion=(0.7, 1.3), potential=U, temperature=0.4)
    X, Y = g.meshgrid()
    p = np.exp(-U(X, Y) / 0.4)
    p /= g.integrate(p)
    assert np.max(np.abs(m.steady_state() - p)) / p.max() <= 1e-10
    u = final(m, p, "adi", 0.5, t_end=5.0)  # the equilibrium is a fixed point of ADI as well
    assert np.max(np.abs(u - p)) / p.max() <= 1e-10


def test_shape_errors_are_parameter_errors():
    g = pdekit.Grid.uniform((8, 6), [(0, 1), (0, 1)])
    with pytest.raises(ParameterError, match="shape"):
        FokkerPlanck(g, diffusion=lambda x, y: np.ones(3))
    with pytest.raises(ParameterError, match="components"):
        FokkerPlanck(g, diffusion=1.0, drift=lambda x, y: 1.0)
    with pytest.raises(ParameterError, match="component 1"):
        FokkerPlanck(g, diffusion=1.0, drift=lambda x, y: (x, np.ones(4)))
    with pytest.raises(ParameterError, match="potential has shape"):
        FokkerPlanck(g, diffusion=1.0, potential=np.ones((3, 3)))
    with pytest.raises(ParameterError, match="loss_rate has shape"):
        FokkerPlanck(g, diffusion=1.0, loss_rate=np.ones(5))
    with pytest.raises(ParameterError, match="source has shape"):
        FokkerPlanck(g, diffusion=1.0, source=np.ones((8, 5)))
    with pytest.raises(ParameterError, match="outside the domain"):
        FokkerPlanck(g, diffusion=1.0, point_sources=[((0.5, 1.2), 1.0)])
    with pytest.raises(ParameterError, match="per axis"):
        FokkerPlanck(g, diffusion=(1.0, 2.0, 3.0))
    m = FokkerPlanck(g, diffusion=1.0)
    with pytest.raises(ParameterError, match="initial-data function returned shape"):
        pdekit.run(m, lambda x, y: np.ones(7), t_end=1.0, dt=0.1, progress=False)
    with pytest.raises(ParameterError, match="not finite"):
        pdekit.run(m, np.full((8, 6), np.inf), t_end=1.0, dt=0.1, progress=False)
    with pytest.raises(ParameterError, match="spherical"):
        FokkerPlanck(pdekit.Grid([pdekit.Axis.log("p", 0.1, 10, 20)], geometry="spherical"), diffusion=1.0,
                     drift=0.0)
