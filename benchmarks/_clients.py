"""The client side of the benchmarks; each run is its own process (``python -m benchmarks._clients``).

One process runs one client kind, so its CPU time (``time.process_time``) and
peak RSS (``ru_maxrss``) belong to that client alone. It writes its results as
JSON to ``--out``; ``benchmarks/__main__.py`` starts these processes and reads
the results.

Client kinds:

* ``sdk``: ``AsyncCambClient`` on its default transport (httpx's pool).
* ``sdk-aiohttp``: ``AsyncCambClient(transport="aiohttp")``.
* ``sdk-httpx-aiohttp`` (status only): ``AsyncCambClient(http_client=...)`` over a caller's
  ``httpx.AsyncClient`` on httpx-aiohttp's ``AiohttpTransport`` (the ``httpx-aiohttp`` client).
* ``sdk-fixed-limit`` (watch only): ``sdk`` with its adaptive limit on requests in flight
  pinned at 64, which is what the SDK did before the limit adapted.
* ``sdk-http1`` / ``sdk-http2`` (watch only): ``sdk`` through an ``http_client=`` of the
  SDK's pool limits speaking HTTP/1.1, or HTTP/2 only (h2c with prior knowledge; needs ``h2``
  and a server that speaks it, ``benchmarks._hypercorn``).
* ``httpx``: a raw ``httpx.AsyncClient`` with the pool the SDK creates (what ``sdk`` runs on).
* ``httpx-aiohttp``: the same on ``httpx_aiohttp.AiohttpTransport`` (what ``sdk-aiohttp`` ran on
  before it had a transport of its own, ``camb_async._aiohttp``).
* ``aiohttp``: a raw ``aiohttp.ClientSession`` with as many connections.
* ``camb-sdk``: the official SDK, ``camb.client.AsyncCambAI``, as configured out of the box.
* ``seed-camb-sdk`` / ``seed-httpx``: the documented loop (get, stop on a terminal status,
  else sleep 5 s) on camb-sdk and on an ``httpx.AsyncClient()`` with httpx's defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import pathlib
import pstats
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

import httpx

from camb_async import DEFAULT_TIMEOUT, AsyncCambClient, TaskError
from camb_async._constants import (
    DEFAULT_MAX_CONCURRENT_REQUESTS,
    DEFAULT_MAX_CONCURRENT_TRANSFERS,
    default_limits,
)
from camb_async._limiter import RequestLimiter

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

StatusCall = Callable[[str], Awaitable[str]]

API_KEY = "bench-key"
STATUS_CLIENTS = ("sdk", "sdk-aiohttp", "sdk-httpx-aiohttp", "httpx", "httpx-aiohttp", "aiohttp", "camb-sdk")
WATCH_CLIENTS = ("sdk", "sdk-fixed-limit", "sdk-aiohttp", "seed-camb-sdk", "seed-httpx")
FAR_CLIENTS = ("sdk", "sdk-fixed-limit", "sdk-aiohttp")
HTTP2_CLIENTS = ("sdk-http1", "sdk-http2")
FIXED_LIMIT = 64
TERMINAL = frozenset({"SUCCESS", "ERROR", "TIMEOUT", "PAYMENT_REQUIRED"})

# The pool the SDK creates for itself, given to the raw clients it is compared with.
SDK_LIMITS = default_limits(DEFAULT_MAX_CONCURRENT_REQUESTS + DEFAULT_MAX_CONCURRENT_TRANSFERS)


@asynccontextmanager
async def open_client(kind: str, base_url: str) -> AsyncGenerator[StatusCall, None]:
    """A function that fetches one task's status string through client ``kind``."""
    headers = {"x-api-key": API_KEY, "accept": "application/json"}
    if kind in ("sdk", "sdk-aiohttp"):
        async with AsyncCambClient(
            API_KEY, base_url=base_url, transport="aiohttp" if kind == "sdk-aiohttp" else "httpx"
        ) as client:

            async def sdk_status(task_id: str) -> str:
                return str((await client.status(task_id)).status)

            yield sdk_status
    elif kind == "sdk-httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport

        given = httpx.AsyncClient(transport=AiohttpTransport(limits=SDK_LIMITS), timeout=DEFAULT_TIMEOUT)
        async with given, AsyncCambClient(API_KEY, base_url=base_url, http_client=given) as client:

            async def given_status(task_id: str) -> str:
                return str((await client.status(task_id)).status)

            yield given_status
    elif kind in ("httpx", "httpx-aiohttp", "seed-httpx"):
        if kind == "httpx":
            http = httpx.AsyncClient(limits=SDK_LIMITS, timeout=DEFAULT_TIMEOUT)
        elif kind == "httpx-aiohttp":
            from httpx_aiohttp import AiohttpTransport

            http = httpx.AsyncClient(transport=AiohttpTransport(limits=SDK_LIMITS), timeout=DEFAULT_TIMEOUT)
        else:
            http = httpx.AsyncClient()  # what the seed's loop gets: httpx's defaults
        async with http:

            async def httpx_status(task_id: str) -> str:
                response = await http.get(f"{base_url}/tts/{task_id}", headers=headers)
                response.raise_for_status()
                return str(response.json()["status"])

            yield httpx_status
    elif kind == "aiohttp":
        import aiohttp

        connector = aiohttp.TCPConnector(limit=SDK_LIMITS.max_connections or 0)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def aiohttp_status(task_id: str) -> str:
                async with session.get(f"{base_url}/tts/{task_id}", headers=headers) as response:
                    response.raise_for_status()
                    body: dict[str, Any] = await response.json()
                    return str(body["status"])

            yield aiohttp_status
    elif kind in ("camb-sdk", "seed-camb-sdk"):
        from camb.client import AsyncCambAI

        camb = AsyncCambAI(api_key=API_KEY, base_url=base_url)

        async def camb_status(task_id: str) -> str:
            result = await camb.text_to_speech.get_tts_result(task_id)
            return str(result.status)

        try:
            yield camb_status
        finally:
            await camb._client_wrapper.httpx_client.httpx_client.aclose()
    else:
        raise ValueError(f"unknown client kind {kind!r}")


