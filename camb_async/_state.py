"""What a client keeps per event loop, and whether it is open: the state the request path runs on."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel

from ._breaker import BREAKER_THRESHOLD, FIRST_PROBE, PROBE_INTERVAL, CircuitBreaker
from ._budget import RequestBudget
from ._clock import sleep
from ._exceptions import CambError
from ._limiter import RequestLimiter
from ._shared_budget import SharedBudget
from ._transport import running_on_asyncio

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from ._shared_budget import SharedBudgetSource
    from ._transport import BareSend, HttpClientBuilder

__all__ = ["Lifecycle", "LoopState", "Pool", "honour_pause"]


class LoopState:
    """What a client keeps per event loop: the loop's token, the HTTP client it
    sends through (and its short way for bare requests, ``BareSend``, when it has
    one), the limiter on requests in flight, the slots of streamed
    transfers, the circuit breaker, the request budget, the moment a rate limit
    lets requests go again, and the cancel scopes of requests being sent (so
    aclose() can end them) with the class that makes them on this loop."""

    __slots__ = (
        "_current_token",
        "bare",
        "breaker",
        "budget",
        "cancel_scope",
        "drained",
        "http",
        "limiter",
        "resume_at",
        "sending",
        "token",
        "transfers",
    )

    def __init__(
        self,
        http: httpx.AsyncClient,
        max_concurrent_requests: int,
        max_transfers: int,
        max_requests_per_second: float | None = None,
        bare: BareSend | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        # On asyncio the loop itself is the token, and asking for it is ~20 times
        # cheaper than anyio's generic current_token(); this runs on every request. So
        # is reading the loop's clock, which the budget does on every answer.
        on_asyncio = running_on_asyncio()
        self._current_token: Callable[[], object] = (
            asyncio.get_running_loop if on_asyncio else anyio.lowlevel.current_token
        )
        self.token: object = self._current_token()
        clock = asyncio.get_running_loop().time if on_asyncio else anyio.current_time
        # anyio's CancelScope() asks which event loop runs for each scope it makes: every
        # request makes one, so the class it makes on this loop is kept and made directly.
        self.cancel_scope: type[anyio.CancelScope] = type(anyio.CancelScope())
        self.http: httpx.AsyncClient = http
        self.bare: BareSend | None = bare
        self.limiter: RequestLimiter = RequestLimiter(max_concurrent_requests)
        self.transfers: anyio.Semaphore = anyio.Semaphore(max_transfers)
        self.breaker: CircuitBreaker = breaker or CircuitBreaker()
        self.budget: RequestBudget = RequestBudget(max_requests_per_second, clock=clock)
        self.resume_at: float = 0.0
        self.sending: set[anyio.CancelScope] = set()
        self.drained: anyio.Event | None = None

    def on_own_loop(self) -> bool:
        """Whether the running event loop is the one this state belongs to."""
        try:
            return self._current_token() == self.token
        except RuntimeError:  # asyncio.get_running_loop() under another library's loop
            return False


class Lifecycle:
    """Open/closed flag shared with the finalizer that warns about unclosed clients. A
    client derived by ``with_options()`` has its own, closed also when its parent's is."""

    __slots__ = ("_closed", "owns_http", "parent")

    def __init__(self, owns_http: bool, parent: Lifecycle | None = None) -> None:
        self._closed = False
        self.owns_http: bool = owns_http
        self.parent: Lifecycle | None = parent

    @property
    def closed(self) -> bool:
        return self._closed or (self.parent is not None and self.parent.closed)

    def close(self) -> None:
        self._closed = True

    def warn_if_open(self) -> None:
        if self.owns_http and not self.closed:
            import warnings

            warnings.warn(
                "AsyncCambClient was never closed; use `async with AsyncCambClient() as client:` "
                "or `await client.aclose()`",
                ResourceWarning,
                stacklevel=1,
            )


async def honour_pause(state: LoopState) -> None:
    """Wait out a client-wide pause a 429/503 started. One clock read: with two, the
    pause could end between them, and a negative sleep is a ValueError."""
    pause = state.resume_at - anyio.current_time() if state.resume_at else 0.0
    if pause > 0:
        await sleep(pause)


class Pool:
    """What a requester shares with those derived from it: the HTTP client, whether the API
    ever answered, and the per-loop state (limits, pause, breaker, the fleet's side of the
    budget) made on first use."""

    __slots__ = (
        "breaker",
        "builder",
        "contacted",
        "http",
        "loop",
        "max_concurrent",
        "max_rate",
        "max_transfers",
        "shared_budget",
    )

    def __init__(
        self,
        http: httpx.AsyncClient | None,
        builder: HttpClientBuilder | None,
        max_concurrent: int,
        max_transfers: int,
        max_rate: float | None,
        shared_budget: SharedBudgetSource | None = None,
        breaker: tuple[int, float] = (BREAKER_THRESHOLD, PROBE_INTERVAL),
    ) -> None:
        self.breaker = breaker  # (threshold, probe interval) of each loop's circuit breaker
        self.http = http
        self.builder = builder
        self.max_concurrent = max_concurrent
        self.max_transfers = max_transfers
        self.max_rate = max_rate
        self.shared_budget = shared_budget
        self.contacted = False
        self.loop: LoopState | None = None

    def start(self, headers: dict[str, str]) -> LoopState:
        """Build the SDK's HTTP client if it has none, and the state of the running loop."""
        shared = self.shared_budget
        if shared is not None and not running_on_asyncio():
            raise CambError(
                "shared_budget needs asyncio (redis-py's asyncio client); this client runs on "
                "another event loop: give it max_requests_per_second alone, divided by your processes"
            )
        if self.http is None:
            assert self.builder is not None
            self.http = self.builder.build(headers)
        bare = None if self.builder is None else self.builder.bare_sender(self.http)
        threshold, interval = self.breaker
        breaker = CircuitBreaker(
            threshold=threshold, first_pause=min(FIRST_PROBE, interval), max_pause=interval
        )
        state = LoopState(self.http, self.max_concurrent, self.max_transfers, self.max_rate, bare, breaker)
        if shared is not None:
            state.budget.shared = SharedBudget.open(shared, headers["x-api-key"], state.budget)
        self.loop = state
        return state
