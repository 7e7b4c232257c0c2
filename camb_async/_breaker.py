"""A client-wide circuit breaker: when the API is down, one request probes it while the rest wait.

Without it, 10,000 watches riding out an outage would each retry on their own
schedule, thousands of connection attempts a second at a server that is not
there. The breaker counts consecutive failures of any request of the client
(no answer at all, or a 502/503/504 from a gateway; a request that waited out
its read timeout is not counted: it paced itself, and a server that answers
others is up); at ``threshold`` it
opens: from then on a single request at a time goes out as a probe, the first
``first_pause`` after opening, then one every ``max_pause`` (less up to a quarter,
jittered): about one connection attempt a second, nothing to a downed API, and a
client that sees it back within about a second. Every other request waits. The
first answer closes it and releases everyone. It logs a WARNING when it opens and
an INFO line when it closes.

A request that may wait only so long gives up at the first probe that fails after
its time is up, never while a probe may still find the API back: a wait cut short
just before the answer that closes the breaker would charge a watch for an outage
that was already over.
"""

from __future__ import annotations

import logging
import math
import random

import anyio

from ._clock import is_testing, now

__all__ = ["BREAKER_THRESHOLD", "FIRST_PROBE", "PROBE_INTERVAL", "BreakerOpenError", "CircuitBreaker"]

log = logging.getLogger("camb_async")

BREAKER_THRESHOLD = 5
"""Consecutive failures that open the breaker, by default."""
FIRST_PROBE = 0.5
"""Seconds from opening to the first probe (at most the probe interval)."""
PROBE_INTERVAL = 1.0
"""Seconds between probes while the API stays down, by default (less up to a quarter)."""


class BreakerOpenError(Exception):
    """A request waited its longest on an open breaker; it was not sent."""


class CircuitBreaker:
    """Admission of a client's requests while the API may be down (see the module docstring).

    Args:
        threshold: Consecutive failures that open the breaker.
        first_pause: Seconds between opening and the first probe.
        max_pause: Longest pause between two probes (the pause doubles from
            ``first_pause`` up to it).
    """

    __slots__ = (
        "_changed",
        "_failures",
        "_next_probe",
        "_pause",
        "_probe_failures",
        "_probing",
        "first_pause",
        "is_open",
        "last_error",
        "max_pause",
        "threshold",
    )

    def __init__(
        self,
        *,
        threshold: int = BREAKER_THRESHOLD,
        first_pause: float = FIRST_PROBE,
        max_pause: float = PROBE_INTERVAL,
    ) -> None:
        self.threshold: int = threshold
        self.first_pause: float = first_pause
        self.max_pause: float = max_pause
        self.is_open: bool = False
        self.last_error: BaseException | None = None
        self._failures = 0
        self._probing = False
        self._probe_failures = 0
        self._pause = first_pause
        self._next_probe = 0.0
        self._changed = anyio.Event()

    async def admit(self, max_wait: float | None) -> bool:
        """Wait until a request may be sent; whether it goes as the probe.

        Raises:
            BreakerOpenError: The breaker stayed open ``max_wait`` seconds and a probe
                failed after that (``None``: no limit; 0: do not wait at all).
        """
        deadline = math.inf if max_wait is None else now() + max_wait
        failures_then: int | None = None  # failed probes when the deadline passed
        while True:
            if not self.is_open:
                return False
            moment = now()
            if not self._probing and moment >= self._next_probe:
                self._probing = True
                return True
            if moment < deadline:
                wake = deadline if self._probing else min(deadline, self._next_probe)
            elif max_wait == 0 or (failures_then is not None and self._probe_failures > failures_then):
                raise BreakerOpenError
            else:
                # Out of time, but the next probe may find the API back: wait for its outcome.
                if failures_then is None:
                    failures_then = self._probe_failures
                wake = math.inf if self._probing else self._next_probe
            changed = self._changed
            with anyio.move_on_after(wake - moment):
                await changed.wait()

    def succeeded(self, probe: bool) -> None:
        """An answer came back: the API is up, if the answer is to the probe. While the
        breaker is open only probes are sent, so any other answer is to a request sent
        before it opened (a busy event loop may read it late): old news, which leaves the
        breaker open for the probe to decide."""
        if self.is_open and not probe:
            return
        self._failures = 0
        if probe:
            self._probing = False
        if self.is_open:
            self.is_open = False
            self._pause = self.first_pause
            log.info("camb_async: the API answers again; releasing the requests that waited")
            self._wake()

    def failed(self, probe: bool, error: BaseException) -> None:
        """A request got no answer (or a gateway's 502/503/504)."""
        self.last_error = error
        if probe:
            self._probing = False
            self._probe_failures += 1
            self._pause = min(self._pause * 2.0, self.max_pause)
            self._schedule_probe()
            self._wake()
            return
        self._failures += 1
        if not self.is_open and self._failures >= self.threshold:
            self.is_open = True
            self._schedule_probe()
            log.warning(
                "camb_async: %d requests in a row got no answer (%s); the API looks down: "
                "one request at a time probes it while the others wait",
                self._failures,
                type(error).__name__,
            )

    def abandoned(self, probe: bool) -> None:
        """A request ended without an outcome (cancelled): let another probe."""
        if probe:
            self._probing = False
            self._wake()

    def _schedule_probe(self) -> None:
        pause = 0.0 if is_testing() else self._pause * (1.0 - 0.25 * random.random())
        self._next_probe = now() + pause

    def _wake(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()
