"""Compact results (the default) against full meshes: what each message carries, read back from CDR
bytes, against the shipped full-body model's own result on a real BEHAVE frame."""
from __future__ import annotations

import numpy as np
import pytest

from hoi_perception.paths import models_dir, shared_data_dir
from hoi_perception.pipeline import mesh_detail as md
from hoi_perception.pipeline import msg_convert as mc
from hoi_perception.pipeline.types import BodyState, FullBodyResult, Mesh, ObjectState, Pose

BEHAVE = shared_data_dir() / "images" / "hoi_noncommercial" / "behave_frames_contho"


@pytest.fixture(scope="module")
def fullbody_result():
    """The shipped full-body model's result on a real BEHAVE frame with its person and object masks."""
    import cv2

    from hoi_perception.pipeline.stages import load_reconstructor
    from hoi_perception.pipeline.types import CameraIntrinsics, Frame

    if not (models_dir() / "fullbody" / "model_card.yaml").is_file():
        pytest.skip("no shipped fullbody model (models/fullbody/model_card.yaml)")
    if not (BEHAVE / "img" / "050507.jpg").is_file():
        pytest.skip(f"shared BEHAVE frames missing under {BEHAVE}")
    rgb = cv2.cvtColor(cv2.imread(str(BEHAVE / "img" / "050507.jpg")), cv2.COLOR_BGR2RGB)
    masks = np.stack([cv2.imread(str(BEHAVE / sub / "050507.jpg"), cv2.IMREAD_GRAYSCALE) > 127
                      for sub in ("mask_h", "mask_o")])
    h, w = rgb.shape[:2]
    frame = Frame(rgb, 1_000, "cam", CameraIntrinsics.from_fov(w, h), masks=masks)
    return load_reconstructor("fullbody", "fullbody").reconstruct(frame)


def on_the_wire(result, detail: str) -> dict:
    """channel -> (CDR bytes, the message a consumer decodes from them) (rosbags, the hoi_msgs typestore)."""
    from hoi_perception.runtime.typestore import hoi_typestore

    ts = hoi_typestore()
    out = {}
    for channel, typename, d in mc.result_messages(result, {}, markers=True, mesh_detail=detail):
        raw = ts.serialize_cdr(mc.to_rosbags(d, typename, ts), typename)
        raw = bytes(raw)
        out[channel] = (raw, ts.deserialize_cdr(raw, typename))
    return out


def test_compact_is_the_full_result_on_the_network_subset(fullbody_result):
    from hoi_perception.body.vertex_subset import load_subset

    exp = fullbody_result
    eb, eo = exp.bodies[0], exp.objects[0]
    assert eb.model_id == "anny_body" and len(eb.vertices) == 13_718 and not eb.vertex_subset
    compact, full = on_the_wire(exp, "compact"), on_the_wire(exp, "full")
    # the subset's indices come once, with the faces
    _, topo = compact["topology"]
    subset = load_subset("body").indices.numpy()
    assert topo.model_id == "anny_body" and topo.num_vertices == 13_718 and topo.vertex_subset == "anny_body/subset431"
    np.testing.assert_array_equal(topo.vertex_subset_indices, subset)
    # compact: parameters, joints, and the full mesh's vertices and contacts at those indices
    raw_c, msg = compact["result"]
    body, obj = msg.bodies[0], msg.objects[0]
    assert msg.mesh_detail == msg.MESH_DETAIL_COMPACT == 0 and body.vertex_subset == topo.vertex_subset
    np.testing.assert_allclose(body.vertices.reshape(-1, 3), eb.vertices[topo.vertex_subset_indices], atol=1e-6)
    np.testing.assert_allclose(body.vertex_contact, eb.vertex_contact[topo.vertex_subset_indices], atol=1e-6)
    np.testing.assert_allclose(body.joints.reshape(-1, 3), eb.joints, atol=1e-6)
    np.testing.assert_allclose(body.shape_params, eb.shape_params, atol=1e-6)
    np.testing.assert_allclose(body.pose_params, eb.pose_params, atol=1e-6)
    np.testing.assert_allclose([body.root_pose.position.x, body.root_pose.position.y, body.root_pose.position.z],
                               eb.root_pose.position, atol=1e-6)
    assert obj.template_id == eo.template_id and len(obj.mesh.vertices) == 0
    np.testing.assert_allclose([obj.scale.x, obj.scale.y, obj.scale.z], eo.scale, atol=1e-6)
    np.testing.assert_allclose(obj.vertex_contact, eo.vertex_contact, atol=1e-6)
    # full: the whole mesh, as reconstructed
    raw_f, msg = full["result"]
    assert msg.mesh_detail == msg.MESH_DETAIL_FULL and msg.bodies[0].vertex_subset == ""
    np.testing.assert_allclose(msg.bodies[0].vertices.reshape(-1, 3), eb.vertices, atol=1e-6)
    np.testing.assert_allclose(msg.bodies[0].vertex_contact, eb.vertex_contact, atol=1e-6)
    assert len(raw_c) < len(raw_f) / 20  # 8 kB against 221 kB
    # markers draw the full mesh either way
    assert compact["markers"][0] == full["markers"][0]


