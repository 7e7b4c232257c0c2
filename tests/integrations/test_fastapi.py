"""examples/fastapi_app.py and camb_async.integrations.fastapi, served by uvicorn on 127.0.0.1
in front of the simulator; the error mapping alone against respx."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import pathlib
import time
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
from fastapi import FastAPI, Request
from httpx_sse import aconnect_sse
from support import API_KEY, make_client, refused_url

from camb_async import (
    APIConnectionError,
    AsyncCambClient,
    CambError,
    ClientClosedError,
    PollSchedule,
    TaskFailedError,
    TaskPaymentRequiredError,
    TaskState,
    TaskStatus,
    TaskTimedOutError,
    WatchTimeoutError,
)
from camb_async.integrations.fastapi import (
    CambClient,
    TaskId,
    camb_error_handler,
    http_exception_for,
    install_exception_handlers,
    watch_events,
)
from camb_async.testing import FaultPlan, Simulator

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Iterator
    from types import ModuleType

    import respx
    from sse_starlette import EventSourceResponse

EXAMPLE = pathlib.Path(__file__).parents[2] / "examples" / "fastapi_app.py"
FAST = PollSchedule(initial=0.05, fast=0.05, steady=0.05, growth=0.0, maximum=0.05)
"""A poll every 0.05 s, however long the task runs: the watches below see each status at once."""


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_app", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = _load_example()
create_app: Callable[[Callable[[], AsyncCambClient]], FastAPI] = example.create_app
serve: Callable[[FastAPI], contextlib.AbstractAsyncContextManager[str]] = example.serve


class ClientFactory:
    """Makes the app's clients, bound to ``base_url`` with ``options``, and keeps each one made."""

    def __init__(self, base_url: str, **options: Any) -> None:
        self.base_url = base_url
        self.options: dict[str, Any] = {"poll_schedule": FAST, **options}
        self.made: list[AsyncCambClient] = []

    def __call__(self) -> AsyncCambClient:
        client = AsyncCambClient(API_KEY, base_url=self.base_url, **self.options)
        self.made.append(client)
        return client


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncGenerator[httpx.AsyncClient, None]:
    """``app`` served by uvicorn on a free port, and an HTTP client pointed at it; stopped after."""
    with anyio.fail_after(30):
        async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
            yield http


@contextlib.asynccontextmanager
async def example_app(base_url: str, **options: Any) -> AsyncGenerator[httpx.AsyncClient, None]:
    """The example app, its client bound to ``base_url`` with ``options``, served and stopped."""
    async with running(create_app(ClientFactory(base_url, **options))) as http:
        yield http


@pytest.fixture
def faults(simulator: Simulator) -> Iterator[Callable[[FaultPlan], None]]:
    """Put a fault plan in force on the shared simulator; no faults again after the test."""
    yield simulator.set_faults
    simulator.set_faults(None)


def _statuses_of(events: list[tuple[str, str]]) -> list[str]:
    assert all(event == "status" for event, _ in events), events
    return [TaskStatus.model_validate_json(data).status for _, data in events]


async def _read_events(http: httpx.AsyncClient, path: str) -> list[tuple[str, str]]:
    async with aconnect_sse(http, "GET", path) as source:
        return [(sse.event, sse.data) async for sse in source.aiter_sse()]


async def _polled(sim: Simulator, task_id: str, *, times: int) -> None:
    """Return once the task has been polled ``times`` times (fails after 5 s)."""
    for _ in range(100):
        if sim.record(task_id).polls >= times:
            return
        await anyio.sleep(0.05)
    pytest.fail(f"the task was polled {sim.record(task_id).polls} times in 5 s, not {times}")


async def _settled_polls(sim: Simulator, task_id: str) -> int:
    """The task's poll count once it has stopped changing for 0.3 s (fails after 5 s)."""
    with anyio.fail_after(5):
        polls = sim.record(task_id).polls
        while True:
            await anyio.sleep(0.3)
            now = sim.record(task_id).polls
            if now == polls:
                return now
            polls = now


