"""Helpers for testing code that uses camb_async.

* :class:`Simulator`: a real local HTTP server that behaves like the CAMB.AI
  API, with tasks that move from PENDING to a final status on a script.
* :class:`FaultPlan`: make the simulator misbehave (429s, 5xx, dropped
  connections, stalls, broken bodies) per request or at seeded rates.
* :func:`set_testing`: make every wait of the SDK (poll intervals, retry
  backoff) instant, so tests of watch/wait/retry code run in milliseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._clock import is_testing
from .._clock import set_testing_flag as _set_testing_flag
from ._faults import FAULT_KINDS, FaultPlan, RequestRecord
from ._simulator import Simulator, TaskRecord, Timeline

if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "FAULT_KINDS",
    "FaultPlan",
    "RequestRecord",
    "Simulator",
    "TaskRecord",
    "Timeline",
    "is_testing",
    "set_testing",
]

Simulator.__module__ = TaskRecord.__module__ = FaultPlan.__module__ = RequestRecord.__module__ = __name__


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
