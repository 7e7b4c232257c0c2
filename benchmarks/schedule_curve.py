"""The request economy of poll schedules: requests per task against detection lag.

A deterministic offline simulation (seeded, pure Python, no network, a few
seconds): each simulated task finishes at a random time after its watch
starts, and the watch polls along a schedule until a poll comes at or after
that time. The *lag* is that poll's time minus the finishing time (network
latency is left out: a request takes no time); the *requests* count every
poll, the first one and the one that sees the end included.

The schedules are driven through the real :class:`camb_async.PollSchedule`
(``wait_after`` and ``jittered``), the very calls ``watch()`` makes, so the
curve cannot drift from the code. Only the count-based schedule of
camb-async 0.1 (the old default) is a reference copy here, since the class
no longer has its shape.

Run ``python benchmarks/schedule_curve.py`` to print the table and rewrite
docs/schedule-curve.md; ``--check`` only compares with that file.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from camb_async import PollSchedule

if TYPE_CHECKING:
    from collections.abc import Sequence

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "schedule-curve.md"
SEED = 20261125
TASKS = 10_000


@dataclasses.dataclass(frozen=True)
class Population:
    """Tasks whose finishing times, counted from the start of their watch, are uniform in [low, high]."""

    name: str
    low: float
    high: float


SUBSECOND = Population("0.2-1 s", 0.2, 1.0)
SHORT = Population("1-3 s", 1.0, 3.0)
MEDIUM = Population("5-60 s", 5.0, 60.0)
LONG = Population("60-600 s", 60.0, 600.0)
POPULATIONS = (SHORT, MEDIUM, LONG, SUBSECOND)


class Schedule(Protocol):
    """What the simulation asks of a schedule: the jittered wait after each poll."""

    def next_wait(self, polls: int, elapsed: float, rng: random.Random) -> float:
        """The wait after the ``polls``-th poll, made ``elapsed`` s after the first."""
        ...


@dataclasses.dataclass(frozen=True)
class Real:
    """A :class:`PollSchedule`, driven exactly as ``watch()`` drives it for a status that never changes."""

    schedule: PollSchedule

    def next_wait(self, polls: int, elapsed: float, rng: random.Random) -> float:
        return self.schedule.jittered(self.schedule.wait_after(elapsed), rng)


@dataclasses.dataclass(frozen=True)
class CountBased:
    """Reference copy of camb-async 0.1's default: ``initial`` growing by ``factor`` per poll to ``maximum``."""

    initial: float = 0.5
    factor: float = 1.25
    maximum: float = 3.0
    jitter: float = 0.1

    def next_wait(self, polls: int, elapsed: float, rng: random.Random) -> float:
        delay = min(self.initial * self.factor ** (polls - 1), self.maximum)
        return delay * (1.0 + self.jitter * (2.0 * rng.random() - 1.0))


def fixed(interval: float) -> PollSchedule:
    """A schedule that waits exactly ``interval`` seconds every time."""
    return PollSchedule(
        initial=interval, fast=interval, steady=interval, growth=0.0, maximum=interval, jitter=0.0
    )


@dataclasses.dataclass(frozen=True)
class Outcome:
    """Requests per task (mean) and detection lag (p50, p99, max) over one population."""

    requests: float
    lag_p50: float
    lag_p99: float
    lag_max: float


def quantile(ordered: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` quantile of an ascending sequence."""
    rank = max(1, min(len(ordered), round(q * len(ordered) + 0.5)))
    return ordered[rank - 1]


def simulate(
    schedule: Schedule | PollSchedule, population: Population, *, tasks: int = TASKS, seed: int = SEED
) -> Outcome:
    """Watch ``tasks`` tasks of ``population`` along ``schedule``; return requests and lag.

    Finishing times come from ``seed`` alone, so every schedule meets the same tasks.
    """
    policy = Real(schedule) if isinstance(schedule, PollSchedule) else schedule
    durations = random.Random(f"{seed}/{population.name}")
    jitter = random.Random(f"{seed}/{population.name}/jitter")
    total = 0
    lags: list[float] = []
    for _ in range(tasks):
        finish = durations.uniform(population.low, population.high)
        elapsed, polls = 0.0, 1  # the first poll, at 0
        while elapsed < finish:
            elapsed += policy.next_wait(polls, elapsed, jitter)
            polls += 1
        total += polls
        lags.append(elapsed - finish)
    lags.sort()
    return Outcome(total / tasks, quantile(lags, 0.5), quantile(lags, 0.99), lags[-1])


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the table: a labelled schedule."""

    label: str
    settings: str
    schedule: Schedule | PollSchedule


def rows() -> list[Row]:
    """The schedules of the published curve: the new default, variants, the old default, fixed intervals."""
    default = PollSchedule()
    out = [
        Row("**default**", "`PollSchedule()`", default),
        Row("no jitter", "`jitter=0`", dataclasses.replace(default, jitter=0.0)),
        Row("±10 % jitter", "`jitter=0.1`", dataclasses.replace(default, jitter=0.1)),
        *(
            Row(f"steady {steady:g} s", f"`steady={steady:g}`", dataclasses.replace(default, steady=steady))
            for steady in (2.0, 2.5, 2.75, 3.25, 3.5)
        ),
        Row("fast 0.4 s", "`fast=0.4`", dataclasses.replace(default, fast=0.4)),
        Row("first wait 1 s", "`initial=1.0`", dataclasses.replace(default, initial=1.0)),
        Row("first wait 0.5 s", "`initial=0.5`", dataclasses.replace(default, initial=0.5)),
        Row("no growth", "`growth=0`", dataclasses.replace(default, growth=0.0)),
        Row("interval=1", "`with_interval(1.0)`", default.with_interval(1.0)),
        Row("old default (0.1)", "0.5 s x1.25 per poll to 3 s, ±10 %", CountBased()),
    ]
    out += [Row(f"fixed {interval:g} s", "no jitter", fixed(interval)) for interval in (1.0, 2.0, 3.0, 5.0)]
    return out


def table(tasks: int = TASKS, seed: int = SEED) -> str:
    """Markdown: one table per population, one line per schedule."""
    schedules = rows()
    parts: list[str] = []
    for population in POPULATIONS:
        parts.append(f"### Tasks of {population.name}\n\n")
        parts.append("| schedule | settings | requests per task | lag p50 | lag p99 | lag max |\n")
        parts.append("|---|---|---:|---:|---:|---:|\n")
        for row in schedules:
            outcome = simulate(row.schedule, population, tasks=tasks, seed=seed)
            parts.append(
                f"| {row.label} | {row.settings} | {outcome.requests:.1f} | {outcome.lag_p50:.2f} s"
                f" | {outcome.lag_p99:.2f} s | {outcome.lag_max:.2f} s |\n"
            )
        parts.append("\n")
    return "".join(parts)


BEGIN = "<!-- table: begin (written by benchmarks/schedule_curve.py) -->\n"
END = "<!-- table: end -->\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Simulate poll schedules: requests per task and lag.")
    parser.add_argument("--check", action="store_true", help="fail if docs/schedule-curve.md is stale")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    text = table()
    print(text, end="")
    doc = DOC.read_text(encoding="utf-8")
    start, stop = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    fresh = doc[:start] + text + doc[stop:]
    if args.check:
        if fresh != doc:
            print(f"{DOC} is stale: run python benchmarks/schedule_curve.py", file=sys.stderr)
            return 1
    elif not args.no_write and fresh != doc:
        DOC.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
