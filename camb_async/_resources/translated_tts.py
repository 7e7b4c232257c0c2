"""Speech in another language than the text's: ``client.translated_tts``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, ClassVar

from pydantic import Field

from ._base import Endpoints
from ._fields import Id, Language, ProjectFields, Text, build
from ._files import FileResults

__all__ = ["TranslatedTTS"]


class _TranslatedTtsBody(ProjectFields):
    text: Text
    voice_id: Id
    source_language: Language
    target_language: Language
    age: Annotated[int, Field(ge=0)] | None = None
    formality: int | None = None
    gender: int | None = None
    chosen_dictionaries: Sequence[Id] | None = None


class TranslatedTTS(FileResults):
    """Translate a text and speak the translation.

    The API has no result endpoint of its own for this family: the audio of a
    finished run comes from ``GET /tts-result/{run_id}``, as for ``client.tts``.
    """

    endpoints: ClassVar[Endpoints] = Endpoints("translated_tts", "translated-tts", result="tts-result")

    async def create(
        self,
        *,
        text: str,
        voice_id: int,
        source_language: int | str,
        target_language: int | str,
        age: int | None = None,
        formality: int | None = None,
        gender: int | None = None,
        chosen_dictionaries: Sequence[int] | None = None,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
    ) -> str:
        """Start translating and speaking ``text`` (``POST /translated-tts``); return the task id.

        Raises:
            TypeError, ValueError: A field has the wrong type or value (before any request).
        """
        return await self._create(
            build(
                _TranslatedTtsBody,
                "translated_tts.create()",
                text=text,
                voice_id=voice_id,
                source_language=source_language,
                target_language=target_language,
                age=age,
                formality=formality,
                gender=gender,
                chosen_dictionaries=chosen_dictionaries,
                project_name=project_name,
                project_description=project_description,
                folder_id=folder_id,
            )
        )
