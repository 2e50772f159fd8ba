"""The `prometheus` mgr module: the cluster's state and perf counters at `/metrics`."""

from .module import Module, StandbyModule

__all__ = ["Module", "StandbyModule"]
