"""Riesz fractional equations by B-spline collocation (in progress, issue 5): B-spline spaces, exact
fractional derivatives of B-splines, and the dense collocation reference; see docs/features.md."""
from .bspline import BSplineSpace
from .collocation import RieszCollocation

__all__ = ["BSplineSpace", "RieszCollocation"]
