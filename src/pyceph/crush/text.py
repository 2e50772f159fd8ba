"""CRUSH map source text: compile_text() and decompile(), matching ``crushtool -c/-d``
of Ceph Pacific, including its error messages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .map import (
    ALG_IDS,
    ALG_NAMES,
    RULE_TYPE_ERASURE,
    RULE_TYPE_REPLICATED,
    Bucket,
    CrushError,
    CrushMap,
    Rule,
    Tunables,
    f32,
)
from .mapper import (
    ALG_LIST,
    ALG_TREE,
    ALG_UNIFORM,
    OP_CHOOSE_FIRSTN,
    OP_CHOOSE_INDEP,
    OP_CHOOSELEAF_FIRSTN,
    OP_CHOOSELEAF_INDEP,
    OP_EMIT,
    OP_NOOP,
    OP_SET_CHOOSE_LOCAL_FALLBACK_TRIES,
    OP_SET_CHOOSE_LOCAL_TRIES,
    OP_SET_CHOOSE_TRIES,
    OP_SET_CHOOSELEAF_STABLE,
    OP_SET_CHOOSELEAF_TRIES,
    OP_SET_CHOOSELEAF_VARY_R,
    OP_TAKE,
)

__all__ = ["CompileError", "compile_text", "decompile"]

MAX_DEVICE_WEIGHT = 100 * 0x10000
MAX_BUCKET_WEIGHT = 65535 * 0x10000

_SET_STEPS = {
    "set_choose_tries": OP_SET_CHOOSE_TRIES,
    "set_choose_local_tries": OP_SET_CHOOSE_LOCAL_TRIES,
    "set_choose_local_fallback_tries": OP_SET_CHOOSE_LOCAL_FALLBACK_TRIES,
    "set_chooseleaf_tries": OP_SET_CHOOSELEAF_TRIES,
    "set_chooseleaf_vary_r": OP_SET_CHOOSELEAF_VARY_R,
    "set_chooseleaf_stable": OP_SET_CHOOSELEAF_STABLE,
}
_SET_STEP_NAMES = {v: k for k, v in _SET_STEPS.items()}
_TUNABLES = (
    "choose_local_tries",
    "choose_local_fallback_tries",
    "choose_total_tries",
    "chooseleaf_descend_once",
    "chooseleaf_vary_r",
    "chooseleaf_stable",
    "straw_calc_version",
    "allowed_bucket_algs",
)


class CompileError(CrushError):
    """A map source that crushtool would reject; str() is upstream's message."""


# --------------------------------------------------------------------- decompile


def _fixed(v: int) -> str:
    return "%.3f" % (f32(float(v)) / 65536.0)


def _item_name(m: CrushMap, item: int) -> str:
    name = m.get_item_name(item)
    if name:
        return name
    return f"device{item}" if item >= 0 else f"bucket{-1 - item}"


def _type_name(m: CrushMap, t: int) -> str:
    name = m.types.get(t)
    if name:
        return name
    return "device" if t == 0 else f"type{t}"


def _decompile_bucket(m: CrushMap, b: Bucket, out: list[str]) -> None:
    if "~" in b.name:
        return
    out.append(f"{_type_name(m, b.type_id)} {_item_name(m, b.id)} {{\n")
    out.append(f"\tid {b.id}\t\t# do not change unnecessarily\n")
    for cid, shadow in sorted(m.class_bucket.get(b.id, {}).items()):
        out.append(f"\tid {shadow} class {m.class_name[cid]}\t\t# do not change unnecessarily\n")
    out.append(f"\t# weight {_fixed(b.weight)}\n")
    line = f"\talg {ALG_NAMES.get(b.alg, 'unknown')}"
    dopos = False
    if b.alg == ALG_UNIFORM:
        line += f"\t# do not change bucket size ({b.size}) unnecessarily"
        dopos = True
    elif b.alg == ALG_LIST:
        line += "\t# add new items at the end; do not change order unnecessarily"
    elif b.alg == ALG_TREE:
        line += "\t# do not change pos for existing items unnecessarily"
        dopos = True
    out.append(line + "\n")
    out.append(f"\thash {b.hash}\t# {'rjenkins1' if b.hash == 0 else 'unknown'}\n")
    for pos, (item, w) in enumerate(zip(b.items, b.weights, strict=True)):
        s = f"\titem {_item_name(m, item)} weight {_fixed(w)}"
        if dopos:
            s += f" pos {pos}"
        out.append(s + "\n")
    out.append("}\n")


