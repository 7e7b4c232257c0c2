"""The client's options checked: each a clear error naming the option, before any request."""

from __future__ import annotations

import math

__all__ = ["breaker_wait_of", "check_backoff", "check_int", "check_outage", "check_rate", "check_seconds"]


def breaker_wait_of(timeout: object) -> float:
    """How long a request waits on an open circuit breaker: its read timeout (30 s if none).

    ``timeout`` is a number, ``None``, or an ``httpx.Timeout`` (or httpx2's, read alike)."""
    read = getattr(timeout, "read", timeout)
    return float(read) if isinstance(read, int | float) and not isinstance(read, bool) else 30.0


def check_rate(value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ValueError(f"max_requests_per_second must be a number > 0 or None, got {value!r}")


def check_outage(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"max_outage must be a number of seconds >= 0 or None, got {value!r}")
    return float(value)


def check_seconds(value: object, name: str, *, positive: bool = False) -> float:
    """``value`` as float seconds: a finite number >= 0 (> 0 with ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
    if positive and value == 0:
        raise ValueError(f"{name} must be a number of seconds > 0, got {value!r}")
    return float(value)


def check_backoff(first: object, most: object) -> tuple[float, float]:
    """``(retry_backoff, max_retry_backoff)`` checked: seconds, the first not above the most."""
    pair = check_seconds(first, "retry_backoff"), check_seconds(most, "max_retry_backoff")
    if pair[0] > pair[1]:
        raise ValueError(f"retry_backoff ({first!r}) must not exceed max_retry_backoff ({most!r})")
    return pair


def check_int(value: object, name: str, *, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < least:
        raise ValueError(f"{name} must be >= {least}, got {value}")
