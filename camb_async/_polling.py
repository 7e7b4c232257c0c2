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
from typing import TYPE_CHECKING, Protocol, TypeVar

import anyio

from ._clock import now, sleep
from ._exceptions import WatchTimeoutError

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator

    from ._models import TaskStatus

__all__ = ["MIN_INTERVAL", "Curve", "PollSchedule", "watch_status"]

T = TypeVar("T")

MIN_INTERVAL = 0.01
"""The shortest wait between two polls of one task that the SDK accepts, in seconds."""


def _check_wait(value: float, name: str) -> None:
    if not value >= MIN_INTERVAL:  # also refuses NaN
        raise ValueError(f"{name} must be at least {MIN_INTERVAL} s, got {value!r}")


@dataclasses.dataclass(frozen=True)
class PollSchedule:
    """How long ``watch()`` waits between two polls of one task.

    The wait depends on the time elapsed since the poll that saw the current
    status (the first poll, or the last change): ``initial`` seconds after
    that poll, then ``fast`` seconds while less than ``fast_until`` seconds
    have elapsed, then ``steady`` seconds, or ``growth`` times the elapsed
    time once that is longer, never more than ``maximum``. Each wait is
    spread by a random ``±jitter`` fraction so that many watches started
    together do not poll in lockstep.

    The defaults see half the tasks of 1 to 3 s within 0.26 s of their end,
    and half the tasks of 5 to 60 s within 1.5 s (all within 3.2 s) for
    15.5 polls on average; a task of 10 minutes costs 77 polls. See
    docs/polling.md and docs/schedule-curve.md.
    """

    initial: float = 1.4
    fast: float = 0.55
    fast_until: float = 3.0
    steady: float = 3.0
    growth: float = 0.05
    maximum: float = 15.0
    jitter: float = 0.05

    def __post_init__(self) -> None:
        _check_wait(self.initial, "initial")
        _check_wait(self.fast, "fast")
        _check_wait(self.steady, "steady")
        if not 0.0 <= self.fast_until < math.inf:
            raise ValueError(f"fast_until must be a number of seconds >= 0, got {self.fast_until!r}")
        if not 0.0 <= self.growth <= 1.0:
            raise ValueError(f"growth must be in [0, 1], got {self.growth!r}")
        longest = max(self.initial, self.fast, self.steady)
        if not self.maximum >= longest:
            raise ValueError(
                f"maximum ({self.maximum!r}) must be at least initial, fast and steady ({longest!r})"
            )
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError(f"jitter must be in [0, 1), got {self.jitter!r}")

    def with_interval(self, interval: float) -> PollSchedule:
        """This schedule polling every ``interval`` seconds at first.

        ``interval`` replaces ``initial`` and ``fast``; ``steady`` and
        ``maximum`` are raised to it when smaller, so no later wait is
        shorter. ``fast_until`` and ``growth`` stay.
        """
        return dataclasses.replace(
            self,
            initial=interval,
            fast=interval,
            steady=max(self.steady, interval),
            maximum=max(self.maximum, interval),
        )

    def wait_after(self, elapsed: float) -> float:
        """The wait, before jitter, after a poll made ``elapsed`` seconds after
        the poll that saw the current status (which itself is at 0)."""
        if not elapsed > 0.0:
            return self.initial
        if elapsed < self.fast_until:
            return self.fast
        return min(max(self.steady, self.growth * elapsed), self.maximum)

    def delays(self) -> Iterator[float]:
        """The waits, before jitter, for a status that never changes, if every
        request took no time: ``wait_after(0)``, then ``wait_after`` of the sum so far."""
        elapsed = 0.0
        while True:
            delay = self.wait_after(elapsed)
            yield delay
            elapsed += delay

    def jittered(self, delay: float, rng: random.Random | None = None) -> float:
        """``delay`` spread by up to ``±jitter`` of itself, drawing from ``rng``
        (the ``random`` module when ``None``)."""
        draw = random.random() if rng is None else rng.random()
        return delay * (1.0 + self.jitter * (2.0 * draw - 1.0))


class Curve(Protocol):
    """What the poll loop asks of a schedule (a :class:`PollSchedule`, or a learned one)."""

    def wait_after(self, elapsed: float) -> float: ...

    def jittered(self, delay: float, rng: random.Random | None = None) -> float: ...


async def watch_status(
    fetch: Callable[[], Awaitable[TaskStatus]],
    *,
    task_id: str,
    schedule: PollSchedule,
    timeout: float | None,
    first: Curve | None = None,
    on_finish: Callable[[float, float], None] | None = None,
) -> AsyncGenerator[TaskStatus, None]:
    """Poll ``fetch`` until a terminal status; yield the first status and each change.

    After each poll it sleeps ``schedule.wait_after(elapsed)`` (jittered), where
    ``elapsed`` runs from the start of the poll that saw the current status to
    the start of this poll: a change of status restarts the schedule. Until
    the first change, ``first`` (when given) is followed instead.

    When a task seen running finishes, ``on_finish(running, finished)`` gets
    the starts of the last poll that saw it running and of the poll that saw
    it finished, in seconds after the first poll began.

    Raises :class:`WatchTimeoutError` once ``timeout`` seconds have passed
    since the first poll began without a terminal status.
    """
    # Every time here is read from now(): one clock for the schedule and the deadline.
    started = now()
    deadline = math.inf if timeout is None else started + timeout
    last: TaskStatus | None = None

    async def before_deadline(step: Awaitable[T]) -> T:
        with anyio.move_on_after(deadline - now()):
            return await step
        # Only reached when the scope caught its own cancellation: the deadline passed.
        raise WatchTimeoutError(task_id, deadline - started, last)

    curve: Curve = schedule if first is None else first
    began = since = running = 0.0  # first poll, poll that saw `last`, last poll that saw the task running
    while True:
        poll_began = now()
        status = await before_deadline(fetch())
        if last is None or status.status != last.status:
            if last is None:
                began = poll_began
            else:
                curve = schedule  # snap back: a change hints more may follow soon
            last = status
            since = poll_began
            if status.is_terminal and on_finish is not None and poll_began > began:
                on_finish(running - began, poll_began - began)
            yield status
            if status.is_terminal:
                return
        running = poll_began
        wait = curve.jittered(curve.wait_after(poll_began - since))
        # Sleep without a cancel scope (one fewer deadline timer per poll, which adds up
        # over thousands of watches): up to the deadline at most, then time out.
        left = deadline - now()
        if wait < left:
            await sleep(wait)
        else:
            await sleep(left)
            raise WatchTimeoutError(task_id, deadline - started, last)
