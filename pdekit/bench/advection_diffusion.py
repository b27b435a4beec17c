"""``pdekit bench advection-diffusion``: pdekit against py-pde and FiPy on the same problems.

Problems (:mod:`pdekit.bench.peers`): 2D periodic diffusion and advection–diffusion on the unit
square, Gaussian bump, explicit Euler with the same fixed ``dt`` for every code. For each size:

* pdekit kernel: the compiled N-step loop alone (after a warm-up step), cell updates per second;
* pdekit whole run: a complete ``pdekit.run`` call (set-up, cached kernels, stepping, output in
  memory) timed in a *fresh process*, as a user pays it;
* py-pde (1 numba thread, like pdekit's serial kernels): its compiled numba stepper
  (compilation excluded) and its ``solve()`` call in a fresh process (including the
  compilation it does on every call);
* FiPy: explicit terms on a periodic grid;
* the ratios pdekit / peer; a STREAM-triad bandwidth figure measured in the same run and the
  fraction of the one-read-one-write stencil bound that pdekit's kernel reaches (also on 4096^2,
  a grid far larger than the caches).

pdekit's advection uses first-order upwind here (``--scheme`` changes it); the peers use central
differences — the PDE and the time step are the same, the advection discretisation is not.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np

from . import peers, stream

_FRESH_RUN = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    import numpy as np
    import pdekit
    from pdekit.bench.peers import PROBLEMS, initial_gaussian, problem_dt
    problem, n, steps, scheme = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    p = PROBLEMS[problem]
    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    grid = pdekit.Grid.uniform((n, n), [(0.0, 1.0), (0.0, 1.0)])
    model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=p["velocity"], diffusivity=p["D"], scheme=scheme)
    dt = problem_dt(problem, n)
    pdekit.run(model, initial_gaussian(n, problem), t_end=steps * dt, dt=dt, method="euler", snapshots=1,
               progress=False)
    print(json.dumps({"seconds": time.perf_counter() - t1, "import_seconds": t_import}))
""")


def _pdekit_model(problem, n, scheme):
    import pdekit

    p = peers.PROBLEMS[problem]
    grid = pdekit.Grid.uniform((n, n), [(0.0, 1.0), (0.0, 1.0)])
    return pdekit.AdvectionDiffusion(grid, "periodic", velocity=p["velocity"], diffusivity=p["D"], scheme=scheme)


def pdekit_kernel(problem, n, steps, repeats=3, scheme="upwind"):
    """The compiled N-step forward-Euler loop alone: median cell updates per second."""
    model = _pdekit_model(problem, n, scheme)
    dt = peers.problem_dt(problem, n)
    stepper = model.stepper("euler", dt)
    state = model.state_from(peers.initial_gaussian(n, problem))
    stepper.advance(state.copy(), 0.0, 1)  # compile / load from cache
    times = []
    for _ in range(repeats):
        s = state.copy()
        t0 = time.perf_counter()
        stepper.advance(s, 0.0, steps)
        times.append(time.perf_counter() - t0)
    sec = float(np.median(times))
    out = {"cell_updates_per_s": n * n * steps / sec, "seconds": sec, "steps": steps, "repeats": repeats,
           "scheme": scheme}
    if n <= 1024:
        ref = peers.numpy_reference(problem, n, steps)
        out["max_abs_diff_vs_numpy_reference"] = float(np.abs(model.interior(s)[0] - ref).max())
    return out


def pdekit_fresh_run(problem, n, steps, scheme="upwind"):
    """A whole ``pdekit.run`` call timed inside a new Python process (numba cache from disk)."""
    proc = subprocess.run([sys.executable, "-c", _FRESH_RUN, problem, str(n), str(steps), scheme],
                          capture_output=True, text=True, env=dict(os.environ))
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["cell_updates_per_s"] = n * n * steps / res["seconds"]
    res["steps"] = steps
    return res


_FRESH_PYPDE = textwrap.dedent("""
    import json, sys
    from pdekit.bench.peers import pypde_solve
    res = pypde_solve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), threads=1)
    print(json.dumps(res))
""")


