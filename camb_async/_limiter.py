"""How many requests a client has in flight: a limit that follows the round trip.

A fixed limit is wrong one way or the other. Against a distant server (say
150 ms a request) many requests in flight are what keep hundreds of polls a
second going. Against a near server, or once the client's own event loop is
saturated, the same many only add waiting: each answer sits in the loop's
queue, and httpx's pool (httpcore) scans every idle connection on every
request, so its CPU per request grows with the pool (in docs/benchmarks.md,
10,000 watches cost about 3 ms of CPU per request with 64 in flight, and
1 ms with this limit).

So the limit moves, the way TCP Vegas moves its window. ``base`` is the
shortest round trip seen lately (the request alone, with no waiting) and
``rtt`` the one just measured; ``limit * (1 - base / rtt)`` estimates how
many of the requests in flight are waiting rather than being served. Few
waiting: the limit grows, by about ``log10(limit)`` per round trip; many:
it sheds half of the excess per round trip. Until the first time more than
a few wait it grows as TCP's slow start does, doubling per round trip, so
that a distant server's many slots are reached in a few round trips.

It grows only while it is actually used, never falls below ``minimum``, and
never rises above the ceiling: ``maximum`` (``max_concurrent_requests``),
and below that :data:`NEAR_CEILING` unless the round trip alone is long.
By Little's law a client needs ``rate * base`` requests in flight to send
``rate`` requests a second; the ceiling is what :data:`TARGET_RATE` needs at
``base``: 64 up to a 32 ms round trip, 300 at 150 ms. A distance costs
latency then, not throughput, while a near server keeps the small pool that
costs httpx least.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
from collections import deque
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from collections.abc import Generator

__all__ = ["LINE_HORIZON", "NEAR_CEILING", "TARGET_RATE", "RequestLimiter", "Waiter"]

NEAR_CEILING = 64
"""The ceiling of the limit while the shortest round trip is short (under 32 ms)."""
TARGET_RATE = 2_000.0
"""Requests a second the ceiling allows for at the shortest round trip (about
what one client's event loop sends at most): ``TARGET_RATE * base`` in flight."""

_EPOCH = 500
"""Answers over which the shortest round trip is remembered, and at least
:data:`_EPOCH_ROUND_TRIPS` round trips' worth of them (``limit`` answers each):
``base`` is the shortest of the current and the previous epoch, so it follows a
server that has become slower for good within two epochs."""
_EPOCH_ROUND_TRIPS = 8

LINE_HORIZON = 30.0
"""On asyncio, a request in line whose deadline is further off than this many seconds gets
no timer of its own: one sweep of the line every half of it gives a timer to each whose
deadline has come this near. A wait in line is mostly far shorter than a watch's deadline
(600 s by default), and a timer per waiting request, left in the loop's heap once
cancelled, costs about 0.2 KiB, for thousands of requests at once."""


class Waiter:
    """One request in line for a slot (:meth:`RequestLimiter.line`): awaiting it waits
    until it is woken with a slot (:meth:`wake`) or without (:meth:`expire`: its deadline
    passed, or the limiter closed).

    On asyncio, awaiting it awaits a bare future, with no coroutine of its own: an
    ``anyio.Event`` there is an ``asyncio.Event``, whose own ``deque`` of waiters takes
    about 0.8 KiB, and thousands of polls may wait in line at once. On trio, an
    ``anyio.Event`` within a cancel scope for the deadline.
    """

    __slots__ = ("abandoned", "deadline", "event", "future", "timer", "woken")

    def __init__(self, deadline: float) -> None:
        self.abandoned: bool = False
        self.woken: bool = False
        self.deadline: float = deadline
        self.timer: asyncio.TimerHandle | None = None  # asyncio: once the deadline is near
        self.event: anyio.Event | None = None
        try:
            self.future: asyncio.Future[None] | None = asyncio.get_running_loop().create_future()
        except RuntimeError:  # not asyncio (trio)
            self.future = None
            self.event = anyio.Event()

    def __await__(self) -> Generator[Any, None, None]:
        if self.future is not None:
            return self.future.__await__()
        return self._wait().__await__()

    async def _wait(self) -> None:
        assert self.event is not None
        with anyio.CancelScope(deadline=self.deadline):  # trio, where a cancel scope costs little
            await self.event.wait()

    def wake(self) -> None:
        self.woken = True
        self.expire()

    def expire(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        future = self.future
        if future is None:
            assert self.event is not None
            self.event.set()
        elif not future.done():
            future.set_result(None)


class RequestLimiter:
    """Slots for requests in flight, first come first served, under an adaptive limit.

    Args:
        maximum: The limit never exceeds this (``max_concurrent_requests``), nor,
            unless the shortest round trip is long, :data:`NEAR_CEILING`.
        minimum: ... nor falls below this (or ``maximum``, if smaller).
        initial: The limit before the first round trip is measured.
    """

    __slots__ = (
        "_base",
        "_ceiling",
        "_epoch_min",
        "_floor",
        "_samples",
        "_starting",
        "_sweeper",
        "_timers",
        "_waiters",
        "closed",
        "in_flight",
        "limit",
        "maximum",
        "minimum",
    )

    def __init__(self, maximum: int, *, minimum: int = 4, initial: int = 16) -> None:
        self.maximum: int = maximum
        self.minimum: int = min(minimum, maximum)
        self.limit: float = float(max(self.minimum, min(initial, maximum)))
        self.in_flight: int = 0
        self.closed: bool = False
        self._waiters: deque[Waiter] = deque()
        self._base = math.inf
        self._epoch_min = math.inf
        self._samples = 0
        self._floor = max(NEAR_CEILING, self.minimum)  # the ceiling's least
        self._ceiling = float(min(maximum, self._floor))
        self._starting = True  # slow start: until more than a few requests wait
        # What the deadline timers of waiters run in: they read no context variable, and a
        # timer given none copies the waiting task's (64 bytes for each waiting request).
        self._timers = contextvars.Context()
        self._sweeper: asyncio.TimerHandle | None = None

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot (those given up on may still be counted until a slot frees)."""
        return sum(not waiter.abandoned for waiter in self._waiters)

    def try_acquire(self) -> bool:
        """Take a slot if one is free and nobody is waiting (no checkpoint)."""
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return True
        return False

    async def acquire(self, deadline: float = math.inf) -> bool:
        """Take a slot, waiting in line for one until ``deadline`` (on the event loop's
        clock); whether one was taken (not when the deadline passed first). A cancelled
        wait takes none.

        Raises:
            anyio.ClosedResourceError: The limiter is closed (:meth:`close`), before or
                while the request waited.
        """
        if self.try_acquire():
            return True
        place = self.line(deadline)
        try:
            await place
        except BaseException:
            self.leave(place)
            raise
        return self.served(place)

    def line(self, deadline: float = math.inf) -> Waiter:
        """A place at the end of the line, kept until ``deadline`` (on the event loop's
        clock): ``await`` it, then :meth:`served` says whether it got its slot; a caller
        whose wait raises calls :meth:`leave`. This is :meth:`acquire` for a caller that
        waits in its own frame, as the request path does: thousands of polls may wait at
        once, each holding nothing but its place (no cancel scope, and on asyncio a timer
        only once its deadline is near, :data:`LINE_HORIZON`).

        Raises:
            anyio.ClosedResourceError: The limiter is closed.
        """
        if self.closed:
            raise anyio.ClosedResourceError
        place = Waiter(deadline)
        self._waiters.append(place)
        self._wake()  # those in line may all have given up while a slot was free
        future = place.future
        if future is not None and not place.woken and deadline != math.inf:
            self._time(place, future.get_loop())
        return place

    def served(self, place: Waiter) -> bool:
        """Whether ``place``, awaited, got its slot (else it leaves the line).

        Raises:
            anyio.ClosedResourceError: The limiter closed while it waited.
        """
        if place.woken:
            return True
        place.abandoned = True
        if self.closed:
            raise anyio.ClosedResourceError
        return False

    def leave(self, place: Waiter) -> None:
        """``place`` gives up (its wait was cancelled): it takes no slot."""
        if place.woken:
            self.release()  # the slot arrived with the cancellation: pass it on
        else:
            place.abandoned = True
            if place.timer is not None:
                place.timer.cancel()
                place.timer = None

    def _time(self, place: Waiter, loop: asyncio.AbstractEventLoop) -> None:
        """Give ``place`` a timer for its deadline if it is near, else leave it to :meth:`_sweep`."""
        if place.deadline - loop.time() <= LINE_HORIZON:
            place.timer = loop.call_at(place.deadline, place.expire, context=self._timers)
        elif self._sweeper is None:
            self._sweeper = loop.call_later(LINE_HORIZON / 2.0, self._sweep, loop, context=self._timers)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        """Time the places in line whose deadline has come within :data:`LINE_HORIZON`;
        again in half of it while any is left untimed."""
        self._sweeper = None
        for place in self._waiters:
            if place.timer is None and place.deadline != math.inf and not place.abandoned:
                self._time(place, loop)

    def close(self) -> None:
        """Refuse every request waiting for a slot, and any that comes later
        (``anyio.ClosedResourceError``): the client is closing."""
        self.closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        waiters = self._waiters
        while waiters:
            waiters.popleft().expire()

    def release(self) -> None:
        """Give a slot back, to the first in line if the limit allows."""
        self.in_flight -= 1
        self._wake()

    @property
    def ceiling(self) -> float:
        """The most the limit may be now: :data:`NEAR_CEILING`, or more while the
        shortest round trip is long, and never more than ``maximum``."""
        return self._ceiling

    def observe(self, rtt: float) -> None:
        """Move the limit after a request that took ``rtt`` seconds to be answered."""
        if not rtt > 0.0:  # a clock that did not move says nothing
            return
        epoch_min = self._epoch_min = min(self._epoch_min, rtt)
        samples = self._samples = self._samples + 1
        base = min(self._base, epoch_min)
        if samples >= _EPOCH and samples >= _EPOCH_ROUND_TRIPS * self.limit:
            self._base, self._epoch_min, self._samples = epoch_min, math.inf, 0
        ceiling = self._ceiling = min(self.maximum, max(self._floor, TARGET_RATE * base))
        limit = self.limit
        scale = math.log10(limit) if limit > 10.0 else 1.0
        queued = limit * (1.0 - base / rtt)
        # One answer is 1/limit of a round trip's worth, so these steps add up, per
        # round trip, to `scale` up (as Vegas grows; slow start: the whole limit, so it
        # doubles), or to half of the excess of waiting requests down (faster than
        # Vegas: waiting costs CPU here).
        if queued > 6.0 * scale:
            self._starting = False
            step = max(scale, (queued - 6.0 * scale) / 2.0)
            self.limit = min(ceiling, max(float(self.minimum), limit - step / limit))
        elif queued < 3.0 * scale:
            if self.in_flight >= limit / 2:
                self.limit = min(ceiling, limit + (1.0 if self._starting else scale / limit))
                self._wake()
        else:
            self._starting = False
            if limit > ceiling:
                self.limit = ceiling

    def _wake(self) -> None:
        waiters = self._waiters
        while waiters and self.in_flight < self.limit:
            waiter = waiters.popleft()
            if not waiter.abandoned:
                self.in_flight += 1
                waiter.wake()
