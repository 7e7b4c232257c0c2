"""camb_async in a FastAPI app: the shared client as a dependency, SDK errors as HTTP answers,
a watch as Server-Sent Events. Install ``camb-async[fastapi]``; docs/fastapi.md shows an app.

* The app's lifespan opens one :class:`~camb_async.AsyncCambClient` for the process and yields
  it as ``{CLIENT_STATE_KEY: client}``; a handler takes it as a ``client: CambClient`` argument.
* :func:`install_exception_handlers` answers every :class:`~camb_async.CambError` a handler
  lets through with the status :func:`http_exception_for` picks (404 for an unknown task, 503
  while the API cannot be reached, 504 when a wait's ``timeout=`` passed, ...).
* :data:`TaskId` checks a task id in a path or query with the SDK's own rule (FastAPI answers
  422); :func:`bad_input_as_422` does so for the SDK's other argument checks.
* :func:`watch_events` answers with a task's status changes as Server-Sent Events (sse-starlette).
* :class:`LiveSpeechResponse` answers with the audio of a live TTS session as it comes, fed by
  any text source (an LLM's token stream); :func:`relay_transcription` relays a browser's
  microphone over a WebSocket to live transcription and the transcripts back (``realtime`` extra).
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import json
import logging
import math
from typing import TYPE_CHECKING, Annotated, cast

import anyio
import pydantic
from fastapi import Depends, FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.exception_handlers import http_exception_handler
from pydantic import AfterValidator
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask
from starlette.requests import HTTPConnection  # noqa: TC002  # FastAPI reads get_client's annotation at run time
from starlette.responses import StreamingResponse

from camb_async import (
    NOT_GIVEN,
    APIConnectionError,
    APIError,
    APIStatusError,
    AsyncCambClient,
    AuthenticationError,
    BadRequestError,
    CambError,
    ClientClosedError,
    ConflictError,
    CreateOutcomeUnknownError,
    DownloadInterruptedError,
    LiveSessionError,
    LiveTranscript,
    NotFoundError,
    NotGiven,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    TaskError,
    TaskHandle,
    TaskPaymentRequiredError,
    UnprocessableEntityError,
    WatchTimeoutError,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Generator, Iterable

    import httpx
    from starlette.responses import Response
    from starlette.types import Send

    from camb_async import LiveTranscriptionSession, LiveTTSFormat, TaskFamily, TaskStatus

__all__ = [
    "CLIENT_STATE_KEY",
    "CambClient",
    "LiveSpeechResponse",
    "TaskId",
    "bad_input_as_422",
    "camb_error_handler",
    "get_client",
    "http_exception_for",
    "install_exception_handlers",
    "relay_transcription",
    "watch_events",
]

_log = logging.getLogger("camb_async.integrations.fastapi")

CLIENT_STATE_KEY = "camb_client"
"""The key under which the app's lifespan yields its client: ``yield {CLIENT_STATE_KEY: client}``."""


def get_client(request: HTTPConnection) -> AsyncCambClient:
    """The client the app's lifespan opened (a FastAPI dependency; see :data:`CambClient`),
    for HTTP and WebSocket endpoints alike.

    Raises:
        RuntimeError: The lifespan yielded no client under :data:`CLIENT_STATE_KEY`.
    """
    client = getattr(request.state, CLIENT_STATE_KEY, None)
    if isinstance(client, AsyncCambClient):
        return client
    raise RuntimeError(
        f"no AsyncCambClient in the app's lifespan state: the lifespan must open one and "
        f"yield {{{CLIENT_STATE_KEY!r}: client}}"
    )


CambClient = Annotated[AsyncCambClient, Depends(get_client)]
"""A handler argument typed ``client: CambClient`` receives the process's shared client."""


def _check_task_id(task_id: str) -> str:
    try:
        return TaskHandle(family="tts", task_id=task_id).task_id
    except pydantic.ValidationError as exc:
        raise ValueError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None


TaskId = Annotated[str, AfterValidator(_check_task_id)]
"""A task id, checked as the SDK checks it (one URL path segment): FastAPI answers 422 otherwise."""


@contextlib.contextmanager
def bad_input_as_422() -> Generator[None, None, None]:
    """Answer 422 for a ``ValueError`` raised in the block.

    The SDK checks a call's arguments before it sends anything and raises
    ``ValueError`` for a bad one (a blank text, an unknown language); wrap the
    calls that pass on what the HTTP client sent, and no other code, so that a
    bug elsewhere still answers 500.
    """
    try:
        yield
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from exc


