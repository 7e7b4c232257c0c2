"""Helpers for testing code that uses camb_async.

* :class:`Simulator`: a real local HTTP server that behaves like the CAMB.AI
  API, with tasks that move from PENDING to a final status on a script.
  Every task family of the API is there, with its result files on
  ``localhost``; :func:`result_bytes` and :func:`result_sha256` give the
  content of a large result (``add_task(..., result_size=N)``) without it.
* :class:`FaultPlan`: make the simulator misbehave (429s, 5xx, dropped
  connections, stalls, broken bodies) per request or at seeded rates.
* :class:`LiveSettings`, :class:`LiveFaults`: how the simulator's live sessions
  (live TTS, live transcription, realtime, over WebSockets) answer and misbehave.
* :func:`set_testing`: make every wait of the SDK (poll intervals, retry
  backoff) instant, so tests of watch/wait/retry code run in milliseconds.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .._clock import is_testing
from .._clock import set_testing_flag as _set_testing_flag

if TYPE_CHECKING:
    from types import TracebackType

    from ._faults import FAULT_KINDS, FaultPlan, RequestRecord
    from ._files import result_bytes, result_sha256
    from ._live_config import LiveFaults, LiveRecord, LiveSettings
    from ._ratelimit import most_in_one_second
    from ._shapes import AnswerShapes
    from ._simulator import FileRequest, Simulator, TaskRecord, Timeline

__all__ = [
    "FAULT_KINDS",
    "AnswerShapes",
    "FaultPlan",
    "FileRequest",
    "LiveFaults",
    "LiveRecord",
    "LiveSettings",
    "RequestRecord",
    "Simulator",
    "TaskRecord",
    "Timeline",
    "is_testing",
    "most_in_one_second",
    "result_bytes",
    "result_sha256",
    "set_testing",
]

# The simulator loads on first use, so that importing this package (as pytest does with
# the plugin in camb_async.testing.pytest_plugin) costs nothing for a suite that never uses it.
_LAZY = {
    "FAULT_KINDS": "._faults",
    "AnswerShapes": "._shapes",
    "FaultPlan": "._faults",
    "RequestRecord": "._faults",
    "LiveFaults": "._live_config",
    "LiveRecord": "._live_config",
    "LiveSettings": "._live_config",
    "most_in_one_second": "._ratelimit",
    "result_bytes": "._files",
    "result_sha256": "._files",
    "FileRequest": "._simulator",
    "Simulator": "._simulator",
    "TaskRecord": "._simulator",
    "Timeline": "._simulator",
}
_RENAMED = frozenset(
    {
        "FaultPlan",
        "FileRequest",
        "LiveFaults",
        "LiveRecord",
        "LiveSettings",
        "RequestRecord",
        "Simulator",
        "TaskRecord",
        "most_in_one_second",
        "result_bytes",
        "result_sha256",
    }
)


def __getattr__(name: str) -> object:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: object = getattr(importlib.import_module(where, __name__), name)
    if name in _RENAMED:
        value.__module__ = __name__  # shown as camb_async.testing.Simulator, as documented
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _TestingMode:
    """Returned by :func:`set_testing`; as a context manager it restores the previous mode."""

    def __init__(self, previous: bool) -> None:
        self._previous = previous

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _set_testing_flag(self._previous)


def set_testing(testing: bool = True) -> _TestingMode:
    """Turn testing mode on (or off) for the whole process.

    In testing mode the SDK never sleeps: poll intervals and retry backoff
    become a bare yield to the event loop. Deadlines (``timeout=``) and
    request timeouts still count real time. Use it as a call, or as a
    context manager that restores the previous mode::

        with set_testing():
            status = await client.wait(task_id)
    """
    return _TestingMode(_set_testing_flag(testing))
