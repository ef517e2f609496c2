"""Hand-joint refinement on detached features (`NetConfig.hand_refine > 0`).

Ours, not ForeHOI's (which takes its hand from a separately trained hand ViT). The hand branch's
joints come from a 1x1 heatmap head on a shallow 32x32 feature map: each heatmap sees a small
patch, so joints of different fingers are easily confused (predicted 2D joints about 18 px off at
128^2 on the held-out clips, release 7). The branch's features also feed the object tokens, so
training it harder moves the object too. This module instead reads every feature detached (the
hand branch's 8x8 tokens and 32x32 map, the image tokens, the dual transformer's per-frame tokens)
and regresses residuals of the joints (u, v), their relative depths and the wrist depth: 21 joint
queries, each seeded with the feature sampled at its current joint estimate, attend to the frame's
tokens and to each other. Its output layers start at zero, so a network given this module starts
out exactly as the one it was initialised from, and nothing it learns can change the object
outputs (tested).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

N_JOINTS = 21


class _JointLayer(nn.Module):
    def __init__(self, width: int, heads: int, attention_cls, mlp_cls):
        super().__init__()
        self.n = nn.ModuleList([nn.LayerNorm(width) for _ in range(3)])
        self.to_tokens = attention_cls(width, heads)
        self.among = attention_cls(width, heads)
        self.mlp = mlp_cls(width, 2)

    def forward(self, q, tokens):
        q = q + self.to_tokens(self.n[0](q), tokens)
        h = self.n[1](q)
        q = q + self.among(h, h)
        return q + self.mlp(self.n[2](q))


class HandRefine(nn.Module):
    def __init__(self, width: int, map_channels: int, token_channels: int, attention_cls, mlp_cls,
                 heads: int = 4, layers: int = 2):
        super().__init__()
        self.tokens_in = nn.Linear(token_channels, width)
        self.tokens_norm = nn.LayerNorm(width)
        self.pos = nn.Parameter(torch.randn(1, 64, width) * 0.02)
        self.joint = nn.Parameter(torch.randn(1, N_JOINTS, width) * 0.02)
        self.point_in = nn.Linear(map_channels + 3, width)
        self.layers = nn.ModuleList([_JointLayer(width, heads, attention_cls, mlp_cls) for _ in range(layers)])
        self.norm = nn.LayerNorm(width)
        self.joint_out = nn.Linear(width, 3)  # du, dv, d(relative depth)
        self.root_out = nn.Linear(width, 1)  # d(wrist log depth)
        for lin in (self.joint_out, self.root_out):
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, feature_map, tokens, hand_uv, hand_z):
        """feature_map (N, C, 32, 32); tokens (N, 64, T); hand_uv (N, 21, 2) in [-1, 1]
        (align_corners=False pixel centres); hand_z (N, 22) = wrist log depth, 21 relative depths.
        All inputs are detached here. Returns refined (hand_uv, hand_z)."""
        feature_map, tokens = feature_map.detach(), tokens.detach()
        uv, z = hand_uv.detach(), hand_z.detach()
        at_joint = F.grid_sample(feature_map, uv[:, :, None, :], align_corners=False)[..., 0]  # (N, C, 21)
        q = self.joint + self.point_in(torch.cat([at_joint.transpose(1, 2), uv, z[:, 1:, None]], -1))
        ctx = self.tokens_norm(self.tokens_in(tokens)) + self.pos
        for layer in self.layers:
            q = layer(q, ctx)
        q = self.norm(q)
        d = self.joint_out(q)
        return uv + d[..., :2], torch.cat([z[:, :1] + self.root_out(q.mean(1)), z[:, 1:] + d[..., 2]], -1)