# -- served by uvicorn ---------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.integration
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # uvicorn serves on asyncio
class TestServed:
    """The example app (and a small app on the integration) over a real uvicorn server."""

    async def test_lifespan_opens_one_client_that_every_request_shares(self, simulator: Simulator) -> None:
        """Concurrent requests all get the lifespan's one client, which is closed when the app stops."""
        task_ids = [simulator.add_task([("PENDING", 0.0)]) for _ in range(5)]
        factory = ClientFactory(simulator.url)
        async with running(create_app(factory)) as http:
            assert len(factory.made) == 1
            client = factory.made[0]
            answers: list[httpx.Response] = []

            async def get_status(task_id: str) -> None:
                answers.append(await http.get(f"/speech/{task_id}/status"))

            async with anyio.create_task_group() as group:
                for task_id in task_ids:
                    group.start_soon(get_status, task_id)
            assert [a.status_code for a in answers] == [200] * 5
            assert {a.json()["status"] for a in answers} == {"PENDING"}
            assert not client.is_closed
        assert len(factory.made) == 1
        assert client.is_closed

    async def test_speech_answers_the_audio_the_simulator_serves(
        self, simulator: Simulator, sim_client: AsyncCambClient
    ) -> None:
        """POST /speech creates a task, waits for it and answers with its audio, byte for byte."""
        async with example_app(simulator.url) as http:
            answer = await http.post("/speech", json={"text": "Hello", "voice_id": 1, "language": "en-us"})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "audio/wav"
        record = simulator.record(answer.headers["x-task-id"])
        assert record.request is not None
        assert record.request["text"] == "Hello"
        assert record.run_id is not None
        assert answer.content == await sim_client.tts.result(record.run_id)
        assert answer.content.startswith(b"RIFF")

    async def test_unknown_task_is_404(self, simulator: Simulator) -> None:
        """The API's 404 for a task id it does not know answers 404, on every endpoint."""
        async with example_app(simulator.url) as http:
            answers = [
                await http.get(f"/speech/no-such-task{suffix}") for suffix in ("/status", "", "/events")
            ]
        assert [a.status_code for a in answers] == [404, 404, 404]
        assert {a.json()["detail"] for a in answers} == {"no such task or run at the CAMB.AI API"}

    async def test_bad_input_is_422_before_any_request(self, simulator: Simulator) -> None:
        """A malformed task id, a bad wait, a blank text or an unknown language answer 422, unsent."""
        async with example_app(simulator.url) as http:
            before = simulator.request_count
            bad_ids = [await http.get(f"/speech/{bad}/status") for bad in ("%20", "a%01b", "x" * 600)]
            bad_wait = await http.get("/speech/some-task?wait=0")
            blank = await http.post("/speech", json={"text": "", "voice_id": 1, "language": "en-us"})
            unknown = await http.post("/speech", json={"text": "Hi", "voice_id": 1, "language": "xx-zz"})
            assert simulator.request_count == before
        assert [a.status_code for a in bad_ids] == [422, 422, 422]
        assert "blank" in bad_ids[0].text
        assert "contains" in bad_ids[1].text
        assert "longer than 512" in bad_ids[2].text
        assert bad_wait.status_code == 422
        assert blank.status_code == 422
        assert unknown.status_code == 422
        assert "language" in unknown.json()["detail"]

    async def test_unreachable_api_is_503_at_once(self) -> None:
        """A client whose API refuses connections answers 503 at once, on a wait and on events."""
        async with example_app(refused_url(), max_retries=0) as http:
            started = time.monotonic()
            answers = [await http.get(f"/speech/some-task{suffix}") for suffix in ("/status", "", "/events")]
        assert [a.status_code for a in answers] == [503, 503, 503]
        assert answers[0].json()["detail"] == "the CAMB.AI API cannot be reached; try again later"
        assert time.monotonic() - started < 5

    async def test_api_failing_is_502(
        self, simulator: Simulator, faults: Callable[[FaultPlan], None]
    ) -> None:
        """A 5xx answer that outlasts the retries answers 502."""
        task_id = simulator.add_task([("PENDING", 0.0)])
        faults(FaultPlan(script=["500"]))
        async with example_app(simulator.url, max_retries=0) as http:
            answer = await http.get(f"/speech/{task_id}/status")
        assert answer.status_code == 502
        assert answer.json()["detail"] == "the CAMB.AI API failed with status 500"

    async def test_outage_during_a_wait_ends_it_within_max_outage(
        self, simulator: Simulator, faults: Callable[[FaultPlan], None]
    ) -> None:
        """A wait whose polls all fail answers 502/503 after the client's max_outage, not its deadline."""
        task_id = simulator.add_task([("PENDING", 0.0), ("SUCCESS", 60.0)])
        faults(FaultPlan(rates={"503": 1.0}))
        async with example_app(simulator.url, max_retries=0, max_outage=0.5) as http:
            started = time.monotonic()
            answer = await http.get(f"/speech/{task_id}?wait=60")
            took = time.monotonic() - started
        assert answer.status_code in (502, 503), answer.text
        assert took < 10
        assert simulator.record(task_id).polls == 0  # every poll got the fault, none the status

    async def test_rate_limit_is_429_with_retry_after(
        self, simulator: Simulator, faults: Callable[[FaultPlan], None]
    ) -> None:
        """A 429 the SDK gave up on answers 429 with the API's Retry-After."""
        task_id = simulator.add_task([("PENDING", 0.0)])
        faults(FaultPlan(script=["429"], retry_after=7))
        async with example_app(simulator.url, max_retries=0) as http:
            answer = await http.get(f"/speech/{task_id}/status")
        assert answer.status_code == 429
        assert answer.headers["retry-after"] == "7"

    async def test_wait_past_its_timeout_is_504(self, simulator: Simulator) -> None:
        """A wait whose own short timeout passes answers 504 at its deadline, naming the task."""
        task_id = simulator.add_task([("PENDING", 0.0), ("SUCCESS", 60.0)])
        async with example_app(simulator.url) as http:
            started = time.monotonic()
            answer = await http.get(f"/speech/{task_id}?wait=0.3")
            took = time.monotonic() - started
        assert answer.status_code == 504
        assert answer.json()["detail"] == f"task {task_id!r} did not finish within 0.3 s; last status PENDING"
        assert 0.3 <= took < 5

    async def test_failed_task_is_502_with_its_reason(self, simulator: Simulator) -> None:
        """A task that ends with ERROR answers 502 with its status and reason."""
        task_id = simulator.add_task([("PENDING", 0.0), ("ERROR", 0.1)], exception_reason="BAD_TEXT")
        async with example_app(simulator.url) as http:
            answer = await http.get(f"/speech/{task_id}")
        assert answer.status_code == 502
        detail = answer.json()["detail"]
        assert detail.startswith(f"task {task_id!r} ended with status ERROR (BAD_TEXT)")

    async def test_events_stream_each_status_the_last_terminal(self, simulator: Simulator) -> None:
        """GET /speech/{id}/events sends a status event per change, the last one terminal, then ends."""
        task_id = simulator.add_task([("PENDING", 0.0), ("PROCESSING", 0.2), ("SUCCESS", 0.4)])
        async with example_app(simulator.url) as http:
            events = await _read_events(http, f"/speech/{task_id}/events")
        assert _statuses_of(events) == ["PENDING", "PROCESSING", "SUCCESS"]
        last = TaskStatus.model_validate_json(events[-1][1])
        assert last.is_terminal
        assert last.run_id == simulator.record(task_id).run_id

    async def test_events_of_a_failed_task_end_with_its_status(self, simulator: Simulator) -> None:
        """A task that fails ends its stream with the ERROR status (watch() yields it, not raises)."""
        task_id = simulator.add_task([("PENDING", 0.0), ("ERROR", 0.2)], exception_reason="BAD_TEXT")
        async with example_app(simulator.url) as http:
            events = await _read_events(http, f"/speech/{task_id}/events")
        assert _statuses_of(events) == ["PENDING", "ERROR"]
        assert TaskStatus.model_validate_json(events[-1][1]).exception_reason == "BAD_TEXT"

    async def test_disconnect_cancels_the_watch(self, simulator: Simulator) -> None:
        """Once the HTTP client hangs up on an events stream, the simulator sees no more polls of its task."""
        task_id = simulator.add_task([("PENDING", 0.0), ("SUCCESS", 60.0)])
        async with example_app(simulator.url) as http:
            async with (
                aconnect_sse(http, "GET", f"/speech/{task_id}/events") as source,
                contextlib.aclosing(source.aiter_sse()) as events,
            ):
                first = await anext(events)
                assert _statuses_of([(first.event, first.data)]) == ["PENDING"]
                await _polled(simulator, task_id, times=5)  # the watch polls on while the client listens
            stopped = await _settled_polls(simulator, task_id)
            await anyio.sleep(0.5)  # ten poll intervals
            assert simulator.record(task_id).polls == stopped
            again = await http.get(f"/speech/{task_id}/status")  # the app serves on
            assert again.status_code == 200

    async def test_events_end_with_watch_error_when_the_deadline_passes(self, simulator: Simulator) -> None:
        """A watch whose deadline passes mid-stream ends it with a watch-error event carrying 504."""
        app = FastAPI(lifespan=_lifespan(ClientFactory(simulator.url)))
        install_exception_handlers(app)

        @app.get("/events/{task_id}")
        async def events(task_id: TaskId, client: CambClient) -> EventSourceResponse:
            return await watch_events(client, task_id, timeout=0.3)

        task_id = simulator.add_task([("PENDING", 0.0), ("SUCCESS", 60.0)])
        async with running(app) as http:
            received = await _read_events(http, f"/events/{task_id}")
        assert [event for event, _ in received] == ["status", "watch-error"]
        error = json.loads(received[1][1])
        assert error["status_code"] == 504
        assert error["detail"].startswith(f"task {task_id!r} did not finish within 0.3 s")


