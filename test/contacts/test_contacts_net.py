"""The contact network on a small canvas: shapes, the lift equals the canvas's own, the per-object render
path used in training equals the per-item one, and an unknown kind takes the class-agnostic slot."""
from __future__ import annotations

import numpy as np
import torch

from hoi_perception.contacts import canonical as C
from hoi_perception.contacts.net import N_JOINTS, ContactNet, ContactNetConfig, kind_one_hot, lift


def small_net(box_mesh, kinds=("box", "mug")):
    v, f = box_mesh(4)
    body = C.body_canvas(v, f, size=32)
    torch.manual_seed(0)
    net = ContactNet(ContactNetConfig(kinds=kinds, crop=64, token=32, body_features=8, object_features=8),
                     body.images, body.cameras, body.lift.index, body.lift.weight, C.camera_codes(C.OBJECT_VIEWS))
    return net.eval(), body


def object_inputs(b: int):
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(500, 3)) * [0.1, 0.1, 0.2]
    c = C.object_canvas(pts, pts[:64], size=32)
    def rep(a):
        return torch.as_tensor(np.repeat(a[None], b, 0))

    return rep(c.images), rep(c.lift.index), rep(c.lift.weight), c


def test_shapes_and_lift(box_mesh):
    net, body = small_net(box_mesh)
    b = 3
    oi, idx, w, canvas = object_inputs(b)
    kind = torch.stack([kind_one_hot(net.cfg.kinds, k) for k in ("box", "mug", None)])
    out = net(torch.rand(b, 5, 64, 64), torch.rand(b, N_JOINTS, 2), kind, oi, idx, w,
              torch.rand(b, len(body.lift.seen), 2), torch.rand(b, 64, 2))
    assert out["body_logits"].shape == (b, len(body.lift.seen)) and out["object_logits"].shape == (b, 64)
    assert out["body_pixels"].shape == (b, 4, 32, 32)
    ref = body.lift.lift(out["body_pixels"].detach().flatten(1).numpy())
    assert np.allclose(out["body_lifted"].detach().numpy(), ref, atol=1e-5)
    ref_o = canvas.lift.lift(out["object_pixels"].detach().flatten(1).numpy())
    assert np.allclose(out["object_lifted"].detach().numpy(), ref_o, atol=1e-5)
    # the fusion starts as the identity: before training the evidence changes nothing
    assert torch.equal(out["body_logits"], out["body_lifted"]) and torch.equal(out["object_logits"], out["object_lifted"])


def test_distinct_objects_path_equals_per_item(box_mesh):
    net, _ = small_net(box_mesh)
    oi, idx, w, _ = object_inputs(2)
    x = (torch.rand(2, 5, 64, 64), torch.rand(2, N_JOINTS, 2), torch.eye(3)[:2])
    ev = (torch.rand(2, net.body_index.shape[0], 2), torch.rand(2, 64, 2))
    a = net(*x, oi, idx, w, *ev)["object_logits"]
    b = net(*x, oi[:1], idx, w, *ev, object_of=torch.tensor([0, 0]))["object_logits"]
    assert torch.allclose(a, b, atol=1e-5)


def test_kind_one_hot_unknown_is_the_last_slot():
    assert kind_one_hot(("box", "mug"), "mug").tolist() == [0, 1, 0]
    assert kind_one_hot(("box", "mug"), "drill").tolist() == [0, 0, 1]
    assert kind_one_hot(("box", "mug"), None).tolist() == [0, 0, 1]


def test_lift_shared_and_per_item_tables_agree():
    pix = torch.rand(2, 4, 8, 8)
    index = torch.randint(0, 256, (5, 3))
    weight = torch.rand(5, 3)
    assert torch.allclose(lift(pix, index, weight), lift(pix, index.expand(2, 5, 3), weight.expand(2, 5, 3)))
