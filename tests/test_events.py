"""on_event hooks: the events of requests, retries, pauses and watches, their order and
grouping, what a failing hook does, what no hook costs; and the log lines beside them."""

from __future__ import annotations

import io
import logging
import time
from contextlib import aclosing
from types import SimpleNamespace
from typing import TYPE_CHECKING, TypeVar

import anyio
import httpx
import pytest
from support import API_KEY, make_client

import camb_async._events
import camb_async._polling
import camb_async._requester
from camb_async import (
    APIConnectionError,
    CambEvent,
    InternalServerError,
    NotFoundError,
    RateLimitPaused,
    RequestEnded,
    ResponseValidationError,
    RetryScheduled,
    StatusChanged,
    TaskFailedError,
    TaskHandle,
    TaskState,
    TaskStatus,
    WatchEnded,
    WatchStarted,
    WatchTimeoutError,
)

if TYPE_CHECKING:
    import respx

    from camb_async import LiveStream

pytestmark = pytest.mark.anyio

E = TypeVar("E", bound=CambEvent)


def answer(status: str, **fields: object) -> httpx.Response:
    return httpx.Response(200, json={"status": status, **fields})


def scripted(*statuses: str) -> list[httpx.Response]:
    """A respx side effect: these statuses in turn (the last one with run_id 1 when SUCCESS)."""
    return [answer(s, run_id=1 if s == "SUCCESS" else None) for s in statuses]


def always_pending(request: httpx.Request) -> httpx.Response:
    return answer("PENDING")


class Recorder:
    """A hook that keeps every event it gets."""

    def __init__(self) -> None:
        self.events: list[CambEvent] = []

    def __call__(self, event: CambEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[E]) -> list[E]:
        return [event for event in self.events if isinstance(event, kind)]

    def kinds(self) -> list[str]:
        return [type(event).__name__ for event in self.events]


def status_of(status: TaskStatus | LiveStream | None) -> str | None:
    return None if status is None else str(status.status)


# -- a single watch -----------------------------------------------------------------------


async def test_a_watch_reports_its_start_each_change_each_poll_and_its_end_in_order(
    router: respx.Router, no_wait: None
) -> None:
    """Start, then per poll a RequestEnded (and a StatusChanged when it changed), then the end."""
    router.get("/tts/t1").mock(side_effect=scripted("PENDING", "PENDING", "SUCCESS"))
    recorder = Recorder()
    async with make_client(router, on_event=recorder) as client:
        seen = [status.status async for status in client.tts.watch("t1")]
    assert seen == ["PENDING", "SUCCESS"]
    assert recorder.kinds() == [
        "WatchStarted",
        "RequestEnded",
        "StatusChanged",
        "RequestEnded",
        "RequestEnded",
        "StatusChanged",
        "WatchEnded",
    ]
    watch = recorder.of(WatchStarted)[0].watch
    assert (watch.task_id, watch.family) == ("t1", "tts")
    assert all(getattr(event, "watch", None) == watch for event in recorder.events)
    first, second = recorder.of(StatusChanged)
    assert (status_of(first.previous), status_of(first.status)) == (None, "PENDING")
    assert (status_of(second.previous), status_of(second.status)) == ("PENDING", "SUCCESS")
    (end,) = recorder.of(WatchEnded)
    assert (status_of(end.status), end.error, end.abandoned) == ("SUCCESS", None, False)
    polls = recorder.of(RequestEnded)
    assert [(p.method, p.path, p.status_code, p.attempt, p.error) for p in polls] == [
        ("GET", "/tts/t1", 200, 1, None)
    ] * 3


async def test_two_watches_of_one_task_are_told_apart(router: respx.Router, no_wait: None) -> None:
    """Each watch gets a ref of its own, and each poll names the watch it polls for."""
    router.get("/tts/t1").mock(side_effect=scripted("SUCCESS", "SUCCESS"))
    recorder = Recorder()
    async with make_client(router, on_event=recorder) as client:
        await client.tts.wait("t1")
        await client.wait("t1")
    starts = recorder.of(WatchStarted)
    assert len(starts) == 2
    one, two = (event.watch for event in starts)
    assert one != two
    assert one.task_id == two.task_id == "t1"
    assert [poll.watch for poll in recorder.of(RequestEnded)] == [one, two]


