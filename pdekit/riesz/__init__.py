"""Riesz fractional equations by B-spline collocation (Mazza, Donatelli, Manni & Speleers,
arXiv:2106.14834): B-spline spaces with exact fractional derivatives of B-splines, the collocation
operator in Toeplitz-plus-corner form, its symbol, FFT products, the tau-preconditioned GMRES solver,
and time-dependent fractional diffusion through the run loop. See docs/riesz_fractional.md."""
from .bspline import BSplineSpace
from .collocation import RieszCollocation
from .exact import constant_source_solution, polynomial_riesz, separable_solution
from .model import FractionalDiffusion, evaluate_result
from .structured import StructuredMatrix, TauPreconditioner, gmres
from .symbol import mass_symbol, symbol

__all__ = ["BSplineSpace", "RieszCollocation", "polynomial_riesz", "constant_source_solution", "separable_solution", "FractionalDiffusion", "evaluate_result",
           "StructuredMatrix", "TauPreconditioner", "gmres", "symbol", "mass_symbol"]
