"""Flip averaging of a clip (handobject/flip.py): mirrored frames, outputs mapped back, exact equivariance."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from hoi_perception.geometry import matrix_to_rot6d_np
from hoi_perception.handobject.encoding import encode_point, grid_centres
from hoi_perception.handobject.flip import flip_clip, merge_flipped, unflip_outputs
from hoi_perception.handobject.infer import HandObjectModel
from hoi_perception.handobject.model import HandObjectNet, NetConfig
from hoi_perception.handobject.pose import decode_poses
from hoi_perception.handobject.training.export import write_weights

S = np.diag([-1.0, 1.0, 1.0])  # reflection through the camera's y-z plane
TINY = NetConfig(dim=32, heads=2, depth=1, latent=4, img_channels=(8, 16, 16), hand_channels=(8, 16, 16))


def _rotation(rng) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def _k(cx=61.0, cy=66.0):
    return np.array([[110.0, 0, cx], [0, 105.0, cy], [0, 0, 1]])


def test_mirrored_frames_show_the_reflected_scene():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (2, 128, 128, 3), dtype=np.uint8)
    kmats = np.stack([_k(), _k(70.0, 60.0)])
    images_f, kmats_f = flip_clip(images, kmats)
    np.testing.assert_array_equal(images_f[:, :, 10], images[:, :, 117])
    p = rng.normal([0, 0, 0.5], [0.1, 0.1, 0.05], (2, 30, 3))
    enc = encode_point(p, kmats[:, None], 128, 128)
    enc_f = encode_point(p @ S, kmats_f[:, None], 128, 128)
    np.testing.assert_allclose(enc_f[..., 0], -enc[..., 0], atol=1e-9)  # u -> -u: what unflip undoes
    np.testing.assert_allclose(enc_f[..., 1:], enc[..., 1:], atol=1e-9)
    twice, k_twice = flip_clip(images_f, kmats_f)
    np.testing.assert_array_equal(twice, images)
    np.testing.assert_allclose(k_twice, kmats)


def test_unflip_maps_the_reflected_scene_back():
    """Outputs that describe the reflected scene (object, poses, masks, hand) come back as the scene's own."""
    rng = np.random.default_rng(1)
    kmats = np.stack([_k(), _k(64.0, 60.0), _k(58.0, 70.0)])
    _, kmats_f = flip_clip(np.zeros((3, 128, 128, 3), np.uint8), kmats)
    rot = np.stack([np.eye(3), _rotation(rng), _rotation(rng)])
    centre = rng.normal([0, 0, 0.45], [0.05, 0.05, 0.02], (3, 3))
    hand = rng.normal([0, 0, 0.4], [0.05, 0.05, 0.02], (3, 21, 3))
    # an object: the grid cells inside an off-centre box, which a reflection moves across x = 0
    g = grid_centres()
    occ = ((np.abs(g - [0.05, 0.01, -0.02]) < [0.04, 0.02, 0.03]).all(-1)).astype(np.float32)
    occ_f = ((np.abs(g * [-1, 1, 1] - [0.05, 0.01, -0.02]) < [0.04, 0.02, 0.03]).all(-1)).astype(np.float32)
    masks = rng.normal(size=(3, 3, 64, 64)).astype(np.float32)

    def outputs(r, c, h, k, occupancy, m):
        pose = np.concatenate([matrix_to_rot6d_np(r), encode_point(c, k, 128, 128)], -1)
        hand_enc = encode_point(h, k[:, None], 128, 128)
        return {"occupancy": occupancy, "masks": m, "pose": pose.astype(np.float32),
                "hand_uv": hand_enc[..., :2].astype(np.float32), "hand_z": np.zeros((3, 22), np.float32),
                "hand_conf": np.ones((3, 21), np.float32)}

    mine = outputs(rot, centre, hand, kmats, occ, masks)
    mirrored = outputs(S @ rot @ S, centre @ S, hand @ S, kmats_f, occ_f, masks[..., ::-1])
    back = unflip_outputs(mirrored)
    assert occ.sum() > 0 and not np.array_equal(occ, occ_f)
    np.testing.assert_array_equal(back["occupancy"], occ)
    np.testing.assert_array_equal(back["masks"], masks)
    np.testing.assert_allclose(decode_poses(back["pose"], kmats, 128, 128), decode_poses(mine["pose"], kmats, 128, 128),
                               atol=1e-5)
    np.testing.assert_allclose(back["hand_uv"], mine["hand_uv"], atol=1e-5)
    merged = merge_flipped(mine, mirrored)  # two agreeing estimates average to themselves
    for name in ("pose", "hand_uv", "hand_z", "hand_conf"):
        np.testing.assert_allclose(merged[name], mine[name], atol=1e-5)
    np.testing.assert_array_equal(merged["occupancy"] > 0, occ > 0.5)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("ho_flip")
    write_weights(HandObjectNet(TINY), d)
    return d


