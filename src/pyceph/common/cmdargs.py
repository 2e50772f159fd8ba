"""Ceph command descriptors: parsing, validation and matching, as upstream.

One table (`command_table`) describes every mon and mgr command of Ceph 16.2.15.
The monitor and manager validate JSON commands against it (`match_command`),
advertise it (`command_descriptions`), and the `ceph` CLI maps its words onto
it (`argv_to_command`, the equivalent of ceph_argparse's ``validate_command``).
"""

from __future__ import annotations

import errno
import math
import re
import socket
import string
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyceph.common import command_table
from pyceph.common.errors import CephError

__all__ = [
    "ARG_TYPES",
    "COMMANDS",
    "FLAG_DEPRECATED",
    "FLAG_HIDDEN",
    "FLAG_MGR",
    "FLAG_NOFORWARD",
    "FLAG_OBSOLETE",
    "FLAG_POLL",
    "ArgDesc",
    "ArgumentError",
    "CommandDesc",
    "CommandNotValid",
    "argv_to_command",
    "command_descriptions",
    "concise_sig",
    "descs_from_json",
    "find_command",
    "make_command",
    "match_command",
    "parse_signature",
]

# Flags of the C++ COMMAND tables (MonCommand.h).
FLAG_NOFORWARD = 1 << 0
FLAG_OBSOLETE = 1 << 1
FLAG_DEPRECATED = 1 << 2
FLAG_MGR = 1 << 3
FLAG_POLL = 1 << 4
FLAG_HIDDEN = 1 << 5

ARG_TYPES = frozenset(
    {
        "CephInt",
        "CephFloat",
        "CephString",
        "CephSocketpath",
        "CephIPAddr",
        "CephEntityAddr",
        "CephPoolname",
        "CephObjectname",
        "CephPgid",
        "CephName",
        "CephOsdName",
        "CephChoices",
        "CephBool",
        "CephFilepath",
        "CephFragment",
        "CephUUID",
        "CephPrefix",
    }
)

_STR_TYPES = frozenset(ARG_TYPES - {"CephInt", "CephFloat", "CephBool", "CephOsdName"})


# --------------------------------------------------------------------------- errors
class ArgumentError(Exception):
    """A word does not fit a descriptor (ceph_argparse's ArgumentError family)."""


class ArgumentNumber(ArgumentError):
    """Wrong number of values for a repeated argument."""


class ArgumentFormat(ArgumentError):
    """A value has the wrong format."""


class ArgumentMissing(ArgumentError):
    """A required argument is missing."""


class ArgumentValid(ArgumentError):
    """A value is otherwise invalid (not a choice, out of range...)."""


class ArgumentTooFew(ArgumentError):
    """Fewer arguments than required descriptors."""


class ArgumentPrefix(ArgumentError):
    """The command words do not match this descriptor's prefix."""


class CommandNotValid(CephError):
    """The CLI words match no command; `details` holds upstream's stderr lines."""

    def __init__(self, details: list[str]) -> None:
        super().__init__(errno.EINVAL, "\n".join(details))
        self.details = details


# --------------------------------------------------------------------------- descriptors
def _range_list(raw: str, as_float: bool) -> list[float] | list[int]:
    if raw == "":
        return []
    parts = raw.split("|")
    if as_float:
        return [float(x) for x in parts]
    return [int(x) for x in parts]


