"""Live streams in the simulator: ``POST /stream``, ``GET``/``PATCH``/``DELETE /stream/{stream_id}``
and ``POST /stream/probe``.

A stream runs through ``CREATED``, ``STARTING`` and ``LIVE`` over time (the
simulator's task durations: ``STARTING`` after the shorter, ``LIVE`` after the
longer, both after ``initial_delay``; ``SCHEDULED`` first when ``start_time``
is ahead), stays ``LIVE`` until it is stopped (``DELETE``, or ``PATCH`` with an
``end_time`` already past: ``STOPPED``) or its ``end_time`` comes (``ENDED``).
A source URL holding ``unreachable`` makes the stream end in ``ERROR`` where
it would have gone live, and makes a probe of it fail with a 400.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import threading
import uuid
from typing import TYPE_CHECKING

from ._http import Answer, Handler, Request, as_dict, as_list, integer, invalid, not_found, require
from ._timeline import status_at

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["Streams"]

_TERMINAL = frozenset({"STOPPED", "ENDED", "ERROR", "TIMEOUT"})
_REQUIRED = ("voices", "dictionaries", "config", "source_stream", "target_streams")
_PROBED: dict[str, object] = {
    "video_streams": [
        {"index": 0, "codec_name": "h264", "codec_long_name": "H.264 / AVC", "width": 1280, "height": 720}
    ],
    "audio_streams": [
        {"index": 1, "codec_name": "aac", "codec_long_name": "AAC", "sample_fmt": "fltp",
         "sample_rate": 48000, "channels": 2, "channel_layout": "stereo"},
        {"index": 2, "codec_name": "aac", "codec_long_name": "AAC", "sample_fmt": "fltp",
         "sample_rate": 48000, "channels": 1, "channel_layout": "mono"},
    ],
    "data_streams": [],
}  # fmt: skip


@dataclasses.dataclass
class _Stream:
    """One stream: what created it, and its states as ``(status, seconds after creation)``."""

    stream_id: int
    task_id: str
    fields: dict[str, object]
    created_at: float
    timeline: list[tuple[str, float]]

    def status_at(self, elapsed: float) -> str:
        return status_at(self.timeline, elapsed)

    def end(self, status: str, at: float) -> None:
        """End the stream with ``status`` at ``at`` (seconds after creation), unless it ended before."""
        if self.status_at(at) in _TERMINAL:
            return
        self.timeline = [(s, t) for s, t in self.timeline if t < at] + [(status, at)]

    def as_json(self, elapsed: float) -> dict[str, object]:
        fields = self.fields
        targets = [as_dict(target) or {} for target in as_list(fields.get("target_streams")) or []]
        return {
            "stream_id": self.stream_id,
            "status": self.status_at(elapsed),
            "task_id": self.task_id,
            "name": fields.get("name"),
            "description": fields.get("description"),
            "source_stream": fields.get("source_stream"),
            "target_streams": targets,
            "stream_url_for_languages": [
                {"languages": target.get("languages", []), "url": target.get("url")} for target in targets
            ],
            "start_time": fields.get("start_time"),
            "end_time": fields.get("end_time"),
            "timezone": fields.get("timezone"),
            "payload": fields.get("payload", {}),
        }


def _seconds_until(moment: object) -> float | None:
    """Seconds from now until an ISO 8601 ``moment`` (UTC when it names no zone), or ``None``."""
    if not isinstance(moment, str):
        return None
    if moment.endswith(("Z", "z")):  # JSON's UTC mark, which fromisoformat reads from Python 3.11 only
        moment = moment[:-1] + "+00:00"
    try:
        when = datetime.datetime.fromisoformat(moment)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds()


class Streams:
    """The simulator's live streams; ``durations`` gives the ``(shorter, longer)`` start-up times."""

    def __init__(self, clock: Callable[[], float], durations: Callable[[], tuple[float, float]]) -> None:
        self.clock = clock
        self.durations = durations
        self.lock = threading.Lock()
        self.streams: dict[int, _Stream] = {}
        self.ids = itertools.count(1)

    def routes(self) -> list[tuple[str, str, Handler]]:
        """``(method, path template, handler)`` of each stream endpoint."""
        return [
            ("POST", "stream", self.create),
            ("POST", "stream/probe", self.probe),
            ("GET", "stream/{stream_id}", self.get),
            ("PATCH", "stream/{stream_id}", self.update),
            ("DELETE", "stream/{stream_id}", self.delete),
        ]

    def create(self, request: Request, _: Mapping[str, str]) -> Answer:
        fields = require(request.json, _REQUIRED)
        if isinstance(fields, Answer):
            return fields
        problem = _check_create(fields)
        if problem is not None:
            return problem
        source = as_dict(fields["source_stream"]) or {}
        shorter, longer = self.durations()
        start = max(_seconds_until(fields.get("start_time")) or 0.0, 0.0)
        delay = float(integer(fields.get("initial_delay")) or 0)
        timeline = [("SCHEDULED", 0.0)] if start > 0 else []
        timeline += [("CREATED", start), ("STARTING", start + delay + shorter)]
        failed = "unreachable" in str(source.get("url", ""))
        timeline.append(("ERROR" if failed else "LIVE", start + delay + max(shorter, longer)))
        with self.lock:
            stream = _Stream(next(self.ids), uuid.uuid4().hex, fields, self.clock(), timeline)
            self.streams[stream.stream_id] = stream
        end = _seconds_until(fields.get("end_time"))
        if end is not None:
            stream.end("ENDED", max(end, 0.0))
        body = stream.as_json(0.0)
        return Answer(200, {key: body[key] for key in ("stream_id", "stream_url_for_languages", "task_id")})

    def get(self, request: Request, params: Mapping[str, str]) -> Answer:
        found = self._find(params)
        if isinstance(found, Answer):
            return found
        return Answer(200, found.as_json(self.clock() - found.created_at))

    def update(self, request: Request, params: Mapping[str, str]) -> Answer:
        found = self._find(params)
        if isinstance(found, Answer):
            return found
        fields = request.json
        known = ("start_time", "end_time", "payload", "target_languages", "timezone")
        if fields is None or not any(name in fields for name in known):
            return invalid((("body",), "Give at least one field to change", "value_error"))
        with self.lock:
            elapsed = self.clock() - found.created_at
            for name in ("start_time", "end_time", "timezone"):
                if name in fields:
                    found.fields[name] = fields[name]
            if isinstance(fields.get("payload"), dict):
                found.fields["payload"] = {
                    **(as_dict(found.fields.get("payload")) or {}),
                    **(as_dict(fields["payload"]) or {}),
                }
            languages = as_list(fields.get("target_languages"))
            if languages is not None:
                targets = as_list(found.fields.get("target_streams")) or []
                found.fields["target_streams"] = [
                    {**(as_dict(target) or {}), "languages": languages} for target in targets
                ]
            end = _seconds_until(fields.get("end_time"))
            if end is not None:
                found.end("STOPPED" if end <= 0 else "ENDED", elapsed + max(end, 0.0))
            return Answer(200, found.as_json(elapsed))

    def delete(self, request: Request, params: Mapping[str, str]) -> Answer:
        found = self._find(params)
        if isinstance(found, Answer):
            return found
        with self.lock:
            elapsed = self.clock() - found.created_at
            found.end("STOPPED", elapsed)
            return Answer(200, found.as_json(elapsed))

    def probe(self, request: Request, _: Mapping[str, str]) -> Answer:
        fields = require(request.json, ("url",))
        if isinstance(fields, Answer):
            return fields
        if "unreachable" in str(fields["url"]):
            return Answer(400, {"detail": "Could not open the stream"})
        return Answer(200, _PROBED)

    def _find(self, params: Mapping[str, str]) -> _Stream | Answer:
        stream_id = integer(params["stream_id"])
        stream = None if stream_id is None else self.streams.get(stream_id)
        if stream is None:
            return not_found(f"stream {params['stream_id']} not found")
        return stream


def _check_create(fields: Mapping[str, object]) -> Answer | None:
    """The 422 answer for a create whose source or targets lack what a stream needs."""
    source = as_dict(fields["source_stream"])
    if source is None or "language" not in source or "url" not in source:
        return invalid((("body", "source_stream"), "language and url are required", "missing"))
    targets = as_list(fields["target_streams"])
    if not targets:
        return invalid((("body", "target_streams"), "At least one target stream is required", "too_short"))
    for n, target in enumerate(targets):
        item = as_dict(target)
        if item is None or any(name not in item for name in ("languages", "url", "type")):
            return invalid((("body", "target_streams", n), "languages, url and type are required", "missing"))
    return None
