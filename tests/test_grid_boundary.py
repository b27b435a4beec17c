import numpy as np
import pytest

import pdekit
from pdekit.boundary import fill_ghosts


def test_uniform_log_and_faces_axes():
    a = pdekit.Axis.uniform("x", 0.0, 2.0, 8)
    assert a.n == 8 and np.allclose(a.widths, 0.25) and np.allclose(a.centres[:2], [0.125, 0.375])
    b = pdekit.Axis.log("p", 1e-2, 1e2, 4)
    assert np.allclose(b.faces, [1e-2, 1e-1, 1, 10, 100])
    c = pdekit.Axis.from_faces("z", [0.0, 0.1, 0.3, 0.7])
    assert np.allclose(c.widths, [0.1, 0.2, 0.4]) and not c.is_uniform


def test_grid_volumes_and_geometry():
    g = pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 4), pdekit.Axis.from_faces("y", [0, 1, 3])])
    assert g.shape == (4, 2) and g.dims == ("x", "y") and g.shape3 == (1, 4, 2)
    assert np.isclose(g.volumes.sum(), 3.0)
    assert g.padded_shape3 == (1, 8, 6)
    s = pdekit.Grid([pdekit.Axis.uniform("r", 0, 2, 10)], geometry="spherical")
    assert np.isclose(s.volumes.sum(), 4 / 3 * np.pi * 8)
    assert np.allclose(s.face_area(0), s.axes[0].faces ** 2)
    g3 = pdekit.Grid.uniform((3, 4, 5), [(0, 1)] * 3)
    assert g3.size == 60 and g3.ghost3 == (2, 2, 2)


@pytest.mark.parametrize("faces", [[0.0], [], [0.0, 0.0], [0.0, 1.0, 0.5], [0.0, np.nan]])
def test_bad_axes(faces):
    with pytest.raises(pdekit.GridError):
        pdekit.Axis.from_faces("x", faces)


def test_bad_grid_arguments():
    with pytest.raises(pdekit.GridError, match="hi > lo"):
        pdekit.Axis.uniform("x", 1.0, 1.0, 4)
    with pytest.raises(pdekit.GridError, match=">= 1"):
        pdekit.Axis.uniform("x", 0.0, 1.0, 0)
    with pytest.raises(pdekit.GridError, match="lo > 0"):
        pdekit.Axis.log("x", 0.0, 1.0, 4)
    with pytest.raises(pdekit.GridError, match="geometry"):
        pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 4)], geometry="polar")
    with pytest.raises(pdekit.GridError, match="distinct"):
        pdekit.Grid([pdekit.Axis.uniform("x", 0, 1, 4)] * 2)


def test_boundary_parsing_and_errors():
    g = pdekit.Grid.uniform((4, 4), [(0, 1), (0, 1)])
    b = pdekit.Boundaries(g, {"x": "periodic", "y": (pdekit.dirichlet(1.0), "outflow")})
    assert b["y"][0].kind == "dirichlet" and b["y"][1].kind == "outflow"
    with pytest.raises(pdekit.BoundaryError, match="unknown boundary condition"):
        pdekit.Boundaries(g, {"x": "periodic", "y": "sticky"})
    with pytest.raises(pdekit.BoundaryError, match="unknown axes"):
        pdekit.Boundaries(g, {"x": "periodic", "y": "periodic", "q": "periodic"})
    with pytest.raises(pdekit.BoundaryError, match="no boundary condition"):
        pdekit.Boundaries(g, {"x": "periodic"})
    with pytest.raises(pdekit.BoundaryError, match="both sides"):
        pdekit.Boundaries(g, {"x": ("periodic", "outflow"), "y": "periodic"})
    with pytest.raises(pdekit.BoundaryError, match="needs a value"):
        pdekit.Boundaries(g, {"x": "dirichlet", "y": "periodic"})
    with pytest.raises(pdekit.BoundaryError, match="finite"):
        pdekit.dirichlet(np.inf)
    assert pdekit.dirichlet(lambda t: 2 * t).value_at(1.5) == 3.0


def test_ghost_fill_kinds():
    g = pdekit.Grid.uniform(4, (0, 1))
    u = np.zeros((1, 1, 1, 8))
    u[0, 0, 0, 2:6] = [1, 2, 3, 4]
    for spec, lo, hi in [("periodic", [3, 4], [1, 2]), (("dirichlet", 10.0), [18, 19], [16, 17]),
                         ("outflow", [1, 1], [4, 4]), ("zero-flux", [2, 1], [4, 3])]:
        b = pdekit.Boundaries(g, {"x": spec})
        fill_ghosts(u, np.array(g.ghost3), b.codes, b.values(0.0))
        assert list(u[0, 0, 0, :2]) == lo and list(u[0, 0, 0, 6:]) == hi, spec
