"""Several task families at once: create one task of each, follow them together, read the results.

Runs against the bundled local simulator (no API key, no network):

    python examples/families.py

Every family follows the same pattern: ``client.<family>.create(...)`` returns a
task id, ``client.<family>.wait(task_id)`` returns the SUCCESS status, and
``client.<family>.result(run_id)`` (or ``download(run_id, to)`` for audio) reads
what the task made. One client follows them all over one connection pool.
"""

from __future__ import annotations

import io
import pathlib
import tempfile
import time
from collections.abc import Awaitable, Callable

import anyio

from camb_async import AsyncCambClient, CambError, TaskResource
from camb_async.testing import Simulator

Finish = Callable[[int], Awaitable[str]]
"""What to do with a finished run's id: read its result and describe it in one line."""


async def follow(resource: TaskResource, task_id: str, finish: Finish, started: float) -> None:
    """Wait for one task, then read its result; print what happened either way."""
    name = resource.family
    try:
        final = await resource.wait(task_id)
        assert final.run_id is not None  # a SUCCESS status carries its run id
        shown = await finish(final.run_id)
    except CambError as exc:  # a failed task, a deadline, an API error: report it, let the others go on
        shown = f"failed: {exc}"
    print(f"{time.monotonic() - started:5.2f}s  {name:<14} {shown}")


async def main() -> None:
    # Tasks made by a create stay PENDING for 0.3 to 1.5 s in this simulator, then succeed.
    with tempfile.TemporaryDirectory(prefix="camb-families-") as tmp:  # removed at the end
        async with Simulator(seed=7, durations=(0.3, 1.5)) as sim:
            await run(sim, pathlib.Path(tmp))
    print("done")


async def run(sim: Simulator, folder: pathlib.Path) -> None:
    """Create one task of each family, follow them together, print what each made."""
    async with AsyncCambClient("simulator-key", base_url=sim.url) as client:

        async def speech(run_id: int) -> str:
            audio = await client.tts.result(run_id)  # bytes, in memory
            return f"{len(audio)} bytes of audio ({audio[:4]!r})"

        async def sound(run_id: int) -> str:
            target = folder / f"rain-{run_id}.wav"
            written = await client.text_to_sound.download(run_id, target)  # streamed to disk
            return f"{written} bytes written to {target}"

        async def dub(run_id: int) -> str:
            result = await client.dubbing.result(run_id)
            assert not isinstance(result, dict)  # one target language: one result
            return f"audio at {result.audio_url}, {len(result.transcript)} transcript segments"

        async def translation(run_id: int) -> str:
            result = await client.translation.result(run_id)
            return " | ".join(result.texts)

        async def transcript(run_id: int) -> str:
            result = await client.transcription.result(run_id, format_type="txt")
            return repr(result.transcript)

        # Each create is validated before it is sent, and sent once.
        tasks: list[tuple[TaskResource, str, Finish]] = [
            (
                client.tts,
                await client.tts.create(text="Hello!", voice_id=1, language="en-us"),
                speech,
            ),
            (
                client.text_to_sound,
                await client.text_to_sound.create(prompt="Rain on a tin roof", duration=5.0),
                sound,
            ),
            (
                client.dubbing,
                await client.dubbing.create(
                    video_url="https://example.com/talk.mp4", source_language="en-us", target_language="fr-fr"
                ),
                dub,
            ),
            (
                client.translation,
                await client.translation.create(
                    texts=["Good morning", "Thank you"], source_language="en-us", target_language="es-es"
                ),
                translation,
            ),
            (
                # An upload: a path or a binary file object, streamed as it is sent.
                client.transcription,
                await client.transcription.create(language="en-us", media=io.BytesIO(b"RIFF" + bytes(4096))),
                transcript,
            ),
        ]
        print(f"following one task of each of {len(tasks)} families on {client.base_url}")
        started = time.monotonic()
        async with anyio.create_task_group() as group:
            for resource, task_id, finish in tasks:
                group.start_soon(follow, resource, task_id, finish, started)

        # The same status through the client, by the family's public name.
        status = await client.status(tasks[2][1], family="dubbing")
        print(f"dubbing task {tasks[2][1][:8]}... is {status.status}, run {status.run_id}")


if __name__ == "__main__":
    anyio.run(main)
