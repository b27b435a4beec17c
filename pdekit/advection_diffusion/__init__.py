"""Advection–diffusion: du/dt + div(v u) = div(D grad u) + S on pdekit grids."""
from .model import AdvectionDiffusion

__all__ = ["AdvectionDiffusion"]
