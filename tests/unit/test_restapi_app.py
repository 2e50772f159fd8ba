"""`pyceph.restapi.app`: the request handling of the v0.1 application, driven over
real HTTP (aiohttp's test server) with a host callable that answers from Ceph
16.2.15's command table and records what it is asked to run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from pyceph.common.cmdargs import command_descriptions, make_command
from pyceph.restapi import app as appmod
from pyceph.restapi.app import last_up_osd, make_app

BASE = "/api/v0.1"


class Host:
    """A host's "run this command": descriptions from the table, canned answers."""

    def __init__(self, descriptions: dict[str, Any] | None = None) -> None:
        self.descriptions = descriptions or command_descriptions("mon")
        self.sent: list[tuple[dict[str, Any], bytes]] = []
        self.answers: dict[str, tuple[int, bytes, str]] = {}
        self.down = False
        self.osds = [{"osd": 0, "up": 1}, {"osd": 2, "up": 1}, {"osd": 3, "up": 0}]

    async def run(self, cmd: dict[str, Any], inbuf: bytes) -> tuple[int, bytes, str]:
        if self.down:
            raise ConnectionError("no session with the cluster")
        if cmd["prefix"] == "get_command_descriptions":
            if cmd.get("target") == ["osd", 2]:
                return 0, json.dumps(command_descriptions("osd")).encode(), ""
            return 0, json.dumps(self.descriptions).encode(), ""
        if cmd["prefix"] == "osd dump":  # asked once, to find an up OSD
            return 0, json.dumps({"osds": self.osds}).encode(), ""
        self.sent.append((cmd, inbuf))
        return self.answers.get(cmd["prefix"], (0, b"", ""))


def drive(host: Host, body: Callable[[TestClient], Awaitable[None]], base: str = BASE) -> None:
    async def main() -> None:
        async with TestClient(TestServer(make_app(host.run, base))) as client:
            await body(client)

    asyncio.run(main())


def test_redirect_help_and_unknown_paths() -> None:
    host = Host()

    async def body(c: TestClient) -> None:
        r = await c.get("/", allow_redirects=False)
        assert r.status == 302 and r.headers["Location"] == BASE
        r = await c.get(BASE)
        assert r.status == 200 and r.content_type == "text/html"
        assert "osd/pool/create?pool=" in await r.text()
        r = await c.get(BASE + "/osd/pool")  # a partial path: its commands, 400 (upstream)
        assert r.status == 400 and "osd/pool/create" in await r.text()
        r = await c.get(BASE + "/no/such", headers={"Accept": "application/json"})
        assert r.status == 404
        assert await r.json() == {"status": f"Invalid endpoint {BASE}/no/such", "output": []}
        assert (await c.get("/other")).status == 404
        assert (await c.put(BASE)).status == 405

    drive(host, body)
    assert host.sent == []


def test_commands_sent_as_json_with_typed_arguments() -> None:
    host = Host()
    host.answers["health"] = (0, b'{"status":"HEALTH_OK"}', "")
    host.answers["osd pool create"] = (0, b"", "pool 'p' created")

    async def body(c: TestClient) -> None:
        r = await c.get(BASE + "/health.json")
        assert await r.json() == {"status": "OK", "output": {"status": "HEALTH_OK"}}
        r = await c.put(BASE + "/osd/pool/create?pool=p&pg_num=8", data=b"input")
        assert r.status == 200 and await r.text() == ""
        r = await c.get(BASE + "/pg/dump?dumpcontents=pgs", headers={"Accept": "application/xml"})
        assert r.status == 200 and r.content_type == "application/xml"
        r = await c.head(BASE + "/osd/tree")
        assert r.status == 200

    drive(host, body)
    cmds = [c for c, _ in host.sent]
    assert cmds[0] == {"prefix": "health", "format": "json"}
    assert cmds[1] == {"prefix": "osd pool create", "pool": "p", "pg_num": 8, "format": "plain"}
    assert host.sent[1][1] == b"input"
    assert cmds[2] == {"prefix": "pg dump", "dumpcontents": ["pgs"], "format": "json", "target": ["mon-mgr", ""]}  # fmt: skip
    assert cmds[3]["prefix"] == "osd tree"


