"""Peer benchmarks: the same explicit problems solved by py-pde and FiPy.

Problems (both on the periodic unit square ``[0, 1)^2`` with ``n x n`` cells,
cell centres at ``((i + 1/2) dx, (j + 1/2) dx)``, ``dx = 1/n``):

``"diffusion"``
    ``u_t = D lap(u)`` with ``D = 1e-3``.
``"advection-diffusion"``
    ``u_t + v . grad(u) = D lap(u)`` with ``v = (1.0, 0.5)``, ``D = 1e-3``.

Initial data: the Gaussian bump ``exp(-((x-0.5)^2 + (y-0.5)^2) / (2 * 0.05^2))``.

Time stepping (fixed, the same for every implementation): explicit (forward)
Euler with one combined rule (:func:`problem_dt`)::

    dt = min(0.8 / (4 D / dx^2 + (|vx| + |vy|) / dx),  0.8 * 2 D / |v|^2)

* diffusion (``v = 0``): this is exactly ``dt = 0.2 dx^2 / D`` (2-D limit 0.25);
* advection-diffusion: the diffusive and advective rates are added, so that
  ``4 r + cx + cy <= 0.8`` (``r = D dt/dx^2``, ``c = |v| dt/dx``), which keeps
  forward Euler with *upwind* advection monotone (positive coefficients); the
  second cap ``dt <= 0.8 * 2 D / |v|^2`` (= 1.28e-3 here, i.e. ``cx^2 + cy^2 <=
  1.6 r``) keeps forward Euler with *central* advection von-Neumann stable at
  every n (it only binds for n < ~250, e.g. the n = 64 smoke test).  At n = 256
  and 1024 the first term decides.  The simpler ``min(0.2 dx^2/D, 0.4 dx/|v|)``
  is not safe: at n = 1024 it gives ``4 r + cx + cy = 1.09`` and upwind forward
  Euler grows (|G| = 1.19); reusing ``0.2 dx^2/D`` for advection makes central
  Euler unstable at n = 256.

Spatial discretisation used by the peers and by :func:`numpy_reference`:
the 5-point Laplacian and **central** differences for the advection term
(``(u[i+1] - u[i-1]) / (2 dx)``).  pdekit itself uses upwind/TVD fluxes for
advection, so for ``"advection-diffusion"`` the peers solve the same PDE with
a different advection scheme: central differences need no limiter (cheaper
per cell than a TVD flux) but are not monotone.

Every peer result carries ``max_abs_diff_vs_numpy_reference``: the peer's final
field compared with :func:`numpy_reference` (plain NumPy, same scheme, same
number of steps), so nobody is timing a different problem.

Peers are imported lazily.  A function returns ``None`` when its peer is not
importable (reported as "not installed", never faked).  If the peer is
installed but the run fails (e.g. an incompatible API version), the function
returns ``{"error": "<message>", "version": ...}`` without timing keys, unless
``raise_errors=True``.

py-pde API used (checked against py-pde 0.59.0 and 0.60.0)::

    grid = pde.CartesianGrid([[0, 1], [0, 1]], [n, n], periodic=True)
    state = pde.ScalarField(grid, u0)
    eq = pde.DiffusionPDE(diffusivity=D)                       # "diffusion"
    eq = pde.PDE({"u": "D*laplace(u) - vx*d_dx(u) - vy*d_dy(u)"})  # "advection-diffusion"
    solver = pde.solvers.EulerSolver(eq, backend="numba")      # fixed dt (adaptive=False)
    stepper = solver.make_stepper(state, dt=dt)                # numba compilation happens here
    stepper(state, t_start, t_end)                             # round((t_end-t_start)/dt) steps, in place
    eq.solve(state, t_range=T, dt=dt, tracker=None, backend="numba", solver="euler")

(``EulerSolver`` is the non-deprecated name; older py-pde versions only have
``ExplicitSolver(eq, scheme="euler", backend="numba")``, used as a fallback.)
py-pde's numba backend multithreads its operators (``prange``) for grids with
at least ``256**2`` points, so it uses all numba threads at both sizes.

FiPy API used (FiPy 4.0.3)::

    mesh = fipy.PeriodicGrid2D(dx=dx, dy=dx, nx=n, ny=n)
    u = fipy.CellVariable(mesh=mesh, value=u0_flat, hasOld=True)
    v = fipy.FaceVariable(mesh=mesh, rank=1, value=((vx,), (vy,)))
    eq = fipy.TransientTerm() == fipy.ExplicitDiffusionTerm(coeff=D) \
        - (v * u.faceValue).divergence          # explicit central advection
    for _ in range(steps): u.updateOld(); eq.solve(var=u, dt=dt)

FiPy has no explicit central convection term (its ``CentralDifferenceConvectionTerm``
and the other convection terms are implicit; ``ExplicitUpwindConvectionTerm``
is upwind), so the advection is written as an explicit source: the divergence
of the face flux ``v * u_f`` with linearly interpolated (on this uniform mesh:
arithmetic-mean) face values, which is exactly the central difference above.
Every FiPy sweep still assembles a sparse system (diagonal, from the
TransientTerm) and hands it to FiPy's default linear solver; that overhead is
FiPy's real cost of an explicit step.
"""

