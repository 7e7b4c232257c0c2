"""The retry policy: which failures are retried, and how long to wait before the next try."""

from __future__ import annotations

import datetime
import email.utils
import random
import time

import httpx
import pytest

from camb_async._retry import (
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    backoff_delay,
    parse_retry_after,
    retry_delay,
    should_retry_exception,
    should_retry_response,
)

NOW = 1_700_000_000.0  # a whole second, so that HTTP-dates (1 s resolution) round-trip exactly


# -- parse_retry_after -------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": " 250 "}, 0.25),
        ({"retry-after-ms": "0"}, 0.0),
        ({"Retry-After": "2"}, 2.0),
        ({"Retry-After": "0.5"}, 0.5),
        ({"retry-after": "7"}, 7.0),
        ({"retry-after-ms": "250", "Retry-After": "10"}, 0.25),
        ({"retry-after-ms": "soon", "Retry-After": "3"}, 3.0),
        ({"retry-after-ms": "nan", "Retry-After": "3"}, 3.0),
    ],
    ids=[
        "ms",
        "ms-padded",
        "ms-zero",
        "seconds",
        "fractional-seconds",
        "lowercase-header",
        "ms-beats-seconds",
        "garbage-ms-falls-back",
        "nan-ms-falls-back",
    ],
)
def test_parse_retry_after_numbers(headers: dict[str, str], expected: float) -> None:
    """retry-after-ms (milliseconds) wins over Retry-After (seconds); both give seconds."""
    assert parse_retry_after(httpx.Headers(headers), now=NOW) == expected


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Retry-After": ""},
        {"Retry-After": "soon"},
        {"Retry-After": "NaN"},
        {"Retry-After": "inf"},
        {"Retry-After": "-inf"},
        {"Retry-After": "Infinity"},
        {"retry-after-ms": "inf"},
        {"retry-after-ms": "garbage"},
        {"Retry-After": "Wed, 32 Foo 2024 99:99:99 GMT"},
        {"Retry-After": "1, 2, 3"},
    ],
)
def test_parse_retry_after_without_usable_hint_is_none(headers: dict[str, str]) -> None:
    """Missing headers, garbage, NaN and infinities count as no hint at all."""
    assert parse_retry_after(httpx.Headers(headers), now=NOW) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "-5"}, 0.0),
        ({"retry-after-ms": "-100"}, 0.0),
        ({"Retry-After": "1e9"}, MAX_RETRY_AFTER),
        ({"Retry-After": "3600"}, MAX_RETRY_AFTER),
        ({"retry-after-ms": "99999999"}, MAX_RETRY_AFTER),
        ({"Retry-After": "60"}, 60.0),
    ],
)
def test_parse_retry_after_is_clamped(headers: dict[str, str], expected: float) -> None:
    """A negative hint becomes 0 and a huge one MAX_RETRY_AFTER (60 s)."""
    assert MAX_RETRY_AFTER == 60.0
    assert parse_retry_after(httpx.Headers(headers), now=NOW) == expected


def _offset_date(seconds: float, hours: int) -> str:
    zone = datetime.timezone(datetime.timedelta(hours=hours))
    return email.utils.format_datetime(datetime.datetime.fromtimestamp(NOW + seconds, tz=zone))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (email.utils.formatdate(NOW + 30, usegmt=True), 30.0),
        (email.utils.formatdate(NOW + 30), 30.0),  # "-0000": UTC with no zone given
        (_offset_date(45, hours=2), 45.0),
        (_offset_date(12, hours=-7), 12.0),
        (email.utils.formatdate(NOW, usegmt=True), 0.0),
        (email.utils.formatdate(NOW - 30, usegmt=True), 0.0),
        (email.utils.formatdate(NOW + 10**6, usegmt=True), MAX_RETRY_AFTER),
    ],
    ids=["gmt", "minus-0000", "plus-0200", "minus-0700", "now", "past", "far-future"],
)
def test_parse_retry_after_http_date(value: str, expected: float) -> None:
    """Retry-After as an HTTP-date is the time until that moment, clamped to [0, 60]."""
    assert parse_retry_after(httpx.Headers({"Retry-After": value}), now=NOW) == expected


def test_parse_retry_after_http_date_uses_current_time_by_default() -> None:
    """Without now=, an HTTP-date is measured from the current wall-clock time."""
    value = email.utils.formatdate(time.time() + 30, usegmt=True)
    delay = parse_retry_after(httpx.Headers({"Retry-After": value}))
    assert delay is not None
    assert 28.0 <= delay <= 30.0


def test_parse_retry_after_ms_beats_http_date() -> None:
    """retry-after-ms is read first even when Retry-After holds an HTTP-date."""
    headers = httpx.Headers({"retry-after-ms": "100", "Retry-After": email.utils.formatdate(NOW + 30)})
    assert parse_retry_after(headers, now=NOW) == 0.1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "7"}, 7.0, id="seconds"),
        pytest.param(
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 12)}, 12.0, id="unix-time"
        ),
        pytest.param(
            {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1m4.5s"},
            64.5,
            id="duration",
        ),
        pytest.param(
            {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "250ms"}, 0.25, id="ms"
        ),
        pytest.param(
            {"Retry-After": "3", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "7"},
            3.0,
            id="retry-after-first",
        ),
    ],
)
def test_an_exhausted_rate_limit_waits_until_its_reset(headers: dict[str, str], expected: float) -> None:
    """With no Retry-After, an answer that says no request is left waits until the reset it
    names: seconds from now, a Unix time, or a duration (clamped as Retry-After is)."""
    assert parse_retry_after(httpx.Headers(headers), now=NOW) == pytest.approx(min(expected, MAX_RETRY_AFTER))


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "7"}, id="requests-left"),
        pytest.param({"X-RateLimit-Reset": "7"}, id="no-remaining"),
        pytest.param({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "soon"}, id="garbage"),
        pytest.param({"X-RateLimit-Remaining": "0"}, id="no-reset"),
    ],
)
def test_a_rate_limit_with_requests_left_or_no_reset_names_no_wait(headers: dict[str, str]) -> None:
    assert parse_retry_after(httpx.Headers(headers), now=NOW) is None


