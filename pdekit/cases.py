"""Shared command-line handling of case scripts (``cases/NAME.py``).

A case script defines ``PARAMETERS`` (a dict of defaults) and ``build(**params)`` returning
``(model, initial, run_kwargs)``; optionally ``plot(ds, path, **params)``. ``main(argv)`` parses
``--set key=value`` (types follow the defaults; unknown keys are refused), ``--output`` and
``--plot``, runs :func:`pdekit.run` and prints a short summary.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from .errors import ParameterError, PdekitError


def parse_overrides(defaults: dict, pairs) -> dict:
    params = dict(defaults)
    for kv in pairs or []:
        if "=" not in kv:
            raise ParameterError(f"--set expects key=value, got {kv!r}")
        key, value = kv.split("=", 1)
        key = key.strip()
        if key not in defaults:
            raise ParameterError(f"unknown case parameter {key!r}; accepted: {', '.join(defaults)}")
        default = defaults[key]
        try:
            if isinstance(default, bool):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                params[key] = value.lower() in ("true", "1", "yes")
            elif isinstance(default, int):
                params[key] = int(value)
            elif isinstance(default, float):
                params[key] = float(value)
            elif isinstance(default, (list, tuple)):
                params[key] = type(default)(json.loads(value))
            else:
                params[key] = value
        except ValueError:
            raise ParameterError(f"case parameter {key!r}: cannot read {value!r} as {type(default).__name__}") from None
    return params


def main(module, argv=None) -> int:
    """Entry point of a case script: ``main(sys.modules[__name__], argv)``."""
    from .run import run

    ap = argparse.ArgumentParser(prog=f"pdekit run {module.NAME}", description=(module.__doc__ or "").strip())
    ap.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="override a parameter: " + ", ".join(f"{k}={v!r}" for k, v in module.PARAMETERS.items()))
    ap.add_argument("--output", metavar="PATH", default=f"{module.NAME}.h5", help="results file (HDF5)")
    ap.add_argument("--plot", metavar="PATH", default=None, help="figure (PNG); default <output>.png")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    try:
        params = parse_overrides(module.PARAMETERS, args.set)
        model, initial, kwargs = module.build(**params)
        t0 = time.perf_counter()
        ds = run(model, initial, output=args.output, progress=not args.no_progress,
                 attrs={"case": module.NAME, "case_parameters": params}, **kwargs)
    except PdekitError as exc:
        print(f"pdekit: {exc}", file=sys.stderr)
        return 2
    wall = time.perf_counter() - t0
    print(f"{module.NAME}: {len(ds.t)} snapshots to t={float(ds.t[-1]):g} in {wall:.2f} s -> {args.output}")
    if hasattr(module, "summary"):
        print(module.summary(ds, **params))
    if hasattr(module, "plot"):
        png = args.plot or str(args.output).rsplit(".", 1)[0] + ".png"
        module.plot(ds, png, **params)
        print(f"figure -> {png}")
    return 0
