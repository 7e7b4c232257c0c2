"""Live TTS's wire messages: the typed events the server sends, and ``session.start``.

Fields are named as the wire's. Binary frames become :class:`LiveTTSAudio` (``type``
``"audio"``); a JSON message of a type not in :data:`TTS_EVENTS` is a plain ``LiveEvent``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, TypeAlias

import pydantic
from pydantic import ConfigDict, Field, JsonValue

from .._resources._fields import Body, Id, LiveLocale
from ._messages import JsonObject, LiveEvent

__all__ = [
    "TTS_EVENTS",
    "LiveTTSAudio",
    "LiveTTSEvent",
    "LiveTTSFormat",
    "LiveTTSSegmentDone",
    "LiveTTSSegmentSkipped",
    "LiveTTSSegmentStarted",
    "LiveTTSSessionDone",
    "LiveTTSSessionReady",
    "LiveTTSWord",
    "SessionStart",
]

LiveTTSFormat: TypeAlias = Literal["mp3", "wav", "flac", "aac"]
"""The audio formats live TTS speaks in (``mp3`` unless told)."""


class LiveTTSWord(pydantic.BaseModel):
    """A word's timing in its segment, in seconds from the segment's start."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True, extra="ignore")

    word: str
    start: float
    end: float


class LiveTTSSessionReady(LiveEvent):
    """``session.ready``: the server accepted the session (``connect()`` reads it)."""

    session_id: str
    run_id: int
    config: JsonObject = Field(default_factory=dict[str, JsonValue])


class LiveTTSSegmentStarted(LiveEvent):
    """``segment.start``: segment ``segment_id`` begins; ``text`` is exactly what is voiced;
    ``word_timestamps`` come when the session asked for them and the server had them."""

    segment_id: int
    text: str
    word_timestamps: list[LiveTTSWord] | None = None


class LiveTTSAudio(LiveEvent):
    """A binary frame of audio (``type`` is ``"audio"``) of segment ``segment_id``; a
    segment's frames, joined, are playable audio in the session's format."""

    audio: bytes
    segment_id: int | None = None


class LiveTTSSegmentDone(LiveEvent):
    """``segment.done``: all of segment ``segment_id``'s audio has come."""

    segment_id: int


class LiveTTSSegmentSkipped(LiveEvent):
    """``segment.skipped``: the server gave up on segment ``segment_id`` after its retries;
    ``text`` is what went unvoiced (send it again if it is wanted)."""

    segment_id: int
    text: str


class LiveTTSSessionDone(LiveEvent):
    """``session.done``: every segment has been sent; a normal close follows."""


LiveTTSEvent: TypeAlias = (
    LiveTTSSegmentStarted
    | LiveTTSAudio
    | LiveTTSSegmentDone
    | LiveTTSSegmentSkipped
    | LiveTTSSessionDone
    | LiveEvent
)
"""What ``async for event in session`` yields (a plain :class:`LiveEvent` for an unknown type)."""

TTS_EVENTS: dict[str, type[LiveEvent]] = {
    "session.ready": LiveTTSSessionReady,
    "segment.start": LiveTTSSegmentStarted,
    "segment.done": LiveTTSSegmentDone,
    "segment.skipped": LiveTTSSegmentSkipped,
    "session.done": LiveTTSSessionDone,
}

Positive = Annotated[float, Field(gt=0)]
PositiveInt = Annotated[int, Field(gt=0)]


class SessionStart(Body):
    """``session.start``: every option of the protocol; ``None`` leaves the server's default."""

    type: Literal["session.start"] = "session.start"
    voice_id: Id
    language: LiveLocale | None = None
    output_format: LiveTTSFormat | None = None
    word_timestamps: bool | None = None
    idle_timeout: Positive | None = None
    enhance_named_entities_pronunciation: bool | None = None
    apply_enhancement: bool | None = None
    enhance_reference_audio_quality: bool | None = None
    maintain_source_accent: bool | None = None
    speaking_rate: Positive | None = None
    sample_rate: PositiveInt | None = None
    inference_steps: PositiveInt | None = None
