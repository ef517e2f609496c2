"""Torch vs ONNX Runtime equality, bad inputs, and the shipped model through the registry."""

import dataclasses

import numpy as np
import pytest
import torch

from hoi_perception.handobject.infer import HandObjectModel
from hoi_perception.handobject.model import HandObjectNet, NetConfig
from hoi_perception.handobject.training.export import ORT_TOLERANCE, compare_backends, write_weights
from hoi_perception.paths import models_dir
from hoi_perception.pipeline.stages import InferenceError, ModelNotAvailable, load_reconstructor
from hoi_perception.pipeline.types import CameraIntrinsics, Frame, InputError

TINY = NetConfig(dim=32, heads=2, depth=1, latent=4, img_channels=(8, 16, 16), hand_channels=(8, 16, 16))
SHIPPED = models_dir() / "handobject"


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    from hoi_perception.backends import export_onnx
    from hoi_perception.handobject.infer import OUTPUT_NAMES, load_torch_model
    from hoi_perception.handobject.training.export import example_inputs

    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("ho_tiny")
    write_weights(HandObjectNet(TINY), d)
    export_onnx(load_torch_model(d), example_inputs(), d / "model.onnx", OUTPUT_NAMES)
    return d


def test_torch_and_onnxruntime_agree(tiny_model_dir):
    res = compare_backends(tiny_model_dir)
    assert res["ok"], res["max_abs_diff"]
    assert max(res["max_abs_diff"].values()) <= ORT_TOLERANCE


def test_clip_bad_inputs(tiny_model_dir):
    m = HandObjectModel(tiny_model_dir)
    k = np.array([[110.0, 0, 63.5], [0, 110, 63.5], [0, 0, 1]])
    img = np.zeros((1, 128, 128, 3), np.uint8)
    with pytest.raises(InputError, match="at least 2 frames"):
        m.reconstruct(img, k[None])
    with pytest.raises(InputError, match="at most 6"):
        m.reconstruct(np.zeros((7, 128, 128, 3), np.uint8), np.stack([k] * 7))

    class Empty:  # a backend whose occupancy is empty: an error, never an empty mesh
        def run(self, feeds):
            return {"occupancy": np.full((1, 64, 64, 64), -5.0, np.float32), "masks": np.zeros((1, 6, 3, 64, 64), np.float32),
                    "pose": np.zeros((1, 6, 9), np.float32), "hand_uv": np.zeros((1, 6, 21, 2), np.float32),
                    "hand_z": np.zeros((1, 6, 22), np.float32), "hand_conf": np.zeros((1, 6, 21), np.float32)}

    m.backend = Empty()
    with pytest.raises(InferenceError, match="no object surface"):
        m.reconstruct(np.zeros((2, 128, 128, 3), np.uint8), np.stack([k] * 2))


def test_card_mesh_level_sets_the_extracted_surface(tiny_model_dir):
    from hoi_perception.handobject.encoding import grid_centres

    k = np.array([[110.0, 0, 63.5], [0, 110, 63.5], [0, 0, 1]])
    r = np.linalg.norm(grid_centres(), axis=-1)
    logits = ((0.06 - r) * 100.0).astype(np.float32)  # probability 0.5 at 6 cm, falling outwards

    class Graded:
        def run(self, feeds):
            pose = np.zeros((1, 6, 9), np.float32)
            pose[..., 0] = pose[..., 4] = 1.0
            return {"occupancy": logits[None], "masks": np.zeros((1, 6, 3, 64, 64), np.float32), "pose": pose,
                    "hand_uv": np.zeros((1, 6, 21, 2), np.float32), "hand_z": np.zeros((1, 6, 22), np.float32),
                    "hand_conf": np.zeros((1, 6, 21), np.float32)}

    radii = {}
    for level in (0.2, 0.5, 0.8):
        m = HandObjectModel(tiny_model_dir, card={"mesh_level": level})
        m.backend = Graded()
        clip = m.reconstruct(np.zeros((2, 128, 128, 3), np.uint8), np.stack([k] * 2), refine="none")
        radii[level] = float(np.linalg.norm(clip.vertices, axis=1).mean())
    assert radii[0.5] == pytest.approx(0.06, abs=0.003)
    # logit 100 per metre: p = 0.2 at 7.4 cm, p = 0.8 at 4.6 cm
    assert radii[0.2] == pytest.approx(0.074, abs=0.003)
    assert radii[0.8] == pytest.approx(0.046, abs=0.003)
    for bad in (0.0, 1.0, "high"):
        with pytest.raises(ModelNotAvailable, match="mesh_level"):
            HandObjectModel(tiny_model_dir, card={"mesh_level": bad})


def _frame(img, i, frame_id="cam"):
    h, w = img.shape[:2]
    return Frame(image=img, stamp_ns=i * 33_000_000, frame_id=frame_id, intrinsics=CameraIntrinsics.from_fov(w, h, 60.0), index=i)


