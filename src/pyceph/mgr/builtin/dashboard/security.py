"""Security scopes and permissions of the dashboard (upstream's `security.py`).

Plain names, apart from the web framework (`framework.py` re-exports them): the access
database (`access.py`), and through it `pyceph up`, use them without importing
aiohttp or pydantic.
"""

from __future__ import annotations

__all__ = ["Permission", "Scope"]


class Scope:
    """Security scopes (upstream's `security.Scope`)."""

    HOSTS = "hosts"
    CONFIG_OPT = "config-opt"
    POOL = "pool"
    OSD = "osd"
    MONITOR = "monitor"
    RBD_IMAGE = "rbd-image"
    ISCSI = "iscsi"
    RBD_MIRRORING = "rbd-mirroring"
    RGW = "rgw"
    CEPHFS = "cephfs"
    MANAGER = "manager"
    LOG = "log"
    GRAFANA = "grafana"
    PROMETHEUS = "prometheus"
    USER = "user"
    DASHBOARD_SETTINGS = "dashboard-settings"
    NFS_GANESHA = "nfs-ganesha"

    @classmethod
    def all_scopes(cls) -> list[str]:
        return [v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str)]


class Permission:
    """Permissions within a scope (upstream's `security.Permission`)."""

    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"

    @classmethod
    def all_permissions(cls) -> list[str]:
        return [cls.READ, cls.CREATE, cls.UPDATE, cls.DELETE]
