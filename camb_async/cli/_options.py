"""What every subcommand shares: the ``--base-url`` and ``--json`` options, and the runner
that turns a command's coroutine into the process's exit code.

Annotations here are evaluated at run time (no ``from __future__ import
annotations``): typer reads the parameters' types to build the options.
"""

import os
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer

import camb_async

from . import _session
from ._outcomes import ExitCode
from ._output import Output

__all__ = ["BaseUrl", "Json", "run_command", "with_client"]

BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar=_session.BASE_URL_ENV,
        show_default=False,
        help=f"The API root (default: ${_session.BASE_URL_ENV}, else https://client.camb.ai/apis).",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="One JSON object a line.")]


def run_command(command: Callable[[Output], Awaitable[ExitCode]], *, json_lines: bool = False) -> None:
    """Run ``command`` and exit with its code (``typer.Exit``)."""
    output = Output(secret=os.environ.get(_session.API_KEY_ENV), json_lines=json_lines)

    async def body() -> ExitCode:
        return await command(output)

    raise typer.Exit(int(_session.execute(body, output)))


def with_client(
    base_url: str | None,
    command: Callable[[camb_async.AsyncCambClient, Output], Awaitable[ExitCode]],
    *,
    json_lines: bool = False,
) -> None:
    """Run ``command`` with a client of the key in the environment, and exit with its code."""

    async def body(output: Output) -> ExitCode:
        async with _session.open_client(base_url, output) as client:
            return await command(client, output)

    run_command(body, json_lines=json_lines)
