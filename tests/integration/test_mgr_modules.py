"""The mgr module host with real daemons: a module written against upstream's
`mgr_module` API, in the test's own folder (`mgr_module_path`), enabled with
`ceph mgr module enable`, its commands run through `ceph` (mon -> active mgr),
its options and KV store persisted by the monitor, failures reported as upstream
does while the daemon keeps serving, then disabled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.waiting import wait_until

#: How long the mgr may take to load, start or stop a module (beacon period 2 s).
MODULE_WAIT = 30.0

HELLO = textwrap.dedent(
    '''
    import errno
    import threading
    from enum import Enum
    from typing import List, Optional, Tuple

    from mgr_module import (CLIReadCommand, CLIWriteCommand, CommandResult,
                            HandleCommandResult, MgrModule, NotifyType, Option)


    class Mood(Enum):
        happy = "happy"
        grumpy = "grumpy"


    class Hello(MgrModule):
        """Says hello; stores greetings; fails on demand."""

        MODULE_OPTIONS = [
            Option(name="place", type="str", default="world", desc="who to greet"),
            Option(name="count", type="int", default=1, min=1, max=5),
            Option(name="mood", type="str", default="happy", enum_allowed=["happy", "grumpy"]),
            {"name": "plain", "default": 7},
        ]
        NOTIFY_TYPES = [NotifyType.osd_map, NotifyType.command]

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.event = threading.Event()
            self.notified = 0
            self.fail_serve = False
            self.fail_notify = False
            self.tags = []
            self.tags_seen = threading.Event()

        @CLIReadCommand("hello greet")
        def greet(self, person_name: Optional[str] = None,
                  mood: Optional[Mood] = None) -> HandleCommandResult:
            """Say hello"""
            who = person_name or self.get_module_option("place")
            n = self.get_module_option("count")
            return HandleCommandResult(stdout=" ".join([f"hello {who}"] * n),
                                       stderr=mood.value if mood else "")

        @CLIReadCommand("hello options")
        def options(self) -> Tuple[int, str, str]:
            vals = {o["name"]: self.get_module_option(o["name"]) for o in self.MODULE_OPTIONS}
            vals["localized"] = self.get_localized_module_option("place")
            return 0, json_dumps(vals), ""

        @CLIWriteCommand("hello set")
        def set_option(self, key: str, value: str) -> Tuple[int, str, str]:
            self.set_module_option(key, None if value == "-" else value)
            return 0, "", ""

        @CLIWriteCommand("hello store")
        def store(self, key: str, value: Optional[str] = None) -> Tuple[int, str, str]:
            self.set_store(key, value)
            return 0, json_dumps(self.get_store_prefix("")), ""

        @CLIReadCommand("hello get")
        def get_data(self, name: str) -> Tuple[int, str, str]:
            return 0, json_dumps(self.get(name)), ""

        @CLIReadCommand("hello getall")
        def get_all(self, names: List[str]) -> Tuple[int, str, str]:
            return 0, json_dumps({n: self.get(n) for n in names}), ""

        @CLIReadCommand("hello sum")
        def add(self, nums: List[int]) -> Tuple[int, str, str]:
            return 0, str(sum(nums)), ""

        @CLIReadCommand("hello mon")
        def mon(self) -> Tuple[int, str, str]:
            r, out, err = self.mon_command({"prefix": "osd pool ls", "format": "json"})
            return r, out, err

        @CLIWriteCommand("hello crash")
        def crash(self, where: str) -> Tuple[int, str, str]:
            if where == "serve":
                self.fail_serve = True
                self.event.set()
                return 0, "", ""
            if where == "notify":
                self.fail_notify = True
                return 0, "", ""
            raise ValueError("boom in handle_command")

        @CLIReadCommand("hello rados")
        def pools(self) -> Tuple[int, str, str]:
            return 0, json_dumps(sorted(self.rados.list_pools())), ""

        @CLIReadCommand("hello remote")
        def call_remote(self, module: str, method: str) -> Tuple[int, str, str]:
            try:
                return 0, json_dumps(self.remote(module, method)), ""
            except Exception as e:
                return 0, f"{type(e).__name__}: {e}", ""

        def ping(self):
            return "pong"

        @CLIWriteCommand("hello clog")
        def clog(self, text: str) -> Tuple[int, str, str]:
            self.cluster_log("cluster", self.ClusterLogPrio.WARN, text)
            return 0, "", ""

        @CLIReadCommand("hello osdversion")
        def osd_version(self) -> Tuple[int, str, str]:
            result = CommandResult("tag-1")
            self.send_command(result, "osd", "0", json_dumps({"prefix": "version"}), "tag-1")
            r, outb, outs = result.wait()
            self.tags_seen.wait(30)
            return r, outb, str(self.tags)

        @CLIReadCommand("hello notified")
        def count_notified(self) -> Tuple[int, str, str]:
            return 0, str(self.notified), ""

        @CLIWriteCommand("hello health")
        def health(self, on: bool = False) -> Tuple[int, str, str]:
            checks = {}
            if on:
                checks["HELLO_WARN"] = {"severity": "warning", "summary": "hello is worried",
                                        "count": 1, "detail": ["a detail"]}
            self.set_health_checks(checks)
            return 0, "", ""

        def notify(self, notify_type, notify_id):
            if notify_type == NotifyType.command:
                self.tags.append(notify_id)
                self.tags_seen.set()
                return
            if self.fail_notify:
                raise RuntimeError("boom in notify")
            self.notified += 1

        def serve(self):
            while not self.event.wait(60):
                pass
            if self.fail_serve:
                raise RuntimeError("boom in serve")

        def shutdown(self):
            self.event.set()


    def json_dumps(obj):
        import json
        return json.dumps(obj, sort_keys=True)
    '''
)


def _write_module(folder: str) -> None:
    os.makedirs(os.path.join(folder, "hello"))
    with open(os.path.join(folder, "hello", "__init__.py"), "w") as f:
        f.write("from .module import Hello\n")
    with open(os.path.join(folder, "hello", "module.py"), "w") as f:
        f.write(HELLO)
    os.makedirs(os.path.join(folder, "cannot"))
    with open(os.path.join(folder, "cannot", "__init__.py"), "w") as f:
        f.write("from .module import Module\n")
    with open(os.path.join(folder, "cannot", "module.py"), "w") as f:
        f.write(
            "from mgr_module import MgrModule\n"
            "class Module(MgrModule):\n"
            "    @staticmethod\n"
            "    def can_run():\n"
            "        return False, 'needs a unicorn'\n"
        )


@pytest.fixture(scope="module")
def mcluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.conftest import make_cluster  # noqa: PLC0415 - shared fixture helper

    tmp = tmp_path_factory.mktemp("mgrmod")
    folder = str(tmp / "modules")
    _write_module(folder)
    # no module enabled at creation: the tests here enable the ones they use
    cluster = make_cluster(
        str(tmp / "c"), num_osds=1, mgr_module_path=folder, mgr_initial_modules=""
    )
    try:
        yield cluster
    finally:
        cluster.stop()


def _ceph(conf: str, *args: str, inbuf: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pyceph.cli.ceph_main", "-c", conf, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, input=inbuf)


def _wait(pred: Callable[[], Any], what: str, timeout: float = MODULE_WAIT) -> Any:
    return wait_until(pred, what, timeout)


def _module_ls(conf: str) -> dict[str, Any]:
    p = _ceph(conf, "mgr", "module", "ls", "-f", "json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _greet_works(conf: str) -> bool:
    return _ceph(conf, "hello", "greet").returncode == 0


@pytest.fixture(scope="module")
def enabled(mcluster: Any) -> str:
    conf = mcluster.conf_path
    names = lambda: {m["name"] for m in _module_ls(conf)["disabled_modules"]}  # noqa: E731
    _wait(lambda: "hello" in names(), "the mgr to report its modules")
    p = _ceph(conf, "mgr", "module", "enable", "hello")
    assert p.returncode == 0, p.stderr
    _wait(lambda: _greet_works(conf), "hello to start")
    return conf


def test_module_ls_upstream_shape(mcluster: Any) -> None:
    conf = mcluster.conf_path
    _wait(lambda: _module_ls(conf)["disabled_modules"], "available modules")
    ls = _module_ls(conf)
    assert set(ls) == {"always_on_modules", "enabled_modules", "disabled_modules"}
    by_name = {m["name"]: m for m in ls["disabled_modules"]}
    cannot = by_name["cannot"]
    assert cannot == {**cannot, "can_run": False, "error_string": "needs a unicorn"}
    opts = by_name["iostat"]["module_options"]
    assert set(opts) >= {"log_level", "log_to_cluster", "log_to_cluster_level", "log_to_file"}
    assert opts["log_to_file"]["default_value"] == "False"
    assert opts["log_to_file"]["type"] == "bool"


def test_enable_errors(mcluster: Any) -> None:
    conf = mcluster.conf_path
    _wait(lambda: _module_ls(conf)["disabled_modules"], "available modules")
    p = _ceph(conf, "mgr", "module", "enable", "nosuchmodule")
    assert p.returncode == 2
    assert "all mgr daemons do not support module 'nosuchmodule', pass --force" in p.stderr
    p = _ceph(conf, "mgr", "module", "enable", "cannot")
    assert p.returncode == 2
    assert (
        "module 'cannot' reports that it cannot run on the active manager daemon: "
        "needs a unicorn (pass --force to force enablement)" in p.stderr
    )
    p = _ceph(conf, "mgr", "module", "disable", "balancer")
    assert p.returncode == 22
    assert "module 'balancer' cannot be disabled (always-on)" in p.stderr
    # forced on anyway: upstream's MGR_MODULE_DEPENDENCY, gone once disabled
    assert _ceph(conf, "mgr", "module", "enable", "cannot", "--force").returncode == 0

    def checks() -> dict[str, Any]:
        return json.loads(_ceph(conf, "health", "detail", "-f", "json").stdout)["checks"]

    c = _wait(lambda: checks().get("MGR_MODULE_DEPENDENCY"), "MGR_MODULE_DEPENDENCY")
    assert c["severity"] == "HEALTH_WARN"
    assert c["summary"]["message"] == "Module 'cannot' has failed dependency: needs a unicorn"
    assert _ceph(conf, "mgr", "module", "disable", "cannot").returncode == 0
    _wait(lambda: "MGR_MODULE_DEPENDENCY" not in checks(), "the check to clear")


def test_new_cluster_enables_its_initial_modules(cluster_conf: str) -> None:
    """`pyceph up` sets mgr_initial_modules to the upstream default's modules that run."""
    enabled = _module_ls(cluster_conf)["enabled_modules"]
    assert "iostat" in enabled
    assert not {"nfs", "restful"} & set(enabled)
    assert _ceph(cluster_conf, "iostat", "--print-header").returncode == 0