from __future__ import annotations

import contextlib
import functools
import statistics
import time

import numpy as np

__all__ = [
    "PROBLEMS",
    "problem_dt",
    "initial_gaussian",
    "numpy_reference",
    "peer_versions",
    "pypde_stepper",
    "pypde_solve",
    "fipy_step",
]

#: Problem constants.  ``velocity`` is ``(vx, vy)``; ``dt_safety`` is the factor
#: in ``dt = dt_safety * min(1 / (4 D / dx^2 + (|vx| + |vy|) / dx), 2 D / |v|^2)``
#: (see :func:`problem_dt`).
PROBLEMS: dict[str, dict] = {
    "diffusion": {
        "D": 1e-3,
        "velocity": (0.0, 0.0),
        "center": (0.5, 0.5),
        "sigma": 0.05,
        "dt_safety": 0.8,
        "advection_scheme": None,
    },
    "advection-diffusion": {
        "D": 1e-3,
        "velocity": (1.0, 0.5),
        "center": (0.5, 0.5),
        "sigma": 0.05,
        "dt_safety": 0.8,
        "advection_scheme": "central",
    },
}

SCHEME_NOTE = (
    "explicit Euler, 5-point Laplacian, central differences for advection "
    "(pdekit uses upwind/TVD advection)"
)


def _problem(problem: str) -> dict:
    try:
        return PROBLEMS[problem]
    except KeyError:
        raise ValueError(
            f"unknown problem {problem!r}; expected one of {sorted(PROBLEMS)}"
        ) from None


def problem_dt(problem: str, n: int) -> float:
    """The fixed explicit-Euler time step for ``problem`` on an ``n x n`` grid.

    ``dt = min(0.8 / (4 D / dx^2 + (|vx| + |vy|) / dx), 0.8 * 2 D / |v|^2)``;
    for pure diffusion this is ``0.2 dx^2 / D``.  Values: n = 256: 1.2381e-3
    (advection-diffusion), 3.0518e-3 (diffusion); n = 1024: 1.3961e-4 and
    1.9073e-4; n = 64: 1.28e-3 and 4.8828e-2.
    """
    p = _problem(problem)
    dx = 1.0 / n
    vx, vy = p["velocity"]
    safety = p["dt_safety"]
    dt = safety / (4.0 * p["D"] / (dx * dx) + (abs(vx) + abs(vy)) / dx)
    v2 = vx * vx + vy * vy
    if v2 > 0.0:
        # forward Euler + central advection: stable if |v|^2 dt <= 2 D
        dt = min(dt, safety * 2.0 * p["D"] / v2)
    return dt


def initial_gaussian(n: int, problem: str = "diffusion") -> np.ndarray:
    """Gaussian bump sampled at the cell centres, shape ``(n, n)``.

    Axis 0 is x, axis 1 is y (``u[i, j] = u(x_i, y_j)``), matching py-pde's
    data layout.  Both problems use the same initial data.
    """
    p = _problem(problem)
    x = (np.arange(n, dtype=np.float64) + 0.5) / n
    cx, cy = p["center"]
    s2 = 2.0 * p["sigma"] ** 2
    X, Y = np.meshgrid(x, x, indexing="ij")
    return np.exp(-((X - cx) ** 2 + (Y - cy) ** 2) / s2)


