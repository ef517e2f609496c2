"""The numpy skeleton the engine poses with must agree with the body model it skins with."""
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from hoi_perception.body import BodyParams
from hoi_perception.geometry import rotation_between
from hoi_perception.synth.kinematics import align_two, rot
from hoi_perception.synth.posing import Poser, apply_body_template


@pytest.fixture(scope="module")
def poser():
    from hoi_perception.synth.engine import body_model

    return Poser(body_model(), np.array([0.3, 0.7, 0.5, 0.4, 0.6, 0.5]))


def test_rotation_helpers():
    rng = np.random.default_rng(1)
    for _ in range(10):
        u, v, w1, w2 = rng.normal(size=(4, 3))
        R = rotation_between(u, v)
        np.testing.assert_allclose(R @ (u / np.linalg.norm(u)), v / np.linalg.norm(v), atol=1e-9)
        A = align_two(u, w1, v, w2)
        np.testing.assert_allclose(A @ A.T, np.eye(3), atol=1e-9)
        np.testing.assert_allclose(A @ (u / np.linalg.norm(u)), v / np.linalg.norm(v), atol=1e-9)


def test_forward_kinematics_matches_the_body_model(poser):
    rng = np.random.default_rng(0)
    pose = poser.identity_pose()
    pose.local[:21] = Rotation.from_rotvec(rng.normal(0, 0.3, (21, 3))).as_matrix()
    pose.root_R = rot([0.2, 0.1, 1.0], 0.7)
    pose.root_t = np.array([0.3, -0.2, 0.9])
    p, _ = poser.skeleton.fk(poser.body_local22(pose), pose.root_R, pose.root_t)
    out = poser.skin(pose)
    np.testing.assert_allclose(out.joints[0].numpy(), p, atol=1e-5)


def test_arm_ik_reaches_with_a_bent_torso(poser):
    rng = np.random.default_rng(2)
    for _ in range(6):
        pose = poser.identity_pose()
        apply_body_template(pose, rng, "crouch")
        side = "left" if rng.random() < 0.5 else "right"
        d = rng.normal(size=3)
        target = poser.shoulder(pose, side) + 0.8 * poser.arm_reach(side) * d / np.linalg.norm(d)
        normal = rng.normal(size=3)
        residual = poser.reach(pose, side, target, normal, np.array([-0.4, 0.7, -1.0]))
        assert residual < 1e-6
        palm, n = poser.palm(pose, side)
        np.testing.assert_allclose(palm, target, atol=1e-6)
        np.testing.assert_allclose(n, normal / np.linalg.norm(normal), atol=1e-6)
        # The skinned mesh agrees: the wrist joint of the model is where the skeleton put it.
        out = poser.skin(pose)
        w = poser.skeleton.index[f"{side}_wrist"]
        p, _ = poser.skeleton.fk(poser.body_local22(pose), pose.root_R, pose.root_t)
        np.testing.assert_allclose(out.joints[0, w].numpy(), p[w], atol=1e-5)


def test_finger_flexion_curls_towards_the_palm(poser):
    pose = poser.identity_pose()
    from hoi_perception.synth.posing import JOINT_SHARE

    side = "right"
    geom = poser.hand_geometry[side]
    slots = poser.slots[side]
    rest = poser.skin(pose).hand_joints[0, 1].numpy()
    for f in range(5):
        for k in range(3):
            pose.local[slots[f, k]] = rot(geom.flex_axes[f], 0.6 * JOINT_SHARE[k])
    bent = poser.skin(pose).hand_joints[0, 1].numpy()
    wrist = rest[0]
    for tip in (8, 12, 16, 20):  # index..pinky tips move towards the palm side (+palm normal)
        assert np.dot(bent[tip] - rest[tip], geom.palm_normal) > 0.01
    assert np.linalg.norm(bent[0] - wrist) < 1e-6


def test_params_round_trip_through_the_model(poser):
    pose = poser.identity_pose()
    p = poser.params(pose)
    assert isinstance(p, BodyParams) and p.pose.shape == (1, 51, 3)
    assert torch.allclose(p.pose, torch.zeros_like(p.pose), atol=1e-6)
