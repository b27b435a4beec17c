"""Generate the synthetic BTEX chromatograms in this folder (see README.md).

    python data/btex/make_btex.py            # (re)write btex_noise_free.csv and btex_noisy.csv
    python data/btex/make_btex.py --check    # compare freshly generated data with the shipped files

Model (research note chromatography.md, CHROM-GC-6): I(t) = 3935.4 + sum_i f_i c_i(L, t), c_i the
dispersion-free closed form of Cabrera-Codony et al. (2024) with the compressible carrier, parameters
of their Tables 1-3 (pdekit.chromatography.exact.btex()). Settings below; change nothing else.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:           # run from a source checkout without installing
    sys.path.insert(0, str(ROOT))

from pdekit.chromatography.exact import btex_chromatogram  # noqa: E402

T_END = 700.0          # s; all five peaks have returned to the baseline (o-xylene: mean 576.6 s, sd 8.8 s)
DT = 0.1               # s; the research note's "peak times to +-0.1 s on a 0.1 s grid"
NOISE = 0.5            # a.u., standard deviation of the Gaussian detector noise of the noisy file
SEED = 20241007        # numpy.random.default_rng seed of the noise (arXiv v1 date of the paper)
DECIMALS = 4           # signal rounded to 1e-4 a.u. (times are exact multiples of 0.1 s)
FILES = {"btex_noise_free.csv": 0.0, "btex_noisy.csv": NOISE}
HEADER = "time_s,signal_au"


def times():
    """0, 0.1, ..., 700 s, each the double nearest to its decimal (k/10, as a CSV reader parses it)."""
    return np.arange(int(round(T_END / DT)) + 1) / round(1.0 / DT)


def signals():
    """``{file name: (t, signal)}`` of both data sets, rounded as written."""
    t = times()
    out = {}
    for name, noise in FILES.items():
        y = btex_chromatogram(t, noise=noise, seed=SEED if noise > 0 else None)
        out[name] = (t, np.round(y, DECIMALS))
    return out


def csv_text(t, y):
    lines = [HEADER]
    lines += [f"{a:.1f},{b:.{DECIMALS}f}" for a, b in zip(t, y)]
    return "\n".join(lines) + "\n"


def read(path):
    a = np.loadtxt(path, delimiter=",", skiprows=1)
    return a[:, 0], a[:, 1]


def check(folder=HERE, atol=1.01 * 10.0 ** -DECIMALS):
    """Largest absolute difference between regenerated and shipped signals, per file (raises if the
    time grids differ or a difference exceeds ``atol``: one unit in the last written digit)."""
    worst = {}
    for name, (t, y) in signals().items():
        ts, ys = read(folder / name)
        if ts.shape != t.shape or np.max(np.abs(ts - t)) > 1e-9:
            raise AssertionError(f"{name}: time grid differs from the generator's")
        d = float(np.max(np.abs(ys - y)))
        if d > atol:
            raise AssertionError(f"{name}: regenerated signal differs by {d:g} a.u. (> {atol:g})")
        worst[name] = d
    return worst


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the shipped files, write nothing")
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: this folder)")
    args = ap.parse_args(argv)
    if args.check:
        for name, d in check(args.out).items():
            print(f"{name}: max |regenerated - shipped| = {d:.3g} a.u.")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (t, y) in signals().items():
        path = args.out / name
        path.write_text(csv_text(t, y))
        print(f"wrote {path} ({t.size} rows, {path.stat().st_size / 1024:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
