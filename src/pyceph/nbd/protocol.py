"""The NBD server side as a sans-I/O state machine: bytes in, events and bytes out.

`ServerConnection` speaks fixed-newstyle negotiation (NBD_OPT_EXPORT_NAME, _ABORT,
_LIST, _INFO, _GO, _STRUCTURED_REPLY, _LIST_META_CONTEXT and _SET_META_CONTEXT with
the `base:allocation` context; everything else answered NBD_REP_ERR_UNSUP, as the
protocol's baseline asks) and the transmission phase (NBD_CMD_READ, _WRITE, _DISC,
_FLUSH, _TRIM, _WRITE_ZEROES with FUA and NO_HOLE, and _BLOCK_STATUS). Replies are
simple unless the client negotiated structured replies; then reads (and block status)
are answered with structured chunks. It does no I/O, like h11: the caller feeds what
arrives with `receive_data`, pulls events with `next_event`, answers each `Command`
with `reply` (or `reply_block_status`), and writes whatever `data_to_send` returns.

It checks every request before handing it on: a malformed or out-of-bounds request is
answered with an error reply by the machine itself (the caller never sees it), and a
violation that leaves the byte stream unparseable (bad magic, a payload over
`MAX_REQUEST_SIZE`, an option over `MAX_OPTION_SIZE`) ends the session with a
`Disconnect`. The bounds on outstanding requests (`MAX_IN_FLIGHT`,
`MAX_IN_FLIGHT_BYTES`) show up as `PAUSED`: stop reading until a reply is sent.

Reference: the NBD protocol description (`doc/proto.md` of NetworkBlockDevice/nbd).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pyceph.nbd import constants as c

_GREETING = struct.Struct(">QQH")
_CLIENT_FLAGS = struct.Struct(">I")
_OPTION_HEADER = struct.Struct(">QII")
_OPTION_REPLY = struct.Struct(">QIII")
_EXPORT_NAME_REPLY = struct.Struct(">QH")
_INFO_EXPORT = struct.Struct(">HQH")
_INFO_BLOCK_SIZE = struct.Struct(">HIII")
_REQUEST = struct.Struct(">IHHQQI")
_SIMPLE_REPLY = struct.Struct(">IIQ")
_CHUNK = struct.Struct(">IHHQI")
_ERROR_CHUNK = struct.Struct(">IH")

#: Commands this server executes, and the command flags each accepts.
_ALLOWED_FLAGS = {
    c.CMD_READ: c.CMD_FLAG_FUA,
    c.CMD_WRITE: c.CMD_FLAG_FUA,
    c.CMD_FLUSH: c.CMD_FLAG_FUA,
    c.CMD_TRIM: c.CMD_FLAG_FUA,
    c.CMD_WRITE_ZEROES: c.CMD_FLAG_FUA | c.CMD_FLAG_NO_HOLE,
    c.CMD_BLOCK_STATUS: c.CMD_FLAG_FUA | c.CMD_FLAG_REQ_ONE,
}
#: Commands that change the export.
_WRITES = frozenset({c.CMD_WRITE, c.CMD_TRIM, c.CMD_WRITE_ZEROES})


@dataclass(frozen=True, slots=True)
class Export:
    """What a client learns about an export during negotiation."""

    name: str
    size: int
    read_only: bool = False
    description: str = ""
    min_block: int = c.DEFAULT_MIN_BLOCK
    preferred_block: int = c.DEFAULT_PREFERRED_BLOCK
    max_payload: int = c.MAX_REQUEST_SIZE
    #: the device has no per-connection cache: flush on one connection covers all
    multi_conn: bool = False

    @property
    def transmission_flags(self) -> int:
        """The 16 transmission flags sent with the export (read-only exports do not
        offer trim or write-zeroes)."""
        flags = c.FLAG_HAS_FLAGS | c.FLAG_SEND_FLUSH | c.FLAG_SEND_FUA
        if self.read_only:
            flags |= c.FLAG_READ_ONLY
        else:
            flags |= c.FLAG_SEND_TRIM | c.FLAG_SEND_WRITE_ZEROES
        if self.multi_conn:
            flags |= c.FLAG_CAN_MULTI_CONN
        return flags


class Catalog(Protocol):
    """The exports a server offers; looked up by the name a client asks for."""

    def lookup(self, name: str) -> Export | None:
        """The export called `name` ("" is the default export), or None."""
        ...

    def exports(self) -> Sequence[Export]:
        """Every export, for NBD_OPT_LIST."""
        ...


# --- events ---------------------------------------------------------------------------------


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: `next_event`: nothing complete in the buffer; feed more bytes.
NEED_DATA = _Sentinel("NEED_DATA")
#: `next_event`: the in-flight bounds are reached; stop reading until a reply is sent.
PAUSED = _Sentinel("PAUSED")


@dataclass(frozen=True, slots=True)
class Transmission:
    """Negotiation finished: requests on `export` follow."""

    export: Export


@dataclass(frozen=True, slots=True)
class Command:
    """A checked request to execute, then answer with `ServerConnection.reply`."""

    cookie: int
    kind: int
    flags: int
    offset: int
    length: int
    data: bytes = b""

    @property
    def fua(self) -> bool:
        return bool(self.flags & c.CMD_FLAG_FUA)

    @property
    def no_hole(self) -> bool:
        return bool(self.flags & c.CMD_FLAG_NO_HOLE)

    @property
    def req_one(self) -> bool:
        return bool(self.flags & c.CMD_FLAG_REQ_ONE)

    @property
    def name(self) -> str:
        return c.CMD_NAMES.get(self.kind, str(self.kind))


@dataclass(frozen=True, slots=True)
class Disconnect:
    """The session ends. `clean`: the client asked (NBD_CMD_DISC, NBD_OPT_ABORT) or the
    server is shutting down — answer what is in flight, then close. Otherwise the peer
    vanished or broke the protocol: close at once."""

    reason: str
    clean: bool


Event = Transmission | Command | Disconnect | _Sentinel


class ProtocolState:
    """Phases of a connection."""

    CLIENT_FLAGS = "client-flags"
    OPTIONS = "options"
    TRANSMISSION = "transmission"
    CLOSED = "closed"


class ServerConnection:
    """One client connection, server side."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.state = ProtocolState.CLIENT_FLAGS
        self.export: Export | None = None
        self.no_zeroes = False
        self.fixed_newstyle = False
        #: structured replies were negotiated (NBD_OPT_STRUCTURED_REPLY)
        self.structured = False
        #: the export base:allocation was selected for (NBD_OPT_SET_META_CONTEXT)
        self.allocation_export: str | None = None
        self.options_seen = 0
        #: requests handed out as `Command` and not yet answered, and their payload bytes
        self.in_flight = 0
        self.in_flight_bytes = 0
        #: requests of each kind answered with success (statistics, tests)
        self.completed: dict[str, int] = {}
        self._buf = bytearray()
        self._eof = False
        self._answering = True
        self._out: list[bytes | memoryview] = [
            _GREETING.pack(c.NBDMAGIC, c.IHAVEOPT, c.FLAG_FIXED_NEWSTYLE | c.FLAG_NO_ZEROES)
        ]

    # --- input / output -----------------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Bytes from the client; empty means the client closed its side."""
        if not data:
            self._eof = True
        elif self.state != ProtocolState.CLOSED:
            self._buf += data

    @property
    def buffered(self) -> int:
        """Received bytes not yet parsed."""
        return len(self._buf)

    def data_to_send(self) -> list[bytes | memoryview]:
        """Bytes to write to the client, in order; taking them empties the queue."""
        out, self._out = self._out, []
        return out

    def abort(self, reason: str) -> Disconnect:
        """End the session at once (a timeout, a local failure): nothing more is sent."""
        return self._end(reason)

    def shutdown(self) -> Disconnect:
        """The server is stopping: read no further requests (answer those in flight)."""
        self._close()
        return Disconnect("server shutting down", clean=True)

    # --- events -------------------------------------------------------------------------------

    def next_event(self) -> Event:
        """The next thing the caller must act on."""
        while True:
            if self.state == ProtocolState.CLOSED:
                return NEED_DATA
            if self.state == ProtocolState.TRANSMISSION:
                if self.in_flight and (
                    self.in_flight >= c.MAX_IN_FLIGHT
                    or self.in_flight_bytes >= c.MAX_IN_FLIGHT_BYTES
                ):
                    return PAUSED
                event = self._next_request()
            elif self.state == ProtocolState.OPTIONS:
                event = self._next_option()
            else:
                event = self._client_flags()
            if event is not None:
                return event

    def _end(self, reason: str, clean: bool = False) -> Disconnect:
        self._close()
        # a clean end still answers what is in flight; a broken session sends nothing more
        self._answering = clean
        return Disconnect(reason, clean)

    def _close(self) -> None:
        self.state = ProtocolState.CLOSED
        self._buf = bytearray()

    def _need(self, n: int) -> Event | None:
        """NEED_DATA (or the end of the session at EOF) when fewer than `n` bytes wait."""
        if len(self._buf) >= n:
            return None
        if not self._eof:
            return NEED_DATA
        if self._buf:
            return self._end("client closed the connection in the middle of a message")
        return self._end("client closed the connection")

    def _take(self, n: int) -> bytes:
        with memoryview(self._buf) as view:
            data = view[:n].tobytes()  # one copy, even of a 32 MiB write payload
        del self._buf[:n]
        return data

    # --- negotiation ----------------------------------------------------------------------------

    def _client_flags(self) -> Event | None:
        short = self._need(_CLIENT_FLAGS.size)
        if short is not None:
            return short
        (flags,) = _CLIENT_FLAGS.unpack(self._take(_CLIENT_FLAGS.size))
        if flags & ~c.KNOWN_CLIENT_FLAGS:
            return self._end(f"unknown client flags {flags:#x}")
        self.fixed_newstyle = bool(flags & c.FLAG_C_FIXED_NEWSTYLE)
        self.no_zeroes = bool(flags & c.FLAG_C_NO_ZEROES)
        self.state = ProtocolState.OPTIONS
        return None

    def _next_option(self) -> Event | None:
        short = self._need(_OPTION_HEADER.size)
        if short is not None:
            return short
        magic, option, length = _OPTION_HEADER.unpack_from(self._buf)
        if magic != c.IHAVEOPT:
            return self._end(f"bad option magic {magic:#x}")
        if length > c.MAX_OPTION_SIZE:
            return self._end(f"option {option} of {length} bytes is over {c.MAX_OPTION_SIZE}")
        short = self._need(_OPTION_HEADER.size + length)
        if short is not None:
            return short
        del self._buf[: _OPTION_HEADER.size]
        data = self._take(length)
        self.options_seen += 1
        if self.options_seen > c.MAX_OPTIONS:
            return self._end(f"more than {c.MAX_OPTIONS} options")
        return self._option(option, data)

    def _option_reply(self, option: int, kind: int, payload: bytes = b"") -> None:
        self._out.append(_OPTION_REPLY.pack(c.OPTION_REPLY_MAGIC, option, kind, len(payload)))
        if payload:
            self._out.append(payload)

    def _option_error(self, option: int, kind: int, message: str) -> None:
        self._option_reply(option, kind, message.encode()[: c.MAX_STRING])

    def _option(self, option: int, data: bytes) -> Event | None:
        if option == c.OPT_EXPORT_NAME:
            return self._opt_export_name(data)
        if option == c.OPT_ABORT:
            self._option_reply(option, c.REP_ACK)
            return self._end("client aborted the negotiation", clean=True)
        if option == c.OPT_LIST:
            self._opt_list(data)
            return None
        if option in (c.OPT_INFO, c.OPT_GO):
            return self._opt_info_go(option, data)
        if option == c.OPT_STRUCTURED_REPLY:
            self._opt_structured_reply(data)
            return None
        if option in (c.OPT_LIST_META_CONTEXT, c.OPT_SET_META_CONTEXT):
            self._opt_meta_context(option, data)
            return None
        self._option_error(option, c.REP_ERR_UNSUP, f"option {option} is not supported")
        return None

    def _opt_export_name(self, data: bytes) -> Event:
        try:
            name = _decode_name(data)
        except ValueError as e:
            return self._end(str(e))
        export = self.catalog.lookup(name)
        if export is None:
            # this option cannot be answered with an error: the session ends
            return self._end(f"no export named {name!r}")
        self._out.append(_EXPORT_NAME_REPLY.pack(export.size, export.transmission_flags))
        if not self.no_zeroes:
            self._out.append(bytes(c.EXPORT_NAME_PADDING))
        return self._enter_transmission(export)

    def _opt_list(self, data: bytes) -> None:
        if data:
            self._option_error(c.OPT_LIST, c.REP_ERR_INVALID, "NBD_OPT_LIST takes no data")
            return
        for export in self.catalog.exports():
            name = export.name.encode()
            self._option_reply(c.OPT_LIST, c.REP_SERVER, struct.pack(">I", len(name)) + name)
        self._option_reply(c.OPT_LIST, c.REP_ACK)

    def _opt_info_go(self, option: int, data: bytes) -> Event | None:
        try:
            name, requests = _parse_info_request(data)
        except ValueError as e:
            self._option_error(option, c.REP_ERR_INVALID, str(e))
            return None
        export = self.catalog.lookup(name)
        if export is None:
            self._option_error(option, c.REP_ERR_UNKNOWN, f"no export named {name!r}")
            return None
        self._option_reply(
            option,
            c.REP_INFO,
            _INFO_EXPORT.pack(c.INFO_EXPORT, export.size, export.transmission_flags),
        )
        if c.INFO_NAME in requests:
            self._option_reply(
                option, c.REP_INFO, struct.pack(">H", c.INFO_NAME) + export.name.encode()
            )
        if c.INFO_DESCRIPTION in requests and export.description:
            text = export.description.encode()[: c.MAX_STRING]
            self._option_reply(option, c.REP_INFO, struct.pack(">H", c.INFO_DESCRIPTION) + text)
        # sent whether asked or not: the limits hold either way
        self._option_reply(
            option,
            c.REP_INFO,
            _INFO_BLOCK_SIZE.pack(
                c.INFO_BLOCK_SIZE, export.min_block, export.preferred_block, export.max_payload
            ),
        )
        self._option_reply(option, c.REP_ACK)
        if option == c.OPT_GO:
            return self._enter_transmission(export)
        return None

    def _opt_structured_reply(self, data: bytes) -> None:
        if data:
            self._option_error(c.OPT_STRUCTURED_REPLY, c.REP_ERR_INVALID, "option takes no data")
        elif self.structured:
            self._option_error(c.OPT_STRUCTURED_REPLY, c.REP_ERR_INVALID, "already negotiated")
        else:
            self.structured = True
            self._option_reply(c.OPT_STRUCTURED_REPLY, c.REP_ACK)

    def _opt_meta_context(self, option: int, data: bytes) -> None:
        if not self.structured:
            self._option_error(option, c.REP_ERR_INVALID, "structured replies are required")
            return
        try:
            name, queries = _parse_meta_request(data)
        except ValueError as e:
            self._option_error(option, c.REP_ERR_INVALID, str(e))
            return
        export = self.catalog.lookup(name)
        if export is None:
            self._option_error(option, c.REP_ERR_UNKNOWN, f"no export named {name!r}")
            return
        if option == c.OPT_SET_META_CONTEXT:
            selected = c.META_BASE_ALLOCATION in queries
            self.allocation_export = export.name if selected else None
        else:  # LIST: no query, or the namespace wildcard, or the name itself
            selected = not queries or bool({"base:", c.META_BASE_ALLOCATION} & set(queries))
        if selected:
            context_id = c.META_BASE_ALLOCATION_ID if option == c.OPT_SET_META_CONTEXT else 0
            payload = struct.pack(">I", context_id) + c.META_BASE_ALLOCATION.encode()
            self._option_reply(option, c.REP_META_CONTEXT, payload)
        self._option_reply(option, c.REP_ACK)

    def _enter_transmission(self, export: Export) -> Transmission:
        if self.allocation_export is not None and self.allocation_export != export.name:
            self.allocation_export = None  # selected for another export: not usable
        self.export = export
        self.state = ProtocolState.TRANSMISSION
        return Transmission(export)

    # --- transmission -------------------------------------------------------------------------

    def _next_request(self) -> Event | None:
        short = self._need(c.REQUEST_HEADER_SIZE)
        if short is not None:
            return short
        magic, flags, kind, cookie, offset, length = _REQUEST.unpack_from(self._buf)
        if magic != c.REQUEST_MAGIC:
            return self._end(f"bad request magic {magic:#x}")
        payload = length if kind == c.CMD_WRITE else 0
        if payload > c.MAX_REQUEST_SIZE:
            return self._end(f"write of {length} bytes is over {c.MAX_REQUEST_SIZE}")
        short = self._need(c.REQUEST_HEADER_SIZE + payload)
        if short is not None:
            return short
        del self._buf[: c.REQUEST_HEADER_SIZE]
        data = self._take(payload) if payload else b""
        if kind == c.CMD_DISC:
            return self._end("client sent NBD_CMD_DISC", clean=True)
        error = self._check(kind, flags, offset, length)
        if error:
            self._error_reply(kind, cookie, error)
            return None
        if length == 0 and kind != c.CMD_FLUSH:
            # nothing to do: a zero-length read, write, trim or zeroing succeeds at once
            if kind == c.CMD_READ and self.structured:
                self._chunk(cookie, c.REPLY_TYPE_NONE)
            else:
                self._simple_reply(cookie, 0)
            return None
        self.in_flight += 1
        self.in_flight_bytes += length if kind in (c.CMD_READ, c.CMD_WRITE) else 0
        return Command(cookie, kind, flags, offset, length, data)

    def _check(self, kind: int, flags: int, offset: int, length: int) -> int:
        """The NBD error a request gets before it runs, or 0 ("Error values")."""
        export = self.export
        assert export is not None
        allowed = _ALLOWED_FLAGS.get(kind)
        if allowed is None or flags & ~allowed:
            return c.NBD_EINVAL
        if kind == c.CMD_FLUSH:
            return c.NBD_EINVAL if offset or length else 0
        if kind == c.CMD_BLOCK_STATUS and (self.allocation_export != export.name or not length):
            return c.NBD_EINVAL  # no base:allocation selected for this export, or nothing asked
        if kind in _WRITES and export.read_only:
            return c.NBD_EPERM
        if kind == c.CMD_READ and length > export.max_payload:
            return c.NBD_EINVAL
        if offset % export.min_block or length % export.min_block:
            return c.NBD_EINVAL
        if offset + length > export.size:
            return c.NBD_ENOSPC if kind in (c.CMD_WRITE, c.CMD_WRITE_ZEROES) else c.NBD_EINVAL
        return 0

    def _simple_reply(self, cookie: int, error: int) -> None:
        self._out.append(_SIMPLE_REPLY.pack(c.SIMPLE_REPLY_MAGIC, error, cookie))

    def _chunk(self, cookie: int, kind: int, payload: bytes = b"", length: int = 0) -> None:
        """A final structured reply chunk whose payload is `payload` (plus `length` more
        bytes the caller appends)."""
        total = len(payload) + length
        header = _CHUNK.pack(c.STRUCTURED_REPLY_MAGIC, c.REPLY_FLAG_DONE, kind, cookie, total)
        self._out.append(header + payload)

    def _error_reply(self, kind: int, cookie: int, error: int) -> None:
        """A failed request's reply: an error chunk for reads once structured replies are
        on (a simple reply is not allowed for them then), a simple reply otherwise."""
        if self.structured and kind in (c.CMD_READ, c.CMD_BLOCK_STATUS):
            self._chunk(cookie, c.REPLY_TYPE_ERROR, _ERROR_CHUNK.pack(error, 0))
        else:
            self._simple_reply(cookie, error)

    def reply(
        self, command: Command, error: int = 0, data: bytes | bytearray | memoryview = b""
    ) -> None:
        """Answer `command`: `error` is an NBD error value (0 for success); a successful
        read carries exactly `command.length` bytes of `data` (anything else is sent as
        NBD_EIO, since a simple reply cannot be partial)."""
        self.in_flight -= 1
        if command.kind in (c.CMD_READ, c.CMD_WRITE):
            self.in_flight_bytes -= command.length
        if not self._answering:
            return
        if command.kind == c.CMD_READ and not error and len(data) != command.length:
            error = c.NBD_EIO
        if command.kind == c.CMD_BLOCK_STATUS and not error:
            error = c.NBD_EINVAL  # block status succeeds through reply_block_status only
        if error:
            self._error_reply(command.kind, command.cookie, error)
            return
        self.completed[command.name] = self.completed.get(command.name, 0) + 1
        if command.kind != c.CMD_READ:
            self._simple_reply(command.cookie, 0)
        elif self.structured:
            offset = struct.pack(">Q", command.offset)
            self._chunk(command.cookie, c.REPLY_TYPE_OFFSET_DATA, offset, len(data))
            self._out.append(data)
        else:
            self._simple_reply(command.cookie, 0)
            self._out.append(data)

    def reply_block_status(
        self, command: Command, span: int, allocated: Sequence[tuple[int, int]]
    ) -> None:
        """Answer NBD_CMD_BLOCK_STATUS for `span` bytes from `command.offset` (at most the
        request's length): `allocated` lists the (offset, length) ranges holding data;
        the rest of the span is reported as holes that read as zeroes."""
        self.in_flight -= 1
        if not self._answering:
            return
        start = command.offset
        end = start + max(1, min(span, command.length))
        descriptors: list[tuple[int, int]] = []
        pos = start
        for off, length in sorted(allocated):
            off, stop = max(off, pos), min(off + length, end)
            if stop <= off:
                continue
            if off > pos:
                descriptors.append((off - pos, c.STATE_HOLE | c.STATE_ZERO))
            descriptors.append((stop - off, 0))
            pos = stop
        if pos < end:
            descriptors.append((end - pos, c.STATE_HOLE | c.STATE_ZERO))
        merged: list[tuple[int, int]] = []
        for length, flags in descriptors:
            if merged and merged[-1][1] == flags:
                merged[-1] = (merged[-1][0] + length, flags)
            else:
                merged.append((length, flags))
        if command.req_one:
            merged = merged[:1]
        payload = struct.pack(">I", c.META_BASE_ALLOCATION_ID) + b"".join(
            struct.pack(">II", length, flags) for length, flags in merged
        )
        self.completed[command.name] = self.completed.get(command.name, 0) + 1
        self._chunk(command.cookie, c.REPLY_TYPE_BLOCK_STATUS, payload)


