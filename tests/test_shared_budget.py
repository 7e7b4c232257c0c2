"""The request budget shared through Redis (``shared_budget=``): the fleet's turns, its roll,
its pause, and the local budget a client goes on with while Redis is away.

Clients run in this process against the in-process simulator, over a real redis-server
(Debian's, started here on a port of its own; the tests that need it skip without it).
redis-py's client runs on asyncio only; the one trio test checks the error it gets.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import time
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import pytest
from redis.asyncio import Redis
from support import API_KEY, RedisServer, SilentServer, arrivals, free_port

from camb_async import AsyncCambClient, CambError, _shared_budget
from camb_async._budget import RequestBudget
from camb_async._limiter import RequestLimiter
from camb_async._shared_budget import (
    CALL_TIMEOUT,
    RETRY_EVERY,
    SharedBudget,
    _read,
    fleet_prefix,
)
from camb_async.testing import Simulator, most_in_one_second

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    import httpx

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """redis-py's client runs on asyncio."""
    return "asyncio"


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """A client of the test's own, to look at what the fleet keeps."""
    async with Redis.from_url(redis_server.url) as client:  # pyright: ignore[reportUnknownMemberType]
        yield client


@pytest.fixture
def sim() -> Simulator:
    return Simulator()


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with sim.asgi_http_client() as client:
        yield client


def fleet_client(sim: Simulator, http: httpx.AsyncClient, rate: float, shared: Any) -> AsyncCambClient:
    return AsyncCambClient(
        API_KEY, base_url=sim.asgi_url, http_client=http, max_requests_per_second=rate, shared_budget=shared
    )


def shared_of(client: AsyncCambClient) -> SharedBudget:
    state = client._requester._pool.loop
    assert state is not None
    shared = state.budget.shared
    assert isinstance(shared, SharedBudget)
    return shared


def rate_of(client: AsyncCambClient) -> float | None:
    state = client._requester._pool.loop
    assert state is not None
    return state.budget.rate


async def poll_all(client: AsyncCambClient, task_ids: list[str]) -> None:
    async with anyio.create_task_group() as group:
        for task_id in task_ids:
            group.start_soon(client.status, task_id)


def warnings_of(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("camb_async") and r.levelno == level]


# -- refused at construction ---------------------------------------------------------


def test_a_shared_budget_needs_a_rate() -> None:
    with pytest.raises(ValueError, match=r"shared_budget needs max_requests_per_second"):
        AsyncCambClient(API_KEY, shared_budget="redis://localhost:6379/0")


@pytest.mark.parametrize(
    "url", ["http://user:hunter2@localhost:6379", "localhost:6379", "", "redis:/localhost", "tcp://x:1"]
)
def test_a_shared_budget_must_be_a_redis_url(url: str) -> None:
    with pytest.raises(ValueError, match=r"shared_budget must be a redis://") as caught:
        AsyncCambClient(API_KEY, max_requests_per_second=10, shared_budget=url)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["redis://localhost:6379/0", "REDISS://:pw@host:6380/1", "unix:///run/redis.sock"]
)
async def test_redis_urls_are_taken(url: str) -> None:
    await AsyncCambClient(API_KEY, max_requests_per_second=10, shared_budget=url).aclose()


async def test_a_shared_budget_is_a_url_or_a_redis_client() -> None:
    with pytest.raises(TypeError, match=r"shared_budget must be .* got int"):
        AsyncCambClient(API_KEY, max_requests_per_second=10, shared_budget=6379)  # type: ignore[arg-type]
    async with Redis() as redis:
        await AsyncCambClient(API_KEY, max_requests_per_second=10, shared_budget=redis).aclose()


