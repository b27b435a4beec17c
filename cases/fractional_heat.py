"""Fractional heat equation du/dt = -kappa (-Delta)^{alpha/2} u on (0, 1), u = 0 outside, from a narrow Gaussian,
next to the classical heat equation (alpha = 2) at the same times: algebraic vs Gaussian tails, mass loss.

The fractional solution is the density of an alpha-stable Levy flight killed when it jumps out of (0, 1): far
from the bump it decays like t / |x - 1/2|^{1+alpha} (algebraic tails) and mass is lost from t = 0+ at the
rate of jumps out of the interval, -dlnM/dt ~ kappa C_alpha int u0(y) (y^-alpha + (1-y)^-alpha) dy / (alpha M),
C_alpha = Gamma(1+alpha) sin(pi alpha/2) / pi (the kernel constant of the fractional Laplacian), while the
classical solution has Gaussian tails exp(-(x-1/2)^2 / 4 kappa t) and loses almost nothing until the bump
reaches the walls. The classical curve is pdekit's finite-volume AdvectionDiffusion (Dirichlet 0,
Crank-Nicolson, max(4n, 1024) + 1 cells, small dt), checked against its exact image series; the free-space
alpha-stable solution (Fourier multiplier |omega|^alpha, no walls) is an upper bound of the fractional one
(comparison principle).

Time stepping: TR-BDF2 by default. Both it and Crank-Nicolson are second order, but CN damps the stiff modes
only by (1 - z/2)/(1 + z/2) -> -1: the boundary layer u ~ d^{alpha/2} that forms at t = 0+ excites them and
on the log scale of this case they show (measured at dt = 1e-4, n = 256, alpha = 1.8: 2.2e-2 relative error
at the first snapshot with CN, 6.4e-4 with L-stable TR-BDF2)."""
import math
import sys

import numpy as np
from scipy.special import gamma

import pdekit
from pdekit.analysis import pyplot, save_figure
from pdekit.riesz import FractionalDiffusion, evaluate_result

NAME = "fractional-heat"
PARAMETERS = dict(alpha=1.5, n=256, degree=3, kappa=1.0, width=0.03, t_end=0.004, dt=2e-5, snapshots=20,
                  method="tr-bdf2", x_tail=0.1)
CENTRE = 0.5


def bump(width):
    return lambda x: np.exp(-(np.asarray(x, dtype=float) - CENTRE) ** 2 / (2 * width ** 2))


def build(**p):
    if not (0 < p["width"] <= 0.1):
        raise pdekit.ParameterError(f"width must lie in (0, 0.1] (the bump must vanish at the walls), got {p['width']}")
    if not (0 < p["x_tail"] < CENTRE):
        raise pdekit.ParameterError(f"x_tail must lie in (0, 0.5), got {p['x_tail']}")
    model = FractionalDiffusion(p["n"], p["alpha"], kappa=p["kappa"], degree=p["degree"])
    return model, bump(p["width"]), dict(t_end=p["t_end"], dt=p["dt"], method=p["method"], snapshots=p["snapshots"])


# ---- references ----------------------------------------------------------------------------------------
def classical_exact(x, t, width, kappa):
    """Exact classical solution (alpha = 2) from the Gaussian bump with u = 0 at 0 and 1: image series."""
    x = np.asarray(x, dtype=float)
    v = width ** 2 + 2 * kappa * t
    s = 0.0
    for m in range(-3, 4):
        s = s + np.exp(-(x - CENTRE + 2 * m) ** 2 / (2 * v)) - np.exp(-(x + CENTRE + 2 * m) ** 2 / (2 * v))
    return width / np.sqrt(v) * s


_CLASSICAL = {}


def classical_cells(p):
    return max(4 * p["n"], 1024) + 1


