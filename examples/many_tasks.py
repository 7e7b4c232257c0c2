"""Many tasks of several families, followed by a worker that restarts in the middle.

Runs against the bundled local simulator (no API key, no network):

    python examples/many_tasks.py

The first worker creates tasks, stores a ``TaskHandle`` per task as one JSON line
in a file, follows them with ``as_completed`` and stops after the first outcome,
as a worker killed by a deploy would. The second worker knows nothing but the
file: it reads the handles back and waits for every task with ``wait_many``.
Tasks that finished while no worker ran come back at once.
"""

from __future__ import annotations

import pathlib
import tempfile
import time

import anyio

from camb_async import AsyncCambClient, CambError, TaskHandle, TaskStatus
from camb_async.testing import Simulator

KEY = "simulator-key"


async def first_worker(base_url: str, sim: Simulator, handles_file: pathlib.Path) -> None:
    """Create tasks, store their handles, follow them until the first one ends, then stop."""
    async with AsyncCambClient(KEY, base_url=base_url) as client:
        texts = ("Hello.", "Good morning.", "See you soon.")
        speech = [await client.tts.create(text=text, voice_id=20303, language="en-us") for text in texts]
        sound = await client.text_to_sound.create(prompt="rain on a roof")
        handles = [TaskHandle(family="tts", task_id=task_id) for task_id in speech]
        handles.append(TaskHandle(family="text_to_sound", task_id=sound))
        # A dub that fails, scripted on the simulator: its outcome is a TaskFailedError.
        failing = sim.add_task([("PENDING", 0), ("ERROR", 1.5)], family="dubbing")
        handles.append(TaskHandle(family="dubbing", task_id=failing))

        # One line of JSON per task: what a worker needs to follow it again after a restart.
        lines = "".join(handle.model_dump_json() + "\n" for handle in handles)
        await anyio.Path(handles_file).write_text(lines, encoding="utf-8")
        print(f"worker 1: created {len(handles)} tasks, handles in {handles_file.name}")

        async with client.as_completed(handles, timeout=60) as ended:
            async for handle, outcome in ended:
                print(f"worker 1: {handle.family:<14} {handle.task_id[:8]}  {describe(outcome)}")
                break  # the worker stops here: nothing is polled any more
    print("worker 1: stopped with tasks still running")


async def second_worker(base_url: str, handles_file: pathlib.Path) -> None:
    """Read the stored handles and wait for every task, whatever its family."""
    lines = (await anyio.Path(handles_file).read_text(encoding="utf-8")).splitlines()
    handles = [TaskHandle.model_validate_json(line) for line in lines if line.strip()]
    async with AsyncCambClient(KEY, base_url=base_url) as client:
        print(f"worker 2: following {len(handles)} stored tasks")
        outcomes = await client.wait_many(handles, timeout=60)  # in the order of `handles`
        for handle, outcome in zip(handles, outcomes, strict=True):
            print(f"worker 2: {handle.family:<14} {handle.task_id[:8]}  {describe(outcome)}")


def describe(outcome: TaskStatus | Exception) -> str:
    """One line for an outcome of as_completed() or wait_many()."""
    if isinstance(outcome, TaskStatus):
        return f"{outcome.status} run_id={outcome.run_id}"
    if isinstance(outcome, CambError):
        return f"{type(outcome).__name__}: {outcome}"
    raise outcome  # not the SDK's: a bug, let it show


async def main() -> None:
    started = time.monotonic()
    async with Simulator(seed=7, durations=(0.5, 2.5)) as sim:
        with tempfile.TemporaryDirectory() as folder:
            handles_file = pathlib.Path(folder) / "handles.jsonl"
            await first_worker(sim.url, sim, handles_file)
            await second_worker(sim.url, handles_file)
    print(f"done in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    anyio.run(main)
