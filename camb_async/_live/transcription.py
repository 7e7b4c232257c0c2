"""Live transcription (``client.live_transcription``): stream audio in, transcripts out.

One WebSocket per session, at ``.../apis/transcription/listen`` (the vendor's API
reference; ``live_transcription_url=`` on the client points elsewhere, e.g. camb-sdk's
``wss://realtime.camb.ai/streaming-transcription/listen``). The audio format goes in
the query; audio goes as binary frames of at most 1 MiB; ``CloseStream`` asks the
server to finish, which flushes pending words as finals and closes 1000. During
silences the caller leaves, the session sends ``KeepAlive`` so the server does not
take the pause for the end of the stream.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import anyio

from .._exceptions import LiveSessionError
from .._languages import live_locale
from ._audio import open_audio
from ._feed import Feed, alongside, follow
from ._messages import MalformedMessage, decode_event
from ._messages_transcription import (
    TRANSCRIPTION_EVENTS,
    LiveTranscript,
    LiveTranscriptionEvent,
    LiveTranscriptionReady,
    TranscriptionErrorMessage,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator

    from typing_extensions import Self

    from ._audio import AudioInput
    from ._endpoint import LiveEndpoint
    from ._socket import LiveSocket
    from ._wav import WavFormat

__all__ = ["LiveTranscription", "LiveTranscriptionSession"]

MAX_FRAME = 1024 * 1024
"""The largest binary frame the server takes (1 MiB): longer audio is split."""
KEEPALIVE_INTERVAL = 1.0
"""Seconds without audio after which the session sends ``KeepAlive``."""
READY_TIMEOUT = 30.0
"""Seconds ``connect()`` waits for the server's ``Ready``."""


class LiveTranscriptionSession:
    """One live transcription session: ``send_audio()``, ``finish()``, ``async for event in session``.

    Events are :class:`LiveTranscript` (``Results``), :class:`LiveUtteranceEnd`, and a plain
    :class:`LiveEvent` for a message type this SDK does not know. The iteration ends when
    the server closes the session normally (after ``finish()``); a server ``Error`` or an
    error close raises :class:`LiveSessionError`, a dropped connection
    :class:`LiveConnectionError`. Open one with ``client.live_transcription.connect()``.
    """

    def __init__(self, socket: LiveSocket, *, keepalive_interval: float | None) -> None:
        self._socket = socket
        self._keepalive_interval = keepalive_interval
        self._last_sent = anyio.current_time()
        self._sending = 0
        self._finished = False

    def __repr__(self) -> str:
        return f"<LiveTranscriptionSession {self._socket.url!r}>"

    @property
    def session_id(self) -> str | None:
        """The server's id of the session (``Ready``'s ``request_id``), if it gave one."""
        return self._socket.session_id

    async def send_audio(self, audio: bytes) -> None:
        """Send audio in the session's encoding, as binary frames of at most 1 MiB.

        Raises:
            RuntimeError: ``finish()`` was called.
            LiveSessionError: The session has ended.
        """
        if self._finished:
            raise RuntimeError("send_audio() after finish(): the stream is closed")
        data = memoryview(audio)
        self._sending += 1  # a send the server is slow to take is no silence
        try:
            for at in range(0, len(data), MAX_FRAME):
                await self._socket.send_bytes(bytes(data[at : at + MAX_FRAME]))
        finally:
            self._sending -= 1
            self._last_sent = anyio.current_time()

    async def finish(self) -> None:
        """Tell the server the audio is complete (``CloseStream``): pending words come as
        finals, then the server closes and the iteration ends. Calling it again does nothing."""
        if not self._finished:
            self._finished = True
            await self._socket.send_json({"type": "CloseStream"})

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> LiveTranscriptionEvent:
        event = await self.receive()
        if event is None:
            raise StopAsyncIteration
        return event

    async def receive(self) -> LiveTranscriptionEvent | None:
        """The next event, or ``None`` once the server has closed the session normally.

        Raises:
            LiveSessionError: The server's ``Error``, an error close, or a message this SDK
                cannot read.
            LiveConnectionError: The connection dropped.
        """
        payload = await self._socket.receive_json()
        if payload is None:
            return None
        if isinstance(payload, bytes):
            raise await self._socket.failed(None, protocol="a binary frame")
        try:
            event = decode_event(payload, TRANSCRIPTION_EVENTS)
        except MalformedMessage as exc:
            raise await self._socket.failed(None, protocol=str(exc)) from None
        if isinstance(event, TranscriptionErrorMessage):
            raise await self._socket.failed(_error_text(event))
        return event

    async def _keep_alive(self) -> None:
        """Send ``KeepAlive`` whenever no audio went out for the interval, until ``finish()``."""
        interval = self._keepalive_interval
        if interval is None:
            return
        while not self._finished:
            idle = anyio.current_time() - self._last_sent
            if idle < interval or self._sending:
                await anyio.sleep(interval - idle if idle < interval else interval)
                continue
            try:
                await self._socket.send_json({"type": "KeepAlive"})
            except LiveSessionError:  # the session's iteration raises what went wrong
                return
            self._last_sent = anyio.current_time()


def _error_text(event: TranscriptionErrorMessage) -> str:
    return f"{event.message} ({event.code})" if event.code else event.message