def classical_run(p):
    """pdekit's classical heat equation at the snapshot times of the case: finite volumes on
    max(4n, 1024) + 1 cells (odd: x = 1/2 is a cell centre), Dirichlet 0, Crank-Nicolson with
    dt = t_end / 2000 (accurate deep into the Gaussian tails)."""
    key = tuple(sorted(p.items()))
    if key not in _CLASSICAL:
        grid = pdekit.Grid.uniform(classical_cells(p), (0.0, 1.0))
        model = pdekit.AdvectionDiffusion(grid, ("dirichlet", 0.0), diffusivity=p["kappa"])
        _CLASSICAL[key] = pdekit.run(model, bump(p["width"]), t_end=p["t_end"], dt=p["t_end"] / 2000,
                                     method="crank-nicolson", snapshots=p["snapshots"], progress=False)
    return _CLASSICAL[key]


def free_space(x, t, p):
    """Fractional heat flow of the bump on the whole line (no walls): inverse Fourier transform of
    u0^(omega) exp(-kappa |omega|^alpha t), Gauss-Legendre in omega."""
    w = p["width"]
    top = math.sqrt(2 * 40.0) / w  # exp(-w^2 omega^2 / 2) < e^-40 beyond
    g, gw = np.polynomial.legendre.leggauss(16)
    edges = np.linspace(0.0, top, 401)
    om = (0.5 * (edges[1:] - edges[:-1])[:, None] * (g[None, :] + 1) + edges[:-1, None]).ravel()
    wt = (0.5 * (edges[1:] - edges[:-1])[:, None] * gw[None, :]).ravel()
    spec = w * math.sqrt(2 * math.pi) * np.exp(-0.5 * (w * om) ** 2 - p["kappa"] * om ** p["alpha"] * t)
    x = np.atleast_1d(np.asarray(x, dtype=float))
    return (np.cos(np.outer(x - CENTRE, om)) @ (wt * spec)) / math.pi


def kernel_constant(alpha):
    """C_alpha of (-Delta)^{alpha/2} u(x) = C_alpha p.v. int (u(x) - u(y)) / |x - y|^{1+alpha} dy in 1D."""
    return gamma(1 + alpha) * math.sin(math.pi * alpha / 2) / math.pi


def initial_loss_rate(p):
    """-dlnM/dt at t = 0: the rate of jumps out of (0, 1) of the alpha-stable process started from u0."""
    y = np.linspace(0.0, 1.0, 20001)[1:-1]
    u0 = bump(p["width"])(y)
    out = (y ** -p["alpha"] + (1 - y) ** -p["alpha"]) / p["alpha"]
    return p["kappa"] * kernel_constant(p["alpha"]) * np.trapezoid(u0 * out, y) / np.trapezoid(u0, y)


# ---- diagnostics -----------------------------------------------------------------------------------------
def fractional_mass(ds):
    """Exact integral of the spline over (0, 1): sum_j c_j (t_{j+p+1} - t_j) / (p + 1)."""
    knots = np.asarray(ds["knots"].values, dtype=float)
    coef = np.asarray(ds["coefficient"].values, dtype=float)
    p = knots.size - coef.shape[-1] - 3
    j = np.arange(1, coef.shape[-1] + 1)
    return coef @ ((knots[j + p + 1] - knots[j]) / (p + 1))


def _diagnostics(ds, p):
    cl = classical_run(p)
    t = ds.t.values
    xt = np.array([p["x_tail"], CENTRE])
    U = evaluate_result(ds, xt)
    C = np.stack([np.interp(xt, cl.x.values, cl.u.values[k]) for k in range(len(cl.t))])
    return dict(t=t, peak=U[:, 1], peak_c=C[:, 1], tail=U[:, 0] / U[:, 1], tail_c=C[:, 0] / C[:, 1],
                mass=fractional_mass(ds), mass_c=cl.u.values.sum(axis=1) / cl.sizes["x"], cl=cl)


