"""Sans-I/O renderers of the `rbd info`, `rbd ls -l` and `rbd snap ls` outputs.

The actions gather plain data (`ImageInfo`, `LsRow`, `SnapRow`) from the rbd
module; these functions turn it into upstream's text — the ``rbd image 'x':`` block
of Info.cc, the ``NAME SIZE PARENT FMT PROT LOCK`` table of List.cc, the
``SNAPID NAME SIZE PROTECTED TIMESTAMP`` table of Snap.cc — or fill a json/xml
`Formatter` with the same keys, in the same order, as the reference samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyceph.cli.rbd_args import FEATURE_MAPPING, FLAG_MAPPING, OP_FEATURE_MAPPING
from pyceph.cli.rbd_format import Formatter, prettybyte
from pyceph.common.output import TextTable

__all__ = [
    "ImageInfo",
    "LsRow",
    "ParentSpec",
    "SnapRow",
    "mask_names",
    "render_info",
    "render_ls_long",
    "render_snap_list",
]

#: `snap_get_limit` when no limit is set
NO_SNAP_LIMIT = (1 << 64) - 1


def mask_names(mapping: tuple[tuple[int, str], ...], bits: int) -> list[str]:
    """The names of the bits set in `bits`, in upstream's map order."""
    return [name for bit, name in mapping if bits & bit]


@dataclass
class ParentSpec:
    """A clone's parent: pool, namespace, image (and id), snapshot, in trash or not."""

    pool: str
    namespace: str
    image: str
    snapshot: str
    image_id: str = ""
    trash: bool = False

    def spec(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.pool}/{ns}{self.image}@{self.snapshot}"


@dataclass
class ImageInfo:
    """What `rbd info` shows of one image (or snapshot)."""

    name: str
    id: str
    size: int
    objects: int
    order: int
    object_size: int
    snapshot_count: int
    block_name_prefix: str
    format: int = 2
    data_pool: str = ""
    features: int = 0
    op_features: int = 0
    flags: int = 0
    group: str = ""
    timestamps: list[tuple[str, str]] = field(default_factory=list)
    protected: bool | None = None
    snap_limit: int = NO_SNAP_LIMIT
    parent: ParentSpec | None = None
    overlap: int = 0
    stripe: tuple[int, int] | None = None


def render_info(info: ImageInfo, f: Formatter | None) -> str:
    """do_show_info: the plain block, or the `image` object flushed from `f`."""
    bitmasks = (
        ("features", FEATURE_MAPPING, info.features),
        ("op_features", OP_FEATURE_MAPPING, info.op_features),
        ("flags", FLAG_MAPPING, info.flags),
    )
    if f is not None:
        f.open_object_section("image")
        if info.name:
            f.dump_string("name", info.name)
        f.dump_string("id", info.id)
        f.dump_unsigned("size", info.size)
        f.dump_unsigned("objects", info.objects)
        f.dump_int("order", info.order)
        f.dump_unsigned("object_size", info.object_size)
        f.dump_int("snapshot_count", info.snapshot_count)
        if info.data_pool:
            f.dump_string("data_pool", info.data_pool)
        f.dump_string("block_name_prefix", info.block_name_prefix)
        f.dump_int("format", info.format)
        if info.format != 1:
            for group, mapping, bits in bitmasks:
                f.open_array_section(group)
                for n in mask_names(mapping, bits):
                    f.dump_string(group[:-1], n)
                f.close_section()
        if info.group:
            f.dump_string("group", info.group)
        for key, text in info.timestamps:
            f.dump_string(key, text)
        if info.protected is not None:
            f.dump_string("protected", "true" if info.protected else "false")
        if info.snap_limit < NO_SNAP_LIMIT:
            f.dump_unsigned("snapshot_limit", info.snap_limit)
        if info.parent is not None:
            p = info.parent
            f.open_object_section("parent")
            f.dump_string("pool", p.pool)
            f.dump_string("pool_namespace", p.namespace)
            f.dump_string("image", p.image)
            f.dump_string("id", p.image_id)
            f.dump_string("snapshot", p.snapshot)
            f.dump_bool("trash", p.trash)
            f.dump_unsigned("overlap", info.overlap)
            f.close_section()
        if info.stripe is not None:
            f.dump_unsigned("stripe_unit", info.stripe[0])
            f.dump_unsigned("stripe_count", info.stripe[1])
        f.close_section()
        return f.render()
    lines = [
        f"rbd image '{info.name or info.id}':",
        f"\tsize {prettybyte(info.size)} in {info.objects} objects",
        f"\torder {info.order} ({prettybyte(info.object_size)} objects)",
        f"\tsnapshot_count: {info.snapshot_count}",
    ]
    if info.id:
        lines.append(f"\tid: {info.id}")
    if info.data_pool:
        lines.append(f"\tdata_pool: {info.data_pool}")
    lines.append(f"\tblock_name_prefix: {info.block_name_prefix}")
    lines.append(f"\tformat: {info.format}")
    if info.format != 1:
        for group, mapping, bits in bitmasks:
            lines.append(f"\t{group}: {', '.join(mask_names(mapping, bits))}")
    if info.group:
        lines.append(f"\tgroup: {info.group}")
    for key, text in info.timestamps:
        lines.append(f"\t{key}: {text}")
    if info.protected is not None:
        lines.append(f"\tprotected: {'True' if info.protected else 'False'}")
    if info.snap_limit < NO_SNAP_LIMIT:
        lines.append(f"\tsnapshot_limit: {info.snap_limit}")
    if info.parent is not None:
        text = f"\tparent: {info.parent.spec()}"
        if info.parent.trash:
            text += f" (trash {info.parent.image_id})"
        lines.append(text)
        lines.append(f"\toverlap: {prettybyte(info.overlap)}")
    if info.stripe is not None:
        lines.append(f"\tstripe unit: {prettybyte(info.stripe[0])}")
        lines.append(f"\tstripe count: {info.stripe[1]}")
    return "\n".join(lines) + "\n"


