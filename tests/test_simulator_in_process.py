"""The simulator in process, on virtual time: a 60 s task and a 30 s stall take no wall time.

docs/testing.md shows this file (from ``[docs:virtual-time]`` on) as its virtual-time recipe:
trio's MockClock and looptime on asyncio, through anyio's pytest plugin.
"""

from __future__ import annotations

# [docs:virtual-time]
import time
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest
from trio.testing import MockClock

from camb_async import APITimeoutError, AsyncCambClient
from camb_async.testing import FaultPlan, Simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["trio", "asyncio"])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, object]]:
    """Each test on trio and on asyncio, both on a virtual clock that jumps ahead when all wait."""
    if request.param == "trio":
        return ("trio", {"clock": MockClock(autojump_threshold=0)})
    looptime = pytest.importorskip("looptime", reason="looptime runs on Python 3.11 and newer")
    return ("asyncio", {"loop_factory": looptime.new_event_loop})


@pytest.fixture
def sim() -> Simulator:
    """A simulator served in process (not started): its tasks run on the event loop's clock."""
    return Simulator(clock=anyio.current_time)


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[AsyncCambClient]:
    """A client whose requests go to ``sim``'s app in the test's event loop, no socket."""
    async with (
        sim.asgi_http_client() as http,
        AsyncCambClient("test-key", base_url=sim.asgi_url, http_client=http) as client,
    ):
        yield client


async def test_a_long_task_takes_no_wall_time(sim: Simulator, client: AsyncCambClient) -> None:
    """A watch of a task that runs 60 s of virtual time ends in well under a second."""
    started, wall = anyio.current_time(), time.monotonic()
    task_id = sim.add_task([("PENDING", 0), ("PROCESSING", 20), ("SUCCESS", 60)])
    seen = [status.status async for status in client.tts.watch(task_id)]
    assert seen == ["PENDING", "PROCESSING", "SUCCESS"]
    assert anyio.current_time() - started >= 60
    assert time.monotonic() - wall < 1


async def test_a_stall_outlasts_the_read_timeout(sim: Simulator) -> None:
    """A 30 s stall against a 10 s read timeout ends each try in APITimeoutError, on virtual time."""
    task_id = sim.add_task([("SUCCESS", 0)])
    sim.set_faults(FaultPlan(rates={"stall": 1.0}, stall=30.0))
    wall = time.monotonic()
    async with (
        sim.asgi_http_client(timeout=httpx.Timeout(60.0, read=10.0)) as http,
        AsyncCambClient("test-key", base_url=sim.asgi_url, http_client=http, max_retries=1) as client,
    ):
        with pytest.raises(APITimeoutError):
            await client.tts.status(task_id)
    assert [record.fault for record in sim.request_log] == ["stall", "stall"]
    assert time.monotonic() - wall < 1


# [docs:virtual-time-end]