def _numpy_rate(u: np.ndarray, D: float, vx: float, vy: float, dx: float) -> np.ndarray:
    uxp = np.roll(u, -1, axis=0)  # u[i+1, j]
    uxm = np.roll(u, 1, axis=0)  # u[i-1, j]
    uyp = np.roll(u, -1, axis=1)  # u[i, j+1]
    uym = np.roll(u, 1, axis=1)  # u[i, j-1]
    rate = (D / (dx * dx)) * (uxp + uxm + uyp + uym - 4.0 * u)
    if vx != 0.0:
        rate -= (vx / (2.0 * dx)) * (uxp - uxm)
    if vy != 0.0:
        rate -= (vy / (2.0 * dx)) * (uyp - uym)
    return rate


@functools.lru_cache(maxsize=4)
def _numpy_reference_cached(problem: str, n: int, steps: int) -> np.ndarray:
    p = _problem(problem)
    D = p["D"]
    vx, vy = p["velocity"]
    dx = 1.0 / n
    dt = problem_dt(problem, n)
    u = initial_gaussian(n, problem)
    for _ in range(steps):
        u = u + dt * _numpy_rate(u, D, vx, vy, dx)
    u.flags.writeable = False
    return u


def numpy_reference(problem: str, n: int, steps: int) -> np.ndarray:
    """Plain-NumPy explicit Euler for ``problem`` (``np.roll`` 5-point Laplacian
    plus central advection), ``steps`` steps of :func:`problem_dt` from
    :func:`initial_gaussian`.  Returns a fresh ``(n, n)`` array (x on axis 0).
    """
    if steps < 0:
        raise ValueError("steps must be >= 0")
    return _numpy_reference_cached(problem, int(n), int(steps)).copy()


def _diff_vs_reference(problem: str, n: int, steps: int, u: np.ndarray) -> float:
    ref = _numpy_reference_cached(problem, int(n), int(steps))
    return float(np.max(np.abs(np.asarray(u, dtype=np.float64) - ref)))


# --------------------------------------------------------------------------
# versions / lazy imports


def _dist_version(*names: str) -> str | None:
    from importlib import metadata

    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def _import_pde():
    try:
        import pde  # noqa: F401
    except Exception:  # ImportError, or a broken install
        return None
    return pde


def _import_fipy():
    try:
        import fipy  # noqa: F401
    except Exception:
        return None
    return fipy


def _pde_version(pde) -> str | None:
    return getattr(pde, "__version__", None) or _dist_version("py-pde")


def _fipy_version(fipy) -> str | None:
    return getattr(fipy, "__version__", None) or _dist_version("fipy", "FiPy")


def peer_versions() -> dict:
    """``{"py-pde": version or None, "fipy": version or None}``; ``None`` means
    not importable in this environment."""
    pde = _import_pde()
    fipy = _import_fipy()
    return {
        "py-pde": _pde_version(pde) if pde is not None else None,
        "fipy": _fipy_version(fipy) if fipy is not None else None,
    }


def _numba_threads() -> int | None:
    try:
        import numba

        return int(numba.get_num_threads())
    except Exception:
        return None


@contextlib.contextmanager
def _numba_threads_set(threads: int | None):
    """Temporarily ``numba.set_num_threads(threads)`` (no-op for ``None``)."""
    if threads is None:
        yield
        return
    import numba

    old = numba.get_num_threads()
    numba.set_num_threads(int(threads))
    try:
        yield
    finally:
        numba.set_num_threads(old)


