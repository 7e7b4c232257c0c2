"""``status``, ``watch`` and ``wait``: tasks by id, through the client's many-task calls."""

from __future__ import annotations

from contextlib import aclosing
from typing import TYPE_CHECKING

import anyio

import camb_async

from ._display import display_for, is_final
from ._outcomes import ExitCode, outcome_code, worst
from ._output import describe, record_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._output import Output

__all__ = ["deadline", "handles", "status", "wait", "watch"]

Outcome = camb_async.TaskStatus | BaseException


def handles(family: camb_async.TaskFamily, task_ids: Sequence[str]) -> list[camb_async.TaskHandle]:
    """One handle per distinct id, in the order given."""
    unique = dict.fromkeys(task_ids)
    return [camb_async.TaskHandle(family=family, task_id=task_id) for task_id in unique]


def deadline(timeout: float | None) -> float | camb_async.NotGiven:
    """``--timeout`` as the many-task calls take it: not given means the client's default (600 s)."""
    return camb_async.NOT_GIVEN if timeout is None else timeout


def _write_outcomes(
    output: Output, tasks: Sequence[camb_async.TaskHandle], outcomes: Sequence[Outcome]
) -> None:
    if output.json_lines:
        for task, outcome in zip(tasks, outcomes, strict=True):
            output.record(record_of(task.family, task.task_id, outcome))
        return
    output.columns(
        [
            [task.family, task.task_id, *describe(outcome)]
            for task, outcome in zip(tasks, outcomes, strict=True)
        ]
    )


async def status(
    client: camb_async.AsyncCambClient, tasks: Sequence[camb_async.TaskHandle], output: Output
) -> ExitCode:
    """Poll each task once, all at once; write one line per task in the order given.

    A task in a failed final state gives 1, a lookup that failed 3; a running task 0.
    """
    outcomes: list[Outcome] = [camb_async.CambError("no answer")] * len(tasks)

    async def poll(index: int, task: camb_async.TaskHandle) -> None:
        try:
            outcomes[index] = await client.status(task)
        except (camb_async.CambError, ValueError) as exc:  # ValueError: an id that is no id
            outcomes[index] = exc

    async with anyio.create_task_group() as group:
        for index, task in enumerate(tasks):
            group.start_soon(poll, index, task)
    _write_outcomes(output, tasks, outcomes)
    return worst(outcome_code(outcome) for outcome in outcomes)


async def watch(
    client: camb_async.AsyncCambClient,
    tasks: Sequence[camb_async.TaskHandle],
    output: Output,
    *,
    timeout: float | None,
) -> ExitCode:
    """Show every status change of the tasks until all have ended; the code of the worst outcome."""
    codes: list[ExitCode] = []
    given: dict[str | camb_async.TaskHandle, camb_async.TaskHandle] = {task: task for task in tasks}
    shown = display_for(output, tasks)
    with shown:
        async with aclosing(client.watch_many(tasks, timeout=deadline(timeout))) as changes:
            async for task, outcome in changes:  # each task as given: one of the handles
                shown.update(given[task], outcome)
                if is_final(outcome):
                    codes.append(outcome_code(outcome))
    return worst(codes)


async def wait(
    client: camb_async.AsyncCambClient,
    tasks: Sequence[camb_async.TaskHandle],
    output: Output,
    *,
    timeout: float | None,
) -> ExitCode:
    """Wait until every task has ended; write each outcome in the order given."""
    with output.activity(f"waiting for {len(tasks)} task{'s' if len(tasks) != 1 else ''}"):
        outcomes = await client.wait_many(tasks, timeout=deadline(timeout))
    _write_outcomes(output, tasks, outcomes)
    return worst(outcome_code(outcome) for outcome in outcomes)
