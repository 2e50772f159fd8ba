"""The `rbd` module's surface against upstream's inventory (`shared/spec/api/rbd_api.json`).

Every class, method (parameter names, order, defaults), constant (value), exception
(base, message prefix) and errno map entry of python3-rbd 16.2.15 must exist as
upstream has it.  What is not there yet must be listed in `PENDING` with a reason;
the set only shrinks.  Plus the argument checks that need no cluster.
"""

from __future__ import annotations

import ast
import errno
import inspect
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

import rbd
from rbd import _errors

#: upstream's API inventory (a copy of shared/spec/api/rbd_api.json)
SPEC_PATH = Path(__file__).resolve().parent / "data" / "spec" / "rbd_api.json"

#: (class, method) -> why it does not match upstream yet
PENDING: dict[tuple[str, str], str] = {}


SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text())


def _params(sig: str) -> list[tuple[str, Any]]:
    """(name, default expression or a sentinel) of a spec signature string."""
    fn = ast.parse(f"def {sig}: pass").body[0]
    assert isinstance(fn, ast.FunctionDef)
    args = fn.args.args
    defaults = [None] * (len(args) - len(fn.args.defaults)) + list(fn.args.defaults)
    out = []
    for a, d in zip(args, defaults, strict=True):
        out.append((a.arg, inspect.Parameter.empty if d is None else _eval_default(d)))
    return out


def _eval_default(node: ast.expr) -> Any:
    if isinstance(node, ast.Name):
        return getattr(rbd, node.id)
    return ast.literal_eval(node)


def _unwrapped(fn: Any) -> Any:
    """The method under `requires_not_closed` (which, as upstream, keeps no __wrapped__)."""
    if fn.__name__ == "wrapper" and fn.__closure__:
        return fn.__closure__[0].cell_contents
    return fn


def _methods() -> list[tuple[str, dict[str, Any]]]:
    return [(c["name"], m) for c in SPEC.get("classes", []) for m in c["methods"]]


def test_counts() -> None:
    assert SPEC["counts"]["methods_total"] == 216
    assert len(SPEC["constants"]) == 91
    assert len(SPEC["exceptions"]) == 22


@pytest.mark.parametrize("const", SPEC.get("constants", []), ids=lambda c: c["name"])
def test_constant(const: dict[str, Any]) -> None:
    assert getattr(rbd, const["name"]) == const["value"]
    assert type(getattr(rbd, const["name"])).__name__ == const["type"]


@pytest.mark.parametrize("exc", SPEC.get("exceptions", []), ids=lambda e: e["name"])
def test_exception(exc: dict[str, Any]) -> None:
    cls = getattr(rbd, exc["name"])
    mro = [c.__name__ for c in cls.__mro__[1:]]
    assert mro == exc["mro"]
    for entry in exc["errno"]:
        table = (_errors.errno_to_exception, _errors.group_errno_to_exception)[entry["map"]]
        assert table[entry["errno"]] is cls
    if exc["errno"]:
        e = cls("MSG", errno=exc["errno"][0]["errno"])
        assert str(e) == exc["str_example"]


def test_errno_maps() -> None:
    for table in SPEC["errno_to_exception"]:
        ours = (_errors.errno_to_exception, _errors.group_errno_to_exception)[table["map_index"]]
        assert {e["errno"]: e["exception"] for e in table["entries"]} == {
            k: v.__name__ for k, v in ours.items()
        }


@pytest.mark.parametrize("cls", SPEC.get("classes", []), ids=lambda c: c["name"])
def test_class(cls: dict[str, Any]) -> None:
    ours = getattr(rbd, cls["name"])
    assert inspect.isclass(ours)
    if cls.get("constructor"):
        init = _params(cls["constructor"].replace(cls["name"], "f", 1))
        got = list(inspect.signature(ours.__init__).parameters.items())[1:]
        assert [(n, p.default) for n, p in got] == init
    assert bool(cls.get("is_context_manager")) == hasattr(ours, "__enter__")
    assert bool(cls.get("is_iterator")) == hasattr(ours, "__iter__")


@pytest.mark.parametrize("cm", _methods(), ids=lambda cm: f"{cm[0]}.{cm[1]['name']}")
def test_method(cm: tuple[str, dict[str, Any]]) -> None:
    cname, m = cm
    if (cname, m["name"]) in PENDING:
        pytest.xfail(PENDING[(cname, m["name"])])
    fn = getattr(getattr(rbd, cname), m["name"], None)
    assert fn is not None, f"{cname}.{m['name']} missing"
    sig = m.get("signature")
    if not sig:
        return
    wrapped = "requires_not_closed" in m.get("wrapped_by", [])
    if wrapped:
        # as upstream: the decorator hides the signature
        assert list(inspect.signature(fn).parameters) == ["self", "args", "kwargs"]
    want = _params(sig)
    got = inspect.signature(_unwrapped(fn)).parameters
    assert [(n, p.default) for n, p in got.items()] == want


