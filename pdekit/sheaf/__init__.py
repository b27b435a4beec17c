"""Sheaf diffusion on graphs: cellular sheaves, sheaf Laplacians and their heat flow."""
from .graph import Graph
from .sheaf import Sheaf
from .model import SheafDiffusion, sheaf_from_result

__all__ = ["Graph", "Sheaf", "SheafDiffusion", "sheaf_from_result"]
