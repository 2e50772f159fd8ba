"""Active and standby managers with real daemons.

Three `pyceph-mgr`s: the first is active, the others standby (`mgr dump` lists
them with gid, name and available modules). A module of the test's own folder
(`mgr_module_path`) publishes a URI (`mgr services`) and answers a command; its
MgrStandbyModule class runs on the standbys and writes what it sees (the active
URI, a module option, a store key) to a file the test reads. Then the active mgr
is killed with SIGKILL (beacon grace shortened) and later failed with `ceph mgr
fail`: each time a standby becomes active within a bound, the module serves its
command again from the new active, and `ceph -s` names the new active.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.waiting import wait_until

#: `mon_mgr_beacon_grace` of the test cluster (upstream's default is 30 s).
BEACON_GRACE = 4
#: `mgr_tick_period` (the beacon period) of the test cluster: a mgr is failed only after
#: several beacons in a row went missing, not one late beacon on a loaded machine.
BEACON_PERIOD = 1
#: Bound on a failover: grace + a mon tick + the new active's beacon and module start.
FAILOVER_WAIT = BEACON_GRACE + 20.0
#: How long mgrs may take to join, load modules, start them.
MGR_WAIT = 30.0
MODULE = "failtest"

SOURCE = textwrap.dedent(
    '''
    import json
    import os
    import threading

    from mgr_module import CLIReadCommand, MgrModule, MgrStandbyModule, Option

    HERE = os.path.dirname(os.path.abspath(__file__))


    class Module(MgrModule):
        MODULE_OPTIONS = [Option(name="greeting", type="str", default="hi")]

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.stop = threading.Event()

        @CLIReadCommand("failtest whoami")
        def whoami(self):
            """Which mgr answers"""
            return 0, json.dumps({"mgr": self.get_mgr_id(),
                                  "greeting": self.get_module_option("greeting")}), ""

        @CLIReadCommand("failtest put")
        def put(self, value: str):
            """Store a value"""
            self.set_store("k", value)
            return 0, "", ""

        def serve(self):
            self.set_uri(f"http://{self.get_mgr_id()}.example:9999/")
            self.stop.wait()

        def shutdown(self):
            self.stop.set()


    class StandbyModule(MgrStandbyModule):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.stop = threading.Event()

        def serve(self):
            path = os.path.join(HERE, f"standby-{self.get_mgr_id()}.json")
            while not self.stop.is_set():
                seen = {"active_uri": self.get_active_uri(),
                        "greeting": self.get_module_option("greeting"),
                        "store": self.get_store("k")}
                with open(path + ".tmp", "w") as f:
                    json.dump(seen, f)
                os.replace(path + ".tmp", path)
                self.stop.wait(0.2)

        def shutdown(self):
            self.stop.set()
    '''
)


@pytest.fixture(scope="module")
def ha(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """A cluster with mgr.x active and mgr.y, mgr.z standby; the module folder."""
    from tests.conftest import make_cluster  # noqa: PLC0415 - shared fixture helper

    tmp = tmp_path_factory.mktemp("mgrha")
    folder = str(tmp / "modules")
    os.makedirs(os.path.join(folder, MODULE))
    with open(os.path.join(folder, MODULE, "module.py"), "w") as f:
        f.write(SOURCE)
    with open(os.path.join(folder, MODULE, "__init__.py"), "w") as f:
        f.write("from .module import Module, StandbyModule  # noqa: F401\n")
    cluster = make_cluster(
        str(tmp / "c"),
        num_osds=1,
        mgr_module_path=folder,
        mon_mgr_beacon_grace=str(BEACON_GRACE),
        mgr_tick_period=str(BEACON_PERIOD),
    )
    try:
        cluster.add_mgrs(2)
        yield cluster, folder
    finally:
        cluster.stop()


def _ceph(conf: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pyceph.cli.ceph_main", "-c", conf, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def _json(conf: str, *args: str) -> Any:
    p = _ceph(conf, *args, "-f", "json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _wait(pred: Callable[[], Any], what: str, timeout: float) -> Any:
    return wait_until(pred, what, timeout)


def _whoami(conf: str) -> str | None:
    p = _ceph(conf, "failtest", "whoami")
    return json.loads(p.stdout)["mgr"] if p.returncode == 0 else None


def _standby_view(folder: str, mgr: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(folder, MODULE, f"standby-{mgr}.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _all_standing(conf: str) -> dict[str, Any] | None:
    """The MgrMap once an active and two standbys that loaded their modules are in it."""
    mm = _json(conf, "mgr", "dump")
    sbs = mm["standbys"]
    ready = mm["available"] and len(sbs) == 2 and all(s["available_modules"] for s in sbs)
    return mm if ready else None


@pytest.fixture(scope="module")
def enabled(ha: tuple[Any, str]) -> tuple[str, str]:
    cluster, folder = ha
    conf = cluster.conf_path
    _wait(lambda: _all_standing(conf), "two standbys", MGR_WAIT)
    p = _ceph(conf, "mgr", "module", "enable", MODULE)
    assert p.returncode == 0, p.stderr
    _wait(lambda: _whoami(conf), "the module's command", MGR_WAIT)
    return conf, folder


def test_mgrmap_active_and_standbys(enabled: tuple[str, str]) -> None:
    conf, _ = enabled
    mm = _json(conf, "mgr", "dump")
    assert mm["active_name"] == "x" and mm["active_gid"] > 0
    sbs = mm["standbys"]
    assert sorted(s["name"] for s in sbs) == ["y", "z"]
    gids = [s["gid"] for s in sbs]
    assert gids == sorted(gids) and len(set(gids + [mm["active_gid"]])) == 3
    for s in sbs:
        names = {m["name"] for m in s["available_modules"]}
        assert MODULE in names
    mds = _json(conf, "mgr", "metadata")
    assert [d["name"] for d in mds] == ["x", "y", "z"] and all(d["hostname"] for d in mds)
    assert _json(conf, "mgr", "count-metadata", "ceph_release") == {"pacific": 3}
    st = _json(conf, "mgr", "stat")
    assert st["num_standby"] == 2 and st["active_name"] == "x"
    status = _json(conf, "status")
    assert status["mgrmap"]["num_standbys"] == 2 and status["mgrmap"]["available"]
    plain = _ceph(conf, "-s").stdout
    # standbys in gid order, as upstream lists them (they start together: either may be first)
    in_gid_order = ", ".join(s["name"] for s in sbs)
    assert "mgr: x(active, since" in plain and f"standbys: {in_gid_order}" in plain, plain


def test_services_and_standby_modules(enabled: tuple[str, str]) -> None:
    conf, folder = enabled
    uri = "http://x.example:9999/"
    _wait(lambda: _json(conf, "mgr", "services") == {MODULE: uri}, "the URI in mgr services", MGR_WAIT)  # fmt: skip
    assert _ceph(conf, "config", "set", "mgr", f"mgr/{MODULE}/greeting", "hey").returncode == 0
    assert _ceph(conf, "failtest", "put", "stored").returncode == 0
    for mgr in ("y", "z"):
        # option and active URI reach a standby as they change; the store as of its start
        _wait(
            lambda m=mgr: (
                (v := _standby_view(folder, m))
                and v["active_uri"] == uri
                and v["greeting"] == "hey"
            ),  # fmt: skip
            f"mgr.{mgr}'s standby module",
            MGR_WAIT,
        )


def _failover(conf: str, old: str) -> str:
    """Wait (bounded) until another mgr is active and available and serves the module."""
    t0 = time.monotonic()

    def new_active() -> str | None:
        st = _json(conf, "mgr", "stat")
        name = st["active_name"]
        return name if name and name != old and st["available"] else None

    new = _wait(new_active, "a standby to take over", FAILOVER_WAIT)
    _wait(lambda: _whoami(conf) == new, "the module on the new active", FAILOVER_WAIT)
    assert time.monotonic() - t0 < FAILOVER_WAIT
    return new


def test_kill_active_fails_over(ha: tuple[Any, str], enabled: tuple[str, str]) -> None:
    cluster, _ = ha
    conf, _ = enabled
    cluster.kill("mgr.x")
    new = _failover(conf, "x")
    assert new in ("y", "z")
    # the store the old active wrote is the new active's; its URI is published
    _wait(
        lambda: _json(conf, "mgr", "services") == {MODULE: f"http://{new}.example:9999/"},
        "the new active's URI",
        MGR_WAIT,
    )
    whoami = json.loads(_ceph(conf, "failtest", "whoami").stdout)
    assert whoami == {"mgr": new, "greeting": "hey"}
    plain = _ceph(conf, "-s").stdout
    assert f"mgr: {new}(active, since" in plain
    # the dead mgr leaves the map once its grace is over; the other stays standby
    mm = _json(conf, "mgr", "dump")
    assert [s["name"] for s in mm["standbys"]] == [n for n in ("y", "z") if n != new]
    # restarted, it joins as a standby
    cluster.start(["mgr.x"])
    _wait(lambda: _all_standing(conf), "mgr.x back as a standby", MGR_WAIT)
    assert _json(conf, "mgr", "stat")["active_name"] == new


def test_mgr_fail(enabled: tuple[str, str]) -> None:
    conf, folder = enabled
    _wait(lambda: _all_standing(conf), "two standbys", MGR_WAIT)
    old = _json(conf, "mgr", "stat")["active_name"]
    p = _ceph(conf, "mgr", "fail", old)
    assert p.returncode == 0, p.stderr
    new = _failover(conf, old)
    # the failed mgr comes back as a standby running the standby module
    mm = _wait(lambda: _all_standing(conf), "the failed mgr as a standby", MGR_WAIT)
    assert old in [s["name"] for s in mm["standbys"]]
    os.unlink(os.path.join(folder, MODULE, f"standby-{old}.json"))
    uri = f"http://{new}.example:9999/"
    _wait(
        lambda: (v := _standby_view(folder, old)) and v["active_uri"] == uri,
        "the failed mgr's standby module",
        MGR_WAIT,
    )
    # without a name: the active; a standby by gid; an unknown mgr is not an error
    standby = mm["standbys"][0]
    p = _ceph(conf, "mgr", "fail", str(standby["gid"]))
    assert p.returncode == 0, p.stderr
    assert _json(conf, "mgr", "stat")["active_name"] == new
    p = _ceph(conf, "mgr", "fail", "nosuch")
    assert p.returncode == 0 and "Daemon not found 'nosuch', already failed?" in p.stderr
    p = _ceph(conf, "mgr", "fail")
    assert p.returncode == 0, p.stderr
    _failover(conf, new)
