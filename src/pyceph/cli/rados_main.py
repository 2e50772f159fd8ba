"""The `rados` command line: upstream's src/tools/rados/rados.cc over the drop-in `rados` module.

Same syntax, messages, output formats and exit codes as Ceph 16.2's `rados`, so
scripts and operators can use pyceph with the tool they know; only the verbs that
matter for object work and benchmarking are implemented (see `VERBS`).
"""

from __future__ import annotations

import calendar
import errno
import os
import re
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from pyceph import VERSION_STRING
from pyceph.cli import rados_bench
from pyceph.client.op import ObjectOp
from pyceph.cls import lock as lock_cls
from pyceph.common.errors import CephError
from pyceph.common.output import TextTable, byte_u, dump_json
from pyceph.msg.osd_ops import CEPH_NOSNAP
from rados import _core as rados_core

__all__ = [
    "USAGE",
    "VERSION_LINE",
    "Parsed",
    "UsageError",
    "cpp_strerror",
    "format_df_plain",
    "format_mtime",
    "hexdump",
    "main",
    "parse_args",
    "parse_c_strtoll",
    "strict_iecstrtoll",
]

VERSION_LINE = VERSION_STRING

# the `rados` module; unit tests replace it with a fake
rados_module: Any = None


def _rados() -> Any:
    global rados_module
    if rados_module is None:
        import rados  # the drop-in facade, imported lazily

        rados_module = rados
    return rados_module


_USAGE_LINES = (
    "usage: rados [options] [commands]",
    "POOL COMMANDS",
    "   lspools                          list pools",
    "   cppool <pool-name> <dest-pool>   copy content of a pool",
    "   purge <pool-name> --yes-i-really-really-mean-it",
    "                                    remove all objects from pool <pool-name> without removing it",
    "   df                               show per-pool and total usage",
    "   ls                               list objects in pool",
    "",
    "",
    "POOL SNAP COMMANDS",
    "   lssnap                           list snaps",
    "   mksnap <snap-name>               create snap <snap-name>",
    "   rmsnap <snap-name>               remove snap <snap-name>",
    "",
    "OBJECT COMMANDS",
    "   get <obj-name> <outfile>         fetch object",
    "   put <obj-name> <infile> [--offset offset]",
    "                                    write object with start offset (default:0)",
    "   append <obj-name> <infile>       append object",
    "   truncate <obj-name> length       truncate object",
    "   create <obj-name>                create object",
    "   rm <obj-name> ... [--force-full] remove object(s), --force-full forces remove when cluster is full",
    "   cp <obj-name> [target-obj]       copy object",
    "   listxattr <obj-name>",
    "   getxattr <obj-name> attr",
    "   setxattr <obj-name> attr val",
    "   rmxattr <obj-name> attr",
    "   stat <obj-name>                  stat the named object",
    "   stat2 <obj-name>                 stat2 the named object (with high precision time)",
    "   touch <obj-name> [timestamp]     change the named object modification time",
    "   mapext <obj-name>",
    "   rollback <obj-name> <snap-name>  roll back object to snap <snap-name>",
    "",
    "   listsnaps <obj-name>             list the snapshots of this object",
    "   bench <seconds> write|seq|rand [-t concurrent_operations] [--no-cleanup] [--run-name run_name] [--no-hints] [--reuse-bench]",
    "                                    default is 16 concurrent IOs and 4 MB ops",
    "                                    default is to clean up after write benchmark",
    "                                    default run-name is 'benchmark_last_metadata'",
    "   cleanup [--run-name run_name] [--prefix prefix]",
    "                                    clean up a previous benchmark operation",
    "                                    default run-name is 'benchmark_last_metadata'",
    "   load-gen [options]               generate load on the cluster",
    "   listomapkeys <obj-name>          list the keys in the object map",
    "   listomapvals <obj-name>          list the keys and vals in the object map ",
    "   getomapval <obj-name> <key> [file] show the value for the specified key",
    "                                    in the object's object map",
    "   setomapval <obj-name> <key> <val | --input-file file>",
    "   rmomapkey <obj-name> <key>",
    "   clearomap <obj-name> [obj-name2 obj-name3...] clear all the omap keys for the specified objects",
    "   getomapheader <obj-name> [file]",
    "   setomapheader <obj-name> <val>",
    "   watch <obj-name>                 add watcher on this object",
    "   notify <obj-name> <message>      notify watcher of this object with message",
    "   listwatchers <obj-name>          list the watchers of this object",
    "   set-alloc-hint <obj-name> <expected-object-size> <expected-write-size>",
    "                                    set allocation hint for an object",
    "   set-redirect <object A> --target-pool <caspool> <target object A> [--with-reference]",
    "                                    set redirect target",
    "   set-chunk <object A> <offset> <length> --target-pool <caspool> <target object A> <taget-offset> [--with-reference]",
    "                                    convert an object to chunked object",
    "   tier-promote <obj-name>\t     promote the object to the base tier",
    "   unset-manifest <obj-name>\t     unset redirect or chunked object",
    "   tier-flush <obj-name>\t     flush the chunked object",
    "   tier-evict <obj-name>\t     evict the chunked object",
    "",
    "IMPORT AND EXPORT",
    "   export [filename]",
    "       Serialize pool contents to a file or standard out.",
    "   import [--dry-run] [--no-overwrite] < filename | - >",
    "       Load pool contents from a file or standard in",
    "",
    "ADVISORY LOCKS",
    "   lock list <obj-name>",
    "       List all advisory locks on an object",
    "   lock get <obj-name> <lock-name> [--lock-cookie locker-cookie] [--lock-tag locker-tag] [--lock-description locker-desc] [--lock-duration locker-dur] [--lock-type locker-type]",
    "       Try to acquire a lock",
    "   lock break <obj-name> <lock-name> <locker-name> [--lock-cookie locker-cookie]",
    "       Try to break a lock acquired by another client",
    "   lock info <obj-name> <lock-name>",
    "       Show lock information",
    "   options:",
    "       --lock-tag                   Lock tag, all locks operation should use",
    "                                    the same tag",
    "       --lock-cookie                Locker cookie",
    "       --lock-description           Description of lock",
    "       --lock-duration              Lock duration (in seconds)",
    "       --lock-type                  Lock type (shared, exclusive)",
    "",
    "SCRUB AND REPAIR:",
    "   list-inconsistent-pg <pool>      list inconsistent PGs in given pool",
    "   list-inconsistent-obj <pgid>     list inconsistent objects in given PG",
    "   list-inconsistent-snapset <pgid> list inconsistent snapsets in the given PG",
    "",
    "CACHE POOLS: (for testing/development only)",
    "   cache-flush <obj-name>           flush cache pool object (blocking)",
    "   cache-try-flush <obj-name>       flush cache pool object (non-blocking)",
    "   cache-evict <obj-name>           evict cache pool object",
    "   cache-flush-evict-all            flush+evict all objects",
    "   cache-try-flush-evict-all        try-flush+evict all objects",
    "",
    "GLOBAL OPTIONS:",
    "   --object-locator object_locator",
    "        set object_locator for operation",
    "   -p pool",
    "   --pool=pool",
    "        select given pool by name",
    "   --target-pool=pool",
    "        select target pool by name",
    "   --pgid PG id",
    "        select given PG id",
    "   -f [--format plain|json|json-pretty]",
    "   --format=[--format plain|json|json-pretty]",
    "   -b op_size",
    "        set the block size for put/get ops and for write benchmarking",
    "   -O object_size",
    "        set the object size for put/get ops and for write benchmarking",
    "   --max-objects",
    "        set the max number of objects for write benchmarking",
    "   --obj-name-file file",
    "        use the content of the specified file in place of <obj-name>",
    "   -s name",
    "   --snap name",
    "        select given snap name for (read) IO",
    "   --input-file file",
    "        use the content of the specified file in place of <val>",
    "   --create",
    "        create the pool or directory that was specified",
    "   -N namespace",
    "   --namespace=namespace",
    "        specify the namespace to use for the object",
    "   --all",
    "        Use with ls to list objects in all namespaces",
    "        Put in CEPH_ARGS environment variable to make this the default",
    "   --default",
    "        Use with ls to list objects in default namespace",
    "        Takes precedence over --all in case --all is in environment",
    "   --target-locator",
    "        Use with cp to specify the locator of the new object",
    "   --target-nspace",
    "        Use with cp to specify the namespace of the new object",
    "   --striper",
    "        Use radostriper interface rather than pure rados",
    "        Available for stat, get, put, truncate, rm, ls and ",
    "        all xattr related operations",
    "",
    "BENCH OPTIONS:",
    "   -t N",
    "   --concurrent-ios=N",
    "        Set number of concurrent I/O operations",
    "   --show-time",
    "        prefix output with date/time",
    "   --no-verify",
    "        do not verify contents of read objects",
    "   --write-object",
    "        write contents to the objects",
    "   --write-omap",
    "        write contents to the omap",
    "   --write-xattr",
    "        write contents to the extended attributes",
    "",
    "LOAD GEN OPTIONS:",
    "   --num-objects                    total number of objects",
    "   --min-object-size                min object size",
    "   --max-object-size                max object size",
    "   --min-op-len                     min io size of operations",
    "   --max-op-len                     max io size of operations",
    "   --max-ops                        max number of operations",
    "   --max-backlog                    max backlog size",
    "   --read-percent                   percent of operations that are read",
    "   --target-throughput              target throughput (in bytes)",
    "   --run-length                     total time (in seconds)",
    "   --offset-align                   at what boundary to align random op offsets",
    "",
    "CACHE POOLS OPTIONS:",
    "   --with-clones                    include clones when doing flush or evict",
    "",
    "OMAP OPTIONS:",
    "    --omap-key-file file            read the omap key from a file",
    "",
    "GENERIC OPTIONS:",
    "  --conf/-c FILE    read configuration from the given configuration file",
    "  --id ID           set ID portion of my name",
    "  --name/-n TYPE.ID set name",
    "  --cluster NAME    set cluster name (default: ceph)",
    "  --setuser USER    set uid to user or uid (and gid to user's gid)",
    "  --setgroup GROUP  set gid to group or gid",
    "  --version         show version and quit",
    "",
)
USAGE = "\n".join(_USAGE_LINES) + "\n"
_GENERIC_AT = USAGE.index("GENERIC OPTIONS:\n") + len("GENERIC OPTIONS:\n")
#: usage(cerr) writes the rados part to stderr; generic_client_usage() always goes to stdout
USAGE_MAIN, USAGE_GENERIC = USAGE[:_GENERIC_AT], USAGE[_GENERIC_AT:]


#: formats Ceph's Formatter::create accepts; pyceph prints json and json-pretty
_FORMATTER_NAMES = frozenset(
    {"json", "json-pretty", "xml", "xml-pretty", "table", "table-kv", "html", "html-pretty"}
)
_SUPPORTED_FORMATS = frozenset({"json", "json-pretty"})

#: option flags without a value -> key in `opts` (rados.cc main())
_FLAGS: dict[str, str] = {
    "--force-full": "force-full",
    "-d": "delete-after",
    "--delete-after": "delete-after",
    "-C": "create",
    "--create": "create",
    "--create-pool": "create",
    "--pretty-format": "pretty-format",
    "--show-time": "show-time",
    "--no-cleanup": "no-cleanup",
    "--no-hints": "no-hints",
    "--reuse-bench": "reuse-bench",
    "--no-verify": "no-verify",
    "--striper": "striper",
    "--all": "all",
    "--default": "default",
    "--write-omap": "write-dest-omap",
    "--write-object": "write-dest-obj",
    "--write-xattr": "write-dest-xattr",
    "--with-clones": "with-clones",
    "--with-reference": "with-reference",
}

