"""The SDK over real TCP against the bundled simulator (uvicorn on 127.0.0.1)."""

from __future__ import annotations

import math
from contextlib import aclosing
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest
from support import httpcore_pools

from camb_async import (
    AsyncCambClient,
    AuthenticationError,
    NotFoundError,
    TaskError,
    TaskFailedError,
    TaskPaymentRequiredError,
    TaskState,
    TaskTimedOutError,
    UnprocessableEntityError,
    WatchTimeoutError,
)
from camb_async.testing import Simulator

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

KEY = "sk-test-SECRET-never-shown"


def _pool_is_idle(client: AsyncCambClient) -> bool:
    """Whether httpcore's pool behind the client holds no request and no busy connection."""
    return all(
        not pool._requests and all(c.is_idle() or c.is_closed() for c in pool.connections)
        for pool in httpcore_pools(client)
    )


async def test_watch_yields_each_transition_then_ends(
    sim_client: AsyncCambClient, simulator: Simulator
) -> None:
    """watch() yields PENDING, the unknown PROCESSING, then SUCCESS, and stops polling after it."""
    task_id = simulator.add_task([("PENDING", 0), ("PROCESSING", 0.2), ("SUCCESS", 0.4)])
    seen = [s.status async for s in sim_client.watch(task_id, interval=0.05)]
    assert seen == ["PENDING", "PROCESSING", "SUCCESS"]
    assert seen[2] is TaskState.SUCCESS
    assert not isinstance(seen[1], TaskState)
    polls = simulator.record(task_id).polls
    await anyio.sleep(0.2)
    assert simulator.record(task_id).polls == polls


@pytest.mark.parametrize(
    ("final", "error"),
    [
        ("ERROR", TaskFailedError),
        ("TIMEOUT", TaskTimedOutError),
        ("PAYMENT_REQUIRED", TaskPaymentRequiredError),
    ],
)
async def test_wait_raises_typed_task_error(
    sim_client: AsyncCambClient, simulator: Simulator, final: str, error: type[TaskError]
) -> None:
    """wait() raises the TaskError subclass for each failed terminal status, carrying it."""
    task_id = simulator.add_task([("PENDING", 0), (final, 0.1)])
    with pytest.raises(error) as caught:
        await sim_client.wait(task_id, interval=0.05)
    assert caught.value.status.status == final
    assert caught.value.task_id == task_id


async def test_create_wait_download(sim_client: AsyncCambClient, simulator: Simulator) -> None:
    """A task created over POST /tts finishes and its audio downloads as a WAV file."""
    task_id = await sim_client.tts.create(text="hello", voice_id=1, language=1)
    final = await sim_client.wait(task_id, interval=0.1)
    assert final.status == "SUCCESS"
    assert final.run_id is not None
    audio = await sim_client.tts.result(final.run_id)
    assert audio[:4] == b"RIFF"
    assert len(audio) > 1000
    assert simulator.record(task_id).polls >= 1


async def test_api_errors_over_tcp(sim_client: AsyncCambClient) -> None:
    """Unknown tasks and runs give NotFoundError, bad create bodies UnprocessableEntityError."""
    with pytest.raises(NotFoundError, match="404"):
        await sim_client.status("no-such-task")
    with pytest.raises(NotFoundError):
        await sim_client.tts.result(987654)
    with pytest.raises(UnprocessableEntityError) as caught:
        await sim_client._requester.request("POST", "/tts", lambda r: r.content, json={"text": "x"})
    assert caught.value.status_code == 422


async def test_wrong_key_is_authentication_error_without_the_key() -> None:
    """A rejected key raises AuthenticationError once, and the key is in no text."""
    async with Simulator(api_key="the-right-key") as sim, AsyncCambClient(KEY, base_url=sim.url) as client:
        task_id = sim.add_task()
        with pytest.raises(AuthenticationError) as caught:
            await client.status(task_id)
        assert sim.request_count == 1
        assert KEY not in str(caught.value)
        assert KEY not in repr(caught.value)
        assert KEY not in repr(client)


@pytest.mark.parametrize("task_id", ["../tts-result/1", "a/b", "..", "?x=1", "#frag", " ", "a\r\nb", "%2F"])
async def test_hostile_task_ids_never_leave_their_path(
    sim_client: AsyncCambClient, simulator: Simulator, task_id: str
) -> None:
    """Ids that could address another URL are refused; the rest stay one encoded segment."""
    before = len(simulator.request_paths)
    try:
        await sim_client.status(task_id)
    except ValueError:
        assert len(simulator.request_paths) == before
    except NotFoundError:
        (path,) = simulator.request_paths[before:]
        assert path.startswith("/apis/tts/")
        assert path.count("/") == 3
    else:  # pragma: no cover - the simulator knows no such task
        pytest.fail(f"{task_id!r} unexpectedly found")


