"""What the families' calls accept, checked before any request is sent.

Bodies are pydantic models in strict mode: ``voice_id="20303"`` is refused,
not coerced. :func:`build` turns a failed validation into the errors the
project raises for bad input: ``TypeError`` when every problem is a wrong
type, else ``ValueError``, each naming the call and the fields.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Sequence
from typing import Annotated, Any, ClassVar, TypeVar

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .._languages import language_id, live_locale, stream_locale

__all__ = [
    "Body",
    "Id",
    "Language",
    "LanguageId",
    "LiveLocale",
    "ProjectFields",
    "StreamLocale",
    "Text",
    "build",
    "check_timeout",
    "named",
]

M = TypeVar("M", bound=BaseModel)

_TYPE_ERRORS = frozenset({"is_instance_of", "model_type", "sequence_str", "dataclass_type"})


def _non_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty or blank")
    return text


def _language(value: int | str) -> int | str:
    if isinstance(value, int):
        if value < 1:
            raise ValueError("a language id is a positive int")
        return value
    if not value or len(value) > 64 or any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("a language is an int id or a locale such as 'en-us'")
    return value


Text = Annotated[str, AfterValidator(_non_blank)]
"""A non-blank string."""
Id = Annotated[int, Field(ge=0)]
"""A numeric id of the API (voice, folder, dictionary, run)."""
Language = Annotated[int | str, AfterValidator(_language)]
"""A language: its int id (``1`` is en-us) or its locale string (``"en-us"``)."""
LanguageId = Annotated[int | str, AfterValidator(_language), AfterValidator(language_id)]
"""A language the API takes only as its int id: a locale is converted (unknown: ``ValueError``)."""
StreamLocale = Annotated[int | str, AfterValidator(_language), AfterValidator(stream_locale)]
"""A language tts-stream takes as a locale: an int id is converted, UK English is ``en-uk``
(unknown id: ``ValueError``)."""
LiveLocale = Annotated[int | str, AfterValidator(_language), AfterValidator(live_locale)]
"""A language of a live (WebSocket) endpoint: a locale as given, an int id as its locale
(``en-gb`` for 35; unknown id: ``ValueError``)."""


class Body(BaseModel):
    """A request body: strict types, no unknown fields, unset fields left out when sent."""

    model_config: ClassVar[ConfigDict] = ConfigDict(
        strict=True, extra="forbid", frozen=True, arbitrary_types_allowed=True
    )


class ProjectFields(Body):
    """The optional fields most creates take to file the task in CAMB.AI Studio."""

    project_name: str | None = None
    project_description: str | None = None
    folder_id: Id | None = None


IdList = Sequence[Id]


def build(model: type[M], call: str, **fields: Any) -> M:
    """``model(**fields)``, with a failed validation raised as ``TypeError``/``ValueError``."""
    try:
        return model(**fields)
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False)
        problems = "; ".join(_problem(err) for err in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        wrong_type = all(_is_type_error(err["type"]) for err in errors)
        cls = TypeError if wrong_type else ValueError
        raise cls(f"{call}: {problems}{more}") from None


def _is_type_error(kind: str) -> bool:
    return kind.endswith("_type") or kind in _TYPE_ERRORS


def _is_union_branch(part: str) -> bool:
    """A location step that names a union member or a validator, not a field."""
    return part in ("int", "str") or part.startswith(("function-after[", "union["))


def _problem(err: Any) -> str:
    # A union reports one error per member (``language.int``, ``language.str``): name the field once.
    loc = [str(part) for part in err["loc"] if not (isinstance(part, str) and _is_union_branch(part))]
    where = ".".join(loc) or "body"
    if err["type"] == "missing":
        return f"{where} is required"
    if err["type"] == "extra_forbidden":
        return f"{where} is not a field of this call"
    shown = repr(err.get("input"))
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {message} (got {shown})"


@contextlib.contextmanager
def named(call: str) -> Generator[None, None, None]:
    """Raise a ``TypeError``/``ValueError`` of the block with ``call`` named in front,
    as ``build`` names it (checks of path parts, made outside a body model)."""
    try:
        yield
    except (TypeError, ValueError) as exc:
        if str(exc).startswith(call):
            raise
        raise type(exc)(f"{call}: {exc}") from None


def check_timeout(value: object, name: str) -> float | None:
    """A deadline in seconds (> 0), or ``None`` for none."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a number of seconds > 0 or None, got {value!r}")
    return float(value)
