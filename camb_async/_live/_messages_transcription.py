"""Live transcription's server messages as typed events.

``Results`` carries the transcript of the current utterance so far (cumulative:
each one replaces the last) in ``channel.alternatives[0]``; :class:`LiveTranscript`
lifts that first alternative's ``transcript``, ``words`` and ``confidence`` to
the top. A final ``Results`` closes the utterance and the next one starts from
``""``; an ``UtteranceEnd`` marks the boundary. ``Error`` is fatal (the server
closes right after), so the session raises it rather than yielding it.
"""

from __future__ import annotations

from typing import ClassVar, TypeAlias

import pydantic
from pydantic import AliasPath, ConfigDict, Field

from ._messages import LiveEvent

__all__ = [
    "TRANSCRIPTION_EVENTS",
    "LiveTranscript",
    "LiveTranscriptWord",
    "LiveTranscriptionEvent",
    "LiveTranscriptionReady",
    "LiveUtteranceEnd",
    "TranscriptionErrorMessage",
]

_FIRST = ("channel", "alternatives", 0)


class LiveTranscriptWord(pydantic.BaseModel):
    """One word of a transcript, with its timing in seconds from the start of the stream."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True, extra="allow")

    word: str
    start: float | None = None
    end: float | None = None
    confidence: float | None = None


class LiveTranscriptionReady(LiveEvent):
    """``Ready``: the server takes audio from now on (``connect()`` waits for it)."""

    request_id: str | None = None


class LiveTranscript(LiveEvent):
    """``Results``: the transcript of the current utterance so far.

    Interim results are cumulative (each replaces the previous one); a final one
    (``is_final``) closes the utterance, and the next result starts afresh.
    """

    is_final: bool = False
    """Whether this utterance's transcript is settled."""
    transcript: str = Field("", validation_alias=AliasPath(*_FIRST, "transcript"))
    """The utterance's text (the first alternative's)."""
    words: list[LiveTranscriptWord] = Field(
        default_factory=list[LiveTranscriptWord], validation_alias=AliasPath(*_FIRST, "words")
    )
    """The words with their timings (the server may send them on finals only)."""
    confidence: float | None = Field(None, validation_alias=AliasPath(*_FIRST, "confidence"))
    speech_final: bool | None = None
    start: float | None = None
    """Seconds from the start of the stream to the start of this result's audio."""
    duration: float | None = None
    """Seconds of audio this result covers."""
    request_id: str | None = Field(None, validation_alias=AliasPath("metadata", "request_id"))


class LiveUtteranceEnd(LiveEvent):
    """``UtteranceEnd``: an utterance ended (it follows the final of that utterance)."""

    last_word_end: float | None = None
    """Seconds from the start of the stream to the end of the utterance's last word."""


class TranscriptionErrorMessage(LiveEvent):
    """``Error``: the server gives up on the session; a close follows."""

    code: str | None = None
    message: str = ""


LiveTranscriptionEvent: TypeAlias = LiveTranscript | LiveUtteranceEnd | LiveEvent
"""What ``async for event in session`` yields (a plain :class:`LiveEvent` for an unknown type)."""

TRANSCRIPTION_EVENTS: dict[str, type[LiveEvent]] = {
    "Ready": LiveTranscriptionReady,
    "Results": LiveTranscript,
    "UtteranceEnd": LiveUtteranceEnd,
    "Error": TranscriptionErrorMessage,
}
"""The event class of each server message type."""
