"""``/api/pool``: list, create, edit, delete pools; their RBD configuration; the form's info.

Views only translate HTTP to `services.pool` calls, run on the web server's worker
threads; writes run as upstream's ``pool/create|edit|delete`` tasks. `guarded` (used by
the RBD and erasure-code-profile controllers too) maps the services' errors to the
API's: `NoSuchObject` 404, `ValueError` 400, `rados`/`rbd` errors 400 with the errno as
``code`` (upstream's handle_rados_error / handle_send_command_error).

Upstream: src/pybind/mgr/dashboard/controllers/pool.py (Pool, PoolUi.info).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Literal

from aiohttp_pydantic.oas.typing import r200, r201, r202, r204
from pydantic import BaseModel, ConfigDict

from ..framework import ApiView, DashboardError, Route, Scope, errors_from
from ..services import pool as svc
from ..services.pool import NoSuchObject

__all__ = ["ROUTES", "TaskRef", "guarded", "settable"]

#: types a free-form ``osd pool set`` value may have in a body
SCALARS = (str, int, float, bool)


def guarded(component: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn(mgr.rados, ...)` run as ``f(mgr, ...)``, its errors made the API's."""

    def run(mgr: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            with errors_from(component):
                return fn(mgr.rados, *args, **kwargs)
        except NoSuchObject as e:
            raise DashboardError(str(e), code="404", component=component, status=404) from None
        except (ValueError, TypeError) as e:
            raise DashboardError(str(e), code="invalid_input", component=component) from None

    return run


def settable(model: BaseModel, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The body's fields that were given (declared or extra), minus `skip`; extra
    values must be scalars."""
    out: dict[str, Any] = {}
    for key, value in model.model_dump(exclude_unset=True).items():
        if key in skip or value is None:
            continue
        if not isinstance(value, (*SCALARS, list, dict)) or (
            key in (model.model_extra or {}) and not isinstance(value, SCALARS)
        ):
            raise DashboardError(f"{key}: a scalar value is needed", code="invalid_input")
        out[key] = value
    return out


class TaskRef(BaseModel):
    """A task still running: poll ``/api/task`` for it."""

    name: str
    metadata: dict[str, Any]


class PoolModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    pool_name: str


class PoolSettings(BaseModel):
    """Pool variables a create or edit body may set (any other ``osd pool set`` variable
    is accepted too)."""

    model_config = ConfigDict(extra="allow")
    application_metadata: list[str] | None = None
    flags: list[str] | None = None
    configuration: dict[str, str | int | float | bool | None] | None = None
    size: int | None = None
    min_size: int | None = None
    pg_num: int | None = None
    pg_autoscale_mode: Literal["on", "off", "warn"] | None = None
    crush_rule: str | None = None
    compression_mode: str | None = None
    compression_algorithm: str | None = None
    compression_required_ratio: float | None = None
    compression_min_blob_size: int | None = None
    compression_max_blob_size: int | None = None
    quota_max_bytes: int | None = None
    quota_max_objects: int | None = None


class PoolCreate(PoolSettings):
    pool: str
    pg_num: int  # type: ignore[assignment] - required on create
    pool_type: Literal["replicated", "erasure"] = "replicated"
    erasure_code_profile: str | None = None
    rule_name: str | None = None


class PoolEdit(PoolSettings):
    #: a new name: renames the pool
    pool: str | None = None


_list = guarded("pool", svc.pool_list)
_get = guarded("pool", svc.pool_get)
_create = guarded("pool", svc.pool_create)
_set = guarded("pool", svc.pool_set)
_delete = guarded("pool", svc.pool_delete)
_configuration = guarded("pool", svc.pool_configuration)
_info = guarded("pool", svc.pool_info)


class Pools(ApiView):
    SCOPE = Scope.POOL
    TAG = "Pool"

    async def get(self, attrs: str | None = None, stats: bool = False) -> r200[list[PoolModel]]:
        """Display pools: `attrs` a comma-separated key list, `stats` adds usage.

        Tags: Pool
        """
        return self.json(await self.blocking(_list, self.mgr, attrs, stats, self.mgr.get))

    async def post(self, body: PoolCreate) -> r201[Any] | r202[TaskRef]:
        """Create a pool (task ``pool/create``).

        Tags: Pool
        """
        fields = settable(body)
        return await self.task(
            "pool/create", {"pool_name": body.pool}, partial(_create, self.mgr, **fields)
        )


class PoolItem(ApiView):
    SCOPE = Scope.POOL
    TAG = "Pool"

    async def get(
        self, pool_name: str, /, attrs: str | None = None, stats: bool = False
    ) -> r200[PoolModel]:
        """Display a pool with its RBD configuration.

        Tags: Pool
        """
        pool = await self.blocking(_get, self.mgr, pool_name, attrs, stats, self.mgr.get)
        return self.json(pool)

    async def put(self, pool_name: str, /, body: PoolEdit) -> r200[Any] | r202[TaskRef]:
        """Edit a pool: size, pg_num, applications, quotas, compression, name (task
        ``pool/edit``).

        Tags: Pool
        """
        fields = settable(body)
        return await self.task(
            "pool/edit", {"pool_name": pool_name}, partial(_set, self.mgr, pool_name, **fields)
        )

    async def delete(self, pool_name: str, /) -> r204 | r202[TaskRef]:
        """Delete a pool (refused unless ``mon_allow_pool_delete``; task ``pool/delete``).

        Tags: Pool
        """
        return await self.task(
            "pool/delete", {"pool_name": pool_name}, _delete, self.mgr, pool_name
        )


class ConfigOption(BaseModel):
    name: str
    value: str
    source: int


class PoolConfiguration(ApiView):
    SCOPE = Scope.POOL
    TAG = "Pool"

    async def get(self, pool_name: str, /) -> r200[list[ConfigOption]]:
        """The pool's RBD configuration (source 0 default, 1 pool override).

        Tags: Pool
        """
        return self.json(await self.blocking(_configuration, self.mgr, pool_name, self.mgr.get))


class PoolInfo(BaseModel):
    model_config = ConfigDict(extra="allow")
    pool_names: list[str]
    crush_rules_replicated: list[dict[str, Any]]
    crush_rules_erasure: list[dict[str, Any]]
    osd_count: int
    erasure_code_profiles: list[dict[str, Any]]


class PoolFormInfo(ApiView):
    SCOPE = Scope.POOL
    TAG = "Pool"

    async def get(self) -> r200[PoolInfo]:
        """What the create-pool form needs: rules, profiles, compression, autoscale modes.

        Tags: Pool
        """
        return self.json(await self.blocking(_info, self.mgr))


ROUTES: list[Route] = [
    ("/api/pool", Pools),
    ("/api/pool/_info", PoolFormInfo),
    ("/api/pool/{pool_name}", PoolItem),
    ("/api/pool/{pool_name}/configuration", PoolConfiguration),
]
