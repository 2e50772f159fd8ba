"""RBD mirroring metadata (librbd ``api/Mirror.cc``, ``mirror/EnableRequest``,
``DisableRequest``, ``PromoteRequest``, ``DemoteRequest``, ``GetInfoRequest`` and
``mirror/snapshot/CreatePrimaryRequest`` / ``UnlinkPeerRequest``, Ceph 16.2).

This is what the rbd tool and librbd do on the primary side without an ``rbd-mirror``
daemon: the pool's mode, mirror uuid and peers in the ``rbd_mirroring`` object, the
site name and peer attributes in the monitors' config-key store (``rbd/mirror/site_name``,
``rbd/mirror/peer/<pool id>/<peer uuid>``), bootstrap tokens, per-image records
(``image_<id>`` -> `MirrorImage`, ``global_<global id>`` -> id, kept by cls_rbd), the
snapshot mode's mirror snapshots (``.mirror.primary.<global id>.<uuid>`` in the mirror
snapshot namespace) and the status views, which report "status not found" for images no
daemon has reported on, as upstream does.

Journal-mode images carry the JOURNALING feature; without a journal this engine keeps
them primary (demote/promote/resync of a journal-mode image: EOPNOTSUPP).
"""

from __future__ import annotations

import base64
import binascii
import errno
import json
import logging
import uuid as uuidlib
from typing import Any

from pyceph.client.ioctx import IoCtx
from pyceph.cls import rbd_mirror_types as M
from pyceph.cls import rbd_types as T
from pyceph.common.errors import CephError
from pyceph.rbdlib import cls_client, object_map
from pyceph.rbdlib.features import RBD_FEATURE_EXCLUSIVE_LOCK, RBD_FEATURE_JOURNALING
from pyceph.rbdlib.layout import CEPH_NOSNAP, RBD_MIRRORING

log = logging.getLogger("pyceph.rbdlib.mirror")

#: Config-key of the local site name (Mirror.cc RBD_MIRROR_SITE_NAME_CONFIG_KEY).
SITE_NAME_CONFIG_KEY = "rbd/mirror/site_name"
#: Config-key naming the CephX user bootstrap tokens hand out.
PEER_CLIENT_ID_CONFIG_KEY = "rbd/mirror/peer_client_id"
#: The bootstrap user's id when none is configured yet.
DEFAULT_PEER_CLIENT_ID = "rbd-mirror-peer"
#: Config-key prefix of a peer's attributes (mon_host, key).
PEER_CONFIG_KEY_PREFIX = "rbd/mirror/peer/"
#: Entries read per rbd_mirroring list call.
MIRROR_LIST_PAGE = 1024
STATUS_NOT_FOUND = "status not found"
#: Image metadata key prefix of snapshot mirroring's image-meta (snapshot/Utils.cc).
IMAGE_META_KEY_PREFIX = ".rbd_mirror."
#: snapshot::CreatePrimaryRequest flags.
CREATE_PRIMARY_FLAG_IGNORE_EMPTY_PEERS = 1 << 0
CREATE_PRIMARY_FLAG_DEMOTED = 1 << 1
CREATE_PRIMARY_FLAG_FORCE = 1 << 2
#: mirror::PromotionState.
PROMOTION_STATE_UNKNOWN = 0
PROMOTION_STATE_PRIMARY = 1
PROMOTION_STATE_NON_PRIMARY = 2
PROMOTION_STATE_ORPHAN = 3
#: Snapshot-create flags a mirror snapshot accepts (the quiesce flags).
SNAP_CREATE_FLAGS = (1 << 0) | (1 << 1)
#: Seconds a bootstrap import waits to reach the remote cluster.
REMOTE_CONNECT_TIMEOUT = 30.0


# -- config-key store ------------------------------------------------------------------------
async def _config_key_get(client: Any, key: str) -> str | None:
    """Mirror.cc get_config_key: the value, None when unset (EOPNOTSUPP for EINVAL)."""
    ret, out, outs = await client.mon_command(json.dumps({"prefix": "config-key get",
                                                          "key": key}))  # fmt: skip
    if ret == -errno.ENOENT:
        return None
    if ret == -errno.EINVAL:
        raise CephError(errno.EOPNOTSUPP, outs)
    if ret < 0:
        raise CephError(-ret, outs)
    return bytes(out).decode("utf-8", "surrogateescape")


async def _config_key_set(client: Any, key: str, value: str) -> None:
    """Mirror.cc set_config_key: an empty value removes the key."""
    if value:
        cmd = {"prefix": "config-key set", "key": key, "val": value}
    else:
        cmd = {"prefix": "config-key rm", "key": key}
    ret, _out, outs = await client.mon_command(json.dumps(cmd))
    if ret == -errno.EINVAL:
        raise CephError(errno.EOPNOTSUPP, outs)
    if ret < 0 and ret != -errno.ENOENT:
        raise CephError(-ret, outs)


def _peer_config_key(ioctx: IoCtx, peer_uuid: str) -> str:
    return f"{PEER_CONFIG_KEY_PREFIX}{ioctx.pool_id}/{peer_uuid}"


def _default_ns(ioctx: IoCtx) -> IoCtx:
    return ioctx.copy(nspace="") if ioctx.nspace else ioctx


# -- site name -----------------------------------------------------------------------------
async def mirror_site_name_get(client: Any) -> str:
    """Mirror::site_name_get: the configured site name, else the cluster fsid."""
    value = await _config_key_get(client, SITE_NAME_CONFIG_KEY)
    return value if value else str(client.fsid)


async def mirror_site_name_set(client: Any, name: str) -> None:
    """Mirror::site_name_set: an empty (or blank) name goes back to the fsid."""
    await _config_key_set(client, SITE_NAME_CONFIG_KEY, name.strip())


