"""Results files: one HDF5 file per run, laid out as netCDF-4.

The file is written with plain h5py (so that chunking and flushing are under our control) using the
netCDF-4 conventions for dimensions: every dimension is an HDF5 dimension scale carrying
``_Netcdf4Dimid``; every variable has its scales attached and carries ``_Netcdf4Coordinates``;
dimensions without coordinate values are scales whose ``NAME`` starts with "This is a netCDF
dimension but not a netCDF variable.". Hence ``xarray.open_dataset(path, engine="h5netcdf")``,
``engine="netcdf4"`` and :func:`open_result` all read it.

Layout of a result::

    t(t)           float64, unlimited, one value per snapshot
    x(x), y(y)...  coordinate values of the fixed dimensions
    u(t, x, y)...  float64 snapshots, one snapshot (or a slab of at most 4 MB) per chunk
    <static>(...)  non-time-dependent arrays (graphs, knots, ...) with their own dimensions

Crash safety: every snapshot ends with a flush. Within a snapshot all time-dependent datasets are
extended first, then the fields are written and the time value is written last; the time axis is
filled with NaN, so a snapshot whose time reads NaN is incomplete. :func:`open_result` and
``ResultWriter(mode="a")`` drop incomplete trailing snapshots (and any length mismatch left by a
kill), so a run killed at any point leaves every snapshot flushed before the kill readable.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np

try:
    from .errors import OutputError
except ImportError:  # module used outside the package

    class OutputError(OSError):
        """A results file cannot be written or read."""


try:
    from .errors import ParameterError
except ImportError:  # module used outside the package
    ParameterError = ValueError

__all__ = ["ResultWriter", "open_result", "check_writable", "OutputError"]

_NOT_A_VARIABLE = "This is a netCDF dimension but not a netCDF variable."
_RESERVED_ATTRS = frozenset(
    {
        "CLASS",
        "NAME",
        "DIMENSION_LIST",
        "REFERENCE_LIST",
        "_Netcdf4Dimid",
        "_Netcdf4Coordinates",
        "_NCProperties",
        "_nc3_strict",
    }
)
_CHUNK_BYTES = 4 * 2**20  # largest chunk of a time-dependent variable
_TIME_CHUNK = 512  # values of the time coordinate per chunk


def check_writable(path, *, mode: str = "w") -> Path:
    """Raise :class:`OutputError` unless a result can be written at ``path``; return it as a Path.

    The parent directory must exist (it is not created). With ``mode="a"`` the file must exist.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        reason = "the path is a directory"
    elif mode == "a" and not path.is_file():
        reason = "the file does not exist (mode 'a' continues an existing result)"
    elif path.exists() and not path.is_file():
        reason = "the path exists and is not a regular file"
    elif path.exists() and not os.access(path, os.W_OK):
        reason = "the file is not writable"
    elif not parent.is_dir():
        reason = f"the directory {str(parent)!r} does not exist"
    elif not path.exists() and not os.access(parent, os.W_OK | os.X_OK):
        reason = f"the directory {str(parent)!r} is not writable"
    else:
        return path
    raise OutputError(f"cannot write results to {str(path)!r}: {reason}")


