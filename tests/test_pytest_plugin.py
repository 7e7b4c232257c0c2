"""The pytest plugin, as a user's suite meets it: run by pytester in a fresh pytest process."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Sequence

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow  # each test runs a pytest session in a process

# Runs are strict as this project's are, with anyio's plugin and camb-async's only (pytest-asyncio
# and looptime are installed for the tests here that turn them on).
STRICT = ("-p", "no:cacheprovider", "-W", "error", "-p", "no:looptime_plugin")
NO_ASYNCIO = ("-p", "no:asyncio")

REPORT = """
    import socket


    def pytest_sessionfinish(session):
        seen = getattr(session.config, "camb_seen", None)
        if seen is None:
            return
        port, client = seen
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            serving = True
        except OSError:
            serving = False
        print(f"AFTER serving={serving} client_closed={client.is_closed}")
"""

USER_SUITE = """
    import anyio
    import pytest

    from camb_async.testing import FaultPlan, is_testing

    pytestmark = pytest.mark.anyio


    @pytest.fixture(params=["asyncio", "trio"])
    def anyio_backend(request):
        return request.param


    async def test_a_watch_ends(camb_simulator, camb_client, request):
        task_id = camb_simulator.add_task([("PENDING", 0), ("PROCESSING", 0.1), ("SUCCESS", 0.2)])
        seen = [s.status async for s in camb_client.tts.watch(task_id, interval=0.05)]
        assert seen == ["PENDING", "PROCESSING", "SUCCESS"]
        assert not is_testing()
        request.config.camb_seen = (camb_simulator.port, camb_client)


    async def test_no_wait_skips_the_backoff(camb_simulator, camb_client, camb_no_wait):
        task_id = camb_simulator.add_task([("SUCCESS", 0)])
        camb_simulator.set_faults(FaultPlan(script=["429"], retry_after=5.0))
        assert is_testing()
        with anyio.fail_after(1):  # the 429 asks for 5 s
            status = await camb_client.tts.status(task_id)
        assert status.status == "SUCCESS"


    async def test_a_plan_ends_with_its_test(camb_simulator, camb_client):
        task_id = camb_simulator.add_task([("SUCCESS", 0)])
        assert camb_simulator.faults == FaultPlan()
        camb_simulator.set_faults(FaultPlan(rates={"500": 1.0}))
"""


def run(pytester: pytest.Pytester, *args: str, plugins: Sequence[str] = NO_ASYNCIO) -> pytest.RunResult:
    """Run pytest on ``pytester``'s folder in a fresh process, as a user's suite runs."""
    return pytester.runpytest_subprocess(*STRICT, *plugins, *args)


def outcomes(result: pytest.RunResult, *, passed: int) -> None:
    """Fail with pytest's own output unless exactly ``passed`` tests passed and nothing else."""
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=passed)


def test_fixtures_serve_a_users_suite_on_asyncio_and_trio(pytester: pytest.Pytester) -> None:
    """camb_simulator, camb_client and camb_no_wait work in a plain user suite on both backends,
    with nothing but camb-async installed; a fault plan set by one test is gone in the next."""
    pytester.makepyfile(test_user=USER_SUITE)
    outcomes(run(pytester), passed=6)


def test_the_simulator_stops_and_the_client_closes(pytester: pytest.Pytester) -> None:
    """After the session the simulator no longer accepts connections and the test's client is closed."""
    pytester.makeconftest(REPORT)
    pytester.makepyfile(test_user=USER_SUITE)
    result = run(pytester, "-s", "-k", "test_a_watch_ends")
    outcomes(result, passed=2)
    result.stdout.fnmatch_lines(["*AFTER serving=False client_closed=True*"])


HEAVY = ("camb_async.testing._app", "camb_async.testing._simulator", "uvicorn")


