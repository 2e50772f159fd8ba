"""The URL tree of the REST API v0.1, built from command descriptors (sans-I/O).

As upstream's `generate_url_and_params` (src/pybind/ceph_rest_api.py, Luminous): a
command's literal words, and each required single-string `CephChoices` met before
any other argument, are the parts of its path under the base URL
(`osd pool create` -> `osd/pool/create`); its other arguments are query
parameters. Several descriptors may share a path: the endpoint keeps them all
(each tried in turn by the request handler) and allows the union of their methods.

An OSD's own commands (its `get_command_descriptions`) are reached as upstream's
``tell/<target>/<words>``, the target an OSD id (``0``, ``osd.0``) or a PG id
(``1.0``, sent to the PG's primary); they are kept under the key
``tell/<target>/<words>`` (`TELL_PREFIX`).

The method rule is upstream's METHOD_DICT: a command whose permission has no
`w` is a GET (`r`, and `rx` like `auth list`); one that writes (`w`, `rw`,
`rwx`) is a PUT (or a DELETE). Obsolete commands are left out, as the `ceph` CLI
leaves them out.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyceph.common.cmdargs import FLAG_OBSOLETE, ArgDesc, CommandDesc, descs_from_json

__all__ = [
    "DEFAULT_BASE_URL",
    "READ_METHODS",
    "WRITE_METHODS",
    "Endpoint",
    "RouteTable",
    "Variant",
    "methods_for",
    "normalize_base_url",
]

#: upstream's DEFAULT_BASEURL
DEFAULT_BASE_URL = "/api/v0.1"
#: methods of a read-only command (upstream's METHOD_DICT['r'])
READ_METHODS = ("GET",)
#: methods of a command that writes (upstream's METHOD_DICT['w'])
WRITE_METHODS = ("PUT", "DELETE")
#: the path prefix (and key prefix in the table) of the OSD commands
TELL_PREFIX = "tell/<target>/"
#: width the help page wraps a command's URL at (upstream's show_human_help)
HELP_WRAP = 40


def methods_for(perm: str) -> tuple[str, ...]:
    """HTTP methods of a command with permission `perm` (``r``, ``rx``, ``rw``, ``w``...)."""
    return WRITE_METHODS if ("w" in perm or "r" not in perm) else READ_METHODS


def normalize_base_url(base: str | None) -> str:
    """The base URL with one leading and no trailing slash; empty means the default."""
    base = (base or "").strip().strip("/")
    return "/" + base if base else DEFAULT_BASE_URL


@dataclass(frozen=True)
class Variant:
    """One command descriptor reachable at an endpoint."""

    desc: CommandDesc
    #: arguments fixed by the path (required single-string CephChoices)
    fixed: tuple[tuple[str, str], ...]
    #: arguments taken from the query string
    params: tuple[ArgDesc, ...]
    methods: tuple[str, ...]

    def query_sig(self) -> str:
        """The query part as the help page shows it: ``pool=<poolname>&pg_num=<int>``."""
        return "&".join(f"{d.name}={d}" for d in self.params)


@dataclass
class Endpoint:
    """A path under the base URL and the commands it reaches."""

    path: str
    variants: list[Variant] = field(default_factory=list)

    @property
    def methods(self) -> tuple[str, ...]:
        """The union of the variants' methods, in a stable order."""
        seen: list[str] = []
        for v in self.variants:
            seen += [m for m in v.methods if m not in seen]
        return tuple(seen)

    def for_method(self, method: str) -> list[Variant]:
        return [v for v in self.variants if method in v.methods]


def split_signature(desc: CommandDesc) -> tuple[list[str], list[tuple[str, str]], list[ArgDesc]]:
    """(path words, path-fixed choices, query parameters) of a descriptor."""
    words: list[str] = []
    fixed: list[tuple[str, str]] = []
    params: list[ArgDesc] = []
    for item in desc.sig:
        if isinstance(item, str):
            words += item.split()
        elif (
            item.type == "CephChoices"
            and len(item.strings) == 1
            and item.req
            and not item.strings[0].startswith("--")
            and not params
        ):
            words.append(item.strings[0])
            fixed.append((item.name, item.strings[0]))
        else:
            params.append(item)
    return words, fixed, params


