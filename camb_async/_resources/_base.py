"""The task mechanism every family shares: create, status, watch, wait, results.

A family is a small declaration: a subclass of :class:`TaskResource` with its
:class:`Endpoints` and a ``create`` whose body is a pydantic model; a family
whose result is a file mixes in ``FileResults`` (``_files.py``). The poll
loop, the request path and the download code live elsewhere, once.
"""

from __future__ import annotations

import dataclasses
import functools
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, TypeVar, cast

import pydantic

from .._events import UNNAMED_WATCH, new_watch, observed, reported
from .._exceptions import CambError, NotFoundError, make_task_error
from .._models import TaskCreated, TaskState, TaskStatus, read_status
from .._paths import run_id_segment, task_id_segment, validate_task_id
from .._polling import Follow, Tracked, following, next_change, watch_status
from .._types import NOT_GIVEN, NotGiven
from ._batch import even_chunks, gather
from ._fields import check_timeout

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping

    import httpx

    from .._events import WatchRef
    from .._learning import DurationModel, Survival
    from .._polling import Curve, PollSchedule
    from .._requester import Requester
    from .._types import Priority

__all__ = ["Endpoints", "FamilyContext", "ManyPlan", "TaskResource", "multipart", "parse_status", "run_id_of"]

R = TypeVar("R")
K = TypeVar("K")

ManyPlan: TypeAlias = """tuple[
    Callable[[str, WatchRef, Priority], Awaitable[TaskStatus]],
    PollSchedule,
    Curve | None,
    Callable[[float, float], None],
    Callable[[], Survival | None],
]"""
"""What the tasks of one family share in a many-task call (``TaskResource.many_plan``)."""


@dataclasses.dataclass(frozen=True)
class Endpoints:
    """Where a task family lives in the API.

    Attributes:
        family: The public name (``"dubbing"``): the client attribute, ``family=``.
        segment: ``POST /{segment}`` creates a task, ``GET /{segment}/{task_id}`` polls it.
        result: ``GET /{result}/{run_id}`` fetches a run's result (``None``: no endpoint).
        batch: ``POST /{batch}`` with ``{"run_ids": [...]}`` fetches many (``None``: none).
        batch_size: The most run ids one batch request carries: what the family's
            documentation allows, 5 where it says nothing.
        batch_least: The fewest it may carry; fewer (a lone id) go to ``GET /{result}``.
    """

    family: str
    segment: str
    result: str | None = None
    batch: str | None = None
    batch_size: int = 5
    batch_least: int = 1

    def __post_init__(self) -> None:
        # Even chunks of at most batch_size never fall under batch_least (see _batch.py).
        if self.batch_least < 1 or self.batch_size < 2 * self.batch_least - 1:
            raise ValueError(f"{self.family}: no even chunks of {self.batch_least}..{self.batch_size}")


@dataclasses.dataclass(frozen=True)
class FamilyContext:
    """What every family of one client shares: the request path and the poll options.

    ``durations`` learns, per family, when past watches' tasks finished: always, to rank
    polls waiting for the request budget; with ``learn_schedules`` also to reshape the
    schedules of new watches (``learn_durations=True``)."""

    requester: Requester
    schedule: PollSchedule
    watch_timeout: float | None
    durations: DurationModel
    learn_schedules: bool = False
    max_outage: float | None = None


def parse_status(response: httpx.Response) -> TaskStatus:
    """A status endpoint's answer, in any documented shape (see :func:`read_status`)."""
    return read_status(response.content)


def _parse_task_id(response: httpx.Response) -> str:
    return validate_task_id(TaskCreated.model_validate_json(response.content).task_id)


