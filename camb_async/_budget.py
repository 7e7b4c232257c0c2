"""The client-wide request budget: at most R requests in any one second, paced evenly.

A budget given as ``max_requests_per_second=R`` is a promise to the server:
requests leave at least ``1/R`` seconds apart (so a leaky-bucket limiter such as
nginx's ``limit_req`` sees a steady stream, not bursts), and a sliding log of
the last R send times holds even when the event loop wakes a request late.

Without a given budget the client learns one from the server's rate limiting:
a ``RateLimit-Policy`` header (``100;w=1`` or ``"name";q=100;w=1``) says it
outright; a 429 that names no wait (no ``Retry-After``: one that does pauses the
client instead) says only that the client went too fast, so the budget starts a
little below what the server let through in the last second and then moves as
TCP's congestion window does: up by half each busy second until a 429 meets the
client at its budget (slow start), then down by a quarter on each such 429 and
up by 5 % per busy second without one. Hand-written: rate-limiting
libraries (aiolimiter, limits) pace or count, but neither learns from the
server's answers, and this is ~100 lines on the SDK's own clock.
"""

from __future__ import annotations

import collections
import heapq
import math
import re
from typing import TYPE_CHECKING

from ._clock import now, sleep

if TYPE_CHECKING:
    import httpx

__all__ = ["RequestBudget", "parse_rate_limit_policy"]

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


class RequestBudget:
    """Paces a client's requests (see the module docstring).

    ``rate`` is ``None`` while nothing limits the client (requests go at once);
    :meth:`take` is called right before each send, :meth:`answered` with each answer.
    """

    __slots__ = (
        "_answers",
        "_busy",
        "_found",
        "_grown_at",
        "_holes",
        "_limited_at",
        "_lowered_at",
        "_next",
        "_sent",
        "_told",
        "fixed",
        "rate",
    )

    def __init__(self, rate: float | None = None) -> None:
        self.rate: float | None = rate
        self.fixed: bool = rate is not None  # given by the user: never learned over
        self._next = 0.0  # the earliest moment the next request may leave
        self._holes: list[float] = []  # slots given back by cancelled requests (a heap)
        self._sent: collections.deque[float] = collections.deque()
        self._lowered_at = -math.inf  # when a 429 last lowered the budget
        self._grown_at = -math.inf  # when it was last raised
        self._limited_at = -math.inf  # when the last 429 that named no wait came
        self._answers: collections.deque[float] = collections.deque()  # answers (not 429) in the last second
        self._found = False  # whether a 429 has met the client at a learned budget: then grow slowly
        self._busy = False  # whether a request waited for the budget since the last increase
        self._told = False  # whether the server said the budget (RateLimit-Policy)

    async def take(self) -> None:
        """Wait for this request's turn under the budget (at once when there is none)."""
        rate = self.rate
        if rate is None:
            return
        moment = now()
        holes = self._holes
        while holes and holes[0] < moment:
            heapq.heappop(holes)  # a slot given back whose time passed unused
        if holes:
            at = heapq.heappop(holes)
        else:
            at = max(moment, self._next)
            self._next = at + 1.0 / rate
        if at > moment:
            self._busy = True
            try:
                await sleep(at - moment)
            except BaseException:
                # Cancelled while waiting (a watch's deadline, say): give the slot back, or
                # slots lost this way would push every later request further out.
                heapq.heappush(holes, at)
                raise
        # The sliding log: whatever the pacing, never more than `rate` sends in one second.
        sent = self._sent
        most = max(1, math.floor(rate))
        while True:
            moment = now()
            while sent and sent[0] <= moment - 1.0:
                sent.popleft()
            if len(sent) < most:
                break
            self._busy = True
            # A microsecond past the end of the window: a clock landing on its very end (a
            # virtual one) must not sleep rounding errors forever.
            await sleep(max(sent[0] + 1.0 - moment, 0.0) + _SLACK)
        sent.append(moment)

    def answered(self, response: httpx.Response) -> None:
        """Learn from an answer: a 429, or the policy headers of any answer."""
        if self.fixed:
            return
        moment = now()
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
        elif (
            response.status_code == 429
            and "retry-after" not in headers
            and "retry-after-ms" not in headers
            and not self._told
        ):
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