class ResultWriter:
    """Append snapshots of time-dependent fields to a netCDF-4 compatible HDF5 file.

    Parameters
    ----------
    path : file to write.
    coords : ordered mapping dimension name -> 1D array of coordinate values (numbers or strings)
        for the fixed dimensions; an int instead of an array makes a dimension of that length
        without coordinate values.
    variables : mapping variable name -> tuple of fixed dimensions (names in ``coords``). Each
        variable is float64 with the leading, unlimited dimension ``time_dim``.
    attrs : global attributes. dict/list/tuple/None values are stored as JSON strings, bools as
        int8, numbers and strings as they are.
    coord_attrs : attributes of coordinates, e.g. ``{"x": {"units": "m"}, "t": {"units": "s"}}``.
    variable_attrs : attributes of the variables, e.g. ``{"u": {"long_name": "concentration"}}``.
    time_dim : name of the time dimension and coordinate.
    mode : "w" creates (or truncates) the file; "a" reopens an existing result to continue it
        (restart). ``coords`` and ``variables`` must then match the file.
    keep_until_time : with mode "a", drop the snapshots later than this time (the time of the
        checkpoint the run restarts from).
    """

    def __init__(
        self,
        path,
        *,
        coords: dict,
        variables: dict,
        attrs: dict | None = None,
        coord_attrs: dict | None = None,
        variable_attrs: dict | None = None,
        time_dim: str = "t",
        mode: str = "w",
        keep_until_time: float | None = None,
    ):
        self._file = None
        self._n = 0
        if mode not in ("w", "a"):
            raise ParameterError(f"mode must be 'w' or 'a', got {mode!r}")
        if keep_until_time is not None and mode != "a":
            raise ParameterError("keep_until_time is only accepted with mode='a'")
        self._path = check_writable(path, mode=mode)
        self._time_dim = _check_name(time_dim, "time_dim")
        self._coords = _normalize_coords(coords, time_dim)
        self._shapes, self._variable_dims = _normalize_variables(variables, self._coords, time_dim)
        coord_attrs = dict(coord_attrs or {})
        variable_attrs = dict(variable_attrs or {})
        for key in coord_attrs:
            if key != time_dim and not isinstance(self._coords.get(key), np.ndarray):
                raise ParameterError(
                    f"coord_attrs names {key!r}, which is neither the time dimension nor a "
                    f"coordinate with values; coordinates: {list(self._coords)}"
                )
        for key in variable_attrs:
            if key not in self._shapes:
                raise ParameterError(
                    f"variable_attrs names {key!r}, which is not a variable; "
                    f"variables: {list(self._shapes)}"
                )

        try:
            self._file = h5py.File(self._path, "r+" if mode == "a" else "w", track_order=True)
        except OSError as exc:
            raise OutputError(f"cannot write results to {str(self._path)!r}: {exc}") from exc
        try:
            self._dimids: dict[str, int] = {}
            if mode == "w":
                self._create_layout()
            else:
                self._reopen_layout()
            for key, value in (attrs or {}).items():
                _set_attr(self._file.attrs, key, value)
            for name, values in coord_attrs.items():
                for key, value in values.items():
                    _set_attr(self._file[name].attrs, key, value)
            for name, values in variable_attrs.items():
                for key, value in values.items():
                    _set_attr(self._file[name].attrs, key, value)
            if keep_until_time is not None:
                self.truncate_after(keep_until_time)
            self._file.flush()
        except BaseException:
            self._file.close()
            raise

    # ------------------------------------------------------------------ properties

    @property
    def path(self) -> Path:
        return self._path

    @property
    def n_snapshots(self) -> int:
        return self._n

    @property
    def times(self) -> np.ndarray:
        """Times of the snapshots written so far (a copy)."""
        self._check_open()
        return self._file[self._time_dim][: self._n]

    @property
    def closed(self) -> bool:
        return self._file is None or not self._file.id.valid

    # ------------------------------------------------------------------ writing

    def write_snapshot(self, t: float, fields: dict) -> None:
        """Append the snapshot of every variable at time ``t`` (strictly increasing) and flush."""
        self._check_open()
        t = float(t)
        if not math.isfinite(t):
            raise ParameterError(f"snapshot time must be finite, got {t}")
        if self._n and not t > self._last_time:
            raise ParameterError(
                f"snapshot time {t!r} is not later than the last written time "
                f"{self._last_time!r}; times must increase (truncate the result to restart)"
            )
        missing = [name for name in self._shapes if name not in fields]
        unknown = [name for name in fields if name not in self._shapes]
        if missing or unknown:
            raise ParameterError(
                f"fields must hold exactly the variables {list(self._shapes)}; "
                f"missing {missing}, unknown {unknown}"
            )
        arrays = {}
        for name, shape in self._shapes.items():
            array = np.asarray(fields[name])
            if array.shape != shape:
                raise ParameterError(
                    f"field {name!r} has shape {array.shape}, expected {shape} "
                    f"(dims {self._variable_dims[name]})"
                )
            if array.dtype.kind not in "biuf":
                raise ParameterError(
                    f"field {name!r} has dtype {array.dtype}; expected real numbers"
                )
            arrays[name] = array

        n = self._n
        try:
            # extend everything first, the time value (NaN until written) goes in last
            for name in (self._time_dim, *arrays):
                self._file[name].resize(n + 1, axis=0)
            for name, array in arrays.items():
                self._file[name][n] = array
            self._file[self._time_dim][n] = t
            self._file.flush()
        except OSError as exc:
            self._try_shrink(n)
            raise OutputError(
                f"cannot write the snapshot at t={t} to {str(self._path)!r}: {exc}"
            ) from exc
        self._n = n + 1
        self._last_time = t

    def write_static(self, name: str, array, dims: tuple, attrs: dict | None = None) -> None:
        """Write a non-time-dependent variable with dimensions ``dims``.

        Dimensions that are not yet in the file are created without coordinate values. Writing an
        existing static variable again (e.g. after a restart) overwrites it in place if its
        dimensions and dtype match.
        """
        self._check_open()
        name = _check_name(name, "variable name")
        dims = (dims,) if isinstance(dims, str) else tuple(dims)
        data, dtype, extra_attrs = _storable_array(array, name)
        if data.ndim != len(dims):
            raise ParameterError(
                f"static variable {name!r} has {data.ndim} dimension(s) but dims={dims}"
            )
        if len(set(dims)) != len(dims):
            raise ParameterError(f"static variable {name!r} repeats a dimension: {dims}")
        for dim, size in zip(dims, data.shape):
            _check_name(dim, "dimension name")
            if dim == self._time_dim:
                raise ParameterError(
                    f"static variable {name!r} cannot use the time dimension {dim!r}"
                )
            if dim in self._dimids and self._file[dim].shape[0] != size:
                raise ParameterError(
                    f"static variable {name!r}: dimension {dim!r} has length "
                    f"{self._file[dim].shape[0]} in the file, the array has {size}"
                )
        if name in self._dimids or name in self._shapes:
            raise ParameterError(
                f"{name!r} is already a dimension or time-dependent variable of the result"
            )

        if name in self._file:
            existing = self._file[name]
            if (
                _dims_of(existing) != dims
                or existing.shape != data.shape
                or existing.dtype != dtype
            ):
                raise ParameterError(
                    f"static variable {name!r} already exists with dims {_dims_of(existing)}, "
                    f"shape {existing.shape}, dtype {existing.dtype}; cannot overwrite it with "
                    f"dims {dims}, shape {data.shape}, dtype {dtype}"
                )
            existing[...] = data
            dataset = existing
        else:
            for dim, size in zip(dims, data.shape):
                if dim not in self._dimids:
                    self._create_plain_dim(dim, size)
            dataset = self._file.create_dataset(name, data=data, dtype=dtype, track_order=True)
            self._attach(dataset, dims)
            if dims:
                # netCDF-c stores the first dimension's id on fixed-size variables
                dataset.attrs["_Netcdf4Dimid"] = np.int32(self._dimids[dims[0]])
        for key, value in {**extra_attrs, **(attrs or {})}.items():
            _set_attr(dataset.attrs, key, value)
        self._file.flush()

    def set_attrs(self, **attrs) -> None:
        """Set global attributes (dict/list values as JSON) and flush."""
        self._check_open()
        for key, value in attrs.items():
            _set_attr(self._file.attrs, key, value)
        self._file.flush()

    def truncate(self, n_snapshots: int) -> None:
        """Keep only the first ``n_snapshots`` snapshots."""
        self._check_open()
        n_snapshots = int(n_snapshots)
        if not 0 <= n_snapshots <= self._n:
            raise ParameterError(
                f"n_snapshots must be in [0, {self._n}] (snapshots in the file), "
                f"got {n_snapshots}"
            )
        for name in (self._time_dim, *self._shapes):
            self._file[name].resize(n_snapshots, axis=0)
        self._file.flush()
        self._set_count(n_snapshots)

    def truncate_after(self, t: float) -> int:
        """Drop the snapshots later than time ``t``; return the number kept."""
        self._check_open()
        t = float(t)
        tolerance = 4 * np.finfo(float).eps * abs(t)
        keep = int(np.searchsorted(self.times, t + tolerance, side="right"))
        self.truncate(keep)
        return keep

    def close(self) -> None:
        if not self.closed:
            self._file.flush()
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        state = "closed" if self.closed else f"{self._n} snapshots"
        return f"<ResultWriter {str(self._path)!r}: {state}>"

    # ------------------------------------------------------------------ layout

    def _create_layout(self):
        f = self._file
        props = (
            f"version=2,pdekit.io=1,hdf5={h5py.version.hdf5_version},h5py={h5py.__version__}"
        )
        f.attrs["_NCProperties"] = np.array(props, dtype=h5py.string_dtype("ascii", len(props)))

        time = f.create_dataset(
            self._time_dim,
            shape=(0,),
            maxshape=(None,),
            chunks=(_TIME_CHUNK,),
            dtype=np.float64,
            fillvalue=np.nan,
            track_order=True,
        )
        self._make_dimension(time, self._time_dim, coordinate=True)
        for dim, values in self._coords.items():
            if isinstance(values, np.ndarray):
                data, dtype, extra_attrs = _storable_array(values, dim)
                coord = f.create_dataset(dim, data=data, dtype=dtype, track_order=True)
                self._make_dimension(coord, dim, coordinate=True)
                for key, value in extra_attrs.items():
                    _set_attr(coord.attrs, key, value)
            else:
                self._create_plain_dim(dim, values)

        for name, shape in self._shapes.items():
            dims = (self._time_dim, *self._variable_dims[name])
            dataset = f.create_dataset(
                name,
                shape=(0, *shape),
                maxshape=(None, *shape),
                chunks=_snapshot_chunks(shape, np.dtype(np.float64).itemsize),
                dtype=np.float64,
                fillvalue=np.nan,
                track_order=True,
            )
            self._attach(dataset, dims)
        self._set_count(0)

    def _reopen_layout(self):
        f = self._file
        for name, obj in f.items():
            if isinstance(obj, h5py.Dataset) and h5py.h5ds.is_scale(obj.id):
                self._dimids[name] = int(obj.attrs.get("_Netcdf4Dimid", len(self._dimids)))
        problems = []
        time = f.get(self._time_dim)
        if time is None or time.maxshape != (None,) or self._time_dim not in self._dimids:
            problems.append(f"no unlimited time dimension {self._time_dim!r}")
        for dim, values in self._coords.items():
            if dim not in self._dimids:
                problems.append(f"dimension {dim!r} is missing")
                continue
            if isinstance(values, np.ndarray):
                if _is_plain_dim(f[dim]):
                    problems.append(f"dimension {dim!r} has no coordinate values in the file")
                elif not _same_values(f[dim][()], values):
                    problems.append(f"coordinate {dim!r} differs from the file")
            elif f[dim].shape[0] != values:
                problems.append(
                    f"dimension {dim!r} has length {f[dim].shape[0]}, expected {values}"
                )
        for name, shape in self._shapes.items():
            dims = (self._time_dim, *self._variable_dims[name])
            if name not in f:
                problems.append(f"variable {name!r} is missing")
            elif f[name].shape[1:] != shape or _dims_of(f[name]) != dims:
                problems.append(
                    f"variable {name!r} has dims {_dims_of(f[name])} and shape "
                    f"{f[name].shape}, expected dims {dims} and shape (n, *{shape})"
                )
        if problems:
            raise ParameterError(
                f"{str(self._path)!r} does not match the result being continued: "
                + "; ".join(problems)
            )
        lengths = [f[name].shape[0] for name in (self._time_dim, *self._shapes)]
        n = _complete_length(f, self._time_dim, lengths)
        if any(length != n for length in lengths):  # repair what a kill left behind
            for name in (self._time_dim, *self._shapes):
                f[name].resize(n, axis=0)
        self._set_count(n)

    def _make_dimension(self, dataset, name, *, coordinate):
        dimid = max(self._dimids.values(), default=-1) + 1
        dataset.attrs["_Netcdf4Dimid"] = np.int32(dimid)
        if coordinate:
            dataset.make_scale(name)
            dataset.attrs["_Netcdf4Coordinates"] = np.array([dimid], dtype=np.int32)
        else:
            dataset.make_scale(f"{_NOT_A_VARIABLE}{dataset.shape[0]:10d}")
        self._dimids[name] = dimid

    def _create_plain_dim(self, name, size):
        dataset = self._file.create_dataset(name, shape=(size,), dtype=">f4", track_order=True)
        self._make_dimension(dataset, name, coordinate=False)

    def _attach(self, dataset, dims):
        for axis, dim in enumerate(dims):
            dataset.dims[axis].attach_scale(self._file[dim])
        if dims:
            dataset.attrs["_Netcdf4Coordinates"] = np.array(
                [self._dimids[dim] for dim in dims], dtype=np.int32
            )

    # ------------------------------------------------------------------ helpers

    def _set_count(self, n):
        self._n = n
        self._last_time = float(self._file[self._time_dim][n - 1]) if n else None

    def _try_shrink(self, n):
        try:
            for name in (self._time_dim, *self._shapes):
                self._file[name].resize(n, axis=0)
            self._file.flush()
        except Exception:  # the file is broken; open_result/mode "a" still repair it
            pass

    def _check_open(self):
        if self.closed:
            raise OutputError(f"the result writer for {str(self._path)!r} is closed")


