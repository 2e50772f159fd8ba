"""Module discovery and loading (upstream `PyModuleRegistry` / `PyModule::load`).

A module is a folder holding `module.py` (and an `__init__.py` exporting a
`MgrModule` subclass) in one of the search folders: pyceph's built-in modules
(`pyceph.mgr.builtin`, imported as its subpackages) and `mgr_module_path`
(upstream's default /usr/share/ceph/mgr; put on `sys.path` *after* pyceph, so
modules import our `mgr_module`, and import each other as top-level packages
as they do upstream).

Search order: upstream has no built-in modules — ceph-mgr runs whatever
`mgr_module_path` holds (PyModuleRegistry::probe_modules). pyceph keeps that: the
configured folder is searched first, and a module there shadows a built-in of
the same name (Debian's `prometheus` or `iostat` from ceph-mgr-modules-core run
unmodified when their folder is on the path); the built-ins fill in the names the
folder lacks, so an empty `mgr_module_path` runs pyceph's own. Loading imports the package, finds its `MgrModule` (and
`MgrStandbyModule`) subclass, registers its options and commands, parses the
commands with the descriptor grammar, and asks `can_run()`; any failure marks
the module unable to run, with the reason, without stopping the others.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from pyceph.common.cmdargs import FLAG_POLL, CommandDesc, make_command
from pyceph.mgr.modules.options import module_option_schema

__all__ = ["BUILTIN_DIR", "ModuleInfo", "discover", "load_module"]

log = logging.getLogger("pyceph.mgr.modules")

#: pyceph's own modules (a package: imported as pyceph.mgr.builtin.<name>)
BUILTIN_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "builtin")
BUILTIN_PACKAGE = "pyceph.mgr.builtin"


@dataclass
class ModuleInfo:
    """A discovered module: where it is and, once loaded, what it declares."""

    name: str
    import_name: str
    cls: Any = None
    standby_cls: Any = None
    can_run: bool = True
    error_string: str = ""
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    commands: list[CommandDesc] = field(default_factory=list)
    notify_types: frozenset[str] = frozenset()
    loaded: bool = False
    #: loading raised (import error, bad COMMANDS...): enabled, it is a failed module
    load_error: bool = False

    def available_json(self) -> dict[str, Any]:
        """This module as `MgrMap.available_modules[]` lists it."""
        return {
            "name": self.name,
            "can_run": self.can_run,
            "error_string": self.error_string,
            "module_options": {n: module_option_schema(o) for n, o in sorted(self.options.items())},
        }


def _candidates(folder: str) -> list[str]:
    """Folder entries that look like modules (upstream probe_modules: `<n>/module.py`)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [
        n
        for n in names
        if not n.startswith((".", "_")) and os.path.isfile(os.path.join(folder, n, "module.py"))
    ]


def discover(module_path: str, disabled: set[str]) -> list[ModuleInfo]:
    """Every module in `module_path` and the built-in folder (`module_path` wins on a name).

    `module_path` is appended to `sys.path` so its modules import as top-level
    packages; modules named in `disabled` (`mgr_disabled_modules`) are skipped.
    """
    found: dict[str, ModuleInfo] = {}
    folder = os.path.abspath(module_path) if module_path else ""
    if folder and os.path.isdir(folder) and folder != BUILTIN_DIR:
        if folder not in sys.path:
            sys.path.append(folder)
        for n in _candidates(folder):
            found[n] = ModuleInfo(n, n)
    for n in _candidates(BUILTIN_DIR):
        found.setdefault(n, ModuleInfo(n, f"{BUILTIN_PACKAGE}.{n}"))
    return [m for n, m in sorted(found.items()) if n not in disabled]


def _find_subclass(pkg: Any, base: type) -> Any:
    for _, obj in inspect.getmembers(pkg, inspect.isclass):
        if issubclass(obj, base) and obj is not base:
            return obj
    return None


def load_module(info: ModuleInfo) -> None:
    """Import and inspect one module; on failure set can_run False and the reason."""
    import mgr_module

    info.loaded = True
    try:
        pkg = importlib.import_module(info.import_name)
        cls = _find_subclass(pkg, mgr_module.MgrModule)
        if cls is None:
            raise ImportError(f"no MgrModule subclass in module '{info.name}'")
        info.cls = cls
        info.standby_cls = _find_subclass(pkg, mgr_module.MgrStandbyModule)
        cls._register_options(info.name)
        cls._register_commands(info.name)
        if info.standby_cls is not None:
            info.standby_cls._register_options(info.name)
        info.options = {str(o["name"]): dict(o) for o in cls.MODULE_OPTIONS}
        info.commands = [
            make_command(
                str(c["cmd"]),
                str(c.get("desc", "")),
                "mgr",
                str(c.get("perm", "rw")),
                FLAG_POLL if c.get("poll") else 0,
                "mgr",
            )
            for c in cls.COMMANDS
        ]
        info.notify_types = frozenset(str(getattr(t, "value", t)) for t in getattr(cls, "NOTIFY_TYPES", []))  # fmt: skip
        ok, reason = cls.can_run()
        info.can_run, info.error_string = bool(ok), str(reason or "")
    except Exception as e:  # a module's own code: any failure makes it unavailable
        log.info("mgr module %s cannot be loaded: %s", info.name, e)
        log.debug("mgr module %s load failure", info.name, exc_info=True)
        info.can_run = False
        info.load_error = True
        info.error_string = str(e) or type(e).__name__
