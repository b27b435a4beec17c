"""``pdekit bench riesz-fractional``: solve time of the Riesz collocation system against its size,
the structured fast path against dense LU, in one process run.

Problem (Mazza, Donatelli, Manni & Speleers, arXiv:2106.14834): ``(-Delta)^{alpha/2} u = f`` on
``(0, 1)``, ``u = 0`` outside, exact solution ``u = x^4 (1 - x)^4``, ``f`` exact
(:func:`pdekit.riesz.collocation.polynomial_riesz`); B-splines of degree ``p`` (``--degree``, default 3)
on ``n`` uniform intervals, collocation at the Greville points of the ``N = n + p - 2`` retained
B-splines (``alpha`` by ``--alpha``, default 1.5). ``n = 2^k`` from ``--min-n`` (256) to ``--max-n``
(65536).

Paths, each timed on a fresh :class:`~pdekit.riesz.RieszCollocation` (nothing cached between repeats):

``fast``       ``R.operator()`` (Toeplitz-plus-corner form from ``O(N)`` fractional-derivative
               evaluations) and ``R.solve(b, solver="gmres", info=True)`` (GMRES with FFT products and
               the tau preconditioner, ``O(N log N)`` per iteration; ``rtol=None``: ``1e-10``, or the
               round-off floor of the FFT product where that is higher, the residual reached is
               reported). ``total = operator + solve``. ``R.solve`` builds the tau preconditioner itself
               (it is not cached), so its cost is inside ``solve``; ``tau`` is
               ``R.tau_preconditioner()`` timed on its own, for information.
``dense``      the structured matrix assembled densely, ``R.operator().dense()`` (``O(N)``
               evaluations, ``O(N^2)`` memory), then ``scipy.linalg.lu_factor`` + ``lu_solve``
               (LAPACK ``getrf``, ``O(N^3)``), up to ``--max-dense-n`` (4096).
``reference``  the matrix a user without the structure assembles: ``R.dense_matrix()`` (all ``N^2``
               entries ``(-Delta)^{alpha/2} B_j(xi_i)`` evaluated, column by column), then the same LU;
               up to ``--max-reference-n`` (4096: 4--10 s per repeat there with one BLAS thread).

Threads: the FFTs (``scipy.fft``, ``workers=1``) and the fractional-derivative evaluations run on one
thread; LU runs in OpenBLAS. By default (``--blas-threads 1``) OpenBLAS is limited to one thread for the
whole run, so that both paths use one core (like for like). ``--blas-threads 0`` leaves OpenBLAS's own
setting (all cores): on a loaded machine its threaded ``getrf`` waits for scheduler time slices at its
synchronisation points (measured on a 2-core VM with another process running: ``N = 257`` in 0.7 ms or
140--290 ms from one call to the next), which makes small dense solves erratic.

Not timed: building ``BSplineSpace`` + ``RieszCollocation`` (``setup``, common to all paths, reported),
the right-hand side ``f(xi)`` and the error evaluation.

Reported per ``n``: medians over ``--repeats`` (default 3; the paths interleaved repeat by repeat, so
that load on a shared machine hits them alike; every time is in the JSON), GMRES iterations and the
residual reached, the error ``max |u_h - u| / max |u|`` on ``20 n + 1`` equispaced points for each
path, the agreement ``max |u_fast - u_dense| / max |u|`` on the same points, and the ratios
``dense total / fast total``, ``reference total / fast total`` and ``LU / GMRES solve`` (> 1: fast
path faster).

Fitted cost exponents: least-squares slope of ``log(seconds)`` against ``log(N)`` over the upper
half of each path's range (the last ``ceil(k/2)`` of its ``k`` sizes). Expected: ``~1`` for the fast
path (``N log N``), ``~2`` for dense assembly, ``~3`` for LU. Crossovers: the smallest ``n`` at which the
fast path beats dense (log-log interpolation of the ratio between the two grid sizes around 1;
``< 2^kmin`` if the fast path wins on the whole grid), for the totals and for the solve alone (GMRES
against LU given the matrix).

Agreement: the two solutions differ by GMRES's stopping residual times the conditioning
(``|u_fast - u_dense| <= max |c_fast - c_dense| <= ||b - A c_fast||_2 / sigma_min(A)``, ``sigma_min``
estimated by the smallest tau eigenvalue; reported as ``bound``). The check passes below
``max(AGREE_TOL, 10 bound)``, ``AGREE_TOL = 1e-8``; the exit status is 1 if any size does not.
``--quick``: ``n = 16 .. 128``, one repeat (a smoke test).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import statistics
import sys
import time

import numpy as np

from .peers import _dist_version

__all__ = [
    "EXACT", "DEFAULTS", "QUICK", "AGREE_TOL", "exact_solution", "problem", "sizes", "time_fast", "time_dense",
    "time_reference", "fit_exponent", "crossover", "run", "plot", "main",
]

#: coefficients (ascending powers) of the exact solution ``u = x^4 (1 - x)^4``
EXACT = (np.polynomial.Polynomial([0.0, 1.0]) ** 4 * np.polynomial.Polynomial([1.0, -1.0]) ** 4).coef
DEFAULTS = {"degree": 3, "alpha": 1.5, "min_n": 2 ** 8, "max_n": 2 ** 16, "max_dense_n": 2 ** 12,
            "max_reference_n": 2 ** 12, "repeats": 3}
QUICK = {"min_n": 2 ** 4, "max_n": 2 ** 7, "max_dense_n": 2 ** 7, "max_reference_n": 2 ** 6, "repeats": 1}
#: agreement floor: max |u_fast - u_dense| / max |u| (raised to 10x the a-posteriori bound where larger)
AGREE_TOL = 1e-8
#: error evaluation points per interval
POINTS_PER_INTERVAL = 20


# --------------------------------------------------------------------------------------------------
# problem


def exact_solution(x):
    """``u(x) = x^4 (1 - x)^4`` (product form: no cancellation near ``x = 1``; :data:`EXACT` holds the
    expanded coefficients for the right-hand side)."""
    x = np.asarray(x, dtype=float)
    return x ** 4 * (1.0 - x) ** 4


def problem(degree: int, n: int, alpha: float):
    """A fresh ``RieszCollocation(BSplineSpace(degree, n), alpha)`` (nothing cached)."""
    from pdekit.riesz import BSplineSpace, RieszCollocation

    return RieszCollocation(BSplineSpace(degree, n), alpha)


def right_hand_side(R):
    """``f(xi) = (-Delta)^{alpha/2} u (xi)`` at the collocation points (exact)."""
    from pdekit.riesz.collocation import polynomial_riesz

    return R.rhs(lambda x: polynomial_riesz(EXACT, x, R.alpha))


def relative_error(R, c) -> float:
    """``max |u_h - u| / max |u|`` on ``20 n + 1`` equispaced points of [0, 1]."""
    x = _error_points(R)
    u = exact_solution(x)
    return float(np.max(np.abs(R.evaluate(c, x) - u)) / np.max(np.abs(u)))


def _error_points(R):
    return np.linspace(0.0, 1.0, POINTS_PER_INTERVAL * R.space.n_intervals + 1)


def sizes(min_n: int, max_n: int) -> list:
    """``n = 2^k``, ``min_n <= n <= max_n`` (both powers of two)."""
    for name, v in (("min_n", min_n), ("max_n", max_n)):
        if v < 2 or v & (v - 1):
            raise ValueError(f"{name} must be a power of two >= 2, got {v}")
    if max_n < min_n:
        raise ValueError(f"max_n ({max_n}) must be >= min_n ({min_n})")
    return [2 ** k for k in range(int(math.log2(min_n)), int(math.log2(max_n)) + 1)]


# --------------------------------------------------------------------------------------------------
# the three paths, one repeat each


def time_fast(degree, n, alpha, b) -> dict:
    """One repeat of the fast path on a fresh problem: set-up, ``operator()``, ``tau_preconditioner()``
    (informational) and ``solve(b, solver="gmres")``; returns seconds, the GMRES record and ``c``."""
    t0 = time.perf_counter()
    R = problem(degree, n, alpha)
    t1 = time.perf_counter()
    R.operator()
    t2 = time.perf_counter()
    P = R.tau_preconditioner()
    t3 = time.perf_counter()
    c, res = R.solve(b, solver="gmres", info=True)
    t4 = time.perf_counter()
    return {"setup": t1 - t0, "operator": t2 - t1, "tau": t3 - t2, "solve": t4 - t3, "total": (t2 - t1) + (t4 - t3),
            "iterations": int(res.iterations), "residual": float(res.residual), "converged": bool(res.converged),
            "tau_min_eigenvalue": float(P.eigenvalues.min()), "c": c, "R": R}


def _lu(A, b):
    import scipy.linalg as sl

    return sl.lu_solve(sl.lu_factor(A), b)


def time_dense(degree, n, alpha, b) -> dict:
    """One repeat of the structured dense path: ``operator()``, ``.dense()``, LU factor + solve."""
    R = problem(degree, n, alpha)
    t0 = time.perf_counter()
    op = R.operator()
    t1 = time.perf_counter()
    A = op.dense()
    t2 = time.perf_counter()
    c = _lu(A, b)
    t3 = time.perf_counter()
    return {"operator": t1 - t0, "todense": t2 - t1, "assembly": t2 - t0, "lu": t3 - t2, "total": t3 - t0,
            "c": c, "A": A, "R": R}


def time_reference(degree, n, alpha, b) -> dict:
    """One repeat of the reference path: ``dense_matrix()`` (``N^2`` evaluations), LU factor + solve."""
    R = problem(degree, n, alpha)
    t0 = time.perf_counter()
    A = R.dense_matrix()
    t1 = time.perf_counter()
    c = _lu(A, b)
    t2 = time.perf_counter()
    return {"assembly": t1 - t0, "lu": t2 - t1, "total": t2 - t0, "c": c, "A": A, "R": R}


def _warm_up(degree, alpha):
    """Lazy imports (scipy.special, scipy.fft, LAPACK) and first-call costs, on ``n = 16``."""
    R = problem(degree, 16, alpha)
    b = right_hand_side(R)
    time_fast(degree, 16, alpha, b)
    time_dense(degree, 16, alpha, b)
    time_reference(degree, 16, alpha, b)
    relative_error(R, np.zeros(R.size))


# --------------------------------------------------------------------------------------------------
# BLAS threads


def _openblas_libraries():
    """``(path, get, set)`` for every OpenBLAS loaded in this process (NumPy and SciPy each bundle one),
    found through ``/proc/self/maps`` (Linux); empty elsewhere."""
    import ctypes

    import scipy.linalg  # noqa: F401  (load SciPy's BLAS before looking)

    try:
        with open("/proc/self/maps") as fh:
            paths = sorted({ln.split()[-1] for ln in fh if "openblas" in ln.lower() and ln.split()[-1].startswith("/")})
    except OSError:
        return []
    libs = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for pre in ("", "scipy_"):
            for suf in ("", "64_"):
                try:
                    get = getattr(lib, f"{pre}openblas_get_num_threads{suf}")
                    put = getattr(lib, f"{pre}openblas_set_num_threads{suf}")
                except AttributeError:
                    continue
                put.argtypes = [ctypes.c_int]
                libs.append((path, get, put))
                break
            else:
                continue
            break
    return libs


@contextlib.contextmanager
def blas_threads(threads: int):
    """Limit OpenBLAS to ``threads`` threads inside the block (``0``: leave it). Yields a record of the
    libraries found and their thread counts before and inside the block (threadpoolctl if installed,
    else OpenBLAS's own ``openblas_set_num_threads`` through ctypes)."""
    if not threads:
        libs = _openblas_libraries()
        yield {"requested": 0, "method": "unchanged",
               "libraries": [{"library": os.path.basename(p), "threads": int(g())} for p, g, _ in libs]}
        return
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        before = {i["filepath"]: i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"}
        with threadpool_limits(limits=threads, user_api="blas"):
            during = {i["filepath"]: i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"}
            yield {"requested": threads, "method": "threadpoolctl",
                   "libraries": [{"library": os.path.basename(k), "threads_before": v, "threads": during.get(k)}
                                 for k, v in before.items()]}
        return
    libs = _openblas_libraries()
    old = [int(g()) for _, g, _ in libs]
    try:
        for _, _, put in libs:
            put(int(threads))
        yield {"requested": threads, "method": "ctypes openblas_set_num_threads" if libs else "no OpenBLAS found",
               "libraries": [{"library": os.path.basename(p), "threads_before": o, "threads": int(g())}
                             for (p, g, _), o in zip(libs, old)]}
    finally:
        for (_, _, put), o in zip(libs, old):
            put(o)


# --------------------------------------------------------------------------------------------------
# fits and crossovers


def fit_exponent(N, seconds) -> dict | None:
    """Least-squares slope of ``log(seconds)`` against ``log(N)`` over the last ``ceil(k/2)`` of the
    ``k`` points (at least 2); ``None`` with fewer than 2 points."""
    N = [float(v) for v, s in zip(N, seconds) if s is not None]
    s = [float(v) for v in seconds if v is not None]
    k = len(N)
    if k < 2:
        return None
    m = max(2, (k + 1) // 2)
    x, y = np.log(N[k - m:]), np.log(s[k - m:])
    slope, intercept = np.polyfit(x, y, 1)
    return {"exponent": float(slope), "log_prefactor": float(intercept), "N_range": [N[k - m], N[-1]],
            "points": m}


def crossover(ns, Ns, slow, fast) -> dict:
    """Smallest ``n`` at which ``fast`` beats ``slow`` (seconds per grid size; ``None`` where not
    measured). Between the last grid size where ``slow / fast <= 1`` and the next, ``log(ratio)`` is
    interpolated linearly in ``log n``. ``status``: ``"below"`` (fast wins on the whole grid),
    ``"within"``, ``"above"`` (slow still wins at the largest size) or ``"none"`` (no common size)."""
    pts = [(n, N, s / f) for n, N, s, f in zip(ns, Ns, slow, fast) if s is not None and f is not None]
    if not pts:
        return {"status": "none", "n": None, "N": None, "text": "no common sizes"}
    n0 = pts[0][0]
    if all(r > 1 for _, _, r in pts):
        return {"status": "below", "n": None, "N": None, "text": f"< 2^{int(math.log2(n0))} (fast wins at every size)"}
    if pts[-1][2] <= 1:
        n1 = pts[-1][0]
        every = " (dense wins at every size)" if all(r <= 1 for _, _, r in pts) else ""
        return {"status": "above", "n": None, "N": None, "text": f"> 2^{int(math.log2(n1))}{every}"}
    i = max(k for k, (_, _, r) in enumerate(pts) if r <= 1)
    (na, Na, ra), (nb, _, rb) = pts[i], pts[i + 1]
    t = (0.0 - math.log(ra)) / (math.log(rb) - math.log(ra))
    n_star = math.exp(math.log(na) + t * (math.log(nb) - math.log(na)))
    N_star = n_star + (Na - na)
    return {"status": "within", "n": n_star, "N": N_star,
            "text": f"n ~ {n_star:.0f} (N ~ {N_star:.0f}), between 2^{int(math.log2(na))} and 2^{int(math.log2(nb))}"}


# --------------------------------------------------------------------------------------------------
# driver


def _median(v):
    return statistics.median(v) if v else None


def _rel_diff_u(R, c1, c2) -> float:
    x = _error_points(R)
    return float(np.max(np.abs(R.evaluate(c1, x) - R.evaluate(c2, x))) / np.max(np.abs(exact_solution(x))))


def _ms(s):
    if s is None:
        return "-"
    ms = s * 1e3
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def _x(v):
    if v is None:
        return "-"
    return f"{v:.1f}x" if v >= 1 else f"{v:.2f}x"


def _e(v):
    return "-" if v is None else f"{v:.1e}"


HEADER = (f"  {'n':>6s} {'N':>6s} {'setup':>7s} | {'operator':>8s} {'solve':>8s} {'total':>8s} {'its':>3s} "
          f"{'resid':>7s} {'error':>7s} | {'assemble':>8s} {'LU':>8s} {'total':>8s} {'error':>7s} | "
          f"{'assemble':>8s} {'total':>8s} | {'dense/':>7s} {'ref/':>7s} {'LU/':>7s} {'|uf-ud|':>7s}")
HEADER0 = (f"  {'':>6s} {'':>6s} {'ms':>7s} | {'fast path (GMRES + tau), ms':<48s} | "
           f"{'dense: operator().dense() + LU, ms':<35s} | {'reference dense_matrix(), ms':<17s} | "
           f"{'fast':>7s} {'fast':>7s} {'solve':>7s} {'/max|u|':>7s}")


def row_str(r) -> str:
    f, d, ref = r["fast"], r["dense"], r["reference"]
    fs = f["seconds"]
    dense = (f"{_ms(d['seconds']['assembly']):>8s} {_ms(d['seconds']['lu']):>8s} {_ms(d['seconds']['total']):>8s} "
             f"{_e(d['error']):>7s}") if d else f"{'-':>8s} {'-':>8s} {'-':>8s} {'-':>7s}"
    refs = (f"{_ms(ref['seconds']['assembly']):>8s} {_ms(ref['seconds']['total']):>8s}" if ref
            else f"{'-':>8s} {'-':>8s}")
    ratio = r["ratio"]
    its = f"{f['iterations']}" + ("" if f["converged"] else "*")
    return (f"  {r['n']:>6d} {r['N']:>6d} {_ms(f['setup_s']):>7s} | {_ms(fs['operator']):>8s} {_ms(fs['solve']):>8s} "
            f"{_ms(fs['total']):>8s} {its:>3s} {f['residual']:7.1e} {f['error']:7.1e} | {dense} | {refs} | "
            f"{_x(ratio.get('dense_over_fast')):>7s} {_x(ratio.get('reference_over_fast')):>7s} "
            f"{_x(ratio.get('lu_over_gmres')):>7s} {_e(r.get('agreement', {}).get('u_fast_vs_dense')):>7s}")


def run(degree=DEFAULTS["degree"], alpha=DEFAULTS["alpha"], min_n=DEFAULTS["min_n"], max_n=DEFAULTS["max_n"],
        max_dense_n=DEFAULTS["max_dense_n"], max_reference_n=DEFAULTS["max_reference_n"],
        repeats=DEFAULTS["repeats"], out=print) -> dict:
    """Time the three paths on ``n = min_n .. max_n`` (powers of two); prints the table and returns the
    JSON record (rows, exponents, crossovers)."""
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    ns = sizes(min_n, max_n)
    _warm_up(degree, alpha)
    rows = []
    out(HEADER0)
    out(HEADER)
    for n in ns:
        R0 = problem(degree, n, alpha)
        b = right_hand_side(R0)
        do_dense, do_ref = n <= max_dense_n, n <= max_reference_n
        t = {"fast": {k: [] for k in ("setup", "operator", "tau", "solve", "total")},
             "dense": {k: [] for k in ("operator", "todense", "assembly", "lu", "total")},
             "reference": {k: [] for k in ("assembly", "lu", "total")}}
        last = {}
        paths = [("fast", time_fast)] + [("dense", time_dense)] * do_dense + [("reference", time_reference)] * do_ref
        for _ in range(repeats):
            for path, timer in paths:
                last.pop(path, None)  # free the previous round's matrices before timing again
                rec = timer(degree, n, alpha, b)
                for k in t[path]:
                    t[path][k].append(rec[k])
                last[path] = rec
        f = last["fast"]
        N = f["R"].size
        med = {p: {k: _median(v) for k, v in t[p].items()} for p in t}
        best = {p: {k: min(v) if v else None for k, v in t[p].items()} for p in t}
        row = {"n": n, "N": N, "h": 1.0 / n,
               "fast": {"seconds": {k: med["fast"][k] for k in ("operator", "tau", "solve", "total")},
                        "setup_s": med["fast"]["setup"], "seconds_best": best["fast"], "seconds_all": t["fast"],
                        "iterations": f["iterations"], "residual": f["residual"], "converged": f["converged"],
                        "error": relative_error(f["R"], f["c"])},
               "dense": None, "reference": None, "ratio": {}, "agreement": {}}
        if do_dense:
            d = last["dense"]
            row["dense"] = {"seconds": med["dense"], "seconds_best": best["dense"], "seconds_all": t["dense"],
                            "error": relative_error(d["R"], d["c"])}
            row["ratio"]["dense_over_fast"] = med["dense"]["total"] / med["fast"]["total"]
            row["ratio"]["lu_over_gmres"] = med["dense"]["lu"] / med["fast"]["solve"]
            diff = _rel_diff_u(f["R"], f["c"], d["c"])
            r_abs = f["residual"] * float(np.linalg.norm(b))
            bound = r_abs / f["tau_min_eigenvalue"] / float(np.max(np.abs(exact_solution(_error_points(f["R"])))))
            tol = max(AGREE_TOL, 10.0 * bound)
            row["agreement"].update(u_fast_vs_dense=diff, bound=bound, tol=tol, agree=diff <= tol,
                                    c_fast_vs_dense=float(np.max(np.abs(f["c"] - d["c"])) / np.max(np.abs(d["c"]))))
        if do_ref:
            rf = last["reference"]
            row["reference"] = {"seconds": med["reference"], "seconds_best": best["reference"],
                                "seconds_all": t["reference"],
                                "error": relative_error(rf["R"], rf["c"])}
            row["ratio"]["reference_over_fast"] = med["reference"]["total"] / med["fast"]["total"]
            if do_dense:
                A = last["dense"]["A"]
                row["agreement"]["matrix_reference_vs_dense"] = float(
                    np.max(np.abs(rf["A"] - A)) / np.max(np.abs(A)))
                row["agreement"]["u_reference_vs_dense"] = _rel_diff_u(f["R"], rf["c"], last["dense"]["c"])
        rows.append(row)
        out(row_str(row))
        del last, f

    def col(path, key):
        return [r[path]["seconds"][key] if r[path] else None for r in rows]

    Ns = [r["N"] for r in rows]
    exps = {
        "fast_total": fit_exponent(Ns, col("fast", "total")),
        "fast_operator": fit_exponent(Ns, col("fast", "operator")),
        "fast_solve": fit_exponent(Ns, col("fast", "solve")),
        "dense_todense": fit_exponent(Ns, col("dense", "todense")),
        "dense_assembly": fit_exponent(Ns, col("dense", "assembly")),
        "dense_lu": fit_exponent(Ns, col("dense", "lu")),
        "reference_assembly": fit_exponent(Ns, col("reference", "assembly")),
    }
    cross = {
        "total_vs_dense": crossover(ns, Ns, col("dense", "total"), col("fast", "total")),
        "total_vs_reference": crossover(ns, Ns, col("reference", "total"), col("fast", "total")),
        "solve_only": crossover(ns, Ns, col("dense", "lu"), col("fast", "solve")),
    }
    compared = [r["agreement"]["agree"] for r in rows if "agree" in r["agreement"]]
    return {"rows": rows, "exponents": exps, "crossover": cross,
            "all_agree": all(compared) if compared else None,
            "max_u_fast_vs_dense": max((r["agreement"]["u_fast_vs_dense"] for r in rows
                                        if "u_fast_vs_dense" in r["agreement"]), default=None)}


EXPONENT_LABELS = (
    ("fast_total", "fast total (operator + GMRES)", "~1 (N log N)"),
    ("fast_operator", "fast operator()", "~1"),
    ("fast_solve", "fast GMRES solve", "~1 (N log N)"),
    ("dense_todense", "operator().dense()", "~2"),
    ("dense_lu", "dense LU factor + solve", "~3"),
    ("reference_assembly", "reference dense_matrix()", "~2"),
)


def plot(results: dict, path) -> None:
    """Time against ``N`` for each path (log-log) with the fitted slopes; ratios on the right."""
    from pdekit.analysis import pyplot, save_figure

    plt = pyplot()
    rows = results["rows"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 5))
    series = (("fast", "total", "fast_total", "fast total", "C0", "o-"),
              ("fast", "operator", "fast_operator", "fast operator()", "C0", "s:"),
              ("fast", "solve", "fast_solve", "fast GMRES solve", "C0", "^--"),
              ("dense", "todense", "dense_todense", "operator().dense()", "C1", "s:"),
              ("dense", "lu", "dense_lu", "dense LU", "C1", "^--"),
              ("dense", "total", None, "dense total", "C1", "o-"),
              ("reference", "assembly", "reference_assembly", "reference dense_matrix()", "C2", "s:"),
              ("reference", "total", None, "reference total", "C2", "o-"))
    for which, key, fit_key, label, color, style in series:
        pts = [(r["N"], r[which]["seconds"][key]) for r in rows if r[which]]
        if not pts:
            continue
        N, s = zip(*pts)
        fit = results["exponents"].get(fit_key) if fit_key else None
        if fit:
            label += f" (slope {fit['exponent']:.2f})"
        ax.loglog(N, s, style, color=color, label=label, ms=4)
        if fit:
            Nf = np.array(fit["N_range"])
            ax.loglog(Nf, np.exp(fit["log_prefactor"]) * Nf ** fit["exponent"], "-", color="k", lw=0.6, alpha=0.6)
    ax.set_xlabel("N (unknowns)")
    ax.set_ylabel("seconds (median)")
    ax.set_title("Riesz collocation: time against N (thin lines: fits)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    for key, label, color in (("dense_over_fast", "dense total / fast total", "C1"),
                              ("reference_over_fast", "reference total / fast total", "C2"),
                              ("lu_over_gmres", "LU / GMRES solve", "C3")):
        pts = [(r["N"], r["ratio"][key]) for r in rows if key in r["ratio"]]
        if pts:
            ax2.loglog(*zip(*pts), "o-", color=color, label=label, ms=4)
    ax2.axhline(1.0, color="k", lw=0.8)
    ax2.xaxis.set_minor_formatter(plt.NullFormatter())
    ax2.set_xlabel("N (unknowns)")
    ax2.set_ylabel("ratio (> 1: fast path faster)")
    ax2.set_title("speed-up of the fast path")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=7)
    save_figure(fig, path)


def _versions() -> dict:
    import scipy

    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "pdekit": _dist_version("pdekit")}


def _machine() -> dict:
    info = {"cpu_count": os.cpu_count(), "platform": platform.platform(),
            "blas_threads_env": {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                            "MKL_NUM_THREADS") if k in os.environ}}
    try:
        info["loadavg_start"] = os.getloadavg()
    except OSError:  # pragma: no cover
        pass
    return info


