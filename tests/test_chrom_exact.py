"""Semi-analytic chromatography references (pdekit.chromatography.exact), checked against independent
routes (direct quadrature, mpmath de Hoog inversion, closed-form moments, mass balances) and the
numbers of the research note (/work/shared/research/chromatography.md: CHROM-GC-3/5/6, V1–V5 and
the CADET case data LIN-EQ, LIN-KIN, GC-OXY, LANG-1)."""
import math
import time

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate

from pdekit.chromatography import exact as ex
from pdekit.errors import ParameterError

ALPHA = 2e-6 / 9e-5


def _moments_of(c, t):
    m0 = np.trapezoid(c, t)
    m1 = np.trapezoid(t * c, t) / m0
    var = np.trapezoid((t - m1) ** 2 * c, t) / m0
    return m0, m1, var


# ------------------------------------------------------------------------------------------------
# V4: Thomas / Giddings–Eyring closed form
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,k_d", [(3.0, 2.0), (439.7, 5.299), (7722.5, 14.291), (0.05, 1.0)])
def test_thomas_cdf_is_integral_of_kernel(n, k_d):
    """Phi(tau) = e^{-n} + int_0^tau k(T) dT (Marcum Q identity) against adaptive quadrature."""
    centre, width = n / k_d, math.sqrt(2 * n + 1) / k_d
    for tau in (0.5 * centre, centre - width, centre, centre + 2 * width):
        if tau <= 0:
            continue
        pts = [p for p in (centre - 5 * width, centre - width, centre, centre + width) if 0 < p < tau]
        val, err = integrate.quad(lambda T: float(ex.thomas_kernel(T, n, k_d)), 0, tau, points=pts or None,
                                  epsabs=1e-300, epsrel=1e-13, limit=500)
        ref = math.exp(-n) + val
        got = float(ex.thomas_cdf(tau, n, k_d))
        assert abs(got - ref) <= 1e-11 * ref + 1e-30, (tau, got, ref)   # far tails: absolute
    assert float(ex.thomas_cdf(0.0, n, k_d)) == pytest.approx(math.exp(-n), rel=1e-14)
    assert float(ex.thomas_cdf(-1e-9, n, k_d)) == 0.0
    assert float(ex.thomas_kernel(0.0, n, k_d)) == pytest.approx(n * k_d * math.exp(-n), rel=1e-14)


def test_thomas_kernel_against_mpmath_bessel():
    mp.mp.dps = 30
    for n, k_d, T in [(3.0, 2.0, 1.1), (7722.5, 14.291, 540.0), (439.7, 5.299, 90.0)]:
        N, K = mp.mpf(n), mp.mpf(k_d)
        ref = mp.exp(-N - K * T) * mp.sqrt(N * K / T) * mp.besseli(1, 2 * mp.sqrt(N * K * T))
        assert float(ex.thomas_kernel(T, n, k_d)) == pytest.approx(float(ref), rel=1e-12)


