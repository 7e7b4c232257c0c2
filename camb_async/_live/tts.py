"""Live TTS (``client.live_tts``): push text as it comes, get audio segment by segment, in order.

The protocol (``wss://client.camb.ai/apis/live-tts/ws``): the client's first message is
``session.start`` (voice, language, format, tuning), answered by ``session.ready``;
then ``text.chunk``s, optionally ``text.done``; the server cuts the text into segments
(sentence ends, ``idle_timeout`` of quiet, ``text.done``) and sends each as
``segment.start``, binary audio frames and ``segment.done``, all of segment N before
any of N+1; ``session.done`` and a normal close end the session. A segment whose
synthesis failed after the server's retries comes as ``segment.skipped``; a fatal
error as ``session.error`` and a close 4400/4401/4402.

:meth:`LiveTTS.connect` gives the session itself; :meth:`LiveTTS.speak` feeds a text
source (a string, an iterable or an async iterable of strings, such as an LLM's token
stream) while it hands back the audio, both inside its block.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, Iterable
from typing import TYPE_CHECKING

import anyio

from .._resources._fields import build
from ._feed import Feed, alongside, follow
from ._messages import JsonObject, LiveEvent, MalformedMessage, decode_event, json_object
from ._messages_tts import (
    TTS_EVENTS,
    LiveTTSAudio,
    LiveTTSEvent,
    LiveTTSFormat,
    LiveTTSSegmentSkipped,
    LiveTTSSegmentStarted,
    LiveTTSSessionDone,
    LiveTTSSessionReady,
    SessionStart,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator

    from typing_extensions import Self

    from ._socket import LiveEndpoint, LiveSocket

__all__ = ["READY_TIMEOUT", "LiveTTS", "LiveTTSSession"]

READY_TIMEOUT = 30.0
"""Seconds ``connect()`` waits for ``session.ready`` by default."""


class LiveTTSSession:
    """One live TTS session, from ``session.ready`` to ``session.done``.

    ``async for event in session`` yields the server's events in order until it ends the
    session (its :class:`LiveTTSSessionDone`, then the close); a ``session.error`` raises.
    Sending and receiving may run in different tasks.
    """

    def __init__(self, socket: LiveSocket, ready: LiveTTSSessionReady) -> None:
        self._socket = socket
        self._ready = ready
        self._segment: int | None = None
        self._done = False

    def __repr__(self) -> str:
        return f"<LiveTTSSession {self.session_id!r} run_id={self.run_id}>"

    @property
    def session_id(self) -> str:
        """The server's id of the session."""
        return self._ready.session_id

    @property
    def run_id(self) -> int:
        """The session's run (a ``TTS_API`` run the run endpoints know)."""
        return self._ready.run_id

    @property
    def config(self) -> JsonObject:
        """The settings the server resolved for the session, as it echoed them."""
        return self._ready.config

    async def send_text(self, text: str, *, index: int | None = None) -> None:
        """Send a chunk of text (``text.chunk``); the server cuts segments by content, not
        by chunk, so chunks of any size do (an LLM's tokens, a caption's words).
        ``index`` is an optional ordering hint the server only records.

        Raises:
            TypeError: ``text`` is not a ``str``.
            LiveSessionError: The session has ended.
        """
        message: dict[str, object] = {"type": "text.chunk", "text": _text(text)}
        if index is not None:
            message["index"] = index
        await self._socket.send_json(message)

    async def finish(self) -> None:
        """Send ``text.done``: the server voices what it holds, then ends the session."""
        await self._socket.send_json({"type": "text.done"})

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> LiveTTSEvent:
        event = await self.receive()
        if event is None:
            raise StopAsyncIteration
        return event

    async def receive(self) -> LiveTTSEvent | None:
        """The next event, or ``None`` once the server has ended the session.

        Raises:
            LiveSessionError: ``session.error``, an error close, a close before
                ``session.done``, or a message this SDK cannot read.
            LiveConnectionError: The connection dropped.
        """
        socket = self._socket
        message = await socket.receive()
        if isinstance(message, bytes):
            return LiveTTSAudio.model_construct(
                type="audio", raw=message, audio=message, segment_id=self._segment
            )
        if message is None:
            if self._done:
                return None
            raise socket.error("the server closed the session before session.done")
        try:
            event = decode_event(json_object(message), TTS_EVENTS)
        except MalformedMessage as exc:
            raise await socket.failed(None, protocol=str(exc)) from None
        if isinstance(event, LiveTTSSegmentStarted):
            self._segment = event.segment_id
        elif isinstance(event, LiveTTSSessionDone):
            self._done = True
        elif event.type == "session.error":
            raise await socket.failed(_error_text(event))
        return event


