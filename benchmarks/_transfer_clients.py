"""The client side of the transfer scenario; each run is its own process
(``python -m benchmarks._transfer_clients``).

One process runs one client kind once, so its CPU time (``time.process_time``,
every thread of the process) and its memory belong to that client alone. It
writes its result as JSON to ``--out``.

Download kinds (each fetches the run's result file and writes it to a file):

* ``sdk`` / ``sdk-aiohttp``: ``client.tts.download(run_id, path)`` on the default transport /
  ``transport="aiohttp"``: a temporary file, written in worker threads, fsynced, renamed.
* ``sdk-file`` / ``sdk-aiohttp-file``: ``client.tts.download(run_id, file)`` to a file
  opened with ``open(path, "wb")``, written as the bytes arrive.
* ``httpx``: a raw ``httpx.AsyncClient`` with the SDK's pool: ``client.stream`` and
  ``aiter_bytes()`` into the same kind of file.
* ``aiohttp``: a raw ``aiohttp.ClientSession``: ``response.content.iter_any()`` into it.

Create kinds (``POST /tts``, ``--concurrency`` at a time): ``sdk``, ``sdk-aiohttp``,
``camb-sdk`` (``AsyncCambAI.text_to_speech.create_tts``), and the raw ``httpx`` and
``aiohttp`` clients posting the same JSON.

Batch kinds (``sdk``, ``sdk-aiohttp``): ``tts.results(run_ids)``, one request, against
``tts.result(run_id, output_type="file_url")`` for each run, all at once.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import pathlib
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

import httpx

from camb_async import DEFAULT_TIMEOUT, AsyncCambClient

from ._clients import API_KEY, SDK_LIMITS

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

DOWNLOAD_CLIENTS = ("sdk", "sdk-file", "httpx", "sdk-aiohttp", "sdk-aiohttp-file", "aiohttp")
CREATE_CLIENTS = ("sdk", "sdk-aiohttp", "camb-sdk", "httpx", "aiohttp")
BATCH_CLIENTS = ("sdk", "sdk-aiohttp")

Fetch = Callable[[int, pathlib.Path], Awaitable[int]]
"""Download run ``run_id``'s result file to a path; return the bytes written."""
Create = Callable[[], Awaitable[str]]
"""Create one TTS task; return its id."""

HEADERS = {"x-api-key": API_KEY, "accept": "application/json"}
CREATE_BODY: dict[str, Any] = {"text": "Hello from the benchmark.", "voice_id": 20303, "language": 1}


