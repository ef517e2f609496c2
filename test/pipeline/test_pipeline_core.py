"""Framework-free pipeline: image codec, input validation, registry, sources, recorder."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from hoi_perception.pipeline import image_codec as codec
from hoi_perception.pipeline.types import CameraIntrinsics, Frame, InputError

REPO = Path(__file__).resolve().parents[2]


def test_no_rclpy_import_outside_ros():
    for folder in ("pipeline", "runtime"):
        for path in (REPO / "hoi_perception" / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                assert not any(n.split(".")[0] == "rclpy" for n in names), path


@pytest.mark.parametrize("encoding,array", [
    ("rgb8", np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)),
    ("bgr8", np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)),
    ("mono8", np.arange(35, dtype=np.uint8).reshape(5, 7)),
    ("16UC1", (np.arange(35, dtype=np.uint16) * 1000).reshape(5, 7)),
    ("32FC1", np.linspace(0, 3, 35, dtype=np.float32).reshape(5, 7)),
])
@pytest.mark.parametrize("bigendian", [False, True])
@pytest.mark.parametrize("pad_to", [1, 16])
def test_codec_roundtrip_padded_and_endianness(encoding, array, bigendian, pad_to):
    d = codec.encode(array, encoding, pad_to=pad_to, bigendian=bigendian)
    if pad_to > 1:
        assert d["step"] % 16 == 0 and d["step"] > array.shape[1] * array.itemsize * (3 if array.ndim == 3 else 1)
    out = codec.decode(d["height"], d["width"], encoding, d["is_bigendian"], d["step"], d["data"])
    np.testing.assert_array_equal(out.reshape(array.shape), array)


def test_codec_colour_and_depth_conversions():
    rgb = np.random.default_rng(0).integers(0, 255, (4, 6, 3), dtype=np.uint8)
    d = codec.encode(rgb[..., ::-1], "bgr8", pad_to=8)
    np.testing.assert_array_equal(codec.image_msg_to_rgb(d), rgb)
    mono = codec.encode(rgb[..., 0], "mono8")
    assert codec.image_msg_to_rgb(mono).shape == (4, 6, 3)
    mm = np.array([[0, 1500]], np.uint16)
    depth = codec.image_msg_to_depth(codec.encode(mm, "16UC1", bigendian=True))
    assert np.isnan(depth[0, 0]) and depth[0, 1] == pytest.approx(1.5)


@pytest.mark.parametrize("fields,needle", [
    (dict(height=2, width=2, encoding="yuv422", is_bigendian=0, step=4, data=b"\0" * 8), "unsupported image encoding"),
    (dict(height=0, width=0, encoding="rgb8", is_bigendian=0, step=0, data=b""), "empty"),
    (dict(height=2, width=2, encoding="rgb8", is_bigendian=0, step=5, data=b"\0" * 10), "smaller than one row"),
    (dict(height=2, width=2, encoding="rgb8", is_bigendian=0, step=6, data=b"\0" * 7), "expected 2 rows"),
])
def test_codec_rejects_bad_images(fields, needle):
    with pytest.raises(InputError, match=needle):
        codec.image_msg_to_rgb(fields)


def test_intrinsics_validation():
    with pytest.raises(InputError, match="not finite"):
        CameraIntrinsics(float("nan"), 1, 1, 1, 4, 4)
    with pytest.raises(InputError, match="positive"):
        CameraIntrinsics(0, 1, 1, 1, 4, 4)
    with pytest.raises(InputError, match="NaN"):
        CameraIntrinsics.from_k([np.nan] * 9, 4, 4)
    k = CameraIntrinsics(100, 100, 3.5, 2.5, 8, 6)
    with pytest.raises(InputError, match="intrinsics are for 8x6"):
        Frame(np.zeros((6, 9, 3), np.uint8), 0, "cam", k)
    with pytest.raises(InputError, match="uint8 RGB"):
        Frame(np.zeros((6, 8), np.uint8), 0, "cam", k)
    s = k.scaled(16, 12)
    assert (s.fx, s.cx) == (200, 7.5)


SHIPPED_FULLBODY = REPO / "models" / "fullbody"
needs_shipped = pytest.mark.skipif(not (SHIPPED_FULLBODY / "model_card.yaml").is_file(), reason="no shipped fullbody model")


@needs_shipped
def test_registry_refuses_without_model(tmp_path, monkeypatch):
    from hoi_perception.pipeline.stages import ModelNotAvailable, load_reconstructor

    monkeypatch.setenv("HOI_MODELS_DIR", str(tmp_path))
    with pytest.raises(ModelNotAvailable, match="no model configured"):
        load_reconstructor("", "fullbody")
    with pytest.raises(ModelNotAvailable, match="does not exist"):
        load_reconstructor("crosshoi", "fullbody")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotAvailable, match="no model_card.yaml"):
        load_reconstructor("empty", "fullbody")
    (tmp_path / "card_only").mkdir()  # a card whose weights are missing
    (tmp_path / "card_only" / "model_card.yaml").write_bytes((SHIPPED_FULLBODY / "model_card.yaml").read_bytes())
    with pytest.raises(ModelNotAvailable, match="not found"):
        load_reconstructor("card_only", "fullbody")


@needs_shipped
def test_registry_loads_a_model_by_name_and_runs(tmp_path, monkeypatch):
    from hoi_perception.pipeline.stages import ReconstructionStage, available_models, load_reconstructor

    monkeypatch.setenv("HOI_MODELS_DIR", str(tmp_path))
    (tmp_path / "mine").mkdir()
    for f in SHIPPED_FULLBODY.iterdir():
        (tmp_path / "mine" / f.name).symlink_to(f)
    (tmp_path / "contacts").symlink_to(SHIPPED_FULLBODY.parent / "contacts")  # the card's contact model
    assert available_models("fullbody") == ["mine"] and available_models("handobject") == []
    # the network path: a noise frame shows no person for the front end's fit
    stage = ReconstructionStage(load_reconstructor("mine", "fullbody", object_class="003_cracker_box", person_fit=False))
    h, w = 96, 128
    rgb = np.random.default_rng(1).integers(0, 255, (h, w, 3), dtype=np.uint8)
    masks = np.zeros((2, h, w), bool)
    masks[0, 10:90, 40:70] = masks[1, 40:60, 65:95] = True
    r = stage.process(Frame(rgb, 5, "cam", CameraIntrinsics.from_fov(w, h), index=3, masks=masks))
    assert r.frame_index == 3 and r.stamp_ns == 5 and r.topologies["anny_body"].shape[1] == 3
    assert r.objects[0].template_id == "003_cracker_box"


def test_msg_dict_roundtrip_fullbody():
    from hoi_perception.pipeline import msg_convert as mc
    from hoi_perception.pipeline.types import BodyState, FullBodyResult, ObjectState, Pose

    r = FullBodyResult(7, "cam", 1, "m", [BodyState("b", np.ones((2, 3)), vertex_contact=[0.5, 0.2],
                                                    vertices=np.zeros((2, 3)))],
                       [ObjectState(Pose([1, 2, 3], [0, 0, 1, 1]), template_id="t")], 0.9)
    back = mc.fullbody_from_dict(mc.fullbody_to_dict(r))
    np.testing.assert_allclose(back.bodies[0].vertex_contact, [0.5, 0.2])
    np.testing.assert_allclose(back.objects[0].pose.orientation, [0, 0, 2 ** -0.5, 2 ** -0.5])


def test_recorder_writes_atomic_clips(tmp_path):
    from hoi_perception.pipeline.clip_recorder import ClipRecorder, read_clip
    from hoi_perception.pipeline.types import BodyState, FullBodyResult, ObjectState, Pose

    rec = ClipRecorder(tmp_path, max_gap_s=0.5, min_frames=2)
    def res(t):
        return FullBodyResult(int(t * 1e9), "cam", 0, "m", [BodyState("b", np.full((3, 3), t))],
                              [ObjectState(Pose([t, 0, 1]), instance_id=4, template_id="box")], 1.0)
    assert rec.add(res(0.0)) is None and rec.add(res(0.1)) is None and rec.add(res(0.2)) is None
    clip = rec.add(res(5.0))  # the gap closes the first clip
    assert clip is not None and len(clip.frames) == 3 and clip.fps == pytest.approx(10.0)
    back = read_clip(clip.file_path)
    np.testing.assert_allclose(back.frames[2].body.joints, 0.2)
    assert back.frames[1].objects[0].template_id == "box"
    assert rec.flush() is None  # one frame left: below min_frames
    assert not list(tmp_path.glob("*.partial"))


def _write_bag(path: Path, storage, frames, qos_mismatch=False):
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    from hoi_perception.pipeline import msg_convert as mc

    ts = get_typestore(Stores.ROS2_HUMBLE)
    with Writer(path, version=9, storage_plugin=getattr(StoragePlugin, storage)) as w:
        ci = w.add_connection("/cam/image_raw", "sensor_msgs/msg/Image", typestore=ts)
        for i, rgb in enumerate(frames):
            d = {**codec.encode(rgb, "rgb8", pad_to=32), "header": mc.header_dict(10 + i, "cam_optical")}
            w.write(ci, 10 + i, ts.serialize_cdr(mc.to_rosbags(d, "sensor_msgs/msg/Image", ts), "sensor_msgs/msg/Image"))
    if qos_mismatch:  # metadata QoS that differs from the storage's, as in the real v4 bag
        meta = path / "metadata.yaml"
        text = meta.read_text()
        qos = ("\n      - history: keep_last\n        depth: 7\n        reliability: best_effort\n"
               "        durability: volatile\n        deadline: {sec: 0, nsec: 0}\n        lifespan: {sec: 0, nsec: 0}\n"
               "        liveliness: automatic\n        liveliness_lease_duration: {sec: 0, nsec: 0}\n"
               "        avoid_ros_namespace_conventions: false")
        assert "offered_qos_profiles: []" in text
        meta.write_text(text.replace("offered_qos_profiles: []", "offered_qos_profiles:" + qos))


@pytest.mark.parametrize("storage", ["SQLITE3", "MCAP"])
def test_rosbag_source_reads_both_storages(tmp_path, storage):
    from hoi_perception.pipeline.sources import open_source

    frames = [np.random.default_rng(i).integers(0, 255, (6, 10, 3), dtype=np.uint8) for i in range(3)]
    _write_bag(tmp_path / "bag", storage, frames, qos_mismatch=True)
    from rosbags.rosbag2 import Reader

    with Reader(tmp_path / "bag") as r:  # the trap: rosbags' directory reader silently yields nothing
        assert r.connections[0].msgcount == 3 and not list(r.messages(r.connections))
    src = open_source(str(tmp_path / "bag"))
    got = list(src)
    assert len(got) == 3 and got[1].stamp_ns == 11 and got[1].frame_id == "cam_optical"
    np.testing.assert_array_equal(got[2].image, frames[2])


def test_sources_report_missing_and_corrupt(tmp_path):
    from hoi_perception.pipeline.sources import SourceError, open_source

    with pytest.raises(SourceError, match="does not exist"):
        open_source(str(tmp_path / "nope.mp4"))
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 100)
    with pytest.raises(SourceError, match="cannot open video|no decodable frames"):
        open_source(str(bad))
    (tmp_path / "badbag").mkdir()
    (tmp_path / "badbag" / "metadata.yaml").write_text("rosbag2_bagfile_information: {version: 9}\n")
    with pytest.raises(SourceError, match="cannot open rosbag2"):
        open_source(str(tmp_path / "badbag"))
    (tmp_path / "imgs").mkdir()
    with pytest.raises(SourceError, match="no images"):
        open_source(str(tmp_path / "imgs"))


@needs_shipped
def test_model_folders_are_data(tmp_path, monkeypatch):
    """A card may only name a builder of this package, and a builder that fails says so (no traceback)."""
    import yaml

    from hoi_perception.pipeline.stages import ModelNotAvailable, load_reconstructor

    monkeypatch.setenv("HOI_MODELS_DIR", str(tmp_path))
    card = yaml.safe_load((SHIPPED_FULLBODY / "model_card.yaml").read_text())
    for name, changes in {"outside": {"entry_point": "os:system"},
                          "not_a_builder": {"entry_point": "hoi_perception.atomic_files:atomic_write_bytes"},
                          "broken": {"config": {**card["config"], "width": "not a number"}}}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "model_card.yaml").write_text(yaml.safe_dump({**card, **changes}))
        for f in ("model.onnx", "model.safetensors"):
            (tmp_path / name / f).symlink_to(SHIPPED_FULLBODY / f)
    for name in ("outside", "not_a_builder"):
        with pytest.raises(ModelNotAvailable, match="not a reconstructor builder of the installed hoi_perception"):
            load_reconstructor(name, "fullbody")
    with pytest.raises(ModelNotAvailable, match="could not be built by hoi_perception.fullbody.reconstructor:build"):
        load_reconstructor("broken", "fullbody", backend="torch")