def test_flip_averaged_outputs_are_mirror_equivariant(tiny_model_dir):
    """Whatever the network has learned, the averaged outputs for a mirrored clip are the mirror of
    the averaged outputs for the clip; a single pass of an untrained network is not."""
    rng = np.random.default_rng(2)
    images = rng.integers(0, 255, (3, 128, 128, 3), dtype=np.uint8)
    kmats = np.stack([_k(), _k(66.0, 62.0), _k(59.0, 64.0)])
    images_f, kmats_f = flip_clip(images, kmats)
    flip = HandObjectModel(tiny_model_dir, backend="torch", card={"flip_average": True})
    single = HandObjectModel(tiny_model_dir, backend="torch")
    assert flip.flip_average and not single.flip_average
    a, b = flip.run(images, kmats), unflip_outputs(flip.run(images_f, kmats_f))
    for name in a:
        np.testing.assert_allclose(b[name], a[name], atol=2e-4, err_msg=name)
    a1, b1 = single.run(images, kmats), unflip_outputs(single.run(images_f, kmats_f))
    assert np.abs(b1["occupancy"] - a1["occupancy"]).max() > 1e-3
    assert not HandObjectModel(tiny_model_dir, backend="torch", card={"flip_average": True}, flip_average=False).flip_average


def _k_from_vector(v: np.ndarray, size: int) -> np.ndarray:
    k = np.zeros(v.shape[:-1] + (3, 3))
    k[..., 0, 0], k[..., 1, 1] = v[..., 0] * size, v[..., 1] * size
    k[..., 0, 2], k[..., 1, 2], k[..., 2, 2] = v[..., 2] * size - 0.5, v[..., 3] * size - 0.5, 1.0
    return k


def _in_amodal_share(item: dict, t: int) -> np.ndarray:
    """Per frame, the share of occupied voxel centres whose projection lands in the amodal mask."""
    from hoi_perception.handobject.encoding import MASK_SIZE

    pts = grid_centres()[item["occupancy"] > 0.5]
    k = _k_from_vector(item["intrinsics"][:t].astype(np.float64), MASK_SIZE)  # the vector is resolution-free
    share = []
    for i in range(t):
        m = item["cam_from_aligned"][i].astype(np.float64)
        p = pts @ m[:3, :3].T + m[:3, 3]
        uv = np.round(p[:, :2] / p[:, 2:] * [k[i, 0, 0], k[i, 1, 1]] + k[i, :2, 2]).astype(int)
        ok = ((uv >= 0) & (uv < MASK_SIZE)).all(1)
        share.append(np.mean(item["masks"][i, 0][uv[ok, 1], uv[ok, 0]] > 0.5))
    return np.array(share)


def test_flipped_training_item_is_the_mirrored_scene(engine_dataset):
    """On a real engine clip: the flipped item's targets obey the same geometry as the engine's
    (poses and hand joints encode through the mirrored intrinsics, the occupancy projects into the
    amodal masks as before), and flipping twice gives the item back."""
    from hoi_perception.handobject.flip import flip_item
    from hoi_perception.handobject.training.data import clip_item
    from hoi_perception.synth.shards import ShardSet

    arrays, _, _ = ShardSet(engine_dataset("hand", 1, 5, 128)).get(0)
    item = clip_item(arrays, [0, 1, 2])
    f = flip_item(item)
    for name, value in flip_item(f).items():
        np.testing.assert_array_equal(value, item[name], err_msg=name)
    assert not np.array_equal(f["occupancy"], item["occupancy"])
    for it in (item, f):
        k = _k_from_vector(it["intrinsics"][:3].astype(np.float64), 128)
        cfa = it["cam_from_aligned"][:3].astype(np.float64)
        np.testing.assert_allclose(it["pose"][:3, :6], matrix_to_rot6d_np(cfa[:, :3, :3]), atol=1e-5)
        np.testing.assert_allclose(it["pose"][:3, 6:], encode_point(cfa[:, :3, 3], k, 128, 128), atol=1e-4)
        np.testing.assert_allclose(it["hand_uv"][:3], encode_point(it["hand_cam"][:3].astype(np.float64), k[:, None], 128, 128)[..., :2],
                                   atol=1e-4)
    share = _in_amodal_share(item, 3)
    assert share.min() > 0.8  # the check itself works on the engine's own item
    np.testing.assert_allclose(_in_amodal_share(f, 3), share, atol=0.02)


def test_shipped_card_sets_flip_averaging_and_a_caller_overrides_it():
    import yaml

    from hoi_perception.paths import models_dir
    from hoi_perception.pipeline.stages import load_reconstructor

    card = yaml.safe_load((models_dir() / "handobject" / "model_card.yaml").read_text())
    assert load_reconstructor("handobject", "handobject").model.flip_average == bool(card.get("flip_average", False))
    for flip in (True, False):
        assert load_reconstructor("handobject", "handobject", flip_average=flip).model.flip_average is flip