#: options with a value -> key in `opts`
_WITHARG: dict[str, str] = {
    "--run-name": "run-name",
    "--prefix": "prefix",
    "-p": "pool",
    "--pool": "pool",
    "--target-pool": "target_pool",
    "--object-locator": "object_locator",
    "--target-locator": "target_locator",
    "--target-nspace": "target_nspace",
    "-t": "concurrent-ios",
    "--concurrent-ios": "concurrent-ios",
    "--block-size": "block-size",
    "-b": "block-size",
    "--object-size": "object-size",
    "-O": "object-size",
    "--max-objects": "max-objects",
    "--offset": "offset",
    "-s": "snap",
    "--snap": "snap",
    "-S": "snapid",
    "--snapid": "snapid",
    "--min-object-size": "min-object-size",
    "--max-object-size": "max-object-size",
    "--min-op-len": "min-op-len",
    "--max-op-len": "max-op-len",
    "--max-ops": "max-ops",
    "--max-backlog": "max-backlog",
    "--target-throughput": "target-throughput",
    "--offset-align": "offset_align",
    "--read-percent": "read-percent",
    "--num-objects": "num-objects",
    "--run-length": "run-length",
    "--workers": "workers",
    "-f": "format",
    "--format": "format",
    "--lock-tag": "lock-tag",
    "--lock-cookie": "lock-cookie",
    "--lock-description": "lock-description",
    "--lock-duration": "lock-duration",
    "--lock-type": "lock-type",
    "-N": "namespace",
    "--namespace": "namespace",
    "-o": "output",
    "--output": "output",
    "--omap-key-file": "omap-key-file",
    "--pgid": "pgid",
    "--input-file": "input-file",
    "--obj-name-file": "obj-name-file",
}

#: global_init's options (connection and identity) -> attribute of Parsed
_GLOBAL_WITHARG: dict[str, str] = {
    "-c": "conffile",
    "--conf": "conffile",
    "--id": "client_id",
    "--user": "client_id",
    "-i": "client_id",
    "-n": "client_name",
    "--name": "client_name",
    "--cluster": "cluster",
    "-k": "keyring",
    "--keyring": "keyring",
    "-m": "mon_host",
    "--keyfile": "keyfile",
    "--key": "key",
    "--setuser": "setuser",
    "--setgroup": "setgroup",
}


class UsageError(Exception):
    """Bad command line: `message` (or the usage text) goes to stderr, exit with `code`."""

    def __init__(self, message: str, code: int = 1, show_usage: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.show_usage = show_usage


class _Exit(Exception):
    """Leave the verb with this exit code (upstream's early `return 1`)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Parsed:
    """The command line after upstream's parsing: options, global settings and words."""

    opts: dict[str, str] = field(default_factory=dict)
    nargs: list[str] = field(default_factory=list)
    conffile: str | None = None
    client_id: str | None = None
    client_name: str | None = None
    cluster: str | None = None
    keyring: str | None = None
    mon_host: str | None = None
    keyfile: str | None = None
    key: str | None = None
    setuser: str | None = None
    setgroup: str | None = None
    conf: dict[str, str] = field(default_factory=dict)
    version: bool = False


def _norm(arg: str) -> str:
    """`--run_name` and `--run-name` are the same option (ceph_argparse_cmp)."""
    if arg.startswith("--"):
        return "--" + arg[2:].replace("_", "-")
    return arg


def _config_option(name: str) -> str | None:
    """The config option a `--name` flag sets, if pyceph knows it."""
    try:
        from pyceph.common.options import find_option
    except ImportError:  # pragma: no cover - options table is part of pyceph
        return None
    key = name.replace("-", "_")
    return key if find_option(key) is not None else None


def parse_args(args: Sequence[str]) -> Parsed:
    """Split `args` as global_init and rados.cc's main() do; raise UsageError on bad input."""
    args = list(args)
    p = Parsed()
    # rados.cc pre-scans for "-f FORMAT" because global_init would take "-f" itself
    for j, a in enumerate(args):
        if a == "--" or j + 1 == len(args):
            break
        if a == "-f" and args[j + 1] in _FORMATTER_NAMES:
            p.opts["format"] = args[j + 1]
            del args[j : j + 2]
            break
    i = 0
    last_value = ""
    while i < len(args):
        a = args[i]
        if a == "--":
            p.nargs.extend(args[i + 1 :])
            break
        name, eq, inline = _norm(a).partition("=")
        if not eq:
            name = _norm(a)
        if name in ("--version", "-v") and not eq:
            p.version = True
            i += 1
            continue
        if name == "-f" and not eq:
            # global_init's "foreground" flag: swallowed, its would-be value stays
            i += 1
            continue
        if name in _FLAGS and not eq:
            p.opts[_FLAGS[name]] = "true"
            i += 1
            continue
        target: tuple[str, str] | None = None
        if name in _WITHARG:
            target = ("opt", _WITHARG[name])
        elif name in _GLOBAL_WITHARG:
            target = ("global", _GLOBAL_WITHARG[name])
        elif name.startswith("--") and len(name) > 2:
            key = _config_option(name[2:])
            if key is not None:
                target = ("conf", key)
        if target is None:
            if last_value.startswith("-"):
                # upstream tests the last option *value* here (`val[0] == '-'`), so
                # `-b -1 ls` ends in usage_exit(); kept for identical behaviour
                raise UsageError("", 1, show_usage=True)
            p.nargs.append(a)
            i += 1
            continue
        if eq:
            value = inline
            i += 1
        else:
            if i + 1 >= len(args):
                raise UsageError(f"Option {a} requires an argument.")
            value = args[i + 1]
            i += 2
        last_value = value
        kind, key = target
        if kind == "opt":
            p.opts[key] = value
        elif kind == "global":
            setattr(p, key, value)
        else:
            p.conf[key] = value
    return p


# --------------------------------------------------------------------------
# number parsing and error text, as Ceph's strict_iecstrtoll and cpp_strerror
# --------------------------------------------------------------------------
_C_LL = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+")


def _strict_strtoll(text: str) -> int:
    m = _C_LL.match(text)
    if not m or m.end() != len(text):
        raise ValueError(f"Expected option value to be integer, got '{text}'")
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"The option value '{text}' seems to be invalid")
    return value


def strict_iecstrtoll(text: str, signed: bool = False, bits: int = 64) -> int:
    """`4096`, `4K`, `4Ki`, `4M` -> bytes; ValueError with upstream's message otherwise."""
    if not text:
        raise ValueError("strict_iecstrtoll: value not specified")
    shift = 0
    num = text
    u = next((k for k, c in enumerate(text) if c not in "0123456789-+"), None)
    if u is not None:
        num, unit = text[:u], text[u:]
        if unit.endswith("i") and unit.startswith("B"):
            raise ValueError('strict_iecstrtoll: illegal prefix "Bi"')
        if len(unit) > 2:
            raise ValueError("strict_iecstrtoll: illegal prefix (length > 2)")
        shifts = {"K": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60, "B": 0}
        if unit[0] not in shifts:
            raise ValueError("strict_iecstrtoll: unit prefix not recognized")
        shift = shifts[unit[0]]
    value = _strict_strtoll(num)
    if value < 0 and not signed:
        raise ValueError("strict_iecstrtoll: value should not be negative")
    if shift >= bits:
        raise ValueError("strict_iecstrtoll: the IEC prefix is too large for the designated type")
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    if value < (lo >> shift):
        raise ValueError("strict_iecstrtoll: value seems to be too small")
    if value > (hi >> shift):
        raise ValueError("strict_iecstrtoll: value seems to be too large")
    return value << shift


def parse_c_strtoll(text: str) -> int | None:
    """C `strtoll(text, &end, 10)` followed by an `*end` check: None when junk follows."""
    m = _C_LL.match(text)
    if not m:
        return 0 if text == "" else None
    if m.end() != len(text):
        return None
    return int(text)


_ERRNO_BY_CLASS = {
    "ObjectNotFound": errno.ENOENT,
    "PermissionError": errno.EPERM,
    "PermissionDeniedError": errno.EACCES,
    "ObjectExists": errno.EEXIST,
    "ObjectBusy": errno.EBUSY,
    "InvalidArgumentError": errno.EINVAL,
    "NoSpace": errno.ENOSPC,
    "NoData": errno.ENODATA,
    "TimedOut": errno.ETIMEDOUT,
    "IOError": errno.EIO,
    "InterruptedOrTimeoutError": errno.EINTR,
    "NotConnected": errno.ENOTCONN,
    "ConnectionShutdown": errno.ESHUTDOWN,
}


def _neg_errno(exc: BaseException) -> int:
    """The negative errno a `rados.Error` stands for."""
    e = getattr(exc, "errno", None)
    if isinstance(e, int) and e:
        return -abs(e)
    for klass in type(exc).__mro__:
        if klass.__name__ in _ERRNO_BY_CLASS:
            return -_ERRNO_BY_CLASS[klass.__name__]
    return -errno.EIO


def cpp_strerror(ret: int) -> str:
    """``(2) No such file or directory`` for -2 or 2."""
    n = abs(ret)
    return f"({n}) {os.strerror(n)}"


def format_mtime(mtime: Any) -> str:
    """An mtime (struct_time or seconds) as `utime_t` prints it: ISO, local time, `%z`."""
    if isinstance(mtime, time.struct_time):
        gmtoff = getattr(mtime, "tm_gmtoff", None)
        secs = calendar.timegm(mtime) - gmtoff if gmtoff is not None else time.mktime(mtime)
    else:
        secs = float(mtime)
    lt = time.localtime(int(secs))
    return time.strftime("%Y-%m-%dT%H:%M:%S", lt) + ".000000" + time.strftime("%z", lt)


def hexdump(data: bytes) -> str:
    """`bufferlist::hexdump` with its trailing length line (empty data -> empty text)."""
    if not data:
        return ""
    per = 16
    out: list[str] = []
    last_row_char = data[0]
    was_same = did_star = False
    first = True
    for o in range(0, len(data), per):
        if o + per < len(data):
            row_is_same = True
            for k in range(per):
                c = data[o + k]
                if c != last_row_char:
                    if k == 0:
                        last_row_char = c
                        was_same = did_star = False
                    else:
                        row_is_same = False
            if row_is_same:
                if was_same:
                    if not did_star:
                        out.append("\n*")
                        did_star = True
                    continue
                was_same = True
            else:
                was_same = did_star = False
        if not first:
            out.append("\n")
        first = False
        row = data[o : o + per]
        text = f"{o:08x} "
        for k in range(per):
            if k == 8:
                text += " "
            text += f" {row[k]:02x}" if k < len(row) else "   "
        text += "  |"
        for b in row:
            ch = chr(b)
            text += ch if 0x20 <= b < 0x7F else "."
        text += "|"
        out.append(text)
    out.append(f"\n{len(data):08x}\n")
    return "".join(out)


