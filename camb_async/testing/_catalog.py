"""The account's catalog: voices, languages, folders and dictionaries, and their endpoints."""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import threading
from typing import TYPE_CHECKING

from ._http import Answer, Handler, Request, as_dict, as_list, integer, integers, invalid, not_found, require
from ._languages import LANGUAGES, language_id

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Catalog"]

_VOICES: tuple[dict[str, object], ...] = (
    {"id": 1, "voice_name": "Alice", "gender": 2, "age": 30, "language": 1,
     "description": "A calm narrator", "is_published": True},
    {"id": 2, "voice_name": "Bruno", "gender": 1, "age": 45, "language": 54,
     "description": "A deep, warm voice", "is_published": True},
    {"id": 3, "voice_name": "Chen", "gender": 1, "age": 25, "language": 139,
     "description": "A bright, quick voice", "is_published": False},
)  # fmt: skip


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


@dataclasses.dataclass
class _Dictionary:
    id: int
    name: str
    description: str | None
    created_at: str
    last_edited_at: str
    terms: dict[int, list[dict[str, object]]] = dataclasses.field(
        default_factory=dict[int, list[dict[str, object]]]
    )

    def as_json(self, *, limit: int | None = None, search: str = "") -> dict[str, object]:
        terms = [
            {"id": term_id, "term_translations": translations}
            for term_id, translations in self.terms.items()
            if not search or any(search.lower() in str(t["term_text"]).lower() for t in translations)
        ]
        languages = sorted({str(t["language"]) for ts in self.terms.values() for t in ts})
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "created_at": self.created_at,
            "last_edited_at": self.last_edited_at,
            "dictionary_terms": terms[:limit] if limit is not None else terms,
            "languages": [language_id(language) for language in languages],
        }


