import numpy as np
import pytest
import trimesh
from scipy.spatial import cKDTree

from hoi_perception.objects import (HELDOUT_OBJECTS, N_SUBSET, TRAIN_OBJECTS, YCB_NAMES, ObjectLibrary, UnitsError,
                                    UnknownObjectError, generate_procedural, PROCEDURAL_KINDS)


@pytest.fixture(scope="module")
def ycb_lib():
    return ObjectLibrary.ycb()


@pytest.mark.parametrize("obj_id", list(YCB_NAMES))
def test_ycb_asset(ycb_lib, obj_id):
    a = ycb_lib.get(obj_id)
    assert a.source == "ycb"
    assert np.all(a.extents > 0.01) and np.all(a.extents.max() <= 0.5) and a.extents.max() >= 0.05
    np.testing.assert_allclose(a.mesh.bounds.mean(0), 0.0, atol=1e-6)  # bbox-centred canonical frame
    assert a.mesh.is_watertight and a.mass_source == "watertight" and 0.005 < a.mass < 3.0
    assert a.subset_indices.shape == (N_SUBSET,) and len(set(a.subset_indices.tolist())) == N_SUBSET
    assert a.subset_vertices.shape == (N_SUBSET, 3)
    # Surface points lie on the surface: closest point on the triangles is ~0 away.
    closest, dist, _ = trimesh.proximity.closest_point_naive(a.mesh, a.surface_points[:200])
    assert dist.max() < 1e-5  # float32 storage
    assert a.keypoints.shape == (9, 3)
    np.testing.assert_allclose(a.keypoints[7], a.mesh.bounds[1], atol=1e-6)
    # Declared symmetries map the shape onto itself (mean gap a few mm at most for scanned boxes).
    tree = cKDTree(trimesh.sample.sample_surface(a.mesh, 40000, seed=3)[0])
    for R in a.symmetry_rotations[1:]:
        assert tree.query(a.surface_points @ R.T)[0].mean() < 0.004


def test_asymmetric_object_is_not_self_matching(ycb_lib):
    # The check above can fail: a turned drill does not match itself.
    a = ycb_lib.get("035_power_drill")
    tree = cKDTree(trimesh.sample.sample_surface(a.mesh, 40000, seed=3)[0])
    rz = np.array([[-1.0, 0, 0], [0, -1.0, 0], [0, 0, 1.0]])
    assert tree.query(a.surface_points @ rz.T)[0].mean() > 0.004
    assert a.symmetry == "none" and len(a.symmetry_rotations) == 1


def test_splits(ycb_lib):
    train, held = set(ycb_lib.ids("train")), set(ycb_lib.ids("heldout"))
    assert held == set(HELDOUT_OBJECTS) and train == set(TRAIN_OBJECTS)
    assert not train & held and train | held == set(ycb_lib.ids("all"))
    rng1, rng2 = np.random.default_rng(5), np.random.default_rng(5)
    s1 = [ycb_lib.sample(rng1, "train").id for _ in range(6)]
    assert s1 == [ycb_lib.sample(rng2, "train").id for _ in range(6)]
    assert not set(s1) & held
    with pytest.raises(ValueError):
        ycb_lib.ids("test")


def test_unknown_id_lists_known(ycb_lib):
    with pytest.raises(UnknownObjectError) as e:
        ycb_lib.get("999_nothing")
    assert "025_mug" in str(e.value) and "999_nothing" in str(e.value)


@pytest.mark.parametrize("kind", PROCEDURAL_KINDS)
def test_procedural_deterministic_and_valid(kind):
    a = generate_procedural(kind, np.random.default_rng(7))
    b = generate_procedural(kind, np.random.default_rng(7))
    c = generate_procedural(kind, np.random.default_rng(8))
    np.testing.assert_array_equal(a.mesh.vertices, b.mesh.vertices)
    np.testing.assert_array_equal(a.subset_indices, b.subset_indices)
    assert a.params == b.params and a.params != c.params
    assert a.mesh.is_watertight and a.mass > 0
    np.testing.assert_allclose(a.mesh.bounds.mean(0), 0.0, atol=1e-6)
    assert a.subset_indices.shape == (N_SUBSET,)
    tree = cKDTree(trimesh.sample.sample_surface(a.mesh, 40000, seed=3)[0])
    for R in a.symmetry_rotations[1:: max(1, len(a.symmetry_rotations) // 8)]:
        assert tree.query(a.surface_points @ R.T)[0].mean() < 0.003
    if kind in ("mug", "pan", "racket"):
        mask = a.grasp["handle_vertex_mask"]
        assert 0 < mask.sum() < len(mask) and a.grasp["handle_point_mask"].any()
        seg = a.grasp["handle_segment"]
        assert np.all(np.abs(seg) <= a.mesh.bounds[1] + 1e-6)


def _write_cube(path, side):
    trimesh.creation.box(extents=(side, side, side)).export(path)


def test_user_folder_units_and_scale(tmp_path):
    _write_cube(tmp_path / "cube_m.obj", 0.08)
    _write_cube(tmp_path / "cube_mm.obj", 80.0)  # millimetres
    with pytest.raises(UnitsError, match="scale=0.001"):
        ObjectLibrary.from_folder(tmp_path)
    lib = ObjectLibrary.from_folder(tmp_path, scales={"cube_mm": 0.001})
    np.testing.assert_allclose(lib.get("cube_mm").extents, 0.08, rtol=1e-6)
    np.testing.assert_allclose(lib.get("cube_m").extents, 0.08, rtol=1e-6)
    (tmp_path / "cube_mm.obj").unlink()
    _write_cube(tmp_path / "tiny.obj", 0.002)
    with pytest.raises(UnitsError):
        ObjectLibrary.from_folder(tmp_path)


def test_user_folder_corrupt_and_missing(tmp_path):
    (tmp_path / "bad.obj").write_text("this is not a mesh\nf 1 2 3\n")
    with pytest.raises(ValueError, match="bad.obj"):
        ObjectLibrary.from_folder(tmp_path)
    with pytest.raises(FileNotFoundError):
        ObjectLibrary.from_folder(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError):
        ObjectLibrary.from_folder(empty)
