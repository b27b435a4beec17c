"""Shared checks of scalar parameters: each returns the value as a float or raises
:class:`pdekit.errors.ParameterError` naming the parameter and the accepted range."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import ParameterError


def real(name, value):
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ParameterError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if math.isnan(v):
        raise ParameterError(f"{name} must be a real number, got nan")
    return v


def finite(name, value):
    v = real(name, value)
    if not math.isfinite(v):
        raise ParameterError(f"{name} must be finite, got {v}")
    return v


def positive(name, value, *, allow_inf=False):
    v = real(name, value)
    if not v > 0 or (not allow_inf and math.isinf(v)):
        raise ParameterError(f"{name} must be > 0{'' if allow_inf else ' and finite'}, got {v}")
    return v


def nonneg(name, value, *, allow_inf=False):
    v = real(name, value)
    if v < 0 or (not allow_inf and math.isinf(v)):
        raise ParameterError(f"{name} must be >= 0{'' if allow_inf else ' and finite'}, got {v}")
    return v
