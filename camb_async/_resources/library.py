"""Folders and dictionaries: ``client.folders`` and ``client.dictionaries``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, TypeVar

import pydantic
from pydantic import AliasChoices, Field

from .._paths import run_id_segment
from .._uploads import FileInput, open_uploads
from ._base import multipart
from ._fields import Body, LanguageId, Text, build
from ._models import Result

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

    from .._requester import Requester

__all__ = ["Dictionaries", "Dictionary", "DictionaryTerm", "Folder", "Folders", "TermTranslation"]

R = TypeVar("R")


class Folder(Result):
    """A folder of CAMB.AI Studio, to file tasks in (``folder_id=``). ``name`` is read
    from ``name`` (camb-sdk) or ``folder_name`` (the reference page)."""

    name: Annotated[str, Field(validation_alias=AliasChoices("name", "folder_name"))] = ""
    folder_id: int | None = None
    team_id: int | None = None


class TermTranslation(Body):
    """One language's wording of a dictionary term, as sent (``language`` as an int id or
    a locale; the API takes the id)."""

    translation: Text
    language: LanguageId


class _TermText(Result):
    language: int | str
    term_text: str


class DictionaryTerm(Result):
    """A term and its wording in each language (``term_translations``)."""

    id: int
    term_translations: list[_TermText] = Field(default_factory=list[_TermText])


class Dictionary(Result):
    """A translation dictionary: fixed wordings the API keeps when it translates."""

    id: int
    name: str = ""
    description: str | None = None
    dictionary_terms: list[DictionaryTerm] | None = None
    languages: list[int | str] | None = None


class _Terms(Body):
    translations: Sequence[TermTranslation]


class _FolderBody(Body):
    folder_name: Text


class _DictionaryBody(Body):
    dictionary_name: Text
    dictionary_description: str | None = None


_JSON: pydantic.TypeAdapter[pydantic.JsonValue] = pydantic.TypeAdapter(pydantic.JsonValue)


def _parse_json(response: httpx.Response) -> pydantic.JsonValue:
    """An answer the API leaves untyped (``None`` for an empty body)."""
    return _JSON.validate_json(response.content) if response.content.strip() else None


class _Resource:
    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    async def _get(
        self,
        path: str,
        adapter: pydantic.TypeAdapter[R],
        params: Mapping[str, str | int | bool] | None = None,
    ) -> R:
        def parse(response: httpx.Response) -> R:
            return adapter.validate_json(response.content)

        return await self._requester.request("GET", path, parse, params=params)


class Folders(_Resource):
    """Folders of CAMB.AI Studio."""

    async def list(self, *, limit: int | None = None, search: str | None = None) -> list[Folder]:
        """Your folders (``GET /folders``), at most ``limit``, named like ``search``."""
        params: dict[str, str | int | bool] = {}
        if limit is not None:
            params["limit"] = int(run_id_segment(limit, "limit"))
        if search is not None:
            params["search_query"] = search
        return await self._get("/folders", _FOLDERS, params or None)

    async def create(self, *, name: str) -> pydantic.JsonValue:
        """Create a folder (``POST /folders/create``); the API's answer, as JSON."""
        body = build(_FolderBody, "folders.create()", folder_name=name)
        return await self._requester.request("POST", "/folders/create", _parse_json, json=body.model_dump())


class Dictionaries(_Resource):
    """Translation dictionaries and their terms."""

    async def list(self) -> list[Dictionary]:
        """Your dictionaries (``GET /dictionaries``)."""
        return await self._get("/dictionaries", _DICTIONARIES)

    async def get(
        self,
        dictionary_id: int,
        *,
        full: bool = False,
        limit: int | None = None,
        search_term: str | None = None,
    ) -> Dictionary:
        """One dictionary (``GET /dictionaries/{id}``); with ``full``, its terms too
        (``/full-details``: at most ``limit`` terms, matching ``search_term``)."""
        path = f"/dictionaries/{run_id_segment(dictionary_id, 'dictionary_id')}"
        if not full:
            return await self._get(path, _DICTIONARY)
        params: dict[str, str | int | bool] = {}
        if limit is not None:
            params["limit"] = int(run_id_segment(limit, "limit"))
        if search_term is not None:
            params["search_term"] = search_term
        return await self._get(f"{path}/full-details", _DICTIONARY, params or None)

    async def create_from_file(
        self, *, file: FileInput, name: str, description: str | None = None
    ) -> pydantic.JsonValue:
        """Create a dictionary from a file of terms (``POST /dictionaries/create-from-file``,
        multipart); the API's answer, as JSON."""
        body = build(
            _DictionaryBody,
            "dictionaries.create_from_file()",
            dictionary_name=name,
            dictionary_description=description,
        )
        with open_uploads({"dictionary_file": file}, "dictionaries.create_from_file()") as files:
            return await self._requester.request(
                "POST", "/dictionaries/create-from-file", _parse_json, files=multipart(body, files)
            )

    async def delete(self, dictionary_id: int) -> pydantic.JsonValue:
        """Delete a dictionary (``DELETE /dictionaries/{id}``)."""
        path = f"/dictionaries/{run_id_segment(dictionary_id, 'dictionary_id')}"
        return await self._requester.request("DELETE", path, _parse_json)

    async def add_term(
        self, dictionary_id: int, translations: Sequence[TermTranslation]
    ) -> pydantic.JsonValue:
        """Add a term, worded in each language (``POST /dictionaries/{id}/add-term``)."""
        body = build(_Terms, "dictionaries.add_term()", translations=translations)
        path = f"/dictionaries/{run_id_segment(dictionary_id, 'dictionary_id')}/add-term"
        return await self._requester.request("POST", path, _parse_json, json=body.model_dump(mode="json"))

    async def update_term(
        self, dictionary_id: int, term_id: int, translations: Sequence[TermTranslation]
    ) -> pydantic.JsonValue:
        """Reword a term (``PUT /dictionaries/term/{id}/{term_id}``)."""
        body = build(_Terms, "dictionaries.update_term()", translations=translations)
        path = f"/dictionaries/term/{run_id_segment(dictionary_id, 'dictionary_id')}/{run_id_segment(term_id, 'term_id')}"
        return await self._requester.request("PUT", path, _parse_json, json=body.model_dump(mode="json"))

    async def delete_term(self, dictionary_id: int, term_id: int) -> pydantic.JsonValue:
        """Delete a term (``DELETE /dictionaries/term/{id}/{term_id}``)."""
        path = f"/dictionaries/term/{run_id_segment(dictionary_id, 'dictionary_id')}/{run_id_segment(term_id, 'term_id')}"
        return await self._requester.request("DELETE", path, _parse_json)


_FOLDERS: pydantic.TypeAdapter[list[Folder]] = pydantic.TypeAdapter(list[Folder])
_DICTIONARIES: pydantic.TypeAdapter[list[Dictionary]] = pydantic.TypeAdapter(list[Dictionary])
_DICTIONARY: pydantic.TypeAdapter[Dictionary] = pydantic.TypeAdapter(Dictionary)
