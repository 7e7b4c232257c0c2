"""A fleet of worker processes on one API key (``--scenario fleet``, table 9): one budget
shared through Redis against the two ways of doing without.

Eight processes follow tasks on one simulator that holds the key's rate limit, R requests
in any one second (beyond it: a 429 with ``Retry-After``), with three setups side by side in
one run:

* ``shared``: each process ``max_requests_per_second=R, shared_budget=<redis-server>``;
* ``split``: each process ``max_requests_per_second=R/8``, the split by hand;
* ``overrun``: each process ``max_requests_per_second=R``, eight times the key's limit.

The load is uneven, as a queue's often is: the first two processes get half the tasks,
the other six share the rest. Every process builds its client and makes one request (its
connections made, its modules imported), then waits for its tasks,
which are added to the simulator at one moment for all; each task finishes a uniformly
random LOW-HIGH s after it, and each process follows each of its own with a ``wait()``.
Lag is the moment a process saw a task's final status minus the moment it finished (one
``time.monotonic()`` clock for every process of the machine and the simulator). The
busiest second counts every request that reached the simulator, the 429s too. Redis runs
as Debian's ``redis-server``, started here.
"""

from __future__ import annotations

import json
import pathlib
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from camb_async import AsyncCambClient
from camb_async.testing import Simulator, most_in_one_second

from . import _redis
from ._clients import API_KEY
from ._redis import RedisServer

if TYPE_CHECKING:
    import argparse

SECTION = "fleet"
"""The name of this scenario's generated section of docs/benchmarks.md."""

SETUPS = ("shared", "split", "overrun")
LABELS = {
    "shared": "`max_requests_per_second=R, shared_budget=` Redis",
    "split": "`max_requests_per_second=R/8` each (split by hand)",
    "overrun": "`max_requests_per_second=R` each (overrun)",
}
PROCESSES = 8
SMOKE = {"fleet_tasks": 320, "fleet_rate": 40.0, "fleet_durations": "1,4", "fleet_turns": 2000}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This scenario's options of ``python -m benchmarks``."""
    group = parser.add_argument_group("fleet")
    group.add_argument("--fleet-setups", default=",".join(SETUPS), help="the setups compared")
    group.add_argument("--fleet-tasks", type=int, default=4000, help="tasks over the 8 processes")
    group.add_argument("--fleet-rate", type=float, default=100.0, help="the key's rate limit R")
    group.add_argument("--fleet-durations", default="5,30", help="tasks finish within LOW,HIGH s")
    group.add_argument("--fleet-seed", type=int, default=2026, help="seed of the task durations")
    group.add_argument("--fleet-turns", type=int, default=20_000, help="turns timed one after the other")


