"""``pdekit bench sheaf-diffusion``: the matrix-free normalised sheaf Laplacian against scipy.sparse.

Operation timed: ``Y = Delta_F X`` with ``Delta_F = D^{-1/2} L_F D^{-1/2}`` the normalised sheaf
Laplacian (Bodnar et al. 2022) and ``X`` of shape ``(n, d, f)`` (``n d x f`` as a matrix), on the same
operator three ways:

``matrix-free``  ``Sheaf.apply(X, normalised=True, out=Y)``: pdekit's compiled kernel
                 (:func:`pdekit.sheaf.kernels.laplacian_apply`; one node-parallel pass that keeps only
                 the restriction maps and forms each ``d x d`` block on the fly), output preallocated,
                 after a warm-up call (compilation / loading numba's disk cache excluded). Timed with
                 numba's thread count (``numba.get_num_threads()``, reported) and, for a like-for-like
                 comparison with single-threaded SciPy, with one thread.
``BSR``          ``L_bsr @ X.reshape(n d, f)`` with ``L_bsr = sheaf.laplacian(normalised=True,
                 format="bsr")``: scipy.sparse BSR matrix with ``d x d`` blocks (``bsr_matvecs``,
                 single-threaded; SciPy allocates the result on every call, as its ``@`` does).
``CSR``          the same operator as a CSR matrix, for reference.

Problems: random simple graphs with ``E`` edges (default 10^4, 10^5, 10^6) on ``n = 2E / 10`` nodes
(mean degree 10): ``E`` distinct node pairs drawn uniformly (self-loops and repeated pairs dropped
and redrawn), stored as ``(u, v)``, ``u < v``, sorted; general restriction maps with independent
``N(0, 1/d)`` entries (``Sheaf.general``); ``d`` in {1, 2, 4}; ``f`` in {1, 16, 64}; ``X`` standard normal.
Fixed seeds (``--seed``).

Reported per case: median seconds of ``--repeats`` calls (the three codes interleaved call by call,
so that load on a shared machine hits them alike; all individual times are in the JSON);
throughput ``E d^2 f`` per second; the ratio ``BSR seconds / matrix-free seconds`` (> 1: matrix-free
faster); the agreement ``max |Y_mf - Y_bsr| / max |Y_bsr|`` (and CSR against BSR); per ``(E, d)`` the
one-off cost of building the BSR and CSR matrices and the matrix-free set-up (incidence list and
maps in incidence order). Cases whose estimated peak memory exceeds ``--max-gib`` are skipped and
listed. ``--quick``: ``E = 10^4``, ``d`` in {1, 4}, ``f`` in {1, 16} (a smoke test).

Agreement: the matrix-free and BSR results differ by rounding only: ``max |Y_mf - Y_bsr| /
max |Y_bsr|`` ``~1e-15``--``1e-14`` (the kernel forms its diagonal blocks ``D^{-1/2} D D^{-1/2}`` with
the summation order and association of the assembled operator; at ``d = 4`` a few degree-1 nodes
have ``D_v = F^T F`` with condition numbers up to ``~1e7``, where any two evaluations differ far more
than elsewhere). The check passes below :data:`AGREE_TOL` ``= 1e-10``; the exit status is 1 if any
case does not.
"""
from __future__ import annotations

import argparse
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
    "SIZES", "STALKS", "CHANNELS", "QUICK", "MEAN_DEGREE", "random_graph", "random_sheaf", "features",
    "estimate_bytes", "build_operators", "time_case", "max_rel_diff", "run", "main",
]

SIZES = (10_000, 100_000, 1_000_000)
STALKS = (1, 2, 4)
CHANNELS = (1, 16, 64)
QUICK = {"sizes": (10_000,), "stalks": (1, 4), "channels": (1, 16)}
MEAN_DEGREE = 10.0
DEFAULT_MAX_GIB = 8.0
#: agreement required between the matrix-free and the BSR result (max abs difference / max abs value)
AGREE_TOL = 1e-10

