"""Many tasks of mixed families at once: ``watch_many``, ``as_completed`` and ``wait_many``.

All three run on one ``TaskWatches`` scheduler (``_polling``) over the
client's request path, so 10,000 tasks in one call are as safe as 10,000
gathered ``watch()`` calls: the client's limiter bounds what is in flight.
Each task is handed back exactly as the caller gave it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeAlias, TypeVar

from ._exceptions import make_task_error
from ._handles import TaskHandle
from ._models import TaskState, TaskStatus
from ._polling import MOST_POLLS_STARTED, TaskWatches

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from ._events import Emitter
    from ._polling import Tracked
    from ._resources import TaskResource
    from ._resources._base import ManyPlan

__all__ = ["Completed", "Outcome", "TaskRef", "check_tasks", "task_id_of", "track"]

TaskRef: TypeAlias = "str | TaskHandle"
"""A task as the many-task calls take it: a TTS task id, or a handle of any family."""
Outcome: TypeAlias = "TaskStatus | Exception"
"""How a task ended: its SUCCESS status, or the exception it ended with."""
K = TypeVar("K")


def task_id_of(task: TaskRef) -> str:
    return task.task_id if isinstance(task, TaskHandle) else task


def track(
    items: Iterable[tuple[K, object]],
    resource: Callable[[str], TaskResource],
    *,
    timeout: float | None,
    outage: Callable[[], Exception | None],
    emit: Emitter | None = None,
    in_flight: int = 256,
) -> TaskWatches[K]:
    """A scheduler for ``(key, task)`` pairs; every id and family is checked here,
    before any request. Each change comes back under its key; ``emit`` reports each
    task's watch to the client's hooks. ``in_flight`` is the client's limit on requests
    in flight: the scheduler starts a few times that many polls at most."""
    tracked: list[Tracked[K]] = []
    plans: dict[str, ManyPlan] = {}  # one per family: what its tasks share
    for key, task in items:
        if isinstance(task, TaskHandle):
            family, task_id = resource(task.family), task.task_id
        elif isinstance(task, str):
            family, task_id = resource("tts"), task
        else:
            raise TypeError(f"a task must be a task id (str) or a TaskHandle, not {type(task).__name__}")
        plan = plans.get(family.family)
        if plan is None:
            plan = plans[family.family] = family.many_plan()
        tracked.append(family._tracked(task_id, key, plan))
    return TaskWatches(
        tracked, timeout=timeout, outage=outage, emit=emit, in_flight=MOST_POLLS_STARTED * in_flight
    )


def check_tasks(tasks: object) -> None:
    """Refuse a single task where an iterable of them is asked for (a str is iterable)."""
    if isinstance(tasks, (str, TaskHandle)):
        raise TypeError("tasks must be an iterable of task ids and TaskHandles, not a single task")


class Completed(Generic[K]):
    """``(key, outcome)`` as each task ends: its SUCCESS status, the ``TaskError`` of a
    failed terminal status, or the exception its watch ended with."""

    def __init__(self, watches: TaskWatches[K], task_id: Callable[[K], str], secret: str) -> None:
        self._watches = watches
        self._task_id = task_id
        self._secret = secret

    def __aiter__(self) -> Completed[K]:
        return self

    async def __anext__(self) -> tuple[K, Outcome]:
        async for key, seen in self._watches:
            if isinstance(seen, Exception):
                return key, seen
            if not seen.is_terminal:
                continue
            if seen.status == TaskState.SUCCESS:
                return key, seen
            return key, make_task_error(self._task_id(key), seen, secret=self._secret)
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop following the tasks that have not ended."""
        await self._watches.aclose()

    async def __aenter__(self) -> Completed[K]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
