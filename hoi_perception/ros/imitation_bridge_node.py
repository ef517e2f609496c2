"""Imitation bridge node: hands each finished motion clip (hoi/motion_clip) to hoi_imitation.

The agreed entry point is `hoi_imitation.clip:load_clip(path)` (configurable with the
`clip_loader` parameter), which reads the clip file written by the recorder. The bridge loads
the clip, logs what would be trained and reports on hoi/imitation_bridge/status (std_msgs/String,
JSON). Training itself is started by the hoi_imitation tools, not by this node.
"""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from hoi_msgs.msg import MotionClip
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

from hoi_perception.ros.common import declare_from_config, run_node


class ImitationBridgeNode(Node):
    def __init__(self) -> None:
        super().__init__("imitation_bridge_node")
        self.p = declare_from_config(self, "imitation_bridge_node")
        spec = str(self.p.get("clip_loader", "hoi_imitation.clip:load_clip"))
        self.loader, self.loader_error = None, ""
        module_name, _, func = spec.partition(":")
        try:
            self.loader = getattr(importlib.import_module(module_name), func)
        except (ImportError, AttributeError) as exc:
            self.loader_error = f"{spec} is not importable ({type(exc).__name__}: {exc})"
            self.get_logger().error(f"{self.loader_error}: clips will be received but not handed to hoi_imitation")
        self.pub = self.create_publisher(String, "hoi/imitation_bridge/status", 10)
        qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.create_subscription(MotionClip, "hoi/motion_clip", self._on_clip, qos)

    def _status(self, **kw) -> None:
        self.pub.publish(String(data=json.dumps(kw, sort_keys=True)))

    def _on_clip(self, msg: MotionClip) -> None:
        path = Path(msg.file_path)
        base = {"clip_id": msg.clip_id, "file_path": msg.file_path, "frames_in_msg": len(msg.frames), "fps": msg.fps}
        if not msg.file_path or not path.is_file():
            self.get_logger().error(f"clip {msg.clip_id}: file {msg.file_path!r} not found on this host")
            self._status(state="missing_file", **base)
            return
        if self.loader is None:
            self.get_logger().error(f"clip {msg.clip_id} not handed over: {self.loader_error}")
            self._status(state="no_imitation", error=self.loader_error, **base)
            return
        try:
            clip = self.loader(str(path))
        except Exception as exc:  # noqa: BLE001 - the loader's errors are reported, not fatal
            self.get_logger().error(f"clip {msg.clip_id}: hoi_imitation could not load {path}: {exc}")
            self._status(state="load_failed", error=str(exc), **base)
            return
        summary = _describe(clip)
        self.get_logger().info(f"would train imitation on clip {msg.clip_id}: {summary}")
        self._status(state="loaded", summary=summary, **base)


def _describe(clip) -> str:
    """A short description of whatever the loader returned (its type is hoi_imitation's choice)."""
    parts = [type(clip).__name__]
    for attr in ("num_frames", "fps", "duration", "object_ids"):
        if hasattr(clip, attr):
            parts.append(f"{attr}={getattr(clip, attr)}")
    if hasattr(clip, "__len__") and len(parts) == 1:
        parts.append(f"len={len(clip)}")
    return " ".join(parts)


def main(args=None) -> None:
    sys.exit(run_node(ImitationBridgeNode, "imitation_bridge_node"))


if __name__ == "__main__":
    main()
