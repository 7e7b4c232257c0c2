"""The live commands: ``speak`` (live TTS) and ``transcribe-live`` (live transcription).

Annotations here are evaluated at run time (no ``from __future__ import
annotations``): typer reads the parameters' types to build the options.

``speak`` streams its text (an argument, or stdin line by line) through
``client.live_tts.speak`` and writes the audio as it comes: to stdout (never a
terminal) or to a file that appears under its name only once whole.
``transcribe-live`` sends a WAV file through ``client.live_transcription.transcribe``;
on a terminal the interim transcript updates in place and each final stays as a line.
"""

import os
import pathlib
import sys
import tempfile
import threading
from collections.abc import AsyncIterator
from typing import Annotated, BinaryIO, Literal, get_args

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import typer

import camb_async

from ._files import language_of
from ._options import BaseUrl, Json, with_client
from ._outcomes import ExitCode
from ._output import Output

__all__ = ["register"]

LiveFormat = Literal["mp3", "wav", "flac", "aac"]

Language = Annotated[
    str | None,
    typer.Option(
        "--language", show_default=False, help="A locale (en-us) or language id; default: the server's."
    ),
]


def speak(
    voice_id: Annotated[int, typer.Option("--voice-id", help="A voice id (see `camb-async voices`).")],
    text: Annotated[
        str | None,
        typer.Argument(
            metavar="TEXT",
            show_default=False,
            help="The text to speak; `-` or none: read stdin line by line.",
        ),
    ] = None,
    language: Language = None,
    audio_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            show_default=False,
            help=f"{', '.join(get_args(LiveFormat))}; default: the server's (mp3).",
        ),
    ] = None,
    to: Annotated[
        pathlib.Path | None,
        typer.Option(
            "--output", "-o", show_default=False, help="The file to write; default: stdout (not a terminal)."
        ),
    ] = None,
    base_url: BaseUrl = None,
) -> None:
    """Speak TEXT over a live TTS session, writing the audio as it comes.

    Without TEXT (or with `-`), each line of stdin is sent as soon as it is read, so the audio of the first sentences comes while later ones are still being written.

    The audio goes to stdout (unless it is a terminal), or to the file -o names, which appears only once whole. A segment the server skips is an error (exit 3).
    """
    output_format = _format(audio_format)
    if to is None and sys.stdout.isatty():
        raise typer.BadParameter("will not write audio to a terminal; pass -o FILE or redirect stdout")
    if to is not None and not to.parent.is_dir():
        raise typer.BadParameter(f"no such folder: {to.parent}", param_hint="'--output'")
    source: str | AsyncIterator[str] = text if text is not None and text != "-" else _stdin_lines()

    async def run(client: camb_async.AsyncCambClient, output: Output) -> ExitCode:
        async with client.live_tts.speak(
            source,
            voice_id=voice_id,
            language=None if language is None else language_of(language),
            output_format=output_format,
        ) as audio:
            if to is None:
                size = await _write(audio, sys.stdout.buffer)
                output.note(f"wrote {size} bytes to stdout")
            else:
                size = await _write_file(audio, to)
                output.line(f"wrote {size} bytes to {to}")
        return ExitCode.OK

    with_client(base_url, run)


def transcribe_live(
    path: Annotated[
        pathlib.Path,
        typer.Argument(
            metavar="FILE.wav", exists=True, dir_okay=False, help="A WAV file (PCM, A-law or mu-law)."
        ),
    ],
    language: Language = None,
    model: Annotated[
        str | None, typer.Option("--model", show_default=False, help="The model; default: the server's.")
    ] = None,
    base_url: BaseUrl = None,
    json: Json = False,
) -> None:
    """Transcribe a WAV file over a live transcription session.

    On a terminal the transcript so far updates in place and each final one stays as a line; otherwise each final transcript is one line. --json writes every result, interim and final, as one JSON object a line.
    """

    async def run(client: camb_async.AsyncCambClient, output: Output) -> ExitCode:
        async with client.live_transcription.transcribe(
            path, language=None if language is None else language_of(language), model=model
        ) as results:
            await _show(results, output)
        return ExitCode.OK

    with_client(base_url, run, json_lines=json)