def test_thomas_pulse_structure():
    t0, n, k_d, t1, c0 = 10.0, 2.0, 1.5, 3.0, 2.0
    t = np.array([5.0, 9.999, 10.0, 12.0, 13.0, 20.0])
    c = ex.thomas_pulse(t, t0, n, k_d, t1, c0)
    assert c[0] == 0 and c[1] == 0
    assert c[2] == pytest.approx(c0 * math.exp(-n), rel=1e-14)            # the unadsorbed spike
    Phi = lambda tau: float(ex.thomas_cdf(tau, n, k_d))  # noqa: E731
    assert c[3] == pytest.approx(c0 * Phi(2.0), rel=1e-14)
    assert c[5] == pytest.approx(c0 * (Phi(10.0) - Phi(7.0)), rel=1e-12)
    # mass c0 t1 (spike + continuous part), step limit, irreversible limit k_d = 0, no binding n = 0
    tt = np.linspace(0, 200, 100001)
    m = np.trapezoid(ex.thomas_pulse(tt, t0, 40.0, k_d, t1, c0), tt)
    assert m == pytest.approx(c0 * t1, rel=1e-7)
    assert ex.thomas_step(1e4, t0, n, k_d) == pytest.approx(1.0, abs=1e-15)
    assert np.allclose(ex.thomas_pulse([10.5, 11.0], t0, n, 0.0, t1), math.exp(-n), rtol=1e-14)
    assert np.array_equal(ex.thomas_pulse([9.0, 10.0, 12.9, 13.0], t0, 0.0, k_d, t1), [0, 1, 1, 0])
    # tiny n with long times (Boost's ncx2.sf overflows there; the cdf side is used)
    c = ex.thomas_pulse(np.linspace(0, 2e5, 3001), 10.0, 1e-8, 1e-3, 5.0)
    assert np.all(np.isfinite(c)) and c.min() >= 0
    # outer broadcasting: t0/n arrays of shape S -> S + t.shape
    out = ex.thomas_pulse(np.linspace(0, 50, 7), np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]), 1.0, 2.0)
    assert out.shape == (3, 7)
    assert np.allclose(out[1], ex.thomas_pulse(np.linspace(0, 50, 7), 2.0, 2.0, 1.0, 2.0), rtol=0, atol=0)


# ------------------------------------------------------------------------------------------------
# CHROM-GC-2/3/5/6: compressible carrier, BTEX
# ------------------------------------------------------------------------------------------------

def test_gc_pressure_velocity_travel_time():
    L, u0, p0, pL = 20.0, 0.41, 4.01e5, 1.013e5
    assert ex.pressure_profile(0.0, L, p0, pL) == pytest.approx(p0, rel=1e-15)
    assert ex.pressure_profile(L, L, p0, pL) == pytest.approx(pL, rel=1e-14)
    assert ex.velocity_profile(0.0, L, u0, p0, pL) == pytest.approx(0.41)
    assert ex.velocity_profile(L, L, u0, p0, pL) == pytest.approx(1.623, abs=1e-3)
    # t0(x) = int_0^x dx'/u
    for x in (1.0, 10.0, 20.0):
        ref = integrate.quad(lambda y: 1.0 / ex.velocity_profile(y, L, u0, p0, pL), 0, x, epsrel=1e-13)[0]
        assert ex.travel_time(x, L, u0, p0, pL) == pytest.approx(ref, rel=1e-12)
    assert ex.travel_time(L, L, u0, p0, pL) == pytest.approx(0.7006 * L / u0, rel=1e-4)
    assert ex.travel_time(L, L, u0, p0, pL) == pytest.approx(34.177, abs=5e-4)
    # constant-velocity limit, continuous as pL -> p0
    assert ex.travel_time(7.0, L, u0, p0, p0) == 7.0 / u0
    assert ex.travel_time(7.0, L, u0, p0, p0 * (1 - 1e-12)) == pytest.approx(7.0 / u0, rel=1e-11)
    # Poiseuille consistency of Table 1: u0 = 0.41 within ~1 %
    u_p = ex.poiseuille_inlet_velocity(p0, pL, L, 9e-5, 2.3e-5)
    assert abs(u_p / 0.41 - 1) < 0.01
    col = ex.GCColumn(L=L, R=9e-5, delta=1e-6, u0=None, p0=p0, pL=pL, mu=2.3e-5)
    assert col.u0 == pytest.approx(u_p) and col.alpha == pytest.approx(ALPHA)
    assert col.diffusivity(L, 2e-6) == pytest.approx(2e-6 * p0 / pL)


def test_gc_mass_flux_conserved_along_column():
    """int u(x) c(x, t) dt = u0 c0 t1 at every x (the compressible mapping conserves the flux)."""
    d = ex.btex()
    col, a = d.column, d.analyte("toluene")
    t = np.arange(0.0, 400.0, 0.01)
    x = np.array([2.0, 10.0, 20.0])
    c = col.concentration(t, x, a.k_a, a.k_d, a.c0, d.t1)
    assert c.shape == (3, t.size)
    flux = np.trapezoid(c, t, axis=1) * col.velocity(x)
    assert np.allclose(flux, col.u0 * a.c0 * d.t1, rtol=1e-9)