# -- pool mode and uuid --------------------------------------------------------------------------
async def mirror_mode_get(ioctx: IoCtx) -> int:
    """Mirror::mode_get: RBD_MIRROR_MODE_DISABLED 0 (also without rbd_mirroring, as
    upstream's cls_client), IMAGE 1 or POOL 2."""
    try:
        return await cls_client.mirror_mode_get(ioctx, RBD_MIRRORING)
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        return M.MIRROR_MODE_DISABLED


async def mirror_uuid_get(ioctx: IoCtx) -> str:
    """Mirror::uuid_get (ENOENT while mirroring was never enabled)."""
    return await cls_client.mirror_uuid_get(ioctx, RBD_MIRRORING)


async def mirror_mode_set(ioctx: IoCtx, mode: int) -> None:
    """Mirror::mode_set. EINVAL for an unknown mode; disabling EBUSY while peers are
    registered and EINVAL (image mode) while images still mirror. Enabling mints the
    pool's mirror uuid; pool mode enables every journaling image; disabling from pool
    mode disables every mirrored image."""
    if mode not in (M.MIRROR_MODE_DISABLED, M.MIRROR_MODE_IMAGE, M.MIRROR_MODE_POOL):
        raise CephError(errno.EINVAL, "unknown mirror mode")
    if mode == M.MIRROR_MODE_DISABLED and await _peers(ioctx):
        raise CephError(errno.EBUSY, "mirror peers still registered")
    current = await mirror_mode_get(ioctx)
    if current == mode:
        return
    if current == M.MIRROR_MODE_DISABLED:
        await cls_client.mirror_uuid_set(ioctx, RBD_MIRRORING, str(uuidlib.uuid4()))
    if current != M.MIRROR_MODE_IMAGE:
        await cls_client.mirror_mode_set(ioctx, RBD_MIRRORING, M.MIRROR_MODE_IMAGE)
    if mode == M.MIRROR_MODE_IMAGE:
        return
    if mode == M.MIRROR_MODE_POOL:
        for entry in await _directory(ioctx):
            feats, _ = await cls_client.get_features(ioctx, f"rbd_header.{entry}", True)
            if feats & RBD_FEATURE_JOURNALING:
                img = await _open(ioctx, entry)
                try:
                    await _enable(img, M.MIRROR_IMAGE_MODE_JOURNAL)
                finally:
                    await img.close()
    else:
        for image_id in await _mirror_image_ids(ioctx):
            if current == M.MIRROR_MODE_IMAGE:
                rec = await _record(ioctx, image_id)
                if rec is not None and rec.state == M.MIRROR_IMAGE_STATE_ENABLED:
                    raise CephError(errno.EINVAL, "failed to disable mirror mode: there are "
                                    "still images with mirroring enabled")  # fmt: skip
            else:
                img = await _open(ioctx, image_id)
                try:
                    await _disable(img, force=False, remove=False)
                finally:
                    await img.close()
    await cls_client.mirror_mode_set(ioctx, RBD_MIRRORING, mode)


async def _directory(ioctx: IoCtx) -> list[str]:
    """Image ids of the namespace's directory."""
    from pyceph.rbdlib.pool import list_images2

    return [e["id"] for e in await list_images2(ioctx)]


async def _mirror_image_ids(ioctx: IoCtx) -> list[str]:
    return list(await _mirror_image_map(ioctx))


async def _mirror_image_map(ioctx: IoCtx) -> dict[str, str]:
    """{image id: global id} of every mirror image record."""
    out: dict[str, str] = {}
    start = ""
    while True:
        try:
            page = await cls_client.mirror_image_list(ioctx, RBD_MIRRORING, start,
                                                      MIRROR_LIST_PAGE)  # fmt: skip
        except CephError as e:
            if e.errno == errno.ENOENT:
                return out
            raise
        out.update(page)
        if len(page) < MIRROR_LIST_PAGE:
            return out
        start = max(page)


# -- peers ---------------------------------------------------------------------------------------
async def _peers(ioctx: IoCtx) -> list[M.MirrorPeer]:
    try:
        return await cls_client.mirror_peer_list(_default_ns(ioctx), RBD_MIRRORING)
    except CephError as e:
        if e.errno == errno.ENOENT:
            return []
        raise


async def mirror_peer_add(
    ioctx: IoCtx, site_name: str, client_name: str, direction: int = M.MIRROR_PEER_DIRECTION_RX_TX
) -> str:
    """Mirror::peer_site_add: a new peer's uuid. EINVAL with mirroring disabled or a TX
    direction, EEXIST for a known site name."""
    if direction == M.MIRROR_PEER_DIRECTION_TX:
        raise CephError(errno.EINVAL, "invalid mirror peer direction")
    while True:
        peer_uuid = str(uuidlib.uuid4())
        peer = M.MirrorPeer(uuid=peer_uuid, mirror_peer_direction=direction,
                            site_name=site_name, client_name=client_name)  # fmt: skip
        try:
            await cls_client.mirror_peer_add(ioctx, RBD_MIRRORING, peer)
        except CephError as e:
            if e.errno == errno.ESTALE:
                continue  # the uuid is taken: draw another
            raise
        return peer_uuid


async def mirror_peer_remove(ioctx: IoCtx, peer_uuid: str) -> None:
    """Mirror::peer_site_remove: the peer and its attributes (a missing peer is fine)."""
    try:
        await cls_client.mirror_peer_remove(ioctx, RBD_MIRRORING, peer_uuid)
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    await _config_key_set(ioctx.client, _peer_config_key(ioctx, peer_uuid), "")


