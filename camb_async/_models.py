"""Pydantic models of what the CAMB.AI API sends back.

Unknown server data is kept, never dropped and never a crash: a status the SDK
does not know stays a plain string, and fields it does not model stay on the
object as extras. :func:`read_status` reads every documented shape of a status
answer; every status call, watch and many-task poll goes through it.
"""

from __future__ import annotations

import enum
from typing import Annotated, ClassVar, cast

import pydantic
import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = ["TERMINAL_STATES", "TaskCreated", "TaskState", "TaskStatus", "read_status"]


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


_STATUS_VALIDATOR = TaskStatus.__pydantic_validator__
"""What ``TaskStatus.model_validate_json`` calls, called without that wrapper: every status
poll is read here."""


def read_status(content: bytes | str) -> TaskStatus:
    """A status endpoint's answer, in any shape the API documents.

    The usual object (``{"status": "PENDING", "run_id": null}``) is read in one
    pydantic pass. Two shapes of the vendor's reference pages are read too: a bare
    JSON string (``"SUCCESS"``, dub-alt-format and audio-separation) is that status,
    and an object with a ``run_id`` but no ``status`` (translated-story) is SUCCESS
    with that run id. Anything else raises the first pass's ``ValidationError``.
    """
    try:
        status: TaskStatus = _STATUS_VALIDATOR.validate_json(content)
    except pydantic.ValidationError:
        other = _other_status_shape(content)
        if other is None:
            raise
        return other
    return status


def _other_status_shape(content: bytes | str) -> TaskStatus | None:
    """``content`` read as a bare status string or a status-less ``{"run_id": N}``
    (``None``: neither)."""
    try:
        raw: object = pydantic_core.from_json(content)
    except ValueError:
        return None
    if isinstance(raw, str):
        return TaskStatus(status=raw)
    if isinstance(raw, dict):
        fields = cast("dict[str, object]", raw)
        if "status" not in fields and type(fields.get("run_id")) is int:
            return TaskStatus.model_validate({**fields, "status": TaskState.SUCCESS})
    return None