class TaskResource:
    """The calls every task family has: ``status``, ``watch`` and ``wait``.

    Subclasses declare ``endpoints`` and add ``create`` (and ``result``,
    ``results`` where the API has them) on the helpers below.
    """

    endpoints: ClassVar[Endpoints]

    def __init__(self, context: FamilyContext) -> None:
        self._context = context
        self._requester = context.requester
        family = self.endpoints.family
        # What learns from each watch's end and ranks its polls, what names an outage, and
        # how a poll is sent and read: one for every watch (a bound method made per watch
        # costs 64 bytes, and thousands of watches may run at once).
        self._on_finish = functools.partial(context.durations.record, family)
        self._survival = functools.partial(context.durations.survival, family)
        self._outage = context.requester.outage
        self._poll_at = self._poll_path
        self._parse = self._parse_status

    def __repr__(self) -> str:
        return f"<{type(self).__name__} family={self.endpoints.family!r}>"

    @property
    def family(self) -> str:
        """This family's public name, as ``family=`` takes it."""
        return self.endpoints.family

    # -- following a task ---------------------------------------------------------

    def _status_path(self, task_id: str) -> str:
        return f"/{self.endpoints.segment}/{task_id_segment(task_id)}"

    _parse_status = staticmethod(parse_status)

    async def status(self, task_id: str) -> TaskStatus:
        """Fetch a task's current status once.

        Raises:
            ValueError: ``task_id`` is not one URL path segment.
            APIError: The request failed after every retry (see the error tree).
        """
        return await self._requester.request("GET", self._status_path(task_id), self._parse_status)

    def watch(
        self,
        task_id: str,
        *,
        interval: float | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> AsyncGenerator[TaskStatus, None]:
        """Follow a task: yield its first status, then each change, ending
        right after the terminal one (SUCCESS, ERROR, TIMEOUT, PAYMENT_REQUIRED).

        Args:
            task_id: The id that creating the task returned.
            interval: Poll every this many seconds at first, in place of the
                ``initial`` and ``fast`` waits of the client's ``poll_schedule``;
                later waits are at least this (see ``PollSchedule.with_interval``).
            timeout: Overall deadline in seconds; defaults to the client's
                ``watch_timeout`` (600 s); ``None`` waits as long as it takes.

        Raises:
            WatchTimeoutError: The deadline passed first (a ``TimeoutError``).
            APIError: A poll failed after every retry.
            ValueError: Bad ``task_id``, ``interval`` or ``timeout`` (raised
                here, before any request).

        Breaking out of the loop, cancelling, or ``aclose()`` on the generator
        stops polling at once and leaves the client usable.
        """
        limit = self._limit(timeout)
        emit = self._requester.emit
        shown = observed(emit)
        ref = new_watch(task_id, self.endpoints.family) if shown else UNNAMED_WATCH
        fetch, schedule, first, on_finish, survival = self._poll_plan(task_id, interval, ref)
        statuses = watch_status(
            fetch,
            task_id=task_id,
            schedule=schedule,
            timeout=limit,
            first=first,
            on_finish=on_finish,
            max_outage=self._context.max_outage,
            outage=self._outage,
            survival=survival,
        )
        return reported(statuses, emit, ref) if shown else statuses

    def _limit(self, timeout: float | NotGiven | None) -> float | None:
        """A watch's overall deadline in seconds: ``timeout``, checked, or the client's."""
        if isinstance(timeout, NotGiven):
            return self._context.watch_timeout
        return check_timeout(timeout, "timeout")

    def _poll_plan(
        self, task_id: str, interval: float | None, watch: WatchRef
    ) -> tuple[
        Callable[[Priority, float], Awaitable[TaskStatus]],
        PollSchedule,
        Curve | None,
        Callable[[float, float], None],
        Callable[[], Survival | None],
    ]:
        """How to follow ``task_id`` as ``watch``: its poll (whose events name the watch), its
        schedule, a learned first curve, what learns from its end and what ranks its polls.
        Checks ``task_id`` and ``interval`` (before any request)."""
        context = self._context
        path = self._status_path(task_id)  # checks task_id before any request
        schedule = context.schedule if interval is None else context.schedule.with_interval(interval)
        learn = context.learn_schedules and interval is None
        learned = context.durations.schedule(self.endpoints.family, schedule) if learn else None
        fetch = functools.partial(self._poll_at, path, watch)
        return fetch, schedule, learned, self._on_finish, self._survival

    def _tracked(self, task_id: str, key: K, plan: ManyPlan) -> Tracked[K]:
        """``task_id`` followed by a many-task watch, handed back as ``key``, on ``plan``
        (this family's :meth:`many_plan`, one for every task of the call)."""
        task_id_segment(task_id)  # checked before any request
        poll, schedule, first, on_finish, survival = plan
        follow: Follow[TaskStatus] = Follow(
            task_id,
            schedule,
            started=0.0,
            timeout=None,
            first=first,
            on_finish=on_finish,
            max_outage=self._context.max_outage,
            survival=survival,
        )
        return Tracked(key, poll, follow, self.endpoints.family)

    def many_plan(self) -> ManyPlan:
        """What every task of this family in one many-task call shares: its poll, schedule,
        learned first curve, what learns from its end and what ranks its polls. Made once
        per call, so that a task costs only its own state."""
        context = self._context
        family = self.endpoints.family
        durations = context.durations
        learned = durations.schedule(family, context.schedule) if context.learn_schedules else None
        return self._poll, context.schedule, learned, self._on_finish, self._survival

    def _poll(self, task_id: str, watch: WatchRef, priority: Priority) -> Awaitable[TaskStatus]:
        """One poll of ``task_id`` for ``watch`` (a many-task call's, which keeps no path
        per task), ranked by ``priority`` in the request budget's line."""
        return self._poll_path(self._status_path(task_id), watch, priority)

    def _poll_path(
        self, path: str, watch: WatchRef, priority: Priority, deadline_in: float | None = None
    ) -> Awaitable[TaskStatus]:
        """One poll of the status at ``path`` for ``watch``, ranked by ``priority``, ending by
        ``deadline_in`` seconds from now: the request's own coroutine (no frame of its own,
        as thousands of polls may wait for a slot at once)."""
        return self._requester.request(
            "GET",
            path,
            self._parse,
            breaker_wait=self._context.max_outage,
            watch=watch,
            priority=priority,
            deadline_in=deadline_in,
        )

    async def wait(
        self,
        task_id: str,
        *,
        interval: float | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> TaskStatus:
        """Wait for a task to finish; return its SUCCESS status (with ``run_id``).

        Takes the same arguments as :meth:`watch`.

        Raises:
            TaskFailedError: The task ended with ERROR.
            TaskTimedOutError: The task ended with TIMEOUT.
            TaskPaymentRequiredError: The task ended with PAYMENT_REQUIRED.
            WatchTimeoutError: ``timeout`` passed first.
            APIError: A poll failed after every retry.
        """
        final, _ = await self._to_end(task_id, interval, timeout)
        return self._succeeded(task_id, final)

    def _to_end(
        self, task_id: str, interval: float | None, timeout: float | NotGiven | None
    ) -> Awaitable[tuple[TaskStatus, float]]:
        """What :meth:`wait` awaits: the terminal status of a watch of ``task_id`` (and a
        wait nobody uses). Made here, checking the arguments, so that the caller's coroutine
        awaits the poll loop itself: with nothing observing the watch, no generator or other
        coroutine stands between them (thousands of gathered wait() calls may run at once,
        and each frame costs memory); else :meth:`watch`, which reports the watch's events."""
        if observed(self._requester.emit):
            return self._watched(task_id, interval, timeout)
        fetch, follow = self._follow(task_id, interval, timeout)
        return next_change(follow, fetch, self._outage, None, to_end=True)

    def _succeeded(self, task_id: str, final: TaskStatus) -> TaskStatus:
        """``final``, a terminal status of ``task_id``, if it is SUCCESS; else its task error."""
        if final.status != TaskState.SUCCESS:
            raise make_task_error(task_id, final, secret=self._requester.api_key)
        return final

    async def _watched(
        self, task_id: str, interval: float | None, timeout: float | NotGiven | None
    ) -> tuple[TaskStatus, float]:
        """The terminal status :meth:`watch` ends with (reporting the watch's events)."""
        final: TaskStatus | None = None
        async with aclosing(self.watch(task_id, interval=interval, timeout=timeout)) as statuses:
            async for status in statuses:
                final = status
        # watch() only ends after yielding a terminal status, so `final` is set.
        assert final is not None
        assert final.is_terminal
        return final, 0.0

    def _follow(
        self, task_id: str, interval: float | None, timeout: float | NotGiven | None
    ) -> tuple[Callable[[Priority, float], Awaitable[TaskStatus]], Follow[TaskStatus]]:
        """A watch of ``task_id`` that reports nothing, for :meth:`wait`: its poll and its
        :class:`Follow`, started now. Checks the arguments (before any request)."""
        limit = self._limit(timeout)
        fetch, schedule, first, on_finish, survival = self._poll_plan(task_id, interval, UNNAMED_WATCH)
        follow: Follow[TaskStatus] = following(
            task_id,
            schedule,
            timeout=limit,
            first=first,
            on_finish=on_finish,
            max_outage=self._context.max_outage,
            survival=survival,
        )
        return fetch, follow

    # -- helpers of the families' own calls -----------------------------------------

    async def _create(
        self,
        body: pydantic.BaseModel,
        *,
        path: str | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> str:
        """Send a create (JSON ``body``, or a multipart form of it with ``files``)
        to ``POST /{segment}`` (or ``path``) and return the task id. Never sent twice."""
        path = path or f"/{self.endpoints.segment}"
        if files is None:
            fields = body.model_dump(mode="json", exclude_none=True, by_alias=True)
            return await self._requester.request("POST", path, self._parse_created, json=fields)
        return await self._requester.request("POST", path, self._parse_created, files=multipart(body, files))

    def _parse_created(self, response: httpx.Response) -> str:
        """A create's answer: the new task's id."""
        return _parse_task_id(response)

    async def _result(
        self,
        run_id: int,
        adapter: pydantic.TypeAdapter[R],
        *,
        params: Mapping[str, str | int | bool] | None = None,
        path: str | None = None,
    ) -> R:
        """``GET /{result}/{run_id}`` (or ``path``), parsed by ``adapter``."""
        if path is None:
            assert self.endpoints.result is not None
            path = f"/{self.endpoints.result}/{run_id_segment(run_id)}"
        else:
            run_id_segment(run_id)

        def parse(response: httpx.Response) -> R:
            return adapter.validate_json(response.content)

        return await self._requester.request("GET", path, parse, params=params)

    async def _results(
        self,
        run_ids: Iterable[int],
        adapter: pydantic.TypeAdapter[R],
        *,
        params: Mapping[str, str | int | bool] | None = None,
        lone_params: Mapping[str, str | int | bool] | None = None,
    ) -> dict[int, R]:
        """Many runs' results, keyed by run id, in requests the API accepts.

        Repeated ids are asked for once; no id, no request and ``{}``. The ids go
        in even chunks of at most ``batch_size`` to ``POST /{batch}``, all at once
        within the client's limits; fewer than ``batch_least`` ids go one by one to
        ``GET /{result}/{run_id}`` (with ``params`` and ``lone_params``), where an
        unknown run (404) is left out, as a batch answer leaves it out. A request
        that fails after its retries cancels the others and its error is raised.
        """
        endpoints = self.endpoints
        assert endpoints.batch is not None
        ids = list(dict.fromkeys(int.__index__(i) for i in _check_run_ids(run_ids)))
        if len(ids) < endpoints.batch_least:
            single = {**(params or {}), **(lone_params or {})} or None
            calls = [functools.partial(self._lone_result, run_id, adapter, single) for run_id in ids]
        else:
            calls = [
                functools.partial(self._batch_results, chunk, adapter, params)
                for chunk in even_chunks(ids, endpoints.batch_size)
            ]
        merged: dict[int, R] = {}
        for answer in await gather(calls):
            merged.update(answer)
        return merged

    async def _batch_results(
        self, ids: list[int], adapter: pydantic.TypeAdapter[R], params: Mapping[str, str | int | bool] | None
    ) -> dict[int, R]:
        """One ``POST /{batch}``. The API answers an object keyed by run id (as a
        string); an answer that is a list of results each carrying ``run_id`` is
        keyed the same way."""

        def parse(response: httpx.Response) -> dict[int, R]:
            return _keyed_by_run_id(response, adapter)

        return await self._requester.request(
            "POST", f"/{self.endpoints.batch}", parse, json={"run_ids": ids}, params=params, idempotent=True
        )

    async def _lone_result(
        self, run_id: int, adapter: pydantic.TypeAdapter[R], params: Mapping[str, str | int | bool] | None
    ) -> dict[int, R]:
        """One run of a batch fetched alone, as a batch answer would hold it."""
        try:
            return {run_id: await self._result(run_id, adapter, params=params)}
        except NotFoundError:
            return {}


def _check_run_ids(run_ids: Iterable[int]) -> list[int]:
    if isinstance(run_ids, (str, bytes)) or not hasattr(run_ids, "__iter__"):
        raise TypeError(f"run_ids must be an iterable of ints, got {type(run_ids).__name__}")
    ids = list(run_ids)
    for run_id in ids:
        run_id_segment(run_id)  # type and range, as a single run id
    return ids


_KEYED: pydantic.TypeAdapter[dict[int, Any] | list[dict[str, Any]]] = pydantic.TypeAdapter(
    dict[int, Any] | list[dict[str, Any]]
)


def _keyed_by_run_id(response: httpx.Response, adapter: pydantic.TypeAdapter[R]) -> dict[int, R]:
    raw = _KEYED.validate_json(response.content)
    if isinstance(raw, list):
        pairs = [(item.get("run_id"), item) for item in raw]
        if any(isinstance(key, bool) or not isinstance(key, int) for key, _ in pairs):
            raise ValueError("a batch answer's list holds an item without an integer run_id")
        raw = {int(key): item for key, item in pairs}  # type: ignore[arg-type]
    return {run_id: adapter.validate_python(value) for run_id, value in raw.items()}


def multipart(body: pydantic.BaseModel, files: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """A body model and file parts as one multipart form: fields as parts without a file
    name (booleans as ``true``/``false``, lists as repeated parts, nested objects as JSON
    text, unset fields left out), then the files. Always multipart, even with no file:
    the API reads these endpoints' bodies as multipart forms only."""
    parts: list[tuple[str, Any]] = []
    for name, value in body.model_dump(mode="json", exclude_none=True, by_alias=True).items():
        values = cast("list[object]", value) if isinstance(value, list) else [value]
        parts.extend((name, (None, _form_value(item))) for item in values)
    parts.extend(files.items())
    return parts


def _form_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, separators=(",", ":"))
    return str(value)


def run_id_of(task_id: str, status: TaskStatus) -> int:
    """The run id of a task that ended in SUCCESS; a typed error if the server gave none."""
    if status.run_id is None:
        raise CambError(f"task {task_id!r} ended with SUCCESS but without a run_id to fetch its result by")
    return status.run_id
