"""Tests for pyceph.ec: profile validation, the codec, stripe math and write planning."""

from __future__ import annotations

import errno
import itertools
import random

import pytest

from pyceph.common.errors import CephError
from pyceph.ec import (
    Codec,
    ErasureCodeError,
    StripeInfo,
    available_backends,
    backend_table,
    check_append_only_write,
    merge_write,
    normalize_profile,
    parse_profile,
    parse_profile_args,
    plan_write,
    stripe_width_for,
)


def _rand(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def _jer(k: int, m: int, **kw: str) -> dict[str, str]:
    return {"plugin": "jerasure", "technique": "reed_sol_van", "k": str(k), "m": str(m), **kw}


# ------------------------------------------------------------------ profiles
def test_backends_detected() -> None:
    avail = available_backends()
    assert "isa_l_rs_cauchy" in avail and "isa_l_rs_vand" in avail
    table = backend_table()
    assert table["jerasure/reed_sol_van"] == "isa_l_rs_cauchy"
    assert table["isa/reed_sol_van"] == "isa_l_rs_vand"
    assert table["isa/cauchy"] == "isa_l_rs_cauchy"
    assert table["jerasure/liberation"] is None
    assert backend_table(m=1)["jerasure/reed_sol_van"] == "isa_l_rs_vand"  # XOR parity


def test_normalize_jerasure_defaults() -> None:
    assert normalize_profile({"plugin": "jerasure", "technique": "reed_sol_van"}) == {
        "crush-device-class": "",
        "crush-failure-domain": "host",
        "crush-root": "default",
        "jerasure-per-chunk-alignment": "false",
        "k": "7",
        "m": "3",
        "plugin": "jerasure",
        "technique": "reed_sol_van",
        "w": "8",
    }


def test_normalize_isa_defaults() -> None:
    p = parse_profile({"plugin": "isa"})
    assert (p.k, p.m, p.technique) == (7, 3, "reed_sol_van")
    assert "w" not in p.raw and p.raw["technique"] == "reed_sol_van"


def test_parse_profile_args_merges_default() -> None:
    prof = parse_profile_args(["k=4", "m=2", "crush-failure-domain=osd"])
    assert prof == {
        "plugin": "jerasure",
        "technique": "reed_sol_van",
        "k": "4",
        "m": "2",
        "crush-failure-domain": "osd",
    }
    assert parse_profile(prof).crush_failure_domain == "osd"
    # another plugin: only the user's keys
    assert parse_profile_args(["plugin=isa", "k=3"]) == {"plugin": "isa", "k": "3"}
    with pytest.raises(ErasureCodeError) as ei:
        parse_profile_args(["ruleset-failure-domain=osd"])
    assert ei.value.errno == errno.EINVAL
    assert "try 'crush-failure-domain' instead" in str(ei.value)


@pytest.mark.parametrize(
    ("profile", "err", "msg"),
    [
        (_jer(1, 1), errno.EINVAL, "k=1 must be >= 2"),
        (_jer(2, 0), errno.EINVAL, "m=0 must be >= 1"),
        (_jer(2, 1, w="7"), errno.EINVAL, "ReedSolomonVandermonde: w=7 must be one of {8, 16, 32}"),
        (
            {"plugin": "jerasure", "technique": "reed_sol_van", "k": "abc"},
            errno.EINVAL,
            "could not convert k=abc to int because Expected option value to be integer, "
            "got 'abc', set to default 7",
        ),
        (
            {"plugin": "jerasure", "technique": "reed_sol_van", "k": "3x"},
            errno.EINVAL,
            "The option value '3x' seems to be invalid",
        ),
        (
            {"plugin": "jerasure", "technique": "nope"},
            errno.ENOENT,
            "technique=nope is not a valid coding technique.",
        ),
        (
            {"plugin": "jerasure", "technique": "liberation"},
            errno.ENOENT,
            "no pyeclib backend",
        ),
        (
            {"plugin": "jerasure", "technique": "reed_sol_r6_op", "m": "3"},
            errno.EINVAL,
            "ReedSolomonRAID6: m=3 must be 2 for RAID6",
        ),
        ({"plugin": "isa", "technique": "foo"}, errno.ENOENT, "reed_sol_van,cauchy"),
        (
            {"plugin": "isa", "k": "4", "m": "5"},
            errno.EINVAL,
            "Vandermonde: m=5 should be less than 5 to guarantee an MDS codec",
        ),
        (
            {"plugin": "isa", "k": "22", "m": "4"},
            errno.EINVAL,
            "Vandermonde: k=22 should be less than 22",
        ),
        ({"plugin": "nosuch"}, errno.EIO, "load dlopen("),
        ({"plugin": "lrc"}, errno.EIO, "libec_lrc.so"),
        (
            _jer(2, 1, mapping="DD"),
            errno.EINVAL,
            "mapping DD maps 2 chunks instead of the expected 3",
        ),
        (
            _jer(2, 1, stripe_unit="1000"),
            errno.EINVAL,
            "stripe_unit 1000 does not match ec profile alignment. Would be padded to 1024",
        ),
        (_jer(2, 1, stripe_unit="x"), errno.EINVAL, "could not parse stripe_unit 'x'"),
        (_jer(30, 4), errno.EINVAL, "exceeds the 32 chunks"),
        (_jer(2, 1, **{"pyceph-backend": "shss"}), errno.ENOENT, "pyceph-backend=shss"),
    ],
)
def test_profile_errors(profile: dict[str, str], err: int, msg: str) -> None:
    with pytest.raises(ErasureCodeError) as ei:
        parse_profile(profile)
    assert ei.value.errno == err
    assert msg in str(ei.value)
    assert isinstance(ei.value, CephError)


def test_stripe_unit_not_multiple_of_4096_needs_force() -> None:
    with pytest.raises(ErasureCodeError, match="use --force"):
        parse_profile(_jer(2, 1, stripe_unit="2048"))
    assert parse_profile(_jer(2, 1, stripe_unit="2048"), force=True).stripe_unit == 2048


def test_stripe_width() -> None:
    assert stripe_width_for(_jer(2, 2)) == 8192
    assert stripe_width_for(_jer(4, 2)) == 16384
    assert stripe_width_for({"plugin": "isa", "k": "8", "m": "3"}) == 8 * 4096
    assert stripe_width_for(_jer(4, 2, stripe_unit="64K")) == 4 * 65536
    assert stripe_width_for(_jer(3, 2), stripe_unit=8192) == 3 * 8192
    # cauchy without per-chunk alignment: chunks are w*packetsize*4 = 64 KiB (as upstream)
    cauchy = {"plugin": "jerasure", "technique": "cauchy_good", "k": "4", "m": "2"}
    assert stripe_width_for(cauchy) == 4 * 65536
    cauchy["jerasure-per-chunk-alignment"] = "true"
    assert stripe_width_for(cauchy) == 4 * 16384
    p = parse_profile(_jer(3, 2))
    assert p.get_chunk_size(10) == 32 and p.get_chunk_size(97) == 64  # align k*w*4 = 96
    assert parse_profile({"plugin": "isa", "k": "3", "m": "2"}).get_chunk_size(97) == 64


# --------------------------------------------------------------------- codec
CODECS = [
    _jer(2, 1),
    _jer(2, 2),
    _jer(4, 2),
    _jer(8, 3),
    {"plugin": "isa", "k": "4", "m": "2"},
    {"plugin": "isa", "technique": "cauchy", "k": "3", "m": "3"},
    {"plugin": "jerasure", "technique": "cauchy_good", "k": "3", "m": "2", "packetsize": "32"},
]


@pytest.mark.parametrize(
    "profile", CODECS, ids=lambda p: f"{p['plugin']}-{p.get('k')}+{p.get('m')}"
)
@pytest.mark.parametrize("size_kind", ["empty", "one", "short", "stripe", "multi", "big"])
def test_round_trip(profile: dict[str, str], size_kind: str) -> None:
    c = Codec(profile)
    sw = c.stripe_width
    n = {
        "empty": 0,
        "one": 1,
        "short": sw // 3,
        "stripe": sw,
        "multi": 3 * sw + 17,
        "big": 40 * sw - 1,
    }[size_kind]
    data = _rand(n, n)
    shards = c.encode(data)
    assert len(shards) == c.k + c.m
    expect = -(-n // sw) * c.chunk_size
    assert all(len(s) == expect for s in shards)
    assert c.decode(dict(enumerate(shards)), n) == data
    # the padded tail decodes as zeros
    assert c.decode(dict(enumerate(shards))) == data + bytes(c.padded_length(n) - n)
    # systematic: data chunk i of stripe s sits in shard i at s*chunk_size
    cs = c.chunk_size
    padded = data + bytes(c.padded_length(n) - n)
    for s in range(-(-n // sw)):
        for i in range(c.k):
            assert (
                shards[i][s * cs : (s + 1) * cs] == padded[s * sw + i * cs : s * sw + (i + 1) * cs]
            )


@pytest.mark.parametrize("km", [(2, 1), (2, 2), (3, 2), (4, 2), (4, 3)])
def test_decode_every_erasure_pattern(km: tuple[int, int]) -> None:
    k, m = km
    c = Codec(_jer(k, m), batch_bytes=2 * k * 4096)  # several batches
    n = 5 * c.stripe_width + 123
    data = _rand(n, k * 10 + m)
    shards = c.encode(data)
    for lost_n in range(m + 1):
        for lost in itertools.combinations(range(k + m), lost_n):
            avail = {i: s for i, s in enumerate(shards) if i not in lost}
            assert c.decode(avail, n) == data, lost
            got = c.reconstruct(avail, list(range(k + m)))
            assert [got[i] for i in range(k + m)] == shards, lost
    with pytest.raises(ErasureCodeError) as ei:
        c.decode({i: shards[i] for i in range(k - 1)}, n)
    assert ei.value.errno == errno.EIO


def test_isa_techniques_every_pattern() -> None:
    for prof in (
        {"plugin": "isa", "k": "4", "m": "3"},
        {"plugin": "isa", "technique": "cauchy", "k": "5", "m": "3"},
    ):
        c = Codec(prof)
        data = _rand(2 * c.stripe_width + 5, 7)
        shards = c.encode(data)
        for lost in itertools.combinations(range(c.k + c.m), c.m):
            avail = {i: s for i, s in enumerate(shards) if i not in lost}
            assert c.decode(avail, len(data)) == data
            assert c.reconstruct(avail, list(lost)) == {i: shards[i] for i in lost}


def test_reconstruct_subset_and_present() -> None:
    c = Codec(_jer(4, 2))
    data = _rand(3 * c.stripe_width, 3)
    sh = c.encode(data)
    avail = {0: sh[0], 2: sh[2], 3: sh[3], 5: sh[5]}
    assert c.reconstruct(avail, [1]) == {1: sh[1]}
    assert c.reconstruct(avail, [4]) == {4: sh[4]}
    assert c.reconstruct(avail, [0, 4]) == {0: sh[0], 4: sh[4]}
    with pytest.raises(ErasureCodeError) as ei:
        c.reconstruct({0: sh[0], 5: sh[5]}, [1])
    assert ei.value.errno == errno.EIO
    assert c.reconstruct({0: sh[0]}, [0]) == {0: sh[0]}  # nothing to rebuild


def test_decode_input_checks() -> None:
    c = Codec(_jer(2, 1))
    sh = c.encode(_rand(100))
    with pytest.raises(ErasureCodeError, match="not a multiple"):
        c.decode({0: sh[0][:100], 1: sh[1][:100]}, 10)
    with pytest.raises(ErasureCodeError, match="expected"):
        c.decode({0: sh[0], 1: sh[1] + sh[1]}, 10)
    with pytest.raises(ErasureCodeError, match="exceeds"):
        c.decode({0: sh[0], 1: sh[1]}, c.stripe_width + 1)
    with pytest.raises(ErasureCodeError, match="out of range"):
        c.decode({0: sh[0], 7: sh[1]}, 10)
    # non-bytes buffers are accepted everywhere
    data = _rand(5000, 1)
    sh = c.encode(bytearray(data))
    assert c.decode({1: memoryview(sh[1]), 2: bytearray(sh[2])}, 5000) == data


def test_min_to_decode() -> None:
    c = Codec(_jer(4, 2))
    assert c.min_to_decode({0, 1}, {0, 1, 2, 3, 4, 5}) == {0, 1}
    assert c.min_to_decode({0, 1}, {1, 2, 3, 4, 5}) == {1, 2, 3, 4}
    assert c.min_to_decode([5], {0, 2, 3, 4}) == {0, 2, 3, 4}
    with pytest.raises(ErasureCodeError) as ei:
        c.min_to_decode({0}, {1, 2, 3})
    assert ei.value.errno == errno.EIO


def test_mapping() -> None:
    c = Codec({"plugin": "isa", "k": "2", "m": "1", "mapping": "_DD"})
    assert [c.profile.chunk_index(i) for i in range(3)] == [1, 2, 0]
    data = _rand(2 * 4096, 5)
    sh = c.encode(data)
    assert sh[1] == data[:4096] and sh[2] == data[4096:]
    assert sh[0] == bytes(a ^ b for a, b in zip(sh[1], sh[2], strict=True))  # m=1: XOR
    assert c.decode({0: sh[0], 2: sh[2]}, len(data)) == data
    assert c.reconstruct({0: sh[0], 1: sh[1]}, [2]) == {2: sh[2]}


# ---------------------------------------------- parity identical to upstream isa
def _gf_tables() -> tuple[list[int], list[int]]:
    exp, log = [0] * 512, [0] * 256
    x = 1
    for i in range(255):
        exp[i], log[x] = x, i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for i in range(255, 512):
        exp[i] = exp[i - 255]
    return exp, log


def _reference_parity(matrix: list[list[int]], chunks: list[bytes]) -> list[bytes]:
    exp, log = _gf_tables()

    def mul(a: int, b: int) -> int:
        return 0 if a == 0 or b == 0 else exp[log[a] + log[b]]

    out = []
    for row in matrix:
        acc = bytearray(len(chunks[0]))
        for coef, chunk in zip(row, chunks, strict=True):
            t = bytes(mul(coef, b) for b in range(256))
            acc = bytearray(a ^ b for a, b in zip(acc, chunk.translate(t), strict=True))
        out.append(bytes(acc))
    return out


def test_isa_parity_matches_upstream_matrices() -> None:
    """isa reed_sol_van / cauchy parity equals ISA-L's gf_gen_rs_matrix / cauchy1 codes."""
    exp, log = _gf_tables()

    def mul(a: int, b: int) -> int:
        return 0 if a == 0 or b == 0 else exp[log[a] + log[b]]

    def inv(a: int) -> int:
        return exp[255 - log[a]]

    k, m = 4, 3
    vand, gen = [], 1
    for _ in range(m):
        row, p = [], 1
        for _ in range(k):
            row.append(p)
            p = mul(p, gen)
        vand.append(row)
        gen = mul(gen, 2)
    cauchy = [[inv(i ^ j) for j in range(k)] for i in range(k, k + m)]
    for technique, matrix in (("reed_sol_van", vand), ("cauchy", cauchy)):
        c = Codec({"plugin": "isa", "technique": technique, "k": str(k), "m": str(m)})
        data = _rand(c.stripe_width, 11)
        sh = c.encode(data)
        assert sh[k:] == _reference_parity(matrix, sh[:k]), technique


# -------------------------------------------------------------- stripe math
def test_stripe_info_basics() -> None:
    s = StripeInfo(4, 16384)
    assert s.chunk_size == 4096
    assert s.logical_to_prev_chunk_offset(16383) == 0
    assert s.logical_to_next_chunk_offset(1) == 4096
    assert s.logical_to_next_chunk_offset(16384) == 4096
    assert s.logical_to_next_chunk_offset(16385) == 8192
    assert s.logical_to_prev_stripe_offset(20000) == 16384
    assert s.logical_to_next_stripe_offset(20000) == 32768
    assert s.logical_to_next_stripe_offset(32768) == 32768
    assert s.aligned_logical_offset_to_chunk_offset(32768) == 8192
    assert s.aligned_chunk_offset_to_logical_offset(8192) == 32768
    assert s.offset_len_to_stripe_bounds((20000, 100)) == (16384, 16384)
    assert s.offset_len_to_stripe_bounds((16000, 1000)) == (0, 32768)
    assert s.chunk_extent(16000, 1000) == (0, 8192)
    assert s.logical_to_shard(16384 + 4096 * 2 + 7) == (2, 4096 + 7)
    assert s.shard_to_logical(2, 4096 + 7) == 16384 + 4096 * 2 + 7
    assert s.data_chunks_for(0, 1) == [0]
    assert s.data_chunks_for(4000, 200) == [0, 1]
    assert s.data_chunks_for(16000, 1000) == [0, 3]
    assert s.data_chunks_for(5, 16384) == [0, 1, 2, 3]
    assert s.object_shard_size(0) == 0 and s.object_shard_size(16385) == 8192
    with pytest.raises(ValueError):
        StripeInfo(3, 1000)


def test_logical_shard_mapping_matches_codec() -> None:
    c = Codec(_jer(3, 2))
    data = _rand(5 * c.stripe_width, 9)
    sh = c.encode(data)
    for off in (0, 1, 4095, 4096, 12287, 12288, 40000, len(data) - 1):
        chunk, soff = c.stripe_info.logical_to_shard(off)
        assert sh[chunk][soff] == data[off]


def test_append_only_rules() -> None:
    s = StripeInfo(2, 8192)
    check_append_only_write(s, 0, 0, exists=False)
    check_append_only_write(s, 8192, 8192)
    for off, size, exists in (
        (100, 0, True),
        (8192, 0, False),
        (8192, 16384, True),
        (0, 8192, True),
    ):
        with pytest.raises(CephError) as ei:
            check_append_only_write(s, off, size, exists)
        assert ei.value.errno == errno.EOPNOTSUPP


def test_plan_write() -> None:
    s = StripeInfo(2, 8192)
    # aligned full-stripe overwrite: no read
    p = plan_write(s, [(8192, 8192)], 3 * 8192)
    assert (p.to_read, p.will_write, p.projected_size) == ([], [(8192, 8192)], 3 * 8192)
    # partial write inside one stripe: read-modify-write that stripe
    p = plan_write(s, [(100, 10)], 3 * 8192)
    assert (p.to_read, p.will_write) == ([(0, 8192)], [(0, 8192)])
    # spanning head and tail stripes
    p = plan_write(s, [(8000, 9000)], 4 * 8192)
    assert p.to_read == [(0, 8192), (16384, 8192)]
    assert p.will_write == [(0, 24576)]
    # appending past the end: the partial tail stripe beyond the old size is not read
    p = plan_write(s, [(8192 + 100, 10)], 8192)
    assert p.to_read == [] and p.will_write == [(8192, 8192)]
    assert (p.projected_size, p.logical_size) == (16384, 8302)
    # writing far past the end covers the hole from the old end
    p = plan_write(s, [(5 * 8192, 8192)], 8192)
    assert p.will_write == [(8192, 5 * 8192)] and p.to_read == []
    # unaligned old size: the partially filled last stripe is read
    p = plan_write(s, [(9000, 100)], 9500)
    assert p.to_read == [(8192, 8192)] and p.logical_size == 9500
    # truncate to an unaligned offset rewrites that stripe
    p = plan_write(s, [], 4 * 8192, truncate=10000)
    assert p.to_read == [(8192, 8192)] and p.will_write == [(8192, 8192)]
    assert (p.projected_size, p.logical_size) == (16384, 10000)


def test_read_modify_write_end_to_end() -> None:
    c = Codec(_jer(3, 2))
    s = c.stripe_info
    sw = s.stripe_width
    old = _rand(4 * sw - 50, 1)
    shards = c.encode(old)
    new = _rand(sw + 10, 2)
    off = sw // 2
    plan = plan_write(s, [(off, len(new))], len(old))
    read = {
        o: c.decode({i: sh for i, sh in enumerate(shards)})[o : o + ln] for o, ln in plan.to_read
    }
    expect = bytearray(old)
    expect[off : off + len(new)] = new
    for ext_off, ext_len in plan.will_write:
        buf = merge_write(s, (ext_off, ext_len), read, [(off, new)], plan.logical_size)
        enc = c.encode(buf)
        c0, _ = s.aligned_offset_len_to_chunk((ext_off, ext_len))
        shards = [sh[:c0] + e + sh[c0 + len(e) :] for sh, e in zip(shards, enc, strict=True)]
    assert c.decode({i: shards[i] for i in (1, 3, 4)}, plan.logical_size) == bytes(expect)


def test_merge_write_truncate_then_write() -> None:
    s = StripeInfo(2, 16)
    old = {0: bytes(range(1, 17))}
    out = merge_write(s, (0, 16), old, [(12, b"\xff\xff")], 14, truncate=4)
    assert out == bytes(range(1, 5)) + bytes(8) + b"\xff\xff" + bytes(2)