@dataclass(frozen=True)
class ArgDesc:
    """One `name=...,type=...` descriptor of a command signature."""

    name: str
    type: str
    req: bool = True
    n: int | None = 1  # None: one or more ("n=N")
    range: tuple[float, ...] = ()
    strings: tuple[str, ...] = ()
    goodchars: str = ""
    raw: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def N(self) -> bool:  # noqa: N802 - upstream's name
        return self.n is None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ArgDesc:
        """Build from a descriptor dict (string values, as in get_command_descriptions)."""
        if "type" not in d:
            raise ValueError(f"descriptor {dict(d)} has no type")
        t = str(d["type"])
        if t not in ARG_TYPES:
            raise ValueError(f"unknown type {t}")
        name = str(d.get("name", ""))
        req_raw = d.get("req", True)
        req = req_raw in (True, "True", "true")
        n_raw = d.get("n", 1)
        n: int | None = None if n_raw in ("n", "N") else int(n_raw)
        rng: tuple[float, ...] = ()
        if "range" in d and t in ("CephInt", "CephFloat"):
            rng = tuple(_range_list(str(d["range"]), t == "CephFloat"))
        strings = tuple(str(d["strings"]).split("|")) if "strings" in d else ()
        goodchars = str(d.get("goodchars", ""))
        if goodchars:
            re.compile(goodchars)
        raw = tuple(sorted((str(k), str(v)) for k, v in d.items()))
        return cls(name, t, req, n, rng, strings, goodchars, raw)

    def to_json(self) -> dict[str, str]:
        """The descriptor as upstream dumps it (keys sorted, string values)."""
        return dict(self.raw)

    # --- how upstream shows it -------------------------------------------------
    def type_str(self) -> str:
        t = self.type
        if t in ("CephInt", "CephFloat"):
            r = ""
            if len(self.range) == 1:
                r = f"[{self.range[0]}-]"
            elif len(self.range) == 2:
                r = f"[{self.range[0]}-{self.range[1]}]"
            return f"<{'int' if t == 'CephInt' else 'float'}{r}>"
        if t == "CephString":
            b = f"(goodchars {self.goodchars})" if self.goodchars else ""
            return f"<string{b}>"
        if t == "CephChoices":
            return "|".join(self.strings)
        return {
            "CephSocketpath": "<admin-socket-path>",
            "CephIPAddr": "<IPaddr[:port]>",
            "CephEntityAddr": "<EntityAddr>",
            "CephPoolname": "<poolname>",
            "CephObjectname": "<objectname>",
            "CephPgid": "<pgid>",
            "CephName": "<name (type.id)>",
            "CephOsdName": "<osdname (id|osd.id)>",
            "CephBool": "<bool>",
            "CephFilepath": "<outfilename>",
            "CephFragment": "<CephFS fragment ID (0xvvv/bbb)>",
            "CephUUID": "<uuid>",
        }.get(t, f"<{t}>")

    def __str__(self) -> str:
        if self.type == "CephChoices" and len(self.strings) == 1:
            s = self.strings[0]
        else:
            s = f"{self.name}({self.type_str()})"
            if self.N:
                s += "..."
        if not self.req:
            s = f"[{s}]"
        return s

    def helpstr(self) -> str:
        t = self.type
        if t == "CephBool":
            chunk = "--" + self.name.replace("_", "-")
        elif t == "CephChoices":
            chunk = (
                f"--{self.name} {{{self.type_str()}}}" if self.name == "format" else self.type_str()
            )
        elif t == "CephOsdName":
            chunk = "<id|osd.id>"
        elif t == "CephName":
            chunk = "<type.id>"
        elif t == "CephInt":
            chunk = f"<{self.name}:int>"
        elif t == "CephFloat":
            chunk = f"<{self.name}:float>"
        else:
            chunk = f"<{self.name}>"
        if self.N:
            chunk += "..."
        if not self.req:
            chunk = f"[{chunk}]"
        return chunk

    # --- word validation (CLI words and string JSON values) ------------------------
    def validate_word(self, s: str, partial: bool = False) -> Any:
        """Validate one word; return its typed value or raise ArgumentError."""
        return _VALIDATORS[self.type](self, s, partial)


def _v_int(d: ArgDesc, s: str, partial: bool) -> int:
    try:
        val = int(s, 0)
    except ValueError:
        raise ArgumentValid(f"{s} doesn't represent an int")
    _check_range(d, val)
    return val


def _v_float(d: ArgDesc, s: str, partial: bool) -> float:
    try:
        val = float(s)
    except ValueError:
        raise ArgumentValid(f"{s} doesn't represent a float")
    _check_range(d, val)
    return val


