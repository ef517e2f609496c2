import dataclasses
import math

import pytest
import torch

from hoi_perception.body import BODY_JOINTS, HAND_JOINTS, BodyParams, anny_model, load_body_model, transform_output
from hoi_perception.body.vertex_subset import random_params
from hoi_perception.geometry import matrix_to_rot6d, to_matrix


def _rand(model, b, seed):
    return random_params(model, b, torch.Generator().manual_seed(seed))


def test_shapes_and_dtypes(body, body_rest):
    out = body_rest
    v = body.num_vertices
    assert v == 13718
    assert out.vertices.shape == (1, v, 3) and out.vertices.dtype == torch.float32
    assert out.joints.shape == (1, 22, 3) and out.joint_names == tuple(BODY_JOINTS)
    assert out.hand_joints.shape == (1, 2, 21, 3)
    assert out.faces.dtype == torch.int64 and out.faces.shape[1] == 3
    assert int(out.faces.min()) == 0 and int(out.faces.max()) == v - 1
    assert out.keypoints.shape == (1, 23, 3) and out.keypoint_names[0] == "nose"
    assert body.num_pose_joints == 51 and len(body.shape_labels) == 6


def test_batch_matches_single(body):
    p = _rand(body, 3, seed=5)
    with torch.no_grad():
        batch = body(p)
        one = body(BodyParams(p.shape[1:2], p.pose[1:2], p.global_orient[1:2], p.transl[1:2]))
    assert torch.allclose(batch.vertices[1:2], one.vertices, atol=1e-5)


def test_rest_pose_upright_zup_metres(body_rest):
    v, j = body_rest.vertices[0], body_rest.joints[0]
    height = float(v[:, 2].max() - v[:, 2].min())
    assert 1.4 < height < 2.1
    name = {n: i for i, n in enumerate(BODY_JOINTS)}
    z = j[:, 2]
    assert float(z[name["head"]]) > float(z[name["neck"]]) > float(z[name["pelvis"]])
    assert float(z[name["pelvis"]]) > float(z[name["left_knee"]]) > float(z[name["left_ankle"]])
    assert torch.allclose(j[name["pelvis"]], torch.zeros(3), atol=1e-6)  # root at the origin
    # REP 103: left side on +y, face toward +x.
    assert float(j[name["left_shoulder"], 1]) > 0.1 and float(j[name["right_shoulder"], 1]) < -0.1
    kp = dict(zip(body_rest.keypoint_names, body_rest.keypoints[0]))
    assert float(kp["nose"][0]) > float(kp["left_ear"][0]) + 0.05
    assert float(kp["left_big_toe"][0]) > float(kp["left_heel"][0])


def test_height_grows_with_height_phenotype(body):
    i = body.shape_labels.index("height")
    lo, hi = body.rest_params(1), body.rest_params(1)
    lo.shape[0, i], hi.shape[0, i] = 0.1, 0.9
    with torch.no_grad():
        z = [body(p).vertices[0, :, 2] for p in (lo, hi)]
    h = [float(zi.max() - zi.min()) for zi in z]
    assert h[1] > h[0] + 0.1


def test_body_is_left_right_mirror_symmetric(body_rest):
    j = body_rest.joints[0]
    mirror = torch.tensor([1.0, -1.0, 1.0])
    for i, n in enumerate(BODY_JOINTS):
        if n.startswith("left_"):
            k = BODY_JOINTS.index("right_" + n[5:])
            assert torch.allclose(j[i] * mirror, j[k], atol=2e-3), n
    hj = body_rest.hand_joints[0]
    assert torch.allclose(hj[0] * mirror, hj[1], atol=2e-3)


def test_joints_lie_in_the_mesh_and_follow_it(body, body_rest):
    def nearest(out):
        return torch.cdist(out.joints[0], out.vertices[0]).min(1).values

    rest = nearest(body_rest)
    assert float(rest.max()) < 0.12  # joints are inside the body, never far from its skin
    lo, hi = body_rest.vertices[0].min(0).values, body_rest.vertices[0].max(0).values
    assert bool(((body_rest.joints[0] > lo) & (body_rest.joints[0] < hi)).all())
    posed_params = dataclasses.replace(_rand(body, 1, seed=3), shape=body.rest_params(1).shape)
    with torch.no_grad():
        posed = body(posed_params)
    change = (nearest(posed) - rest).abs()
    # LBS bulges around shoulders move the nearest skin by a few cm; joints left at rest would
    # be tens of cm off for the limbs.
    assert float(change.max()) < 0.05 and float(change.mean()) < 0.01
    assert float((posed.joints - body_rest.joints).norm(dim=-1).max()) > 0.1
    tips = torch.cdist(posed.hand_joints[0].reshape(-1, 3), posed.vertices[0]).min(1).values
    assert float(tips.max()) < 0.03


