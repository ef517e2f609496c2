"""Results <-> message dicts, and dicts <-> rclpy / rosbags message objects.

A message dict is a nested dict keyed by the .msg field names, with numpy arrays for numeric
arrays and {"sec", "nanosec"} for times. The same dicts build rclpy messages (nodes) and rosbags
messages (runner, bags), and messages of either library turn back into dicts with `msg_to_dict`,
so results are converted in exactly one place. Missing fields take the message defaults.
"""
from __future__ import annotations

import array
import dataclasses
import importlib

import numpy as np

from hoi_perception.pipeline import mesh_detail as md
from hoi_perception.pipeline.types import (
    BodyState,
    FullBodyResult,
    HandObjectResult,
    Mesh,
    MotionClip,
    ObjectState,
    Pose,
    bodies_and_objects,
)

HOI_FRAME = "hoi_msgs/msg/HoiFrame"
HAND_OBJECT = "hoi_msgs/msg/HandObjectResult"
MOTION_CLIP = "hoi_msgs/msg/MotionClip"
MESH_TOPOLOGY = "hoi_msgs/msg/MeshTopology"
MARKER_ARRAY = "visualization_msgs/msg/MarkerArray"
TRANSFORM_STAMPED = "geometry_msgs/msg/TransformStamped"
TF_MESSAGE = "tf2_msgs/msg/TFMessage"

# ------------------------------------------------------------------------------- primitives


def time_dict(ns: int) -> dict:
    ns = int(ns)
    return {"sec": ns // 1_000_000_000, "nanosec": ns % 1_000_000_000}


def time_ns(d: dict) -> int:
    return int(d.get("sec", 0)) * 1_000_000_000 + int(d.get("nanosec", 0))


def header_dict(stamp_ns: int, frame_id: str) -> dict:
    return {"stamp": time_dict(stamp_ns), "frame_id": str(frame_id)}


def pose_dict(p: Pose) -> dict:
    x, y, z = (float(v) for v in p.position)
    qx, qy, qz, qw = (float(v) for v in p.orientation)
    return {"position": {"x": x, "y": y, "z": z}, "orientation": {"x": qx, "y": qy, "z": qz, "w": qw}}


def pose_from_dict(d: dict) -> Pose:
    p, o = d.get("position", {}), d.get("orientation", {})
    return Pose([p.get("x", 0.0), p.get("y", 0.0), p.get("z", 0.0)],
                [o.get("x", 0.0), o.get("y", 0.0), o.get("z", 0.0), o.get("w", 1.0)])


def _f32(a) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32).reshape(-1))


# ------------------------------------------------------------------------------- results -> dicts


def mesh_dict(mesh: Mesh | None) -> dict:
    if mesh is None:
        return {"mesh_id": "", "vertices": np.zeros(0, np.float32), "faces": np.zeros(0, np.uint32)}
    return {"mesh_id": mesh.mesh_id, "vertices": _f32(mesh.vertices),
            "faces": np.ascontiguousarray(mesh.faces.reshape(-1), dtype=np.uint32)}


def body_dict(b: BodyState) -> dict:
    return {"part": int(b.part), "track_id": int(b.track_id), "model_id": b.model_id,
            "shape_params": _f32(b.shape_params), "pose_params": _f32(b.pose_params),
            "pose_layout": b.pose_layout, "root_pose": pose_dict(b.root_pose), "joint_set": b.joint_set,
            "joints": _f32(b.joints), "joint_confidence": _f32(b.joint_confidence),
            "vertices": _f32(b.vertices), "vertex_contact": _f32(b.vertex_contact),
            "vertex_subset": b.vertex_subset, "confidence": float(b.confidence)}


def object_dict(o: ObjectState) -> dict:
    sx, sy, sz = (float(v) for v in o.scale)
    return {"class_name": o.class_name, "instance_id": int(o.instance_id), "template_id": o.template_id,
            "pose": pose_dict(o.pose), "scale": {"x": sx, "y": sy, "z": sz}, "mesh": mesh_dict(o.mesh),
            "vertex_contact": _f32(o.vertex_contact), "confidence": float(o.confidence),
            "mask_source": o.mask_source}