async def mirror_peer_list(ioctx: IoCtx) -> list[dict[str, Any]]:
    """Mirror::peer_site_list: [{uuid, direction, site_name, mirror_uuid, client_name,
    last_seen}]."""
    return [
        {
            "uuid": p.uuid,
            "direction": p.mirror_peer_direction,
            "site_name": p.site_name,
            "mirror_uuid": p.mirror_uuid,
            "client_name": p.client_name,
            "last_seen": int(p.last_seen[0]),
        }
        for p in await _peers(ioctx)
    ]


async def mirror_peer_set_client(ioctx: IoCtx, peer_uuid: str, client_name: str) -> None:
    """Mirror::peer_site_set_client (ENOENT for an unknown peer)."""
    await cls_client.mirror_peer_set_client(ioctx, RBD_MIRRORING, peer_uuid, client_name)


async def mirror_peer_set_name(ioctx: IoCtx, peer_uuid: str, site_name: str) -> None:
    """Mirror::peer_site_set_name (ENOENT for an unknown peer, EEXIST for a used name)."""
    await cls_client.mirror_peer_set_cluster(ioctx, RBD_MIRRORING, peer_uuid, site_name)


async def mirror_peer_set_direction(ioctx: IoCtx, peer_uuid: str, direction: int) -> None:
    """Mirror::peer_site_set_direction (EINVAL for an unknown direction)."""
    if direction not in (M.MIRROR_PEER_DIRECTION_RX, M.MIRROR_PEER_DIRECTION_TX,
                         M.MIRROR_PEER_DIRECTION_RX_TX):  # fmt: skip
        raise CephError(errno.EINVAL, "invalid mirror peer direction")
    await cls_client.mirror_peer_set_direction(ioctx, RBD_MIRRORING, peer_uuid, direction)


async def mirror_peer_get_attributes(ioctx: IoCtx, peer_uuid: str) -> dict[str, str]:
    """Mirror::peer_site_get_attributes (ENOENT when none are set, EINVAL for bad JSON)."""
    value = await _config_key_get(ioctx.client, _peer_config_key(ioctx, peer_uuid))
    if value is None:
        raise CephError(errno.ENOENT, "no attributes for the peer")
    try:
        attrs = json.loads(value)
        if not isinstance(attrs, dict) or not all(isinstance(v, str) for v in attrs.values()):
            raise ValueError("not a string map")
    except ValueError:
        raise CephError(errno.EINVAL, "invalid peer attributes JSON received") from None
    return {str(k): str(v) for k, v in attrs.items()}


async def mirror_peer_set_attributes(
    ioctx: IoCtx, peer_uuid: str, attributes: dict[str, str]
) -> None:
    """Mirror::peer_site_set_attributes (ENOENT for an unknown peer)."""
    if not any(p.uuid == peer_uuid for p in await _peers(ioctx)):
        raise CephError(errno.ENOENT, f"mirror peer {peer_uuid} does not exist")
    await _config_key_set(ioctx.client, _peer_config_key(ioctx, peer_uuid),
                          json.dumps(attributes, separators=(", ", ": ")))  # fmt: skip


