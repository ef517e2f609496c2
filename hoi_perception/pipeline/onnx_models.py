"""Reconstructors for ONNX networks with the project's documented signatures (onnxruntime, CPU).

hoi-fullbody-v1
  inputs   image       (1, 3, H, W) float32, RGB in [0, 1], the frame resized to the card's
                       input_size [W, H]
           intrinsics  (1, 4) float32 [fx, fy, cx, cy] of the resized image, pixels
  outputs  joints      (1, J, 3) camera optical frame, metres               (required)
           confidence  (1,)                                                 (required)
           body_shape (1, S), body_pose (1, P), body_root (1, 7) [t, q_xyzw], joint_confidence (1, J),
           vertices (1, V, 3), vertex_contact (1, V),
           object_pose (1, 7), object_class_logits (1, C), object_vertex_contact (1, Vo),
           object_confidence (1,)                                           (optional)

hoi-handobject-v1
  inputs   images      (K, 3, H, W) float32 keyframes, oldest first (K = card `keyframes`, 2-6)
           intrinsics  (K, 4) float32
  outputs  object_vertices (Vo, 3) object frame, metres; object_faces (Fo, 3) int;
           object_poses (K, 7) object frame in the camera frame per keyframe; confidence (1,)   (required)
           hand_joints (Nh, 21, 3), hand_sides (Nh,) 1=left 2=right, hand_vertices (Nh, Vh, 3),
           hand_vertex_contact (Nh, Vh), object_vertex_contact (Vo,)                         (optional)

Card fields used: weights, input_size [W, H], body_model_id, joint_set, hand_model_id,
body_faces (a .npy of (F, 3) triangles, optional), objects (list of {class_name, template_id}
indexed like object_class_logits), keyframes.
"""
from __future__ import annotations

from collections import deque
from pathlib import Path

import cv2
import numpy as np

from hoi_perception.pipeline.stages import InferenceError, ModelNotAvailable, Reconstructor
from hoi_perception.pipeline.types import (
    PART_BODY,
    BodyState,
    Frame,
    FullBodyResult,
    HandObjectResult,
    Mesh,
    ObjectState,
    Pose,
)

SIGNATURES = {
    "hoi-fullbody-v1": ("fullbody", ("image", "intrinsics"), ("joints", "confidence")),
    "hoi-handobject-v1": ("handobject", ("images", "intrinsics"),
                          ("object_vertices", "object_faces", "object_poses", "confidence")),
}


