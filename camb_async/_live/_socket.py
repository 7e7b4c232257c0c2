"""One live session's WebSocket: its own connection, the API key in a header, typed errors.

:meth:`LiveEndpoint.connect` opens a connection of its own through a fresh
``httpx.AsyncClient`` (whatever ``transport=`` or ``http_client=`` the client has: neither a
mock nor aiohttp's transport carries WebSockets), outside the client's limit on requests in
flight, its request budget and its circuit breaker. The key goes in the ``x-api-key``
header only; a redirect of the upgrade is an error, never followed; a refused upgrade
raises the status error of its HTTP answer (401 and 403 as ``AuthenticationError``).

After the upgrade the frames are read with ``wsproto`` straight off httpcore's network
stream, only when the session asks for the next message: nothing reads ahead, so a
caller that stops reading holds one read's bytes and the socket's flow control does the
rest. (httpx-ws runs a reader task in a task group inside its session: every exception
of the caller's block would come out wrapped in an ``ExceptionGroup``, and its keepalive
ping closes a session whose caller pauses for longer than the ping timeout.)

:meth:`LiveSocket.receive` hands back each text or binary message; a normal close (1000)
ends it with ``None``; any other close raises the typed error (4401
``AuthenticationError``, 4402 ``PaymentRequiredError``, else ``LiveSessionError``); a
connection that ends without a close, or a server silent through a ping and its
timeout, raises ``LiveConnectionError``. A protocol module that reads a fatal error
message raises ``await socket.failed(text)``: the error with that text and the close
code that follows it. Server text is redacted of the key in every error. Leaving
``connect()``'s block closes the socket at once (a close frame, not waiting for the
server's) and reports the session's end to the client's ``on_event`` hooks.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import hashlib
import json
import secrets
import time
from typing import TYPE_CHECKING, Literal

import anyio
import httpcore
import httpx

from .._events import live_ended, live_ready, live_started, new_live_session
from .._exceptions import (
    AuthenticationError,
    LiveSessionError,
    make_live_error,
    make_status_error,
    server_text,
)
from .._version import __version__
from ._messages import JsonObject, MalformedMessage, json_object

try:
    from wsproto.connection import Connection, ConnectionState, ConnectionType
    from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage
    from wsproto.utilities import RemoteProtocolError
except ImportError as exc:  # pragma: no cover - the extra is part of every test environment
    raise ImportError("live sessions need the realtime extra: pip install 'camb-async[realtime]'") from exc

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Mapping

    from .._events import Emitter, LiveSessionRef

__all__ = ["LiveEndpoint", "LiveKind", "LiveSocket", "http_url", "websocket_url"]

LiveKind = Literal["live_tts", "live_transcription", "realtime"]
"""The three live protocols, as hook events name them."""

CONNECT_TIMEOUT = 10.0
"""Seconds to connect and have the upgrade answered."""
KEEPALIVE = 20.0
"""Seconds of silence from the server before the session pings it."""
KEEPALIVE_TIMEOUT = 10.0
"""Seconds the server has to answer anything after that ping before the session is lost."""
CLOSE_GRACE = 2.0
"""Seconds a fatal error message's close code is waited for."""
MAX_MESSAGE = 16 * 1024 * 1024
"""The largest message a session takes (live TTS's frames are 64 KiB)."""
_READ_SIZE = 262144
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def websocket_url(url: str) -> str:
    """``url`` with an http(s) scheme as ws(s); a ws(s) URL as it is."""
    for plain, secure in (("http://", "ws://"), ("https://", "wss://")):
        if url.startswith(plain):
            return secure + url[len(plain) :]
    return url


def http_url(url: str) -> str:
    """``url`` with a ws(s) scheme as http(s), what httpx sends the upgrade to."""
    for plain, secure in (("ws://", "http://"), ("wss://", "https://")):
        if url.startswith(plain):
            return secure + url[len(plain) :]
    return url


