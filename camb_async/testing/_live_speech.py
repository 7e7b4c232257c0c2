"""Realtime speech-to-speech (``/v1/realtime``): audio in, "translation" out, deterministically.

The first ``session.update`` (within ``LiveSettings.first_message_timeout``)
carries the languages, and the key in ``auth.api_key`` when the upgrade had
none (a header or query key wins); it is answered by ``session.created`` and
``session.updated`` (after ``session.starting`` in ``"slow"`` mode); a later
one by ``session.updated`` (and ``session.source_language_changed`` when the
source changed). Appended audio is read as ASCII words (see ``_live_text``): one
``conversation.item.input_audio_transcription.delta`` per word (deltas add up
to the transcript); a ``.``, or ``LiveSettings.realtime_flush`` seconds
without audio, completes the utterance:
``conversation.item.input_audio_transcription.completed``, then the
translation, the transcript upper-cased: ``response.text.delta`` per word and
``response.text.done`` (output modality ``text``), and its UTF-8 bytes as audio
(repeated ``audio_multiplier`` times, frames of ``frame_size``) and
``response.audio.done`` (modality ``audio``; binary frames, or base64
``response.audio.delta`` JSON events with ``realtime_audio="base64"``). A
session without a target language (``"auto"`` source) only transcribes.

Errors are ``{"type": "error", "error": {"type", "code", "message", "param"}}``.
Non-fatal: an unknown client event (``unknown_event``), audio before
``session.created`` (``session_not_ready``). Fatal, then a close: a bad key
(``authentication_error``, 4401); a bad session config, invalid JSON, bad
base64, an append over 256 KiB decoded, a message over 1 MiB, or no
``session.update`` in time (``invalid_request_error``, 4400). Binary client
frames are ignored.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import uuid
from typing import TYPE_CHECKING, NoReturn, cast

import anyio

from ._live_channel import MAX_MESSAGE, Channel, frames_of
from ._live_text import Listener

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["error_message", "serve"]

LANGUAGES = frozenset(
    [
        "ar-ae",
        "ar-eg",
        "ar-sa",
        "de-de",
        "en-gb",
        "en-us",
        "es-es",
        "fr-ca",
        "fr-fr",
        "hi-in",
        "ja-jp",
        "ko-kr",
        "pt-br",
        "zh-cn",
    ]
)
MODES = {"fast": "fast", "slow": "slow", "iris": "fast", "lilac": "slow", "violet": "slow", "orchid": "slow"}
MODALITIES = frozenset({"text", "audio"})
MAX_APPEND = 256 * 1024

_ITEM_IDS = itertools.count(1)


class _Fatal(Exception):
    def __init__(self, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.param = code, message, param


async def serve(
    ch: Channel, query: Mapping[str, str], key: str | None, valid: Callable[[str | None], bool]
) -> None:
    """Run one realtime session on ``ch``."""
    if key is not None and not valid(key):
        await _auth_failed(ch)
    try:
        session = await _open(ch, query, key, valid)
        await _run(ch, session)
    except _Fatal as fatal:
        await _error(ch, "invalid_request_error", fatal.code, fatal.message, fatal.param)
        await ch.close(4400, fatal.message[:120])


async def _open(
    ch: Channel, query: Mapping[str, str], key: str | None, valid: Callable[[str | None], bool]
) -> dict[str, object]:
    """Wait for the first ``session.update``, authorise it, answer it; the session's settings."""
    with anyio.move_on_after(ch.settings.first_message_timeout):
        while True:
            event = _event(ch, await ch.receive())
            kind = event.get("type")
            if kind == "session.update":
                if key is None:
                    key = _message_key(event)
                    ch.record.key_source = None if key is None else "message"
                if not valid(key):
                    await _auth_failed(ch)
                session = _settings(query, {}, event.get("session"))
                session["id"] = f"sess_{uuid.uuid4().hex}"
                if session["mode"] == "slow":  # a cold boot, over at once here
                    await ch.send_json({"type": "session.starting"})
                await ch.send_json({"type": "session.created", "session": session})
                await ch.send_json({"type": "session.updated", "session": session})
                return session
            await _not_ready(ch, kind)
    raise _Fatal("session_update_timeout", "no session.update received in time")


async def _run(ch: Channel, session: dict[str, object]) -> None:
    listener = Listener(ch.settings.utterance_words)
    while True:
        message = await ch.receive(ch.settings.realtime_flush if listener.busy else None)
        if message is None:
            for heard in listener.flush():
                await _heard(ch, session, heard.words, final=heard.final)
            continue
        event = _event(ch, message)
        kind = event.get("type")
        if kind == "input_audio_buffer.append":
            for heard in listener.feed(_audio(event)):
                await _heard(ch, session, heard.words, final=heard.final)
        elif kind == "session.update":
            before = session["source_language"]
            session.update(_settings({}, session, event.get("session")))
            await ch.send_json({"type": "session.updated", "session": session})
            if session["source_language"] != before:
                change = {"language": session["source_language"], "previous_language": before}
                await ch.send_json({"type": "session.source_language_changed", **change})
        elif kind not in ("input_audio_buffer.ignore_for_language_detection", "binary"):
            await _error(ch, "invalid_request_error", "unknown_event", f"unknown event type {kind!r}", "type")


