"""The chromatography case scripts run from `pdekit run`, print their findings and write their figures; their
numbers agree with the research note (chromatography.md): the BTEX column of Cabrera-Codony et al. (2024)
against the closed form (CHROM-GC-3/5/6) and the LANG-2 batch elution against CADET's reference (section 3)."""
import re

import numpy as np
import pytest

from pdekit.chromatography.exact import btex
from pdekit.cli import main

from casetools import number, run_case




NUM = r"([-+0-9.e]+)"

# research note CHROM-GC-6, variable-velocity model: peak time (s), mean (s), sigma (s), area (a.u. s)
GC6 = {"benzene": (118.9, 119.16, 5.71, 1159.4), "toluene": (231.0, 231.17, 5.94, 927.1),
       "ethylbenzene": (448.7, 448.79, 7.07, 562.0), "p+m-xylene": (481.4, 481.49, 9.05, 1411.1),
       "o-xylene": (576.4, 576.55, 8.77, 516.5)}
# constant velocity: peaks at
GC6_CONST = {"benzene": 169.0, "toluene": 329.0, "ethylbenzene": 639.6, "p+m-xylene": 686.2, "o-xylene": 821.9}


def test_gc_btex_matches_the_closed_form(tmp_path, capsys):
    text, ds = run_case(tmp_path, capsys, "gc-btex", ["cells=800", "dt=0.35"])
    data = btex()
    g = data.column
    # the peak table: PDE and closed form reproduce the research note's numbers
    for name, (tp, mean, sigma, area) in GC6.items():
        m = re.search(rf"^  {re.escape(name)}\s+" + r"\s+".join([NUM] * 14) + r"\s*$", text, re.M)
        assert m, f"no table row for {name}"
        v = [float(s) for s in m.groups()]
        tp_pde, tp_ex, tp_cv, mean_pde, mean_ex, sig_pde, sig_ex, a_pde, a_ex, a_cv = v[:10]
        l1 = v[13]
        assert tp_ex == pytest.approx(tp, abs=0.06) and tp_pde == pytest.approx(tp, abs=0.1)
        assert mean_ex == pytest.approx(mean, abs=0.006) and mean_pde == pytest.approx(mean, abs=0.05)
        assert sig_ex == pytest.approx(sigma, abs=0.006)
        assert sig_ex < sig_pde < sig_ex * 1.01  # D(x) and the scheme widen the peak a little
        assert a_ex == pytest.approx(area, rel=2e-4) and a_pde == pytest.approx(a_ex, rel=1e-6)  # mass
        # PDE vs closed form: the research note asks rel. L1 <= 1e-2 (measured at 800 cells: 1.6e-4 .. 3.7e-3)
        assert l1 <= 1e-2
        # ignoring the pressure drop: ~42 % later, p0/pL = 3.96 times the area
        assert tp_cv == pytest.approx(GC6_CONST[name], abs=0.1)
        assert 0.40 <= tp_cv / tp_ex - 1 <= 0.45
        assert a_cv / a_ex == pytest.approx(g.p0 / g.pL, rel=1e-4)
    assert number(r"max over analytes ([0-9.e+-]+)", text) <= 1e-2
    lo, hi = (number(r"peaks later by ([0-9.]+)%", text), number(r"peaks later by [0-9.]+%-([0-9.]+)%", text))
    assert 40.0 <= lo <= hi <= 45.0
    # independently of the case: the snapshot nearest t = 290 s against the closed form along the column
    k = int(np.argmin(np.abs(ds.t.values - 289.2)))
    x = ds.x.values
    tk = float(ds.t.values[k])
    assert tk == pytest.approx(290.0)
    num = sum(np.abs(ds[f"c_{c}"].values[k] - g.concentration(tk, x, a.k_a, a.k_d, a.c0, data.t1)).sum()
              for c, a in zip(["o_xylene", "pm_xylene", "ethylbenzene", "toluene", "benzene"], data.analytes))
    den = sum(g.concentration(tk, x, a.k_a, a.k_d, a.c0, data.t1).sum() for a in data.analytes)
    assert num / den <= 1e-2
    # the extra variance of the PDE peaks is the dispersion term int 2 D (1 + alpha K)^2 / u^3 dx (0.02-0.23 %
    # of the variance) plus the scheme's own. At 800 cells the 4 s injection spans ~4 cells at first and the
    # positivity-preserving correction smooths it: up to 2.2x the physical term on top (o-xylene +0.573 vs
    # 0.180 s^2); at 1600 cells +0.230 vs 0.180 (`pdekit run gc-btex --set cells=1600 --set dt=0.35`)
    excess = re.findall(r"([a-z+-]+) \+([0-9.]+) vs ([0-9.]+) \(", text)
    assert len(excess) == 5
    for name, dv, vd in excess:
        assert 0.8 * float(vd) <= float(dv) <= 3.5 * float(vd), name
    # mass: injected = outflow + column content; no negative concentration
    assert number(r"outflow \+ column content to ([0-9.e+-]+) relative", text) <= 1e-10
    assert min(float(ds[v].values.min()) for v in ds.data_vars) >= 0.0
    # the fit of the noisy synthetic signal (sigma 0.5 a.u.) recovers k_a, k_d to ~1 % (research note)
    fits = re.findall(r"([a-z+-]+) ([-+0-9.e]+) ([-+0-9.e]+) \(se", text)
    assert len(fits) == 5
    for name, ea, ed in fits:
        assert abs(float(ea)) <= 0.015 and abs(float(ed)) <= 0.015, name


