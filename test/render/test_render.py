import numpy as np
import pytest
import trimesh

from hoi_perception.render import Light, Lighting, Material, RenderMesh, SceneRenderer
from hoi_perception.render import randomize as R

S = 256
F = 300.0


@pytest.fixture(scope="module")
def renderer():
    with SceneRenderer(S, S) as r:
        yield r


def _K(cx=(S - 1) / 2, cy=(S - 1) / 2):
    return np.array([[F, 0, cx], [0, F, cy], [0, 0, 1.0]])


def _cube(iid, side, centre, material=None):
    box = trimesh.creation.box(extents=(side, side, side))
    pose = np.eye(4)
    pose[:3, 3] = centre
    return RenderMesh(iid, box.vertices.astype(np.float32), box.faces, material or Material(), pose)


def test_cube_projection_area_and_depth(renderer):
    side, z = 0.2, 2.0
    res = renderer.render([_cube(5, side, (0, 0, z))], _K(), np.eye(4))
    mask = res.instance == 5
    # Front face at z - side/2 projects to a square of side F*side/(z - side/2) pixels.
    expected = (F * side / (z - side / 2)) ** 2
    assert abs(mask.sum() - expected) / expected < 0.07
    np.testing.assert_allclose(res.depth[mask], z - side / 2, atol=1e-3)
    assert np.all(res.depth[~mask] == 0)
    assert set(np.unique(res.instance)) == {0, 5}
    assert res.rgb[~mask].max() == 0 and res.rgb[mask].mean() > 20  # lit cube on black
    assert res.occlusion[5] == 0.0 and res.visible_pixels[5] == res.amodal_pixels[5]


def test_principal_point_and_world_to_camera(renderer):
    # Off-centre principal point and a camera translated in the world: the cube centre must land at
    # K @ T_cw @ X (OpenCV pixel centres).
    K = _K(100.0, 150.0)
    T_cw = np.eye(4)
    T_cw[:3, 3] = [-0.1, 0.05, 0.5]  # world -> camera
    X = np.array([0.1, -0.05, 1.5])
    res = renderer.render([_cube(2, 0.1, X)], K, T_cw)
    ys, xs = np.nonzero(res.instance == 2)
    Xc = X + T_cw[:3, 3]
    u = K[0, 0] * Xc[0] / Xc[2] + K[0, 2]
    v = K[1, 1] * Xc[1] / Xc[2] + K[1, 2]
    assert abs(xs.mean() - u) < 0.6 and abs(ys.mean() - v) < 0.6


def test_camera_rotation_y_down(renderer):
    # Camera looking along world +x, with image y down = world -z. A cube above the axis (world +z)
    # must appear in the upper half of the image.
    T_wc = np.eye(4)
    T_wc[:3, :3] = np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]], dtype=float)  # columns: cam x, y, z in world
    res = renderer.render([_cube(3, 0.1, (2.0, 0.0, 0.3))], _K(), np.linalg.inv(T_wc))
    ys, _ = np.nonzero(res.instance == 3)
    assert len(ys) > 0 and ys.mean() < S / 2 - 20


def test_occlusion_and_amodal(renderer):
    front = _cube(1, 0.4, (0, 0, 2.0))
    hidden = _cube(2, 0.1, (0, 0, 3.0))
    partial = _cube(3, 0.2, (0.3, 0, 3.0))
    res = renderer.render([front, hidden, partial], _K(), np.eye(4))
    assert res.visible_pixels[2] == 0 and res.amodal_pixels[2] > 50
    assert res.occlusion[2] == pytest.approx(1.0)
    assert res.occlusion[1] == 0.0
    assert 0.2 < res.occlusion[3] < 0.8
    for i in (1, 2, 3):
        visible = res.instance == i
        assert np.all(res.amodal[i][visible])  # amodal contains visible
    # Depth where the partially hidden cube is visible is its own front face.
    np.testing.assert_allclose(res.depth[res.instance == 3], 2.9, atol=1e-3)


def test_vertex_update_in_place(renderer):
    box = trimesh.creation.box(extents=(0.2, 0.2, 0.2))
    v = box.vertices.astype(np.float32) + np.array([0, 0, 2.0], np.float32)
    a = renderer.render([RenderMesh(1, v, box.faces)], _K(), np.eye(4), amodal_ids=[])
    b = renderer.render([RenderMesh(1, v + np.array([0.2, 0, 0], np.float32), box.faces)], _K(), np.eye(4),
                        amodal_ids=[])
    # Right edge = front face edge (the +x side face is not visible from the optical axis).
    xa = np.nonzero(a.instance == 1)[1].max()
    xb = np.nonzero(b.instance == 1)[1].max()
    assert xb - xa == pytest.approx(F * 0.2 / 1.9, abs=1.0)
    assert np.array_equal(np.unique(np.nonzero(a.instance)[0]), np.unique(np.nonzero(b.instance)[0]))