def _lifespan(
    factory: ClientFactory,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[dict[str, AsyncCambClient]]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[dict[str, AsyncCambClient], None]:
        async with factory() as client:
            yield {"camb_client": client}

    return lifespan


@pytest.mark.anyio
async def test_missing_lifespan_client_is_a_clear_error() -> None:
    """A handler that asks for the client of an app whose lifespan yields none fails, saying why."""
    app = FastAPI()

    @app.get("/")
    async def root(client: CambClient) -> str:  # pragma: no cover - the dependency fails first
        return repr(client)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as http:
        with pytest.raises(RuntimeError, match="no AsyncCambClient in the app's lifespan state"):
            await http.get("/")


# -- the error mapping alone ---------------------------------------------------------------------

HTML = "<html><title>502 Bad Gateway</title></html>"
DATE = "Wed, 21 Oct 2099 07:28:00 GMT"


Answer = httpx.Response | Exception


def _json(status: int, body: object = None) -> Callable[[], Answer]:
    return lambda: httpx.Response(status, json={} if body is None else body)


def _headers(status: int, **headers: str) -> Callable[[], Answer]:
    return lambda: httpx.Response(status, headers={k.replace("_", "-"): v for k, v in headers.items()})


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("answer", "status", "headers"),
    [
        (_json(404, {"detail": "not found"}), 404, {}),
        (_json(400, {"detail": "text is too long"}), 422, {}),
        (_json(422, {"detail": [{"loc": ["text"]}]}), 422, {}),
        (_json(409), 409, {}),
        (_json(401), 502, {}),
        (_json(403), 502, {}),
        (_json(402), 503, {}),
        (_json(500), 502, {}),
        (_json(503), 502, {}),
        (_json(418), 502, {}),
        (lambda: httpx.Response(200, text=HTML, headers={"content-type": "text/html"}), 502, {}),
        (_headers(429, retry_after="7"), 429, {"Retry-After": "7"}),
        (_headers(429, retry_after="0.2"), 429, {"Retry-After": "1"}),
        (_headers(429, retry_after_ms="1500"), 429, {"Retry-After": "2"}),
        (_headers(429, retry_after="1e9"), 429, {"Retry-After": "3600"}),
        (_headers(429, retry_after=DATE), 429, {"Retry-After": DATE}),
        (_headers(429, retry_after="soon"), 429, {}),
        (_headers(429), 429, {}),
        (lambda: httpx.ConnectError("refused"), 503, {}),
        (lambda: httpx.ReadTimeout("slow"), 503, {}),
    ],
)
async def test_api_errors_map_to_http_answers(
    router: respx.Router, answer: Callable[[], Answer], status: int, headers: dict[str, str]
) -> None:
    """Each answer of the API, once the SDK raised for it, maps to its HTTP status (and Retry-After)."""

    def respond(request: httpx.Request) -> httpx.Response:
        made = answer()
        if isinstance(made, Exception):
            raise made
        return made

    router.get("/tts/t1").mock(side_effect=respond)
    async with make_client(router, max_retries=0) as client:
        with pytest.raises(CambError) as raised:
            await client.tts.status("t1")
    mapped = http_exception_for(raised.value)
    assert mapped.status_code == status
    assert dict(mapped.headers or {}) == headers
    assert API_KEY not in str(mapped.detail)
    assert "camb.test" not in str(mapped.detail)  # no URL of the API


