"""Fokker–Planck: conservative, positivity-preserving drift–diffusion of densities (Chang–Cooper).

* :class:`FokkerPlanck` — the grid model ``du/dt = div(C grad u + B u) + S - nu u``;
* :mod:`~pdekit.fokker_planck.exact` — OU, GBM, Boltzmann and stochastic-acceleration references;
* :mod:`~pdekit.fokker_planck.particles` — compiled Euler–Maruyama sampler for particle cross-checks;
* :mod:`~pdekit.fokker_planck.score` — VP/VE score SDEs, samplers, score FP residual, W2 distances.
"""
from .model import FokkerPlanck

__all__ = ["FokkerPlanck"]
