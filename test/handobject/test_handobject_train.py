"""The training CLI on one real engine clip: a warm start from a model folder, then resume."""
import csv
import json

import pytest
import torch

from hoi_perception.handobject.model import HandObjectNet, NetConfig
from hoi_perception.handobject.training import train
from hoi_perception.handobject.training.export import write_weights

TINY = NetConfig(dim=32, heads=2, depth=1, latent=4, img_channels=(8, 16, 16), hand_channels=(8, 16, 16))


@pytest.fixture(scope="module")
def clip_dir(engine_dataset):
    return engine_dataset("hand", 1, 3, 128)


def test_init_from_a_model_folder_then_resume(clip_dir, tmp_path):
    torch.manual_seed(0)
    init = tmp_path / "init_model"
    write_weights(HandObjectNet(TINY), init)
    run = tmp_path / "run"
    # zero steps: the checkpoint holds exactly the folder's (fp16-rounded) weights and config
    assert train.main(["--data", str(clip_dir), "--out", str(run), "--steps", "0", "--init", str(init)]) == 0
    st = train.load_checkpoint(run / "last.pt")
    from safetensors.torch import load_file

    ref = load_file(str(init / "model.safetensors"))
    assert set(st["model"]) == set(ref)
    assert all(torch.equal(st["model"][k], ref[k].float()) for k in ref)
    assert NetConfig.from_dict(json.loads(st["config"])) == TINY
    assert json.loads(st["extra"])["init"] == str(init)
    # two steps from there move the weights; a resumed run continues at the stored step
    run2 = tmp_path / "run2"
    assert train.main(["--data", str(clip_dir), "--out", str(run2), "--steps", "2", "--batch", "1", "--init", str(init)]) == 0
    moved = train.load_checkpoint(run2 / "last.pt")
    assert int(moved["step"]) == 2
    assert any(not torch.equal(moved["model"][k], ref[k].float()) for k in ref if ref[k].is_floating_point())
    # a run killed after logging steps 3-4 past its step-2 checkpoint: the resumed run logs them once
    with open(run2 / "log.csv", "a") as f:
        f.write("3,9.9\n4,9.9\n")
    assert train.main(["--data", str(clip_dir), "--out", str(run2), "--steps", "4", "--batch", "1", "--resume"]) == 0
    assert int(train.load_checkpoint(run2 / "last.pt")["step"]) == 4
    steps = [r["step"] for r in csv.DictReader((run2 / "log.csv").open())]
    assert steps == ["1", "2", "3", "4"]  # one row per step, none from the killed run


def test_init_adds_a_module_and_trains_only_the_chosen_weights(clip_dir, tmp_path):
    torch.manual_seed(1)
    init = tmp_path / "init_model"
    write_weights(HandObjectNet(TINY), init)
    run = tmp_path / "run"
    assert train.main(["--data", str(clip_dir), "--out", str(run), "--steps", "2", "--batch", "1", "--init", str(init),
                       "--config", '{"lift": 4}', "--train-only", "lift,g_out"]) == 0
    st = train.load_checkpoint(run / "last.pt")
    assert NetConfig.from_dict(json.loads(st["config"])).lift == 4
    from safetensors.torch import load_file

    ref = load_file(str(init / "model.safetensors"))
    # every weight outside the chosen prefixes is still the folder's; the chosen ones moved
    assert all(torch.equal(st["model"][k], ref[k].float()) for k in ref if not k.startswith("g_out."))
    assert not torch.equal(st["model"]["g_out.weight"], ref["g_out.weight"].float())
    assert any(k.startswith("lift.") for k in st["model"])
    with pytest.raises(SystemExit, match="no parameter matches"):
        train.main(["--data", str(clip_dir), "--out", str(tmp_path / "bad"), "--steps", "1", "--init", str(init),
                    "--train-only", "nothing_here"])


