"""Mirroring records of the ``rbd`` class (upstream cls_rbd_types.h/.cc, 16.2), in upstream's
encoding: shared by the class on the OSD (`pyceph.cls.rbd_mirror`) and the client
(`pyceph.rbdlib.cls_client`), with their constants; `pyceph.cls.rbd_types` re-exports
them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyceph.common.denc import ZERO_UTIME, Decoder, Encoder, Utime

MIRROR_MODE_DISABLED = 0
MIRROR_MODE_IMAGE = 1
MIRROR_MODE_POOL = 2

MIRROR_IMAGE_MODE_JOURNAL = 0
MIRROR_IMAGE_MODE_SNAPSHOT = 1

MIRROR_IMAGE_STATE_DISABLING = 0
MIRROR_IMAGE_STATE_ENABLED = 1
MIRROR_IMAGE_STATE_DISABLED = 2

MIRROR_PEER_DIRECTION_RX = 0
MIRROR_PEER_DIRECTION_TX = 1
MIRROR_PEER_DIRECTION_RX_TX = 2

MIRROR_IMAGE_STATUS_STATE_UNKNOWN = 0
MIRROR_IMAGE_STATUS_STATE_ERROR = 1
MIRROR_IMAGE_STATUS_STATE_SYNCING = 2
MIRROR_IMAGE_STATUS_STATE_STARTING_REPLAY = 3
MIRROR_IMAGE_STATUS_STATE_REPLAYING = 4
MIRROR_IMAGE_STATUS_STATE_STOPPING_REPLAY = 5
MIRROR_IMAGE_STATUS_STATE_STOPPED = 6

#: MirrorImageSiteStatus::LOCAL_MIRROR_UUID: the local site's status has no mirror uuid.
LOCAL_MIRROR_UUID = ""


@dataclass
class MirrorImage:
    """cls::rbd::MirrorImage: ENCODE_START(2, 1) {global_image_id, state u8, mode u8 (v2)}."""

    mode: int = MIRROR_IMAGE_MODE_JOURNAL
    global_image_id: str = ""
    state: int = MIRROR_IMAGE_STATE_DISABLING

    def encode(self, e: Encoder) -> None:
        with e.struct(2, 1):
            e.string(self.global_image_id)
            e.u8(self.state)
            e.u8(self.mode)

    @classmethod
    def decode(cls, d: Decoder) -> MirrorImage:
        with d.struct(1) as v:
            gid, state = d.string(), d.u8()
            mode = d.u8() if v >= 2 else MIRROR_IMAGE_MODE_JOURNAL
        return cls(mode, gid, state)


@dataclass
class MirrorPeer:
    """cls::rbd::MirrorPeer: ENCODE_START(2, 1) {uuid, site_name, client_name, pool_id i64
    (always -1), direction u8 (v2), mirror_uuid (v2), last_seen utime (v2)}."""

    uuid: str = ""
    mirror_peer_direction: int = MIRROR_PEER_DIRECTION_RX
    site_name: str = ""
    client_name: str = ""
    mirror_uuid: str = ""
    last_seen: Utime = ZERO_UTIME

    def is_valid(self) -> bool:
        if self.mirror_peer_direction == MIRROR_PEER_DIRECTION_TX:
            pass
        elif self.mirror_peer_direction in (MIRROR_PEER_DIRECTION_RX, MIRROR_PEER_DIRECTION_RX_TX):
            if not self.client_name:
                return False
        else:
            return False
        return bool(self.uuid) and bool(self.site_name)

    def encode(self, e: Encoder) -> None:
        with e.struct(2, 1):
            e.string(self.uuid)
            e.string(self.site_name)
            e.string(self.client_name)
            e.i64(-1)
            e.u8(self.mirror_peer_direction)
            e.string(self.mirror_uuid)
            e.utime(self.last_seen)

    @classmethod
    def decode(cls, d: Decoder) -> MirrorPeer:
        with d.struct(1) as v:
            p = cls(uuid=d.string(), site_name=d.string(), client_name=d.string())
            d.i64()
            if v >= 2:
                p.mirror_peer_direction = d.u8()
                p.mirror_uuid = d.string()
                p.last_seen = d.utime()
        return p


@dataclass
class MirrorImageSiteStatus:
    """cls::rbd::MirrorImageSiteStatus: ENCODE_START(v, v) with v 1 for the local site
    (no mirror uuid) and 2 otherwise: {[mirror_uuid], state u8, description, last_update
    utime, up bool}."""

    mirror_uuid: str = LOCAL_MIRROR_UUID
    state: int = MIRROR_IMAGE_STATUS_STATE_UNKNOWN
    description: str = ""
    last_update: Utime = ZERO_UTIME
    up: bool = False

    def encode_meta(self, version: int, e: Encoder) -> None:
        if version >= 2:
            e.string(self.mirror_uuid)
        e.u8(self.state)
        e.string(self.description)
        e.utime(self.last_update)
        e.boolean(self.up)

    def decode_meta(self, version: int, d: Decoder) -> None:
        self.mirror_uuid = d.string() if version >= 2 else LOCAL_MIRROR_UUID
        self.state, self.description = d.u8(), d.string()
        self.last_update, self.up = d.utime(), d.boolean()

    def encode(self, e: Encoder) -> None:
        v = 1 if self.mirror_uuid == LOCAL_MIRROR_UUID else 2
        with e.struct(v, v):
            self.encode_meta(v, e)

    @classmethod
    def decode(cls, d: Decoder) -> MirrorImageSiteStatus:
        s = cls()
        with d.struct(2) as v:
            s.decode_meta(v, d)
        return s


@dataclass
class MirrorImageStatus:
    """cls::rbd::MirrorImageStatus: ENCODE_START(2, 1) {local status meta (v1 form), local
    status valid bool, u32 n, each remote status meta (v2 form)}."""

    mirror_image_site_statuses: list[MirrorImageSiteStatus] = field(default_factory=list)

    def encode(self, e: Encoder) -> None:
        local = next(
            (s for s in self.mirror_image_site_statuses if s.mirror_uuid == LOCAL_MIRROR_UUID),
            None,
        )
        remote = [s for s in self.mirror_image_site_statuses if s.mirror_uuid != LOCAL_MIRROR_UUID]
        with e.struct(2, 1):
            (local or MirrorImageSiteStatus()).encode_meta(1, e)
            e.boolean(local is not None)
            e.u32(len(remote))
            for s in remote:
                s.encode_meta(2, e)

    @classmethod
    def decode(cls, d: Decoder) -> MirrorImageStatus:
        st = cls()
        with d.struct(1) as v:
            local = MirrorImageSiteStatus()
            local.decode_meta(1, d)
            valid = True
            if v >= 2:
                valid = d.boolean()
                for _ in range(d.u32()):
                    r = MirrorImageSiteStatus()
                    r.decode_meta(2, d)
                    st.mirror_image_site_statuses.append(r)
            if valid:
                st.mirror_image_site_statuses.insert(0, local)
        return st


@dataclass
class MirrorImageMap:
    """cls::rbd::MirrorImageMap: ENCODE_START(1, 1) {instance_id, mapped_time utime, data}."""

    instance_id: str = ""
    mapped_time: Utime = ZERO_UTIME
    data: bytes = b""

    def encode(self, e: Encoder) -> None:
        with e.struct(1, 1):
            e.string(self.instance_id)
            e.utime(self.mapped_time)
            e.string(self.data)

    @classmethod
    def decode(cls, d: Decoder) -> MirrorImageMap:
        with d.struct(1):
            return cls(d.string(), d.utime(), d.raw_string())
