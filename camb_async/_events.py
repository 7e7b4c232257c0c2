"""What a client reports as it works: typed events for ``AsyncCambClient(on_event=...)``.

The request path reports each attempt (:class:`RequestEnded`), each retry it
schedules (:class:`RetryScheduled`) and each client-wide pause a 429/503 starts
(:class:`RateLimitPaused`); watches report their start, each status change and
their end; live sessions their start, the server's acceptance and their end
(:class:`LiveSessionEnded`). Every event of a watch's own polls carries the watch's
:class:`WatchRef`, so a hook can group them. Hooks run synchronously, in order,
on the task that made the event; an exception in a hook is logged and never
reaches the SDK call. With no hook, no event is built and no clock is read.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, TypeAlias, TypeVar

import anyio

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    import httpx

    from ._exceptions import CambError
    from ._models import TaskStatus
    from ._streams import LiveStream

__all__ = [
    "UNNAMED_WATCH",
    "CambEvent",
    "Emitter",
    "EventHook",
    "LiveSessionEnded",
    "LiveSessionReady",
    "LiveSessionRef",
    "LiveSessionStarted",
    "RateLimitPaused",
    "RequestEnded",
    "RetryScheduled",
    "StatusChanged",
    "WatchEnded",
    "WatchRef",
    "WatchStarted",
    "emitter",
    "live_ended",
    "live_ready",
    "live_started",
    "log_gave_up",
    "new_live_session",
    "new_watch",
    "observed",
    "report_attempt",
    "report_pause",
    "watch_changed",
    "watch_ended",
    "watch_started",
]

log = logging.getLogger("camb_async")

S = TypeVar("S", bound="TaskStatus | LiveStream")

_watch_ids = itertools.count(1)
_live_ids = itertools.count(1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class WatchRef:
    """Which watch an event belongs to: one ``watch()``/``wait()``, one task of a
    ``watch_many()``/``as_completed()``/``wait_many()``, or one ``live_streams.watch()``
    (``family`` ``"live_streams"``, ``task_id`` the stream id as a string).

    ``id`` counts watches in this process, so two watches of one task differ. A
    ref can be weakly referenced (it has no ``__slots__``): a hook may key what it
    keeps per watch on it in a ``weakref.WeakKeyDictionary`` and lose nothing
    when a watch is dropped without ending.
    """

    task_id: str
    family: str
    id: int


def new_watch(task_id: str, family: str) -> WatchRef:
    """A ref for a new watch of ``task_id``."""
    return WatchRef(task_id=task_id, family=family, id=next(_watch_ids))


UNNAMED_WATCH = WatchRef(task_id="", family="", id=0)
"""The watch a many-task poll names when nothing observes the watches (no hook, no DEBUG
log): no event is built then, and the request path still knows the call for a watch's
poll (its give-up line stays at DEBUG). Saves a ref per task of a many-task call."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CambEvent:
    """Base class of every event a client reports to its ``on_event`` hooks."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RequestEnded(CambEvent):
    """One attempt of an API call ended, whether it is retried or not.

    Attributes:
        method: The HTTP method.
        path: The path under the client's ``base_url`` (``/tts/{task_id}``); for a
            URL outside the API (a result file in storage), that URL's path. Never
            a query string, never a header.
        attempt: 1 for the first attempt, 2 for the first retry, and so on.
        status_code: The HTTP status of the answer; ``None`` when none came.
        error: The error this attempt ended with, as the SDK raises it when it
            gives up (an ``APIConnectionError``/``APITimeoutError`` when no answer
            came, an ``APIStatusError`` for an error status, a
            ``ResponseValidationError`` for an unreadable 2xx body); ``None``
            for a usable answer (or a redirect being followed).
        started: When the attempt began, in seconds since the epoch (``time.time()``),
            including any wait for a slot, an open circuit breaker or a 429 pause.
        duration: How long it took, in seconds, up to its answer's head for a
            streamed body (a download) and its whole body otherwise.
        request_id: The answer's ``x-request-id`` header, if any.
        watch: The watch whose poll this is; ``None`` for any other call.
    """

    method: str
    path: str
    attempt: int
    status_code: int | None
    error: Exception | None
    started: float
    duration: float
    request_id: str | None
    watch: WatchRef | None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RetryScheduled(CambEvent):
    """A failed attempt will be tried again after ``delay`` seconds.

    ``retry`` counts retries of this call from 1 up to ``max_retries``;
    ``reason`` says what failed: an HTTP status (``"503"``), an error type
    (``"ConnectError"``) or ``"unreadable body"``.
    """

    method: str
    path: str
    retry: int
    max_retries: int
    delay: float
    reason: str
    watch: WatchRef | None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitPaused(CambEvent):
    """A 429 or 503 answer started a pause of every request of the client (and of
    the clients ``with_options()`` made from it) for ``seconds``. Reported once
    per pause, not for each request it holds; ``watch`` is the watch whose poll
    got that answer, if any."""

    seconds: float
    status_code: int
    watch: WatchRef | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class WatchStarted(CambEvent):
    """A watch began following its task (its first poll is about to go)."""

    watch: WatchRef


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class StatusChanged(CambEvent):
    """A watch saw its task's first status (``previous`` is ``None``) or a new one; for a
    watch of a live stream, ``status`` and ``previous`` are :class:`LiveStream` answers."""

    watch: WatchRef
    status: TaskStatus | LiveStream
    previous: TaskStatus | LiveStream | None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class WatchEnded(CambEvent):
    """A watch stopped following its task.

    Three ways, told apart like this:

    * finished: ``status`` is terminal (SUCCESS, or a failed end such as ERROR),
      ``error`` is ``None`` and ``abandoned`` is false;
    * failed: ``error`` is what ended it (a ``WatchTimeoutError`` at the deadline,
      a poll's ``APIError`` that cannot heal, a closed client), ``status`` the last
      one seen, if any;
    * abandoned: the caller stopped first (``break``, ``aclose()``, a
      cancellation); ``abandoned`` is true, ``error`` is ``None`` and ``status`` is
      the last one seen, if any.
    """

    watch: WatchRef
    status: TaskStatus | LiveStream | None
    error: BaseException | None
    abandoned: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class LiveSessionRef:
    """Which live session an event belongs to.

    ``kind`` is ``"live_tts"``, ``"live_transcription"`` or ``"realtime"``; ``url`` the
    WebSocket URL it connects to (without a query); ``id`` counts live sessions in this
    process. Like :class:`WatchRef`, a ref can be weakly referenced.
    """

    kind: str
    url: str
    id: int


def new_live_session(kind: str, url: str) -> LiveSessionRef:
    """A ref for a new live session of ``kind`` to ``url``."""
    return LiveSessionRef(kind=kind, url=url, id=next(_live_ids))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LiveSessionStarted(CambEvent):
    """A live session is connecting (its WebSocket upgrade is about to go)."""

    session: LiveSessionRef


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LiveSessionReady(CambEvent):
    """The server accepted a live session (``session.ready``, ``Ready``,
    ``session.created``): ``session_id`` and ``run_id`` as it gave them, if any."""

    session: LiveSessionRef
    session_id: str | None
    run_id: int | None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LiveSessionEnded(CambEvent):
    """A live session's connection closed.

    * finished: the server ended it normally (close 1000); ``error`` is ``None`` and
      ``abandoned`` false;
    * failed: ``error`` is what ended it (a ``LiveSessionError``, an
      ``AuthenticationError`` at connect, or an exception of the caller's block);
    * abandoned: the caller left the ``async with`` first (``break``, a
      cancellation); ``abandoned`` is true and ``error`` is ``None``.

    ``close_code`` is the server's close code, if one came; ``session_id`` and
    ``run_id`` as the server gave them, if it did; ``duration`` is seconds since
    :class:`LiveSessionStarted`.
    """

    session: LiveSessionRef
    session_id: str | None
    run_id: int | None
    close_code: int | None
    error: BaseException | None
    abandoned: bool
    duration: float


EventHook: TypeAlias = Callable[[CambEvent], None]
"""A function the client calls with each event, synchronously: keep it quick and non-blocking."""


class Emitter:
    """Calls a client's hooks in order with each event; the SDK call goes on whatever a
    hook raises. A hook's first exception is logged as one WARNING with its traceback;
    its later ones at DEBUG, one line each: a hook that fails on every event would
    otherwise bury the log under a traceback per request."""

    __slots__ = ("_failed", "hooks")

    def __init__(self, hooks: tuple[EventHook, ...]) -> None:
        self.hooks: tuple[EventHook, ...] = hooks
        self._failed: set[int] = set()  # the positions of the hooks that raised before

    def __call__(self, event: CambEvent) -> None:
        for index, hook in enumerate(self.hooks):
            try:
                hook(event)
            except Exception as exc:  # noqa: BLE001 (a hook's bug never breaks the SDK call)
                self._report(index, hook, event, exc)

    def _report(self, index: int, hook: EventHook, event: CambEvent, exc: Exception) -> None:
        if index in self._failed:
            log.debug("the on_event hook %r raised again on %s: %r", hook, type(event).__name__, exc)
            return
        self._failed.add(index)
        log.warning(
            "an on_event hook (%r) raised on %s; the SDK call goes on (its later errors are logged at DEBUG)",
            hook,
            type(event).__name__,
            exc_info=exc,
        )


def emitter(on_event: EventHook | Sequence[EventHook] | None) -> Emitter | None:
    """The emitter of a client's ``on_event`` option; ``None`` when it has no hook.

    Raises:
        TypeError: A hook is not callable.
    """
    if on_event is None:
        return None
    hooks = (on_event,) if callable(on_event) else tuple(on_event)
    for hook in hooks:
        if not callable(hook):
            raise TypeError(f"on_event must be a callable or a sequence of callables, got {hook!r}")
    return Emitter(hooks) if hooks else None


# -- watches --------------------------------------------------------------------------


def watch_started(emit: Emitter | None, watch: WatchRef) -> None:
    log.debug("watch %d of %s task %s started", watch.id, watch.family, watch.task_id)
    if emit is not None:
        emit(WatchStarted(watch=watch))


def watch_changed(
    emit: Emitter | None,
    watch: WatchRef,
    status: TaskStatus | LiveStream,
    previous: TaskStatus | LiveStream | None,
) -> None:
    if emit is not None:
        emit(StatusChanged(watch=watch, status=status, previous=previous))


def watch_ended(
    emit: Emitter | None,
    watch: WatchRef,
    status: TaskStatus | LiveStream | None,
    error: BaseException | None = None,
    *,
    abandoned: bool = False,
) -> None:
    if error is not None:
        how = f"failed with {type(error).__name__}"
    elif abandoned:
        how = "was abandoned"
    else:
        how = "finished"
    shown = "no status" if status is None else str(status.status)
    log.debug("watch %d of %s task %s %s (%s)", watch.id, watch.family, watch.task_id, how, shown)
    if emit is not None:
        emit(WatchEnded(watch=watch, status=status, error=error, abandoned=abandoned))


# -- live sessions --------------------------------------------------------------------


def live_started(emit: Emitter | None, session: LiveSessionRef) -> None:
    log.debug("live session %d (%s) connecting to %s", session.id, session.kind, session.url)
    if emit is not None:
        emit(LiveSessionStarted(session=session))


def live_ready(
    emit: Emitter | None, session: LiveSessionRef, session_id: str | None, run_id: int | None
) -> None:
    log.debug(
        "live session %d (%s) ready: session_id %s, run_id %s", session.id, session.kind, session_id, run_id
    )
    if emit is not None:
        emit(LiveSessionReady(session=session, session_id=session_id, run_id=run_id))


def live_ended(
    emit: Emitter | None,
    session: LiveSessionRef,
    *,
    session_id: str | None,
    run_id: int | None,
    close_code: int | None,
    error: BaseException | None,
    abandoned: bool,
    clock: float,
) -> None:
    """Log and report a live session's end; ``clock`` is its start on ``time.perf_counter``."""
    if error is not None:
        how = f"failed with {type(error).__name__}"
    elif abandoned:
        how = "was left by its caller"
    else:
        how = "finished"
    log.debug("live session %d (%s) %s (close code %s)", session.id, session.kind, how, close_code)
    if emit is not None:
        emit(
            LiveSessionEnded(
                session=session,
                session_id=session_id,
                run_id=run_id,
                close_code=close_code,
                error=error,
                abandoned=abandoned,
                duration=time.perf_counter() - clock,
            )
        )


def observed(emit: Emitter | None) -> bool:
    """Whether watches report anything: to a hook, or as DEBUG log lines."""
    return emit is not None or log.isEnabledFor(logging.DEBUG)


async def reported(
    statuses: AsyncGenerator[S, None], emit: Emitter | None, watch: WatchRef
) -> AsyncGenerator[S, None]:
    """``statuses`` (one watch's), reporting its start, each change and its end."""
    watch_started(emit, watch)
    last: S | None = None
    try:
        async with aclosing(statuses):
            async for status in statuses:
                watch_changed(emit, watch, status, last)
                last = status
                yield status
    except (GeneratorExit, anyio.get_cancelled_exc_class()):
        # A caller that leaves right after the terminal status has seen the watch to its end.
        watch_ended(emit, watch, last, abandoned=last is None or not last.is_terminal)
        raise
    except BaseException as error:
        watch_ended(emit, watch, last, error)
        raise
    watch_ended(emit, watch, last)  # watch_status() ends only after a terminal status


def report_attempt(
    emit: Emitter,
    method: str,
    path: str,
    retries: int,
    began: float,
    clock: float,
    watch: WatchRef | None,
    response: httpx.Response | None,
    error: CambError | None,
) -> None:
    """Report an attempt that began at ``began`` (``time.time()``; ``clock`` on ``perf_counter``)."""
    emit(
        RequestEnded(
            method=method,
            path=path,
            attempt=retries + 1,
            status_code=None if response is None else response.status_code,
            error=error,
            started=began,
            duration=time.perf_counter() - clock,
            request_id=None if response is None else response.headers.get("x-request-id"),
            watch=watch,
        )
    )


def log_gave_up(method: str, path: str, retries: int, error: CambError, watch: WatchRef | None) -> None:
    """Log a call that failed after retries: a warning, or a debug line for a watch's poll
    (the watch tries again on its schedule; the circuit breaker warns of an outage)."""
    if retries:
        log.log(
            logging.DEBUG if watch is not None else logging.WARNING,
            "giving up on %s %s after %d %s: %s: %s",
            method,
            path,
            retries,
            "retry" if retries == 1 else "retries",
            type(error).__name__,
            error,
        )


def report_pause(
    emit: Emitter | None, method: str, path: str, seconds: float, status_code: int, watch: WatchRef | None
) -> None:
    """Log and report a new client-wide pause: a warning for a 429 (the client sends more
    than the key may), an info line for a 503 (the circuit breaker warns of an outage)."""
    log.log(
        logging.WARNING if status_code == 429 else logging.INFO,
        "%s %s got %d: holding every request of this client for %.2f s",
        method,
        path,
        status_code,
        seconds,
    )
    if emit is not None:
        emit(RateLimitPaused(seconds=seconds, status_code=status_code, watch=watch))
