import json

import numpy as np
import pytest

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
    assert "assist_force_mean_n" not in rep  # no assistance, nothing to report
    assert video.stat().st_size > 1000 and video.with_suffix(".png").is_file()
    # with assistance the help it gave is reported, against the body's weight (a ~55 kg humanoid)
    assert main(["eval", "--zero-action", "--assist", "1", "--clip", str(walk_path), "--episodes", "1",
                 "--max-frames", "20"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["assist"] == 1.0 and 0 < rep["assist_force_mean_n"]
    assert rep["assist_force_body_weight_share"] == pytest.approx(rep["assist_force_mean_n"] / (9.81 * 55), rel=0.2)


def test_cli_bad_clip_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "x.npz"
    bad.write_bytes(b"not a zip")
    assert main(["report", "--clip", str(bad)]) == 2
    assert "not a readable .npz motion clip" in capsys.readouterr().err


def test_assist_schedule_and_init_from_another_run(walk_path, tmp_path):
    """The curriculum lowers the gain linearly and records it; a run started with --init begins from
    the other run's weights; the env's gain changes never leak into the caller's config."""
    from hoi_imitation.env import ImitationEnv
    from hoi_imitation.task import TaskConfig
    from hoi_imitation.train import assist_at

    cfg = TaskConfig(assist=1.0, assist_final=0.2, assist_anneal_steps=1000)
    np.testing.assert_allclose([assist_at(cfg, s) for s in (0, 500, 1000, 5000)], [1.0, 0.6, 0.2, 0.2])
    assert assist_at(TaskConfig(assist=0.7), 10**6) == 0.7
    env = ImitationEnv(walk_path, cfg)
    env.set_assist(0.1)
    assert env.task.root_assist(5).gain == 0.1 and cfg.assist == 1.0
    env.close()

    base = ["--clip", str(walk_path), "--n-steps", "256", "--batch-size", "128", "--net", "64,64",
            "--checkpoint-every", "256"]
    assert main(["train", *base, "--out", str(tmp_path / "a"), "--steps", "256", "--assist", "1.0"]) == 0
    a = Policy(tmp_path / "a")
    assert main(["train", *base, "--out", str(tmp_path / "b"), "--steps", "512", "--assist", "1.0",
                 "--assist-anneal-steps", "512", "--init", str(tmp_path / "a"), "--keep-policies"]) == 0
    # --keep-policies: one exported policy per checkpoint, each recording the gain at its step
    kept = sorted((tmp_path / "b" / "policies").iterdir())
    assert [k.name for k in kept] == ["step_000000256", "step_000000512"]
    assert [Policy(k).meta["task"]["assist"] for k in kept] == [0.5, 0.0]
    rows = (tmp_path / "b" / "train_log.csv").read_text().strip().splitlines()
    gains = [float(r.split(",")[2]) for r in rows[1:]]
    assert rows[0].split(",")[2] == "assist" and gains == sorted(gains, reverse=True) and gains[-1] < 1.0
    b = json.loads((tmp_path / "b" / "policy.json").read_text())
    assert b["init_from"] == str(tmp_path / "a") and b["task"]["assist"] == 0.0  # exported at step 512
    st = json.loads((tmp_path / "b" / "checkpoint" / "state.json").read_text())
    assert st["num_timesteps"] == 512
    obs = np.random.default_rng(0).normal(size=a.mean.shape).astype(np.float32)
    assert not np.allclose(a(obs), Policy(tmp_path / "b")(obs))
    assert main(["train", *base, "--out", str(tmp_path / "c"), "--steps", "256", "--init", str(tmp_path / "none")]) == 2


def test_shipped_walk_policy_runs_out_of_the_box(walk_path, capsys):
    """The shipped policy evaluates with the assistance it records (models/imitation/walk/README.md)."""
    from hoi_perception.paths import models_dir

    policy = models_dir() / "imitation" / "walk"
    assert main(["eval", "--policy", str(policy), "--clip", str(walk_path), "--episodes", "1",
                 "--max-frames", "60"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["assist"] == Policy(policy).meta["task"]["assist"] > 0
    # two seconds of walking, tracked as the card says (56.9 mm over whole episodes)
    assert rep["success_rate"] == 1.0 and rep["g_mpjpe_mm"] < 100
