"""Outputs of the runner: a rosbag2 (MCAP) with hoi_msgs results, meshes, overlays, a report."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

from hoi_perception.atomic_files import atomic_write_bytes
from hoi_perception.pipeline import image_codec
from hoi_perception.pipeline import msg_convert as mc
from hoi_perception.pipeline.types import Frame, FullBodyResult, HandObjectResult, Mesh, bodies_and_objects
from hoi_perception.raster import fill_triangles, pinhole_project


class BagSink:
    """Writes results as hoi_msgs into `<out>/bag` (rosbag2, MCAP storage, metadata v9), compact unless
    `mesh_detail` is "full" (`pipeline/mesh_detail.py`); MarkerArray meshes and the input images only when asked.

    The bag is written under a temporary folder and moved into place by `close()`, which also
    runs on Ctrl-C, so `<out>/bag` is either absent or a complete, readable bag.
    """

    def __init__(self, out_dir: Path, task: str, record_images: bool = False, record_markers: bool = False,
                 max_triangles: int = 4000, mesh_detail: str = "compact") -> None:
        from rosbags.rosbag2 import StoragePlugin, Writer

        from hoi_perception.runtime.typestore import hoi_typestore

        self.final = Path(out_dir) / "bag"
        if self.final.exists():
            raise FileExistsError(f"{self.final} exists already; choose another --out")
        self.tmpdir = Path(tempfile.mkdtemp(prefix=".bag.", dir=out_dir))
        self.ts = hoi_typestore()
        self.writer = Writer(self.tmpdir / "bag", version=9, storage_plugin=StoragePlugin.MCAP)
        self.writer.open()
        self.task, self.max_triangles, self.mesh_detail = task, max_triangles, mesh_detail
        self.result_type = mc.HOI_FRAME if task == "fullbody" else mc.HAND_OBJECT
        ns = f"/hoi/{task}"
        self.conns = {
            "result": self.writer.add_connection(ns, self.result_type, typestore=self.ts),
            "topology": self.writer.add_connection(f"{ns}/mesh_topology", mc.MESH_TOPOLOGY, typestore=self.ts),
            "transforms": self.writer.add_connection("/tf", mc.TF_MESSAGE, typestore=self.ts),
        }
        self.record_markers = record_markers
        if record_markers:  # ~0.7 MB per result: for viewers that cannot draw hoi_msgs, on request
            self.conns["markers"] = self.writer.add_connection(f"{ns}/markers", mc.MARKER_ARRAY, typestore=self.ts)
        if record_images:
            self.conns["image"] = self.writer.add_connection("/camera/image_raw", "sensor_msgs/msg/Image",
                                                             typestore=self.ts)
            self.conns["info"] = self.writer.add_connection("/camera/camera_info", "sensor_msgs/msg/CameraInfo",
                                                            typestore=self.ts)
        self.topologies: dict[str, np.ndarray] = {}
        self.count = 0
        self.closed = False

    def _write(self, key: str, typename: str, d: dict, stamp_ns: int) -> None:
        msg = mc.to_rosbags(d, typename, self.ts)
        self.writer.write(self.conns[key], stamp_ns, self.ts.serialize_cdr(msg, typename))

    def write(self, result: FullBodyResult | HandObjectResult, frame: Frame) -> None:
        stamp = result.stamp_ns
        if "image" in self.conns:
            k = frame.intrinsics
            img = {"header": mc.header_dict(frame.stamp_ns, frame.frame_id), **image_codec.encode(frame.image, "rgb8")}
            self._write("image", "sensor_msgs/msg/Image", img, frame.stamp_ns)
            info = {"header": mc.header_dict(frame.stamp_ns, frame.frame_id), "height": k.height, "width": k.width,
                    "distortion_model": "plumb_bob", "d": np.zeros(5), "k": k.matrix.reshape(-1),
                    "r": np.eye(3).reshape(-1),
                    "p": np.hstack([k.matrix, np.zeros((3, 1))]).reshape(-1)}
            self._write("info", "sensor_msgs/msg/CameraInfo", info, frame.stamp_ns)
        for channel, typename, d in mc.result_messages(result, self.topologies, markers=self.record_markers,
                                                       max_triangles=self.max_triangles, mesh_detail=self.mesh_detail):
            self._write(channel, typename, d, stamp)
        self.count += 1
        self._commit()

    def _commit(self) -> None:
        """Put the result on disk now: rosbags' MCAP storage collects ~1 MB chunks in memory, which a
        killed run would lose (`hoi-perception recover` reads only what reached the file)."""
        storage = getattr(self.writer, "storage", None)
        chunk = getattr(storage, "chunk", None)
        if chunk is not None and chunk.msgs and hasattr(storage, "close_chunk"):
            storage.close_chunk()
            storage.bio.flush()

    def close(self) -> Path:
        if self.closed:
            return self.final
        self.closed = True
        self.writer.close()
        os.replace(self.tmpdir / "bag", self.final)
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        return self.final


def export_mesh(mesh: Mesh, path: Path, contact: np.ndarray | None = None) -> Path:
    """PLY or GLB (by suffix), vertex colours from contacts; written atomically."""
    import trimesh

    colors = (mc.contact_colors(contact, len(mesh.vertices)) * 255).astype(np.uint8)
    tm = trimesh.Trimesh(vertices=mesh.vertices, faces=mesh.faces, vertex_colors=colors, process=False)
    data = tm.export(file_type=path.suffix.lstrip(".").lower())
    atomic_write_bytes(path, data if isinstance(data, bytes) else data.encode())
    return path


def _project(points: np.ndarray, frame: Frame) -> np.ndarray:
    return pinhole_project(points, frame.intrinsics.matrix)


def _draw_mesh(img: np.ndarray, frame: Frame, cam: np.ndarray, faces: np.ndarray, color) -> None:
    """Blend a camera-frame mesh's silhouette into the image, with its outline."""
    uv = _project(cam, frame)
    tris = np.asarray(faces, np.int64)
    ok = np.all(np.isfinite(uv[tris]).reshape(len(tris), -1), axis=1)
    if not ok.any():
        return
    sel = fill_triangles(uv[tris[ok]], img.shape[:2])
    mask = sel.astype(np.uint8) * 255
    img[sel] = (0.5 * img[sel] + 0.5 * np.array(color)).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(img, contours, -1, color, 1, cv2.LINE_AA)


