"""watch_many, as_completed and wait_many: many tasks of mixed families on one client.

Over respx for the exact semantics (order, keys, outcomes, deadlines, early
exit) and over the real local simulator for mixed families and outcomes.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest
from support import make_client

from camb_async import (
    AsyncCambClient,
    NotFoundError,
    TaskFailedError,
    TaskFamily,
    TaskHandle,
    TaskPaymentRequiredError,
    TaskStatus,
    TaskTimedOutError,
    WatchTimeoutError,
    _polling,
)
from camb_async._models import read_status
from camb_async._polling import Follow, PollSchedule, TaskWatches, Tracked
from camb_async.testing import Simulator

if TYPE_CHECKING:
    from collections.abc import Iterator

    import respx

    from camb_async._events import WatchRef
    from camb_async._types import Priority

pytestmark = pytest.mark.anyio


def answer(status: str, **fields: object) -> httpx.Response:
    return httpx.Response(200, json={"status": status, **fields})


def always_pending(request: httpx.Request) -> httpx.Response:
    """A respx side effect: the task never finishes."""
    return answer("PENDING")


def scripted(*statuses: str) -> list[httpx.Response]:
    """A respx side effect: these statuses in turn (the last one with run_id 1 when SUCCESS)."""
    return [answer(s, run_id=1 if s == "SUCCESS" else None) for s in statuses]


# -- over respx -----------------------------------------------------------------------


async def test_watch_many_yields_each_change_of_each_task_with_the_item_as_given(
    router: respx.Router, no_wait: None
) -> None:
    """Pairs come per status change, each with the very item given (an id or a handle)."""
    router.get("/tts/a").mock(side_effect=scripted("PENDING", "PENDING", "SUCCESS"))
    router.get("/dub/b").mock(side_effect=scripted("PENDING", "PROCESSING", "ERROR"))
    handle = TaskHandle(family="dubbing", task_id="b")
    tasks: list[str | TaskHandle] = ["a", handle]
    async with make_client(router) as client:
        seen = [
            (task, status.status if isinstance(status, TaskStatus) else status)
            async for task, status in client.watch_many(tasks)
        ]
    assert [(t, s) for t, s in seen if t == "a"] == [("a", "PENDING"), ("a", "SUCCESS")]
    assert [s for t, s in seen if t is handle] == ["PENDING", "PROCESSING", "ERROR"]
    assert len(seen) == 5


async def test_a_failing_task_ends_with_its_exception_and_the_others_go_on(
    router: respx.Router, no_wait: None
) -> None:
    """A task whose following fails (a 404) gives (task, exception) as its last pair; others finish."""
    router.get("/tts/gone").respond(404, json={"detail": "no such task"})
    router.get("/tts/fine").mock(side_effect=scripted("PENDING", "SUCCESS"))
    async with make_client(router, max_retries=0) as client:
        seen = [pair async for pair in client.watch_many(["gone", "fine"])]
    gone = [outcome for task, outcome in seen if task == "gone"]
    assert len(gone) == 1
    assert isinstance(gone[0], NotFoundError)
    assert [o.status for t, o in seen if t == "fine" and isinstance(o, TaskStatus)] == ["PENDING", "SUCCESS"]


async def test_wait_many_gives_outcomes_in_the_order_of_the_tasks(
    router: respx.Router, no_wait: None
) -> None:
    """Outcomes line up with the tasks given, duplicates included; a failure hides nothing."""
    router.get("/tts/ok").mock(side_effect=scripted("PENDING", "PENDING", "SUCCESS") * 2)
    router.get("/tts/err").mock(side_effect=scripted("ERROR"))
    router.get("/tts/late").mock(side_effect=scripted("TIMEOUT"))
    router.get("/tts/broke").mock(side_effect=scripted("PAYMENT_REQUIRED"))
    async with make_client(router) as client:
        outcomes = await client.wait_many(["ok", "err", "late", "broke", "ok"])
    assert [type(o) for o in outcomes] == [
        TaskStatus,
        TaskFailedError,
        TaskTimedOutError,
        TaskPaymentRequiredError,
        TaskStatus,
    ]
    first = outcomes[0]
    assert isinstance(first, TaskStatus)
    assert first.run_id == 1
    failed = outcomes[1]
    assert isinstance(failed, TaskFailedError)
    assert failed.task_id == "err"


async def test_as_completed_gives_each_task_once_as_it_ends(router: respx.Router, no_wait: None) -> None:
    """Each task comes once, with its outcome, as soon as it ends."""
    router.get("/tts/quick").mock(side_effect=scripted("SUCCESS"))
    router.get("/tts/slow").mock(side_effect=scripted("PENDING", "PENDING", "PENDING", "ERROR"))
    async with make_client(router) as client:
        ended = [(task, type(outcome)) async for task, outcome in client.as_completed(["slow", "quick"])]
    assert ended == [("quick", TaskStatus), ("slow", TaskFailedError)]


async def test_the_deadline_names_what_did_not_finish(router: respx.Router) -> None:
    """At the overall deadline, finished tasks keep their outcomes and the others get WatchTimeoutError."""
    router.get("/tts/done").mock(side_effect=scripted("SUCCESS"))
    router.get("/tts/never").mock(side_effect=always_pending)
    async with make_client(router) as client:
        with anyio.fail_after(5):
            outcomes = await client.wait_many(["done", "never"], timeout=0.5)
    assert isinstance(outcomes[0], TaskStatus)
    late = outcomes[1]
    assert isinstance(late, WatchTimeoutError)
    assert late.task_id == "never"
    assert late.last_status is not None
    assert late.last_status.status == "PENDING"


async def test_breaking_out_stops_every_poll_at_once(router: respx.Router, no_wait: None) -> None:
    """After a break, no poll runs: the routes see no more calls, and the client stays usable."""
    route = router.route(method="GET").mock(side_effect=always_pending)
    async with make_client(router) as client:
        async for _ in client.watch_many([f"t{i}" for i in range(50)]):
            break
        calls = route.call_count
        await anyio.sleep(0.05)
        assert route.call_count == calls
        assert (await client.status("t0")).status == "PENDING"


async def test_cancelling_stops_every_poll(router: respx.Router, no_wait: None) -> None:
    """A cancelled wait_many leaves no poll running."""
    route = router.route(method="GET").mock(side_effect=always_pending)
    async with make_client(router) as client:
        with anyio.move_on_after(0.1):
            await client.wait_many([f"t{i}" for i in range(20)])
        calls = route.call_count
        await anyio.sleep(0.05)
        assert route.call_count == calls > 0


@pytest.mark.parametrize(
    ("tasks", "error"),
    [
        ("abc", TypeError),
        (TaskHandle(family="tts", task_id="abc"), TypeError),
        ([42], TypeError),
        (["a/b"], ValueError),
        ([""], ValueError),
    ],
    ids=["a-bare-id", "a-bare-handle", "not-a-task", "two-segments", "blank"],
)
async def test_bad_tasks_are_refused_before_any_request(
    client: AsyncCambClient, unexpected: respx.Route, tasks: object, error: type[Exception]
) -> None:
    """A single task where many are asked for, or an unusable one, fails before any request."""
    with pytest.raises(error):
        client.watch_many(tasks)  # type: ignore[arg-type]
    with pytest.raises(error):
        await client.wait_many(tasks)  # type: ignore[arg-type]
    assert unexpected.call_count == 0


async def test_a_handle_round_trips_through_json() -> None:
    """A handle stored as JSON comes back equal and hashing the same."""
    handle = TaskHandle(family="text_to_sound", task_id="abc-123")
    again = TaskHandle.model_validate_json(handle.model_dump_json())
    assert again == handle
    assert hash(again) == hash(handle)
    assert {handle: 1}[again] == 1


async def test_a_handle_with_a_contradicting_family_is_refused(client: AsyncCambClient) -> None:
    """status(handle, family=...) must agree with the handle."""
    with pytest.raises(ValueError, match="contradicts"):
        await client.status(TaskHandle(family="tts", task_id="a"), family="dubbing")


# -- over the simulator ---------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_sim() -> Iterator[Simulator]:
    """A simulator for the mixed-family runs."""
    with Simulator(seed=21) as sim:
        yield sim


FINALS = ("SUCCESS", "ERROR", "TIMEOUT", "PAYMENT_REQUIRED")
FAMILIES: tuple[TaskFamily, ...] = (
    "tts",
    "dubbing",
    "translation",
    "transcription",
    "text_to_sound",
    "project_setup",
)


@pytest.mark.integration
async def test_mixed_families_and_outcomes_over_tcp(mixed_sim: Simulator) -> None:
    """600 tasks of six families and four final statuses: every outcome matches the simulator's record."""
    handles: list[str | TaskHandle] = []
    for i in range(600):
        family = FAMILIES[i % len(FAMILIES)]
        final = FINALS[i % len(FINALS)]
        task_id = mixed_sim.add_task([("PENDING", 0.0), (final, 0.1 + (i % 13) * 0.05)], family=family)
        handles.append(
            task_id if family == "tts" and i % 2 == 0 else TaskHandle(family=family, task_id=task_id)
        )
    async with AsyncCambClient("k", base_url=mixed_sim.url) as client:
        with anyio.fail_after(60):
            outcomes = await client.wait_many(handles)
    for task, outcome in zip(handles, outcomes, strict=True):
        family, task_id = ("tts", task) if isinstance(task, str) else (task.family, task.task_id)
        final = mixed_sim.record(task_id, family=family).final_status
        if final == "SUCCESS":
            assert isinstance(outcome, TaskStatus), outcome
        else:
            assert (
                type(outcome).__name__
                == {
                    "ERROR": "TaskFailedError",
                    "TIMEOUT": "TaskTimedOutError",
                    "PAYMENT_REQUIRED": "TaskPaymentRequiredError",
                }[final]
            )


