"""cls ``rbd``: mirroring metadata on the pool's ``rbd_mirroring`` object and mirror-snapshot
records (upstream src/cls/rbd/cls_rbd.cc ``namespace mirror``, 16.2).

Keys: ``mirror_uuid`` (the raw uuid), ``mirror_mode`` (u32), ``mirror_peer_<uuid>`` ->
`MirrorPeer`, ``image_<image id>`` -> `MirrorImage`, ``global_<global id>`` -> image id,
``status_global_<global id>`` (local site) and ``remote_status_global_<global id>_<mirror
uuid>`` -> the site status as stored (origin entity + `MirrorImageSiteStatus`),
``instance_<id>`` -> empty; on ``rbd_mirror_leader``, ``image_map_<global id>`` ->
`MirrorImageMap`.

A site status is "up" while the client that stored it (its origin: entity name and address,
the address compared as upstream's sanitized entity_inst_t) still watches the object, as an
rbd-mirror daemon does.
"""

from __future__ import annotations

import errno
import uuid
from dataclasses import replace

from pyceph.cls.context import PROMOTE, RD, WR, ClsError, MethodContext
from pyceph.cls.rbd import (
    CLASS,
    RBD_MAX_KEYS_READ,
    decode_input,
    enc,
    now_utime,
    read_key,
    read_key_or,
    read_snap,
    remove_key,
    write_key,
    write_snap,
)
from pyceph.cls.rbd_mirror_types import (
    MirrorImage,
    MirrorImageMap,
    MirrorImageSiteStatus,
    MirrorImageStatus,
    MirrorPeer,
)
from pyceph.cls.rbd_types import (
    LOCAL_MIRROR_UUID,
    MIRROR_IMAGE_STATE_DISABLING,
    MIRROR_IMAGE_STATE_ENABLED,
    MIRROR_IMAGE_STATUS_STATE_ERROR,
    MIRROR_IMAGE_STATUS_STATE_UNKNOWN,
    MIRROR_MODE_DISABLED,
    MIRROR_MODE_IMAGE,
    MIRROR_MODE_POOL,
    MIRROR_PEER_DIRECTION_RX,
    MIRROR_PEER_DIRECTION_RX_TX,
    MIRROR_PEER_DIRECTION_TX,
    MIRROR_SNAPSHOT_STATE_NON_PRIMARY,
    MIRROR_SNAPSHOT_STATE_NON_PRIMARY_DEMOTED,
    MirrorSnapshotNamespace,
    dec_bool,
    enc_map,
)
from pyceph.cls.registry import MethodResult, register
from pyceph.common.denc import ADDR_TYPE_ANY, Decoder, DencError, Encoder

UUID_KEY = "mirror_uuid"
MODE_KEY = "mirror_mode"
PEER_KEY_PREFIX = "mirror_peer_"
IMAGE_KEY_PREFIX = "image_"
GLOBAL_KEY_PREFIX = "global_"
STATUS_GLOBAL_KEY_PREFIX = "status_global_"
REMOTE_STATUS_GLOBAL_KEY_PREFIX = "remote_status_global_"
INSTANCE_KEY_PREFIX = "instance_"
IMAGE_MAP_KEY_PREFIX = "image_map_"


def status_global_key(global_id: str, mirror_uuid: str) -> str:
    if mirror_uuid == LOCAL_MIRROR_UUID:
        return STATUS_GLOBAL_KEY_PREFIX + global_id
    return f"{REMOTE_STATUS_GLOBAL_KEY_PREFIX}{global_id}_{mirror_uuid}"


def _scan(ctx: MethodContext, prefix: str, start_key: str | None = None) -> list[tuple[str, bytes]]:
    """Every (key, value) with `prefix` after `start_key`, in key order."""
    out: list[tuple[str, bytes]] = []
    last = prefix if start_key is None else start_key
    more = True
    while more:
        vals, more = ctx.map_get_vals(last, prefix, RBD_MAX_KEYS_READ)
        out.extend(sorted(vals.items()))
        if not vals:
            break
        last = max(vals)
    return out