def decompile(m: CrushMap) -> str:
    """Map source text exactly as Pacific's ``crushtool -d`` prints it."""
    out = ["# begin crush map\n"]
    legacy = Tunables.legacy()
    t = m.tunables
    for name in _TUNABLES:
        if getattr(t, name) != getattr(legacy, name):
            out.append(f"tunable {name} {getattr(t, name)}\n")
    out.append("\n# devices\n")
    for i in range(m.max_devices):
        name = m.devices.get(i)
        if name:
            cls_ = m.get_item_class(i)
            out.append(f"device {i} {name}" + (f" class {cls_}" if cls_ else "") + "\n")
    out.append("\n# types\n")
    if 0 not in m.types:
        out.append("type 0 osd\n")
    for tid in sorted(m.types):
        if tid >= 0:
            out.append(f"type {tid} {m.types[tid]}\n")
    out.append("\n# buckets\n")
    done: set[int] = set()
    in_progress: set[int] = set()

    def visit(bid: int) -> None:
        b = m.buckets.get(bid)
        if b is None or bid in done:
            return
        if bid in in_progress:
            raise CrushError("buckets must form a directed acyclic graph")
        in_progress.add(bid)
        for item in b.items:
            visit(item)
        _decompile_bucket(m, b, out)
        in_progress.discard(bid)
        done.add(bid)

    for pos in range(m.max_buckets):
        visit(-1 - pos)
    out.append("\n# rules\n")
    for rid in range(m.max_rules):
        r = m.rules.get(rid)
        if r is None:
            continue
        out.append(f"rule {r.name} {{\n\tid {rid}\n")
        if r.ruleset != rid:
            out.append(
                f"\t# WARNING: ruleset {r.ruleset} != id {rid}; "
                "this will not recompile to the same map\n"
            )
        if r.type == RULE_TYPE_REPLICATED:
            out.append("\ttype replicated\n")
        elif r.type == RULE_TYPE_ERASURE:
            out.append("\ttype erasure\n")
        else:
            out.append(f"\ttype {r.type}\n")
        out.append(f"\tmin_size {r.min_size}\n\tmax_size {r.max_size}\n")
        for op, a1, a2 in r.steps:
            out.append(_step_text(m, op, a1, a2))
        out.append("}\n")
    out.append("\n# end crush map\n")
    return "".join(out)


def _step_text(m: CrushMap, op: int, a1: int, a2: int) -> str:
    if op == OP_NOOP:
        return "\tstep noop\n"
    if op == OP_TAKE:
        for orig, classes in m.class_bucket.items():
            for cid, shadow in classes.items():
                if shadow == a1:
                    return f"\tstep take {_item_name(m, orig)} class {m.class_name[cid]}\n"
        return f"\tstep take {_item_name(m, a1)}\n"
    if op == OP_EMIT:
        return "\tstep emit\n"
    if op in _SET_STEP_NAMES:
        return f"\tstep {_SET_STEP_NAMES[op]} {a1}\n"
    words = {
        OP_CHOOSE_FIRSTN: "choose firstn",
        OP_CHOOSE_INDEP: "choose indep",
        OP_CHOOSELEAF_FIRSTN: "chooseleaf firstn",
        OP_CHOOSELEAF_INDEP: "chooseleaf indep",
    }
    if op in words:
        return f"\tstep {words[op]} {a1} type {_type_name(m, a2)}\n"
    return ""


# ----------------------------------------------------------------------- compile

_TOKEN = re.compile(r"[{}\[\]]|[^\s{}\[\]]+")
_NAME = re.compile(r"[A-Za-z0-9_.\-]+\Z")
_POSINT = re.compile(r"[0-9]+\Z")
_INT = re.compile(r"-?[0-9]+\Z")
_NEGINT = re.compile(r"-[0-9]+\Z")
_REAL = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")


class _Fail(Exception):
    pass


@dataclass
class _Tok:
    text: str
    start: int
    end: int


