"""A small conditional normalising flow (Glow-style: activation normalisation, an invertible linear
map in LU form, affine coupling conditioned on a context vector), written here in plain torch.

x (B, D) and a context c (B, C) -> z = F(x; c) and log|det dF/dx|; log p(x | c) = log N(z) + log det.
Only the density is needed at run time (scoring an arrangement); `inverse` draws samples for tests
and for looking at what the flow learned.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

SCALE_LIMIT = 2.0  # the coupling's log-scale is squashed into (-2, 2) so one layer cannot blow up


@dataclass(frozen=True)
class FlowConfig:
    dim: int  # the variable's size
    context: int  # the condition's size
    steps: int = 6
    hidden: int = 128
    context_features: int = 64


class ActNorm(nn.Module):
    """Per-dimension affine map, set from the first training batch to zero mean and unit variance."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(dim))
        self.log_scale = nn.Parameter(torch.zeros(dim))
        self.register_buffer("initialised", torch.tensor(0, dtype=torch.uint8))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training and not bool(self.initialised):
            with torch.no_grad():
                self.loc.copy_(-x.mean(0))
                self.log_scale.copy_(-torch.log(x.std(0).clamp_min(1e-6)))
                self.initialised.fill_(1)
        return (x + self.loc) * torch.exp(self.log_scale), self.log_scale.sum().expand(len(x))

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return z * torch.exp(-self.log_scale) - self.loc


class InvertibleLinear(nn.Module):
    """x -> x W^T with W = P L (U + diag(sign * exp(s))): a fixed permutation, unit lower and strictly
    upper triangular factors; log|det W| = sum(s)."""

    def __init__(self, dim: int, seed: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=g))
        p, lower, upper = torch.linalg.lu(q)
        diag = torch.diagonal(upper)
        self.register_buffer("perm", p)
        self.register_buffer("sign", torch.sign(diag))
        self.register_buffer("lower_mask", torch.tril(torch.ones(dim, dim), -1))
        self.lower = nn.Parameter(lower * self.lower_mask)
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_s = nn.Parameter(torch.log(diag.abs()))

    def weight(self) -> torch.Tensor:
        eye = torch.eye(len(self.log_s), dtype=self.log_s.dtype)
        lower = self.lower * self.lower_mask + eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign * torch.exp(self.log_s))
        return self.perm @ lower @ upper

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x @ self.weight().T, self.log_s.sum().expand(len(x))

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return torch.linalg.solve(self.weight(), z.T).T


class AffineCoupling(nn.Module):
    """The second half of x scaled and shifted by a network of the first half and the context."""

    def __init__(self, dim: int, context: int, hidden: int) -> None:
        super().__init__()
        self.half = dim // 2
        self.net = nn.Sequential(nn.Linear(self.half + context, hidden), nn.SiLU(), nn.Linear(hidden, hidden),
                                 nn.SiLU(), nn.Linear(hidden, 2 * (dim - self.half)))
        nn.init.zeros_(self.net[-1].weight)  # starts as the identity
        nn.init.zeros_(self.net[-1].bias)

    def _scale_shift(self, xa: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self.net(torch.cat([xa, c], -1)).chunk(2, -1)
        return SCALE_LIMIT * torch.tanh(s / SCALE_LIMIT), t

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        xa, xb = x[:, :self.half], x[:, self.half:]
        s, t = self._scale_shift(xa, c)
        return torch.cat([xa, xb * torch.exp(s) + t], -1), s.sum(-1)

    def inverse(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        za, zb = z[:, :self.half], z[:, self.half:]
        s, t = self._scale_shift(za, c)
        return torch.cat([za, (zb - t) * torch.exp(-s)], -1)


class ConditionalFlow(nn.Module):
    def __init__(self, cfg: FlowConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.context_net = nn.Sequential(nn.Linear(cfg.context, cfg.hidden), nn.SiLU(),
                                         nn.Linear(cfg.hidden, cfg.context_features))
        self.norms = nn.ModuleList(ActNorm(cfg.dim) for _ in range(cfg.steps))
        self.linears = nn.ModuleList(InvertibleLinear(cfg.dim, seed=i) for i in range(cfg.steps))
        self.couplings = nn.ModuleList(AffineCoupling(cfg.dim, cfg.context_features, cfg.hidden)
                                       for _ in range(cfg.steps))

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, D), context (B, C) -> z (B, D), log|det| (B,)."""
        c = self.context_net(context)
        logdet = x.new_zeros(len(x))
        for norm, linear, coupling in zip(self.norms, self.linears, self.couplings):
            for layer in (norm, linear):
                x, ld = layer(x)
                logdet = logdet + ld
            x, ld = coupling(x, c)
            logdet = logdet + ld
        return x, logdet

    def log_prob(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        z, logdet = self(x, context)
        return -0.5 * (z * z).sum(-1) - 0.5 * self.cfg.dim * math.log(2 * math.pi) + logdet

    @torch.no_grad()
    def density(self, context: torch.Tensor):
        """log p(. | context) for one fixed context (B, C) as a function of x (B, D): the context's
        features and the linear maps are computed once, so a fit that calls it every step pays only
        for the couplings (the flow's own parameters do not move)."""
        c = self.context_net(context)
        layers = [(norm.loc.clone(), torch.exp(norm.log_scale).clone(), linear.weight().T.clone(), coupling)
                  for norm, linear, coupling in zip(self.norms, self.linears, self.couplings)]
        const = sum(float(n.log_scale.sum()) + float(lin.log_s.sum()) for n, lin in zip(self.norms, self.linears))
        const -= 0.5 * self.cfg.dim * math.log(2 * math.pi)

        def log_prob(x: torch.Tensor) -> torch.Tensor:
            logdet = x.new_zeros(len(x))
            for loc, scale, w_t, coupling in layers:
                x, ld = coupling((x + loc) * scale @ w_t, c)
                logdet = logdet + ld
            return -0.5 * (x * x).sum(-1) + logdet + const

        return log_prob

    def inverse(self, z: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        c = self.context_net(context)
        for norm, linear, coupling in reversed(list(zip(self.norms, self.linears, self.couplings))):
            z = norm.inverse(linear.inverse(coupling.inverse(z, c)))
        return z

    def sample(self, context: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.inverse(torch.randn(len(context), self.cfg.dim, generator=generator), context)


def config_from(d: dict) -> FlowConfig:
    return FlowConfig(**{k: d[k] for k in FlowConfig.__dataclass_fields__ if k in d})
