"""Sentinels and type aliases shared by the public signatures."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Final, Literal, TypeAlias

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

__all__ = ["NOT_GIVEN", "NotGiven", "Priority", "TimeoutTypes"]


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

Priority: TypeAlias = "Callable[[float], float]"
"""A request's priority for the client's request budget at a moment of the event loop's
clock (higher goes first): a poll's, from its watch (``Follow.priority``), handed down
with the request; ``None`` where a priority is taken means the highest."""

TimeoutTypes: TypeAlias = "float | httpx.Timeout | None"
"""A request timeout: seconds for every phase, an ``httpx.Timeout``, or ``None`` for none."""
