"""What ``watch`` shows: a live board on a terminal, timestamped lines otherwise.

Both take every ``(task, status_or_exception)`` pair of ``watch_many`` through
``update``. The board is redrawn several times a second (the running tasks'
times keep moving); with many tasks it shows a progress bar and the rows that fit:
the running tasks, then the failed ones, then the latest to succeed. Failed tasks
that did not fit its last frame are listed under it once it ends, so that no
failure hides under "... and N more".
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Protocol

import camb_async

from ._outcomes import ExitCode, outcome_code
from ._output import describe, record_of, timestamp

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

    from rich.console import Console, RenderableType
    from rich.live import Live
    from typing_extensions import Self

    from ._output import Output

__all__ = ["Board", "Display", "Lines", "display_for"]

Outcome = camb_async.TaskStatus | BaseException


def is_final(outcome: Outcome) -> bool:
    """Whether this is the last pair ``watch_many`` gives for its task."""
    return not isinstance(outcome, camb_async.TaskStatus) or outcome.is_terminal


class Display(Protocol):
    """Shows a watch of many tasks as it goes."""

    def __enter__(self) -> object: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def update(self, task: camb_async.TaskHandle, outcome: Outcome) -> None: ...


def display_for(output: Output, tasks: Sequence[camb_async.TaskHandle]) -> Display:
    """The live board when stdout is a terminal (and not ``--json``), else lines."""
    return Board(output, tasks) if output.interactive else Lines(output)


class Lines:
    """One line per status change: time, family, task id, state, detail; or one JSON object."""

    def __init__(self, output: Output) -> None:
        self._output = output

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def update(self, task: camb_async.TaskHandle, outcome: Outcome) -> None:
        """Write the line of this change."""
        at = timestamp()
        if self._output.json_lines:
            self._output.record(record_of(task.family, task.task_id, outcome, at=at))
            return
        state, detail = describe(outcome)
        self._output.line("  ".join(part for part in (at, task.family, task.task_id, state, detail) if part))


_STYLES = {
    "SUCCESS": "green",
    "PENDING": "yellow",
    "ERROR": "red",
    "TIMEOUT": "red",
    "PAYMENT_REQUIRED": "red",
}
_BAR_FROM = 2  # tasks from which a progress bar is drawn under the rows


class _Row:
    __slots__ = ("detail", "ended", "failed", "state", "style")

    def __init__(self) -> None:
        self.state = "…"
        self.detail = ""
        self.style = "dim"
        self.ended: float | None = None  # seconds after the start at which the task ended
        self.failed = False  # ended in a failed state or with an error


class Board:
    """A live table of tasks on a terminal: state, time taken (so far), run id or error."""

    def __init__(self, output: Output, tasks: Sequence[camb_async.TaskHandle]) -> None:
        from rich.live import Live

        self._output = output
        self._started = time.monotonic()
        self._rows = {task: _Row() for task in tasks}
        self._ended: list[camb_async.TaskHandle] = []
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()  # rich redraws from its own thread
        self._console: Console = output.console()
        self._live: Live = Live(self, console=self._console, refresh_per_second=8)

    def __enter__(self) -> Self:
        self._live.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._live.__exit__(exc_type, exc, tb)
        if exc_type is None:
            self._list_hidden_failures()

    def _list_hidden_failures(self) -> None:
        """Write the failed tasks the last frame had no room for, one line each, under it."""
        shown, _ = self._shown()
        hidden = [task for task in self._ended if self._rows[task].failed and task not in set(shown)]
        if hidden:
            self._output.line(f"{len(hidden)} more failed:")
            self._output.columns(
                [
                    [task.family, task.task_id, self._rows[task].state, self._rows[task].detail]
                    for task in hidden
                ]
            )

    def update(self, task: camb_async.TaskHandle, outcome: Outcome) -> None:
        """Record this change; the next redraw shows it."""
        state, detail = describe(outcome)
        style = _STYLES.get(state, "cyan" if isinstance(outcome, camb_async.TaskStatus) else "magenta")
        with self._lock:
            row = self._rows[task]
            row.state, row.detail, row.style = state, self._output.scrub(detail), style
            if is_final(outcome) and row.ended is None:
                row.ended = time.monotonic() - self._started
                row.failed = outcome_code(outcome) != ExitCode.OK
                self._ended.append(task)
                self._counts[state] = self._counts.get(state, 0) + 1

    def _shown(self) -> tuple[list[camb_async.TaskHandle], int]:
        """The tasks that fit: those still running first, then the failed ones, then the
        latest to succeed."""
        room = max(3, self._console.height - 8)
        if len(self._rows) <= room:
            return list(self._rows), 0
        running = [task for task, row in self._rows.items() if row.ended is None]
        latest = self._ended[::-1]
        failed = [task for task in latest if self._rows[task].failed]
        succeeded = [task for task in latest if not self._rows[task].failed]
        shown = (running + failed + succeeded)[:room]
        return shown, len(self._rows) - len(shown)

    def __rich__(self) -> RenderableType:
        with self._lock:
            return self._render()

    def _render(self) -> RenderableType:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        elapsed = time.monotonic() - self._started
        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("task")
        table.add_column("family")
        table.add_column("status")
        table.add_column("time", justify="right")
        table.add_column("detail", overflow="ellipsis", no_wrap=True)
        shown, hidden = self._shown()
        for task in shown:
            row = self._rows[task]
            table.add_row(
                Text(task.task_id, overflow="ellipsis", no_wrap=True),
                task.family,
                Text(row.state, style=row.style),
                f"{elapsed if row.ended is None else row.ended:.1f}s",
                Text(row.detail),
            )
        if hidden:
            table.add_row(Text(f"… and {hidden} more", style="dim"), "", "", "", "")
        if len(self._rows) < _BAR_FROM:
            return table
        counts = " · ".join(f"{state} {count}" for state, count in sorted(self._counts.items()))
        summary = Text(
            f"{len(self._ended)}/{len(self._rows)} ended"
            + (f" · {counts}" if counts else "")
            + f" · {elapsed:.1f}s"
        )
        bar = ProgressBar(total=len(self._rows), completed=len(self._ended), width=40)
        line = Table.grid(padding=(0, 1))
        line.add_row(bar, summary)
        return Group(table, Text(""), line)
