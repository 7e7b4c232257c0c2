"""Pydantic models of what the CAMB.AI API sends back.

Unknown server data is kept, never dropped and never a crash: a status the SDK
does not know stays a plain string, and fields it does not model stay on the
object as extras.
"""

from __future__ import annotations

import enum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = ["TERMINAL_STATES", "TaskCreated", "TaskState", "TaskStatus"]


class TaskState(str, enum.Enum):
    """The task statuses CAMB.AI documents.

    Members are strings, so ``TaskState.SUCCESS == "SUCCESS"`` holds and a
    member can be used wherever the server's plain string was expected.
    """

    SUCCESS = "SUCCESS"
    PENDING = "PENDING"
    TIMEOUT = "TIMEOUT"
    ERROR = "ERROR"
    PAYMENT_REQUIRED = "PAYMENT_REQUIRED"

    def __str__(self) -> str:
        return self.value


TERMINAL_STATES: frozenset[str] = frozenset(
    {TaskState.SUCCESS, TaskState.TIMEOUT, TaskState.ERROR, TaskState.PAYMENT_REQUIRED}
)
"""Statuses after which a task never changes again. Anything else, including a
status this SDK does not know, is treated as still running."""


class TaskStatus(BaseModel):
    """One answer of a task's status endpoint, e.g. ``GET /tts/{task_id}``.

    ``status`` is a :class:`TaskState` member for the documented values and the
    server's own string for anything else (``"PROCESSING"`` stays
    ``"PROCESSING"``). Fields the server adds beyond these are kept and can be
    read from ``model_extra``.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="allow", frozen=True)

    status: Annotated[TaskState | str, Field(union_mode="left_to_right")]
    run_id: int | None = None
    exception_reason: str | None = None
    message: str | dict[str, JsonValue] | list[JsonValue] | None = None

    @property
    def state(self) -> TaskState | str:
        """The task's state: ``status`` under the name :attr:`TaskError.state` shares, so that
        the outcome of a wait reads alike whether it succeeded or failed."""
        return self.status

    @property
    def is_terminal(self) -> bool:
        """Whether the task has finished, successfully or not."""
        return self.status in TERMINAL_STATES

    @property
    def is_success(self) -> bool:
        """Whether the task finished successfully and its result can be fetched."""
        return self.status == TaskState.SUCCESS


class TaskCreated(BaseModel):
    """The answer to a task creation, e.g. ``POST /tts``."""

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="allow", frozen=True)

    task_id: str
