"""The compiled chromatography kernels against plain NumPy: WENO-Z face values (including the boundary
extensions and the vectorised interior loop), their order on smooth data, the compiled inlet integral,
the state-dependent explicit step bound, and the conservative round-off clip."""
import numpy as np
import pytest

from pdekit.chromatography import kernels as K
from pdekit.chromatography.model import Inlet


def _ghosts(c):
    """Cell values with 3 ghosts on the left (quadratic extrapolation, clipped at 0) and 2 on the right
    (constant extension), as the kernels extend them."""
    left = [10 * c[0] - 15 * c[1] + 6 * c[2], 6 * c[0] - 8 * c[1] + 3 * c[2], 3 * c[0] - 3 * c[1] + c[2]]
    return np.r_[np.maximum(left, 0.0), c, c[-1], c[-1]]


def weno5_faces(c, eps):
    g = _ghosts(c)
    N = c.size
    # face j (1..N) uses cells j-3 .. j+1, i.e. padded indices j .. j+4 (3 ghosts first)
    a, b, m, d, e = (g[k:k + N] for k in range(1, 6))
    p0 = (2 * a - 7 * b + 11 * m) / 6
    p1 = (-b + 5 * m + 2 * d) / 6
    p2 = (2 * m + 5 * d - e) / 6
    b0 = 13 / 12 * (a - 2 * b + m) ** 2 + 0.25 * (a - 4 * b + 3 * m) ** 2
    b1 = 13 / 12 * (b - 2 * m + d) ** 2 + 0.25 * (b - d) ** 2
    b2 = 13 / 12 * (m - 2 * d + e) ** 2 + 0.25 * (3 * m - 4 * d + e) ** 2
    tau = np.abs(b0 - b2)
    w = np.array([0.1 * (1 + tau / (b0 + eps)), 0.6 * (1 + tau / (b1 + eps)), 0.3 * (1 + tau / (b2 + eps))])
    return (w[0] * p0 + w[1] * p1 + w[2] * p2) / w.sum(axis=0)


def weno3_faces(c, eps):
    g = _ghosts(c)
    N = c.size
    b, m, d = (g[k:k + N] for k in range(2, 5))
    p0, p1 = -0.5 * b + 1.5 * m, 0.5 * m + 0.5 * d
    b0, b1 = (m - b) ** 2, (d - m) ** 2
    tau = np.abs(b0 - b1)
    w0, w1 = (1 + tau / (b0 + eps)) / 3, 2 * (1 + tau / (b1 + eps)) / 3
    return (w0 * p0 + w1 * p1) / (w0 + w1)


@pytest.mark.parametrize("N", [3, 4, 5, 6, 9, 64])
@pytest.mark.parametrize("seed", [0, 1])
def test_face_values_equal_numpy(N, seed):
    rng = np.random.default_rng(seed)
    c = rng.uniform(0.0, 2.0, N) * (rng.random(N) < 0.8)
    for order, ref in ((5, weno5_faces), (3, weno3_faces), (1, lambda c, eps: c)):
        out = np.full(N + 1, np.nan)
        K.face_values(c, order, 1e-10, out)
        np.testing.assert_allclose(out[1:], ref(c, 1e-10), rtol=1e-13, atol=1e-15)
        for j in range(1, N + 1):  # the one-face version used for the outlet
            assert K.face_value(c, j, order, 1e-10) == pytest.approx(out[j], rel=1e-13, abs=1e-15)


def test_weno5_face_values_are_fifth_order_on_smooth_data():
    """Cell averages of sin(2 pi x) + 2 on (0, 1): interior face values converge at order 5."""
    errs = []
    for N in (40, 80, 160):
        x = np.linspace(0.0, 1.0, N + 1)
        avg = 2.0 + (np.cos(2 * np.pi * x[:-1]) - np.cos(2 * np.pi * x[1:])) / (2 * np.pi * (x[1] - x[0]))
        out = np.empty(N + 1)
        K.face_values(avg, 5, 1e-12, out)
        inner = slice(4, N - 2)
        errs.append(np.abs(out[inner] - (2.0 + np.sin(2 * np.pi * x[inner]))).max())
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert orders.min() >= 4.6, (errs, orders)


def test_compiled_inlet_integral_equals_inlet_cumulative():
    inlet = Inlet.piecewise_linear([0.0, 5.0, 5.0, 20.0, 30.0], [[0.0, 1.0], [2.0, 1.0], [0.5, 0.0], [1.5, 3.0],
                                                                [0.0, 0.0]])
    T = np.ascontiguousarray(inlet.times, dtype=float)
    V = np.ascontiguousarray(inlet.values, dtype=float)
    cum = np.zeros_like(V)
    cum[1:] = np.cumsum(0.5 * (V[1:] + V[:-1]) * np.diff(T)[:, None], axis=0)
    ts = np.r_[-1.0, 0.0, 2.5, 5.0, 7.0, 19.999, 20.0, 25.0, 30.0, 40.0]
    ref = inlet.cumulative(ts)
    out = np.empty(2)
    for t, r in zip(ts, ref):
        K.inlet_cumulative(T, V, cum, t, out)
        np.testing.assert_allclose(out, r, rtol=1e-14, atol=1e-14)


def test_retention_dt_for_linear_and_single_component_langmuir():
    rng = np.random.default_rng(4)
    N, F = 50, 0.4
    irate = rng.uniform(0.5, 2.0, (1, N))
    iadv = rng.uniform(1.0, 3.0, N)
    S, W = np.empty(N), np.empty(N)
    C = rng.uniform(0.0, 5.0, (1, N))
    K_ = np.array([2.0])
    dt = K.retention_dt(C, F, K_, np.ones(1), K_, K.LINEAR, irate, iadv, 0.9, S, W)
    assert dt == pytest.approx(0.9 * (1 + F * 2.0) * irate.min())
    qm, b = np.array([100.0]), np.array([0.02])
    dt = K.retention_dt(C, F, b, qm, b, K.LANGMUIR, irate, iadv, 0.9, S, W)
    s = 1.0 + b[0] * C[0]
    rho = 1.0 + F * qm[0] * b[0] / s  # n / c
    lam = 1.0 + F * qm[0] * b[0] / s ** 2  # dn/dc: the characteristic's retention
    ref = 0.9 * min((rho * irate[0]).min(), (K.SHOCK_COURANT * lam * iadv).min())
    assert dt == pytest.approx(ref, rel=1e-14)


def test_conservative_clip_keeps_the_sum_and_removes_negatives():
    rng = np.random.default_rng(5)
    c = rng.normal(1.0, 1.0, 200)
    total = c.sum()
    moved = K.conservative_clip(c)
    assert c.min() >= 0.0 and c.sum() == pytest.approx(total, rel=1e-13) and moved > 0
