"""Things in the room that nobody touches: objects of the same split standing on the floor around a
full-body scene.

A camera sees clutter - other chairs, bags, tables - beside the person. In a render that holds only the
person and the object they handle, "the one solid thing that is not the person" is a sufficient answer,
and a segmenter trained on it marks every chair in a real room. With distractors in the renders the
object has to be told from the rest by its relation to the person (the prompt), not by being alone.

Distractors draw from their own random stream (the scene's seed and a fixed tag), so a scene is the
same with and without them; they are stored as background in the instance masks.
"""
from __future__ import annotations

import numpy as np

from .kinematics import rot
from .scenes import PlacedObject, axis_to_z, rest_on_ground

DISTRACTOR_ID = 10  # instance id of the first distractor (one id each); written to the masks as 0
MAX_DISTRACTORS = 6
STREAM_TAG = 7  # the distractors' random stream: default_rng([seed, STREAM_TAG])
SIZE_RANGE = (0.25, 1.3)  # m, the largest side: from a bag on the floor to a table or a cabinet
GAP_RANGE = (0.05, 1.0)  # m, from the scene's footprint to the distractor's
CLEARANCE = 0.05  # m between a distractor's footprint and anything else's


def distractor_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), STREAM_TAG])


def _footprint(points: np.ndarray) -> tuple[np.ndarray, float]:
    """(centre xy, radius) of the points' horizontal footprint."""
    xy = np.asarray(points, np.float64)[:, :2]
    c = 0.5 * (xy.min(0) + xy.max(0))
    return c, float(np.linalg.norm(xy - c, axis=1).max(initial=0.0))


def place_distractors(rng: np.random.Generator, draw, scene_points: np.ndarray, count: int) -> list[PlacedObject]:
    """Up to ``count`` objects from ``draw(rng, predicate) -> (asset, sdf)`` upright on the floor (z = 0)
    around ``scene_points`` (the person and their object, world frame), none overlapping another's
    footprint. Fewer where the draws do not fit."""
    if not 0 <= count <= MAX_DISTRACTORS:
        raise ValueError(f"distractors must be within 0..{MAX_DISTRACTORS}, got {count}")
    centre, radius = _footprint(scene_points)
    taken = [(centre, radius)]
    placed: list[PlacedObject] = []
    for _ in range(3 * count):
        if len(placed) == count:
            break
        asset, sdf = draw(rng, lambda a: True)
        ext = np.asarray(asset.extents, np.float64)
        up = int(np.argmax(ext)) if rng.random() < 0.5 else 2  # standing tall, or as modelled
        R = rot([0, 0, 1], rng.uniform(0.0, 2.0 * np.pi)) @ axis_to_z(up)
        obj = PlacedObject(asset, sdf, float(rng.uniform(*SIZE_RANGE) / max(ext.max(), 1e-3)), R, np.zeros(3))
        rest_on_ground(obj)
        own_centre, own_radius = _footprint(obj.to_world(asset.vertices))
        angle = rng.uniform(0.0, 2.0 * np.pi)
        dist = radius + own_radius + rng.uniform(*GAP_RANGE)
        target = centre + dist * np.array([np.cos(angle), np.sin(angle)])
        obj.t = obj.t + np.append(target - own_centre, 0.0)
        if all(np.linalg.norm(target - c) >= r + own_radius + CLEARANCE for c, r in taken):
            taken.append((target, own_radius))
            placed.append(obj)
    return placed
