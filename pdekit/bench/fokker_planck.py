"""``pdekit bench fokker-planck``: pdekit against fplanck on the Ornstein–Uhlenbeck problems.

Installing the peer (it is NOT a pdekit dependency; use a throw-away environment)::

    python -m venv /tmp/fpvenv
    /tmp/fpvenv/bin/pip install fplanck==0.2.2 numpy scipy
    /tmp/fpvenv/bin/pip install -e /path/to/pdekit
    /tmp/fpvenv/bin/pdekit bench fokker-planck [--quick] [--json PATH] [--repeats 3]

fplanck 0.2.2 (the newest release installable from the package index used here) calls ``np.product``, which
NumPy 2 removed; this module sets ``numpy.product = numpy.prod`` (only if it is missing, only in
the benchmark process, right before importing fplanck). Its vector-``drag`` branch references an
un-imported name, so the scalar ``drag=1`` is used. Without fplanck the benchmark says
"not installed" and still times pdekit (no comparison is made up).

Problems (the Fokker–Planck reference specs FP-OU1 and FP-OU2 (a)): the SDE ``dX = -A X dt + sqrt(2 D) dW``
on ``[-6, 6]^d`` with zero-flux (reflecting) walls, ``D = 1``, to ``T = 1``, from a Gaussian:

``FP-OU1``  (A.2) 1D, ``A = theta = 1``, initial ``N(1.5, 0.3^2)``, ``N = 200`` cells;
``FP-OU2a`` (A.3 a) 2D, ``A = K = R(30 deg) diag(1, 4) R(30 deg)^T``, initial
            ``N((1.5, -1), 0.09 I)``, ``200^2`` cells.

Exact density ``N(m(t), S(t))``: ``m = e^{-At} m0``, ``S = e^{-At} (S0 - Sinf) e^{-A^T t} + Sinf``
with ``A Sinf + Sinf A^T = 2 D I`` (Lyapunov). Error metric (both codes):
``L1 = sum_j |u_j - p(x_j, T)| V_j``, initial data = the exact density at the grid points (not
renormalised). fplanck's node grid is ``arange(N) h`` shifted to mean 0 with ``h = 12/N``: at
``N`` nodes these are exactly the ``N`` cell centres of ``[-6, 6]``, so both codes use the same
points, and the benchmark checks it (``max_node_offset``).

fplanck works in physical units: ``temperature = D * drag / k_B`` with ``drag = 1``, force
``F = -A x``; its rates are ``D/h^2 exp(-beta dU/2)`` with ``dU`` from the face-averaged force; its
matrix assembly is a Python loop over the nodes (``build``) and ``propagate`` is one
``scipy.sparse.linalg.expm_multiply`` call to ``T`` (``normalize=False``).

pdekit: ``FokkerPlanck(grid, "zero-flux", diffusion=D, drift=-A x)`` (cell-centred Chang–Cooper)
and ``pdekit.run(..., snapshots=1)`` with ``adi`` / ``crank-nicolson`` at ``dt = 0.01`` and
``exact`` (``expm_multiply``) with one step to ``T`` (the propagation fplanck uses;
``--exact-dt`` changes it). ``expm_multiply``'s cost is not monotone in the step: when
``||dt L||_1`` is large (above ~100) every call estimates ``||(dt L)^p||^(1/p)`` for several ``p``
(about 1–1.5 s per call at 200^2, SciPy 1.17), so 10 steps of 0.1 cost 5–10x more than one step to
``T``, while steps of 0.01–0.02 skip the estimate and cost about as much as one step.

Timing (medians of ``--repeats``; wall clock, both codes single-threaded in their kernels):

* in-process, after one warm-up run on a 16-point-per-axis grid with the same method (which loads
  pdekit's numba kernels from the on-disk cache and SciPy's lazily imported code): pdekit's whole
  run (grid, model set-up, initial data, ``pdekit.run``) and fplanck's ``build`` (the
  ``fokker_planck(...)`` constructor, i.e. matrix assembly) and ``propagate``, and their sum;
* once in a fresh process each, as a user pays it (numba kernels loaded from the disk cache);
  the import time (NumPy, SciPy, and for pdekit also numba and xarray, which ``pdekit.run``
  would otherwise import on its first call) is reported separately.

Two comparisons per case: (1) the same grid and final time for both codes; (2) "equal error":
pdekit on the smallest grid ``N`` (multiples of ``--n-step`` above the base grid, searched from
the second-order prediction ``N0 sqrt(L1(N0) / L1_fplanck)``) whose L1 is <= fplanck's measured
L1, timed the same way. Ratios are ``fplanck total / pdekit total`` (> 1: pdekit is faster).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time

import numpy as np

from .peers import _dist_version, _failed, _timing_result

__all__ = [
    "CASES", "METHODS", "drift_matrix", "ou_moments", "exact_density", "cell_centres", "l1_error",
    "pdekit_whole_run", "pdekit_timed", "pdekit_fresh", "fplanck_timed", "fplanck_fresh",
    "smallest_n", "main",
]

#: The problems: ``A`` is given by :func:`drift_matrix`; ``half_width`` is the domain ``[-L, L]^d``.
CASES: dict[str, dict] = {
    "FP-OU1": {"ndim": 1, "title": "1D OU, theta = D = 1, N(1.5, 0.3^2)", "D": 1.0,
               "m0": (1.5,), "S0": ((0.09,),), "half_width": 6.0, "t_end": 1.0, "n": 200, "quick_n": 50},
    "FP-OU2a": {"ndim": 2, "title": "2D anisotropic OU, A = R(30) diag(1,4) R(30)^T, D = 1, N((1.5,-1), 0.09 I)",
                "D": 1.0, "m0": (1.5, -1.0), "S0": ((0.09, 0.0), (0.0, 0.09)), "half_width": 6.0, "t_end": 1.0,
                "n": 200, "quick_n": 40},
}

#: pdekit methods per case: ``(method, dt)``; ``dt=None`` means one step to ``t_end``.
METHODS: dict[str, tuple] = {
    "FP-OU1": (("crank-nicolson", 0.01), ("exact", None)),
    "FP-OU2a": (("adi", 0.01), ("crank-nicolson", 0.01), ("exact", None)),
}

WARMUP_N = 16
FRESH_NOTE = "fresh process: numba kernels loaded from the on-disk cache; import time reported separately"


def _case(case: str) -> dict:
    try:
        return CASES[case]
    except KeyError:
        raise ValueError(f"unknown case {case!r}; expected one of {sorted(CASES)}") from None


def drift_matrix(case: str) -> np.ndarray:
    """``A`` of ``dX = -A X dt + sqrt(2D) dW``: ``[[1]]`` (FP-OU1), ``R(30°) diag(1, 4) R(30°)^T`` (FP-OU2a)."""
    if _case(case)["ndim"] == 1:
        return np.array([[1.0]])
    c, s = math.cos(math.pi / 6), math.sin(math.pi / 6)
    R = np.array([[c, -s], [s, c]])
    return R @ np.diag([1.0, 4.0]) @ R.T


def ou_moments(case: str, t: float):
    """Mean and covariance of the exact density at time ``t`` (Lyapunov route, any dimension)."""
    from scipy import linalg

    p = _case(case)
    A = drift_matrix(case)
    nd = p["ndim"]
    E = linalg.expm(-A * t)
    S_inf = linalg.solve_continuous_lyapunov(A, 2.0 * p["D"] * np.eye(nd))  # A S + S A^T = 2 D I
    m = E @ np.asarray(p["m0"], dtype=float)
    S = E @ (np.asarray(p["S0"], dtype=float) - S_inf) @ E.T + S_inf
    return m, S


def exact_density(case: str, coords, t: float) -> np.ndarray:
    """The exact density ``N(m(t), S(t))`` at the points ``coords`` (a sequence of ``ndim`` arrays)."""
    m, S = ou_moments(case, t)
    coords = [np.asarray(c, dtype=float) for c in coords]
    if len(coords) != m.size:
        raise ValueError(f"{case} needs {m.size} coordinate array(s), got {len(coords)}")
    P = np.linalg.inv(S)
    dx = [c - mi for c, mi in zip(coords, m)]
    q = sum(P[i, j] * dx[i] * dx[j] for i in range(m.size) for j in range(m.size))
    return np.exp(-0.5 * q) / math.sqrt((2.0 * math.pi) ** m.size * np.linalg.det(S))


def cell_centres(case: str, n: int) -> np.ndarray:
    """The ``n`` cell centres of ``[-L, L]`` (= fplanck's ``n`` nodes with ``h = 2L/n``)."""
    L = _case(case)["half_width"]
    h = 2.0 * L / n
    return -L + (np.arange(n) + 0.5) * h


def l1_error(u, p, volume) -> float:
    """``sum_j |u_j - p_j| V_j`` (``volume``: a number or an array broadcastable to ``u``)."""
    u = np.asarray(u, dtype=float)
    p = np.asarray(p, dtype=float)
    if u.shape != p.shape:
        raise ValueError(f"shape mismatch: {u.shape} vs {p.shape}")
    return float(np.sum(np.abs(u - p) * volume))


def _mesh(case, n):
    x = cell_centres(case, n)
    return np.meshgrid(*([x] * _case(case)["ndim"]), indexing="ij")


def _exact_on_grid(case, n, t):
    return exact_density(case, _mesh(case, n), t)


def _cell_volume(case, n):
    p = _case(case)
    return (2.0 * p["half_width"] / n) ** p["ndim"]


def _steps(case, dt):
    T = _case(case)["t_end"]
    return 1 if dt is None else max(1, round(T / dt))


def _record(code, version, what, case, n, dt, steps, repeats, times, **extra):
    """``peers._timing_result`` with the cell count ``n**ndim`` (it assumes ``n x n`` cells)."""
    cells = float(n) ** _case(case)["ndim"] * steps
    sec = statistics.median(times)
    return _timing_result(code, version, what, case, n, dt, steps, repeats, times,
                          cell_updates_per_s=cells / sec, best_cell_updates_per_s=cells / min(times), **extra)


# --------------------------------------------------------------------------------------------------
# pdekit


def _pdekit_drift(case):
    A = drift_matrix(case)
    if _case(case)["ndim"] == 1:
        a = float(A[0, 0])
        return lambda x: -a * x
    a00, a01, a10, a11 = (float(v) for v in A.ravel())
    return lambda x, y: (-(a00 * x + a01 * y), -(a10 * x + a11 * y))


def pdekit_whole_run(case: str, n: int, method: str, dt: float | None = None):
    """One complete pdekit run: grid, model, initial data and ``pdekit.run`` to ``T``.

    Returns ``(seconds, u_final)``; ``dt=None`` is one step to ``T`` (for ``exact``).
    """
    import pdekit
    from pdekit.fokker_planck.model import FokkerPlanck

    p = _case(case)
    nd, L, T = p["ndim"], p["half_width"], p["t_end"]
    t0 = time.perf_counter()
    grid = pdekit.Grid.uniform((n,) * nd, [(-L, L)] * nd)
    model = FokkerPlanck(grid, "zero-flux", diffusion=p["D"], drift=_pdekit_drift(case))
    centres = np.meshgrid(*(ax.centres for ax in grid.axes), indexing="ij")
    u0 = exact_density(case, centres, 0.0)
    ds = pdekit.run(model, u0, t_end=T, dt=T if dt is None else dt, method=method, snapshots=1, progress=False)
    u = ds[model.variables[0]].values[-1]
    return time.perf_counter() - t0, u


def pdekit_timed(case: str, n: int, method: str, dt: float | None = None, repeats: int = 3) -> dict:
    """Median of ``repeats`` whole pdekit runs in this process, after one small-grid warm-up."""
    import pdekit

    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    pdekit_whole_run(case, WARMUP_N, method, dt)
    times, u = [], None
    for _ in range(repeats):
        sec, u = pdekit_whole_run(case, n, method, dt)
        times.append(sec)
    l1 = l1_error(u, _exact_on_grid(case, n, _case(case)["t_end"]), _cell_volume(case, n))
    return _record("pdekit", getattr(pdekit, "__version__", None) or _dist_version("pdekit"),
                   f"whole run (set-up + pdekit.run, method={method!r}), in-process after a warm-up",
                   case, n, _case(case)["t_end"] if dt is None else dt, _steps(case, dt), repeats, times,
                   method=method, l1=l1)


_FRESH_PDEKIT = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    import numpy, scipy.sparse.linalg, xarray, pdekit, pdekit.fokker_planck.model
    t_import = time.perf_counter() - t0
    from pdekit.bench import fokker_planck as fpb
    case, n, method = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    dt = None if sys.argv[4] == "None" else float(sys.argv[4])
    sec, u = fpb.pdekit_whole_run(case, n, method, dt)
    l1 = fpb.l1_error(u, fpb._exact_on_grid(case, n, fpb.CASES[case]["t_end"]), fpb._cell_volume(case, n))
    print(json.dumps({"seconds": sec, "import_seconds": t_import, "l1": l1}))
""")

_FRESH_FPLANCK = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    import numpy as np
    if not hasattr(np, "product"):
        np.product = np.prod
    import fplanck
    t_import = time.perf_counter() - t0
    from pdekit.bench import fokker_planck as fpb
    case, n = sys.argv[1], int(sys.argv[2])
    build, prop, l1, _ = fpb._fplanck_once(fplanck, case, n)
    print(json.dumps({"seconds": build + prop, "build_seconds": build, "propagate_seconds": prop,
                      "import_seconds": t_import, "l1": l1}))
""")