def _check_range(d: ArgDesc, val: float) -> None:
    r = list(d.range)
    if (len(r) == 2 and (val < r[0] or val > r[1])) or (len(r) == 1 and val < r[0]):
        raise ArgumentValid(f"{val} not in range {r}")


_GOODSET_CACHE: dict[str, frozenset[str]] = {}


def _v_string(d: ArgDesc, s: str, partial: bool) -> str:
    if d.goodchars:
        good = _GOODSET_CACHE.get(d.goodchars)
        if good is None:
            good = frozenset(c for c in string.printable if re.match(d.goodchars, c))
            _GOODSET_CACHE[d.goodchars] = good
        bad = set(s) - good
        if bad:
            raise ArgumentFormat(f"invalid chars {''.join(sorted(bad))} in {s}")
    return s


def _v_any(d: ArgDesc, s: str, partial: bool) -> str:
    return s


def _v_ipaddr(d: ArgDesc, s: str, partial: bool) -> str:
    family = 6
    port: str | None = None
    if s.startswith(("v1:", "v2:")):
        family = 4 if s.startswith("v1:") else 6
        s = s[3:]
    elif s.startswith("any:"):
        s, family = s[4:], 4
    elif s.startswith("["):
        family = 6
    elif "." in s:
        family = 4
    if family == 4:
        a, sep, p = s.partition(":")
        if sep:
            port = p
            if not p.isdigit() or int(p) > 65535:
                raise ArgumentValid(f"{p}: invalid IPv4 port")
        try:
            socket.inet_pton(socket.AF_INET, a)
        except OSError:
            raise ArgumentValid(f"{a}: invalid IPv4 address")
    else:
        a = s
        if s.startswith("["):
            end = s.find("]")
            if end == -1:
                raise ArgumentFormat(f"{s} missing terminating ]")
            if s[end + 1 : end + 2] == ":":
                port = s[end + 2 :]
                if not port.isdigit():
                    raise ArgumentValid(f"{s}: bad port number")
            a = s[1:end]
        try:
            socket.inet_pton(socket.AF_INET6, a)
        except OSError:
            raise ArgumentValid(f"{s} not valid IPv6 address")
    if port is not None and int(port) > 65535:
        raise ArgumentValid(f"{port} not a valid port number")
    return s


def _v_entityaddr(d: ArgDesc, s: str, partial: bool) -> str:
    ip, nonce = s, ""
    if "/" in s:
        ip, _, nonce = s.partition("/")
        if nonce.endswith("]"):
            nonce = nonce[:-1]
            ip += "]"
    _v_ipaddr(d, ip, partial)
    if nonce and (not nonce.isdigit()):
        raise ArgumentValid(f"{s}: invalid entity, nonce {nonce} not integer > 0")
    return s


def _v_pgid(d: ArgDesc, s: str, partial: bool) -> str:
    if "." not in s:
        raise ArgumentFormat("pgid has no .")
    pool, _, seed = s.partition(".")
    try:
        poolid = int(pool)
    except ValueError:
        raise ArgumentFormat(f"pool {pool} not integer")
    if poolid < 0:
        raise ArgumentFormat(f"pool {poolid} < 0")
    try:
        int(seed, 16)
    except ValueError:
        raise ArgumentFormat(f"pgnum {seed} not hex integer")
    return s


def _v_name(d: ArgDesc, s: str, partial: bool) -> str:
    if s in ("*", "mgr", "mon"):
        return s
    if "." not in s:
        raise ArgumentFormat(f"CephName: no . in {s}")
    t, _, i = s.partition(".")
    if t not in ("osd", "mon", "client", "mds", "mgr"):
        raise ArgumentValid("unknown type " + t)
    if t == "osd" and i != "*":
        try:
            int(i)
        except ValueError:
            raise ArgumentFormat("osd id " + i + " not integer")
    return s


