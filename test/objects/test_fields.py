import numpy as np
import trimesh

from hoi_perception.objects.fields import occupancy_voxels, signed_distance_grid


def test_box_signed_distance_is_within_a_voxel():
    box = trimesh.creation.box((0.2, 0.1, 0.3))
    g = signed_distance_grid(box, resolution=64)
    pts = np.array([[0, 0, 0], [0.15, 0, 0], [0, 0.1, 0], [0, 0, 0.14], [0.1, 0.05, 0.0]])
    truth = np.array([-0.05, 0.05, 0.05, -0.01, 0.0])
    np.testing.assert_allclose(g.query(pts), truth, atol=g.pitch)


def test_far_points_are_outside_with_a_lower_bound():
    g = signed_distance_grid(trimesh.creation.icosphere(radius=0.05), resolution=32)
    d = g.query(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -2.0]]))
    assert np.all(d > 0.8) and np.all(d <= np.array([0.95, 1.95]) + g.pitch)


def test_occupancy_voxels_fill_the_solid():
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=0.1)
    v = occupancy_voxels(sphere, resolution=64)
    assert v.occupancy.shape == (64, 64, 64)
    inside = v.occupancy.sum() * v.pitch ** 3
    true = 4.0 / 3.0 * np.pi * 0.1 ** 3
    assert 0.95 * true < inside < 1.25 * true  # surface voxels count as occupied
    centre = v.occupancy[32, 32, 32]
    corner = v.occupancy[0, 0, 0]
    assert centre and not corner
