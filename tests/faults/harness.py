"""Helpers of the fault suite: run many watches on one client, judge them against the server's record."""

from __future__ import annotations

import collections
import dataclasses
import itertools
import json
import logging
import os
import random
import time
import traceback
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, cast

import anyio
from support import httpcore_pools

from camb_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncCambClient,
    CambError,
    CreateOutcomeUnknownError,
    InternalServerError,
    RateLimitError,
    ResponseValidationError,
    TaskError,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import httpx

    from camb_async.testing import RequestRecord, Simulator

KEY = "sk-live-FAULTSUITE-7c1e9b2d4a6f8e0b-never-log-me"
"""A distinctive API key: it must appear in no log record, error text, repr or traceback."""

FINALS = {"SUCCESS": 0.8, "ERROR": 0.1, "TIMEOUT": 0.05, "PAYMENT_REQUIRED": 0.05}

# What a poll raises when its last try got this fault (after every retry).
ERROR_OF_FAULT: dict[str, type[CambError]] = {
    "429": RateLimitError,
    "429-date": RateLimitError,
    "429-ms": RateLimitError,
    "500": InternalServerError,
    "502": InternalServerError,
    "503": InternalServerError,
    "504": InternalServerError,
    "drop": APIConnectionError,
    "stall": APITimeoutError,
    "html": ResponseValidationError,
    "truncated": ResponseValidationError,
    "no-status": ResponseValidationError,
}
# What a create (a POST, never sent twice) raises when its one answer got this fault.
ERROR_OF_CREATE_FAULT: dict[str, type[CambError] | None] = {
    **ERROR_OF_FAULT,
    # The connection broke, the read timed out, or a gateway gave up after the server may
    # have had the create.
    "502": CreateOutcomeUnknownError,
    "504": CreateOutcomeUnknownError,
    "drop": CreateOutcomeUnknownError,
    "stall": CreateOutcomeUnknownError,
    "no-status": None,  # the answer to a POST has no status: nothing to remove
    "unknown-status": None,
}
# Faults that are a good answer to the SDK: a status it does not know is "still running".
HARMLESS = frozenset({"unknown-status"})


def seed_tasks(sim: Simulator, count: int, *, seed: int, spread: tuple[float, float]) -> list[str]:
    """``count`` tasks that stay PENDING ``spread`` seconds, then end as FINALS weighs."""
    rng = random.Random(seed)
    names, weights = list(FINALS), list(FINALS.values())
    return [
        sim.add_task([("PENDING", 0.0), (rng.choices(names, weights)[0], rng.uniform(*spread))])
        for _ in range(count)
    ]


def check_no_secret(*texts: str) -> None:
    """Fail if the API key is in any of ``texts``."""
    for text in texts:
        assert KEY not in text, f"the API key leaked into: {text[:200]!r}"


def check_error_is_clean(exc: BaseException) -> None:
    """The key is in no text of ``exc``: message, repr, formatted traceback (chained causes included)."""
    check_no_secret(str(exc), repr(exc), "".join(traceback.format_exception(exc)))


@dataclasses.dataclass
class Outcome:
    """How one watch ended: the final status it saw, or the error it raised."""

    final: str | None = None
    error: BaseException | None = None


async def watch_all(
    client: AsyncCambClient,
    task_ids: Sequence[str],
    *,
    interval: float,
    timeout: float,
    use_watch_every: int = 2,
) -> dict[str, Outcome]:
    """Follow every task at once on ``client``: every ``use_watch_every``-th with watch(), the rest with wait()."""
    outcomes: dict[str, Outcome] = {}

    async def by_wait(task_id: str) -> None:
        outcome = outcomes[task_id] = Outcome()
        try:
            outcome.final = str((await client.wait(task_id, interval=interval, timeout=timeout)).status)
        except TaskError as exc:
            outcome.final = str(exc.status.status)
            check_error_is_clean(exc)
        except CambError as exc:
            outcome.error = exc
            check_error_is_clean(exc)

    async def by_watch(task_id: str) -> None:
        outcome = outcomes[task_id] = Outcome()
        try:
            async with aclosing(client.watch(task_id, interval=interval, timeout=timeout)) as statuses:
                async for status in statuses:
                    outcome.final = str(status.status)
        except CambError as exc:
            outcome.error = exc
            check_error_is_clean(exc)

    async with anyio.create_task_group() as group:
        for i, task_id in enumerate(task_ids):
            group.start_soon(by_watch if i % use_watch_every == 0 else by_wait, task_id)
    return outcomes


