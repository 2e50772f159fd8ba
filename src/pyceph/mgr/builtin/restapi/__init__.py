"""The `restapi` mgr module: ceph-rest-api's REST API v0.1 served by the active mgr."""

from .module import Module, StandbyModule

__all__ = ["Module", "StandbyModule"]