def summary(ds, **p):
    d = _diagnostics(ds, p)
    t, m, mc = d["t"], d["mass"], d["mass_c"]
    a = p["alpha"]
    lines = [f"alpha={a:g}, kappa={p['kappa']:g}, n={p['n']}, degree {p['degree']}, {p['method']} dt={p['dt']:g}; "
             f"Gaussian bump width {p['width']:g} at x=1/2; classical alpha=2: pdekit finite volumes, "
             f"{classical_cells(p)} cells, Crank-Nicolson dt={p['t_end'] / 2000:g}",
             f"  {'t':>9} {'peak frac':>10} {'peak class':>10} {'mass frac':>10} {'mass class':>10} "
             f"{'u(' + format(p['x_tail'], 'g') + ')/u(1/2) frac':>22} {'class':>10}"]
    picks = sorted(set(np.linspace(0, len(t) - 1, min(len(t), 6)).round().astype(int)))
    for k in picks:
        lines.append(f"  {t[k]:9.2e} {d['peak'][k]:10.5f} {d['peak_c'][k]:10.5f} {m[k]:10.6f} {mc[k]:10.6f} "
                     f"{d['tail'][k]:22.3e} {d['tail_c'][k]:10.3e}")
    steps = np.diff(m)
    lines.append(f"  fractional mass: {m[-1] / m[0]:.6f} of the initial mass left at t={t[-1]:g} (lost through the "
                 f"exterior condition: {1 - m[-1] / m[0]:.3e}; classical: {1 - mc[-1] / mc[0]:.3e}); decreases "
                 f"monotonically: {'yes' if np.all(steps < 0) else 'NO (max increase %.1e)' % steps.max()}")
    r0 = initial_loss_rate(p)
    lines.append(f"  initial mass-loss rate -dlnM/dt: {-math.log(m[1] / m[0]) / t[1]:.4f} over the first snapshot vs "
                 f"{r0:.4f} predicted (jumps out of (0,1): kappa C_alpha int u0 (y^-alpha+(1-y)^-alpha)/alpha / M, "
                 f"C_alpha={kernel_constant(a):.4f})")
    ratio = d["tail"][-1] / d["tail_c"][-1]
    lines.append(f"  tail ratio u({p['x_tail']:g})/u(1/2) at t={t[-1]:g}: fractional {d['tail'][-1]:.3e} vs classical "
                 f"{d['tail_c'][-1]:.3e} ({ratio:.3g}x: {'heavier' if ratio > 1 else 'NOT heavier'} fractional tail)")
    # checks of the references
    x = np.linspace(0.0, 1.0, 401)
    uf = evaluate_result(ds, x)[-1]
    ufree = free_space(x, t[-1], p)
    cl = d["cl"]
    ex = classical_exact(cl.x.values, t[-1], p["width"], p["kappa"])
    sel = ex > 1e-12 * ex.max()
    near = 0.2 * p["x_tail"]
    lines.append(f"  vs the free-space alpha-stable solution u_free (Fourier |omega|^alpha, no walls; u <= u_free in "
                 f"theory) at t={t[-1]:g}: max(u - u_free) = {np.max(uf - ufree):.1e} (discretisation level: "
                 f"{np.max(uf - ufree) / ufree.max():.1e} of the peak), the walls lower u by "
                 f"{1 - np.interp(near, x, uf) / np.interp(near, x, ufree):.1%} at x={near:g}, "
                 f"{1 - np.interp(p['x_tail'], x, uf) / np.interp(p['x_tail'], x, ufree):.2%} at x={p['x_tail']:g}")
    lines.append(f"  classical finite volumes vs the exact image series at t={t[-1]:g}: max relative error "
                 f"{np.max(np.abs(cl.u.values[-1][sel] - ex[sel]) / ex[sel]):.1e} where u > 1e-12 max u")
    return "\n".join(lines)