def _synthetic_image(w=160, h=120, shift=0):
    """A skin-coloured blob (hand) holding a red box on a grey background."""
    import cv2

    img = np.full((h, w, 3), 120, np.uint8)
    cv2.rectangle(img, (w // 2 - 15 + shift, h // 2 - 20), (w // 2 + 15 + shift, h // 2 + 20), (200, 30, 30), -1)
    cv2.ellipse(img, (w // 2 + 25 + shift, h // 2 + 10), (18, 12), 0, 0, 360, (225, 170, 140), -1)
    return img


@pytest.mark.skipif(not (SHIPPED / "model_card.yaml").is_file(), reason="shipped model not present")
def test_shipped_model_through_registry():
    card = __import__("yaml").safe_load((SHIPPED / "model_card.yaml").read_text())
    assert card["task"] == "handobject" and card["format"] == "python"
    for f in ("model.onnx", "model.safetensors"):
        assert (SHIPPED / f).stat().st_size < 20 * 2 ** 20
    # the buffer's behaviour on drawn frames: without the front end, which finds no hand in them
    rec = load_reconstructor("handobject", "handobject", hand_fit=False)
    assert rec.task == "handobject"
    assert rec.reconstruct(_frame(_synthetic_image(), 0)) is None  # one frame only
    assert any("buffer filling" in m for m in rec.messages)
    results = []
    for i in range(1, rec.keyframes + 3):  # longer than the buffer
        r = rec.reconstruct(_frame(_synthetic_image(shift=i), i))
        results.append(r)
        if r is None:
            assert rec.messages  # a reason is always given
        else:
            assert len(r.object.mesh.faces) > 0 and np.isfinite(r.object.mesh.vertices).all()
            assert len(r.keyframe_object_poses) == len(r.keyframe_stamps_ns) <= rec.keyframes
    # a frame of another size restarts the buffer with a message
    rec.messages.clear()
    assert rec.reconstruct(_frame(_synthetic_image(200, 150), 99)) is None
    assert any("differs from the keyframes" in m for m in rec.messages)
    # an empty scene (no hand, no object): no crash; no result or a non-empty mesh
    rec.reset()
    for i in range(3):
        r = rec.reconstruct(_frame(np.full((120, 160, 3), 90, np.uint8), i))
        assert r is None or len(r.object.mesh.faces) > 0


def test_depth_reaches_the_pose_fit(tiny_model_dir):
    """Frames with depth: the keyframe poses are fitted to it (a residual per keyframe); a depth
    image of the wrong size is a clear error; frames without depth leave the residual unset."""
    from hoi_perception.handobject.infer import crop_square_depth

    m = HandObjectModel(tiny_model_dir)
    k = np.array([[110.0, 0, 63.5], [0, 110, 63.5], [0, 0, 1]])
    imgs = np.stack([_synthetic_image(128, 128, s) for s in (0, 2)])
    rgbd = crop_square_depth(np.full((120, 160), 0.4, np.float32))
    assert rgbd.shape == (128, 128) and np.isfinite(rgbd).all()
    assert np.isnan(crop_square_depth(np.zeros((120, 160), np.float32))).all()  # 0 = unknown
    plain = m.reconstruct(imgs, np.stack([k] * 2), refine=False)
    assert np.isnan(plain.depth_rms_m).all()
    with pytest.raises(InputError, match="network resolution"):
        m.reconstruct(imgs, np.stack([k] * 2), refine=False, depths=np.full((2, 64, 64), 0.4, np.float32))
    # the tiny untrained network may or may not see an object: where it does, ICP ran
    with_depth = m.reconstruct(imgs, np.stack([k] * 2), refine=False, depths=np.stack([rgbd] * 2))
    seen = (with_depth.masks[:, 1] > 0.5).sum((1, 2)) > 10
    assert np.isfinite(with_depth.depth_rms_m[seen]).all()


def test_flow_variant_exports_and_reconstructs(tmp_path):
    """The flow variant through ONNX Runtime: same outputs as torch, and a whole clip sampled."""
    from hoi_perception.handobject.training.export import compare_backends, export_folder

    torch.manual_seed(0)
    net = HandObjectNet(NetConfig(**{**TINY.__dict__, "variant": "flow"})).eval()
    res = export_folder(net, tmp_path)
    assert res["ok"], res["max_abs_diff"]
    assert compare_backends(tmp_path)["ok"]
    m = HandObjectModel(tmp_path, card={"flow_steps": 2})
    assert m.variant == "flow"
    k = np.array([[110.0, 0, 63.5], [0, 110, 63.5], [0, 0, 1]])
    imgs = np.stack([_synthetic_image(128, 128, s) for s in (0, 2)])
    try:
        clip = m.reconstruct(imgs, np.stack([k] * 2), refine=False)
    except InferenceError as exc:  # an untrained tiny net may generate no surface: said, never an empty mesh
        assert "no object surface" in str(exc)
    else:
        assert len(clip.faces) > 0 and np.isfinite(clip.vertices).all()


@pytest.mark.skipif(not (SHIPPED / "model_card.yaml").is_file(), reason="shipped model not present")
def test_keyframes_are_the_newest_frames_of_the_window():
    """Observed frames (a live node had no time for them) enter the keyframes; keyframes older than the
    window, or newer than a frame (a replay), are dropped instead of mixed into a result."""
    rec = load_reconstructor("handobject", "handobject", keyframe_window_s=1.0, hand_fit=False)  # drawn frames

    def at(i: int, t_s: float) -> Frame:
        return dataclasses.replace(_frame(_synthetic_image(shift=i), i), stamp_ns=int(t_s * 1e9))

    for i in range(3):
        rec.observe(at(i, 0.1 * i))  # no network run for these
    r = rec.reconstruct(at(3, 0.3))
    assert r is not None and r.keyframe_stamps_ns == [0, 100_000_000, 200_000_000, 300_000_000]
    rec.messages.clear()
    assert rec.reconstruct(at(4, 5.0)) is None  # every keyframe is seconds old: start again
    assert any("buffer filling" in m for m in rec.messages)
    r = rec.reconstruct(at(5, 5.5))
    assert r is not None and r.keyframe_stamps_ns == [5_000_000_000, 5_500_000_000]
    rec.messages.clear()
    assert rec.reconstruct(at(6, 1.0)) is None and any("older than the newest keyframe" in m for m in rec.messages)
