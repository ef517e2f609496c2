"""Hand-joint refinement: a module added to a trained network changes nothing until trained, once
trained it moves the hand joints and never the object outputs, no gradient of it reaches the rest
of the network, and the network exports to ONNX with it."""
import torch

from hoi_perception.handobject.model import HandObjectNet, NetConfig
from hoi_perception.handobject.training.export import compare_backends, example_inputs, write_weights

TINY = NetConfig(dim=32, heads=2, depth=1, latent=4, img_channels=(8, 16, 16), hand_channels=(8, 16, 16))
TINY_REFINE = NetConfig.from_dict({**TINY.to_dict(), "hand_refine": 16})
OBJECT_OUTPUTS = ("occupancy", "masks", "pose", "frame_weights")


def _acting(net: HandObjectNet) -> HandObjectNet:
    """As if trained: the zero-initialised output layers now act."""
    for lin in (net.hand_refine.joint_out, net.hand_refine.root_out):
        torch.nn.init.normal_(lin.weight, std=0.5)
    return net


def test_added_module_starts_as_the_network_it_extends():
    torch.manual_seed(0)
    base = HandObjectNet(TINY).eval()
    net = HandObjectNet(TINY_REFINE).eval()
    missing, unexpected = net.load_state_dict(base.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("hand_refine.") for k in missing)
    x = example_inputs(3)
    with torch.no_grad():
        a, b = base(**x), net(**x)
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_refinement_moves_the_hand_and_never_the_object():
    torch.manual_seed(1)
    base = HandObjectNet(TINY).eval()
    net = HandObjectNet(TINY_REFINE).eval()
    net.load_state_dict(base.state_dict(), strict=False)
    _acting(net)
    x = example_inputs(3)
    with torch.no_grad():
        a, b = base(**x), net(**x)
    for key in OBJECT_OUTPUTS:
        assert torch.equal(a[key], b[key]), key
    assert not torch.allclose(a["hand_uv"], b["hand_uv"], atol=1e-3)
    assert not torch.allclose(a["hand_z"], b["hand_z"], atol=1e-3)
    # the hand loss trains the refinement alone: its gradient reaches no other weight
    out = net(**x)
    (out["hand_uv"].abs().sum() + out["hand_z"].abs().sum()).backward()
    for name, p in net.named_parameters():
        if not name.startswith("hand_refine."):
            assert p.grad is None or not p.grad.any(), name
    assert net.hand_refine.joint_out.weight.grad.abs().sum() > 0


def test_hand_refine_exports_and_backends_agree(tmp_path):
    from hoi_perception.backends import export_onnx
    from hoi_perception.handobject.infer import OUTPUT_NAMES, load_torch_model

    torch.manual_seed(2)
    net = _acting(HandObjectNet(TINY_REFINE))
    write_weights(net, tmp_path)
    export_onnx(load_torch_model(tmp_path), example_inputs(), tmp_path / "model.onnx", OUTPUT_NAMES)
    res = compare_backends(tmp_path)
    assert res["ok"], res["max_abs_diff"]
