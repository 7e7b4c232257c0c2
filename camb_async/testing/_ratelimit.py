"""The simulator's rate limit: at most ``rate`` API requests in any one second, 429 beyond.

Its 429 carries what rate-limited APIs send (``Retry-After``,
``RateLimit-Policy``, ``X-RateLimit-*``), or nothing at all, as nginx's
``limit_req`` does, when ``headers=False``.
"""

from __future__ import annotations

import collections
import math
import threading
from typing import TYPE_CHECKING

from ._http import Answer

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["RateLimit", "most_in_one_second"]


def most_in_one_second(moments: Iterable[float]) -> int:
    """The most of ``moments`` (seconds) within any one second (a half-open window): what a
    request budget of ``max_requests_per_second=R`` keeps at ``R`` or below. For example
    ``most_in_one_second(record.at for record in sim.request_log)``."""
    ordered = sorted(moments)
    most = start = 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


class RateLimit:
    """A sliding one-second window over the API requests it admitted. Thread-safe."""

    def __init__(self, rate: float, *, headers: bool = True) -> None:
        if not 0 < rate < math.inf:
            raise ValueError(f"rate must be a number of requests per second > 0, got {rate!r}")
        self.rate = rate
        self.headers = headers
        self._most = max(1, math.floor(rate))
        self._admitted: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def answer(self, at: float) -> Answer | None:
        """``None`` to admit a request that arrived ``at`` (seconds); else its 429."""
        with self._lock:
            admitted = self._admitted
            while admitted and admitted[0] <= at - 1.0:
                admitted.popleft()
            if len(admitted) < self._most:
                admitted.append(at)
                return None
            reset = admitted[0] + 1.0 - at
        if not self.headers:
            return Answer(429, {"detail": "Too Many Requests"})
        whole = str(max(1, math.ceil(reset)))
        return Answer(
            429,
            {"detail": "Too Many Requests"},
            headers=(
                (b"retry-after", whole.encode()),
                (b"ratelimit-policy", f"{self.rate:g};w=1".encode()),
                (b"x-ratelimit-limit", f"{self._most}".encode()),
                (b"x-ratelimit-remaining", b"0"),
                (b"x-ratelimit-reset", whole.encode()),
            ),
        )
