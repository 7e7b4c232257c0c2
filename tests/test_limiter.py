"""The client's limit on requests in flight: slots, waiting in line, and how the limit moves."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

import camb_async._limiter
from camb_async._limiter import _EPOCH, NEAR_CEILING, TARGET_RATE, RequestLimiter

pytestmark = pytest.mark.anyio


def hold(limiter: RequestLimiter, count: int) -> None:
    """Take ``count`` slots at once (each must be free)."""
    for _ in range(count):
        assert limiter.try_acquire()


def answers(limiter: RequestLimiter, rtt: float, count: int) -> None:
    """``count`` answers that each took ``rtt`` seconds, with the limit fully used meanwhile."""
    for _ in range(count):
        hold(limiter, max(0, int(limiter.limit) - limiter.in_flight))
        limiter.observe(rtt)


# -- slots ---------------------------------------------------------------------------------


def test_the_limit_starts_at_16_within_its_bounds() -> None:
    assert RequestLimiter(64).limit == 16
    assert RequestLimiter(2).limit == 2
    assert RequestLimiter(2).minimum == 2
    assert RequestLimiter(64, minimum=20).limit == 20


def test_a_slot_is_free_only_under_the_limit() -> None:
    limiter = RequestLimiter(2)
    hold(limiter, 2)
    assert not limiter.try_acquire()
    limiter.release()
    assert limiter.try_acquire()
    assert limiter.in_flight == 2


async def test_waiters_get_slots_in_the_order_they_came() -> None:
    limiter = RequestLimiter(1)
    hold(limiter, 1)
    order: list[int] = []

    async def take(number: int) -> None:
        await limiter.acquire()
        order.append(number)
        limiter.release()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            for number in range(5):
                group.start_soon(take, number)
                await anyio.wait_all_tasks_blocked()
            assert limiter.waiting == 5
            assert not limiter.try_acquire()  # nobody jumps the line
            limiter.release()
    assert order == [0, 1, 2, 3, 4]
    assert limiter.in_flight == 0


async def test_a_cancelled_wait_takes_no_slot() -> None:
    limiter = RequestLimiter(1)
    hold(limiter, 1)
    with anyio.move_on_after(0.01) as waited:
        await limiter.acquire()
    assert waited.cancelled_caught
    assert limiter.waiting == 0
    limiter.release()
    assert limiter.in_flight == 0
    with anyio.fail_after(1):
        await limiter.acquire()  # the line holds only the abandoned waiter: the slot is free
    assert limiter.in_flight == 1


async def test_a_wait_past_its_deadline_takes_no_slot_and_leaves_the_line() -> None:
    """acquire(deadline) gives up at the deadline, holding nothing; the next slot goes to whoever comes next."""
    limiter = RequestLimiter(1)
    hold(limiter, 1)
    with anyio.fail_after(5):
        assert not await limiter.acquire(anyio.current_time() + 0.05)
    assert limiter.waiting == 0
    limiter.release()
    assert limiter.in_flight == 0
    with anyio.fail_after(1):
        assert await limiter.acquire(anyio.current_time() + 1.0)
    assert limiter.in_flight == 1


async def test_a_cancelled_wait_with_a_near_deadline_leaves_no_timer() -> None:
    """A place in line given up (cancelled) before its deadline takes no slot and drops its timer."""
    limiter = RequestLimiter(1)
    hold(limiter, 1)
    place = limiter.line(anyio.current_time() + 5.0)
    with anyio.move_on_after(0.01):
        await place
    limiter.leave(place)
    assert place.timer is None
    assert limiter.waiting == 0
    limiter.release()
    assert limiter.in_flight == 0


async def test_a_far_deadline_is_timed_by_the_sweep_of_the_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deadline beyond LINE_HORIZON still ends the wait on time, once a sweep of the line times it."""
    monkeypatch.setattr(camb_async._limiter, "LINE_HORIZON", 0.1)
    limiter = RequestLimiter(1)
    hold(limiter, 1)
    began = anyio.current_time()
    with anyio.fail_after(5):
        assert not await limiter.acquire(began + 0.4)
    assert 0.4 <= anyio.current_time() - began < 2.0
    assert limiter.in_flight == 1


