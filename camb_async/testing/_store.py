"""The simulator's state: tasks and their runs, the catalog, live streams, and what was sent to it.

Shared by the server thread and the caller's thread; every change holds ``lock``.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence

from .._models import TERMINAL_STATES, TaskState
from ._catalog import Catalog
from ._families import BY_NAME
from ._streams import Streams
from ._timeline import status_at

__all__ = ["Store", "TaskRecord", "Timeline"]

Timeline = Sequence[tuple[str, float]]
"""``(status, seconds after creation)`` pairs, first at 0, in time order."""

_DEFAULT_REASONS: dict[str, str] = {
    TaskState.ERROR: "PROCESSING_ERROR",
    TaskState.PAYMENT_REQUIRED: "PAYMENT_REQUIRED",
}


@dataclasses.dataclass
class TaskRecord:
    """What the simulator knows of one task: its script, what created it, and how it was polled.

    ``family`` is the public family name (``"tts"``, ``"dubbing"``, ...).
    ``request`` holds the create's fields: a JSON body as parsed, a multipart
    form's fields as strings (a repeated field as a list) and its file parts
    as ``{"filename", "size", "sha256"}``. ``params`` holds the create path's
    parameters (``story_run_id``; ``dub_run_id`` and ``language``). Times are
    readings of the simulator's clock: ``time.monotonic()`` unless ``Simulator(clock=...)``
    says otherwise.
    """

    task_id: str
    family: str
    timeline: list[tuple[str, float]]
    created_at: float
    run_id: int | None
    exception_reason: str | None = None
    polls: int = 0
    request: dict[str, object] = dataclasses.field(default_factory=dict[str, object])
    params: dict[str, str] = dataclasses.field(default_factory=dict[str, str])
    result_size: int | None = None
    redirect_result: bool = False

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
        return status_at(self.timeline, now - self.created_at)

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
        """This record as the ``GET /_sim/tasks/{family}/{id}`` endpoint sends it."""
        return {
            "task_id": self.task_id,
            "family": self.family,
            "timeline": [list(step) for step in self.timeline],
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "final_status": self.final_status,
            "run_id": self.run_id,
            "polls": self.polls,
            "request": self.request,
            "params": self.params,
            "result_size": self.result_size,
        }


class Store:
    """The simulator's tasks, runs, catalog, live streams and counters; ``clock`` is what task
    (and stream) timelines run on."""

    def __init__(
        self,
        durations: tuple[float, float],
        outcomes: Mapping[str, float],
        seed: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.tasks: dict[tuple[str, str], TaskRecord] = {}
        self.runs: dict[int, TaskRecord] = {}
        self.catalog = Catalog()
        self.streams = Streams(clock, lambda: self.durations)
        self.paths: list[str] = []
        self.file_requests: list[tuple[str, bool]] = []
        self.bodies: list[tuple[str, dict[str, object]]] = []
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
        task_id: str | None = None,
        run_id: int | None = None,
        exception_reason: str | None = None,
        request: Mapping[str, object] | None = None,
        params: Mapping[str, str] | None = None,
        result_size: int | None = None,
        redirect_result: bool = False,
    ) -> TaskRecord:
        steps = [(str(status), float(at)) for status, at in timeline]
        if not steps or steps[0][1] != 0 or any(b[1] < a[1] for a, b in itertools.pairwise(steps)):
            raise ValueError("a timeline starts at 0 and runs forward in time")
        if family not in BY_NAME:
            raise ValueError(f"unknown family {family!r}; known: {', '.join(BY_NAME)}")
        _check_size(result_size)
        with self.lock:
            if steps[-1][0] == TaskState.SUCCESS and run_id is None:
                run_id = next(self.run_ids)
            record = TaskRecord(
                task_id=task_id or uuid.uuid4().hex,
                family=family,
                timeline=steps,
                created_at=self.clock(),
                run_id=run_id,
                exception_reason=exception_reason,
                request=dict(request or {}),
                params=dict(params or {}),
                result_size=result_size,
                redirect_result=redirect_result,
            )
            self.tasks[(family, record.task_id)] = record
            if run_id is not None:
                self.runs[run_id] = record
        return record

    def new_run_id(self) -> int:
        """A run id no task has."""
        with self.lock:
            return next(self.run_ids)

    def random_timeline(self) -> list[tuple[str, float]]:
        with self.lock:
            low, high = self.durations
            duration = self.random.uniform(low, high)
            names = list(self.outcomes)
            outcome = self.random.choices(names, weights=[self.outcomes[n] for n in names])[0]
        return [(TaskState.PENDING.value, 0.0), (outcome, duration)]

    def run(self, run_id: str, families: frozenset[str]) -> TaskRecord | None:
        """The task whose run is ``run_id``, if it is of one of ``families``."""
        record = self.runs.get(int(run_id)) if run_id.isdigit() and len(run_id) < 19 else None
        return record if record is not None and record.family in families else None


def _check_size(size: object) -> None:
    """Refuse a ``result_size`` that is not ``None`` or an int >= 0."""
    if size is None:
        return
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"result_size must be an int, not {type(size).__name__}")
    if size < 0:
        raise ValueError(f"result_size must be >= 0, got {size}")
