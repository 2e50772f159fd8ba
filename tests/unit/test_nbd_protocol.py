"""The sans-I/O NBD server state machine: handshake, option haggling, requests, bounds."""

from __future__ import annotations

import struct

import pytest

from pyceph.nbd import constants as c
from pyceph.nbd.protocol import (
    NEED_DATA,
    PAUSED,
    Command,
    Disconnect,
    Export,
    ServerConnection,
    Transmission,
)

SIZE = 1 << 20


class Catalog:
    def __init__(self, *exports: Export, default: str | None = None) -> None:
        self.by_name = {e.name: e for e in exports}
        self.default = default

    def lookup(self, name: str) -> Export | None:
        if name == "" and self.default is not None:
            name = self.default
        return self.by_name.get(name)

    def exports(self) -> list[Export]:
        return list(self.by_name.values())


def catalog() -> Catalog:
    return Catalog(
        Export("disk", SIZE, description="a disk"),
        Export("snap", SIZE, read_only=True),
        default="disk",
    )


def out(conn: ServerConnection) -> bytes:
    return b"".join(bytes(b) for b in conn.data_to_send())


def option(opt: int, data: bytes = b"") -> bytes:
    return struct.pack(">QII", c.IHAVEOPT, opt, len(data)) + data


def info_data(name: str, *requests: int) -> bytes:
    raw = name.encode()
    return (
        struct.pack(">I", len(raw))
        + raw
        + struct.pack(">H", len(requests))
        + struct.pack(f">{len(requests)}H", *requests)
    )


def request(kind: int, offset: int = 0, length: int = 0, cookie: int = 7, flags: int = 0) -> bytes:
    return struct.pack(">IHHQQI", c.REQUEST_MAGIC, flags, kind, cookie, offset, length)


def parse_option_replies(data: bytes) -> list[tuple[int, int, bytes]]:
    replies = []
    pos = 0
    while pos < len(data):
        magic, opt, kind, length = struct.unpack_from(">QIII", data, pos)
        assert magic == c.OPTION_REPLY_MAGIC
        pos += 20
        replies.append((opt, kind, data[pos : pos + length]))
        pos += length
    return replies


def simple_reply(data: bytes) -> tuple[int, int, bytes]:
    magic, error, cookie = struct.unpack_from(">IIQ", data)
    assert magic == c.SIMPLE_REPLY_MAGIC
    return error, cookie, data[16:]


def events(conn: ServerConnection) -> list[object]:
    got = []
    while (ev := conn.next_event()) not in (NEED_DATA, PAUSED):
        got.append(ev)
        if isinstance(ev, Disconnect):
            break
    return got


def negotiated(name: str = "disk", flags: int = c.FLAG_C_FIXED_NEWSTYLE) -> ServerConnection:
    """A connection in the transmission phase (NBD_OPT_GO)."""
    conn = ServerConnection(catalog())
    out(conn)
    conn.receive_data(struct.pack(">I", flags) + option(c.OPT_GO, info_data(name)))
    (ev,) = events(conn)
    assert isinstance(ev, Transmission)
    out(conn)
    return conn


# --- handshake --------------------------------------------------------------------------------


def test_greeting_is_fixed_newstyle_with_no_zeroes():
    conn = ServerConnection(catalog())
    magic, opt_magic, flags = struct.unpack(">QQH", out(conn))
    assert (magic, opt_magic) == (c.NBDMAGIC, c.IHAVEOPT)
    assert flags == c.FLAG_FIXED_NEWSTYLE | c.FLAG_NO_ZEROES
    assert conn.next_event() is NEED_DATA


def test_unknown_client_flags_end_the_session():
    conn = ServerConnection(catalog())
    conn.receive_data(struct.pack(">I", 1 << 5))
    (ev,) = events(conn)
    assert isinstance(ev, Disconnect) and not ev.clean
    assert "client flags" in ev.reason


def test_bytes_may_arrive_one_at_a_time():
    conn = ServerConnection(catalog())
    out(conn)
    data = struct.pack(">I", c.FLAG_C_FIXED_NEWSTYLE) + option(c.OPT_GO, info_data("disk"))
    for i in range(len(data) - 1):
        conn.receive_data(data[i : i + 1])
        assert conn.next_event() is NEED_DATA
    conn.receive_data(data[-1:])
    assert isinstance(conn.next_event(), Transmission)


