"""The worker of examples/worker on a real Redis server, stopped mid-batch and started again.

The worker runs as a real process (``python -m arq camb_worker.WorkerSettings``) against
the simulator over real TCP and a ``redis-server`` of the module's own on 127.0.0.1
(Debian's package, which the nox ``integrations`` session installs in CI); batches are
sent by ``examples/worker/enqueue.py``, as a user would. Runs of the job last 1 s
(``CAMB_JOB_SLICE``), so arq's ``job_timeout`` is 2 s and a job whose worker died is run
again 12 s after it started. Asyncio only: arq runs on asyncio.
"""

from __future__ import annotations

import ast
import collections
import contextlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from redis.asyncio import Redis

from camb_async._shared_budget import fleet_prefix
from camb_async.testing import FaultPlan, Simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

from support import API_KEY

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

WORKER_DIR = pathlib.Path(__file__).parents[2] / "examples" / "worker"
SLICE = 1.0  # seconds a run of the job works before handing the rest to a fresh run


@pytest.fixture
def anyio_backend() -> str:
    """arq and its worker run on asyncio."""
    return "asyncio"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A redis-server of the module's own on 127.0.0.1, with no persistence, stopped at the end."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip(
            "no redis-server on PATH: apt-get install redis-server, or run `nox -s integrations` as root"
        )
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        options = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            [server, *options, "--dir", folder, "--logfile", str(pathlib.Path(folder) / "redis.log")]
        )
        try:
            deadline = time.monotonic() + 10
            while not _answers_ping(port):
                assert process.poll() is None, f"redis-server exited with {process.returncode}"
                assert time.monotonic() < deadline, "redis-server did not answer PING within 10 s"
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16) == b"+PONG\r\n"
    except OSError:
        return False


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """The simulator the worker talks to: TTS tasks of 1 to 6 s, one in ten ending in ERROR."""
    with Simulator(seed=11, durations=(1.0, 6.0), outcomes={"SUCCESS": 0.9, "ERROR": 0.1}) as simulator:
        yield simulator


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Any]:
    """A client of the test's own; ``Any``: redis-py 5 (arq's) types its asyncio commands as ``Awaitable[T] | T``."""
    async with Redis.from_url(redis_url, decode_responses=True) as client:  # pyright: ignore[reportUnknownMemberType]
        yield client


class Processes:
    """The worker and enqueue.py as real processes, each in a session of its own, logging to one file."""

    def __init__(self, sim: Simulator, redis_url: str, log: pathlib.Path) -> None:
        self.env = {
            **os.environ,
            "CAMB_API_KEY": API_KEY,
            "CAMB_BASE_URL": sim.url,
            "REDIS_URL": redis_url,
            "CAMB_JOB_SLICE": str(SLICE),
            # The workers' shared budget (through the module's Redis), too high to bind: a run
            # of 1 s must not wait for turns past arq's job_timeout.
            "CAMB_REQUESTS_PER_SECOND": "1000",
        }
        self.log = log
        self.started: list[subprocess.Popen[bytes]] = []

    def _start(self, *args: str) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, *args],
                cwd=WORKER_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(process)
        return process

    def worker(self) -> subprocess.Popen[bytes]:
        return self._start("-m", "arq", "camb_worker.WorkerSettings")

    def enqueue(self, count: int, batch: str) -> subprocess.Popen[bytes]:
        return self._start("enqueue.py", str(count), batch)

    async def stop(self, process: subprocess.Popen[bytes], sig: signal.Signals, *, within: float) -> None:
        """Send ``sig`` to the process and every process it started; wait for it to end."""
        os.killpg(process.pid, sig)
        await self.wait(process, within=within)

    async def wait(self, process: subprocess.Popen[bytes], *, within: float) -> int:
        with anyio.fail_after(within):
            while process.poll() is None:  # noqa: ASYNC110 (a Popen has no event to await)
                await anyio.sleep(0.05)
        return process.returncode

    def kill_all(self) -> None:
        for process in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def processes(sim: Simulator, redis_url: str, tmp_path: pathlib.Path) -> Iterator[Processes]:
    """Starts the worker and enqueue.py; kills what is left at the end. Their output is shown on failure."""
    started = Processes(sim, redis_url, tmp_path / "processes.log")
    try:
        yield started
    finally:
        started.kill_all()
        print(started.output())


async def _until(count: Callable[[], Awaitable[int]], at_least: int, *, within: float) -> None:
    """Wait until ``count()`` reaches ``at_least``."""
    with anyio.fail_after(within):
        while await count() < at_least:  # noqa: ASYNC110 (Redis has no event to await here)
            await anyio.sleep(0.02)


