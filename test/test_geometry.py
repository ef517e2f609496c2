"""The one geometry module: torch and numpy rotations agree with each other and with scipy, fits
recover a known transform."""
from __future__ import annotations

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from hoi_perception import geometry as G


def test_rotations_agree_across_representations_and_libraries():
    rot = Rotation.random(16, random_state=0)
    m = rot.as_matrix()
    np.testing.assert_allclose(G.axis_angle_to_matrix(torch.as_tensor(rot.as_rotvec())).numpy(), m, atol=1e-12)
    np.testing.assert_allclose(G.matrix_to_axis_angle(torch.as_tensor(m)).numpy(), rot.as_rotvec(), atol=1e-9)
    r6 = G.matrix_to_rot6d_np(m)
    np.testing.assert_allclose(G.rot6d_to_matrix_np(r6), m, atol=1e-12)
    np.testing.assert_allclose(G.rot6d_to_matrix(torch.as_tensor(r6 * 3.0)).numpy(), m, atol=1e-12)  # scale-free
    np.testing.assert_allclose(G.matrix_to_rot6d(torch.as_tensor(m)).numpy(), r6)
    q = G.quaternion_xyzw(m)
    assert q.shape == (16, 4) and G.quaternion_xyzw(m[0]).shape == (4,)
    np.testing.assert_allclose(np.abs((q * rot.as_quat()).sum(-1)), 1.0, atol=1e-12)  # same rotation, either sign


def test_fits_recover_a_known_transform():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(50, 3))
    r = Rotation.random(random_state=1).as_matrix()
    t = np.array([0.3, -0.2, 1.5])
    r_fit, t_fit = G.rigid_fit(pts, pts @ r.T + t)
    np.testing.assert_allclose(r_fit, r, atol=1e-10)
    np.testing.assert_allclose(t_fit, t, atol=1e-10)
    s, r_s, t_s = G.similarity_transform(pts, 2.5 * pts @ r.T + t)
    assert abs(s - 2.5) < 1e-10
    np.testing.assert_allclose(G.apply_similarity(pts, (s, r_s, t_s)), 2.5 * pts @ r.T + t, atol=1e-9)