def test_init_adds_the_hand_refinement_and_trains_it_alone(clip_dir, tmp_path):
    torch.manual_seed(2)
    init = tmp_path / "init_model"
    write_weights(HandObjectNet(TINY), init)
    run = tmp_path / "run"
    assert train.main(["--data", str(clip_dir), "--out", str(run), "--steps", "2", "--batch", "1", "--init", str(init),
                       "--config", '{"hand_refine": 16}', "--train-only", "hand_refine"]) == 0
    st = train.load_checkpoint(run / "last.pt")
    from safetensors.torch import load_file

    ref = load_file(str(init / "model.safetensors"))
    assert all(torch.equal(st["model"][k], ref[k].float()) for k in ref)
    assert not torch.equal(st["model"]["hand_refine.joint_out.weight"], torch.zeros_like(st["model"]["hand_refine.joint_out.weight"]))


def test_init_adds_two_modules_at_once_and_trains_them_with_the_rest(clip_dir, tmp_path):
    torch.manual_seed(3)
    init = tmp_path / "init_model"
    write_weights(HandObjectNet(TINY), init)
    run = tmp_path / "run"
    # two folders read as one set (here the same one twice)
    assert train.main(["--data", f"{clip_dir},{clip_dir}", "--out", str(run), "--steps", "2", "--batch", "1", "--init", str(init),
                       "--config", '{"mask_refine": 8, "hand_refine": 16}']) == 0
    st = train.load_checkpoint(run / "last.pt")
    cfg = NetConfig.from_dict(json.loads(st["config"]))
    assert (cfg.mask_refine, cfg.hand_refine) == (8, 16)
    w = st["model"]["mask_refine.out.weight"]
    assert not torch.equal(w, torch.zeros_like(w))


def _one_step_recorded_and_guarded(clip_dir, tmp_path, flag: str, value: str, key: str):
    """One training step with `flag value` from a tiny model folder: the checkpoint records the value
    and a resume without the flag is refused (its batches would differ). Returns (args, run folder)."""
    torch.manual_seed(0)
    init = tmp_path / "init_model"
    write_weights(HandObjectNet(TINY), init)
    run = tmp_path / "run"
    args = ["--data", str(clip_dir), "--out", str(run), "--batch", "2", "--init", str(init), flag, value]
    assert train.main(args + ["--steps", "1"]) == 0
    assert json.loads(train.load_checkpoint(run / "last.pt")["extra"])[key] == float(value)
    with pytest.raises(SystemExit, match=f"{flag} {value}"):
        train.main(["--data", str(clip_dir), "--out", str(run), "--steps", "2", "--batch", "2", "--resume"])
    return args, run


def test_mirrored_clips_are_recorded_and_a_resume_must_keep_them(clip_dir, tmp_path):
    args, run = _one_step_recorded_and_guarded(clip_dir, tmp_path, "--flip-prob", "0.5", "flip_prob")
    assert train.main(args[:-2] + ["--steps", "2", "--resume", "--flip-prob", "0.5"]) == 0
    assert int(train.load_checkpoint(run / "last.pt")["step"]) == 2


def test_camera_degradations_change_only_the_images_and_a_resume_must_keep_them(clip_dir, tmp_path):
    import numpy as np

    from hoi_perception.synth.shards import ShardSet

    shards = ShardSet(clip_dir)
    plain = train.make_batch(shards, np.random.default_rng([0, 1]), 2, 3, 0.5)
    degraded = train.make_batch(shards, np.random.default_rng([0, 1]), 2, 3, 0.5, 1.0, np.random.default_rng([0, 1, 1]))
    # its own random stream: the same clips, frames, mirroring and targets as the run without it
    for key, value in plain.items():
        if key != "images" and isinstance(value, torch.Tensor):
            assert torch.equal(value, degraded[key]), key
    assert not torch.allclose(plain["images"], degraded["images"])
    _one_step_recorded_and_guarded(clip_dir, tmp_path, "--camera-aug", "0.7", "camera_aug")