def test_command_before_enable_and_commands_listed(mcluster: Any) -> None:
    conf = mcluster.conf_path
    _wait(lambda: _module_ls(conf)["disabled_modules"], "available modules")
    p = _ceph(conf, "iostat")
    assert p.returncode == 95
    assert "Module 'iostat' is not enabled/loaded (required by command 'iostat')" in p.stderr


def test_command_roundtrip(enabled: str) -> None:
    conf = enabled
    p = _ceph(conf, "hello", "greet")
    assert (p.returncode, p.stdout.strip()) == (0, "hello world")
    p = _ceph(conf, "hello", "greet", "bob", "grumpy")
    assert (p.returncode, p.stdout.strip(), p.stderr.strip()) == (0, "hello bob", "grumpy")
    p = _ceph(conf, "hello", "sum", "1", "2", "3")
    assert (p.returncode, p.stdout.strip()) == (0, "6")
    p = _ceph(conf, "hello", "greet", "bob", "sad")
    assert p.returncode == 22
    assert "hello" in _module_ls(conf)["enabled_modules"]
    p = _ceph(conf, "hello", "mon")
    assert p.returncode == 0 and json.loads(p.stdout) == json.loads(
        _ceph(conf, "osd", "pool", "ls", "-f", "json").stdout
    )