async def test_closing_refuses_the_waiters_and_whoever_comes_later() -> None:
    """close() ends every wait in line at once with ClosedResourceError, and any later acquire too."""
    limiter = RequestLimiter(1)
    hold(limiter, 1)
    refused: list[int] = []

    async def take(number: int) -> None:
        with pytest.raises(anyio.ClosedResourceError):
            await limiter.acquire(anyio.current_time() + 60.0 * number)
        refused.append(number)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            for number in range(3):
                group.start_soon(take, number + 1)
            await anyio.wait_all_tasks_blocked()
            limiter.close()
    assert sorted(refused) == [1, 2, 3]
    with pytest.raises(anyio.ClosedResourceError):
        await limiter.acquire()
    assert limiter.in_flight == 1


async def test_a_slot_that_arrives_with_a_cancellation_is_passed_on() -> None:
    """Released to the first in line just as that waiter is cancelled: the next one gets the slot."""
    limiter = RequestLimiter(1)
    hold(limiter, 1)
    got: list[str] = []

    async def take(name: str, scope: anyio.CancelScope) -> None:
        with scope:
            await limiter.acquire()
            try:
                got.append(name)
                await anyio.lowlevel.checkpoint()
            finally:
                limiter.release()

    first, second = anyio.CancelScope(), anyio.CancelScope()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(take, "first", first)
            await anyio.wait_all_tasks_blocked()
            group.start_soon(take, "second", second)
            await anyio.wait_all_tasks_blocked()
            limiter.release()  # hands the slot to "first" ...
            first.cancel()  # ... which is cancelled before it runs
    assert "second" in got
    assert limiter.in_flight == 0
    assert limiter.waiting == 0


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_slot_granted_to_a_task_cancelled_by_asyncio_is_passed_on() -> None:
    """asyncio's own Task.cancel() can land after the slot was granted; the slot moves on."""
    import asyncio

    limiter = RequestLimiter(1)
    hold(limiter, 1)
    first = asyncio.ensure_future(limiter.acquire())
    second = asyncio.ensure_future(limiter.acquire())
    await anyio.wait_all_tasks_blocked()
    limiter.release()  # grants the slot to `first` ...
    first.cancel()  # ... which is cancelled before it resumes
    with pytest.raises(asyncio.CancelledError):
        await first
    with anyio.fail_after(1):
        await second
    assert limiter.in_flight == 1
    limiter.release()
    assert limiter.in_flight == 0


async def test_aborted_waiters_do_not_block_a_free_slot() -> None:
    """Everyone in line gave up and the slot came back: the next caller takes it at once."""
    limiter = RequestLimiter(1)
    hold(limiter, 1)
    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(limiter.acquire)
        await anyio.wait_all_tasks_blocked()
        group.cancel_scope.cancel()
    limiter.in_flight = 0  # as if the holder had gone without waking anyone
    with anyio.fail_after(1):
        await limiter.acquire()
    assert limiter.in_flight == 1


# -- how the limit moves ----------------------------------------------------------------------


def test_the_limit_grows_to_the_maximum_while_answers_take_no_longer_than_the_fastest() -> None:
    limiter = RequestLimiter(64)
    answers(limiter, 0.150, 2_000)
    assert limiter.limit == 64


def test_the_limit_shrinks_fast_when_answers_wait() -> None:
    """Round trips ten times the fastest one: most requests in flight only wait; keep fewer.

    It settles where fewer than 6 of those left would wait (6.6 * 0.9 < 6), within a few
    round trips' worth of answers."""
    limiter = RequestLimiter(64, initial=64)
    limiter.observe(0.001)
    answers(limiter, 0.010, 250)
    assert 6 < limiter.limit < 7


def test_the_limit_never_falls_below_the_minimum() -> None:
    limiter = RequestLimiter(64, minimum=10)
    limiter.observe(0.001)
    answers(limiter, 1.0, 400)
    assert limiter.limit == 10


def test_the_limit_holds_where_a_few_requests_wait() -> None:
    """Between the two thresholds (3 and 6 times log10(limit) waiting) the limit stays put."""
    limiter = RequestLimiter(64, initial=40)
    limiter.observe(0.100)
    # 40 * (1 - 0.100 / rtt) = 7 requests waiting: between 4.8 and 9.6.
    answers(limiter, 0.100 / (1 - 7 / 40), 200)
    assert limiter.limit == 40


