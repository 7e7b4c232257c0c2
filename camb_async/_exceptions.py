"""Every error the SDK raises, under one base class.

```
CambError
├── APIError                        a request to the API did not give a usable answer
│   ├── APIConnectionError          no HTTP answer at all (wraps the httpx error)
│   │   ├── APITimeoutError         ... because a connect/read/write/pool timeout expired
│   │   ├── CreateOutcomeUnknownError   ... to a create that may have reached the server
│   │   ├── DownloadInterruptedError    ... in the middle of a result file's body
│   │   └── LiveConnectionError         ... in a live session: it dropped (also a LiveSessionError)
│   ├── APIStatusError              the API answered with a 4xx/5xx status (or a 3xx: never followed)
│   │   ├── BadRequestError             400
│   │   ├── AuthenticationError         401
│   │   ├── PaymentRequiredError        402
│   │   ├── PermissionDeniedError       403
│   │   ├── NotFoundError               404
│   │   ├── ConflictError               409
│   │   ├── UnprocessableEntityError    422
│   │   ├── RateLimitError              429
│   │   └── InternalServerError         >= 500
│   ├── ResponseValidationError     a 2xx answer this SDK cannot read
│   └── LiveSessionError            a live (WebSocket) session ended with an error
│                                   (.close_code, .reason, .session_id, .run_id); a bad key
│                                   is also an AuthenticationError (close 4401), no credits
│                                   also a PaymentRequiredError (close 4402)
├── TaskError                       a task reached a failed terminal status (.status)
│   ├── TaskFailedError                 ERROR
│   ├── TaskTimedOutError               TIMEOUT (the server gave up on the task)
│   └── TaskPaymentRequiredError        PAYMENT_REQUIRED
├── WatchTimeoutError               the local deadline of watch()/wait() expired;
│                                   also a built-in TimeoutError
└── ClientClosedError               the client was closed, or is used from another event loop
```

Texts never contain the API key: it only ever travels in a request header, and where a
text quotes the server, a key the server repeated is shown as ``[redacted]``. The one
place that holds the key is ``APIError.request.headers`` (docs/errors.md says why).
"""

from __future__ import annotations

import html
import json
import re
from typing import TYPE_CHECKING

from ._models import TaskState, TaskStatus
from ._streams import LiveStream

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CambError",
    "ClientClosedError",
    "ConflictError",
    "CreateOutcomeUnknownError",
    "DownloadInterruptedError",
    "InternalServerError",
    "LiveConnectionError",
    "LiveSessionError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseValidationError",
    "TaskError",
    "TaskFailedError",
    "TaskPaymentRequiredError",
    "TaskTimedOutError",
    "UnprocessableEntityError",
    "WatchTimeoutError",
]

_BODY_EXCERPT = 300


class CambError(Exception):
    """Base class of every error this SDK raises."""


class APIError(CambError):
    """A request to the API did not give a usable answer.

    ``request`` is the request that failed (its headers hold the API key: do
    not log them).
    """

    def __init__(self, message: str, *, request: httpx.Request) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APIConnectionError(APIError):
    """No HTTP answer came back: the connection failed, broke or was refused.

    ``before_first_contact`` says the client had never had an answer from the
    API when this happened: likely a wrong ``base_url``, a host that does not
    resolve or a TLS failure, which no wait heals (a watch ends at once).
    """

    before_first_contact: bool = False


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout of one request expired."""


class CreateOutcomeUnknownError(APIConnectionError):
    """A request that creates something (a task, a voice) failed after it may have
    reached the server: the connection broke or a read timed out once it was sent.

    The SDK never sends such a request twice, since a second one could create (and
    bill) a second task. Whether the first one created anything is unknown: look
    before sending it again. When the failure was a timeout the error is also an
    :class:`APITimeoutError`. ``exc.__cause__`` is the httpx error.
    """


class _CreateOutcomeUnknownTimeoutError(CreateOutcomeUnknownError, APITimeoutError):  # pyright: ignore[reportUnusedClass]
    """A :class:`CreateOutcomeUnknownError` whose cause is a timeout (so also an ``APITimeoutError``)."""


class DownloadInterruptedError(APIConnectionError):
    """A result file's body broke off (connection lost, read timeout) after every retry.

    ``bytes_written`` is how many bytes went to the file object you gave before it
    broke (they stay there); a download to a path leaves no file and says 0.
    """

    def __init__(self, message: str, *, request: httpx.Request, bytes_written: int) -> None:
        super().__init__(message, request=request)
        self.bytes_written = bytes_written


class APIStatusError(APIError):
    """The API answered with an error status.

    ``body`` is the decoded JSON body when there is one, else the text.
    """

    def __init__(self, message: str, *, response: httpx.Response, body: object) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code: int = response.status_code
        self.body = body
        self.request_id: str | None = response.headers.get("x-request-id")


class BadRequestError(APIStatusError):
    """400: the request was malformed."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or invalid."""


