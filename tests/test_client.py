"""AsyncCambClient over respx: options, the request path, retries, errors and lifecycle."""

from __future__ import annotations

import json
import math
from typing import Any, TypeAlias, cast

import anyio
import anyio.lowlevel
import httpx
import pydantic
import pytest
import respx
from support import make_client

import camb_async._requester
from camb_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncCambClient,
    AuthenticationError,
    BadRequestError,
    CambError,
    ClientClosedError,
    ConflictError,
    CreateOutcomeUnknownError,
    InternalServerError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    TaskState,
    TaskStatus,
    UnprocessableEntityError,
)
from camb_async._exceptions import _CreateOutcomeUnknownTimeoutError

pytestmark = pytest.mark.anyio

API_KEY = "sk-test-SECRET-never-shown"
BASE_URL = "https://camb.test/apis"

SideEffect: TypeAlias = "httpx.Response | type[Exception]"


def ok(status: str = "PENDING", **fields: object) -> httpx.Response:
    """A 200 status answer."""
    return httpx.Response(200, json={"status": status, **fields})


def assert_no_secret(exc: BaseException, secret: str = API_KEY) -> None:
    """Neither the error nor what it chains to shows the API key."""
    for error in (exc, exc.__cause__, exc.__context__):
        if error is not None:
            assert secret not in str(error)
            assert secret not in repr(error)


@pytest.fixture
def recorded_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Replace the client's sleep with an instant one that records each requested delay."""
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        await anyio.lowlevel.checkpoint()

    monkeypatch.setattr(camb_async._requester, "sleep", fake_sleep)
    return delays


# -- construction ------------------------------------------------------------------


def test_missing_api_key_raises_camb_error_naming_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without api_key= and without CAMB_API_KEY the client refuses to start, naming the variable."""
    monkeypatch.delenv("CAMB_API_KEY", raising=False)
    with pytest.raises(CambError, match="CAMB_API_KEY"):
        AsyncCambClient()


@pytest.mark.parametrize("key", ["", "   "])
def test_blank_api_key_is_refused(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    """An empty or blank API key counts as no key, even when CAMB_API_KEY is set."""
    monkeypatch.setenv("CAMB_API_KEY", API_KEY)
    with pytest.raises(CambError, match="no API key"):
        AsyncCambClient(key)


def test_blank_env_api_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blank CAMB_API_KEY counts as no key."""
    monkeypatch.setenv("CAMB_API_KEY", "  ")
    with pytest.raises(CambError, match="CAMB_API_KEY"):
        AsyncCambClient()


def test_api_key_with_control_characters_is_refused_without_echoing_it() -> None:
    """A key with a newline (a badly read file) is refused, and the error does not show the key."""
    with pytest.raises(CambError, match="control characters") as caught:
        AsyncCambClient(API_KEY + "\n")
    assert_no_secret(caught.value)


async def test_non_ascii_api_key_gives_camb_error_without_the_key(
    router: respx.Router, unexpected: respx.Route
) -> None:
    """A key pasted with a typographic hyphen fails as a CambError that does not show it, before sending."""
    key = "sk-test\u2011SECRET-never-shown"  # U+2011 NON-BREAKING HYPHEN, as copied from a web page
    async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as http:
        with pytest.raises(CambError) as caught:
            async with AsyncCambClient(key, base_url=BASE_URL, http_client=http) as camb:
                await camb.status("abc")
    assert_no_secret(caught.value, secret=key)
    assert unexpected.call_count == 0


async def test_env_vars_give_key_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """CAMB_API_KEY and CAMB_BASE_URL are used when no arguments are given."""
    monkeypatch.setenv("CAMB_API_KEY", "sk-from-env")
    monkeypatch.setenv("CAMB_BASE_URL", "https://env.camb.test/v2/")
    router = respx.Router(assert_all_mocked=True)
    route = router.get("https://env.camb.test/v2/tts/abc").respond(200, json={"status": "PENDING"})
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as http,
        AsyncCambClient(http_client=http) as camb,
    ):
        assert camb.base_url == "https://env.camb.test/v2"
        await camb.status("abc")
    assert route.call_count == 1
    assert route.calls.last.request.headers["x-api-key"] == "sk-from-env"


