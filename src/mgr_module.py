"""`mgr_module`: the API ceph-mgr modules are written against (upstream 16.2.15).

A drop-in for upstream's `src/pybind/mgr/mgr_module.py`: a module that says
``from mgr_module import MgrModule, CLIReadCommand, Option, NotifyType`` runs in
`pyceph-mgr` unchanged. The classes here are the Python half of upstream's API;
the other half, the C++ hooks (`_ceph_get`, `_ceph_set_store`, ...), is
`pyceph.mgr.modules.hooks`, exposed under upstream's name `ceph_module` so both
this file and upstream's own `mgr_module.py` can run over it.

Semantics follow upstream's Python file and `src/mgr/BaseMgrModule.cc`: option
values typed by `Option.type`, undeclared options raising `RuntimeError`, `None`
resetting options and deleting store keys, `get('health')` as ``{'json': text}``,
`CLICommand` descriptors derived from annotations, `HandleCommandResult` or plain
triples from handlers.
"""

from __future__ import annotations

import errno
import functools
import inspect
import json
import logging
import socket
import threading
import time
import typing
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from enum import Enum, IntEnum
from typing import Any, NamedTuple, Optional, Union

import ceph_module
from pyceph.mgr.modules.argspec import annotation_to_argdesc, cast_to

__all__ = [
    "API",
    "CLICheckNonemptyFileInput",
    "CLICommand",
    "CLIReadCommand",
    "CLIWriteCommand",
    "CRUSHMap",
    "Command",
    "CommandResult",
    "HandleCommandResult",
    "MgrModule",
    "MgrStandbyModule",
    "MonCommandFailed",
    "NotifyType",
    "OSDMap",
    "OSDMapIncremental",
    "Option",
]

ERROR_MSG_EMPTY_INPUT_FILE = "Empty input file"
ERROR_MSG_NO_INPUT_FILE = "Input file not specified"
# every word of osd_types.cc pg_state_string()
PG_STATES = [
    "active", "clean", "down", "recovery_unfound", "backfill_unfound", "scrubbing",
    "degraded", "inconsistent", "peering", "repair", "recovering", "forced_recovery",
    "backfill_wait", "incomplete", "stale", "remapped", "deep", "backfilling",
    "forced_backfill", "backfill_toofull", "recovery_wait", "recovery_toofull",
    "undersized", "activating", "peered", "snaptrim", "snaptrim_wait", "snaptrim_error",
    "creating", "unknown", "premerge", "failed_repair", "laggy", "wait",
]  # fmt: skip
NFS_GANESHA_SUPPORTED_FSALS = ["CEPH", "RGW"]
NFS_POOL_NAME = ".nfs"

HandlerFuncType = Callable[..., tuple[int, str, str]]
OptionValue = Optional[Union[bool, int, float, str]]  # noqa: UP007, UP045 - upstream's alias
HealthChecksT = Mapping[str, Mapping[str, Union[int, str, Sequence[str]]]]  # noqa: UP007
ServiceInfoT = dict[str, str]
ServerInfoT = dict[str, Union[str, list[ServiceInfoT]]]  # noqa: UP007
PerfCounterT = dict[str, Any]


class NotifyType(str, Enum):  # noqa: UP042 - upstream's (str, Enum), not StrEnum
    """What `notify()` is about; a module gets only the types in its NOTIFY_TYPES."""

    mon_map = "mon_map"
    pg_summary = "pg_summary"
    health = "health"
    clog = "clog"
    osd_map = "osd_map"
    fs_map = "fs_map"
    command = "command"


class CommandResult:
    """Completion of `MgrModule.send_command`; `wait()` blocks until it is complete."""

    def __init__(self, tag: str | None = None) -> None:
        self.ev = threading.Event()
        self.outs = ""
        self.outb = ""
        self.r = 0
        #: routes the `command` notification back to the caller
        self.tag = tag if tag else ""

    def complete(self, r: int, outb: str, outs: str) -> None:
        self.r = r
        self.outb = outb
        self.outs = outs
        self.ev.set()

    def wait(self) -> tuple[int, str, str]:
        self.ev.wait()
        return self.r, self.outb, self.outs


class HandleCommandResult(NamedTuple):
    """What a command handler returns: ``(retval, stdout, stderr)``, retval 0 or -errno."""

    retval: int = 0
    stdout: str = ""
    stderr: str = ""


class MonCommandFailed(RuntimeError):
    """`check_mon_command` got a non-zero return value."""


class OSDMap(ceph_module.BasePyOSDMap):
    """A snapshot of the OSDMap (upstream's wrapper over the C++ map)."""

    def get_epoch(self) -> int:
        return self._get_epoch()

    def get_crush_version(self) -> int:
        return self._get_crush_version()

    def dump(self) -> dict[str, Any]:
        return self._dump()

    def get_pools(self) -> dict[int, dict[str, Any]]:
        return {p["pool"]: p for p in self._dump()["pools"]}

    def get_pools_by_name(self) -> dict[str, dict[str, Any]]:
        return {p["pool_name"]: p for p in self._dump()["pools"]}

    def new_incremental(self) -> OSDMapIncremental:
        return self._new_incremental()

    def apply_incremental(self, inc: OSDMapIncremental) -> OSDMap:
        return self._apply_incremental(inc)

    def get_crush(self) -> CRUSHMap:
        return self._get_crush()

    def get_pools_by_take(self, take: int) -> list[int]:
        return self._get_pools_by_take(take).get("pools", [])

    def calc_pg_upmaps(
        self,
        inc: OSDMapIncremental,
        max_deviation: int,
        max_iterations: int = 10,
        pools: list[str] | None = None,
    ) -> int:
        return self._calc_pg_upmaps(inc, max_deviation, max_iterations, pools or [])

    def map_pool_pgs_up(self, poolid: int) -> list[int]:
        return self._map_pool_pgs_up(poolid)

    def pg_to_up_acting_osds(self, pool_id: int, ps: int) -> dict[str, Any]:
        return self._pg_to_up_acting_osds(pool_id, ps)

    def pool_raw_used_rate(self, pool_id: int) -> float:
        return self._pool_raw_used_rate(pool_id)

    def get_ec_profile(self, name: str) -> list[dict[str, str]] | None:
        return self._dump()["erasure_code_profiles"].get(name, None)

    def get_require_osd_release(self) -> str:
        return self._dump()["require_osd_release"]


