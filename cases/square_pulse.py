"""Square pulse advected once around a periodic line: upwind and the four TVD limiters side by side."""
import sys

import numpy as np

import pdekit
from pdekit.analysis import pyplot, save_figure
from pdekit.advection_diffusion import exact

NAME = "square-pulse"
PARAMETERS = dict(n=200, scheme="superbee", cfl=0.5, method="ssprk3", t_end=1.0, snapshots=10)


def build(**p):
    grid = pdekit.Grid.uniform(p["n"], (0.0, 1.0))
    model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=1.0, scheme=p["scheme"])
    u0 = exact.square_pulse_average(grid.faces[0], left=0.2, right=0.5)
    return model, u0, dict(t_end=p["t_end"], cfl=p["cfl"], method=p["method"], snapshots=p["snapshots"])


def summary(ds, **p):
    u0, u = ds.u.values[0], ds.u.values[-1]
    return f"{p['scheme']}: min {u.min():.3e}, max {u.max():.6f} (initial range [{u0.min():g}, {u0.max():g}]); " \
           f"L1 error after one period {np.mean(np.abs(u - u0)):.3e}"


def plot(ds, path, **p):
    plt = pyplot()

    grid = pdekit.Grid.uniform(p["n"], (0.0, 1.0))
    u0 = exact.square_pulse_average(grid.faces[0], left=0.2, right=0.5)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(grid.centres[0], u0, "k-", lw=1, label="exact")
    for scheme in ("upwind", "minmod", "vanleer", "mc", "superbee"):
        model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=1.0, scheme=scheme)
        d = pdekit.run(model, u0, t_end=p["t_end"], cfl=p["cfl"], method=p["method"], snapshots=1, progress=False)
        ax.plot(grid.centres[0], d.u.values[-1], lw=1, label=scheme)
    ax.set_xlabel("x")
    ax.set_title(f"square pulse after t = {p['t_end']:g}, CFL {p['cfl']}")
    ax.legend(fontsize=8)
    save_figure(fig, path, dpi=100)


def main(argv=None):
    from pdekit.cases import main as case_main

    return case_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
