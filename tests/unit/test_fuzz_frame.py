"""Fuzzing the frame decoder (issue 10 item 4): random bytes, mutated valid frames,
truncations and split feeds. The decoder either returns frames or raises FrameError (the
connection is dropped); it never raises anything else, never returns a frame that was
not sent intact, and refuses an oversized frame from its preamble alone, before the rest
arrives or is allocated."""

from __future__ import annotations

import errno

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from tests.unit.fuzzing import fuzz

from pyceph.msg.frame import (
    PREAMBLE,
    PREAMBLE_CRC,
    PREAMBLE_SIZE,
    SCRATCH_SIZE,
    Frame,
    FrameDecoder,
    FrameError,
    crc32c,
    encode_frame,
)

#: Bounds the fuzzed decoders run with (small, so an over-bound frame is cheap to make).
MAX_DATA = 64 * 1024
MAX_HEAD = 4 * 1024
PREAUTH = 1024

frame_specs = st.lists(
    st.tuples(
        st.integers(1, 0xFFFF),  # type
        st.integers(0, 2**64 - 1),  # seq
        st.binary(max_size=256),  # head
        st.binary(max_size=2048),  # data
        st.booleans(),  # data crc
    ),
    min_size=1,
    max_size=4,
)


def _stream(specs: list[tuple[int, int, bytes, bytes, bool]]) -> bytes:
    return b"".join(
        b"".join(bytes(b) for b in encode_frame(t, s, h, d, crc)) for t, s, h, d, crc in specs
    )


def _as_tuples(frames: list[Frame]) -> list[tuple[int, int, bytes, bytes]]:
    return [(f.type, f.seq, bytes(f.head), bytes(f.data)) for f in frames]


def _expected(specs: list[tuple[int, int, bytes, bytes, bool]]) -> list[tuple]:
    return [(t, s, h, d) for t, s, h, d, _c in specs]


def _decoder(**kw: object) -> FrameDecoder:
    return FrameDecoder(max_data_len=MAX_DATA, max_head_len=MAX_HEAD, **kw)  # type: ignore[arg-type]


def _feed_all(dec: FrameDecoder, chunks: list[bytes]) -> list[Frame]:
    out: list[Frame] = []
    for c in chunks:
        out += dec.feed(c)
    return out


@fuzz(300)
@given(st.binary(max_size=4096))
@example(b"\x9f\xce" + b"\0" * 30)  # the magic, then zeros: the preamble crc fails
def test_random_bytes_decode_or_raise_frame_error(raw: bytes) -> None:
    dec = _decoder()
    try:
        dec.feed(raw)
    except FrameError as e:
        assert e.errno in (errno.EPROTO, errno.EMSGSIZE, errno.EBADMSG)


@fuzz(200)
@given(frame_specs, st.data())
def test_split_feeds_at_every_boundary_give_the_same_frames(specs, data) -> None:
    raw = _stream(specs)
    want = _expected(specs)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=8)))
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    assert _as_tuples(_feed_all(_decoder(), pieces)) == want


def test_every_single_split_point_of_a_two_frame_stream() -> None:
    raw = _stream([(7, 1, b"head", b"x" * 700, True), (8, 2, b"h", b"", False)])
    for i in range(len(raw) + 1):
        got = _feed_all(_decoder(), [raw[:i], raw[i:]])
        assert _as_tuples(got) == [(7, 1, b"head", b"x" * 700), (8, 2, b"h", b"")]


@fuzz(200)
@given(frame_specs, st.data())
def test_truncated_streams_give_the_whole_frames_and_wait(specs, data) -> None:
    raw = _stream(specs)
    cut = data.draw(st.integers(0, len(raw)))
    dec = _decoder()
    got = _as_tuples(dec.feed(raw[:cut]))
    want = _expected(specs)
    assert got == want[: len(got)]
    # whatever is missing is waited for, not guessed: the rest completes the stream
    boundaries = {0}
    for spec in specs:
        boundaries.add(max(boundaries) + len(_stream([spec])))
    assert dec.mid_frame == (cut not in boundaries)
    got += _as_tuples(dec.feed(raw[cut:]))
    assert got == want


