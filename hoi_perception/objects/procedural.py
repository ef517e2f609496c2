"""Procedural objects with seeded random parameters: boxes, cylinders, spheres, superquadrics,
mugs (cup + arc handle), pans and rackets (stick handles), stools and chairs (for sitting).

Every part is a closed (watertight) surface; compound objects are the concatenation of closed parts
that overlap slightly where they join, so their volume (used for the nominal mass) counts the small
overlaps twice. Parts are subdivided to a maximum edge length so per-vertex procedural textures
have enough vertices to show. All sizes are metres; objects are built z-up.
"""
from __future__ import annotations

import numpy as np
import trimesh
from trimesh.remesh import subdivide_to_size

from .asset import ObjectAsset, make_asset

KINDS = ("box", "cylinder", "sphere", "superquadric", "mug", "pan", "racket", "stool", "chair")

# Nominal densities (kg/m^3) by the material the shape imitates.
_DENSITY = {"box": 500.0, "cylinder": 700.0, "sphere": 400.0, "superquadric": 600.0,
            "mug": 2000.0, "pan": 2700.0, "racket": 600.0, "stool": 600.0, "chair": 600.0}


def _refine(mesh: trimesh.Trimesh, max_edge: float) -> trimesh.Trimesh:
    v, f = subdivide_to_size(mesh.vertices, mesh.faces, max_edge=max_edge, max_iter=8)
    out = trimesh.Trimesh(v, f, process=True)
    out.fix_normals()
    return out


def _revolve(profile_rz: list[tuple[float, float]], sections: int = 48) -> trimesh.Trimesh:
    """Closed solid of revolution about z from a (radius, z) profile whose ends lie on the axis."""
    mesh = trimesh.creation.revolve(np.asarray(profile_rz, dtype=np.float64), sections=sections)
    mesh.merge_vertices()
    mesh.fix_normals()
    return mesh


