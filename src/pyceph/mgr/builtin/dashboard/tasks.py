"""Long-running dashboard operations as named tasks (upstream's `tools.TaskManager`).

An operation such as ``rbd/create`` runs as a `Task` identified by its name and
metadata (``{"pool_name": ..., "image_name": ...}``). The request that started it
waits up to `TASK_WAIT` seconds: finished by then, the request answers with the
result (201/200/204); still running, it answers 202 and the client polls
``GET /api/task?name=rbd/create`` (executing and recently finished tasks, upstream's
keys) or ``/api/summary``. Starting a task whose name and metadata equal a running
one's joins that one, as upstream.

Tasks run on the web server's event loop (a blocking function through the
server's worker threads); every task belongs to the manager's `TaskSet`, which the
app's cleanup closes. Finished tasks are kept `FINISHED_TASK_TTL` seconds, at most
`FINISHED_TASK_MAX` of them. A blocking function reports progress (0-100) with
``current_task().set_progress(p)``.

Upstream: src/pybind/mgr/dashboard/tools.py (TaskManager, Task),
controllers/task.py, services/exception.py (serialize_dashboard_exception).
"""

from __future__ import annotations

import asyncio
import datetime
import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pyceph.common.tasks import TaskSet

__all__ = [
    "FINISHED_TASK_MAX",
    "FINISHED_TASK_TTL",
    "TASK_WAIT",
    "Task",
    "TaskManager",
    "current_task",
]

#: seconds a request waits for its task before answering 202 (upstream's wait_for)
TASK_WAIT = 5.0
#: seconds a finished task stays listed (upstream's FINISHED_TASK_TTL)
FINISHED_TASK_TTL = 60.0
#: most finished tasks listed at once
FINISHED_TASK_MAX = 100

_current = threading.local()


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Task:
    """One run of a named operation; `done` is set once it ended."""

    def __init__(self, name: str, metadata: dict[str, Any]) -> None:
        self.name = name
        self.metadata = metadata
        self.begin_time = time.time()
        self.end_time: float | None = None
        self.progress = 0
        self.ret_value: Any = None
        self.exception: BaseException | None = None
        self.done = asyncio.Event()

    def set_progress(self, percent: float) -> None:
        """Progress in percent (0-100); callable from the task's worker thread."""
        self.progress = max(0, min(100, int(percent)))

    @property
    def success(self) -> bool:
        return self.done.is_set() and self.exception is None

    def executing_view(self) -> dict[str, Any]:
        """The task as `executing_tasks` lists it."""
        return {
            "name": self.name,
            "metadata": self.metadata,
            "begin_time": _iso(self.begin_time),
            "progress": self.progress,
        }

    def finished_view(self) -> dict[str, Any]:
        """The task as `finished_tasks` lists it."""
        from .framework import serialize_exception  # the error format lives there

        end = self.end_time or self.begin_time
        return {
            **self.executing_view(),
            "end_time": _iso(end),
            "duration": end - self.begin_time,
            "success": self.success,
            "ret_value": self.ret_value if self.success else None,
            "exception": (
                serialize_exception(self.exception, include_status=True)
                if self.exception is not None
                else None
            ),
        }


def current_task() -> Task | None:
    """The task whose blocking function runs on the calling thread, if any."""
    return getattr(_current, "task", None)


class TaskManager:
    """Runs and lists tasks; owned by the dashboard app (closed on its cleanup)."""

    def __init__(
        self,
        blocking: Callable[..., Awaitable[Any]],
        clock: Callable[[], float] = time.time,
        wait: float = TASK_WAIT,
    ) -> None:
        self._blocking = blocking
        #: seconds a request waits for its task before answering 202
        self.wait = wait
        self._clock = clock
        self._tasks = TaskSet("dashboard-tasks")
        self.executing: list[Task] = []
        self.finished: list[Task] = []

    def run(
        self, name: str, metadata: dict[str, Any], fn: Callable[..., Any], *args: Any, **kw: Any
    ) -> Task:
        """Start `fn(*args, **kw)` as task `name` (on the running loop); a running task with
        the same name and metadata is returned instead of starting another."""
        for task in self.executing:
            if task.name == name and task.metadata == metadata:
                return task
        task = Task(name, metadata)
        self.executing.append(task)
        self._tasks.spawn(self._run(task, fn, args, kw), name=f"task {name}")
        return task

    async def _run(
        self, task: Task, fn: Callable[..., Any], args: tuple[Any, ...], kw: dict[str, Any]
    ) -> None:
        try:
            if inspect.iscoroutinefunction(fn):
                task.ret_value = await fn(*args, **kw)
            else:
                task.ret_value = await self._blocking(_with_task, task, fn, args, kw)
            task.progress = 100
        except asyncio.CancelledError:
            task.exception = RuntimeError("cancelled: the dashboard stopped")
            raise
        except Exception as e:  # the task failed: kept as its outcome
            task.exception = e
        finally:
            task.end_time = self._clock()
            if task in self.executing:
                self.executing.remove(task)
            self.finished.append(task)
            self._expire()
            task.done.set()

    def _expire(self) -> None:
        now = self._clock()
        keep = [t for t in self.finished if now - (t.end_time or now) < FINISHED_TASK_TTL]
        self.finished = keep[-FINISHED_TASK_MAX:]

    def list(self, name: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """`GET /api/task` body: executing and finished tasks, filtered by `name` (glob)."""
        import fnmatch

        self._expire()

        def match(t: Task) -> bool:
            return name is None or fnmatch.fnmatchcase(t.name, name)

        return {
            "executing_tasks": [t.executing_view() for t in self.executing if match(t)],
            "finished_tasks": [t.finished_view() for t in self.finished if match(t)],
        }

    async def close(self) -> None:
        """Cancel running tasks and wait for them (the app's cleanup)."""
        await self._tasks.close()


def _with_task(
    task: Task, fn: Callable[..., Any], args: tuple[Any, ...], kw: dict[str, Any]
) -> Any:
    _current.task = task
    try:
        return fn(*args, **kw)
    finally:
        _current.task = None
