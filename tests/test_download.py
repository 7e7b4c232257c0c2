"""Result files streamed to a path, a file object or memory, over real TCP.

Byte for byte and in bounded memory; atomic to a path (nothing under the
target name after any failure or cancellation, a broken body fetched again
from the start); written as it arrives to a file object and never retried
after the first byte; the API key never sent to a file's other host.
"""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import httpx
import pytest
from support import HTTPX_UNCLOSED_ITERATORS, leftovers, partly_written

from camb_async import AsyncCambClient, DownloadInterruptedError, NotFoundError
from camb_async._download import expected_size
from camb_async.testing import FaultPlan, Simulator, result_bytes, result_sha256

if TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncIterator, Callable, Iterator

    from camb_async._transport import Transport

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

KEY = "sk-download-key"
MB = 2**20


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A fresh simulator per test: its fault plan and file log are the test's own."""
    with Simulator(seed=5) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[AsyncCambClient]:
    """A client of ``sim`` whose request timeouts are short, so a broken body shows fast."""
    async with AsyncCambClient(KEY, base_url=sim.url, timeout=httpx.Timeout(5.0)) as camb:
        yield camb


def finished_run(sim: Simulator, size: int | None = None, *, redirect: bool = False) -> int:
    """The run id of a finished TTS task whose audio is ``size`` bytes of ``result_bytes``."""
    task_id = sim.add_task([("SUCCESS", 0.0)], result_size=size, redirect_result=redirect)
    run_id = sim.record(task_id).run_id
    assert run_id is not None
    return run_id


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_100_mb_to_a_path_byte_for_byte_in_bounded_memory(
    sim: Simulator, tmp_path: pathlib.Path, transport: Transport
) -> None:
    """A 100 MB result reaches the file whole (sha256 checked) while the process allocates
    well under a tenth of it at any moment, on both transports."""
    size = 100 * MB
    run_id = finished_run(sim, size)
    target = tmp_path / "big.flac"
    async with AsyncCambClient(KEY, base_url=sim.url, transport=transport) as client:
        tracemalloc.start()
        try:
            written = await client.tts.download(run_id, target)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert written == size == target.stat().st_size
    digest = hashlib.sha256()
    with target.open("rb") as file:
        while block := file.read(MB):
            digest.update(block)
    assert digest.hexdigest() == result_sha256(run_id, size)
    assert peak < 8 * MB, f"peak traced memory {peak / MB:.1f} MB"
    assert leftovers(tmp_path) == ["big.flac"]


async def test_to_a_file_object_as_it_arrives(client: AsyncCambClient, sim: Simulator) -> None:
    """Into a binary file object the bytes are written in order, and the count is returned."""
    run_id = finished_run(sim, 3 * MB + 7)
    sink = io.BytesIO()
    assert await client.tts.download(run_id, sink) == 3 * MB + 7
    assert sink.getvalue() == b"".join(result_bytes(run_id, 3 * MB + 7))


async def test_to_an_async_file_object(
    client: AsyncCambClient, sim: Simulator, tmp_path: pathlib.Path
) -> None:
    """A file object whose write is a coroutine (anyio.open_file) is awaited."""
    run_id = finished_run(sim, MB)
    async with await anyio.open_file(tmp_path / "a.bin", "wb") as file:
        assert await client.tts.download(run_id, file) == MB
    assert (tmp_path / "a.bin").read_bytes() == b"".join(result_bytes(run_id, MB))


async def test_into_memory_matches_the_file(client: AsyncCambClient, sim: Simulator) -> None:
    """result() reads the same bytes into memory."""
    run_id = finished_run(sim, 2 * MB)
    assert await client.tts.result(run_id) == b"".join(result_bytes(run_id, 2 * MB))


async def test_an_existing_target_is_replaced_whole(
    client: AsyncCambClient, sim: Simulator, tmp_path: pathlib.Path
) -> None:
    """A target that exists is replaced by the new file, never appended to."""
    target = tmp_path / "a.wav"
    target.write_bytes(b"old" * 100_000)
    run_id = finished_run(sim, 1000)
    assert await client.tts.download(run_id, target) == 1000
    assert target.read_bytes() == b"".join(result_bytes(run_id, 1000))


