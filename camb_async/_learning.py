"""Learning where a family's tasks finish, to poll there and skip the rest.

A client remembers, per task family, the last ``keep`` watches that saw a
task run and finish: when the last answer that saw it running came and when
the first that saw it finished came, counted from the watch's first poll.
Once a family has
``least`` of them, a new watch of it follows a :class:`LearnedSchedule`
until its status first changes:

* it skips polls before ``skip_factor`` times the ``skip_quantile`` of the
  times the tasks were last seen running (a time by which almost every past
  task was still running);
* elsewhere it waits the usual wait, or less where past tasks were dense:
  just long enough for ``per_poll`` of the remembered tasks to have finished
  between two polls (``first_per_poll`` before the second poll, where the
  estimates are coarsest), but never less than the schedule's ``fast`` wait.

The same record, over a longer memory (the last ``REMEMBER`` watches), gives
each family a :class:`Survival` curve: which share of its tasks still run at
each age. The request budget ranks waiting polls by it (:func:`poll_priority`),
whether or not schedules are learned.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import itertools
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

    from ._polling import PollSchedule

__all__ = ["REMEMBER", "DurationModel", "LearnedSchedule", "Survival", "poll_priority"]

FLOOR = 60.0
"""Every running task is taken to finish at least once in this many seconds (a hazard of
``1 / FLOOR``), whatever its family's durations say: a task of a family with no known
durations, or at an age where none of them ended, still gains priority as it waits."""
REMEMBER = 1024
"""How many finished watches per family a survival curve is drawn from: enough that the
rate at which tasks end, read between neighbouring ends, is not mostly noise."""
_TAIL = 0.01
"""The youngest age, in seconds, a survival curve's tail is drawn from (past ends at 0 s)."""


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
        self._survival: dict[str, Survival] = {}  # built on demand
        self._fresh: dict[str, int] = {}  # records since each curve was built

    def record(self, family: str, running: float, finished: float) -> None:
        """Remember a task of ``family`` last seen running at ``running`` s and finished at ``finished`` s."""
        if not 0.0 <= running <= finished < math.inf:
            return
        window = self._seen.get(family)
        if window is None:
            window = self._seen[family] = collections.deque(maxlen=max(REMEMBER, self.keep))
        window.append((running, finished))
        self._fresh[family] = self._fresh.get(family, 0) + 1

    def samples(self, family: str) -> int:
        """How many finished watches of ``family`` the learned schedule reads (at most ``keep``)."""
        window = self._seen.get(family)
        return 0 if window is None else min(len(window), self.keep)

    def schedule(self, family: str, base: PollSchedule) -> LearnedSchedule | None:
        """The learned schedule for a new watch of ``family``, or ``None`` with too few samples."""
        window = self._seen.get(family)
        if window is None or len(window) < self.least:
            return None
        recent = list(itertools.islice(window, max(0, len(window) - self.keep), None))
        running = sorted(lo for lo, _ in recent)
        skip = self.skip_factor * running[math.floor(self.skip_quantile * len(running))]
        marks = tuple(sorted((lo + hi) / 2 for lo, hi in recent))
        step = max(1, round(self.per_poll * len(marks)))
        first_step = max(1, round(self.first_per_poll * len(marks)))
        return LearnedSchedule(base, skip, marks, step, first_step)

    def survival(self, family: str) -> Survival | None:
        """The survival curve of ``family``'s last ``REMEMBER`` finished watches, or ``None``
        with fewer than ``least``. Redrawn once a 32nd of them are new: each poll waiting
        for the budget asks for it."""
        window = self._seen.get(family)
        if window is None or len(window) < self.least:
            return None
        curve = self._survival.get(family)
        if curve is None or 32 * self._fresh[family] >= len(window):
            curve = self._survival[family] = Survival([(lo + hi) / 2 for lo, hi in window])
            self._fresh[family] = 0
        return curve


class Survival:
    """Which share of a family's tasks still run at each age (seconds since the watch began).

    Through the past durations ``ends`` (the middle of each known window), sorted: the share
    falls from 1 at age 0 to ``(n - k - 1/2) / n`` at the k-th end (counting from 0), in a
    straight line between them; past the last end it falls as ``1 / age`` (a heavy tail: a
    task older than every past one is overdue, not surely done). It never reaches 0.
    """

    __slots__ = ("_ages", "_shares")

    def __init__(self, ends: list[float]) -> None:
        ends = sorted(ends)
        count = len(ends)
        self._ages = [0.0, *ends]
        self._shares = [1.0, *((count - k - 0.5) / count for k in range(count))]

    def share(self, age: float) -> float:
        """The share of tasks still running at ``age``."""
        ages, shares = self._ages, self._shares
        if age <= 0.0:
            return 1.0
        if age >= ages[-1]:
            return shares[-1] * min(1.0, max(ages[-1], _TAIL) / age)
        at = bisect.bisect_right(ages, age)  # ages[at - 1] <= age < ages[at]
        low, high = ages[at - 1], ages[at]
        return shares[at - 1] + (shares[at] - shares[at - 1]) * (age - low) / (high - low)

    def hazard(self, since: float, until: float) -> float:
        """The cumulative hazard from age ``since`` to ``until``: ``-ln`` of the chance that a
        task running at ``since`` still runs at ``until``."""
        return math.log(self.share(since) / self.share(until))


def poll_priority(survival: Survival | None, seen: float, moment: float) -> float:
    """How much a poll of a task last seen running at age ``seen`` (seconds since its watch
    began) is wanted at age ``moment``: ``waited * hazard``, the time since the task was seen
    running times the cumulative hazard over that time (from ``survival``, plus ``1 / FLOOR``
    a second).

    Serving the highest first polls a task about ``1 / sqrt(h)`` seconds apart where tasks of
    its age end at a rate ``h`` (``waited * h * waited`` is then the same for all): more often
    where tasks end, yet less lopsided than serving the likeliest to have finished first,
    which polls ``1 / h`` apart and leaves the slow-ending ages far behind. The square-root
    law is the spacing that minimises the mean lag for a given number of polls. Without
    ``survival`` the order is by ``waited`` alone: round robin. Either way it grows without
    bound as the poll waits.
    """
    waited = moment - seen
    hazard = waited / FLOOR
    if survival is not None:
        hazard += survival.hazard(seen, moment)
    return waited * hazard
