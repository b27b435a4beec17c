"""pdekit: Numba-compiled finite-volume solvers for diffusion-type PDEs, validated against exact solutions.

Quick start::

    import pdekit
    grid = pdekit.Grid.uniform((128, 128), [(0, 1), (0, 1)])
    model = pdekit.AdvectionDiffusion(grid, "periodic", velocity=(1.0, 0.5), diffusivity=1e-3)
    ds = pdekit.run(model, lambda x, y: np.exp(-((x - .5)**2 + (y - .5)**2) / 0.005),
                    t_end=1.0, output="pulse.h5", snapshots=10)
"""
__version__ = "0.1.0"

from .errors import (BoundaryError, GridError, InstabilityError, OutputError, ParameterError,  # noqa: E402
                     PdekitError, SolverError)
from .grid import Axis, Grid  # noqa: E402
from .boundary import (Boundaries, BoundaryCondition, dirichlet, neumann, outflow, periodic,  # noqa: E402
                       zero_flux)
from .advection_diffusion import AdvectionDiffusion  # noqa: E402
from .fokker_planck import FokkerPlanck  # noqa: E402
from .run import run  # noqa: E402
from .io import open_result  # noqa: E402

__all__ = ["Axis", "Grid", "Boundaries", "BoundaryCondition", "periodic", "dirichlet", "neumann", "outflow",
           "zero_flux", "AdvectionDiffusion", "FokkerPlanck", "run", "open_result", "PdekitError", "ParameterError",
           "GridError", "BoundaryError", "OutputError", "InstabilityError", "SolverError", "__version__"]