async def test_a_failed_task_ends_its_watch_with_that_status_and_no_error(
    router: respx.Router, no_wait: None
) -> None:
    """wait() on a task that ends in ERROR: the watch finished (ERROR, no error); wait() raises after."""
    router.get("/tts/t1").mock(side_effect=scripted("PENDING", "ERROR"))
    recorder = Recorder()
    async with make_client(router, on_event=recorder) as client:
        with pytest.raises(TaskFailedError):
            await client.tts.wait("t1")
    (end,) = recorder.of(WatchEnded)
    assert (status_of(end.status), end.error, end.abandoned) == ("ERROR", None, False)


async def test_a_watch_that_fails_ends_with_its_error_and_the_last_status(router: respx.Router) -> None:
    """The deadline ends a watch with the WatchTimeoutError it raises and the status seen last."""
    router.get("/tts/t1").mock(side_effect=always_pending)
    recorder = Recorder()
    async with make_client(router, on_event=recorder) as client:
        with pytest.raises(WatchTimeoutError) as raised:
            await client.tts.wait("t1", timeout=0.1)
    (end,) = recorder.of(WatchEnded)
    assert end.error is raised.value
    assert (status_of(end.status), end.abandoned) == ("PENDING", False)


async def test_a_watch_whose_poll_cannot_heal_ends_with_that_error(
    router: respx.Router, no_wait: None
) -> None:
    """A 404 ends the watch at once: its end carries the NotFoundError and no status."""
    router.get("/tts/gone").respond(404, json={"detail": "no such task"})
    recorder = Recorder()
    async with make_client(router, on_event=recorder) as client:
        with pytest.raises(NotFoundError) as raised:
            await client.tts.wait("gone")
    (end,) = recorder.of(WatchEnded)
    assert (end.status, end.error, end.abandoned) == (None, raised.value, False)
    (poll,) = recorder.of(RequestEnded)
    assert poll.status_code == 404
    assert isinstance(poll.error, NotFoundError)


async def test_breaking_out_of_a_watch_ends_it_as_abandoned(router: respx.Router, no_wait: None) -> None:
    """A break (the generator closed) ends the watch as abandoned, with the last status seen."""
    router.get("/tts/t1").mock(side_effect=always_pending)
    recorder = Recorder()
    async with (
        make_client(router, on_event=recorder) as client,
        aclosing(client.tts.watch("t1")) as statuses,
    ):
        async for _ in statuses:
            break
    (end,) = recorder.of(WatchEnded)
    assert (status_of(end.status), end.error, end.abandoned) == ("PENDING", None, True)


async def test_leaving_a_watch_at_its_terminal_status_is_not_abandoning_it(
    router: respx.Router, no_wait: None
) -> None:
    """A break right after the terminal status ends the watch as finished: nothing was left to see."""
    router.get("/tts/t1").mock(side_effect=scripted("PENDING", "SUCCESS"))
    recorder = Recorder()
    async with (
        make_client(router, on_event=recorder) as client,
        aclosing(client.tts.watch("t1")) as statuses,
    ):
        async for status in statuses:
            if status.is_terminal:
                break
    (end,) = recorder.of(WatchEnded)
    assert (status_of(end.status), end.error, end.abandoned) == ("SUCCESS", None, False)


async def test_a_cancelled_watch_ends_as_abandoned(router: respx.Router, no_wait: None) -> None:
    """A cancellation that reaches the watch ends it as abandoned, not as failed."""
    router.get("/tts/t1").mock(side_effect=always_pending)
    recorder = Recorder()
    async with make_client(router, on_event=recorder) as client:
        with anyio.move_on_after(0.05):
            await client.tts.wait("t1", timeout=None)
    (end,) = recorder.of(WatchEnded)
    assert (status_of(end.status), end.error, end.abandoned) == ("PENDING", None, True)


# -- requests, retries, pauses ----------------------------------------------------------