NOTE = (
    "per incidence (each edge is seen from both ends) the assembled matrix streams one stored d x d block "
    "(d^2 numbers) and applies it (d^2 f multiply-adds); the matrix-free kernel streams the two restriction "
    "maps (2 d^2 numbers), forms the block (d^3) and applies it (d^2 f). At f = 1 that is twice the data "
    "and extra work, so the matrix is faster on graphs that fit in cache; on large graphs both wait for the "
    "randomly gathered rows X_o, and the kernel's prefetching of those rows can win back the difference "
    "(d >= 2). From f = 16 the block application and the gather dominate: the kernel's register "
    "accumulation over each block row, contiguous vectorised channel loop and prefetching beat SciPy "
    "(BSR: bsr_matvecs, a scalar triple loop per block; CSR: one scalar entry at a time), even on one "
    "thread. A second thread gives up to ~2x from 10^5 edges when the second core is free; when another "
    "process holds it, a parallel call can wait a scheduler time slice (milliseconds) for it, which shows "
    "as outliers in the 'mf 2t' column (the kernel runs on one thread below 2^20 multiply-adds for that "
    "reason). The matrix-free kernel never assembles: the BSR build (sparse products and normalisation) "
    "costs seconds at 10^6 edges and a changing sheaf (learned maps) pays it whenever the maps change; "
    "the kernel's set-up (D^{-1/2}, maps times D^{-1/2} in incidence order) is several times cheaper."
)


# --------------------------------------------------------------------------------------------------
# problems


def n_nodes_for(n_edges: int, mean_degree: float = MEAN_DEGREE) -> int:
    """``n = round(2 E / mean_degree)`` (at least the smallest ``n`` with ``n (n - 1) / 2 >= E``)."""
    if n_edges < 1:
        raise ValueError(f"n_edges must be >= 1, got {n_edges}")
    if not mean_degree > 0:
        raise ValueError(f"mean_degree must be > 0, got {mean_degree}")
    n = max(2, int(round(2.0 * n_edges / mean_degree)))
    while n * (n - 1) // 2 < n_edges:
        n += 1
    return n