class _Parser:
    """Recursive descent over upstream's grammar; produces plain tuples."""

    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i].text if self.i < len(self.toks) else None

    def take(self, pattern: re.Pattern[str] | str) -> str:
        tok = self.peek()
        if tok is None:
            raise _Fail
        if isinstance(pattern, str):
            if tok != pattern:
                raise _Fail
        elif not pattern.match(tok):
            raise _Fail
        self.i += 1
        return tok

    def opt(self, word: str) -> bool:
        if self.peek() == word:
            self.i += 1
            return True
        return False

    def statement(self) -> tuple:
        tok = self.peek()
        if tok == "tunable":
            self.i += 1
            return ("tunable", self.take(_NAME), int(self.take(_INT)))
        if tok == "device":
            self.i += 1
            did = int(self.take(_POSINT))
            name = self.take(_NAME)
            cls_ = self.take(_NAME) if self.opt("class") else None
            return ("device", did, name, cls_)
        if tok == "type":
            self.i += 1
            return ("type", int(self.take(_POSINT)), self.take(_NAME))
        if tok == "rule":
            return self.rule()
        return self.bucket()

    def bucket(self) -> tuple:
        btype = self.take(_NAME)
        name = self.take(_NAME)
        self.take("{")
        ids: list[tuple[int, str | None]] = []
        while self.opt("id"):
            bid = int(self.take(_NEGINT))
            ids.append((bid, self.take(_NAME) if self.opt("class") else None))
        self.take("alg")
        alg = self.take(_NAME)
        hashes: list[str] = []
        while self.opt("hash"):
            tok = self.peek()
            if tok == "rjenkins1" or (tok is not None and _INT.match(tok)):
                self.i += 1
                hashes.append(tok)
            else:
                raise _Fail
        items: list[tuple[str, float | None, int | None]] = []
        while self.opt("item"):
            iname = self.take(_NAME)
            weight = float(self.take(_REAL)) if self.opt("weight") else None
            pos = int(self.take(_POSINT)) if self.opt("pos") else None
            items.append((iname, weight, pos))
        self.take("}")
        return ("bucket", btype, name, ids, alg, hashes, items)

    def rule(self) -> tuple:
        self.take("rule")
        name = ""
        if self.peek() != "{":
            name = self.take(_NAME)
        self.take("{")
        if not (self.opt("id") or self.opt("ruleset")):
            raise _Fail
        rid = int(self.take(_POSINT))
        self.take("type")
        rtype = self.peek()
        if rtype not in ("replicated", "erasure"):
            raise _Fail
        self.i += 1
        self.take("min_size")
        min_size = int(self.take(_POSINT))
        self.take("max_size")
        max_size = int(self.take(_POSINT))
        steps = [self.step()]
        while self.peek() == "step":
            steps.append(self.step())
        self.take("}")
        return ("rule", name, rid, rtype, min_size, max_size, steps)

    def step(self) -> tuple:
        self.take("step")
        tok = self.peek()
        if tok == "take":
            self.i += 1
            item = self.take(_NAME)
            cls_ = self.take(_NAME) if self.opt("class") else None
            return ("take", item, cls_)
        if tok in _SET_STEPS:
            self.i += 1
            return ("set", _SET_STEPS[tok], int(self.take(_INT)))
        if tok in ("choose", "chooseleaf"):
            self.i += 1
            mode = self.peek()
            if mode not in ("firstn", "indep"):
                raise _Fail
            self.i += 1
            num = int(self.take(_INT))
            self.take("type")
            return ("choose", tok, mode, num, self.take(_NAME))
        if tok == "emit":
            self.i += 1
            return ("emit",)
        raise _Fail


def _consolidate(line: str) -> str:
    """Squash whitespace runs to one space and drop leading/trailing whitespace."""
    return " ".join(line.split())


def compile_text(text: str, filename: str = "<input>") -> CrushMap:
    """Compile map source like ``crushtool -c``; raises CompileError with upstream's message."""
    big = ""
    line_pos: dict[int, int] = {}
    line_val: dict[int, str] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for lineno, raw in enumerate(lines, start=1):
        line_val[lineno] = raw
        stripped = _consolidate(raw.split("#", 1)[0])
        if stripped and big and big[-1] != " ":
            big += " "
        line_pos[len(big)] = lineno
        big += stripped

    toks = [_Tok(mt.group(), mt.start(), mt.end()) for mt in _TOKEN.finditer(big)]
    parser = _Parser(toks)
    statements: list[tuple] = []
    stop = 0
    while parser.i < len(toks):
        start = parser.i
        try:
            st = parser.statement()
        except _Fail:
            parser.i = start
            break
        statements.append(st)
        stop = toks[parser.i - 1].end
    if parser.i < len(toks) or not line_pos:
        starts = sorted(line_pos)
        base = max((p for p in starts if p <= stop), default=starts[0] if starts else 0)
        line = line_pos.get(base, 1)
        rest = line_val.get(line, "")[stop - base :]
        raise CompileError(f"{filename}:{line} error: parse error at '{rest}'")
    return _Builder().build(_reorder_buckets(statements))