def test_options(enabled: str) -> None:
    conf = enabled

    def opts() -> dict[str, Any]:
        p = _ceph(conf, "hello", "options")
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    o = opts()
    assert (o["place"], o["count"], o["mood"], o["plain"], o["log_to_file"]) == ("world", 1, "happy", "7", False)  # fmt: skip
    assert _ceph(conf, "hello", "set", "count", "3").returncode == 0
    assert opts()["count"] == 3
    # written through the config database: the monitor has it
    p = _ceph(conf, "config", "get", "mgr", "mgr/hello/count")
    assert p.stdout.strip() == "3"
    # out of bounds: the monitor refuses with upstream's error, nothing changes
    p = _ceph(conf, "config", "set", "mgr", "mgr/hello/count", "9")
    assert (p.returncode, p.stderr.strip()) == (22, "Error EINVAL: error parsing value: Value '9' exceeds maximum 5")  # fmt: skip
    p = _ceph(conf, "config", "set", "mgr", "mgr/hello/mood", "sad")
    assert p.returncode == 22 and "'sad' is not one of the permitted values: grumpy, happy" in p.stderr  # fmt: skip
    assert _ceph(conf, "hello", "set", "count", "9").returncode == 0  # set_module_option: logged
    assert opts()["count"] == 3
    # `ceph config set mgr mgr/<module>/<opt>` reaches the module
    assert _ceph(conf, "config", "set", "mgr", "mgr/hello/place", "mars").returncode == 0
    _wait(lambda: opts()["place"] == "mars", "the module to see the new option")
    assert _ceph(conf, "config", "set", "mgr", "mgr/hello/x/place", "venus").returncode == 0
    _wait(lambda: opts()["localized"] == "venus", "the localized option")
    # None resets to the default
    assert _ceph(conf, "hello", "set", "count", "-").returncode == 0
    assert opts()["count"] == 1


