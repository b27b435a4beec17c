"""Every study of `pdekit validate advection-diffusion` meets its bound (the same code the CLI runs)."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _studies():
    spec = importlib.util.spec_from_file_location("validation_advection_diffusion",
                                                  ROOT / "validation" / "advection_diffusion.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.STUDIES


STUDIES = _studies()


@pytest.mark.parametrize("study", STUDIES, ids=[s.study_name for s in STUDIES])
def test_validation_study_passes(study):
    result = study(None)
    assert result.passed, result.summary() + "\n" + result.table
    if result.expected_order is not None:
        assert result.observed_order >= result.expected_order - 0.15
