"""`rbd mirror pool|image ...`: mirroring metadata (action/MirrorPool.cc, MirrorImage.cc).

Only the metadata side exists (no rbd-mirror daemon): pool modes and site names,
peers and bootstrap tokens, per-image enable/disable/promote/demote/resync/snapshot
and status as the rbd module reports it.
"""

from __future__ import annotations

import sys
from typing import Any

from pyceph.cli.rbd_args import (
    SNAP_NONE,
    SPEC_NONE,
    CliError,
    action,
    get_names,
    get_pool_and_namespace,
)
from pyceph.cli.rbd_context import Ctx
from pyceph.cli.rbd_format import ctime_str, get_formatter

__all__ = ["MIRROR_MODES"]

#: rbd_mirror_mode_t
MIRROR_MODES = {0: "disabled", 1: "image", 2: "pool"}
#: rbd_mirror_image_mode_t
IMAGE_MODES = {"journal": 0, "snapshot": 1}
#: rbd_mirror_peer_direction_t
DIRECTIONS = {"rx-only": 0, "tx-only": 1, "rx-tx": 2}
#: RBD_SNAP_NAMESPACE_TYPE_MIRROR
SNAP_NAMESPACE_MIRROR = 3
#: rbd_mirror_image_state_t
IMAGE_STATES = {0: "disabling", 1: "enabled", 2: "disabled"}


def _pool(ctx: Ctx) -> Any:
    pool, ns = get_pool_and_namespace(ctx.args)
    return ctx.open_ioctx(pool, ns)


@action(
    "mirror pool enable",
    groups=("pool-ns",),
    options=("site-name",),
    description="Enable RBD mirroring by default within a pool.",
)
def do_pool_enable(ctx: Ctx) -> int:
    pool, ns = get_pool_and_namespace(ctx.args)
    mode = ctx.args.next_positional()
    if mode not in ("image", "pool"):
        raise CliError("rbd: must specify 'image' or 'pool' mode.")
    ioctx = ctx.open_ioctx(pool, ns)
    rbd = ctx.rbd.RBD()
    try:
        if ctx.args.has("site-name"):
            rbd.mirror_site_name_set(ctx.connect(), ctx.args.get("site-name"))
        rbd.mirror_mode_set(ioctx, 1 if mode == "image" else 2)
    except ctx.errors as e:
        raise ctx.failed("failed to enable mirroring", e)
    return 0


@action(
    "mirror pool disable",
    groups=("pool-ns",),
    description="Disable RBD mirroring by default within a pool.",
)
def do_pool_disable(ctx: Ctx) -> int:
    ioctx = _pool(ctx)
    try:
        ctx.rbd.RBD().mirror_mode_set(ioctx, 0)
    except ctx.errors as e:
        raise ctx.failed("failed to disable mirroring", e)
    return 0


@action(
    "mirror pool info",
    groups=("pool-ns", "format"),
    options=("all",),
    description="Show information about the pool mirroring configuration.",
)
def do_pool_info(ctx: Ctx) -> int:
    ioctx = _pool(ctx)
    f = get_formatter(ctx.args)
    rbd = ctx.rbd.RBD()
    try:
        mode = MIRROR_MODES.get(rbd.mirror_mode_get(ioctx), "unknown")
        site = rbd.mirror_site_name_get(ctx.connect())
        peers = list(rbd.mirror_peer_list(ioctx)) if mode != "disabled" else []
    except ctx.errors as e:
        raise ctx.failed("failed to retrieve mirror info", e)
    if f is not None:
        f.open_object_section("mirror")
        f.dump_string("mode", mode)
        if mode != "disabled":
            f.dump_string("site_name", site)
            f.open_array_section("peers")
            for p in peers:
                f.open_object_section("peer")
                f.dump_string("uuid", p.get("uuid", ""))
                f.dump_string("direction", _direction(p.get("direction", 2)))
                f.dump_string("site_name", p.get("site_name", ""))
                f.dump_string("mirror_uuid", p.get("mirror_uuid", ""))
                f.dump_string("client_name", p.get("client_name", ""))
                f.close_section()
            f.close_section()
        f.close_section()
        f.flush(ctx.out)
        return 0
    lines = [f"Mode: {mode}"]
    if mode != "disabled":
        lines.append(f"Site Name: {site}")
        lines.append("")
        if not peers:
            lines.append("Peer Sites: none")
        else:
            lines.append("Peer Sites: ")
            for p in peers:
                lines += [
                    "",
                    f"UUID: {p.get('uuid', '')}",
                    f"Name: {p.get('site_name', '')}",
                    f"Mirror UUID: {p.get('mirror_uuid', '')}",
                    f"Direction: {_direction(p.get('direction', 2))}",
                    f"Client: {p.get('client_name', '')}",
                ]
    ctx.out.write("\n".join(lines) + "\n")
    return 0


def _direction(d: int) -> str:
    return {v: k for k, v in DIRECTIONS.items()}.get(d, "unknown")


