"""`auth *` handlers: the cephx key/caps database, keyring text as upstream prints it.

Errors and messages follow upstream's `src/mon/AuthMonitor.cc` (`preprocess_command`,
`prepare_command`, `exists_and_matches_entity`, `import_keyring`). A removed or re-keyed
entity is refused at once by new sessions and loses live ones within a ticket period
(`pyceph.mon.auth_server`, `pyceph.monc.monclient`).
"""

from __future__ import annotations

import errno
import re
from typing import Any

from pyceph.auth.caps import validate_caps
from pyceph.common.errors import CephError
from pyceph.common.keyring import caps_line, generate_secret

from . import Ctx, Reply, command

ENTITY_TYPES = ("client", "osd", "mon", "mds", "mgr")
#: How upstream prints an EntityAuth with no key (`CryptoKey` of nothing, base64).
EMPTY_KEY = "AAAAAAAAAAAAAAAA"


def new_secret(ctx: Ctx) -> str:
    """A fresh cephx key, from the monitor's injected randomness and the command's time."""
    return generate_secret(rand=ctx.state.rand_bytes, now=lambda: ctx.now)


def check_entity(name: str, reading: bool = False) -> None:
    """EINVAL unless `name` is TYPE.ID. Upstream words it by where it is checked: the
    read-only verbs (`preprocess_command`: get, get-key, print-key, export) say
    "invalid entity_auth NAME", the changing ones (`prepare_command`) "bad entity name"."""
    t, dot, _ = name.partition(".")
    if name == "mon.":
        return
    if not dot or t not in ENTITY_TYPES or not name[len(t) + 1 :]:
        raise CephError(
            errno.EINVAL, f"invalid entity_auth {name}" if reading else "bad entity name"
        )


def parse_caps(caps: list[str]) -> dict[str, str]:
    """`[svc, cap, svc, cap, ...]` → {svc: cap}, each cap checked against upstream's grammar."""
    if len(caps) % 2:
        raise CephError(errno.EINVAL, "bad capabilities request; odd number of arguments")
    parsed = {caps[i]: caps[i + 1] for i in range(0, len(caps), 2)}
    validate_caps(parsed)
    return parsed


def keyring_text(entries: list[tuple[str, dict[str, Any]]]) -> str:
    out = []
    for ent, e in entries:
        out.append(f"[{ent}]\n\tkey = {e['key']}\n")
        for svc, cap in sorted(e["caps"].items()):
            out.append(caps_line(svc, cap))
    return "".join(out)


