"""A walking-in-place anny clip seen by a still camera, as the front end would report it: the
evidence the clip solve is fitted to, made from a known motion so the solve can be scored."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from hoi_perception.body.interface import BodyParams
from hoi_perception.fitting.body_fit import BODY_KEYPOINTS
from hoi_perception.frontend.interface import box_of
from hoi_perception.motion4d.evidence import MASK_SIDE, ClipEvidence
from hoi_perception.raster import fill_triangles, pinhole_project

W, H = 640, 480
K = np.array([[600.0, 0, 319.5], [0, 600.0, 239.5], [0, 0, 1]])
FPS = 25.0


@pytest.fixture(scope="session")
def body():
    from hoi_perception.assets import body_model

    return body_model()


def truth_params(body, frames: int) -> BodyParams:
    """Facing the camera 3.5 m away, standing on the right foot: the left knee lifts and the arms swing."""
    p = body.rest_params(frames)
    pose = p.pose.clone()
    names = list(body.pose_joint_names)
    t = torch.arange(frames, dtype=torch.float32) / FPS
    pose[:, names.index("left_hip"), 1] = -0.8 * (0.5 - 0.5 * torch.cos(2 * np.pi * t))
    pose[:, names.index("left_knee"), 1] = 1.2 * (0.5 - 0.5 * torch.cos(2 * np.pi * t))
    pose[:, names.index("left_shoulder"), 1] = 0.6 * torch.sin(2 * np.pi * t)
    pose[:, names.index("right_shoulder"), 1] = -0.6 * torch.sin(2 * np.pi * t)
    face = torch.as_tensor([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]], dtype=torch.float32)
    transl = torch.stack([torch.full_like(t, 0.1), torch.full_like(t, 0.1), torch.full_like(t, 3.5)], 1)
    return BodyParams(p.shape, pose, face[None].expand(frames, 3, 3), transl)


def evidence_of(body, params: BodyParams, rng: np.random.Generator, noise_px: float = 2.0) -> ClipEvidence:
    with torch.no_grad():
        out = body(params, keypoints=True)
    n = params.batch_size
    names = tuple(BODY_KEYPOINTS)
    idx = [body.keypoint_names.index(BODY_KEYPOINTS[m]) for m in names]
    hips = [names.index("left_hip"), names.index("right_hip")]
    s = MASK_SIDE / W
    kp = np.zeros((n, len(names), 2))
    world = np.zeros((n, len(names), 3))
    box = np.zeros((n, 4))
    masks = np.zeros((n, round(H * s), MASK_SIDE), bool)
    faces = body.faces.numpy()
    for t in range(n):
        k3 = out.keypoints[t].double().numpy()[idx]
        kp[t] = pinhole_project(k3, K, 1e-3) + rng.normal(0, noise_px, (len(names), 2))
        world[t] = k3 - k3[hips].mean(0) + rng.normal(0, 0.02, (len(names), 3))
        box[t] = box_of(kp[t], None, 0.1, (H, W))
        uv = pinhole_project(out.vertices[t].double().numpy(), K, 1e-3) * s
        masks[t] = fill_triangles(uv[faces], masks.shape[1:])
    return ClipEvidence(video="synthetic", fps=FPS, camera=K, image_size=(W, H), keypoint_names=names,
                        frame_index=np.arange(n), person=np.ones(n, bool), keypoints=kp, visibility=np.ones((n, len(names))),
                        world=world, box=box, masks=masks, cut=np.zeros(n, bool))


@pytest.fixture(scope="session")
def walking(body):
    params = truth_params(body, 16)
    with torch.no_grad():
        out = body(params, keypoints=True)
    return params, out, evidence_of(body, params, np.random.default_rng(0))

