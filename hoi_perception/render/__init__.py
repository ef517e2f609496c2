"""Offscreen rendering (pyrender on EGL, OSMesa fallback) and domain randomisation.

Importing this package chooses the OpenGL platform (see `context.py`) before pyrender loads.
"""
from .renderer import (Light, Lighting, Material, RenderMesh, RenderResult, SceneRenderer, camera_pose_gl,
                       default_lighting)
from .context import RenderBackendError

__all__ = ["Light", "Lighting", "Material", "RenderBackendError", "RenderMesh", "RenderResult", "SceneRenderer",
           "camera_pose_gl", "default_lighting"]
