"""CrossHOI full-body network: body layer, shapes, losses, export, bad input, the shipped model."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from hoi_perception.backends import load_backend
from hoi_perception.body.vertex_subset import load_subset
from hoi_perception.fullbody.model import EXPORT_OUTPUTS, N_BODY_V, N_V, CrossHOI, ExportWrapper, ModelConfig, project
from hoi_perception.fullbody.preprocess import make_crop
from hoi_perception.fullbody.reconstructor import INPUT_NAMES, load_weights
from hoi_perception.fullbody.training.losses import edge_loss, map_loss, recon_loss
from hoi_perception.fullbody.training.release import export, save_weights
from hoi_perception.pipeline.stages import ModelNotAvailable, load_reconstructor
from hoi_perception.pipeline.types import CameraIntrinsics, InputError

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "models" / "fullbody"
ORT_TOLERANCE = 1e-4  # metres for vertices/joints, absolute for probabilities (float32 graph)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return {cv: CrossHOI(ModelConfig.tiny(cross_view=cv)) for cv in (True, False)}


def _inputs(cfg: ModelConfig, b: int = 2, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    image = torch.randn(b, 5, cfg.crop, cfg.crop, generator=g)
    k = torch.tensor([[1.4, 1.4, 0.5, 0.5]]).repeat(b, 1)
    template = torch.randn(b, 64, 3, generator=g) * 0.1
    return image, k, template


def _targets(out: dict) -> dict:
    """Targets equal to the outputs (detached), so the loss of each term must be ~0."""
    b = out["body_vertices"].shape[0]
    d = {k: v.detach().clone() for k, v in out.items()}
    return {
        "shape": d["body_shape"], "global_orient": d["body_global_orient"], "pose": d["body_pose"],
        "transl": d["body_transl"], "object_rot6d": d["object_rot6d"], "object_transl": d["object_transl"],
        "object_scale": d["object_scale"], "joints": d["joints"], "hand_joints": d["hand_joints"],
        "intrinsics_0": torch.tensor([[1.4, 1.4, 0.5, 0.5]]).repeat(b, 1),
        "joints_2d": project(torch.cat([d["joints"], d["hand_joints"].flatten(1, 2)], 1),
                             torch.tensor([[1.4, 1.4, 0.5, 0.5]]).repeat(b, 1)),
        "object_class": torch.full((b,), -1, dtype=torch.long),
        "contact": (d["contact"] > 0.5).float(),
        "body_vertices": d["body_vertices"], "object_vertices": d["object_vertices"],
    }


def test_subset_body_matches_anny():
    from hoi_perception.fullbody.subset_body import SubsetBody, compare_with_anny

    err = compare_with_anny(SubsetBody(), n=4)
    assert err["vertex_max_mm"] < 0.1 and err["joint_max_mm"] < 0.1 and err["hand_joint_max_mm"] < 0.1


@pytest.mark.parametrize("cross_view", [True, False])
def test_forward_backward_shapes(tiny, cross_view):
    m = tiny[cross_view].train()
    with torch.no_grad():  # the regression layers start at zero (identity pose); as after one step
        m.head.body.weight.normal_(std=1e-3)
        m.head.obj.weight.normal_(std=1e-3)
    image, k, template = _inputs(m.cfg)
    out = m(image, k, template)
    assert out["body_vertices"].shape == (2, N_BODY_V, 3)
    assert out["object_vertices"].shape == (2, 64, 3)
    assert out["joints"].shape == (2, 22, 3) and out["hand_joints"].shape == (2, 2, 21, 3)
    assert out["contact"].shape == (2, N_V) and out["object_logits"].shape == (2, m.cfg.n_classes)
    assert ("generated_features" in out) == cross_view
    tgt = _targets(out)
    tgt["body_vertices"] = tgt["body_vertices"] + 0.01
    losses = recon_loss(out, tgt, load_subset("body").edges)
    m.zero_grad()
    losses["total"].backward()
    assert m.backbone.net[0][0].weight.grad.abs().sum() > 0
    assert m.refiner.offset[0].weight.grad is not None
    if cross_view:
        assert m.generator.kv.grad.abs().sum() > 0
        assert m.fusion.attn.kv.weight.grad.abs().sum() > 0


def test_generated_view_reaches_the_contact_estimate(tiny):
    m = tiny[True].eval()
    image, k, template = _inputs(m.cfg)
    with torch.no_grad():
        a = m(image, k, template)["contact"]
        torch.nn.init.normal_(m.generator.kv, std=1.0)
        b = m(image, k, template)["contact"]
    assert not torch.allclose(a, b)  # the generated view changes the contact estimate


@pytest.mark.parametrize("fusion", ["a_from_b", "b_from_a"])
def test_one_way_fusion_uses_only_its_direction(fusion):
    torch.manual_seed(0)
    m = CrossHOI(ModelConfig.tiny(fusion=fusion)).train()
    image, k, template = _inputs(m.cfg)
    m(image, k, template)["contact_logits"].sum().backward()
    used, unused = (m.contact_tf.a_from_b, m.contact_tf.b_from_a)[:: 1 if fusion == "a_from_b" else -1]
    assert used.attn.q.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in unused.parameters())  # the other direction is not in the graph
    with pytest.raises(ValueError, match="fusion"):
        ModelConfig.tiny(fusion="sideways")


def test_losses_zero_at_target_and_positive_otherwise(tiny):
    m = tiny[False].eval()
    image, k, template = _inputs(m.cfg)
    with torch.no_grad():
        out = m(image, k, template)
    tgt = _targets(out)
    tgt["contact"] = out["contact"].detach()  # soft targets: BCE minimum = entropy, check the others
    losses = recon_loss(out, tgt, load_subset("body").edges)
    for name in ("param", "joint3d", "joint2d", "vertex", "vertex_init", "edge"):
        assert float(losses[name]) < 1e-6, name
    tgt["body_vertices"] = tgt["body_vertices"] + 0.02
    shifted = recon_loss(out, tgt, load_subset("body").edges)
    assert abs(float(shifted["vertex"]) - 0.02 * 3 * N_BODY_V / (3 * N_V)) < 1e-5
    # the centred vertex term sees only what a common shift of both meshes does not explain
    tgt["object_vertices"] = tgt["object_vertices"] + 0.02
    both = recon_loss(out, tgt, load_subset("body").edges, {"vertex_centred": 1.0})
    assert float(both["vertex_centred"]) < 1e-6 and float(shifted["vertex_centred"]) > 1e-3
    assert abs(float(both["total"]) - float(recon_loss(out, tgt, load_subset("body").edges)["total"])) < 1e-6


def test_edge_and_map_losses_known_values():
    v = torch.randn(1, N_BODY_V, 3)
    edges = load_subset("body").edges
    assert float(edge_loss(v, v, edges)) == 0.0
    mean_len = (v[:, edges[:, 0]] - v[:, edges[:, 1]]).norm(dim=-1).mean()
    assert abs(float(edge_loss(2 * v, v, edges)) - float(mean_len)) < 1e-5
    f = torch.randn(2, 8, 4, 4)
    z = map_loss(f, f)
    assert float(z["map"]) < 1e-6 and abs(float(z["cos"]) - 1.0) < 1e-5
    neg = map_loss(-f, f)
    assert abs(float(neg["cos"]) + 1.0) < 1e-5 and float(neg["mse"]) > 0


def test_crop_intrinsics_are_exact():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    human = np.zeros((120, 160), bool)
    human[20:100, 40:80] = True
    obj = np.zeros_like(human)
    obj[50:70, 80:110] = True
    k = np.array([[150.0, 0, 80.0], [0, 150.0, 60.0], [0, 0, 1]])
    c = make_crop(img, human, obj, k, 64)
    pts = rng.normal([0, 0, 2.0], [0.3, 0.3, 0.1], (10, 3))
    uv_img = np.stack([k[0, 0] * pts[:, 0] / pts[:, 2] + k[0, 2], k[1, 1] * pts[:, 1] / pts[:, 2] + k[1, 2]], 1)
    uv_crop = uv_img * c.affine[0, 0] + c.affine[:, 2]
    uv_net = project(torch.as_tensor(pts, dtype=torch.float32)[None], torch.as_tensor(c.intrinsics)[None])[0].numpy()
    np.testing.assert_allclose(uv_net * 64, uv_crop, atol=1e-3)
    assert c.image.shape == (5, 64, 64) and c.image[3].max() > 0.9 and c.image[4].max() > 0.9


def test_bad_inputs_are_refused():
    img = np.zeros((32, 32, 3), np.uint8)
    m = np.ones((32, 32), bool)
    k = np.array([[30.0, 0, 16], [0, 30.0, 16], [0, 0, 1]])
    with pytest.raises(InputError, match="no object mask"):
        make_crop(img, m, None, k, 32)
    with pytest.raises(InputError, match="does not overlap"):
        make_crop(img, m, np.ones((16, 16), bool), k, 32)
    with pytest.raises(InputError, match="0 pixels"):
        make_crop(img, m, np.zeros((32, 32), bool), k, 32)
    k_nan = k.copy()
    k_nan[0, 2] = np.nan
    with pytest.raises(InputError, match="NaN"):
        make_crop(img, m, m, k_nan, 32)
    with pytest.raises(InputError):
        CameraIntrinsics.from_k([np.nan] * 9, 32, 32)


def test_torch_and_onnxruntime_agree(tiny, tmp_path):
    m = tiny[True].eval()
    path = export(m, tmp_path / "tiny.onnx")
    image, k, template = _inputs(m.cfg, b=1, seed=3)
    feeds = {"image": image.numpy(), "intrinsics": k.numpy(), "template": template.numpy()}
    ort = load_backend("onnxruntime", onnx_path=path).run(feeds)
    ref = load_backend("torch", torch_module=ExportWrapper(m), input_names=INPUT_NAMES, output_names=EXPORT_OUTPUTS).run(feeds)
    for name in EXPORT_OUTPUTS:
        np.testing.assert_allclose(ort[name], ref[name], atol=ORT_TOLERANCE, rtol=1e-4, err_msg=name)


def test_weights_roundtrip_and_truncated_file(tiny, tmp_path):
    m = tiny[False]
    p = tmp_path / "w.safetensors"
    save_weights(m, p, fp16=True)
    other = CrossHOI(ModelConfig.tiny(cross_view=False))
    load_weights(other, p)
    assert torch.allclose(other.head.body.bias, m.head.body.bias.half().float())
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    with pytest.raises(ModelNotAvailable, match="truncated"):
        load_weights(other, p)


needs_shipped = pytest.mark.skipif(not (SHIPPED / "model_card.yaml").is_file(), reason="no shipped fullbody model")


@needs_shipped
def test_shipped_model_through_registry(fullbody_frame):
    # the network path (a noise frame has no person for the front end: person_fit off)
    recon = load_reconstructor("fullbody", "fullbody", object_class="003_cracker_box", person_fit=False)
    res = recon.reconstruct(fullbody_frame())
    body, obj = res.bodies[0], res.objects[0]
    assert body.vertices.shape == (13718, 3) and body.vertex_contact.shape == (13718,)
    assert body.joints.shape == (64, 3) and np.isfinite(body.vertices).all()
    assert obj.template_id == "003_cracker_box" and obj.vertex_contact.shape == (64,)
    assert 0.0 < body.joints[:, 2].mean() < 50.0  # in front of the camera
    assert res.topologies["anny_body"].shape[1] == 3
    # the torch backend (fp16 safetensors) gives the same answer as the default ONNX Runtime one
    ref = load_reconstructor("fullbody", "fullbody", object_class="003_cracker_box", backend="torch", person_fit=False)
    res_t = ref.reconstruct(fullbody_frame())
    assert np.abs(res_t.bodies[0].joints - body.joints).max() < 0.02  # fp16 weights vs fp32 ONNX
    # without a class, the class head picks one of its training classes and says so
    res_p = load_reconstructor("fullbody", "fullbody", person_fit=False).reconstruct(fullbody_frame())
    assert "predicted" in res_p.objects[0].class_name


@needs_shipped
def test_shipped_model_bad_inputs(tmp_path, fullbody_frame):
    with pytest.raises(InputError, match="unknown object class"):
        load_reconstructor("fullbody", "fullbody", object_class="not_an_object")
    recon = load_reconstructor("fullbody", "fullbody", object_class="003_cracker_box")
    strict = load_reconstructor("fullbody", "fullbody", object_class="003_cracker_box", object_masks="given")
    with pytest.raises(InputError, match="instance masks"):
        strict.reconstruct(fullbody_frame(masks=False))
    with pytest.raises(InputError):  # no mask: made if a person and an object are found, else a clear refusal
        recon.reconstruct(fullbody_frame(masks=False))
    bad = tmp_path / "fullbody"
    shutil.copytree(SHIPPED, bad)
    onnx = bad / "model.onnx"
    onnx.write_bytes(onnx.read_bytes()[:1000])
    with pytest.raises(ModelNotAvailable):
        load_reconstructor(str(bad), "fullbody")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_shipped_model_on_a_missing_gpu_is_refused():
    with pytest.raises(ModelNotAvailable, match="no CUDA GPU"):
        load_reconstructor(str(SHIPPED), "fullbody", backend="torch", device="cuda")
    with pytest.raises(ModelNotAvailable, match="unknown backend"):
        load_reconstructor(str(SHIPPED), "fullbody", backend="openvino")


def test_visible_in_view_needs_the_mask_the_image_and_the_depth():
    from hoi_perception.fullbody.training.data import visible_in_view

    k = np.array([[100.0, 0, 32], [0, 100.0, 32], [0, 0, 1]])
    depth = np.full((64, 64), 2.0)
    depth[:, :32] = 1.5  # something nearer covers the left half
    mask = np.ones((64, 64), bool)
    mask[60:, :] = False
    pts = np.array([[0.2, 0.0, 2.0],    # right half, on the surface: seen
                    [-0.2, 0.0, 2.0],   # left half, behind the nearer surface: hidden
                    [-0.2, 0.0, 1.5],   # the nearer surface itself: seen
                    [0.2, 0.6, 2.0],    # projects to row 62, outside the mask: hidden
                    [5.0, 0.0, 2.0],    # off the image: hidden
                    [0.0, 0.0, -2.0]])  # behind the camera: hidden
    assert visible_in_view(pts, k, depth, mask).tolist() == [True, False, True, False, False, False]
    # the nearest pixel: x = 0.005 m at 2 m projects to u = 32.25 -> pixel 32 (right half), x = -0.005 to 31.75 -> 32
    near = np.array([[0.005, 0.0, 2.0], [-0.005, 0.0, 2.0], [-0.015, 0.0, 2.0]])
    assert visible_in_view(near, k, depth, mask).tolist() == [True, True, False]
