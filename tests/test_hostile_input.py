"""Property tests: hostile caller input and hostile server answers never escape as anything
but a clean ``ValueError``/``TypeError`` (caller input) or a ``CambError`` (server answers).

Each property runs on asyncio and on trio through the anyio pytest plugin, which drives
hypothesis's examples inside one event loop. Every example builds its own respx router and
client, so no function-scoped fixture is shared between examples.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import math
import operator
import string
from contextlib import aclosing
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast
from unittest import mock
from urllib.parse import unquote

import anyio.lowlevel
import httpx
import pytest
import respx
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from support import BASE_URL, make_client

import camb_async._clock
from camb_async import (
    APIStatusError,
    AsyncCambClient,
    CambError,
    ResponseValidationError,
    TaskState,
    TaskStatus,
    WatchTimeoutError,
)
from camb_async._exceptions import make_status_error
from camb_async._resources import FAMILIES
from camb_async._retry import MAX_RETRY_AFTER, MAX_RETRY_DELAY, parse_retry_after, retry_delay
from camb_async.testing import set_testing

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

pytestmark = pytest.mark.anyio

# Robust on a loaded 2-core machine: no per-example deadline, no "too slow" failures, and
# no example database written into the work tree (a failure prints its reproduction blob).
HOSTILE = settings(
    max_examples=100,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

FAMILY_NAMES = sorted(FAMILIES)
API_PREFIX = b"/apis/"
RETRY_CAP = max(MAX_RETRY_AFTER, MAX_RETRY_DELAY)

# -- strategies --------------------------------------------------------------------

# Pieces that path handling tends to get wrong, glued together in any order.
NASTY_PIECES = [
    "/", "..", ".", "%2F", "%2f", "%2e%2e", "?", "#", "\\", "%", "%00", "%zz", ";", "&", "=",
    " ", "\t", "\n", "\r\n", "\x00", "\x7f", "\u00a0", "\u2028", "\u200b", "\ufeff",
    "é", "日本", "\U0001f600", "a", "Z", "9", "-", "_", "~", "@", ":", "+",
]  # fmt: skip
nasty_text = st.lists(st.sampled_from(NASTY_PIECES), max_size=12).map("".join)
# text() leaves out lone surrogates (they cannot be encoded); hostile input has them too.
surrogate_text = st.text(alphabet=st.characters(categories=["Cs", "Ll", "Cc", "Zs"]), max_size=12)


class HostileStr(str):
    """A str whose methods lie: path checks and encoding must use the plain string value."""

    def __iter__(self) -> Any:
        return iter("ok")

    def strip(self, chars: str | None = None) -> str:
        return "ok"

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return b".."

    def __str__(self) -> str:
        return ".."

    def __format__(self, spec: str) -> str:
        return ".."


class HostileInt(int):
    """An int that prints as a path traversal."""

    def __str__(self) -> str:
        return "1/../../admin"

    def __repr__(self) -> str:
        return "1/../../admin"

    def __format__(self, spec: str) -> str:
        return "1/../../admin"


hostile_str_ids = st.one_of(st.text(max_size=20), nasty_text).map(HostileStr)
task_ids = st.one_of(
    st.text(),
    nasty_text,
    surrogate_text,
    st.text(alphabet=string.printable, max_size=40),
    st.text(min_size=400, max_size=700),
    st.builds(operator.mul, st.sampled_from(["x", ".", "é", "%", "/"]), st.integers(500, 530)),
    hostile_str_ids,
)
non_str_ids = st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=8), st.booleans())

run_ids = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.booleans(),
    st.text(max_size=20),
    st.floats(),
    st.none(),
    st.just(10**5000),  # more digits than int-to-str conversion allows
    st.integers(min_value=0, max_value=2**70).map(HostileInt),
)


def json_strategy(*strings: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Any JSON value whose strings (keys too) come from ``strings``."""
    text = st.one_of(*strings)
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), text
    )
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
        max_leaves=20,
    )


# Valid JSON text (what a server can send as UTF-8), and JSON whose strings may hold lone
# surrogates (sent as "\ud800" escapes, which the parser refuses).
json_values = json_strategy(st.text(max_size=12))
json_values_with_surrogates = json_strategy(st.text(max_size=12), surrogate_text)
status_field = st.one_of(st.sampled_from([s.value for s in TaskState]), st.text(max_size=12), json_values)
# Bodies shaped roughly like a status answer, so that the model's fields see hostile values too.
status_like = st.fixed_dictionaries(
    {"status": status_field},
    optional={
        "run_id": json_values,
        "exception_reason": json_values,
        "message": json_values,
        "extra": json_values,
    },
)
content_types = st.one_of(
    st.sampled_from(
        [
            None,
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=utf-16",
            "application/json; charset=no-such-codec",
            "text/html",
            "text/plain; charset=latin-1",
            "application/octet-stream",
            "",
        ]
    ),
    st.text(max_size=30),
)


