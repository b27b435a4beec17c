"""The run loop shared by every grid model: steps, snapshots, progress, guards, checkpoints.

``run(model, initial, t_end=..., cfl=... or dt=..., output=path, snapshots=N)`` advances the state
from ``t_start`` to ``t_end`` and writes ``N + 1`` equally spaced snapshots (the initial state
included). Each interval between snapshots is covered by equal steps no longer than the CFL step,
so snapshot times are hit exactly. Steps run in chunks (the compiled kernels loop over the steps of
a chunk); after each chunk the state is checked for non-finite values. When one is found the
chunk is replayed step by step from its saved start to name the exact step, time and cell, the
results file keeps every snapshot up to the last good one, and :class:`InstabilityError` is raised.

With an output path, a checkpoint ``<output>.ckpt.npz`` is replaced atomically at every snapshot;
``run(..., output=path, restart=True)`` continues from it bit for bit (same model and arguments).
"""
from __future__ import annotations

import json
import math
import os
import time as _time
from pathlib import Path

import numba
import numpy as np

from . import __version__
from .errors import InstabilityError, OutputError, ParameterError
from .timestepping import steps_for

_RUN_KEYS = ("t_start", "t_end", "snapshots", "method", "dt")


def checkpoint_path(output) -> Path:
    return Path(str(output) + ".ckpt.npz")


def _check_time_args(t_start, t_end, snapshots):
    for name, v in (("t_start", t_start), ("t_end", t_end)):
        if not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v):
            raise ParameterError(f"{name} must be a finite number, got {v!r}")
    if not t_end > t_start:
        raise ParameterError(f"t_end must be > t_start, got t_start={t_start}, t_end={t_end}")
    if isinstance(snapshots, bool) or not isinstance(snapshots, (int, np.integer)) or snapshots < 1:
        raise ParameterError(f"snapshots must be an integer >= 1, got {snapshots!r}")


def _progress_bar(total, enabled, desc):
    from tqdm.auto import tqdm

    # disable=None: tqdm switches itself off when stderr is not a terminal
    return tqdm(total=total, disable=None if enabled else True, desc=desc, unit="step",
                dynamic_ncols=True, leave=False)


CHUNK_SECONDS = 0.2


@numba.njit(cache=True)
def has_nonfinite(state, g3):
    """True when an interior entry of a padded state (nvar, A, B, C) is NaN or infinite."""
    for v in range(state.shape[0]):
        for i in range(g3[0], state.shape[1] - g3[0]):
            for j in range(g3[1], state.shape[2] - g3[1]):
                for k in range(g3[2], state.shape[3] - g3[2]):
                    x = state[v, i, j, k]
                    if x - x != 0.0:
                        return True
    return False


#: a positivity-preserving method may produce round-off negatives down to this fraction of max |u|
NEGATIVE_TOLERANCE = 1e-10


@numba.njit(cache=True)
def has_negative(state, g3, rel_tol):
    """True when an interior entry is below ``-rel_tol * max|u|`` (per variable)."""
    for v in range(state.shape[0]):
        big = 0.0
        low = 0.0
        for i in range(g3[0], state.shape[1] - g3[0]):
            for j in range(g3[1], state.shape[2] - g3[1]):
                for k in range(g3[2], state.shape[3] - g3[2]):
                    x = state[v, i, j, k]
                    big = max(big, abs(x))
                    low = min(low, x)
        if low < -rel_tol * big:
            return True
    return False


def _first_bad(interior, positive=False):
    bad = ~np.isfinite(interior)
    if positive and not bad.any():
        scale = np.abs(interior).reshape(interior.shape[0], -1).max(axis=1)
        bad = interior < -NEGATIVE_TOLERANCE * scale.reshape((-1,) + (1,) * (interior.ndim - 1))
    if not bad.any():
        return None
    return tuple(int(i) for i in np.argwhere(bad)[0])


