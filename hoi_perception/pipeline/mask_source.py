"""Instance masks saved by an upstream segmenter, attached to the frames of a source.

The full-body model takes the person and object masks as input (as CrossHOI does). On a live
robot they come from a segmentation node on ROS topics; without ROS they come from two folders
of mask images, one per instance kind, named like the frames they belong to: the image's file
stem for an image folder (``img/000123.jpg`` -> ``mask_h/000123.png``), the zero-padded source
frame number for a video or bag (``000123.png``). Any image format; pixels > 127 are inside.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from hoi_perception.pipeline.sources import IMAGE_SUFFIXES, ImageFolderSource, Source, SourceError
from hoi_perception.pipeline.types import Frame


class MaskFolder:
    """Mask images of one instance kind, looked up by name (file stem)."""

    def __init__(self, path: str | Path, kind: str) -> None:
        self.path, self.kind = Path(path), kind
        if not self.path.is_dir():
            raise SourceError(f"{kind} mask folder {self.path} does not exist")
        self.files = {p.stem: p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
        if not self.files:
            raise SourceError(f"{kind} mask folder {self.path} contains no images ({', '.join(IMAGE_SUFFIXES)})")

    def load(self, name: str) -> np.ndarray | None:
        """(H, W) bool mask, or None when the folder has no mask of that name."""
        f = self.files.get(name)
        if f is None:
            return None
        m = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        if m is None:
            raise SourceError(f"cannot decode {self.kind} mask {f} (corrupt or unsupported)")
        return m > 127


class MaskedSource(Source):
    """A source whose frames carry [person, object] masks, or [object] without a person folder (the
    full-body model then takes the person from its front end); the object last, as the model expects.
    A frame without its masks is passed on without masks, and ``missing`` names it, so the model
    rejects it with its own message and the run goes on."""

    def __init__(self, source: Source, person_dir: str | Path | None, object_dir: str | Path) -> None:
        self.source = source
        self.person = MaskFolder(person_dir, "person") if person_dir else None
        self.object = MaskFolder(object_dir, "object")
        folders = [str(m.path) for m in (self.person, self.object) if m is not None]
        self.description = f"{source.description} with masks from {' and '.join(folders)}"
        self.missing: list[str] = []

    def __len__(self) -> int:
        return len(self.source)

    @property
    def problems(self) -> list[str]:
        return self.source.problems

    @property
    def unreadable(self) -> int:
        return self.source.unreadable

    def frame_name(self, frame: Frame) -> str:
        if isinstance(self.source, ImageFolderSource):
            return self.source.files[frame.index].stem
        return f"{frame.index:06d}"

    def __iter__(self) -> Iterator[Frame]:
        for frame in self.source:
            name = self.frame_name(frame)
            masks = [m.load(name) for m in (self.person, self.object) if m is not None]
            if any(m is None for m in masks):
                self.missing.append(name)
                yield frame
                continue
            h, w = frame.image.shape[:2]
            if any(m.shape != (h, w) for m in masks):
                # Frame validation would reject it too; say which file is off.
                sizes = " / ".join(f"{m.shape[1]}x{m.shape[0]}" for m in masks)
                raise SourceError(f"masks for {name} are {sizes} but the image is {w}x{h}")
            yield dataclasses.replace(frame, masks=np.stack(masks))

    def close(self) -> None:
        self.source.close()
