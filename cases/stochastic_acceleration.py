"""Stochastic particle acceleration in momentum space (FP-SA; the problem class of Walter & Eichmann,
arXiv:2411.14804): momentum diffusion D = chi^q in a finite turbulence range with zero particle flux
at its ends, synchrotron-type losses pdot = -b chi^2, escape tau = tau0 chi^-beta and mono-energetic
injection at chi0. The run evolves the spectrum from empty to steady state (backward Euler, positive
for any step) and compares it with the semi-analytic Green's-function solution; the pile-up bump of
N = chi^2 f appears near 2^(1/(3-q)) chi_eq when the escape time at chi_eq is long.

Parameter sets (``--set preset=...``): ``synchrotron`` (q=2, b=1e-3, tau=10: the bump), ``hard-sphere``
(q=2, no losses, tau=1: a power law), ``kolmogorov`` (q=5/3 with losses), ``kraichnan`` (q=3/2),
``fast-escape`` (q=2, b=1e-3, tau=0.01 x t_acc(chi_eq): no bump; its spectrum is so steep, f ~ chi^-11.6,
that 100 cells/decade leave a 7 % error far down the tail: second order, 1.8 % at 200 and 0.44 % at 400).
The summary compares both the direct steady solve and the end of the run with the semi-analytic
spectrum; for the kolmogorov and kraichnan presets the default t_end is not yet steady (the escape
time at low momenta is long) — the summary says so."""
import sys

import numpy as np

import pdekit
from pdekit.analysis import pyplot, save_figure
from pdekit.fokker_planck import exact
from pdekit.fokker_planck.model import FokkerPlanck

NAME = "stochastic-acceleration"
PRESETS = {
    "synchrotron": dict(q=2.0, b=1e-3, tau0=10.0, beta=0.0),
    "hard-sphere": dict(q=2.0, b=0.0, tau0=1.0, beta=0.0),
    "kolmogorov": dict(q=5.0 / 3.0, b=1e-3, tau0=1e3, beta=2 - 5.0 / 3.0),
    "kraichnan": dict(q=1.5, b=1e-3, tau0=1e3, beta=0.5),
    "fast-escape": dict(q=2.0, b=1e-3, tau0=0.01, beta=0.0),
}
PARAMETERS = dict(preset="synchrotron", per_decade=100, chi_min=1e-2, chi_max=1e5, chi0=1.0, t_end=300.0,
                  snapshots=30, dt_factor=0.05)


def coefficients(preset):
    if preset not in PRESETS:
        raise pdekit.ParameterError(f"unknown preset {preset!r}; accepted: {', '.join(PRESETS)}")
    c = PRESETS[preset]
    q, b, tau0, beta = c["q"], c["b"], c["tau0"], c["beta"]
    return (q, b, tau0, beta, lambda chi: chi**q, lambda chi: -b * chi**2, lambda chi: tau0 * chi ** (-beta))


def build(**p):
    q, b, tau0, beta, D, pdot, tau = coefficients(p["preset"])
    n = int(round(np.log10(p["chi_max"] / p["chi_min"]) * p["per_decade"]))
    grid = pdekit.Grid([pdekit.Axis.log("p", p["chi_min"], p["chi_max"], n)], geometry="spherical")
    model = FokkerPlanck(grid, "zero-flux", diffusion=D, drift_coefficient=lambda chi: -pdot(chi),
                         loss_rate=lambda chi: 1.0 / tau(chi), point_sources=[(p["chi0"], 1.0)], variable="f")
    # steps of a fraction of the acceleration time at chi0 (backward Euler stays positive for any dt)
    dt = p["dt_factor"] * p["chi0"] ** (2 - q)
    return model, np.zeros(n), dict(t_end=p["t_end"], dt=dt, method="backward-euler", snapshots=p["snapshots"])


def reference(chi, p):
    q, b, tau0, beta, D, pdot, tau = coefficients(p["preset"])
    return exact.acceleration_green(chi, D, pdot, tau, p["chi0"], p["chi_min"], p["chi_max"])


def summary(ds, **p):
    q, b, tau0, beta, D, pdot, tau = coefficients(p["preset"])
    chi = ds.p.values
    f = ds.f.values[-1]
    ref = reference(chi, p)
    model, _, _ = build(**p)
    steady = model.steady_state()
    sel = ref > 1e-12 * ref.max()
    err_run = np.max(np.abs(f[sel] / ref[sel] - 1))
    err_steady = np.max(np.abs(steady[sel] / ref[sel] - 1))
    lines = [f"{p['preset']}: direct steady solve vs the semi-analytic spectrum: max rel. difference {err_steady:.2e} "
             f"(where f > 1e-12 max f)",
             f"time-dependent run at t={float(ds.t[-1]):g}: max rel. difference {err_run:.2e}"
             + ("" if err_run < 10 * err_steady + 1e-3 else " (not yet steady: increase t_end)")]
    if b > 0:
        chi_eq = exact.equilibrium_momentum(q, b)
        residence = tau(chi_eq) / chi_eq ** (2 - q)
        pos = steady > 0
        try:
            peak = exact.pileup_maximum(chi[pos], steady[pos], above=10 * p["chi0"])
            lines.append(f"pile-up maximum of chi^2 f at {peak:.4g} = {peak / chi_eq:.3f} chi_eq "
                         f"(pure pile-up limit {exact.pileup_peak(q, 1.0):.3f} chi_eq); tau/t_acc at chi_eq = {residence:.3g}")
        except pdekit.ParameterError:
            lines.append(f"no local maximum of chi^2 f above 10 chi0; tau/t_acc at chi_eq = {residence:.3g}")
    return "\n".join(lines)


def plot(ds, path, **p):
    plt = pyplot()

    chi = ds.p.values
    ref = reference(chi, p)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for k in np.unique(np.geomspace(1, len(ds.t) - 1, 6).astype(int)):
        axes[0].loglog(chi, chi**2 * ds.f.values[k], lw=1, label=f"t = {float(ds.t[k]):.3g}")
    axes[0].loglog(chi, chi**2 * ref, "k--", lw=1, label="steady state (Green's function)")
    axes[0].set_ylim(1e-8 * (chi**2 * ref).max(), 3 * (chi**2 * ref).max())
    axes[0].set_xlabel("chi = p / p_ref")
    axes[0].set_ylabel("N = chi^2 f")
    axes[0].legend(fontsize=7)
    axes[0].set_title(f"{p['preset']}: spectrum building up", fontsize=9)
    # compensated steady spectra of all presets
    for name in PRESETS:
        q, b, tau0, beta, D, pdot, tau = coefficients(name)
        m, _, _ = build(**{**p, "preset": name})
        f = m.steady_state()
        s = 1.5 + np.sqrt(2.25 + 1 / tau0) if q == 2 else q + 1
        axes[1].loglog(chi, chi**s * f / (chi**s * f)[np.searchsorted(chi, 10 * p["chi0"])], lw=1,
                       label=f"{name} (q={q:.3g}); x chi^{s:.2f}")
    axes[1].set_ylim(1e-4, 1e3)
    axes[1].set_xlabel("chi")
    axes[1].set_ylabel("compensated chi^s f (1 at 10 chi0)")
    axes[1].legend(fontsize=7)
    axes[1].set_title("steady spectra of the presets", fontsize=9)
    save_figure(fig, path, dpi=100)


def main(argv=None):
    from pdekit.cases import main as case_main

    return case_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
