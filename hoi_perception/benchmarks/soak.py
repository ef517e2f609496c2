"""Soak: one node fed real frames at a camera's rate for minutes, as a robot runs it.

    source scripts/ros_env.sh                 # from the repository root
    hoi-perception bench soak --node handobject --minutes 10 [--fps 30] [--json]
    hoi-perception bench soak --node fullbody --minutes 10 [--json]

The node is the installed executable (scripts/build_ros.sh) started with the shipped parameter file
and its default model, as the launch file starts it. Frames: handobject, the real phone video
`video/hand_object_wild/wild1.mp4` at a quarter of its resolution (320x180), looped; fullbody, the
twelve real BEHAVE/COCO frames at a quarter of theirs with their person and object masks (mono8
labels on the masks topic), cycled. Each frame is stamped with the publishing time, sensor-data QoS,
as a camera driver publishes. Figures: the node's resident memory after a 20 s warm-up and at the
end; images received, lost upstream, dropped and rejected (its /diagnostics counters); results per
second; latency from the image stamp to the result's arrival here, p50 / p90.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from hoi_perception.paths import REPO_ROOT, shared_data_dir



def _install_prefix() -> Path:
    """The colcon install of hoi_perception: from the ROS environment (this module may itself be the
    install's copy, whose REPO_ROOT is inside install/), else the checkout's install/."""
    for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if p and (Path(p) / "lib" / "hoi_perception").is_dir():
            return Path(p)
    return REPO_ROOT / "install" / "hoi_perception"


INSTALL = _install_prefix()
WARM_UP_S = 20.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def handobject_frames() -> list[tuple[np.ndarray, np.ndarray | None]]:
    cap = cv2.VideoCapture(str(shared_data_dir() / "video" / "hand_object_wild" / "wild1.mp4"))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        small = cv2.resize(bgr, (bgr.shape[1] // 4, bgr.shape[0] // 4), interpolation=cv2.INTER_AREA)
        frames.append((cv2.cvtColor(small, cv2.COLOR_BGR2RGB), None))
    cap.release()
    return frames


def fullbody_frames() -> list[tuple[np.ndarray, np.ndarray | None]]:
    root = shared_data_dir() / "images" / "hoi_noncommercial" / "behave_frames_contho"
    frames = []
    for img_path in sorted((root / "img").glob("*.jpg")):
        bgr = cv2.imread(str(img_path))
        labels = np.zeros(bgr.shape[:2], np.uint8)
        labels[cv2.imread(str(root / "mask_h" / img_path.name), cv2.IMREAD_GRAYSCALE) > 127] = 1
        labels[cv2.imread(str(root / "mask_o" / img_path.name), cv2.IMREAD_GRAYSCALE) > 127] = 2
        size = (bgr.shape[1] // 4, bgr.shape[0] // 4)
        frames.append((cv2.cvtColor(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB),
                       cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST)))
    return frames


def start_node(name: str, log: Path) -> subprocess.Popen:
    exe = INSTALL / "lib" / "hoi_perception" / f"{name}_node"
    config = INSTALL / "share" / "hoi_perception" / "config" / "pipeline.yaml"
    if not exe.is_file():
        raise SystemExit(f"{exe} is missing: build the ROS packages with scripts/build_ros.sh")
    args = [str(exe), "--ros-args", "--params-file", str(config), "-p", "diagnostics_period_s:=1.0",
            "-r", "image_raw:=/soak/image_raw", "-r", "camera_info:=/soak/camera_info", "-r", "masks:=/soak/masks"]
    env = {**os.environ, "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def soak(node: str, minutes: float, fps: float, log: Path) -> dict:
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from hoi_msgs.msg import HandObjectResult, HoiFrame
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import CameraInfo, Image

    from hoi_perception.pipeline import image_codec
    from hoi_perception.pipeline import msg_convert as mc

    frames = handobject_frames() if node == "handobject" else fullbody_frames()
    if not frames:
        raise SystemExit("the real frames are missing under ../shared/data")
    proc = start_node(node, log)
    rclpy.init()
    ros = rclpy.create_node("hoi_soak")
    exe = SingleThreadedExecutor()
    exe.add_node(ros)
    pub_img = ros.create_publisher(Image, "/soak/image_raw", qos_profile_sensor_data)
    pub_info = ros.create_publisher(CameraInfo, "/soak/camera_info", qos_profile_sensor_data)
    pub_masks = ros.create_publisher(Image, "/soak/masks", qos_profile_sensor_data)
    latencies, diag = [], {}

    def on_result(msg) -> None:
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        latencies.append((time.time(), (ros.get_clock().now().nanoseconds - stamp) / 1e9))

    def on_diag(msg) -> None:
        for s in msg.status:
            if f"{node}_node" in s.name:
                diag.update({v.key: v.value for v in s.values})

    ros.create_subscription(HoiFrame if node == "fullbody" else HandObjectResult, f"/hoi/{node}", on_result, 50)
    ros.create_subscription(DiagnosticArray, "/diagnostics", on_diag, 50)
    encoded = []
    for rgb, labels in frames:  # encoded once: the benchmark must keep up with the rate itself
        h, w = rgb.shape[:2]
        f = 0.8 * w
        info = {"width": w, "height": h, "distortion_model": "plumb_bob", "d": np.zeros(5),
                "k": np.array([f, 0, w / 2, 0, f, h / 2, 0, 0, 1.0]), "r": np.eye(3).reshape(-1), "p": np.zeros(12)}
        encoded.append((image_codec.encode(rgb, "rgb8"), info, None if labels is None else image_codec.encode(labels, "mono8")))
    try:
        end = time.monotonic() + 60.0
        while pub_img.get_subscription_count() < 1 and time.monotonic() < end:
            exe.spin_once(timeout_sec=0.1)
        t0 = time.monotonic()
        memory_start = None
        i = 0
        while time.monotonic() - t0 < minutes * 60.0:
            img, info, masks = encoded[i % len(encoded)]
            header = mc.header_dict(ros.get_clock().now().nanoseconds, "camera_color_optical_frame")
            pub_info.publish(mc.to_rclpy({**info, "header": header}, CameraInfo))
            if masks is not None:
                pub_masks.publish(mc.to_rclpy({**masks, "header": header}, Image))
            pub_img.publish(mc.to_rclpy({**img, "header": header}, Image))
            i += 1
            if memory_start is None and time.monotonic() - t0 > WARM_UP_S:
                memory_start = rss_mb(proc.pid)
            next_t = t0 + i / fps
            while time.monotonic() < next_t:
                exe.spin_once(timeout_sec=max(0.0, next_t - time.monotonic()))
        elapsed = time.monotonic() - t0
        memory_end = rss_mb(proc.pid)
        end = time.monotonic() + 5.0  # the last diagnostics and results
        while time.monotonic() < end:
            exe.spin_once(timeout_sec=0.1)
    finally:
        ros.destroy_node()
        rclpy.try_shutdown()
        proc.send_signal(2)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    lat = np.array([v for _, v in latencies]) if latencies else np.full(1, np.nan)
    counts = {k: int(diag.get(k, 0)) for k in ("received", "lost", "dropped", "rejected", "results")}
    sent = i
    return {"node": node, "minutes": round(elapsed / 60.0, 2), "fps_sent": round(sent / elapsed, 2), "images_sent": sent,
            **{f"node_{k}": v for k, v in counts.items()},
            "not_received": sent - counts["received"],
            "drop_rate": round((counts["dropped"] + counts["rejected"]) / max(1, counts["received"]), 4),
            "results_received": len(latencies), "results_per_s": round(len(latencies) / elapsed, 3),
            "latency_p50_s": round(float(np.percentile(lat, 50)), 3),
            "latency_p90_s": round(float(np.percentile(lat, 90)), 3),
            "memory_mb_after_warm_up": round(memory_start or float("nan"), 1), "memory_mb_end": round(memory_end, 1),
            "load_avg_1min_end": round(os.getloadavg()[0], 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--node", choices=("handobject", "fullbody"), required=True)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--log", type=Path, default=Path("soak_node.log"), help="the node's own log")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        import rclpy  # noqa: F401
        from hoi_msgs.msg import HoiFrame  # noqa: F401
    except ImportError as exc:
        print(f"bench soak needs the ROS environment: source scripts/ros_env.sh ({exc})", file=sys.stderr)
        return 2
    r = soak(args.node, args.minutes, args.fps, args.log)
    print(f"{r['node']}_node, {r['minutes']} min of real frames at {r['fps_sent']} fps ({r['images_sent']} images, "
          f"sensor-data QoS): received {r['node_received']} ({r['not_received']} never arrived), lost upstream "
          f"{r['node_lost']}, dropped {r['node_dropped']}, rejected {r['node_rejected']}; {r['results_received']} "
          f"results ({r['results_per_s']} /s), latency from the image stamp p50 {r['latency_p50_s']} s, p90 "
          f"{r['latency_p90_s']} s; node memory {r['memory_mb_after_warm_up']} MB after {WARM_UP_S:.0f} s, "
          f"{r['memory_mb_end']} MB at the end (1-min load {r['load_avg_1min_end']})")
    if args.json:
        print(json.dumps(r))
    return 0