class OSDMapIncremental(ceph_module.BasePyOSDMapIncremental):
    """Changes to apply to an OSDMap (built by the balancer)."""

    def get_epoch(self) -> int:
        return self._get_epoch()

    def dump(self) -> dict[str, Any]:
        return self._dump()

    def set_osd_reweights(self, weightmap: dict[int, float]) -> None:
        """weightmap is a dict, int to float."""
        return self._set_osd_reweights(weightmap)

    def set_crush_compat_weight_set_weights(self, weightmap: dict[str, float]) -> None:
        """weightmap is a dict, int to float (devices only)."""
        return self._set_crush_compat_weight_set_weights(weightmap)


class CRUSHMap(ceph_module.BasePyCRUSH):
    """The CRUSH map of an `OSDMap` snapshot."""

    ITEM_NONE = 0x7FFFFFFF
    DEFAULT_CHOOSE_ARGS = "-1"

    def dump(self) -> dict[str, Any]:
        return self._dump()

    def get_item_weight(self, item: int) -> int | None:
        return self._get_item_weight(item)

    def get_item_name(self, item: int) -> str | None:
        return self._get_item_name(item)

    def find_takes(self) -> list[int]:
        return self._find_takes().get("takes", [])

    def find_roots(self) -> list[int]:
        return self._find_roots().get("roots", [])

    def get_take_weight_osd_map(self, root: int) -> dict[int, float]:
        raw = self._get_take_weight_osd_map(root)
        return {int(k): v for k, v in raw.get("weights", {}).items()}

    @staticmethod
    def have_default_choose_args(dump: dict[str, Any]) -> bool:
        return CRUSHMap.DEFAULT_CHOOSE_ARGS in dump.get("choose_args", {})

    @staticmethod
    def get_default_choose_args(dump: dict[str, Any]) -> list[dict[str, Any]]:
        choose_args = dump.get("choose_args")
        assert isinstance(choose_args, dict)
        return choose_args.get(CRUSHMap.DEFAULT_CHOOSE_ARGS, [])

    def get_rule(self, rule_name: str) -> dict[str, Any] | None:
        for rule in self.dump()["rules"]:
            if rule["rule_name"] == rule_name:
                return rule
        return None

    def get_rule_by_id(self, rule_id: int) -> dict[str, Any] | None:
        for rule in self.dump()["rules"]:
            if rule["rule_id"] == rule_id:
                return rule
        return None

    def get_rule_root(self, rule_name: str) -> int | None:
        rule = self.get_rule(rule_name)
        if rule is None:
            return None
        for step in rule["steps"]:
            if step.get("op") == "take":
                return step["item"]
        logging.warning("CRUSH rule '%s' has no 'take' step", rule_name)
        return None

    def get_osds_under(self, root_id: int) -> list[int]:
        buckets = {b["id"]: b for b in self.dump()["buckets"]}
        out: list[int] = []

        def walk(b: dict[str, Any]) -> None:
            for item in b["items"]:
                if item["id"] >= 0:
                    out.append(item["id"])
                elif item["id"] in buckets:
                    walk(buckets[item["id"]])

        walk(buckets[root_id])
        return out

    def device_class_counts(self) -> dict[str, int]:
        result: dict[str, int] = defaultdict(int)
        for device in self.dump()["devices"]:
            result[device.get("class", None)] += 1
        return dict(result)


