"""Models of what the families' result endpoints answer, shared by more than one family.

Liberal in what they accept: unknown fields are kept (``model_extra``), and
only what a result cannot do without is required.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Result", "SubtitleFormatting", "TranscriptSegment"]


class Result(BaseModel):
    """Base of every result model: frozen, unknown fields kept."""

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="allow", frozen=True)


class TranscriptSegment(Result):
    """One stretch of speech: when (seconds), what was said, and by whom."""

    start: float
    end: float
    text: str
    speaker: str | None = None


class SubtitleFormatting(BaseModel):
    """How transcripts and subtitles are cut into segments."""

    model_config: ClassVar[ConfigDict] = ConfigDict(strict=True, extra="forbid", frozen=True)

    max_segment_duration_in_seconds: Annotated[float, Field(gt=0)] | None = None
    min_segment_duration_in_seconds: Annotated[float, Field(ge=0)] | None = None
    max_characters_in_segment: Annotated[int, Field(gt=0)] | None = None
    max_reading_speed_in_cps: Annotated[float, Field(gt=0)] | None = None
    min_gap_between_segments_in_frames: Annotated[int, Field(ge=0)] | None = None
