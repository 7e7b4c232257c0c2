"""The in-process mode: httpx sends to the simulator's ASGI app in the caller's event loop, no socket.

httpx's :class:`httpx.ASGITransport` does the exchange; :class:`InProcessTransport`
adds what a socket would give, so that every fault reads as it does over TCP:
a response the app leaves unfinished (``drop``) raises
:class:`httpx.RemoteProtocolError`, and an app silent for longer than the
request's read timeout (``stall``) raises :class:`httpx.ReadTimeout`. It uses
anyio only, so it runs on asyncio and on trio, and on a virtual clock too.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import anyio
import httpx

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping
    from typing import Any

    from ._http import Receive, Scope, Send

    App = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["ASGI_URL", "InProcessTransport"]

ASGI_URL = "http://127.0.0.1/apis"
"""The base URL a client of the in-process mode uses (its result files are on ``localhost``)."""


class InProcessTransport(httpx.AsyncBaseTransport):
    """Sends each request to ``app`` in the running event loop, as a socket would see it answered."""

    def __init__(self, app: App) -> None:
        self._app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        read = timeouts.get("read")
        app = self._app

        async def answered(scope: Scope, receive: Receive, send: Send) -> None:
            finished = False
            with anyio.CancelScope(deadline=_after(read)) as silence:

                async def sent(message: MutableMapping[str, Any]) -> None:
                    nonlocal finished
                    silence.deadline = _after(read)  # the read timeout is a limit between messages
                    finished = message["type"] == "http.response.body" and not message.get("more_body")
                    await send(message)

                await app(scope, receive, sent)
            if silence.cancelled_caught:
                raise httpx.ReadTimeout(f"the simulator sent nothing for {read:g} s", request=request)
            if not finished:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body", request=request
                )

        return await httpx.ASGITransport(app=answered).handle_async_request(request)


def _after(seconds: float | None) -> float:
    """The deadline ``seconds`` from now on the event loop's clock (``None``: no deadline)."""
    return math.inf if seconds is None else anyio.current_time() + seconds
