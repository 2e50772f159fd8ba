"""cephx capabilities: upstream's grammars and evaluation for `mon`, `osd` and `mgr`.

Ports the behaviour of upstream 16.2.15 `src/mon/MonCap.cc`, `src/osd/OSDCap.cc` and
`src/mgr/MgrCap.cc` (plus the validation half of `src/mds/MDSAuthCaps.cc`), written
afresh in Python. The upstream parsers are Boost.Spirit Qi grammars; Qi is an ordered
choice / greedy-repetition (PEG) parser, so each rule below is a small recursive-descent
function that follows the same rule order, backtracks the same way and therefore stops
at the same position. That position is what upstream's error text quotes::

    mon capability parse failed, stopped at '<rest>' of '<text>'
    mon capability parse failed, stopped at end of '<text>'        (mon/mgr only)
    osd capability parse failed, stopped at '<rest>' of '<text>'
    mgr capability parse failed during profile evaluation: unrecognized profile 'x'

Grammar notes that matter to callers (all as upstream):

* mon/mgr are parsed with `qi::parse` (no skipper); grants are separated by `,` or `;`
  with optional blanks around them; `allow` and `profile` are literals without a word
  boundary check.
* osd is parsed with `qi::phrase_parse(..., ascii::space)`: leading and trailing
  whitespace of the whole string is skipped, inside a grant blanks are explicit.
  `profile NAME` is written *without* `allow` for osd (`allow profile rbd` is rejected).
* `allow command "x" with k=v` grants every permission (r, w and x) for that command;
  blanket mon grants (`allow rwx`) never reach the `config-key` service, only `allow *`
  does.

Profile expansions implemented (upstream `expand_profile*`):

mon (`[allow] profile NAME`; unknown names parse but grant nothing):
  read-only      r on every service (not config-key)
  read-write     rw on every service (not config-key)
  mon            service mon rwx, log rwx
  osd            service osd rwx, mon r, pg rw, log w;
                 command `config set` with name regex `osd_mclock_max_capacity_iops_(hdd|ssd)`
  mds            service mds rwx, mon r, osd r, log w; commands `osd pool rmsnap`,
                 `osd blocklist`, `osd blacklist`
  mgr            service mgr rwx, log rw, mon rw, mds rw, fs rw, osd rw, auth rwx,
                 config-key rw, config rw
  mon/osd/mds/mgr additionally: `config-key get|put|set|exists|delete` with
                 key prefix `daemon-private/<entity>/`
  bootstrap-osd  mon r, osd r; commands `mon getmap`, `osd new`, `osd purge-new`
  bootstrap-mds  mon r, osd r, `mon getmap`, `auth get-or-create` with entity prefix
                 `mds.`, caps_mon=`allow profile mds`, caps_osd=`allow rwx`, caps_mds=`allow`
  bootstrap-mgr  mon r, osd r, `mon getmap`, `auth get-or-create` with entity prefix
                 `mgr.`, caps_mon=`allow profile mgr`
  bootstrap-rgw  mon r, osd r, `mon getmap`, `auth get-or-create` with entity prefix
                 `client.rgw.`, caps_mon=`allow rw`, caps_osd=`allow rwx`
  bootstrap-rbd, bootstrap-rbd-mirror
                 mon r, `auth get-or-create` with entity prefix `client.`,
                 caps_mon=`profile rbd` (resp. `profile rbd-mirror`), caps_osd matching
                 upstream's `profile rbd[...] [pool=...]` regex
  fs-client      mon r, mds r, osd r, pg r
  simple-rados-client              mon r, osd r, pg r
  simple-rados-client-with-blocklist
                 as simple-rados-client + `osd blocklist` with blocklistop=add and
                 addr regex `^[^/]+/[0-9]+$`
  rbd, rbd-mirror
                 mon r, osd r, pg r + `osd blocklist` (and the compat `osd blacklist`)
                 with <op>=add and addr regex `^[^/]+/[0-9]+$`
  rbd-mirror     additionally `config-key get` with key prefix `rbd/mirror/`
  rbd-mirror-peer `config-key get` with key regex `rbd/mirror/[^/]+`, `config-key set`
                 with key prefix `rbd/mirror/peer/`
  crash          mon r
  role-definer   mon r, auth rwx

osd (`profile NAME [pool[=]P [namespace[=]NS]]`; unknown names grant nothing):
  read-only      r on the pool/namespace
  read-write     rw on the pool/namespace
  rbd            r on objects `rbd_info*` (any pool); class-read on `rbd_children*` and
                 `rbd_mirroring*` (any pool); class `rbd metadata_list` on `rbd_info*` of
                 the pool's default namespace; rwx on the pool/namespace
  rbd-read-only  class `rbd metadata_list` on `rbd_info*` (pool, default namespace);
                 r + class-read on the pool/namespace; class `rbd child_attach` and
                 `rbd child_detach` on `rbd_header.*` of the pool/namespace

mgr (`[allow] profile NAME [k=v ...]`; unknown names are a parse error):
  read-only, read-write   r / rw everywhere
  crash          command `crash post`
  osd, mds, rgw  accepted, grant nothing
  rbd            module `rbd_support` rw, optionally constrained by pool/namespace args
  rbd-read-only  module `rbd_support` r, same constraints

Where the stored upstream sources differed between releases the 16.2 behaviour is
kept (e.g. `osd blocklist` *and* `osd blacklist` in the rbd/mds profiles); `allow RWX
fsname=NAME` is accepted for mon (it restricts only FSMap visibility, see
`Caps.fs_name_capable`).
"""

from __future__ import annotations

import errno
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from pyceph.common.errors import CephError

__all__ = [
    "MON_CAP_R",
    "MON_CAP_W",
    "MON_CAP_X",
    "MON_CAP_ALL",
    "MON_CAP_ANY",
    "OSD_CAP_R",
    "OSD_CAP_W",
    "OSD_CAP_CLS_R",
    "OSD_CAP_CLS_W",
    "OSD_CAP_X",
    "OSD_CAP_ANY",
    "Caps",
    "ClassCall",
    "command_arg_map",
    "parse_caps",
    "validate_caps",
]

# ---------------------------------------------------------------------------
# permission bits (upstream values)

MON_CAP_R = 1 << 1
MON_CAP_W = 1 << 2
MON_CAP_X = 1 << 3
MON_CAP_ALL = MON_CAP_R | MON_CAP_W | MON_CAP_X
MON_CAP_ANY = 0xFF

MGR_CAP_R = 1 << 1
MGR_CAP_W = 1 << 2
MGR_CAP_X = 1 << 3
MGR_CAP_ANY = 0xFF

OSD_CAP_R = 1 << 1
OSD_CAP_W = 1 << 2
OSD_CAP_CLS_R = 1 << 3
OSD_CAP_CLS_W = 1 << 4
OSD_CAP_X = OSD_CAP_CLS_R | OSD_CAP_CLS_W
OSD_CAP_ANY = 0xFF

KNOWN_SERVICES = ("mon", "osd", "mgr", "mds")


