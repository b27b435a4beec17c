"""``pdekit bench chromatography``: time to reach a given error on the outlet chromatogram, pdekit against
CADET-Core (FV-WENO3), on the research note's five column problems, in one run.

Cases (research note chromatography.md, sections 2–3; concentrations normalised as there, one common
output grid per case for both codes):

``LIN-EQ``   linear equilibrium binding, L = 0.1 m, u = 1e-3 m/s, D = 1e-7 m^2/s, eps_t = 0.4, K = 2,
             c0 = 1 for 10 s; outlet 0..800 s every 0.5 s; reference: exact (V1, Danckwerts transfer
             function inverted on the Bromwich line, :func:`pdekit.chromatography.exact.outlet_linear`).
``LIN-KIN``  as LIN-EQ with D = 5e-8 and kinetic binding k_a = 2, k_d = 1 1/s; 0..1000 s every 0.5 s; V1.
``GC-OXY``   the paper's o-xylene GC column (CHROM-GC-7): L = 20 m, u = 0.41 m/s, D = 2.061e-6,
             eps_t = 1/(1 + alpha), alpha = 2 delta/R = 0.02222, k_a = 1.0168e4, k_d = 14.291, 4 s pulse;
             0..1000 s every 0.25 s; V1.
``LANG-1``   single-component Langmuir, rapid equilibrium (q_max = 100, b = 0.02), L = 0.6 m, t0 = 190 s,
             eps_t = 0.7, D = 1e-9, c0 = 10 for 60 s; 0..600 s every 0.1 s; reference: the ideal model
             (V5, shock + centred simple wave, :func:`~pdekit.chromatography.exact.langmuir_ideal_pulse`).
``LANG-2``   CADET-Process' two-component batch-elution example (competitive Langmuir k_a = [0.02, 0.03],
             k_d = 1, q_max = 100, c0 = 10 each for 60 s, L = 0.6 m, D = 4.7e-7, eps_t = 0.7,
             Q = 1 mL/s through d = 0.024 m); 0..600 s every 0.25 s; reference: numerical (V7) — CADET DG
             256 elements P4 (abstol 1e-10, reltol 1e-9) when CADET runs, else pdekit at 3200 cells
             (``--lang2-reference``); cached in ``~/.cache/pdekit/chromatography-bench/``.

Error: ``rel. L1 = sum_k |c(t_k) - c_ref(t_k)| / sum_k |c_ref(t_k)|`` on the output grid, per component.

CADET side (peer): :mod:`pdekit.bench.cadet_runner` run as a script by a Python >= 3.12 interpreter that
has cadet-core and cadet-python (``--cadet-python PATH``, else ``$PDEKIT_CADET_PYTHON``, else
``~/.cache/pdekit/cadet-venv/bin/python``; how to create it: :data:`INSTALL`). Raw cadet-python
configuration of the note: INLET (piecewise cubic, two sections) -> LUMPED_RATE_MODEL_WITHOUT_PORES ->
OUTLET, FV with WENO order 3 (``WENO_EPS`` 1e-10), analytic Jacobian, IDAS abstol/reltol 1e-10/1e-8
(linear) and 1e-8/1e-6 (Langmuir), one thread; ``--cadet-cells`` (default 100, 400, 1600). CADET's time
is the whole cadet-cli run including writing the HDF5 input and reading the results (``wall``, as the
note measured it); CADET's own solve time (``/meta/TIME_SIM``) is reported too, with a second ratio.
Without CADET the benchmark says why and how to install it, and compares with the note's measured
CADET numbers, labelled "CADET (research note, measured elsewhere)" — never presented as measured here.

pdekit side: the user-facing call, timed whole: ``Column(...)`` (set-up, including the sparse LU of the
implicit path) plus ``col.chromatogram(t_end, times=...)``. Linear cases run the implicit ESDIRK3 path
with ``dt = f * col.default_dt(t_end)`` for ``f`` in ``--dt-factors`` (default 1, 2, 4, 8) — the accuracy
knob the implicit path offers; Langmuir cases run explicit WENO5 + SSP-RK3 at ``cfl`` 0.9 with steps chosen
from the state (``Column.chromatogram``; the ``dt s`` column then shows the mean step). Sweep over
``--cells`` (default 100 .. 1600; LANG-1 up to 3200), ascending; a row stops after the first
configuration that reaches the target (larger grids only cost more), except the default-``dt`` row,
which always runs fully (the error/time curve). One warm-up run per case first (numba kernels from the
on-disk cache; its time is reported); the cold compile (fresh process, empty numba cache) is measured
once separately (``--no-compile-probe`` skips it).

Timing: ``--repeats`` rounds (default 3); in every round each CADET configuration runs once and each
pdekit configuration once, CADET and pdekit alternating round by round, so that load on a shared
machine hits both; medians reported, every time in the JSON (``--cadet-repeats`` overrides CADET's
count).

Time to error (per case): target = CADET's error at its finest grid (1600 cells), per component.
"measured": the fastest pdekit configuration whose error is at or below the target on every component
(no interpolation). "interpolated": on the pdekit error/time Pareto frontier, ``log t`` linear in
``log(max_i err_i/target_i)`` between the two frontier points around 1 (if the fastest point already
reaches the target, the measured time is an upper bound). Ratio = CADET wall time at the target grid /
pdekit's measured time (the aim: >= 2 on every case); the interpolated ratio and the ratio against
CADET's own solve time are given too. A case that does not reach the target within the sweep is reported
as not reached (with an extrapolated estimate, flagged).

``--quick``: small grids, one repeat, no CADET (uses the note's numbers), LANG-2 against a 400-cell
pdekit reference: a smoke test for the JSON layout, not a measurement.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

from .peers import _dist_version

__all__ = [
    "CASES", "NOTE_CADET", "INSTALL", "DEFAULT_CADET_PYTHON", "case_names", "output_times", "cadet_spec",
    "make_column", "reference", "rel_l1", "pdekit_run", "find_cadet_python", "cadet_batch", "frontier",
    "time_to_error", "run", "main",
]

_ALPHA_GC = 2e-6 / 9e-5  # GC film: 2 delta / R
_U_LANG2 = 1e-6 / (math.pi * 0.012 ** 2 * 0.7)  # Q / (A eps_t): t0 = 190.0 s

#: the benchmark problems (research note, sections 2–3); tolerances are CADET's
CASES: dict = {
    "LIN-EQ": dict(length=0.1, velocity=1e-3, dispersion=1e-7, porosity=0.4,
                   binding={"kind": "linear", "kinetic": False, "k_a": [2.0], "k_d": [1.0]},
                   c0=[1.0], t_inject=10.0, t_end=800.0, dt_out=0.5, reference="exact-linear",
                   abstol=1e-10, reltol=1e-8),
    "LIN-KIN": dict(length=0.1, velocity=1e-3, dispersion=5e-8, porosity=0.4,
                    binding={"kind": "linear", "kinetic": True, "k_a": [2.0], "k_d": [1.0]},
                    c0=[1.0], t_inject=10.0, t_end=1000.0, dt_out=0.5, reference="exact-linear",
                    abstol=1e-10, reltol=1e-8),
    "GC-OXY": dict(length=20.0, velocity=0.41, dispersion=2.061e-6, porosity=1.0 / (1.0 + _ALPHA_GC),
                   binding={"kind": "linear", "kinetic": True, "k_a": [1.0168e4], "k_d": [14.291]},
                   c0=[1.0], t_inject=4.0, t_end=1000.0, dt_out=0.25, reference="exact-linear",
                   abstol=1e-10, reltol=1e-8),
    "LANG-1": dict(length=0.6, velocity=0.6 / 190.0, dispersion=1e-9, porosity=0.7,
                   binding={"kind": "langmuir", "kinetic": False, "k_a": [0.02], "k_d": [1.0], "q_max": [100.0]},
                   c0=[10.0], t_inject=60.0, t_end=600.0, dt_out=0.1, reference="ideal-langmuir",
                   abstol=1e-8, reltol=1e-6),
    "LANG-2": dict(length=0.6, velocity=_U_LANG2, dispersion=4.7e-7, porosity=0.7,
                   binding={"kind": "langmuir", "kinetic": False, "k_a": [0.02, 0.03], "k_d": [1.0, 1.0],
                            "q_max": [100.0, 100.0]},
                   c0=[10.0, 10.0], t_inject=60.0, t_end=600.0, dt_out=0.25, reference="numerical",
                   abstol=1e-8, reltol=1e-6),
}

#: CADET FV-WENO3 as measured in the research note (section 3; 2-core machine of this kind, cadet-core
#: 5.1.1): cells -> (wall s incl. HDF5 I/O, rel. L1 per component). Used only when CADET cannot run here.
NOTE_CADET: dict = {
    "LIN-EQ": {100: (0.57, [6.6e-2]), 400: (0.97, [2.3e-3]), 1600: (3.9, [6.6e-5])},
    "LIN-KIN": {100: (0.21, [2.6e-2]), 400: (0.68, [1.2e-3]), 1600: (2.1, [4.4e-5])},
    "GC-OXY": {100: (0.57, [7.2e-1]), 400: (3.5, [8.9e-2]), 1600: (15.4, [3.5e-3])},
    "LANG-1": {100: (0.56, [1.2e-1]), 400: (3.6, [3.0e-2]), 1600: (43.7, [7.6e-3])},
    "LANG-2": {100: (0.83, [1.2e-1, 7.4e-2]), 400: (5.1, [1.0e-2, 6.1e-3]), 1600: (22.2, [4.4e-4, 3.6e-4])},
}
NOTE_LABEL = "CADET (research note, measured elsewhere)"

DEFAULT_CADET_PYTHON = Path("~/.cache/pdekit/cadet-venv/bin/python").expanduser()
CACHE_DIR = Path("~/.cache/pdekit/chromatography-bench").expanduser()
INSTALL = textwrap.dedent("""\
    CADET-Core 5.1.1 publishes wheels for CPython >= 3.12 only; create a venv outside the repository:
        pyenv install 3.12.1        # only if no Python >= 3.12 is installed
        ~/.pyenv/versions/3.12.1/bin/python -m venv ~/.cache/pdekit/cadet-venv
        ~/.cache/pdekit/cadet-venv/bin/pip install cadet-core==5.1.1 cadet-python==1.3.0 packaging
    (found there by default; elsewhere: --cadet-python PATH or PDEKIT_CADET_PYTHON=PATH)""")

DEFAULTS = {"cells": [100, 200, 400, 800, 1600], "cells_extra": {"LANG-1": [3200]}, "dt_factors": [1, 2, 4, 8],
            "cadet_cells": [100, 400, 1600], "repeats": 3, "cfl": 0.9, "lang2_reference_cells": 3200,
            "dg_elements": 256, "dg_polydeg": 4}
QUICK = {"cells": [100, 200, 400], "cells_extra": {}, "dt_factors": [4], "repeats": 1,
         "lang2_reference_cells": 400, "cells_lang2": [50, 100, 200]}
RUNNER = Path(__file__).with_name("cadet_runner.py")
AIM = 2.0


def case_names():
    return list(CASES)


def _case(name):
    try:
        return CASES[name]
    except KeyError:
        raise ValueError(f"unknown case {name!r}; expected one of {', '.join(CASES)}") from None


def output_times(name) -> np.ndarray:
    """``0, dt_out, ..., t_end`` of the case (the grid both codes write and the error is taken on)."""
    c = _case(name)
    n = int(round(c["t_end"] / c["dt_out"]))
    return np.arange(n + 1) * c["dt_out"]


def cadet_spec(name, ncol, method="FV-WENO3", **override) -> dict:
    """The request the CADET runner gets for one run (physical data, grid, method, tolerances)."""
    c = _case(name)
    spec = {"case": name, "method": method, "ncol": int(ncol), "weno_eps": 1e-10, "algtol": 1e-12}
    for k in ("length", "velocity", "dispersion", "porosity", "binding", "c0", "t_inject", "t_end", "dt_out",
              "abstol", "reltol"):
        spec[k] = c[k]
    spec.update(override)
    return spec


def make_column(name, cells, scheme="weno5"):
    """pdekit's :class:`~pdekit.chromatography.Column` for the case (same parameters as the CADET spec)."""
    from pdekit.chromatography import Binding, Column, Inlet

    c = _case(name)
    b = c["binding"]
    if b["kind"] == "linear":
        binding = (Binding.linear(b["k_a"], b["k_d"], kinetic=True) if b["kinetic"]
                   else Binding.linear_equilibrium(np.asarray(b["k_a"]) / np.asarray(b["k_d"])))
    else:
        binding = Binding.langmuir(b["k_a"], b["k_d"], b["q_max"], kinetic=b["kinetic"])
    return Column(c["length"], int(cells), c["velocity"], Inlet.pulse(c["c0"], c["t_inject"]), binding=binding,
                  dispersion=c["dispersion"], porosity=c["porosity"], scheme=scheme)