# -- bootstrap tokens ---------------------------------------------------------------------------------
async def _bootstrap_user(client: Any) -> tuple[str, str]:
    """Mirror.cc create_bootstrap_user: (client id, cephx key) of the peer user."""
    client_id = await _config_key_get(client, PEER_CLIENT_ID_CONFIG_KEY)
    if not client_id:
        client_id = DEFAULT_PEER_CLIENT_ID
        await _config_key_set(client, PEER_CLIENT_ID_CONFIG_KEY, client_id)
    cmd = {
        "prefix": "auth get-or-create",
        "entity": f"client.{client_id}",
        "caps": ["mon", "profile rbd-mirror-peer", "osd", "profile rbd"],
        "format": "json",
    }
    ret, out, outs = await client.mon_command(json.dumps(cmd))
    if ret < 0:
        raise CephError(-ret, outs)
    try:
        key = json.loads(out)[0]["key"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise CephError(errno.EBADMSG, "unexpected peer bootstrap response") from None
    return client_id, str(key)


async def mirror_peer_bootstrap_create(ioctx: IoCtx) -> str:
    """Mirror::peer_bootstrap_create: base64 of {fsid, client_id, key, mon_host}."""
    client = ioctx.client
    client_id, key = await _bootstrap_user(client)
    token = json.dumps(
        {
            "fsid": str(client.fsid),
            "client_id": client_id,
            "key": key,
            "mon_host": str(client.config.get("mon_host") or ""),
        },
        separators=(",", ":"),
    )
    return base64.b64encode(token.encode()).decode()


def decode_bootstrap_token(token: str) -> dict[str, str]:
    """A token's fields (EINVAL when it is not base64 of the JSON object)."""
    try:
        raw = base64.b64decode(token.encode(), validate=False)
        obj = json.loads(raw)
        fields = {k: obj[k] for k in ("fsid", "client_id", "key", "mon_host")}
        if not all(isinstance(v, str) for v in fields.values()):
            raise TypeError("field is not a string")
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise CephError(errno.EINVAL, "invalid bootstrap token JSON received") from None
    return fields


async def mirror_peer_bootstrap_import(ioctx: IoCtx, direction: int, token: str) -> None:
    """Mirror::peer_bootstrap_import: EINVAL for a TX-only direction, a token that does
    not decode or one of this very cluster; otherwise connect to the remote cluster,
    check its fsid, and register each site as the other's peer."""
    if direction not in (M.MIRROR_PEER_DIRECTION_RX, M.MIRROR_PEER_DIRECTION_RX_TX):
        raise CephError(errno.EINVAL, "invalid mirror peer direction")
    fields = decode_bootstrap_token(token)
    client = ioctx.client
    if fields["fsid"] == str(client.fsid):
        raise CephError(errno.EINVAL, "cannot import token for local cluster")
    remote = await _connect_remote(client, fields)
    try:
        if str(remote.fsid) != fields["fsid"]:
            raise CephError(errno.EINVAL, "unexpected remote cluster fsid")
        local_site = await mirror_site_name_get(client)
        remote_site = await mirror_site_name_get(remote)
        pool = client.osdmap.get_pool(ioctx.pool_id)
        rpid = remote.osdmap.lookup_pool(str(pool.pool_name)) if pool is not None else -1
        if rpid < 0:
            raise CephError(errno.ENOENT, "pool does not exist in remote cluster")
        rio = IoCtx(remote, rpid, nspace=ioctx.nspace)
        local_mode = await mirror_mode_get(ioctx)
        remote_mode = await mirror_mode_get(rio)
        if local_mode == M.MIRROR_MODE_DISABLED and remote_mode == M.MIRROR_MODE_DISABLED:
            local_mode = remote_mode = M.MIRROR_MODE_IMAGE
            await mirror_mode_set(ioctx, local_mode)
            await mirror_mode_set(rio, remote_mode)
        elif local_mode == M.MIRROR_MODE_DISABLED:
            await mirror_mode_set(ioctx, remote_mode)
        elif remote_mode == M.MIRROR_MODE_DISABLED:
            await mirror_mode_set(rio, local_mode)
        if direction == M.MIRROR_PEER_DIRECTION_RX_TX:
            local_id, local_key = await _bootstrap_user(client)
            await _add_or_update_peer(rio, local_site, f"client.{local_id}",
                                      M.MIRROR_PEER_DIRECTION_TX,
                                      {"mon_host": str(client.config.get("mon_host") or ""),
                                       "key": local_key})  # fmt: skip
        await _add_or_update_peer(ioctx, remote_site, f"client.{fields['client_id']}",
                                  direction, {"mon_host": fields["mon_host"],
                                              "key": fields["key"]})  # fmt: skip
    finally:
        await remote.shutdown()


async def _add_or_update_peer(
    ioctx: IoCtx, site: str, client_name: str, direction: int, attrs: dict[str, str]
) -> None:
    existing = [p for p in await _peers(ioctx) if p.site_name == site]
    if existing:
        peer_uuid = existing[0].uuid
        await mirror_peer_set_client(ioctx, peer_uuid, client_name)
        if existing[0].mirror_peer_direction != direction:
            await mirror_peer_set_direction(ioctx, peer_uuid, M.MIRROR_PEER_DIRECTION_RX_TX)
    else:
        peer_uuid = await _peer_add_any_direction(ioctx, site, client_name, direction)
    await mirror_peer_set_attributes(ioctx, peer_uuid, attrs)


async def _peer_add_any_direction(ioctx: IoCtx, site: str, client_name: str, direction: int) -> str:
    """A TX peer (the remote side of an RX_TX import) is added RX_TX then narrowed."""
    if direction != M.MIRROR_PEER_DIRECTION_TX:
        return await mirror_peer_add(ioctx, site, client_name, direction)
    peer_uuid = await mirror_peer_add(ioctx, site, client_name, M.MIRROR_PEER_DIRECTION_RX_TX)
    await mirror_peer_set_direction(ioctx, peer_uuid, M.MIRROR_PEER_DIRECTION_TX)
    return peer_uuid


async def _connect_remote(client: Any, fields: dict[str, str]) -> Any:
    """A session to the token's cluster as its bootstrap user."""
    from pyceph.client.rados_client import RadosClient
    from pyceph.common.config import CephConfig
    from pyceph.common.runtime import real_runtime

    conf = CephConfig(name=f"client.{fields['client_id']}")
    try:
        conf.set("mon_host", fields["mon_host"])
        conf.set("key", fields["key"])
    except (CephError, ValueError) as e:
        raise CephError(errno.EINVAL, f"invalid bootstrap token: {e}") from None
    remote = RadosClient(real_runtime(), conf)
    try:
        await remote.connect(REMOTE_CONNECT_TIMEOUT)
    except CephError:
        await remote.shutdown()
        raise
    return remote


# -- per-image records ----------------------------------------------------------------------------------
async def _record(ioctx: IoCtx, image_id: str) -> M.MirrorImage | None:
    try:
        return await cls_client.mirror_image_get(ioctx, RBD_MIRRORING, image_id)
    except CephError as e:
        if e.errno == errno.ENOENT:
            return None
        raise


async def _open(ioctx: IoCtx, image_id: str) -> Any:
    from pyceph.rbdlib.image import open_image

    return await open_image(ioctx, image_id=image_id)


def _mirror_snaps(img: Any) -> list[Any]:
    """The image's mirror-namespace snapshots, oldest first."""
    return [img.state.snaps[s] for s in sorted(img.state.snaps)
            if isinstance(img.state.snaps[s].namespace, T.MirrorSnapshotNamespace)]  # fmt: skip


def non_primary(img: Any) -> bool:
    """Whether snapshot mirroring made the image non-primary (its newest mirror snapshot is
    not PRIMARY): librbd then refuses writes with EROFS (IMAGE_READ_ONLY_FLAG_NON_PRIMARY).
    Sans-I/O: reads the snapshots of the last refresh."""
    snaps = _mirror_snaps(img)
    return bool(snaps) and snaps[-1].namespace.state != T.MIRROR_SNAPSHOT_STATE_PRIMARY


def promotion_state(img: Any, rec: M.MirrorImage) -> int:
    """GetInfoRequest: journal mode is primary here; snapshot mode follows the newest
    mirror snapshot's state (calc_promotion_state)."""
    if rec.mode == M.MIRROR_IMAGE_MODE_JOURNAL:
        return PROMOTION_STATE_PRIMARY
    snaps = _mirror_snaps(img)
    if not snaps:
        return PROMOTION_STATE_UNKNOWN
    ns = snaps[-1].namespace
    if ns.state == T.MIRROR_SNAPSHOT_STATE_PRIMARY:
        return PROMOTION_STATE_PRIMARY
    if ns.state == T.MIRROR_SNAPSHOT_STATE_NON_PRIMARY:
        return PROMOTION_STATE_NON_PRIMARY
    if ns.state == T.MIRROR_SNAPSHOT_STATE_PRIMARY_DEMOTED or ns.complete:
        return PROMOTION_STATE_ORPHAN
    return PROMOTION_STATE_NON_PRIMARY


async def mirror_image_get_info(img: Any) -> dict[str, Any]:
    """Mirror::image_get_info: {global_id, state, primary} ('', DISABLED, False when the
    image is not mirrored)."""
    await img.refresh_if_required()
    rec = await _record(img.ioctx, img.id)
    if rec is None:
        return {"global_id": "", "state": M.MIRROR_IMAGE_STATE_DISABLED, "primary": False}
    return {"global_id": rec.global_image_id, "state": rec.state,
            "primary": promotion_state(img, rec) == PROMOTION_STATE_PRIMARY}  # fmt: skip


async def mirror_image_get_mode(img: Any) -> int:
    """Mirror::image_get_mode (journal, 0, when not mirrored, as upstream's default)."""
    rec = await _record(img.ioctx, img.id)
    return rec.mode if rec is not None else M.MIRROR_IMAGE_MODE_JOURNAL


async def mirror_image_enable(img: Any, mode: int = M.MIRROR_IMAGE_MODE_JOURNAL) -> None:
    """Mirror::image_enable: EINVAL unless the pool is in image mode, for another mode
    than the image's record or a parent that is not mirrored."""
    if mode not in (M.MIRROR_IMAGE_MODE_JOURNAL, M.MIRROR_IMAGE_MODE_SNAPSHOT):
        raise CephError(errno.EINVAL, "invalid mirror image mode")
    await img.refresh_if_required()
    if await mirror_mode_get(img.ioctx) != M.MIRROR_MODE_IMAGE:
        raise CephError(errno.EINVAL, "cannot enable mirroring in the current pool "
                        "mirroring mode")  # fmt: skip
    await _enable(img, mode, relax_same_pool_parent_check=False)


async def _enable(img: Any, mode: int, relax_same_pool_parent_check: bool = True) -> None:
    """EnableRequest (with the parent check and the journaling feature before it)."""
    parent = img.state.parent
    if parent is not None and (parent.pool_id != img.ioctx.pool_id
                               or not relax_same_pool_parent_check):  # fmt: skip
        from pyceph.rbdlib._util import ioctx_for_pool

        pio = ioctx_for_pool(img.ioctx, parent.pool_id, parent.pool_namespace)
        if await _record(pio, parent.image_id) is None:
            raise CephError(errno.EINVAL, "mirroring is not enabled for the parent")
    if mode == M.MIRROR_IMAGE_MODE_JOURNAL and not img.state.features & RBD_FEATURE_JOURNALING:
        feats = RBD_FEATURE_JOURNALING
        if not img.state.features & RBD_FEATURE_EXCLUSIVE_LOCK:
            feats |= RBD_FEATURE_EXCLUSIVE_LOCK
        await img.update_features(feats, True)
    rec = await _record(img.ioctx, img.id)
    if rec is not None:
        if rec.mode != mode:
            raise CephError(errno.EINVAL, "invalid current image mirror mode")
        if rec.state == M.MIRROR_IMAGE_STATE_ENABLED:
            return
        raise CephError(errno.EINVAL, "currently disabling")
    rec = M.MirrorImage(mode=mode, global_image_id=str(uuidlib.uuid4()),
                        state=M.MIRROR_IMAGE_STATE_ENABLED)  # fmt: skip
    if mode == M.MIRROR_IMAGE_MODE_SNAPSHOT:
        await _create_primary(img, rec.global_image_id, 0, CREATE_PRIMARY_FLAG_IGNORE_EMPTY_PEERS)
    await cls_client.mirror_image_set(img.ioctx, RBD_MIRRORING, img.id, rec)


async def mirror_image_disable(img: Any, force: bool = False) -> None:
    """Mirror::image_disable: EINVAL unless the pool is in image mode, or (without
    `force`) for a non-primary image; an image not mirrored is left alone."""
    await img.refresh_if_required()
    if await mirror_mode_get(img.ioctx) != M.MIRROR_MODE_IMAGE:
        raise CephError(errno.EINVAL, "cannot disable mirroring in the current pool "
                        "mirroring mode")  # fmt: skip
    await _disable(img, force=force, remove=True)


async def _disable(img: Any, force: bool, remove: bool) -> None:
    """DisableRequest: record DISABLING, mirror snapshots gone, record and status gone;
    journal mode then turns the journaling feature off."""
    rec = await _record(img.ioctx, img.id)
    if rec is None:
        return
    if not force and promotion_state(img, rec) not in (PROMOTION_STATE_PRIMARY,
                                                       PROMOTION_STATE_UNKNOWN):  # fmt: skip
        raise CephError(errno.EINVAL, "mirrored image is not primary, add force option to "
                        "disable mirroring")  # fmt: skip
    rec.state = M.MIRROR_IMAGE_STATE_DISABLING
    await cls_client.mirror_image_set(img.ioctx, RBD_MIRRORING, img.id, rec)
    for snap in _mirror_snaps(img):
        await img.remove_snap_by_id(snap.id)
    try:
        await cls_client.mirror_image_status_remove(img.ioctx, RBD_MIRRORING,
                                                    rec.global_image_id)  # fmt: skip
    except CephError as e:
        if e.errno not in (errno.ENOENT, errno.EOPNOTSUPP):
            raise
    await cls_client.mirror_image_remove(img.ioctx, RBD_MIRRORING, img.id)
    if remove and rec.mode == M.MIRROR_IMAGE_MODE_JOURNAL and \
            img.state.features & RBD_FEATURE_JOURNALING:  # fmt: skip
        await img.update_features(RBD_FEATURE_JOURNALING, False)


async def disable_for_trash(img: Any) -> None:
    """Trash.cc disable_mirroring: a user-trashed image stops mirroring (forced)."""
    if await _record(img.ioctx, img.id) is None:
        return
    rw = await _open(img.ioctx, img.id)
    try:
        await _disable(rw, force=False, remove=False)
    finally:
        await rw.close()


async def disable_for_remove(img: Any) -> None:
    """RemoveRequest::disable_mirror: DisableRequest (not forced) on an image about to be
    removed; nothing for an image that is not mirrored."""
    if await _record(img.ioctx, img.id) is None:
        return
    await _disable(img, force=False, remove=False)


async def enable_if_pool_mode(ioctx: IoCtx, image_id: str) -> None:
    """In pool mode a journaling image mirrors: after a create (image::CreateRequest) or
    a trash restore (Trash.cc enable_mirroring) the journal-mode record is made."""
    if await mirror_mode_get(ioctx) != M.MIRROR_MODE_POOL:
        return
    img = await _open(ioctx, image_id)
    try:
        if img.state.features & RBD_FEATURE_JOURNALING:
            await _enable(img, M.MIRROR_IMAGE_MODE_JOURNAL)
    finally:
        await img.close()


async def _enabled_record(img: Any) -> M.MirrorImage:
    rec = await _record(img.ioctx, img.id)
    if rec is None or rec.state != M.MIRROR_IMAGE_STATE_ENABLED:
        raise CephError(errno.EINVAL, "mirroring is not currently enabled")
    return rec


async def mirror_image_promote(img: Any, force: bool = False) -> None:
    """Mirror::image_promote: EINVAL when not mirrored or already primary, EBUSY for a
    non-primary image without `force`; a new primary mirror snapshot."""
    await img.refresh_if_required()
    rec = await _enabled_record(img)
    state = promotion_state(img, rec)
    if state == PROMOTION_STATE_PRIMARY:
        raise CephError(errno.EINVAL, "image is already primary")
    if state == PROMOTION_STATE_NON_PRIMARY and not force:
        raise CephError(errno.EBUSY, "image is primary within a remote cluster or demotion "
                        "is not propagated yet")  # fmt: skip
    if rec.mode != M.MIRROR_IMAGE_MODE_SNAPSHOT:
        raise CephError(errno.EOPNOTSUPP, "journal-based mirroring has no journal here")
    await _create_primary(img, rec.global_image_id, 0,
                          CREATE_PRIMARY_FLAG_IGNORE_EMPTY_PEERS | CREATE_PRIMARY_FLAG_FORCE)  # fmt: skip


async def mirror_image_demote(img: Any) -> None:
    """Mirror::image_demote: EINVAL unless mirrored and primary; a primary-demoted mirror
    snapshot makes the image non-primary."""
    await img.refresh_if_required()
    rec = await _enabled_record(img)
    if promotion_state(img, rec) != PROMOTION_STATE_PRIMARY:
        raise CephError(errno.EINVAL, "image is not primary")
    if rec.mode != M.MIRROR_IMAGE_MODE_SNAPSHOT:
        raise CephError(errno.EOPNOTSUPP, "journal-based mirroring has no journal here")
    await _create_primary(img, rec.global_image_id, 0,
                          CREATE_PRIMARY_FLAG_IGNORE_EMPTY_PEERS | CREATE_PRIMARY_FLAG_DEMOTED)  # fmt: skip
    try:
        await img.lock_release()
    except (CephError, AttributeError) as e:
        log.debug("releasing the lock of demoted %s: %s", img.id, e)


async def mirror_image_resync(img: Any) -> None:
    """Mirror::image_resync: EINVAL when not mirrored or for a primary image (it cannot
    resync to itself); snapshot mode flags the request in the image's mirror image-meta
    for the rbd-mirror daemon."""
    await img.refresh_if_required()
    rec = await _enabled_record(img)
    if promotion_state(img, rec) == PROMOTION_STATE_PRIMARY:
        raise CephError(errno.EINVAL, "image is primary, cannot resync to itself")
    if rec.mode != M.MIRROR_IMAGE_MODE_SNAPSHOT:
        raise CephError(errno.EOPNOTSUPP, "journal-based mirroring has no journal here")
    # snapshot::ImageMeta: `.rbd_mirror.<mirror uuid>` -> {"resync_requested": true}
    key = IMAGE_META_KEY_PREFIX + await mirror_uuid_get(img.ioctx)
    await cls_client.metadata_set(img.ioctx, img.header_oid,
                                  {key: json.dumps({"resync_requested": True},
                                                   separators=(",", ":"))})  # fmt: skip
    await img.notify_update()


async def mirror_image_create_snapshot(img: Any, flags: int = 0) -> int:
    """Mirror::image_snapshot_create: a primary mirror snapshot linked to the pool's TX
    peers; its id. EINVAL for bad flags, an image not mirrored in snapshot mode, a
    non-primary image or a pool without TX peers."""
    if flags & ~SNAP_CREATE_FLAGS:
        raise CephError(errno.EINVAL, "invalid snap create flags")
    await img.refresh_if_required()
    rec = await _record(img.ioctx, img.id)
    if rec is None:
        raise CephError(errno.EINVAL, "mirroring is not enabled")
    if rec.mode != M.MIRROR_IMAGE_MODE_SNAPSHOT:
        raise CephError(errno.EINVAL, "snapshot based mirroring is not enabled")
    if rec.state != M.MIRROR_IMAGE_STATE_ENABLED:
        raise CephError(errno.EINVAL, "mirroring is not currently enabled")
    return await _create_primary(img, rec.global_image_id, flags, 0)


def _can_create_primary(img: Any, demoted: bool, force: bool) -> bool:
    """snapshot::util::can_create_primary_snapshot."""
    snaps = _mirror_snaps(img)
    if not snaps:
        return True
    ns = snaps[-1].namespace
    if ns.state in (T.MIRROR_SNAPSHOT_STATE_PRIMARY_DEMOTED,
                    T.MIRROR_SNAPSHOT_STATE_NON_PRIMARY_DEMOTED) and not force:  # fmt: skip
        return False
    if ns.state == T.MIRROR_SNAPSHOT_STATE_NON_PRIMARY:
        return force and not demoted and ns.complete
    return True


async def _create_primary(img: Any, global_id: str, snap_flags: int, flags: int) -> int:
    """snapshot::CreatePrimaryRequest: snapshot ``.mirror.primary.<global id>.<uuid>``
    linked to every non-RX peer, then old snapshots unlinked past the per-peer limit."""
    await img.refresh_if_required()
    if not _can_create_primary(img, bool(flags & CREATE_PRIMARY_FLAG_DEMOTED),
                               bool(flags & CREATE_PRIMARY_FLAG_FORCE)):  # fmt: skip
        raise CephError(errno.EINVAL, "cannot create primary mirror snapshot")
    peers = frozenset(p.uuid for p in await _peers(img.ioctx)
                      if p.mirror_peer_direction != M.MIRROR_PEER_DIRECTION_RX)  # fmt: skip
    if not peers and not flags & CREATE_PRIMARY_FLAG_IGNORE_EMPTY_PEERS:
        raise CephError(errno.EINVAL, "no mirror tx peers configured for the pool")
    state = (T.MIRROR_SNAPSHOT_STATE_PRIMARY_DEMOTED if flags & CREATE_PRIMARY_FLAG_DEMOTED
             else T.MIRROR_SNAPSHOT_STATE_PRIMARY)  # fmt: skip
    ns = T.MirrorSnapshotNamespace(state=state, complete=True, mirror_peer_uuids=peers,
                                   primary_mirror_uuid="", primary_snap_id=CEPH_NOSNAP)  # fmt: skip
    name = f".mirror.primary.{global_id}.{uuidlib.uuid4()}"
    async with img.write_access():
        snap_id = int(await img.data_ioctx.selfmanaged_snap_create())
        try:
            await cls_client.snapshot_add(img.ioctx, img.header_oid, snap_id, name, ns)
        except CephError:
            await img.data_ioctx.selfmanaged_snap_remove(snap_id)
            raise
        await object_map.snapshot_add(img, snap_id)
    await img.notify_update()
    await _unlink_peers(img, peers)
    return snap_id


def _max_snapshots(img: Any) -> int:
    """Mirror snapshots kept per peer: rbd_mirroring_max_mirroring_snapshots."""
    return int(img.conf("rbd_mirroring_max_mirroring_snapshots"))


async def _unlink_peers(img: Any, peers: frozenset[str]) -> None:
    """CreatePrimaryRequest::unlink_peer, repeated until nothing is past the limit."""
    limit = _max_snapshots(img)
    while True:
        target: tuple[int, str] | None = None
        for peer in sorted(peers):
            count, unlink_id = 0, 0
            for snap in _mirror_snaps(img):
                ns = snap.namespace
                if ns.state != T.MIRROR_SNAPSHOT_STATE_PRIMARY:
                    count, unlink_id = 0, 0
                    continue
                if ns.mirror_peer_uuids and peer not in ns.mirror_peer_uuids:
                    continue
                if not ns.mirror_peer_uuids or not ns.complete:
                    target = (snap.id, peer)
                    break
                count += 1
                if count == limit:
                    unlink_id = snap.id
                if count > limit:
                    target = (unlink_id, peer)
                    break
            if target is not None:
                break
        if target is None:
            return
        try:
            await _unlink_peer(img, *target)
        except CephError as e:
            log.debug("unlinking mirror peer of %s: %s", img.id, e)  # not fatal upstream
            return


async def _unlink_peer(img: Any, snap_id: int, peer: str) -> None:
    """snapshot::UnlinkPeerRequest: unlink the peer, or remove the snapshot when it was
    its last peer and a newer mirror snapshot exists."""
    snaps = _mirror_snaps(img)
    snap = img.state.snaps[snap_id]
    newer = any(s.id > snap_id for s in snaps)
    others = snap.namespace.mirror_peer_uuids - {peer}
    if not others and newer:
        await img.remove_snap_by_id(snap_id)
        return
    await cls_client.mirror_image_snapshot_unlink_peer(img.ioctx, img.header_oid, snap_id, peer)
    await img.notify_update()


async def snap_get_mirror_namespace(img: Any, snap_id: int) -> dict[str, Any]:
    """Snapshot::get_mirror_namespace (ENOENT for a missing snapshot, EINVAL for
    another namespace)."""
    await img.refresh_if_required()
    snap = img.state.snaps.get(snap_id)
    if snap is None:
        raise CephError(errno.ENOENT, f"snapshot {snap_id} does not exist")
    ns = snap.namespace
    if not isinstance(ns, T.MirrorSnapshotNamespace):
        raise CephError(errno.EINVAL, "not a mirror snapshot")
    return {
        "state": ns.state,
        "mirror_peer_uuids": sorted(ns.mirror_peer_uuids),
        "complete": bool(ns.complete),
        "primary_mirror_uuid": ns.primary_mirror_uuid,
        "primary_snap_id": ns.primary_snap_id,
        "last_copied_object_number": ns.last_copied_object_number,
    }


# -- status views ---------------------------------------------------------------------------------------
def _site_statuses(status: M.MirrorImageStatus | None) -> list[dict[str, Any]]:
    out = []
    local = False
    for s in status.mirror_image_site_statuses if status is not None else []:
        local = local or s.mirror_uuid == M.LOCAL_MIRROR_UUID
        out.append({
            "mirror_uuid": s.mirror_uuid,
            "state": s.state,
            "description": STATUS_NOT_FOUND if s.state == M.MIRROR_IMAGE_STATUS_STATE_UNKNOWN
            else s.description,
            "last_update": int(s.last_update[0]),
            "up": bool(s.up),
        })  # fmt: skip
    if not local:
        out.append({"mirror_uuid": M.LOCAL_MIRROR_UUID, "state":
                    M.MIRROR_IMAGE_STATUS_STATE_UNKNOWN, "description": STATUS_NOT_FOUND,
                    "last_update": 0, "up": False})  # fmt: skip
    return out


async def mirror_image_get_status(img: Any) -> dict[str, Any]:
    """Mirror::image_get_global_status: {name, id, info{global_id, state, primary},
    site_statuses}."""
    info = await mirror_image_get_info(img)
    status = None
    if info["global_id"]:
        try:
            status = await cls_client.mirror_image_status_get(img.ioctx, RBD_MIRRORING,
                                                              info["global_id"])  # fmt: skip
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
    return {"name": img.name, "id": img.id, "info": info,
            "site_statuses": _site_statuses(status)}  # fmt: skip


async def mirror_image_get_instance_id(img: Any) -> str:
    """Mirror::image_get_instance_id: the rbd-mirror instance replaying the image
    (EINVAL when not mirrored; ENOENT with no daemon)."""
    rec = await _enabled_record(img)
    name = await cls_client.mirror_image_instance_get(img.ioctx, RBD_MIRRORING,
                                                      rec.global_image_id)  # fmt: skip
    return _instance_num(name)


def _instance_num(name: Any) -> str:
    text = str(name)
    return text.split(".", 1)[1] if "." in text else text


async def mirror_image_status_list(ioctx: IoCtx) -> list[dict[str, Any]]:
    """Mirror::image_status_list: every mirrored image's global status, by image id;
    `info` has {global_id, state} (as upstream's list)."""
    from pyceph.rbdlib.pool import list_images2

    names = {e["id"]: e["name"] for e in await list_images2(ioctx)}
    out: list[dict[str, Any]] = []
    start = ""
    while True:
        try:
            images, statuses = await cls_client.mirror_image_status_list(
                ioctx, RBD_MIRRORING, start, MIRROR_LIST_PAGE)  # fmt: skip
        except CephError as e:
            if e.errno == errno.ENOENT:
                return out
            raise
        for image_id in sorted(images):
            rec = images[image_id]
            if rec.state == M.MIRROR_IMAGE_STATE_DISABLED:
                continue
            out.append({
                "name": names.get(image_id) or image_id,
                "id": image_id,
                "info": {"global_id": rec.global_image_id, "state": rec.state},
                "site_statuses": _site_statuses(statuses.get(image_id)),
            })  # fmt: skip
        if len(images) < MIRROR_LIST_PAGE:
            return out
        start = max(images)


async def mirror_image_status_summary(ioctx: IoCtx) -> list[tuple[int, int]]:
    """Mirror::image_status_summary: [(MIRROR_IMAGE_STATUS_STATE_*, images)]."""
    peers = await _peers(ioctx)
    try:
        states = await cls_client.mirror_image_status_get_summary(ioctx, RBD_MIRRORING, peers)
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        return []
    return sorted(states.items())


async def mirror_image_instance_id_list(ioctx: IoCtx) -> list[tuple[str, str]]:
    """Mirror::image_instance_id_list: [(image id, rbd-mirror instance id)]."""
    try:
        inst = await cls_client.mirror_image_instance_list(ioctx, RBD_MIRRORING, "",
                                                           MIRROR_LIST_PAGE)  # fmt: skip
    except CephError as e:
        if e.errno == errno.ENOENT:
            return []
        raise
    return [(i, _instance_num(n)) for i, n in sorted(inst.items())]


async def mirror_image_info_list(
    ioctx: IoCtx, mode_filter: int | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """Mirror::image_info_list: [(image id, {mode, global_id, state, primary})], only
    images in `mode_filter`'s mode when given."""
    from pyceph.rbdlib.image import open_image

    out = []
    for image_id in sorted(await _mirror_image_ids(ioctx)):
        try:
            img = await open_image(ioctx, image_id=image_id, read_only=True)
        except CephError as e:
            if e.errno == errno.ENOENT:
                continue
            raise
        try:
            mode = await mirror_image_get_mode(img)
            if mode_filter is not None and mode != mode_filter:
                continue
            info = await mirror_image_get_info(img)
        finally:
            await img.close()
        out.append((image_id, {"mode": mode, **info}))
    return out


__all__ = [
    "mirror_image_create_snapshot",
    "mirror_image_demote",
    "mirror_image_disable",
    "mirror_image_enable",
    "mirror_image_get_info",
    "mirror_image_get_instance_id",
    "mirror_image_get_mode",
    "mirror_image_get_status",
    "mirror_image_info_list",
    "mirror_image_instance_id_list",
    "mirror_image_promote",
    "mirror_image_resync",
    "mirror_image_status_list",
    "mirror_image_status_summary",
    "mirror_mode_get",
    "mirror_mode_set",
    "mirror_peer_add",
    "mirror_peer_bootstrap_create",
    "mirror_peer_bootstrap_import",
    "mirror_peer_get_attributes",
    "mirror_peer_list",
    "mirror_peer_remove",
    "mirror_peer_set_attributes",
    "mirror_peer_set_client",
    "mirror_peer_set_direction",
    "mirror_peer_set_name",
    "mirror_site_name_get",
    "mirror_site_name_set",
    "mirror_uuid_get",
    "snap_get_mirror_namespace",
]
