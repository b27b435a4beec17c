"""Fractional Poisson problem (-Delta)^{alpha/2} u = 1 on (0, 1), u = 0 outside: run to steady state and
compared with the exact solution u = (x(1-x))^{alpha/2} / Gamma(1+alpha) (Getoor 1961).

Getoor's formula on a ball of radius r in R^d, (-Delta)^s (r^2 - |x|^2)_+^s = 4^s Gamma(1+s) Gamma(d/2+s) /
Gamma(d/2), with d = 1, s = alpha/2, r = 1/2 and centre 1/2 (r^2 - (x-1/2)^2 = x(1-x)) and Legendre's
duplication formula Gamma(s+1/2) Gamma(s+1) = 2^{-2s} sqrt(pi) Gamma(2s+1), gives the constant Gamma(1+alpha);
alpha = 2 recovers -u'' = 1, u = x(1-x)/2. The solution is only Hoelder-alpha/2 at the ends (u ~ x^{alpha/2}),
so no spline space on a uniform mesh approximates it better than O(h^{alpha/2}) in the max norm: the case
measures the observed order of the steady collocation solve on a sequence of meshes.

The run itself (the result file) is pseudo-time stepping of du/dt = -(-Delta)^{alpha/2} u + 1 from u = 0
(FractionalDiffusion, L-stable backward Euler by default): the error to the steady state contracts by
R(-dt lambda_1) per step, lambda_1 the smallest eigenvalue of the fractional Laplacian on (0, 1), so the
summary also reports lambda_1 (collocation) against Kwasnicki's asymptotic formula (pi - (2-alpha) pi/4)^alpha
(Kwasnicki 2012, arXiv:1012.1133, rescaled from (-1, 1) to (0, 1); asymptotic in the eigenvalue index k,
with an O(1/k) error: about 1 % at k = 1, while the collocation value is converged to 1e-5 at n = 32)."""
import math
import sys

import numpy as np
import scipy.linalg as sl

import pdekit
from pdekit.analysis import observed_orders, pyplot, save_figure
from pdekit.riesz import BSplineSpace, FractionalDiffusion, RieszCollocation, constant_source_solution, evaluate_result
from pdekit.riesz.model import GAMMA

NAME = "fractional-poisson"
PARAMETERS = dict(alpha=1.5, n=64, degree=3, method="backward-euler", dt=0.25, t_end=12.0, snapshots=48,
                  levels=5)
SHOWN_ALPHAS = (1.2, 1.5, 1.8)


def exact(x, alpha):
    """Getoor: the solution of (-Delta)^{alpha/2} u = 1 on (0, 1), u = 0 outside (alpha = 2: x(1-x)/2)."""
    return constant_source_solution(x, alpha)


def build(**p):
    if p["levels"] < 2:
        raise pdekit.ParameterError(f"levels must be >= 2 (a convergence order needs two meshes), got {p['levels']}")
    model = FractionalDiffusion(p["n"], p["alpha"], source=1.0, degree=p["degree"])
    return model, (lambda x: np.zeros_like(x)), dict(t_end=p["t_end"], dt=p["dt"], method=p["method"],
                                                      snapshots=p["snapshots"])


def steady(alpha, n, degree):
    """The steady collocation solve (A c = 1) on n uniform intervals: (RieszCollocation, coefficients)."""
    R = RieszCollocation(BSplineSpace(degree, n), alpha)
    return R, R.solve(lambda x: np.ones_like(x))