def http_exception_for(exc: CambError) -> HTTPException:
    """The HTTP answer for an SDK error that a request handler let through.

    =========================================================  ====  =======================
    error                                                      HTTP  why
    =========================================================  ====  =======================
    ``NotFoundError``                                          404   no such task or run
    ``BadRequestError``, ``UnprocessableEntityError``          422   the API refused the input
    ``ConflictError``                                          409
    ``RateLimitError``                                         429   with the API's Retry-After
    ``WatchTimeoutError``                                      504   the wait's ``timeout=`` passed
    ``APIConnectionError``, ``APITimeoutError``, breaker open  503   the API cannot be reached
    ``PaymentRequiredError``, ``TaskPaymentRequiredError``     503   this service is out of credits
    ``ClientClosedError``                                      503   the app is shutting down
    ``CreateOutcomeUnknownError``                              502   the task may exist
    ``DownloadInterruptedError``                               502   a result broke off
    other ``APIError`` (5xx, 401, 403, unreadable answer)      502   the API failed this service
    ``LiveSessionError`` closed with 4400                      422   the API refused the session
    other ``LiveSessionError``                                 502   a live session failed
    ``TaskError`` (``TaskFailedError``, ``TaskTimedOutError``) 502   the task failed
    any other ``CambError``                                    500
    =========================================================  ====  =======================

    A 401 or 403 of the API is this service's key, not the HTTP client's, hence 502.
    Texts name no URL of the API and never hold the API key.
    """
    if isinstance(exc, NotFoundError):
        return HTTPException(404, detail="no such task or run at the CAMB.AI API")
    if isinstance(exc, BadRequestError | UnprocessableEntityError):
        body: object = exc.body
        said = cast("dict[str, object]", body).get("detail") if isinstance(body, dict) else None
        text = "the CAMB.AI API refused the request"
        return HTTPException(422, detail=f"{text}: {said}" if isinstance(said, str) else text)
    if isinstance(exc, ConflictError):
        return HTTPException(409, detail="the request conflicts with the task's current state")
    if isinstance(exc, RateLimitError):
        wait = _retry_after(exc.response.headers)
        headers = {"Retry-After": wait} if wait is not None else None
        return HTTPException(
            429, detail="too many requests to the CAMB.AI API; try again later", headers=headers
        )
    if isinstance(exc, WatchTimeoutError):
        seen = f"; last status {exc.last_status.status}" if exc.last_status is not None else ""
        down = "; the CAMB.AI API was not answering" if exc.last_error is not None else ""
        return HTTPException(
            504, detail=f"task {exc.task_id!r} did not finish within {exc.timeout:g} s{seen}{down}"
        )
    if isinstance(exc, PaymentRequiredError | TaskPaymentRequiredError):
        return HTTPException(503, detail="this service has no CAMB.AI credits left; try again later")
    if isinstance(exc, CreateOutcomeUnknownError):
        return HTTPException(
            502, detail="the CAMB.AI API did not answer; the task may or may not have been created"
        )
    if isinstance(exc, DownloadInterruptedError):
        return HTTPException(502, detail="the result's transfer from the CAMB.AI API broke off; try again")
    if isinstance(exc, APIConnectionError):
        return HTTPException(503, detail="the CAMB.AI API cannot be reached; try again later")
    if isinstance(exc, ClientClosedError):
        return HTTPException(503, detail="the service is shutting down; try again later")
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        return HTTPException(502, detail="the CAMB.AI API refused this service's API key")
    if isinstance(exc, APIStatusError):
        return HTTPException(502, detail=f"the CAMB.AI API failed with status {exc.status_code}")
    if isinstance(exc, LiveSessionError):
        if exc.close_code == 4400:
            said = f": {exc.reason}" if exc.reason else ""
            return HTTPException(422, detail=f"the CAMB.AI API refused the live session{said}")
        code = f" (close code {exc.close_code})" if exc.close_code is not None else ""
        return HTTPException(502, detail=f"a CAMB.AI live session failed{code}")
    if isinstance(exc, APIError):
        return HTTPException(502, detail="the CAMB.AI API sent an answer this service cannot read")
    if isinstance(exc, TaskError):
        return HTTPException(502, detail=str(exc))
    return HTTPException(500, detail="Internal Server Error")


def _retry_after(headers: httpx.Headers) -> str | None:
    """The API's wait as a Retry-After value: whole seconds (rounded up, at most an hour), or its HTTP-date."""
    date: str = headers.get("retry-after", "")
    millis: str = headers.get("retry-after-ms", "")
    for text, scale in ((millis, 1000.0), (date, 1.0)):
        try:
            seconds = float(text) / scale
        except ValueError:
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return str(min(max(1, math.ceil(seconds)), 3600))
    return date if date and email.utils.parsedate_tz(date) else None