@dataclass
class Run:
    """What one setup saw, over its eight processes."""

    tasks: int
    seen: int
    errors: int
    lags: list[float]
    requests: int
    refused: int
    busiest_second: int
    redis_calls: int
    wall_s: float

    def lag(self, q: float) -> float | None:
        if not self.lags:
            return None
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _loads(tasks: int) -> list[int]:
    """Tasks per process: half to the first two, the rest spread over the other six."""
    busy = tasks // 4
    rest = tasks - 2 * busy
    return [busy, busy, *(rest // 6 + (1 if i < rest % 6 else 0) for i in range(6))]


def run_setup(setup: str, args: argparse.Namespace, workdir: pathlib.Path, redis_url: str) -> Run:
    """Run the eight processes of ``setup`` against a fresh simulator; gather what they saw."""
    rate = args.fleet_rate
    low, high = (float(x) for x in args.fleet_durations.split(","))
    draw = random.Random(args.fleet_seed)
    loads = _loads(args.fleet_tasks)
    per_process = rate / PROCESSES if setup == "split" else rate
    with Simulator(rate_limit=rate) as sim:
        warm_up = sim.add_task([("SUCCESS", 0.0)])
        processes: list[subprocess.Popen[bytes]] = []
        for index in range(PROCESSES):
            config = {
                "url": sim.url,
                "rate": per_process,
                "redis": redis_url if setup == "shared" else None,
                "warm_up": warm_up,
                "tasks": str(workdir / f"{setup}-tasks-{index}.json"),
                "ready": str(workdir / f"{setup}-ready-{index}"),
            }
            (workdir / f"{setup}-config-{index}.json").write_text(json.dumps(config))
            command = [
                sys.executable,
                "-m",
                "benchmarks._fleet",
                str(workdir / f"{setup}-config-{index}.json"),
            ]
            processes.append(subprocess.Popen([*command, str(workdir / f"{setup}-out-{index}.json")]))
        deadline = time.monotonic() + 60
        while not all((workdir / f"{setup}-ready-{index}").exists() for index in range(PROCESSES)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"fleet {setup}: the processes did not start")
            time.sleep(0.05)
        started = time.monotonic()
        for index, load in enumerate(loads):
            timelines = [[("PENDING", 0.0), ("SUCCESS", draw.uniform(low, high))] for _ in range(load)]
            tasks = sim.add_tasks(timelines)
            written = workdir / f"{setup}-tasks-{index}.part"
            written.write_text(json.dumps(tasks))
            written.replace(workdir / f"{setup}-tasks-{index}.json")  # whole, at once
        for process in processes:
            process.wait(3600)
        wall = time.monotonic() - started
        outs = [json.loads((workdir / f"{setup}-out-{i}.json").read_text()) for i in range(PROCESSES)]
        lags: list[float] = []
        errors = 0
        for out in outs:
            errors += out["errors"]
            for task, seen in out["seen"].items():
                finished = sim.record(task).finished_at
                assert finished is not None
                lags.append(seen - finished)
        log = [r for r in sim.request_log if r.path.startswith("/apis/") and not r.path.endswith(warm_up)]
    return Run(
        tasks=sum(loads),
        seen=len(lags),
        errors=errors,
        lags=lags,
        requests=len(log),
        refused=sum(record.fault == "rate_limited" for record in log),
        busiest_second=most_in_one_second(record.at for record in log),
        redis_calls=sum(out["redis_calls"] for out in outs),
        wall_s=wall,
    )


@dataclass
class TurnCost:
    """What one turn costs: the round trip a client waits, and Redis's own time per turn."""

    turns: int
    round_trip_p50_us: float
    round_trip_p99_us: float
    redis_us_per_turn: float


async def turn_cost(redis_url: str, turns: int) -> TurnCost:
    """Reserve ``turns`` turns one after the other on one client, with a budget so high that
    none waits; read Redis's time per script call from ``INFO commandstats``."""
    from redis.asyncio import Redis

    from camb_async._budget import RequestBudget
    from camb_async._shared_budget import SharedBudget

    async with Redis.from_url(redis_url) as client:  # pyright: ignore[reportUnknownMemberType]
        redis: Any = client  # redis-py types its asyncio commands as `Awaitable[T] | T`
        await redis.config_resetstat()
        shared = SharedBudget.open(redis_url, "a key of the benchmark's own", RequestBudget(1e9))
        trips: list[float] = []
        for _ in range(turns):
            began = time.perf_counter()
            await shared.turn()
            trips.append(1e6 * (time.perf_counter() - began))
        await shared.aclose()
        stats: dict[str, Any] = await redis.info("commandstats")
    script: dict[str, Any] = stats.get("cmdstat_evalsha") or stats.get("cmdstat_eval") or {}
    trips.sort()
    return TurnCost(
        turns=turns,
        round_trip_p50_us=trips[len(trips) // 2],
        round_trip_p99_us=trips[min(len(trips) - 1, round(0.99 * (len(trips) - 1)))],
        redis_us_per_turn=float(script.get("usec_per_call", 0.0)),
    )


def scenario_fleet(args: argparse.Namespace, workdir: pathlib.Path) -> str:
    """Run every setup, one after the other; return the table."""
    runs: dict[str, Run] = {}
    if _redis.program() is None:
        print("fleet: skipped, no redis-server (apt-get install redis-server)", file=sys.stderr)
        return ""
    with RedisServer(workdir) as redis:
        for setup in [part.strip() for part in args.fleet_setups.split(",") if part.strip()]:
            print(f"fleet: {setup}", file=sys.stderr, flush=True)
            runs[setup] = run_setup(setup, args, workdir, redis.url)
        print("fleet: the cost of a turn", file=sys.stderr, flush=True)
        cost = anyio.run(turn_cost, redis.url, args.fleet_turns)
    return table(runs, args) + "\n\n" + cost_table(cost)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def table(runs: dict[str, Run], args: argparse.Namespace) -> str:
    rate = args.fleet_rate
    low, high = args.fleet_durations.split(",")
    loads = _loads(args.fleet_tasks)
    lines = [
        "### 9. A fleet of 8 processes on one API key",
        "",
        (
            f"{sum(loads):,} tasks over {PROCESSES} processes ({loads[0]:,} each for two, about "
            f"{loads[-1]:,} each for six), finishing a uniformly random {low}-{high} s after they "
            f"start, each followed with its own `wait()`; the simulator holds the key's limit, R = {rate:g} "
            "requests in any one second, and answers the rest with a 429 and `Retry-After`. Over real "
            "TCP, one process per client, all on one machine; lag is the moment a process saw the "
            "final status minus the moment the task finished."
        ),
        "",
        (
            "| each process | tasks seen | errors | lag p50 | lag p99 | requests | 429s "
            "| busiest second at the server | Redis round trips per request | run |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for setup, r in runs.items():
        trips = f"{r.redis_calls / r.requests:.3f}" if setup == "shared" and r.requests else "-"
        lines.append(
            f"| {LABELS.get(setup, setup)} | {r.seen:,} of {r.tasks:,} | {r.errors} | {_seconds(r.lag(0.5))} "
            f"| {_seconds(r.lag(0.99))} | {r.requests:,} | {r.refused:,} | {r.busiest_second:,} "
            f"| {trips} | {r.wall_s:.0f} s |"
        )
    return "\n".join(lines)


def cost_table(cost: TurnCost) -> str:
    capacity = 1e6 / cost.redis_us_per_turn if cost.redis_us_per_turn else 0.0
    return "\n".join(
        [
            (
                "What a turn costs: one client reserving turns one after the other over 127.0.0.1 "
                "(one `EVALSHA` each); Redis's time per call from `INFO commandstats`, and the turns a "
                "second that time leaves room for on Redis's one thread."
            ),
            "",
            "| turns | round trip p50 | round trip p99 | Redis time per turn | turns a second one Redis serves |",
            "|---:|---:|---:|---:|---:|",
            (
                f"| {cost.turns:,} | {cost.round_trip_p50_us:.0f} µs | {cost.round_trip_p99_us:.0f} µs "
                f"| {cost.redis_us_per_turn:.1f} µs | about {capacity:,.0f} |"
            ),
        ]
    )


async def follow(config: dict[str, Any]) -> dict[str, Any]:
    """One process: build the client, say it is ready, follow the tasks it is then given."""
    client = AsyncCambClient(
        API_KEY,
        base_url=config["url"],
        max_requests_per_second=config["rate"],
        shared_budget=config["redis"],
        max_retries=10,
    )
    seen: dict[str, float] = {}
    errors = 0
    tasks_file = anyio.Path(config["tasks"])
    async with client:
        await client.tts.status(config["warm_up"])  # connections made, modules imported
        await anyio.Path(config["ready"]).touch()
        while not await tasks_file.exists():  # noqa: ASYNC110 (a file has no event to await)
            await anyio.sleep(0.01)
        tasks: list[str] = json.loads(await tasks_file.read_text())

        async def follow_one(task: str) -> None:
            nonlocal errors
            try:
                await client.tts.wait(task, timeout=None)
            except Exception:  # noqa: BLE001 (counted: the table shows errors)
                errors += 1
            seen[task] = time.monotonic()

        async with anyio.create_task_group() as group:
            for task in tasks:
                group.start_soon(follow_one, task)
        state = client._requester._pool.loop
        shared = None if state is None else state.budget.shared
        calls = int(getattr(shared, "calls", 0))
    return {"seen": seen, "errors": errors, "redis_calls": calls}


def main() -> None:
    config = json.loads(pathlib.Path(sys.argv[1]).read_text())
    out = anyio.run(follow, config)
    pathlib.Path(sys.argv[2]).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