def _decode(v: bytes, fn, what: str):  # type: ignore[no-untyped-def]
    try:
        return fn(Decoder(v))
    except (DencError, ValueError):
        raise ClsError(errno.EIO, f"could not decode {what}") from None


# -- uuid and mode -------------------------------------------------------------------------------
@register(CLASS, "mirror_uuid_get", RD)
def mirror_uuid_get(ctx: MethodContext, indata: bytes) -> MethodResult:
    raw = ctx.map_get_val(UUID_KEY)
    return enc(lambda e: e.string(raw))


@register(CLASS, "mirror_uuid_set", RD | WR)
def mirror_uuid_set(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: uuid (stored raw). EINVAL when empty or while mirroring is enabled."""
    mirror_uuid = decode_input(indata, lambda d: d.string())
    if not mirror_uuid:
        return -errno.EINVAL
    mode = read_key_or(ctx, MODE_KEY, lambda d: d.u32(), MIRROR_MODE_DISABLED)
    if mode != MIRROR_MODE_DISABLED:
        return -errno.EINVAL
    ctx.map_set_val(UUID_KEY, mirror_uuid.encode())
    return None


@register(CLASS, "mirror_mode_get", RD)
def mirror_mode_get(ctx: MethodContext, indata: bytes) -> MethodResult:
    mode = read_key(ctx, MODE_KEY, lambda d: d.u32())
    return enc(lambda e: e.u32(mode))


@register(CLASS, "mirror_mode_set", RD | WR)
def mirror_mode_set(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: mode u32. Enabling needs the mirror uuid (EINVAL); disabling needs no peers
    (EBUSY) and drops the mode and the uuid."""
    mode = decode_input(indata, lambda d: d.u32())
    if mode in (MIRROR_MODE_IMAGE, MIRROR_MODE_POOL):
        if not ctx.map_get_vals_by_keys([UUID_KEY]):
            return -errno.EINVAL
        write_key(ctx, MODE_KEY, lambda e: e.u32(mode))
        return None
    if mode != MIRROR_MODE_DISABLED:
        return -errno.EINVAL
    if _read_peers(ctx):
        return -errno.EBUSY
    remove_key(ctx, MODE_KEY)
    remove_key(ctx, UUID_KEY)
    return None


# -- peers -----------------------------------------------------------------------------------------
def _read_peers(ctx: MethodContext) -> list[MirrorPeer]:
    return [_decode(v, MirrorPeer.decode, k) for k, v in _scan(ctx, PEER_KEY_PREFIX)]


def _write_peer(ctx: MethodContext, peer: MirrorPeer) -> None:
    write_key(ctx, PEER_KEY_PREFIX + peer.uuid, peer.encode)


def _check_enabled(ctx: MethodContext) -> None:
    mode = read_key_or(ctx, MODE_KEY, lambda d: d.u32(), MIRROR_MODE_DISABLED)
    if mode == MIRROR_MODE_DISABLED:
        raise ClsError(errno.EINVAL, "mirroring must be enabled on the pool")


@register(CLASS, "mirror_peer_list", RD)
def mirror_peer_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Out: vector<MirrorPeer>."""
    peers = _read_peers(ctx)
    return enc(lambda e: (e.u32(len(peers)), [p.encode(e) for p in peers]))


@register(CLASS, "mirror_peer_add", RD | WR)
def mirror_peer_add(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: MirrorPeer. EINVAL (mirroring disabled, invalid peer, the pool's own uuid, a TX-only
    peer), ESTALE for a used uuid, EEXIST for a used site name or mirror uuid."""
    peer = decode_input(indata, MirrorPeer.decode)
    _check_enabled(ctx)
    if not peer.is_valid():
        return -errno.EINVAL
    own = ctx.map_get_val(UUID_KEY).decode("utf-8", "surrogateescape")
    if peer.uuid == own or peer.mirror_peer_direction == MIRROR_PEER_DIRECTION_TX:
        return -errno.EINVAL
    for p in _read_peers(ctx):
        if p.uuid == peer.uuid:
            return -errno.ESTALE
        if p.site_name == peer.site_name:
            return -errno.EEXIST
        if peer.mirror_uuid and p.mirror_uuid == peer.mirror_uuid:
            return -errno.EEXIST
    _write_peer(ctx, peer)
    return None


@register(CLASS, "mirror_peer_remove", RD | WR)
def mirror_peer_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    peer_uuid = decode_input(indata, lambda d: d.string())
    remove_key(ctx, PEER_KEY_PREFIX + peer_uuid)
    return None


@register(CLASS, "mirror_peer_set_client", RD | WR)
def mirror_peer_set_client(ctx: MethodContext, indata: bytes) -> MethodResult:
    peer_uuid, client = decode_input(indata, lambda d: (d.string(), d.string()))
    peer = read_key(ctx, PEER_KEY_PREFIX + peer_uuid, MirrorPeer.decode)
    peer.client_name = client
    _write_peer(ctx, peer)
    return None


@register(CLASS, "mirror_peer_set_cluster", RD | WR)
def mirror_peer_set_cluster(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: uuid, site name. EEXIST when another peer has the name, ENOENT without the peer."""
    peer_uuid, site = decode_input(indata, lambda d: (d.string(), d.string()))
    found = None
    for p in _read_peers(ctx):
        if p.uuid == peer_uuid:
            found = p
        elif p.site_name == site:
            return -errno.EEXIST
    if found is None:
        return -errno.ENOENT
    found.site_name = site
    _write_peer(ctx, found)
    return None


@register(CLASS, "mirror_peer_set_direction", RD | WR)
def mirror_peer_set_direction(ctx: MethodContext, indata: bytes) -> MethodResult:
    peer_uuid, direction = decode_input(indata, lambda d: (d.string(), d.u8()))
    peer = read_key(ctx, PEER_KEY_PREFIX + peer_uuid, MirrorPeer.decode)
    peer.mirror_peer_direction = direction
    _write_peer(ctx, peer)
    return None


@register(CLASS, "mirror_peer_ping", RD | WR)
def mirror_peer_ping(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: site name, mirror uuid, direction u8 (must be TX). Records when a remote site last
    contacted this pool, creating a TX-only peer for an unknown site."""
    site, mirror_uuid, direction = decode_input(indata, lambda d: (d.string(), d.string(), d.u8()))
    if direction != MIRROR_PEER_DIRECTION_TX:
        return -errno.EINVAL
    _check_enabled(ctx)
    if not site or not mirror_uuid:
        return -errno.EINVAL
    peers = _read_peers(ctx)
    by_site = next((p for p in peers if p.site_name == site), None)
    by_uuid = None
    if by_site is None or (by_site.mirror_uuid and by_site.mirror_uuid != mirror_uuid):
        by_uuid = next((p for p in peers if p.mirror_uuid == mirror_uuid), None)
    if by_site is not None and by_uuid is not None:
        peer = by_uuid
    elif by_uuid is not None:
        by_uuid.site_name = site
        peer = by_uuid
    elif by_site is not None:
        by_site.mirror_uuid = mirror_uuid
        peer = by_site
    else:
        while True:
            new_uuid = str(uuid.UUID(bytes=ctx.random_bytes(16), version=4))
            if not ctx.map_get_vals_by_keys([PEER_KEY_PREFIX + new_uuid]):
                break
        peer = MirrorPeer(new_uuid, MIRROR_PEER_DIRECTION_TX, site, "", mirror_uuid)
    if peer.mirror_peer_direction == MIRROR_PEER_DIRECTION_RX:
        peer.mirror_peer_direction = MIRROR_PEER_DIRECTION_RX_TX
    peer.last_seen = now_utime(ctx)
    if not peer.is_valid():
        return -errno.EINVAL
    _write_peer(ctx, peer)
    return None


# -- image records ------------------------------------------------------------------------------
def _image_get(ctx: MethodContext, image_id: str) -> MirrorImage:
    return read_key(ctx, IMAGE_KEY_PREFIX + image_id, MirrorImage.decode)


@register(CLASS, "mirror_image_list", RD)
def mirror_image_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: start_after, max_return. Out: map<image id, global image id>."""
    start, max_return = decode_input(indata, lambda d: (d.string(), d.u64()))
    out: dict[str, str] = {}
    last = IMAGE_KEY_PREFIX + start
    more = True
    while more and len(out) < max_return:
        vals, more = ctx.map_get_vals(last, IMAGE_KEY_PREFIX, RBD_MAX_KEYS_READ)
        for k in sorted(vals):
            out[k[len(IMAGE_KEY_PREFIX) :]] = _decode(
                vals[k], MirrorImage.decode, k
            ).global_image_id
            if len(out) >= max_return:
                break
        if not vals:
            break
        last = max(vals)
    return enc(lambda e: enc_map(e, out, e.string, e.string, key=str.encode))


@register(CLASS, "mirror_image_get_image_id", RD)
def mirror_image_get_image_id(ctx: MethodContext, indata: bytes) -> MethodResult:
    global_id = decode_input(indata, lambda d: d.string())
    image_id = read_key(ctx, GLOBAL_KEY_PREFIX + global_id, lambda d: d.string())
    return enc(lambda e: e.string(image_id))


@register(CLASS, "mirror_image_get", RD)
def mirror_image_get(ctx: MethodContext, indata: bytes) -> MethodResult:
    image_id = decode_input(indata, lambda d: d.string())
    return enc(_image_get(ctx, image_id).encode)


@register(CLASS, "mirror_image_set", RD | WR)
def mirror_image_set(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: image id, MirrorImage. A new record: EEXIST when its global id is bound, ENOENT
    when it is DISABLING; an existing one cannot change its global id (EINVAL)."""
    image_id, img = decode_input(indata, lambda d: (d.string(), MirrorImage.decode(d)))
    existing = read_key_or(ctx, IMAGE_KEY_PREFIX + image_id, MirrorImage.decode, None)
    if existing is None:
        if ctx.map_get_vals_by_keys([GLOBAL_KEY_PREFIX + img.global_image_id]):
            return -errno.EEXIST
        if img.state == MIRROR_IMAGE_STATE_DISABLING:
            return -errno.ENOENT
    elif existing.global_image_id != img.global_image_id:
        return -errno.EINVAL
    write_key(ctx, IMAGE_KEY_PREFIX + image_id, img.encode)
    write_key(ctx, GLOBAL_KEY_PREFIX + img.global_image_id, lambda e: e.string(image_id))
    return None


def _remote_status_uuids(ctx: MethodContext, global_id: str) -> list[str]:
    prefix = f"{REMOTE_STATUS_GLOBAL_KEY_PREFIX}{global_id}_"
    return [k[len(prefix) :] for k, _ in _scan(ctx, prefix)]


def _status_remove(ctx: MethodContext, global_id: str) -> None:
    for mirror_uuid in [*_remote_status_uuids(ctx, global_id), LOCAL_MIRROR_UUID]:
        remove_key(ctx, status_global_key(global_id, mirror_uuid))


@register(CLASS, "mirror_image_remove", RD | WR)
def mirror_image_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: image id. EBUSY unless the record is DISABLING; its statuses go with it."""
    image_id = decode_input(indata, lambda d: d.string())
    img = _image_get(ctx, image_id)
    if img.state != MIRROR_IMAGE_STATE_DISABLING:
        return -errno.EBUSY
    ctx.map_remove_key(IMAGE_KEY_PREFIX + image_id)
    remove_key(ctx, GLOBAL_KEY_PREFIX + img.global_image_id)
    _status_remove(ctx, img.global_image_id)
    return None


# -- site statuses ---------------------------------------------------------------------------------
def _encode_ondisk_status(ctx: MethodContext, st: MirrorImageSiteStatus) -> bytes:
    """MirrorImageSiteStatusOnDisk: ENCODE_START(1, 1){origin entity_inst_t (address type
    ANY)}, then the MirrorImageSiteStatus."""
    e = Encoder()
    with e.struct(1, 1):
        e.entity_name(ctx.origin.name)
        e.entity_addr(ctx.origin.addr, ADDR_TYPE_ANY)
    st.encode(e)
    return bytes(e)


Inst = tuple[str, str]  #: entity_inst_t: (entity name, legacy address string)


def _decode_origin(d: Decoder) -> Inst:
    """MirrorImageSiteStatusOnDisk::decode_meta: the origin entity_inst_t."""
    with d.struct(1):
        return d.entity_name(), d.entity_addr()


def _decode_ondisk_status(d: Decoder) -> tuple[Inst, MirrorImageSiteStatus]:
    origin = _decode_origin(d)
    return origin, MirrorImageSiteStatus.decode(d)


def _inst(name: str, addr: str) -> Inst:
    """An entity as upstream compares it: the address through its (ANY-typed) encoding."""
    e = Encoder()
    e.entity_name(name)
    e.entity_addr(addr, ADDR_TYPE_ANY)
    d = Decoder(bytes(e))
    return d.entity_name(), d.entity_addr()


def _watchers(ctx: MethodContext) -> set[Inst]:
    """mirror::list_watchers: the object's watchers, sanitized."""
    return {_inst(n, a) for n, a in ctx.list_watchers()}


def _status_get(ctx: MethodContext, global_id: str, watchers: set[Inst]) -> MirrorImageStatus:
    """image_status_get: every site's status, up while its origin watches; ENOENT when no
    site has one."""
    st = MirrorImageStatus()
    local = ctx.map_get_vals_by_keys([STATUS_GLOBAL_KEY_PREFIX + global_id])
    for k, v in local.items():
        origin, s = _decode(v, _decode_ondisk_status, k)
        s.mirror_uuid, s.up = LOCAL_MIRROR_UUID, origin in watchers
        st.mirror_image_site_statuses.append(s)
    prefix = f"{REMOTE_STATUS_GLOBAL_KEY_PREFIX}{global_id}_"
    for k, v in _scan(ctx, prefix):
        origin, s = _decode(v, _decode_ondisk_status, k)
        s.mirror_uuid, s.up = k[len(prefix) :], origin in watchers
        st.mirror_image_site_statuses.append(s)
    if not st.mirror_image_site_statuses:
        raise ClsError(errno.ENOENT, "no status")
    return st


@register(CLASS, "mirror_image_status_set", RD | WR | PROMOTE)
def mirror_image_status_set(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: global id, MirrorImageSiteStatus; kept only for an enabled mirrored image."""
    global_id, st = decode_input(indata, lambda d: (d.string(), MirrorImageSiteStatus.decode(d)))
    image_id = read_key_or(ctx, GLOBAL_KEY_PREFIX + global_id, lambda d: d.string(), None)
    if image_id is None:
        return None
    img = read_key_or(ctx, IMAGE_KEY_PREFIX + image_id, MirrorImage.decode, None)
    if img is None or img.state != MIRROR_IMAGE_STATE_ENABLED:
        return None
    key = status_global_key(global_id, st.mirror_uuid)
    ondisk = MirrorImageSiteStatus(LOCAL_MIRROR_UUID, st.state, st.description, now_utime(ctx))
    ctx.map_set_val(key, _encode_ondisk_status(ctx, ondisk))
    return None


@register(CLASS, "mirror_image_status_remove", RD | WR)
def mirror_image_status_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    global_id = decode_input(indata, lambda d: d.string())
    _status_remove(ctx, global_id)
    return None


@register(CLASS, "mirror_image_status_get", RD)
def mirror_image_status_get(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: global id. Out: MirrorImageStatus (ENOENT when no site reported one)."""
    global_id = decode_input(indata, lambda d: d.string())
    return enc(_status_get(ctx, global_id, _watchers(ctx)).encode)


@register(CLASS, "mirror_image_status_list", RD)
def mirror_image_status_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: start_after, max_return. Out: map<image id, MirrorImage>, map<image id,
    MirrorImageStatus> (images without a status are left out of the second)."""
    start, max_return = decode_input(indata, lambda d: (d.string(), d.u64()))
    images: dict[str, MirrorImage] = {}
    statuses: dict[str, MirrorImageStatus] = {}
    watchers = _watchers(ctx)
    for k, v in _scan(ctx, IMAGE_KEY_PREFIX, IMAGE_KEY_PREFIX + start):
        if len(images) >= max_return:
            break
        image_id = k[len(IMAGE_KEY_PREFIX) :]
        img = _decode(v, MirrorImage.decode, k)
        images[image_id] = img
        try:
            statuses[image_id] = _status_get(ctx, img.global_image_id, watchers)
        except ClsError as e:
            if e.errno != errno.ENOENT:
                raise

    def b(e: Encoder) -> None:
        enc_map(e, images, e.string, lambda m: m.encode(e), key=str.encode)
        enc_map(e, statuses, e.string, lambda s: s.encode(e), key=str.encode)

    return enc(b)


def _summary_state(direction: int, tx_uuids: set[str], st: MirrorImageStatus) -> int:
    """compute_image_status_summary_state."""
    local = next(
        (s for s in st.mirror_image_site_statuses if s.mirror_uuid == LOCAL_MIRROR_UUID),
        MirrorImageSiteStatus(),
    )
    state: int | None = None
    unmatched = 0
    if direction in (MIRROR_PEER_DIRECTION_RX, MIRROR_PEER_DIRECTION_RX_TX) and local.up:
        state = local.state
    if direction in (MIRROR_PEER_DIRECTION_TX, MIRROR_PEER_DIRECTION_RX_TX):
        unmatched = len(tx_uuids)
        for r in st.mirror_image_site_statuses:
            if r.mirror_uuid == LOCAL_MIRROR_UUID:
                continue
            if unmatched > 0 and r.mirror_uuid in tx_uuids:
                unmatched -= 1
            remote_state = r.state if r.up else MIRROR_IMAGE_STATUS_STATE_UNKNOWN
            if r.state == MIRROR_IMAGE_STATUS_STATE_ERROR:
                state = r.state
            elif state is None:
                state = remote_state
            elif state != MIRROR_IMAGE_STATUS_STATE_ERROR:
                state = min(state, remote_state)
    if state is None or unmatched > 0:
        state = MIRROR_IMAGE_STATUS_STATE_UNKNOWN
    return state


@register(CLASS, "mirror_image_status_get_summary", RD)
def mirror_image_status_get_summary(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: [vector<MirrorPeer>]. Out: map<state u8, i32 count> over the mirrored images."""

    def dec(d: Decoder) -> list[MirrorPeer]:
        if d.pos >= len(d.buf):
            return []
        return d.seq(lambda: MirrorPeer.decode(d))

    peers = decode_input(indata, dec)
    direction = peers[0].mirror_peer_direction if peers else MIRROR_PEER_DIRECTION_RX
    tx_uuids: set[str] = set()
    for p in peers:
        if p.mirror_peer_direction == MIRROR_PEER_DIRECTION_RX:
            continue
        tx_uuids.add(p.mirror_uuid)
        if direction != MIRROR_PEER_DIRECTION_RX_TX and direction != p.mirror_peer_direction:
            direction = MIRROR_PEER_DIRECTION_RX_TX
    states: dict[int, int] = {}
    watchers = _watchers(ctx)
    for k, v in _scan(ctx, IMAGE_KEY_PREFIX):
        img = _decode(v, MirrorImage.decode, k)
        try:
            st = _status_get(ctx, img.global_image_id, watchers)
        except ClsError as e:
            if e.errno != errno.ENOENT:
                raise
            st = MirrorImageStatus()
        s = _summary_state(direction, tx_uuids, st)
        states[s] = states.get(s, 0) + 1
    return enc(lambda e: enc_map(e, states, e.u8, lambda n: e.u32(n & 0xFFFFFFFF)))


@register(CLASS, "mirror_image_status_remove_down", RD | WR)
def mirror_image_status_remove_down(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Drop the statuses whose origin no longer watches the object."""
    watchers = _watchers(ctx)
    stale = [
        k
        for prefix in (STATUS_GLOBAL_KEY_PREFIX, REMOTE_STATUS_GLOBAL_KEY_PREFIX)
        for k, v in _scan(ctx, prefix)
        if _decode(v, _decode_origin, k) not in watchers
    ]
    if stale:
        ctx.map_remove_keys(stale)
    return None


def _instance(ctx: MethodContext, global_id: str, watchers: set[Inst]) -> Inst:
    """image_instance_get: the live origin of the local status (ENOENT, ESTALE)."""
    key = STATUS_GLOBAL_KEY_PREFIX + global_id
    origin = _decode(ctx.map_get_val(key), _decode_origin, key)
    if origin not in watchers:
        raise ClsError(errno.ESTALE, "the instance no longer watches")
    return origin


def _encode_inst(e: Encoder, inst: Inst) -> None:
    e.entity_name(inst[0])
    e.entity_addr(inst[1], ADDR_TYPE_ANY)


@register(CLASS, "mirror_image_instance_get", RD)
def mirror_image_instance_get(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: global id. Out: entity_inst_t of the rbd-mirror instance replaying the image."""
    global_id = decode_input(indata, lambda d: d.string())
    inst = _instance(ctx, global_id, _watchers(ctx))
    return enc(lambda e: _encode_inst(e, inst))


@register(CLASS, "mirror_image_instance_list", RD)
def mirror_image_instance_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: start_after, max_return. Out: map<image id, entity_inst_t> of the images whose
    local status has a live origin."""
    start, max_return = decode_input(indata, lambda d: (d.string(), d.u64()))
    watchers = _watchers(ctx)
    out: dict[str, Inst] = {}
    for k, v in _scan(ctx, IMAGE_KEY_PREFIX, IMAGE_KEY_PREFIX + start):
        if len(out) >= max_return:
            break
        img = _decode(v, MirrorImage.decode, k)
        try:
            out[k[len(IMAGE_KEY_PREFIX) :]] = _instance(ctx, img.global_image_id, watchers)
        except ClsError:
            continue
    return enc(lambda e: enc_map(e, out, e.string, lambda i: _encode_inst(e, i), key=str.encode))


# -- rbd-mirror instances and the image map ----------------------------------------------------------
@register(CLASS, "mirror_instances_list", RD)
def mirror_instances_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    ids = [k[len(INSTANCE_KEY_PREFIX) :] for k, _ in _scan(ctx, INSTANCE_KEY_PREFIX)]
    return enc(lambda e: e.seq(ids, e.string))


@register(CLASS, "mirror_instances_add", RD | WR | PROMOTE)
def mirror_instances_add(ctx: MethodContext, indata: bytes) -> MethodResult:
    instance_id = decode_input(indata, lambda d: d.string())
    ctx.map_set_val(INSTANCE_KEY_PREFIX + instance_id, b"")
    return None


@register(CLASS, "mirror_instances_remove", RD | WR)
def mirror_instances_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    instance_id = decode_input(indata, lambda d: d.string())
    ctx.map_remove_key(INSTANCE_KEY_PREFIX + instance_id)
    return None


@register(CLASS, "mirror_image_map_list", RD)
def mirror_image_map_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Out: map<global image id, MirrorImageMap>."""
    start, max_return = decode_input(indata, lambda d: (d.string(), d.u64()))
    out: dict[str, MirrorImageMap] = {}
    for k, v in _scan(ctx, IMAGE_MAP_KEY_PREFIX, IMAGE_MAP_KEY_PREFIX + start):
        if len(out) >= max_return:
            break
        try:
            out[k[len(IMAGE_MAP_KEY_PREFIX) :]] = MirrorImageMap.decode(Decoder(v))
        except (DencError, ValueError):
            return -errno.EINVAL
    return enc(lambda e: enc_map(e, out, e.string, lambda m: m.encode(e), key=str.encode))


@register(CLASS, "mirror_image_map_update", WR)
def mirror_image_map_update(ctx: MethodContext, indata: bytes) -> MethodResult:
    global_id, image_map = decode_input(indata, lambda d: (d.string(), MirrorImageMap.decode(d)))
    write_key(ctx, IMAGE_MAP_KEY_PREFIX + global_id, image_map.encode)
    return None


@register(CLASS, "mirror_image_map_remove", WR)
def mirror_image_map_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    global_id = decode_input(indata, lambda d: d.string())
    try:
        ctx.map_remove_key(IMAGE_MAP_KEY_PREFIX + global_id)
    except ClsError as e:
        if e.errno != errno.ENOENT:
            raise
    return None


# -- mirror snapshots (image headers) -----------------------------------------------------------------
def _mirror_snap(ctx: MethodContext, snap_id: int):  # type: ignore[no-untyped-def]
    snap = read_snap(ctx, snap_id)
    if not isinstance(snap.snapshot_namespace, MirrorSnapshotNamespace):
        raise ClsError(errno.EINVAL, "not a mirroring snapshot")
    return snap


@register(CLASS, "mirror_image_snapshot_unlink_peer", RD | WR)
def mirror_image_snapshot_unlink_peer(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: snap id, peer uuid. EINVAL for a non-mirror snapshot, ENOENT for an unlinked peer."""
    snap_id, peer_uuid = decode_input(indata, lambda d: (d.u64(), d.string()))
    snap = _mirror_snap(ctx, snap_id)
    ns = snap.snapshot_namespace
    if peer_uuid not in ns.mirror_peer_uuids:
        return -errno.ENOENT
    snap.snapshot_namespace = _replace_ns(ns, mirror_peer_uuids=ns.mirror_peer_uuids - {peer_uuid})
    write_snap(ctx, snap)
    return None


@register(CLASS, "mirror_image_snapshot_set_copy_progress", RD | WR)
def mirror_image_snapshot_set_copy_progress(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: snap id, complete bool, last copied object number u64 (kept for non-primary)."""
    snap_id, complete, last = decode_input(indata, lambda d: (d.u64(), dec_bool(d), d.u64()))
    snap = _mirror_snap(ctx, snap_id)
    ns = snap.snapshot_namespace
    changes: dict[str, object] = {"complete": complete}
    if ns.state in (MIRROR_SNAPSHOT_STATE_NON_PRIMARY, MIRROR_SNAPSHOT_STATE_NON_PRIMARY_DEMOTED):
        changes["last_copied_object_number"] = last
    snap.snapshot_namespace = _replace_ns(ns, **changes)
    write_snap(ctx, snap)
    return None


def _replace_ns(ns: MirrorSnapshotNamespace, **changes: object) -> MirrorSnapshotNamespace:
    return replace(ns, **changes)  # type: ignore[arg-type]
