"""One 429 with Retry-After pauses every watch that shares the client (docs/retries.md)."""

from __future__ import annotations

import contextlib

import anyio
import pytest

from camb_async import AsyncCambClient, WatchTimeoutError
from camb_async.testing import FaultPlan, Simulator

from .harness import FIGURES, KEY

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

WATCHERS = 200
PAUSE = 1.0  # the Retry-After of the one 429, in seconds
MAX_IN_FLIGHT = 32


async def test_one_429_pauses_every_watcher_of_the_client(sim: Simulator, anyio_backend: str) -> None:
    """While a 429's Retry-After runs, the server gets no request beyond those already in flight."""
    task_ids = [sim.add_task([("PENDING", 0.0)]) for _ in range(WATCHERS)]
    async with AsyncCambClient(KEY, base_url=sim.url, max_concurrent_requests=MAX_IN_FLIGHT) as client:

        async def watch(task_id: str) -> None:
            # Short watches, started again and again, keep polling every 20 ms or so
            # whatever the client's schedule does with waits later in a watch.
            while True:
                with contextlib.suppress(WatchTimeoutError):
                    async for _ in client.watch(task_id, interval=0.02, timeout=0.5):
                        pass

        def polled_again() -> bool:
            """Whether the 429'd task was polled again once its Retry-After had passed."""
            log = sim.request_log
            (limited,) = [r for r in log if r.fault == "429"]
            return any(r.path == limited.path and r.at >= limited.at + PAUSE - 0.01 for r in log)

        with anyio.fail_after(25):
            async with anyio.create_task_group() as group:
                for task_id in task_ids:
                    group.start_soon(watch, task_id)
                await anyio.sleep(1.5)  # the herd at full speed
                sim.set_faults(FaultPlan(script=["429"], retry_after=PAUSE))
                await anyio.sleep(PAUSE + 1.5)
                # Its turn among 200 watchers may come later on a busy machine.
                while not polled_again():  # noqa: ASYNC110 (the simulator's log has no event)
                    await anyio.sleep(0.05)
                group.cancel_scope.cancel()
    log = sim.request_log
    (limited,) = [r for r in log if r.fault == "429"]
    t0 = limited.at

    def arrivals(start: float, end: float) -> int:
        return sum(1 for r in log if t0 + start <= r.at < t0 + end)

    before = arrivals(-1.0, 0.0)
    during = arrivals(0.0, PAUSE)
    late_in_pause = arrivals(0.5, PAUSE - 0.02)
    after = arrivals(PAUSE, PAUSE + 1.0)
    FIGURES.add(
        f"backpressure-{anyio_backend}",
        watchers=WATCHERS,
        retry_after=PAUSE,
        requests_in_second_before=before,
        requests_during_pause=during,
        requests_late_in_pause=late_in_pause,
        requests_in_second_after=after,
    )
    # Those already in flight when the 429 was answered still arrive, and so do those the
    # client sent before the 429 reached it (about one per slot, plus the 429'd request
    # itself); then nothing until the pause ends.
    assert during <= 2 * MAX_IN_FLIGHT, (before, during, after)
    assert late_in_pause == 0, (before, during, late_in_pause, after)
    # Without the pause the same watchers send many times that: the herd before and after it.
    assert before >= 3 * MAX_IN_FLIGHT, before
    assert after >= 3 * MAX_IN_FLIGHT, after
