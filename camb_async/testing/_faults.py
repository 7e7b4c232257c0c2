"""Fault injection for the simulator: answers a flaky API or network would give.

A :class:`FaultPlan` says which faults to inject: a ``script`` of faults for
the next requests, in order, then faults drawn at ``rates`` from a seeded
random generator, so that a run is reproducible. The simulator consults its
plan once per API request (``/apis/...``; the ``/_sim`` controls are never
faulted) and keeps a log of every request with the fault it got.
"""

from __future__ import annotations

import collections
import dataclasses
import email.utils
import json
import logging
import math
import random
import threading
import time
from typing import TYPE_CHECKING, Any, cast

import anyio

from ._http import Answer, Receive, Send, Streamed, encode, head, prefix, until_disconnect

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["FAULT_KINDS", "FaultPlan", "RequestRecord"]

FAULT_KINDS: tuple[str, ...] = (
    "429",
    "429-date",
    "429-ms",
    "500",
    "502",
    "503",
    "504",
    "drop",
    "stall",
    "html",
    "truncated",
    "no-status",
    "unknown-status",
)
"""Every fault a plan can name.

* ``429``: 429 with ``Retry-After`` in seconds; ``429-date``: with
  ``Retry-After`` as an HTTP-date; ``429-ms``: with ``retry-after-ms``.
* ``500``, ``502``, ``503``, ``504``: that status, a JSON body, no retry hint.
* ``drop``: the headers and half the body (a chunked stream: its first
  chunk), then the connection is closed.
* ``stall``: no answer for ``FaultPlan.stall`` seconds (or until the client
  hangs up), then the real answer.
* ``html``: 200 with a proxy's HTML page; ``truncated``: 200 with the real JSON
  cut in half; ``no-status``: 200 with the real JSON minus ``status``;
  ``unknown-status``: 200 with ``"status": "PROCESSING"`` (a status the SDK
  does not know, which it must treat as still running).
"""

# Faults that need the real answer: the endpoint runs, then the fault reshapes what it said.
_SHAPING = frozenset({"drop", "stall", "html", "truncated", "no-status", "unknown-status"})
# Faults that only make sense for a status answer (a JSON object with a "status" field).
_STATUS_ONLY = frozenset({"no-status", "unknown-status"})


