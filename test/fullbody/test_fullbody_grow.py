"""Growing the backbone from a trained narrower network: the same outputs at the start, new
channels that training then uses, and the CLI path (--backbone-widths with --init)."""
from __future__ import annotations

import copy

import pytest
import torch

from hoi_perception.fullbody.model import CrossHOI, ModelConfig
from hoi_perception.fullbody.reconstructor import load_weights
from hoi_perception.fullbody.training import train
from hoi_perception.fullbody.training.grow import load_grown
from hoi_perception.fullbody.training.release import save_weights


def _inputs(n=3, crop=64):
    g = torch.Generator().manual_seed(0)
    image = torch.rand(n, 5, crop, crop, generator=g)
    intrinsics = torch.tensor([[1.3, 1.3, 0.5, 0.5]]).repeat(n, 1)
    template = torch.randn(n, 64, 3, generator=g) * 0.1
    return image, intrinsics, template


@pytest.mark.parametrize("cross_view", [True, False])
def test_grown_network_computes_what_the_narrow_one_did(cross_view):
    torch.manual_seed(0)
    narrow = CrossHOI(ModelConfig.tiny(cross_view=cross_view))
    with torch.no_grad():  # non-trivial batch-norm statistics, as in a trained model
        for m in narrow.backbone.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
    wide = CrossHOI(ModelConfig.tiny(cross_view=cross_view, backbone_widths=[8, 16, 24]))
    copied, embedded = load_grown(wide, narrow.state_dict())
    # the three widened blocks: 2 convs + 2 x 4 norm tensors each; the last block: its first conv
    assert embedded == 3 * 10 + 1
    assert copied + embedded == len(narrow.state_dict())
    x = _inputs()
    for mode in ("eval", "train"):
        a_model, b_model = copy.deepcopy(narrow), copy.deepcopy(wide)  # train mode moves BN statistics
        getattr(a_model, mode)()
        getattr(b_model, mode)()
        with torch.no_grad():
            a, b = a_model(*x), b_model(*x)
        for key in ("body_vertices", "object_vertices", "contact", "object_logits"):
            torch.testing.assert_close(b[key], a[key], rtol=0, atol=1e-6, msg=f"{key} in {mode} mode")


def test_new_channels_are_trained():
    torch.manual_seed(0)
    narrow = CrossHOI(ModelConfig.tiny())
    wide = CrossHOI(ModelConfig.tiny(backbone_widths=[8, 16, 24]))
    load_grown(wide, narrow.state_dict())
    conv = wide.backbone.net[1][0]  # second block's first conv: 8 -> 16 channels (was 4 -> 8)
    assert torch.count_nonzero(conv.weight[:8, 4:]) == 0  # old outputs ignore the new inputs
    assert torch.count_nonzero(conv.weight[8:]) == conv.weight[8:].numel()  # new outputs: random start
    before = conv.weight.detach().clone()
    opt = torch.optim.Adam(wide.parameters(), lr=1e-3)
    for _ in range(2):  # step 1 moves the zero weights, step 2 then reaches the new channels' own weights
        out = wide(*_inputs())
        loss = out["body_vertices"].square().mean() + out["contact"].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    moved = (conv.weight.detach() - before).abs()
    assert moved[:8, 4:].min() > 0  # the old output channels now read the new inputs
    assert moved[8:].max() > 0  # and the new output channels learn


def test_width_validation():
    with pytest.raises(ValueError, match="three positive"):
        ModelConfig.tiny(backbone_widths=[8, 16])
    with pytest.raises(ValueError, match="three positive"):
        ModelConfig.tiny(backbone_widths=[8, 0, 16])


def test_cli_grows_a_released_model(engine_dataset, tmp_path):
    scenes = engine_dataset("fullbody", 2, 11, 128)
    torch.manual_seed(0)
    from hoi_perception.fullbody.training import data as fb_data

    cfg = dict(crop=96, width=48, heads=4, kv_tokens=32, vdim=48, hidden=256, n_classes=len(fb_data.train_classes()))
    released = tmp_path / "model.safetensors"
    save_weights(CrossHOI(ModelConfig(**cfg)), released)
    run = tmp_path / "run"
    assert train.main(["--data", str(scenes), "--out", str(run), "--batch", "2", "--steps", "0",
                       "--init", str(released), "--backbone-widths", "16", "32", "64"]) == 0
    ck = train.load_checkpoint(run / "ckpt.pt")
    grown = CrossHOI(ModelConfig(**cfg, backbone_widths=[16, 32, 64]))
    grown.load_state_dict(ck["model"])
    narrow = CrossHOI(ModelConfig(**cfg))
    load_weights(narrow, released)
    x = _inputs(2, 96)
    with torch.no_grad():
        torch.testing.assert_close(grown.eval()(*x)["body_vertices"], narrow.eval()(*x)["body_vertices"],
                                   rtol=0, atol=1e-6)
