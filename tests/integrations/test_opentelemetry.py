"""camb_async.integrations.opentelemetry over the real simulator (TCP), on both transports:
a span per watch with its polls as child spans, retries and pauses as span events, error status."""

from __future__ import annotations

import time
from contextlib import aclosing
from typing import TYPE_CHECKING

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from support import API_KEY, refused_url

from camb_async import (
    APIConnectionError,
    AsyncCambClient,
    AuthenticationError,
    CambEvent,
    PollSchedule,
    RequestEnded,
    StatusChanged,
    TaskFailedError,
    TaskHandle,
    TaskStatus,
    WatchEnded,
    WatchRef,
    WatchTimeoutError,
)
from camb_async.integrations.opentelemetry import OpenTelemetryHook
from camb_async.testing import FaultPlan, LiveFaults, Simulator

if TYPE_CHECKING:
    from collections.abc import Iterator

on_each_transport = pytest.mark.parametrize(
    ("anyio_backend", "transport"),
    [("asyncio", "httpx"), ("trio", "httpx"), ("asyncio", "aiohttp")],
    ids=["asyncio-httpx", "trio-httpx", "asyncio-aiohttp"],
)
"""Both transports; aiohttp runs only on asyncio."""

FAST = PollSchedule(initial=0.05, fast=0.05, steady=0.05, growth=0.0, maximum=0.05)
"""A poll every 0.05 s: short tasks end within a few polls."""


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A simulator of this test's own, whose tasks from creates last 0.1 to 0.2 s."""
    with Simulator(durations=(0.1, 0.2), seed=3) as simulator:
        yield simulator


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    """Keeps every span it is given, for the test to read."""
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    """A tracer provider exporting each ended span to ``exporter`` at once."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def client_for(
    sim: Simulator, provider: TracerProvider, transport: str, **options: object
) -> AsyncCambClient:
    return AsyncCambClient(
        API_KEY,
        base_url=sim.url,
        transport="aiohttp" if transport == "aiohttp" else "httpx",
        poll_schedule=FAST,
        on_event=OpenTelemetryHook(provider),
    )


def named(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def children(spans: tuple[ReadableSpan, ...], parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    return [
        span for span in spans if span.parent is not None and span.parent.span_id == parent.context.span_id
    ]


def times(span: ReadableSpan) -> tuple[int, int]:
    assert span.start_time is not None
    assert span.end_time is not None
    return span.start_time, span.end_time


@pytest.mark.anyio
@on_each_transport
async def test_a_wait_is_one_span_with_each_poll_as_a_child_span(
    sim: Simulator, provider: TracerProvider, exporter: InMemorySpanExporter, transport: str
) -> None:
    """The create is a span under the caller's span; the wait one ``camb.watch`` span under it
    too, whose child spans are its polls, each within the watch's time, as HTTP client spans."""
    tracer = provider.get_tracer("test")
    async with client_for(sim, provider, transport) as client:
        with tracer.start_as_current_span("job") as job:
            task_id = await client.tts.create(text="Hello", voice_id=1, language="en-us")
            await client.tts.wait(task_id)
    spans = exporter.get_finished_spans()
    (watch,) = named(spans, "camb.watch")
    (create,) = named(spans, "POST")
    assert watch.parent is not None
    assert create.parent is not None
    assert watch.parent.span_id == create.parent.span_id == job.get_span_context().span_id
    assert watch.attributes is not None
    assert dict(watch.attributes) == {
        "camb.task.id": task_id,
        "camb.task.family": "tts",
        "camb.watch.id": watch.attributes["camb.watch.id"],
        "camb.task.status": "SUCCESS",
    }
    assert watch.status.status_code == StatusCode.UNSET
    assert [event.name for event in watch.events][-1] == "camb.status_changed"
    polls = children(spans, watch)
    assert len(polls) >= 2  # PENDING, then SUCCESS 0.1 to 0.2 s later
    begin, end = times(watch)
    for poll in polls:
        assert poll.name == "GET /tts/{task_id}"
        assert poll.kind == SpanKind.CLIENT
        assert poll.attributes is not None
        assert poll.attributes["http.request.method"] == "GET"
        assert poll.attributes["url.path"] == f"/tts/{task_id}"
        assert poll.attributes["http.response.status_code"] == 200
        start, stop = times(poll)
        assert begin <= start <= stop <= end


