"""Advection–diffusion: compiled kernels against the NumPy reference, orders, conservation, TVD."""
import numpy as np
import pytest

import pdekit
from pdekit.advection_diffusion import exact
from pdekit.advection_diffusion import kernels as K
from pdekit.advection_diffusion.model import ExplicitStepper
from pdekit.boundary import fill_ghosts
from pdekit.operators import diffusion_operator

LIMITERS = ["upwind", "minmod", "vanleer", "mc", "superbee"]


def _numpy_rate(model, state, t=0.0):
    st = ExplicitStepper(model, "euler", 1.0)
    st.update(t)
    u = state.copy()
    fill_ghosts(u, model._g3, model.boundaries.codes, st.bvals)
    src = np.zeros(model.grid.shape3) if st.src.size == 0 else st.src
    rate = K.numpy_rate(u, model._g3, model._w, model._ar, model._im, st.vel, st.dif, src, st.flags,
                        st.bvals, model.limiter)
    return rate.reshape((model.nvar,) + model.grid.shape)


GRIDS = {
    "1d-uniform": lambda: pdekit.Grid.uniform(17, (0.0, 1.0)),
    "1d-stretched": lambda: pdekit.Grid([pdekit.Axis.log("x", 0.1, 3.0, 19)]),
    "1d-spherical": lambda: pdekit.Grid([pdekit.Axis.log("r", 0.1, 3.0, 15)], geometry="spherical"),
    "2d-uniform": lambda: pdekit.Grid.uniform((9, 11), [(0, 1), (0, 2)]),
    "2d-mixed": lambda: pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 8), pdekit.Axis.log("y", 1, 4, 10)]),
    "3d-uniform": lambda: pdekit.Grid.uniform((5, 6, 7), [(0, 1)] * 3),
}
BCS = [
    "periodic",
    ("dirichlet", 0.7),
    ("neumann", 0.3),
    "outflow",
    "zero-flux",
]


@pytest.mark.parametrize("gname", list(GRIDS))
@pytest.mark.parametrize("limiter", LIMITERS)
@pytest.mark.parametrize("bc", BCS, ids=lambda b: b if isinstance(b, str) else b[0])
def test_compiled_rate_matches_numpy_reference(gname, limiter, bc):
    grid = GRIDS[gname]()
    if grid.geometry == "spherical" and bc == "periodic":
        bc = "zero-flux"
    rng = np.random.default_rng(0)
    moving = tuple(rng.uniform(-1, 1) for _ in range(grid.ndim))
    for vel, source in ((moving, None), (moving, rng.random(grid.shape)), ((0.0,) * grid.ndim, None),
                        ((0.0,) * grid.ndim, rng.random(grid.shape))):
        model = pdekit.AdvectionDiffusion(grid, bc, velocity=vel if grid.ndim > 1 else vel[0],
                                          diffusivity=0.05, scheme=limiter, source=source)
        state = model.state_from(rng.random(grid.shape))
        ref = _numpy_rate(model, state)
        got = model.rate(state)
        assert np.allclose(got, ref, rtol=1e-11, atol=1e-11), np.abs(got - ref).max()


@pytest.mark.parametrize("limiter", LIMITERS)
def test_fast_path_equals_general_kernel(limiter):
    grid = pdekit.Grid.uniform((12, 10), [(0, 1), (0, 1)])
    rng = np.random.default_rng(3)
    model = pdekit.AdvectionDiffusion(grid, {"x": "periodic", "y": (("dirichlet", 0.2), ("neumann", 0.1))},
                                      velocity=(0.7, -0.4), diffusivity=0.01, scheme=limiter)
    state = model.state_from(rng.random(grid.shape))
    st = ExplicitStepper(model, "ssprk3", 1e-3)
    assert st.fast
    fast = state.copy()
    st.advance(fast, 0.0, 5)
    slow = state.copy()
    s1, s2 = np.zeros_like(slow), np.zeros_like(slow)
    K.advance_ssp(slow, s1, s2, 5, 1e-3, 3, st.g3, st.codes, st.bvals, *st.kernel_args)
    assert np.allclose(model.interior(fast), model.interior(slow), rtol=1e-13, atol=1e-14)


