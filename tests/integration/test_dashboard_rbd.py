"""``/api/block/image`` (images, snapshots, clones, trash) of the dashboard on a real cluster.

Daemons as processes, the module enabled over HTTPS (the set-up of
`test_dashboard_api`). The walk-through a person does in the UI, as HTTP requests:
log in, create a pool and an image, resize, snapshot, protect, clone, flatten, copy,
trash and restore, delete; the answers' keys are those of the real Ceph 16.2.15
(`tests/unit/data/dashboard-api-block-image-samples_rbd.json`); errors are
upstream's; a read-only user is refused writes with 403.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from tests.conftest import make_cluster
from tests.dashboard_client import V2, Dashboard, serving
from tests.waiting import wait_until

import rbd

SAMPLE = json.loads(
    (
        Path(__file__).parents[1] / "unit" / "data" / "dashboard-api-block-image-samples_rbd.json"
    ).read_text()
)
MiB = 1 << 20
BASE = "/api/block/image"
#: bound on waiting for a task that answered 202
TASK_WAIT = 60.0


@pytest.fixture(scope="module")
def dash() -> Iterator[Dashboard]:
    with tempfile.TemporaryDirectory(prefix="pyceph-dashrbd-") as tmp:
        cluster = make_cluster(os.path.join(tmp, "c"))
        with serving(cluster) as d:
            yield d


@pytest.fixture
def pool(dash: Dashboard) -> Iterator[str]:
    name = f"dr-{uuid.uuid4().hex[:8]}"
    body = {"pool": name, "pg_num": 8, "application_metadata": ["rbd"]}
    status, _, doc = dash.as_admin("POST", "/api/pool", body)
    assert status == 201, doc
    yield name
    assert dash.as_admin("DELETE", f"/api/pool/{name}")[0] == 204


def spec(*parts: str) -> str:
    return quote("/".join(parts), safe="")


def done(dash: Dashboard, status: int, doc: object, ok: int) -> None:
    """The task answered `ok`, or 202 and then finished successfully."""
    if status == 202:
        assert isinstance(doc, dict)

        def finished() -> bool:
            tasks = dash.as_admin("GET", f"/api/task?name={doc['name']}")[2]
            return any(
                t["metadata"] == doc["metadata"] and t["success"] for t in tasks["finished_tasks"]
            )

        wait_until(finished, f"task {doc['name']}", TASK_WAIT)
        return
    assert status == ok, doc


def test_image_walk_through(dash: Dashboard, pool: str) -> None:
    create = {"pool_name": pool, "name": "img", "size": 8 * MiB, "obj_size": 4 * MiB}
    create["features"] = ["layering", "exclusive-lock", "object-map", "fast-diff", "deep-flatten"]
    done(dash, *dash.as_admin("POST", BASE, create)[::2], ok=201)
    status, hdrs, groups = dash.as_admin("GET", f"{BASE}?pool_name={pool}", accept=V2)
    assert status == 200 and hdrs["x-total-count"] == "1" and hdrs["content-type"].startswith(V2)
    assert dash.as_admin("GET", f"{BASE}?pool_name={pool}")[0] == 415  # a 1.0 client
    assert set(groups[0]) == set(SAMPLE[0])
    (img,) = groups[0]["value"]
    assert set(img) == set(SAMPLE[0]["value"][1])
    assert (img["size"], img["features"], img["obj_size"]) == (8 * MiB, 61, 4 * MiB)

    image = spec(pool, "img")
    done(dash, *dash.as_admin("PUT", f"{BASE}/{image}", {"size": 16 * MiB})[::2], ok=200)
    got = dash.as_admin("GET", f"{BASE}/{image}?omit_usage=true")[2]
    assert (got["size"], got["disk_usage"]) == (16 * MiB, None)
    with dash.rados.open_ioctx(pool) as ioctx, rbd.Image(ioctx, "img") as handle:
        handle.write(b"v1" * 2048, 0)

    # snapshot, protect, clone, flatten
    snap_body = {"snapshot_name": "s1", "mirrorImageSnapshot": False}
    done(dash, *dash.as_admin("POST", f"{BASE}/{image}/snap", snap_body)[::2], ok=201)
    protect = {"is_protected": True}
    done(dash, *dash.as_admin("PUT", f"{BASE}/{image}/snap/s1", protect)[::2], ok=200)
    clone = {"child_pool_name": pool, "child_image_name": "child"}
    done(dash, *dash.as_admin("POST", f"{BASE}/{image}/snap/s1/clone", clone)[::2], ok=201)
    snap = dash.as_admin("GET", f"{BASE}/{image}")[2]["snapshots"][0]
    assert set(snap) == set(SAMPLE[0]["value"][1]["snapshots"][0])
    assert snap["is_protected"] is True
    assert snap["children"] == [{"pool_name": pool, "image_name": "child"}]
    child = spec(pool, "child")
    assert dash.as_admin("GET", f"{BASE}/{child}")[2]["parent"]["snap_name"] == "s1"
    done(dash, *dash.as_admin("POST", f"{BASE}/{child}/flatten")[::2], ok=201)
    assert dash.as_admin("GET", f"{BASE}/{child}")[2]["parent"] is None

    # rollback and copy
    with dash.rados.open_ioctx(pool) as ioctx, rbd.Image(ioctx, "img") as handle:
        handle.write(b"v2" * 2048, 0)
    done(dash, *dash.as_admin("POST", f"{BASE}/{image}/snap/s1/rollback")[::2], ok=201)
    copy = {"dest_pool_name": pool, "dest_image_name": "copy"}
    done(dash, *dash.as_admin("POST", f"{BASE}/{image}/copy", copy)[::2], ok=201)
    with dash.rados.open_ioctx(pool) as ioctx, rbd.Image(ioctx, "copy") as handle:
        assert handle.read(0, 4) == b"v1v1"

    # trash and restore
    done(dash, *dash.as_admin("POST", f"{BASE}/{spec(pool, 'copy')}/move_trash", {})[::2], ok=201)
    status, _, trash = dash.as_admin("GET", f"{BASE}/trash?pool_name={pool}")
    assert status == 200 and [e["name"] for e in trash[0]["value"]] == ["copy"]
    entry = spec(pool, trash[0]["value"][0]["id"])
    restore = {"new_image_name": "restored"}
    done(dash, *dash.as_admin("POST", f"{BASE}/trash/{entry}/restore", restore)[::2], ok=201)
    assert dash.as_admin("GET", f"{BASE}/{spec(pool, 'restored')}")[0] == 200

    # delete: the image's protected snapshot goes with it
    for name in ("child", "restored", "img"):
        done(dash, *dash.as_admin("DELETE", f"{BASE}/{spec(pool, name)}")[::2], ok=204)
    status, hdrs, groups = dash.as_admin("GET", f"{BASE}?pool_name={pool}", accept=V2)
    assert (status, hdrs["x-total-count"], groups) == (200, "0", [])


def test_errors_are_upstreams(dash: Dashboard, pool: str) -> None:
    body = {"pool_name": pool, "name": "e", "size": MiB}
    assert dash.as_admin("POST", BASE, body)[0] == 201
    status, _, doc = dash.as_admin("POST", BASE, body)
    assert status == 400
    assert (doc["code"], doc["component"]) == ("17", "rbd")
    assert doc["task"] == {
        "name": "rbd/create",
        "metadata": {"pool_name": pool, "namespace": None, "image_name": "e"},
    }
    status, _, doc = dash.as_admin("GET", f"{BASE}/{spec(pool, 'nope')}")
    assert status == 404 and doc["detail"] == "Image not found"
    status, _, doc = dash.as_admin("DELETE", f"{BASE}/{spec(pool, 'nope')}")
    assert status == 400 and doc["code"] == "2"
    status, _, doc = dash.as_admin("POST", BASE, {"pool_name": pool, "name": "x", "size": -1})
    assert status == 400 and doc["code"] == "invalid_input"
    assert dash.as_admin("GET", f"{BASE}/no-slash")[0] == 400
    # a protected snapshot cannot be deleted: nothing changes
    image = spec(pool, "e")
    assert dash.as_admin("POST", f"{BASE}/{image}/snap", {"snapshot_name": "p"})[0] == 201
    assert dash.as_admin("PUT", f"{BASE}/{image}/snap/p", {"is_protected": True})[0] == 200
    status, _, doc = dash.as_admin("DELETE", f"{BASE}/{image}/snap/p")
    assert status == 400 and doc["component"] == "rbd"
    assert dash.as_admin("GET", f"{BASE}/{image}")[2]["snapshots"][0]["name"] == "p"
    assert dash.as_admin("DELETE", f"{BASE}/{image}")[0] == 204


def test_read_only_user_is_refused_writes(dash: Dashboard, pool: str) -> None:
    reader = dash.tokens["reader"]
    assert dash.request("GET", f"{BASE}?pool_name={pool}", token=reader, accept=V2)[0] == 200
    body = {"pool_name": pool, "name": "ro", "size": MiB}
    assert dash.request("POST", BASE, body, token=reader)[0] == 403
    assert dash.as_admin("GET", f"{BASE}/{spec(pool, 'ro')}")[0] == 404
    assert dash.request("POST", f"{BASE}/trash/purge", token=reader)[0] == 403


def test_defaults(dash: Dashboard) -> None:
    status, _, features = dash.as_admin("GET", f"{BASE}/default_features")
    assert status == 200
    assert features == ["deep-flatten", "exclusive-lock", "fast-diff", "layering", "object-map"]
    status, _, version = dash.as_admin("GET", f"{BASE}/clone_format_version")
    assert status == 200 and version in (1, 2)