def _timing_result(peer, version, what, problem, n, dt, steps, repeats, times, **extra) -> dict:
    """The common record of a timed peer run: medians and best of ``times`` plus ``extra``."""
    sec = statistics.median(times)
    cells = float(n) * n * steps
    return {"peer": peer, "version": version, "what": what, "problem": problem, "n": n, "dt": dt,
            "steps": steps, "repeats": repeats, "seconds": sec, "seconds_all": times,
            "cell_updates_per_s": cells / sec, "best_cell_updates_per_s": cells / min(times), **extra}


def _failed(peer: str, version, exc: BaseException) -> dict:
    return {
        "peer": peer,
        "version": version,
        "error": f"{type(exc).__name__}: {exc}",
    }


def _run_pypde(runner, problem, n, steps, repeats, threads, raise_errors):
    """Check arguments, import py-pde (None if absent) and call ``runner`` with its thread count;
    a failure inside py-pde becomes an ``{"error": ...}`` result unless ``raise_errors``."""
    _check_args(problem, n, steps, repeats)
    pde = _import_pde()
    if pde is None:
        return None
    version = _pde_version(pde)
    try:
        with _numba_threads_set(threads):
            return runner(pde, version, problem, n, steps, repeats)
    except Exception as exc:
        if raise_errors:
            raise
        return _failed("py-pde", version, exc)


def _check_args(problem: str, n: int, steps: int, repeats: int) -> None:
    _problem(problem)
    if n < 3:
        raise ValueError("n must be >= 3")
    if steps < 1:
        raise ValueError("steps must be >= 1")
    if repeats < 1:
        raise ValueError("repeats must be >= 1")


# --------------------------------------------------------------------------
# py-pde


def _pypde_setup(pde, problem: str, n: int):
    p = _problem(problem)
    grid = pde.CartesianGrid([[0.0, 1.0], [0.0, 1.0]], [n, n], periodic=True)
    state = pde.ScalarField(grid, initial_gaussian(n, problem))
    D = p["D"]
    vx, vy = p["velocity"]
    if vx == 0.0 and vy == 0.0:
        eq = pde.DiffusionPDE(diffusivity=D)
        api = "pde.DiffusionPDE(diffusivity=D)"
    else:
        # d_dx / d_dy are py-pde's central first derivatives
        expr = f"{D!r}*laplace(u) - {vx!r}*d_dx(u) - {vy!r}*d_dy(u)"
        eq = pde.PDE({"u": expr})
        api = f'pde.PDE({{"u": "{expr}"}})'
    return grid, state, eq, api


def _pypde_euler_solver(pde, eq):
    solvers = pde.solvers
    if hasattr(solvers, "EulerSolver"):
        return solvers.EulerSolver(eq, backend="numba"), "pde.solvers.EulerSolver"
    # older py-pde (< 0.49-ish): ExplicitSolver with the Euler scheme
    return (
        solvers.ExplicitSolver(eq, scheme="euler", backend="numba", adaptive=False),
        "pde.solvers.ExplicitSolver(scheme='euler')",
    )


def pypde_stepper(
    problem: str,
    n: int,
    steps: int,
    repeats: int = 3,
    *,
    threads: int | None = None,
    raise_errors: bool = False,
) -> dict | None:
    """Time py-pde's compiled (numba) explicit-Euler stepper, compilation excluded.

    ``solver.make_stepper(state, dt)`` (which JIT-compiles) and one 1-step warm-up
    call are timed together as ``compile_seconds`` (also split into
    ``make_stepper_seconds`` and ``first_call_seconds``); then ``steps`` steps are
    timed per repeat, each starting from the initial data.  ``seconds`` and
    ``cell_updates_per_s`` are medians over ``repeats``.  ``threads`` sets
    ``numba.set_num_threads`` for the call (default: leave as is).
    Returns ``None`` if py-pde is not importable.
    """
    return _run_pypde(_pypde_stepper_run, problem, n, steps, repeats, threads, raise_errors)


