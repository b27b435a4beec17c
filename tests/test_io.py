"""Tests of pdekit.io: netCDF-4 compatible result files written with h5py."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr

from pdekit.io import OutputError, ResultWriter, check_writable, open_result

REPO = Path(__file__).resolve().parents[1]


def _netcdf4_available():
    try:
        import netCDF4  # noqa: F401
    except ImportError:
        return False
    return True


ENGINES = ["h5netcdf"] + (["netcdf4"] if _netcdf4_available() else [])

GRIDS = {
    "1d": {"x": np.linspace(0.0, 1.0, 5)},
    "2d": {"x": np.linspace(0.0, 1.0, 4), "y": np.array([-1.0, 0.5, 2.0])},
    "3d": {"x": np.arange(3.0), "y": np.arange(2.0) + 10, "z": np.array([0.1, 0.2, 0.3, 0.4])},
}


def field(coords, t):
    """A snapshot that depends on time and on every coordinate."""
    grids = np.meshgrid(*coords.values(), indexing="ij")
    return np.sin(t) + sum((k + 1) * g for k, g in enumerate(grids)) * np.cos(t)


def write_run(path, coords, times, **kwargs):
    dims = tuple(coords)
    with ResultWriter(path, coords=coords, variables={"u": dims, "v": dims}, **kwargs) as writer:
        for t in times:
            writer.write_snapshot(t, {"u": field(coords, t), "v": -field(coords, t)})
    return writer


@pytest.mark.parametrize("grid", sorted(GRIDS))
def test_roundtrip_coords_attrs(tmp_path, grid):
    coords = GRIDS[grid]
    path = tmp_path / f"{grid}.h5"
    times = [0.0, 0.25, 0.5, 1.0]
    writer = write_run(
        path,
        coords,
        times,
        attrs={"title": "héllo résult", "nx": 5, "dt": 0.25, "stable": True},
        coord_attrs={"x": {"units": "m"}, "t": {"units": "s", "long_name": "time"}},
        variable_attrs={"u": {"long_name": "concentration"}},
    )
    assert writer.closed and writer.n_snapshots == 4 and writer.path == path

    ds = open_result(path)
    assert ds.sizes["t"] == 4
    assert ds["u"].dims == ("t", *coords)
    assert ds["u"].dtype == np.float64
    np.testing.assert_array_equal(ds["t"].values, times)
    for dim, values in coords.items():
        np.testing.assert_array_equal(ds[dim].values, values)
    for i, t in enumerate(times):
        np.testing.assert_array_equal(ds["u"].values[i], field(coords, t))
        np.testing.assert_array_equal(ds["v"].values[i], -field(coords, t))
    assert ds.attrs["title"] == "héllo résult" and type(ds.attrs["title"]) is str
    assert ds.attrs["nx"] == 5 and ds.attrs["dt"] == 0.25 and ds.attrs["stable"] == 1
    assert ds["x"].attrs == {"units": "m"} and type(ds["x"].attrs["units"]) is str
    assert ds["t"].attrs == {"units": "s", "long_name": "time"}
    assert ds["t"].dtype == np.float64
    assert ds["u"].attrs == {"long_name": "concentration"}
    # open_result loaded the data and released the file: it can be rewritten at once
    write_run(path, coords, [0.0])


def test_layout_unlimited_time_and_chunks(tmp_path):
    path = tmp_path / "r.h5"
    coords = {"x": np.arange(1200.0), "y": np.arange(600.0)}  # 5.8 MB per snapshot
    with ResultWriter(path, coords=coords, variables={"big": ("x", "y")}) as writer:
        pass
    with ResultWriter(tmp_path / "s.h5", coords=GRIDS["2d"], variables={"u": ("x", "y")}):
        pass
    with h5py.File(path, "r") as f:
        assert writer.n_snapshots == 0
        assert f["t"].maxshape == (None,) and f["t"].dtype == np.float64
        big = f["big"]
        assert big.maxshape == (None, 1200, 600)
        assert big.chunks[0] == 1 and big.chunks[2] == 600
        assert 100 < big.chunks[1] < 1200
        assert np.prod(big.chunks) * 8 <= 4 * 2**20
        assert f["x"].attrs["CLASS"] == b"DIMENSION_SCALE"
        assert [int(f[d].attrs["_Netcdf4Dimid"]) for d in ("t", "x", "y")] == [0, 1, 2]
        assert list(big.attrs["_Netcdf4Coordinates"]) == [0, 1, 2]
    with h5py.File(tmp_path / "s.h5", "r") as f:
        assert f["u"].chunks == (1, 4, 3)


def test_parameters_json(tmp_path):
    path = tmp_path / "p.h5"
    parameters = {"D": 0.1, "grid": {"nx": 4, "bc": ["dirichlet", "neumann"]}, "k": np.float64(2)}
    write_run(path, GRIDS["1d"], [0.0, 1.0], attrs={"parameters": parameters, "tags": ["a", "b"]})
    ds = open_result(path)
    assert ds.attrs["parameters"] == {"D": 0.1, "grid": {"nx": 4, "bc": ["dirichlet", "neumann"]},
                                      "k": 2.0}
    assert ds.attrs["tags"] == '["a", "b"]'  # only "parameters" is decoded
    with xr.open_dataset(path, engine="h5netcdf") as raw:
        assert isinstance(raw.attrs["parameters"], str)


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_open_identical(tmp_path, engine):
    path = tmp_path / "e.h5"
    many = {f"attr{i}": i for i in range(12)}  # beyond compact attribute storage
    writer_kwargs = dict(attrs={"title": "run", **many}, coord_attrs={"y": {"units": "cm"}})
    write_run(path, GRIDS["2d"], [0.0, 0.1, 0.2], **writer_kwargs)
    with ResultWriter(path, mode="a", coords=GRIDS["2d"], variables={"u": ("x", "y"),
                                                                     "v": ("x", "y")}) as writer:
        writer.write_static("edges", np.array([[0, 1], [1, 2]]), ("edge", "end"))
        writer.set_attrs(wall_time=3.5)
    expected = open_result(path)
    with xr.open_dataset(path, engine=engine, decode_timedelta=False) as ds:
        ds.load()
    assert list(ds.dims) == list(expected.dims)
    xr.testing.assert_identical(ds, expected)
    assert type(ds.attrs["title"]) is str and type(ds["y"].attrs["units"]) is str


def test_netcdf4_library_reads_layout(tmp_path):
    netCDF4 = pytest.importorskip("netCDF4")
    path = tmp_path / "n.h5"
    write_run(path, GRIDS["2d"], [0.0, 1.0])
    with netCDF4.Dataset(path) as nc:
        assert nc.dimensions["t"].isunlimited() and len(nc.dimensions["t"]) == 2
        assert nc.variables["u"].dimensions == ("t", "x", "y")
        np.testing.assert_array_equal(nc.variables["u"][1], field(GRIDS["2d"], 1.0))


def test_restart_truncate_and_append(tmp_path):
    path = tmp_path / "restart.h5"
    coords = GRIDS["2d"]
    variables = {"u": ("x", "y"), "v": ("x", "y")}
    write_run(path, coords, [0.0, 1.0, 2.0, 3.0, 4.0], attrs={"parameters": {"a": 1}})

    with ResultWriter(path, coords=coords, variables=variables, mode="a",
                      keep_until_time=2.0) as writer:
        assert writer.n_snapshots == 3
        np.testing.assert_array_equal(writer.times, [0.0, 1.0, 2.0])
        with pytest.raises(ValueError, match="not later"):
            writer.write_snapshot(2.0, {"u": field(coords, 2.0), "v": field(coords, 2.0)})
        for t in (2.5, 3.5):
            writer.write_snapshot(t, {"u": field(coords, t), "v": -field(coords, t)})
        assert writer.n_snapshots == 5

    with ResultWriter(path, coords=coords, variables=variables, mode="a") as writer:
        writer.truncate(4)
        assert writer.n_snapshots == 4
        with pytest.raises(ValueError):
            writer.truncate(5)

    ds = open_result(path)
    assert ds.attrs["parameters"] == {"a": 1}
    np.testing.assert_array_equal(ds["t"].values, [0.0, 1.0, 2.0, 2.5])
    for i, t in enumerate(ds["t"].values):
        np.testing.assert_array_equal(ds["u"].values[i], field(coords, t))
    with h5py.File(path, "r") as f:
        assert f["u"].shape[0] == f["v"].shape[0] == f["t"].shape[0] == 4


def test_restart_rejects_mismatched_layout(tmp_path):
    path = tmp_path / "m.h5"
    write_run(path, GRIDS["2d"], [0.0])
    other = {"x": GRIDS["2d"]["x"] + 1.0, "y": GRIDS["2d"]["y"]}
    with pytest.raises(ValueError, match="coordinate 'x' differs"):
        ResultWriter(path, coords=other, variables={"u": ("x", "y")}, mode="a")
    with pytest.raises(ValueError, match="variable 'w' is missing"):
        ResultWriter(path, coords=GRIDS["2d"], variables={"w": ("x", "y")}, mode="a")
    with pytest.raises(OutputError, match="does not exist"):
        ResultWriter(tmp_path / "none.h5", coords=GRIDS["2d"], variables={}, mode="a")


def test_write_static_extra_dims(tmp_path):
    path = tmp_path / "static.h5"
    coords = {"node": np.arange(4), "channel": np.array(["Na", "K"])}
    edges = np.array([[0, 1], [1, 2], [2, 3]], dtype=np.int64)
    with ResultWriter(path, coords=coords, variables={"c": ("node", "channel")},
                      coord_attrs={"node": {"long_name": "graph node"}}) as writer:
        writer.write_static("edges", edges, ("edge", "end"), attrs={"long_name": "edge list"})
        writer.write_static("lengths", np.array([1.0, 2.0, 0.5]), ("edge",))
        writer.write_static("restriction", np.eye(4)[:, :2], ("node", "basis"))
        writer.write_static("boundary", np.array([True, False, False, True]), ("node",))
        writer.write_static("labels", np.array(["ab", "c", "d"]), ("edge",))
        writer.write_static("knot", 0.5, ())
        writer.write_snapshot(0.0, {"c": np.ones((4, 2))})
        with pytest.raises(ValueError, match="dimension 'edge' has length 3"):
            writer.write_static("bad", np.zeros(5), ("edge",))
        with pytest.raises(ValueError, match="already exists"):
            writer.write_static("edges", np.zeros((3, 2)), ("edge", "end"))
        writer.write_static("edges", edges[::-1].copy(), ("edge", "end"))  # same layout: overwrite

    for ds in (open_result(path), xr.load_dataset(path, engine="h5netcdf")):
        assert ds.sizes["edge"] == 3 and ds.sizes["end"] == 2 and ds.sizes["basis"] == 2
        assert "edge" not in ds.coords and "end" not in ds.coords
        assert ds["edges"].dims == ("edge", "end") and ds["edges"].dtype == np.int64
        np.testing.assert_array_equal(ds["edges"].values, edges[::-1])
        assert ds["edges"].attrs["long_name"] == "edge list"
        assert ds["restriction"].dims == ("node", "basis")
        assert ds["boundary"].dtype == bool and ds["boundary"].values.tolist() == [1, 0, 0, 1]
        assert ds["labels"].values.tolist() == ["ab", "c", "d"]
        assert ds["channel"].values.tolist() == ["Na", "K"]
        assert float(ds["knot"]) == 0.5 and ds["knot"].dims == ()
        assert ds["c"].dims == ("t", "node", "channel")
        assert ds["node"].attrs["long_name"] == "graph node"


def test_open_result_drops_incomplete_snapshot(tmp_path):
    """States a kill inside write_snapshot could leave: data extended, time not yet written."""
    path = tmp_path / "partial.h5"
    coords = GRIDS["1d"]
    write_run(path, coords, [0.0, 1.0, 2.0])
    with h5py.File(path, "r+") as f:  # time extended (NaN) and only "u" extended
        f["t"].resize(4, axis=0)
        f["u"].resize(4, axis=0)
    ds = open_result(path)
    np.testing.assert_array_equal(ds["t"].values, [0.0, 1.0, 2.0])
    with h5py.File(path, "r+") as f:  # every dataset extended, time value still unwritten
        f["v"].resize(4, axis=0)
    assert open_result(path).sizes["t"] == 3
    with ResultWriter(path, coords=coords, variables={"u": ("x",), "v": ("x",)},
                      mode="a") as writer:  # reopening repairs the file
        assert writer.n_snapshots == 3
        writer.write_snapshot(3.0, {"u": field(coords, 3.0), "v": -field(coords, 3.0)})
    np.testing.assert_array_equal(open_result(path)["t"].values, [0.0, 1.0, 2.0, 3.0])


def test_bad_snapshots_are_rejected_without_damage(tmp_path):
    path = tmp_path / "bad.h5"
    coords = GRIDS["2d"]
    with ResultWriter(path, coords=coords, variables={"u": ("x", "y"), "v": ("x", "y")}) as w:
        good = field(coords, 0.0)
        w.write_snapshot(0.0, {"u": good, "v": good})
        with pytest.raises(ValueError, match="shape"):
            w.write_snapshot(1.0, {"u": good.T, "v": good})
        with pytest.raises(ValueError, match="missing"):
            w.write_snapshot(1.0, {"u": good})
        with pytest.raises(ValueError, match="finite"):
            w.write_snapshot(np.nan, {"u": good, "v": good})
        with pytest.raises(ValueError, match="reserved"):
            w.set_attrs(NAME="x")
        assert w.n_snapshots == 1
    assert open_result(path).sizes["t"] == 1
    with pytest.raises(OutputError, match="closed"):
        w.write_snapshot(2.0, {"u": good, "v": good})
    with pytest.raises(ValueError, match="dims"):
        ResultWriter(tmp_path / "c.h5", coords=coords, variables={"u": ("x", "q")})


def test_check_writable(tmp_path):
    assert check_writable(tmp_path / "ok.h5") == tmp_path / "ok.h5"
    with pytest.raises(OutputError, match="does not exist"):
        check_writable(tmp_path / "missing" / "r.h5")
    with pytest.raises(OutputError, match="is a directory"):
        check_writable(tmp_path)
    assert issubclass(OutputError, OSError)
    with pytest.raises(OutputError, match="cannot write results to"):
        ResultWriter(tmp_path / "missing" / "r.h5", coords=GRIDS["1d"], variables={"u": ("x",)})
    with pytest.raises(OutputError):
        ResultWriter(tmp_path, coords=GRIDS["1d"], variables={"u": ("x",)})


CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from pdekit.io import ResultWriter
    x = np.linspace(0.0, 1.0, 50)
    with ResultWriter(sys.argv[1], coords={"x": x}, variables={"u": ("x",)},
                      attrs={"parameters": {"dt": 0.1}}) as writer:
        for i in range(100000):
            writer.write_snapshot(0.1 * i, {"u": x * i})
            print(i, flush=True)
            time.sleep(0.002)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_keeps_flushed_snapshots(tmp_path):
    path = tmp_path / "killed.h5"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = 0
    try:
        while seen < 5:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"writer process ended early: {proc.stderr.read()}")
            seen += 1
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    x = np.linspace(0.0, 1.0, 50)
    ds = open_result(path)
    n = ds.sizes["t"]
    assert n >= 5
    np.testing.assert_allclose(ds["t"].values, 0.1 * np.arange(n))
    np.testing.assert_array_equal(ds["u"].values, np.arange(n)[:, None] * x)
    assert ds.attrs["parameters"] == {"dt": 0.1}
    with xr.open_dataset(path, engine="h5netcdf") as raw:
        assert raw.sizes["t"] >= 5
        np.testing.assert_array_equal(raw["u"].values[:5], np.arange(5)[:, None] * x)
    # a restart continues the killed run
    with ResultWriter(path, coords={"x": x}, variables={"u": ("x",)}, mode="a",
                      keep_until_time=0.1 * 3) as writer:
        assert writer.n_snapshots == 4
        writer.write_snapshot(0.35, {"u": -x})
    np.testing.assert_array_equal(open_result(path)["u"].values[-1], -x)