def format_df_plain(pools: Sequence[tuple[str, dict[str, int]]], cluster: dict[str, int]) -> str:
    """`rados df` as a table plus the four total lines."""
    tab = TextTable()
    tab.define_column("POOL_NAME", "left", "left")
    for col in (
        "USED",
        "OBJECTS",
        "CLONES",
        "COPIES",
        "MISSING_ON_PRIMARY",
        "UNFOUND",
        "DEGRADED",
        "RD_OPS",
        "RD",
        "WR_OPS",
        "WR",
        "USED COMPR",
        "UNDER COMPR",
    ):
        tab.define_column(col, "right", "right")
    for name, s in pools:
        g = s.get
        tab.add_row(
            [
                name,
                byte_u(g("num_bytes", 0)),
                g("num_objects", 0),
                g("num_object_clones", 0),
                g("num_object_copies", 0),
                g("num_objects_missing_on_primary", 0),
                g("num_objects_unfound", 0),
                g("num_objects_degraded", 0),
                g("num_rd", 0),
                byte_u(g("num_rd_kb", 0) << 10),
                g("num_wr", 0),
                byte_u(g("num_wr_kb", 0) << 10),
                byte_u(g("compressed_bytes_alloc", 0)),
                byte_u(g("compressed_bytes_orig", 0)),
            ]
        )
    c = cluster.get
    return (
        str(tab)
        + "\n"
        + f"total_objects    {c('num_objects', 0)}\n"
        + f"total_used       {byte_u(c('kb_used', 0) << 10)}\n"
        + f"total_avail      {byte_u(c('kb_avail', 0) << 10)}\n"
        + f"total_space      {byte_u(c('kb', 0) << 10)}\n"
    )


def df_json(
    pools: Sequence[tuple[str, int | None, dict[str, int]]], cluster: dict[str, int]
) -> dict:
    """`rados df -f json`'s object."""
    out_pools = []
    for name, pool_id, s in pools:
        g = s.get
        entry: dict[str, Any] = {"name": name}
        if pool_id is not None:
            entry["id"] = pool_id
        entry.update(
            {
                "size_bytes": g("num_bytes", 0),
                "size_kb": g("num_kb", 0),
                "num_objects": g("num_objects", 0),
                "num_object_clones": g("num_object_clones", 0),
                "num_object_copies": g("num_object_copies", 0),
                "num_objects_missing_on_primary": g("num_objects_missing_on_primary", 0),
                "num_objects_unfound": g("num_objects_unfound", 0),
                "num_objects_degraded": g("num_objects_degraded", 0),
                "read_ops": g("num_rd", 0),
                "read_bytes": g("num_rd_kb", 0) * 1024,
                "write_ops": g("num_wr", 0),
                "write_bytes": g("num_wr_kb", 0) * 1024,
                "compress_bytes_used": g("compressed_bytes_alloc", 0),
                "compress_under_bytes": g("compressed_bytes_orig", 0),
            }
        )
        out_pools.append(entry)
    c = cluster.get
    return {
        "pools": out_pools,
        "total_objects": c("num_objects", 0),
        "total_used": c("kb_used", 0),
        "total_avail": c("kb_avail", 0),
        "total_space": c("kb", 0),
    }


# --------------------------------------------------------------------------
# the pool export format: upstream src/tools/RadosDump.h (PoolDump / RadosImport),
# the same stream ceph-objectstore-tool's "export" writes, byte for byte
# --------------------------------------------------------------------------
(
    TYPE_NONE,
    TYPE_PG_BEGIN,
    TYPE_PG_END,
    TYPE_OBJECT_BEGIN,
    TYPE_OBJECT_END,
    TYPE_DATA,
    TYPE_ATTRS,
    TYPE_OMAP_HDR,
    TYPE_OMAP,
    TYPE_PG_METADATA,
    TYPE_POOL_BEGIN,
    TYPE_POOL_END,
    END_OF_TYPES,
) = range(13)
SHORTMAGIC = 0xFFCE
ENDMAGIC = (0xECFF << 16) | SHORTMAGIC
SUPER_MAGIC = (SHORTMAGIC << 16) | SHORTMAGIC
SUPER_VER = 2
CEPH_SNAPDIR = (1 << 64) - 1
NO_GEN = (1 << 64) - 1
NO_SHARD = -1
#: osd_hit_set_namespace: RadosImport skips objects of this namespace
HIT_SET_NAMESPACE = ".ceph-internal"
#: PoolDump's read size
EXPORT_OP_SIZE = 4096 * 1024
#: How long `rados notify` waits for its watchers' replies (upstream: 10 s).
NOTIFY_TIMEOUT_MS = 10000
#: PoolDump's omap batch
EXPORT_OMAP_BATCH = 512
#: a default object_info_t as PoolDump encodes it in every object_begin (it never fills it in)
_OI_DEFAULT = bytes.fromhex(
    "1108e20000000403210000000000000000000000000000000000000000000000000000000000000000000000"
    "8006031c0000000000000000000080ffffffff0000000000000000ffffffffffffffff000000000000000000"
    "0000000000000000000000000000000000000002021500000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000ffffffffffffffff0000000000000000"
    "000000000000000000000000"
)


def _envelope(version: int, compat: int, body: bytes) -> bytes:
    """ENCODE_START/ENCODE_FINISH: version, compat version, length, body."""
    return struct.pack("<BBI", version, compat, len(body)) + body


def _enc_bytes(b: bytes) -> bytes:
    return struct.pack("<I", len(b)) + b


def _enc_map(items: Sequence[tuple[bytes, bytes]]) -> bytes:
    return struct.pack("<I", len(items)) + b"".join(
        _enc_bytes(k) + _enc_bytes(v) for k, v in sorted(items)
    )


def encode_section_header(stype: int, size: int) -> bytes:
    """`header`: the section type twice plus the short magic, then the payload size."""
    return _envelope(1, 1, struct.pack("<Iq", (stype << 24) | (stype << 16) | SHORTMAGIC, size))


FOOTER = _envelope(1, 1, struct.pack("<I", ENDMAGIC))


def encode_super() -> bytes:
    """The fixed 16-byte super header: magic, version, header and footer sizes."""
    return struct.pack(
        "<4I", SUPER_MAGIC, SUPER_VER, len(encode_section_header(TYPE_NONE, 0)), len(FOOTER)
    )


def encode_section(stype: int, body: bytes | None = None) -> bytes:
    """A section: header, payload and footer (`write_simple`: a bare header)."""
    if body is None:
        return encode_section_header(stype, 0)
    return encode_section_header(stype, len(body)) + body + FOOTER


def encode_object_begin(oid: str, nspace: str, locator: str) -> bytes:
    """`object_begin` of a head object: hobject_t (hash 0, pool -1 as PoolDump leaves them),
    generation, shard and a default object_info_t."""
    key = "" if locator == oid else locator
    hobj = _envelope(
        4,
        3,
        _enc_bytes(os.fsencode(key))
        + _enc_bytes(os.fsencode(oid))
        + struct.pack("<QIB", CEPH_NOSNAP, 0, 0)
        + _enc_bytes(os.fsencode(nspace))
        + struct.pack("<q", -(2**63)),
    )
    return _envelope(3, 1, hobj + struct.pack("<Qb", NO_GEN, NO_SHARD) + _OI_DEFAULT)


def encode_data_section(offset: int, data: bytes) -> bytes:
    return _envelope(1, 1, struct.pack("<QQ", offset, len(data)) + _enc_bytes(data))


def encode_attr_section(xattrs: Sequence[tuple[str, bytes]]) -> bytes:
    """User xattrs under their object-store names (a leading ``_``), as PoolDump writes them."""
    return _envelope(1, 1, _enc_map([(os.fsencode("_" + k), bytes(v)) for k, v in xattrs]))


def encode_omap_hdr_section(hdr: bytes) -> bytes:
    return _envelope(1, 1, _enc_bytes(hdr))


def encode_omap_section(kv: Sequence[tuple[str, bytes]]) -> bytes:
    return _envelope(1, 1, _enc_map([(os.fsencode(k), bytes(v)) for k, v in kv]))


class DumpError(Exception):
    """A malformed export stream: `message` (may be empty) for stderr, -errno `code`."""

    def __init__(self, message: str, code: int = -errno.EFAULT) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class _Cursor:
    """Decoding over one section's payload."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise DumpError("buffer::end_of_buffer")
        b = self.buf[self.pos : self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt: str) -> Any:
        vals = struct.unpack(fmt, self.take(struct.calcsize(fmt)))
        return vals[0] if len(vals) == 1 else vals

    def bytes_(self) -> bytes:
        return self.take(self.unpack("<I"))

    def str_(self) -> str:
        return os.fsdecode(self.bytes_())

    def map_(self) -> list[tuple[bytes, bytes]]:
        return [(self.bytes_(), self.bytes_()) for _ in range(self.unpack("<I"))]

    def start(self) -> tuple[int, int]:
        """DECODE_START: (struct_v, end offset)."""
        v, _compat, length = self.unpack("<BBI")
        return v, self.pos + length


def _escape_hobj(text: str) -> str:
    out = []
    for b in os.fsencode(text):
        c = chr(b)
        out.append(f"%{b:02x}" if c in "%:/" or b < 32 or b >= 127 else c)
    return "".join(out)


def _reverse_bits32(v: int) -> int:
    return int(f"{v & 0xFFFFFFFF:032b}"[::-1], 2)


@dataclass
class DumpObject:
    """An object_begin: the object's identity (ghobject_t)."""

    oid: str
    nspace: str = ""
    key: str = ""
    snap: int = CEPH_NOSNAP
    hash: int = 0
    pool: int = -(2**63)
    generation: int = NO_GEN
    shard: int = NO_SHARD

    def __str__(self) -> str:
        """ghobject_t's `operator<<` (`#pool:hash:nspace:key:oid:snap#`)."""
        if self.snap == CEPH_NOSNAP:
            snap = "head"
        elif self.snap == CEPH_SNAPDIR:
            snap = "snapdir"
        else:
            snap = f"{self.snap:x}"
        text = (
            f"#{self.pool}:{_reverse_bits32(self.hash):08x}:{_escape_hobj(self.nspace)}:"
            f"{_escape_hobj(self.key)}:{_escape_hobj(self.oid)}:{snap}#"
        )
        if self.shard != NO_SHARD:
            text = f"{self.shard:x}" + text
        if self.generation != NO_GEN:
            text += f"{self.generation:x}"
        return text


def decode_object_begin(buf: bytes) -> DumpObject:
    c = _Cursor(buf)
    v, end = c.start()
    hv, hend = c.start()
    key = c.str_() if hv >= 1 else ""
    oid = c.str_()
    snap, hsh = c.unpack("<QI")
    obj = DumpObject(oid, key=key, snap=snap, hash=hsh)
    if hv >= 2:
        c.take(1)
    if hv >= 4:
        obj.nspace = c.str_()
        obj.pool = c.unpack("<q")
    c.pos = hend
    if v > 1:
        obj.generation, obj.shard = c.unpack("<Qb")
    c.pos = end
    return obj


def decode_pg_begin(buf: bytes) -> tuple[str, int]:
    """pg_begin -> (spg_t as text, shard)."""
    c = _Cursor(buf)
    v, end = c.start()
    _pv, pool, seed, _pref = c.unpack("<BQIi")
    shard = NO_SHARD
    if v > 1:
        _sv, send = c.start()  # the OSD superblock: not needed
        c.pos = send
    if v > 2:
        shard = c.unpack("<b")
    c.pos = end
    text = f"{pool}.{seed:x}" + (f"s{shard}" if shard != NO_SHARD else "")
    return text, shard


