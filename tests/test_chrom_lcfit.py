"""Fitting K and the width (D) of a linear equilibrium-dispersive column to one peak (lcfit): recovery
from exact and noisy data, uncertainty calibration, bad input."""
import numpy as np
import pytest

from pdekit.chromatography import fit_linear_peak, outlet_linear
from pdekit.errors import ParameterError

L, U, F, T1 = 0.1, 1e-3, 1.5, 10.0  # the research note's LIN-EQ column (eps_t = 0.4)
K, D = 2.0, 1e-7
T = np.arange(0.0, 800.0, 0.5)


def peak(K=K, D=D):
    return outlet_linear(T, L, U, D, F, K=K, t1=T1)


def test_noise_free_peak_gives_k_and_d_back():
    r = fit_linear_peak(T, peak(), length=L, velocity=U, phase_ratio=F, t1=T1)
    assert r.K == pytest.approx(K, rel=1e-8) and r.D == pytest.approx(D, rel=1e-8)
    # moment start values: V2 with the finite-Pe correction dropped (Pe = 1000): within 3 % for D
    assert r.start[0] == pytest.approx(K, rel=1e-3) and r.start[1] == pytest.approx(D, rel=0.03)
    assert r.plates == pytest.approx(405.0 ** 2 / 328.0133, rel=1e-3)  # mu1^2 / sigma^2 of V2
    assert "K" in r.summary(truth=(K, D))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_noisy_peak_within_one_percent_and_its_standard_errors(seed):
    rng = np.random.default_rng(seed)
    y = peak()
    sigma = 0.01 * y.max()
    r = fit_linear_peak(T, y + 0.05 + rng.normal(0.0, sigma, T.size), length=L, velocity=U, phase_ratio=F, t1=T1,
                        baseline="fit")
    for est, se, true in ((r.K, r.K_se, K), (r.D, r.D_se, D), (r.baseline, r.baseline_se, 0.05)):
        assert abs(est - true) <= 4.0 * se
    assert abs(r.K / K - 1) <= 1e-2 and abs(r.D / D - 1) <= 1e-2
    # the standard errors follow the noise: with the true sigma given they agree with the estimate's
    r2 = fit_linear_peak(T, y + 0.05 + rng.normal(0.0, sigma, T.size), length=L, velocity=U, phase_ratio=F, t1=T1,
                         baseline="fit", noise=sigma)
    assert r2.K_se == pytest.approx(r.K_se, rel=0.2)


def test_window_and_guess():
    r = fit_linear_peak(T, peak(3.0, 2e-7), length=L, velocity=U, phase_ratio=F, t1=T1, window=(300.0, 799.5),
                        guess=(2.5, 3e-7))
    assert r.K == pytest.approx(3.0, rel=1e-7) and r.D == pytest.approx(2e-7, rel=1e-6)


def test_bad_input():
    y = peak()
    kw = dict(length=L, velocity=U, phase_ratio=F, t1=T1)
    with pytest.raises(ParameterError, match="increasing"):
        fit_linear_peak(T[::-1], y, **kw)
    bad = y.copy()
    bad[100] = np.nan
    with pytest.raises(ParameterError, match="finite"):
        fit_linear_peak(T, bad, **kw)
    tn = T.copy()
    tn[5] = np.nan
    with pytest.raises(ParameterError, match="finite times"):
        fit_linear_peak(tn, y, **kw)
    with pytest.raises(ParameterError, match="length"):
        fit_linear_peak(T, y, **{**kw, "length": -1.0})
    with pytest.raises(ParameterError, match="baseline"):
        fit_linear_peak(T, y, baseline="auto", **kw)
    with pytest.raises(ParameterError, match="no positive K"):  # the peak leaves before an unretained solute
        fit_linear_peak(T, y, **{**kw, "velocity": 1e-4})
    with pytest.raises(ParameterError, match="guess"):
        fit_linear_peak(T, y, guess=(1.0,), **kw)
