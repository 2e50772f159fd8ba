"""One entity's configuration, resolved the way Ceph 16.2's `md_config_t` does.

Values come from layered sources, later ones winning: built-in default <
monitor config database < ceph.conf < environment (CEPH_ARGS) < command line
< runtime override (`set`, injectargs).  Within ceph.conf, `[type.id]` beats
`[type]` beats `[global]`.  String values expand `$cluster`, `$name`, `$type`,
`$id`, `$host`, `$pid`, `$home`, `$data_dir` and other options' values.
"""

from __future__ import annotations

import errno
import os
import re
import shlex
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pyceph.common.conffile import ConfParseError, parse_conf, read_conf_file
from pyceph.common.errors import CephError
from pyceph.common.options import (
    _VALIDATORS,
    OPTIONS,
    Option,
    OptionValueError,
    UnknownOptionError,
    format_value,
    normalize_key,
    parse_value,
)

__all__ = [
    "CONF_CMDLINE",
    "CONF_DEFAULT",
    "CONF_ENV",
    "CONF_FILE",
    "CONF_MON",
    "CONF_OVERRIDE",
    "DEFAULT_CONF_FILES",
    "ENTITY_TYPES",
    "CephConfig",
    "ConfFileError",
    "ConfFileNotFoundError",
    "ConfParseError",
    "InvalidEntityNameError",
    "level_name",
]

# Upstream's value levels, lowest priority first.
CONF_DEFAULT = 0
CONF_MON = 1
CONF_FILE = 2
CONF_ENV = 3
CONF_CMDLINE = 4
CONF_OVERRIDE = 5
_LEVEL_NAMES = ("default", "mon", "file", "env", "cmdline", "override")

# Upstream's search list; `$data_dir/config` only applies to daemons.
DEFAULT_CONF_FILES = (
    "$data_dir/config, /etc/ceph/$cluster.conf, $home/.ceph/$cluster.conf, $cluster.conf"
)
ENTITY_TYPES = ("auth", "mon", "osd", "mds", "mgr", "client")
_META_CHARS = "abcdefghijklmnopqrstuvwxyz_"
_STR_LIST_SPLIT = re.compile(r"[;,= \t]+")


def level_name(level: int) -> str:
    """ "default", "mon", "file", "env", "cmdline" or "override"."""
    return _LEVEL_NAMES[level]


class ConfFileError(CephError, OSError):
    """A config file that exists but cannot be read (its OS errno)."""

    def __init__(self, err: int, message: str) -> None:
        super().__init__(err, message)


