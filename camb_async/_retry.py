"""When a failed request is tried again, and how long to wait before it.

Policy (the Stainless SDKs' semantics, with Fern's retry-header bugs fixed):

* GETs are idempotent: they are retried on any transport error (connect, read,
  protocol, timeouts), on 408, 409, 429 and every 5xx, and on a 2xx body that
  cannot be read (a proxy's HTML page, a body cut short).
* Any other request (a POST that creates a task) is retried only when it
  surely never reached the server: the connection was never made, or no pool
  slot was free. Retrying it otherwise could create the task twice.
* 400, 401, 402, 403, 404 and 422 are never retried: the same request gets the
  same answer.
* A server's ``x-should-retry: true|false`` overrides the status rule.
* The wait honours ``retry-after-ms``, then ``Retry-After`` in seconds, then
  ``Retry-After`` as an HTTP-date, then, on an answer that says no request is left
  (``X-RateLimit-Remaining: 0``), the moment ``X-RateLimit-Reset`` names (seconds
  from now, a Unix time, or a duration such as ``6m0s``; also the ``-requests``
  forms), clamped to ``[0, MAX_RETRY_AFTER]``; without them it is exponential
  backoff with jitter.
"""

from __future__ import annotations

import datetime
import email.utils
import math
import random
import re
import time

import httpx

__all__ = [
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "backoff_delay",
    "parse_retry_after",
    "retry_delay",
    "should_retry_exception",
    "should_retry_response",
    "was_never_sent",
]

INITIAL_RETRY_DELAY = 0.5
"""Backoff before the first retry, in seconds; it doubles with each retry."""
MAX_RETRY_DELAY = 8.0
"""Longest backoff between retries when the server gives no hint, in seconds."""
MAX_RETRY_AFTER = 60.0
"""Longest server-requested wait (Retry-After) the SDK will honour, in seconds."""

_RETRY_STATUSES = frozenset({408, 409, 429})
# Errors raised before the request's first byte left this machine.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def was_never_sent(exc: httpx.HTTPError) -> bool:
    """Whether the request that failed with ``exc`` surely never left this machine:
    its connection was never made (refused, unresolved, TLS or connect timeout) or
    it never got a pool slot. Judge the error after ``true_transport_error``."""
    return isinstance(exc, _NEVER_SENT)


def should_retry_exception(exc: httpx.HTTPError, *, idempotent: bool) -> bool:
    """Whether a request that failed with the httpx error ``exc`` may be sent again.

    A body that could not be decoded (a corrupt gzip) is an unreadable body, like
    broken JSON: a GET is sent again, anything else is not."""
    if isinstance(exc, _NEVER_SENT):
        return True
    return idempotent and isinstance(exc, (httpx.TransportError, httpx.DecodingError))


def should_retry_response(response: httpx.Response, *, idempotent: bool) -> bool:
    """Whether the error ``response`` is worth sending the request again."""
    if not idempotent:
        return False
    hint = str(response.headers.get("x-should-retry", "")).strip().lower()
    if hint in ("true", "false"):
        return hint == "true"
    return response.status_code in _RETRY_STATUSES or response.status_code >= 500


def parse_retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """The wait, in seconds, that the server asked for, or ``None`` if it asked none.

    Reads ``retry-after-ms``, then ``Retry-After`` as seconds, then as an
    HTTP-date. Garbage, NaN and infinities count as no hint; the result is
    clamped to ``[0, MAX_RETRY_AFTER]``.
    """
    seconds = _number(headers.get("retry-after-ms"), scale=1000.0)
    if seconds is None:
        value = headers.get("retry-after")
        seconds = _number(value, scale=1.0)
        if seconds is None and value:
            seconds = _http_date_delay(value, time.time() if now is None else now)
    if seconds is None:
        seconds = _rate_limit_reset(headers, time.time() if now is None else now)
    if seconds is None:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


_EPOCH_FROM = 1e9
"""An ``X-RateLimit-Reset`` at least this large is a Unix time (GitHub's), not seconds from now."""
_DURATION = re.compile(
    r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?"
)


def _rate_limit_reset(headers: httpx.Headers, now: float) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` (or ``X-RateLimit-Reset-Requests``), when the same
    answer says no request is left (``X-RateLimit-Remaining[-Requests]: 0``); else ``None``.
    Several APIs send these headers, each its own way: seconds from now, a Unix time, or a
    duration such as ``1s`` or ``6m0s``; all three are read."""
    for suffix in ("", "-requests"):
        if _number(headers.get(f"x-ratelimit-remaining{suffix}"), scale=1.0) != 0.0:
            continue
        value = headers.get(f"x-ratelimit-reset{suffix}")
        if not value:
            continue
        number = _number(value, scale=1.0)
        if number is not None:
            return number - now if number >= _EPOCH_FROM else number
        match = _DURATION.fullmatch(value.strip())
        if match and any(match.groups()):
            hours, minutes, secs, millis = (float(part) if part else 0.0 for part in match.groups())
            return hours * 3600.0 + minutes * 60.0 + secs + millis / 1000.0
    return None


def backoff_delay(retries_done: int, first: float | None = None, most: float | None = None) -> float:
    """Exponential backoff with jitter: ``first`` (0.5 s), doubling, up to ``most`` (8 s),
    each shortened by a random 0-25 % so that clients spread out."""
    first = INITIAL_RETRY_DELAY if first is None else first
    most = MAX_RETRY_DELAY if most is None else most
    base = min(first * 2.0 ** min(retries_done, 16), most)
    return base * (1.0 - 0.25 * random.random())


def retry_delay(
    retries_done: int,
    response: httpx.Response | None,
    backoff: tuple[float | None, float | None] = (None, None),
) -> float:
    """How long to wait before the next try: the server's hint if it gave one, else the
    backoff (``(first, most)`` for :func:`backoff_delay`)."""
    if response is not None:
        hinted = parse_retry_after(response.headers)
        if hinted is not None:
            return hinted
    return backoff_delay(retries_done, *backoff)


def _number(value: str | None, *, scale: float) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number / scale if math.isfinite(number) else None


def _http_date_delay(value: str, now: float) -> float | None:
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000" means UTC with no zone given
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    try:
        return moment.timestamp() - now
    except (OverflowError, OSError, ValueError):
        return None