def rel_l1(y, ref) -> list:
    """Per component ``sum |y - ref| / sum |ref|`` (arrays ``(len(times), m)``)."""
    y = np.asarray(y, dtype=float).reshape(len(ref), -1)
    ref = np.asarray(ref, dtype=float).reshape(len(ref), -1)
    return [float(v) for v in np.abs(y - ref).sum(axis=0) / np.abs(ref).sum(axis=0)]


def pdekit_run(name, cells, dt_factor=None, cfl=DEFAULTS["cfl"], times=None):
    """One whole pdekit run: ``(c_out, seconds, info)``; ``seconds`` covers ``Column(...)`` and
    ``chromatogram``. ``dt_factor`` (implicit path) multiplies ``col.default_dt(t_end)``."""
    c = _case(name)
    t = output_times(name) if times is None else times
    t0 = time.perf_counter()
    col = make_column(name, cells)
    if col.linear:
        dt = (dt_factor or 1.0) * col.default_dt(c["t_end"])
        _, y = col.chromatogram(c["t_end"], times=t, dt=dt)
        info = {"method": col.default_method, "dt": dt, "dt_factor": dt_factor or 1.0}
    else:
        _, y = col.chromatogram(c["t_end"], times=t, cfl=cfl)
        # rapid equilibrium chooses every step from the state: report the mean step actually taken
        steps = sum(len(a) for a in col.outlet_times)
        info = {"method": col.default_method, "cfl": cfl, "dt": c["t_end"] / steps, "steps": steps}
    sec = time.perf_counter() - t0
    info.update(scheme=col.scheme)
    return y, sec, info