def test_export_name_replies_size_flags_and_zeroes():
    conn = ServerConnection(catalog())
    out(conn)
    conn.receive_data(
        struct.pack(">I", c.FLAG_C_FIXED_NEWSTYLE) + option(c.OPT_EXPORT_NAME, b"snap")
    )
    (ev,) = events(conn)
    assert isinstance(ev, Transmission) and ev.export.name == "snap"
    data = out(conn)
    assert len(data) == 10 + c.EXPORT_NAME_PADDING
    size, flags = struct.unpack_from(">QH", data)
    assert size == SIZE
    assert flags & c.FLAG_READ_ONLY and flags & c.FLAG_HAS_FLAGS
    assert not flags & c.FLAG_SEND_TRIM
    assert data[10:] == bytes(c.EXPORT_NAME_PADDING)


def test_export_name_without_zeroes_when_client_asks():
    conn = ServerConnection(catalog())
    out(conn)
    flags = c.FLAG_C_FIXED_NEWSTYLE | c.FLAG_C_NO_ZEROES
    conn.receive_data(struct.pack(">I", flags) + option(c.OPT_EXPORT_NAME, b""))
    (ev,) = events(conn)
    assert ev.export.name == "disk"  # "" is the default export
    assert len(out(conn)) == 10


def test_export_name_of_unknown_export_ends_the_session():
    conn = ServerConnection(catalog())
    out(conn)
    conn.receive_data(struct.pack(">I", 1) + option(c.OPT_EXPORT_NAME, b"nope"))
    (ev,) = events(conn)
    assert isinstance(ev, Disconnect) and not ev.clean
    assert out(conn) == b""


# --- option haggling --------------------------------------------------------------------------


def haggle(*options: bytes) -> tuple[ServerConnection, list[object], list]:
    conn = ServerConnection(catalog())
    out(conn)
    conn.receive_data(struct.pack(">I", c.FLAG_C_FIXED_NEWSTYLE) + b"".join(options))
    evs = events(conn)
    return conn, evs, parse_option_replies(out(conn))


def test_list_names_every_export():
    _, evs, replies = haggle(option(c.OPT_LIST))
    assert evs == []
    names = [r[2][4:].decode() for r in replies if r[1] == c.REP_SERVER]
    assert names == ["disk", "snap"]
    assert replies[-1][:2] == (c.OPT_LIST, c.REP_ACK)


def test_list_with_data_is_invalid():
    _, _, replies = haggle(option(c.OPT_LIST, b"x"))
    assert [r[1] for r in replies] == [c.REP_ERR_INVALID]


def test_info_gives_export_name_description_block_size_then_ack():
    _, evs, replies = haggle(
        option(c.OPT_INFO, info_data("disk", c.INFO_NAME, c.INFO_DESCRIPTION, c.INFO_BLOCK_SIZE))
    )
    assert evs == []  # INFO does not enter transmission
    infos = {struct.unpack_from(">H", r[2])[0]: r[2][2:] for r in replies if r[1] == c.REP_INFO}
    assert struct.unpack(">QH", infos[c.INFO_EXPORT])[0] == SIZE
    assert infos[c.INFO_NAME] == b"disk"
    assert infos[c.INFO_DESCRIPTION] == b"a disk"
    assert struct.unpack(">III", infos[c.INFO_BLOCK_SIZE]) == (
        c.DEFAULT_MIN_BLOCK,
        c.DEFAULT_PREFERRED_BLOCK,
        c.MAX_REQUEST_SIZE,
    )
    assert replies[-1][1] == c.REP_ACK


def test_info_then_go():
    _, evs, replies = haggle(
        option(c.OPT_INFO, info_data("snap")), option(c.OPT_GO, info_data("snap"))
    )
    assert len(evs) == 1 and isinstance(evs[0], Transmission)
    assert evs[0].export.read_only
    assert [r[1] for r in replies].count(c.REP_ACK) == 2


