"""Motion recorder node: hoi/fullbody results -> clip files (.npz, atomic) + hoi/motion_clip."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from hoi_msgs.msg import HoiFrame, MotionClip
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from hoi_perception.pipeline import msg_convert as mc
from hoi_perception.pipeline.clip_recorder import ClipRecorder
from hoi_perception.ros.common import StartupError, build, declare_from_config, run_node


class MotionRecorderNode(Node):
    def __init__(self) -> None:
        super().__init__("motion_recorder_node")
        self.p = declare_from_config(self, "motion_recorder_node")
        out = Path(str(self.p.get("output_dir", "hoi_clips"))).expanduser()
        try:
            out.mkdir(parents=True, exist_ok=True)
            self.recorder = ClipRecorder(out, fps=float(self.p.get("fps", 0.0)),
                                         max_gap_s=float(self.p.get("max_gap_s", 1.0)),
                                         max_frames=int(self.p.get("max_frames", 900)),
                                         min_frames=int(self.p.get("min_frames", 10)))
        except (OSError, ValueError) as exc:
            raise StartupError(f"cannot record clips into {out}: {exc}") from None
        clip_qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE,
                              durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.pub = self.create_publisher(MotionClip, "hoi/motion_clip", clip_qos)
        self.create_subscription(HoiFrame, "hoi/fullbody", self._on_result, 50)
        self.last_arrival = None
        self.create_timer(0.2, self._check_gap)
        self.get_logger().info(f"recording clips into {out.resolve()}")

    def _on_result(self, msg: HoiFrame) -> None:
        try:
            result = mc.fullbody_from_dict(mc.msg_to_dict(msg))
        except ValueError as exc:
            self.get_logger().error(f"ignoring malformed HoiFrame: {exc}")
            return
        self.last_arrival = time.monotonic()
        self._emit(self.recorder.add(result))

    def _check_gap(self) -> None:
        # The source may simply stop: close the clip after max_gap_s without results.
        if self.last_arrival is not None and time.monotonic() - self.last_arrival > float(self.p.get("max_gap_s", 1.0)):
            self.last_arrival = None
            self._emit(self.recorder.flush())

    def _emit(self, clip) -> None:
        if clip is None:
            return
        self.get_logger().info(f"clip {clip.clip_id}: {len(clip.frames)} frames at {clip.fps:.2f} fps -> {clip.file_path}")
        self.pub.publish(build(MotionClip, mc.clip_to_dict(clip)))

    def flush(self) -> None:
        self._emit(self.recorder.flush())


def main(args=None) -> None:
    sys.exit(run_node(MotionRecorderNode, "motion_recorder_node", on_shutdown=lambda n: n.flush()))


if __name__ == "__main__":
    main()