def test_gc_column_maps_to_lrm():
    """CHROM-GC-7: constant velocity = LRM with F = alpha; compressible (D = 0) = constant-velocity run
    over length u0 t0(L), times pL/p0."""
    d = ex.btex()
    a = d.analyte("o-xylene")
    t = np.arange(0.0, 1000.0, 0.25)
    cc = ex.btex(compressible=False).column.outlet(t, a.k_a, a.k_d, a.c0, d.t1)
    lrm = ex.outlet_linear(t, 20.0, 0.41, 0.0, ALPHA, k_a=a.k_a, k_d=a.k_d, c0=a.c0, t1=d.t1)
    assert np.allclose(cc, lrm, rtol=1e-13, atol=0)
    col = d.column
    cv = col.outlet(t, a.k_a, a.k_d, a.c0, d.t1)
    mapped = ex.outlet_linear(t, 0.41 * col.t0, 0.41, 0.0, ALPHA, k_a=a.k_a, k_d=a.k_d, c0=a.c0, t1=d.t1)
    assert np.allclose(cv, mapped * col.pL / col.p0, rtol=1e-12, atol=1e-30)


# note's table: t_peak, mean, sigma, c_peak, I_peak (above baseline), area
BTEX_TABLE = {
    "benzene": (118.9, 119.16, 5.71, 1.928e-7, 81.0, 1159.4),
    "toluene": (231.0, 231.17, 5.94, 1.855e-7, 62.3, 927.1),
    "ethylbenzene": (448.7, 448.79, 7.07, 1.557e-7, 31.7, 562.0),
    "p+m-xylene": (481.4, 481.49, 9.05, 2.434e-7, 62.2, 1411.1),
    "o-xylene": (576.4, 576.55, 8.77, 1.255e-7, 23.5, 516.5),
}


def test_btex_peak_table_variable_velocity():
    d = ex.btex()
    col = d.column
    assert col.t0 == pytest.approx(34.177, abs=5e-4)
    assert col.pL / col.p0 == pytest.approx(0.2526, abs=1e-4)
    t = np.arange(0.0, 700.0 + 1e-9, 0.1)
    I, comps = ex.btex_chromatogram(t, return_components=True)
    assert np.allclose(I, d.baseline + sum(comps.values()), rtol=0, atol=0)
    assert abs(I[(t > 300) & (t < 400)] - 3935.4).max() < 1e-3            # flat baseline window
    uL = col.velocity(col.L)
    for a in d.analytes:
        tp, mean, sig, cp, Ip, area = BTEX_TABLE[a.name]
        y = comps[a.name]
        c = y / a.f
        i = int(np.argmax(y))
        m0, m1, var = _moments_of(c, t)
        mu, var_exact = col.moments(a.k_a, a.k_d, d.t1)
        assert abs(t[i] - tp) <= 0.1 + 1e-9, a.name
        assert abs(m1 - mu) < 1e-3 and abs(mu - mean) <= 0.005 + 1e-9, a.name
        assert abs(math.sqrt(var) - sig) <= 0.005 + 1e-9, a.name
        assert math.sqrt(var_exact) == pytest.approx(math.sqrt(var), rel=1e-6)
        assert abs(c[i] - cp) <= 0.0005e-7 + 1e-15, a.name
        assert abs(y[i] - Ip) <= 0.05 + 1e-9, a.name
        exact_area = a.f * a.c0 * d.t1 * col.pL / col.p0
        assert np.trapezoid(y, t) == pytest.approx(exact_area, rel=1e-4)
        assert abs(exact_area - area) <= 0.05 + 1e-9, a.name
        # mass balance: int c u_L dt = c0 u0 t1
        assert np.trapezoid(c * uL, t) == pytest.approx(a.c0 * col.u0 * d.t1, rel=1e-6)
    # n = alpha k_a t0 column of the note, and K
    assert col.n(col.L, d.analyte("o-xylene").k_a) == pytest.approx(7722.5, abs=0.05)
    assert d.analyte("benzene").K == pytest.approx(109.27, abs=0.005)