def test_background_and_vertex_colors(renderer):
    bg = np.full((S, S, 3), 200, np.uint8)
    box = trimesh.creation.box(extents=(0.2, 0.2, 0.2))
    red = np.tile([1.0, 0.0, 0.0], (len(box.vertices), 1)).astype(np.float32)
    pose = np.eye(4)
    pose[2, 3] = 2.0
    res = renderer.render([RenderMesh(1, box.vertices, box.faces, Material((1, 1, 1, 1), vertex_colors=red), pose)],
                          _K(), np.eye(4), background=bg,
                          lighting=Lighting([Light("directional", intensity=3.0)], (0.5, 0.5, 0.5)))
    assert np.all(res.rgb[res.depth == 0] == 200)
    inside = res.rgb[res.instance == 1].astype(int)
    assert inside[:, 0].mean() > 100 and inside[:, 1].mean() < 30


def test_randomisation_deterministic():
    pts = np.random.default_rng(0).random((100, 3))
    for fn in (lambda g: R.random_background(g, 64, 64), lambda g: R.texture_image(g, 32),
               lambda g: R.solid_texture(g, pts), lambda g: R.body_material(g, 100, np.arange(100) % 3).vertex_colors,
               lambda g: R.random_material(g, pts, texture_prob=1.0).vertex_colors):
        a, b, c = fn(np.random.default_rng(1)), fn(np.random.default_rng(1)), fn(np.random.default_rng(2))
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
    la = R.random_lighting(np.random.default_rng(3), np.eye(4))
    lb = R.random_lighting(np.random.default_rng(3), np.eye(4))
    assert la == lb


def test_randomised_render_deterministic(renderer):
    def frame(seed):
        g = np.random.default_rng(seed)
        box = trimesh.creation.box(extents=(0.3, 0.3, 0.3)).subdivide()
        pose = np.eye(4)
        pose[2, 3] = 1.5
        m = RenderMesh(1, box.vertices, box.faces, R.random_material(g, box.vertices, texture_prob=1.0), pose)
        return renderer.render([m], _K(), np.eye(4), lighting=R.random_lighting(g, np.eye(4), (0, 0, 1.5)),
                               background=R.random_background(g, S, S)).rgb
    a, b, c = frame(4), frame(4), frame(5)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 5


def test_body_regions_skin_and_clothing():
    labels = np.array([0] * 50 + [1] * 50)
    mat = R.body_material(np.random.default_rng(0), 100, labels)
    skin, cloth = mat.vertex_colors[:50].mean(0), mat.vertex_colors[50:].mean(0)
    assert skin[0] >= skin[1] >= skin[2]  # skin tones are red-dominant
    assert np.abs(skin - cloth).max() > 0.02


def test_bad_inputs(renderer):
    box = trimesh.creation.box()
    with pytest.raises(ValueError, match="unique"):
        renderer.render([RenderMesh(1, box.vertices, box.faces), RenderMesh(1, box.vertices, box.faces)], _K(), np.eye(4))
    with pytest.raises(ValueError, match="instance_id"):
        renderer.render([RenderMesh(0, box.vertices, box.faces)], _K(), np.eye(4))


def test_closing_one_renderer_leaves_the_others_working(renderer):
    # EGL displays are shared per device: a renderer's clean-up must not terminate the display
    # under the other renderers of the process (the engine caches one per image size).
    other = SceneRenderer(64, 64)
    other.close()
    res = renderer.render([_cube(5, 0.2, (0, 0, 2.0))], _K(), np.eye(4))
    assert (res.instance == 5).sum() > 100


def test_meshes_and_lights_are_drawn_in_the_order_they_were_added():
    """pyrender keeps nodes in sets (address order) and draws and sums lights in that order; the scene
    of our renderer iterates them in the order they were added, so the same scene gives the same bytes."""
    import pyrender

    from hoi_perception.render.renderer import _AddOrderScene

    scene = _AddOrderScene()
    box = trimesh.creation.box(extents=(0.1, 0.1, 0.1))
    meshes = [scene.add(pyrender.Mesh.from_trimesh(box), pose=np.eye(4)) for _ in range(24)]
    lights = [scene.add(pyrender.DirectionalLight(intensity=1.0 + i), pose=np.eye(4)) for i in range(6)]
    lights += [scene.add(pyrender.PointLight(intensity=1.0 + i), pose=np.eye(4)) for i in range(6)]
    assert list(scene.mesh_nodes) == meshes and list(scene.light_nodes) == lights
    scene.remove_node(meshes[3])
    assert list(scene.mesh_nodes) == meshes[:3] + meshes[4:]
