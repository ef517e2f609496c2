"""Skeleton kinematics in numpy for posing bodies and hands before skinning them.

The body-model interface takes SMPL-style local rotations expressed in rest-body axes
(G_j = G_parent R_j, see body/interface.py). Planning a pose (arm IK, palm placement, finger
flexion axes) only needs the canonical joints, so it is done here on the skeleton alone and the
mesh is skinned once per candidate by the body model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from hoi_perception.body.joints import BODY_JOINTS, BODY_PARENTS, HAND_JOINTS
from hoi_perception.geometry import rotation_between

FINGERS = ("thumb", "index", "middle", "ring", "pinky")


def rot(axis, angle: float) -> np.ndarray:
    axis = np.asarray(axis, dtype=np.float64)
    return Rotation.from_rotvec(axis / np.linalg.norm(axis) * angle).as_matrix()


def frame(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Orthonormal frame (columns) with first axis u and second axis in the (u, w) plane."""
    e1 = u / np.linalg.norm(u)
    e2 = w - np.dot(w, e1) * e1
    e2 /= np.linalg.norm(e2)
    return np.stack([e1, e2, np.cross(e1, e2)], axis=1)


def align_two(u_from, w_from, u_to, w_to) -> np.ndarray:
    """Rotation R with R u_from = u_to exactly and R w_from in the (u_to, w_to) half-plane."""
    return frame(np.asarray(u_to, float), np.asarray(w_to, float)) @ frame(
        np.asarray(u_from, float), np.asarray(w_from, float)).T


def angle_of(R: np.ndarray) -> float:
    return float(np.linalg.norm(Rotation.from_matrix(R).as_rotvec()))


@dataclass
class HandGeometry:
    """Rest-pose hand landmarks in the hand's own rest frame (joint positions relative to the wrist).

    palm_normal points out of the palm (where a grasped object is); finger_dir from the wrist to
    the middle knuckle; palm_point is on the palm skin, where the object touches.
    """

    rest_joints: np.ndarray  # (21,3) relative to the wrist
    palm_normal: np.ndarray
    finger_dir: np.ndarray
    palm_point: np.ndarray  # relative to the wrist
    flex_axes: np.ndarray  # (5,3) per finger, rest frame: positive angle curls towards the palm

    @staticmethod
    def from_rest(joints21: np.ndarray, side: str, palm_vertices: np.ndarray | None = None) -> "HandGeometry":
        j = np.asarray(joints21, dtype=np.float64) - joints21[0]
        idx = {n: i for i, n in enumerate(HAND_JOINTS)}
        a, b = j[idx["index1"]], j[idx["pinky1"]]
        n = np.cross(a, b) if side == "right" else np.cross(b, a)
        n /= np.linalg.norm(n)
        knuckles = j[[idx["index1"], idx["middle1"], idx["ring1"], idx["pinky1"]]].mean(0)
        f = knuckles / np.linalg.norm(knuckles)
        centre = 0.55 * knuckles
        depth = 0.012
        if palm_vertices is not None and len(palm_vertices):
            # The contact plane is the palm's most protruding skin (pads and thenar included), so
            # a flat surface at the palm point touches the palm without entering it.
            rel = np.asarray(palm_vertices, dtype=np.float64) - joints21[0] - centre
            along = rel @ n
            lateral = np.linalg.norm(rel - along[:, None] * n, axis=1)
            near = lateral < 0.045
            if near.any():
                depth = float(along[near].max())
        axes = []
        for finger in FINGERS:
            base, tip = j[idx[f"{finger}1" if finger != "thumb" else "thumb2"]], j[idx[f"{finger}4"]]
            d = tip - base
            ax = np.cross(d, n)  # (d x n): rotating d about it moves the tip towards +n
            axes.append(ax / np.linalg.norm(ax))
        return HandGeometry(j, n, f, centre + depth * n, np.asarray(axes))


