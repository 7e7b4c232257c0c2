"""The base of every event a live session yields, and how a server's message becomes one.

Each protocol module declares its events as small subclasses of :class:`LiveEvent`
whose fields are named as the wire's, and maps wire types to them; :func:`decode_event`
turns one text frame into the typed event, or into a plain :class:`LiveEvent` for a
type this SDK does not know (never an error: the protocols are in beta and grow).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar, TypeAlias

import pydantic
from pydantic import ConfigDict, Field, JsonValue

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["JsonObject", "LiveEvent", "MalformedMessage", "decode_event", "json_object"]

JsonObject: TypeAlias = dict[str, JsonValue]
"""A JSON object as the server sent it."""


class LiveEvent(pydantic.BaseModel):
    """An event of a live session: ``type`` is its wire type, ``raw`` its payload as
    received (the JSON object, or a binary frame's bytes).

    The typed events (``LiveTTSAudio``, ``SegmentStarted``...) are its subclasses; an
    event of a type this SDK does not know comes as a plain ``LiveEvent``, so that a
    server that learns new messages never breaks a session.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True, extra="ignore")

    type: str
    raw: JsonObject | bytes = Field(repr=False)


class MalformedMessage(ValueError):
    """A server message this SDK cannot read: not JSON, not an object with a string
    ``type``, or a known type whose fields are not what the protocol documents.

    The socket layer turns it into a ``LiveSessionError`` (the text names the type, never the payload).
    """


def json_object(text: str) -> JsonObject:
    """A text frame's JSON object.

    Raises:
        MalformedMessage: The frame is not a JSON object with a string ``type``.
    """
    try:
        payload: JsonValue = json.loads(text)
    except (ValueError, RecursionError):
        raise MalformedMessage("a text frame that is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise MalformedMessage("a JSON message without a string 'type'")
    return payload


def decode_event(payload: JsonObject, kinds: Mapping[str, type[LiveEvent]]) -> LiveEvent:
    """``payload`` (a server message with a string ``type``) as the event class ``kinds``
    maps its type to, else as a plain :class:`LiveEvent`.

    Raises:
        MalformedMessage: A known type whose fields do not validate.
    """
    kind = str(payload["type"])
    cls = kinds.get(kind, LiveEvent)
    try:
        return cls.model_validate({**payload, "type": kind, "raw": payload})
    except pydantic.ValidationError as exc:
        fields = ", ".join(sorted({".".join(map(str, error["loc"])) for error in exc.errors()}))
        raise MalformedMessage(f"a {kind!r} message with unreadable fields ({fields})") from None
