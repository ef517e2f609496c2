"""Pixel-aligned silhouette features: the projection agrees with the pose encoding, a module added
to a trained network changes nothing until trained, padded frame slots are ignored, and the
network exports to ONNX with it."""
import numpy as np
import torch

from hoi_perception.geometry import matrix_to_rot6d_np
from hoi_perception.handobject import encoding as G
from hoi_perception.handobject.encoding import intrinsics_vector
from hoi_perception.handobject.lift import LIFT_RES, cell_centres, decode_pose, project_cells
from hoi_perception.handobject.model import HandObjectNet, NetConfig
from hoi_perception.handobject.training.export import compare_backends, example_inputs, write_weights

TINY = NetConfig(dim=32, heads=2, depth=1, latent=4, img_channels=(8, 16, 16), hand_channels=(8, 16, 16))
TINY_LIFT = NetConfig.from_dict({**TINY.to_dict(), "lift": 4})


def _pose_of(rot: np.ndarray, centre: np.ndarray, k: np.ndarray) -> np.ndarray:
    return np.concatenate([matrix_to_rot6d_np(rot), G.encode_point(centre, k, 128, 128)]).astype(np.float32)


def test_cells_project_where_the_pose_encoding_puts_them():
    k = np.array([[110.0, 0, 63.2], [0, 108.0, 64.1], [0, 0, 1]])
    a = 0.4
    rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    centre = np.array([0.03, -0.02, 0.4])
    pose = torch.from_numpy(_pose_of(rot, centre, k))[None, None]
    kv = torch.from_numpy(intrinsics_vector(k, 128, 128))[None, None]
    r, c = decode_pose(pose, kv)
    np.testing.assert_allclose(c[0, 0].numpy(), centre, atol=1e-5)
    np.testing.assert_allclose(r[0, 0].numpy(), rot, atol=1e-5)
    cells = cell_centres()
    assert cells.shape == (LIFT_RES ** 3, 3)
    grid, inside = project_cells(cells, r, c, kv)
    # a cell's grid_sample coordinate is the [-1, 1] image coordinate of encode_point
    expect = G.encode_point(cells.numpy().astype(np.float64) @ rot.T + centre, k, 128, 128)[:, :2]
    np.testing.assert_allclose(grid[0, 0].numpy(), expect, atol=1e-4)
    seen = (np.abs(expect) < 1).all(-1)
    assert ((inside[0, 0] > 0).numpy() == seen).all() and 0 < seen.sum() < len(seen)
    deep = (np.abs(expect) < 1 - 2 / 64).all(-1)  # more than a mask pixel inside the border
    assert (inside[0, 0].numpy()[deep] == 1).all()


def test_added_module_starts_as_the_network_it_extends():
    torch.manual_seed(0)
    base = HandObjectNet(TINY).eval()
    net = HandObjectNet(TINY_LIFT).eval()
    missing, unexpected = net.load_state_dict(base.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("lift.") for k in missing)
    x = example_inputs(3)
    with torch.no_grad():
        a, b = base(**x), net(**x)
    for key in ("occupancy", "masks", "pose"):
        assert torch.equal(a[key], b[key])


def test_lifted_occupancy_ignores_padded_slots_and_follows_the_masks():
    torch.manual_seed(1)
    net = HandObjectNet(TINY_LIFT).eval()
    torch.nn.init.normal_(net.lift.mix[-1].weight, std=0.5)  # as if trained: the module now acts
    x = example_inputs(3)
    y = {k: v.clone() for k, v in x.items()}
    y["images"][:, 3:] = torch.rand_like(y["images"][:, 3:])  # padding slots change
    z = {k: v.clone() for k, v in x.items()}
    z["images"][:, 1] = torch.rand_like(z["images"][:, 1])  # a valid frame changes
    with torch.no_grad():
        a, b, c = net(**x)["occupancy"], net(**y)["occupancy"], net(**z)["occupancy"]
    assert torch.allclose(a, b, atol=1e-5)
    assert not torch.allclose(a, c, atol=1e-3)


def test_lift_exports_and_backends_agree(tmp_path):
    from hoi_perception.backends import export_onnx
    from hoi_perception.handobject.infer import OUTPUT_NAMES, load_torch_model

    torch.manual_seed(2)
    net = HandObjectNet(TINY_LIFT)
    torch.nn.init.normal_(net.lift.mix[-1].weight, std=0.5)
    write_weights(net, tmp_path)
    export_onnx(load_torch_model(tmp_path), example_inputs(), tmp_path / "model.onnx", OUTPUT_NAMES)
    res = compare_backends(tmp_path)
    assert res["ok"], res["max_abs_diff"]


def test_lift_refuses_the_flow_variant():
    import pytest

    with pytest.raises(ValueError, match="direct variant"):
        HandObjectNet(NetConfig.from_dict({**TINY_LIFT.to_dict(), "variant": "flow"}))