class DumpReader:
    """RadosDump's reading side over a binary stream."""

    def __init__(self, f: Any, err: Callable[[str], None]) -> None:
        self.f = f
        self.err = err
        self.header_size = 0
        self.footer_size = 0

    def _read(self, n: int) -> bytes:
        chunks = []
        left = n
        while left > 0:
            b = self.f.read(left)
            if not b:
                break
            chunks.append(b)
            left -= len(b)
        data = b"".join(chunks)
        if len(data) != n:
            raise DumpError("Unexpected EOF")
        return data

    def read_super(self) -> None:
        magic, version, self.header_size, self.footer_size = struct.unpack("<4I", self._read(16))
        if magic != SUPER_MAGIC:
            raise DumpError(f"Invalid magic number: 0x{magic:x} vs. 0x{SUPER_MAGIC:x}")
        if version > SUPER_VER:
            raise DumpError(f"Can't handle export format version={version}", -errno.EINVAL)

    def read_section(self) -> tuple[int, bytes]:
        c = _Cursor(self._read(self.header_size))
        _v, _end = c.start()
        debug_type, size = c.unpack("<Iq")
        body = self._read(size)
        if size > 0:
            f = _Cursor(self._read(self.footer_size))
            f.start()
            if f.unpack("<I") != ENDMAGIC:
                raise DumpError("Bad footer magic")
        return debug_type >> 24, body

    def skip_object(self) -> None:
        while True:
            stype, _body = self.read_section()
            if stype >= END_OF_TYPES:
                continue
            if stype == TYPE_OBJECT_END:
                return
            if stype not in (TYPE_DATA, TYPE_ATTRS, TYPE_OMAP_HDR, TYPE_OMAP):
                raise DumpError("")


def format_utime(secs: float) -> str:
    """utime_t's `operator<<`: a relative `sec.usec` under ten years, else local ISO time."""
    sec = int(secs)
    usec = int(round((secs - sec) * 1e6))
    if usec >= 1000000:
        sec, usec = sec + 1, usec - 1000000
    if sec < 60 * 60 * 24 * 365 * 10:
        return f"{sec}.{usec:06d}"
    lt = time.localtime(sec)
    return time.strftime("%Y-%m-%dT%H:%M:%S", lt) + f".{usec:06d}" + time.strftime("%z", lt)


def _locker_sort_key(locker: str, cookie: str) -> tuple[str, int, str, str]:
    """upstream orders lockers by entity_name_t (type, then number), then cookie."""
    typ, _, num = locker.partition(".")
    return (typ, int(num), "", cookie) if num.lstrip("-").isdigit() else (typ, -1, num, cookie)


_LOCK_TYPES = {0: "none", 1: "exclusive", 2: "shared", 3: "exclusive-ephemeral"}
_ENTITY_NAME = re.compile(r"(mon|mds|osd|client|mgr)\.(-?[0-9]+)")


# --------------------------------------------------------------------------
# the tool
# --------------------------------------------------------------------------
DEFAULT_OP_SIZE = 1 << 22
MAX_OMAP_PER_REQUEST = 1 << 10

#: verbs of upstream's rados that pyceph does not implement (yet)
_UNSUPPORTED = frozenset(
    {
        "cppool",
        "stat2",
        "touch",
        "mapext",
        "listsnaps",
        "load-gen",
        "getomapheader",
        "setomapheader",
        "set-alloc-hint",
        "set-redirect",
        "set-chunk",
        "tier-promote",
        "unset-manifest",
        "tier-flush",
        "tier-evict",
        "cache-flush",
        "cache-try-flush",
        "cache-evict",
        "cache-flush-evict-all",
        "cache-try-flush-evict-all",
    }
)


