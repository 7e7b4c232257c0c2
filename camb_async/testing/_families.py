"""The API's task families as data, one row each, and the results they serve.

A row names the family's URL segments, the create's required fields, and the
function that shapes a finished run's result. Results are derived only from
what the create sent (``TaskRecord.request``) and the run id, so a test can
predict them. File URLs are on ``localhost`` (see ``_files``); transcripts
are two segments, ``"Hello from the simulator."`` and ``"This is run {run_id}."``,
each prefixed with ``"[{language}] "`` where a language applies:

* tts, translated_tts, text_to_sound: the audio (``output_type=file_url``:
  ``{"output_url"}``); a task seeded with ``redirect_result`` answers 302.
* dubbing, dubbing_alt_format: ``{"audio_url", "video_url", "transcript"}``,
  or a dict language -> that for two or more ``target_languages``.
* translation: ``{"texts": ["[{target_language}] {text}", ...]}``.
* transcription: ``{"transcript": segments | text | file URL}``.
* text_to_voice: ``{"previews": [3 URLs]}``; audio_separation:
  ``{"foreground_audio_url", "background_audio_url"}``.
* subtitles: ``{"run_id", "language", "subtitles": SRT text | file URL}``.
* story, translated_story: ``{"run_id", "title", "description",
  "source_language", "audio_url", "transcript"?}`` (translated: also
  ``"story_run_id"``, ``"target_language"``).
* project_setup: ``{"run_id", "project_details": {...}}``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from ._files import audio_body
from ._http import Answer, as_dict, as_list, invalid, not_found
from ._languages import language_id

if TYPE_CHECKING:
    from ._store import TaskRecord

__all__ = [
    "BY_NAME",
    "FAMILIES",
    "SERVES",
    "Family",
    "Result",
    "export",
    "segments",
    "story_details",
    "text_answer",
]

_CREATED_AT = "2025-01-01T00:00:00Z"
_AUDIO_FORMATS = frozenset({"flac", "wav", "mp3", "aac", "m4a"})
_TEXT_FORMATS = ("srt", "vtt", "txt")


@dataclasses.dataclass(frozen=True)
class Result:
    """What a result is shaped from: the run's task, the query, path segments after the run id."""

    record: TaskRecord
    query: Mapping[str, str]
    extra: Sequence[str]
    files: str
    runs: Mapping[int, TaskRecord]

    @property
    def run_id(self) -> int:
        assert self.record.run_id is not None
        return self.record.run_id

    def file(self, what: str = "", ext: str = "wav") -> str:
        """The URL of one of the run's files on ``/_sim/files``."""
        suffix = f"-{re.sub(r'[^A-Za-z0-9_.-]', '_', what)}" if what else ""
        return f"{self.files}/run-{self.run_id}{suffix}.{ext}"


Shape = Callable[[Result], Answer]


@dataclasses.dataclass(frozen=True)
class Family:
    """One task family of the API.

    ``required`` names the create's required fields (a tuple: any one of them).
    ``params`` names the create path's segments after ``segment`` (the create is
    then ``POST {segment}/{params...}``). ``result_params`` says how many path
    segments may follow the run id on the result endpoint. ``listed``: the
    status on SUCCESS and the batch results are lists (project setup).
    ``batch_ids``: the fewest and most distinct run ids one batch request takes,
    where the API documents them (tts, translation, subtitles: 2 to 5).
    """

    name: str
    segment: str
    required: tuple[str | tuple[str, ...], ...]
    shape: Shape
    result: str
    batch: str | None = None
    multipart: bool = False
    params: tuple[str, ...] = ()
    parent: str | None = None
    result_params: tuple[int, ...] = (0,)
    batch_query: tuple[tuple[str, str], ...] = ()
    batch_ids: tuple[int, int] | None = None
    listed: bool = False
    created_message: str | None = None


def segments(run_id: int, prefix: str = "") -> list[dict[str, object]]:
    """A run's transcript: two segments, ``prefix`` before each text."""
    return [
        {"start": 0.0, "end": 1.5, "text": f"{prefix}Hello from the simulator.", "speaker": "SPEAKER_0"},
        {"start": 1.5, "end": 3.0, "text": f"{prefix}This is run {run_id}.", "speaker": "SPEAKER_1"},
    ]


