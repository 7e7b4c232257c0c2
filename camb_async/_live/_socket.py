"""An open live session's WebSocket: frames in and out, and the session's typed errors.

After the upgrade (``_endpoint``) the frames are read with ``wsproto`` straight off
httpcore's network stream, only when the session asks for the next message: nothing
reads ahead, so a caller that stops reading holds one read's bytes and the socket's
flow control does the rest. (httpx-ws runs a reader task in a task group inside its
session: every exception of the caller's block would come out wrapped in an
``ExceptionGroup``, and its keepalive ping closes a session whose caller pauses for
longer than the ping timeout.)

:meth:`LiveSocket.receive` hands back each text or binary message; a normal close (1000)
ends it with ``None``; any other close raises the typed error (4401
``AuthenticationError``, 4402 ``PaymentRequiredError``, else ``LiveSessionError``); a
connection that ends without a close, or a server silent through a ping and its
timeout, raises ``LiveConnectionError``. A protocol module that reads a fatal error
message raises ``await socket.failed(text)``: the error with that text and the close
code that follows it; :meth:`LiveSocket.error` builds any other error of the session.
Server text is redacted of the key in every error.
"""

from __future__ import annotations

import collections
import contextlib
import json
from typing import TYPE_CHECKING

import anyio
import httpcore

from .._events import live_ready
from .._exceptions import LiveSessionError, make_live_error, server_text
from ._endpoint import LiveEndpoint, LiveKind, http_url, websocket_url
from ._messages import JsonObject, MalformedMessage, json_object

try:
    from wsproto.connection import Connection, ConnectionState, ConnectionType
    from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage
    from wsproto.utilities import RemoteProtocolError
except ImportError as exc:  # pragma: no cover - the extra is part of every test environment
    raise ImportError("live sessions need the realtime extra: pip install 'camb-async[realtime]'") from exc

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

    from .._events import Emitter, LiveSessionRef

__all__ = [
    "CLOSE_GRACE",
    "MAX_MESSAGE",
    "LiveEndpoint",
    "LiveKind",
    "LiveSocket",
    "http_url",
    "websocket_url",
]

CLOSE_GRACE = 2.0
"""Seconds a fatal error message's close code is waited for."""
MAX_MESSAGE = 16 * 1024 * 1024
"""The largest message a session takes (live TTS's frames are 64 KiB)."""
_READ_SIZE = 262144


