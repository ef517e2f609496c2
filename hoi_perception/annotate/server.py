"""The annotation page's web server: standard library only, bound to 127.0.0.1.

JSON API (errors are ``{"error": message}`` with a 4xx/5xx status):

    GET  /api/clip             meta: frames, fps, image size, K, joint names, object id, faces (base64 int32)
    GET  /api/frame/<t>.jpg    the video frame t
    GET  /api/meshes/<t>       posed vertices of frame t (base64 little-endian float32) and the object pose;
                               null for a body not solved / an object not placed in that frame
    GET  /api/annotations      the saved annotations
    POST /api/annotations      validate and save; 400 with the reason (the file is left as it was)
    POST /api/resolve          re-solve with the saved annotations; 409 while another one runs

and the page itself (`web/`), with three.js from `web/node_modules/three/build` under /vendor/three/.
"""
from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
import traceback
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from hoi_perception.motion4d.annotations import AnnotationError
from hoi_perception.motion4d.scene import ClipScene

WEB_DIR = Path(__file__).resolve().parent / "web"
THREE_DIR = WEB_DIR / "node_modules" / "three" / "build"
# the page's own files: URL path -> (file in WEB_DIR, content type)
PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
}
MAX_BODY_BYTES = 8 << 20  # an annotation file is a few kB; refuse anything absurd before reading it
MESH_CACHE_FRAMES = 64  # ~0.25 MB each: enough for scrubbing back and forth, bounded for long clips


class Busy(RuntimeError):
    """A re-solve is already running."""


def three_missing() -> str | None:
    """Why the page cannot load three.js, or None when it can."""
    if (THREE_DIR / "three.module.js").is_file():
        return None
    return (f"three.js is not installed in {WEB_DIR / 'node_modules'}: run `npm ci --no-audit --no-fund` "
            f"in {WEB_DIR} (scripts/setup.sh does this)")


def _b64(array, dtype: str) -> str:
    """Little-endian raw bytes as base64: ~4x smaller and far faster to parse than JSON number lists."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()).decode()


class ClipState:
    """One clip folder as the server sees it; safe to use from the server's request threads."""

    def __init__(self, clip_dir):
        self.clip_dir = Path(clip_dir)
        self.scene = ClipScene.open(self.clip_dir)  # SceneError for a folder that is not a clip
        # ClipScene promises no thread safety: one request at a time touches the scene.
        self._scene_lock = threading.RLock()
        self.resolve_lock = threading.Lock()  # held while a re-solve runs (a second one gets 409)
        self._generation = 0  # bumped when the solution changes, so cached meshes of the old one are dropped
        self._mesh_cache: OrderedDict[tuple[int, int], bytes] = OrderedDict()  # least recently used first

    def check_frame(self, t: int) -> None:
        if not 0 <= t < self.scene.num_frames:
            raise IndexError(f"frame {t} is outside the clip's frames 0..{self.scene.num_frames - 1}")

    def meta(self) -> dict:
        with self._scene_lock:
            s = self.scene
            return {
                "clip_dir": str(self.clip_dir), "num_frames": int(s.num_frames), "fps": float(s.fps),
                "image_size": [int(s.image_size[0]), int(s.image_size[1])],
                "camera": np.asarray(s.camera, float).tolist(), "joint_names": list(s.joint_names),
                "object_id": s.object_id, "body_faces": _b64(s.body_faces, "i4"),
                "object_faces": None if s.object_faces is None else _b64(s.object_faces, "i4"),
                "generation": self._generation,
            }

    def frame_jpeg(self, t: int) -> bytes:
        self.check_frame(t)
        with self._scene_lock:
            return self.scene.frame_jpeg(t)

    def meshes_json(self, t: int) -> bytes:
        self.check_frame(t)
        with self._scene_lock:
            key = (self._generation, t)
            if key in self._mesh_cache:  # posing the body is the slow part; frames are revisited often
                self._mesh_cache.move_to_end(key)
            else:
                m = self.scene.meshes(t)
                # None where the frame has no solved body / no placed object: the page hides that mesh
                self._mesh_cache[key] = json.dumps({
                    "t": t, "generation": self._generation,
                    **{name: None if m.get(name) is None else _b64(m[name], "f4")
                       for name in ("body_vertices", "joints", "object_vertices")},
                    "object_pose": None if m.get("object_pose") is None else np.asarray(m["object_pose"], float).tolist(),
                }).encode()
                while len(self._mesh_cache) > MESH_CACHE_FRAMES:
                    self._mesh_cache.popitem(last=False)
            return self._mesh_cache[key]

    def annotations(self) -> dict:
        with self._scene_lock:
            return self.scene.annotations()

    def save_annotations(self, data) -> dict:
        with self._scene_lock:
            return self.scene.save_annotations(data)  # validates first; the write is atomic

    def resolve(self) -> dict:
        if not self.resolve_lock.acquire(blocking=False):
            raise Busy("a re-solve is already running; wait for it to finish")
        try:
            # A fresh scene does the solve, so the page can keep browsing the current one meanwhile.
            result = ClipScene.open(self.clip_dir).resolve()
            fresh = ClipScene.open(self.clip_dir)  # reads the rewritten solution
            with self._scene_lock:
                self.scene = fresh
                self._generation += 1
                self._mesh_cache.clear()
            return {**result, "generation": self._generation}
        finally:
            self.resolve_lock.release()