async def test_deadline_over_tcp(sim_client: AsyncCambClient, simulator: Simulator) -> None:
    """A task that never finishes ends the watch with WatchTimeoutError at the deadline."""
    task_id = simulator.add_task([("PENDING", 0)])
    started = anyio.current_time()
    with pytest.raises(WatchTimeoutError) as caught:
        await sim_client.wait(task_id, interval=0.05, timeout=0.5)
    elapsed = anyio.current_time() - started
    assert 0.5 <= elapsed < 1.5
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.last_status is not None
    assert caught.value.last_status.status == "PENDING"


async def test_break_cancel_and_close_leave_client_usable(
    sim_client: AsyncCambClient, simulator: Simulator
) -> None:
    """Breaking out of, cancelling or closing watches leaks no connection; the client still works."""
    slow = [simulator.add_task([("PENDING", 0), ("SUCCESS", 30)]) for _ in range(20)]
    for task_id in slow[:5]:
        async with aclosing(sim_client.watch(task_id, interval=0.05)) as statuses:
            async for _ in statuses:
                break
    with anyio.move_on_after(0.3):
        async with anyio.create_task_group() as group:
            for task_id in slow[5:15]:
                group.start_soon(sim_client.wait, task_id)
    for task_id in slow[15:]:
        watch = sim_client.watch(task_id, interval=0.05)
        await watch.__anext__()
        await watch.aclose()
    assert _pool_is_idle(sim_client)
    done = simulator.add_task([("PENDING", 0), ("SUCCESS", 0.1)])
    assert (await sim_client.wait(done, interval=0.05)).status == "SUCCESS"


async def test_closing_client_ends_running_watches(simulator: Simulator) -> None:
    """aclose() while watches run makes them end with ClientClosedError, not a hang."""
    from camb_async import ClientClosedError

    client = AsyncCambClient(KEY, base_url=simulator.url)
    errors: list[BaseException] = []

    async def watcher(task_id: str) -> None:
        try:
            await client.wait(task_id, interval=0.05)
        except ClientClosedError as exc:
            errors.append(exc)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(watcher, simulator.add_task([("PENDING", 0)]))
            await anyio.sleep(0.2)
            await client.aclose()
    assert len(errors) == 10


# -- load: thousands of watches gathered on one client -------------------------------------


@pytest.fixture(scope="module")
def load_server() -> Iterator[str]:
    """The simulator in its own process (python -m camb_async.testing), as users would run it."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "camb_async.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("camb-async simulator listening on "), line
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _seed(base_url: str, count: int, seed: int) -> list[str]:
    """Create ``count`` tasks finishing between 0.5 and 3 s, one in ten failing."""
    import random

    rng = random.Random(seed)
    specs = [
        {"timeline": [["PENDING", 0], ["ERROR" if i % 10 == 0 else "SUCCESS", rng.uniform(0.5, 3.0)]]}
        for i in range(count)
    ]
    origin = base_url.removesuffix("/apis")
    answer = httpx.post(f"{origin}/_sim/tasks", json={"tasks": specs}, timeout=60)
    answer.raise_for_status()
    ids: list[str] = answer.json()["task_ids"]
    return ids


@pytest.mark.slow
@pytest.mark.parametrize("count", [10_000])
async def test_ten_thousand_gathered_watches_all_finish(load_server: str, count: int) -> None:
    """10,000 wait() calls gathered on one client all finish, with no PoolTimeout or other error."""
    task_ids = _seed(load_server, count, seed=count)
    outcomes: dict[str, str] = {}
    async with AsyncCambClient(KEY, base_url=load_server) as client:

        async def one(task_id: str) -> None:
            try:
                await client.wait(task_id)
                outcomes[task_id] = "SUCCESS"
            except TaskFailedError as exc:
                outcomes[task_id] = str(exc.status.status)

        with anyio.fail_after(300):
            async with anyio.create_task_group() as group:
                for task_id in task_ids:
                    group.start_soon(one, task_id)
        assert _pool_is_idle(client)
    failed = sum(1 for status in outcomes.values() if status == "ERROR")
    assert len(outcomes) == count
    assert failed == math.ceil(count / 10)
    assert set(outcomes.values()) == {"SUCCESS", "ERROR"}