# --------------------------------------------------------------------------------------------------
# references


def _cache_path(tag, payload):
    h = hashlib.sha256(json.dumps(payload, sort_keys=True, default=float).encode()).hexdigest()[:16]
    return CACHE_DIR / f"{tag}-{h}.npz"


def _cached(tag, payload, use_cache, compute):
    path = _cache_path(tag, payload)
    if use_cache and path.exists():
        with np.load(path) as z:
            return z["c"], {**json.loads(str(z["info"])), "cached": str(path)}
    c, info = compute()
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, c=c, info=json.dumps(info, default=float))
            info = {**info, "cache_written": str(path)}
        except OSError:
            pass
    return c, info


def reference(name, *, lang2="pdekit", cadet_python=None, lang2_cells=DEFAULTS["lang2_reference_cells"],
              use_cache=True, dg=(DEFAULTS["dg_elements"], DEFAULTS["dg_polydeg"])):
    """``(c_ref (len(times), m), info)`` of the case. LANG-2: ``lang2="cadet-dg"`` (needs ``cadet_python``)
    or ``"pdekit"`` (``lang2_cells`` cells)."""
    from pdekit.chromatography.exact import langmuir_ideal_pulse, outlet_linear

    c = _case(name)
    t = output_times(name)
    F = (1.0 - c["porosity"]) / c["porosity"]
    b = c["binding"]
    t0 = time.perf_counter()
    if c["reference"] == "exact-linear":
        kw = (dict(k_a=b["k_a"][0], k_d=b["k_d"][0], kinetic=True) if b["kinetic"]
              else dict(K=b["k_a"][0] / b["k_d"][0]))
        y = outlet_linear(t, c["length"], c["velocity"], c["dispersion"], F, c0=c["c0"][0], t1=c["t_inject"], **kw)
        return y[:, None], {"kind": "exact (V1: Danckwerts transfer function, Bromwich-line FFT)",
                            "seconds": time.perf_counter() - t0}
    if c["reference"] == "ideal-langmuir":
        y = langmuir_ideal_pulse(t, c["length"], c["velocity"], F, b["q_max"][0], b["k_a"][0] / b["k_d"][0],
                                 c["c0"][0], c["t_inject"])
        return y[:, None], {"kind": "exact ideal model (V5: shock + centred simple wave, D = 0)",
                            "seconds": time.perf_counter() - t0}
    if lang2 == "cadet-dg":
        spec = cadet_spec(name, dg[0], method="DG", polydeg=dg[1], abstol=1e-10, reltol=1e-9)

        def compute():
            out = cadet_batch(cadet_python, [spec], 1)
            r = out["results"][0]
            if "error" in r:
                raise RuntimeError(f"CADET DG reference failed: {r['error']}")
            return (np.asarray(r["c_out"], dtype=float),
                    {"kind": f"numerical: CADET DG {dg[0]} elements P{dg[1]} (abstol 1e-10, reltol 1e-9)",
                     "cadet_version": out.get("cadet_version"), "seconds": r["seconds"]["wall"]})

        return _cached(f"{name}-cadet-dg", {"spec": spec, "v": 1}, use_cache, compute)

    def compute():
        y, sec, info = pdekit_run(name, lang2_cells)
        return y, {"kind": f"numerical: pdekit at {lang2_cells} cells (WENO5 + SSP-RK3, cfl 0.9) — a "
                           "self-reference, biased towards pdekit", "seconds": sec}

    from .peers import _dist_version as dv

    return _cached(f"{name}-pdekit-{lang2_cells}", {"case": c, "cells": lang2_cells, "pdekit": dv("pdekit"),
                                                      "source": _source_hash()}, use_cache, compute)


