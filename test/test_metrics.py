"""Known-answer tests for hoi_perception.metrics."""
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hoi_perception import metrics as M


def cube():
    v = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=float)
    f = np.array([
        [0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5],  # x=0, x=1
        [0, 4, 5], [0, 5, 1], [2, 3, 7], [2, 7, 6],  # y=0, y=1
        [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3],  # z=0, z=1
    ])
    return v, f


def grid_plane(n=6, size=1.0):
    """Triangulated square [0,size]^2 at z=0, (n x n) vertices."""
    xs = np.linspace(0, size, n)
    v = np.array([[x, y, 0.0] for y in xs for x in xs])
    f = []
    for j in range(n - 1):
        for i in range(n - 1):
            a = j * n + i
            f += [[a, a + 1, a + n + 1], [a, a + n + 1, a + n]]
    return v, np.array(f)


def test_similarity_transform_recovers_known():
    rng = np.random.default_rng(1)
    pred = rng.normal(size=(300, 3))
    r = Rotation.random(random_state=3).as_matrix()
    t = np.array([0.3, -1.2, 2.5])
    gt = 1.7 * pred @ r.T + t
    s, r_est, t_est = M.similarity_transform(pred, gt)
    assert abs(s - 1.7) < 1e-6
    assert np.abs(r_est - r).max() < 1e-6
    assert np.abs(t_est - t).max() < 1e-6
    assert np.abs(M.apply_similarity(pred, (s, r_est, t_est)) - gt).max() < 1e-6


def test_similarity_transform_never_reflects():
    rng = np.random.default_rng(2)
    pred = rng.normal(size=(50, 3))
    gt = pred * np.array([1, 1, -1])  # a mirror image: best proper rotation, not a reflection
    _, r, _ = M.similarity_transform(pred, gt)
    assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-9)


def test_align_human_object_uses_one_transform():
    rng = np.random.default_rng(4)
    gh, go = rng.normal(size=(40, 3)), rng.normal(size=(20, 3)) + 2
    r = Rotation.random(random_state=5).as_matrix()
    ph, po = 0.5 * gh @ r.T + 1.0, 0.5 * go @ r.T + 1.0
    ah, ao, (s, _, _) = M.align_human_object(ph, po, gh, go)
    assert s == pytest.approx(2.0, abs=1e-9)
    assert np.abs(ah - gh).max() < 1e-9 and np.abs(ao - go).max() < 1e-9
    # Moving only the object relative to the human cannot be undone by one shared transform.
    ah, ao, _ = M.align_human_object(gh, go + [0.3, 0, 0], gh, go)
    assert np.abs(ao - go).max() > 0.05


def test_sample_surface_unit_cube():
    v, f = cube()
    pts = M.sample_surface(v, f, n=6000, seed=0)
    assert pts.shape == (6000, 3)
    assert pts.min() >= -1e-12 and pts.max() <= 1 + 1e-12
    # Every point lies on the surface: some coordinate is 0 or 1.
    on_face = np.isclose(pts, 0, atol=1e-9) | np.isclose(pts, 1, atol=1e-9)
    assert on_face.any(1).all()
    # Uniform by area: each of the 6 faces gets ~1/6 of the points.
    counts = [np.isclose(pts[:, a], b, atol=1e-9).sum() for a in range(3) for b in (0, 1)]
    assert all(abs(c / 6000 - 1 / 6) < 0.025 for c in counts)
    # Same seed, same points.
    assert np.array_equal(pts, M.sample_surface(v, f, n=6000, seed=0))


def test_chamfer_identical_and_shift():
    rng = np.random.default_rng(0)
    a = rng.random((500, 3))
    assert M.chamfer_distance(a, a) == 0.0
    # Two single points 0.3 apart: 0.3 each way.
    assert M.chamfer_distance([[0, 0, 0]], [[0.3, 0, 0]]) == pytest.approx(0.6)
    # A dense line shifted perpendicular by d: every NN distance is d.
    line = np.stack([np.linspace(0, 1, 101), np.zeros(101), np.zeros(101)], 1)
    assert M.chamfer_distance(line, line + [0, 0.02, 0]) == pytest.approx(0.04)