def meshes(p):
    """The convergence sequence: ``levels`` meshes halving down from 2n, none coarser than 8 intervals."""
    top = 2 * p["n"]
    return [top // 2 ** k for k in range(p["levels"] - 1, -1, -1) if top % 2 ** k == 0 and top // 2 ** k >= 8]


def convergence(p):
    """Errors of the steady collocation solution against the exact one on :func:`meshes`: max norm and L2
    (on 20 n + 1 points), and max norm in the interior [1/4, 3/4]."""
    rows = []
    for m in meshes(p):
        R, c = steady(p["alpha"], m, p["degree"])
        x = np.linspace(0.0, 1.0, 20 * m + 1)
        e = np.abs(R.evaluate(c, x) - exact(x, p["alpha"]))
        mid = float(e[(x >= 0.25) & (x <= 0.75)].max())
        rows.append((m, float(e.max()), float(np.sqrt(np.mean(e ** 2))), float(mid)))
    return np.array(rows)


def amplification(method, w):
    """Stability function R(-w) of the run's method for the mode w = dt * lambda (error factor per step)."""
    if method == "backward-euler":
        return 1.0 / (1.0 + w)
    if method == "crank-nicolson":
        return (1.0 - w / 2) / (1.0 + w / 2)
    g = GAMMA  # TR-BDF2: trapezoidal stage to t + g dt, then BDF2
    stage = (1.0 - g * w / 2) / (1.0 + g * w / 2)
    return (stage / (g * (2 - g)) - (1 - g) ** 2 / (g * (2 - g))) / (1.0 + (1 - g) / (2 - g) * w)


#: dense eigenvalues beyond this many intervals would dominate the run time: the spectrum is taken there
SPECTRUM_LIMIT = 1024


def spectrum(alpha, n, degree):
    """Eigenvalues of the collocation pencil (A, M), ascending (real parts): the smallest approximates
    lambda_1 of (-Delta)^{alpha/2} on (0, 1); the pseudo-time error contracts by max_k |R(-dt lambda_k)|.
    Dense, on min(n, SPECTRUM_LIMIT) intervals."""
    R = RieszCollocation(BSplineSpace(degree, min(n, SPECTRUM_LIMIT)), alpha)
    return np.sort(sl.eigvals(R.operator().dense(), R.mass().dense()).real)


def kwasnicki(alpha, k=1):
    """Kwasnicki's asymptotic eigenvalue (k pi/2 - (2-alpha) pi/8)^alpha on (-1, 1), times 2^alpha for (0, 1)."""
    return (k * math.pi - (2 - alpha) * math.pi / 4) ** alpha


def _pseudo_time(ds, p):
    """Max-norm distance of every snapshot to the steady collocation solution (on 20 n + 1 points)."""
    R, c = steady(p["alpha"], p["n"], p["degree"])
    x = np.linspace(0.0, 1.0, 20 * p["n"] + 1)
    return np.abs(evaluate_result(ds, x) - R.evaluate(c, x)[None, :]).max(axis=1)


def summary(ds, **p):
    a, n = p["alpha"], p["n"]
    x = np.linspace(0.0, 1.0, 20 * n + 1)
    u_end = evaluate_result(ds, x)[-1]
    R, c = steady(a, n, p["degree"])
    u_ss = R.evaluate(c, x)
    ex = exact(x, a)
    umax = float(ex.max())
    dist = _pseudo_time(ds, p)
    conv = convergence(p)
    o_max = observed_orders(1.0 / conv[:, 0], conv[:, 1])
    o_l2 = observed_orders(1.0 / conv[:, 0], conv[:, 2])
    o_mid = observed_orders(1.0 / conv[:, 0], conv[:, 3])
    lams = spectrum(a, n, p["degree"])
    lam = float(lams[0])
    # observed per-step factor of the pseudo-time error vs the method's R(-dt lambda_1)
    dt = float(ds.t.values[1] - ds.t.values[0])  # = one snapshot interval
    nsteps = max(1, int(math.ceil(dt / p["dt"] - 1e-9)))
    step = dt / nsteps
    keep = np.nonzero((dist > 1e-9 * dist[0]) & (np.arange(dist.size) > 0))[0]
    keep = keep[keep.size // 2:] if keep.size >= 4 else keep  # the asymptotic (slowest-mode) rate
    if keep.size >= 2:
        rate = np.polyfit(ds.t.values[keep], np.log(dist[keep]), 1)[0]
        factor = math.exp(rate * step)
    else:
        factor = float("nan")
    amp = np.abs(amplification(p["method"], step * lams))
    predicted = float(amp.max())
    slowest = "lambda_1" if int(np.argmax(amp)) == 0 else f"lambda_max = {lams[-1]:.3g}: not L-stable"
    interior_note = ("the generic O(h) pollution from the ends nearly cancels for these alpha and degree"
                     if o_mid[-1] > 1.3 else "pollution from the boundary layer")
    table = "\n".join(
        f"    n={int(m):5d}  max {e:.3e}  L2 {l2:.3e}  interior {mid:.3e}"
        + ("" if i == 0 else f"   orders {o_max[i - 1]:.2f} / {o_l2[i - 1]:.2f} / {o_mid[i - 1]:.2f}")
        for i, (m, e, l2, mid) in enumerate(conv))
    return (
        f"alpha={a:g}, degree {p['degree']}, n={n}: exact u = (x(1-x))^(alpha/2)/Gamma(1+alpha), max u = {umax:.5f}"
        f" (alpha=2: 0.125)\n"
        f"  pseudo-time run ({p['method']}, dt={step:g}) to t={float(ds.t[-1]):g}: max|u(t_end) - u_steady| = "
        f"{float(np.abs(u_end - u_ss).max()):.2e} (steady collocation solve on the same mesh)\n"
        f"  max|u(t_end) - u_exact| = {float(np.abs(u_end - ex).max()):.3e} "
        f"({float(np.abs(u_end - ex).max()) / umax:.2%} of max u); at x=1/2: "
        f"{abs(float(np.interp(0.5, x, u_end - ex))):.2e}\n"
        f"  convergence of the steady solve against the exact solution (orders max / L2 / interior [1/4, 3/4]):\n"
        f"{table}\n"
        f"  observed max-norm order {o_max[-1]:.2f} (theory: u ~ x^(alpha/2) at the ends limits it to alpha/2 = "
        f"{a / 2:.2f}); L2 order {o_l2[-1]:.2f} (the boundary layer bounds it by alpha/2 + 1/2 = {a / 2 + 0.5:.2f}); "
        f"interior order {o_mid[-1]:.2f} ({interior_note})\n"
        f"  lambda_1 = {lam:.4f} (collocation) vs {kwasnicki(a):.4f} (Kwasnicki asymptotic in k, ~1 % at k = 1): pseudo-time "
        f"error factor per step {factor:.4f} observed, {predicted:.4f} = max_k |R(-dt lambda_k)| predicted "
        f"(slowest mode {slowest})"
        + (f" [spectrum of the n={SPECTRUM_LIMIT} mesh]" if n > SPECTRUM_LIMIT else ""))


def plot(ds, path, **p):
    plt = pyplot()
    a, n, deg = p["alpha"], p["n"], p["degree"]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.6))
    x = np.linspace(0.0, 1.0, 801)
    alphas = sorted(set(SHOWN_ALPHAS) | {a})
    colours = plt.cm.viridis(np.linspace(0.0, 0.85, len(alphas)))

    # (a) profiles: collocation (solid) and exact (black dashed) for several alpha, classical alpha = 2
    ax = axes[0, 0]
    xl = np.logspace(-5, math.log10(0.5), 300)
    for al, col in zip(alphas, colours):
        R, c = steady(al, n, deg)
        lw = 2.4 if al == a else 1.4
        ax.plot(x, R.evaluate(c, x), color=col, lw=lw, label=f"alpha = {al:g} (collocation, n={n})")
        ax.plot(x, exact(x, al), "k--", lw=0.7)
        axes[0, 1].loglog(xl, R.evaluate(c, xl), color=col, lw=lw, label=f"alpha = {al:g}")
        axes[0, 1].loglog(xl, exact(xl, al), "k--", lw=0.7)
    ax.plot(x, x * (1 - x) / 2, color="tab:red", lw=1.6, label="alpha = 2 (classical, x(1-x)/2)")
    ax.plot([], [], "k--", lw=0.7, label="exact (x(1-x))^(alpha/2) / Gamma(1+alpha)")
    ax.set_xlabel("x")
    ax.set_ylabel("u")
    ax.set_title("(-Delta)^(alpha/2) u = 1 on (0,1), u = 0 outside", fontsize=9)
    ax.legend(fontsize=7, loc="lower center")

    # (b) boundary layer u ~ x^(alpha/2) on log-log; the spline is ~ linear inside the first cell
    ax = axes[0, 1]
    ax.loglog(xl, xl * (1 - xl) / 2, color="tab:red", lw=1.6, label="alpha = 2")
    ax.axvline(1.0 / n, color="0.5", lw=0.8, ls=":")
    ax.text(1.0 / n, 2e-4, " h = 1/n", fontsize=7, color="0.4")
    ax.set_ylim(1e-4, 1.0)
    ax.set_xlabel("x (distance to the wall)")
    ax.set_ylabel("u")
    ax.set_title("near the wall: u ~ x^(alpha/2) / Gamma(1+alpha) (dashed: exact)", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")

    # (c) convergence of the steady solve
    ax = axes[1, 0]
    conv = convergence(p)
    h = 1.0 / conv[:, 0]
    ax.loglog(h, conv[:, 1], "o-", label="max error")
    ax.loglog(h, conv[:, 2], "s-", label="L2 error")
    ax.loglog(h, conv[:, 3], "^-", label="max error on [1/4, 3/4]")
    ax.loglog(h, 0.6 * conv[-1, 1] * (h / h[-1]) ** (a / 2), "k--", lw=0.8, label=f"h^(alpha/2) = h^{a / 2:g}")
    ax.loglog(h, 0.6 * conv[-1, 2] * (h / h[-1]) ** (a / 2 + 0.5), "k-.", lw=0.8,
              label=f"h^(alpha/2 + 1/2) = h^{a / 2 + 0.5:g}")
    ax.loglog(h, 0.6 * conv[-1, 3] * (h / h[-1]), "k:", lw=0.8, label="h^1")
    ax.set_xlabel("h = 1/n")
    ax.set_ylabel("error vs exact")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(f"steady collocation, alpha = {a:g}, degree {deg}", fontsize=9)
    ax.legend(fontsize=7)

    # (d) pseudo-time convergence of the run
    ax = axes[1, 1]
    dist = _pseudo_time(ds, p)
    t = ds.t.values
    ax.semilogy(t, np.maximum(dist, 1e-17), "o-", ms=3, label=f"max |u(t) - u_steady| ({p['method']})")
    lams = spectrum(a, n, deg)
    step = float(t[1] - t[0]) / max(1, int(math.ceil((t[1] - t[0]) / p["dt"] - 1e-9)))
    factor = float(np.abs(amplification(p["method"], step * lams)).max())
    ax.semilogy(t, dist[1] * factor ** ((t - t[1]) / step), "k--", lw=0.8,
                label=f"max_k |R(-dt lambda_k)|^(t/dt) (lambda_1 = {lams[0]:.3f})")
    ax.set_ylim(1e-16, 2 * dist.max())
    ax.set_xlabel("pseudo-time t")
    ax.set_ylabel("distance to steady solution")
    ax.set_title("the result file: du/dt = -(-Delta)^(alpha/2) u + 1 from u = 0", fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, path, dpi=100)


def main(argv=None):
    from pdekit.cases import main as case_main

    return case_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
