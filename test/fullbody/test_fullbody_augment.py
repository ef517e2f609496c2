"""Crop augmentation: the reframed image, intrinsics and 2D joints stay one pinhole camera."""
from __future__ import annotations

import pytest
import torch

from hoi_perception.fullbody.model import project
from hoi_perception.fullbody.preprocess import MEAN, STD
from hoi_perception.fullbody.training import data as fb_data
from hoi_perception.fullbody.training import train
from hoi_perception.fullbody.training.augment import AugmentConfig, augment_batch, jitter_colour, reframe

S = 96


def _blob_image(uv_px: torch.Tensor, sigma: float = 1.5) -> torch.Tensor:
    """A black crop whose human-mask channel holds a Gaussian spot at crop pixel uv_px."""
    ys, xs = torch.meshgrid(torch.arange(S, dtype=torch.float32), torch.arange(S, dtype=torch.float32), indexing="ij")
    spot = torch.exp(-((xs - uv_px[0]) ** 2 + (ys - uv_px[1]) ** 2) / (2 * sigma ** 2))
    img = torch.zeros(1, 5, S, S)
    img[0, :3] = torch.as_tensor(-MEAN / STD).view(3, 1, 1)
    img[0, 3] = spot
    return img


def _spot_centre(img: torch.Tensor) -> torch.Tensor:
    w = img[0, 3]
    ys, xs = torch.meshgrid(torch.arange(S, dtype=torch.float32), torch.arange(S, dtype=torch.float32), indexing="ij")
    return torch.stack([(w * xs).sum() / w.sum(), (w * ys).sum() / w.sum()])


@pytest.mark.parametrize("scale,shift", [(1.12, (0.05, -0.03)), (0.88, (-0.06, 0.04)), (1.0, (0.0, 0.0))])
def test_reframed_image_and_intrinsics_agree_on_a_projected_point(scale, shift):
    k = torch.tensor([[1.3, 1.3, 0.47, 0.52]])          # normalised crop intrinsics
    point = torch.tensor([[[0.08, -0.05, 2.1]]])          # camera frame, metres
    uv = project(point, k)[0, 0] * S
    img = _blob_image(uv)
    j2 = project(point, k)
    out, k2, j2b = reframe(img, k, j2, torch.tensor([scale]), torch.tensor([shift]))
    # the spot moved where the new intrinsics project the unchanged 3D point, and so did the 2D joint
    expected = project(point, k2)[0, 0] * S
    assert torch.allclose(_spot_centre(out), expected, atol=0.05)
    assert torch.allclose(j2b, project(point, k2), atol=1e-6)
    if scale == 1.0:
        assert torch.allclose(out, img, atol=1e-5)


def test_pixels_from_outside_the_crop_are_black_with_empty_masks():
    img = torch.zeros(1, 5, S, S)
    img[:, 3:] = 1.0
    out, _, _ = reframe(img, torch.tensor([[1.0, 1.0, 0.5, 0.5]]), torch.zeros(1, 1, 2),
                        torch.tensor([0.7]), torch.tensor([[0.15, 0.15]]))
    corner = out[0, :, 0, 0]
    assert torch.allclose(corner[:3], torch.as_tensor(-MEAN / STD, dtype=torch.float32), atol=1e-5)
    assert torch.all(corner[3:] == 0)
    assert torch.allclose(out[0, :, S // 2, S // 2], img[0, :, S // 2, S // 2], atol=1e-5)


def test_colour_jitter_changes_rgb_only_and_stays_in_range():
    torch.manual_seed(0)
    img = torch.randn(2, 5, 8, 8)
    out = jitter_colour(img, torch.tensor([[1.2, 0.9, 1.0], [1.0, 1.0, 1.0]]), torch.tensor([0.1, 0.0]),
                        torch.tensor([0.8, 1.0]))
    assert torch.equal(out[:, 3:], img[:, 3:])
    rgb = out[:, :3] * torch.as_tensor(STD).view(1, 3, 1, 1) + torch.as_tensor(MEAN).view(1, 3, 1, 1)
    assert rgb.min() >= -1e-5 and rgb.max() <= 1 + 1e-5
    assert not torch.allclose(out[0, :3], img[0, :3])


def test_augmented_batch_keeps_3d_targets_and_projects_consistently(engine_dataset):
    d = fb_data.load_scenes(engine_dataset("fullbody", 2, 11, 128), S, with_view_b=False)
    b = fb_data.batch(d, torch.tensor([0, 1]))
    a = augment_batch(b, AugmentConfig(probability=1.0), torch.Generator().manual_seed(3))
    assert torch.equal(a["body_vertices"], b["body_vertices"]) and torch.equal(a["joints"], b["joints"])
    assert not torch.allclose(a["intrinsics_0"], b["intrinsics_0"])
    # the stored 2D joints are the projections of the 3D joints (body, then both hands); after augmentation too
    pj = torch.cat([b["joints"], b["hand_joints"].flatten(1, 2)], dim=1)
    assert (project(pj, b["intrinsics_0"]) - b["joints_2d"]).abs().max() < 1e-5
    assert (project(pj, a["intrinsics_0"]) - a["joints_2d"]).abs().max() < 1e-5
    none = augment_batch(b, AugmentConfig(probability=0.0), torch.Generator().manual_seed(3))
    assert torch.allclose(none["image_0"], b["image_0"].float(), atol=1e-5)


def test_training_cli_runs_with_augmentation_and_the_centred_vertex_loss(engine_dataset, tmp_path):
    run = tmp_path / "run"
    args = ["--data", str(engine_dataset("fullbody", 2, 11, 128)), "--out", str(run), "--batch", "2", "--steps", "2",
            "--augment", "--centred-vertex-weight", "1.0"]
    assert train.main(args) == 0
    log = (run / "log.csv").read_text()
    assert "vertex_centred" in log.splitlines()[0]