async def test_a_client_with_an_unreachable_redis_is_made_at_once() -> None:
    started = time.monotonic()
    client = AsyncCambClient(API_KEY, max_requests_per_second=10, shared_budget="redis://10.255.255.1:6379/0")
    assert time.monotonic() - started < 0.5
    await client.aclose()


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_a_shared_budget_on_trio_says_it_needs_asyncio(anyio_backend: str, sim: Simulator) -> None:
    task_id = sim.add_tasks([[("PENDING", 0)]])[0]
    async with sim.asgi_http_client() as http, fleet_client(sim, http, 10, "redis://127.0.0.1:1/0") as client:
        with pytest.raises(CambError, match=r"shared_budget needs asyncio"):
            await client.status(task_id)


# -- the fleet over Redis --------------------------------------------------------------


@pytest.mark.slow
async def test_two_clients_share_one_budget(
    sim: Simulator, http: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    """Two clients of one key, each given R=20, send 20 a second together, evenly, at one
    round trip to Redis per request; each gets about half the turns."""
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 80)
    first = fleet_client(sim, http, 20, redis_server.url)
    second = fleet_client(sim, http, 20, redis_server.url)
    started = anyio.current_time()
    async with first, second, anyio.create_task_group() as group:
        group.start_soon(poll_all, first, task_ids[:40])
        group.start_soon(poll_all, second, task_ids[40:])
    assert most_in_one_second(arrivals(sim)) <= 20
    assert anyio.current_time() - started >= 79 / 20 * 0.95
    for client in (first, second):
        # A turn each (and one more for a turn that went by late), and leaving the roll.
        assert 40 + 1 <= shared_of(client).calls <= 44 + 1


@pytest.mark.slow
async def test_a_busy_client_takes_the_turns_an_idle_one_leaves(
    sim: Simulator, http: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    """One busy client of a fleet of two gets the fleet's whole rate: the idle one asks for nothing."""
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 60)
    busy = fleet_client(sim, http, 20, redis_server.url)
    idle = fleet_client(sim, http, 20, redis_server.url)
    async with busy, idle:
        await idle.status(task_ids[0])
        started = anyio.current_time()
        await poll_all(busy, task_ids)
        took = anyio.current_time() - started
    assert took < 59 / 20 * 1.1  # not 59 / 10
    assert most_in_one_second(arrivals(sim)) <= 20


async def test_the_fleet_keeps_no_secret_and_its_keys_expire(
    sim: Simulator, http: httpx.AsyncClient, redis: Redis
) -> None:
    """Redis holds a hash of the API key, never the key, in no key and no value; every key expires."""
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 5)
    async with fleet_client(sim, http, 50, redis) as client:
        await poll_all(client, task_ids)
        client.with_options(max_retries=0)
        keys = [key.decode() for key in await redis.keys("*")]  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        assert sorted(keys) == sorted(
            f"{fleet_prefix(API_KEY)}{name}" for name in ("turns", "members", "rates")
        )
        for key in keys:
            assert API_KEY not in key
            assert 0 < await redis.pttl(key) <= 16_000
            dumped = await redis.dump(key)
            assert dumped is not None
            assert API_KEY.encode() not in dumped
    assert API_KEY not in fleet_prefix(API_KEY)
    assert fleet_prefix(API_KEY) != fleet_prefix(API_KEY + "x")


async def test_copies_made_by_with_options_count_once(
    sim: Simulator, http: httpx.AsyncClient, redis: Redis, redis_server: RedisServer
) -> None:
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 4)
    async with fleet_client(sim, http, 50, redis_server.url) as client:
        copy = client.with_options(max_retries=0)
        await client.status(task_ids[0])
        await copy.status(task_ids[1])
        await copy.with_options(timeout=5).status(task_ids[2])
        assert await redis.zcard(f"{fleet_prefix(API_KEY)}members") == 1
    assert await redis.zcard(f"{fleet_prefix(API_KEY)}members") == 0  # it left the roll on closing