@pytest.mark.anyio
@on_each_transport
async def test_retries_and_a_pause_are_events_of_the_watch_span(
    sim: Simulator, provider: TracerProvider, exporter: InMemorySpanExporter, transport: str
) -> None:
    """A 429 and a 503 before the answer: two failed child spans with error status, and the
    pause and the retries as events of the watch's span."""
    task_id = sim.add_task([("SUCCESS", 0.0)])
    sim.set_faults(FaultPlan(script=["429", "503"]))
    async with client_for(sim, provider, transport) as client:
        await client.tts.wait(task_id)
    spans = exporter.get_finished_spans()
    (watch,) = named(spans, "camb.watch")
    polls = sorted(children(spans, watch), key=lambda span: times(span)[0])
    codes = [poll.attributes["http.response.status_code"] for poll in polls if poll.attributes]
    assert codes == [429, 503, 200]
    for poll, resent in zip(polls, [None, 1, 2], strict=True):
        assert poll.attributes is not None
        assert poll.attributes.get("http.request.resend_count") == resent
    for failed, code in zip(polls[:2], ["429", "503"], strict=True):
        assert failed.status.status_code == StatusCode.ERROR
        assert failed.attributes is not None
        assert failed.attributes["error.type"] == code
    events = [
        (
            event.name,
            event.attributes.get("http.response.status_code", event.attributes.get("camb.retry.reason")),
        )
        for event in watch.events
        if event.name != "camb.status_changed" and event.attributes is not None
    ]
    assert events == [
        ("camb.rate_limit.pause", 429),
        ("camb.retry", "429"),
        ("camb.rate_limit.pause", 503),
        ("camb.retry", "503"),
    ]


@pytest.mark.anyio
@on_each_transport
async def test_a_watch_that_fails_or_sees_a_failed_task_has_error_status(
    sim: Simulator, provider: TracerProvider, exporter: InMemorySpanExporter, transport: str
) -> None:
    """The deadline: an error span with the exception; a task ending in ERROR: an error span too."""
    slow = sim.add_task([("PENDING", 0.0), ("SUCCESS", 60.0)])
    failing = sim.add_task([("PENDING", 0.0), ("ERROR", 0.1)], exception_reason="bad input")
    async with client_for(sim, provider, transport) as client:
        with pytest.raises(WatchTimeoutError):
            await client.tts.wait(slow, timeout=0.2)
        with pytest.raises(TaskFailedError):
            await client.tts.wait(failing)
    timed_out, failed = named(exporter.get_finished_spans(), "camb.watch")
    assert timed_out.status.status_code == StatusCode.ERROR
    assert timed_out.attributes is not None
    assert timed_out.attributes["error.type"] == "camb_async.WatchTimeoutError"
    assert timed_out.attributes["camb.task.status"] == "PENDING"
    assert "exception" in [event.name for event in timed_out.events]
    assert failed.status.status_code == StatusCode.ERROR
    assert failed.attributes is not None
    assert (failed.attributes["error.type"], failed.attributes["camb.task.status"]) == ("ERROR", "ERROR")


@pytest.mark.anyio
@on_each_transport
async def test_a_stream_watch_is_an_error_span_only_when_the_stream_failed(
    sim: Simulator, provider: TracerProvider, exporter: InMemorySpanExporter, transport: str
) -> None:
    """A live stream stopped by its owner ends a span without error; one whose source fails, with one."""
    target = {"languages": [76], "url": "rtmp://out.test/fr", "type": 1}
    async with client_for(sim, provider, transport) as client:
        for url in ("rtmp://source.test/live", "rtmp://unreachable.test/live"):
            created = await client.live_streams.create(
                source_stream={"language": 1, "url": url}, target_streams=[target]
            )
            async with aclosing(client.live_streams.watch(created.stream_id)) as streams:
                async for stream in streams:
                    if stream.is_live:
                        await client.live_streams.delete(created.stream_id)
    stopped, failed = named(exporter.get_finished_spans(), "camb.watch")
    assert stopped.attributes is not None
    assert stopped.attributes["camb.task.family"] == "live_streams"
    assert stopped.attributes["camb.task.status"] == "STOPPED"
    assert stopped.status.status_code == StatusCode.UNSET
    assert failed.attributes is not None
    assert failed.attributes["camb.task.status"] == "ERROR"
    assert failed.status.status_code == StatusCode.ERROR


@pytest.mark.anyio
@on_each_transport
async def test_each_task_of_wait_many_is_a_watch_span_with_its_own_polls(
    sim: Simulator, provider: TracerProvider, exporter: InMemorySpanExporter, transport: str
) -> None:
    """wait_many over two families: one span per task, each poll under its own task's span."""
    tts = sim.add_task([("PENDING", 0.0), ("SUCCESS", 0.1)])
    dub = sim.add_task([("PENDING", 0.0), ("SUCCESS", 0.15)], family="dubbing")
    async with client_for(sim, provider, transport) as client:
        await client.wait_many([tts, TaskHandle(family="dubbing", task_id=dub)])
    spans = exporter.get_finished_spans()
    watches = {
        str(span.attributes["camb.task.id"]): span for span in named(spans, "camb.watch") if span.attributes
    }
    assert set(watches) == {tts, dub}
    for task_id, watch in watches.items():
        paths = [p.attributes["url.path"] for p in children(spans, watch) if p.attributes]
        assert paths
        assert all(str(path).endswith(f"/{task_id}") for path in paths)


