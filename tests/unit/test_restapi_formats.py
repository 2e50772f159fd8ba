"""`pyceph.restapi.formats`: format choice and the plain, JSON and XML answers of
upstream's make_response."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from pyceph.restapi.formats import (
    cluster_format,
    command_reply,
    error_reply,
    from_accept,
    split_suffix,
    to_xml,
)


def test_suffix_and_accept() -> None:
    assert split_suffix("osd/tree.json") == ("osd/tree", "json")
    assert split_suffix("osd/tree.xml-pretty") == ("osd/tree", "xml-pretty")
    assert split_suffix("osd/tree") == ("osd/tree", None)
    assert split_suffix("osd/tree.txt") == ("osd/tree.txt", None)
    assert from_accept("application/json") == "json"
    assert from_accept("text/html, application/xml;q=0.9") == "xml"
    assert from_accept("application/xml, application/json") == "json"  # upstream's order
    assert from_accept("*/*") is None and from_accept(None) is None
    assert [cluster_format(f) for f in (None, "json", "xml", "json-pretty")] == ["plain", "json", "json", "json-pretty"]  # fmt: skip


def test_json_envelope() -> None:
    r = command_reply("json", 0, b'{"status":"HEALTH_OK","checks":{}}', "")
    assert r.status == 200 and r.content_type == "application/json"
    assert json.loads(r.body) == {"status": "OK", "output": {"status": "HEALTH_OK", "checks": {}}}
    r = command_reply("json", 0, b"", "pool 'p' created")
    assert json.loads(r.body) == {"status": "pool 'p' created", "output": []}
    # output that is not JSON is carried as a string, not a 500
    assert json.loads(command_reply("json", 0, b"HEALTH_OK\n", "").body)["output"] == "HEALTH_OK\n"
    pretty = command_reply("json-pretty", 0, b"[1]", "")
    assert b'\n    "status": "OK"' in pretty.body


def test_errors_as_upstream() -> None:
    r = command_reply(None, -13, b"ignored", "access denied")
    assert r.status == 400 and r.content_type == "text/plain"
    assert r.body == b"\nError: access denied (-13)\n"
    r = command_reply("json", -2, b"", "pool 'x' does not exist")
    assert json.loads(r.body) == {"status": "Error: pool 'x' does not exist (-2)", "output": []}
    r = error_reply("xml", 404, "Page not found")
    assert r.status == 404 and r.body == b"<response><output></output><status>Page not found</status></response>"  # fmt: skip


def test_plain_is_the_output_itself() -> None:
    r = command_reply(None, 0, b"HEALTH_OK\n", "")
    assert (r.status, r.content_type, r.body) == (200, "text/plain", b"HEALTH_OK\n")


def test_xml() -> None:
    r = command_reply("xml", 0, b'{"nodes":[{"id":-1,"name":"default"}],"stray":[],"ok":true}', "")
    root = ET.fromstring(r.body)
    assert root.tag == "response" and root.find("status").text == "OK"
    out = root.find("output")
    assert out.find("nodes/item/name").text == "default"
    assert out.find("ok").text == "true"
    assert to_xml({"1st": "a<b", "x y": None}, "r") == "<r><_1st>a&lt;b</_1st><x_y></x_y></r>"
