"""The annotation page in headless Chromium (Selenium) on a real reconstructed clip: WebGL draws the body
where it projects, clicks pick the object surface and the body's joints, pairs are saved, a refused save
keeps the file, and a re-solve rewrites the solution and shows its result."""
from __future__ import annotations

import base64
import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import trimesh

from hoi_perception.motion4d import annotations as ann
from hoi_perception.motion4d.scene import ClipScene

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--enable-unsafe-swiftshader", "--use-angle=swiftshader", "--window-size=1400,900",
                "--force-device-scale-factor=1")
# joints whose projection usually lies well inside the body's silhouette
TORSO = ("spine2", "spine3", "spine1", "pelvis", "neck", "left_hip", "right_hip", "left_shoulder", "right_shoulder")


# --- geometry, computed here from the scene the server also reads ---------------------------------
def _project(points: np.ndarray, k: np.ndarray) -> np.ndarray:
    uvw = np.asarray(points, float) @ np.asarray(k, float).T
    return uvw[:, :2] / uvw[:, 2:3]


def _silhouette(vertices, faces, k, image_size, canvas_size) -> np.ndarray:
    """uint8 mask of the mesh at canvas resolution (pixel centres at integers, like the page's projection)."""
    (w, h), (cw, ch) = image_size, canvas_size
    v = np.asarray(vertices, float)
    faces = np.asarray(faces)[(v[np.asarray(faces), 2] > 0.01).all(axis=1)]
    uv = (_project(v, k) + 0.5) * [cw / w, ch / h] - 0.5
    mask = np.zeros((ch, cw), np.uint8)
    for tri in np.round(uv[faces] * 16).astype(np.int32):  # one by one: fillPoly would XOR overlapping faces
        cv2.fillConvexPoly(mask, tri, 1, shift=4)
    return mask


def _mesh(vertices, faces) -> trimesh.Trimesh:
    return trimesh.Trimesh(np.asarray(vertices, float), np.asarray(faces), process=False)


def _ray_hit(mesh: trimesh.Trimesh, k, pixel, face: bool = False):
    """The first point of the mesh on the camera ray through image pixel (u, v), camera frame (and the
    index of the face it is on, with ``face``); None for a miss."""
    direction = np.linalg.solve(np.asarray(k, float), [pixel[0], pixel[1], 1.0])
    hits, _, faces = mesh.ray.intersects_location([[0.0, 0.0, 0.0]], [direction / np.linalg.norm(direction)])
    if len(hits) == 0:
        return None
    first = np.argmin(np.linalg.norm(hits, axis=1))
    return (hits[first], int(faces[first])) if face else hits[first]


def _nearest_joint(point, joints, names) -> str:
    return names[int(np.argmin(np.linalg.norm(np.asarray(joints, float) - point, axis=1)))]


def _to_pixel(css, image_size, canvas_size) -> np.ndarray:
    return np.asarray(css, float) / canvas_size * np.asarray(image_size, float) - 0.5


