"""Validation of the advection–diffusion solver against exact solutions.

Run as ``pdekit validate advection-diffusion [--json PATH] [--plot DIR]`` or
``python validation/advection_diffusion.py``. Studies:

* convergence on the periodic Gaussian pulse (1D, all TVD limiters and upwind; 2D), on a smoothly
  stretched periodic grid, with Strang splitting, and on the decaying Dirichlet sine mode
  (Crank–Nicolson and SSP-RK2): four or more grid levels, L1/L2/Linf errors and observed orders;
* mass conservation to 1e-12 (relative) on periodic, zero-flux and spherical-radial domains;
* TVD limiters create no new extrema and do not increase the total variation on a square pulse.
"""
from __future__ import annotations

import json
import sys

import numpy as np

import pdekit
from pdekit.advection_diffusion import exact
from pdekit.analysis import (convergence_plot, convergence_table, error_norms, observed_orders, pyplot,
                             save_figure)
from pdekit.validation import Study, main as validation_main, study

ORDER_TOL = 0.15


def _plot(plot_dir, name, h, norms, expected, x=None, numerical=None, reference=None):
    if plot_dir is None:
        return
    plt = pyplot()

    ncol = 2 if x is not None else 1
    fig, axes = plt.subplots(1, ncol, figsize=(5 * ncol, 3.8))
    axes = np.atleast_1d(axes)
    convergence_plot(axes[0], h, norms, expected)
    axes[0].set_title(name, fontsize=9)
    if x is not None:
        axes[1].plot(x, reference, "k-", lw=1, label="exact")
        axes[1].plot(x, numerical, ".", ms=3, label="pdekit (finest)")
        axes[1].set_xlabel("x")
        axes[1].legend(fontsize=7)
        axes[1].set_title("final state", fontsize=9)
    save_figure(fig, plot_dir / f"{name}.png", dpi=110)


def _convergence(name, description, levels, solve, expected, bound, plot_dir, order_norm="L1"):
    """Run ``solve(n) -> (h, numerical, exact, volumes, x)`` on each level; judge the finest order."""
    hs, norms, ns = [], [], []
    last = None
    for n in levels:
        h, num, ref, vol, x = solve(n)
        hs.append(h)
        ns.append(n)
        norms.append(error_norms(num, ref, vol))
        last = (x, num, ref)
    orders = observed_orders(hs, [m[order_norm] for m in norms])
    observed = float(orders[-1])
    final = norms[-1][order_norm]
    passed = bool(observed >= expected - ORDER_TOL and final <= bound)
    x, num, ref = last
    if num.ndim > 1:  # plot a cut through the peak for 2D
        mid = int(np.unravel_index(np.argmax(ref), ref.shape)[1])
        num, ref = num[:, mid], ref[:, mid]
    _plot(plot_dir, name, hs, norms, expected, x, num, ref)
    return Study(name=name, passed=passed, observed_order=observed, expected_order=expected,
                 final_error=final, bound=bound, description=description,
                 table=convergence_table(hs, norms, ns),
                 details={"h": hs, "norms": norms, "orders_" + order_norm: orders.tolist(),
                          "order_norm": order_norm})


# ---- periodic Gaussian pulse -----------------------------------------------------------------------
PULSE = dict(x0=0.5, sigma0=0.06, velocity=1.0, diffusivity=1e-3, period=1.0, t_end=0.5)


def _pulse_1d(scheme, method="ssprk3", cfl=0.4, faces_fn=None, velocity=PULSE["velocity"],
              diffusivity=PULSE["diffusivity"]):
    def solve(n):
        axis = pdekit.Axis.uniform("x", 0.0, 1.0, n) if faces_fn is None else \
            pdekit.Axis.from_faces("x", faces_fn(n))
        grid = pdekit.Grid([axis])
        model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=velocity, diffusivity=diffusivity,
                                          scheme=scheme)
        kw = dict(x0=PULSE["x0"], sigma0=PULSE["sigma0"], velocity=velocity, diffusivity=diffusivity, period=1.0)
        u0 = exact.gaussian_periodic_average(axis.faces, 0.0, **kw)
        ds = pdekit.run(model, u0, t_end=PULSE["t_end"], cfl=cfl, method=method, snapshots=1, progress=False)
        ref = exact.gaussian_periodic_average(axis.faces, PULSE["t_end"], **kw)
        return axis.widths.max(), ds.u.values[-1], ref, axis.widths, axis.centres
    return solve


