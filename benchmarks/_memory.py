"""What a followed task costs: memory per task and client CPU per poll (``--scenario memory``).

Every run meets a fresh simulator process seeded with tasks of 200-300 s, so none
ends while it is measured, and follows them on ``transport="aiohttp"`` in a client
process of its own (``python -m benchmarks._memory``):

* **Memory.** The ids are read first; then ``gc.collect()`` and the process's RSS
  (``VmRSS``) just before the client is made; then ``wait_many`` (or ``watch_many``,
  ``as_completed``, or gathered ``wait()`` calls) starts, and exactly ``--memory-after``
  seconds later, after another ``gc.collect()``, the RSS is read again. The growth over
  the number of tasks is the cost of a followed task. The objects the collector tracks
  are then counted by kind (before and after), and with ``--memory-trace`` a second run
  under ``tracemalloc`` says which lines allocated the bytes.
* **Scheduler cost.** ``wait_many`` over N tasks; once every task has had its first
  poll, the client's CPU time (``time.process_time()``) over ``--memory-window``
  seconds divided by the polls sent in them, at each N: the same schedule and server,
  so a scheduler whose work per poll grows with N shows as a ratio above 1.

Nothing here asserts on the figures; the report sets them against issue 19's targets.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import pathlib
import random
import subprocess
import sys
import time
import tracemalloc
from typing import Any

from camb_async import AsyncCambClient

from ._server import SimulatorProcess

API_KEY = "bench-key"
MODES = ("wait_many", "watch_many", "as_completed", "gather")
LABELS = {
    "wait_many": "`wait_many(ids)`",
    "watch_many": "`watch_many(ids)`",
    "as_completed": "`as_completed(ids)`",
    "gather": "gathered `wait(i)` calls",
}
TARGETS = {"wait_many": 2.0, "watch_many": 2.0, "as_completed": 2.0, "gather": 4.0}
"""KiB per task (issue 19)."""
SCHEDULER_TARGET = 1.2
SECTION = "memory"

SMOKE = {
    "memory_tasks": 1_000,
    "memory_gathered": 500,
    "memory_modes": "wait_many,gather",
    "memory_after": 2.0,
    "memory_scheduler": "100,1000",
    "memory_window": 1.0,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--memory-tasks", type=int, default=100_000, help="memory: tasks in one call")
    parser.add_argument("--memory-gathered", type=int, default=30_000, help="memory: gathered wait() calls")
    parser.add_argument("--memory-modes", default=",".join(MODES), help="memory: which calls to measure")
    parser.add_argument(
        "--memory-after", type=float, default=40.0, help="memory: seconds before the RSS read"
    )
    parser.add_argument(
        "--memory-scheduler", default="1000,100000", help="memory: task counts of the scheduler cost"
    )
    parser.add_argument("--memory-window", type=float, default=15.0, help="memory: scheduler window, s")
    parser.add_argument(
        "--memory-trace", action="store_true", help="memory: also a tracemalloc run of wait_many (slow)"
    )


# -- the orchestrating side ----------------------------------------------------------------


def _run_client(workdir: pathlib.Path, count: int, *extra: str, timeout: float) -> dict[str, Any]:
    """Seed ``count`` tasks of 200-300 s on a fresh simulator and run one client process on them."""
    rng = random.Random(2026)
    timelines = [[("PENDING", 0.0), ("SUCCESS", rng.uniform(200.0, 300.0))] for _ in range(count)]
    with SimulatorProcess() as sim:
        ids: list[str] = []
        for start in range(0, count, 20_000):
            ids += sim.seed(timelines[start : start + 20_000])
        ids_file = workdir / "memory-ids.json"
        ids_file.write_text(json.dumps(ids))
        out = workdir / "memory-out.json"
        command = [sys.executable, "-m", "benchmarks._memory", "--url", sim.url, "--ids-file", str(ids_file)]
        subprocess.run([*command, "--out", str(out), *extra], check=True, timeout=timeout)
        result: dict[str, Any] = json.loads(out.read_text())
    return result


def scenario_memory(args: argparse.Namespace, workdir: pathlib.Path) -> str:
    """Memory per followed task and scheduler cost, as Markdown tables."""
    rows: list[tuple[str, int, dict[str, Any]]] = []
    for mode in (m.strip() for m in args.memory_modes.split(",") if m.strip()):
        count = args.memory_gathered if mode == "gather" else args.memory_tasks
        print(f"memory: {mode}, {count:,} tasks", file=sys.stderr, flush=True)
        data = _run_client(
            workdir, count, "--mode", mode, "--after", str(args.memory_after), timeout=args.memory_after + 600
        )
        rows.append((mode, count, data))
    traced: dict[str, Any] | None = None
    if args.memory_trace:
        print(
            f"memory: wait_many under tracemalloc, {args.memory_tasks:,} tasks", file=sys.stderr, flush=True
        )
        traced = _run_client(
            workdir,
            args.memory_tasks,
            "--mode",
            "wait_many",
            "--after",
            str(args.memory_after),
            "--trace",
            timeout=args.memory_after + 900,
        )
    costs: list[tuple[int, dict[str, Any]]] = []
    for count in (int(n) for n in args.memory_scheduler.split(",") if n.strip()):
        print(f"memory: scheduler cost, {count:,} tasks", file=sys.stderr, flush=True)
        data = _run_client(
            workdir, count, "--mode", "scheduler", "--after", str(args.memory_window), timeout=900
        )
        costs.append((count, data))
    return tables(rows, costs, traced, args.memory_after, args.memory_window)


def tables(
    rows: list[tuple[str, int, dict[str, Any]]],
    costs: list[tuple[int, dict[str, Any]]],
    traced: dict[str, Any] | None,
    after: float,
    window: float,
) -> str:
    lines = [
        "### 10. What a followed task costs",
        "",
        (
            f"Tasks of 200-300 s on the simulator (a process of its own), followed on "
            f'`transport="aiohttp"`; RSS after `gc.collect()` read just before the client is made '
            f"and {after:g} s after the call starts; the growth divided by the tasks."
        ),
        "",
        "| call | tasks | polls sent | RSS growth | per task | target | holds |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for mode, count, data in rows:
        per_task = data["growth_bytes"] / count / 1024
        target = TARGETS[mode]
        lines.append(
            f"| {LABELS[mode]} | {count:,} | {data['polls']:,} | {data['growth_bytes'] / 2**20:.1f} MiB "
            f"| {per_task:.2f} KiB | <= {target:g} KiB | {'yes' if per_task <= target else 'no'} |"
        )
    for mode, count, data in rows:
        lines += [
            "",
            f"Objects the collector tracks, {LABELS[mode]} of {count:,} tasks, per task (top 12):",
            "",
        ]
        lines += ["| kind | objects per task | bytes per task (`sys.getsizeof`) |", "|---|---:|---:|"]
        for kind, number, size in data["kinds"][:12]:
            lines.append(f"| `{kind}` | {number / count:.2f} | {size / count:.0f} |")
    if traced is not None:
        count = traced["count"]
        lines += [
            "",
            f"Where the bytes were allocated (`tracemalloc`, `wait_many` of {count:,} tasks, per task, top 15):",
            "",
            "| line | bytes per task | blocks per task |",
            "|---|---:|---:|",
        ]
        for where, size, blocks in traced["lines"][:15]:
            lines.append(f"| `{where}` | {size / count:.0f} | {blocks / count:.2f} |")
    if costs:
        lines += [
            "",
            (
                f"Scheduler cost: `wait_many` over N tasks; client CPU over {window:g} s, starting once "
                "every task had its first poll, divided by the polls sent in it."
            ),
            "",
            "| tasks | first polls took | polls in the window | client CPU | CPU per poll |",
            "|---:|---:|---:|---:|---:|",
        ]
        for count, data in costs:
            lines.append(
                f"| {count:,} | {data['first_round_s']:.1f} s | {data['polls']:,} | {data['cpu_s']:.2f} s "
                f"| {1e6 * data['cpu_s'] / max(1, data['polls']):.0f} us |"
            )
        (few, low), (many, high) = costs[0], costs[-1]
        if few != many:
            ratio = (high["cpu_s"] / max(1, high["polls"])) / (low["cpu_s"] / max(1, low["polls"]))
            lines += [
                "",
                "| target | measured | holds |",
                "|---|---:|---|",
                (
                    f"| CPU per poll at {many:,} tasks within {SCHEDULER_TARGET:g}x of {few:,} | {ratio:.2f}x "
                    f"| {'yes' if ratio <= SCHEDULER_TARGET else 'no'} |"
                ),
            ]
    return "\n".join(lines)


# -- the client side (its own process) ------------------------------------------------------


def rss() -> int:
    """This process's resident set size, in bytes (``VmRSS``)."""
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def kinds() -> collections.Counter[str]:
    """The objects the collector tracks, counted by type name (frames, coroutines, ...)."""
    return collections.Counter(type(o).__qualname__ for o in gc.get_objects())