def fullbody_to_dict(r: FullBodyResult) -> dict:
    return {"header": header_dict(r.stamp_ns, r.frame_id), "frame_index": int(r.frame_index),
            "reconstructor": r.reconstructor, "mesh_detail": md.MESSAGE_VALUE[r.mesh_detail],
            "bodies": [body_dict(b) for b in r.bodies],
            "objects": [object_dict(o) for o in r.objects], "confidence": float(r.confidence)}


def handobject_to_dict(r: HandObjectResult) -> dict:
    return {"header": header_dict(r.stamp_ns, r.frame_id), "frame_index": int(r.frame_index),
            "reconstructor": r.reconstructor, "mesh_detail": md.MESSAGE_VALUE[r.mesh_detail],
            "object": object_dict(r.object),
            "keyframe_stamps": [time_dict(t) for t in r.keyframe_stamps_ns],
            "keyframe_object_poses": [pose_dict(p) for p in r.keyframe_object_poses],
            "hands": [body_dict(h) for h in r.hands], "confidence": float(r.confidence)}


def topology_to_dict(model_id: str, faces: np.ndarray, num_vertices: int, stamp_ns: int, frame_id: str,
                     subset: md.SubsetRef | None = None) -> dict:
    """MeshTopology: the faces of a body model and, when it has one, its vertex subset (sent once too)."""
    indices = subset.indices if subset is not None else np.zeros(0, np.uint32)
    return {"header": header_dict(stamp_ns, frame_id), "model_id": model_id, "num_vertices": int(num_vertices),
            "faces": np.ascontiguousarray(np.asarray(faces).reshape(-1), dtype=np.uint32),
            "vertex_subset": subset.subset_id if subset is not None else "",
            "vertex_subset_indices": np.ascontiguousarray(indices, dtype=np.uint32)}


def clip_to_dict(c: MotionClip) -> dict:
    return {"header": header_dict(c.stamp_ns, c.frame_id), "clip_id": c.clip_id, "fps": float(c.fps),
            "frames": [{"stamp": time_dict(f.stamp_ns), "body": body_dict(f.body),
                        "objects": [object_dict(o) for o in f.objects]} for f in c.frames],
            "file_path": c.file_path}


# ------------------------------------------------------------------------------- dicts -> results


def mesh_from_dict(d: dict) -> Mesh | None:
    v = np.asarray(d.get("vertices", []), np.float32)
    if v.size == 0:
        return None
    return Mesh(v.reshape(-1, 3), np.asarray(d.get("faces", []), np.uint32).reshape(-1, 3), d.get("mesh_id", ""))


def body_from_dict(d: dict) -> BodyState:
    return BodyState(model_id=d.get("model_id", ""), joints=d.get("joints"), part=int(d.get("part", 0)),
                     track_id=int(d.get("track_id", 0)), shape_params=d.get("shape_params"),
                     pose_params=d.get("pose_params"), pose_layout=d.get("pose_layout", ""),
                     root_pose=pose_from_dict(d.get("root_pose", {})), joint_set=d.get("joint_set", ""),
                     joint_confidence=d.get("joint_confidence"), vertices=d.get("vertices"),
                     vertex_contact=d.get("vertex_contact"), confidence=float(d.get("confidence", 0.0)),
                     vertex_subset=d.get("vertex_subset", ""))


def object_from_dict(d: dict) -> ObjectState:
    s = d.get("scale", {})
    return ObjectState(pose=pose_from_dict(d.get("pose", {})), class_name=d.get("class_name", ""),
                       instance_id=int(d.get("instance_id", 0)), template_id=d.get("template_id", ""),
                       scale=[s.get("x", 1.0), s.get("y", 1.0), s.get("z", 1.0)],
                       mesh=mesh_from_dict(d.get("mesh", {})), vertex_contact=d.get("vertex_contact"),
                       confidence=float(d.get("confidence", 0.0)), mask_source=d.get("mask_source", ""))


def fullbody_from_dict(d: dict) -> FullBodyResult:
    h = d.get("header", {})
    return FullBodyResult(stamp_ns=time_ns(h.get("stamp", {})), frame_id=h.get("frame_id", ""),
                          frame_index=int(d.get("frame_index", 0)), reconstructor=d.get("reconstructor", ""),
                          bodies=[body_from_dict(b) for b in d.get("bodies", [])],
                          objects=[object_from_dict(o) for o in d.get("objects", [])],
                          confidence=float(d.get("confidence", 0.0)), mesh_detail=_detail_name(d))