async def test_arguments_beat_env_vars(monkeypatch: pytest.MonkeyPatch, router: respx.Router) -> None:
    """api_key= and base_url= win over CAMB_API_KEY and CAMB_BASE_URL."""
    monkeypatch.setenv("CAMB_API_KEY", "sk-from-env")
    monkeypatch.setenv("CAMB_BASE_URL", "https://env.camb.test/v2")
    route = router.get("/tts/abc").respond(200, json={"status": "PENDING"})
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as http,
        AsyncCambClient(API_KEY, base_url=BASE_URL, http_client=http) as camb,
    ):
        await camb.status("abc")
    assert route.calls.last.request.headers["x-api-key"] == API_KEY


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without base_url= or CAMB_BASE_URL the client talks to client.camb.ai/apis."""
    monkeypatch.delenv("CAMB_BASE_URL", raising=False)
    client = AsyncCambClient(API_KEY, http_client=httpx.AsyncClient())
    assert client.base_url == "https://client.camb.ai/apis"


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("ftp://x", "http\\(s\\) URL with a host"),
        ("https://", "http\\(s\\) URL with a host"),
        ("https:///apis", "http\\(s\\) URL with a host"),
        ("camb.ai/apis", "http\\(s\\) URL with a host"),
        ("https://x/apis?region=eu", "query or fragment"),
        ("https://x/apis#top", "query or fragment"),
        ("https://x:notaport/apis", "not a valid URL: Invalid port"),
        ("https://x\x00y/apis", "not a valid URL"),
    ],
)
def test_invalid_base_url_is_refused(base_url: str, message: str) -> None:
    """A base_url that is not a plain http(s) URL with a host is a ValueError."""
    with pytest.raises(ValueError, match=message):
        AsyncCambClient(API_KEY, base_url=base_url)


def test_base_url_trailing_slash_is_dropped() -> None:
    """base_url is kept without its trailing slash."""
    client = AsyncCambClient(API_KEY, base_url=BASE_URL + "/", http_client=httpx.AsyncClient())
    assert client.base_url == BASE_URL


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"max_retries": -1}, ValueError, "max_retries must be >= 0"),
        ({"max_retries": True}, TypeError, "max_retries must be an int"),
        ({"max_retries": 1.5}, TypeError, "max_retries must be an int"),
        ({"max_concurrent_requests": 0}, ValueError, "max_concurrent_requests must be >= 1"),
        ({"max_concurrent_requests": True}, TypeError, "max_concurrent_requests must be an int"),
        ({"watch_timeout": 0}, ValueError, "watch_timeout must be a number of seconds > 0"),
        ({"watch_timeout": -1.0}, ValueError, "watch_timeout must be a number of seconds > 0"),
        ({"watch_timeout": float("nan")}, ValueError, "watch_timeout must be a number of seconds > 0"),
        ({"retry_backoff": -0.1}, ValueError, "retry_backoff must be a number of seconds >= 0"),
        ({"retry_backoff": "1"}, ValueError, "retry_backoff must be a number of seconds"),
        ({"max_retry_backoff": math.inf}, ValueError, "max_retry_backoff must be a number of seconds"),
        ({"retry_backoff": 5.0, "max_retry_backoff": 2.0}, ValueError, "must not exceed max_retry_backoff"),
        ({"breaker_threshold": 0}, ValueError, "breaker_threshold must be >= 1"),
        ({"breaker_threshold": 2.5}, TypeError, "breaker_threshold must be an int"),
        ({"breaker_probe_interval": 0}, ValueError, "breaker_probe_interval must be a number of seconds > 0"),
        ({"breaker_probe_interval": True}, ValueError, "breaker_probe_interval must be a number of seconds"),
        ({"breaker_wait": -1}, ValueError, "breaker_wait must be a number of seconds >= 0"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], error: type[Exception], message: str) -> None:
    """A numeric option of the wrong type is a TypeError, one out of range a ValueError, naming it."""
    with pytest.raises(error, match=message):
        AsyncCambClient(API_KEY, base_url=BASE_URL, **options)  # type: ignore[arg-type]


async def test_repr_shows_base_url_and_state_but_never_the_key(client: AsyncCambClient) -> None:
    """repr(client) names the base URL and open/closed state, never the API key."""
    assert repr(client) == f"<AsyncCambClient base_url={BASE_URL!r} open>"
    await client.aclose()
    assert repr(client) == f"<AsyncCambClient base_url={BASE_URL!r} closed>"
    assert API_KEY not in repr(client)
    assert API_KEY not in str(client)


# -- a successful call -------------------------------------------------------------


async def test_status_sends_api_key_and_returns_task_status(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """status() sends GET /{family}/{id} with x-api-key and returns the parsed TaskStatus."""
    route = router.get("/tts/abc").respond(200, json={"status": "SUCCESS", "run_id": 7, "eta": 0})
    status = await client.status("abc")
    assert isinstance(status, TaskStatus)
    assert status.status is TaskState.SUCCESS
    assert status.run_id == 7
    assert status.model_extra == {"eta": 0}
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.url.raw_path == b"/apis/tts/abc"
    assert request.headers["x-api-key"] == API_KEY
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("camb-async/")


async def test_the_client_the_sdk_builds_sends_the_same_headers() -> None:
    """The HTTP client the SDK builds carries x-api-key, accept and user-agent itself."""
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as mock:
        route = mock.get("/tts/abc").respond(200, json={"status": "PENDING"})
        async with AsyncCambClient(API_KEY, base_url=BASE_URL) as camb:
            await camb.status("abc")
    request = route.calls.last.request
    assert request.headers["x-api-key"] == API_KEY
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("camb-async/")


async def test_your_own_http_client_keeps_its_headers(router: respx.Router) -> None:
    """The SDK sends its headers per request on a client you pass in and leaves the client's own alone."""
    route = router.get("/tts/abc").respond(200, json={"status": "PENDING"})
    http = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler), headers={"x-trace": "1"})
    async with http, AsyncCambClient(API_KEY, base_url=BASE_URL, http_client=http) as camb:
        await camb.status("abc")
        assert "x-api-key" not in http.headers
        assert http.headers["x-trace"] == "1"
    assert route.calls.last.request.headers["x-api-key"] == API_KEY
    assert route.calls.last.request.headers["x-trace"] == "1"


@pytest.mark.parametrize(
    ("family", "raw_path"),
    [
        ("tts", b"/apis/tts/abc"),
        ("dubbing", b"/apis/dub/abc"),
        ("text_to_sound", b"/apis/text-to-sound/abc"),
        ("translated_story", b"/apis/translated-story/abc"),
    ],
)
async def test_status_uses_the_family_path(
    client: AsyncCambClient, router: respx.Router, family: str, raw_path: bytes
) -> None:
    """family= (the public name) picks the family's status endpoint."""
    route = router.route().respond(200, json={"status": "PENDING"})
    await client.status("abc", family=family)  # type: ignore[arg-type]
    assert route.calls.last.request.url.raw_path == raw_path


@pytest.mark.parametrize(
    ("task_id", "raw_path"),
    [
        ("a b", b"/apis/tts/a%20b"),
        ("%2e%2e", b"/apis/tts/%252e%252e"),
        ("ü", b"/apis/tts/%C3%BC"),
        ("a;b=c", b"/apis/tts/a%3Bb%3Dc"),
    ],
)
async def test_task_id_is_sent_as_one_encoded_segment(
    client: AsyncCambClient, router: respx.Router, task_id: str, raw_path: bytes
) -> None:
    """An accepted task id reaches the server percent-encoded in exactly one path segment."""
    route = router.route().respond(200, json={"status": "PENDING"})
    await client.status(task_id)
    assert route.call_count == 1
    assert route.calls.last.request.url.raw_path == raw_path