def test_btex_constant_velocity_and_noise():
    d = ex.btex(compressible=False)
    assert d.column.t0 == pytest.approx(48.78, abs=5e-3)
    t = np.arange(0.0, 1000.0, 0.1)
    _, comps = ex.btex_chromatogram(t, compressible=False, return_components=True)
    peaks = {"benzene": 169.0, "toluene": 329.0, "ethylbenzene": 639.6, "p+m-xylene": 686.2,
             "o-xylene": 821.9}
    for a in d.analytes:
        y = comps[a.name]
        assert abs(t[np.argmax(y)] - peaks[a.name]) <= 0.1 + 1e-9
        ratio = np.trapezoid(y, t) / (a.f * a.c0 * d.t1 * 1.013e5 / 4.01e5)
        assert ratio == pytest.approx(4.01e5 / 1.013e5, rel=1e-6) and round(ratio, 2) == 3.96
    clean = ex.btex_chromatogram(t[:2000])
    n1 = ex.btex_chromatogram(t[:2000], noise=0.5, seed=3)
    n2 = ex.btex_chromatogram(t[:2000], noise=0.5, seed=3)
    assert np.array_equal(n1, n2)
    assert np.std(n1 - clean) == pytest.approx(0.5, rel=0.05)


# ------------------------------------------------------------------------------------------------
# V1/V2: transfer function, Bromwich-line FFT, moments
# ------------------------------------------------------------------------------------------------

CASES = {
    # name: (column/binding kwargs, t grid, (mu1, sigma2), (peak value, peak time))
    "LIN-EQ": (dict(L=0.1, u=1e-3, D=1e-7, F=1.5, K=2.0, t1=10.0), np.arange(0, 800.0 + 1e-9, 0.5),
               (405.000, 328.013), (0.22072, 404.0)),
    "LIN-KIN": (dict(L=0.1, u=1e-3, D=5e-8, F=1.5, k_a=2.0, k_d=1.0, t1=10.0), np.arange(0, 1000.0 + 1e-9, 0.5),
                (405.000, 768.253), (0.14413, 403.0)),
    "GC-OXY": (dict(L=20.0, u=0.41, D=2.061e-6, F=ALPHA, k_a=1.0168e4, k_d=14.291, t1=4.0),
               np.arange(0, 1000.0 + 1e-9, 0.25), (822.051, 109.609), (0.15242, 822.0)),
}


def _split(kw):
    kw = dict(kw)
    t1 = kw.pop("t1")
    col = {k: kw.pop(k) for k in ("L", "u", "D", "F")}
    return col, kw, t1


@pytest.mark.parametrize("name", list(CASES))
def test_linear_cases_fft_inversion(name):
    kw, t, (mu_note, var_note), (peak, tpeak) = CASES[name]
    col, bind, t1 = _split(kw)
    mu, var = ex.moments(**col, **bind, t1=t1)
    assert abs(mu - mu_note) < 5e-4 and abs(var - var_note) < 5e-4
    c, info = ex.outlet_linear(t, **col, **bind, t1=t1, full_output=True)
    assert info["method"] == "fft" and info["period"] >= 4 * t[-1]
    i = int(np.argmax(c))
    assert t[i] == tpeak and abs(c[i] - peak) < 5e-6
    m0, m1, v = _moments_of(c, t)
    assert abs(m0 - t1) < 1e-12 * t1
    assert abs(m1 - mu) < 1e-10 * mu
    assert abs(v - var) < 1e-10 * var
    assert c.min() > -1e-15


