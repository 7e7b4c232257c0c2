"""The SDK behind a real reverse proxy: Debian's nginx in front of the simulator, over real TCP.

nginx (``proxy.Proxy``) closes idle client connections after 2 s and every
connection after 50 requests, keeps its own connections to the simulator
alive, times out reads from it after 2 s, and in one scenario answers 429
(with no Retry-After) beyond a rate limit. Each scenario runs on both
transports, httpx's pool and aiohttp (on asyncio: aiohttp runs nowhere else).

* 1,000 watches of tasks of 3 to 15 s while nginx goes down for 3 s and
  comes back on the same port: each ends with its task's true final status.
* 300 watches through nginx's ``limit_req`` at 100 requests a second: every
  429 is ridden out, and each watch still ends with its task's final status.
* 1,000 watches asking several times that rate: the client learns a request
  budget from the 429s and, once learned, gets most of the allowance through.
* 50 creates while nginx goes down for a moment: none is sent twice; each
  returns a task id the simulator has, or raises a typed error.
* nginx's HTML 502 page (the simulator down behind it) becomes an
  ``APIStatusError`` whose text stays short.
* nginx's 504 to a create the simulator held past the proxy's read timeout
  (the task exists) is a ``CreateOutcomeUnknownError``, not a plain failure.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import statistics
import time
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
import pytest

from camb_async import (
    APIConnectionError,
    APIStatusError,
    AsyncCambClient,
    CambError,
    CreateOutcomeUnknownError,
    InternalServerError,
    WatchTimeoutError,
)
from camb_async.testing import FaultPlan

from .harness import FIGURES, KEY, Outcome, SecretWatch, check_error_is_clean, seed_tasks, watch_all
from .proxy import Proxy, ensure_nginx

if TYPE_CHECKING:
    from collections.abc import Iterator

    from camb_async._transport import Transport
    from camb_async.testing import Simulator

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

# aiohttp runs only on asyncio (under trio the client falls back to httpx): both transports on asyncio;
# the short 502 test also runs on trio.
TRANSPORTS = [
    pytest.param("httpx", "asyncio", id="httpx"),
    pytest.param("aiohttp", "asyncio", id="aiohttp"),
]

COUNT = 1_000
SPREAD = (3.0, 15.0)  # seconds each task stays PENDING
INTERVAL = 0.5
WATCH_TIMEOUT = 60.0
DOWNTIME = 3.0

RATE_COUNT = 300
RATE = 100  # requests a second nginx lets through on /apis/ ...
BURST = 20  # ... plus this many at once

HERD = 1_000  # watches polling every 0.2 s: several times the proxy's rate ...
HERD_SECONDS = 20.0  # ... for this long
HERD_SETTLE = 8.0  # seconds before the budget counts as learned

CREATES = 50


@pytest.fixture(scope="module")
def nginx() -> None:
    """Debian's nginx, installed with apt-get when missing (as root); the tests skip without it."""
    problem = ensure_nginx()
    if problem is not None:
        pytest.skip(f"no nginx to proxy through: {problem}")


@pytest.fixture
def proxy(sim: Simulator, nginx: None) -> Iterator[Proxy]:
    """nginx in front of ``sim``, without a rate limit."""
    with Proxy(sim.port) as running:
        yield running


@pytest.fixture
def limited_proxy(sim: Simulator, nginx: None) -> Iterator[Proxy]:
    """nginx in front of ``sim``, letting RATE requests a second (and a burst of BURST) through to /apis/."""
    with Proxy(sim.port, rate=RATE, burst=BURST) as running:
        yield running


def _judge(sim: Simulator, task_ids: list[str], outcomes: dict[str, Outcome]) -> None:
    """Every watch ended without an error, with its task's true final status."""
    errors = collections.Counter(repr(o.error)[:160] for o in outcomes.values() if o.error is not None)
    assert not errors, errors.most_common(5)
    wrong = [t for t in task_ids if outcomes[t].final != sim.record(t).final_status]
    assert not wrong, [(t, outcomes[t].final, sim.record(t).final_status) for t in wrong[:5]]


def _lag(sim: Simulator, task_ids: list[str]) -> dict[str, float]:
    """Seconds from each task's end to the last poll of it that reached the simulator (the one
    that saw the end): median, 95th percentile and most."""
    last: dict[str, float] = {}
    for record in sim.request_log:
        last[record.path] = record.at
    lags = sorted(
        last[f"/apis/tts/{t}"] - finished
        for t in task_ids
        if (finished := sim.record(t).finished_at) is not None
    )
    return {
        "median": round(statistics.median(lags), 2),
        "p95": round(lags[int(0.95 * (len(lags) - 1))], 2),
        "max": round(lags[-1], 2),
    }