def _reorder_buckets(statements: list[tuple]) -> list[tuple]:
    """Swap bucket definitions so that a bucket is defined before it is used."""
    idx = [i for i, st in enumerate(statements) if st[0] == "bucket"]
    names = [statements[i][2] for i in idx]
    items = {statements[i][2]: {it[0] for it in statements[i][6]} for i in idx}
    slots = {name: i for name, i in zip(names, idx, strict=True)}
    out = list(statements)
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            if names[b] in items[names[a]]:
                if names[a] in items[names[b]]:
                    raise CompileError(
                        f"bucket  '{names[a]}' and bucket '{names[b]}' are included each other"
                    )
                sa, sb = slots[names[a]], slots[names[b]]
                out[sa], out[sb] = out[sb], out[sa]
                slots[names[a]], slots[names[b]] = sb, sa
    return out


class _Builder:
    def __init__(self) -> None:
        self.m = CrushMap()
        self.m.tunables = Tunables.legacy()
        self.item_id: dict[str, int] = {}
        self.id_item: dict[int, str] = {}
        self.item_weight: dict[int, int] = {}
        self.type_id: dict[str, int] = {}

    def build(self, statements: list[tuple]) -> CrushMap:
        for st in statements:
            if st[0] == "bucket" and st[3]:
                for bid, cls_ in st[3][:1]:
                    if cls_ is None:
                        self.id_item[bid] = ""
        saw_rule = False
        for st in statements:
            kind = st[0]
            if kind == "tunable":
                if st[1] not in _TUNABLES:
                    raise CompileError(f"tunable {st[1]} not recognized")
                setattr(self.m.tunables, st[1], st[2])
            elif kind == "device":
                self.device(*st[1:])
            elif kind == "type":
                self.type_id[st[2]] = st[1]
                self.m.types[st[1]] = st[2]
            elif kind == "bucket":
                if saw_rule:
                    raise CompileError("buckets must be defined before rules")
                self.bucket(*st[1:])
            elif kind == "rule":
                saw_rule = True
                self.rule(*st[1:])
        m = self.m
        top = max((i for b in m.buckets.values() for i in b.items if i >= 0), default=-1)
        m.max_devices = max(top + 1, max(m.devices, default=-1) + 1)
        m.invalidate()
        return m

    def device(self, did: int, name: str, cls_: str | None) -> None:
        self.m.devices[did] = name
        if name in self.item_id:
            raise CompileError(f"item {name} defined twice")
        self.item_id[name] = did
        self.id_item[did] = name
        if cls_ is not None:
            self.m.set_item_class(did, cls_)

    def bucket(
        self,
        tname: str,
        name: str,
        ids: list[tuple[int, str | None]],
        alg_name: str,
        hashes: list[str],
        items: list[tuple[str, float | None, int | None]],
    ) -> None:
        if tname not in self.type_id:
            raise CompileError(f"bucket type '{tname}' is not defined")
        btype = self.type_id[tname]
        if name in self.item_id:
            raise CompileError(f"bucket or device '{name}' is already defined")
        bid = 0
        class_ids: dict[int, int] = {}
        for maybe_id, cls_ in ids:
            if cls_ is None:
                bid = maybe_id
            else:
                cid = self.m.get_or_create_class_id(cls_)
                if cid in class_ids:
                    raise CompileError(f"duplicate device class {cls_} for bucket {name}")
                class_ids[cid] = maybe_id
        if alg_name not in ALG_IDS:
            raise CompileError(f"unknown bucket alg '{alg_name}'\n")
        alg = ALG_IDS[alg_name]
        bhash = 0
        for h in hashes:
            bhash = 0 if h == "rjenkins1" else int(h)
        used: set[int] = set()
        for iname, _w, pos in items:
            if pos is not None:
                if pos in used:
                    raise CompileError(
                        f"item '{iname}' in bucket '{name}' has explicit pos {pos}, "
                        "which is occupied"
                    )
                used.add(pos)
        size = max(len(items), max(used)) if used else len(items)
        slot_items = [0] * size
        slot_weights = [0] * size
        curpos = 0
        total = 0
        uniform_weight: int | None = None
        for iname, wf, pos in items:
            if iname not in self.item_id:
                raise CompileError(f"item '{iname}' in bucket '{name}' is not defined")
            itemid = self.item_id[iname]
            weight = self.item_weight.get(itemid, 0x10000)
            if wf is not None:
                weight = int(f32(f32(wf) * 65536.0)) & 0xFFFFFFFF
                if weight > MAX_DEVICE_WEIGHT and itemid >= 0:
                    raise CompileError(f"device weight limited to {MAX_DEVICE_WEIGHT // 0x10000}")
                if weight > MAX_BUCKET_WEIGHT and itemid < 0:
                    raise CompileError(
                        f"bucket weight limited to {MAX_BUCKET_WEIGHT // 0x10000} "
                        "to prevent overflow"
                    )
            if alg == ALG_UNIFORM:
                if uniform_weight is None:
                    uniform_weight = weight
                elif uniform_weight != weight:
                    raise CompileError(
                        f"item '{iname}' in uniform bucket '{name}' has weight {weight} but "
                        f"previous item(s) have weight {_fmt_float(uniform_weight / 65536)}; "
                        "uniform bucket items must all have identical weights."
                    )
            if pos is not None and pos >= size:
                raise CompileError(
                    f"item '{iname}' in bucket '{name}' has pos {pos} >= size {size}"
                )
            if pos is None:
                while curpos in used:
                    curpos += 1
                pos = curpos
                curpos += 1
            slot_items[pos] = itemid
            slot_weights[pos] = weight
            if total + weight > 0xFFFFFFFF:
                raise CompileError(
                    "oh no! our bucket weights are overflowing all over the place, "
                    "better lower the item weights"
                )
            total += weight
        if bid == 0:
            bid = -1
            while bid in self.id_item:
                bid -= 1
        if class_ids:
            self.m.class_bucket[bid] = class_ids
        self.id_item[bid] = name
        self.item_id[name] = bid
        self.item_weight[bid] = total
        if bid in self.m.buckets:
            raise CompileError(f"Duplicate bucket id {bid}")
        self.m.insert_bucket(Bucket(bid, name, btype, alg, bhash, slot_items, slot_weights))

    def rule(
        self,
        rname: str,
        rid: int,
        rtype: str,
        min_size: int,
        max_size: int,
        steps: list[tuple],
    ) -> None:
        m = self.m
        if rname and m.find_rule(rname) >= 0:
            raise CompileError(f"rule name '{rname}' already defined\n")
        if rid in m.rules:
            raise CompileError(f"rule {rid} already exists")
        out: list[tuple[int, int, int]] = []
        for st in steps:
            if st[0] == "take":
                item, cls_ = st[1], st[2]
                if item not in self.item_id:
                    raise CompileError(f"in rule '{rname}' item '{item}' not defined")
                iid = self.item_id[item]
                if cls_ is not None:
                    cid = next((c for c, n in m.class_name.items() if n == cls_), None)
                    if cid is None:
                        raise CompileError(f"in rule '{rname}' class '{cls_}' not defined")
                    if iid not in m.class_bucket:
                        raise CompileError(
                            f"in rule '{rname}' step take {item} has no class information"
                        )
                    if cid not in m.class_bucket[iid]:
                        raise CompileError(
                            f"in rule '{rname}' step take {item} no matching bucket for class "
                            f"{cls_}"
                        )
                    iid = m.class_bucket[iid][cid]
                out.append((OP_TAKE, iid, 0))
            elif st[0] == "set":
                out.append((st[1], st[2], 0))
            elif st[0] == "choose":
                _, choose, mode, num, tname = st
                if tname not in self.type_id:
                    raise CompileError(f"in rule '{rname}' type '{tname}' not defined")
                if choose == "choose":
                    op = OP_CHOOSE_FIRSTN if mode == "firstn" else OP_CHOOSE_INDEP
                else:
                    op = OP_CHOOSELEAF_FIRSTN if mode == "firstn" else OP_CHOOSELEAF_INDEP
                out.append((op, num, self.type_id[tname]))
            else:
                out.append((OP_EMIT, 0, 0))
        rt = RULE_TYPE_REPLICATED if rtype == "replicated" else RULE_TYPE_ERASURE
        m.add_rule(Rule(rid, rname, rt, min_size, max_size, out))


def _fmt_float(v: float) -> str:
    return f"{v:g}"
