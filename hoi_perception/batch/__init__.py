"""Batch runs beyond one machine: independent jobs as Ray tasks (`hoi-perception batch`).

Ray is imported only when a batch runs, so nothing else in the project needs it.
"""
from .executor import Item, run_batch

__all__ = ["Item", "run_batch"]
