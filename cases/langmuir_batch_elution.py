"""Batch elution of two components with competitive Langmuir binding (research note LANG-2: CADET-Process'
batch-elution example): component A rolls up above the feed, displaced by the more strongly bound B.

Column: lumped rate model without pores (equilibrium-dispersive), L = 0.6 m, diameter 0.024 m, total
porosity 0.7 (F = 3/7), flow 1 mL/s -> interstitial velocity u = Q / (eps_t pi d^2/4) = 3.158e-3 m/s
(t0 = 190 s), axial dispersion 4.7e-7 m^2/s (Pe = 4031). Rapid-equilibrium competitive Langmuir
q_i = q_max,i b_i c_i / (1 + sum_k b_k c_k) with b = k_a/k_d = (0.02, 0.03) m^3/mol, q_max = 100 mol/m^3.
Feed 10 mol/m^3 of each for 60 s, 600 s in all. pdekit: Column with WENO5 finite volumes and SSP-RK3 on
the totals n = c + F q*(c) (explicit, CFL-limited); no closed form exists, the reference is CADET's
(two discretisations agreeing to 1e-4): peaks A 14.662 at 322.25 s, B 7.104 at 362.5 s; half-height fronts
316.0 / 356.0 s; B's tail (c < 1e-3) ends at ~526 s.
"""
import math
import sys

import numpy as np

import pdekit
from pdekit.analysis import pyplot, save_figure
from pdekit.chromatography import Binding, Column, Inlet

NAME = "langmuir-batch-elution"
PARAMETERS = dict(cells=800, cfl=0.9, scheme="weno5", t_end=600.0, snapshots=60)

LENGTH, DIAMETER, POROSITY, FLOW, DISPERSION = 0.6, 0.024, 0.7, 1e-6, 4.7e-7
K_A, K_D, Q_MAX = [0.02, 0.03], [1.0, 1.0], [100.0, 100.0]
FEED, T_FEED = 10.0, 60.0
VELOCITY = FLOW / (POROSITY * math.pi * DIAMETER ** 2 / 4)  # 3.1578e-3 m/s, as CADET-Process computes it
#: CADET reference (research note section 3, LANG-2): FV-WENO3 3200 cells and DG-P4 256 elements agree to 1e-4;
#: its times are read on a 0.25 s output grid
CADET = dict(peak=(14.662, 7.104), t_peak=(322.25, 362.5), front=(316.0, 356.0), tail_end_B=526.0)
FINE = 0.01  # s, outlet time grid
COLOURS = ("tab:blue", "tab:red")


def make_column(p):
    return Column(LENGTH, p["cells"], VELOCITY, Inlet.pulse([FEED, FEED], T_FEED),
                  binding=Binding.langmuir(K_A, K_D, Q_MAX, kinetic=False), dispersion=DISPERSION,
                  porosity=POROSITY, components=["A", "B"], scheme=p["scheme"])


_MODELS = {}


def _key(p):
    return tuple(sorted(p.items()))


def build(**p):
    if p["t_end"] < 560.0:
        raise pdekit.ParameterError(f"t_end must be >= 560 s (B's tail ends at ~526 s), got {p['t_end']}")
    col = make_column(p)
    _DIAG.pop(_key(p), None)
    _MODELS[_key(p)] = col  # the run loop records the outlet of every step in the model
    return col, 0.0, dict(t_end=p["t_end"], cfl=p["cfl"], snapshots=p["snapshots"])


def pde_outlet(p):
    """The column of the case's run (outlet recorded per step) or, if that run is not in this process, a new run."""
    col = _MODELS.get(_key(p))
    if col is None or not col.outlet_times or abs(col.outlet_times[-1][-1] - p["t_end"]) > 1e-9 * p["t_end"]:
        col = make_column(p)
        col.chromatogram(p["t_end"], cfl=p["cfl"])
        _MODELS[_key(p)] = col
    return col


_DIAG = {}