@pytest.mark.parametrize(
    ("task_id", "error"),
    [
        ("", ValueError),
        ("  ", ValueError),
        ("..", ValueError),
        ("a/b", ValueError),
        ("a?b", ValueError),
        ("a#b", ValueError),
        ("a\\b", ValueError),
        ("a\x00", ValueError),
        ("x" * 513, ValueError),
        (17, TypeError),
        (None, TypeError),
    ],
)
async def test_invalid_task_id_raises_before_any_request(
    client: AsyncCambClient, unexpected: respx.Route, task_id: object, error: type[Exception]
) -> None:
    """A task id that is not one path segment is refused before any request is sent."""
    with pytest.raises(error, match="task_id"):
        await client.status(task_id)  # type: ignore[arg-type]
    assert unexpected.call_count == 0


async def test_unknown_family_raises_before_any_request(
    client: AsyncCambClient, unexpected: respx.Route
) -> None:
    """An unknown family is a ValueError before any request."""
    with pytest.raises(ValueError, match="unknown task family"):
        await client.status("abc", family="voices")  # type: ignore[arg-type]
    assert unexpected.call_count == 0


# -- status codes and retries ------------------------------------------------------


@pytest.mark.parametrize(
    ("status_code", "error", "calls"),
    [
        (400, BadRequestError, 1),
        (401, AuthenticationError, 1),
        (402, PaymentRequiredError, 1),
        (403, PermissionDeniedError, 1),
        (404, NotFoundError, 1),
        (409, ConflictError, 3),
        (422, UnprocessableEntityError, 1),
        (429, RateLimitError, 3),
        (500, InternalServerError, 3),
        (503, InternalServerError, 3),
        (418, APIStatusError, 1),
    ],
)
async def test_status_code_maps_to_error_class(
    client: AsyncCambClient,
    router: respx.Router,
    no_wait: None,
    status_code: int,
    error: type[APIStatusError],
    calls: int,
) -> None:
    """Each error status raises its exact error class, after retries only where retrying can help."""
    body = {"detail": f"failure {status_code}"}
    route = router.get("/tts/abc").respond(status_code, json=body, headers={"x-request-id": "req-1"})
    with pytest.raises(APIStatusError) as caught:
        await client.status("abc")
    exc = caught.value
    assert type(exc) is error
    assert isinstance(exc, CambError)
    assert exc.status_code == status_code
    assert exc.body == body
    assert exc.request_id == "req-1"
    assert f"GET /apis/tts/abc returned {status_code}" in str(exc)
    assert f"failure {status_code}" in str(exc)
    assert route.call_count == calls
    assert_no_secret(exc)


