"""A local stand-in for the CAMB.AI API: a real HTTP server on 127.0.0.1.

Tasks follow a timeline, a list of ``(status, seconds after creation)``
pairs: ``[("PENDING", 0), ("SUCCESS", 2.5)]`` answers PENDING for 2.5 s,
then SUCCESS with a ``run_id`` whose audio ``/tts-result/{run_id}`` serves.
Tasks come from ``POST /tts`` (a random timeline drawn from the simulator's
settings) or from :meth:`Simulator.add_task` / ``POST /_sim/tasks`` (a
scripted one, many at once). The server keeps a record of every task and every
raw request path, so tests can check what the SDK really sent; ``GET
/_sim/tasks`` returns every task's record (when it finished, how often it was
polled) for a process that runs the simulator in another process.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import math
import random
import threading
import time
import uuid
import wave
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from typing_extensions import Self

from .._models import TERMINAL_STATES, TaskState
from .._paths import FAMILIES
from . import _faults
from ._faults import FaultPlan, RequestRecord

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Simulator", "TaskRecord", "Timeline"]

Timeline = Sequence[tuple[str, float]]
"""``(status, seconds after creation)`` pairs, first at 0, in time order."""

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_DEFAULT_REASONS: dict[str, str] = {
    TaskState.ERROR: "PROCESSING_ERROR",
    TaskState.PAYMENT_REQUIRED: "PAYMENT_REQUIRED",
}


@dataclasses.dataclass
class TaskRecord:
    """What the simulator knows of one task: its script and how it was polled.

    Times are ``time.monotonic()`` values of the simulator's machine.
    """

    task_id: str
    family: str
    timeline: list[tuple[str, float]]
    created_at: float
    run_id: int | None
    exception_reason: str | None = None
    polls: int = 0

    @property
    def final_status(self) -> str:
        """The status the task ends in."""
        return self.timeline[-1][0]

    @property
    def finished_at(self) -> float | None:
        """When the task reached its terminal status, or ``None`` if it never does."""
        status, at = self.timeline[-1]
        return self.created_at + at if status in TERMINAL_STATES else None

    def status_at(self, now: float) -> str:
        """The status the task has at ``now``."""
        elapsed = now - self.created_at
        current = self.timeline[0][0]
        for status, at in self.timeline:
            if at > elapsed:
                break
            current = status
        return current

    def body_at(self, now: float) -> dict[str, object]:
        """The status endpoint's JSON answer at ``now``."""
        status = self.status_at(now)
        body: dict[str, object] = {"status": status, "run_id": None}
        if status == TaskState.SUCCESS:
            body["run_id"] = self.run_id
        elif status in _DEFAULT_REASONS:
            body["exception_reason"] = self.exception_reason or _DEFAULT_REASONS[status]
            body["message"] = f"simulated {status.lower()}"
        return body

    def as_json(self) -> dict[str, object]:
        """This record as the ``GET /_sim/tasks/{id}`` endpoint sends it."""
        return {
            "task_id": self.task_id,
            "family": self.family,
            "timeline": [list(step) for step in self.timeline],
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "final_status": self.final_status,
            "run_id": self.run_id,
            "polls": self.polls,
        }


class _Store:
    """The simulator's tasks and counters, shared by the server thread and callers."""

    def __init__(
        self, durations: tuple[float, float], outcomes: Mapping[str, float], seed: int | None
    ) -> None:
        self.lock = threading.Lock()
        self.tasks: dict[tuple[str, str], TaskRecord] = {}
        self.runs: set[int] = set()
        self.paths: list[str] = []
        self.requests = 0
        self.durations = durations
        self.outcomes = dict(outcomes)
        self.random = random.Random(seed)
        self.run_ids = itertools.count(1)

    def add(
        self,
        timeline: Timeline,
        *,
        family: str,
        task_id: str | None,
        run_id: int | None,
        exception_reason: str | None,
    ) -> TaskRecord:
        steps = [(str(status), float(at)) for status, at in timeline]
        if not steps or steps[0][1] != 0 or any(b[1] < a[1] for a, b in itertools.pairwise(steps)):
            raise ValueError("a timeline starts at 0 and runs forward in time")
        if family not in FAMILIES:
            raise ValueError(f"unknown family {family!r}")
        with self.lock:
            if steps[-1][0] == TaskState.SUCCESS and run_id is None:
                run_id = next(self.run_ids)
            if run_id is not None:
                self.runs.add(run_id)
            record = TaskRecord(
                task_id=task_id or uuid.uuid4().hex,
                family=family,
                timeline=steps,
                created_at=time.monotonic(),
                run_id=run_id,
                exception_reason=exception_reason,
            )
            self.tasks[(family, record.task_id)] = record
        return record

    def random_timeline(self) -> list[tuple[str, float]]:
        with self.lock:
            low, high = self.durations
            duration = self.random.uniform(low, high)
            names = list(self.outcomes)
            outcome = self.random.choices(names, weights=[self.outcomes[n] for n in names])[0]
        return [(TaskState.PENDING.value, 0.0), (outcome, duration)]


