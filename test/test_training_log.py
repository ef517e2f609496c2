"""The training CLIs' CSV log: a resumed run drops the rows logged past its checkpoint."""
import csv

from hoi_perception.training_log import TrainingLog


def _rows(path):
    return list(csv.DictReader(path.open()))


def test_fresh_run_starts_the_file_anew(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("step,loss\n1,5\n2,4\n")
    with TrainingLog(path, ["step", "loss", "lr"]) as log:
        log.write({"step": 1, "loss": 0.123456789, "unknown": 3})
    assert _rows(path) == [{"step": "1", "loss": "0.123457", "lr": ""}]


def test_resume_drops_rows_past_the_checkpoint_and_keeps_the_old_header(tmp_path):
    path = tmp_path / "log.csv"
    with TrainingLog(path, ["step", "loss"]) as log:
        for s in range(1, 8):
            log.write({"step": s, "loss": float(s)})
    with open(path, "a") as f:
        f.write("8,")  # a row cut short by the kill
    with TrainingLog(path, ["step", "loss", "new_column"], resume_at=5) as log:
        assert log.fields == ["step", "loss"]  # the file's own columns
        log.write({"step": 6, "loss": 60.0, "new_column": 1})
    assert [(r["step"], r["loss"]) for r in _rows(path)] == [("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"),
                                                             ("5", "5"), ("6", "60")]
    assert not (tmp_path / "log.csv.tmp").exists()


def test_resume_with_no_file_or_an_empty_file_writes_a_header(tmp_path):
    for text in (None, ""):
        path = tmp_path / "log.csv"
        path.unlink(missing_ok=True)
        if text is not None:
            path.write_text(text)
        with TrainingLog(path, ["timesteps", "reward"], resume_at=512, step_key="timesteps") as log:
            log.write({"timesteps": 1024, "reward": 1.5})
        assert _rows(path) == [{"timesteps": "1024", "reward": "1.5"}]