def test_transfer_function_limits():
    w = np.concatenate([[0.0], np.logspace(-6, 8, 60)])
    for D in (0.0, 1e-20, 1e-7, 1e3):
        G = ex.transfer_function(1j * w, 0.1, 1e-3, D, 1.5, k_a=2.0, k_d=1.0)
        assert np.all(np.isfinite(G)) and G[0] == 1.0 and np.all(np.abs(G) <= 1 + 1e-14)
    s = np.array([0.3 + 0.2j, 2.0 - 5.0j])
    G0 = ex.transfer_function(s, 0.1, 1e-3, 0.0, 1.5, k_a=2.0, k_d=1.0)
    assert np.allclose(G0, np.exp(-s * (1 + 1.5 * 2.0 / (s + 1.0)) * 100.0), rtol=1e-14)
    Gs = ex.transfer_function(s, 0.1, 1e-3, 1e-16, 1.5, k_a=2.0, k_d=1.0)
    assert np.allclose(Gs, G0, rtol=1e-8)
    # equilibrium spellings agree; kinetic -> equilibrium as k_d -> infinity
    Ge = ex.transfer_function(s, 0.1, 1e-3, 1e-7, 1.5, K=2.0)
    assert np.allclose(Ge, ex.transfer_function(s, 0.1, 1e-3, 1e-7, 1.5, k_a=2.0, k_d=1.0, kinetic=False))
    assert np.allclose(Ge, ex.transfer_function(s, 0.1, 1e-3, 1e-7, 1.5, K=2.0, k_d=1e9), rtol=1e-6)
    # moments = -d ln G / ds, d^2 ln G / ds^2 at 0 (complex step / finite differences)
    lnG = lambda z: np.log(ex.transfer_function(z, 0.1, 1e-3, 1e-6, 1.5, k_a=2.0, k_d=1.0))  # noqa: E731
    mu, var = ex.moments(0.1, 1e-3, 1e-6, 1.5, k_a=2.0, k_d=1.0)
    d1 = lambda h: (lnG(h) - lnG(-h)).real / (2 * h)  # noqa: E731
    d2 = lambda h: (lnG(h) - 2 * lnG(0.0) + lnG(-h)).real / h ** 2  # noqa: E731
    h = 1e-4                                                        # Richardson-extrapolated differences
    assert -(4 * d1(h / 2) - d1(h)) / 3 == pytest.approx(mu, rel=1e-9)
    assert (4 * d2(h / 2) - d2(h)) / 3 == pytest.approx(var, rel=1e-5)


def test_bessel_closed_form_vs_fft_dispersion_free():
    """D = 0: the Bromwich-line FFT of exp(-phi L/u) c_in(s) equals the Marcum/Bessel closed form."""
    t = np.arange(0, 1000.0 + 1e-9, 0.25)
    kw = dict(L=20.0, u=0.41, D=0.0, F=ALPHA, k_a=1.0168e4, k_d=14.291, t1=4.0)
    col, bind, t1 = _split(kw)
    c_fft = ex.outlet_linear(t, **col, **bind, t1=t1, method="fft")
    c_auto, info = ex.outlet_linear(t, **col, **bind, t1=t1, full_output=True)
    t0 = 20.0 / 0.41
    c_cf = ex.thomas_pulse(t, t0, ALPHA * 1.0168e4 * t0, 14.291, 4.0)
    assert info["method"] == "thomas" and np.array_equal(c_auto, c_cf)
    assert np.abs(c_fft - c_cf).max() < 2e-13 * c_cf.max()
    # D = 0 equilibrium: exact shift by t0 (1 + F K)
    c_sh = ex.outlet_linear([399.0, 400.0, 409.9, 410.0], 0.1, 1e-3, 0.0, 1.5, K=2.0, t1=10.0)
    assert np.array_equal(c_sh, [0.0, 1.0, 1.0, 0.0])