def _pulse_study(scheme, expected, bound, levels=(64, 128, 256, 512), method="ssprk3"):
    name = f"gaussian-1d-periodic-{scheme}"

    @study(name)
    def run_study(plot_dir):
        return _convergence(name, f"1D periodic Gaussian, v=1, D=1e-3, {scheme} + {method}", levels,
                            _pulse_1d(scheme, method), expected, bound, plot_dir)
    return run_study


@study("gaussian-2d-periodic-vanleer")
def gaussian_2d(plot_dir):
    v, D = (1.0, 0.5), 1e-3

    def solve(n):
        grid = pdekit.Grid.uniform((n, n), [(0.0, 1.0), (0.0, 1.0)])
        model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=v, diffusivity=D, scheme="vanleer")
        kw = dict(x0=(0.5, 0.5), sigma0=PULSE["sigma0"], velocity=v, diffusivity=D, period=(1.0, 1.0))
        u0 = exact.gaussian_periodic_average_nd(grid.faces, 0.0, **kw)
        ds = pdekit.run(model, u0, t_end=0.5, cfl=0.4, method="ssprk3", snapshots=1, progress=False)
        ref = exact.gaussian_periodic_average_nd(grid.faces, 0.5, **kw)
        return 1.0 / n, ds.u.values[-1], ref, grid.volumes, grid.centres[0]
    return _convergence("gaussian-2d-periodic-vanleer", "2D periodic Gaussian, v=(1, 0.5), D=1e-3, van Leer + SSP-RK3",
                        (32, 64, 128, 256), solve, 2.0, 2e-4, plot_dir)


@study("gaussian-1d-stretched-diffusion")
def gaussian_stretched(plot_dir):
    """Pure diffusion on a smoothly stretched periodic grid (general-metric kernel)."""
    def faces(n):
        xi = np.linspace(0.0, 1.0, n + 1)
        return xi + 0.08 * np.sin(2 * np.pi * xi) / (2 * np.pi) * 2.0

    solve = _pulse_1d("vanleer", method="ssprk2", faces_fn=faces, velocity=0.0, diffusivity=2e-3)
    return _convergence("gaussian-1d-stretched-diffusion",
                        "1D periodic Gaussian, D=2e-3, non-uniform grid x = xi + 0.16 sin(2 pi xi)/(2 pi), SSP-RK2",
                        (32, 64, 128, 256), solve, 2.0, 1e-4, plot_dir)


@study("gaussian-1d-periodic-strang")
def gaussian_strang(plot_dir):
    solve = _pulse_1d("vanleer", method="strang", cfl=0.4, diffusivity=5e-3)
    return _convergence("gaussian-1d-periodic-strang",
                        "1D periodic Gaussian, v=1, D=5e-3, Strang: SSP-RK2 van Leer advection + CN diffusion",
                        (64, 128, 256, 512), solve, 2.0, 1e-4, plot_dir)


# ---- decaying sine mode with Dirichlet walls ------------------------------------------------------
def _sine(method):
    D, t_end = 1.0, 1.0 / 16.0  # a whole number of steps dt = h/2 on every level

    def solve(n):
        grid = pdekit.Grid.uniform(n, (0.0, 1.0))
        model = pdekit.AdvectionDiffusion(grid, {"x": ("dirichlet", 0.0)}, diffusivity=D)
        u0 = exact.sine_mode_dirichlet_average(grid.faces[0], 0.0, diffusivity=D)
        h = 1.0 / n
        kw = dict(dt=0.5 * h) if method == "crank-nicolson" else dict(cfl=0.4)
        ds = pdekit.run(model, u0, t_end=t_end, method=method, snapshots=1, progress=False, **kw)
        ref = exact.sine_mode_dirichlet_average(grid.faces[0], t_end, diffusivity=D)
        return h, ds.u.values[-1], ref, grid.volumes, grid.centres[0]
    return solve


@study("sine-dirichlet-crank-nicolson")
def sine_cn(plot_dir):
    return _convergence("sine-dirichlet-crank-nicolson", "u_t = u_xx, u=0 at x=0,1, sine mode; CN with dt = h/2",
                        (16, 32, 64, 128, 256), _sine("crank-nicolson"), 2.0, 1e-4, plot_dir)


@study("sine-dirichlet-ssprk2")
def sine_explicit(plot_dir):
    return _convergence("sine-dirichlet-ssprk2", "u_t = u_xx, u=0 at x=0,1, sine mode; explicit SSP-RK2, CFL 0.4",
                        (16, 32, 64, 128), _sine("ssprk2"), 2.0, 1e-4, plot_dir)