def _fresh(script, args):
    proc = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ))
    if proc.returncode != 0:
        err = proc.stderr.strip().splitlines()
        return {"error": err[-1] if err else f"exit code {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def pdekit_fresh(case: str, n: int, method: str, dt: float | None = None) -> dict:
    """One whole pdekit run in a new Python process (kernels from numba's disk cache)."""
    _case(case)
    return _fresh(_FRESH_PDEKIT, [case, n, method, dt])


# --------------------------------------------------------------------------------------------------
# fplanck


def _ensure_numpy_product(np_module=np) -> bool:
    """Restore ``np_module.product = np_module.prod`` if missing (NumPy 2); True if it was set here."""
    if hasattr(np_module, "product"):
        return False
    np_module.product = np_module.prod
    return True


_SHIM = {"applied": False}


def _import_fplanck():
    """fplanck, or ``None`` if it is not installed (the NumPy-2 shim is applied only if it is)."""
    if importlib.util.find_spec("fplanck") is None:
        return None
    _SHIM["applied"] = _ensure_numpy_product(np) or _SHIM["applied"]
    try:
        import fplanck
    except Exception:  # a broken install counts as absent
        return None
    return fplanck


def fplanck_version() -> str | None:
    if importlib.util.find_spec("fplanck") is None:
        return None
    return _dist_version("fplanck")


def _fplanck_once(fplanck, case, n):
    """Build and propagate once; returns ``(build_s, propagate_s, L1, info)``."""
    from scipy import constants

    p = _case(case)
    nd, L, T, D = p["ndim"], p["half_width"], p["t_end"], p["D"]
    A = drift_matrix(case)
    h = 2.0 * L / n
    drag = 1.0

    def force(*x):  # F = -A x (drag 1: force = drift velocity)
        return tuple(-sum(A[i, j] * x[j] for j in range(nd)) for i in range(nd))

    def initial(*x):
        return exact_density(case, x, 0.0)

    t0 = time.perf_counter()
    solver = fplanck.fokker_planck(temperature=D * drag / constants.k, drag=drag, extent=[2.0 * L] * nd,
                                   resolution=h, boundary=fplanck.boundary.reflecting, force=force)
    t1 = time.perf_counter()
    pf = solver.propagate(initial, T, normalize=False)
    t2 = time.perf_counter()
    shape = tuple(int(v) for v in np.atleast_1d(solver.Ngrid))
    if shape != (n,) * nd:
        raise RuntimeError(f"fplanck built a {shape} node grid, expected {(n,) * nd}")
    offset = max(float(np.max(np.abs(np.asarray(ax) - cell_centres(case, n)))) for ax in solver.axes)
    l1 = l1_error(np.asarray(pf).reshape(shape), exact_density(case, solver.grid, T), h ** nd)
    return t1 - t0, t2 - t1, l1, {"max_node_offset": offset, "h": h}


def fplanck_timed(case: str, n: int, repeats: int = 3, *, raise_errors: bool = False) -> dict | None:
    """fplanck build (constructor) and ``propagate`` timed separately, medians of ``repeats``
    after a small-grid warm-up. ``None`` if fplanck is not installed; ``{"error": ...}`` if it fails."""
    _case(case)
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    fplanck = _import_fplanck()
    if fplanck is None:
        return None
    version = _dist_version("fplanck")
    try:
        _fplanck_once(fplanck, case, WARMUP_N)
        builds, props, l1, info = [], [], None, {}
        for _ in range(repeats):
            b, pr, l1, info = _fplanck_once(fplanck, case, n)
            builds.append(b)
            props.append(pr)
    except Exception as exc:
        if raise_errors:
            raise
        return _failed("fplanck", version, exc)
    totals = [b + pr for b, pr in zip(builds, props)]
    return _record("fplanck", version, "fokker_planck(...) build + propagate(expm_multiply), in-process after a "
                   "warm-up", case, n, _case(case)["t_end"], 1, repeats, totals,
                   build_seconds=statistics.median(builds), propagate_seconds=statistics.median(props),
                   build_seconds_all=builds, propagate_seconds_all=props, l1=l1, numpy_product_shim=_SHIM["applied"],
                   api="fplanck.fokker_planck(temperature=D*drag/k_B, drag=1, extent=2L, resolution=2L/n, "
                       "boundary=reflecting, force=-A x).propagate(p0, T, normalize=False)", **info)


def fplanck_fresh(case: str, n: int) -> dict | None:
    """One fplanck build + propagate in a new Python process; ``None`` if fplanck is not installed."""
    _case(case)
    if fplanck_version() is None:
        return None
    return _fresh(_FRESH_FPLANCK, [case, n])


# --------------------------------------------------------------------------------------------------
# equal-error search


def smallest_n(l1_at, target: float, n0: int, l1_n0: float, step: int = 10, n_max: int | None = None):
    """Smallest ``n`` (``n0`` or a multiple of ``step`` above it) with ``l1_at(n) <= target``.

    Starts from the second-order prediction ``n0 sqrt(l1_n0 / target)`` rounded up to a multiple
    of ``step``, then walks down (while still ``<= target``) or up (until ``<= target``). Assumes
    the error decreases with ``n``. Returns ``(n or None, {n: L1 evaluated})``.
    """
    tried = {int(n0): float(l1_n0)}
    if l1_n0 <= target:
        return int(n0), tried
    n_max = int(n_max or 4 * n0)

    def ok(m):
        if m not in tried:
            tried[m] = float(l1_at(m))
        return tried[m] <= target

    n = step * math.ceil(n0 * math.sqrt(l1_n0 / target) / step)
    n = min(max(n, step * (n0 // step + 1)), n_max)
    if ok(n):
        while n - step > n0 and ok(n - step):
            n -= step
        return n, tried
    while n + step <= n_max:
        n += step
        if ok(n):
            return n, tried
    return None, tried


# --------------------------------------------------------------------------------------------------
# report


def _ok(r):
    return r is not None and "error" not in r


def _ratio(peer_sec, own_sec):
    if peer_sec is None or own_sec is None or own_sec <= 0:
        return None
    return peer_sec / own_sec


def _fresh_total(r, with_import=False):
    if not _ok(r):
        return None
    return r["seconds"] + (r["import_seconds"] if with_import else 0.0)


def _ratios(fp, fp_fresh, pk, pk_fresh) -> dict:
    return {
        "in_process": _ratio(fp["seconds"], pk["seconds"]) if _ok(fp) and _ok(pk) else None,
        "fresh": _ratio(_fresh_total(fp_fresh), _fresh_total(pk_fresh)),
        "fresh_with_import": _ratio(_fresh_total(fp_fresh, True), _fresh_total(pk_fresh, True)),
    }


def _grid_str(n, nd):
    return f"{n}" if nd == 1 else f"{n}^{nd}"


def _x(v):
    if v is None:
        return "-"
    return f"{v:.1f}x" if v >= 1 else f"{v:.2g}x"  # two significant digits below 1 (no "0.0x")


def _fresh_str(r):
    if r is None:
        return "-"
    if "error" in r:
        return "failed"
    return f"{r['seconds']:.3f} ({r['seconds'] + r['import_seconds']:.2f})"


def _dt_str(dt, steps):
    return f"{dt:g} (1 step)" if steps == 1 else f"{dt:g}"


HEADER = (f"  {'code':8s} {'method':15s} {'grid':>6s} {'dt':>11s} {'L1':>10s} {'in-proc s':>10s} "
          f"{'fresh s (+import)':>18s}   fplanck/pdekit: in-proc  fresh  fresh+import")


def _pdekit_line(rec, fresh, ratios, nd):
    grid, dt = _grid_str(rec["n"], nd), _dt_str(rec["dt"], rec["steps"])
    return (f"  {'pdekit':8s} {rec['method']:15s} {grid:>6s} {dt:>11s} {rec['l1']:10.3e} "
            f"{rec['seconds']:10.3f} {_fresh_str(fresh):>18s}   "
            f"{_x(ratios['in_process']):>23s} {_x(ratios['fresh']):>6s} {_x(ratios['fresh_with_import']):>13s}")


def _versions(fp_version) -> dict:
    import scipy

    out = {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
           "numba": _dist_version("numba"), "pdekit": _dist_version("pdekit"), "fplanck": fp_version}
    return out


def run_case(case, n, repeats, *, methods=None, fresh=True, n_step=10, out=print) -> dict:
    """Both comparisons for one case; prints the table rows and returns the JSON record.

    ``methods``: pdekit ``(method, dt)`` pairs (default :data:`METHODS` ``[case]``).
    """
    p = _case(case)
    methods = tuple(METHODS[case] if methods is None else methods)
    nd, T = p["ndim"], p["t_end"]
    dom = f"[-{p['half_width']:g},{p['half_width']:g}]" + (f"^{nd}" if nd > 1 else "")
    out(f"\n{case}: {p['title']}, {dom} zero-flux, T={T:g}")
    out(HEADER)
    row = {"case": case, "title": p["title"], "n": n, "t_end": T, "ndim": nd}

    fp = fplanck_timed(case, n, repeats)
    fp_fresh = fplanck_fresh(case, n) if (fresh and _ok(fp)) else None
    row["fplanck"], row["fplanck_fresh"] = fp, fp_fresh
    if fp is None:
        out(f"  {'fplanck':8s} not installed (pip install fplanck==0.2.2; see the module docstring)")
    elif "error" in fp:
        out(f"  {'fplanck':8s} failed: {fp['error']}")
    else:
        out(f"  {'fplanck':8s} {'expm_multiply':15s} {_grid_str(n, nd):>6s} {_dt_str(T, 1):>11s} "
            f"{fp['l1']:10.3e} {fp['seconds']:10.3f} {_fresh_str(fp_fresh):>18s}   "
            f"(build {fp['build_seconds']:.3f} + propagate {fp['propagate_seconds']:.3f} s; "
            f"node offset {fp['max_node_offset']:.1e})")

    row["same_grid"] = []
    base = {}
    for method, dt in methods:
        pk = pdekit_timed(case, n, method, dt, repeats)
        pkf = pdekit_fresh(case, n, method, dt) if fresh else None
        ratios = _ratios(fp, fp_fresh, pk, pkf)
        base[(method, dt)] = (pk, pkf)
        row["same_grid"].append({"method": method, "dt": dt, "pdekit": pk, "pdekit_fresh": pkf,
                                 "ratio_fplanck_over_pdekit": ratios})
        out(_pdekit_line(pk, pkf, ratios, nd))

    row["equal_error"] = []
    if not _ok(fp):
        out("  equal-error comparison: skipped (no fplanck L1 to match)")
        return row
    target = fp["l1"]
    out(f"  equal error: pdekit on the smallest grid (step {n_step}) with L1 <= fplanck's {target:.3e}")
    for method, dt in methods:
        pk0, pkf0 = base[(method, dt)]

        def l1_at(m, method=method, dt=dt):
            _, u = pdekit_whole_run(case, m, method, dt)
            return l1_error(u, _exact_on_grid(case, m, T), _cell_volume(case, m))

        n_eq, tried = smallest_n(l1_at, target, n, pk0["l1"], n_step)
        rec = {"method": method, "dt": dt, "n": n_eq, "target_l1": target,
               "searched": {str(k): v for k, v in sorted(tried.items())}}
        if n_eq is None:
            out(f"  {'pdekit':8s} {method:15s} no grid up to {4 * n} reaches it")
        else:
            if n_eq == n:
                pk, pkf = pk0, pkf0
            else:
                pk = pdekit_timed(case, n_eq, method, dt, repeats)
                pkf = pdekit_fresh(case, n_eq, method, dt) if fresh else None
            ratios = _ratios(fp, fp_fresh, pk, pkf)
            rec.update(pdekit=pk, pdekit_fresh=pkf, ratio_fplanck_over_pdekit=ratios,
                       l1_at_most_fplanck=pk["l1"] <= target)
            out(_pdekit_line(pk, pkf, ratios, nd))
        row["equal_error"].append(rec)
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="pdekit bench fokker-planck", description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--quick", action="store_true", help="small grids (smoke test)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-step", type=int, default=10, help="grid step of the equal-error search (default 10)")
    ap.add_argument("--no-fresh", action="store_true", help="skip the fresh-process timings")
    ap.add_argument("--case", choices=sorted(CASES), action="append", help="run only this case (repeatable)")
    ap.add_argument("--exact-dt", type=float, default=None,
                    help="step of pdekit's 'exact' method (default: one step to T, as fplanck propagates)")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    if args.n_step < 1:
        ap.error("--n-step must be >= 1")
    if args.exact_dt is not None and not args.exact_dt > 0:
        ap.error("--exact-dt must be > 0")
    fp_version = fplanck_version()
    results = {"peers": {"fplanck": fp_version}, "versions": _versions(fp_version), "repeats": args.repeats,
               "quick": args.quick, "warmup_n": WARMUP_N, "fresh": not args.no_fresh, "cases": []}
    print(f"peers: fplanck {fp_version or 'not installed'}; pdekit {results['versions']['pdekit']}, "
          f"numpy {np.__version__}, scipy {results['versions']['scipy']}, numba {results['versions']['numba']}")
    print(f"timing: medians of {args.repeats} whole runs in-process after a warm-up on a {WARMUP_N}-point grid "
          "(pdekit's numba kernels come from the on-disk cache), plus one run in a fresh process each "
          "(run seconds; with the import in brackets). fplanck: build (matrix assembly) + propagate. "
          "pdekit kernels are serial.")
    print("ratios: fplanck seconds / pdekit seconds (> 1: pdekit faster); L1 = sum |u - p_exact| V at T")
    for case in (args.case or list(CASES)):
        n = CASES[case]["quick_n"] if args.quick else CASES[case]["n"]
        methods = [(m, args.exact_dt if m == "exact" else dt) for m, dt in METHODS[case]]
        results["cases"].append(run_case(case, n, args.repeats, methods=methods, fresh=not args.no_fresh,
                                         n_step=args.n_step))
    results["numpy_product_shim"] = _SHIM["applied"]
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=float)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
