"""The poll loops behind ``watch()``/``wait()`` and the many-task calls, and the schedule they follow.

The loop knows nothing of HTTP: it calls a ``fetch`` coroutine, yields each
status that differs from the previous one, and sleeps between polls along a
:class:`PollSchedule`. The deadline is checked around every await, never
around a ``yield`` (a cancel scope must not span a generator's suspension).
"""

from __future__ import annotations

import collections
import dataclasses
import heapq
import itertools
import math
import random
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

import anyio

from ._clock import DeadlinePassed, is_testing, now, sleep
from ._events import UNNAMED_WATCH, new_watch, observed, watch_changed, watch_ended, watch_started
from ._exceptions import APIConnectionError, APIStatusError, ResponseValidationError, WatchTimeoutError
from ._learning import poll_priority
from ._models import TaskStatus

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator

    from ._events import Emitter, WatchRef
    from ._learning import Survival
    from ._streams import LiveStream
    from ._types import Priority

__all__ = [
    "MIN_INTERVAL",
    "MOST_POLLS_STARTED",
    "Curve",
    "Follow",
    "PollSchedule",
    "TaskWatches",
    "Tracked",
    "following",
    "is_transient",
    "next_change",
    "watch_status",
]

K = TypeVar("K")
S = TypeVar("S", bound="TaskStatus | LiveStream")
"""What a watch follows: a task's status, or a live stream (each with ``status`` and ``is_terminal``)."""

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

        Raises:
            ValueError: ``interval`` is not a number of seconds >= 0.01 (the error names it).
        """
        _check_wait(interval, "interval")
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


class Follow(Generic[S]):
    """Following one task (or live stream): what was seen, and when to poll next.

    No I/O and no clock of its own: ``watch_status`` (one task) and
    ``TaskWatches`` (many on one schedule) call :meth:`seen` with each answer
    and :meth:`failed` with each transient error, and sleep what they return;
    :meth:`priority` ranks its next poll among those waiting for the client's
    request budget (``survival`` gives its family's durations, when known).
    ``failed`` keeps the schedule while backing off, so a watch rides out an
    outage (the client's circuit breaker keeps it from hammering the API), up
    to ``max_outage`` seconds of failures (``None``: up to the deadline).
    """

    __slots__ = (
        "_began",
        "_curve",
        "_failing_since",
        "_failures",
        "_on_finish",
        "_running",
        "_schedule",
        "_since",
        "_survival",
        "deadline",
        "last",
        "last_error",
        "max_outage",
        "started",
        "task_id",
    )

    def __init__(
        self,
        task_id: str,
        schedule: PollSchedule,
        *,
        started: float,
        timeout: float | None,
        first: Curve | None = None,
        on_finish: Callable[[float, float], None] | None = None,
        max_outage: float | None = None,
        survival: Callable[[], Survival | None] | None = None,
    ) -> None:
        self.task_id = task_id
        self.started = started
        self.deadline = math.inf if timeout is None else started + timeout
        self.max_outage = max_outage
        self.last: S | None = None
        self.last_error: Exception | None = None
        self._schedule = schedule
        self._curve: Curve = schedule if first is None else first
        self._on_finish = on_finish
        self._survival = survival
        # first poll began, poll that saw `last` began, last answer that saw the task running
        self._began = self._since = self._running = 0.0
        self._failing_since: float | None = None
        self._failures = 0

    def seen(self, status: S, poll_began: float, answered: float) -> bool:
        """Take the answer, come at ``answered``, of the poll that began at ``poll_began``;
        whether it is a change to report."""
        self.last_error = None
        self._failing_since = None
        last = self.last
        changed = last is None or status.status != last.status
        if changed:
            if last is None:
                self._began = poll_began
            else:
                self._curve = self._schedule  # snap back: a change hints more may follow soon
            self.last = _shared(status)
            self._since = poll_began
            if status.is_terminal and self._on_finish is not None and poll_began > self._began:
                self._on_finish(self._running - self._began, answered - self._began)
        if not status.is_terminal:
            self._running = answered
        return changed

    def priority(self, moment: float) -> float:
        """Its next poll's priority at ``moment`` (``poll_priority``): its task was last seen
        running at the last answer (or taken to run when the watch began)."""
        origin = self._began if self.last is not None else self.started
        seen = self._running if self.last is not None else origin
        survival = None if self._survival is None else self._survival()
        return poll_priority(survival, seen - origin, moment - origin)

    def wait_after(self, poll_began: float) -> float:
        """The (jittered) wait after a poll that began at ``poll_began`` and saw no end."""
        curve = self._curve
        return curve.jittered(curve.wait_after(poll_began - self._since))

    def failed(self, error: Exception, poll_began: float, failed_at: float, *, gated: bool = False) -> float:
        """Take the transient ``error`` of the poll that began at ``poll_began`` and failed
        at ``failed_at``; return the wait before the next poll.

        ``gated``: the client's circuit breaker is open, so the next poll waits for it (and
        is let through the moment a probe finds the API back): the backoff stops at
        ``GATED_OUTAGE_BACKOFF``, so that the watch is waiting there when the API returns,
        not sleeping out a long backoff.

        Raises ``error`` once failures have lasted ``max_outage`` seconds.
        """
        if self._failing_since is None:
            self._failing_since = poll_began
            self._failures = 0
        self._failures += 1
        self.last_error = error
        if self.max_outage is not None and failed_at - self._failing_since >= self.max_outage:
            raise error
        ceiling = GATED_OUTAGE_BACKOFF if gated else MAX_OUTAGE_BACKOFF
        backoff = min(OUTAGE_BACKOFF * 2.0 ** (self._failures - 1), ceiling)
        # Before any status was seen, the schedule runs from the first poll.
        since = self._since if self.last is not None else self.started
        curve = self._curve
        scheduled = curve.jittered(curve.wait_after(poll_began - since))
        return max(scheduled, backoff * (1.0 - 0.25 * random.random()))

    def timed_out(self, outage: Exception | None = None) -> WatchTimeoutError:
        """The error for the deadline passing now; its cause is the last failure, if
        failing, else ``outage`` (the error that keeps the client's requests waiting)."""
        cause = self.last_error or outage
        error = WatchTimeoutError(self.task_id, self.deadline - self.started, self.last, cause)
        error.__cause__ = cause
        return error


_SHARED: dict[tuple[object, frozenset[str]], TaskStatus] = {}
_SHARED_KINDS = 64


def _shared(status: S) -> S:
    """An equal status object shared by every watch whose last status it is, for a task's
    status that carries nothing but its state (``{"status": "PENDING", "run_id": null}``,
    the usual answer while a task runs): each watch keeps its last status, and 100,000
    watches would otherwise keep 100,000 equal models of half a KiB each. Any other
    status (a live stream's too) is kept as it came. At most ``_SHARED_KINDS`` kinds are
    shared (unknown states are the server's strings)."""
    if (
        not isinstance(status, TaskStatus)
        or status.run_id is not None
        or status.exception_reason is not None
        or status.message is not None
        or status.model_extra
    ):
        return status
    key = (status.status, frozenset(status.model_fields_set))
    kept = _SHARED.get(key)
    if kept is None:
        if len(_SHARED) >= _SHARED_KINDS:
            return status
        kept = _SHARED[key] = status
    return cast("S", kept)


OUTAGE_BACKOFF = 1.0
"""A watch's wait after its first failed poll (at least its schedule's), doubling per failure."""
MAX_OUTAGE_BACKOFF = 15.0
"""The longest wait between a watch's polls while they fail."""
GATED_OUTAGE_BACKOFF = 1.0
"""The longest such wait while the circuit breaker is open (it paces the requests then)."""


def is_transient(error: Exception) -> bool:
    """Whether a failed poll may succeed later: no answer, a timeout, 5xx, 408, 409,
    429, or an unreadable body; not a closed client, other 4xx, nor a connection that
    failed before the client ever reached the API (a mistyped ``base_url``)."""
    if isinstance(error, APIConnectionError):
        return not error.before_first_contact
    if isinstance(error, APIStatusError):
        return error.status_code in (408, 409, 429) or error.status_code >= 500
    return isinstance(error, ResponseValidationError)


async def watch_status(
    fetch: Callable[[Priority, float], Awaitable[S]],
    *,
    task_id: str,
    schedule: PollSchedule,
    timeout: float | None,
    first: Curve | None = None,
    on_finish: Callable[[float, float], None] | None = None,
    max_outage: float | None = None,
    outage: Callable[[], Exception | None] = lambda: None,
    survival: Callable[[], Survival | None] | None = None,
) -> AsyncGenerator[S, None]:
    """Poll ``fetch`` until a terminal status; yield the first status and each change.

    After each poll it sleeps ``schedule.wait_after(elapsed)`` (jittered), where
    ``elapsed`` runs from the start of the poll that saw the current status to
    the start of this poll: a change of status restarts the schedule. Until
    the first change, ``first`` (when given) is followed instead. A poll that
    fails with a transient error (``is_transient``) is tried again on the
    schedule, backing off, for up to ``max_outage`` seconds (``None``: until
    the deadline); any other error ends the watch at once.

    When a task seen running finishes, ``on_finish(running, finished)`` gets
    the moments the last answer that saw it running and the answer that saw it
    finished came, in seconds after the first poll began. Each poll waits for
    the client's request budget with the priority ``Follow.priority`` gives it,
    from ``survival`` (its family's durations, when known).

    Raises :class:`WatchTimeoutError` once ``timeout`` seconds have passed
    since the first poll began without a terminal status; ``outage()`` names
    the error that held a poll back when the deadline passed during it.
    ``fetch(priority, left)`` ends by ``left`` seconds from its start, raising
    ``DeadlinePassed`` then (the request path keeps the deadline: a poll waiting
    for a slot holds no cancel scope, see ``Requester._send``).
    """
    follow: Follow[S] = following(
        task_id,
        schedule,
        timeout=timeout,
        first=first,
        on_finish=on_finish,
        max_outage=max_outage,
        survival=survival,
    )
    wait: float | None = None
    while True:
        status, wait = await next_change(follow, fetch, outage, wait)
        yield status
        if status.is_terminal:
            return


def following(
    task_id: str,
    schedule: PollSchedule,
    *,
    timeout: float | None,
    first: Curve | None = None,
    on_finish: Callable[[float, float], None] | None = None,
    max_outage: float | None = None,
    survival: Callable[[], Survival | None] | None = None,
) -> Follow[Any]:
    """The :class:`Follow` of one watch (see :func:`watch_status`) that starts now. Every
    time of a watch is read from ``now()``: one clock for the schedule and the deadline."""
    return Follow(
        task_id,
        schedule,
        started=now(),
        timeout=timeout,
        first=first,
        on_finish=on_finish,
        max_outage=max_outage,
        survival=survival,
    )


async def next_change(
    follow: Follow[S],
    fetch: Callable[[Priority, float], Awaitable[S]],
    outage: Callable[[], Exception | None],
    wait: float | None,
    *,
    to_end: bool = False,
) -> tuple[S, float]:
    """Sleep ``wait`` seconds (``None``: the first poll is due at once), then poll ``fetch``
    on ``follow``'s schedule until the status changes (with ``to_end``, until it is
    terminal): the status, and the wait before the next poll. The loop of
    :func:`watch_status`, which yields each change, and of a ``wait()`` with nothing
    observing it, which awaits this with no generator or other coroutine around it.

    Raises :class:`WatchTimeoutError` once ``follow``'s deadline passes, and a poll's error
    that is not transient at once.
    """
    deadline = follow.deadline
    while True:
        if wait is not None:
            # Sleep without a cancel scope (one fewer deadline timer per poll, which adds
            # up over thousands of watches): up to the deadline at most, then time out.
            left = deadline - now()
            if wait < left:
                await sleep(wait)
            else:
                await sleep(left)
                raise follow.timed_out()
        poll_began = now()
        # The poll runs here, not in a helper coroutine: thousands of watches may each
        # have a poll waiting for a slot, and each frame of the chain costs memory.
        outcome: S | Exception | None = None
        try:
            # `follow.priority` ranks it while it waits for the budget
            outcome = await fetch(follow.priority, deadline - poll_began)
        except DeadlinePassed:
            pass
        except Exception as error:  # noqa: BLE001 (sorted below: transient or not)
            outcome = error
        if outcome is None:  # the deadline passed during the poll
            raise follow.timed_out(outage())
        if isinstance(outcome, Exception):
            if not is_transient(outcome):
                raise outcome
            wait = follow.failed(outcome, poll_began, now(), gated=outage() is not None)
        elif follow.seen(outcome, poll_began, now()) and (outcome.is_terminal or not to_end):
            status = cast("S", follow.last)  # equal, and often shared by every watch that saw it
            return status, (0.0 if status.is_terminal else follow.wait_after(poll_began))
        else:
            wait = follow.wait_after(poll_began)
        # Sleep holding no answer: what the watch keeps of it is in `follow` (often one
        # status object shared by every watch), and thousands of watches sleep at once.
        outcome = None


class Tracked(Generic[K]):
    """One task of a many-task watch: the item as the caller gave it, its state, how to
    poll it and the watch its events name.

    ``poll(task_id, watch, priority)`` is its family's, shared by every task of that family, so a
    task costs only what is its own. ``watch`` is made when something observes the
    watches (``TaskWatches`` starts them so); until then ``family`` names it.
    """

    __slots__ = ("family", "follow", "key", "poll", "watch")

    def __init__(
        self,
        key: K,
        poll: Callable[[str, WatchRef, Priority], Awaitable[TaskStatus]],
        follow: Follow[TaskStatus],
        family: str,
        watch: WatchRef | None = None,
    ) -> None:
        self.key = key
        self.poll = poll
        self.follow = follow
        self.family = family
        self.watch = watch


MOST_POLLS_STARTED = 2
"""A many-task scheduler starts at most this many times the client's limit on requests in
flight as polls at once: the rest stay in its heap, overdue, until a poll ends. Started
polls beyond the limit only wait in the limiter's line, each a task and a stack of
coroutines (a few KiB); twice the limit keeps the line full for the budget to rank."""


class TaskWatches(Generic[K]):
    """Many tasks followed on one schedule: an async iterator of ``(item, status)`` for
    each change of any task, and ``(item, exception)`` for a task whose following
    failed (an error that cannot heal, or the overall deadline).

    One scheduler keeps every task's next poll in a heap and polls what is due,
    each poll on its own task, all on the client's request path (its limiter
    bounds what is in flight). Polling happens only while ``__anext__`` runs:
    when it returns, no poll is left running, so breaking out of the loop (or
    cancelling) stops everything at once and no task group outlives a call.

    At most ``in_flight`` polls run at once (``MOST_POLLS_STARTED`` times the client's
    limit on requests in flight); the others wait in the heap, which holds a task as a
    few hundred bytes (a :class:`Tracked`, its :class:`Follow` and a heap entry) where a
    poll started early would hold a task and its coroutines.

    ``emit`` reports each task's start (on the first ``__anext__``), changes and end
    (``_events``); tasks still followed when :meth:`aclose` runs end as abandoned.
    """

    def __init__(
        self,
        tracked: list[Tracked[K]],
        *,
        timeout: float | None,
        outage: Callable[[], Exception | None],
        emit: Emitter | None = None,
        in_flight: int = 512,
    ) -> None:
        if in_flight < 1:
            raise ValueError(f"in_flight must be at least 1, got {in_flight!r}")
        self._waiting = tracked  # not polled yet: started on the first __anext__
        self._most = in_flight
        self._timeout = timeout
        self._outage = outage
        self._emit = emit
        self._observed = False  # whether events or DEBUG log lines go out: set on the first __anext__
        self._heap: list[tuple[float, int, Tracked[K]]] = []
        self._seq = itertools.count()
        self._ready: collections.deque[tuple[K, TaskStatus | Exception]] = collections.deque()
        self._flying: set[Tracked[K]] = set()
        self._deadline = math.inf
        self._changed: anyio.Event | None = None
        self._closed = False

    def __aiter__(self) -> TaskWatches[K]:
        return self

    async def __anext__(self) -> tuple[K, TaskStatus | Exception]:
        if self._waiting:
            self._start()
        while not self._ready:
            if self._closed or not self._heap:
                raise StopAsyncIteration
            await self._run()
        return self._ready.popleft()

    async def aclose(self) -> None:
        """Stop following: nothing more is polled (nothing runs between two items anyway)."""
        self._closed = True
        if self._observed:
            for entry in sorted(self._heap, key=lambda entry: entry[:2]):
                self._ended(entry[2], abandoned=True)
        self._heap.clear()
        self._ready.clear()

    async def __aenter__(self) -> TaskWatches[K]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _start(self) -> None:
        started = now()
        self._deadline = math.inf if self._timeout is None else started + self._timeout
        self._observed = observed(self._emit)
        for tracked in self._waiting:
            tracked.follow.started = started
            tracked.follow.deadline = self._deadline
            self._push(tracked, started)
            if self._observed:
                tracked.watch = new_watch(tracked.follow.task_id, tracked.family)
                watch_started(self._emit, tracked.watch)
        self._waiting = []

    def _push(self, tracked: Tracked[K], due: float) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), tracked))

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = anyio.Event()

    async def _run(self) -> None:
        """Poll what is due until an item is ready or the deadline passes; return with no poll running."""
        self._changed = anyio.Event()
        try:
            async with anyio.create_task_group() as group:
                while not self._ready and (self._heap or self._flying):
                    moment = now()
                    if moment >= self._deadline:
                        group.cancel_scope.cancel()
                        break
                    room = len(self._flying) < self._most
                    if room and self._heap and self._heap[0][0] <= moment:
                        tracked = heapq.heappop(self._heap)[2]
                        self._flying.add(tracked)
                        group.start_soon(self._poll, tracked)
                        continue
                    due = self._heap[0][0] if self._heap and room else math.inf
                    until = min(due, self._deadline)
                    if self._flying:  # a poll in flight may decide what comes next
                        with anyio.move_on_after(until - moment):
                            await self._changed.wait()
                    else:
                        await sleep(until - moment)
        finally:
            self._changed = None
            # Polls cut short (the deadline, or a cancelled call) are due again at once.
            for tracked in self._flying:
                self._push(tracked, now())
            self._flying.clear()
        if now() >= self._deadline:
            self._time_out()

    async def _poll(self, tracked: Tracked[K]) -> None:
        follow = tracked.follow
        began = now()
        try:
            status = await tracked.poll(follow.task_id, tracked.watch or UNNAMED_WATCH, follow.priority)
        except Exception as error:  # noqa: BLE001 (a poll's error is its task's outcome, handed back)
            self._flying.discard(tracked)
            if not is_transient(error):
                self._ready.append((tracked.key, error))
                self._ended(tracked, error)
            else:
                try:
                    wait = follow.failed(error, began, now(), gated=self._outage() is not None)
                except Exception as final:  # noqa: BLE001 (the outage outlasted max_outage: the outcome)
                    self._ready.append((tracked.key, final))
                    self._ended(tracked, final)
                else:
                    self._push(tracked, began + _scheduled(wait))
            self._wake()
            return
        self._flying.discard(tracked)
        previous = follow.last
        if follow.seen(status, began, now()):
            self._ready.append((tracked.key, status))
            if tracked.watch is not None:
                watch_changed(self._emit, tracked.watch, status, previous)
                if status.is_terminal:
                    self._ended(tracked)
        if not status.is_terminal:
            self._push(tracked, began + _scheduled(follow.wait_after(began)))
        self._wake()

    def _time_out(self) -> None:
        outage = self._outage()
        remaining = [entry[2] for entry in sorted(self._heap, key=lambda entry: entry[:2])]
        self._heap.clear()
        for tracked in remaining:
            error = tracked.follow.timed_out(outage)
            self._ready.append((tracked.key, error))
            self._ended(tracked, error)

    def _ended(self, tracked: Tracked[K], error: Exception | None = None, *, abandoned: bool = False) -> None:
        if tracked.watch is not None:
            watch_ended(self._emit, tracked.watch, tracked.follow.last, error, abandoned=abandoned)


def _scheduled(wait: float) -> float:
    """A wait as the scheduler counts it: none in testing mode, where every SDK wait is instant."""
    return 0.0 if is_testing() else wait