class _Tool:
    """One run of `rados`: the state of rados_tool_common()."""

    def __init__(self, parsed: Parsed, stdout: IO[str], stderr: IO[str], stdin: Any) -> None:
        self.p = parsed
        self.opts = parsed.opts
        self.nargs = parsed.nargs
        self.stdout = stdout
        self.stderr = stderr
        self.stdin = stdin
        self.rados = _rados()
        self.cluster: Any = None
        self.ioctx: Any = None
        self.pool: str | None = parsed.opts.get("pool")
        self.fmt: str | None = None
        self.wildcard = False
        self.nspace = ""
        self.concurrent = 16
        self.op_size = DEFAULT_OP_SIZE
        self.object_size = 0
        self.max_objects = 0
        self.obj_offset = 0
        self.obj_offset_specified = False
        self.block_size_specified = False

    # ------------------------------------------------------------- output
    def out(self, text: str) -> None:
        self.stdout.write(text)

    def err(self, line: str) -> None:
        self.stderr.write(line + "\n")

    def usage(self) -> None:
        self.stderr.write(USAGE_MAIN)
        self.stdout.write(USAGE_GENERIC)

    def usage_exit(self) -> None:
        self.usage()
        raise _Exit(1)

    def write_bytes(self, data: bytes, stream: Any = None) -> None:
        stream = stream if stream is not None else self.stdout
        stream.flush()
        buf = getattr(stream, "buffer", None)
        if buf is not None:
            buf.write(data)
            buf.flush()
        else:
            stream.write(data.decode("utf-8", "surrogateescape"))

    # ------------------------------------------------------------- options
    def _num(self, key: str, signed: bool = True, bits: int = 64) -> int | None:
        """strict_iecstrtoll (int64) stored into a C variable of `bits`/`signed`, as upstream."""
        if key not in self.opts:
            return None
        try:
            value = strict_iecstrtoll(self.opts[key])
        except ValueError as e:
            self.err(f"Invalid value for {key}: {e}")
            raise _Exit(-errno.EINVAL & 0xFF) from None
        value &= (1 << bits) - 1
        if signed and value >= 1 << (bits - 1):
            value -= 1 << bits
        return value

    def parse_options(self) -> None:
        v = self._num("concurrent-ios", True, 32)
        if v is not None:
            self.concurrent = v
        v = self._num("block-size", False, 32)
        if v is not None:
            self.op_size = v
            self.block_size_specified = True
        v = self._num("object-size", False, 32)
        if v is not None:
            self.object_size = v
            self.block_size_specified = True
        v = self._num("max-objects", False, 32)
        if v is not None:
            self.max_objects = v
        v = self._num("offset", False, 64)
        if v is not None:
            self.obj_offset = v
            self.obj_offset_specified = True
        fmt = self.opts.get("format")
        if fmt is not None:
            if fmt not in _SUPPORTED_FORMATS:
                # xml/table formatters exist upstream but pyceph only prints json
                self.err(f"unrecognized format: {fmt}")
                raise _Exit(-errno.EINVAL & 0xFF)
            self.fmt = fmt
        self.nspace = self.opts.get("namespace", "")

    # ------------------------------------------------------------- connect
    def connect(self) -> None:
        rados = self.rados
        p = self.p
        kwargs: dict[str, Any] = {"conffile": p.conffile if p.conffile is not None else ""}
        if p.client_name:
            kwargs["name"] = p.client_name
        elif p.client_id:
            kwargs["rados_id"] = p.client_id
        if p.cluster:
            kwargs["clustername"] = p.cluster
        conf = dict(p.conf)
        for key, attr in (
            ("keyring", "keyring"),
            ("mon_host", "mon_host"),
            ("keyfile", "keyfile"),
            ("key", "key"),
        ):
            val = getattr(p, attr)
            if val is not None:
                conf[key] = val
        if conf:
            kwargs["conf"] = conf
        try:
            self.cluster = rados.Rados(**kwargs)
        except rados.Error as e:
            self.err(f"couldn't initialize rados: {cpp_strerror(_neg_errno(e))}")
            raise _Exit(1) from None
        try:
            self.cluster.connect()
        except rados.Error as e:
            self.err(f"couldn't connect to cluster: {cpp_strerror(_neg_errno(e))}")
            raise _Exit(1) from None

    def open_pool(self) -> None:
        rados = self.rados
        if "create" in self.opts:
            if not self.pool:
                self.err("--create-pool requested but pool_name was not specified!")
                self.usage()
                raise _Exit(1)
            try:
                self.cluster.create_pool(self.pool)
            except rados.Error as e:
                self.err(f"error creating pool {self.pool}: {cpp_strerror(_neg_errno(e))}")
                raise _Exit(1) from None
        if self.pool:
            try:
                self.ioctx = self.cluster.open_ioctx(self.pool)
            except rados.Error as e:
                self.err(f"error opening pool {self.pool}: {cpp_strerror(_neg_errno(e))}")
                raise _Exit(1) from None
        oloc = self.opts.get("object_locator", "")
        if oloc:
            if not self.pool:
                self.err("pool name must be specified with --object-locator")
                raise _Exit(1)
            self.ioctx.set_locator_key(oloc)
        if "namespace" in self.opts:
            if not self.pool:
                self.err("pool name must be specified with --namespace")
                raise _Exit(1)
            self.ioctx.set_namespace(self.nspace)
        elif "all" in self.opts and "default" not in self.opts:
            self.wildcard = True

    def close(self) -> None:
        for obj in (self.ioctx, self.cluster):
            if obj is None:
                continue
            try:
                obj.close() if obj is self.ioctx else obj.shutdown()
            except Exception:
                pass

    # ------------------------------------------------------------- run
    def run(self) -> int:
        try:
            self.parse_options()
            self.connect()
            self.open_pool()
            verb = self.nargs[0]
            handler = _VERBS.get(verb)
            if handler is None:
                if verb in _UNSUPPORTED:
                    self.err(f"rados: '{verb}' is not implemented by pyceph")
                    return 1
                self.err(f"unrecognized command {verb}; -h or --help for usage")
                ret = -errno.EINVAL
            else:
                ret = handler(self)
        except _Exit as e:
            return e.code
        finally:
            self.close()
        if ret < 0:
            self.err(f"error {-ret}: {cpp_strerror(ret)}")
        return 1 if ret < 0 else 0

    def need_pool(self, min_args: int) -> None:
        if not self.pool or len(self.nargs) < min_args:
            self.usage_exit()

    def fail(self, prefix: str, exc: BaseException) -> None:
        """Print `prefix: (errno) text` and leave with exit code 1."""
        self.err(f"{prefix}: {cpp_strerror(_neg_errno(exc))}")
        raise _Exit(1)

    # ------------------------------------------------------------- verbs
    def do_lspools(self) -> int:
        try:
            pools = self.cluster.list_pools()
        except self.rados.Error as e:
            self.fail("error listing pools", e)
        for name in pools:
            self.out(f"{name}\n")
        return 0

    def do_df(self) -> int:
        rados = self.rados
        try:
            names = [self.pool] if self.pool else list(self.cluster.list_pools())
        except rados.Error as e:
            self.fail("error listing pools", e)
        stats: list[tuple[str, dict[str, int]]] = []
        try:
            for name in sorted(names):
                ioctx = (
                    self.ioctx
                    if name == self.pool and self.ioctx
                    else self.cluster.open_ioctx(name)
                )
                try:
                    stats.append((name, dict(ioctx.get_stats())))
                finally:
                    if ioctx is not self.ioctx:
                        ioctx.close()
        except rados.Error as e:
            self.fail("error fetching pool stats", e)
        try:
            cstats = dict(self.cluster.get_cluster_stats())
        except rados.Error as e:
            self.fail("error getting total cluster usage", e)
        if self.fmt is None:
            self.out(format_df_plain(stats, cstats))
            return 0
        with_ids: list[tuple[str, int | None, dict[str, int]]] = []
        for name, s in stats:
            try:
                pool_id = self.cluster.pool_lookup(name)
            except rados.Error:
                pool_id = None
            if pool_id is None or pool_id < 0:
                self.err(f"ERROR: lookup_pg_pool_name for name={name} returned {pool_id}")
                pool_id = None
            with_ids.append((name, pool_id, s))
        self.out(dump_json(df_json(with_ids, cstats), self.fmt == "json-pretty"))
        return 0

    def do_ls(self) -> int:
        if not self.pool:
            self.err("either pool name or pg id needs to be specified")
            raise _Exit(1)
        output = self.opts.get("output")
        use_stdout = not output and (len(self.nargs) < 2 or self.nargs[1] == "-")
        if not use_stdout and not output:
            self.err("Please use --output to specify the output file name")
            raise _Exit(1)
        if self.wildcard:
            self.ioctx.set_namespace(self.rados_all_nspaces())
        lines: list[str] = []
        objects: list[dict[str, str]] = []
        try:
            for obj in self.ioctx.list_objects():
                ns = obj.nspace or ""
                loc = getattr(obj, "locator_key", None) or ""
                if self.fmt is None:
                    line = (ns + "\t" if self.wildcard else "") + obj.key
                    if loc:
                        line += "\t" + loc
                    lines.append(line + "\n")
                else:
                    entry = {"namespace": ns, "name": obj.key}
                    if loc:
                        entry["locator"] = loc
                    objects.append(entry)
        except Exception as e:
            self.err(str(e))
            raise _Exit(1) from None
        text = "".join(lines) if self.fmt is None else dump_json(objects, self.fmt == "json-pretty")
        if use_stdout:
            self.out(text)
        else:
            assert output is not None
            with open(output, "w") as f:
                f.write(text)
        return 0

    def rados_all_nspaces(self) -> str:
        return getattr(self.rados, "LIBRADOS_ALL_NSPACES", "\x01")

    def do_stat(self) -> int:
        self.need_pool(2)
        oid = self.nargs[1]
        try:
            size, mtime = self.ioctx.stat(oid)
        except self.rados.Error as e:
            self.fail(f" error stat-ing {self.pool}/{oid}", e)
        self.out(f"{self.pool}/{oid} mtime {format_mtime(mtime)}, size {size}\n")
        return 0

    def do_get(self) -> int:
        self.need_pool(3)
        oid, outfile = self.nargs[1], self.nargs[2]
        ret = self._get(oid, outfile)
        if ret < 0:
            self.err(f"error getting {self.pool}/{oid}: {cpp_strerror(ret)}")
            raise _Exit(1)
        return 0

    def _get(self, oid: str, outfile: str) -> int:
        if outfile == "-":
            self.stdout.flush()
            stream = getattr(self.stdout, "buffer", None)
            f: Any = stream
            close = False
        else:
            try:
                f = open(outfile, "wb")  # noqa: SIM115 - closed in the finally below
            except OSError as e:
                self.err(f"failed to open file: {cpp_strerror(e.errno or errno.EIO)}")
                return -(e.errno or errno.EIO)
            close = True
        try:
            offset = 0
            op_size = self.op_size or DEFAULT_OP_SIZE
            while True:
                try:
                    data = self.ioctx.read(oid, op_size, offset)
                except self.rados.Error as e:
                    return _neg_errno(e)
                if not data:
                    return 0
                if f is None:
                    self.stdout.write(bytes(data).decode("utf-8", "surrogateescape"))
                else:
                    f.write(data)
                if len(data) < op_size:
                    return 0
                offset += len(data)
        finally:
            if close:
                f.close()
            elif f is not None:
                f.flush()

    def _open_input(self, infile: str) -> Any:
        if infile == "-":
            return getattr(self.stdin, "buffer", self.stdin), False
        return open(infile, "rb"), True

    @staticmethod
    def _read_chunk(f: Any, size: int) -> bytes:
        """Read up to `size` bytes, looping like safe_read until full or EOF."""
        parts: list[bytes] = []
        got = 0
        while got < size:
            chunk = f.read(size - got)
            if not chunk:
                break
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8", "surrogateescape")
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    @staticmethod
    def _read_all(f: Any) -> bytes:
        data = f.read()
        return data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data

    def do_put(self) -> int:
        self.need_pool(3)
        oid, infile = self.nargs[1], self.nargs[2]
        try:
            f, close = self._open_input(infile)
        except OSError as e:
            self.err(f"error reading input file {infile}: {cpp_strerror(e.errno or errno.EIO)}")
            return 1  # upstream returns a positive 1 here: exit status 0
        op_size = self.op_size or DEFAULT_OP_SIZE
        create_object = not self.obj_offset_specified
        offset = self.obj_offset
        try:
            while True:
                try:
                    data = self._read_chunk(f, op_size)
                except OSError as e:
                    self.err(
                        f"error reading input file {infile}: {cpp_strerror(e.errno or errno.EIO)}"
                    )
                    ret = -(e.errno or errno.EIO)
                    break
                if not data:
                    if offset == self.obj_offset:  # empty input: create the object
                        self.ioctx.write_full(oid, b"")
                        if offset:
                            self.ioctx.trunc(oid, offset)
                    ret = 0
                    break
                if offset == 0 and create_object:
                    self.ioctx.write_full(oid, data)
                else:
                    self.ioctx.write(oid, data, offset)
                offset += len(data)
        except self.rados.Error as e:
            ret = _neg_errno(e)
        finally:
            if close:
                f.close()
        if ret < 0:
            self.err(f"error putting {self.pool}/{oid}: {cpp_strerror(ret)}")
            raise _Exit(1)
        return 0

    def do_append(self) -> int:
        self.need_pool(3)
        oid, infile = self.nargs[1], self.nargs[2]
        try:
            f, close = self._open_input(infile)
        except OSError as e:
            self.err(f"error reading input file {infile}: {cpp_strerror(e.errno or errno.EIO)}")
            return 1
        op_size = self.op_size or DEFAULT_OP_SIZE
        ret = 0
        try:
            while True:
                data = self._read_chunk(f, op_size)
                self.ioctx.append(oid, data)
                if not data:
                    break
        except self.rados.Error as e:
            ret = _neg_errno(e)
        finally:
            if close:
                f.close()
        if ret < 0:
            self.err(f"error appending {self.pool}/{oid}: {cpp_strerror(ret)}")
            raise _Exit(1)
        return 0

    def do_truncate(self) -> int:
        self.need_pool(3)
        oid = self.nargs[1]
        size = parse_c_strtoll(self.nargs[2])
        if size is None:
            self.err(f"Invalid value for size: '{self.nargs[2]}'")
            raise _Exit(1)
        if size < 0:
            self.err("error, cannot truncate to negative value")
            self.usage_exit()
        try:
            self.ioctx.trunc(oid, size)
        except self.rados.Error as e:
            ret = _neg_errno(e)
            self.err(f"error truncating oid {oid} to {size}: {cpp_strerror(ret)}")
            return ret
        return 0

    def do_setxattr(self) -> int:
        if not self.pool or not 3 <= len(self.nargs) <= 4:
            self.usage_exit()
        oid, name = self.nargs[1], self.nargs[2]
        if len(self.nargs) == 4:
            value = os.fsencode(self.nargs[3])
        else:
            src = getattr(self.stdin, "buffer", self.stdin)
            value = self._read_all(src)
        try:
            self.ioctx.set_xattr(oid, name, value)
        except self.rados.Error as e:
            self.fail(f"error setting xattr {self.pool}/{oid}/{name}", e)
        return 0

    def do_getxattr(self) -> int:
        self.need_pool(3)
        oid, name = self.nargs[1], self.nargs[2]
        try:
            value = self.ioctx.get_xattr(oid, name)
        except self.rados.Error as e:
            self.fail(f"error getting xattr {self.pool}/{oid}/{name}", e)
        self.write_bytes(bytes(value))
        return 0

    def do_rmxattr(self) -> int:
        self.need_pool(3)
        oid, name = self.nargs[1], self.nargs[2]
        try:
            self.ioctx.rm_xattr(oid, name)
        except self.rados.Error as e:
            self.fail(f"error removing xattr {self.pool}/{oid}/{name}", e)
        return 0

    def do_listxattr(self) -> int:
        self.need_pool(2)
        oid = self.nargs[1]
        try:
            names = sorted(k for k, _v in self.ioctx.get_xattrs(oid))
        except self.rados.Error as e:
            self.fail(f"error getting xattr set {self.pool}/{oid}", e)
        for name in names:
            self.out(f"{name}\n")
        return 0

    def do_rm(self) -> int:
        self.need_pool(2)
        for oid in self.nargs[1:]:
            try:
                self.ioctx.remove_object(oid)
            except self.rados.Error as e:
                name = (self.nspace + "/" if self.nspace else "") + oid
                self.fail(f"error removing {self.pool}>{name}", e)
        return 0

    def do_create(self) -> int:
        self.need_pool(2)
        oid = self.nargs[1]
        rados = self.rados
        try:
            write_op_ctx = getattr(rados, "WriteOpCtx", None)
            if write_op_ctx is not None and hasattr(self.ioctx, "operate_write_op"):
                with write_op_ctx() as op:
                    op.new(getattr(rados, "LIBRADOS_CREATE_EXCLUSIVE", 1))
                    self.ioctx.operate_write_op(op, oid)
            else:
                try:
                    self.ioctx.stat(oid)
                except rados.ObjectNotFound:
                    self.ioctx.write_full(oid, b"")
                else:
                    raise rados.ObjectExists("object exists", errno.EEXIST)
        except rados.Error as e:
            self.fail(f"error creating {self.pool}/{oid}", e)
        return 0

    def do_purge(self) -> int:
        if len(self.nargs) < 2:
            self.usage_exit()
        if len(self.nargs) < 3 or self.nargs[2] != "--yes-i-really-really-mean-it":
            self.err(
                "WARNING:\n"
                "  This will PERMANENTLY DESTROY all objects from a pool with no way back.\n"
                "  To confirm, follow pool with --yes-i-really-really-mean-it"
            )
            raise _Exit(1)
        pool = self.nargs[1]
        try:
            ioctx = self.cluster.open_ioctx(pool)
        except self.rados.Error as e:
            self.fail(f"error pool {pool}", e)
        try:
            bencher = self._bencher(ioctx)
            ret = bencher.purge(self.concurrent)
        finally:
            ioctx.close()
        if ret >= 0:
            self.out(f"successfully purged pool {pool}\n")
        else:
            self.err(f"pool {pool} could not be purged")
            self.err(
                "Check your monitor configuration - `mon allow pool delete` is set to false by"
                " default, change it to true to allow deletion of pools"
            )
        return ret

    def _bencher(self, ioctx: Any) -> rados_bench.ObjBencher:
        self.stdout.flush()
        return rados_bench.ObjBencher(
            ioctx,
            out=self.stdout,
            err=self.stderr,
            show_time="show-time" in self.opts,
            all_nspaces=self.rados_all_nspaces(),
        )

    def do_bench(self) -> int:
        self.need_pool(3)
        seconds = parse_c_strtoll(self.nargs[1])
        if seconds is None or seconds == 0 and self.nargs[1] == "":
            self.err(f"Invalid value for seconds: '{self.nargs[1]}'")
            raise _Exit(1)
        ops = {
            "write": rados_bench.OP_WRITE,
            "seq": rados_bench.OP_SEQ_READ,
            "rand": rados_bench.OP_RAND_READ,
        }
        operation = ops.get(self.nargs[2])
        if operation is None:
            self.usage_exit()
        write_dest = any(
            k in self.opts for k in ("write-dest-obj", "write-dest-omap", "write-dest-xattr")
        )
        if operation != rados_bench.OP_WRITE:
            if self.block_size_specified:
                self.err("-b|--block_size option can be used only with 'write' bench test")
                raise _Exit(1)
            if write_dest:
                self.err(
                    "--write-object, --write-omap and --write-xattr options can only be used"
                    " with the 'write' bench test"
                )
                raise _Exit(1)
        if self.fmt is None and "output" in self.opts:
            self.err("-o|--output option can only be used with '--format' option")
            raise _Exit(1)
        op_size = self.op_size
        object_size = self.object_size
        if not object_size:
            object_size = op_size
        elif object_size < op_size:
            op_size = object_size
        self.out(f"hints = {0 if 'no-hints' in self.opts else 1}\n")
        bencher = self._bencher(self.ioctx)
        ret = bencher.aio_bench(
            operation,
            seconds,
            self.concurrent,
            op_size,
            object_size,
            self.max_objects,
            cleanup="no-cleanup" not in self.opts,
            run_name=self.opts.get("run-name", ""),
            reuse_bench="reuse-bench" in self.opts,
            no_verify="no-verify" in self.opts,
        )
        if ret != 0:
            self.err(f"error during benchmark: {cpp_strerror(ret)}")
        return ret

    def do_cleanup(self) -> int:
        if not self.pool:
            self.usage_exit()
        if self.wildcard:
            self.ioctx.set_namespace(self.rados_all_nspaces())
        bencher = self._bencher(self.ioctx)
        ret = bencher.clean_up(
            self.opts.get("prefix", ""), self.concurrent, self.opts.get("run-name", "")
        )
        if ret != 0:
            self.err(f"error during cleanup: {cpp_strerror(ret)}")
        return ret

    # ------------------------------------------------------------- snaps
    def do_lssnap(self) -> int:
        if not self.pool or len(self.nargs) != 1:
            self.usage_exit()
        snaps = list(self.ioctx.list_snaps())
        for s in snaps:
            try:
                stamp = s.get_timestamp()
            except self.rados.Error:
                continue
            if isinstance(stamp, time.struct_time):
                t = time.localtime(calendar.timegm(time.gmtime(time.mktime(stamp))))
            elif hasattr(stamp, "timetuple"):
                t = stamp.timetuple()
            else:
                t = time.localtime(float(stamp))
            self.out(f"{s.snap_id}\t{s.name}\t{time.strftime('%Y.%m.%d %H:%M:%S', t)}\n")
        self.out(f"{len(snaps)} snaps\n")
        return 0

    def do_mksnap(self) -> int:
        self.need_pool(2)
        try:
            self.ioctx.create_snap(self.nargs[1])
        except self.rados.Error as e:
            self.fail(f"error creating pool {self.pool} snapshot {self.nargs[1]}", e)
        self.out(f"created pool {self.pool} snap {self.nargs[1]}\n")
        return 0

    def do_rmsnap(self) -> int:
        self.need_pool(2)
        try:
            self.ioctx.remove_snap(self.nargs[1])
        except self.rados.Error as e:
            self.fail(f"error removing pool {self.pool} snapshot {self.nargs[1]}", e)
        self.out(f"removed pool {self.pool} snap {self.nargs[1]}\n")
        return 0

    # ------------------------------------------------------------- omap
    def _omap_iter(self, oid: str, keys_only: bool) -> Iterator[tuple[str, bytes]]:
        rados = self.rados
        start = ""
        while True:
            with rados.ReadOpCtx() as op:
                if keys_only:
                    it, _ret = self.ioctx.get_omap_keys(op, start, MAX_OMAP_PER_REQUEST)
                else:
                    it, _ret = self.ioctx.get_omap_vals(op, start, "", MAX_OMAP_PER_REQUEST)
                self.ioctx.operate_read_op(op, oid)
                batch = [(k, v if v is not None else b"") for k, v in it]
            yield from batch
            if len(batch) < MAX_OMAP_PER_REQUEST:
                return
            start = batch[-1][0]

    def do_listomapkeys(self) -> int:
        self.need_pool(2)
        oid = self.nargs[1]
        try:
            for k, _v in self._omap_iter(oid, True):
                self.out(f"{k}\n")
        except self.rados.Error as e:
            self.fail(f"error getting omap key set {self.pool}/{oid}", e)
        return 0

    def do_listomapvals(self) -> int:
        self.need_pool(2)
        oid = self.nargs[1]
        try:
            for k, v in self._omap_iter(oid, False):
                if all(c.isprintable() and ord(c) < 128 for c in k):
                    self.out(k)
                else:
                    raw = k.encode("utf-8", "surrogateescape")
                    self.out(f"key ({len(raw)} bytes):\n" + hexdump(raw))
                self.out("\n")
                self.out(f"value ({len(v)} bytes) :\n" + hexdump(bytes(v)) + "\n")
        except self.rados.Error as e:
            self.fail(f"error getting omap keys {self.pool}/{oid}", e)
        return 0

    def _write_op(self, oid: str, fill: Callable[[Any], None]) -> None:
        with self.rados.WriteOpCtx() as op:
            fill(op)
            self.ioctx.operate_write_op(op, oid)

    def do_setomapval(self) -> int:
        if not self.pool or not 3 <= len(self.nargs) <= 4:
            self.usage_exit()
        oid, key = self.nargs[1], self.nargs[2]
        if len(self.nargs) == 4:
            val = os.fsencode(self.nargs[3])
        else:
            val = self._read_all(getattr(self.stdin, "buffer", self.stdin))
        try:
            self._write_op(oid, lambda op: self.ioctx.set_omap(op, (key,), (val,)))
        except self.rados.Error as e:
            self.fail(f"error setting omap value {self.pool}/{oid}/{key}", e)
        return 0

    def do_getomapval(self) -> int:
        if not self.pool or not 3 <= len(self.nargs) <= 4:
            self.usage_exit()
        oid, key = self.nargs[1], self.nargs[2]
        try:
            with self.rados.ReadOpCtx() as op:
                it, _ret = self.ioctx.get_omap_vals_by_keys(op, (key,))
                self.ioctx.operate_read_op(op, oid)
                values = dict(it)
        except self.rados.Error as e:
            self.fail(f"error getting omap value {self.pool}/{oid}/{key}", e)
        if key not in values:
            self.out(f"No such key: {self.pool}/{oid}/{key}\n")
            raise _Exit(1)
        val = bytes(values[key] or b"")
        if len(self.nargs) == 4:
            self.err(f"Writing to {self.nargs[3]}")
            if self.nargs[3] == "-":
                self.write_bytes(val)
            else:
                with open(self.nargs[3], "wb") as f:
                    f.write(val)
        else:
            self.out(f"value ({len(val)} bytes) :\n" + hexdump(val) + "\n")
        return 0

    def do_rmomapkey(self) -> int:
        if not self.pool or len(self.nargs) != 3:
            self.usage_exit()
        oid, key = self.nargs[1], self.nargs[2]
        try:
            self._write_op(oid, lambda op: self.ioctx.remove_omap_keys(op, (key,)))
        except self.rados.Error as e:
            self.fail(f"error removing omap key {self.pool}/{oid}/{key}", e)
        return 0

    def do_clearomap(self) -> int:
        self.need_pool(2)
        for oid in self.nargs[1:]:
            try:
                self._write_op(oid, lambda op: self.ioctx.clear_omap(op))
            except self.rados.Error as e:
                self.err(
                    f"error clearing omap keys {self.pool}/{oid}/{cpp_strerror(_neg_errno(e))}"
                )
                raise _Exit(1) from None
        return 0

    # ------------------------------------------------------------- raw sub-ops
    def _raw_op(self, ioctx: Any, oid: str, build: Callable[[ObjectOp], Any], msg: str) -> Any:
        """Run an op the `rados` binding has no public call for (librados calls the Python
        binding lacks: list_watchers, omap headers, notify replies) on the handle's async
        core; returns the op result (`r`, `outs`) without raising on a negative `r`."""
        op = ObjectOp()
        build(op)
        try:
            return rados_core.run(ioctx, rados_core.core_ioctx(ioctx).submit(oid, op))
        except CephError as e:
            raise self.rados.Error(msg, errno=e.errno) from None

    def _omap_header(self, ioctx: Any, oid: str) -> bytes:
        res = self._raw_op(ioctx, oid, lambda op: op.omap_get_header(), "omap_get_header")
        if res.r < 0:
            raise self.rados.Error("omap_get_header", -res.r)
        return bytes(res.outs[0].data) if res.outs else b""

    def _set_omap_header(self, ioctx: Any, oid: str, hdr: bytes) -> None:
        res = self._raw_op(ioctx, oid, lambda op: op.omap_set_header(bytes(hdr)), "omap_set_header")
        if res.r < 0:
            raise self.rados.Error("omap_set_header", -res.r)

    def _omap_items(self, ioctx: Any, oid: str, batch: int) -> Iterator[list[tuple[str, bytes]]]:
        """The object's omap in batches of at most `batch` pairs."""
        start = ""
        while True:
            with self.rados.ReadOpCtx() as op:
                it, _ret = ioctx.get_omap_vals(op, start, "", batch)
                ioctx.operate_read_op(op, oid)
                items = [(k, bytes(v or b"")) for k, v in it]
            if items:
                yield items
            if len(items) < batch:
                return
            start = items[-1][0]

    def _read_object(self, ioctx: Any, oid: str, chunk: int) -> Iterator[tuple[int, bytes]]:
        offset = 0
        while True:
            data = bytes(ioctx.read(oid, chunk, offset))
            if not data:
                return
            yield offset, data
            if len(data) < chunk:
                return
            offset += len(data)

    # ------------------------------------------------------------- cp / rollback
    def _copy_object(self, src: Any, oid: str, dst: Any, target_obj: str) -> int:
        """copy_from emulated client side: the target becomes the source's data, xattrs,
        omap header and omap; 0 or -errno."""
        rados = self.rados
        try:
            data = b"".join(d for _o, d in self._read_object(src, oid, DEFAULT_OP_SIZE))
            xattrs = [(k, bytes(v)) for k, v in src.get_xattrs(oid)]
            hdr = self._omap_header(src, oid)
            omap = [
                kv for batch in self._omap_items(src, oid, MAX_OMAP_PER_REQUEST) for kv in batch
            ]
        except rados.Error as e:
            return _neg_errno(e)
        try:
            try:
                dst.remove_object(target_obj)
            except rados.ObjectNotFound:
                pass

            def fill(op: Any) -> None:
                op.write_full(data)
                for k, v in xattrs:
                    op.set_xattr(k, v)
                if omap:
                    dst.set_omap(op, tuple(k for k, _v in omap), tuple(v for _k, v in omap))

            with rados.WriteOpCtx() as op:
                fill(op)
                dst.operate_write_op(op, target_obj)
            if hdr:
                self._set_omap_header(dst, target_obj, hdr)
        except rados.Error as e:
            return _neg_errno(e)
        return 0

    def do_cp(self) -> int:
        if not self.pool or not 2 <= len(self.nargs) <= 3:
            self.usage_exit()
        assert self.pool is not None
        target = self.opts.get("target_pool") or self.pool
        if len(self.nargs) < 3:
            if target == self.pool:
                self.err("cannot copy object into itself")
                raise _Exit(1)
            target_obj = self.nargs[1]
        else:
            target_obj = self.nargs[2]
        try:
            target_ctx = self.cluster.open_ioctx(target)
        except self.rados.Error as e:
            self.fail(f"error opening target pool {target}", e)
        try:
            if self.opts.get("target_locator"):
                target_ctx.set_locator_key(self.opts["target_locator"])
            if self.opts.get("target_nspace"):
                target_ctx.set_namespace(self.opts["target_nspace"])
            ret = self._copy_object(self.ioctx, self.nargs[1], target_ctx, target_obj)
        finally:
            target_ctx.close()
        if ret < 0:
            self.err(
                f"error copying {self.pool}/{self.nargs[1]} => {target}/{target_obj}: "
                + cpp_strerror(ret)
            )
            raise _Exit(1)
        return 0

    def do_rollback(self) -> int:
        self.need_pool(3)
        try:
            self.ioctx.snap_rollback(self.nargs[1], self.nargs[2])
        except self.rados.Error as e:
            # upstream names the object where it means the snapshot, and omits the ": "
            self.err(
                f"error rolling back pool {self.pool} to snapshot {self.nargs[1]}"
                + cpp_strerror(_neg_errno(e))
            )
            raise _Exit(1) from None
        self.out(f"rolled back pool {self.pool} to snapshot {self.nargs[2]}\n")
        return 0

    # ------------------------------------------------------------- advisory locks
    def _lock_call(self, oid: str, method: str, args: dict[str, Any] | None) -> Any:
        # upstream's cls_lock_ops.h encoding (rados::cls::lock's client side)
        data = lock_cls.encode_input(method, args)
        _ret, out = self.ioctx.execute(oid, "lock", method, data, 1 << 20)
        return lock_cls.decode_output(method, bytes(out)) if out else {}

    def do_lock(self) -> int:
        if not self.pool or len(self.nargs) < 3:
            self.usage_exit()
        rados = self.rados
        cmd, oid = self.nargs[1], self.nargs[2]
        lock_type = 1
        duration = 0
        if "lock-duration" in self.opts:
            try:
                duration = strict_iecstrtoll(self.opts["lock-duration"], signed=True, bits=32)
            except ValueError as e:
                self.err(f"Invalid value for lock-duration: {e}")
                return -errno.EINVAL
        if "lock-type" in self.opts:
            lt = self.opts["lock-type"]
            if lt not in ("exclusive", "shared"):
                self.err("unknown lock type was specified, aborting")
                return -errno.EINVAL
            lock_type = 1 if lt == "exclusive" else 2
        pretty = self.fmt == "json-pretty" or (self.fmt is None and "pretty-format" in self.opts)
        if cmd == "list":
            try:
                locks = self._lock_call(oid, "list_locks", None).get("locks", [])
            except rados.Error as e:
                self.err(f"ERROR: rados_list_locks(): {cpp_strerror(_neg_errno(e))}")
                return _neg_errno(e)
            doc = {"objname": oid, "locks": [{"name": n} for n in sorted(locks)]}
            self.out(dump_json(doc, pretty))
            return 0
        if len(self.nargs) < 4:
            self.usage_exit()
        name = self.nargs[3]
        if cmd == "info":
            try:
                info = self._lock_call(oid, "get_info", {"name": name})
            except rados.Error as e:
                self.err(f"ERROR: rados_lock_get_lock_info(): {cpp_strerror(_neg_errno(e))}")
                return _neg_errno(e)
            lockers = sorted(
                info.get("lockers", []),
                key=lambda lk: _locker_sort_key(str(lk.get("locker", "")), str(lk.get("cookie"))),
            )
            doc = {
                "name": name,
                "type": _LOCK_TYPES.get(int(info.get("type", 0)), "none"),
                "tag": info.get("tag", ""),
                "lockers": [
                    {
                        "name": lk.get("locker", ""),
                        "cookie": lk.get("cookie", ""),
                        "description": lk.get("description", ""),
                        "expiration": format_utime(float(lk.get("expiration", 0) or 0)),
                        "addr": lk.get("addr", ""),
                    }
                    for lk in lockers
                ],
            }
            self.out(dump_json(doc, pretty))
            return 0
        if cmd == "get":
            args = {
                "name": name,
                "type": lock_type,
                "cookie": self.opts.get("lock-cookie", ""),
                "tag": self.opts.get("lock-tag", ""),
                "description": self.opts.get("lock-description", ""),
                "duration": float(duration),
                "flags": 0,
            }
            try:
                self._lock_call(oid, "lock", args)
            except rados.Error as e:
                self.err(f"ERROR: failed locking: {cpp_strerror(_neg_errno(e))}")
                return _neg_errno(e)
            return 0
        if len(self.nargs) < 5:
            self.usage_exit()
        if cmd != "break":
            self.usage_exit()
        locker = self.nargs[4]
        if not _ENTITY_NAME.fullmatch(locker):
            self.err(f"ERROR: failed to parse locker name ({locker})")
            return -errno.EINVAL
        args = {"name": name, "locker": locker, "cookie": self.opts.get("lock-cookie", "")}
        try:
            self._lock_call(oid, "break_lock", args)
        except rados.Error as e:
            self.err(f"ERROR: failed breaking lock: {cpp_strerror(_neg_errno(e))}")
            return _neg_errno(e)
        return 0

    # ------------------------------------------------------------- watch / notify
    def do_watch(self) -> int:
        self.need_pool(2)
        oid = self.nargs[1]
        lock = threading.Lock()

        def on_notify(notify_id: int, notifier_id: int, cookie: int, data: bytes) -> bytes:
            payload = bytes(data or b"")
            with lock:
                self.out(f"NOTIFY cookie {cookie} notify_id {notify_id} from {notifier_id}\n")
                self.out(hexdump(payload))
                self.stdout.flush()
            return payload  # RadosWatchCtx acks with the notify's own payload

        def on_error(cookie: int, err: int) -> None:
            with lock:
                self.out(f"ERROR cookie {cookie} err {cpp_strerror(err)}\n")
                self.stdout.flush()

        try:
            watch = self.ioctx.watch(oid, on_notify, on_error)
        except self.rados.Error as e:
            self.err(f"error calling watch: {cpp_strerror(_neg_errno(e))}")
            return _neg_errno(e)
        with lock:
            self.out("press enter to exit...\n")
            self.stdout.flush()
        interrupted = False
        try:
            self.stdin.read(1)  # getchar(): a key press or end of input
        except KeyboardInterrupt:
            interrupted = True
        finally:
            try:
                watch.close()
            except self.rados.Error:
                pass
        if interrupted:
            raise _Exit(130)
        return 0

    def do_notify(self) -> int:
        self.need_pool(3)
        oid = self.nargs[1]
        msg = os.fsencode(self.nargs[2])
        payload = struct.pack("<I", len(msg)) + msg  # encode(std::string)
        try:
            res = self._raw_op(
                self.ioctx, oid, lambda op: op.notify(payload, NOTIFY_TIMEOUT_MS), "notify"
            )
            ret = res.r
            fields = res.outs[0].fields if res.outs else {}
        except self.rados.Error as e:
            ret, fields = _neg_errno(e), {}
        if ret != 0:
            self.err(f"error calling notify: {cpp_strerror(ret)}")
        for gid, cookie, data in sorted(
            (int(a[0]), int(a[1]), bytes(a[2] or b"")) for a in fields.get("acks", [])
        ):
            self.out(f"reply client.{gid} cookie {cookie} : {len(data)} bytes\n")
            if data:
                self.out(hexdump(data))
        for gid, cookie in sorted((int(t[0]), int(t[1])) for t in fields.get("timeouts", [])):
            self.out(f"timeout client.{gid} cookie {cookie}\n")
        return ret

    def do_listwatchers(self) -> int:
        self.need_pool(2)
        oid = self.nargs[1]
        try:
            res = self._raw_op(self.ioctx, oid, lambda op: op.list_watchers(), "list_watchers")
            ret = res.r
        except self.rados.Error as e:
            ret = _neg_errno(e)
        if ret < 0:
            self.err(f"error listing watchers {self.pool}/{oid}: {cpp_strerror(ret)}")
            raise _Exit(1)
        watchers = res.outs[0].fields.get("watchers", []) if res.outs else []
        for w in watchers:
            self.out(f"watcher={w.get('addr', '')} client.{w['watcher_id']} cookie={w['cookie']}\n")
        return 0

    # ------------------------------------------------------------- export / import
    def _export_object(self, ioctx: Any, obj: Any, write: Callable[[bytes], None]) -> int:
        oid = obj.key
        ioctx.set_namespace(obj.nspace or "")
        ioctx.set_locator_key(getattr(obj, "locator_key", None) or "")
        write(
            encode_section(
                TYPE_OBJECT_BEGIN,
                encode_object_begin(oid, obj.nspace or "", getattr(obj, "locator_key", None) or ""),
            )
        )
        try:
            for offset, data in self._read_object(ioctx, oid, EXPORT_OP_SIZE):
                write(encode_section(TYPE_DATA, encode_data_section(offset, data)))
        except self.rados.Error:
            pass  # PoolDump: a read error just ends the data
        try:
            xattrs = sorted((k, bytes(v)) for k, v in ioctx.get_xattrs(oid))
        except self.rados.Error as e:
            self.err(f"error getting xattr set {oid}: {cpp_strerror(_neg_errno(e))}")
            return _neg_errno(e)
        write(encode_section(TYPE_ATTRS, encode_attr_section(xattrs)))
        try:
            hdr = self._omap_header(ioctx, oid)
        except self.rados.Error as e:
            self.err(f"error getting omap header {oid}: {cpp_strerror(_neg_errno(e))}")
            return _neg_errno(e)
        write(encode_section(TYPE_OMAP_HDR, encode_omap_hdr_section(hdr)))
        try:
            for batch in self._omap_items(ioctx, oid, EXPORT_OMAP_BATCH):
                write(encode_section(TYPE_OMAP, encode_omap_section(batch)))
        except self.rados.Error as e:
            self.err(f"error getting omap keys {oid}: {cpp_strerror(_neg_errno(e))}")
            return _neg_errno(e)
        write(encode_section(TYPE_OBJECT_END))
        return 0

    def do_export(self) -> int:
        if not self.pool or len(self.nargs) > 2:
            self.usage_exit()
        path = self.nargs[1] if len(self.nargs) == 2 else "-"
        if path == "-":
            self.stdout.flush()
            f: Any = getattr(self.stdout, "buffer", None)
            close = False
        else:
            try:
                f = open(path, "wb")  # noqa: SIM115 - closed below
            except OSError:
                # upstream passes the -1 from open() to cpp_strerror
                self.err(f"Error opening '{path}': {cpp_strerror(1)}")
                raise _Exit(1) from None
            close = True

        def write(b: bytes) -> None:
            if f is None:
                self.stdout.write(b.decode("utf-8", "surrogateescape"))
            else:
                f.write(b)

        ret = 0
        try:
            write(encode_super())
            write(encode_section(TYPE_POOL_BEGIN))
            lister = self.cluster.open_ioctx(self.pool)
            reader = self.cluster.open_ioctx(self.pool)
            try:
                lister.set_namespace(self.rados_all_nspaces())
                for obj in lister.list_objects():
                    ret = self._export_object(reader, obj, write)
                    if ret < 0:
                        break
            finally:
                lister.close()
                reader.close()
            if ret == 0:
                write(encode_section(TYPE_POOL_END))
        except self.rados.Error as e:
            ret = _neg_errno(e)
        except OSError as e:
            ret = -(e.errno or errno.EIO)
        finally:
            if close:
                f.close()
            elif f is not None:
                f.flush()
        if ret < 0:
            self.err(f"error from export: {cpp_strerror(ret)}")
            raise _Exit(1)
        return 0

    def do_import(self) -> int:
        if not self.pool or not 2 <= len(self.nargs) <= 4:
            self.usage_exit()
        path = self.nargs[-1]
        dry_run = no_overwrite = False
        for arg in self.nargs[1:-1]:
            if arg == "--no-overwrite":
                no_overwrite = True
            elif arg == "--dry-run":
                dry_run = True
            else:
                self.err(f"Invalid argument '{arg}'")
                raise _Exit(1)
        if path == "-":
            f: Any = getattr(self.stdin, "buffer", self.stdin)
            close = False
        else:
            try:
                f = open(path, "rb")  # noqa: SIM115 - closed below
            except OSError:
                self.err(f"Error opening '{path}': {cpp_strerror(1)}")
                raise _Exit(1) from None
            close = True
        try:
            ret = self._import(DumpReader(f, self.err), dry_run, no_overwrite)
        finally:
            if close:
                f.close()
        if ret < 0:
            self.err(f"error from import: {cpp_strerror(ret)}")
            raise _Exit(1)
        return 0

    def _import(self, rd: DumpReader, dry_run: bool, no_overwrite: bool) -> int:
        try:
            rd.read_super()
            stype, body = rd.read_section()
            pool_mode = False
            if stype == TYPE_POOL_BEGIN:
                pool_mode = True
                self.out("Importing pool\n")
            elif stype == TYPE_PG_BEGIN:
                pgid, shard = decode_pg_begin(body)
                if shard != NO_SHARD:
                    self.err("Importing Erasure Coded shard is not supported")
                    return -errno.EOPNOTSUPP
                self.out(f"Importing from pgid {pgid}\n")
            else:
                raise DumpError(f"Invalid initial section code {stype}")
            found_metadata = False
            while True:
                stype, body = rd.read_section()
                if stype >= END_OF_TYPES:
                    self.out("Skipping unknown section type\n")
                    continue
                if stype == TYPE_OBJECT_BEGIN:
                    ret = self._import_object(rd, body, dry_run, no_overwrite)
                    if ret:
                        self.err(f"Error inserting object: {ret}")
                        return ret
                elif stype == TYPE_PG_METADATA:
                    found_metadata = True
                elif stype in (TYPE_PG_END, TYPE_POOL_END):
                    break
                else:
                    return -errno.EFAULT
            if not (pool_mode or found_metadata):
                self.err("Missing metadata section!")
            return 0
        except DumpError as e:
            if e.message:
                self.err(e.message)
            return e.code

    def _import_object(self, rd: DumpReader, body: bytes, dry_run: bool, no_overwrite: bool) -> int:
        rados = self.rados
        ob = decode_object_begin(body)
        if ob.nspace == HIT_SET_NAMESPACE:
            self.out(f"Skipping internal object {ob}\n")
            rd.skip_object()
            return 0
        if ob.snap != CEPH_NOSNAP:
            self.out(f"Skipping non-head for {ob}\n")
            rd.skip_object()
            return 0
        ioctx = self.ioctx
        ioctx.set_namespace(ob.nspace)
        ioctx.set_locator_key(ob.key)
        oid = ob.oid
        msg = "Write"
        skipping = False
        if dry_run:
            try:
                ioctx.stat(oid)
                msg = "Skipping existing" if no_overwrite else "***Overwrite***"
            except rados.Error:
                pass
        else:
            ret = self._create_excl(oid)
            if ret not in (0, -errno.EEXIST):
                self.err(f"create failed: {cpp_strerror(ret)}")
                return ret
            if ret == -errno.EEXIST:
                if no_overwrite:
                    msg, skipping = "Skipping existing", True
                else:
                    msg = "***Overwrite***"
                    try:
                        ioctx.remove_object(oid)
                    except rados.Error as e:
                        self.err(f"remove failed: {cpp_strerror(_neg_errno(e))}")
                        return _neg_errno(e)
                    ret = self._create_excl(oid)
                    if ret == -errno.EEXIST:
                        msg, skipping, ret = "Skipping in-use object", True, 0
                    if ret < 0:
                        self.err(f"create failed: {cpp_strerror(ret)}")
                        return ret
        self.out(f"{msg} {ob}\n")
        alignment = 0
        try:
            alignment = int(ioctx.alignment() or 0) if hasattr(ioctx, "alignment") else 0
        except rados.Error:
            alignment = 0
        apply = not dry_run and not skipping
        pending = b""
        in_offset = out_offset = 0
        while True:
            try:
                stype, sbody = rd.read_section()
            except DumpError as e:
                if e.message:
                    self.err(e.message)
                self.err(f"Error reading section: {-e.code}")
                return e.code
            if stype >= END_OF_TYPES:
                self.out("Skipping unknown object section type\n")
                continue
            c = _Cursor(sbody)
            try:
                if stype == TYPE_DATA:
                    c.start()
                    offset, _length = c.unpack("<QQ")
                    data = c.bytes_()
                    if alignment:
                        if offset != in_offset:
                            self.err("Discontiguous object data in export")
                            return -errno.EFAULT
                        pending += data
                        in_offset += len(data)
                        rnd = len(pending) // alignment * alignment
                        if rnd:
                            if apply:
                                ioctx.write(oid, pending[:rnd], out_offset)
                            out_offset += rnd
                            pending = pending[rnd:]
                    elif apply:
                        ioctx.write(oid, data, offset)
                elif stype == TYPE_ATTRS:
                    c.start()
                    attrs = c.map_()
                    if apply:
                        for k, v in attrs:
                            # only user xattrs ("_name") are restored
                            if k == b"_" or not k.startswith(b"_"):
                                continue
                            ioctx.set_xattr(oid, os.fsdecode(k[1:]), v)
                elif stype == TYPE_OMAP_HDR:
                    c.start()
                    hdr = c.bytes_()
                    if apply:
                        self._set_omap_header(ioctx, oid, hdr)
                elif stype == TYPE_OMAP:
                    c.start()
                    kv = c.map_()
                    if apply and kv:
                        keys = tuple(os.fsdecode(k) for k, _v in kv)
                        vals = tuple(v for _k, v in kv)
                        self._write_op(oid, lambda op, ks=keys, vs=vals: ioctx.set_omap(op, ks, vs))
                elif stype == TYPE_OBJECT_END:
                    if pending and apply:
                        ioctx.write(oid, pending, out_offset)
                    return 0
                else:
                    self.err(f"Unexpected section type {stype}")
                    return -errno.EFAULT
            except DumpError:
                return -errno.EFAULT
            except rados.Error as e:
                what = {
                    TYPE_DATA: "write",
                    TYPE_ATTRS: "setxattr",
                    TYPE_OMAP_HDR: "omap_set_header",
                    TYPE_OMAP: "omap_set",
                }.get(stype, "write")
                self.err(f"{what} failed: {cpp_strerror(_neg_errno(e))}")
                if _neg_errno(e) != -errno.EOPNOTSUPP:
                    return _neg_errno(e)

    def _create_excl(self, oid: str) -> int:
        rados = self.rados
        try:
            with rados.WriteOpCtx() as op:
                op.new(getattr(rados, "LIBRADOS_CREATE_EXCLUSIVE", 1))
                self.ioctx.operate_write_op(op, oid)
        except rados.Error as e:
            return _neg_errno(e)
        return 0

    # --------------------------------------------------- scrub and repair
    def _scrub_formatter(self) -> bool:
        """upstream: these verbs always print JSON (pretty with --pretty-format)."""
        return self.fmt == "json-pretty" or (self.fmt is None and "pretty-format" in self.opts)

    def do_list_inconsistent_pg(self) -> int:
        if len(self.nargs) < 2:
            self.usage_exit()
        name = self.nargs[1]
        pool_id = self.cluster.pool_lookup(name)
        if pool_id is None:
            self.err(f'pool "{name}" not found')
            return -errno.ENOENT
        try:
            pgs = self.cluster.get_inconsistent_pgs(pool_id)
        except self.rados.Error as e:
            return _neg_errno(e)
        self.out(dump_json(list(pgs), self._scrub_formatter()) + "\n")
        return 0

    def do_list_inconsistent_obj(self) -> int:
        return self._list_inconsistent("list_inconsistent_obj")

    def do_list_inconsistent_snapset(self) -> int:
        return self._list_inconsistent("list_inconsistent_snapset")

    def _list_inconsistent(self, prefix: str) -> int:
        """Ask the PG's primary for its last scrub's findings (upstream: the SCRUBLS op)."""
        import json

        if len(self.nargs) < 2:
            self.usage_exit()
        pgid = self.nargs[1]
        pool_s, dot, ps_s = pgid.partition(".")
        if not dot or not pool_s.isdigit() or not re.fullmatch(r"[0-9a-fA-F]+", ps_s):
            self.err(f"bad pg: {pgid}")
            return 0
        cmd = json.dumps({"prefix": prefix, "pgid": pgid, "format": "json"})
        ret, out, _outs = self.cluster.pg_command(pgid, cmd, b"")
        if ret < 0:
            if ret == -errno.ENOENT:
                self.err(f"No scrub information available for pg {pool_s}.{int(ps_s, 16):x}")
            return ret
        self.out(dump_json(json.loads(out), self._scrub_formatter()))
        return 0


