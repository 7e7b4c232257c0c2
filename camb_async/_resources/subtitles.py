"""Subtitles for a video in many languages: ``client.subtitles``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, ClassVar, Literal

import pydantic
from pydantic import Field, JsonValue

from .._paths import path_segment, run_id_segment
from ._base import Endpoints, TaskResource
from ._fields import Language, ProjectFields, Text, build
from ._models import SubtitleFormatting

__all__ = ["Subtitles"]

_RESULT: pydantic.TypeAdapter[JsonValue] = pydantic.TypeAdapter(JsonValue)


class _SubBody(ProjectFields):
    media_url: Text
    source_language: Language
    target_languages: Annotated[Sequence[Language], Field(min_length=1)]
    transcription_mode: Literal["fast", "slow"] | None = None
    formatting_options: SubtitleFormatting | None = None


def _format(format_type: str | None, data_type: str | None) -> dict[str, str | int | bool] | None:
    params = {k: v for k, v in (("format_type", format_type), ("data_type", data_type)) if v is not None}
    return dict(params) or None


class Subtitles(TaskResource):
    """Transcribe a video and subtitle it in the target languages.

    The API leaves the shape of subtitle results open, so they come back as
    the JSON it sends (``dict``/``list``/``str``), unchanged.
    """

    endpoints: ClassVar[Endpoints] = Endpoints(
        "subtitles", "sub", result="sub-result", batch="sub-results", batch_least=2
    )

    async def create(
        self,
        *,
        media_url: str,
        source_language: int | str,
        target_languages: Sequence[int | str],
        transcription_mode: Literal["fast", "slow"] | None = None,
        formatting_options: SubtitleFormatting | None = None,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
    ) -> str:
        """Start subtitling the video at ``media_url`` (``POST /sub``); return the task id.

        Raises:
            TypeError, ValueError: A field has the wrong type or value (before any request).
        """
        return await self._create(
            build(
                _SubBody,
                "subtitles.create()",
                media_url=media_url,
                source_language=source_language,
                target_languages=target_languages,
                transcription_mode=transcription_mode,
                formatting_options=formatting_options,
                project_name=project_name,
                project_description=project_description,
                folder_id=folder_id,
            )
        )

    async def result(
        self,
        run_id: int,
        *,
        language: int | str | None = None,
        format_type: Literal["srt", "vtt", "txt"] | None = None,
        data_type: Literal["raw_data", "file"] | None = None,
    ) -> JsonValue:
        """A finished run's subtitles (``GET /sub-result/{run_id}``, or
        ``/sub-result/{run_id}/{language}`` for one language)."""
        path = None
        if language is not None:
            path = f"/sub-result/{run_id_segment(run_id)}/{path_segment(language, 'language')}"
        return await self._result(run_id, _RESULT, path=path, params=_format(format_type, data_type))

    async def results(
        self,
        run_ids: Iterable[int],
        *,
        format_type: Literal["srt", "vtt", "txt"] | None = None,
        data_type: Literal["raw_data", "file"] | None = None,
    ) -> dict[int, JsonValue]:
        """Finished runs' subtitles (``POST /sub-results``, 2 to 5 distinct ids a request),
        keyed by run id; a lone id is asked of ``GET /sub-result/{run_id}``."""
        return await self._results(run_ids, _RESULT, params=_format(format_type, data_type))