def _pypde_stepper_run(pde, version, problem, n, steps, repeats) -> dict:
    dt = problem_dt(problem, n)
    _grid, state, eq, eq_api = _pypde_setup(pde, problem, n)
    u0 = initial_gaussian(n, problem)

    t0 = time.perf_counter()
    solver, solver_api = _pypde_euler_solver(pde, eq)
    stepper = solver.make_stepper(state, dt=dt)
    t1 = time.perf_counter()
    stepper(state, 0.0, dt)  # warm-up: one step
    t2 = time.perf_counter()

    times = []
    for _ in range(repeats):
        state.data[...] = u0
        before = int(solver.info.get("steps", 0))
        ts = time.perf_counter()
        stepper(state, 0.0, steps * dt)
        te = time.perf_counter()
        taken = int(solver.info.get("steps", 0)) - before
        if taken != steps:
            raise RuntimeError(f"py-pde took {taken} steps, expected {steps}")
        times.append(te - ts)
    diff = _diff_vs_reference(problem, n, steps, state.data)

    return _timing_result(
        "py-pde", version, "compiled stepper (numba), compilation excluded",
        problem, n, dt, steps, repeats, times,
        compile_seconds=t2 - t0,
        make_stepper_seconds=t1 - t0,
        first_call_seconds=t2 - t1,
        max_abs_diff_vs_numpy_reference=diff,
        numba_threads=_numba_threads(),
        scheme=SCHEME_NOTE,
        api=f"{eq_api}; {solver_api}(eq, backend='numba').make_stepper(state, dt)"
        "; stepper(state, 0, steps*dt)",
    )


def pypde_solve(
    problem: str,
    n: int,
    t_range_steps: int,
    repeats: int = 1,
    *,
    threads: int | None = None,
    raise_errors: bool = False,
) -> dict | None:
    """Time the whole user-facing ``eq.solve(...)`` call (with its JIT compilation).

    ``eq.solve(state, t_range=t_range_steps*dt, dt=dt, tracker=None,
    backend="numba", solver="euler")``; each call builds a new solver and
    recompiles.  ``cell_updates_per_s`` is ``n^2 * steps / seconds`` over the
    whole call (median over ``repeats``).  ``threads`` as in
    :func:`pypde_stepper`.  Returns ``None`` if py-pde is not importable.

    The first py-pde compilation in a process is much dearer than later ones
    (numba compiles py-pde's shared helpers once), so ``seconds_all[0]`` of a
    fresh process is the honest "user runs a script" cost.
    """
    return _run_pypde(_pypde_solve_run, problem, n, int(t_range_steps), repeats, threads, raise_errors)


def _pypde_solve_run(pde, version, problem, n, steps, repeats) -> dict:
    dt = problem_dt(problem, n)
    _grid, state, eq, eq_api = _pypde_setup(pde, problem, n)
    times = []
    result = None
    for _ in range(repeats):
        ts = time.perf_counter()
        result, info = eq.solve(
            state,
            t_range=steps * dt,
            dt=dt,
            tracker=None,
            backend="numba",
            solver="euler",
            ret_info=True,
        )
        te = time.perf_counter()
        times.append(te - ts)
        taken = (info.get("solver") or {}).get("steps")
        if taken is not None and int(taken) != steps:
            raise RuntimeError(f"py-pde took {taken} steps, expected {steps}")
    diff = _diff_vs_reference(problem, n, steps, result.data)

    return _timing_result(
        "py-pde", version, "whole eq.solve() call including JIT compilation",
        problem, n, dt, steps, repeats, times,
        max_abs_diff_vs_numpy_reference=diff,
        numba_threads=_numba_threads(),
        scheme=SCHEME_NOTE,
        api=f"{eq_api}.solve(state, t_range=steps*dt, dt=dt, tracker=None, "
        "backend='numba', solver='euler')",
    )


# --------------------------------------------------------------------------
# FiPy


