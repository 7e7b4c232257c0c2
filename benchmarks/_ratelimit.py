"""Watches under a request budget (``--scenario ratelimit``, table 7): which polls the budget
serves first when it cannot serve every watch's schedule.

Tasks are created at a steady pace (100 a second for 100 s by default), each finishing a
uniformly random 5-60 s after its create, and each is followed by its own ``wait()``
started when it was created, as an app would, on one client with
``max_requests_per_second=500``: the schedules ask for about three times what is left of
the budget after the creates. The client is measured against references that spend the
same budget on the same tasks in the same run:

* ``round-robin``: a hand-written poller over the unfinished tasks, oldest poll first, as
  fast as the budget allows (the creates go through the same client and budget);
* ``sdk-fifo``: the SDK's watches with the budget serving its waiting requests first come,
  first served, as it did before it served them by priority.

Everything runs in one process per variant, the simulator in process
(``Simulator.asgi_http_client()``), on a virtual clock that jumps ahead whenever every task
waits (trio's ``MockClock``, or looptime's event loop on asyncio): a run of about 170
seconds of traffic takes a few dozen seconds of CPU, the client's own CPU never delays it,
and a variant gives the same tasks (the simulator's seed) every time. Lag is the moment
the client saw a task's final status minus the moment it finished on the simulator, both
on that clock. The server's request log says how many requests it got in any one second.

The table goes into a generated section of its own in docs/benchmarks.md (:data:`SECTION`).
"""

from __future__ import annotations

import argparse
import collections
import gc
import importlib
import json
import pathlib
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from camb_async import AsyncCambClient
from camb_async._budget import RequestBudget
from camb_async.testing import Simulator, most_in_one_second

from ._clients import API_KEY

if TYPE_CHECKING:
    from camb_async._limiter import RequestLimiter
    from camb_async._types import Priority

SECTION = "ratelimit"
"""The name of this scenario's generated section of docs/benchmarks.md."""

VARIANTS = ("sdk", "sdk-learn", "sdk-fifo", "round-robin")
LABELS = {
    "sdk": "camb-async `wait()` per task: polls by priority",
    "sdk-learn": "camb-async `wait()` per task, `learn_durations=True`",
    "sdk-fifo": "camb-async `wait()` per task, budget first come first served (reference)",
    "round-robin": "hand-written round robin over the unfinished tasks (reference)",
}
REFERENCE = "round-robin"
P99_TOLERANCE = 1.2
"""The target: a p50 below the round robin's, with a p99 at most this many times its."""
RATE_SLACK = 1.05
"""The server may see at most this many times the budget in any one second."""
WORKERS = 8
"""Polls the round robin keeps waiting for the budget at once: enough to spend all of it."""