async def test_each_attempt_and_each_retry_is_reported(router: respx.Router, no_wait: None) -> None:
    """A 500 then a 200: two attempts, the retry between them, with status, error and request id."""
    router.get("/tts/t1").mock(
        side_effect=[
            httpx.Response(500, json={"detail": "boom"}),
            httpx.Response(200, json={"status": "PENDING"}, headers={"x-request-id": "req-2"}),
        ]
    )
    recorder = Recorder()
    before = time.time()
    async with make_client(router, on_event=recorder) as client:
        await client.tts.status("t1")
    after = time.time()
    assert recorder.kinds() == ["RequestEnded", "RetryScheduled", "RequestEnded"]
    failed, retry, answered = recorder.events
    assert isinstance(failed, RequestEnded)
    assert isinstance(retry, RetryScheduled)
    assert isinstance(answered, RequestEnded)
    assert (failed.attempt, failed.status_code, failed.request_id, failed.watch) == (1, 500, None, None)
    assert isinstance(failed.error, InternalServerError)
    assert (retry.method, retry.path, retry.retry, retry.max_retries, retry.reason) == (
        "GET",
        "/tts/t1",
        1,
        2,
        "500",
    )
    assert retry.delay > 0
    assert (answered.attempt, answered.status_code, answered.error, answered.request_id) == (
        2,
        200,
        None,
        "req-2",
    )
    assert before <= failed.started <= answered.started <= after
    assert 0 <= answered.duration <= after - before


