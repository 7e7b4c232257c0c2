"""Admission of a client's requests: when each may go, and what its outcome tells the breaker.

A request goes once the circuit breaker admits it (``_breaker``), the client's
429/503 pause is over, the request budget gives it a turn (``_budget``) and, for
a poll or other small call, a slot of the limit on requests in flight is free
(``_limiter``). The order keeps an outage quiet: the breaker is asked first and
again last, so a request admitted before an outage began and then kept waiting
does not reach a downed API. An answer, or its absence, is then reported to the
breaker (``answered``, ``unanswered``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from ._breaker import BreakerOpenError, CircuitBreaker
from ._exceptions import APIConnectionError
from ._state import honour_pause
from ._transport import true_transport_error

if TYPE_CHECKING:
    from ._state import LoopState, Pool
    from ._types import Priority

__all__ = ["answered", "clear_at_once", "clear_to_send", "unanswered"]

_SLOW_FAILURES = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout)


def clear_at_once(state: LoopState, *, slot: bool) -> bool:
    """Whether a request may go now, not as the breaker's probe, without waiting for
    anything: the breaker is closed, no pause was ever started, there is no request
    budget and (with ``slot``) a slot of the limit on requests in flight is free, which
    it then holds. ``False`` leaves everything as it was, for :func:`clear_to_send`."""
    if state.breaker.is_open or state.resume_at or state.budget.rate is not None:
        return False
    return not slot or state.limiter.try_acquire()


async def clear_to_send(
    pool: Pool,
    state: LoopState,
    breaker_wait: float | None,
    method: str,
    url: str,
    *,
    slot: bool,
    held: bool = False,
    priority: Priority | None = None,
) -> bool:
    """Wait until a request may go: the circuit breaker admits it, the client's pause is
    over, the rate budget gives it a turn and a slot of the limit on requests in flight
    is free (with ``slot``). Whether it goes as the breaker's probe.

    Under a budget the user gave, the budget hands out the slots with the turns, in the
    order of the requests' ``priority`` (a poll's chance to find its task finished;
    ``None``, any other request, first): were the slot waited for first, the thousands of
    polls beyond the limit would wait for it first come, first served, and the budget
    would have only the few holding a slot to order. A budget the client learns from 429s
    is waited for after the slot, by the requests holding one: it follows what the server
    lets through, and ordering every waiting poll against it starved it behind nginx's
    ``limit_req`` (the fault suite's herd test).

    The breaker is asked again last of all: a request admitted before an outage began
    and then kept waiting must not go out once the breaker is open. Sent back, it gives
    its slot up while it waits, so the probe never waits for one. A request that fails
    here (cancelled, or waited its longest) gives back the probe it was made.

    ``held``: the request already holds its slot (it waited for it first, see
    ``Requester._send``: never under a budget the user gave, which hands the slots out);
    it gives it up if the breaker is open, as above."""
    breaker = state.breaker
    limiter = state.limiter
    budget = state.budget
    slots = limiter if slot else None
    probe = False
    if held and breaker.is_open:
        limiter.release()
        held = False
    try:
        while True:
            if breaker.is_open and not probe:
                probe = await _admit(pool, state, breaker_wait, method, url)
            if budget.rate is not None and budget.fixed:  # never with `held` (see above)
                await honour_pause(state)
                await budget.take(priority, slots)
            else:
                # A free slot is taken without a checkpoint (an extra turn of the event
                # loop per request); the request itself checkpoints soon after.
                if held:
                    held = False
                elif slot and not limiter.try_acquire():
                    await limiter.acquire()
                try:
                    await honour_pause(state)
                    if budget.rate is not None:
                        await budget.take(priority)
                except BaseException:
                    if slot:
                        limiter.release()
                    raise
            if probe or not breaker.is_open:
                return probe
            if slot:
                limiter.release()
    except BaseException:
        breaker.abandoned(probe)
        raise


async def _admit(pool: Pool, state: LoopState, max_wait: float | None, method: str, url: str) -> bool:
    """Wait for the open circuit breaker; whether this request goes as its probe."""
    try:
        return await state.breaker.admit(max_wait)
    except BreakerOpenError:
        error = APIConnectionError(
            f"{method} {httpx.URL(url).path} was not sent: the API has not answered this client's "
            f"last requests (circuit breaker open for over {max_wait:g} s)",
            request=httpx.Request(method, url),
        )
        error.before_first_contact = not pool.contacted
        raise error from state.breaker.last_error


def answered(pool: Pool, breaker: CircuitBreaker, probe: bool, response: httpx.Response) -> None:
    """An HTTP answer came: the API (or a gateway in front of it) is reachable."""
    pool.contacted = True
    if response.status_code in (502, 503, 504):
        breaker.failed(
            probe,
            httpx.HTTPStatusError(str(response.status_code), request=response.request, response=response),
        )
    else:
        breaker.succeeded(probe)


def unanswered(breaker: CircuitBreaker, probe: bool, exc: Exception) -> None:
    """Tell the breaker a request got no answer, unless it waited out a read, write or pool
    timeout: such a request paced itself, and a server that answers others is up (counting
    them, a few slow answers in a row would shut out a working API). A probe's failure
    always counts: the breaker opened, and a probe left hanging does not say it is up."""
    if probe or not isinstance(true_transport_error(exc), _SLOW_FAILURES):
        breaker.failed(probe, exc)