def open_result(path):
    """Read a result into memory as an ``xarray.Dataset`` and close the file.

    Uses xarray's h5netcdf engine; the global attribute "parameters" (JSON) is decoded into a
    dict. Snapshots left incomplete by a killed run are dropped (the file is not modified).
    """
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no result file at {str(path)!r}")
    with h5py.File(path, "r") as f:
        time_dim, lengths = _time_dependent_lengths(f)
        n = _complete_length(f, time_dim, list(lengths.values())) if time_dim else None
    if time_dim is None or all(length == n for length in lengths.values()):
        ds = _load(xr, path)
    else:
        with tempfile.TemporaryDirectory(prefix="pdekit-result-") as tmp:
            copy = Path(tmp) / path.name
            shutil.copyfile(path, copy)
            with h5py.File(copy, "r+") as f:
                for name in lengths:
                    f[name].resize(n, axis=0)
            ds = _load(xr, copy)
    parameters = ds.attrs.get("parameters")
    if isinstance(parameters, str):
        ds.attrs["parameters"] = json.loads(parameters)
    return ds


def _load(xr, path):
    # decode_timedelta=False: a time coordinate with units "s" stays float seconds
    return xr.load_dataset(path, engine="h5netcdf", decode_timedelta=False)


# ---------------------------------------------------------------------- module helpers


