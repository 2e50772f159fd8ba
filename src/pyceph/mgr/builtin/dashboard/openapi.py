"""The OpenAPI 3 document of the API (`/docs/api.json`) and its page (`/docs`).

The document is generated from the typed views by aiohttp-pydantic
(`generate_oas`), then completed as upstream's `openapi.yaml` shows it: the ``jwt``
bearer security scheme required by every view with ``AUTH``, the view's tag, JSON
answers under the versioned media type (``application/vnd.ceph.api.v1.0+json``)
and upstream's error body for the 4xx answers every API operation can give. The
page is a small self-contained HTML document (no CDN: it is served offline) that
fetches the document and lists the operations.

Upstream: src/pybind/mgr/dashboard/controllers/docs.py, openapi.yaml.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web
from aiohttp_pydantic.oas.view import generate_oas

from .framework import ApiView, json_type

__all__ = ["API_TITLE", "ERROR_SCHEMA", "add_routes", "document"]

API_TITLE = "Ceph REST API"
API_VERSION = "v1"
#: the `jwt` security scheme (upstream's openapi.yaml)
SECURITY_SCHEMES = {"jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
#: upstream's error body
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string", "nullable": True},
        "component": {"type": "string", "nullable": True},
        "status": {"type": "integer"},
        "task": {"type": "object"},
    },
    "required": ["detail"],
}
_ERRORS = {
    "400": "Operation exception. Please check the response body for details.",
    "401": "Unauthenticated access. Please login first.",
    "403": "Unauthorized access. Please check your permissions.",
    "404": "Not found.",
    "413": "Request body too large.",
    "415": "Unsupported API version in the Accept header.",
    "500": "Unexpected error. Please check the response body for the stack trace.",
}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _views(app: web.Application) -> dict[str, type[ApiView]]:
    out: dict[str, type[ApiView]] = {}
    for res in app.router.resources():
        info = res.get_info()
        path = info.get("path", info.get("formatter"))
        for route in res:
            if isinstance(route.handler, type) and issubclass(route.handler, ApiView):
                out[str(path)] = route.handler
    return out


def _tag(view: type[ApiView]) -> str:
    if view.TAG:
        return view.TAG
    return view.__module__.rsplit(".", 1)[-1].replace("_", " ").title().replace(" ", "")


def _complete(op: dict[str, Any], view: type[ApiView], method: str) -> None:
    vtype = json_type(view.version_for(method.upper()))
    responses = op.setdefault("responses", {})
    for resp in responses.values():
        content = resp.get("content")
        if content and "application/json" in content:
            content[vtype] = content.pop("application/json")
        resp["description"] = resp.get("description") or "OK"
    if not responses:
        responses["200"] = {"description": "OK", "content": {vtype: {"schema": {}}}}
    for code, desc in _ERRORS.items():
        if code in ("401", "403") and not view.AUTH:
            continue
        responses.setdefault(
            code,
            {"description": desc, "content": {"application/json": {"schema": ERROR_SCHEMA}}},
        )
    if "requestBody" in op:
        op["requestBody"]["required"] = True
    op["tags"] = op.get("tags") or [_tag(view)]
    if view.AUTH:
        op["security"] = [{"jwt": []}]
    else:
        op.pop("security", None)


def document(app: web.Application) -> dict[str, Any]:
    """The OpenAPI document of `app`'s API views."""
    doc = copy.deepcopy(generate_oas([app], API_VERSION, API_TITLE))
    views = _views(app)
    paths = doc.get("paths", {})
    for path in list(paths):
        view = views.get(path)
        if view is None:
            del paths[path]
            continue
        for method in _METHODS:
            if method in paths[path]:
                _complete(paths[path][method], view, method)
    doc.setdefault("components", {}).setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    doc["info"]["description"] = (
        "The Ceph dashboard's REST API. Log in with POST /api/auth and send the token as "
        "'Authorization: Bearer <token>' with 'Accept: application/vnd.ceph.api.v1.0+json'."
    )
    return doc


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ceph REST API</title>
<style>
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:70em;padding:1em;color:#222}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;margin-top:1.5em}
details{border:1px solid #ddd;border-radius:4px;margin:.3em 0;padding:.3em .6em}
summary{cursor:pointer}code{font-size:.95em}
.m{display:inline-block;width:4.5em;font-weight:bold;text-transform:uppercase}
.get{color:#2a7}.post{color:#27c}.put{color:#c80}.delete{color:#c33}
pre{background:#f6f6f6;padding:.5em;overflow:auto;font-size:.85em}
</style></head><body>
<h1>Ceph REST API</h1>
<p>The OpenAPI 3 document: <a href="/docs/api.json">/docs/api.json</a>.
Authenticate with <code>POST /api/auth</code>; send
<code>Authorization: Bearer &lt;token&gt;</code> and
<code>Accept: application/vnd.ceph.api.v1.0+json</code>.</p>
<div id="ops">Loading&hellip;</div>
<script>
fetch('/docs/api.json').then(r => r.json()).then(doc => {
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags || ['Other'])[0];
      (byTag[tag] = byTag[tag] || []).push([method, path, op]);
    }
  }
  const root = document.getElementById('ops');
  root.textContent = '';
  for (const tag of Object.keys(byTag).sort()) {
    const h = document.createElement('h2'); h.textContent = tag; root.appendChild(h);
    for (const [method, path, op] of byTag[tag]) {
      const d = document.createElement('details');
      const s = document.createElement('summary');
      const m = document.createElement('span');
      m.className = 'm ' + method; m.textContent = method;
      const p = document.createElement('code'); p.textContent = path;
      s.append(m, p, document.createTextNode(' ' + (op.description || '').split('\\n')[0]));
      const pre = document.createElement('pre');
      pre.textContent = JSON.stringify({parameters: op.parameters, requestBody: op.requestBody,
                                        responses: op.responses}, null, 2);
      d.append(s, pre); root.appendChild(d);
    }
  }
}).catch(e => { document.getElementById('ops').textContent = 'Cannot load: ' + e; });
</script></body></html>
"""


async def _doc_page(request: web.Request) -> web.Response:
    return web.Response(text=_PAGE, content_type="text/html")


def add_routes(app: web.Application) -> None:
    """`/docs/api.json` and `/docs` (open: no token needed). The document is made on
    the first request and kept (the routes do not change while the app runs)."""
    cache: dict[str, dict[str, Any]] = {}

    async def _doc_json(request: web.Request) -> web.Response:
        if "doc" not in cache:
            cache["doc"] = document(request.app)
        return web.json_response(cache["doc"])

    app.router.add_get("/docs/api.json", _doc_json)
    app.router.add_get("/docs", _doc_page)
    app.router.add_get("/docs/", _doc_page)
