"""Voices and languages: ``client.voices`` and ``client.languages``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pydantic

from .._uploads import FileInput, open_uploads
from ._base import multipart
from ._fields import Body, Id, LanguageId, Text, build
from ._models import Result

if TYPE_CHECKING:
    import httpx

    from .._requester import Requester

__all__ = ["Language", "Languages", "Voice", "Voices"]

log = logging.getLogger("camb_async")


class Voice(Result):
    """A voice to speak with: pass its ``id`` as ``voice_id``."""

    id: int
    voice_name: str = ""
    gender: int | None = None
    age: int | None = None
    language: int | None = None
    description: str | None = None
    transcript: str | None = None
    is_published: bool | None = None
    signed_url: str | None = None


class Language(Result):
    """A language the API knows: its ``id``, name and locale (``short_name``, e.g. ``en-us``)."""

    id: int
    language: str = ""
    short_name: str = ""


_ITEMS: pydantic.TypeAdapter[list[pydantic.JsonValue]] = pydantic.TypeAdapter(list[pydantic.JsonValue])


def _parse_voices(response: httpx.Response) -> list[Voice]:
    """Every item of the list that is a voice; an odd one (no ``id``, a null one) is
    skipped with a debug line, so that it never costs the caller the whole list."""
    voices: list[Voice] = []
    for index, item in enumerate(_ITEMS.validate_json(response.content)):
        try:
            voices.append(Voice.model_validate(item))
        except pydantic.ValidationError as exc:
            fields = ", ".join(sorted({".".join(map(str, err["loc"])) or "item" for err in exc.errors()}))
            log.debug("GET /list-voices: skipped item %d, not a voice (%s)", index, fields)
    return voices


_LANGUAGES: pydantic.TypeAdapter[list[Language]] = pydantic.TypeAdapter(list[Language])


class _CustomVoiceBody(Body):
    voice_name: Text
    gender: int
    description: str | None = None
    age: Id | None = None
    language: LanguageId | None = None
    enhance_audio: bool | None = None
    publish_voice_to_market_place: bool | None = None


class _CreatedVoice(pydantic.BaseModel):
    voice_id: int


class Voices:
    """The voices your key may speak with, and new ones cloned from a sample."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    async def list(self) -> list[Voice]:
        """Every voice available to your key (``GET /list-voices``). An item that is not
        a voice (no ``id``, a null one) is skipped and logged at DEBUG on ``camb_async``."""

        return await self._requester.request("GET", "/list-voices", _parse_voices)

    async def create(
        self,
        *,
        file: FileInput,
        voice_name: str,
        gender: int,
        description: str | None = None,
        age: int | None = None,
        language: int | str | None = None,
        enhance_audio: bool | None = None,
        publish_voice_to_market_place: bool | None = None,
    ) -> int:
        """Clone a voice from an audio sample (``POST /create-custom-voice``,
        multipart; ``file`` is a path or a binary file object); return its voice id.

        Raises:
            TypeError, ValueError: A field has the wrong type or value (before any request).
            CreateOutcomeUnknownError: It failed after it may have reached the server.
        """
        body = build(
            _CustomVoiceBody,
            "voices.create()",
            voice_name=voice_name,
            gender=gender,
            description=description,
            age=age,
            language=language,
            enhance_audio=enhance_audio,
            publish_voice_to_market_place=publish_voice_to_market_place,
        )

        def parse(response: httpx.Response) -> int:
            return _CreatedVoice.model_validate_json(response.content).voice_id

        with open_uploads({"file": file}, "voices.create()") as files:
            return await self._requester.request(
                "POST", "/create-custom-voice", parse, files=multipart(body, files)
            )


class Languages:
    """The languages the API takes as sources and as targets."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    async def _list(self, path: str) -> list[Language]:
        def parse(response: httpx.Response) -> list[Language]:
            return _LANGUAGES.validate_json(response.content)

        return await self._requester.request("GET", path, parse)

    async def source(self) -> list[Language]:
        """Languages a source may be in (``GET /source-languages``)."""
        return await self._list("/source-languages")

    async def target(self) -> list[Language]:
        """Languages a result may be in (``GET /target-languages``)."""
        return await self._list("/target-languages")