def _v_osdname(d: ArgDesc, s: str, partial: bool) -> int | str:
    if s == "*":
        return s
    i = s
    if "." in s:
        t, _, i = s.partition(".")
        if t != "osd":
            raise ArgumentValid("unknown type " + t)
    try:
        val = int(i)
    except ValueError:
        raise ArgumentFormat("osd id " + i + " not integer")
    if val < 0:
        raise ArgumentFormat(f"osd id {val} is less than 0")
    return val


def _v_choices(d: ArgDesc, s: str, partial: bool) -> str:
    if partial:
        if any(t.startswith(s) for t in d.strings):
            return s
    elif s in d.strings:
        return s
    raise ArgumentValid(f"{s} not in {d.type_str()}")


def _v_bool(d: ArgDesc, s: str, partial: bool) -> bool:
    low = s.lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise ArgumentValid(f"{s} not one of 'true', 'false'")


def _v_fragment(d: ArgDesc, s: str, partial: bool) -> str:
    if "/" not in s:
        raise ArgumentFormat(f"{s}: no /")
    val, _, bits = s.partition("/")
    if not val.startswith("0x"):
        raise ArgumentFormat(f"{val} not a hex integer")
    try:
        int(val, 16)
    except ValueError:
        raise ArgumentFormat(f"can't convert {val} to integer")
    try:
        int(bits)
    except ValueError:
        raise ArgumentFormat(f"can't convert {bits} to integer")
    return s


def _v_uuid(d: ArgDesc, s: str, partial: bool) -> str:
    try:
        uuid.UUID(s)
    except Exception as e:
        raise ArgumentFormat(f"invalid UUID {s}: {e}")
    return s


_VALIDATORS = {
    "CephInt": _v_int,
    "CephFloat": _v_float,
    "CephString": _v_string,
    "CephSocketpath": _v_any,
    "CephIPAddr": _v_ipaddr,
    "CephEntityAddr": _v_entityaddr,
    "CephPoolname": _v_any,
    "CephObjectname": _v_any,
    "CephPgid": _v_pgid,
    "CephName": _v_name,
    "CephOsdName": _v_osdname,
    "CephChoices": _v_choices,
    "CephBool": _v_bool,
    "CephFilepath": _v_any,
    "CephFragment": _v_fragment,
    "CephUUID": _v_uuid,
    "CephPrefix": _v_any,
}


SigItem = ArgDesc | str


def parse_signature(sig: str) -> list[SigItem]:
    """Parse a C++-table signature string into literals (str) and `ArgDesc`s."""
    out: list[SigItem] = []
    for word in sig.split():
        if "=" not in word:
            out.append(word)
            continue
        d: dict[str, str] = {}
        for part in word.split(","):
            if not part:
                continue
            k, sep, v = part.partition("=")
            if not sep:
                raise ValueError(f"bad descriptor part {part!r} in {sig!r}")
            d[k] = v
        out.append(ArgDesc.from_dict(d))
    return out


@dataclass(frozen=True)
class CommandDesc:
    """One command: its signature, help and permissions, and who executes it."""

    sig: tuple[SigItem, ...]
    prefix: str
    help: str = ""
    module: str = "mon"
    perm: str = "r"
    flags: int = 0
    daemon: str = "mon"  # "mon" | "mgr"

    @property
    def args(self) -> list[ArgDesc]:
        return [d for d in self.sig if isinstance(d, ArgDesc)]

    def arg(self, name: str) -> ArgDesc | None:
        for d in self.args:
            if d.name == name:
                return d
        return None

    def to_json(self, flags: int | None = None) -> dict[str, Any]:
        return {
            "sig": [d if isinstance(d, str) else d.to_json() for d in self.sig],
            "help": self.help,
            "module": self.module,
            "perm": self.perm,
            "flags": self.flags if flags is None else flags,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any], daemon: str = "mon") -> CommandDesc:
        sig: list[SigItem] = []
        for item in d["sig"]:
            if isinstance(item, str):
                sig.append(item)
            else:
                if item.get("type") == "CephPrefix":
                    sig.append(str(item.get("prefix", "")))
                else:
                    sig.append(ArgDesc.from_dict(item))
        return cls(
            tuple(sig),
            " ".join(x for x in sig if isinstance(x, str)),
            str(d.get("help", "")),
            str(d.get("module", "")),
            str(d.get("perm", "")),
            int(d.get("flags", 0)),
            daemon,
        )


