"""Live-stream dubbing: ``client.live_streams``.

A live stream dubs a live source (RTMP, SRT, HLS) into target streams, one
per language or group of languages, until it is stopped or its ``end_time``
comes. It is not a task: it has no result to fetch, and ``LIVE`` is the state
it is meant to stay in. ``watch()`` follows its states on the poll machinery
every task watch uses (the client's schedule, deadline, outage ride-out and
``on_event`` hooks) and ends once the stream has ended.

The request shapes are camb-sdk 1.6.6's ``streaming`` area
(``CreateStreamRequestPayload``, ``ConfigStream``, ``SourceStream``,
``TargetStream``), checked here before any request is sent.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Literal, cast

from pydantic import Field, JsonValue, model_validator

from .._events import new_watch, observed, reported
from .._paths import run_id_segment
from .._polling import watch_status
from .._streams import LiveStream, LiveStreamCreated, StreamProbe
from .._types import NOT_GIVEN, NotGiven
from ._fields import Body, Id, LanguageId, Text, build, check_timeout, named

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Awaitable

    import httpx

    from .._types import Priority
    from ._base import FamilyContext

__all__ = [
    "LiveStreams",
    "SourceStream",
    "StreamConfig",
    "StreamMixing",
    "StreamPipeline",
    "TargetStream",
]

FAMILY = "live_streams"

ModelChoice = Literal["none", "best_model", "fast_model"] | str
"""A pipeline step's model: ``"none"`` skips the step; the API may add others."""
DemixingChoice = (
    Literal[
        "none", "pick_left_channel", "pick_right_channel", "pick_center_channel", "best_model", "fast_model"
    ]
    | str
)
"""How speech is separated from the rest of the source's audio."""
SegmentingChoice = Literal["none", "loudness", "best_model", "fast_model"] | str
"""How the source's speech is cut into segments."""

Gain = Annotated[float, Field(ge=0.0, le=1.0)]
Count = Annotated[int, Field(ge=0)]


class StreamPipeline(Body):
    """The model each step of the dubbing pipeline uses (camb-sdk's ``ConfigStreamPipeline``)."""

    demixing: DemixingChoice | None = None
    segmenting: SegmentingChoice | None = None
    transcribing: ModelChoice | None = None
    translating: ModelChoice | None = None
    revoicing: ModelChoice | None = None


class StreamMixing(Body):
    """How the dubbed voice is mixed with the source's audio (camb-sdk's ``OverdubConfig``):
    gains are proportions from 0.0 to 1.0, ``fade_time`` a cross-fade of 0 to 5 seconds."""

    original_audio_gain: Gain | None = None
    background_audio_gain: Gain | None = None
    fade_time: Annotated[float, Field(ge=0.0, le=5.0)] | None = None
    fallback_audio_gain: Gain | None = None


class StreamConfig(Body):
    """The configuration a stream's pipeline shares (camb-sdk's ``ConfigStream``)."""

    pipeline: StreamPipeline | None = None
    mixing: StreamMixing | None = None


class SourceStream(Body):
    """The live source to dub: its ``url`` (RTMP, SRT, HLS) and spoken ``language``
    (an int id or a locale; sent as the id). ``audio_stream`` and
    ``background_audio_stream`` pick audio streams by the index ``probe()`` reports;
    ``passphrase`` and ``streamid`` are SRT's."""

    language: LanguageId
    url: Text
    category: int | None = None
    passphrase: str | None = None
    streamid: str | None = None
    number_of_streams: Count | None = None
    audio_stream: Count | None = None
    background_audio_stream: Count | None = None
    latency: Count | None = None
    relay_input: bool | None = None


class TargetStream(Body):
    """Where the dubbed stream of some ``languages`` goes (``url``), and how it is encoded;
    ``type`` is the API's stream-type number (camb-sdk's ``StreamType``)."""

    languages: Annotated[list[LanguageId], Field(min_length=1)]
    url: Text
    type: int
    passphrase: str | None = None
    streamid: str | None = None
    pids: list[int | None] | None = None
    transcode_video: bool | None = None
    embed_subtitles: bool | None = None
    audio_codec: str | None = None
    audio_bitrate: str | None = None
    audio_channel_layout: str | None = None
    latency: Count | None = None
    constant_bitrate: bool | None = None
    relay_output: bool | None = None


def _check_times(start: datetime.datetime | None, end: datetime.datetime | None) -> None:
    if start is None or end is None:
        return
    if (start.tzinfo is None) != (end.tzinfo is None):
        raise ValueError("start_time and end_time must both name a time zone, or neither")
    if end <= start:
        raise ValueError("end_time must be after start_time")