@action(
    "mirror pool status",
    groups=("pool-ns", "format"),
    options=("verbose",),
    description="Show status for all mirrored images in the pool.",
)
def do_pool_status(ctx: Ctx) -> int:
    ioctx = _pool(ctx)
    f = get_formatter(ctx.args)
    try:
        summary = ctx.rbd.RBD().mirror_image_status_summary(ioctx)
    except ctx.errors as e:
        raise ctx.failed("failed to get status summary for mirrored images", e)
    total = sum(summary.values()) if isinstance(summary, dict) else sum(n for _, n in summary)
    # no rbd-mirror daemon reports here: its health (and so the pool's) is unknown
    daemon_health = "UNKNOWN"
    image_health = "OK" if total == 0 else "UNKNOWN"
    if f is not None:
        f.open_object_section("status")
        f.open_object_section("summary")
        f.dump_string("health", daemon_health)
        f.dump_string("daemon_health", daemon_health)
        f.dump_string("image_health", image_health)
        f.open_object_section("states")
        f.close_section()
        f.close_section()
        f.close_section()
        f.flush(ctx.out)
        return 0
    ctx.out.write(
        f"health: {daemon_health}\ndaemon health: {daemon_health}\n"
        f"image health: {image_health}\nimages: {total} total\n"
    )
    return 0


@action(
    "mirror pool peer add",
    groups=("pool-ns",),
    options=(
        "remote-client-name",
        "remote-cluster",
        "remote-mon-host",
        "remote-key-file",
        "direction",
    ),
    description="Add a mirroring peer to a pool.",
)
def do_peer_add(ctx: Ctx) -> int:
    ioctx = _pool(ctx)
    remote = ctx.args.next_positional()
    if not remote:
        raise CliError("rbd: remote cluster was not specified")
    client, _, cluster = remote.rpartition("@")
    client = ctx.args.get("remote-client-name", client or "client.admin")
    direction = DIRECTIONS.get(ctx.args.get("direction", "rx-tx"))
    if direction is None:
        raise CliError("rbd: invalid direction")
    try:
        uuid = ctx.rbd.RBD().mirror_peer_add(ioctx, cluster, client, direction)
    except ctx.errors as e:
        raise ctx.failed("error adding mirror peer", e)
    ctx.out.write(f"{uuid}\n")
    return 0


@action(
    "mirror pool peer remove",
    groups=("pool-ns",),
    description="Remove a mirroring peer from a pool.",
)
def do_peer_remove(ctx: Ctx) -> int:
    ioctx = _pool(ctx)
    uuid = ctx.args.next_positional()
    if not uuid:
        raise CliError("rbd: must specify peer uuid")
    try:
        ctx.rbd.RBD().mirror_peer_remove(ioctx, uuid)
    except ctx.errors as e:
        raise ctx.failed("error removing mirror peer", e)
    return 0


@action(
    "mirror pool peer bootstrap create",
    groups=("pool",),
    options=("site-name",),
    description="Create a peer bootstrap token to import in a remote cluster",
)
def do_bootstrap_create(ctx: Ctx) -> int:
    pool, _ = get_pool_and_namespace(ctx.args)
    ioctx = ctx.open_ioctx(pool)
    rbd = ctx.rbd.RBD()
    try:
        if ctx.args.has("site-name"):
            rbd.mirror_site_name_set(ctx.connect(), ctx.args.get("site-name"))
        token = rbd.mirror_peer_bootstrap_create(ioctx)
    except ctx.errors as e:
        raise ctx.failed("mirror peer bootstrap create failed", e)
    ctx.out.write(f"{token}\n")
    return 0


@action(
    "mirror pool peer bootstrap import",
    groups=("pool",),
    options=("site-name", "direction", "token-path"),
    description="Import a peer bootstrap token created from a remote cluster",
)
def do_bootstrap_import(ctx: Ctx) -> int:
    pool, _ = get_pool_and_namespace(ctx.args)
    path = ctx.args.get("token-path") or ctx.args.next_positional()
    if not path:
        raise CliError("rbd: token path was not specified")
    try:
        token = sys.stdin.read() if path == "-" else open(path).read()  # noqa: SIM115
    except OSError as e:
        raise CliError(f"rbd: error opening {path}", e.errno or 5)
    direction = DIRECTIONS.get(ctx.args.get("direction", "rx-only"))
    if direction is None:
        raise CliError("rbd: invalid direction")
    ioctx = ctx.open_ioctx(pool)
    try:
        ctx.rbd.RBD().mirror_peer_bootstrap_import(ioctx, direction, token.strip())
    except ctx.errors as e:
        raise ctx.failed("mirror peer bootstrap import failed", e)
    return 0


# ------------------------------------------------------------------ image
def _image(ctx: Ctx) -> Any:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    return ctx.open_spec(spec, read_only=False)[1]