def test_the_limit_doubles_per_round_trip_until_requests_wait() -> None:
    """Slow start: 16 answers of a round trip at 16 in flight make 32, and so on: 256 after
    four round trips' worth of answers."""
    limiter = RequestLimiter(256)
    answers(limiter, 0.150, 16)
    assert limiter.limit == 32
    answers(limiter, 0.150, 32 + 64 + 128)
    assert limiter.limit == 256


def test_once_requests_wait_the_limit_grows_by_about_log10_per_round_trip() -> None:
    limiter = RequestLimiter(256, initial=40)
    limiter.observe(0.100)
    answers(limiter, 0.100 / (1 - 7 / 40), 1)  # 7 waiting: more than a few
    answers(limiter, 0.100, 40)  # one round trip's worth of answers, none waiting
    assert 41 < limiter.limit < 43  # log10(40) = 1.6 more, not 40


def test_a_short_round_trip_keeps_the_limit_under_the_near_ceiling() -> None:
    """Under 32 ms, more in flight would only wait longer: 64, whatever the maximum."""
    limiter = RequestLimiter(1_000)
    answers(limiter, 0.010, 2_000)
    assert limiter.limit == NEAR_CEILING == limiter.ceiling


def test_a_long_round_trip_raises_the_ceiling_by_littles_law() -> None:
    """At 150 ms, 2,000 requests a second need 300 in flight."""
    limiter = RequestLimiter(1_000)
    answers(limiter, 0.150, 2_000)
    assert limiter.limit == limiter.ceiling == pytest.approx(TARGET_RATE * 0.150)


def test_the_maximum_is_a_hard_ceiling_however_long_the_round_trip() -> None:
    limiter = RequestLimiter(100)
    answers(limiter, 1.0, 2_000)
    assert limiter.limit == limiter.ceiling == 100


def test_round_trips_that_grow_with_load_bring_a_high_limit_down() -> None:
    """The server, not the distance, is slow: the round trip doubles, half of the 300 in flight
    only wait, and the limit sheds half of the excess of waiting ones per round trip."""
    limiter = RequestLimiter(1_000)
    answers(limiter, 0.150, 2_000)
    answers(limiter, 0.300, 300)
    assert limiter.limit < 240
    answers(limiter, 0.300, 600)
    assert limiter.limit < 120


def test_a_server_that_comes_near_brings_the_limit_under_the_near_ceiling() -> None:
    limiter = RequestLimiter(1_000)
    answers(limiter, 0.150, 2_000)
    answers(limiter, 0.005, 1)
    assert limiter.ceiling == NEAR_CEILING
    assert limiter.limit <= NEAR_CEILING


def test_a_minimum_above_the_near_ceiling_holds() -> None:
    limiter = RequestLimiter(128, minimum=128)
    answers(limiter, 0.001, 100)
    assert limiter.limit == 128


def test_the_limit_does_not_grow_while_it_is_not_used() -> None:
    limiter = RequestLimiter(64)
    for _ in range(1_000):
        limiter.observe(0.150)  # one request at a time
    assert limiter.limit == 16


def test_a_round_trip_of_no_time_is_ignored() -> None:
    limiter = RequestLimiter(64)
    limiter.observe(0.0)
    answers(limiter, 0.150, 100)
    assert limiter.limit > 16  # 0.0 did not become the fastest round trip


def test_the_fastest_round_trip_is_forgotten_after_two_epochs() -> None:
    """A server that became slower for good: the limit grows again once the old best is forgotten."""
    limiter = RequestLimiter(64)
    answers(limiter, 0.010, 100)
    answers(limiter, 0.100, _EPOCH // 2)
    assert limiter.limit < 7  # seen as waiting
    answers(limiter, 0.100, 2 * _EPOCH)
    assert limiter.limit > 20  # growing again, by about log10(limit) per round trip


async def test_a_growing_limit_lets_waiters_in() -> None:
    limiter = RequestLimiter(64, initial=4)
    hold(limiter, 4)
    woken: list[int] = []

    async def take(number: int) -> None:
        await limiter.acquire()
        woken.append(number)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            for number in range(3):
                group.start_soon(take, number)
                await anyio.wait_all_tasks_blocked()
            while not woken:
                limiter.observe(0.05)  # no waiting at the server: grow
                await anyio.lowlevel.checkpoint()
            group.cancel_scope.cancel()
    assert woken[0] == 0
    assert limiter.limit > 4
