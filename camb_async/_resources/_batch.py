"""Batch results in sizes the API accepts: run ids split into even chunks, fetched at once.

``results(run_ids)`` takes any number of ids; each family declares how many one
``POST /{batch}`` may carry (``Endpoints.batch_size``) and how few
(``Endpoints.batch_least``). The chunks are as even as they can be, so that none
falls under the least when the whole does not: 6 ids at 5 a request go as 3 and 3,
not 5 and 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

import anyio

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

__all__ = ["even_chunks", "gather"]

T = TypeVar("T")


def even_chunks(ids: Sequence[int], size: int) -> list[list[int]]:
    """``ids`` in order, in as few chunks of at most ``size`` as can hold them,
    their lengths differing by at most one."""
    if not ids:
        return []
    count = -(-len(ids) // size)
    short, extra = divmod(len(ids), count)
    chunks: list[list[int]] = []
    start = 0
    for n in range(count):
        end = start + short + (n < extra)
        chunks.append(list(ids[start:end]))
        start = end
    return chunks


async def gather(calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run ``calls`` at once and return their answers in order; the first to fail
    cancels the others and its exception is raised as it is (not in a group).

    The request path bounds how many are in flight, whatever their number.
    """
    if len(calls) == 1:
        return [await calls[0]()]
    answers: list[T | None] = [None] * len(calls)
    failures: list[Exception] = []

    async def run(index: int, call: Callable[[], Awaitable[T]]) -> None:
        try:
            answers[index] = await call()
        except Exception as exc:  # noqa: BLE001 - re-raised below, the first one
            failures.append(exc)
            group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for index, call in enumerate(calls):
            group.start_soon(run, index, call)
    if failures:
        raise failures[0]
    return cast("list[T]", answers)  # every call answered
