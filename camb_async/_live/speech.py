"""Realtime speech-to-speech (``client.realtime``): speech in one language, its translation out.

One WebSocket per session at ``{realtime_url}/v1/realtime``. The first message is a
``session.update`` with the languages and options; the server answers
``session.created`` (ready for audio) and ``session.updated``. Audio goes base64 in
``input_audio_buffer.append`` messages of at most 256 KiB decoded, PCM16 mono 24 kHz.
The protocol has no end-of-input message: after :meth:`RealtimeSession.finish`, the
session ends once the server has been quiet for a short window.

An ``error`` message is fatal when the server closes the session after it (or it is an
``authentication_error``): the session raises ``LiveSessionError``. Otherwise (an unknown
client event, audio sent too early) it is yielded as a :class:`RealtimeErrorEvent` and
the session goes on; telling the two apart takes a look at what follows the error, for
at most ``FATAL_GRACE`` seconds.
"""

from __future__ import annotations

import base64
import contextlib
from typing import TYPE_CHECKING, Literal

import anyio

from .._exceptions import LiveSessionError
from .._languages import live_locale
from ._audio import open_audio
from ._feed import Feed, alongside, follow
from ._messages import LiveEvent, MalformedMessage, decode_event
from ._messages_speech import (
    REALTIME_EVENTS,
    RealtimeErrorEvent,
    RealtimeEvent,
    RealtimeSessionInfo,
    RealtimeSessionUpdated,
    audio_event,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Sequence

    from typing_extensions import Self

    from ._audio import AudioInput
    from ._endpoint import LiveEndpoint
    from ._messages import JsonObject
    from ._socket import LiveSocket

__all__ = ["Realtime", "RealtimeSession"]

MAX_APPEND = 256 * 1024
"""The most audio (decoded) one ``input_audio_buffer.append`` may carry."""
QUIET_WINDOW = 1.5
"""Seconds of server silence after ``finish()`` (and after its last message) that end the session."""
READY_TIMEOUT = 90.0
"""Seconds ``connect()`` waits for ``session.created`` (camb-sdk's; slow mode cold-boots for 30 s+)."""
FATAL_GRACE = 0.5
"""Seconds an ``error`` message's close is waited for before the error counts as non-fatal."""
MAX_CANDIDATES = 10
SAMPLE_RATE = 24000
"""Realtime audio is PCM16 mono at this rate, both ways."""

Modality = Literal["text", "audio"]
SpeakerSetup = Literal["changing_speakers", "single_known_speaker"]


class RealtimeSession:
    """One speech-to-speech session: ``send_audio()``, ``update()``, ``finish()``,
    ``async for event in session``.

    Events: :class:`RealtimeAudio` (``response.audio.delta``, ``.audio`` bytes),
    :class:`RealtimeText` (``.text``), :class:`RealtimeTranscript` (the source's words),
    :class:`RealtimeSessionUpdated`, :class:`RealtimeLanguageEvent`, non-fatal
    :class:`RealtimeErrorEvent`, and a plain :class:`LiveEvent` for the rest
    (``response.audio.done``, types this SDK does not know). The iteration ends once
    the server has been quiet for ``quiet_window`` seconds after ``finish()``, or when
    it closes normally. Open one with ``client.realtime.connect()``.
    """

    def __init__(self, socket: LiveSocket, *, quiet_window: float) -> None:
        self._socket = socket
        self._quiet_window = quiet_window
        self._finished_at: float | None = None
        self._last_message = anyio.current_time()
        self._waiting: anyio.CancelScope | None = None
        self._pending: list[LiveEvent] = []
        self._over = False
        self._settings = RealtimeSessionInfo()

    def __repr__(self) -> str:
        return f"<RealtimeSession {self.session_id!r}>"

    @property
    def settings(self) -> RealtimeSessionInfo:
        """The session's settings, as the server last echoed them (``session.created``/``updated``)."""
        return self._settings

    @property
    def session_id(self) -> str | None:
        """The server's id of the session (``session.created``'s ``session.id``)."""
        return self._socket.session_id

    async def send_audio(self, pcm: bytes) -> None:
        """Send PCM16 mono 24 kHz audio, base64 in appends of at most 256 KiB each.

        Raises:
            RuntimeError: ``finish()`` was called.
            LiveSessionError: The session has ended.
        """
        if self._finished_at is not None:
            raise RuntimeError("send_audio() after finish(): the input is over")
        data = memoryview(pcm)
        for at in range(0, len(data), MAX_APPEND):
            encoded = base64.b64encode(data[at : at + MAX_APPEND]).decode("ascii")
            await self._socket.send_json({"type": "input_audio_buffer.append", "audio": encoded})

    async def update(
        self,
        *,
        source_language: str | int | None = None,
        target_language: str | int | None = None,
        output_modalities: Sequence[Modality] | None = None,
        voice: int | None = None,
        speaker_setup: SpeakerSetup | None = None,
        source_language_candidates: Sequence[str | int] | None = None,
    ) -> None:
        """Change the session's settings mid-session (a ``session.update``): e.g. new
        languages. Only what is given is sent; the server answers ``session.updated``
        (and ``session.source_language_changed`` for a new source language).

        Raises:
            ValueError: Nothing to change, or a bad value (before sending).
        """
        fields = _session_fields(
            source_language,
            target_language,
            output_modalities,
            voice,
            speaker_setup,
            source_language_candidates,
        )
        if not fields:
            raise ValueError("update() needs at least one setting to change")
        await self._socket.send_json({"type": "session.update", "session": fields})

    async def ignore_for_language_detection(self, item_id: str) -> None:
        """Leave an utterance (a transcript's ``item_id``) out of automatic language detection."""
        await self._socket.send_json(
            {"type": "input_audio_buffer.ignore_for_language_detection", "item_id": item_id}
        )

    async def finish(self) -> None:
        """Mark the end of the input: the iteration ends once the server has sent nothing
        for ``quiet_window`` seconds (counted from now, or from its last message if later)."""
        if self._finished_at is None:
            self._finished_at = anyio.current_time()
            if self._waiting is not None:
                self._waiting.deadline = self._deadline()

    def _deadline(self) -> float:
        if self._finished_at is None:
            return float("inf")
        return max(self._finished_at, self._last_message) + self._quiet_window

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> RealtimeEvent:
        event = await self.receive()
        if event is None:
            raise StopAsyncIteration
        return event

    async def receive(self) -> RealtimeEvent | None:
        """The next event, or ``None`` once the session is over: the server was quiet for
        ``quiet_window`` after ``finish()``, or it closed the session normally.

        Raises:
            LiveSessionError: A fatal ``error``, an error close, or a message this SDK
                cannot read (``AuthenticationError`` too for a refused key).
            LiveConnectionError: The connection dropped.
        """
        event = self._pending.pop() if self._pending else await self._next()
        if event is None:
            self._over = True
            return None
        if isinstance(event, RealtimeErrorEvent):
            await self._raise_if_fatal(event)
        return event

    async def _next(self) -> LiveEvent | None:
        """The next event, or ``None``: closed normally, or quiet for the window after ``finish()``."""
        if self._over:
            return None
        message: JsonObject | bytes | None = None
        with anyio.CancelScope(deadline=self._deadline()) as self._waiting:
            message = await self._socket.receive_json()
        self._waiting = None
        if message is None:
            return None
        self._last_message = anyio.current_time()
        return await self._decode(message)

    async def _decode(self, message: JsonObject | bytes) -> LiveEvent:
        if isinstance(message, bytes):
            return audio_event(message)
        try:
            event = decode_event(message, REALTIME_EVENTS)
        except MalformedMessage as exc:
            raise await self._socket.failed(None, protocol=str(exc)) from None
        if isinstance(event, RealtimeSessionUpdated):
            self._settings = event.session
        return event

    async def _raise_if_fatal(self, error: RealtimeErrorEvent) -> None:
        """Raise ``error`` if it ends the session: an authentication error, or one the server
        closes the session after. What follows it within ``FATAL_GRACE`` is kept for later."""
        if error.error.type == "authentication_error":
            raise await self._socket.failed(_error_text(error))
        with anyio.move_on_after(FATAL_GRACE):
            try:
                message = await self._socket.receive_json()
            except LiveSessionError:
                if self._socket.close_code is None:
                    raise  # no close from the server: the connection broke
                message = None
            if message is None:
                raise await self._socket.failed(_error_text(error))
            self._last_message = anyio.current_time()
            self._pending.append(await self._decode(message))


def _error_text(event: RealtimeErrorEvent) -> str:
    detail = event.error
    kind = ", ".join(part for part in (detail.type, detail.code) if part)
    return f"{detail.message} ({kind})" if kind else detail.message


def _session_fields(
    source_language: str | int | None,
    target_language: str | int | None,
    output_modalities: Sequence[Modality] | None,
    voice: int | None,
    speaker_setup: SpeakerSetup | None,
    source_language_candidates: Sequence[str | int] | None,
) -> dict[str, object]:
    """The ``session`` object of a ``session.update``: what is given, checked."""
    fields: dict[str, object] = {}
    if source_language is not None:
        fields["source_language"] = live_locale(source_language)
    if target_language is not None:
        fields["target_language"] = live_locale(target_language)
    if output_modalities is not None:
        modalities = list(output_modalities)
        if not modalities or not set(modalities) <= {"text", "audio"}:
            raise ValueError(
                f"output_modalities must be a non-empty subset of text, audio, got {modalities!r}"
            )
        fields["output_modalities"] = modalities
    if voice is not None:
        if type(voice) is not int or voice < 1:
            raise ValueError(f"voice must be a voice id (an int > 0), got {voice!r}")
        fields["voice"] = {"type": "cloned", "voice_id": voice}
    if speaker_setup is not None:
        fields["speaker_setup"] = speaker_setup
    if source_language_candidates is not None:
        candidates = [live_locale(language) for language in source_language_candidates]
        if len(candidates) > MAX_CANDIDATES:
            raise ValueError(f"source_language_candidates takes at most {MAX_CANDIDATES} languages")
        fields["source_language_candidates"] = candidates
    return fields


class Realtime:
    """``client.realtime``: speech-to-speech translation sessions (WebSockets).

    Each session is a connection of its own, outside the client's request limits.
    """

    def __init__(self, endpoint: LiveEndpoint) -> None:
        self._endpoint = endpoint

    def __repr__(self) -> str:
        return f"<Realtime {self._endpoint.url!r}>"

    @contextlib.asynccontextmanager
    async def connect(
        self,
        *,
        source_language: str | int,
        target_language: str | int | None = None,
        model: str | None = None,
        mode: Literal["fast", "slow"] | None = None,
        voice: int | None = None,
        output_modalities: Sequence[Modality] | None = None,
        speaker_setup: SpeakerSetup | None = None,
        source_language_candidates: Sequence[str | int] | None = None,
        quiet_window: float = QUIET_WINDOW,
        ready_timeout: float | None = READY_TIMEOUT,
    ) -> AsyncGenerator[RealtimeSession, None]:
        """Open a session; the block runs once the server sent ``session.created``, and
        leaving it closes the socket at once.

        Args:
            source_language: The speech's language, a locale (sent as given) or the API's
                int id; ``"auto"`` detects it (with ``speaker_setup`` and
                ``source_language_candidates``).
            target_language: The translation's language (required unless ``"auto"``).
            model: Sent as given as the ``model`` query parameter (the API reference's
                ``lilac``, ``violet``, ``iris``, ``orchid``).
            mode: camb-sdk's equivalent, ``"fast"`` (ready in about a second) or
                ``"slow"`` (a cold boot of 30 s or more), as the ``mode`` query parameter.
                Give ``model`` or ``mode``, not both; neither: the server's default.
            voice: A voice id to speak the translation with (a cloned voice).
            output_modalities: What to receive: ``["text", "audio"]`` (the server's default),
                or one of them.
            speaker_setup: With ``"auto"``: ``"changing_speakers"`` or ``"single_known_speaker"``.
            source_language_candidates: With ``"auto"``: at most 10 languages to pick from.
            quiet_window: Seconds the server must stay quiet after ``finish()`` for the
                session to end.
            ready_timeout: Seconds to wait for ``session.created`` (``TimeoutError``
                after); ``None``: no limit.

        Raises:
            ValueError: A missing target language, options that do not fit together, or a
                bad value (before connecting).
            AuthenticationError: The key was refused (also a ``LiveSessionError``).
            LiveSessionError: The server refused the settings.
            LiveConnectionError: No connection.
        """
        fields = _connect_fields(
            source_language,
            target_language,
            output_modalities,
            voice,
            speaker_setup,
            source_language_candidates,
        )
        if model is not None and mode is not None:
            raise ValueError("give model or mode, not both (mode is camb-sdk's name for the same choice)")
        if not quiet_window > 0:
            raise ValueError(f"quiet_window must be > 0 seconds, got {quiet_window!r}")
        params = {"model": model} if model is not None else {"mode": mode} if mode is not None else {}
        async with self._endpoint.connect(params) as socket:
            session = RealtimeSession(socket, quiet_window=quiet_window)
            await socket.send_json({"type": "session.update", "session": fields})
            with anyio.fail_after(ready_timeout):
                created = await _wait_created(session, socket)
            socket.ready(session_id=created.session.id)
            yield session

    @contextlib.asynccontextmanager
    async def translate(
        self,
        audio: AudioInput,
        *,
        source_language: str | int,
        target_language: str | int | None = None,
        model: str | None = None,
        mode: Literal["fast", "slow"] | None = None,
        voice: int | None = None,
        output_modalities: Sequence[Modality] | None = None,
        speaker_setup: SpeakerSetup | None = None,
        source_language_candidates: Sequence[str | int] | None = None,
        quiet_window: float = QUIET_WINDOW,
        ready_timeout: float | None = READY_TIMEOUT,
    ) -> AsyncGenerator[AsyncIterator[RealtimeEvent], None]:
        """Translate ``audio``: the block gets the session's events, in order.

        ``audio`` is PCM16 mono 24 kHz as bytes, a WAV file (its path or its bytes, which
        must hold that format; only its audio frames are sent), or an iterable or async
        iterable of chunks (a microphone). It is sent while events come back, then
        ``finish()``: the events end once the server has been quiet for
        ``quiet_window`` seconds. The other arguments are :meth:`connect`'s.

        Raises:
            ValueError: A WAV that is not PCM16 mono 24 kHz (before connecting).
            TypeError: ``audio`` is none of the accepted kinds, or a chunk is not bytes.
        """
        source = await open_audio(audio)
        wav = source.wav
        if wav is not None and (wav.encoding, wav.channels, wav.sample_rate) != ("linear16", 1, SAMPLE_RATE):
            raise ValueError(
                f"realtime audio is 16-bit PCM, mono, {SAMPLE_RATE} Hz; the WAV holds {wav.encoding}, "
                f"{wav.channels} channel(s), {wav.sample_rate} Hz: convert it first "
                "(e.g. ffmpeg -ar 24000 -ac 1 -c:a pcm_s16le)"
            )
        async with self.connect(
            source_language=source_language,
            target_language=target_language,
            model=model,
            mode=mode,
            voice=voice,
            output_modalities=output_modalities,
            speaker_setup=speaker_setup,
            source_language_candidates=source_language_candidates,
            quiet_window=quiet_window,
            ready_timeout=ready_timeout,
        ) as session:
            feed = Feed(source.chunks(), session.send_audio, session.finish)
            async with alongside(feed.run), contextlib.aclosing(follow(session, feed, LiveEvent)) as events:
                yield events


def _connect_fields(
    source_language: str | int,
    target_language: str | int | None,
    output_modalities: Sequence[Modality] | None,
    voice: int | None,
    speaker_setup: SpeakerSetup | None,
    source_language_candidates: Sequence[str | int] | None,
) -> dict[str, object]:
    """The first ``session.update``'s ``session``; ``ValueError`` for settings that cannot work."""
    auto = source_language == "auto"
    if target_language is None and not auto:
        raise ValueError("target_language is required (unless source_language='auto')")
    if not auto and (speaker_setup is not None or source_language_candidates is not None):
        raise ValueError("speaker_setup and source_language_candidates go with source_language='auto'")
    return _session_fields(
        source_language, target_language, output_modalities, voice, speaker_setup, source_language_candidates
    )


async def _wait_created(session: RealtimeSession, socket: LiveSocket) -> RealtimeSessionUpdated:
    """The server's ``session.created`` (or ``session.updated``); any ``error`` before it is fatal."""
    while True:
        event = await session._next()
        if event is None:
            raise await socket.failed("the server closed the session before it was created")
        if isinstance(event, RealtimeErrorEvent):
            raise await socket.failed(_error_text(event))
        if isinstance(event, RealtimeSessionUpdated):
            return event
