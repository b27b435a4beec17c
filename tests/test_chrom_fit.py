"""Fitting the kinetic GC model to the synthetic BTEX chromatogram (research note chromatography.md,
CHROM-GC-3 moments / start values, CHROM-GC-6 data set and fit tolerances)."""
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from pdekit.chromatography.exact import btex, btex_chromatogram, thomas_pulse
from pdekit.chromatography.fit import (AnalyteSpec, ChromatogramFit, chromatogram_moments, fit_chromatogram,
                                       load_chromatogram, start_values)
from pdekit.chromatography import fit as fitmod
from pdekit.errors import ParameterError

DATA = Path(__file__).resolve().parents[1] / "data" / "btex"
BTEX = btex()
COL = BTEX.column
TRUTH = {a.name: (a.k_a, a.k_d) for a in BTEX.analytes}
# the analyst's windows: each peak, the ethylbenzene / p+m-xylene overlap split at the valley (~466 s)
WINDOWS = {"benzene": (90.0, 150.0), "toluene": (200.0, 265.0), "ethylbenzene": (415.0, 466.0),
           "p+m-xylene": (466.0, 530.0), "o-xylene": (540.0, 615.0)}
T = np.arange(7001) / 10.0


def _rel_errors(res):
    return {a.name: (a.k_a / TRUTH[a.name][0] - 1.0, a.k_d / TRUTH[a.name][1] - 1.0) for a in res.analytes}


@pytest.fixture(scope="module")
def noise_free_csv():
    return load_chromatogram(DATA / "btex_noise_free.csv")


@pytest.fixture(scope="module")
def noisy_csv():
    return load_chromatogram(DATA / "btex_noisy.csv")


@pytest.fixture(scope="module")
def fit_noise_free(noise_free_csv):
    t, y = noise_free_csv
    return fit_chromatogram(t, y, COL, BTEX.analytes, BTEX.t1, windows=WINDOWS, baseline=BTEX.baseline)


# ---------------------------------------------------------------------------------------------------
# the data set
# ---------------------------------------------------------------------------------------------------

def test_shipped_csv_files_are_small_and_on_the_documented_grid(noise_free_csv, noisy_csv):
    for name, (t, y) in (("btex_noise_free.csv", noise_free_csv), ("btex_noisy.csv", noisy_csv)):
        assert (DATA / name).stat().st_size < 200_000
        np.testing.assert_array_equal(t, T)
        assert (DATA / name).read_text().splitlines()[0] == "time_s,signal_au"
    t, y = noise_free_csv
    assert np.max(np.abs(y - btex_chromatogram(T))) <= 0.5e-4 * (1 + 1e-9)   # rounding to 1e-4 a.u.
    resid = noisy_csv[1] - y
    assert abs(np.std(resid) - 0.5) < 0.02 and abs(np.mean(resid)) < 0.02