def raw_utf8(value: str) -> bytes:
    """``value`` as UTF-8 bytes, lone surrogates included: httpx refuses non-ASCII ``str``
    header values and surrogates in ``text=``, not bytes."""
    return value.encode("utf-8", "surrogatepass")


def http_date(moment: datetime.datetime) -> str:
    return email.utils.format_datetime(moment.replace(tzinfo=datetime.timezone.utc), usegmt=True)


# Retry-header values that parsers tend to get wrong.
RETRY_GARBAGE = [
    "nan",
    "NaN",
    "-nan",
    "inf",
    "-inf",
    "Infinity",
    "1e309",
    "-1e309",
    "1e-400",
    "0",
    "-0",
    "-1",
    "  7  ",
    "1_000",
    "0x10",
    "\u0661\u0662",
    "",
    " ",
    "1, 2",
    "Wed, 32 Foo 2024 99:99:99 GMT",
    "Mon, 01 Jan 2000 00:00:00 +9999",
    "Mon, 01 Jan 2000 00:00:00 -0000",
    "Tue, 31 Dec 9999 23:59:59 GMT",
    "Mon, 01 Jan 0001 00:00:00 GMT",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "9" * 5000,
]
retry_header_values = st.one_of(
    st.text(max_size=40),
    st.integers().map(str),
    st.integers(min_value=-(10**400), max_value=10**400).map(str),
    st.floats().map(repr),
    st.floats().map(str),
    st.sampled_from(RETRY_GARBAGE),
    st.datetimes(min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31)).map(
        http_date
    ),
).map(raw_utf8)
raw_header_values = st.one_of(retry_header_values, st.binary(max_size=40))


def new_router() -> respx.Router:
    """A strict router of its own for one example (a request to an unmocked route fails)."""
    return respx.Router(base_url=BASE_URL, assert_all_mocked=True)


async def outcome(call: Callable[[], Awaitable[object]]) -> object:
    """The call's result, or the exception it raised (anything but a cancellation)."""
    try:
        return await call()
    except Exception as exc:  # noqa: BLE001 - the property checks what escaped
        return exc


async def poke(client: AsyncCambClient, method: str, task_id: Any, family: Any) -> object:
    """Drive ``method`` (status, watch or wait) of ``client`` once on ``task_id``."""
    if method == "status":
        return await client.status(task_id, family=family)
    if method == "wait":
        return await client.wait(task_id, family=family, timeout=5)
    async with aclosing(client.watch(task_id, family=family, timeout=5)) as statuses:
        return [status async for status in statuses]


def assert_one_safe_segment(request: httpx.Request, prefix: bytes, expected: str) -> None:
    """``request`` went to ``{prefix}{segment}``: one segment that decodes back to ``expected``."""
    raw_path = request.url.raw_path
    assert raw_path.startswith(prefix), raw_path
    segment = raw_path[len(prefix) :]
    assert segment, raw_path
    assert b"/" not in segment
    assert b"?" not in segment
    assert b"#" not in segment
    assert b"\\" not in segment
    assert segment not in (b".", b".."), raw_path
    assert request.url.query == b""
    assert request.url.fragment == ""
    assert all(0x21 <= byte <= 0x7E for byte in segment), raw_path  # nothing but visible ASCII
    assert unquote(segment.decode("ascii"), errors="strict") == expected


# -- task ids ----------------------------------------------------------------------