@pytest.mark.integration
async def test_watch_many_sees_every_change_over_tcp(mixed_sim: Simulator) -> None:
    """Every task's last pair from watch_many is its true final status."""
    ids = [mixed_sim.add_task([("PENDING", 0.0), ("SUCCESS", 0.2 + i * 0.001)]) for i in range(300)]
    last: dict[str, str] = {}
    async with (
        AsyncCambClient("k", base_url=mixed_sim.url) as client,
        aclosing(client.watch_many(ids)) as pairs,
    ):
        async for task, status in pairs:
            assert isinstance(status, TaskStatus)
            last[task] = str(status.status)
    assert last == dict.fromkeys(ids, "SUCCESS")


async def test_a_cancelled_step_loses_no_task(router: respx.Router) -> None:
    """Cancelling one step while polls are in flight, then going on, still ends every task."""
    release = anyio.Event()
    calls = 0

    async def stalls_first(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls <= 3:
            await release.wait()
        return answer("SUCCESS", run_id=1)

    router.route(method="GET").mock(side_effect=stalls_first)
    async with make_client(router) as client:
        watches = client.watch_many(["a", "b", "c"])
        with anyio.move_on_after(0.1):
            await watches.__anext__()
        release.set()
        with anyio.fail_after(10):
            seen = {task async for task, _ in watches}
    assert seen == {"a", "b", "c"}


# -- what the scheduler keeps per task ------------------------------------------------


async def test_the_scheduler_starts_no_more_polls_than_it_may_run() -> None:
    """With ``in_flight=3``, ten due tasks are polled three at a time, the rest left in the heap."""
    running = most = 0
    release = anyio.Event()

    async def poll(task_id: str, watch: WatchRef, priority: Priority) -> TaskStatus:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            await release.wait()
        finally:
            running -= 1
        return TaskStatus(status="SUCCESS", run_id=1)

    tracked = [
        Tracked(key, poll, Follow(key, PollSchedule(), started=0.0, timeout=None), "tts")
        for key in (f"t{i}" for i in range(10))
    ]
    watches = TaskWatches(tracked, timeout=None, outage=lambda: None, in_flight=3)
    with anyio.move_on_after(0.2):
        await watches.__anext__()
    assert most == 3
    release.set()
    with anyio.fail_after(10):
        seen = {key async for key, _ in watches}
    assert seen == {f"t{i}" for i in range(10)}
    assert most == 3


def test_a_status_of_nothing_but_its_state_is_kept_once_for_every_task() -> None:
    """Watches that saw equal PENDING answers keep one object; one with a run id keeps its own."""
    follows: list[Follow[TaskStatus]] = [
        Follow(f"t{i}", PollSchedule(), started=0.0, timeout=None) for i in range(3)
    ]
    for follow in follows[:2]:
        follow.seen(read_status(b'{"status":"PENDING","run_id":null}'), 0.0, 0.1)
    with_run = read_status(b'{"status":"PENDING","run_id":7}')
    follows[2].seen(with_run, 0.0, 0.1)
    assert follows[0].last is follows[1].last
    assert follows[0].last == read_status(b'{"status":"PENDING","run_id":null}')
    assert follows[2].last is with_run


def test_past_the_shared_kinds_a_status_is_kept_as_it_came(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once as many kinds as ``_SHARED_KINDS`` are shared, a new kind is not added: each keeps its own."""
    monkeypatch.setattr(_polling, "_SHARED", {})
    monkeypatch.setattr(_polling, "_SHARED_KINDS", 0)
    first, second = (read_status(b'{"status":"QUEUED"}') for _ in range(2))
    follows: list[Follow[TaskStatus]] = [
        Follow(f"t{i}", PollSchedule(), started=0.0, timeout=None) for i in range(2)
    ]
    follows[0].seen(first, 0.0, 0.1)
    follows[1].seen(second, 0.0, 0.1)
    assert follows[0].last is first
    assert follows[1].last is second