class RetryTimes(logging.Handler):
    """When the client logged each retry, by reason (``"ConnectError"``, ``"429"``, ...)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.times: dict[str, list[float]] = collections.defaultdict(list)

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("retrying") and len(record.args or ()) > 2:
            self.times[str(record.args[2])].append(time.monotonic())  # type: ignore[index]


@pytest.fixture
def retry_times() -> Iterator[RetryTimes]:
    """The client's retries, timed (the fault suite already logs camb_async at DEBUG)."""
    handler = RetryTimes()
    logger = logging.getLogger("camb_async")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize(("transport", "anyio_backend"), TRANSPORTS)
async def test_watches_ride_out_the_proxy_going_down(
    sim: Simulator, proxy: Proxy, secret_watch: SecretWatch, retry_times: RetryTimes, transport: Transport
) -> None:
    """1,000 watches through nginx, which is stopped (SIGTERM: every connection cut) 4 s in and
    started again 3 s later on the same port: every watch ends with its task's true final status."""
    task_ids = seed_tasks(sim, COUNT, seed=31, spread=SPREAD)
    retries_before = secret_watch.retries.copy()
    window: list[float] = []
    outcomes: dict[str, Outcome] = {}
    began = time.monotonic()
    async with AsyncCambClient(KEY, base_url=proxy.url, transport=transport) as client:

        async def outage() -> None:
            await anyio.sleep(4.0)
            await anyio.to_thread.run_sync(proxy.stop)
            window.append(time.monotonic())
            await anyio.sleep(DOWNTIME)
            window.append(time.monotonic())
            await anyio.to_thread.run_sync(proxy.start)

        with anyio.fail_after(WATCH_TIMEOUT + 60):
            async with anyio.create_task_group() as group:
                group.start_soon(outage)
                outcomes = await watch_all(client, task_ids, interval=INTERVAL, timeout=WATCH_TIMEOUT)
    seconds = time.monotonic() - began
    _judge(sim, task_ids, outcomes)
    statuses = proxy.statuses()
    retries = secret_watch.retries - retries_before
    # Requests nginx had passed on just before it stopped can be logged by a busy simulator a
    # moment later: the first 0.5 s of the window is theirs.
    down = [r for r in sim.request_log if window[0] + 0.5 <= r.at <= window[1]]
    # Connections refused after the outage's first second (which holds the burst of requests
    # that were in flight or queued when it began): the circuit breaker keeps them few.
    refused_later = [at for at in retry_times.times["ConnectError"] if window[0] + 1.0 <= at <= window[1]]
    FIGURES.add(
        f"proxy outage {DOWNTIME:g} s ({transport})",
        tasks=COUNT,
        resolved=COUNT,
        lost=0,
        requests=sum(statuses.values()),
        requests_at_simulator=len(sim.request_log),
        statuses=dict(statuses),
        status_429=statuses["429"],
        retries=dict(retries),
        at_simulator_while_down=len(down),
        refused_retries_after_first_second=len(refused_later),
        lag_after_task_end=_lag(sim, task_ids),
        seconds=round(seconds, 1),
    )
    assert proxy.starts == 2
    assert not down  # nothing got through while nginx was down
    assert sum(retries.values()) > 0, "no request met the outage: the test proved nothing"


@pytest.mark.parametrize(("transport", "anyio_backend"), TRANSPORTS)
async def test_watches_ride_out_the_proxys_rate_limit(
    sim: Simulator, limited_proxy: Proxy, secret_watch: SecretWatch, transport: Transport
) -> None:
    """300 watches through nginx's limit_req of 100 requests a second (429s without Retry-After):
    every watch ends with its task's true final status."""
    task_ids = seed_tasks(sim, RATE_COUNT, seed=37, spread=SPREAD)
    retries_before = secret_watch.retries.copy()
    began = time.monotonic()
    async with AsyncCambClient(KEY, base_url=limited_proxy.url, transport=transport) as client:
        with anyio.fail_after(WATCH_TIMEOUT + 60):
            outcomes = await watch_all(client, task_ids, interval=INTERVAL, timeout=WATCH_TIMEOUT)
    seconds = time.monotonic() - began
    _judge(sim, task_ids, outcomes)
    statuses = limited_proxy.statuses()
    retries = secret_watch.retries - retries_before
    FIGURES.add(
        f"proxy rate limit {RATE} r/s ({transport})",
        tasks=RATE_COUNT,
        resolved=RATE_COUNT,
        lost=0,
        requests=sum(statuses.values()),
        statuses=dict(statuses),
        status_429=statuses["429"],
        retries_after_429=retries["429"],
        passed_per_second=round(statuses["200"] / seconds, 1),
        lag_after_task_end=_lag(sim, task_ids),
        seconds=round(seconds, 1),
    )
    assert statuses["429"] > 0, "nginx never limited the rate: the test proved nothing"