@HOSTILE
@given(
    task_id=task_ids,
    family=st.sampled_from(FAMILY_NAMES),
    method=st.sampled_from(["status", "watch", "wait"]),
)
@example(task_id="..", family="tts", method="status")
@example(task_id="%2e%2e", family="dubbing", method="wait")
@example(task_id="a/../../voices", family="tts", method="watch")
@example(task_id="x?admin=1#frag", family="subtitles", method="status")
@example(task_id="\u2028", family="story", method="status")
@example(task_id="x" * 512, family="translated_tts", method="wait")
@example(task_id=HostileStr("ok"), family="tts", method="status")
@example(task_id=HostileStr("a/b"), family="tts", method="wait")
async def test_task_id_is_refused_or_sent_as_one_safe_segment(task_id: str, family: str, method: str) -> None:
    """Any string as a task id, for every family and every way of reading a task: either a
    ValueError before any request, or exactly one request to ``/apis/{family's path}/{segment}``
    where the segment decodes back to the id and cannot address another URL."""
    router = new_router()
    route = router.route().respond(200, json={"status": "SUCCESS", "run_id": 1})
    async with make_client(router, max_retries=0) as client:
        result = await outcome(lambda: poke(client, method, task_id, family))
    if isinstance(result, ValueError):
        assert route.call_count == 0
        assert "task_id" in str(result)
        return
    assert not isinstance(result, BaseException), repr(result)
    assert route.call_count == 1
    prefix = API_PREFIX + FAMILIES[family].endpoints.segment.encode() + b"/"
    assert_one_safe_segment(route.calls.last.request, prefix, task_id)


@HOSTILE
@given(
    task_id=non_str_ids,
    family=st.sampled_from(FAMILY_NAMES),
    method=st.sampled_from(["status", "watch", "wait"]),
)
async def test_non_string_task_id_is_a_type_error_before_any_request(
    task_id: object, family: str, method: str
) -> None:
    """A task id that is not a str is a TypeError, and nothing is sent."""
    router = new_router()
    route = router.route().respond(200, json={"status": "SUCCESS"})
    async with make_client(router, max_retries=0) as client:
        result = await outcome(lambda: poke(client, method, task_id, family))
    assert isinstance(result, TypeError), repr(result)
    assert "task_id must be a str" in str(result)
    assert route.call_count == 0


@HOSTILE
@given(family=st.text(max_size=20), method=st.sampled_from(["status", "watch", "wait"]))
@example(family="tts/..", method="status")
@example(family="../voices", method="wait")
async def test_unknown_family_is_refused_before_any_request(family: str, method: str) -> None:
    """Any string that is not a known family is a ValueError, and nothing is sent."""
    assume(family not in FAMILIES)
    router = new_router()
    route = router.route().respond(200, json={"status": "SUCCESS"})
    async with make_client(router, max_retries=0) as client:
        result = await outcome(lambda: poke(client, method, "abc", family))
    assert isinstance(result, ValueError), repr(result)
    assert "unknown task family" in str(result)
    assert route.call_count == 0


@HOSTILE
@given(run_id=run_ids)
@example(run_id=True)
@example(run_id=False)
@example(run_id=-1)
@example(run_id=0)
@example(run_id=2**64)
@example(run_id="1/../../admin")
@example(run_id=10**5000)
@example(run_id=-(10**5000))
@example(run_id=HostileInt(3))
async def test_run_id_is_refused_or_sent_as_one_safe_segment(run_id: object) -> None:
    """Any value as a run id: a TypeError/ValueError before any request, or exactly one
    request to ``/apis/tts-result/{digits}`` for a non-negative int."""
    router = new_router()
    route = router.route().respond(200, content=b"RIFF")
    async with make_client(router, max_retries=0) as client:
        result = await outcome(lambda: client.tts.result(run_id))  # type: ignore[call-overload]
    if isinstance(result, (TypeError, ValueError)):
        assert route.call_count == 0
        assert "run_id" in str(result)
        return
    assert result == b"RIFF"
    assert isinstance(run_id, int)
    assert not isinstance(run_id, bool)
    assert run_id >= 0
    assert route.call_count == 1
    digits = int.__repr__(run_id)  # the value's own digits, whatever a subclass prints
    assert_one_safe_segment(route.calls.last.request, API_PREFIX + b"tts-result/", digits)
    assert digits.isdigit()


# -- hostile answers ---------------------------------------------------------------


def response_with(status_code: int, content: bytes, content_type: str | None) -> httpx.Response:
    headers = [] if content_type is None else [(b"content-type", raw_utf8(content_type))]
    return httpx.Response(status_code, content=content, headers=headers)


async def status_outcome(response: httpx.Response, **options: Any) -> tuple[object, int]:
    """Ask for a status once, answered by ``response``; return the outcome and the call count."""
    router = new_router()
    route = router.get("/tts/abc").mock(return_value=response)
    async with make_client(router, **options) as client:
        result = await outcome(lambda: client.status("abc"))
    return result, route.call_count


def assert_status_or_validation_error(result: object) -> None:
    if isinstance(result, TaskStatus):
        return
    assert isinstance(result, ResponseValidationError), repr(result)
    assert result.response.status_code == 200
    assert str(result)  # neither str() nor repr() may raise
    assert repr(result)


DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 5_000 + b"1" + b"}" * 5_000


@HOSTILE
@given(body=st.one_of(json_values_with_surrogates, status_like), content_type=content_types)
@example(body=None, content_type="application/json")
@example(body=[{"status": "PENDING"}], content_type="application/json")
@example(body={"status": None}, content_type="application/json")
@example(body={"status": "SUCCESS", "run_id": 1.5}, content_type="application/json")
@example(body={"status": "SUCCESS", "run_id": 10**40}, content_type="application/json")
@example(body={"status": "SUCCESS", "message": {"a": [1, {"b": None}]}}, content_type="text/html")
async def test_any_json_body_of_a_200_is_a_status_or_a_validation_error(
    body: object, content_type: str
) -> None:
    """Whatever JSON a 200 holds, status() returns a TaskStatus or raises ResponseValidationError."""
    content = json.dumps(body).encode()
    result, calls = await status_outcome(response_with(200, content, content_type), max_retries=0)
    assert calls == 1
    assert_status_or_validation_error(result)
    if isinstance(result, TaskStatus):  # a status object, a bare status string, or {"run_id": N}
        if isinstance(body, str):
            assert result.status == body
        else:
            assert isinstance(body, dict)
            fields = cast("dict[str, object]", body)
            assert result.status == fields.get("status", TaskState.SUCCESS)


@HOSTILE
@given(content=st.binary(max_size=200), content_type=content_types)
@example(content=b"", content_type="application/json")
@example(content=b"\xff\xfe\x00", content_type="application/json; charset=utf-8")
@example(content=b'{"status": "\xff"}', content_type="application/json")
@example(content=b'{"status": "PEN', content_type="application/json")
@example(content=b'\xef\xbb\xbf{"status": "PENDING"}', content_type="application/json")
@example(content=b'{"status": "PENDING", "run_id": 1' + b"0" * 5000 + b"}", content_type="application/json")
@example(content=DEEP_ARRAY, content_type="application/json")
@example(content=DEEP_OBJECT, content_type="application/json")
@example(content=b'{"status": NaN}', content_type="application/json")
async def test_any_bytes_as_a_200_body_are_a_status_or_a_validation_error(
    content: bytes, content_type: str
) -> None:
    """Whatever bytes a 200 holds, status() returns a TaskStatus or raises ResponseValidationError."""
    result, calls = await status_outcome(response_with(200, content, content_type), max_retries=0)
    assert calls == 1
    assert_status_or_validation_error(result)


@HOSTILE
@given(
    status_code=st.integers(min_value=400, max_value=599),
    content=st.one_of(
        st.binary(max_size=200), json_values_with_surrogates.map(lambda v: json.dumps(v).encode())
    ),
    content_type=content_types,
)
@example(status_code=500, content=DEEP_ARRAY, content_type="application/json")
@example(status_code=422, content=DEEP_OBJECT, content_type="application/json")
@example(status_code=400, content=b"[" * 900 + b"]" * 900, content_type="application/json")
@example(status_code=404, content=b"\xff\xfe\xfa", content_type="application/json; charset=utf-8")
@example(status_code=400, content=b"\x00\x00", content_type="application/json; charset=utf-16")  # no BOM
@example(status_code=503, content=b'{"a": 1' + b"0" * 5000 + b"}", content_type="application/json")
async def test_any_error_body_is_the_status_error_of_its_code(
    status_code: int, content: bytes, content_type: str
) -> None:
    """Whatever body an error status holds, status() raises an APIStatusError of that code."""
    result, calls = await status_outcome(response_with(status_code, content, content_type), max_retries=0)
    assert calls == 1
    assert isinstance(result, APIStatusError), repr(result)
    assert result.status_code == status_code
    assert f"returned {status_code}" in str(result)
    assert repr(result)


@settings(HOSTILE, max_examples=20)
@given(content=st.binary(max_size=60), content_type=content_types)
async def test_unreadable_200_bodies_are_retried_then_a_validation_error(
    content: bytes, content_type: str
) -> None:
    """With retries (and instant sleeps) an unreadable 200 is tried 3 times, then raised as
    ResponseValidationError; a readable one comes back after one try."""
    with set_testing():
        result, calls = await status_outcome(response_with(200, content, content_type))
    assert_status_or_validation_error(result)
    assert calls == (1 if isinstance(result, TaskStatus) else 3)


# -- status values -----------------------------------------------------------------

