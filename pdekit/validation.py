"""The validation contract: studies, their table, JSON and exit code (see DESIGN.md).

A family's validation script (``validation/<family>.py``) defines ``STUDIES``, a list of
functions ``study(plot_dir) -> Study``. :func:`main` runs them, prints the convergence tables and
a summary, writes ``--json`` (a list of studies with ``name``, ``passed``, ``observed_order``,
``expected_order``, ``final_error``, ``bound``) and returns a non-zero exit code when any study
misses its bound.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Study:
    name: str
    passed: bool
    final_error: float
    bound: float
    observed_order: float | None = None
    expected_order: float | None = None
    description: str = ""
    table: str = ""
    details: dict = field(default_factory=dict)

    def summary(self) -> str:
        order = "" if self.observed_order is None else \
            f" order {self.observed_order:.3f} (expected {self.expected_order})"
        return (f"[{'PASS' if self.passed else 'FAIL'}] {self.name}:{order} final error "
                f"{self.final_error:.3e} (bound {self.bound:.1e})")


def run_studies(studies, *, plot_dir=None, only=None, out=print) -> list:
    results = []
    for fn in studies:
        name = getattr(fn, "study_name", fn.__name__)
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        s = fn(plot_dir)
        s.details.setdefault("seconds", round(time.perf_counter() - t0, 3))
        out(f"\n== {s.name} ==" + (f"  ({s.description})" if s.description else ""))
        if s.table:
            out(s.table)
        out(s.summary())
        results.append(s)
    return results


def main(studies, argv=None, prog="validate") -> int:
    ap = argparse.ArgumentParser(prog=prog, description="Run validation studies against exact solutions.")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON")
    ap.add_argument("--plot", metavar="DIR", help="write PNG figures into DIR")
    ap.add_argument("--only", nargs="*", metavar="STUDY", help="run only these studies")
    ap.add_argument("--list-studies", action="store_true", help="list the studies and exit")
    args = ap.parse_args(argv)
    if args.list_studies:
        for fn in studies:
            print(getattr(fn, "study_name", fn.__name__))
        return 0
    plot_dir = None
    if args.plot:
        plot_dir = Path(args.plot)
        plot_dir.mkdir(parents=True, exist_ok=True)
    names = [getattr(fn, "study_name", fn.__name__) for fn in studies]
    if args.only:
        unknown = set(args.only) - set(names)
        if unknown:
            ap.error(f"unknown studies {sorted(unknown)}; available: {', '.join(names)}")
    results = run_studies(studies, plot_dir=plot_dir, only=args.only)
    failed = [s.name for s in results if not s.passed]
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed")
    if args.json:
        payload = [{k: v for k, v in asdict(s).items() if k != "table"} for s in results]
        Path(args.json).write_text(json.dumps(payload, indent=2))
    return 1 if failed else 0


def study(name):
    """Decorator giving a study function its public (dashed) name."""
    def deco(fn):
        fn.study_name = name
        return fn
    return deco
