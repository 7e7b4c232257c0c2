"""The ``camb-async`` command line: its subcommands, options and help (typer).

Annotations here are evaluated at run time (no ``from __future__ import
annotations``): typer reads the parameters' types to build the options.

Each subcommand parses its arguments here and runs its coroutine from
``_tasks``, ``_files``, ``_catalog`` or ``_demo`` through ``_options.run_command``,
which gives the exit code.
"""

import pathlib
from typing import Annotated, get_args

import typer

import camb_async

from . import _catalog, _demo, _files, _results, _session, _tasks
from ._live import register as register_live
from ._options import BaseUrl, Json, run_command, with_client
from ._outcomes import ExitCode

__all__ = ["app", "run"]

app = typer.Typer(
    name="camb-async",
    help=(
        "Follow and fetch CAMB.AI tasks from the shell. The API key comes from the "
        f"{_session.API_KEY_ENV} environment variable, never from an option.\n\n"
        "Exit codes: 0 every task succeeded; 1 a task ended in ERROR, TIMEOUT or PAYMENT_REQUIRED; "
        "2 a usage error; 3 an API or connection error, or --timeout passed; 130 interrupted."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _positive(value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise typer.BadParameter(f"must be more than 0 seconds, got {value:g}")
    return value


TaskIds = Annotated[
    list[str], typer.Argument(metavar="ID...", help="Task ids, as creating the tasks returned.")
]
Family = Annotated[
    camb_async.TaskFamily,
    typer.Option(
        "--family",
        "-f",
        metavar="FAMILY",
        help=f"The task family of the ids: {', '.join(get_args(camb_async.TaskFamily))}.",
    ),
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        callback=_positive,
        show_default=False,
        help="Give up after this many seconds, exit 3 (default: 600).",
    ),
]


@app.command(epilog="Example: camb-async status 9b1f0c2e-6d4a --family dubbing")
def status(ids: TaskIds, family: Family = "tts", base_url: BaseUrl = None, json: Json = False) -> None:
    """Show each task's current status (one poll each).

    Exit 1 if a task is in ERROR, TIMEOUT or PAYMENT_REQUIRED, 3 if a lookup failed.
    """
    with_client(
        base_url,
        lambda client, output: _tasks.status(client, _tasks.handles(family, ids), output),
        json_lines=json,
    )


@app.command(epilog="Example: camb-async watch 9b1f0c2e-6d4a 41d7e9a0-0c3b --timeout 120")
def watch(
    ids: TaskIds,
    family: Family = "tts",
    base_url: BaseUrl = None,
    timeout: Timeout = None,
    json: Json = False,
) -> None:
    """Follow the tasks until all have ended, showing each status change.

    On a terminal, a live table (with a progress bar for many tasks); otherwise,
    or with --json, one timestamped line (or JSON object) per change.
    """
    with_client(
        base_url,
        lambda client, output: _tasks.watch(client, _tasks.handles(family, ids), output, timeout=timeout),
        json_lines=json,
    )


@app.command(epilog="Example: camb-async wait 9b1f0c2e-6d4a 41d7e9a0-0c3b && echo all done")
def wait(
    ids: TaskIds,
    family: Family = "tts",
    base_url: BaseUrl = None,
    timeout: Timeout = None,
    json: Json = False,
) -> None:
    """Wait until every task has ended; show each outcome, in the order given."""
    with_client(
        base_url,
        lambda client, output: _tasks.wait(client, _tasks.handles(family, ids), output, timeout=timeout),
        json_lines=json,
    )


@app.command(epilog="Example: camb-async download 1234 -o hello.flac")
def download(
    run_id: Annotated[int, typer.Argument(metavar="RUN_ID", help="The run id of a finished task.")],
    to: Annotated[pathlib.Path, typer.Option("--output", "-o", help="The file to write.")],
    family: Family = "tts",
    base_url: BaseUrl = None,
    json: Json = False,
) -> None:
    """Download a finished run's result file.

    For the families whose result is a file: tts, text_to_sound, translated_tts.
    The file appears under its name only once whole.
    """
    with_client(
        base_url, lambda client, output: _files.download(client, family, run_id, to, output), json_lines=json
    )


@app.command(epilog="Example: camb-async result 1234 --family transcription --json")
def result(
    run_id: Annotated[int, typer.Argument(metavar="RUN_ID", help="The run id of a finished task.")],
    family: Family = "tts",
    language: Annotated[
        str | None,
        typer.Option(
            "--language", show_default=False, help="translated_story only: the language it was translated to."
        ),
    ] = None,
    base_url: BaseUrl = None,
    json: Json = False,
) -> None:
    """Show a finished run's result that is not a file, as JSON.

    For every family but tts, text_to_sound and translated_tts, whose result is a
    file (see `camb-async download`).
    """
    with_client(
        base_url,
        lambda client, output: _results.result(client, family, run_id, output, language=language),
        json_lines=json,
    )


@app.command(epilog='Example: camb-async tts "Hello!" --voice-id 20303 --language en-us -o hello.flac')
def tts(
    text: Annotated[str, typer.Argument(help="The text to speak.")],
    voice_id: Annotated[int, typer.Option("--voice-id", help="A voice id (see `camb-async voices`).")],
    language: Annotated[
        str, typer.Option("--language", help="A locale (en-us) or language id (see `camb-async languages`).")
    ],
    to: Annotated[pathlib.Path, typer.Option("--output", "-o", help="The file to write.")],
    base_url: BaseUrl = None,
    timeout: Timeout = None,
    json: Json = False,
) -> None:
    """Speak TEXT: create a TTS task, wait for it, and write its audio to a file."""
    with_client(
        base_url,
        lambda client, output: _files.synthesize(
            client,
            text=text,
            voice_id=voice_id,
            language=_files.language_of(language),
            target=to,
            timeout=timeout,
            output=output,
        ),
        json_lines=json,
    )


@app.command(epilog="Example: camb-async voices --json | head -3")
def voices(base_url: BaseUrl = None, json: Json = False) -> None:
    """List the voices your key may speak with."""
    with_client(base_url, _catalog.voices, json_lines=json)


@app.command(epilog="Example: camb-async languages --target")
def languages(
    target: Annotated[bool, typer.Option("--target", help="List target languages, not source ones.")] = False,
    base_url: BaseUrl = None,
    json: Json = False,
) -> None:
    """List the languages the API takes as sources (or, with --target, as targets)."""
    with_client(
        base_url, lambda client, output: _catalog.languages(client, output, target=target), json_lines=json
    )


@app.command(epilog="Example: camb-async demo -o hello.flac")
def demo(
    to: Annotated[
        pathlib.Path | None,
        typer.Option("--output", "-o", show_default=False, help="Keep the downloaded audio in this file."),
    ] = None,
    timeout: Timeout = None,
    json: Json = False,
) -> None:
    """Try the CLI on a local simulator, with no key and no network.

    Starts the bundled simulator (the simulator extra: uvicorn), creates a few
    tasks, watches them live and downloads one result.
    """
    run_command(lambda output: _demo.run_demo(output, to=to, timeout=timeout), json_lines=json)


register_live(app)


def run() -> int:
    """Run ``camb-async`` on ``sys.argv``; return its exit code."""
    try:
        app(prog_name="camb-async")
    except SystemExit as exited:
        code = exited.code
        return code if isinstance(code, int) else (0 if code is None else ExitCode.USAGE)
    except KeyboardInterrupt:  # between the command's own handling: at start-up or exit
        return ExitCode.INTERRUPTED
    return ExitCode.OK