def _draw_contacts(img: np.ndarray, frame: Frame, cam: np.ndarray, contact) -> None:
    c = np.asarray(contact if contact is not None else [], np.float64)
    if len(c) != len(cam):
        return
    for u, v in _project(cam[c > 0.5], frame):
        if np.isfinite(u) and np.isfinite(v):
            cv2.circle(img, (int(u), int(v)), 2, (40, 40, 230), -1, cv2.LINE_AA)


def overlay(frame: Frame, result: FullBodyResult | HandObjectResult,
            topologies: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """BGR image: body meshes (blue, when their topology is known), object meshes (orange), contact
    vertices (red), joints (blue), hand joints (green), object axes."""
    img = cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR)
    bodies, objects = bodies_and_objects(result)
    topologies = topologies or {}
    for b in bodies:
        faces = topologies.get(b.model_id)
        if faces is not None and len(b.vertices):
            _draw_mesh(img, frame, np.asarray(b.vertices, np.float64), faces, (230, 120, 40))
    for o in objects:
        if o.mesh is not None and len(o.mesh.faces):
            cam = np.asarray(o.mesh.vertices, np.float64) * o.scale @ o.pose.rotation_matrix().T + np.asarray(o.pose.position)
            _draw_mesh(img, frame, cam, o.mesh.faces, (0, 140, 255))
            _draw_contacts(img, frame, cam, o.vertex_contact)
    for b in bodies:
        if b.model_id in topologies and len(b.vertices):
            _draw_contacts(img, frame, np.asarray(b.vertices, np.float64), b.vertex_contact)
    for b in bodies:
        color = (255, 150, 30) if b.part == 0 else (60, 220, 60)
        for u, v in _project(b.joints, frame):
            if np.isfinite(u) and np.isfinite(v):
                cv2.circle(img, (int(u), int(v)), 3, color, -1, cv2.LINE_AA)
    for o in objects:
        rot = o.pose.rotation_matrix()
        axes = o.pose.position + 0.1 * rot.T  # rows: tips of x, y, z axes
        pts = _project(np.vstack([o.pose.position, axes]), frame)
        if np.all(np.isfinite(pts)):
            origin = tuple(int(x) for x in pts[0])
            for tip, color in zip(pts[1:], ((0, 0, 255), (0, 255, 0), (255, 0, 0))):
                cv2.line(img, origin, tuple(int(x) for x in tip), color, 2, cv2.LINE_AA)
    return img


def write_overlay(path: Path, frame: Frame, result, topologies: dict[str, np.ndarray] | None = None) -> None:
    ok, buf = cv2.imencode(path.suffix, overlay(frame, result, topologies))
    if ok:
        atomic_write_bytes(path, buf.tobytes())


def write_report(path: Path, report: dict) -> None:
    atomic_write_bytes(path, (json.dumps(report, indent=2, sort_keys=True) + "\n").encode())