def make_command(
    sig: str,
    help: str = "",
    module: str = "mgr",
    perm: str = "rw",
    flags: int = 0,
    daemon: str = "mgr",
) -> CommandDesc:
    """A `CommandDesc` from a signature string (mgr modules' `COMMANDS` entries)."""
    items = parse_signature(sig)
    prefix = " ".join(x for x in items if isinstance(x, str))
    return CommandDesc(tuple(items), prefix, help, module, perm, flags, daemon)


def _build(table: Iterable[tuple[str, str, str, str, int]], daemon: str) -> list[CommandDesc]:
    return [make_command(s, h, m, p, f, daemon) for s, h, m, p, f in table]


MON_COMMANDS: list[CommandDesc] = _build(command_table.MON_COMMANDS, "mon")
MGR_COMMANDS: list[CommandDesc] = _build(command_table.MGR_COMMANDS, "mgr")
OSD_COMMANDS: list[CommandDesc] = _build(command_table.OSD_COMMANDS, "osd")
MON_TELL_COMMANDS: list[CommandDesc] = _build(command_table.MON_TELL_COMMANDS, "mon")
COMMANDS: list[CommandDesc] = MON_COMMANDS + MGR_COMMANDS

_BY_PREFIX: dict[str, CommandDesc] = {}
for _c in COMMANDS:
    _BY_PREFIX.setdefault(_c.prefix, _c)


def find_command(prefix: str, extra: Sequence[CommandDesc] = ()) -> CommandDesc | None:
    """Look a prefix up: mon table, then `extra` (mgr modules), then MgrCommands."""
    for c in MON_COMMANDS:
        if c.prefix == prefix:
            return c
    for c in extra:
        if c.prefix == prefix:
            return c
    for c in MGR_COMMANDS:
        if c.prefix == prefix:
            return c
    return None


def command_descriptions(daemon: str, extra: Sequence[CommandDesc] = ()) -> dict[str, Any]:
    """`get_command_descriptions` as the given daemon answers it.

    mon: MgrCommands.h, then `extra` (mgr module commands), both flagged MGR, then
    the monitor's own table. mgr: `extra` then MgrCommands.h, flags 0 (as upstream).
    osd / mon-tell: the tell commands an OSD / one monitor implements.
    """
    entries: list[dict[str, Any]] = []
    if daemon == "mon":
        entries += [c.to_json(c.flags | FLAG_MGR) for c in MGR_COMMANDS]
        entries += [c.to_json(c.flags | FLAG_MGR) for c in extra]
        entries += [c.to_json() for c in MON_COMMANDS]
    elif daemon == "mgr":
        entries += [c.to_json(0) for c in extra]
        entries += [c.to_json(0) for c in MGR_COMMANDS]
    elif daemon == "osd":
        entries += [c.to_json(0) for c in OSD_COMMANDS]
    elif daemon == "mon-tell":
        entries += [c.to_json(0) for c in MON_TELL_COMMANDS]
    else:
        raise ValueError(f"unknown daemon {daemon!r}")
    return {f"cmd{i:03d}": e for i, e in enumerate(entries)}


def descs_from_json(obj: Mapping[str, Any] | str, daemon: str = "mon") -> list[CommandDesc]:
    """Parse a get_command_descriptions answer (dict or JSON text) into CommandDescs."""
    if isinstance(obj, str | bytes):
        import json

        obj = json.loads(obj)
    assert isinstance(obj, Mapping)
    return [CommandDesc.from_json(v, daemon) for v in obj.values()]


# --------------------------------------------------------------------------- JSON commands
def _bad_field(name: str) -> CephError:
    return CephError(errno.EINVAL, f"bad or missing field '{name}'")