# ---- conservation ------------------------------------------------------------------------------------
def _mass_study(name, description, grid, bc, velocity, D, plot_dir):
    model = pdekit.AdvectionDiffusion(grid, bc, velocity=velocity, diffusivity=D, scheme="vanleer")
    rng = np.random.default_rng(1)
    u0 = 1.0 + rng.random(grid.shape)
    ds = pdekit.run(model, u0, t_end=0.3, cfl=0.4, method="ssprk3", snapshots=6, progress=False)
    mass = np.array([grid.integrate(ds.u.values[k]) for k in range(ds.sizes["t"])])
    rel = float(np.max(np.abs(mass - mass[0])) / abs(mass[0]))
    steps = json.loads(ds.attrs["run"])["steps_per_snapshot"] * 6
    return Study(name=name, passed=rel <= 1e-12, final_error=rel, bound=1e-12, description=description,
                 table=f"relative mass change over {steps} SSP-RK3 steps: {rel:.3e} (round-off only)")


@study("mass-periodic-2d")
def mass_periodic(plot_dir):
    g = pdekit.Grid.uniform((64, 48), [(0.0, 1.0), (0.0, 0.75)])
    return _mass_study("mass-periodic-2d", "2D periodic, random data, v=(1,-0.7), D=1e-3", g, "periodic",
                       (1.0, -0.7), 1e-3, plot_dir)


@study("mass-zero-flux-2d")
def mass_zero_flux(plot_dir):
    g = pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 40), pdekit.Axis.log("y", 0.1, 2.0, 30)])
    return _mass_study("mass-zero-flux-2d", "2D zero-flux walls, log-stretched y, v=(0.5, 0.3), D=2e-3", g,
                       "zero-flux", (0.5, 0.3), 2e-3, plot_dir)


@study("mass-spherical-zero-flux")
def mass_spherical(plot_dir):
    g = pdekit.Grid([pdekit.Axis.log("r", 0.1, 10.0, 64)], geometry="spherical")
    return _mass_study("mass-spherical-zero-flux", "1D spherical-radial, log grid, zero-flux, v=0.4, D=0.05", g,
                       "zero-flux", 0.4, 0.05, plot_dir)


# ---- TVD: no new extrema on a square pulse ---------------------------------------------------------
def _tvd_study(limiter):
    name = f"tvd-square-pulse-{limiter}"

    @study(name)
    def run_study(plot_dir):
        grid = pdekit.Grid.uniform(200, (0.0, 1.0))
        model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=1.0, scheme=limiter)
        u0 = exact.square_pulse_average(grid.faces[0], left=0.2, right=0.5)
        ds = pdekit.run(model, u0, t_end=1.0, cfl=0.5, method="ssprk3", snapshots=20, progress=False)
        u = ds.u.values
        over = float(max(u.max() - u0.max(), u0.min() - u.min(), 0.0))
        tv = np.abs(np.diff(np.concatenate([u, u[:, :1]], axis=1), axis=1)).sum(axis=1)
        tv_increase = float(max(np.max(np.diff(tv)), 0.0))
        err = max(over, tv_increase)
        if plot_dir is not None:
            plt = pyplot()

            fig, ax = plt.subplots(figsize=(5, 3.5))
            ax.plot(grid.centres[0], u0, "k-", lw=1, label="exact (t = 1 period)")
            ax.plot(grid.centres[0], u[-1], ".-", ms=3, label=limiter)
            ax.legend(fontsize=7)
            ax.set_title(name, fontsize=9)
            save_figure(fig, plot_dir / f"{name}.png", dpi=110)
        return Study(name=name, passed=err <= 1e-12, final_error=err, bound=1e-12,
                     description=f"square pulse, one period, v=1, CFL 0.5, {limiter} + SSP-RK3",
                     table=f"max new extremum {over:.2e}, max TV increase {tv_increase:.2e}, "
                           f"L1 error after one period {np.mean(np.abs(u[-1] - u0)):.3e}")
    return run_study


STUDIES = [
    _pulse_study("vanleer", 2.0, 5e-4),
    _pulse_study("mc", 2.0, 5e-4),
    _pulse_study("minmod", 2.0, 2e-3),
    _pulse_study("superbee", 2.0, 2e-3),
    _pulse_study("upwind", 1.0, 2e-2, levels=(256, 512, 1024, 2048, 4096), method="ssprk2"),
    gaussian_2d,
    gaussian_stretched,
    gaussian_strang,
    sine_cn,
    sine_explicit,
    mass_periodic,
    mass_zero_flux,
    mass_spherical,
] + [_tvd_study(lim) for lim in ("minmod", "vanleer", "mc", "superbee")]


def main(argv=None) -> int:
    return validation_main(STUDIES, argv, prog="pdekit validate advection-diffusion")


if __name__ == "__main__":
    sys.exit(main())
