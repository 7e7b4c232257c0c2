"""Sentinels and type aliases shared by the public signatures."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Final, Literal, TypeAlias

if TYPE_CHECKING:
    import httpx

__all__ = ["NOT_GIVEN", "NotGiven", "TimeoutTypes"]


class NotGiven(enum.Enum):
    """Marks an argument that was not passed: "use the client's default".

    It differs from ``None``, which means "no limit" wherever a duration is asked.
    """

    NOT_GIVEN = enum.auto()

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


NOT_GIVEN: Final = NotGiven.NOT_GIVEN

TimeoutTypes: TypeAlias = "float | httpx.Timeout | None"
"""A request timeout: seconds for every phase, an ``httpx.Timeout``, or ``None`` for none."""
