"""`rbd` command-line parsing: upstream's Shell.cc + ArgumentTypes.cc + Utils.cc, sans I/O.

The `rbd` tool (src/tools/rbd) finds the action from the leading words, then lets
boost::program_options parse the options that action declares plus the global ones;
values are validated while parsing (`ImageSize`, `ImageObjectSize`, `ImageOrder`,
`ImageFeatures`, `Format`...) and errors print as boost words them
(``rbd: the argument ('x') for option '--size' is invalid``). Image specs
``[pool/[namespace/]]image[@snap]`` are split as `utils::extract_spec` does, with the
same three validation levels. Nothing here touches the cluster.
"""

from __future__ import annotations

import errno
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ACTIONS",
    "Action",
    "Args",
    "CliError",
    "DEFAULT_SIZE_SHIFT",
    "DEVICE_TYPES",
    "FEATURES_DEFAULT",
    "FEATURES_SINGLE_CLIENT",
    "FEATURE_EXCLUSIVE_LOCK",
    "FEATURE_FAST_DIFF",
    "FEATURE_JOURNALING",
    "FEATURE_MAPPING",
    "FEATURE_OBJECT_MAP",
    "FEATURE_STRIPINGV2",
    "FLAG_MAPPING",
    "GLOBAL_OPTIONS",
    "GROUPS",
    "ImageOptions",
    "OPTIONS",
    "OP_FEATURE_MAPPING",
    "Opt",
    "Spec",
    "action",
    "command_words",
    "extract_spec",
    "find_action",
    "get_image_options",
    "get_names",
    "get_path",
    "get_pool_and_namespace",
    "get_size",
    "parse_command_line",
    "parse_features",
    "parse_iec",
    "parse_image_size",
    "validate_snap",
]

# ----------------------------------------------------------------- constants
#: librbd feature bits and names (include/rbd/features.h), in upstream's map order
FEATURE_MAPPING: tuple[tuple[int, str], ...] = (
    (1 << 0, "layering"),
    (1 << 1, "striping"),
    (1 << 2, "exclusive-lock"),
    (1 << 3, "object-map"),
    (1 << 4, "fast-diff"),
    (1 << 5, "deep-flatten"),
    (1 << 6, "journaling"),
    (1 << 7, "data-pool"),
    (1 << 8, "operations"),
    (1 << 9, "migrating"),
    (1 << 10, "non-primary"),
)
#: op features (RBD_OPERATION_FEATURE_*) as `rbd info` prints them
OP_FEATURE_MAPPING: tuple[tuple[int, str], ...] = (
    (1 << 0, "clone-parent"),
    (1 << 1, "clone-child"),
    (1 << 2, "group"),
    (1 << 3, "snap-trash"),
)
#: image flags as `rbd info` prints them
FLAG_MAPPING: tuple[tuple[int, str], ...] = (
    (1 << 0, "object map invalid"),
    (1 << 1, "fast diff invalid"),
)
FEATURE_EXCLUSIVE_LOCK = 1 << 2
FEATURE_OBJECT_MAP = 1 << 3
FEATURE_FAST_DIFF = 1 << 4
FEATURE_JOURNALING = 1 << 6
FEATURE_STRIPINGV2 = 1 << 1
#: RBD_FEATURES_DEFAULT: layering, exclusive-lock, object-map, fast-diff, deep-flatten
FEATURES_DEFAULT = 61
#: RBD_FEATURES_SINGLE_CLIENT: cleared by --image-shared
FEATURES_SINGLE_CLIENT = (
    FEATURE_EXCLUSIVE_LOCK | FEATURE_OBJECT_MAP | FEATURE_FAST_DIFF | FEATURE_JOURNALING
)
ORDER_MIN, ORDER_MAX = 12, 25
#: `--size` without a unit is in MiB (ImageSize validator)
DEFAULT_SIZE_SHIFT = 20

MOD_NONE, MOD_SOURCE, MOD_DEST = 0, 1, 2
SNAP_NONE, SNAP_PERMITTED, SNAP_REQUIRED = 0, 1, 2
SPEC_FULL, SPEC_SNAP, SPEC_NONE = 0, 1, 2