class _Handler(BaseHTTPRequestHandler):
    server: AnnotateServer
    protocol_version = "HTTP/1.1"

    # --- plumbing ------------------------------------------------------------------------
    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write(f"annotate: {self.address_string()} {fmt % args}\n")

    def _send(self, status: int, body: bytes, content_type: str, cache: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    def _read_body(self) -> bytes:
        """The whole body, always read: a keep-alive connection must not see its rest as the next request."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise ValueError(f"request body of {length} bytes is too large")
        return self.rfile.read(length) if length > 0 else b""

    @staticmethod
    def _parse_json(raw: bytes):
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"the request body is not JSON ({exc})") from None

    def _frame_index(self, text: str) -> int:
        t = int(text)
        self.server.state.check_frame(t)
        return t

    # --- routes --------------------------------------------------------------------------
    def do_GET(self):
        path = self.path.split("?", 1)[0]
        state = self.server.state
        try:
            if path in PAGE_FILES:
                name, ctype = PAGE_FILES[path]
                return self._send(200, (WEB_DIR / name).read_bytes(), ctype)
            if path.startswith("/vendor/three/"):
                return self._vendor(path.removeprefix("/vendor/three/"))
            if path == "/api/clip":
                return self._json(200, state.meta())
            if path == "/api/annotations":
                return self._json(200, state.annotations())
            if m := re.fullmatch(r"/api/frame/(-?\d+)\.jpg", path):
                return self._send(200, state.frame_jpeg(self._frame_index(m[1])), "image/jpeg")
            if m := re.fullmatch(r"/api/meshes/(-?\d+)", path):
                return self._send(200, state.meshes_json(self._frame_index(m[1])), "application/json")
            if path.startswith(("/api/frame/", "/api/meshes/")):
                return self._error(404, f"bad frame in {path!r}: use /api/frame/<t>.jpg or /api/meshes/<t> "
                                        f"with t in 0..{state.scene.num_frames - 1}")
            return self._error(404, f"no such page or API: {path}")
        except IndexError as exc:
            return self._error(404, str(exc))
        except Exception as exc:  # noqa: BLE001 - the page shows the message; the server keeps running
            traceback.print_exc()
            return self._error(500, f"{type(exc).__name__}: {exc}")

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        state = self.server.state
        try:
            try:
                raw = self._read_body()
            except ValueError as exc:
                return self._error(413, str(exc))
            if path == "/api/annotations":
                try:
                    return self._json(200, state.save_annotations(self._parse_json(raw)))
                except ValueError as exc:  # bad JSON or AnnotationError (a ValueError): nothing was written
                    return self._error(400, str(exc))
            if path == "/api/resolve":
                started = time.monotonic()
                try:
                    result = state.resolve()
                except Busy as exc:
                    return self._error(409, str(exc))
                except AnnotationError as exc:  # e.g. the saved file was edited into something invalid
                    return self._error(400, str(exc))
                result.setdefault("seconds", time.monotonic() - started)
                return self._json(200, result)
            return self._error(404, f"no such API: POST {path}")
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            return self._error(500, f"{type(exc).__name__}: {exc}")

    def _vendor(self, name: str):
        if not re.fullmatch(r"[A-Za-z0-9_.-]+\.js", name) or ".." in name:  # no paths out of the build folder
            return self._error(404, f"no such vendor file: {name}")
        if why := three_missing():
            return self._error(503, why)
        file = THREE_DIR / name
        if not file.is_file():
            return self._error(404, f"no such vendor file: {name}")
        return self._send(200, file.read_bytes(), "text/javascript; charset=utf-8", cache=True)


class AnnotateServer(ThreadingHTTPServer):
    """``AnnotateServer(clip_dir, port=0)``; `serve_forever()` runs it, `url` says where."""

    daemon_threads = True  # a browser's keep-alive connections must not hold up Ctrl-C

    def __init__(self, clip_dir, port: int = 0, host: str = "127.0.0.1", verbose: bool = False):
        self.state = ClipState(clip_dir)  # before binding: a bad folder fails without opening a port
        self.verbose = verbose
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"
