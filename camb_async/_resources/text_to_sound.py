"""Sound effects and music from a prompt: ``client.text_to_sound``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import Field

from ._base import Endpoints
from ._fields import ProjectFields, Text, build
from ._files import FILE_URL, FileResults, FileUrl

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["TextToSound"]


class _SoundBody(ProjectFields):
    prompt: Text
    duration: Annotated[float, Field(gt=0)] | None = None
    audio_type: Literal["sound", "music"] | None = None


class TextToSound(FileResults):
    """Generate a sound effect or music from a text prompt; the result is audio."""

    endpoints: ClassVar[Endpoints] = Endpoints(
        "text_to_sound", "text-to-sound", result="text-to-sound-result", batch="text-to-sound-results"
    )

    async def create(
        self,
        *,
        prompt: str,
        duration: float | None = None,
        audio_type: Literal["sound", "music"] | None = None,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
    ) -> str:
        """Start generating audio for ``prompt`` (``POST /text-to-sound``); return the task id.

        ``duration`` is in seconds.

        Raises:
            TypeError, ValueError: A field has the wrong type or value (before any request).
        """
        return await self._create(
            build(
                _SoundBody,
                "text_to_sound.create()",
                prompt=prompt,
                duration=duration,
                audio_type=audio_type,
                project_name=project_name,
                project_description=project_description,
                folder_id=folder_id,
            )
        )

    async def results(self, run_ids: Iterable[int]) -> dict[int, FileUrl]:
        """Many finished runs' audio URLs at once (``POST /text-to-sound-results``), keyed by run id."""
        return await self._results(run_ids, FILE_URL)
