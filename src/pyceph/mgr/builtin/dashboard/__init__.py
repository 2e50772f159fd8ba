"""The `dashboard` mgr module: a versioned, authenticated REST API with OpenAPI, and
the web UI (upstream's src/pybind/mgr/dashboard)."""

from .module import Module, StandbyModule

__all__ = ["Module", "StandbyModule"]
