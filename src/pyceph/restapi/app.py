"""The aiohttp application of the REST API v0.1, served by both of its hosts.

`make_app(run, base_url)` builds the application; `run(cmd, inbuf)` is the host's
async "run this command" callable (`pyceph.restapi.client`), which answers
``(ret, outbuf, outs)`` as librados' `mon_command` does. The command descriptions
are fetched through it (`get_command_descriptions`, as upstream's `api_setup`)
on the first request and again, at most every `DESCRIPTIONS_TTL` seconds, when a
path is not found (a newly enabled mgr module's commands appear).

Request handling follows upstream's `handler` (src/pybind/ceph_rest_api.py):
``/`` redirects to the base URL, which shows the help table of every command;
a path that is the start of some commands shows theirs (400, as upstream); a
known path with a method its commands do not allow is 405 with ``Allow``;
``?help`` (GET) describes the endpoint; otherwise the query is validated (400 with the
reason) and the command sent, its reply rendered by `formats`. ``tell/<target>/...``
paths reach an OSD's own commands (its descriptions fetched from the last up OSD,
as upstream's `find_up_osd`), sent to that OSD or to the primary of a PG. A path
that is no command and starts none is 404 (upstream answered 400 "Invalid
endpoint"). `command_for` (the JSON command of a request) and `last_up_osd` are
plain functions.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from pyceph.common.cmdargs import FLAG_MGR
from pyceph.restapi.formats import (
    Reply,
    cluster_format,
    command_reply,
    error_reply,
    from_accept,
    split_suffix,
)
from pyceph.restapi.params import BadParams, parse_params, tell_target
from pyceph.restapi.routes import DEFAULT_BASE_URL, RouteTable, Variant, normalize_base_url

__all__ = ["DESCRIPTIONS_TTL", "MAX_BODY", "Runner", "command_for", "last_up_osd", "make_app"]

#: (cmd, inbuf) -> (ret, outbuf, outs): how a host runs one command
Runner = Callable[[dict[str, Any], bytes], Awaitable[tuple[int, bytes, str]]]

#: seconds before a not-found path may refetch the command descriptions
DESCRIPTIONS_TTL = 30.0
#: largest request body (a command's input buffer) accepted, bytes
MAX_BODY = 4 << 20
#: the methods the help page answers
HELP_METHODS = ("GET", "HEAD")

_APP_STATE = web.AppKey("restapi", object)

log = logging.getLogger("pyceph.restapi")


class _Api:
    """The request handler and its cached route table."""

    def __init__(self, run: Runner, base_url: str) -> None:
        self.run = run
        self.base_url = normalize_base_url(base_url)
        self.table: RouteTable | None = None
        self.loaded_at = 0.0
        self.lock = asyncio.Lock()

    async def routes(self, refresh: bool = False) -> RouteTable:
        async with self.lock:
            stale = time.monotonic() - self.loaded_at > DESCRIPTIONS_TTL
            if self.table is None or (refresh and stale):
                try:
                    ret, outbuf, outs = await self.run({"prefix": "get_command_descriptions"}, b"")
                except Exception as e:  # no session with the cluster (yet)
                    if self.table is not None:
                        return self.table
                    raise _Unavailable(f"Can't get command descriptions: {e}") from e
                if ret:
                    if self.table is not None:
                        return self.table
                    raise _Unavailable(f"Can't get command descriptions: {outs} ({ret})")
                osd = await self._osd_descriptions()
                self.table = RouteTable.from_descriptions(outbuf.decode("utf-8"), self.base_url, osd)  # fmt: skip
                self.loaded_at = time.monotonic()
            return self.table

    async def _osd_descriptions(self) -> str | None:
        """An up OSD's command descriptions (upstream's find_up_osd: the last up one),
        or None when there is none or the user may not ask (no ``tell`` endpoints)."""
        try:
            ret, outbuf, _ = await self.run({"prefix": "osd dump", "format": "json"}, b"")
            osd = last_up_osd(json.loads(outbuf)) if ret == 0 else None
            if osd is None:
                return None
            cmd = {"prefix": "get_command_descriptions", "target": ["osd", osd]}
            ret, outbuf, _ = await self.run(cmd, b"")
        except Exception as e:  # noqa: BLE001 - the OSD commands are optional
            log.warning("no OSD command descriptions: %s", e)
            return None
        return outbuf.decode("utf-8") if ret == 0 else None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        # as upstream's log_request: every request at info, what was sent at debug
        log.info("%s %s from %s %s", request.method, request.rel_url, request.remote, request.headers.get("User-Agent", ""))  # fmt: skip
        path = request.path
        fmt = from_accept(request.headers.get("Accept"))
        if path == "/":
            return _redirect(self.base_url)
        base = self.base_url
        if path != base and not path.startswith(base + "/"):
            return _respond(error_reply(fmt, 404, "Page not found"))
        rel, suffix = split_suffix(path[len(base) :].strip("/"))
        fmt = suffix or fmt
        rel, tell = RouteTable.tell_key(rel)
        try:
            table = await self.routes()
            endpoint = table.get(rel)
            if endpoint is None and rel:
                table = await self.routes(refresh=True)
                endpoint = table.get(rel)
        except _Unavailable as e:
            return _respond(error_reply(fmt, 503, str(e)))
        if endpoint is None:
            if rel and not table.matching(rel):
                return _respond(error_reply(fmt, 404, f"Invalid endpoint {path}"))
            if request.method not in HELP_METHODS:
                return _not_allowed(fmt, HELP_METHODS)
            # the base URL lists every command; a partial path those under it (upstream: 400)
            status = 200 if not rel else 400
            return web.Response(status=status, text=table.help_html(rel), content_type="text/html")
        if "help" in request.query and request.method in HELP_METHODS:
            lines = "\n".join(table.help_line(v) for v in endpoint.variants)
            return web.Response(text=lines, content_type="text/plain")
        variants = endpoint.for_method("GET" if request.method == "HEAD" else request.method)
        if not variants:
            return _not_allowed(fmt, endpoint.methods)
        target: tuple[str, int | str] | None = None
        if tell is not None:
            try:
                target = tell_target(tell)
            except BadParams as e:
                return _respond(error_reply(fmt, 400, str(e)))
        try:
            cmd = command_for(variants, list(request.query.items()), target, fmt)
        except BadParams as e:
            return _respond(error_reply(fmt, 400, str(e)))
        inbuf = await request.read()
        log.debug("sending command %s", cmd)
        try:
            ret, outbuf, outs = await self.run(cmd, inbuf)
        except Exception as e:  # the cluster is unreachable: say so, stay up
            return _respond(error_reply(fmt, 503, f"Error: {e}"))
        return _respond(command_reply(fmt, ret, outbuf, outs))


def command_for(
    variants: list[Variant],
    query: list[tuple[str, str]],
    target: tuple[str, int | str] | None,
    fmt: str | None,
) -> dict[str, Any]:
    """The JSON command of the first variant the query fits (`BadParams` with every
    variant's reason when none does): prefix, path-fixed choices, typed arguments,
    ``format``, and ``target`` for ``tell`` and MGR commands."""
    reasons: list[str] = []
    for v in variants:
        given = query
        pg_target = target is not None and target[0] == "pg" and v.desc.arg("pgid") is not None
        if pg_target and not any(k == "pgid" for k, _ in query):
            # upstream's handler: a PG target is also the command's pgid
            assert target is not None
            given = [*query, ("pgid", str(target[1]))]
        try:
            args = parse_params(given, v.params)
        except BadParams as e:
            reasons.append(str(e))
            continue
        cmd: dict[str, Any] = {"prefix": v.desc.prefix, **dict(v.fixed), **args}
        if target is not None and target[0] == "pg":
            cmd.setdefault("pgid", str(target[1]))  # as ceph.in does for `tell <pgid>`
        cmd["format"] = cluster_format(fmt)
        if target is not None:
            cmd["target"] = list(target)
        elif v.desc.flags & FLAG_MGR:
            cmd["target"] = ["mon-mgr", ""]
        return cmd
    raise BadParams("\n".join(reasons))


def last_up_osd(osd_dump: dict[str, Any]) -> int | None:
    """The id of the last up OSD of an `osd dump`, None when none is up."""
    up = [int(o["osd"]) for o in osd_dump.get("osds", []) if o.get("up")]
    return up[-1] if up else None


class _Unavailable(Exception):
    """The cluster did not give its command descriptions."""


def _respond(reply: Reply) -> web.Response:
    return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)


def _not_allowed(fmt: str | None, allowed: tuple[str, ...]) -> web.Response:
    reply = error_reply(fmt, 405, "Method Not Allowed")
    resp = _respond(reply)
    resp.headers["Allow"] = ", ".join(allowed)
    return resp


def _redirect(target: str) -> web.Response:
    """Werkzeug's redirect page (what the seed's `curl /` shows), with a 302."""
    link = html.escape(target)
    body = (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>Redirecting...</title>\n'
        "<h1>Redirecting...</h1>\n<p>You should be redirected automatically to target URL: "
        f'<a href="{link}">{link}</a>.  If not click the link.'
    )
    return web.Response(
        status=302, text=body, content_type="text/html", headers={"Location": target}
    )


def make_app(run: Runner, base_url: str = DEFAULT_BASE_URL) -> web.Application:
    """The REST API v0.1 application; every path is answered by one handler."""
    api = _Api(run, base_url)
    app = web.Application(client_max_size=MAX_BODY)
    app[_APP_STATE] = api
    app.router.add_route("*", "/{path:.*}", api.handle)
    return app