def export(parts: Sequence[Mapping[str, object]], fmt: str) -> str:
    """Transcript segments as SRT, VTT or plain text."""

    def stamp(seconds: object, comma: str) -> str:
        millis = round(float(str(seconds)) * 1000)
        hours, minutes, secs = millis // 3_600_000, millis // 60_000 % 60, millis // 1000 % 60
        return f"{hours:02}:{minutes:02}:{secs:02}{comma}{millis % 1000:03}"

    if fmt == "txt":
        return "".join(f"{part['text']}\n" for part in parts)
    comma = "," if fmt == "srt" else "."
    cues = [
        ("" if fmt == "vtt" else f"{n}\n")
        + f"{stamp(part['start'], comma)} --> {stamp(part['end'], comma)}\n{part['text']}\n"
        for n, part in enumerate(parts, 1)
    ]
    return ("WEBVTT\n\n" if fmt == "vtt" else "") + "\n".join(cues)


def text_answer(
    r: Result, key: str, what: str, parts: list[dict[str, object]], default: str | None
) -> Answer:
    """A transcript answer as ``format_type`` and ``data_type`` ask: segments, text, or a file URL."""
    fmt = r.query.get("format_type", default)
    data = r.query.get("data_type", "raw_data")
    if fmt is not None and fmt not in _TEXT_FORMATS:
        return invalid((("query", "format_type"), "Input should be 'srt', 'vtt' or 'txt'", "enum"))
    if data not in ("raw_data", "file"):
        return invalid((("query", "data_type"), "Input should be 'raw_data' or 'file'", "enum"))
    if data == "file":
        return Answer(200, {key: r.file(what, fmt or "txt")})
    return Answer(200, {key: parts if fmt is None else export(parts, fmt)})


def _audio(r: Result) -> Answer:
    output = r.query.get("output_type", "raw_bytes").lower()
    if output == "file_url":
        return Answer(200, {"output_url": r.file()})
    if output != "raw_bytes":
        return invalid((("query", "output_type"), "Input should be 'raw_bytes' or 'file_url'", "enum"))
    if r.record.redirect_result:
        return Answer(302, b"", "text/plain", ((b"location", r.file().encode()),))
    return audio_body(r.run_id, r.record.result_size)


def _dub(r: Result) -> Answer:
    request = r.record.request

    def one(language: object, fmt: str = "") -> dict[str, object]:
        video = fmt if fmt and fmt not in _AUDIO_FORMATS else "mp4"
        return {
            "audio_url": r.file(f"dub-{language}", fmt if fmt in _AUDIO_FORMATS else "wav"),
            "video_url": None if fmt in _AUDIO_FORMATS else r.file(f"dub-{language}", video),
            "transcript": segments(r.run_id, f"[{language}] "),
        }

    if r.record.family == "dubbing_alt_format":
        return Answer(200, one(r.record.params.get("language", ""), str(request.get("output_format", ""))))
    targets = as_list(request.get("target_languages")) or []
    if len(targets) >= 2:
        return Answer(200, {str(language): one(language) for language in targets})
    first = targets[0] if targets else None
    return Answer(200, one(request.get("target_language") or first or "en-us"))


def _translation(r: Result) -> Answer:
    texts = as_list(r.record.request.get("texts")) or []
    target = r.record.request.get("target_language")
    return Answer(200, {"texts": [f"[{target}] {text}" for text in texts]})


def _transcription(r: Result) -> Answer:
    return text_answer(r, "transcript", "transcript", segments(r.run_id), None)


def _voices(r: Result) -> Answer:
    return Answer(200, {"previews": [r.file(f"preview-{n}") for n in (1, 2, 3)]})


def _separation(r: Result) -> Answer:
    return Answer(
        200, {"foreground_audio_url": r.file("foreground"), "background_audio_url": r.file("background")}
    )


def _subtitles(r: Result) -> Answer:
    request = r.record.request
    source = request.get("source_language", "en-us")
    known = {str(source), *(str(t) for t in as_list(request.get("target_languages")) or [])}
    language: object = r.extra[0] if r.extra else source
    if str(language) not in known:
        return not_found(f"no subtitles in {language} for run {r.run_id}")
    answer = text_answer(r, "subtitles", f"subtitles-{language}", segments(r.run_id, f"[{language}] "), "srt")
    payload = as_dict(answer.payload)
    if payload is None:
        return answer
    return Answer(200, {"run_id": r.run_id, "language": language, **payload})


def story_details(request: Mapping[str, object], run_id: int) -> dict[str, object]:
    """The ``story_details`` of a story set up from ``request``."""
    return {
        "story_title": _title(request),
        "story_description": request.get("description"),
        "created_at": _CREATED_AT,
        "source_language": language_id(request.get("source_language")),
        "target_languages": [],
        "folder_id": _number(request.get("folder_id")),
        "studio_url": f"https://studio.camb.ai/story/{run_id}",
    }