def _check_json_value(d: ArgDesc, v: Any, check_values: bool) -> Any:
    t = d.type
    if t == "CephInt":
        if isinstance(v, bool) or not isinstance(v, int):
            raise _bad_field(d.name)
        if check_values:
            try:
                _check_range(d, v)
            except ArgumentError as e:
                raise CephError(errno.EINVAL, str(e))
        return v
    if t == "CephFloat":
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise _bad_field(d.name)
        v = float(v)
        if check_values:
            try:
                _check_range(d, v)
            except ArgumentError as e:
                raise CephError(errno.EINVAL, str(e))
        return v
    if t == "CephBool":
        if isinstance(v, bool):
            return v
        # pre-nautilus clients send the flag word itself ("--yes-i-really-mean-it")
        if isinstance(v, str) and v in ("--" + d.name, "--" + d.name.replace("_", "-")):
            return True
        raise _bad_field(d.name)
    if t == "CephOsdName":
        if isinstance(v, bool) or not isinstance(v, int):
            raise _bad_field(d.name)
        if check_values and v < 0:
            raise CephError(errno.EINVAL, f"osd id {v} is less than 0")
        return v
    # string types
    if not isinstance(v, str):
        raise _bad_field(d.name)
    if t == "CephChoices" and len(d.strings) == 1 and v == "":
        # a flag-style choice (`--force-nonempty`) sent empty means "not given": the real
        # mon takes it (upstream's test_rados sends `"force_nonempty": ""`)
        return v
    if check_values:
        try:
            d.validate_word(v)
        except ArgumentError as e:
            if t == "CephPgid":
                msg = f"invalid pgid '{v}'"
            elif t == "CephUUID":
                msg = f"invalid uuid value '{v}'"
            elif t in ("CephEntityAddr", "CephIPAddr"):
                msg = f"unable to parse address {v}"
            else:
                msg = str(e)
            raise CephError(errno.EINVAL, msg)
    return v


def match_command(
    cmd: Mapping[str, Any],
    extra: Sequence[CommandDesc] = (),
    *,
    check_values: bool = True,
) -> tuple[CommandDesc, dict[str, Any]]:
    """Validate a JSON command dict as the monitor does; return (desc, normalized args).

    Unknown keys (``format``, ``target``...) are kept as they are; upstream ignores
    keys it does not read. JSON types must match the descriptor (an int for CephInt
    and CephOsdName, a list for ``n=N``...), else ``bad or missing field '<name>'``.
    With `check_values`, ranges, choices, goodchars and formats are checked too
    (messages as ceph_argparse's), which the C++ mon leaves to each handler.
    """
    if "prefix" not in cmd or not isinstance(cmd["prefix"], str):
        raise CephError(errno.EINVAL, "command prefix not found")
    prefix = cmd["prefix"]
    if not prefix:
        raise CephError(errno.EINVAL, "command prefix must not be empty")
    desc = find_command(prefix, extra)
    if desc is None:
        raise CephError(errno.EINVAL, "command not known")
    out = dict(cmd)
    for d in desc.args:
        if d.name not in cmd or cmd[d.name] is None:
            out.pop(d.name, None)
            if d.req and not (d.type == "CephBool"):
                raise _bad_field(d.name)
            continue
        v = cmd[d.name]
        if d.N or (d.n is not None and d.n > 1):
            if not isinstance(v, list):
                raise _bad_field(d.name)
            out[d.name] = [_check_json_value(d, x, check_values) for x in v]
        else:
            out[d.name] = _check_json_value(d, v, check_values)
    return desc, out


# --------------------------------------------------------------------------- CLI words
_KWARG_EQUALS = re.compile(r"--([^=]+)=(.+)")
_KWARG_SPACE = re.compile(r"--([^=]+)")


