"""CRUSH placement (crush_do_rule): maps an input x through a rule to devices.

The map is first flattened into tuples (see ``Compiled``) so that the inner
loops only index lists; results are bit-exact with upstream's mapper.
"""

from __future__ import annotations

from collections.abc import Sequence

from .hash import crush_hash32_2, crush_hash32_3, crush_hash32_4
from .ln import LN_TABLE, crush_ln

CRUSH_ITEM_NONE = 0x7FFFFFFF
CRUSH_ITEM_UNDEF = 0x7FFFFFFE

ALG_UNIFORM = 1
ALG_LIST = 2
ALG_TREE = 3
ALG_STRAW = 4
ALG_STRAW2 = 5

OP_NOOP = 0
OP_TAKE = 1
OP_CHOOSE_FIRSTN = 2
OP_CHOOSE_INDEP = 3
OP_EMIT = 4
OP_CHOOSELEAF_FIRSTN = 6
OP_CHOOSELEAF_INDEP = 7
OP_SET_CHOOSE_TRIES = 8
OP_SET_CHOOSELEAF_TRIES = 9
OP_SET_CHOOSE_LOCAL_TRIES = 10
OP_SET_CHOOSE_LOCAL_FALLBACK_TRIES = 11
OP_SET_CHOOSELEAF_VARY_R = 12
OP_SET_CHOOSELEAF_STABLE = 13

_LN_OFFSET = 0x1000000000000

# Hash draws are a pure function of (x, item, r), so they can be reused across
# calls: remapping every PG after a map change mostly repeats the same draws.
_DRAW_CACHE: dict[tuple[int, int, int], int] = {}
_DRAW_CACHE_MAX = 1 << 20


class CBucket:
    """A bucket reduced to what the mapper reads."""

    __slots__ = ("id", "type", "alg", "items", "weights", "size", "aux")

    def __init__(
        self, bid: int, btype: int, alg: int, items: Sequence[int], weights: Sequence[int], aux
    ) -> None:
        self.id = bid
        self.type = btype
        self.alg = alg
        self.items = tuple(items)
        self.weights = tuple(weights)
        self.size = len(self.items)
        # list: cumulative sums; straw: straw lengths; tree: node weights
        self.aux = aux


class Compiled:
    """Flattened CRUSH map: buckets indexed by -1-id, tunables, rules as step tuples."""

    __slots__ = (
        "buckets",
        "max_buckets",
        "max_devices",
        "rules",
        "choose_local_tries",
        "choose_local_fallback_tries",
        "choose_total_tries",
        "chooseleaf_descend_once",
        "chooseleaf_vary_r",
        "chooseleaf_stable",
    )

    def __init__(self) -> None:
        self.buckets: list[CBucket | None] = []
        self.max_buckets = 0
        self.max_devices = 0
        self.rules: list[tuple[tuple[int, int, int], ...] | None] = []
        self.choose_local_tries = 0
        self.choose_local_fallback_tries = 0
        self.choose_total_tries = 50
        self.chooseleaf_descend_once = 1
        self.chooseleaf_vary_r = 1
        self.chooseleaf_stable = 1


def _perm_choose(b: CBucket, x: int, r: int) -> int:
    size = b.size
    pr = r % size
    if pr == 0:
        return b.items[crush_hash32_3(x, b.id, 0) % size]
    perm = list(range(size))
    for p in range(pr + 1):
        if p < size - 1:
            i = crush_hash32_3(x, b.id, p) % (size - p)
            if i:
                perm[p], perm[p + i] = perm[p + i], perm[p]
    return b.items[perm[pr]]


def _list_choose(b: CBucket, x: int, r: int) -> int:
    items = b.items
    weights = b.weights
    sums = b.aux
    for i in range(b.size - 1, -1, -1):
        w = crush_hash32_4(x, items[i], r, b.id) & 0xFFFF
        w = (w * sums[i]) >> 16
        if w < weights[i]:
            return items[i]
    return items[0]


def _tree_choose(b: CBucket, x: int, r: int) -> int:
    node_weights = b.aux
    n = len(node_weights) >> 1
    while not n & 1:
        w = node_weights[n]
        t = (crush_hash32_4(x, n, r, b.id) * w) >> 32
        h = (n & -n).bit_length() - 1
        left = n - (1 << (h - 1))
        n = left if t < node_weights[left] else n + (1 << (h - 1))
    return b.items[n >> 1]