class RouteTable:
    """Every endpoint under `base_url`, from a list of command descriptors."""

    def __init__(
        self,
        descs: Iterable[CommandDesc],
        base_url: str = DEFAULT_BASE_URL,
        tell_descs: Iterable[CommandDesc] = (),
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.endpoints: dict[str, Endpoint] = {}
        self.commands: list[tuple[str, Variant]] = []
        both = [("", d) for d in descs] + [(TELL_PREFIX, d) for d in tell_descs]
        for prefix, desc in both:
            if desc.flags & FLAG_OBSOLETE:
                continue
            words, fixed, params = split_signature(desc)
            path = prefix + "/".join(words)
            variant = Variant(desc, tuple(fixed), tuple(params), methods_for(desc.perm))
            self.endpoints.setdefault(path, Endpoint(path)).variants.append(variant)
            self.commands.append((path, variant))
        self.commands.sort(key=lambda c: c[0])

    @classmethod
    def from_descriptions(
        cls,
        descriptions: Mapping[str, Any] | str,
        base_url: str = DEFAULT_BASE_URL,
        osd_descriptions: Mapping[str, Any] | str | None = None,
    ) -> RouteTable:
        """From `get_command_descriptions` answers (dict or JSON text): the monitor's,
        and an OSD's for the ``tell`` endpoints."""
        tell = descs_from_json(osd_descriptions, "osd") if osd_descriptions else []
        return cls(descs_from_json(descriptions), base_url, tell)

    @staticmethod
    def tell_key(rel: str) -> tuple[str, str | None]:
        """(table key, target) of a relative path: ``tell/0/version`` is
        (``tell/<target>/version``, ``0``); other paths are their own key."""
        parts = rel.split("/")
        if len(parts) >= 2 and parts[0] == "tell":
            return TELL_PREFIX + "/".join(parts[2:]), parts[1]
        return rel, None

    def relative(self, path: str) -> str | None:
        """`path` relative to the base URL (no slashes at either end), None outside it."""
        base = self.base_url
        if path == base or path == base + "/":
            return ""
        if not path.startswith(base + "/"):
            return None
        return path[len(base) + 1 :].strip("/")

    def get(self, rel: str) -> Endpoint | None:
        return self.endpoints.get(rel)

    def matching(self, rel: str) -> list[tuple[str, Variant]]:
        """Commands whose path is `rel` or lies under it (every command for "")."""
        if not rel:
            return list(self.commands)
        if rel == "tell":
            return [(p, v) for p, v in self.commands if p.startswith(TELL_PREFIX)]
        return [(p, v) for p, v in self.commands if p == rel or p.startswith(rel.rstrip("/") + "/")]  # fmt: skip

    def help_html(self, rel: str = "") -> str:
        """Upstream's help table of the commands under `rel`: URL, method, description."""
        rows = []
        for path, v in self.matching(rel):
            url = path + ("?" + v.query_sig() if v.params else "")
            cell = "\n".join(html.escape(line) for line in textwrap.wrap(url, HELP_WRAP))
            rows.append(
                f"<tr><td>{cell}</td><td>{'/'.join(v.methods)}</td>"
                f"<td>{html.escape(v.desc.help)}</td></tr>"
            )
        return (
            "<html><body><table border=1><th>Possible commands:</th><th>Method</th>"
            "<th>Description</th>\n" + "\n".join(rows) + "\n</table></body></html>"
        )

    def help_line(self, variant: Variant) -> str:
        """`?help` of one endpoint: ``osd pool create pool=<poolname>&...: Create pool``."""
        tell = "tell <target> " if variant.desc.daemon == "osd" else ""
        words = tell + " ".join([variant.desc.prefix, *(v for _, v in variant.fixed)])
        sig = variant.query_sig()
        return f"{words}{' ' + sig if sig else ''}: {variant.desc.help}"