class _Slot:
    """Per-validation state of one descriptor (ceph_argparse mutates copies)."""

    __slots__ = ("desc", "lit", "numseen", "n")

    def __init__(self, desc: SigItem) -> None:
        self.desc = desc
        self.lit = isinstance(desc, str)
        self.numseen = 0
        self.n = 1 if (self.lit or desc.n is None) else desc.n  # type: ignore[union-attr]

    @property
    def req(self) -> bool:
        return True if self.lit else self.desc.req  # type: ignore[union-attr]

    @property
    def N(self) -> bool:  # noqa: N802
        return (not self.lit) and self.desc.n is None  # type: ignore[union-attr]

    @property
    def name(self) -> str:
        return "prefix" if self.lit else self.desc.name  # type: ignore[union-attr]

    @property
    def type(self) -> str:
        return "CephPrefix" if self.lit else self.desc.type  # type: ignore[union-attr]

    def __str__(self) -> str:
        return str(self.desc)


def _validate_one(word: str, slot: _Slot, is_kwarg: bool, partial: bool = False) -> list[Any]:
    vals: list[Any] = []
    if slot.lit:
        lit = str(slot.desc)
        if (partial and lit.startswith(word)) or word == lit:
            vals.append(word)
        else:
            raise ArgumentPrefix(f"no match for {word}")
    else:
        desc = slot.desc
        assert isinstance(desc, ArgDesc)
        allow_csv = is_kwarg or desc.type != "CephString"
        if slot.N and allow_csv:
            for part in word.split(","):
                vals.append(desc.validate_word(part, partial))
        else:
            vals.append(desc.validate_word(word, partial))
    slot.numseen += 1
    if slot.N:
        slot.n = slot.numseen + 1
    return vals


def _matchnum(args: Sequence[str], sig: Sequence[SigItem], partial: bool = False) -> int:
    words = list(args)
    cnt = 0
    for item in sig:
        slot = _Slot(item)
        while slot.numseen < slot.n:
            if not words:
                return cnt
            word = words.pop(0)
            try:
                _validate_one(word, slot, False, partial and not words)
                valid = True
            except ArgumentError:
                valid = False
            if not valid:
                if not slot.req:
                    words.insert(0, word)
                    break
                return cnt
        if slot.req:
            cnt += 1
    return cnt


def _store(slot: _Slot, vals: list[Any], d: dict[str, Any]) -> None:
    if slot.N:
        d.setdefault(slot.name, [])
        d[slot.name] = d[slot.name] + vals
    elif slot.lit and slot.name in d:
        d[slot.name] += " " + vals[-1]
    else:
        d[slot.name] = vals[-1]