def _straw_choose(b: CBucket, x: int, r: int) -> int:
    items = b.items
    straws = b.aux
    high = 0
    high_draw = 0
    for i in range(b.size):
        draw = (crush_hash32_3(x, items[i], r) & 0xFFFF) * straws[i]
        if i == 0 or draw > high_draw:
            high = i
            high_draw = draw
    return items[high]


def _straw2_choose(b: CBucket, x: int, r: int) -> int:
    items = b.items
    if b.size == 1:
        return items[0]
    weights = b.weights
    high = 0
    high_draw = 0
    ln_table = LN_TABLE
    cache = _DRAW_CACHE
    for i in range(b.size):
        w = weights[i]
        if w:
            item = items[i]
            key = (x, item, r)
            u = cache.get(key)
            if u is None:
                if len(cache) >= _DRAW_CACHE_MAX:
                    cache.clear()
                u = cache[key] = crush_hash32_3(x, item, r) & 0xFFFF
            ln = ln_table[u]
            if ln is None:
                ln = ln_table[u] = crush_ln(u)
            # ln is <= 0; C's division truncates toward zero
            ln = _LN_OFFSET - ln
            draw = -(ln // w)
        else:
            draw = -0x8000000000000000
        if i == 0 or draw > high_draw:
            high = i
            high_draw = draw
    return items[high]


def bucket_choose(b: CBucket, x: int, r: int) -> int:
    """Pick one item of bucket b for input x and replica rank r."""
    alg = b.alg
    if alg == ALG_STRAW2:
        return _straw2_choose(b, x, r)
    if alg == ALG_UNIFORM:
        return _perm_choose(b, x, r)
    if alg == ALG_LIST:
        return _list_choose(b, x, r)
    if alg == ALG_STRAW:
        return _straw_choose(b, x, r)
    if alg == ALG_TREE:
        return _tree_choose(b, x, r)
    return b.items[0]


def _memo_choose(b: CBucket, x: int, r: int, memo: dict[int, int]) -> int:
    # x is fixed for the whole do_rule call, so (bucket, r) determines the choice
    key = (r << 32) | (-b.id & 0xFFFFFFFF)
    item = memo.get(key)
    if item is None:
        item = memo[key] = bucket_choose(b, x, r)
    return item


def _is_out(weight: Sequence[int], weight_max: int, item: int, x: int) -> bool:
    if item >= weight_max:
        return True
    w = weight[item]
    if w >= 0x10000:
        return False
    if w == 0:
        return True
    return (crush_hash32_2(x, item) & 0xFFFF) >= w


def _choose_firstn(
    m: Compiled,
    bucket: CBucket,
    weight: Sequence[int],
    weight_max: int,
    x: int,
    numrep: int,
    type_: int,
    out: list[int],
    outpos: int,
    out_size: int,
    tries: int,
    recurse_tries: int,
    local_retries: int,
    local_fallback_retries: int,
    recurse_to_leaf: bool,
    vary_r: int,
    stable: int,
    out2: list[int] | None,
    parent_r: int,
    memo: dict[int, int],
) -> int:
    buckets = m.buckets
    max_buckets = m.max_buckets
    max_devices = m.max_devices
    count = out_size
    item = 0
    rep = 0 if stable else outpos
    while rep < numrep and count > 0:
        ftotal = 0
        skip_rep = False
        while True:  # descent attempts
            retry_descent = False
            in_ = bucket
            flocal = 0
            while True:  # attempts within the current bucket
                collide = False
                retry_bucket = False
                r = rep + parent_r + ftotal
                reject = False
                if in_.size == 0:
                    reject = True
                else:
                    if (
                        local_fallback_retries > 0
                        and flocal >= (in_.size >> 1)
                        and flocal > local_fallback_retries
                    ):
                        item = _perm_choose(in_, x, r)
                    else:
                        item = _memo_choose(in_, x, r, memo)
                    if item >= max_devices:
                        skip_rep = True
                        break
                    itemtype = buckets[-1 - item].type if item < 0 else 0
                    if itemtype != type_:
                        if item >= 0 or (-1 - item) >= max_buckets:
                            skip_rep = True
                            break
                        in_ = buckets[-1 - item]
                        retry_bucket = True
                        continue
                    for i in range(outpos):
                        if out[i] == item:
                            collide = True
                            break
                    if not collide and recurse_to_leaf:
                        if item < 0:
                            sub_r = r >> (vary_r - 1) if vary_r else 0
                            got = _choose_firstn(
                                m,
                                buckets[-1 - item],
                                weight,
                                weight_max,
                                x,
                                1 if stable else outpos + 1,
                                0,
                                out2,
                                outpos,
                                count,
                                recurse_tries,
                                0,
                                local_retries,
                                local_fallback_retries,
                                False,
                                vary_r,
                                stable,
                                None,
                                sub_r,
                                memo,
                            )
                            if got <= outpos:
                                reject = True
                        else:
                            out2[outpos] = item
                    if not reject and not collide and itemtype == 0:
                        reject = _is_out(weight, weight_max, item, x)
                if reject or collide:
                    ftotal += 1
                    flocal += 1
                    retry_locally = collide and flocal <= local_retries
                    exhaustive = (
                        local_fallback_retries > 0 and flocal <= in_.size + local_fallback_retries
                    )
                    if retry_locally or exhaustive:
                        retry_bucket = True
                    elif ftotal < tries:
                        retry_descent = True
                    else:
                        skip_rep = True
                if not retry_bucket:
                    break
            if not retry_descent:
                break
        if not skip_rep:
            out[outpos] = item
            outpos += 1
            count -= 1
        rep += 1
    return outpos


def _choose_indep(
    m: Compiled,
    bucket: CBucket,
    weight: Sequence[int],
    weight_max: int,
    x: int,
    left: int,
    numrep: int,
    type_: int,
    out: list[int],
    outpos: int,
    tries: int,
    recurse_tries: int,
    recurse_to_leaf: bool,
    out2: list[int] | None,
    parent_r: int,
    memo: dict[int, int],
) -> None:
    buckets = m.buckets
    max_buckets = m.max_buckets
    max_devices = m.max_devices
    endpos = outpos + left
    for rep in range(outpos, endpos):
        out[rep] = CRUSH_ITEM_UNDEF
        if out2 is not None:
            out2[rep] = CRUSH_ITEM_UNDEF
    ftotal = 0
    while left > 0 and ftotal < tries:
        for rep in range(outpos, endpos):
            if out[rep] != CRUSH_ITEM_UNDEF:
                continue
            in_ = bucket
            while True:
                r = rep + parent_r
                if in_.alg == ALG_UNIFORM and in_.size % numrep == 0:
                    r += (numrep + 1) * ftotal
                else:
                    r += numrep * ftotal
                if in_.size == 0:
                    break
                item = _memo_choose(in_, x, r, memo)
                if item >= max_devices:
                    out[rep] = CRUSH_ITEM_NONE
                    if out2 is not None:
                        out2[rep] = CRUSH_ITEM_NONE
                    left -= 1
                    break
                itemtype = buckets[-1 - item].type if item < 0 else 0
                if itemtype != type_:
                    if item >= 0 or (-1 - item) >= max_buckets:
                        out[rep] = CRUSH_ITEM_NONE
                        if out2 is not None:
                            out2[rep] = CRUSH_ITEM_NONE
                        left -= 1
                        break
                    in_ = buckets[-1 - item]
                    continue
                if item in out[outpos:endpos]:
                    break
                if recurse_to_leaf:
                    if item < 0:
                        _choose_indep(
                            m,
                            buckets[-1 - item],
                            weight,
                            weight_max,
                            x,
                            1,
                            numrep,
                            0,
                            out2,
                            rep,
                            recurse_tries,
                            0,
                            False,
                            None,
                            r,
                            memo,
                        )
                        if out2[rep] == CRUSH_ITEM_NONE:
                            break
                    else:
                        out2[rep] = item
                if itemtype == 0 and _is_out(weight, weight_max, item, x):
                    break
                out[rep] = item
                left -= 1
                break
        ftotal += 1
    for rep in range(outpos, endpos):
        if out[rep] == CRUSH_ITEM_UNDEF:
            out[rep] = CRUSH_ITEM_NONE
        if out2 is not None and out2[rep] == CRUSH_ITEM_UNDEF:
            out2[rep] = CRUSH_ITEM_NONE


def do_rule(m: Compiled, ruleno: int, x: int, result_max: int, weight: Sequence[int]) -> list[int]:
    """Run rule ``ruleno`` for input x; weight is the per-device 16.16 reweight vector."""
    if ruleno < 0 or ruleno >= len(m.rules) or result_max <= 0:
        return []
    steps = m.rules[ruleno]
    if steps is None:
        return []
    x &= 0xFFFFFFFF
    weight_max = len(weight)
    buckets = m.buckets
    max_buckets = m.max_buckets
    result: list[int] = []
    w: list[int] = []
    memo: dict[int, int] = {}
    choose_tries = m.choose_total_tries + 1
    choose_leaf_tries = 0
    local_retries = m.choose_local_tries
    local_fallback_retries = m.choose_local_fallback_tries
    vary_r = m.chooseleaf_vary_r
    stable = m.chooseleaf_stable

    for op, arg1, arg2 in steps:
        if op == OP_TAKE:
            if (0 <= arg1 < m.max_devices) or (
                0 <= -1 - arg1 < max_buckets and buckets[-1 - arg1] is not None
            ):
                w = [arg1]
        elif op == OP_SET_CHOOSE_TRIES:
            if arg1 > 0:
                choose_tries = arg1
        elif op == OP_SET_CHOOSELEAF_TRIES:
            if arg1 > 0:
                choose_leaf_tries = arg1
        elif op == OP_SET_CHOOSE_LOCAL_TRIES:
            if arg1 >= 0:
                local_retries = arg1
        elif op == OP_SET_CHOOSE_LOCAL_FALLBACK_TRIES:
            if arg1 >= 0:
                local_fallback_retries = arg1
        elif op == OP_SET_CHOOSELEAF_VARY_R:
            if arg1 >= 0:
                vary_r = arg1
        elif op == OP_SET_CHOOSELEAF_STABLE:
            if arg1 >= 0:
                stable = arg1
        elif op in (OP_CHOOSE_FIRSTN, OP_CHOOSELEAF_FIRSTN, OP_CHOOSE_INDEP, OP_CHOOSELEAF_INDEP):
            if not w:
                continue
            firstn = op in (OP_CHOOSE_FIRSTN, OP_CHOOSELEAF_FIRSTN)
            recurse_to_leaf = op in (OP_CHOOSELEAF_FIRSTN, OP_CHOOSELEAF_INDEP)
            o: list[int] = []
            c: list[int] = []
            for wi in w:
                numrep = arg1
                if numrep <= 0:
                    numrep += result_max
                    if numrep <= 0:
                        continue
                bno = -1 - wi
                if bno < 0 or bno >= max_buckets or buckets[bno] is None:
                    continue
                osize = len(o)
                room = result_max - osize
                if firstn:
                    if choose_leaf_tries:
                        recurse_tries = choose_leaf_tries
                    elif m.chooseleaf_descend_once:
                        recurse_tries = 1
                    else:
                        recurse_tries = choose_tries
                    out = [0] * max(numrep, room, 1)
                    out2 = [0] * len(out)
                    got = _choose_firstn(
                        m,
                        buckets[bno],
                        weight,
                        weight_max,
                        x,
                        numrep,
                        arg2,
                        out,
                        0,
                        room,
                        choose_tries,
                        recurse_tries,
                        local_retries,
                        local_fallback_retries,
                        recurse_to_leaf,
                        vary_r,
                        stable,
                        out2,
                        0,
                        memo,
                    )
                else:
                    got = min(numrep, room)
                    out = [0] * max(got, 1)
                    out2 = [0] * len(out)
                    _choose_indep(
                        m,
                        buckets[bno],
                        weight,
                        weight_max,
                        x,
                        got,
                        numrep,
                        arg2,
                        out,
                        0,
                        choose_tries,
                        choose_leaf_tries or 1,
                        recurse_to_leaf,
                        out2,
                        0,
                        memo,
                    )
                o.extend(out[:got])
                c.extend(out2[:got])
            w = c if recurse_to_leaf else o
        elif op == OP_EMIT:
            for item in w:
                if len(result) >= result_max:
                    break
                result.append(item)
            w = []
    return result