@pytest.mark.anyio
async def test_a_create_that_may_have_reached_the_api_is_502(router: respx.Router) -> None:
    """A create whose answer never came says the task may exist, with 502 (not a 503 inviting a resend)."""
    router.post("/tts").mock(side_effect=httpx.ReadTimeout("slow"))
    async with make_client(router) as client:
        with pytest.raises(CambError) as raised:
            await client.tts.create(text="Hi", voice_id=1, language="en-us")
    mapped = http_exception_for(raised.value)
    assert mapped.status_code == 502
    assert "may or may not have been created" in mapped.detail


def _status(state: str) -> TaskStatus:
    return TaskStatus(status=state, exception_reason="REASON")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (TaskFailedError("t1", _status(TaskState.ERROR)), 502),
        (TaskTimedOutError("t1", _status(TaskState.TIMEOUT)), 502),
        (TaskPaymentRequiredError("t1", _status(TaskState.PAYMENT_REQUIRED)), 503),
        (WatchTimeoutError("t1", 1.5, None), 504),
        (WatchTimeoutError("t1", 1.5, _status("PENDING"), last_error=RuntimeError("down")), 504),
        (ClientClosedError("closed"), 503),
        (CambError("no API key"), 500),
    ],
)
def test_local_errors_map_to_http_answers(error: CambError, status: int) -> None:
    """Task outcomes, local deadlines and the client's own errors map to their HTTP status."""
    assert http_exception_for(error).status_code == status