def _dehoog_reference(times, kinetic, dps=30):
    L, u, D, F, K, t1 = 0.1, 1e-3, 1e-7, 1.5, 2.0, 10.0
    mp.mp.dps = dps

    def cin_G(s):
        phi = s * (1 + F * 2 / (s + 1)) if kinetic else s * (1 + F * K)
        eps = 4 * D * phi / u ** 2
        lam = mp.sqrt(1 + eps)
        om = -eps / (1 + lam)
        Pe = u * L / D
        G = 4 * lam * mp.exp(Pe * om / 2) / ((1 + lam) ** 2 - om ** 2 * mp.exp(-lam * Pe))
        return G * (1 - mp.exp(-s * t1)) / s

    return np.array([float(mp.invertlaplace(cin_G, tt, method="dehoog")) for tt in times])


def test_dehoog_cross_check():
    times = np.array([385.0, 404.0])
    ref = _dehoog_reference(times, kinetic=False)
    got = ex.outlet_linear(times, 0.1, 1e-3, 1e-7, 1.5, K=2.0, t1=10.0)
    assert np.abs(got - ref).max() < 1e-12
    ref = _dehoog_reference(times, kinetic=True)
    got = ex.outlet_linear(times, 0.1, 1e-3, 1e-7, 1.5, k_a=2.0, k_d=1.0, t1=10.0)
    assert np.abs(got - ref).max() < 1e-12


def test_outlet_inlets_and_time_grids():
    col = dict(L=0.1, u=1e-3, D=1e-7, F=1.5, K=2.0)
    t = np.arange(0, 800.0 + 1e-9, 0.5)
    pulse = ex.outlet_linear(t, **col, t1=10.0)
    # step: step(t) - step(t - t1) = pulse
    step = ex.outlet_linear(t, **col, inlet="step")
    assert np.abs(step[20:] - step[:-20] - pulse[20:]).max() < 1e-14
    assert step[-1] == pytest.approx(1.0, abs=1e-14)
    # sampled inlet: constant samples on [0, 10] = the rectangular pulse; shifted samples = shifted output
    q = ex.outlet_linear(t, **col, inlet=(np.linspace(0, 10, 11), np.ones(11)))
    assert np.abs(q - pulse).max() < 1e-14
    q = ex.outlet_linear(t, **col, inlet=(np.linspace(5, 15, 41), 2 * np.ones(41)))
    assert np.abs(q[10:] - 2 * pulse[:-10]).max() < 1e-14
    # general piecewise-linear inlet: mass, mean and variance add (exact moments of the PL inlet)
    t_in = np.linspace(0, 30, 31)
    c_in = np.sin(np.pi * t_in / 30) ** 2 * (1 + t_in / 30)
    q = ex.outlet_linear(t, **col, inlet=(t_in, c_in), c0=3.0)
    tf = np.linspace(0, 30, 30 * 2 + 1)                         # Simpson on each linear piece: exact
    cf = np.interp(tf, t_in, c_in)
    M0 = integrate.simpson(cf, x=tf)
    M1 = integrate.simpson(cf * tf, x=tf) / M0
    V = integrate.simpson(cf * (tf - M1) ** 2, x=tf) / M0
    mh, vh = ex.moments(**col)
    m0, m1, v = _moments_of(q, t)
    assert m0 == pytest.approx(3 * M0, rel=1e-12)
    assert m1 == pytest.approx(M1 + mh, rel=1e-12)
    assert v == pytest.approx(V + vh, rel=1e-10)
    # non-uniform times and negative times: spline on the FFT grid vs aligned nodes
    rng = np.random.default_rng(0)
    tr = np.sort(np.concatenate([rng.uniform(-50, 800, 300), [404.0]]))
    cr = ex.outlet_linear(tr, **col, t1=10.0)
    assert np.all(cr[tr < 0] == 0)
    assert cr[tr == 404.0][0] == pytest.approx(pulse[t == 404.0][0], abs=1e-13)
    assert np.abs(cr - np.interp(tr, t, pulse)).max() < 2e-4          # (linear interp. is the coarse one)
    assert float(ex.outlet_linear(404.0, **col, t1=10.0)) == pytest.approx(pulse[t == 404.0][0], abs=1e-13)


# ------------------------------------------------------------------------------------------------
# V5: ideal Langmuir pulse (LANG-1)
# ------------------------------------------------------------------------------------------------

