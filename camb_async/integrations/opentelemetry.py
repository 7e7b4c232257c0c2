"""OpenTelemetry spans for camb_async: one span per watch, a child span per poll.

Pass the hook to the client (install ``camb-async[otel]``, and an SDK such as
``opentelemetry-sdk`` to export the spans)::

    from camb_async import AsyncCambClient
    from camb_async.integrations.opentelemetry import OpenTelemetryHook

    client = AsyncCambClient(on_event=OpenTelemetryHook())

What it records, from the client's events (docs/observability.md):

* each ``watch()``/``wait()``, and each task of ``watch_many()``/``as_completed()``/
  ``wait_many()``: a ``camb.watch`` span under the caller's current span, with the
  task's id, family and final status, a ``camb.status_changed`` event per status
  seen, and an error status when the watch fails or the task ends other than SUCCESS
  (a ``live_streams.watch()`` likewise, its stream an error only when it failed);
* each request attempt: an HTTP client span with the attempt's real start and end
  time, under its watch's span for a poll, else under the caller's current span
  (creates, results, downloads), named and described after OpenTelemetry's HTTP
  client conventions;
* each live session (``client.live_tts``, ``client.live_transcription``,
  ``client.realtime``): a ``camb.live_session`` span from its connect to its close,
  under the caller's current span, with its kind, URL, the server's session and run
  ids, a ``camb.live.ready`` event when the server accepted it, its close code, and
  an error status when it failed;
* each retry (``camb.retry``) and each client-wide 429/503 pause
  (``camb.rate_limit.pause``): an event on the watch's span, or else on the
  caller's current span.

It works on every transport (``transport="aiohttp"`` too): it reads the client's
own events, not the HTTP library's.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from camb_async import (
    LiveSessionEnded,
    LiveSessionReady,
    LiveSessionRef,
    LiveSessionStarted,
    LiveStream,
    RateLimitPaused,
    RequestEnded,
    RetryScheduled,
    StatusChanged,
    TaskState,
    WatchEnded,
    WatchRef,
    WatchStarted,
    __version__,
)

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, TracerProvider
    from opentelemetry.util.types import Attributes

    from camb_async import CambEvent, TaskStatus

__all__ = ["OpenTelemetryHook"]

WATCH_SPAN = "camb.watch"
"""The name of a watch's span."""
LIVE_SPAN = "camb.live_session"
"""The name of a live session's span."""


