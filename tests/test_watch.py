"""watch() and wait() over respx, and the PollSchedule they follow."""

from __future__ import annotations

import dataclasses
import inspect
import math
import random
from contextlib import aclosing
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import httpx
import pytest
from support import make_client, watches_through_an_outage

import camb_async._admission
import camb_async._polling
import camb_async._requester
from benchmarks import schedule_curve
from camb_async import (
    DEFAULT_WATCH_TIMEOUT,
    APIConnectionError,
    AsyncCambClient,
    CambError,
    ClientClosedError,
    InternalServerError,
    PollSchedule,
    TaskError,
    TaskFailedError,
    TaskPaymentRequiredError,
    TaskState,
    TaskStatus,
    TaskTimedOutError,
    WatchTimeoutError,
)
from camb_async._learning import FLOOR, REMEMBER, DurationModel, LearnedSchedule, Survival, poll_priority
from camb_async._polling import Follow

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    import respx

    from camb_async._state import LoopState, Pool
    from camb_async._types import Priority

pytestmark = pytest.mark.anyio

API_KEY = "sk-test-SECRET-never-shown"
BASE_URL = "https://camb.test/apis"


def answer(status: str, **fields: object) -> httpx.Response:
    """A 200 status answer."""
    return httpx.Response(200, json={"status": status, **fields})


def always_pending(request: httpx.Request) -> httpx.Response:
    """A respx side effect: the task never finishes."""
    return answer("PENDING")


# -- what watch() yields -----------------------------------------------------------


