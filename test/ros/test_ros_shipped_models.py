"""The real graph with the shipped, trained models (not fixtures): the hand-object node on real
frames of a phone video, started the way the launch file starts it."""
from __future__ import annotations

import signal
import subprocess

import numpy as np
import pytest
from ros_support import INSTALL, requires_ros
from test_ros_graph import Harness, start, video_frames

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
        frames = video_frames(4)
        stamps = [2_000_000_000 + i * 33_333_333 for i in range(len(frames))]
        for rgb, st in zip(frames, stamps):
            for _ in range(4):
                n = len(h.got["handobject"])
                h.send(rgb, st)
                if h.spin_until(lambda: len(h.got["handobject"]) > n, 8.0) or st == stamps[0]:
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
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            rc = proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = "killed"
        assert rc == 0, f"handobject_node did not shut down cleanly: {rc}"
