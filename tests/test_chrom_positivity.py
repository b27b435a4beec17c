"""The implicit linear path's positivity-preserving flux correction (pdekit.chromatography.linear):
the limiter's guarantee, the M-matrix property of the low-order step it rests on, exactness where nothing
is limited, and non-negative, mass-exact columns on the hard case (the under-resolved GC injection)."""
import numpy as np
import pytest

from pdekit.chromatography.linear import LinearColumnSolver, positivity_limiter
from pdekit.chromatography.model import Binding, Column, Inlet


def _reference_sum(m0, A, theta, dx):
    m = m0.copy()
    m += theta[:-1] * A[:-1] / dx
    m -= theta[1:] * A[1:] / dx
    return m


@pytest.mark.parametrize("seed", range(5))
def test_limiter_keeps_every_cell_non_negative_and_is_conservative(seed):
    rng = np.random.default_rng(seed)
    N, dx = 60, 0.1
    m0 = rng.exponential(1.0, N) * (rng.random(N) < 0.7)  # some empty cells
    A = rng.normal(0.0, 0.3, N + 1)
    theta, m = np.empty(N + 1), np.empty(N)
    limited = positivity_limiter(m0, A, dx, 10, theta, m)
    assert limited  # these fluxes are far too large for the empty cells
    assert np.all((theta >= 0) & (theta <= 1))
    assert theta[0] == 1.0 or A[0] < 0  # inflow from outside is never limited
    np.testing.assert_allclose(m, _reference_sum(m0, A, theta, dx), rtol=0, atol=1e-13)
    assert m.min() >= -1e-14
    # conservation: what leaves the column is what passes the two boundary faces
    assert m.sum() * dx == pytest.approx(m0.sum() * dx + theta[0] * A[0] - theta[-1] * A[-1], abs=1e-12)
    # a limited flux is limited because its donor's budget binds: the donor gives away all it may
    for j in range(N + 1):
        if theta[j] < 1.0:
            d = j - 1 if A[j] > 0 else j
            assert 0 <= d < N


def test_limiter_leaves_small_fluxes_alone():
    rng = np.random.default_rng(1)
    N, dx = 40, 0.5
    m0 = 1.0 + rng.random(N)
    A = rng.normal(0.0, 0.01, N + 1)
    theta, m = np.empty(N + 1), np.empty(N)
    assert not positivity_limiter(m0, A, dx, 10, theta, m)
    assert np.all(theta == 1.0)
    np.testing.assert_allclose(m, _reference_sum(m0, A, theta, dx), atol=1e-14)


def test_more_passes_only_raise_the_factors():
    rng = np.random.default_rng(7)
    N = 80
    m0 = rng.exponential(1.0, N)
    A = np.abs(rng.normal(0.0, 1.0, N + 1))  # a train of fluxes to the right: inflows matter
    th1, th10, m = np.empty(N + 1), np.empty(N + 1), np.empty(N)
    positivity_limiter(m0, A, 1.0, 1, th1, m)
    positivity_limiter(m0, A, 1.0, 10, th10, m)
    assert np.all(th10 >= th1 - 1e-15) and th10.sum() > th1.sum()
    assert m.min() >= -1e-14


@pytest.mark.parametrize("kinetic", [True, False])
def test_low_order_step_is_an_m_matrix_in_mass_variables(kinetic):
    """``I - h A_L`` scaled to the mass variables (c, F q): non-positive off-diagonals, column sums >= 1, so
    its inverse is non-negative (every non-negative right-hand side gives a non-negative step)."""
    N, dx, F = 30, 0.05, 0.4
    uf = np.full(N + 1, 0.3)
    Df = np.full(N + 1, 2e-3)
    S = LinearColumnSolver(N, dx, uf, Df, F, 5.0, 0.5, kinetic)
    h = 2.0  # CFL 12: far beyond any explicit limit
    M = (np.eye(S.AL.shape[0]) - h * S.AL.toarray())
    if kinetic:
        scale = np.tile([1.0, F], N)  # mass variables: (c, F q)
        M = np.diag(scale) @ M @ np.diag(1.0 / scale)
    off = M - np.diag(np.diag(M))
    assert off.max() <= 1e-15
    assert M.sum(axis=0).min() >= 1.0 - 1e-12
    assert np.linalg.inv(M).min() >= -1e-14


@pytest.mark.parametrize("kinetic", [True, False])
def test_correction_reproduces_the_high_order_step_where_nothing_is_limited(kinetic):
    N, dx, F = 100, 0.01, 0.5
    x = (np.arange(N) + 0.5) * dx
    uf, Df = np.full(N + 1, 0.2), np.full(N + 1, 1e-4)
    S = LinearColumnSolver(N, dx, uf, Df, F, 2.0, 1.0, kinetic)
    c = 1.0 + np.exp(-((x - 0.4) / 0.08) ** 2)  # smooth and well away from zero
    y = np.empty(2 * N) if kinetic else c
    if kinetic:
        y[0::2], y[1::2] = c, 2.0 * c
    h = 0.02
    stages, b = S.high_order_step(y, h, 1.0, 1.0)
    y1 = S._correct(y, stages, b, h, 1.0, 1.0)
    assert S.limited_steps == 0
    np.testing.assert_allclose(y1, stages[-1], rtol=0, atol=1e-12)


def test_gc_injection_stays_non_negative_with_exact_mass():
    """The hard case: the paper's o-xylene column at 200 cells, where the 4 s injection covers one cell and
    the linear fifth-order step undershoots by ~5 % of the scale in almost every step."""
    L, u, D, alpha = 20.0, 0.41, 2.061e-6, 2e-6 / 9e-5
    col = Column(L, 200, u, Inlet.pulse(1.0, 4.0), binding=Binding.linear(1.0168e4, 14.291), dispersion=D,
                 phase_ratio=alpha)
    t = np.arange(0.0, 1000.0, 0.5)
    _, y = col.chromatogram(1000.0, times=t)
    rep = col.clip_report()
    assert rep["limited_steps"][0] > 0
    assert rep["undershoot"][0] >= -1e-15 and rep["moved_fraction"][0] <= 1e-15
    assert y.min() >= 0.0
    state = col.final_state
    assert min(state[k].min() for k in range(len(state))) >= 0.0
    injected = u * 4.0
    assert abs(col.outflow[0] + col.total_mass(col.final_state)[0] - injected) <= 1e-10 * injected
