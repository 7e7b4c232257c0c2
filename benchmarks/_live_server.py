"""A small, fast live server for the live benchmarks (``python -m benchmarks._live_server``).

It speaks just enough of live TTS (``/apis/live-tts/ws``) and live transcription
(``/apis/transcription/listen``) for the benchmark, on ``websockets`` (its C
speedups), so that the server is never what limits a client:

* live TTS: ``session.start`` is answered by ``session.ready``; at ``text.done`` the
  text received decides the audio. ``bench frames=N size=S pace=P``: N binary frames of
  S bytes, one every P seconds (0: as fast as the socket takes them), each starting
  with its send time (``time.time()``, ``struct ">d"``). Any other text: its UTF-8
  bytes repeated :data:`REPEAT` times, in frames of at most 65536 bytes. Then
  ``segment.done``, ``session.done`` and a close 1000.
* live transcription: ``Ready``; binary frames are counted; ``CloseStream`` is answered
  by a final ``Results`` whose transcript is the number of bytes received, then a close 1000.

It prints its port on the first line of stdout and serves until killed.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
import sys
import time
from typing import TYPE_CHECKING

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection

REPEAT = 64
"""A text's audio is its UTF-8 bytes this many times."""
FRAME = 65536
STAMP = struct.Struct(">d")
_PLAN = re.compile(r"bench frames=(\d+) size=(\d+) pace=([0-9.]+)")


async def _tts(ws: ServerConnection) -> None:
    start = json.loads(await ws.recv())
    assert start["type"] == "session.start"
    await ws.send(json.dumps({"type": "session.ready", "session_id": "bench", "run_id": 1, "config": {}}))
    text = ""
    async for message in ws:
        event = json.loads(message)
        if event["type"] == "text.chunk":
            text += event["text"]
        elif event["type"] == "text.done":
            break
    await ws.send(json.dumps({"type": "segment.start", "segment_id": 0, "text": text}))
    plan = _PLAN.fullmatch(text.strip())
    if plan is None:
        audio = text.strip().encode() * REPEAT
        for at in range(0, len(audio), FRAME):
            await ws.send(audio[at : at + FRAME])
    else:
        frames, size, pace = int(plan[1]), int(plan[2]), float(plan[3])
        filler = bytes(size - STAMP.size)
        began = time.monotonic()
        for n in range(frames):
            if pace:
                await asyncio.sleep(max(0.0, began + n * pace - time.monotonic()))
            await ws.send(STAMP.pack(time.time()) + filler)
    await ws.send(json.dumps({"type": "segment.done", "segment_id": 0}))
    await ws.send(json.dumps({"type": "session.done"}))
    await ws.close(1000)


async def _listen(ws: ServerConnection) -> None:
    await ws.send(json.dumps({"type": "Ready", "request_id": "bench"}))
    received = 0
    async for message in ws:
        if isinstance(message, bytes):
            received += len(message)
        elif json.loads(message).get("type") == "CloseStream":
            break
    alternative: dict[str, object] = {"transcript": str(received), "confidence": 1.0, "words": []}
    await ws.send(
        json.dumps({"type": "Results", "is_final": True, "channel": {"alternatives": [alternative]}})
    )
    await ws.close(1000)


async def _handler(ws: ServerConnection) -> None:
    path = ws.request.path.split("?")[0] if ws.request is not None else ""
    try:
        if path == "/apis/live-tts/ws":
            await _tts(ws)
        elif path == "/apis/transcription/listen":
            await _listen(ws)
        else:
            await ws.close(4404)
    except ConnectionClosed:
        pass  # the client left (the stalled reader's block ends this way)


async def main() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port: int = listener.getsockname()[1]
    async with serve(_handler, sock=listener, compression=None, max_size=2**21):
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await asyncio.Future()  # serve until killed


if __name__ == "__main__":
    asyncio.run(main())
