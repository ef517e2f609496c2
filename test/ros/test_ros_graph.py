"""A real ROS 2 graph: installed node executables as separate processes, started the way the launch
file starts them, with the shipped, trained models on real camera frames (a BEHAVE frame with its
person and object masks, frames of a phone video); what reaches each topic is checked against the
same reconstructor run in this process on the same frame."""
from __future__ import annotations

import ast
import json
import signal
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from ros_support import INSTALL, LIB, REPO, requires_ros

pytestmark = requires_ros
CAMERA_FRAME = "camera_color_optical_frame"


def launch_tables() -> dict:
    """The literal tables of launch/pipeline.launch.py (launch itself is not installable here)."""
    tree = ast.parse((REPO / "launch" / "pipeline.launch.py").read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


def installed_config() -> Path:
    return INSTALL / "hoi_perception" / "share" / "hoi_perception" / "config" / launch_tables()["CONFIG_FILE"]


def start(executable: str, env: dict, domain: int, log: Path, params: dict | None = None, remap: bool = False):
    """Start a node the way the launch file does: same executable, parameter file and remappings."""
    t = launch_tables()
    args = [str(LIB / executable), "--ros-args", "--params-file", str(installed_config())]
    for k, v in (params or {}).items():
        args += ["-p", f"{k}:={v}"]
    if remap:
        defaults = {k: v[0] for k, v in t["ARGUMENTS"].items()}
        for src, arg in t["REMAPS"].items():
            args += ["-r", f"{src}:={defaults[arg]}"]
    env = {**env, "ROS_DOMAIN_ID": str(domain), "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
           "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=str(log.parent))


def stop_nodes(procs: dict) -> dict:
    """Ctrl-C every node, then wait for (or kill) each before judging any; name -> exit code."""
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    codes = {}
    for name, p in procs.items():
        try:
            codes[name] = p.wait(timeout=40)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            codes[name] = "killed"
    return codes


def video_frames(n: int, shrink: int = 2) -> list[np.ndarray]:
    from hoi_perception.paths import shared_data_dir

    path = shared_data_dir() / "video" / "hand_object_wild" / "wild1.mp4"
    if not path.is_file():
        pytest.skip(f"shared test video {path} is missing")
    cap = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < n:
        ok, bgr = cap.read()
        assert ok, "could not decode wild1.mp4"
        # a reduced resolution keeps each message small on loopback; still real camera pixels
        small = cv2.resize(bgr, (bgr.shape[1] // shrink, bgr.shape[0] // shrink), interpolation=cv2.INTER_AREA)
        frames.append(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


def default_k(width: int, height: int) -> list[float]:
    """The calibration the harness sends unless told otherwise."""
    f = 0.8 * max(width, 1)
    return [f, 0, width / 2, 0, f, height / 2, 0, 0, 1]


def behave_frame():
    """A real BEHAVE frame and its instance-mask labels (1 person, 2 object: the object has the highest
    label), as an upstream segmenter gives them."""
    from hoi_perception.paths import shared_data_dir

    root = shared_data_dir() / "images" / "hoi_noncommercial" / "behave_frames_contho"
    if not (root / "img" / "050507.jpg").is_file():
        pytest.skip(f"shared BEHAVE frames missing under {root}")
    rgb = cv2.cvtColor(cv2.imread(str(root / "img" / "050507.jpg")), cv2.COLOR_BGR2RGB)
    labels = np.zeros(rgb.shape[:2], np.uint8)
    labels[cv2.imread(str(root / "mask_h" / "050507.jpg"), cv2.IMREAD_GRAYSCALE) > 127] = 1
    labels[cv2.imread(str(root / "mask_o" / "050507.jpg"), cv2.IMREAD_GRAYSCALE) > 127] = 2
    # An eighth of the Kinect resolution (256x192, 147 KB) keeps messages small on loopback: with
    # best-effort QoS a large message is lost whole when one of its fragments is (the model works on a
    # 96-pixel crop anyway).
    size = (rgb.shape[1] // 8, rgb.shape[0] // 8)
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST)


def fullbody_expected(rgb, labels, stamp_ns: int):
    """The shipped full-body model's result in this process on the frame the harness sends."""
    from hoi_perception.pipeline.stages import load_reconstructor
    from hoi_perception.pipeline.types import CameraIntrinsics, Frame

    hgt, wid = rgb.shape[:2]
    frame = Frame(image=rgb, stamp_ns=stamp_ns, frame_id=CAMERA_FRAME,
                  intrinsics=CameraIntrinsics.from_k(default_k(wid, hgt), wid, hgt),
                  masks=np.stack([labels == 1, labels == 2]))
    return load_reconstructor("fullbody", "fullbody").reconstruct(frame)


def installed_model(name: str) -> str:
    if not (INSTALL / "hoi_perception" / "share" / "hoi_perception" / "models" / name / "model_card.yaml").is_file():
        pytest.fail(f"models/{name} is not installed: rebuild with scripts/build_ros.sh")
    return name


class Harness:
    def __init__(self, ctx, reliable: bool = False):
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from geometry_msgs.msg import TransformStamped
        from hoi_msgs.msg import HandObjectResult, HoiFrame, MeshTopology, MotionClip
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
        from sensor_msgs.msg import CameraInfo, Image
        from std_msgs.msg import String
        from visualization_msgs.msg import MarkerArray

        self.node = rclpy.create_node("hoi_test_harness", context=ctx)
        self.exe = SingleThreadedExecutor(context=ctx)
        self.exe.add_node(self.node)
        t = launch_tables()
        defaults = {k: v[0] for k, v in t["ARGUMENTS"].items()}
        qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE) if reliable else qos_profile_sensor_data
        self.pub_img = self.node.create_publisher(Image, defaults["image_topic"], qos)
        self.pub_info = self.node.create_publisher(CameraInfo, defaults["camera_info_topic"], qos)
        self.pub_masks = self.node.create_publisher(Image, defaults["masks_topic"], qos)
        latched = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.got = {k: [] for k in ("fullbody", "handobject", "topology", "transform", "markers", "diag", "clip", "status")}
        sub = self.node.create_subscription
        sub(HoiFrame, "/hoi/fullbody", self.got["fullbody"].append, 50)
        sub(HandObjectResult, "/hoi/handobject", self.got["handobject"].append, 50)
        sub(MeshTopology, "/hoi/fullbody/mesh_topology", self.got["topology"].append, latched)
        sub(TransformStamped, "/hoi/fullbody/object_transform", self.got["transform"].append, 50)
        sub(MarkerArray, "/hoi/fullbody/markers", self.got["markers"].append, 50)
        sub(DiagnosticArray, "/diagnostics", self.got["diag"].append, 50)
        sub(MotionClip, "/hoi/motion_clip", self.got["clip"].append, latched)
        sub(String, "/hoi/imitation_bridge/status", self.got["status"].append, 10)
        self.Image, self.CameraInfo = Image, CameraInfo

    def spin_until(self, cond, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return True
            self.exe.spin_once(timeout_sec=0.05)
        return cond()

    def spin_for(self, seconds: float) -> None:
        self.spin_until(lambda: False, seconds)

    def send(self, rgb, stamp_ns: int, encoding="rgb8", info_size=None, k=None, frame_id=CAMERA_FRAME, labels=None):
        """CameraInfo, then the instance-mask labels (when given), then the image, all of one stamp."""
        from hoi_perception.pipeline import image_codec, msg_convert as mc

        h, w = rgb.shape[:2] if rgb is not None else (0, 0)
        iw, ih = info_size or (w, h)
        info = {"header": mc.header_dict(stamp_ns, frame_id), "width": iw, "height": ih, "distortion_model": "plumb_bob",
                "d": np.zeros(5), "k": np.array(k if k is not None else default_k(iw, ih), float),
                "r": np.eye(3).reshape(-1), "p": np.zeros(12)}
        self.pub_info.publish(mc.to_rclpy(info, self.CameraInfo))
        if labels is not None:
            m = image_codec.encode(labels, "mono8")
            m["header"] = mc.header_dict(stamp_ns, frame_id)
            self.pub_masks.publish(mc.to_rclpy(m, self.Image))
        self.spin_for(0.05)
        if rgb is None:
            img = {"height": 0, "width": 0, "encoding": "rgb8", "is_bigendian": 0, "step": 0, "data": np.zeros(0, np.uint8)}
        elif encoding == "rgb8":
            img = image_codec.encode(rgb, "rgb8", pad_to=64)  # padded rows, as some drivers send
        else:
            img = {**image_codec.encode(rgb, "rgb8"), "encoding": encoding}
        img["header"] = mc.header_dict(stamp_ns, frame_id)
        self.pub_img.publish(mc.to_rclpy(img, self.Image))


def test_node_without_model_refuses_to_start(ros_env, domain_id, tmp_path):
    for exe in ("fullbody_node", "handobject_node"):
        p = start(exe, ros_env, domain_id, tmp_path / f"{exe}.log", {"model": '""'})
        assert p.wait(timeout=30) == 1
        log = (tmp_path / f"{exe}.log").read_text()
        assert "refusing to start" in log and "no model configured" in log
    # a model of the wrong task is refused too
    p = start("handobject_node", ros_env, domain_id, tmp_path / "wrong.log", {"model": installed_model("fullbody")})
    assert p.wait(timeout=30) == 1
    assert "is a fullbody model" in (tmp_path / "wrong.log").read_text()
    # a backend / device the model cannot run on is refused with the reason, not run on another one
    p = start("fullbody_node", ros_env, domain_id, tmp_path / "device.log", {"device": "cuda"})
    assert p.wait(timeout=30) == 1
    assert "no CUDA provider" in (tmp_path / "device.log").read_text()
    # so is a mesh_detail it does not know
    p = start("handobject_node", ros_env, domain_id, tmp_path / "detail.log", {"mesh_detail": "mesh"})
    assert p.wait(timeout=30) == 1
    assert "mesh_detail must be one of compact, full, got 'mesh'" in (tmp_path / "detail.log").read_text()


def test_graph_end_to_end(ros_env, domain_id, rclpy_context, tmp_path):
    """The full-body node (default parameters but masks on: the shipped model), the motion recorder and the
    imitation bridge: bad input reported and survived, compact results equal to the in-process
    reconstructor's on the network's vertex subset, mesh topology and the subset's indices once, object
    frames, full-mesh markers, diagnostics, clips on disk, the bridge's status."""
    from hoi_perception.assets import body_model
    from hoi_perception.pipeline.clip_recorder import read_clip

    installed_model("fullbody")
    clips_dir = tmp_path / "clips"
    procs = {
        "fullbody_node": start("fullbody_node", ros_env, domain_id, tmp_path / "fullbody.log",
                               {"diagnostics_period_s": 0.5, "use_masks": True}, remap=True),
        "motion_recorder_node": start("motion_recorder_node", ros_env, domain_id, tmp_path / "recorder.log",
                                      {"output_dir": str(clips_dir), "min_frames": 1, "max_gap_s": 2.0}),
        "imitation_bridge_node": start("imitation_bridge_node", ros_env, domain_id, tmp_path / "bridge.log"),
    }
    h = Harness(rclpy_context)
    rgb, labels = behave_frame()
    try:
        assert h.spin_until(lambda: h.pub_img.get_subscription_count() >= 1 and h.pub_info.get_subscription_count() >= 1
                            and h.pub_masks.get_subscription_count() >= 1, 60), \
            "node did not subscribe: " + (tmp_path / "fullbody.log").read_text()[-2000:]
        h.spin_for(1.0)  # let the result/clip subscriptions match too
        # --- bad input: each is logged and skipped, the nodes keep running.
        # Sensor-data QoS is best effort: a message sent before the node's reader has matched this
        # publisher (discovery is slow on a loaded machine) is lost, so resend until the node has
        # logged it.
        log_path = tmp_path / "fullbody.log"
        bad = [("unsupported image encoding 'yuv422'", dict(rgb=rgb, encoding="yuv422", labels=labels)),
               ("image is empty", dict(rgb=None)),
               ("CameraInfo is for", dict(rgb=rgb, info_size=(rgb.shape[1] + 10, rgb.shape[0]), labels=labels)),
               ("NaN", dict(rgb=rgb, k=[float("nan")] * 9, labels=labels)),
               ("too small to show a person", dict(rgb=np.full((2, 2, 3), 90, np.uint8),
                                                   labels=np.array([[1, 1], [2, 2]], np.uint8))),
               ("blank", dict(rgb=np.full_like(rgb, 128), labels=labels))]
        for i, (needle, kwargs) in enumerate(bad):
            deadline = time.monotonic() + 30.0
            while time.monotonic() < deadline:
                h.send(stamp_ns=1 + i, **kwargs)
                if h.spin_until(lambda: needle in log_path.read_text(), 1.0):
                    break
            assert needle in log_path.read_text(), f"bad input not reported: {needle}"
        assert not h.got["fullbody"], "a bad frame produced a result"
        # a period in which every frame was rejected is an ERROR on /diagnostics, not OK
        assert h.spin_until(lambda: any(s.level in (2, b"\x02") for d in h.got["diag"] for s in d.status
                                        if "fullbody_node" in s.name), 5.0), "no ERROR while every frame was rejected"
        # --- the real frame at 4 stamps, 1/30 s apart. Each is sent when the previous result is in
        # (resent if best-effort delivery lost it), so a loaded machine drops none of them.
        stamps = [1_000_000_000 + i * 33_333_333 for i in range(4)]

        def have(stamp):
            return any(m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec == stamp for m in h.got["fullbody"])

        for st in stamps:
            for _ in range(6):
                h.send(rgb, st, labels=labels)
                if h.spin_until(lambda: have(st), 8.0):
                    break
        assert sum(have(st) for st in stamps) >= len(stamps) - 1, log_path.read_text()[-3000:]
        # --- masks stop: later images are not fitted to the last masks (stale inputs are refused); their
        # object masks are made by the object segmenter, and their results say so
        stale = [stamps[-1] + (10 + i) * 33_333_333 for i in range(3)]
        for st in stale:
            h.send(rgb, st)
            h.spin_for(1.0)
        assert h.spin_until(lambda: "masks not used" in log_path.read_text(), 5.0), log_path.read_text()[-2000:]
        deadline, seen = time.monotonic() + 60.0, -1
        while seen != len(h.got["fullbody"]) and time.monotonic() < deadline:  # until the node is idle
            seen = len(h.got["fullbody"])
            h.spin_for(6.0)
        late = [m for m in h.got["fullbody"] if m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec in stale]
        assert late and all(m.objects[0].mask_source == "segmenter" for m in late), \
            "an image without masks of its own got no result of its own: " + log_path.read_text()[-2000:]
        given = [m for m in h.got["fullbody"] if m not in late]
        assert all(m.objects[0].mask_source == "given" for m in given)
        assert h.spin_until(lambda: h.got["clip"] and h.got["status"], 20), \
            (tmp_path / "recorder.log").read_text()[-2000:]
        h.spin_for(0.6)

        # every result is what the same model gives in this process on the same frame: compact by default,
        # the full mesh's vertices and contacts at the subset indices the topology gives once
        exp = fullbody_expected(rgb, labels, stamps[0])
        topo = h.got["topology"]
        assert len(topo) == 1 and topo[0].vertex_subset == "anny_body/subset431"
        idx = np.asarray(topo[0].vertex_subset_indices)
        for msg in given:
            st = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
            assert st in stamps and msg.header.frame_id == CAMERA_FRAME and msg.reconstructor == "fullbody"
            assert msg.mesh_detail == msg.MESH_DETAIL_COMPACT
            body, eb = msg.bodies[0], exp.bodies[0]
            np.testing.assert_allclose(np.asarray(body.joints).reshape(-1, 3), eb.joints, atol=1e-4)
            assert body.vertex_subset == topo[0].vertex_subset and len(idx) == 431
            np.testing.assert_allclose(np.asarray(body.vertices).reshape(-1, 3), eb.vertices[idx], atol=1e-4)
            np.testing.assert_allclose(body.vertex_contact, eb.vertex_contact[idx], atol=1e-4)
            np.testing.assert_allclose(body.pose_params, eb.pose_params, atol=1e-4)
            assert body.model_id == eb.model_id == "anny_body" and body.joint_set == eb.joint_set
            obj, eo = msg.objects[0], exp.objects[0]
            assert obj.template_id == eo.template_id and obj.class_name == eo.class_name
            np.testing.assert_allclose([obj.pose.position.x, obj.pose.position.y, obj.pose.position.z],
                                       eo.pose.position, atol=1e-4)
            np.testing.assert_allclose([obj.pose.orientation.x, obj.pose.orientation.y, obj.pose.orientation.z,
                                        obj.pose.orientation.w], eo.pose.orientation, atol=1e-4)
        # faces once, on the latched topology topic
        assert topo[0].model_id == "anny_body" and topo[0].num_vertices == len(eb.vertices)
        np.testing.assert_array_equal(np.asarray(topo[0].faces).reshape(-1, 3), body_model().faces.numpy())
        # object frame: child of the camera optical frame
        tf = h.got["transform"][-1]
        assert tf.header.frame_id == CAMERA_FRAME and tf.child_frame_id == f"hoi_object_{eo.instance_id}"
        types = {m.type for m in h.got["markers"][-1].markers}
        assert {11, 7, 5} <= types  # body mesh triangles, joints, object axes
        # drop statistics on /diagnostics
        stats = [s for d in h.got["diag"] for s in d.status if "fullbody_node" in s.name]
        assert stats, "no diagnostics from fullbody_node"
        values = {v.key: v.value for v in stats[-1].values}
        assert int(values["received"]) >= len(h.got["fullbody"]) + 4 and "drop_rate" in values
        assert int(values["rejected"]) >= 4 and int(values["results"]) >= len(h.got["fullbody"])
        # the recorder closed a clip after the gap; the file is complete and matches the message
        # (a slow machine may split the stream into several clips at gaps; no frame is lost)
        h.spin_until(lambda: sum(len(c.frames) for c in h.got["clip"]) >= len(h.got["fullbody"]), 10)
        assert sum(len(c.frames) for c in h.got["clip"]) == len(h.got["fullbody"])
        clip = h.got["clip"][-1]
        assert clip.fps > 0
        on_disk = read_clip(clip.file_path)
        assert len(on_disk.frames) == len(clip.frames)
        np.testing.assert_allclose(on_disk.frames[0].body.joints, np.asarray(clip.frames[0].body.joints).reshape(-1, 3))
        assert on_disk.frames[0].body.vertex_subset == clip.frames[0].body.vertex_subset == topo[0].vertex_subset
        # the bridge reports on every clip it is handed, the last one included
        assert h.spin_until(lambda: any(json.loads(m.data)["clip_id"] == clip.clip_id for m in h.got["status"]), 15)
        status = next(json.loads(m.data) for m in reversed(h.got["status"]) if json.loads(m.data)["clip_id"] == clip.clip_id)
        assert status["state"] in ("loaded", "no_imitation", "load_failed")
        # every bad input was reported, and every node is still alive
        log = log_path.read_text()
        for needle, _ in bad:
            assert needle in log, f"missing log line for {needle!r}:\n{log[-3000:]}"
        for name, p in procs.items():
            assert p.poll() is None, f"{name} exited: " + (tmp_path / f"{name.split('_')[0]}.log").read_text()[-2000:]
    finally:
        h.node.destroy_node()
        codes = stop_nodes(procs)
        assert all(rc == 0 for rc in codes.values()), f"nodes did not shut down cleanly: {codes}"


def test_reliable_qos_parameter(ros_env, domain_id, rclpy_context, tmp_path):
    """With qos_reliability:=reliable the node takes a reliable camera driver's images (a best-effort
    subscription would too, but a reliable one refuses best-effort publishers: the parameter matters).
    With mesh_detail:=full the result carries the in-process reconstructor's full mesh."""
    installed_model("fullbody")
    proc = start("fullbody_node", ros_env, domain_id, tmp_path / "fullbody.log",
                 {"qos_reliability": "reliable", "qos_depth": 10, "mesh_detail": "full", "use_masks": True},
                 remap=True)
    h = Harness(rclpy_context, reliable=True)
    rgb, labels = behave_frame()
    try:
        assert h.spin_until(lambda: h.pub_img.get_subscription_count() >= 1
                            and h.pub_masks.get_subscription_count() >= 1, 60), \
            (tmp_path / "fullbody.log").read_text()[-2000:]
        h.spin_for(1.0)
        h.send(rgb, 5_000_000_000, labels=labels)  # reliable: sent once, delivered
        assert h.spin_until(lambda: len(h.got["fullbody"]) == 1, 30), (tmp_path / "fullbody.log").read_text()[-3000:]
        assert proc.poll() is None
        msg, eb = h.got["fullbody"][0], fullbody_expected(rgb, labels, 5_000_000_000).bodies[0]
        assert msg.mesh_detail == msg.MESH_DETAIL_FULL and msg.bodies[0].vertex_subset == ""
        np.testing.assert_allclose(np.asarray(msg.bodies[0].vertices).reshape(-1, 3), eb.vertices, atol=1e-4)
        np.testing.assert_allclose(msg.bodies[0].vertex_contact, eb.vertex_contact, atol=1e-4)
    finally:
        h.node.destroy_node()
        codes = stop_nodes({"fullbody_node": proc})
        assert codes == {"fullbody_node": 0}, f"fullbody_node did not shut down cleanly: {codes}"


def test_handobject_keyframes_are_the_newest_frames(ros_env, domain_id, rclpy_context, tmp_path):
    """Frames sent faster than the model runs: the result of the newest frame is built from the newest
    frames (those inference had no time for enter the keyframes), not from the ones that happened to
    be processed; latency from the image stamp is on /diagnostics. Reliable QoS, so none is lost."""
    proc = start("handobject_node", ros_env, domain_id, tmp_path / "handobject.log",
                 {"model": installed_model("handobject"), "qos_reliability": "reliable", "qos_depth": 20,
                  "diagnostics_period_s": 0.5, "keyframe_window_s": 1.0}, remap=True)
    h = Harness(rclpy_context, reliable=True)
    try:
        assert h.spin_until(lambda: h.pub_img.get_subscription_count() >= 1, 60), \
            (tmp_path / "handobject.log").read_text()[-2000:]
        h.spin_for(1.0)
        frames = video_frames(6, shrink=4)
        now = h.node.get_clock().now().nanoseconds  # camera stamps on the node's clock, as a driver's are
        stamps = [now + i * 33_333_333 for i in range(len(frames))]
        for rgb, st in zip(frames, stamps):  # back to back: ~20 fps, faster than the model answers
            h.send(rgb, st)

        def newest():
            return [m for m in h.got["handobject"]
                    if m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec == stamps[-1]]

        assert h.spin_until(lambda: newest(), 30), (tmp_path / "handobject.log").read_text()[-3000:]
        ks = [t.sec * 1_000_000_000 + t.nanosec for t in newest()[0].keyframe_stamps]
        assert ks == stamps[-len(ks):] and len(ks) == 4, (ks, stamps)  # the card's 4 keyframes, the newest
        # compact by default: no object mesh, each hand on its model's 128-vertex subset
        for msg in h.got["handobject"]:
            assert msg.mesh_detail == msg.MESH_DETAIL_COMPACT and len(msg.object.mesh.vertices) == 0
            assert all(hand.vertex_subset == f"{hand.model_id}/subset128" and len(hand.vertices) == 3 * 128
                       for hand in msg.hands)
        h.spin_for(1.0)
        stats = [s for d in h.got["diag"] for s in d.status if "handobject_node" in s.name]
        values = {v.key: v.value for v in stats[-1].values}
        assert 0.0 < float(values["latency_p50_s"]) < 30.0 and "results_per_s" in values
        assert int(values["dropped"]) >= 1  # frames it had no time to reconstruct
    finally:
        h.node.destroy_node()
        codes = stop_nodes({"handobject_node": proc})
        assert codes == {"handobject_node": 0}, f"handobject_node did not shut down cleanly: {codes}"


def test_handobject_node_with_the_shipped_model(ros_env, domain_id, rclpy_context, tmp_path):
    """Frames of a real phone video: after the first frame fills the keyframe buffer, one hand-object
    result per frame, with (mesh_detail:=full) a hand-held-sized object mesh in front of the camera."""
    proc = start("handobject_node", ros_env, domain_id, tmp_path / "handobject.log",
                 {"model": installed_model("handobject"), "mesh_detail": "full"}, remap=True)
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
            assert msg.reconstructor == "handobject" and msg.header.frame_id == CAMERA_FRAME
            assert msg.mesh_detail == msg.MESH_DETAIL_FULL
            mesh = msg.object.mesh
            v = np.asarray(mesh.vertices, np.float64).reshape(-1, 3)
            f = np.asarray(mesh.faces, np.int64).reshape(-1, 3)
            assert len(v) >= 4 and len(f) >= 4 and f.max() < len(v)
            assert np.isfinite(v).all() and 0.01 < np.ptp(v, axis=0).max() < 1.0  # a hand-held object, metres
            ks = [t.sec * 1_000_000_000 + t.nanosec for t in msg.keyframe_stamps]
            assert set(ks) <= set(stamps) and len(msg.keyframe_object_poses) == len(ks) >= 2
            p = msg.object.pose.position
            assert np.isfinite([p.x, p.y, p.z]).all() and p.z > 0  # in front of the camera
        assert proc.poll() is None
    finally:
        h.node.destroy_node()
        codes = stop_nodes({"handobject_node": proc})
        assert codes == {"handobject_node": 0}, f"handobject_node did not shut down cleanly: {codes}"


def test_launch_file_names_only_what_exists(ros_env):
    t = launch_tables()
    for exe in t["NODES"]:
        assert (LIB / exe).is_file(), f"launch names missing executable {exe}"
    cfg = installed_config()
    assert cfg.is_file()
    assert (INSTALL / "hoi_perception" / "share" / "hoi_perception" / "launch" / "pipeline.launch.py").is_file()
    import yaml

    conf = yaml.safe_load(cfg.read_text())
    for exe, (enable_arg, model_arg) in t["NODES"].items():
        assert exe in conf, f"{exe} has no section in {cfg.name}"
        assert enable_arg in t["ARGUMENTS"]
        if model_arg:
            assert model_arg in t["ARGUMENTS"] and "model" in conf[exe]["ros__parameters"]
            default = conf[exe]["ros__parameters"]["model"]
            # the defaults are the shipped, trained models, installed with the package
            assert (INSTALL / "hoi_perception" / "share" / "hoi_perception" / "models" / default
                    / "model_card.yaml").is_file(), f"{exe}'s default model {default!r} is not installed"
    assert set(t["REMAPS"].values()) <= set(t["ARGUMENTS"])
    try:  # the repo's launch/ folder is a namespace package: ask for the real API
        from launch import LaunchDescription  # noqa: F401
        from launch_ros.actions import Node  # noqa: F401
    except ImportError:
        return  # ros2 launch is not installable here; the graph test starts the same nodes directly
    import importlib.util

    spec = importlib.util.spec_from_file_location("pipeline_launch", REPO / "launch" / "pipeline.launch.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.generate_launch_description().entities
