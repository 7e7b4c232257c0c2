"""The API key never leaks: not into logs (any logger, DEBUG up), error texts, reprs or
formatted tracebacks, on success and on every kind of failure. And the transport is safe by
default: TLS verification on, a warning for a plain-http base URL other than this machine.

The one place the key does live is the request an ``APIError`` carries
(``exc.request.headers["x-api-key"]``), as in httpx and the OpenAI SDK: that is the request
as sent. docs/errors.md says so; these tests check that it is the only place.
"""

from __future__ import annotations

import json
import logging
import ssl
import traceback
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import httpcore_pools

from camb_async import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AsyncCambClient,
    AuthenticationError,
    CambError,
    InternalServerError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    TaskFailedError,
    TaskPaymentRequiredError,
    TaskState,
    TaskTimedOutError,
    UnprocessableEntityError,
    WatchTimeoutError,
)
from camb_async.testing import Simulator, set_testing

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

pytestmark = pytest.mark.anyio

SECRET = "sk-live-CANARY-7f3a9c1e55d04b2e-do-not-log"
BASE_URL = "https://camb.test/apis"
LOGGERS = [
    "",
    "camb_async",
    "httpx",
    "httpcore",
    "hpack",
    "h11",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
]

# -- capturing everything ----------------------------------------------------------


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logs() -> Iterator[list[logging.LogRecord]]:
    """Every log record of every logger at DEBUG and up, for the duration of the test."""
    capture = _Capture()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    saved = [(logger, logger.level, logger.propagate, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if logger.name != "root":
            logger.propagate = True
    root = logging.getLogger()
    root.addHandler(capture)
    try:
        yield capture.records
    finally:
        root.removeHandler(capture)
        for logger, level, propagate, disabled in saved:
            logger.setLevel(level)
            logger.propagate = propagate
            logger.disabled = disabled


FORMATTER = logging.Formatter("%(asctime)s %(name)s %(levelname)s %(pathname)s:%(lineno)d %(message)s")


def assert_logs_clean(records: list[logging.LogRecord]) -> None:
    """No record shows the key: not its message, its args, or its formatted exception/stack."""
    for record in records:
        assert SECRET not in FORMATTER.format(record), record.name
        assert SECRET not in str(record.msg)
        assert SECRET not in repr(record.args)
        assert SECRET not in repr(record.__dict__)


def exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        # What a traceback shows: the cause, else the context unless suppressed (`from None`).
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return chain


def assert_error_clean(exc: BaseException) -> None:
    """The error, every error it chains to, and the full traceback never show the key."""
    assert SECRET not in "".join(traceback.format_exception(exc))
    assert SECRET not in "".join(traceback.format_exception_only(exc))
    for error in exception_chain(exc):
        assert SECRET not in str(error)
        assert SECRET not in repr(error)
        assert SECRET not in repr(error.args)
    if isinstance(exc, APIError):
        request = exc.request
        assert SECRET not in repr(request)
        assert SECRET not in str(request.url)
        assert SECRET not in repr(request.url)
        # The documented one place: the request as sent.
        assert request.headers["x-api-key"] == SECRET
    if isinstance(exc, (APIStatusError, ResponseValidationError)):
        response = exc.response
        assert SECRET not in repr(response)
        assert SECRET not in repr(response.headers)  # the server's headers, not ours
        assert response.request is exc.request
    if isinstance(exc, APIStatusError):
        # exc.body is the server's answer as sent (kept, like exc.response): not checked here.
        assert SECRET not in str(exc.request_id)
    if isinstance(exc, WatchTimeoutError) and exc.last_status is not None:
        assert SECRET not in repr(exc.last_status)


# -- driving the client through everything -----------------------------------------


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(base_url=BASE_URL, assert_all_mocked=True)


@pytest.fixture
async def client(router: respx.Router) -> AsyncIterator[AsyncCambClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    async with http, AsyncCambClient(SECRET, base_url=BASE_URL, http_client=http, max_retries=1) as camb:
        assert SECRET not in repr(camb)
        assert SECRET not in str(camb)
        yield camb


def status_body(status: str, **fields: object) -> httpx.Response:
    return httpx.Response(200, json={"status": status, **fields})


async def do_status(client: AsyncCambClient) -> object:
    return await client.status("task-1")


async def do_wait(client: AsyncCambClient) -> object:
    return await client.wait("task-1", interval=0.01, timeout=0.2)


async def do_watch_briefly(client: AsyncCambClient) -> object:
    async with aclosing(client.watch("task-1", interval=0.01, timeout=0.2)) as statuses:
        return [status async for status in statuses]


ERROR_CASES: list[Any] = [
    pytest.param(
        lambda: httpx.Response(401, json={"detail": "Invalid API key"}), AuthenticationError, id="401"
    ),
    pytest.param(lambda: httpx.Response(402, json={"detail": "No credits"}), PaymentRequiredError, id="402"),
    pytest.param(lambda: httpx.Response(403, json={"detail": "Forbidden"}), PermissionDeniedError, id="403"),
    pytest.param(lambda: httpx.Response(404, json={"detail": "Not found"}), NotFoundError, id="404"),
    pytest.param(
        lambda: httpx.Response(422, json={"detail": [{"loc": ["x"]}]}), UnprocessableEntityError, id="422"
    ),
    pytest.param(lambda: httpx.Response(429, headers={"Retry-After": "0"}), RateLimitError, id="429"),
    pytest.param(lambda: httpx.Response(500, text="<html>oops</html>"), InternalServerError, id="500"),
    pytest.param(
        lambda: httpx.Response(503, headers={"x-request-id": "req-1"}), InternalServerError, id="503"
    ),
    pytest.param(lambda: httpx.ConnectError("connection refused"), APIConnectionError, id="connect-error"),
    pytest.param(lambda: httpx.ReadTimeout("timed out"), APITimeoutError, id="read-timeout"),
    pytest.param(lambda: httpx.RemoteProtocolError("peer closed"), APIConnectionError, id="protocol-error"),
    pytest.param(
        lambda: httpx.Response(200, text="<html>proxy</html>"), ResponseValidationError, id="unreadable"
    ),
    pytest.param(
        lambda: httpx.Response(200, json={"run_id": "one"}), ResponseValidationError, id="no-status"
    ),
    pytest.param(lambda: httpx.Response(200, content=b"\xff\xfe"), ResponseValidationError, id="not-utf8"),
]


@pytest.mark.parametrize(("answer", "error"), ERROR_CASES)
@pytest.mark.parametrize("call", [do_status, do_wait, do_watch_briefly], ids=["status", "wait", "watch"])
async def test_no_error_shows_the_key(
    client: AsyncCambClient,
    router: respx.Router,
    logs: list[logging.LogRecord],
    answer: Callable[[], httpx.Response | Exception],
    error: type[CambError],
    call: Callable[[AsyncCambClient], Awaitable[object]],
) -> None:
    """Every error class, through status(), wait() and watch(), with retries and DEBUG logs:
    the key is in no log record, no error text or repr, no formatted traceback. A watch
    rides out transient errors, so it ends at its deadline with the error as the cause."""

    def answer_once(request: httpx.Request) -> httpx.Response:
        fresh = answer()
        if isinstance(fresh, Exception):
            raise fresh
        return fresh

    route = router.get("/tts/task-1").mock(side_effect=answer_once)
    with set_testing(), pytest.raises(CambError) as caught:
        await call(client)
    if isinstance(caught.value, WatchTimeoutError):
        assert call is not do_status
        assert type(caught.value.__cause__) is error
        assert caught.value.last_error is caught.value.__cause__
    else:
        assert type(caught.value) is error
    assert route.call_count >= 1
    assert_error_clean(caught.value)
    assert_logs_clean(logs)
    logging.getLogger("test").exception("caught", exc_info=caught.value)  # as an app would log it
    assert_logs_clean(logs)


@pytest.mark.parametrize(
    ("final", "error"),
    [
        ("ERROR", TaskFailedError),
        ("TIMEOUT", TaskTimedOutError),
        ("PAYMENT_REQUIRED", TaskPaymentRequiredError),
    ],
)
async def test_task_errors_do_not_show_the_key(
    client: AsyncCambClient,
    router: respx.Router,
    logs: list[logging.LogRecord],
    final: str,
    error: type[CambError],
) -> None:
    """A task that ends badly raises its TaskError, without the key anywhere."""
    router.get("/tts/task-1").mock(
        side_effect=[status_body("PENDING"), status_body(final, exception_reason="BOOM", message="sorry")]
    )
    with set_testing(), pytest.raises(CambError) as caught:
        await client.wait("task-1")
    assert type(caught.value) is error
    assert_error_clean(caught.value)
    assert SECRET not in repr(getattr(caught.value, "status", None))
    assert_logs_clean(logs)


async def test_watch_timeout_does_not_show_the_key(
    client: AsyncCambClient, router: respx.Router, logs: list[logging.LogRecord]
) -> None:
    """WatchTimeoutError (the local deadline) names the task and its last status, not the key."""
    router.get("/tts/task-1").mock(return_value=status_body("PENDING"))
    with set_testing(), pytest.raises(WatchTimeoutError) as caught:
        await client.wait("task-1", timeout=0.05)
    assert caught.value.last_status is not None
    assert_error_clean(caught.value)
    assert_logs_clean(logs)


async def test_success_paths_do_not_log_the_key(
    client: AsyncCambClient, router: respx.Router, logs: list[logging.LogRecord]
) -> None:
    """tts.create, status, watch, wait and tts.result on a happy path: no record shows the key,
    though every request carried it."""
    create = router.post("/tts").respond(200, json={"task_id": "task-1"})
    router.get("/tts/task-1").mock(
        side_effect=[
            status_body("PENDING"),
            status_body("PENDING"),
            status_body("SUCCESS", run_id=7),
            status_body("SUCCESS", run_id=7),
            status_body("SUCCESS", run_id=7),
        ]
    )
    router.get("/tts-result/7").respond(200, content=b"RIFF")
    with set_testing():
        task_id = await client.tts.create(text="hello", voice_id=1, language=1)
        await client.status(task_id)
        statuses = [s async for s in client.watch(task_id)]
        done = await client.wait(task_id)
        assert await client.tts.result(7) == b"RIFF"
    assert statuses[-1].status is TaskState.SUCCESS
    assert done.run_id == 7
    assert create.calls.last.request.headers["x-api-key"] == SECRET
    assert logs, "nothing was logged: the capture is not working"
    assert_logs_clean(logs)


async def test_a_server_echoing_the_key_does_not_put_it_into_error_texts(
    client: AsyncCambClient, router: respx.Router, logs: list[logging.LogRecord]
) -> None:
    """An error body that repeats the key (a debugging proxy, a chatty gateway) is quoted in
    the error text with the key redacted; the raw body stays on ``exc.body``/``exc.response``."""
    router.get("/tts/task-1").respond(401, json={"detail": f"key {SECRET} is not valid"})
    with pytest.raises(AuthenticationError) as caught:
        await client.status("task-1")
    exc = caught.value
    assert SECRET not in str(exc)
    assert SECRET not in repr(exc)
    assert SECRET not in "".join(traceback.format_exception(exc))
    assert "key [redacted] is not valid" in str(exc)
    assert exc.body == {"detail": f"key {SECRET} is not valid"}  # the server's own words, kept
    assert_logs_clean(logs)


async def test_unusable_task_id_echoing_the_key_is_redacted(
    client: AsyncCambClient, router: respx.Router, logs: list[logging.LogRecord]
) -> None:
    """A create answer whose task_id is unusable and holds the key: the error text redacts it."""
    router.post("/tts").respond(200, json={"task_id": f"{SECRET}/x"})
    with pytest.raises(ResponseValidationError) as caught:
        await client.tts.create(text="hello", voice_id=1, language=1)
    assert SECRET not in str(caught.value)
    assert SECRET not in "".join(traceback.format_exception(caught.value))
    assert_logs_clean(logs)


async def test_task_error_repeating_the_key_is_redacted(
    client: AsyncCambClient, router: respx.Router, logs: list[logging.LogRecord]
) -> None:
    """A failed task whose exception_reason/message repeat the key: the TaskError text redacts it;
    the final status (the server's own words) stays on ``exc.status``."""
    router.get("/tts/task-1").respond(
        200, json={"status": "ERROR", "exception_reason": f"bad key {SECRET}", "message": f"{SECRET}!"}
    )
    with pytest.raises(TaskFailedError) as caught:
        await client.wait("task-1")
    assert SECRET not in str(caught.value)
    assert SECRET not in "".join(traceback.format_exception(caught.value))
    assert "bad key [redacted]" in str(caught.value)
    assert caught.value.status.exception_reason == f"bad key {SECRET}"
    assert_logs_clean(logs)


async def test_key_cut_by_the_excerpt_is_redacted_whole(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """The key is redacted before the body excerpt is cut, so not even its start shows."""
    router.get("/tts/task-1").respond(500, text="x" * 295 + SECRET)
    with pytest.raises(InternalServerError) as caught:
        await client.status("task-1")
    assert SECRET[:8] not in str(caught.value)
    assert str(caught.value).endswith("x[reda...")


async def test_validation_cause_quoting_the_key_is_not_chained(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A 200 whose bad field holds the key: pydantic's error would quote it, so it is not chained."""
    router.get("/tts/task-1").respond(200, json={"status": "PENDING", "run_id": SECRET})
    with pytest.raises(ResponseValidationError) as caught:
        await client.status("task-1")
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert "run_id: Input should be a valid integer" in str(caught.value)
    assert_error_clean(caught.value)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.text(max_size=400),
    after=st.text(max_size=50),
    status_code=st.sampled_from([200, 400, 401, 404, 422, 500]),
    as_json=st.booleans(),
)
async def test_a_body_holding_the_key_anywhere_never_shows_it(
    before: str, after: str, status_code: int, as_json: bool
) -> None:
    """Wherever a server puts the key in an answer, no error text or traceback shows it."""
    text = before + SECRET + after
    content = json.dumps({"status": 7, "detail": text}).encode() if as_json else text.encode()
    router = respx.Router(base_url=BASE_URL, assert_all_mocked=True)
    router.get("/tts/task-1").respond(status_code, content=content, content_type="application/json")
    http = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    async with http, AsyncCambClient(SECRET, base_url=BASE_URL, http_client=http, max_retries=0) as client:
        with pytest.raises(CambError) as caught:
            await client.status("task-1")
    assert_error_clean(caught.value)


@pytest.mark.parametrize("status_code", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("target", ["https://evil.test/steal", "https://camb.test/apis/tts/elsewhere"])
async def test_redirects_are_never_followed_so_the_key_stays_home(
    status_code: int, target: str, logs: list[logging.LogRecord]
) -> None:
    """Even through a caller's http_client with follow_redirects=True, a redirect is not
    followed (httpx would forward x-api-key to the new host): it is an APIStatusError naming
    the target, and the target never sees a request."""
    router = respx.Router(assert_all_mocked=True)
    router.get(f"{BASE_URL}/tts/task-1").respond(status_code, headers={"location": target})
    elsewhere = router.route(url=target).respond(200, json={"status": "SUCCESS"})
    http = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler), follow_redirects=True)
    async with http, AsyncCambClient(SECRET, base_url=BASE_URL, http_client=http) as client:
        with pytest.raises(APIStatusError) as caught:
            await client.status("task-1")
    assert elsewhere.call_count == 0
    assert caught.value.status_code == status_code
    assert f"a redirect to {target}, which the SDK does not follow" in str(caught.value)
    assert_error_clean(caught.value)
    assert_logs_clean(logs)


URL_SECRET = "hunter2-url-CANARY"


@pytest.mark.parametrize(
    "base_url", [f"http://user:{URL_SECRET}@camb.example/apis", f"https://{URL_SECRET}@camb.example/apis"]
)
async def test_credentials_in_the_base_url_are_not_shown(
    base_url: str, logs: list[logging.LogRecord]
) -> None:
    """A user:password in base_url is a secret too: the client's repr and its plain-http
    warning show [redacted] in its place."""
    async with AsyncCambClient(SECRET, base_url=base_url) as client:
        assert URL_SECRET not in repr(client)
        assert "[redacted]@camb.example" in repr(client)
    for record in logs:
        assert URL_SECRET not in FORMATTER.format(record)
    assert_logs_clean(logs)


@pytest.mark.parametrize(
    "base_url",
    [
        f"https://camb.example/apis?api_key={URL_SECRET}",
        f"https://camb.example/apis#{URL_SECRET}",
        f"ftp://user:{URL_SECRET}@camb.example/apis",
    ],
)
def test_refused_base_url_is_not_echoed_with_its_secrets(base_url: str) -> None:
    """The ValueError refusing a base_url shows [redacted] for its password, query or fragment."""
    with pytest.raises(ValueError, match=r"\[redacted\]") as caught:
        AsyncCambClient(SECRET, base_url=base_url)
    assert URL_SECRET not in "".join(traceback.format_exception(caught.value))


# -- over real TCP -----------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed_simulator() -> Iterator[Simulator]:
    """A simulator that accepts only SECRET."""
    with Simulator(seed=11, api_key=SECRET) as sim:
        yield sim


async def test_real_http_traffic_logs_never_show_the_key(
    keyed_simulator: Simulator, logs: list[logging.LogRecord]
) -> None:
    """Over real TCP (httpx, httpcore and h11 logging at DEBUG), a full task and a 401 from a
    wrong key leave no trace of either key in the logs."""
    task_id = keyed_simulator.add_task([("PENDING", 0), ("SUCCESS", 0.05)])
    async with AsyncCambClient(SECRET, base_url=keyed_simulator.url) as client:
        done = await client.wait(task_id, interval=0.02)
        assert done.run_id is not None
        assert await client.tts.result(done.run_id)
    wrong = SECRET.replace("CANARY", "WRONG1")
    async with AsyncCambClient(wrong, base_url=keyed_simulator.url) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.status(task_id)
    assert caught.value.request.headers["x-api-key"] == wrong
    assert_error_clean_of(caught.value, wrong)
    assert any(record.name.startswith("httpcore") for record in logs), "httpcore logged nothing"
    assert_logs_clean(logs)
    for record in logs:
        assert wrong not in FORMATTER.format(record)


async def test_real_connection_refused_does_not_show_the_key(logs: list[logging.LogRecord]) -> None:
    """A real refused connection (nothing listens on the port), retried: no trace of the key."""
    with socket_port() as port:
        pass  # the port is free again: connecting to it is refused
    async with AsyncCambClient(SECRET, base_url=f"http://127.0.0.1:{port}", max_retries=1) as client:
        with set_testing(), pytest.raises(APIConnectionError) as caught:
            await client.status("task-1")
    assert_error_clean(caught.value)
    assert_logs_clean(logs)


def assert_error_clean_of(exc: BaseException, secret: str) -> None:
    assert secret not in "".join(traceback.format_exception(exc))
    assert secret not in repr(exc)
    assert secret not in str(exc)


class socket_port:
    """A TCP port on 127.0.0.1 that was free a moment ago."""

    def __enter__(self) -> int:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        return cast("int", self._sock.getsockname()[1])

    def __exit__(self, *exc_info: object) -> None:
        self._sock.close()


# -- transport safety --------------------------------------------------------------


def _ssl_context(client: AsyncCambClient) -> ssl.SSLContext:
    contexts = {id(pool._ssl_context): pool._ssl_context for pool in httpcore_pools(client)}
    assert len(contexts) == 1  # every pool shares one
    return cast("ssl.SSLContext", next(iter(contexts.values())))


async def test_sdk_created_http_client_verifies_tls() -> None:
    """The httpx client the SDK creates verifies certificates and host names."""
    async with AsyncCambClient(SECRET) as client:
        client._requester._loop_state()  # the SDK creates its HTTP client on first use
        context = _ssl_context(client)
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname is True
        assert context.minimum_version in (ssl.TLSVersion.MINIMUM_SUPPORTED, ssl.TLSVersion.TLSv1_2)


def _unencrypted_warnings(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [
        r
        for r in records
        if r.name == "camb_async" and r.levelno == logging.WARNING and "unencrypted" in r.getMessage()
    ]


@pytest.mark.parametrize(
    "base_url",
    ["http://client.camb.ai/apis", "http://10.0.0.5:8080", "http://localhost.evil.test", "http://127.0.0.2"],
)
async def test_plain_http_base_url_warns(base_url: str, logs: list[logging.LogRecord]) -> None:
    """A plain-http base URL to another machine logs a warning naming the URL, not the key."""
    async with AsyncCambClient(SECRET, base_url=base_url):
        pass
    warnings = _unencrypted_warnings(logs)
    assert len(warnings) == 1
    assert base_url in warnings[0].getMessage()
    assert_logs_clean(logs)


async def test_plain_http_base_url_from_the_environment_warns(
    logs: list[logging.LogRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CAMB_BASE_URL gets the same check as base_url=."""
    monkeypatch.setenv("CAMB_BASE_URL", "http://camb.internal/apis")
    async with AsyncCambClient(SECRET):
        pass
    assert len(_unencrypted_warnings(logs)) == 1


@pytest.mark.parametrize(
    "base_url",
    [
        "http://localhost",
        "http://localhost:8000/apis",
        "http://LOCALHOST:8000",
        "http://127.0.0.1",
        "http://127.0.0.1:9/apis",
        "http://[::1]:8000",
        "https://client.camb.ai/apis",
        "https://camb.test",
    ],
)
async def test_https_and_local_http_do_not_warn(base_url: str, logs: list[logging.LogRecord]) -> None:
    """https anywhere, and plain http to this machine, log no warning."""
    async with AsyncCambClient(SECRET, base_url=base_url):
        pass
    assert _unencrypted_warnings(logs) == []


@pytest.mark.parametrize(("key", "task_id"), [("any", "many-things"), ("k", "task"), ("abcde", "xabcdex")])
async def test_a_key_shorter_than_six_characters_is_never_redacted(key: str, task_id: str) -> None:
    """A short key (the simulator's ``any``) is no secret: the words it is part of stay whole."""
    router = respx.Router(base_url=BASE_URL, assert_all_mocked=True)
    router.get(f"/tts/{task_id}").respond(404, json={"detail": f"task {task_id} not found"})
    router.get("/tts/boom").respond(200, json={"status": "PENDING", "run_id": f"bad {task_id}"})
    http = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    async with http, AsyncCambClient(key, base_url=BASE_URL, http_client=http, max_retries=0) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.status(task_id)
        with pytest.raises(ResponseValidationError) as unreadable:
            await client.status("boom")
    assert f"task {task_id} not found" in str(caught.value)
    assert "[redacted]" not in str(caught.value)
    assert unreadable.value.__cause__ is not None


async def test_a_key_of_six_characters_is_redacted_everywhere() -> None:
    """A key of six characters or more is a secret: redacted even inside other words."""
    router = respx.Router(base_url=BASE_URL, assert_all_mocked=True)
    router.get("/tts/x-abcdef-y").respond(404, json={"detail": "task x-abcdef-y not found"})
    http = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    async with http, AsyncCambClient("abcdef", base_url=BASE_URL, http_client=http, max_retries=0) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.status("x-abcdef-y")
    assert "abcdef" not in str(caught.value)
    assert "task x-[redacted]-y not found" in str(caught.value)