def fipy_step(
    problem: str,
    n: int,
    steps: int,
    repeats: int = 1,
    *,
    raise_errors: bool = False,
) -> dict | None:
    """Time FiPy explicit sweeps on a ``PeriodicGrid2D``.

    ``TransientTerm() == ExplicitDiffusionTerm(D)`` (minus the explicit central
    advection source ``(v * u.faceValue).divergence`` for advection-diffusion);
    one warm-up sweep, then ``steps`` sweeps (``u.updateOld(); eq.solve(u, dt)``)
    per repeat from the initial data.  FiPy is slow: keep ``steps`` small
    (about 5 at 256^2, 2 at 1024^2).  Returns ``None`` if FiPy is not importable.
    """
    _check_args(problem, n, steps, repeats)
    fipy = _import_fipy()
    if fipy is None:
        return None
    version = _fipy_version(fipy)
    try:
        p = _problem(problem)
        D = p["D"]
        vx, vy = p["velocity"]
        dt = problem_dt(problem, n)
        dx = 1.0 / n
        # FiPy cell id = i + j*nx (x fastest); our arrays are u[i, j]
        u0_flat = np.ascontiguousarray(initial_gaussian(n, problem).T).ravel()

        t0 = time.perf_counter()
        mesh = fipy.PeriodicGrid2D(dx=dx, dy=dx, nx=n, ny=n)
        u = fipy.CellVariable(mesh=mesh, value=u0_flat.copy(), hasOld=True)
        rhs = fipy.ExplicitDiffusionTerm(coeff=D)
        api = "TransientTerm() == ExplicitDiffusionTerm(coeff=D)"
        if vx != 0.0 or vy != 0.0:
            v = fipy.FaceVariable(mesh=mesh, rank=1, value=((vx,), (vy,)))
            rhs = rhs - (v * u.faceValue).divergence
            api += " - (v * u.faceValue).divergence"
        eq = fipy.TransientTerm() == rhs
        t1 = time.perf_counter()
        try:  # the solver eq.solve() picks when given none
            solver_name = type(eq.getDefaultSolver(var=u)).__name__
        except Exception:
            solver_name = None
        u.updateOld()
        eq.solve(var=u, dt=dt)  # warm-up sweep
        t2 = time.perf_counter()

        times = []
        for _ in range(repeats):
            u.setValue(u0_flat)
            u.updateOld()
            ts = time.perf_counter()
            for _ in range(steps):
                u.updateOld()
                eq.solve(var=u, dt=dt)
            te = time.perf_counter()
            times.append(te - ts)
        final = np.asarray(u.value, dtype=np.float64).reshape(n, n).T
        diff = _diff_vs_reference(problem, n, steps, final)
    except Exception as exc:
        if raise_errors:
            raise
        return _failed("fipy", version, exc)

    suite = getattr(getattr(fipy, "solvers", None), "solver_suite", None)
    return _timing_result(
        "fipy", version, "explicit sweeps (u.updateOld(); eq.solve(var=u, dt=dt)), warm-up excluded",
        problem, n, dt, steps, repeats, times,
        setup_seconds=t1 - t0,
        first_sweep_seconds=t2 - t1,
        max_abs_diff_vs_numpy_reference=diff,
        linear_solver=f"{suite}:{solver_name}" if suite else solver_name,
        scheme=SCHEME_NOTE,
        api=f"fipy.PeriodicGrid2D(dx, dy, nx, ny); {api}",
    )


# --------------------------------------------------------------------------


def _main(argv=None) -> int:
    """``python -m pdekit.bench.peers [problem] [n] [steps]``: print JSON."""
    import argparse
    import json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("problem", choices=sorted(PROBLEMS))
    ap.add_argument("n", type=int)
    ap.add_argument("--which", choices=["stepper", "solve", "fipy", "all"], default="all")
    ap.add_argument("--steps", type=int, default=None, help="py-pde steps")
    ap.add_argument("--fipy-steps", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="numba threads for py-pde")
    args = ap.parse_args(argv)
    n = args.n
    steps = args.steps or max(10, int(2e8 // (n * n)) // 10 * 10)
    fsteps = args.fipy_steps or (5 if n <= 256 else 2)
    out = {"versions": peer_versions()}
    if args.which in ("stepper", "all"):
        out["pypde_stepper"] = pypde_stepper(
            args.problem, n, steps, args.repeats, threads=args.threads
        )
    if args.which in ("solve", "all"):
        out["pypde_solve"] = pypde_solve(args.problem, n, steps, 1, threads=args.threads)
    if args.which in ("fipy", "all"):
        out["fipy_step"] = fipy_step(args.problem, n, fsteps, 1)
    print(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main())
