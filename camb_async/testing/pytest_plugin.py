"""pytest fixtures for suites that test code using camb_async: a simulator, a client of it, no waits.

pytest loads this plugin by itself wherever camb-async is installed (the
``pytest11`` entry point). It only defines fixtures: the simulator, uvicorn and
the client load when a test first asks for one, so a suite that uses none of
them pays nothing.

* ``camb_simulator``: a running :class:`~camb_async.testing.Simulator` on
  127.0.0.1. One server serves the whole session; each test gets it with the fault
  plan of ``camb_simulator_options`` put in force afresh, live sessions at their
  default settings and without faults, and running.
* ``camb_simulator_options``: the keyword arguments of that simulator (none by
  default); override it, session-scoped, in a ``conftest.py`` to change them.
* ``camb_client``: an :class:`~camb_async.AsyncCambClient` bound to the simulator,
  opened for the test and closed after it. It is an async fixture: it runs under
  anyio's pytest plugin (asyncio and trio) and pytest-asyncio's auto mode.
* ``camb_no_wait``: every sleep of the SDK is instant for the test
  (:func:`~camb_async.testing.set_testing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from camb_async import AsyncCambClient
    from camb_async.testing import Simulator

__all__ = ["TEST_API_KEY", "camb_client", "camb_no_wait", "camb_simulator", "camb_simulator_options"]

TEST_API_KEY = "camb-test-key"
"""The API key ``camb_client`` sends (the simulator takes any key unless told one)."""


@pytest.fixture(scope="session")
def camb_simulator_options() -> dict[str, Any]:
    """Keyword arguments of the session's simulator (see ``Simulator``); none by default."""
    return {}


@pytest.fixture(scope="session")
def _camb_simulator_session(camb_simulator_options: dict[str, Any]) -> Iterator[Simulator]:
    """The session's simulator, started on first use and stopped at the end of the session."""
    from camb_async.testing import Simulator

    with Simulator(**camb_simulator_options) as sim:
        yield sim


@pytest.fixture
def camb_simulator(
    _camb_simulator_session: Simulator, camb_simulator_options: dict[str, Any]
) -> Iterator[Simulator]:
    """The session's running simulator, with its starting fault plan put in force afresh.

    Tasks and the request log are the session's: a test adds its own tasks and
    reads its own ids. A plan a test sets ends with the test.
    """
    sim = _camb_simulator_session
    plan = camb_simulator_options.get("faults")
    sim.set_faults(plan)
    sim.set_live_faults(None)
    sim.set_live_settings(None)
    if not sim.running:
        sim.start()
    yield sim
    sim.set_faults(plan)
    sim.set_live_faults(None)
    sim.set_live_settings(None)


@pytest.fixture
async def camb_client(camb_simulator: Simulator) -> AsyncIterator[AsyncCambClient]:
    """A client of ``camb_simulator`` (API key :data:`TEST_API_KEY`), closed after the test."""
    from camb_async import AsyncCambClient

    async with AsyncCambClient(TEST_API_KEY, base_url=camb_simulator.url) as client:
        yield client


@pytest.fixture
def camb_no_wait() -> Iterator[None]:
    """SDK sleeps (poll intervals, retry backoff) are instant for the test; deadlines still count."""
    from camb_async.testing import set_testing

    with set_testing():
        yield