def _perm_bits(perm: str) -> tuple[bool, bool, bool]:
    """'rwx'-style text -> (may_read, may_write, may_exec)."""
    if perm in ("*", "all"):
        return True, True, True
    return "r" in perm, "w" in perm, "x" in perm


# ---------------------------------------------------------------------------
# low-level PEG helpers; every parser takes (text, pos) and returns the new position
# (or -1 on failure), with a value where the rule has one.

_FAIL = -1
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")
_NET_CHARS = frozenset("/.:abcdefABCDEF0123456789][")
_FSNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_MON_SPACES = " \n\t"  # +(lit(' ') | lit('\n') | lit('\t'))
_ASCII_SPACE = " \t\n\v\f\r"  # ascii::space
_BLANK = " \t"  # ascii::blank


def _run(s: str, i: int, chars: Iterable[str] | frozenset[str] | str) -> int:
    j = i
    n = len(s)
    while j < n and s[j] in chars:
        j += 1
    return j


def _plus(s: str, i: int, chars) -> int:
    j = _run(s, i, chars)
    return j if j > i else _FAIL


def _lit(s: str, i: int, word: str) -> int:
    return i + len(word) if s.startswith(word, i) else _FAIL


def _eq_or_spaces(s: str, i: int, spaces: str) -> int:
    """(lit('=') | spaces)"""
    if i < len(s) and s[i] == "=":
        return i + 1
    return _plus(s, i, spaces)


def _quoted(s: str, i: int, allow_empty: bool = False) -> tuple[int, str]:
    """lexeme['"' >> +(char_ - '"') >> '"'] | lexeme['\\'' >> ... >> '\\'']"""
    for q in ('"', "'"):
        if i < len(s) and s[i] == q:
            k = s.find(q, i + 1)
            if k == -1 or (k == i + 1 and not allow_empty):
                continue
            return k + 1, s[i + 1 : k]
    return _FAIL, ""


def _word(s: str, i: int, chars=_WORD_CHARS) -> tuple[int, str]:
    j = _run(s, i, chars)
    return (j, s[i:j]) if j > i else (_FAIL, "")


def _str(s: str, i: int, allow_empty: bool = False) -> tuple[int, str]:
    """str := quoted_string | unquoted_word (estr when allow_empty)"""
    j, v = _quoted(s, i, allow_empty)
    if j != _FAIL:
        return j, v
    return _word(s, i)


def _network_suffix(s: str, i: int, spaces: str) -> tuple[int, str]:
    """-(spaces >> lit("network") >> spaces >> network_str)"""
    j = _plus(s, i, spaces)
    if j == _FAIL:
        return i, ""
    j = _lit(s, j, "network")
    if j == _FAIL:
        return i, ""
    j = _plus(s, j, spaces)
    if j == _FAIL:
        return i, ""
    j, net = _word(s, j, _NET_CHARS)
    if j == _FAIL:
        return i, ""
    return j, net


def _seq_or(
    s: str, i: int, parsers: list[Callable[[str, int], tuple[int, int]]]
) -> tuple[int, int]:
    """Spirit's `a || b || c`: each in order, optional, at least one must match."""
    bits = 0
    matched = False
    for p in parsers:
        j, b = p(s, i)
        if j != _FAIL:
            i = j
            bits |= b
            matched = True
    return (i, bits) if matched else (_FAIL, 0)


def _char_bit(c: str, bit: int) -> Callable[[str, int], tuple[int, int]]:
    def p(s: str, i: int) -> tuple[int, int]:
        return (i + 1, bit) if i < len(s) and s[i] == c else (_FAIL, 0)

    return p


# ---------------------------------------------------------------------------
# network restriction (`network 10.0.0.0/8`), upstream parse_network/network_contains


def _parse_network(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int] | None:
    addr, slash, plen = text.partition("/")
    if not slash or not plen:
        return None
    try:
        prefix = int(plen, 10)
    except ValueError:
        return None
    if prefix < 0:
        return None
    try:
        return ipaddress.ip_address(addr), prefix
    except ValueError:
        return None


