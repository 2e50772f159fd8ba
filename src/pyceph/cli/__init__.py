"""Command lines: ceph, rados, crushtool's driver, and pyceph up/down/status."""
