"""How well node features separate planted classes: the measures used for the expressivity
experiments of neural sheaf diffusion (Bodnar et al. 2022, Sec. 3–4).

Features are compared by direction: ``z_v = x_v / |x_v|`` with ``x_v`` the node's stalk vector (all
channels flattened). Under the normalised heat flow the features shrink or grow with ``sqrt(deg)``
whatever the classes, so the information a linear classifier can use in the limit is the direction.

* :func:`separation_margin` — one-vs-rest along the class-mean direction ``w_c`` (unit vector of the
  mean of ``z_v`` over class ``c``): ``m_c = min_{v in c} w_c.z_v - max_{v not in c} w_c.z_v``. A
  positive ``m_c`` means a hyperplane ``w_c.z = const`` separates class ``c`` from the rest;
  ``m = min_c m_c`` in [-2, 2]. Collapsed features (all directions equal) give ``m = 0``.
* :func:`between_class_fraction` — the share of the directions' total variance that lies between the
  class means (1: classes are points, 0: no class structure).
"""
from __future__ import annotations

import numpy as np

from ..errors import ParameterError


def _directions(X, labels):
    X = np.asarray(X, dtype=float)
    Z = X.reshape(X.shape[0], -1)
    labels = np.asarray(labels)
    if labels.shape != (Z.shape[0],):
        raise ParameterError(f"labels must have one entry per node ({Z.shape[0]}), got shape {labels.shape}")
    norms = np.linalg.norm(Z, axis=1)
    keep = norms > 1e-300
    return Z[keep] / norms[keep, None], labels[keep]


def separation_margin(X, labels, per_class=False):
    """One-vs-rest margin of the feature directions (see the module docstring); ``per_class=True``
    also returns the margins of every class."""
    Z, lab = _directions(X, labels)
    classes = np.unique(lab)
    if classes.size < 2:
        raise ParameterError("separation needs at least two classes")
    margins = []
    for c in classes:
        w = Z[lab == c].mean(axis=0)
        nw = np.linalg.norm(w)
        if nw == 0:
            margins.append(-2.0)
            continue
        s = Z @ (w / nw)
        margins.append(float(s[lab == c].min() - s[lab != c].max()))
    m = float(min(margins))
    return (m, np.array(margins)) if per_class else m


def between_class_fraction(X, labels):
    """Between-class variance of the feature directions over their total variance."""
    Z, lab = _directions(X, labels)
    mean = Z.mean(axis=0)
    total = float(np.sum((Z - mean) ** 2))
    if total <= 1e-20 * Z.shape[0]:  # all directions equal up to round-off: no class structure left
        return 0.0
    between = sum(float(np.sum(lab == c)) * float(np.sum((Z[lab == c].mean(axis=0) - mean) ** 2))
                  for c in np.unique(lab))
    return between / total
