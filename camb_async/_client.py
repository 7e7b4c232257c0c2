"""``AsyncCambClient``: options, lifecycle and the one request path every call takes."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import platform
import time
import weakref
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.lowlevel
import httpx
import pydantic
from typing_extensions import Self

from ._clock import sleep
from ._constants import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_CONCURRENT_REQUESTS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_WATCH_TIMEOUT,
)
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    CambError,
    ClientClosedError,
    CreateOutcomeUnknownError,
    ResponseValidationError,
    _CreateOutcomeUnknownTimeoutError,
    api_key_of,
    make_status_error,
    make_task_error,
    redact,
)
from ._learning import DurationModel
from ._limiter import RequestLimiter
from ._models import TaskCreated, TaskState, TaskStatus
from ._paths import TaskFamily, result_path, status_path, validate_task_id
from ._polling import PollSchedule, watch_status
from ._retry import retry_delay, should_retry_exception, should_retry_response, was_never_sent
from ._transport import HttpClientBuilder, Transport, running_on_asyncio, true_transport_error
from ._types import NOT_GIVEN, NotGiven, TimeoutTypes
from ._version import __version__

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable
    from types import TracebackType

__all__ = ["AsyncCambClient"]

log = logging.getLogger("camb_async")
T = TypeVar("T")


class _LoopState:
    """What a client keeps per event loop: the loop's token, the HTTP client it
    sends through, the limiter on requests in flight, the moment a rate limit
    lets requests go again, and the cancel scopes of requests being sent (so
    aclose() can end them)."""

    __slots__ = ("_current_token", "drained", "http", "limiter", "resume_at", "sending", "token")

    def __init__(self, http: httpx.AsyncClient, max_concurrent_requests: int) -> None:
        # On asyncio the loop itself is the token, and asking for it is ~20 times
        # cheaper than anyio's generic current_token(); this runs on every request.
        self._current_token: Callable[[], object] = (
            asyncio.get_running_loop if running_on_asyncio() else anyio.lowlevel.current_token
        )
        self.token = self._current_token()
        self.http = http
        self.limiter = RequestLimiter(max_concurrent_requests)
        self.resume_at = 0.0
        self.sending: set[anyio.CancelScope] = set()
        self.drained: anyio.Event | None = None

    def on_own_loop(self) -> bool:
        """Whether the running event loop is the one this state belongs to."""
        try:
            return self._current_token() == self.token
        except RuntimeError:  # asyncio.get_running_loop() under another library's loop
            return False


class _Lifecycle:
    """Open/closed flag shared with the finalizer that warns about unclosed clients."""

    __slots__ = ("closed", "owns_http")

    def __init__(self, owns_http: bool) -> None:
        self.closed = False
        self.owns_http = owns_http

    def warn_if_open(self) -> None:
        if self.owns_http and not self.closed:
            import warnings

            warnings.warn(
                "AsyncCambClient was never closed; use `async with AsyncCambClient() as client:` "
                "or `await client.aclose()`",
                ResourceWarning,
                stacklevel=1,
            )


class AsyncCambClient:
    """An asyncio/trio client for the CAMB.AI API, built on ``httpx.AsyncClient``.

    One client is meant to be shared: thousands of ``watch()``/``wait()``
    calls gathered on it share its connection pool, and the client bounds
    its own requests in flight (``max_concurrent_requests``) so that the
    pool never queues and never raises ``PoolTimeout``.

    Args:
        api_key: The API key; defaults to the ``CAMB_API_KEY`` environment variable.
        base_url: Defaults to ``CAMB_BASE_URL``, then ``https://client.camb.ai/apis``.
        timeout: Per-request timeout (seconds, ``httpx.Timeout``, or ``None``).
            Defaults to 5 s to connect and 30 s per read/write, or to the
            timeout of ``http_client`` when one is given.
        max_retries: Retries of a failed request (see docs/retries.md).
        http_client: Your own ``httpx.AsyncClient`` (proxies, transport,
            event hooks); the SDK sends through it and does not close it.
        max_concurrent_requests: The most requests in flight at once. Below
            it the client adapts its limit to the round trip (from 16, never
            under 4; see docs/polling.md). Keep it below your
            ``http_client``'s ``max_connections``.
        poll_schedule: Default waits between polls for ``watch()``/``wait()``.
        watch_timeout: Default overall deadline of ``watch()``/``wait()``, in
            seconds (600); ``None`` lets them run until the task finishes.
        learn_durations: Let ``watch()``/``wait()`` learn, per task family,
            when this client's past tasks finished: skip polls before almost
            any of them had finished and poll more often where many did (see
            docs/polling.md). Off by default.
        transport: What the HTTP client the SDK creates sends through:
            ``"httpx"`` (httpx's own pool, the default) or ``"aiohttp"``
            (``httpx-aiohttp``'s ``AiohttpTransport``, several times cheaper
            in CPU per request; install ``camb-async[aiohttp]``). aiohttp
            runs only on asyncio: under trio the client uses httpx's pool.
            The HTTP client is created on first use, inside the event loop.

    Raises:
        CambError: No API key was given and ``CAMB_API_KEY`` is not set; or
            ``transport="aiohttp"`` and the ``aiohttp`` extra is not installed
            (that error is also an ``ImportError``).
        ValueError: An option is out of range, or both ``http_client`` and
            ``transport="aiohttp"`` were given.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS,
        poll_schedule: PollSchedule | None = None,
        watch_timeout: float | None = DEFAULT_WATCH_TIMEOUT,
        learn_durations: bool = False,
        transport: Transport = "httpx",
    ) -> None:
        api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        if not api_key or not api_key.strip():
            raise CambError(f"no API key: pass api_key= or set the {API_KEY_ENV} environment variable")
        if not api_key.isascii() or not api_key.isprintable():
            # Named, never shown: a key pasted from a web page may hold a typographic
            # hyphen or a newline, which an HTTP header cannot carry.
            raise CambError(
                "the API key contains non-ASCII or control characters; check how it was copied or read"
            )
        _check_int(max_retries, "max_retries", least=0)
        _check_int(max_concurrent_requests, "max_concurrent_requests", least=1)
        self._base_url = _normalise_base_url(base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL)
        self._watch_timeout = _check_timeout(watch_timeout, "watch_timeout")
        self._schedule = poll_schedule or PollSchedule()
        self._durations = DurationModel() if learn_durations else None
        self._max_retries = max_retries
        self._max_concurrent = max_concurrent_requests
        self._headers = {
            "x-api-key": api_key,
            "accept": "application/json",
            "user-agent": f"camb-async/{__version__} python/{platform.python_version()}",
        }
        # What every request passes to httpx beyond method and URL. A client the SDK builds
        # carries the headers and timeout itself; one passed in gets them with each request.
        self._send_options: dict[str, Any] = {}
        self._builder: HttpClientBuilder | None = None
        self._http: httpx.AsyncClient | None = http_client
        if http_client is None:
            self._builder = HttpClientBuilder(
                transport,
                timeout=DEFAULT_TIMEOUT if isinstance(timeout, NotGiven) else timeout,
                max_concurrent_requests=max_concurrent_requests,
            )
        elif transport != "httpx":
            raise ValueError(
                f"transport={transport!r} applies to the HTTP client the SDK creates; with your own "
                "http_client=, give that client the transport instead"
            )
        else:
            self._send_options["headers"] = self._headers
            if not isinstance(timeout, NotGiven):
                self._send_options["timeout"] = timeout
        self._lifecycle = _Lifecycle(owns_http=http_client is None)
        weakref.finalize(self, self._lifecycle.warn_if_open)
        self._loop: _LoopState | None = None

    def __repr__(self) -> str:
        state = "closed" if self._lifecycle.closed else "open"
        return f"<AsyncCambClient base_url={_shown_url(self._base_url)!r} {state}>"

    @property
    def base_url(self) -> str:
        """The API root every path is appended to, without a trailing slash."""
        return self._base_url

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` has been called."""
        return self._lifecycle.closed

    async def __aenter__(self) -> Self:
        if self._lifecycle.closed:
            raise ClientClosedError("this AsyncCambClient is closed; create a new one")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client and the HTTP client it created (not one you passed in).

        Watches still running on it end with :class:`ClientClosedError`.
        Calling it again does nothing.

        Raises:
            ClientClosedError: Called from an event loop other than the one the
                client was used on, whose connections cannot be closed from
                here (the client is closed all the same).
        """
        if self._lifecycle.closed:
            return
        self._lifecycle.closed = True
        state = self._loop
        if state is not None and state.sending and state.on_own_loop():
            # End requests still being sent and let them unwind before the pool closes:
            # closing it under them would leave their sockets open.
            state.drained = anyio.Event()
            for scope in list(state.sending):
                scope.cancel()
            with anyio.move_on_after(5.0):
                await state.drained.wait()
        if self._lifecycle.owns_http and self._http is not None:
            try:
                await self._http.aclose()
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

    # -- task status -------------------------------------------------------------

    async def status(self, task_id: str, *, family: TaskFamily = "tts") -> TaskStatus:
        """Fetch a task's current status once (``GET /{family}/{task_id}``).

        Raises:
            ValueError: ``task_id`` is not one URL path segment.
            APIError: The request failed after every retry (see the error tree).
        """
        return await self._request("GET", status_path(family, task_id), _parse_status)

    def watch(
        self,
        task_id: str,
        *,
        family: TaskFamily = "tts",
        interval: float | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> AsyncGenerator[TaskStatus, None]:
        """Follow a task: yield its first status, then each change, ending
        right after the terminal one (SUCCESS, ERROR, TIMEOUT, PAYMENT_REQUIRED).

        Args:
            task_id: The id that creating the task returned.
            family: Which kind of task (``"tts"``, ``"dub"``, ...).
            interval: Poll every this many seconds at first, in place of the
                ``initial`` and ``fast`` waits of the client's ``poll_schedule``;
                later waits are at least this (see ``PollSchedule.with_interval``).
            timeout: Overall deadline in seconds; defaults to the client's
                ``watch_timeout`` (600 s); ``None`` waits as long as it takes.

        Raises:
            WatchTimeoutError: The deadline passed first (a ``TimeoutError``).
            APIError: A poll failed after every retry.
            ValueError: Bad ``task_id``, ``interval`` or ``timeout`` (raised
                here, before any request).

        Breaking out of the loop, cancelling, or ``aclose()`` on the generator
        stops polling at once and leaves the client usable.
        """
        path = status_path(family, task_id)
        schedule = self._schedule if interval is None else self._schedule.with_interval(interval)
        limit = self._watch_timeout if isinstance(timeout, NotGiven) else _check_timeout(timeout, "timeout")
        durations = self._durations
        learned = durations.schedule(family, schedule) if durations and interval is None else None
        return watch_status(
            functools.partial(self._request, "GET", path, _parse_status),
            task_id=task_id,
            schedule=schedule,
            timeout=limit,
            first=learned,
            on_finish=None if durations is None else functools.partial(durations.record, family),
        )

    async def wait(
        self,
        task_id: str,
        *,
        family: TaskFamily = "tts",
        interval: float | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> TaskStatus:
        """Wait for a task to finish; return its SUCCESS status (with ``run_id``).

        Takes the same arguments as :meth:`watch`.

        Raises:
            TaskFailedError: The task ended with ERROR.
            TaskTimedOutError: The task ended with TIMEOUT.
            TaskPaymentRequiredError: The task ended with PAYMENT_REQUIRED.
            WatchTimeoutError: ``timeout`` passed first.
            APIError: A poll failed after every retry.
        """
        final: TaskStatus | None = None
        watch = self.watch(task_id, family=family, interval=interval, timeout=timeout)
        async with aclosing(watch) as statuses:
            async for status in statuses:
                final = status
        # watch() only ends after yielding a terminal status, so `final` is set.
        assert final is not None
        assert final.is_terminal
        if final.status != TaskState.SUCCESS:
            raise make_task_error(task_id, final, secret=self._headers["x-api-key"])
        return final

    # -- text to speech ----------------------------------------------------------

    async def create_tts(
        self,
        *,
        text: str,
        voice_id: int,
        language: int | str,
        gender: int | None = None,
        age: int | None = None,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
    ) -> str:
        """Start a text-to-speech task (``POST /tts``) and return its ``task_id``.

        Never sent twice: it is retried only when the request surely did not
        reach the server, so a retry cannot create (and bill) a second task.
        """
        _check_text(text)
        fields: dict[str, object] = {
            "text": text,
            "voice_id": voice_id,
            "language": language,
            "gender": gender,
            "age": age,
            "project_name": project_name,
            "project_description": project_description,
            "folder_id": folder_id,
        }
        body = {key: value for key, value in fields.items() if value is not None}
        return await self._request("POST", "/tts", _parse_task_id, json=body)

    async def tts_result(self, run_id: int) -> bytes:
        """Download the audio of a finished TTS run (``GET /tts-result/{run_id}``)."""
        return await self._request("GET", result_path(run_id), _content)

    # -- the request path --------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        parse: Callable[[httpx.Response], T],
        *,
        json: object = None,
    ) -> T:
        """Send one API call, retrying as docs/retries.md says, and parse its answer.

        Every path out is a parsed value or a ``CambError``; a cancellation
        is never caught.
        """
        state = self._loop_state()
        idempotent = method == "GET"
        url = self._base_url + path
        options = self._send_options if json is None else {**self._send_options, "json": json}
        retries = 0
        while True:
            if self._lifecycle.closed:
                raise ClientClosedError("the client was closed while the request waited to retry")
            try:
                response = await self._send(state, method, url, options)
            except httpx.HTTPError as raised:
                exc = true_transport_error(raised)
                if retries < self._max_retries and should_retry_exception(exc, idempotent=idempotent):
                    retries += 1
                    await self._pause(retries, None, f"{type(exc).__name__}", method, path)
                    continue
                raise self._transport_error(exc, method, url, idempotent=idempotent) from exc
            except RuntimeError as exc:
                if self._lifecycle.closed:
                    raise ClientClosedError("the client was closed during the request") from exc
                raise
            if response.is_success:
                try:
                    return parse(response)
                except (ValueError, pydantic.ValidationError) as exc:
                    if idempotent and retries < self._max_retries:
                        retries += 1
                        await self._pause(retries, None, "unreadable body", method, path)
                        continue
                    error = _validation_error(response, exc)
                    if _shows_api_key(exc, response):
                        # The cause quotes the server's data, and the server sent the key back:
                        # chain nothing, the (redacted) text already says what was wrong.
                        raise error from None
                    raise error from exc
            if retries < self._max_retries and should_retry_response(response, idempotent=idempotent):
                retries += 1
                await self._pause(retries, response, str(response.status_code), method, path, state)
                continue
            raise make_status_error(response)

    async def _send(
        self, state: _LoopState, method: str, url: str, options: dict[str, Any]
    ) -> httpx.Response:
        """Send once through the pool, within the client's limit on requests in flight."""
        with anyio.CancelScope() as scope:
            state.sending.add(scope)
            limiter = state.limiter
            try:
                # A free slot is taken without a checkpoint (an extra turn of the
                # event loop per request); the request itself checkpoints soon after.
                if not limiter.try_acquire():
                    await limiter.acquire()
                try:
                    # A 429 arrived while this request queued for a slot: honour its pause.
                    # One clock read: with two, the pause could end between them, and a
                    # negative sleep is a ValueError.
                    pause = state.resume_at - anyio.current_time() if state.resume_at else 0.0
                    if pause > 0:
                        await sleep(pause)
                    # Never follow a redirect, whatever the http_client says: httpx drops only
                    # Authorization on a redirect to another host, so x-api-key would go along.
                    sent = time.perf_counter()
                    response = await state.http.request(method, url, follow_redirects=False, **options)
                    limiter.observe(time.perf_counter() - sent)
                    return response
                finally:
                    limiter.release()
            finally:
                state.sending.discard(scope)
                if state.drained is not None and not state.sending:
                    state.drained.set()
        # Only reached when aclose() cancelled this request.
        raise ClientClosedError("the client was closed during the request")

    async def _pause(
        self,
        retries: int,
        response: httpx.Response | None,
        why: str,
        method: str,
        path: str,
        state: _LoopState | None = None,
    ) -> None:
        """Sleep before retry number ``retries``; after a 429/503 hold every request of the client."""
        delay = retry_delay(retries - 1, response)
        if state is not None and response is not None and response.status_code in (429, 503):
            state.resume_at = max(state.resume_at, anyio.current_time() + delay)
        log.debug(
            "retrying %s %s after %s in %.2f s (retry %d of %d)",
            method,
            path,
            why,
            delay,
            retries,
            self._max_retries,
        )
        await sleep(delay)

    def _transport_error(self, exc: httpx.HTTPError, method: str, url: str, *, idempotent: bool) -> CambError:
        if self._lifecycle.closed:
            return ClientClosedError("the client was closed during the request")
        request = _request_of(exc, method, url)
        text = f"{method} {request.url.path} failed: {type(exc).__name__}"
        if str(exc):
            text += f": {exc}"
        timed_out = isinstance(exc, httpx.TimeoutException)
        if not idempotent and not was_never_sent(exc):
            text += (
                "; the request may have reached the server, so whatever it creates may exist: "
                "sending it again could create it twice"
            )
            cls = _CreateOutcomeUnknownTimeoutError if timed_out else CreateOutcomeUnknownError
            return cls(text, request=request)
        if timed_out:
            return APITimeoutError(text, request=request)
        return APIConnectionError(text, request=request)

    def _loop_state(self) -> _LoopState:
        """The per-loop state, created on first use; refuse a closed client or a foreign loop."""
        if self._lifecycle.closed:
            raise ClientClosedError("this AsyncCambClient is closed; create a new one")
        state = self._loop
        if state is None:
            if self._http is None:
                assert self._builder is not None
                self._http = self._builder.build(self._headers)
            state = self._loop = _LoopState(self._http, self._max_concurrent)
        elif not state.on_own_loop():
            raise ClientClosedError(
                "this AsyncCambClient is bound to the event loop it was first used on; "
                "create one client per event loop (for example inside your async main(), "
                "or in your web framework's lifespan handler)"
            )
        return state


def _parse_status(response: httpx.Response) -> TaskStatus:
    return TaskStatus.model_validate_json(response.content)


def _parse_task_id(response: httpx.Response) -> str:
    return validate_task_id(TaskCreated.model_validate_json(response.content).task_id)


def _content(response: httpx.Response) -> bytes:
    return response.content


def _validation_error(response: httpx.Response, exc: Exception) -> ResponseValidationError:
    request = response.request
    kind = response.headers.get("content-type", "no content type")
    if isinstance(exc, pydantic.ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()[:3]
        )
    else:
        problems = str(exc)
    secret = api_key_of(request)
    return ResponseValidationError(
        redact(
            f"{request.method} {request.url.path} returned {response.status_code} with a body "
            f"this SDK cannot read ({kind}, {len(response.content)} bytes): {problems}",
            secret,
        ),
        response=response,
    )


def _shows_api_key(exc: Exception, response: httpx.Response) -> bool:
    secret = api_key_of(response.request)
    return secret is not None and secret in f"{exc}{exc!r}"


def _request_of(exc: httpx.HTTPError, method: str, url: str) -> httpx.Request:
    try:
        return exc.request
    except RuntimeError:  # httpx raises this when the error has no request attached
        return httpx.Request(method, url)


def _normalise_base_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:  # not a ValueError: say it as one, like every bad option
        raise ValueError(f"base_url is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"base_url must be an http(s) URL with a host, got {_shown_url(url)!r}")
    if parsed.query or parsed.fragment:
        raise ValueError(f"base_url must not have a query or fragment, got {_shown_url(url)!r}")
    if parsed.scheme == "http" and parsed.host not in ("localhost", "127.0.0.1", "::1"):
        log.warning("base_url %s sends the API key unencrypted; use https", _shown_url(url))
    return url.rstrip("/")


def _shown_url(url: str) -> str:
    """``url`` as the SDK prints it (repr, logs, errors): a user:password part, a query and
    a fragment are replaced by ``[redacted]``, since each may carry a secret."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "<an invalid URL>"
    if not (parsed.userinfo or parsed.query or parsed.fragment):
        return url
    shown = str(parsed.copy_with(username=None, password=None, query=None, fragment=None))
    if parsed.userinfo:
        shown = shown.replace("://", "://[redacted]@", 1)
    if parsed.query or parsed.fragment:
        shown += "?[redacted]"
    return shown


def _check_text(text: object) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text must be a non-empty string, got {text!r:.40}")


def _check_int(value: object, name: str, *, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < least:
        raise ValueError(f"{name} must be >= {least}, got {value}")


def _check_timeout(value: object, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a number of seconds > 0 or None, got {value!r}")
    return float(value)