def test_generator_script_reproduces_the_shipped_csv():
    spec = importlib.util.spec_from_file_location("make_btex", DATA / "make_btex.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    worst = mod.check(DATA)          # raises if a value differs by more than one unit in the last digit
    assert set(worst) == {"btex_noise_free.csv", "btex_noisy.csv"}
    assert max(worst.values()) <= 1.01e-4
    t, y = mod.signals()["btex_noise_free.csv"]
    assert mod.csv_text(t[:2], y[:2]) == "time_s,signal_au\n0.0,3935.4000\n0.1,3935.4000\n"


# ---------------------------------------------------------------------------------------------------
# fits (CHROM-GC-6 tolerances)
# ---------------------------------------------------------------------------------------------------

def test_noise_free_csv_fit_recovers_every_analyte_to_1e4(fit_noise_free):
    res = fit_noise_free
    assert res.success and res.names == tuple(TRUTH)
    assert res.groups == (("benzene",), ("toluene",), ("ethylbenzene", "p+m-xylene"), ("o-xylene",))
    for name, (ea, ed) in _rel_errors(res).items():
        assert abs(ea) < 1e-4 and abs(ed) < 1e-4, (name, ea, ed)
        a = res[name]
        assert abs(a.K / (TRUTH[name][0] / TRUTH[name][1]) - 1) < 1e-4
        assert a.r2 > 1 - 1e-9 and a.start_source == "moments"
    assert res.s < 1e-4                     # only the 1e-4 a.u. rounding is left
    np.testing.assert_allclose(res.fitted, btex_chromatogram(T), rtol=0, atol=1e-5)


def test_noise_free_in_memory_joint_fit_with_fitted_baseline():
    y = btex_chromatogram(T)               # unrounded: recovery to round-off
    res = fit_chromatogram(T, y, COL, BTEX.analytes, BTEX.t1, windows=WINDOWS, baseline="fit",
                           method="joint")
    assert res.success and res.method == "joint" and len(res.groups) == 1
    for name, (ea, ed) in _rel_errors(res).items():
        assert abs(ea) < 1e-9 and abs(ed) < 1e-9, (name, ea, ed)
    assert abs(res.baseline - BTEX.baseline) < 1e-8
    assert res.cov_log.shape == (11, 11) and len(res.param_names) == 11


def test_noisy_csv_fit_recovers_to_about_one_percent_with_consistent_errors(noisy_csv):
    t, y = noisy_csv
    res = fit_chromatogram(t, y, COL, BTEX.analytes, BTEX.t1, windows=WINDOWS, baseline=BTEX.baseline,
                           noise=0.5)
    assert res.success
    assert 0.9 < res.chi2_red < 1.1         # the model and sigma = 0.5 explain the residuals
    for a in res.analytes:
        ka, kd = TRUTH[a.name]
        assert abs(a.k_a / ka - 1) < 1e-2 and abs(a.k_d / kd - 1) < 1e-2, a.name
        assert abs(a.k_a - ka) < 3 * a.k_a_se and abs(a.k_d - kd) < 3 * a.k_d_se, a.name
        assert abs(a.K - ka / kd) < 3 * a.K_se, a.name
        assert 1e-4 < a.k_a_se / a.k_a < 1e-2 and 0.99 < a.corr < 1.0
        # start values from moments on noisy data: within 5 %
        assert abs(a.start.k_a / ka - 1) < 0.05 and abs(a.start.k_d / kd - 1) < 0.05, a.name
    # residual-based errors agree with the given-noise ones (s ~ 0.5)
    res2 = fit_chromatogram(t, y, COL, BTEX.analytes, BTEX.t1, windows=WINDOWS, baseline="fit")
    assert abs(res2.s - 0.5) < 0.03
    for a, b in zip(res.analytes, res2.analytes):
        assert abs(b.k_a / a.k_a - 1) < 0.2 * a.k_a_se / a.k_a
        assert 0.85 < b.k_d_se / a.k_d_se < 1.15
    assert abs(res2.baseline - BTEX.baseline) < 3 * res2.baseline_se + 1e-12
    assert len(res2.group_baselines) == 4


def test_constant_velocity_model_and_windows_from_guesses():
    col = btex(compressible=False).column
    t = np.arange(5001) / 5.0                     # 0..1000 s: constant-velocity peaks at 169..822 s
    y = btex_chromatogram(t, compressible=False)
    guesses = {n: (ka * 1.01, kd * 1.03) for n, (ka, kd) in TRUTH.items()}
    specs = [AnalyteSpec(a.name, a.c0, a.f, guess=guesses[a.name]) for a in BTEX.analytes]
    with pytest.raises(ParameterError, match="outside the data range"):   # o-xylene beyond 700 s
        fit_chromatogram(t[:3501], y[:3501], COL, specs, BTEX.t1, baseline=BTEX.baseline, compressible=False)
    res = fit_chromatogram(t, y, COL, specs, BTEX.t1, baseline=BTEX.baseline, compressible=False)
    assert res.success and not res.compressible
    for name, (ea, ed) in _rel_errors(res).items():
        assert abs(ea) < 1e-8 and abs(ed) < 1e-8, name
        assert res[name].start_source == "guess"
    # the same through a constant-velocity column object
    res2 = fit_chromatogram(t, y, col, specs, BTEX.t1, baseline=BTEX.baseline)
    assert not res2.compressible and abs(res2["o-xylene"].k_a / TRUTH["o-xylene"][0] - 1) < 1e-8


def test_per_sample_noise_equals_scalar_noise(noisy_csv):
    t, y = noisy_csv
    spec = [{"name": "benzene", "c0": BTEX.analytes[4].c0, "f": BTEX.analytes[4].f, "window": (90, 150)}]
    a = fit_chromatogram(t, y, COL, spec, BTEX.t1, baseline=BTEX.baseline, noise=0.5)["benzene"]
    b = fit_chromatogram(t, y, COL, spec, BTEX.t1, baseline=BTEX.baseline,
                         noise=np.full(t.size, 0.5))["benzene"]
    assert abs(a.k_a / b.k_a - 1) < 1e-10 and abs(a.k_d_se / b.k_d_se - 1) < 1e-8


# ---------------------------------------------------------------------------------------------------
# moments and start values (CHROM-GC-3)
# ---------------------------------------------------------------------------------------------------

def test_moments_and_their_inversion_are_exact_for_single_peaks():
    y, comps = btex_chromatogram(T, return_components=True)
    for a in BTEX.analytes:
        mu1, var = COL.moments(a.k_a, a.k_d, BTEX.t1)
        m = chromatogram_moments(T, comps[a.name])
        assert abs(m.area / (a.f * a.c0 * BTEX.t1 * COL.pL / COL.p0) - 1) < 1e-9
        assert abs(m.mean - mu1) < 1e-6 and abs(m.variance / var - 1) < 1e-6
        sv = start_values(mu1, var, COL, BTEX.t1)
        assert abs(sv.k_a / a.k_a - 1) < 1e-12 and abs(sv.k_d / a.k_d - 1) < 1e-12
        assert abs(sv.K - a.K) < 1e-9 * a.K
    # isolated peaks straight from the raw signal (window, baseline): within 5 % (here well within 1 %)
    for name in ("benzene", "toluene", "o-xylene"):
        m = chromatogram_moments(T, y, baseline=BTEX.baseline, window=WINDOWS[name])
        sv = start_values(m.mean, m.variance, COL, BTEX.t1)
        assert abs(sv.k_a / TRUTH[name][0] - 1) < 0.05 and abs(sv.k_d / TRUTH[name][1] - 1) < 0.05


def test_fit_start_values_within_5_percent_on_noise_free_data(fit_noise_free):
    for a in fit_noise_free.analytes:
        ka, kd = TRUTH[a.name]
        # the neighbour-subtracting, tail-completing moment iteration converges to the truth
        assert abs(a.start.k_a / ka - 1) < 0.05 and abs(a.start.k_d / kd - 1) < 0.05, a.name
        assert abs(a.start.k_a / ka - 1) < 1e-4      # (the CSV is rounded to 1e-4 a.u.)


# ---------------------------------------------------------------------------------------------------
# model internals
# ---------------------------------------------------------------------------------------------------

def test_fast_pulse_matches_thomas_pulse_and_jacobian_matches_finite_differences():
    rng = np.random.default_rng(5)
    tt = np.sort(rng.uniform(-5.0, 750.0, 1500))
    for a in BTEX.analytes:
        ref = COL.outlet(tt, a.k_a, a.k_d, 1.0, BTEX.t1)
        peak = fitmod._Peak(COL, BTEX.t1, 1.0)
        assert np.max(np.abs(peak.value(tt, a.k_a, a.k_d) - ref)) < 1e-12 * ref.max()
    for n, kd, t1 in [(0.5, 3.0, 4.0), (5.0, 0.2, 50.0), (3000.0, 100.0, 0.5)]:
        tau = np.linspace(-5.0, 200.0, 2001)
        ref = thomas_pulse(tau, 0.0, n, kd, t1)
        assert np.max(np.abs(fitmod._pulse(tau, n, kd, t1) - ref)) < 1e-12 * ref.max()
    peak = fitmod._Peak(COL, BTEX.t1, 1.0)
    ka, kd, h = 9203.0, 16.94, 1e-6
    ja, jd = peak.jac(tt, ka, kd)
    fa = (peak.value(tt, ka * math.exp(h), kd) - peak.value(tt, ka * math.exp(-h), kd)) / (2 * h)
    fd = (peak.value(tt, ka, kd * math.exp(h)) - peak.value(tt, ka, kd * math.exp(-h))) / (2 * h)
    assert np.max(np.abs(ja - fa)) < 1e-7 * np.max(np.abs(fa))
    assert np.max(np.abs(jd - fd)) < 1e-7 * np.max(np.abs(fd))


def test_result_summary_curve_and_lookup(fit_noise_free):
    res = fit_noise_free
    assert isinstance(res, ChromatogramFit)
    text = res.summary(truth=TRUTH)
    for name in TRUTH:
        assert name in text
    assert "k_a (1/s)" in text and "variable velocity" in text and "err k_a" in text
    assert str(res) == res.summary()
    np.testing.assert_allclose(res.curve(T[1000:1010]), res.fitted[1000:1010], rtol=0, atol=1e-9)
    y, comps = res.curve(components=True)
    assert set(comps) == set(TRUTH) and y is res.fitted
    a = res["toluene"]
    assert a.window == WINDOWS["toluene"] and a.n_points == 651 and a.group == ("toluene",)
    assert a.cov_log.shape == (2, 2) and a.rel_se[0] > 0
    with pytest.raises(KeyError):
        res["xylene"]


# ---------------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------------

Y = btex_chromatogram(T)


def _fit(t=T, y=Y, **kw):
    args = dict(windows=WINDOWS, baseline=BTEX.baseline)
    args.update(kw)
    return fit_chromatogram(t, y, args.pop("column", COL), args.pop("analytes", BTEX.analytes),
                            args.pop("t1", BTEX.t1), **args)


def test_bad_input_raises_parameter_error():
    y = Y
    t_bad = T.copy()
    t_bad[100] = t_bad[99]
    with pytest.raises(ParameterError, match="strictly increasing"):
        _fit(t=t_bad, y=y)
    t_nan = T.copy()
    t_nan[5] = np.nan
    with pytest.raises(ParameterError, match="finite times"):
        _fit(t=t_nan, y=y)
    y_nan = y.copy()
    y_nan[3000] = np.nan
    with pytest.raises(ParameterError, match="signal must be finite"):
        _fit(y=y_nan)
    with pytest.raises(ParameterError, match="same length"):
        _fit(y=y[:-1])
    with pytest.raises(ParameterError, match="outside the data range"):
        _fit(windows={**WINDOWS, "o-xylene": (650.0, 750.0)})
    with pytest.raises(ParameterError, match="t_start < t_end"):
        _fit(windows={**WINDOWS, "benzene": (150.0, 90.0)})
    with pytest.raises(ParameterError, match="window .* or a guess"):
        _fit(windows={k: v for k, v in WINDOWS.items() if k != "toluene"})
    with pytest.raises(ParameterError, match="unknown analytes"):
        _fit(windows={**WINDOWS, "xylene": (1.0, 2.0)})
    with pytest.raises(ParameterError, match="baseline"):
        _fit(baseline="auto")
    with pytest.raises(ParameterError, match="method"):
        _fit(method="global")
    with pytest.raises(ParameterError, match="GCColumn"):
        _fit(column="column")
    with pytest.raises(ParameterError, match="t1"):
        _fit(t1=-4.0)
    with pytest.raises(ParameterError, match="noise"):
        _fit(noise=0.0)
    with pytest.raises(ParameterError, match="unique"):
        _fit(analytes=list(BTEX.analytes) + [BTEX.analytes[0]])
    with pytest.raises(ParameterError, match="c0"):
        _fit(analytes=[{"name": "benzene", "c0": -1.0, "f": 1.0, "window": (90, 150)}])
    with pytest.raises(ParameterError, match="guess"):
        _fit(guesses={"benzene": (579.0,)})
    # moments / start values
    with pytest.raises(ParameterError, match="area"):
        chromatogram_moments(T, np.zeros(T.size), window=(300.0, 400.0))
    with pytest.raises(ParameterError, match="same length"):
        chromatogram_moments(T, np.zeros(10))
    with pytest.raises(ParameterError, match="unretained"):
        start_values(30.0, 10.0, COL, BTEX.t1)
    with pytest.raises(ParameterError, match="narrower than the injection"):
        start_values(120.0, 1.0, COL, BTEX.t1)


def test_signal_with_an_unsubtracted_baseline_warns():
    y = Y
    spec = [{"name": "benzene", "c0": BTEX.analytes[4].c0, "f": BTEX.analytes[4].f, "window": (90, 150)}]
    with pytest.warns(RuntimeWarning, match="baseline"):
        try:
            fit_chromatogram(T, y, COL, spec, BTEX.t1)            # baseline=None: signal taken as is
        except ParameterError:
            pass
