"""The module host inside an embedded cluster (mon, mgr and OSDs in this process):
a module from the test's folder (`mgr_module_path` in the cluster's ceph.conf)
is listed, enabled, answers commands forwarded by the monitor, keeps its KV
store in config-key, fails visibly, and is disabled — all in about a second.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.waiting import wait_until

import rados

#: Bound on waiting for the mgr to load, start or stop a module.
WAIT = 20.0

MODULE = textwrap.dedent(
    '''
    import threading
    from typing import Optional, Tuple

    from mgr_module import CLIReadCommand, CLIWriteCommand, MgrModule, Option


    class Unit(MgrModule):
        MODULE_OPTIONS = [Option(name="word", default="hi")]

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.stop = threading.Event()
            self.boom = False

        @CLIReadCommand("unit hi")
        def hi(self, who: Optional[str] = None) -> Tuple[int, str, str]:
            """Greets"""
            return 0, f"{self.get_module_option('word')} {who or 'you'}", ""

        @CLIWriteCommand("unit put")
        def put(self, key: str, value: Optional[str] = None) -> Tuple[int, str, str]:
            self.set_store(key, value)
            return 0, str(self.get_store(key)), ""

        @CLIReadCommand("unit pools")
        def pools(self) -> Tuple[int, str, str]:
            """The pools, through the module's own librados session"""
            return 0, " ".join(sorted(self.rados.list_pools())), ""

        @CLIReadCommand("unit race")
        def race(self) -> Tuple[int, str, str]:
            """First uses of `self.rados` from many threads at once"""
            barrier = threading.Barrier(8)
            seen, errors = [], []

            def use():
                barrier.wait()
                try:
                    handle = self.rados
                    handle.list_pools()
                    seen.append(id(handle))
                except Exception as e:
                    errors.append(repr(e))

            threads = [threading.Thread(target=use) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return 0, f"{len(seen)} {len(set(seen))} {errors}", ""

        @CLIWriteCommand("unit boom")
        def explode(self) -> Tuple[int, str, str]:
            self.boom = True
            self.stop.set()
            return 0, "", ""

        def serve(self):
            self.stop.wait()
            if self.boom:
                raise RuntimeError("unit serve failed")

        def shutdown(self):
            self.stop.set()
    '''
)


def _wait(pred: Callable[[], Any], what: str) -> Any:
    return wait_until(pred, what, WAIT)


@pytest.fixture
def handle(tmp_path) -> Iterator[rados.Rados]:
    mods = tmp_path / "mods" / "unitmod"
    mods.mkdir(parents=True)
    (mods / "__init__.py").write_text("from .module import Unit\n")
    (mods / "module.py").write_text(MODULE)
    broken = tmp_path / "mods" / "brokenmod"
    broken.mkdir()
    (broken / "__init__.py").write_text("from .module import *\n")
    (broken / "module.py").write_text("import no_such_dependency_zz\n")
    cdir = str(tmp_path / "cluster")
    conf = {"mon_host": f"embedded:{cdir}"}
    r = rados.Rados(conf=conf)
    r.connect()
    r.shutdown()
    with open(os.path.join(cdir, "ceph.conf"), "a") as f:
        f.write(f"mgr_module_path = {tmp_path / 'mods'}\n")
    r = rados.Rados(conf=conf)
    r.connect()
    try:
        yield r
    finally:
        r.shutdown()


def _cmd(r: rados.Rados, **cmd: Any) -> tuple[int, bytes, str]:
    return r.mon_command(json.dumps(cmd), b"")


# The first start scans the default mgr_module_path too; where Debian's ceph-mgr is
# installed, compiling its modules warns about their regex escapes (not our code).
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_module_lifecycle_in_embedded_cluster(handle: rados.Rados) -> None:
    r = handle

    def listed() -> bool:
        ret, out, _ = _cmd(r, prefix="mgr module ls", format="json")
        return ret == 0 and any(m["name"] == "unitmod" for m in json.loads(out)["disabled_modules"])

    _wait(listed, "the module in `mgr module ls`")
    assert _cmd(r, prefix="unit hi")[0] == -95  # known, not enabled
    assert _cmd(r, prefix="mgr module enable", module="unitmod")[0] == 0
    _wait(lambda: _cmd(r, prefix="unit hi")[0] == 0, "the module to start")
    assert _cmd(r, prefix="unit hi", who="bob")[1] == b"hi bob"
    # KV store: written through to config-key before the command answers
    assert _cmd(r, prefix="unit put", key="k", value="v")[1] == b"v"
    assert _cmd(r, prefix="config-key get", key="mgr/unitmod/k")[1] == b"v"
    assert _cmd(r, prefix="unit put", key="k")[1] == b"None"
    assert _cmd(r, prefix="config-key exists", key="mgr/unitmod/k")[0] == -2
    # options from the config database
    assert _cmd(r, prefix="config set", who="mgr", name="mgr/unitmod/word", value="yo")[0] == 0
    _wait(lambda: _cmd(r, prefix="unit hi")[1] == b"yo you", "the option to reach the module")
    # serve() raising: MGR_MODULE_ERROR, EIO for the module's commands, the mgr goes on
    assert _cmd(r, prefix="unit boom")[0] == 0

    def error_check() -> Any:
        out = _cmd(r, prefix="health", detail="detail", format="json")[1]
        return json.loads(out)["checks"].get("MGR_MODULE_ERROR")

    check = _wait(error_check, "MGR_MODULE_ERROR")
    assert check["summary"]["message"] == "Module 'unitmod' has failed: unit serve failed"
    ret, _, outs = _cmd(r, prefix="unit hi")
    assert ret == -5 and "has experienced an error and cannot handle commands" in outs
    assert _cmd(r, prefix="pg stat", format="json")[0] == 0
    assert _cmd(r, prefix="mgr module disable", module="unitmod")[0] == 0
    _wait(lambda: _cmd(r, prefix="unit hi")[0] == -95, "the module to stop")
    _wait(lambda: error_check() is None, "the health check to clear")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_module_that_cannot_load(handle: rados.Rados) -> None:
    r = handle

    def info() -> Any:
        ret, out, _ = _cmd(r, prefix="mgr module ls", format="json")
        mods = {m["name"]: m for m in json.loads(out)["disabled_modules"]} if ret == 0 else {}
        return mods.get("brokenmod")

    m = _wait(info, "the module in `mgr module ls`")
    assert (m["can_run"], m["error_string"]) == (False, "No module named 'no_such_dependency_zz'")
    ret, _, outs = _cmd(r, prefix="mgr module enable", module="brokenmod")
    assert ret == -2 and "reports that it cannot run on the active manager daemon" in outs
    assert _cmd(r, prefix="mgr module enable", module="brokenmod", force="--force")[0] == 0

    def error_check() -> Any:
        out = _cmd(r, prefix="health", detail="detail", format="json")[1]
        return json.loads(out)["checks"].get("MGR_MODULE_ERROR")

    c = _wait(error_check, "MGR_MODULE_ERROR")
    assert c["summary"]["message"] == (
        "Module 'brokenmod' has failed: No module named 'no_such_dependency_zz'"
    )
    assert _cmd(r, prefix="mgr module disable", module="brokenmod")[0] == 0
    _wait(lambda: error_check() is None, "the check to clear")


def test_module_rados_session_reaches_an_embedded_cluster(handle: rados.Rados) -> None:
    """`self.rados` of a module in an embedded cluster's mgr joins that cluster's in-memory
    network; made from the mgr's own config it would dial the in-memory monitor address on
    the real network."""
    r = handle
    _wait(lambda: _cmd(r, prefix="mgr module enable", module="unitmod")[0] == 0, "enable")
    r.create_pool("seen-by-module")
    ret, out, outs = _wait(
        lambda: (res := r.mgr_command(json.dumps({"prefix": "unit pools"}), b""))[0] == 0 and res,
        "unit pools",
    )
    assert "seen-by-module" in out.decode().split(), (ret, out, outs)


def test_module_rados_first_use_from_many_threads(handle: rados.Rados) -> None:
    """Concurrent first uses of `self.rados` share one connected session (none sees a
    handle still connecting: RadosStateError 'configuring')."""
    r = handle
    _wait(lambda: _cmd(r, prefix="mgr module enable", module="unitmod")[0] == 0, "enable")
    _wait(lambda: _cmd(r, prefix="unit hi")[0] == 0, "the module to start")
    ret, out, outs = _cmd(r, prefix="unit race")
    assert (ret, out.decode()) == (0, "8 1 []"), outs
