"""The run loop: results files, killed runs, restart bit for bit, NaN guard, progress, bad input."""
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import pdekit

ROOT = Path(__file__).resolve().parents[1]


def _model(n=64):
    grid = pdekit.Grid.uniform((n, n), [(0.0, 1.0), (0.0, 1.0)])
    return pdekit.AdvectionDiffusion(grid, "periodic", velocity=(1.0, 0.5), diffusivity=1e-3)


def _u0(x, y):
    return np.exp(-((x - 0.5) ** 2 + (y - 0.5) ** 2) / 0.01)


def test_results_file_opens_with_xarray_and_open_result(tmp_path):
    path = tmp_path / "r.h5"
    ds = pdekit.run(_model(16), _u0, t_end=0.1, snapshots=4, output=path, progress=False)
    for d in (ds, pdekit.open_result(path), xr.open_dataset(path, engine="h5netcdf")):
        assert d.u.dims == ("t", "x", "y") and d.sizes["t"] == 5
        assert np.allclose(d.t.values, np.linspace(0, 0.1, 5))
        assert d.attrs["model"] == "advection-diffusion" and d.attrs["pdekit_version"] == pdekit.__version__
        assert d.attrs["status"] == "completed" and float(d.attrs["wall_time"]) > 0
    assert ds.attrs["parameters"]["diffusivity"] == 1e-3
    assert json.loads(xr.open_dataset(path, engine="h5netcdf").attrs["parameters"])["scheme"] == "vanleer"


def test_in_memory_run_equals_file_run(tmp_path):
    a = pdekit.run(_model(16), _u0, t_end=0.1, snapshots=2, progress=False)
    b = pdekit.run(_model(16), _u0, t_end=0.1, snapshots=2, output=tmp_path / "b.h5", progress=False)
    assert np.array_equal(a.u.values, b.u.values)


SCRIPT = textwrap.dedent("""
    import sys, numpy as np, pdekit
    grid = pdekit.Grid.uniform((256, 256), [(0.0, 1.0), (0.0, 1.0)])
    model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=(1.0, 0.5), diffusivity=1e-3)
    u0 = lambda x, y: np.exp(-((x - 0.5) ** 2 + (y - 0.5) ** 2) / 0.01)
    pdekit.run(model, u0, t_end=float(sys.argv[2]), snapshots=int(sys.argv[3]), output=sys.argv[1],
               progress=False, restart=len(sys.argv) > 4)
""")


def _start(tmp_path, path, t_end, snapshots, *extra):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, str(script), str(path), str(t_end), str(snapshots), *extra], env=env)


def _wait_for_checkpoint(path, snapshot, proc, timeout=120):
    ckpt = pdekit.run.__globals__["checkpoint_path"](path) if hasattr(pdekit.run, "__globals__") else None
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            pytest.fail("the run finished before it could be killed")
        try:
            with np.load(ckpt) as z:
                if json.loads(str(z["meta"]))["snapshot"] >= snapshot:
                    return
        except (OSError, ValueError, KeyError, EOFError):
            pass
        time.sleep(0.02)
    pytest.fail("no checkpoint appeared")


def test_killed_run_leaves_readable_file_and_restarts_bit_for_bit(tmp_path):
    path = tmp_path / "killed.h5"
    t_end, snaps = 2.0, 40
    proc = _start(tmp_path, path, t_end, snaps)
    _wait_for_checkpoint(path, 3, proc)
    proc.kill()
    proc.wait()
    ds = pdekit.open_result(path)
    n = ds.sizes["t"]
    assert 4 <= n < snaps + 1
    assert np.allclose(ds.t.values, np.linspace(0, t_end, snaps + 1)[:n])
    assert xr.open_dataset(path, engine="h5netcdf").sizes["t"] >= n
    # restart in this process; compare with an uninterrupted run
    grid = pdekit.Grid.uniform((256, 256), [(0.0, 1.0), (0.0, 1.0)])
    model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=(1.0, 0.5), diffusivity=1e-3)
    resumed = pdekit.run(model, None, t_end=t_end, snapshots=snaps, output=path, progress=False, restart=True)
    full = pdekit.run(model, _u0, t_end=t_end, snapshots=snaps, progress=False)
    assert resumed.sizes["t"] == snaps + 1
    assert np.array_equal(resumed.u.values, full.u.values)
    assert resumed.attrs["status"] == "completed"