def _validate(
    args: Sequence[str],
    sig: Sequence[SigItem],
    flags: int = 0,
    partial: bool = False,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    myargs = list(args)
    slots = [_Slot(s) for s in sig]
    reqsiglen = sum(1 for s in slots if s.req)
    matchcnt = 0
    d: dict[str, Any] = {}
    save_exc: tuple[str, ArgumentError] | None = None
    by_name = {s.name: s for s in slots if not s.lit}
    injectargs = bool(myargs) and myargs[0] == "injectargs"

    for slot in slots:
        slot.numseen = 0
        while slot.numseen < slot.n:
            myarg: str | None = myargs.pop(0) if myargs else None
            if myarg is None:
                if not slot.req:
                    break
                if slot.name in d:
                    break
            if myarg:
                kw_slot: _Slot | None = None
                kw_v = ""
                m = _KWARG_EQUALS.match(myarg)
                if m:
                    k, kw_v = m.groups()
                    kw_slot = by_name.get(k.replace("-", "_"))
                else:
                    m2 = _KWARG_SPACE.match(myarg)
                    if m2:
                        kw_slot = by_name.get(m2.group(1).replace("-", "_"))
                        if kw_slot is not None:
                            if kw_slot.type == "CephBool":
                                kw_v = "true"
                            elif myargs:
                                kw_v = myargs.pop(0)
                            else:
                                kw_slot = None
                if kw_slot is not None:
                    vals = _validate_one(kw_v, kw_slot, True)
                    matchcnt += 1
                    _store(kw_slot, vals, d)
                    continue
            if myarg and myarg.startswith("--"):
                is_value = (
                    slot.type == "CephChoices"
                    or myarg
                    in (
                        "--yes-i-really-mean-it",
                        "--yes-i-really-really-mean-it",
                        "--yes-i-really-really-mean-it-not-faking",
                        "--force",
                    )
                    or injectargs
                )
                if not is_value:
                    raise ArgumentValid(f"Unexpected argument '{myarg}'")
            if myarg is None and slot.req:
                if slot.N and slot.numseen < 1:
                    if partial:
                        return d
                    raise ArgumentNumber(f"saw {slot.numseen} of {slot}, expected at least 1")
                if not slot.N and slot.numseen < slot.n:
                    if partial:
                        return d
                    if slot.numseen == 0 and slot.n == 1:
                        raise ArgumentMissing(f"missing required parameter {slot}")
                    raise ArgumentNumber(f"saw {slot.numseen} of {slot}, expected {slot.n}")
                break
            assert myarg is not None
            try:
                vals = _validate_one(myarg, slot, False)
            except ArgumentError as e:
                if not slot.req:
                    save_exc = (myarg, e)
                    myargs.insert(0, myarg)
                    break
                if partial:
                    return d
                raise
            matchcnt += 1
            _store(slot, vals, d)
            save_exc = None

    if matchcnt < reqsiglen:
        raise ArgumentTooFew("not enough arguments given")
    if myargs and not partial:
        if save_exc is not None and notes is not None:
            notes.append(f"{save_exc[0]} not valid:  {save_exc[1]}")
        raise ArgumentError("unused arguments: " + str(myargs))
    if flags & FLAG_MGR:
        d["target"] = ["mon-mgr", ""]
    if flags & FLAG_POLL:
        d["poll"] = True
    return d


def concise_sig(sig: Sequence[SigItem]) -> str:
    """Signature as shown in help and error listings (`osd pool create <pool> ...`)."""
    return " ".join(x if isinstance(x, str) else x.helpstr() for x in sig)


def argv_to_command(words: Sequence[str], descs: Sequence[CommandDesc]) -> dict[str, Any]:
    """Map CLI words onto the best-matching descriptor, as ceph_argparse does.

    Returns the JSON command dict (``prefix`` plus named args; ``target`` for MGR
    commands, ``poll`` for POLL ones). Raises `CommandNotValid` (EINVAL) whose
    `details` are the lines upstream prints on stderr.
    """
    args = list(words)
    best = 0.0
    bestcmds: list[CommandDesc] = []
    for cmd in descs:
        if cmd.flags & FLAG_OBSOLETE:
            continue
        matched: float = _matchnum(args, cmd.sig, partial=True)
        if matched >= math.floor(best) and matched == _matchnum(args, cmd.sig, partial=False):
            matched += 0.5
        if matched < best:
            continue
        if matched > best:
            best = matched
            bestcmds = [cmd]
        else:
            bestcmds.append(cmd)

    ranked = sorted(bestcmds, key=lambda c: sum(1 for s in c.sig if isinstance(s, str) or s.req))
    notes: list[str] = []
    ex: ArgumentError | None = None
    found: CommandDesc | None = None
    valid: dict[str, Any] = {}
    for cmd in ranked:
        try:
            valid = _validate(args, cmd.sig, cmd.flags, notes=notes)
            found = cmd
            break
        except ArgumentPrefix:
            pass
        except ArgumentMissing as e:
            ex = e
            if len(bestcmds) == 1:
                found = cmd
            break
        except ArgumentTooFew:
            pass
        except ArgumentError as e:
            ex = e
            found = cmd
            break

    if found is not None and valid:
        return valid
    if found is not None:
        details = notes + [f"Invalid command: {ex}", f"{concise_sig(found.sig)} :  {found.help}"]
    else:
        shown = [c for c in bestcmds if not c.flags & (FLAG_DEPRECATED | FLAG_HIDDEN)][:10]
        details = notes + [f"no valid command found; {len(shown)} closest matches:"]
        details += [concise_sig(c.sig) for c in shown]
    raise CommandNotValid(details)