def test_hoi_chamfer_identical_and_known_similarity():
    v, f = cube()
    ov, of = cube()
    ov = 0.2 * ov + [1.5, 0, 0]
    r = Rotation.random(random_state=7).as_matrix()
    pv, po = 1.3 * v @ r.T + [1, 2, 3], 1.3 * ov @ r.T + [1, 2, 3]
    res = M.hoi_chamfer(pv, po, v, ov, f, of, n_samples=3000, seed=0)
    assert res["scale"] == pytest.approx(1 / 1.3)
    # Aligned perfectly, so the score equals the one of GT against itself: what remains is the
    # sampling noise of two independent draws (a few cm on a 1 m cube with 3,000 points).
    same = M.hoi_chamfer(v, ov, v, ov, f, of, n_samples=3000, seed=0)
    assert res["cd_human_cm"] == pytest.approx(same["cd_human_cm"], abs=1e-6)
    assert res["cd_object_cm"] == pytest.approx(same["cd_object_cm"], abs=1e-6)
    assert 0 < same["cd_human_cm"] < 6
    unaligned = M.hoi_chamfer(pv, po, v, ov, f, of, n_samples=3000, seed=0, align=False)
    assert unaligned["cd_human_cm"] > 100


def test_point_mesh_distance_face_interior_and_vertex_region():
    v, f = grid_plane(n=3, size=1.0)
    q = np.array([[0.33, 0.41, 0.07], [-0.3, -0.4, 0.0], [0.5, 1.2, 0.0]])
    d = M.point_mesh_distance(q, v, f)
    assert d == pytest.approx([0.07, 0.5, 0.2])
    # Brute force over all faces agrees.
    for i in range(len(q)):
        tri = v[f]
        cp = M.closest_point_on_triangles(np.repeat(q[i:i + 1], len(f), 0), tri[:, 0], tri[:, 1], tri[:, 2])
        assert d[i] == pytest.approx(np.linalg.norm(cp - q[i], axis=1).min())


def test_contact_threshold_face_interior():
    # One big triangle; the query points sit above its interior, far (> 0.5 m) from every vertex.
    v = np.array([[-1.0, -1.0, 0.0], [2.0, -1.0, 0.0], [-1.0, 2.0, 0.0]])
    f = np.array([[0, 1, 2]])
    human = np.array([[0.2, 0.2, 0.049], [0.2, 0.2, 0.051], [0.2, 0.2, -0.049], [0.2, 0.2, 0.0]])
    assert np.linalg.norm(human[:, None] - v[None], axis=-1).min() > 0.5
    assert M.contact_labels(human, v, f, threshold=0.05).tolist() == [True, False, True, True]


def test_contact_precision_recall():
    p = np.array([1, 1, 0, 0, 1], bool)
    g = np.array([1, 0, 1, 0, 1], bool)
    assert M.contact_precision_recall(p, g) == pytest.approx((2 / 3, 2 / 3))
    assert M.contact_precision_recall(g, g) == (1.0, 1.0)
    assert M.contact_precision_recall(np.zeros(5, bool), g) == (0.0, 0.0)


def test_contact_f1_and_average_precision_by_hand():
    assert M.f1_score(2 / 3, 2 / 3) == pytest.approx(2 / 3) and M.f1_score(0.0, 0.0) == 0.0
    g = np.array([1, 0, 1, 0, 1], bool)
    # ranked 0.9 (hit), 0.8 (miss), 0.7 (hit), 0.2 (miss), 0.1 (hit): (1/1 + 2/3 + 3/5) / 3
    probs = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    assert M.contact_average_precision(probs, g) == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    assert M.contact_average_precision(g.astype(float), g) == 1.0  # every contact ranked first
    assert np.isnan(M.contact_average_precision(probs, np.zeros(5, bool)))


