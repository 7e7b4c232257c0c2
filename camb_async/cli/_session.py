"""Running a command: the key from the environment, the client, and the event loop.

:func:`execute` runs a command's coroutine with ``anyio.run`` (asyncio) and
turns what escapes it into one error line and an exit code.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import TYPE_CHECKING

import anyio

import camb_async

from ._outcomes import ExitCode, UsageProblem
from ._output import message_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from ._output import Output

__all__ = ["API_KEY_ENV", "BASE_URL_ENV", "api_key", "execute", "open_client"]

API_KEY_ENV = "CAMB_API_KEY"
BASE_URL_ENV = "CAMB_BASE_URL"


def api_key() -> str:
    """The API key from ``CAMB_API_KEY``; a :class:`UsageProblem` when it is not set."""
    key = os.environ.get(API_KEY_ENV, "")
    if not key.strip():
        raise UsageProblem(f"no API key: set the {API_KEY_ENV} environment variable")
    return key


class _Warnings(logging.Handler):
    """Collects the texts of the WARNINGs logged while it is attached."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(record.getMessage())


def open_client(base_url: str | None, output: Output) -> camb_async.AsyncCambClient:
    """A client with the key from the environment and ``base_url`` (``None``: the default).

    What the library warns of while making it (a plain-http ``base_url`` that would send
    the key unencrypted) is the command's own warning line, ``camb-async: warning: ...``."""
    key = api_key()
    logger = logging.getLogger("camb_async")
    warned = _Warnings()
    logger.addHandler(warned)
    try:
        return camb_async.AsyncCambClient(key, base_url=base_url or None)
    except (camb_async.CambError, ValueError) as exc:  # a malformed key or base URL
        raise UsageProblem(str(exc)) from None
    finally:
        logger.removeHandler(warned)
        for text in warned.texts:
            output.note(f"camb-async: warning: {text}")


def execute(command: Callable[[], Awaitable[ExitCode]], output: Output) -> ExitCode:
    """Run ``command`` on asyncio; return its exit code, or the code of what it raised.

    Ctrl-C cancels it (its ``async with`` blocks close the client and the live
    display) and gives 130 without a traceback. The library's log lines (the circuit
    breaker's WARNING in an outage) stay off stderr: the command's own line says what
    went wrong, once.
    """
    quiet_library_logs()
    try:
        return anyio.run(command, backend="asyncio")
    except (KeyboardInterrupt, asyncio.CancelledError):
        # Python 3.10's loop runner lets Ctrl-C out as the main task's CancelledError.
        output.note("interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # the reader of stdout went away (`| head`): end quietly
        _silence_stdout()
        return ExitCode.OK
    except UsageProblem as exc:
        output.error(str(exc))
        return ExitCode.USAGE
    except camb_async.TaskError as exc:
        output.error(str(exc))
        return ExitCode.TASK_FAILED
    except camb_async.CambError as exc:  # APIError, WatchTimeoutError, ClientClosedError
        output.error(f"{type(exc).__name__}: {exc}")
        return ExitCode.API
    except ValueError as exc:  # an argument the SDK refuses before any request
        output.error(message_of(exc))
        return ExitCode.USAGE
    except OSError as exc:  # a file that could not be written
        output.error(f"{type(exc).__name__}: {exc}")
        return ExitCode.API


def quiet_library_logs() -> None:
    """Keep the ``camb_async`` logger's records off stderr unless logging was set up: Python
    prints WARNINGs of a program that set up no handler (``logging.lastResort``)."""
    logger = logging.getLogger("camb_async")
    if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
        logger.addHandler(logging.NullHandler())


def _silence_stdout() -> None:
    """Point stdout at the null device, so that flushing it at exit raises nothing."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)