@action("mirror image enable", groups=("image",), description="Enable RBD mirroring for an image.")
def do_image_enable(ctx: Ctx) -> int:
    image = _image(ctx)
    mode = ctx.args.next_positional() or "journal"
    if mode not in IMAGE_MODES:
        raise CliError("rbd: must specify 'journal' or 'snapshot' mode.")
    try:
        image.mirror_image_enable(IMAGE_MODES[mode])
    except ctx.errors as e:
        raise ctx.failed("failed to enable mirroring", e)
    ctx.out.write("Mirroring enabled\n")
    return 0


@action(
    "mirror image disable",
    groups=("image",),
    options=("force",),
    description="Disable RBD mirroring for an image.",
)
def do_image_disable(ctx: Ctx) -> int:
    image = _image(ctx)
    try:
        image.mirror_image_disable(ctx.args.flag("force"))
    except ctx.errors as e:
        raise ctx.failed("failed to disable mirroring", e)
    ctx.out.write("Mirroring disabled\n")
    return 0


@action(
    "mirror image promote",
    groups=("image",),
    options=("force",),
    description="Promote an image to primary for RBD mirroring.",
)
def do_image_promote(ctx: Ctx) -> int:
    image = _image(ctx)
    try:
        image.mirror_image_promote(ctx.args.flag("force"))
    except ctx.errors as e:
        raise ctx.failed("error promoting image to primary", e)
    ctx.out.write("Image promoted to primary\n")
    return 0


@action(
    "mirror image demote",
    groups=("image",),
    description="Demote an image to non-primary for RBD mirroring.",
)
def do_image_demote(ctx: Ctx) -> int:
    image = _image(ctx)
    try:
        image.mirror_image_demote()
    except ctx.errors as e:
        raise ctx.failed("error demoting image to non-primary", e)
    ctx.out.write("Image demoted to non-primary\n")
    return 0


@action(
    "mirror image resync",
    groups=("image",),
    description="Force resync to primary image for RBD mirroring.",
)
def do_image_resync(ctx: Ctx) -> int:
    image = _image(ctx)
    try:
        image.mirror_image_resync()
    except ctx.errors as e:
        raise ctx.failed("error flagging image resync", e)
    ctx.out.write("Flagged image for resync from primary\n")
    return 0


@action(
    "mirror image snapshot",
    groups=("image",),
    options=("skip-quiesce", "ignore-quiesce-error"),
    description="Create RBD mirroring image snapshot.",
)
def do_image_snapshot(ctx: Ctx) -> int:
    image = _image(ctx)
    try:
        snap_id = image.mirror_image_create_snapshot()
    except ctx.errors as e:
        raise ctx.failed("error creating snapshot", e)
    ctx.out.write(f"Snapshot ID: {snap_id}\n")
    return 0


@action(
    "mirror image status",
    groups=("image", "format"),
    description="Show RBD mirroring status for an image.",
)
def do_image_status(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    f = get_formatter(ctx.args)
    _, image = ctx.open_spec(spec, read_only=True)
    try:
        info = image.mirror_image_get_info()
        if info.get("state") != 1:
            raise CliError("rbd: mirroring not enabled on the image", 22)
        status = image.mirror_image_get_status()
    except ctx.errors as e:
        raise ctx.failed(f"failed to get status for image {spec.image}", e)
    state = status.get("state", 0)
    desc = status.get("description", "status not found")
    up = status.get("up", False)
    state_text = ("up+" if up else "down+") + {
        0: "unknown",
        1: "error",
        2: "syncing",
        3: "starting_replay",
        4: "replaying",
        5: "stopping_replay",
        6: "stopped",
    }.get(state, "unknown")
    if f is not None:
        f.open_object_section("image")
        f.dump_string("name", spec.image)
        f.dump_string("global_id", info.get("global_id", ""))
        f.dump_string("state", state_text)
        f.dump_string("description", desc)
        f.close_section()
        f.flush(ctx.out)
        return 0
    last = status.get("last_update")
    lines = [
        f"{spec.image}:",
        f"  global_id:   {info.get('global_id', '')}",
        f"  state:       {state_text}",
        f"  description: {desc}",
        f"  last_update: {ctime_str(last) if last else ''}",
    ]
    snaps = _mirror_snaps(ctx, image)
    if snaps:
        lines.append("  snapshots:")
        lines += [
            f"    {sid} {name} (peer_uuids:[{','.join(peers)}])" for sid, name, peers in snaps
        ]
    ctx.out.write("\n".join(lines) + "\n")
    return 0


def _mirror_snaps(ctx: Ctx, image: Any) -> list[tuple[int, str, list[str]]]:
    """Mirror-namespace snapshots of the image with their peer uuids."""
    out = []
    try:
        for s in image.list_snaps():
            if s.get("namespace") != SNAP_NAMESPACE_MIRROR:
                continue
            ns = s.get("mirror") or {}
            out.append((s["id"], s["name"], [str(u) for u in ns.get("mirror_peer_uuids", [])]))
    except ctx.errors:
        return []
    return out
