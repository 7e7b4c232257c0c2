"""Every task family under faults over real TCP: creates sent once, watches ridden through, downloads whole.

* A create of each family (JSON and multipart uploads alike) meets each fault
  once: it returns a task id or raises its typed error, after exactly one POST.
* 100 tasks of each family, followed with wait_many through a mix of every
  fault, end with their true final status.
* A file result downloaded through a stall or a restart of the server arrives
  byte for byte, or fails typed with nothing left under the target name.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, get_args

import anyio
import anyio.to_thread
import httpx
import pytest
from support import CREATE, leftovers, partly_written

from camb_async import (
    AsyncCambClient,
    CambError,
    CreateOutcomeUnknownError,
    DownloadInterruptedError,
    TaskError,
    TaskFamily,
    TaskHandle,
    TaskStatus,
)
from camb_async._resources import FAMILIES
from camb_async.testing import FAULT_KINDS, FaultPlan, result_bytes

from .harness import ERROR_OF_CREATE_FAULT, FIGURES, FINALS, KEY, check_error_is_clean

if TYPE_CHECKING:
    import pathlib

    from camb_async.testing import Simulator

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

FILE_FAMILIES: tuple[TaskFamily, ...] = ("tts", "text_to_sound", "translated_tts")


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("kind", FAULT_KINDS)
@pytest.mark.parametrize("family", sorted(FAMILIES))
async def test_a_create_of_every_family_is_sent_once_whatever_the_fault(
    sim: Simulator, family: TaskFamily, kind: str, anyio_backend: str
) -> None:
    """One fault on the create's POST: a task id or the fault's typed error, after exactly one POST."""
    sim.set_faults(FaultPlan(script=[kind], methods=("POST",), stall=3.0))
    async with AsyncCambClient(KEY, base_url=sim.url, timeout=httpx.Timeout(5.0, read=0.5)) as client:
        error = ERROR_OF_CREATE_FAULT[kind]
        with anyio.fail_after(10):
            if error is None:
                task_id = await CREATE[family](client, sim)
                assert sim.record(task_id, family=family).task_id == task_id
            else:
                with pytest.raises(error) as caught:
                    await CREATE[family](client, sim)
                check_error_is_clean(caught.value)
                if isinstance(caught.value, CreateOutcomeUnknownError):
                    assert kind in ("502", "504", "drop", "stall")
    assert sum(1 for record in sim.request_log if record.method == "POST") == 1


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_watches_of_every_family_ride_out_a_fault_mix(
    sim: Simulator, short_backoff: None, anyio_backend: str
) -> None:
    """100 tasks of each family through every fault at once: each ends with its true final status."""
    rng = random.Random(13)
    handles: list[TaskHandle] = []
    for family in get_args(TaskFamily):
        for _ in range(100):
            final = rng.choices(list(FINALS), list(FINALS.values()))[0]
            task_id = sim.add_task([("PENDING", 0.0), (final, rng.uniform(0.2, 2.0))], family=family)
            handles.append(TaskHandle(family=family, task_id=task_id))
    sim.set_faults(FaultPlan.uniform(FAULT_KINDS, 0.3, seed=13, retry_after=0.02, stall=3.0))
    timeout = httpx.Timeout(5.0, read=1.0)
    async with AsyncCambClient(KEY, base_url=sim.url, timeout=timeout) as client:
        with anyio.fail_after(120):
            outcomes = await client.wait_many(handles, timeout=90)
    wrong: list[tuple[TaskHandle, object]] = []
    for handle, outcome in zip(handles, outcomes, strict=True):
        final = sim.record(handle.task_id, family=handle.family).final_status
        seen = outcome.status.status if isinstance(outcome, TaskError) else getattr(outcome, "status", None)
        if str(seen) != final:
            wrong.append((handle, outcome))
    assert not wrong, wrong[:5]
    FIGURES.add(
        f"families under a fault mix{'' if anyio_backend == 'asyncio' else ' (trio)'}",
        tasks=len(handles),
        resolved=len(handles),
        lost=0,
        requests=len(sim.request_log),
        faults_injected=sum(1 for r in sim.request_log if r.fault is not None),
    )
    assert all(isinstance(o, TaskStatus | TaskError) for o in outcomes)


def finished_file_run(sim: Simulator, family: TaskFamily, size: int) -> int:
    task_id = sim.add_task([("SUCCESS", 0.0)], family=family, result_size=size)
    run_id = sim.record(task_id, family=family).run_id
    assert run_id is not None
    return run_id


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
@pytest.mark.parametrize("family", FILE_FAMILIES)
async def test_a_stalled_download_starts_over_and_arrives_whole(
    sim: Simulator, tmp_path: pathlib.Path, family: TaskFamily, transport: str, anyio_backend: str
) -> None:
    """A result whose answer stalls past the read timeout is fetched again and written whole."""
    size = 8 * 2**20
    run_id = finished_file_run(sim, family, size)
    sim.set_faults(FaultPlan(script=["stall"], stall=3.0))
    timeout = httpx.Timeout(5.0, read=0.5)
    async with AsyncCambClient(KEY, base_url=sim.url, timeout=timeout, transport=transport) as client:  # type: ignore[arg-type]
        with anyio.fail_after(30):
            written = await getattr(client, family).download(run_id, tmp_path / "a.bin")
    assert written == size
    assert (tmp_path / "a.bin").read_bytes() == b"".join(result_bytes(run_id, size))
    assert leftovers(tmp_path) == ["a.bin"]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize("family", FILE_FAMILIES)
async def test_a_download_across_a_restart_is_whole_or_leaves_nothing(
    sim: Simulator, tmp_path: pathlib.Path, family: TaskFamily, anyio_backend: str
) -> None:
    """The server restarts mid-download: the file arrives whole (fetched again), or a typed
    error is raised and nothing is left under the target name."""
    size = 128 * 2**20
    run_id = finished_file_run(sim, family, size)
    target = tmp_path / "big.bin"
    outcome: list[object] = []

    async def download(client: AsyncCambClient) -> None:
        try:
            outcome.append(await getattr(client, family).download(run_id, target))
        except CambError as exc:
            outcome.append(exc)

    async with AsyncCambClient(KEY, base_url=sim.url) as client:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                group.start_soon(download, client)
                while not partly_written(tmp_path):  # noqa: ASYNC110 (the file system is watched)
                    await anyio.sleep(0.005)
                await anyio.to_thread.run_sync(lambda: sim.restart(downtime=0.2))
    assert len(outcome) == 1
    if isinstance(outcome[0], int):
        assert outcome[0] == size
        assert target.stat().st_size == size
        assert leftovers(tmp_path) == ["big.bin"]
    else:
        assert isinstance(outcome[0], DownloadInterruptedError), outcome[0]
        assert leftovers(tmp_path) == []
