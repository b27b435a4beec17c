"""BTEX in a gas chromatograph with a compressible carrier (Cabrera-Codony et al. 2024, Figs. 1-4): the five
analytes along the column, the outlet chromatogram (PDE vs closed form vs the constant-velocity model),
pressure and velocity profiles, and the synthetic detector signal with a two-parameter fit per analyte.

Column (paper Table 1, research note CHROM-GC-5): L = 20 m, alpha = 2 delta/R = 0.02222, p 4.01 -> 1.013 bar,
u(x) = u0 p0/p(x) from 0.41 to 1.62 m/s, injection of 20 ppb (p+m-xylene 40 ppb) for t1 = 4 s. Every analyte
obeys c_t + (u c)_x = (D c_x)_x - alpha q_t, q_t = k_a c - k_d q with its fitted (k_a, k_d) of Table 3. The run
is pdekit's Column (five components, implicit ESDIRK3, WENO5 finite volumes) with u(x) and D(x) = D0 p0/p(x);
the Column takes one dispersion field for all components, so D0 is one analyte's (default o-xylene's,
2.07e-6 m^2/s; the analytes span 2.07-2.89e-6): D adds only ~0.2-0.4 % to the peak variances (Pe ~ 4e6,
printed). The reference is the closed form with variable velocity and D = 0 (paper eq. 49: the
constant-velocity Thomas solution in travel time t0(x), times p(x)/p0); ignoring the pressure drop
(constant velocity u0) puts the peaks ~42 % later and makes them p0/pL = 3.96 times larger in area.

Panel (d): the synthetic detector signal I(t) = 3935.4 + sum_i f_i c_i(L, t) with Gaussian noise (research
note CHROM-GC-6; the measured curve is only a figure in a paywalled article) and the fit of (k_a, k_d) per
analyte (pdekit.chromatography.fit, separate windows, ethylbenzene and p+m-xylene jointly, baseline fitted).
"""
import math
import sys

import numpy as np

import pdekit
from pdekit.analysis import pyplot, save_figure
from pdekit.chromatography import Binding, Column, Inlet
from pdekit.chromatography.exact import btex, btex_chromatogram

NAME = "gc-btex"
PARAMETERS = dict(cells=1600, t_end=700.0, dt=0.175, snapshots=140, dispersion="o-xylene", scheme="weno5",
                  noise=0.5, seed=0, fit=True)

#: the paper's figure times t^ = 70, 1500, 4000, 6500 with its tau = 0.0723 s (Fig. 1)
PAPER_TIMES = (5.06, 108.45, 289.2, 469.95)
#: fit windows (s), read off the chromatogram; ethylbenzene and p+m-xylene overlap and are fitted jointly
WINDOWS = {"benzene": (90.0, 160.0), "toluene": (200.0, 270.0), "ethylbenzene": (420.0, 462.0),
           "p+m-xylene": (455.0, 530.0), "o-xylene": (540.0, 630.0)}
DATA_END, DATA_STEP = 700.0, 0.25  # the synthetic record: 0-700 s sampled every 0.25 s
FINE = 0.05  # s, time grid of the outlet comparison
COLOURS = {"benzene": "tab:blue", "toluene": "tab:orange", "ethylbenzene": "tab:green",
           "p+m-xylene": "tab:red", "o-xylene": "tab:purple"}


def ident(name):
    """Component name of an analyte in the results file (identifiers only)."""
    return name.replace("p+m-", "pm_").replace("-", "_")


def _d0(data, p):
    choice = p["dispersion"]
    if choice == "none":
        return 0.0
    if choice == "mean":
        return float(np.mean([a.D0 for a in data.analytes]))
    names = [a.name for a in data.analytes]
    if choice not in names:
        raise pdekit.ParameterError(f"dispersion must be an analyte name ({', '.join(names)}), 'mean' or 'none', "
                                    f"got {choice!r}")
    return data.analyte(choice).D0


_MODELS = {}


def _key(p):
    return tuple(sorted(p.items()))


def make_column(p):
    data = btex()
    g = data.column
    D0 = _d0(data, p)
    A = data.analytes
    return Column(g.L, p["cells"], g.velocity, Inlet.pulse([a.c0 for a in A], data.t1),
                  binding=Binding.linear([a.k_a for a in A], [a.k_d for a in A], kinetic=True),
                  dispersion=lambda x: g.diffusivity(x, D0), phase_ratio=g.alpha,
                  components=[ident(a.name) for a in A], scheme=p["scheme"])


