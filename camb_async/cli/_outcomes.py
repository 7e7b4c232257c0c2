"""Exit codes, and the code each outcome of a task or a command maps to."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import camb_async

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["ExitCode", "UsageProblem", "outcome_code", "worst"]


class ExitCode(enum.IntEnum):
    """What ``camb-async`` exits with. With mixed outcomes the highest code below 130 wins."""

    OK = 0
    """Every task succeeded (``status``: none is in a failed state)."""
    TASK_FAILED = 1
    """A task ended in ERROR, TIMEOUT or PAYMENT_REQUIRED."""
    USAGE = 2
    """The command line or the environment is wrong (a missing key, a bad option or id)."""
    API = 3
    """An API or connection error, a local deadline (``--timeout``) passing, or a file not written."""
    INTERRUPTED = 130
    """Ctrl-C."""


class UsageProblem(Exception):
    """The command cannot run as given; its text is the one line shown (exit 2)."""


_FAILED_STATES = camb_async.TERMINAL_STATES - {camb_async.TaskState.SUCCESS}


def outcome_code(outcome: camb_async.TaskStatus | BaseException) -> ExitCode:
    """The exit code one task's outcome (a status, or the exception that ended it) calls for."""
    if isinstance(outcome, camb_async.TaskStatus):
        return ExitCode.TASK_FAILED if outcome.state in _FAILED_STATES else ExitCode.OK
    if isinstance(outcome, camb_async.TaskError):
        return ExitCode.TASK_FAILED
    if isinstance(outcome, (ValueError, UsageProblem)):
        return ExitCode.USAGE
    return ExitCode.API  # APIError, WatchTimeoutError, any other error


def worst(codes: Iterable[ExitCode]) -> ExitCode:
    """The code of a command with these outcomes: the highest, 0 when there are none."""
    return max(codes, default=ExitCode.OK)
