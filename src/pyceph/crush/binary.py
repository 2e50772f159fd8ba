"""Upstream's binary CRUSH map format (CrushWrapper::encode/decode), so maps can be
exchanged with the real ``crushtool -c/-i`` and stored in the OSDMap."""

from __future__ import annotations

import struct

from .map import Bucket, CrushError, CrushMap, Rule, Tunables
from .mapper import ALG_LIST, ALG_STRAW, ALG_STRAW2, ALG_TREE, ALG_UNIFORM

CRUSH_MAGIC = 0x00010000
#: Bounds on a decoded map's header counts: buckets and rules are read one by one (each
#: needs input bytes), but devices size per-device weight arrays, so they are capped
#: near the OSD count a map may hold (osdmap MAX_DECODED_OSDS).
MAX_BUCKETS = 1 << 24
MAX_RULES = 1 << 16
MAX_DEVICES = 1 << 20


class _Writer:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def u8(self, v: int) -> None:
        self.parts.append(struct.pack("<B", v & 0xFF))

    def u16(self, v: int) -> None:
        self.parts.append(struct.pack("<H", v & 0xFFFF))

    def u32(self, v: int) -> None:
        self.parts.append(struct.pack("<I", v & 0xFFFFFFFF))

    def s32(self, v: int) -> None:
        self.parts.append(struct.pack("<i", v))

    def string(self, s: str) -> None:
        raw = s.encode()
        self.u32(len(raw))
        self.parts.append(raw)

    def int_str_map(self, m: dict[int, str]) -> None:
        self.u32(len(m))
        for k in sorted(m):
            self.s32(k)
            self.string(m[k])

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def _take(self, fmt: str) -> int:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise CrushError("buffer::end_of_buffer")
        (v,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return v

    def u8(self) -> int:
        return self._take("<B")

    def u16(self) -> int:
        return self._take("<H")

    def u32(self) -> int:
        return self._take("<I")

    def s32(self) -> int:
        return self._take("<i")

    def string(self) -> str:
        n = self.u32()
        if self.pos + n > len(self.data):
            raise CrushError("buffer::end_of_buffer")
        raw = self.data[self.pos : self.pos + n]
        self.pos += n
        return raw.decode(errors="replace")

    def int_str_map(self) -> dict[int, str]:
        return {self.s32(): self.string() for _ in range(self.u32())}


def encode(m: CrushMap) -> bytes:
    """Serialize m exactly as CrushWrapper::encode does (luminous+ features)."""
    w = _Writer()
    w.u32(CRUSH_MAGIC)
    w.s32(m.max_buckets)
    w.u32(m.max_rules)
    w.s32(m.max_devices)
    for pos in range(m.max_buckets):
        b = m.buckets.get(-1 - pos)
        if b is None:
            w.u32(0)
            continue
        w.u32(b.alg)
        w.s32(b.id)
        w.u16(b.type_id)
        w.u8(b.alg)
        w.u8(b.hash)
        w.u32(b.weight)
        w.u32(len(b.items))
        for it in b.items:
            w.s32(it)
        if b.alg == ALG_UNIFORM:
            w.u32(b.weights[0] if b.weights else 0)
        elif b.alg == ALG_LIST:
            total = 0
            for wt in b.weights:
                total += wt
                w.u32(wt)
                w.u32(total)
        elif b.alg == ALG_TREE:
            from .map import tree_node_weights

            nodes = b.node_weights or tree_node_weights(b.weights)
            w.u8(len(nodes))
            for nw in nodes:
                w.u32(nw)
        elif b.alg == ALG_STRAW:
            from .map import calc_straws

            straws = b.straws or calc_straws(b.weights, m.tunables.straw_calc_version)
            for wt, st in zip(b.weights, straws, strict=True):
                w.u32(wt)
                w.u32(st)
        elif b.alg == ALG_STRAW2:
            for wt in b.weights:
                w.u32(wt)
    for rid in range(m.max_rules):
        r = m.rules.get(rid)
        if r is None:
            w.u32(0)
            continue
        w.u32(1)
        w.u32(len(r.steps))
        w.u8(r.ruleset if r.ruleset is not None else rid)
        w.u8(r.type)
        w.u8(r.min_size)
        w.u8(r.max_size)
        for op, a1, a2 in r.steps:
            w.u32(op)
            w.s32(a1)
            w.s32(a2)
    w.int_str_map(m.types)
    names = dict(m.devices)
    for bid, b in m.buckets.items():
        names[bid] = b.name
    w.int_str_map(names)
    w.int_str_map({rid: r.name for rid, r in m.rules.items() if r.name})
    t = m.tunables
    w.u32(t.choose_local_tries)
    w.u32(t.choose_local_fallback_tries)
    w.u32(t.choose_total_tries)
    w.u32(t.chooseleaf_descend_once)
    w.u8(t.chooseleaf_vary_r)
    w.u8(t.straw_calc_version)
    w.u32(t.allowed_bucket_algs)
    w.u8(t.chooseleaf_stable)
    w.u32(len(m.class_map))
    for k in sorted(m.class_map):
        w.s32(k)
        w.s32(m.class_map[k])
    w.int_str_map(m.class_name)
    w.u32(len(m.class_bucket))
    for k in sorted(m.class_bucket):
        w.s32(k)
        inner = m.class_bucket[k]
        w.u32(len(inner))
        for c in sorted(inner):
            w.s32(c)
            w.s32(inner[c])
    if m.raw_choose_args:
        w.parts.append(m.raw_choose_args)
    else:
        w.u32(0)
    return w.getvalue()


def decode(data: bytes) -> CrushMap:
    """Parse a binary map; raises CrushError on malformed input."""
    r = _Reader(data)
    if r.remaining() < 4 or r.u32() != CRUSH_MAGIC:
        raise CrushError("bad magic number")
    m = CrushMap()
    m.tunables = Tunables.legacy()
    max_buckets = r.s32()
    max_rules = r.u32()
    max_devices = r.s32()
    if not (0 <= max_buckets <= MAX_BUCKETS and 0 <= max_devices <= MAX_DEVICES) or max_rules > MAX_RULES:  # fmt: skip
        raise CrushError("bad map header")
    buckets: list[Bucket] = []
    for _ in range(max_buckets):
        alg = r.u32()
        if alg == 0:
            continue
        bid = r.s32()
        btype = r.u16()
        balg = r.u8()
        bhash = r.u8()
        r.u32()  # weight, recomputed from items
        size = r.u32()
        if size > r.remaining():
            raise CrushError("bad bucket size")
        items = [r.s32() for _ in range(size)]
        b = Bucket(bid, "", btype, balg, bhash, items, [])
        if balg == ALG_UNIFORM:
            iw = r.u32()
            b.weights = [iw] * size
        elif balg == ALG_LIST:
            for _ in range(size):
                b.weights.append(r.u32())
                r.u32()
        elif balg == ALG_TREE:
            n = r.u8()
            b.node_weights = [r.u32() for _ in range(n)]
            b.weights = [b.node_weights[2 * i + 1] for i in range(size)]
        elif balg == ALG_STRAW:
            b.straws = []
            for _ in range(size):
                b.weights.append(r.u32())
                b.straws.append(r.u32())
        elif balg == ALG_STRAW2:
            b.weights = [r.u32() for _ in range(size)]
        else:
            raise CrushError(f"unknown bucket alg {balg}")
        buckets.append(b)
    rules: list[Rule] = []
    for rid in range(max_rules):
        if r.u32() == 0:
            continue
        n = r.u32()
        ruleset, rtype, min_size, max_size = r.u8(), r.u8(), r.u8(), r.u8()
        if n * 12 > r.remaining():
            raise CrushError("bad rule length")
        steps = [(r.u32(), r.s32(), r.s32()) for _ in range(n)]
        rules.append(Rule(rid, "", rtype, min_size, max_size, steps, ruleset))
    m.types = r.int_str_map()
    names = r.int_str_map()
    rule_names = r.int_str_map()
    t = m.tunables
    if r.remaining() >= 12:
        t.choose_local_tries = r.u32()
        t.choose_local_fallback_tries = r.u32()
        t.choose_total_tries = r.u32()
    if r.remaining() >= 4:
        t.chooseleaf_descend_once = r.u32()
    if r.remaining() >= 1:
        t.chooseleaf_vary_r = r.u8()
    if r.remaining() >= 1:
        t.straw_calc_version = r.u8()
    if r.remaining() >= 4:
        t.allowed_bucket_algs = r.u32()
    if r.remaining() >= 1:
        t.chooseleaf_stable = r.u8()
    if r.remaining() >= 4:
        m.class_map = {r.s32(): r.s32() for _ in range(r.u32())}
        m.class_name = r.int_str_map()
        for _ in range(r.u32()):
            k = r.s32()
            m.class_bucket[k] = {r.s32(): r.s32() for _ in range(r.u32())}
    if r.remaining() >= 4:
        rest = data[r.pos :]
        if rest[:4] != b"\0\0\0\0":
            m.raw_choose_args = rest
    m.max_buckets = max_buckets
    m.max_rules = max_rules
    m.max_devices = max_devices
    for b in buckets:
        b.name = names.get(b.id, "")
        m.buckets[b.id] = b
    for rule in rules:
        rule.name = rule_names.get(rule.id, "")
        m.rules[rule.id] = rule
    m.devices = {k: v for k, v in names.items() if k >= 0}
    m.invalidate()
    return m
