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
import math
from collections import deque

import anyio

__all__ = ["NEAR_CEILING", "TARGET_RATE", "RequestLimiter"]

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


class _Waiter:
    """One request in line for a slot, woken by :meth:`wake`.

    On asyncio it waits on a bare future: an ``anyio.Event`` there is an
    ``asyncio.Event``, whose own ``deque`` of waiters takes about 0.8 KiB, and
    thousands of polls may wait in line at once. On trio, an ``anyio.Event``.
    """

    __slots__ = ("_event", "_future", "abandoned", "woken")

    def __init__(self) -> None:
        self.abandoned = False
        self.woken = False
        self._event: anyio.Event | None = None
        try:
            self._future: asyncio.Future[None] | None = asyncio.get_running_loop().create_future()
        except RuntimeError:  # not asyncio (trio)
            self._future = None
            self._event = anyio.Event()

    def wake(self) -> None:
        self.woken = True
        future = self._future
        if future is None:
            assert self._event is not None
            self._event.set()
        elif not future.done():
            future.set_result(None)

    async def wait(self) -> None:
        if self._future is None:
            assert self._event is not None
            await self._event.wait()
        else:
            await self._future


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
        "_waiters",
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
        self._waiters: deque[_Waiter] = deque()
        self._base = math.inf
        self._epoch_min = math.inf
        self._samples = 0
        self._floor = max(NEAR_CEILING, self.minimum)  # the ceiling's least
        self._ceiling = float(min(maximum, self._floor))
        self._starting = True  # slow start: until more than a few requests wait

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

    async def acquire(self) -> None:
        """Take a slot, waiting in line for one; a cancelled wait takes none."""
        if self.try_acquire():
            return
        waiter = _Waiter()
        self._waiters.append(waiter)
        self._wake()  # those in line may all have given up while a slot was free
        try:
            await waiter.wait()
        except BaseException:
            if waiter.woken:
                self.release()  # the slot arrived with the cancellation: pass it on
            else:
                waiter.abandoned = True
            raise

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
