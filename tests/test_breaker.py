"""The client-wide circuit breaker: opens after consecutive failures, one probe at a time, releases all."""

from __future__ import annotations

import logging

import anyio
import httpx
import pytest

from camb_async._breaker import BreakerOpenError, CircuitBreaker

pytestmark = pytest.mark.anyio

FAILURE = httpx.ConnectError("refused")


def opened(threshold: int = 3, first_pause: float = 0.01, max_pause: float = 0.04) -> CircuitBreaker:
    """A breaker already open after ``threshold`` failures."""
    breaker = CircuitBreaker(threshold=threshold, first_pause=first_pause, max_pause=max_pause)
    for _ in range(threshold):
        breaker.failed(False, FAILURE)
    assert breaker.is_open
    return breaker


async def test_closed_breaker_admits_at_once() -> None:
    """Below the threshold every request goes, none as a probe."""
    breaker = CircuitBreaker(threshold=3)
    breaker.failed(False, FAILURE)
    breaker.failed(False, FAILURE)
    breaker.succeeded(False)
    breaker.failed(False, FAILURE)
    breaker.failed(False, FAILURE)
    assert not breaker.is_open  # an answer in between resets the count
    assert await breaker.admit(0) is False


async def test_open_breaker_lets_one_probe_at_a_time(caplog: pytest.LogCaptureFixture) -> None:
    """Open: after the pause, exactly one waiter becomes the probe; the others wait until it ends."""
    with caplog.at_level(logging.WARNING, "camb_async"):
        breaker = opened()
    assert "the API looks down" in caplog.text
    probes: list[bool] = []

    async def request() -> None:
        probes.append(await breaker.admit(None))

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(request)
        with anyio.fail_after(2):
            while not probes:  # noqa: ASYNC110 (the breaker has no event to show a probe went)
                await anyio.sleep(0.005)
        await anyio.sleep(0.05)
        assert probes == [True]  # four still wait behind the probe
        with caplog.at_level(logging.INFO, "camb_async"):
            breaker.succeeded(True)
    assert probes == [True, False, False, False, False]
    assert not breaker.is_open
    assert "answers again" in caplog.text


async def test_a_late_answer_to_a_request_sent_before_opening_leaves_it_open() -> None:
    """While open only probes go; another answer is to a request sent before, read late: the
    breaker stays open (releasing every waiter on it would send a herd at a downed API)."""
    breaker = opened()
    breaker.succeeded(False)
    assert breaker.is_open
    breaker.succeeded(True)
    assert not breaker.is_open


async def test_failed_probe_doubles_the_pause_up_to_the_maximum() -> None:
    """Each failed probe doubles the pause before the next one, up to max_pause."""
    breaker = opened(first_pause=0.04, max_pause=0.16)
    pauses: list[float] = []
    for _ in range(4):
        started = anyio.current_time()
        assert await breaker.admit(None) is True
        pauses.append(anyio.current_time() - started)
        breaker.failed(True, FAILURE)
    assert pauses[0] <= 0.06
    assert 0.06 <= pauses[1] <= 0.1  # 0.08, less up to a quarter
    assert 0.12 <= pauses[3] <= 0.2  # capped at 0.16


async def test_waiting_longer_than_max_wait_raises_at_the_next_failed_probe() -> None:
    """A request that may wait only so long on an open breaker raises BreakerOpenError, unsent,
    once a probe fails after its time is up (not before: that probe may find the API back)."""
    breaker = opened(first_pause=0.2)
    outcome: list[str] = []

    async def waiter() -> None:
        with pytest.raises(BreakerOpenError):
            await breaker.admit(0.05)
        outcome.append("gave up")

    with anyio.fail_after(2):
        assert await breaker.admit(None) is True  # this test's own probe, in flight
        async with anyio.create_task_group() as group:
            group.start_soon(waiter)
            await anyio.sleep(0.1)
            assert outcome == []  # past its 0.05 s, waiting for the probe's outcome
            breaker.failed(True, FAILURE)
    assert outcome == ["gave up"]


async def test_max_wait_zero_raises_at_once() -> None:
    """max_wait=0 means do not wait at all."""
    breaker = opened(first_pause=10.0)
    with anyio.fail_after(1), pytest.raises(BreakerOpenError):
        await breaker.admit(0)


async def test_a_waiter_past_its_time_goes_through_when_the_probe_finds_the_api_back() -> None:
    """A request whose wait ran out just before the probe that finds the API back is sent, not
    charged for an outage that is over."""
    breaker = opened(first_pause=0.2)
    admitted: list[bool] = []

    async def waiter() -> None:
        admitted.append(await breaker.admit(0.05))

    with anyio.fail_after(2):
        assert await breaker.admit(None) is True
        async with anyio.create_task_group() as group:
            group.start_soon(waiter)
            await anyio.sleep(0.1)
            breaker.succeeded(True)
    assert admitted == [False]


async def test_probes_go_about_once_a_second_while_the_api_is_down() -> None:
    """By default the pause between probes stays within 0.75-1 s: a returning API is seen within
    about a second, and a downed one gets about one connection attempt a second."""
    breaker = CircuitBreaker()
    assert breaker.max_pause == 1.0
    pauses: list[float] = []
    for _ in range(20):
        breaker._pause = breaker.max_pause
        breaker._schedule_probe()
        pauses.append(breaker._next_probe - anyio.current_time())
    assert all(0.74 <= pause <= 1.0 for pause in pauses), pauses


async def test_an_abandoned_probe_lets_another_probe() -> None:
    """A probe cancelled without an outcome frees the probe's place at once."""
    breaker = opened()
    assert await breaker.admit(None) is True
    breaker.abandoned(True)
    with anyio.fail_after(1):
        assert await breaker.admit(None) is True
