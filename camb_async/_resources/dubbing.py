"""Dubbing a video into other languages: ``client.dubbing`` and ``client.dubbing_alt_format``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, TypeAlias

import pydantic
from pydantic import AliasChoices, Field

from .._paths import path_segment, run_id_segment, validate_task_id
from ._base import Endpoints, TaskResource
from ._fields import Body, Id, Language, ProjectFields, Text, build, named
from ._files import FILE_URL, FileUrl
from ._models import Result, TranscriptSegment

if TYPE_CHECKING:
    import httpx

__all__ = [
    "Dubbing",
    "DubbingAltFormat",
    "DubbingResult",
    "DubbingResults",
    "SourceTranscript",
    "TargetTranscript",
]


class DubbingResult(Result):
    """A finished dub: the dubbed audio (and video) URLs and the transcript.

    Read from either documented shape: ``{audio_url, video_url, transcript}`` (the batch
    page, camb-sdk) or ``{run_id, output_audio_url, output_video_url, transcript}`` (the
    single-result page); ``run_id``, when sent, stays in ``model_extra``.
    """

    audio_url: Annotated[str, Field(validation_alias=AliasChoices("audio_url", "output_audio_url"))]
    video_url: Annotated[
        str | None, Field(validation_alias=AliasChoices("video_url", "output_video_url"))
    ] = None
    transcript: list[TranscriptSegment] = Field(default_factory=list[TranscriptSegment])


DubbingResults: TypeAlias = Annotated[
    DubbingResult | dict[str, DubbingResult], Field(union_mode="left_to_right")
]
"""One :class:`DubbingResult`, or one per target language (keyed by the language) for a
dub into several languages."""

_DUBBING: pydantic.TypeAdapter[DubbingResult | dict[str, DubbingResult]] = pydantic.TypeAdapter(
    DubbingResults
)


class SourceTranscript(Body):
    """A transcript of the source to dub from, as SRT text (not a file name)."""

    content: Text
    format: Literal["srt"] = "srt"


class TargetTranscript(SourceTranscript):
    """A ready translation for one target language, as SRT text."""

    language: Language


class _DubBody(ProjectFields):
    video_url: Text
    source_language: Language
    target_language: Language | None = None
    target_languages: Sequence[Language] | None = None
    selected_audio_tracks: Sequence[Id] | None = None
    add_output_as_an_audio_track: bool | None = None
    chosen_dictionaries: Sequence[Id] | None = None
    ai_optimization: bool | None = None
    transcription_mode: Literal["fast", "slow"] | None = None
    source_transcript: SourceTranscript | None = None
    target_transcripts: Sequence[TargetTranscript] | None = None


class Dubbing(TaskResource):
    """Dub a video (by URL) into one or more languages."""

    endpoints: ClassVar[Endpoints] = Endpoints(
        "dubbing", "dub", result="dub-result", batch="dubbing-results", batch_size=100
    )

    async def create(
        self,
        *,
        video_url: str,
        source_language: int | str,
        target_language: int | str | None = None,
        target_languages: Sequence[int | str] | None = None,
        selected_audio_tracks: Sequence[int] | None = None,
        add_output_as_an_audio_track: bool | None = None,
        chosen_dictionaries: Sequence[int] | None = None,
        ai_optimization: bool | None = None,
        transcription_mode: Literal["fast", "slow"] | None = None,
        source_transcript: SourceTranscript | None = None,
        target_transcripts: Sequence[TargetTranscript] | None = None,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
    ) -> str:
        """Start dubbing the video at ``video_url`` (``POST /dub``); return the task id.

        Give ``target_language`` or ``target_languages`` (int ids or locales).

        Raises:
            TypeError, ValueError: A field has the wrong type or value (before any request).
        """
        if target_language is None and not target_languages:
            raise ValueError("dubbing.create(): give target_language or target_languages")
        return await self._create(
            build(
                _DubBody,
                "dubbing.create()",
                video_url=video_url,
                source_language=source_language,
                target_language=target_language,
                target_languages=target_languages,
                selected_audio_tracks=selected_audio_tracks,
                add_output_as_an_audio_track=add_output_as_an_audio_track,
                chosen_dictionaries=chosen_dictionaries,
                ai_optimization=ai_optimization,
                transcription_mode=transcription_mode,
                source_transcript=source_transcript,
                target_transcripts=target_transcripts,
                project_name=project_name,
                project_description=project_description,
                folder_id=folder_id,
            )
        )

    async def result(self, run_id: int) -> DubbingResult | dict[str, DubbingResult]:
        """A finished dub (``GET /dub-result/{run_id}``): one result, or one per language."""
        return await self._result(run_id, _DUBBING)

    async def results(self, run_ids: Iterable[int]) -> dict[int, DubbingResult | dict[str, DubbingResult]]:
        """Finished dubs (``POST /dubbing-results``, up to 100 a request), keyed by run id."""
        return await self._results(run_ids, _DUBBING)

    async def transcript(
        self,
        run_id: int,
        language: int | str,
        *,
        format_type: Literal["srt", "vtt", "txt"] | None = None,
        data_type: Literal["raw_data", "file"] | None = None,
    ) -> dict[str, str]:
        """A dub's transcript in one language (``GET /transcript/{run_id}/{language}``):
        the text itself, or with ``data_type="file"`` a URL to it, as the API keys it.
        ``format_type`` and ``data_type`` are sent only when given (the API's defaults:
        ``txt``, ``raw_data``)."""
        path = f"/transcript/{run_id_segment(run_id)}/{path_segment(language, 'language')}"
        params = {k: v for k, v in (("format_type", format_type), ("data_type", data_type)) if v is not None}
        return await self._result(run_id, _STRINGS, path=path, params=params or None)


_STRINGS: pydantic.TypeAdapter[dict[str, str]] = pydantic.TypeAdapter(dict[str, str])


class _AltFormatBody(Body):
    output_format: Literal["flac", "wav", "mp3", "aac", "m4a", "mkv", "mp4", "mov", "mxf"]


def _parse_alt_created(response: httpx.Response) -> str | FileUrl:
    """A task id (camb-sdk's answer), or the rendered file's URL at once (the reference
    page's ``{"output_url": ...}``; ``file_url`` and a bare URL string read the same)."""
    answer = _ALT_CREATED.validate_json(response.content)
    task_id = answer.get("task_id") if isinstance(answer, dict) else None
    if isinstance(task_id, str):
        return validate_task_id(task_id)
    if task_id is not None:
        raise ValueError(f"task_id: not a string (got {type(task_id).__name__})")
    try:
        return FILE_URL.validate_python(answer)
    except pydantic.ValidationError:
        raise ValueError("the answer holds neither a task_id nor an output_url") from None


_ALT_CREATED: pydantic.TypeAdapter[dict[str, pydantic.JsonValue] | str] = pydantic.TypeAdapter(
    dict[str, pydantic.JsonValue] | str
)


class DubbingAltFormat(TaskResource):
    """A finished dub rendered in another audio or video format: a task of its own, or
    (as the API's reference page shows) the file's URL at once."""

    endpoints: ClassVar[Endpoints] = Endpoints("dubbing_alt_format", "dub-alt-format", result="dub-result")

    async def create(
        self,
        *,
        run_id: int,
        language: int | str,
        output_format: Literal["flac", "wav", "mp3", "aac", "m4a", "mkv", "mp4", "mov", "mxf"],
    ) -> str | FileUrl:
        """Start rendering dub ``run_id`` in ``language`` as ``output_format``
        (``POST /dub-alt-format/{run_id}/{language}``).

        Returns the task id to follow (a ``str``), or, when the API answers with the
        rendered file at once, a :class:`FileUrl` to download it from: both answers
        are documented, so check which came (``isinstance(answer, str)``).
        """
        call = "dubbing_alt_format.create()"
        body = build(_AltFormatBody, call, output_format=output_format)
        with named(call):
            path = f"/dub-alt-format/{run_id_segment(run_id)}/{path_segment(language, 'language')}"
        fields = body.model_dump(mode="json", exclude_none=True)
        return await self._requester.request("POST", path, _parse_alt_created, json=fields)

    async def result(self, run_id: int) -> DubbingResult | dict[str, DubbingResult]:
        """The rendered output of a finished run (``GET /dub-result/{run_id}``; the real
        API's answer for this family is unconfirmed, see docs/families.md)."""
        return await self._result(run_id, _DUBBING)