def _decode_name(data: bytes) -> str:
    if len(data) > c.MAX_STRING:
        raise ValueError(f"export name of {len(data)} bytes is over {c.MAX_STRING}")
    try:
        name = data.decode()
    except UnicodeDecodeError:
        raise ValueError("export name is not UTF-8")
    if "\0" in name:
        raise ValueError("export name contains NUL")
    return name


def _parse_info_request(data: bytes) -> tuple[str, set[int]]:
    """(name, information requests) of NBD_OPT_INFO/NBD_OPT_GO data."""
    if len(data) < 6:
        raise ValueError("NBD_OPT_INFO/GO data is shorter than 6 bytes")
    (name_len,) = struct.unpack_from(">I", data)
    if name_len > len(data) - 6:
        raise ValueError(f"export name length {name_len} overruns the option")
    name = _decode_name(data[4 : 4 + name_len])
    (count,) = struct.unpack_from(">H", data, 4 + name_len)
    rest = data[6 + name_len :]
    if len(rest) != 2 * count:
        raise ValueError(f"{count} information requests do not match {len(rest)} bytes")
    return name, set(struct.unpack(f">{count}H", rest))


def _parse_meta_request(data: bytes) -> tuple[str, list[str]]:
    """(export name, queries) of NBD_OPT_LIST/SET_META_CONTEXT data."""
    if len(data) < 8:
        raise ValueError("metadata context request is shorter than 8 bytes")
    (name_len,) = struct.unpack_from(">I", data)
    if name_len > len(data) - 8:
        raise ValueError(f"export name length {name_len} overruns the option")
    name = _decode_name(data[4 : 4 + name_len])
    pos = 4 + name_len
    (count,) = struct.unpack_from(">I", data, pos)
    pos += 4
    if count > c.MAX_META_QUERIES:
        raise ValueError(f"{count} queries are over {c.MAX_META_QUERIES}")
    queries = []
    for _ in range(count):
        if pos + 4 > len(data):
            raise ValueError("query overruns the option")
        (qlen,) = struct.unpack_from(">I", data, pos)
        pos += 4
        if qlen > len(data) - pos:
            raise ValueError("query overruns the option")
        queries.append(_decode_name(data[pos : pos + qlen]))
        pos += qlen
    if pos != len(data):
        raise ValueError("trailing bytes after the queries")
    return name, queries