def test_watch_timeout_names_task_deadline_and_outage() -> None:
    """A 504 says which task, the deadline, the last status, and that the API was down if it was."""
    quiet = http_exception_for(WatchTimeoutError("t1", 1.5, _status("PENDING")))
    down = http_exception_for(WatchTimeoutError("t1", 2, None, last_error=RuntimeError("down")))
    assert quiet.detail == "task 't1' did not finish within 1.5 s; last status PENDING"
    assert down.detail == "task 't1' did not finish within 2 s; the CAMB.AI API was not answering"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("error", "status", "level"),
    [
        (
            APIConnectionError("refused", request=httpx.Request("GET", "https://camb.test/apis/tts/t1")),
            503,
            "WARNING",
        ),
        (WatchTimeoutError("t1", 1.5, None), 504, "INFO"),
        (TaskFailedError("t1", _status(TaskState.ERROR)), 502, "INFO"),
    ],
)
async def test_handler_answers_with_fastapis_body_and_logs(
    caplog: pytest.LogCaptureFixture, error: CambError, status: int, level: str
) -> None:
    """The handler answers {"detail": ...} with the mapped status, logged at WARNING only when the API failed."""
    request = Request(
        {"type": "http", "method": "GET", "path": "/speech/t1", "headers": [], "query_string": b""}
    )
    with caplog.at_level("INFO", logger="camb_async.integrations.fastapi"):
        response = await camb_error_handler(request, error)
    assert response.status_code == status
    assert json.loads(bytes(response.body)) == {"detail": http_exception_for(error).detail}
    assert [(r.levelname, r.getMessage().split(":")[0]) for r in caplog.records] == [
        (level, f"GET /speech/t1 answered {status}")
    ]


@pytest.mark.anyio
async def test_handler_passes_on_what_is_no_camb_error() -> None:
    """Registered for CambError only, the handler re-raises anything else it is given."""
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""})
    with pytest.raises(KeyError):
        await camb_error_handler(request, KeyError("x"))
