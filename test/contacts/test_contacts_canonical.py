"""The canvases: the raster sees the nearest triangle with barycentric weights, splats keep the nearest point,
and painting per-vertex labels into the views and lifting them back returns the labels."""
from __future__ import annotations

import numpy as np
import pytest

from hoi_perception.contacts import canonical as C


def test_view_axes_are_orthonormal_and_look_at_the_origin():
    a = C.view_axes(30.0, 20.0)
    assert np.allclose(a @ a.T, np.eye(3), atol=1e-12)
    front = C.view_axes(0.0, 0.0)  # camera on +x: the body's left (+y) is the image's right, up is up
    assert np.allclose(front[0], [0, 1, 0]) and np.allclose(front[1], [0, 0, 1]) and np.allclose(front[2], [1, 0, 0])


def test_raster_keeps_the_nearest_triangle_with_barycentric_weights():
    axes = C.view_axes(0.0, 0.0)  # looking along -x
    tri = np.array([[0.0, -1.0, -1.0], [0.0, 1.0, -1.0], [0.0, 0.0, 1.0]])
    near = tri + [0.5, 0.0, 0.0]
    verts = np.concatenate([tri, near])
    face, bary = C.rasterize(verts, np.array([[0, 1, 2], [3, 4, 5]]), axes, np.zeros(3), 1.0, 16)
    hit = face >= 0
    assert hit.sum() > 40 and set(np.unique(face[hit])) == {1}  # the nearer copy hides the other
    assert np.allclose(bary[hit].sum(-1), 1.0) and (bary[hit] >= -1e-9).all()
    # a pixel centre's barycentric mix of the corners projects back onto that pixel centre
    ys, xs = np.nonzero(hit)
    p = bary[ys[0], xs[0]] @ near
    x, y, _ = C._to_pixels(p[None], axes, np.zeros(3), 1.0, 16)
    assert abs(x[0] - (xs[0] + 0.5)) < 1e-6 and abs(y[0] - (ys[0] + 0.5)) < 1e-6


def test_splat_keeps_the_nearest_point():
    axes = C.view_axes(0.0, 0.0)
    pts = np.array([[0.0, 0.0, 0.0], [0.5, 0.0, 0.0]])  # the second is nearer the camera on +x
    who = C.splat(pts, axes, 16)
    assert (who[who >= 0] == 1).all() and (who >= 0).sum() == 9


def test_paint_then_lift_returns_the_labels(box_mesh):
    v, f = box_mesh()
    canvas = C.body_canvas(v, f, size=64)
    assert canvas.lift.seen.all()  # every box vertex faces some view
    labels = (v[:, 2] > 0.2).astype(np.float32)  # the top of the box
    back = canvas.lift.lift(canvas.paint(labels).reshape(-1))
    assert ((back >= 0.5) == (labels > 0.5)).mean() > 0.97
    assert np.allclose(canvas.lift.weight.sum(1), 1.0, atol=1e-5)


def test_unseen_vertices_copy_the_nearest_seen_row():
    rest = np.array([[0.0, 0, 0], [1.0, 0, 0], [1.1, 0, 0]])
    t = C.lift_table(3, np.array([0, 1]), np.array([5, 7]), np.array([1.0, 1.0]), rest, width=2)
    assert list(t.seen) == [True, True, False]
    assert t.index[2, 0] == 7 and t.weight[2, 0] == pytest.approx(1.0)


def test_object_canvas_colours_and_lifts_every_subset_vertex():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(2000, 3))
    pts /= np.linalg.norm(pts, axis=1, keepdims=True)
    pts *= [0.1, 0.05, 0.2]  # an ellipsoid in metres
    sub = pts[:64]
    canvas = C.object_canvas(pts, sub)
    assert canvas.images.shape == (len(C.OBJECT_VIEWS), 4, C.OBJECT_SIZE, C.OBJECT_SIZE)
    assert canvas.lift.seen.all() and 0.0 <= canvas.images[:, :3].min() and canvas.images[:, :3].max() <= 1.0
    labels = (sub[:, 2] > 0).astype(np.float32)
    assert np.array_equal(canvas.lift.lift(canvas.paint(labels).reshape(-1)) >= 0.5, labels > 0.5)
