"""Shared plumbing of the hoi_perception nodes: parameters, entry points, message building."""
from __future__ import annotations

import os
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

    Ctrl-C (SIGINT) and SIGTERM only set a flag that the spin loop checks: an interrupt raised
    at an arbitrary point inside rclpy could leave the executor half-way and hang the shutdown.
    rclpy's own handler is disabled so that `on_shutdown` (e.g. flushing a clip and publishing
    it) still runs with a valid context.
    """
    rclpy.init(args=sys.argv, signal_handler_options=SignalHandlerOptions.NO)
    stop = {"requested": False}

    def _request_stop(signum, _frame):
        if stop["requested"]:  # a second Ctrl-C while starting up or shutting down: stop now
            raise KeyboardInterrupt
        stop["requested"] = True

    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)
    node = None
    try:
        node = factory()
    except (ModelNotAvailable, StartupError) as exc:
        print(f"[{name}] refusing to start: {exc}", file=sys.stderr, flush=True)
        rclpy.try_shutdown()
        return 1
    try:
        # spin_once with a timeout returns to Python regularly, so the flag is seen even by a
        # node with no timers (an infinite rcl_wait would defer it forever).
        while rclpy.ok() and not stop["requested"]:
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
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is flushed and the ROS context is down; native inference thread pools (ONNX
    # Runtime, torch) must not keep the process alive after that.
    os._exit(0)


__all__ = ["Parameter", "StartupError", "build", "declare_from_config", "run_node"]