def test_variable_diffusivity_and_face_velocity_fields():
    grid = pdekit.Grid.uniform((8, 9), [(0, 1), (0, 1)])
    rng = np.random.default_rng(5)
    D = 0.01 + rng.random(grid.shape) * 0.05
    vx = rng.uniform(-1, 1, (9, 9))
    vy = rng.uniform(-1, 1, (8, 10))
    model = pdekit.AdvectionDiffusion(grid, "zero-flux", velocity=(vx, vy), diffusivity=D, scheme="mc")
    state = model.state_from(rng.random(grid.shape))
    assert np.allclose(model.rate(state), _numpy_rate(model, state), rtol=1e-11, atol=1e-12)
    # zero-flux walls: the rate integrates to zero
    assert abs(grid.integrate(model.rate(state)[0])) < 1e-12


@pytest.mark.parametrize("bc", [("dirichlet", 0.5), ("neumann", -0.2), "outflow", "zero-flux", "periodic"],
                         ids=str)
def test_implicit_operator_matches_explicit_rate(bc):
    """The sparse matrix of Crank–Nicolson is the same semi-discrete operator as the explicit kernel."""
    grid = pdekit.Grid([pdekit.Axis.log("x", 0.5, 2.0, 11), pdekit.Axis.uniform("y", 0, 1, 7)])
    rng = np.random.default_rng(7)
    D = 0.1 + rng.random(grid.shape)
    model = pdekit.AdvectionDiffusion(grid, bc, diffusivity=D)
    state = model.state_from(rng.random(grid.shape))
    L, bvecs = diffusion_operator(grid, model.boundaries, model.face_diffusivity)
    u = model.interior(state)[0].ravel()
    affine = sum((model.boundaries.sides[d][s].value_at(0.0) * v for (d, s), v in bvecs.items()),
                 np.zeros_like(u))
    assert np.allclose(L @ u + affine, model.rate(state)[0].ravel(), rtol=1e-11, atol=1e-11)


def test_time_dependent_path_equals_fused_path():
    """Callables that return constants give bit-identical results to the compiled N-step loop."""
    grid = pdekit.Grid.uniform(32, (0.0, 1.0))
    u0 = np.sin(np.pi * grid.centres[0]) + 1
    fused = pdekit.AdvectionDiffusion(grid, {"x": ("dirichlet", 1.0)}, velocity=0.5, diffusivity=0.01)
    timed = pdekit.AdvectionDiffusion(grid, {"x": ("dirichlet", lambda t: 1.0)}, velocity=0.5, diffusivity=0.01)
    a = pdekit.run(fused, u0, t_end=0.2, snapshots=2, progress=False)
    b = pdekit.run(timed, u0, t_end=0.2, snapshots=2, progress=False)
    assert np.array_equal(a.u.values, b.u.values)


def test_time_dependent_dirichlet_and_source():
    """u = t * x solves u_t = u_xx + x with u(0)=0, u(1)=t: the scheme is exact for it up to round-off."""
    grid = pdekit.Grid.uniform(20, (0.0, 1.0))
    model = pdekit.AdvectionDiffusion(grid, {"x": (("dirichlet", 0.0), ("dirichlet", lambda t: t))},
                                      diffusivity=1.0, source=lambda x, t: x)
    for method in ("ssprk2", "crank-nicolson"):
        kw = {"cfl": 0.4} if method == "ssprk2" else {"dt": 0.01}
        ds = pdekit.run(model, np.zeros(20), t_end=0.3, method=method, snapshots=3, progress=False, **kw)
        assert np.allclose(ds.u.values[-1], 0.3 * grid.centres[0], atol=1e-12), method


def test_neumann_inflow_adds_mass():
    grid = pdekit.Grid.uniform(50, (0.0, 2.0))
    q = 0.25
    model = pdekit.AdvectionDiffusion(grid, {"x": (("neumann", q), "zero-flux")}, diffusivity=0.1)
    for method, kw in (("ssprk2", {"cfl": 0.4}), ("crank-nicolson", {"dt": 0.01})):
        ds = pdekit.run(model, np.ones(50), t_end=0.5, method=method, snapshots=1, progress=False, **kw)
        gained = grid.integrate(ds.u.values[-1]) - grid.integrate(ds.u.values[0])
        assert np.isclose(gained, q * 0.5, rtol=1e-12), method


