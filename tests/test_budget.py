"""The request budget: pacing, the one-second guarantee, and learning from the server's 429s.

Most tests run the simulator in process on a virtual clock (trio's MockClock, looptime on
asyncio), so seconds of traffic take no wall time and the rate limit counts on the same
clock as the client; one runs over real TCP.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest
from support import virtual_time_backend

from camb_async import AsyncCambClient, TaskHandle
from camb_async._budget import RequestBudget, parse_rate_limit_policy
from camb_async._events import UNNAMED_WATCH
from camb_async._limiter import RequestLimiter
from camb_async.testing import Simulator, most_in_one_second

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["trio", "asyncio"])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, object]]:
    return virtual_time_backend(str(request.param))


@pytest.fixture
def sim() -> Simulator:
    """An in-process simulator whose tasks and rate limit run on the event loop's clock."""
    return Simulator(clock=anyio.current_time)


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with sim.asgi_http_client() as client:
        yield client


def client_of(sim: Simulator, http: httpx.AsyncClient, **options: object) -> AsyncCambClient:
    return AsyncCambClient("test-key", base_url=sim.asgi_url, http_client=http, **options)  # type: ignore[arg-type]


async def poll_all(client: AsyncCambClient, task_ids: list[str]) -> None:
    async with anyio.create_task_group() as group:
        for task_id in task_ids:
            group.start_soon(client.status, task_id)


def arrivals(sim: Simulator) -> list[float]:
    return [record.at for record in sim.request_log if record.path.startswith("/apis/")]


def limited(sim: Simulator) -> int:
    return sum(record.fault == "rate_limited" for record in sim.request_log)


# -- the policy header ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rate"),
    [
        ("100;w=1", 100.0),
        ("6000;w=60", 100.0),
        ('"default";q=50;w=10', 5.0),
        ("100;w=1, 1000;w=60", 1000 / 60),
        ("100", None),
        ("q=0;w=1", None),
        ("garbage", None),
    ],
)
def test_rate_limit_policy_header(value: str, rate: float | None) -> None:
    assert parse_rate_limit_policy(httpx.Headers({"RateLimit-Policy": value})) == pytest.approx(rate)


def test_no_policy_header_is_none() -> None:
    assert parse_rate_limit_policy(httpx.Headers({"x-ratelimit-limit": "5"})) is None


# -- a given budget --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moments", "most"),
    [([], 0), ([0.0, 0.5, 0.99, 1.0, 1.5], 3), ([0.0, 1.0, 2.0], 1), ([3.0, 0.2, 0.1, 1.05], 3)],
)
def test_most_in_one_second_counts_within_a_half_open_second(moments: list[float], most: int) -> None:
    assert most_in_one_second(iter(moments)) == most


async def test_given_budget_holds_in_every_second(sim: Simulator, http: httpx.AsyncClient) -> None:
    """300 polls at once under R=50: never more than 50 reach the server in one second, evenly spaced."""
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 300)
    started = anyio.current_time()
    async with client_of(sim, http, max_requests_per_second=50) as client:
        await poll_all(client, task_ids)
    seen = arrivals(sim)
    assert len(seen) == 300
    assert most_in_one_second(seen) <= 50
    assert anyio.current_time() - started == pytest.approx(299 / 50, abs=0.5)  # paced, not slower
    ordered = sorted(seen)
    gaps = [later - earlier for earlier, later in itertools.pairwise(ordered)]
    assert min(gaps) >= 1 / 50 - 1e-4  # looptime's clock has a resolution


async def test_given_budget_below_the_server_limit_meets_no_429(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    sim.set_rate_limit(60)
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 200)
    async with client_of(sim, http, max_requests_per_second=55) as client:
        await poll_all(client, task_ids)
    assert limited(sim) == 0


async def test_budget_is_shared_with_derived_clients(sim: Simulator, http: httpx.AsyncClient) -> None:
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 100)
    async with client_of(sim, http, max_requests_per_second=20) as client:
        quick = client.with_options(max_retries=0)
        async with anyio.create_task_group() as group:
            group.start_soon(poll_all, client, task_ids[:50])
            group.start_soon(poll_all, quick, task_ids[50:])
    assert most_in_one_second(arrivals(sim)) <= 20


