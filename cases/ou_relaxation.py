"""2D Ornstein–Uhlenbeck relaxation (FP-OU2): an off-centre Gaussian relaxes to the stationary
N(0, S_inf) under gradient (anisotropic) or rotational drift; compared with the exact Gaussian."""
import sys

import numpy as np

import pdekit
from pdekit.analysis import pyplot, save_figure
from pdekit.fokker_planck import exact
from pdekit.fokker_planck.model import FokkerPlanck

NAME = "ou-relaxation"
PARAMETERS = dict(n=200, drift="gradient", method="adi", dt=0.01, t_end=1.0, snapshots=10, D=1.0)
M0 = np.array([1.5, -1.0])
S0 = 0.09 * np.eye(2)


def drift_matrix(kind):
    if kind == "gradient":
        c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
        R = np.array([[c, -s], [s, c]])
        return R @ np.diag([1.0, 4.0]) @ R.T
    if kind == "rotational":
        return np.array([[1.0, -2.0], [2.0, 1.0]])
    raise pdekit.ParameterError(f"drift must be 'gradient' or 'rotational', got {kind!r}")


def build(**p):
    A = drift_matrix(p["drift"])
    grid = pdekit.Grid.uniform((p["n"], p["n"]), [(-6.0, 6.0), (-6.0, 6.0)])
    model = FokkerPlanck(grid, "zero-flux", diffusion=p["D"],
                         drift=lambda x, y: (-(A[0, 0] * x + A[0, 1] * y), -(A[1, 0] * x + A[1, 1] * y)))
    X, Y = grid.meshgrid()
    u0 = exact.ou_density(X, Y, t=0.0, A=A, D=p["D"], m0=M0, S0=S0)
    return model, u0, dict(t_end=p["t_end"], dt=p["dt"], method=p["method"], snapshots=p["snapshots"])


def _errors(ds, p):
    A = drift_matrix(p["drift"])
    X, Y = np.meshgrid(ds.x.values, ds.y.values, indexing="ij")
    vol = (12.0 / p["n"]) ** 2
    out = []
    for k, t in enumerate(ds.t.values):
        ref = exact.ou_density(X, Y, t=float(t), A=A, D=p["D"], m0=M0, S0=S0)
        out.append(float(np.sum(np.abs(ds.u.values[k] - ref)) * vol))
    return out


def summary(ds, **p):
    e = _errors(ds, p)
    mass = ds.u.values.sum(axis=(1, 2)) * (12.0 / p["n"]) ** 2
    return (f"{p['drift']} drift, {p['n']}^2 cells, {p['method']} dt={p['dt']}: L1 error vs exact at t={float(ds.t[-1]):g}: "
            f"{e[-1]:.3e} (max over snapshots {max(e):.3e}); mass drift {np.max(np.abs(mass - mass[0])):.1e}; "
            f"min density {ds.u.values.min():.1e}")


def plot(ds, path, **p):
    plt = pyplot()

    A = drift_matrix(p["drift"])
    X, Y = np.meshgrid(ds.x.values, ds.y.values, indexing="ij")
    picks = [0, len(ds.t) // 4, len(ds.t) // 2, len(ds.t) - 1]
    fig, axes = plt.subplots(1, len(picks), figsize=(3.4 * len(picks), 3.4))
    for ax, k in zip(axes, picks):
        t = float(ds.t[k])
        ref = exact.ou_density(X, Y, t=t, A=A, D=p["D"], m0=M0, S0=S0)
        ax.contourf(X, Y, ds.u.values[k], levels=12, cmap="viridis")
        ax.contour(X, Y, ref, levels=6, colors="w", linewidths=0.6, linestyles="--")
        ax.set_title(f"t = {t:.2f}", fontsize=9)
        ax.set_aspect("equal")
        ax.set_xlim(-4, 4)
        ax.set_ylim(-4, 4)
    fig.suptitle(f"OU relaxation ({p['drift']} drift): pdekit (colour) vs exact (dashed)", fontsize=10)
    save_figure(fig, path, dpi=100)


def main(argv=None):
    from pdekit.cases import main as case_main

    return case_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