def test_compact_without_a_subset_drops_nothing_unmappable():
    """A body model with no known subset goes whole; an inline object mesh is left out with the contacts
    that index it; a result reduced once is not reduced again."""
    rng = np.random.default_rng(0)
    other = BodyState("smplx_body", rng.normal(size=(22, 3)), vertices=rng.normal(size=(50, 3)),
                      vertex_contact=rng.random(50))
    obj = ObjectState(Pose(), instance_id=1, mesh=Mesh(rng.normal(size=(4, 3)), [[0, 1, 2], [1, 2, 3]]),
                      vertex_contact=rng.random(4))
    r = FullBodyResult(5, "cam", 0, "m", [other], [obj], 1.0, topologies={"smplx_body": np.zeros((1, 3), np.uint32)})
    c = md.select(r, "compact")
    assert c.mesh_detail == "compact" and c.bodies[0] is other
    assert c.objects[0].mesh is None and c.objects[0].vertex_contact.size == 0
    assert md.select(c, "compact") is c and md.select(r, "full") is r
    d = mc.fullbody_to_dict(c)
    assert d["mesh_detail"] == 0 and d["bodies"][0]["vertex_subset"] == "" and d["bodies"][0]["vertices"].size == 150
    back = mc.fullbody_from_dict(d)
    assert back.mesh_detail == "compact" and back.objects[0].mesh is None
    # a body of a known model whose mesh is not the full one goes whole too
    odd = BodyState("anny_body", rng.normal(size=(22, 3)), vertices=rng.normal(size=(50, 3)))
    assert md.compact_body(odd, {"anny_body": None}).vertex_subset == ""


def test_unknown_mesh_detail_is_refused():
    with pytest.raises(ValueError, match="compact, full"):
        md.check("mesh")
    with pytest.raises(ValueError, match="unknown mesh_detail 7"):
        mc.fullbody_from_dict({"mesh_detail": 7})


def test_clips_of_compact_results_name_their_subset(tmp_path):
    from hoi_perception.pipeline.clip_recorder import ClipRecorder, read_clip

    rng = np.random.default_rng(1)
    ref = md.model_subset("anny_body")
    rec = ClipRecorder(tmp_path, min_frames=2)
    for t in range(3):
        b = BodyState("anny_body", rng.normal(size=(64, 3)), vertices=rng.normal(size=(ref.num_full, 3)),
                      vertex_contact=rng.random(ref.num_full))
        r = FullBodyResult(t * 33_000_000, "cam", t, "m", [b], [], 1.0, topologies={"anny_body": np.zeros((1, 3))})
        assert rec.add(md.select(r, "compact")) is None
    clip = read_clip(rec.flush().file_path)
    body = clip.frames[2].body
    assert body.vertex_subset == "anny_body/subset431" and body.vertex_contact.shape == (431,)
    np.testing.assert_allclose(body.vertex_contact, b.vertex_contact[ref.indices])
