"""The simulator's live sessions: CAMB.AI's three WebSocket protocols, deterministic, with faults.

Endpoints, on the simulator's own host and port (``ws://127.0.0.1:PORT``):

* ``/apis/live-tts/ws``: live TTS (``_live_tts``), so a client with
  ``base_url=sim.url`` reaches it under its ``/apis`` path.
* ``/apis/transcription/listen`` and ``/streaming-transcription/listen`` (camb-sdk's
  path): live transcription (``_live_listen``).
* ``/v1/realtime``: realtime speech-to-speech (``_live_speech``); its base URL is
  :attr:`Simulator.realtime_url` (``http://127.0.0.1:PORT``).

Any other WebSocket path is refused with a 404 before the upgrade.

Auth: the key is the ``x-api-key`` header, else the ``api_key`` query
parameter, else (realtime only) ``auth.api_key`` in the first
``session.update``; the first of these present is the one checked. A key is
valid when it is non-empty and, if ``Simulator(api_key=...)`` names one, equal
to it. A refused key gets ``session.error`` + close 4401 (live TTS), ``Error``
+ 4401 (transcription), ``error`` of type ``authentication_error`` + 4401
(realtime).

Deterministic output (each protocol module's docstring has the details):

* live TTS: a segment per sentence (``.``, ``!``, ``?``, newline), per
  ``idle_timeout`` of silence, and at ``text.done``; its audio is the UTF-8 of
  the segment's stripped text in binary frames of at most 65536 bytes, between
  ``segment.start`` and ``segment.done``; then ``session.done`` and close 1000.
* live transcription: audio bytes read as ASCII words; an interim ``Results``
  per word (cumulative), a final ``Results`` + ``UtteranceEnd`` at each ``.``
  (or an utterance's 32nd word), at ``CloseStream`` and after 2 s without a
  client message, which then close 1000.
* realtime: ``session.created`` + ``session.updated`` (``session.starting``
  first in slow mode); source transcript deltas per word and ``...completed``
  at a ``.`` (or the 32nd word) or 0.5 s without audio; the
  translation is the transcript upper-cased: ``response.text.delta`` per word,
  ``response.text.done``, the upper-cased bytes as binary audio frames,
  ``response.audio.done``. The session never ends on its own.

Settings (:class:`LiveSettings`, :meth:`Simulator.set_live_settings`): the
audio multiplier (volume), realtime audio as base64 JSON, server timestamps on
every frame (``"sent_at"`` in JSON, 8 leading bytes ``struct ">d"`` on
binary frames), frame size, idle windows, words per utterance.

Faults (:class:`LiveFaults`, :meth:`Simulator.set_live_faults`): refuse every
key; refuse the upgrade with an HTTP status (and a ``Location``); cut the
connection without a close frame after N server frames; close with a code and
reason after N frames (after the protocol's error message, if asked); delay
every frame; skip live-TTS segments (``segment.skipped``); inject a non-fatal
realtime ``error`` after N frames. They apply to every new session of the protocols they name while in force.

The sessions run on anyio, so ``sim.app`` also serves them in process (httpx-ws's
``ASGIWebSocketTransport``) on asyncio or trio; where the ASGI server cannot answer an upgrade
with an HTTP status, ``refuse`` closes with 1008 before the upgrade.

From another process, ``/_sim/live`` does the same over HTTP: ``GET`` returns
the settings and faults in force and the number of sessions so far; ``POST``
``{"settings": {...}, "faults": {...}}`` puts either in force (``null``: the
defaults, no faults); ``DELETE`` restores both.

Each session is recorded (:class:`LiveRecord`, :attr:`Simulator.live_sessions`)
and its upgrade is counted and logged as a ``GET`` request. The HTTP fault
plan and the rate limit do not apply to WebSockets.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from . import _live_listen, _live_speech, _live_tts
from ._http import Answer
from ._live_channel import Channel, SessionOver
from ._live_config import LiveFaults, LiveProtocol, LiveRecord, LiveSettings, as_json, from_json

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from ._http import Receive, Scope, Send

    Serve = Callable[[Channel, Mapping[str, str], str | None, Callable[[str | None], bool]], Awaitable[None]]
    ErrorMessage = Callable[[str, str], Mapping[str, object]]

__all__ = ["ENDPOINTS", "LiveHub"]

ENDPOINTS: dict[str, LiveProtocol] = {
    "/apis/live-tts/ws": "live_tts",
    "/apis/transcription/listen": "live_transcription",
    "/streaming-transcription/listen": "live_transcription",
    "/v1/realtime": "realtime",
}

_SERVE: dict[LiveProtocol, tuple[Serve, ErrorMessage]] = {
    "live_tts": (_live_tts.serve, _live_tts.error_message),
    "live_transcription": (_live_listen.serve, _live_listen.error_message),
    "realtime": (_live_speech.serve, _live_speech.error_message),
}


class LiveHub:
    """The live sessions' settings, faults and records, shared by the server and the caller's thread."""

    def __init__(self, api_key: str | None) -> None:
        self.api_key = api_key
        self.lock = threading.Lock()
        self.settings = LiveSettings()
        self.faults: LiveFaults | None = None
        self.records: list[LiveRecord] = []

    def snapshot(self) -> list[LiveRecord]:
        with self.lock:
            return [dataclasses.replace(r, received=list(r.received)) for r in self.records]

    def control(self, method: str, body: bytes) -> Answer:
        """``/_sim/live``: read (GET), set (POST) or reset (DELETE) the settings and faults."""
        if method == "POST":
            try:
                data = json.loads(body or b"{}")
                settings = data.get("settings", as_json(self.settings))
                faults = data.get("faults", None if self.faults is None else as_json(self.faults))
                new_settings = from_json(LiveSettings, settings or {})
                new_faults = None if faults is None else from_json(LiveFaults, faults)
            except (ValueError, TypeError, AttributeError) as exc:
                return Answer(400, {"detail": f"bad live settings or faults: {exc}"})
            with self.lock:
                self.settings, self.faults = new_settings, new_faults
        elif method == "DELETE":
            with self.lock:
                self.settings, self.faults = LiveSettings(), None
        elif method != "GET":
            return Answer(405, {"detail": "use GET, POST or DELETE"})
        with self.lock:
            faults = None if self.faults is None else as_json(self.faults)
            return Answer(
                200, {"settings": as_json(self.settings), "faults": faults, "sessions": len(self.records)}
            )

    def accepts(self, key: str | None, faults: LiveFaults | None) -> bool:
        """Whether ``key`` opens a session under ``faults`` (those in force for its protocol)."""
        if faults is not None and faults.reject_key:
            return False
        return bool(key) and (self.api_key is None or key == self.api_key)

    async def serve(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        """Run one WebSocket session (``path`` is the raw path, without its query)."""
        query_string = bytes(scope.get("query_string") or b"").decode("latin-1")
        protocol = ENDPOINTS.get(path)
        if protocol is None:
            await _refuse(scope, send, 404, None)
            return
        record = LiveRecord(protocol, path, query_string)
        with self.lock:
            self.records.append(record)
            settings, faults = self.settings, self.faults
        faults = faults if faults is not None and faults.applies_to(protocol) else None
        if faults is not None and faults.refuse is not None:
            await _refuse(scope, send, faults.refuse, faults.location)
            record.ended = True
            return
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        key = headers.get("x-api-key")
        record.key_source = "header" if key is not None else "query" if "api_key" in query else None
        if key is None:
            key = query.get("api_key")
        serve, error_message = _SERVE[protocol]
        channel = Channel(
            protocol,
            receive,
            send,
            settings=settings,
            faults=faults,
            record=record,
            error_message=error_message,
        )
        try:
            await channel.accept()
            await serve(channel, query, key, functools.partial(self.accepts, faults=faults))
        except (SessionOver, OSError):  # ended by the server, or the client left (OSError)
            pass
        finally:
            record.ended = True


async def _refuse(scope: Scope, send: Send, status: int, location: str | None) -> None:
    """Answer the upgrade with an HTTP status (a plain 403 where the server cannot send another)."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    headers = [(b"content-type", b"application/json")]
    if location is not None:
        headers.append((b"location", location.encode("latin-1")))
    await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": b'{"detail": "upgrade refused"}'})