async def test_broken_body_to_a_path_starts_over(
    client: AsyncCambClient, sim: Simulator, tmp_path: pathlib.Path
) -> None:
    """A body that breaks off midway is fetched again from the start: the file is whole,
    not the first half plus the whole."""
    run_id = finished_run(sim, 4 * MB)
    sim.set_faults(FaultPlan(script=["drop"]))
    target = tmp_path / "a.wav"
    assert await client.tts.download(run_id, target) == 4 * MB
    assert target.read_bytes() == b"".join(result_bytes(run_id, 4 * MB))
    assert [r.fault for r in sim.request_log] == ["drop", None]
    assert leftovers(tmp_path) == ["a.wav"]


async def test_broken_body_after_every_retry_leaves_no_file(sim: Simulator, tmp_path: pathlib.Path) -> None:
    """When every try breaks off, DownloadInterruptedError is raised and nothing is left:
    no target, no temporary file."""
    run_id = finished_run(sim, 4 * MB)
    sim.set_faults(FaultPlan(script=["drop"] * 3))
    async with AsyncCambClient(KEY, base_url=sim.url, max_retries=2) as client:
        with pytest.raises(DownloadInterruptedError) as caught:
            await client.tts.download(run_id, tmp_path / "a.wav")
    assert caught.value.bytes_written == 0
    assert len(sim.request_log) == 3
    assert leftovers(tmp_path) == []


async def test_broken_body_into_a_file_object_is_not_retried(client: AsyncCambClient, sim: Simulator) -> None:
    """Into a file object nothing is retried once a byte was written; the error says how many were."""
    run_id = finished_run(sim, 4 * MB)
    sim.set_faults(FaultPlan(script=["drop"]))
    sink = io.BytesIO()
    with pytest.raises(DownloadInterruptedError, match=r"after \d+ bytes had been written") as caught:
        await client.tts.download(run_id, sink)
    assert 0 < caught.value.bytes_written == len(sink.getvalue()) < 4 * MB
    assert sink.getvalue() == b"".join(result_bytes(run_id, 4 * MB))[: caught.value.bytes_written]
    assert len(sim.request_log) == 1


@HTTPX_UNCLOSED_ITERATORS
async def test_cancelled_download_leaves_no_file(
    client: AsyncCambClient, sim: Simulator, tmp_path: pathlib.Path
) -> None:
    """A download cancelled midway removes its temporary file; the target never appears."""
    run_id = finished_run(sim, 64 * MB)
    written: list[int] = []

    async def cancel_once_started(scope: anyio.CancelScope) -> None:
        while not partly_written(tmp_path):  # noqa: ASYNC110 (no event to wait for: the file system is watched)
            await anyio.sleep(0.001)
        scope.cancel()

    scope = anyio.CancelScope()
    async with anyio.create_task_group() as group:
        with scope:
            group.start_soon(cancel_once_started, scope)
            written.append(await client.tts.download(run_id, tmp_path / "a.wav"))
    assert scope.cancelled_caught
    assert written == []
    assert leftovers(tmp_path) == []


async def test_missing_run_is_not_found_and_leaves_nothing(
    client: AsyncCambClient, tmp_path: pathlib.Path
) -> None:
    """A run the API does not know is a NotFoundError, with no file left behind."""
    with pytest.raises(NotFoundError):
        await client.tts.download(999_999, tmp_path / "a.wav")
    assert leftovers(tmp_path) == []


