"""silhouette_fit: the object's similarity fit to its mask, on exact synthetic geometry, and the
reconstructor's option on the shipped model."""
from __future__ import annotations

import numpy as np
import pytest
import trimesh

from hoi_perception.fullbody.silhouette_fit import fit_object_pose
from hoi_perception.fullbody.training.real_images import rasterize
from hoi_perception.metrics import mask_iou
from hoi_perception.paths import REPO_ROOT
from hoi_perception.pipeline.types import InputError
from hoi_perception.raster import pinhole_project

H, W = 96, 128
K = np.array([[120.0, 0.0, 64.0], [0.0, 120.0, 48.0], [0.0, 0.0, 1.0]])
BOX = trimesh.creation.box(extents=(0.2, 0.12, 0.08))
R_TRUE = trimesh.transformations.rotation_matrix(0.4, [0.3, 1.0, 0.2])[:3, :3]
T_TRUE = np.array([0.05, 0.02, 1.2])


def _silhouette(pose) -> np.ndarray:
    return _silhouette_at(K, pose, (H, W))


def _silhouette_at(k, pose, shape) -> np.ndarray:
    s, r, t = pose
    return rasterize(pinhole_project(s * BOX.vertices @ r.T + t, k), BOX.faces, shape)


def _body(z: float, mask: np.ndarray) -> np.ndarray:
    """Points at depth z that project onto every pixel of `mask` (a wall standing in for the body)."""
    ys, xs = np.nonzero(mask)
    return np.stack([(xs - K[0, 2]) * z / K[0, 0], (ys - K[1, 2]) * z / K[1, 1], np.full(len(xs), z)], 1)


def _fit(pose, object_mask, human_mask, body):
    return fit_object_pose(pose, BOX.vertices, BOX.faces, body, object_mask, human_mask, K)


def test_a_misplaced_and_shrunken_object_is_moved_onto_its_mask():
    truth = _silhouette((1.0, R_TRUE, T_TRUE))
    human = np.zeros((H, W), bool)
    human[5:20, 5:20] = True  # far from the object: plays no part
    start = (0.7, R_TRUE, T_TRUE + [0.03, -0.02, 0.0])
    assert mask_iou(_silhouette(start), truth) < 0.55
    pose, fit = _fit(start, truth, human, _body(1.0, human))
    assert mask_iou(_silhouette(pose), truth) > 0.85
    assert 1.25 < fit.scale < 1.6 and abs(pose[0] - 0.7 * fit.scale) < 1e-9  # most of the lost size is back
    assert np.isclose(np.linalg.det(fit.transform[:3, :3]), fit.scale ** 3)  # a similarity
    # the depth of the object's centre is the network's: only the size can change the apparent size
    assert abs(fit.shift_m[2]) < 1e-6
    assert fit.loss_after < fit.loss_before


@pytest.mark.parametrize("body_in_front", [True, False])
def test_a_part_hidden_by_the_body_is_kept_only_when_the_body_is_in_front(body_in_front):
    full = _silhouette((1.0, R_TRUE, T_TRUE))
    human = np.zeros((H, W), bool)
    human[:, int(np.median(np.nonzero(full)[1])):] = True  # the person covers the right half of the object
    visible = full & ~human
    body = _body(0.9 if body_in_front else 1.6, human)
    pose, fit = _fit((1.0, R_TRUE, T_TRUE), visible, human, body)
    if body_in_front:  # the true pose explains the mask: it stays
        assert mask_iou(_silhouette(pose), full) > 0.9 and abs(fit.scale - 1.0) < 0.08
    else:  # nothing can hide the right half: the object is pulled onto the visible half
        assert mask_iou(_silhouette(pose), visible) > mask_iou(full, visible) + 0.05 and fit.scale < 0.8


def test_an_empty_object_mask_is_an_input_error():
    empty = np.zeros((H, W), bool)
    with pytest.raises(InputError, match="object mask is empty"):
        _fit((1.0, R_TRUE, T_TRUE), empty, empty, _body(1.0, ~empty))


needs_shipped = pytest.mark.skipif(not (REPO_ROOT / "models" / "fullbody" / "model_card.yaml").is_file(),
                                   reason="no shipped fullbody model")


@needs_shipped
def test_reconstructor_option_brings_the_object_onto_its_mask(fullbody_frame):
    from scipy.spatial.transform import Rotation

    from hoi_perception.assets import object_library
    from hoi_perception.pipeline.stages import load_reconstructor

    frame = fullbody_frame()
    asset = object_library().get("003_cracker_box")
    iou = {}
    for fit in (False, True):
        recon = load_reconstructor("fullbody", "fullbody", object_class="003_cracker_box", silhouette_fit=fit,
                                   person_fit=False)
        obj = recon.reconstruct(frame).objects[0]
        r = Rotation.from_quat(obj.pose.orientation).as_matrix()
        v = obj.scale[0] * asset.vertices @ r.T + obj.pose.position
        sil = rasterize(pinhole_project(v, frame.intrinsics.matrix), asset.faces, (frame.image.shape[0], frame.image.shape[1]))
        iou[fit] = mask_iou(sil, frame.masks[-1])
        assert np.isfinite(v).all()
    assert iou[True] > iou[False] + 0.05


