"""Offscreen renderer: RGB, metric depth, instance mask, amodal masks and occlusion ratios.

Conventions
- Intrinsics K follow OpenCV: pixel (u, v) has its centre at integer coordinates, u right, v down.
  pyrender's IntrinsicsCamera puts pixel centres at +0.5, so cx, cy are passed shifted by 0.5.
- Extrinsics ``T_cw`` map world points into the OpenCV optical frame (z forward, x right, y down).
  OpenGL cameras look down -z with y up, so the camera node pose is
  ``inv(T_cw) @ diag(1, -1, -1, 1)`` (flip y and z of the optical frame).
- Depth is the z coordinate in the optical frame (metres), 0 where nothing was drawn.

Speed: one OpenGL context and one pyrender scene live as long as the renderer. Each instance id
keeps its scene node; when only the vertices change (a posed body) the vertex buffer is rewritten
in place with glBufferSubData instead of rebuilding the mesh; a new topology rebuilds that node
only. Shader programs are cached by pyrender per feature set, so they compile once.
Masks and depth come from the flat segmentation pass (no lighting, no multisampling), so the
instance mask and the depth agree pixel for pixel.
"""
from __future__ import annotations

import itertools
import os
import weakref
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .context import RenderBackendError, select_platform

select_platform()  # must run before pyrender (and PyOpenGL) are imported

import pyrender  # noqa: E402
from OpenGL import GL  # noqa: E402
from pyrender.constants import RenderFlags  # noqa: E402

GL_FROM_CV = np.diag([1.0, -1.0, -1.0, 1.0])
MAX_INSTANCE_ID = 65535  # ids are packed into the red and green channels of the seg pass


@dataclass
class Material:
    """Metallic-roughness material. ``vertex_colors`` (V,3|4) multiply ``base_color``; a texture
    needs per-vertex ``uv`` (V,2)."""
    base_color: tuple = (0.7, 0.7, 0.7, 1.0)
    metallic: float = 0.0
    roughness: float = 0.6
    vertex_colors: np.ndarray | None = None
    texture: np.ndarray | None = None  # (H,W,3) uint8
    uv: np.ndarray | None = None


@dataclass
class RenderMesh:
    instance_id: int  # > 0; 0 is the background in the instance mask
    vertices: np.ndarray  # (V,3) float32, metres, in the frame given by ``pose``
    faces: np.ndarray  # (F,3) int
    material: Material = field(default_factory=Material)
    pose: np.ndarray | None = None  # 4x4 world-from-mesh; None = identity (vertices in world frame)


@dataclass
class Light:
    kind: str  # "directional" | "point"
    color: tuple = (1.0, 1.0, 1.0)
    intensity: float = 3.0  # directional: lux-like; point: candela-like (pyrender units)
    direction: tuple = (0.0, 0.0, 1.0)  # directional: direction the light travels, world frame
    position: tuple = (0.0, 0.0, 0.0)  # point: world position


@dataclass
class Lighting:
    lights: list = field(default_factory=list)
    ambient: tuple = (0.3, 0.3, 0.3)


def default_lighting(T_cw: np.ndarray) -> Lighting:
    """A headlight along the camera's optical axis plus ambient light."""
    R_wc = np.linalg.inv(T_cw)[:3, :3]
    return Lighting([Light("directional", (1.0, 1.0, 1.0), 3.0, tuple(R_wc[:, 2]))], (0.3, 0.3, 0.3))


@dataclass
class RenderResult:
    rgb: np.ndarray  # (H,W,3) uint8
    depth: np.ndarray  # (H,W) float32 metres, 0 = empty
    instance: np.ndarray  # (H,W) int32, 0 = background, else instance id
    amodal: dict  # id -> (H,W) bool, full silhouette of that instance alone
    visible_pixels: dict  # id -> int (every instance)
    amodal_pixels: dict  # id -> int (instances in amodal_ids)
    occlusion: dict  # id -> 1 - visible/amodal (nan when the instance is outside the image)


def camera_pose_gl(T_cw: np.ndarray) -> np.ndarray:
    """pyrender camera-node pose (world-from-GL-camera) for a world->OpenCV-camera transform."""
    return np.linalg.inv(np.asarray(T_cw, dtype=np.float64)) @ GL_FROM_CV