@dataclasses.dataclass(frozen=True)
class FaultPlan:
    """Which faults the simulator injects into API requests.

    Args:
        rates: Per-request probability of each fault kind (see
            :data:`FAULT_KINDS`); they must add up to at most 1.
        script: Faults for the next requests, one each, in order, before
            ``rates`` apply.
        seed: Seed of the random draws (``None``: a different run each time).
        retry_after: The wait the 429 faults ask for, in seconds.
        stall: How long a stalled answer hangs, in seconds; make it longer
            than the client's read timeout.
        methods: The HTTP methods faults apply to; by default only GETs
            (status polls and downloads), so a test can still create tasks.
    """

    rates: Mapping[str, float] = dataclasses.field(default_factory=dict[str, float])
    script: Sequence[str] = ()
    seed: int | None = 0
    retry_after: float = 0.05
    stall: float = 2.0
    methods: Sequence[str] = ("GET",)

    def __post_init__(self) -> None:
        # Stored as tuples and a dict of its own, so that plans compare by value.
        object.__setattr__(self, "script", tuple(self.script))
        object.__setattr__(self, "methods", tuple(m.upper() for m in self.methods))
        object.__setattr__(self, "rates", dict(self.rates))
        unknown = sorted(set(self.rates) - set(FAULT_KINDS)) + sorted(set(self.script) - set(FAULT_KINDS))
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; known: {', '.join(FAULT_KINDS)}")
        if any(not 0.0 <= rate <= 1.0 for rate in self.rates.values()) or sum(self.rates.values()) > 1.0:
            raise ValueError("fault rates must each be in [0, 1] and add up to at most 1")
        for name in ("retry_after", "stall"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")

    @classmethod
    def uniform(cls, kinds: Sequence[str], rate: float, **options: Any) -> FaultPlan:
        """A plan where ``rate`` of requests get a fault, drawn evenly from ``kinds``."""
        return cls(rates={kind: rate / len(kinds) for kind in kinds}, **options)

    def as_json(self) -> dict[str, object]:
        """This plan as ``POST /_sim/faults`` takes it and ``GET /_sim/faults`` sends it."""
        return {
            "rates": dict(self.rates),
            "script": list(self.script),
            "seed": self.seed,
            "retry_after": self.retry_after,
            "stall": self.stall,
            "methods": list(self.methods),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultPlan:
        """Build a plan from its JSON form; unknown keys raise ``ValueError``."""
        fields = {f.name for f in dataclasses.fields(cls)}
        extra = set(data) - fields
        if extra:
            raise ValueError(f"unknown fault plan keys: {sorted(extra)}")
        options: dict[str, Any] = dict(data)
        if "rates" in options:
            options["rates"] = {str(k): float(v) for k, v in dict(options["rates"]).items()}
        for key in ("script", "methods"):
            if key in options:
                options[key] = tuple(str(item) for item in options[key])
        return cls(**options)


@dataclasses.dataclass(frozen=True)
class RequestRecord:
    """One request the simulator received: when (by the simulator's clock), what, and the fault it got."""

    at: float
    method: str
    path: str
    fault: str | None


class Injector:
    """The simulator's fault state: the plan in force, its random generator,
    the request log and the fault counters. Thread-safe."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self.lock = threading.Lock()
        self.log: list[RequestRecord] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self.restarts = 0
        self.plan = FaultPlan()
        self.random = random.Random(0)
        self.script: collections.deque[str] = collections.deque()
        self.set_plan(plan)

    def set_plan(self, plan: FaultPlan | None) -> None:
        with self.lock:
            self.plan = plan or FaultPlan()
            self.random = random.Random(self.plan.seed)
            self.script = collections.deque(self.plan.script)

    def draw(self, method: str, *, api: bool) -> tuple[str | None, FaultPlan]:
        """Draw the fault for one request (``None``: answer normally)."""
        with self.lock:
            plan = self.plan
            if not api or method not in plan.methods:
                return None, plan
            if self.script:
                return self.script.popleft(), plan
            draw = self.random.random()
            for name, rate in plan.rates.items():
                if draw < rate:
                    return name, plan
                draw -= rate
            return None, plan

    def note(self, at: float, method: str, path: str, fault: str | None) -> None:
        """Log one request and the fault it really got."""
        with self.lock:
            self.log.append(RequestRecord(at, method, path, fault))
            if fault is not None:
                self.counts[fault] += 1

    def stats(self) -> dict[str, object]:
        with self.lock:
            counts = {kind: n for kind, n in sorted(self.counts.items()) if n}
            return {
                "faults": counts,
                "faults_injected": sum(counts.values()),
                "restarts": self.restarts,
            }


def error_answer(kind: str, plan: FaultPlan) -> tuple[int, object, str, list[tuple[bytes, bytes]]] | None:
    """The answer of a fault that replaces the endpoint's (429s, 5xx), or ``None``."""
    if kind.startswith("429"):
        wait = plan.retry_after
        if kind == "429":
            header = (b"retry-after", f"{wait:g}".encode())
        elif kind == "429-date":
            header = (b"retry-after", email.utils.formatdate(time.time() + wait, usegmt=True).encode())
        else:
            header = (b"retry-after-ms", str(round(wait * 1000)).encode())
        return 429, {"detail": "simulated rate limit"}, "application/json", [header]
    if kind in ("500", "502", "503", "504"):
        return int(kind), {"detail": f"simulated {kind}"}, "application/json", []
    return None


def applies(kind: str, payload: object) -> bool:
    """Whether a shaping fault can reshape this answer (a JSON value, bytes or a stream)."""
    if kind in _STATUS_ONLY:
        return isinstance(payload, dict) and "status" in payload
    return kind in _SHAPING


def reshape(kind: str, status: int, payload: object, content_type: str) -> tuple[int, bytes | Streamed, str]:
    """The answer a shaping fault sends instead of ``payload`` (``drop`` and ``stall`` keep it)."""
    data = encode(payload)
    if kind == "html":
        page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
        return 200, page, "text/html"
    if kind == "truncated":
        if isinstance(data, Streamed):
            return 200, _first_half(data), "application/json"
        return 200, data[: max(1, len(data) // 2)], "application/json"
    if kind in _STATUS_ONLY and isinstance(payload, dict):
        body: dict[str, object] = dict(cast("dict[str, object]", payload))
        if kind == "no-status":
            del body["status"]
        else:
            body["status"] = "PROCESSING"
            body["run_id"] = None
        return 200, json.dumps(body).encode(), "application/json"
    return status, data, content_type


def _first_half(body: Streamed) -> Streamed:
    """The first half of a streamed body, announced as all of it (a chunked one: its first chunk)."""
    if body.length is None:
        return Streamed(lambda: iter([next(body.chunks(), b"")]))
    half = max(1, body.length // 2)
    return Streamed(lambda: prefix(body.chunks(), half), half)


async def stall(receive: Receive, seconds: float) -> None:
    """Hang for ``seconds``, or until the client hangs up."""
    with anyio.move_on_after(seconds):
        await until_disconnect(receive)


async def drop(send: Send, answer: Answer) -> None:
    """Send the headers (announcing the full length) and half the body (a chunked stream: its
    first chunk); the caller then returns without finishing, and the server closes the connection."""
    data = encode(answer.payload)
    if isinstance(data, bytes):
        await send(head(answer.status, answer.content_type, len(data)))
        await send({"type": "http.response.body", "body": data[: len(data) // 2], "more_body": True})
        return
    await send(head(answer.status, answer.content_type, data.length))
    chunks = data.chunks()
    sent = prefix(chunks, data.length // 2) if data.length is not None else iter([next(chunks, b"")])
    for chunk in sent:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})


class QuietDrops(logging.Filter):
    """Drops uvicorn's error line for a response left unfinished on purpose by ``drop``."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing response."