# -- scenario 1: CPU per status call -------------------------------------------------------


async def measure_status(
    kind: str, base_url: str, task_id: str, concurrency: list[int], calls: int
) -> list[dict[str, float]]:
    """Client CPU and wall time of ``calls`` status calls at each concurrency, after a warm-up."""
    results: list[dict[str, float]] = []
    async with open_client(kind, base_url) as status:

        async def worker(count: int) -> int:
            errors = 0
            for _ in range(count):
                try:
                    await status(task_id)
                except Exception:  # noqa: BLE001 - a failed call is counted and reported
                    errors += 1
            return errors

        for c in concurrency:
            per_worker = max(1, calls // c)
            await asyncio.gather(*(worker(max(1, per_worker // 5)) for _ in range(c)))  # warm-up
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            errors = sum(await asyncio.gather(*(worker(per_worker) for _ in range(c))))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            done = per_worker * c
            results.append({"concurrency": c, "calls": done, "cpu_s": cpu, "wall_s": wall, "errors": errors})
    return results


async def profile_status(kind: str, base_url: str, task_id: str, concurrency: int, calls: int) -> str:
    """cProfile of ``calls`` status calls at ``concurrency``: the top functions by own time."""
    async with open_client(kind, base_url) as status:
        per_worker = max(1, calls // concurrency)

        async def worker(count: int) -> None:
            for _ in range(count):
                await status(task_id)

        await asyncio.gather(*(worker(2) for _ in range(concurrency)))
        profiler = cProfile.Profile()
        profiler.enable()
        await asyncio.gather(*(worker(per_worker) for _ in range(concurrency)))
        profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)
    return text.getvalue()


# -- scenario 2: many concurrent watches ---------------------------------------------------


async def run_watches(
    kind: str, base_url: str, task_ids: list[str], interval: float, deadline: float
) -> dict[str, Any]:
    """Follow every task to its end at once; record what each saw and when (``time.monotonic()``)."""
    seen: dict[str, tuple[str, float]] = {}
    if kind in ("sdk", "sdk-aiohttp", "sdk-fixed-limit", "sdk-http1", "sdk-http2"):
        transport: Literal["httpx", "aiohttp"] = "aiohttp" if kind == "sdk-aiohttp" else "httpx"
        http = None
        if kind in ("sdk-http1", "sdk-http2"):
            http2 = kind == "sdk-http2"
            http = httpx.AsyncClient(limits=SDK_LIMITS, timeout=DEFAULT_TIMEOUT, http1=not http2, http2=http2)
        async with AsyncCambClient(API_KEY, base_url=base_url, transport=transport, http_client=http) as camb:
            if kind == "sdk-fixed-limit":
                camb._requester._loop_state().limiter = RequestLimiter(FIXED_LIMIT, minimum=FIXED_LIMIT)

            async def sdk_watch(task_id: str) -> None:
                try:
                    final = (await camb.wait(task_id)).status
                except TaskError as exc:
                    final = exc.status.status
                seen[task_id] = (str(final), time.monotonic())

            result = await _follow(sdk_watch, task_ids, deadline)
        if http is not None:
            await http.aclose()
    else:
        async with open_client(kind, base_url) as status:

            async def seed_watch(task_id: str) -> None:
                while True:  # the documented loop
                    current = await status(task_id)
                    if current in TERMINAL:
                        seen[task_id] = (current, time.monotonic())
                        return
                    await asyncio.sleep(interval)

            result = await _follow(seed_watch, task_ids, deadline)
    result["seen"] = seen
    return result


async def _follow(
    watch: Callable[[str], Awaitable[None]], task_ids: list[str], deadline: float
) -> dict[str, Any]:
    """Run ``watch`` on every task at once (``asyncio.gather``'s way), up to ``deadline`` seconds."""
    errors: dict[str, int] = {}
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    tasks = [asyncio.ensure_future(watch(task_id)) for task_id in task_ids]
    _, pending = await asyncio.wait(tasks, timeout=deadline)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    for task in tasks:
        exc = None if task in pending else task.exception()
        if exc is not None:
            name = type(exc).__name__
            errors[name] = errors.get(name, 0) + 1
    return {"errors": errors, "cpu_s": cpu, "wall_s": wall, "unfinished": len(pending)}


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (``ru_maxrss`` is in KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 1024 / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._clients")
    parser.add_argument("mode", choices=["status", "profile", "watch"])
    parser.add_argument("--client", required=True)
    parser.add_argument("--url", required=True, help="the API base URL, ending in /apis")
    parser.add_argument("--out", required=True, type=pathlib.Path, help="where to write the JSON result")
    parser.add_argument("--task-id", help="status/profile: the task to ask about")
    parser.add_argument("--concurrency", default="1,20,100")
    parser.add_argument("--calls", type=int, default=2000, help="status/profile: calls per concurrency")
    parser.add_argument("--ids-file", type=pathlib.Path, help="watch: a JSON list of task ids")
    parser.add_argument("--interval", type=float, default=5.0, help="watch: the seed loop's sleep")
    parser.add_argument("--deadline", type=float, default=900.0, help="watch: give up after this")
    args = parser.parse_args(argv)
    concurrency = [int(c) for c in args.concurrency.split(",")]
    result: dict[str, Any] = {"client": args.client}
    if args.mode == "status":
        result["runs"] = asyncio.run(
            measure_status(args.client, args.url, args.task_id, concurrency, args.calls)
        )
    elif args.mode == "profile":
        result["profile"] = asyncio.run(
            profile_status(args.client, args.url, args.task_id, concurrency[-1], args.calls)
        )
    else:
        task_ids: list[str] = json.loads(args.ids_file.read_text())
        result.update(asyncio.run(run_watches(args.client, args.url, task_ids, args.interval, args.deadline)))
    result["peak_rss_mb"] = peak_rss_mb()
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
