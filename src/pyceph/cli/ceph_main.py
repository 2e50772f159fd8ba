"""The `ceph` command line: upstream's ceph.in flow over the drop-in `rados` module.

Connect, fetch the monitor's command descriptions (mon + mgr commands), map the
words onto a command, send it (MGR-flagged ones with ``mgr_command``), print the
output buffer on stdout, the status on stderr, and exit with the errno.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from pyceph import VERSION_STRING
from pyceph.common.cmdargs import (
    ArgDesc,
    ArgumentError,
    CommandNotValid,
    argv_to_command,
    descs_from_json,
)

__all__ = ["VERSION_LINE", "main"]

VERSION_LINE = VERSION_STRING
#: A PG id as a command target: `ceph tell 1.2f query`, `ceph pg 1.2f query`
_PGID = ArgDesc("target", "CephPgid")


def _is_pgid(word: str) -> bool:
    """Upstream find_cmd_target: does `word` validate as a CephPgid?"""
    try:
        _PGID.validate_word(word)
    except ArgumentError:
        return False
    return True


# the `rados` module; tests replace this with a fake
rados_module: Any = None


def _rados() -> Any:
    global rados_module
    if rados_module is None:
        import rados  # noqa: PLC0415 - the drop-in facade, imported lazily

        rados_module = rados
    return rados_module


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Ceph administration tool", add_help=False)
    p.add_argument("--completion", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("-h", "--help", action="store_true", help="request mon help")
    p.add_argument("-c", "--conf", dest="cephconf", help="ceph configuration file")
    p.add_argument("-i", "--in-file", dest="input_file", help='input file, or "-" for stdin')
    p.add_argument("-o", "--out-file", dest="output_file", help='output file, or "-" for stdout')
    p.add_argument("--id", "--user", dest="client_id", help="client id for authentication")
    p.add_argument("--name", "-n", dest="client_name", help="client name for authentication")
    p.add_argument("--cluster", help="cluster name")
    p.add_argument("-k", "--keyring", dest="keyring", help="keyring file")
    p.add_argument("-m", "--mon-host", "--mon_host", dest="mon_host", help="monitor address")
    p.add_argument("-s", "--status", action="store_true", help="show cluster status")
    p.add_argument("-w", "--watch", action="store_true", help="watch live cluster changes")
    p.add_argument("--version", "-v", action="store_true", help="display version")
    p.add_argument("--verbose", action="store_true", help="make verbose")
    p.add_argument("--concise", dest="verbose", action="store_false", help="make less verbose")
    p.add_argument(
        "-f",
        "--format",
        choices=["json", "json-pretty", "xml", "xml-pretty", "plain", "yaml"],
        dest="output_format",
    )
    p.add_argument(
        "--connect-timeout",
        dest="cluster_timeout",
        type=int,
        help="set a timeout for connecting to the cluster",
    )
    p.add_argument("--block", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--period", "-p", default=1, type=float, help=argparse.SUPPRESS)
    return p


class _TimedOut(Exception):
    pass


def _run(func: Callable[..., Any], *args: Any, timeout: float | None = None, **kw: Any) -> Any:
    """Run a blocking call in a daemon thread, as ceph_argparse.run_in_thread does."""
    box: dict[str, Any] = {}

    def body() -> None:
        try:
            box["ret"] = func(*args, **kw)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            box["exc"] = e

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(timeout if timeout else 24 * 3600)
    if t.is_alive():
        raise _TimedOut("timed out")
    if "exc" in box:
        raise box["exc"]
    return box.get("ret")


def _send(cluster: Any, cmd: dict[str, Any], inbuf: bytes) -> tuple[int, bytes, str]:
    target = cmd.get("target")
    text = json.dumps(cmd)
    if isinstance(target, list | tuple) and target and target[0] in ("mon-mgr", "mgr"):
        return _run(cluster.mgr_command, text, inbuf, timeout=None)
    return _run(cluster.mon_command, text, inbuf, timeout=None)


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `ceph` with `argv` (default: sys.argv[1:]); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    ceph_args = os.environ.get("CEPH_ARGS")
    if ceph_args:
        args.extend(a for a in ceph_args.split() if "--admin-socket" not in a)
    parser = _parser()
    parsed, childargs = parser.parse_known_args(args)

    if parsed.version:
        print(VERSION_LINE)
        return 0
    if parsed.help:
        parser.print_help()
        return 0

    name = "client.admin"
    if parsed.client_id:
        name = "client." + parsed.client_id
    if parsed.client_name:
        name = parsed.client_name
    conffile = parsed.cephconf or ""
    conf: dict[str, str] = {}
    if parsed.keyring:
        conf["keyring"] = parsed.keyring
    if parsed.mon_host:
        conf["mon_host"] = parsed.mon_host

    rados = _rados()
    try:
        kwargs: dict[str, Any] = {"name": name, "conffile": conffile}
        if parsed.cluster:
            kwargs["clustername"] = parsed.cluster
        if conf:
            kwargs["conf"] = conf
        cluster = rados.Rados(**kwargs)
        parse_argv = getattr(cluster, "conf_parse_argv", None)
        if parse_argv is not None and childargs:
            rest = parse_argv(childargs)
            if rest is not None:
                childargs = list(rest)
    except rados.Error as e:
        _err(f"Error initializing cluster client: {e!r}")
        return 1

    if "--" in childargs:
        childargs.remove("--")

    try:
        result = _run(cluster.connect, timeout=parsed.cluster_timeout)
        if isinstance(result, tuple) and result and result[0] == -errno.EINTR:
            _err("Cluster connection interrupted or timed out")
            return 1
    except KeyboardInterrupt:
        _err("Cluster connection aborted")
        return 1
    except Exception as e:
        perm = getattr(rados, "PermissionDeniedError", None)
        _err(str(e))
        if perm is not None and isinstance(e, perm):
            return errno.EACCES
        return 1

    try:
        return _command(cluster, parsed, childargs)
    finally:
        try:
            cluster.shutdown()
        except Exception:
            pass


def _command(cluster: Any, parsed: argparse.Namespace, childargs: list[str]) -> int:
    inbuf = b""
    if parsed.input_file:
        try:
            if parsed.input_file == "-":
                inbuf = sys.stdin.buffer.read()
            else:
                with open(parsed.input_file, "rb") as f:
                    inbuf = f.read()
        except Exception as e:
            _err(f"Can't open input file {parsed.input_file}: {e}")
            return 1

    if parsed.status:
        childargs.insert(0, "status")

    if childargs and childargs[0] == "tell":
        if len(childargs) < 3:
            _err('"tell" requires additional arguments.\n'
                 'Try "ceph tell <name> <command> [options...]" instead.')  # fmt: skip
            return errno.EINVAL
        ret, outbuf, outs = _tell(cluster, parsed, childargs[1], childargs[2:], inbuf)
    elif len(childargs) > 2 and childargs[0] == "pg" and _is_pgid(childargs[1]):
        # upstream find_cmd_target: `ceph pg <pgid> ...` goes to the PG's primary OSD
        ret, outbuf, outs = _tell(cluster, parsed, childargs[1], childargs, inbuf)
    else:
        ret, outbuf, outs = _mon_or_mgr(cluster, parsed, childargs, inbuf)
    return _finish(parsed, ret, outbuf, outs)


def _map_and_send(
    send: Callable[[dict[str, Any], bytes], tuple[int, bytes, str]],
    parsed: argparse.Namespace,
    words: list[str],
    inbuf: bytes,
    who: str,
) -> tuple[int, bytes, str]:
    """Fetch `who`'s command descriptions through `send`, map `words`, send the command."""
    ret, outbuf, outs = send({"prefix": "get_command_descriptions"}, b"")
    if ret:
        if ret > 0:
            raise RuntimeError(f"Unexpected return code from {who}: {ret}")
        return ret, b"", f"problem getting command descriptions from {who}"
    try:
        cmd = argv_to_command(words, descs_from_json(outbuf.decode("utf-8")))
    except CommandNotValid as e:
        for line in e.details:
            _err(line)
        return -errno.EINVAL, b"", "invalid command"
    if parsed.output_format:
        cmd["format"] = parsed.output_format
    if parsed.verbose:
        _err(f"Submitting command:  {cmd}")
    return send(cmd, inbuf)


