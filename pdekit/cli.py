"""Command line: ``pdekit cases | run | validate | bench``.

* ``pdekit cases`` lists the case scripts in ``cases/``;
* ``pdekit run NAME [--set key=value ...] [--output PATH]`` runs ``cases/NAME.py``;
* ``pdekit validate NAME [--json PATH] [--plot DIR]`` runs ``validation/<family>.py``;
  ``pdekit validate --list`` lists the families; the exit code is non-zero when a study fails;
* ``pdekit bench NAME [--json PATH]`` runs the family's benchmark against its peers.

Case and validation scripts are looked up next to the package source (a checkout), in the
installed ``pdekit_cases`` / ``pdekit_validation`` packages, and in ``./cases`` / ``./validation``.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from .errors import InstabilityError, PdekitError


def _dirs(kind: str) -> list:
    here = Path(__file__).resolve().parent
    out = [Path.cwd() / kind, here.parent / kind]
    try:
        mod = __import__(f"pdekit_{kind}")
        out.append(Path(mod.__file__).parent)
    except ImportError:
        pass
    seen, uniq = set(), []
    for d in out:
        if d.is_dir() and d.resolve() not in seen:
            seen.add(d.resolve())
            uniq.append(d)
    return uniq


def _scripts(kind: str) -> dict:
    found = {}
    for d in _dirs(kind):
        for p in sorted(d.glob("*.py")):
            if p.name.startswith("_"):
                continue
            found.setdefault(p.stem.replace("_", "-"), p)
    return found


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"pdekit_script_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _first_doc_line(path: Path) -> str:
    import ast

    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _pick(kind, name):
    scripts = _scripts(kind)
    key = name.replace("_", "-")
    if key not in scripts:
        raise SystemExit(f"pdekit: no {kind[:-1] if kind.endswith('s') else kind} named {name!r}; "
                         f"available: {', '.join(scripts) or '(none found)'}")
    return scripts[key]


def cmd_cases(args):
    for name, path in _scripts("cases").items():
        print(f"{name:28s} {_first_doc_line(path)}")
        if args.verbose:
            params = _load(path).PARAMETERS
            print(" " * 29 + "--set " + " ".join(f"{k}={v!r}" for k, v in params.items()))
    return 0


def cmd_run(args):
    mod = _load(_pick("cases", args.name))
    argv = []
    for kv in args.set or []:
        argv += ["--set", kv]
    if args.output:
        argv += ["--output", args.output]
    if args.plot:
        argv += ["--plot", args.plot]
    if args.no_progress:
        argv += ["--no-progress"]
    return mod.main(argv) or 0


def cmd_validate(args):
    scripts = _scripts("validation")
    if args.list or not args.name:
        for name, path in scripts.items():
            print(f"{name:28s} {_first_doc_line(path)}")
        return 0
    mod = _load(_pick("validation", args.name))
    argv = []
    if args.json:
        argv += ["--json", args.json]
    if args.plot:
        argv += ["--plot", args.plot]
    if args.only:
        argv += ["--only", *args.only]
    if args.list_studies:
        argv += ["--list-studies"]
    return mod.main(argv)


def cmd_bench(args):
    from .bench import BENCHMARKS

    key = args.name.replace("_", "-")
    if key not in BENCHMARKS:
        raise SystemExit(f"pdekit: no benchmark named {args.name!r}; available: {', '.join(BENCHMARKS)}")
    argv = []
    if args.json:
        argv += ["--json", args.json]
    if args.quick:
        argv += ["--quick"]
    extra = [a for a in (args.options or []) if a != "--"]
    return BENCHMARKS[key](argv + extra)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="pdekit", description="pdekit: validated solvers for diffusion-type PDEs")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("cases", help="list the case scripts")
    p.add_argument("-v", "--verbose", action="store_true", help="also list each case's parameters")
    p.set_defaults(func=cmd_cases)
    p = sub.add_parser("run", help="run a case script")
    p.add_argument("name")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a case parameter")
    p.add_argument("--output", metavar="PATH", help="results file (HDF5)")
    p.add_argument("--plot", metavar="PATH", help="write the case's figure (PNG)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("validate", help="run a family's validation studies")
    p.add_argument("name", nargs="?")
    p.add_argument("--list", action="store_true", help="list the validation families")
    p.add_argument("--json", metavar="PATH")
    p.add_argument("--plot", metavar="DIR")
    p.add_argument("--only", nargs="*", metavar="STUDY")
    p.add_argument("--list-studies", action="store_true", help="list the family's studies")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("bench", help="benchmark a family against its peers")
    p.add_argument("name")
    p.add_argument("--json", metavar="PATH")
    p.add_argument("--quick", action="store_true", help="small sizes only (smoke test)")
    p.add_argument("options", nargs=argparse.REMAINDER,
                   help="further options for the family's benchmark, e.g. -- --scheme vanleer")
    p.set_defaults(func=cmd_bench)
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except InstabilityError as exc:
        print(f"pdekit: run stopped: {exc}", file=sys.stderr)
        return 1
    except PdekitError as exc:
        print(f"pdekit: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