def test_kv_store(enabled: str) -> None:
    conf = enabled
    p = _ceph(conf, "hello", "store", "k1", "v1")
    assert p.returncode == 0 and json.loads(p.stdout)["k1"] == "v1"
    p = _ceph(conf, "config-key", "get", "mgr/hello/k1")
    assert p.stdout == "v1"
    p = _ceph(conf, "hello", "store", "k1")
    assert p.returncode == 0 and "k1" not in json.loads(p.stdout)
    assert _ceph(conf, "config-key", "exists", "mgr/hello/k1").returncode == 2


def test_get_keys(enabled: str) -> None:
    conf = enabled
    osd_map = json.loads(_ceph(conf, "hello", "get", "osd_map").stdout)
    assert osd_map["fsid"] and osd_map["osds"][0]["osd"] == 0
    health = json.loads(_ceph(conf, "hello", "get", "health").stdout)
    assert json.loads(health["json"])["status"].startswith("HEALTH_")
    assert json.loads(_ceph(conf, "hello", "get", "__OBJ_DNE__").stdout) is None
    summ = json.loads(_ceph(conf, "hello", "get", "pg_summary").stdout)
    assert set(summ) == {"by_osd", "by_pool", "all", "pg_stats_sum"}
    # every name upstream serves answers (32, with `device <id>`)
    from pyceph.mgr.modules.clusterstate import ALL_KEYS

    names = sorted(ALL_KEYS) + ["device foo"]
    p = _ceph(conf, "hello", "getall", *names)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert [n for n in names if got.get(n) is None] == []
    assert got["osd_map_tree"]["nodes"] and got["mon_map"]["mons"]
    assert got["mgr_map"]["active_name"] and got["df"]["stats"]["total_bytes"] > 0
    assert got["osd_metadata"]["0"]["hostname"]
    assert "hello" in got["mgr_map"]["modules"]


def test_notify_and_health(enabled: str) -> None:
    conf = enabled
    before = int(_ceph(conf, "hello", "notified").stdout)
    assert _ceph(conf, "osd", "set", "noout").returncode == 0
    assert _ceph(conf, "osd", "unset", "noout").returncode == 0
    _wait(lambda: int(_ceph(conf, "hello", "notified").stdout) > before, "an osd_map notify")
    assert _ceph(conf, "hello", "health", "--on").returncode == 0

    def checks() -> dict[str, Any]:
        return json.loads(_ceph(conf, "health", "detail", "-f", "json").stdout)["checks"]

    c = _wait(lambda: checks().get("HELLO_WARN"), "the module's health check")
    assert c["summary"]["message"] == "hello is worried"
    assert c["detail"] == [{"message": "a detail"}]
    assert _ceph(conf, "hello", "health").returncode == 0
    _wait(lambda: "HELLO_WARN" not in checks(), "the check to clear")


def test_failures_keep_the_host_running(enabled: str) -> None:
    conf = enabled
    p = _ceph(conf, "hello", "crash", "command")
    assert p.returncode == 22
    assert "ValueError: boom in handle_command" in p.stderr
    assert _greet_works(conf)
    # notify raising: logged, the module goes on
    assert _ceph(conf, "hello", "crash", "notify").returncode == 0
    assert _ceph(conf, "osd", "set", "noout").returncode == 0
    assert _ceph(conf, "osd", "unset", "noout").returncode == 0
    assert _greet_works(conf)
    # serve raising: MGR_MODULE_ERROR, commands refused with EIO, other commands work
    assert _ceph(conf, "hello", "crash", "serve").returncode == 0

    def checks() -> dict[str, Any]:
        return json.loads(_ceph(conf, "health", "detail", "-f", "json").stdout)["checks"]

    c = _wait(lambda: checks().get("MGR_MODULE_ERROR"), "MGR_MODULE_ERROR")
    assert c["severity"] == "HEALTH_ERR"
    assert c["summary"]["message"] == "Module 'hello' has failed: boom in serve"
    p = _ceph(conf, "hello", "greet")
    assert p.returncode == 5
    assert "Module 'hello' has experienced an error and cannot handle commands: boom in serve" in p.stderr  # fmt: skip
    assert _ceph(conf, "pg", "stat").returncode == 0
    # disable: the failed module goes away with its health check; enable starts it afresh
    assert _ceph(conf, "mgr", "module", "disable", "hello").returncode == 0
    _wait(lambda: "MGR_MODULE_ERROR" not in checks(), "the error to clear")
    p = _ceph(conf, "hello", "greet")
    assert p.returncode == 95
    assert _ceph(conf, "mgr", "module", "enable", "hello").returncode == 0
    _wait(lambda: _greet_works(conf), "hello to start again")