def _check_name(name, what):
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise ParameterError(f"{what} must be a non-empty string without '/', got {name!r}")
    return name


def _normalize_coords(coords, time_dim):
    out = {}
    for dim, values in dict(coords).items():
        _check_name(dim, "dimension name")
        if dim == time_dim:
            raise ParameterError(
                f"coords must not contain the time dimension {time_dim!r}; it is created "
                f"from the snapshot times"
            )
        if isinstance(values, (int, np.integer)) and not isinstance(values, bool):
            size = int(values)
            if size < 1:
                raise ParameterError(f"dimension {dim!r} must have length >= 1, got {size}")
            out[dim] = size
            continue
        values = np.asarray(values)
        if values.ndim != 1 or values.size == 0:
            raise ParameterError(
                f"coordinate {dim!r} must be a non-empty 1D array, got shape {values.shape}"
            )
        out[dim] = values
    return out


def _normalize_variables(variables, coords, time_dim):
    """({variable: snapshot shape}, {variable: fixed dims})."""
    shapes = {}
    dims_by_variable = {}
    for name, dims in dict(variables).items():
        _check_name(name, "variable name")
        if name == time_dim or name in coords:
            raise ParameterError(f"variable {name!r} has the name of a dimension")
        dims = (dims,) if isinstance(dims, str) else tuple(dims)
        unknown = [dim for dim in dims if dim not in coords]
        if unknown or len(set(dims)) != len(dims):
            raise ParameterError(
                f"variable {name!r} has dims {dims}; each must be a distinct dimension of "
                f"coords {list(coords)} (the time dimension {time_dim!r} is implicit)"
            )
        shapes[name] = tuple(
            len(coords[d]) if isinstance(coords[d], np.ndarray) else coords[d] for d in dims
        )
        dims_by_variable[name] = dims
    return shapes, dims_by_variable


