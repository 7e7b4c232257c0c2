"""Where a live session connects, and the upgrade that opens its WebSocket.

:meth:`LiveEndpoint.connect` opens a connection of its own through a fresh
``httpx.AsyncClient`` (whatever ``transport=`` or ``http_client=`` the client has: neither a
mock nor aiohttp's transport carries WebSockets), outside the client's limit on requests in
flight, its request budget and its circuit breaker. The key goes in the ``x-api-key``
header only; a redirect of the upgrade is an error, never followed; a refused upgrade
raises the status error of its HTTP answer (401 and 403 as ``AuthenticationError``).
Leaving ``connect()``'s block closes the socket at once (a close frame, not waiting for
the server's) and reports the session's end to the client's ``on_event`` hooks.

This module needs nothing beyond httpx: the client makes its endpoints whether or not the
``realtime`` extra (wsproto) is installed; the first ``connect()`` asks for it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import secrets
import time
from typing import TYPE_CHECKING, Literal

import anyio
import httpx

from .._events import live_ended, live_started, new_live_session
from .._exceptions import AuthenticationError, make_live_error, make_status_error
from .._version import __version__

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncGenerator, Mapping

    from .._events import Emitter, LiveSessionRef
    from ._socket import LiveSocket

__all__ = [
    "CONNECT_TIMEOUT",
    "KEEPALIVE",
    "KEEPALIVE_TIMEOUT",
    "LiveEndpoint",
    "LiveKind",
    "http_url",
    "websocket_url",
]

LiveKind = Literal["live_tts", "live_transcription", "realtime"]
"""The three live protocols, as hook events name them."""

CONNECT_TIMEOUT = 10.0
"""Seconds to connect and have the upgrade answered."""
KEEPALIVE = 20.0
"""Seconds of silence from the server before the session pings it."""
KEEPALIVE_TIMEOUT = 10.0
"""Seconds the server has to answer anything after that ping before the session is lost."""
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
        self.url: str = websocket_url(url)
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
                timeout=httpx.Timeout(CONNECT_TIMEOUT), follow_redirects=False, verify=_tls()
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
        try:
            from ._socket import LiveSocket
        except ImportError:
            await response.aclose()
            raise
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


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS context of every live session's client: loading the CA bundle costs a large
    fraction of a second, once per process rather than once per session."""
    return httpx.create_ssl_context()


def _refused(response: httpx.Response) -> Exception:
    """The error of a refused upgrade: its status error; a 403 (a server that closes a
    WebSocket before accepting it answers 403) an ``AuthenticationError`` too."""
    error = make_status_error(response)
    if response.status_code == 403:
        return AuthenticationError(str(error), response=response, body=error.body)
    return error