def _pow2(text):
    try:
        v = int(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 2 or v & (v - 1):
        raise argparse.ArgumentTypeError(f"must be a power of two >= 2, got {text}")
    return v


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="pdekit bench riesz-fractional", description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--plot", metavar="PATH", help="time against N for each path (PNG)")
    ap.add_argument("--quick", action="store_true", help="n = 16 .. 128, one repeat (smoke test)")
    ap.add_argument("--degree", type=int, default=DEFAULTS["degree"], help="B-spline degree p >= 2 (default 3)")
    ap.add_argument("--alpha", type=float, default=DEFAULTS["alpha"], help="order in (1, 2) (default 1.5)")
    ap.add_argument("--repeats", type=int, default=None, help="repeats per size, medians reported (default 3)")
    ap.add_argument("--min-n", type=_pow2, default=None, help="smallest number of intervals (default 256)")
    ap.add_argument("--max-n", type=_pow2, default=None, help="largest number of intervals (default 65536)")
    ap.add_argument("--max-dense-n", type=_pow2, default=None,
                    help="largest n for operator().dense() + LU (default 4096)")
    ap.add_argument("--max-reference-n", type=_pow2, default=None,
                    help="largest n for the dense_matrix() reference (default 4096)")
    ap.add_argument("--blas-threads", type=int, default=1,
                    help="OpenBLAS threads during the run (default 1, like the FFT path; 0: leave as is)")
    args = ap.parse_args(argv)
    base = dict(DEFAULTS, **QUICK) if args.quick else dict(DEFAULTS)
    opts = {k: getattr(args, k) if getattr(args, k) is not None else base[k]
            for k in ("min_n", "max_n", "max_dense_n", "max_reference_n", "repeats")}
    if opts["repeats"] < 1:
        ap.error("--repeats must be >= 1")
    if args.blas_threads < 0:
        ap.error("--blas-threads must be >= 0")
    if args.degree < 2:
        ap.error(f"--degree must be >= 2, got {args.degree}")
    if not 1.0 < args.alpha < 2.0:
        ap.error(f"--alpha must lie in the open interval (1, 2), got {args.alpha}")
    if opts["max_n"] < opts["min_n"]:
        ap.error(f"--max-n ({opts['max_n']}) must be >= --min-n ({opts['min_n']})")

    t_start = time.perf_counter()
    versions, machine = _versions(), _machine()
    print(f"pdekit {versions['pdekit']}, numpy {versions['numpy']}, scipy {versions['scipy']}, Python "
          f"{versions['python']}; {machine['cpu_count']} CPUs"
          + (f", load average {machine['loadavg_start'][0]:.2f}" if "loadavg_start" in machine else "")
          + (f", {machine['blas_threads_env']}" if machine["blas_threads_env"] else ""))
    print(f"problem: (-Delta)^(alpha/2) u = f on (0, 1), u = x^4 (1-x)^4, alpha = {args.alpha:g}, B-splines of "
          f"degree {args.degree} on n uniform intervals, N = n + {args.degree - 2} unknowns")
    with blas_threads(args.blas_threads) as blas:
        libs = ", ".join(f"{lib['library']}: {lib['threads']}" for lib in blas["libraries"]) or "none found"
        print(f"BLAS threads ({blas['method']}): {libs}")
        print(f"timing: median of {opts['repeats']} repeat(s) on fresh objects, paths interleaved; fast = "
              "operator() + solve(gmres) (solve includes the tau preconditioner); dense = operator().dense() + "
              f"lu_factor/lu_solve (n <= {opts['max_dense_n']}); reference = dense_matrix() (N^2 evaluations; "
              f"n <= {opts['max_reference_n']}); setup (BSplineSpace + RieszCollocation) common to all, not in "
              "the totals")
        print("error = max|u_h - u| / max|u| on 20n+1 points; ratios > 1: fast path faster; its* = GMRES "
              "stopped at its round-off floor above 1e-10 (residual reached shown)")
        results = run(args.degree, args.alpha, opts["min_n"], opts["max_n"], opts["max_dense_n"],
                      opts["max_reference_n"], opts["repeats"])
    print("fitted cost exponents (slope of log time vs log N over the upper half of each range):")
    for key, label, expect in EXPONENT_LABELS:
        e = results["exponents"][key]
        if e:
            print(f"  {label:<32s} {e['exponent']:5.2f}  (expected {expect}; N = {e['N_range'][0]:.0f} .. "
                  f"{e['N_range'][1]:.0f}, {e['points']} points)")
    cr = results["crossover"]
    print("crossover (smallest n where the fast path is faster):")
    print(f"  fast total vs dense (operator().dense() + LU): {cr['total_vs_dense']['text']}")
    print(f"  fast total vs reference (dense_matrix() + LU): {cr['total_vs_reference']['text']}")
    print(f"  solve only (GMRES vs LU factor + solve):       {cr['solve_only']['text']}")
    if results["max_u_fast_vs_dense"] is not None:
        print(f"agreement: max |u_fast - u_dense| / max|u| = {results['max_u_fast_vs_dense']:.1e} "
              f"({'all' if results['all_agree'] else 'NOT all'} within max({AGREE_TOL:g}, 10 x bound))")
    if args.plot:
        plot(results, args.plot)
        print(f"plot: {args.plot}")
    results["wall_seconds"] = time.perf_counter() - t_start
    print(f"total wall time {results['wall_seconds']:.1f} s")
    try:
        machine["loadavg_end"] = os.getloadavg()
    except OSError:  # pragma: no cover
        pass
    results.update(versions=versions, machine=machine, degree=args.degree, alpha=args.alpha, quick=args.quick,
                   agree_tol=AGREE_TOL, blas=blas, points_per_interval=POINTS_PER_INTERVAL,
                   exact_solution="x^4 (1 - x)^4", **opts)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=float)
    return 0 if results["all_agree"] is not False else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
