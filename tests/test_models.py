"""TaskStatus, TaskState and TaskCreated: how server answers become models, and read_status."""

from __future__ import annotations

import pydantic
import pytest

from benchmarks import status_parser
from camb_async import TERMINAL_STATES, TaskCreated, TaskState, TaskStatus
from camb_async._models import read_status

DOCUMENTED = ["SUCCESS", "PENDING", "TIMEOUT", "ERROR", "PAYMENT_REQUIRED"]


@pytest.mark.parametrize("raw", DOCUMENTED)
def test_documented_status_becomes_task_state_member(raw: str) -> None:
    """A documented status string parses into the TaskState member of the same value."""
    status = TaskStatus.model_validate_json(f'{{"status": "{raw}"}}')
    assert isinstance(status.status, TaskState)
    assert status.status is TaskState(raw)
    assert status.status == raw
    assert str(status.status) == raw


def test_task_state_members_compare_equal_to_plain_strings() -> None:
    """TaskState members are str and compare (and hash) equal to the server's plain strings."""
    assert TaskState.SUCCESS == "SUCCESS"
    assert TaskState("SUCCESS") is TaskState.SUCCESS
    assert isinstance(TaskState.PENDING, str)
    assert "SUCCESS" in TERMINAL_STATES
    assert "PENDING" not in TERMINAL_STATES
    assert {member.value for member in TaskState} == set(DOCUMENTED)


def test_unknown_status_stays_plain_string_and_is_not_terminal() -> None:
    """A status the SDK does not know stays the server's str and counts as still running."""
    status = TaskStatus.model_validate({"status": "PROCESSING"})
    assert type(status.status) is str
    assert status.status == "PROCESSING"
    assert status.is_terminal is False
    assert status.is_success is False


@pytest.mark.parametrize(
    ("raw", "terminal"),
    [
        ("SUCCESS", True),
        ("ERROR", True),
        ("TIMEOUT", True),
        ("PAYMENT_REQUIRED", True),
        ("PENDING", False),
    ],
)
def test_is_terminal_per_documented_status(raw: str, terminal: bool) -> None:
    """is_terminal is true exactly for SUCCESS, ERROR, TIMEOUT and PAYMENT_REQUIRED."""
    assert TaskStatus.model_validate({"status": raw}).is_terminal is terminal


@pytest.mark.parametrize(("raw", "success"), [("SUCCESS", True), ("ERROR", False), ("PENDING", False)])
def test_is_success_only_for_success(raw: str, success: bool) -> None:
    """is_success is true only for the SUCCESS status."""
    assert TaskStatus.model_validate({"status": raw}).is_success is success


def test_extra_fields_are_kept_in_model_extra() -> None:
    """Fields the SDK does not model are kept on the object, not dropped."""
    status = TaskStatus.model_validate_json(
        '{"status": "PENDING", "progress": 42, "eta": {"seconds": 3}, "tags": ["a"]}'
    )
    assert status.model_extra == {"progress": 42, "eta": {"seconds": 3}, "tags": ["a"]}


@pytest.mark.parametrize(
    "message",
    ["voice not found", {"code": 7, "detail": ["a", "b"]}, ["first", 2], None],
    ids=["str", "dict", "list", "none"],
)
def test_message_accepts_str_dict_list_or_none(message: object) -> None:
    """message keeps whatever JSON shape the server sent: a string, an object, a list or nothing."""
    status = TaskStatus.model_validate({"status": "ERROR", "message": message})
    assert status.message == message


def test_message_defaults_to_none_when_absent() -> None:
    """A status without message, run_id or exception_reason has them as None."""
    status = TaskStatus.model_validate({"status": "PENDING"})
    assert (status.message, status.run_id, status.exception_reason) == (None, None, None)


def test_run_id_is_int() -> None:
    """run_id is parsed as an int."""
    status = TaskStatus.model_validate_json('{"status": "SUCCESS", "run_id": 12345}')
    assert status.run_id == 12345
    assert type(status.run_id) is int


def test_exception_reason_is_kept() -> None:
    """exception_reason is read from the answer."""
    status = TaskStatus.model_validate({"status": "ERROR", "exception_reason": "PROCESSING_ERROR"})
    assert status.exception_reason == "PROCESSING_ERROR"


@pytest.mark.parametrize(
    "payload",
    ['{"run_id": 1}', "{}", '{"status": null}', '{"status": 5}', '{"status": "SUCCESS", "run_id": "x"}'],
)
def test_missing_or_wrong_fields_are_validation_errors(payload: str) -> None:
    """A body without a usable status (or with a non-int run_id) is a pydantic ValidationError."""
    with pytest.raises(pydantic.ValidationError):
        TaskStatus.model_validate_json(payload)


def test_task_status_is_frozen() -> None:
    """A TaskStatus cannot be changed after parsing."""
    status = TaskStatus.model_validate({"status": "PENDING"})
    field = "status"
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        setattr(status, field, "SUCCESS")


def test_task_created_reads_task_id_and_keeps_extras() -> None:
    """TaskCreated reads task_id and keeps other fields as extras."""
    created = TaskCreated.model_validate_json('{"task_id": "abc-123", "queue": 2}')
    assert created.task_id == "abc-123"
    assert created.model_extra == {"queue": 2}


def test_task_created_without_task_id_is_validation_error() -> None:
    """A creation answer without task_id is a ValidationError."""
    with pytest.raises(pydantic.ValidationError, match="task_id"):
        TaskCreated.model_validate_json('{"id": "abc"}')


@pytest.mark.parametrize(
    ("content", "status", "run_id"),
    [
        (b'{"status": "PENDING", "run_id": null}', TaskState.PENDING, None),
        (b'"SUCCESS"', TaskState.SUCCESS, None),
        (b'"ERROR"', TaskState.ERROR, None),
        (b' "PROCESSING" ', "PROCESSING", None),
        (b'{"run_id": 123}', TaskState.SUCCESS, 123),
        ('{"run_id": 7, "message": "done"}', TaskState.SUCCESS, 7),
    ],
    ids=["object", "bare-success", "bare-error", "bare-unknown", "run-id-only", "run-id-only-str"],
)
def test_read_status_reads_every_documented_shape(
    content: bytes | str, status: str, run_id: int | None
) -> None:
    """read_status reads a status object, a bare status string, and a status-less {"run_id": N} as SUCCESS."""
    read = read_status(content)
    assert (read.status, read.run_id) == (status, run_id)
    assert type(read.status) is type(status)


@pytest.mark.parametrize(
    "content",
    [
        b"{}",
        b'{"run_id": null}',
        b'{"run_id": true}',
        b'{"run_id": 1.5}',
        b"5",
        b"null",
        b'["SUCCESS"]',
        b'"SUC',
    ],
)
def test_read_status_without_a_status_raises_the_missing_status(content: bytes) -> None:
    """Anything else raises the object pass's ValidationError, naming the status it lacked."""
    with pytest.raises(pydantic.ValidationError) as caught:
        read_status(content)
    assert caught.value.title == "TaskStatus"


def test_status_parser_benchmark_measures_readable_answers() -> None:
    """Every shape the parser benchmark times is one read_status reads, and the benchmark runs."""
    for body in status_parser.SHAPES.values():
        read_status(body)
    assert set(status_parser.measure(3)) == set(status_parser.SHAPES)