async def test_bad_targets_fail_before_any_request(
    client: AsyncCambClient, sim: Simulator, tmp_path: pathlib.Path
) -> None:
    """A folder as target, a missing folder, or no file object are refused before any request."""
    before = sim.request_count
    with pytest.raises(IsADirectoryError):
        await client.tts.download(1, tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        await client.tts.download(1, tmp_path / "nowhere" / "a.wav")
    with pytest.raises(TypeError, match="file object"):
        await client.tts.download(1, 42)  # type: ignore[arg-type]
    assert sim.request_count == before


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_the_key_never_goes_to_storage(
    sim: Simulator, tmp_path: pathlib.Path, transport: Transport
) -> None:
    """A file URL on another host, fetched directly or through the result endpoint's redirect,
    gets no x-api-key, on both transports, while the API's own requests carry it."""
    run_id = finished_run(sim, 1000, redirect=True)
    async with AsyncCambClient(KEY, base_url=sim.url, transport=transport) as client:
        url = await client.tts.result(run_id, output_type="file_url")
        assert url.output_url.startswith("http://localhost:")
        assert await client.download_url(url.output_url, tmp_path / "direct.wav") == 1000
        assert await client.tts.download(run_id, tmp_path / "redirected.wav") == 1000
        assert len(await client.tts.result(run_id)) == 1000
    assert len(sim.file_requests) == 3
    assert not any(request.had_key for request in sim.file_requests)
    expected = b"".join(result_bytes(run_id, 1000))
    assert (tmp_path / "direct.wav").read_bytes() == (tmp_path / "redirected.wav").read_bytes() == expected


def recorder(seen: list[tuple[int, int | None]]) -> Callable[[int, int | None], None]:
    """A progress callback that keeps each (bytes so far, total) it is given."""

    def record(done: int, total: int | None) -> None:
        seen.append((done, total))

    return record


async def test_progress_is_told_bytes_so_far_and_the_announced_total(
    client: AsyncCambClient, sim: Simulator, tmp_path: pathlib.Path
) -> None:
    """``progress=`` gets (0, total) when the answer starts, then (bytes so far, total) after
    each chunk, up to (size, size); download_url takes it too."""
    run_id = finished_run(sim, 2 * MB + 5)
    seen: list[tuple[int, int | None]] = []
    assert await client.tts.download(run_id, tmp_path / "a.wav", progress=recorder(seen)) == 2 * MB + 5
    assert seen[0] == (0, 2 * MB + 5)
    assert seen[-1] == (2 * MB + 5, 2 * MB + 5)
    assert len(seen) >= 3
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    url = (await client.tts.result(run_id, output_type="file_url")).output_url
    by_url: list[tuple[int, int | None]] = []
    await client.download_url(url, io.BytesIO(), progress=recorder(by_url))
    assert by_url[-1] == (2 * MB + 5, 2 * MB + 5)


async def test_progress_starts_over_with_a_transfer_that_starts_over(
    client: AsyncCambClient, sim: Simulator, tmp_path: pathlib.Path
) -> None:
    """A body that broke off is fetched again: progress goes back to 0, then to the end."""
    run_id = finished_run(sim, 4 * MB)
    sim.set_faults(FaultPlan(script=["drop"]))
    seen: list[tuple[int, int | None]] = []
    await client.tts.download(run_id, tmp_path / "a.wav", progress=recorder(seen))
    assert [got for got in seen if got[0] == 0] == [(0, 4 * MB), (0, 4 * MB)]
    assert seen[-1] == (4 * MB, 4 * MB)


def test_the_total_is_unknown_without_a_plain_content_length() -> None:
    """No Content-Length, a malformed one, or a compressed body (whose length is not the
    delivered size): the total is None."""
    assert expected_size(httpx.Headers({"content-length": "12"})) == 12
    assert expected_size(httpx.Headers({"content-length": "12", "content-encoding": "identity"})) == 12
    assert expected_size(httpx.Headers({})) is None
    assert expected_size(httpx.Headers({"content-length": "twelve"})) is None
    assert expected_size(httpx.Headers({"content-length": "12", "content-encoding": "gzip"})) is None


async def test_a_progress_that_is_not_callable_is_refused(client: AsyncCambClient) -> None:
    """progress= must be callable: a TypeError before any request."""
    with pytest.raises(TypeError, match="progress"):
        await client.tts.download(1, io.BytesIO(), progress=42)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["ftp://x.test/a", "not a url", "/relative/path", ""])
async def test_download_url_refuses_what_is_not_http(client: AsyncCambClient, url: str) -> None:
    """download_url takes only an absolute http(s) URL."""
    with pytest.raises(ValueError, match="http"):
        await client.download_url(url, io.BytesIO())


async def test_transfers_have_their_own_slots_apart_from_the_polls(sim: Simulator) -> None:
    """Downloads never take more than max_concurrent_transfers at once, and never feed the
    polls' adaptive limit (a long transfer is not a slow round trip)."""
    runs = [finished_run(sim, 2 * MB) for _ in range(6)]
    async with AsyncCambClient(KEY, base_url=sim.url, max_concurrent_transfers=2) as client:
        await client.status(sim.add_task())
        state = client._requester._loop_state()
        samples = state.limiter._samples  # round trips the adaptive limit has measured
        active = peak = 0
        transfers = state.transfers

        class Counting:
            async def __aenter__(self) -> None:
                nonlocal active, peak
                await transfers.acquire()
                active += 1
                peak = max(peak, active)

            async def __aexit__(self, *exc_info: object) -> None:
                nonlocal active
                active -= 1
                transfers.release()
                await anyio.lowlevel.checkpoint()

        state.transfers = Counting()  # type: ignore[assignment]
        async with anyio.create_task_group() as group:
            for run_id in runs:
                group.start_soon(client.tts.download, run_id, io.BytesIO())
        assert peak == 2
        assert state.limiter._samples == samples
        await client.status(sim.add_task())
        assert state.limiter._samples == samples + 1