async def camb_error_handler(request: Request, exc: Exception) -> Response:
    """FastAPI exception handler: answer a :class:`~camb_async.CambError` as
    :func:`http_exception_for` says (FastAPI's usual ``{"detail": ...}`` body).

    Each answer is logged with the SDK's message (which never holds the API key): at WARNING
    when the API failed this service (502, 503), else at INFO.
    """
    if not isinstance(exc, CambError):
        raise exc
    answer = http_exception_for(exc)
    _log.log(
        _level(answer, exc),
        "%s %s answered %d: %s: %s",
        request.method,
        request.url.path,
        answer.status_code,
        type(exc).__name__,
        exc,
    )
    return await http_exception_handler(request, answer)


def _level(answer: HTTPException, exc: CambError) -> int:
    """WARNING when the API failed this service (a 502 or 503 an operator should see), else INFO."""
    return logging.WARNING if answer.status_code >= 500 and isinstance(exc, APIError) else logging.INFO


def install_exception_handlers(app: FastAPI) -> None:
    """Answer every :class:`~camb_async.CambError` that reaches ``app`` with :func:`camb_error_handler`."""
    app.add_exception_handler(CambError, camb_error_handler)


async def watch_events(
    client: AsyncCambClient,
    task: str | TaskHandle,
    *,
    family: TaskFamily | None = None,
    interval: float | None = None,
    timeout: float | NotGiven | None = NOT_GIVEN,
    ping: float = 15.0,
) -> EventSourceResponse:
    """Answer with ``client.watch(task, ...)`` as Server-Sent Events: an event ``status`` per status
    change, its data the :class:`~camb_async.TaskStatus` as JSON, the last one terminal.

    The first status is fetched before the answer starts, so an unknown task
    or an unreachable API raise here, in the handler, and become HTTP answers
    (404, 503); type the handler's task id as :data:`TaskId` for a 422 on a
    malformed one (here it would raise ``ValueError``). An error later in the watch (its deadline, an
    outage that outlasts the client's ``max_outage``) ends the stream with an
    event ``watch-error`` whose data is ``{"status_code": ..., "detail": ...}``
    as :func:`http_exception_for` gives them. When the HTTP client goes away,
    the watch is cancelled at once and polls no more. A comment line every
    ``ping`` seconds keeps proxies from closing a quiet stream.

    A browser's ``EventSource`` connects again whenever a stream ends: close it
    on the terminal status.
    """
    statuses = client.watch(task, family=family, interval=interval, timeout=timeout)
    try:
        first = await anext(statuses)
    except BaseException:
        await statuses.aclose()
        raise

    async def close() -> None:
        await statuses.aclose()

    # The stream closes the watch as it ends; this closes it too when the stream never started.
    return EventSourceResponse(_events(first, statuses), ping=ping, background=BackgroundTask(close))


async def _events(
    first: TaskStatus, statuses: AsyncGenerator[TaskStatus, None]
) -> AsyncIterator[ServerSentEvent]:
    async with contextlib.aclosing(statuses):
        yield _status_event(first, 0)
        count = 1
        try:
            async for status in statuses:
                yield _status_event(status, count)
                count += 1
        except CambError as exc:
            answer = http_exception_for(exc)
            _log.log(_level(answer, exc), "a watch streamed as events ended: %s: %s", type(exc).__name__, exc)
            data = {"status_code": answer.status_code, "detail": answer.detail}
            yield ServerSentEvent(json.dumps(data), event="watch-error")


def _status_event(status: TaskStatus, count: int) -> ServerSentEvent:
    return ServerSentEvent(status.model_dump_json(), event="status", id=str(count))


_MEDIA_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "aac": "audio/aac",
}


