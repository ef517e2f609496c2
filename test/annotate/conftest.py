"""Fixtures of the annotation tests: one real clip folder per session, copied per module, and a server."""
from __future__ import annotations

import contextlib
import shutil
import threading

import cv2
import pytest

from hoi_perception.paths import shared_data_dir

BEHAVE = shared_data_dir() / "images" / "hoi_noncommercial" / "behave_frames_contho"
STEM, TEMPLATE = "050507", "proc_chair_0_0"  # a person holding a black chair
SIZE, FRAMES = (640, 480), 4  # a solve segment needs 3 frames or more


@pytest.fixture(scope="session")
def clip_source(tmp_path_factory):
    """A real clip folder: a short still video of a real BEHAVE photo (a person with a chair), its given
    object mask, reconstructed with a procedural chair template by `reconstruct_video` (about a minute)."""
    from hoi_perception.motion4d.reconstruct import reconstruct_video
    from hoi_perception.motion4d.solve import ClipSolveSettings

    img_path, mask_path = BEHAVE / "img" / f"{STEM}.jpg", BEHAVE / "mask_o" / f"{STEM}.jpg"
    assert img_path.is_file() and mask_path.is_file(), f"the shared BEHAVE frame {img_path} is missing"
    w, h = SIZE
    img = cv2.resize(cv2.imread(str(img_path)), SIZE, interpolation=cv2.INTER_AREA)
    mask = cv2.resize(cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE), SIZE, interpolation=cv2.INTER_AREA) > 127
    base = tmp_path_factory.mktemp("clip")
    video = base / "still.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (w, h))
    for _ in range(FRAMES):
        writer.write(img)
    writer.release()
    out = base / "clip"
    # fewer solver steps than a real run: the page needs a posed body and a placed object, not a fine fit
    summary = reconstruct_video(video, out, object_template=TEMPLATE, max_frames=FRAMES, videos=False,
                                object_masks=lambda index: mask, settings=ClipSolveSettings(steps_pose=25, steps_full=25))
    assert summary["solved_frames"] == FRAMES and summary["object"] == TEMPLATE, summary
    return out


@pytest.fixture(scope="module")
def clip_copy(clip_source, tmp_path_factory):
    """copy(name) -> a private copy of the clip folder (tests write annotations and re-solve)."""

    def copy(name: str):
        dst = tmp_path_factory.mktemp(name) / "clip"
        shutil.copytree(clip_source, dst)
        return dst

    return copy


@pytest.fixture(scope="module")
def annotate_server():
    """serve(clip_dir) -> context manager yielding a running AnnotateServer on a free port."""
    from hoi_perception.annotate.server import AnnotateServer

    @contextlib.contextmanager
    def serve(clip_dir):
        server = AnnotateServer(clip_dir, port=0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server
        finally:
            server.shutdown()
            server.server_close()
            thread.join(10)

    return serve