class LiveSocket:
    """An open WebSocket of a live session: send text, JSON or bytes; receive messages.

    One task receives at a time; any task may send meanwhile. ``session_id`` and
    ``run_id`` are set by :meth:`ready` and go into every error and the session's end event.
    """

    def __init__(
        self,
        stream: httpcore.AsyncNetworkStream,
        *,
        response: httpx.Response,
        request: httpx.Request,
        secret: str,
        ref: LiveSessionRef,
        emit: Emitter | None,
        keepalive: float,
        keepalive_timeout: float,
    ) -> None:
        self.response = response
        self.session_id: str | None = None
        self.run_id: int | None = None
        self.close_code: int | None = None
        self._stream = stream
        self._request = request
        self._secret = secret
        self._ref = ref
        self._emit = emit
        self._keepalive = keepalive
        self._keepalive_timeout = keepalive_timeout
        self._ws = Connection(ConnectionType.CLIENT)
        self._messages: collections.deque[str | bytes] = collections.deque()
        self._partial: list[str | bytes] = []
        self._partial_size = 0
        self._close_reason: str | None = None
        self._ended: LiveSessionError | None = None
        self._write_lock = anyio.Lock()

    @property
    def url(self) -> str:
        """The session's WebSocket URL (without a query)."""
        return self._ref.url

    def ready(self, *, session_id: str | None = None, run_id: int | None = None) -> None:
        """Record the ids the server gave when it accepted the session, and report it."""
        self.session_id = session_id
        self.run_id = run_id
        live_ready(self._emit, self._ref, session_id, run_id)

    # -- sending ---------------------------------------------------------------------

    async def send_text(self, text: str) -> None:
        """Send a text message.

        Raises:
            LiveSessionError: The session has ended (with its close code and reason, if any).
            LiveConnectionError: The connection broke.
        """
        await self._send(TextMessage(data=text))

    async def send_json(self, payload: Mapping[str, object]) -> None:
        """Send ``payload`` as a JSON text message."""
        await self._send(TextMessage(data=json.dumps(payload, ensure_ascii=False, separators=(",", ":"))))

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        await self._send(BytesMessage(data=data))

    async def _send(self, message: TextMessage | BytesMessage) -> None:
        if self._ws.state is not ConnectionState.OPEN:
            raise self.error("the session has ended; nothing more can be sent")
        await self._write(self._ws.send(message))

    async def _write(self, data: bytes) -> None:
        try:
            async with self._write_lock:
                await self._stream.write(data, timeout=self._keepalive + self._keepalive_timeout)
        except (httpcore.NetworkError, httpcore.TimeoutException, OSError) as exc:
            raise self.error(
                f"the connection broke while sending ({type(exc).__name__})",
                dropped=True,
            ) from exc

    # -- receiving -------------------------------------------------------------------

    async def receive(self) -> str | bytes | None:
        """The next message, or ``None`` once the server closed the session normally (1000).

        Raises:
            AuthenticationError: The server closed with 4401 (also a ``LiveSessionError``).
            PaymentRequiredError: The server closed with 4402 (also a ``LiveSessionError``).
            LiveSessionError: The server closed with another code, or broke the protocol.
            LiveConnectionError: The connection dropped or the server stopped answering.
        """
        while not self._messages:
            if self.close_code is not None:
                await self._close_stream()
                if self._ended is not None:
                    raise self._ended
                return None
            data = await self._read()
            if not data:
                await self._close_stream()
                raise self.error("the connection dropped without a close", dropped=True)
            try:
                self._ws.receive_data(data)
                replies = [self._take(event) for event in self._ws.events()]
            except RemoteProtocolError as exc:
                await self.aclose(1002)
                raise self.error(f"the server broke the WebSocket protocol ({exc})") from None
            for reply in replies:  # pongs and the answer to a close: a failed one shows on the next read
                if reply:
                    with contextlib.suppress(LiveSessionError):
                        await self._write(reply)
        return self._messages.popleft()

    async def receive_json(self) -> JsonObject | bytes | None:
        """The next message, a text one read as a JSON object with a string ``type``."""
        message = await self.receive()
        if not isinstance(message, str):
            return message
        try:
            return json_object(message)
        except MalformedMessage as exc:
            raise await self.failed(None, protocol=str(exc)) from None

    async def failed(self, reason: str | None, *, protocol: str | None = None) -> LiveSessionError:
        """The error of a session the server failed with the error message ``reason``
        (``protocol``: of a message this SDK cannot read, the session closed with 1002).
        The close that follows the server's error, if it comes within ``CLOSE_GRACE``
        seconds, gives the close code; the socket is closed either way."""
        if protocol is not None:
            await self.aclose(1002)
            return self.error(f"the server sent {protocol}")
        with anyio.move_on_after(CLOSE_GRACE):
            try:
                while await self.receive() is not None:
                    pass
            except LiveSessionError:
                pass
        await self.aclose()
        return self.error("the server ended the session", reason=reason)

    async def _read(self) -> bytes:
        try:
            with anyio.move_on_after(self._keepalive):
                return await self._stream.read(_READ_SIZE)
            if self._ws.state is ConnectionState.OPEN:
                await self._write(self._ws.send(Ping(b"camb-async")))
            with anyio.move_on_after(self._keepalive_timeout):
                return await self._stream.read(_READ_SIZE)
        except (httpcore.NetworkError, httpcore.TimeoutException, OSError) as exc:
            raise self.error(f"the connection broke ({type(exc).__name__})", dropped=True) from exc
        await self._close_stream()
        silent = self._keepalive + self._keepalive_timeout
        raise self.error(
            f"the server was silent for {silent:g} s, through a ping",
            dropped=True,
        )

    def _take(self, event: object) -> bytes:
        """Handle one wsproto event; what to send back (a pong, a close's answer)."""
        if isinstance(event, TextMessage | BytesMessage):
            data = event.data
            self._partial.append(bytes(data) if isinstance(data, bytearray) else data)
            self._partial_size += len(data)
            if self._partial_size > MAX_MESSAGE:
                raise RemoteProtocolError(f"a message over {MAX_MESSAGE} bytes")
            if event.message_finished:
                parts, self._partial, self._partial_size = self._partial, [], 0
                self._messages.append(parts[0] if len(parts) == 1 else _joined(parts))
            return b""
        if isinstance(event, Ping):
            return self._ws.send(event.response())
        if isinstance(event, CloseConnection):
            self.close_code = event.code
            self._close_reason = event.reason or None
            if event.code != 1000:
                self._ended = self.error("the server closed the session")
            return (
                self._ws.send(event.response()) if self._ws.state is ConnectionState.REMOTE_CLOSING else b""
            )
        return b""  # a pong

    # -- closing ---------------------------------------------------------------------

    async def aclose(self, code: int = 1000) -> None:
        """Close at once: send a close frame if the socket is open (not waiting for the
        server's answer) and close the connection. Calling it again does nothing."""
        with anyio.CancelScope(shield=True):
            if self._ws.state is ConnectionState.OPEN:
                with anyio.move_on_after(1.0), contextlib.suppress(LiveSessionError):
                    await self._write(self._ws.send(CloseConnection(code=code)))
            await self._close_stream()

    async def _close_stream(self) -> None:
        with anyio.CancelScope(shield=True), contextlib.suppress(httpcore.NetworkError, OSError):
            await self._stream.aclose()

    def error(self, what: str, *, reason: str | None = None, dropped: bool = False) -> LiveSessionError:
        """The typed error of this session: ``what`` happened, with the server's ``reason``
        (else its close reason) and close code, redacted of the key."""
        said = reason if reason is not None else self._close_reason
        said = None if said is None else server_text(said, self._secret)
        code = None if dropped else self.close_code
        parts = [f"{self._ref.kind} session"]
        if self.session_id:
            parts.append(server_text(self.session_id, self._secret))
        text = f"{' '.join(parts)}: {what}"
        if code is not None:
            text += f" (close code {code})"
        if said:
            text += f": {said}"
        return make_live_error(
            text,
            request=self._request,
            close_code=code,
            reason=said,
            session_id=self.session_id,
            run_id=self.run_id,
            dropped=dropped,
        )


def _joined(parts: list[str | bytes]) -> str | bytes:
    """A fragmented message's parts, joined (all text or all bytes)."""
    if isinstance(parts[0], str):
        return "".join(part for part in parts if isinstance(part, str))
    return b"".join(part for part in parts if isinstance(part, bytes))
