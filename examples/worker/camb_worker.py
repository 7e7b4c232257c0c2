"""An arq worker on Redis that creates many TTS tasks and follows each to its end,
and goes on where it stopped after a restart.

    pip install 'camb-async[redis]' arq
    export CAMB_API_KEY=...  REDIS_URL=redis://localhost:6379/0  CAMB_REQUESTS_PER_SECOND=50
    cd examples/worker
    arq camb_worker.WorkerSettings      # a worker process; start as many as you need
    python enqueue.py 100               # a batch of 100 texts; prints its outcomes when done

Each worker process opens one ``AsyncCambClient`` when it starts and closes it when it
stops. Every worker shares one request budget, the API key's rate limit
(``CAMB_REQUESTS_PER_SECOND``), through the Redis the queue already runs on: N workers,
one key, one budget. A batch is one arq job, ``speak``, whose every run works for at most ``SLICE``
seconds: it creates the batch's missing tasks, follows the unfinished ones with
``as_completed()``, records each outcome, and has arq run it again while some are left.
All it knows is in Redis, so a run after a deploy, a crash or a SIGKILL goes on from there:

    camb:{batch}:handles   index -> the task's TaskHandle as JSON, stored as soon as the task exists
    camb:{batch}:outcomes  index -> {"status", "run_id", "error"}, once the task has ended

arq runs a job again at once when its worker stops on SIGTERM, and ``job_timeout`` + 10 s
after it started when its worker died.
"""

from __future__ import annotations

import collections
import json
import os
from typing import Any

import anyio
from arq import Retry
from arq.connections import ArqRedis, RedisSettings

from camb_async import (
    AsyncCambClient,
    CambError,
    CreateOutcomeUnknownError,
    TaskError,
    TaskHandle,
    TaskStatus,
)

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
RATE = float(os.environ.get("CAMB_REQUESTS_PER_SECOND", "50"))
"""The API key's rate limit: what every worker together sends at most in any one second."""
SLICE = float(os.environ.get("CAMB_JOB_SLICE", "60"))
"""Seconds one run of a job works before arq runs it again for the rest."""
SENDING = "sending"
"""What stands in for a handle while its create is in flight."""


async def startup(ctx: dict[str, Any]) -> None:
    """One CAMB.AI client per worker process, opened on its event loop, on the fleet's budget."""
    # Reads CAMB_API_KEY (and CAMB_BASE_URL). The budget is shared with every worker of the
    # key through Redis; while Redis is away each goes on at its fair share, RATE / workers.
    ctx["camb"] = AsyncCambClient(max_requests_per_second=RATE, shared_budget=REDIS_URL)


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["camb"].aclose()


async def speak(ctx: dict[str, Any], name: str, texts: list[str]) -> dict[str, int]:
    """Turn each text into speech: create its task once, follow it, record its outcome.

    Returns how many texts ended with each status, once every one has an outcome.
    """
    camb: AsyncCambClient = ctx["camb"]
    batch = Batch(ctx["redis"], name)
    deadline = anyio.current_time() + SLICE
    handles, outcomes = await batch.handles(), await batch.outcomes()

    for index, text in enumerate(texts):
        if handles.get(index) == SENDING and index not in outcomes:
            # A worker stopped during this create: the task may exist. Never send it twice.
            await batch.record(index, "UNKNOWN", error="the worker stopped during the create")
        if index in handles or anyio.current_time() >= deadline:
            continue
        if not await batch.claim(index):
            continue  # another run of this batch has just claimed it
        try:
            task_id = await camb.tts.create(text=text, voice_id=20303, language="en-us")
        except CambError as exc:
            unknown = isinstance(exc, CreateOutcomeUnknownError)
            await batch.record(index, "UNKNOWN" if unknown else "NOT_CREATED", error=str(exc))
            continue
        handles[index] = TaskHandle(family="tts", task_id=task_id).model_dump_json()
        await batch.store(index, handles[index])

    outcomes = await batch.outcomes()
    running = {
        TaskHandle.model_validate_json(handle): index
        for index, handle in handles.items()
        if handle != SENDING and index not in outcomes
    }
    left = deadline - anyio.current_time()
    if running and left > 0:
        async with camb.as_completed(running, timeout=left) as ended:
            async for handle, outcome in ended:
                if isinstance(outcome, TaskStatus):
                    await batch.record(running[handle], outcome.status, run_id=outcome.run_id)
                elif isinstance(outcome, TaskError):  # ERROR, TIMEOUT, PAYMENT_REQUIRED
                    await batch.record(running[handle], outcome.status.status, error=str(outcome))
                # Anything else (still running at the slice's end, the API out of reach):
                # the next run follows it again.

    outcomes = await batch.outcomes()
    if len(outcomes) < len(texts):
        raise Retry  # arq runs the job again at once: the next run goes on from here
    return dict(collections.Counter(outcome["status"] for outcome in outcomes.values()))


class Batch:
    """A batch's state in Redis: each text's task handle and outcome, by the text's index."""

    def __init__(self, redis: ArqRedis, name: str) -> None:
        self._redis: Any = redis  # redis-py 5 (arq's) types its asyncio commands as `Awaitable[T] | T`
        self._handles, self._outcomes = f"camb:{name}:handles", f"camb:{name}:outcomes"

    async def handles(self) -> dict[int, str]:
        """Each index's TaskHandle as JSON, or SENDING."""
        stored = await self._redis.hgetall(self._handles)
        return {int(index): handle.decode() for index, handle in stored.items()}

    async def claim(self, index: int) -> bool:
        """Mark the text at ``index`` as being sent, unless something already stands there."""
        return bool(await self._redis.hsetnx(self._handles, index, SENDING))

    async def store(self, index: int, handle: str) -> None:
        await self._redis.hset(self._handles, index, handle)

    async def outcomes(self) -> dict[int, dict[str, Any]]:
        """Each finished index's outcome: ``{"status", "run_id", "error"}``."""
        stored = await self._redis.hgetall(self._outcomes)
        return {int(index): json.loads(outcome) for index, outcome in stored.items()}

    async def record(self, index: int, status: str, *, run_id: int | None = None, error: str = "") -> None:
        outcome = json.dumps({"status": status, "run_id": run_id, "error": error})
        await self._redis.hset(self._outcomes, index, outcome)


class WorkerSettings:
    """``arq camb_worker.WorkerSettings`` runs a worker with these."""

    functions = (speak,)
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = RedisSettings.from_dsn(REDIS_URL)
    job_timeout = 2 * SLICE  # a run lasts about SLICE
    max_tries = 100_000  # a try per run: a batch may take many
