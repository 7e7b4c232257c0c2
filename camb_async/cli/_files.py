"""``download`` and ``tts``: result files written to a path, atomically.

The SDK is given the path, not a file object: it writes a temporary file
beside the target and renames it into place only once whole, starts a broken
transfer over, and leaves nothing under the name on failure or Ctrl-C. Its
``progress=`` callback drives the bar of ``download``: bytes, rate, and percent
when the server announced the size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import camb_async

from ._outcomes import ExitCode, UsageProblem

if TYPE_CHECKING:
    import pathlib

    from ._output import Output

__all__ = ["check_target", "download", "language_of", "synthesize"]


def check_target(target: pathlib.Path) -> None:
    """Refuse, before any request, a target that is a folder or whose folder does not exist."""
    if target.is_dir():
        raise UsageProblem(f"{str(target)!r} is a folder; name a file to write")
    if not target.parent.is_dir():
        raise UsageProblem(f"the folder of {str(target)!r} does not exist")


def language_of(text: str) -> int | str:
    """``--language``: the API's int id (``1``) or a locale (``en-us``)."""
    return int(text) if text.isdecimal() else text


def _written(output: Output, size: int, target: pathlib.Path, **fields: object) -> None:
    if output.json_lines:
        output.record({**fields, "path": str(target), "bytes": size})
    else:
        output.line(f"wrote {size} bytes to {target}")


async def download(
    client: camb_async.AsyncCambClient,
    family: camb_async.TaskFamily,
    run_id: int,
    target: pathlib.Path,
    output: Output,
) -> ExitCode:
    """Download a finished run's file to ``target``."""
    resource: object = getattr(client, family)
    if not isinstance(resource, camb_async.FileResults):
        raise UsageProblem(
            f"a {family} result is not a file; download takes the families whose result is one: "
            "tts, text_to_sound, translated_tts"
        )
    check_target(target)
    with output.transfer(f"run {run_id}") as progress:
        size = await resource.download(run_id, target, progress=progress)
    _written(output, size, target, family=family, run_id=run_id)
    return ExitCode.OK


async def synthesize(
    client: camb_async.AsyncCambClient,
    *,
    text: str,
    voice_id: int,
    language: int | str,
    target: pathlib.Path,
    timeout: float | None,
    output: Output,
) -> ExitCode:
    """Create a TTS task, wait for it, and write its audio to ``target``."""
    check_target(target)
    with output.activity("speaking"):
        size = await client.tts.synthesize(
            text=text,
            voice_id=voice_id,
            language=language,
            to=target,
            timeout=camb_async.NOT_GIVEN if timeout is None else timeout,
        )
    assert isinstance(size, int)  # with to=, the bytes written
    _written(output, size, target, family="tts")
    return ExitCode.OK