def _snapshot_chunks(shape, itemsize, limit=_CHUNK_BYTES):
    """Chunk shape (1, *shape), split along the leading fixed dims if larger than ``limit``."""
    chunks = list(shape)
    for axis in range(len(chunks)):
        rest = itemsize * math.prod(chunks[axis + 1 :])
        if rest * chunks[axis] <= limit:
            break
        chunks[axis] = max(1, limit // rest)
    return (1, *chunks)


def _storable_array(array, name):
    """Return (array, HDF5 dtype, extra attributes) for a netCDF-4 compatible dataset."""
    data = np.asarray(array)
    kind = data.dtype.kind
    if kind in "US" or (kind == "O" and all(isinstance(v, (str, bytes)) for v in data.flat)):
        strings = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in data.flat]
        return (
            np.array(strings, dtype=object).reshape(data.shape),
            h5py.string_dtype("utf-8"),
            {},
        )
    if kind == "b":  # xarray decodes int8 with attribute dtype="bool" back to bool
        return data.astype(np.int8), np.dtype(np.int8), {"dtype": "bool"}
    if kind not in "iuf":
        raise ParameterError(
            f"{name!r} has dtype {data.dtype}; results hold numbers, bools and strings only"
        )
    return data, data.dtype, {}


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _encode_attr(key, value):
    """Attribute value as stored: JSON for containers, 1-element arrays for numbers."""
    if isinstance(value, (dict, list, tuple)) or value is None:
        return json.dumps(value, default=_json_default)
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        return value  # variable-length UTF-8, read back as str
    if isinstance(value, (bool, np.bool_)):
        return np.array([int(value)], dtype=np.int8)
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = np.atleast_1d(np.asarray(value))
        return number if number.dtype.kind in "iuf" else json.dumps(value)
    if isinstance(value, np.ndarray):
        if value.ndim == 1 and value.size and value.dtype.kind in "iuf":
            return value
        return json.dumps(value.tolist(), default=_json_default)
    raise ParameterError(
        f"attribute {key!r}: cannot store a value of type {type(value).__name__}"
    )


