"""Live transcription (``/apis/transcription/listen``, ``/streaming-transcription/listen``).

The session sends ``Ready``, then reads the audio's bytes as ASCII words
(see ``_live_text``): each word completed sends an interim ``Results``
carrying the utterance so far (cumulative); a ``.`` ends the utterance with a
final ``Results`` and an ``UtteranceEnd``. ``CloseStream``, or
``LiveSettings.listen_idle_close`` seconds without a client message (audio or
``KeepAlive``), flushes what is pending as a final and closes 1000. Word ``n``
of the session (from 0) spans ``[n * 0.5, n * 0.5 + 0.4]`` seconds, confidence
0.99. Failures: an ``Error`` message, then close 4401 (key) or 4400 (a bad
query parameter, a message over 1 MiB, a text message that is not
``KeepAlive`` or ``CloseStream``).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, NoReturn, cast

from ._live_channel import MAX_MESSAGE, Channel
from ._live_text import Listener

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["error_message", "serve"]

ENCODINGS = frozenset({"linear16", "linear32", "alaw", "mulaw"})
WORD_SECONDS = 0.5
WORD_LENGTH = 0.4
CONFIDENCE = 0.99


async def serve(
    ch: Channel, query: Mapping[str, str], key: str | None, valid: Callable[[str | None], bool]
) -> None:
    """Run one live-transcription session on ``ch``."""
    if not valid(key):
        await _fail(ch, "unauthorized", "Invalid or missing API key", 4401)
    problem = _check(query)
    if problem is not None:
        await _fail(ch, "bad_request", problem, 4400)
    results = _Results(ch, query.get("model", "boli-v5"))
    await ch.send_json({"type": "Ready", "request_id": results.request_id})
    listener = Listener(ch.settings.utterance_words)
    while True:
        message = await ch.receive(ch.settings.listen_idle_close)
        if message is None:
            break
        if isinstance(message, bytes):
            ch.note("binary")
            if len(message) > MAX_MESSAGE:
                await _fail(ch, "message_too_large", "a message may hold at most 1 MiB", 4400)
            for heard in listener.feed(message):
                await results.send(heard.words, final=heard.final)
            continue
        kind = _kind(message)
        ch.note(kind)
        if kind == "CloseStream":
            break
        if kind != "KeepAlive":
            await _fail(ch, "bad_request", f"unexpected message {kind!r}", 4400)
    for heard in listener.flush():
        await results.send(heard.words, final=heard.final)
    await ch.close(1000)


class _Results:
    """Builds the ``Results`` and ``UtteranceEnd`` messages, numbering words across the session."""

    def __init__(self, ch: Channel, model: str) -> None:
        self.ch = ch
        self.model = model
        self.request_id = str(uuid.uuid4())
        self.first_word = 0  # session index of the current utterance's first word

    async def send(self, words: Sequence[str], *, final: bool) -> None:
        timed = [
            {
                "word": word,
                "start": round((self.first_word + i) * WORD_SECONDS, 3),
                "end": round((self.first_word + i) * WORD_SECONDS + WORD_LENGTH, 3),
                "confidence": CONFIDENCE,
            }
            for i, word in enumerate(words)
        ]
        start, end = cast("float", timed[0]["start"]), cast("float", timed[-1]["end"])
        await self.ch.send_json(
            {
                "type": "Results",
                "is_final": final,
                "speech_final": final,
                "start": start,
                "duration": round(end - start, 3),
                "channel_index": [0, 1],
                "channel": {
                    "alternatives": [
                        {"transcript": " ".join(words), "confidence": CONFIDENCE, "words": timed}
                    ]
                },
                "metadata": {
                    "request_id": self.request_id,
                    "model_uuid": f"simulated-{self.model}",
                    "model_info": {"name": self.model, "version": "simulated"},
                },
            }
        )
        if final:
            await self.ch.send_json({"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": end})
            self.first_word += len(words)


def _check(query: Mapping[str, str]) -> str | None:
    """What is wrong with the upgrade's query parameters, if anything."""
    encoding = query.get("encoding", "linear16")
    if encoding not in ENCODINGS:
        return f"encoding must be one of {', '.join(sorted(ENCODINGS))}"
    for name in ("sample_rate", "channels"):
        value = query.get(name, "1")
        if not value.isdigit() or int(value) < 1:
            return f"{name} must be a positive integer"
    if not query.get("language", "en-us") or not query.get("model", "boli-v5"):
        return "language and model must not be empty"
    return None


def _kind(message: str) -> str:
    """The ``type`` of a JSON text message (``"invalid"`` for anything else)."""
    try:
        data: object = json.loads(message) if len(message.encode()) <= MAX_MESSAGE else None
    except ValueError:
        data = None
    kind = cast("dict[str, object]", data).get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else "invalid"


def error_message(message: str, code: str) -> dict[str, object]:
    """The protocol's error message, which a close follows."""
    return {"type": "Error", "code": code, "message": message}


async def _fail(ch: Channel, code: str, message: str, close_code: int) -> NoReturn:
    await ch.send_json(error_message(message, code))
    await ch.close(close_code)
