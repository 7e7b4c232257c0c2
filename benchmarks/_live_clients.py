"""One live benchmark client in a process of its own (``python -m benchmarks._live_clients MODE``).

Modes, each through camb-async (``--client sdk``) or a bare ``websockets`` client
speaking the same protocol (``--client bare``), against ``benchmarks._live_server``:

* ``receive``: one live TTS session whose server sends ``--frames`` frames of
  ``--size`` bytes, every ``--pace`` seconds; the bytes per second from ``text.done``
  to the end, and each frame's latency from its server send time to the moment the
  caller's loop got it.
* ``send``: ``--mb`` MiB of audio through a live transcription session in 1 MiB
  pieces; MiB per second from the first byte to the server's count of them.
* ``concurrent``: ``--sessions`` live TTS sessions at once on one client, each
  ``speak()``-ing its own text; how many came back with audio other than expected.
* ``stalled``: a session whose server sends ``--mb`` MiB of audio while the caller
  stops reading after the first frame for ``--stall`` seconds; the growth of peak RSS.

The result is written as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import struct
import time
from typing import TYPE_CHECKING, Any, cast

import anyio
from websockets.asyncio.client import connect

from camb_async import AsyncCambClient, LiveTTSAudio

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

KEY = "bench-key"
STAMP = struct.Struct(">d")
MIB = 1024 * 1024
START = {"type": "session.start", "voice_id": 1}
REPEAT = 64  # as benchmarks._live_server's


def _status_kib() -> dict[str, int]:
    found: dict[str, int] = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0])
    return found


def _reset_peak_rss() -> int:
    """Reset the peak RSS to the current RSS (``/proc/self/clear_refs``); the RSS in KiB."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return _status_kib()["VmRSS"]


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _plan(frames: int, size: int, pace: float) -> str:
    return f"bench frames={frames} size={size} pace={pace}"


class _Receiver:
    """What a receiving client saw: bytes, frames, latencies (seconds)."""

    def __init__(self) -> None:
        self.bytes = 0
        self.latencies: list[float] = []

    def frame(self, audio: bytes) -> None:
        self.latencies.append(time.time() - STAMP.unpack_from(audio)[0])
        self.bytes += len(audio)

    def result(self, wall: float, cpu: float) -> dict[str, Any]:
        return {
            "bytes": self.bytes,
            "frames": len(self.latencies),
            "wall_s": wall,
            "cpu_s": cpu,
            "latency_p50": statistics.median(self.latencies) if self.latencies else None,
            "latency_p99": _quantile(self.latencies, 0.99),
        }


async def receive_sdk(url: str, plan: str) -> dict[str, Any]:
    seen = _Receiver()
    async with (
        AsyncCambClient(KEY, base_url=f"{url}/apis") as client,
        client.live_tts.connect(voice_id=1) as session,
    ):
        await session.send_text(plan)
        began, cpu = time.perf_counter(), time.process_time()
        await session.finish()
        async for event in session:
            if isinstance(event, LiveTTSAudio):
                seen.frame(event.audio)
        return seen.result(time.perf_counter() - began, time.process_time() - cpu)


async def receive_bare(url: str, plan: str) -> dict[str, Any]:
    seen = _Receiver()
    async with _bare(url, "/apis/live-tts/ws") as ws:
        await ws.send(json.dumps(START))
        await ws.recv()  # session.ready
        await ws.send(json.dumps({"type": "text.chunk", "text": plan}))
        began, cpu = time.perf_counter(), time.process_time()
        await ws.send(json.dumps({"type": "text.done"}))
        async for message in ws:
            if isinstance(message, bytes):
                seen.frame(message)
        return seen.result(time.perf_counter() - began, time.process_time() - cpu)


def _bare(url: str, path: str) -> connect:
    return connect(
        url.replace("http://", "ws://") + path,
        additional_headers={"x-api-key": KEY},
        compression=None,
        max_size=None,
    )


async def send_sdk(url: str, mb: int) -> dict[str, Any]:
    piece = bytes(MIB)
    async with (
        AsyncCambClient(KEY, base_url=f"{url}/apis") as client,
        client.live_transcription.connect() as session,
    ):
        began = time.perf_counter()
        for _ in range(mb):
            await session.send_audio(piece)
        await session.finish()
        counted = [event.raw async for event in session]
        wall = time.perf_counter() - began
    return {"wall_s": wall, "server_bytes": _counted(counted)}


