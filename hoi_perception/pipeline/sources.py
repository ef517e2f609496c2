"""Frame sources: video file, image folder, rosbag2 (sqlite3 or MCAP), camera index.

Every source yields `Frame`s (RGB uint8, stamp in ns, camera optical frame id, intrinsics) and
raises SourceError with a message a user can act on for missing or unreadable inputs. What a
source passes over and goes on from (an undecodable image in a folder, a video that ends before
its container's frame count) is said in its `problems` list.

Given intrinsics are (fx, fy, cx, cy) in pixels of the source's own images: they are used as they
are, never rescaled, and a principal point outside an image is an error.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from hoi_perception.pipeline import image_codec
from hoi_perception.pipeline.types import CameraIntrinsics, Frame, InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
DEFAULT_FRAME_ID = "camera_color_optical_frame"


class SourceError(RuntimeError):
    """A source that cannot be opened or read."""


class Source:
    """Iterable of Frames; `len()` is the number of frames when known (else 0)."""

    description = ""
    problems: list[str]  # what was passed over while reading, said to the user at the end
    unreadable = 0  # frames passed over because they could not be decoded

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def __len__(self) -> int:
        return 0

    def close(self) -> None:
        pass


Pinhole = tuple[float, float, float, float]  # fx, fy, cx, cy in pixels


def _intrinsics(w: int, h: int, given: Pinhole | None, hfov_deg: float) -> CameraIntrinsics:
    if given is None:
        return CameraIntrinsics.from_fov(w, h, hfov_deg)
    fx, fy, cx, cy = (float(x) for x in given)
    if not (0.0 <= cx < w and 0.0 <= cy < h):
        raise SourceError(f"the given intrinsics put the principal point at ({cx:g}, {cy:g}), outside the {w}x{h} "
                          f"images of this source: give fx,fy,cx,cy in pixels of these images")
    return CameraIntrinsics(fx, fy, cx, cy, w, h)


class VideoSource(Source):
    def __init__(self, path: str | Path, intrinsics: Pinhole | None = None, hfov_deg: float = 60.0,
                 frame_id: str = DEFAULT_FRAME_ID, stride: int = 1, max_frames: int = 0) -> None:
        self.problems = []
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"video file {self.path} does not exist")
        self.cap = cv2.VideoCapture(str(self.path))
        if not self.cap.isOpened():
            raise SourceError(f"cannot open video {self.path} (not a video, corrupt, or unsupported codec)")
        ok, first = self.cap.read()
        if not ok or first is None:
            self.cap.release()
            raise SourceError(f"video {self.path} has no decodable frames (corrupt or empty)")
        self._first = first
        self.fps = self.cap.get(cv2.CAP_PROP_FPS) or 30.0
        self.count = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.given, self.hfov, self.frame_id = intrinsics, hfov_deg, frame_id
        self.stride, self.max_frames = max(1, int(stride)), int(max_frames)
        self.description = f"video {self.path.name} ({self.count} frames at {self.fps:.2f} fps)"

    def __len__(self) -> int:
        n = -(-self.count // self.stride) if self.count else 0
        return min(n, self.max_frames) if self.max_frames else n

    def __iter__(self) -> Iterator[Frame]:
        idx, emitted = 0, 0
        bgr = self._first
        while bgr is not None:
            if idx % self.stride == 0:
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                h, w = rgb.shape[:2]
                yield Frame(image=rgb, stamp_ns=int(round(idx * 1e9 / self.fps)), frame_id=self.frame_id,
                            intrinsics=_intrinsics(w, h, self.given, self.hfov), index=idx)
                emitted += 1
                if self.max_frames and emitted >= self.max_frames:
                    return
            ok, bgr = self.cap.read()
            bgr = bgr if ok else None
            idx += 1
        if self.count and idx < self.count:  # ran out before the container's own count
            self.problems.append(f"video {self.path.name}: decoded {idx} of the {self.count} frames its container "
                                 f"lists (truncated or corrupt)")

    def close(self) -> None:
        self.cap.release()


class ImageFolderSource(Source):
    def __init__(self, path: str | Path, intrinsics: Pinhole | None = None, hfov_deg: float = 60.0,
                 frame_id: str = DEFAULT_FRAME_ID, fps: float = 30.0, max_frames: int = 0) -> None:
        self.problems = []
        self.path = Path(path)
        if not self.path.is_dir():
            raise SourceError(f"image folder {self.path} does not exist")
        self.files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if max_frames:
            self.files = self.files[:max_frames]
        if not self.files:
            raise SourceError(f"image folder {self.path} contains no images ({', '.join(IMAGE_SUFFIXES)})")
        self.given, self.hfov, self.frame_id, self.fps = intrinsics, hfov_deg, frame_id, fps
        self.description = f"image folder {self.path} ({len(self.files)} images)"

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[Frame]:
        for i, f in enumerate(self.files):
            bgr = cv2.imread(str(f), cv2.IMREAD_COLOR)
            if bgr is None:  # one bad file does not end the folder: said, and the next one read
                self.problems.append(f"cannot decode image {f} (corrupt or unsupported); skipped")
                self.unreadable += 1
                continue
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            h, w = rgb.shape[:2]
            yield Frame(image=rgb, stamp_ns=int(round(i * 1e9 / self.fps)), frame_id=self.frame_id,
                        intrinsics=_intrinsics(w, h, self.given, self.hfov), index=i)


class CameraSource(Source):
    def __init__(self, index: int, intrinsics: Pinhole | None = None, hfov_deg: float = 60.0,
                 frame_id: str = DEFAULT_FRAME_ID, max_frames: int = 0) -> None:
        self.problems = []
        self.cap = cv2.VideoCapture(int(index))
        if not self.cap.isOpened():
            raise SourceError(f"cannot open camera {index}")
        self.given, self.hfov, self.frame_id, self.max_frames = intrinsics, hfov_deg, frame_id, int(max_frames)
        self.description = f"camera {index}"

    def __iter__(self) -> Iterator[Frame]:
        i = 0
        while not self.max_frames or i < self.max_frames:
            ok, bgr = self.cap.read()
            if not ok:
                return
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            h, w = rgb.shape[:2]
            yield Frame(image=rgb, stamp_ns=time.time_ns(), frame_id=self.frame_id,
                        intrinsics=_intrinsics(w, h, self.given, self.hfov), index=i)
            i += 1

    def close(self) -> None:
        self.cap.release()


IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")


class RosbagSource(Source):
    """rosbag2 directory (or a single .db3/.mcap file) with sensor_msgs Image/CompressedImage.

    rosbags matches a bag's connections by topic, type *and* QoS between metadata.yaml and the
    storage file; when the two disagree (seen with real v4 bags) the directory reader silently
    yields nothing. Uncompressed bags are therefore read from their storage files directly, and
    message counts are checked against the metadata so a silent mismatch becomes an error.
    """

    def __init__(self, path: str | Path, image_topic: str = "", camera_info_topic: str = "",
                 intrinsics: Pinhole | None = None, hfov_deg: float = 60.0, max_frames: int = 0) -> None:
        self.problems = []
        from rosbags.rosbag2 import Reader
        from rosbags.rosbag2.errors import ReaderError
        from rosbags.typesys import Stores, get_typestore

        self.path = Path(path)
        if not self.path.exists():
            raise SourceError(f"rosbag2 {self.path} does not exist")
        self.typestore = get_typestore(Stores.ROS2_HUMBLE)
        try:
            self.reader = Reader(self.path)
            self.reader.open()
        except (ReaderError, OSError, ValueError, KeyError) as exc:
            raise SourceError(f"cannot open rosbag2 {self.path}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - storage plugins raise their own errors on corrupt files
            raise SourceError(f"cannot open rosbag2 {self.path} (corrupt?): {exc}") from exc
        images = [c for c in self.reader.connections if c.msgtype in IMAGE_TYPES]
        if image_topic:
            images = [c for c in images if c.topic == image_topic]
        if not images:
            topics = sorted({f"{c.topic} [{c.msgtype}]" for c in self.reader.connections})
            self.reader.close()
            raise SourceError(f"rosbag2 {self.path} has no image topic{' ' + image_topic if image_topic else ''}; "
                              f"topics: {', '.join(topics) or 'none'}")
        self.image_topic = images[0].topic
        self.expected = sum(c.msgcount for c in images if c.topic == self.image_topic)
        infos = [c for c in self.reader.connections if c.msgtype == "sensor_msgs/msg/CameraInfo"]
        if camera_info_topic:
            infos = [c for c in infos if c.topic == camera_info_topic]
        else:  # the CameraInfo beside the image topic, if any
            base = self.image_topic.rsplit("/", 1)[0]
            infos = [c for c in infos if c.topic.rsplit("/", 1)[0] == base] or infos
        self.info_topic = infos[0].topic if infos else ""
        self.given, self.hfov, self.max_frames = intrinsics, hfov_deg, int(max_frames)
        self.description = f"rosbag2 {self.path.name} topic {self.image_topic} ({self.expected} images)"

    def __len__(self) -> int:
        return min(self.expected, self.max_frames) if self.max_frames else self.expected

    def _raw_messages(self, topics: set[str]):
        r = self.reader
        inner = getattr(r, "storage", None)  # rosbags' DirectoryReader for bag folders
        storages = getattr(inner, "storages", None)
        if storages and not r.compression_mode:
            # Storage-level connections: no cross-matching of QoS between metadata and storage.
            for storage in storages:
                conns = [c for c in storage.connections if c.topic in topics]
                if conns:
                    yield from storage.messages(conns)
        else:
            yield from r.messages(connections=[c for c in r.connections if c.topic in topics])

    def _register(self, conn) -> None:
        if conn.msgtype not in self.typestore.types and conn.msgdef.data:
            from rosbags.typesys import get_types_from_idl, get_types_from_msg

            fmt = getattr(conn.msgdef.format, "name", "")
            types = (get_types_from_idl(conn.msgdef.data) if fmt == "IDL"
                     else get_types_from_msg(conn.msgdef.data, conn.msgtype))
            self.typestore.register(types)

    def __iter__(self) -> Iterator[Frame]:
        topics = {self.image_topic} | ({self.info_topic} if self.info_topic else set())
        info = None
        count = 0
        for conn, stamp, raw in self._raw_messages(topics):
            self._register(conn)
            try:
                msg = self.typestore.deserialize_cdr(raw, conn.msgtype)
            except Exception as exc:  # noqa: BLE001 - rosbags raises several error types on bad CDR
                raise SourceError(f"rosbag2 {self.path}: cannot decode a {conn.msgtype} on {conn.topic}: {exc}") from exc
            if conn.topic == self.info_topic:
                info = msg
                continue
            count += 1
            if conn.msgtype.endswith("CompressedImage"):
                bgr = cv2.imdecode(np.frombuffer(bytes(msg.data), np.uint8), cv2.IMREAD_COLOR)
                if bgr is None:
                    raise SourceError(f"rosbag2 {self.path}: undecodable CompressedImage at {stamp}")
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            else:
                try:
                    rgb = image_codec.image_msg_to_rgb(msg, use_cv_bridge=False)
                except InputError as exc:
                    raise SourceError(f"rosbag2 {self.path}: image at {stamp}: {exc}") from exc
            h, w = rgb.shape[:2]
            k = None
            if info is not None and int(info.width) == w and int(info.height) == h and float(info.k[0]) > 0:
                k = CameraIntrinsics.from_k(info.k, w, h)
            stamp_ns = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec) or int(stamp)
            yield Frame(image=rgb, stamp_ns=stamp_ns, frame_id=msg.header.frame_id or DEFAULT_FRAME_ID,
                        intrinsics=k or _intrinsics(w, h, self.given, self.hfov), index=count - 1)
            if self.max_frames and count >= self.max_frames:
                return
        if count == 0 and self.expected > 0:
            raise SourceError(f"rosbag2 {self.path}: metadata lists {self.expected} messages on {self.image_topic} "
                              "but none could be read (connection/QoS mismatch between metadata and storage)")

    def close(self) -> None:
        self.reader.close()


def open_source(spec: str, **kwargs) -> Source:
    """A source from a CLI spec: camera index, video file, image folder or rosbag2 path."""
    spec = str(spec)
    bag_kwargs = {k: kwargs[k] for k in ("image_topic", "intrinsics", "hfov_deg", "max_frames") if k in kwargs}
    common = {k: kwargs[k] for k in ("intrinsics", "hfov_deg", "max_frames") if k in kwargs}
    if spec.isdigit():
        return CameraSource(int(spec), **common)
    p = Path(spec).expanduser()
    if not p.exists():
        raise SourceError(f"source {spec} does not exist (expected a video, image folder, rosbag2 or camera index)")
    if p.is_dir():
        if (p / "metadata.yaml").is_file():
            return RosbagSource(p, **bag_kwargs)
        return ImageFolderSource(p, **common)
    if p.suffix in (".mcap", ".db3"):
        return RosbagSource(p, **bag_kwargs)
    return VideoSource(p, stride=kwargs.get("stride", 1), **common)
