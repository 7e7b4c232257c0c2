"""Reading the raw answers of calls: their status, headers and request id.

``with capture_responses() as answers:`` collects, in order, one
:class:`RawResponse` per HTTP answer the API gives any client's calls made
inside the block (retried attempts included), and in tasks started there. A
context variable carries the list, so concurrent tasks each capturing see only
their own; outside a block nothing is kept and the request path pays one
context-variable read per answer.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Generator

    import httpx

__all__ = ["RawResponse", "capture_responses", "record"]

_SINK: contextvars.ContextVar[list[RawResponse] | None] = contextvars.ContextVar(
    "camb_async_captured_responses", default=None
)


@dataclasses.dataclass(frozen=True)
class RawResponse:
    """One HTTP answer of the API, as it came: no body (the call's value has it)."""

    method: str
    """The request's method."""
    path: str
    """The request's URL path (the query is left out: it may carry a secret)."""
    status_code: int
    headers: httpx.Headers
    """The answer's headers (they never hold the API key: that goes only in requests)."""
    http_version: str
    """``HTTP/1.1``, ``HTTP/2``..."""

    @property
    def request_id(self) -> str | None:
        """The ``x-request-id`` the API answered with, if any: quote it to CAMB.AI's support."""
        value: str | None = self.headers.get("x-request-id")
        return value


@contextlib.contextmanager
def capture_responses() -> Generator[list[RawResponse], None, None]:
    """Collect the raw answers of the calls made in the block (see the module docstring)::

    with capture_responses() as answers:
        task_id = await client.tts.create(text="Hi", voice_id=20303, language="en-us")
    print(answers[-1].status_code, answers[-1].request_id, answers[-1].headers)
    """
    answers: list[RawResponse] = []
    token = _SINK.set(answers)
    try:
        yield answers
    finally:
        _SINK.reset(token)


def record(response: httpx.Response) -> None:
    """Keep ``response`` for the capture in force, if any."""
    sink = _SINK.get()
    if sink is not None:
        request = response.request
        sink.append(
            RawResponse(
                method=request.method,
                path=request.url.path,
                status_code=response.status_code,
                headers=response.headers.copy(),
                http_version=response.http_version,
            )
        )
