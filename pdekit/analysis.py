"""Error norms, observed convergence orders and convergence plots."""
from __future__ import annotations

import numpy as np


def error_norms(numerical, exact, volumes=None) -> dict:
    """Discrete L1, L2 (volume-weighted, normalised by the total volume) and L-infinity errors."""
    e = np.abs(np.asarray(numerical, float) - np.asarray(exact, float))
    if volumes is None:
        w = np.full(e.shape, 1.0 / e.size)
    else:
        w = np.broadcast_to(volumes, e.shape) / np.sum(np.broadcast_to(volumes, e.shape))
    return {"L1": float(np.sum(w * e)), "L2": float(np.sqrt(np.sum(w * e**2))), "Linf": float(e.max())}


def observed_orders(h, errors) -> np.ndarray:
    """Orders between successive refinements: ``log(e_k / e_{k+1}) / log(h_k / h_{k+1})``."""
    h = np.asarray(h, float)
    e = np.asarray(errors, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(e[:-1] / e[1:]) / np.log(h[:-1] / h[1:])


def fitted_order(h, errors) -> float:
    """Least-squares slope of ``log e`` against ``log h``."""
    return float(np.polyfit(np.log(h), np.log(errors), 1)[0])


def convergence_table(h, norms: list, n=None) -> str:
    """Plain-text table of L1/L2/Linf errors and the observed orders between levels."""
    keys = ("L1", "L2", "Linf")
    lines = [f"{'cells':>8} {'h':>10} " + " ".join(f"{k + ' error':>12} {'order':>6}" for k in keys)]
    orders = {k: observed_orders(h, [m[k] for m in norms]) for k in keys}
    for i, m in enumerate(norms):
        cells = "" if n is None else str(n[i])
        row = f"{cells:>8} {h[i]:10.4g} "
        for k in keys:
            o = "" if i == 0 else f"{orders[k][i - 1]:6.2f}"
            row += f"{m[k]:12.4e} {o:>6} "
        lines.append(row.rstrip())
    return "\n".join(lines)


def convergence_plot(ax, h, norms, expected_order=None, label=""):
    """Log-log error plot with a reference slope."""
    h = np.asarray(h)
    for k, mk in (("L1", "o-"), ("L2", "s-"), ("Linf", "^-")):
        ax.loglog(h, [m[k] for m in norms], mk, label=f"{label} {k}".strip())
    if expected_order:
        e0 = norms[0]["L1"]
        ax.loglog(h, e0 * (h / h[0]) ** expected_order, "k--", lw=0.8, label=f"order {expected_order}")
    ax.set_xlabel("h")
    ax.set_ylabel("error")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (figures for files, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi=110):
    """Lay out, write and close a figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
