"""The `iostat` mgr module: cluster-wide client I/O rates (`ceph iostat`)."""

from .module import Module

__all__ = ["Module"]
