"""What a failed request becomes: the ``CambError`` of an error answer, of an unreadable
2xx body, or of a request that got no answer at all. None shows the API key."""

from __future__ import annotations

import httpx
import pydantic

from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    CambError,
    CreateOutcomeUnknownError,
    ResponseValidationError,
    _CreateOutcomeUnknownTimeoutError,
    api_key_of,
    make_status_error,
    redact,
    shows,
)
from ._retry import was_never_sent

__all__ = ["cause_unless_it_shows_the_key", "status_error", "transport_error", "unreadable"]


def status_error(response: httpx.Response, *, idempotent: bool) -> CambError:
    """The error of an error answer (its body read). A gateway's 502 or 504 to a
    request that creates something says the API may have it: outcome unknown."""
    error = make_status_error(response)
    if idempotent or response.status_code not in (502, 504):
        return error
    unknown = CreateOutcomeUnknownError(
        f"{error}; a gateway gave up on the API after the request may have reached it, so "
        "whatever it creates may exist: sending it again could create it twice",
        request=response.request,
    )
    unknown.__cause__ = error
    return unknown


def transport_error(
    exc: httpx.HTTPError, method: str, url: str, *, idempotent: bool, contacted: bool
) -> CambError:
    """The ``CambError`` for a request that got no usable HTTP answer (``exc``, as
    ``true_transport_error`` gives it); ``contacted``: whether the client ever got an answer."""
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
    error = APITimeoutError(text, request=request) if timed_out else APIConnectionError(text, request=request)
    error.before_first_contact = not contacted
    return error


def unreadable(response: httpx.Response, exc: Exception) -> ResponseValidationError:
    """The error for a 2xx answer whose body ``exc`` says this SDK cannot read."""
    request = response.request
    kind = response.headers.get("content-type", "no content type")
    problems = _problems(exc) if isinstance(exc, pydantic.ValidationError) else str(exc)
    secret = api_key_of(request)
    return ResponseValidationError(
        redact(
            f"{request.method} {request.url.path} returned {response.status_code} with a body "
            f"this SDK cannot read ({kind}, {len(response.content)} bytes): {problems}",
            secret,
        ),
        response=response,
    )


def _problems(exc: pydantic.ValidationError) -> str:
    """What an answer lacked: the fields it missed (``missing audio_url``), else the first
    few problems. Where the answer may take several shapes, pydantic names each shape it
    tried in the error's location (``DubbingResult.audio_url``); those names are left out."""
    errors = exc.errors()
    missing = sorted({_field(err["loc"]) for err in errors if err["type"] == "missing"})
    if missing:
        return (
            "missing "
            + ", ".join(missing[:5])
            + (f" (and {len(missing) - 5} more)" if len(missing) > 5 else "")
        )
    return "; ".join(f"{_field(err['loc'])}: {err['msg']}" for err in errors[:3])


def _field(loc: tuple[int | str, ...]) -> str:
    """A location as dotted field names, without the union members' names (``DubbingResult``,
    ``dict[str,DubbingResult]``, ``str``): the API's fields are lower-case words."""
    kept = [str(part) for part in loc if not (isinstance(part, str) and _is_member_name(part))]
    return ".".join(kept) or "body"


def _is_member_name(part: str) -> bool:
    return part[:1].isupper() or "[" in part or part in _SCALARS


_SCALARS = frozenset({"str", "int", "float", "bool", "none"})


def cause_unless_it_shows_the_key(exc: Exception, response: httpx.Response) -> Exception | None:
    """``exc`` as the cause to chain, or ``None`` when its text quotes the API key (a server
    that sent the key back): the (redacted) message already says what was wrong."""
    secret = api_key_of(response.request)
    return None if shows(f"{exc}{exc!r}", secret) else exc


def _request_of(exc: httpx.HTTPError, method: str, url: str) -> httpx.Request:
    try:
        return exc.request
    except RuntimeError:  # httpx raises this when the error has no request attached
        return httpx.Request(method, url)