def test_go_to_unknown_export_is_an_error_and_haggling_goes_on():
    _, evs, replies = haggle(
        option(c.OPT_GO, info_data("missing")), option(c.OPT_GO, info_data("disk"))
    )
    assert replies[0][1] == c.REP_ERR_UNKNOWN
    assert b"missing" in replies[0][2]
    assert isinstance(evs[0], Transmission)


@pytest.mark.parametrize(
    "data",
    [
        b"",  # shorter than 6 bytes
        struct.pack(">I", 100) + b"disk" + b"\0\0",  # name overruns
        struct.pack(">I", 4) + b"disk" + struct.pack(">H", 2) + b"\0\0",  # count mismatch
        struct.pack(">I", 2) + b"\xff\xfe" + b"\0\0",  # not UTF-8
    ],
)
def test_malformed_info_request_is_invalid(data):
    _, evs, replies = haggle(option(c.OPT_GO, data))
    assert evs == []
    assert [r[1] for r in replies] == [c.REP_ERR_INVALID]


@pytest.mark.parametrize(
    "opt",
    [c.OPT_STARTTLS, 4, 11, 4242],
)
def test_unsupported_options_are_refused_and_parsing_continues(opt):
    _, evs, replies = haggle(option(opt, b"some data"), option(c.OPT_LIST))
    assert replies[0][:2] == (opt, c.REP_ERR_UNSUP)
    assert replies[-1][1] == c.REP_ACK
    assert evs == []


def test_abort_is_acknowledged_and_ends_cleanly():
    _, evs, replies = haggle(option(c.OPT_ABORT))
    assert replies == [(c.OPT_ABORT, c.REP_ACK, b"")]
    assert isinstance(evs[0], Disconnect) and evs[0].clean


def test_bad_option_magic_ends_the_session():
    _, evs, _ = haggle(struct.pack(">QII", 0x1234, c.OPT_LIST, 0))
    assert isinstance(evs[0], Disconnect) and not evs[0].clean


def test_oversized_option_ends_the_session_without_waiting_for_it():
    conn = ServerConnection(catalog())
    out(conn)
    conn.receive_data(
        struct.pack(">I", 1) + struct.pack(">QII", c.IHAVEOPT, c.OPT_GO, c.MAX_OPTION_SIZE + 1)
    )
    (ev,) = events(conn)
    assert isinstance(ev, Disconnect) and "over" in ev.reason


def test_too_many_options_end_the_session():
    _, evs, replies = haggle(*[option(c.OPT_LIST)] * (c.MAX_OPTIONS + 1))
    assert isinstance(evs[-1], Disconnect)
    assert sum(1 for r in replies if r[1] == c.REP_ACK) == c.MAX_OPTIONS


def test_eof_during_haggling():
    conn = ServerConnection(catalog())
    out(conn)
    conn.receive_data(struct.pack(">I", 1) + option(c.OPT_LIST)[:5])
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"")
    ev = conn.next_event()
    assert isinstance(ev, Disconnect) and "middle" in ev.reason


# --- transmission -------------------------------------------------------------------------------


def test_read_command_and_reply():
    conn = negotiated()
    conn.receive_data(request(c.CMD_READ, 4096, 512, cookie=99))
    (cmd,) = events(conn)
    assert cmd == Command(99, c.CMD_READ, 0, 4096, 512)
    assert conn.in_flight == 1 and conn.in_flight_bytes == 512
    conn.reply(cmd, 0, b"x" * 512)
    assert simple_reply(out(conn)) == (0, 99, b"x" * 512)
    assert conn.in_flight == 0 and conn.in_flight_bytes == 0
    assert conn.completed == {"read": 1}


def test_short_read_data_becomes_eio_without_payload():
    conn = negotiated()
    conn.receive_data(request(c.CMD_READ, 0, 512))
    (cmd,) = events(conn)
    conn.reply(cmd, 0, b"x" * 100)
    assert simple_reply(out(conn)) == (c.NBD_EIO, 7, b"")


def test_write_payload_is_collected_across_chunks():
    conn = negotiated()
    data = bytes(range(256)) * 16
    raw = request(c.CMD_WRITE, 512, len(data), flags=c.CMD_FLAG_FUA) + data
    conn.receive_data(raw[:100])
    assert conn.next_event() is NEED_DATA
    conn.receive_data(raw[100:])
    (cmd,) = events(conn)
    assert cmd.data == data and cmd.fua and cmd.offset == 512
    conn.reply(cmd)
    assert simple_reply(out(conn)) == (0, 7, b"")


