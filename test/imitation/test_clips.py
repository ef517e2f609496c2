import json

import numpy as np
import pytest

from hoi_imitation import ClipError, load_clip, save_clip
from hoi_imitation.clip import validate
from hoi_imitation.loaders.bvh import read_bvh
from hoi_imitation.objects import get_object
from hoi_imitation.skeleton import INDEX, J


def test_deepmimic_walk_loads_on_canonical_skeleton(walk_path):
    c = load_clip(walk_path)
    assert c.joint_pos.shape == (39, J, 3) and c.loop
    assert c.fps == pytest.approx(30.0, rel=1e-3)
    # z-up, facing +x: the walk advances along +x and the head is above the pelvis
    assert c.root_pos[-1, 0] - c.root_pos[0, 0] > 1.0
    assert (c.joint_pos[:, INDEX["head"], 2] > c.joint_pos[:, INDEX["pelvis"], 2] + 0.4).all()
    # left is +y (REP 103) when facing +x
    assert c.joint_pos[0, INDEX["left_hip"], 1] > c.joint_pos[0, INDEX["right_hip"], 1]
    # DeepMimic joints are exactly reproduced by the rigid canonical skeleton
    assert np.abs(c.fk_positions() - c.joint_pos).max() < 1e-6


def test_cmu_bvh_loads_in_metres(mocap):
    c = load_clip(mocap / "cmu_131_bvh" / "scaled_131_01.bvh")
    assert c.num_frames == 995 and c.fps == pytest.approx(120, rel=1e-3)
    leg = np.linalg.norm(c.joint_pos[:, INDEX["left_hip"]] - c.joint_pos[:, INDEX["left_ankle"]], axis=-1)
    assert 0.6 < leg.max() < 1.0  # a metre-scale leg
    assert (c.joint_pos[:, INDEX["head"], 2] > c.joint_pos[:, INDEX["left_ankle"], 2]).all()
    err = np.linalg.norm(c.fk_positions() - c.joint_pos, axis=-1)
    assert err.mean() < 0.02


def test_skillmimic_has_ball_and_contacts(mocap):
    p = sorted((mocap / "skillmimic_ballplay" / "run").glob("*.pt"))[0]
    c = load_clip(p)
    assert c.object.id == "basketball" and c.object_pos.shape == (c.num_frames, 3)
    k = c.contact_names.index("hands:object")
    assert set(np.unique(c.contacts[:, k])) <= {0.0, 1.0}
    # the ball is near a hand when the contact flag is set
    hands = c.joint_pos[:, [INDEX["left_wrist"], INDEX["right_wrist"]]]
    d = np.linalg.norm(hands - c.object_pos[:, None], axis=-1).min(1)
    assert np.median(d[c.contacts[:, k] > 0.5]) < 0.3


def test_round_trip(walk_path, tmp_path):
    c = load_clip(walk_path)
    p = save_clip(c, tmp_path / "walk.npz")
    d = load_clip(p)
    for k in ("timestamps", "root_pos", "joint_quat", "joint_pos", "rest_offsets", "joint_valid", "contacts"):
        np.testing.assert_array_equal(getattr(c, k), getattr(d, k))
    assert d.loop and d.fps == c.fps and d.contact_names == c.contact_names
    assert not list(tmp_path.glob(".tmp_*"))  # atomic write leaves nothing behind


def test_round_trip_with_object(mocap, tmp_path):
    c = load_clip(sorted((mocap / "skillmimic_ballplay" / "pass").glob("*.pt"))[0])
    d = load_clip(save_clip(c, tmp_path / "ball.npz"))
    np.testing.assert_array_equal(c.object_pos, d.object_pos)
    assert d.object.mass == pytest.approx(0.62)


@pytest.fixture
def walk(walk_path):
    return load_clip(walk_path)


def test_nan_is_named(walk):
    walk.joint_pos[3, 5, 1] = np.nan
    with pytest.raises(ClipError, match="joint_pos contains 1 NaN"):
        validate(walk)


def test_wrong_joint_count(walk):
    walk.joint_pos = walk.joint_pos[:, :20]
    with pytest.raises(ClipError, match="20 joints, the canonical skeleton has 22"):
        validate(walk)


def test_zero_frames(walk):
    for k in ("timestamps", "root_pos", "joint_quat", "joint_pos"):
        setattr(walk, k, getattr(walk, k)[:0])
    with pytest.raises(ClipError, match="zero frames"):
        validate(walk)


def test_frames_out_of_order(walk):
    walk.timestamps[[4, 5]] = walk.timestamps[[5, 4]]
    with pytest.raises(ClipError, match=r"frames out of order: timestamp\[5\]"):
        validate(walk)


def test_unknown_object(walk):
    from hoi_imitation.clip import ObjectSpec

    walk.object = ObjectSpec("teapot_42", {"type": "registry"}, 1.0, (1, 1, 1))
    walk.object_pos = np.zeros((walk.num_frames, 3))
    walk.object_quat = np.tile([0, 0, 0, 1.0], (walk.num_frames, 1))
    with pytest.raises(ClipError, match="unknown object 'teapot_42'"):
        validate(walk)
    with pytest.raises(ClipError, match="unknown object"):
        get_object("teapot_42")


def test_saved_file_with_wrong_joint_names(walk, tmp_path):
    p = save_clip(walk, tmp_path / "w.npz")
    z = dict(np.load(p))
    h = json.loads(bytes(z["header"]).decode())
    h["joint_names"] = h["joint_names"][:-1]
    z["header"] = np.frombuffer(json.dumps(h).encode(), dtype=np.uint8)
    np.savez(tmp_path / "bad.npz", **z)
    with pytest.raises(ClipError, match="21 joints, the canonical skeleton has 22"):
        load_clip(tmp_path / "bad.npz")


def test_bvh_with_unexpected_skeleton(tmp_path):
    bvh = tmp_path / "robot.bvh"
    bvh.write_text("HIERARCHY\nROOT base\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
                   " JOINT arm\n {\n  OFFSET 0 1 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n  End Site\n  {\n   OFFSET 0 1 0\n  }\n }\n}\n"
                   "MOTION\nFrames: 2\nFrame Time: 0.1\n" + "0 0 0 0 0 0 0 0 0\n" * 2)
    assert read_bvh(bvh).names == ["base", "arm"]
    with pytest.raises(ClipError, match="unexpected BVH skeleton.*Hips"):
        load_clip(bvh)


def test_bvh_zero_frames(tmp_path, mocap):
    text = (mocap / "cmu_131_bvh" / "scaled_131_01.bvh").read_text()
    head = text[:text.index("MOTION")]
    (tmp_path / "empty.bvh").write_text(head + "MOTION\nFrames: 0\nFrame Time: 0.008333\n")
    with pytest.raises(ClipError, match="zero frames"):
        load_clip(tmp_path / "empty.bvh")
