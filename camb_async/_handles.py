"""Naming a task: its family's public name and its id, in a form that survives a restart."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from ._paths import validate_task_id

__all__ = ["TaskFamily", "TaskHandle"]

TaskFamily = Literal[
    "tts",
    "dubbing",
    "translation",
    "transcription",
    "text_to_sound",
    "text_to_voice",
    "audio_separation",
    "subtitles",
    "story",
    "project_setup",
    "translated_tts",
    "translated_story",
    "dubbing_alt_format",
]
"""The public names of the task families: each is a client attribute (``client.dubbing``)
and a ``family=`` value of ``client.status()/watch()/wait()``."""


class TaskHandle(BaseModel):
    """A task of any family: what a worker stores to follow it again after a restart.

    Frozen and hashable; ``handle.model_dump_json()`` and
    ``TaskHandle.model_validate_json(text)`` store and restore it. The
    client's ``status``/``watch``/``wait`` and the many-task calls take a
    handle wherever they take a TTS task id.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True, extra="forbid", strict=True)

    family: TaskFamily
    task_id: str

    def __hash__(self) -> int:  # pydantic makes frozen models hashable; this says so to type checkers
        return hash((self.family, self.task_id))

    @field_validator("task_id")
    @classmethod
    def _one_segment(cls, task_id: str) -> str:
        return validate_task_id(task_id)
