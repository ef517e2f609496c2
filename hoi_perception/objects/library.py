"""`ObjectLibrary`: one registry for YCB, procedural and user objects, with train/held-out splits."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .asset import DEFAULT_DENSITY, ObjectAsset, make_asset, principal_axes_rotation
from .procedural import KINDS, generate
from .ycb import HELDOUT_OBJECTS, TRAIN_OBJECTS, YCB_NAMES, load_mesh_file, load_ycb

MESH_SUFFIXES = (".obj", ".ply", ".stl", ".glb", ".gltf", ".off")
# Plausible diameters (bbox diagonal) of hand-held objects and furniture, metres. Outside this range
# a mesh is almost surely in millimetres/centimetres (too big) or scaled down (too small).
DEFAULT_SIZE_RANGE = (0.01, 1.5)
SPLITS = ("train", "heldout", "all")


class UnitsError(ValueError):
    """A mesh whose size says it is not in metres."""


class UnknownObjectError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0])


def check_units(mesh, name: str, size_range=DEFAULT_SIZE_RANGE) -> None:
    diag = float(np.linalg.norm(mesh.extents))
    lo, hi = size_range
    if lo <= diag <= hi:
        return
    hints = []
    for unit, factor in (("millimetres", 0.001), ("centimetres", 0.01), ("inches", 0.0254)):
        if lo <= diag * factor <= hi:
            hints.append(f"scale={factor} if it is in {unit}")
    hint = ("; pass " + " or ".join(hints)) if hints else "; pass an explicit scale"
    raise UnitsError(
        f"mesh {name!r} has a bounding-box diagonal of {diag:.4g} units, outside the plausible "
        f"{lo}-{hi} m for an object in metres{hint} (ObjectLibrary.from_folder(..., scales={{id: s}}))")


def user_asset(obj_id: str, path: Path, *, scale: float | None = None, size_range=DEFAULT_SIZE_RANGE,
               symmetry: str = "none", density: float = DEFAULT_DENSITY, align: str = "none") -> ObjectAsset:
    """A user mesh file as an asset. Without ``scale`` the mesh must already be metric (checked);
    with ``scale`` the file is multiplied by it first and the result is checked too.
    ``align="principal"`` rotates the mesh onto its principal axes (largest extent along x)."""
    mesh = load_mesh_file(path)
    source_from_input = np.eye(4)
    if scale is not None:
        if not scale > 0:
            raise ValueError(f"scale for {obj_id!r} must be > 0, got {scale}")
        mesh.apply_scale(scale)
        source_from_input[:3, :3] /= scale
    check_units(mesh, f"{obj_id} ({path})", size_range)
    if align == "principal":
        rot = principal_axes_rotation(mesh)
        tf = np.eye(4)
        tf[:3, :3] = rot
        mesh.apply_transform(tf)
        source_from_input = source_from_input @ np.linalg.inv(tf)
    elif align != "none":
        raise ValueError(f"align must be 'none' or 'principal', got {align!r}")
    return make_asset(obj_id, obj_id, "user", mesh, symmetry=symmetry, density=density,
                      source_from_input=source_from_input, params={"path": str(path), "scale": scale})


class ObjectLibrary:
    """Registry of objects. Assets load lazily (a YCB mesh takes ~0.1-0.5 s) and are cached.

    ``ids(split)`` and ``sample(rng, split)`` are deterministic: ids are kept in a fixed order.
    """

    def __init__(self) -> None:
        self._loaders: dict[str, callable] = {}
        self._split: dict[str, str] = {}
        self._cache: dict[str, ObjectAsset] = {}

    # -- construction -------------------------------------------------------------------------
    def register(self, obj_id: str, loader, split: str = "train") -> None:
        if split not in ("train", "heldout"):
            raise ValueError(f"split must be 'train' or 'heldout', got {split!r}")
        if obj_id in self._loaders:
            raise ValueError(f"object id {obj_id!r} is already registered")
        self._loaders[obj_id] = loader
        self._split[obj_id] = split

    def add(self, asset: ObjectAsset, split: str = "train") -> None:
        self.register(asset.id, lambda: asset, split)
        self._cache[asset.id] = asset

    @classmethod
    def ycb(cls) -> "ObjectLibrary":
        lib = cls()
        lib.add_ycb()
        return lib

    def add_ycb(self) -> None:
        for obj_id in YCB_NAMES:
            self.register(obj_id, lambda o=obj_id: load_ycb(o), "heldout" if obj_id in HELDOUT_OBJECTS else "train")

    def add_procedural(self, seed: int, per_kind: int = 4, kinds=KINDS, heldout_fraction: float = 0.0) -> None:
        """``per_kind`` objects of each kind, ids ``proc_<kind>_<seed>_<k>``; parameters depend only on
        (seed, kind, k). The last ``round(per_kind*heldout_fraction)`` of each kind are held out."""
        n_held = int(round(per_kind * heldout_fraction))
        for kind in kinds:
            if kind not in KINDS:
                raise ValueError(f"unknown procedural kind {kind!r}; known kinds: {', '.join(KINDS)}")
            for k in range(per_kind):
                oid = f"proc_{kind}_{seed}_{k}"
                self.register(oid, lambda kind=kind, k=k, oid=oid: generate(
                    kind, np.random.default_rng([seed, KINDS.index(kind), k]), oid),
                    "heldout" if k >= per_kind - n_held else "train")

    @classmethod
    def from_folder(cls, path, *, scale: float | None = None, scales: dict | None = None,
                    size_range=DEFAULT_SIZE_RANGE, split: str = "train", align: str = "none") -> "ObjectLibrary":
        """Every mesh file in ``path`` (id = file stem; or ``<id>/<any>.obj`` sub-folders). An optional
        ``objects.json`` in the folder may give per-id {"scale", "symmetry", "density", "split"}.
        Meshes load eagerly so that unit and file errors surface here."""
        root = Path(path)
        if not root.is_dir():
            raise FileNotFoundError(f"object folder not found: {root}")
        meta = {}
        if (root / "objects.json").is_file():
            meta = json.loads((root / "objects.json").read_text())
        files: dict[str, Path] = {}
        for p in sorted(root.iterdir()):
            if p.is_file() and p.suffix.lower() in MESH_SUFFIXES:
                files[p.stem] = p
            elif p.is_dir():
                inner = sorted(q for q in p.iterdir() if q.suffix.lower() in MESH_SUFFIXES)
                if inner:
                    files[p.name] = inner[0]
        if not files:
            raise FileNotFoundError(f"no mesh files ({', '.join(MESH_SUFFIXES)}) in {root}")
        lib = cls()
        for oid, p in files.items():
            m = meta.get(oid, {})
            s = (scales or {}).get(oid, m.get("scale", scale))
            asset = user_asset(oid, p, scale=s, size_range=size_range, symmetry=m.get("symmetry", "none"),
                               density=m.get("density", DEFAULT_DENSITY), align=align)
            lib.add(asset, m.get("split", split))
        return lib

    # -- queries ------------------------------------------------------------------------------
    def ids(self, split: str = "all") -> list[str]:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        return [i for i in self._loaders if split == "all" or self._split[i] == split]

    def split_of(self, obj_id: str) -> str:
        self._check(obj_id)
        return self._split[obj_id]

    def get(self, obj_id: str) -> ObjectAsset:
        self._check(obj_id)
        if obj_id not in self._cache:
            self._cache[obj_id] = self._loaders[obj_id]()
        return self._cache[obj_id]

    def sample(self, rng: np.random.Generator, split: str = "train") -> ObjectAsset:
        ids = self.ids(split)
        if not ids:
            raise ValueError(f"no objects in split {split!r}")
        return self.get(ids[int(rng.integers(len(ids)))])

    def __contains__(self, obj_id: str) -> bool:
        return obj_id in self._loaders

    def __len__(self) -> int:
        return len(self._loaders)

    def _check(self, obj_id: str) -> None:
        if obj_id not in self._loaders:
            raise UnknownObjectError(f"unknown object id {obj_id!r}; known ids: {', '.join(self._loaders) or '(none)'}")


def default_library(procedural_seed: int | None = 0, per_kind: int = 4) -> ObjectLibrary:
    """YCB objects (with their fixed held-out split) plus, unless ``procedural_seed`` is None,
    ``per_kind`` procedural objects of each kind for training."""
    lib = ObjectLibrary.ycb()
    if procedural_seed is not None:
        lib.add_procedural(procedural_seed, per_kind)
    return lib


__all__ = ["ObjectLibrary", "UnitsError", "UnknownObjectError", "check_units", "user_asset",
           "default_library", "TRAIN_OBJECTS", "HELDOUT_OBJECTS"]
