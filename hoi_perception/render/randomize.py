"""Domain randomisation with numpy only: materials, procedural textures, lights, backgrounds.

Every function draws from the ``numpy.random.Generator`` it is given, so a seed fixes the result.
Procedural textures come in two forms: solid textures evaluated at vertex positions (vertex
colours, no UVs needed) and images (for meshes with UVs). Backgrounds are generated, never loaded.
"""
from __future__ import annotations

import cv2
import numpy as np

from .renderer import Light, Lighting, Material

TEXTURE_KINDS = ("plain", "noise", "stripes", "checker")

# Skin reflectance spans light to dark; sampled between these sRGB anchors (light -> dark).
_SKIN_ANCHORS = np.array([[0.96, 0.84, 0.75], [0.90, 0.72, 0.60], [0.78, 0.57, 0.43],
                          [0.62, 0.43, 0.30], [0.44, 0.29, 0.19], [0.27, 0.18, 0.12]])


def random_color(rng: np.random.Generator) -> np.ndarray:
    """A colour with a random hue and a wide range of saturation and value (RGB in [0,1])."""
    hsv = np.array([[[rng.uniform(0, 180), rng.uniform(0, 255), rng.uniform(40, 255)]]], dtype=np.float32)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float64) / 255.0


def skin_tone(rng: np.random.Generator) -> np.ndarray:
    t = rng.uniform(0, len(_SKIN_ANCHORS) - 1)
    i = int(np.floor(t))
    j = min(i + 1, len(_SKIN_ANCHORS) - 1)
    c = (1 - (t - i)) * _SKIN_ANCHORS[i] + (t - i) * _SKIN_ANCHORS[j]
    return np.clip(c * rng.uniform(0.95, 1.05, 3), 0, 1)


def solid_texture(rng: np.random.Generator, points: np.ndarray, kind: str | None = None) -> np.ndarray:
    """(N,3) float colours in [0,1] of a 3D texture evaluated at ``points`` (metres)."""
    kind = kind or str(rng.choice(TEXTURE_KINDS[1:]))
    p = np.asarray(points, dtype=np.float64)
    c0, c1 = random_color(rng), random_color(rng)
    if kind == "plain":
        t = np.zeros(len(p))
    elif kind == "noise":
        # Sum of random plane waves: smooth, band-limited, cheap.
        freqs = rng.normal(0.0, 1.0, (8, 3)) * rng.uniform(10, 60)
        phases = rng.uniform(0, 2 * np.pi, 8)
        t = np.sin(p @ freqs.T + phases).mean(1)
        t = (t - t.min()) / max(np.ptp(t), 1e-9)
    elif kind == "stripes":
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        period = rng.uniform(0.01, 0.05)
        t = (np.sin(2 * np.pi * (p @ d) / period) > 0).astype(np.float64)
    elif kind == "checker":
        size = rng.uniform(0.01, 0.04)
        t = (np.floor(p / size).sum(1) % 2).astype(np.float64)
    else:
        raise ValueError(f"unknown texture kind {kind!r}; known: {TEXTURE_KINDS}")
    return (1 - t)[:, None] * c0 + t[:, None] * c1


