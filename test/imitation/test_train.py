import json

import numpy as np

from hoi_imitation.cli import main
from hoi_imitation.policy import Policy


def test_short_ppo_run_checkpoints_and_resumes(walk_path, tmp_path):
    out = tmp_path / "run"
    args = ["train", "--clip", str(walk_path), "--out", str(out), "--n-steps", "256", "--batch-size", "128",
            "--net", "64,64", "--checkpoint-every", "256"]
    assert main(args + ["--steps", "512"]) == 0
    st = json.loads((out / "checkpoint" / "state.json").read_text())
    assert st["num_timesteps"] == 512
    first = Policy(out)
    # resume: continues from 512 up to 1024 instead of starting again
    assert main(args + ["--steps", "1024"]) == 0
    st2 = json.loads((out / "checkpoint" / "state.json").read_text())
    assert st2["num_timesteps"] == 1024 and st2["resumed_from"] == 512
    rows = (out / "train_log.csv").read_text().strip().splitlines()
    assert rows[0].startswith("timesteps") and len(rows) >= 3
    second = Policy(out)
    obs = np.random.default_rng(0).normal(size=first.mean.shape).astype(np.float32)
    assert not np.allclose(first(obs), second(obs))  # the resumed run kept learning


def test_eval_cli_writes_metrics_and_video(walk_path, tmp_path, capsys):
    video = tmp_path / "walk.mp4"
    assert main(["eval", "--zero-action", "--clip", str(walk_path), "--episodes", "1", "--max-frames", "20",
                 "--video", str(video)]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert {"success_rate", "g_mpjpe_mm", "mpjpe_mm"} <= set(rep)
    assert video.stat().st_size > 1000 and video.with_suffix(".png").is_file()


def test_cli_bad_clip_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "x.npz"
    bad.write_bytes(b"not a zip")
    assert main(["report", "--clip", str(bad)]) == 2
    assert "not a readable .npz motion clip" in capsys.readouterr().err
