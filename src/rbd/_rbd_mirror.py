"""`rbd.RBD`'s mirroring methods (pool mirror mode, site name, peers, bootstrap tokens,
image status lists), kept apart from `_rbd.py`; the class binds them by name.

Upstream: `src/pybind/rbd/rbd.pyx`, class `RBD` (mirror_*).  The facade converts the
arguments and calls the engine's `mirror` functions of the same names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pyceph.common.errors import CephError
from pyceph.rbdlib import mirror as engine_mirror
from rbd import _engine as eng
from rbd._constants import RBD_MIRROR_PEER_DIRECTION_RX_TX
from rbd._engine import pool_call
from rbd._errors import make_ex
from rbd._iterators import (
    MirrorImageInfoIterator,
    MirrorImageInstanceIdIterator,
    MirrorImageStatusIterator,
    MirrorPeerIterator,
)
from rbd._util import c_int, check_rados, cstr, str_of

if TYPE_CHECKING:
    from rbd._rbd import RBD


# -- mirroring --------------------------------------------------------------------
def _site(self: RBD, rados: Any, fn: Callable[..., Any], args: tuple[Any, ...], msg: str) -> Any:
    check_rados(rados)
    try:
        client = eng.core_client(rados)
    except CephError as e:
        raise make_ex(e.errno, msg) from None
    return eng.call(rados, fn, (client, *args), {}, msg)


def mirror_site_name_get(self: RBD, rados: Any) -> str:
    """Get the local cluster's friendly site name (the fsid by default)."""
    return _site(self, rados, engine_mirror.mirror_site_name_get, (), "error getting site name")  # type: ignore[no-any-return]


def mirror_site_name_set(self: RBD, rados: Any, site_name: Any) -> None:
    """Set the local cluster's friendly site name."""
    bname = cstr(site_name, "site_name")
    _site(
        self,
        rados,
        engine_mirror.mirror_site_name_set,
        (str_of(bname),),
        "error setting mirror site name",
    )


def mirror_mode_get(self: RBD, ioctx: Any) -> int:
    """Get pool mirror mode."""
    return int(pool_call(ioctx, engine_mirror.mirror_mode_get, (), "error getting mirror mode"))


def mirror_mode_set(self: RBD, ioctx: Any, mirror_mode: int) -> None:
    """Set pool mirror mode."""
    mode = c_int(mirror_mode)
    pool_call(ioctx, engine_mirror.mirror_mode_set, (mode,), "error setting mirror mode")


def mirror_uuid_get(self: RBD, ioctx: Any) -> str:
    """Get pool mirror uuid."""
    return pool_call(  # type: ignore[no-any-return]
        ioctx, engine_mirror.mirror_uuid_get, (), "error retrieving mirror uuid"
    )


def mirror_peer_bootstrap_create(self: RBD, ioctx: Any) -> str:
    """Create a mirroring bootstrap token for an external cluster."""
    return pool_call(  # type: ignore[no-any-return]
        ioctx,
        engine_mirror.mirror_peer_bootstrap_create,
        (),
        "error creating bootstrap token",
    )


def mirror_peer_bootstrap_import(self: RBD, ioctx: Any, direction: int, token: Any) -> None:
    """Import a bootstrap token from an external cluster."""
    btoken = cstr(token, "token")
    d = c_int(direction)
    pool_call(
        ioctx,
        engine_mirror.mirror_peer_bootstrap_import,
        (d, str_of(btoken)),
        "error importing bootstrap token",
    )


def mirror_peer_add(
    self: RBD,
    ioctx: Any,
    site_name: Any,
    client_name: Any,
    direction: int = RBD_MIRROR_PEER_DIRECTION_RX_TX,
) -> str:
    """Add a mirror peer; returns its uuid."""
    bsite = cstr(site_name, "site_name")
    bclient = cstr(client_name, "client_name")
    d = c_int(direction)
    return pool_call(  # type: ignore[no-any-return]
        ioctx,
        engine_mirror.mirror_peer_add,
        (str_of(bsite), str_of(bclient), d),
        "error adding mirror peer",
    )


