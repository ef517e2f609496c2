"""The conditional flow: invertible, its density is a density (change of variables), and it learns
a conditional Gaussian (proof of life on a tiny problem)."""
from __future__ import annotations

import math

import torch

from hoi_perception.spatialprior.flow import ConditionalFlow, FlowConfig


def trained_flow(steps: int = 300) -> ConditionalFlow:
    """x ~ N(2c, 0.1^2) in 2 dimensions, c uniform in [-1, 1]."""
    torch.manual_seed(0)
    flow = ConditionalFlow(FlowConfig(dim=2, context=1, steps=3, hidden=32, context_features=8))
    opt = torch.optim.Adam(flow.parameters(), lr=1e-2)
    for _ in range(steps):
        c = torch.rand(256, 1) * 2 - 1
        x = 2 * c.expand(256, 2) + 0.1 * torch.randn(256, 2)
        loss = -flow.log_prob(x, c).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return flow.eval()


def test_inverse_undoes_forward():
    flow = trained_flow(20)
    x, c = torch.randn(10, 2), torch.rand(10, 1)
    z, _ = flow(x, c)
    assert torch.allclose(flow.inverse(z, c), x, atol=1e-4)


def test_log_det_matches_the_jacobian():
    flow = trained_flow(20).double()
    x, c = torch.randn(1, 2, dtype=torch.float64), torch.rand(1, 1, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda v: flow(v[None], c)[0][0], x[0])
    _, logdet = flow(x, c)
    assert math.isclose(float(logdet), float(torch.linalg.slogdet(jac)[1]), abs_tol=1e-6)


def test_learns_a_conditional_gaussian():
    flow = trained_flow()
    c = torch.tensor([[0.5], [-0.5]])
    with torch.no_grad():
        samples = torch.stack([flow.sample(c, torch.Generator().manual_seed(i)) for i in range(200)])
        assert torch.allclose(samples.mean(0), 2 * c.expand(2, 2), atol=0.1)
        near, far = flow.log_prob(torch.tensor([[1.0, 1.0]]), c[:1]), flow.log_prob(torch.tensor([[-1.0, -1.0]]), c[:1])
    assert float(near) > float(far) + 10
