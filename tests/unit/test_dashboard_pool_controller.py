"""The controllers' translation of bodies and errors (`controllers.pool.settable`,
`guarded`), alone: bodies become service arguments, service errors become upstream's
API errors (404 for a missing pool, 400 with the errno as code, ``invalid_input``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import rados
from pyceph.mgr.builtin.dashboard.controllers.pool import PoolCreate, PoolEdit, guarded, settable
from pyceph.mgr.builtin.dashboard.controllers.rbd import ImageCreate
from pyceph.mgr.builtin.dashboard.framework import DashboardError
from pyceph.mgr.builtin.dashboard.services import pool as pool_svc
from pyceph.mgr.builtin.dashboard.services import rbd as rbd_svc


@dataclass
class Session:
    """What `guarded` needs of the mgr module: its ``rados`` session."""

    rados: rados.Rados


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    with rados.Rados(conf={"mon_host": "embedded:"}) as c:
        yield Session(c)


def test_settable_keeps_given_fields_and_scalar_extras() -> None:
    body = PoolCreate.model_validate({"pool": "p", "pg_num": 8, "size": 2, "nodelete": "true"})
    assert settable(body) == {"pool": "p", "pg_num": 8, "size": 2, "nodelete": "true"}
    assert settable(PoolEdit.model_validate({})) == {}
    with pytest.raises(DashboardError) as e:
        settable(PoolEdit.model_validate({"min_size": 1, "crush": {"a": 1}}))
    assert (e.value.status, e.value.code) == (400, "invalid_input")
    image = ImageCreate.model_validate({"name": "i", "pool_name": "p", "size": 1})
    assert settable(image, skip=("size",)) == {"name": "i", "pool_name": "p"}


def test_guarded_maps_errors(session: Session) -> None:
    with pytest.raises(DashboardError) as e:
        guarded("pool", pool_svc.pool_get)(session, "no-such-pool")
    assert (e.value.status, e.value.code, e.value.detail) == (404, "404", "No such pool")
    with pytest.raises(DashboardError) as e:
        guarded("pool", pool_svc.pool_set)(session, "no-such-pool", bogus=1)
    assert (e.value.status, e.value.code, e.value.component) == (400, "22", "pool")
    with pytest.raises(DashboardError) as e:
        guarded("rbd", rbd_svc.image_get)(session, "no-slash")
    assert (e.value.status, e.value.code) == (400, "invalid_input")
    with pytest.raises(DashboardError) as e:
        guarded("rbd", rbd_svc.image_create)(session, "i", "no-such-pool", 1)
    assert (e.value.status, e.value.code, e.value.component) == (400, "2", "rbd")
    # the in-process cluster is shared by this worker's tests: whatever pools it has now
    listed = {p["pool_name"] for p in guarded("pool", pool_svc.pool_list)(session)}
    assert listed == set(session.rados.list_pools())