async def _heard(ch: Channel, session: Mapping[str, object], words: Sequence[str], *, final: bool) -> None:
    """Send what one step of the listener gives: a transcript delta, or a completed utterance."""
    if not final:
        delta = words[-1] if len(words) == 1 else f" {words[-1]}"
        await ch.send_json({"type": "conversation.item.input_audio_transcription.delta", "delta": delta})
        return
    transcript = " ".join(words)
    completed: dict[str, object] = {
        "type": "conversation.item.input_audio_transcription.completed",
        "transcript": transcript,
        "item_id": f"item_{next(_ITEM_IDS)}",
    }
    if session["source_language"] == "auto":
        completed |= {"language": "en-us", "passthrough": False}
    await ch.send_json(completed)
    if not session.get("target_language"):
        return
    translated = transcript.upper()
    modalities = cast("list[str]", session["output_modalities"])
    if "text" in modalities:
        for i, word in enumerate(translated.split(" ")):
            await ch.send_json({"type": "response.text.delta", "delta": word if i == 0 else f" {word}"})
        await ch.send_json({"type": "response.text.done", "text": translated})
    if "audio" in modalities:
        settings = ch.settings
        for frame in frames_of(translated.encode(), settings.audio_multiplier, settings.frame_size):
            if settings.realtime_audio == "binary":
                await ch.send_bytes(frame)
            else:
                await ch.send_json(
                    {"type": "response.audio.delta", "delta": base64.b64encode(frame).decode()}
                )
        await ch.send_json({"type": "response.audio.done"})


def _settings(query: Mapping[str, str], current: Mapping[str, object], given: object) -> dict[str, object]:
    """The session's settings after a ``session.update``'s ``session`` object (``_Fatal`` if bad)."""
    if not isinstance(given, dict):
        raise _Fatal("invalid_session", "session.update needs a 'session' object", "session")
    update = cast("dict[str, object]", given)
    chosen = update.get(
        "mode", update.get("model", current.get("mode", query.get("mode", query.get("model"))))
    )
    mode = MODES.get(str(chosen or "fast").lower())
    if mode is None:
        raise _Fatal("invalid_mode", f"unknown mode {chosen!r}", "session.mode")
    source = update.get("source_language", current.get("source_language"))
    target = update.get("target_language", current.get("target_language", ""))
    if not isinstance(source, str) or (source.lower() not in LANGUAGES and source != "auto"):
        raise _Fatal(
            "unsupported_language", f"unsupported source_language {source!r}", "session.source_language"
        )
    if not isinstance(target, str) or (target.lower() not in LANGUAGES and (target or source != "auto")):
        raise _Fatal(
            "unsupported_language", f"unsupported target_language {target!r}", "session.target_language"
        )
    modalities = update.get("output_modalities", current.get("output_modalities", ["text", "audio"]))
    if (
        not isinstance(modalities, list)
        or not modalities
        or not set(cast("list[object]", modalities)) <= MODALITIES
    ):
        raise _Fatal(
            "invalid_modalities",
            "output_modalities must be a subset of text, audio",
            "session.output_modalities",
        )
    settings: dict[str, object] = {
        "id": current.get("id", ""),
        "mode": mode,
        "source_language": source,
        "target_language": target,
        "output_modalities": list(cast("list[str]", modalities)),
    }
    voice = update.get("voice", current.get("voice"))
    if voice is not None:
        voice_id = cast("dict[str, object]", voice).get("voice_id") if isinstance(voice, dict) else None
        if isinstance(voice_id, bool) or not isinstance(voice_id, int) or voice_id <= 0:
            raise _Fatal(
                "invalid_voice", "voice must be {'type': 'cloned', 'voice_id': int > 0}", "session.voice"
            )
        settings["voice"] = voice
    return settings


def _event(ch: Channel, message: str | bytes) -> dict[str, object]:
    """A client message as a JSON object (noted); a binary one as ``{"type": "binary"}``."""
    if isinstance(message, bytes):
        ch.note("binary")
        return {"type": "binary"}
    if len(message.encode()) > MAX_MESSAGE:
        ch.note("too_large")
        raise _Fatal("message_too_large", "a message may hold at most 1 MiB")
    try:
        data: object = json.loads(message)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        ch.note("invalid")
        raise _Fatal("invalid_json", "a message must be a JSON object")
    event = cast("dict[str, object]", data)
    ch.note(str(event.get("type")))
    return event


def _audio(event: Mapping[str, object]) -> bytes:
    """The decoded audio of an append (``_Fatal`` if not base64 or over 256 KiB)."""
    encoded = event.get("audio")
    try:
        audio = base64.b64decode(encoded if isinstance(encoded, str) else "!", validate=True)
    except (ValueError, binascii.Error):
        raise _Fatal("invalid_audio", "audio must be base64", "audio") from None
    if len(audio) > MAX_APPEND:
        raise _Fatal("audio_too_large", "an append may hold at most 256 KiB of audio", "audio")
    return audio


def _message_key(event: Mapping[str, object]) -> str | None:
    auth = event.get("auth")
    key = cast("dict[str, object]", auth).get("api_key") if isinstance(auth, dict) else None
    return key if isinstance(key, str) and key else None


async def _not_ready(ch: Channel, kind: object) -> None:
    """The non-fatal answer to a message before ``session.created``."""
    if kind == "input_audio_buffer.append":
        await _error(
            ch, "invalid_request_error", "session_not_ready", "audio sent before session.created", None
        )
    elif kind != "binary":
        await _error(
            ch, "invalid_request_error", "unknown_event", f"expected session.update, got {kind!r}", "type"
        )


def error_message(
    message: str, code: str, kind: str = "server_error", param: str | None = None
) -> dict[str, object]:
    """An ``error`` event (``kind`` is its ``error.type``)."""
    return {"type": "error", "error": {"type": kind, "code": code, "message": message, "param": param}}


async def _error(ch: Channel, kind: str, code: str, message: str, param: str | None) -> None:
    await ch.send_json(error_message(message, code, kind, param))


async def _auth_failed(ch: Channel) -> NoReturn:
    await _error(ch, "authentication_error", "invalid_api_key", "Invalid or missing API key", None)
    await ch.close(4401, "invalid api key")
