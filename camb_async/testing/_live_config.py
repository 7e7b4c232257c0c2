"""What a test can set for the simulator's live sessions: output settings, faults, and what it records.

:class:`LiveSettings` shapes deterministic output (audio volume, realtime audio
framing, server timestamps, idle windows); :class:`LiveFaults` makes sessions
misbehave; :class:`LiveRecord` is what the simulator remembers of each session.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from collections.abc import Set as AbstractSet

_Options = TypeVar("_Options", "LiveSettings", "LiveFaults")

__all__ = [
    "LIVE_PROTOCOLS",
    "LiveFaults",
    "LiveProtocol",
    "LiveRecord",
    "LiveSettings",
    "as_json",
    "from_json",
]

LiveProtocol = Literal["live_tts", "live_transcription", "realtime"]
"""The three WebSocket protocols, named as the client's attributes are."""

LIVE_PROTOCOLS: frozenset[LiveProtocol] = frozenset({"live_tts", "live_transcription", "realtime"})


def _seconds(name: str, value: object, *, positive: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'>' if positive else '>='} 0, got {value!r}")


def _count(name: str, value: object, *, least: int = 0, optional: bool = True) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{name} must be an int >= {least}{' or None' if optional else ''}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class LiveSettings:
    """How the simulator's live sessions answer (the output stays deterministic).

    Args:
        audio_multiplier: Each live-TTS segment's audio is its text's UTF-8 bytes
            repeated this many times (a volume test: 50 MB from a few words); also
            applies to realtime audio.
        realtime_audio: ``"binary"`` sends realtime audio as binary frames (as
            camb-sdk expects); ``"base64"`` as ``response.audio.delta`` JSON events
            with a base64 ``delta``.
        timestamps: Every server frame carries the time it was sent
            (``time.time()``): a JSON frame in a ``"sent_at"`` field, a binary
            frame as 8 leading bytes (a big-endian double, ``struct ">d"``) before
            its audio.
        frame_size: The largest binary frame, in bytes.
        listen_idle_close: Live transcription flushes and closes (1000) after this
            many seconds without a client message (audio or ``KeepAlive``).
        realtime_flush: Realtime treats this many seconds without new audio as the
            end of an utterance (words with no "." yet are translated).
        first_message_timeout: Live TTS and realtime wait this long for the
            client's first message (``session.start`` / ``session.update``).
        utterance_words: Live transcription and realtime end an utterance after this
            many words even without a ".", so that cumulative results stay small.
    """

    audio_multiplier: int = 1
    realtime_audio: Literal["binary", "base64"] = "binary"
    timestamps: bool = False
    frame_size: int = 65536
    listen_idle_close: float = 2.0
    realtime_flush: float = 0.5
    first_message_timeout: float = 10.0
    utterance_words: int = 32

    def __post_init__(self) -> None:
        for name in ("audio_multiplier", "frame_size", "utterance_words"):
            _count(name, getattr(self, name), least=1, optional=False)
        if self.realtime_audio not in ("binary", "base64"):
            raise ValueError(f"realtime_audio must be 'binary' or 'base64', got {self.realtime_audio!r}")
        for name in ("listen_idle_close", "realtime_flush", "first_message_timeout"):
            _seconds(name, getattr(self, name), positive=True)


