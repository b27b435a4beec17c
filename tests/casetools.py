"""Helpers shared by the case-script tests: run a case through the CLI and read numbers from its output."""
import re

import pdekit
from pdekit.cli import main


def run_case(tmp_path, capsys, case, overrides):
    """``pdekit run CASE --set k=v ...`` into ``tmp_path``; checks the exit code and the figure, returns the
    printed text and the result dataset."""
    out = tmp_path / "case.h5"
    args = ["run", case, "--output", str(out), "--no-progress"]
    for kv in overrides:
        args += ["--set", kv]
    assert main(args) == 0
    text = capsys.readouterr().out
    print(text)
    assert (tmp_path / "case.png").stat().st_size > 10_000
    return text, pdekit.open_result(out)


def number(pattern, text):
    """The first group of ``pattern`` in ``text`` as a float (the test fails if it is absent)."""
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not in the case output"
    return float(m.group(1))