def test_refusals_send_nothing() -> None:
    host = Host()

    async def body(c: TestClient) -> None:
        r = await c.get(BASE + "/osd/pool/create?pool=p")
        assert r.status == 405 and r.headers["Allow"] == "PUT, DELETE"
        r = await c.put(BASE + "/health")
        assert r.status == 405 and r.headers["Allow"] == "GET"
        r = await c.put(BASE + "/osd/pool/create?pg_num=8")
        assert r.status == 400 and "missing required parameter pool" in await r.text()
        r = await c.put(BASE + "/osd/pool/create?pool=p&pg_num=x")
        assert r.status == 400 and "x doesn't represent an int" in await r.text()
        r = await c.get(BASE + "/health?verbose=1")
        assert r.status == 400 and "unused arguments: ['verbose']" in await r.text()
        r = await c.get(BASE + "/osd/pool/create?help")
        assert r.status == 200 and (await r.text()).startswith("osd pool create pool=")

    drive(host, body)
    assert host.sent == []


def test_cluster_errors_and_outages() -> None:
    host = Host()
    host.answers["osd set"] = (-13, b"", "access denied")

    async def body(c: TestClient) -> None:
        r = await c.put(BASE + "/osd/set?key=noout", headers={"Accept": "application/json"})
        assert r.status == 400
        assert await r.json() == {"status": "Error: access denied (-13)", "output": []}
        host.down = True
        r = await c.get(BASE + "/health")
        assert r.status == 503 and "no session with the cluster" in await r.text()

    drive(host, body)
    down = Host()
    down.down = True

    async def first(c: TestClient) -> None:
        r = await c.get(BASE + "/health")
        assert r.status == 503 and "Can't get command descriptions" in await r.text()

    drive(down, first)


def test_new_commands_found_after_the_descriptions_age(monkeypatch: Any) -> None:
    host = Host({"cmd000": make_command("health", perm="r", daemon="mon").to_json()})
    monkeypatch.setattr(appmod, "DESCRIPTIONS_TTL", 0.0)

    async def body(c: TestClient) -> None:
        assert (await c.get(BASE + "/health")).status == 200
        assert (await c.get(BASE + "/hello")).status == 404
        host.descriptions["cmd001"] = make_command("hello name=who,type=CephString", perm="r").to_json()  # fmt: skip
        r = await c.get(BASE + "/hello?who=bob")
        assert r.status == 200

    drive(host, body)
    assert host.sent[-1][0] == {"prefix": "hello", "who": "bob", "format": "plain"}


def test_own_base_url() -> None:
    host = Host()

    async def body(c: TestClient) -> None:
        r = await c.get("/", allow_redirects=False)
        assert r.headers["Location"] == "/ceph"
        assert (await c.get("/ceph/health")).status == 200
        assert (await c.get(BASE + "/health")).status == 404

    drive(host, body, "/ceph/")


def test_tell_an_osd_or_a_pg() -> None:
    host = Host()

    async def body(c: TestClient) -> None:
        assert (await c.get(BASE + "/tell/osd.1/version")).status == 200
        assert (await c.get(BASE + "/tell/1.7/version.json")).status == 200
        assert (await c.get(BASE + "/tell/1.7/query")).status == 200
        r = await c.get(BASE + "/tell/bogus/version")
        assert r.status == 400 and "invalid osdid or pgid" in await r.text()
        assert (await c.get(BASE + "/tell/0/no-such")).status == 404
        r = await c.get(BASE + "/tell/0")  # the OSD commands, upstream's help table
        assert r.status == 400 and "tell/&lt;target&gt;/version" in await r.text()
        r = await c.get(BASE + "/tell/0/version?help")
        assert (await r.text()).startswith("tell <target> version")

    drive(host, body)
    assert [c for c, _ in host.sent] == [
        {"prefix": "version", "format": "plain", "target": ["osd", 1]},
        {"prefix": "version", "pgid": "1.7", "format": "json", "target": ["pg", "1.7"]},
        {"prefix": "query", "pgid": "1.7", "format": "plain", "target": ["pg", "1.7"]},
    ]


def test_no_up_osd_no_tell_endpoints() -> None:
    host = Host()
    host.osds = [{"osd": 0, "up": 0}]

    async def body(c: TestClient) -> None:
        assert (await c.get(BASE + "/health")).status == 200
        assert (await c.get(BASE + "/tell/0/version")).status == 404

    drive(host, body)
    assert last_up_osd({"osds": host.osds}) is None
    assert last_up_osd({"osds": [{"osd": 4, "up": 1}, {"osd": 9, "up": 1}]}) == 9


def test_oversized_body_is_refused() -> None:
    host = Host()

    async def body(c: TestClient) -> None:
        r = await c.put(BASE + "/osd/pool/create?pool=p", data=b"x" * (appmod.MAX_BODY + 1))
        assert r.status == 413

    drive(host, body)
    assert host.sent == []