_SPEC_PATTERNS = {
    SPEC_FULL: re.compile(r"^(?:([^/@]+)/(?:([^/@]+)/)?)?([^/@]+)(?:@([^/@]+))?$"),
    SPEC_SNAP: re.compile(r"^(?:([^/]+)/(?:([^/@]+)/)?)?([^@]+)(?:@([^/@]+))?$"),
    SPEC_NONE: re.compile(r"^(?:([^/]+)/(?:([^/@]+)/)?)?([^@]+)(?:@(.+))?$", re.S),
}
_NO_AT_SLASH = re.compile(r"^[^@/]*$")


class CliError(Exception):
    """The command failed: `message` (already worded as upstream) on stderr, exit `code`."""

    def __init__(self, message: str | None, code: int = errno.EINVAL, blank: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.blank = blank  # boost errors are followed by an empty line


# ----------------------------------------------------------------- value parsers
_DIGITS = re.compile(r"^[+-]?[0-9]+$")


def parse_iec(text: str) -> int:
    """strict_iecstrtoll: ``4096``, ``4K``, ``4Ki``, ``1M``... -> bytes; ValueError otherwise."""
    if not text:
        raise ValueError("value not specified")
    u = next((k for k, c in enumerate(text) if c not in "0123456789-+"), None)
    num, unit = (text, "") if u is None else (text[:u], text[u:])
    shift = 0
    if unit:
        if len(unit) > 2 or (len(unit) == 2 and unit[1] != "i") or unit.startswith("Bi"):
            raise ValueError("illegal prefix")
        shifts = {"K": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60, "B": 0}
        if unit[0] not in shifts:
            raise ValueError("unit prefix not recognized")
        shift = shifts[unit[0]]
    if not _DIGITS.match(num):
        raise ValueError("not an integer")
    value = int(num)
    if value < 0:
        raise ValueError("negative")
    if value > ((1 << 64) - 1) >> shift:
        raise ValueError("too large")
    return value << shift


def parse_image_size(text: str) -> int:
    """`--size`: IEC units, a bare number is MiB (ImageSize validator)."""
    size = parse_iec(text)
    if text[-1:].isdigit():
        size <<= DEFAULT_SIZE_SHIFT
    if size >= 1 << 64:
        raise ValueError("too large")
    return size


def _parse_uint(text: str, bits: int = 64) -> int:
    """boost::lexical_cast<uintN_t>: digits only (a leading '-' wraps, as C++ does)."""
    if not re.match(r"^-?[0-9]+$", text):
        raise ValueError(text)
    value = int(text)
    if value < 0:
        value += 1 << bits
        if value < 0:
            raise ValueError(text)
    if value >= 1 << bits:
        raise ValueError(text)
    return value


def _parse_int(text: str) -> int:
    if not re.match(r"^[+-]?[0-9]+$", text):
        raise ValueError(text)
    value = int(text)
    if not -(1 << 63) <= value < 1 << 63:
        raise ValueError(text)
    return value


def _parse_order(text: str) -> int:
    order = _parse_uint(text)
    if not ORDER_MIN <= order <= ORDER_MAX:
        raise ValueError(text)
    return order


def _parse_image_format(text: str) -> int:
    fmt = _parse_uint(text, 32)
    if fmt not in (1, 2):
        raise ValueError(text)
    return fmt


def _parse_format(text: str) -> str:
    if text not in ("plain", "json", "xml"):
        raise ValueError(text)
    return text


def parse_features(values: Iterable[str]) -> int:
    """`--image-feature a,b --image-feature c` -> bitmask (ImageFeatures validator)."""
    bits = 0
    names = {name: bit for bit, name in FEATURE_MAPPING}
    for value in values:
        for token in value.split(","):
            if not token:
                continue
            if token not in names:
                raise ValueError(token)
            bits |= names[token]
    return bits


def _parse_export_format(text: str) -> int:
    fmt = _parse_uint(text)
    if fmt not in (1, 2):
        raise ValueError(text)
    return fmt


def _parse_io_type(text: str) -> str:
    """Bench's IOType: read, write, readwrite or rw."""
    if text == "rw":
        return "readwrite"
    if text not in ("read", "write", "readwrite"):
        raise ValueError(text)
    return text


def _parse_iterations(text: str) -> int:
    """Perf's Iterations: a u32 > 0."""
    n = int(text)
    if not 0 < n < 2**32:
        raise ValueError(text)
    return n


#: Perf's stat descriptors, the values of `--sort-by` (written with '-').
SORT_BY = ("write_ops", "read_ops", "write_bytes", "read_bytes", "write_latency", "read_latency")


def _parse_sort_by(text: str) -> str:
    """Perf's StatDescriptor validator: '_' is not a separator, '-' is."""
    name = text.replace("_", " ").replace("-", "_")
    if name not in SORT_BY:
        raise ValueError(text)
    return name


def _parse_io_pattern(text: str) -> str:
    if text not in ("rand", "seq", "full-seq"):
        raise ValueError(text)
    return text


#: device types the `rbd device` actions know (Device.cc)
DEVICE_TYPES = ("krbd", "nbd", "ggate", "wnbd")


def _parse_device_type(text: str) -> str:
    if text not in DEVICE_TYPES:
        raise ValueError(text)
    return text


def _parse_bool_text(text: str) -> bool:
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError(text)


# ----------------------------------------------------------------- option table
@dataclass(frozen=True)
class Opt:
    """One program option: `kind` is switch, value or multi; `parse` validates a value."""

    kind: str = "value"
    parse: Callable[[str], Any] | None = None
    short: str = ""


_STR = Opt()
_U64 = Opt(parse=_parse_uint)
_OBJSIZE = Opt(parse=parse_iec)
_SWITCH = Opt("switch")

OPTIONS: dict[str, Opt] = {
    # image spec pieces
    "pool": Opt(short="p"),
    "dest-pool": _STR,
    "namespace": _STR,
    "dest-namespace": _STR,
    "image": _STR,
    "dest": _STR,
    "snap": _STR,
    "dest-snap": _STR,
    "image-id": _STR,
    "snap-id": _U64,
    "path": _STR,
    "from-snap": _STR,
    "whole-object": _SWITCH,
    # create options
    "image-format": Opt(parse=_parse_image_format),
    "new-format": _SWITCH,
    "order": Opt(parse=_parse_order),
    "object-size": _OBJSIZE,
    "image-feature": Opt("multi"),
    "image-shared": _SWITCH,
    "stripe-unit": _OBJSIZE,
    "stripe-count": _U64,
    "data-pool": _STR,
    "mirror-image-mode": _STR,
    "journal-splay-width": _U64,
    "journal-object-size": _OBJSIZE,
    "journal-pool": _STR,
    "thick-provision": _SWITCH,
    "size": Opt(parse=parse_image_size, short="s"),
    "sparse-size": _OBJSIZE,
    "flatten": _SWITCH,
    "allow-shrink": _SWITCH,
    "export-format": Opt(parse=_parse_export_format),
    # output
    "format": Opt(parse=_parse_format),
    "pretty-format": _SWITCH,
    "no-progress": _SWITCH,
    "verbose": _SWITCH,
    "no-error": _SWITCH,
    "long": Opt("switch", short="l"),
    "all": Opt("switch", short="a"),
    "force": _SWITCH,
    "exact": _SWITCH,
    "merge-snapshots": _SWITCH,
    "descendants": _SWITCH,
    "limit": _U64,
    "skip-quiesce": _SWITCH,
    "ignore-quiesce-error": _SWITCH,
    "shared": _STR,
    # bench
    "io-type": Opt(parse=_parse_io_type),
    "io-size": _OBJSIZE,
    "io-threads": _U64,
    "io-total": Opt(parse=parse_iec),
    "io-pattern": Opt(parse=_parse_io_pattern),
    "rw-mix-read": _U64,
    # perf
    "iterations": Opt(parse=_parse_iterations),
    "sort-by": Opt(parse=_parse_sort_by),
    # trash
    "expires-at": _STR,
    "expired-before": _STR,
    "threshold": Opt(parse=float),
    # migration
    "import-only": _SWITCH,
    "source-spec": _STR,
    "source-spec-path": _STR,
    # mirror
    "site-name": _STR,
    "direction": _STR,
    "remote-client-name": _STR,
    "remote-cluster": _STR,
    "remote-mon-host": _STR,
    "remote-key-file": _STR,
    "token-path": _STR,
    # group
    "group": _STR,
    "dest-group": _STR,
    "group-pool": _STR,
    "group-namespace": _STR,
    "image-pool": _STR,
    "image-namespace": _STR,
    "group-snap": _STR,
    "dest-group-snap": _STR,
    # device
    "device-type": Opt(parse=_parse_device_type, short="t"),
    "read-only": _SWITCH,
    "exclusive": _SWITCH,
    "options": Opt("multi", short="o"),
    "quiesce": _SWITCH,
}

#: Shell::get_global_options (plus --version handled by main)
GLOBAL_OPTIONS: dict[str, Opt] = {
    "conf": Opt(short="c"),
    "cluster": _STR,
    "id": Opt(short="i"),
    "name": Opt(short="n"),
    "mon_host": Opt(short="m"),
    "secret": _STR,
    "keyfile": Opt(short="K"),
    "keyring": Opt(short="k"),
}

#: option groups an action declares (ArgumentTypes' add_*_options)
GROUPS: dict[str, tuple[str, ...]] = {
    "image": ("pool", "namespace", "image"),
    "snap": ("pool", "namespace", "image", "snap"),
    "dest": ("dest-pool", "dest-namespace", "dest"),
    "dest-snap": ("dest-pool", "dest-namespace", "dest", "dest-snap"),
    "pool": ("pool",),
    "pool-ns": ("pool", "namespace"),
    "create": (
        "order",
        "object-size",
        "image-feature",
        "image-shared",
        "stripe-unit",
        "stripe-count",
        "data-pool",
        "journal-splay-width",
        "journal-object-size",
        "journal-pool",
    ),
    "create-format": ("image-format", "new-format"),
    "format": ("format", "pretty-format"),
    "progress": ("no-progress",),
}


# ----------------------------------------------------------------- actions
@dataclass
class Action:
    """One `rbd` action: its words, alias words, options and the handler."""

    spec: tuple[str, ...]
    alias: tuple[str, ...]
    options: frozenset[str]
    handler: Callable[..., int]
    description: str = ""
    required: tuple[str, ...] = ()


ACTIONS: list[Action] = []


def action(
    words: str,
    alias: str = "",
    groups: Sequence[str] = (),
    options: Sequence[str] = (),
    description: str = "",
    required: Sequence[str] = (),
) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Register a handler for `words` (e.g. ``"snap create"``) with its option groups."""

    names: set[str] = set(options)
    for g in groups:
        names.update(GROUPS[g])

    def deco(fn: Callable[..., int]) -> Callable[..., int]:
        ACTIONS.append(
            Action(
                tuple(words.split()),
                tuple(alias.split()),
                frozenset(names),
                fn,
                description,
                tuple(required),
            )
        )
        return fn

    return deco


def find_action(words: Sequence[str]) -> tuple[Action, int] | None:
    """The action whose spec (or alias) prefixes `words`, longest first, and its length."""
    best: tuple[Action, int] | None = None
    for act in ACTIONS:
        for spec in (act.spec, act.alias):
            if spec and tuple(words[: len(spec)]) == spec and (best is None or len(spec) > best[1]):
                best = (act, len(spec))
    return best


# ----------------------------------------------------------------- parsed args
@dataclass
class Args:
    """The parsed command line: action, option values, positional arguments, globals."""

    action: Action | None = None
    opts: dict[str, Any] = field(default_factory=dict)
    positional: list[str] = field(default_factory=list)
    globals: dict[str, str] = field(default_factory=dict)
    conf: dict[str, str] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)
    index: int = 0

    def has(self, name: str) -> bool:
        return name in self.opts

    def get(self, name: str, default: Any = None) -> Any:
        return self.opts.get(name, default)

    def flag(self, name: str) -> bool:
        return bool(self.opts.get(name, False))

    def next_positional(self) -> str:
        """get_positional_argument(vm, arg_index++): '' when exhausted."""
        value = self.positional[self.index] if self.index < len(self.positional) else ""
        self.index += 1
        return value

    def peek_positional(self) -> str:
        return self.positional[self.index] if self.index < len(self.positional) else ""


def _switch_names() -> set[str]:
    return {n for n, o in {**OPTIONS, **GLOBAL_OPTIONS}.items() if o.kind == "switch"}


def _short_map() -> dict[str, str]:
    out: dict[str, str] = {}
    for table in (OPTIONS, GLOBAL_OPTIONS):
        for name, o in table.items():
            if o.short:
                out[o.short] = name
    return out


def command_words(argv: Sequence[str]) -> list[str]:
    """Shell::get_command_spec: the non-option words (option values skipped)."""
    switches = _switch_names()
    shorts = _short_map()
    words: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            return ["help"]
        if a == "--":
            words.extend(argv[i + 1 :])
            break
        if a.startswith("-") and len(a) >= 2:
            takes_value = True
            if a.startswith("--"):
                if a[2:] in switches or "=" in a:
                    takes_value = False
            else:
                name = shorts.get(a[1])
                if name is None or name in switches or len(a) > 2:
                    takes_value = name is not None and name not in switches and len(a) == 2
            if takes_value:
                i += 1
        else:
            words.append(a)
        i += 1
    return words


def _is_config_option(name: str) -> bool:
    try:
        from pyceph.common.options import find_option
    except ImportError:  # pragma: no cover
        return False
    return find_option(name.replace("-", "_")) is not None


def parse_command_line(argv: Sequence[str]) -> Args:
    """Find the action and parse its options as boost::program_options would.

    Raises CliError with boost's wording (exit 1) on unknown or invalid options.
    """
    args = Args()
    # Shell::prune_command_line_arguments: `--<ceph option> value` goes to the config
    pruned: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and len(a) > 2:
            key, eq, val = a[2:].partition("=")
            if key not in OPTIONS and key not in GLOBAL_OPTIONS and _is_config_option(key):
                if eq:
                    args.conf[key.replace("-", "_")] = val
                    i += 1
                else:
                    args.conf[key.replace("-", "_")] = argv[i + 1] if i + 1 < len(argv) else ""
                    i += 2
                continue
        pruned.append(a)
        i += 1
    words = command_words(pruned)
    args.words = words
    found = find_action(words)
    if found is None:
        return args
    act, nspec = found
    args.action = act
    allowed = set(act.options)
    shorts = {s: n for s, n in _short_map().items() if n in allowed or n in GLOBAL_OPTIONS}
    positional: list[str] = []
    i = 0
    only_positional = False
    while i < len(pruned):
        a = pruned[i]
        if only_positional or not a.startswith("-") or a == "-" or len(a) < 2:
            positional.append(a)
            i += 1
            continue
        if a == "--":
            only_positional = True
            i += 1
            continue
        inline: str | None = None
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            if eq:
                inline = val
            shown = "--" + name
        else:
            name = shorts.get(a[1], "")
            if len(a) > 2:
                inline = a[2:]
            if not name:
                raise CliError(f"rbd: unrecognised option '{a}'", 1, blank=True)
            shown = "--" + name
        opt = GLOBAL_OPTIONS.get(name) if name in GLOBAL_OPTIONS else None
        is_global = opt is not None
        if opt is None:
            if name not in allowed:
                raise CliError(f"rbd: unrecognised option '{shown}'", 1, blank=True)
            opt = OPTIONS[name]
        if opt.kind == "switch":
            if inline is not None:
                try:
                    args.opts[name] = _parse_bool_text(inline)
                except ValueError:
                    raise CliError(f"rbd: the argument for option '{shown}' is invalid", 1, True)
            else:
                args.opts[name] = True
            i += 1
            continue
        if inline is None:
            if i + 1 >= len(pruned):
                raise CliError(
                    f"rbd: the required argument for option '{shown}' is missing", 1, blank=True
                )
            value = pruned[i + 1]
            i += 2
        else:
            value = inline
            i += 1
        if is_global:
            if name == "secret":
                args.globals["keyfile"] = value
            else:
                args.globals[name] = value
            continue
        if opt.kind == "multi":
            args.opts.setdefault(name, []).append(value)
            continue
        if name in args.opts:
            raise CliError(
                f"rbd: option '{shown}' cannot be specified more than once", 1, blank=True
            )
        if opt.parse is not None:
            try:
                args.opts[name] = opt.parse(value)
            except (ValueError, OverflowError):
                raise CliError(f"rbd: the argument for option '{shown}' is invalid", 1, True)
        else:
            args.opts[name] = value
    if "image-feature" in args.opts:
        try:
            args.opts["image-feature"] = parse_features(args.opts["image-feature"])
        except ValueError:
            raise CliError("rbd: the argument for option '--image-feature' is invalid", 1, True)
    for name in act.required:
        if name not in args.opts:
            raise CliError(f"rbd: the option '--{name}' is required but missing", 1, blank=True)
    args.positional = positional[nspec:]
    return args


# ----------------------------------------------------------------- specs
@dataclass
class Spec:
    """pool / namespace / image / snapshot names from a spec and options."""

    pool: str = ""
    namespace: str = ""
    image: str = ""
    snap: str = ""


def extract_spec(
    spec: str, validation: int, want_pool: bool = True, want_ns: bool = True, want_snap: bool = True
) -> tuple[str | None, str | None, str, str | None]:
    """utils::extract_spec: split ``[pool/[ns/]]name[@snap]``; CliError as upstream."""
    m = _SPEC_PATTERNS[validation].match(spec)
    if not m:
        raise CliError(f"rbd: invalid spec '{spec}'")
    pool, ns, name, snap = m.group(1), m.group(2), m.group(3), m.group(4)
    if pool is not None and not want_pool:
        raise CliError("rbd: pool name specified for a command that doesn't use it")
    if ns is not None and not want_ns:
        raise CliError("rbd: namespace name specified for a command that doesn't use it")
    if snap is not None and not want_snap:
        raise CliError("rbd: snapshot name specified for a command that doesn't use it")
    return pool, ns, name, snap


_PREFIX = {MOD_NONE: "", MOD_SOURCE: "source ", MOD_DEST: "destination "}


def get_names(
    args: Args,
    mod: int = MOD_NONE,
    snap: int = SNAP_NONE,
    validation: int = SPEC_NONE,
    required: bool = True,
    generic: str = "image",
    use_snap: bool = True,
    spec: Spec | None = None,
) -> Spec:
    """utils::get_pool_generic_snapshot_names: options first, then the next positional."""
    dest = mod == MOD_DEST
    out = spec if spec is not None else Spec()
    pool_key = "dest-pool" if dest else "pool"
    ns_key = "dest-namespace" if dest else "namespace"
    if generic == "image":
        name_key = "dest" if dest else "image"
    else:
        name_key = f"dest-{generic}" if dest else generic
    snap_key = "dest-snap" if dest else "snap"
    if args.has(pool_key):
        out.pool = args.get(pool_key)
    if args.has(ns_key):
        out.namespace = args.get(ns_key)
    if args.has(name_key):
        out.image = args.get(name_key)
    if use_snap and args.has(snap_key):
        out.snap = args.get(snap_key)

    def apply(text: str) -> None:
        p, n, name, s = extract_spec(text, validation, want_snap=use_snap)
        if p is not None:
            out.pool = p
        if n is not None:
            out.namespace = n
        out.image = name
        if s is not None:
            out.snap = s

    if generic == "image" and out.image:
        apply(out.image)
    if not out.image:
        text = args.next_positional()
        if text:
            apply(text)
    if required and not out.image:
        prefix = _PREFIX[mod] if dest else ""
        raise CliError(f"rbd: {prefix}{generic} name was not specified")
    if validation == SPEC_FULL and not _NO_AT_SLASH.match(out.pool):
        raise CliError(f"rbd: invalid pool name '{out.pool}'")
    if out.namespace and not _NO_AT_SLASH.match(out.namespace):
        raise CliError(f"rbd: invalid namespace name '{out.namespace}'")
    if use_snap:
        validate_snap(out.snap, mod, snap, validation)
    return out


def validate_snap(name: str, mod: int, presence: int, validation: int) -> None:
    """utils::validate_snapshot_name."""
    prefix = _PREFIX[mod] if mod == MOD_DEST else ""
    if presence == SNAP_NONE and name:
        raise CliError(f"rbd: {prefix}snapshot name specified for a command that doesn't use it")
    if presence == SNAP_REQUIRED and not name:
        raise CliError(f"rbd: {prefix}snapshot name was not specified")
    if validation == SPEC_SNAP and not _NO_AT_SLASH.match(name):
        raise CliError(f"rbd: invalid snap name '{name}'")


def get_pool_and_namespace(args: Args, validate_pool: bool = True) -> tuple[str, str]:
    """utils::get_pool_and_namespace_names: `--pool` or the next positional ``pool[/ns]``."""
    ns = args.get("namespace", "")
    if args.has("pool"):
        pool = args.get("pool")
    else:
        pool = args.next_positional()
        if not pool:
            args.index -= 1
        elif "/" in pool:
            pool, _, ns = pool.rpartition("/")
    if validate_pool and re.search(r"[/@]", pool):
        raise CliError(f"rbd: invalid pool '{pool}'")
    if re.search(r"[/@]", ns):
        raise CliError(f"rbd: invalid namespace '{ns}'")
    return pool, ns


def get_path(args: Args) -> str:
    """utils::get_path."""
    path = args.get("path") if args.has("path") else args.next_positional()
    if not path:
        raise CliError("rbd: path was not specified")
    return path


@dataclass
class ImageOptions:
    """librbd ImageOptions as the CLI fills them (utils::get_image_options)."""

    order: int | None = None
    features: int | None = None
    features_clear: int = 0
    stripe_unit: int | None = None
    stripe_count: int | None = None
    data_pool: str | None = None
    format: int | None = None
    flatten: bool = False
    warnings: list[str] = field(default_factory=list)


def get_image_options(args: Args, get_format: bool) -> ImageOptions:
    """utils::get_image_options: order from --order or --object-size, features, striping."""
    o = ImageOptions()
    if args.has("order"):
        o.order = args.get("order")
    elif args.has("object-size"):
        size = args.get("object-size")
        o.order = round(math.log2(size)) if size > 0 else 0
    if args.has("image-feature"):
        o.features = args.get("image-feature")
    if args.has("stripe-unit"):
        o.stripe_unit = args.get("stripe-unit")
    if args.has("stripe-count"):
        o.stripe_count = args.get("stripe-count")
    if args.flag("image-shared"):
        if o.features is not None:
            o.features &= ~FEATURES_SINGLE_CLIENT
        else:
            o.features_clear |= FEATURES_SINGLE_CLIENT
    if args.has("data-pool"):
        o.data_pool = args.get("data-pool")
    if get_format:
        fmt = 0
        specified = False
        if args.flag("new-format"):
            fmt, specified = 2, True
        elif args.has("image-format"):
            fmt, specified = args.get("image-format"), True
        if fmt == 1:
            o.warnings.append("rbd: image format 1 is deprecated")
        # a refusal below follows the deprecation warning already printed upstream
        lead = "".join(w + "\n" for w in o.warnings)
        if o.features:
            if specified and fmt == 1:
                raise CliError(
                    lead + "rbd: features not allowed with format 1; use --image-format 2"
                )
            fmt, specified = 2, True
        su, sc = o.stripe_unit or 0, o.stripe_count or 0
        order = o.order if o.order is not None else 0
        if (su or sc) and (su != (1 << order) and sc != 1):
            if specified and fmt == 1:
                raise CliError(
                    lead + "rbd: non-default striping not allowed with format 1; "
                    "use --image-format 2"
                )
            fmt, specified = 2, True
        if o.data_pool:
            if specified and fmt == 1:
                raise CliError(
                    lead + "rbd: data pool not allowed with format 1; use --image-format 2"
                )
            fmt, specified = 2, True
        if specified:
            o.format = fmt
    if (o.stripe_unit is not None) != (o.stripe_count is not None):
        # upstream sets both when either is given; the unset one is 0 (= default)
        o.stripe_unit = o.stripe_unit or 0
        o.stripe_count = o.stripe_count or 0
    o.flatten = args.flag("flatten")
    return o


def get_size(args: Args) -> int:
    """utils::get_image_size."""
    if not args.has("size"):
        raise CliError("rbd: must specify --size <M/G/T>")
    return int(args.get("size"))