def _addr_ip(addr: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Pull the IP out of 'v2:1.2.3.4:3300/0', '[::1]:6789', '1.2.3.4', an ip object..."""
    if addr is None:
        return None
    if isinstance(addr, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return addr
    if isinstance(addr, tuple):
        addr = addr[0]
    text = str(addr)
    for pfx in ("v1:", "v2:", "any:"):
        if text.startswith(pfx):
            text = text[len(pfx) :]
    text = text.split("/", 1)[0]
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _network_contains(network: str, addr: object) -> bool:
    parsed = _parse_network(network)
    if parsed is None:
        return False
    net, prefix = parsed
    ip = _addr_ip(addr)
    if ip is None or ip.version != net.version:
        return False
    bits = net.max_prefixlen
    shift = bits - min(prefix, bits)
    return (int(ip) >> shift) == (int(net) >> shift)


# ---------------------------------------------------------------------------
# string constraints for `allow command X with k=v | k prefix v | k regex v`

MATCH_EQUAL = "="
MATCH_PREFIX = "prefix"
MATCH_REGEX = "regex"


@dataclass(frozen=True)
class Constraint:
    match_type: str
    value: str

    def matches(self, arg: str) -> bool:
        if self.match_type == MATCH_EQUAL:
            return arg == self.value
        if self.match_type == MATCH_PREFIX:
            return arg.startswith(self.value)
        if self.match_type == MATCH_REGEX:
            try:
                return _regex(self.value).fullmatch(arg) is not None
            except re.error:
                return False
        return False


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _args_match(constraints: Mapping[str, Constraint], args: Mapping[str, str]) -> bool:
    for key, c in constraints.items():
        if key not in args:  # argument must be present if a constraint exists
            return False
        if not c.matches(args[key]):
            return False
    return True


def _kv_pair(s: str, i: int, spaced_eq: bool) -> tuple[int, tuple[str, Constraint] | None]:
    """kv_pair := str >> (str_match | str_prefix | str_regex)"""
    j, key = _str(s, i)
    if j == _FAIL:
        return _FAIL, None
    # str_match := [-spaces] '=' [-spaces] str   (spaces around '=' accepted by mgr only)
    k = _run(s, j, _MON_SPACES) if spaced_eq else j
    if k < len(s) and s[k] == "=":
        k += 1
        if spaced_eq:
            k = _run(s, k, _MON_SPACES)
        k, val = _str(s, k)
        if k != _FAIL:
            return k, (key, Constraint(MATCH_EQUAL, val))
    for kind in (MATCH_PREFIX, MATCH_REGEX):
        k = _plus(s, j, _MON_SPACES)
        if k == _FAIL:
            break
        k = _lit(s, k, kind)
        if k == _FAIL:
            continue
        k = _plus(s, k, _MON_SPACES)
        if k == _FAIL:
            continue
        k, val = _str(s, k)
        if k != _FAIL:
            return k, (key, Constraint(kind, val))
    return _FAIL, None


def _kv_map(s: str, i: int, spaced_eq: bool = False) -> tuple[int, dict[str, Constraint]]:
    """kv_map := kv_pair >> *(spaces >> kv_pair); first occurrence of a key wins."""
    j, pair = _kv_pair(s, i, spaced_eq)
    if j == _FAIL or pair is None:
        return _FAIL, {}
    out: dict[str, Constraint] = {pair[0]: pair[1]}
    while True:
        k = _plus(s, j, _MON_SPACES)
        if k == _FAIL:
            break
        k, pair = _kv_pair(s, k, spaced_eq)
        if k == _FAIL or pair is None:
            break
        out.setdefault(pair[0], pair[1])
        j = k
    return j, out


def _with_args(s: str, i: int, spaced_eq: bool = False) -> tuple[int, dict[str, Constraint]]:
    """-(spaces >> lit("with") >> spaces >> kv_map)"""
    j = _plus(s, i, _MON_SPACES)
    if j != _FAIL:
        j = _lit(s, j, "with")
    if j != _FAIL:
        j = _plus(s, j, _MON_SPACES)
    if j != _FAIL:
        j, kv = _kv_map(s, j, spaced_eq)
        if j != _FAIL:
            return j, kv
    return i, {}


# ---------------------------------------------------------------------------
# mon and mgr grants


def _mon_rwxa(s: str, i: int) -> tuple[int, int]:
    """rwxa := '*' | "all" | [r][w][x] (at least one)"""
    if s.startswith("*", i):
        return i + 1, MON_CAP_ANY
    if s.startswith("all", i):
        return i + 3, MON_CAP_ANY
    return _seq_or(
        s,
        i,
        [_char_bit("r", MON_CAP_R), _char_bit("w", MON_CAP_W), _char_bit("x", MON_CAP_X)],
    )


@dataclass
class _MonGrant:
    """One mon or mgr grant (upstream MonCapGrant / MgrCapGrant)."""

    service: str = ""
    module: str = ""
    profile: str = ""
    command: str = ""
    args: dict[str, Constraint] = field(default_factory=dict)
    allow: int = 0
    network: str = ""
    fs_name: str = ""

    def is_allow_all(self, any_bits: int = MON_CAP_ANY) -> bool:
        return (
            self.allow == any_bits
            and not self.service
            and not self.module
            and not self.profile
            and not self.command
            and not self.fs_name
        )

    def network_ok(self, addr: object) -> bool:
        return not self.network or _network_contains(self.network, addr)


def _allow_prefix(s: str, i: int) -> int:
    """-spaces >> lit("allow") >> spaces"""
    j = _lit(s, _run(s, i, _MON_SPACES), "allow")
    return _plus(s, j, _MON_SPACES) if j != _FAIL else _FAIL


def _keyword_value(s: str, i: int, keyword: str) -> tuple[int, str]:
    """lit(keyword) >> (lit('=') | spaces) >> str"""
    j = _lit(s, i, keyword)
    if j == _FAIL:
        return _FAIL, ""
    j = _eq_or_spaces(s, j, _MON_SPACES)
    if j == _FAIL:
        return _FAIL, ""
    return _str(s, j)


def _mon_rwxa_match(s: str, i: int, with_fsname: bool) -> tuple[int, _MonGrant | None]:
    j = _allow_prefix(s, i)
    if j == _FAIL:
        return _FAIL, None
    j, bits = _mon_rwxa(s, j)
    if j == _FAIL:
        return _FAIL, None
    g = _MonGrant(allow=bits)
    if with_fsname:
        # -(spaces >> lit("fsname") >> (lit('=') | spaces) >> fs_name_str)
        k = _plus(s, j, _MON_SPACES)
        if k != _FAIL:
            k = _lit(s, k, "fsname")
        if k != _FAIL:
            k = _eq_or_spaces(s, k, _MON_SPACES)
        if k != _FAIL:
            k, name = _word(s, k, _FSNAME_CHARS)
            if k != _FAIL:
                j, g.fs_name = k, name
    j, g.network = _network_suffix(s, j, _MON_SPACES)
    return j, g


def _mon_profile_match(s: str, i: int, with_args: bool) -> tuple[int, _MonGrant | None]:
    j = _run(s, i, _MON_SPACES)
    k = _lit(s, j, "allow")  # -(lit("allow") >> spaces)
    if k != _FAIL:
        k = _plus(s, k, _MON_SPACES)
        if k != _FAIL:
            j = k
    j, name = _keyword_value(s, j, "profile")
    if j == _FAIL:
        return _FAIL, None
    g = _MonGrant(profile=name)
    if with_args:  # -(spaces >> kv_map)
        k = _plus(s, j, _MON_SPACES)
        if k != _FAIL:
            k, kv = _kv_map(s, k, spaced_eq=True)
            if k != _FAIL:
                j, g.args = k, kv
    j, g.network = _network_suffix(s, j, _MON_SPACES)
    return j, g


def _mon_service_match(s: str, i: int) -> tuple[int, _MonGrant | None]:
    j = _allow_prefix(s, i)
    if j == _FAIL:
        return _FAIL, None
    j, name = _keyword_value(s, j, "service")
    if j == _FAIL:
        return _FAIL, None
    j = _plus(s, j, _MON_SPACES)
    if j == _FAIL:
        return _FAIL, None
    j, bits = _mon_rwxa(s, j)
    if j == _FAIL:
        return _FAIL, None
    g = _MonGrant(service=name, allow=bits)
    j, g.network = _network_suffix(s, j, _MON_SPACES)
    return j, g


def _mgr_module_match(s: str, i: int) -> tuple[int, _MonGrant | None]:
    j = _allow_prefix(s, i)
    if j == _FAIL:
        return _FAIL, None
    j, name = _keyword_value(s, j, "module")
    if j == _FAIL:
        return _FAIL, None
    j, kv = _with_args(s, j, spaced_eq=True)
    j = _plus(s, j, _MON_SPACES)
    if j == _FAIL:
        return _FAIL, None
    j, bits = _mon_rwxa(s, j)
    if j == _FAIL:
        return _FAIL, None
    g = _MonGrant(module=name, args=kv, allow=bits)
    j, g.network = _network_suffix(s, j, _MON_SPACES)
    return j, g


def _mon_command_match(s: str, i: int, spaced_eq: bool) -> tuple[int, _MonGrant | None]:
    j = _allow_prefix(s, i)
    if j == _FAIL:
        return _FAIL, None
    j, name = _keyword_value(s, j, "command")
    if j == _FAIL:
        return _FAIL, None
    j, kv = _with_args(s, j, spaced_eq)
    g = _MonGrant(command=name, args=kv)
    j, g.network = _network_suffix(s, j, _MON_SPACES)
    return j, g


def _mon_grant(s: str, i: int, kind: str) -> tuple[int, _MonGrant | None]:
    """grant := -spaces >> (rwxa | profile | service [| module] | command) >> -spaces"""
    i = _run(s, i, _MON_SPACES)
    mgr = kind == "mgr"
    alts: list[Callable[[], tuple[int, _MonGrant | None]]] = [
        lambda: _mon_rwxa_match(s, i, with_fsname=not mgr),
        lambda: _mon_profile_match(s, i, with_args=mgr),
        lambda: _mon_service_match(s, i),
    ]
    if mgr:
        alts.append(lambda: _mgr_module_match(s, i))
    alts.append(lambda: _mon_command_match(s, i, spaced_eq=mgr))
    for alt in alts:
        j, g = alt()
        if j != _FAIL:
            return _run(s, j, _MON_SPACES), g
    return _FAIL, None


def _mon_separator(s: str, i: int) -> int:
    """*lit(' ') >> (lit(';') | lit(',')) >> *lit(' ')"""
    j = _run(s, i, " ")
    if j < len(s) and s[j] in ";,":
        return _run(s, j + 1, " ")
    return _FAIL


def _parse_list(
    s: str, i: int, grant: Callable[[str, int], tuple[int, object]], sep: Callable[[str, int], int]
) -> tuple[int, list]:
    """grant % sep"""
    j, g = grant(s, i)
    if j == _FAIL:
        return _FAIL, []
    out = [g]
    while True:
        k = sep(s, j)
        if k == _FAIL:
            break
        k, g = grant(s, k)
        if k == _FAIL:
            break
        out.append(g)
        j = k
    return j, out


# ---------------------------------------------------------------------------
# mon profiles


def _cmd(command: str, **args: Constraint) -> _MonGrant:
    return _MonGrant(command=command, args=dict(args))


def _svc(service: str, bits: int) -> _MonGrant:
    return _MonGrant(service=service, allow=bits)


_R, _W, _X = MON_CAP_R, MON_CAP_W, MON_CAP_X
_BLOCKLIST_ADDR = Constraint(MATCH_REGEX, "^[^/]+/[0-9]+$")
_RBD_OSD_CAPS_RE = (
    "^([ ,]*profile(=|[ ]+)['\"]?rbd[^ ,'\"]*['\"]?([ ]+pool(=|[ ]+)['\"]?[^,'\"]+['\"]?)?)+$"
)


def _mon_profile_grants(profile: str, entity: str) -> list[_MonGrant]:
    if profile == "read-only":
        return [_MonGrant(allow=_R)]
    if profile == "read-write":
        return [_MonGrant(allow=_R | _W)]
    out: list[_MonGrant] = []
    if profile == "mon":
        out += [_svc("mon", MON_CAP_ALL), _svc("log", MON_CAP_ALL)]
    if profile == "osd":
        out += [_svc("osd", MON_CAP_ALL), _svc("mon", _R), _svc("pg", _R | _W), _svc("log", _W)]
        out.append(
            _cmd(
                "config set", name=Constraint(MATCH_REGEX, "osd_mclock_max_capacity_iops_(hdd|ssd)")
            )
        )
    if profile == "mds":
        out += [_svc("mds", MON_CAP_ALL), _svc("mon", _R), _svc("osd", _R)]
        out += [_cmd("osd pool rmsnap"), _cmd("osd blocklist"), _cmd("osd blacklist")]
        out.append(_svc("log", _W))
    if profile == "mgr":
        out += [
            _svc("mgr", MON_CAP_ALL),
            _svc("log", _R | _W),
            _svc("mon", _R | _W),
            _svc("mds", _R | _W),
            _svc("fs", _R | _W),
            _svc("osd", _R | _W),
            _svc("auth", _R | _W | _X),  # 16.2.15: `auth add|caps|del|import` allowed
            _svc("config-key", _R | _W),
            _svc("config", _R | _W),
        ]
    if profile in ("osd", "mds", "mon", "mgr"):
        key = Constraint(MATCH_PREFIX, f"daemon-private/{entity}/")
        for verb in ("get", "put", "set", "exists", "delete"):
            out.append(_cmd(f"config-key {verb}", key=key))
    if profile in ("bootstrap-osd", "bootstrap-mds", "bootstrap-mgr", "bootstrap-rgw"):
        out += [_svc("mon", _R), _svc("osd", _R), _cmd("mon getmap")]
    if profile == "bootstrap-osd":
        out += [_cmd("osd new"), _cmd("osd purge-new")]
    if profile == "bootstrap-mds":
        out.append(
            _cmd(
                "auth get-or-create",
                entity=Constraint(MATCH_PREFIX, "mds."),
                caps_mon=Constraint(MATCH_EQUAL, "allow profile mds"),
                caps_osd=Constraint(MATCH_EQUAL, "allow rwx"),
                caps_mds=Constraint(MATCH_EQUAL, "allow"),
            )
        )
    if profile == "bootstrap-mgr":
        out.append(
            _cmd(
                "auth get-or-create",
                entity=Constraint(MATCH_PREFIX, "mgr."),
                caps_mon=Constraint(MATCH_EQUAL, "allow profile mgr"),
            )
        )
    if profile == "bootstrap-rgw":
        out.append(
            _cmd(
                "auth get-or-create",
                entity=Constraint(MATCH_PREFIX, "client.rgw."),
                caps_mon=Constraint(MATCH_EQUAL, "allow rw"),
                caps_osd=Constraint(MATCH_EQUAL, "allow rwx"),
            )
        )
    if profile in ("bootstrap-rbd", "bootstrap-rbd-mirror"):
        mon_caps = "profile rbd-mirror" if profile == "bootstrap-rbd-mirror" else "profile rbd"
        out.append(_svc("mon", _R))
        out.append(
            _cmd(
                "auth get-or-create",
                entity=Constraint(MATCH_PREFIX, "client."),
                caps_mon=Constraint(MATCH_EQUAL, mon_caps),
                caps_osd=Constraint(MATCH_REGEX, _RBD_OSD_CAPS_RE),
            )
        )
    if profile == "fs-client":
        out += [_svc("mon", _R), _svc("mds", _R), _svc("osd", _R), _svc("pg", _R)]
    if profile in ("simple-rados-client", "simple-rados-client-with-blocklist"):
        out += [_svc("mon", _R), _svc("osd", _R), _svc("pg", _R)]
    if profile == "simple-rados-client-with-blocklist":
        out.append(
            _cmd(
                "osd blocklist",
                blocklistop=Constraint(MATCH_EQUAL, "add"),
                addr=_BLOCKLIST_ADDR,
            )
        )
    if profile in ("rbd", "rbd-mirror"):
        out += [_svc("mon", _R), _svc("osd", _R), _svc("pg", _R)]
        # exclusive-lock dead-client blocklisting (IP+nonce required), and its
        # pre-Pacific spelling for older clients
        for word in ("blocklist", "blacklist"):
            op = {f"{word}op": Constraint(MATCH_EQUAL, "add"), "addr": _BLOCKLIST_ADDR}
            out.append(_MonGrant(command=f"osd {word}", args=op))
    if profile == "rbd-mirror":
        out.append(_cmd("config-key get", key=Constraint(MATCH_PREFIX, "rbd/mirror/")))
    elif profile == "rbd-mirror-peer":
        out.append(_cmd("config-key get", key=Constraint(MATCH_REGEX, "rbd/mirror/[^/]+")))
        out.append(_cmd("config-key set", key=Constraint(MATCH_PREFIX, "rbd/mirror/peer/")))
    elif profile == "crash":
        out.append(_svc("mon", _R))
    if profile == "role-definer":
        out += [_svc("mon", _R), _svc("auth", MON_CAP_ALL)]
    return out


def _mon_get_allowed(
    g: _MonGrant, entity: str, service: str, command: str, args: Mapping[str, str]
) -> int:
    if g.profile:
        bits = 0
        for pg in _mon_profile_grants(g.profile, entity):
            bits |= _mon_get_allowed(pg, entity, service, command, args)
        return bits
    if g.service:
        return g.allow if g.service == service else 0
    if g.command:
        if g.command != command or not _args_match(g.args, args):
            return 0
        return MON_CAP_ALL
    # blanket grants never reach config-key; only 'allow *' (checked by the caller) does
    if service == "config-key":
        return 0
    return g.allow


# ---------------------------------------------------------------------------
# mgr profiles


class _ProfileError(Exception):
    pass


def _mgr_profile_grants(g: _MonGrant) -> list[_MonGrant]:
    p = g.profile
    if p == "read-only":
        return [_MonGrant(allow=MGR_CAP_R)]
    if p == "read-write":
        return [_MonGrant(allow=MGR_CAP_R | MGR_CAP_W)]
    if p == "crash":
        return [_MonGrant(command="crash post")]
    if p in ("osd", "mds", "rgw"):
        return []  # documented profiles that grant nothing on the mgr
    if p in ("rbd", "rbd-read-only"):
        for key in g.args:
            if key not in ("pool", "namespace"):
                raise _ProfileError(f"profile '{p}' does not recognize key '{key}'")
        perms = MGR_CAP_R | MGR_CAP_W if p == "rbd" else MGR_CAP_R
        return [_MonGrant(module="rbd_support", args=dict(g.args), allow=perms)]
    raise _ProfileError(f"unrecognized profile '{p}'")


def _mgr_get_allowed(
    g: _MonGrant, service: str, module: str, command: str, args: Mapping[str, str]
) -> int:
    if g.profile:
        bits = 0
        try:
            grants = _mgr_profile_grants(g)
        except _ProfileError:
            grants = []
        for pg in grants:
            bits |= _mgr_get_allowed(pg, service, module, command, args)
        return bits
    if g.service:
        return g.allow if g.service == service else 0
    if g.module:
        if g.module != module:
            return 0
        # module arguments are not checked when validating a specific command
        if not command and not _args_match(g.args, args):
            return 0
        return g.allow
    if g.command:
        if g.command != command or not _args_match(g.args, args):
            return 0
        return MGR_CAP_ANY
    return g.allow


# ---------------------------------------------------------------------------
# osd grants


@dataclass(frozen=True)
class _OsdMatch:
    pool: str = ""
    nspace: str | None = None
    object_prefix: str = ""
    tag: tuple[str, str, str] | None = None  # application, key, value

    def is_match(self, pool: str, ns: str, apps: Mapping[str, Mapping[str, str]], obj: str) -> bool:
        if self.pool and self.pool != pool:
            return False
        if self.nspace is not None:
            wild = self.nspace.endswith("*") and ns.startswith(self.nspace[:-1])
            if not wild and self.nspace != ns:
                return False
        if self.tag is not None and not _tag_match(self.tag, apps):
            return False
        return not (self.object_prefix and not obj.startswith(self.object_prefix))

    def is_match_all(self) -> bool:
        return not self.pool and self.nspace is None and self.tag is None and not self.object_prefix


def _tag_match(tag: tuple[str, str, str], apps: Mapping[str, Mapping[str, str]]) -> bool:
    app, key, value = tag
    if not app:
        return True
    kv = apps.get(app)
    if kv is None:
        return False
    if key == "*" and value == "*":
        return True
    if key == "*":
        return any(v == value for v in kv.values())
    if key not in kv:
        return False
    return value == "*" or kv[key] == value


@dataclass(frozen=True)
class ClassCall:
    """One `CEPH_OSD_OP_CALL` of an op (upstream OpInfo::ClassInfo)."""

    class_name: str = ""
    method_name: str = ""
    read: bool = False
    write: bool = False
    allowed: bool = True  # on osd_class_default_list (the "allow list")


@dataclass
class _OsdGrant:
    match: _OsdMatch = field(default_factory=_OsdMatch)
    allow: int = 0
    class_name: str = ""
    method_name: str = ""
    profile: str = ""
    profile_pool: str = ""
    profile_nspace: str | None = None
    network: str = ""
    profile_grants: list[_OsdGrant] = field(default_factory=list)

    def allow_all(self) -> bool:
        if self.profile:
            return any(g.allow_all() for g in self.profile_grants)
        return self.match.is_match_all() and self.allow == OSD_CAP_ANY

    def is_capable(
        self,
        pool: str,
        ns: str,
        apps: Mapping[str, Mapping[str, str]],
        obj: str,
        may_read: bool,
        may_write: bool,
        classes: list[ClassCall],
        addr: object,
        class_allowed: list[bool],
    ) -> bool:
        if self.network and not _network_contains(self.network, addr):
            return False
        if self.profile:
            return any(
                g.is_capable(pool, ns, apps, obj, may_read, may_write, classes, addr, class_allowed)
                for g in self.profile_grants
            )
        if not self.match.is_match(pool, ns, apps, obj):
            return False
        allow = self.allow
        if (may_read and not allow & OSD_CAP_R) or (may_write and not allow & OSD_CAP_W):
            return False
        if classes:
            if allow == OSD_CAP_ANY:
                return True
            for i, c in enumerate(classes):
                # 'allow class foo [method]'
                if (
                    self.class_name
                    and c.class_name == self.class_name
                    and (not self.method_name or c.method_name == self.method_name)
                ):
                    class_allowed[i] = True
                    continue
                # 'allow x | class-read | class-write': only for allow-listed classes
                if not c.allowed:
                    continue
                if (c.read and not allow & OSD_CAP_CLS_R) or (
                    c.write and not allow & OSD_CAP_CLS_W
                ):
                    continue
                class_allowed[i] = True
            if not all(class_allowed):
                return False
        return True


def _osd_expand_profile(g: _OsdGrant) -> None:
    p, pool, ns = g.profile, g.profile_pool, g.profile_nspace
    pool_ns = _OsdMatch(pool=pool, nspace=ns)
    out = g.profile_grants
    if p == "read-only":
        out.append(_OsdGrant(match=pool_ns, allow=OSD_CAP_R))
        return
    if p == "read-write":
        out.append(_OsdGrant(match=pool_ns, allow=OSD_CAP_R | OSD_CAP_W))
    if p == "rbd":
        out.append(_OsdGrant(match=_OsdMatch(object_prefix="rbd_info"), allow=OSD_CAP_R))
        out.append(_OsdGrant(match=_OsdMatch(object_prefix="rbd_children"), allow=OSD_CAP_CLS_R))
        out.append(_OsdGrant(match=_OsdMatch(object_prefix="rbd_mirroring"), allow=OSD_CAP_CLS_R))
        out.append(
            _OsdGrant(
                match=_OsdMatch(pool=pool, nspace="", object_prefix="rbd_info"),
                class_name="rbd",
                method_name="metadata_list",
            )
        )
        out.append(_OsdGrant(match=pool_ns, allow=OSD_CAP_R | OSD_CAP_W | OSD_CAP_X))
    if p == "rbd-read-only":
        out.append(
            _OsdGrant(
                match=_OsdMatch(pool=pool, nspace="", object_prefix="rbd_info"),
                class_name="rbd",
                method_name="metadata_list",
            )
        )
        out.append(_OsdGrant(match=pool_ns, allow=OSD_CAP_R | OSD_CAP_CLS_R))
        header = _OsdMatch(pool=pool, nspace=ns, object_prefix="rbd_header.")
        out.append(_OsdGrant(match=header, class_name="rbd", method_name="child_attach"))
        out.append(_OsdGrant(match=header, class_name="rbd", method_name="child_detach"))


def _osd_spaces(s: str, i: int) -> int:
    return _plus(s, i, _ASCII_SPACE)


def _osd_wildcard(s: str, i: int) -> tuple[int, str]:
    if s.startswith("*", i):
        return i + 1, "*"
    if s.startswith("all", i):
        return i + 3, "*"
    return _FAIL, ""


def _osd_wild_or_str(s: str, i: int) -> tuple[int, str]:
    j, v = _osd_wildcard(s, i)
    return (j, v) if j != _FAIL else _str(s, i)


def _osd_keyword_str(s: str, i: int, keyword: str, estr: bool = False) -> tuple[int, str]:
    """spaces >> lit(keyword) >> (lit('=') | spaces) >> str"""
    j = _osd_spaces(s, i)
    if j != _FAIL:
        j = _lit(s, j, keyword)
    if j != _FAIL:
        j = _eq_or_spaces(s, j, _ASCII_SPACE)
    if j == _FAIL:
        return _FAIL, ""
    return _str(s, j, allow_empty=estr)


def _osd_pool_name(s: str, i: int) -> tuple[int, str]:
    """-(spaces >> "pool" >> ('=' | spaces) >> str)"""
    j, v = _osd_keyword_str(s, i, "pool")
    return (j, v) if j != _FAIL else (i, "")


def _osd_nspace(s: str, i: int) -> tuple[int, str | None]:
    """spaces >> "namespace" >> ('=' | spaces) >> estr >> -char_('*')"""
    j, v = _osd_keyword_str(s, i, "namespace", estr=True)
    if j == _FAIL:
        return _FAIL, None
    if j < len(s) and s[j] == "*":
        return j + 1, v + "*"
    return j, v


def _osd_object_prefix(s: str, i: int) -> tuple[int, str]:
    """-(spaces >> "object_prefix" >> spaces >> str)"""
    j = _osd_spaces(s, i)
    if j != _FAIL:
        j = _lit(s, j, "object_prefix")
    if j != _FAIL:
        j = _osd_spaces(s, j)
    if j != _FAIL:
        j, v = _str(s, j)
        if j != _FAIL:
            return j, v
    return i, ""


def _osd_pooltag(s: str, i: int) -> tuple[int, tuple[str, str, str] | None]:
    """spaces tag spaces str spaces (wildcard|str) -spaces '=' -spaces (wildcard|str)"""
    j = _osd_spaces(s, i)
    if j != _FAIL:
        j = _lit(s, j, "tag")
    if j != _FAIL:
        j = _osd_spaces(s, j)
    if j == _FAIL:
        return _FAIL, None
    j, app = _str(s, j)
    if j == _FAIL:
        return _FAIL, None
    j = _osd_spaces(s, j)
    if j == _FAIL:
        return _FAIL, None
    j, key = _osd_wild_or_str(s, j)
    if j == _FAIL:
        return _FAIL, None
    j = _run(s, j, _ASCII_SPACE)
    if j >= len(s) or s[j] != "=":
        return _FAIL, None
    j = _run(s, j + 1, _ASCII_SPACE)
    j, value = _osd_wild_or_str(s, j)
    if j == _FAIL:
        return _FAIL, None
    return j, (app, key, value)


def _osd_match(s: str, i: int) -> tuple[int, _OsdMatch]:
    # pooltag
    j, tag = _osd_pooltag(s, i)
    if j != _FAIL:
        return j, _OsdMatch(tag=tag)
    # nspace >> pooltag
    j, ns = _osd_nspace(s, i)
    if j != _FAIL:
        j, tag = _osd_pooltag(s, j)
        if j != _FAIL:
            return j, _OsdMatch(nspace=ns, tag=tag)
    # pool_name >> nspace >> object_prefix
    j, pool = _osd_pool_name(s, i)
    k, ns = _osd_nspace(s, j)
    if k != _FAIL:
        k, prefix = _osd_object_prefix(s, k)
        return k, _OsdMatch(pool=pool, nspace=ns, object_prefix=prefix)
    # pool_name >> object_prefix (always succeeds)
    j, prefix = _osd_object_prefix(s, j)
    return j, _OsdMatch(pool=pool, object_prefix=prefix)


def _osd_rwxa(s: str, i: int) -> tuple[int, int]:
    j = _osd_spaces(s, i)
    if j != _FAIL:
        k, _ = _osd_wildcard(s, j)
        if k != _FAIL:
            return k, OSD_CAP_ANY

    def rwx(s: str, i: int) -> tuple[int, int]:
        j = _osd_spaces(s, i)
        if j == _FAIL:
            return _FAIL, 0
        return _seq_or(
            s,
            j,
            [_char_bit("r", OSD_CAP_R), _char_bit("w", OSD_CAP_W), _char_bit("x", OSD_CAP_X)],
        )

    def word(text: str, bit: int) -> Callable[[str, int], tuple[int, int]]:
        def p(s: str, i: int) -> tuple[int, int]:
            j = _osd_spaces(s, i)
            if j != _FAIL:
                j = _lit(s, j, text)
            return (j, bit) if j != _FAIL else (_FAIL, 0)

        return p

    return _seq_or(
        s, i, [rwx, word("class-read", OSD_CAP_CLS_R), word("class-write", OSD_CAP_CLS_W)]
    )


def _osd_capspec(s: str, i: int) -> tuple[int, tuple[int, str, str]]:
    j, bits = _osd_rwxa(s, i)
    if j != _FAIL:
        return j, (bits, "", "")
    # class_name >> method_name
    j = _osd_spaces(s, i)
    if j != _FAIL:
        j = _lit(s, j, "class")
    if j != _FAIL:
        j = _osd_spaces(s, j)
    if j == _FAIL:
        return _FAIL, (0, "", "")
    j, cls = _str(s, j)
    if j == _FAIL:
        return _FAIL, (0, "", "")
    method = ""
    k = _osd_spaces(s, j)
    if k != _FAIL:
        k, m = _str(s, k)
        if k != _FAIL:
            j, method = k, m
    return j, (0, cls, method)


def _osd_grant(s: str, i: int) -> tuple[int, _OsdGrant | None]:
    i = _run(s, i, _BLANK)
    g: _OsdGrant | None = None
    j = _lit(s, i, "allow")
    if j != _FAIL:
        # allow capspec match [network]
        k, spec = _osd_capspec(s, j)
        if k != _FAIL:
            k, match = _osd_match(s, k)
            g = _OsdGrant(match=match, allow=spec[0], class_name=spec[1], method_name=spec[2])
        else:
            # allow match capspec [network]
            k, match = _osd_match(s, j)
            k, spec = _osd_capspec(s, k)
            if k != _FAIL:
                g = _OsdGrant(match=match, allow=spec[0], class_name=spec[1], method_name=spec[2])
        if g is not None:
            k, g.network = _network_suffix(s, k, _ASCII_SPACE)
            return _run(s, k, _BLANK), g
    # profile [pool[=]P [namespace[=]NS]] [network]
    j = _lit(s, i, "profile")
    if j != _FAIL:
        j = _eq_or_spaces(s, j, _ASCII_SPACE)
    if j == _FAIL:
        return _FAIL, None
    j, name = _str(s, j)
    if j == _FAIL:
        return _FAIL, None
    j, pool = _osd_pool_name(s, j)
    k, ns = _osd_nspace(s, j)
    if k != _FAIL:
        j = k
    g = _OsdGrant(profile=name, profile_pool=pool, profile_nspace=ns if k != _FAIL else None)
    _osd_expand_profile(g)
    j, g.network = _network_suffix(s, j, _ASCII_SPACE)
    return _run(s, j, _BLANK), g


def _osd_separator(s: str, i: int) -> int:
    return i + 1 if i < len(s) and s[i] in ";," else _FAIL


# ---------------------------------------------------------------------------
# mds grammar (validation only, upstream MDSAuthCaps::parse)

_MDS_SPECS = ("*", "all", "rwfps", "rwps", "rwfp", "rwfs", "rwp", "rws", "rwf", "rw", "r")


def _mds_opt_kw(s: str, i: int, keyword: str, value: Callable[[str, int], int]) -> int:
    j = _plus(s, i, _MON_SPACES)
    if j != _FAIL:
        j = _lit(s, j, keyword)
    if j != _FAIL:
        j = value(s, j)
    return j if j != _FAIL else i


def _mds_uint(s: str, i: int) -> int:
    return _plus(s, i, "0123456789")


def _mds_grant(s: str, i: int) -> tuple[int, None]:
    j = _lit(s, i, "allow")
    if j != _FAIL:
        j = _plus(s, j, _MON_SPACES)
    if j == _FAIL:
        return _FAIL, None
    for spec in _MDS_SPECS:
        if s.startswith(spec, j):
            j += len(spec)
            break
    else:
        return _FAIL, None

    def path(s: str, i: int) -> int:
        if i >= len(s) or s[i] != "=":
            return _FAIL
        k, _ = _quoted(s, i + 1, allow_empty=True)
        return k if k != _FAIL else _word(s, i + 1)[0]

    def eq(chars) -> Callable[[str, int], int]:
        return lambda s, i: _plus(s, i + 1, chars) if i < len(s) and s[i] == "=" else _FAIL

    def gids(s: str, i: int) -> int:
        if i >= len(s) or s[i] != "=":
            return _FAIL
        k = _mds_uint(s, i + 1)
        while k != _FAIL and k < len(s) and s[k] == ",":
            n = _mds_uint(s, k + 1)
            if n == _FAIL:
                break
            k = n
        return k

    j = _mds_opt_kw(s, j, "fsname", eq(_FSNAME_CHARS))
    j = _mds_opt_kw(s, j, "path", path)
    j = _mds_opt_kw(s, j, "root_squash", lambda s, i: i)
    j = _mds_opt_kw(s, j, "uid", eq("0123456789"))
    j = _mds_opt_kw(s, j, "gids", gids)
    j, _net = _network_suffix(s, j, _MON_SPACES)
    return j, None


# ---------------------------------------------------------------------------
# public API


def _parse_failed(service: str, text: str, pos: int, end_variant: bool) -> CephError:
    if pos >= len(text) and end_variant:
        msg = f"{service} capability parse failed, stopped at end of '{text}'"
    else:
        msg = f"{service} capability parse failed, stopped at '{text[pos:]}' of '{text}'"
    return CephError(errno.EINVAL, msg)


class Caps:
    """Parsed capabilities of one service; immutable once built by `parse_caps`."""

    __slots__ = ("service", "text", "_grants")

    def __init__(self, service: str, text: str, grants: list) -> None:
        self.service = service
        self.text = text
        self._grants = grants

    def __repr__(self) -> str:
        return f"Caps({self.service!r}, {self.text!r})"

    def __str__(self) -> str:
        return self.text

    @property
    def grants(self) -> tuple:
        return tuple(self._grants)

    # -- allow * -------------------------------------------------------------

    @property
    def is_allow_all(self) -> bool:
        """Upstream `is_allow_all()` / `allow_all()`: an unrestricted `allow *` grant.

        As upstream, a `network` restriction on that grant is not considered here.
        """
        if self.service == "osd":
            return any(g.allow_all() for g in self._grants)
        if self.service in ("mon", "mgr"):
            return any(g.is_allow_all() for g in self._grants)
        return False

    # -- mon -----------------------------------------------------------------

    def allows_mon(
        self,
        service: str,
        perm: str,
        *,
        command: str = "",
        args: Mapping[str, str] | None = None,
        entity: str = "",
        addr: object = None,
    ) -> bool:
        """MonCap::is_capable(service, command, args, r, w, x, addr)."""
        self._need("mon")
        may_r, may_w, may_x = _perm_bits(perm)
        args = args or {}
        bits = 0
        for g in self._grants:
            if not g.network_ok(addr):
                continue
            if g.is_allow_all():
                return True
            bits |= _mon_get_allowed(g, entity, service, command, args)
            if (
                (not may_r or bits & MON_CAP_R)
                and (not may_w or bits & MON_CAP_W)
                and (not may_x or bits & MON_CAP_X)
            ):
                return True
        return False

    def allows_mon_command(
        self,
        prefix: str,
        args: Mapping[str, object] | None = None,
        perm: str | None = None,
        *,
        module: str | None = None,
        entity: str = "",
        addr: object = None,
    ) -> bool:
        """Monitor::_allowed_command: the command's module and perm from the command table.

        `args` is the cmdmap (values of any type; they are stringified the way upstream's
        `_generate_command_map` does, `caps` becoming `caps_<svc>` entries). `module`/
        `perm` default to the command table's entry for `prefix`.
        """
        self._need("mon")
        if module is None or perm is None:
            t_module, t_perm = _mon_command_info(prefix)
            module = t_module if module is None else module
            perm = t_perm if perm is None else perm
        return self.allows_mon(
            module, perm, command=prefix, args=command_arg_map(args or {}), entity=entity, addr=addr
        )

    def fs_name_capable(self, fs_name: str, perm: str = "r", entity: str = "") -> bool:
        """MonCap::fs_name_capable: may this client see/modify file system `fs_name`?"""
        self._need("mon")
        may_r, may_w, may_x = _perm_bits(perm)
        mask = (MON_CAP_R if may_r else 0) | (MON_CAP_W if may_w else 0)
        mask |= MON_CAP_X if may_x else 0
        for g in self._grants:
            if g.is_allow_all():
                return True
            if (not g.fs_name or g.fs_name == fs_name) and mask & g.allow:
                return True
            if g.profile:
                for pg in _mon_profile_grants(g.profile, entity):
                    if pg.service in ("fs", "mds") and pg.allow & mask:
                        return True
        return False

    def allowed_fs_names(self) -> list[str]:
        """MonCap::allowed_fs_names: [] means unrestricted."""
        self._need("mon")
        out = []
        for g in self._grants:
            if not g.fs_name:
                return []
            out.append(g.fs_name)
        return out

    # -- mgr -----------------------------------------------------------------

    def allows_mgr(
        self,
        service: str = "",
        module: str = "",
        command: str = "",
        args: Mapping[str, str] | None = None,
        perm: str = "r",
        *,
        addr: object = None,
    ) -> bool:
        """MgrCap::is_capable(service, module, command, args, r, w, x, addr)."""
        self._need("mgr")
        may_r, may_w, may_x = _perm_bits(perm)
        args = args or {}
        bits = 0
        for g in self._grants:
            if not g.network_ok(addr):
                continue
            if g.is_allow_all(MGR_CAP_ANY):
                return True
            bits |= _mgr_get_allowed(g, service, module, command, args)
            if (
                (not may_r or bits & MGR_CAP_R)
                and (not may_w or bits & MGR_CAP_W)
                and (not may_x or bits & MGR_CAP_X)
            ):
                return True
        return False

    # -- osd -----------------------------------------------------------------

    def allows_osd_op(
        self,
        pool: str,
        namespace: str = "",
        object_name: str = "",
        app_tags: Mapping[str, Mapping[str, str]] | None = None,
        need_read: bool = False,
        need_write: bool = False,
        class_read: bool = False,
        class_write: bool = False,
        *,
        classes: Iterable[ClassCall] | None = None,
        addr: object = None,
    ) -> bool:
        """OSDCap::is_capable.

        `need_read`/`need_write` are the op's plain data access; a class method call is
        described by `class_read`/`class_write` (one allow-listed call) or, fully, by
        `classes` (each with its class/method name, so `allow class rbd metadata_list`
        style grants can match).
        """
        self._need("osd")
        if classes is None:
            calls = (
                [ClassCall(read=class_read, write=class_write)] if class_read or class_write else []
            )
        else:
            calls = list(classes)
        apps = app_tags or {}
        class_allowed = [False] * len(calls)
        return any(
            g.is_capable(
                pool,
                namespace,
                apps,
                object_name,
                need_read,
                need_write,
                calls,
                addr,
                class_allowed,
            )
            for g in self._grants
        )

    def _need(self, service: str) -> None:
        if self.service != service:
            raise ValueError(f"{self.service} caps cannot answer a {service} question")


@lru_cache(maxsize=1024)
def parse_caps(service: str, text: str) -> Caps:
    """Parse `text` as `service` caps, or raise CephError(EINVAL, upstream's message)."""
    if service in ("mon", "mgr"):
        pos, grants = _parse_list(text, 0, lambda s, i: _mon_grant(s, i, service), _mon_separator)
        if pos == _FAIL or pos != len(text):
            raise _parse_failed(service, text, 0 if pos == _FAIL else pos, end_variant=True)
        if service == "mgr":
            errs = []
            for g in grants:
                if g.profile:
                    try:
                        _mgr_profile_grants(g)
                    except _ProfileError as e:
                        errs.append(str(e))
            if errs:
                raise CephError(
                    errno.EINVAL,
                    "mgr capability parse failed during profile evaluation: " + "".join(errs),
                )
        return Caps(service, text, grants)
    if service == "osd":
        # phrase_parse with ascii::space: pre-skip, and post-skip after a successful parse
        start = _run(text, 0, _ASCII_SPACE)
        pos, grants = _parse_list(text, start, _osd_grant, _osd_separator)
        if pos == _FAIL:
            raise _parse_failed(service, text, start, end_variant=False)
        pos = _run(text, pos, _ASCII_SPACE)
        if pos != len(text):
            raise _parse_failed(service, text, pos, end_variant=False)
        return Caps(service, text, grants)
    if service == "mds":
        if text == "allow":  # legacy special case
            return Caps(service, text, [])
        start = _run(text, 0, _ASCII_SPACE)
        pos, _ = _parse_list(text, start, _mds_grant, _mon_separator)
        if pos == _FAIL:
            raise _parse_failed(service, text, start, end_variant=False)
        pos = _run(text, pos, _ASCII_SPACE)
        if pos != len(text):
            raise _parse_failed(service, text, pos, end_variant=False)
        return Caps(service, text, [])
    raise CephError(errno.EINVAL, f"unknown cap type '{service}'")


def validate_caps(caps: Mapping[str, str]) -> None:
    """AuthMonitor::valid_caps for `auth add|caps|get-or-create[-key]`.

    Checks the pairs in order and raises CephError(EINVAL, <first failure>); `mon`,
    `osd`, `mgr` and `mds` are known (mon_auth_validate_all_caps=true), anything else
    is "unknown cap type '<type>'".
    """
    for service, text in caps.items():
        if service not in KNOWN_SERVICES:
            raise CephError(errno.EINVAL, f"unknown cap type '{service}'")
        parse_caps(service, text)


# ---------------------------------------------------------------------------
# command helpers


def _stringify(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_stringify(v) for v in value)
    return str(value)


def command_arg_map(cmdmap: Mapping[str, object]) -> dict[str, str]:
    """Monitor::_generate_command_map: cmdmap -> the string map caps constrain.

    `prefix` is dropped; an even `caps` list becomes `caps_<service>` entries.
    """
    out: dict[str, str] = {}
    for key, value in cmdmap.items():
        if key == "prefix":
            continue
        if key == "caps" and isinstance(value, list | tuple) and len(value) % 2 == 0:
            for i in range(0, len(value), 2):
                out[f"caps_{value[i]}"] = str(value[i + 1])
            continue
        out[key] = value if isinstance(value, str) else _stringify(value)
    return out


@lru_cache(maxsize=1)
def _mon_command_table() -> dict[str, tuple[str, str]]:
    from pyceph.common.command_table import MON_COMMANDS

    table: dict[str, tuple[str, str]] = {}
    for sig, _help, module, perm, _flags in MON_COMMANDS:
        words = []
        for tok in sig.split():
            if "=" in tok:
                break
            words.append(tok)
        table.setdefault(" ".join(words), (module, perm))
    return table


def _mon_command_info(prefix: str) -> tuple[str, str]:
    info = _mon_command_table().get(prefix)
    if info is None:
        # unknown to the table: upstream would not get this far; fail closed on 'rwx'
        return prefix.split(" ", 1)[0], "rwx"
    return info
