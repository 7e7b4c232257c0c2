"""Pydantic models of what the live-stream endpoints (``/stream``) answer.

No source documents the answer of ``GET /stream/{stream_id}`` (camb-sdk 1.6.6
types it as a plain dict), so these models are liberal readers: every field
is optional but the new stream's id, unknown fields are kept (``model_extra``),
and a status the SDK does not know stays the server's own string.
"""

from __future__ import annotations

import enum
from typing import Annotated, ClassVar

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = [
    "FAILED_STREAM_STATES",
    "TERMINAL_STREAM_STATES",
    "LiveStream",
    "LiveStreamCreated",
    "LiveStreamState",
    "ProbedAudioStream",
    "ProbedDataStream",
    "ProbedVideoStream",
    "StreamLanguageUrl",
    "StreamProbe",
]


class LiveStreamState(str, enum.Enum):
    """The states of a live stream, in the order a stream goes through them.

    A stream is not a task: being ``LIVE`` is what it is for, not a step
    towards an end. It ends ``STOPPED`` (stopped by its owner: ``delete()``,
    or ``update()`` with an ``end_time`` already past), ``ENDED`` (its
    ``end_time`` came, or its source ended), ``ERROR`` or ``TIMEOUT`` (it did
    not start within ``timeout_in_mins``). Members are strings
    (``LiveStreamState.LIVE == "LIVE"``).
    """

    SCHEDULED = "SCHEDULED"
    """Waiting for its ``start_time``."""
    CREATED = "CREATED"
    """Accepted; its pipeline starts after ``initial_delay`` seconds."""
    STARTING = "STARTING"
    """Connecting to the source and starting the dubbing pipeline."""
    LIVE = "LIVE"
    """Dubbing the source into its target streams."""
    STOPPING = "STOPPING"
    """Asked to stop; winding down."""
    STOPPED = "STOPPED"
    """Stopped by its owner."""
    ENDED = "ENDED"
    """Reached its ``end_time``, or its source ended."""
    ERROR = "ERROR"
    """Failed."""
    TIMEOUT = "TIMEOUT"
    """Did not start in time."""

    def __str__(self) -> str:
        return self.value


TERMINAL_STREAM_STATES: frozenset[str] = frozenset(
    {
        LiveStreamState.STOPPED,
        LiveStreamState.ENDED,
        LiveStreamState.ERROR,
        LiveStreamState.TIMEOUT,
        # Words a server may use for those ends; kept as the server's strings.
        "FAILED",
        "CANCELLED",
        "CANCELED",
        "DELETED",
        "DESTROYED",
        "COMPLETED",
        "FINISHED",
    }
)
"""Statuses after which a stream never changes again (compared case-insensitively).
Anything else, including a status this SDK does not know, counts as still going."""

FAILED_STREAM_STATES: frozenset[str] = frozenset({LiveStreamState.ERROR, LiveStreamState.TIMEOUT, "FAILED"})
"""The terminal statuses that mean the stream failed."""

_STATES = {state.value: state for state in LiveStreamState}


def _state(value: object) -> object:
    """A known status (in any case) as its :class:`LiveStreamState`; anything else as sent."""
    if isinstance(value, str) and not isinstance(value, LiveStreamState):
        return _STATES.get(value.strip().upper(), value)
    return value


StreamStatus = Annotated[
    LiveStreamState | str | None, Field(union_mode="left_to_right"), BeforeValidator(_state)
]


class _Answer(BaseModel):
    model_config: ClassVar[ConfigDict] = ConfigDict(extra="allow", frozen=True)


class StreamLanguageUrl(_Answer):
    """Where the dubbed stream of some languages goes out."""

    languages: list[int | str] = Field(default_factory=list[int | str])
    url: str | None = None


class LiveStreamCreated(_Answer):
    """The answer to ``POST /stream``: the new stream's id, where each language goes out,
    and the id of the task that starts it."""

    stream_id: int
    stream_url_for_languages: list[StreamLanguageUrl] = Field(default_factory=list[StreamLanguageUrl])
    task_id: str | None = None


class LiveStream(_Answer):
    """A live stream as ``GET``, ``PATCH`` and ``DELETE /stream/{stream_id}`` answer it.

    ``status`` is a :class:`LiveStreamState` for the states this SDK knows
    (matched case-insensitively; also read from ``state`` or ``stream_status``),
    the server's own string for any other, and ``None`` when the answer names
    none. Every field may be missing; what the server sends beyond them is kept
    in ``model_extra``. An answer that is a bare string is taken as the status.
    """

    stream_id: Annotated[int | str | None, Field(union_mode="left_to_right")] = Field(
        default=None, validation_alias=AliasChoices("stream_id", "id")
    )
    status: StreamStatus = Field(
        default=None, validation_alias=AliasChoices("status", "state", "stream_status")
    )
    name: str | None = None
    description: str | None = None
    task_id: str | None = None
    stream_url_for_languages: list[StreamLanguageUrl] = Field(default_factory=list[StreamLanguageUrl])
    start_time: str | float | None = None
    end_time: str | float | None = None
    timezone: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_status(cls, data: object) -> object:
        return {"status": data} if isinstance(data, str) else data

    @property
    def is_terminal(self) -> bool:
        """Whether the stream has ended and will not change again."""
        return self.status is not None and str(self.status).upper() in TERMINAL_STREAM_STATES

    @property
    def is_live(self) -> bool:
        """Whether the stream is dubbing its source now."""
        return self.status == LiveStreamState.LIVE

    @property
    def is_failed(self) -> bool:
        """Whether the stream ended in failure (``ERROR``, ``TIMEOUT``, ``FAILED``)."""
        return self.status is not None and str(self.status).upper() in FAILED_STREAM_STATES


class ProbedVideoStream(_Answer):
    """A video stream found in a probed source."""

    index: int | None = None
    codec_name: str | None = None
    codec_long_name: str | None = None
    profile: str | None = None
    width: int | None = None
    height: int | None = None


class ProbedAudioStream(_Answer):
    """An audio stream found in a probed source (``index`` is what ``audio_stream=`` takes)."""

    index: int | None = None
    codec_name: str | None = None
    codec_long_name: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    channel_layout: str | None = None
    bit_rate: int | None = None


class ProbedDataStream(_Answer):
    """A data stream (subtitles, metadata) found in a probed source."""

    index: int | None = None
    codec_name: str | None = None


class StreamProbe(_Answer):
    """The answer to ``POST /stream/probe``: the streams a source carries."""

    video_streams: list[ProbedVideoStream] = Field(default_factory=list[ProbedVideoStream])
    audio_streams: list[ProbedAudioStream] = Field(default_factory=list[ProbedAudioStream])
    data_streams: list[ProbedDataStream] = Field(default_factory=list[ProbedDataStream])