class LiveEndpoint:
    """Where one kind of live session connects, with which key, reporting to which hooks.

    The client makes one per protocol; the protocol's resource (``client.live_tts``...)
    opens each session with :meth:`connect`.
    """

    def __init__(
        self,
        kind: LiveKind,
        url: str,
        *,
        api_key: str,
        emit: Emitter | None = None,
        keepalive: float = KEEPALIVE,
        keepalive_timeout: float = KEEPALIVE_TIMEOUT,
    ) -> None:
        self.kind: LiveKind = kind
        self.url = websocket_url(url)
        self._api_key = api_key
        self.emit = emit
        self.keepalive = keepalive
        self.keepalive_timeout = keepalive_timeout

    def __repr__(self) -> str:
        return f"<LiveEndpoint {self.kind} {self.url!r}>"

    @contextlib.asynccontextmanager
    async def connect(
        self, params: Mapping[str, str | int] | None = None
    ) -> AsyncGenerator[LiveSocket, None]:
        """Open a session's WebSocket (``params`` go in the query; never the key) and close it
        at once when the block is left.

        Raises:
            AuthenticationError: The upgrade was refused with 401 or 403.
            APIStatusError: The upgrade was refused with another status (a redirect too).
            LiveConnectionError: No connection, or no answer to the upgrade in time.
        """
        if params and any(name.lower() in ("api_key", "x-api-key") for name in params):
            raise ValueError("the API key goes in the x-api-key header only, never in the URL")
        ref = new_live_session(self.kind, self.url)
        clock = time.perf_counter()
        live_started(self.emit, ref)
        socket: LiveSocket | None = None
        error: BaseException | None = None
        abandoned = False
        try:
            async with httpx.AsyncClient(
                timeout=httpx.Timeout(CONNECT_TIMEOUT), follow_redirects=False
            ) as http:
                socket = await self._upgrade(http, ref, params)
                try:
                    yield socket
                finally:
                    with anyio.CancelScope(shield=True):
                        await socket.aclose()
                        await socket.response.aclose()
        except Exception as exc:
            error = exc
            raise
        except BaseException:  # a cancellation, GeneratorExit: the caller left
            abandoned = True
            raise
        finally:
            close = None if socket is None else socket.close_code
            live_ended(
                self.emit,
                ref,
                session_id=None if socket is None else socket.session_id,
                run_id=None if socket is None else socket.run_id,
                close_code=close,
                error=error,
                abandoned=abandoned or (error is None and close != 1000),
                clock=clock,
            )

    async def _upgrade(
        self, http: httpx.AsyncClient, ref: LiveSessionRef, params: Mapping[str, str | int] | None
    ) -> LiveSocket:
        key = base64.b64encode(secrets.token_bytes(16)).decode("ascii")
        headers = {
            "x-api-key": self._api_key,
            "user-agent": f"camb-async/{__version__}",
            "connection": "Upgrade",
            "upgrade": "websocket",
            "sec-websocket-key": key,
            "sec-websocket-version": "13",
        }
        url = http_url(self.url)
        shown = httpx.Request("GET", url)  # what errors carry: the URL, never the key
        request = http.build_request("GET", url, params=dict(params or {}), headers=headers)
        try:
            response = await http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise make_live_error(
                f"could not open the {self.kind} session at {self.url}: {type(exc).__name__}",
                request=shown,
                close_code=None,
                reason=None,
                dropped=True,
            ) from exc
        if response.status_code != 101:
            try:
                await response.aread()
            except httpx.HTTPError:
                pass
            finally:
                await response.aclose()
            raise _refused(response) from None
        accept = base64.b64encode(hashlib.sha1(key.encode("ascii") + _GUID).digest()).decode("ascii")
        stream = response.extensions.get("network_stream")
        if response.headers.get("sec-websocket-accept") != accept or stream is None:
            await response.aclose()
            raise make_live_error(
                f"the server at {self.url} answered the upgrade without accepting a WebSocket",
                request=shown,
                close_code=None,
                reason=None,
            )
        return LiveSocket(
            stream,
            response=response,
            request=shown,
            secret=self._api_key,
            ref=ref,
            emit=self.emit,
            keepalive=self.keepalive,
            keepalive_timeout=self.keepalive_timeout,
        )


def _refused(response: httpx.Response) -> Exception:
    """The error of a refused upgrade: its status error; a 403 (a server that closes a
    WebSocket before accepting it answers 403) an ``AuthenticationError`` too."""
    error = make_status_error(response)
    if response.status_code == 403:
        return AuthenticationError(str(error), response=response, body=error.body)
    return error


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
            LiveSessionError: The session has ended (the error it ended with).
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
            raise self._ended or self._error("the session is closed; nothing more can be sent")
        await self._write(self._ws.send(message))

    async def _write(self, data: bytes) -> None:
        try:
            async with self._write_lock:
                await self._stream.write(data, timeout=self._keepalive + self._keepalive_timeout)
        except (httpcore.NetworkError, httpcore.TimeoutException, OSError) as exc:
            raise self._error(
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
                raise self._error("the connection dropped without a close", dropped=True)
            try:
                self._ws.receive_data(data)
                replies = [self._take(event) for event in self._ws.events()]
            except RemoteProtocolError as exc:
                await self.aclose(1002)
                raise self._error(f"the server broke the WebSocket protocol ({exc})") from None
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
            return self._error(f"the server sent {protocol}")
        with anyio.move_on_after(CLOSE_GRACE):
            try:
                while await self.receive() is not None:
                    pass
            except LiveSessionError:
                pass
        await self.aclose()
        return self._error("the server ended the session", reason=reason)

    async def _read(self) -> bytes:
        try:
            with anyio.move_on_after(self._keepalive):
                return await self._stream.read(_READ_SIZE)
            if self._ws.state is ConnectionState.OPEN:
                await self._write(self._ws.send(Ping(b"camb-async")))
            with anyio.move_on_after(self._keepalive_timeout):
                return await self._stream.read(_READ_SIZE)
        except (httpcore.NetworkError, httpcore.TimeoutException, OSError) as exc:
            raise self._error(f"the connection broke ({type(exc).__name__})", dropped=True) from exc
        await self._close_stream()
        silent = self._keepalive + self._keepalive_timeout
        raise self._error(
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
                self._ended = self._error("the server closed the session")
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

    def _error(self, what: str, *, reason: str | None = None, dropped: bool = False) -> LiveSessionError:
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