_VERBS: dict[str, Callable[[_Tool], int]] = {
    "lspools": _Tool.do_lspools,
    "df": _Tool.do_df,
    "ls": _Tool.do_ls,
    "stat": _Tool.do_stat,
    "get": _Tool.do_get,
    "put": _Tool.do_put,
    "append": _Tool.do_append,
    "truncate": _Tool.do_truncate,
    "setxattr": _Tool.do_setxattr,
    "getxattr": _Tool.do_getxattr,
    "rmxattr": _Tool.do_rmxattr,
    "listxattr": _Tool.do_listxattr,
    "rm": _Tool.do_rm,
    "create": _Tool.do_create,
    "purge": _Tool.do_purge,
    "bench": _Tool.do_bench,
    "cleanup": _Tool.do_cleanup,
    "lssnap": _Tool.do_lssnap,
    "mksnap": _Tool.do_mksnap,
    "rmsnap": _Tool.do_rmsnap,
    "listomapkeys": _Tool.do_listomapkeys,
    "listomapvals": _Tool.do_listomapvals,
    "setomapval": _Tool.do_setomapval,
    "getomapval": _Tool.do_getomapval,
    "rmomapkey": _Tool.do_rmomapkey,
    "clearomap": _Tool.do_clearomap,
    "cp": _Tool.do_cp,
    "rollback": _Tool.do_rollback,
    "lock": _Tool.do_lock,
    "watch": _Tool.do_watch,
    "notify": _Tool.do_notify,
    "listwatchers": _Tool.do_listwatchers,
    "export": _Tool.do_export,
    "import": _Tool.do_import,
    "list-inconsistent-pg": _Tool.do_list_inconsistent_pg,
    "list-inconsistent-obj": _Tool.do_list_inconsistent_obj,
    "list-inconsistent-snapset": _Tool.do_list_inconsistent_snapset,
}

