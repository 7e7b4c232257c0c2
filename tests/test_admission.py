"""Admission of requests (``_admission``): the breaker asked first and last, slots given up
while waiting, and which failures the breaker counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import httpx
import pytest
from support import make_client

from camb_async import APIConnectionError

if TYPE_CHECKING:
    import respx

    from camb_async._breaker import CircuitBreaker

pytestmark = pytest.mark.anyio

FAILURE = httpx.ConnectError("refused")


async def test_client_waits_on_an_open_breaker_then_fails_unsent(router: respx.Router) -> None:
    """Once the API stopped answering, a request other than a poll waits on the breaker its read
    timeout and then the next probe's outcome: that probe failing, it raises an
    APIConnectionError saying it was not sent."""
    route = router.get("/tts/abc").mock(
        side_effect=[httpx.Response(200, json={"status": "PENDING"})] + [FAILURE] * 5
    )
    async with make_client(router, max_retries=0, timeout=httpx.Timeout(5.0, read=0.1)) as camb:
        await camb.status("abc")
        for _ in range(5):
            with pytest.raises(APIConnectionError):
                await camb.status("abc")
        state = camb._requester._loop_state()
        assert state.breaker.is_open
        state.breaker._next_probe = anyio.current_time() + 10  # no probe of the client's own
        errors: list[APIConnectionError] = []

        async def status() -> None:
            with pytest.raises(APIConnectionError, match="was not sent") as caught:
                await camb.status("abc")
            errors.append(caught.value)

        with anyio.fail_after(2):
            async with anyio.create_task_group() as group:
                group.start_soon(status)
                await anyio.sleep(0.3)
                assert not errors  # past its read timeout, waiting for the probe's outcome
                await fail_a_probe(state.breaker)
    assert route.call_count == 6
    [error] = errors
    assert isinstance(error.__cause__, httpx.ConnectError)
    assert not error.before_first_contact


@pytest.mark.parametrize("where", ["constructor", "with_options"])
async def test_breaker_wait_zero_fails_requests_at_once_while_the_api_is_down(
    router: respx.Router, where: str
) -> None:
    """breaker_wait=0 (in the constructor, or for a with_options() client alone): a request
    meeting the open breaker fails unsent at once, where others wait their read timeout."""
    route = router.get("/tts/abc").mock(side_effect=[FAILURE] * 5)
    options = {"breaker_wait": 0} if where == "constructor" else {}
    async with make_client(router, max_retries=0, **options) as camb:
        for _ in range(5):
            with pytest.raises(APIConnectionError):
                await camb.status("abc")
        state = camb._requester._loop_state()
        state.breaker._next_probe = anyio.current_time() + 10
        quick = camb if where == "constructor" else camb.with_options(breaker_wait=0.0)
        with anyio.fail_after(1), pytest.raises(APIConnectionError, match="was not sent"):
            await quick.status("abc")
        if where == "with_options":
            with anyio.move_on_after(0.3) as waiting:
                await camb.status("abc")  # the parent still waits its read timeout
            assert waiting.cancelled_caught
    assert route.call_count == 5


async def fail_a_probe(breaker: CircuitBreaker) -> None:
    """Be the open breaker's next probe, at once, and fail."""
    breaker._next_probe = anyio.current_time()
    assert await breaker.admit(None) is True
    breaker.failed(True, FAILURE)


