"""Geometry, mesh extraction, network shapes, losses and a proof-of-life fit on tiny configurations."""
import numpy as np
import pytest
import torch

from hoi_perception.geometry import rot6d_to_matrix
from hoi_perception.handobject import encoding as G
from hoi_perception.handobject.mesh import EmptyShapeError, occupancy_to_mesh, silhouette, silhouette_triangles
from hoi_perception.handobject.model import HandObjectNet, NetConfig
from hoi_perception.handobject.pose import refine_translation, track_mask_centroids
from hoi_perception.handobject.training.losses import losses

TINY = NetConfig(dim=32, heads=2, depth=1, latent=4, img_channels=(8, 16, 16), hand_channels=(8, 16, 16))


def test_point_encoding_round_trip():
    k = np.array([[110.0, 0, 63.2], [0, 108.0, 64.1], [0, 0, 1]])
    p = np.array([[0.03, -0.05, 0.35], [-0.1, 0.02, 0.6]])
    enc = G.encode_point(p, k, 128, 128)
    back = G.decode_point(enc, k[0, 0], k[1, 1], k[0, 2], k[1, 2], 128, 128)
    np.testing.assert_allclose(back, p, atol=1e-9)


def test_resample_occupancy_rotates_and_recentres():
    n, pitch = 64, 0.004
    origin = np.array([-0.1, -0.1, -0.1])
    vox = np.zeros((n, n, n), np.uint8)
    vox[40:50, 30:34, 30:34] = 1  # a bar along +x, off centre
    c = origin + 0.5 * n * pitch
    r90 = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1.0]])  # aligned = R (q - c): x -> y
    occ = G.resample_occupancy(vox, origin, pitch, r90, c)
    pts = G.grid_centres()[occ > 0.5]
    q = np.argwhere(vox) * pitch + origin + pitch / 2
    expect = (q - c) @ r90.T
    np.testing.assert_allclose(pts.mean(0), expect.mean(0), atol=G.grid_pitch())
    assert np.ptp(pts[:, 1]) > np.ptp(pts[:, 0])  # the bar now lies along y


def test_marching_cubes_sphere_is_metric():
    c = G.grid_centres()
    prob = (np.linalg.norm(c, axis=-1) < 0.05).astype(np.float32)
    v, f = occupancy_to_mesh(prob)
    r = np.linalg.norm(v, axis=1)
    assert len(f) > 100
    assert abs(r.mean() - 0.05) < G.grid_pitch()
    with pytest.raises(EmptyShapeError):
        occupancy_to_mesh(np.zeros((64, 64, 64), np.float32))


def test_silhouettes_agree_and_refinement_recovers_shift():
    c = G.grid_centres()
    v, f = occupancy_to_mesh((np.linalg.norm(c, axis=-1) < 0.04).astype(np.float32))
    k = np.array([[55.0, 0, 31.5], [0, 55.0, 31.5], [0, 0, 1]])
    pose = np.eye(4)
    pose[:3, 3] = [0.0, 0.0, 0.35]
    a = silhouette(v + pose[:3, 3], f, k, 64, 64)
    b = silhouette_triangles(v + pose[:3, 3], f, k, 64, 64)
    assert (a & b).sum() / (a | b).sum() > 0.85
    moved = pose.copy()
    moved[:3, 3] = [0.02, -0.01, 0.40]
    refined, before, after = refine_translation(v, f, moved, k, b)
    assert after > before
    assert np.linalg.norm(refined[:3, 3] - pose[:3, 3]) < 0.5 * np.linalg.norm(moved[:3, 3] - pose[:3, 3])


def test_mask_centroids_track_the_object_across_frames():
    # a sphere moving across three frames; the regressed poses (all at the first position, wrong
    # depths) are moved onto each frame's mask centroid at their median depth
    c = G.grid_centres()
    v, f = occupancy_to_mesh((np.linalg.norm(c, axis=-1) < 0.04).astype(np.float32))
    k = np.array([[55.0, 0, 31.5], [0, 55.0, 31.5], [0, 0, 1]])
    true = np.array([[0.0, 0.0, 0.35], [0.03, 0.01, 0.35], [0.05, -0.02, 0.35]])
    masks = np.stack([silhouette_triangles(v + p, f, k, 64, 64) for p in true])
    regressed = np.tile(np.eye(4), (3, 1, 1))
    regressed[:, :3, 3] = [[0.0, 0.0, 0.30], [0.0, 0.0, 0.35], [0.0, 0.0, 0.40]]
    masks[2, :, :] = 0  # the object left the view: that frame keeps its regressed pose
    tracked = track_mask_centroids(regressed, masks, np.stack([k] * 3))
    np.testing.assert_allclose(tracked[:2, :3, 3], true[:2], atol=0.003)
    np.testing.assert_array_equal(tracked[2], regressed[2])
    np.testing.assert_array_equal(tracked[:, :3, :3], regressed[:, :3, :3])