def test_public_names() -> None:
    want = (
        {c["name"] for c in SPEC["constants"]}
        | {e["name"] for e in SPEC["exceptions"]}
        | {c["name"] for c in SPEC["classes"]}
        | {f["name"] for f in SPEC["module_functions"]}
    )
    # upstream's module imports, visible as its attributes and to `from rbd import *`
    imports = {"Iterable", "chain", "datetime", "errno", "json", "sys", "time"}
    assert set(rbd.__all__) == want | imports
    for name in want:
        assert hasattr(rbd, name)


def test_pending_only_shrinks() -> None:
    for cname, mname in PENDING:
        assert any(c == cname and m["name"] == mname for c, m in _methods())


# -- behaviour that needs no cluster ------------------------------------------------------


def test_exception_str_and_attrs() -> None:
    e = rbd.ImageNotFound("error opening image b'x' at snapshot None", errno=2)
    assert str(e) == "[errno 2] RBD image not found (error opening image b'x' at snapshot None)"
    assert e.errno == 2
    assert isinstance(e, rbd.OSError) and isinstance(e, rbd.Error)
    assert not isinstance(e, OSError)  # not the builtin
    assert str(rbd.InvalidArgument("image is closed")) == "RBD invalid argument (image is closed)"
    assert rbd.Error("plain").__class__.__mro__[1] is Exception
    with pytest.raises(AttributeError):
        pickle.dumps(e)


def test_make_ex() -> None:
    assert type(_errors.make_ex(-errno.ENOENT, "m")) is rbd.ImageNotFound
    assert type(_errors.make_ex(errno.EEXIST, "m")) is rbd.ImageExists
    g = _errors.make_ex(errno.ENOENT, "m", _errors.group_errno_to_exception)
    assert type(g) is rbd.ObjectNotFound
    other = _errors.make_ex(-errno.ERANGE, "m")
    assert type(other) is rbd.OSError and other.errno == errno.ERANGE
    assert str(other) == "[errno 34] m"


def test_cstr_and_decode() -> None:
    assert rbd.cstr("a", "n") == b"a"
    assert rbd.cstr(b"a", "n") == b"a"
    assert rbd.cstr(None, "n", opt=True) is None
    with pytest.raises(rbd.InvalidArgument) as ei:
        rbd.cstr(1, "name")
    assert str(ei.value) == "RBD invalid argument (name must be a string)"
    assert ei.value.errno is None
    assert rbd.decode_cstr(b"x") == "x"
    assert rbd.decode_cstr(None) is None


def test_requires_not_closed_has_no_wraps() -> None:
    @rbd.requires_not_closed
    def f(self: Any) -> int:
        return 1

    assert f.__name__ == "wrapper"

    class Closed:
        def require_not_closed(self) -> None:
            raise rbd.InvalidArgument("image is closed")

    with pytest.raises(rbd.InvalidArgument):
        f(Closed())


def test_version_and_features_strings() -> None:
    r = rbd.RBD()
    assert r.version() == (1, 16, 0)
    assert r.features_to_string(61) == "deep-flatten,exclusive-lock,fast-diff,layering,object-map"
    assert r.features_from_string("layering,exclusive-lock") == 5
    assert r.features_from_string("") == 61
    with pytest.raises(rbd.InvalidArgument):
        r.features_to_string(1 << 20)
    with pytest.raises(rbd.InvalidArgument):
        r.features_from_string("no-such-feature")
    with pytest.raises(rbd.InvalidArgument):
        r.features_from_string(5)  # cstr

    # C integer conversions as Cython 0.29 does them (checked against python3-rbd 16.2.15)
    assert r.features_to_string(61.7) == r.features_to_string(61)  # floats truncate
    assert r.features_to_string(True) == "layering"
    for bad in ("61", b"61", None):
        with pytest.raises(TypeError, match="^an integer is required$"):
            r.features_to_string(bad)

    class IndexOnly:
        def __index__(self) -> int:
            return 1

    class IntOnly:
        def __int__(self) -> int:
            return 1

    with pytest.raises(TypeError, match="^an integer is required$"):
        r.features_to_string(IndexOnly())
    assert r.features_to_string(IntOnly()) == "layering"
    with pytest.raises(OverflowError, match="^can't convert negative value to uint64_t$"):
        r.features_to_string(-1)
    with pytest.raises(OverflowError, match="^Python int too large to convert to C unsigned long$"):
        r.features_to_string(2**64)
    with pytest.raises(rbd.InvalidArgument, match=r"^\[errno 22\] RBD invalid argument \(error"):
        r.features_to_string(2**64 - 1)
    assert r.features_from_string("layering, striping") == 3