def diagnostics(ds, p):
    key = _key(p)
    if key in _DIAG:
        return _DIAG[key]
    from scipy.interpolate import CubicSpline

    col = pde_outlet(p)
    tt = np.r_[0.0, np.concatenate(col.outlet_times)]
    vv = np.vstack([np.zeros((1, 2)), np.concatenate(col.outlet_values)])
    t = np.arange(0.0, p["t_end"] + 0.5 * FINE, FINE)
    c = CubicSpline(tt, vv, axis=0)(t)
    stats = []
    for i in range(2):
        y = c[:, i]
        k = int(np.argmax(y))
        h = float(y[k])
        front = float(np.interp(h / 2, y[:k + 1], t[:k + 1]))  # rising side, monotone up to the peak
        above = np.nonzero(y > 1e-3)[0]
        stats.append(dict(peak=h, t_peak=float(t[k]), front=front, tail_end=float(t[above[-1]])))
    injected = VELOCITY * FEED * T_FEED  # per unit (interstitial) area: u int c_in dt
    content = np.array([(ds[f"c_{n}"].values[-1] + col.F * ds[f"q_{n}"].values[-1]).sum() * col.dx for n in "AB"])
    cmin_field = min(float(ds[f"c_{n}"].values.min()) for n in "AB")
    d = dict(t=t, c=c, stats=stats, injected=injected, content=content, outflow=col.outflow.copy(),
             cmin_outlet=float(vv.min()), cmin_field=cmin_field, steps=len(tt) - 1, col=col)
    _DIAG[key] = d
    return d


def summary(ds, **p):
    d = diagnostics(ds, p)
    col = d["col"]
    dt = p["t_end"] / d["steps"]
    lines = [f"LANG-2 batch elution: L = {LENGTH:g} m, u = {VELOCITY:.5e} m/s (t0 = {LENGTH / VELOCITY:.2f} s), "
             f"D = {DISPERSION:g} m^2/s (Pe = {VELOCITY * LENGTH / DISPERSION:.0f}), eps_t = {POROSITY:g} "
             f"(F = {col.F:.4f}), Langmuir b = {K_A} m^3/mol, q_max = {Q_MAX} mol/m^3 (rapid equilibrium); "
             f"feed {FEED:g} mol/m^3 each for {T_FEED:g} s; {p['cells']} cells {p['scheme']}, ssp-rk3 "
             f"cfl {p['cfl']:g} ({d['steps']} steps, dt = {dt:.4f} s)",
             f"  {'':<10} {'peak (mol/m^3)':>15} {'CADET':>7} {'rel diff':>9} {'t_peak (s)':>11} {'CADET':>7} "
             f"{'half-height front (s)':>22} {'CADET':>6}  (CADET's times on a 0.25 s output grid)"]
    for i, n in enumerate("AB"):
        s = d["stats"][i]
        lines.append(f"  {'peak ' + n:<10} {s['peak']:15.4f} {CADET['peak'][i]:7.3f} "
                     f"{s['peak'] / CADET['peak'][i] - 1:+9.2e} {s['t_peak']:11.2f} {CADET['t_peak'][i]:7.2f} "
                     f"{s['front']:22.2f} {CADET['front'][i]:6.1f}")
    A, B = d["stats"]
    lines.append(f"  B's tail ends (c < 1e-3) at {B['tail_end']:.1f} s (CADET ~{CADET['tail_end_B']:g} s); "
                 f"A's at {A['tail_end']:.1f} s")
    lines.append(f"  roll-up: peak A / feed = {A['peak'] / FEED:.4f} ({'above' if A['peak'] > FEED else 'NOT above'} "
                 f"the feed: A is displaced by B); peak A > peak B: {'yes' if A['peak'] > B['peak'] else 'NO'}")
    err = (d["outflow"] + d["content"] - d["injected"]) / d["injected"]
    lines.append(f"  mass balance per component: injected u c_feed t_feed = {d['injected']:.12e}; outflow "
                 f"{', '.join(f'{o:.12e}' for o in d['outflow'])}; in the column at t_end "
                 f"{', '.join(f'{m:.3e}' for m in d['content'])}; relative error "
                 f"{', '.join(f'{e:.1e}' for e in err)}")
    lines.append(f"  min concentration: outlet {d['cmin_outlet']:.2e}, column snapshots {d['cmin_field']:.2e}")
    return "\n".join(lines)


