"""Clip inference shared by the live reconstructor, the benchmark and the real-clip script.

`HandObjectModel` runs the network through `hoi_perception.backends` (torch, onnxruntime or
tensorrt; same pre/post-processing for all) and turns its outputs into a metric object mesh, per-frame
object poses (refined by render-and-compare on the completed masks), hand joints and masks.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from hoi_perception.pipeline.stages import InferenceError, ModelNotAvailable
from hoi_perception.pipeline.types import CameraIntrinsics, InputError

from .encoding import IMAGE_SIZE, MASK_SIZE, MAX_FRAMES, intrinsics_vector
from .flip import flip_clip, merge_flipped
from .flow import FLOW_INPUTS
from .flow import sample as flow_sample
from .hand_crop import Window, centre_window
from .mesh import EmptyShapeError, occupancy_to_mesh
from .pose import decode_poses, depth_points, refine_translation, refine_with_depth, track_mask_centroids

log = logging.getLogger("hoi_perception.handobject")

INPUT_NAMES = ("images", "intrinsics", "valid")
OUTPUT_NAMES = ("occupancy", "masks", "pose", "hand_uv", "hand_z", "hand_conf")
MIN_FRAMES = 2
HAND_MIN_PIXELS = 12  # predicted hand mask pixels (64x64) below which no hand is reported
OBJECT_MIN_PIXELS = 6  # predicted visible-object pixels (64x64) below which the object is not in view
DEPTH_MODES = ("shared", "translation", "rigid")  # pose fits to depth; see HandObjectModel._fit_depth
# per-frame translation from the predicted amodal masks: none (as regressed), silhouette (render-and-
# compare of centroid and area, `pose.refine_translation`), centroid (`pose.track_mask_centroids`)
REFINE_MODES = ("none", "silhouette", "centroid")


def refine_mode(value) -> str:
    """A model card's or caller's `refine` setting (older cards: true/false) as one of REFINE_MODES."""
    if isinstance(value, bool):
        return "silhouette" if value else "none"
    if value not in REFINE_MODES:
        raise ValueError(f"refine must be one of {', '.join(REFINE_MODES)} (or true/false), got {value!r}")
    return str(value)


def mesh_level(value) -> float:
    """A model card's `mesh_level`: the occupancy probability marching cubes extracts the surface at."""
    try:
        level = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"mesh_level must be a number in (0, 1), got {value!r}") from None
    if not 0.0 < level < 1.0:
        raise ValueError(f"mesh_level must lie in (0, 1), got {level}")
    return level


