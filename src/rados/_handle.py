"""`Rados`: the cluster handle (configuration, connection, pools, commands).

A handle moves through the states "configuring" → "connected" → "shutdown".
Connecting starts a `LoopThread` (event loop + finisher) and a `RadosClient` on
it; every blocking method submits a coroutine there and waits for it.

With `mon_host = embedded:[DIR]` connecting first starts (or joins) the process's
embedded cluster (`pyceph.embedded`); the handle's client then runs on that cluster's
shared loop thread, with a finisher of its own, and authenticates automatically.
"""

from __future__ import annotations

import errno
import json
import weakref
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from pyceph.client.loop_thread import LoopThread
from pyceph.common.config import CephConfig
from pyceph.common.errors import CephError
from rados._constants import (
    _DEFAULT_CONF_FILES,
    _NO_CONF_FILE,
    ANONYMOUS_AUID,
    MONITOR_LEVELS,
)
from rados._errors import (
    ConnectionShutdown,
    Error,
    LogicError,
    RadosStateError,
    from_exception,
    make_ex,
)
from rados._ioctx import Ioctx
from rados._util import (
    check_bytes,
    check_int,
    check_str,
    check_uint,
    cstr_list,
)

ENOENT = errno.ENOENT


def _default_client_factory(config: CephConfig) -> Any:
    from pyceph.client.rados_client import RadosClient
    from pyceph.common.runtime import real_runtime

    return RadosClient(real_runtime(), config)


#: Builds the async core for a handle; tests may replace it with a double.
client_factory: Callable[[CephConfig], Any] = _default_client_factory


class Version:
    """Version information (major, minor, extra)."""

    def __init__(self, major: int, minor: int, extra: int) -> None:
        self.major = major
        self.minor = minor
        self.extra = extra

    def __str__(self) -> str:
        return "%d.%d.%d" % (self.major, self.minor, self.extra)


def _check_opt(val: Any, name: str, *types: type) -> None:
    if val is None or isinstance(val, types):
        return
    names = " or ".join([t.__name__ for t in types] + ["None"])
    raise TypeError(f"{name} must be {names}")


def _shutdown_core(lt: LoopThread, client: Any, embedded: Any = None) -> None:
    """Stop a handle's client and threads (also used as its finalizer)."""
    try:
        if lt.running:
            try:
                lt.run(client.shutdown(), timeout=10)
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        lt.stop()
    finally:
        if embedded is not None:
            _release_embedded(embedded, client)


def _release_embedded(embedded: Any, client: Any) -> None:
    from pyceph.embedded import registry

    embedded.forget_client(client)
    registry.release(embedded)


def _start_core(config: CephConfig, name: str) -> tuple[LoopThread, Any, Any]:
    """A loop thread and a (not yet connected) client for `config`, and the embedded
    cluster it uses (None for a real one)."""
    from pyceph.embedded import registry

    target = registry.target_of(config)
    if target is None:
        lt = LoopThread(name).start()
        try:
            return lt, client_factory(config), None
        except BaseException:
            lt.stop()
            raise
    try:
        inst = registry.acquire(target, config)
    except CephError as e:
        raise make_ex(e.errno, f"error starting the embedded cluster: {e.message}") from None
    try:
        lt = LoopThread(name, host=registry.loop_thread()).start()
    except BaseException:
        registry.release(inst)
        raise
    try:
        # on the loop: the cluster's network and its monitor's state live there
        return lt, lt.run(_embedded_client(inst, config)), inst
    except BaseException:
        lt.stop()
        registry.release(inst)
        raise


async def _embedded_client(inst: Any, config: CephConfig) -> Any:
    return inst.new_client(config)


