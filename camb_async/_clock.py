"""The one place the SDK sleeps, so that testing mode can make every wait instant."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from collections.abc import Awaitable

__all__ = ["DeadlinePassed", "is_testing", "now", "set_testing_flag", "sleep"]

_testing = False

try:
    from sniffio import current_async_library
except ImportError:  # pragma: no cover (trio depends on sniffio: without it, the loop is asyncio)

    def current_async_library() -> str:
        return "asyncio"


def is_testing() -> bool:
    """Whether testing mode (see :func:`camb_async.testing.set_testing`) is on."""
    return _testing


def set_testing_flag(on: bool) -> bool:
    """Turn testing mode on or off; return what it was."""
    global _testing
    previous, _testing = _testing, on
    return previous


def sleep(seconds: float) -> Awaitable[None]:
    """Sleep ``seconds`` (or just yield to the event loop in testing mode).

    On asyncio this is asyncio's own sleep, a coroutine with nothing between it and its
    timer: anyio's adds two coroutines to the stack of every sleeping watch, and
    thousands of watches may sleep at once."""
    delay = 0.0 if _testing else max(seconds, 0.0)
    if current_async_library() == "asyncio":
        return asyncio.sleep(delay)
    return anyio.sleep(delay)


def now() -> float:
    """The event loop's clock, in seconds: what the poll schedule measures elapsed time on."""
    return anyio.current_time()


class DeadlinePassed(Exception):
    """A poll's deadline (its watch's) passed before it was answered: the request path
    ends it so, and the poll loop raises the watch's ``WatchTimeoutError`` for it."""