def _source_hash():
    """Hash of pdekit.chromatography's sources (a cached pdekit reference is recomputed when they change)."""
    import pdekit.chromatography as pc

    h = hashlib.sha256()
    for f in sorted(Path(pc.__file__).parent.glob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------------------------------
# CADET


def find_cadet_python(explicit=None):
    """``(path, source, reason)``: the interpreter to run :mod:`cadet_runner` with, or ``(None, None,
    why not)``. Order: ``explicit`` (``--cadet-python``), ``$PDEKIT_CADET_PYTHON``, the default venv."""
    for cand, source in ((explicit, "--cadet-python"), (os.environ.get("PDEKIT_CADET_PYTHON"), "PDEKIT_CADET_PYTHON"),
                         (str(DEFAULT_CADET_PYTHON), "default venv")):
        if not cand:
            continue
        p = Path(cand).expanduser()
        if not p.exists():
            if source != "default venv":
                return None, source, f"{source} = {cand}: no such file"
            return None, None, f"no interpreter given and {DEFAULT_CADET_PYTHON} does not exist"
        return p, source, None
    return None, None, "no interpreter found"


def cadet_batch(python, specs, repeats=1, timeout=7200.0, probe=False) -> dict:
    """Run :mod:`cadet_runner` under ``python`` on ``specs``; the parsed JSON (``ok`` false on failure)."""
    req = {"probe": True} if probe else {"runs": specs, "repeats": int(repeats)}
    try:
        proc = subprocess.run([str(python), str(RUNNER)], input=json.dumps(req), capture_output=True, text=True,
                              timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip().startswith("{")]
    if not lines:
        tail = (proc.stderr or proc.stdout).strip()[-1500:]
        return {"ok": False, "error": f"the CADET runner printed no JSON (exit {proc.returncode}): {tail}"}
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        return {"ok": False, "error": f"unreadable runner output: {exc}"}


# --------------------------------------------------------------------------------------------------
# time to error


def _normalised(err, target):
    return max(e / t for e, t in zip(err, target))


def frontier(points):
    """Pareto frontier of ``points`` (dicts with ``seconds`` and ``e``): sorted by time, each point with a
    smaller ``e`` than every faster one."""
    out = []
    for p in sorted(points, key=lambda p: p["seconds"]):
        if not out or p["e"] < out[-1]["e"]:
            out.append(p)
    return out


def time_to_error(points, target) -> dict:
    """Time for pdekit to reach ``target`` (per-component errors). ``points``: dicts with ``seconds``,
    ``error`` (list) and a ``config``. Returns the measured (fastest configuration at or below the target)
    and the log-log interpolated time on the frontier."""
    pts = [dict(p, e=_normalised(p["error"], target)) for p in points if p.get("seconds")]
    if not pts:
        return {"reached": False, "measured": None, "interpolated": None, "text": "no pdekit points"}
    ok = [p for p in pts if p["e"] <= 1.0]
    front = frontier(pts)
    res = {"reached": bool(ok), "measured": None, "interpolated": None, "interpolation": None,
           "frontier": [{"config": p["config"], "seconds": p["seconds"], "e": p["e"]} for p in front]}
    if ok:
        best = min(ok, key=lambda p: p["seconds"])
        res["measured"] = {"seconds": best["seconds"], "config": best["config"], "error": best["error"]}
        i = next(k for k, p in enumerate(front) if p["e"] <= 1.0)
        if i == 0:
            res["interpolated"] = best["seconds"]
            res["interpolation"] = "upper bound (the fastest configuration already reaches the target)"
        else:
            a, b = front[i - 1], front[i]
            res["interpolated"] = _loglog(a, b)
            res["interpolation"] = "log-log between frontier points"
        return res
    if len(front) >= 2 and front[-1]["e"] < front[-2]["e"]:
        res["extrapolated"] = _loglog(front[-2], front[-1])
    return res


def _loglog(a, b):
    la, lb = math.log(a["e"]), math.log(b["e"])
    if la == lb:
        return b["seconds"]
    s = (0.0 - la) / (lb - la)
    return math.exp(math.log(a["seconds"]) + s * (math.log(b["seconds"]) - math.log(a["seconds"])))


# --------------------------------------------------------------------------------------------------
# compile probe


_PROBE = r"""
import json, time, sys
t0 = time.perf_counter()
import pdekit.bench.chromatography as cb
t1 = time.perf_counter()
out = {"import_seconds": t1 - t0}
for name, cells in (("LANG-2", 40), ("LANG-1", 40), ("LIN-KIN", 40)):
    _, sec, _ = cb.pdekit_run(name, cells)
    out[name] = sec
print(json.dumps(out))
"""


def compile_probe(cold=True) -> dict:
    """First calls in a fresh process (40-cell LANG-2, LANG-1, LIN-KIN); ``cold``: an empty numba cache
    (``NUMBA_CACHE_DIR`` set to a new directory), i.e. the compile cost a first-time user pays."""
    env = dict(os.environ)
    tmp = tempfile.mkdtemp(prefix="pdekit-numba-") if cold else None
    if cold:
        env["NUMBA_CACHE_DIR"] = tmp
    try:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, timeout=900)
        total = time.perf_counter() - t0
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            return {"error": (proc.stderr or proc.stdout).strip()[-800:]}
        r = json.loads(lines[-1])
        r.update(process_seconds=total, cold_cache=cold,
                 first_calls_seconds=sum(v for k, v in r.items() if k in CASES))
        return r
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# report helpers


def _e(v):
    if v is None:
        return "-"
    if isinstance(v, (list, tuple)):
        return "/".join(_e(x) for x in v)
    return f"{v:.2e}"


def _s(v):
    return "-" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def _x(v):
    return "-" if v is None else f"{v:.1f}x"


