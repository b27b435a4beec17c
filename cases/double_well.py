"""Double-well potential U = x^4/4 - x^2/2 (FP-DW): a density started in the left well leaks over the
barrier (Kramers) and relaxes to the Boltzmann distribution exp(-U/D)/Z, which the Chang–Cooper
scheme with potential-difference weights reproduces to round-off."""
import sys

import numpy as np

import pdekit
from pdekit.analysis import pyplot, save_figure
from pdekit.fokker_planck import exact
from pdekit.fokker_planck.model import FokkerPlanck

NAME = "double-well"
PARAMETERS = dict(n=200, D=0.25, method="tr-bdf2", dt=0.5, t_end=200.0, snapshots=40, x0=-1.0, width=0.1)


def build(**p):
    grid = pdekit.Grid([pdekit.Axis.uniform("x", -2.5, 2.5, p["n"])])
    model = FokkerPlanck(grid, "zero-flux", diffusion=p["D"], potential=exact.double_well_potential)
    x = grid.centres[0]
    u0 = np.exp(-(x - p["x0"]) ** 2 / (2 * p["width"] ** 2))
    u0 /= grid.integrate(u0)
    return model, u0, dict(t_end=p["t_end"], dt=p["dt"], method=p["method"], snapshots=p["snapshots"])


def _equilibrium(ds, p):
    x = ds.x.values
    return exact.boltzmann_density(x, exact.double_well_potential, p["D"], (-2.5, 2.5))


def summary(ds, **p):
    x = ds.x.values
    h = 5.0 / p["n"]
    right = (ds.u.values[:, x > 0].sum(axis=1) * h)
    p_inf = _equilibrium(ds, p)
    # Kramers: the right-well population approaches 1/2 as 1/2 (1 - exp(-2 k t))
    k = np.nan
    sel = (right > 0.05) & (right < 0.45)
    if sel.sum() >= 2:
        k = -np.polyfit(ds.t.values[sel], np.log(1 - 2 * right[sel]), 1)[0] / 2
    return (f"right-well population {right[-1]:.4f} at t={float(ds.t[-1]):g}; fitted hopping rate k = {k:.4g} "
            f"(Kramers estimate sqrt(2)/(2 pi) exp(-1/(4D)) = {np.sqrt(2) / (2 * np.pi) * np.exp(-0.25 / p['D']):.4g}); "
            f"L1 distance to exp(-U/D)/Z: {np.sum(np.abs(ds.u.values[-1] - p_inf)) * h:.2e}")


def plot(ds, path, **p):
    plt = pyplot()

    x = ds.x.values
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for k in np.linspace(0, len(ds.t) - 1, 6).astype(int):
        axes[0].plot(x, ds.u.values[k], lw=1, label=f"t = {float(ds.t[k]):g}")
    axes[0].plot(x, _equilibrium(ds, p), "k--", lw=1, label="exp(-U/D)/Z")
    axes[0].set_xlabel("x")
    axes[0].legend(fontsize=7)
    axes[0].set_title(f"double well, D = {p['D']}", fontsize=9)
    h = 5.0 / p["n"]
    axes[1].plot(ds.t.values, ds.u.values[:, x > 0].sum(axis=1) * h, "o-", ms=3)
    axes[1].axhline(0.5, color="grey", lw=0.6)
    axes[1].set_xlabel("t")
    axes[1].set_ylabel("population of the right well")
    save_figure(fig, path, dpi=100)


def main(argv=None):
    from pdekit.cases import main as case_main

    return case_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
