"""1,000 watches on one client over real TCP through each fault, a mix of all, and server restarts.

Each run checks every watch against the simulator's own record: it saw the
task's true final status. A poll whose fault outlasts the request's retries
does not end its watch: the watch rides it out on its schedule, so no watch
may fail. Nothing may hang (deadlines everywhere), and afterwards the pool
holds nothing and serves a fresh burst.
"""

from __future__ import annotations

import collections
import time

import anyio
import anyio.to_thread
import httpx
import pytest

from camb_async import AsyncCambClient
from camb_async.testing import FAULT_KINDS, FaultPlan, Simulator

from .harness import (
    FIGURES,
    KEY,
    Outcome,
    SecretWatch,
    answers_by_path,
    assert_no_leak,
    longest_fault_run,
    seed_tasks,
    watch_all,
)

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

# Each fault alone on asyncio; the mix of all faults and the restarts on asyncio and trio.
# That keeps the suite to a few minutes on 2 cores; the smaller suites run on both.
RUNS = [(kind, "asyncio") for kind in FAULT_KINDS] + [("mix", "asyncio"), ("mix", "trio")]

COUNT = 1_000
SPREAD = (0.2, 1.0)  # seconds each task stays PENDING
INTERVAL = 0.1  # first wait between polls; the schedule grows it to 3 s at most
WATCH_TIMEOUT = 30.0
RUN_DEADLINE = 120.0
READ_TIMEOUT = 1.0  # a stalled answer (3 s) outlasts it
RATE = 0.2  # share of requests that get the fault
RATES = {"stall": 0.1}  # each stall holds a slot for READ_TIMEOUT: fewer of them
MIX_RATE = 0.3  # share of requests that get a fault in the mix, spread over every kind
MAX_RETRIES = 2


def _name(scenario: str, backend: str) -> str:
    """The run's name in the figures: the scenario, suffixed on trio."""
    return scenario if backend == "asyncio" else f"{scenario} (trio)"


def _plan(scenario: str, seed: int) -> FaultPlan:
    if scenario == "mix":
        return FaultPlan.uniform(FAULT_KINDS, MIX_RATE, seed=seed, retry_after=0.02, stall=3.0)
    return FaultPlan(rates={scenario: RATES.get(scenario, RATE)}, seed=seed, retry_after=0.02, stall=3.0)


def _judge(
    name: str, sim: Simulator, task_ids: list[str], outcomes: dict[str, Outcome], seconds: float
) -> None:
    """Check each watch against the server's record; file the run's figures."""
    log = sim.request_log
    answers = answers_by_path(log)
    errors: collections.Counter[str] = collections.Counter()
    resolved = 0
    assert len(outcomes) == len(task_ids)
    ridden_out = 0
    for task_id in task_ids:
        outcome = outcomes[task_id]
        faults = answers[f"/apis/tts/{task_id}"]
        if outcome.error is None:
            assert outcome.final == sim.record(task_id).final_status, task_id
            # More faults in a row than a request retries: the watch rode them out.
            ridden_out += longest_fault_run(faults) > MAX_RETRIES
            resolved += 1
            continue
        errors[type(outcome.error).__name__] += 1
    stats = sim.stats()
    FIGURES.add(
        name,
        tasks=len(task_ids),
        requests=len(log),
        faults_injected=sum(1 for r in log if r.fault is not None),
        faults=dict(collections.Counter(r.fault for r in log if r.fault is not None)),
        resolved=resolved,
        ridden_out=ridden_out,
        typed_errors=sum(errors.values()),
        errors=dict(errors),
        lost=len(task_ids) - resolved - sum(errors.values()),
        restarts=stats["restarts"],
        seconds=round(seconds, 1),
    )
    # Every fault the simulator injects is transient: no watch may end with an error.
    assert not errors, errors
    assert resolved == len(task_ids)


@pytest.mark.parametrize(("scenario", "anyio_backend"), RUNS)
async def test_thousand_watches_through_faults(
    sim: Simulator, short_backoff: None, scenario: str, anyio_backend: str
) -> None:
    """Every watch reaches its task's true final status: faults that outlast a request's retries
    are ridden out on the watch's schedule."""
    task_ids = seed_tasks(sim, COUNT, seed=len(scenario), spread=SPREAD)
    sim.set_faults(_plan(scenario, seed=len(scenario)))
    started = time.monotonic()
    timeout = httpx.Timeout(5.0, read=READ_TIMEOUT)
    async with AsyncCambClient(KEY, base_url=sim.url, timeout=timeout, max_retries=MAX_RETRIES) as client:
        with anyio.fail_after(RUN_DEADLINE):
            outcomes = await watch_all(client, task_ids, interval=INTERVAL, timeout=WATCH_TIMEOUT)
        seconds = time.monotonic() - started
        _judge(_name(scenario, anyio_backend), sim, task_ids, outcomes, seconds)
        assert sim.stats()["faults_injected"] != 0
        with anyio.fail_after(30):
            await assert_no_leak(client, sim)


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_thousand_watches_through_server_restarts(
    sim: Simulator, secret_watch: SecretWatch, anyio_backend: str
) -> None:
    """Two restarts on the same port while 1,000 watches run: every watch reaches its true final status."""
    task_ids = seed_tasks(sim, COUNT, seed=99, spread=(0.5, 4.0))
    retries_before = collections.Counter(secret_watch.retries)
    started = time.monotonic()
    async with AsyncCambClient(KEY, base_url=sim.url, max_retries=MAX_RETRIES) as client:

        async def restart_twice() -> None:
            for _ in range(2):
                await anyio.sleep(1.2)
                await anyio.to_thread.run_sync(lambda: sim.restart(downtime=0.1))

        outcomes: dict[str, Outcome] = {}
        with anyio.fail_after(RUN_DEADLINE):
            async with anyio.create_task_group() as group:
                group.start_soon(restart_twice)
                outcomes = await watch_all(client, task_ids, interval=INTERVAL, timeout=WATCH_TIMEOUT)
        seconds = time.monotonic() - started
        name = _name("restart", anyio_backend)
        _judge(name, sim, task_ids, outcomes, seconds)
        assert sim.stats()["restarts"] == 2
        retried = secret_watch.retries - retries_before
        FIGURES.runs[name]["retries"] = dict(retried)
        assert sum(retried.values()) > 0, "no request met the outage: the test proved nothing"
        assert all(o.error is None for o in outcomes.values()), collections.Counter(
            repr(o.error) for o in outcomes.values() if o.error
        )
        with anyio.fail_after(30):
            await assert_no_leak(client, sim)
