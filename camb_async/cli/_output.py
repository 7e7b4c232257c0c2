"""Where the CLI writes: result lines or JSON lines on stdout, errors on stderr.

Every text passes :meth:`Output.scrub` on its way out, so the API key is never
shown, whatever the server put in a message.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import sys
from typing import TYPE_CHECKING, Any

import pydantic

import camb_async

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Mapping, Sequence

    from rich.console import Console

__all__ = ["REDACTED", "Output", "describe", "message_of", "record_of", "shell_terms", "timestamp"]

REDACTED = "[redacted]"
SECRET_MIN_LENGTH = 6
"""Keys shorter than this are no secrets (the simulator's ``any``) and are never redacted."""


def timestamp() -> str:
    """The time now, UTC, as ISO 8601 to the millisecond: ``2026-11-30T12:00:01.250Z``."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


_SHELL_TERMS = (
    ("pass a larger timeout=, or timeout=None to wait without a deadline", "pass a larger --timeout"),
    ("(client.languages.source() lists them)", "(`camb-async languages` lists them)"),
    ("(client.languages.target() lists them)", "(`camb-async languages --target` lists them)"),
    ("task_id '", "task id '"),
    ("tts.create(): ", ""),  # `camb-async tts` names no Python call
)
"""The SDK's hints to Python callers, and what they mean on the command line."""


def shell_terms(text: str) -> str:
    """``text`` with the SDK's Python hints (``timeout=``, ``client.languages.source()``) put in
    the command's terms (``--timeout``, ``camb-async languages``)."""
    for python, shell in _SHELL_TERMS:
        text = text.replace(python, shell)
    return text


def message_of(exc: BaseException) -> str:
    """``exc``'s text for one line: pydantic's validation errors as their messages alone, not
    the model, the input and the link pydantic adds."""
    if isinstance(exc, pydantic.ValidationError):
        return "; ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
    return str(exc)


def describe(outcome: camb_async.TaskStatus | BaseException) -> tuple[str, str]:
    """``(state, detail)`` of a task's status or of the exception that ended it."""
    if isinstance(outcome, camb_async.TaskStatus):
        if outcome.run_id is not None:
            return str(outcome.status), f"run_id={outcome.run_id}"
        reason = outcome.exception_reason or (outcome.message if isinstance(outcome.message, str) else "")
        return str(outcome.status), reason or ""
    if isinstance(outcome, camb_async.TaskError):
        return str(outcome.state), str(outcome)
    return type(outcome).__name__, message_of(outcome)


def record_of(
    family: str, task_id: str, outcome: camb_async.TaskStatus | BaseException, *, at: str | None = None
) -> dict[str, Any]:
    """One JSON line's object: the task, and its status fields or its error."""
    record: dict[str, Any] = {} if at is None else {"time": at}
    record.update(family=family, task_id=task_id)
    if isinstance(outcome, camb_async.TaskStatus):
        record.update(outcome.model_dump(mode="json"))
        return record
    if isinstance(outcome, camb_async.TaskError):
        record.update(outcome.status.model_dump(mode="json"))
    record.update(error=type(outcome).__name__, detail=str(outcome))
    return record


class Output:
    """The CLI's streams: stdout for results, stderr for errors and progress.

    Args:
        secret: The API key, replaced by ``[redacted]`` in every text shown (when it has at
            least ``SECRET_MIN_LENGTH`` characters: a shorter one would mangle other words).
        json_lines: Results as one JSON object a line in place of text.
    """

    def __init__(self, *, secret: str | None, json_lines: bool = False) -> None:
        key = secret.strip() if secret else ""
        self._secret = key if len(key) >= SECRET_MIN_LENGTH else None
        self.json_lines = json_lines

    @property
    def interactive(self) -> bool:
        """Whether stdout is a terminal and text (not JSON) was asked for: draw live displays."""
        return not self.json_lines and sys.stdout.isatty()

    def scrub(self, text: str) -> str:
        """``text`` with the API key replaced by ``[redacted]``, in the command's terms
        (:func:`shell_terms`)."""
        text = shell_terms(text)
        return text.replace(self._secret, REDACTED) if self._secret else text

    def _scrubbed(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {key: self._scrubbed(item) for key, item in value.items()}  # pyright: ignore[reportUnknownVariableType]
        if isinstance(value, list):
            return [self._scrubbed(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
        return value

    def line(self, text: str) -> None:
        """Write one line of text to stdout, at once."""
        sys.stdout.write(self.scrub(text) + "\n")
        sys.stdout.flush()

    def record(self, record: Mapping[str, Any]) -> None:
        """Write one JSON object as one line to stdout, at once."""
        self.line(json.dumps(self._scrubbed(dict(record)), ensure_ascii=False, separators=(", ", ": ")))

    def columns(self, rows: Sequence[Sequence[str]]) -> None:
        """Write rows of text as aligned columns (the last column unpadded)."""
        if not rows:
            return
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.line("  ".join([*cells, row[-1]]).rstrip())

    def error(self, text: str) -> None:
        """Write one ``camb-async: error: ...`` line to stderr."""
        sys.stderr.write(f"camb-async: error: {self.scrub(text)}\n")
        sys.stderr.flush()

    def note(self, text: str) -> None:
        """Write one line of commentary to stderr (kept off stdout, which scripts read)."""
        sys.stderr.write(self.scrub(text) + "\n")
        sys.stderr.flush()

    def console(self, *, stderr: bool = False) -> Console:
        """A rich console on stdout (or stderr)."""
        from rich.console import Console

        return Console(stderr=stderr, highlight=False)

    @contextlib.contextmanager
    def transfer(self, text: str) -> Generator[Callable[[int, int | None], None], None, None]:
        """A progress bar of a download on stderr, if stderr is a terminal: bytes so far, rate,
        and percent and time left once the size is known; removed when the block ends. Yields
        the ``progress=`` callback to give the download."""
        if not sys.stderr.isatty():
            yield lambda done, total: None
            return
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TaskProgressColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self.console(stderr=True),
            transient=True,
        )
        with progress:
            job = progress.add_task(self.scrub(text), total=None)

            def update(done: int, total: int | None) -> None:
                progress.update(job, completed=done, total=total)

            yield update

    @contextlib.contextmanager
    def activity(self, text: str) -> Generator[None, None, None]:
        """Show an indeterminate progress bar with ``text`` and the time elapsed on
        stderr while the block runs, if stderr is a terminal; removed when it ends."""
        if not sys.stderr.isatty():
            yield
            return
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TimeElapsedColumn(),
            console=self.console(stderr=True),
            transient=True,
        )
        with progress:
            progress.add_task(self.scrub(text), total=None)
            yield
