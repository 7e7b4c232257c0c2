"""Realtime speech-to-speech's server messages as typed events.

Audio comes either as binary frames (what camb-sdk reads) or as base64 in
``response.audio.delta`` JSON events (what the docs show); both become a
:class:`RealtimeAudio` of type ``"response.audio.delta"`` with the decoded bytes.
Text deltas and their ``done`` events share :class:`RealtimeText` (``.text`` is the
wire's ``delta`` or ``text``), the source-language transcript's the same way
:class:`RealtimeTranscript`. ``response.audio.done`` and ``session.starting`` carry
nothing and come as plain :class:`LiveEvent`.
"""

from __future__ import annotations

import base64
import binascii
from typing import ClassVar, TypeAlias

import pydantic
from pydantic import AliasChoices, ConfigDict, Field, JsonValue, field_validator

from ._messages import LiveEvent

__all__ = [
    "AUDIO_DELTA",
    "REALTIME_EVENTS",
    "RealtimeAudio",
    "RealtimeErrorDetail",
    "RealtimeErrorEvent",
    "RealtimeEvent",
    "RealtimeLanguageEvent",
    "RealtimeSessionInfo",
    "RealtimeSessionUpdated",
    "RealtimeText",
    "RealtimeTranscript",
    "audio_event",
]

AUDIO_DELTA = "response.audio.delta"


class RealtimeSessionInfo(pydantic.BaseModel):
    """The session's settings as the server echoes them (``session.created``/``updated``)."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True, extra="allow")

    id: str | None = None
    mode: str | None = None
    model: str | None = None
    source_language: str | None = None
    target_language: str | None = None
    output_modalities: list[str] | None = None
    voice: dict[str, JsonValue] | None = None


class RealtimeSessionUpdated(LiveEvent):
    """``session.created`` (the session takes audio from now on) or ``session.updated``
    (its settings changed, also right after ``session.created``)."""

    session: RealtimeSessionInfo = Field(default_factory=RealtimeSessionInfo)


class RealtimeAudio(LiveEvent):
    """``response.audio.delta``: translated speech, PCM16 mono 24 kHz (``.audio``, decoded).

    ``raw`` is the binary frame, or the JSON event its base64 came in.
    """

    audio: bytes = Field(validation_alias="delta")

    @field_validator("audio", mode="before")
    @classmethod
    def _decoded(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return base64.b64decode(value, validate=True)
            except (ValueError, binascii.Error):
                raise ValueError("audio that is not base64") from None
        return value


def audio_event(frame: bytes) -> RealtimeAudio:
    """A binary frame as the audio event it is."""
    return RealtimeAudio.model_validate({"type": AUDIO_DELTA, "raw": frame, "delta": frame})


class RealtimeText(LiveEvent):
    """``response.text.delta`` (a piece of the translation) or ``response.text.done`` (all
    of it since the last ``done``): ``.text`` is the wire's ``delta`` or ``text``."""

    text: str = Field(validation_alias=AliasChoices("delta", "text"))


class RealtimeTranscript(LiveEvent):
    """The source-language transcript: ``conversation.item.input_audio_transcription.delta``
    (a piece) or ``...completed`` (the utterance); ``.text`` is ``delta`` or ``transcript``.

    With ``source_language="auto"``, a completed one names the ``language`` detected and
    ``passthrough`` (the speech was already in the target language).
    """

    text: str = Field(validation_alias=AliasChoices("delta", "transcript"))
    item_id: str | None = None
    language: str | None = None
    passthrough: bool | None = None


class RealtimeLanguageEvent(LiveEvent):
    """``session.source_language_changed`` (``language``, ``previous_language``) or
    ``session.source_language_switch_confirmation_requested`` (``language``)."""

    language: str | None = None
    previous_language: str | None = None


class RealtimeErrorDetail(pydantic.BaseModel):
    """What an ``error`` event says: ``type`` (e.g. ``"invalid_request_error"``,
    ``"authentication_error"``), ``code``, ``message`` and the ``param`` at fault."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True, extra="allow")

    message: str = ""
    code: str | None = None
    type: str | None = None
    param: str | None = None


class RealtimeErrorEvent(LiveEvent):
    """``error``: a non-fatal one (an unknown client event, audio too early) is yielded as
    this event and the session goes on; a fatal one raises ``LiveSessionError``."""

    error: RealtimeErrorDetail = Field(default_factory=RealtimeErrorDetail)

    @property
    def message(self) -> str:
        """The error's text."""
        return self.error.message


_TRANSCRIPT = "conversation.item.input_audio_transcription"

RealtimeEvent: TypeAlias = (
    RealtimeAudio
    | RealtimeText
    | RealtimeTranscript
    | RealtimeSessionUpdated
    | RealtimeLanguageEvent
    | RealtimeErrorEvent
    | LiveEvent
)
"""What ``async for event in session`` yields (a plain :class:`LiveEvent` for the rest)."""

REALTIME_EVENTS: dict[str, type[LiveEvent]] = {
    "session.created": RealtimeSessionUpdated,
    "session.updated": RealtimeSessionUpdated,
    AUDIO_DELTA: RealtimeAudio,
    "response.text.delta": RealtimeText,
    "response.text.done": RealtimeText,
    f"{_TRANSCRIPT}.delta": RealtimeTranscript,
    f"{_TRANSCRIPT}.completed": RealtimeTranscript,
    "session.source_language_changed": RealtimeLanguageEvent,
    "session.source_language_switch_confirmation_requested": RealtimeLanguageEvent,
    "error": RealtimeErrorEvent,
}
"""The event class of each server message type."""
