"""The one request path every API call takes: limits, retries, the 429 pause, typed errors.

:meth:`Requester.request` sends a call and parses its whole answer;
:meth:`Requester.stream` opens one whose body is read as it arrives (downloads,
``tts-stream``). Both retry as docs/retries.md says: a request marked
``idempotent`` on any transient failure, any other only when it surely never
left this machine. Polls and other small calls share the adaptive limit on
requests in flight (``_limiter``); streams take a slot of their own, apart
from it, so that long transfers never starve polls and never count as slow
round trips. When each request may go (circuit breaker, limits, pause, request
budget) is ``_admission``'s to say.

Every path out is a parsed value, an open response, or a ``CambError``; a
cancellation is never caught.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx
import pydantic

from ._admission import answered, clear_at_once, clear_to_send, unanswered
from ._breaker import BREAKER_THRESHOLD, PROBE_INTERVAL
from ._capture import record
from ._clock import DeadlinePassed, sleep
from ._events import RetryScheduled, log_gave_up, report_attempt, report_pause
from ._exceptions import CambError, ClientClosedError, make_status_error
from ._failures import cause_unless_it_shows_the_key, status_error, transport_error, unreadable
from ._retry import (
    INITIAL_RETRY_DELAY,
    MAX_RETRY_DELAY,
    parse_retry_after,
    retry_delay,
    should_retry_exception,
    should_retry_response,
)
from ._state import Lifecycle, LoopState, Pool, honour_pause
from ._transport import error_classes, true_transport_error
from ._types import NOT_GIVEN, NotGiven

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Mapping, Sequence

    from ._events import Emitter, WatchRef
    from ._shared_budget import SharedBudgetSource
    from ._transport import HttpClientBuilder
    from ._types import Priority

__all__ = ["Requester"]

log = logging.getLogger("camb_async")
T = TypeVar("T")

_MAX_REDIRECTS = 5
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})


class Requester:
    """Sends API calls for one client (see the module docstring).

    Args:
        base_url: The API root, without a trailing slash.
        headers: Sent with every API request (the key among them); never to another host.
        http_client: The caller's client, or ``None`` to build one with ``builder``.
        builder: Builds the SDK's own client on first use, inside the event loop.
        send_options: What each request passes to httpx beyond method and URL.
        max_retries: Retries of a failed request.
        retry_backoff: ``(first, most)``: the backoff before a retry the server gave no
            hint for starts at ``first`` seconds and doubles up to ``most``.
        breaker: ``(threshold, probe_interval)`` of the circuit breaker (``_breaker``).
        max_concurrent_requests: Ceiling of the adaptive limit on requests in flight.
        max_concurrent_transfers: Streamed transfers at once, apart from that limit.
        breaker_wait: How long a request waits on an open circuit breaker
            (``_breaker``) before failing unsent, unless it says otherwise.
        emit: Reports each attempt, retry and 429/503 pause to the client's
            ``on_event`` hooks (``_events``); ``None`` when it has none.
        max_requests_per_second: The request budget (``_budget``); ``None`` learns one
            from the server's rate limiting.
        shared_budget: Where the budget is shared with a fleet (``_shared_budget``), or ``None``.
    """

    def __init__(
        self,
        *,
        base_url: str,
        headers: dict[str, str],
        http_client: httpx.AsyncClient | None,
        builder: HttpClientBuilder | None,
        send_options: dict[str, Any],
        max_retries: int,
        max_concurrent_requests: int,
        max_concurrent_transfers: int,
        breaker_wait: float,
        emit: Emitter | None = None,
        max_requests_per_second: float | None = None,
        shared_budget: SharedBudgetSource | None = None,
        retry_backoff: tuple[float, float] = (INITIAL_RETRY_DELAY, MAX_RETRY_DELAY),
        breaker: tuple[int, float] = (BREAKER_THRESHOLD, PROBE_INTERVAL),
    ) -> None:
        self.base_url: str = base_url
        self.headers: dict[str, str] = headers
        self.max_retries: int = max_retries
        self.retry_backoff: tuple[float, float] = retry_backoff
        self.emit: Emitter | None = emit
        self.lifecycle: Lifecycle = Lifecycle(owns_http=http_client is None)
        self._origin = httpx.URL(base_url).copy_with(path="/", query=None, fragment=None)
        # What the HTTP client raises: httpx's errors, and httpx2's for an httpx2 client.
        self.http_errors: tuple[type[Exception], ...]
        self.http_errors, self._transport_errors = error_classes(http_client)
        self._send_options = send_options
        self._breaker_wait = breaker_wait
        self._pool = Pool(
            http_client,
            builder,
            max_concurrent_requests,
            max_concurrent_transfers,
            max_requests_per_second,
            shared_budget,
            breaker,
        )

    def derive(
        self,
        *,
        max_retries: int,
        send_options: dict[str, Any],
        breaker_wait: float,
        retry_backoff: tuple[float, float],
    ) -> Requester:
        """A requester with other per-call options over this one's pool, limits, pause,
        breaker and event hooks; closing it closes neither this requester nor the pool."""
        derived = copy.copy(self)
        derived.max_retries = max_retries
        derived.retry_backoff = retry_backoff
        derived._send_options = send_options
        derived._breaker_wait = breaker_wait
        derived.lifecycle = Lifecycle(owns_http=False, parent=self.lifecycle)
        return derived

    @property
    def max_in_flight(self) -> int:
        """The ceiling of the client's limit on requests in flight (``max_concurrent_requests``)."""
        return self._pool.max_concurrent

    @property
    def api_key(self) -> str:
        return self.headers["x-api-key"]

    # -- whole answers -------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        parse: Callable[[httpx.Response], T],
        *,
        json: object = None,
        params: Mapping[str, str | int | bool] | None = None,
        files: Sequence[tuple[str, Any]] | None = None,
        data: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        breaker_wait: float | NotGiven | None = NOT_GIVEN,
        watch: WatchRef | None = None,
        priority: Priority | None = None,
        deadline_in: float | None = None,
    ) -> T:
        """Send one API call, retrying as docs/retries.md says, and parse its answer.

        ``idempotent`` defaults to whether ``method`` is (GET, HEAD, PUT,
        DELETE); a POST that only reads (batch results) passes ``True``.
        ``breaker_wait`` bounds the wait on an open circuit breaker (``None``:
        as long as it takes, as a watch's polls do); by default the client's.
        ``watch`` is the watch this call polls for, named in its events, and
        ``priority`` its poll's rank in the request budget's line (``None``: the
        highest, as for every call that is not a poll). ``deadline_in`` seconds from now
        the call ends with ``DeadlinePassed`` (a poll's watch's deadline), whether it waits,
        is in flight or backs off before a retry (``None``: no deadline).
        """
        state = self._loop_state()
        emit = self.emit
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        url = self.base_url + path
        options = self._options(json=json, params=params, files=files, data=data)
        wait = self._breaker_wait if isinstance(breaker_wait, NotGiven) else breaker_wait
        deadline = math.inf if deadline_in is None else anyio.current_time() + deadline_in
        retries = 0
        began = clock = 0.0
        while True:
            if self.lifecycle.closed:
                raise ClientClosedError("the client was closed while the request waited to retry")
            if emit is not None:
                began, clock = time.time(), time.perf_counter()
            try:
                if files is None:
                    # The slot is waited for here, in this frame, before _send opens its
                    # cancel scope: thousands of polls may wait in line at once.
                    held = _waits_in_line(state)
                    if held and not state.limiter.try_acquire():
                        place = state.limiter.line(deadline)
                        try:
                            await place
                        except BaseException:
                            state.limiter.leave(place)
                            raise
                        if not state.limiter.served(place):
                            raise DeadlinePassed
                        if state.limiter.closed:  # aclose() came after its slot, before it woke
                            state.limiter.release()
                            raise ClientClosedError("the client was closed during the request")
                    response = await self._send(
                        state, method, url, options, wait, held=held, priority=priority, deadline=deadline
                    )
                else:  # an upload: a transfer slot, apart from the polls' limit and round trips
                    async with state.transfers:
                        response = await self._send(state, method, url, options, wait, transfer=True)
            except self.http_errors as raised:
                exc = true_transport_error(raised)
                error = self.transport_error(exc, method, url, idempotent=idempotent)
                if emit is not None:
                    report_attempt(emit, method, path, retries, began, clock, watch, None, error)
                if retries < self.max_retries and should_retry_exception(exc, idempotent=idempotent):
                    retries += 1
                    await self.backoff(
                        retries, type(exc).__name__, method, path, watch=watch, deadline=deadline
                    )
                    continue
                log_gave_up(method, path, retries, error, watch)
                raise error from exc
            except anyio.ClosedResourceError:
                if not self.lifecycle.closed:
                    raise
                raise ClientClosedError("the client was closed during the request") from None
            except RuntimeError as exc:
                if self.lifecycle.closed:
                    raise ClientClosedError("the client was closed during the request") from exc
                raise
            if 200 <= response.status_code < 300:  # is_success, without its two calls
                try:
                    value = parse(response)
                except (ValueError, pydantic.ValidationError) as exc:
                    error = unreadable(response, exc)
                    if emit is not None:
                        report_attempt(emit, method, path, retries, began, clock, watch, response, error)
                    if idempotent and retries < self.max_retries:
                        retries += 1
                        await self.backoff(
                            retries, "unreadable body", method, path, watch=watch, deadline=deadline
                        )
                        continue
                    log_gave_up(method, path, retries, error, watch)
                    raise error from cause_unless_it_shows_the_key(exc, response)
                if emit is not None:
                    report_attempt(emit, method, path, retries, began, clock, watch, response, None)
                return value
            error = self.status_error(response, idempotent=idempotent)
            if emit is not None:
                report_attempt(emit, method, path, retries, began, clock, watch, response, error)
            if retries < self.max_retries and should_retry_response(response, idempotent=idempotent):
                retries += 1
                await self.backoff(
                    retries,
                    str(response.status_code),
                    method,
                    path,
                    response=response,
                    state=state,
                    watch=watch,
                    deadline=deadline,
                )
                continue
            log_gave_up(method, path, retries, error, watch)
            raise error

    def _options(
        self,
        *,
        json: object,
        params: Mapping[str, str | int | bool] | None,
        files: Sequence[tuple[str, Any]] | None,
        data: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        if json is None and params is None and files is None and data is None:
            return self._send_options  # the hot path: a status poll
        options = dict(self._send_options)
        if json is not None:
            options["json"] = json
        if params is not None:
            options["params"] = {k: _query_value(v) for k, v in params.items()}
        if files is not None:
            options["files"] = files
        if data is not None:
            options["data"] = data
        return options

    async def _send(
        self,
        state: LoopState,
        method: str,
        url: str,
        options: dict[str, Any],
        breaker_wait: float | None,
        *,
        transfer: bool = False,
        held: bool = False,
        priority: Priority | None = None,
        deadline: float = math.inf,
    ) -> httpx.Response:
        """Send once through the pool, within the client's limit on requests in flight
        (a ``transfer`` holds a transfer slot instead) and once the circuit breaker lets it,
        by ``deadline`` (on the event loop's clock; ``DeadlinePassed`` after it).

        ``held``: the request took its slot before (``_waits_in_line``), holding no cancel
        scope while it waited: thousands of polls may wait in line at once, and a scope
        with its sets and timer costs about 0.8 KiB. ``aclose()`` closes the line
        (``RequestLimiter.close``) and cancels the scopes."""
        limiter = state.limiter
        breaker = state.breaker
        with state.cancel_scope(deadline=deadline) as scope:
            state.sending.add(scope)
            try:
                probe = False
                if not clear_at_once(state, slot=not (transfer or held)):
                    probe = await clear_to_send(
                        self._pool,
                        state,
                        breaker_wait,
                        method,
                        url,
                        slot=not transfer,
                        held=held,
                        priority=priority,
                    )
                try:
                    # Never follow a redirect, whatever the http_client says: httpx drops only
                    # Authorization on a redirect to another host, so x-api-key would go along.
                    sent = time.perf_counter()
                    bare = state.bare
                    if bare is not None and not options:
                        response = await bare(method, url)
                    else:
                        response = await state.http.request(method, url, follow_redirects=False, **options)
                    if not transfer:
                        limiter.observe(time.perf_counter() - sent)
                except self._transport_errors as exc:
                    unanswered(breaker, probe, exc)
                    raise
                except BaseException:
                    breaker.abandoned(probe)
                    raise
                finally:
                    if not transfer:
                        limiter.release()
                self._answered(state, probe, response)
                return response
            finally:
                self._sent(state, scope)
        # Only reached when aclose() or the deadline cancelled this request.
        if self.lifecycle.closed:
            raise ClientClosedError("the client was closed during the request")
        raise DeadlinePassed

    def _answered(self, state: LoopState, probe: bool, response: httpx.Response) -> None:
        """An answer came: the breaker and the budget learn from it, and the
        ``capture_responses()`` blocks around the call keep it."""
        answered(self._pool, state.breaker, probe, response)
        state.budget.answered(response)
        record(response)

    # -- streamed answers ----------------------------------------------------------

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        path_or_url: str,
        *,
        json: object = None,
        params: Mapping[str, str | int | bool] | None = None,
        idempotent: bool | None = None,
        follow_redirects: bool = False,
    ) -> AsyncGenerator[httpx.Response, None]:
        """Open a call whose 2xx body is read as it arrives; close it on exit.

        ``path_or_url`` is a path under the base URL, or an absolute URL (a
        result file in storage). The API key goes only to the API's own
        origin. With ``follow_redirects`` a 3xx is followed (at most 5 hops),
        again with the key only for the API's origin. Failures before the body
        starts are retried as in :meth:`request`; reading the body is the
        caller's, and so is what to do when it breaks (see ``transport_error``).
        """
        state = self._loop_state()
        emit = self.emit
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        url = path_or_url if "://" in path_or_url else self.base_url + path_or_url
        options = self._options(json=json, params=params, files=None, data=None)
        async with state.transfers:
            retries = hops = 0
            began = clock = 0.0
            while True:
                if self.lifecycle.closed:
                    raise ClientClosedError("the client was closed while the request waited to retry")
                if emit is not None:
                    began, clock = time.time(), time.perf_counter()
                try:
                    response = await self._open(state, method, url, options)
                except self.http_errors as raised:
                    exc = true_transport_error(raised)
                    error = self.transport_error(exc, method, url, idempotent=idempotent)
                    path = self._path_of(url)
                    if emit is not None:
                        report_attempt(emit, method, path, retries, began, clock, None, None, error)
                    if retries < self.max_retries and should_retry_exception(exc, idempotent=idempotent):
                        retries += 1
                        await self.backoff(retries, type(exc).__name__, method, path)
                        continue
                    log_gave_up(method, path, retries, error, None)
                    raise error from exc
                location = response.headers.get("location") if response.is_redirect else None
                if follow_redirects and location and hops < _MAX_REDIRECTS:
                    await response.aclose()
                    if emit is not None:
                        report_attempt(
                            emit, method, self._path_of(url), retries, began, clock, None, response, None
                        )
                    hops += 1
                    method, url, options = "GET", str(response.url.join(location)), self._send_options
                    continue
                if response.is_success:
                    if emit is not None:
                        report_attempt(
                            emit, method, self._path_of(url), retries, began, clock, None, response, None
                        )
                    try:
                        yield response
                    finally:
                        await response.aclose()
                    return
                path = self._path_of(url)
                try:
                    await response.aread()
                except self.http_errors as raised:
                    exc = true_transport_error(raised)
                    error = self.transport_error(exc, method, url, idempotent=idempotent)
                    if emit is not None:
                        report_attempt(emit, method, path, retries, began, clock, None, response, error)
                    raise error from exc
                finally:
                    await response.aclose()
                error = self.status_error(response, idempotent=idempotent)
                if emit is not None:
                    report_attempt(emit, method, path, retries, began, clock, None, response, error)
                if retries < self.max_retries and should_retry_response(response, idempotent=idempotent):
                    retries += 1
                    await self.backoff(
                        retries, str(response.status_code), method, path, response=response, state=state
                    )
                    continue
                log_gave_up(method, path, retries, error, None)
                raise error

    async def _open(self, state: LoopState, method: str, url: str, options: dict[str, Any]) -> httpx.Response:
        """Send once and return the response with its body unread."""
        with anyio.CancelScope() as scope:
            state.sending.add(scope)
            try:
                request = state.http.build_request(method, url, **options)
                request.headers["accept"] = "*/*"  # a file or audio, not only JSON
                if not self._is_api_origin(request.url):
                    # Storage gets no key: not from the SDK's client defaults, nor from send options.
                    request.headers.pop("x-api-key", None)
                    await honour_pause(state)
                    return await state.http.send(request, stream=True, follow_redirects=False)
                breaker = state.breaker
                probe = await clear_to_send(self._pool, state, self._breaker_wait, method, url, slot=False)
                try:
                    response = await state.http.send(request, stream=True, follow_redirects=False)
                except self._transport_errors as exc:
                    unanswered(breaker, probe, exc)
                    raise
                except BaseException:
                    breaker.abandoned(probe)
                    raise
                self._answered(state, probe, response)
                return response
            finally:
                self._sent(state, scope)
        raise ClientClosedError("the client was closed during the request")

    def _path_of(self, url: str) -> str:
        """``url`` as events and logs show it: its path under the base URL, or its own path."""
        base = self.base_url
        if url.startswith(base) and url[len(base) : len(base) + 1] in ("/", "?", ""):
            return url[len(base) :].partition("?")[0] or "/"
        return _shown_path(url)

    def _is_api_origin(self, url: httpx.URL) -> bool:
        origin = self._origin
        return url.scheme == origin.scheme and url.host == origin.host and url.port == origin.port

    # -- shared --------------------------------------------------------------------

    def outage(self) -> CambError | None:
        """The error that keeps requests waiting on an open circuit breaker, if it is open."""
        state = self._pool.loop
        if state is None or not state.breaker.is_open:
            return None
        last = state.breaker.last_error
        if isinstance(last, httpx.HTTPStatusError):
            try:
                return make_status_error(last.response)
            except httpx.StreamError:  # a streamed answer whose body was never read
                return None
        if isinstance(last, self.http_errors):
            return self.transport_error(true_transport_error(last), "GET", self.base_url, idempotent=True)
        return None

    @staticmethod
    def _sent(state: LoopState, scope: anyio.CancelScope) -> None:
        state.sending.discard(scope)
        if state.drained is not None and not state.sending:
            state.drained.set()

    async def backoff(
        self,
        retries: int,
        why: str,
        method: str,
        path: str,
        *,
        response: httpx.Response | None = None,
        state: LoopState | None = None,
        watch: WatchRef | None = None,
        deadline: float = math.inf,
    ) -> None:
        """Sleep before retry number ``retries``; after a 429/503 hold every request of the client.
        A new hold is logged and reported once, not for each request it holds. A sleep
        past ``deadline`` (the event loop's clock) ends there with ``DeadlinePassed``."""
        delay = retry_delay(retries - 1, response, self.retry_backoff)
        emit = self.emit
        if state is not None and response is not None and _pauses_client(response, state):
            if state.resume_at <= anyio.current_time():
                report_pause(emit, method, path, delay, response.status_code, watch)
            state.resume_at = max(state.resume_at, anyio.current_time() + delay)
            state.budget.hold_until(state.resume_at)
            shared = state.budget.shared
            if shared is not None:
                await shared.pause(delay)  # every client of the fleet
        if emit is not None:
            emit(
                RetryScheduled(
                    method=method,
                    path=path,
                    retry=retries,
                    max_retries=self.max_retries,
                    delay=delay,
                    reason=why,
                    watch=watch,
                )
            )
        log.debug(
            "retrying %s %s after %s in %.2f s (retry %d of %d)",
            method,
            path,
            why,
            delay,
            retries,
            self.max_retries,
        )
        with anyio.CancelScope(deadline=deadline) as scope:
            await sleep(delay)
        if scope.cancelled_caught:
            raise DeadlinePassed

    def status_error(self, response: httpx.Response, *, idempotent: bool) -> CambError:
        """The error of an error answer (its body read); see ``_failures.status_error``."""
        return status_error(response, idempotent=idempotent)

    def transport_error(self, exc: httpx.HTTPError, method: str, url: str, *, idempotent: bool) -> CambError:
        """The error of a request that got no usable answer; see ``_failures.transport_error``."""
        if self.lifecycle.closed:
            return ClientClosedError("the client was closed during the request")
        return transport_error(exc, method, url, idempotent=idempotent, contacted=self._pool.contacted)

    def _loop_state(self) -> LoopState:
        """The per-loop state, created on first use; refuse a closed client or a foreign loop."""
        if self.lifecycle.closed:
            raise ClientClosedError("this AsyncCambClient is closed; create a new one")
        pool = self._pool
        state = pool.loop
        if state is None:
            state = pool.start(self.headers)
        elif not state.on_own_loop():
            raise ClientClosedError(
                "this AsyncCambClient is bound to the event loop it was first used on; "
                "create one client per event loop (for example inside your async main(), "
                "or in your web framework's lifespan handler)"
            )
        return state

    async def aclose(self) -> None:
        """Close (see ``AsyncCambClient.aclose``)."""
        if self.lifecycle.closed:
            return
        self.lifecycle.close()
        if self.lifecycle.parent is not None:
            return  # a derived requester: the pool and its requests are its parent's
        state = self._pool.loop
        if state is not None and state.on_own_loop():
            state.limiter.close()  # requests waiting for a slot end at once
        if state is not None and state.sending and state.on_own_loop():
            # End requests still being sent and let them unwind before the pool closes:
            # closing it under them would leave their sockets open.
            state.drained = anyio.Event()
            for scope in list(state.sending):
                scope.cancel()
            with anyio.move_on_after(5.0):
                await state.drained.wait()
        if state is not None and state.budget.shared is not None and state.on_own_loop():
            await state.budget.shared.aclose()
        http = self._pool.http
        if self.lifecycle.owns_http and http is not None:
            try:
                await http.aclose()
            except RuntimeError as exc:
                # The pool's sockets belong to the loop that used the client; from another
                # loop, asyncio says "Event loop is closed" and trio "must be called from
                # async context". Say what happened instead.
                if state is None or state.on_own_loop():
                    raise
                raise ClientClosedError(
                    "the client is closed, but its connections belong to the event loop it was "
                    "first used on and could not be closed from this one; call aclose() on that loop"
                ) from exc


def _waits_in_line(state: LoopState) -> bool:
    """Whether a small call waits for its slot of the limit on requests in flight before
    anything else: unless the circuit breaker is open (requests wait for it first, and a
    probe never waits for a slot) or a budget the user gave hands out the slots with its
    turns (``clear_to_send``)."""
    return not state.breaker.is_open and not state.budget.fixed


def _pauses_client(response: httpx.Response, state: LoopState) -> bool:
    """Whether an answer holds every request of the client: a 503, or a 429 the budget
    cannot absorb (one with Retry-After, or under a budget the user fixed). A 429 with no
    such header only slows a learned budget, so the client slows down instead of stopping."""
    if response.status_code == 503:
        return True
    if response.status_code != 429:
        return False
    return parse_retry_after(response.headers) is not None or state.budget.fixed


def _query_value(value: str | int | bool) -> str | int:
    """A query value as the API reads it: booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _shown_path(url: str) -> str:
    return httpx.URL(url).path