def _median(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def _config_str(cfg):
    if cfg is None:
        return "-"
    s = f"{cfg['cells']} cells"
    if "dt_factor" in cfg:
        s += f", dt {cfg['dt']:.3g} s"
    return s


def _versions(cadet) -> dict:
    import scipy

    v = {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
         "numba": _dist_version("numba"), "pdekit": _dist_version("pdekit")}
    if cadet:
        v.update({k: cadet.get(k) for k in ("cadet_core_version", "cadet_python_version", "cadet_commit")})
        v["cadet_python_interpreter"] = cadet.get("python")
    return v


def _machine():
    info = {"cpu_count": os.cpu_count(), "platform": platform.platform()}
    try:
        info["loadavg_start"] = os.getloadavg()
    except OSError:  # pragma: no cover
        pass
    return info


# --------------------------------------------------------------------------------------------------
# the benchmark


def run(cases=None, *, quick=False, repeats=None, cadet_repeats=None, cells=None, dt_factors=None,
        cadet_cells=None, cadet_python=None, use_cadet=True, lang2_reference="auto", lang2_cells=None,
        use_cache=True, compile_probe_on=True, full_sweep=False, out=print) -> dict:
    """The whole benchmark; prints the tables and returns the JSON record."""
    base = dict(DEFAULTS, **QUICK) if quick else dict(DEFAULTS)
    cases = list(cases or CASES)
    for c in cases:
        _case(c)
    repeats = int(repeats or base["repeats"])
    cadet_repeats = int(cadet_repeats or repeats)
    cells_list = sorted(int(n) for n in (cells or base["cells"]))
    dt_factors = [float(f) for f in (dt_factors or base["dt_factors"])]
    cadet_cells = sorted(int(n) for n in (cadet_cells or base["cadet_cells"]))
    lang2_cells = int(lang2_cells or base["lang2_reference_cells"])
    if repeats < 1 or cadet_repeats < 1:
        raise ValueError("repeats must be >= 1")

    t_start = time.perf_counter()
    machine = _machine()
    record = {"quick": quick, "cases": [], "repeats": repeats, "cadet_repeats": cadet_repeats,
              "cells": cells_list, "dt_factors": dt_factors, "cadet_cells": cadet_cells, "aim_ratio": AIM}

    # ---- CADET available?
    cadet = None
    cadet_reason = None
    py = None
    if use_cadet:
        py, source, why = find_cadet_python(cadet_python)
        if py is None:
            cadet_reason = why
        else:
            probe = cadet_batch(py, [], probe=True, timeout=300)
            if probe.get("ok"):
                cadet = dict(probe, interpreter=str(py), source=source)
            else:
                cadet_reason = f"{py} ({source}): {probe.get('error')}"
    else:
        cadet_reason = "not requested (--no-cadet" + (" / --quick)" if quick else ")")
    record["cadet"] = ({k: v for k, v in cadet.items() if k != "results"} if cadet
                       else {"available": False, "reason": cadet_reason})
    if cadet:
        record["cadet"]["available"] = True
    versions = _versions(cadet)
    out(f"pdekit {versions['pdekit']}, numpy {versions['numpy']}, scipy {versions['scipy']}, numba "
        f"{versions['numba']}, Python {versions['python']}; {machine['cpu_count']} CPUs"
        + (f", load average {machine['loadavg_start'][0]:.2f}" if "loadavg_start" in machine else ""))
    if cadet:
        out(f"CADET-Core {cadet.get('cadet_core_version')} (cadet-cli {cadet.get('cadet_version')}, commit "
            f"{str(cadet.get('cadet_commit'))[:8]}), cadet-python {cadet.get('cadet_python_version')}, Python "
            f"{cadet.get('python')} at {cadet['interpreter']} ({cadet['source']}); one thread")
    else:
        out(f"CADET-Core: not available — {cadet_reason}.")
        if use_cadet:
            out(textwrap.indent(INSTALL, "  "))
        out(f"The CADET column below is '{NOTE_LABEL}': FV-WENO3 numbers from the research note "
            "(chromatography.md section 3), not a run on this machine. Caution: CADET 5.1.1 run by this "
            "benchmark on a machine of the same kind took 1.7-2.9x less wall time than these numbers (same "
            "errors), so ratios against them overstate pdekit's lead.")

    if quick:
        out("--quick: small grids, one repeat, LANG-2 against a coarse pdekit reference — a smoke test of the "
            "benchmark, not a measurement")
    lang2_mode = lang2_reference
    if lang2_mode == "auto":
        lang2_mode = "cadet-dg" if cadet else "pdekit"
    if lang2_mode == "cadet-dg" and not cadet:
        raise RuntimeError("--lang2-reference cadet-dg needs CADET")

    # ---- warm-up: one 50-cell run per case (numba kernels from the on-disk cache, lazy imports)
    warm = {}
    for name in cases:
        t0 = time.perf_counter()
        pdekit_run(name, 50)
        warm[name] = time.perf_counter() - t0

    # ---- references
    refs = {}
    for name in cases:
        try:
            refs[name] = reference(name, lang2=lang2_mode, cadet_python=py, lang2_cells=lang2_cells,
                                   use_cache=use_cache)
        except RuntimeError as exc:
            if name == "LANG-2" and lang2_mode == "cadet-dg":
                out(f"LANG-2: {exc}; falling back to the pdekit reference")
                refs[name] = reference(name, lang2="pdekit", lang2_cells=lang2_cells, use_cache=use_cache)
            else:
                raise

    # ---- CADET round 0
    cadet_runs = {name: {} for name in cases}
    cadet_specs = [cadet_spec(name, n) for name in cases for n in cadet_cells]
    if cadet:
        res = cadet_batch(py, cadet_specs, 1)
        if not res.get("ok"):
            raise RuntimeError(f"CADET runner failed: {res.get('error')}")
        for spec, r in zip(cadet_specs, res["results"]):
            cadet_runs[spec["case"]][spec["ncol"]] = r

    # ---- targets: CADET's error on its finest grid (the note's 1600-cell numbers without CADET)
    target_cells = max(cadet_cells) if cadet else 1600
    record["target_cells"] = target_cells
    targets = {}
    for name in cases:
        m = len(CASES[name]["c0"])
        if cadet:
            fin = cadet_runs[name].get(max(cadet_cells))
            if fin is None or "error" in fin:
                targets[name] = None
            else:
                targets[name] = rel_l1(fin["c_out"], refs[name][0])
        else:
            note = NOTE_CADET[name][target_cells]
            targets[name] = list(note[1]) if len(note[1]) == m else [note[1][0]] * m

    sweeps = {}
    for name in cases:
        c = CASES[name]
        linear = c["binding"]["kind"] == "linear"
        cl = list(cells_list)
        if quick and name == "LANG-2":
            cl = list(QUICK["cells_lang2"])
        if not quick and not cells:
            cl = sorted(set(cl) | set(base["cells_extra"].get(name, [])))
        rows = [[(n, f) for n in cl] for f in dt_factors] if linear else [[(n, None) for n in cl]]
        # the row that always runs fully (the error/time curve): dt factor 1 (else the first), or the
        # explicit row when full_sweep; other rows stop after the first configuration at the target
        curve = (dt_factors.index(1.0) if 1.0 in dt_factors else 0) if linear else None
        pts = []
        tgt = targets[name]
        for k, row in enumerate(rows):
            full = full_sweep or k == curve
            for n, f in row:
                y, sec, info = pdekit_run(name, n, f)
                err = rel_l1(y, refs[name][0])
                cfg = {"cells": n, **({"dt_factor": f, "dt": info["dt"]} if linear else {"cfl": info["cfl"]})}
                pts.append({"config": cfg, "error": err, "seconds_all": [sec], "method": info["method"],
                            "scheme": info["scheme"], "c_min": float(np.min(y)), "dt": info["dt"]})
                if not full and tgt is not None and _normalised(err, tgt) <= 1.0:
                    break
        sweeps[name] = pts

    # ---- further rounds, CADET and pdekit alternating
    for r in range(1, max(repeats, cadet_repeats)):
        if cadet and r < cadet_repeats:
            res = cadet_batch(py, cadet_specs, 1)
            if res.get("ok"):
                for spec, rr in zip(cadet_specs, res["results"]):
                    prev = cadet_runs[spec["case"]].get(spec["ncol"])
                    if prev and "error" not in prev and "error" not in rr:
                        for k, v in rr["seconds_all"].items():
                            prev["seconds_all"][k].extend(v)
        if r < repeats:
            for name in cases:
                for p in sweeps[name]:
                    cfg = p["config"]
                    _, sec, _ = pdekit_run(name, cfg["cells"], cfg.get("dt_factor"))
                    p["seconds_all"].append(sec)

    # ---- report
    summary = []
    for name in cases:
        c = CASES[name]
        ref, ref_info = refs[name]
        m = len(c["c0"])
        out("")
        out(f"{name}: reference {ref_info['kind']}; rel. L1 on 0..{c['t_end']:g} s every {c['dt_out']:g} s"
            + (" (components A/B)" if m > 1 else ""))
        case_rec = {"case": name, "parameters": c, "reference": {k: v for k, v in ref_info.items()},
                    "target": targets[name], "pdekit": {"warmup_seconds": warm[name]}}
        # CADET rows
        crow = []
        if cadet:
            out(f"  CADET FV-WENO3 (measured here; abstol {c['abstol']:g}, reltol {c['reltol']:g}; wall = whole "
                "cadet-cli run incl. HDF5 I/O, solve = CADET's TIME_SIM)")
            out(f"    {'cells':>6s} {'rel L1':>19s} {'wall s':>8s} {'solve s':>8s}   note: rel L1, wall s")
            for n in cadet_cells:
                r = cadet_runs[name].get(n)
                note = NOTE_CADET[name].get(n)
                nt = f"   {_e(note[1])}, {_s(note[0])}" if note else ""
                if r is None or "error" in r:
                    out(f"    {n:6d} failed: {r.get('error') if r else 'not run'}")
                    crow.append({"cells": n, "error_message": r.get("error") if r else "not run"})
                    continue
                err = rel_l1(r["c_out"], ref)
                sec = {k: _median(v) for k, v in r["seconds_all"].items()}
                crow.append({"cells": n, "error": err, "seconds": sec, "seconds_all": r["seconds_all"],
                             "c_min": float(np.min(r["c_out"])), "note": note and {"wall": note[0], "error": note[1]}})
                out(f"    {n:6d} {_e(err):>19s} {_s(sec['wall']):>8s} {_s(sec['time_sim']):>8s}{nt}")
            case_rec["cadet"] = {"source": "measured", "runs": crow}
        else:
            out(f"  {NOTE_LABEL}: FV-WENO3")
            out(f"    {'cells':>6s} {'rel L1':>19s} {'wall s':>8s}")
            for n in sorted(NOTE_CADET[name]):
                note = NOTE_CADET[name][n]
                if note:
                    crow.append({"cells": n, "error": note[1], "seconds": {"wall": note[0], "time_sim": None}})
                    out(f"    {n:6d} {_e(note[1]):>19s} {_s(note[0]):>8s}")
            case_rec["cadet"] = {"source": "research note", "label": NOTE_LABEL, "runs": crow}
        # pdekit rows
        pts = sweeps[name]
        for p in pts:
            p["seconds"] = _median(p["seconds_all"])
        first = pts[0]
        desc = (f"implicit {first['method']} + {first['scheme']}-linear FV, dt = f x default_dt"
                if c["binding"]["kind"] == "linear" else f"explicit {first['scheme']} + {first['method']}, cfl "
                f"{first['config']['cfl']:g}")
        out(f"  pdekit ({desc}; warm-up {warm[name]:.2f} s; median of {repeats})")
        out(f"    {'cells':>6s} {'dt s':>8s} {'rel L1':>19s} {'s':>8s}   reaches target"
            + ("" if c["binding"]["kind"] == "linear" else "   (dt: mean of the state-dependent steps)"))
        tgt = targets[name]
        for p in pts:
            reach = "-" if tgt is None else ("yes" if _normalised(p["error"], tgt) <= 1 else "")
            out(f"    {p['config']['cells']:6d} {p['dt']:8.3g} {_e(p['error']):>19s} {_s(p['seconds']):>8s}   {reach}")
        case_rec["pdekit"]["sweep"] = pts
        # time to error
        fin = next((r for r in crow if r["cells"] == target_cells and "error" in r), None)
        t_c = fin["seconds"]["wall"] if fin else None
        t_cs = fin["seconds"].get("time_sim") if fin else None
        tte = time_to_error(pts, tgt) if tgt is not None else {"reached": False, "measured": None,
                                                                  "interpolated": None}
        meas = tte["measured"]["seconds"] if tte.get("measured") else None
        ratio = t_c / meas if (t_c and meas) else None
        ratio_i = t_c / tte["interpolated"] if (t_c and tte.get("interpolated")) else None
        ratio_s = t_cs / meas if (t_cs and meas) else None
        ext = tte.get("extrapolated")
        ratio_x = t_c / ext if (t_c and ext and not meas) else None
        # not reached within the sweep: the aim is not met (an extrapolated ratio is shown, never counted)
        aim = (ratio >= AIM) if ratio is not None else (False if (tgt is not None and t_c) else None)
        if quick:
            aim = None  # tiny grids: not a measurement
        src = "CADET" if cadet else "note"
        out(f"  target: {src} FV-WENO3 {target_cells}-cell rel. L1 {_e(tgt)} ({_s(t_c)} s)")
        if tte.get("measured"):
            out(f"  pdekit time to target: {_s(meas)} s measured ({_config_str(tte['measured']['config'])}, "
                f"rel. L1 {_e(tte['measured']['error'])}); {_s(tte['interpolated'])} s interpolated "
                f"[{tte['interpolation']}]")
            out(f"  ratio {src} / pdekit: {_x(ratio)} measured, {_x(ratio_i)} interpolated"
                + (f", {_x(ratio_s)} against CADET's solve time" if ratio_s else "")
                + f" — aim >= {AIM:g}: {'not assessed (--quick)' if aim is None else 'met' if aim else 'NOT met'}")
        else:
            best = min(pts, key=lambda p: _normalised(p["error"], tgt)) if tgt is not None else None
            out("  pdekit does NOT reach the target within the sweep"
                + (f" (closest: {_config_str(best['config'])}, rel. L1 {_e(best['error'])}, {_s(best['seconds'])} s"
                   f" = {_normalised(best['error'], tgt):.4g} x target)" if best else "")
                + (f"; extrapolated {_s(ext)} s, ratio ~{_x(ratio_x)} (not counted)" if ext else "")
                + (f" — aim >= {AIM:g}: NOT met" if aim is False else ""))
        case_rec["time_to_error"] = tte
        case_rec["ratio"] = {"cadet_wall_over_pdekit": ratio, "cadet_wall_over_pdekit_interpolated": ratio_i,
                             "cadet_solve_over_pdekit": ratio_s, "cadet_source": case_rec["cadet"]["source"],
                             "cadet_wall_over_pdekit_extrapolated": ratio_x, "reached": bool(tte.get("reached")),
                             "aim": AIM, "aim_met": aim}
        if c["binding"]["kind"] == "linear" and tgt is not None and len({p["config"]["dt_factor"] for p in pts}) > 1:
            # the same question without tuning dt: only the default-dt row
            row1 = [p for p in pts if p["config"]["dt_factor"] == 1.0]
            t1 = time_to_error(row1, tgt) if row1 else None
            m1 = t1["measured"]["seconds"] if t1 and t1.get("measured") else None
            r1 = t_c / m1 if (t_c and m1) else None
            case_rec["time_to_error_default_dt"] = t1
            case_rec["ratio"]["cadet_wall_over_pdekit_default_dt"] = r1
            if t1 is not None:
                out("  with the default dt only: "
                    + (f"{_s(m1)} s ({_config_str(t1['measured']['config'])}), ratio {_x(r1)}"
                       + ("" if r1 is None or r1 >= AIM else f" (below the aim of {AIM:g})") if m1 else
                       "target not reached"))
        record["cases"].append(case_rec)
        summary.append({"case": name, "cadet_source": case_rec["cadet"]["source"], "target": tgt,
                        "cadet_seconds": t_c, "cadet_solve_seconds": t_cs,
                        "pdekit_config": tte["measured"]["config"] if tte.get("measured") else None,
                        "pdekit_error": tte["measured"]["error"] if tte.get("measured") else None,
                        "pdekit_seconds": meas, "pdekit_seconds_interpolated": tte.get("interpolated"),
                        "pdekit_seconds_extrapolated": tte.get("extrapolated"),
                        "ratio": ratio, "ratio_interpolated": ratio_i, "ratio_solve": ratio_s,
                        "ratio_extrapolated": ratio_x, "reached": bool(tte.get("reached")), "aim_met": aim,
                        "ratio_default_dt": case_rec["ratio"].get("cadet_wall_over_pdekit_default_dt")})

    out("")
    label = "CADET FV-WENO3 (measured here)" if cadet else NOTE_LABEL
    out(f"Summary — time to reach {label}'s {target_cells}-cell error; ratio = CADET wall / pdekit "
        f"(aim >= {AIM:g})")
    out(f"  {'case':8s} {'target rel L1':>19s} {'CADET s':>8s} {'pdekit config':>24s} {'pdekit s':>9s} "
        f"{'interp s':>9s} {'ratio':>7s} {'interp':>7s} {'vs solve':>8s}  aim")
    for srow in summary:
        extra = ""
        if srow["pdekit_seconds"] is None:
            extra = " (target not reached within the sweep" + (
                f"; extrapolated {_s(srow['pdekit_seconds_extrapolated'])} s, ratio ~{_x(srow['ratio_extrapolated'])}"
                if srow["pdekit_seconds_extrapolated"] else "") + ")"
        out(f"  {srow['case']:8s} {_e(srow['target']):>19s} {_s(srow['cadet_seconds']):>8s} "
            f"{_config_str(srow['pdekit_config']):>24s} {_s(srow['pdekit_seconds']):>9s} "
            f"{_s(srow['pdekit_seconds_interpolated']):>9s} {_x(srow['ratio']):>7s} "
            f"{_x(srow['ratio_interpolated']):>7s} {_x(srow['ratio_solve']):>8s}  "
            f"{'met' if srow['aim_met'] else ('NOT met' if srow['aim_met'] is False else 'n/a')}"
            f"{'' if cadet or srow['aim_met'] is None else ' (vs note)'}{extra}")
    missed = [s["case"] for s in summary if s["aim_met"] is False]
    undecided = [s["case"] for s in summary if s["aim_met"] is None]
    record["summary"] = summary
    record["aim_met_all"] = not missed and not undecided
    record["aim_assessed_against"] = "CADET measured in this run" if cadet else NOTE_LABEL
    out(f"aim (ratio >= {AIM:g} on every case): " + ("not assessed (--quick)" if quick else
        "met" if not (missed or undecided) else
        ", ".join(x for x in (f"NOT met on {', '.join(missed)}" if missed else "",
                              f"undecided on {', '.join(undecided)}" if undecided else "") if x))
        + ("" if cadet or quick else f" — against {NOTE_LABEL}, not CADET on this machine (see the caution above)"))

    if compile_probe_on and not quick:
        cp = compile_probe(cold=True)
        record["compile_probe"] = cp
        if "error" in cp:
            out(f"numba compile probe failed: {cp['error']}")
        else:
            out(f"numba compile (fresh process, empty cache): first calls of 40-cell LANG-2, LANG-1, LIN-KIN "
                f"{cp['first_calls_seconds']:.1f} s (import {cp['import_seconds']:.2f} s); afterwards cached on disk")
    record["versions"] = versions
    try:
        machine["loadavg_end"] = os.getloadavg()
    except OSError:  # pragma: no cover
        pass
    record["machine"] = machine
    record["lang2_reference"] = lang2_mode
    record["wall_seconds"] = time.perf_counter() - t_start
    out(f"total wall time {record['wall_seconds']:.1f} s")
    return record


def _int_list(text):
    try:
        v = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not v or min(v) < 5:
        raise argparse.ArgumentTypeError(f"cells must be integers >= 5, got {text!r}")
    return v


def _float_list(text):
    try:
        v = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not v or min(v) <= 0:
        raise argparse.ArgumentTypeError(f"factors must be > 0, got {text!r}")
    return v


def _cases_arg(text):
    names = [x.strip() for x in text.split(",") if x.strip()]
    bad = [n for n in names if n not in CASES]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown case(s) {bad or text!r}; accepted: {', '.join(CASES)}")
    return names


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="pdekit bench chromatography", description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--quick", action="store_true", help="small grids, one repeat, no CADET (smoke test)")
    ap.add_argument("--cases", type=_cases_arg, default=None, help=f"comma-separated subset of {', '.join(CASES)}")
    ap.add_argument("--repeats", type=int, default=None, help="timing rounds, medians reported (default 3)")
    ap.add_argument("--cadet-repeats", type=int, default=None, help="rounds for CADET (default: --repeats)")
    ap.add_argument("--cells", type=_int_list, default=None, help="pdekit cells, comma-separated "
                    "(default 100,200,400,800,1600; LANG-1 also 3200)")
    ap.add_argument("--dt-factors", type=_float_list, default=None,
                    help="implicit path: dt = f x default_dt for these f (default 1,2,4,8)")
    ap.add_argument("--full-sweep", action="store_true", help="run every configuration (no early stop)")
    ap.add_argument("--cadet-cells", type=_int_list, default=None, help="CADET cells (default 100,400,1600); "
                    "the largest sets the target")
    ap.add_argument("--cadet-python", metavar="PATH", default=None,
                    help=f"Python >= 3.12 with cadet-core + cadet-python (default $PDEKIT_CADET_PYTHON, else "
                         f"{DEFAULT_CADET_PYTHON})")
    ap.add_argument("--no-cadet", action="store_true", help="do not run CADET; compare with the research note")
    ap.add_argument("--lang2-reference", choices=["auto", "cadet-dg", "pdekit"], default="auto",
                    help="LANG-2 reference: CADET DG 256 x P4 (auto when CADET runs) or pdekit on a fine grid")
    ap.add_argument("--lang2-reference-cells", type=int, default=None, help="cells of the pdekit LANG-2 reference "
                    "(default 3200)")
    ap.add_argument("--no-cache", action="store_true", help=f"recompute the LANG-2 reference (cache: {CACHE_DIR}; "
                    "never used by --quick)")
    ap.add_argument("--no-compile-probe", action="store_true", help="skip the cold-cache numba compile probe")
    args = ap.parse_args(argv)
    for k in ("repeats", "cadet_repeats"):
        v = getattr(args, k)
        if v is not None and v < 1:
            ap.error(f"--{k.replace('_', '-')} must be >= 1")
    use_cadet = not args.no_cadet and (not args.quick or args.cadet_python is not None)
    try:
        rec = run(args.cases, quick=args.quick, repeats=args.repeats, cadet_repeats=args.cadet_repeats,
                  cells=args.cells, dt_factors=args.dt_factors, cadet_cells=args.cadet_cells,
                  cadet_python=args.cadet_python, use_cadet=use_cadet, lang2_reference=args.lang2_reference,
                  lang2_cells=args.lang2_reference_cells, use_cache=not (args.no_cache or args.quick),
                  compile_probe_on=not args.no_compile_probe, full_sweep=args.full_sweep)
    except RuntimeError as exc:  # CADET failed half-way, or a CADET-only option without CADET
        print(f"pdekit bench chromatography: {exc}", file=sys.stderr)
        return 2
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rec, fh, indent=1, default=float)
        print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
