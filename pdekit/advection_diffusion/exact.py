"""Exact solutions of advection–diffusion problems, as cell averages and point values.

Finite-volume solutions are cell averages, so validation compares with exact cell averages
(computed in closed form with ``erf``/``cos``), leaving only the discretisation error.
"""
from __future__ import annotations

import numpy as np
from scipy.special import erf


def _images(L, sigma, t_span, n_min=3):
    """Number of periodic images needed so that neglected terms are below 1e-300 relative."""
    return max(n_min, int(np.ceil((t_span + 40.0 * sigma) / L)) + 1)


def gaussian_periodic_average(faces, t, *, x0, sigma0, velocity, diffusivity, period, lo=0.0):
    """Cell averages of the periodic Gaussian pulse on the cells between ``faces`` at time ``t``.

    Solves ``u_t + v u_x = D u_xx`` on a periodic interval of length ``period`` from
    ``u(x, 0) = sum_m exp(-(x - x0 - m L)^2 / (2 sigma0^2))``:

        u(x, t) = (sigma0 / sigma_t) sum_m exp(-(x - x0 - v t - m L)^2 / (2 sigma_t^2)),
        sigma_t^2 = sigma0^2 + 2 D t,

    averaged over each cell with ``int exp(-s^2/(2 s_t^2)) = s_t sqrt(pi/2) erf(s / (sqrt(2) s_t))``.
    """
    faces = np.asarray(faces, float)
    st = np.sqrt(sigma0**2 + 2.0 * diffusivity * t)
    centre = x0 + velocity * t
    # bring the centre into the domain to keep the image sum short
    centre = lo + np.mod(centre - lo, period)
    nimg = _images(period, st, 0.0)
    F = np.zeros_like(faces)
    for m in range(-nimg, nimg + 1):
        F += erf((faces - centre - m * period) / (np.sqrt(2.0) * st))
    integral = sigma0 * np.sqrt(np.pi / 2.0) * np.diff(F)
    return integral / np.diff(faces)


def gaussian_periodic(x, t, *, x0, sigma0, velocity, diffusivity, period, lo=0.0):
    """Point values of the periodic Gaussian pulse (see :func:`gaussian_periodic_average`)."""
    x = np.asarray(x, float)
    st = np.sqrt(sigma0**2 + 2.0 * diffusivity * t)
    centre = lo + np.mod(x0 + velocity * t - lo, period)
    nimg = _images(period, st, 0.0)
    u = np.zeros_like(x)
    for m in range(-nimg, nimg + 1):
        u += np.exp(-((x - centre - m * period) ** 2) / (2.0 * st**2))
    return sigma0 / st * u


def gaussian_periodic_average_nd(faces, t, *, x0, sigma0, velocity, diffusivity, period, lo=None):
    """Cell averages of the separable periodic Gaussian in 1–3D (outer product of the 1D averages).

    ``faces``, ``x0``, ``velocity``, ``period`` (and ``lo``): one entry per axis; ``diffusivity``
    and ``sigma0`` are shared. The amplitude is ``prod_d sigma0 / sigma_t``.
    """
    lo = lo or [f[0] for f in faces]
    parts = [gaussian_periodic_average(f, t, x0=c, sigma0=sigma0, velocity=v, diffusivity=diffusivity,
                                       period=L, lo=l)
             for f, c, v, L, l in zip(faces, x0, velocity, period, lo)]
    out = parts[0]
    for p in parts[1:]:
        out = np.multiply.outer(out, p)
    return out


def sine_mode_dirichlet_average(faces, t, *, diffusivity, mode=1, lo=0.0, hi=1.0, amplitude=1.0):
    """Cell averages of the decaying sine mode with homogeneous Dirichlet walls.

    ``u_t = D u_xx`` on ``[lo, hi]``, ``u(lo) = u(hi) = 0``, ``u(x, 0) = A sin(k (x - lo))`` with
    ``k = mode pi / (hi - lo)``: ``u(x, t) = A sin(k (x - lo)) exp(-D k^2 t)``.
    """
    faces = np.asarray(faces, float)
    k = mode * np.pi / (hi - lo)
    integral = -(np.cos(k * (faces[1:] - lo)) - np.cos(k * (faces[:-1] - lo))) / k
    return amplitude * integral / np.diff(faces) * np.exp(-diffusivity * k**2 * t)


def square_pulse_average(faces, *, left, right, low=0.0, high=1.0):
    """Cell averages of a square pulse: ``high`` on ``[left, right]``, ``low`` elsewhere."""
    faces = np.asarray(faces, float)
    overlap = np.clip(np.minimum(faces[1:], right) - np.maximum(faces[:-1], left), 0.0, None)
    return low + (high - low) * overlap / np.diff(faces)