async def test_a_pause_holds_the_requests_already_in_line(sim: Simulator, http: httpx.AsyncClient) -> None:
    """A 429 with Retry-After pauses the client, and the budget gives no turn during the
    pause, not even to the requests that were already waiting in its line: after each 429
    the server sees nothing until the wait it named is over."""
    sim.set_rate_limit(20)
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 150)
    async with client_of(sim, http, max_requests_per_second=50, max_retries=10) as client:
        await poll_all(client, task_ids)
    log = [record for record in sim.request_log if record.path.startswith("/apis/")]
    refusals = [record.at for record in log if record.fault == "rate_limited"]
    assert refusals
    for refused in refusals:
        during = [r.at for r in log if refused + 0.01 < r.at < refused + 0.99]  # Retry-After: 1 or more
        assert during == [], f"{len(during)} requests within the pause the 429 at {refused:.2f} s began"


async def test_a_hold_delays_every_turn_and_paces_the_turns_after_it() -> None:
    """No turn comes before a hold ends, and those after it come 1/R apart, not in a burst
    for the time it held them; a turn given back meanwhile does not shorten the hold."""
    budget = RequestBudget(10)
    await budget.take()
    start = anyio.current_time()
    budget.hold_until(start + 1.0)
    turns: list[float] = []

    async def one() -> None:
        await budget.take()
        turns.append(anyio.current_time())

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(one)
        with anyio.CancelScope() as scope:
            scope.cancel()
            await budget.take()  # cancelled at once: leaves the line
    assert min(turns) >= start + 1.0 - 1e-6
    gaps = [later - earlier for earlier, later in itertools.pairwise(sorted(turns))]
    assert min(gaps) >= 0.1 - 1e-4


@pytest.mark.parametrize("rate", [0, -1, float("inf"), float("nan"), True, "10"])
def test_budget_must_be_a_positive_number(rate: object) -> None:
    with pytest.raises(ValueError, match="max_requests_per_second"):
        AsyncCambClient("key", max_requests_per_second=rate)  # type: ignore[arg-type]


# -- a learned budget ----------------------------------------------------------------


async def test_policy_header_sets_the_budget_at_the_first_429(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    sim.set_rate_limit(40)
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 400)
    async with client_of(sim, http) as client:
        await poll_all(client, task_ids)
        assert client._requester._pool.loop is not None
        assert client._requester._pool.loop.budget.rate == 40
    # The first burst meets the limit; after it, requests go at the server's rate.
    assert limited(sim) <= 400 - 40
    answered = [r.at for r in sim.request_log if r.fault is None]
    assert len(answered) == 400
    late = [r for r in sim.request_log if r.at > sim.request_log[0].at + 2.0]
    assert late
    assert all(r.fault is None for r in late)


async def test_headerless_429s_teach_a_budget_below_the_servers(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    """Behind a limit that says nothing (nginx's limit_req), the client settles below it."""
    sim.set_rate_limit(50, headers=False)
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 600)
    async with client_of(sim, http, max_retries=10) as client:
        await poll_all(client, task_ids)
        state = client._requester._pool.loop
        assert state is not None
        assert state.budget.rate is not None
    log = sim.request_log
    assert sum(r.fault is None for r in log) == 600  # every poll answered in the end
    middle = (log[0].at + log[-1].at) / 2
    second_half = [r for r in log if r.at > middle]
    # Settled: few 429s once learned (the budget probes upward 5 % a second, so not none),
    # and most of the server's allowance used.
    assert sum(r.fault == "rate_limited" for r in second_half) <= len(second_half) // 10
    answered = sum(r.fault is None for r in second_half)
    assert answered / (log[-1].at - middle) >= 0.6 * 50


async def test_headerless_429_does_not_pause_a_learning_client(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    sim.set_rate_limit(10, headers=False)
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 30)
    async with client_of(sim, http) as client:
        await poll_all(client, task_ids)
        state = client._requester._pool.loop
        assert state is not None
        assert state.resume_at == 0.0