#: the verbs pyceph's `rados` implements
VERBS = frozenset(_VERBS)


def main(
    argv: Sequence[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stdin: Any = None,
) -> int:
    """Run `rados` with `argv` (default sys.argv[1:]); return the process exit status."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    inp = stdin if stdin is not None else sys.stdin
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        err.write("rados: -h or --help for usage\n")
        return 1
    env = os.environ.get("CEPH_ARGS")
    if env:
        args.extend(env.split())
    words = args[: args.index("--")] if "--" in args else args
    if "-h" in words or "--help" in words:
        out.write(USAGE)
        return 0
    try:
        parsed = parse_args(args)
    except UsageError as e:
        if e.show_usage:
            err.write(USAGE_MAIN)
            out.write(USAGE_GENERIC)
        else:
            err.write(e.message + "\n")
        return e.code
    if parsed.version:
        out.write(VERSION_LINE + "\n")
        return 0
    if parsed.conffile is not None and not os.path.exists(parsed.conffile):
        err.write(f"global_init: unable to open config file from search list {parsed.conffile}\n")
        return 1
    if not parsed.nargs:
        err.write("rados: you must give an action. Try --help\n")
        return 1
    tool = _Tool(parsed, out, err, inp)
    try:
        code = tool.run()
    finally:
        try:
            out.flush()
        except (OSError, ValueError):
            pass
    return code & 0xFF


if __name__ == "__main__":
    sys.exit(main())