class Catalog:
    """Voices (a few built in, plus those created), folders and dictionaries."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids = itertools.count(1000)
        self.voices: list[dict[str, object]] = [dict(voice) for voice in _VOICES]
        self.folders: list[dict[str, object]] = [{"folder_id": 1, "team_id": 1, "name": "Samples"}]
        self.dictionaries: dict[int, _Dictionary] = {}

    def routes(self) -> list[tuple[str, str, Handler]]:
        """``(method, path template, handler)`` of each catalog endpoint."""
        return [
            ("GET", "list-voices", lambda request, _: Answer(200, list(self.voices))),
            ("POST", "create-custom-voice", self.create_voice),
            ("GET", "source-languages", lambda request, _: Answer(200, LANGUAGES)),
            ("GET", "target-languages", lambda request, _: Answer(200, LANGUAGES)),
            ("GET", "folders", self.list_folders),
            ("POST", "folders/create", self.create_folder),
            ("GET", "dictionaries", lambda request, _: Answer(200, self._dictionaries())),
            ("POST", "dictionaries/create-from-file", self.create_dictionary),
            ("GET", "dictionaries/{id}", self.dictionary),
            ("GET", "dictionaries/{id}/full-details", self.dictionary),
            ("DELETE", "dictionaries/{id}", self.delete_dictionary),
            ("POST", "dictionaries/{id}/add-term", self.add_term),
            ("PUT", "dictionaries/term/{id}/{term_id}", self.update_term),
            ("DELETE", "dictionaries/term/{id}/{term_id}", self.delete_term),
        ]

    def create_voice(self, request: Request, _: Mapping[str, str]) -> Answer:
        fields = require(request.form, ("file", "voice_name", "gender"))
        if isinstance(fields, Answer):
            return fields
        refused = integers(fields, ("gender", "age", "language"))
        if refused is not None:
            return refused
        with self.lock:
            voice_id = next(self.ids)
            self.voices.append(
                {
                    "id": voice_id,
                    "voice_name": str(fields["voice_name"]),
                    "gender": integer(fields["gender"]),
                    "age": integer(fields.get("age")),
                    "language": integer(fields.get("language")),
                    "description": fields.get("description"),
                    "is_published": str(fields.get("publish_voice_to_market_place", "")).lower() == "true",
                }
            )
        return Answer(200, {"voice_id": voice_id})

    def list_folders(self, request: Request, _: Mapping[str, str]) -> Answer:
        refused = integers(request.query, ("limit",), "query")
        if refused is not None:
            return refused
        search = request.query.get("search_query", "").lower()
        with self.lock:
            found = [f for f in self.folders if search in str(f["name"]).lower()]
        limit = integer(request.query.get("limit"))
        return Answer(200, found[:limit] if limit is not None else found)

    def create_folder(self, request: Request, _: Mapping[str, str]) -> Answer:
        fields = require(request.json, ("folder_name",))
        if isinstance(fields, Answer):
            return fields
        with self.lock:
            folder_id = next(self.ids)
            self.folders.append({"folder_id": folder_id, "team_id": 1, "name": str(fields["folder_name"])})
        return Answer(200, {"folder_id": folder_id})

    def _dictionaries(self) -> list[dict[str, object]]:
        with self.lock:
            return [d.as_json() for d in self.dictionaries.values()]

    def create_dictionary(self, request: Request, _: Mapping[str, str]) -> Answer:
        fields = require(request.form, ("dictionary_file", "dictionary_name"))
        if isinstance(fields, Answer):
            return fields
        description = fields.get("dictionary_description")
        with self.lock:
            entry = _Dictionary(
                next(self.ids),
                str(fields["dictionary_name"]),
                None if description is None else str(description),
                _now(),
                _now(),
            )
            self.dictionaries[entry.id] = entry
        return Answer(200, {"dictionary_id": entry.id})

    def _find(self, params: Mapping[str, str]) -> _Dictionary | None:
        key = integer(params["id"])
        return None if key is None else self.dictionaries.get(key)

    def dictionary(self, request: Request, params: Mapping[str, str]) -> Answer:
        refused = integers(request.query, ("limit",), "query")
        if refused is not None:
            return refused
        with self.lock:
            entry = self._find(params)
            if entry is None:
                return not_found(f"dictionary {params['id']} not found")
            limit = integer(request.query.get("limit"))
            return Answer(200, entry.as_json(limit=limit, search=request.query.get("search_term", "")))

    def delete_dictionary(self, request: Request, params: Mapping[str, str]) -> Answer:
        with self.lock:
            entry = self._find(params)
            if entry is None:
                return not_found(f"dictionary {params['id']} not found")
            del self.dictionaries[entry.id]
        return Answer(200, {"message": f"Dictionary {entry.id} deleted"})

    def add_term(self, request: Request, params: Mapping[str, str]) -> Answer:
        return self._write_term(request, params, None)

    def update_term(self, request: Request, params: Mapping[str, str]) -> Answer:
        return self._write_term(request, params, params["term_id"])

    def _write_term(self, request: Request, params: Mapping[str, str], term: str | None) -> Answer:
        translations = _translations(request)
        if isinstance(translations, Answer):
            return translations
        with self.lock:
            entry = self._find(params)
            term_id = next(self.ids) if term is None else integer(term)
            if entry is None or term_id is None or (term is not None and term_id not in entry.terms):
                return not_found(f"dictionary {params['id']} or its term not found")
            entry.terms[term_id] = translations
            entry.last_edited_at = _now()
        return Answer(200, {"message": f"Term {term_id} {'added' if term is None else 'updated'}"})

    def delete_term(self, request: Request, params: Mapping[str, str]) -> Answer:
        with self.lock:
            entry = self._find(params)
            term_id = integer(params["term_id"])
            if entry is None or term_id not in entry.terms:
                return not_found(f"dictionary {params['id']} or its term not found")
            del entry.terms[term_id]
            entry.last_edited_at = _now()
        return Answer(200, {"message": f"Term {term_id} deleted"})


def _translations(request: Request) -> list[dict[str, object]] | Answer:
    """The ``translations`` of a term's body as the API stores them, or the 422 answer."""
    fields = require(request.json, ("translations",))
    if isinstance(fields, Answer):
        return fields
    items = as_list(fields["translations"])
    if items is None:
        return invalid((("body", "translations"), "Input should be a valid list", "list_type"))
    stored: list[dict[str, object]] = []
    for n, value in enumerate(items):
        item = as_dict(value)
        if item is None:
            return invalid((("body", "translations", n), "Input should be a valid dictionary", "dict_type"))
        missing = [k for k in ("translation", "language") if k not in item]
        if missing:
            return invalid(*((("body", "translations", n, k), "Field required", "missing") for k in missing))
        stored.append({"language": language_id(item["language"]), "term_text": str(item["translation"])})
    return stored
