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
from camb_async._learning import DurationModel

if TYPE_CHECKING:
    from collections.abc import Sequence

    from camb_async._polling import Curve

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
    """A :class:`PollSchedule` (or learned schedule), driven as ``watch()`` drives it for a status
    that never changes."""

    schedule: Curve

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


def watch_one(policy: Schedule, finish: float, rng: random.Random) -> tuple[int, float, float]:
    """Poll along ``policy`` until ``finish``: (requests, time of the poll that saw the end,
    time of the last poll that saw the task running)."""
    elapsed, running, polls = 0.0, 0.0, 1  # the first poll, at 0
    while elapsed < finish:
        running = elapsed
        elapsed += policy.next_wait(polls, elapsed, rng)
        polls += 1
    return polls, elapsed, running


def summarise(requests: int, lags: list[float]) -> Outcome:
    """Mean requests per task and lag quantiles."""
    lags.sort()
    return Outcome(requests / len(lags), quantile(lags, 0.5), quantile(lags, 0.99), lags[-1])


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
        polls, seen, _ = watch_one(policy, finish, jitter)
        total += polls
        lags.append(seen - finish)
    return summarise(total, lags)


WARMUP = 1_000


def simulate_learning(
    base: PollSchedule,
    population: Population,
    *,
    learn_on: Population | None = None,
    burst: bool = False,
    tasks: int = TASKS,
    seed: int = SEED,
) -> Outcome:
    """Two waves on one client's :class:`DurationModel`: ``WARMUP`` tasks of ``learn_on`` (default:
    ``population``) teach it, then ``tasks`` tasks of ``population`` are measured.

    Each watch asks the model for its schedule when it starts and tells it the result when it
    ends, as ``watch()`` does. With ``burst``, the second wave starts at once: every watch of it
    gets the schedule learned from the first wave, and none of its results comes in time to help.
    """
    model = DurationModel()
    family = "tts"
    learn_on = learn_on or population

    def policy() -> Schedule:
        return Real(model.schedule(family, base) or base)

    durations = random.Random(f"{seed}/{population.name}")
    jitter = random.Random(f"{seed}/{population.name}/jitter")
    warmup = random.Random(f"{seed}/{learn_on.name}/warmup")
    for _ in range(WARMUP):
        _, seen, running = watch_one(policy(), warmup.uniform(learn_on.low, learn_on.high), jitter)
        model.record(family, running, seen)
    frozen = policy()
    total = 0
    lags: list[float] = []
    for _ in range(tasks):
        finish = durations.uniform(population.low, population.high)
        polls, seen, running = watch_one(frozen if burst else policy(), finish, jitter)
        if not burst:
            model.record(family, running, seen)
        total += polls
        lags.append(seen - finish)
    return summarise(total, lags)


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


CONCENTRATED = Population("8-12 s", 8.0, 12.0)
LEARNED = (SHORT, MEDIUM, LONG, SUBSECOND, CONCENTRATED)


def learning_table(tasks: int = TASKS, seed: int = SEED) -> str:
    """Markdown: the default schedule against the same after learning, per population."""
    base = PollSchedule()
    parts = [
        "| tasks | default: requests | lag p50 | lag p99 | learned: requests | lag p50 | lag p99 |\n",
        "|---|---:|---:|---:|---:|---:|---:|\n",
    ]

    def line(label: str, plain: Outcome, learned: Outcome) -> None:
        parts.append(
            f"| {label} | {plain.requests:.1f} | {plain.lag_p50:.2f} s | {plain.lag_p99:.2f} s"
            f" | {learned.requests:.1f} | {learned.lag_p50:.2f} s | {learned.lag_p99:.2f} s |\n"
        )

    for population in LEARNED:
        plain = simulate(base, population, tasks=tasks, seed=seed)
        line(population.name, plain, simulate_learning(base, population, tasks=tasks, seed=seed))
    shift = Population("20-40 s", 20.0, 40.0)
    plain = simulate(base, SHORT, tasks=tasks, seed=seed)
    for burst in (False, True):
        learned = simulate_learning(base, SHORT, learn_on=shift, burst=burst, tasks=tasks, seed=seed)
        label = f"{SHORT.name} after {shift.name}" + (", all at once" if burst else ", one by one")
        line(label, plain, learned)
    return "".join(parts) + "\n"


BEGIN = "<!-- table: begin (written by benchmarks/schedule_curve.py) -->\n"
END = "<!-- table: end -->\n"
LEARNING_BEGIN = "<!-- learning: begin (written by benchmarks/schedule_curve.py) -->\n"
LEARNING_END = "<!-- learning: end -->\n"


def splice(doc: str, begin: str, end: str, text: str) -> str:
    """``doc`` with ``text`` between the markers ``begin`` and ``end``."""
    start, stop = doc.index(begin) + len(begin), doc.index(end)
    return doc[:start] + text + doc[stop:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Simulate poll schedules: requests per task and lag.")
    parser.add_argument("--check", action="store_true", help="fail if docs/schedule-curve.md is stale")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    text, learning = table(), learning_table()
    print(text + learning, end="")
    doc = DOC.read_text(encoding="utf-8")
    fresh = splice(splice(doc, BEGIN, END, text), LEARNING_BEGIN, LEARNING_END, learning)
    if args.check:
        if fresh != doc:
            print(f"{DOC} is stale: run python benchmarks/schedule_curve.py", file=sys.stderr)
            return 1
    elif not args.no_write and fresh != doc:
        DOC.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
