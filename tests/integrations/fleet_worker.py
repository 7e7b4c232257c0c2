"""One process of a fleet sharing a request budget through Redis, for test_shared_budget.py.

    python fleet_worker.py CONFIG.json OUT.json

CONFIG holds the API key, the simulator's URL, the budget R, the Redis URL and the task ids
to follow. The process follows them all with ``wait_many()`` on one client and writes to OUT
when each of its requests left (``time.monotonic()``, the same clock in every process of the
machine and in the simulator), how each watch ended, and its round trips to Redis. It logs
the ``camb_async`` logger to stderr.
"""

from __future__ import annotations

import json
import logging
import pathlib
import sys
import time

import anyio
import httpx

from camb_async import AsyncCambClient, TaskError, TaskStatus


def ending(outcome: TaskStatus | Exception) -> str:
    """A watch's end: its task's final status, or the name of the exception it ended with."""
    if isinstance(outcome, TaskStatus):
        return outcome.status
    if isinstance(outcome, TaskError):
        return outcome.status.status
    return f"exception: {type(outcome).__name__}: {outcome}"


async def main(config: dict[str, object]) -> dict[str, object]:
    sends: list[float] = []

    async def leaving(request: httpx.Request) -> None:
        sends.append(time.monotonic())

    async with httpx.AsyncClient(event_hooks={"request": [leaving]}, timeout=30) as http:
        began = time.monotonic()
        client = AsyncCambClient(
            str(config["api_key"]),
            base_url=str(config["url"]),
            http_client=http,
            max_concurrent_requests=32,
            max_requests_per_second=float(str(config["rate"])),
            shared_budget=str(config["redis"]),
        )
        made = time.monotonic()
        async with client:
            tasks = [str(task) for task in config["tasks"]]  # type: ignore[attr-defined]
            outcomes = await client.wait_many(tasks, timeout=120)
            shared = client._requester._pool.loop.budget.shared  # type: ignore[union-attr]
            calls = getattr(shared, "calls", 0)
    result: dict[str, object] = {
        "began": began,
        "made": made,
        "sends": sends,
        "endings": [ending(outcome) for outcome in outcomes],
        "redis_calls": calls,
    }
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    logging.getLogger("camb_async").setLevel(logging.INFO)
    outcome = anyio.run(main, json.loads(pathlib.Path(sys.argv[1]).read_text()))
    pathlib.Path(sys.argv[2]).write_text(json.dumps(outcome))