class OpenTelemetryHook:
    """An ``on_event`` hook that turns a client's events into OpenTelemetry spans.

    Args:
        tracer_provider: Where the spans go; by default the global one
            (``opentelemetry.trace.set_tracer_provider``).

    A watch's span stays open until the watch ends. A watch dropped without
    ending (a many-task iterator left without ``aclose()``) leaves no span
    behind: the hook holds open spans only as long as their watch exists.
    """

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        self._tracer = trace.get_tracer("camb_async", __version__, tracer_provider=tracer_provider)
        self._watches: weakref.WeakKeyDictionary[WatchRef, Span] = weakref.WeakKeyDictionary()
        self._live: weakref.WeakKeyDictionary[LiveSessionRef, Span] = weakref.WeakKeyDictionary()

    def __call__(self, event: CambEvent) -> None:
        if isinstance(event, RequestEnded):
            self._request(event)
        elif isinstance(event, WatchStarted):
            self._started(event.watch)
        elif isinstance(event, StatusChanged):
            self._changed(event)
        elif isinstance(event, WatchEnded):
            self._ended(event)
        elif isinstance(event, LiveSessionStarted | LiveSessionReady | LiveSessionEnded):
            self._live_session(event)
        elif isinstance(event, RetryScheduled):
            attributes: Attributes = {
                "http.request.method": event.method,
                "url.path": event.path,
                "camb.retry.number": event.retry,
                "camb.retry.max": event.max_retries,
                "camb.retry.delay": event.delay,
                "camb.retry.reason": event.reason,
            }
            self._span_of(event.watch).add_event("camb.retry", attributes)
        elif isinstance(event, RateLimitPaused):
            attributes = {"camb.pause.seconds": event.seconds, "http.response.status_code": event.status_code}
            self._span_of(event.watch).add_event("camb.rate_limit.pause", attributes)

    def _span_of(self, watch: WatchRef | None) -> Span:
        """The watch's span if it has one open, else the caller's current span."""
        span = None if watch is None else self._watches.get(watch)
        return trace.get_current_span() if span is None else span

    def _started(self, watch: WatchRef) -> None:
        self._watches[watch] = self._tracer.start_span(
            WATCH_SPAN,
            kind=SpanKind.INTERNAL,
            attributes={
                "camb.task.id": watch.task_id,
                "camb.task.family": watch.family,
                "camb.watch.id": watch.id,
            },
        )

    def _changed(self, event: StatusChanged) -> None:
        span = self._watches.get(event.watch)
        if span is None:
            return
        status = str(event.status.status)
        attributes = {"camb.task.status": status}
        if event.previous is not None:
            attributes["camb.task.previous_status"] = str(event.previous.status)
        span.add_event("camb.status_changed", attributes)
        span.set_attribute("camb.task.status", status)

    def _ended(self, event: WatchEnded) -> None:
        span = self._watches.pop(event.watch, None)
        if span is None:
            return
        final = event.status
        if final is not None:
            span.set_attribute("camb.task.status", str(final.status))
        if event.error is not None:
            _record_error(span, event.error)
        elif event.abandoned:
            span.set_attribute("camb.watch.abandoned", True)
        elif final is not None and _failed(final):
            span.set_attribute("error.type", str(final.status))
            span.set_status(Status(StatusCode.ERROR, f"the task ended with {final.status}"))
        span.end()

    def _live_session(self, event: LiveSessionStarted | LiveSessionReady | LiveSessionEnded) -> None:
        session = event.session
        if isinstance(event, LiveSessionStarted):
            self._live[session] = self._tracer.start_span(
                LIVE_SPAN,
                kind=SpanKind.CLIENT,
                attributes={
                    "camb.live.kind": session.kind,
                    "url.full": session.url,
                    "camb.live.id": session.id,
                },
            )
            return
        span = (
            self._live.get(session) if isinstance(event, LiveSessionReady) else self._live.pop(session, None)
        )
        if span is None:
            return
        if event.session_id is not None:
            span.set_attribute("camb.live.session_id", event.session_id)
        if event.run_id is not None:
            span.set_attribute("camb.live.run_id", event.run_id)
        if isinstance(event, LiveSessionReady):
            span.add_event("camb.live.ready")
            return
        if event.close_code is not None:
            span.set_attribute("camb.live.close_code", event.close_code)
        if event.error is not None:
            _record_error(span, event.error)
        elif event.abandoned:
            span.set_attribute("camb.live.abandoned", True)
        span.end()

    def _request(self, event: RequestEnded) -> None:
        watch = event.watch
        parent = None if watch is None else self._watches.get(watch)
        context: Context | None = None if parent is None else trace.set_span_in_context(parent)
        attributes: dict[str, str | int] = {"http.request.method": event.method, "url.path": event.path}
        name = event.method
        if watch is not None and watch.task_id in event.path:
            # A poll: its path with the task id taken out is a low-cardinality template.
            template = event.path.replace(watch.task_id, "{task_id}")
            attributes["url.template"] = template
            name = f"{event.method} {template}"
        if event.status_code is not None:
            attributes["http.response.status_code"] = event.status_code
        if event.attempt > 1:
            attributes["http.request.resend_count"] = event.attempt - 1
        if event.request_id is not None:
            attributes["camb.request_id"] = event.request_id
        start = int(event.started * 1e9)
        end = start + int(event.duration * 1e9)
        span = self._tracer.start_span(
            name, context=context, kind=SpanKind.CLIENT, attributes=attributes, start_time=start
        )
        error = event.error
        if event.status_code is not None and event.status_code >= 400:
            span.set_attribute("error.type", str(event.status_code))
            span.set_status(Status(StatusCode.ERROR))
        elif error is not None:
            _record_error(span, error, timestamp=end)
        span.end(end_time=end)


def _record_error(span: Span, error: BaseException, *, timestamp: int | None = None) -> None:
    """Mark ``span`` failed by ``error``: the exception, its qualified type as ``error.type``."""
    span.record_exception(error, timestamp=timestamp)
    kind = type(error)
    span.set_attribute("error.type", f"{kind.__module__}.{kind.__qualname__}")
    span.set_status(Status(StatusCode.ERROR, f"{kind.__name__}: {error}"))


def _failed(final: TaskStatus | LiveStream) -> bool:
    """Whether a watch's last status is a failed end: a task's other than SUCCESS, a stream's
    ERROR or TIMEOUT (a stream that stopped or ended did what it was for)."""
    if isinstance(final, LiveStream):
        return final.is_failed
    return final.status != TaskState.SUCCESS