def test_restart_refuses_other_arguments(tmp_path):
    path = tmp_path / "r.h5"
    pdekit.run(_model(16), _u0, t_end=0.1, snapshots=2, output=path, progress=False)
    with pytest.raises(pdekit.ParameterError, match="same t_end"):
        pdekit.run(_model(16), None, t_end=0.2, snapshots=2, output=path, progress=False, restart=True)
    with pytest.raises(pdekit.OutputError, match="no checkpoint"):
        pdekit.run(_model(16), None, t_end=0.1, snapshots=2, output=tmp_path / "none.h5", restart=True)


def test_instability_names_time_step_and_cell_and_keeps_snapshots(tmp_path):
    grid = pdekit.Grid.uniform(50, (0.0, 1.0))
    model = pdekit.AdvectionDiffusion(grid, {"x": ("dirichlet", 0.0)}, diffusivity=1.0)
    u0 = np.sin(np.pi * grid.centres[0])
    path = tmp_path / "blowup.h5"
    # forward Euler far beyond its diffusive limit dt <= h^2/2 = 2e-4
    with pytest.raises(pdekit.InstabilityError) as info:
        pdekit.run(model, u0, t_end=2.0, dt=2e-3, method="euler", snapshots=200, output=path, progress=False)
    err = info.value
    assert err.step > 0 and err.time > 0 and len(err.cell) == 1 and err.variable == "u"
    assert f"step {err.step}" in str(err) and "cell" in str(err)
    # replaying the run step by step: the step before the reported one is finite
    ds = pdekit.open_result(path)
    assert ds.attrs["status"].startswith("failed")
    assert 1 <= ds.sizes["t"] and np.all(np.isfinite(ds.u.values))
    assert ds.t.values[-1] <= err.time


def test_progress_bar_is_silent_when_not_a_terminal(capfd):
    pdekit.run(_model(16), _u0, t_end=0.05, snapshots=2, progress=True)
    out, errout = capfd.readouterr()
    assert out == "" and errout == ""


