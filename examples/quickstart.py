"""Quickstart: create TTS tasks, watch each status change, download the audio.

Runs against the bundled local simulator (no API key or network needed):

    python examples/quickstart.py

Set CAMB_API_KEY (and leave CAMB_BASE_URL unset) to run the same code
against the real CAMB.AI API instead.
"""

from __future__ import annotations

import os
import time

import anyio

from camb_async import AsyncCambClient, TaskError, TaskStatus
from camb_async.testing import Simulator


async def follow(client: AsyncCambClient, name: str, task_id: str, started: float) -> TaskStatus | None:
    """Print every status change of one task as watch() yields it; fetch the audio on success."""
    async for status in client.watch(task_id):
        print(f"{time.monotonic() - started:5.2f}s  {name:<10} {status.status}")
    try:
        final = await client.wait(task_id)  # the task has finished, so this returns at once
    except TaskError as exc:
        print(f"{time.monotonic() - started:5.2f}s  {name:<10} failed: {exc}")
        return None
    assert final.run_id is not None
    audio = await client.tts.result(final.run_id)
    print(f"{time.monotonic() - started:5.2f}s  {name:<10} audio: {len(audio)} bytes ({audio[:4]!r})")
    return final


async def main() -> None:
    async with Simulator(seed=1) as sim:
        base_url = os.environ.get("CAMB_BASE_URL", sim.url)
        api_key = os.environ.get("CAMB_API_KEY", "simulator-key")
        async with AsyncCambClient(api_key, base_url=base_url) as client:
            # A task made through the API like a real one, plus scripted ones that show
            # every path: an unknown in-between status, a failure, and out of credits.
            tasks = {
                "created": await client.tts.create(text="Hello from camb-async!", voice_id=20303, language=1),
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