class LiveTTS:
    """``client.live_tts``: live text-to-speech over a WebSocket.

    Each session is a connection of its own, outside the client's limit on requests in
    flight, its request budget and its circuit breaker; it is never reconnected behind
    your back (docs/realtime.md).
    """

    def __init__(self, endpoint: LiveEndpoint) -> None:
        self._endpoint = endpoint

    def __repr__(self) -> str:
        return f"<LiveTTS {self.url!r}>"

    @property
    def url(self) -> str:
        """The WebSocket URL sessions connect to."""
        return self._endpoint.url

    @contextlib.asynccontextmanager
    async def connect(
        self,
        *,
        voice_id: int,
        language: int | str | None = None,
        output_format: LiveTTSFormat | None = None,
        word_timestamps: bool | None = None,
        idle_timeout: float | None = None,
        enhance_named_entities_pronunciation: bool | None = None,
        apply_enhancement: bool | None = None,
        enhance_reference_audio_quality: bool | None = None,
        maintain_source_accent: bool | None = None,
        speaking_rate: float | None = None,
        sample_rate: int | None = None,
        inference_steps: int | None = None,
        ready_timeout: float = READY_TIMEOUT,
    ) -> AsyncGenerator[LiveTTSSession, None]:
        """Open a live TTS session; the block gets it once the server answered
        ``session.ready``, so a bad key, voice or language fails here. Leaving the block
        closes the connection at once.

        Every option left ``None`` is the server's default.

        Args:
            voice_id: The voice (the only required option).
            language: A locale, sent as given (``"en-us"``; the server validates it), or
                its int id, sent as the locale (``35`` is ``"en-gb"``).
            output_format: ``"mp3"`` (the server's default), ``"wav"``, ``"flac"`` or ``"aac"``.
            word_timestamps: Ask for each segment's word timings (``segment.start``).
            idle_timeout: Seconds without new text after which the server voices a
                fragment with no sentence end (1.0; raise it for a slow producer).
            enhance_named_entities_pronunciation: As ``/tts-stream``'s.
            apply_enhancement: As ``output_configuration.apply_enhancement``.
            enhance_reference_audio_quality: As ``voice_settings``'.
            maintain_source_accent: As ``voice_settings``'.
            speaking_rate: As ``voice_settings.speaking_rate``.
            sample_rate: As ``output_configuration.sample_rate``.
            inference_steps: The quality/latency knob.
            ready_timeout: Seconds to wait for ``session.ready``.

        Raises:
            TypeError, ValueError: A bad option (before connecting).
            AuthenticationError: A bad key (also a ``LiveSessionError`` when the
                server closed with 4401).
            LiveSessionError: The server refused the session (4400: voice,
                language, settings), or failed it later.
            LiveConnectionError: No connection, a drop, or no ``session.ready`` in time.
        """
        start = build(
            SessionStart,
            "live_tts.connect()",
            voice_id=voice_id,
            language=language,
            output_format=output_format,
            word_timestamps=word_timestamps,
            idle_timeout=idle_timeout,
            enhance_named_entities_pronunciation=enhance_named_entities_pronunciation,
            apply_enhancement=apply_enhancement,
            enhance_reference_audio_quality=enhance_reference_audio_quality,
            maintain_source_accent=maintain_source_accent,
            speaking_rate=speaking_rate,
            sample_rate=sample_rate,
            inference_steps=inference_steps,
        )
        _check_seconds(ready_timeout, "ready_timeout")
        async with self._endpoint.connect() as socket:
            await socket.send_json(start.model_dump(exclude_none=True))
            ready = await _ready(socket, ready_timeout)
            socket.ready(session_id=ready.session_id, run_id=ready.run_id)
            yield LiveTTSSession(socket, ready)

    @contextlib.asynccontextmanager
    async def speak(
        self,
        text: str | Iterable[str] | AsyncIterable[str],
        *,
        voice_id: int,
        language: int | str | None = None,
        output_format: LiveTTSFormat | None = None,
        allow_skipped: bool = False,
        idle_timeout: float | None = None,
        enhance_named_entities_pronunciation: bool | None = None,
        apply_enhancement: bool | None = None,
        enhance_reference_audio_quality: bool | None = None,
        maintain_source_accent: bool | None = None,
        speaking_rate: float | None = None,
        sample_rate: int | None = None,
        inference_steps: int | None = None,
        ready_timeout: float = READY_TIMEOUT,
    ) -> AsyncGenerator[AsyncIterator[bytes], None]:
        """Speak ``text`` as it comes: the block iterates the audio, in order, while the
        text is still being sent.

        ``text`` is a ``str``, an iterable or an async iterable of ``str`` (an LLM's
        token stream): each piece goes out as soon as the source gives it, and audio
        comes back as soon as the server has voiced a segment, long before the source
        ends. When the source ends the session is finished (``text.done``); the audio
        ends after the last segment's. Sending runs in a task inside the block: leaving
        the block (``break``, an exception, a cancellation) stops it and closes the
        connection at once.

        Args:
            allow_skipped: Let a segment the server skipped pass (its audio is then
                missing); by default it raises, since silently missing audio is the
                worst outcome.
            The others: as :meth:`connect`'s.

        Raises:
            TypeError, ValueError: A bad option or ``text`` (before connecting); a
                piece of the source that is not a ``str`` (when it comes).
            LiveSessionError: The server skipped a segment (unless ``allow_skipped``),
                or failed the session; its ``run_id`` says which run it was.
            LiveConnectionError: The connection dropped.
            Exception: Whatever the source raised, as it raised it.
        """
        _check_source(text)
        async with self.connect(
            voice_id=voice_id,
            language=language,
            output_format=output_format,
            idle_timeout=idle_timeout,
            enhance_named_entities_pronunciation=enhance_named_entities_pronunciation,
            apply_enhancement=apply_enhancement,
            enhance_reference_audio_quality=enhance_reference_audio_quality,
            maintain_source_accent=maintain_source_accent,
            speaking_rate=speaking_rate,
            sample_rate=sample_rate,
            inference_steps=inference_steps,
            ready_timeout=ready_timeout,
        ) as session:
            feed = Feed(_pieces(text), session.send_text, session.finish)
            audio = _audio(session, feed, allow_skipped=allow_skipped)
            async with alongside(feed.run), contextlib.aclosing(audio):
                yield audio