def _detail_name(d: dict) -> str:
    names = {v: name for name, v in md.MESSAGE_VALUE.items()}
    value = int(d.get("mesh_detail", md.MESSAGE_VALUE[md.COMPACT]))
    if value not in names:
        raise ValueError(f"unknown mesh_detail {value} (known: {names})")
    return names[value]


# ------------------------------------------------------------------------------- TF and RViz


def object_transform_dicts(stamp_ns: int, parent_frame: str, objects: list[ObjectState],
                           child_prefix: str = "hoi_object_") -> list[dict]:
    """geometry_msgs/TransformStamped dicts: object frames as children of the camera optical frame."""
    out = []
    for o in objects:
        p = pose_dict(o.pose)
        out.append({"header": header_dict(stamp_ns, parent_frame),
                    "child_frame_id": f"{child_prefix}{int(o.instance_id)}",
                    "transform": {"translation": p["position"], "rotation": p["orientation"]}})
    return out


def contact_colors(contact: np.ndarray, n: int) -> np.ndarray:
    """(n, 4) RGBA: grey where no contact, red as contact probability rises."""
    c = np.zeros(n, np.float32) if contact is None or np.size(contact) != n else np.clip(contact, 0, 1)
    rgba = np.empty((n, 4), np.float32)
    rgba[:, 0] = 0.7 + 0.3 * c
    rgba[:, 1] = 0.7 * (1 - c)
    rgba[:, 2] = 0.7 * (1 - c)
    rgba[:, 3] = 1.0
    return rgba


def _points(xyz: np.ndarray) -> list[dict]:
    return [{"x": float(x), "y": float(y), "z": float(z)} for x, y, z in np.asarray(xyz, np.float64).reshape(-1, 3)]


def _colors(rgba: np.ndarray) -> list[dict]:
    return [{"r": float(r), "g": float(g), "b": float(b), "a": float(a)} for r, g, b, a in rgba]


def _marker(header: dict, ns: str, mid: int, mtype: int, scale: float, pose: dict | None = None) -> dict:
    return {"header": header, "ns": ns, "id": mid, "type": mtype, "action": 0,
            "pose": pose or pose_dict(Pose()), "scale": {"x": scale, "y": scale, "z": scale},
            "color": {"r": 1.0, "g": 1.0, "b": 1.0, "a": 1.0}, "frame_locked": False}


SPHERE_LIST, LINE_LIST, TRIANGLE_LIST, DELETEALL = 7, 5, 11, 3


def mesh_marker(header: dict, ns: str, mid: int, vertices: np.ndarray, faces: np.ndarray, contact,
                max_triangles: int, pose: dict | None = None) -> dict:
    """TRIANGLE_LIST coloured by contact; faces are subsampled to at most max_triangles."""
    faces = np.asarray(faces, np.int64).reshape(-1, 3)
    if max_triangles > 0 and len(faces) > max_triangles:
        faces = faces[:: int(np.ceil(len(faces) / max_triangles))]
    verts = np.asarray(vertices, np.float32).reshape(-1, 3)
    colors = contact_colors(None if contact is None else np.asarray(contact).reshape(-1), len(verts))
    m = _marker(header, ns, mid, TRIANGLE_LIST, 1.0, pose)
    m["points"] = _points(verts[faces.reshape(-1)])
    m["colors"] = _colors(colors[faces.reshape(-1)])
    return m


