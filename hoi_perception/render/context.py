"""Choose the OpenGL platform for headless rendering before pyrender is imported.

PyOpenGL binds its platform at first import, so a failed EGL context cannot be retried with OSMesa
in the same process. When ``PYOPENGL_PLATFORM`` is unset we therefore probe EGL, then OSMesa, each
in a short subprocess, and export the first that creates a context (child processes inherit it
and skip the probe). An explicitly set ``PYOPENGL_PLATFORM`` is used as is.

Debian packages: ``libegl1 libgl1 libegl-mesa0`` (EGL, Mesa llvmpipe on CPU) and ``libosmesa6``
(the fallback).
"""
from __future__ import annotations

import os
import subprocess
import sys

PLATFORMS = ("egl", "osmesa")
_PROBE = (
    "import sys\n"
    "if sys.argv[1] == 'egl':\n"
    "    from pyrender.platforms.egl import EGLPlatform as P\n"
    "else:\n"
    "    from pyrender.platforms.osmesa import OSMesaPlatform as P\n"
    "p = P(8, 8)\n"
    "p.init_context()\n"
    "p.make_current()\n"
    "from OpenGL.GL import glGetString, GL_RENDERER\n"
    "print(glGetString(GL_RENDERER).decode())\n"
    "p.delete_context()\n"
)
HELP = ("install the Debian packages 'libegl1 libgl1 libegl-mesa0' (EGL) or 'libosmesa6' (OSMesa), "
        "or set PYOPENGL_PLATFORM to a working platform")


class RenderBackendError(RuntimeError):
    pass


def probe(platform: str, timeout: float = 60.0) -> tuple[bool, str]:
    """(works, renderer string or error text) for one platform, tested in a subprocess."""
    env = dict(os.environ, PYOPENGL_PLATFORM=platform)
    try:
        res = subprocess.run([sys.executable, "-c", _PROBE, platform], env=env, capture_output=True,
                             text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"{platform}: context creation timed out"
    if res.returncode == 0:
        return True, res.stdout.strip()
    tail = (res.stderr.strip().splitlines() or ["no output"])[-1]
    return False, f"{platform}: {tail}"


def select_platform() -> str:
    """The platform pyrender will use; probes and exports PYOPENGL_PLATFORM when unset."""
    chosen = os.environ.get("PYOPENGL_PLATFORM")
    if chosen:
        return chosen
    if "OpenGL" in sys.modules:
        raise RenderBackendError(
            "OpenGL was imported before the render platform was chosen; set PYOPENGL_PLATFORM=egl "
            "(or osmesa) in the environment, or import hoi_perception.render first")
    errors = []
    for platform in PLATFORMS:
        ok, info = probe(platform)
        if ok:
            os.environ["PYOPENGL_PLATFORM"] = platform
            return platform
        errors.append(info)
    raise RenderBackendError("no headless OpenGL platform works (" + "; ".join(errors) + "); " + HELP)