@dataclasses.dataclass(frozen=True)
class LiveFaults:
    """Faults the simulator injects into live sessions (WebSockets) while in force.

    Frames are counted per session: every text or binary message the server
    sends after the upgrade (the close frame aside).

    Args:
        reject_key: Refuse every API key, as a wrong one is refused.
        refuse: Answer the upgrade with this HTTP status instead of switching
            protocols (401, 403, 503, or a 3xx redirect).
        location: The ``Location`` header of that answer (a redirect's target).
        drop_after: After this many server frames, cut the connection without a
            close frame.
        close_after: After this many server frames, close with ``close_code`` and
            ``close_reason``.
        close_code: The close code of ``close_after``.
        close_reason: The close reason of ``close_after``.
        close_error: Before that close, send the protocol's error message with this
            text (``session.error``, ``Error`` or ``error``; code ``"simulated_close"``),
            as a server does before a fatal close (say, out of credits: 4402).
        frame_delay: Wait this many seconds before each server frame (slow frames).
        skip_segments: Live-TTS segment ids (from 0) answered by
            ``segment.skipped`` instead of their audio.
        error_after: In realtime sessions, send a non-fatal ``error`` event
            (``error.code`` ``"simulated_error"``) right after this many server frames.
        protocols: The protocols these faults apply to; all three by default.
    """

    reject_key: bool = False
    refuse: int | None = None
    location: str | None = None
    drop_after: int | None = None
    close_after: int | None = None
    close_code: int = 1011
    close_reason: str = "simulated close"
    close_error: str | None = None
    frame_delay: float = 0.0
    skip_segments: AbstractSet[int] = frozenset()
    error_after: int | None = None
    protocols: AbstractSet[LiveProtocol] = LIVE_PROTOCOLS

    def __post_init__(self) -> None:
        object.__setattr__(self, "skip_segments", frozenset(self.skip_segments))
        object.__setattr__(self, "protocols", frozenset(self.protocols))
        unknown = sorted(set(self.protocols) - LIVE_PROTOCOLS)
        if unknown:
            raise ValueError(f"unknown protocols {unknown}; known: {', '.join(sorted(LIVE_PROTOCOLS))}")
        if self.refuse is not None and not 300 <= self.refuse < 600:
            raise ValueError(f"refuse must be an HTTP status from 300 to 599, got {self.refuse!r}")
        if not (1000 <= self.close_code < 5000) or self.close_code in (1005, 1006, 1015):
            raise ValueError(f"close_code must be a close code a server may send, got {self.close_code!r}")
        if len(self.close_reason.encode()) > 123:
            raise ValueError("close_reason must fit in 123 bytes of UTF-8")
        for name in ("drop_after", "close_after", "error_after"):
            _count(name, getattr(self, name))
        _seconds("frame_delay", self.frame_delay)

    def applies_to(self, protocol: LiveProtocol) -> bool:
        """Whether these faults apply to a session of ``protocol``."""
        return protocol in self.protocols


@dataclasses.dataclass
class LiveRecord:
    """What the simulator saw of one live session.

    ``key_source`` says where the accepted (or refused) key came from:
    ``"header"`` (``x-api-key``), ``"query"`` (``api_key=``), ``"message"``
    (realtime's ``auth.api_key``) or ``None`` (no key). ``query`` is the
    upgrade's query string as sent (a test can check that no key is in a URL).
    ``received`` lists the client's messages: the ``type`` of each JSON one,
    ``"binary"`` for a binary one. ``close_code`` is the server's close code,
    ``None`` while open or when the connection was dropped or the client left first.
    """

    protocol: LiveProtocol
    path: str
    query: str
    key_source: str | None = None
    frames_sent: int = 0
    received: list[str] = dataclasses.field(default_factory=list[str])
    close_code: int | None = None
    close_reason: str = ""
    ended: bool = False


def as_json(options: LiveSettings | LiveFaults) -> dict[str, object]:
    """Settings or faults as ``/_sim/live`` sends and takes them (sets as sorted lists)."""
    data: dict[str, Any] = dataclasses.asdict(options)
    return {k: sorted(cast("Iterable[Any]", v)) if isinstance(v, frozenset) else v for k, v in data.items()}


def from_json(kind: type[_Options], data: Mapping[str, Any]) -> _Options:
    """Settings or faults from their JSON form; an unknown key or a bad value raises ``ValueError``."""
    extra = set(data) - {f.name for f in dataclasses.fields(kind)}
    if extra:
        raise ValueError(f"unknown keys: {sorted(extra)}")
    try:
        return kind(**data)
    except TypeError as exc:
        raise ValueError(str(exc)) from None
