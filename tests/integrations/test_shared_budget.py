"""A fleet of OS processes sharing one API key's budget through a real redis-server.

Each process (``fleet_worker.py``) follows its own tasks on the simulator over real TCP,
with ``max_requests_per_second=R`` and ``shared_budget=`` a redis-server started here
(Debian's package; the nox ``integrations`` session installs it). Each records when every
request of its own left; merged, those moments must keep the fleet's budget. Tasks end
within 3 s, so nearly every watch costs one poll and a run lasts about its polls / R.
"""

from __future__ import annotations

import collections
import json
import os
import pathlib
import random
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from redis.asyncio import Redis
from support import API_KEY, RedisServer, arrivals, free_port

from camb_async._shared_budget import fleet_prefix
from camb_async.testing import FaultPlan, Simulator, most_in_one_second

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

WORKER = pathlib.Path(__file__).with_name("fleet_worker.py")
RATE = 40.0


@pytest.fixture
def anyio_backend() -> str:
    """redis-py's client, which the test reads the fleet's roll with, runs on asyncio."""
    return "asyncio"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=5) as simulator:
        yield simulator


class Fleet:
    """The fleet's processes: started with their tasks, waited for, their results read."""

    def __init__(self, sim: Simulator, redis_url: str, folder: pathlib.Path) -> None:
        self.sim = sim
        self.redis_url = redis_url
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []
        self.tasks: list[list[str]] = []

    def start(self, count: int, watches: int, *, seed: int = 1) -> None:
        """``count`` processes of ``watches`` tasks each, ending in SUCCESS or ERROR within 3 s."""
        draw = random.Random(seed)
        for index in range(count):
            timelines = [
                [("PENDING", 0.0), ("SUCCESS" if draw.random() < 0.9 else "ERROR", draw.uniform(0.0, 3.0))]
                for _ in range(watches)
            ]
            tasks = self.sim.add_tasks(timelines)
            self.tasks.append(tasks)
            config = {
                "api_key": API_KEY,
                "url": self.sim.url,
                "rate": RATE,
                "redis": self.redis_url,
                "tasks": tasks,
            }
            (self.folder / f"config-{index}.json").write_text(json.dumps(config))
            with (self.folder / f"log-{index}.txt").open("wb") as log:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, str(WORKER), *self._files(index)],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env={**os.environ, "PYTHONPATH": str(pathlib.Path(__file__).parents[2])},
                    )
                )

    def _files(self, index: int) -> tuple[str, str]:
        return str(self.folder / f"config-{index}.json"), str(self.folder / f"out-{index}.json")

    async def wait(self, *, within: float) -> list[dict[str, Any]]:
        with anyio.fail_after(within):
            while any(process.poll() is None for process in self.processes):  # noqa: ASYNC110
                await anyio.sleep(0.1)
        for index, process in enumerate(self.processes):
            assert process.returncode == 0, self.log(index)
        return [self._result(index) for index in range(len(self.processes))]

    def _result(self, index: int) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(pathlib.Path(self._files(index)[1]).read_text())
        return result

    def log(self, index: int) -> str:
        return (self.folder / f"log-{index}.txt").read_text(errors="replace")

    def kill(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(5)

    def check_endings(self, results: Sequence[dict[str, Any]]) -> None:
        """Every watch ended with its task's true final status: no error, nothing lost."""
        for tasks, result in zip(self.tasks, results, strict=True):
            truth = [self.sim.record(task).final_status for task in tasks]
            assert result["endings"] == truth


@pytest.fixture
def fleet(sim: Simulator, redis_server: RedisServer, tmp_path: pathlib.Path) -> Iterator[Fleet]:
    started = Fleet(sim, redis_server.url, tmp_path)
    try:
        yield started
    finally:
        started.kill()


def most_in(moments: Sequence[float], window: float) -> int:
    """The most of ``moments`` within any half-open ``window`` seconds."""
    ordered = sorted(moments)
    most = start = 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - window:
            start += 1
        most = max(most, end - start + 1)
    return most


async def members(redis_url: str) -> int:
    async with Redis.from_url(redis_url) as redis:  # pyright: ignore[reportUnknownMemberType]
        return int(await redis.zcard(f"{fleet_prefix(API_KEY)}members"))


async def until_members(redis_url: str, count: int, *, within: float) -> None:
    with anyio.fail_after(within):
        while await members(redis_url) < count:  # noqa: ASYNC110 (Redis has no event to await here)
            await anyio.sleep(0.1)


async def test_four_processes_share_one_budget(fleet: Fleet, sim: Simulator) -> None:
    """4 processes x 400 watches, R=40 shared: the merged send times never exceed 42 in any
    second nor R/4 + 5 in any quarter second; every watch ends with its task's true final
    status; each process gets well over a tenth of the sends; about one round trip to Redis
    per request."""
    fleet.start(4, 400)
    results = await fleet.wait(within=150)
    fleet.check_endings(results)
    sends = [moment for result in results for moment in result["sends"]]
    assert most_in_one_second(sends) <= 42
    assert most_in(sends, 0.25) <= RATE / 4 + 5
    for result in results:
        assert len(result["sends"]) >= 0.15 * len(sends)
    calls = sum(result["redis_calls"] for result in results)
    assert calls <= 1.1 * len(sends) + 4
    span = max(sends) - min(sends)
    assert len(sends) / span >= 0.85 * RATE  # the fleet uses its budget
    print(
        f"sends {len(sends)} in {span:.1f} s; busiest second {most_in_one_second(sends)}, at the server "
        f"{most_in_one_second(arrivals(sim))}; Redis calls per request {calls / len(sends):.3f}"
    )


async def test_the_fleet_rides_out_a_redis_restart(
    fleet: Fleet, sim: Simulator, redis_server: RedisServer
) -> None:
    """As above, with Redis killed a few seconds in and started again, empty, on its port 10 s
    later: nothing lost, no error, the busiest second over the run at most 1.1 R; each process
    says once that Redis went away and once that it came back."""
    fleet.start(4, 400)
    await until_members(redis_server.url, 4, within=20)
    await anyio.sleep(2.0)
    redis_server.kill()
    killed = time.monotonic()
    await anyio.sleep(10.0)
    redis_server.start()
    results = await fleet.wait(within=150)
    fleet.check_endings(results)
    sends = [moment for result in results for moment in result["sends"]]
    assert most_in_one_second(sends) <= 1.1 * RATE
    during = [moment for moment in sends if killed < moment < killed + 10.0]
    assert len(during) >= 0.7 * RATE * 10  # the fair shares kept the fleet going
    for index in range(4):
        log = fleet.log(index)
        assert log.count("Redis did not answer") == 1, log
        assert log.count("Redis answers again") == 1, log
    print(f"busiest second {most_in_one_second(sends)}; {len(during)} sends in the 10 s without Redis")


async def test_a_429_seen_by_one_process_holds_back_the_others(
    fleet: Fleet, sim: Simulator, redis_server: RedisServer
) -> None:
    """One 429 with Retry-After: 2 reaches one of three processes: no process sends a request
    until it is over, beyond a turn already reserved."""
    fleet.start(3, 120)
    await until_members(redis_server.url, 3, within=20)
    sim.set_faults(FaultPlan(script=["429"], retry_after=2.0))
    await fleet.wait(within=60)
    log = sim.request_log
    refused = next(record for record in log if record.fault == "429")
    owner = {task: index for index, tasks in enumerate(fleet.tasks) for task in tasks}
    hit = owner[refused.path.rsplit("/", 1)[-1]]
    later = [(r.at - refused.at, owner[r.path.rsplit("/", 1)[-1]]) for r in log if r.at > refused.at]
    assert len([after for after, _ in later if after < 0.1]) <= 3
    assert [(after, index) for after, index in later if 0.1 <= after < 1.95] == []
    assert {index for after, index in later if after >= 1.95} >= {0, 1, 2} - {hit}


async def test_a_process_with_no_redis_works_on_its_own_and_says_so(
    sim: Simulator, tmp_path: pathlib.Path
) -> None:
    """Nothing listens at the Redis URL: the client is made at once, its first request leaves
    within 5 s, it follows every task on its local budget and logs one WARNING."""
    started = Fleet(sim, f"redis://127.0.0.1:{free_port()}/0", tmp_path)
    try:
        started.start(1, 40)
        (result,) = await started.wait(within=60)
    finally:
        started.kill()
    started.check_endings([result])
    assert result["made"] - result["began"] < 1.0
    assert min(result["sends"]) - result["began"] < 5.0
    assert most_in_one_second(result["sends"]) <= RATE
    log = started.log(0)
    warnings = [
        line for line in log.splitlines() if line.startswith("WARNING") and "Redis did not answer" in line
    ]
    assert len(warnings) == 1, log
    assert collections.Counter(result["endings"])["SUCCESS"] > 0