def test_a_large_image_is_fitted_at_a_bounded_size_and_a_thin_mask_survives_it():
    """Masks of a 4x larger image give the same fit (downscaled inside); a 1-px-wide mask is not lost."""
    big_k = K.copy()
    big_k[:2] *= 4
    big_k[:2, 2] = K[:2, 2] * 4 + 1.5  # pixel centres at integers
    start = (0.8, R_TRUE, T_TRUE + [0.02, 0.0, 0.0])
    truth = _silhouette((1.0, R_TRUE, T_TRUE))
    big_truth = _silhouette_at(big_k, (1.0, R_TRUE, T_TRUE), (4 * H, 4 * W))
    human = np.zeros((H, W), bool)
    human[5:20, 5:20] = True
    big_human = np.kron(human, np.ones((4, 4), bool))
    small, _ = _fit(start, truth, human, _body(1.0, human))
    pose, _ = fit_object_pose(start, BOX.vertices, BOX.faces, _body(1.0, human), big_truth, big_human, big_k)
    assert mask_iou(_silhouette(pose), truth) > 0.9 and abs(pose[0] - small[0]) < 0.1
    thin = np.zeros((4 * H, 4 * W), bool)
    thin[100:300, 200:201] = True  # under half a pixel wide once downscaled
    pose, fit = fit_object_pose(start, BOX.vertices, BOX.faces, _body(1.0, human), thin, big_human, big_k)
    assert np.isfinite(fit.transform).all()


def _fitter_cases():
    """Two fits of different frames: the misplaced box, and the box half behind a body."""
    truth = _silhouette((1.0, R_TRUE, T_TRUE))
    far = np.zeros((H, W), bool)
    far[5:20, 5:20] = True
    half = np.zeros((H, W), bool)
    half[:, 64:] = True
    return [((0.7, R_TRUE, T_TRUE + [0.03, -0.02, 0.0]), truth, far, _body(1.0, far)),
            ((1.1, R_TRUE, T_TRUE + [-0.02, 0.01, 0.0]), truth & ~half, half, _body(1.0, half))]


GPU = pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("device,fuse", [("cpu", False), pytest.param("cuda", False, marks=GPU),
                                         pytest.param("cuda", True, marks=GPU)])
def test_torch_fitter_takes_the_numpy_steps(device, fuse):
    """The GPU path (silhouette_fit_torch) is the same fit: eager on the CPU, a replayed CUDA graph
    on a GPU (its steps fused by torch.compile, as shipped, or not), refilled for every frame."""
    from hoi_perception.fullbody.silhouette_fit_torch import TorchFitter

    fitter = TorchFitter(device, compile=fuse)
    for pose, obj, human, body in _fitter_cases() * 2:  # the second round replays the captured graph
        (s0, r0, t0), ref = _fit(pose, obj, human, body)
        (s1, r1, t1), got = fit_object_pose(pose, BOX.vertices, BOX.faces, body, obj, human, K, fitter=fitter)
        assert abs(s1 - s0) < 1e-6 and np.abs(t1 - t0).max() < 1e-6 and np.abs(r1 - r0).max() < 1e-6
        assert abs(got.loss_after - ref.loss_after) < 1e-6


def test_the_rate_decays_over_the_second_half_and_the_fit_never_ends_worse_than_it_started():
    from hoi_perception.fullbody.silhouette_fit import LEARNING_RATE, STEPS, step_sizes

    rates = step_sizes(STEPS, LEARNING_RATE)
    assert np.all(rates[: STEPS // 2] == LEARNING_RATE) and rates[-1] < 1e-12 and np.all(np.diff(rates) <= 0)
    # started where the mask is already explained (at the truth; the hidden half behind a body in
    # front), the steps' first lr-sized moves lead away (at a constant rate the truth ended with 100x
    # its loss); the best placement met comes back
    full = _silhouette((1.0, R_TRUE, T_TRUE))
    far, human = np.zeros((H, W), bool), np.zeros((H, W), bool)
    far[5:20, 5:20] = True
    human[:, int(np.median(np.nonzero(full)[1])):] = True
    at_truth = [((1.0, R_TRUE, T_TRUE), full, far, _body(1.0, far)),
                ((1.0, R_TRUE, T_TRUE), full & ~human, human, _body(0.9, human))]
    for pose, obj, hum, body in _fitter_cases() + at_truth:
        _, fit = _fit(pose, obj, hum, body)
        assert fit.loss_after <= fit.loss_before + 1e-12