def tube(path: np.ndarray, radius: float, sections: int = 16) -> trimesh.Trimesh:
    """Closed tube of circular section swept along a 3D polyline, capped at both ends."""
    path = np.asarray(path, dtype=np.float64)
    n = len(path)
    tangents = np.gradient(path, axis=0)
    tangents /= np.linalg.norm(tangents, axis=1, keepdims=True)
    # Parallel transport keeps the rings from twisting along the path.
    ref = np.array([0.0, 0.0, 1.0]) if abs(tangents[0][2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    normal = np.cross(tangents[0], ref)
    normal /= np.linalg.norm(normal)
    ang = 2.0 * np.pi * np.arange(sections) / sections
    rings = []
    for i in range(n):
        if i > 0:
            normal = normal - tangents[i] * np.dot(normal, tangents[i])
            normal /= np.linalg.norm(normal)
        binormal = np.cross(tangents[i], normal)
        rings.append(path[i] + radius * (np.cos(ang)[:, None] * normal + np.sin(ang)[:, None] * binormal))
    verts = np.vstack(rings + [path[0][None], path[-1][None]])
    faces = []
    for i in range(n - 1):
        a, b = i * sections, (i + 1) * sections
        for j in range(sections):
            k = (j + 1) % sections
            faces += [[a + j, b + j, b + k], [a + j, b + k, a + k]]
    c0, c1 = n * sections, n * sections + 1
    last = (n - 1) * sections
    for j in range(sections):
        k = (j + 1) % sections
        faces += [[c0, k, j], [c1, last + j, last + k]]
    mesh = trimesh.Trimesh(verts, np.asarray(faces), process=True)
    mesh.fix_normals()
    return mesh


def superquadric(a: float, b: float, c: float, e1: float, e2: float, subdivisions: int = 3) -> trimesh.Trimesh:
    """Superquadric |x/a|^(2/e2)+|y/b|^(2/e2))^(e2/e1) + |z/c|^(2/e1) = 1, as a radial map of an
    icosphere (star-shaped, so the result stays closed)."""
    sphere = trimesh.creation.icosphere(subdivisions=subdivisions)
    d = sphere.vertices
    f = (np.abs(d[:, 0] / a) ** (2.0 / e2) + np.abs(d[:, 1] / b) ** (2.0 / e2)) ** (e2 / e1) \
        + np.abs(d[:, 2] / c) ** (2.0 / e1)
    r = f ** (-e1 / 2.0)
    mesh = trimesh.Trimesh(d * r[:, None], sphere.faces, process=True)
    mesh.fix_normals()
    return mesh


def _cylinder(radius: float, height: float, centre=(0.0, 0.0, 0.0), sections: int = 32) -> trimesh.Trimesh:
    m = trimesh.creation.cylinder(radius=radius, height=height, sections=sections)
    m.apply_translation(centre)
    return m


def _box(extents, centre=(0.0, 0.0, 0.0)) -> trimesh.Trimesh:
    m = trimesh.creation.box(extents=extents)
    m.apply_translation(centre)
    return m


def _assemble(parts: list[trimesh.Trimesh], max_edge: float, handle_parts: tuple[int, ...] = ()):
    refined = [_refine(p, max_edge) for p in parts]
    mask = np.concatenate([np.full(len(p.vertices), i in handle_parts) for i, p in enumerate(refined)])
    mesh = trimesh.util.concatenate(refined)
    return mesh, mask


def generate(kind: str, rng: np.random.Generator, obj_id: str | None = None) -> ObjectAsset:
    """One procedural object of ``kind`` with parameters drawn from ``rng``."""
    if kind not in KINDS:
        raise KeyError(f"unknown procedural kind {kind!r}; known kinds: {', '.join(KINDS)}")
    u = rng.uniform
    grasp: dict = {}
    handle_parts: tuple[int, ...] = ()
    if kind == "box":
        p = {"extents": [float(u(0.04, 0.25)) for _ in range(3)]}
        parts, symmetry = [_box(p["extents"])], "discrete:2+flip"
    elif kind == "cylinder":
        p = {"radius": float(u(0.02, 0.06)), "height": float(u(0.05, 0.30))}
        parts, symmetry = [_cylinder(p["radius"], p["height"], sections=48)], "z-continuous+flip"
    elif kind == "sphere":
        p = {"radius": float(u(0.03, 0.12))}
        parts, symmetry = [trimesh.creation.icosphere(subdivisions=3, radius=p["radius"])], "spherical"
    elif kind == "superquadric":
        p = {"a": float(u(0.02, 0.12)), "b": float(u(0.02, 0.12)), "c": float(u(0.02, 0.12)),
             "e1": float(u(0.2, 1.5)), "e2": float(u(0.2, 1.5))}
        parts, symmetry = [superquadric(**p)], "discrete:2+flip"
    elif kind == "mug":
        p = {"radius": float(u(0.035, 0.055)), "height": float(u(0.07, 0.12)),
             "wall": float(u(0.004, 0.008)), "handle_tube": float(u(0.005, 0.009))}
        r, h, t = p["radius"], p["height"], p["wall"]
        cup = _revolve([(0.0, 0.0), (r, 0.0), (r, h), (r - t, h), (r - t, t), (0.0, t)])
        # Handle: an arc in the xz-plane whose ends sink into the wall (x = r - t/2).
        hr = 0.32 * h
        ang = np.linspace(-0.5 * np.pi, 0.5 * np.pi, 24)
        cz = 0.5 * h
        arc = np.stack([r - 0.5 * t + 0.9 * hr * np.cos(ang), np.zeros_like(ang), cz + hr * np.sin(ang)], 1)
        parts, symmetry, handle_parts = [cup, tube(arc, p["handle_tube"])], "none", (1,)
        grasp = {"handle_segment": np.array([arc[0], arc[-1]]), "handle_radius": p["handle_tube"],
                 "handle_path": arc}
    elif kind == "pan":
        p = {"radius": float(u(0.08, 0.14)), "depth": float(u(0.03, 0.06)), "wall": 0.004,
             "handle_length": float(u(0.12, 0.20)), "handle_radius": float(u(0.008, 0.014))}
        r, d, t = p["radius"], p["depth"], p["wall"]
        body = _revolve([(0.0, 0.0), (r, 0.0), (r, d), (r - t, d), (r - t, t), (0.0, t)], sections=64)
        start = np.array([r - 2 * t, 0.0, 0.7 * d])
        end = start + np.array([p["handle_length"], 0.0, 0.25 * p["handle_length"]])
        path = np.linspace(start, end, 8)
        parts, symmetry, handle_parts = [body, tube(path, p["handle_radius"])], "none", (1,)
        grasp = {"handle_segment": np.array([start, end]), "handle_radius": p["handle_radius"]}
    elif kind == "racket":
        p = {"head_a": float(u(0.08, 0.13)), "head_b": float(u(0.10, 0.15)), "head_c": float(u(0.008, 0.015)),
             "handle_length": float(u(0.10, 0.20)), "handle_radius": float(u(0.010, 0.015))}
        head = superquadric(p["head_b"], p["head_a"], p["head_c"], 0.5, 1.0)  # flat, elongated along x
        start = np.array([p["head_b"] * 0.9, 0.0, 0.0])
        end = start + np.array([p["handle_length"], 0.0, 0.0])
        parts, handle_parts = [head, tube(np.linspace(start, end, 6), p["handle_radius"], sections=16)], (1,)
        symmetry = "discrete:1+flip"  # 180 deg about the handle (x) axis
        grasp = {"handle_segment": np.array([start, end]), "handle_radius": p["handle_radius"]}
    elif kind == "stool":
        p = {"seat_radius": float(u(0.15, 0.22)), "seat_thickness": float(u(0.025, 0.04)),
             "height": float(u(0.40, 0.65)), "n_legs": int(rng.integers(3, 5)), "leg_radius": float(u(0.014, 0.022))}
        h, st = p["height"], p["seat_thickness"]
        parts = [_cylinder(p["seat_radius"], st, (0.0, 0.0, h - 0.5 * st), sections=48)]
        leg_r = 0.75 * p["seat_radius"]
        for k in range(p["n_legs"]):
            a = 2.0 * np.pi * k / p["n_legs"]
            parts.append(_cylinder(p["leg_radius"], h - 0.5 * st, (leg_r * np.cos(a), leg_r * np.sin(a), 0.5 * (h - 0.5 * st)), 16))
        symmetry = f"discrete:{p['n_legs']}"
        grasp = {"sit_height": h}
    else:  # chair
        p = {"seat_width": float(u(0.38, 0.50)), "seat_depth": float(u(0.38, 0.50)),
             "seat_thickness": float(u(0.03, 0.05)), "seat_height": float(u(0.40, 0.50)),
             "back_height": float(u(0.30, 0.50)), "leg_size": float(u(0.03, 0.05))}
        w, dp, st, sh, ls = p["seat_width"], p["seat_depth"], p["seat_thickness"], p["seat_height"], p["leg_size"]
        parts = [_box([dp, w, st], (0.0, 0.0, sh - 0.5 * st))]
        for sx in (-1, 1):
            for sy in (-1, 1):
                parts.append(_box([ls, ls, sh - 0.5 * st], (sx * (0.5 * dp - 0.5 * ls), sy * (0.5 * w - 0.5 * ls), 0.5 * (sh - 0.5 * st))))
        parts.append(_box([ls, w, p["back_height"]], (-0.5 * dp + 0.5 * ls, 0.0, sh + 0.5 * p["back_height"] - 0.25 * st)))
        symmetry = "none"
        grasp = {"sit_height": sh}
    scale = max(np.ptp(np.vstack([q.vertices for q in parts]), axis=0))
    mesh, handle_mask = _assemble(parts, max_edge=scale / 12.0, handle_parts=handle_parts)
    if "sit_height" in grasp:  # expressed relative to the canonical origin below
        grasp["sit_height"] = float(grasp["sit_height"] - mesh.bounds.mean(0)[2])
    oid = obj_id or f"proc_{kind}"
    return make_asset(oid, kind, "procedural", mesh, symmetry=symmetry, density=_DENSITY[kind],
                      grasp=grasp, params={"kind": kind, **p},
                      handle_vertex_mask=handle_mask if handle_parts else None)
