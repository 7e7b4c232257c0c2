"""A local stand-in for the CAMB.AI API: a real HTTP server on 127.0.0.1.

Tasks follow a timeline, a list of ``(status, seconds after creation)``
pairs: ``[("PENDING", 0), ("SUCCESS", 2.5)]`` answers PENDING for 2.5 s,
then SUCCESS with a ``run_id`` whose result the family's result endpoint
serves. Every task family of the API is simulated (``tts``, ``dubbing``,
``translation``, ``transcription``, ``text_to_sound``, ``text_to_voice``,
``audio_separation``, ``subtitles``, ``story``, ``project_setup``,
``translated_tts``, ``translated_story``, ``dubbing_alt_format``: the public
names; see ``_families`` for their URLs and result shapes), with the
streaming endpoints, live streams (``_streams``) and the catalog (voices,
languages, folders, dictionaries). Tasks come from the create endpoints (a random timeline drawn
from the simulator's settings) or from :meth:`Simulator.add_task` / ``POST
/_sim/tasks`` (a scripted one, many at once).

The server keeps a record of every task, of what each create sent, and of
every raw request path, so tests can check what the SDK really sent; ``GET
/_sim/tasks`` returns every task's record for a process that runs the
simulator in another process. Result files are served at ``/_sim/files/`` on
``localhost`` (the API on ``127.0.0.1``), without an API key, so a test can
see that a key never goes to the other host.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from .._models import TaskState
from . import _faults
from ._app import App
from ._asgi import ASGI_URL, InProcessTransport
from ._ratelimit import RateLimit
from ._store import Store, TaskRecord, Timeline

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping
    from types import TracebackType

    import httpx
    from typing_extensions import Self

    from ._faults import FaultPlan, RequestRecord
    from ._http import Receive, Scope, Send
    from ._live_config import LiveFaults, LiveRecord, LiveSettings
    from ._shapes import AnswerShapes

__all__ = ["FileRequest", "Simulator", "TaskRecord", "Timeline"]


class FileRequest(NamedTuple):
    """One request for a result file on ``/_sim/files``: its raw path and whether it carried ``x-api-key``."""

    path: str
    had_key: bool


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
        durations: Range, in seconds, of how long a task made by a create (``POST /tts``, ...)
            stays PENDING.
        outcomes: Relative weights of the final status of such tasks.
        api_key: The only key accepted; by default any non-empty key is.
        seed: Seed of the random durations and outcomes.
        host: Address to listen on; keep it on loopback.
        port: Port to listen on; 0 picks a free one.
        faults: A :class:`FaultPlan` to start with; none by default.
        clock: What task timelines and the request log measure time on, in seconds;
            ``time.monotonic`` by default. For the in-process mode on a virtual clock, pass
            ``anyio.current_time``, so that tasks finish on the event loop's time.
        rate_limit: At most this many API requests in any one second; the others get a
            429 (logged with the fault ``"rate_limited"``). None by default.
        rate_limit_headers: Whether that 429 says so in headers (``Retry-After``,
            ``RateLimit-Policy``, ``X-RateLimit-*``); ``False`` sends none, as nginx does.
        answer_shapes: Where the API's reference pages and camb-sdk show different answers
            for one endpoint, whose to serve: ``"sdk"`` (the default) or ``"docs"`` (bare
            status strings, ``output_audio_url``, bare transcript lists, ``file_url``,
            ``run_details``, ``folder_name``; see docs/testing.md).
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
        clock: Callable[[], float] = time.monotonic,
        rate_limit: float | None = None,
        rate_limit_headers: bool = True,
        answer_shapes: AnswerShapes = "sdk",
    ) -> None:
        low, high = durations
        if not 0 <= low <= high or not math.isfinite(high):
            raise ValueError(f"durations must be 0 <= low <= high, got {durations!r}")
        self._store = Store((low, high), outcomes or {TaskState.SUCCESS.value: 1.0}, seed, clock)
        self._faults = _faults.Injector(faults)
        self._app = App(self._store, api_key, self._faults)
        self.set_rate_limit(rate_limit, headers=rate_limit_headers)
        self.set_answer_shapes(answer_shapes)
        self._host = host
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def app(self) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        """The ASGI application, to serve with a server of your choice."""
        return self._app

    asgi_url = ASGI_URL
    """The base URL to give ``AsyncCambClient`` with :meth:`asgi_http_client`: ``http://127.0.0.1/apis``."""

    def asgi_http_client(self, **options: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` whose requests go to this simulator's app in process, no socket.

        The app runs in the caller's event loop, asyncio or trio, and the
        simulator need not be started. Give it to ``AsyncCambClient`` as
        ``http_client=`` with ``base_url=sim.asgi_url``, and close it yourself.
        Every fault behaves as over TCP: ``drop`` raises
        ``httpx.RemoteProtocolError``; ``stall`` raises ``httpx.ReadTimeout`` once
        it outlasts the read timeout. ``options`` go to ``httpx.AsyncClient``
        (not ``transport``).
        """
        import httpx

        return httpx.AsyncClient(transport=InProcessTransport(self._app), **options)

    @property
    def url(self) -> str:
        """The base URL of the running simulator, e.g. ``http://127.0.0.1:8123/apis``."""
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() or use `with`")
        return f"http://{self._host}:{self.port}/apis"

    @property
    def running(self) -> bool:
        """Whether the simulator serves over TCP: between :meth:`start` and :meth:`stop`."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The port the running simulator listens on."""
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        sockets = self._server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    @property
    def realtime_url(self) -> str:
        """The base URL of the realtime endpoint (``/v1/realtime``), e.g. ``http://127.0.0.1:8123``.

        Live TTS and live transcription are under :attr:`url` (``/apis/live-tts/ws``,
        ``/apis/transcription/listen``); see ``camb_async.testing._live``.
        """
        return f"http://{self._host}:{self.port}"

    @property
    def live_settings(self) -> LiveSettings:
        """How live sessions answer (see :class:`LiveSettings`)."""
        return self._app.live.settings

    def set_live_settings(self, settings: LiveSettings | None) -> None:
        """Put ``settings`` in force for live sessions opened from now on (``None``: the defaults)."""
        from ._live_config import LiveSettings

        with self._app.live.lock:
            self._app.live.settings = settings or LiveSettings()

    @property
    def live_faults(self) -> LiveFaults | None:
        """The faults in force for live sessions (``None``: none)."""
        return self._app.live.faults

    def set_live_faults(self, faults: LiveFaults | None) -> None:
        """Put ``faults`` in force for live sessions opened from now on (``None``: no faults)."""
        with self._app.live.lock:
            self._app.live.faults = faults

    @property
    def live_sessions(self) -> list[LiveRecord]:
        """What the simulator saw of every live session, in the order they opened (copies)."""
        return self._app.live.snapshot()

    @property
    def files_url(self) -> str:
        """The base URL of result files, e.g. ``http://localhost:8123/_sim/files``."""
        return f"http://localhost:{self.port}/_sim/files"

    def add_task(
        self,
        timeline: Timeline = (("PENDING", 0.0), ("SUCCESS", 1.0)),
        *,
        family: str = "tts",
        task_id: str | None = None,
        run_id: int | None = None,
        exception_reason: str | None = None,
        request: Mapping[str, object] | None = None,
        result_size: int | None = None,
        redirect_result: bool = False,
    ) -> str:
        """Add a task of ``family`` (a public name) that follows ``timeline`` from now on; return its id.

        ``request`` stands for what its create sent (its result is derived
        from it); ``result_size`` makes its audio result exactly that many
        bytes of :func:`result_bytes`, streamed; ``redirect_result`` makes
        ``tts-result/{run_id}`` (raw bytes) answer 302 to the file on ``localhost``.
        """
        return self._store.add(
            timeline,
            family=family,
            task_id=task_id,
            run_id=run_id,
            exception_reason=exception_reason,
            request=request,
            result_size=result_size,
            redirect_result=redirect_result,
        ).task_id

    def add_tasks(self, timelines: Iterable[Timeline], *, family: str = "tts") -> list[str]:
        """Add one task per timeline; return their ids in order."""
        return [self.add_task(t, family=family) for t in timelines]

    def record(self, task_id: str, *, family: str = "tts") -> TaskRecord:
        """The simulator's record of a task (raises ``KeyError`` for an unknown one)."""
        return self._store.tasks[(family, task_id)]

    @property
    def records(self) -> list[TaskRecord]:
        """Every task's record, in creation order."""
        with self._store.lock:
            return list(self._store.tasks.values())

    @property
    def file_requests(self) -> list[FileRequest]:
        """Every request for a result file on ``/_sim/files``, in order."""
        with self._store.lock:
            return [FileRequest(path, had_key) for path, had_key in self._store.file_requests]

    @property
    def request_bodies(self) -> list[tuple[str, dict[str, object]]]:
        """``(raw path, fields)`` of every POST or PUT to ``/apis`` with a JSON object or multipart body.

        Fields are as :attr:`TaskRecord.request` holds them; this also covers
        the uploads that create no task (voices, dictionaries).
        """
        with self._store.lock:
            return [(path, dict(fields)) for path, fields in self._store.bodies]

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

    def set_rate_limit(self, rate: float | None, *, headers: bool = True) -> None:
        """Limit API requests to ``rate`` in any one second from now on (``None``: no limit);
        ``headers`` as ``rate_limit_headers``."""
        self._app.rate_limit = None if rate is None else RateLimit(rate, headers=headers)

    def set_answer_shapes(self, shapes: AnswerShapes) -> None:
        """Serve ``"sdk"`` or ``"docs"`` answer shapes from the next request on (see ``answer_shapes``)."""
        if shapes not in ("sdk", "docs"):
            raise ValueError(f"answer_shapes must be 'sdk' or 'docs', got {shapes!r}")
        self._app.answer_shapes = shapes

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
            ws=_websockets_implementation(),
            timeout_keep_alive=75,
            backlog=4096,
            timeout_graceful_shutdown=1,
        )
        _quiet_uvicorn()
        server = _server_class(uvicorn.Server)(config)
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


def _server_class(base: type[Any]) -> type[Any]:
    """uvicorn's server, aborting the connections its graceful shutdown left open (a download
    still streaming when the simulator stops or restarts): closed with the server's loop, not
    found unclosed by the garbage collector later, in somebody else's test."""

    class Server(base):  # type: ignore[misc]
        async def shutdown(self, sockets: Any = None) -> None:
            await super().shutdown(sockets)  # pyright: ignore[reportUnknownMemberType]
            for connection in list(self.server_state.connections):
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.abort()
            await asyncio.sleep(0)  # let the aborts run before the loop closes

    return Server


def _websockets_implementation() -> str:
    """uvicorn's WebSockets on wsproto, the simulator extra's, whatever else is installed (same
    behaviour everywhere); uvicorn's own choice where wsproto is missing."""
    import importlib.util

    return "wsproto" if importlib.util.find_spec("wsproto") is not None else "auto"


def _quiet_uvicorn() -> None:
    """Keep uvicorn from logging an error for each connection that ``drop`` cuts on purpose."""
    import logging

    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _faults.QuietDrops) for f in logger.filters):
        logger.addFilter(_faults.QuietDrops())