def test_error_reply_carries_no_data():
    conn = negotiated()
    conn.receive_data(request(c.CMD_READ, 0, 512))
    (cmd,) = events(conn)
    conn.reply(cmd, c.NBD_EIO, b"x" * 512)
    assert simple_reply(out(conn)) == (c.NBD_EIO, 7, b"")


def test_many_requests_in_one_chunk():
    conn = negotiated()
    conn.receive_data(b"".join(request(c.CMD_READ, i * 512, 512, cookie=i) for i in range(10)))
    cmds = events(conn)
    assert [cmd.cookie for cmd in cmds] == list(range(10))
    for cmd in reversed(cmds):  # answered in any order
        conn.reply(cmd, 0, bytes(512))
    replies = out(conn)
    assert len(replies) == 10 * (16 + 512)


@pytest.mark.parametrize(
    ("req", "error"),
    [
        (request(c.CMD_READ, SIZE - 512, 1024), c.NBD_EINVAL),  # past the end
        (request(c.CMD_TRIM, SIZE, 512), c.NBD_EINVAL),
        (request(c.CMD_WRITE_ZEROES, SIZE - 1, 2), c.NBD_ENOSPC),
        (request(c.CMD_READ, 0, c.MAX_REQUEST_SIZE + 1), c.NBD_EINVAL),  # over max payload
        (request(c.CMD_FLUSH, 0, 512), c.NBD_EINVAL),  # flush takes no range
        (request(c.CMD_READ, 0, 512, flags=c.CMD_FLAG_NO_HOLE), c.NBD_EINVAL),  # wrong flag
        (request(c.CMD_WRITE_ZEROES, 0, 512, flags=c.CMD_FLAG_FAST_ZERO), c.NBD_EINVAL),
        (request(c.CMD_READ, 0, 512, flags=c.CMD_FLAG_DF), c.NBD_EINVAL),
        (request(c.CMD_BLOCK_STATUS, 0, 512), c.NBD_EINVAL),  # not negotiated
        (request(c.CMD_CACHE, 0, 512), c.NBD_EINVAL),
        (request(77, 0, 512), c.NBD_EINVAL),  # unknown command
    ],
)
def test_bad_requests_are_answered_by_the_machine(req, error):
    conn = negotiated()
    conn.receive_data(req + request(c.CMD_READ, 0, 512, cookie=8))
    (cmd,) = events(conn)  # the bad one never reaches the caller; the next one does
    assert cmd.cookie == 8
    assert simple_reply(out(conn)) == (error, 7, b"")
    assert conn.in_flight == 1


def test_write_past_the_end_is_enospc_and_its_payload_is_skipped():
    conn = negotiated()
    conn.receive_data(request(c.CMD_WRITE, SIZE - 512, 1024) + b"z" * 1024)
    conn.receive_data(request(c.CMD_READ, 0, 512, cookie=8))
    (cmd,) = events(conn)
    assert cmd.cookie == 8
    assert simple_reply(out(conn))[0] == c.NBD_ENOSPC


@pytest.mark.parametrize("kind", [c.CMD_WRITE, c.CMD_TRIM, c.CMD_WRITE_ZEROES])
def test_read_only_export_refuses_writes_with_eperm(kind):
    conn = negotiated("snap")
    payload = b"a" * 512 if kind == c.CMD_WRITE else b""
    conn.receive_data(request(kind, 0, 512) + payload + request(c.CMD_FLUSH, cookie=9))
    (cmd,) = events(conn)
    assert cmd.kind == c.CMD_FLUSH  # flush is fine on a read-only export
    assert simple_reply(out(conn)) == (c.NBD_EPERM, 7, b"")


def test_zero_length_requests_succeed_without_running():
    conn = negotiated()
    conn.receive_data(request(c.CMD_READ, 0, 0) + request(c.CMD_WRITE, 0, 0))
    assert events(conn) == []
    data = out(conn)
    assert simple_reply(data[:16]) == (0, 7, b"")
    assert simple_reply(data[16:]) == (0, 7, b"")