LANG1 = dict(L=0.6, u=0.6 / 190, F=3 / 7, q_m=100.0, b=0.02, c0=10.0)


def test_langmuir_lang1_non_interacting():
    tm = ex.langmuir_ideal_times(**LANG1, t1=60.0)
    assert not tm.interacting and tm.x_star == pytest.approx(1.59, abs=5e-3)
    assert tm.t_shock == pytest.approx(325.714, abs=5e-4)
    assert tm.t_plateau_end == pytest.approx(363.095, abs=5e-4)
    assert tm.t_tail_end == pytest.approx(412.857, abs=5e-4)
    t = np.arange(0, 600, 1e-3)
    c = ex.langmuir_ideal_pulse(t, **LANG1, t1=60.0)
    assert abs(np.trapezoid(c, t) / 600.0 - 1) <= 3e-5
    assert c.max() == 10.0 and c.min() == 0.0
    assert np.all(c[(t >= 325.715) & (t < 363.09)] == 10.0)
    assert np.all(np.diff(c[(t > 363.1) & (t < 420)]) <= 0)       # rear simple wave decreases


def test_langmuir_lang1_interacting():
    tm = ex.langmuir_ideal_times(**LANG1, t1=10.0)
    assert tm.interacting and tm.x_star == pytest.approx(0.265, abs=5e-4)
    assert tm.c_shock == pytest.approx(6.2315, abs=5e-5)
    assert tm.t_shock == pytest.approx(328.762, abs=5e-4)
    assert tm.t_tail_end == pytest.approx(362.857, abs=5e-4)
    t = np.arange(0, 600, 1e-3)
    c = ex.langmuir_ideal_pulse(t, **LANG1, t1=10.0)
    assert abs(np.trapezoid(c, t) / 100.0 - 1) <= 3e-5
    i = np.searchsorted(t, tm.t_shock)
    assert c[i - 1] == 0 and c[i] == pytest.approx(tm.c_shock, rel=1e-4)
    # exact mass of the truncated fan: quad of the closed form
    A = LANG1["F"] * 2.0 * 190.0
    fan = integrate.quad(lambda s: (math.sqrt(A / (s - 200.0)) - 1) / 0.02, tm.t_shock, tm.t_tail_end,
                         epsrel=1e-13)[0]
    assert fan == pytest.approx(100.0, rel=1e-11)


# ------------------------------------------------------------------------------------------------
# V3: Lapidus–Amundson
# ------------------------------------------------------------------------------------------------

def test_lapidus_amundson_vs_transfer_function():
    t = np.arange(0, 800.0 + 1e-9, 0.5)
    diffs = []
    for D in (1e-7, 1e-8, 1e-9):                                  # Pe = 1e3, 1e4, 1e5
        c = ex.outlet_linear(t, 0.1, 1e-3, D, 1.5, K=2.0, t1=10.0)
        la = ex.lapidus_amundson(t, 0.1, 1e-3, D, 1.5, 2.0, 1.0, 10.0)
        Pe = 1e-3 * 0.1 / D
        diffs.append(np.abs(c - la).max() / c.max())
        assert diffs[-1] < 1.0 / Pe
    assert diffs[1] < diffs[0] / 5 and diffs[2] < diffs[1] / 5
    # overflow safety: exp(v x / D') would overflow
    la = ex.lapidus_amundson(t, 0.1, 1e-3, 1e-14, 1.5, 2.0, 1.0, 10.0)
    assert np.all(np.isfinite(la)) and la.max() == pytest.approx(1.0)
    # semi-infinite step far from the inlet ~ erfc front; mass in the pulse at large x
    tt = np.linspace(0, 5000, 50001)
    assert np.trapezoid(ex.lapidus_amundson(tt, 0.3, 1e-3, 1e-7, 1.5, 2.0, 2.0, 10.0), tt) == \
        pytest.approx(20.0, rel=1e-6)


# ------------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------------

