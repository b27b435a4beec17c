"""Every study of `pdekit validate <family>` meets its bound (the same code the CLI runs)."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ("advection_diffusion", "fokker_planck", "sheaf_diffusion", "riesz_fractional", "chromatography")


def _studies(family):
    spec = importlib.util.spec_from_file_location(f"validation_{family}", ROOT / "validation" / f"{family}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.STUDIES


STUDIES = [(family, s) for family in FAMILIES for s in _studies(family)]


@pytest.mark.parametrize("family,study", STUDIES, ids=[f"{f}:{s.study_name}" for f, s in STUDIES])
def test_validation_study_passes(family, study):
    result = study(None)
    assert result.passed, result.summary() + "\n" + result.table
    if result.expected_order is not None:
        assert result.observed_order >= result.expected_order - 0.15