async def test_error_body_that_is_not_json_is_kept_as_text(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A non-JSON error body is kept as text on .body and shown in the message."""
    router.get("/tts/abc").respond(404, text="<h1>no such thing</h1>")
    with pytest.raises(NotFoundError, match="no such thing") as caught:
        await client.status("abc")
    assert caught.value.body == "<h1>no such thing</h1>"


NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
    + "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" * 6
    + "</body>\r\n</html>\r\n"
)


@pytest.mark.parametrize(
    ("page", "content_type", "shown"),
    [
        (NGINX_502, "text/html", "an HTML page titled '502 Bad Gateway'"),
        ("<!DOCTYPE html><html><body>" + "x" * 5000 + "</body></html>", "text/plain", "an HTML page"),
        (
            "<html><title>Over &amp; out\n<b>now</b></title></html>",
            "text/html; charset=utf-8",
            "'Over & out now'",
        ),
    ],
    ids=["nginx", "untitled", "entities-and-tags"],
)
async def test_an_html_error_page_is_shown_as_its_title(
    client: AsyncCambClient, router: respx.Router, page: str, content_type: str, shown: str
) -> None:
    """A proxy's HTML error page is named by its status and title, not quoted whole; the body keeps it."""
    router.get("/tts/abc").respond(404, content=page.encode(), headers={"content-type": content_type})
    with pytest.raises(NotFoundError) as caught:
        await client.status("abc")
    assert str(caught.value).endswith(shown)
    assert len(str(caught.value)) < 120
    assert caught.value.body == page


@pytest.mark.parametrize("status_code", [408, 409, 429, 500, 502, 503, 504])
async def test_retryable_status_then_success(
    client: AsyncCambClient, router: respx.Router, no_wait: None, status_code: int
) -> None:
    """A retryable status followed by a good answer is retried once and returns the answer."""
    route = router.get("/tts/abc").mock(side_effect=[httpx.Response(status_code), ok("SUCCESS")])
    status = await client.status("abc")
    assert status.status == TaskState.SUCCESS
    assert route.call_count == 2


async def test_x_should_retry_false_stops_retries(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """x-should-retry: false makes a 503 final at once."""
    route = router.get("/tts/abc").respond(503, headers={"x-should-retry": "false"})
    with pytest.raises(InternalServerError):
        await client.status("abc")
    assert route.call_count == 1


async def test_x_should_retry_true_retries_a_400(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """x-should-retry: true makes even a 400 retried."""
    route = router.get("/tts/abc").mock(
        side_effect=[httpx.Response(400, headers={"x-should-retry": "true"}), ok()]
    )
    assert (await client.status("abc")).status == TaskState.PENDING
    assert route.call_count == 2


@pytest.mark.parametrize(("max_retries", "calls"), [(0, 1), (1, 2), (2, 3), (4, 5)])
async def test_max_retries_is_respected(
    router: respx.Router, no_wait: None, max_retries: int, calls: int
) -> None:
    """A persistent 503 is tried max_retries + 1 times, then raised."""
    route = router.get("/tts/abc").respond(503)
    async with make_client(router, max_retries=max_retries) as camb:
        with pytest.raises(InternalServerError):
            await camb.status("abc")
    assert route.call_count == calls


async def test_retry_backoff_options_set_the_waits_between_retries(
    router: respx.Router, recorded_sleeps: list[float]
) -> None:
    """retry_backoff is the wait before the first retry without a server hint, doubling up to
    max_retry_backoff (each less up to a quarter of jitter); with_options() changes them."""
    router.get("/tts/abc").respond(500)
    async with make_client(router, max_retries=4, retry_backoff=2.0, max_retry_backoff=5.0) as camb:
        with pytest.raises(InternalServerError):
            await camb.status("abc")
        ceilings = [2.0, 4.0, 5.0, 5.0]
        assert all(0.75 * top <= wait <= top for wait, top in zip(recorded_sleeps, ceilings, strict=True))
        recorded_sleeps.clear()
        with pytest.raises(InternalServerError):
            await camb.with_options(retry_backoff=0.0).status("abc")
        assert recorded_sleeps == [0.0] * 4


async def test_breaker_options_set_its_threshold_and_probe_interval(router: respx.Router) -> None:
    """breaker_threshold failures in a row open the breaker; it then probes every
    breaker_probe_interval seconds (less up to a quarter)."""
    router.get("/tts/abc").mock(side_effect=httpx.ConnectError("refused"))
    async with make_client(router, max_retries=0, breaker_threshold=2, breaker_probe_interval=3.0) as camb:
        for _ in range(2):
            with pytest.raises(APIConnectionError):
                await camb.with_options(max_retries=0).status("abc")
        breaker = camb._requester._loop_state().breaker
        assert breaker.is_open
        assert (breaker.threshold, breaker.first_pause, breaker.max_pause) == (2, 0.5, 3.0)


async def test_default_max_retries_is_two(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """With default options a persistent 500 is tried exactly 3 times."""
    route = router.get("/tts/abc").respond(500)
    with pytest.raises(InternalServerError):
        await client.status("abc")
    assert route.call_count == 3


@pytest.mark.parametrize("status_code", [401, 403, 404, 422])
async def test_final_client_errors_are_tried_exactly_once(
    client: AsyncCambClient, router: respx.Router, recorded_sleeps: list[float], status_code: int
) -> None:
    """401, 403, 404 and 422 are raised after one try, without any wait."""
    route = router.get("/tts/abc").respond(status_code)
    with pytest.raises(APIStatusError):
        await client.status("abc")
    assert route.call_count == 1
    assert recorded_sleeps == []


async def test_429_with_retry_after_is_retried(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """429 answers carrying Retry-After are retried until a good answer comes."""
    limited = httpx.Response(429, headers={"Retry-After": "1"})
    route = router.get("/tts/abc").mock(side_effect=[limited, limited, ok("SUCCESS")])
    assert (await client.status("abc")).status == TaskState.SUCCESS
    assert route.call_count == 3


@pytest.mark.parametrize(
    ("status_code", "headers", "delay"),
    [
        (429, {"Retry-After": "2"}, 2.0),
        (429, {"retry-after-ms": "250"}, 0.25),
        (503, {"Retry-After": "0.75"}, 0.75),
        (500, {"Retry-After": "3"}, 3.0),
    ],
)
async def test_retry_waits_what_the_server_asked(
    client: AsyncCambClient,
    router: respx.Router,
    recorded_sleeps: list[float],
    status_code: int,
    headers: dict[str, str],
    delay: float,
) -> None:
    """The wait before a retry is the server's Retry-After/retry-after-ms hint."""
    route = router.get("/tts/abc").mock(side_effect=[httpx.Response(status_code, headers=headers), ok()])
    await client.status("abc")
    assert route.call_count == 2
    assert recorded_sleeps[0] == delay


async def test_retry_without_hint_uses_exponential_backoff(
    client: AsyncCambClient, router: respx.Router, recorded_sleeps: list[float]
) -> None:
    """Without a hint the waits are the jittered backoff: about 0.5 s, then about 1 s."""
    route = router.get("/tts/abc").mock(side_effect=[httpx.Response(500), httpx.Response(500), ok()])
    await client.status("abc")
    assert route.call_count == 3
    assert len(recorded_sleeps) == 2
    assert 0.375 <= recorded_sleeps[0] <= 0.5
    assert 0.75 <= recorded_sleeps[1] <= 1.0


# -- transport errors --------------------------------------------------------------


@pytest.mark.parametrize(
    ("transport_error", "error"),
    [
        (httpx.ConnectError, APIConnectionError),
        (httpx.ConnectTimeout, APITimeoutError),
        (httpx.PoolTimeout, APITimeoutError),
        (httpx.ReadTimeout, APITimeoutError),
        (httpx.ReadError, APIConnectionError),
        (httpx.RemoteProtocolError, APIConnectionError),
    ],
)
async def test_transport_error_is_retried_then_wrapped(
    client: AsyncCambClient,
    router: respx.Router,
    no_wait: None,
    transport_error: type[httpx.TransportError],
    error: type[APIConnectionError],
) -> None:
    """A GET failing at transport level is tried 3 times, then raised as the SDK's own error."""
    route = router.get("/tts/abc").mock(side_effect=transport_error)
    with pytest.raises(APIConnectionError) as caught:
        await client.status("abc")
    exc = caught.value
    assert type(exc) is error
    assert isinstance(exc, CambError)
    assert type(exc.__cause__) is transport_error
    assert str(exc) == f"GET /apis/tts/abc failed: {transport_error.__name__}: Mock Error"
    assert exc.request.url.raw_path == b"/apis/tts/abc"
    assert route.call_count == 3
    assert_no_secret(exc)


async def test_transport_errors_then_success(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """Transport errors followed by a good answer are invisible to the caller."""
    side_effect: list[SideEffect] = [httpx.ConnectError, httpx.ReadTimeout, ok("SUCCESS")]
    route = router.get("/tts/abc").mock(side_effect=side_effect)
    assert (await client.status("abc")).status == TaskState.SUCCESS
    assert route.call_count == 3


# -- unreadable 2xx bodies ---------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"<html><body>Bad gateway</body></html>", "text/html"),
        (b'{"status": "PEN', "application/json"),
        (b'{"run_id": "1"}', "application/json"),
        (b'[{"status": "PENDING"}]', "application/json"),
        (b"null", "application/json"),
        (b"", "application/json"),
    ],
    ids=["html", "truncated", "no-status", "list", "null", "empty"],
)
async def test_unreadable_2xx_body_is_response_validation_error(
    client: AsyncCambClient, router: respx.Router, no_wait: None, content: bytes, content_type: str
) -> None:
    """A 200 whose body is not a status is retried, then raised as ResponseValidationError only."""
    route = router.get("/tts/abc").respond(200, content=content, content_type=content_type)
    with pytest.raises(CambError) as caught:
        await client.status("abc")
    exc = caught.value
    assert type(exc) is ResponseValidationError
    assert not isinstance(exc, (ValueError, pydantic.ValidationError, json.JSONDecodeError))
    assert exc.response.status_code == 200
    assert f"GET /apis/tts/abc returned 200 with a body this SDK cannot read ({content_type}" in str(exc)
    assert route.call_count == 3
    assert_no_secret(exc)


async def test_unreadable_body_then_good_body(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """A body cut short once is retried and the next good answer returned."""
    route = router.get("/tts/abc").mock(
        side_effect=[httpx.Response(200, content=b'{"status": "PEN'), ok("SUCCESS")]
    )
    assert (await client.status("abc")).status == TaskState.SUCCESS
    assert route.call_count == 2


# httpx leaves its own body iterators (async generators) unclosed when decoding fails, and
# trio warns when they are collected (encode/httpx#3686). The response itself is closed.
HTTPX_UNCLOSED_ITERATORS = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <async_generator object (ByteStream\.__aiter__|Response\.aiter_raw)"
    ":pytest.PytestUnraisableExceptionWarning"
)


def corrupt_gzip(request: httpx.Request | None = None) -> httpx.Response:
    """A 200 declaring a gzip body that is not gzip (decoded, and failing, when read)."""
    return httpx.Response(
        200, stream=httpx.ByteStream(b"not gzip at all"), headers={"content-encoding": "gzip"}
    )


@HTTPX_UNCLOSED_ITERATORS
async def test_corrupt_gzip_body_is_retried(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """A 200 whose gzip body cannot be decoded is sent again, like any unreadable body."""
    route = router.get("/tts/abc").mock(side_effect=[corrupt_gzip(), ok("SUCCESS")])
    assert (await client.status("abc")).status == TaskState.SUCCESS
    assert route.call_count == 2


@HTTPX_UNCLOSED_ITERATORS
async def test_corrupt_gzip_body_every_time_is_a_typed_error(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    route = router.get("/tts/abc").mock(side_effect=corrupt_gzip)
    with pytest.raises(APIConnectionError, match="DecodingError") as caught:
        await client.status("abc")
    assert route.call_count == 3
    assert_no_secret(caught.value)


# -- tts.create and tts.result -----------------------------------------------------


async def test_tts_create_posts_json_without_none_fields(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """tts.create POSTs only the fields given and returns the new task_id."""
    route = router.post("/tts").respond(200, json={"task_id": "task-1"})
    task_id = await client.tts.create(text="Hello", voice_id=20303, language=1)
    assert task_id == "task-1"
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.url.raw_path == b"/apis/tts"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-api-key"] == API_KEY
    assert json.loads(request.content) == {"text": "Hello", "voice_id": 20303, "language": 1}


async def test_tts_create_sends_optional_fields_when_given(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """Optional tts.create fields are sent when they are not None; a locale is sent as its id."""
    route = router.post("/tts").respond(200, json={"task_id": "task-2"})
    await client.tts.create(
        text="Hi", voice_id=1, language="en-us", gender=2, age=30, project_name="p", folder_id=0
    )
    assert json.loads(route.calls.last.request.content) == {
        "text": "Hi",
        "voice_id": 1,
        "language": 1,
        "gender": 2,
        "age": 30,
        "project_name": "p",
        "folder_id": 0,
    }


@pytest.mark.parametrize(
    ("side_effect", "error"),
    [
        (httpx.Response(500), InternalServerError),
        (httpx.Response(503, headers={"x-should-retry": "true"}), InternalServerError),
        (httpx.Response(502, text="<html><title>502 Bad Gateway</title></html>"), CreateOutcomeUnknownError),
        (httpx.Response(504), CreateOutcomeUnknownError),
        (httpx.Response(429, headers={"Retry-After": "1"}), RateLimitError),
        (httpx.Response(200, text="<html>oops</html>"), ResponseValidationError),
        (httpx.ReadTimeout, _CreateOutcomeUnknownTimeoutError),
        (httpx.ReadError, CreateOutcomeUnknownError),
        (httpx.RemoteProtocolError, CreateOutcomeUnknownError),
    ],
    ids=[
        "500",
        "503-should-retry",
        "gateway-502",
        "gateway-504",
        "429",
        "bad-body",
        "read-timeout",
        "read-error",
        "protocol-error",
    ],
)
async def test_tts_create_is_not_retried_once_it_may_have_arrived(
    client: AsyncCambClient,
    router: respx.Router,
    no_wait: None,
    side_effect: SideEffect,
    error: type[CambError],
) -> None:
    """A POST that may have reached the server is never sent again, so no task is created twice."""
    route = router.post("/tts").mock(side_effect=[side_effect])
    with pytest.raises(CambError) as caught:
        await client.tts.create(text="Hello", voice_id=1, language=1)
    assert type(caught.value) is error
    assert route.call_count == 1
    assert_no_secret(caught.value)


def test_create_outcome_unknown_after_a_timeout_is_also_a_timeout() -> None:
    """A create that timed out after it may have arrived is caught by both except clauses."""
    assert issubclass(_CreateOutcomeUnknownTimeoutError, CreateOutcomeUnknownError)
    assert issubclass(_CreateOutcomeUnknownTimeoutError, APITimeoutError)
    assert issubclass(CreateOutcomeUnknownError, APIConnectionError)


@pytest.mark.parametrize("never_sent", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_tts_create_is_retried_when_it_never_left(
    client: AsyncCambClient, router: respx.Router, no_wait: None, never_sent: type[httpx.TransportError]
) -> None:
    """A POST that surely never reached the server (connect/pool failure) is retried."""
    side_effect: list[SideEffect] = [never_sent, httpx.Response(200, json={"task_id": "task-3"})]
    route = router.post("/tts").mock(side_effect=side_effect)
    assert await client.tts.create(text="Hello", voice_id=1, language=1) == "task-3"
    assert route.call_count == 2


async def test_tts_create_unusable_task_id_is_response_validation_error(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A 2xx creation answer whose task_id is not one path segment is a ResponseValidationError."""
    route = router.post("/tts").respond(200, json={"task_id": "a/b"})
    with pytest.raises(CambError) as caught:
        await client.tts.create(text="Hello", voice_id=1, language=1)
    assert type(caught.value) is ResponseValidationError
    assert route.call_count == 1


async def test_tts_create_connect_error_gives_up_after_retries(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """A POST whose connection never succeeds is tried 3 times, then APIConnectionError."""
    route = router.post("/tts").mock(side_effect=httpx.ConnectError)
    with pytest.raises(APIConnectionError, match="POST /apis/tts failed: ConnectError"):
        await client.tts.create(text="Hello", voice_id=1, language=1)
    assert route.call_count == 3


@pytest.mark.parametrize("text", ["", "   ", "\n"])
async def test_tts_create_with_empty_text_raises_before_any_request(
    client: AsyncCambClient, unexpected: respx.Route, text: str
) -> None:
    """Empty or blank text is a ValueError before any request."""
    with pytest.raises(ValueError, match=r"tts.create\(\): text: must not be empty or blank"):
        await client.tts.create(text=text, voice_id=1, language=1)
    assert unexpected.call_count == 0


async def test_tts_result_returns_bytes(client: AsyncCambClient, router: respx.Router) -> None:
    """tts_result GETs /tts-result/{run_id} and returns the body's exact bytes."""
    audio = b"RIFF\x00\x01\x02fake-wave\xff"
    route = router.get("/tts-result/42").respond(200, content=audio, content_type="audio/wav")
    assert await client.tts.result(42) == audio
    assert route.calls.last.request.url.raw_path == b"/apis/tts-result/42"


@pytest.mark.parametrize(("run_id", "error"), [(-1, ValueError), (True, TypeError), ("42", TypeError)])
async def test_tts_result_bad_run_id_raises_before_any_request(
    client: AsyncCambClient, unexpected: respx.Route, run_id: object, error: type[Exception]
) -> None:
    """A run id that is not a non-negative int is refused before any request."""
    with pytest.raises(error, match="run_id"):
        await client.tts.result(run_id)  # type: ignore[call-overload]
    assert unexpected.call_count == 0


# -- lifecycle ---------------------------------------------------------------------


async def test_caller_owned_http_client_is_not_closed(router: respx.Router) -> None:
    """aclose() leaves an http_client the caller passed in open."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as http:
        camb = AsyncCambClient(API_KEY, base_url=BASE_URL, http_client=http)
        await camb.aclose()
        assert camb.is_closed
        assert not http.is_closed


async def test_sdk_created_http_client_is_closed() -> None:
    """aclose() closes the httpx client the SDK created itself (on its first request)."""
    camb = AsyncCambClient(API_KEY, base_url=BASE_URL)
    with respx.mock(base_url=BASE_URL) as mock:
        mock.get("/tts/abc").respond(200, json={"status": "PENDING"})
        await camb.status("abc")
    http = camb._requester._pool.http
    assert http is not None
    assert not http.is_closed
    await camb.aclose()
    assert http.is_closed


async def test_closed_client_refuses_requests(client: AsyncCambClient, unexpected: respx.Route) -> None:
    """After aclose() every call raises ClientClosedError without sending anything; aclose() again is a no-op."""
    await client.aclose()
    await client.aclose()
    with pytest.raises(ClientClosedError, match="closed") as caught:
        await client.status("abc")
    assert_no_secret(caught.value)
    with pytest.raises(ClientClosedError):
        await client.tts.create(text="Hello", voice_id=1, language=1)
    with pytest.raises(ClientClosedError):
        await client.tts.result(1)
    assert unexpected.call_count == 0


async def test_async_with_on_closed_client_raises(client: AsyncCambClient) -> None:
    """Entering `async with` on a closed client raises ClientClosedError."""
    await client.aclose()
    with pytest.raises(ClientClosedError, match="create a new one"):
        async with client:
            pass


async def test_async_with_closes_client(router: respx.Router) -> None:
    """Leaving `async with` closes the client."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as http:
        async with AsyncCambClient(API_KEY, base_url=BASE_URL, http_client=http) as camb:
            assert not camb.is_closed
        assert camb.is_closed


async def test_aclose_ends_requests_in_flight(client: AsyncCambClient, router: respx.Router) -> None:
    """aclose() ends a request still waiting for its answer, promptly, with ClientClosedError."""
    in_flight = anyio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        in_flight.set()
        await anyio.sleep(30)
        return ok()

    router.get("/tts/abc").mock(side_effect=hang)
    outcome: list[CambError] = []

    async def call() -> None:
        try:
            await client.status("abc")
        except CambError as exc:
            outcome.append(exc)

    with anyio.fail_after(3):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            await in_flight.wait()
            await client.aclose()
    assert [type(exc) for exc in outcome] == [ClientClosedError]
    assert "closed during the request" in str(outcome[0])


async def test_aclose_ends_polls_waiting_in_line_for_a_slot(router: respx.Router) -> None:
    """aclose() ends waits whose polls are in line for a slot of the limit on requests in flight
    (holding no cancel scope there) at once, with ClientClosedError, even while the request that
    holds the slot takes a while to end."""
    in_flight = anyio.Event()

    async def slow_to_end(request: httpx.Request) -> httpx.Response:
        in_flight.set()
        with anyio.CancelScope(shield=True):
            await anyio.sleep(1.0)
        return ok()

    router.get("/tts/abc").mock(side_effect=slow_to_end)
    router.get(url__regex=r"/tts/waiting\d").mock(return_value=ok())
    ended: list[tuple[str, type[CambError], float]] = []
    closing = math.inf

    async with make_client(router, max_concurrent_requests=1) as camb:

        async def call(task_id: str) -> None:
            try:
                await camb.wait(task_id, timeout=60)
            except CambError as exc:
                ended.append((task_id, type(exc), anyio.current_time()))

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(call, "abc")
                await in_flight.wait()
                for number in range(3):
                    tg.start_soon(call, f"waiting{number}")
                await anyio.wait_all_tasks_blocked()
                state = camb._requester._pool.loop
                assert state is not None
                assert state.limiter.waiting == 3
                assert len(state.sending) == 1  # only the request in flight holds a cancel scope
                closing = anyio.current_time()
                await camb.aclose()
    assert sorted((task_id, kind) for task_id, kind, _ in ended) == [
        ("abc", ClientClosedError),
        ("waiting0", ClientClosedError),
        ("waiting1", ClientClosedError),
        ("waiting2", ClientClosedError),
    ]
    assert all(at - closing < 0.5 for task_id, _, at in ended if task_id != "abc")


async def test_request_waiting_to_retry_ends_when_client_closes(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A request in its retry pause when aclose() runs ends with ClientClosedError and is not sent again."""
    first_answered = anyio.Event()

    def answer(request: httpx.Request) -> httpx.Response:
        if first_answered.is_set():
            return ok()
        first_answered.set()
        return httpx.Response(500, headers={"Retry-After": "0.2"})

    route = router.get("/tts/abc").mock(side_effect=answer)
    outcome: list[object] = []

    async def call() -> None:
        try:
            outcome.append(await client.status("abc"))
        except CambError as exc:
            outcome.append(exc)

    with anyio.fail_after(3):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            await first_answered.wait()
            await client.aclose()
    assert [type(item) for item in outcome] == [ClientClosedError]
    assert route.call_count == 1


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_client_refuses_a_second_event_loop(backend: str) -> None:
    """A client used on one event loop raises ClientClosedError naming the event loop on another."""

    def handler(request: httpx.Request) -> httpx.Response:
        return ok()

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    camb = AsyncCambClient(API_KEY, base_url=BASE_URL, http_client=http)

    async def poll() -> TaskStatus:
        return await camb.status("abc")

    assert anyio.run(poll, backend=backend).status == TaskState.PENDING
    with pytest.raises(ClientClosedError, match="event loop") as caught:
        anyio.run(poll, backend=backend)
    assert_no_secret(caught.value)
    anyio.run(camb.aclose, backend=backend)
    anyio.run(http.aclose, backend=backend)


@pytest.mark.parametrize(("first", "then"), [("asyncio", "trio"), ("trio", "asyncio")])
def test_client_refuses_an_event_loop_of_another_library(first: str, then: str) -> None:
    """A client first used on asyncio refuses trio, and the other way round, with the same error."""
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: ok()))
    camb = AsyncCambClient(API_KEY, base_url=BASE_URL, http_client=http)

    async def poll() -> TaskStatus:
        return await camb.status("abc")

    assert anyio.run(poll, backend=first).status == TaskState.PENDING
    with pytest.raises(ClientClosedError, match="bound to the event loop it was first used on"):
        anyio.run(poll, backend=then)
    anyio.run(camb.aclose, backend=first)
    anyio.run(http.aclose, backend=first)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_aclose_from_another_event_loop_says_why(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """aclose() on a loop other than the client's raises ClientClosedError, not the pool's RuntimeError."""
    camb = AsyncCambClient(API_KEY, base_url=BASE_URL)

    async def bind() -> None:
        camb._requester._loop_state()

    async def close_sockets_of_a_dead_loop() -> None:
        raise RuntimeError("Event loop is closed")  # what httpcore raises over real TCP

    anyio.run(bind, backend=backend)
    http: httpx.AsyncClient | None = cast(
        "Any", camb
    )._requester._pool.http  # created on first use in some versions
    assert http is not None
    real_aclose = http.aclose
    monkeypatch.setattr(http, "aclose", close_sockets_of_a_dead_loop)
    with pytest.raises(ClientClosedError, match="could not be closed from this one") as caught:
        anyio.run(camb.aclose, backend=backend)
    assert camb.is_closed
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert_no_secret(caught.value)
    anyio.run(real_aclose, backend=backend)


async def test_aclose_on_its_own_loop_lets_other_runtime_errors_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A RuntimeError while closing the pool on the client's own loop is not disguised."""
    camb = AsyncCambClient(API_KEY, base_url=BASE_URL)
    camb._requester._loop_state()
    http: httpx.AsyncClient | None = cast("Any", camb)._requester._pool.http
    assert http is not None
    real_aclose = http.aclose

    async def broken() -> None:
        raise RuntimeError("something else")

    monkeypatch.setattr(http, "aclose", broken)
    with pytest.raises(RuntimeError, match="something else"):
        await camb.aclose()
    await real_aclose()


@pytest.mark.parametrize(
    "limited",
    [
        pytest.param({"Retry-After": "1"}, id="retry-after"),
        pytest.param({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}, id="x-ratelimit-reset"),
    ],
)
async def test_rate_limit_pauses_other_requests_of_the_client(
    client: AsyncCambClient, router: respx.Router, limited: dict[str, str]
) -> None:
    """A 429 that names its wait (Retry-After, or an exhausted X-RateLimit's reset) holds back
    the client's other requests until the pause ends."""
    sent: dict[str, list[float]] = {"a": [], "b": []}
    first_sent = anyio.Event()

    def answer_a(request: httpx.Request) -> httpx.Response:
        sent["a"].append(anyio.current_time())
        if len(sent["a"]) == 1:
            first_sent.set()
            return httpx.Response(429, headers=limited)
        return ok()

    def answer_b(request: httpx.Request) -> httpx.Response:
        sent["b"].append(anyio.current_time())
        return ok("SUCCESS")

    router.get("/tts/a").mock(side_effect=answer_a)
    router.get("/tts/b").mock(side_effect=answer_b)
    statuses: list[TaskStatus] = []
    resume_at = 0.0
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.status, "a")
            await first_sent.wait()
            # Wait for the client to read the 429 (not a fixed sleep: a loaded machine may be slow).
            while client._requester._pool.loop is None or not client._requester._pool.loop.resume_at:  # noqa: ASYNC110 (no event to await)
                await anyio.sleep(0.01)
            resume_at = client._requester._pool.loop.resume_at
            assert anyio.current_time() < resume_at  # "a" is in its 1 s pause as "b" starts
            statuses.append(await client.status("b"))
    assert [status.status for status in statuses] == [TaskState.SUCCESS]
    assert len(sent["a"]) == 2
    assert len(sent["b"]) == 1
    assert resume_at >= sent["a"][0] + 1.0
    assert sent["b"][0] >= resume_at  # b waited for the pause to end
    assert sent["b"][0] < resume_at + 3.0  # ... and then went at once (generous: CI machines are slow)


async def test_rate_limit_pause_ending_between_two_clock_reads(
    client: AsyncCambClient, router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pause that ends while a request checks it never becomes a negative sleep (anyio's ValueError)."""
    router.get("/tts/abc").respond(200, json={"status": "PENDING"})
    state = client._requester._loop_state()
    real_clock = anyio.current_time
    end = real_clock() + 0.001
    state.resume_at = end
    reads = [end - 0.0005, end + 0.0005]  # still paused, then the pause is over

    def clock() -> float:
        return reads.pop(0) if reads else real_clock()

    monkeypatch.setattr(anyio, "current_time", clock)
    with anyio.fail_after(3):
        status = await client.status("abc")
    assert status.status == TaskState.PENDING


async def test_rate_limit_pause_holds_requests_queued_for_a_slot(router: respx.Router) -> None:
    """A request waiting for a free slot when a 429 arrives is held until the Retry-After pause ends."""
    sent: dict[str, list[float]] = {"a": [], "b": []}
    a_in_flight = anyio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[-1]
        sent[name].append(anyio.current_time())
        if name == "a" and len(sent["a"]) == 1:
            a_in_flight.set()
            await anyio.sleep(0.05)  # "b" queues for the only slot meanwhile
            return httpx.Response(429, headers={"Retry-After": "0.3"})
        return ok()

    router.get(path__regex=r"/tts/(a|b)$").mock(side_effect=answer)
    async with make_client(router, max_concurrent_requests=1) as camb:
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(camb.status, "a")
                await a_in_flight.wait()
                await camb.status("b")
    assert len(sent["a"]) == 2
    assert len(sent["b"]) == 1
    pause_end = sent["a"][0] + 0.05 + 0.3
    assert sent["b"][0] >= pause_end - 0.01


async def test_cancelled_wait_for_a_slot_leaks_no_slot(router: respx.Router) -> None:
    """A request cancelled while it waits for the only slot takes no slot; later requests still run."""
    release = anyio.Event()
    first_in_flight = anyio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/a"):
            first_in_flight.set()
            await release.wait()
        return ok()

    router.get(path__regex=r"/tts/(a|b|c)$").mock(side_effect=answer)
    async with make_client(router, max_concurrent_requests=1) as camb:
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(camb.status, "a")
                await first_in_flight.wait()
                with anyio.move_on_after(0.05) as waited:
                    await camb.status("b")  # waits for the slot "a" holds
                assert waited.cancelled_caught
                release.set()
            assert (await camb.status("c")).status == "PENDING"


# -- with_options ------------------------------------------------------------------


async def test_with_options_changes_retries_for_its_calls_only(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    route = router.get("/tts/abc").mock(side_effect=[httpx.Response(503), ok(), httpx.Response(503)])
    assert (await client.status("abc")).status is TaskState.PENDING  # retried once
    with pytest.raises(InternalServerError):
        await client.with_options(max_retries=0).status("abc")
    assert route.call_count == 3


async def test_with_options_sends_its_timeout_and_headers(
    client: AsyncCambClient, router: respx.Router
) -> None:
    route = router.get("/tts/abc").mock(return_value=ok())
    quick = client.with_options(timeout=2.5, headers={"x-trace": "t-1"})
    await quick.status("abc")
    sent = route.calls.last.request
    await client.status("abc")
    plain = route.calls.last.request
    assert sent.extensions["timeout"] == httpx.Timeout(2.5).as_dict()
    assert sent.headers["x-trace"] == "t-1"
    assert sent.headers["x-api-key"] == API_KEY
    assert "x-trace" not in plain.headers


async def test_with_options_refuses_to_replace_the_api_key(client: AsyncCambClient) -> None:
    with pytest.raises(ValueError, match="x-api-key"):
        client.with_options(headers={"X-API-Key": "other"})


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"max_retries": -1}, ValueError),
        ({"max_retries": 1.5}, TypeError),
        ({"max_outage": -1}, ValueError),
        ({"watch_timeout": 0}, ValueError),
        ({"retry_backoff": -1}, ValueError),
        ({"max_retry_backoff": 0.1}, ValueError),  # below the client's retry_backoff
        ({"breaker_wait": math.nan}, ValueError),
    ],
)
async def test_with_options_checks_its_options(
    client: AsyncCambClient, options: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        client.with_options(**options)


async def test_with_options_shares_the_pool_limits_and_pause(client: AsyncCambClient) -> None:
    derived = client.with_options(max_retries=0)
    assert derived._requester._pool is client._requester._pool
    assert derived._context.durations is client._context.durations


async def test_with_options_max_outage_zero_ends_a_watch_its_parent_rides_out(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    route = router.get("/tts/abc").mock(side_effect=[ok(), httpx.Response(500), ok(), ok("SUCCESS")])
    with pytest.raises(InternalServerError):
        await client.with_options(max_outage=0, max_retries=0).wait("abc")
    assert route.call_count == 2
    assert (await client.wait("abc")).status is TaskState.SUCCESS


async def test_closing_a_derived_client_leaves_its_parent_open(
    client: AsyncCambClient, router: respx.Router
) -> None:
    router.get("/tts/abc").mock(return_value=ok())
    async with client.with_options(max_retries=0) as derived:
        await derived.status("abc")
    assert derived.is_closed
    assert not client.is_closed
    await client.status("abc")
    with pytest.raises(ClientClosedError):
        await derived.status("abc")


async def test_closing_the_parent_closes_derived_clients(client: AsyncCambClient) -> None:
    derived = client.with_options(max_retries=0)
    await client.aclose()
    assert derived.is_closed
    with pytest.raises(ClientClosedError):
        await derived.status("abc")