def test_alignment_follows_the_advertised_minimum_block():
    conn = ServerConnection(Catalog(Export("d", SIZE, min_block=512)))
    out(conn)
    conn.receive_data(struct.pack(">I", 1) + option(c.OPT_GO, info_data("d")))
    events(conn)
    out(conn)
    conn.receive_data(request(c.CMD_READ, 1, 512) + request(c.CMD_READ, 0, 100))
    assert events(conn) == []
    data = out(conn)
    assert simple_reply(data[:16])[0] == simple_reply(data[16:])[0] == c.NBD_EINVAL


def test_write_over_the_bound_ends_the_session():
    conn = negotiated()
    conn.receive_data(request(c.CMD_WRITE, 0, c.MAX_REQUEST_SIZE + 1))
    (ev,) = events(conn)
    assert isinstance(ev, Disconnect) and not ev.clean


def test_bad_request_magic_ends_the_session_and_drops_replies():
    conn = negotiated()
    conn.receive_data(request(c.CMD_READ, 0, 512))
    (cmd,) = events(conn)
    conn.receive_data(b"\0" * 28)
    (ev,) = events(conn)
    assert isinstance(ev, Disconnect) and not ev.clean
    conn.reply(cmd, 0, bytes(512))
    assert out(conn) == b""
    assert conn.in_flight == 0


def test_disc_ends_cleanly_and_in_flight_replies_still_go_out():
    conn = negotiated()
    conn.receive_data(request(c.CMD_READ, 0, 512) + request(c.CMD_DISC) + request(c.CMD_READ))
    cmd, ev = events(conn)
    assert isinstance(ev, Disconnect) and ev.clean
    assert conn.next_event() is NEED_DATA  # nothing after NBD_CMD_DISC is read
    conn.reply(cmd, 0, bytes(512))
    assert simple_reply(out(conn))[0] == 0


def test_eof_in_the_middle_of_a_request():
    conn = negotiated()
    conn.receive_data(request(c.CMD_WRITE, 0, 512) + b"a" * 100)
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"")
    ev = conn.next_event()
    assert isinstance(ev, Disconnect) and not ev.clean


def test_in_flight_bound_pauses_reading():
    conn = negotiated()
    conn.receive_data(
        b"".join(request(c.CMD_READ, 0, 512, cookie=i) for i in range(c.MAX_IN_FLIGHT + 5))
    )
    cmds = events(conn)
    assert len(cmds) == c.MAX_IN_FLIGHT
    assert conn.next_event() is PAUSED
    conn.reply(cmds[0], 0, bytes(512))
    assert isinstance(conn.next_event(), Command)
    assert conn.next_event() is PAUSED


def test_in_flight_bytes_bound_pauses_but_admits_one_request():
    conn = ServerConnection(Catalog(Export("big", 1 << 30)))
    conn.receive_data(struct.pack(">I", 1) + option(c.OPT_GO, info_data("big")))
    events(conn)
    big = c.MAX_REQUEST_SIZE
    n = c.MAX_IN_FLIGHT_BYTES // big
    conn.receive_data(b"".join(request(c.CMD_READ, 0, big, cookie=i) for i in range(n + 1)))
    cmds = events(conn)
    assert len(cmds) == n
    assert conn.next_event() is PAUSED
    for cmd in cmds:
        conn.reply(cmd, c.NBD_EIO)
    assert isinstance(conn.next_event(), Command)


def test_shutdown_stops_reading_requests():
    conn = negotiated()
    conn.receive_data(request(c.CMD_READ, 0, 512))
    (cmd,) = events(conn)
    ev = conn.shutdown()
    assert ev.clean
    conn.receive_data(request(c.CMD_READ, 0, 512))
    assert conn.next_event() is NEED_DATA
    conn.reply(cmd, 0, bytes(512))
    assert simple_reply(out(conn))[0] == 0


def test_error_mapping():
    import errno

    assert c.nbd_error(errno.EROFS) == c.NBD_EPERM
    assert c.nbd_error(-errno.EDQUOT) == c.NBD_ENOSPC
    assert c.nbd_error(errno.ENOENT) == c.NBD_EIO
    assert c.nbd_error(errno.EINVAL) == c.NBD_EINVAL


