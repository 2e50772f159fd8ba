"""`osd crush *` handlers: rules, dump, tree, buckets, set, reweight, remove."""

from __future__ import annotations

import copy
import errno

from pyceph.common.errors import CephError
from pyceph.crush.map import CrushError

from . import Ctx, Reply, command


@command("osd crush rule ls", "osd crush rule list")
def rule_ls(ctx: Ctx) -> Reply:
    c = ctx.state.osdmap.crush
    names = [c.rules[r].name for r in sorted(c.rules)]
    return Reply(data=names, plain="".join(n + "\n" for n in names))


@command("osd crush rule dump")
def rule_dump(ctx: Ctx) -> Reply:
    c = ctx.state.osdmap.crush
    name = ctx.get("name")
    if name is None:
        return Reply(data=[c.rule_dump(r) for r in sorted(c.rules)])
    rid = c.find_rule(name)
    if rid < 0:
        raise CephError(errno.ENOENT, f"unknown crush rule '{name}'")
    return Reply(data=c.rule_dump(rid))


@command("osd crush dump")
def crush_dump(ctx: Ctx) -> Reply:
    return Reply(data=ctx.state.osdmap.crush.dump())


@command("osd crush tree")
def crush_tree(ctx: Ctx) -> Reply:
    from .. import format_plain as fp

    m = ctx.state.osdmap
    nodes = m.crush.tree_nodes()
    return Reply(data={"nodes": nodes, "stray": []}, plain=fp.osd_tree(m))


def _create_rule(ctx: Ctx, name: str, root: str, ftype: str, mode: str, rtype: str) -> Reply:
    m = ctx.state.pending_osdmap
    c = m.crush
    if c.find_rule(name) >= 0:
        return Reply(outs=f"rule {name} already exists")
    if not c.name_exists(root):
        raise CephError(errno.ENOENT, f"root item {root} does not exist")
    try:
        c.type_id(ftype)
    except Exception:
        raise CephError(errno.EINVAL, f"type {ftype} does not exist")
    m.crush_for_write().add_simple_rule(name, root, ftype, mode, rtype)
    return Reply(changed={"osdmap"})


@command("osd crush rule create-replicated")
def rule_create_replicated(ctx: Ctx) -> Reply:
    if ctx.get("class"):
        raise CephError(errno.EOPNOTSUPP, "device classes in rules are not supported by pyceph")
    return _create_rule(ctx, ctx.args["name"], ctx.args["root"], ctx.args["type"], "firstn",
                        "replicated")  # fmt: skip


@command("osd crush rule create-simple")
def rule_create_simple(ctx: Ctx) -> Reply:
    return _create_rule(ctx, ctx.args["name"], ctx.args["root"], ctx.args["type"],
                        ctx.get("mode", "firstn"), "replicated")  # fmt: skip


