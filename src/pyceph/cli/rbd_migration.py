"""`rbd migration prepare|execute|abort|commit`: live image migration (action/Migration.cc).

``prepare`` links a source image (or, with ``--import-only``, a ``--source-spec``/
``--source-spec-path`` JSON source) to a new destination; ``execute`` copies with
``Image migration`` progress; ``commit`` and ``abort`` finish or undo it.
"""

from __future__ import annotations

from pyceph.cli.rbd_args import (
    MOD_DEST,
    SNAP_NONE,
    SNAP_PERMITTED,
    SPEC_FULL,
    SPEC_NONE,
    CliError,
    action,
    get_image_options,
    get_names,
)
from pyceph.cli.rbd_context import Ctx, cpp_strerror
from pyceph.cli.rbd_image import create_kwargs
from pyceph.cli.rbd_progress import ProgressContext

__all__: list[str] = []


@action(
    "migration prepare",
    groups=("snap", "dest", "create", "create-format"),
    options=("import-only", "source-spec", "source-spec-path", "flatten"),
    description="Prepare image migration.",
)
def do_prepare(ctx: Ctx) -> int:
    args = ctx.args
    import_only = args.flag("import-only")
    source_spec = args.get("source-spec")
    if args.has("source-spec-path"):
        if source_spec is not None:
            raise CliError("rbd: --source-spec and --source-spec-path are mutually exclusive")
        try:
            with open(args.get("source-spec-path")) as fh:
                source_spec = fh.read()
        except OSError as e:
            raise CliError(
                f"rbd: failed to read source-spec file: {cpp_strerror(e.errno or 5)}", e.errno or 5
            )
    if import_only and source_spec is None:
        src = get_names(args, snap=SNAP_PERMITTED, validation=SPEC_NONE)
    elif not import_only:
        if source_spec is not None:
            raise CliError("rbd: --source-spec requires --import-only")
        src = get_names(args, snap=SNAP_NONE, validation=SPEC_NONE)
    else:
        src = None
    dst = get_names(args, mod=MOD_DEST, snap=SNAP_NONE, validation=SPEC_FULL, required=False)
    opts = get_image_options(args, True)
    kw = create_kwargs(ctx, opts)
    rbd = ctx.rbd.RBD()
    try:
        if src is None:
            if not dst.image:
                raise CliError("rbd: destination image name was not specified")
            dst_ioctx = ctx.open_ioctx(dst.pool, dst.namespace)
            rbd.migration_prepare_import(source_spec, dst_ioctx, dst.image, **kw)
        elif import_only:
            raise CliError("rbd: --import-only requires --source-spec or --source-spec-path")
        else:
            ioctx = ctx.open_ioctx(src.pool, src.namespace)
            if not dst.pool and not dst.image:
                dst.pool, dst.namespace, dst.image = src.pool, src.namespace, src.image
            dst_ioctx = ctx.open_ioctx(dst.pool or src.pool, dst.namespace)
            rbd.migration_prepare(ioctx, src.image, dst_ioctx, dst.image or src.image, **kw)
    except ctx.errors as e:
        raise ctx.failed("preparing migration failed", e)
    return 0


def _run(ctx: Ctx, what: str, label: str, method: str, **extra: object) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    ioctx = ctx.open_ioctx(spec.pool, spec.namespace)
    pc = ProgressContext(label, ctx.args.flag("no-progress"), ctx.err)
    try:
        getattr(ctx.rbd.RBD(), method)(ioctx, spec.image, on_progress=pc, **extra)
    except ctx.errors as e:
        pc.fail()
        raise ctx.failed(f"{what} migration failed", e)
    pc.finish()
    return 0


@action("migration execute", groups=("image", "progress"), description="Execute image migration.")
def do_execute(ctx: Ctx) -> int:
    return _run(ctx, "executing", "Image migration", "migration_execute")


@action(
    "migration abort",
    groups=("image", "progress"),
    description="Cancel interrupted image migration.",
)
def do_abort(ctx: Ctx) -> int:
    return _run(ctx, "aborting", "Abort image migration", "migration_abort")


@action(
    "migration commit",
    groups=("image", "progress"),
    options=("force",),
    description="Commit image migration.",
)
def do_commit(ctx: Ctx) -> int:
    return _run(ctx, "committing", "Commit image migration", "migration_commit")
