"""Shared fixtures: backends, a respx-backed client, and a real local simulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
import respx

from camb_async import AsyncCambClient
from camb_async.testing import Simulator, set_testing

if TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncIterator, Iterator

from support import API_KEY, BASE_URL, LIVE_KEY, RedisServer


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every async test on asyncio and on trio."""
    return str(request.param)


@pytest.fixture
def router() -> respx.Router:
    """A strict respx router: a request to an unmocked route fails the test."""
    return respx.Router(base_url=BASE_URL, assert_all_mocked=True)


@pytest.fixture
def unexpected(router: respx.Router) -> respx.Route:
    """A catch-all route: any request that reaches it was sent although it should not have been."""
    return router.route().respond(599)


@pytest.fixture
def no_wait() -> Iterator[None]:
    """SDK sleeps (poll intervals, retry backoff) are instant for the test."""
    with set_testing():
        yield


@pytest.fixture
async def client(router: respx.Router) -> AsyncIterator[AsyncCambClient]:
    """A client whose requests go to ``router`` through httpx.MockTransport (no patching)."""
    http = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    async with http, AsyncCambClient(API_KEY, base_url=BASE_URL, http_client=http) as camb:
        yield camb


@pytest.fixture(scope="session")
def simulator() -> Iterator[Simulator]:
    """A real CAMB.AI simulator on 127.0.0.1, shared by the session's integration tests."""
    with Simulator(seed=7) as sim:
        yield sim


@pytest.fixture
async def sim_client(simulator: Simulator) -> AsyncIterator[AsyncCambClient]:
    """A client talking to the simulator over real TCP."""
    async with AsyncCambClient(API_KEY, base_url=simulator.url) as camb:
        yield camb


def _reset_after(sim: Simulator) -> Iterator[Simulator]:
    """``sim`` for one test, back at default live settings and without live faults after it."""
    yield sim
    sim.set_live_faults(None)
    sim.set_live_settings(None)


@pytest.fixture
def live_simulator(simulator: Simulator) -> Iterator[Simulator]:
    """The shared simulator for live (WebSocket) sessions, its live settings and faults reset after the test."""
    yield from _reset_after(simulator)


@pytest.fixture(scope="module")
def live_key_simulator() -> Iterator[Simulator]:
    """A simulator of the module's own that takes only :data:`support.LIVE_KEY`."""
    with Simulator(api_key=LIVE_KEY) as sim:
        yield sim


@pytest.fixture
def live_key_sim(live_key_simulator: Simulator) -> Iterator[Simulator]:
    """The module's :func:`live_key_simulator`, its live settings and faults reset after the test."""
    yield from _reset_after(live_key_simulator)


@pytest.fixture
async def live_client(live_simulator: Simulator) -> AsyncIterator[AsyncCambClient]:
    """A client whose live sessions, speech-to-speech included, go to the simulator."""
    async with AsyncCambClient(
        API_KEY, base_url=live_simulator.url, realtime_url=live_simulator.realtime_url
    ) as camb:
        yield camb


@pytest.fixture
def redis_server(tmp_path: pathlib.Path) -> Iterator[RedisServer]:
    """Debian's redis-server on a free port of 127.0.0.1, the test's own (skips where it is missing)."""
    with RedisServer(tmp_path) as server:
        yield server
