"""The live sessions' connection layer (camb_async._live._endpoint, _socket) against scripted
WebSocket servers on 127.0.0.1: what the simulator never does (silence through a ping, a
fragmented or oversized message, a bad handshake), on asyncio and trio."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import anyio
import pytest
from support import API_KEY, Peer, ScriptedServer, assert_key_nowhere, refused_url
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage

from camb_async import LiveConnectionError, LiveSessionError
from camb_async._live import _socket
from camb_async._live._endpoint import LiveEndpoint, http_url, websocket_url

if TYPE_CHECKING:
    from wsproto.events import Event

pytestmark = pytest.mark.anyio


def silent(peer: Peer) -> None:
    peer.wait_for_close()


def test_urls_convert_between_the_websocket_and_http_schemes() -> None:
    """ws(s) and http(s) map onto each other; anything else is left as it is."""
    assert websocket_url("https://h.test/apis") == "wss://h.test/apis"
    assert websocket_url("http://h.test/x") == "ws://h.test/x"
    assert websocket_url("wss://h.test") == "wss://h.test"
    assert http_url("wss://h.test/v1/realtime") == "https://h.test/v1/realtime"
    assert http_url("ws://h.test") == "http://h.test"
    assert http_url("https://h.test") == "https://h.test"


async def test_the_key_goes_in_a_header_only_and_never_into_the_query() -> None:
    """The upgrade carries x-api-key; asking to put the key into the URL is refused before connecting."""
    with ScriptedServer(silent) as server:
        endpoint = server.endpoint()
        async with endpoint.connect({"language": "en-us"}):
            pass
        with pytest.raises(ValueError, match="header only"):
            async with endpoint.connect({"api_key": "x"}):
                pass
    (head,) = server.heads
    request_line, *headers = head.decode().split("\r\n")
    assert request_line == "GET /apis/live-tts/ws?language=en-us HTTP/1.1"
    assert f"x-api-key: {API_KEY}" in headers
    assert API_KEY not in request_line


async def test_a_server_silent_through_a_ping_is_a_lost_connection() -> None:
    """No frame, and no answer to the session's ping: LiveConnectionError after the keepalive
    and its timeout, not a hang."""
    with ScriptedServer(silent) as server:
        async with server.endpoint(keepalive=0.2, keepalive_timeout=0.2).connect() as socket:
            began = time.perf_counter()
            with anyio.fail_after(3), pytest.raises(LiveConnectionError, match=r"silent for 0\.4 s"):
                await socket.receive()
    assert time.perf_counter() - began < 2


async def test_pings_are_answered_and_fragments_joined() -> None:
    """A server's ping gets its pong while the session reads; a message sent in fragments
    comes whole, text as str and binary as bytes."""
    pong: list[Event | None] = []

    def script(peer: Peer) -> None:
        peer.send(Ping(payload=b"hi"))
        pong.append(peer.receive())
        peer.send(TextMessage(data="hel", message_finished=False))
        peer.send(TextMessage(data="lo", message_finished=True))
        peer.send(BytesMessage(data=b"\x00\x01", message_finished=False))
        peer.send(BytesMessage(data=b"\x02", message_finished=True))
        peer.send(CloseConnection(code=1000))
        peer.wait_for_close()

    with ScriptedServer(script) as server:
        async with server.endpoint().connect() as socket:
            with anyio.fail_after(3):
                assert await socket.receive() == "hello"
                assert await socket.receive() == b"\x00\x01\x02"
                assert await socket.receive() is None
                assert await socket.receive() is None
            with pytest.raises(LiveSessionError, match="has ended"):
                await socket.send_text("too late")
    (answer,) = pong
    assert isinstance(answer, Pong)
    assert answer.payload == b"hi"


async def test_a_message_over_the_limit_or_not_json_is_a_session_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An oversized message breaks the protocol; a text message that is not a JSON object
    with a type cannot be read: both raise LiveSessionError and close the socket."""
    monkeypatch.setattr(_socket, "MAX_MESSAGE", 1000)

    def oversized(peer: Peer) -> None:
        peer.send(BytesMessage(data=b"x" * 2000))
        peer.wait_for_close()

    def not_json(peer: Peer) -> None:
        peer.send(TextMessage(data="not json"))
        peer.wait_for_close()

    with ScriptedServer(oversized) as server, anyio.fail_after(3):
        async with server.endpoint().connect() as socket:
            with pytest.raises(LiveSessionError, match="over 1000 bytes"):
                await socket.receive()
    with ScriptedServer(not_json) as server, anyio.fail_after(3):
        async with server.endpoint().connect() as socket:
            with pytest.raises(LiveSessionError, match="not JSON") as caught:
                await socket.receive_json()
    assert not isinstance(caught.value, LiveConnectionError)


async def test_an_error_message_without_a_close_is_a_session_error_after_a_grace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """failed(): the server's error text, and no close code when no close came in the grace."""
    monkeypatch.setattr(_socket, "CLOSE_GRACE", 0.2)
    with ScriptedServer(silent) as server, anyio.fail_after(3):
        async with server.endpoint().connect() as socket:
            error = await socket.failed(f"it broke for {API_KEY}")
    assert type(error) is LiveSessionError
    assert error.close_code is None
    assert error.reason == "it broke for [redacted]"
    assert_key_nowhere(error)


async def test_a_handshake_without_the_right_accept_or_a_refused_connection_fails_to_connect() -> None:
    """A 101 whose Sec-WebSocket-Accept is wrong is no WebSocket; a refused port is a LiveConnectionError."""
    with (
        ScriptedServer(silent, honest=False) as server,
        pytest.raises(LiveSessionError, match="without accepting"),
    ):
        async with server.endpoint().connect():
            pass
    endpoint = LiveEndpoint("realtime", refused_url(), api_key=API_KEY)
    with anyio.fail_after(5), pytest.raises(LiveConnectionError, match="could not open") as caught:
        async with endpoint.connect():
            pass
    assert caught.value.__cause__ is not None
    assert_key_nowhere(caught.value)
