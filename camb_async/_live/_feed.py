"""A source sent in the background while the caller reads a session's events.

``transcribe()``, ``translate()`` (audio) and ``speak()`` (text) read their source in
a task of their own, so that results come while the source still goes out.
:func:`alongside` runs such a task next to the caller's block without wrapping the
block's exceptions in an exception group; :class:`Feed` is the task, and
:func:`follow` the events the caller reads, which raise a failure of the source in
the caller's task.
"""

from __future__ import annotations

import contextlib
import functools
from typing import TYPE_CHECKING, TypeVar

import anyio

from .._exceptions import LiveSessionError

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine

    from ._messages import LiveEvent

__all__ = ["Feed", "alongside", "follow"]

E = TypeVar("E", bound="LiveEvent")
T = TypeVar("T")


class Feed:
    """Sends a source (audio chunks, text pieces) through a session in the background,
    then finishes it.

    A failure of the source (an exception from the caller's iterable) is kept and
    cancels the scope the caller waits for results in (:meth:`watch`), so that
    :meth:`check` raises it there; a failure of the session itself reaches the caller
    through the session's own iteration.
    """

    def __init__(
        self,
        chunks: AsyncGenerator[T, None],
        send: Callable[[T], Awaitable[None]],
        finish: Callable[[], Awaitable[None]],
    ) -> None:
        self._send_all = functools.partial(_send_all, chunks, send)
        self._close = chunks.aclose
        self._finish = finish
        self._error: Exception | None = None
        self._waiting = anyio.CancelScope()

    def watch(self) -> anyio.CancelScope:
        """A scope to wait for results in: cancelled if the source fails meanwhile."""
        self._waiting = anyio.CancelScope()
        if self._error is not None:
            self._waiting.cancel()
        return self._waiting

    def check(self) -> None:
        """Raise the source's failure, if it failed."""
        if self._error is not None:
            raise self._error

    async def run(self) -> None:
        try:
            await self._send_all()
            await self._finish()
        except LiveSessionError:
            pass  # the session's iteration raises it
        except Exception as exc:  # noqa: BLE001  # handed to the caller's task by check()
            self._error = exc
            self._waiting.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await self._close()  # a source left mid-way (the caller left) is closed now


async def _send_all(chunks: AsyncIterator[T], send: Callable[[T], Awaitable[None]]) -> None:
    async for chunk in chunks:
        await send(chunk)


@contextlib.asynccontextmanager
async def alongside(task: Callable[[], Coroutine[object, object, None]]) -> AsyncGenerator[None, None]:
    """Run ``task`` (which never raises) while the block runs, and cancel it when the block
    ends. The block's own exception comes out as it is, not in an exception group."""
    error: Exception | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(task)
        try:
            yield
        except Exception as exc:  # noqa: BLE001  # re-raised below, outside the group
            error = exc
        finally:
            group.cancel_scope.cancel()
    if error is not None:
        raise error


async def follow(events: AsyncIterator[LiveEvent], feed: Feed, kind: type[E]) -> AsyncGenerator[E, None]:
    """The events of ``kind`` from ``events``; the feed's failure, if its source failed."""
    while True:
        event: LiveEvent | None = None
        with feed.watch():
            event = await anext(events, None)
        feed.check()
        if event is None:
            return
        if isinstance(event, kind):
            yield event