def test_bad_input_raises_parameter_error():
    t = np.linspace(0, 10, 11)
    with pytest.raises(ParameterError, match="k_d"):
        ex.thomas_pulse(t, 1.0, 2.0, -1.0, 1.0)
    with pytest.raises(ParameterError, match="n"):
        ex.thomas_pulse(t, 1.0, -2.0, 1.0, 1.0)
    with pytest.raises(ParameterError, match="t1"):
        ex.thomas_pulse(t, 1.0, 2.0, 1.0, 0.0)
    with pytest.raises(ParameterError, match="t1"):
        ex.outlet_linear(t, 0.1, 1e-3, 1e-7, 1.5, K=2.0, t1=-1.0)
    with pytest.raises(ParameterError, match="t1"):
        ex.outlet_linear(t, 0.1, 1e-3, 1e-7, 1.5, K=2.0)
    with pytest.raises(ParameterError, match="D"):
        ex.outlet_linear(t, 0.1, 1e-3, -1e-7, 1.5, K=2.0, t1=1.0)
    with pytest.raises(ParameterError, match="D"):
        ex.moments(0.1, 1e-3, -1.0, 1.5, K=2.0)
    with pytest.raises(ParameterError, match="k_a"):
        ex.transfer_function(1j, 0.1, 1e-3, 1e-7, 1.5, k_a=-2.0, k_d=1.0)
    with pytest.raises(ParameterError, match="k_d"):
        ex.transfer_function(1j, 0.1, 1e-3, 1e-7, 1.5, k_a=2.0, k_d=0.0)
    with pytest.raises(ParameterError, match="K"):
        ex.transfer_function(1j, 0.1, 1e-3, 1e-7, 1.5, K=-2.0)
    with pytest.raises(ParameterError, match="binding"):
        ex.transfer_function(1j, 0.1, 1e-3, 1e-7, 1.5)
    with pytest.raises(ParameterError, match="pL"):
        ex.travel_time(1.0, 20.0, 0.41, 1e5, 2e5)
    with pytest.raises(ParameterError, match="pL"):
        ex.GCColumn(L=20.0, R=9e-5, delta=1e-6, u0=0.41, p0=1e5, pL=2e5)
    with pytest.raises(ParameterError, match="x"):
        ex.pressure_profile(21.0, 20.0, 4e5, 1e5)
    for bad in ([0.0, 2.0, 1.0], [0.0, 1.0, 1.0], [0.0, np.nan, 2.0], [[0.0, 1.0]]):
        with pytest.raises(ParameterError, match="t"):
            ex.thomas_pulse(bad, 1.0, 2.0, 1.0, 1.0)
        with pytest.raises(ParameterError, match="t"):
            ex.outlet_linear(bad, 0.1, 1e-3, 1e-7, 1.5, K=2.0, t1=1.0)
        with pytest.raises(ParameterError, match="t"):
            ex.langmuir_ideal_pulse(bad, **LANG1, t1=10.0)
        with pytest.raises(ParameterError, match="t"):
            ex.btex_chromatogram(bad)
    with pytest.raises(ParameterError, match="b"):
        ex.langmuir_ideal_times(**{**LANG1, "b": -0.02}, t1=10.0)
    with pytest.raises(ParameterError, match="t1"):
        ex.langmuir_ideal_pulse(t, **LANG1, t1=0.0)
    with pytest.raises(ParameterError, match="D"):
        ex.lapidus_amundson(t, 0.1, 1e-3, 0.0, 1.5, 2.0, 1.0, 10.0)
    with pytest.raises(ParameterError, match="inlet"):
        ex.outlet_linear(t, 0.1, 1e-3, 1e-7, 1.5, K=2.0, inlet="ramp")
    with pytest.raises(ParameterError, match="uniformly"):
        ex.outlet_linear(t, 0.1, 1e-3, 1e-7, 1.5, K=2.0, inlet=([0.0, 1.0, 3.0], [1.0, 1.0, 1.0]))
    with pytest.raises(ParameterError, match="noise"):
        ex.btex_chromatogram(t, noise=-1.0)