def _status_kib() -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` (peak RSS) of this process, in KiB, from ``/proc/self/status``."""
    values: dict[str, int] = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    return values


def reset_peak_rss() -> int:
    """Reset this process's peak RSS to its current RSS (``5`` to ``/proc/self/clear_refs``,
    Linux); return that RSS in KiB."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return _status_kib()["VmRSS"]


def peak_rss_kib() -> int:
    """This process's peak RSS since :func:`reset_peak_rss`, in KiB."""
    return _status_kib()["VmHWM"]


@asynccontextmanager
async def open_fetch(kind: str, base_url: str) -> AsyncGenerator[Fetch, None]:
    """A function that downloads a run's result file to a path through client ``kind``."""
    if kind in ("sdk", "sdk-file", "sdk-aiohttp", "sdk-aiohttp-file"):
        transport: Literal["httpx", "aiohttp"] = "aiohttp" if kind.startswith("sdk-aiohttp") else "httpx"
        async with AsyncCambClient(API_KEY, base_url=base_url, transport=transport) as client:
            if kind.endswith("-file"):

                async def sdk_to_file(run_id: int, target: pathlib.Path) -> int:
                    with target.open("wb") as file:
                        return await client.tts.download(run_id, file)

                yield sdk_to_file
            else:

                async def sdk_to_path(run_id: int, target: pathlib.Path) -> int:
                    return await client.tts.download(run_id, target)

                yield sdk_to_path
    elif kind == "httpx":
        async with httpx.AsyncClient(limits=SDK_LIMITS, timeout=DEFAULT_TIMEOUT) as http:

            async def httpx_fetch(run_id: int, target: pathlib.Path) -> int:
                written = 0
                with target.open("wb") as file:
                    async with http.stream("GET", f"{base_url}/tts-result/{run_id}", headers=HEADERS) as r:
                        r.raise_for_status()
                        async for chunk in r.aiter_bytes():
                            file.write(chunk)
                            written += len(chunk)
                return written

            yield httpx_fetch
    elif kind == "aiohttp":
        import aiohttp

        connector = aiohttp.TCPConnector(limit=SDK_LIMITS.max_connections or 0)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def aiohttp_fetch(run_id: int, target: pathlib.Path) -> int:
                written = 0
                with target.open("wb") as file:
                    async with session.get(f"{base_url}/tts-result/{run_id}", headers=HEADERS) as r:
                        r.raise_for_status()
                        async for chunk in r.content.iter_any():
                            file.write(chunk)
                            written += len(chunk)
                return written

            yield aiohttp_fetch
    else:
        raise ValueError(f"unknown download client kind {kind!r}")


@asynccontextmanager
async def open_create(kind: str, base_url: str) -> AsyncGenerator[Create, None]:
    """A function that creates one TTS task through client ``kind``."""
    if kind in ("sdk", "sdk-aiohttp"):
        transport: Literal["httpx", "aiohttp"] = "aiohttp" if kind == "sdk-aiohttp" else "httpx"
        async with AsyncCambClient(API_KEY, base_url=base_url, transport=transport) as client:

            async def sdk_create() -> str:
                return await client.tts.create(**CREATE_BODY)

            yield sdk_create
    elif kind == "camb-sdk":
        from camb.client import AsyncCambAI

        camb = AsyncCambAI(api_key=API_KEY, base_url=base_url)

        async def camb_create() -> str:
            created = await camb.text_to_speech.create_tts(**CREATE_BODY)
            return str(created.task_id)

        try:
            yield camb_create
        finally:
            await camb._client_wrapper.httpx_client.httpx_client.aclose()
    elif kind == "httpx":
        async with httpx.AsyncClient(limits=SDK_LIMITS, timeout=DEFAULT_TIMEOUT) as http:

            async def httpx_create() -> str:
                response = await http.post(f"{base_url}/tts", json=CREATE_BODY, headers=HEADERS)
                response.raise_for_status()
                return str(response.json()["task_id"])

            yield httpx_create
    elif kind == "aiohttp":
        import aiohttp

        connector = aiohttp.TCPConnector(limit=SDK_LIMITS.max_connections or 0)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def aiohttp_create() -> str:
                async with session.post(f"{base_url}/tts", json=CREATE_BODY, headers=HEADERS) as response:
                    response.raise_for_status()
                    body: dict[str, Any] = await response.json()
                    return str(body["task_id"])

            yield aiohttp_create
    else:
        raise ValueError(f"unknown create client kind {kind!r}")


async def measure_download(
    kind: str, base_url: str, run_id: int, warm_run_id: int, target: pathlib.Path
) -> dict[str, Any]:
    """One download of run ``run_id``'s file after a warm-up on ``warm_run_id``'s small one
    (to the same target): wall and CPU time of the call, and peak RSS growth over it."""
    async with open_fetch(kind, base_url) as fetch:
        await fetch(warm_run_id, target)
        gc.collect()
        before = reset_peak_rss()
        cpu, wall = time.process_time(), time.perf_counter()
        written = await fetch(run_id, target)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        peak = peak_rss_kib()
    return {"bytes": written, "cpu_s": cpu, "wall_s": wall, "rss_before_kib": before, "peak_rss_kib": peak}


def take_file(target: pathlib.Path) -> dict[str, Any]:
    """The size and SHA-256 of the downloaded file, which is then removed."""
    digest = hashlib.sha256()
    with target.open("rb") as file:
        while piece := file.read(1 << 20):
            digest.update(piece)
    size = target.stat().st_size
    target.unlink()
    return {"file_bytes": size, "sha256": digest.hexdigest()}


async def measure_creates(kind: str, base_url: str, creates: int, concurrency: int) -> dict[str, Any]:
    """``creates`` TTS creates, ``concurrency`` at a time, after a warm-up: wall and CPU time."""
    async with open_create(kind, base_url) as create:
        errors: dict[str, int] = {}

        async def worker(count: int) -> None:
            for _ in range(count):
                try:
                    await create()
                except Exception as exc:  # noqa: BLE001 - a failed create is counted and reported
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

        workers = max(1, min(concurrency, creates))
        await asyncio.gather(*(worker(1) for _ in range(workers)))  # warm-up: opens the connections
        errors.clear()
        per_worker, extra = divmod(creates, workers)
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(per_worker + (n < extra)) for n in range(workers)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"creates": creates, "concurrency": workers, "cpu_s": cpu, "wall_s": wall, "errors": errors}


async def measure_batch(kind: str, base_url: str, run_ids: list[int], repeats: int) -> dict[str, Any]:
    """``tts.results(run_ids)`` (``POST /tts-results``, 5 runs a request) against ``tts.result(run_id,
    output_type="file_url")`` for every run at once, ``repeats`` times each after a warm-up:
    wall and CPU time of each way, and whether both gave the same URLs."""
    transport: Literal["httpx", "aiohttp"] = "aiohttp" if kind == "sdk-aiohttp" else "httpx"
    async with AsyncCambClient(API_KEY, base_url=base_url, transport=transport) as client:

        async def batch() -> dict[int, str]:
            return {run_id: url.output_url for run_id, url in (await client.tts.results(run_ids)).items()}

        async def singles() -> dict[int, str]:
            urls = await asyncio.gather(*(client.tts.result(r, output_type="file_url") for r in run_ids))
            return {run_id: url.output_url for run_id, url in zip(run_ids, urls, strict=True)}

        result: dict[str, Any] = {"runs": len(run_ids), "repeats": repeats}
        answers: list[dict[int, str]] = []
        for name, way in (("batch", batch), ("singles", singles)):
            answers.append(await way())  # warm-up
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(repeats):
                await way()
            result[name] = {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}
        result["same"] = answers[0] == answers[1] and len(answers[0]) == len(run_ids)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._transfer_clients")
    parser.add_argument("mode", choices=["download", "create", "batch"])
    parser.add_argument("--client", required=True)
    parser.add_argument("--url", required=True, help="the API base URL, ending in /apis")
    parser.add_argument("--out", required=True, type=pathlib.Path, help="where to write the JSON result")
    parser.add_argument("--run-id", type=int, help="download: the run whose file to fetch")
    parser.add_argument("--warm-run-id", type=int, help="download: a run with a small file, for a warm-up")
    parser.add_argument("--target", type=pathlib.Path, help="download: the file to write")
    parser.add_argument("--creates", type=int, default=1000, help="create: how many")
    parser.add_argument("--concurrency", type=int, default=50, help="create: how many at a time")
    parser.add_argument("--run-ids", help="batch: comma-separated run ids of finished TTS runs")
    parser.add_argument("--repeats", type=int, default=20, help="batch: times each way is measured")
    args = parser.parse_args(argv)
    if args.mode == "download":
        result = asyncio.run(
            measure_download(args.client, args.url, args.run_id, args.warm_run_id, args.target)
        )
        result.update(take_file(args.target))
    elif args.mode == "create":
        result = asyncio.run(measure_creates(args.client, args.url, args.creates, args.concurrency))
    else:
        run_ids = [int(r) for r in args.run_ids.split(",")]
        result = asyncio.run(measure_batch(args.client, args.url, run_ids, args.repeats))
    args.out.write_text(json.dumps({"client": args.client, **result}))


if __name__ == "__main__":
    main()
