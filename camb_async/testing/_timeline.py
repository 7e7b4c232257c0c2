"""A simulated task's or stream's timeline: its statuses as ``(status, seconds after creation)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["status_at"]


def status_at(timeline: Sequence[tuple[str, float]], elapsed: float) -> str:
    """The status ``timeline`` is in ``elapsed`` seconds after creation (its first one before that)."""
    current = timeline[0][0]
    for status, at in timeline:
        if at > elapsed:
            break
        current = status
    return current
