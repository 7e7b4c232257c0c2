"""Outages of the API during 1,000 watches over real TCP: ridden out, without hammering the server.

The simulator stops serving for a while (connections refused) and comes back
on the same port. Every watch must end with its task's true final status when
the outage is shorter than its deadline, or with a ``WatchTimeoutError`` that
names the outage when it is longer; while the API is down the client's circuit
breaker keeps its connection attempts to about two a second, counted on the
client side by a transport that wraps httpx's own.
"""

from __future__ import annotations

import collections
import time
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
import httpx
import pytest
from support import watches_through_an_outage

from camb_async import APIConnectionError, AsyncCambClient, TaskStatus, WatchTimeoutError
from camb_async._constants import default_limits

from .harness import FIGURES, KEY, Outcome, seed_tasks, watch_all

if TYPE_CHECKING:
    from camb_async.testing import Simulator

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

COUNT = 1_000
INTERVAL = 0.2


class CountingTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, noting when each attempt was made and whether it connected."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport(limits=default_limits(80))
        self.attempts: list[tuple[float, bool]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.ConnectError:
            self.attempts.append((time.monotonic(), False))
            raise
        self.attempts.append((time.monotonic(), True))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def run_with_outage(
    sim: Simulator, *, downtime: float, timeout: float, spread: tuple[float, float]
) -> tuple[dict[str, Outcome], list[str], CountingTransport, tuple[float, float]]:
    """1,000 watches of tasks ending within ``spread`` s; the API goes down 1 s in, for ``downtime`` s."""
    task_ids = seed_tasks(sim, COUNT, seed=int(downtime * 10), spread=spread)
    transport = CountingTransport()
    window: list[float] = []
    outcomes: dict[str, Outcome] = {}
    async with (
        httpx.AsyncClient(transport=transport) as http,
        AsyncCambClient(KEY, base_url=sim.url, http_client=http) as client,
    ):

        async def outage() -> None:
            await anyio.sleep(1.0)
            await anyio.to_thread.run_sync(sim.stop)
            window.append(time.monotonic())
            await anyio.sleep(downtime)
            window.append(time.monotonic())
            await anyio.to_thread.run_sync(sim.start)

        with anyio.fail_after(timeout + downtime + 60):
            async with anyio.create_task_group() as group:
                group.start_soon(outage)
                outcomes = await watch_all(client, task_ids, interval=INTERVAL, timeout=timeout)
    return outcomes, task_ids, transport, (window[0], window[1])


def attempts_while_down(transport: CountingTransport, window: tuple[float, float]) -> list[float]:
    """When connections were tried during the outage, after its first second (the first second
    holds the burst of requests that were in flight when it began)."""
    start, end = window
    return [at for at, _ in transport.attempts if start + 1.0 <= at <= end]


# Every downtime on asyncio; the 2.5 s one on trio too (the long ones cost a minute each).
@pytest.mark.parametrize(
    ("downtime", "anyio_backend"),
    [(0.5, "asyncio"), (2.5, "asyncio"), (2.5, "trio"), (10.0, "asyncio"), (60.0, "asyncio")],
)
async def test_watches_ride_out_an_outage_shorter_than_their_deadline(
    sim: Simulator, downtime: float, anyio_backend: str
) -> None:
    """Every watch ends with its task's true final status, and the client tries at most about
    two connections a second while the API is down."""
    outcomes, task_ids, transport, window = await run_with_outage(
        sim, downtime=downtime, timeout=downtime + 120.0, spread=(0.5, 4.0)
    )
    errors = collections.Counter(repr(o.error)[:120] for o in outcomes.values() if o.error is not None)
    assert not errors, errors
    for task_id in task_ids:
        assert outcomes[task_id].final == sim.record(task_id).final_status, task_id
    tried = attempts_while_down(transport, window)
    refused = sum(1 for _, ok in transport.attempts if not ok)
    FIGURES.add(
        f"outage {downtime:g} s{'' if anyio_backend == 'asyncio' else ' (trio)'}",
        tasks=COUNT,
        resolved=COUNT,
        lost=0,
        requests=len(transport.attempts),
        refused=refused,
        attempts_per_second_while_down=round(len(tried) / max(downtime - 1.0, 1.0), 2),
    )
    assert refused > 0, "no request met the outage: the test proved nothing"
    assert len(tried) <= 2.0 * max(downtime - 1.0, 0.0) + 3


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_outage_longer_than_the_deadline_ends_watches_naming_it(
    sim: Simulator, anyio_backend: str
) -> None:
    """Watches whose deadline passes during the outage raise WatchTimeoutError caused by the connection error."""
    outcomes, _, _, _ = await run_with_outage(sim, downtime=8.0, timeout=5.0, spread=(30.0, 40.0))
    kinds: collections.Counter[str] = collections.Counter()
    for outcome in outcomes.values():
        error: Any = outcome.error
        assert isinstance(error, WatchTimeoutError), error
        kinds[type(error.__cause__).__name__] += 1
        assert isinstance(error.__cause__, APIConnectionError), error.__cause__
        assert error.last_error is error.__cause__
    FIGURES.add("outage past the deadline", tasks=COUNT, timed_out=COUNT, causes=dict(kinds))


# The issue's own numbers (100 watches polling every 0.2 s): before, with max_outage=2 watches
# gave up 6.7 s into a 5 s outage, after the server was back; with max_outage=6 a 4 s outage
# lost 98 of 100; after a 15 s outage watches saw their finished tasks 7.7 s late.


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_max_outage_2_and_a_5_s_outage_gives_up_only_while_the_api_is_down(anyio_backend: str) -> None:
    """Watches that give up do so during the outage, never after the API is back."""
    run = await watches_through_an_outage(max_outage=2.0, downtime=5.0, finish=7.0, count=100)
    gave_up = [at - run.down for at, outcome in run.outcomes.values() if isinstance(outcome, Exception)]
    FIGURES.add(
        "max_outage 2, outage 5 s", watches=100, gave_up=len(gave_up), latest_s=max(gave_up, default=0)
    )
    assert all(at + run.down <= run.back for at in gave_up), gave_up


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_max_outage_6_and_a_4_s_outage_loses_no_watch(anyio_backend: str) -> None:
    """An outage shorter than max_outage loses none of 100 watches."""
    run = await watches_through_an_outage(max_outage=6.0, downtime=4.0, finish=6.0, count=100)
    lost = [repr(outcome)[:80] for _, outcome in run.outcomes.values() if not isinstance(outcome, TaskStatus)]
    FIGURES.add("max_outage 6, outage 4 s", watches=100, lost=len(lost))
    assert not lost, lost


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_after_a_15_s_outage_watches_resume_within_a_second_and_a_half(anyio_backend: str) -> None:
    """Tasks that finished during a 15 s outage are seen within 1.5 s of the API's return."""
    run = await watches_through_an_outage(max_outage=None, downtime=15.0, finish=1.0, count=100)
    delays = [at - run.back for at, _ in run.outcomes.values()]
    FIGURES.add("outage 15 s, resumed", watches=100, slowest_s=round(max(delays), 2))
    assert all(isinstance(outcome, TaskStatus) for _, outcome in run.outcomes.values())
    assert max(delays) < 1.5, sorted(delays)[-5:]
