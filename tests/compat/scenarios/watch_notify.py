"""Watch/notify: watch callback arguments, notify return, aio_notify ack lists with the
watcher's reply, Watch.check/get_id/close/context manager, notify without watchers,
missing objects, and the error callback after the watched object is deleted."""

import time

import rados


def wait_for(pred, timeout=3.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def run(s):
    r = s.cluster()
    pool = s.make_pool()
    io = r.open_ioctx(pool)
    r2 = s.new_cluster()
    io2 = r2.open_ioctx(pool)
    iid1 = r.get_instance_id()
    iid2 = r2.get_instance_id()
    s.step("setup_write", lambda: io.write_full("obj", b"x"))

    got = []
    errors = []

    def cb(notify_id, notifier_id, watch_id, data):
        got.append((notify_id, notifier_id, watch_id, data))
        return b"ack:" + (data or b"")

    w = s.step(
        "watch",
        lambda: io.watch("obj", cb, lambda wid, err: errors.append((wid, err))),
        norm=lambda w: None,
    )
    wid = w.get_id() if w is not None else None
    s.step("watch_get_id", lambda: w.get_id(), norm=s.INT_POS)
    s.step("watch_check", lambda: w.check())
    s.step("notify", lambda: io2.notify("obj", "hello", 5000))
    s.step(
        "callback_args",
        lambda: (
            wait_for(lambda: got)
            and [
                (type(n).__name__, notifier == iid2, w_id == wid, data)
                for n, notifier, w_id, data in got
            ]
        ),
    )
    s.step("notify_default_msg", lambda: io2.notify("obj"))
    s.step("callback_default_msg", lambda: wait_for(lambda: len(got) >= 2) and got[1][3])
    s.step("notify_bytes_msg", lambda: io2.notify("obj", b"bytes"))

    def aio_notify(ioctx, obj, msg):
        res = []
        c = ioctx.aio_notify(
            obj,
            lambda comp, ret, acks, timeouts: res.append((ret, acks, timeouts)),
            msg=msg,
            timeout_ms=5000,
        )
        c.wait_for_complete_and_cb()
        ret, acks, timeouts = res[0] if res else (None, None, None)
        if acks:
            acks = [(nid == iid1, cookie == wid, data) for nid, cookie, data in acks]
        return (c.get_return_value(), ret, acks, timeouts)

    s.step("aio_notify", lambda: aio_notify(io2, "obj", "ping"))
    s.step("aio_notify_missing_obj", lambda: aio_notify(io2, "nope", "ping"))
    s.step("notify_missing_obj", lambda: io2.notify("nope", "x"))
    s.step("watch_missing_obj", lambda: io.watch("nope", cb))
    s.step("notify_self", lambda: io.notify("obj", "self"))
    s.step("watch_close", lambda: w.close())
    s.step("notify_after_close", lambda: io2.notify("obj", "closed"))
    s.step("aio_notify_no_watchers", lambda: aio_notify(io2, "obj", "nobody"))
    s.step("callbacks_total", lambda: len(got))

    def ctx():
        seen = []
        with io.watch("obj", lambda *a: seen.append(a[3])) as w2:
            io2.notify("obj", "ctx")
            wait_for(lambda: seen)
            return (type(w2).__name__, seen)

    s.step("watch_context_manager", ctx)

    def slow_cb(notify_id, notifier_id, watch_id, data):
        time.sleep(1.0)
        return b"late"

    w3 = s.step("watch_slow", lambda: io.watch("obj", slow_cb), norm=lambda w: None)
    s.step("notify_timeout", lambda: io2.notify("obj", "slow", 500))
    s.step("aio_notify_timeout", lambda: (lambda res: res)(_aio_timeout(io2, iid1)))
    s.step("watch_slow_close", lambda: (time.sleep(1.2), w3.close())[1])

    errs = []
    w4 = s.step(
        "watch_for_error",
        lambda: io.watch("obj", cb, lambda wid, err: errs.append(err)),
        norm=lambda w: None,
    )
    s.step("remove_watched_object", lambda: io2.remove_object("obj"))
    s.step("error_callback", lambda: wait_for(lambda: errs, 5) and errs[:1])
    s.step("check_after_error", lambda: w4.check())
    s.step("close_after_error", lambda: w4.close())
    s.step(
        "watch_timeout_arg",
        lambda: (io.write_full("t", b""), io.watch("t", cb, timeout=5))[1],
        norm=lambda w: None,
    )
    s.step("not_connected_errno", lambda: rados.NotConnected("x", errno=107).errno)


def _aio_timeout(ioctx, watcher_iid):
    res = []
    c = ioctx.aio_notify(
        "obj",
        lambda comp, ret, acks, timeouts: res.append((ret, acks, timeouts)),
        msg="slow2",
        timeout_ms=500,
    )
    c.wait_for_complete_and_cb()
    ret, acks, timeouts = res[0] if res else (None, None, None)
    if acks:
        acks = [(nid == watcher_iid, type(cookie).__name__, data) for nid, cookie, data in acks]
    if timeouts:
        timeouts = [(nid == watcher_iid, type(cookie).__name__) for nid, cookie in timeouts]
    return (c.get_return_value(), ret, acks, timeouts)