def run(model, initial=None, *, t_end, t_start=0.0, cfl=None, dt=None, method=None, output=None,
        snapshots=10, progress=True, restart=False, attrs=None, chunk_steps=None):
    """Integrate ``model`` from ``initial`` and return the snapshots as an ``xarray.Dataset``.

    Parameters
    ----------
    model : a pdekit grid model (e.g. :class:`pdekit.AdvectionDiffusion`)
    initial : initial data (array of ``grid.shape``, ``(nvar, *grid.shape)``, dict or callable);
        ignored on restart
    t_end, t_start : float
    cfl, dt : float
        Give at most one: the CFL number (default: the model's ``default_cfl``) or a maximum step.
    method : str
        Time integrator (``model.methods``; default ``model.default_method``).
    output : path or None
        HDF5 results file (netCDF4 layout), written and flushed snapshot by snapshot.
    snapshots : int
        Number of output intervals; ``snapshots + 1`` states are stored.
    progress : bool
        Show a progress bar (only when stderr is a terminal).
    restart : bool
        Continue the run recorded in ``output`` from its checkpoint.
    """
    from .io import ResultWriter, check_writable, open_result

    _check_time_args(t_start, t_end, snapshots)
    check = getattr(model, "check_run", None)
    if check is not None:  # model-specific consistency of the time window (e.g. injection within the run)
        check(t_start, t_end)
    method = model.check_method(method)
    if cfl is not None and dt is not None:
        raise ParameterError("give either cfl or dt, not both")
    if dt is not None:
        try:
            dt = float(dt)
        except (TypeError, ValueError):
            raise ParameterError(f"dt must be a positive number, got {dt!r}") from None
        if not math.isfinite(dt) or dt <= 0:
            raise ParameterError(f"dt must be a positive finite number, got {dt!r}")
        dt_max = dt
    else:
        if cfl is None and method in getattr(model, "implicit_methods", ()):
            raise ParameterError(f"method {method!r} is implicit: give dt (or cfl, read as a diffusion number)")
        cfl = model.default_cfl if cfl is None else cfl
        dt_max = model.stable_dt(cfl, method, t=t_start)
    if restart and output is None:
        raise ParameterError("restart=True needs the output path of the run to continue")
    if output is not None:
        output = Path(output)
        if not restart:
            check_writable(output)

    interval = (t_end - t_start) / snapshots
    nsub, step_dt = steps_for(interval, dt_max)
    run_info = dict(t_start=float(t_start), t_end=float(t_end), snapshots=int(snapshots), method=method,
                    dt=step_dt, steps_per_snapshot=nsub, cfl=None if cfl is None else float(cfl))

    k0 = 0
    wall_before = 0.0
    if restart:
        state, k0, wall_before = _load_checkpoint(model, output, run_info)
    else:
        if initial is None:
            initial = getattr(model, "default_initial", None)  # e.g. an empty chromatography column
        if initial is None:
            raise ParameterError("initial data is required (unless restart=True)")
        state = model.state_from(initial)

    stepper = model.stepper(method, step_dt)
    grid = model.grid
    # per-step series a model records between snapshots (e.g. a column's outlet chromatogram): declared
    # once (this also resets the model's record), stored with every snapshot as (t, step) arrays
    layout = getattr(model, "series_layout", None)
    series_coords, series_vars = layout(nsub, step_dt) if layout is not None else ({}, {})
    all_attrs = {"model": model.name, "parameters": model.parameters(), "pdekit_version": __version__,
                 "run": run_info, "status": "running", "wall_time": wall_before}
    if attrs:
        all_attrs.update(attrs)
    writer = None
    memory = []
    if output is not None:
        writer = ResultWriter(output, coords={**grid.coords, **series_coords},
                              variables={**{v: grid.dims for v in model.variables}, **series_vars},
                              attrs=all_attrs, mode="a" if restart else "w")
        if restart:
            writer.truncate(k0 + 1)
        for name, (dims, array) in _static_data(model).items():
            writer.write_static(name, array, dims)
    times = [t_start + k * interval for k in range(snapshots + 1)]
    times[-1] = t_end

    def snapshot(k):
        inner = model.interior(state)
        fields = {v: inner[i] for i, v in enumerate(model.variables)}
        if series_vars:
            fields.update(model.series_take(nsub, state, times[k]))
        if writer is not None:
            writer.write_snapshot(times[k], fields)
            writer.set_attrs(wall_time=wall_before + _time.perf_counter() - t0)
            _save_checkpoint(model, output, state, k, run_info, wall_before + _time.perf_counter() - t0)
        else:
            memory.append((times[k], {v: a.copy() for v, a in fields.items()}))

    if chunk_steps is not None and (isinstance(chunk_steps, bool) or not isinstance(chunk_steps, (int, np.integer))
                                    or chunk_steps < 1):
        raise ParameterError(f"chunk_steps must be an integer >= 1, got {chunk_steps!r}")
    adaptive = chunk_steps is None
    # results do not depend on the chunking: chunks only set how often the state is checked and
    # the progress bar moves; adaptive chunks aim at about CHUNK_SECONDS of stepping each
    chunk = chunk_steps or 1
    saved = np.empty_like(state)
    g3 = np.array(grid.ghost3, dtype=np.int64)
    # models whose method keeps densities non-negative get a positivity guard as well
    check = getattr(model, "positivity_preserving", None)
    positive = bool(check(method)) if check is not None else False
    previous_sigterm = _trap_sigterm()
    t0 = _time.perf_counter()
    status = "running"
    try:
        if not restart:
            snapshot(0)
        bar = _progress_bar((snapshots - k0) * nsub, progress, model.name)
        try:
            for k in range(k0, snapshots):
                done = 0
                while done < nsub:
                    m = min(chunk, nsub - done)
                    np.copyto(saved, state)
                    t_chunk = times[k] + done * step_dt
                    tc = _time.perf_counter()
                    stepper.advance(state, t_chunk, m)
                    if has_nonfinite(state, g3) or (positive and has_negative(state, g3, NEGATIVE_TOLERANCE)):
                        _report_instability(model, stepper, saved, t_chunk, step_dt, m, k * nsub + done, times[k],
                                            positive)
                    if adaptive:
                        elapsed = max(_time.perf_counter() - tc, 1e-6)
                        chunk = int(min(max(1, m * CHUNK_SECONDS / elapsed), 2 * chunk + 1, nsub))
                    done += m
                    bar.update(m)
                snapshot(k + 1)
        finally:
            bar.close()
        status = "completed"
    except InstabilityError as exc:
        status = f"failed: {exc}"
        raise
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except BaseException as exc:
        status = f"failed: {type(exc).__name__}: {exc}"
        raise
    finally:
        _restore_sigterm(previous_sigterm)
        if writer is not None:
            writer.set_attrs(status=status, wall_time=wall_before + _time.perf_counter() - t0)
            writer.close()
    if output is not None:
        return open_result(output)
    return _memory_dataset(model, memory, all_attrs | {"status": status, "wall_time": _time.perf_counter() - t0},
                           series_coords, series_vars)


