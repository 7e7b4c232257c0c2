"""Dubbing a video into other languages: ``client.dubbing`` and ``client.dubbing_alt_format``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, ClassVar, Literal, TypeAlias

import pydantic
from pydantic import Field

from .._paths import path_segment, run_id_segment
from ._base import Endpoints, TaskResource
from ._fields import Body, Id, Language, ProjectFields, Text, build, named
from ._models import Result, TranscriptSegment

__all__ = [
    "Dubbing",
    "DubbingAltFormat",
    "DubbingResult",
    "DubbingResults",
    "SourceTranscript",
    "TargetTranscript",
]


class DubbingResult(Result):
    """A finished dub: the dubbed audio (and video) URLs and the transcript."""

    audio_url: str
    video_url: str | None = None
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
        format_type: Literal["srt", "vtt", "txt"] = "txt",
        data_type: Literal["raw_data", "file"] = "raw_data",
    ) -> dict[str, str]:
        """A dub's transcript in one language (``GET /transcript/{run_id}/{language}``):
        the text itself, or with ``data_type="file"`` a URL to it, as the API keys it."""
        path = f"/transcript/{run_id_segment(run_id)}/{path_segment(language, 'language')}"
        return await self._result(
            run_id, _STRINGS, path=path, params={"format_type": format_type, "data_type": data_type}
        )


_STRINGS: pydantic.TypeAdapter[dict[str, str]] = pydantic.TypeAdapter(dict[str, str])


class _AltFormatBody(Body):
    output_format: Literal["flac", "wav", "mp3", "aac", "m4a", "mkv", "mp4", "mov", "mxf"]


class DubbingAltFormat(TaskResource):
    """A finished dub rendered in another audio or video format: a task of its own."""

    endpoints: ClassVar[Endpoints] = Endpoints("dubbing_alt_format", "dub-alt-format", result="dub-result")

    async def create(
        self,
        *,
        run_id: int,
        language: int | str,
        output_format: Literal["flac", "wav", "mp3", "aac", "m4a", "mkv", "mp4", "mov", "mxf"],
    ) -> str:
        """Start rendering dub ``run_id`` in ``language`` as ``output_format``
        (``POST /dub-alt-format/{run_id}/{language}``); return the task id."""
        call = "dubbing_alt_format.create()"
        body = build(_AltFormatBody, call, output_format=output_format)
        with named(call):
            path = f"/dub-alt-format/{run_id_segment(run_id)}/{path_segment(language, 'language')}"
        return await self._create(body, path=path)

    async def result(self, run_id: int) -> DubbingResult | dict[str, DubbingResult]:
        """The rendered output of a finished run (``GET /dub-result/{run_id}``; the real
        API's answer for this family is unconfirmed, see docs/families.md)."""
        return await self._result(run_id, _DUBBING)
