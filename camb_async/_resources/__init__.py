"""The API's families, one small module each, and the registry of task families.

A task family is declared by a :class:`~camb_async._resources._base.TaskResource`
subclass (its endpoints and its ``create``); registering it here makes it a
``family=`` name. Its client attribute carries the same name.
"""

from __future__ import annotations

from .._handles import TaskFamily
from ._base import Endpoints, FamilyContext, TaskResource
from .audio_separation import AudioSeparation
from .dubbing import Dubbing, DubbingAltFormat
from .project_setup import ProjectSetup
from .story import Story, TranslatedStory
from .subtitles import Subtitles
from .text_to_sound import TextToSound
from .text_to_voice import TextToVoice
from .transcription import Transcription
from .translated_tts import TranslatedTTS
from .translation import Translation
from .tts import TTS

__all__ = ["FAMILIES", "Endpoints", "FamilyContext", "TaskFamily", "TaskResource"]

FAMILIES: dict[str, type[TaskResource]] = {
    cls.endpoints.family: cls
    for cls in (
        TTS,
        Dubbing,
        Translation,
        Transcription,
        TextToSound,
        TextToVoice,
        AudioSeparation,
        Subtitles,
        Story,
        ProjectSetup,
        TranslatedTTS,
        TranslatedStory,
        DubbingAltFormat,
    )
}
"""Every task family by public name."""
