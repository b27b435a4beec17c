"""Score-based diffusion through its Fokker–Planck equation (Song et al. 2021; Deveney et al. 2023).

The forward VP-SDE dx = -beta(t)/2 x dt + sqrt(beta(t)) dW carries a 1D Gaussian mixture to noise;
its density obeys p_t = beta(t)/2 [(x p)_x + p_xx], a generator beta(t) L0 that pdekit propagates
exactly (``method="exact"``). Then the generative direction: particles drawn from p_T are carried back
by the probability-flow ODE and by the reverse SDE, driven by the exact score or by a perturbed score
s + eps sin(x). With the exact score both reach the data distribution and the W2 distance between the
two sample sets (the ODE–SDE gap) is at the sampling-error level; with a perturbed score the gap grows
with the score's Fokker–Planck residual."""
import sys

import numpy as np

import pdekit
from pdekit.analysis import pyplot, save_figure
from pdekit.fokker_planck import score
from pdekit.fokker_planck.model import FokkerPlanck

NAME = "score-sde-gap"
PARAMETERS = dict(n=400, snapshots=10, particles=20000, nsteps=500, epsilons=[0.0, 0.1, 0.25, 0.5], seed=1)


def _setup():
    sde = score.VPSDE(beta_min=0.1, beta_max=20.0, T=1.0)
    data = score.GaussianMixture([0.3, 0.7], [-2.0, 1.5], stds=[0.3, 0.5])
    return sde, data


def build(**p):
    sde, data = _setup()
    grid = pdekit.Grid([pdekit.Axis.uniform("x", -6.0, 6.0, p["n"])])
    model = FokkerPlanck(grid, "zero-flux", diffusion=0.5, drift=lambda x: -0.5 * x, time_scale=sde.beta,
                         time_scale_integral=sde.beta_integral, variable="p")
    return model, data.pdf(grid.centres[0]), dict(t_end=1.0, dt=1.0 / p["snapshots"], method="exact",
                                                  snapshots=p["snapshots"])


_RESULTS = {}


def experiment(**p):
    """The ODE–SDE gap for each eps (``ode_sde_gap`` with a perturbed score); computed once per parameters."""
    key = repr(sorted(p.items()))
    if key not in _RESULTS:
        _RESULTS[key] = _experiment(**p)
    return _RESULTS[key]


def _experiment(**p):
    sde, data = _setup()
    exact_score = score.exact_score(sde, data)
    rows = []
    for k, eps in enumerate(p["epsilons"]):
        s = exact_score if eps == 0 else score.perturbed_score(exact_score, eps)
        r = score.ode_sde_gap(sde, data, s, n=p["particles"], rng=p["seed"] + k, nsteps=p["nsteps"])
        rows.append((eps, r))
    return rows


def summary(ds, **p):
    sde, data = _setup()
    x = ds.x.values
    h = x[1] - x[0]
    errs = [np.sum(np.abs(ds.p.values[k] - sde.marginal(data, float(t)).pdf(x))) * h for k, t in enumerate(ds.t.values)]
    lines = [f"forward FP on the grid: max L1 error against the exact VP marginals {max(errs):.2e}",
             f"{'eps':>6} {'W2(ODE,SDE)':>12} {'W2(ODE,p0)':>11} {'W2(SDE,p0)':>11} {'sampling':>9} {'FP residual':>12}"]
    for eps, r in experiment(**p):
        lines.append(f"{eps:6.2f} {r.w2_ode_sde:12.4f} {r.w2_ode_exact:11.4f} {r.w2_sde_exact:11.4f} "
                     f"{r.w2_sampling:9.4f} {r.residual_norm:12.4f}")
    return "\n".join(lines)


def plot(ds, path, **p):
    plt = pyplot()

    sde, data = _setup()
    x = ds.x.values
    rows = experiment(**p)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for k in (0, 1, 3, len(ds.t) - 1):
        t = float(ds.t[k])
        axes[0].plot(x, ds.p.values[k], lw=1, label=f"pdekit t={t:g}")
        axes[0].plot(x, sde.marginal(data, t).pdf(x), "k:", lw=0.8)
    axes[0].set_title("forward VP-SDE marginals (dotted: exact)", fontsize=9)
    axes[0].legend(fontsize=7)
    bins = np.linspace(-4, 4, 81)
    for eps, r in (rows[0], rows[-1]):
        axes[1].hist(r.x_ode, bins=bins, density=True, histtype="step", label=f"PF-ODE, eps={eps:g}")
        axes[1].hist(r.x_sde, bins=bins, density=True, histtype="step", ls="--", label=f"reverse SDE, eps={eps:g}")
    axes[1].plot(x, data.pdf(x), "k-", lw=0.8, label="data p0")
    axes[1].set_xlim(-4, 4)
    axes[1].legend(fontsize=7)
    axes[1].set_title("generated samples", fontsize=9)
    eps = [e for e, _ in rows]
    axes[2].plot(eps, [r.w2_ode_sde for _, r in rows], "o-", label="W2(ODE, SDE)")
    axes[2].plot(eps, [r.w2_sampling for _, r in rows], "k--", label="sampling error")
    ax2 = axes[2].twinx()
    ax2.plot(eps, [r.residual_norm for _, r in rows], "s:", color="C3", label="score FP residual")
    ax2.set_ylabel("residual", color="C3")
    axes[2].set_xlabel("score perturbation eps")
    axes[2].legend(fontsize=7, loc="upper left")
    axes[2].set_title("ODE–SDE gap grows with the residual", fontsize=9)
    save_figure(fig, path, dpi=100)


def main(argv=None):
    from pdekit.cases import main as case_main

    return case_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