def crop_square(image: np.ndarray, k: CameraIntrinsics, size: int = IMAGE_SIZE,
                window: Window | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Crop a square ``window`` (the centre square by default; `hand_crop.py` makes one that follows
    the hands) and resize to size x size; returns (image, 3x3 K of the result)."""
    win = window or centre_window(image.shape)
    x0, y0, s = win.x0, win.y0, win.side
    crop = image[y0:y0 + s, x0:x0 + s]
    img = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if s > size else cv2.INTER_LINEAR)
    sc = size / s
    kk = np.array([[k.fx * sc, 0, (k.cx - x0 + 0.5) * sc - 0.5],
                   [0, k.fy * sc, (k.cy - y0 + 0.5) * sc - 0.5], [0, 0, 1]], np.float64)
    return img, kk


def crop_square_depth(depth: np.ndarray, size: int = IMAGE_SIZE, window: Window | None = None) -> np.ndarray:
    """The same crop and resize as `crop_square`, for a depth image (nearest neighbour, so no depth
    is invented across object edges); metres, NaN where unknown."""
    d = np.asarray(depth, np.float32)
    win = window or centre_window(d.shape)
    x0, y0, s = win.x0, win.y0, win.side
    d = np.where(np.isfinite(d) & (d > 0), d, np.nan).astype(np.float32)
    return cv2.resize(d[y0:y0 + s, x0:x0 + s], (size, size), interpolation=cv2.INTER_NEAREST)


@dataclass
class ClipResult:
    vertices: np.ndarray  # (V, 3) object frame (aligned with keyframe 0's camera), metres
    faces: np.ndarray  # (F, 3)
    poses: np.ndarray  # (T, 4, 4) camera t <- object frame (refined)
    poses_raw: np.ndarray  # (T, 4, 4) as regressed, before refinement
    hand_joints: np.ndarray  # (T, 21, 3) camera frame, metres
    hand_visible: np.ndarray  # (T,) bool
    masks: np.ndarray  # (T, 3, 64, 64) probabilities: amodal object, visible object, hand
    iou_amodal: np.ndarray  # (T,) IoU of the rendered mesh vs the predicted amodal mask (after refinement)
    iou_visible: np.ndarray  # (T,) IoU of the rendered mesh vs the predicted visible object mask
    kmats: np.ndarray  # (T, 3, 3) intrinsics of the network images
    images: np.ndarray  # (T, 128, 128, 3) network images
    frame_weights: np.ndarray | None = None
    messages: list = field(default_factory=list)
    depth_rms_m: np.ndarray | None = None  # (T,) ICP residual per keyframe where depth was used, else NaN

    @property
    def confidence(self) -> float:
        return float(np.clip(np.mean(self.iou_amodal), 0.0, 1.0))


class HandObjectModel:
    """The trained network behind one backend, with the shared pre/post-processing."""

    def __init__(self, model_dir: Path, backend: str = "onnxruntime", threads: int = 1, card: dict | None = None,
                 flip_average: bool | None = None, device: str | None = None):
        from hoi_perception.backends import BackendError, default_device, load_backend

        self.model_dir = Path(model_dir)
        self.card = card or {}
        self.backend_name = backend
        self.variant = net_variant(self.model_dir)
        self.flow_steps = int(self.card.get("flow_steps", 8))
        # a second pass on the mirrored clip, averaged in (flip.py); the card's flip_average
        self.flip_average = bool(self.card.get("flip_average", False) if flip_average is None else flip_average)
        try:
            self.mesh_level = mesh_level(self.card.get("mesh_level", 0.5))
        except ValueError as exc:
            raise ModelNotAvailable(f"hand-object model in {self.model_dir}: {exc}") from None
        try:
            device = device or default_device(backend)
            if backend == "torch":
                weights = str(self.card.get("weights_torch", "model.safetensors"))
                self.backend = load_backend("torch", torch_module=load_torch_model(self.model_dir, weights),
                                            input_names=input_names(self.variant), output_names=OUTPUT_NAMES,
                                            threads=threads, device=device)
            else:
                onnx = self.model_dir / str(self.card.get("weights_onnx", "model.onnx"))
                self.backend = load_backend(backend, onnx_path=onnx, threads=threads, device=device)
        except BackendError as exc:
            raise ModelNotAvailable(f"hand-object model in {self.model_dir}: {exc}") from exc

    def run(self, images: np.ndarray, kmats: np.ndarray) -> dict:
        """images (T, 128, 128, 3) uint8, kmats (T, 3, 3) -> raw outputs for the T frames; with
        ``flip_average`` the average of the pass on the clip and the pass on its mirror image."""
        out = self._pass(images, kmats)
        if self.flip_average:
            out = merge_flipped(out, self._pass(*flip_clip(images, kmats)))
        return out

    def _pass(self, images: np.ndarray, kmats: np.ndarray) -> dict:
        t = len(images)
        x = np.zeros((1, MAX_FRAMES, 3, IMAGE_SIZE, IMAGE_SIZE), np.float32)
        x[0, :t] = images.transpose(0, 3, 1, 2) / 255.0
        kv = np.tile(np.array([1, 1, 0.5, 0.5], np.float32), (1, MAX_FRAMES, 1))
        kv[0, :t] = intrinsics_vector(kmats, IMAGE_SIZE, IMAGE_SIZE)
        valid = np.zeros((1, MAX_FRAMES), np.float32)
        valid[0, :t] = 1
        feeds = {"images": x, "intrinsics": kv, "valid": valid}
        if self.variant == "flow":  # many network passes: the sampler integrates the flow
            out = flow_sample(self.backend.run, feeds, steps=self.flow_steps)
        else:
            out = self.backend.run(feeds)
        res = {}
        for n in OUTPUT_NAMES:
            a = np.asarray(out[n])[0]
            if not np.all(np.isfinite(a)):
                raise InferenceError(f"network output {n!r} contains NaN or infinite values")
            res[n] = a if n == "occupancy" else a[:t]
        return res

    def reconstruct(self, images: np.ndarray, kmats: np.ndarray, refine: str | bool = "silhouette",
                    depths: np.ndarray | None = None, depth_mode: str = "shared") -> ClipResult:
        """Reconstruct from T (2..6) square network images with their intrinsics. ``refine`` (one of
        REFINE_MODES) sets how each keyframe's translation follows its predicted amodal mask. With
        ``depths`` ((T, 128, 128) metres, NaN/0 unknown, e.g. from `crop_square_depth`) each
        keyframe's pose is then fitted to the observed object points by ICP (`pose.refine_with_depth`)."""
        refine = refine_mode(refine)
        t = len(images)
        if t < MIN_FRAMES:
            raise InputError(f"need at least {MIN_FRAMES} frames to reconstruct an object, got {t}")
        if t > MAX_FRAMES:
            raise InputError(f"at most {MAX_FRAMES} frames per reconstruction, got {t} (subsample or use the rolling buffer)")
        out = self.run(images, kmats)
        prob = 1 / (1 + np.exp(-out["occupancy"]))
        try:
            verts, faces = occupancy_to_mesh(prob, level=self.mesh_level)
        except EmptyShapeError as exc:
            raise InferenceError(f"no object surface reconstructed: {exc}") from exc
        masks = 1 / (1 + np.exp(-out["masks"]))
        poses_raw = decode_poses(out["pose"], kmats, IMAGE_SIZE, IMAGE_SIZE)
        poses = poses_raw.copy()
        k64 = kmats.copy()
        k64[:, :2] *= MASK_SIZE / IMAGE_SIZE
        k64[:, 0, 2] = (kmats[:, 0, 2] + 0.5) * MASK_SIZE / IMAGE_SIZE - 0.5
        k64[:, 1, 2] = (kmats[:, 1, 2] + 0.5) * MASK_SIZE / IMAGE_SIZE - 0.5
        iou_a = np.zeros(t)
        iou_v = np.zeros(t)
        from .mesh import silhouette
        from .pose import iou

        if refine == "centroid":
            poses = track_mask_centroids(poses_raw, masks[:, 0] > 0.5, k64)
        for i in range(t):
            if refine == "silhouette":
                poses[i], _, iou_a[i] = refine_translation(verts, faces, poses_raw[i], k64[i], masks[i, 0] > 0.5)
            sil = silhouette(verts @ poses[i, :3, :3].T + poses[i, :3, 3], faces, k64[i], MASK_SIZE, MASK_SIZE)
            if refine != "silhouette":
                iou_a[i] = iou(sil, masks[i, 0] > 0.5)
            iou_v[i] = iou(sil, masks[i, 1] > 0.5)
        depth_rms = np.full(t, np.nan)
        if depths is not None:
            depth_rms = self._fit_depth(verts, poses, masks, kmats, depths, depth_mode)
        # hands: (u, v) soft-argmax, wrist depth and relative depths
        kx = kmats[:, None]
        z_root = np.exp(out["hand_z"][:, 0]) * kmats[:, 0, 0] / IMAGE_SIZE
        z = z_root[:, None] + out["hand_z"][:, 1:] / 10.0
        u_px = (out["hand_uv"][..., 0] + 1) / 2 * IMAGE_SIZE - 0.5
        v_px = (out["hand_uv"][..., 1] + 1) / 2 * IMAGE_SIZE - 0.5
        hand = np.stack([(u_px - kx[..., 0, 2]) * z / kx[..., 0, 0], (v_px - kx[..., 1, 2]) * z / kx[..., 1, 1], z], -1)
        hand_vis = (masks[:, 2] > 0.5).sum((1, 2)) >= HAND_MIN_PIXELS
        msgs = []
        if not hand_vis.any():
            msgs.append("no hand visible in any keyframe: hand joints are not reported")
        obj_vis = (masks[:, 1] > 0.5).sum((1, 2))
        for i in np.nonzero(obj_vis < OBJECT_MIN_PIXELS)[0]:
            msgs.append(f"keyframe {i}: the object is barely visible ({int(obj_vis[i])} mask pixels); its pose is unreliable")
        return ClipResult(vertices=verts, faces=faces, poses=poses, poses_raw=poses_raw, hand_joints=hand.astype(np.float32),
                          hand_visible=hand_vis, masks=masks, iou_amodal=iou_a, iou_visible=iou_v, kmats=kmats,
                          images=images, messages=msgs, depth_rms_m=depth_rms)

    @staticmethod
    def _fit_depth(verts, poses, masks, kmats, depths, mode) -> np.ndarray:
        """ICP of every keyframe's pose (in place) to its depth inside the predicted visible-object
        mask, shrunk by a pixel so that edge pixels (often background or hand) stay out. Mode
        "shared" fits the translation per keyframe, then applies one correction to all of them:
        the median offset in the object frame (the reconstructed shape's origin sits off the
        observed surface by the same amount in every frame), so frame-to-frame motion is kept."""
        if depths.shape != (len(poses), IMAGE_SIZE, IMAGE_SIZE):
            raise InputError(f"depth must be ({len(poses)}, {IMAGE_SIZE}, {IMAGE_SIZE}) at the network resolution, "
                             f"got {depths.shape}")
        if mode not in DEPTH_MODES:
            raise ValueError(f"depth mode must be one of {', '.join(DEPTH_MODES)}, got {mode!r}")
        rms = np.full(len(poses), np.nan)
        kernel = np.ones((3, 3), np.uint8)
        offsets = []  # object-frame translation corrections ("shared")
        from scipy.spatial import cKDTree

        tree = cKDTree(np.asarray(verts, np.float64))
        for i in range(len(poses)):
            vis = cv2.resize((masks[i, 1] > 0.5).astype(np.uint8), (IMAGE_SIZE, IMAGE_SIZE),
                             interpolation=cv2.INTER_NEAREST)
            vis = cv2.erode(vis, kernel) > 0
            pts = depth_points(depths[i], vis, kmats[i])
            fitted, r = refine_with_depth(verts, poses[i], pts, mode="rigid" if mode == "rigid" else "translation",
                                          tree=tree)
            if r is None:
                continue
            rms[i] = r
            if mode == "shared":
                offsets.append(poses[i, :3, :3].T @ (fitted[:3, 3] - poses[i, :3, 3]))
            else:
                poses[i] = fitted
        if offsets:
            d = np.median(np.stack(offsets), axis=0)
            poses[:, :3, 3] += np.einsum("tij,j->ti", poses[:, :3, :3], d)
        return rms


def input_names(variant: str) -> tuple[str, ...]:
    return INPUT_NAMES + FLOW_INPUTS if variant == "flow" else INPUT_NAMES


def net_variant(model_dir: Path) -> str:
    """"direct" or "flow", from the model folder's net_config.json (older folders: direct)."""
    cpath = Path(model_dir) / "net_config.json"
    if not cpath.is_file():
        return "direct"
    return str(json.loads(cpath.read_text()).get("variant", "direct"))


def load_torch_model(model_dir: Path, weights: str = "model.safetensors"):
    """The network from its safetensors weights (fp16, fp32 compute) + `net_config.json`."""
    from safetensors.torch import load_file

    from .model import HandObjectNet, NetConfig

    model_dir = Path(model_dir)
    wpath, cpath = model_dir / weights, model_dir / "net_config.json"
    for p in (wpath, cpath):
        if not p.is_file():
            raise ModelNotAvailable(f"{p} is missing")
    net = HandObjectNet(NetConfig.from_dict(json.loads(cpath.read_text())))
    state = {k: v.float() for k, v in load_file(str(wpath)).items()}
    net.load_state_dict(state)
    return OutputDict(net.eval())


def OutputDict(net):
    """nn.Module adapter: keyword inputs -> dict of the exported outputs (the backend/ONNX contract)."""
    import torch

    class _Outputs(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.net = inner

        def forward(self, images, intrinsics, valid, t=None, noisy_occupancy=None, noisy_mask=None):
            out = self.net(images, intrinsics, valid, t, noisy_occupancy, noisy_mask)
            return {n: out[n] for n in OUTPUT_NAMES}

    return _Outputs(net)
