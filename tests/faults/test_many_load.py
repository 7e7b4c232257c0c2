"""10,000 tasks of mixed families through one watch_many over real TCP: zero errors."""

from __future__ import annotations

import collections
import random
import time
from typing import TYPE_CHECKING

import anyio
import pytest

from camb_async import AsyncCambClient, TaskHandle, TaskStatus

from .harness import FIGURES, KEY

if TYPE_CHECKING:
    from camb_async import TaskFamily
    from camb_async.testing import Simulator

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

COUNT = 10_000
FAMILIES: tuple[TaskFamily, ...] = ("tts", "dubbing", "translation", "text_to_sound", "project_setup")
FINALS = {"SUCCESS": 0.85, "ERROR": 0.1, "TIMEOUT": 0.05}


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_ten_thousand_mixed_tasks_in_one_watch_many(sim: Simulator, anyio_backend: str) -> None:
    """Every task's last pair is its true final status; no task ends in an exception."""
    rng = random.Random(10_000)
    tasks: list[TaskHandle] = []
    for i in range(COUNT):
        family = FAMILIES[i % len(FAMILIES)]
        final = rng.choices(list(FINALS), list(FINALS.values()))[0]
        task_id = sim.add_task([("PENDING", 0.0), (final, rng.uniform(1.0, 10.0))], family=family)
        tasks.append(TaskHandle(family=family, task_id=task_id))
    last: dict[TaskHandle, str] = {}
    errors: collections.Counter[str] = collections.Counter()
    started = time.monotonic()
    async with AsyncCambClient(KEY, base_url=sim.url) as client:
        with anyio.fail_after(240):
            async for task, seen in client.watch_many(tasks, timeout=200):
                if isinstance(seen, TaskStatus):
                    last[task] = str(seen.status)
                else:
                    errors[type(seen).__name__] += 1
    seconds = time.monotonic() - started
    assert not errors, errors
    wrong = [t for t in tasks if last.get(t) != sim.record(t.task_id, family=t.family).final_status]
    assert not wrong, wrong[:5]
    FIGURES.add(
        "watch_many 10,000 mixed",
        tasks=COUNT,
        resolved=COUNT,
        lost=0,
        requests=len(sim.request_log),
        seconds=round(seconds, 1),
    )