@dataclass
class LsRow:
    """One `rbd ls -l` row: an image, or one of its snapshots when `snapshot` is set."""

    image: str
    id: str
    size: int
    format: int
    parent: ParentSpec | None = None
    snapshot: str = ""
    snapshot_id: int = 0
    protected: bool = False
    lock: str = ""  # "exclusive", "shared" or ""


_LOCK_SHORT = {"exclusive": "excl", "shared": "shr"}


def _dump_parent_short(f: Formatter, p: ParentSpec) -> None:
    f.open_object_section("parent")
    f.dump_string("pool", p.pool)
    f.dump_string("pool_namespace", p.namespace)
    f.dump_string("image", p.image)
    f.dump_string("snapshot", p.snapshot)
    f.close_section()


def render_ls_long(rows: list[LsRow], f: Formatter | None) -> str:
    """List.cc's long listing."""
    if f is not None:
        f.open_array_section("images")
        for r in rows:
            f.open_object_section("snapshot" if r.snapshot else "image")
            f.dump_string("image", r.image)
            f.dump_string("id", r.id)
            if r.snapshot:
                f.dump_string("snapshot", r.snapshot)
                f.dump_unsigned("snapshot_id", r.snapshot_id)
            f.dump_unsigned("size", r.size)
            if r.parent is not None:
                _dump_parent_short(f, r.parent)
            f.dump_int("format", r.format)
            if r.snapshot:
                f.dump_string("protected", "true" if r.protected else "false")
            elif r.lock:
                f.dump_string("lock_type", r.lock)
            f.close_section()
        f.close_section()
        return f.render()
    if not rows:
        return ""
    tbl = TextTable()
    for head, align in (
        ("NAME", "left"),
        ("SIZE", "right"),
        ("PARENT", "left"),
        ("FMT", "right"),
        ("PROT", "left"),
        ("LOCK", "left"),
    ):
        tbl.define_column(head, "left", align)
    for r in rows:
        tbl.add_row(
            [
                f"{r.image}@{r.snapshot}" if r.snapshot else r.image,
                prettybyte(r.size),
                r.parent.spec() if r.parent is not None else "",
                r.format,
                "yes" if r.snapshot and r.protected else "",
                _LOCK_SHORT.get(r.lock, ""),
            ]
        )
    return str(tbl)


@dataclass
class SnapRow:
    """One `rbd snap ls` row."""

    id: int
    name: str
    size: int
    protected: bool
    timestamp: str
    namespace: str = "user"
    namespace_text: str = "user"
    #: extra keys of the json/xml `namespace` object (group: pool, group, group snap)
    namespace_detail: list[tuple[str, str]] = field(default_factory=list)


def render_snap_list(rows: list[SnapRow], f: Formatter | None, show_all: bool = False) -> str:
    """Snap.cc's listing (``--all`` adds the NAMESPACE column / `namespace` object)."""
    if f is not None:
        f.open_array_section("snapshots")
        for r in rows:
            f.open_object_section("snapshot")
            f.dump_unsigned("id", r.id)
            f.dump_string("name", r.name)
            f.dump_unsigned("size", r.size)
            f.dump_string("protected", "true" if r.protected else "false")
            f.dump_string("timestamp", r.timestamp)
            if show_all:
                f.open_object_section("namespace")
                f.dump_string("type", r.namespace)
                for key, value in r.namespace_detail:
                    f.dump_string(key, value)
                f.close_section()
            f.close_section()
        f.close_section()
        return f.render()
    if not rows:
        return ""
    tbl = TextTable()
    tbl.define_column("SNAPID", "left", "right")
    tbl.define_column("NAME", "left", "left")
    tbl.define_column("SIZE", "left", "right")
    tbl.define_column("PROTECTED", "left", "left")
    tbl.define_column("TIMESTAMP", "left", "left")
    if show_all:
        tbl.define_column("NAMESPACE", "left", "left")
    for r in rows:
        row = [r.id, r.name, prettybyte(r.size), "yes" if r.protected else "", r.timestamp]
        if show_all:
            row.append(r.namespace_text)
        tbl.add_row(row)
    return str(tbl)