async def test_a_given_budget_is_never_learned_over(sim: Simulator, http: httpx.AsyncClient) -> None:
    sim.set_rate_limit(10)
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 30)
    async with client_of(sim, http, max_requests_per_second=25, max_retries=10) as client:
        await poll_all(client, task_ids)
        state = client._requester._pool.loop
        assert state is not None
        assert state.budget.rate == 25
        assert state.budget.fixed


async def test_the_budget_reads_the_clock_it_is_given() -> None:
    """A budget counts the last second's answers on its own clock: a first headerless 429
    sets it from the answers within a second of that clock's now, not of the event loop's."""
    moment = [100.0]
    budget = RequestBudget(clock=lambda: moment[0])
    request = httpx.Request("GET", "https://x/apis/tts/1")
    for _ in range(30):
        budget.answered(httpx.Response(200, request=request))
    moment[0] = 100.5
    for _ in range(10):
        budget.answered(httpx.Response(200, request=request))
    moment[0] = 101.2  # the first 30 are over a second old
    budget.answered(httpx.Response(200, request=request))
    budget.answered(httpx.Response(429, request=request))
    assert budget.rate == pytest.approx(0.9 * 11)


async def test_the_client_budget_runs_on_the_event_loops_clock() -> None:
    """The client's budget reads the clock anyio reads on this event loop."""
    async with AsyncCambClient("key", base_url="https://camb.test/apis") as client:
        state = client._requester._loop_state()
        assert abs(state.budget._now() - anyio.current_time()) < 0.5


async def test_a_full_second_frees_its_first_turn_a_few_milliseconds_late() -> None:
    """R turns paced over a second hold the next until 5 ms past the window, so that the
    event loop's and the network's jitter cannot put R + 1 sends in one second."""
    moment = [100.0]
    budget = RequestBudget(4, clock=lambda: moment[0])
    for k in range(4):
        moment[0] = 100.0 + k * 0.25
        await budget.take()
    moment[0] = 101.0  # the pacing would allow the fifth now
    assert budget._until_free(101.0, 4.0) == pytest.approx(0.005, abs=1e-5)  # pyright: ignore[reportPrivateUsage]
    assert budget._until_free(101.006, 4.0) == 0.0  # pyright: ignore[reportPrivateUsage]


async def test_a_429_naming_its_wait_teaches_no_budget() -> None:
    """A 429 with Retry-After pauses the client; the budget stays unlearned."""
    budget = RequestBudget()
    request = httpx.Request("GET", "https://x/apis/tts/1")
    for _ in range(20):
        budget.answered(httpx.Response(200, request=request))
    budget.answered(httpx.Response(429, headers={"retry-after": "1"}, request=request))
    budget.answered(httpx.Response(429, headers={"retry-after-ms": "50"}, request=request))
    assert budget.rate is None


async def test_a_429_below_the_budget_does_not_lower_it() -> None:
    """A stray 429 while the client sends well under its learned budget says nothing of the budget."""
    budget = RequestBudget()
    request = httpx.Request("GET", "https://x/apis/tts/1")
    for _ in range(50):
        budget.answered(httpx.Response(200, request=request))
    budget.answered(httpx.Response(429, request=request))
    learned = budget.rate
    assert learned is not None
    await anyio.sleep(1.5)  # no request waits for the budget meanwhile
    budget.answered(httpx.Response(429, request=request))
    assert budget.rate == learned


async def test_learning_probes_upward_while_busy() -> None:
    """A learned budget grows 5 % after a busy second with no 429, never a given one."""
    budget = RequestBudget()
    ok = httpx.Response(200, request=httpx.Request("GET", "https://x/apis/tts/1"))
    for _ in range(20):
        budget.answered(ok)
    budget.answered(httpx.Response(429, request=ok.request))
    first = budget.rate
    assert first is not None
    for _ in range(int(first) * 3):
        await budget.take()
        budget.answered(ok)
    assert budget.rate is not None
    assert budget.rate > first