def test_global_orient_and_transl_place_the_body(body):
    p = _rand(body, 2, seed=7)
    angle = torch.tensor([0.0, 0.0, math.pi / 2])
    t = torch.tensor([1.0, -2.0, 0.5])
    moved = dataclasses.replace(p, global_orient=angle.expand(2, 3), transl=t.expand(2, 3).clone())
    with torch.no_grad():
        a = body(p)
        b = body(moved)
    # Composing a rotation about the root (z, 90 deg) with a translation, either way.
    T = torch.eye(4)
    T[:3, :3] = to_matrix(angle)
    T[:3, 3] = t
    expected = transform_output(a, T)
    assert torch.allclose(b.vertices, expected.vertices, atol=1e-4)
    assert torch.allclose(b.joints, expected.joints, atol=1e-4)
    assert torch.allclose(b.joints[:, 0], t.expand(2, 3), atol=1e-5)


def test_rotation_representations_agree(body):
    p = _rand(body, 2, seed=11)
    mats = to_matrix(p.pose, batch_dims=2)
    with torch.no_grad():
        aa = body(p).vertices
        m = body(dataclasses.replace(p, pose=mats)).vertices
        six = body(dataclasses.replace(p, pose=matrix_to_rot6d(mats))).vertices
    assert torch.allclose(aa, m, atol=1e-5) and torch.allclose(aa, six, atol=1e-5)


def test_pose_changes_the_mesh_and_is_differentiable(body):
    p = body.rest_params(1)
    pose = p.pose.clone().requires_grad_(True)
    shape = p.shape.clone().requires_grad_(True)
    out = body(dataclasses.replace(p, pose=pose, shape=shape))
    target = out.vertices.detach() + 0.01
    ((out.vertices - target) ** 2).sum().backward()
    assert torch.isfinite(pose.grad).all() and float(pose.grad.abs().sum()) > 0
    assert torch.isfinite(shape.grad).all() and float(shape.grad.abs().sum()) > 0
    # Bending the left elbow moves the left hand, not the right one.
    bent = p.pose.clone()
    bent[0, body.pose_joint_names.index("left_elbow")] = torch.tensor([0.0, -1.2, 0.0])
    with torch.no_grad():
        o0, o1 = body(p), body(dataclasses.replace(p, pose=bent))
    li, ri = BODY_JOINTS.index("left_wrist"), BODY_JOINTS.index("right_wrist")
    assert float((o1.joints[0, li] - o0.joints[0, li]).norm()) > 0.1
    assert float((o1.joints[0, ri] - o0.joints[0, ri]).norm()) < 1e-5


def test_determinism(body):
    p = _rand(body, 2, seed=13)
    with torch.no_grad():
        a, b = body(p), body(p)
    assert torch.equal(a.vertices, b.vertices) and torch.equal(a.joints, b.joints)
    assert load_body_model("anny", kind="body") is body  # built once per process


def test_hands_shapes_and_mirror(hand_left, hand_right):
    with torch.no_grad():
        left, right = hand_left(hand_left.rest_params(1)), hand_right(hand_right.rest_params(1))
    assert left.vertices.shape == right.vertices.shape == (1, hand_right.num_vertices, 3)
    assert left.joints.shape == (1, 21, 3) and left.joint_names == tuple(HAND_JOINTS)
    assert hand_right.num_pose_joints == 15
    mirror = torch.tensor([1.0, -1.0, 1.0])
    assert torch.allclose(left.joints * mirror, right.joints, atol=1e-3)
    gap = torch.cdist(left.vertices[0] * mirror, right.vertices[0]).min(1).values
    assert float(gap.max()) < 1e-3
    # Canonical hand frame: wrist at the origin, fingers along +x, thumb on +y for a right hand.
    j = right.joints[0]
    assert torch.allclose(j[0], torch.zeros(3), atol=1e-6)
    assert float(j[HAND_JOINTS.index("middle4"), 0]) > 0.12
    assert float(j[HAND_JOINTS.index("thumb4"), 1]) > 0.03
    length = float(j[HAND_JOINTS.index("middle4")].norm())
    assert 0.12 < length < 0.25  # wrist to middle fingertip, metres