def plot(ds, path, **p):
    plt = pyplot()
    d = _diagnostics(ds, p)
    t = d["t"]
    cl = d["cl"]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.6))
    x = np.linspace(0.0, 1.0, 801)
    U = evaluate_result(ds, x)
    last = len(t) - 1
    picks = sorted(set([max(1, last // 8), max(1, last // 4), max(1, last // 2), last]))
    colours = plt.cm.plasma(np.linspace(0.0, 0.8, len(picks)))

    ax = axes[0, 0]
    ax.semilogy(x, np.maximum(bump(p["width"])(x), 1e-300), color="0.6", lw=0.8, label="t = 0")
    for k, col in zip(picks, colours):
        ax.semilogy(x, np.maximum(U[k], 1e-300), color=col, lw=1.8, label=f"t = {t[k]:.2g}")
        ax.semilogy(cl.x.values, np.maximum(cl.u.values[k], 1e-300), "--", color=col, lw=1.2)
    ax.semilogy(x, np.maximum(free_space(x, t[-1], p), 1e-300), ":", color="k", lw=1.0)
    ax.plot([], [], "k-", lw=1.8, label=f"alpha = {p['alpha']:g} (collocation, n = {p['n']})")
    ax.plot([], [], "k--", lw=1.2, label="alpha = 2 (finite volumes)")
    ax.plot([], [], "k:", lw=1.0, label=f"alpha = {p['alpha']:g} without walls, t = {t[-1]:.2g}")
    ax.set_ylim(1e-14, 3.0)
    ax.set_xlabel("x")
    ax.set_ylabel("u (log scale)")
    ax.set_title(f"kappa = {p['kappa']:g}: fractional (solid) vs classical (dashed): algebraic vs Gaussian tails",
                 fontsize=9)
    ax.legend(fontsize=7, ncol=2, loc="lower center", framealpha=0.9)

    ax = axes[0, 1]
    ts = np.linspace(0.0, t[-1], 200)
    ax.plot(t, d["peak"], "o-", ms=3, label=f"fractional alpha = {p['alpha']:g}")
    ax.plot(t, d["peak_c"], "s--", ms=3, label="classical alpha = 2 (pdekit finite volumes)")
    ax.plot(ts, [free_space(CENTRE, s, p)[0] for s in ts], "k:", lw=1.0, label="fractional without walls")
    ax.plot(ts, classical_exact(CENTRE, ts, p["width"], p["kappa"]), "k-", lw=0.5, label="classical exact")
    ax.set_xlabel("t")
    ax.set_ylabel("u(1/2, t)")
    ax.set_title("peak height", fontsize=9)
    ax.legend(fontsize=7)

    ax = axes[1, 0]
    lost = 1 - d["mass"] / d["mass"][0]
    lost_c = 1 - d["mass_c"] / d["mass_c"][0]
    ax.semilogy(t[1:], lost[1:], "o-", ms=3, label=f"fractional alpha = {p['alpha']:g}")
    ax.semilogy(t[1:], np.maximum(np.abs(lost_c[1:]), 1e-17), "s--", ms=3,
                label="classical alpha = 2 (|.|, round-off floor)")
    ax.semilogy(ts[1:], initial_loss_rate(p) * ts[1:], "k:", lw=1.0, label="initial jump-out rate x t (theory)")
    ax.set_ylim(1e-17, 1.0)
    ax.set_xlabel("t")
    ax.set_ylabel("1 - M(t) / M(0)")
    ax.set_title("mass lost through the walls / the exterior", fontsize=9)
    ax.legend(fontsize=7)

    ax = axes[1, 1]
    ax.semilogy(t[1:], d["tail"][1:], "o-", ms=3, label=f"fractional alpha = {p['alpha']:g}")
    ax.semilogy(t[1:], np.maximum(d["tail_c"][1:], 1e-300), "s--", ms=3, label="classical alpha = 2")
    ax.semilogy(ts[1:], classical_exact(p["x_tail"], ts[1:], p["width"], p["kappa"])
                / classical_exact(CENTRE, ts[1:], p["width"], p["kappa"]), "k-", lw=0.5, label="classical exact")
    ax.set_ylim(max(1e-30, 0.1 * np.min(d["tail_c"][1:][d["tail_c"][1:] > 0], initial=1e-30)), 1.0)
    ax.set_xlabel("t")
    ax.set_ylabel(f"u({p['x_tail']:g}) / u(1/2)")
    ax.set_title("tail ratio", fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, path, dpi=100)


def main(argv=None):
    from pdekit.cases import main as case_main

    return case_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