def _tell(
    cluster: Any, parsed: argparse.Namespace, target: str, words: list[str], inbuf: bytes
) -> tuple[int, bytes, str]:
    """`ceph tell TYPE.ID ...` (upstream ceph.in): the target's own command table."""
    kind, _, ident = target.partition(".")
    if _is_pgid(target):

        def send(cmd: dict[str, Any], buf: bytes) -> tuple[int, bytes, str]:
            # `pg <pgid> ...` carries the pgid already; `tell <pgid> ...` needs it added
            cmd = {**cmd, "pgid": target} if cmd["prefix"] != "get_command_descriptions" else cmd
            return _run(cluster.pg_command, target, json.dumps(cmd), buf, timeout=None)

    elif kind == "osd" and ident.isdigit():
        osd = int(ident)

        def send(cmd: dict[str, Any], buf: bytes) -> tuple[int, bytes, str]:
            return _run(cluster.osd_command, osd, json.dumps(cmd), buf, timeout=None)

    elif kind == "mon" and ident:

        def send(cmd: dict[str, Any], buf: bytes) -> tuple[int, bytes, str]:
            return _run(cluster.mon_command, json.dumps(cmd), buf, timeout=None, target=ident)

    elif kind == "mgr":

        def send(cmd: dict[str, Any], buf: bytes) -> tuple[int, bytes, str]:
            if ident:
                return _run(cluster.mgr_command, json.dumps(cmd), buf, timeout=None, target=ident)
            return _run(cluster.mgr_command, json.dumps(cmd), buf, timeout=None)

    else:
        return (-errno.EINVAL, b"", f"error handling command target: target {target} doesn't "
                "exist; please pass correct target to tell command (e.g., mon.a, osd.1, "
                "mds.a, mgr)")  # fmt: skip
    return _map_and_send(send, parsed, words, inbuf, target)


