"""The poll loop behind ``watch()`` and ``wait()``, and the schedule it follows.

The loop knows nothing of HTTP: it calls a ``fetch`` coroutine, yields each
status that differs from the previous one, and sleeps between polls along a
:class:`PollSchedule`. The deadline is checked around every await, never
around a ``yield`` (a cancel scope must not span a generator's suspension).
"""

from __future__ import annotations

import dataclasses
import math
import random
from typing import TYPE_CHECKING, TypeVar

import anyio

from ._clock import sleep
from ._exceptions import WatchTimeoutError

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator

    from ._models import TaskStatus

__all__ = ["MIN_INTERVAL", "PollSchedule", "watch_status"]

T = TypeVar("T")

MIN_INTERVAL = 0.01
"""The shortest wait between two polls of one task that the SDK accepts, in seconds."""


@dataclasses.dataclass(frozen=True)
class PollSchedule:
    """How long ``watch()`` waits between two polls of one task.

    After a poll that saw a new status the wait is ``initial`` seconds; each
    poll that sees the same status again multiplies it by ``factor``, up to
    ``maximum``. Each wait is spread by a random ``±jitter`` fraction so that
    many watches started together do not poll in lockstep. A change of
    status snaps the wait back to ``initial``.

    The defaults see a short task finish within about half a second and cost
    a task of a minute about 20 polls; see docs/polling.md.
    """

    initial: float = 0.5
    factor: float = 1.25
    maximum: float = 3.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if not self.initial >= MIN_INTERVAL:  # also refuses NaN
            raise ValueError(f"initial must be at least {MIN_INTERVAL} s, got {self.initial!r}")
        if not self.factor >= 1.0:
            raise ValueError(f"factor must be at least 1, got {self.factor!r}")
        if not self.maximum >= self.initial:
            raise ValueError(f"maximum ({self.maximum!r}) must be at least initial ({self.initial!r})")
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError(f"jitter must be in [0, 1), got {self.jitter!r}")

    def with_interval(self, interval: float) -> PollSchedule:
        """This schedule starting from ``interval`` seconds instead of ``initial``."""
        return dataclasses.replace(self, initial=interval, maximum=max(self.maximum, interval))

    def delays(self) -> Iterator[float]:
        """The waits after each poll that saw no change, before jitter."""
        delay = self.initial
        while True:
            yield delay
            delay = min(delay * self.factor, self.maximum)

    def jittered(self, delay: float) -> float:
        """``delay`` spread by up to ``±jitter`` of itself."""
        return delay * (1.0 + self.jitter * (2.0 * random.random() - 1.0))


async def watch_status(
    fetch: Callable[[], Awaitable[TaskStatus]],
    *,
    task_id: str,
    schedule: PollSchedule,
    timeout: float | None,
) -> AsyncGenerator[TaskStatus, None]:
    """Poll ``fetch`` until a terminal status; yield the first status and each change.

    Raises :class:`WatchTimeoutError` once ``timeout`` seconds have passed
    since the first poll began without a terminal status.
    """
    started = anyio.current_time()
    deadline = math.inf if timeout is None else started + timeout
    last: TaskStatus | None = None

    async def before_deadline(step: Awaitable[T]) -> T:
        with anyio.CancelScope(deadline=deadline):
            return await step
        # Only reached when the scope caught its own cancellation: the deadline passed.
        raise WatchTimeoutError(task_id, deadline - started, last)

    delays = schedule.delays()
    while True:
        status = await before_deadline(fetch())
        if last is None or status.status != last.status:
            last = status
            delays = schedule.delays()  # snap back: a change hints more may follow soon
            yield status
            if status.is_terminal:
                return
        await before_deadline(sleep(schedule.jittered(next(delays))))
