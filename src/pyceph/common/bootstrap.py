"""What every new pyceph cluster starts with: the daemons' and the admin's capabilities
and the settings its ceph.conf carries — one definition for `pyceph up`
(`pyceph.cli.localcluster`), the embedded cluster and the simulator."""

from __future__ import annotations

ADMIN_CAPS = {"mon": "allow *", "osd": "allow *", "mgr": "allow *", "mds": "allow *"}
OSD_CAPS = {"mon": "allow profile osd", "mgr": "allow profile osd", "osd": "allow *"}
MGR_CAPS = {"mon": "allow profile mgr", "osd": "allow *", "mds": "allow *"}
MON_CAPS = {"mon": "allow *"}

#: Settings a new cluster's ceph.conf starts with, before the caller's own.
BASE_OPTIONS = {
    # as the reference's start script: every pyceph client reclaims its global_id
    # securely, so a new cluster need not warn AUTH_INSECURE_GLOBAL_ID_RECLAIM_ALLOWED
    "auth_allow_insecure_global_id_reclaim": "false",
    "mon_allow_pool_delete": "true",
    "osd_crush_chooseleaf_type": "0",
    "osd_pool_default_size": "3",
    # upstream's default also enables restful and nfs; neither can run here (restful
    # needs pecan, nfs Ceph's python3-ceph-common library), and an enabled module that
    # cannot run warns MGR_MODULE_DEPENDENCY
    "mgr_initial_modules": "iostat",
}
