"""The wire frame codec, sans I/O: bytes in, frames out; frames in, buffers out.

A frame is a fixed 28-byte preamble, a msgpack-encoded head and a raw data segment,
followed by a 4-byte crc32c epilogue over head and data. The preamble carries its own
crc so a corrupt length can never make the decoder wait for or allocate garbage.
The decoder exposes `get_buffer`/`buffer_updated` so an asyncio BufferedProtocol lets the
kernel write large data segments straight into their final buffer (no copy).

Nothing a peer announces is allocated before it is checked: the preamble's own crc, then
the head length against `max_head_len` (`pyceph_ms_max_head_len`), the data length against
`max_data_len` (`pyceph_max_message_size`, as upstream bounds a message by its segment
lengths) and, until the peer has authenticated, the whole frame against
`max_preauth_frame` (`pyceph_ms_max_preauth_frame`): an anonymous peer can make a daemon
hold one handshake-sized frame, no more. Any violation is a `FrameError` and the
connection is dropped (upstream ProtocolV2 fails the connection the same way).
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Callable
from dataclasses import dataclass

import crc32c as _crc

from pyceph.common.errors import CephError
from pyceph.common.options import OPTIONS

MAGIC = 0xCE9F
PREAMBLE = struct.Struct("<HHHHQII")  # magic, flags, type, reserved, seq, head_len, data_len
PREAMBLE_CRC = struct.Struct("<I")
PREAMBLE_SIZE = PREAMBLE.size + PREAMBLE_CRC.size
EPILOGUE = struct.Struct("<I")
FLAG_NO_DATA_CRC = 0x1

#: Bounds on what a peer may make us allocate: the defaults of `pyceph_ms_max_head_len`
#: and `pyceph_max_message_size` (a messenger passes its configured values).
MAX_HEAD_LEN = OPTIONS["pyceph_ms_max_head_len"].default
DEFAULT_MAX_DATA_LEN = OPTIONS["pyceph_max_message_size"].default
#: The receive buffer small frames are parsed in; larger frames get a buffer of their own.
SCRATCH_SIZE = 256 << 10

crc32c = _crc.crc32c


@dataclass(slots=True)
class Frame:
    """One decoded frame: its type code, sequence number, head bytes and data."""

    type: int
    seq: int
    head: bytes
    data: memoryview | bytes
    flags: int = 0


class FrameError(CephError):
    """The byte stream is not a valid frame sequence; the connection must be dropped."""


def encode_frame(
    ftype: int, seq: int, head: bytes, data: bytes | memoryview = b"", data_crc: bool = True
) -> list[bytes | memoryview]:
    """Buffers to write for one frame; `data` is passed through uncopied."""
    dlen = len(data)
    flags = 0 if data_crc else FLAG_NO_DATA_CRC
    pre = PREAMBLE.pack(MAGIC, flags, ftype, 0, seq, len(head), dlen)
    crc = crc32c(head)
    if dlen and data_crc:
        crc = crc32c(data, crc)
    tail = EPILOGUE.pack(crc)
    if dlen:
        return [pre + PREAMBLE_CRC.pack(crc32c(pre)) + head, data, tail]
    return [pre + PREAMBLE_CRC.pack(crc32c(pre)) + head + tail]


class FrameDecoder:
    """Incremental decoder fed by `get_buffer`/`buffer_updated` or `feed`."""

    def __init__(
        self,
        max_data_len: int = DEFAULT_MAX_DATA_LEN,
        max_head_len: int = MAX_HEAD_LEN,
        max_preauth_frame: int | None = None,
        authenticated: Callable[[], bool] | None = None,
    ) -> None:
        self._max_data = max_data_len
        self._max_head = max_head_len
        # Until `authenticated()` says so, frames are bounded by `max_preauth_frame`.
        self._max_preauth = max_preauth_frame
        self._authenticated = authenticated
        #: Bytes received so far: the messenger's stall detector watches it move.
        self.received = 0
        self._scratch = bytearray(SCRATCH_SIZE)
        self._start = 0
        self._end = 0
        # A large frame being received straight into its own buffer.
        self._big: bytearray | None = None
        self._big_fill = 0
        self._big_pre: tuple[int, int, int, int, int] | None = None

    def get_buffer(self, sizehint: int = -1) -> memoryview:
        """Where the next received bytes should be written."""
        if self._big is not None:
            return memoryview(self._big)[self._big_fill :]
        if self._end == len(self._scratch):
            self._compact()
        return memoryview(self._scratch)[self._end :]

    def bind_authenticated(self, authenticated: Callable[[], bool]) -> None:
        """Tell the decoder how to ask whether its peer has authenticated yet."""
        self._authenticated = authenticated

    @property
    def mid_frame(self) -> bool:
        """Whether part of a frame has arrived and the rest has not."""
        return self._big is not None or self._end > self._start

    def buffer_updated(self, nbytes: int) -> list[Frame]:
        """Account for `nbytes` written into the last buffer; return completed frames."""
        self.received += nbytes
        if self._big is not None:
            self._big_fill += nbytes
            if self._big_fill < len(self._big):
                return []
            frames = [self._finish_big()]
        else:
            self._end += nbytes
            frames = []
        self._parse(frames)
        return frames

    def accept_whole(self, hlen: int, dlen: int) -> None:
        """Account for one whole frame handed over without bytes (an in-process
        transport, see `pyceph.sim.memnet`): the same length bounds as a decoded
        frame (`FrameError` if violated); there is no crc to check, nothing was framed."""
        self._check_lengths(hlen, dlen)
        self.received += PREAMBLE_SIZE + hlen + dlen + EPILOGUE.size

    def feed(self, data: bytes) -> list[Frame]:
        """Convenience for tests and simulated transports: copy `data` in and decode."""
        frames: list[Frame] = []
        view = memoryview(data)
        while view:
            buf = self.get_buffer()
            n = min(len(buf), len(view))
            buf[:n] = view[:n]
            view = view[n:]
            frames.extend(self.buffer_updated(n))
        return frames

    def _compact(self) -> None:
        live = self._end - self._start
        if self._start:
            self._scratch[:live] = self._scratch[self._start : self._end]
        self._start, self._end = 0, live
        if live == len(self._scratch):
            self._scratch.extend(bytes(len(self._scratch)))

    def _parse(self, frames: list[Frame]) -> None:
        buf = self._scratch
        # Slices of a view copy once (a bytearray slice is a copy that bytes() copies
        # again); the view is released on return so `_compact` may grow the buffer.
        with memoryview(buf) as view:
            while True:
                avail = self._end - self._start
                if avail < PREAMBLE_SIZE:
                    break
                s = self._start
                magic, flags, ftype, _r, seq, hlen, dlen = PREAMBLE.unpack_from(buf, s)
                (pcrc,) = PREAMBLE_CRC.unpack_from(buf, s + PREAMBLE.size)
                if magic != MAGIC or pcrc != crc32c(view[s : s + PREAMBLE.size]):
                    raise FrameError(errno.EPROTO, "bad frame preamble")
                self._check_lengths(hlen, dlen)
                total = PREAMBLE_SIZE + hlen + dlen + EPILOGUE.size
                if avail >= total:
                    h0 = s + PREAMBLE_SIZE
                    head = bytes(view[h0 : h0 + hlen])
                    data = bytes(view[h0 + hlen : h0 + hlen + dlen])
                    (crc,) = EPILOGUE.unpack_from(buf, h0 + hlen + dlen)
                    self._start += total
                    frames.append(self._checked(ftype, seq, flags, head, data, crc))
                    continue
                if total > len(buf) // 2:
                    # Receive the rest directly into a buffer of its own.
                    self._big = bytearray(total - PREAMBLE_SIZE)
                    got = avail - PREAMBLE_SIZE
                    self._big[:got] = view[s + PREAMBLE_SIZE : self._end]
                    self._big_fill = got
                    self._big_pre = (ftype, seq, flags, hlen, dlen)
                    self._start = self._end = 0
                break
        if self._start == self._end:
            self._start = self._end = 0

    def _check_lengths(self, hlen: int, dlen: int) -> None:
        if hlen > self._max_head or dlen > self._max_data:
            raise FrameError(errno.EMSGSIZE, f"frame too large: head {hlen} data {dlen}")
        if self._max_preauth is None or hlen + dlen <= self._max_preauth:
            return
        if not (self._authenticated and self._authenticated()):
            raise FrameError(errno.EMSGSIZE, f"frame of {hlen + dlen} bytes before authentication")

    def _finish_big(self) -> Frame:
        assert self._big is not None and self._big_pre is not None
        ftype, seq, flags, hlen, dlen = self._big_pre
        big = memoryview(self._big)
        self._big = None
        self._big_pre = None
        head = bytes(big[:hlen])
        data = big[hlen : hlen + dlen]
        (crc,) = EPILOGUE.unpack_from(big, hlen + dlen)
        return self._checked(ftype, seq, flags, head, data, crc)

    @staticmethod
    def _checked(ftype: int, seq: int, flags: int, head: bytes, data, crc: int) -> Frame:
        want = crc32c(head)
        if data and not flags & FLAG_NO_DATA_CRC:
            want = crc32c(data, want)
        if want != crc:
            raise FrameError(errno.EBADMSG, "frame crc mismatch")
        return Frame(ftype, seq, head, data, flags)
