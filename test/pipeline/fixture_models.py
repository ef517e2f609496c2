"""TEST-ONLY tiny ONNX models with the documented hoi-fullbody-v1 / hoi-handobject-v1 signatures.

They are real networks (per-channel image means -> linear layers) built with onnx.helper, loaded
through the same registry path (`models/<name>/model_card.yaml`) as the trained models. Their
outputs carry no meaning; tests recompute them in numpy to check the plumbing end to end.
Never ship these: the default config names no model.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import yaml

INPUT_SIZE = (64, 48)  # W, H
J, V = 5, 8
CUBE_V = np.array([[x, y, z] for x in (-0.05, 0.05) for y in (-0.05, 0.05) for z in (-0.05, 0.05)], np.float32)
CUBE_F = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                   [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]], np.int64)


def _weights(seed: int, *shape) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.5, shape).astype(np.float32)


def fullbody_params() -> dict:
    p = {"Wj": _weights(1, 3, J * 3), "bj": np.tile(np.array([0, 0, 2.0], np.float32), J),
         "Wc": _weights(2, 3, 1), "Wv": _weights(3, 3, V * 3), "bv": np.tile(np.array([0, 0, 2.0], np.float32), V),
         "Wvc": _weights(4, 3, V), "Wo": _weights(5, 3, 7) * 0.1,
         "bo": np.array([0.1, 0.0, 1.5, 0, 0, 0, 1], np.float32), "Ws": _weights(6, 3, 6), "Wl": _weights(7, 3, 2)}
    return p


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def channel_means(rgb: np.ndarray) -> np.ndarray:
    img = cv2.resize(rgb, INPUT_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    return img.reshape(-1, 3).mean(axis=0)


def expected_fullbody(rgb: np.ndarray) -> dict:
    """What the fixture network outputs for an RGB frame (numpy reference)."""
    p, m = fullbody_params(), channel_means(rgb)
    return {"joints": (m @ p["Wj"] + p["bj"]).reshape(J, 3), "confidence": float(_sigmoid(m @ p["Wc"])[0]),
            "vertices": (m @ p["Wv"] + p["bv"]).reshape(V, 3), "vertex_contact": _sigmoid(m @ p["Wvc"]),
            "object_pose": m @ p["Wo"] + p["bo"], "body_shape": m @ p["Ws"],
            "object_class": int(np.argmax(m @ p["Wl"]))}


def _write(model_dir: Path, graph, card: dict, extra: dict | None = None) -> Path:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="hoi-test-fixture")
    model.ir_version = 8
    onnx.checker.check_model(model)
    model_dir.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(model_dir / "model.onnx"))
    for name, arr in (extra or {}).items():
        np.save(model_dir / name, arr)
    (model_dir / "model_card.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    return model_dir


def make_fullbody_model(root: Path, name: str = "fixture-fullbody") -> Path:
    from onnx import TensorProto, helper, numpy_helper

    p = fullbody_params()
    init = [numpy_helper.from_array(v, k) for k, v in p.items()]
    init += [numpy_helper.from_array(np.array(s, np.int64), n) for n, s in
             (("shape_j", [1, J, 3]), ("shape_v", [1, V, 3]), ("shape_1", [1]))]
    n = helper.make_node
    nodes = [
        n("ReduceMean", ["image"], ["m"], axes=[2, 3], keepdims=0),
        n("MatMul", ["m", "Wj"], ["j0"]), n("Add", ["j0", "bj"], ["j1"]), n("Reshape", ["j1", "shape_j"], ["joints"]),
        n("MatMul", ["m", "Wc"], ["c0"]), n("Sigmoid", ["c0"], ["c1"]), n("Reshape", ["c1", "shape_1"], ["confidence"]),
        n("MatMul", ["m", "Wv"], ["v0"]), n("Add", ["v0", "bv"], ["v1"]), n("Reshape", ["v1", "shape_v"], ["vertices"]),
        n("MatMul", ["m", "Wvc"], ["vc0"]), n("Sigmoid", ["vc0"], ["vertex_contact"]),
        n("MatMul", ["m", "Wo"], ["o0"]), n("Add", ["o0", "bo"], ["object_pose"]),
        n("MatMul", ["m", "Ws"], ["body_shape"]), n("MatMul", ["m", "Wl"], ["object_class_logits"]),
        # intrinsics is part of the signature; the fixture only checks it is fed
        n("ReduceSum", ["intrinsics"], ["k_sum"], keepdims=0),
    ]
    f = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "fixture_fullbody",
        [helper.make_tensor_value_info("image", f, [1, 3, INPUT_SIZE[1], INPUT_SIZE[0]]),
         helper.make_tensor_value_info("intrinsics", f, [1, 4])],
        [helper.make_tensor_value_info("joints", f, [1, J, 3]), helper.make_tensor_value_info("confidence", f, [1]),
         helper.make_tensor_value_info("vertices", f, [1, V, 3]),
         helper.make_tensor_value_info("vertex_contact", f, [1, V]),
         helper.make_tensor_value_info("object_pose", f, [1, 7]), helper.make_tensor_value_info("body_shape", f, [1, 6]),
         helper.make_tensor_value_info("object_class_logits", f, [1, 2]),
         helper.make_tensor_value_info("k_sum", f, [])],
        init)
    card = {"name": name, "task": "fullbody", "format": "onnx", "signature": "hoi-fullbody-v1",
            "weights": "model.onnx", "input_size": list(INPUT_SIZE), "body_model_id": "fixture/cube8",
            "joint_set": "fixture5", "body_faces": "faces.npy",
            "objects": [{"class_name": "box", "template_id": "fixture/box"},
                        {"class_name": "ball", "template_id": "fixture/ball"}],
            "note": "TEST-ONLY fixture; not a trained model"}
    return _write(root / name, graph, card, {"faces.npy": CUBE_F.astype(np.uint32)})


def handobject_params() -> dict:
    return {"Wp": _weights(11, 3, 7) * 0.1, "bp": np.array([0.0, 0.05, 0.6, 0, 0, 0, 1], np.float32),
            "Wh": _weights(12, 3, 63) * 0.1, "bh": np.tile(np.array([0, 0, 0.6], np.float32), 21)}


def expected_handobject(rgbs: list[np.ndarray]) -> dict:
    p = handobject_params()
    m = np.stack([channel_means(x) for x in rgbs])
    return {"object_poses": m @ p["Wp"] + p["bp"],
            "hand_joints": (m.mean(axis=0, keepdims=True) @ p["Wh"] + p["bh"]).reshape(1, 21, 3)}


def make_handobject_model(root: Path, name: str = "fixture-handobject", keyframes: int = 2) -> Path:
    from onnx import TensorProto, helper, numpy_helper

    p = handobject_params()
    init = [numpy_helper.from_array(v, k) for k, v in p.items()]
    init += [numpy_helper.from_array(CUBE_V, "cube_v"), numpy_helper.from_array(CUBE_F, "cube_f"),
             numpy_helper.from_array(np.array([2], np.int64), "sides"),
             numpy_helper.from_array(np.linspace(-2, 2, len(CUBE_V)).astype(np.float32), "contact_logits"),
             numpy_helper.from_array(np.array([1, 21, 3], np.int64), "shape_h"),
             numpy_helper.from_array(np.array([1], np.int64), "shape_1")]
    n = helper.make_node
    nodes = [
        n("ReduceMean", ["images"], ["m"], axes=[2, 3], keepdims=0),
        n("MatMul", ["m", "Wp"], ["p0"]), n("Add", ["p0", "bp"], ["object_poses"]),
        n("ReduceMean", ["m"], ["mk"], axes=[0], keepdims=1),
        n("MatMul", ["mk", "Wh"], ["h0"]), n("Add", ["h0", "bh"], ["h1"]), n("Reshape", ["h1", "shape_h"], ["hand_joints"]),
        n("Identity", ["cube_v"], ["object_vertices"]), n("Identity", ["cube_f"], ["object_faces"]),
        n("Identity", ["sides"], ["hand_sides"]), n("Sigmoid", ["contact_logits"], ["object_vertex_contact"]),
        n("ReduceMean", ["m"], ["c0"], keepdims=0), n("Sigmoid", ["c0"], ["c1"]),
        n("Reshape", ["c1", "shape_1"], ["confidence"]),
        n("ReduceSum", ["intrinsics"], ["k_sum"], keepdims=0),
    ]
    f, i64 = TensorProto.FLOAT, TensorProto.INT64
    graph = helper.make_graph(
        nodes, "fixture_handobject",
        [helper.make_tensor_value_info("images", f, [keyframes, 3, INPUT_SIZE[1], INPUT_SIZE[0]]),
         helper.make_tensor_value_info("intrinsics", f, [keyframes, 4])],
        [helper.make_tensor_value_info("object_vertices", f, [8, 3]),
         helper.make_tensor_value_info("object_faces", i64, [12, 3]),
         helper.make_tensor_value_info("object_poses", f, [keyframes, 7]),
         helper.make_tensor_value_info("confidence", f, [1]),
         helper.make_tensor_value_info("hand_joints", f, [1, 21, 3]),
         helper.make_tensor_value_info("hand_sides", i64, [1]),
         helper.make_tensor_value_info("object_vertex_contact", f, [8]),
         helper.make_tensor_value_info("k_sum", f, [])],
        init)
    card = {"name": name, "task": "handobject", "format": "onnx", "signature": "hoi-handobject-v1",
            "weights": "model.onnx", "input_size": list(INPUT_SIZE), "keyframes": keyframes,
            "hand_model_id": "fixture/hand21", "object_class": "box", "note": "TEST-ONLY fixture; not a trained model"}
    return _write(root / name, graph, card)
