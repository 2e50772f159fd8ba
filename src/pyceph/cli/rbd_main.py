"""The `rbd` command line: upstream's src/tools/rbd (Shell.cc) over the `rbd`/`rados` modules.

Same words, options, messages, output formats and exit codes as Ceph 16.2's `rbd`:
the action is found from the leading words (``rbd snap create``), options are
parsed as that action declares them (`rbd_args`), errors print as upstream does
and the exit status is the errno of the failure. The actions live in the
``rbd_*`` modules by group (image, snap, clone, io, trash, namespace, group,
migration, mirror, device, bench, config/meta, misc); importing them registers
them in `rbd_args.ACTIONS`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from typing import IO, Any

from pyceph import VERSION_STRING
from pyceph.cli import (  # noqa: F401  (importing registers the actions)
    rbd_bench,
    rbd_clone,
    rbd_config,
    rbd_device,
    rbd_group,
    rbd_image,
    rbd_io,
    rbd_lock,
    rbd_migration,
    rbd_mirror,
    rbd_misc,
    rbd_namespace,
    rbd_perf,
    rbd_snap,
    rbd_trash,
)
from pyceph.cli.rbd_args import ACTIONS, CliError, parse_command_line
from pyceph.cli.rbd_context import Ctx

__all__ = ["help_text", "main", "run"]

#: Shell::print_help's layout: descriptions start at this column, lines wrap at LINE_WIDTH
_DESC_COLUMN = 38
_LINE_WIDTH = 80
_INDENT = "    "
#: an alias sharing this many leading words with its command is shown as ``(... rest)``
_ALIAS_SHARED_WORDS = 2
_GLOBAL_HELP = (
    ("-c [ --conf ] arg", "path to cluster configuration"),
    ("--cluster arg", "cluster name"),
    ("--id arg", "client id (without 'client.' prefix)"),
    ("-n [ --name ] arg", "client name"),
    ("-m [ --mon_host ] arg", "monitor host"),
    ("-K [ --keyfile ] arg", "path to secret key"),
    ("-k [ --keyring ] arg", "path to keyring"),
)


def _command_name(spec: tuple[str, ...], alias: tuple[str, ...]) -> str:
    """``words (alias)``; an alias sharing two or more leading words shows ``(... rest)``."""
    name = " ".join(spec)
    if not alias:
        return name
    shared = 0
    while shared < min(len(spec), len(alias)) and spec[shared] == alias[shared]:
        shared += 1
    if shared >= _ALIAS_SHARED_WORDS:
        return f"{name} (... {' '.join(alias[shared:])})"
    return f"{name} ({' '.join(alias)})"


def _wrapped(head: str, text: str) -> list[str]:
    """`head` then `text` from the description column, wrapped as IndentStream does."""
    lines: list[str] = []
    current = head + " " * max(1, _DESC_COLUMN - len(head))
    if len(head) >= _DESC_COLUMN:
        lines.append(head)
        current = " " * _DESC_COLUMN
    start_len = len(current)
    words = text.split()
    for i, word in enumerate(words):
        # a word must fit with the space after it, the last one just fit
        limit = _LINE_WIDTH if i == len(words) - 1 else _LINE_WIDTH - 1
        if len(current) > start_len and len(current) + 1 + len(word) > limit:
            lines.append(current)
            current = " " * _DESC_COLUMN
            start_len = len(current)
        current += (" " if len(current) > start_len else "") + word
    lines.append(current)
    return lines


def help_text(app: str = "rbd") -> str:
    """`rbd help`: the action list and the global options."""
    lines = [
        f"usage: {app} <command> ...",
        "",
        "Command-line interface for managing Ceph RBD images.",
        "",
        "Positional arguments:",
        "  <command>",
    ]
    for act in sorted(ACTIONS, key=lambda a: a.spec):
        head = _INDENT + _command_name(act.spec, act.alias)
        lines += _wrapped(head, act.description) if act.description else [head]
    lines += ["", "Optional arguments:"]
    for opt, text in _GLOBAL_HELP:
        lines += _wrapped("  " + opt, text)
    lines += ["", f"See '{app} help <command>' for help on a specific command."]
    return "\n".join(lines) + "\n"


def run(
    argv: Sequence[str],
    out: IO[str],
    err: IO[str],
    inp: Any = None,
    modules: tuple[Any, Any] | None = None,
) -> int:
    """Run one `rbd` command line; return the exit status."""
    argv = list(argv)
    env = os.environ.get("CEPH_ARGS")
    if env:
        argv.extend(env.split())
    if "--version" in argv or "-v" in argv[:1]:
        out.write(VERSION_STRING + "\n")
        return 0
    try:
        args = parse_command_line(argv)
    except CliError as e:
        err.write((e.message or "") + "\n" + ("\n" if e.blank else ""))
        return e.code & 0xFF
    words = args.words
    if not words or words == ["help"]:
        out.write(help_text())
        return 0
    if words[0] == "help":
        from pyceph.cli.rbd_args import find_action

        if find_action(words[1:]) is None:
            err.write(f"error: unknown option '{' '.join(words[1:])}'\n\n")
            out.write(help_text())
            return 1
        found = find_action(words[1:])
        assert found is not None
        act = found[0]
        out.write(f"usage: rbd {' '.join(act.spec)}\n")
        if act.description:
            out.write(f"\n{act.description}\n")
        return 0
    if args.action is None:
        err.write(f"error: unknown option '{' '.join(words)}'\n\n")
        out.write(help_text())
        return 1
    if "conf" in args.globals and not os.path.exists(args.globals["conf"]):
        err.write(
            f"global_init: unable to open config file from search list {args.globals['conf']}\n"
        )
        return 1
    ctx = Ctx(args, out, err, inp, modules)
    try:
        code = args.action.handler(ctx)
    except CliError as e:
        if e.message:
            err.write(e.message + "\n" + ("\n" if e.blank else ""))
        code = e.code
    except BrokenPipeError:
        code = 0
    finally:
        try:
            out.flush()
        except (OSError, ValueError):
            pass
        ctx.close()
    return abs(code) & 0xFF


def _errors_only_logging() -> None:
    """Code running inside this process (an embedded cluster's daemons) logs through
    `logging`; as upstream's tools print only errors to stderr, so does `rbd`."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.ERROR)
        root.addHandler(handler)


def main(
    argv: Sequence[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stdin: Any = None,
) -> int:
    """Entry point of the `rbd` console script."""
    _errors_only_logging()
    return run(
        sys.argv[1:] if argv is None else argv,
        stdout if stdout is not None else sys.stdout,
        stderr if stderr is not None else sys.stderr,
        stdin if stdin is not None else sys.stdin,
    )


if __name__ == "__main__":
    sys.exit(main())
