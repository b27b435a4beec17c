"""Exception types that pdekit users catch.

Every error raised for bad input names the parameter and the accepted range, and is raised before
any work starts. Errors during a run name the time, the step and the cell.
"""


class PdekitError(Exception):
    """Base class of every pdekit error."""


class ParameterError(PdekitError, ValueError):
    """A parameter is outside its accepted range, has the wrong shape or is unknown."""


class GridError(ParameterError):
    """An axis or grid is malformed (empty, non-increasing, non-finite)."""


class BoundaryError(ParameterError):
    """A boundary condition is unknown or inconsistent."""


class OutputError(PdekitError, OSError):
    """A results or checkpoint file cannot be written or read."""


class InstabilityError(PdekitError, FloatingPointError):
    """A run produced a non-finite (or forbidden negative) value.

    Attributes ``time``, ``step`` and ``cell`` (index tuple) locate the first bad value.
    """

    def __init__(self, message, *, time=None, step=None, cell=None, variable=None):
        super().__init__(message)
        self.time = time
        self.step = step
        self.cell = cell
        self.variable = variable


class SolverError(PdekitError, RuntimeError):
    """An iterative solver did not converge within its iteration limit."""