def sizes() -> collections.Counter[str]:
    counted: collections.Counter[str] = collections.Counter()
    for o in gc.get_objects():
        counted[type(o).__qualname__] += sys.getsizeof(o)
    return counted


class _Counted:
    """A bare sender that counts its requests, and the distinct URLs among them."""

    def __init__(self, send: Any) -> None:
        self._send = send
        self.polls = 0
        self.urls: set[str] = set()

    async def __call__(self, method: str, url: str) -> Any:
        self.polls += 1
        self.urls.add(url)
        return await self._send(method, url)


async def _follow(client: AsyncCambClient, mode: str, ids: list[str]) -> None:
    if mode in ("wait_many", "scheduler"):
        await client.wait_many(ids, timeout=600)
    elif mode == "watch_many":
        async with client.watch_many(ids, timeout=600) as statuses:
            async for _ in statuses:
                pass
    elif mode == "as_completed":
        async with client.as_completed(ids, timeout=600) as ended:
            async for _ in ended:
                pass
    else:
        await asyncio.gather(*(client.wait(i, timeout=600) for i in ids), return_exceptions=True)


async def measure(url: str, ids: list[str], mode: str, after: float, trace: bool) -> dict[str, Any]:
    gc.collect()
    count_before, size_before = kinds(), sizes()
    gc.collect()
    before = rss()
    if trace:
        tracemalloc.start(1)
    client = AsyncCambClient(API_KEY, base_url=url, transport="aiohttp")
    state = client._requester._loop_state()  # builds the HTTP client, to count its requests
    bare = state.bare  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    assert bare is not None
    counted = _Counted(bare)
    state.bare = counted
    result: dict[str, Any] = {"count": len(ids), "mode": mode}
    began = time.monotonic()
    following = asyncio.ensure_future(_follow(client, mode, ids))
    try:
        if mode == "scheduler":
            while len(counted.urls) < len(ids):  # noqa: ASYNC110 (a benchmark's probe, not a wait)
                await asyncio.sleep(0.05)
            result["first_round_s"] = time.monotonic() - began
            polls, cpu = counted.polls, time.process_time()
            await asyncio.sleep(after)
            result["cpu_s"] = time.process_time() - cpu
            result["polls"] = counted.polls - polls
        else:
            await asyncio.sleep(max(0.0, began + after - time.monotonic()))
            snapshot = tracemalloc.take_snapshot() if trace else None
            gc.collect()
            result["growth_bytes"] = rss() - before
            result["polls"] = counted.polls
            result["ended_early"] = following.done()
            grown = kinds() - count_before
            grown_sizes = sizes() - size_before
            result["kinds"] = [(kind, n, grown_sizes[kind]) for kind, n in grown.most_common(40)]
            if snapshot is not None:
                stats = snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)]).statistics(
                    "lineno"
                )
                result["lines"] = [
                    (
                        _where(s.traceback[0].filename, s.traceback[0].lineno),
                        s.size,
                        s.count,
                    )
                    for s in stats[:30]
                ]
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        await client.aclose()
    return result


def _where(filename: str, lineno: int) -> str:
    """A source line as the table shows it: the path under site-packages or the project."""
    for marker, shown in (
        ("site-packages/", ""),
        ("camb_async/", "camb_async/"),
        ("benchmarks/", "benchmarks/"),
    ):
        if marker in filename:
            return f"{shown}{filename.split(marker, 1)[1]}:{lineno}"
    return f"{filename}:{lineno}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._memory")
    parser.add_argument("--url", required=True)
    parser.add_argument("--ids-file", required=True, type=pathlib.Path)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--mode", choices=[*MODES, "scheduler"], required=True)
    parser.add_argument("--after", type=float, default=40.0)
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args(argv)
    ids: list[str] = json.loads(args.ids_file.read_text())
    result = asyncio.run(measure(args.url, ids, args.mode, args.after, args.trace))
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