@pytest.mark.slow
async def test_the_smallest_rate_wins_with_a_warning(
    sim: Simulator, http: httpx.AsyncClient, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 30)
    fast = fleet_client(sim, http, 30, redis_server.url)
    slow = fleet_client(sim, http, 10, redis_server.url)
    async with fast, slow:
        await slow.status(task_ids[0])
        await poll_all(fast, task_ids[1:])
        assert rate_of(fast) == 10
    assert most_in_one_second(arrivals(sim)) <= 10
    said = [m for m in warnings_of(caplog) if "different max_requests_per_second" in m]
    assert said == [
        "clients of this API key give different max_requests_per_second (10 to 30); they share the smallest, 10"
    ]


@pytest.mark.slow
async def test_a_pause_holds_the_whole_fleet(
    sim: Simulator, http: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    """A 429 with Retry-After that one client gets pauses the other too: past the turn it
    may already hold, neither sends anything until the wait the 429 named is over."""
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 40)
    first = fleet_client(sim, http, 40, redis_server.url)
    second = fleet_client(sim, http, 40, redis_server.url)
    async with first, second:
        await first.status(task_ids[0])
        await second.status(task_ids[1])
        sim.set_faults(_plan_429(1.0))
        async with anyio.create_task_group() as group:
            group.start_soon(poll_all, first, task_ids[2:21])
            group.start_soon(poll_all, second, task_ids[21:])
    refused = next(r.at for r in sim.request_log if r.fault == "429")
    later = [r.at - refused for r in sim.request_log if r.at > refused]
    assert len([after for after in later if after < 0.1]) <= 2  # turns reserved before the pause
    assert [after for after in later if 0.1 <= after < 0.95] == []
    assert len(later) == 38  # the polls, and the retry of the one refused


def _plan_429(seconds: float) -> Any:
    from camb_async.testing import FaultPlan

    return FaultPlan(script=["429"], retry_after=seconds)


# -- without Redis -----------------------------------------------------------------------


@pytest.mark.slow
async def test_an_unreachable_redis_leaves_the_client_on_its_local_budget(
    sim: Simulator, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens where Redis should be: the first request goes at once, the client goes
    on alone at its R (it never saw another client), says so once, and tries Redis again
    every RETRY_EVERY seconds."""
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 45)
    async with fleet_client(sim, http, 20, f"redis://127.0.0.1:{free_port()}/0") as client:
        started = anyio.current_time()
        await client.status(task_ids[0])
        assert anyio.current_time() - started < 1.0
        await poll_all(client, task_ids[1:])
        took = anyio.current_time() - started
        assert rate_of(client) == 20
        calls = shared_of(client).calls
    assert 44 / 20 * 0.9 <= took <= 44 / 20 + 1.5  # "the last second spent" costs 1/R, not more
    assert most_in_one_second(arrivals(sim)) <= 20 * 1.05  # the event loop's jitter
    assert 2 <= calls <= 2 + took / RETRY_EVERY
    said = [m for m in warnings_of(caplog) if "Redis did not answer" in m]
    assert len(said) == 1
    assert "local budget of 20 requests/s" in said[0]


async def test_a_redis_that_hangs_is_given_a_short_time(
    sim: Simulator, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 3)
    with SilentServer() as silent:
        async with fleet_client(sim, http, 20, f"redis://127.0.0.1:{silent.port}/0") as client:
            started = anyio.current_time()
            await client.status(task_ids[0])
            assert anyio.current_time() - started < CALL_TIMEOUT + 0.5
            await poll_all(client, task_ids[1:])
    assert len([m for m in warnings_of(caplog) if "Redis did not answer (TimeoutError)" in m]) == 1


async def test_a_redis_client_that_hangs_is_given_a_short_time(
    sim: Simulator, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A Redis client of the user's, with no timeouts of its own, is bounded all the same."""
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 2)
    with SilentServer() as silent:
        async with Redis(port=silent.port) as redis, fleet_client(sim, http, 20, redis) as client:
            started = anyio.current_time()
            await poll_all(client, task_ids)
            assert anyio.current_time() - started < CALL_TIMEOUT + 0.5
    assert any("Redis did not answer" in m for m in warnings_of(caplog))