async def test_watch_many_under_a_budget_sees_every_end_within_the_budget() -> None:
    """300 tasks of 20-40 s under a budget of 20 polls a second (their schedules ask for ~100):
    every task's true end is seen, and the server never gets more than the budget."""
    sim = Simulator(clock=anyio.current_time, durations=(20.0, 40.0), seed=3)
    async with (
        sim.asgi_http_client() as http,
        AsyncCambClient("key", base_url=sim.asgi_url, http_client=http, max_requests_per_second=20) as client,
    ):
        handles = [
            TaskHandle(family="tts", task_id=await client.tts.create(text="Hi", voice_id=1, language="en-us"))
            for _ in range(300)
        ]
        outcomes = await client.wait_many(handles, timeout=None)
    assert all(not isinstance(outcome, Exception) for outcome in outcomes)
    polls = [r.at for r in sim.request_log if r.method == "GET"]
    assert most_in_one_second(polls) <= 20


# -- over real TCP ---------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_budget_over_tcp(anyio_backend: str) -> None:
    """Against the real server's limit on its real clock: R below it meets no 429, and
    R holds where requests leave the client and where they reach the server."""
    sent: list[float] = []

    async def leaving(request: httpx.Request) -> None:
        sent.append(anyio.current_time())

    with Simulator(rate_limit=30) as sim:
        task_ids = sim.add_tasks([[("PENDING", 0)]] * 45)
        async with (
            httpx.AsyncClient(event_hooks={"request": [leaving]}) as http,
            AsyncCambClient("key", base_url=sim.url, max_requests_per_second=25, http_client=http) as client,
        ):
            await poll_all(client, task_ids)
        log = [r for r in sim.request_log if r.path.startswith("/apis/")]
    assert len(log) == len(sent) == 45
    assert all(r.fault is None for r in log)
    assert most_in_one_second(sent) <= 25
    assert most_in_one_second([r.at for r in log]) <= 25 * 1.05  # the network's jitter


async def test_requests_cancelled_while_waiting_give_their_slots_back() -> None:
    """Fifty waiters cancelled by their deadline leave the budget as they found it."""
    budget = RequestBudget(10)
    await budget.take()
    async with anyio.create_task_group() as group:
        for _ in range(50):
            group.start_soon(budget.take)
        await anyio.sleep(0.05)
        group.cancel_scope.cancel()
    started = anyio.current_time()
    for _ in range(3):
        await budget.take()
    # Without the slots given back these would wait behind 50 lost ones: 5 s.
    assert anyio.current_time() - started <= 3 / 10 + 0.01


# -- priorities ------------------------------------------------------------------------


def constant(value: float) -> Callable[[float], float]:
    return lambda moment: value


async def test_waiting_requests_go_highest_priority_first_then_first_come() -> None:
    """Turns go by priority, not by arrival: any other request (no priority) above every poll,
    then the polls from the highest priority down, equals in the order they came."""
    budget = RequestBudget(10)
    start = anyio.current_time()
    await budget.take()  # the first turn: the others have to wait
    order: list[tuple[str, float]] = []

    async def request(name: str, priority: Callable[[float], float] | None) -> None:
        await budget.take(priority)
        order.append((name, anyio.current_time() - start))

    async with anyio.create_task_group() as group:
        for name, priority in [
            ("low", constant(1.0)),
            ("high", constant(5.0)),
            ("mid", constant(3.0)),
            ("mid, later", constant(3.0)),
            ("create", None),
        ]:
            group.start_soon(request, name, priority)
            await anyio.sleep(0.001)  # a known order of arrival
    assert [name for name, _ in order] == ["create", "high", "mid", "mid, later", "low"]
    assert [at for _, at in order] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5], abs=1e-3)  # paced all the same


async def test_a_waiting_poll_gains_priority_until_it_goes() -> None:
    """A priority grows as its poll waits: a poll that starts below a steady stream of fresh
    polls goes once it has waited its way above them (within one redraw of the priorities
    and one turn), not when the stream ends."""
    budget = RequestBudget(10)
    start = anyio.current_time()
    fresh: list[float] = []
    waited = 0.0

    async def stream() -> None:
        while True:
            await budget.take(constant(1.0))
            fresh.append(anyio.current_time() - start)

    async with anyio.create_task_group() as group:
        for _ in range(4):  # four always waiting at 1.0
            group.start_soon(stream)
        await anyio.sleep(0.001)
        with anyio.fail_after(5):
            await budget.take(lambda moment: moment - start)  # 0 at first, above 1.0 after 1 s
        waited = anyio.current_time() - start
        group.cancel_scope.cancel()
    assert 1.0 < waited <= 1.0 + 0.25 + 0.1 + 1e-3
    assert len(fresh) >= 9  # the stream had every turn until then