class _CreateBody(Body):
    """``POST /stream`` (camb-sdk's ``CreateStreamRequestPayload``)."""

    name: str | None = None
    description: str | None = None
    initial_delay: Count | None = None
    timeout_in_mins: Annotated[int, Field(gt=0)] | None = None
    voices: list[Id]
    dictionaries: list[Id]
    config: StreamConfig
    source_stream: SourceStream
    target_streams: Annotated[list[TargetStream], Field(min_length=1)]
    start_time: datetime.datetime | None = None
    end_time: datetime.datetime | None = None
    timezone: Text | None = None

    @model_validator(mode="after")
    def _times(self) -> _CreateBody:
        _check_times(self.start_time, self.end_time)
        return self


class _UpdateBody(Body):
    """``PATCH /stream/{stream_id}``: at least one field."""

    start_time: datetime.datetime | None = None
    end_time: datetime.datetime | None = None
    payload: dict[str, JsonValue] | None = None
    target_languages: Annotated[list[LanguageId], Field(min_length=1)] | None = None
    timezone: Text | None = None

    @model_validator(mode="after")
    def _something(self) -> _UpdateBody:
        if not self.model_dump(exclude_none=True):
            raise ValueError("give at least one of start_time, end_time, payload, target_languages, timezone")
        _check_times(self.start_time, self.end_time)
        return self


class _ProbeBody(Body):
    """``POST /stream/probe``."""

    url: Text
    passphrase: str | None = None
    stream_id: str | None = None


def _parse_stream(response: httpx.Response) -> LiveStream:
    return LiveStream.model_validate_json(response.content)


def _parse_created(response: httpx.Response) -> LiveStreamCreated:
    return LiveStreamCreated.model_validate_json(response.content)


def _parse_probe(response: httpx.Response) -> StreamProbe:
    return StreamProbe.model_validate_json(response.content)