def test_caller_mgr_caps_checked(enabled: str, tmp_path: Any) -> None:
    conf = enabled
    for name, caps in (("ro", ["mgr", "allow r"]), ("nomgr", [])):
        p = _ceph(conf, "auth", "get-or-create", f"client.{name}", "mon", "allow r", *caps)
        assert p.returncode == 0, p.stderr
        (tmp_path / f"{name}.keyring").write_text(p.stdout)

    def as_(name: str, *args: str) -> subprocess.CompletedProcess[str]:
        keyring = str(tmp_path / f"{name}.keyring")
        return _ceph(conf, "--name", f"client.{name}", "--keyring", keyring, *args)

    assert as_("ro", "hello", "greet").returncode == 0
    p = as_("ro", "hello", "set", "count", "2")
    assert p.returncode == 13 and "access denied" in p.stderr
    p = as_("nomgr", "hello", "greet")
    assert p.returncode == 13 and "access denied" in p.stderr


def test_rados_remote_and_descriptions(enabled: str) -> None:
    import rados

    conf = enabled
    p = _ceph(conf, "hello", "rados")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == sorted(json.loads(_ceph(conf, "osd", "pool", "ls", "-f", "json").stdout))  # fmt: skip
    assert _ceph(conf, "hello", "remote", "hello", "ping").stdout == '"pong"'
    assert _ceph(conf, "hello", "remote", "hello", "nope").stdout == "NameError: Method not found"
    assert (
        _ceph(conf, "hello", "remote", "iostat", "rates").stdout == "ImportError: Module not found"
    )
    r = rados.Rados(conffile=conf)
    r.connect(timeout=30)
    try:
        ret, out, _ = r.mon_command(json.dumps({"prefix": "get_command_descriptions"}), b"")
    finally:
        r.shutdown()
    assert ret == 0
    descs = json.loads(out).values()
    greet = next(d for d in descs if d["sig"][:2] == ["hello", "greet"])
    assert greet["perm"] == "r" and greet["help"] == "Say hello"
    assert greet["flags"] & 8  # FLAG_MGR: the CLI sends it on to the active mgr


def test_builtin_iostat(mcluster: Any) -> None:
    conf = mcluster.conf_path
    _wait(lambda: _module_ls(conf)["disabled_modules"], "available modules")
    assert _ceph(conf, "mgr", "module", "enable", "iostat").returncode == 0
    try:
        p = _wait(lambda: (q := _ceph(conf, "iostat", "--print-header")).returncode == 0 and q, "iostat")  # fmt: skip
        lines = p.stdout.splitlines()
        assert len(lines) == 4
        assert [c.strip() for c in lines[1].strip("|").split("|")] == [
            "Read", "Write", "Total", "Read IOPS", "Write IOPS", "Total IOPS"
        ]  # fmt: skip
        assert lines[0] == lines[2] and set(lines[0]) == {"+", "-"} and len(lines[0]) == 79
        assert lines[3].count("|") == 7 and lines[3].count("B/s") == 3
        assert p.stdout.endswith("|")
    finally:
        assert _ceph(conf, "mgr", "module", "disable", "iostat").returncode == 0


def test_cluster_log(enabled: str) -> None:
    conf = enabled
    assert _ceph(conf, "hello", "clog", "note from hello").returncode == 0

    def logged() -> bool:
        p = _ceph(conf, "log", "last", "20", "-f", "json")
        return any(e.get("message") == "note from hello" for e in json.loads(p.stdout or "[]"))

    _wait(logged, "the cluster log entry")


def test_send_command_to_osd(enabled: str) -> None:
    conf = enabled
    p = _ceph(conf, "hello", "osdversion")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["version"] == json.loads(_ceph(conf, "tell", "osd.0", "version").stdout)["version"]  # fmt: skip
    assert p.stderr.strip() == "['tag-1']"