def plot(ds, path, **p):
    plt = pyplot()
    d = diagnostics(ds, p)
    t, c = d["t"], d["c"]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))

    ax = axes[0, 0]
    ax.fill_between([0.0, T_FEED], 0.0, FEED, color="0.85", label=f"feed {FEED:g} mol/m^3 (A and B), 0-{T_FEED:g} s")
    for i, n in enumerate("AB"):
        ax.plot(t, c[:, i], color=COLOURS[i], lw=1.6, label=f"{n} (b = {K_A[i] / K_D[i]:g})")
    ax.axhline(FEED, color="0.5", lw=0.6, ls=":")
    ax.set_xlim(0.0, p["t_end"])
    ax.set_xlabel("t (s)")
    ax.set_ylabel("outlet concentration (mol/m^3)")
    ax.set_title(f"outlet chromatogram ({p['cells']} cells {p['scheme']}): A rolls up to "
                 f"{d['stats'][0]['peak']:.3f} > feed", fontsize=9)
    ax.legend(fontsize=8)

    ax = axes[0, 1]
    for i, n in enumerate("AB"):
        ax.plot(t, c[:, i], color=COLOURS[i], lw=1.6, label=f"{n}, pdekit")
        ax.plot(CADET["t_peak"][i], CADET["peak"][i], "k+", ms=12, mew=1.5)
        ax.plot(CADET["front"][i], 0.5 * CADET["peak"][i], "kx", ms=8)
    ax.plot(CADET["tail_end_B"], 1e-3, "k^", ms=6)
    ax.plot([], [], "k+", ms=10, label="CADET peak")
    ax.plot([], [], "kx", ms=8, label="CADET half-height front")
    ax.plot([], [], "k^", ms=6, label="CADET: B's tail end (c < 1e-3)")
    ax.set_xlim(300.0, 540.0)
    ax.set_xlabel("t (s)")
    ax.set_ylabel("outlet concentration (mol/m^3)")
    ax.set_title("peaks vs CADET's reference (LANG-2)", fontsize=9)
    ax.legend(fontsize=8)

    times = ds.t.values
    x = ds.x.values
    picks = [int(np.argmin(np.abs(times - s))) for s in (30.0, 60.0, 120.0, 200.0, 280.0)]
    shades = np.linspace(0.35, 1.0, len(picks))
    for j, var in enumerate(("c", "q")):
        ax = axes[1, j]
        for k, a in zip(picks, shades):
            for i, n in enumerate("AB"):
                ax.plot(x, ds[f"{var}_{n}"].values[k], color=COLOURS[i], alpha=a, lw=1.3)
            ax.annotate(f"{times[k]:g} s", (x[np.argmax(ds[f'{var}_A'].values[k])], ds[f"{var}_A"].values[k].max()),
                        textcoords="offset points", xytext=(0, 4), ha="center", fontsize=7)
        ax.plot([], [], color=COLOURS[0], label="A")
        ax.plot([], [], color=COLOURS[1], label="B")
        ax.set_xlim(0.0, LENGTH)
        ax.set_xlabel("x (m)")
        if var == "c":
            ax.set_ylabel("mobile phase c (mol/m^3)")
            ax.set_title("column profiles (later = darker): the shock fronts sharpen, A is pushed ahead of B",
                         fontsize=9)
        else:
            ax.set_ylabel("adsorbed q (mol/m^3 of solid)")
            ax.set_title("adsorbed phase (competitive Langmuir, q_max = 100)", fontsize=9)
        ax.legend(fontsize=8)
    save_figure(fig, path, dpi=100)


def main(argv=None):
    from pdekit.cases import main as case_main

    return case_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