def _mon_or_mgr(
    cluster: Any, parsed: argparse.Namespace, childargs: list[str], inbuf: bytes
) -> tuple[int, bytes, str]:
    ret, outbuf, outs = _send(cluster, {"prefix": "get_command_descriptions"}, b"")
    if ret:
        if ret > 0:
            raise RuntimeError(f"Unexpected return code from mon.: {ret}")
        outs = "problem getting command descriptions from mon."
        outbuf = b""
    else:
        descs = descs_from_json(outbuf.decode("utf-8"))
        try:
            cmd = argv_to_command(childargs, descs)
        except CommandNotValid as e:
            for line in e.details:
                _err(line)
            ret, outbuf, outs = -errno.EINVAL, b"", "invalid command"
        else:
            if parsed.output_format:
                cmd["format"] = parsed.output_format
            if parsed.verbose:
                _err(f"Submitting command:  {cmd}")
            ret, outbuf, outs = _send(cluster, cmd, inbuf)
            if ret == errno.ETIMEDOUT:
                ret = -ret
                if not outs:
                    outs = (
                        "Connection timed out. Please check the client's permission and connection."
                    )
    return ret, outbuf, outs


def _finish(parsed: argparse.Namespace, ret: int, outbuf: bytes, outs: str) -> int:
    """Write the output buffer and status as ceph.in does; the exit code."""
    sys.stdout.flush()
    if parsed.output_file:
        if parsed.output_file == "-":
            sys.stdout.buffer.write(outbuf)
        else:
            # 0600: what -o writes is often a keyring (a secret)
            with open(
                os.open(parsed.output_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb"
            ) as f:
                f.write(outbuf)
    else:
        if parsed.output_format and parsed.output_format.startswith("json"):
            print()
        if outbuf:
            sys.stdout.flush()
            sys.stdout.buffer.write(outbuf)
    sys.stdout.flush()

    if ret < 0:
        ret = -ret
        _err(f"Error {errno.errorcode.get(ret, 'Unknown')}: {outs}")
        return ret
    if outs:
        _err(outs)
    return ret  # a positive code (a module's +errno) is the exit status too, as ceph.in


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