async def test_other_requests_wait_behind_no_poll(sim: Simulator, http: httpx.AsyncClient) -> None:
    """Under a budget, a create waits for no poll: it goes at the next turn, ahead of the
    thirty polls that were there first."""
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 30)
    async with client_of(sim, http, max_requests_per_second=10) as client:

        async def poll(task_id: str) -> None:
            await client.tts._poll(task_id, UNNAMED_WATCH, constant(1.0))  # as the poll loops do

        async with anyio.create_task_group() as group:
            for task_id in task_ids:
                group.start_soon(poll, task_id)
            await anyio.sleep(0.05)
            await client.tts.create(text="Hi", voice_id=1, language="en-us")
    methods = [record.method for record in sim.request_log]
    assert methods[:3] == ["GET", "POST", "GET"]  # the first poll went at once, before any wait


async def test_polls_beyond_the_limit_on_requests_in_flight_wait_for_the_budget_by_priority(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    """Under a budget the budget is waited for before a slot of the limit on requests in
    flight, so it orders every waiting poll, not only the four holding a slot."""
    task_ids = sim.add_tasks([[("PENDING", 0)]] * 40)
    async with client_of(sim, http, max_requests_per_second=10, max_concurrent_requests=4) as client:

        async def poll(task_id: str, priority: float) -> None:
            await client.tts._poll(task_id, UNNAMED_WATCH, constant(priority))

        async with anyio.create_task_group() as group:
            for n, task_id in enumerate(task_ids):
                group.start_soon(poll, task_id, float(n))  # the later, the higher
                await anyio.sleep(0.001)
    polled = [record.path.rsplit("/", 1)[-1] for record in sim.request_log]
    assert polled == [task_ids[0], *reversed(task_ids[1:])]


async def test_the_timekeeper_cancelled_passes_the_keeping_on() -> None:
    """One waiter keeps time for the others; cancelled, it leaves the line and another takes
    over: the rest still get their turns on time, and it gets none."""
    budget = RequestBudget(10)
    start = anyio.current_time()
    await budget.take()
    turns: list[float] = []
    keeper = anyio.CancelScope()

    async def keeping() -> None:
        with keeper:
            await budget.take(constant(5.0))
            turns.append(-1.0)

    async def request() -> None:
        await budget.take(constant(1.0))
        turns.append(anyio.current_time() - start)

    with anyio.fail_after(5):  # a line nobody keeps time for stalls
        async with anyio.create_task_group() as group:
            group.start_soon(keeping)  # the first to wait: it keeps the time
            await anyio.sleep(0.001)
            for _ in range(3):
                group.start_soon(request)
            await anyio.sleep(0.05)
            assert budget.waiting == 4
            keeper.cancel()
    assert turns == pytest.approx([0.1, 0.2, 0.3], abs=1e-3)
    assert budget.waiting == 0


async def test_a_waiting_poll_holds_no_slot_of_the_limit_on_requests_in_flight() -> None:
    """Under a budget a request takes its slot with its turn: the polls waiting for turns hold
    none, so a request that comes first in line never waits behind them for a slot."""
    budget = RequestBudget(10)
    limiter = RequestLimiter(4, minimum=4, initial=4)
    await budget.take(None, limiter)
    assert limiter.in_flight == 1
    async with anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(budget.take, constant(1.0), limiter)
        await anyio.sleep(0.05)
        assert limiter.in_flight == 1
        assert budget.waiting == 20
        for _ in range(3):
            await anyio.sleep(0.1)
        assert limiter.in_flight == 4  # one turn each 0.1 s, each with its slot
        await anyio.sleep(0.1)
        assert limiter.in_flight == 4  # the next turn waits for a slot
        assert limiter.waiting == 1  # only the timekeeper waits for it, for whoever is first then
        for _ in range(17):
            limiter.release()
            await anyio.sleep(0.1)
    assert budget.waiting == 0
