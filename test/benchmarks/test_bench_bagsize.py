"""bench bagsize: the runner's bag per result, compact against full meshes, read back from the bag."""
import json

import pytest

from hoi_perception.benchmarks import bagsize as bench
from hoi_perception.paths import models_dir


def test_full_body_compact_and_full(capsys):
    if not (models_dir() / "fullbody" / "model_card.yaml").is_file():
        pytest.skip("no shipped fullbody model (models/fullbody/model_card.yaml)")
    if not (bench.shared_data_dir() / "images" / "hoi_noncommercial" / "behave_frames_contho" / "img").is_dir():
        pytest.skip("shared BEHAVE frames are missing")
    assert bench.main(["--task", "fullbody", "--frames", "2", "--variants", "compact", "full", "--json"]) == 0
    runs = {r["variant"]: r for r in json.loads(capsys.readouterr().out.strip().splitlines()[-1])["runs"]}
    compact, full = runs["compact"], runs["full"]
    assert compact["results"] == full["results"] == 2 and full["flags"] == "--mesh-detail full"
    # the topology goes once, not per result; the results differ by the 13,287 vertices off the subset (16 bytes each)
    assert set(compact["bytes_once"]) == {"/hoi/fullbody/mesh_topology"} == set(full["bytes_once"])
    assert "/hoi/fullbody/mesh_topology" not in compact["bytes_per_result"]
    extra = full["bytes_per_result"]["/hoi/fullbody"] - compact["bytes_per_result"]["/hoi/fullbody"]
    assert 13_287 * 16 - 64 <= extra <= 13_287 * 16  # less the subset id compact results name
    for r in (compact, full):
        assert r["mb_per_min_at_30hz"] == pytest.approx(r["bag_bytes_per_result"] * 1800 / 1e6, abs=0.05)