def _pulse_errors(levels, scheme, method):
    errs = []
    for n in levels:
        grid = pdekit.Grid.uniform(n, (0.0, 1.0))
        model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=1.0, diffusivity=1e-3, scheme=scheme)
        kw = dict(x0=0.5, sigma0=0.06, velocity=1.0, diffusivity=1e-3, period=1.0)
        u0 = exact.gaussian_periodic_average(grid.faces[0], 0.0, **kw)
        ds = pdekit.run(model, u0, t_end=0.5, cfl=0.4, method=method, snapshots=1, progress=False)
        errs.append(np.mean(np.abs(ds.u.values[-1] - exact.gaussian_periodic_average(grid.faces[0], 0.5, **kw))))
    return np.log2(np.array(errs[:-1]) / np.array(errs[1:]))


@pytest.mark.parametrize("scheme", ["vanleer", "mc", "minmod"])
def test_tvd_schemes_are_second_order_on_smooth_pulse(scheme):
    """Issue bound: observed order >= 1.85 (limiters clip smooth extrema, so only a lower bound)."""
    orders = _pulse_errors((128, 256, 512), scheme, "ssprk3")
    assert orders[-1] >= 2.0 - 0.15, orders


def test_upwind_is_first_order():
    orders = _pulse_errors((1024, 2048, 4096), "upwind", "ssprk2")
    assert abs(orders[-1] - 1.0) <= 0.15, orders


def test_crank_nicolson_second_order_in_space_and_time():
    errs = []
    for n in (32, 64, 128):
        grid = pdekit.Grid.uniform(n, (0.0, 1.0))
        model = pdekit.AdvectionDiffusion(grid, {"x": ("dirichlet", 0.0)}, diffusivity=1.0)
        u0 = exact.sine_mode_dirichlet_average(grid.faces[0], 0.0, diffusivity=1.0)
        ds = pdekit.run(model, u0, t_end=1 / 16, dt=0.5 / n, method="crank-nicolson", snapshots=1, progress=False)
        errs.append(np.abs(ds.u.values[-1] - exact.sine_mode_dirichlet_average(grid.faces[0], 1 / 16,
                                                                              diffusivity=1.0)).max())
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(orders - 2.0) <= 0.15), orders


def test_strang_second_order():
    errs = []
    for n in (128, 256, 512):
        grid = pdekit.Grid.uniform(n, (0.0, 1.0))
        model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=1.0, diffusivity=5e-3)
        kw = dict(x0=0.5, sigma0=0.06, velocity=1.0, diffusivity=5e-3, period=1.0)
        u0 = exact.gaussian_periodic_average(grid.faces[0], 0.0, **kw)
        ds = pdekit.run(model, u0, t_end=0.5, cfl=0.4, method="strang", snapshots=1, progress=False)
        errs.append(np.mean(np.abs(ds.u.values[-1] - exact.gaussian_periodic_average(grid.faces[0], 0.5, **kw))))
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert abs(orders[-1] - 2.0) <= 0.15, orders


def test_2d_pulse_second_order():
    errs = []
    for n in (32, 64, 128):
        grid = pdekit.Grid.uniform((n, n), [(0, 1), (0, 1)])
        model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=(1.0, 0.5), diffusivity=1e-3)
        kw = dict(x0=(0.5, 0.5), sigma0=0.06, velocity=(1.0, 0.5), diffusivity=1e-3, period=(1.0, 1.0))
        u0 = exact.gaussian_periodic_average_nd(grid.faces, 0.0, **kw)
        ds = pdekit.run(model, u0, t_end=0.5, cfl=0.4, method="ssprk3", snapshots=1, progress=False)
        errs.append(np.mean(np.abs(ds.u.values[-1] - exact.gaussian_periodic_average_nd(grid.faces, 0.5, **kw))))
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert orders[-1] >= 1.85, orders


@pytest.mark.parametrize("bc,geometry", [("periodic", "cartesian"), ("zero-flux", "cartesian"),
                                         ("zero-flux", "spherical")])