# -- backoff -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retries_done", "ceiling"),
    [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (10, 8.0), (1000, 8.0)],
)
def test_backoff_delay_stays_within_jitter_bounds(retries_done: int, ceiling: float) -> None:
    """backoff_delay(n) is between 0.75x and 1x of min(0.5 * 2**n, 8)."""
    assert min(INITIAL_RETRY_DELAY * 2.0 ** min(retries_done, 16), MAX_RETRY_DELAY) == ceiling
    samples = [backoff_delay(retries_done) for _ in range(300)]
    assert all(0.75 * ceiling <= delay <= ceiling for delay in samples)
    assert len(set(samples)) > 1  # jittered, not constant


@pytest.mark.parametrize(("draw", "share"), [(0.0, 1.0), (0.5, 0.875), (0.999999, 0.75)])
def test_backoff_delay_jitter_extremes(monkeypatch: pytest.MonkeyPatch, draw: float, share: float) -> None:
    """The random draw shortens the backoff by 0-25 %: draw 0 keeps it whole, draw ~1 cuts a quarter."""
    monkeypatch.setattr(random, "random", lambda: draw)
    assert backoff_delay(2) == pytest.approx(2.0 * share, abs=1e-5)


def test_retry_delay_prefers_the_server_hint() -> None:
    """retry_delay returns the response's Retry-After when it has one."""
    response = httpx.Response(429, headers={"Retry-After": "4"})
    assert retry_delay(0, response) == 4.0


@pytest.mark.parametrize(
    "response", [None, httpx.Response(503), httpx.Response(503, headers={"Retry-After": "soon"})]
)
def test_retry_delay_falls_back_to_backoff(
    monkeypatch: pytest.MonkeyPatch, response: httpx.Response | None
) -> None:
    """Without a usable hint retry_delay is the exponential backoff for that retry."""
    monkeypatch.setattr(random, "random", lambda: 0.0)
    assert retry_delay(3, response) == 4.0


# -- should_retry_response ---------------------------------------------------------


@pytest.mark.parametrize("status_code", [408, 409, 429, 500, 502, 503, 504, 599])
def test_retryable_statuses_are_retried_when_idempotent(status_code: int) -> None:
    """408, 409, 429 and every 5xx are retried for an idempotent request."""
    assert should_retry_response(httpx.Response(status_code), idempotent=True) is True


@pytest.mark.parametrize("status_code", [400, 401, 402, 403, 404, 418, 422])
def test_client_error_statuses_are_not_retried(status_code: int) -> None:
    """400, 401, 402, 403, 404, 422 (and other 4xx) are never retried: the answer would not change."""
    assert should_retry_response(httpx.Response(status_code), idempotent=True) is False


@pytest.mark.parametrize(
    ("status_code", "hint", "expected"),
    [
        (400, "true", True),
        (404, "TRUE", True),
        (503, "false", False),
        (429, " False ", False),
        (503, "maybe", True),
        (400, "maybe", False),
    ],
)
def test_x_should_retry_overrides_status_rule(status_code: int, hint: str, expected: bool) -> None:
    """x-should-retry: true/false overrides the status rule either way; other values are ignored."""
    response = httpx.Response(status_code, headers={"x-should-retry": hint})
    assert should_retry_response(response, idempotent=True) is expected


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500),
        httpx.Response(503),
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.Response(408),
        httpx.Response(500, headers={"x-should-retry": "true"}),
    ],
)
def test_non_idempotent_request_never_retried_on_response(response: httpx.Response) -> None:
    """A non-idempotent request is never retried once the server answered, whatever it said."""
    assert should_retry_response(response, idempotent=False) is False


# -- should_retry_exception --------------------------------------------------------


@pytest.mark.parametrize("idempotent", [True, False])
@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_never_sent_errors_are_always_retried(error: type[httpx.TransportError], idempotent: bool) -> None:
    """Errors raised before the request left (connect, pool) are retried even for a POST."""
    assert should_retry_exception(error("boom"), idempotent=idempotent) is True


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout,
        httpx.WriteTimeout,
        httpx.ReadError,
        httpx.WriteError,
        httpx.RemoteProtocolError,
        httpx.LocalProtocolError,
    ],
)
@pytest.mark.parametrize("idempotent", [True, False])
def test_errors_after_sending_only_retried_when_idempotent(
    error: type[httpx.TransportError], idempotent: bool
) -> None:
    """Errors that may come after the request reached the server are retried only for a GET."""
    assert should_retry_exception(error("boom"), idempotent=idempotent) is idempotent


@pytest.mark.parametrize("idempotent", [True, False])
def test_an_undecodable_body_is_retried_like_an_unreadable_one(idempotent: bool) -> None:
    """A corrupt gzip body: a GET is sent again, a POST is not."""
    assert should_retry_exception(httpx.DecodingError("bad gzip"), idempotent=idempotent) is idempotent


@pytest.mark.parametrize("idempotent", [True, False])
def test_other_non_transport_http_errors_are_not_retried(idempotent: bool) -> None:
    request = httpx.Request("GET", "https://x/apis/tts/abc")
    assert (
        should_retry_exception(httpx.TooManyRedirects("loop", request=request), idempotent=idempotent)
        is False
    )
