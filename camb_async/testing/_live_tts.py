"""Live TTS (``/apis/live-tts/ws``): text in, audio segment by segment out, deterministically.

After ``session.start`` the session answers ``session.ready``; text is
segmented at sentence ends (``.``, ``!``, ``?`` or a newline; a run of them
counts as one end), after ``idle_timeout`` seconds without new text, and at
``text.done``. Each segment is voiced as ``segment.start`` (its stripped
text), binary frames whose concatenation is the text's UTF-8 bytes (repeated
``LiveSettings.audio_multiplier`` times) and ``segment.done``. ``text.done``
flushes, then ``session.done`` and close 1000. Failures: ``session.error``,
then close 4401 (key) or 4400 (a bad first frame, voice ``<= 0``, an unknown
language or format, a binary or unknown frame).
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from typing import TYPE_CHECKING, NoReturn, cast

from .._languages import LOCALE_OF_ID
from ._live_channel import MAX_MESSAGE, Channel, frames_of

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["error_message", "serve"]

MODEL = "mars-8.1-flash-beta"
FORMATS = frozenset({"mp3", "wav", "flac", "aac"})
LANGUAGES = frozenset(LOCALE_OF_ID.values())
WORD_SECONDS = 0.3
"""Each word of a segment's ``word_timestamps`` lasts this long, back to back."""

_SENTENCE_END = re.compile(r"[.!?\n]+")
_RUN_IDS = itertools.count(7_000_001)

_BOOLS = ("enhance_named_entities_pronunciation", "enhance_reference_audio_quality", "maintain_source_accent")
_OPTIONAL_NUMBERS = ("speaking_rate",)
_OPTIONAL_INTS = ("sample_rate", "inference_steps")


async def serve(
    ch: Channel, query: Mapping[str, str], key: str | None, valid: Callable[[str | None], bool]
) -> None:
    """Run one live-TTS session on ``ch``."""
    del query
    if not valid(key):
        await _fail(ch, "Invalid or missing API key", 4401)
    first = await ch.receive(ch.settings.first_message_timeout)
    if first is None:
        await _fail(ch, "no session.start received in time", 4400)
    start = _event(ch, first)
    if start.get("type") != "session.start":
        await _fail(ch, "the first message must be session.start", 4400)
    config = _config(start)
    if isinstance(config, str):
        await _fail(ch, config, 4400)
    await ch.send_json(
        {"type": "session.ready", "session_id": uuid.uuid4().hex, "run_id": next(_RUN_IDS), "config": config}
    )
    voice = _Voice(ch, word_timestamps=bool(config["word_timestamps"]))
    idle = float(cast("float", config["idle_timeout"]))
    buffer = ""
    while True:
        message = await ch.receive(idle if buffer.strip() else None)
        if message is None:
            await voice.segment(buffer)
            buffer = ""
            continue
        event = _event(ch, message)
        kind = event.get("type")
        if kind == "text.chunk":
            text = event.get("text")
            if not isinstance(text, str):
                await _fail(ch, "text.chunk needs a string 'text'", 4400)
            sentences, buffer = _sentences(buffer + text)
            for sentence in sentences:
                await voice.segment(sentence)
        elif kind == "text.done":
            await voice.segment(buffer)
            await ch.send_json({"type": "session.done"})
            await ch.close(1000)
        else:
            await _fail(ch, f"unexpected message type {kind!r}", 4400)


class _Voice:
    """Voices segments in order, numbering them from 0."""

    def __init__(self, ch: Channel, *, word_timestamps: bool) -> None:
        self.ch = ch
        self.word_timestamps = word_timestamps
        self.next_id = 0

    async def segment(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        ch, segment_id = self.ch, self.next_id
        self.next_id += 1
        if ch.faults is not None and segment_id in ch.faults.skip_segments:
            await ch.send_json({"type": "segment.skipped", "segment_id": segment_id, "text": text})
            return
        start: dict[str, object] = {"type": "segment.start", "segment_id": segment_id, "text": text}
        if self.word_timestamps:
            start["word_timestamps"] = [
                {"word": word, "start": round(i * WORD_SECONDS, 3), "end": round((i + 1) * WORD_SECONDS, 3)}
                for i, word in enumerate(text.split())
            ]
        await ch.send_json(start)
        settings = ch.settings
        for frame in frames_of(text.encode(), settings.audio_multiplier, settings.frame_size):
            await ch.send_bytes(frame)
        await ch.send_json({"type": "segment.done", "segment_id": segment_id})


def _sentences(buffer: str) -> tuple[list[str], str]:
    """The complete sentences at the start of ``buffer``, and what follows them."""
    sentences: list[str] = []
    last = 0
    for end in _SENTENCE_END.finditer(buffer):
        sentences.append(buffer[last : end.end()])
        last = end.end()
    return sentences, buffer[last:]


def _event(ch: Channel, message: str | bytes) -> dict[str, object]:
    """A client message as a JSON object (noted in the record); anything else ends the session."""
    if isinstance(message, bytes):
        ch.note("binary")
        return {"type": "binary"}  # refused as an unexpected message type
    try:
        data: object = json.loads(message) if len(message.encode()) <= MAX_MESSAGE else None
    except ValueError:
        data = None
    event: dict[str, object] = (
        cast("dict[str, object]", data) if isinstance(data, dict) else {"type": "invalid"}
    )
    ch.note(str(event.get("type")))
    return event


def _config(start: Mapping[str, object]) -> dict[str, object] | str:
    """The resolved settings of a ``session.start``, or what is wrong with it."""
    voice_id = start.get("voice_id")
    if isinstance(voice_id, bool) or not isinstance(voice_id, int):
        return "voice_id must be an integer"
    if voice_id <= 0:
        return f"voice {voice_id} is not available to this key"
    language = start.get("language", "en-us")
    if not isinstance(language, str) or language.lower() not in LANGUAGES:
        return f"language {language!r} is not supported by {MODEL}"
    output_format = start.get("output_format", "mp3")
    if output_format not in FORMATS:
        return f"output_format must be one of {', '.join(sorted(FORMATS))}"
    idle = start.get("idle_timeout", 1.0)
    if isinstance(idle, bool) or not isinstance(idle, int | float) or not 0 < idle <= 60:
        return "idle_timeout must be a number of seconds in (0, 60]"
    config: dict[str, object] = {
        "voice_id": voice_id,
        "language": language,
        "output_format": output_format,
        "idle_timeout": float(idle),
        "model": MODEL,
    }
    for name in ("word_timestamps", *_BOOLS):
        value = start.get(name, False)
        if not isinstance(value, bool):
            return f"{name} must be a boolean"
        config[name] = value
    enhancement = start.get("apply_enhancement")
    if enhancement is not None and not isinstance(enhancement, bool):
        return "apply_enhancement must be a boolean or null"
    config["apply_enhancement"] = enhancement
    for name in (*_OPTIONAL_NUMBERS, *_OPTIONAL_INTS):
        value = start.get(name)
        kinds = (int, float) if name in _OPTIONAL_NUMBERS else (int,)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
            return f"{name} must be a number or null"
        config[name] = value
    return config


def error_message(message: str, code: str) -> dict[str, object]:
    """The protocol's fatal error message (live TTS has no error code: ``code`` is not sent)."""
    del code
    return {"type": "session.error", "error": message}


async def _fail(ch: Channel, error: str, close_code: int) -> NoReturn:
    await ch.send_json(error_message(error, "bad_request"))
    await ch.close(close_code)