def _session(model_dir: Path, card: dict):
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ModelNotAvailable(f"onnxruntime is not installed: {exc}") from exc
    weights = model_dir / str(card.get("weights", "model.onnx"))
    if not weights.is_file():
        raise ModelNotAvailable(f"model {card['name']!r}: weights file {weights} is missing")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(card.get("threads", 1))
    try:
        return ort.InferenceSession(str(weights), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise ModelNotAvailable(f"model {card['name']!r}: cannot load {weights}: {exc}") from exc


def _check_signature(session, card: dict, signature: str) -> None:
    _, inputs, required = SIGNATURES[signature]
    have_in = {i.name for i in session.get_inputs()}
    have_out = {o.name for o in session.get_outputs()}
    if missing := [n for n in inputs if n not in have_in] + [n for n in required if n not in have_out]:
        raise ModelNotAvailable(f"model {card['name']!r} does not follow {signature}: missing {missing}")


def _preprocess(frame: Frame, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    w, h = size
    img = cv2.resize(frame.image, (w, h), interpolation=cv2.INTER_AREA)
    k = frame.intrinsics.scaled(w, h)
    chw = np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32) / 255.0
    return chw, np.array([k.fx, k.fy, k.cx, k.cy], np.float32)


def _finite(name: str, a: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(a)):
        raise InferenceError(f"model output {name!r} contains NaN or infinite values")
    return a


def _pose(name: str, v: np.ndarray) -> Pose:
    try:
        return Pose.from_vector(_finite(name, np.asarray(v)))
    except ValueError as exc:
        raise InferenceError(f"model output {name!r}: {exc}") from exc


class _OnnxBase(Reconstructor):
    def __init__(self, model_dir: Path, card: dict, signature: str) -> None:
        super().__init__(str(card["name"]), card)
        self.session = _session(model_dir, card)
        _check_signature(self.session, card, signature)
        self.outputs = [o.name for o in self.session.get_outputs()]
        size = card.get("input_size", [256, 256])
        self.input_size = (int(size[0]), int(size[1]))
        faces = card.get("body_faces")
        self.faces = None
        if faces:
            path = model_dir / str(faces)
            if not path.is_file():
                raise ModelNotAvailable(f"model {self.name!r}: body_faces file {path} is missing")
            self.faces = np.load(path, allow_pickle=False).astype(np.uint32).reshape(-1, 3)
        self.objects = list(card.get("objects") or [])

    def _run(self, feeds: dict) -> dict[str, np.ndarray]:
        values = self.session.run(None, feeds)
        return dict(zip(self.outputs, (np.asarray(v) for v in values)))


class OnnxFullBody(_OnnxBase):
    task = "fullbody"

    def __init__(self, model_dir: Path, card: dict) -> None:
        super().__init__(model_dir, card, "hoi-fullbody-v1")
        self.model_id = str(card.get("body_model_id", self.name))
        self.joint_set = str(card.get("joint_set", ""))

    def reconstruct(self, frame: Frame) -> FullBodyResult:
        chw, k = _preprocess(frame, self.input_size)
        out = self._run({"image": chw[None], "intrinsics": k[None]})
        joints = _finite("joints", out["joints"][0])
        conf = float(_finite("confidence", out["confidence"]).reshape(-1)[0])
        get = lambda n: _finite(n, out[n][0]) if n in out else None  # noqa: E731
        body = BodyState(
            model_id=self.model_id, joints=joints, part=PART_BODY, joint_set=self.joint_set,
            shape_params=get("body_shape"), pose_params=get("body_pose"),
            pose_layout=str(self.card.get("pose_layout", "")),
            root_pose=_pose("body_root", out["body_root"][0]) if "body_root" in out else Pose(),
            joint_confidence=get("joint_confidence"),
            vertices=get("vertices"), vertex_contact=get("vertex_contact"), confidence=conf)
        objects = []
        if "object_pose" in out:
            cls_name, template = "", ""
            if "object_class_logits" in out and self.objects:
                idx = int(np.argmax(out["object_class_logits"][0]))
                if idx < len(self.objects):
                    cls_name = str(self.objects[idx].get("class_name", ""))
                    template = str(self.objects[idx].get("template_id", ""))
            oconf = float(out["object_confidence"].reshape(-1)[0]) if "object_confidence" in out else conf
            objects.append(ObjectState(pose=_pose("object_pose", out["object_pose"][0]), class_name=cls_name,
                                       instance_id=1, template_id=template,
                                       vertex_contact=get("object_vertex_contact"), confidence=oconf))
        topo = {self.model_id: self.faces} if self.faces is not None else {}
        return FullBodyResult(stamp_ns=frame.stamp_ns, frame_id=frame.frame_id, frame_index=frame.index,
                              reconstructor=self.name, bodies=[body], objects=objects, confidence=conf,
                              topologies=topo)


class OnnxHandObject(_OnnxBase):
    task = "handobject"

    def __init__(self, model_dir: Path, card: dict) -> None:
        super().__init__(model_dir, card, "hoi-handobject-v1")
        self.keyframes = int(card.get("keyframes", 4))
        if not 2 <= self.keyframes <= 6:
            raise ModelNotAvailable(f"model {self.name!r}: keyframes must be 2-6, got {self.keyframes}")
        self.hand_model_id = str(card.get("hand_model_id", "hand21"))
        self.buffer: deque[tuple[Frame, np.ndarray, np.ndarray]] = deque(maxlen=self.keyframes)

    def reset(self) -> None:
        self.buffer.clear()

    def reconstruct(self, frame: Frame) -> HandObjectResult | None:
        if self.buffer and self.buffer[-1][0].frame_id != frame.frame_id:
            self.buffer.clear()  # another camera: keyframes must share one optical frame
        self.buffer.append((frame, *_preprocess(frame, self.input_size)))
        if len(self.buffer) < self.keyframes:
            return None
        frames = [b[0] for b in self.buffer]
        out = self._run({"images": np.stack([b[1] for b in self.buffer]),
                         "intrinsics": np.stack([b[2] for b in self.buffer])})
        verts = _finite("object_vertices", out["object_vertices"]).reshape(-1, 3)
        faces = out["object_faces"].reshape(-1, 3)
        if faces.size and (faces.min() < 0 or faces.max() >= len(verts)):
            raise InferenceError("model output 'object_faces' indexes outside object_vertices")
        poses = _finite("object_poses", out["object_poses"]).reshape(-1, 7)
        if len(poses) != len(frames):
            raise InferenceError(f"model returned {len(poses)} object poses for {len(frames)} keyframes")
        conf = float(_finite("confidence", out["confidence"]).reshape(-1)[0])
        kposes = [_pose("object_poses", p) for p in poses]
        contact = _finite("object_vertex_contact", out["object_vertex_contact"]).reshape(-1) \
            if "object_vertex_contact" in out else None
        obj = ObjectState(pose=kposes[-1], instance_id=1, mesh=Mesh(verts, faces.astype(np.uint32)),
                          vertex_contact=contact, confidence=conf,
                          class_name=str(self.card.get("object_class", "")))
        hands = []
        if "hand_joints" in out:
            hj = _finite("hand_joints", out["hand_joints"])
            sides = out.get("hand_sides", np.full(len(hj), 2)).reshape(-1)
            hv = out.get("hand_vertices")
            hc = out.get("hand_vertex_contact")
            for i in range(len(hj)):
                hands.append(BodyState(
                    model_id=self.hand_model_id, part=int(sides[i]), track_id=int(sides[i]), joints=hj[i],
                    joint_set="hand21",
                    vertices=_finite("hand_vertices", hv[i]) if hv is not None else None,
                    vertex_contact=_finite("hand_vertex_contact", hc[i]) if hc is not None else None,
                    confidence=conf))
        newest = frames[-1]
        return HandObjectResult(stamp_ns=newest.stamp_ns, frame_id=newest.frame_id, frame_index=newest.index,
                                reconstructor=self.name, object=obj,
                                keyframe_stamps_ns=[f.stamp_ns for f in frames], keyframe_object_poses=kposes,
                                hands=hands, confidence=conf)


def build(model_dir: Path, card: dict, **options) -> Reconstructor:
    if options.get("backend") not in (None, "", "onnxruntime") or options.get("device") not in (None, "", "cpu"):
        raise ModelNotAvailable(f"model {card['name']!r} (an ONNX-signature card) runs on onnxruntime on the CPU only; "
                                f"got backend {options.get('backend')!r}, device {options.get('device')!r}")
    signature = card.get("signature")
    if signature not in SIGNATURES:
        raise ModelNotAvailable(f"model {card['name']!r}: unknown signature {signature!r} ({', '.join(SIGNATURES)})")
    if SIGNATURES[signature][0] != card["task"]:
        raise ModelNotAvailable(f"model {card['name']!r}: signature {signature} does not fit task {card['task']}")
    cls = OnnxFullBody if card["task"] == "fullbody" else OnnxHandObject
    return cls(Path(model_dir), card)