def answers_by_path(log: Sequence[RequestRecord]) -> dict[str, list[str | None]]:
    """The faults each raw path got, in order (``None``: a good answer)."""
    by_path: dict[str, list[str | None]] = collections.defaultdict(list)
    for record in log:
        by_path[record.path].append(None if record.fault in HARMLESS else record.fault)
    return by_path


def longest_fault_run(faults: Sequence[str | None]) -> int:
    """The longest run of consecutive faulty answers."""
    return max(
        (len(list(run)) for bad, run in itertools.groupby(f is not None for f in faults) if bad), default=0
    )


def http_of(client: AsyncCambClient) -> httpx.AsyncClient:
    """The httpx client behind ``client`` (typed loosely: some versions create it on first use)."""
    http: httpx.AsyncClient | None = cast("Any", client)._requester._pool.http
    assert http is not None
    return http


def pool_state(client: AsyncCambClient) -> dict[str, int]:
    """What httpcore's pool behind ``client`` holds, and what the client's own limiter lends out."""
    pools = httpcore_pools(client)
    connections = [connection for pool in pools for connection in pool.connections]
    state = client._requester._pool.loop
    return {
        "connections": len(connections),
        "busy": sum(1 for c in connections if not (c.is_idle() or c.is_closed())),
        "queued": sum(len(pool._requests) for pool in pools),
        "borrowed": 0 if state is None else state.limiter.in_flight,
        "sending": 0 if state is None else len(state.sending),
    }


async def assert_no_leak(client: AsyncCambClient, sim: Simulator, *, burst: int = 200) -> None:
    """Nothing is held, and a fresh burst of requests all succeed and leave nothing held either."""
    before = pool_state(client)
    assert before["busy"] == before["queued"] == before["borrowed"] == before["sending"] == 0, before
    sim.set_faults(None)
    done = sim.add_task([("PENDING", 0.0), ("SUCCESS", 0.0)])
    results: list[str] = []

    async def one() -> None:
        results.append(str((await client.status(done)).status))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            for _ in range(burst):
                group.start_soon(one)
    assert results == ["SUCCESS"] * burst
    after = pool_state(client)
    assert after["busy"] == after["queued"] == after["borrowed"] == after["sending"] == 0, after
    assert (
        after["connections"]
        <= client._requester._pool.max_concurrent + client._requester._pool.max_transfers + 8
    )


class SecretWatch(logging.Handler):
    """Formats every log record (message and traceback) and keeps any that shows the API key."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records = 0
        self.leaks: list[str] = []
        self.retries: collections.Counter[str] = collections.Counter()  # by reason, e.g. "ConnectError"

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        if (
            record.name == "camb_async"
            and str(record.msg).startswith("retrying")
            and len(record.args or ()) > 2
        ):
            self.retries[str(record.args[2])] += 1  # type: ignore[index]
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += "".join(traceback.format_exception(record.exc_info[1]))
        if KEY in text or KEY in repr(record.args):
            self.leaks.append(text[:300])


class Figures:
    """Figures of the suite's runs, written to $CAMB_FAULTS_REPORT (JSON) when it is set."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.runs: dict[str, dict[str, object]] = {}

    def add(self, name: str, **figures: object) -> None:
        self.runs[name] = figures

    def write(self) -> None:
        target = os.environ.get("CAMB_FAULTS_REPORT")
        if not target or not self.runs:
            return
        totals: collections.Counter[str] = collections.Counter()
        for run in self.runs.values():
            for key in ("tasks", "requests", "faults_injected", "resolved", "typed_errors", "lost"):
                totals[key] += int(cast("int", run.get(key, 0)))
        report = {
            "produced": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "suite_seconds": round(time.monotonic() - self.started, 1),
            "totals": dict(totals),
            "runs": self.runs,
        }
        with open(target, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2)
            out.write("\n")


FIGURES = Figures()
