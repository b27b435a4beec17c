"""Riesz fractional equations by B-spline collocation (in progress: B-spline spaces and exact fractional
derivatives of B-splines; see docs/features.md)."""
from .bspline import BSplineSpace

__all__ = ["BSplineSpace"]