def test_refine_setting_of_model_cards():
    from hoi_perception.handobject.infer import refine_mode

    assert [refine_mode(x) for x in (True, False, "centroid", "none")] == ["silhouette", "none", "centroid", "none"]
    with pytest.raises(ValueError, match="refine must be one of"):
        refine_mode("icp")


def _batch(b=2, f=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    valid = torch.ones(b, f)
    valid[0, 2] = 0
    occ = torch.from_numpy((np.linalg.norm(G.grid_centres(), axis=-1) < 0.05).astype(np.float32))
    eye6 = torch.tensor([1.0, 0, 0, 0, 1, 0])
    pose = torch.cat([eye6.expand(b, f, 6), torch.tensor([0.1, -0.1, -0.9]).expand(b, f, 3)], -1)
    return {"images": torch.rand(b, f, 3, 128, 128, generator=g), "intrinsics": torch.tensor([0.85, 0.85, 0.5, 0.5]).expand(b, f, 4),
            "valid": valid, "occupancy": occ.expand(b, -1, -1, -1).clone(),
            "masks": (torch.rand(b, f, 3, 64, 64, generator=g) > 0.7).float(), "pose": pose,
            "hand_uv": torch.rand(b, f, 21, 2, generator=g) - 0.5, "hand_z": torch.rand(b, f, 22, generator=g) - 0.5}


def test_shapes_losses_and_frame_weights():
    torch.manual_seed(0)
    net = HandObjectNet(TINY)
    batch = _batch()
    out = net(batch["images"], batch["intrinsics"], batch["valid"])
    assert out["occupancy"].shape == (2, 64, 64, 64)
    assert out["masks"].shape == (2, 3, 3, 64, 64)
    assert out["pose"].shape == (2, 3, 9) and out["hand_uv"].shape == (2, 3, 21, 2)
    w = out["frame_weights"]
    assert float(w[0, :, 2].abs().max()) < 1e-6  # a padded frame gets no weight
    np.testing.assert_allclose(w.sum(-1).detach().numpy(), 1.0, atol=1e-5)
    ls = losses(out, batch)
    assert all(torch.isfinite(v) for v in ls.values())
    # padding frames do not influence the geometry
    b2 = dict(batch)
    imgs = batch["images"].clone()
    imgs[0, 2] = 0.0
    out2 = net(imgs, batch["intrinsics"], batch["valid"])
    torch.testing.assert_close(out2["occupancy"][0], out["occupancy"][0], atol=1e-4, rtol=0)
    assert b2 is not None


def test_rot6d_identity():
    r = rot6d_to_matrix(torch.tensor([[1.0, 0, 0, 0, 1, 0]]))
    torch.testing.assert_close(r[0], torch.eye(3))


def test_proof_of_life_fit():
    torch.manual_seed(0)
    net = HandObjectNet(TINY)
    batch = _batch(seed=1)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    first = None
    for _ in range(12):
        ls = losses(net(batch["images"], batch["intrinsics"], batch["valid"]), batch)
        opt.zero_grad()
        ls["total"].backward()
        opt.step()
        first = first if first is not None else float(ls["total"])
    assert float(ls["total"]) < 0.8 * first


def _box_mesh():
    import trimesh

    m = trimesh.creation.box((0.08, 0.05, 0.12))
    v, f = trimesh.remesh.subdivide_to_size(m.vertices, m.faces, 0.004)  # vertices as dense as marching cubes'
    return trimesh.Trimesh(v, f)


def test_depth_icp_recovers_the_offset_from_a_partial_view():
    """Observed points = the camera-facing half of a box at the true pose; ICP from a pose 4 cm
    off (mostly in depth, the monocular weak spot) returns to the true translation."""
    from scipy.spatial.transform import Rotation

    from hoi_perception.handobject.pose import refine_with_depth

    m = _box_mesh()
    v = np.asarray(m.vertices)
    true = np.eye(4)
    true[:3, :3] = Rotation.from_euler("xyz", [20, -30, 10], degrees=True).as_matrix()
    true[:3, 3] = [0.02, -0.01, 0.45]
    pts, _ = __import__("trimesh").sample.sample_surface(m, 4000, seed=0)
    cam_pts = pts @ true[:3, :3].T + true[:3, 3]
    normals = m.face_normals[_] @ true[:3, :3].T
    visible = cam_pts[np.sum(normals * cam_pts, axis=1) < 0]  # faces looking at the camera
    start = true.copy()
    start[:3, 3] += [0.01, -0.005, 0.04]
    for mode in ("translation", "rigid"):
        got, rms = refine_with_depth(v, start, visible, mode=mode)
        assert np.linalg.norm(got[:3, 3] - true[:3, 3]) < 0.006, mode
        assert rms is not None and rms < 0.005
    # too few observed points: the pose is returned unchanged, with no residual
    same, rms = refine_with_depth(v, start, visible[:5])
    assert rms is None and np.array_equal(same, start)
    with pytest.raises(ValueError, match="mode"):
        refine_with_depth(v, start, visible, mode="affine")


def test_depth_points_back_project_inside_the_mask():
    from hoi_perception.handobject.pose import depth_points

    k = np.array([[100.0, 0, 31.5], [0, 100.0, 31.5], [0, 0, 1]])
    depth = np.full((64, 64), 0.5, np.float32)
    depth[0, 0] = np.nan
    depth[1, 1] = 0.0
    mask = np.zeros((64, 64), bool)
    mask[:2, :2] = True
    mask[40, 50] = True
    p = depth_points(depth, mask, k)
    assert len(p) == 3  # NaN and zero depth are unknown
    np.testing.assert_allclose(p[-1], [(50 - 31.5) * 0.5 / 100, (40 - 31.5) * 0.5 / 100, 0.5])


FLOW_TINY = NetConfig(**{**TINY.__dict__, "variant": "flow"})


def test_flow_variant_learns_the_velocity_and_samples_deterministically():
    from hoi_perception.handobject import flow
    from hoi_perception.handobject.training.losses import flow_losses

    torch.manual_seed(0)
    net = HandObjectNet(FLOW_TINY)
    batch = _batch(seed=1)
    with pytest.raises(ValueError, match="needs t"):
        net(batch["images"], batch["intrinsics"], batch["valid"])
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    first = None
    for step in range(12):
        feeds, v_occ, v_mask = flow.training_inputs(batch, torch.Generator().manual_seed(step))
        # one t per clip, shared: the noisy occupancy and masks of a clip sit at the same point of the path
        t = feeds["t"].reshape(-1, 1, 1, 1)
        occ1 = 2 * batch["occupancy"] - 1
        torch.testing.assert_close(feeds["noisy_occupancy"] + (1 - t) * v_occ, occ1)
        ls = flow_losses(net(batch["images"], batch["intrinsics"], batch["valid"], **feeds), batch, v_occ, v_mask)
        opt.zero_grad()
        ls["total"].backward()
        opt.step()
        first = first if first is not None else float(ls["total"])
    assert float(ls["total"]) < 0.8 * first

    def run(feeds):
        with torch.no_grad():
            out = net(*(torch.as_tensor(feeds[k]) for k in ("images", "intrinsics", "valid", "t", "noisy_occupancy",
                                                             "noisy_mask")))
        return {k: v.numpy() for k, v in out.items()}

    feeds = {"images": batch["images"][:1].numpy(), "intrinsics": batch["intrinsics"][:1].numpy(),
             "valid": batch["valid"][:1].numpy()}
    a, b = flow.sample(run, feeds, steps=3), flow.sample(run, feeds, steps=3)
    np.testing.assert_array_equal(a["occupancy"], b["occupancy"])  # fixed-seed noise: same mesh every time
    assert a["occupancy"].shape == (1, 64, 64, 64) and np.abs(a["occupancy"]).max() <= flow.LOGIT_SCALE
    with pytest.raises(ValueError, match="at least one step"):
        flow.sample(run, feeds, steps=0)
