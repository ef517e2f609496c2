"""Image (+ CameraInfo, optional depth and masks) -> reconstructor -> hoi_msgs, TF, MarkerArray.

Results are published compact unless the `mesh_detail` parameter is "full" (`pipeline/mesh_detail.py`);
markers, when on, draw the full meshes either way.

Frames are never queued: the subscription callback keeps only the newest image and a worker
thread runs inference on it, so a slow model drops frames instead of falling behind. Masks and
depth are used only when their stamp is within `max_input_skew_s` of the image's (default: one
frame period), so an input that stopped is never reused. Received, lost (stamp gaps upstream),
dropped and rejected counts go to /diagnostics (diagnostic_msgs/DiagnosticArray): WARN above
`warn_share` of a period's frames, ERROR when none was processed. Every message, the library's
Python logging included, goes through the ROS logger; repeated errors are throttled.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import TransformStamped
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from visualization_msgs.msg import MarkerArray

from hoi_perception.pipeline import image_codec, mesh_detail
from hoi_perception.pipeline import msg_convert as mc
from hoi_perception.pipeline.stages import InferenceError, ReconstructionStage, TaskMismatch, load_reconstructor
from hoi_perception.pipeline.stream_health import FrameClock, LatestByStamp, PeriodCounts, health
from hoi_perception.pipeline.types import CameraIntrinsics, Frame, InputError
from hoi_perception.ros.common import StartupError, build, declare_from_config

try:  # tf2_msgs has no PyPI wheel; on a full ROS install object frames also go to /tf
    from tf2_msgs.msg import TFMessage
except ImportError:
    TFMessage = None


def stamp_ns(header) -> int:
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


RELIABILITY = {"best_effort": ReliabilityPolicy.BEST_EFFORT, "reliable": ReliabilityPolicy.RELIABLE}


def input_qos(params: dict) -> QoSProfile:
    """The inputs' QoS from the parameters; the default is ROS's sensor-data profile (best effort, last 5)."""
    name = str(params.get("qos_reliability", "best_effort"))
    if name not in RELIABILITY:
        raise StartupError(f"qos_reliability must be one of {', '.join(RELIABILITY)}, got {name!r}")
    depth = int(params.get("qos_depth", 5))
    if depth < 1:
        raise StartupError(f"qos_depth must be >= 1, got {depth}")
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=RELIABILITY[name],
                      durability=DurabilityPolicy.VOLATILE)


class RosLogHandler(logging.Handler):
    """The library's Python logging (e.g. "keyframe buffer filling") into the node's ROS logger."""

    def __init__(self, ros_logger) -> None:
        super().__init__()
        self.ros_logger = ros_logger

    def emit(self, record: logging.LogRecord) -> None:
        msg = self.format(record)
        if record.levelno >= logging.ERROR:
            self.ros_logger.error(msg)
        elif record.levelno >= logging.WARNING:
            self.ros_logger.warn(msg)
        elif record.levelno >= logging.INFO:
            self.ros_logger.info(msg)
        else:
            self.ros_logger.debug(msg)


class ReconstructionNode(Node):
    task = ""
    result_msg = None

    def __init__(self, node_name: str) -> None:
        super().__init__(node_name)
        self.p = declare_from_config(self, node_name)
        try:  # checked before the model loads: a typo must not cost a model load to find out
            self.mesh_detail = mesh_detail.check(str(self.p.get("mesh_detail", mesh_detail.COMPACT)))
        except ValueError as exc:
            raise StartupError(str(exc)) from None
        model = str(self.p.get("model", ""))
        # empty: the card's; object_masks is the full-body node's
        options = {k: str(self.p[k]) for k in ("backend", "device", "object_masks") if self.p.get(k)}
        if "keyframe_window_s" in self.p:  # the hand-object node's
            options["keyframe_window_s"] = float(self.p["keyframe_window_s"])
        try:
            self.recon = load_reconstructor(model, self.task, **options)
        except TaskMismatch as exc:
            raise TaskMismatch(f"{exc}: start the {exc.model_task}_node for it, or give this node a {self.task} "
                               f"model with -p model:=<name or folder>", exc.model_task) from None
        self.stage = ReconstructionStage(self.recon)  # the runner's stage: one path from frame to result
        if self.p.get("object_frame_prefix", "hoi_object_") == "":
            raise StartupError("object_frame_prefix must not be empty")
        ns = f"hoi/{self.task}"
        self.pub_result = self.create_publisher(self.result_msg, ns, 10)
        self.pub_markers = self.create_publisher(MarkerArray, f"{ns}/markers", 5)
        latched = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        from hoi_msgs.msg import MeshTopology

        self.pub_topology = self.create_publisher(MeshTopology, f"{ns}/mesh_topology", latched)
        self.pub_transform = self.create_publisher(TransformStamped, f"{ns}/object_transform", 10)
        self.pub_tf = self.create_publisher(TFMessage, "/tf", 100) if (TFMessage and self.p.get("publish_tf", True)) else None
        if TFMessage is None and self.p.get("publish_tf", True):
            self.get_logger().warn("tf2_msgs is not importable: object poses go to "
                                   f"{ns}/object_transform (geometry_msgs/TransformStamped) only, not /tf")
        self.publishers_by_channel = {"result": (self.pub_result, self.result_msg),
                                      "topology": (self.pub_topology, MeshTopology),
                                      "markers": (self.pub_markers, MarkerArray)}
        self.pub_diag = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        library_log = logging.getLogger("hoi_perception")
        library_log.addHandler(RosLogHandler(self.get_logger()))
        library_log.setLevel(logging.INFO)
        library_log.propagate = False
        qos = input_qos(self.p)
        self.max_skew_s = float(self.p.get("max_input_skew_s", 0.0))  # 0: one frame period
        self.warn_share = float(self.p.get("warn_share", 0.5))
        self.throttle_s = float(self.p.get("error_log_throttle_s", 5.0))
        self.clock = FrameClock()
        self.create_subscription(Image, "image_raw", self._on_image, qos)
        self.create_subscription(CameraInfo, "camera_info", self._on_info, qos)
        self.aux = {}
        if self.p.get("use_depth", False):
            self.aux["depth"] = LatestByStamp("depth")
            self.create_subscription(Image, "depth/image_raw", lambda m: self._on_aux("depth", m), qos)
        if self.p.get("use_masks", False):
            self.aux["masks"] = LatestByStamp("masks")
            self.create_subscription(Image, "masks", lambda m: self._on_aux("masks", m), qos)
        self.info: CameraInfo | None = None
        # images waiting for inference: the newest is reconstructed, the others go to the model's history
        self.pending: deque = deque(maxlen=max(1, int(getattr(self.recon, "history", 1))))
        self.latencies: deque = deque(maxlen=200)  # seconds from image stamp to published result
        self.cv = threading.Condition()
        self.running = True
        self.sent_topologies: dict[str, np.ndarray] = {}
        self.stats = {"received": 0, "lost": 0, "processed": 0, "dropped": 0, "rejected": 0, "results": 0,
                      "busy_s": 0.0}
        self.last_stats = dict(self.stats)
        self.frame_index = 0
        self.worker = threading.Thread(target=self._work, name=f"{node_name}_inference", daemon=True)
        self.worker.start()
        self.create_timer(float(self.p.get("diagnostics_period_s", 2.0)), self._report)
        self.get_logger().info(f"{self.task} model {self.recon.name!r} loaded; waiting for images on "
                               f"{self.resolve_topic_name('image_raw')}")

    # ---------------------------------------------------------------- callbacks (executor thread)
    def _on_info(self, msg: CameraInfo) -> None:
        self.info = msg

    def _on_aux(self, name: str, msg: Image) -> None:
        with self.cv:
            self.aux[name].add(stamp_ns(msg.header), msg)
            self.cv.notify_all()  # the worker may be waiting for this image's masks or depth

    def _on_image(self, msg: Image) -> None:
        with self.cv:
            self.stats["received"] += 1
            self.stats["lost"] += self.clock.add(stamp_ns(msg.header))
            if self.pending:
                self.stats["dropped"] += 1  # inference is behind: only the newest frame is reconstructed
            self.pending.append((msg, self.frame_index))  # index in the stream, counting dropped frames
            self.frame_index += 1
            self.cv.notify()

    # ---------------------------------------------------------------- worker thread
    def stop(self) -> None:
        with self.cv:
            self.running = False
            self.cv.notify()
        self.worker.join(timeout=5.0)

    def _work(self) -> None:
        while True:
            with self.cv:
                while self.running and not self.pending:
                    self.cv.wait()
                if not self.running:
                    return
                waiting = list(self.pending)
                self.pending.clear()
            t0 = time.monotonic()
            self._observe(waiting[:-1])
            msg, index = waiting[-1]
            try:
                frame = self._frame(msg, index)
                result = self.stage.process(frame)
            except (InputError, InferenceError) as exc:
                self.stats["rejected"] += 1
                self.get_logger().error(f"frame {index} skipped: {exc}", throttle_duration_sec=self.throttle_s)
                continue
            except Exception as exc:  # noqa: BLE001 - a model bug must not kill the node silently
                self.stats["rejected"] += 1
                self.get_logger().error(f"reconstruction failed: {type(exc).__name__}: {exc}",
                                        throttle_duration_sec=self.throttle_s)
                continue
            finally:
                self.stats["busy_s"] += time.monotonic() - t0
            self.stats["processed"] += 1
            if result is not None:
                try:
                    self._publish(result)
                    self.stats["results"] += 1
                except Exception as exc:  # noqa: BLE001 - e.g. context shut down while publishing
                    if self.running:
                        self.get_logger().error(f"publishing failed: {exc}")
                    continue
                # how far behind the camera a result comes out (same clock as the image stamps)
                with self.cv:
                    self.latencies.append((self.get_clock().now().nanoseconds - result.stamp_ns) / 1e9)

    def _observe(self, waiting: list) -> None:
        """Frames inference had no time for still enter the model's history (keyframes), so a result
        draws on the newest frames rather than on the ones that happened to be processed."""
        for msg, index in waiting:
            try:
                self.stage.observe(self._frame(msg, index))
            except InputError:
                pass  # a bad frame is simply not kept; the processed frames report their own errors

    def _frame(self, msg: Image, index: int) -> Frame:
        rgb = image_codec.image_msg_to_rgb(msg)
        h, w = rgb.shape[:2]
        info = self.info
        if info is None:
            raise InputError(f"no CameraInfo received yet on {self.resolve_topic_name('camera_info')}")
        if (int(info.width), int(info.height)) != (w, h):
            raise InputError(f"CameraInfo is for {info.width}x{info.height} but the image is {w}x{h}")
        age = abs(stamp_ns(msg.header) - stamp_ns(info.header)) / 1e9
        if age > float(self.p.get("max_camera_info_age_s", 1.0)):
            raise InputError(f"latest CameraInfo is {age:.2f} s away from the image stamp")
        k = CameraIntrinsics.from_k(info.k, w, h)
        stamp = stamp_ns(msg.header)
        depth_msg, masks_msg = self._aux("depth", stamp), self._aux("masks", stamp)
        depth = masks = None
        if depth_msg is not None:
            depth = image_codec.image_msg_to_depth(depth_msg)
        if masks_msg is not None:
            labels = image_codec.decode(masks_msg.height, masks_msg.width, masks_msg.encoding,
                                        masks_msg.is_bigendian, masks_msg.step, masks_msg.data)[..., 0]
            ids = [i for i in np.unique(labels) if i != 0]
            masks = np.stack([labels == i for i in ids]) if ids else np.zeros((0, h, w), bool)
        frame_id = msg.header.frame_id or str(self.p.get("camera_frame_fallback", "camera_color_optical_frame"))
        return Frame(image=rgb, stamp_ns=stamp, frame_id=frame_id, intrinsics=k,
                     index=index, depth=depth, masks=masks)

    def _aux(self, name: str, stamp: int):
        """The masks or depth message of this image's stamp, or None; a change of state is logged once."""
        if name not in self.aux:
            return None
        limit = self.max_skew_s or self.clock.period_s
        deadline = time.monotonic() + limit  # a segmenter may answer a little after the camera
        with self.cv:
            while self.running and self.aux[name].find(stamp, limit) is None and time.monotonic() < deadline:
                self.cv.wait(timeout=max(0.0, deadline - time.monotonic()))
            msg, note = self.aux[name].nearest(stamp, limit)
        if note:
            self.get_logger().warn(note)
        return msg

    def _publish(self, result) -> None:
        messages = mc.result_messages(result, self.sent_topologies,
                                      object_frame_prefix=str(self.p.get("object_frame_prefix", "hoi_object_")),
                                      markers=bool(self.p.get("publish_markers", True)),
                                      max_triangles=int(self.p.get("marker_max_triangles", 4000)),
                                      mesh_detail=self.mesh_detail)
        for channel, _, d in messages:
            if channel == "transforms":
                for t in d["transforms"]:
                    self.pub_transform.publish(build(TransformStamped, t))
                if self.pub_tf is not None:
                    self.pub_tf.publish(build(TFMessage, d))
            else:
                publisher, cls = self.publishers_by_channel[channel]
                publisher.publish(build(cls, d))

    # ---------------------------------------------------------------- diagnostics
    def _report(self) -> None:
        s, last = dict(self.stats), self.last_stats
        self.last_stats = s
        d = {k: s[k] - last[k] for k in ("received", "lost", "dropped", "rejected", "processed", "results")}
        level, share = health(PeriodCounts(d["received"], d["lost"], d["dropped"], d["rejected"]), self.warn_share)
        msg = (f"{d['received']} frames received, {d['lost']} lost upstream, {d['dropped']} dropped, {d['rejected']} "
               f"rejected ({100 * share:.0f} % not processed), {d['results']} results")
        if d["received"] or d["lost"]:  # one call per severity: rclpy refuses a call site changing it
            if level == 0:
                self.get_logger().info(msg)
            elif level == 1:
                self.get_logger().warn(msg)
            else:
                self.get_logger().error(msg)
        with self.cv:  # the worker appends to it
            lat = np.array(self.latencies) if self.latencies else np.full(1, np.nan)
        values = {**{k: str(v) for k, v in s.items()}, "drop_rate": f"{share:.4f}",
                  "period_s": f"{self.clock.period_s:.4f}",
                  "latency_p50_s": f"{np.percentile(lat, 50):.3f}", "latency_p90_s": f"{np.percentile(lat, 90):.3f}",
                  "results_per_s": f"{d['results'] / float(self.p.get('diagnostics_period_s', 2.0)):.2f}",
                  "drop_rate_total": f"{s['dropped'] / s['received']:.4f}" if s["received"] else "0"}
        now = self.get_clock().now().nanoseconds
        self.pub_diag.publish(build(DiagnosticArray, {
            "header": mc.header_dict(now, ""),
            "status": [{"level": level, "name": f"{self.get_name()}: {self.task} inference",
                        "message": msg, "hardware_id": self.recon.name,
                        "values": [{"key": k, "value": v} for k, v in values.items()]}]}))