def test_second_run_in_fresh_process_does_not_recompile(tmp_path):
    """cache=True: the kernels load from numba's on-disk cache in a new process."""
    code = textwrap.dedent("""
        import time, numpy as np, pdekit
        grid = pdekit.Grid.uniform((32, 32), [(0, 1), (0, 1)])
        model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=(1.0, 0.5), diffusivity=1e-3)
        pdekit.run(model, np.ones((32, 32)), t_end=0.01, snapshots=1, progress=False)
        from pdekit.advection_diffusion import kernels as K
        sigs = {name: len(getattr(K, name).stats.cache_hits) for name in ("advance_ssp_uniform",)}
        misses = sum(len(getattr(K, n).stats.cache_misses) for n in ("advance_ssp_uniform",))
        print(sum(sigs.values()), misses)
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    hits, misses = map(int, out.stdout.split())
    assert hits >= 1 and misses == 0


# ---- bad input: clear exceptions before any work ------------------------------------------------
GRID1 = pdekit.Grid.uniform(10, (0.0, 1.0))


@pytest.mark.parametrize("kwargs,match", [
    (dict(diffusivity=-1.0), "diffusivity"),
    (dict(diffusivity=np.nan), "diffusivity"),
    (dict(diffusivity=np.full(10, -0.1)), "diffusivity"),
    (dict(diffusivity=np.ones(7)), "shape"),
    (dict(velocity=np.inf), "finite"),
    (dict(velocity=(np.ones(5),)), "shape"),
    (dict(source=np.ones(3)), "shape"),
    (dict(scheme="lax-wendroff"), "unknown scheme"),
])
def test_bad_model_parameters(kwargs, match):
    with pytest.raises(pdekit.ParameterError, match=match):
        pdekit.AdvectionDiffusion(GRID1, "periodic", **kwargs)


def test_bad_boundary_name():
    with pytest.raises(pdekit.BoundaryError, match="unknown boundary condition 'wall'"):
        pdekit.AdvectionDiffusion(GRID1, "wall")


@pytest.mark.parametrize("initial,match", [
    (np.ones(9), "shape"),
    (np.ones((2, 10)), "shape"),
    (np.where(np.arange(10) == 4, np.nan, 1.0), "not finite"),
    ({"v": np.ones(10)}, "unknown variables"),
])
def test_bad_initial_data(initial, match):
    model = pdekit.AdvectionDiffusion(GRID1, "periodic", velocity=1.0)
    with pytest.raises(pdekit.ParameterError, match=match):
        pdekit.run(model, initial, t_end=1.0, progress=False)


@pytest.mark.parametrize("kwargs,match", [
    (dict(cfl=0.0), "CFL"), (dict(cfl=-1.0), "CFL"), (dict(cfl=1.5), "stability limit"),
    (dict(cfl=0.2, dt=0.1), "either"), (dict(dt=-1.0), "dt"), (dict(t_end=-1.0), "t_end"),
    (dict(snapshots=0), "snapshots"), (dict(method="rk4"), "unknown time integration"),
])
def test_bad_run_arguments(kwargs, match):
    model = pdekit.AdvectionDiffusion(GRID1, "periodic", velocity=1.0, diffusivity=0.1)
    kw = dict(t_end=1.0) | kwargs
    with pytest.raises(pdekit.ParameterError, match=match):
        pdekit.run(model, np.ones(10), progress=False, **kw)


def test_implicit_method_refuses_advection():
    model = pdekit.AdvectionDiffusion(GRID1, "periodic", velocity=1.0, diffusivity=0.1)
    with pytest.raises(pdekit.ParameterError, match="strang"):
        pdekit.run(model, np.ones(10), t_end=1.0, dt=0.1, method="crank-nicolson", progress=False)


@pytest.mark.parametrize("where", ["missing-dir", "is-dir"])
def test_unwritable_output(tmp_path, where):
    path = tmp_path / "nope" / "r.h5" if where == "missing-dir" else tmp_path
    model = pdekit.AdvectionDiffusion(GRID1, "periodic", velocity=1.0)
    t0 = time.perf_counter()
    with pytest.raises(pdekit.OutputError):
        pdekit.run(model, np.ones(10), t_end=1.0, output=path, progress=False)
    assert time.perf_counter() - t0 < 30  # refused before stepping (generous: compile time is not involved)


def test_restart_refuses_a_different_model(tmp_path):
    path = tmp_path / "r.h5"
    pdekit.run(_model(16), _u0, t_end=0.1, snapshots=2, output=path, progress=False)
    other = pdekit.AdvectionDiffusion(pdekit.Grid.uniform((16, 16), [(0.0, 1.0), (0.0, 1.0)]), "periodic",
                                      velocity=(1.0, 0.5), diffusivity=2e-3)
    with pytest.raises(pdekit.ParameterError, match="diffusivity"):
        pdekit.run(other, None, t_end=0.1, snapshots=2, output=path, progress=False, restart=True)


def test_sigterm_closes_the_file_with_status(tmp_path):
    path = tmp_path / "term.h5"
    proc = _start(tmp_path, path, 2.0, 40)
    _wait_for_checkpoint(path, 2, proc)
    proc.terminate()
    proc.wait()
    ds = pdekit.open_result(path)
    assert ds.attrs["status"] == "interrupted" and ds.sizes["t"] >= 3


def test_more_bad_input():
    with pytest.raises(pdekit.ParameterError, match="ghost >= 2"):
        pdekit.AdvectionDiffusion(pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 8)], ghost=1), "periodic")
    with pytest.raises(pdekit.GridError, match="reserved"):
        pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 8), pdekit.Axis.uniform("t", 0, 1, 8)])
    g = pdekit.Grid.uniform(8, (0.0, 1.0))
    with pytest.raises(pdekit.ParameterError, match="same face"):
        pdekit.AdvectionDiffusion(g, "periodic", velocity=(np.arange(9.0),))
    with pytest.raises(pdekit.ParameterError, match="diffusion only"):
        pdekit.run(pdekit.AdvectionDiffusion(g, "periodic", velocity=1.0), np.ones(8), t_end=1.0, cfl=0.5,
                   method="crank-nicolson", progress=False)
    with pytest.raises(pdekit.ParameterError, match="implicit: give dt"):
        pdekit.run(pdekit.AdvectionDiffusion(g, "periodic", diffusivity=1.0), np.ones(8), t_end=1.0,
                   method="backward-euler", progress=False)


def test_diffusivity_function_of_coordinates():
    g = pdekit.Grid.uniform(8, (0.0, 1.0))
    m = pdekit.AdvectionDiffusion(g, "zero-flux", diffusivity=lambda x: 1 + x)
    assert np.allclose(m.face_diffusivity[0][1:-1], 2 * (1 + g.centres[0][:-1]) * (1 + g.centres[0][1:])
                       / (2 + g.centres[0][:-1] + g.centres[0][1:]))


def test_explicit_dt_bound_at_walls():
    """Forward Euler stability: 2D/h^2 inside, 3D/h^2 next to a Dirichlet wall, none from zero-flux walls."""
    g = pdekit.Grid.uniform(10, (0.0, 1.0))
    h = 0.1
    assert np.isclose(pdekit.AdvectionDiffusion(g, "zero-flux", diffusivity=1.0).stable_dt(1.0, "euler"), h * h / 2)
    assert np.isclose(pdekit.AdvectionDiffusion(g, {"x": ("dirichlet", 0.0)}, diffusivity=1.0).stable_dt(1.0, "euler"),
                      h * h / 3)


@pytest.mark.parametrize("kwargs,match", [
    (dict(velocity=lambda x, t: (np.ones(3),)), "face shape"),
    (dict(source=lambda x, t: np.ones(3)), "grid shape"),
    (dict(velocity=("a",)), "number or a face array"),
])
def test_bad_functions_and_values(kwargs, match):
    with pytest.raises(pdekit.ParameterError, match=match):
        pdekit.AdvectionDiffusion(GRID1, "periodic", **kwargs)


def test_any_failure_is_recorded_in_the_file(tmp_path):
    def g(t):
        return 1.0 if t < 0.05 else np.nan
    model = pdekit.AdvectionDiffusion(GRID1, {"x": ("dirichlet", g)}, diffusivity=0.1)
    path = tmp_path / "f.h5"
    with pytest.raises(pdekit.BoundaryError):
        pdekit.run(model, np.ones(10), t_end=0.1, snapshots=10, output=path, progress=False)
    ds = pdekit.open_result(path)
    assert ds.attrs["status"].startswith("failed: BoundaryError") and 2 <= ds.sizes["t"] < 11


def test_bad_chunk_steps():
    model = pdekit.AdvectionDiffusion(GRID1, "periodic", velocity=1.0)
    with pytest.raises(pdekit.ParameterError, match="chunk_steps"):
        pdekit.run(model, np.ones(10), t_end=0.1, progress=False, chunk_steps=0)


def test_progress_bar_shows_on_a_terminal(tmp_path):
    """Under a pseudo-terminal the bar is drawn on stderr; without one it stays silent."""
    import fcntl
    import pty
    import struct
    import termios

    code = ("import numpy as np, pdekit\n"
            "g = pdekit.Grid.uniform(64, (0, 1))\n"
            "m = pdekit.AdvectionDiffusion(g, 'periodic', velocity=1.0)\n"
            "pdekit.run(m, np.ones(64), t_end=2.0, snapshots=2, chunk_steps=50)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal 100 columns wide
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0
    assert "advection-diffusion" in text and "step" in text


def test_restart_refuses_a_different_field_or_function(tmp_path):
    grid = pdekit.Grid.uniform(10, (0.0, 1.0))
    path = tmp_path / "r.h5"
    D = np.linspace(0.1, 0.2, 10)
    pdekit.run(pdekit.AdvectionDiffusion(grid, "zero-flux", diffusivity=D), np.ones(10), t_end=0.1, snapshots=2,
               output=path, progress=False)
    with pytest.raises(pdekit.ParameterError, match="diffusivity"):
        pdekit.run(pdekit.AdvectionDiffusion(grid, "zero-flux", diffusivity=D * 2), None, t_end=0.1, snapshots=2,
                   output=path, progress=False, restart=True)
    path2 = tmp_path / "s.h5"
    pdekit.run(pdekit.AdvectionDiffusion(grid, "zero-flux", diffusivity=0.1, source=lambda x, t: 1.0 * x),
               np.ones(10), t_end=0.1, snapshots=2, output=path2, progress=False)
    with pytest.raises(pdekit.ParameterError, match="source"):
        pdekit.run(pdekit.AdvectionDiffusion(grid, "zero-flux", diffusivity=0.1, source=lambda x, t: 2.0 * x),
                   None, t_end=0.1, snapshots=2, output=path2, progress=False, restart=True)
