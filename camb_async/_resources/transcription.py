"""Speech to text: ``client.transcription``."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal, cast

import pydantic

from .._uploads import FileInput, open_uploads
from ._base import Endpoints, TaskResource
from ._fields import Language, ProjectFields, Text, build
from ._models import Result, SubtitleFormatting, TranscriptSegment

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Transcription", "TranscriptionResult"]


class TranscriptionResult(Result):
    """A transcript: segments by default; with ``format_type`` the SRT, VTT or TXT
    text, or with ``data_type="file"`` a URL to that file.

    Read from ``{"transcript": ...}`` (camb-sdk) or a bare list of segments (the
    reference page's example): both give ``transcript``.
    """

    transcript: list[TranscriptSegment] | str

    @pydantic.model_validator(mode="before")
    @classmethod
    def _bare_segments(cls, value: object) -> object:
        if isinstance(value, list):
            return {"transcript": cast("list[object]", value)}
        return value


_RESULT: pydantic.TypeAdapter[TranscriptionResult] = pydantic.TypeAdapter(TranscriptionResult)


class _TranscribeBody(ProjectFields):
    language: Language
    media_url: Text | None = None
    transcription_mode: Literal["fast", "slow"] | None = None
    run_audio_cleaning: bool | None = None
    include_music_in_fg: bool | None = None
    formatting_options: SubtitleFormatting | None = None


class Transcription(TaskResource):
    """Transcribe audio or video: uploaded from a file, or fetched from a URL."""

    endpoints: ClassVar[Endpoints] = Endpoints(
        "transcription", "transcribe", result="transcription-result", batch="transcription-results"
    )

    async def create(
        self,
        *,
        language: int | str,
        media: FileInput | None = None,
        media_url: str | None = None,
        transcription_mode: Literal["fast", "slow"] | None = None,
        run_audio_cleaning: bool | None = None,
        include_music_in_fg: bool | None = None,
        formatting_options: SubtitleFormatting | None = None,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
    ) -> str:
        """Start a transcription (``POST /transcribe``, multipart); return the task id.

        Give exactly one of ``media`` (a path or a binary file object, uploaded
        as it is read: a large file is never held in memory) and ``media_url``.
        ``language`` may be ``"auto"`` to detect it.

        Raises:
            TypeError, ValueError: A field has the wrong type or value (before any request).
            FileNotFoundError: ``media`` names no file.
        """
        if (media is None) == (media_url is None):
            raise ValueError("transcription.create(): give exactly one of media and media_url")
        body = build(
            _TranscribeBody,
            "transcription.create()",
            language=language,
            media_url=media_url,
            transcription_mode=transcription_mode,
            run_audio_cleaning=run_audio_cleaning,
            include_music_in_fg=include_music_in_fg,
            formatting_options=formatting_options,
            project_name=project_name,
            project_description=project_description,
            folder_id=folder_id,
        )
        with open_uploads(
            {"media_file": media}, "transcription.create()", optional=frozenset({"media_file"})
        ) as files:
            return await self._create(body, files=files)

    async def result(
        self,
        run_id: int,
        *,
        format_type: Literal["srt", "vtt", "txt"] | None = None,
        data_type: Literal["raw_data", "file"] | None = None,
    ) -> TranscriptionResult:
        """A finished transcript (``GET /transcription-result/{run_id}``)."""
        params = {k: v for k, v in (("format_type", format_type), ("data_type", data_type)) if v is not None}
        return await self._result(run_id, _RESULT, params=params or None)

    async def results(self, run_ids: Iterable[int]) -> dict[int, TranscriptionResult]:
        """Many finished transcripts at once (``POST /transcription-results``), keyed by run id."""
        return await self._results(run_ids, _RESULT)