# --------------------------------------------------------------------------- commands
class CLICommand:
    """Decorator registering a method as the handler of a `ceph <prefix> ...` command.

    The argument descriptors come from the handler's annotations (upstream's
    `CephArgtype.to_argdesc` mapping); `_`, `self`, `mgr`, `inbuf` and `return`
    are not arguments.
    """

    COMMANDS: dict[str, CLICommand] = {}
    KNOWN_ARGS = ("_", "self", "mgr", "inbuf", "return")

    def __init__(self, prefix: str, perm: str = "rw", poll: bool = False) -> None:
        self.prefix = prefix
        self.perm = perm
        self.poll = poll
        self.func: Callable[..., Any] | None = None
        self.arg_spec: dict[str, Any] = {}
        self.first_default = -1
        self.desc = ""
        self.args = ""
        #: the Python module that defined the handler (one interpreter holds every
        #: mgr module here, so each module's COMMANDS keeps only its own)
        self.module = ""

    @staticmethod
    def load_func_metadata(f: HandlerFuncType) -> tuple[str, dict[str, Any], int, str]:
        """(desc from the docstring, annotations, index of the first default, descriptors).

        As upstream 16.2.15: `first_default` counts the annotations (the return
        annotation included) minus the defaults, and an argument has a default when
        its position among the function's arguments (`self` included) reaches it.
        """
        desc = (inspect.getdoc(f) or "").replace("\n", " ")
        spec = inspect.getfullargspec(f)
        arg_spec = dict(spec.annotations)
        if any(isinstance(v, str) for v in arg_spec.values()):  # postponed annotations
            try:
                hints = typing.get_type_hints(f)
                arg_spec = {k: hints.get(k, v) for k, v in arg_spec.items()}
            except (NameError, TypeError):
                pass
        first_default = len(arg_spec) - len(spec.defaults or ())
        words = []
        for index, name in enumerate(spec.args):
            if name in CLICommand.KNOWN_ARGS:
                continue
            if name not in arg_spec:
                raise AssertionError(f"'{name}' is not annotated for {f}: {spec}")
            words.append(annotation_to_argdesc(arg_spec[name], name, index >= first_default))
        return desc, arg_spec, first_default, " ".join(words)

    def store_func_metadata(self, f: HandlerFuncType) -> None:
        self.desc, self.arg_spec, self.first_default, self.args = self.load_func_metadata(f)

    def __call__(self, func: HandlerFuncType) -> HandlerFuncType:
        self.store_func_metadata(func)
        self.func = func
        self.module = str(getattr(func, "__module__", "") or "")
        self.COMMANDS[self.prefix] = self
        return func

    def _get_arg_value(self, kwargs_switch: bool, key: str, val: Any) -> tuple[bool, str, Any]:
        """Map one cmd_dict value to (kwargs_switch, argument name, value).

        A trailing ``key=value`` word (sent for an n=N string argument) switches the
        rest of the arguments to keyword form, as upstream.
        """
        if not kwargs_switch and isinstance(val, str) and "=" in val:
            k = val.split("=", 1)[0]
            kwargs_switch = k in self.arg_spec
        if kwargs_switch:
            k, v = val.split("=", 1)
        else:
            k, v = key, val
        return kwargs_switch, k.replace("-", "_"), v

    def _collect_args_by_argspec(self, cmd_dict: dict[str, Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        kwargs_switch = False
        for index, (name, tp) in enumerate(self.arg_spec.items()):
            if name in self.KNOWN_ARGS:
                continue
            raw = cmd_dict.get(name)
            if index >= self.first_default and raw is None:
                continue
            kwargs_switch, k, v = self._get_arg_value(kwargs_switch, name, raw)
            kwargs[k] = cast_to(tp, v)
        return kwargs

    def call(
        self, mgr: Any, cmd_dict: dict[str, Any], inbuf: str | None = None
    ) -> HandleCommandResult:
        kwargs = self._collect_args_by_argspec(cmd_dict)
        if inbuf:
            kwargs["inbuf"] = inbuf
        assert self.func is not None
        return self.func(mgr, **kwargs)

    def dump_cmd(self) -> dict[str, str | bool]:
        return {
            "cmd": f"{self.prefix} {self.args}",
            "desc": self.desc,
            "perm": self.perm,
            "poll": self.poll,
        }

    def belongs_to(self, package: str) -> bool:
        """Whether the handler was defined in Python package `package` (or below it)."""
        return self.module == package or self.module.startswith(package + ".")

    @classmethod
    def dump_cmd_list(cls, package: str | None = None) -> list[dict[str, str | bool]]:
        """Every registered command's COMMANDS entry (of Python package `package` if given)."""
        return [
            cmd.dump_cmd()
            for cmd in cls.COMMANDS.values()
            if package is None or cmd.belongs_to(package)
        ]


def CLIReadCommand(prefix: str, poll: bool = False) -> CLICommand:  # noqa: N802
    """A read-only (perm 'r') command."""
    return CLICommand(prefix, "r", poll)


def CLIWriteCommand(prefix: str, poll: bool = False) -> CLICommand:  # noqa: N802
    """A state-changing (perm 'w') command."""
    return CLICommand(prefix, "w", poll)


def CLICheckNonemptyFileInput(  # noqa: N802
    desc: str,
) -> Callable[[HandlerFuncType], HandlerFuncType]:
    """Reject the command with -EINVAL unless `-i <file>` gave non-empty input."""

    def decorator(func: HandlerFuncType) -> HandlerFuncType:
        @functools.wraps(func)
        def check(*args: Any, **kwargs: Any) -> tuple[int, str, str]:
            if "inbuf" not in kwargs:
                return -errno.EINVAL, "", f"{ERROR_MSG_NO_INPUT_FILE}: Please specify the file containing {desc} with \"-i\" option"  # fmt: skip
            if isinstance(kwargs["inbuf"], str):
                kwargs["inbuf"] = kwargs["inbuf"].rstrip("\r\n").rstrip("\n")
            if not kwargs["inbuf"] or not kwargs["inbuf"].strip():
                return -errno.EINVAL, "", f"{ERROR_MSG_EMPTY_INPUT_FILE}: Please add {desc} to the file"  # fmt: skip
            return func(*args, **kwargs)

        check.__signature__ = inspect.signature(func)  # type: ignore[attr-defined]
        return check

    return decorator


def _package_of(cls: type) -> str:
    """The Python package a module class lives in (`hello` for hello.module.Hello)."""
    mod = cls.__module__
    return mod.rsplit(".", 1)[0] if "." in mod else mod


def _get_localized_key(prefix: str, key: str) -> str:
    return f"{prefix}/{key}"


class Option(dict):  # type: ignore[type-arg]
    """One MODULE_OPTIONS entry; only the keyword arguments that are not None are kept."""

    def __init__(
        self,
        name: str,
        default: OptionValue = None,
        type: str = "str",  # noqa: A002 - upstream's keyword
        desc: str | None = None,
        long_desc: str | None = None,
        min: OptionValue = None,  # noqa: A002
        max: OptionValue = None,  # noqa: A002
        enum_allowed: list[str] | None = None,
        tags: list[str] | None = None,
        see_also: list[str] | None = None,
        runtime: bool = False,
    ) -> None:
        super().__init__(
            (k, v) for k, v in vars().items() if k not in ("self", "__class__") and v is not None
        )


class Command(dict):  # type: ignore[type-arg]
    """A command declared with a separate handler; `register()` makes it a CLICommand."""

    def __init__(
        self, prefix: str, handler: HandlerFuncType, perm: str = "rw", poll: bool = False
    ) -> None:
        super().__init__(perm=perm, poll=poll)
        self.prefix = prefix
        self.handler = handler

    @staticmethod
    def returns_command_result(
        instance: Any, f: HandlerFuncType
    ) -> Callable[..., HandleCommandResult]:
        @functools.wraps(f)
        def wrapper(mgr: Any, *args: Any, **kwargs: Any) -> HandleCommandResult:
            retval, stdout, stderr = f(instance or mgr, *args, **kwargs)
            return HandleCommandResult(retval, stdout, stderr)

        wrapper.__signature__ = inspect.signature(f)  # type: ignore[attr-defined]
        return wrapper

    def register(self, instance: bool = False) -> HandlerFuncType:
        cmd = CLICommand(prefix=self.prefix, perm=self["perm"])
        if not instance:
            return cmd(self.handler)
        return cmd(self.returns_command_result(instance, self.handler))


class CPlusPlusHandler(logging.Handler):
    """Sends a module's log records to the mgr daemon's log (`_ceph_log`)."""

    def __init__(self, module_inst: Any) -> None:
        super().__init__()
        self._module = module_inst
        name = module_inst.module_name
        self.setFormatter(logging.Formatter(f"[{name} %(levelname)-4s %(name)s] %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= self.level:
            self._module._ceph_log(self.format(record))


class ClusterLogHandler(logging.Handler):
    """Sends a module's log records to the cluster log (`log_to_cluster`)."""

    def __init__(self, module_inst: Any) -> None:
        super().__init__()
        self._module = module_inst
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        levels = {
            logging.DEBUG: MgrModule.ClusterLogPrio.DEBUG,
            logging.INFO: MgrModule.ClusterLogPrio.INFO,
            logging.WARNING: MgrModule.ClusterLogPrio.WARN,
            logging.ERROR: MgrModule.ClusterLogPrio.ERROR,
            logging.CRITICAL: MgrModule.ClusterLogPrio.ERROR,
        }
        level = levels.get(record.levelno, MgrModule.ClusterLogPrio.INFO)
        if record.levelno >= self.level:
            self._module.cluster_log(self._module.module_name, level, self.format(record))


class FileHandler(logging.FileHandler):
    """`<log_file stem>.<module>.log` (`log_to_file`)."""

    def __init__(self, module_inst: Any) -> None:
        path = str(module_inst.get_ceph_option("log_file") or "")
        stem = path.rsplit(".", 1)[0] if path.endswith(".log") else path
        super().__init__(f"{stem}.{module_inst.module_name}.log", delay=True)
        self.setFormatter(logging.Formatter("%(asctime)s [%(threadName)s] [%(levelname)-4s] [%(name)s] %(message)s"))  # fmt: skip


_PY_LEVELS = ("", "critical", "debug", "error", "info", "warning")


class MgrModuleLoggingMixin:
    """Wires a module's Python logging to the mgr log, a file and the cluster log."""

    module_name: str

    def _configure_logging(
        self,
        mgr_level: str,
        module_level: str,
        cluster_level: str,
        log_to_file: bool,
        log_to_cluster: bool,
    ) -> None:
        self._mgr_level: str | None = None
        self._module_level: str | None = None
        # every module shares this interpreter: its "root" logger is its package's, so
        # `logging.getLogger(__name__)` in the module's files reaches these handlers
        self._root_logger = logging.getLogger(_package_of(type(self)))
        self._unconfigure_logging()
        self._mgr_log_handler = CPlusPlusHandler(self)
        self._cluster_log_handler = ClusterLogHandler(self)
        self._file_log_handler: logging.Handler | None = None
        self._root_logger.addHandler(self._mgr_log_handler)
        self._root_logger.propagate = False
        if log_to_file:
            self._enable_file_log()
        if log_to_cluster:
            self._enable_cluster_log()
        self._set_log_level(mgr_level, module_level, cluster_level)

    def _unconfigure_logging(self) -> None:
        for h in list(self._root_logger.handlers):
            if isinstance(h, CPlusPlusHandler | ClusterLogHandler | FileHandler):
                self._root_logger.removeHandler(h)
                h.close()

    def _set_log_level(self, mgr_level: str, module_level: str, cluster_level: str) -> None:
        self._cluster_log_handler.setLevel(cluster_level.upper() or "INFO")
        module_level = module_level.upper() if module_level else ""
        if not self._module_level:
            if module_level:
                self._root_logger.setLevel(module_level)
            else:
                self._root_logger.setLevel(self._ceph_log_level_to_python(mgr_level))
        self._module_level = module_level
        self._mgr_level = mgr_level

    def _enable_file_log(self) -> None:
        self._file_log_handler = FileHandler(self)
        self._root_logger.addHandler(self._file_log_handler)

    def _disable_file_log(self) -> None:
        if self._file_log_handler is not None:
            self._root_logger.removeHandler(self._file_log_handler)
            self._file_log_handler.close()
            self._file_log_handler = None

    def _enable_cluster_log(self) -> None:
        self._root_logger.addHandler(self._cluster_log_handler)

    def _disable_cluster_log(self) -> None:
        self._root_logger.removeHandler(self._cluster_log_handler)

    def _ceph_log_level_to_python(self, log_level: str) -> str:
        """`debug_mgr` '1/5' -> Python level: <=0 CRITICAL, 1 WARNING, <=4 INFO, else DEBUG."""
        try:
            level = int(str(log_level).split("/", 1)[0])
        except ValueError:
            level = 1
        if level <= 0:
            return "CRITICAL"
        if level <= 1:
            return "WARNING"
        if level <= 4:
            return "INFO"
        return "DEBUG"

    def getLogger(self, name: str | None = None) -> logging.Logger:  # noqa: N802
        root = self._root_logger.name
        return logging.getLogger(root if name is None else f"{root}.{name}")


def _builtin_log_options() -> list[Option]:
    """The four options upstream appends to every module's MODULE_OPTIONS."""
    return [
        Option(
            name="log_level", type="str", default="", runtime=True, enum_allowed=list(_PY_LEVELS)
        ),  # fmt: skip
        Option(name="log_to_file", type="bool", default=False, runtime=True),
        Option(name="log_to_cluster", type="bool", default=False, runtime=True),
        Option(
            name="log_to_cluster_level",
            type="str",
            default="info",
            runtime=True,
            enum_allowed=list(_PY_LEVELS),
        ),  # fmt: skip
    ]


def _register_builtin_options(cls: Any) -> None:
    names = {o["name"] for o in cls.MODULE_OPTIONS}
    extra = [o for o in _builtin_log_options() if o["name"] not in names]
    cls.MODULE_OPTIONS = list(cls.MODULE_OPTIONS) + extra


def _option_defaults(cls: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for o in cls.MODULE_OPTIONS:
        if "default" in o:
            out[o["name"]] = o["default"] if "type" in o else str(o["default"])
    return out


class MgrStandbyModule(ceph_module.BaseMgrStandbyModule, MgrModuleLoggingMixin):
    """What a module runs on a standby mgr: `serve()` and read-only access."""

    MODULE_OPTIONS: list[Option] = []
    MODULE_OPTION_DEFAULTS: dict[str, Any] = {}

    def __init__(self, module_name: str, capsule: Any) -> None:
        super().__init__(capsule)
        self.module_name = module_name
        self.MODULE_OPTION_DEFAULTS = _option_defaults(self)
        self._configure_logging(
            str(self.get_ceph_option("debug_mgr") or "1/5"),
            str(self.get_module_option("log_level", "") or ""),
            str(self.get_module_option("log_to_cluster_level", "info") or "info"),
            bool(self.get_module_option("log_to_file", False)),
            bool(self.get_module_option("log_to_cluster", False)),
        )

    @classmethod
    def _register_options(cls, module_name: str) -> None:
        _register_builtin_options(cls)

    def __del__(self) -> None:
        self._cleanup()
        try:
            self._unconfigure_logging()
        except AttributeError:
            pass

    def _cleanup(self) -> None:
        pass

    @property
    def log(self) -> logging.Logger:
        return self._root_logger

    def serve(self) -> None:
        """Mandatory for standby modules: runs until `shutdown()`."""
        raise NotImplementedError()

    def get_mgr_id(self) -> str:
        return self._ceph_get_mgr_id()

    def get_module_option(self, key: str, default: OptionValue = None) -> OptionValue:
        r = self._ceph_get_module_option(key)
        return self.MODULE_OPTION_DEFAULTS.get(key, default) if r is None else r

    def get_ceph_option(self, key: str) -> OptionValue:
        return self._ceph_get_option(key)

    def get_store(self, key: str) -> str | None:
        return self._ceph_get_store(key)

    def get_localized_store(self, key: str, default: str | None = None) -> str | None:
        r = self._ceph_get_store(_get_localized_key(self.get_mgr_id(), key))
        if r is None:
            r = self._ceph_get_store(key)
            if r is None:
                r = default
        return r

    def get_active_uri(self) -> str:
        return self._ceph_get_active_uri()

    def get(self, data_name: str) -> Any:
        return self._ceph_get(data_name)

    def get_mgr_ip(self) -> str:
        ips = (self.get("mgr_ips") or {}).get("ips", [])
        return ips[0] if ips else socket.gethostname()

    def get_localized_module_option(self, key: str, default: OptionValue = None) -> OptionValue:
        r = self._ceph_get_module_option(key, self.get_mgr_id())
        return self.MODULE_OPTION_DEFAULTS.get(key, default) if r is None else r


class API:
    """Decorators marking methods other modules (and the dashboard) may call."""

    def DecoratorFactory(attr: str, default: Any):  # type: ignore[no-untyped-def]  # noqa: N802, N805
        class DecoratorClass:
            _ATTR_TOKEN = f"__ATTR_{attr.upper()}__"

            def __init__(self, value: Any = default) -> None:
                self.value = value

            def __call__(self, func: Callable[..., Any]) -> Any:
                setattr(func, self._ATTR_TOKEN, self.value)
                return func

            @classmethod
            def get(cls, func: Callable[..., Any]) -> Any:
                return getattr(func, cls._ATTR_TOKEN, default)

        return DecoratorClass

    perm = DecoratorFactory("perm", default="r")
    expose = DecoratorFactory("expose", default=False)(True)


class MgrModule(ceph_module.BaseMgrModule, MgrModuleLoggingMixin):
    """Base class of an active-mgr module (upstream's MgrModule)."""

    COMMANDS: list[dict[str, Any]] = []
    MODULE_OPTIONS: list[Option] = []
    MODULE_OPTION_DEFAULTS: dict[str, Any] = {}
    NOTIFY_TYPES: list[NotifyType] = []

    # Priority definitions for perf counters
    PRIO_CRITICAL = 10
    PRIO_INTERESTING = 8
    PRIO_USEFUL = 5
    PRIO_UNINTERESTING = 2
    PRIO_DEBUGONLY = 0

    # counter value types
    PERFCOUNTER_TIME = 1
    PERFCOUNTER_U64 = 2

    # counter types
    PERFCOUNTER_LONGRUNAVG = 4
    PERFCOUNTER_COUNTER = 8
    PERFCOUNTER_HISTOGRAM = 0x10
    PERFCOUNTER_TYPE_MASK = ~3

    # units supported
    BYTES = 0
    NONE = 1

    class ClusterLogPrio(IntEnum):
        DEBUG = 0
        INFO = 1
        SEC = 2
        WARN = 3
        ERROR = 4

    def __init__(self, module_name: str, py_modules_ptr: object, this_ptr: object) -> None:
        self.module_name = module_name
        super().__init__(py_modules_ptr, this_ptr)
        self.MODULE_OPTION_DEFAULTS = _option_defaults(self)
        self._configure_logging(
            str(self.get_ceph_option("debug_mgr") or "1/5"),
            str(self.get_module_option("log_level", "") or ""),
            str(self.get_module_option("log_to_cluster_level", "info") or "info"),
            bool(self.get_module_option("log_to_file", False)),
            bool(self.get_module_option("log_to_cluster", False)),
        )
        self._version = self._ceph_get_version()
        self._rados: Any = None
        #: one first use of `rados` connects; concurrent first users wait for it
        self._rados_lock = threading.Lock()
        self._perf_schema_cache = None
        self._mgr_ips: str | None = None
        self._db_lock = threading.Lock()

    def __del__(self) -> None:
        try:
            self._unconfigure_logging()
        except AttributeError:
            pass

    @classmethod
    def _register_options(cls, module_name: str) -> None:
        _register_builtin_options(cls)

    @classmethod
    def _register_commands(cls, module_name: str) -> None:
        package = _package_of(cls)
        have = {c["cmd"] for c in cls.COMMANDS}
        new = [c for c in CLICommand.dump_cmd_list(package) if c["cmd"] not in have]
        cls.COMMANDS = list(cls.COMMANDS) + new

    @property
    def log(self) -> logging.Logger:
        return self._root_logger

    def cluster_log(self, channel: str, priority: ClusterLogPrio, message: str) -> None:
        """Add an entry to the cluster log (`ceph log last`)."""
        self._ceph_cluster_log(channel, int(priority), message)

    @property
    def version(self) -> str:
        return self._version

    @property
    def release_name(self) -> str:
        return self._ceph_get_release_name()

    def lookup_release_name(self, major: int) -> str:
        return self._ceph_lookup_release_name(major)

    def get_context(self) -> object:
        return self._ceph_get_context()

    def notify(self, notify_type: NotifyType, notify_id: str) -> None:
        """Called when new cluster state of a type in NOTIFY_TYPES is available."""

    def _config_notify(self) -> None:
        self._set_log_level(
            str(self.get_ceph_option("debug_mgr") or "1/5"),
            str(self.get_module_option("log_level", "") or ""),
            str(self.get_module_option("log_to_cluster_level", "info") or "info"),
        )
        if self.get_module_option("log_to_file", False):
            if self._file_log_handler is None:
                self._enable_file_log()
        else:
            self._disable_file_log()
        if self.get_module_option("log_to_cluster", False):
            self._enable_cluster_log()
        else:
            self._disable_cluster_log()
        self.config_notify()

    def config_notify(self) -> None:
        """Called when the configuration may have changed."""

    def serve(self) -> None:
        """Runs in its own thread for the module's lifetime; return after `shutdown()`."""

    def shutdown(self) -> None:
        """Ask `serve()` to return; also drops the module's librados handle."""
        if self._rados:
            addrs = self._rados.get_addrs()
            self._rados.shutdown()
            self._ceph_unregister_client(addrs)
            self._rados = None

    def get(self, data_name: str) -> Any:
        """Named cluster state (`osd_map`, `pg_summary`, `health`, ...); None if unknown."""
        obj = self._ceph_get(data_name)
        if isinstance(obj, bytes):
            obj = json.loads(obj)
        return obj

    def _stattype_to_str(self, stattype: int) -> str:
        typeonly = stattype & self.PERFCOUNTER_TYPE_MASK
        if typeonly == 0:
            return "gauge"
        if typeonly == self.PERFCOUNTER_LONGRUNAVG:
            return "counter"
        if typeonly == self.PERFCOUNTER_COUNTER:
            return "counter"
        if typeonly == self.PERFCOUNTER_HISTOGRAM:
            return "histogram"
        return ""

    def _perfpath_to_path_labels(
        self, daemon: str, path: str
    ) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        if daemon.startswith("rgw."):
            label_name = "instance_id"
            daemon = daemon[len("rgw.") :]
        else:
            label_name = "ceph_daemon"
        label_names: tuple[str, ...] = (label_name,)
        labels: tuple[str, ...] = (daemon,)
        if daemon.startswith("rbd-mirror."):
            parts = path.split(".")
            if len(parts) == 4 and parts[0] == "rbd_mirror" and parts[1] == "image":
                path = f"{parts[0]}.{parts[3]}"
                label_names += ("pool", "image")
                labels += (parts[1], parts[2])
        return path, label_names, labels

    def _perfvalue_to_value(self, stattype: int, value: int | float) -> int | float:
        if stattype & self.PERFCOUNTER_TIME:
            return value / 1000000000.0
        return value

    def _unit_to_str(self, unit: int) -> str:
        if unit == self.NONE:
            return "/s"
        if unit == self.BYTES:
            return "B/s"
        raise ValueError(f"bad unit {unit}")

    @staticmethod
    def to_pretty_iec(n: int) -> str:
        for bits, suffix in [(60, "Ei"), (50, "Pi"), (40, "Ti"), (30, "Gi"), (20, "Mi"), (10, "Ki")]:  # fmt: skip
            if n > 10 << bits:
                return str(n >> bits) + " " + suffix
        return str(n) + " "

    @staticmethod
    def get_pretty_row(elems: Sequence[str], width: int) -> str:
        """One table row: `width` (the terminal's) shared evenly, each element right-aligned."""
        column = int(width / len(elems))
        return "|" + "".join(f"{e:>{column - 2}} |" for e in elems)

    def get_pretty_header(self, elems: Sequence[str], width: int) -> str:
        """Like `get_pretty_row`, between two dash lines: a table title (ends with a newline)."""
        column = int(width / len(elems))
        dashes = "+" + ("-" * (column - 1) + "+") * len(elems) + "\n"
        return dashes + self.get_pretty_row(elems, width) + "\n" + dashes

    def get_server(self, hostname: str) -> ServerInfoT:
        """Metadata about one host and the daemons on it (empty dict if unknown)."""
        return self._ceph_get_server(hostname)

    def get_perf_schema(self, svc_type: str, svc_name: str) -> dict[str, dict[str, dict[str, str | int]]]:  # fmt: skip
        return self._ceph_get_perf_schema(svc_type, svc_name)

    def get_counter(self, svc_type: str, svc_name: str, path: str) -> dict[str, list[tuple[float, int]]]:  # fmt: skip
        return self._ceph_get_counter(svc_type, svc_name, path)

    def get_latest_counter(
        self, svc_type: str, svc_name: str, path: str
    ) -> dict[str, tuple[float, int] | tuple[float, int, int]]:
        return self._ceph_get_latest_counter(svc_type, svc_name, path)

    def list_servers(self) -> list[ServerInfoT]:
        """Every host with the daemons on it."""
        return self._ceph_get_server(None)

    def get_metadata(
        self, svc_type: str, svc_id: str, default: dict[str, str] | None = None
    ) -> dict[str, str] | None:
        """A daemon's metadata (`ceph osd metadata N`), or `default`."""
        metadata = self._ceph_get_metadata(svc_type, svc_id)
        if not metadata:
            return default
        return metadata

    def get_daemon_status(self, svc_type: str, svc_id: str) -> dict[str, str]:
        """The latest status a service daemon reported."""
        return self._ceph_get_daemon_status(svc_type, svc_id)

    def check_mon_command(self, cmd_dict: dict, inbuf: str | None = None) -> HandleCommandResult:
        """`mon_command`, raising `MonCommandFailed` unless retval is 0."""
        r = HandleCommandResult(*self.mon_command(cmd_dict, inbuf))
        if r.retval:
            raise MonCommandFailed(f"{cmd_dict['prefix']} failed: {r.stderr} retval: {r.retval}")
        return r

    def mon_command(self, cmd_dict: dict, inbuf: str | None = None) -> tuple[int, str, str]:
        """A monitor command, synchronously: ``(retval, outb, outs)``."""
        t1 = time.time()
        result = CommandResult()
        self.send_command(result, "mon", "", json.dumps(cmd_dict), "", inbuf)
        r = result.wait()
        t2 = time.time()
        self.log.debug("mon_command: '%s' -> %s in %.3fs", cmd_dict["prefix"], r[0], t2 - t1)
        return r

    def send_command(
        self,
        result: CommandResult,
        svc_type: str,
        svc_id: str,
        command: str,
        tag: str,
        inbuf: str | None = None,
    ) -> None:
        """Send a command to a mon (`svc_type` 'mon'), an OSD or a mgr; `result` completes."""
        self._ceph_send_command(result, svc_type, svc_id, command, tag, inbuf)

    def tool_exec(
        self, args: list[str], timeout: int = 10, stdin: bytes | None = None
    ) -> tuple[int, str, str]:
        """Run a ceph tool as this mgr with its keyring: (rc, stdout, stderr)."""
        import subprocess

        try:
            name = f"mgr.{self.get_mgr_id()}"
            cmd = [*args, "--name", name, "--conf", self.get_ceph_conf_path()]
            p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as ex:
            self.log.error(ex)
            return -errno.ETIMEDOUT, "", str(ex)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def set_health_checks(self, checks: HealthChecksT) -> None:
        """Replace this module's health checks (`{}` clears them)."""
        self._ceph_set_health_checks(checks)

    def _handle_command(
        self, inbuf: str, cmd: dict[str, Any]
    ) -> HandleCommandResult | tuple[int, str, str]:
        handler = CLICommand.COMMANDS.get(cmd["prefix"])
        if handler is None or not handler.belongs_to(_package_of(type(self))):
            return self.handle_command(inbuf, cmd)
        return handler.call(self, cmd, inbuf)

    def handle_command(
        self, inbuf: str, cmd: dict[str, Any]
    ) -> HandleCommandResult | tuple[int, str, str]:
        """Handle one of the commands declared in COMMANDS (old style)."""
        return HandleCommandResult(
            retval=-errno.ENOSYS, stdout="", stderr=f"Unknown command: {cmd['prefix']}"
        )

    def get_mgr_id(self) -> str:
        """This mgr's name (`x` for mgr.x)."""
        return self._ceph_get_mgr_id()

    def get_ceph_conf_path(self) -> str:
        return self._ceph_get_ceph_conf_path()

    def get_mgr_ip(self) -> str:
        if not self._mgr_ips:
            ips = (self.get("mgr_ips") or {}).get("ips", [])
            if not ips:
                return socket.gethostname()
            self._mgr_ips = ips[0]
        return self._mgr_ips

    def get_ceph_option(self, key: str) -> OptionValue:
        return self._ceph_get_option(key)

    def get_foreign_ceph_option(self, entity: str, key: str) -> OptionValue:
        return self._ceph_get_foreign_option(entity, key)

    def _validate_module_option(self, key: str) -> None:
        if key not in [o["name"] for o in self.MODULE_OPTIONS]:
            raise RuntimeError(
                f"Config option '{key}' is not in {self.__class__.__name__}.MODULE_OPTIONS"
            )

    def _get_module_option(
        self, key: str, default: OptionValue, localized_prefix: str = ""
    ) -> OptionValue:
        r = self._ceph_get_module_option(self.module_name, key, localized_prefix)
        if r is None:
            return self.MODULE_OPTION_DEFAULTS.get(key, default)
        return r

    def get_module_option(self, key: str, default: OptionValue = None) -> OptionValue:
        """This module's option `key`, typed; its default when unset."""
        self._validate_module_option(key)
        return self._get_module_option(key, default)

    def get_module_option_ex(self, module: str, key: str, default: OptionValue = None) -> OptionValue:  # fmt: skip
        """Another module's option (its default is not known here: `default` when unset)."""
        if module == self.module_name:
            self._validate_module_option(key)
        r = self._ceph_get_module_option(module, key)
        return default if r is None else r

    def get_store_prefix(self, key_prefix: str) -> dict[str, str]:
        """Every KV store key of this module starting with `key_prefix`, with its value."""
        return self._ceph_get_store_prefix(key_prefix)

    def _set_localized(self, key: str, val: str | None, setter: Callable[[str, str | None], None]) -> None:  # fmt: skip
        return setter(_get_localized_key(self.get_mgr_id(), key), val)

    def get_localized_module_option(self, key: str, default: OptionValue = None) -> OptionValue:
        """This mgr's own value of option `key` (`mgr/<module>/<mgr id>/<key>`), else the module's."""
        self._validate_module_option(key)
        return self._get_module_option(key, default, self.get_mgr_id())

    def _set_module_option(self, key: str, val: Any) -> None:
        return self._ceph_set_module_option(self.module_name, key, None if val is None else str(val))  # fmt: skip

    def set_module_option(self, key: str, val: Any) -> None:
        """Set (persist) this module's option; None resets it to the default."""
        self._validate_module_option(key)
        return self._set_module_option(key, val)

    def set_module_option_ex(self, module: str, key: str, val: OptionValue) -> None:
        if module == self.module_name:
            self._validate_module_option(key)
        return self._ceph_set_module_option(module, key, None if val is None else str(val))

    def set_localized_module_option(self, key: str, val: str | None) -> None:
        self._validate_module_option(key)
        return self._set_localized(key, val, self._set_module_option)

    def set_store(self, key: str, val: str | None) -> None:
        """Persist `val` under `key` in this module's KV store (None deletes)."""
        self._ceph_set_store(key, val)

    def get_store(self, key: str, default: str | None = None) -> str | None:
        """The KV store value of `key`, or `default`."""
        r = self._ceph_get_store(key)
        return default if r is None else r

    def get_localized_store(self, key: str, default: str | None = None) -> str | None:
        r = self._ceph_get_store(_get_localized_key(self.get_mgr_id(), key))
        if r is None:
            r = self._ceph_get_store(key)
            if r is None:
                r = default
        return r

    def set_localized_store(self, key: str, val: str | None) -> None:
        return self._set_localized(key, val, self.set_store)

    def self_test(self) -> None:
        """Run a self-test of the module (the selftest module calls it)."""

    def get_osdmap(self) -> OSDMap:
        """A snapshot of the current OSDMap."""
        return self._ceph_get_osdmap()

    def get_latest(self, daemon_type: str, daemon_name: str, counter: str) -> int:
        data = self.get_latest_counter(daemon_type, daemon_name, counter)[counter]
        return data[1] if data else 0

    def get_latest_avg(self, daemon_type: str, daemon_name: str, counter: str) -> tuple[int, int]:
        data = self.get_latest_counter(daemon_type, daemon_name, counter)[counter]
        if data:
            return data[1], data[2]  # type: ignore[misc]
        return 0, 0

    def get_all_perf_counters(
        self,
        prio_limit: int = PRIO_USEFUL,
        services: Sequence[str] = ("mds", "mon", "osd", "rbd-mirror", "rgw", "tcmu-runner"),
    ) -> dict[str, dict[str, dict[str, Any]]]:
        """Perf counters of every daemon of `services` at or above `prio_limit`."""
        result: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for server in self.list_servers():
            for service in server["services"]:  # type: ignore[union-attr]
                if service["type"] not in services:  # type: ignore[index]
                    continue
                schema = self.get_perf_schema(service["type"], service["id"])  # type: ignore[index]
                if not schema:
                    continue
                svc_full_name = f"{service['type']}.{service['id']}"  # type: ignore[index]
                for counter_path, counter_schema in list(schema.values())[0].items():
                    if int(counter_schema["priority"]) < prio_limit:
                        continue
                    counter_info = dict(counter_schema)
                    if counter_schema["type"] & self.PERFCOUNTER_LONGRUNAVG:  # type: ignore[operator]
                        v, c = self.get_latest_avg(service["type"], service["id"], counter_path)  # type: ignore[index]
                        counter_info["value"], counter_info["count"] = v, c
                    else:
                        counter_info["value"] = self.get_latest(service["type"], service["id"], counter_path)  # type: ignore[index]  # fmt: skip
                    result[svc_full_name][counter_path] = counter_info
        return dict(result)

    def set_uri(self, uri: str) -> None:
        """Publish the address of the service this module runs (`ceph mgr services`)."""
        return self._ceph_set_uri(uri)

    def set_device_wear_level(self, devid: str, wear_level: float) -> None:
        return self._ceph_set_device_wear_level(devid, wear_level)

    def have_mon_connection(self) -> bool:
        """Whether this mgr has a session with a monitor."""
        return self._ceph_have_mon_connection()

    def update_progress_event(self, evid: str, desc: str, progress: float, add_to_ceph_s: bool) -> None:  # fmt: skip
        return self._ceph_update_progress_event(evid, desc, progress, add_to_ceph_s)

    def complete_progress_event(self, evid: str) -> None:
        return self._ceph_complete_progress_event(evid)

    def clear_all_progress_events(self) -> None:
        return self._ceph_clear_all_progress_events()

    @property
    def rados(self) -> Any:
        """A `rados.Rados` session as this mgr, shared by the module, made on first use."""
        if self._rados:
            return self._rados
        import rados

        with self._rados_lock:
            if not self._rados:
                handle = rados.Rados(context=self.get_context())
                handle.connect()
                self._ceph_register_client(handle.get_addrs())
                self._rados = handle  # published only once connected
        return self._rados

    @staticmethod
    def can_run() -> tuple[bool, str]:
        """(False, reason) when the module's dependencies are missing."""
        return True, ""

    def remote(self, module_name: str, method_name: str, *args: Any, **kwargs: Any) -> Any:
        """Call `method_name` of another enabled module (ImportError if it is not running)."""
        return self._ceph_dispatch_remote(module_name, method_name, args, kwargs)

    def add_osd_perf_query(self, query: dict[str, Any]) -> int | None:
        return self._ceph_add_osd_perf_query(query)

    def remove_osd_perf_query(self, query_id: int) -> None:
        return self._ceph_remove_osd_perf_query(query_id)

    def get_osd_perf_counters(self, query_id: int) -> dict[str, list[PerfCounterT]] | None:
        return self._ceph_get_osd_perf_counters(query_id)

    def add_mds_perf_query(self, query: dict[str, Any]) -> int | None:
        return self._ceph_add_mds_perf_query(query)

    def remove_mds_perf_query(self, query_id: int) -> None:
        return self._ceph_remove_mds_perf_query(query_id)

    def reregister_mds_perf_queries(self) -> None:
        return self._ceph_reregister_mds_perf_queries()

    def get_mds_perf_counters(self, query_id: int) -> dict[str, list[PerfCounterT]] | None:
        return self._ceph_get_mds_perf_counters(query_id)

    def get_daemon_health_metrics(self) -> dict[str, list[dict[str, Any]]]:
        return self._ceph_get_daemon_health_metrics()

    def is_authorized(self, arguments: dict[str, str]) -> bool:
        """Whether the caller's caps allow this module (and `arguments`)."""
        return self._ceph_is_authorized(arguments)

    def send_rgwadmin_command(self, args: list[str], stdout_as_json: bool = True) -> tuple[int, str | dict, str]:  # fmt: skip
        r, out, err = self.tool_exec(["radosgw-admin", *args])
        if r == 0 and stdout_as_json:
            try:
                return r, json.loads(out), err
            except ValueError:
                pass
        return r, out, err