@pytest.mark.parametrize(("transport", "anyio_backend"), TRANSPORTS)
async def test_a_herd_beyond_the_proxys_rate_limit_learns_its_allowance(
    sim: Simulator, limited_proxy: Proxy, transport: Transport
) -> None:
    """1,000 watches asking several times nginx's 100 requests a second (429s without
    Retry-After): the client learns a budget, and once learned gets most of the allowance
    through with few 429s, instead of stopping and starting."""
    task_ids = [sim.add_task([("PENDING", 0.0)]) for _ in range(HERD)]
    async with AsyncCambClient(KEY, base_url=limited_proxy.url, transport=transport) as client:

        async def watch(task_id: str) -> None:
            with contextlib.suppress(WatchTimeoutError):
                async for _ in client.watch(task_id, interval=0.2, timeout=HERD_SECONDS):
                    pass

        async with anyio.create_task_group() as group:
            for task_id in task_ids:
                group.start_soon(watch, task_id)
        state = client._requester._pool.loop
        learned = None if state is None else state.budget.rate
    log = [(float(fields[0]), fields[1]) for fields in limited_proxy.access_log()]
    start = log[0][0]
    settled = [status for at, status in log if at >= start + HERD_SETTLE]
    seconds = log[-1][0] - (start + HERD_SETTLE)
    passed = settled.count("200") / seconds
    limited = settled.count("429") / max(len(settled), 1)
    FIGURES.add(
        f"proxy herd {HERD} watches, limit {RATE} r/s ({transport})",
        requests=len(log),
        status_429=sum(1 for _, status in log if status == "429"),
        learned_budget=None if learned is None else round(learned, 1),
        passed_per_second_settled=round(passed, 1),
        share_429_settled=round(limited, 3),
    )
    assert learned is not None, "no budget was learned"
    assert passed >= 0.7 * RATE, passed
    assert limited <= 0.1, limited


@pytest.mark.parametrize(("transport", "anyio_backend"), TRANSPORTS)
async def test_creates_through_the_proxy_are_never_sent_twice(
    sim: Simulator, proxy: Proxy, secret_watch: SecretWatch, transport: Transport
) -> None:
    """50 creates, one every 40 ms, some held 1 s by the simulator (within nginx's read timeout),
    while nginx is stopped (SIGTERM: connections cut) 0.5 s in and started again 0.6 s later.

    Each create returned a task id that the simulator created once, from that create, or raised
    a typed error: CreateOutcomeUnknownError when the POST had reached the simulator, else an
    APIConnectionError; no create reached the simulator twice.
    """
    sim.set_faults(FaultPlan(rates={"stall": 0.3}, methods=("POST",), stall=1.0, seed=5))
    refused_before = secret_watch.retries["ConnectError"]
    returned: dict[int, str] = {}
    raised: dict[int, CambError] = {}
    began = time.monotonic()
    async with AsyncCambClient(KEY, base_url=proxy.url, transport=transport) as client:

        async def create(i: int) -> None:
            try:
                returned[i] = await client.tts.create(text=f"create {i}", voice_id=1, language=1)
            except CambError as exc:
                check_error_is_clean(exc)
                raised[i] = exc

        async def outage() -> None:
            await anyio.sleep(0.5)
            await anyio.to_thread.run_sync(proxy.stop)
            await anyio.sleep(0.6)
            await anyio.to_thread.run_sync(proxy.start)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                group.start_soon(outage)
                for i in range(CREATES):
                    group.start_soon(create, i)
                    await anyio.sleep(0.04)
    seconds = time.monotonic() - began
    refused = secret_watch.retries["ConnectError"] - refused_before
    assert len(returned) + len(raised) == CREATES
    posts = [r for r in sim.request_log if r.method == "POST"]
    by_text: dict[object, list[str]] = collections.defaultdict(list)
    for record in sim.records:
        by_text[record.request.get("text")].append(record.task_id)
    assert sim.stats()["tasks"] == len(sim.records) == len(posts)  # every POST that arrived made one task
    assert all(len(ids) == 1 for ids in by_text.values()), "a create reached the simulator twice"
    for i, task_id in returned.items():
        assert by_text[f"create {i}"] == [task_id]
    kinds: collections.Counter[str] = collections.Counter()
    unknown_arrived = 0
    for i, exc in raised.items():
        arrived = f"create {i}" in by_text
        kinds[type(exc).__name__] += 1
        if isinstance(exc, CreateOutcomeUnknownError):
            unknown_arrived += arrived
        else:
            # Any other error says the create surely did not reach the API.
            assert isinstance(exc, APIConnectionError), repr(exc)
            assert not arrived, f"create {i} raised {exc!r}, yet the simulator created its task"
    FIGURES.add(
        f"proxy creates ({transport})",
        creates=CREATES,
        returned_ids=len(returned),
        tasks_at_simulator=len(sim.records),
        posts_at_simulator=len(posts),
        errors=dict(kinds),
        unknown_that_arrived=unknown_arrived,
        refused_retries=refused,
        statuses=dict(proxy.statuses()),
        seconds=round(seconds, 1),
    )
    # An outcome is unknown when the POST had reached the simulator, or rarely when nginx had
    # read it and was stopped before passing it on (a window a busy machine widens): the
    # client cannot tell those apart. A refused connection is never an unknown outcome.
    assert kinds["CreateOutcomeUnknownError"] - unknown_arrived <= 2, (kinds, unknown_arrived)
    assert len(sim.records) == len(returned) + unknown_arrived
    assert refused > 0, "no create met the outage: the test proved nothing"
    assert kinds["CreateOutcomeUnknownError"] > 0, "no create was cut in flight: the test proved nothing"


