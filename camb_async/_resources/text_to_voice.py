"""Designing a voice from a description: ``client.text_to_voice``."""

from __future__ import annotations

from typing import ClassVar

import pydantic

from ._base import Endpoints, TaskResource
from ._fields import ProjectFields, Text, build
from ._models import Result

__all__ = ["TextToVoice", "TextToVoiceResult"]


class TextToVoiceResult(Result):
    """URLs of audio previews of the designed voice speaking the text."""

    previews: list[str]


_RESULT: pydantic.TypeAdapter[TextToVoiceResult] = pydantic.TypeAdapter(TextToVoiceResult)


class _VoiceBody(ProjectFields):
    text: Text
    voice_description: Text


class TextToVoice(TaskResource):
    """Design a voice from a description and hear it speak ``text``."""

    endpoints: ClassVar[Endpoints] = Endpoints(
        "text_to_voice", "text-to-voice", result="text-to-voice-result"
    )

    async def create(
        self,
        *,
        text: str,
        voice_description: str,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
    ) -> str:
        """Start designing a voice (``POST /text-to-voice``); return the task id.

        Raises:
            TypeError, ValueError: A field has the wrong type or value (before any request).
        """
        return await self._create(
            build(
                _VoiceBody,
                "text_to_voice.create()",
                text=text,
                voice_description=voice_description,
                project_name=project_name,
                project_description=project_description,
                folder_id=folder_id,
            )
        )

    async def result(self, run_id: int) -> TextToVoiceResult:
        """The previews of a finished design (``GET /text-to-voice-result/{run_id}``)."""
        return await self._result(run_id, _RESULT)
