"""The held or touched object's mask from a depth image: the surface connected to the hands (or other
contact points), outside the person.

Method (numpy, OpenCV and scipy; deterministic):

1. Valid depth is finite and > 0. The person mask, dilated by a couple of pixels so that its border
   (masks are often a little too small or too large) is not taken as object, is excluded.
2. For each seed, the hand's depth is the median valid depth of person pixels within the seed radius.
   The start pixels are the valid non-person pixels within that radius whose depth is within a few
   depth steps of the hand's: the object surface touching the hand.
3. Region growing as connected components over 4-neighbour edges whose depth difference is at most
   the depth step (``max_step_m``, grown in proportion to depth beyond 1 m, where sensor noise and the
   step between pixels of a slanted surface grow), through valid non-person pixels whose depth is
   within ``max_extent_m`` of a hand's. There are no intrinsics, so the 3-D distance to the hand is
   proxied by the depth difference alone: the extent does not limit the region sideways.
4. A supporting surface (table, floor, wall) touching the object is depth-continuous with it and floods
   with it. A plane seen through a pinhole camera has an inverse depth that is exactly affine in pixel
   coordinates, so planes are found by RANSAC on 1/z = a x + b y + c over the region (no intrinsics
   needed). A plane holding a large share of the region is a support, and its inliers are removed, when
   what remains near the hands is in front of it (on the camera's side, as an object resting on it is;
   the other faces of a convex object lie behind the plane of any of its faces), or when the plane
   reaches the image border or the extent limit (an environment surface; a held object's face rarely
   does). Up to three planes are tried in turn; what remains is the pixel-connected part touching the
   hands. A region that is only a support is no object.
5. The mask is returned when it has at least ``min_pixels`` pixels.

Limits: a held object at the same depth as the hand, touching the person's mask on every side, is
only found where it leaves the dilated mask; objects thinner than the depth step over a support (a
sheet of paper on a table) are removed with it; a flat object whose face reaches the image border is
taken as a support; a small flat surface fully in view that the hand merely touches (a shelf board) is
returned as an object; two objects touching each other at the same depth come out as one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from hoi_perception.pipeline.types import InputError

SEED_RADIUS_SHARE = 0.03  # of the image diagonal: about a hand's size at arm's length
MIN_SEED_RADIUS_PX = 5
PERSON_BORDER_SHARE = 0.003  # of the image diagonal, at least 2 px: the person mask's uncertain border
START_BAND_STEPS = 3.0  # start pixels: within this many depth steps of the hand's depth
PLANE_MIN_SHARE = 0.25  # a plane with less of the region is not a support candidate
IN_FRONT_SHARE = 0.8  # share of what remains near the hands that must be in front of a support
MAX_PLANES = 3
RANSAC_ITERATIONS = 200
RANSAC_POINTS = 4000  # planes are hypothesised and scored on a subsample of this many pixels


@dataclass(frozen=True)
class DepthMask:
    """An object mask from depth, or None with the reason."""

    mask: np.ndarray | None  # (H, W) bool, None when no object could be found
    reason: str  # why None, or a short description of what was found (pixels, depth range)


def object_mask_from_depth(depth: np.ndarray, person_mask: np.ndarray, seeds: np.ndarray,
                           max_step_m: float = 0.02, max_extent_m: float = 1.0,
                           seed_radius_px: int | None = None, min_pixels: int = 50) -> DepthMask:
    """The object surface connected to the ``seeds`` (hand keypoints or contact points) in ``depth``.

    depth: (H, W) float metres; 0, negative, NaN or inf mean unknown. person_mask: (H, W) bool.
    seeds: (N, 2) pixel coordinates (x, y); rows that are not finite are ignored. max_step_m: the
    largest depth step between neighbouring pixels of one surface, at up to 1 m (in proportion to
    depth beyond). max_extent_m: how far in depth from a hand the object may reach. seed_radius_px:
    how far from a seed the hand and the surface it touches are looked for (default 3 % of the image
    diagonal, at least 5 px). Raises InputError for a depth image that is not 2-D, not float, or of
    another size than the person mask, and for seeds that are not (N, 2); returns a None mask with the
    reason when no object is found.
    """
    depth = np.asarray(depth)
    person_mask = np.asarray(person_mask)
    if depth.ndim != 2:
        raise InputError(f"depth must be a 2-D (H, W) image, got shape {depth.shape}")
    if not np.issubdtype(depth.dtype, np.floating):
        raise InputError(f"depth must be float metres, got {depth.dtype} (convert millimetre images first)")
    if person_mask.shape != depth.shape:
        raise InputError(f"a depth image of another size: depth is {_size(depth.shape)} but the person mask is "
                         f"{_size(person_mask.shape)} (width x height)")
    seeds = np.asarray(seeds, dtype=np.float64)
    if seeds.size == 0:
        seeds = seeds.reshape(0, 2)
    if seeds.ndim != 2 or seeds.shape[1] != 2:
        raise InputError(f"seeds must be (N, 2) pixel coordinates (x, y), got shape {seeds.shape}")
    if not (math.isfinite(max_step_m) and max_step_m > 0 and math.isfinite(max_extent_m) and max_extent_m > 0):
        raise ValueError(f"max_step_m and max_extent_m must be > 0, got {max_step_m} and {max_extent_m}")
    if min_pixels < 1 or (seed_radius_px is not None and seed_radius_px < 1):
        raise ValueError(f"min_pixels and seed_radius_px must be >= 1, got {min_pixels} and {seed_radius_px}")

    with np.errstate(invalid="ignore"):
        valid = np.isfinite(depth) & (depth > 0)
    if not valid.any():
        return DepthMask(None, "no valid depth in the image (every pixel is 0, negative, NaN or inf)")
    depth = np.where(valid, depth, 0.0).astype(np.float64)
    seeds = seeds[np.isfinite(seeds).all(axis=1)]
    if len(seeds) == 0:
        return DepthMask(None, "no usable seed (none given, or none finite)")

    height, width = depth.shape
    diagonal = math.hypot(height, width)
    radius = float(seed_radius_px) if seed_radius_px is not None else max(MIN_SEED_RADIUS_PX,
                                                                         round(SEED_RADIUS_SHARE * diagonal))
    person = person_mask.astype(bool)
    border = max(2, round(PERSON_BORDER_SHARE * diagonal))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * border + 1, 2 * border + 1))
    free = valid & ~cv2.dilate(person.astype(np.uint8), disk).astype(bool)

    hand_depths: list[float] = []
    hand_zone = np.zeros((height, width), bool)
    start = np.zeros((height, width), bool)
    for x, y in seeds:
        window = _disk_window(x, y, radius, height, width)
        if window is None:
            continue
        rows, cols, in_disk = window
        hand_pixels = in_disk & person[rows, cols] & valid[rows, cols]
        if not hand_pixels.any():
            continue  # no depth for this hand: nothing to compare the surface with
        hand_depth = float(np.median(depth[rows, cols][hand_pixels]))
        band = START_BAND_STEPS * float(_step_tolerance(np.array(hand_depth), max_step_m))
        hand_depths.append(hand_depth)
        hand_zone[rows, cols] |= in_disk
        start[rows, cols] |= in_disk & free[rows, cols] & (np.abs(depth[rows, cols] - hand_depth) <= band)
    if not hand_depths:
        return DepthMask(None, f"no valid person depth within {radius:.0f} px of any seed: the hands' depth is unknown")

    distance_to_hands = np.min([np.abs(depth - d) for d in np.unique(hand_depths)], axis=0)
    growable = free & (distance_to_hands <= max_extent_m)
    start &= growable
    if not start.any():
        return DepthMask(None, f"no surface outside the person within {radius:.0f} px of the hands at their depth "
                               f"({', '.join(sorted({f'{d:.2f}' for d in hand_depths}))} m)")

    labels = _surface_components(depth, growable, max_step_m)
    region = growable & np.isin(labels, np.unique(labels[start]))
    # where the region is cut by the image border or the extent rather than by its own edges: a plane
    # reaching them is an environment surface
    at_limit = np.zeros_like(region)
    at_limit[[0, -1], :] = region[[0, -1], :]
    at_limit[:, [0, -1]] |= region[:, [0, -1]]
    at_limit |= region & (distance_to_hands >= max_extent_m - _step_tolerance(depth, max_step_m))

    region, supports = _remove_supports(region, depth, hand_zone, at_limit, max_step_m, min_pixels)
    count = int(region.sum())
    removed = f", {supports} supporting plane(s) removed" if supports else ""
    if count == 0 and supports:
        return DepthMask(None, "only a supporting surface (table, floor, wall) touches the hands")
    if count < min_pixels:
        return DepthMask(None, f"object region too small: {count} px < {min_pixels}{removed}")
    values = depth[region]
    return DepthMask(region, f"object from depth: {count} px, {values.min():.2f}-{values.max():.2f} m{removed}")


def _size(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[0]}" if len(shape) == 2 else f"shape {shape}"


def _step_tolerance(depth: np.ndarray, max_step_m: float) -> np.ndarray:
    """The depth step allowed between neighbours of one surface: fixed up to 1 m, then proportional."""
    return max_step_m * np.maximum(depth, 1.0)


def _disk_window(x: float, y: float, radius: float, height: int,
                 width: int) -> tuple[slice, slice, np.ndarray] | None:
    """The image window around (x, y) and the disk of ``radius`` in it; None when it misses the image."""
    x0, x1 = max(0, math.floor(x - radius)), min(width, math.ceil(x + radius) + 1)
    y0, y1 = max(0, math.floor(y - radius)), min(height, math.ceil(y + radius) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    yy, xx = np.mgrid[y0:y1, x0:x1]
    in_disk = (xx - x) ** 2 + (yy - y) ** 2 <= radius ** 2
    return (slice(y0, y1), slice(x0, x1), in_disk) if in_disk.any() else None


def _surface_components(depth: np.ndarray, growable: np.ndarray, max_step_m: float) -> np.ndarray:
    """(H, W) labels of the components joined by 4-neighbour edges between growable pixels whose depth
    step is within tolerance (pixels that are not growable get labels of their own)."""
    height, width = depth.shape
    index = np.arange(height * width).reshape(height, width)
    tolerance = _step_tolerance(depth, max_step_m)
    firsts, seconds = [], []
    for a, b in (((slice(None), slice(0, -1)), (slice(None), slice(1, None))),
                 ((slice(0, -1), slice(None)), (slice(1, None), slice(None)))):
        joined = (growable[a] & growable[b]
                  & (np.abs(depth[a] - depth[b]) <= np.minimum(tolerance[a], tolerance[b])))
        firsts.append(index[a][joined])
        seconds.append(index[b][joined])
    first, second = np.concatenate(firsts), np.concatenate(seconds)
    graph = sparse.coo_matrix((np.ones(len(first), np.int8), (first, second)), shape=(index.size, index.size))
    _, labels = connected_components(graph, directed=False)
    return labels.reshape(height, width)


def _remove_supports(region: np.ndarray, depth: np.ndarray, hand_zone: np.ndarray, at_limit: np.ndarray,
                     max_step_m: float, min_pixels: int) -> tuple[np.ndarray, int]:
    """The region without its supporting planes, kept where it touches the hands, and how many planes
    were removed. Planes are affine in inverse depth: 1/z = a x + b y + c."""
    height, width = depth.shape
    rows, cols = np.nonzero(region)
    if len(rows) < max(3, min_pixels):
        return region, 0
    z = depth[rows, cols]
    inverse = 1.0 / z
    inverse_tolerance = _step_tolerance(z, max_step_m) / z ** 2  # the depth tolerance in inverse depth
    scale = math.hypot(height, width)  # pixel coordinates normalised for a well-conditioned fit
    design = np.column_stack([(cols - width / 2) / scale, (rows - height / 2) / scale, np.ones(len(z))])
    point_at_limit = at_limit[rows, cols]
    rng = np.random.default_rng(0)

    kept = np.ones(len(z), bool)  # points still in the region
    searchable = kept.copy()  # points still open to the plane search
    supports = 0
    for _ in range(MAX_PLANES):
        if searchable.sum() < max(3, min_pixels):
            break
        plane = _ransac_plane(design[searchable], inverse[searchable], inverse_tolerance[searchable], rng)
        if plane is None:
            break
        predicted = design @ plane
        inliers = kept & (np.abs(inverse - predicted) <= inverse_tolerance)
        if inliers.sum() < PLANE_MIN_SHARE * kept.sum():
            break
        near_hands = _touching(kept & ~inliers, rows, cols, hand_zone)
        in_front = inverse[near_hands] > predicted[near_hands] + inverse_tolerance[near_hands]
        rests_on_it = near_hands.sum() >= min_pixels and in_front.mean() >= IN_FRONT_SHARE
        if rests_on_it or point_at_limit[inliers].any():
            kept = near_hands
            searchable = kept.copy()
            supports += 1
        else:  # a face of the object itself: look for another plane among the other points
            searchable &= ~inliers
    result = np.zeros_like(region)
    result[rows[kept], cols[kept]] = True
    return result, supports


def _touching(points: np.ndarray, rows: np.ndarray, cols: np.ndarray, hand_zone: np.ndarray) -> np.ndarray:
    """Of the selected points, those in a 4-connected image component that reaches the hand zone."""
    image = np.zeros(hand_zone.shape, np.uint8)
    image[rows[points], cols[points]] = 1
    _, labels = cv2.connectedComponents(image, connectivity=4)
    touching = np.unique(labels[hand_zone & (image > 0)])
    return points & np.isin(labels[rows, cols], touching[touching > 0])


def _ransac_plane(design: np.ndarray, inverse: np.ndarray, inverse_tolerance: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray | None:
    """(a, b, c) of the plane 1/z = a x + b y + c with the most inliers, refined by least squares on them."""
    count = len(inverse)
    subset = rng.choice(count, RANSAC_POINTS, replace=False) if count > RANSAC_POINTS else np.arange(count)
    triples = rng.integers(0, len(subset), (RANSAC_ITERATIONS, 3))
    systems = design[subset][triples]  # (iterations, 3, 3)
    solvable = np.abs(np.linalg.det(systems)) > 1e-12  # repeated or collinear samples define no plane
    if not solvable.any():
        return None
    planes = np.linalg.solve(systems[solvable], inverse[subset][triples[solvable]][..., None])[..., 0]
    residuals = np.abs(design[subset] @ planes.T - inverse[subset][:, None])
    best = planes[np.argmax((residuals <= inverse_tolerance[subset][:, None]).sum(axis=0))]
    inliers = np.abs(design @ best - inverse) <= inverse_tolerance
    refined, *_ = np.linalg.lstsq(design[inliers], inverse[inliers], rcond=None)
    refined_inliers = np.abs(design @ refined - inverse) <= inverse_tolerance
    return refined if refined_inliers.sum() >= inliers.sum() else best