def keyring_json(entries: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [{"entity": ent, "key": e["key"], "caps": dict(sorted(e["caps"].items()))}
            for ent, e in entries]  # fmt: skip


def parse_keyring(text: str) -> dict[str, dict[str, Any]]:
    """Upstream keyring file -> {entity: {key, caps}}."""
    out: dict[str, dict[str, Any]] = {}
    cur: dict[str, Any] | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        m = re.fullmatch(r"\[(.+)\]", line)
        if m:
            cur = out.setdefault(m.group(1), {"key": "", "caps": {}})
            continue
        if cur is None or "=" not in line:
            raise CephError(errno.EINVAL, "error parsing keyring")
        k, _, v = line.partition("=")
        k, v = k.strip(), v.strip().strip('"')
        if k == "key":
            cur["key"] = v
        elif k.startswith("caps "):
            cur["caps"][k[5:].strip()] = v
    return out


def _reply_keyring(ctx: Ctx, entries: list[tuple[str, dict[str, Any]]], **kw: Any) -> Reply:
    return Reply(data=keyring_json(entries), plain=keyring_text(entries), **kw)


@command("auth get")
def auth_get(ctx: Ctx) -> Reply:
    ent = ctx.args["entity"]
    check_entity(ent, reading=True)
    e = ctx.state.auth.get(ent)
    if e is None:
        raise CephError(errno.ENOENT, f"failed to find {ent} in keyring")
    return _reply_keyring(ctx, [(ent, e)], outs=f"exported keyring for {ent}")


@command("auth export")
def auth_export(ctx: Ctx) -> Reply:
    ent = ctx.get("entity")
    a = ctx.state.auth
    if ent is None:
        return _reply_keyring(ctx, sorted(a.items()), outs="exported master keyring")
    check_entity(ent, reading=True)
    if ent not in a:
        # upstream prints the (empty) EntityAuth it failed to fill
        raise CephError(errno.ENOENT, f"no key for auth(key={EMPTY_KEY})")
    # ...and the one it found, key included, as Ceph 16.2.15 does
    return _reply_keyring(ctx, [(ent, a[ent])], outs=f"export auth(key={a[ent]['key']})")


@command("auth get-key", "auth print-key", "auth print_key")
def auth_get_key(ctx: Ctx) -> Reply:
    ent = ctx.args["entity"]
    check_entity(ent, reading=True)
    e = ctx.state.auth.get(ent)
    if e is None:
        raise CephError(errno.ENOENT, f"don't have {ent}")
    # the bare key, no newline after it (upstream writes the secret's base64 alone)
    return Reply(data={"key": e["key"]}, plain=e["key"])


@command("auth ls", "auth list")
def auth_ls(ctx: Ctx) -> Reply:
    items = sorted(ctx.state.auth.items())
    lines = []
    for ent, e in items:
        lines.append(f"{ent}\n\tkey: {e['key']}\n")
        for svc, cap in sorted(e["caps"].items()):
            lines.append(f"\tcaps: [{svc}] {cap}\n")
    # the header goes with the plain listing only (upstream: not when a format is asked)
    outs = "" if ctx.is_json else "installed auth entries:\n"
    return Reply(data={"auth_dump": keyring_json(items)}, plain="".join(lines), outs=outs)


@command("auth get-or-create", "auth get-or-create-key")
def auth_get_or_create(ctx: Ctx) -> Reply:
    ent = ctx.args["entity"]
    check_entity(ent)
    caps = parse_caps(ctx.get("caps", []))
    a = ctx.state.auth
    keyonly = ctx.args["prefix"].endswith("-key")
    changed: set[str] = set()
    e = a.get(ent)
    if e is not None:
        for svc, cap in caps.items():
            if e["caps"].get(svc) != cap:
                raise CephError(errno.EINVAL, f"key for {ent} exists but cap {svc} does not match")
    else:
        e = {"key": new_secret(ctx), "caps": caps}
        a[ent] = e
        changed = {"auth"}
    if keyonly:
        return Reply(data={"key": e["key"]}, plain=e["key"] + "\n", changed=changed)
    # upstream's plain answer is a keyring of the key alone (the caps go with JSON only)
    return Reply(
        data=keyring_json([(ent, e)]),
        plain=keyring_text([(ent, {"key": e["key"], "caps": {}})]),
        changed=changed,
    )


@command("auth add")
def auth_add(ctx: Ctx) -> Reply:
    ent = ctx.args["entity"]
    check_entity(ent)
    caps = parse_caps(ctx.get("caps", []))
    key = None
    if ctx.inbuf:
        try:
            kr = parse_keyring(ctx.inbuf.decode())
        except (CephError, UnicodeDecodeError):
            raise CephError(errno.EINVAL, "error decoding keyring") from None
        if ent not in kr:
            raise CephError(errno.EINVAL, f"key for {ent} not found in provided keyring")
        key = kr[ent]["key"]
        if caps and kr[ent]["caps"]:
            raise CephError(errno.EINVAL, "caps cannot be specified both in keyring and in command")
        caps = caps or kr[ent]["caps"]
    a = ctx.state.auth
    e = a.get(ent)
    if e is not None:
        # upstream AuthMonitor::exists_and_matches_entity
        if key is not None and key != e["key"]:
            raise CephError(errno.EEXIST, f"entity {ent} exists but key does not match")
        if len(caps) != len(e["caps"]):
            raise CephError(errno.EINVAL, f"entity {ent} exists but caps do not match")
        for svc, cap in caps.items():
            if e["caps"].get(svc) != cap:
                raise CephError(errno.EINVAL, f"entity {ent} exists but cap {svc} does not match")
        return Reply(outs="")
    a[ent] = {"key": key or new_secret(ctx), "caps": caps}
    return Reply(outs=f"added key for {ent}", changed={"auth"})


@command("auth import")
def auth_import(ctx: Ctx) -> Reply:
    if not ctx.inbuf:
        raise CephError(errno.EINVAL, "auth import: no data supplied")
    try:
        kr = parse_keyring(ctx.inbuf.decode())
    except (CephError, UnicodeDecodeError) as e:
        raise CephError(errno.EINVAL, f"error decoding keyring {e}") from None
    for ent, e in kr.items():
        check_entity(ent)
        if not e["caps"]:  # upstream import_keyring: every entity needs caps
            raise CephError(errno.EINVAL, "auth import: no caps supplied")
    for ent, e in kr.items():
        ctx.state.auth[ent] = {"key": e["key"], "caps": dict(e["caps"])}
    return Reply(outs="imported keyring", changed={"auth"} if kr else set())


@command("auth caps")
def auth_caps(ctx: Ctx) -> Reply:
    ent = ctx.args["entity"]
    check_entity(ent)
    caps = parse_caps(ctx.get("caps", []))
    e = ctx.state.auth.get(ent)
    if e is None:
        raise CephError(errno.ENOENT, f"couldn't find entry {ent}")
    e["caps"] = caps
    return Reply(outs=f"updated caps for {ent}", changed={"auth"})


@command("auth del", "auth rm")
def auth_del(ctx: Ctx) -> Reply:
    ent = ctx.args["entity"]
    check_entity(ent)
    if ent not in ctx.state.auth:
        return Reply(outs=f"entity {ent} does not exist")
    del ctx.state.auth[ent]
    return Reply(outs="updated", changed={"auth"})