async def test_an_attempt_without_an_answer_carries_the_error_raised(router: respx.Router) -> None:
    """No answer: no status code, and the error is the very one the call raises when it gives up."""
    router.get("/tts/t1").mock(side_effect=httpx.ConnectError("refused"))
    recorder = Recorder()
    async with make_client(router, on_event=recorder, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as raised:
            await client.tts.status("t1")
    (attempt,) = recorder.of(RequestEnded)
    assert attempt.status_code is None
    assert attempt.error is raised.value


async def test_an_unreadable_answer_is_reported_and_retried(router: respx.Router, no_wait: None) -> None:
    """A 2xx body the SDK cannot read: an attempt with a ResponseValidationError, then a retry."""
    router.get("/tts/t1").mock(
        side_effect=[httpx.Response(200, text="<html>proxy</html>"), answer("PENDING")]
    )
    recorder = Recorder()
    async with make_client(router, on_event=recorder) as client:
        await client.tts.status("t1")
    unreadable, retry, _ = recorder.events
    assert isinstance(unreadable, RequestEnded)
    assert unreadable.status_code == 200
    assert isinstance(unreadable.error, ResponseValidationError)
    assert isinstance(retry, RetryScheduled)
    assert retry.reason == "unreadable body"


async def test_a_429_pause_is_reported_and_logged_once_for_every_request_it_holds(
    router: respx.Router, no_wait: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Two requests get a 429 at once: one pause event and one warning, then both retry."""
    limited = httpx.Response(429, json={"detail": "slow down"}, headers={"retry-after": "2"})
    router.get("/tts/t1").mock(side_effect=[limited, answer("PENDING")])
    router.get("/tts/t2").mock(side_effect=[limited, answer("PENDING")])
    recorder = Recorder()
    caplog.set_level(logging.INFO, logger="camb_async")
    async with make_client(router, on_event=recorder) as client, anyio.create_task_group() as group:
        group.start_soon(client.tts.status, "t1")
        group.start_soon(client.tts.status, "t2")
    (pause,) = recorder.of(RateLimitPaused)
    assert (pause.seconds, pause.status_code, pause.watch) == (2.0, 429, None)
    assert len(recorder.of(RetryScheduled)) == 2
    (line,) = [r for r in caplog.records if "holding every request" in r.getMessage()]
    assert line.levelno == logging.WARNING
    assert "429" in line.getMessage()
    assert line.name == "camb_async"


async def test_a_503_pause_is_logged_at_info(
    router: respx.Router, no_wait: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A 503 pause is reported with its status and logged at INFO (the breaker warns of outages)."""
    router.get("/tts/t1").mock(side_effect=[httpx.Response(503, json={}), answer("PENDING")])
    recorder = Recorder()
    caplog.set_level(logging.INFO, logger="camb_async")
    async with make_client(router, on_event=recorder) as client:
        await client.tts.status("t1")
    (pause,) = recorder.of(RateLimitPaused)
    assert pause.status_code == 503
    (line,) = [r for r in caplog.records if "holding every request" in r.getMessage()]
    assert line.levelno == logging.INFO


async def test_a_pause_met_by_a_watch_names_the_watch(router: respx.Router, no_wait: None) -> None:
    """The retries and the pause of a watch's poll carry the watch's ref."""
    limited = httpx.Response(429, json={}, headers={"retry-after": "1"})
    router.get("/tts/t1").mock(side_effect=[limited, answer("SUCCESS", run_id=1)])
    recorder = Recorder()
    async with make_client(router, on_event=recorder) as client:
        await client.tts.wait("t1")
    (start,) = recorder.of(WatchStarted)
    pause, retry = recorder.of(RateLimitPaused)[0], recorder.of(RetryScheduled)[0]
    assert pause.watch == retry.watch == start.watch
    assert recorder.kinds()[1:4] == ["RequestEnded", "RateLimitPaused", "RetryScheduled"]


async def test_a_download_reports_each_hop_with_its_path_under_the_base_url(
    router: respx.Router, no_wait: None
) -> None:
    """A streamed call reports each answer it got: the redirect it followed, then the file."""
    router.get("/files/a.flac").respond(302, headers={"location": "/apis/files/b.flac"})
    router.get("/files/b.flac").respond(200, content=b"audio")
    recorder = Recorder()
    async with make_client(router, on_event=recorder) as client:
        await client.download_url("https://camb.test/apis/files/a.flac", io.BytesIO())
    assert [(e.path, e.status_code, e.error) for e in recorder.of(RequestEnded)] == [
        ("/files/a.flac", 302, None),
        ("/files/b.flac", 200, None),
    ]


# -- many tasks ------------------------------------------------------------------------


async def test_watch_many_reports_each_task_under_a_watch_of_its_own(
    router: respx.Router, no_wait: None
) -> None:
    """Every task starts before any poll; each poll, change and end names its task's watch."""
    router.get("/tts/a").mock(side_effect=scripted("PENDING", "SUCCESS"))
    router.get("/dub/b").mock(side_effect=scripted("PENDING", "PROCESSING", "ERROR"))
    recorder = Recorder()
    handle = TaskHandle(family="dubbing", task_id="b")
    tasks: list[str | TaskHandle] = ["a", handle]
    async with make_client(router, on_event=recorder) as client, client.watch_many(tasks) as watches:
        pairs = [pair async for pair in watches]
    assert len(pairs) == 5
    assert recorder.kinds()[:2] == ["WatchStarted", "WatchStarted"]
    refs = {event.watch.task_id: event.watch for event in recorder.of(WatchStarted)}
    assert (refs["a"].family, refs["b"].family) == ("tts", "dubbing")
    for poll in recorder.of(RequestEnded):
        assert poll.watch is not None
        assert poll.path.endswith("/" + poll.watch.task_id)
        assert poll.watch == refs[poll.watch.task_id]
    changes = recorder.of(StatusChanged)
    assert [status_of(e.status) for e in changes if e.watch == refs["b"]] == [
        "PENDING",
        "PROCESSING",
        "ERROR",
    ]
    ends = {end.watch.task_id: end for end in recorder.of(WatchEnded)}
    assert {k: (status_of(e.status), e.error, e.abandoned) for k, e in ends.items()} == {
        "a": ("SUCCESS", None, False),
        "b": ("ERROR", None, False),
    }


async def test_watch_many_ends_each_task_once_with_its_error_or_the_deadline(router: respx.Router) -> None:
    """A task that cannot be followed ends with its error; one still running at the deadline with
    the WatchTimeoutError it is handed back with."""
    router.get("/tts/gone").respond(404, json={"detail": "no such task"})
    router.get("/tts/never").mock(side_effect=always_pending)
    recorder = Recorder()
    async with make_client(router, on_event=recorder, max_retries=0) as client:
        outcomes = await client.wait_many(["gone", "never"], timeout=0.1)
    ends = {end.watch.task_id: end for end in recorder.of(WatchEnded)}
    assert len(recorder.of(WatchEnded)) == 2
    assert ends["gone"].error is outcomes[0]
    assert isinstance(ends["never"].error, WatchTimeoutError)
    assert ends["never"].error is outcomes[1]
    assert status_of(ends["never"].status) == "PENDING"


async def test_tasks_left_when_a_many_task_watch_closes_end_as_abandoned(
    router: respx.Router, no_wait: None
) -> None:
    """Breaking out of watch_many inside `async with` ends every task still followed as abandoned."""
    router.get("/tts/done").mock(side_effect=scripted("SUCCESS"))
    router.route(method="GET", path__regex=r"/tts/slow\d").mock(side_effect=always_pending)
    recorder = Recorder()
    async with (
        make_client(router, on_event=recorder) as client,
        client.watch_many(["done", "slow1", "slow2"]) as watches,
    ):
        async for task, _ in watches:
            if task == "done":
                break
    ends = {end.watch.task_id: end for end in recorder.of(WatchEnded)}
    assert len(recorder.of(WatchEnded)) == 3
    assert (status_of(ends["done"].status), ends["done"].abandoned) == ("SUCCESS", False)
    for task in ("slow1", "slow2"):
        assert (ends[task].error, ends[task].abandoned) == (None, True)
    assert recorder.kinds()[-2:] == ["WatchEnded", "WatchEnded"]


async def test_a_cancelled_wait_many_ends_its_tasks_as_abandoned(router: respx.Router, no_wait: None) -> None:
    """Cancelling wait_many ends each task it followed, once, as abandoned."""
    router.route(method="GET").mock(side_effect=always_pending)
    recorder = Recorder()
    async with make_client(router, on_event=recorder) as client:
        with anyio.move_on_after(0.05):
            await client.wait_many(["t1", "t2"])
    ends = recorder.of(WatchEnded)
    assert sorted(end.watch.task_id for end in ends) == ["t1", "t2"]
    assert all(end.abandoned and status_of(end.status) == "PENDING" for end in ends)


# -- hooks -----------------------------------------------------------------------------


async def test_hooks_run_in_order_and_one_that_raises_is_logged_and_skipped(
    router: respx.Router, caplog: pytest.LogCaptureFixture
) -> None:
    """A hook's exception is logged as a warning with its traceback; the call and the next hook go on."""
    router.get("/tts/t1").mock(return_value=answer("PENDING"))
    calls: list[str] = []

    def broken(event: CambEvent) -> None:
        calls.append("broken")
        raise RuntimeError("hook bug")

    def fine(event: CambEvent) -> None:
        calls.append("fine")

    async with make_client(router, on_event=[broken, fine]) as client:
        status = await client.tts.status("t1")
    assert status.status == TaskState.PENDING
    assert calls == ["broken", "fine"]
    (line,) = [r for r in caplog.records if "hook" in r.getMessage()]
    assert (line.name, line.levelno) == ("camb_async", logging.WARNING)
    assert line.exc_info is not None
    assert isinstance(line.exc_info[1], RuntimeError)
    assert "RequestEnded" in line.getMessage()


async def test_a_hook_that_raises_on_every_event_logs_one_warning(
    router: respx.Router, caplog: pytest.LogCaptureFixture
) -> None:
    """A hook failing on each of many events gives one WARNING (with its traceback), then DEBUG
    lines without one; each hook is judged on its own."""
    router.get("/tts/t1").mock(return_value=answer("PENDING"))

    def broken(event: CambEvent) -> None:
        raise RuntimeError("hook bug")

    def also_broken(event: CambEvent) -> None:
        raise ValueError("other bug")

    caplog.set_level(logging.DEBUG, "camb_async")
    async with make_client(router, on_event=[broken, also_broken]) as client:
        for _ in range(5):
            await client.tts.status("t1")
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [type(r.exc_info[1]) for r in warnings if r.exc_info] == [RuntimeError, ValueError]
    assert len(warnings) == 2
    again = [r for r in caplog.records if "raised again" in r.getMessage()]
    assert len(again) == 8
    assert all(r.levelno == logging.DEBUG and r.exc_info is None for r in again)


async def test_a_client_from_with_options_reports_to_the_same_hooks(router: respx.Router) -> None:
    """with_options() keeps the hooks, and its own options show in what it reports."""
    router.get("/tts/t1").mock(return_value=httpx.Response(500, json={}))
    recorder = Recorder()
    async with make_client(router, on_event=recorder) as client:
        with pytest.raises(InternalServerError):
            await client.with_options(max_retries=0).tts.status("t1")
    assert recorder.kinds() == ["RequestEnded"]


def test_on_event_refuses_what_is_not_callable() -> None:
    """A hook that cannot be called is refused when the client is made."""
    from camb_async import AsyncCambClient

    with pytest.raises(TypeError, match="on_event"):
        AsyncCambClient(API_KEY, on_event=["not a function"])  # type: ignore[list-item]


async def test_without_hooks_no_event_is_built_and_no_clock_is_read(
    router: respx.Router, no_wait: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No hook: not a single event object nor a wall-clock read, and a watch is the bare poll loop."""
    caplog.set_level(logging.INFO, logger="camb_async")  # DEBUG lines would need the watch's events

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("built or read without a hook")

    for kind in (RequestEnded, RetryScheduled, RateLimitPaused, WatchStarted, StatusChanged, WatchEnded):
        monkeypatch.setattr(kind, "__init__", refuse)
    # The request path's own clock: its round-trip timer stays, the wall clock refuses.
    monkeypatch.setattr(
        camb_async._requester, "time", SimpleNamespace(perf_counter=time.perf_counter, time=refuse)
    )
    router.get("/tts/t1").mock(
        side_effect=[
            httpx.Response(429, json={}, headers={"retry-after": "1"}),
            *scripted("PENDING", "SUCCESS"),
        ]
    )
    router.get("/tts/t2").mock(side_effect=scripted("SUCCESS"))
    async with make_client(router) as client:
        statuses = client.tts.watch("t1")
        assert getattr(statuses, "ag_code", None) is camb_async._polling.watch_status.__code__
        async with aclosing(statuses):
            assert [s.status async for s in statuses] == ["PENDING", "SUCCESS"]
        assert await client.wait_many(["t2"]) == [TaskStatus(status="SUCCESS", run_id=1)]


# -- logs ------------------------------------------------------------------------------


async def test_watch_start_and_end_are_logged_at_debug_without_a_hook(
    router: respx.Router, no_wait: None, caplog: pytest.LogCaptureFixture
) -> None:
    """With DEBUG on, each watch logs its start and how it ended, never the key."""
    router.get("/tts/t1").mock(side_effect=scripted("PENDING", "SUCCESS"))
    router.get("/tts/t2").mock(side_effect=always_pending)
    caplog.set_level(logging.DEBUG, logger="camb_async")
    async with make_client(router) as client:
        await client.tts.wait("t1")
        await client.wait_many(["t2"], timeout=0.05)
    lines = [r for r in caplog.records if r.getMessage().startswith("watch ")]
    assert all(r.levelno == logging.DEBUG for r in lines)
    texts = [r.getMessage() for r in lines]
    assert any("tts task t1 started" in t for t in texts)
    assert any("tts task t1 finished (SUCCESS)" in t for t in texts)
    assert any("tts task t2 failed with WatchTimeoutError (PENDING)" in t for t in texts)
    assert API_KEY not in caplog.text


async def test_giving_up_after_retries_is_a_warning_naming_the_error_and_path(
    router: respx.Router, no_wait: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A call that fails after its retries logs one warning with the error type and the path."""
    router.get("/tts/t1").mock(return_value=httpx.Response(503, json={"detail": "down"}))
    async with make_client(router, max_retries=1) as client:
        with pytest.raises(InternalServerError):
            await client.tts.status("t1")
    (line,) = [r for r in caplog.records if "giving up" in r.getMessage()]
    assert line.levelno == logging.WARNING
    assert line.getMessage().startswith("giving up on GET /tts/t1 after 1 retry: InternalServerError")
    assert API_KEY not in caplog.text


async def test_a_watch_poll_giving_up_is_only_a_debug_line(
    router: respx.Router, no_wait: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A watch's poll that fails after its retries is tried again by the watch: a DEBUG line only."""
    router.get("/tts/t1").mock(
        side_effect=[httpx.Response(500, json={}), httpx.Response(500, json={}), *scripted("SUCCESS")]
    )
    caplog.set_level(logging.DEBUG, logger="camb_async")
    async with make_client(router, max_retries=1) as client:
        await client.tts.wait("t1")
    (line,) = [r for r in caplog.records if "giving up" in r.getMessage()]
    assert line.levelno == logging.DEBUG


def test_events_are_immutable_and_typed_by_kind() -> None:
    """Events are frozen, keyword-only values under one base class."""
    watch = camb_async._events.new_watch("t1", "tts")
    event = WatchStarted(watch=watch)
    assert isinstance(event, CambEvent)
    with pytest.raises(AttributeError):
        event.watch = watch  # type: ignore[misc]
    with pytest.raises(TypeError):
        WatchStarted(watch)  # type: ignore[call-arg]
    assert camb_async._events.new_watch("t1", "tts").id > watch.id
