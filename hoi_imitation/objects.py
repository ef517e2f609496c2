"""Objects a clip may name: a basketball (SkillMimic) and the YCB objects in the shared data.

Mass comes from the YCB URDF files (measured masses); inertia from the mesh, assuming uniform
density, scaled to that mass. A clip may instead carry its own template and mass properties.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from hoi_perception.paths import shared_data_dir

from .clip import ClipError, ObjectSpec

# Size 7 basketball: circumference 0.749 m, 0.62 kg; thin shell: I = 2/3 m r^2.
_BALL_R, _BALL_M = 0.119, 0.62
BASKETBALL = ObjectSpec("basketball", {"type": "sphere", "radius": _BALL_R}, _BALL_M,
                        (2 / 3 * _BALL_M * _BALL_R ** 2,) * 3, friction=1.0)

# YCB id -> folder in objects/ycb_textured (pybullet-object-models naming).
_YCB = {
    "003_cracker_box": "YcbCrackerBox", "006_mustard_bottle": "YcbMustardBottle",
    "010_potted_meat_can": "YcbPottedMeatCan", "011_banana": "YcbBanana", "035_power_drill": "YcbPowerDrill",
    "037_scissors": "YcbScissors", "002_master_chef_can": "YcbMasterChefCan", "005_tomato_soup_can": "YcbTomatoSoupCan",
    "009_gelatin_box": "YcbGelatinBox", "061_foam_brick": "YcbFoamBrick",
}


def known_objects() -> list[str]:
    return ["basketball", *sorted(_YCB)]


@lru_cache(maxsize=None)
def _ycb(obj_id: str) -> ObjectSpec:
    import re
    import trimesh  # noqa: PLC0415

    folder = shared_data_dir() / "objects" / "ycb_textured" / _YCB[obj_id]
    urdf = (folder / "model.urdf").read_text()
    m = re.search(r'<mass value="([0-9.eE+-]+)"', urdf)
    if m is None:
        raise ClipError(f"object {obj_id!r}: no mass in {folder / 'model.urdf'}")
    mass = float(m.group(1))
    mesh_path = folder / "textured_simple_reoriented.obj"
    mesh = trimesh.load(mesh_path, force="mesh", process=True)
    if mesh.is_watertight and mesh.volume > 0:
        inertia = mesh.moment_inertia * (mass / mesh.volume) / max(mesh.density, 1e-12)
        com = mesh.center_mass
    else:  # bounding-box inertia when the scan is not closed
        ext = mesh.bounding_box.extents
        inertia = np.diag([mass / 12 * (ext[1] ** 2 + ext[2] ** 2), mass / 12 * (ext[0] ** 2 + ext[2] ** 2),
                           mass / 12 * (ext[0] ** 2 + ext[1] ** 2)])
        com = mesh.bounding_box.centroid
    principal = np.linalg.eigvalsh(inertia)
    return ObjectSpec(obj_id, {"type": "mesh", "path": str(mesh_path)}, mass, tuple(float(x) for x in principal),
                      tuple(float(x) for x in com))


def get_object(obj_id: str) -> ObjectSpec:
    """Registry lookup; ClipError naming the id and the known ones if unknown."""
    if obj_id == "basketball":
        return BASKETBALL
    if obj_id in _YCB:
        return _ycb(obj_id)
    raise ClipError(f"unknown object {obj_id!r}: known objects are {', '.join(known_objects())}; "
                    f"or give the clip a template and mass properties")


def resolve_object(spec: ObjectSpec) -> ObjectSpec:
    """Check an object description; a template of type 'registry' is filled from the registry."""
    t = dict(spec.template or {})
    kind = t.get("type", "registry")
    if kind == "registry":
        return get_object(spec.id)
    if kind == "sphere":
        if not float(t.get("radius", 0)) > 0:
            raise ClipError(f"object {spec.id!r}: sphere template needs a positive radius")
    elif kind == "box":
        if len(t.get("size", [])) != 3 or min(t["size"]) <= 0:
            raise ClipError(f"object {spec.id!r}: box template needs 3 positive half sizes")
    elif kind == "mesh":
        p = Path(t.get("path", ""))
        if not p.is_absolute():
            p = shared_data_dir() / p
        if not p.is_file():
            raise ClipError(f"object {spec.id!r}: mesh {p} does not exist")
    else:
        raise ClipError(f"object {spec.id!r}: unknown template type {kind!r} (registry, sphere, box, mesh)")
    if not spec.mass > 0 or len(spec.inertia) != 3 or min(spec.inertia) <= 0:
        raise ClipError(f"object {spec.id!r}: mass and principal inertia must be positive")
    return spec