def _value_noise(rng: np.random.Generator, h: int, w: int, octaves: int = 4) -> np.ndarray:
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cells = 2 ** (o + 2)
        grid = rng.random((cells, cells)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
    out /= total
    return (out - out.min()) / max(float(np.ptp(out)), 1e-6)


def texture_image(rng: np.random.Generator, size: int = 256, kind: str | None = None) -> np.ndarray:
    """(size,size,3) uint8 procedural texture image (for meshes with UVs)."""
    kind = kind or str(rng.choice(TEXTURE_KINDS[1:]))
    c0, c1 = random_color(rng), random_color(rng)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    if kind == "plain":
        t = np.zeros((size, size), np.float32)
    elif kind == "noise":
        t = _value_noise(rng, size, size)
    elif kind == "stripes":
        a = rng.uniform(0, np.pi)
        t = (np.sin(2 * np.pi * rng.integers(2, 16) * (np.cos(a) * xx + np.sin(a) * yy)) > 0).astype(np.float32)
    elif kind == "checker":
        n = int(rng.integers(2, 12))
        t = ((np.floor(xx * n) + np.floor(yy * n)) % 2).astype(np.float32)
    else:
        raise ValueError(f"unknown texture kind {kind!r}; known: {TEXTURE_KINDS}")
    img = (1 - t)[..., None] * c0 + t[..., None] * c1
    return (img * 255 + 0.5).astype(np.uint8)


def random_material(rng: np.random.Generator, vertices: np.ndarray | None = None,
                    texture_prob: float = 0.6) -> Material:
    """Random base colour, roughness and metallic; with probability ``texture_prob`` (and when
    ``vertices`` are given) a solid procedural texture as vertex colours."""
    base = np.append(random_color(rng), 1.0)
    metallic = float(rng.uniform(0.0, 1.0)) if rng.random() < 0.2 else float(rng.uniform(0.0, 0.1))
    roughness = float(rng.uniform(0.2, 1.0))
    colors = None
    if vertices is not None and rng.random() < texture_prob:
        colors = solid_texture(rng, vertices).astype(np.float32)
        base = np.ones(4)
    return Material(tuple(base), metallic, roughness, vertex_colors=colors)


def body_material(rng: np.random.Generator, n_vertices: int, region_labels: np.ndarray | None = None,
                  skin_labels=(0,)) -> Material:
    """Skin-toned body; with per-vertex ``region_labels`` every label not in ``skin_labels`` gets its
    own clothing colour (e.g. 0 skin, 1 upper body, 2 lower body, 3 feet), with mild shading noise."""
    skin = skin_tone(rng)
    colors = np.tile(skin, (n_vertices, 1))
    if region_labels is not None:
        labels = np.asarray(region_labels)
        if labels.shape != (n_vertices,):
            raise ValueError(f"region_labels must have shape ({n_vertices},), got {labels.shape}")
        for lab in np.unique(labels):
            if int(lab) not in skin_labels:
                colors[labels == lab] = random_color(rng)
    colors = np.clip(colors * rng.uniform(0.93, 1.0, (n_vertices, 1)), 0, 1).astype(np.float32)
    return Material((1.0, 1.0, 1.0, 1.0), 0.0, float(rng.uniform(0.5, 0.9)), vertex_colors=colors)


def random_lighting(rng: np.random.Generator, T_cw: np.ndarray, target=(0.0, 0.0, 0.0)) -> Lighting:
    """1-3 directional lights from the camera's hemisphere, 0-2 point lights around ``target``
    (world), random colour temperature-like tints and intensities, random ambient."""
    cam_from_world = np.asarray(T_cw, dtype=np.float64)
    R_wc = np.linalg.inv(cam_from_world)[:3, :3]
    cam_pos = np.linalg.inv(cam_from_world)[:3, 3]
    target = np.asarray(target, dtype=np.float64)
    lights = []
    for _ in range(int(rng.integers(1, 4))):
        # Travel direction: mostly along the optical axis, tilted up to ~70 deg.
        d_cam = np.array([rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0.4, 1.0)])
        d = R_wc @ (d_cam / np.linalg.norm(d_cam))
        tint = np.clip(np.array([1.0, rng.uniform(0.85, 1.0), rng.uniform(0.7, 1.0)])[rng.permutation(3)
                       if rng.random() < 0.2 else [0, 1, 2]], 0, 1)
        lights.append(Light("directional", tuple(tint), float(rng.uniform(1.0, 5.0)), tuple(d)))
    for _ in range(int(rng.integers(0, 3))):
        dist = np.linalg.norm(cam_pos - target)
        pos = target + rng.normal(size=3) * 0.5 * dist + (cam_pos - target) * rng.uniform(0.2, 0.8)
        lights.append(Light("point", tuple(np.clip(rng.uniform(0.7, 1.0, 3), 0, 1)),
                            float(rng.uniform(2.0, 15.0) * dist ** 2), position=tuple(pos)))
    ambient = tuple(np.full(3, rng.uniform(0.1, 0.5)) * rng.uniform(0.85, 1.0, 3))
    return Lighting(lights, ambient)


def random_background(rng: np.random.Generator, height: int = 256, width: int = 256,
                      kind: str | None = None) -> np.ndarray:
    """(H,W,3) uint8 procedural background: 'gradient', 'noise', 'shapes' or 'clutter' (blurred)."""
    kind = kind or str(rng.choice(["gradient", "noise", "shapes", "clutter"]))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    if kind == "gradient":
        a = rng.uniform(0, 2 * np.pi)
        t = np.cos(a) * xx / width + np.sin(a) * yy / height
        t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
        img = (1 - t)[..., None] * random_color(rng) + t[..., None] * random_color(rng)
    elif kind == "noise":
        n = _value_noise(rng, height, width)
        img = (1 - n)[..., None] * random_color(rng) + n[..., None] * random_color(rng)
    elif kind in ("shapes", "clutter"):
        img = np.ones((height, width, 3), np.float64) * random_color(rng)
        canvas = (img * 255).astype(np.uint8)
        count = int(rng.integers(5, 20) if kind == "shapes" else rng.integers(30, 80))
        scale = max(height, width)
        for _ in range(count):
            color = tuple(int(c) for c in (random_color(rng) * 255))
            cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
            s = int(rng.uniform(0.03, 0.3) * scale)
            shape = int(rng.integers(0, 3))
            if shape == 0:
                cv2.circle(canvas, (cx, cy), max(s // 2, 1), color, -1, lineType=cv2.LINE_AA)
            elif shape == 1:
                cv2.rectangle(canvas, (cx - s // 2, cy - s // 3), (cx + s // 2, cy + s // 3), color, -1)
            else:
                pts = (np.array([cx, cy]) + rng.normal(0, s / 2, (int(rng.integers(3, 7)), 2))).astype(np.int32)
                cv2.fillPoly(canvas, [pts], color, lineType=cv2.LINE_AA)
        if kind == "clutter":
            k = int(rng.integers(1, 5)) * 2 + 1
            canvas = cv2.GaussianBlur(canvas, (k, k), 0)
        return canvas
    else:
        raise ValueError(f"unknown background kind {kind!r}")
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