def test_bad_ioctx_types() -> None:
    r = rbd.RBD()
    with pytest.raises(TypeError, match="^Cannot convert str to rados.Ioctx$"):
        r.create("not-an-ioctx", "img", 1024)
    with pytest.raises(TypeError, match="^Cannot convert str to rados.Rados$"):
        r.mirror_site_name_get("cluster")
    with pytest.raises(TypeError):
        r.list(None)
    with pytest.raises(rbd.InvalidArgument, match="name must be a string"):
        r.create("not-an-ioctx", 5, 1024)  # names are converted first, as upstream
    with pytest.raises(rbd.InvalidArgument, match="image name or image id was not specified"):
        rbd.Image("ioctx")
    with pytest.raises(rbd.InvalidArgument, match="only need to specify image name or image id"):
        rbd.Image("ioctx", "a", image_id="b")
    with pytest.raises(TypeError):
        rbd.Image("ioctx", "a")
    with pytest.raises(TypeError, match="expected rbd.Image"):
        rbd.SnapIterator("x")


def test_old_format_rejects_options_before_io() -> None:
    import rados

    # no cluster needed: the check comes before anything reaches the engine
    io = object.__new__(rados.Ioctx)
    with pytest.raises(rbd.InvalidArgument, match="format 1 images do not support"):
        rbd.RBD().create(io, "img", 1 << 20, old_format=True, features=1)


# -- Completion, on a real loop thread (no cluster) ------------------------------------------


@pytest.fixture
def loop_thread() -> Any:
    from pyceph.client.loop_thread import LoopThread

    lt = LoopThread("rbd-facade-test").start()
    yield lt
    lt.stop()


def test_completion_callback_before_complete(loop_thread: Any) -> None:
    import sys
    import threading

    from rbd._completion import launch

    seen: list[Any] = []

    def cb(comp: rbd.Completion) -> None:
        seen.append((comp.is_complete(), comp.get_return_value(), threading.current_thread()))

    async def op() -> tuple[int, bytes]:
        return 3, b"abc"

    comp = launch(rbd.Completion(None, cb), loop_thread, op())
    comp.wait_for_complete_and_cb()
    assert comp.is_complete() and comp.get_return_value() == 3 and comp._buf == b"abc"
    assert seen[0][:2] == (False, 3)  # librbd marks it complete after the callback
    assert seen[0][2] is not threading.current_thread()
    assert sys.getrefcount(comp) == 2


def test_completion_error_and_callback_exception(loop_thread: Any) -> None:
    from pyceph.common.errors import CephError
    from rbd._completion import launch

    async def fail() -> int:
        raise CephError(errno.ENOENT, "gone")

    def cb(comp: rbd.Completion) -> None:
        raise ValueError(comp.get_return_value())

    comp = launch(rbd.Completion(None, cb), loop_thread, fail())
    with pytest.raises(ValueError, match="-2"):
        comp.wait_for_complete_and_cb()
    assert comp.get_return_value() == -errno.ENOENT


def test_completion_kept_alive_until_callback(loop_thread: Any) -> None:
    import asyncio
    import concurrent.futures
    import gc
    import threading

    from rbd._completion import launch

    done = threading.Event()
    gate: concurrent.futures.Future[int] = concurrent.futures.Future()

    async def op() -> int:
        return await asyncio.wrap_future(gate)

    launch(rbd.Completion(None, lambda comp: done.set()), loop_thread, op())  # dropped
    gc.collect()
    gate.set_result(0)
    assert done.wait(10)


def test_every_wrapped_method_refuses_a_closed_image() -> None:
    image = object.__new__(rbd.Image)
    image._closed = True  # what close() leaves behind
    wrapped = [m for c, m in _methods() if c == "Image" and m.get("wrapped_by")]
    assert len(wrapped) > 90
    for m in wrapped:
        params = _params(m["signature"])[1:]
        args = [object() for _, d in params if d is inspect.Parameter.empty]
        with pytest.raises(
            rbd.InvalidArgument, match=r"^RBD invalid argument \(image is closed\)$"
        ):
            getattr(image, m["name"])(*args)


def test_public_classes_report_module_rbd() -> None:
    """Upstream's classes live in the compiled `rbd` module (`__module__ == "rbd"`)."""
    for name in ("ImageNotFound", "Error", "OSError", "Completion", "Image", "RBD", "cstr"):
        assert getattr(rbd, name).__module__ == "rbd"
    # names rbd only re-exports keep their own module
    assert rbd.datetime.__module__ == "datetime"