@pytest.mark.slow
async def test_a_client_falls_back_to_its_fair_share_and_returns(
    sim: Simulator,
    http: httpx.AsyncClient,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two clients of R=20: Redis killed, each goes on at 10 a second (the last second counted
    as spent), said once; Redis back, empty: they return (INFO) and keep 10 a second as a cap
    until the fleet has had the time to come back, then share 20 again."""
    caplog.set_level(logging.INFO, logger="camb_async")
    monkeypatch.setattr(_shared_budget, "MEMBER_WINDOW", 1.5)
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 400)
    first = fleet_client(sim, http, 20, redis_server.url)
    second = fleet_client(sim, http, 20, redis_server.url)
    async with first, second:
        await first.status(task_ids[0])
        await second.status(task_ids[1])
        await first.status(task_ids[0])  # it has heard of the second
        redis_server.kill()
        killed = anyio.current_time()
        async with anyio.create_task_group() as group:
            group.start_soon(poll_all, first, task_ids[2:40])
            group.start_soon(poll_all, second, task_ids[40:78])
        assert rate_of(first) == rate_of(second) == 10
        during = arrivals(sim)[3:]
        assert most_in_one_second(during) <= 20 * 1.05  # two local budgets, unaligned
        assert anyio.current_time() - killed >= 37 / 10 * 0.9
        redis_server.start()
        await anyio.sleep(RETRY_EVERY)
        await first.status(task_ids[78])
        back = anyio.current_time()
        assert rate_of(first) == 10  # capped while the fleet comes back
        await anyio.sleep(max(0.0, back + 1.5 - anyio.current_time()) + 0.1)
        await poll_all(first, task_ids[79:90])
        assert rate_of(first) == 20
    assert len([m for m in warnings_of(caplog) if "Redis did not answer" in m]) == 2  # once per client
    assert len([m for m in warnings_of(caplog, logging.INFO) if "Redis answers again" in m]) >= 1


# -- pieces ----------------------------------------------------------------------------------


async def test_counting_the_last_second_as_spent_holds_the_next_turn() -> None:
    budget = RequestBudget(10)
    budget.assume_spent(10)
    started = anyio.current_time()
    for _ in range(3):
        await budget.take()
    assert anyio.current_time() - started == pytest.approx(0.3, abs=0.05)


@pytest.mark.parametrize(
    "reply",
    [
        None,
        [],
        [b"1", 1, b"10", b"10"],
        [b"x", 1, b"10", b"10", b"0"],
        [b"0", 1, b"0", b"10", b"0"],
        [1.5] * 5,
    ],
)
def test_a_reply_that_is_not_the_scripts_is_refused(reply: object) -> None:
    with pytest.raises(ValueError, match="budget script"):
        _read(reply)


def test_the_scripts_reply_is_read() -> None:
    assert _read([b"25000", 3, b"40", b"40.5", "0"]) == (0.025, 3, 40.0, 40.5, 0.0)


def test_a_shared_budget_without_redis_py_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    def nowhere(name: str) -> None:
        return None

    monkeypatch.setattr(importlib.util, "find_spec", nowhere)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(CambError, match=r"camb-async\[redis\]") as caught:
        AsyncCambClient(API_KEY, max_requests_per_second=10, shared_budget="redis://localhost/0")
    assert isinstance(caught.value, ImportError)
    with pytest.raises(TypeError, match="shared_budget must be"):
        AsyncCambClient(API_KEY, max_requests_per_second=10, shared_budget=object())  # type: ignore[arg-type]


def constant(value: float) -> Callable[[float], float]:
    return lambda moment: value


class FleetTurns:
    """The fleet's side of a budget, faked: each turn comes ``lateness`` seconds ago (a
    negative one: from now), and every turn asked for is counted."""

    def __init__(self, lateness: float = 0.0) -> None:
        self.lateness = lateness
        self.asked = 0
        self.grace = 0.02

    async def turn(self) -> float | None:
        self.asked += 1
        await anyio.lowlevel.checkpoint()
        return anyio.current_time() - self.lateness

    async def pause(self, seconds: float) -> None:
        raise AssertionError("not paused here")

    async def aclose(self) -> None:
        pass


async def test_a_turn_taken_too_late_is_given_up_for_the_next() -> None:
    budget = RequestBudget(1000)
    turns = FleetTurns(lateness=0.05)
    budget.shared = turns
    with anyio.move_on_after(0.2):
        await budget.take()
    assert turns.asked > 3  # each came 50 ms late: none taken


async def test_under_a_shared_budget_the_slot_comes_before_the_fleets_turn() -> None:
    """The keeper takes a slot of the limiter first, then the fleet's turn, and gives the turn
    to whoever is first then: a request with no need of a slot gets it, and the slot goes back."""
    budget = RequestBudget(1000)
    budget.shared = FleetTurns()
    limiter = RequestLimiter(1, minimum=1, initial=1)
    await budget.take(None, limiter)  # the only slot, held
    order: list[str] = []

    async def poll() -> None:
        await budget.take(constant(1.0), limiter)
        order.append("poll")

    async def bare() -> None:
        await budget.take(None)
        order.append("bare")

    async with anyio.create_task_group() as group:
        group.start_soon(poll)
        await anyio.sleep(0.01)
        assert order == []  # the poll waits for the slot
        limiter.release()  # the keeper takes it ...
        group.start_soon(bare)  # ... and a request above every poll comes meanwhile
        await anyio.sleep(0.05)
        assert order[0] == "bare"
    assert order == ["bare", "poll"]
    assert limiter.in_flight == 1  # the poll's


async def test_a_keeper_cancelled_with_a_slot_gives_it_back() -> None:
    budget = RequestBudget(1000)
    budget.shared = FleetTurns(lateness=-10.0)  # a turn 10 s away
    limiter = RequestLimiter(2, minimum=2, initial=2)
    with anyio.move_on_after(0.05):
        await budget.take(None, limiter)
    assert limiter.in_flight == 0
    assert budget.waiting == 0


async def test_a_turn_for_one_that_needs_a_slot_when_none_is_free_is_given_up() -> None:
    """A turn comes for a poll that needs no slot; meanwhile a request that needs one, and
    comes before every poll, is first in line, but no slot is free: the turn is given up,
    and that request goes once a slot is free, then the poll."""
    budget = RequestBudget(1000)
    turns = FleetTurns(lateness=-0.01)  # each turn 10 ms from now
    budget.shared = turns
    limiter = RequestLimiter(1, minimum=1, initial=1)
    await budget.take(None, limiter)  # the only slot, held
    went: list[str] = []

    async def request(
        name: str, priority: Callable[[float], float] | None, slots: RequestLimiter | None
    ) -> None:
        await budget.take(priority, slots)
        went.append(name)

    async with anyio.create_task_group() as group:
        group.start_soon(request, "poll", constant(1.0), None)
        await anyio.sleep(0.005)  # the poll keeps time, waiting for its turn
        group.start_soon(request, "create", None, limiter)
        await anyio.sleep(0.05)
        assert went == []
        assert turns.asked >= 2
        limiter.release()
    assert went == ["create", "poll"]


async def test_a_pause_or_a_leave_without_redis_fails_nothing(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis gone after a turn: leaving the roll fails quietly; a pause asked for then finds
    Redis away (said once) and holds no one; while away, pauses ask Redis nothing."""
    budget = RequestBudget(20)
    shared = SharedBudget.open(redis_server.url, API_KEY, budget)
    assert await shared.turn() is not None
    redis_server.kill()
    await shared.pause(1.0)
    calls = shared.calls
    await shared.pause(1.0)
    assert shared.calls == calls
    assert budget.rate == 20
    await shared.aclose()
    assert len([m for m in warnings_of(caplog) if "Redis did not answer" in m]) == 1

    other = SharedBudget.open(redis_server.url, API_KEY, RequestBudget(20))
    redis_server.start()
    assert await other.turn() is not None
    redis_server.kill()
    await other.aclose()  # leaving fails: quietly