class PaymentRequiredError(APIStatusError):
    """402: the account has no credits left for this call."""


class PermissionDeniedError(APIStatusError):
    """403: the API key may not do this."""


class NotFoundError(APIStatusError):
    """404: no such task or run (or a wrong base URL)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's current state."""


class UnprocessableEntityError(APIStatusError):
    """422: the API rejected the request's fields; ``body`` says which."""


class RateLimitError(APIStatusError):
    """429: too many requests; the SDK already honoured Retry-After and retried."""


class InternalServerError(APIStatusError):
    """A 5xx answer that persisted through every retry."""


class ResponseValidationError(APIError):
    """A 2xx answer that is not what the API documents (HTML, truncated JSON,
    a missing field), after every retry."""

    def __init__(self, message: str, *, response: httpx.Response) -> None:
        super().__init__(message, request=response.request)
        self.response = response


class LiveSessionError(APIError):
    """A live session (live TTS, live transcription, speech-to-speech) ended with an error.

    Attributes:
        close_code: The WebSocket close code the server ended the session with
            (4400 a refused message or setting, 4401 a bad key, 4402 no credits);
            ``None`` when no close came (the connection dropped).
        reason: What the server said: its error message, else the close's reason
            (a repeated API key shown as ``[redacted]``); ``None`` if it said nothing.
        session_id: The server's id of the session, once it sent one.
        run_id: Live TTS's run id (a ``TTS_API`` run), once the server sent it.

    ``request`` is the upgrade request, without the API key. A live session is never
    reconnected behind your back: it is billed and stateful (docs/realtime.md says how
    to go on from ``run_id``).
    """

    close_code: int | None
    reason: str | None
    session_id: str | None
    run_id: int | None

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request,
        close_code: int | None = None,
        reason: str | None = None,
        session_id: str | None = None,
        run_id: int | None = None,
    ) -> None:
        # APIError's, not the next in line: with AuthenticationError that would be APIStatusError's.
        APIError.__init__(self, message, request=request)
        self.close_code = close_code
        self.reason = reason
        self.session_id = session_id
        self.run_id = run_id


class LiveConnectionError(LiveSessionError, APIConnectionError):
    """A live session's connection failed or dropped: no WebSocket close came, or the
    server stopped answering. Raised within seconds, never a hang or a quiet end;
    ``exc.__cause__`` is the transport's error, if there was one."""


class _LiveAuthenticationError(LiveSessionError, AuthenticationError):  # pyright: ignore[reportUnusedClass]
    """A bad API key, told by the server closing the session with 4401 (no HTTP answer)."""


class _LivePaymentRequiredError(LiveSessionError, PaymentRequiredError):  # pyright: ignore[reportUnusedClass]
    """No credits left, told by the server closing the session with 4402 (no HTTP answer)."""


_LIVE_CLOSE_ERRORS: dict[int, tuple[type[LiveSessionError], int]] = {
    4401: (_LiveAuthenticationError, 401),
    4402: (_LivePaymentRequiredError, 402),
}