class _App:
    """The ASGI application: the CAMB endpoints the SDK uses, plus ``/_sim`` controls."""

    def __init__(self, store: _Store, api_key: str | None, audio: bytes, faults: _faults.Injector) -> None:
        self.store = store
        self.api_key = api_key
        self.audio = audio
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        arrived = time.monotonic()
        raw_path = bytes(scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        method = str(scope["method"])
        with self.store.lock:
            self.store.requests += 1
            self.store.paths.append(raw_path)
        body = await _read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        fault, plan = self.faults.draw(method, api=raw_path.startswith("/apis/"))
        extra: list[tuple[bytes, bytes]] = []
        replaced = None if fault is None else _faults.error_answer(fault, plan)
        if replaced is not None:
            status, payload, content_type, extra = replaced
        else:
            status, payload, content_type = self.route(method, raw_path, headers, body)
            if fault is not None and not _faults.applies(fault, payload):
                fault = None  # e.g. no-status on a 404: nothing to reshape
        self.faults.note(arrived, method, raw_path, fault)
        if fault is not None and replaced is None:
            status, payload, content_type = _faults.reshape(fault, status, payload, content_type)
            if fault == "stall":
                await _faults.stall(receive, plan.stall)
            elif fault == "drop":
                await _faults.drop(send, status, payload, content_type)
                return  # unfinished on purpose: the server closes the connection
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(data)).encode()),
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})

    def route(
        self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, object, str]:
        segments = [unquote(s) for s in raw_path.split("?", 1)[0].split("/")[1:]]
        json_type = "application/json"
        if segments[:1] == ["_sim"]:
            return self.control(method, segments[1:], body)
        if segments[:1] != ["apis"] or len(segments) < 2:
            return 404, {"detail": "Not Found"}, json_type
        if not headers.get("x-api-key") or (
            self.api_key is not None and headers["x-api-key"] != self.api_key
        ):
            return 401, {"detail": "Invalid or missing API key"}, json_type
        rest = segments[1:]
        if method == "POST" and rest == ["tts"]:
            return self.create_tts(body)
        if method == "GET" and len(rest) == 2 and rest[0] == "tts-result":
            if rest[1].isdigit() and int(rest[1]) in self.store.runs:
                return 200, self.audio, "audio/wav"
            return 404, {"detail": f"run {rest[1]} not found"}, json_type
        if method == "GET" and len(rest) == 2 and rest[0] in FAMILIES:
            with self.store.lock:
                record = self.store.tasks.get((rest[0], rest[1]))
                if record is not None:
                    record.polls += 1
            if record is None:
                return 404, {"detail": f"task {rest[1]} not found"}, json_type
            return 200, record.body_at(time.monotonic()), json_type
        return 404, {"detail": "Not Found"}, json_type

    def create_tts(self, body: bytes) -> tuple[int, object, str]:
        try:
            fields = json.loads(body)
        except ValueError:
            fields = None
        missing = [
            k for k in ("text", "voice_id", "language") if not isinstance(fields, dict) or k not in fields
        ]
        if missing:
            detail = [{"loc": ["body", k], "msg": "Field required", "type": "missing"} for k in missing]
            return 422, {"detail": detail}, "application/json"
        record = self.store.add(
            self.store.random_timeline(), family="tts", task_id=None, run_id=None, exception_reason=None
        )
        return 200, {"task_id": record.task_id}, "application/json"

    def control(self, method: str, rest: list[str], body: bytes) -> tuple[int, object, str]:
        json_type = "application/json"
        if method == "POST" and rest == ["tasks"]:
            try:
                specs = json.loads(body)["tasks"]
                records = [
                    self.store.add(
                        [(str(s), float(t)) for s, t in spec["timeline"]],
                        family=spec.get("family", "tts"),
                        task_id=spec.get("task_id"),
                        run_id=spec.get("run_id"),
                        exception_reason=spec.get("exception_reason"),
                    )
                    for spec in specs
                ]
            except (ValueError, KeyError, TypeError) as exc:
                return 400, {"detail": f"bad task spec: {exc}"}, json_type
            return 200, {"task_ids": [r.task_id for r in records]}, json_type
        if method == "GET" and rest == ["tasks"]:
            with self.store.lock:
                every = [record.as_json() for record in self.store.tasks.values()]
            return 200, {"tasks": every}, json_type
        if method == "GET" and len(rest) == 3 and rest[0] == "tasks":
            record = self.store.tasks.get((rest[1], rest[2]))
            if record is None:
                return 404, {"detail": "no such task"}, json_type
            return 200, record.as_json(), json_type
        if method == "GET" and rest == ["stats"]:
            return 200, self.stats(), json_type
        if rest == ["faults"]:
            return self.control_faults(method, body)
        return 404, {"detail": "Not Found"}, json_type

    def stats(self) -> dict[str, object]:
        with self.store.lock:
            stats: dict[str, object] = {"requests": self.store.requests, "tasks": len(self.store.tasks)}
        return stats | self.faults.stats()

    def control_faults(self, method: str, body: bytes) -> tuple[int, object, str]:
        json_type = "application/json"
        if method == "POST":
            try:
                plan = FaultPlan.from_json(json.loads(body or b"{}"))
            except (ValueError, TypeError, AttributeError) as exc:
                return 400, {"detail": f"bad fault plan: {exc}"}, json_type
            self.faults.set_plan(plan)
        elif method == "DELETE":
            self.faults.set_plan(None)
        elif method != "GET":
            return 405, {"detail": "use GET, POST or DELETE"}, json_type
        return 200, {"plan": self.faults.plan.as_json()} | self.faults.stats(), json_type