class Rados:
    """A handle on one cluster, as one entity (client.admin by default)."""

    def __init__(
        self,
        rados_id: str | None = None,
        name: str | None = None,
        clustername: str | None = None,
        conf_defaults: dict[str, str] | None = None,
        conffile: str | int | None = _NO_CONF_FILE,
        conf: dict[str, str] | None = None,
        flags: int = 0,
        context: object = None,
    ) -> None:
        self.monitor_callback: Any = None
        self.monitor_callback2: Any = None
        self.parsed_args: Any = []
        self.conf_defaults = conf_defaults
        self.conffile = conffile
        self.rados_id = rados_id
        self.state = "configuring"
        self._lt: LoopThread | None = None
        self._client: Any = None
        self._finalizer: Any = None
        self._embedded: Any = None

        _check_opt(rados_id, "rados_id", str)
        _check_opt(name, "name", str)
        _check_opt(clustername, "clustername", str)
        _check_opt(conffile, "conffile", str, int)
        check_int(flags, "flags")
        if rados_id and name:
            raise Error("Rados(): can't supply both rados_id and name")
        if rados_id:
            name = "client." + rados_id
        elif name is None:
            name = "client.admin"
        if clustername is None:
            clustername = ""
        if isinstance(context, CephConfig):
            self._config = context
        else:
            try:
                self._config = CephConfig(name=name, cluster=clustername)
            except (CephError, ValueError):
                raise Error("rados_initialize failed with error code: -22") from None

        # Order matters: defaults, then the file, then explicit values.
        if conf_defaults:
            for key, value in conf_defaults.items():
                self.conf_set(key, value)
        if conffile in (_NO_CONF_FILE, None):
            pass
        elif conffile in (_DEFAULT_CONF_FILES, ""):
            self.conf_read_file(None)
        else:
            self.conf_read_file(conffile)  # type: ignore[arg-type]
        if conf:
            for key, value in conf.items():
                self.conf_set(key, value)

    # -- internals ---------------------------------------------------------------
    def _loop_thread(self) -> LoopThread:
        lt = self._lt
        if lt is None or not lt.running:
            raise ConnectionShutdown("RADOS client is shut down", errno=errno.ESHUTDOWN)
        return lt

    def _run(self, coro: Coroutine[Any, Any, Any], msg: str) -> Any:
        """Run `coro` on the loop thread; core errors become rados exceptions."""
        lt = self._lt
        if lt is None or not lt.running:
            coro.close()
            raise ConnectionShutdown(msg, errno=errno.ESHUTDOWN)
        try:
            return lt.run(coro)
        except CephError as e:
            raise make_ex(e.errno, msg) from None
        except Exception as e:
            ex = from_exception(e, msg)
            if ex is e:
                raise
            raise ex from e

    def _osdmap(self) -> Any:
        if self._client is None:
            raise ConnectionShutdown("RADOS client is shut down", errno=errno.ESHUTDOWN)
        return self._client.osdmap

    def _lookup_pool(self, name: str) -> int:
        pid = int(self._osdmap().lookup_pool(name))
        if pid < 0:
            self._run(self._client.wait_for_latest_osdmap(), f"error looking up pool '{name}'")
            pid = int(self._osdmap().lookup_pool(name))
        return pid

    def _command(self, cmd: dict[str, Any], msg: str) -> tuple[int, bytes, str]:
        return self._run(self._client.mon_command(json.dumps(cmd), b""), msg)  # type: ignore[no-any-return]

    def _wait_latest(self, msg: str) -> None:
        self._run(self._client.wait_for_latest_osdmap(), msg)

    # -- state ---------------------------------------------------------------------
    def require_state(self, *args: str) -> None:
        """Raise RadosStateError unless the handle is in one of `args`."""
        if self.state in args:
            return
        raise RadosStateError(
            f"You cannot perform that operation on a Rados object in state {self.state}."
        )

    def shutdown(self) -> None:
        """Disconnect from the cluster and stop the handle's threads."""
        if self.state == "shutdown":
            return
        lt, client = self._lt, self._client
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if lt is not None:
            _shutdown_core(lt, client, self._embedded)
        self._lt = None
        self._embedded = None
        self.state = "shutdown"

    def __enter__(self) -> Rados:
        self.connect()
        return self

    def __exit__(self, type_: Any, value: Any, traceback: Any) -> bool:
        self.shutdown()
        return False

    def version(self) -> Version:
        """The librados version this module implements (3.0.0 for Ceph 16.2)."""
        return Version(3, 0, 0)

    # -- configuration ------------------------------------------------------------------
    def conf_read_file(self, path: str | None = None) -> None:
        """Read a ceph.conf (None: the default search path), then $CEPH_ARGS."""
        _check_opt(path, "path", str)
        self.require_state("configuring", "connected")
        try:
            self._config.read_file(path)
            self._config.parse_env("CEPH_ARGS")
        except CephError as e:
            raise make_ex(e.errno, "error calling conf_read_file") from None
        except ValueError:
            raise make_ex(errno.EINVAL, "error calling conf_read_file") from None

    def conf_parse_argv(self, args: Sequence[str]) -> list[str] | None:
        """Apply the Ceph options in `args`; returns the arguments not consumed."""
        self.require_state("configuring", "connected")
        if not args:
            return None
        cstr_list(args, "args")
        try:
            remaining = self._config.parse_argv(list(args), early=False)
        except CephError as e:
            raise make_ex(e.errno, "error calling conf_parse_argv_remainder") from None
        except ValueError:
            raise make_ex(errno.EINVAL, "error calling conf_parse_argv_remainder") from None
        self.parsed_args = args
        return list(remaining)

    def conf_parse_env(self, var: str | None = "CEPH_ARGS") -> None:
        """Apply the Ceph options in environment variable `var`."""
        self.require_state("configuring", "connected")
        if not var:
            return
        cstr_list([var], "var")
        try:
            self._config.parse_env(var)
        except CephError as e:
            raise make_ex(e.errno, "error calling conf_parse_env") from None
        except ValueError:
            raise make_ex(errno.EINVAL, "error calling conf_parse_env") from None

    def conf_get(self, option: str) -> str | None:
        """An option's value as a string, or None for an unknown option."""
        check_str(option, "option")
        self.require_state("configuring", "connected")
        try:
            return self._config.get_str(option)
        except KeyError:
            return None
        except CephError as e:
            if e.errno == ENOENT:
                return None
            raise make_ex(e.errno, "error calling conf_get") from None

    def conf_set(self, option: str, val: str) -> None:
        """Set an option (ObjectNotFound if unknown, InvalidArgumentError if invalid)."""
        check_str(option, "option")
        check_str(val, "val")
        self.require_state("configuring", "connected")
        try:
            self._config.set(option, val)
        except CephError as e:
            raise make_ex(e.errno, "error calling conf_set") from None
        except KeyError:
            raise make_ex(ENOENT, "error calling conf_set") from None
        except ValueError:
            raise make_ex(errno.EINVAL, "error calling conf_set") from None

    # -- connection -----------------------------------------------------------------------
    def connect(self, timeout: int = 0) -> None:
        """Authenticate to the monitors and fetch the cluster maps."""
        self.require_state("configuring")
        lt: LoopThread | None = None
        embedded = None
        try:
            lt, client, embedded = _start_core(self._config, "rados")
            lt.run(client.connect(timeout))
        except BaseException as e:
            if lt is not None:
                lt.stop()
            if embedded is not None:
                _release_embedded(embedded, client)
            if isinstance(e, CephError):
                raise make_ex(e.errno, "error connecting to the cluster") from None
            if isinstance(e, Exception):
                ex = from_exception(e, "error connecting to the cluster")
                if ex is not e:
                    raise ex from e
            raise
        self._lt = lt
        self._client = client
        self._embedded = embedded
        self._finalizer = weakref.finalize(self, _shutdown_core, lt, client, embedded)
        self.state = "connected"

    def ping_monitor(self, mon_id: str) -> str | None:
        """Ask monitor `mon_id` for its status (JSON text); works before connect too."""
        check_str(mon_id, "mon_id")
        self.require_state("configuring", "connected")
        msg = "error calling ping_monitor"
        if self.state == "connected":
            return self._ping(self._loop_thread(), self._client, mon_id, msg)
        try:
            lt, client, embedded = _start_core(self._config, "rados-ping")
        except CephError as e:
            raise make_ex(e.errno, msg) from None
        try:
            try:
                lt.run(client.connect(0))
            except CephError as e:
                raise make_ex(e.errno, msg) from None
            return self._ping(lt, client, mon_id, msg)
        finally:
            _shutdown_core(lt, client, embedded)

    @staticmethod
    def _ping(lt: LoopThread, client: Any, mon_id: str, msg: str) -> str | None:
        fn = getattr(client, "ping_monitor", None)
        try:
            if fn is not None:
                out = lt.run(fn(mon_id))
                return None if out is None else str(out)
            ret, out, _ = lt.run(
                client.mon_command(json.dumps({"prefix": "mon dump", "format": "json"}), b"")
            )
            if ret < 0:
                raise make_ex(ret, msg)
            names = {m.get("name") for m in json.loads(out or b"{}").get("mons", [])}
            if mon_id not in names:
                raise make_ex(-ENOENT, msg)
            result: dict[str, Any] = {}
            for key, prefix in (("health", "health"), ("mon_status", "mon_status")):
                r, o, _ = lt.run(
                    client.mon_command(
                        json.dumps({"prefix": prefix, "format": "json"}), b"", target=mon_id
                    )
                )
                if r == 0 and o:
                    result[key] = json.loads(o)
            return json.dumps(result)
        except CephError as e:
            raise make_ex(e.errno, msg) from None

    def get_addrs(self) -> str:
        """This client's messenger addresses, as upstream prints an address vector."""
        self.require_state("connected")
        fn = getattr(self._client, "get_addrs", None)
        if fn is not None:
            return str(fn())
        return f"0.0.0.0:0/{int(getattr(self._client, 'instance_id', 0))}"

    def get_instance_id(self) -> int:
        """This client's global id."""
        self.require_state("connected")
        return int(self._client.instance_id)

    def get_cluster_stats(self) -> dict[str, int]:
        """{'kb', 'kb_used', 'kb_avail', 'num_objects'} for the whole cluster."""
        self.require_state("connected")
        msg = f"Rados.get_cluster_stats({self.rados_id}): get_stats failed"
        return dict(self._run(self._client.get_cluster_stats(), msg))

    # -- pools -----------------------------------------------------------------------------------
    def pool_exists(self, pool_name: str) -> bool:
        """Whether the pool exists."""
        check_str(pool_name, "pool_name")
        self.require_state("connected")
        return self._lookup_pool(pool_name) >= 0

    def pool_lookup(self, pool_name: str) -> int | None:
        """The pool's id, or None."""
        check_str(pool_name, "pool_name")
        self.require_state("connected")
        pid = self._lookup_pool(pool_name)
        return pid if pid >= 0 else None

    def pool_reverse_lookup(self, pool_id: int) -> str | None:
        """The pool's name, or None."""
        self.require_state("connected")
        pool_id = check_int(pool_id, "pool_id")
        pool = self._osdmap().get_pool(pool_id)
        return None if pool is None else str(pool.pool_name)

    def create_pool(
        self, pool_name: str, crush_rule: int | None = None, auid: int | None = None
    ) -> None:
        """Create a replicated pool with default settings (and optionally a CRUSH rule)."""
        check_str(pool_name, "pool_name")
        self.require_state("connected")
        msg = f"error creating pool '{pool_name}'"
        if crush_rule is not None:
            crush_rule = check_uint(crush_rule, "crush_rule")
            if crush_rule > 255:
                raise OverflowError("value too large to convert to uint8_t")
        if auid is not None and check_uint(auid, "auid") != ANONYMOUS_AUID:
            raise make_ex(-errno.EINVAL, msg)
        if not pool_name:
            raise make_ex(-errno.EINVAL, msg)
        if self._osdmap().lookup_pool(pool_name) >= 0:
            raise make_ex(-errno.EEXIST, msg)
        cmd: dict[str, Any] = {"prefix": "osd pool create", "pool": pool_name}
        if crush_rule is not None:
            cmd["rule"] = self._crush_rule_name(crush_rule, msg)
        ret, _out, outs = self._command(cmd, msg)
        if ret < 0:
            raise make_ex(ret, msg)
        if "already exists" in outs:
            raise make_ex(-errno.EEXIST, msg)
        self._wait_latest(msg)

    def _crush_rule_name(self, rule_id: int, msg: str) -> str:
        ret, out, _ = self._command({"prefix": "osd crush rule dump", "format": "json"}, msg)
        if ret < 0:
            raise make_ex(ret, msg)
        for rule in json.loads(out or b"[]"):
            if int(rule.get("rule_id", -1)) == rule_id:
                return str(rule["rule_name"])
        raise make_ex(-ENOENT, msg)

    def get_pool_base_tier(self, pool_id: int) -> int:
        """The base pool of a cache tier, or `pool_id` itself."""
        self.require_state("connected")
        pool_id = check_int(pool_id, "pool_id")
        pool = self._osdmap().get_pool(pool_id)
        if pool is None:
            raise make_ex(-ENOENT, f"get_pool_base_tier({pool_id})")
        tier_of = int(getattr(pool, "tier_of", -1))
        return pool_id if tier_of < 0 else tier_of

    def delete_pool(self, pool_name: str) -> None:
        """Delete a pool and everything in it."""
        check_str(pool_name, "pool_name")
        self.require_state("connected")
        msg = f"error deleting pool '{pool_name}'"
        if self._osdmap().lookup_pool(pool_name) < 0:
            raise make_ex(-ENOENT, msg)
        ret, _out, _outs = self._command(
            {
                "prefix": "osd pool delete",
                "pool": pool_name,
                "pool2": pool_name,
                "yes_i_really_really_mean_it": True,
            },
            msg,
        )
        if ret < 0:
            raise make_ex(ret, msg)
        self._wait_latest(msg)

    def get_inconsistent_pgs(self, pool_id: int) -> list[str]:
        """Ids of the pool's PGs that scrub found inconsistent."""
        self.require_state("connected")
        pool_id = check_int(pool_id, "pool_id")
        msg = "error calling inconsistent_pg_list"
        cmd = {"prefix": "pg ls", "pool": pool_id, "states": ["inconsistent"], "format": "json"}
        ret, out, _ = self._run(self._client.mgr_command(json.dumps(cmd), b""), msg)
        if ret < 0:
            raise make_ex(ret, msg)
        if not out:
            return []
        doc = json.loads(out)
        rows = doc.get("pg_stats", []) if isinstance(doc, dict) else doc
        return [str(r["pgid"]) for r in rows]

    def list_pools(self) -> list[str]:
        """Names of all pools, in pool id order."""
        self.require_state("connected")
        pools = self._osdmap().pools
        return [str(pools[pid].pool_name) for pid in sorted(pools)]

    def get_fsid(self) -> str:
        """The cluster's fsid."""
        self.require_state("connected")
        return str(self._client.fsid)

    def open_ioctx(self, ioctx_name: str) -> Ioctx:
        """An I/O context on the named pool."""
        check_str(ioctx_name, "ioctx_name")
        self.require_state("connected")
        pid = self._lookup_pool(ioctx_name)
        if pid < 0:
            raise make_ex(-ENOENT, f"error opening pool '{ioctx_name}'")
        return Ioctx._open(self, ioctx_name, pid)

    def open_ioctx2(self, pool_id: int) -> Ioctx:
        """An I/O context on the pool with id `pool_id`."""
        self.require_state("connected")
        pool_id = check_int(pool_id, "pool_id")
        msg = f"error opening pool id '{pool_id}'"
        if self._osdmap().get_pool(pool_id) is None:
            self._wait_latest(msg)
            if self._osdmap().get_pool(pool_id) is None:
                raise make_ex(-ENOENT, msg)
        return Ioctx._open(self, str(pool_id), pool_id)

    # -- commands ---------------------------------------------------------------------------------
    def _cmd(self, coro: Coroutine[Any, Any, Any]) -> tuple[int, bytes, str]:
        lt = self._loop_thread()
        try:
            ret, out, outs = lt.run(coro)
        except CephError as e:
            return -e.errno, b"", e.message
        return int(ret), bytes(out), str(outs)

    def mon_command(
        self,
        cmd: str,
        inbuf: bytes,
        timeout: int = 0,
        target: str | int | None = None,
    ) -> tuple[int, bytes, str]:
        """Send a command to the monitors: (ret, outbuf, outs); ret is 0 or -errno."""
        check_str(cmd, "cmd")
        check_bytes(inbuf, "inbuf")
        self.require_state("connected")
        tgt: str | int | None = None
        if target is not None:
            if isinstance(target, int):
                tgt = target
            else:
                check_str(target, "target")
                tgt = int(target) if target.isdigit() else target
        return self._cmd(self._client.mon_command(cmd, inbuf, 0, tgt))

    def osd_command(
        self, osdid: int, cmd: str, inbuf: bytes, timeout: int = 0
    ) -> tuple[int, bytes, str]:
        """Send a command to osd.`osdid`: (ret, outbuf, outs)."""
        check_str(cmd, "cmd")
        check_bytes(inbuf, "inbuf")
        self.require_state("connected")
        osdid = check_int(osdid, "osdid")
        return self._cmd(self._client.osd_command(osdid, cmd, inbuf, 0))

    def mgr_command(
        self, cmd: str, inbuf: bytes, timeout: int = 0, target: str | None = None
    ) -> tuple[int, bytes, str]:
        """Send a command to the active mgr: (ret, outbuf, outs)."""
        check_str(cmd, "cmd")
        check_bytes(inbuf, "inbuf")
        self.require_state("connected")
        return self._cmd(self._client.mgr_command(cmd, inbuf, 0, target))

    def pg_command(
        self, pgid: str, cmd: str, inbuf: bytes, timeout: int = 0
    ) -> tuple[int, bytes, str]:
        """Send a command to the primary OSD of PG `pgid`: (ret, outbuf, outs)."""
        check_str(pgid, "pgid")
        check_str(cmd, "cmd")
        check_bytes(inbuf, "inbuf")
        self.require_state("connected")
        fn = getattr(self._client, "pg_command", None)
        if fn is not None:
            return self._cmd(fn(pgid, cmd, inbuf, 0))
        pool_s, dot, ps_s = pgid.partition(".")
        try:
            pool_id, ps = int(pool_s), int(ps_s, 16)
        except ValueError:
            return -errno.EINVAL, b"", ""
        osdmap = self._osdmap()
        if not dot or osdmap.get_pool(pool_id) is None:
            return -ENOENT, b"", ""
        _up, _upp, _acting, primary = osdmap.pg_to_up_acting_osds(pool_id, ps)
        if primary < 0:
            return -errno.EAGAIN, b"", ""
        return self._cmd(self._client.osd_command(primary, cmd, inbuf, 0))

    def wait_for_latest_osdmap(self) -> int:
        """Wait until this client has the monitors' latest OSDMap; returns 0 or -errno."""
        self.require_state("connected")
        try:
            self._loop_thread().run(self._client.wait_for_latest_osdmap())
        except CephError as e:
            return -e.errno
        return 0

    def blocklist_add(self, client_address: str, expire_seconds: int = 0) -> None:
        """Blocklist a client address from the OSDs for `expire_seconds` (0: default)."""
        check_str(client_address, "client_address")
        self.require_state("connected")
        expire = check_uint(expire_seconds, "expire_seconds")
        msg = f"error blocklisting client '{client_address}'"
        addr = client_address
        for t in ("v1:", "v2:", "any:"):  # as get_addrs() prints it; entries are TYPE_ANY
            if addr.startswith(t):
                addr = addr[len(t) :]
        cmd: dict[str, Any] = {
            "prefix": "osd blocklist",
            "blocklistop": "add",
            "addr": addr,
        }
        if expire:
            cmd["expire"] = float(expire)
        ret, _out, _outs = self._command(cmd, msg)
        if ret < 0:
            raise make_ex(ret, msg)
        self._wait_latest(msg)

    # -- cluster log & service daemons ---------------------------------------------------------
    def _monitor_log(self, level: str, callback: Any, arg: Any, v2: bool) -> None:
        check_str(level, "level")
        if level not in MONITOR_LEVELS:
            raise LogicError("invalid monitor level " + level)
        if callback is not None and not callable(callback):
            raise LogicError("callback must be a callable function or None")
        self.require_state("connected")
        fn = getattr(self._client, "monitor_log", None)
        if fn is None:
            raise make_ex(-errno.EOPNOTSUPP, "error calling rados_monitor_log")
        lt = self._loop_thread()
        if callback is None:
            self._run(fn(level, None), "error calling rados_monitor_log")
            self.monitor_callback = None
            self.monitor_callback2 = None
            return

        def deliver(e: dict[str, Any]) -> None:
            stamp = float(e.get("stamp", 0.0))
            sec, nsec = int(stamp), int((stamp - int(stamp)) * 1e9)
            who, name = str(e.get("who", "")), str(e.get("name", e.get("who", "")))
            seq, prio, text = int(e.get("seq", 0)), str(e.get("prio", "")), str(e.get("msg", ""))
            line = str(e.get("line", f"{stamp} {who} ({prio}) {seq} : {text}"))
            if v2:
                channel = str(e.get("channel", "cluster"))
                lt.finish(
                    lambda: callback(arg, line, channel, name, who, sec, nsec, seq, prio, text)
                )
            else:
                lt.finish(lambda: callback(arg, line, who, sec, nsec, seq, prio, text))

        self._run(fn(level, deliver), "error calling rados_monitor_log")
        if v2:
            self.monitor_callback, self.monitor_callback2 = None, (callback, arg)
        else:
            self.monitor_callback, self.monitor_callback2 = (callback, arg), None

    def monitor_log(
        self,
        level: str,
        callback: Callable[[object, str, str, str, int, int, int, str, str], None] | None = None,
        arg: object | None = None,
    ) -> None:
        """Deliver cluster log entries at `level` or above to `callback` (None stops)."""
        self._monitor_log(level, callback, arg, False)

    def monitor_log2(
        self,
        level: str,
        callback: Callable[[object, str, str, str, str, int, int, int, str, str], None]
        | None = None,
        arg: object | None = None,
    ) -> None:
        """Like monitor_log, with the channel and the entity name."""
        self._monitor_log(level, callback, arg, True)

    def service_daemon_register(self, service: str, daemon: str, metadata: dict[str, str]) -> None:
        """Register this client as daemon `daemon` of service `service` in the service map."""
        check_str(service, "service")
        check_str(daemon, "daemon")
        if not isinstance(metadata, dict):
            raise TypeError("metadata must be dict")
        self.require_state("connected")
        msg = "error calling service_register()"
        fn = getattr(self._client, "service_daemon_register", None)
        if fn is None:
            raise make_ex(-errno.EOPNOTSUPP, msg)
        self._run(fn(service, daemon, dict(metadata)), msg)

    def service_daemon_update(self, status: dict[str, str]) -> None:
        """Update this service daemon's status in the service map."""
        if not isinstance(status, dict):
            raise TypeError("metadata must be dict")
        self.require_state("connected")
        msg = "error calling service_daemon_update()"
        fn = getattr(self._client, "service_daemon_update", None)
        if fn is None:
            raise make_ex(-errno.EOPNOTSUPP, msg)
        self._run(fn(dict(status)), msg)


class MonitorLog:
    """Watches cluster log messages by calling `cluster.monitor_log` (kept for compatibility)."""

    def __init__(self, cluster: Rados, level: str, callback: Any, arg: Any) -> None:
        self.level = level
        self.callback = callback
        self.arg = arg
        self.cluster = cluster
        self.cluster.monitor_log(level, callback, arg)