def markers_dict(stamp_ns: int, frame_id: str, bodies: list[BodyState], objects: list[ObjectState],
                 topologies: dict[str, np.ndarray], max_triangles: int = 4000) -> dict:
    """visualization_msgs/MarkerArray dict: body/hand meshes (or joints), object meshes (or axes)."""
    header = header_dict(stamp_ns, frame_id)
    markers = [{"header": header, "ns": "", "id": 0, "type": 0, "action": DELETEALL}]
    for i, b in enumerate(bodies):
        faces = topologies.get(b.model_id)
        if faces is not None and len(b.vertices):
            markers.append(mesh_marker(header, "hoi_body_mesh", i, b.vertices, faces, b.vertex_contact, max_triangles))
        joints = _marker(header, "hoi_body_joints", i, SPHERE_LIST, 0.02)
        joints["points"] = _points(b.joints)
        joints["color"] = {"r": 0.1, "g": 0.6, "b": 1.0, "a": 1.0}
        markers.append(joints)
    for o in objects:
        pose = pose_dict(o.pose)
        if o.mesh is not None and len(o.mesh.faces):
            markers.append(mesh_marker(header, "hoi_object_mesh", int(o.instance_id), o.mesh.vertices, o.mesh.faces,
                                       o.vertex_contact, max_triangles, pose))
        axes = _marker(header, "hoi_object_axes", int(o.instance_id), LINE_LIST, 0.005, pose)
        axes["points"] = _points(np.array([[0, 0, 0], [0.1, 0, 0], [0, 0, 0], [0, 0.1, 0], [0, 0, 0], [0, 0, 0.1]]))
        axes["colors"] = _colors(np.array([[1, 0, 0, 1]] * 2 + [[0, 1, 0, 1]] * 2 + [[0, 0, 1, 1]] * 2, np.float32))
        markers.append(axes)
    return {"markers": markers}


# ------------------------------------------------------------------------------- one result, all its messages


def result_messages(result: FullBodyResult | HandObjectResult, sent_topologies: dict[str, np.ndarray], *,
                    object_frame_prefix: str = "hoi_object_", markers: bool = True,
                    max_triangles: int = 4000, mesh_detail: str = md.COMPACT) -> list[tuple[str, str, dict]]:
    """Every message one result becomes, in publishing order, as (channel, type name, message dict):
    "topology" (MeshTopology, once per body model id: ids not in `sent_topologies` are added to it),
    "result" (HoiFrame or HandObjectResult, with `mesh_detail`: "compact" or "full", `mesh_detail.py`),
    "transforms" (a TFMessage dict of the object frames, when there are objects) and "markers"
    (MarkerArray of the full meshes, unless `markers` is false). The ROS node and the bag writer both
    loop over this list, so a result reads the same live and recorded."""
    bodies, objects = bodies_and_objects(result)
    out = []
    for model_id, faces in result.topologies.items():
        if model_id not in sent_topologies:
            nverts = next((len(b.vertices) for b in bodies if b.model_id == model_id), 0)
            sent_topologies[model_id] = faces
            subset = md.model_subset(model_id)
            subset = subset if subset is not None and subset.num_full == nverts else None  # it must fit the mesh
            out.append(("topology", MESH_TOPOLOGY,
                        topology_to_dict(model_id, faces, nverts, result.stamp_ns, result.frame_id, subset)))
    sent = md.select(result, mesh_detail)
    if isinstance(sent, FullBodyResult):
        out.append(("result", HOI_FRAME, fullbody_to_dict(sent)))
    else:
        out.append(("result", HAND_OBJECT, handobject_to_dict(sent)))
    if objects:
        transforms = object_transform_dicts(result.stamp_ns, result.frame_id, objects, object_frame_prefix)
        out.append(("transforms", TF_MESSAGE, {"transforms": transforms}))
    if markers:
        out.append(("markers", MARKER_ARRAY, markers_dict(result.stamp_ns, result.frame_id, bodies, objects,
                                                          sent_topologies, max_triangles)))
    return out


# ------------------------------------------------------------------------------- dict <-> rclpy


def _rclpy_class(type_str: str):
    """'hoi_msgs/BodyState' or 'hoi_msgs/msg/BodyState' -> class."""
    parts = type_str.split("/")
    pkg, name = parts[0], parts[-1]
    return getattr(importlib.import_module(f"{pkg}.msg"), name)


