"""``demo``: the CLI against the bundled local simulator, with no key and no network.

It starts :class:`camb_async.testing.Simulator` (the ``simulator`` extra:
uvicorn), creates a few TTS tasks and one text-to-sound task through the API,
watches them as ``watch`` does, and downloads one result.
"""

from __future__ import annotations

import importlib.util
import pathlib
import tempfile
from typing import TYPE_CHECKING

import camb_async

from . import _tasks
from ._files import check_target
from ._outcomes import ExitCode, UsageProblem

if TYPE_CHECKING:
    from ._output import Output

__all__ = ["DEMO_KEY", "run_demo"]

DEMO_KEY = "demo-key"
"""The key the demo's client sends; the simulator takes any."""

_LINES = (
    "Hello from camb-async.",
    "Every task here runs on a local simulator.",
    "Watch them finish.",
)


async def run_demo(output: Output, *, to: pathlib.Path | None, timeout: float | None) -> ExitCode:
    """Run the demo; write the downloaded audio to ``to`` (by default a temporary file, removed)."""
    if importlib.util.find_spec("uvicorn") is None:
        raise UsageProblem("the demo runs a local simulator: pip install 'camb-async[cli,simulator]'")
    if to is not None:
        check_target(to)
    from camb_async.testing import Simulator

    async with (
        Simulator(durations=(1.0, 3.0)) as simulator,
        camb_async.AsyncCambClient(DEMO_KEY, base_url=simulator.url) as client,
    ):
        output.note(f"a local CAMB.AI simulator is serving on {simulator.url}")
        voice = (await client.voices.list())[0]
        tts = [await client.tts.create(text=line, voice_id=voice.id, language="en-us") for line in _LINES]
        sound = await client.text_to_sound.create(prompt="rain on a tin roof", duration=3.0)
        tasks = [*_tasks.handles("tts", tts), *_tasks.handles("text_to_sound", [sound])]
        output.note(f"created {len(tts)} tts tasks and 1 text_to_sound task; watching them")
        code = await _tasks.watch(client, tasks, output, timeout=timeout)
        final = await client.tts.status(tts[0])
        if final.run_id is None:
            return code
        with tempfile.TemporaryDirectory(prefix="camb-demo-") as folder:
            target = to or pathlib.Path(folder, "hello.flac")
            size = await client.tts.download(final.run_id, target)
            where = f" to {target}" if to is not None else ""
            output.note(f"downloaded the audio of run {final.run_id}: {size} bytes{where}")
        return code