@pytest.mark.anyio
@on_each_transport
async def test_a_call_without_an_answer_is_an_error_span_under_the_current_span(
    provider: TracerProvider, exporter: InMemorySpanExporter, transport: str
) -> None:
    """A refused connection: a client span with the exception and error.type, under the caller's span."""
    tracer = provider.get_tracer("test")
    async with AsyncCambClient(
        API_KEY,
        base_url=refused_url(),
        transport="aiohttp" if transport == "aiohttp" else "httpx",
        max_retries=0,
        on_event=OpenTelemetryHook(provider),
    ) as client:
        with tracer.start_as_current_span("job"), pytest.raises(APIConnectionError):
            await client.voices.list()
    spans = exporter.get_finished_spans()
    (job,) = named(spans, "job")
    (call,) = children(spans, job)
    assert call.status.status_code == StatusCode.ERROR
    assert call.attributes is not None
    assert call.attributes["error.type"] == "camb_async.APIConnectionError"
    assert "http.response.status_code" not in call.attributes
    assert "exception" in [event.name for event in call.events]
    assert trace.get_current_span() is trace.INVALID_SPAN


@pytest.mark.anyio
@on_each_transport
async def test_an_abandoned_watch_is_a_span_marked_so_without_error(
    sim: Simulator, provider: TracerProvider, exporter: InMemorySpanExporter, transport: str
) -> None:
    """Leaving a watch before its task ends: the span ends, marked abandoned, with no error status."""
    task_id = sim.add_task([("PENDING", 0.0), ("SUCCESS", 60.0)])
    async with (
        client_for(sim, provider, transport) as client,
        aclosing(client.tts.watch(task_id)) as statuses,
    ):
        async for _ in statuses:
            break
    (watch,) = named(exporter.get_finished_spans(), "camb.watch")
    assert watch.attributes is not None
    assert (watch.attributes["camb.watch.abandoned"], watch.attributes["camb.task.status"]) == (
        True,
        "PENDING",
    )
    assert watch.status.status_code == StatusCode.UNSET


def test_the_hook_reads_request_ids_and_ignores_what_it_does_not_follow(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """A request id becomes an attribute; changes and ends of watches it never saw start, and
    events of kinds it does not know, make no span and no error."""
    hook = OpenTelemetryHook(provider)
    stranger = WatchRef(task_id="t1", family="tts", id=-1)
    hook(StatusChanged(watch=stranger, status=TaskStatus(status="PENDING"), previous=None))
    hook(WatchEnded(watch=stranger, status=None, error=None))
    hook(CambEvent())
    hook(
        RequestEnded(
            method="GET",
            path="/list-voices",
            attempt=1,
            status_code=200,
            error=None,
            started=time.time(),
            duration=0.01,
            request_id="req-1",
            watch=None,
        )
    )
    (span,) = exporter.get_finished_spans()
    assert span.name == "GET"
    assert span.attributes is not None
    assert span.attributes["camb.request_id"] == "req-1"
    start, end = times(span)
    assert end - start == 10_000_000


@pytest.mark.anyio
async def test_a_live_session_is_one_span_with_its_ids_and_close(
    sim: Simulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """A live TTS session: one client span from connect to close, under the caller's span, with
    the server's session and run ids, a ready event and the normal close code."""
    tracer = provider.get_tracer("test")
    async with client_for(sim, provider, "httpx") as client:
        with tracer.start_as_current_span("caller"):
            async with client.live_tts.speak("Hello there.", voice_id=1) as audio:
                assert b"".join([chunk async for chunk in audio]) == b"Hello there."
    spans = exporter.get_finished_spans()
    (caller,) = named(spans, "caller")
    (live,) = named(spans, "camb.live_session")
    assert live.kind == SpanKind.CLIENT
    assert children(spans, caller) == [live]
    assert live.attributes is not None
    assert live.attributes["camb.live.kind"] == "live_tts"
    assert str(live.attributes["url.full"]).endswith("/apis/live-tts/ws")
    assert isinstance(live.attributes["camb.live.session_id"], str)
    assert isinstance(live.attributes["camb.live.run_id"], int)
    assert live.attributes["camb.live.close_code"] == 1000
    assert [event.name for event in live.events] == ["camb.live.ready"]
    assert live.status.status_code == StatusCode.UNSET


@pytest.mark.anyio
async def test_a_failed_live_session_has_error_status_and_a_left_one_is_marked_abandoned(
    sim: Simulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """A session the server refuses (a bad key: close 4401) is an error span with its close code;
    one the caller leaves before the server ends it is marked abandoned, without error."""
    sim.set_live_faults(LiveFaults(reject_key=True))
    try:
        async with client_for(sim, provider, "httpx") as client:
            with pytest.raises(AuthenticationError):
                async with client.live_tts.connect(voice_id=1):
                    pass
    finally:
        sim.set_live_faults(None)
    async with client_for(sim, provider, "httpx") as client, client.live_tts.connect(voice_id=1):
        pass
    failed, left = named(exporter.get_finished_spans(), "camb.live_session")
    assert failed.attributes is not None
    assert failed.attributes["camb.live.close_code"] == 4401
    assert str(failed.attributes["error.type"]).endswith("AuthenticationError")
    assert failed.status.status_code == StatusCode.ERROR
    assert API_KEY not in str(failed.status.description)
    assert left.attributes is not None
    assert left.attributes["camb.live.abandoned"] is True
    assert left.status.status_code == StatusCode.UNSET