def test_mask_iou_known_overlap_and_empty_convention():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[:2] = True  # 8 pixels
    b[1:3] = True  # 8 pixels, 4 shared
    assert M.mask_iou(a, b) == pytest.approx(4 / 12)
    assert M.mask_iou(a, a) == 1.0
    empty = np.zeros((4, 4), bool)
    assert M.mask_iou(empty, b) == 0.0
    assert M.mask_iou(empty, empty) == 0.0
    assert np.isnan(M.mask_iou(empty, empty, empty=np.nan))
    with pytest.raises(ValueError):
        M.mask_iou(a, np.zeros((4, 5), bool))


def test_fscore_known_shift():
    rng = np.random.default_rng(0)
    gt = rng.random((2000, 3))
    assert M.fscore(gt, gt, 0.005) == 1.0
    far = gt + [1.0, 0, 0]
    assert M.fscore(far, gt, 0.01) < 0.2  # only the overlapping slab can match
    # A point pair 7 mm apart: inside F@10, outside F@5.
    a, b = np.array([[0, 0, 0.0]]), np.array([[0.007, 0, 0]])
    assert M.fscore(a, b, 0.005) == 0.0
    assert M.fscore(a, b, 0.010) == 1.0
    f, p, r = M.fscore_precision_recall(np.array([[0, 0, 0.0], [1, 0, 0]]), b, 0.01)
    assert (p, r) == (0.5, 1.0) and f == pytest.approx(2 / 3)


def test_hand_object_chamfer_units():
    # 1 cm shift of a single point: 1 cm^2 each way.
    assert M.hand_object_chamfer_cm2([[0, 0, 0]], [[0.01, 0, 0]]) == pytest.approx(2.0)
    rng = np.random.default_rng(0)
    a = rng.random((100, 3))
    assert M.hand_object_chamfer_cm2(a, a) == 0.0


def test_align_object_icp_scale_translation():
    v, f = cube()
    gt = M.sample_surface(v, f, 3000, seed=1)
    src = (gt - 0.5) / 1.4 + [0.3, -0.2, 0.1]
    aligned, (s, r, t) = M.align_object_icp(src, gt, mode="scale_translation")
    assert s == pytest.approx(1.4, rel=1e-3)
    assert np.allclose(r, np.eye(3))
    assert np.abs(aligned - gt).max() < 1e-3


def test_rotation_translation_errors():
    r = Rotation.from_euler("z", 30, degrees=True).as_matrix()
    assert M.rotation_error_deg(np.eye(3), r) == pytest.approx(30)
    assert M.rotation_error_deg(r, r) == pytest.approx(0, abs=1e-6)
    assert M.translation_error([0, 0, 0], [0.03, 0.04, 0]) == pytest.approx(0.05)
    # A 180-degree flip about z is a symmetry of a box: the symmetric error is 0.
    flip = Rotation.from_euler("z", 180, degrees=True).as_matrix()
    assert M.rotation_error_deg(flip, np.eye(3)) == pytest.approx(180)
    assert M.symmetric_rotation_error_deg(flip, np.eye(3), [flip]) == pytest.approx(0, abs=1e-6)


def test_add_and_add_s():
    pts = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0]])
    eye = np.eye(3)
    assert M.add(eye, [0.1, 0, 0], eye, [0, 0, 0], pts) == pytest.approx(0.1)
    flip = Rotation.from_euler("z", 180, degrees=True).as_matrix()
    assert M.add(flip, [0, 0, 0], eye, [0, 0, 0], pts) == pytest.approx(2.0)
    assert M.add_s(flip, [0, 0, 0], eye, [0, 0, 0], pts) == pytest.approx(0.0)