SMOKE = {"rl_tasks": 300, "rl_per_second": 30.0, "rl_rate": 60.0, "rl_durations": "5,20"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This scenario's options of ``python -m benchmarks``."""
    group = parser.add_argument_group("ratelimit")
    group.add_argument("--rl-variants", default=",".join(VARIANTS), help="what follows the tasks")
    group.add_argument("--rl-tasks", type=int, default=10_000, help="tasks created")
    group.add_argument("--rl-per-second", type=float, default=100.0, help="tasks created per second")
    group.add_argument("--rl-rate", type=float, default=500.0, help="max_requests_per_second")
    group.add_argument("--rl-durations", default="5,60", help="tasks finish within LOW,HIGH s")
    group.add_argument("--rl-backend", choices=["trio", "asyncio"], default="trio", help="virtual clock")
    group.add_argument("--rl-seed", type=int, default=2026, help="the simulator's seed")


@dataclass
class Run:
    """What one variant saw."""

    tasks: int
    seen: int
    lags: list[float]
    polls: int
    creates: int
    busiest_second: int
    virtual_s: float
    wall_s: float
    cpu_s: float

    def lag(self, q: float) -> float | None:
        if not self.lags:
            return None
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class FirstComeBudget(RequestBudget):
    """The request budget with every waiting request at the same priority: first come, first served."""

    async def take(self, priority: Priority | None = None, slots: RequestLimiter | None = None) -> None:
        await super().take(None, slots)


async def follow(
    variant: str, tasks: int, per_second: float, rate: float, low: float, high: float, seed: int
) -> Run:
    """Create ``tasks`` tasks, ``per_second`` a second, and follow each to its end on ``variant``."""
    sim = Simulator(clock=anyio.current_time, durations=(low, high), seed=seed)
    seen: dict[str, float] = {}
    unfinished: collections.deque[str] = collections.deque()
    cpu, wall = time.process_time(), time.perf_counter()
    async with (
        sim.asgi_http_client() as http,
        AsyncCambClient(
            API_KEY,
            base_url=sim.asgi_url,
            http_client=http,
            max_requests_per_second=rate,
            learn_durations=variant == "sdk-learn",
        ) as client,
    ):
        if variant == "sdk-fifo":
            client._requester._loop_state().budget = FirstComeBudget(rate)

        async def watched(task_id: str) -> None:
            await client.tts.wait(task_id)
            seen[task_id] = anyio.current_time()

        async def job() -> None:
            task_id = await client.tts.create(
                text="Hello from the benchmark.", voice_id=20303, language="en-us"
            )
            if variant == "round-robin":
                unfinished.append(task_id)
            else:
                await watched(task_id)

        async def round_robin() -> None:
            while len(seen) < tasks:
                if not unfinished:
                    await anyio.sleep(1 / rate)
                    continue
                task_id = unfinished.popleft()
                if (await client.tts.status(task_id)).is_terminal:
                    seen[task_id] = anyio.current_time()
                else:
                    unfinished.append(task_id)

        started = anyio.current_time()
        async with anyio.create_task_group() as group:
            if variant == "round-robin":
                for _ in range(WORKERS):
                    group.start_soon(round_robin)
            for n in range(tasks):
                await anyio.sleep_until(started + n / per_second)
                group.start_soon(job)
        ended = anyio.current_time()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    lags = [at - finished for task_id, at in seen.items() if (finished := sim.record(task_id).finished_at)]
    log = [record for record in sim.request_log if record.path.startswith("/apis/")]
    return Run(
        tasks=tasks,
        seen=len(seen),
        lags=lags,
        polls=sum(record.method == "GET" for record in log),
        creates=sum(record.method == "POST" for record in log),
        busiest_second=most_in_one_second([record.at for record in log]),
        virtual_s=ended - started,
        wall_s=wall,
        cpu_s=cpu,
    )


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def scenario_ratelimit(args: argparse.Namespace, workdir: pathlib.Path) -> str:
    """Run every variant, each in a process of its own; return the table."""
    runs: dict[str, Run] = {}
    for variant in _csv(args.rl_variants):
        print(f"ratelimit: {variant}", file=sys.stderr, flush=True)
        out = workdir / f"ratelimit-{variant}.json"
        command = [
            *(sys.executable, "-m", "benchmarks._ratelimit", "--variant", variant, "--out", str(out)),
            *("--tasks", str(args.rl_tasks), "--per-second", str(args.rl_per_second)),
            *("--rate", str(args.rl_rate), "--durations", args.rl_durations),
            *("--backend", args.rl_backend, "--seed", str(args.rl_seed)),
        ]
        subprocess.run(command, check=True, timeout=3600)
        runs[variant] = Run(**json.loads(out.read_text()))
    return table(runs, args)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def table(runs: dict[str, Run], args: argparse.Namespace) -> str:
    """One row per variant, then the target against the round robin, said to hold or not."""
    low, high = _csv(args.rl_durations)
    rate = args.rl_rate
    lines = [
        "### 7. Watches under a request budget",
        "",
        (
            f"{args.rl_tasks:,} tasks created {args.rl_per_second:g} a second, each finishing a uniformly "
            f"random {low}-{high} s after its create, followed under `max_requests_per_second={rate:g}` "
            "(creates included). camb-async follows each with its own `wait()` started when it was "
            "created; the references spend the same budget on the same tasks. In process, on "
            f"{args.rl_backend}'s virtual clock (the client's CPU takes no time on it); lag is the "
            "moment the client saw the final status minus the moment the task finished on the simulator. "
            "The busiest second is the most API requests the simulator got in any one second."
        ),
        "",
        (
            "| follower | tasks seen | lag p50 | lag p99 | lag max | status polls | polls per task "
            "| busiest second | run (virtual) | wall | CPU |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for variant, r in runs.items():
        lines.append(
            f"| {LABELS.get(variant, variant)} | {r.seen:,} of {r.tasks:,} | {_seconds(r.lag(0.5))} "
            f"| {_seconds(r.lag(0.99))} | {_seconds(r.lag(1.0))} | {r.polls:,} | {r.polls / r.tasks:.2f} "
            f"| {r.busiest_second:,} | {r.virtual_s:.0f} s | {r.wall_s:.0f} s | {r.cpu_s:.0f} s |"
        )
    reference = runs.get(REFERENCE)
    if reference is None:
        return "\n".join(lines)
    ref50, ref99 = reference.lag(0.5), reference.lag(0.99)
    lines += ["", "| target (against the round robin) | measured | holds |", "|---|---:|---|"]
    for variant in ("sdk", "sdk-learn"):
        if variant not in runs or ref50 is None or ref99 is None:
            continue
        run = runs[variant]
        p50, p99 = run.lag(0.5), run.lag(0.99)
        label = LABELS[variant]
        lines += [
            f"| {label}: every task seen | {run.seen:,} of {run.tasks:,} | {_holds(run.seen == run.tasks)} |",
            (
                f"| {label}: lag p50 below the round robin's ({ref50:.2f} s) | {_seconds(p50)} "
                f"| {_holds(p50 is not None and p50 < ref50)} |"
            ),
            (
                f"| {label}: lag p99 at most {P99_TOLERANCE}x the round robin's "
                f"({P99_TOLERANCE * ref99:.2f} s) | {_seconds(p99)} ({_ratio(p99, ref99)}) "
                f"| {_holds(p99 is not None and p99 <= P99_TOLERANCE * ref99)} |"
            ),
        ]
    for variant, r in runs.items():
        lines.append(
            f"| {LABELS.get(variant, variant)}: at most {rate:g} x {RATE_SLACK} requests in any one second "
            f"| {r.busiest_second:,} | {_holds(r.busiest_second <= rate * RATE_SLACK)} |"
        )
    return "\n".join(lines)


def _ratio(value: float | None, reference: float) -> str:
    return "-" if value is None or reference == 0 else f"{value / reference:.2f}x"


def _holds(met: bool) -> str:
    return "yes" if met else "**no**"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._ratelimit")
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True, help="where to write the JSON result")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--per-second", type=float, default=100.0)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--durations", default="5,60")
    parser.add_argument("--backend", choices=["trio", "asyncio"], default="trio")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    low, high = (float(x) for x in _csv(args.durations))
    options: dict[str, Any]
    if args.backend == "trio":
        from trio.testing import MockClock

        options = {"clock": MockClock(autojump_threshold=0)}
    else:
        # looptime installs on Python 3.11 and newer only; the benchmark runs on the newest.
        looptime: Any = importlib.import_module("looptime")
        options = {"loop_factory": looptime.new_event_loop}
    gc.collect()
    run = anyio.run(
        follow, args.variant, args.tasks, args.per_second, args.rate, low, high, args.seed,
        backend=args.backend, backend_options=options,
    )  # fmt: skip
    args.out.write_text(json.dumps(run.__dict__))


if __name__ == "__main__":
    main()