def _to_css(pixel, image_size, canvas_size) -> np.ndarray:
    return (np.asarray(pixel, float) + 0.5) / np.asarray(image_size, float) * canvas_size


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- browser ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        pytest.skip(f"needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}): "
                    "apt-get install chromium chromium-driver (scripts/setup.sh does)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="hoi-annotate-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_script_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Page:
    """The loaded page: waits, screenshots, clicks at image pixels."""

    def __init__(self, driver, scene: ClipScene):
        self.driver, self.scene = driver, scene
        self.canvas = driver.find_element("id", "canvas")

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def wait(self, condition: str, timeout: float = 60.0, what: str = ""):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = self.js(f"return {condition};")
            if value:
                return value
            time.sleep(0.1)
        status = self.js("return document.getElementById('status').textContent")
        raise AssertionError(f"timed out waiting for {what or condition}; page status: {status!r}; "
                             f"console: {self.driver.get_log('browser')[-5:]}")

    @property
    def canvas_size(self) -> np.ndarray:
        return np.asarray(self.js("const r = document.getElementById('canvas').getBoundingClientRect();"
                                  "return [r.width, r.height];"), float)

    def screenshot(self) -> np.ndarray:
        img = cv2.imdecode(np.frombuffer(self.canvas.screenshot_as_png, np.uint8), cv2.IMREAD_COLOR)
        cw, ch = np.round(self.canvas_size).astype(int)
        assert abs(img.shape[1] - cw) <= 1 and abs(img.shape[0] - ch) <= 1, (img.shape, cw, ch)
        return cv2.resize(img, (cw, ch), interpolation=cv2.INTER_NEAREST)

    def click_pixel(self, pixel, shift: bool = False) -> dict:
        """Click the canvas where image pixel (u, v) is shown; returns the page's record of the pick."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        size = self.canvas_size
        css = _to_css(pixel, self.scene.image_size, size)
        before = self.js("return window.hoi.picks")
        offset = np.round(css - size / 2).astype(int)  # Selenium offsets are from the element's centre
        chain = ActionChains(self.driver).move_to_element_with_offset(self.canvas, int(offset[0]), int(offset[1]))
        if shift:
            chain = chain.key_down(Keys.SHIFT).click().key_up(Keys.SHIFT)
        else:
            chain = chain.click()
        chain.perform()
        self.wait(f"window.hoi.picks > {before}", 10, "the pick")
        pick = self.js("return window.hoi.lastPick")
        assert np.abs(np.asarray(pick["css"]) - css).max() <= 1.5, (pick["css"], css.tolist())
        return pick

    def choose(self, element_id: str) -> None:
        self.driver.find_element("id", element_id).click()

    def type_into(self, element_id: str, text: str) -> None:
        el = self.driver.find_element("id", element_id)
        el.clear()
        el.send_keys(text)

    def status(self) -> str:
        return self.js("return document.getElementById('status').textContent")


@pytest.fixture(scope="module")
def page(browser, clip_copy, annotate_server):
    clip_dir = clip_copy("page")
    with annotate_server(clip_dir) as server:
        browser.get(server.url)
        scene = ClipScene.open(clip_dir)
        p = Page(browser, scene)
        p.wait("window.hoi && (window.hoi.ready || window.hoi.failed)", 120, "the page to load")
        assert p.js("return window.hoi.failed || null") is None, p.js("return window.hoi.failed")
        p.clip_dir, p.server = clip_dir, server
        yield p


def _full_frame(scene: ClipScene) -> int:
    """The first frame with the body solved and the object placed."""
    for t in range(scene.num_frames):
        m = scene.meshes(t)
        if m["body_vertices"] is not None and m["object_vertices"] is not None:
            return t
    pytest.fail("the test clip has no frame with both the body solved and the object placed")


def _show_frame(page, t: int) -> dict:
    page.js("return window.hoi.setFrame(arguments[0])", t)
    page.wait(f"window.hoi.frame === {t}")
    return page.scene.meshes(t)


# --- the tests (in order: they share one page) -------------------------------------------------------
def test_webgl_draws_the_body_over_the_frame_where_it_projects(page):
    scene = page.scene
    assert page.js("return window.hoi.frame") == 0
    t = _full_frame(scene)
    m = _show_frame(page, t)
    size = page.canvas_size
    cw, ch = np.round(size).astype(int)
    body = _silhouette(m["body_vertices"], scene.body_faces, scene.camera, scene.image_size, (cw, ch))
    drawn = body.copy()
    if m["object_vertices"] is not None:
        drawn |= _silhouette(m["object_vertices"], scene.object_faces, scene.camera, scene.image_size, (cw, ch))
    assert body.sum() > 400, "the body covers too little of the canvas for this test"
    frame = cv2.imdecode(np.frombuffer(scene.frame_jpeg(t), np.uint8), cv2.IMREAD_COLOR)
    frame = cv2.resize(frame, (cw, ch), interpolation=cv2.INTER_AREA).astype(float)
    shot = page.screenshot().astype(float)
    diff = np.abs(shot - frame).mean(axis=2)
    inside = cv2.erode(body, np.ones((7, 7), np.uint8)) > 0
    outside = cv2.dilate(drawn, np.ones((15, 15), np.uint8)) == 0
    # the frame is the background, pixel for pixel where nothing is drawn; the body tints where it projects
    assert diff[outside].mean() < 8.0, diff[outside].mean()
    assert diff[inside].mean() > 25.0, diff[inside].mean()
    assert diff[inside].mean() > 4 * diff[outside].mean()

    page.choose("side-view")  # the side view draws something else, without the frame
    page.wait("window.hoi.sideView")
    side = page.screenshot().astype(float)
    assert np.abs(side - shot).mean() > 10.0
    page.choose("side-view")
    page.wait("!window.hoi.sideView")
    assert np.abs(page.screenshot().astype(float) - shot).mean() < 1.0


def test_pick_object_and_body_add_pairs_and_save(page):
    scene = page.scene
    t = _full_frame(scene)
    m = _show_frame(page, t)
    k, w_h = scene.camera, scene.image_size
    size = page.canvas_size
    cw, ch = np.round(size).astype(int)

    # the object: the pixel deepest inside its silhouette
    obj_mask = _silhouette(m["object_vertices"], scene.object_faces, k, w_h, (cw, ch))
    assert obj_mask.sum() > 30, "the object covers too little of the canvas for this test"
    dist = cv2.distanceTransform(obj_mask, cv2.DIST_L2, 5)
    y, x = np.unravel_index(np.argmax(dist), dist.shape)
    page.choose("mode-object")
    pick = page.click_pixel(_to_pixel([x, y], w_h, size))
    assert pick["hit"] and pick["mode"] == "object", pick
    hit = _ray_hit(_mesh(m["object_vertices"], scene.object_faces), k, pick["pixel"])
    assert hit is not None
    pose = np.asarray(m["object_pose"], float)
    object_point = np.asarray(pick["objectPoint"])
    on_camera = pose[:3, :3] @ object_point + pose[:3, 3]
    assert np.linalg.norm(on_camera - hit) < 0.003, (on_camera, hit)

    # the body: a pixel well inside its silhouette (a torso joint's first) whose nearest joint is unambiguous
    body = _mesh(m["body_vertices"], scene.body_faces)
    body_mask = _silhouette(m["body_vertices"], scene.body_faces, k, w_h, (cw, ch))
    inner = cv2.distanceTransform(body_mask, cv2.DIST_L2, 5)
    names = list(scene.joint_names)
    candidates = [tuple(c) for c in _to_css(_project(m["joints"], k), w_h, size)[[names.index(n) for n in TORSO]]]
    ys, xs = np.nonzero(inner >= 5)
    candidates += list(zip(xs[:: max(1, len(xs) // 60)] + 0.5, ys[:: max(1, len(ys) // 60)] + 0.5))
    chosen = None
    for cx, cy in candidates:
        if not (0 <= cx < cw and 0 <= cy < ch) or inner[int(cy), int(cx)] < 5:
            continue
        around = set()
        for dx in (-1.5, 0, 1.5):
            for dy in (-1.5, 0, 1.5):
                p = _ray_hit(body, k, _to_pixel([cx + dx, cy + dy], w_h, size))
                around.add(None if p is None else _nearest_joint(p, m["joints"], names))
        if len(around) == 1 and None not in around:
            chosen = (cx, cy)
            break
    assert chosen is not None, "no pixel of the body has an unambiguous nearest joint"
    page.choose("mode-body")
    pick = page.click_pixel(_to_pixel(chosen, w_h, size))
    body_hit, body_face = _ray_hit(body, k, pick["pixel"], face=True)
    expected_joint = _nearest_joint(body_hit, m["joints"], names)
    assert pick["target"] == {"joint": expected_joint}, (pick, expected_joint)

    last = scene.num_frames - 1
    page.type_into("frame-from", "0")
    page.type_into("frame-to", str(last))
    page.choose("add-pair")
    page.wait("window.hoi.annotations.pairs.length === 1")

    # a second pair: the same object point seen at an image pixel, on this frame only
    page.choose("mode-image")
    image_pixel = _project(on_camera[None], k)[0]
    pick = page.click_pixel(image_pixel)
    assert np.abs(np.asarray(pick["target"]["image"]) - image_pixel).max() <= 1.5 * w_h[0] / cw + 0.01
    page.choose("from-current")
    page.choose("to-current")
    page.choose("add-pair")
    page.wait("window.hoi.annotations.pairs.length === 2")

    # a third, Shift-click on the body for a vertex, then deleted again
    page.choose("mode-body")
    pick = page.click_pixel(_to_pixel(chosen, w_h, size), shift=True)
    corners = scene.body_faces[body_face]
    nearest = corners[np.argmin(np.linalg.norm(m["body_vertices"][corners] - body_hit, axis=1))]
    assert pick["target"] == {"vertex": int(nearest)}, (pick, corners)
    page.choose("add-pair")
    page.wait("window.hoi.annotations.pairs.length === 3")
    page.driver.find_elements("css selector", "#pairs li")[2].find_element("css selector", ".delete-pair").click()
    page.wait("window.hoi.annotations.pairs.length === 2")

    page.choose("object-static")
    page.choose("save")
    page.wait("document.getElementById('status').textContent.startsWith('saved')", 30, "the save")
    saved = json.loads((page.clip_dir / ann.FILE_NAME).read_text())
    assert saved == ann.validate(saved, num_frames=scene.num_frames)
    assert saved["object_static"] is True and saved["object_scale"] is None
    first, second = saved["pairs"]
    assert first["frames"] == [0, last] and first["target"] == {"joint": expected_joint}
    assert second["frames"] == [t, t] and "image" in second["target"]
    for pair in saved["pairs"]:
        np.testing.assert_allclose(pair["object_point"], object_point, atol=1e-6)
    # the saved object point lies on the object's surface
    surface = trimesh.Trimesh(m["object_vertices"], scene.object_faces, process=False)
    _, gap, _ = trimesh.proximity.closest_point(surface, on_camera[None])
    assert gap[0] < 0.002, gap


def test_refused_save_keeps_the_file(page):
    path = page.clip_dir / ann.FILE_NAME
    before = path.read_bytes()
    page.type_into("object-scale", "-1")
    page.choose("save")
    page.wait("document.getElementById('status').textContent.startsWith('not saved')", 30, "the refusal")
    assert "positive" in page.status()
    assert path.read_bytes() == before
    page.type_into("object-scale", "")
    page.js("document.getElementById('object-scale').dispatchEvent(new Event('input'))")


def test_resolve_rewrites_the_solution_and_shows_the_result(page):
    solution = page.clip_dir / "solution.npz"
    before = solution.stat().st_mtime_ns, _sha(solution)
    loads = page.js("return window.hoi.loads")
    page.choose("resolve")
    page.wait("window.hoi.lastResolve || window.hoi.lastError && window.hoi.lastError.startsWith('re-solve')",
              900, "the re-solve")
    result = page.js("return window.hoi.lastResolve")
    assert result is not None, page.status()
    saved = json.loads((page.clip_dir / ann.FILE_NAME).read_text())
    assert [p["id"] for p in result["pairs"]] == [p["id"] for p in saved["pairs"]]
    text = page.js("return document.getElementById('resolve-result').textContent")
    assert text.startswith("re-solved in")
    for p in result["pairs"]:
        assert f"{p['id']}: residual" in text
    for warning in result["warnings"]:
        assert warning in text
    after = solution.stat().st_mtime_ns, _sha(solution)
    assert after[0] != before[0] and after[1] != before[1], "the re-solve did not rewrite solution.npz"
    # the page shows the new solution: it fetched the frame again, and the server serves the new meshes
    page.wait(f"window.hoi.loads > {loads}", 30, "the new meshes")
    fresh = ClipScene.open(page.clip_dir).meshes(page.js("return window.hoi.frame"))
    served = page.js("return fetch('/api/meshes/' + window.hoi.frame).then(r => r.json())")
    np.testing.assert_array_equal(np.frombuffer(base64.b64decode(served["body_vertices"]), "<f4").reshape(-1, 3),
                                  fresh["body_vertices"].astype(np.float32))