@fuzz(300)
@given(
    frame_specs,
    st.lists(
        st.tuples(
            st.sampled_from(["flip", "insert", "delete"]), st.integers(0), st.integers(0, 255)
        ),
        min_size=1,
        max_size=4,
    ),
)
@example([(1, 1, b"", b"", True)], [("flip", 28, 1)])  # a head/data byte that is the crc
def test_mutated_frames_never_decode_to_something_not_sent(specs, mutations) -> None:
    raw = bytearray(_stream(specs))
    for kind, pos, byte in mutations:
        if kind == "insert":
            raw.insert(pos % (len(raw) + 1), byte)
        elif raw:
            i = pos % len(raw)
            if kind == "flip":
                raw[i] ^= byte or 1
            else:
                del raw[i]
    sent = {(t, s, h, d) for t, s, h, d, c in specs if c}
    sent_nocrc = {(t, s, h) for t, s, h, d, c in specs if not c}
    try:
        frames = _decoder().feed(bytes(raw))
    except FrameError:
        return
    for t, s, h, d in _as_tuples(frames):
        # crc'd frames arrive intact or not at all; a no-data-crc frame's head is covered
        assert (t, s, h, d) in sent or (t, s, h) in sent_nocrc


def _preamble(hlen: int, dlen: int, ftype: int = 7) -> bytes:
    pre = PREAMBLE.pack(0xCE9F, 0, ftype, 0, 1, hlen, dlen)
    return pre + PREAMBLE_CRC.pack(crc32c(pre))


@fuzz(200)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
@example(MAX_HEAD + 1, 0)
@example(0, MAX_DATA + 1)
def test_lengths_are_checked_from_the_preamble_alone(hlen: int, dlen: int) -> None:
    dec = _decoder()
    if hlen > MAX_HEAD or dlen > MAX_DATA:
        with pytest.raises(FrameError) as e:
            dec.feed(_preamble(hlen, dlen))
        assert e.value.errno == errno.EMSGSIZE
    else:
        assert dec.feed(_preamble(hlen, dlen)) == []
        assert dec.mid_frame or hlen + dlen == 0


@fuzz(200)
@given(st.integers(0, MAX_HEAD), st.integers(0, MAX_DATA), st.booleans())
def test_before_authentication_only_handshake_sized_frames(hlen, dlen, authed) -> None:
    dec = _decoder(max_preauth_frame=PREAUTH, authenticated=lambda: authed)
    if hlen + dlen > PREAUTH and not authed:
        with pytest.raises(FrameError) as e:
            dec.feed(_preamble(hlen, dlen))
        assert e.value.errno == errno.EMSGSIZE
    else:
        dec.feed(_preamble(hlen, dlen))


def test_a_large_frame_gets_a_buffer_only_once_announced_lengths_pass() -> None:
    big = MAX_DATA  # over half the scratch buffer: received into a buffer of its own
    dec = FrameDecoder(max_data_len=SCRATCH_SIZE * 2, max_head_len=MAX_HEAD)
    raw = b"".join(bytes(b) for b in encode_frame(9, 3, b"hh", b"z" * (SCRATCH_SIZE + big)))
    assert dec.feed(raw[: PREAMBLE_SIZE + 10]) == []
    assert dec.mid_frame
    got = dec.feed(raw[PREAMBLE_SIZE + 10 :])
    assert _as_tuples(got) == [(9, 3, b"hh", b"z" * (SCRATCH_SIZE + big))]
    assert not dec.mid_frame
    assert dec.received == len(raw)


@fuzz(200)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.booleans())
@example(MAX_HEAD + 1, 0, True)
@example(0, MAX_DATA + 1, True)
@example(0, PREAUTH + 1, False)
def test_whole_frames_get_the_same_bounds_as_bytes(hlen: int, dlen: int, authed: bool) -> None:
    """A frame handed over whole (in-process transport) is bounded like a decoded one."""
    whole = _decoder(max_preauth_frame=PREAUTH, authenticated=lambda: authed)
    framed = _decoder(max_preauth_frame=PREAUTH, authenticated=lambda: authed)
    try:
        framed.feed(_preamble(hlen, dlen))
    except FrameError as e:
        with pytest.raises(FrameError) as w:
            whole.accept_whole(hlen, dlen)
        assert w.value.errno == e.errno
    else:
        whole.accept_whole(hlen, dlen)
        assert whole.received == PREAMBLE_SIZE + hlen + dlen + 4 and not whole.mid_frame
