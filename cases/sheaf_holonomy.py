"""Sheaf diffusion with an O(2) connection on a ring or torus graph: holonomy off vs on.

The sheaf of a connection has maps F_{u◁e} = T_e, F_{v◁e} = I, with T_e the rotation that carries
the stalk of u to that of v. With holonomy off (rotations R(phi_v - phi_u) from a node frame field:
a gauge transform of the trivial connection) every cycle's transport is the identity, the harmonic
space has dimension d = 2, and diffusion ends at a non-zero global section — a vector field that is
parallel for the connection. With holonomy on (every edge rotates by the same angle, so a cycle of
the ring rotates by ``holonomy`` radians) no non-zero section exists and the features decay to zero
(Bodnar et al. 2022, Sec. 2; Hansen & Ghrist 2019)."""
import sys

import numpy as np

import pdekit
from pdekit.analysis import pyplot, save_figure
from pdekit.sheaf import Graph, Sheaf, SheafDiffusion

NAME = "sheaf-holonomy"
PARAMETERS = dict(graph="ring", n=12, holonomy=float(np.pi), t_end=300.0, snapshots=30, channels=1, seed=0)


def _graph(p):
    if p["graph"] == "ring":
        return Graph.ring(p["n"])
    if p["graph"] == "torus":
        return Graph.torus(p["n"], p["n"])
    raise pdekit.ParameterError(f"graph must be 'ring' or 'torus', got {p['graph']!r}")


def _rot(a):
    a = np.asarray(a, dtype=float)
    return np.stack([np.stack([np.cos(a), -np.sin(a)], -1), np.stack([np.sin(a), np.cos(a)], -1)], -2)


def make_sheaf(p, holonomy=None):
    """O(2) connection: a smooth gauge times, with holonomy, a rotation by holonomy/n on every edge."""
    g = _graph(p)
    hol = p["holonomy"] if holonomy is None else holonomy
    # a smooth frame field (one turn around the ring / along the torus rows): the gauge of the connection
    phi = 2 * np.pi * (np.arange(g.n_nodes) // (1 if p["graph"] == "ring" else p["n"])) / p["n"]
    u, v = g.edges.T
    twist = hol / p["n"]  # per edge: a cycle of n edges (the ring, or a torus row/column) turns by hol
    return Sheaf.from_connection(g, _rot(phi[v] - phi[u] + twist))


def build(**p):
    sheaf = make_sheaf(p)
    model = SheafDiffusion(sheaf, channels=p["channels"])
    X0 = np.random.default_rng(p["seed"] + 1).normal(size=(sheaf.n_nodes, 2, p["channels"]))
    return model, X0, dict(t_end=p["t_end"], dt=p["t_end"] / p["snapshots"], method="exact",
                           snapshots=p["snapshots"])


def _norms(ds):
    return np.sqrt((ds.x.values ** 2).sum(axis=(1, 2, 3)))


def summary(ds, **p):
    sheaf = make_sheaf(p)
    k = sheaf.harmonic_basis().shape[1]
    X0 = ds.x.values[0]
    limit = sheaf.project_harmonic(X0)
    err = np.abs(ds.x.values[-1] - limit).max()
    return (f"{p['graph']} graph, holonomy {p['holonomy']:g} rad: dim ker Delta_F = {k} "
            f"({'no non-zero global section' if k == 0 else 'global sections survive'}); |X(t_end)| / |X(0)| = "
            f"{_norms(ds)[-1] / _norms(ds)[0]:.3e}; distance to the harmonic projection {err:.2e}")


def plot(ds, path, **p):
    plt = pyplot()

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for hol, style in ((0.0, "-"), (p["holonomy"], "--")):
        q = dict(p, holonomy=hol)
        model, X0, kw = build(**q)
        d = pdekit.run(model, X0, progress=False, **kw)
        E = [model.energy(x) for x in d.x.values]
        axes[0].semilogy(d.t.values, _norms(d) / _norms(d)[0], style, label=f"|X(t)|, holonomy {hol:g}")
        axes[0].semilogy(d.t.values, np.maximum(E, 1e-300) / E[0], style, alpha=0.6, label=f"energy, holonomy {hol:g}")
        if p["graph"] == "ring":
            ax = axes[1] if hol == 0.0 else axes[2]
            ang = 2 * np.pi * np.arange(p["n"]) / p["n"]
            scale = 3.0 * np.abs(d.x.values[0]).max()  # one scale for every time: decay shows
            for k, alpha in ((0, 0.3), (len(d.t) // 6, 0.6), (len(d.t) - 1, 1.0)):
                x = d.x.values[k][:, :, 0]
                ax.quiver(np.cos(ang), np.sin(ang), x[:, 0], x[:, 1], alpha=alpha, angles="xy", scale_units="xy",
                          scale=scale, label=f"t = {float(d.t[k]):.3g}")
            ax.set_aspect("equal")
            ax.set_title(f"node vectors, holonomy {hol:g} rad", fontsize=9)
            ax.legend(fontsize=7)
    axes[0].set_xlabel("t")
    axes[0].set_ylim(1e-12, 2)
    axes[0].legend(fontsize=7)
    axes[0].set_title("heat flow of an O(2) connection sheaf", fontsize=9)
    save_figure(fig, path, dpi=100)


def main(argv=None):
    from pdekit.cases import main as case_main

    return case_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