class LiveSpeechResponse(StreamingResponse):
    """Answer with ``client.live_tts.speak(text, ...)``'s audio as it comes: the text may be
    an LLM's token stream, and the first audio goes out while it still runs.

    The session opens when the answer is sent, in the task that sends it (a live session
    lives inside one task). Until the first audio has come, a failure (a bad key or voice,
    the source raising) is still a plain HTTP answer, as :func:`http_exception_for` gives
    it; after it, the transfer breaks off (the body is never completed), so a cut stream
    never passes for whole speech. When the HTTP client goes away the session is closed
    at once. The media type follows ``output_format`` (``audio/mpeg`` when not given).

    Args:
        client: The app's client.
        text: A ``str``, or an (async) iterable of ``str``, as ``speak()`` takes.
        voice_id, language, output_format, allow_skipped: As ``client.live_tts.speak()``'s.
        headers: More headers for the answer.
    """

    def __init__(
        self,
        client: AsyncCambClient,
        text: str | Iterable[str] | AsyncIterable[str],
        *,
        voice_id: int,
        language: int | str | None = None,
        output_format: LiveTTSFormat | None = None,
        allow_skipped: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__((), headers=headers, media_type=_MEDIA_TYPES[output_format or "mp3"])
        self._speak = functools.partial(
            client.live_tts.speak,
            text,
            voice_id=voice_id,
            language=language,
            output_format=output_format,
            allow_skipped=allow_skipped,
        )

    async def stream_response(self, send: Send) -> None:
        async with self._speak() as audio:
            try:
                first = await anext(audio, b"")
            except CambError as exc:
                await _answer_error(send, exc)
                return
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            )
            await send({"type": "http.response.body", "body": first, "more_body": True})
            try:
                async for chunk in audio:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except CambError as exc:
                _log.warning("a live speech answer broke off: %s: %s", type(exc).__name__, exc)
                raise
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _answer_error(send: Send, exc: CambError) -> None:
    answer = http_exception_for(exc)
    _log.log(_level(answer, exc), "a live speech answer failed: %s: %s", type(exc).__name__, exc)
    body = json.dumps({"detail": answer.detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": answer.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def relay_transcription(
    websocket: WebSocket,
    client: AsyncCambClient,
    *,
    language: str | int | None = None,
    model: str | None = None,
    encoding: str | None = None,
    sample_rate: int | None = None,
    channels: int | None = None,
) -> None:
    """Relay a browser's WebSocket to a live transcription session, until either side ends.

    Accepts ``websocket``, opens ``client.live_transcription.connect(...)`` with the
    options given, and speaks this protocol with the browser:

    * to the browser, ``{"type": "ready"}`` once the session takes audio;
    * from the browser, binary frames of audio in the session's format, and a text frame
      ``stop`` when the audio is complete (the session's ``finish()``);
    * to the browser, one JSON text frame per transcript: ``{"type": "transcript",
      "is_final": ..., "transcript": ..., "start": ..., "duration": ..., "words": [...]}``
      (interim ones are cumulative; a final one settles the utterance);
    * after ``stop``, the last finals, then a close 1000;
    * on a failure, ``{"type": "error", "status_code": ..., "detail": ...}`` as
      :func:`http_exception_for` gives them, then a close 1011.

    When the browser goes away the session is closed at once; nothing outlives the call.
    """
    await websocket.accept()
    failure: CambError | WebSocketDisconnect | None = None
    try:
        async with client.live_transcription.connect(
            language=language, model=model, encoding=encoding, sample_rate=sample_rate, channels=channels
        ) as session:
            await websocket.send_json({"type": "ready"})
            async with anyio.create_task_group() as group:
                group.start_soon(_relay_audio, websocket, session, group.cancel_scope)
                try:  # caught here: a task group would wrap it in an ExceptionGroup
                    async for event in session:
                        if isinstance(event, LiveTranscript):
                            await websocket.send_json(_transcript_message(event))
                except (CambError, WebSocketDisconnect) as exc:
                    failure = exc
                group.cancel_scope.cancel()
    except (CambError, WebSocketDisconnect) as exc:
        failure = exc
    if isinstance(failure, WebSocketDisconnect):
        return
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # the browser may have gone already
        if failure is None:
            await websocket.close(1000)
            return
        answer = http_exception_for(failure)
        _log.log(
            _level(answer, failure), "a relayed transcription failed: %s: %s", type(failure).__name__, failure
        )
        await websocket.send_json(
            {"type": "error", "status_code": answer.status_code, "detail": answer.detail}
        )
        await websocket.close(1011)


async def _relay_audio(
    websocket: WebSocket, session: LiveTranscriptionSession, scope: anyio.CancelScope
) -> None:
    """The browser's audio into the session until ``stop``; the browser leaving cancels ``scope``.
    A send that fails because the session ended leaves the reader to tell why."""
    stopped = False
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            scope.cancel()
            return
        data: bytes | None = message.get("bytes")
        if stopped:
            continue
        try:
            if data is not None:
                await session.send_audio(data)
            elif message.get("text") == "stop":
                stopped = True
                await session.finish()
        except CambError:
            stopped = True  # the session ended: its iteration raises why


def _transcript_message(event: LiveTranscript) -> dict[str, object]:
    fields = event.model_dump(mode="json", include={"is_final", "transcript", "start", "duration", "words"})
    return {"type": "transcript", **fields}
