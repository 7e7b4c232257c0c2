"""The client-wide request budget: at most R requests in any one second, paced evenly.

A budget given as ``max_requests_per_second=R`` is a promise to the server:
requests leave at least ``1/R`` seconds apart (so a leaky-bucket limiter such as
nginx's ``limit_req`` sees a steady stream, not bursts), and a sliding log of
the last R send times holds even when the event loop wakes a request late.

Requests waiting for their turn get it by priority, not first come: each turn
goes to the request first in line at that moment. A poll's priority
(handed down with it from its watch: ``_types.Priority``) grows with its task's chance to have
finished since it was last seen running (``_learning.poll_priority``), and
with the time it has waited; every other request (creates, results,
downloads) comes before every poll. Under a budget a request takes its slot
of the limit on requests in flight (``_limiter``) with its turn, so the line
holds every waiting request, not only the few holding a slot.

A budget shared by a fleet of clients through Redis (``_shared_budget``) keeps
this line: each turn still goes to the client's own first in line, but the
timekeeper asks the fleet's ``SharedTurns`` for the moment of each turn before
it hands it out.

Without a given budget the client learns one from the server's rate limiting:
a ``RateLimit-Policy`` header (``100;w=1`` or ``"name";q=100;w=1``) says it
outright; a 429 that names no wait (no ``Retry-After``, no exhausted
``X-RateLimit-*`` with its reset: one that does pauses the client instead)
says only that the client went too fast, so the budget starts a little below
what the server let through in the last second and then moves as
TCP's congestion window does: up by half each busy second until a 429 meets the
client at its budget (slow start), then down by a quarter on each such 429 and
up by 5 % per busy second without one. Hand-written: rate-limiting
libraries (aiolimiter, limits) pace or count, but neither learns from the
server's answers nor serves its waiters by a priority that changes as they wait.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import math
import re
from typing import TYPE_CHECKING, Protocol

import anyio

from ._clock import now, sleep
from ._retry import parse_retry_after

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from ._limiter import RequestLimiter
    from ._types import Priority

__all__ = ["RequestBudget", "SharedTurns", "parse_rate_limit_policy"]

_DECREASE = 0.75
"""What a learned budget is multiplied by on a 429 (at most once a second)."""
_INCREASE = 1.05
"""What a learned budget is multiplied by after a second in which requests waited for it and no 429 came."""
_FAST_INCREASE = 1.5
"""... until the first 429 that meets the client at its budget (as TCP's slow start)."""
_FIRST_SHARE = 0.9
"""The share of the last second's answers a first headerless 429 sets the budget to."""
_LEAST = 1.0
"""The smallest budget learning sets, in requests per second."""
_SLACK = 1e-6
"""Seconds a request waiting for the window to move sleeps past its end (clock rounding)."""
_WINDOW = 1.005
"""The sliding log's window, in seconds: a second, and 5 ms for the event loop's and the
network's jitter, so that requests paced at the window's very edge still count at most R
in any one second where they leave the client and where they reach the server."""
_REKEY = 0.25
"""How often, in seconds, the waiting requests' priorities are redrawn (they grow as they wait)."""


class SharedTurns(Protocol):
    """Where the turns of a budget shared by several clients come from (``_shared_budget``)."""

    @property
    def grace(self) -> float:
        """Seconds a turn may be taken after its moment; a later one is given up, not used."""
        ...

    async def turn(self) -> float | None:
        """Reserve the fleet's next turn for this client: the moment (on the event loop's
        clock) it comes at, or ``None`` while the client goes on its local budget alone."""
        ...

    async def pause(self, seconds: float) -> None:
        """Hold every client of the fleet for ``seconds`` from now (a 429 or 503 said so)."""
        ...

    async def aclose(self) -> None:
        """Leave the fleet and close what was opened for it."""
        ...


class _Waiter:
    """A request waiting for its turn: its priority (``None``: the highest), its place in
    line, the limiter it wants a slot of, and whether it got its turn."""

    __slots__ = ("granted", "left", "order", "priority", "since", "slots", "turn", "woken")

    def __init__(
        self, priority: Priority | None, order: int, slots: RequestLimiter | None, since: float
    ) -> None:
        self.priority = priority
        self.order = order
        self.slots = slots
        self.since = since  # when it began to wait
        self.granted = False
        self.left = False  # cancelled: skipped when its turn would come
        self.turn = 0.0  # when it got its turn
        self.woken: anyio.Event | None = None

    def key(self, moment: float) -> tuple[float, int]:
        """Its place in the queue at ``moment``: highest priority first, then first come."""
        priority = self.priority
        return (-math.inf if priority is None else -priority(moment), self.order)


class RequestBudget:
    """Paces a client's requests (see the module docstring).

    ``rate`` is ``None`` while nothing limits the client (requests go at once);
    :meth:`take` is called right before each send, :meth:`answered` with each answer.
    ``clock`` is the event loop's clock: the client gives asyncio's loop's own method,
    which :meth:`answered` reads for less than anyio's ``current_time()`` on every answer.
    """

    __slots__ = (
        "_answers",
        "_busy",
        "_found",
        "_grown_at",
        "_held_until",
        "_keeper",
        "_keyed_at",
        "_limited_at",
        "_lowered_at",
        "_next",
        "_now",
        "_order",
        "_queue",
        "_sent",
        "_told",
        "fixed",
        "rate",
        "shared",
    )

    def __init__(self, rate: float | None = None, *, clock: Callable[[], float] = now) -> None:
        self._now = clock  # the event loop's clock (``_clock.now``, or the loop's own method)
        self.rate: float | None = rate
        self.fixed: bool = rate is not None  # given by the user: never learned over
        self._next = 0.0  # the earliest moment the next turn may be given
        self._held_until = 0.0  # no turn before this: the client's pause after a 429 or 503
        self._sent: collections.deque[float] = collections.deque()
        self._queue: list[tuple[tuple[float, int], _Waiter]] = []  # a heap, keyed at `_keyed_at` or later
        self._keyed_at = -math.inf
        self._keeper: _Waiter | None = None  # the waiter keeping time for the queue
        self._order = itertools.count()
        self._lowered_at = -math.inf  # when a 429 last lowered the budget
        self._grown_at = -math.inf  # when it was last raised
        self._limited_at = -math.inf  # when the last 429 that named no wait came
        self._answers: collections.deque[float] = collections.deque()  # answers (not 429) in the last second
        self._found = False  # whether a 429 has met the client at a learned budget: then grow slowly
        self._busy = False  # whether a request waited for the budget since the last increase
        self._told = False  # whether the server said the budget (RateLimit-Policy)
        self.shared: SharedTurns | None = None  # the fleet's turns, when the budget is shared

    @property
    def waiting(self) -> int:
        """Requests waiting for their turn."""
        return sum(not waiter.left for _, waiter in self._queue)

    async def take(self, priority: Priority | None = None, slots: RequestLimiter | None = None) -> None:
        """Wait for this request's turn under the budget (at once when there is none), and
        with ``slots`` for a slot of that limiter too, which it then holds.

        Waiting requests get their turns highest ``priority`` first (``None`` is above
        every number; equals go first come, first served), each turn going to the highest
        at the moment it comes: a priority may grow as it waits. A turn comes when the
        pacing and the sliding log allow one and, for a request that wants a slot, a slot
        is free. A request cancelled while waiting leaves the line, holding nothing."""
        rate = self.rate
        if rate is None:
            if slots is not None:
                await slots.acquire()
            return
        moment = self._now()
        queue = self._queue
        while queue and queue[0][1].left:
            heapq.heappop(queue)
        if (
            not queue
            and self.shared is None
            and self._until_free(moment, rate) <= 0.0
            and (slots is None or slots.try_acquire())
        ):
            self._spend(moment, moment, rate)
            return
        waiter = _Waiter(priority, next(self._order), slots, moment)
        heapq.heappush(queue, (waiter.key(moment), waiter))
        self._busy = True
        try:
            while not waiter.granted:
                if self._keeper is None:
                    await self._keep(waiter)
                else:
                    waiter.woken = anyio.Event()
                    await waiter.woken.wait()
        except BaseException:
            self._leave(waiter)
            raise
        self._pass_on()

    def hold_until(self, moment: float) -> None:
        """Give no turn before ``moment``: the client's pause after a 429 or 503 holds the
        requests already waiting in line as well as those still to come. The turns after
        it are paced from its end, not handed out at once for the time it held them."""
        self._held_until = max(self._held_until, moment)
        self._next = max(self._next, moment)

    def assume_spent(self, rate: float) -> None:
        """Count the last second as spent at ``rate``: as many sends, evenly spread, as that
        rate allows in a second, so that a client falling back on a local budget of its
        fair share starts where the fleet's budget leaves off, not with a fresh second."""
        moment = self._now()
        count = max(1, math.floor(rate))
        self._sent = collections.deque(moment - 1.0 + (k + 1) / rate for k in range(count))
        self._next = max(self._next, moment + 1.0 / rate)

    def _until_free(self, moment: float, rate: float) -> float:
        """Seconds from ``moment`` until the pacing, a pause and the sliding log allow the next send."""
        sent = self._sent
        while sent and sent[0] <= moment - _WINDOW:
            sent.popleft()
        wait = max(self._next, self._held_until) - moment
        if wait <= _SLACK:
            wait = 0.0  # due, but for a clock's rounding (a virtual clock's sleep can fall short)
        if len(sent) >= max(1, math.floor(rate)):
            # A microsecond past the end of the window: a clock landing on its very end (a
            # virtual one) must not sleep rounding errors forever.
            wait = max(wait, sent[0] + _WINDOW - moment + _SLACK)
        return wait

    def _spend(self, due: float, moment: float, rate: float) -> None:
        """Give at ``moment`` the turn that was due at ``due``: the next is due ``1/rate``
        after it, so a turn given late does not push the later ones back (the sliding log
        still holds them to ``rate`` a second)."""
        self._next = due + 1.0 / rate
        self._sent.append(moment)

    async def _keep(self, me: _Waiter) -> None:
        """Hand out the turns as they come, each to the waiter first in line at that moment,
        until ``me`` has one. One waiter keeps time for all the others, which sleep on an
        event: a thousand waiters set one timer, not a thousand.

        Under a shared budget the fleet's turn comes last, once a slot of the limiter is
        held: a turn that went by while a slot was awaited is given up for the next."""
        self._keeper = me
        held: RequestLimiter | None = None  # a slot taken for the next turn
        try:
            while not me.granted:
                rate = self.rate
                moment = self._now()
                if rate is not None:
                    wait = self._until_free(moment, rate)
                    if wait > 0.0:
                        await sleep(wait)
                        continue
                shared = self.shared
                if shared is None:
                    first = self._first(moment)
                    slots = first.slots
                    if slots is not None and not slots.try_acquire():
                        # The slot goes to whoever is first once one is free: the line may change.
                        await slots.acquire()
                        moment = self._now()
                        self._next = max(self._next, moment)  # no burst of turns missed meanwhile
                        first = self._first(moment)
                        if first.slots is None:
                            slots.release()
                    self._grant(first, moment, rate)
                    continue
                if held is None:
                    slots = self._first(moment).slots
                    if slots is not None and not slots.try_acquire():
                        await slots.acquire()
                        held = slots
                        continue  # the pacing moved on meanwhile
                    held = slots
                if not await self._shared_turn(shared):
                    continue
                moment = self._now()
                first = self._first(moment)
                if first.slots is None and held is not None:
                    held.release()
                elif first.slots is not None and held is None and not first.slots.try_acquire():
                    continue  # no slot for the one now first: the turn is given up
                held = None
                self._grant(first, moment, self.rate)
        finally:
            self._keeper = None
            if held is not None:
                held.release()

    async def _shared_turn(self, shared: SharedTurns) -> bool:
        """Wait for the fleet's next turn; whether it may be taken now. Without the fleet
        (Redis away) the local budget alone paces, at the rate the fleet's side set."""
        moment = await shared.turn()
        if moment is None:
            rate = self.rate
            return rate is None or self._until_free(self._now(), rate) <= 0.0
        wait = moment - self._now()
        if wait > 0.0:
            await sleep(wait)
        return self._now() - moment <= shared.grace

    def _first(self, moment: float) -> _Waiter:
        """The waiter first in line at ``moment`` (the keys are redrawn every ``_REKEY`` s)."""
        queue = self._queue
        if moment - self._keyed_at >= _REKEY:
            queue[:] = [(waiter.key(moment), waiter) for _, waiter in queue if not waiter.left]
            heapq.heapify(queue)
            self._keyed_at = moment
        while queue[0][1].left:
            heapq.heappop(queue)
        return queue[0][1]

    def _grant(self, waiter: _Waiter, moment: float, rate: float | None) -> None:
        heapq.heappop(self._queue)  # `waiter`, which _first() just found at the top
        waiter.granted = True
        waiter.turn = moment
        if rate is not None:
            self._spend(max(self._next, waiter.since), moment, rate)
        if waiter.woken is not None:
            waiter.woken.set()

    def _pass_on(self) -> None:
        """Wake a waiter to keep time in the keeper's place, if there is none and any waits."""
        if self._keeper is not None:
            return
        for _, waiter in self._queue:
            if not waiter.left:
                if waiter.woken is not None:
                    waiter.woken.set()
                return

    def _leave(self, waiter: _Waiter) -> None:
        """A waiter cancelled: out of the line; a turn (and slot) it got and cannot use go back."""
        if not waiter.granted:
            waiter.left = True
            self._pass_on()
            return
        if waiter.slots is not None:
            waiter.slots.release()
        try:
            self._sent.remove(waiter.turn)
        except ValueError:  # already out of the sliding log's second
            return
        self._next = min(self._next, max(waiter.turn, self._now()))

    def answered(self, response: httpx.Response) -> None:
        """Learn from an answer: a 429, or the policy headers of any answer."""
        if self.fixed:
            return
        moment = self._now()
        if response.status_code != 429:
            answers = self._answers
            answers.append(moment)
            while answers[0] <= moment - 1.0:
                answers.popleft()
            if self.rate is None:
                return
            self._grow(moment)
        headers = response.headers
        policy = parse_rate_limit_policy(headers)
        if policy is not None:
            self._set(policy, moment)
            self._told = True
        elif response.status_code == 429 and not self._told and parse_retry_after(headers) is None:
            # A 429 that names a wait pauses the client (the request path); one that says
            # nothing is all the client learns the server's rate from.
            self._limited_at = moment
            if moment - self._lowered_at < 1.0:
                return  # one cut a second: the requests in flight still went at the old rate
            if self.rate is None:
                # What got through in the last second: low after a first burst, but the
                # budget then grows fast until a 429 meets the client at it.
                self._lower(max(_LEAST, _FIRST_SHARE * len(self._answers)), moment)
            elif self._busy:  # at the budget: it is too high (else the 429 says nothing of it)
                self._lower(max(_LEAST, self.rate * _DECREASE), moment)
                self._found = True

    def _grow(self, moment: float) -> None:
        """Probe upwards, once a second: a learned budget the client keeps running into,
        with no 429 for a second."""
        if (
            self._busy
            and not self._told
            and moment - self._limited_at >= 1.0
            and moment - self._grown_at >= 1.0
            and self.rate is not None
        ):
            self.rate *= _INCREASE if self._found else _FAST_INCREASE
            self._grown_at = moment
            self._busy = False

    def _lower(self, rate: float, moment: float) -> None:
        self.rate = rate
        self._lowered_at = self._grown_at = moment
        self._busy = False

    def _set(self, rate: float, moment: float) -> None:
        self.rate = rate
        self._busy = False


def parse_rate_limit_policy(headers: httpx.Headers) -> float | None:
    """Requests per second from a ``RateLimit-Policy`` header (IETF draft: ``100;w=1``, or
    ``"default";q=100;w=1``); the tightest when it lists several; ``None`` without one."""
    value = headers.get("ratelimit-policy")
    if not value:
        return None
    rates: list[float] = []
    for item in value.split(","):
        quota = re.search(r"(?:^|;)\s*q=(\d+(?:\.\d+)?)", item) or re.match(r"\s*(\d+(?:\.\d+)?)", item)
        window = re.search(r";\s*w=(\d+(?:\.\d+)?)", item)
        if quota and window and float(window.group(1)) > 0:
            rates.append(float(quota.group(1)) / float(window.group(1)))
    return min(rates) if rates and min(rates) > 0 else None
