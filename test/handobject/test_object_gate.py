"""object_gate: an object on a face is refused; held objects beside a face are kept (unit cases), and on real
photos a bare hand by a face gets no object while a held bottle does."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from hoi_perception.frontend.interface import PersonDetection
from hoi_perception.frontend.mediapipe_frontend import POSE_NAMES
from hoi_perception.handobject.object_gate import FACE_SHARE_MAX, face_disks, on_face, silhouette_pixels
from hoi_perception.paths import models_dir, shared_data_dir
from hoi_perception.pipeline.types import CameraIntrinsics, Frame, InputError


def person(face_centre=(100.0, 100.0), spread=10.0, visible=1.0) -> PersonDetection:
    kp = np.full((len(POSE_NAMES), 2), 500.0)
    offsets = {"nose": (0, 0), "left_eye": (spread, -spread), "right_eye": (-spread, -spread),
               "mouth_left": (spread / 2, spread), "mouth_right": (-spread / 2, spread)}
    for name, off in offsets.items():
        kp[POSE_NAMES.index(name)] = np.add(face_centre, off)
    vis = np.zeros(len(POSE_NAMES))
    vis[[POSE_NAMES.index(n) for n in offsets]] = visible  # the ears are hidden
    return PersonDetection(POSE_NAMES, kp, vis, None, None, np.array([0, 0, 600, 600.0]), 1.0)


def square(x0, y0, side, step=1.0) -> np.ndarray:
    g = np.arange(0, side, step)
    return np.stack(np.meshgrid(x0 + g, y0 + g), -1).reshape(-1, 2)


def test_face_disk_from_visible_keypoints_only():
    (centre, radius), = face_disks([person()])
    assert np.allclose(centre, [100, 100])
    assert radius == pytest.approx(np.hypot(10, 10) * 1.3)
    assert face_disks([person(visible=0.1)]) == []  # a face seen from behind: no disk


def test_object_on_face_refused_and_beside_kept():
    on, reason = on_face(square(90, 90, 20), [person()])
    assert on == 1.0 and reason and "face" in reason
    beside, reason = on_face(square(140, 90, 40), [person()])  # a phone held beside the head
    assert beside < FACE_SHARE_MAX and reason is None
    assert on_face(np.zeros((0, 2)), [person()]) == (0.0, None)
    assert on_face(square(90, 90, 20), []) == (0.0, None)  # no face seen: nothing to refuse on


def test_silhouette_pixels_cover_projected_triangle():
    k = np.array([[100.0, 0, 50], [0, 100.0, 50], [0, 0, 1]])
    verts = np.array([[-0.1, -0.1, 1.0], [0.1, -0.1, 1.0], [0.1, 0.1, 1.0], [-0.1, 0.1, 1.0]])
    px = silhouette_pixels(verts, np.array([[0, 1, 2], [0, 2, 3]]), k, (100, 100))
    assert px.min() >= 39 and px.max() <= 61 and len(px) > 100


@pytest.mark.skipif(not (models_dir() / "handobject" / "model_card.yaml").is_file(), reason="no handobject model")
@pytest.mark.parametrize("photo,expect_object", [("hamer/test5.jpg", False), ("hort/test5.jpeg", True)])
def test_real_photo(photo, expect_object):
    pytest.importorskip("mediapipe")
    from hoi_perception.pipeline.stages import load_reconstructor

    path = shared_data_dir() / "images" / "hands" / photo
    if not path.is_file():
        pytest.skip(f"shared photo {path} is missing")
    rgb = np.ascontiguousarray(cv2.imread(str(path))[..., ::-1])
    kin = CameraIntrinsics.from_fov(rgb.shape[1], rgb.shape[0], 60.0)
    recon = load_reconstructor("handobject", "handobject", frontend_mode="image")
    assert recon.reconstruct(Frame(rgb, 0, "camera", kin, index=0)) is None  # buffer filling
    frame = Frame(rgb, 100_000_000, "camera", kin, index=1)
    if expect_object:
        assert recon.reconstruct(frame).object.mesh is not None
    else:
        with pytest.raises(InputError, match="lies on a face"):
            recon.reconstruct(frame)