async def test_watch_yields_first_status_then_only_changes(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """watch yields the first status and then each change, polling until the terminal one."""
    script = ["PENDING", "PENDING", "PROCESSING", "PROCESSING", "SUCCESS"]
    route = router.get("/tts/abc").mock(side_effect=[answer(s, run_id=9) for s in script])
    seen = [status async for status in client.watch("abc")]
    assert [status.status for status in seen] == ["PENDING", "PROCESSING", "SUCCESS"]
    assert all(isinstance(status, TaskStatus) for status in seen)
    assert route.call_count == 5


@pytest.mark.parametrize("terminal", ["SUCCESS", "ERROR", "TIMEOUT", "PAYMENT_REQUIRED"])
async def test_watch_ends_right_after_terminal_status(
    client: AsyncCambClient, router: respx.Router, no_wait: None, terminal: str
) -> None:
    """watch stops polling as soon as it has yielded a terminal status."""
    route = router.get("/tts/abc").mock(
        side_effect=[answer("PENDING"), answer(terminal), answer("PENDING"), answer("PENDING")]
    )
    seen = [status.status async for status in client.watch("abc")]
    assert seen == ["PENDING", terminal]
    assert route.call_count == 2


async def test_watch_yields_unknown_statuses_and_keeps_polling(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """A status the SDK does not know is yielded as a plain string and is not terminal."""
    route = router.get("/tts/abc").mock(
        side_effect=[answer("QUEUED"), answer("RENDERING"), answer("SUCCESS", run_id=3)]
    )
    seen = [status async for status in client.watch("abc")]
    assert [status.status for status in seen] == ["QUEUED", "RENDERING", "SUCCESS"]
    assert [status.is_terminal for status in seen] == [False, False, True]
    assert type(seen[0].status) is str
    assert route.call_count == 3


async def test_watch_uses_family_path(client: AsyncCambClient, router: respx.Router, no_wait: None) -> None:
    """watch(family=...) polls that family's status endpoint."""
    route = router.get("/dub/abc").mock(side_effect=[answer("PENDING"), answer("SUCCESS")])
    seen = [status.status async for status in client.watch("abc", family="dubbing")]
    assert seen == ["PENDING", "SUCCESS"]
    assert route.calls.last.request.url.raw_path == b"/apis/dub/abc"


async def test_watch_retries_a_503_transparently(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """A 503 between polls is retried inside the poll and never reaches the caller."""
    route = router.get("/tts/abc").mock(
        side_effect=[answer("PENDING"), httpx.Response(503), answer("SUCCESS")]
    )
    seen = [status.status async for status in client.watch("abc")]
    assert seen == ["PENDING", "SUCCESS"]
    assert route.call_count == 3


# -- wait() ------------------------------------------------------------------------


async def test_wait_returns_success_status_with_run_id(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """wait returns the final SUCCESS status, run_id included."""
    route = router.get("/tts/abc").mock(
        side_effect=[answer("PENDING"), answer("PENDING"), answer("SUCCESS", run_id=777)]
    )
    status = await client.wait("abc")
    assert status.status is TaskState.SUCCESS
    assert status.run_id == 777
    assert route.call_count == 3


@pytest.mark.parametrize(
    ("final", "error"),
    [
        ("ERROR", TaskFailedError),
        ("TIMEOUT", TaskTimedOutError),
        ("PAYMENT_REQUIRED", TaskPaymentRequiredError),
    ],
)
async def test_wait_raises_task_error_for_failed_final_status(
    client: AsyncCambClient, router: respx.Router, no_wait: None, final: str, error: type[TaskError]
) -> None:
    """wait raises the TaskError subclass of the failed status, carrying that status and the task id."""
    router.get("/tts/abc").mock(
        side_effect=[
            answer("PENDING"),
            answer(final, exception_reason="SOME_REASON", message="it broke"),
        ]
    )
    with pytest.raises(TaskError) as caught:
        await client.wait("abc")
    exc = caught.value
    assert type(exc) is error
    assert isinstance(exc, CambError)
    assert exc.task_id == "abc"
    assert isinstance(exc.status, TaskStatus)
    assert exc.status.status == final
    assert exc.status.exception_reason == "SOME_REASON"
    assert str(exc) == f"task 'abc' ended with status {final} (SOME_REASON). it broke"
    assert exc.state == TaskState(final)
    assert exc.state is exc.status.status


async def test_success_and_failure_read_alike_through_state(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """``.state`` is the TaskState on a returned TaskStatus and on a raised TaskError alike;
    ``status``, ``run_id`` and ``is_terminal`` stay as they were."""
    router.get("/tts/ok").mock(return_value=answer("SUCCESS", run_id=5))
    router.get("/tts/bad").mock(return_value=answer("ERROR"))
    done = await client.wait("ok")
    with pytest.raises(TaskError) as caught:
        await client.wait("bad")
    assert (done.state, caught.value.state) == (TaskState.SUCCESS, TaskState.ERROR)
    assert (done.status, done.run_id, done.is_terminal) == (TaskState.SUCCESS, 5, True)
    assert "state" not in done.model_dump()
    assert isinstance(caught.value.status, TaskStatus)
    assert caught.value.status.status is TaskState.ERROR


@pytest.mark.parametrize("interval", [0, -1.0, math.nan])
async def test_a_bad_interval_is_named_in_the_error(
    client: AsyncCambClient, unexpected: respx.Route, interval: float
) -> None:
    """wait(interval=0) and watch(interval=0) say that ``interval`` is wrong, before any request."""
    with pytest.raises(ValueError, match=r"^interval must be at least 0.01 s"):
        await client.wait("abc", interval=interval)
    with pytest.raises(ValueError, match=r"^interval must be"):
        await anext(aiter(client.watch("abc", interval=interval)))


@pytest.mark.parametrize("error", [TaskFailedError, TaskTimedOutError, TaskPaymentRequiredError])
def test_task_errors_are_task_error_and_camb_error(error: type[TaskError]) -> None:
    """Every task failure error is a TaskError and a CambError."""
    assert issubclass(error, TaskError)
    assert issubclass(error, CambError)


# -- deadlines ---------------------------------------------------------------------


async def watch_until_timeout(watch: AsyncIterator[TaskStatus]) -> tuple[WatchTimeoutError, float]:
    """Run ``watch`` to its WatchTimeoutError; return it and the seconds it took."""
    started = anyio.current_time()
    with pytest.raises(WatchTimeoutError) as caught:
        async for _ in watch:
            pass
    return caught.value, anyio.current_time() - started


async def test_watch_deadline_raises_watch_timeout_error(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A task that never finishes makes watch raise WatchTimeoutError (a TimeoutError) at the deadline."""
    route = router.get("/tts/abc").mock(side_effect=always_pending)
    exc, elapsed = await watch_until_timeout(client.watch("abc", interval=0.05, timeout=0.3))
    assert isinstance(exc, TimeoutError)
    assert isinstance(exc, CambError)
    assert 0.29 <= elapsed < 1.0
    assert exc.task_id == "abc"
    assert exc.timeout == pytest.approx(0.3)
    assert exc.last_status is not None
    assert exc.last_status.status is TaskState.PENDING
    assert "last status PENDING" in str(exc)
    assert route.call_count >= 3  # it kept polling until the deadline


async def test_deadline_during_a_request_ends_it(client: AsyncCambClient, router: respx.Router) -> None:
    """A poll still unanswered at the deadline is cancelled: WatchTimeoutError, on time, no status seen."""

    async def hang(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(30)
        return httpx.Response(200, json={"status": "PENDING"})

    router.get("/tts/abc").mock(side_effect=hang)
    exc, elapsed = await watch_until_timeout(client.watch("abc", timeout=0.2))
    assert 0.19 <= elapsed < 1.0
    assert exc.last_status is None


async def test_deadline_shorter_than_the_next_wait_ends_the_watch_at_the_deadline(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """The watch sleeps only up to the deadline, not through the whole next wait."""
    route = router.get("/tts/abc").mock(side_effect=always_pending)
    exc, elapsed = await watch_until_timeout(client.watch("abc", interval=5.0, timeout=0.2))
    assert 0.19 <= elapsed < 1.0
    assert route.call_count == 1
    assert exc.last_status is not None


async def test_wait_deadline_raises_watch_timeout_error(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """wait(timeout=...) raises WatchTimeoutError too."""
    router.get("/tts/abc").mock(side_effect=always_pending)
    with pytest.raises(WatchTimeoutError, match=r"did not finish within 0\.1 s"):
        await client.wait("abc", interval=0.02, timeout=0.1)


async def test_default_deadline_is_the_clients_watch_timeout(router: respx.Router) -> None:
    """Without timeout=, watch/wait use the client's watch_timeout."""
    router.get("/tts/abc").mock(side_effect=always_pending)
    started = anyio.current_time()
    async with make_client(router, watch_timeout=0.2) as camb:
        with pytest.raises(WatchTimeoutError) as caught:
            await camb.wait("abc", interval=0.05)
    assert 0.19 <= anyio.current_time() - started < 1.0
    assert caught.value.timeout == pytest.approx(0.2)


def test_default_watch_timeout_is_600_seconds() -> None:
    """The client's default watch_timeout is 600 s."""
    assert DEFAULT_WATCH_TIMEOUT == 600.0
    assert inspect.signature(AsyncCambClient).parameters["watch_timeout"].default == 600.0


async def test_timeout_none_waits_without_deadline(router: respx.Router) -> None:
    """timeout=None is accepted and lets the watch run past the client's watch_timeout."""
    polls = 0

    def slow_task(request: httpx.Request) -> httpx.Response:
        nonlocal polls
        polls += 1
        return answer("SUCCESS" if polls == 4 else "PENDING")

    router.get("/tts/abc").mock(side_effect=slow_task)
    started = anyio.current_time()
    async with make_client(router, watch_timeout=0.05) as camb:
        with anyio.fail_after(5):
            status = await camb.wait("abc", interval=0.03, timeout=None)
    assert status.status is TaskState.SUCCESS
    assert polls == 4
    assert anyio.current_time() - started > 0.05


async def test_client_watch_timeout_none_means_no_deadline(router: respx.Router, no_wait: None) -> None:
    """A client made with watch_timeout=None is accepted and its watches run to the end."""
    router.get("/tts/abc").mock(side_effect=[answer("PENDING"), answer("SUCCESS")])
    async with make_client(router, watch_timeout=None) as camb:
        assert (await camb.wait("abc")).status is TaskState.SUCCESS


@pytest.mark.parametrize("interval", [0, -1, math.nan, 0.001])
async def test_bad_interval_is_refused_before_any_request(
    client: AsyncCambClient, unexpected: respx.Route, interval: float
) -> None:
    """interval below 0.01 s (or NaN) is a ValueError when watch/wait is called, before any request."""
    with pytest.raises(ValueError, match=r"at least 0\.01"):
        client.watch("abc", interval=interval)
    with pytest.raises(ValueError, match=r"at least 0\.01"):
        await client.wait("abc", interval=interval)
    assert unexpected.call_count == 0


@pytest.mark.parametrize("timeout", [0, -1, math.nan])
async def test_bad_timeout_is_refused_before_any_request(
    client: AsyncCambClient, unexpected: respx.Route, timeout: float
) -> None:
    """A timeout that is not a positive number of seconds is a ValueError at call time."""
    with pytest.raises(ValueError, match="timeout must be a number of seconds > 0"):
        client.watch("abc", timeout=timeout)
    with pytest.raises(ValueError, match="timeout must be a number of seconds > 0"):
        await client.wait("abc", timeout=timeout)
    assert unexpected.call_count == 0


async def test_bad_task_id_is_refused_at_call_time(client: AsyncCambClient, unexpected: respx.Route) -> None:
    """watch with a task id that is not one path segment raises at call time, before any request."""
    with pytest.raises(ValueError, match="task_id"):
        client.watch("../abc")
    assert unexpected.call_count == 0


# -- stopping a watch --------------------------------------------------------------


async def test_break_stops_polling_and_client_stays_usable(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """Breaking out of `async for` after the first status stops polling; the client still works."""
    route = router.get("/tts/abc").mock(side_effect=always_pending)
    async with aclosing(client.watch("abc", interval=0.01)) as statuses:
        async for status in statuses:
            assert status.status is TaskState.PENDING
            break
    assert route.call_count == 1
    await anyio.sleep(0.05)
    assert route.call_count == 1
    assert (await client.status("abc")).status is TaskState.PENDING
    assert route.call_count == 2


async def test_cancel_mid_sleep_leaves_client_usable(client: AsyncCambClient, router: respx.Router) -> None:
    """Cancelling a watch while it sleeps between polls ends it and leaves the client usable."""
    route = router.get("/tts/abc").mock(side_effect=always_pending)
    seen: list[TaskStatus] = []
    with anyio.move_on_after(0.05) as scope:
        async for status in client.watch("abc", interval=5.0):
            seen.append(status)
    assert scope.cancelled_caught
    assert [status.status for status in seen] == ["PENDING"]
    assert route.call_count == 1
    with anyio.fail_after(1):
        assert (await client.status("abc")).status is TaskState.PENDING
    assert route.call_count == 2


async def test_closing_client_ends_running_watch(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """aclose() while a watch runs makes that watch end with ClientClosedError."""
    router.get("/tts/abc").mock(side_effect=always_pending)
    first_seen = anyio.Event()
    outcome: list[BaseException] = []

    async def follow() -> None:
        try:
            async for _ in client.watch("abc", timeout=None):
                first_seen.set()
        except ClientClosedError as exc:
            outcome.append(exc)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow)
            await first_seen.wait()
            await client.aclose()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ClientClosedError)


# -- many watches on one client ----------------------------------------------------


class InFlight:
    """Counts requests being answered at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.polls: dict[str, int] = {}

    async def answer(self, request: httpx.Request) -> httpx.Response:
        """Answer PENDING on a task's first poll and SUCCESS after, slowly enough to overlap."""
        task_id = request.url.path.rsplit("/", 1)[-1]
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await anyio.sleep(0.001)
        finally:
            self.now -= 1
        polls = self.polls[task_id] = self.polls.get(task_id, 0) + 1
        return answer("PENDING" if polls == 1 else "SUCCESS", run_id=polls)


async def test_thousand_watches_respect_max_concurrent_requests(router: respx.Router, no_wait: None) -> None:
    """1,000 waits gathered on one client all finish, never above max_concurrent_requests in flight."""
    tracker = InFlight()
    route = router.get(path__regex=r"/tts/task-\d+$").mock(side_effect=tracker.answer)
    results: dict[str, TaskStatus] = {}

    async def wait_one(camb: AsyncCambClient, task_id: str) -> None:
        results[task_id] = await camb.wait(task_id)

    async with make_client(router, max_concurrent_requests=8) as camb:
        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                for n in range(1000):
                    tg.start_soon(wait_one, camb, f"task-{n}")
    assert len(results) == 1000
    assert all(status.status is TaskState.SUCCESS and status.run_id == 2 for status in results.values())
    assert route.call_count == 2000
    assert set(tracker.polls.values()) == {2}
    assert 2 <= tracker.peak <= 8
    assert tracker.now == 0


# -- PollSchedule ------------------------------------------------------------------


def test_poll_schedule_defaults() -> None:
    """The default schedule: 1.4 s, then 0.55 s until 3 s, then 3 s, growing by 5 % of elapsed to 15 s."""
    assert PollSchedule() == PollSchedule(
        initial=1.4, fast=0.55, fast_until=3.0, steady=3.0, growth=0.05, maximum=15.0, jitter=0.05
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"initial": 0.009}, "initial must be at least 0.01"),
        ({"initial": 0.0}, "initial must be at least 0.01"),
        ({"initial": -1.0}, "initial must be at least 0.01"),
        ({"initial": math.nan}, "initial must be at least 0.01"),
        ({"fast": 0.005}, "fast must be at least 0.01"),
        ({"fast": math.nan}, "fast must be at least 0.01"),
        ({"steady": 0.0}, "steady must be at least 0.01"),
        ({"steady": math.nan}, "steady must be at least 0.01"),
        ({"fast_until": -0.1}, "fast_until must be"),
        ({"fast_until": math.inf}, "fast_until must be"),
        ({"fast_until": math.nan}, "fast_until must be"),
        ({"growth": -0.01}, "growth must be in"),
        ({"growth": 1.01}, "growth must be in"),
        ({"growth": math.nan}, "growth must be in"),
        ({"initial": 20.0}, "maximum"),
        ({"steady": 16.0}, "maximum"),
        ({"fast": 16.0}, "maximum"),
        ({"maximum": 2.9}, "maximum"),
        ({"maximum": math.nan}, "maximum"),
        ({"jitter": -0.01}, "jitter must be in"),
        ({"jitter": 1.0}, "jitter must be in"),
        ({"jitter": math.nan}, "jitter must be in"),
    ],
)
def test_poll_schedule_validation(options: dict[str, float], message: str) -> None:
    """Out-of-range PollSchedule fields are a ValueError naming the field."""
    with pytest.raises(ValueError, match=message):
        PollSchedule(**options)


@pytest.mark.parametrize(
    "options",
    [
        {"initial": 0.01},
        {"fast": 0.01},
        {"steady": 0.01},
        {"fast_until": 0.0},
        {"growth": 0.0},
        {"growth": 1.0},
        {"maximum": 3.0},
        {"maximum": math.inf},
        {"jitter": 0.0},
    ],
)
def test_poll_schedule_accepts_boundaries(options: dict[str, float]) -> None:
    """The extreme allowed values are accepted."""
    schedule = PollSchedule(**options)
    for field, value in options.items():
        assert getattr(schedule, field) == value


def test_poll_schedule_is_frozen() -> None:
    """A PollSchedule cannot be changed after it is made."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        PollSchedule().steady = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("elapsed", "wait"),
    [
        (0.0, 1.4),  # the poll that saw the status
        (1.4, 0.55),
        (2.99, 0.55),
        (3.0, 3.0),
        (30.0, 3.0),
        (60.0, 3.0),
        (100.0, 5.0),
        (200.0, 10.0),
        (300.0, 15.0),
        (3600.0, 15.0),
    ],
)
def test_default_wait_after_elapsed(elapsed: float, wait: float) -> None:
    """The default waits by elapsed time: first wait, fast phase, steady, growth, cap."""
    assert PollSchedule().wait_after(elapsed) == pytest.approx(wait)


def test_default_delays_follow_elapsed_time() -> None:
    """For a status that never changes: polls at 0, 1.4, 1.95, 2.5, 3.05 s, then every 3 s, then growing."""
    delays = PollSchedule().delays()
    first = [next(delays) for _ in range(24)]
    assert first[:6] == pytest.approx([1.4, 0.55, 0.55, 0.55, 3.0, 3.0])
    times = [sum(first[:n]) for n in range(len(first) + 1)]
    assert times[4] == pytest.approx(3.05)
    for at, delay in zip(times[:-1], first, strict=True):
        if at >= 60.0:
            assert delay == pytest.approx(0.05 * at)


def test_default_polls_of_a_long_task_stay_few() -> None:
    """A task of 10 minutes costs under 80 polls, and the wait never exceeds 15 s."""
    delays = PollSchedule().delays()
    elapsed, polls, longest = 0.0, 1, 0.0
    while elapsed < 600.0:
        delay = next(delays)
        longest = max(longest, delay)
        elapsed += delay
        polls += 1
    assert polls < 80
    assert longest == 15.0


def test_fixed_interval_schedule() -> None:
    """initial = fast = steady = maximum and growth 0 give a fixed interval."""
    delays = PollSchedule(initial=2.0, fast=2.0, steady=2.0, growth=0.0, maximum=2.0).delays()
    assert [next(delays) for _ in range(50)] == [2.0] * 50


@pytest.mark.parametrize(
    ("interval", "steady", "maximum"),
    [(0.1, 3.0, 15.0), (2.0, 3.0, 15.0), (3.0, 3.0, 15.0), (5.0, 5.0, 15.0), (60.0, 60.0, 60.0)],
)
def test_with_interval_polls_at_interval_and_lifts_later_waits(
    interval: float, steady: float, maximum: float
) -> None:
    """with_interval sets initial and fast, lifts steady and maximum to it when larger; other fields stay."""
    base = PollSchedule(jitter=0.2)
    schedule = base.with_interval(interval)
    assert schedule == dataclasses.replace(
        base, initial=interval, fast=interval, steady=steady, maximum=maximum
    )
    delays = schedule.delays()
    assert next(delays) == interval
    assert next(delays) == (interval if interval < 3.0 else steady)


def test_with_large_interval_is_constant_until_growth_passes_it() -> None:
    """interval=10: every wait is 10 s until 5 % of the elapsed time passes 10 s (at 200 s)."""
    schedule = PollSchedule().with_interval(10.0)
    assert [schedule.wait_after(at) for at in (0.0, 10.0, 100.0, 190.0)] == [10.0] * 4
    assert schedule.wait_after(260.0) == pytest.approx(13.0)


@pytest.mark.parametrize("interval", [0.0, 0.005, -2.0, math.nan])
def test_with_interval_refuses_too_short(interval: float) -> None:
    """with_interval refuses an interval under 0.01 s."""
    with pytest.raises(ValueError, match=r"at least 0\.01"):
        PollSchedule().with_interval(interval)


@pytest.mark.parametrize("jitter", [0.0, 0.05, 0.5])
def test_jittered_stays_within_jitter(jitter: float) -> None:
    """jittered(d) stays within d * (1 ± jitter)."""
    schedule = PollSchedule(jitter=jitter)
    samples = [schedule.jittered(2.0) for _ in range(500)]
    assert all(2.0 * (1 - jitter) <= sample <= 2.0 * (1 + jitter) for sample in samples)
    if jitter:
        assert min(samples) < 2.0 < max(samples)
    else:
        assert set(samples) == {2.0}


@pytest.mark.parametrize(("draw", "expected"), [(0.0, 1.6), (0.5, 2.0), (0.75, 2.2)])
def test_jittered_maps_random_draw(monkeypatch: pytest.MonkeyPatch, draw: float, expected: float) -> None:
    """jittered spreads linearly: draw 0 gives -jitter, 0.5 none, 1 would give +jitter."""
    monkeypatch.setattr(random, "random", lambda: draw)
    assert PollSchedule(jitter=0.2).jittered(2.0) == pytest.approx(expected)


def test_jittered_draws_from_given_rng() -> None:
    """jittered(d, rng) draws from rng, so a seeded rng repeats the same waits."""
    schedule = PollSchedule(jitter=0.2)
    first = [schedule.jittered(1.0, rng) for rng in [random.Random(5)] for _ in range(5)]
    again = [schedule.jittered(1.0, rng) for rng in [random.Random(5)] for _ in range(5)]
    assert first == again
    assert len(set(first)) == 5


class VirtualClock:
    """Replaces the loop's clock and sleep: sleeping moves time forward at once, and is recorded.

    It also draws every jitter at its midpoint, so each recorded wait is exactly the
    schedule's wait and the tests can compare it with ``==``.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.time = 100.0
        self.waits: list[float] = []
        monkeypatch.setattr(camb_async._polling, "now", lambda: self.time)
        monkeypatch.setattr(camb_async._polling, "sleep", self.sleep)
        monkeypatch.setattr(random, "random", lambda: 0.5)  # what PollSchedule.jittered draws

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.time += seconds
        await anyio.lowlevel.checkpoint()


async def test_the_deadline_runs_on_the_schedules_clock(
    client: AsyncCambClient, router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deadline and the waits read one clock: 60 s on it end the watch, whatever the loop's clock says."""
    clock = VirtualClock(monkeypatch)
    router.get("/tts/abc").mock(side_effect=always_pending)
    with anyio.fail_after(5):  # the loop's own clock barely moves
        exc, _ = await watch_until_timeout(client.watch("abc", timeout=60.0))
    assert sum(clock.waits) == pytest.approx(60.0)  # the last wait stops at the deadline
    assert exc.timeout == pytest.approx(60.0)


async def test_waits_follow_elapsed_time_and_snap_back_after_a_change(
    router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waits follow the time since the status was first seen; a change restarts that time."""
    clock = VirtualClock(monkeypatch)
    script = ["PENDING"] * 5 + ["PROCESSING"] * 3 + ["SUCCESS"]
    router.get("/tts/abc").mock(side_effect=[answer(s) for s in script])
    schedule = PollSchedule(initial=0.1, fast=0.2, fast_until=0.5, steady=1.0, growth=0.0, jitter=0.0)
    async with make_client(router, poll_schedule=schedule) as camb:
        seen = [status.status async for status in camb.watch("abc")]
    assert seen == ["PENDING", "PROCESSING", "SUCCESS"]
    # PENDING polls at 0, .1, .3, .5, 1.5; PROCESSING seen at 2.5, polled at 2.6, 2.8; SUCCESS at 3.0
    assert clock.waits == pytest.approx([0.1, 0.2, 0.2, 1.0, 1.0, 0.1, 0.2, 0.2])


async def test_elapsed_time_counts_request_time(
    router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Elapsed time is measured on the clock, so slow requests move a watch along its schedule too."""
    clock = VirtualClock(monkeypatch)

    polls = 0

    def slow(request: httpx.Request) -> httpx.Response:
        nonlocal polls
        polls += 1
        clock.time += 2.0  # each request takes 2 s
        return answer("SUCCESS" if polls == 4 else "PENDING")

    router.get("/tts/abc").mock(side_effect=slow)
    schedule = PollSchedule(jitter=0.0)
    async with make_client(router, poll_schedule=schedule) as camb:
        await camb.wait("abc")
    # Polls begin at 0, 3.4 (a 1.4 s wait after a 2 s request), 8.4: past 3 s, so steady 3 s waits.
    # Were elapsed counted without request time, the second wait would be the fast 0.55 s.
    assert clock.waits == pytest.approx([1.4, 3.0, 3.0])


@pytest.mark.parametrize(("interval", "expected"), [(2.0, [2.0, 2.0, 3.0]), (10.0, [10.0, 10.0, 10.0])])
async def test_interval_argument_sets_the_first_waits(
    client: AsyncCambClient,
    router: respx.Router,
    monkeypatch: pytest.MonkeyPatch,
    interval: float,
    expected: list[float],
) -> None:
    """watch(interval=...) polls every interval at first; later waits are at least interval."""
    clock = VirtualClock(monkeypatch)
    router.get("/tts/abc").mock(side_effect=[answer("PENDING")] * 3 + [answer("SUCCESS")])
    await client.wait("abc", interval=interval)
    assert clock.waits == pytest.approx(expected)


async def test_default_schedule_waits(
    client: AsyncCambClient, router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client without poll_schedule= waits along PollSchedule(): 1.4 s, then 0.55 s."""
    clock = VirtualClock(monkeypatch)
    router.get("/tts/abc").mock(side_effect=[answer("PENDING")] * 2 + [answer("SUCCESS")])
    await client.wait("abc")
    assert len(clock.waits) == 2
    assert clock.waits == pytest.approx([1.4, 0.55])


# -- the request economy of the default schedule (benchmarks/schedule_curve.py) -----


def test_default_schedule_meets_the_lag_and_request_targets() -> None:
    """In the deterministic simulation the default meets issue 3's targets.

    Short tasks (1-3 s): p50 lag <= 0.3 s. Tasks of 5-60 s: p50 lag <= 1.5 s,
    p99 lag <= 3.5 s, at most 16 status requests per task on average.
    """
    short = schedule_curve.simulate(PollSchedule(), schedule_curve.SHORT)
    medium = schedule_curve.simulate(PollSchedule(), schedule_curve.MEDIUM)
    assert short.lag_p50 <= 0.3
    assert medium.lag_p50 <= 1.5
    assert medium.lag_p99 <= 3.5
    assert medium.requests <= 16.0


def test_old_default_misses_the_targets() -> None:
    """The simulation can tell: 0.1's count-based default misses the short and request targets."""
    old = schedule_curve.CountBased()
    assert schedule_curve.simulate(old, schedule_curve.SHORT).lag_p50 > 0.3
    assert schedule_curve.simulate(old, schedule_curve.MEDIUM).requests > 16.0


def test_simulation_is_deterministic() -> None:
    """The same seed gives the same numbers; the simulation of a fixed interval matches theory."""
    one = schedule_curve.simulate(PollSchedule(), schedule_curve.MEDIUM, tasks=500)
    two = schedule_curve.simulate(PollSchedule(), schedule_curve.MEDIUM, tasks=500)
    assert one == two
    fixed = schedule_curve.simulate(schedule_curve.fixed(2.0), schedule_curve.MEDIUM, tasks=4000)
    assert fixed.lag_p50 == pytest.approx(1.0, abs=0.05)  # lag uniform in [0, 2)
    assert fixed.lag_max < 2.0
    assert fixed.requests == pytest.approx(1 + 32.5 / 2 + 0.5, abs=0.2)  # polls at 0, 2, ... past the end


# -- learning from finished tasks (opt-in) ---------------------------------------------


def test_duration_model_keeps_a_bounded_window_per_family() -> None:
    """The model keeps the last `keep` results of each family, separately, and ignores nonsense."""
    model = DurationModel(keep=5, least=2)
    for n in range(12):
        model.record("tts", float(n), float(n) + 1.0)
    model.record("dub", 1.0, 2.0)
    model.record("dub", 3.0, 2.0)  # finished before last seen running: ignored
    model.record("dub", -1.0, 2.0)
    model.record("dub", 1.0, math.inf)
    model.record("dub", math.nan, 2.0)
    assert model.samples("tts") == 5
    assert model.samples("dub") == 1
    assert model.samples("sub") == 0
    learned = model.schedule("tts", PollSchedule())
    assert learned is not None
    assert learned.marks == (7.5, 8.5, 9.5, 10.5, 11.5)  # the last five, by the middle of their window


def test_duration_model_needs_enough_samples() -> None:
    """Below `least` results the model has no schedule for the family."""
    model = DurationModel(least=3)
    model.record("tts", 5.0, 6.0)
    model.record("tts", 5.0, 6.0)
    assert model.schedule("tts", PollSchedule()) is None
    model.record("tts", 5.0, 6.0)
    assert model.schedule("tts", PollSchedule()) is not None


@pytest.mark.parametrize(
    "options",
    [
        {"least": 0},
        {"keep": 4, "least": 5},
        {"skip_quantile": 1.0},
        {"skip_quantile": -0.1},
        {"skip_factor": 1.5},
        {"per_poll": 0.0},
        {"per_poll": math.nan},
        {"first_per_poll": 0.0},
        {"first_per_poll": 1.5},
    ],
)
def test_duration_model_validation(options: dict[str, float]) -> None:
    """Out-of-range DurationModel options are a ValueError."""
    with pytest.raises(ValueError, match=r"keep|skip_quantile"):
        DurationModel(**options)  # type: ignore[arg-type]


def learned_after(finishes: list[tuple[float, float]], **options: float) -> LearnedSchedule:
    model = DurationModel(keep=len(finishes), least=len(finishes), **options)
    for running, finished in finishes:
        model.record("tts", running, finished)
    learned = model.schedule("tts", PollSchedule())
    assert learned is not None
    return learned


def test_learned_schedule_skips_before_the_early_durations() -> None:
    """Tasks were all seen running at 20 s: no poll before 0.75 x 20 s, then the usual waits."""
    learned = learned_after([(20.0, 22.0)] * 40, per_poll=0.25)
    assert learned.skip == pytest.approx(15.0)
    assert learned.wait_after(0.0) == pytest.approx(15.0)
    assert learned.wait_after(15.0) == pytest.approx(3.0)
    assert learned.wait_after(100.0) == pytest.approx(5.0)  # past every mark: the usual wait


def test_learned_first_wait_lets_a_quarter_of_past_tasks_finish() -> None:
    """Before the second poll, the wait lets 1/4 of the past tasks finish (1/8 later on)."""
    quick = learned_after([(0.0, 0.1 * n + 0.2) for n in range(32)])  # ends 0.1 to 3.2 s
    assert quick.first_step == 8
    assert quick.step == 4
    assert quick.marks[7] == pytest.approx(0.45)
    assert quick.wait_after(0.0) == pytest.approx(0.55)  # the 8th mark, 0.45 s, floored at fast
    assert quick.wait_after(1.0) == pytest.approx(0.55)
    later = learned_after([(0.0, 0.1 * n + 2.0) for n in range(32)])  # ends 2 to 5.1 s
    assert later.wait_after(0.0) == pytest.approx(1.35)  # the 8th mark: (0 + 2.7) / 2


def test_learned_schedule_polls_fast_where_tasks_finished_and_never_slower_than_usual() -> None:
    """Where past tasks crowd, the wait shrinks to about `per_poll` of them, not below `fast`."""
    crowd = [(9.9, 10.1 + n / 100) for n in range(32)]  # 32 tasks ending around 10 s
    learned = learned_after(crowd, per_poll=1 / 8)
    assert learned.skip == pytest.approx(0.75 * 9.9)
    assert learned.step == 4
    assert learned.wait_after(8.0) == pytest.approx(2.015)  # until the 4th mark, at 10.015 s
    assert learned.wait_after(10.0) == pytest.approx(0.55)  # 4 marks within 0.02 s: floored at fast
    spread = learned_after([(0.0, 10.0 * n + 1.0) for n in range(32)], per_poll=1 / 8)
    assert spread.skip == 0.0
    assert spread.wait_after(0.0) == pytest.approx(1.4)  # never longer than the usual wait
    assert spread.wait_after(100.0) == pytest.approx(5.0)


def finishing_at(clock: VirtualClock, finish: float) -> Callable[[httpx.Request], httpx.Response]:
    """A side effect: PENDING until `finish` seconds after the first poll, then SUCCESS."""
    start: list[float] = []

    def respond(request: httpx.Request) -> httpx.Response:
        if not start:
            start.append(clock.time)
        return answer("SUCCESS" if clock.time - start[0] >= finish else "PENDING")

    return respond


async def teach(camb: AsyncCambClient, router: respx.Router, clock: VirtualClock) -> None:
    """Finish 16 tts tasks of 20 s on ``camb``: enough for it to learn their duration."""
    for n in range(16):
        router.get(f"/tts/t{n}").mock(side_effect=finishing_at(clock, 20.0))
        await camb.wait(f"t{n}")
    clock.waits.clear()


async def test_client_learns_durations_per_family_when_asked(
    router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """learn_durations=True: after 16 tasks of 20 s, a new tts watch skips to 15 s; dubbing does not."""
    clock = VirtualClock(monkeypatch)
    async with make_client(router, learn_durations=True) as camb:
        await teach(camb, router, clock)
        router.get("/tts/new").mock(side_effect=finishing_at(clock, 20.0))
        await camb.wait("new")
        # Last seen running at about 18 s (polls at 3.05 s + 3k s): skip to 0.75 x that.
        assert 0.75 * 16.0 <= clock.waits[0] <= 0.75 * 20.0
        assert len(clock.waits) <= 6  # then 3 s, and 0.55 s near 20 s; the usual schedule takes 10
        clock.waits.clear()
        router.get("/dub/new").mock(side_effect=finishing_at(clock, 20.0))
        await camb.wait("new", family="dubbing")
        assert clock.waits[0] == pytest.approx(1.4)  # another family: the usual schedule
        clock.waits.clear()
        router.get("/tts/again").mock(side_effect=finishing_at(clock, 20.0))
        await camb.wait("again", interval=2.0)
        assert clock.waits[0] == pytest.approx(2.0)  # interval= overrides what was learned


async def test_client_does_not_learn_by_default(
    client: AsyncCambClient, router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without learn_durations=True every watch starts with the usual 1.4 s wait."""
    clock = VirtualClock(monkeypatch)
    for n in range(20):
        router.get(f"/tts/t{n}").mock(side_effect=finishing_at(clock, 20.0))
        await client.wait(f"t{n}")
        assert clock.waits[0] == pytest.approx(1.4)
        clock.waits.clear()


async def test_client_learns_durations_to_rank_polls_even_when_schedules_stay(
    client: AsyncCambClient, router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without learn_durations=True the schedules stay as they are, but the client still learns
    each family's durations: they rank its polls under a request budget."""
    clock = VirtualClock(monkeypatch)
    assert client.tts._context.durations.survival("tts") is None
    await teach(client, router, clock)
    router.get("/tts/new").mock(side_effect=finishing_at(clock, 20.0))
    await client.wait("new")
    assert clock.waits[0] == pytest.approx(1.4)
    curve = client.tts._context.durations.survival("tts")
    assert curve is not None
    assert 0.0 < curve.share(18.0) < curve.share(15.0) < 1.0  # they ended between 18 and 21 s


async def test_learned_schedule_is_dropped_after_a_change(
    router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change of status restarts the usual schedule, not the learned one."""
    clock = VirtualClock(monkeypatch)
    async with make_client(router, learn_durations=True) as camb:
        await teach(camb, router, clock)
        router.get("/tts/new").mock(
            side_effect=[answer("PENDING"), answer("PROCESSING"), answer("PROCESSING"), answer("SUCCESS")]
        )
        await camb.wait("new")
    assert len(clock.waits) == 3
    assert clock.waits[0] >= 11.0  # learned skip
    assert clock.waits[1:] == pytest.approx([1.4, 0.55])  # PROCESSING: the usual first waits


async def test_a_task_finished_before_the_first_poll_teaches_nothing(
    router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A watch whose first status is terminal gives no duration to learn from."""
    VirtualClock(monkeypatch)
    async with make_client(router, learn_durations=True) as camb:
        router.get("/tts/done").mock(side_effect=[answer("SUCCESS")])
        await camb.wait("done")
        durations = camb.tts._context.durations
        assert durations is not None
        assert durations.samples("tts") == 0


def test_learning_cuts_requests_in_simulation() -> None:
    """Learning on a first wave, a second wave of 5-60 s tasks costs fewer requests at the same p99,
    and sub-second tasks are seen sooner."""
    base = PollSchedule()
    plain = schedule_curve.simulate(base, schedule_curve.MEDIUM, tasks=3000)
    learned = schedule_curve.simulate_learning(base, schedule_curve.MEDIUM, tasks=3000)
    assert learned.requests < plain.requests - 2.0
    assert learned.lag_p99 <= 3.5
    assert learned.lag_p50 <= plain.lag_p50 + 0.1
    quick = schedule_curve.simulate_learning(base, schedule_curve.SUBSECOND, tasks=3000)
    assert quick.lag_p50 < schedule_curve.simulate(base, schedule_curve.SUBSECOND, tasks=3000).lag_p50 / 2


# -- riding out failures -------------------------------------------------------------

TRANSIENT_FAILURES = [
    pytest.param(lambda: httpx.Response(500), id="500"),
    pytest.param(lambda: httpx.Response(502, text="<html><title>502 Bad Gateway</title></html>"), id="502"),
    pytest.param(lambda: httpx.Response(429), id="429", marks=pytest.mark.slow),  # real pauses
    pytest.param(lambda: httpx.Response(200, text="<html>proxy</html>"), id="unreadable"),
    pytest.param(lambda: httpx.ReadError("reset"), id="read-error"),
    pytest.param(lambda: httpx.ConnectError("refused"), id="refused-after-contact"),
    pytest.param(lambda: httpx.ReadTimeout("slow"), id="read-timeout"),
]


def scripted(*answers: Callable[[], httpx.Response | Exception]) -> Callable[[httpx.Request], httpx.Response]:
    """A respx side effect that gives ``answers`` in turn (raising the exceptions), then SUCCESS."""
    queue = list(answers)

    def next_answer(request: httpx.Request) -> httpx.Response:
        if not queue:
            return answer("SUCCESS", run_id=1)
        fresh = queue.pop(0)()
        if isinstance(fresh, Exception):
            raise fresh
        return fresh

    return next_answer


@pytest.mark.parametrize("failure", TRANSIENT_FAILURES)
async def test_watch_rides_out_transient_failures(
    router: respx.Router, monkeypatch: pytest.MonkeyPatch, failure: Callable[[], httpx.Response | Exception]
) -> None:
    """Polls that fail for a while (no answer, 5xx, 429, an unreadable body) do not end the watch:
    it backs off on its schedule and sees the task finish once the API answers again."""
    clock = VirtualClock(monkeypatch)
    route = router.get("/tts/abc").mock(side_effect=scripted(lambda: answer("PENDING"), *[failure] * 5))
    async with make_client(router, max_retries=0) as camb:
        seen = [status.status async for status in camb.watch("abc")]
    assert seen == ["PENDING", "SUCCESS"]
    assert route.call_count == 7
    # Backing off 1, 2, 4, 8, 15 s (each shortened by up to a quarter; the clock draws the
    # middle, 1/8) and never less than the schedule's own wait, between failed polls; once
    # five failures in a row opened the circuit breaker, 1 s at most (the breaker paces), so
    # the schedule's own wait (3 s by then).
    sample = failure()
    opens = isinstance(sample, httpx.Response) and sample.status_code == 502
    opens = opens or isinstance(sample, (httpx.ConnectError, httpx.ReadError))
    assert clock.waits[1:6] == pytest.approx([0.875, 1.75, 3.5, 7.0, 3.0 if opens else 13.125])


@pytest.mark.parametrize("status_code", [400, 401, 402, 403, 404, 422])
async def test_errors_that_cannot_heal_end_the_watch_at_once(
    client: AsyncCambClient, router: respx.Router, no_wait: None, status_code: int
) -> None:
    """A 4xx other than 408, 409 and 429 ends the watch with its error, with no more polls."""
    route = router.get("/tts/abc").mock(side_effect=[answer("PENDING"), httpx.Response(status_code)])
    with pytest.raises(CambError) as caught:
        await client.wait("abc")
    assert getattr(caught.value, "status_code", None) == status_code
    assert route.call_count == 2


async def test_no_answer_before_first_contact_ends_the_watch_at_once(
    router: respx.Router, no_wait: None
) -> None:
    """A client that never reached the API (a wrong base_url) fails in one poll, not after the deadline."""
    route = router.get("/tts/abc").mock(side_effect=httpx.ConnectError("name does not resolve"))
    async with make_client(router, max_retries=0) as camb:
        with pytest.raises(APIConnectionError) as caught:
            await camb.wait("abc")
    assert caught.value.before_first_contact
    assert route.call_count == 1


async def test_max_outage_zero_ends_the_watch_at_the_first_failed_poll(
    router: respx.Router, no_wait: None
) -> None:
    """max_outage=0 gives the first error that survives the request's retries."""
    route = router.get("/tts/abc").mock(side_effect=[answer("PENDING"), httpx.Response(500)])
    async with make_client(router, max_retries=0, max_outage=0) as camb:
        with pytest.raises(InternalServerError):
            await camb.wait("abc")
    assert route.call_count == 2


@pytest.mark.slow
async def test_max_outage_bounds_how_long_failures_are_ridden_out(
    router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With max_outage=30, polls failing for 30 s end the watch with the last error."""
    clock = VirtualClock(monkeypatch)
    router.get("/tts/abc").mock(
        side_effect=scripted(lambda: answer("PENDING"), *[lambda: httpx.Response(503)] * 50)
    )
    async with make_client(router, max_retries=0, max_outage=30.0) as camb:
        with pytest.raises(InternalServerError):
            await camb.wait("abc")
    failing = sum(clock.waits[1:])
    assert 30.0 <= failing < 30.0 + 15.0


async def test_the_deadline_ends_a_poll_waiting_in_line_for_a_slot(router: respx.Router) -> None:
    """A watch whose poll waits for a slot of the limit on requests in flight (another request
    holds the only one) times out at its deadline all the same, and gives up its place."""
    in_flight = anyio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        in_flight.set()
        await anyio.sleep(30)
        return answer("PENDING")

    router.get("/tts/held").mock(side_effect=hang)
    router.get("/tts/abc").mock(side_effect=always_pending)
    async with make_client(router, max_concurrent_requests=1) as camb:
        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                group.start_soon(camb.status, "held")
                await in_flight.wait()
                began = anyio.current_time()
                with pytest.raises(WatchTimeoutError):
                    await camb.wait("abc", timeout=0.3)
                assert 0.3 <= anyio.current_time() - began < 2.0
                state = camb._requester._pool.loop
                assert state is not None
                assert state.limiter.waiting == 0
                group.cancel_scope.cancel()


async def test_the_deadline_ends_a_poll_backing_off_before_a_retry(router: respx.Router) -> None:
    """A poll whose retry backoff (0.5 s) outlasts the watch's deadline (0.2 s) ends at the deadline."""
    route = router.get("/tts/abc").mock(return_value=httpx.Response(500))
    async with make_client(router, max_retries=5) as camb:
        began = anyio.current_time()
        with anyio.fail_after(5), pytest.raises(WatchTimeoutError):
            await camb.wait("abc", timeout=0.2)
        assert anyio.current_time() - began < 0.45
    assert route.call_count == 1


async def test_deadline_during_an_outage_names_the_last_error(
    router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the deadline passes while polls fail, the WatchTimeoutError says so and chains the last error."""
    VirtualClock(monkeypatch)
    router.get("/tts/abc").mock(
        side_effect=scripted(lambda: answer("PENDING"), *[lambda: httpx.Response(500)] * 99)
    )
    async with make_client(router, max_retries=0) as camb:
        with pytest.raises(WatchTimeoutError, match="polls were failing: InternalServerError") as caught:
            await camb.wait("abc", timeout=60.0)
    assert isinstance(caught.value.__cause__, InternalServerError)
    assert caught.value.last_error is caught.value.__cause__
    assert caught.value.last_status is not None
    assert caught.value.last_status.status == "PENDING"


def test_bad_max_outage_is_refused() -> None:
    """max_outage must be a number of seconds >= 0, or None."""
    for bad in (-1, "10", True, math.nan):
        with pytest.raises(ValueError, match="max_outage"):
            AsyncCambClient(API_KEY, base_url=BASE_URL, max_outage=bad)  # type: ignore[arg-type]


async def test_a_first_poll_that_fails_is_tried_again_on_the_schedule(
    router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A watch whose very first poll fails waits its schedule's first wait (1.4 s), not its longest."""
    clock = VirtualClock(monkeypatch)
    router.get("/tts/abc").mock(side_effect=scripted(lambda: httpx.Response(500)))
    async with make_client(router, max_retries=0) as camb:
        await camb.wait("abc")
    assert clock.waits[0] == pytest.approx(1.4)


# -- outages over real TCP (the simulator stops and comes back on its port) -------------


def test_a_failing_watch_backs_off_at_most_a_second_while_the_breaker_is_open() -> None:
    """Behind an open breaker a failing watch waits at most about 1 s between polls (the breaker
    paces the requests and lets them through when the API is back); otherwise up to 15 s."""
    error = APIConnectionError("refused", request=httpx.Request("GET", BASE_URL))
    fast = PollSchedule().with_interval(0.2)
    gated: Follow[TaskStatus] = Follow("abc", fast, started=0.0, timeout=None)
    alone: Follow[TaskStatus] = Follow("abc", fast, started=0.0, timeout=None)
    waits = [(gated.failed(error, 0.0, n, gated=True), alone.failed(error, 0.0, n)) for n in range(8)]
    assert all(0.75 <= wait <= 1.0 for wait, _ in waits), waits
    assert all(wait >= 11.25 for _, wait in waits[6:]), waits


@pytest.mark.slow
async def test_no_watch_gives_up_after_the_api_is_back() -> None:
    """max_outage=1 and an outage of 2.5 s: a watch may give up while the API is down, never
    once it is back (a poll that waited for the breaker's next probe is not charged for it)."""
    run = await watches_through_an_outage(max_outage=1.0, downtime=2.5, finish=3.5)
    late = [
        (round(at - run.back, 2), repr(outcome)[:80])
        for at, outcome in run.outcomes.values()
        if isinstance(outcome, Exception) and at > run.back
    ]
    assert not late, late
    assert all(
        isinstance(outcome, APIConnectionError) or getattr(outcome, "status", None) == "SUCCESS"
        for _, outcome in run.outcomes.values()
    )


@pytest.mark.slow
async def test_an_outage_shorter_than_max_outage_loses_no_watch() -> None:
    """max_outage=3 and an outage of 2 s: every watch sees its task succeed."""
    run = await watches_through_an_outage(max_outage=3.0, downtime=2.0, finish=3.0)
    lost = [repr(outcome)[:80] for _, outcome in run.outcomes.values() if not isinstance(outcome, TaskStatus)]
    assert not lost, lost


@pytest.mark.slow
async def test_watches_resume_within_a_second_and_a_half_of_the_api_coming_back() -> None:
    """Tasks that finish during a 4 s outage are seen within 1.5 s of the API's return: the
    breaker probes about once a second, and failing watches wait for it rather than sleep."""
    run = await watches_through_an_outage(max_outage=None, downtime=4.0, finish=1.0)
    delays = sorted(at - run.back for at, _ in run.outcomes.values())
    assert all(isinstance(outcome, TaskStatus) for _, outcome in run.outcomes.values())
    assert delays[-1] < 1.5, delays


# -- ranking polls for the request budget ----------------------------------------------


def test_survival_falls_through_the_past_ends_and_never_reaches_zero() -> None:
    """The share still running: 1 at age 0, down a straight line through each past end, then
    a tail falling as 1/age; the hazard is -ln of the chance to run on."""
    curve = Survival([40.0, 10.0, 30.0, 20.0])
    assert curve.share(0.0) == 1.0
    assert curve.share(10.0) == pytest.approx(3.5 / 4)
    assert curve.share(25.0) == pytest.approx((2.5 / 4 + 1.5 / 4) / 2)
    assert curve.share(40.0) == pytest.approx(0.5 / 4)
    assert curve.share(80.0) == pytest.approx(0.5 / 4 / 2)
    assert curve.share(1e9) > 0.0
    assert curve.hazard(10.0, 40.0) == pytest.approx(math.log(7.0))
    assert curve.hazard(5.0, 5.0) == 0.0


def test_poll_priority_ranks_where_tasks_end_first_and_grows_as_it_waits() -> None:
    """Without known durations the priority orders by the time since the task was seen running
    (round robin); with them, a poll where past tasks ended outranks one that waited as long
    where none did; either grows without bound as it waits."""
    assert poll_priority(None, 10.0, 13.0) == pytest.approx(9.0 / FLOOR)
    assert poll_priority(None, 50.0, 54.0) > poll_priority(None, 2.0, 5.0)
    curve = Survival([20.0 + n / 5 for n in range(100)])  # ends from 20 to 40 s
    busy = poll_priority(curve, 30.0, 33.0)
    assert busy > poll_priority(curve, 5.0, 8.0) * 5  # no task ended before 20 s
    assert busy > poll_priority(curve, 50.0, 53.0) * 3  # past every end: only the tail
    assert poll_priority(curve, 5.0, 5.0 + 30.0) > busy  # the young poll, after waiting long enough
    waits = [poll_priority(curve, 5.0, 5.0 + waited) for waited in (1.0, 10.0, 30.0, 100.0)]
    assert waits == sorted(waits)


def test_duration_model_draws_survival_from_a_longer_memory_than_the_schedule() -> None:
    """The schedule reads the last `keep` finishes, the survival curve the last REMEMBER, and
    neither exists below `least`; the curve is redrawn once enough new finishes came."""
    model = DurationModel(keep=4, least=2)
    model.record("tts", 1.0, 3.0)
    assert model.survival("tts") is None
    for n in range(REMEMBER + 10):
        model.record("tts", float(n), float(n) + 2.0)
    learned = model.schedule("tts", PollSchedule())
    assert learned is not None
    assert len(learned.marks) == model.samples("tts") == 4
    curve = model.survival("tts")
    assert curve is not None
    assert curve.share(REMEMBER / 2 + 10.0) == pytest.approx(0.5, abs=0.01)  # ends 11 to REMEMBER + 10 s
    assert model.survival("tts") is curve  # nothing new
    for _ in range(REMEMBER // 32):
        model.record("tts", 0.0, 1.0)
    assert model.survival("tts") is not curve


def test_follow_ranks_its_poll_from_the_last_answer_that_saw_the_task_running() -> None:
    """A watch's next poll ranks by the time since the last answer that saw its task running
    (not since that poll began: it may have waited long for the budget), from when it began."""
    follow: Follow[TaskStatus] = Follow("abc", PollSchedule(), started=100.0, timeout=None)
    assert follow.priority(100.0) == 0.0
    assert follow.priority(110.0) == pytest.approx(100.0 / FLOOR)  # taken to run when the watch began
    follow.seen(TaskStatus(status="PENDING"), 110.0, 112.0)
    assert follow.priority(115.0) == pytest.approx(9.0 / FLOOR)
    known: Follow[TaskStatus] = Follow(
        "abc", PollSchedule(), started=100.0, timeout=None, survival=lambda: Survival([5.0] * 20)
    )
    known.seen(TaskStatus(status="PENDING"), 100.0, 101.0)
    assert known.priority(104.0) > follow.priority(104.0 + 10.0)  # tasks of its family end at 5 s


@pytest.fixture
def priorities(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    """Each request's path and what ranked it in the request budget's line: the ``Follow``
    whose ``priority`` it was handed, or ``None`` (the highest: not a poll). Every request
    goes through ``clear_to_send``, even those that could go at once."""
    seen: list[tuple[str, object]] = []

    def never_at_once(state: LoopState, *, slot: bool) -> bool:
        return False

    monkeypatch.setattr(camb_async._requester, "clear_at_once", never_at_once)
    admit = camb_async._admission.clear_to_send

    async def spy(
        pool: Pool,
        state: LoopState,
        wait: float | None,
        method: str,
        url: str,
        *,
        slot: bool,
        held: bool = False,
        priority: Priority | None = None,
    ) -> bool:
        seen.append((httpx.URL(url).path, getattr(priority, "__self__", None)))
        return await admit(pool, state, wait, method, url, slot=slot, held=held, priority=priority)

    monkeypatch.setattr(camb_async._requester, "clear_to_send", spy)
    return seen


async def test_each_poll_waits_with_its_watchs_priority_and_nothing_else_does(
    client: AsyncCambClient, router: respx.Router, no_wait: None, priorities: list[tuple[str, object]]
) -> None:
    """Polls wait for the budget with their own watch's priority, handed down with each poll;
    a create made between two polls, on the watch's own task, ranks above every poll."""
    polls: dict[str, int] = {"abc": 0, "def": 0}

    def poll(request: httpx.Request) -> httpx.Response:
        task_id = request.url.path.rsplit("/", 1)[-1]
        polls[task_id] += 1
        return answer("PENDING" if polls[task_id] < 3 else "SUCCESS")

    router.get(url__regex=r".*/tts/(abc|def)$").mock(side_effect=poll)
    router.post("/tts").mock(return_value=httpx.Response(200, json={"task_id": "new"}))

    async def follow(task_id: str) -> None:
        async for _ in client.tts.watch(task_id):
            await client.tts.create(text="Hi", voice_id=1, language="en-us")

    async with anyio.create_task_group() as group:
        group.start_soon(follow, "abc")
        group.start_soon(follow, "def")
    assert [rank for path, rank in priorities if path.endswith("/tts")] == [None] * 4
    for task_id in ("abc", "def"):
        seen = [rank for path, rank in priorities if path.endswith(f"/tts/{task_id}")]
        assert len(seen) == 3
        assert len(set(map(id, seen))) == 1  # one follow each, its own
        assert isinstance(seen[0], Follow)
        assert seen[0].task_id == task_id


async def test_many_task_polls_wait_with_their_tasks_priorities(
    client: AsyncCambClient, router: respx.Router, no_wait: None, priorities: list[tuple[str, object]]
) -> None:
    """A many-task watch ranks each poll by its own task's follow."""
    router.get(url__regex=r".*/tts/t\d$").mock(return_value=answer("SUCCESS", run_id=1))
    await client.wait_many(["t1", "t2"])
    assert {path.rsplit("/", 1)[-1]: getattr(rank, "task_id", None) for path, rank in priorities} == {
        "t1": "t1",
        "t2": "t2",
    }
