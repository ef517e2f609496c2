"""YCB objects (Calli et al., "The YCB object and model set", CC BY 4.0), decimated to ~2k faces.

Read in place from ``<shared data>/objects/ycb_decimated/<id>/textured_simple_2000.obj``; nothing
is copied into the repository. The models are metric and already z-up in the YCB frame; the
canonical frame only moves the origin to the bbox centre (``source_from_canonical`` keeps the
offset, so HO3D/DexYCB poses given in the YCB frame convert with one matrix product).

Split: three objects never appear in training so that generalisation to unseen shapes can be
measured: the mug (a handle, thin walls), the power drill (a pistol grip, the most complex shape)
and the mustard bottle (a squeeze bottle unlike the boxes and cans). Each exercises a different
grasp type (hook, power grip on a handle, wrap) while the training set keeps boxes, a can, a
bottle, a banana, a pitcher and scissors.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from ..paths import shared_data_dir
from .asset import DEFAULT_DENSITY, ObjectAsset, make_asset

YCB_NAMES = {
    "003_cracker_box": "cracker box",
    "004_sugar_box": "sugar box",
    "006_mustard_bottle": "mustard bottle",
    "010_potted_meat_can": "potted meat can",
    "011_banana": "banana",
    "019_pitcher_base": "pitcher base",
    "021_bleach_cleanser": "bleach cleanser",
    "025_mug": "mug",
    "035_power_drill": "power drill",
    "037_scissors": "scissors",
}
HELDOUT_OBJECTS = ("006_mustard_bottle", "025_mug", "035_power_drill")
TRAIN_OBJECTS = tuple(k for k in YCB_NAMES if k not in HELDOUT_OBJECTS)

# Geometric symmetries about the bbox centre (shape only: the printed labels break them). Checked
# against the meshes in test/objects: the boxes match themselves under 180 deg turns about x, y, z.
YCB_SYMMETRY = {
    "003_cracker_box": "discrete:2+flip",
    "004_sugar_box": "discrete:2+flip",
    "010_potted_meat_can": "discrete:2+flip",
}

MESH_NAME = "textured_simple_2000.obj"


def ycb_dir() -> Path:
    return shared_data_dir() / "objects" / "ycb_decimated"


def load_mesh_file(path: Path) -> trimesh.Trimesh:
    """Load a mesh file as one triangle mesh, merging vertices split at texture seams (so the
    surface is closed) and dropping UVs (the texture images are not shipped). Raises
    FileNotFoundError / ValueError with the path in the message."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"object mesh not found: {path}")
    try:
        loaded = trimesh.load(path, force="mesh", process=False)
    except Exception as exc:  # noqa: BLE001 - trimesh raises many types for bad files
        raise ValueError(f"cannot read mesh {path}: {exc}") from exc
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0 or len(loaded.vertices) < 4:
        raise ValueError(f"mesh file {path} holds no triangles (corrupt or empty)")
    verts = np.asarray(loaded.vertices, dtype=np.float64)
    if not np.isfinite(verts).all():
        raise ValueError(f"mesh file {path} has non-finite vertex coordinates")
    mesh = trimesh.Trimesh(verts, np.asarray(loaded.faces), process=True)
    mesh.fix_normals()
    return mesh


def load_ycb(obj_id: str, density: float = DEFAULT_DENSITY) -> ObjectAsset:
    if obj_id not in YCB_NAMES:
        raise KeyError(f"unknown YCB object {obj_id!r}; known: {', '.join(YCB_NAMES)}")
    path = ycb_dir() / obj_id / MESH_NAME
    mesh = load_mesh_file(path)
    return make_asset(obj_id, YCB_NAMES[obj_id], "ycb", mesh, symmetry=YCB_SYMMETRY.get(obj_id, "none"),
                      density=density, params={"path": str(path)})
