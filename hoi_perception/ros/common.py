"""Shared plumbing of the hoi_perception nodes: parameters, entry points, message building."""
from __future__ import annotations

import signal
import sys
from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.signals import SignalHandlerOptions

from hoi_perception.pipeline import msg_convert as mc
from hoi_perception.pipeline.config import load_node_params
from hoi_perception.pipeline.stages import ModelNotAvailable


class StartupError(RuntimeError):
    """The node cannot start (no model, invalid parameter); the message says why."""


def declare_from_config(node: Node, node_name: str) -> dict:
    """Declare every parameter of config/pipeline.yaml for this node with its default there."""
    values = {}
    for name, default in load_node_params(node_name).items():
        values[name] = node.declare_parameter(name, default).value
    return values


def build(msg_cls, d: dict):
    return mc.to_rclpy(d, msg_cls)


def run_node(factory: Callable[[], Node], name: str, on_shutdown: Callable[[Node], None] | None = None) -> int:
    """Create and spin a node; exit 1 with a clear message when it refuses to start.

    rclpy's own SIGINT handler is disabled so that `on_shutdown` (e.g. flushing a clip and
    publishing it) still runs with a valid context; SIGTERM is treated like Ctrl-C.
    """
    rclpy.init(args=sys.argv, signal_handler_options=SignalHandlerOptions.NO)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    node = None
    try:
        node = factory()
    except (ModelNotAvailable, StartupError) as exc:
        print(f"[{name}] refusing to start: {exc}", file=sys.stderr, flush=True)
        rclpy.try_shutdown()
        return 1
    try:
        # spin_once with a timeout returns to Python regularly, so Ctrl-C is seen even by a
        # node with no timers (an infinite rcl_wait would defer the signal forever).
        while rclpy.ok():
            rclpy.spin_once(node, timeout_sec=0.2)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if on_shutdown is not None:
            try:
                on_shutdown(node)
            except Exception as exc:  # noqa: BLE001 - shutdown must finish
                print(f"[{name}] error during shutdown: {exc}", file=sys.stderr, flush=True)
        if hasattr(node, "stop"):
            node.stop()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


__all__ = ["Parameter", "StartupError", "build", "declare_from_config", "run_node"]
