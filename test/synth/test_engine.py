"""The real engine end to end on a tiny dataset: keys, shapes, label consistency, determinism."""
import numpy as np
import pytest

from hoi_perception.synth import engine
from hoi_perception.synth.consistency import ConsistencyReport, check_sample
from hoi_perception.synth.shards import ShardSet

FULLBODY_KEYS = {"rgb_0", "rgb_1", "depth_0", "instance_0", "amodal_object_0", "K", "world_to_cam", "body_shape",
                 "body_pose", "body_joints", "hand_joints", "joints_2d", "body_vertices_subset", "body_contact_bits",
                 "body_contact_subset", "object_pose", "object_scale", "object_subset_vertices", "object_contact",
                 "object_keypoints_2d", "occlusion_object", "penetration"}
HAND_KEYS = {"rgb_0", "rgb_2", "depth_2", "instance_1", "amodal_object_2", "cam_from_object", "object_voxels_bits",
             "object_voxel_origin", "object_voxel_pitch", "hand_joints_cam", "hand_joints_2d", "hand_contact",
             "body_pose", "occlusion_object"}


def test_fullbody_samples_have_every_label(tiny_datasets):
    data = ShardSet(tiny_datasets["fullbody"])
    assert len(data) == 2
    arrays, meta, _ = data.get(0)
    assert FULLBODY_KEYS <= set(arrays)
    assert meta["kind"] == "fullbody" and meta["interaction"] in engine_interactions()
    rgb = engine.decode_png(arrays["rgb_0"])
    inst = engine.decode_png(arrays["instance_0"])
    assert rgb.shape == (128, 128, 3) and inst.shape == (128, 128)
    assert set(np.unique(inst)) <= {0, 1, 2, 3, 4} and (inst == 1).any() and (inst == 4).any()
    amodal = engine.decode_png(arrays["amodal_object_0"]) > 0
    assert np.all(amodal[inst == 4])  # the amodal mask contains the visible object
    assert arrays["body_vertices_subset"].shape == (431, 3) and arrays["object_subset_vertices"].shape == (64, 3)
    assert float(arrays["penetration"]) <= 0.01
    assert arrays["body_contact_subset"].any()  # a scene is an interaction: something touches


def engine_interactions():
    from hoi_perception.synth.scenes import INTERACTIONS

    return set(INTERACTIONS)


def test_hand_clip_has_every_label(tiny_datasets):
    arrays, meta, _ = ShardSet(tiny_datasets["hand"]).get(0)
    assert HAND_KEYS <= set(arrays) and meta["frames"] == 3
    vox = np.unpackbits(arrays["object_voxels_bits"]).reshape(64, 64, 64)
    assert 0 < vox.mean() < 1
    # The object's canonical origin projects near the object's pixels in every frame.
    for t in range(3):
        K, T = arrays["K"][t], arrays["cam_from_object"][t]
        c = T[:3, 3]
        uv = K[:2, :2] @ (c[:2] / c[2]) + K[:2, 2]
        inst = engine.decode_png(arrays[f"instance_{t}"])
        ys, xs = np.nonzero(inst == 4)
        assert xs.min() - 20 <= uv[0] <= xs.max() + 20 and ys.min() - 20 <= uv[1] <= ys.max() + 20
    assert arrays["hand_contact"].any()


@pytest.mark.parametrize("kind", ["fullbody", "hand"])
def test_labels_pass_the_independent_check(tiny_datasets, kind):
    data = ShardSet(tiny_datasets[kind])
    report = ConsistencyReport()
    for i in range(len(data)):
        check_sample(*data.get(i)[:2], report)
    s = report.summary()
    assert s["body_vertices_in_mask"] > 0.97 and s["object_vertices_in_mask"] > 0.97
    assert s["contact_label_agreement"] > 0.999
    assert s["samples_over_penetration_tolerance"] == 0


def test_the_check_catches_a_wrong_object_pose(tiny_datasets):
    arrays, meta, _ = ShardSet(tiny_datasets["fullbody"]).get(0)
    arrays = dict(arrays)
    moved = arrays["object_pose"].copy()
    moved[:3, 3] += np.array([0.0, 0.0, 0.3])  # 30 cm off: labels no longer match the images
    arrays["object_pose"] = moved
    report = ConsistencyReport()
    check_sample(arrays, meta, report)
    s = report.summary()
    assert s["object_vertices_in_mask"] < 0.9 or s["contact_label_agreement"] < 0.999


def test_same_seed_same_sample():
    maker = engine.SampleMaker("train", 96, frames=2)
    a, ma = maker("fullbody", 123)
    b, mb = maker("fullbody", 123)
    assert ma == mb and set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="split"):
        engine.SampleMaker("test")
    with pytest.raises(ValueError, match="frames"):
        engine.SampleMaker("train", 128, frames=1)
    with pytest.raises(ValueError, match="unknown sample kind"):
        engine.SampleMaker()("bodies", 1)


def test_closeup_framing_brings_the_camera_nearer():
    default = engine.SampleMaker("train", 96, frames=2)
    near = engine.SampleMaker("train", 96, frames=2, framing="closeup")
    assert "framing" not in default.params() and near.params()["framing"] == "closeup"
    a, ma = default("hand", 5)
    b, mb = near("hand", 5)
    assert "framing" not in ma and mb["framing"] == "closeup"
    # the same scene and draws, only the distance differs: the object is nearer and larger in the image
    assert ma["object_id"] == mb["object_id"]
    da = np.linalg.norm(a["cam_from_object"][:, :3, 3], axis=1)
    db = np.linalg.norm(b["cam_from_object"][:, :3, 3], axis=1)
    assert (db < da).all()
    with pytest.raises(ValueError, match="framing"):
        engine.SampleMaker("train", 96, framing="far")


def test_same_seed_same_bytes_in_fresh_processes_beside_a_busy_one(tmp_path):
    """The issue's command, three times in fresh processes while another process keeps a core busy: one
    content hash. (pyrender's set-ordered draw and light order once gave a pixel one grey level apart in
    about half the runs, busy or not: caught here three times in four.)"""
    import json
    import subprocess
    import sys

    busy = subprocess.Popen([sys.executable, "-c", "while True: sum(i * i for i in range(10000))"])
    try:
        hashes = set()
        for i in range(3):
            out = tmp_path / f"run{i}"
            p = subprocess.run([sys.executable, "-m", "hoi_perception", "synth", "--kind", "fullbody", "--n", "12",
                                "--seed", "7", "--size", "128", "--out", str(out), "--no-progress"],
                               capture_output=True, text=True, timeout=600, check=False)
            assert p.returncode == 0, p.stderr[-2000:]
            hashes.add(json.loads((out / "manifest.json").read_text())["content_hash"])
    finally:
        busy.kill()
    assert len(hashes) == 1, hashes