class LiveTranscription:
    """``client.live_transcription``: live transcription sessions (WebSockets).

    Each session is a connection of its own, outside the client's request limits.
    """

    def __init__(self, endpoint: LiveEndpoint) -> None:
        self._endpoint = endpoint

    def __repr__(self) -> str:
        return f"<LiveTranscription {self._endpoint.url!r}>"

    @contextlib.asynccontextmanager
    async def connect(
        self,
        *,
        language: str | int | None = None,
        model: str | None = None,
        encoding: str | None = None,
        sample_rate: int | None = None,
        channels: int | None = None,
        keepalive_interval: float | None = KEEPALIVE_INTERVAL,
        ready_timeout: float | None = READY_TIMEOUT,
    ) -> AsyncGenerator[LiveTranscriptionSession, None]:
        """Open a session; the block runs once the server sent ``Ready``, and leaving it
        closes the socket at once.

        Args:
            language: A locale (``"en-us"``, sent as given) or the API's int id (``35`` is
                ``"en-gb"``); ``None``: the server's default (``en-us``).
            model: The transcription model; ``None``: the server's default (``boli-v5``).
            encoding: ``"linear16"``, ``"linear32"``, ``"alaw"`` or ``"mulaw"``; ``None``:
                the server's default (``linear16``).
            sample_rate: Samples per second of the audio; ``None``: the server's (16000).
            channels: Channels of the audio; ``None``: the server's (1).
            keepalive_interval: Seconds without audio after which ``KeepAlive`` is sent
                (again every interval while the silence lasts); ``None``: never.
            ready_timeout: Seconds to wait for ``Ready`` (``TimeoutError`` after);
                ``None``: no limit.

        Raises:
            ValueError: A bad ``sample_rate``, ``channels`` or ``keepalive_interval``
                (before connecting).
            AuthenticationError: The key was refused (also a ``LiveSessionError`` when the
                server closed with 4401).
            LiveSessionError: The server refused the session (e.g. 4400 for a bad setting).
            LiveConnectionError: No connection.
        """
        params = _query(language, model, encoding, sample_rate, channels)
        if keepalive_interval is not None and not keepalive_interval > 0:
            raise ValueError(f"keepalive_interval must be > 0 seconds or None, got {keepalive_interval!r}")
        async with self._endpoint.connect(params) as socket:
            session = LiveTranscriptionSession(socket, keepalive_interval=keepalive_interval)
            with anyio.fail_after(ready_timeout):
                ready = await _wait_ready(session)
            socket.ready(session_id=ready.request_id)
            async with alongside(session._keep_alive):
                yield session

    @contextlib.asynccontextmanager
    async def transcribe(
        self,
        audio: AudioInput,
        *,
        language: str | int | None = None,
        model: str | None = None,
        encoding: str | None = None,
        sample_rate: int | None = None,
        channels: int | None = None,
        keepalive_interval: float | None = KEEPALIVE_INTERVAL,
        ready_timeout: float | None = READY_TIMEOUT,
    ) -> AsyncGenerator[AsyncIterator[LiveTranscript], None]:
        """Transcribe ``audio``: the block gets the transcript events (interim and final), in order.

        ``audio`` is raw bytes, a WAV file (its path, or its bytes), or an iterable or
        async iterable of raw chunks (a microphone); it is sent while the results come
        back, then ``finish()`` is sent. A WAV's header sets ``encoding``,
        ``sample_rate`` and ``channels`` where they are not given; only its audio frames
        are sent. The other arguments are :meth:`connect`'s.

        Raises:
            ValueError: A keyword contradicts the WAV's header, or the WAV is not one the
                endpoint takes (before connecting).
            TypeError: ``audio`` is none of the accepted kinds, or a chunk is not bytes.
        """
        source = await open_audio(audio)
        if source.wav is not None:
            encoding, sample_rate, channels = _from_header(source.wav, encoding, sample_rate, channels)
        async with self.connect(
            language=language,
            model=model,
            encoding=encoding,
            sample_rate=sample_rate,
            channels=channels,
            keepalive_interval=keepalive_interval,
            ready_timeout=ready_timeout,
        ) as session:
            feed = Feed(source.chunks(), session.send_audio, session.finish)
            async with (
                alongside(feed.run),
                contextlib.aclosing(follow(session, feed, LiveTranscript)) as results,
            ):
                yield results


async def _wait_ready(session: LiveTranscriptionSession) -> LiveTranscriptionReady:
    async for event in session:
        if isinstance(event, LiveTranscriptionReady):
            return event
    raise await session._socket.failed("the server closed the session before it was ready")


def _query(
    language: str | int | None,
    model: str | None,
    encoding: str | None,
    sample_rate: int | None,
    channels: int | None,
) -> dict[str, str | int]:
    """The session's query parameters; ``ValueError`` for a value that cannot be right."""
    for name, count in (("sample_rate", sample_rate), ("channels", channels)):
        if count is not None and not (type(count) is int and count >= 1):
            raise ValueError(f"{name} must be a positive int, got {count!r}")
    given = {
        "language": None if language is None else live_locale(language),
        "model": model,
        "encoding": encoding,
        "sample_rate": sample_rate,
        "channels": channels,
    }
    return {name: value for name, value in given.items() if value is not None}


def _from_header(
    wav: WavFormat, encoding: str | None, sample_rate: int | None, channels: int | None
) -> tuple[str, int, int]:
    """The session's format from a WAV header and the keywords given; ``ValueError`` where they differ."""
    for name, given, actual in (
        ("encoding", encoding, wav.encoding),
        ("sample_rate", sample_rate, wav.sample_rate),
        ("channels", channels, wav.channels),
    ):
        if given is not None and given != actual:
            raise ValueError(
                f"{name}={given!r} contradicts the WAV header ({name} {actual!r}); "
                "leave it out to use the header's"
            )
    return wav.encoding, wav.sample_rate, wav.channels
