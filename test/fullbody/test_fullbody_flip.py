"""Flip averaging (fullbody/flip.py): mirror maps, mirrored intrinsics, exact mirror equivariance."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hoi_perception.body.vertex_subset import load_subset
from hoi_perception.fullbody.flip import MERGE_INPUTS, REFLECT_X, flip_inputs, merge_flipped, mirror_maps, partner_map
from hoi_perception.fullbody.model import CrossHOI, ModelConfig, project
from hoi_perception.pipeline.stages import load_reconstructor

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "fullbody"


def test_partner_map_pairs_mirror_images_and_refuses_asymmetric_points():
    pts = np.array([[0.1, 0.2, 0.0], [0.1, -0.2, 0.0], [0.0, 0.0, 1.0], [0.3, 0.5, 0.2], [0.3, -0.5, 0.2]])
    np.testing.assert_array_equal(partner_map(pts, 1), [1, 0, 2, 4, 3])
    with pytest.raises(ValueError, match="not left/right symmetric"):
        partner_map(pts[:4], 1)


def test_anny_mirror_maps_swap_left_and_right():
    maps = mirror_maps()
    for m, n in ((maps.vertices, 13718), (maps.joints, 22), (maps.hand_joints, 42)):
        assert m.shape == (n,) and np.array_equal(m[m], np.arange(n))  # an involution on every set
    np.testing.assert_array_equal(maps.hand_joints[:21], np.arange(21, 42))  # left hand <-> right hand
    assert (maps.joints != np.arange(22)).sum() >= 12  # limbs swap; the spine and head map to themselves
    # each partner is the mirror image across the sagittal plane (y points left in the body frame)
    from hoi_perception.assets import body_model

    bm = body_model()
    with torch.no_grad():
        rest = bm(bm.rest_params(1)).vertices[0].numpy()
    np.testing.assert_allclose(rest[maps.vertices] * [1, -1, 1], rest, atol=1e-4)
    assert np.abs(rest[maps.vertices] - rest).max() > 0.5  # the hands, 1 m apart, trade places


def test_flipped_crop_sees_the_reflected_scene():
    rng = np.random.default_rng(0)
    size = 64
    image = rng.normal(size=(2, 5, size, size)).astype(np.float32)
    k = np.array([[1.3, 1.2, 0.47, 0.52], [0.9, 0.9, 0.55, 0.5]], np.float32)
    image_f, k_f = flip_inputs(image, k)
    np.testing.assert_array_equal(image_f[..., 10], image[..., size - 1 - 10])
    pts = torch.as_tensor(rng.normal([0, 0, 2.0], [0.3, 0.3, 0.1], (2, 20, 3)), dtype=torch.float32)
    uv = project(pts, torch.as_tensor(k)).numpy() * size  # pixel coordinates of the crop
    uv_f = project(pts * torch.as_tensor(REFLECT_X, dtype=torch.float32), torch.as_tensor(k_f)).numpy() * size
    np.testing.assert_allclose(uv_f[..., 0], size - 1 - uv[..., 0], atol=1e-3)
    np.testing.assert_allclose(uv_f[..., 1], uv[..., 1], atol=1e-4)
    twice, k_twice = flip_inputs(image_f, k_f)
    np.testing.assert_array_equal(twice, image)
    np.testing.assert_allclose(k_twice, k, atol=1e-6)


def _merged(net, image, k, template):
    def one(i, kk):
        with torch.no_grad():
            o = net(torch.as_tensor(i), torch.as_tensor(kk), template)
        return {n: o[n].numpy() for n in MERGE_INPUTS}

    return merge_flipped(one(image, k), one(*flip_inputs(image, k)), load_subset("body"))


def _mirror(points, index):
    return (points * REFLECT_X)[:, index]


def test_merge_is_exactly_mirror_equivariant():
    """Whatever the network predicts, the average for the mirrored crop is the reflection of the
    average for the crop: an output merged without its reflection or its re-indexing breaks this."""
    torch.manual_seed(0)
    net = CrossHOI(ModelConfig.tiny()).eval()
    g = torch.Generator().manual_seed(1)
    image = torch.randn(2, 5, net.cfg.crop, net.cfg.crop, generator=g).numpy()
    k = np.array([[1.4, 1.4, 0.45, 0.55]] * 2, np.float32)
    template = torch.randn(2, 64, 3, generator=g) * 0.1
    a = _merged(net, image, k, template)
    b = _merged(net, *flip_inputs(image, k), template)
    maps = mirror_maps()
    tol = dict(atol=2e-5, rtol=1e-4)
    np.testing.assert_allclose(b["body_vertices_full"], _mirror(a["body_vertices_full"], maps.vertices), **tol)
    np.testing.assert_allclose(b["body_contact_full"], a["body_contact_full"][:, maps.vertices], **tol)
    np.testing.assert_allclose(b["joints"], _mirror(a["joints"], maps.joints), **tol)
    hands_a = a["hand_joints"].reshape(2, 42, 3)
    np.testing.assert_allclose(b["hand_joints"].reshape(2, 42, 3), _mirror(hands_a, maps.hand_joints), **tol)
    np.testing.assert_allclose(b["body_transl"], a["body_transl"] * REFLECT_X, **tol)
    # the object: centroid and size are averaged (its orientation stays the unmirrored pass's)
    ca, cb = a["object_vertices"].mean(1), b["object_vertices"].mean(1)
    np.testing.assert_allclose(cb, ca * REFLECT_X, **tol)
    size = lambda v: np.sqrt(((v - v.mean(1, keepdims=True)) ** 2).sum(-1).mean(1))  # noqa: E731
    np.testing.assert_allclose(size(b["object_vertices"]), size(a["object_vertices"]), **tol)
    # and it is an average, not the unmirrored pass returned unchanged
    assert np.abs(a["joints"] - _one_pass_joints(net, image, k, template)).max() > 1e-4


def _one_pass_joints(net, image, k, template):
    with torch.no_grad():
        return net(torch.as_tensor(image), torch.as_tensor(k), template)["joints"].numpy()


needs_shipped = pytest.mark.skipif(not (SHIPPED / "model_card.yaml").is_file(), reason="no shipped fullbody model")


@needs_shipped
def test_reconstructor_follows_the_card_and_the_override(fullbody_frame):
    import yaml

    card = yaml.safe_load((SHIPPED / "model_card.yaml").read_text())
    frame = fullbody_frame()
    shipped = load_reconstructor("fullbody", "fullbody", object_class="003_cracker_box")
    assert shipped.infer.flip_average == bool(card.get("flip_average", False))
    res = {}
    for flip in (False, True):
        recon = load_reconstructor("fullbody", "fullbody", object_class="003_cracker_box", flip_average=flip,
                                   person_fit=False)
        res[flip] = recon.reconstruct(frame)
        body = res[flip].bodies[0]
        assert body.vertices.shape == (13718, 3) and body.vertex_contact.shape == (13718,)
        assert np.isfinite(body.vertices).all() and ((body.vertex_contact >= 0) & (body.vertex_contact <= 1)).all()
    d = np.linalg.norm(res[True].bodies[0].vertices - res[False].bodies[0].vertices, axis=1)
    assert 1e-4 < d.mean() < 0.2  # a second estimate of the same body, not a different one