def build(**p):
    if p["t_end"] < 640.0:
        raise pdekit.ParameterError(f"t_end must be >= 640 s (o-xylene, the last peak, elutes by ~620 s), "
                                    f"got {p['t_end']}")
    if not p["dt"] > 0:
        raise pdekit.ParameterError(f"dt must be > 0, got {p['dt']}")
    if p["noise"] < 0:
        raise pdekit.ParameterError(f"noise must be >= 0 (a.u.), got {p['noise']}")
    col = make_column(p)
    _DIAG.pop(_key(p), None)
    _MODELS[_key(p)] = col  # the run loop records the outlet signal of every step in the model
    return col, 0.0, dict(t_end=p["t_end"], dt=p["dt"], snapshots=p["snapshots"])


# ---- the outlet signal of the run ------------------------------------------------------------------------
def _recorded(col):
    if not col.outlet_times:
        return None, None
    tt = np.r_[0.0, np.concatenate(col.outlet_times)]
    vv = np.vstack([np.zeros((1, col.m)), np.concatenate(col.outlet_values)])
    return tt, vv


def pde_outlet(p):
    """The column of the run (its recorded outlet signal, per step) or, when the case's run is not in this
    process, a fresh run of the same column."""
    col = _MODELS.get(_key(p))
    tt, _ = _recorded(col) if col is not None else (None, None)
    if tt is None or abs(tt[-1] - p["t_end"]) > 1e-9 * p["t_end"]:
        col = make_column(p)
        col.chromatogram(p["t_end"], dt=p["dt"])
        _MODELS[_key(p)] = col
    return col


