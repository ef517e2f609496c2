"""The object segmenter network: a small U-Net over the five prompt channels (`prompt.py`), one logit
per crop pixel (the object's visible mask). A stride-2 stem runs the U-Net at half the crop's
resolution and the logits are upsampled back: masks need no finer detail, and it is ~4x cheaper."""
from __future__ import annotations

import torch
from torch import nn

WIDTHS = (16, 32, 64, 96)
IN_CHANNELS = 5


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class SegmenterNet(nn.Module):
    def __init__(self, widths=WIDTHS, in_channels: int = IN_CHANNELS) -> None:
        super().__init__()
        self.widths = tuple(widths)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, self.widths[0], 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(self.widths[0]), nn.ReLU(inplace=True))
        self.down = nn.ModuleList()
        cin = self.widths[0]
        for w in self.widths:
            self.down.append(_block(cin, w))
            cin = w
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for w_skip, w_in in zip(self.widths[-2::-1], self.widths[:0:-1]):
            self.up.append(nn.ConvTranspose2d(w_in, w_skip, 2, stride=2))
            self.merge.append(_block(2 * w_skip, w_skip))
        self.head = nn.Conv2d(self.widths[0], 1, 1)

    def forward(self, inputs: torch.Tensor) -> dict:
        skips = []
        x = self.stem(inputs)
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else nn.functional.max_pool2d(x, 2))
            skips.append(x)
        for up, merge, skip in zip(self.up, self.merge, skips[-2::-1]):
            x = merge(torch.cat([up(x), skip], 1))
        logits = nn.functional.interpolate(self.head(x), size=inputs.shape[-2:], mode="bilinear", align_corners=False)
        return {"logits": logits[:, 0]}
