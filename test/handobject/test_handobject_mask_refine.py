"""Mask refinement: a module added to a trained network changes nothing until trained; once
trained it moves the masks (and, through the silhouette lift, the occupancy) of the valid frames
only, and the network exports to ONNX with it."""
import torch

from hoi_perception.handobject.model import HandObjectNet, NetConfig
from hoi_perception.handobject.training.export import compare_backends, example_inputs, write_weights

TINY_LIFT = NetConfig(dim=32, heads=2, depth=1, latent=4, img_channels=(8, 16, 16), hand_channels=(8, 16, 16), lift=4)
TINY_MASK = NetConfig.from_dict({**TINY_LIFT.to_dict(), "mask_refine": 8})


def _acting(net: HandObjectNet) -> HandObjectNet:
    """As if trained: the zero-initialised output layer now acts."""
    torch.nn.init.normal_(net.mask_refine.out.weight, std=0.5)
    torch.nn.init.normal_(net.lift.mix[-1].weight, std=0.5)
    return net


def test_added_module_starts_as_the_network_it_extends():
    torch.manual_seed(0)
    base = HandObjectNet(TINY_LIFT).eval()
    net = HandObjectNet(TINY_MASK).eval()
    missing, unexpected = net.load_state_dict(base.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("mask_refine.") for k in missing)
    x = example_inputs(3)
    with torch.no_grad():
        a, b = base(**x), net(**x)
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_refinement_moves_masks_and_occupancy_of_valid_frames_only():
    torch.manual_seed(1)
    base = HandObjectNet(TINY_LIFT).eval()
    net = HandObjectNet(TINY_MASK).eval()
    net.load_state_dict(base.state_dict(), strict=False)
    torch.nn.init.normal_(base.lift.mix[-1].weight, std=0.5)
    net.lift.load_state_dict(base.lift.state_dict())
    torch.nn.init.normal_(net.mask_refine.out.weight, std=0.5)
    x = example_inputs(3)
    padded = {k: v.clone() for k, v in x.items()}
    padded["images"][:, 3:] = torch.rand_like(padded["images"][:, 3:])
    with torch.no_grad():
        a, b, c = base(**x), net(**x), net(**padded)
    assert not torch.allclose(a["masks"][:, :3], b["masks"][:, :3], atol=1e-3)
    assert not torch.allclose(a["occupancy"], b["occupancy"], atol=1e-3)
    assert torch.equal(a["pose"], b["pose"])  # the pose reads the tokens, not the masks
    assert torch.allclose(b["occupancy"], c["occupancy"], atol=1e-5)


def test_mask_refine_exports_and_backends_agree(tmp_path):
    from hoi_perception.backends import export_onnx
    from hoi_perception.handobject.infer import OUTPUT_NAMES, load_torch_model

    torch.manual_seed(2)
    net = _acting(HandObjectNet(TINY_MASK))
    write_weights(net, tmp_path)
    export_onnx(load_torch_model(tmp_path), example_inputs(), tmp_path / "model.onnx", OUTPUT_NAMES)
    res = compare_backends(tmp_path)
    assert res["ok"], res["max_abs_diff"]