def random_graph(n_edges: int, n_nodes: int | None = None, seed: int = 0, mean_degree: float = MEAN_DEGREE):
    """A uniformly random simple graph with exactly ``n_edges`` edges on ``n_nodes`` nodes
    (default :func:`n_nodes_for`): pairs drawn with replacement, self-loops and repeats dropped, more
    drawn until there are enough; the first ``n_edges`` distinct pairs in draw order are kept and
    stored as ``(u, v)``, ``u < v``, sorted lexicographically."""
    from pdekit.sheaf.graph import Graph

    n = n_nodes_for(n_edges, mean_degree) if n_nodes is None else int(n_nodes)
    if n * (n - 1) // 2 < n_edges:
        raise ValueError(f"{n} nodes hold at most {n * (n - 1) // 2} edges, asked for {n_edges}")
    rng = np.random.default_rng(seed)
    keys = np.empty(0, dtype=np.int64)
    while keys.size < n_edges:
        m = int(1.2 * (n_edges - keys.size)) + 16
        a = rng.integers(0, n, m, dtype=np.int64)
        b = rng.integers(0, n, m, dtype=np.int64)
        ok = a != b
        new = np.minimum(a[ok], b[ok]) * n + np.maximum(a[ok], b[ok])
        allk = np.concatenate([keys, new])
        _, first = np.unique(allk, return_index=True)
        keys = allk[np.sort(first)]
    keys = np.sort(keys[:n_edges])
    return Graph(n, np.stack([keys // n, keys % n], axis=1))


def random_sheaf(graph, d: int, seed: int = 1):
    """``Sheaf.general`` with independent ``N(0, 1/d)`` map entries."""
    from pdekit.sheaf.sheaf import Sheaf

    rng = np.random.default_rng(seed)
    return Sheaf.general(graph, rng.normal(scale=1.0 / math.sqrt(d), size=(graph.n_edges, 2, d, d)))


def features(n: int, d: int, f: int, seed: int = 2) -> np.ndarray:
    """Standard-normal node features, C-contiguous ``(n, d, f)``."""
    return np.random.default_rng(seed).standard_normal((n, d, f))


def estimate_bytes(n_edges: int, n_nodes: int, d: int, f: int) -> int:
    """Rough peak memory of one case: the maps (two sheaves' copies) and their incidence-ordered copy,
    the BSR and CSR matrices with the intermediates of their assembly (coboundary, ``delta^T delta``,
    the scaled product: taken as 6 matrices' worth), and four ``n d f`` feature arrays (``X``, the
    matrix-free output, the BSR and CSR results)."""
    blocks = (2 * n_edges + n_nodes) * d * d
    maps = 2 * 2 * n_edges * d * d * 8
    incidence = maps + 2 * n_edges * 8 * 3
    matrices = 6 * blocks * 12
    feats = 4 * n_nodes * d * f * 8
    return int(maps + incidence + matrices + feats)


def max_rel_diff(a, b) -> float:
    """``max |a - b| / max |b|`` (0 when both are zero)."""
    a = np.asarray(a).ravel()
    b = np.asarray(b).ravel()
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    diff = float(np.max(np.abs(a - b))) if b.size else 0.0
    return diff / scale if scale > 0 else diff


# --------------------------------------------------------------------------------------------------
# operators and timing


def _fresh(sheaf):
    """The same sheaf with an empty operator cache."""
    from pdekit.sheaf.sheaf import Sheaf

    return Sheaf(sheaf.graph, sheaf.maps, kind=sheaf.kind)


def _warm_setup(d):
    """Load (or compile) the set-up kernel for stalk dimension ``d`` on a 5-node ring, so that the
    timed set-up excludes it as the timed applies exclude the first call."""
    from pdekit.sheaf.graph import Graph
    from pdekit.sheaf.sheaf import Sheaf

    ring = Graph.ring(5)
    Sheaf.general(ring, np.ones((5, 2, d, d)) + np.eye(d))._apply_operands(True)


def build_operators(sheaf, csr: bool = True) -> dict:
    """Build the normalised Laplacian as BSR (and CSR) and the matrix-free operands, each once on a
    sheaf with an empty cache (nothing shared, not even ``D^{-1/2}``; the set-up kernel loaded
    beforehand); returns the operators, a sheaf ready for ``apply`` and the build seconds."""
    out = {}
    s = _fresh(sheaf)
    t0 = time.perf_counter()
    out["bsr"] = s.laplacian(normalised=True, format="bsr")
    out["build_bsr_s"] = time.perf_counter() - t0
    if csr:
        s = _fresh(sheaf)
        t0 = time.perf_counter()
        out["csr"] = s.laplacian(normalised=True, format="csr")
        out["build_csr_s"] = time.perf_counter() - t0
    _warm_setup(sheaf.d)
    s = _fresh(sheaf)
    t0 = time.perf_counter()
    s._incidence()
    s._apply_operands(True)
    out["setup_mf_s"] = time.perf_counter() - t0
    out["sheaf"] = s
    return out


def time_case(ops: dict, X: np.ndarray, repeats: int = 3, threads=(None, 1), csr: bool = True) -> dict:
    """Median seconds of ``repeats`` calls of each code on ``X`` (n, d, f), interleaved call by call,
    after one warm-up call each. ``threads``: numba thread counts for the matrix-free kernel
    (``None``: numba's current setting). Returns times, results' agreement and the thread counts."""
    import numba

    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    sheaf = ops["sheaf"]
    n, d, f = X.shape
    X2 = X.reshape(n * d, f)
    out = np.empty_like(X)
    default = numba.get_num_threads()
    counts = []
    for t in threads:
        c = default if t is None else max(1, min(int(t), numba.config.NUMBA_NUM_THREADS))
        if c not in counts:
            counts.append(c)

    calls = {f"mf_{c}t": (c, lambda: sheaf.apply(X, normalised=True, out=out)) for c in counts}
    calls["bsr"] = (None, lambda: ops["bsr"] @ X2)
    if csr and "csr" in ops:
        calls["csr"] = (None, lambda: ops["csr"] @ X2)
    times = {k: [] for k in calls}
    try:
        for c, fn in calls.values():  # warm-up: compilation / numba's disk cache, SciPy's lazy imports
            if c is not None:
                numba.set_num_threads(c)
            fn()
        for _ in range(repeats):
            for k, (c, fn) in calls.items():
                if c is not None:
                    numba.set_num_threads(c)
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
    finally:
        numba.set_num_threads(default)
    # agreement (fresh calls; the timed ones' results are discarded)
    y_mf = sheaf.apply(X, normalised=True, out=out).reshape(n * d, f)
    y_bsr = ops["bsr"] @ X2
    rec = {"threads": counts, "seconds": {k: statistics.median(v) for k, v in times.items()},
           "seconds_all": times, "max_rel_diff_mf_vs_bsr": max_rel_diff(y_mf, y_bsr)}
    if "csr" in calls:
        rec["max_rel_diff_csr_vs_bsr"] = max_rel_diff(ops["csr"] @ X2, y_bsr)
    return rec


# --------------------------------------------------------------------------------------------------
# driver


def _versions() -> dict:
    import numba
    import scipy

    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "numba": numba.__version__, "pdekit": _dist_version("pdekit")}


def _machine() -> dict:
    import numba

    info = {"cpu_count": os.cpu_count(), "numba_threads": numba.get_num_threads(),
            "numba_max_threads": numba.config.NUMBA_NUM_THREADS, "platform": platform.platform()}
    try:
        info["loadavg_start"] = os.getloadavg()
    except OSError:  # pragma: no cover
        pass
    return info


def _serial_below():
    from pdekit.sheaf import kernels

    return kernels.SERIAL_BELOW


def _threading_layer():
    import numba

    try:
        return numba.threading_layer()
    except ValueError:  # no parallel region run yet
        return None


def _g(x):
    return f"{x:.3g}"


def _x(v):
    if v is None:
        return "-"
    return f"{v:.1f}x" if v >= 1 else f"{v:.2f}x"


def _sec(s):
    return f"{s * 1e3:9.2f}" if s < 10 else f"{s * 1e3:9.0f}"


def header(counts) -> str:
    mf = "".join(f" {'mf ' + str(c) + 't ms':>10s}" for c in counts)
    rat = "".join(f" {'BSR/mf ' + str(c) + 't':>11s}" for c in counts)
    return (f"  {'E':>8s} {'n':>7s} {'d':>2s} {'f':>3s}{mf} {'BSR ms':>9s} {'CSR ms':>9s}"
            f" {'mf Ged2f/s':>10s} {'BSR Ged2f/s':>11s}{rat} {'CSR/mf ' + str(counts[0]) + 't':>11s}"
            f" {'rel diff':>9s}")


def row_str(r) -> str:
    counts = r["threads"]
    s = r["seconds"]
    mf = "".join(f" {_sec(s[f'mf_{c}t']):>10s}" for c in counts)
    rat = "".join(f" {_x(r['ratio_bsr_over_mf'][f'{c}t']):>11s}" for c in counts)
    csr = _sec(s["csr"]) if "csr" in s else "-"
    csr_ratio = _x(r["ratio_csr_over_mf"][f"{counts[0]}t"]) if "ratio_csr_over_mf" in r else "-"
    return (f"  {r['E']:>8d} {r['n']:>7d} {r['d']:>2d} {r['f']:>3d}{mf} {_sec(s['bsr']):>9s} {csr:>9s}"
            f" {r['throughput'][f'mf_{counts[0]}t'] / 1e9:10.3f} {r['throughput']['bsr'] / 1e9:11.3f}{rat}"
            f" {csr_ratio:>11s} {r['max_rel_diff_mf_vs_bsr']:9.1e}")


def run(sizes=SIZES, stalks=STALKS, channels=CHANNELS, repeats=3, threads=(None, 1), max_gib=DEFAULT_MAX_GIB,
        seed=0, mean_degree=MEAN_DEGREE, csr=True, out=print) -> dict:
    """The whole grid; prints the table and returns the JSON record."""
    results = {"cases": [], "builds": [], "skipped": []}
    cap = max_gib * 2 ** 30
    printed_header = False
    for E in sizes:
        n = n_nodes_for(E, mean_degree)
        todo = [(d, f) for d in stalks for f in channels]
        keep = [(d, f) for d, f in todo if estimate_bytes(E, n, d, f) <= cap]
        for d, f in todo:
            if (d, f) not in keep:
                gib = estimate_bytes(E, n, d, f) / 2 ** 30
                results["skipped"].append({"E": E, "n": n, "d": d, "f": f, "estimated_gib": gib,
                                           "reason": f"estimated peak {gib:.1f} GiB > --max-gib {max_gib:g}"})
                out(f"  skipped E={E} d={d} f={f}: estimated peak memory {gib:.1f} GiB > --max-gib {max_gib:g}")
        if not keep:
            continue
        t0 = time.perf_counter()
        graph = random_graph(E, n, seed=seed)
        t_graph = time.perf_counter() - t0
        for d in sorted({d for d, _ in keep}):
            sheaf = random_sheaf(graph, d, seed=seed + 1)
            ops = build_operators(sheaf, csr=csr)
            b = {"E": E, "n": n, "d": d, "graph_s": t_graph, "build_bsr_s": ops["build_bsr_s"],
                 "build_csr_s": ops.get("build_csr_s"), "setup_mf_s": ops["setup_mf_s"],
                 "bsr_blocks": int(ops["bsr"].indptr[-1])}
            results["builds"].append(b)
            for f in [f for dd, f in keep if dd == d]:
                X = features(n, d, f, seed=seed + 2)
                rec = time_case(ops, X, repeats=repeats, threads=threads, csr=csr)
                work = float(E) * d * d * f
                counts = rec["threads"]
                rec.update(E=E, n=n, d=d, f=f, work=work,
                           mf_serial=2 * E * d * d * (f + d) < _serial_below(),
                           throughput={k: work / v for k, v in rec["seconds"].items()},
                           ratio_bsr_over_mf={f"{c}t": rec["seconds"]["bsr"] / rec["seconds"][f"mf_{c}t"]
                                              for c in counts},
                           agree=rec["max_rel_diff_mf_vs_bsr"] <= AGREE_TOL)
                if "csr" in rec["seconds"]:
                    rec["ratio_csr_over_mf"] = {f"{c}t": rec["seconds"]["csr"] / rec["seconds"][f"mf_{c}t"]
                                                for c in counts}
                results["cases"].append(rec)
                if not printed_header:
                    out(header(counts))
                    printed_header = True
                out(row_str(rec))
                del X
            csr_txt = f", CSR {b['build_csr_s']:.2f} s" if b["build_csr_s"] is not None else ""
            out(f"  {'':>8s} E={E} d={d}: build BSR {b['build_bsr_s']:.2f} s{csr_txt}; matrix-free set-up "
                f"{b['setup_mf_s']:.3f} s (graph {t_graph:.2f} s)")
            del ops, sheaf
    results["summary"] = summarise(results["cases"])
    return results


def summarise(cases) -> dict:
    """Ratios ``BSR / matrix-free`` grouped by ``f`` (min, median, max) per thread count; the cases
    where the matrix-free kernel is slower; whether all results agreed."""
    summ = {"all_agree": all(c["agree"] for c in cases) if cases else None,
            "max_rel_diff": max((c["max_rel_diff_mf_vs_bsr"] for c in cases), default=None), "by_f": {},
            "by_f_csr": {}, "slower": []}
    for c in cases:
        for t, r in c["ratio_bsr_over_mf"].items():
            summ["by_f"].setdefault(str(c["f"]), {}).setdefault(t, []).append(r)
            if r < 1:
                summ["slower"].append({"E": c["E"], "d": c["d"], "f": c["f"], "threads": t, "ratio": r})
        for t, r in c.get("ratio_csr_over_mf", {}).items():
            summ["by_f_csr"].setdefault(str(c["f"]), {}).setdefault(t, []).append(r)
    for key in ("by_f", "by_f_csr"):
        for per in summ[key].values():
            for t, rs in per.items():
                per[t] = {"min": min(rs), "median": statistics.median(rs), "max": max(rs), "count": len(rs)}
    return summ


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="pdekit bench sheaf-diffusion", description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--quick", action="store_true", help="E = 1e4, d in {1, 4}, f in {1, 16} (smoke test)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", type=float, nargs="+", metavar="E", help="edge counts (default 1e4 1e5 1e6)")
    ap.add_argument("--d", type=int, nargs="+", dest="stalks", metavar="D", help="stalk dimensions (default 1 2 4)")
    ap.add_argument("--f", type=int, nargs="+", dest="channels", metavar="F", help="channels (default 1 16 64)")
    ap.add_argument("--threads", type=int, nargs="+", metavar="T",
                    help="numba thread counts for the matrix-free kernel (default: numba's setting and 1)")
    ap.add_argument("--max-gib", type=float, default=DEFAULT_MAX_GIB,
                    help=f"skip cases whose estimated peak memory exceeds this (default {DEFAULT_MAX_GIB:g})")
    ap.add_argument("--mean-degree", type=float, default=MEAN_DEGREE)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-csr", action="store_true", help="skip the CSR reference")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    if not args.max_gib > 0:
        ap.error("--max-gib must be > 0")
    if not args.mean_degree > 0:
        ap.error("--mean-degree must be > 0")
    base = QUICK if args.quick else {"sizes": SIZES, "stalks": STALKS, "channels": CHANNELS}
    sizes = tuple(int(e) for e in args.sizes) if args.sizes else base["sizes"]
    stalks = tuple(args.stalks) if args.stalks else base["stalks"]
    channels = tuple(args.channels) if args.channels else base["channels"]
    if min(sizes) < 1 or min(stalks) < 1 or min(channels) < 1:
        ap.error("sizes, d and f must be >= 1")
    threads = tuple(args.threads) if args.threads else (None, 1)
    if args.threads and min(args.threads) < 1:
        ap.error("--threads must be >= 1")

    versions, machine = _versions(), _machine()
    print(f"pdekit {versions['pdekit']}, numpy {versions['numpy']}, scipy {versions['scipy']}, numba "
          f"{versions['numba']}, Python {versions['python']}; {machine['cpu_count']} CPUs, numba threads "
          f"{machine['numba_threads']} (max {machine['numba_max_threads']})"
          + (f", load average {machine['loadavg_start'][0]:.2f}" if "loadavg_start" in machine else ""))
    print("operation: Y = Delta_F X, normalised sheaf Laplacian, X (n d x f); random graphs, n = 2E/"
          f"{args.mean_degree:g}, general N(0, 1/d) maps, seed {args.seed}")
    print(f"timing: median of {args.repeats} calls each, interleaved, after a warm-up call; matrix-free = "
          "Sheaf.apply(X, out=Y) (compiled, preallocated output) with 'mf Nt' = N numba threads (the kernel "
          f"runs on one below {_serial_below()} multiply-adds, 2E d^2 (f + d)); BSR / CSR = scipy.sparse "
          "L @ X (single-threaded, allocates Y)")
    print("throughput: E d^2 f per second (G = 1e9); BSR/mf = BSR seconds / matrix-free seconds (> 1: "
          "matrix-free faster); rel diff = max|Y_mf - Y_BSR| / max|Y_BSR|")
    results = run(sizes, stalks, channels, repeats=args.repeats, threads=threads, max_gib=args.max_gib,
                  seed=args.seed, mean_degree=args.mean_degree, csr=not args.no_csr)
    summ = results["summary"]
    if results["cases"]:
        print("summary (min / median / max over the cases; > 1: matrix-free faster):")
        for key, name in (("by_f", "BSR/mf"), ("by_f_csr", "CSR/mf")):
            for f, per in sorted(summ[key].items(), key=lambda kv: int(kv[0])):
                print(f"  {name} f = {f:>3s}: " + ";  ".join(
                    f"{t}: {_x(v['min'])} / {_x(v['median'])} / {_x(v['max'])}" for t, v in per.items()))
        print(f"  agreement: max rel diff {summ['max_rel_diff']:.1e} "
              f"({'all' if summ['all_agree'] else 'NOT all'} within {AGREE_TOL:g})")
        slow = [s for s in summ["slower"] if s["f"] >= 16]
        if slow:
            print("  matrix-free slower at f >= 16 in: " + ", ".join(
                f"E={s['E']} d={s['d']} f={s['f']} {s['threads']} ({_x(s['ratio'])})" for s in slow))
        print(f"numba threading layer: {_threading_layer()}")
        print("note: " + NOTE)
    results.update(versions=versions, machine=machine, threading_layer=_threading_layer(), repeats=args.repeats,
                   quick=args.quick, max_gib=args.max_gib, mean_degree=args.mean_degree, seed=args.seed,
                   agree_tol=AGREE_TOL, note=NOTE, serial_below=_serial_below(),
                   operation="normalised sheaf Laplacian Delta_F X",
                   sizes=list(sizes), stalks=list(stalks), channels=list(channels))
    try:
        results["machine"]["loadavg_end"] = os.getloadavg()
    except OSError:  # pragma: no cover
        pass
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=float)
    return 0 if (summ["all_agree"] is not False) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