class LiveStreams:
    """Live-stream dubbing: create a stream, read and change it, stop it, follow it."""

    def __init__(self, context: FamilyContext) -> None:
        self._context = context
        self._requester = context.requester

    def __repr__(self) -> str:
        return f"<{type(self).__name__} family={FAMILY!r}>"

    @staticmethod
    def _path(stream_id: int) -> str:
        return f"/stream/{run_id_segment(stream_id, 'stream_id')}"

    async def create(
        self,
        *,
        source_stream: SourceStream | Mapping[str, object],
        target_streams: Sequence[TargetStream | Mapping[str, object]],
        voices: Sequence[int] = (),
        dictionaries: Sequence[int] = (),
        config: StreamConfig | Mapping[str, object] | None = None,
        name: str | None = None,
        description: str | None = None,
        initial_delay: int | None = None,
        timeout_in_mins: int | None = None,
        start_time: datetime.datetime | None = None,
        end_time: datetime.datetime | None = None,
        timezone: str | None = None,
    ) -> LiveStreamCreated:
        """Start dubbing a live source (``POST /stream``).

        Args:
            source_stream: The source: a :class:`SourceStream` or a dict of its fields.
            target_streams: One or more :class:`TargetStream` (or dicts): where each
                language's dubbed stream goes.
            voices: Voice ids to dub with (sent as ``[]`` when not given).
            dictionaries: Dictionary ids to translate with (sent as ``[]``).
            config: The pipeline's models and the mix (``{}``, the API's defaults, when not given).
            name, description: How the stream is listed.
            initial_delay: Seconds to wait before starting the stream.
            timeout_in_mins: How long the stream may take to start before it times out.
            start_time, end_time, timezone: A scheduled window (``end_time`` after
                ``start_time``); sent in ISO 8601.

        Returns:
            The new stream's id, the URL of each language's output, and the id of
            the task that starts it.

        Raises:
            TypeError, ValueError: A field is missing, of the wrong type or out of
                range (before any request).
            APIError: The request failed (never retried: a stream is not created twice).
        """
        call = "live_streams.create()"
        with named(call):
            targets, voice_ids, dictionary_ids = _items(target_streams), _items(voices), _items(dictionaries)
        body = build(
            _CreateBody,
            call,
            name=name,
            description=description,
            initial_delay=initial_delay,
            timeout_in_mins=timeout_in_mins,
            voices=voice_ids,
            dictionaries=dictionary_ids,
            config={} if config is None else _fields_of(config),
            source_stream=_fields_of(source_stream),
            target_streams=[_fields_of(target) for target in targets],
            start_time=start_time,
            end_time=end_time,
            timezone=timezone,
        )
        fields = body.model_dump(mode="json", exclude_none=True)
        return await self._requester.request("POST", "/stream", _parse_created, json=fields)

    async def get(self, stream_id: int) -> LiveStream:
        """A stream as it is now (``GET /stream/{stream_id}``).

        Raises:
            TypeError, ValueError: ``stream_id`` is not an int >= 0 (before any request).
            APIError: The request failed after every retry (``NotFoundError``: no such stream).
        """
        return await self._requester.request("GET", self._path(stream_id), _parse_stream)

    async def update(
        self,
        stream_id: int,
        *,
        start_time: datetime.datetime | None = None,
        end_time: datetime.datetime | None = None,
        target_languages: Sequence[int | str] | None = None,
        payload: Mapping[str, JsonValue] | None = None,
        timezone: str | None = None,
    ) -> LiveStream:
        """Change a stream (``PATCH /stream/{stream_id}``): its window, its target
        languages, or other settings the API takes as ``payload``. An ``end_time``
        already past stops the stream. Give at least one.

        Raises:
            TypeError, ValueError: Nothing to change, or a bad value (before any request).
            APIError: The request failed after every retry.
        """
        path = self._path(stream_id)
        call = "live_streams.update()"
        with named(call):
            languages = None if target_languages is None else _items(target_languages)
        body = build(
            _UpdateBody,
            call,
            start_time=start_time,
            end_time=end_time,
            payload=None if payload is None else dict(payload),
            target_languages=languages,
            timezone=timezone,
        )
        fields = body.model_dump(mode="json", exclude_none=True)
        return await self._requester.request("PATCH", path, _parse_stream, json=fields, idempotent=True)

    async def delete(self, stream_id: int) -> LiveStream:
        """Stop a stream and tear it down (``DELETE /stream/{stream_id}``).

        Raises:
            TypeError, ValueError: ``stream_id`` is not an int >= 0 (before any request).
            APIError: The request failed after every retry.
        """
        return await self._requester.request("DELETE", self._path(stream_id), _parse_stream)

    async def probe(
        self, url: str, *, passphrase: str | None = None, stream_id: str | None = None
    ) -> StreamProbe:
        """The video, audio and data streams a source carries (``POST /stream/probe``),
        to choose ``SourceStream.audio_stream`` before creating a stream.
        ``passphrase`` and ``stream_id`` are an SRT source's.

        Raises:
            TypeError, ValueError: A bad argument (before any request).
            APIError: The request failed after every retry.
        """
        body = build(_ProbeBody, "live_streams.probe()", url=url, passphrase=passphrase, stream_id=stream_id)
        fields = body.model_dump(mode="json", exclude_none=True)
        return await self._requester.request(
            "POST", "/stream/probe", _parse_probe, json=fields, idempotent=True
        )

    def watch(
        self,
        stream_id: int,
        *,
        interval: float | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> AsyncGenerator[LiveStream, None]:
        """Follow a stream: yield it as first seen, then each time its status changes,
        ending right after a terminal status (``STOPPED``, ``ENDED``, ``ERROR``,
        ``TIMEOUT``; see :class:`LiveStreamState`). A stream that is ``LIVE`` is
        followed for as long as it stays live.

        Args:
            stream_id: The id ``create()`` returned.
            interval: Poll every this many seconds at first, as for a task watch
                (``PollSchedule.with_interval``); the client's ``poll_schedule`` otherwise.
            timeout: Overall deadline in seconds. Unlike a task watch, ``None`` (no
                deadline) by default: a stream may run for hours.

        Raises:
            WatchTimeoutError: ``timeout`` passed before the stream ended.
            APIError: A poll failed with an error that cannot heal (a 404, a 401); an
                outage is ridden out as a task watch rides it out (``max_outage``).
            TypeError, ValueError: A bad argument (before any request).

        Breaking out of the loop, cancelling, or ``aclose()`` stops polling at once.
        """
        path = self._path(stream_id)
        limit = None if isinstance(timeout, NotGiven) else check_timeout(timeout, "timeout")
        context = self._context
        schedule = context.schedule if interval is None else context.schedule.with_interval(interval)
        ref = new_watch(str(int(stream_id)), FAMILY)

        def fetch(priority: Priority, deadline_in: float) -> Awaitable[LiveStream]:
            return self._requester.request(
                "GET",
                path,
                _parse_stream,
                breaker_wait=context.max_outage,
                watch=ref,
                priority=priority,
                deadline_in=deadline_in,
            )

        streams = watch_status(
            fetch,
            task_id=ref.task_id,
            schedule=schedule,
            timeout=limit,
            max_outage=context.max_outage,
            outage=self._requester.outage,
        )
        emit = self._requester.emit
        return reported(streams, emit, ref) if observed(emit) else streams


def _items(values: object) -> list[object]:
    """A caller's sequence as a list; a lone string or mapping is refused (a common slip)."""
    kind = type(values).__name__
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence):
        raise TypeError(f"expected a list, got {kind}")
    return list(cast("Sequence[object]", values))


def _fields_of(value: object) -> object:
    """A model as it is, or a caller's mapping as a plain dict for the body model to check."""
    return dict(cast("Mapping[str, object]", value)) if isinstance(value, Mapping) else value
