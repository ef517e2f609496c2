"""The real graph with the shipped, trained models (not fixtures), nodes started the way the launch
file starts them: the hand-object node on frames of a real phone video, the full-body node on a
real BEHAVE frame with its masks."""
from __future__ import annotations

import time

import numpy as np
import pytest
from ros_support import INSTALL, requires_ros
from test_ros_graph import CAMERA_FRAME, Harness, launch_tables, start, stop_nodes, video_frames

pytestmark = requires_ros


def _shipped(name: str) -> bool:
    return (INSTALL / "hoi_perception" / "share" / "hoi_perception" / "models" / name / "model_card.yaml").is_file()


def test_handobject_node_with_the_shipped_model(ros_env, domain_id, rclpy_context, tmp_path):
    if not _shipped("handobject"):
        pytest.fail("models/handobject is not installed: rebuild with scripts/build_ros.sh")
    proc = start("handobject_node", ros_env, domain_id, tmp_path / "handobject.log", {"model": "handobject"},
                 remap=True)
    h = Harness(rclpy_context)
    try:
        assert h.spin_until(lambda: h.pub_img.get_subscription_count() >= 1, 60), \
            (tmp_path / "handobject.log").read_text()[-2000:]
        h.spin_for(1.0)
        # Quarter resolution (320x180): best-effort delivery of large images is lossy on a busy
        # machine, and the model works on a 128-pixel crop anyway.
        frames = video_frames(4, shrink=4)
        stamps = [2_000_000_000 + i * 33_333_333 for i in range(len(frames))]
        for rgb, st in zip(frames, stamps):
            for _ in range(6):
                n = len(h.got["handobject"])
                h.send(rgb, st)
                if st == stamps[0]:  # the first frame only fills the keyframe buffer
                    h.spin_for(1.0)
                    break
                if h.spin_until(lambda: len(h.got["handobject"]) > n, 8.0):
                    break
        assert h.spin_until(lambda: len(h.got["handobject"]) >= len(frames) - 1, 20), \
            (tmp_path / "handobject.log").read_text()[-3000:]
        for msg in h.got["handobject"]:
            mesh = msg.object.mesh
            v = np.asarray(mesh.vertices, np.float64).reshape(-1, 3)
            f = np.asarray(mesh.faces, np.int64).reshape(-1, 3)
            assert len(v) >= 4 and len(f) >= 4 and f.max() < len(v)
            assert np.isfinite(v).all() and 0.01 < np.ptp(v, axis=0).max() < 1.0  # a hand-held object, metres
            ks = [t.sec * 1_000_000_000 + t.nanosec for t in msg.keyframe_stamps]
            assert set(ks) <= set(stamps) and len(msg.keyframe_object_poses) == len(ks)
            p = msg.object.pose.position
            assert np.isfinite([p.x, p.y, p.z]).all() and p.z > 0  # in front of the camera
        assert proc.poll() is None
    finally:
        h.node.destroy_node()
        codes = stop_nodes({"handobject_node": proc})
        assert codes == {"handobject_node": 0}, f"handobject_node did not shut down cleanly: {codes}"


def behave_frame():
    """A real BEHAVE frame with its person and object masks (as an upstream segmenter gives them)."""
    import cv2

    from hoi_perception.paths import shared_data_dir

    root = shared_data_dir() / "images" / "hoi_noncommercial" / "behave_frames_contho"
    if not (root / "img" / "050507.jpg").is_file():
        pytest.skip(f"shared BEHAVE frames missing under {root}")
    rgb = cv2.cvtColor(cv2.imread(str(root / "img" / "050507.jpg")), cv2.COLOR_BGR2RGB)
    labels = np.zeros(rgb.shape[:2], np.uint8)
    labels[cv2.imread(str(root / "mask_h" / "050507.jpg"), cv2.IMREAD_GRAYSCALE) > 127] = 1
    labels[cv2.imread(str(root / "mask_o" / "050507.jpg"), cv2.IMREAD_GRAYSCALE) > 127] = 2  # object: highest label
    # An eighth of the Kinect resolution (256x192, 147 KB) keeps messages small on loopback: with
    # best-effort QoS a large message is lost whole when one of its fragments is (the model works on a
    # 96-pixel crop anyway).
    size = (rgb.shape[1] // 8, rgb.shape[0] // 8)
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST)


def test_fullbody_node_with_the_shipped_model(ros_env, domain_id, rclpy_context, tmp_path):
    from hoi_perception.pipeline import image_codec, msg_convert as mc
    from rclpy.qos import qos_profile_sensor_data

    if not _shipped("fullbody"):
        pytest.fail("models/fullbody is not installed: rebuild with scripts/build_ros.sh")
    # default parameters: the shipped model, masks on
    proc = start("fullbody_node", ros_env, domain_id, tmp_path / "fullbody.log", remap=True)
    h = Harness(rclpy_context)
    masks_topic = launch_tables()["ARGUMENTS"]["masks_topic"][0]
    pub_masks = h.node.create_publisher(h.Image, masks_topic, qos_profile_sensor_data)
    try:
        assert h.spin_until(lambda: h.pub_img.get_subscription_count() >= 1
                            and pub_masks.get_subscription_count() >= 1, 60), \
            (tmp_path / "fullbody.log").read_text()[-2000:]
        h.spin_for(1.0)
        rgb, labels = behave_frame()
        stamp = 3_000_000_000
        deadline = time.monotonic() + 60.0  # resend until a result comes (best effort, slow discovery)
        while time.monotonic() < deadline:
            m = image_codec.encode(labels, "mono8")
            m["header"] = mc.header_dict(stamp, CAMERA_FRAME)
            pub_masks.publish(mc.to_rclpy(m, h.Image))
            h.spin_for(0.2)
            h.send(rgb, stamp)
            if h.spin_until(lambda: len(h.got["fullbody"]) > 0, 5.0):
                break
        assert h.got["fullbody"], (tmp_path / "fullbody.log").read_text()[-3000:]
        msg = h.got["fullbody"][0]
        assert msg.reconstructor == "fullbody" and msg.header.frame_id == CAMERA_FRAME
        body = msg.bodies[0]
        joints = np.asarray(body.joints).reshape(-1, 3)
        verts = np.asarray(body.vertices).reshape(-1, 3)
        assert len(joints) >= 22 and len(verts) > 400 and np.isfinite(verts).all()
        assert np.all(verts[:, 2] > 0)  # the person is in front of the camera
        height = np.ptp(verts, axis=0).max()
        assert 0.8 < height < 2.5  # a person-sized mesh, metres
        obj = msg.objects[0]
        assert np.isfinite([obj.pose.position.x, obj.pose.position.y, obj.pose.position.z]).all()
        assert len(body.vertex_contact) == len(verts)
        assert proc.poll() is None
    finally:
        h.node.destroy_node()
        codes = stop_nodes({"fullbody_node": proc})
        assert codes == {"fullbody_node": 0}, f"fullbody_node did not shut down cleanly: {codes}"
