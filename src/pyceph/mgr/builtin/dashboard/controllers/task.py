"""``/api/task``: the executing and recently finished long operations.

Upstream: src/pybind/mgr/dashboard/controllers/task.py (``name`` is a glob).
"""

from __future__ import annotations

from typing import Any

from aiohttp_pydantic.oas.typing import r200
from pydantic import BaseModel, ConfigDict

from ..framework import ApiView, Route


class TaskList(BaseModel):
    model_config = ConfigDict(extra="allow")
    executing_tasks: list[dict[str, Any]]
    finished_tasks: list[dict[str, Any]]


class Tasks(ApiView):
    TAG = "Task"

    async def get(self, name: str | None = None) -> r200[TaskList]:
        """Executing and finished tasks, those matching the glob `name` if given.

        Tags: Task
        """
        return self.json(self.ctx.tasks.list(name))


ROUTES: list[Route] = [("/api/task", Tasks)]
