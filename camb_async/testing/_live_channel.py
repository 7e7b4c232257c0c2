"""One live session's WebSocket as the protocols see it: typed sends and receives, with faults applied.

A :class:`Channel` wraps the ASGI ``receive``/``send`` of a ``websocket`` scope.
Every server frame goes through it, so that the faults of :class:`LiveFaults`
(slow frames, a drop or a close after N frames, realtime's injected error) and
the timestamps of :class:`LiveSettings` apply the same way to all three
protocols. Ending a session unwinds with :class:`SessionOver`; the dispatcher
catches it.
"""

from __future__ import annotations

import contextlib
import json
import struct
import time
from typing import TYPE_CHECKING, NoReturn, overload

import anyio
import anyio.lowlevel

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from ._http import Receive, Send
    from ._live_config import LiveFaults, LiveProtocol, LiveRecord, LiveSettings

__all__ = ["Channel", "SessionOver", "frames_of"]

MAX_MESSAGE = 1024 * 1024
"""The largest client message a live endpoint takes (1 MiB)."""


YIELD_EVERY = 1024 * 1024
"""A session lets other sessions (and the client's close) run after this many audio bytes at most."""


class SessionOver(Exception):
    """The session is over: closed by the server, dropped on purpose, or left by the client."""


class Channel:
    """The server side of one live session."""

    def __init__(
        self,
        protocol: LiveProtocol,
        receive: Receive,
        send: Send,
        *,
        settings: LiveSettings,
        faults: LiveFaults | None,
        record: LiveRecord,
        error_message: Callable[[str, str], Mapping[str, object]],
    ) -> None:
        self.protocol = protocol
        self.error_message = error_message
        self.settings = settings
        self.faults = faults
        self.record = record
        self._receive = receive
        self._send = send
        self._unyielded = 0  # bytes sent since the session last let the event loop run

    async def accept(self) -> None:
        """Complete the upgrade (faults due after zero frames apply at once)."""
        await self._send({"type": "websocket.accept"})
        await self.inject()

    async def send_json(self, payload: Mapping[str, object]) -> None:
        """Send one JSON text frame (with ``sent_at`` when timestamps are on)."""
        await self._frame(payload, None)

    async def send_bytes(self, data: bytes) -> None:
        """Send one binary frame (after an 8-byte send time when timestamps are on)."""
        await self._frame(None, data)

    @overload
    async def receive(self) -> str | bytes: ...
    @overload
    async def receive(self, timeout: float | None) -> str | bytes | None: ...
    async def receive(self, timeout: float | None = None) -> str | bytes | None:
        """The client's next message; ``None`` after ``timeout`` seconds without one.

        Raises :class:`SessionOver` once the client has left.
        """
        with anyio.move_on_after(timeout):
            while True:
                message = await self._receive()
                kind = message["type"]
                if kind == "websocket.disconnect":
                    self.record.ended = True
                    raise SessionOver
                if kind != "websocket.receive":
                    continue
                text = message.get("text")
                if text is not None:
                    return str(text)
                return bytes(message.get("bytes") or b"")
        return None

    def note(self, what: str) -> None:
        """Record one client message (its JSON ``type``, or ``"binary"``)."""
        self.record.received.append(what)

    async def close(self, code: int = 1000, reason: str = "") -> NoReturn:
        """Close the session with ``code`` and end it."""
        self.record.close_code, self.record.close_reason = code, reason
        with contextlib.suppress(OSError):  # the client left first
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        self.record.ended = True
        raise SessionOver

    async def _frame(self, payload: Mapping[str, object] | None, data: bytes | None) -> None:
        faults = self.faults
        if faults is not None and faults.frame_delay:
            await anyio.sleep(faults.frame_delay)
        await self._raw(payload, data)
        self._unyielded += len(data or b"")
        if self._unyielded >= YIELD_EVERY:  # a socket that takes every frame at once never yields
            self._unyielded = 0
            await anyio.lowlevel.checkpoint()
        await self.inject()

    async def inject(self) -> None:
        """Apply the faults due after the frames sent so far (called after the upgrade and each frame)."""
        faults = self.faults
        if faults is None:
            return
        if self.protocol == "realtime" and faults.error_after == self.record.frames_sent:
            error = {
                "code": "simulated_error",
                "type": "server_error",
                "message": "simulated non-fatal error",
            }
            await self._raw({"type": "error", "error": error}, None)
        sent = self.record.frames_sent
        if faults.drop_after is not None and sent >= faults.drop_after:
            self.record.ended = True
            raise SessionOver  # the dispatcher returns without a close frame: a cut connection
        if faults.close_after is not None and sent >= faults.close_after:
            if faults.close_error is not None:
                await self._raw(self.error_message(faults.close_error, "simulated_close"), None)
            await self.close(faults.close_code, faults.close_reason)

    async def _raw(self, payload: Mapping[str, object] | None, data: bytes | None) -> None:
        stamp = self.settings.timestamps
        if payload is not None:
            body = {**payload, "sent_at": time.time()} if stamp else payload
            message: dict[str, object] = {"type": "websocket.send", "text": json.dumps(body)}
        else:
            assert data is not None
            message = {
                "type": "websocket.send",
                "bytes": struct.pack(">d", time.time()) + data if stamp else data,
            }
        try:
            await self._send(message)
        except OSError:
            self.record.ended = True
            raise SessionOver from None  # the client left
        self.record.frames_sent += 1


def frames_of(data: bytes, times: int, size: int) -> Iterator[bytes]:
    """``data`` repeated ``times`` times, in frames of at most ``size`` bytes, never all held at once."""
    if not data:
        return
    block = data * (size // len(data) + 2)  # any frame-long window of the repeated data
    total = len(data) * times
    sent = 0
    while sent < total:
        start = sent % len(data)
        chunk = block[start : start + min(size, total - sent)]
        yield chunk
        sent += len(chunk)