def _number(value: object) -> object:
    """A form field's digits as an int; anything else as it is."""
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 19 else value


def _title(request: Mapping[str, object]) -> str:
    upload = as_dict(request.get("file"))
    name = upload.get("filename") if upload is not None else None
    return str(request.get("title") or (str(name).rsplit(".", 1)[0] if name else "Untitled story"))


def _story(r: Result) -> Answer:
    record, prefix = r.record, ""
    story: dict[str, object] = {"run_id": r.run_id}
    if record.family == "translated_story":
        target = record.request.get("target_language")
        if not r.extra or r.extra[0] != str(target):
            return not_found(f"run {r.run_id} has no translation to {r.extra[0] if r.extra else ''}")
        parent_id = record.params.get("story_run_id", "")
        parent = r.runs.get(int(parent_id)) if parent_id.isdigit() else None
        story |= {"story_run_id": int(parent_id) if parent_id.isdigit() else None, "target_language": target}
        record, prefix = (parent or record), f"[{target}] "
    story |= {
        "title": _title(record.request),
        "description": record.request.get("description"),
        "source_language": language_id(record.request.get("source_language")),
        "audio_url": r.file("story"),
    }
    if r.query.get("include_transcript", "").lower() in ("true", "1"):
        story["transcript"] = segments(r.run_id, prefix)
    return Answer(200, story)


def _project(r: Result) -> Answer:
    request = r.record.request
    targets = as_list(request.get("target_languages")) or []
    details = {
        "project_name": request.get("project_name") or f"Project {r.run_id}",
        "project_description": request.get("project_description"),
        "created_at": _CREATED_AT,
        "source_language": language_id(request.get("source_language")),
        "target_languages": [language_id(t) for t in targets],
        "duration": 3.0,
        "folder_id": request.get("folder_id"),
        "studio_url": f"https://studio.camb.ai/project/{r.run_id}",
    }
    return Answer(200, {"run_id": r.run_id, "project_details": details})


FAMILIES: tuple[Family, ...] = (
    Family("tts", "tts", ("text", "voice_id", "language"), _audio, "tts-result", "tts-results",
           batch_query=(("output_type", "file_url"),), batch_ids=(2, 5)),
    Family("dubbing", "dub", ("video_url", "source_language"), _dub, "dub-result", "dubbing-results"),
    Family("translation", "translate", ("texts", "source_language", "target_language"), _translation,
           "translation-result", "translation-results", batch_ids=(2, 5)),
    Family("transcription", "transcribe", ("language", ("media_file", "file", "media_url")), _transcription,
           "transcription-result", "transcription-results", multipart=True),
    Family("text_to_sound", "text-to-sound", ("prompt",), _audio, "text-to-sound-result",
           "text-to-sound-results", batch_query=(("output_type", "file_url"),)),
    Family("text_to_voice", "text-to-voice", ("text", "voice_description"), _voices, "text-to-voice-result"),
    Family("audio_separation", "audio-separation", ("media_file",), _separation, "audio-separation-result",
           "audio-separation-results", multipart=True),
    Family("subtitles", "sub", ("media_url", "source_language", "target_languages"), _subtitles, "sub-result",
           "sub-results", result_params=(0, 1), batch_ids=(2, 5)),
    Family("story", "story", ("file", "source_language"), _story, "story-result", "stories-results",
           multipart=True),
    Family("project_setup", "project-setup", ("media_url", "source_language", "target_languages"), _project,
           "project-setup-result", "project-setup-results", listed=True),
    Family("translated_tts", "translated-tts", ("text", "voice_id", "source_language", "target_language"),
           _audio, "tts-result"),
    Family("translated_story", "translated-story", ("target_language",), _story, "translated-story-result",
           params=("story_run_id",), parent="story", result_params=(1,),
           created_message="Translation of the story started"),
    Family("dubbing_alt_format", "dub-alt-format", ("output_format",), _dub, "dub-result",
           params=("dub_run_id", "language"), parent="dubbing"),
)  # fmt: skip
"""Every task family, by its public name; see the module docstring."""

BY_NAME: dict[str, Family] = {family.name: family for family in FAMILIES}
SERVES: dict[str, frozenset[str]] = {
    family.result: frozenset(f.name for f in FAMILIES if f.result == family.result) for family in FAMILIES
}
"""Result segment -> the families whose runs it serves (``tts-result`` serves tts and translated_tts)."""
