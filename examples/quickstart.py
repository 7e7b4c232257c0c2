"""Quickstart: create TTS tasks, watch each status change, fetch the audio.

Runs against the bundled local simulator, always: it needs no API key and no
network, and it never reaches the real API.

    python examples/quickstart.py

For the real CAMB.AI API, drop the Simulator and the scripted tasks, and create
the client with ``AsyncCambClient()``: it reads your key from CAMB_API_KEY.
"""

from __future__ import annotations

import time

import anyio

from camb_async import AsyncCambClient, TaskError, TaskStatus
from camb_async.testing import Simulator


async def follow(client: AsyncCambClient, name: str, task_id: str, started: float) -> TaskStatus | None:
    """Print every status change of one task as watch() yields it; fetch the audio on success."""
    async for status in client.tts.watch(task_id):
        print(f"{time.monotonic() - started:5.2f}s  {name:<10} {status.status}")
    try:
        final = await client.tts.wait(task_id)  # the task has finished, so this returns at once
    except TaskError as exc:
        print(f"{time.monotonic() - started:5.2f}s  {name:<10} failed: {exc}")
        return None
    assert final.run_id is not None  # a SUCCESS status carries the run id of its result
    audio = await client.tts.result(final.run_id)
    print(f"{time.monotonic() - started:5.2f}s  {name:<10} audio: {len(audio)} bytes ({audio[:4]!r})")
    return final


async def main() -> None:
    async with Simulator(seed=1) as sim, AsyncCambClient("simulator-key", base_url=sim.url) as client:
        # A task made through the API like a real one, plus scripted ones that show
        # every path: an unknown in-between status, a failure, and out of credits.
        tasks = {
            "created": await client.tts.create(
                text="Hello from camb-async!", voice_id=20303, language="en-us"
            ),
            "scripted": sim.add_task([("PENDING", 0), ("PROCESSING", 0.8), ("SUCCESS", 1.6)]),
            "failing": sim.add_task([("PENDING", 0), ("ERROR", 1.2)]),
            "no-credit": sim.add_task([("PENDING", 0), ("PAYMENT_REQUIRED", 0.4)]),
        }
        print(f"watching {len(tasks)} tasks on {client.base_url}")
        started = time.monotonic()
        async with anyio.create_task_group() as group:
            for name, task_id in tasks.items():
                group.start_soon(follow, client, name, task_id, started)
    print("done")


if __name__ == "__main__":
    anyio.run(main)