def make_live_error(
    message: str,
    *,
    request: httpx.Request,
    close_code: int | None,
    reason: str | None,
    session_id: str | None = None,
    run_id: int | None = None,
    dropped: bool = False,
) -> LiveSessionError:
    """The typed error of a live session the server closed with ``close_code``, or whose
    connection ``dropped`` (a :class:`LiveConnectionError`). A 4401 is also an
    :class:`AuthenticationError`, a 4402 also a :class:`PaymentRequiredError`: their
    ``status_code`` is 401 or 402 and ``response``, ``body`` and ``request_id`` are ``None``."""
    cls, status_code = _LIVE_CLOSE_ERRORS.get(close_code or 0, (LiveSessionError, 0))
    if dropped:
        cls = LiveConnectionError
    error = cls(
        message, request=request, close_code=close_code, reason=reason, session_id=session_id, run_id=run_id
    )
    if isinstance(error, APIStatusError):
        error.status_code = status_code
        error.response = None  # type: ignore[assignment]  # no HTTP answer: the socket was closed
        error.body = None
        error.request_id = None
    return error


class TaskError(CambError):
    """A task reached a terminal status other than SUCCESS.

    ``status`` is the final :class:`TaskStatus`, ``task_id`` the task's id, and
    ``state`` the state it ended in (``status.status``: ``TaskState.ERROR`` ...), read
    as :attr:`TaskStatus.state` is on success.
    """

    def __init__(self, task_id: str, status: TaskStatus) -> None:
        # The server's words become one bounded, printable line (see _excerpt).
        detail = f" ({_excerpt(status.exception_reason)})" if status.exception_reason else ""
        message = f" {_excerpt(status.message)}" if isinstance(status.message, str) else ""
        super().__init__(
            f"task {task_id!r} ended with status {_excerpt(str(status.status))}{detail}.{message}"
        )
        self.task_id = task_id
        self.status = status

    @property
    def state(self) -> TaskState | str:
        """The state the task ended in: ``self.status.status``."""
        return self.status.status


class TaskFailedError(TaskError):
    """The task ended with ERROR: something went wrong while processing it."""


class TaskTimedOutError(TaskError):
    """The task ended with TIMEOUT: the server gave up (try shorter input)."""


class TaskPaymentRequiredError(TaskError):
    """The task ended with PAYMENT_REQUIRED: the account needs more credits."""


class WatchTimeoutError(CambError, TimeoutError):
    """The overall deadline of ``watch()`` or ``wait()`` expired before the task
    finished (or, for ``live_streams.watch()``, before the stream ended: ``task_id`` is
    then the stream id). ``last_status`` is the last status seen (``None`` if none
    was; a :class:`LiveStream` for a stream); ``last_error`` the error of the polls
    that were failing when it expired (an outage; also ``__cause__``), else ``None``."""

    def __init__(
        self,
        task_id: str,
        timeout: float,
        last_status: TaskStatus | LiveStream | None,
        last_error: Exception | None = None,
    ) -> None:
        seen = f"last status {_excerpt(str(last_status.status))}" if last_status else "no status seen yet"
        outage = f"; its polls were failing: {type(last_error).__name__}" if last_error is not None else ""
        what = "stream" if isinstance(last_status, LiveStream) else "task"
        super().__init__(
            f"{what} {task_id!r} did not finish within {timeout:g} s ({seen}{outage}); "
            "pass a larger timeout=, or timeout=None to wait without a deadline"
        )
        self.task_id = task_id
        self.timeout = timeout
        self.last_status = last_status
        self.last_error = last_error