def test_finger_pose_transfers_between_body_and_hand(body, hand_right):
    fingers = torch.randn(1, 15, 3, generator=torch.Generator().manual_seed(2)) * 0.3
    pb = body.rest_params(1)
    pose = pb.pose.clone()
    pose[:, 36:] = fingers  # right-hand block
    ph = dataclasses.replace(hand_right.rest_params(1), pose=fingers)
    with torch.no_grad():
        jb = body(dataclasses.replace(pb, pose=pose)).hand_joints[0, 1]
        jh = hand_right(ph).joints[0]
    # Same hand shape up to a rigid motion: compare all pairwise distances.
    assert torch.allclose(torch.cdist(jb, jb), torch.cdist(jh, jh), atol=1e-4)
    assert float((jh - hand_right(hand_right.rest_params(1)).joints[0]).abs().max()) > 0.01


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("pose", lambda p: p.pose.clone().fill_(float("nan")), "NaN"),
        ("transl", lambda p: torch.full((1, 3), float("inf")), "NaN or infinite"),
        ("pose", lambda p: torch.zeros(1, 50, 3), "pose must be"),
        ("pose", lambda p: torch.zeros(1, 51, 4), "pose must be"),
        ("shape", lambda p: torch.zeros(1, 5), "shape must be"),
        ("shape", lambda p: torch.full((1, 6), 1.5), r"\[0.0, 1.0\]"),
        ("global_orient", lambda p: torch.zeros(2, 3), "global_orient"),
        ("transl", lambda p: torch.zeros(1, 2), "transl"),
    ],
)
def test_bad_inputs_raise_clear_errors(body, field, value, match):
    p = body.rest_params(1)
    with pytest.raises(ValueError, match=match):
        body(dataclasses.replace(p, **{field: value(p)}))


def test_unknown_backend_and_kind():
    with pytest.raises(ValueError, match="unknown body model"):
        load_body_model("mano_net")
    with pytest.raises(ValueError, match="kind"):
        load_body_model("anny", kind="foot")


def test_flatten_round_trip(body):
    p = _rand(body, 2, seed=17)
    vec = p.flatten("6d")
    assert vec.shape == (2, 6 + 6 + 3 + 51 * 6)
    q = BodyParams.unflatten(vec, num_shape=6, num_pose=51, rotation="6d")
    with torch.no_grad():
        assert torch.allclose(body(p).vertices, body(q).vertices, atol=1e-5)


def test_own_skinning_matches_anny(body):
    a = body.anny
    p = _rand(body, 3, seed=19)
    with torch.no_grad():
        rest = a.get_rest_model(body._blend_coeffs(a, p.shape))
        transforms = torch.eye(4).repeat(3, len(body.bone_labels), 1, 1)
        transforms[:, :, :3, :] += 0.1 * torch.randn(3, len(body.bone_labels), 3, 4, generator=torch.Generator().manual_seed(0))
        ours = body._skin(rest["rest_vertices"], transforms)
        theirs = a.get_skinned_vertices(rest["rest_vertices"].expand(3, -1, -1), transforms)
    assert float((ours - theirs).abs().max()) < 1e-5
    assert float((ours - rest["rest_vertices"]).abs().max()) > 0.01


@pytest.mark.parametrize("kind", ["body", "hand_left"])
def test_rotations_composed_by_level_match_the_chain_slot_by_slot(kind, request):
    model = request.getfixturevalue(kind)
    local = to_matrix(torch.randn(2, len(model._slot_parent), 3, generator=torch.Generator().manual_seed(3)), "pose", 2)
    chain = [local[:, 0]]
    for i in range(1, local.shape[1]):
        chain.append(chain[model._slot_parent[i]] @ local[:, i])
    levels, _ = model._slot_levels
    assert len(levels) < len(model._slot_parent) / 3  # the point: a product per level, not per slot
    assert float((anny_model._compose_down(local, model._slot_levels) - torch.stack(chain, 1)).abs().max()) < 1e-6


@pytest.mark.parametrize("kind", ["hand_left", "hand_right"])
def test_positive_rotation_about_hand_y_flexes_fingers_toward_the_palm(kind, request):
    hand = request.getfixturevalue(kind)
    p = hand.rest_params(1)
    pose = p.pose.clone()
    pose[0, hand.pose_joint_names.index("index1")] = torch.tensor([0.0, 0.6, 0.0])
    with torch.no_grad():
        rest = hand(p).joints[0, HAND_JOINTS.index("index4")]
        bent = hand(dataclasses.replace(p, pose=pose)).joints[0, HAND_JOINTS.index("index4")]
    assert float(bent[2] - rest[2]) < -0.025  # the palm faces -z
    assert abs(float(bent[1] - rest[1])) < 0.02  # a flexion stays in the finger's plane


def test_the_kept_rest_body_follows_the_shape_and_its_gradient(body):
    """The rest geometry is kept while the shape stays put (fits that hold the shape still); a new
    shape, or a shape that needs a gradient, is computed afresh."""
    p = body.rest_params(1)
    first = body(p).vertices
    again = body(p).vertices
    assert torch.equal(first, again)
    tall = BodyParams(p.shape.clone(), p.pose, p.global_orient, p.transl)
    tall.shape[0, body.shape_labels.index("height")] = 0.9
    assert not torch.allclose(body(tall).vertices, first)
    assert torch.equal(body(p).vertices, first)  # back to the first shape
    shape = p.shape.clone().requires_grad_(True)
    body(BodyParams(shape, p.pose, p.global_orient, p.transl)).vertices[..., 2].sum().backward()
    assert shape.grad is not None and shape.grad.abs().sum() > 0
