"""An httpx2.AsyncClient as http_client (pydantic's continuation of httpx) behaves as an httpx one.

httpx2 requires Python 3.11, so these tests run from 3.11 on.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import pytest
from support import API_KEY, HangUpServer, refused_url

from camb_async import (
    APIConnectionError,
    AsyncCambClient,
    CreateOutcomeUnknownError,
    NotFoundError,
    TaskState,
)
from camb_async.testing import set_testing

if TYPE_CHECKING:
    from camb_async.testing import Simulator

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.integration,
    pytest.mark.skipif(sys.version_info < (3, 11), reason="httpx2 requires Python 3.11"),
]


def httpx2_client() -> Any:
    """A fresh httpx2.AsyncClient (typed loosely: httpx2 is not installed on 3.10)."""
    import httpx2  # type: ignore[import-not-found, unused-ignore]  # pyright: ignore[reportMissingImports]

    return httpx2.AsyncClient()  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]


async def test_calls_work_over_tcp(simulator: Simulator) -> None:
    """status, wait and a result go through an httpx2 client to the real simulator."""
    task_id = simulator.add_task([("PENDING", 0.0), ("SUCCESS", 0.2)])
    async with (
        httpx2_client() as http,
        AsyncCambClient(API_KEY, base_url=simulator.url, http_client=http) as client,
    ):
        final = await client.wait(task_id, interval=0.05)
        assert final.status == TaskState.SUCCESS
        assert final.run_id is not None
        assert (await client.tts.result(final.run_id)).startswith(b"RIFF")
        with pytest.raises(NotFoundError):
            await client.status("no-such-task")


async def test_a_refused_connection_is_retried_and_typed() -> None:
    """httpx2's ConnectError is retried like httpx's, then raised as an APIConnectionError, never raw."""
    async with (
        httpx2_client() as http,
        AsyncCambClient(API_KEY, base_url=refused_url(), http_client=http) as client,
    ):
        with set_testing(), pytest.raises(APIConnectionError) as caught:
            await client.status("abc")
    assert type(caught.value) is APIConnectionError
    cause = caught.value.__cause__
    assert type(cause).__name__ == "ConnectError"
    assert cause is not None
    assert type(cause.__cause__).__module__.startswith("httpx2")


async def test_a_create_that_reached_the_server_is_sent_once() -> None:
    """A create whose connection is cut after the server read it is sent once and typed, as on httpx."""
    with HangUpServer() as server:
        async with (
            httpx2_client() as http,
            AsyncCambClient(API_KEY, base_url=server.url, http_client=http) as client,
        ):
            with pytest.raises(CreateOutcomeUnknownError):
                await client.tts.create(text="hi", voice_id=1, language=1)
    assert server.requests == [b"POST /apis/tts HTTP/1.1"]