def peak_stats(t, c):
    """Peak time (parabola through the top three samples), mean, standard deviation, area of c(t)."""
    k = int(np.argmax(c))
    tp = t[k]
    if 0 < k < len(t) - 1:
        y0, y1, y2 = c[k - 1], c[k], c[k + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            tp = t[k] + 0.5 * (y0 - y2) / den * (t[1] - t[0])
    area = np.trapezoid(c, t)
    mean = np.trapezoid(t * c, t) / area
    var = np.trapezoid((t - mean) ** 2 * c, t) / area
    return dict(t_peak=tp, height=c.max(), mean=mean, sigma=math.sqrt(var), var=var, area=area)


_DIAG = {}


def diagnostics(ds, p):
    key = _key(p)
    if key in _DIAG:
        return _DIAG[key]
    data = btex()
    g = data.column
    gc = btex(compressible=False).column
    A = data.analytes
    col = pde_outlet(p)
    from scipy.interpolate import CubicSpline

    tt, vv = _recorded(col)
    t = np.arange(0.0, p["t_end"] + 0.5 * FINE, FINE)
    pde = np.maximum(CubicSpline(tt, vv, axis=0)(t), 0.0)
    tc = np.arange(0.0, 1000.0 + 0.5 * FINE, FINE)  # the constant-velocity peaks elute up to ~870 s
    rows = []
    for i, a in enumerate(A):
        ex = g.outlet(t, a.k_a, a.k_d, a.c0, data.t1)
        cv = gc.outlet(tc, a.k_a, a.k_d, a.c0, data.t1)
        k = a.K * g.alpha
        rows.append(dict(name=a.name, f=a.f, pde=pde[:, i], exact=ex, const=cv,
                         s_pde=peak_stats(t, pde[:, i]), s_ex=peak_stats(t, ex), s_cv=peak_stats(tc, cv),
                         moments=g.moments(a.k_a, a.k_d, data.t1),
                         l1=np.abs(pde[:, i] - ex).sum() / ex.sum(),
                         # time variance added by D(x) = D0 p0/p: int 2 D (1+k)^2 / u^3 dx
                         var_D=_d0(data, p) * (1 + k) ** 2 * g.L * (1 + (g.pL / g.p0) ** 2) / g.u0 ** 3,
                         var_D_own=a.D0 * (1 + k) ** 2 * g.L * (1 + (g.pL / g.p0) ** 2) / g.u0 ** 3))
    f = np.array([a.f for a in A])
    sig_pde, sig_ex = pde @ f, sum(r["exact"] * r["f"] for r in rows)
    # profiles along the column at the snapshots nearest to the paper's figure times
    times = ds.t.values
    picks = [int(np.argmin(np.abs(times - s))) for s in PAPER_TIMES]
    x = ds.x.values
    prof = []
    for k in picks:
        tk = float(times[k])
        ex = np.array([g.concentration(tk, x, a.k_a, a.k_d, a.c0, data.t1) for a in A])
        num = np.array([ds[f"c_{ident(a.name)}"].values[k] for a in A])
        prof.append(dict(t=tk, exact=ex, pde=num, l1=np.abs(num - ex).sum() / ex.sum()))
    # mass balance: injected u(0) c0 t1 per unit area = outflow + content (c + alpha q) dx at t_end
    inj = np.array([col.u[0] * a.c0 * data.t1 for a in A])
    content = np.array([(ds[f"c_{ident(a.name)}"].values[-1] + col.F * ds[f"q_{ident(a.name)}"].values[-1]).sum()
                        * col.dx for a in A])
    cmin = min(float(ds[v].values.min()) for v in ds.data_vars if v.startswith(("c_", "q_")))
    d = dict(t=t, tc=tc, rows=rows, sig_pde=sig_pde, sig_ex=sig_ex, prof=prof, col=col, data=data,
             inj=inj, content=content, outflow=col.outflow.copy(), cmin=min(cmin, float(pde.min())),
             D0=_d0(data, p))
    if p["fit"]:
        from pdekit.chromatography.fit import fit_chromatogram

        td = np.arange(0.0, DATA_END + 0.5 * DATA_STEP, DATA_STEP)
        yd = btex_chromatogram(td, noise=p["noise"], seed=p["seed"])
        d["fit"] = fit_chromatogram(td, yd, g, A, data.t1, baseline="fit", windows=WINDOWS,
                                    noise=p["noise"] if p["noise"] > 0 else None)
        d["data_t"], d["data_y"] = td, yd
    _DIAG[key] = d
    return d


def summary(ds, **p):
    d = diagnostics(ds, p)
    data, rows = d["data"], d["rows"]
    g = data.column
    lines = [f"BTEX column: L = {g.L:g} m, alpha = {g.alpha:.5f}, p {g.p0 / 1e5:.3f} -> {g.pL / 1e5:.3f} bar, "
             f"u {g.u0:.3f} -> {float(g.velocity(g.L)):.3f} m/s, t0(L) = {g.t0:.3f} s (constant velocity: "
             f"{g.L / g.u0:.2f} s); {p['cells']} cells {p['scheme']}, esdirk3 dt <= {p['dt']:g} s; injection "
             f"{data.t1:g} s of 20 ppb = {data.analytes[0].c0:.4g} mol/m^3 (p+m-xylene 40 ppb)",
             f"  dispersion D(x) = D0 p0/p(x) with D0 = {d['D0']:.4g} m^2/s for every analyte "
             f"({p['dispersion']}; the analytes' own D0 span {min(a.D0 for a in data.analytes):.3g}-"
             f"{max(a.D0 for a in data.analytes):.3g}); closed form: variable velocity, D = 0 (paper eq. 49)",
             "  outlet peaks (PDE / closed form / constant-velocity closed form); areas and heights in detector "
             "units f_i c:",
             f"  {'analyte':<13} {'t_peak (s)':>24} {'mean (s)':>19} {'sigma (s)':>13} {'area (a.u. s)':>25} "
             f"{'height (a.u.)':>22} {'rel L1':>8}"]
    for r in rows[::-1]:  # in elution order
        a, e, c = r["s_pde"], r["s_ex"], r["s_cv"]
        f = r["f"]
        lines.append(f"  {r['name']:<13} {a['t_peak']:7.2f} {e['t_peak']:7.2f} {c['t_peak']:7.2f}  "
                     f"{a['mean']:8.3f} {e['mean']:8.3f}  {a['sigma']:5.3f} {e['sigma']:5.3f}  "
                     f"{f * a['area']:7.2f} {f * e['area']:7.2f} {f * c['area']:8.2f}  "
                     f"{f * a['height']:6.2f} {f * e['height']:6.2f} {f * c['height']:7.2f}  {r['l1']:8.2e}")
    l1_sig = np.abs(d["sig_pde"] - d["sig_ex"]).sum() / d["sig_ex"].sum()
    worst = max(r["l1"] for r in rows)
    lines.append(f"  relative L1 difference PDE vs closed form: max over analytes {worst:.2e}, detector signal "
                 f"{l1_sig:.2e} (research note: <= 1e-2) -> {'within' if worst <= 1e-2 else 'NOT within'} 1e-2")
    mom = max(abs(r["s_ex"]["mean"] - r["moments"][0]) for r in rows)
    ref = {a.name: a.c0 * data.t1 * g.pL / g.p0 for a in data.analytes}  # int c dt = c0 t1 u0/u_L
    area = max(abs(r["s_ex"]["area"] / ref[r["name"]] - 1) for r in rows)
    lines.append(f"  closed form vs its exact moments: max |mean - (t0 (1 + alpha K) + t1/2)| = {mom:.1e} s; "
                 f"max |area / (c0 t1 pL/p0) - 1| = {area:.1e} (u_L int c dt = u0 c0 t1)")
    tr = [r["s_cv"]["t_peak"] / r["s_ex"]["t_peak"] - 1 for r in rows]
    ar = [r["s_cv"]["area"] / r["s_ex"]["area"] for r in rows]
    hr = [r["s_cv"]["height"] / r["s_ex"]["height"] for r in rows]
    lines.append(f"  constant velocity (pressure drop ignored): peaks later by {min(tr):.1%}-{max(tr):.1%}, areas "
                 f"x{min(ar):.3f}-{max(ar):.3f} (p0/pL = {g.p0 / g.pL:.3f}), heights x{min(hr):.2f}-{max(hr):.2f}")
    parts = []
    for r in rows[::-1]:
        dv = r["s_pde"]["var"] - r["s_ex"]["var"]
        parts.append(f"{r['name']} {dv:+.3f} vs {r['var_D']:.3f} ({r['var_D'] / r['s_ex']['var']:.2%}; own D0 "
                     f"{r['var_D_own'] / r['s_ex']['var']:.2%})")
    lines.append("  peak variance PDE - closed form (s^2) vs the dispersion term int 2 D (1+alpha K)^2/u^3 dx: "
                 + ", ".join(parts))
    lines.append("  profiles c(x) PDE vs closed form, relative L1 over the five analytes: "
                 + ", ".join(f"t = {q['t']:g} s {q['l1']:.2e}" for q in d["prof"])
                 + f" (paper's times {', '.join(f'{s:g}' for s in PAPER_TIMES)} s)")
    err = (d["outflow"] + d["content"] - d["inj"]) / d["inj"]
    lines.append(f"  mass balance: injected u0 c0 t1 = outflow + column content to {np.abs(err).max():.1e} relative "
                 f"(eluted by t_end: {(d['outflow'] / d['inj']).min():.9f} of every analyte); "
                 f"min concentration {d['cmin']:.2e}")
    if "fit" in d:
        fit = d["fit"]
        truth = {a.name: (a.k_a, a.k_d) for a in data.analytes}
        errs = [(a.name, a.k_a / truth[a.name][0] - 1, a.k_d / truth[a.name][1] - 1, a.k_a_se / a.k_a)
                for a in fit.analytes]
        lines.append(f"  fit of the synthetic detector signal (noise {p['noise']:g} a.u., seed {p['seed']}, "
                     f"0-{DATA_END:g} s every {DATA_STEP:g} s): baseline {fit.baseline:.3f} (true {data.baseline:g}), "
                     f"R^2 {fit.r2:.5f}, {fit.runtime:.2f} s; k_a, k_d relative errors: "
                     + ", ".join(f"{n} {ea:+.1e} {ed:+.1e} (se {se:.1e})" for n, ea, ed, se in errs[::-1]))
    return "\n".join(lines)


def plot(ds, path, **p):
    plt = pyplot()
    d = diagnostics(ds, p)
    data, rows = d["data"], d["rows"]
    g = data.column
    c0 = data.analytes[0].c0
    fig = plt.figure(figsize=(16, 13))
    gs = fig.add_gridspec(3, 4, height_ratios=[1.0, 1.25, 1.25])

    # (a) profiles along the column
    x = ds.x.values
    for j, q in enumerate(d["prof"]):
        ax = fig.add_subplot(gs[0, j])
        for i, a in enumerate(data.analytes):
            col = COLOURS[a.name]
            ax.plot(x, q["exact"][i] / c0, color=col, lw=1.4, label=a.name)
            ax.plot(x, q["pde"][i] / c0, "--", color="k", lw=0.7)
        if j == 0:
            # the first profile sits near the inlet: zoom to where the analytes are
            ext = max(float(x[np.nonzero(q["exact"][i] > 1e-3 * c0)[0]].max(initial=0.0))
                      for i in range(len(data.analytes)))
            ax.set_xlim(0.0, max(1.2 * ext, 0.2))
            ax.set_ylabel("c / c0 (c0 = 20 ppb)")
        else:
            ax.set_xlim(0.0, g.L)
        ax.plot([], [], "k--", lw=0.7, label="PDE (pdekit Column)")
        ax.set_xlabel("x (m)")
        ax.set_title(f"(a) t = {q['t']:g} s (paper t ~ {PAPER_TIMES[j]:.0f} s)", fontsize=9)
        if j == 0:
            ax.legend(fontsize=7)

    # (b) outlet chromatogram
    ax = fig.add_subplot(gs[1, :3])
    for r in rows:
        col = COLOURS[r["name"]]
        ax.plot(d["t"], r["pde"] / c0, color=col, lw=1.6, label=f"{r['name']} PDE")
        ax.plot(d["t"], r["exact"] / c0, "k--", lw=0.8)
        ax.plot(d["tc"], r["const"] / c0, ":", color=col, lw=1.3)
    ax.plot([], [], "k--", lw=0.8, label="closed form, variable velocity")
    ax.plot([], [], "k:", lw=1.3, label="closed form, constant velocity u0")
    ax.set_xlim(0.0, 900.0)
    ax.set_xlabel("t (s)")
    ax.set_ylabel("c(L, t) / c0")
    worst = max(r["l1"] for r in rows)
    ax.set_title(f"(b) outlet: PDE with u(x), D(x) = D0 p0/p vs closed form (rel. L1 <= {worst:.1e}); "
                 "ignoring the pressure drop: peaks ~42 % later, areas x p0/pL", fontsize=9)
    ax.legend(fontsize=7, ncol=2)

    # (c) pressure and velocity
    ax = fig.add_subplot(gs[1, 3])
    xs = np.linspace(0.0, g.L, 401)
    ax.plot(xs, g.pressure(xs) / 1e5, color="tab:blue", lw=1.8)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("p (bar)", color="tab:blue")
    ax.set_ylim(0.0, 4.5)
    ax2 = ax.twinx()
    ax2.plot(xs, g.velocity(xs), color="tab:red", lw=1.8)
    ax2.set_ylabel("u (m/s)", color="tab:red")
    ax2.set_ylim(0.0, 1.8)
    ax.set_title(f"(c) p {g.p0 / 1e5:.2f} -> {g.pL / 1e5:.3f} bar, u {g.u0:.2f} -> {float(g.velocity(g.L)):.2f} m/s",
                 fontsize=9)

    # (d) detector signal and fit
    ax = fig.add_subplot(gs[2, :3])
    sig_pde = data.baseline + d["sig_pde"]
    if "fit" in d:
        fit = d["fit"]
        ax.plot(d["data_t"], d["data_y"], color="0.55", lw=0.6, label=f"synthetic detector signal "
                                                                         f"(noise {p['noise']:g} a.u.)")
        ax.plot(fit.t, fit.fitted, color="k", lw=1.0, label=f"fit (k_a, k_d per analyte; R^2 = {fit.r2:.4f})")
    ax.plot(d["t"], sig_pde, "--", color="tab:red", lw=1.0, label="PDE, f_i c_i + baseline")
    for r in rows:
        s = r["s_ex"]
        ax.annotate(r["name"], (s["t_peak"], data.baseline + r["f"] * s["height"]), textcoords="offset points",
                    xytext=(0, 6), ha="center", fontsize=8, color=COLOURS[r["name"]])
    ax.axhline(data.baseline, color="0.8", lw=0.6)
    ax.set_xlim(0.0, 700.0)
    ax.set_ylim(data.baseline - 10, data.baseline + 1.35 * max(r["f"] * r["s_ex"]["height"] for r in rows))
    ax.set_xlabel("t (s)")
    ax.set_ylabel("detector signal (a.u.)")
    ax.set_title(f"(d) synthetic chromatogram in detector units, baseline {data.baseline:g} a.u.", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")

    ax = fig.add_subplot(gs[2, 3])
    if "fit" in d:
        fit = d["fit"]
        names = [a.name for a in data.analytes][::-1]
        y = np.arange(len(names))
        for off, key, se, mk, lab in ((-0.15, "k_a", "k_a_se", "o", "k_a"), (0.15, "k_d", "k_d_se", "s", "k_d")):
            err = [100 * (getattr(fit[n], key) / getattr(data.analyte(n), key) - 1) for n in names]
            bar = [100 * getattr(fit[n], se) / getattr(fit[n], key) for n in names]
            ax.errorbar(err, y + off, xerr=bar, fmt=mk, ms=4, capsize=3, label=f"{lab} (± 1 se)")
        ax.axvline(0.0, color="0.6", lw=0.8)
        ax.set_yticks(y)
        ax.set_yticklabels(names, fontsize=8)
        ax.set_xlabel("fitted / Table 3 - 1 (%)")
        ax.set_ylim(-0.6, len(names) + 0.4)
        ax.set_title("fit: recovered rate constants", fontsize=9)
        ax.legend(fontsize=7, loc="upper center", ncol=2)
    else:
        ax.axis("off")
    save_figure(fig, path, dpi=90)


def main(argv=None):
    from pdekit.cases import main as case_main

    return case_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