@pytest.mark.parametrize(("transport", "anyio_backend"), TRANSPORTS)
async def test_a_gateway_timeout_on_a_create_is_an_unknown_outcome(
    sim: Simulator, proxy: Proxy, transport: Transport
) -> None:
    """The simulator holds a create longer than nginx's proxy_read_timeout (2 s): nginx answers
    504 Gateway Time-out, but the simulator did create the task. The SDK must not say the
    create failed: the outcome is unknown (retrying it would create the task twice)."""
    sim.set_faults(FaultPlan(script=["stall"], methods=("POST",), stall=3.0))
    async with AsyncCambClient(KEY, base_url=proxy.url, transport=transport) as client:
        with anyio.fail_after(15), pytest.raises(CambError) as caught:
            await client.tts.create(text="held past the gateway's timeout", voice_id=1, language=1)
    exc = caught.value
    check_error_is_clean(exc)
    assert proxy.statuses()["504"] == 1
    assert sim.stats()["tasks"] == 1  # the create reached the API, and the task exists
    assert sum(1 for r in sim.request_log if r.method == "POST") == 1  # sent once
    FIGURES.add(f"proxy 504 on a create ({transport})", raised=type(exc).__name__, text=str(exc)[:200])
    assert isinstance(exc, CreateOutcomeUnknownError), repr(exc)


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_the_proxys_html_error_page_gives_a_short_error(
    sim: Simulator, proxy: Proxy, transport: Transport, anyio_backend: str
) -> None:
    """With the simulator down behind nginx, a status call (no retries, no riding out) raises the
    502 as an InternalServerError (an APIStatusError) whose text is short and names the status."""
    task_id = sim.add_task()
    await anyio.to_thread.run_sync(sim.stop)
    try:
        async with AsyncCambClient(
            KEY, base_url=proxy.url, transport=transport, max_outage=0, max_retries=0
        ) as client:
            with anyio.fail_after(10), pytest.raises(APIStatusError) as caught:
                await client.status(task_id)
    finally:
        await anyio.to_thread.run_sync(sim.start)
    exc = caught.value
    check_error_is_clean(exc)
    text = str(exc)
    assert isinstance(exc, InternalServerError)
    assert exc.status_code == 502
    assert len(text) < 400, text
    assert "502" in text
    assert isinstance(exc.body, str)
    assert "<html>" in exc.body  # the whole page stays on the error, for whoever wants it
    assert "</html>" not in text.lower()  # ... but not in its text
    FIGURES.add(
        f"proxy 502 page ({transport}, {anyio_backend})",
        text_length=len(text),
        page_length=len(exc.body),
        text=text,
    )
