"""The one place the SDK sleeps, so that testing mode can make every wait instant."""

from __future__ import annotations

import anyio

__all__ = ["is_testing", "now", "set_testing_flag", "sleep"]

_testing = False


def is_testing() -> bool:
    """Whether testing mode (see :func:`camb_async.testing.set_testing`) is on."""
    return _testing


def set_testing_flag(on: bool) -> bool:
    """Turn testing mode on or off; return what it was."""
    global _testing
    previous, _testing = _testing, on
    return previous


async def sleep(seconds: float) -> None:
    """Sleep ``seconds`` (or just yield to the event loop in testing mode)."""
    await anyio.sleep(0 if _testing else max(seconds, 0.0))


def now() -> float:
    """The event loop's clock, in seconds: what the poll schedule measures elapsed time on."""
    return anyio.current_time()
