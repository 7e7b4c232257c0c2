"""Cancellation, break, aclose() and closing the client over real TCP: nothing leaks, nothing keeps polling."""

from __future__ import annotations

import asyncio
import gc
import random
import warnings
from contextlib import aclosing

import anyio
import httpx
import pytest

from camb_async import AsyncCambClient, CambError, ClientClosedError, WatchTimeoutError
from camb_async.testing import FaultPlan, Simulator

from .harness import KEY, assert_no_leak, check_error_is_clean, http_of, pool_state

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

WATCHERS = 300
STALLING = FaultPlan(rates={"stall": 0.3}, stall=5.0, seed=5)  # many requests hang mid-flight
TIMEOUT = httpx.Timeout(5.0, read=3.0)  # longer than the moments we cancel at


def _running_tasks(backend: str) -> int:
    """How many asyncio tasks exist (0 on trio, where the server's silence is the check)."""
    return len(asyncio.all_tasks()) if backend == "asyncio" else 0


async def _quiet_for(sim: Simulator, seconds: float) -> None:
    """Assert that no API request reaches the server for ``seconds``: no watch is left polling."""
    before = [r for r in sim.request_log if r.path.startswith("/apis/")]
    await anyio.sleep(seconds)
    after = [r for r in sim.request_log if r.path.startswith("/apis/")]
    assert len(after) == len(before), after[len(before) :][:5]


async def test_cancel_break_and_aclose_at_random_moments(sim: Simulator, anyio_backend: str) -> None:
    """Watches cancelled, broken out of, closed or timed out at random moments, many mid-request, leak nothing."""
    rng = random.Random(2024)
    task_ids = [sim.add_task([("PENDING", 0.0), ("SUCCESS", rng.uniform(0.1, 2.0))]) for _ in range(WATCHERS)]
    sim.set_faults(STALLING)
    ended = dict.fromkeys(["cancelled", "break", "aclose", "deadline", "finished"], 0)
    tasks_before = _running_tasks(anyio_backend)
    async with AsyncCambClient(KEY, base_url=sim.url, timeout=TIMEOUT) as client:

        async def cancelled(task_id: str, after: float) -> None:
            with anyio.move_on_after(after):
                await client.wait(task_id, interval=0.05)
                ended["finished"] += 1
                return
            ended["cancelled"] += 1

        async def broken(task_id: str, after: float) -> None:
            # Its first status may come only after several stalls in a row (a watch rides
            # them out), each a read timeout of 3 s and a retry.
            async with aclosing(client.watch(task_id, interval=0.05)) as statuses:
                async for _ in statuses:
                    await anyio.sleep(after)
                    break
            ended["break"] += 1

        async def closed(task_id: str, after: float) -> None:
            watch = client.watch(task_id, interval=0.05)
            with anyio.move_on_after(after):
                async for _ in watch:
                    pass
            await watch.aclose()
            ended["aclose"] += 1

        async def deadline(task_id: str, after: float) -> None:
            try:
                await client.wait(task_id, interval=0.05, timeout=after)
                ended["finished"] += 1
            except WatchTimeoutError as exc:
                check_error_is_clean(exc)
                ended["deadline"] += 1

        modes = [cancelled, broken, closed, deadline]
        # Of 75 broken-out watches, one meets 5 stalls in a row (about 19 s) in about one run
        # in six; 8 in a row (about 31 s) in one run in 200.
        with anyio.fail_after(45):
            async with anyio.create_task_group() as group:
                for i, task_id in enumerate(task_ids):
                    group.start_soon(modes[i % 4], task_id, rng.uniform(0.01, 1.0))
        assert sum(ended.values()) == WATCHERS, ended
        assert min(ended["cancelled"], ended["break"], ended["aclose"], ended["deadline"]) > 0, ended
        stalled = sum(1 for r in sim.request_log if r.fault == "stall")
        assert stalled > 10  # many were cut while the server held them
        sim.set_faults(None)
        state = pool_state(client)
        assert state["busy"] == state["queued"] == state["borrowed"] == state["sending"] == 0, state
        await _quiet_for(sim, 0.5)
        assert _running_tasks(anyio_backend) == tasks_before  # on asyncio: no task of a watch is left over
        await assert_no_leak(client, sim)


async def test_closing_the_client_ends_running_watches(sim: Simulator) -> None:
    """aclose() while 300 watches run, many mid-request, ends every one with ClientClosedError, promptly."""
    task_ids = [sim.add_task([("PENDING", 0.0)]) for _ in range(WATCHERS)]
    sim.set_faults(STALLING)
    client = AsyncCambClient(KEY, base_url=sim.url, timeout=TIMEOUT)
    outcomes: list[BaseException] = []
    in_flight = 0

    async def watch(task_id: str) -> None:
        try:
            async for _ in client.watch(task_id, interval=0.05):
                pass
        except CambError as exc:
            check_error_is_clean(exc)
            outcomes.append(exc)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            for task_id in task_ids:
                group.start_soon(watch, task_id)
            await anyio.sleep(0.7)
            in_flight = pool_state(client)["sending"]
            await client.aclose()
    assert in_flight > 0  # some requests really were cut mid-flight
    assert len(outcomes) == WATCHERS
    assert {type(exc) for exc in outcomes} == {ClientClosedError}
    assert http_of(client).is_closed
    assert pool_state(client)["connections"] == 0
    await _quiet_for(sim, 0.3)


@pytest.mark.parametrize(
    ("first", "second"), [("asyncio", "trio"), ("trio", "asyncio"), ("asyncio", "asyncio")]
)
def test_client_from_another_event_loop_over_tcp(sim: Simulator, first: str, second: str) -> None:
    """A client that polled over TCP on one event loop raises a clear ClientClosedError on another."""
    task_id = sim.add_task([("PENDING", 0.0), ("SUCCESS", 0.0)])
    box = {"client": AsyncCambClient(KEY, base_url=sim.url)}

    async def poll() -> str:
        return str((await box["client"].status(task_id)).status)

    assert anyio.run(poll, backend=first) == "SUCCESS"
    sent = len(sim.request_log)
    with pytest.raises(ClientClosedError, match="bound to the event loop it was first used on") as caught:
        anyio.run(poll, backend=second)
    check_error_is_clean(caught.value)
    assert len(sim.request_log) == sent
    with warnings.catch_warnings():
        # The first loop is gone with the sockets it opened: they are only reclaimed by gc.
        warnings.simplefilter("ignore", ResourceWarning)
        with pytest.raises(ClientClosedError, match="could not be closed from this one") as closing:
            anyio.run(box["client"].aclose, backend=second)
        check_error_is_clean(closing.value)
        assert box["client"].is_closed
        box.clear()  # drop the client; the tracebacks hold it too
        del caught, closing
        gc.collect()


async def test_unclosed_client_warns(sim: Simulator) -> None:
    """A client that sent requests over TCP and was dropped unclosed emits a ResourceWarning."""
    gc.collect()  # no garbage of earlier tests inside the warns block
    task_id = sim.add_task([("PENDING", 0.0), ("SUCCESS", 0.0)])
    client = AsyncCambClient(KEY, base_url=sim.url)
    await client.status(task_id)
    http = http_of(client)
    with pytest.warns(ResourceWarning, match="never closed") as caught:
        del client  # no reference cycle holds a client: the finalizer runs here
    assert all(KEY not in str(w.message) for w in caught)
    await http.aclose()  # the sockets, which the test still holds