MODEL_FIELDS = frozenset(TaskStatus.model_fields)
extra_fields = st.dictionaries(
    st.text(max_size=10).filter(lambda k: k not in MODEL_FIELDS), json_values, max_size=5
)


@HOSTILE
@given(value=st.one_of(st.text(), st.sampled_from([s.value for s in TaskState])), extras=extra_fields)
@example(value="PROCESSING", extras={"eta": 3})
@example(value="success", extras={})
@example(value=" SUCCESS", extras={})
@example(value="", extras={"": None})
@example(value="SUCCESS", extras={"_private": 1, "__class__": "x", "model_config": {}, "is_terminal": False})
async def test_any_status_string_is_kept_and_extra_fields_too(value: str, extras: dict[str, object]) -> None:
    """Any string as "status" is kept (a known one as its TaskState member, an unknown one
    as the same plain string), and every extra field is kept as sent."""
    body = {"status": value, **extras}
    result, calls = await status_outcome(httpx.Response(200, json=body), max_retries=0)
    assert calls == 1
    assert isinstance(result, TaskStatus), repr(result)
    assert result.status == value
    known = value in {s.value for s in TaskState}
    assert isinstance(result.status, TaskState) is known
    if not known:
        assert type(result.status) is str
        assert not result.is_terminal
        assert not result.is_success
    assert result.model_extra == extras
    assert isinstance(result.is_terminal, bool)
    assert str(result)
    assert repr(result)


# -- Retry-After -------------------------------------------------------------------


def answer_with_retry_headers(
    status_code: int, retry_after: bytes | None, retry_after_ms: bytes | None
) -> httpx.Response:
    headers: list[tuple[bytes, bytes]] = []
    if retry_after is not None:
        headers.append((b"Retry-After", retry_after))
    if retry_after_ms is not None:
        headers.append((b"retry-after-ms", retry_after_ms))
    return httpx.Response(status_code, headers=headers)


def assert_bounded_delay(delay: object) -> None:
    assert isinstance(delay, float), repr(delay)
    assert math.isfinite(delay)
    assert 0.0 <= delay <= RETRY_CAP


@settings(HOSTILE, max_examples=500)
@given(
    retry_after=st.none() | raw_header_values,
    retry_after_ms=st.none() | raw_header_values,
    retries_done=st.integers(min_value=0, max_value=10**6),
    status_code=st.sampled_from([408, 409, 429, 500, 502, 503, 504]),
)
@example(retry_after=b"1e309", retry_after_ms=b"nan", retries_done=0, status_code=429)
@example(retry_after=b"-5", retry_after_ms=None, retries_done=0, status_code=429)
@example(retry_after=b"9" * 5000, retry_after_ms=b"-inf", retries_done=3, status_code=503)
@example(retry_after=b"Mon, 01 Jan 2000 00:00:00 +9999", retry_after_ms=None, retries_done=0, status_code=429)
@example(retry_after=b"Tue, 31 Dec 9999 23:59:59 GMT", retry_after_ms=None, retries_done=0, status_code=429)
@example(retry_after=b"Mon, 01 Jan 0001 00:00:00 GMT", retry_after_ms=None, retries_done=0, status_code=429)
@example(retry_after=b"\xff\xfe", retry_after_ms=b"\x00", retries_done=2**40, status_code=500)
def test_any_retry_header_gives_a_finite_bounded_delay(
    retry_after: bytes | None, retry_after_ms: bytes | None, retries_done: int, status_code: int
) -> None:
    """Whatever Retry-After and retry-after-ms hold, the delay before a retry is a finite
    float in [0, cap] and computing it never raises."""
    response = answer_with_retry_headers(status_code, retry_after, retry_after_ms)
    hinted = parse_retry_after(response.headers)
    if hinted is not None:
        assert_bounded_delay(hinted)
        assert hinted <= MAX_RETRY_AFTER
    assert_bounded_delay(retry_delay(retries_done, response))


