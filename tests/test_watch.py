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
from support import make_client

import camb_async._polling
from camb_async import (
    DEFAULT_WATCH_TIMEOUT,
    AsyncCambClient,
    CambError,
    ClientClosedError,
    PollSchedule,
    TaskError,
    TaskFailedError,
    TaskPaymentRequiredError,
    TaskState,
    TaskStatus,
    TaskTimedOutError,
    WatchTimeoutError,
)

if TYPE_CHECKING:
    import respx

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
    seen = [status.status async for status in client.watch("abc", family="dub")]
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


@pytest.mark.parametrize("error", [TaskFailedError, TaskTimedOutError, TaskPaymentRequiredError])
def test_task_errors_are_task_error_and_camb_error(error: type[TaskError]) -> None:
    """Every task failure error is a TaskError and a CambError."""
    assert issubclass(error, TaskError)
    assert issubclass(error, CambError)


# -- deadlines ---------------------------------------------------------------------


async def test_watch_deadline_raises_watch_timeout_error(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A task that never finishes makes watch raise WatchTimeoutError (a TimeoutError) at the deadline."""
    route = router.get("/tts/abc").mock(side_effect=always_pending)
    started = anyio.current_time()
    with pytest.raises(WatchTimeoutError) as caught:
        async for _ in client.watch("abc", interval=0.05, timeout=0.3):
            pass
    elapsed = anyio.current_time() - started
    exc = caught.value
    assert isinstance(exc, TimeoutError)
    assert isinstance(exc, CambError)
    assert 0.29 <= elapsed < 1.0
    assert exc.task_id == "abc"
    assert exc.timeout == pytest.approx(0.3)
    assert exc.last_status is not None
    assert exc.last_status.status is TaskState.PENDING
    assert "last status PENDING" in str(exc)
    assert route.call_count >= 3  # it kept polling until the deadline


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
    """The default schedule starts at 0.5 s, grows by 1.25 up to 3 s, with ±10 % jitter."""
    assert PollSchedule() == PollSchedule(initial=0.5, factor=1.25, maximum=3.0, jitter=0.1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"initial": 0.009}, "initial must be at least 0.01"),
        ({"initial": 0.0}, "initial must be at least 0.01"),
        ({"initial": -1.0}, "initial must be at least 0.01"),
        ({"initial": math.nan}, "initial must be at least 0.01"),
        ({"factor": 0.99}, "factor must be at least 1"),
        ({"factor": math.nan}, "factor must be at least 1"),
        ({"initial": 2.0, "maximum": 1.0}, "maximum"),
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
    "options", [{"initial": 0.01}, {"factor": 1.0}, {"initial": 3.0, "maximum": 3.0}, {"jitter": 0.0}]
)
def test_poll_schedule_accepts_boundaries(options: dict[str, float]) -> None:
    """The smallest allowed values are accepted."""
    schedule = PollSchedule(**options)
    for field, value in options.items():
        assert getattr(schedule, field) == value


def test_poll_schedule_delays_grow_by_factor_up_to_maximum() -> None:
    """delays() starts at initial, multiplies by factor after each poll, and stops at maximum."""
    delays = PollSchedule(initial=0.5, factor=2.0, maximum=3.0).delays()
    assert [next(delays) for _ in range(6)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_poll_schedule_default_delays() -> None:
    """The default schedule's first waits follow 0.5 * 1.25**n, capped at 3 s."""
    delays = PollSchedule().delays()
    expected = [min(0.5 * 1.25**n, 3.0) for n in range(12)]
    assert [next(delays) for _ in range(12)] == pytest.approx(expected)
    assert expected[-1] == 3.0


def test_poll_schedule_with_factor_one_is_constant() -> None:
    """factor=1 polls at a constant interval."""
    delays = PollSchedule(initial=0.2, factor=1.0).delays()
    assert [next(delays) for _ in range(4)] == [0.2, 0.2, 0.2, 0.2]


@pytest.mark.parametrize(
    ("interval", "maximum"),
    [(0.1, 3.0), (2.0, 3.0), (3.0, 3.0), (5.0, 5.0), (60.0, 60.0)],
)
def test_with_interval_starts_there_and_raises_maximum_when_needed(interval: float, maximum: float) -> None:
    """with_interval sets initial and lifts maximum to it when it is larger; other fields stay."""
    base = PollSchedule(initial=0.5, factor=1.5, maximum=3.0, jitter=0.2)
    schedule = base.with_interval(interval)
    assert schedule == dataclasses.replace(base, initial=interval, maximum=maximum)
    assert next(schedule.delays()) == interval


@pytest.mark.parametrize("interval", [0.0, 0.005, -2.0, math.nan])
def test_with_interval_refuses_too_short(interval: float) -> None:
    """with_interval refuses an interval under 0.01 s."""
    with pytest.raises(ValueError, match=r"at least 0\.01"):
        PollSchedule().with_interval(interval)


@pytest.mark.parametrize("jitter", [0.0, 0.1, 0.5])
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


async def test_waits_snap_back_to_initial_after_a_change(
    router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait grows while the status stays the same and returns to initial after a change."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)
        await anyio.lowlevel.checkpoint()

    monkeypatch.setattr(camb_async._polling, "sleep", record)
    script = ["PENDING", "PENDING", "PENDING", "PROCESSING", "PROCESSING", "PROCESSING", "SUCCESS"]
    router.get("/tts/abc").mock(side_effect=[answer(s) for s in script])
    schedule = PollSchedule(initial=0.1, factor=2.0, maximum=0.3, jitter=0.0)
    async with make_client(router, poll_schedule=schedule) as camb:
        seen = [status.status async for status in camb.watch("abc")]
    assert seen == ["PENDING", "PROCESSING", "SUCCESS"]
    assert waits == [0.1, 0.2, 0.3, 0.1, 0.2, 0.3]


async def test_interval_argument_sets_first_wait(
    client: AsyncCambClient, router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """watch(interval=...) starts the schedule at that interval, within the jitter."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)
        await anyio.lowlevel.checkpoint()

    monkeypatch.setattr(camb_async._polling, "sleep", record)
    router.get("/tts/abc").mock(side_effect=[answer("PENDING"), answer("PENDING"), answer("SUCCESS")])
    await client.wait("abc", interval=2.0)
    assert len(waits) == 2
    assert 1.8 <= waits[0] <= 2.2
    assert 2.5 * 0.9 <= waits[1] <= 2.5 * 1.1