class ConfFileNotFoundError(CephError, FileNotFoundError):
    """No config file in the list could be opened (errno ENOENT)."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.ENOENT, message)


class InvalidEntityNameError(CephError, ValueError):
    """An entity name that is not `type.id` with a known type (errno EINVAL)."""

    def __init__(self, name: str) -> None:
        super().__init__(errno.EINVAL, f"invalid entity name '{name}'")


def _split_name(name: str) -> tuple[str, str]:
    type_, dot, id_ = name.partition(".")
    if not dot or type_ not in ENTITY_TYPES or not id_:
        raise InvalidEntityNameError(name)
    return type_, id_


class CephConfig:
    """Configuration of one entity (e.g. "client.admin") of one cluster.

    `is_daemon` selects daemon defaults (log file, admin socket, daemonize) and
    adds `$data_dir/config` to the search list.  `hostname`, `pid` and `environ`
    can be injected so tests and the simulator stay deterministic.
    """

    def __init__(
        self,
        name: str = "client.admin",
        cluster: str = "ceph",
        *,
        is_daemon: bool = False,
        hostname: str | None = None,
        pid: int | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._type, self._id = _split_name(name)
        self._cluster = cluster
        self.is_daemon = is_daemon
        self._hostname = hostname
        self._pid = pid
        self._environ = environ
        self._values: dict[str, dict[int, Any]] = {}
        self.conf_file: dict[str, dict[str, str]] = {}
        self.conf_path: str | None = None
        self.warnings: list[str] = []
        self.no_mon_config = False
        self.ignored_mon_values: dict[str, str] = {}
        self.observers: list[Callable[[set[str]], None]] = []

    # -- identity -----------------------------------------------------------
    @property
    def name(self) -> str:
        return f"{self._type}.{self._id}"

    @name.setter
    def name(self, value: str) -> None:
        self._type, self._id = _split_name(value)

    @property
    def entity_type(self) -> str:
        return self._type

    @property
    def entity_id(self) -> str:
        return self._id

    @property
    def cluster(self) -> str:
        return self._cluster

    @cluster.setter
    def cluster(self, value: str) -> None:
        self._cluster = value

    @property
    def data_dir_option(self) -> str:
        """`mon_data`/`osd_data`/`mgr_data` for daemons, "" otherwise (upstream)."""
        opt = f"{self._type}_data"
        return opt if self.is_daemon and opt in OPTIONS else ""

    def _env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def _host(self) -> str:
        configured = self._raw("host")
        if configured:
            return str(configured)
        if self._hostname is None:
            self._hostname = socket.gethostname().split(".")[0]
        return self._hostname

    # -- raw values ---------------------------------------------------------
    def _option(self, name: str) -> Option:
        opt = OPTIONS.get(normalize_key(name))
        if opt is None:
            raise UnknownOptionError(name)
        return opt

    def _default(self, opt: Option) -> Any:
        levels = self._values.get(opt.name)
        if levels and CONF_DEFAULT in levels:
            return levels[CONF_DEFAULT]
        value = opt.default_for(self.is_daemon)
        validator = _VALIDATORS.get(opt.name)
        if validator is not None and isinstance(value, str):
            value = validator(value)
        return value

    def _raw(self, name: str) -> Any:
        levels = self._values.get(name)
        if levels:
            return levels[max(levels)]
        return self._default(OPTIONS[name])

    def _set_level(self, opt: Option, text: str, level: int) -> Any:
        value = parse_value(opt, text)
        self._values.setdefault(opt.name, {})[level] = value
        return value

    # -- meta variables -------------------------------------------------------
    def _meta(self, var: str) -> str | None:
        if var == "type":
            return self._type
        if var == "cluster":
            return self._cluster
        if var == "name":
            return self.name
        if var == "host":
            return self._host()
        if var in ("id", "num"):
            return self._id
        if var == "pid":
            return str(os.getpid() if self._pid is None else self._pid)
        if var == "cctid":
            return str(id(self))
        return None

    def _expand(self, text: str, owner: str | None, stack: list[str]) -> str:
        """Upstream's `_expand_meta`, quirks included (see module docstring)."""
        pos = text.find("$")
        if pos < 0:
            return text
        if owner is not None:
            stack.append(owner)
        out = ""
        last: int | None = 0
        while pos >= 0:
            if last is not None and pos > last:
                out += text[last:pos]
            var = ""
            end: int | None
            if text.startswith("{", pos + 1):
                end = _first_not_of(text, pos + 2)
                if end is not None and text[end] == "}":
                    var = text[pos + 2 : end]
                    end += 1
            else:
                end = _first_not_of(text, pos + 1)
                var = text[pos + 1 : end] if end is not None else text[pos + 1 :]
            last = end
            if not var:
                out += "$"
            elif var == "home":
                out = self._env().get("HOME", "")
            else:
                special = self._meta(var)
                if special is not None:
                    out += special
                else:
                    if var == "data_dir":
                        var = self.data_dir_option
                    opt = OPTIONS.get(var)
                    if opt is None:
                        out += text[pos:end]
                    elif opt.name in stack:
                        return "$" + opt.name
                    else:
                        out += format_value(opt, self._get_expanded(opt, stack))
            if last is None:
                break
            pos = text.find("$", last)
        if last is not None:
            out += text[last:]
        if owner is not None:
            stack.pop()
        return out

    def _get_expanded(self, opt: Option, stack: list[str]) -> Any:
        value = self._raw(opt.name)
        if isinstance(value, str) and opt.type == "str":
            return self._expand(value, opt.name, stack)
        return value

    def expand_meta(self, text: str) -> str:
        """Expand `$variables` in arbitrary text (as upstream's `early_expand_meta`)."""
        return self._expand(text, None, [])

    # -- public get/set -------------------------------------------------------
    def get(self, name: str) -> Any:
        """Typed effective value (str options meta-expanded); UnknownOptionError (KeyError)."""
        opt = self._option(name)
        return self._get_expanded(opt, [])

    def get_str(self, name: str) -> str:
        """The value as `conf_get` prints it: "3", "true", "0.950000", "134217728"."""
        opt = self._option(name)
        return format_value(opt, self._get_expanded(opt, []))

    def get_default(self, name: str) -> Any:
        return self._default(self._option(name))

    def set(self, name: str, value: str, level: int = CONF_OVERRIDE) -> None:
        """Set at runtime (`conf_set`): UnknownOptionError (ENOENT) or OptionValueError."""
        if not isinstance(value, str):
            raise TypeError(f"value must be a string, not {type(value).__name__}")
        opt = self._option(name)
        self._set_level(opt, value, level)
        self._notify({opt.name})

    def set_default(self, name: str, value: str) -> None:
        """Replace the built-in default (upstream `set_val_default`, `--default-<opt>`).

        librados does this for `log_to_stderr`/`err_to_stderr` ("false"), and
        `Rados(conf_defaults=...)` maps onto it.
        """
        self.set(name, value, level=CONF_DEFAULT)

    def rm(self, name: str, level: int = CONF_OVERRIDE) -> None:
        """Drop the value set at `level` (e.g. `config rm`); no error when absent."""
        opt = self._option(name)
        levels = self._values.get(opt.name)
        if levels and level in levels:
            del levels[level]
            if not levels:
                del self._values[opt.name]
            self._notify({opt.name})

    def _notify(self, changed: set[str]) -> None:
        for observer in list(self.observers):
            observer(changed)

    def source(self, name: str) -> str:
        """Which level the effective value comes from ("default", "file", ...)."""
        levels = self._values.get(self._option(name).name)
        return level_name(max(levels)) if levels else "default"

    def apply_mon_config(self, values: Mapping[str, str]) -> dict[str, str]:
        """Replace the monitor-database layer with `values` (upstream `set_mon_vals`).

        Unknown names are skipped; `no_mon_update` options and unparsable values
        are ignored and returned.  Names absent from `values` lose their mon value.
        """
        ignored: dict[str, str] = {}
        changed: set[str] = set()
        for key, text in values.items():
            opt = OPTIONS.get(key)
            if opt is None:
                continue
            if opt.has_flag("no_mon_update"):
                ignored[key] = text
                continue
            try:
                before = self._values.get(key, {}).get(CONF_MON)
                if self._set_level(opt, text, CONF_MON) != before:
                    changed.add(key)
            except (OptionValueError, ValueError):
                ignored[key] = text
        for key, levels in list(self._values.items()):
            if CONF_MON in levels and key not in values:
                del levels[CONF_MON]
                changed.add(key)
                if not levels:
                    del self._values[key]
        self.ignored_mon_values = ignored
        if changed:
            self._notify(changed)
        return ignored

    # -- config files -----------------------------------------------------------
    def my_sections(self) -> list[str]:
        """Sections consulted, highest priority first: [type.id], [type], [global]."""
        return [self.name, self._type, "global"]

    def conf_search_list(self, path: str | None = None) -> list[str]:
        """Expanded candidate files for `read_file(path)`."""
        if path is None:
            path = self._env().get("CEPH_CONF") or DEFAULT_CONF_FILES
        result = []
        for item in _STR_LIST_SPLIT.split(path):
            if not item:
                continue
            if "$data_dir" in item and not self.data_dir_option:
                continue
            result.append(self.expand_meta(item))
        return result

    def read_file(self, path: str | None = None) -> str:
        """Read the first existing file of `path` (comma list) or of the default search.

        Default search: $CEPH_CONF, else /etc/ceph/$cluster.conf,
        ~/.ceph/$cluster.conf, ./$cluster.conf.  Returns the file read; raises
        ConfFileNotFoundError (ENOENT) when none exists, ConfParseError (EINVAL)
        on a malformed file, ConfFileError for other OS errors.  Values that do
        not parse are skipped with a message in `warnings`, as upstream does.
        """
        if not self._cluster and path is None:
            self._cluster = "ceph"
        candidates = self.conf_search_list(path)
        sections = None
        chosen = None
        for candidate in candidates:
            try:
                sections = read_conf_file(candidate)
            except (FileNotFoundError, NotADirectoryError):
                continue
            except IsADirectoryError as e:
                raise ConfFileError(errno.EISDIR, f"can't open {candidate}: {e.strerror}")
            except OSError as e:
                raise ConfFileError(e.errno or errno.EIO, f"can't open {candidate}: {e}")
            chosen = candidate
            break
        if sections is None or chosen is None:
            raise ConfFileNotFoundError(
                "can't open " + ", ".join(candidates) + ": (2) No such file or directory"
            )
        if not self._cluster:
            base = chosen.rsplit("/", 1)[-1]
            self._cluster = base[: base.find(".conf")] if ".conf" in base else "ceph"
        self.conf_file = sections
        self.conf_path = chosen
        changed = set()
        for opt in OPTIONS.values():
            raw = self._lookup_raw(opt.name)
            if raw is None:
                continue
            try:
                self._set_level(opt, raw, CONF_FILE)
                changed.add(opt.name)
            except ValueError as e:
                self.warnings.append(f"parse error setting '{opt.name}' to '{raw}' ({e})")
        if changed:
            self._notify(changed)
        return chosen

    def read_text(self, text: str, path: str = "<string>") -> None:
        """Apply ceph.conf text as if read from a file (for generated configs/tests)."""
        self.conf_file = parse_conf(text)
        self.conf_path = path
        for opt in OPTIONS.values():
            raw = self._lookup_raw(opt.name)
            if raw is None:
                continue
            try:
                self._set_level(opt, raw, CONF_FILE)
            except ValueError as e:
                self.warnings.append(f"parse error setting '{opt.name}' to '{raw}' ({e})")

    def _lookup_raw(self, key: str) -> str | None:
        for section in self.my_sections():
            values = self.conf_file.get(section)
            if values is not None and key in values:
                return values[key]
        return None

    def lookup_conf(self, key: str, sections: Iterable[str] | None = None) -> str | None:
        """Raw ceph.conf value of any key (also unknown ones), meta-expanded.

        Looks in `sections` (default [name], [type], [global]) like `ceph-conf --lookup`.
        """
        key = normalize_key(key)
        for section in self.my_sections() if sections is None else sections:
            values = self.conf_file.get(section)
            if values is not None and key in values:
                return self.expand_meta(values[key])
        return None

    # -- argv / env -----------------------------------------------------------------
    def parse_argv(
        self, args: list[str], level: int = CONF_CMDLINE, early: bool = True
    ) -> list[str]:
        """Consume the arguments Ceph knows and return the others, in order.

        Handles every `--option value`, `--option=value` (dashes or
        underscores), `--no-<bool>`, `--default-<option>`, `-m`, `-k/--keyring`,
        `-K/--keyfile`, `--bind`, `-M/--monmap`, `-f`, `-d`, `--[no-]mon-config`.
        With `early` (daemons, CLIs: upstream's `ceph_argparse_early_args`) it
        also takes `-n/--name`, `-i/--id`, `--cluster` and `-c/--conf` (the
        file is read at once).  librados' `conf_parse_argv` is `early=False`.
        Parsing stops at "--", which is kept.  Bad values raise OptionValueError.
        """
        rest: list[str] = []
        conf_path: str | None = None
        i = 0
        n = len(args)

        def value_for(flags: tuple[str, ...]) -> str | None:
            nonlocal i
            arg = args[i]
            for flag in flags:
                if _flag_eq(arg, flag):
                    if i + 1 >= n:
                        raise OptionValueError(f"Option {flag} requires an argument.")
                    i += 2
                    return args[i - 1]
                if flag.startswith("--") and "=" in arg and _flag_eq(arg.split("=", 1)[0], flag):
                    i += 1
                    return arg.split("=", 1)[1]
            return None

        while i < n:
            arg = args[i]
            if arg == "--":
                rest.extend(args[i:])
                break
            if early:
                v = value_for(("--id", "--user", "-i"))
                if v is not None:
                    self._id = v
                    continue
                v = value_for(("--name", "-n"))
                if v is not None:
                    self.name = v
                    continue
                v = value_for(("--cluster",))
                if v is not None:
                    self._cluster = v
                    continue
                v = value_for(("--conf", "-c"))
                if v is not None:
                    conf_path = v
                    continue
            if _flag_eq(arg, "--no-mon-config"):
                self.no_mon_config = True
                i += 1
                continue
            if _flag_eq(arg, "--mon-config"):
                self.no_mon_config = False
                i += 1
                continue
            if _flag_eq(arg, "--foreground") or arg == "-f":
                self._set_level(OPTIONS["daemonize"], "false", level)
                i += 1
                continue
            if arg == "-d":
                for key, val in (
                    ("daemonize", "false"),
                    ("log_file", ""),
                    ("log_to_stderr", "true"),
                    ("err_to_stderr", "true"),
                    ("log_to_syslog", "false"),
                ):
                    self._set_level(OPTIONS[key], val, level)
                i += 1
                continue
            special = (
                (("--monmap", "-M"), "monmap"),
                (("--mon_host", "-m"), "mon_host"),
                (("--bind",), "public_addr"),
                (("--keyring", "-k"), "keyring"),
            )
            handled = False
            for flags, key in special:
                v = value_for(flags)
                if v is not None:
                    self._set_level(OPTIONS[key], v, level)
                    handled = True
                    break
            if handled:
                continue
            v = value_for(("--keyfile", "-K"))
            if v is not None:
                try:
                    with open(v) as f:
                        self._set_level(OPTIONS["key"], f.read(), level)
                except OSError:
                    pass
                continue
            nxt = self._parse_option(args, i, level)
            if nxt is None:
                rest.append(arg)
                i += 1
                continue
            i = nxt
        if conf_path is not None:
            self.read_file(conf_path)
        return rest

    def _parse_option(self, args: list[str], i: int, level: int) -> int | None:
        """Apply one `--option[=value]` at args[i]; the next index, or None if unknown."""
        arg = args[i]
        if not arg.startswith("--"):
            return None
        flag, eq, inline = arg[2:].partition("=")
        key = flag.replace("-", "_")
        target_level = level
        if key.startswith("default_") and key[8:] in OPTIONS:
            key = key[8:]
            target_level = CONF_DEFAULT
        elif key.startswith("no_") and key not in OPTIONS and not eq:
            opt = OPTIONS.get(key[3:])
            if opt is not None and opt.type == "bool":
                self._set_level(opt, "false", level)
                return i + 1
            return None
        opt = OPTIONS.get(key)
        if opt is None:
            return None
        if opt.type == "bool" and target_level != CONF_DEFAULT:
            if eq:
                if inline not in ("true", "1", "false", "0"):
                    raise OptionValueError(
                        f"Parse error parsing binary flag  --{opt.name}. "
                        f"Expected true or false, but got '{inline}'"
                    )
                self._set_level(opt, inline, level)
                return i + 1
            if i + 1 < len(args) and args[i + 1] in ("true", "false", "1", "0"):
                self._set_level(opt, args[i + 1], level)
                return i + 2
            self._set_level(opt, "true", level)
            return i + 1
        if eq:
            value = inline
            nxt = i + 1
        else:
            if i + 1 >= len(args):
                raise OptionValueError(f"Option --{flag} requires an argument.")
            value = args[i + 1]
            nxt = i + 2
        try:
            self._set_level(opt, value, target_level)
        except OptionValueError as e:
            raise OptionValueError(
                f"parse error setting '{opt.name}' to '{value}' ({e})", e.errno
            ) from None
        return nxt

    def parse_env(self, var: str = "CEPH_ARGS") -> list[str]:
        """Apply $CEPH_KEYRING and the arguments in $<var> (level "env").

        Returns the words not understood (upstream ignores them).
        """
        env = self._env()
        if env.get("CEPH_KEYRING"):
            self._set_level(OPTIONS["keyring"], env["CEPH_KEYRING"], CONF_ENV)
        text = env.get(var or "CEPH_ARGS")
        if not text:
            return []
        try:
            words = shlex.split(text)
        except ValueError:
            words = text.split()
        return self.parse_argv(words, level=CONF_ENV, early=False)

    # -- views -------------------------------------------------------------------------
    def show(self) -> dict[str, str]:
        """Every option's effective value as text (`config show`)."""
        return {
            name: format_value(opt, self._get_expanded(opt, [])) for name, opt in OPTIONS.items()
        }

    def diff(self) -> dict[str, dict[str, str]]:
        """Options set anywhere but the defaults: {name: {"default", <levels>, "final"}}."""
        result: dict[str, dict[str, str]] = {}
        for name in sorted(self._values):
            levels = self._values[name]
            if not levels or set(levels) == {CONF_DEFAULT}:
                continue
            opt = OPTIONS[name]
            entry = {"default": format_value(opt, self._default(opt))}
            for lvl in sorted(levels):
                entry[level_name(lvl)] = format_value(opt, levels[lvl])
            entry["final"] = format_value(opt, self._get_expanded(opt, []))
            result[name] = entry
        return result

    def keyring_paths(self) -> list[str]:
        """The `keyring` option split into expanded paths (upstream's list delimiters)."""
        return [p for p in _STR_LIST_SPLIT.split(str(self.get("keyring"))) if p]


def _first_not_of(text: str, start: int) -> int | None:
    for i in range(start, len(text)):
        if text[i] not in _META_CHARS:
            return i
    return None


def _flag_eq(arg: str, flag: str) -> bool:
    """Upstream compares flags with dashes and underscores treated alike."""
    if arg == flag:
        return True
    if not (arg.startswith("--") and flag.startswith("--")):
        return False
    return arg[2:].replace("-", "_") == flag[2:].replace("-", "_")