# --- structured replies and base:allocation -----------------------------------------------------


def meta_data(name: str, *queries: str) -> bytes:
    raw = name.encode()
    out = struct.pack(">I", len(raw)) + raw + struct.pack(">I", len(queries))
    for q in queries:
        out += struct.pack(">I", len(q)) + q.encode()
    return out


def parse_chunk(data: bytes) -> tuple[int, int, int, bytes, bytes]:
    """(flags, type, cookie, payload, rest) of one structured reply chunk."""
    magic, flags, kind, cookie, length = struct.unpack_from(">IHHQI", data)
    assert magic == c.STRUCTURED_REPLY_MAGIC
    return flags, kind, cookie, data[20 : 20 + length], data[20 + length :]


def structured(name: str = "disk", *queries: str) -> ServerConnection:
    conn = ServerConnection(catalog())
    out(conn)
    opts = [option(c.OPT_STRUCTURED_REPLY)]
    if queries:
        opts.append(option(c.OPT_SET_META_CONTEXT, meta_data(name, *queries)))
    conn.receive_data(struct.pack(">I", 1) + b"".join(opts) + option(c.OPT_GO, info_data(name)))
    (ev,) = events(conn)
    assert isinstance(ev, Transmission)
    out(conn)
    return conn


def test_structured_reply_negotiation():
    _, _, replies = haggle(
        option(c.OPT_STRUCTURED_REPLY, b"x"),
        option(c.OPT_STRUCTURED_REPLY),
        option(c.OPT_STRUCTURED_REPLY),
    )
    assert [r[1] for r in replies] == [c.REP_ERR_INVALID, c.REP_ACK, c.REP_ERR_INVALID]


def test_meta_contexts_need_structured_replies():
    _, _, replies = haggle(option(c.OPT_SET_META_CONTEXT, meta_data("disk", "base:allocation")))
    assert [r[1] for r in replies] == [c.REP_ERR_INVALID]


def test_list_and_set_meta_context():
    _, _, replies = haggle(
        option(c.OPT_STRUCTURED_REPLY),
        option(c.OPT_LIST_META_CONTEXT, meta_data("disk")),
        option(c.OPT_LIST_META_CONTEXT, meta_data("disk", "base:")),
        option(c.OPT_LIST_META_CONTEXT, meta_data("disk", "qemu:dirty-bitmap:x")),
        option(c.OPT_SET_META_CONTEXT, meta_data("disk", "x-foo:bar", "base:allocation")),
        option(c.OPT_SET_META_CONTEXT, meta_data("nope", "base:allocation")),
        option(c.OPT_SET_META_CONTEXT, meta_data("disk") + b"junk"),
    )
    kinds = [r[1] for r in replies]
    assert kinds == [
        c.REP_ACK,
        c.REP_META_CONTEXT, c.REP_ACK,  # no query: everything
        c.REP_META_CONTEXT, c.REP_ACK,  # the base: wildcard
        c.REP_ACK,  # an unknown namespace is ignored
        c.REP_META_CONTEXT, c.REP_ACK,  # selected, with an id
        c.REP_ERR_UNKNOWN,
        c.REP_ERR_INVALID,
    ]  # fmt: skip
    assert replies[1][2] == struct.pack(">I", 0) + b"base:allocation"
    assert replies[6][2] == struct.pack(">I", c.META_BASE_ALLOCATION_ID) + b"base:allocation"


def test_structured_read_reply_is_one_data_chunk():
    conn = structured()
    conn.receive_data(request(c.CMD_READ, 4096, 512, cookie=3))
    (cmd,) = events(conn)
    conn.reply(cmd, 0, b"r" * 512)
    flags, kind, cookie, payload, rest = parse_chunk(out(conn))
    assert (flags, kind, cookie, rest) == (c.REPLY_FLAG_DONE, c.REPLY_TYPE_OFFSET_DATA, 3, b"")
    assert payload == struct.pack(">Q", 4096) + b"r" * 512