def _static_data(model) -> dict:
    """Time-independent data a model stores with its results (e.g. a graph): name -> (dims, array)."""
    get = getattr(model, "static_data", None)
    return get() if get is not None else {}


def _trap_sigterm():
    """Turn SIGTERM into KeyboardInterrupt during a run so the file is closed with its status."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        raise KeyboardInterrupt("terminated (SIGTERM)")
    return signal.signal(signal.SIGTERM, handler)


def _restore_sigterm(previous):
    import signal

    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def _report_instability(model, stepper, saved, t_chunk, dt, m, step0, t_last_snapshot, positive=False):
    """Replay a chunk step by step from its start to find the first non-finite (or, for a
    positivity-preserving method, negative) value."""
    state = saved.copy()
    for s in range(m):
        stepper.advance(state, t_chunk + s * dt, 1)
        inner = model.interior(state)
        bad = _first_bad(inner, positive)
        if bad is not None:
            var, cell = model.variables[bad[0]], bad[1:]
            where = ", ".join(f"{d}={c[i]:.6g}" for d, c, i in zip(model.grid.dims, model.grid.centres, cell))
            t_bad = t_chunk + (s + 1) * dt
            value = inner[bad]
            if np.isfinite(value):
                what = f"negative density {value:.3g}"
                advice = ("The method keeps densities non-negative by itself, so something removes more than a "
                          "cell holds: check sinks (negative sources), loss rates and outgoing boundary fluxes.")
            else:
                what = "non-finite value"
                advice = "Reduce the CFL number or dt, or check the coefficients."
            raise InstabilityError(
                f"{what} in {var!r} at t={t_bad:.6g} (step {step0 + s + 1}, dt={dt:.3g}) in cell "
                f"{cell} ({where}); the results keep the snapshots up to t={t_last_snapshot:.6g}. " + advice,
                time=t_bad, step=step0 + s + 1, cell=cell, variable=var)
    raise InstabilityError(f"non-finite or negative value after t={t_chunk:.6g} that a step-by-step replay did "
                           "not reproduce", time=t_chunk, step=step0)


def _save_checkpoint(model, output, state, k, run_info, wall):
    path = checkpoint_path(output)
    tmp = path.with_name(path.name + ".tmp.npz")
    meta = {"model": model.name, "shape": list(model.grid.shape), "snapshot": k, "run": run_info,
            "parameters": json.loads(json.dumps(model.parameters(), default=str)),
            "wall_time": wall, "pdekit_version": __version__}
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, state=state, meta=np.array(json.dumps(meta)))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write checkpoint {path}: {exc}") from exc


def _load_checkpoint(model, output, run_info):
    path = checkpoint_path(output)
    if not path.exists():
        raise OutputError(f"no checkpoint {path} to restart from")
    with np.load(path) as z:
        state = z["state"].copy()
        meta = json.loads(str(z["meta"]))
    if meta["model"] != model.name or tuple(meta["shape"]) != model.grid.shape:
        raise ParameterError(f"checkpoint {path} belongs to model {meta['model']!r} on a grid {meta['shape']}, "
                             f"not {model.name!r} on {list(model.grid.shape)}")
    params = json.loads(json.dumps(model.parameters(), default=str))
    if meta.get("parameters") != params:
        diff = sorted(k for k in set(params) | set(meta.get("parameters", {}))
                      if params.get(k) != meta.get("parameters", {}).get(k))
        raise ParameterError(f"checkpoint {path} was written by a model with other parameters ({', '.join(diff)}); "
                             "restart with the same model")
    saved = meta["run"]
    for key in _RUN_KEYS:
        if saved[key] != run_info[key]:
            raise ParameterError(f"restart must use the same {key} as the original run: "
                                 f"checkpoint has {saved[key]!r}, got {run_info[key]!r}")
    if state.shape != model.allocate().shape:
        raise ParameterError(f"checkpoint state has shape {state.shape}, the model needs {model.allocate().shape}")
    return state, int(meta["snapshot"]), float(meta["wall_time"])


def _memory_dataset(model, memory, attrs, series_coords=None, series_vars=None):
    import xarray as xr

    t = np.array([m[0] for m in memory])
    data = {v: (("t",) + model.grid.dims, np.stack([m[1][v] for m in memory])) for v in model.variables}
    data.update({v: (("t",) + tuple(dims), np.stack([m[1][v] for m in memory])) for v, dims in (series_vars or {}).items()})
    data.update({name: (dims, array) for name, (dims, array) in _static_data(model).items()})
    ds = xr.Dataset(data, coords={"t": t, **model.grid.coords, **(series_coords or {})})
    # same attribute conventions as open_result: JSON for containers, "parameters" as a dict
    ds.attrs.update({k: (json.dumps(v) if isinstance(v, (dict, list, tuple)) else v) for k, v in attrs.items()})
    ds.attrs["parameters"] = attrs["parameters"]
    return ds