def register(app: typer.Typer) -> None:
    """Add ``speak`` and ``transcribe-live`` to ``app``."""
    app.command(epilog="Example: llm-tokens | camb-async speak --voice-id 20303 -o reply.mp3")(speak)
    app.command("transcribe-live", epilog="Example: camb-async transcribe-live call.wav --language en-us")(
        transcribe_live
    )


def _format(name: str | None) -> LiveFormat | None:
    for known in get_args(LiveFormat):
        if name == known:
            return known  # type: ignore[no-any-return]
    if name is None:
        return None
    raise typer.BadParameter(f"must be one of {', '.join(get_args(LiveFormat))}", param_hint="'--format'")


async def _stdin_lines() -> AsyncIterator[str]:
    """stdin's lines (newline kept: a sentence end for the server), each as soon as it is read.

    A daemon thread reads them, one at a time as they are taken: when the command ends
    first (an error, Ctrl-C), a read still waiting on a terminal or a pipe does not keep
    the process from exiting.
    """
    send, receive = anyio.create_memory_object_stream[str | OSError | ValueError](0)
    token = anyio.lowlevel.current_token()

    def read() -> None:
        try:
            try:
                for line in iter(sys.stdin.readline, ""):
                    anyio.from_thread.run(send.send, line, token=token)
            except (OSError, ValueError) as exc:  # unreadable stdin (not text, closed): the reader raises it
                anyio.from_thread.run(send.send, exc, token=token)
            anyio.from_thread.run_sync(send.close, token=token)
        except (RuntimeError, anyio.BrokenResourceError):  # the command ended before stdin did
            pass

    threading.Thread(target=read, name="camb-async stdin", daemon=True).start()
    async with receive:
        async for line in receive:
            if isinstance(line, Exception):
                raise line
            yield line


async def _write(audio: AsyncIterator[bytes], stream: BinaryIO) -> int:
    """Write each chunk to ``stream`` as it comes (in a worker thread: a slow reader
    holds the audio back, not the session); the number of bytes written."""

    def put(chunk: bytes) -> None:
        stream.write(chunk)
        stream.flush()

    size = 0
    async for chunk in audio:
        await anyio.to_thread.run_sync(put, chunk)
        size += len(chunk)
    return size


async def _write_file(audio: AsyncIterator[bytes], target: pathlib.Path) -> int:
    """Write the audio beside ``target`` and rename it into place once whole (nothing
    is left under either name on an error or Ctrl-C)."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    partial = anyio.Path(name)
    try:
        mask = os.umask(0o022)  # read by setting it (and set back at once): a CLI has one thread
        os.umask(mask)
        os.chmod(handle, 0o666 & ~mask)  # as open() would make it, not mkstemp's owner-only 0600
        with os.fdopen(handle, "wb") as file:
            size = await _write(audio, file)
            file.flush()
            await anyio.to_thread.run_sync(os.fsync, file.fileno())
        await partial.replace(target)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await partial.unlink(missing_ok=True)
        raise
    return size


async def _show(results: AsyncIterator[camb_async.LiveTranscript], output: Output) -> None:
    """Show the transcripts: JSON lines, finals as lines, or (on a terminal) the interim in place."""
    if output.json_lines:
        async for result in results:
            output.record(
                result.model_dump(
                    mode="json", include={"is_final", "transcript", "start", "duration", "words"}
                )
            )
        return
    if not output.interactive:
        async for result in results:
            if result.is_final and result.transcript:
                output.line(result.transcript)
        return
    from rich.live import Live
    from rich.text import Text

    with Live(Text(""), console=output.console(), auto_refresh=False, transient=True) as live:
        async for result in results:
            text = output.scrub(result.transcript)
            if result.is_final:
                live.update(Text(""))
                if text:
                    live.console.print(text, markup=False, highlight=False)
            else:
                live.update(Text(text, style="dim"))
            live.refresh()
