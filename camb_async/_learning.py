"""Learning where a family's tasks finish, to poll there and skip the rest.

A client remembers, per task family, the last ``keep`` watches that saw a
task run and finish: when it was last seen running and when it was first
seen finished, counted from the watch's first poll. Once a family has
``least`` of them, a new watch of it follows a :class:`LearnedSchedule`
until its status first changes:

* it skips polls before ``skip_factor`` times the ``skip_quantile`` of the
  times the tasks were last seen running (a time by which almost every past
  task was still running);
* elsewhere it waits the usual wait, or less where past tasks were dense:
  just long enough for ``per_poll`` of the remembered tasks to have finished
  between two polls (``first_per_poll`` before the second poll, where the
  estimates are coarsest), but never less than the schedule's ``fast`` wait.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

    from ._polling import PollSchedule

__all__ = ["DurationModel", "LearnedSchedule"]


@dataclasses.dataclass(frozen=True)
class LearnedSchedule:
    """A :class:`~camb_async.PollSchedule` reshaped by past durations of one family."""

    base: PollSchedule
    skip: float
    """No poll before this many seconds (after the first poll)."""
    marks: tuple[float, ...]
    """Past durations (the middle of each known window), ascending."""
    step: int
    """How many marks may fall between two polls in the dense region."""
    first_step: int
    """How many marks may fall between the first poll and the second."""

    def wait_after(self, elapsed: float) -> float:
        """The wait, before jitter, after a poll made ``elapsed`` seconds after the first."""
        usual = self.base.wait_after(elapsed)
        wait = usual
        step = self.step if elapsed > 0.0 else self.first_step
        nth = bisect.bisect_right(self.marks, elapsed) + step - 1
        if nth < len(self.marks):
            wait = min(max(self.marks[nth] - elapsed, self.base.fast), usual)
        return max(wait, self.skip - elapsed)

    def jittered(self, delay: float, rng: random.Random | None = None) -> float:
        """``delay`` spread by the base schedule's jitter."""
        return self.base.jittered(delay, rng)


class DurationModel:
    """Recent durations of finished watches, per family, with bounded memory."""

    def __init__(
        self,
        *,
        keep: int = 64,
        least: int = 16,
        skip_quantile: float = 0.05,
        skip_factor: float = 0.75,
        per_poll: float = 1 / 8,
        first_per_poll: float = 1 / 4,
    ) -> None:
        if not least >= 1 or not keep >= least:
            raise ValueError(f"need keep >= least >= 1, got keep={keep!r}, least={least!r}")
        if not (
            0.0 <= skip_quantile < 1.0
            and 0.0 <= skip_factor <= 1.0
            and 0.0 < per_poll <= 1.0
            and 0.0 < first_per_poll <= 1.0
        ):
            raise ValueError(
                "need skip_quantile in [0, 1), skip_factor in [0, 1], per_poll and first_per_poll in (0, 1]"
            )
        self.keep = keep
        self.least = least
        self.skip_quantile = skip_quantile
        self.skip_factor = skip_factor
        self.per_poll = per_poll
        self.first_per_poll = first_per_poll
        self._seen: dict[str, collections.deque[tuple[float, float]]] = {}

    def record(self, family: str, running: float, finished: float) -> None:
        """Remember a task of ``family`` last seen running at ``running`` s and finished at ``finished`` s."""
        if not 0.0 <= running <= finished < math.inf:
            return
        window = self._seen.get(family)
        if window is None:
            window = self._seen[family] = collections.deque(maxlen=self.keep)
        window.append((running, finished))

    def samples(self, family: str) -> int:
        """How many finished watches of ``family`` are remembered."""
        window = self._seen.get(family)
        return 0 if window is None else len(window)

    def schedule(self, family: str, base: PollSchedule) -> LearnedSchedule | None:
        """The learned schedule for a new watch of ``family``, or ``None`` with too few samples."""
        window = self._seen.get(family)
        if window is None or len(window) < self.least:
            return None
        running = sorted(lo for lo, _ in window)
        skip = self.skip_factor * running[math.floor(self.skip_quantile * len(running))]
        marks = tuple(sorted((lo + hi) / 2 for lo, hi in window))
        step = max(1, round(self.per_poll * len(marks)))
        first_step = max(1, round(self.first_per_poll * len(marks)))
        return LearnedSchedule(base, skip, marks, step, first_step)
