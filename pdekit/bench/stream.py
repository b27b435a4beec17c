"""STREAM-triad memory bandwidth, measured in the benchmarking process.

The triad is ``a[i] = b[i] + s * c[i]`` over three float64 arrays that are much
larger than the last-level cache (default ``2**24`` elements = 128 MiB per
array, 384 MiB in total).  As in STREAM, the counted traffic is 3 arrays x
8 bytes = **24 B per element** (read b, read c, write a).  On write-allocate
caches (no streaming stores) the hardware actually moves 32 B per element
(``a`` is read into cache before being written), so the true bus traffic is
``32/24`` of the reported figure; ``best_GBps_write_allocate`` gives that value.

Kernels:

* ``numba`` (default): ``@njit(cache=True)`` serial loop;
* ``numba-parallel``: ``@njit(cache=True, parallel=True)`` with ``prange``
  (uses all numba threads, like STREAM with OpenMP);
* ``numpy``: ``np.multiply(c, s, out=a); np.add(a, b, out=a)`` -- two passes,
  so it moves 40 B per element while still being credited with 24 B (that is
  the bandwidth a NumPy user sees for a triad, not the machine's).

Like STREAM, the best of ``repeats`` runs is the headline number; the median
is reported too because this machine is shared and noisy.  GB are 1e9 bytes.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

try:  # numba is a pdekit dependency, but keep the NumPy path importable without it
    import numba
    from numba import njit, prange
except Exception:  # pragma: no cover - exercised only without numba
    numba = None

__all__ = [
    "BYTES_PER_ELEMENT",
    "BYTES_PER_ELEMENT_WRITE_ALLOCATE",
    "stream_triad",
    "stream_report",
    "stencil_bound_mcells",
]

BYTES_PER_ELEMENT = 24.0  # STREAM convention: read b, read c, write a
BYTES_PER_ELEMENT_WRITE_ALLOCATE = 32.0  # + read-for-ownership of a

if numba is not None:

    @njit(cache=True)
    def _triad_numba(a, b, c, s):
        for i in range(a.shape[0]):
            a[i] = b[i] + s * c[i]

    @njit(cache=True, parallel=True)
    def _triad_numba_parallel(a, b, c, s):
        for i in prange(a.shape[0]):
            a[i] = b[i] + s * c[i]

else:  # pragma: no cover
    _triad_numba = None
    _triad_numba_parallel = None


def _triad_numpy(a, b, c, s):
    np.multiply(c, s, out=a)
    np.add(a, b, out=a)


_KERNELS = {
    "numba": lambda: _triad_numba,
    "numba-parallel": lambda: _triad_numba_parallel,
    "numpy": lambda: _triad_numpy,
}


def _threads_for(kernel: str) -> int:
    if kernel == "numba-parallel" and numba is not None:
        return int(numba.get_num_threads())
    return 1


def stream_triad(
    n_elements: int = 2**24, repeats: int = 10, kernel: str = "numba"
) -> dict:
    """Measure the STREAM triad ``a = b + s*c`` and return bandwidths.

    Returns ``{"best_GBps", "median_GBps", "n_elements", ...}`` where the GB/s
    count 24 B per element (see the module docstring); also ``best_Bps`` and
    ``median_Bps`` (bytes/s, for :func:`stencil_bound_mcells`),
    ``best_GBps_write_allocate``, ``seconds_best``, ``seconds_median``,
    ``kernel``, ``threads`` and ``repeats``.  One untimed warm-up call (JIT
    compilation / page faults) precedes the ``repeats`` timed ones.
    """
    if kernel not in _KERNELS:
        raise ValueError(f"kernel must be one of {sorted(_KERNELS)}, got {kernel!r}")
    fn = _KERNELS[kernel]()
    if fn is None:
        raise RuntimeError(f"kernel {kernel!r} needs numba, which is not importable")
    n = int(n_elements)
    if n < 1 or repeats < 1:
        raise ValueError("n_elements and repeats must be >= 1")

    # touch every page before timing (np.full writes); a is written by warm-up
    a = np.empty(n, dtype=np.float64)
    b = np.full(n, 1.0, dtype=np.float64)
    c = np.full(n, 2.0, dtype=np.float64)
    s = 3.0
    fn(a, b, c, s)  # warm-up: compile (or load cache) + first touch of a

    times = []
    for _ in range(int(repeats)):
        t0 = time.perf_counter()
        fn(a, b, c, s)
        times.append(time.perf_counter() - t0)

    # cheap sanity check that the kernel did the work
    idx = np.linspace(0, n - 1, num=min(n, 17)).astype(np.int64)
    if not np.all(a[idx] == 7.0):
        raise RuntimeError("STREAM triad produced wrong values")

    nbytes = BYTES_PER_ELEMENT * n
    t_best = min(times)
    t_med = statistics.median(times)
    best_bps = nbytes / t_best
    med_bps = nbytes / t_med
    return {
        "best_GBps": best_bps / 1e9,
        "median_GBps": med_bps / 1e9,
        "n_elements": n,
        "best_Bps": best_bps,
        "median_Bps": med_bps,
        "best_GBps_write_allocate": best_bps
        * (BYTES_PER_ELEMENT_WRITE_ALLOCATE / BYTES_PER_ELEMENT)
        / 1e9,
        "bytes_per_element": BYTES_PER_ELEMENT,
        "array_MiB": n * 8 / 2**20,
        "seconds_best": t_best,
        "seconds_median": t_med,
        "repeats": int(repeats),
        "kernel": kernel,
        "threads": _threads_for(kernel),
    }


def stream_report(n_elements: int = 2**24, repeats: int = 10) -> dict:
    """Run all available triad kernels: ``{"numba": ..., "numba-parallel": ...,
    "numpy": ...}`` (numba kernels omitted if numba is not importable)."""
    out = {}
    for kernel in ("numba", "numba-parallel", "numpy"):
        if kernel.startswith("numba") and numba is None:
            continue
        out[kernel] = stream_triad(n_elements, repeats, kernel=kernel)
    return out


def stencil_bound_mcells(bandwidth_Bps: float, bytes_per_cell: float = 16.0) -> float:
    """Upper bound in million cell updates per second for a memory-bound stencil.

    A one-read-one-write stencil sweep (neighbours from cache) moves 8 B read +
    8 B write = 16 B per cell update (24 B if the write also allocates the
    line, i.e. pass ``bytes_per_cell=24.0`` for that bound), so the bound is
    ``bandwidth / bytes_per_cell / 1e6``.
    """
    if bytes_per_cell <= 0:
        raise ValueError("bytes_per_cell must be > 0")
    return float(bandwidth_Bps) / float(bytes_per_cell) / 1e6


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(stream_report(), indent=1))