async def send_bare(url: str, mb: int) -> dict[str, Any]:
    piece = bytes(MIB)
    async with _bare(url, "/apis/transcription/listen") as ws:
        await ws.recv()  # Ready
        began = time.perf_counter()
        for _ in range(mb):
            await ws.send(piece)
        await ws.send(json.dumps({"type": "CloseStream"}))
        counted = [json.loads(message) async for message in ws]
        wall = time.perf_counter() - began
    return {"wall_s": wall, "server_bytes": _counted(counted)}


def _counted(messages: list[Any]) -> int:
    """The server's count of the bytes it received, from its final ``Results``."""
    for message in messages:
        if isinstance(message, dict):
            found = cast("dict[str, Any]", message)
            if found.get("type") == "Results":
                return int(found["channel"]["alternatives"][0]["transcript"])
    return -1


async def concurrent_sdk(url: str, sessions: int) -> dict[str, Any]:
    wrong: list[int] = []
    errors: dict[str, int] = {}

    async def one(client: AsyncCambClient, n: int) -> None:
        text = f"Session {n} of {sessions} speaks."
        try:
            async with client.live_tts.speak(text, voice_id=1) as audio:
                got = b"".join([chunk async for chunk in audio])
        except Exception as exc:  # noqa: BLE001  # counted, the others go on
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            return
        if got != text.encode() * REPEAT:
            wrong.append(n)

    async with AsyncCambClient(KEY, base_url=f"{url}/apis") as client:
        began = time.perf_counter()
        async with anyio.create_task_group() as group:
            for n in range(sessions):
                group.start_soon(one, client, n)
        wall = time.perf_counter() - began
    return {"sessions": sessions, "wrong": len(wrong), "errors": errors, "wall_s": wall}


async def stalled_sdk(url: str, mb: int, stall: float) -> dict[str, Any]:
    async with (
        AsyncCambClient(KEY, base_url=f"{url}/apis") as client,
        client.live_tts.connect(voice_id=1) as session,
    ):
        await session.send_text(_plan(mb * 16, 65536, 0.0))
        await session.finish()
        async for event in session:
            if isinstance(event, LiveTTSAudio):
                return await _stall(stall)
    raise RuntimeError("no audio came")


async def stalled_bare(url: str, mb: int, stall: float) -> dict[str, Any]:
    async with _bare(url, "/apis/live-tts/ws") as ws:
        await ws.send(json.dumps(START))
        await ws.recv()
        await ws.send(json.dumps({"type": "text.chunk", "text": _plan(mb * 16, 65536, 0.0)}))
        await ws.send(json.dumps({"type": "text.done"}))
        while not isinstance(await ws.recv(), bytes):
            pass
        return await _stall(stall)


async def _stall(seconds: float) -> dict[str, Any]:
    """Stop reading for ``seconds``; the peak RSS growth meanwhile, in KiB."""
    before = _reset_peak_rss()
    await anyio.sleep(seconds)
    return {"rss_before_kib": before, "peak_rss_kib": _status_kib()["VmHWM"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._live_clients")
    parser.add_argument("mode", choices=["receive", "send", "concurrent", "stalled"])
    parser.add_argument("--client", choices=["sdk", "bare"], required=True)
    parser.add_argument("--url", required=True, help="the live server, http://127.0.0.1:PORT")
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--size", type=int, default=65536)
    parser.add_argument("--pace", type=float, default=0.0)
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--stall", type=float, default=3.0)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    runs: dict[tuple[str, str], Callable[[], Awaitable[dict[str, Any]]]] = {
        ("receive", "sdk"): lambda: receive_sdk(args.url, _plan(args.frames, args.size, args.pace)),
        ("receive", "bare"): lambda: receive_bare(args.url, _plan(args.frames, args.size, args.pace)),
        ("send", "sdk"): lambda: send_sdk(args.url, args.mb),
        ("send", "bare"): lambda: send_bare(args.url, args.mb),
        ("concurrent", "sdk"): lambda: concurrent_sdk(args.url, args.sessions),
        ("stalled", "sdk"): lambda: stalled_sdk(args.url, args.mb, args.stall),
        ("stalled", "bare"): lambda: stalled_bare(args.url, args.mb, args.stall),
    }
    run = runs.get((args.mode, args.client))
    if run is None:
        parser.error(f"{args.mode} has no {args.client} client")

    async def measured() -> dict[str, Any]:
        return await run()

    result = anyio.run(measured)
    args.out.write_text(json.dumps({"client": args.client, **result}))


if __name__ == "__main__":
    main()