def _light_pose(direction) -> np.ndarray:
    """Pose whose -z axis points along ``direction`` (pyrender directional lights shine along -z)."""
    z = -np.asarray(direction, dtype=np.float64)
    z /= np.linalg.norm(z)
    ref = np.array([0.0, 0.0, 1.0]) if abs(z[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = np.cross(ref, z)
    x /= np.linalg.norm(x)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    return pose


class _Slot:
    """Scene node of one instance plus what is needed to rewrite its vertex buffer in place."""

    def __init__(self):
        self.node = None
        self.prim = None
        self.faces = None
        self.incidence = None  # (V,F) sparse, sums face normals onto vertices
        self.layout = None
        self.vertices = None
        self.colors = None


def _keep_shared_egl_display(offscreen) -> None:
    """pyrender's EGL platform ends its clean-up with eglTerminate, but an EGL display is shared by
    every context on the device: closing one renderer would break every other live renderer of the
    process (EGL_BAD_DISPLAY). Make this renderer release only its own context."""
    plat = getattr(offscreen, "_platform", None)
    if plat is None or not hasattr(plat, "_egl_context"):
        return  # OSMesa contexts are independent

    def delete_context() -> None:
        from OpenGL.EGL import EGL_NO_CONTEXT, EGL_NO_SURFACE, eglDestroyContext, eglMakeCurrent

        if plat._egl_display is not None and plat._egl_context is not None:
            eglMakeCurrent(plat._egl_display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT)
            eglDestroyContext(plat._egl_display, plat._egl_context)
        plat._egl_context = plat._egl_display = None

    plat.delete_context = delete_context


class _AddOrderScene(pyrender.Scene):
    """A pyrender scene whose mesh and light nodes iterate in the order they were added.

    pyrender keeps them in sets, which iterate in an order that follows memory addresses, and draws
    by that order: meshes at equal distance from the camera (ours all sit at the identity node pose),
    and lights summed in the shader in that order. So the same seed gave images one grey level apart
    at a pixel or two from run to run; with a fixed order the bytes repeat."""

    def __init__(self, *args, **kwargs) -> None:
        self._rank = weakref.WeakKeyDictionary()  # node -> when it was added (a removed node is forgotten)
        self._added = itertools.count()
        super().__init__(*args, **kwargs)

    def add_node(self, node, parent_node=None):
        self._rank[node] = next(self._added)
        return super().add_node(node, parent_node=parent_node)

    def _in_add_order(self, nodes) -> list:
        return sorted(nodes, key=lambda n: self._rank.get(n, -1))

    @property
    def mesh_nodes(self):
        return self._in_add_order(super().mesh_nodes)

    @property
    def light_nodes(self):
        return self._in_add_order(super().light_nodes)


class SceneRenderer:
    """Keeps one offscreen context; ``render`` draws a list of RenderMesh with K and T_cw."""

    def __init__(self, width: int = 256, height: int = 256, znear: float = 0.01, zfar: float = 20.0,
                 cull_back_faces: bool = True):
        # Back-face culling halves the lit pass on llvmpipe; it needs closed, outward-wound meshes
        # (the object library fixes winding). Pass False for open user meshes.
        self.width, self.height = int(width), int(height)
        self._rgb_flags = RenderFlags.RGBA | (0 if cull_back_faces else RenderFlags.SKIP_CULL_FACES)
        try:
            self._r = pyrender.OffscreenRenderer(self.width, self.height)
        except Exception as exc:  # noqa: BLE001 - any GL/EGL failure
            raise RenderBackendError(f"cannot create an offscreen OpenGL context: {exc}") from exc
        _keep_shared_egl_display(self._r)
        self._scene = _AddOrderScene(bg_color=(0.0, 0.0, 0.0, 0.0), ambient_light=(0.3, 0.3, 0.3))
        self._camera = pyrender.IntrinsicsCamera(1.0, 1.0, 0.0, 0.0, znear=znear, zfar=zfar)
        self._cam_node = self._scene.add(self._camera, pose=np.eye(4))
        self._slots: dict[int, _Slot] = {}
        self._light_nodes: list = []
        self.platform = os.environ.get("PYOPENGL_PLATFORM", "")

    # -- scene synchronisation ----------------------------------------------------------------
    @staticmethod
    def _colors(mat: Material, n: int):
        if mat.vertex_colors is None:
            return None
        c = np.asarray(mat.vertex_colors)
        if len(c) != n:
            raise ValueError(f"vertex_colors has {len(c)} rows for {n} vertices")
        c = c.astype(np.float32) / 255.0 if np.issubdtype(c.dtype, np.integer) else c.astype(np.float32)
        if c.shape[1] == 3:
            c = np.concatenate([c, np.ones((n, 1), np.float32)], axis=1)
        return c

    @staticmethod
    def _pyr_material(mat: Material):
        tex = None
        if mat.texture is not None:
            tex = pyrender.Texture(source=np.asarray(mat.texture, dtype=np.uint8), source_channels="RGB")
        return pyrender.MetallicRoughnessMaterial(
            baseColorFactor=np.asarray(mat.base_color, dtype=np.float32), metallicFactor=float(mat.metallic),
            roughnessFactor=float(mat.roughness), baseColorTexture=tex)

    def _normals(self, slot: _Slot, v: np.ndarray) -> np.ndarray:
        tri = v[slot.faces]
        fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # area-weighted
        vn = np.asarray(slot.incidence @ fn, dtype=np.float32)
        norm = np.linalg.norm(vn, axis=1, keepdims=True)
        return vn / np.maximum(norm, 1e-12)

    def _sync_mesh(self, m: RenderMesh) -> None:
        iid = int(m.instance_id)
        if not 0 < iid <= MAX_INSTANCE_ID:
            raise ValueError(f"instance_id must be in 1..{MAX_INSTANCE_ID}, got {iid}")
        v = np.ascontiguousarray(m.vertices, dtype=np.float32)
        f = np.asarray(m.faces)
        if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3:
            raise ValueError(f"instance {iid}: vertices must be (V,3) and faces (F,3)")
        mat = m.material or Material()
        colors = self._colors(mat, len(v))
        uv = None if mat.texture is None else np.asarray(mat.uv, dtype=np.float32)
        if mat.texture is not None and (uv is None or len(uv) != len(v)):
            raise ValueError(f"instance {iid}: a texture needs uv of shape ({len(v)}, 2)")
        layout = (len(v), colors is not None, uv is not None)
        slot = self._slots.get(iid)
        same_topology = (slot is not None and slot.layout == layout and
                         (slot.faces is f or np.array_equal(slot.faces, f)))
        if not same_topology:
            if slot is not None:
                self._scene.remove_node(slot.node)
            slot = _Slot()
            slot.faces = np.array(f, dtype=np.int64)
            nf = len(f)
            rows = slot.faces.reshape(-1)
            cols = np.repeat(np.arange(nf), 3)
            slot.incidence = sp.csr_matrix((np.ones(3 * nf, np.float32), (rows, cols)), shape=(len(v), nf))
            slot.layout = layout
            slot.prim = pyrender.Primitive(positions=v, normals=self._normals(slot, v), indices=slot.faces,
                                           color_0=colors, texcoord_0=uv, material=self._pyr_material(mat),
                                           mode=GL.GL_TRIANGLES)
            slot.node = self._scene.add(pyrender.Mesh([slot.prim]), pose=np.eye(4) if m.pose is None else m.pose)
            slot.vertices, slot.colors = v.copy(), colors
            self._slots[iid] = slot
            return
        self._scene.set_pose(slot.node, np.eye(4) if m.pose is None else np.asarray(m.pose, dtype=np.float64))
        slot.prim.material = self._pyr_material(mat)
        changed = not np.array_equal(slot.vertices, v) or not (
            (colors is None and slot.colors is None) or
            (colors is not None and slot.colors is not None and np.array_equal(colors, slot.colors)))
        if uv is not None and not np.array_equal(slot.prim.texcoord_0, uv):
            changed = True
        if not changed:
            return
        normals = self._normals(slot, v)
        slot.prim.positions, slot.prim.normals = v, normals
        slot.prim.color_0, slot.prim.texcoord_0 = colors, uv
        slot.vertices, slot.colors = v.copy(), colors
        if slot.prim._in_context():
            # Same interleaved layout as pyrender's upload: position, normal, [uv], [rgba].
            cols = [v, normals] + ([uv] if uv is not None else []) + ([colors] if colors is not None else [])
            data = np.ascontiguousarray(np.hstack(cols), dtype=np.float32)
            self._r._platform.make_current()
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, slot.prim._buffers[0])
            GL.glBufferSubData(GL.GL_ARRAY_BUFFER, 0, data.nbytes, data)
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)

    def _sync(self, meshes, K, T_cw, lighting: Lighting | None) -> None:
        ids = [int(m.instance_id) for m in meshes]
        if len(set(ids)) != len(ids):
            raise ValueError(f"instance ids must be unique, got {ids}")
        for iid in list(self._slots):
            if iid not in ids:
                self._scene.remove_node(self._slots.pop(iid).node)
        for m in meshes:
            self._sync_mesh(m)
        K = np.asarray(K, dtype=np.float64)
        self._camera.fx, self._camera.fy = float(K[0, 0]), float(K[1, 1])
        self._camera.cx, self._camera.cy = float(K[0, 2]) + 0.5, float(K[1, 2]) + 0.5
        self._scene.set_pose(self._cam_node, camera_pose_gl(T_cw))
        lighting = lighting or default_lighting(np.asarray(T_cw))
        for n in self._light_nodes:
            self._scene.remove_node(n)
        self._light_nodes = []
        for light in lighting.lights:
            if light.kind == "directional":
                node = self._scene.add(pyrender.DirectionalLight(color=light.color, intensity=light.intensity),
                                       pose=_light_pose(light.direction))
            elif light.kind == "point":
                pose = np.eye(4)
                pose[:3, 3] = light.position
                node = self._scene.add(pyrender.PointLight(color=light.color, intensity=light.intensity), pose=pose)
            else:
                raise ValueError(f"unknown light kind {light.kind!r}")
            self._light_nodes.append(node)
        self._scene.ambient_light = np.asarray(lighting.ambient, dtype=np.float32)

    # -- passes -------------------------------------------------------------------------------
    def _seg(self, ids) -> tuple[np.ndarray, np.ndarray]:
        seg_map = {self._slots[i].node: (i & 255, (i >> 8) & 255, 0) for i in ids}
        color, depth = self._r.render(self._scene, RenderFlags.SEG | RenderFlags.SKIP_CULL_FACES, seg_map)
        inst = color[..., 0].astype(np.int32) | (color[..., 1].astype(np.int32) << 8)
        return inst, depth

    def render(self, meshes, K, T_cw, *, lighting: Lighting | None = None, background: np.ndarray | None = None,
               amodal_ids=None, rgb: bool = True) -> RenderResult:
        """Render ``meshes`` (list of RenderMesh). ``background`` (H,W,3) uint8 fills empty pixels
        (black if None). ``amodal_ids``: instances to get an amodal mask and occlusion ratio for
        (default: all; each costs one flat pass). ``rgb=False`` skips the lit pass."""
        self._sync(meshes, K, T_cw, lighting)
        ids = [int(m.instance_id) for m in meshes]
        H, W = self.height, self.width
        instance, depth = self._seg(ids)
        if rgb:
            rgba, _ = self._r.render(self._scene, self._rgb_flags)
            if rgba.shape[-1] == 4:
                # Multisample resolve against a transparent black clear gives premultiplied colour.
                alpha = rgba[..., 3:4].astype(np.float32) / 255.0
            else:  # pyrender's OSMesa path returns RGB only: use the (hard) coverage of the masks
                alpha = (instance > 0)[..., None].astype(np.float32)
            if background is None:
                image = np.ascontiguousarray(rgba[..., :3])
            else:
                bg = np.asarray(background)
                if bg.shape != (H, W, 3):
                    raise ValueError(f"background must be ({H}, {W}, 3), got {bg.shape}")
                fg = rgba[..., :3].astype(np.float32) * (alpha if rgba.shape[-1] == 3 else 1.0)
                image = np.clip(fg + bg.astype(np.float32) * (1.0 - alpha) + 0.5, 0, 255).astype(np.uint8)
        else:
            image = np.zeros((H, W, 3), np.uint8)
        counts = np.bincount(instance.reshape(-1), minlength=max(ids, default=0) + 1)
        vis = {i: int(counts[i]) for i in ids}
        amodal, amo, occ = {}, {}, {}
        for i in (ids if amodal_ids is None else [int(a) for a in amodal_ids]):
            if i not in self._slots:
                raise ValueError(f"amodal id {i} is not an instance of this scene {ids}")
            mask = self._seg([i])[0] == i
            amodal[i] = mask
            amo[i] = int(np.count_nonzero(mask))
            occ[i] = float(1.0 - vis[i] / amo[i]) if amo[i] > 0 else float("nan")
        return RenderResult(image, depth.astype(np.float32, copy=False), instance, amodal, vis, amo, occ)

    def close(self) -> None:
        if self._r is not None:
            self._r.delete()
            self._r = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
