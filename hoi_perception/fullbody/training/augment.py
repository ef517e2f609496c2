"""Training-time augmentation of stored full-body crops, exact in the camera model.

A zoom s and shift t of the crop is one more affine on top of the crop's own (crop pixel
u' = s u + t, pixel centres at integers as in `preprocess.make_crop`), so the normalised crop
intrinsics and 2D joints follow exactly and every 3D target (camera optical frame) is unchanged:
the network still sees a pinhole image of the same scene, only framed differently, as when a
detector's box is looser, tighter or off-centre. Photometric jitter (per-channel gain, brightness,
contrast) acts on the RGB channels only; the masks are resampled with the image.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..preprocess import MEAN, STD


@dataclass
class AugmentConfig:
    scale: float = 0.15       # zoom s log-uniform in [1/(1+scale), 1+scale]
    shift: float = 0.08       # shift t uniform in +-shift of the crop side, per axis
    color: float = 0.2        # gain per channel and contrast in 1+-color, brightness +-color/2
    probability: float = 0.8  # share of the batch that is augmented (the rest is kept as stored)


def _black(device) -> torch.Tensor:
    """Value of a zero (black, empty-mask) pixel in the network's normalised input, per channel."""
    rgb = torch.as_tensor(-MEAN / STD, dtype=torch.float32, device=device)
    return torch.cat([rgb, torch.zeros(2, device=device)]).view(1, 5, 1, 1)


def reframe(image: torch.Tensor, intrinsics: torch.Tensor, joints_2d: torch.Tensor,
            scale: torch.Tensor, shift: torch.Tensor):
    """Apply u' = scale * u + shift * S (per sample) to crops (B,5,S,S), intrinsics (B,4) and
    normalised 2D joints (B,J,2). Pixels brought in from outside the crop are black, masks empty."""
    b, _, size, _ = image.shape
    s = scale.view(b, 1, 1, 1)
    t = (shift * size).view(b, 1, 1, 2)
    ys, xs = torch.meshgrid(torch.arange(size, dtype=image.dtype), torch.arange(size, dtype=image.dtype), indexing="ij")
    out_px = torch.stack([xs, ys], dim=-1)[None]                  # (1,S,S,2) output pixel centres (x, y)
    src_px = (out_px - t) / s                                      # where each output pixel comes from
    grid = (2.0 * src_px + 1.0) / size - 1.0                       # align_corners=False convention
    black = _black(image.device)
    warped = F.grid_sample(image - black, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + black
    k = intrinsics.clone()
    k[:, :2] = intrinsics[:, :2] * scale[:, None]
    k[:, 2:] = intrinsics[:, 2:] * scale[:, None] + shift
    j2 = joints_2d * scale[:, None, None] + shift[:, None, :]
    return warped, k, j2


def jitter_colour(image: torch.Tensor, gain: torch.Tensor, brightness: torch.Tensor,
                  contrast: torch.Tensor) -> torch.Tensor:
    """Per-sample photometric change of the RGB channels (in [0, 1] colour, clipped), masks kept."""
    mean = torch.as_tensor(MEAN, dtype=image.dtype).view(1, 3, 1, 1)
    std = torch.as_tensor(STD, dtype=image.dtype).view(1, 3, 1, 1)
    rgb = image[:, :3] * std + mean
    grey = rgb.mean(dim=(1, 2, 3), keepdim=True)
    rgb = (rgb * gain[:, :, None, None] - grey) * contrast.view(-1, 1, 1, 1) + grey + brightness.view(-1, 1, 1, 1)
    rgb = rgb.clamp(0.0, 1.0)
    return torch.cat([(rgb - mean) / std, image[:, 3:]], dim=1)


def augment_batch(b: dict, cfg: AugmentConfig, generator: torch.Generator) -> dict:
    """Augmented copy of a training batch's view-A crop, intrinsics and 2D joints (3D targets unchanged)."""
    img, k, j2 = b["image_0"], b["intrinsics_0"], b["joints_2d"]
    n = img.shape[0]

    def uniform(*shape):  # in [-1, 1)
        return 2.0 * torch.rand(*shape, generator=generator) - 1.0

    on = torch.rand(n, generator=generator) < cfg.probability
    log_s = uniform(n) * torch.log1p(torch.tensor(cfg.scale))
    scale = torch.where(on, torch.exp(log_s), torch.ones(n))
    # shift so that the zoom is about the crop centre, then the random offset
    centre = 0.5 * (1.0 - scale)
    shift = torch.where(on[:, None], centre[:, None] + uniform(n, 2) * cfg.shift, torch.zeros(n, 2))
    img, k, j2 = reframe(img.float(), k, j2, scale, shift)
    c = cfg.color
    gain = torch.where(on[:, None], 1.0 + uniform(n, 3) * c, torch.ones(n, 3))
    contrast = torch.where(on, 1.0 + uniform(n) * c, torch.ones(n))
    brightness = torch.where(on, uniform(n) * c / 2, torch.zeros(n))
    img = torch.where(on.view(-1, 1, 1, 1), jitter_colour(img, gain, brightness, contrast), img)
    return {**b, "image_0": img, "intrinsics_0": k, "joints_2d": j2}
