"""Time integrators shared by all grid models.

* Explicit strong-stability-preserving Runge–Kutta methods in Shu–Osher form
  (Shu & Osher 1988; Gottlieb, Shu & Tadmor 2001): every stage is a convex combination
  ``a*u0 + b*(u + dt*L(u))`` of forward-Euler steps, so a TVD/positivity property of forward
  Euler under ``dt <= dt_FE`` carries over to the whole step.
* The theta method for linear semi-discrete systems ``du/dt = L u + b(t) + S(t)``:
  ``(I - theta dt L) u^{n+1} = (I + (1-theta) dt L) u^n + dt [theta (b+S)^{n+1} + (1-theta)(b+S)^n]``
  with the sparse LU factorisation of the left-hand matrix computed once and reused
  (theta = 1/2: Crank–Nicolson; theta = 1: backward Euler).
* Strang splitting ``A(dt/2) D(dt) A(dt/2)`` (Strang 1968) composes them.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .errors import ParameterError

#: Shu–Osher coefficients (a, b, stage time offset as a fraction of dt) per method
SSP_METHODS = {
    "euler": ((0.0, 1.0, 0.0),),
    "ssprk2": ((0.0, 1.0, 0.0), (0.5, 0.5, 1.0)),
    "ssprk3": ((0.0, 1.0, 0.0), (0.75, 0.25, 1.0), (1.0 / 3.0, 2.0 / 3.0, 0.5)),
}
SSP_ORDER = {"euler": 1, "ssprk2": 2, "ssprk3": 3}
THETA_METHODS = {"crank-nicolson": 0.5, "backward-euler": 1.0, "theta": None}


def check_cfl(cfl, limit=None, what="CFL number"):
    try:
        c = float(cfl)
    except (TypeError, ValueError):
        raise ParameterError(f"{what} must be a positive number, got {cfl!r}") from None
    if not np.isfinite(c) or c <= 0:
        raise ParameterError(f"{what} must be > 0, got {cfl!r}")
    if limit is not None and c > limit:
        raise ParameterError(f"{what} {c} exceeds the stability limit {limit} of this method")
    return c


def steps_for(interval: float, dt_max: float) -> tuple:
    """Number of equal steps not longer than ``dt_max`` that cover ``interval``, and their size."""
    n = max(1, int(np.ceil(interval / dt_max * (1 - 1e-12))))
    return n, interval / n


class ThetaSolver:
    """Reusable theta-method step for ``du/dt = L u + r(t)`` with a fixed ``dt``.

    ``L`` is a sparse N x N matrix; ``rhs(t)`` returns the affine part (boundary and source terms)
    as a length-N vector, or None when it vanishes. The factorisation of ``I - theta dt L`` is
    computed once (SuperLU) and reused for every step and every variable.
    """

    def __init__(self, L, dt, theta=0.5):
        if not 0.0 <= theta <= 1.0:
            raise ParameterError(f"theta must be in [0, 1], got {theta}")
        self.L = sp.csr_matrix(L)
        self.dt = float(dt)
        self.theta = float(theta)
        self._last_rhs = None
        N = L.shape[0]
        I = sp.identity(N, format="csc")
        self._explicit = (I + (1.0 - theta) * dt * self.L).tocsr()
        if theta > 0.0:
            self._lu = spla.splu((I - theta * dt * self.L).tocsc())
        else:
            self._lu = None

    def step(self, u, t, rhs=None):
        """One step from time ``t``: returns ``u^{n+1}`` (1D arrays of length N)."""
        dt, th = self.dt, self.theta
        b = self._explicit @ u
        if rhs is not None:
            # r(t^{n+1}) of one step is r(t^n) of the next: evaluate it once
            cached = self._last_rhs
            r0 = cached[1] if cached is not None and cached[0] == t and cached[2] == rhs else rhs(t)
            r1 = rhs(t + dt) if th > 0 else None
            self._last_rhs = (t + dt, r1, rhs) if th > 0 else None
            if r0 is not None and th < 1.0:
                b += (1.0 - th) * dt * r0
            if r1 is not None:
                b += th * dt * r1
        if self._lu is None:
            return b
        return self._lu.solve(b)