async def _pieces(text: str | Iterable[str] | AsyncIterable[str]) -> AsyncGenerator[str, None]:
    """The pieces of ``text`` to send: the ``str`` itself, or each non-empty piece as it comes."""
    if isinstance(text, str):
        yield text
    elif isinstance(text, AsyncIterable):
        async for piece in text:
            if piece:
                yield piece
    else:
        for piece in text:
            if piece:
                yield piece


async def _audio(session: LiveTTSSession, feed: Feed, *, allow_skipped: bool) -> AsyncGenerator[bytes, None]:
    """The audio of :meth:`LiveTTS.speak`, in order; a skipped segment raises unless ``allow_skipped``."""
    async with contextlib.aclosing(follow(session, feed, LiveEvent)) as events:
        async for event in events:
            if isinstance(event, LiveTTSAudio):
                yield event.audio
            elif isinstance(event, LiveTTSSegmentSkipped) and not allow_skipped:
                raise session._socket.error(
                    f"the server skipped segment {event.segment_id} after its retries "
                    "(pass allow_skipped=True to let skips pass)",
                    reason=event.text,
                )


async def _ready(socket: LiveSocket, timeout: float) -> LiveTTSSessionReady:
    """Wait for ``session.ready``; a ``session.error`` (or the close) first raises."""
    with anyio.move_on_after(timeout):
        while True:
            message = await socket.receive()
            if message is None:
                raise socket.error("the server closed the session before session.ready")
            if isinstance(message, bytes):
                raise await socket.failed(None, protocol="audio before session.ready")
            try:
                event = decode_event(json_object(message), TTS_EVENTS)
            except MalformedMessage as exc:
                raise await socket.failed(None, protocol=str(exc)) from None
            if isinstance(event, LiveTTSSessionReady):
                return event
            if event.type == "session.error":
                raise await socket.failed(_error_text(event))
    raise socket.error(f"no session.ready within {timeout:g} s", dropped=True)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"live TTS text must be a str, got {type(value).__name__}")
    return value


def _check_source(text: object) -> None:
    kind = type(text).__name__
    if isinstance(text, str):
        return
    if isinstance(text, bytes | bytearray | memoryview) or not isinstance(text, Iterable | AsyncIterable):
        raise TypeError(f"speak() takes a str or an (async) iterable of str, got {kind}")


def _check_seconds(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a number of seconds > 0, got {value!r}")


def _error_text(event: LiveEvent) -> str | None:
    """A ``session.error``'s text (its ``error``, else ``message``)."""
    raw = event.raw
    if isinstance(raw, dict):
        for field in ("error", "message"):
            value = raw.get(field)
            if isinstance(value, str):
                return value
    return None
