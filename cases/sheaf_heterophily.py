"""Oversmoothing vs separation on a heterophilic graph (Bodnar et al. 2022, "Neural Sheaf
Diffusion", Sec. 3–4): nodes of planted classes connect mostly *across* classes. Heat flow with the
trivial sheaf drives every node's feature direction to the same vector (the classes collapse);
a signed sheaf (-1 on edges between classes) separates two classes, and with four classes an O(2)
sheaf rotating by the class-angle difference, or a diagonal sheaf with a sign pattern per class,
separates all of them — in the limit t -> infinity (the projection onto the harmonic space) and
already at finite times. Margins: :func:`pdekit.sheaf.separation.separation_margin`."""
import sys

import numpy as np

import pdekit
from pdekit.analysis import pyplot, save_figure
from pdekit.sheaf import Graph, Sheaf, SheafDiffusion
from pdekit.sheaf.separation import between_class_fraction, separation_margin

NAME = "sheaf-heterophily"
PARAMETERS = dict(classes=2, nodes_per_class=40, p_in=0.02, p_out=0.2, sheaf="signed", t_end=40.0, snapshots=40,
                  seed=1)
SIGN_PATTERNS = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]], dtype=float)


def graph(p):
    return Graph.planted_partition([p["nodes_per_class"]] * p["classes"], p["p_in"], p["p_out"], seed=p["seed"])


def _rot(a):
    return np.stack([np.stack([np.cos(a), -np.sin(a)], -1), np.stack([np.sin(a), np.cos(a)], -1)], -2)


def make_sheaf(kind, g, labels, classes):
    """The sheaves of the experiment; d = 1 for two classes, d = 2 for four."""
    u, v = g.edges.T
    d = 1 if classes == 2 else 2
    if kind not in ("trivial", "signed", "orthogonal", "diagonal"):
        raise pdekit.ParameterError(f"unknown sheaf {kind!r}; accepted: trivial, signed, orthogonal, diagonal")
    if kind == "trivial":
        return Sheaf.trivial(g, d)
    if kind == "signed":
        if classes != 2:
            raise pdekit.ParameterError("the signed sheaf (d = 1) is for two classes; use orthogonal or diagonal")
        return Sheaf.signed(g, np.where(labels[u] == labels[v], 1.0, -1.0))
    if classes != 4:
        raise pdekit.ParameterError(f"sheaf {kind!r} is set up for four classes")
    if kind == "orthogonal":
        ang = 2 * np.pi * labels / 4
        return Sheaf.from_connection(g, _rot(ang[v] - ang[u]))
    if kind == "diagonal":
        s = SIGN_PATTERNS[labels]
        return Sheaf.diagonal(g, np.stack([s[u], s[v]], axis=1))
    raise pdekit.ParameterError(f"unknown sheaf {kind!r}; accepted: trivial, signed, orthogonal, diagonal")


def build(**p):
    if p["classes"] not in (2, 4):
        raise pdekit.ParameterError(f"classes must be 2 or 4, got {p['classes']}")
    g, labels = graph(p)
    sheaf = make_sheaf(p["sheaf"], g, labels, p["classes"])
    X0 = np.random.default_rng(p["seed"] + 100).normal(size=(g.n_nodes, sheaf.d, 1))
    return SheafDiffusion(sheaf), X0, dict(t_end=p["t_end"], dt=p["t_end"] / p["snapshots"], method="exact",
                                            snapshots=p["snapshots"])


def _margins(ds, labels):
    return np.array([separation_margin(x, labels) for x in ds.x.values])


def summary(ds, **p):
    g, labels = graph(p)
    model, X0, _ = build(**p)
    limit = model.sheaf.project_harmonic(X0)
    m = _margins(ds, labels)
    return (f"{p['classes']} classes, {g.n_nodes} nodes, {g.n_edges} edges "
            f"({np.mean(labels[g.edges[:, 0]] == labels[g.edges[:, 1]]):.0%} inside classes); {p['sheaf']} sheaf, "
            f"d = {model.sheaf.d}, dim ker = {model.sheaf.harmonic_basis().shape[1]}\n"
            f"separation margin: t=0 {m[0]:+.3f}, t={float(ds.t[-1]):g} {m[-1]:+.3f}, limit "
            f"{separation_margin(limit, labels):+.3f}; between-class fraction in the limit "
            f"{between_class_fraction(limit, labels):.3f}")


def plot(ds, path, **p):
    plt = pyplot()

    g, labels = graph(p)
    runs = {"trivial": None, p["sheaf"]: ds} if p["sheaf"] != "trivial" else {"trivial": ds}
    for kind in runs:
        if runs[kind] is None:
            model, X0, kw = build(**dict(p, sheaf="trivial"))
            runs[kind] = pdekit.run(model, X0, progress=False, **kw)
    picks = [0, 2, len(ds.t) // 4, len(ds.t) - 1]
    fig, axes = plt.subplots(len(runs), len(picks) + 1, figsize=(3.3 * (len(picks) + 1), 3.2 * len(runs)),
                             squeeze=False)
    for row, (kind, d) in enumerate(runs.items()):
        for col, k in enumerate(picks):
            ax = axes[row, col]
            x = d.x.values[k][:, :, 0]
            z = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-300)
            if x.shape[1] == 1:
                ax.scatter(np.arange(len(z)), z[:, 0] * np.linalg.norm(x, axis=1), c=labels, s=8, cmap="coolwarm")
                ax.set_xlabel("node")
            else:
                ax.scatter(z[:, 0], z[:, 1], c=labels, s=10, cmap="viridis")
                ax.set_xlim(-1.2, 1.2)
                ax.set_ylim(-1.2, 1.2)
                ax.set_aspect("equal")
            ax.set_title(f"{kind}, t = {float(d.t[k]):.3g}", fontsize=8)
        axes[row, -1].plot(d.t.values, _margins(d, labels), "o-", ms=3)
        axes[row, -1].axhline(0, color="grey", lw=0.6)
        axes[row, -1].set_xlabel("t")
        axes[row, -1].set_title(f"{kind}: separation margin", fontsize=8)
    fig.suptitle("node features over time (direction of the stalk vector; colour = class)", fontsize=10)
    save_figure(fig, path, dpi=100)


def main(argv=None):
    from pdekit.cases import main as case_main

    return case_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