@command("osd crush rule create-erasure")
def rule_create_erasure(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    pname = ctx.get("profile", "default")
    prof = m.erasure_code_profiles.get(pname)
    if prof is None:
        raise CephError(errno.ENOENT, f"failed to load plugin using profile {pname}")
    name = ctx.args["name"]
    if m.crush.find_rule(name) >= 0:
        return Reply(outs=f"rule {name} already exists")
    r = _create_rule(ctx, name, prof.get("crush-root", "default"),
                     prof.get("crush-failure-domain", "host"), "indep", "erasure")  # fmt: skip
    r.outs = f"created rule {name} at {m.crush.find_rule(name)}"
    return r


@command("osd crush rule rm")
def rule_rm(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    name = ctx.args["name"]
    rid = m.crush.find_rule(name)
    if rid < 0:
        return Reply(outs=f"rule {name} does not exist")
    if any(p.crush_rule == rid for p in m.pools.values()):
        raise CephError(errno.EBUSY, f"crush rule {name} ({rid}) is in use")
    m.crush_for_write().remove_rule(rid)
    return Reply(changed={"osdmap"})


@command("osd crush add-bucket")
def add_bucket(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    name, btype = ctx.args["name"], ctx.args["type"]
    if m.crush.name_exists(name):
        return Reply(outs=f"bucket '{name}' already exists")
    try:
        m.crush.type_id(btype)
    except Exception:
        raise CephError(errno.EINVAL, f"type '{btype}' does not exist")
    parent = None
    for a in ctx.get("args", []):
        k, _, v = a.partition("=")
        if not m.crush.name_exists(v):
            raise CephError(errno.ENOENT, f"item {v} does not exist")
        parent = v
    m.crush_for_write().add_bucket(name, btype, parent)
    return Reply(outs=f"added bucket {name} type {btype} to crush map", changed={"osdmap"})


@command("osd crush reweight")
def crush_reweight(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    name, w = ctx.args["name"], float(ctx.args["weight"])
    if not m.crush.name_exists(name):
        raise CephError(errno.ENOENT, f"device '{name}' does not appear in the crush map")
    iid = m.crush.get_item_id(name)
    if iid < 0:
        raise CephError(errno.EINVAL, "weight can only be set on a device, not a bucket")
    m.crush_for_write().reweight_item(name, w)
    return Reply(outs=f"reweighted item id {iid} name '{name}' to {w:g} in crush map",
                 changed={"osdmap"})  # fmt: skip


@command("osd crush rm", "osd crush remove", "osd crush unlink")
def crush_rm(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    name = ctx.args["name"]
    if not m.crush.name_exists(name):
        return Reply(outs=f"device '{name}' does not appear in the crush map")
    iid = m.crush.get_item_id(name)
    if iid >= 0:
        m.crush_for_write().remove_osd(iid)
        return Reply(outs=f"removed item id {iid} name '{name}' from crush map",
                     changed={"osdmap"})  # fmt: skip
    b = m.crush.buckets[iid]
    if b.items:
        raise CephError(errno.ENOTEMPTY, "Error ENOTEMPTY: (39) Directory not empty")
    crush = m.crush_for_write()
    for pb in crush.buckets.values():
        if iid in pb.items:
            i = pb.items.index(iid)
            del pb.items[i]
            del pb.weights[i]
    del crush.buckets[iid]
    crush.invalidate()
    return Reply(outs=f"removed item id {iid} name '{name}' from crush map", changed={"osdmap"})


@command("osd crush set")
def crush_set(ctx: Ctx) -> Reply:
    """`osd crush set osd.N WEIGHT TYPE=NAME...`: put an existing OSD at a location with a
    weight, making missing buckets (upstream OSDMonitor's `osd crush set` through
    CrushWrapper::update_item). Setting the whole map from a file is not supported."""
    m = ctx.state.pending_osdmap
    if ctx.get("id") is None:
        raise CephError(errno.EINVAL, "setting the crush map from a file is not supported")
    raw = str(ctx.args["id"])
    osd = int(raw.partition(".")[2] if raw.startswith("osd.") else raw)
    weight = float(ctx.args["weight"])
    loc: dict[str, str] = {}
    for a in ctx.get("args", []):
        k, sep, v = str(a).partition("=")
        if not sep or not v:
            raise CephError(errno.EINVAL, f"unable to parse location {a}")
        loc[k] = v
    if not m.exists(osd):
        raise CephError(
            errno.ENOENT, f"osd.{osd} does not exist. Create it before updating the crush map"
        )
    if osd not in m.crush.devices:
        raise CephError(errno.ENOENT, f"unable to set item id {osd} name 'osd.{osd}' weight "
                        f"{weight:g} at location {_loc_str(loc)}: does not exist")  # fmt: skip
    trial = copy.deepcopy(m.crush)  # bad input changes nothing: try it on a copy first
    trial.remove_osd(osd)
    try:
        trial.add_osd(osd, weight, loc)
    except CrushError as e:
        raise CephError(errno.EINVAL, str(e))
    crush = m.crush_for_write()
    cls = crush.get_item_class(osd)
    crush.remove_osd(osd)
    crush.add_osd(osd, weight, loc)
    if cls is not None:
        crush.set_item_class(osd, cls)
    return Reply(
        outs=f"set item id {osd} name 'osd.{osd}' weight {weight:g} at location "
        f"{_loc_str(loc)} to crush map",
        changed={"osdmap"},
    )


def _loc_str(loc: dict[str, str]) -> str:
    return "{" + ",".join(f"{k}={v}" for k, v in sorted(loc.items())) + "}"
