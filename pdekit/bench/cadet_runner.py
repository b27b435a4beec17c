"""Run CADET-Core on the chromatography benchmark cases (the peer side of ``pdekit bench chromatography``).

A standalone script: ``pdekit bench chromatography`` runs it in a *separate* Python >= 3.12 interpreter
(CADET-Core 5.1.1 ships only cp312+ wheels), with the JSON request on standard input, and reads one JSON
document from standard output. It imports neither pdekit nor anything outside the standard library and
NumPy at module level, so :func:`build_config` can be imported and tested by pdekit's own Python (3.10+)
without CADET.

Setting CADET up (what ``pdekit bench chromatography`` looks for by default; research note
chromatography.md section 3)::

    pyenv install 3.12.1                       # any CPython 3.12+; cadet-core has no cp311 wheels
    ~/.pyenv/versions/3.12.1/bin/python -m venv ~/.cache/pdekit/cadet-venv
    ~/.cache/pdekit/cadet-venv/bin/pip install cadet-core==5.1.1 cadet-python==1.3.0 packaging

(cadet-python 1.3.0 imports ``packaging`` in its CLI runner without declaring it as a dependency: without
it every run fails with ``No module named 'packaging'``.)

Request (standard input, or a file named as the first argument)::

    {"runs": [spec, ...], "repeats": 3}        (or a single spec; {"probe": true}: versions only)

    spec = {"case": "LIN-KIN", "length": 0.1, "velocity": 1e-3, "dispersion": 5e-8, "porosity": 0.4,
            "binding": {"kind": "linear", "kinetic": true, "k_a": [2.0], "k_d": [1.0]},
                      # or {"kind": "langmuir", "kinetic": false, "k_a": [...], "k_d": [...], "q_max": [...]}
            "c0": [1.0], "t_inject": 10.0, "t_end": 1000.0, "dt_out": 0.5,
            "method": "FV-WENO3",          # "FV-WENO2", "FV-WENO3", "FV-WENO5" (NCOL cells) or "DG" (NELEM, POLYDEG)
            "ncol": 1600,                  # cells (FV) or elements (DG)
            "polydeg": 4,                  # DG only
            "abstol": 1e-10, "reltol": 1e-8, "algtol": 1e-12, "weno_eps": 1e-10}

Model (CHROM-GC-7 / section 3 of the note): units INLET (PIECEWISE_CUBIC_POLY; two sections, ``c0`` on
``[0, t_inject)`` then 0) -> LUMPED_RATE_MODEL_WITHOUT_PORES -> OUTLET. ``TOTAL_POROSITY = eps_t`` (GC:
``1/(1 + alpha)``), ``VELOCITY = u`` (interstitial), ``COL_DISPERSION = D``; binding LINEAR (``LIN_KA``,
``LIN_KD``) or MULTI_COMPONENT_LANGMUIR (``MCL_KA``, ``MCL_KD``, ``MCL_QMAX``) with ``IS_KINETIC``; FV with
WENO (``WENO_ORDER``, ``WENO_EPS``, ``BOUNDARY_MODEL 0``) or DG; analytic Jacobian; IDAS ``ABSTOL``/
``RELTOL``/``ALGTOL``; sections at ``[0, t_inject, t_end]``; the outlet written on ``0, dt_out, ..., t_end``;
one thread.

Timing per repeat (``time.perf_counter``): ``save`` (cadet-python writes the HDF5 input file), ``cli`` (the
``cadet-cli`` process, as cadet-python's CLI runner starts it), ``load`` (reading the results back) and
``wall = save + cli + load`` — the whole cadet-cli run including HDF5 I/O, as the research note measured
it. ``time_sim`` is CADET's own solve time (``/meta/TIME_SIM`` of the output file) where it writes one.
Reported values are medians over ``repeats``; the outlet signal is that of the last repeat.

Output (standard output): ``{"ok": true, "cadet_version", "cadet_commit", "cadet_python_version",
"python", "install_path", "results": [{"case", "method", "ncol", ..., "times", "c_out" (rows = times,
columns = components), "seconds": {"wall", "save", "cli", "load", "time_sim"}, "seconds_all": {...},
"return_code"}, ...]}``; on failure ``{"ok": false, "error": "..."}`` (and exit status 1).
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["DEFAULT_TOLERANCES", "METHODS", "build_config", "output_times", "find_install_path", "run_spec",
           "main"]

#: IDAS tolerances and WENO epsilon used when a spec gives none (CADET-Process defaults)
DEFAULT_TOLERANCES = {"abstol": 1e-8, "reltol": 1e-6, "algtol": 1e-12, "weno_eps": 1e-10}
#: spatial methods this runner configures
METHODS = ("FV-WENO2", "FV-WENO3", "FV-WENO5", "DG")
#: flow rate on the connections (m^3/s); with VELOCITY given and no CROSS_SECTION_AREA it only has to be
#: positive and equal on both connections (a single inlet: the column sees c_in unchanged)
FLOW_RATE = 1e-6


def output_times(t_end: float, dt_out: float) -> list:
    """``0, dt_out, ..., t_end`` (``t_end`` a multiple of ``dt_out`` to 1e-9)."""
    n = int(round(t_end / dt_out))
    if abs(n * dt_out - t_end) > 1e-9 * max(1.0, t_end):
        raise ValueError(f"t_end = {t_end} is not a multiple of dt_out = {dt_out}")
    return [k * dt_out for k in range(n)] + [float(t_end)]


def _list(value, m, name):
    v = value if isinstance(value, (list, tuple)) else [value]
    v = [float(x) for x in v]
    if len(v) == 1 and m > 1:
        v = v * m
    if len(v) != m:
        raise ValueError(f"{name} has {len(v)} values for {m} components")
    return v


def build_config(spec: dict) -> dict:
    """The cadet-python ``root`` tree (nested dicts, cadet-python's lower-case keys; cadet-python writes
    dataset names upper-case, so ``total_porosity`` becomes ``TOTAL_POROSITY``) for one spec."""
    for key in ("length", "velocity", "dispersion", "porosity", "binding", "c0", "t_inject", "t_end", "dt_out",
                "ncol"):
        if key not in spec:
            raise ValueError(f"spec is missing {key!r}")
    method = spec.get("method", "FV-WENO3")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; accepted: {', '.join(METHODS)}")
    tol = {k: float(spec.get(k, v)) for k, v in DEFAULT_TOLERANCES.items()}
    c0 = [float(x) for x in (spec["c0"] if isinstance(spec["c0"], (list, tuple)) else [spec["c0"]])]
    m = len(c0)
    ncol = int(spec["ncol"])
    if ncol < 1:
        raise ValueError(f"ncol must be >= 1, got {ncol}")
    t_inj, t_end = float(spec["t_inject"]), float(spec["t_end"])
    if not 0.0 < t_inj < t_end:
        raise ValueError(f"need 0 < t_inject < t_end, got {t_inj}, {t_end}")
    times = output_times(t_end, float(spec["dt_out"]))

    b = spec["binding"]
    kind = b["kind"]
    column = {
        "unit_type": "LUMPED_RATE_MODEL_WITHOUT_PORES",
        "ncomp": m,
        "col_length": float(spec["length"]),
        "velocity": float(spec["velocity"]),
        "col_dispersion": float(spec["dispersion"]),
        "total_porosity": float(spec["porosity"]),
        "init_c": [0.0] * m,
    }
    if kind == "linear":
        column.update(adsorption_model="LINEAR", nbound=[1] * m, init_q=[0.0] * m)
        column["adsorption"] = {"is_kinetic": int(bool(b.get("kinetic", True))),
                                "lin_ka": _list(b["k_a"], m, "k_a"), "lin_kd": _list(b["k_d"], m, "k_d")}
    elif kind == "langmuir":
        column.update(adsorption_model="MULTI_COMPONENT_LANGMUIR", nbound=[1] * m, init_q=[0.0] * m)
        column["adsorption"] = {"is_kinetic": int(bool(b.get("kinetic", False))),
                                "mcl_ka": _list(b["k_a"], m, "k_a"), "mcl_kd": _list(b["k_d"], m, "k_d"),
                                "mcl_qmax": _list(b["q_max"], m, "q_max")}
    elif kind == "none":
        column.update(adsorption_model="NONE", nbound=[0] * m)
    else:
        raise ValueError(f"unknown binding kind {kind!r}")

    if method == "DG":
        disc = {"spatial_method": "DG", "nelem": ncol, "polydeg": int(spec.get("polydeg", 4)),
                "exact_integration": 0, "use_analytic_jacobian": 1}
    else:
        disc = {"spatial_method": "FV", "ncol": ncol, "use_analytic_jacobian": 1, "reconstruction": "WENO",
                "gs_type": 1, "max_krylov": 0, "max_restarts": 10, "schur_safety": 1e-8,
                "weno": {"boundary_model": 0, "weno_eps": tol["weno_eps"], "weno_order": int(method[-1])}}
    column["discretization"] = disc

    zero = [0.0] * m
    inlet = {"unit_type": "INLET", "ncomp": m, "inlet_type": "PIECEWISE_CUBIC_POLY",
             "sec_000": {"const_coeff": c0, "lin_coeff": zero, "quad_coeff": zero, "cube_coeff": zero},
             "sec_001": {"const_coeff": zero, "lin_coeff": zero, "quad_coeff": zero, "cube_coeff": zero}}
    outlet = {"unit_type": "OUTLET", "ncomp": m}
    q = FLOW_RATE
    model = {
        "nunits": 3,
        "unit_000": inlet,
        "unit_001": column,
        "unit_002": outlet,
        # [unit from, unit to, component from, component to, flow rate] (-1: all components)
        "connections": {"nswitches": 1, "connections_include_ports": 0,
                        "switch_000": {"section": 0, "connections": [0, 1, -1, -1, q, 1, 2, -1, -1, q]}},
        "solver": {"gs_type": 1, "max_krylov": 0, "max_restarts": 10, "schur_safety": 1e-8},
    }
    solver = {
        "nthreads": 1,
        "user_solution_times": times,
        "sections": {"nsec": 2, "section_times": [0.0, t_inj, t_end], "section_continuity": [0]},
        "time_integrator": {"abstol": tol["abstol"], "reltol": tol["reltol"], "algtol": tol["algtol"],
                            "init_step_size": 1e-6, "max_steps": 1000000},
        "consistent_init_mode": 1,
    }
    ret = {"split_components_data": 0, "split_ports_data": 0,
           "unit_001": {"write_solution_outlet": 1, "write_solution_inlet": 0, "write_solution_bulk": 0,
                        "write_solution_solid": 0, "write_solution_particle": 0, "write_solution_flux": 0},
           "unit_002": {"write_solution_outlet": 0}}
    return {"input": {"model": model, "solver": solver, "return": ret}}


def find_install_path():
    """The CADET-Core installation of this interpreter: the ``cadet_core`` package directory of the
    cadet-core wheel (``bin/cadet-cli``, ``lib/libcadet.so``), else ``cadet-cli`` next to the interpreter,
    else on ``PATH``. cadet-python's own autodetection only looks on ``PATH`` (research note, section 3),
    which a venv that is not activated is not on."""
    import importlib.util

    spec = importlib.util.find_spec("cadet_core")
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            if (Path(loc) / "bin" / "cadet-cli").exists():
                return Path(loc)
    here = Path(sys.executable).parent / "cadet-cli"
    if here.exists():
        return here
    found = shutil.which("cadet-cli")
    return Path(found) if found else None


def _to_addict(tree):
    from addict import Dict

    return Dict(tree)


def _time_sim(sim):
    try:
        v = sim.root.meta.time_sim
    except Exception:
        return None
    try:
        return float(v) if v not in (None, {}) else None
    except (TypeError, ValueError):
        return None


def run_spec(spec: dict, repeats: int, install_path, workdir: str) -> dict:
    """Run one spec ``repeats`` times (each a fresh Cadet object and a fresh HDF5 file); medians."""
    import numpy as np
    from cadet import Cadet

    config = build_config(spec)
    keys = ("wall", "save", "cli", "load", "time_sim")
    every = {k: [] for k in keys}
    out = None
    info = None
    for r in range(repeats):
        sim = Cadet(install_path=install_path)
        sim.root = _to_addict(config)
        sim.filename = os.path.join(workdir, f"{spec.get('case', 'case')}_{spec.get('method')}_{spec['ncol']}_{r}.h5")
        t0 = time.perf_counter()
        sim.save()
        t1 = time.perf_counter()
        info = sim.cadet_runner.run(sim)
        t2 = time.perf_counter()
        if info.return_code != 0:
            return {"error": f"cadet-cli returned {info.return_code}: {info.error_message.strip()[-2000:]}",
                    "return_code": info.return_code}
        sim.cadet_runner.load_results(sim)
        t3 = time.perf_counter()
        every["save"].append(t1 - t0)
        every["cli"].append(t2 - t1)
        every["load"].append(t3 - t2)
        every["wall"].append(t3 - t0)
        every["time_sim"].append(_time_sim(sim))
        out = np.asarray(sim.root.output.solution.unit_001.solution_outlet, dtype=float)
        try:
            os.remove(sim.filename)
        except OSError:
            pass
    times = np.asarray(sim.root.output.solution.solution_times, dtype=float)
    if out.ndim == 1:
        out = out[:, None]
    out = out.reshape(out.shape[0], -1)
    med = {k: (statistics.median(v) if all(x is not None for x in v) else None) for k, v in every.items()}
    res = {k: spec[k] for k in spec}
    res.update(times=times.tolist(), c_out=out.tolist(), seconds=med, seconds_all=every, repeats=repeats,
               return_code=info.return_code)
    return res


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        text = Path(argv[0]).read_text() if argv else sys.stdin.read()
        req = json.loads(text)
        probe_only = bool(req.get("probe", False))
        runs = [] if probe_only else (req["runs"] if "runs" in req else [req])
        repeats = int(req.get("repeats", 1))
        if repeats < 1:
            raise ValueError("repeats must be >= 1")
        install = req.get("install_path") or find_install_path()
        if install is None:
            raise RuntimeError("cadet-cli not found: pip install cadet-core in this interpreter")
        from importlib import metadata

        from cadet import Cadet

        probe = Cadet(install_path=install)
        head = {"ok": True, "python": sys.version.split()[0], "install_path": str(probe.install_path),
                "cadet_cli": str(probe.cadet_cli_path), "cadet_version": probe.version,
                "cadet_commit": probe.commit_hash, "cadet_python_version": metadata.version("cadet-python"),
                "cadet_core_version": metadata.version("cadet-core"), "results": []}
        with tempfile.TemporaryDirectory(prefix="pdekit-cadet-") as work:
            for spec in runs:
                head["results"].append(run_spec(spec, repeats, install, work))
        json.dump(head, sys.stdout)
        sys.stdout.write("\n")
        return 0
    except Exception as exc:  # report, never raise: the caller reads JSON
        json.dump({"ok": False, "error": f"{type(exc).__name__}: {exc}", "python": sys.version.split()[0]},
                  sys.stdout)
        sys.stdout.write("\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
