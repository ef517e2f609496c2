import numpy as np

from hoi_perception.synth.cameras import Camera, intrinsics_from_fov, invert_rigid, look_at, view_pair


def test_look_at_axes_follow_the_optical_convention():
    # Camera at +x looking at the origin (facing -x), world z up: optical z = -x, image y (down) = -z,
    # image x (right) = +y.
    T = look_at(np.array([3.0, 0.0, 0.0]), np.zeros(3))
    R = T[:3, :3]
    np.testing.assert_allclose(R[2], [-1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(R[1], [0, 0, -1], atol=1e-12)
    np.testing.assert_allclose(R[0], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(T[:3, :3] @ [3.0, 0, 0] + T[:3, 3], 0.0, atol=1e-12)


def test_projection_of_known_points():
    K = intrinsics_from_fov(90.0, 200, 100)
    assert K[0, 0] == np.float64(100.0) or abs(K[0, 0] - 100.0) < 1e-9  # f = W/2 / tan(45 deg)
    cam = Camera(K, look_at(np.array([0.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0])), 200, 100)
    uv, z = cam.project(np.array([[2.0, 0.0, 0.0], [2.0, -1.0, 0.5]]))
    np.testing.assert_allclose(uv[0], [100.0, 50.0])  # on the axis: principal point
    np.testing.assert_allclose(uv[1], [150.0, 25.0])  # right (world -y) and up (world +z)
    np.testing.assert_allclose(z, [2.0, 2.0])


def test_invert_rigid_and_view_pair_baseline():
    rng = np.random.default_rng(0)
    target = np.array([0.0, 0.0, 1.0])
    for _ in range(20):
        a, b = view_pair(rng, target, 1.0, 128, 128, facing_azimuth=0.0)
        np.testing.assert_allclose(invert_rigid(a.world_to_cam) @ a.world_to_cam, np.eye(4), atol=1e-12)
        da, db = a.position - target, b.position - target
        angle = np.degrees(np.arccos(np.dot(da[:2], db[:2]) / np.linalg.norm(da[:2]) / np.linalg.norm(db[:2])))
        assert angle > 90.0  # front/back pairs: a wide baseline
        uv, z = a.project(target[None])
        assert z[0] > 0 and np.all(np.abs(uv[0] - 64) < 10)  # the target is in view