def to_rclpy(d: dict, cls):
    """Build an rclpy message of class `cls` from a message dict."""
    msg = cls()
    types = cls.get_fields_and_field_types()
    for key, value in d.items():
        if key not in types:
            continue  # fields of newer distributions (the dicts are written for the common subset)
        cur = getattr(msg, key)
        tstr = types[key]
        if isinstance(value, dict):
            setattr(msg, key, to_rclpy(value, type(cur)))
        elif isinstance(cur, array.array):
            data = np.ascontiguousarray(np.asarray(value, dtype=np.dtype(cur.typecode)).reshape(-1))
            arr = array.array(cur.typecode)
            arr.frombytes(data.tobytes())
            setattr(msg, key, arr)
        elif isinstance(cur, np.ndarray):
            setattr(msg, key, np.asarray(value, dtype=cur.dtype).reshape(cur.shape))
        elif isinstance(cur, list):
            inner = tstr[tstr.index("<") + 1: tstr.rindex(">")].split(",")[0] if "<" in tstr else tstr.split("[")[0]
            if "/" in inner:
                sub = _rclpy_class(inner)
                setattr(msg, key, [to_rclpy(v, sub) for v in value])
            else:
                setattr(msg, key, list(value))
        elif isinstance(cur, bytes):
            setattr(msg, key, bytes([int(value)]))
        elif isinstance(cur, bool):
            setattr(msg, key, bool(value))
        elif isinstance(cur, int):
            setattr(msg, key, int(value))
        elif isinstance(cur, float):
            setattr(msg, key, float(value))
        else:
            setattr(msg, key, value)
    return msg


# ------------------------------------------------------------------------------- dict <-> rosbags

_NP = {"bool": np.bool_, "byte": np.uint8, "char": np.uint8, "int8": np.int8, "uint8": np.uint8,
       "int16": np.int16, "uint16": np.uint16, "int32": np.int32, "uint32": np.uint32, "int64": np.int64,
       "uint64": np.uint64, "float32": np.float32, "float64": np.float64}


def _rosbags_base(base: str, value):
    if base in ("string", "wstring"):
        return "" if value is None else str(value)
    if base == "bool":
        return bool(value) if value is not None else False
    if base in ("float32", "float64"):
        return float(value) if value is not None else 0.0
    return int(value) if value is not None else 0


# Non-zero defaults declared in .msg files (rosbags' parser keeps no defaults; rclpy applies them).
_MSG_DEFAULTS = {("geometry_msgs/msg/Quaternion", "w"): 1.0}


def to_rosbags(d: dict, typename: str, typestore):
    """Build a rosbags message of `typename` from a message dict (missing fields default)."""
    _, fields = typestore.fielddefs[typename]
    kwargs = {}
    for name, (nodetype, detail) in fields:
        value = d.get(name, _MSG_DEFAULTS.get((typename, name)))
        nt = int(nodetype)
        if nt == 1:  # base type
            kwargs[name] = _rosbags_base(detail[0], value)
        elif nt == 2:  # nested message
            kwargs[name] = to_rosbags(value or {}, detail, typestore)
        else:  # 3 fixed array, 4 sequence
            (sub_nt, sub_detail), length = detail
            if int(sub_nt) == 1 and sub_detail[0] in _NP:
                arr = np.asarray(value if value is not None else [], dtype=_NP[sub_detail[0]]).reshape(-1)
                if nt == 3 and arr.size != length:
                    arr = np.zeros(length, _NP[sub_detail[0]]) if arr.size == 0 else arr
                kwargs[name] = np.ascontiguousarray(arr)
            elif int(sub_nt) == 1:
                kwargs[name] = [_rosbags_base(sub_detail[0], v) for v in (value or [])]
            else:
                kwargs[name] = [to_rosbags(v, sub_detail, typestore) for v in (value or [])]
    return typestore.types[typename](**kwargs)


# ------------------------------------------------------------------------------- message -> dict


def msg_to_dict(msg) -> dict:
    """rclpy or rosbags message -> message dict (numeric arrays as numpy)."""
    if hasattr(type(msg), "get_fields_and_field_types"):
        names = list(type(msg).get_fields_and_field_types())
    elif dataclasses.is_dataclass(msg):
        names = [f.name for f in dataclasses.fields(msg)]
    else:
        raise TypeError(f"not a message: {type(msg).__name__}")
    out = {}
    for name in names:
        v = getattr(msg, name)
        if isinstance(v, array.array):
            out[name] = np.frombuffer(v.tobytes(), dtype=np.dtype(v.typecode)).copy()
        elif isinstance(v, np.ndarray):
            out[name] = v.copy()
        elif isinstance(v, (list, tuple)):
            out[name] = [msg_to_dict(x) if not isinstance(x, (str, int, float, bytes)) else x for x in v]
        elif isinstance(v, (str, int, float, bool)):
            out[name] = v
        elif isinstance(v, bytes):
            out[name] = v[0] if len(v) == 1 else v
        else:
            out[name] = msg_to_dict(v)
    return out