class ClientClosedError(CambError):
    """The client was closed, or is used from an event loop other than its own."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

_TASK_ERRORS: dict[str, type[TaskError]] = {
    TaskState.ERROR: TaskFailedError,
    TaskState.TIMEOUT: TaskTimedOutError,
    TaskState.PAYMENT_REQUIRED: TaskPaymentRequiredError,
}


def make_status_error(response: httpx.Response) -> APIStatusError:
    """Build the typed error for an error response (its body already read)."""
    body = _decode_body(response)
    cls = _STATUS_ERRORS.get(response.status_code)
    if cls is None:
        cls = InternalServerError if response.status_code >= 500 else APIStatusError
    request = response.request
    secret = api_key_of(request)
    text = f"{request.method} {request.url.path} returned {response.status_code}"
    if response.reason_phrase:
        text += f" {_excerpt(response.reason_phrase)}"
    if response.is_redirect:
        target = _excerpt(response.headers["location"])
        text += f" (a redirect to {target}, which the SDK does not follow)"
    detail = body if isinstance(body, str) else _dump(body, response)
    if isinstance(body, str) and _is_html(response, body):
        # A proxy's or load balancer's error page: its title says it all, the page would drown it.
        title = _html_title(body)
        detail = f"an HTML page titled {title!r}" if title else "an HTML page"
    if detail:
        # Redact before cutting the excerpt, so that no part of the key survives the cut.
        text += f": {_excerpt(redact(detail, secret))}"
    return cls(redact(text, secret), response=response, body=body)


def make_task_error(task_id: str, status: TaskStatus, *, secret: str | None = None) -> TaskError:
    """Build the typed error for a task that ended in a failed terminal status.

    ``secret`` (the API key) is redacted from the text, should the server's
    ``exception_reason`` or ``message`` repeat it.
    """
    error = _TASK_ERRORS.get(status.status, TaskError)(task_id, status)
    text = str(error)
    if shows(text, secret):
        error.args = (redact(text, secret),)
    return error


REDACTED = "[redacted]"

SECRET_MIN_LENGTH = 6
"""Keys shorter than this are no secrets (the simulator takes any key, the docs suggest
``any``): redacting them would mangle unrelated words ("many-things", "task")."""


def api_key_of(request: httpx.Request) -> str | None:
    """The API key a request carried, if any."""
    return request.headers.get("x-api-key") or None


def shows(text: str, secret: str | None) -> bool:
    """Whether ``text`` holds ``secret``, a key of at least ``SECRET_MIN_LENGTH`` characters."""
    return secret is not None and len(secret) >= SECRET_MIN_LENGTH and secret in text


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``[redacted]``.

    Error texts quote what the server said; a server (or a proxy in between)
    that repeats the API key must not put it into messages and logs. A key shorter
    than ``SECRET_MIN_LENGTH`` is no secret and is left alone, so that it cannot
    mangle the words it happens to be part of.
    """
    return text.replace(secret, REDACTED) if shows(text, secret) and secret else text


def server_text(text: str, secret: str | None) -> str:
    """What a server said, as an error text quotes it: the key redacted, then one bounded
    printable line (redacted before the cut, so that no part of the key survives it)."""
    return _excerpt(redact(text, secret))


_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)


def _is_html(response: httpx.Response, text: str) -> bool:
    kind = response.headers.get("content-type", "").lower()
    return "html" in kind or text.lstrip()[:15].lower().startswith(("<!doctype html", "<html"))


def _html_title(text: str) -> str:
    """An HTML page's title as one short line, tags and entities of the common kind undone."""
    found = _TITLE.search(text[:65536])
    if found is None:
        return ""
    title = html.unescape(re.sub(r"<[^>]*>", "", found.group(1)))
    return _excerpt(title)[:120]


def _decode_body(response: httpx.Response) -> object:
    # A hostile body nested thousands of levels deep makes the json module raise
    # RecursionError, which is no ValueError: such a body is kept as text.
    try:
        return response.json()
    except (ValueError, RecursionError):
        return _text(response)


def _dump(body: object, response: httpx.Response) -> str:
    try:
        return json.dumps(body, ensure_ascii=False)
    except (ValueError, RecursionError):  # nesting that loads but does not dump again
        return _text(response)


def _text(response: httpx.Response) -> str:
    # httpx decodes with the charset the server named; some codecs raise even with
    # errors="replace" (utf-16 without a BOM raises UnicodeError): fall back to UTF-8.
    try:
        return response.text
    except (ValueError, LookupError):
        return response.content.decode("utf-8", errors="replace")


def _excerpt(text: str) -> str:
    """Server text as one printable line of at most ``_BODY_EXCERPT`` characters (plus "..."):
    whitespace runs (newlines too) become one space and other control characters (terminal
    escapes) their ``\\x..`` form, so quoting it cannot forge log lines or drive a terminal."""
    text = " ".join(text.split())
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return text if len(text) <= _BODY_EXCERPT else text[:_BODY_EXCERPT] + "..."