def pypde_fresh_solve(problem, n, steps):
    """py-pde's ``solve()`` in a new process, as a user pays it (compilation included)."""
    if peers.peer_versions()["py-pde"] is None:
        return None
    proc = subprocess.run([sys.executable, "-c", _FRESH_PYPDE, problem, str(n), str(steps)],
                          capture_output=True, text=True, env=dict(os.environ))
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fmt(x):
    return "not installed" if x is None else ("failed" if "error" in x else f"{x['cell_updates_per_s'] / 1e6:9.1f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="pdekit bench advection-diffusion", description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--quick", action="store_true", help="small grids and few steps (smoke test)")
    ap.add_argument("--scheme", default="upwind", help="pdekit's advection scheme (default upwind)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    sizes = (64,) if args.quick else (256, 1024)
    big = None if args.quick else 4096
    results = {"peers": peers.peer_versions(), "comparisons": [], "scheme": args.scheme}
    versions = ", ".join(f"{k} {v or 'not installed'}" for k, v in results["peers"].items())
    print(f"peers: {versions}")
    print(f"pdekit advection scheme: {args.scheme}; peers: {peers.SCHEME_NOTE}")
    print("threads: pdekit kernels are serial; py-pde runs with 1 numba thread (its 2-thread figures swing "
          "with machine load); whole-run figures (pdekit run, py-pde solve) are timed in fresh processes")
    tri = stream.stream_triad(2**20 if args.quick else 2**25, repeats=5 if args.quick else 10)
    bound = stream.stencil_bound_mcells(tri["best_Bps"])
    results["stream_triad"] = tri
    results["stencil_bound_Mcells"] = bound
    print(f"STREAM triad: best {tri['best_GBps']:.1f} GB/s, median {tri['median_GBps']:.1f} GB/s "
          f"-> one-read-one-write stencil bound {bound:.0f} Mcell/s")
    hdr = (f"{'problem':20s} {'n':>5s} {'pdekit kernel':>14s} {'pdekit run*':>12s} {'py-pde stepper':>15s} "
           f"{'py-pde solve':>13s} {'FiPy':>9s}   ratios kernel/stepper, run/solve, kernel/FiPy")
    print("\n[Mcell/s]  (*whole pdekit.run in a fresh process)\n" + hdr)
    for problem in ("diffusion", "advection-diffusion"):
        for n in sizes:
            steps = max(10, int((2e8 if not args.quick else 2e6) / (n * n)))
            k = pdekit_kernel(problem, n, steps, args.repeats, args.scheme)
            r = pdekit_fresh_run(problem, n, steps, args.scheme)
            ps = peers.pypde_stepper(problem, n, steps, repeats=args.repeats, threads=1)
            pv = pypde_fresh_solve(problem, n, steps)
            fsteps = 2 if n >= 1024 else 5
            fp = peers.fipy_step(problem, n, fsteps)
            row = {"problem": problem, "n": n, "steps": steps, "pdekit_kernel": k, "pdekit_run": r,
                   "pypde_stepper": ps, "pypde_solve": pv, "fipy": fp}

            def ratio(a, b):
                if a is None or b is None or "error" in a or "error" in b:
                    return None
                return a["cell_updates_per_s"] / b["cell_updates_per_s"]
            row["ratio_kernel_vs_pypde_stepper"] = ratio(k, ps)
            row["ratio_run_vs_pypde_solve"] = ratio(r, pv)
            row["ratio_kernel_vs_fipy"] = ratio(k, fp)
            row["fraction_of_stencil_bound"] = k["cell_updates_per_s"] / 1e6 / bound
            results["comparisons"].append(row)
            rs = "  ".join("-" if x is None else f"{x:6.1f}x" for x in
                           (row["ratio_kernel_vs_pypde_stepper"], row["ratio_run_vs_pypde_solve"],
                            row["ratio_kernel_vs_fipy"]))
            print(f"{problem:20s} {n:5d} {_fmt(k):>14s} {_fmt(r):>12s} {_fmt(ps):>15s} {_fmt(pv):>13s} "
                  f"{_fmt(fp):>9s}   {rs}")
    if big:
        results["large_grid"] = []
        for problem in ("diffusion", "advection-diffusion"):
            k = pdekit_kernel(problem, big, 10, args.repeats, args.scheme)
            frac = k["cell_updates_per_s"] / 1e6 / bound
            results["large_grid"].append({"problem": problem, "n": big, "pdekit_kernel": k,
                                          "fraction_of_stencil_bound": frac})
            print(f"{problem:20s} {big:5d} {_fmt(k):>14s}   = {100 * frac:.0f}% of the stencil bandwidth bound")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
