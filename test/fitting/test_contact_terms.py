"""The contact anchor (paper 003, eq. 9): no anchor without contacts, the energy is the weighted mean
distance, gradient steps pull the object onto the body's contacts, and the ray-scale solve finds the depth
where the contacts meet."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from hoi_perception.fitting.contact_terms import ContactAnchor, anchor_energy, anchor_per_scale, contact_evidence
from hoi_perception.fitting.prior_terms import solve_ray_scale
from hoi_perception.fitting.terms import FitState


def hand_and_cup(depth: float = 2.0):
    rng = np.random.default_rng(0)
    body = np.array([0.0, 0.0, depth]) + rng.normal(0, 0.02, (40, 3))
    obj = np.array([0.0, 0.0, depth]) + rng.normal(0, 0.02, (64, 3))
    return body, obj


def test_no_anchor_without_contacts():
    body, obj = hand_and_cup()
    ev, why = contact_evidence(body, np.zeros(40), obj, np.ones(64), 0.5)
    assert ev is None and "0 body vertices" in why
    ev, why = contact_evidence(body, np.ones(40), obj, np.zeros(64), 0.5)
    assert ev is None and "no object point" in why
    ev, _ = contact_evidence(body, np.ones(40), obj, np.ones(64), 0.5)
    assert ev is not None and len(ev.body) == 40


def test_energy_is_the_weighted_mean_distance():
    body = torch.tensor([[0.0, 0, 0], [1.0, 0, 0]], dtype=torch.float64)
    obj = torch.tensor([[[0.0, 0, 0]]], dtype=torch.float64)
    e = anchor_energy(body, torch.tensor([1.0, 3.0], dtype=torch.float64), obj, torch.ones(1, dtype=torch.float64))
    assert float(e[0]) == pytest.approx(0.75)


def test_gradient_pulls_the_object_onto_the_contacts():
    body, obj = hand_and_cup()
    ev, _ = contact_evidence(body, np.ones(40), obj + [0.2, 0.0, 0.0], np.ones(64), 0.5)
    term = ContactAnchor(ev)
    params = torch.zeros(1, 6, dtype=torch.float64, requires_grad=True)
    centre = torch.as_tensor(ev.object.mean(0))
    opt = torch.optim.Adam([params], lr=0.01)
    first = None
    for _ in range(150):
        state = FitState(None, None, torch.eye(3), None, object_params=params, object_centre=centre,
                         object_start=torch.as_tensor(ev.object))
        e = term(state).sum()
        first = float(e) if first is None else first
        opt.zero_grad()
        e.backward()
        opt.step()
    assert float(e) < 0.5 * first


def test_ray_scale_solve_meets_the_contacts():
    body, obj = hand_and_cup(2.0)
    ev, _ = contact_evidence(body, np.ones(40), obj / 1.15, np.ones(64), 0.5)  # the object 15 % too near
    grid = np.exp(np.linspace(-0.35, 0.35, 29))
    e = anchor_per_scale(ev, grid)
    assert abs(grid[int(np.argmin(e))] - 1.15) < 0.05
    f, info = solve_ray_scale(None, anchor=ev, depth_sigma=1.0)
    assert abs(f - 1.15) < 0.05 and info["log_prob"] is None
    f_none, _ = solve_ray_scale(None)
    assert f_none == 1.0  # no prior and no anchor: the start's depth stays