class Simulator:
    """A local CAMB.AI API server for examples and tests, on ``127.0.0.1``.

    It runs uvicorn in a background thread, so it works the same from sync
    code, asyncio and trio. Use it as a context manager (``with`` or
    ``async with``); ``url`` is the base URL to give ``AsyncCambClient``::

        with Simulator() as sim:
            task_id = sim.add_task([("PENDING", 0), ("SUCCESS", 1.5)])
            async with AsyncCambClient("any-key", base_url=sim.url) as client:
                ...

    Args:
        durations: Range, in seconds, of how long a task made by ``POST /tts`` stays PENDING.
        outcomes: Relative weights of the final status of such tasks.
        api_key: The only key accepted; by default any non-empty key is.
        seed: Seed of the random durations and outcomes.
        host: Address to listen on; keep it on loopback.
        port: Port to listen on; 0 picks a free one.
        faults: A :class:`FaultPlan` to start with; none by default.
    """

    def __init__(
        self,
        *,
        durations: tuple[float, float] = (1.0, 3.0),
        outcomes: Mapping[str, float] | None = None,
        api_key: str | None = None,
        seed: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultPlan | None = None,
    ) -> None:
        low, high = durations
        if not 0 <= low <= high or not math.isfinite(high):
            raise ValueError(f"durations must be 0 <= low <= high, got {durations!r}")
        self._store = _Store((low, high), outcomes or {TaskState.SUCCESS.value: 1.0}, seed)
        self._faults = _faults.Injector(faults)
        self._app = _App(self._store, api_key, _make_audio(), self._faults)
        self._host = host
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def app(self) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        """The ASGI application, to serve with a server of your choice."""
        return self._app

    @property
    def url(self) -> str:
        """The base URL of the running simulator, e.g. ``http://127.0.0.1:8123/apis``."""
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() or use `with`")
        return f"http://{self._host}:{self.port}/apis"

    @property
    def port(self) -> int:
        """The port the running simulator listens on."""
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        sockets = self._server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    def add_task(
        self,
        timeline: Timeline = (("PENDING", 0.0), ("SUCCESS", 1.0)),
        *,
        family: str = "tts",
        task_id: str | None = None,
        run_id: int | None = None,
        exception_reason: str | None = None,
    ) -> str:
        """Add a task that follows ``timeline`` from now on; return its id."""
        return self._store.add(
            timeline, family=family, task_id=task_id, run_id=run_id, exception_reason=exception_reason
        ).task_id

    def add_tasks(self, timelines: Iterable[Timeline], *, family: str = "tts") -> list[str]:
        """Add one task per timeline; return their ids in order."""
        return [self.add_task(t, family=family) for t in timelines]

    def record(self, task_id: str, *, family: str = "tts") -> TaskRecord:
        """The simulator's record of a task (raises ``KeyError`` for an unknown one)."""
        return self._store.tasks[(family, task_id)]

    @property
    def request_count(self) -> int:
        """How many HTTP requests the simulator has received."""
        return self._store.requests

    @property
    def request_paths(self) -> list[str]:
        """Every raw request path received, in order, exactly as sent."""
        with self._store.lock:
            return list(self._store.paths)

    @property
    def faults(self) -> FaultPlan:
        """The fault plan in force (an empty plan injects nothing)."""
        return self._faults.plan

    def set_faults(self, plan: FaultPlan | None) -> None:
        """Put ``plan`` in force from the next request on (``None``: no faults).

        The plan's random generator and script start afresh.
        """
        self._faults.set_plan(plan)

    @property
    def request_log(self) -> list[RequestRecord]:
        """Every request received, in order, with its arrival time, method, raw path and fault."""
        with self._faults.lock:
            return list(self._faults.log)

    def stats(self) -> dict[str, object]:
        """Requests and tasks so far, faults injected by kind, restarts (as ``GET /_sim/stats``)."""
        return self._app.stats()

    def restart(self, *, downtime: float = 0.0, timeout: float = 10.0) -> None:
        """Stop serving, stay down ``downtime`` seconds, and serve again on the same port.

        Tasks, their timelines, the request log and the fault plan survive: as
        a real API behind a load balancer, only the connections are lost.
        Blocking: from async code, run it with ``anyio.to_thread.run_sync``.
        """
        self.stop(timeout=timeout)
        time.sleep(downtime)
        self.start(timeout=timeout)
        with self._faults.lock:
            self._faults.restarts += 1

    def start(self, *, timeout: float = 10.0) -> None:
        """Start serving in a background thread; return once it accepts connections."""
        try:
            import uvicorn
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError("the simulator needs uvicorn: pip install 'camb-async[simulator]'") from exc
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        config = uvicorn.Config(
            self._app,
            host=self._host,
            port=self._port,
            log_level="warning",
            lifespan="off",
            loop="asyncio",
            timeout_keep_alive=75,
            backlog=4096,
            timeout_graceful_shutdown=1,
        )
        _quiet_uvicorn()
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="camb-simulator", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(timeout)
                raise RuntimeError(f"the simulator did not start on {self._host}:{self._port}")
            time.sleep(0.01)
        self._server, self._thread = server, thread

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop serving and wait for the server thread to end.

        A later :meth:`start` serves on the same port again.
        """
        if self._server is None:
            return
        self._port = self.port
        self._server.should_exit = True
        assert self._thread is not None
        self._thread.join(timeout)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        import anyio.to_thread

        await anyio.to_thread.run_sync(self.start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        import anyio.to_thread

        await anyio.to_thread.run_sync(self.stop)


def _quiet_uvicorn() -> None:
    """Keep uvicorn from logging an error for each connection that ``drop`` cuts on purpose."""
    import logging

    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _faults.QuietDrops) for f in logger.filters):
        logger.addFilter(_faults.QuietDrops())


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(bytes(message.get("body", b"")))
        if not message.get("more_body"):
            return b"".join(chunks)


def _make_audio(seconds: float = 0.5, rate: int = 16_000) -> bytes:
    """A short 440 Hz tone as a WAV file, standing in for generated speech."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        sample = int(8000 * math.sin(2 * math.pi * 440 * i / rate))
        frames += sample.to_bytes(2, "little", signed=True)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()