@pytest.mark.parametrize("method", ["ssprk3", "strang"])
def test_mass_conserved_to_round_off(bc, geometry, method):
    if geometry == "spherical":
        grid = pdekit.Grid([pdekit.Axis.log("r", 0.1, 5.0, 40)], geometry="spherical")
        vel = 0.3
    else:
        grid = pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 30), pdekit.Axis.log("y", 0.5, 2, 20)])
        vel = (0.6, -0.3)
    rng = np.random.default_rng(11)
    model = pdekit.AdvectionDiffusion(grid, bc, velocity=vel, diffusivity=0.01, scheme="vanleer")
    ds = pdekit.run(model, 1 + rng.random(grid.shape), t_end=0.2, cfl=0.4, method=method, snapshots=4,
                    progress=False)
    mass = [grid.integrate(ds.u.values[k]) for k in range(5)]
    assert np.max(np.abs(np.array(mass) / mass[0] - 1)) <= 1e-12


@pytest.mark.parametrize("limiter", ["minmod", "vanleer", "mc", "superbee"])
def test_tvd_no_new_extrema_on_square_pulse(limiter):
    grid = pdekit.Grid.uniform(100, (0.0, 1.0))
    model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=-1.0, scheme=limiter)
    u0 = exact.square_pulse_average(grid.faces[0], left=0.2, right=0.5, low=-0.5, high=2.0)
    ds = pdekit.run(model, u0, t_end=1.0, cfl=0.5, method="ssprk3", snapshots=10, progress=False)
    u = ds.u.values
    assert u.max() <= 2.0 + 1e-13 and u.min() >= -0.5 - 1e-13
    tv = np.abs(np.diff(np.concatenate([u, u[:, :1]], axis=1), axis=1)).sum(axis=1)
    assert np.all(np.diff(tv) <= 1e-12)
    # every limiter is less diffusive than first-order upwind on the same problem
    up = pdekit.run(pdekit.AdvectionDiffusion(grid, "periodic", velocity=-1.0, scheme="upwind"), u0, t_end=1.0,
                    cfl=0.5, method="ssprk3", snapshots=1, progress=False)
    assert np.mean(np.abs(u[-1] - u0)) < 0.8 * np.mean(np.abs(up.u.values[-1] - u0))


def test_several_tracers_share_the_flow():
    grid = pdekit.Grid.uniform(40, (0.0, 1.0))
    model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=1.0, diffusivity=1e-3, variables=("a", "b"))
    x = grid.centres[0]
    ds = pdekit.run(model, {"a": np.sin(2 * np.pi * x), "b": 2 * np.sin(2 * np.pi * x)}, t_end=0.1,
                    snapshots=1, progress=False)
    assert set(ds.data_vars) == {"a", "b"}
    assert np.allclose(2 * ds.a.values, ds.b.values, rtol=1e-13, atol=1e-14)


def test_upwind_euler_positive_at_cfl_one_in_spherical_geometry():
    """Outflow from the innermost shell is 3 v / dr: the time-step bound must include the metric."""
    grid = pdekit.Grid([pdekit.Axis.uniform("r", 0.0, 1.0, 50)], geometry="spherical")
    model = pdekit.AdvectionDiffusion(grid, {"r": ("zero-flux", "outflow")}, velocity=1.0, scheme="upwind")
    u0 = np.exp(-((grid.centres[0]) ** 2) / 0.01)
    # before the metric-aware bound this blew up to 1e5 with alternating signs at cfl 0.9
    ds = pdekit.run(model, u0, t_end=0.5, cfl=0.9, method="euler", snapshots=5, progress=False)
    assert ds.u.values.min() >= 0.0 and ds.u.values.max() <= u0.max()


def test_spherical_implicit_operator_matches_explicit_rate():
    grid = pdekit.Grid([pdekit.Axis.log("r", 0.1, 3.0, 20)], geometry="spherical")
    rng = np.random.default_rng(2)
    model = pdekit.AdvectionDiffusion(grid, {"r": (("neumann", 0.3), ("dirichlet", 0.5))},
                                      diffusivity=0.1 + rng.random(20))
    state = model.state_from(rng.random(20))
    L, bvecs = diffusion_operator(grid, model.boundaries, model.face_diffusivity)
    u = model.interior(state)[0]
    affine = sum(model.boundaries.sides[d][s].value_at(0.0) * v for (d, s), v in bvecs.items())
    assert np.allclose(L @ u + affine, model.rate(state)[0], rtol=1e-12, atol=1e-12)
