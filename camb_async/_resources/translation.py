"""Text translation: ``client.translation``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, ClassVar

import pydantic
from pydantic import Field

from .._download import stream_text
from ._base import Endpoints, TaskResource
from ._fields import Id, Language, ProjectFields, Text, build
from ._models import Result

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator

__all__ = ["Translation", "TranslationResult"]


class TranslationResult(Result):
    """The translated texts, in the order they were sent."""

    texts: list[str]


_RESULT: pydantic.TypeAdapter[TranslationResult] = pydantic.TypeAdapter(TranslationResult)


class _Common(ProjectFields):
    source_language: Language
    target_language: Language
    formality: int | None = None
    gender: int | None = None


class _TranslateBody(_Common):
    texts: Annotated[Sequence[Text], Field(min_length=1)]
    age: Annotated[int, Field(ge=0)] | None = None
    chosen_dictionaries: Sequence[Id] | None = None


class _StreamBody(_Common):
    text: Text
    team_id: Id | None = None


class Translation(TaskResource):
    """Translate texts as a task, or one text at once with :meth:`stream`."""

    endpoints: ClassVar[Endpoints] = Endpoints(
        "translation", "translate", result="translation-result", batch="translation-results", batch_least=2
    )

    async def create(
        self,
        *,
        texts: Sequence[str],
        source_language: int | str,
        target_language: int | str,
        formality: int | None = None,
        gender: int | None = None,
        age: int | None = None,
        chosen_dictionaries: Sequence[int] | None = None,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
    ) -> str:
        """Start translating ``texts`` (``POST /translate``); return the task id.

        Raises:
            TypeError, ValueError: A field has the wrong type or value (before any request).
        """
        return await self._create(
            build(
                _TranslateBody,
                "translation.create()",
                texts=texts,
                source_language=source_language,
                target_language=target_language,
                formality=formality,
                gender=gender,
                age=age,
                chosen_dictionaries=chosen_dictionaries,
                project_name=project_name,
                project_description=project_description,
                folder_id=folder_id,
            )
        )

    async def result(self, run_id: int) -> TranslationResult:
        """A finished translation (``GET /translation-result/{run_id}``)."""
        return await self._result(run_id, _RESULT)

    async def results(self, run_ids: Iterable[int]) -> dict[int, TranslationResult]:
        """Finished translations (``POST /translation-results``, 2 to 5 a request), keyed by
        run id; a lone id is asked of ``GET /translation-result/{run_id}``."""
        return await self._results(run_ids, _RESULT)

    @contextlib.asynccontextmanager
    async def stream(
        self,
        *,
        text: str,
        source_language: int | str,
        target_language: int | str,
        formality: int | None = None,
        gender: int | None = None,
        team_id: int | None = None,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
    ) -> AsyncGenerator[AsyncIterator[str], None]:
        """Translate one text at once (``POST /translation/stream``): the translation
        as text chunks while it arrives. Leaving the block closes the response.

        ::

            async with client.translation.stream(text="Hi", source_language=1, target_language=54) as parts:
                print("".join([part async for part in parts]))
        """
        body = build(
            _StreamBody,
            "translation.stream()",
            text=text,
            source_language=source_language,
            target_language=target_language,
            formality=formality,
            gender=gender,
            team_id=team_id,
            project_name=project_name,
            project_description=project_description,
            folder_id=folder_id,
        )
        fields = body.model_dump(mode="json", exclude_none=True)
        async with self._requester.stream(
            "POST", "/translation/stream", json=fields, idempotent=False
        ) as response:
            yield stream_text(self._requester, response)