@pytest.mark.parametrize(
    ("test_body", "loaded"),
    [
        ("def test_plain():\n    assert True\n", ()),
        ("def test_uses_it(camb_simulator):\n    assert camb_simulator.running\n", HEAVY),
    ],
    ids=["unused", "used"],
)
def test_nothing_heavy_loads_unless_a_fixture_is_used(
    pytester: pytest.Pytester, test_body: str, loaded: Sequence[str]
) -> None:
    """With the plugin registered, a suite that uses none of its fixtures never imports uvicorn or
    the simulator; one that uses camb_simulator does (which shows the check can see them)."""
    pytester.makeconftest(
        f"""
        import sys


        def pytest_sessionfinish(session):
            registered = session.config.pluginmanager.hasplugin("camb_async")
            heavy = sorted(name for name in {HEAVY!r} if name in sys.modules)
            print(f"PLUGIN registered={{registered}} heavy={{heavy}}")
        """
    )
    pytester.makepyfile(test_user=test_body)
    result = run(pytester, "-s")
    outcomes(result, passed=1)
    assert f"PLUGIN registered=True heavy={sorted(loaded)}" in result.stdout.str()


def test_client_fixture_under_pytest_asyncio_auto_mode(pytester: pytest.Pytester) -> None:
    """pytest-asyncio in auto mode runs camb_client and a test that uses it, no anyio marker."""
    pytester.makepyfile(
        test_user=textwrap.dedent(
            """
            async def test_status(camb_simulator, camb_client):
                task_id = camb_simulator.add_task([("SUCCESS", 0)])
                assert (await camb_client.tts.status(task_id)).status == "SUCCESS"
            """
        )
    )
    auto = ("-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function")
    result = run(pytester, plugins=auto)
    outcomes(result, passed=1)


def test_simulator_options_reach_the_simulator(pytester: pytest.Pytester) -> None:
    """Overriding camb_simulator_options configures the session's simulator, its fault plan included."""
    pytester.makeconftest(
        """
        import pytest

        from camb_async.testing import FaultPlan


        @pytest.fixture(scope="session")
        def camb_simulator_options():
            return {"api_key": "only-this-key", "faults": FaultPlan(script=["503"])}
        """
    )
    pytester.makepyfile(
        test_user="""
        import httpx


        def test_first(camb_simulator):
            task_id = camb_simulator.add_task([("SUCCESS", 0)])
            with httpx.Client(headers={"x-api-key": "only-this-key"}) as http:
                assert http.get(f"{camb_simulator.url}/tts/{task_id}").status_code == 503
                assert http.get(f"{camb_simulator.url}/tts/{task_id}").status_code == 200
            with httpx.Client(headers={"x-api-key": "another"}) as http:
                assert http.get(f"{camb_simulator.url}/tts/{task_id}").status_code == 401


        def test_second_gets_the_script_afresh(camb_simulator):
            task_id = camb_simulator.add_task([("SUCCESS", 0)])
            with httpx.Client(headers={"x-api-key": "only-this-key"}) as http:
                assert http.get(f"{camb_simulator.url}/tts/{task_id}").status_code == 503
        """
    )
    outcomes(run(pytester), passed=2)


def test_client_fixture_redefined_for_pytest_asyncio_strict_mode(pytester: pytest.Pytester) -> None:
    """In pytest-asyncio's strict mode, the camb_client that docs/testing.md shows redefining works."""
    pytester.makeconftest(
        """
        import pytest_asyncio

        from camb_async import AsyncCambClient
        from camb_async.testing.pytest_plugin import TEST_API_KEY


        @pytest_asyncio.fixture
        async def camb_client(camb_simulator):
            async with AsyncCambClient(TEST_API_KEY, base_url=camb_simulator.url) as client:
                yield client
        """
    )
    pytester.makepyfile(
        test_user="""
        import pytest


        @pytest.mark.asyncio
        async def test_status(camb_simulator, camb_client):
            task_id = camb_simulator.add_task([("SUCCESS", 0)])
            assert (await camb_client.tts.status(task_id)).status == "SUCCESS"
        """
    )
    strict = ("-o", "asyncio_mode=strict", "-o", "asyncio_default_fixture_loop_scope=function")
    outcomes(run(pytester, plugins=strict), passed=1)