def test_structured_read_errors_are_error_chunks_and_other_replies_stay_simple():
    conn = structured()
    conn.receive_data(request(c.CMD_READ, SIZE, 512, cookie=4) + request(c.CMD_FLUSH, cookie=5))
    (flush,) = events(conn)
    flags, kind, cookie, payload, rest = parse_chunk(out(conn))
    assert (flags, kind, cookie) == (c.REPLY_FLAG_DONE, c.REPLY_TYPE_ERROR, 4)
    assert struct.unpack(">IH", payload) == (c.NBD_EINVAL, 0)
    conn.reply(flush)
    assert simple_reply(out(conn)) == (0, 5, b"")
    conn.receive_data(request(c.CMD_READ, 0, 512, cookie=6))
    (cmd,) = events(conn)
    conn.reply(cmd, c.NBD_EIO)
    assert parse_chunk(out(conn))[1] == c.REPLY_TYPE_ERROR
    conn.receive_data(request(c.CMD_READ, 0, 0, cookie=7))
    assert events(conn) == []
    assert parse_chunk(out(conn))[:3] == (c.REPLY_FLAG_DONE, c.REPLY_TYPE_NONE, 7)


def block_status(conn: ServerConnection, offset: int, length: int, flags: int = 0):
    conn.receive_data(request(c.CMD_BLOCK_STATUS, offset, length, cookie=9, flags=flags))
    (cmd,) = events(conn)
    return cmd


def descriptors(data: bytes) -> list[tuple[int, int]]:
    flags, kind, cookie, payload, _ = parse_chunk(data)
    assert (flags, kind, cookie) == (c.REPLY_FLAG_DONE, c.REPLY_TYPE_BLOCK_STATUS, 9)
    assert struct.unpack_from(">I", payload)[0] == c.META_BASE_ALLOCATION_ID
    body = payload[4:]
    return [struct.unpack_from(">II", body, i) for i in range(0, len(body), 8)]


def test_block_status_descriptors():
    conn = structured("disk", "base:allocation")
    hole = c.STATE_HOLE | c.STATE_ZERO
    cmd = block_status(conn, 4096, 65536)
    conn.reply_block_status(cmd, 65536, [(0, 8192), (16384, 4096), (20480, 4096), (60000, 99999)])
    assert descriptors(out(conn)) == [(4096, 0), (8192, hole), (8192, 0), (35424, hole),
                                      (9632, 0)]  # fmt: skip
    cmd = block_status(conn, 0, 65536, flags=c.CMD_FLAG_REQ_ONE)
    conn.reply_block_status(cmd, 65536, [(4096, 4096)])
    assert descriptors(out(conn)) == [(4096, hole)]
    cmd = block_status(conn, 0, SIZE)
    conn.reply_block_status(cmd, 4096, [])  # the server may describe less than asked
    assert descriptors(out(conn)) == [(4096, hole)]
    assert conn.in_flight == 0


def test_block_status_needs_the_context_for_this_export():
    for conn in (structured(), structured("snap"), negotiated()):
        conn.receive_data(request(c.CMD_BLOCK_STATUS, 0, 512, cookie=9))
        assert events(conn) == []
        data = out(conn)
        if conn.structured:
            assert parse_chunk(data)[1] == c.REPLY_TYPE_ERROR
        else:
            assert simple_reply(data) == (c.NBD_EINVAL, 9, b"")
    conn = structured("disk", "base:allocation")
    conn.receive_data(request(c.CMD_BLOCK_STATUS, SIZE - 512, 1024, cookie=9))
    assert events(conn) == []
    assert struct.unpack(">IH", parse_chunk(out(conn))[3]) == (c.NBD_EINVAL, 0)


def test_context_selected_for_another_export_is_dropped():
    conn = ServerConnection(catalog())
    out(conn)
    conn.receive_data(
        struct.pack(">I", 1)
        + option(c.OPT_STRUCTURED_REPLY)
        + option(c.OPT_SET_META_CONTEXT, meta_data("snap", "base:allocation"))
        + option(c.OPT_GO, info_data("disk"))
    )
    events(conn)
    assert conn.allocation_export is None


def test_context_selected_for_the_default_export():
    conn = structured("", "base:allocation")
    assert conn.export.name == "disk" and conn.allocation_export == "disk"
    cmd = block_status(conn, 0, 512)
    assert cmd.kind == c.CMD_BLOCK_STATUS
