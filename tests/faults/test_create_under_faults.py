"""tts.create() under faults over real TCP: a POST that may have reached the server is never sent twice."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
import httpx
import pytest

from camb_async import (
    APITimeoutError,
    AsyncCambClient,
)
from camb_async.testing import FAULT_KINDS, FaultPlan, Simulator

from .harness import ERROR_OF_CREATE_FAULT, KEY, SecretWatch, check_error_is_clean

if TYPE_CHECKING:
    from camb_async._transport import Transport

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

RAISED = ERROR_OF_CREATE_FAULT


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
@pytest.mark.parametrize("kind", FAULT_KINDS)
async def test_create_is_sent_once_whatever_the_fault(
    sim: Simulator, kind: str, transport: Transport
) -> None:
    """One fault on POST /tts raises its typed error at once (or none), after exactly one POST,
    on either transport."""
    sim.set_faults(FaultPlan(script=[kind], methods=("POST",), stall=3.0))
    timeout = httpx.Timeout(5.0, read=0.5)
    async with AsyncCambClient(KEY, base_url=sim.url, timeout=timeout, transport=transport) as client:
        error = RAISED[kind]
        with anyio.fail_after(10):
            if error is None:
                task_id = await client.tts.create(text="hello", voice_id=1, language=1)
                assert sim.record(task_id).final_status == "SUCCESS"
            else:
                with pytest.raises(error) as caught:
                    await client.tts.create(text="hello", voice_id=1, language=1)
                assert isinstance(caught.value, error)
                assert isinstance(caught.value, APITimeoutError) is (kind == "stall")
                check_error_is_clean(caught.value)
    posts = [r for r in sim.request_log if r.method == "POST"]
    assert len(posts) == 1


async def test_create_is_retried_while_the_server_is_down(sim: Simulator, secret_watch: SecretWatch) -> None:
    """A POST refused while the server restarts never reached it: it is retried and creates one task."""
    refused = secret_watch.retries["ConnectError"]
    task_id = ""
    async with AsyncCambClient(KEY, base_url=sim.url) as client:
        await anyio.to_thread.run_sync(sim.stop)
        with anyio.fail_after(15):
            async with anyio.create_task_group() as group:
                group.start_soon(anyio.to_thread.run_sync, _start_later, sim)
                task_id = await client.tts.create(text="hello", voice_id=1, language=1)
    assert sim.record(task_id).final_status == "SUCCESS"
    assert sum(1 for r in sim.request_log if r.method == "POST") == 1
    assert sim.stats()["tasks"] == 1
    assert secret_watch.retries["ConnectError"] > refused  # it really was refused first


def _start_later(sim: Simulator) -> None:
    time.sleep(0.3)  # shorter than the first backoff and the second together
    sim.start()  # on the same port
