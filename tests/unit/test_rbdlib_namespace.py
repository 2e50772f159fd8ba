"""RBD namespaces (`pyceph.rbdlib.namespace`, upstream librbd api/Namespace.cc) on the
embedded cluster: rbd_namespace's omap as upstream writes it, the namespace's own
rbd_directory, images and trash kept apart per namespace, and the errnos."""

# ruff: noqa: F811  (pytest fixtures imported from rbdlib_pool_env)
from __future__ import annotations

import errno

from pyceph.rbdlib import namespace, pool, trash
from pyceph.rbdlib.layout import RBD_DIRECTORY, RBD_NAMESPACE

from .rbdlib_pool_env import Env, MiB, cluster, env  # noqa: F401 - fixtures


def test_namespace_layout_and_isolation(env: Env) -> None:
    io = env.ioctx
    assert env.run(namespace.namespace_list(io)) == []
    assert env.run(namespace.namespace_exists(io, "ns1")) is False
    env.run(namespace.namespace_create(io, "ns1"))
    env.run(namespace.namespace_create(io, "a/b"))
    assert env.omap(RBD_NAMESPACE) == {"name_a/b": b"", "name_ns1": b""}
    nio = io.copy(nspace="ns1")
    assert env.omap(RBD_DIRECTORY, nio) == {"state": b"\x00"}  # DIRECTORY_STATE_READY
    assert RBD_DIRECTORY in env.objects(nio)
    assert env.run(namespace.namespace_list(io)) == ["a/b", "ns1"]
    assert env.run(namespace.namespace_exists(io, "ns1")) is True
    iid = env.create("img", MiB, ioctx=nio)
    assert env.run(pool.list_images(nio)) == ["img"]
    assert env.run(pool.list_images(io)) == []
    assert f"rbd_header.{iid}" in env.objects(nio)
    assert f"rbd_header.{iid}" not in env.objects()
    # images and trash entries keep a namespace busy
    assert env.err(namespace.namespace_remove(io, "ns1")) == errno.EBUSY
    env.run(trash.trash_move(nio, "img"))
    assert env.run(trash.trash_list(io)) == []
    assert env.err(namespace.namespace_remove(io, "ns1")) == errno.EBUSY
    env.run(trash.trash_remove(nio, iid, True))
    env.run(namespace.namespace_remove(io, "ns1"))
    assert env.omap(RBD_NAMESPACE) == {"name_a/b": b""}
    # (rbd_info is the pool-validation mark; upstream writes it in the default namespace)
    assert env.objects(nio) <= {"rbd_info"}


def test_bad_input(env: Env) -> None:
    io = env.ioctx
    env.run(namespace.namespace_create(io, "ns"))
    assert env.err(namespace.namespace_create(io, "ns")) == errno.EEXIST
    assert env.err(namespace.namespace_create(io, "")) == errno.EINVAL
    assert env.err(namespace.namespace_remove(io, "")) == errno.EINVAL
    assert env.err(namespace.namespace_remove(io, "missing")) == errno.ENOENT
    from pyceph.rbdlib.create import create

    assert env.err(create(io.copy(nspace="missing"), "x", MiB, features=1)) == errno.ENOENT
    assert env.run(pool.list_images(io.copy(nspace="missing"))) == []


def test_clones_and_children_in_a_namespace(env: Env) -> None:
    """Clone v1 stays inside one namespace (EXDEV across, CloneRequest::validate_options);
    the parent lists its v1 children from the rbd_children of its own namespace."""
    from pyceph.rbdlib.clone import clone

    io = env.ioctx
    env.run(namespace.namespace_create(io, "ns1"))
    env.run(namespace.namespace_create(io, "ns2"))
    nio, n2io = io.copy(nspace="ns1"), io.copy(nspace="ns2")
    env.create("img", MiB, ioctx=nio)
    img = env.open("img", ioctx=nio)
    try:
        env.run(img.create_snap("s"))
        env.run(img.protect_snap("s"))
        across = clone(nio, "img", "s", n2io, "child", clone_format=1)
        assert env.err(across) == errno.EXDEV
        assert env.run(pool.list_images(n2io)) == []
        env.run(clone(nio, "img", "s", nio, "child", clone_format=1))
        env.run(img.set_snap("s"))
        kids = env.run(img.list_children2())
        assert [(c["pool_namespace"], c["image"], c["trash"]) for c in kids] == [
            ("ns1", "child", False)
        ]
        assert env.run(img.list_children()) == [(env.pool_name, "child")]
    finally:
        env.run(img.close())
