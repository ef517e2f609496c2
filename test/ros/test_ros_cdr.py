"""Every hoi_msgs type: rclpy and rosbags (typestore built from the .msg files) give equal CDR bytes."""
from __future__ import annotations

import numpy as np
import pytest

from ros_support import requires_ros

pytestmark = requires_ros


def _samples():
    from hoi_perception.pipeline import msg_convert as mc
    from hoi_perception.pipeline.mesh_detail import SubsetRef
    from hoi_perception.pipeline.types import (
        BodyState, FullBodyResult, HandObjectResult, Mesh, MotionClip, MotionFrame, ObjectState, Pose)

    rng = np.random.default_rng(0)
    body = BodyState(model_id="anny/default", joints=rng.normal(size=(23, 3)), shape_params=rng.random(6),
                     pose_params=rng.normal(size=32), pose_layout="bone_local_4x4", joint_set="coco17_feet6",
                     root_pose=Pose([0.1, 0.2, 2.0], [0, 0, 0.3, 1]), joint_confidence=rng.random(23),
                     vertices=rng.normal(size=(50, 3)), vertex_contact=rng.random(50), confidence=0.75, track_id=3)
    hand = BodyState(model_id="anny/hand.R", part=2, joints=rng.normal(size=(21, 3)))  # mostly empty arrays
    on_subset = BodyState(model_id="anny/default", joints=rng.normal(size=(23, 3)), vertices=rng.normal(size=(5, 3)),
                          vertex_contact=rng.random(5), vertex_subset="anny/default/subset5")
    subset = SubsetRef("anny/default/subset2", np.array([0, 2], np.uint32), 3)
    mesh = Mesh(rng.normal(size=(8, 3)), [[0, 1, 2], [2, 3, 4]], "inline")
    obj = ObjectState(pose=Pose([0, 0, 1], [0.1, 0.2, 0.3, 0.9]), class_name="mug", instance_id=7,
                      template_id="ycb/025_mug", scale=[1, 1, 1.1], vertex_contact=rng.random(8), mesh=mesh, confidence=0.5)
    bare = ObjectState(pose=Pose(), template_id="ycb/003_cracker_box")
    fb = FullBodyResult(123456789012, "cam_optical", 42, "crosshoi", [body], [obj, bare], 0.8)
    ho = HandObjectResult(5_000_000_001, "cam_optical", 9, "forehoi", obj, [1, 2, 3], [Pose(), Pose(), Pose()], [hand], 0.6,
                          mesh_detail="compact")
    clip = MotionClip("clip_1", 30.0, "cam_optical", [MotionFrame(1, body, [obj]), MotionFrame(2, hand, [])],
                      "/tmp/clip_1.npz", 99)
    empty = {}
    return {
        "hoi_msgs/msg/HoiFrame": [mc.fullbody_to_dict(fb), empty],
        "hoi_msgs/msg/HandObjectResult": [mc.handobject_to_dict(ho), empty],
        "hoi_msgs/msg/MotionClip": [mc.clip_to_dict(clip), empty],
        "hoi_msgs/msg/MotionFrame": [mc.clip_to_dict(clip)["frames"][0], empty],
        "hoi_msgs/msg/BodyState": [mc.body_dict(body), mc.body_dict(hand), mc.body_dict(on_subset)],
        "hoi_msgs/msg/ObjectState": [mc.object_dict(obj), mc.object_dict(bare)],
        "hoi_msgs/msg/MeshGeometry": [mc.mesh_dict(mesh), empty],
        "hoi_msgs/msg/MeshTopology": [mc.topology_to_dict("anny/default", [[0, 1, 2]], 3, 7, "f"), empty,
                                      mc.topology_to_dict("anny/default", [[0, 1, 2]], 3, 7, "f", subset)],
    }


def test_every_type_is_covered():
    from hoi_perception.runtime.typestore import hoi_msgs_dir

    assert {f"hoi_msgs/msg/{p.stem}" for p in hoi_msgs_dir().glob("*.msg")} == set(_samples())


TYPES = ["hoi_msgs/msg/BodyState", "hoi_msgs/msg/HandObjectResult", "hoi_msgs/msg/HoiFrame",
         "hoi_msgs/msg/MeshGeometry", "hoi_msgs/msg/MeshTopology", "hoi_msgs/msg/MotionClip",
         "hoi_msgs/msg/MotionFrame", "hoi_msgs/msg/ObjectState"]


def padding_mask(ts, msg, typename: str) -> np.ndarray:
    """True at CDR alignment-padding bytes. Fast CDR leaves padding unwritten (arbitrary bytes),
    rosbags writes zeros; found by serializing into buffers pre-filled with 0x00 and 0xFF."""
    from struct import pack_into

    md = ts.get_msgdef(typename)
    size = 4 + md.getsize_cdr(0, msg, ts)
    outs = []
    for fill in (0x00, 0xFF):
        buf = memoryview(bytearray([fill]) * size)
        pack_into("BB", buf, 0, 0, 1)
        md.serialize_cdr_le(buf[4:], 0, msg, ts)
        outs.append(np.frombuffer(bytes(buf), np.uint8))
    mask = outs[0] != outs[1]
    mask[:4] = False  # the encapsulation header is not padding
    return mask


def assert_same_cdr(a: bytes, b: bytes, pad: np.ndarray) -> None:
    assert len(a) == len(b), f"CDR sizes differ: {len(a)} != {len(b)}"
    diff = np.frombuffer(a, np.uint8) != np.frombuffer(b, np.uint8)
    assert not np.any(diff & ~pad), f"CDR bytes differ outside padding at {np.flatnonzero(diff & ~pad)[:10]}"


@pytest.mark.parametrize("typename", TYPES)
def test_cdr_bytes_equal(typename):
    from rclpy.serialization import deserialize_message, serialize_message

    from hoi_perception.pipeline import msg_convert as mc
    from hoi_perception.runtime.typestore import hoi_typestore

    ts = hoi_typestore()
    cls = mc._rclpy_class(typename)
    for d in _samples()[typename]:
        ros_bytes = serialize_message(mc.to_rclpy(d, cls))
        bag_msg = mc.to_rosbags(d, typename, ts)
        bag_bytes = bytes(ts.serialize_cdr(bag_msg, typename))
        pad = padding_mask(ts, bag_msg, typename)
        assert_same_cdr(ros_bytes, bag_bytes, pad)
        # and back: each side reads the other's bytes to the same content
        back = mc.msg_to_dict(deserialize_message(bag_bytes, cls))
        again = mc.msg_to_dict(ts.deserialize_cdr(ros_bytes, typename))
        assert bytes(ts.serialize_cdr(mc.to_rosbags(back, typename, ts), typename)) == bag_bytes
        assert_same_cdr(serialize_message(mc.to_rclpy(again, cls)), ros_bytes, pad)


def test_type_hash_matches_rosidl():
    """rosbags' RIHS01 hash of our .msg files equals the one rosidl generated into the build."""
    import json

    from ros_support import INSTALL
    from hoi_perception.runtime.typestore import hoi_typestore

    ts = hoi_typestore()
    share = INSTALL / "hoi_msgs" / "share" / "hoi_msgs" / "msg"
    checked = 0
    for path in sorted(share.glob("*.json")):
        desc = json.loads(path.read_text())
        for h in desc.get("type_hashes", []):
            if h["type_name"].startswith("hoi_msgs/msg/"):
                assert ts.hash_rihs01(h["type_name"]) == h["hash_string"], h["type_name"]
                checked += 1
    assert checked >= 8