def _set_attr(h5attrs, key, value):
    if not isinstance(key, str) or not key:
        raise ParameterError(f"attribute names must be non-empty strings, got {key!r}")
    if key in _RESERVED_ATTRS:
        raise ParameterError(f"attribute name {key!r} is reserved by netCDF-4/HDF5")
    h5attrs[key] = _encode_attr(key, value)


def _is_plain_dim(dataset):
    name = dataset.attrs.get("NAME", b"")
    if isinstance(name, str):
        name = name.encode()
    return _NOT_A_VARIABLE.encode() in bytes(name)


def _dims_of(dataset):
    """Names of the dimension scales attached to a dataset (a scale is its own dimension)."""
    if h5py.h5ds.is_scale(dataset.id):
        return (dataset.name.rsplit("/", 1)[-1],)
    return tuple(
        dim[len(dim) - 1].name.rsplit("/", 1)[-1] if len(dim) else None for dim in dataset.dims
    )


def _same_values(stored, values):
    if stored.shape != values.shape:
        return False
    if stored.dtype.kind == "O" or values.dtype.kind in "USO":
        decoded = [v.decode() if isinstance(v, bytes) else str(v) for v in stored.flat]
        return decoded == [str(v) for v in values.flat]
    if values.dtype.kind == "f" or stored.dtype.kind == "f":
        return bool(np.allclose(stored, values, rtol=1e-12, atol=0.0))
    return bool(np.array_equal(stored, values))


def _time_dependent_lengths(f):
    """(name of the unlimited dimension or None, {dataset: length along it})."""
    time_dim = None
    for name, obj in f.items():
        if isinstance(obj, h5py.Dataset) and obj.maxshape == (None,) and h5py.h5ds.is_scale(obj.id):
            time_dim = name
            break
    if time_dim is None:
        return None, {}
    lengths = {
        name: obj.shape[0]
        for name, obj in f.items()
        if isinstance(obj, h5py.Dataset) and obj.maxshape and obj.maxshape[0] is None
    }
    return time_dim, lengths


def _complete_length(f, time_dim, lengths):
    """Number of complete snapshots: common length, minus trailing NaN (unwritten) times."""
    n = min(lengths)
    times = f[time_dim][:n]
    while n and np.isnan(times[n - 1]):
        n -= 1
    return n