def _trajectory(n=20):
    poses = np.tile(np.eye(4), (n, 1, 1))
    for i in range(n):
        poses[i, :3, :3] = Rotation.from_euler("z", 5 * i, degrees=True).as_matrix()
        poses[i, :3, 3] = [0.1 * i, 0.02 * i ** 1.5, 0.0]
    return poses


def test_rpe_known_trajectory():
    g = _trajectory()
    assert M.rpe(g, g) == {"rpe_trans_cm": pytest.approx(0, abs=1e-9), "rpe_rot_deg": pytest.approx(0, abs=1e-4)}
    # A constant global offset leaves relative motion unchanged.
    off = np.eye(4)
    off[:3, :3] = Rotation.from_euler("x", 20, degrees=True).as_matrix()
    off[:3, 3] = [1, 2, 3]
    assert M.rpe(off @ g, g)["rpe_trans_cm"] == pytest.approx(0, abs=1e-9)
    # Each predicted step moves 2 cm further along the local x axis and turns 1 degree more.
    p = g.copy()
    for i in range(1, len(g)):
        step = np.linalg.inv(g[i - 1]) @ g[i]
        extra = np.eye(4)
        extra[:3, :3] = Rotation.from_euler("z", 1, degrees=True).as_matrix()
        extra[:3, 3] = [0.02, 0, 0]
        p[i] = p[i - 1] @ step @ extra
    res = M.rpe(p, g)
    assert res["rpe_trans_cm"] == pytest.approx(2.0)
    assert res["rpe_rot_deg"] == pytest.approx(1.0)


def test_ate_known_trajectory():
    g = _trajectory()
    off = np.eye(4)
    off[:3, :3] = Rotation.from_euler("y", 40, degrees=True).as_matrix()
    off[:3, 3] = [1, -2, 0.5]
    assert M.ate(off @ g, g) == pytest.approx(0, abs=1e-9)
    # Noise that is +e / -e along z on alternating frames survives the alignment as RMSE e.
    pos = g[:, :3, 3].copy()
    noisy = pos + np.array([[0, 0, 0.03 * (-1) ** i] for i in range(len(pos))])
    assert M.ate(noisy, pos) == pytest.approx(0.03, rel=0.02)
    # Scale is only removed when asked.
    assert M.ate(2 * pos, pos) > 0.1
    assert M.ate(2 * pos, pos, with_scale=True) == pytest.approx(0, abs=1e-9)


def test_mpjpe_g_mpjpe_accel():
    rng = np.random.default_rng(0)
    gt = rng.random((10, 24, 3))
    shifted = gt + [0.1, 0, 0]
    assert M.mpjpe(shifted, gt) == pytest.approx(0, abs=1e-9)
    assert M.g_mpjpe(shifted, gt) == pytest.approx(100.0)
    assert M.accel_error(shifted, gt) == pytest.approx(0, abs=1e-9)
    one = gt.copy()
    one[:, 5] += [0, 0.024, 0]  # one of 24 joints off by 24 mm
    assert M.mpjpe(one, gt) == pytest.approx(1.0)
    # A bump at one frame: second difference changes by (1, -2, 1) * 10 mm at 3 frames.
    bump = gt.copy()
    bump[4, :] += [0.01, 0, 0]
    assert M.accel_error(bump, gt) == pytest.approx(1000 * 0.01 * (1 + 2 + 1) / 8)
    assert M.velocity_error(bump, gt) == pytest.approx(1000 * 0.01 * 2 / 9)


def test_imitation_success_rule():
    ref = np.zeros((50, 5, 3))
    ok = ref + [0.49, 0, 0]
    bad = ok.copy()
    bad[30] += [0.02, 0, 0]  # one frame at 0.51 m
    assert M.imitation_success(ok, ref)
    assert not M.imitation_success(bad, ref)
    assert M.success_rate([(ok, ref), (bad, ref)]) == 0.5


