"""The outlet chromatogram of ``pdekit.run`` on a Column: stored with every snapshot, in the file and in
memory, equal to ``Column.chromatogram``, and complete after a Ctrl-C and a restart."""
import numpy as np
import pytest

import pdekit
from pdekit.chromatography import Binding, Column, Inlet, outlet_from_result
from pdekit.chromatography import model as chrom_model
from pdekit.errors import ParameterError


def lin_kin(cells=100):
    return Column(0.1, cells, 1e-3, Inlet.pulse(1.0, 10.0), binding=Binding.linear(2.0, 1.0), dispersion=5e-8,
                  porosity=0.4)


def test_outlet_series_in_file_and_memory_equals_chromatogram(tmp_path):
    col = lin_kin()
    out = tmp_path / "col.h5"
    ds = pdekit.run(col, None, t_end=800.0, dt=0.5, snapshots=8, progress=False, output=out)
    assert ds["t_outlet"].dims == ("t", "outlet_step") and ds.sizes["outlet_step"] == 200
    # the first snapshot holds only the outlet value of the initial state (empty column: 0 at t = 0)
    first = ds["t_outlet"].values[0]
    assert np.isnan(first[:-1]).all() and first[-1] == 0.0 and ds["c_out_A"].values[0, -1] == 0.0
    t, v = outlet_from_result(pdekit.open_result(out))
    np.testing.assert_allclose(t, 0.5 * np.arange(1601), rtol=0, atol=1e-9)
    _, ref = lin_kin().chromatogram(800.0, times=t, dt=0.5)
    np.testing.assert_allclose(v, ref, rtol=0, atol=1e-14)
    mem = pdekit.run(lin_kin(), None, t_end=800.0, dt=0.5, snapshots=8, progress=False)
    t2, v2 = outlet_from_result(mem)
    np.testing.assert_array_equal(t2, t)
    np.testing.assert_allclose(v2, v, rtol=0, atol=0)
    # the outlet peak carries the injected amount: u * int c_out dt = u c0 t1 (as far as it has eluted)
    area = np.trapezoid(v[:, 0], t)
    assert area == pytest.approx(10.0, rel=2e-3)


def test_outlet_series_survives_ctrl_c_and_restart(tmp_path, monkeypatch):
    out = tmp_path / "piece.h5"
    full = pdekit.run(lin_kin(), None, t_end=800.0, dt=0.5, snapshots=8, progress=False)
    original = chrom_model._LinearStepper.advance

    def interrupted(self, state, t, nsteps):
        if t >= 450.0:
            raise KeyboardInterrupt
        return original(self, state, t, nsteps)

    monkeypatch.setattr(chrom_model._LinearStepper, "advance", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pdekit.run(lin_kin(), None, t_end=800.0, dt=0.5, snapshots=8, progress=False, output=out, chunk_steps=50)
    partial = pdekit.open_result(out)
    assert partial.attrs["status"] == "interrupted" and 4 <= partial.sizes["t"] < 9
    tp, vp = outlet_from_result(partial)  # readable after the crash: the chromatogram so far
    assert tp[-1] == pytest.approx(100.0 * (partial.sizes["t"] - 1))
    monkeypatch.setattr(chrom_model._LinearStepper, "advance", original)
    again = pdekit.run(lin_kin(), None, t_end=800.0, dt=0.5, snapshots=8, progress=False, output=out, restart=True)
    t1, v1 = outlet_from_result(again)
    t0, v0 = outlet_from_result(full)
    np.testing.assert_array_equal(t1, t0)
    np.testing.assert_allclose(v1, v0, rtol=1e-12, atol=1e-15)


def test_outlet_from_result_needs_a_column_result():
    from pdekit import AdvectionDiffusion, Grid

    ds = pdekit.run(AdvectionDiffusion(Grid.uniform(20, (0, 1)), "periodic", velocity=1.0), lambda x: np.exp(-x), t_end=0.1,
                    snapshots=1, progress=False)
    with pytest.raises(ParameterError, match="outlet"):
        outlet_from_result(ds)


def test_outlet_series_starts_from_the_initial_state():
    """A column that is not empty at t_start: the chromatogram starts with its outlet value, not 0."""
    col = lin_kin(50)
    init = np.zeros((2, 50))
    init[0] = 0.3
    init[1] = 0.6  # q = K c: at equilibrium
    ds = pdekit.run(col, init, t_end=100.0, dt=0.5, snapshots=2, progress=False)
    t, v = outlet_from_result(ds)
    assert t[0] == 0.0 and v[0, 0] == pytest.approx(0.3, rel=1e-12)
    assert v[1, 0] == pytest.approx(0.3, rel=1e-3)  # a uniform column drains from its outlet value
