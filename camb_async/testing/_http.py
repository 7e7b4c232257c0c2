"""One request as the endpoints see it, what they answer, and how it goes out over ASGI.

A body is a JSON value, ``bytes``, or :class:`Streamed`: chunks made one at a
time, so that a body of any size is never held whole in memory.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping, Sequence
from typing import Any, cast
from urllib.parse import parse_qsl

import anyio

__all__ = [
    "JSON",
    "Answer",
    "Handler",
    "Receive",
    "Request",
    "Scope",
    "Send",
    "Streamed",
    "as_dict",
    "as_list",
    "encode",
    "head",
    "integer",
    "integers",
    "invalid",
    "not_found",
    "prefix",
    "require",
    "send_answer",
    "until_disconnect",
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

JSON = "application/json"


@dataclasses.dataclass(frozen=True)
class Streamed:
    """A body sent chunk by chunk; ``length`` is its content-length (``None``: sent chunked)."""

    chunks: Callable[[], Iterator[bytes]]
    length: int | None = None


@dataclasses.dataclass(frozen=True)
class Answer:
    """One HTTP answer: a status, a body (JSON value, bytes or :class:`Streamed`), headers."""

    status: int
    payload: object
    content_type: str = JSON
    headers: tuple[tuple[bytes, bytes], ...] = ()


@dataclasses.dataclass
class Request:
    """One request: method, raw path (no query), headers, body (a multipart one parsed, as ``form``)."""

    method: str
    path: str
    headers: Mapping[str, str]
    query_string: str = ""
    body: bytes = b""
    form: dict[str, object] | None = None
    port: int = 80

    @functools.cached_property
    def query(self) -> dict[str, str]:
        """The query parameters (the last value of a repeated one)."""
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    @functools.cached_property
    def json(self) -> dict[str, object] | None:
        """The body as a JSON object (``None`` for a multipart body, invalid JSON, or another value)."""
        if self.form is not None:
            return None
        try:
            data = json.loads(self.body)
        except ValueError:
            return None
        return cast("dict[str, object]", data) if isinstance(data, dict) else None

    @property
    def files(self) -> str:
        """The base URL of result files, on ``localhost`` (the API itself is reached on 127.0.0.1)."""
        return f"http://localhost:{self.port}/_sim/files"


Handler = Callable[[Request, Mapping[str, str]], Answer]
"""An endpoint: the request and its path parameters in, the answer out."""


def invalid(*errors: tuple[Sequence[str | int], str, str]) -> Answer:
    """FastAPI's 422 answer for ``(loc, msg, type)`` errors."""
    return Answer(
        422, {"detail": [{"loc": list(loc), "msg": msg, "type": kind} for loc, msg, kind in errors]}
    )


def require(
    fields: Mapping[str, object] | None, required: Sequence[str | tuple[str, ...]]
) -> dict[str, object] | Answer:
    """``fields`` if each required one is there (of a tuple, any one), else FastAPI's 422 answer."""
    have = dict(fields or {})
    missing = [
        (("body", names if isinstance(names, str) else names[0]), "Field required", "missing")
        for names in required
        if not any(name in have for name in ((names,) if isinstance(names, str) else names))
    ]
    return invalid(*missing) if missing else have


def integers(values: Mapping[str, object], names: Sequence[str], where: str = "body") -> Answer | None:
    """The 422 answer if one of ``names`` is present in ``values`` but not an integer, or ``None``."""
    bad = [name for name in names if name in values and _integer(values[name]) is None]
    message = "Input should be a valid integer, unable to parse string as an integer"
    return invalid(*(((where, name), message, "int_parsing") for name in bad)) if bad else None


def _integer(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() and len(text) < 19 else None


def integer(value: object) -> int | None:
    """``value`` as an int (a form field's or query's digits too), or ``None``."""
    return None if value is None else _integer(value)


def as_list(value: object) -> list[object] | None:
    """``value`` if it is a JSON list, else ``None``."""
    return cast("list[object]", value) if isinstance(value, list) else None


def as_dict(value: object) -> dict[str, object] | None:
    """``value`` if it is a JSON object, else ``None``."""
    return cast("dict[str, object]", value) if isinstance(value, dict) else None


def not_found(what: str = "Not Found") -> Answer:
    """FastAPI's 404 answer."""
    return Answer(404, {"detail": what})


def encode(payload: object) -> bytes | Streamed:
    """The body as it goes on the wire: JSON values are serialised, bytes and streams kept."""
    if isinstance(payload, bytes | Streamed):
        return payload
    return json.dumps(payload).encode()


def head(
    status: int, content_type: str, length: int | None, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> Any:
    """The ``http.response.start`` message."""
    headers = [(b"content-type", content_type.encode())]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http.response.start", "status": status, "headers": [*headers, *extra]}


async def send_answer(send: Send, receive: Receive, answer: Answer) -> None:
    """Send ``answer``; a streamed body stops early once the client hangs up."""
    data = encode(answer.payload)
    if isinstance(data, bytes):
        await send(head(answer.status, answer.content_type, len(data), answer.headers))
        await send({"type": "http.response.body", "body": data})
        return
    await send(head(answer.status, answer.content_type, data.length, answer.headers))
    async with anyio.create_task_group() as group:

        async def stop_when_gone() -> None:
            await until_disconnect(receive)
            group.cancel_scope.cancel()

        group.start_soon(stop_when_gone)
        for chunk in data.chunks():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        group.cancel_scope.cancel()


def prefix(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    """The first ``size`` bytes of ``chunks``."""
    left = size
    for chunk in chunks:
        if left <= 0:
            return
        yield chunk[:left]
        left -= len(chunk)


async def until_disconnect(receive: Receive) -> None:
    """Return once the client hangs up."""
    while (await receive())["type"] != "http.disconnect":
        pass
