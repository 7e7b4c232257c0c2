"""Splitting speech from background audio: ``client.audio_separation``."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import pydantic

from .._uploads import FileInput, open_uploads
from ._base import Endpoints, TaskResource
from ._fields import ProjectFields, build
from ._models import Result

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["AudioSeparation", "AudioSeparationResult"]


class AudioSeparationResult(Result):
    """URLs of the two separated tracks: the voices (foreground) and the rest."""

    foreground_audio_url: str
    background_audio_url: str


_RESULT: pydantic.TypeAdapter[AudioSeparationResult] = pydantic.TypeAdapter(AudioSeparationResult)


class AudioSeparation(TaskResource):
    """Separate the voices in an audio or video file from its background."""

    endpoints: ClassVar[Endpoints] = Endpoints(
        "audio_separation",
        "audio-separation",
        result="audio-separation-result",
        batch="audio-separation-results",
    )

    async def create(
        self,
        *,
        media: FileInput,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
    ) -> str:
        """Start separating ``media`` (a path or a binary file object, streamed;
        ``POST /audio-separation``, multipart); return the task id.

        Raises:
            TypeError, ValueError: A field has the wrong type or value (before any request).
            FileNotFoundError: ``media`` names no file.
        """
        body = build(
            ProjectFields,
            "audio_separation.create()",
            project_name=project_name,
            project_description=project_description,
            folder_id=folder_id,
        )
        with open_uploads({"media_file": media}, "audio_separation.create()") as files:
            return await self._create(body, files=files)

    async def result(self, run_id: int) -> AudioSeparationResult:
        """The separated tracks of a finished run (``GET /audio-separation-result/{run_id}``)."""
        return await self._result(run_id, _RESULT)

    async def results(self, run_ids: Iterable[int]) -> dict[int, AudioSeparationResult]:
        """Many finished runs at once (``POST /audio-separation-results``), keyed by run id."""
        return await self._results(run_ids, _RESULT)
