"""Gaussian pulse advected and diffused on a periodic square (2D), compared with the exact solution."""
import sys

import numpy as np

import pdekit
from pdekit.analysis import pyplot, save_figure
from pdekit.advection_diffusion import exact

NAME = "pulse-2d"
PARAMETERS = dict(n=256, velocity_x=1.0, velocity_y=0.5, diffusivity=1e-3, sigma0=0.06, t_end=1.0,
                  scheme="vanleer", method="ssprk3", cfl=0.4, snapshots=20)


def _exact_kwargs(p):
    return dict(x0=(0.5, 0.5), sigma0=p["sigma0"], velocity=(p["velocity_x"], p["velocity_y"]),
                diffusivity=p["diffusivity"], period=(1.0, 1.0))


def build(**p):
    grid = pdekit.Grid.uniform((p["n"], p["n"]), [(0.0, 1.0), (0.0, 1.0)])
    model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=(p["velocity_x"], p["velocity_y"]),
                                      diffusivity=p["diffusivity"], scheme=p["scheme"])
    u0 = exact.gaussian_periodic_average_nd(grid.faces, 0.0, **_exact_kwargs(p))
    return model, u0, dict(t_end=p["t_end"], cfl=p["cfl"], method=p["method"], snapshots=p["snapshots"])


def summary(ds, **p):
    faces = [np.linspace(0, 1, p["n"] + 1)] * 2
    ref = exact.gaussian_periodic_average_nd(faces, float(ds.t[-1]), **_exact_kwargs(p))
    err = np.abs(ds.u.values[-1] - ref)
    return f"L1 error vs exact {err.mean():.3e}, Linf {err.max():.3e}; mass drift " \
           f"{abs(ds.u.values[-1].sum() / ds.u.values[0].sum() - 1):.1e}"


def plot(ds, path, **p):
    plt = pyplot()

    faces = [np.linspace(0, 1, p["n"] + 1)] * 2
    ref = exact.gaussian_periodic_average_nd(faces, float(ds.t[-1]), **_exact_kwargs(p))
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.8))
    ds.u.isel(t=0).plot(ax=ax[0], x="x", cmap="viridis")
    ax[0].set_title("t = 0")
    ds.u.isel(t=-1).plot(ax=ax[1], x="x", cmap="viridis")
    ax[1].set_title(f"t = {float(ds.t[-1]):g} (pdekit, {p['scheme']})")
    mid = int(np.unravel_index(np.argmax(ref), ref.shape)[1])  # cut through the pulse centre
    ax[2].plot(ds.x, ref[:, mid], "k-", lw=1, label="exact")
    ax[2].plot(ds.x, ds.u.values[-1][:, mid], ".", ms=2, label="pdekit")
    ax[2].set_xlabel("x")
    ax[2].set_title(f"cut at y = {float(ds.y[mid]):.3f}")
    ax[2].legend()
    save_figure(fig, path, dpi=100)


def main(argv=None):
    from pdekit.cases import main as case_main

    return case_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
