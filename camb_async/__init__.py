"""camb_async: the asyncio/trio SDK for the CAMB.AI speech API.

async with camb_async.AsyncCambClient() as client:
    async for status in client.watch(task_id):
        print(status.status)
"""

from __future__ import annotations

from ._client import AsyncCambClient
from ._constants import (
    DEFAULT_MAX_CONCURRENT_REQUESTS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_WATCH_TIMEOUT,
)
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CambError,
    ClientClosedError,
    ConflictError,
    CreateOutcomeUnknownError,
    InternalServerError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    TaskError,
    TaskFailedError,
    TaskPaymentRequiredError,
    TaskTimedOutError,
    UnprocessableEntityError,
    WatchTimeoutError,
)
from ._models import TERMINAL_STATES, TaskCreated, TaskState, TaskStatus
from ._paths import TaskFamily
from ._polling import PollSchedule
from ._types import NOT_GIVEN, NotGiven
from ._version import __version__

__all__ = [
    "DEFAULT_MAX_CONCURRENT_REQUESTS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "DEFAULT_WATCH_TIMEOUT",
    "NOT_GIVEN",
    "TERMINAL_STATES",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncCambClient",
    "AuthenticationError",
    "BadRequestError",
    "CambError",
    "ClientClosedError",
    "ConflictError",
    "CreateOutcomeUnknownError",
    "InternalServerError",
    "NotFoundError",
    "NotGiven",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "PollSchedule",
    "RateLimitError",
    "ResponseValidationError",
    "TaskCreated",
    "TaskError",
    "TaskFailedError",
    "TaskFamily",
    "TaskPaymentRequiredError",
    "TaskState",
    "TaskStatus",
    "TaskTimedOutError",
    "UnprocessableEntityError",
    "WatchTimeoutError",
    "__version__",
]


def _show_as_public() -> None:
    """Show public classes as camb_async.X in reprs, tracebacks and docs, not camb_async._client.X."""
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type) and obj.__module__.startswith("camb_async._"):
            obj.__module__ = "camb_async"


_show_as_public()
del _show_as_public
