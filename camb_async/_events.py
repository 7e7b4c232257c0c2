"""What a client reports as it works: typed events for ``AsyncCambClient(on_event=...)``.

The request path reports each attempt (:class:`RequestEnded`), each retry it
schedules (:class:`RetryScheduled`) and each client-wide pause a 429/503 starts
(:class:`RateLimitPaused`); watches report their start, each status change and
their end. Every event of a watch's own polls carries the watch's
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
from typing import TYPE_CHECKING, TypeAlias

import anyio

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    import httpx

    from ._exceptions import CambError
    from ._models import TaskStatus

__all__ = [
    "UNNAMED_WATCH",
    "CambEvent",
    "Emitter",
    "EventHook",
    "RateLimitPaused",
    "RequestEnded",
    "RetryScheduled",
    "StatusChanged",
    "WatchEnded",
    "WatchRef",
    "WatchStarted",
    "emitter",
    "log_gave_up",
    "new_watch",
    "observed",
    "report_attempt",
    "report_pause",
    "watch_changed",
    "watch_ended",
    "watch_started",
]

log = logging.getLogger("camb_async")

_watch_ids = itertools.count(1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class WatchRef:
    """Which watch an event belongs to: one ``watch()``/``wait()``, or one task of a
    ``watch_many()``/``as_completed()``/``wait_many()``.

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
    """A watch saw its task's first status (``previous`` is ``None``) or a new one."""

    watch: WatchRef
    status: TaskStatus
    previous: TaskStatus | None


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
    status: TaskStatus | None
    error: BaseException | None
    abandoned: bool = False


EventHook: TypeAlias = Callable[[CambEvent], None]
"""A function the client calls with each event, synchronously: keep it quick and non-blocking."""


class Emitter:
    """Calls a client's hooks in order with each event; a hook's exception is logged
    (with its traceback) and the SDK call goes on."""

    __slots__ = ("hooks",)

    def __init__(self, hooks: tuple[EventHook, ...]) -> None:
        self.hooks: tuple[EventHook, ...] = hooks

    def __call__(self, event: CambEvent) -> None:
        for hook in self.hooks:
            try:
                hook(event)
            except Exception:
                log.warning(
                    "an on_event hook (%r) raised on %s; the SDK call goes on",
                    hook,
                    type(event).__name__,
                    exc_info=True,
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
    emit: Emitter | None, watch: WatchRef, status: TaskStatus, previous: TaskStatus | None
) -> None:
    if emit is not None:
        emit(StatusChanged(watch=watch, status=status, previous=previous))


def watch_ended(
    emit: Emitter | None,
    watch: WatchRef,
    status: TaskStatus | None,
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


def observed(emit: Emitter | None) -> bool:
    """Whether watches report anything: to a hook, or as DEBUG log lines."""
    return emit is not None or log.isEnabledFor(logging.DEBUG)


async def reported(
    statuses: AsyncGenerator[TaskStatus, None], emit: Emitter | None, watch: WatchRef
) -> AsyncGenerator[TaskStatus, None]:
    """``statuses`` (one watch's), reporting its start, each change and its end."""
    watch_started(emit, watch)
    last: TaskStatus | None = None
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