def _check_batch(
    sim: Simulator, batch: str, count: int, handles: dict[str, str], results: dict[str, str]
) -> list[str]:
    """Every text of ``batch`` has an outcome; no text was created twice; every created task
    was followed to its true final status. Returns the texts whose create had an unknown outcome."""
    texts = {f"Sentence {index + 1} of batch {batch}.": str(index) for index in range(count)}
    created = collections.Counter(
        str(record.request["text"]) for record in sim.records if record.request.get("text") in texts
    )
    assert max(created.values()) == 1, f"texts created twice: {[t for t, n in created.items() if n > 1]}"
    assert sorted(results, key=int) == [str(index) for index in range(count)]
    unknown: list[str] = []
    for text, key in texts.items():
        outcome = json.loads(results[key])
        if handles[key] == "sending":
            assert outcome["status"] == "UNKNOWN", (key, outcome)
            unknown.append(text)
            continue
        task_id = json.loads(handles[key])["task_id"]
        record = sim.record(task_id)
        assert record.request["text"] == text
        assert created[text] == 1
        assert outcome["status"] == record.final_status, (key, outcome, record.timeline)
        assert outcome["run_id"] == (record.run_id if record.final_status == "SUCCESS" else None)
        assert record.polls >= 1
    return unknown


async def test_a_worker_stopped_with_sigterm_hands_its_batch_to_the_next(
    sim: Simulator, redis: Any, processes: Processes
) -> None:
    """100 texts; the worker is stopped with SIGTERM once some tasks have ended: arq cancels the
    job's run and puts the job back. A new worker follows the rest from their stored handles.
    Each text's task was created once and followed to its final status; enqueue.py prints the
    count of outcomes by status."""
    batch, count = "sigterm", 100
    first = processes.worker()
    enqueue = processes.enqueue(count, batch)
    with anyio.fail_after(45):
        await _until(lambda: redis.hlen(f"camb:{batch}:outcomes"), 15, within=20)
        await processes.stop(first, signal.SIGTERM, within=10)
        assert first.returncode == 0
        assert await redis.hlen(f"camb:{batch}:handles") == count
        left = count - await redis.hlen(f"camb:{batch}:outcomes")
        assert left > 0, "every task ended before the worker stopped: nothing was left to resume"

        processes.worker()
        assert await processes.wait(enqueue, within=30) == 0

    handles = await redis.hgetall(f"camb:{batch}:handles")
    results = await redis.hgetall(f"camb:{batch}:outcomes")
    assert _check_batch(sim, batch, count, handles, results) == []
    statuses = collections.Counter(json.loads(value)["status"] for value in results.values())
    assert statuses["SUCCESS"] > 0
    assert statuses["ERROR"] > 0
    summary = processes.output().split(f"batch {batch}: done ", 1)[1].splitlines()[0]
    assert ast.literal_eval(summary) == statuses
    assert await redis.exists(f"{fleet_prefix(API_KEY)}turns")  # the workers' budget is the fleet's


async def test_a_worker_killed_during_its_creates_never_creates_a_task_twice(
    sim: Simulator, redis: Any, processes: Processes
) -> None:
    """60 texts whose creates the simulator answers 50 ms late (after the task exists); the worker
    is killed with SIGKILL a third of the way through. A new worker runs the job again once arq's
    lock on it expires: it creates only the missing tasks and follows every one to its final
    status; a create cut off by the kill is recorded as UNKNOWN, never sent again."""
    sim.set_faults(FaultPlan(rates={"stall": 1.0}, stall=0.05, methods=["POST"]))
    batch, count = "sigkill", 60
    first = processes.worker()
    enqueue = processes.enqueue(count, batch)
    with anyio.fail_after(50):
        await _until(lambda: redis.hlen(f"camb:{batch}:handles"), 20, within=20)
        await processes.stop(first, signal.SIGKILL, within=10)
        assert first.returncode == -signal.SIGKILL
        created = await redis.hlen(f"camb:{batch}:handles")
        assert created < count, "every create was sent before the kill"

        processes.worker()
        assert await processes.wait(enqueue, within=35) == 0

    handles = await redis.hgetall(f"camb:{batch}:handles")
    results = await redis.hgetall(f"camb:{batch}:outcomes")
    unknown = _check_batch(sim, batch, count, handles, results)
    assert len(unknown) <= 1  # one create at a time: at most one in flight at the kill
