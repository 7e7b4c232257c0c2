"""Audio stories from documents: ``client.story`` and ``client.translated_story``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

import pydantic
from pydantic import Field

from .._languages import language_id
from .._paths import path_segment, run_id_segment, validate_task_id
from .._uploads import FileInput, open_uploads
from ._base import Endpoints, TaskResource, multipart
from ._fields import Body, Id, LanguageId, build, named
from ._models import Result

if TYPE_CHECKING:
    import httpx

__all__ = ["Story", "StoryMessage", "StoryResult", "StorySetup", "TranslatedStory"]


class StoryResult(Result):
    """A finished story. The API leaves its fields open: they are all kept, and read
    as attributes (``result.audio_url``) or from ``model_extra``."""


class StorySetup(Result):
    """A story set up without narrating it: its run id and details (``story_details``)."""

    run_id: int
    story_details: dict[str, pydantic.JsonValue] = Field(default_factory=dict)


class StoryMessage(Result):
    """What ``translated_story.create()`` returns when the API answers with a message and
    no task to follow (camb-sdk's ``AddTargetLanguageOut`` without a ``task_id``): the
    API's ``message``, as sent; other fields it adds are kept in ``model_extra``."""

    message: str


class _Created(Result):
    task_id: str | None = None
    run_id: int | None = None
    message: str | None = None


_CREATED: pydantic.TypeAdapter[_Created] = pydantic.TypeAdapter(_Created)
_RESULT: pydantic.TypeAdapter[StoryResult] = pydantic.TypeAdapter(StoryResult)
_SETUP: pydantic.TypeAdapter[StorySetup] = pydantic.TypeAdapter(StorySetup)


class _StoryBody(Body):
    source_language: LanguageId
    title: str | None = None
    description: str | None = None
    narrator_voice_id: Id | None = None
    folder_id: Id | None = None
    chosen_dictionaries: Sequence[Id] | None = None


class Story(TaskResource):
    """Turn a document into a narrated story.

    ``create`` answers a task to follow; ``setup`` answers a finished setup
    (a run id) at once. Where the API answers ``create`` with a setup instead
    of a task, ``create`` raises ``ResponseValidationError`` naming the run.
    """

    endpoints: ClassVar[Endpoints] = Endpoints(
        "story", "story", result="story-result", batch="stories-results"
    )

    def _body(self, call: str, **fields: object) -> _StoryBody:
        return build(_StoryBody, call, **fields)

    def _parse_created(self, response: httpx.Response) -> str:
        """A task id; an answer that is a finished setup names its run instead."""
        answer = _CREATED.validate_json(response.content)
        if answer.task_id is None and answer.run_id is not None:
            raise ValueError(
                f"the API answered a finished story setup (run_id {answer.run_id}) instead of a task id; "
                "story.setup() returns such answers"
            )
        return super()._parse_created(response)

    async def create(
        self,
        *,
        file: FileInput,
        source_language: int | str,
        title: str | None = None,
        description: str | None = None,
        narrator_voice_id: int | None = None,
        folder_id: int | None = None,
        chosen_dictionaries: Sequence[int] | None = None,
    ) -> str:
        """Start a story from ``file`` (a path or a binary file object, streamed;
        ``POST /story``, multipart); return the task id.

        Raises:
            TypeError, ValueError: A field has the wrong type or value (before any request).
            FileNotFoundError: ``file`` names no file.
        """
        body = self._body(
            "story.create()",
            source_language=source_language,
            title=title,
            description=description,
            narrator_voice_id=narrator_voice_id,
            folder_id=folder_id,
            chosen_dictionaries=chosen_dictionaries,
        )
        with open_uploads({"file": file}, "story.create()") as files:
            return await self._create(body, files=files)

    async def setup(
        self,
        *,
        file: FileInput,
        source_language: int | str,
        title: str | None = None,
        description: str | None = None,
        narrator_voice_id: int | None = None,
        folder_id: int | None = None,
        chosen_dictionaries: Sequence[int] | None = None,
    ) -> StorySetup:
        """Set a story up without narrating it (``POST /story-setup``): its run id and details."""
        body = self._body(
            "story.setup()",
            source_language=source_language,
            title=title,
            description=description,
            narrator_voice_id=narrator_voice_id,
            folder_id=folder_id,
            chosen_dictionaries=chosen_dictionaries,
        )

        def parse(response: httpx.Response) -> StorySetup:
            return _SETUP.validate_json(response.content)

        with open_uploads({"file": file}, "story.setup()") as files:
            return await self._requester.request("POST", "/story-setup", parse, files=multipart(body, files))

    async def result(self, run_id: int, *, include_transcript: bool | None = None) -> StoryResult:
        """A finished story (``GET /story-result/{run_id}``)."""
        params = None if include_transcript is None else {"include_transcript": include_transcript}
        return await self._result(run_id, _RESULT, params=params)

    async def results(self, run_ids: Iterable[int]) -> dict[int, StoryResult]:
        """Many finished stories at once (``POST /stories-results``), keyed by run id."""
        return await self._results(run_ids, _RESULT)


def _parse_translation_created(response: httpx.Response) -> str | StoryMessage:
    """A task id, or the API's message when it answers one without a task."""
    answer = _CREATED.validate_json(response.content)
    if answer.task_id is not None:
        return validate_task_id(answer.task_id)
    if answer.message is not None:
        return StoryMessage.model_validate(answer.model_dump(exclude_none=True))
    raise ValueError("task_id: missing (and no message in its place)")


class _TranslateBody(Body):
    target_language: LanguageId


class TranslatedStory(TaskResource):
    """A finished story narrated in another language: a task of its own."""

    endpoints: ClassVar[Endpoints] = Endpoints(
        "translated_story", "translated-story", result="translated-story-result"
    )

    async def create(self, *, run_id: int, target_language: int | str) -> str | StoryMessage:
        """Start translating story ``run_id`` into ``target_language``
        (``POST /translated-story/{run_id}``).

        Returns the task id to follow (a ``str``), or a :class:`StoryMessage` when the API
        answers with only a message (camb-sdk models ``task_id`` as optional beside a
        required ``message``): then there is no task to follow, and the message says why.
        """
        call = "translated_story.create()"
        body = build(_TranslateBody, call, target_language=target_language)
        with named(call):
            path = f"/translated-story/{run_id_segment(run_id)}"
        fields = body.model_dump(mode="json", exclude_none=True)
        return await self._requester.request("POST", path, _parse_translation_created, json=fields)

    async def result(
        self, run_id: int, *, target_language: int | str, include_transcript: bool | None = None
    ) -> StoryResult:
        """A finished translation of a story
        (``GET /translated-story-result/{run_id}/{target_language}``)."""
        with named("translated_story.result()"):
            language = path_segment(language_id(target_language), "target_language")  # the API takes the id
            path = f"/translated-story-result/{run_id_segment(run_id)}/{language}"
        params = None if include_transcript is None else {"include_transcript": include_transcript}
        return await self._result(run_id, _RESULT, path=path, params=params)