def mirror_peer_remove(self: RBD, ioctx: Any, uuid: Any) -> None:
    """Remove a mirror peer."""
    buuid = cstr(uuid, "uuid")
    pool_call(
        ioctx, engine_mirror.mirror_peer_remove, (str_of(buuid),), "error removing mirror peer"
    )


def mirror_peer_list(self: RBD, ioctx: Any) -> MirrorPeerIterator:
    """Iterate over the peers of a pool."""
    return MirrorPeerIterator(ioctx)


def mirror_peer_set_client(self: RBD, ioctx: Any, uuid: Any, client_name: Any) -> None:
    """Set mirror peer client name."""
    buuid = cstr(uuid, "uuid")
    bclient = cstr(client_name, "client_name")
    pool_call(
        ioctx,
        engine_mirror.mirror_peer_set_client,
        (str_of(buuid), str_of(bclient)),
        "error setting mirror peer client name",
    )


def mirror_peer_set_name(self: RBD, ioctx: Any, uuid: Any, site_name: Any) -> None:
    """Set mirror peer site name."""
    buuid = cstr(uuid, "uuid")
    bsite = cstr(site_name, "site_name")
    pool_call(
        ioctx,
        engine_mirror.mirror_peer_set_name,
        (str_of(buuid), str_of(bsite)),
        "error setting mirror peer site name",
    )


def mirror_peer_set_cluster(self: RBD, ioctx: Any, uuid: Any, cluster_name: Any) -> None:
    """Set mirror peer site name (the old name of `mirror_peer_set_name`)."""
    mirror_peer_set_name(self, ioctx, uuid, cluster_name)


def mirror_peer_get_attributes(self: RBD, ioctx: Any, uuid: Any) -> dict[str, str]:
    """Optional mirror peer attributes ('mon_host', 'key')."""
    buuid = cstr(uuid, "uuid")
    return dict(
        pool_call(
            ioctx,
            engine_mirror.mirror_peer_get_attributes,
            (str_of(buuid),),
            "error getting mirror peer attributes",
        )
    )


def mirror_peer_set_attributes(self: RBD, ioctx: Any, uuid: Any, attributes: Any) -> None:
    """Set optional mirror peer attributes ('mon_host', 'key')."""
    buuid = cstr(uuid, "uuid")
    attrs = {str_of(cstr(k, "key")): str_of(cstr(v, "val")) for k, v in attributes.items()}
    pool_call(
        ioctx,
        engine_mirror.mirror_peer_set_attributes,
        (str_of(buuid), attrs),
        "error setting mirror peer attributes",
    )


def mirror_image_status_list(self: RBD, ioctx: Any) -> MirrorImageStatusIterator:
    """Iterate over the mirror image statuses of a pool."""
    return MirrorImageStatusIterator(ioctx)


def mirror_image_status_summary(self: RBD, ioctx: Any) -> list[tuple[int, int]]:
    """Mirror image status summary of a pool: [(state, count)]."""
    res = pool_call(
        ioctx,
        engine_mirror.mirror_image_status_summary,
        (),
        "error getting mirror image status summary",
    )
    return [(int(s), int(n)) for s, n in res]


def mirror_image_instance_id_list(self: RBD, ioctx: Any) -> MirrorImageInstanceIdIterator:
    """Iterate over the mirror image instance ids of a pool."""
    return MirrorImageInstanceIdIterator(ioctx)


def mirror_image_info_list(
    self: RBD, ioctx: Any, mode_filter: Any = None
) -> MirrorImageInfoIterator:
    """Iterate over the mirror image infos of a pool (optionally of one mode)."""
    return MirrorImageInfoIterator(ioctx, mode_filter)