def test_damon_scores_and_edge_cases():
    gt = np.array([[1, 1, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
    pr = np.array([[0.9, 0.2, 0.7, 0.1],   # tp 1, fp 1, fn 1 -> P=R=F=0.5
                   [0.6, 0.0, 0.0, 0.0],   # no GT contact -> P=0, R=1, F=0
                   [0.4, 0.1, 0.0, 0.0],   # no prediction (0.4 < 0.5) -> P=1, R=0, F=0
                   [0.0, 0.0, 0.0, 0.0]])  # neither -> "no prediction" case first
    res = M.damon_contact_scores(pr, gt)
    assert res["precision"] == pytest.approx((0.5 + 0 + 1 + 1) / 4)
    assert res["recall"] == pytest.approx((0.5 + 1 + 0 + 0) / 4)
    assert res["f1"] == pytest.approx(0.5 / 4)
    assert M.damon_contact_scores([[0.5, 0.49]], [[1, 0]])["f1"] == 1.0  # 0.5 counts as contact


def test_geodesic_fp_error_on_grid():
    v, f = grid_plane(n=6, size=1.0)  # spacing 0.2
    graph = M.mesh_edge_graph(v, f)
    gt = np.zeros(len(v), bool)
    gt[0] = True
    pred = np.zeros(len(v), bool)
    pred[[0, 2]] = True  # vertex 2 is two edges (0.4) along x from the GT vertex
    assert M.geodesic_fp_error(pred, gt, graph) == pytest.approx(0.4)
    assert M.geodesic_fp_error(gt, gt, graph) == 0.0
    res = M.damon_contact_scores(pred[None].astype(float), gt[None], vertices=v, faces=f)
    assert res["fp_geodesic"] == pytest.approx(0.4)


def test_paired_difference_known_values():
    a = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [4.0, 5.0]])
    b = a - np.array([[0.0, 1.0], [2.0, 1.0], [0.0, 1.0], [2.0, 1.0]])
    mean, sem = M.paired_difference(a, b)
    assert np.allclose(mean, [1.0, 1.0])
    # differences 0, 2, 0, 2: sample std 2/sqrt(3), standard error 1/sqrt(3); a constant shift has none
    assert np.allclose(sem, [1 / np.sqrt(3), 0.0])
    with pytest.raises(ValueError, match="same"):
        M.paired_difference(a, b[:3])
    with pytest.raises(ValueError, match="at least 2"):
        M.paired_difference(a[:1], b[:1])


def test_auroc():
    from hoi_perception.metrics import auroc

    assert auroc([0.9, 0.8, 0.1, 0.2], [True, True, False, False])[0] == 1.0
    assert auroc([0.1, 0.2, 0.9, 0.8], [True, True, False, False])[0] == 0.0
    a, se = auroc([0.5, 0.5, 0.5, 0.5], [True, False, True, False])
    assert a == 0.5 and se > 0
    assert np.isnan(auroc([0.1, 0.2], [True, True])[0])
    rng = np.random.default_rng(0)
    s = rng.normal(size=400)
    g = s + rng.normal(size=400) > 0  # informative but noisy
    a, se = auroc(s, g)
    assert 0.75 < a < 0.95 and 0.01 < se < 0.05


def test_pa_mpjpe_removes_scale_rotation_and_translation_only():
    from scipy.spatial.transform import Rotation

    from hoi_perception.metrics import pa_mpjpe

    rng = np.random.default_rng(5)
    gt = rng.normal(size=(12, 3)) * 0.3
    moved = 1.7 * gt @ Rotation.from_rotvec([0.3, -1.0, 0.4]).as_matrix().T + [1.0, 2.0, -3.0]
    assert pa_mpjpe(moved, gt) == pytest.approx(0.0, abs=1e-6)
    bent = gt.copy()
    bent[0] += [0.1, 0.0, 0.0]  # one joint 10 cm off: an error the alignment spreads, not removes
    assert 1.0 < pa_mpjpe(bent, gt) < 30.0