def test_gc_btex_refuses_unknown_dispersion(tmp_path, capsys):
    assert main(["run", "gc-btex", "--set", "dispersion=helium", "--output", str(tmp_path / "x.h5")]) == 2
    assert "dispersion" in capsys.readouterr().err


def test_langmuir_batch_elution_matches_cadet(tmp_path, capsys):
    text, ds = run_case(tmp_path, capsys, "langmuir-batch-elution", ["cells=400"])
    # CADET (LANG-2): A 14.662 at 322.25 s, B 7.104 at 362.5 s (0.25 s output grid); fronts 316.0 / 356.0 s.
    # At 400 cells (measured): 14.650 at 322.64 s and 7.065 at 362.89 s (CADET FV-WENO3 400: 14.64, 7.05)
    hA = number(r"peak A\s+([0-9.]+)", text)
    hB = number(r"peak B\s+([0-9.]+)", text)
    assert hA == pytest.approx(14.662, rel=0.01)
    assert hB == pytest.approx(7.104, rel=0.02)
    assert hA > hB
    tA = number(r"peak A\s+[0-9.]+\s+[0-9.]+\s+[-+0-9.e]+\s+([0-9.]+)", text)
    tB = number(r"peak B\s+[0-9.]+\s+[0-9.]+\s+[-+0-9.e]+\s+([0-9.]+)", text)
    assert tA == pytest.approx(322.25, abs=0.6) and tB == pytest.approx(362.5, abs=0.6)
    fA = number(r"peak A(?:\s+[-+0-9.e]+){5}\s+([0-9.]+)", text)
    fB = number(r"peak B(?:\s+[-+0-9.e]+){5}\s+([0-9.]+)", text)
    assert fA == pytest.approx(316.0, abs=0.5) and fB == pytest.approx(356.0, abs=0.5)
    # B's tail (c < 1e-3) ends at ~526 s; the threshold crossing on the slow rarefaction converges from above
    # (measured 555 / 531 / 527.6 / 526.8 s at 200 / 400 / 800 / 1600 cells)
    assert 524.0 <= number(r"B's tail ends \(c < 1e-3\) at ([0-9.]+) s", text) <= 536.0
    # roll-up: A displaced by B rises above the feed (10 mol/m^3)
    assert number(r"peak A / feed = ([0-9.]+)", text) > 1.4
    assert "above the feed" in text and "NOT above" not in text
    # mass balance: injected = outflow + content, content recomputed here from the last snapshot
    injected = number(r"injected u c_feed t_feed = ([0-9.e+-]+)", text)
    assert injected == pytest.approx(1e-6 / (0.7 * np.pi * 0.012 ** 2) * 10.0 * 60.0, rel=1e-12)
    m = re.search(r"; outflow ([0-9.e+-]+), ([0-9.e+-]+);", text)
    dx = 0.6 / ds.sizes["x"]
    for n, out in zip("AB", m.groups()):
        content = (ds[f"c_{n}"].values[-1] + 3 / 7 * ds[f"q_{n}"].values[-1]).sum() * dx
        assert abs(float(out) + content - injected) <= 1e-10 * injected
    for e in re.search(r"relative error ([-+0-9.e]+), ([-+0-9.e]+)", text).groups():
        assert abs(float(e)) <= 1e-10
    # positivity: every snapshot and the outlet
    assert min(float(ds[v].values.min()) for v in ds.data_vars) >= 0.0
    assert number(r"min concentration: outlet ([-+0-9.e]+)", text) >= 0.0