@pytest.mark.parametrize("budget", [None, 1000], ids=["no-budget", "budget"])
async def test_queued_requests_are_not_sent_once_the_breaker_opened(
    router: respx.Router, budget: int | None
) -> None:
    """Requests admitted while the breaker was closed but still waiting when it opens (for a
    slot; under a request budget, for their turn and the slot that comes with it) go back
    to wait on it, giving their slots up: only a probe may reach a downed API."""
    hung = anyio.Event()
    sent: list[httpx.Request] = []

    async def fail_when_released(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        await hung.wait()
        raise FAILURE

    router.get(url__regex=r".*/tts/t\d+$").mock(side_effect=fail_when_released)
    errors: list[APIConnectionError] = []
    options = {
        "max_retries": 0,
        "max_concurrent_requests": 5,
        "timeout": httpx.Timeout(5.0, read=0.2),
        "max_requests_per_second": budget,
    }
    async with make_client(router, **options) as camb:
        state = camb._requester._loop_state()

        async def status(index: int) -> None:
            try:
                await camb.status(f"t{index}")
            except APIConnectionError as error:
                errors.append(error)

        async with anyio.create_task_group() as group:
            for index in range(25):
                group.start_soon(status, index)
            with anyio.fail_after(2):
                while len(sent) < 5:  # noqa: ASYNC110 (respx has no event for a call)
                    await anyio.sleep(0.005)
            if budget is None:
                assert state.limiter.waiting == 20
            else:
                assert state.budget.waiting == 20
                assert state.limiter.waiting <= 1  # at most the budget's timekeeper, for the next in line
            # The breaker opens before the hung requests fail: opened by their failures, a
            # slot freed by the first could let a waiter go before the fifth opened it (trio
            # runs woken tasks in random order).
            for _ in range(state.breaker.threshold):
                state.breaker.failed(False, FAILURE)
            assert state.breaker.is_open
            state.breaker._next_probe = anyio.current_time() + 10  # no probe of the client's own
            hung.set()
            await anyio.sleep(0.4)
            await fail_a_probe(state.breaker)
        assert state.limiter.in_flight == 0
    assert len(sent) == 5
    assert len(errors) == 25
    assert sum("was not sent" in str(error) for error in errors) == 20


@pytest.mark.parametrize(
    ("failure", "opens"),
    [
        pytest.param(httpx.ReadTimeout("slow"), False, id="read-timeout"),
        pytest.param(httpx.ConnectTimeout("no route"), True, id="connect-timeout"),
        pytest.param(httpx.ReadError("reset"), True, id="reset"),
    ],
)
async def test_only_fast_failures_open_the_breaker(
    router: respx.Router, failure: httpx.TransportError, opens: bool
) -> None:
    """Requests that waited out their read timeout paced themselves, and a server that
    answers others is up: five of them in a row leave the breaker closed; five refused,
    reset or unconnected requests open it."""
    router.get("/tts/abc").mock(side_effect=[failure] * 5)
    async with make_client(router, max_retries=0) as camb:
        for _ in range(5):
            with pytest.raises(APIConnectionError):
                await camb.status("abc")
        assert camb._requester._loop_state().breaker.is_open is opens


async def test_a_request_goes_at_once_only_when_nothing_holds_it(router: respx.Router) -> None:
    """clear_at_once lets a request go, holding a slot, while the breaker is closed, no pause
    was started, no budget is set and a slot is free; otherwise it takes nothing and leaves
    the request to clear_to_send."""
    from camb_async._admission import clear_at_once

    router.get("/tts/abc").mock(return_value=httpx.Response(200, json={"status": "PENDING"}))
    async with make_client(router) as camb:
        await camb.status("abc")
        state = camb._requester._loop_state()
        limiter = state.limiter
        assert clear_at_once(state, slot=True)
        assert limiter.in_flight == 1
        limiter.release()
        assert clear_at_once(state, slot=False)
        assert limiter.in_flight == 0
        limiter.in_flight = int(limiter.limit)  # every slot taken
        assert not clear_at_once(state, slot=True)
        assert clear_at_once(state, slot=False)
        limiter.in_flight = 0
        state.resume_at = anyio.current_time() - 1.0  # a pause was started once
        assert not clear_at_once(state, slot=True)
        state.resume_at = 0.0
        state.budget.rate = 10.0
        assert not clear_at_once(state, slot=True)
        state.budget.rate = None
        state.breaker.is_open = True
        assert not clear_at_once(state, slot=True)
        state.breaker.is_open = False
        assert limiter.in_flight == 0