class Skeleton:
    """Forward kinematics of the canonical body (22 joints) at one shape, plus the rest hand joints
    (finger poses are skinned by the body model, whose finger rotations live in a hand frame)."""

    def __init__(self, rest_body: np.ndarray, rest_hands: np.ndarray):
        self.rest_body = np.asarray(rest_body, dtype=np.float64)  # (22,3), pelvis at the origin
        self.rest_hands = np.asarray(rest_hands, dtype=np.float64)  # (2,21,3) left, right
        self.index = {n: i for i, n in enumerate(BODY_JOINTS)}

    def fk(self, local: np.ndarray, root_R: np.ndarray, root_t: np.ndarray):
        """local: (22,3,3) local rotations (index 0 unused). Returns positions (22,3), globals (22,3,3)."""
        G = np.empty((22, 3, 3))
        p = np.empty((22, 3))
        G[0], p[0] = root_R, root_t
        for j in range(1, 22):
            par = BODY_PARENTS[j]
            G[j] = G[par] @ local[j]
            p[j] = p[par] + G[par] @ (self.rest_body[j] - self.rest_body[par])
        return p, G

    def solve_arm(self, local: np.ndarray, root_R, root_t, side: str, wrist_target: np.ndarray,
                  pole: np.ndarray) -> float:
        """Two-bone IK: set shoulder and elbow so the wrist reaches `wrist_target` (in place).

        The elbow bends about its rest hinge axis only; the upper-arm twist is chosen so that the
        hinge is normal to the plane of the solved arm, with the elbow towards `pole`.
        Returns the remaining wrist distance to the target (0 when reachable).
        """
        s, e, w = (self.index[f"{side}_{n}"] for n in ("shoulder", "elbow", "wrist"))
        p, G = self.fk(local, root_R, root_t)
        S = p[s]
        a_rest = self.rest_body[e] - self.rest_body[s]
        b_rest = self.rest_body[w] - self.rest_body[e]
        la, lb = np.linalg.norm(a_rest), np.linalg.norm(b_rest)
        to_t = wrist_target - S
        dist = np.linalg.norm(to_t)
        u = to_t / dist
        d = float(np.clip(dist, abs(la - lb) + 1e-3, la + lb - 1e-3))
        x = (la * la - lb * lb + d * d) / (2.0 * d)
        r = np.sqrt(max(la * la - x * x, 0.0))
        h = pole - np.dot(pole, u) * u
        h = h / np.linalg.norm(h) if np.linalg.norm(h) > 1e-6 else frame(u, np.array([0.0, 0.0, -1.0]))[:, 1]
        E = S + x * u + r * h
        W = S + d * u
        hinge_rest = np.cross(a_rest, b_rest)
        G_parent = G[BODY_PARENTS[s]]
        # Shoulder: map (upper arm, hinge) at rest (carried by the parent) onto the solved plane.
        hinge_new = np.cross(E - S, W - E)
        if np.linalg.norm(hinge_new) < 1e-9:  # straight arm: keep the rest hinge direction
            hinge_new = G_parent @ hinge_rest
        G_s = align_two(G_parent @ a_rest, G_parent @ hinge_rest, E - S, hinge_new) @ G_parent
        local[s] = G_parent.T @ G_s
        # Elbow: a pure hinge rotation taking the carried forearm onto W - E.
        fore_now = G_s @ b_rest
        R_el = rotation_between(fore_now, W - E)
        local[e] = G_s.T @ (R_el @ G_s)
        return float(max(dist - d, 0.0))

    def orient_hand(self, local: np.ndarray, root_R, root_t, side: str, geom: HandGeometry,
                    palm_normal: np.ndarray, finger_dir: np.ndarray) -> None:
        """Set the wrist rotation so the palm faces `palm_normal` with fingers towards `finger_dir`."""
        e, w = self.index[f"{side}_elbow"], self.index[f"{side}_wrist"]
        _, G = self.fk(local, root_R, root_t)
        G_w = align_two(geom.palm_normal, geom.finger_dir, palm_normal, finger_dir)
        local[w] = G[e].T @ G_w


def forearm_dir(skel: Skeleton, local, root_R, root_t, side: str) -> np.ndarray:
    p, _ = skel.fk(local, root_R, root_t)
    d = p[skel.index[f"{side}_wrist"]] - p[skel.index[f"{side}_elbow"]]
    return d / np.linalg.norm(d)