@settings(HOSTILE, max_examples=40)
@given(retry_after=raw_header_values, retry_after_ms=st.none() | raw_header_values)
@example(retry_after=b"1e309", retry_after_ms=None)
@example(retry_after=b"Tue, 31 Dec 9999 23:59:59 GMT", retry_after_ms=None)
@example(retry_after=b"-99999999999", retry_after_ms=b"99999999999999")
async def test_429_with_a_hostile_retry_after_sleeps_a_bounded_time(
    retry_after: bytes, retry_after_ms: bytes | None
) -> None:
    """A 429 whose retry headers hold anything leads only to bounded sleeps, then the retry."""
    delays: list[float] = []

    async def recording_sleep(seconds: float) -> None:
        delays.append(seconds)
        await anyio.lowlevel.checkpoint()

    limited = answer_with_retry_headers(429, retry_after, retry_after_ms)
    router = new_router()
    route = router.get("/tts/abc").mock(
        side_effect=[limited, httpx.Response(200, json={"status": "SUCCESS"})]
    )
    # Every SDK wait goes through camb_async._clock.sleep, which calls its module's `asyncio.sleep`
    # or `anyio.sleep`: swap those names (not the libraries) to record each wait and return at once.
    fake_anyio = SimpleNamespace(sleep=recording_sleep, current_time=anyio.current_time)
    fake_asyncio = SimpleNamespace(sleep=recording_sleep)
    with (
        set_testing(False),
        mock.patch.object(camb_async._clock, "anyio", fake_anyio),
        mock.patch.object(camb_async._clock, "asyncio", fake_asyncio),
    ):
        async with make_client(router, max_retries=1) as client:
            status = await client.status("abc")
    assert status.status is TaskState.SUCCESS
    assert route.call_count == 2
    assert delays, "the retry did not wait at all"
    for delay in delays:
        assert math.isfinite(delay)
        assert 0.0 <= delay <= RETRY_CAP


# -- server text in error messages -------------------------------------------------

hostile_server_text = st.one_of(
    st.text(),
    nasty_text,
    surrogate_text,
    st.sampled_from(["ok\nFAKE 12:00 INFO admin logged in", "\x1b[2J\x1b[31mred", "a\rb", "x" * 100_000]),
)
MAX_ERROR_TEXT = 1_200  # the task id (up to 512 characters, repr'd) plus bounded server text


def assert_one_clean_line(text: str) -> None:
    assert text.isprintable(), repr(text[:200])  # no newline, no escape sequence, no control
    assert len(text) <= MAX_ERROR_TEXT, len(text)


@HOSTILE
@given(
    final=st.sampled_from(["ERROR", "TIMEOUT", "PAYMENT_REQUIRED"]),
    reason=st.none() | hostile_server_text,
    message=st.none() | hostile_server_text | json_values,
)
@example(final="ERROR", reason="ok\nFAKE 12:00 INFO admin logged in", message="\x1b[31mred")
@example(final="TIMEOUT", reason="x" * 100_000, message="y" * 100_000)
async def test_task_error_text_is_one_bounded_printable_line(
    final: str, reason: str | None, message: object
) -> None:
    """A failed task's exception_reason and message (server text) cannot forge log lines,
    send terminal escapes or blow up the error text: it stays one bounded, printable line."""
    router = new_router()
    body = {"status": final, "exception_reason": reason, "message": message}
    # ASCII-escaped JSON, so that lone surrogates can be sent (they make the body unreadable).
    router.get("/tts/abc").respond(200, content=json.dumps(body).encode(), content_type="application/json")
    async with make_client(router, max_retries=0, max_outage=0) as client:
        result = await outcome(lambda: client.wait("abc"))
    if isinstance(result, ResponseValidationError):  # a message the model refuses, a lone surrogate
        return
    assert isinstance(result, CambError), repr(result)
    assert type(result).__name__.startswith("Task"), repr(result)
    assert_one_clean_line(str(result))


@HOSTILE
@given(status=hostile_server_text)
@example(status="PROCESSING\nFAKE 12:00 INFO admin logged in")
@example(status="z" * 100_000)
def test_watch_timeout_text_is_one_bounded_printable_line(status: str) -> None:
    """The last status a WatchTimeoutError quotes (server text) is one bounded, printable line."""
    error = WatchTimeoutError("abc", 1.5, TaskStatus(status=status))
    assert_one_clean_line(str(error))
    assert error.last_status is not None
    assert error.last_status.status == status  # the status itself is kept as sent


@HOSTILE
@given(status_code=st.integers(min_value=400, max_value=599), text=hostile_server_text)
@example(status_code=500, text="ok\nFAKE 12:00 INFO admin logged in\x1b[0m")
def test_status_error_text_is_one_bounded_printable_line(status_code: int, text: str) -> None:
    """An error body quoted in an APIStatusError's text is one bounded, printable line."""
    request = httpx.Request("GET", f"{BASE_URL}/tts/abc")
    response = httpx.Response(status_code, content=raw_utf8(text), request=request)  # surrogates too
    assert_one_clean_line(str(make_status_error(response)))
