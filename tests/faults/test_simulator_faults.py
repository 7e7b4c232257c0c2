"""The fault-injecting simulator itself: plans, the /_sim/faults control endpoint, the log, restarts."""

from __future__ import annotations

import email.utils
import hashlib
import time

import anyio
import anyio.to_thread
import httpx
import pytest

from camb_async.testing import FAULT_KINDS, FaultPlan, Simulator, result_sha256

from .harness import KEY

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

HEADERS = {"x-api-key": KEY}


def _origin(sim: Simulator) -> str:
    return sim.url.removesuffix("/apis")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rates": {"418": 0.1}}, "unknown fault kinds"),
        ({"script": ["nope"]}, "unknown fault kinds"),
        ({"rates": {"500": 0.7, "503": 0.7}}, "add up to at most 1"),
        ({"rates": {"500": -0.1}}, "in \\[0, 1\\]"),
        ({"retry_after": -1}, "retry_after"),
        ({"stall": float("nan")}, "stall"),
    ],
)
def test_bad_plans_are_refused(options: dict[str, object], message: str) -> None:
    """A plan naming an unknown fault, or with rates or waits out of range, raises ValueError."""
    with pytest.raises(ValueError, match=message):
        FaultPlan(**options)  # type: ignore[arg-type]


def test_plan_round_trips_through_json() -> None:
    """as_json() and from_json() give back the same plan; unknown keys are refused."""
    plan = FaultPlan.uniform(FAULT_KINDS, 0.26, seed=3, retry_after=0.5, stall=4.0, script=["drop"])
    assert FaultPlan.from_json(plan.as_json()) == plan
    assert sum(plan.rates.values()) == pytest.approx(0.26)
    with pytest.raises(ValueError, match="unknown fault plan keys"):
        FaultPlan.from_json({"rate": 0.1})


async def each_fault(http: httpx.AsyncClient, url: str) -> dict[str, httpx.Response | Exception]:
    """GET ``url`` once per fault kind (the simulator scripted with FAULT_KINDS): what each gave."""
    seen: dict[str, httpx.Response | Exception] = {}
    for kind in FAULT_KINDS:
        try:
            seen[kind] = await http.get(url)
        except httpx.HTTPError as exc:
            seen[kind] = exc
    return seen


def assert_each_fault_as_documented(seen: dict[str, httpx.Response | Exception]) -> None:
    """What :func:`each_fault` saw is what FAULT_KINDS describes for each kind."""
    answers = {k: v for k, v in seen.items() if isinstance(v, httpx.Response)}
    assert answers["429"].headers["retry-after"] == "2"
    date = email.utils.parsedate_to_datetime(answers["429-date"].headers["retry-after"])
    assert 0 <= date.timestamp() - time.time() <= 3
    assert answers["429-ms"].headers["retry-after-ms"] == "2000"
    assert [answers[k].status_code for k in ("500", "502", "503", "504")] == [500, 502, 503, 504]
    assert isinstance(seen["drop"], httpx.RemoteProtocolError)
    assert isinstance(seen["stall"], httpx.ReadTimeout)
    assert answers["html"].headers["content-type"] == "text/html"
    with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
        answers["truncated"].json()
    assert "status" not in answers["no-status"].json()
    assert answers["unknown-status"].json()["status"] == "PROCESSING"


async def test_each_fault_answers_as_documented(sim: Simulator) -> None:
    """Each scripted fault gives the status, headers or broken body FAULT_KINDS describes."""
    task_id = sim.add_task([("PENDING", 0.0), ("SUCCESS", 0.0)])
    sim.set_faults(FaultPlan(script=FAULT_KINDS, retry_after=2.0, stall=5.0))
    with anyio.fail_after(20):
        async with httpx.AsyncClient(headers=HEADERS, timeout=httpx.Timeout(5.0, read=0.3)) as http:
            seen = await each_fault(http, f"{sim.url}/tts/{task_id}")
    assert_each_fault_as_documented(seen)
    stats = sim.stats()
    assert stats["faults"] == dict.fromkeys(sorted(FAULT_KINDS), 1)
    assert stats["faults_injected"] == len(FAULT_KINDS)
    assert [r.fault for r in sim.request_log] == list(FAULT_KINDS)


async def test_rates_are_reproducible_and_spare_controls(sim: Simulator) -> None:
    """The same seed draws the same faults; /_sim requests and POSTs (by default) get none."""
    task_id = sim.add_task([("PENDING", 0.0)])
    runs: list[list[str | None]] = []
    async with httpx.AsyncClient(headers=HEADERS) as http:
        for _ in range(2):
            sim.set_faults(FaultPlan(rates={"500": 0.3, "html": 0.2}, seed=42))
            start = len(sim.request_log)
            for _ in range(40):
                await http.get(f"{sim.url}/tts/{task_id}")
            runs.append([r.fault for r in sim.request_log[start:]])
        await http.get(f"{_origin(sim)}/_sim/stats")
        created = await http.post(f"{sim.url}/tts", json={"text": "hi", "voice_id": 1, "language": 1})
    assert runs[0] == runs[1]
    assert 5 <= sum(1 for f in runs[0] if f) <= 35
    assert created.status_code == 200
    assert sim.request_log[-1].fault is None
    assert sim.request_log[-2].fault is None


async def test_control_endpoint_sets_reads_and_clears_the_plan(sim: Simulator) -> None:
    """POST /_sim/faults puts a plan in force, GET reads it with the counts, DELETE clears it; junk is a 400."""
    task_id = sim.add_task([("PENDING", 0.0)])
    async with httpx.AsyncClient(base_url=_origin(sim), headers=HEADERS) as http:
        answer = await http.post("/_sim/faults", json={"script": ["503", "503"], "methods": ["GET"]})
        assert answer.status_code == 200
        assert answer.json()["plan"]["script"] == ["503", "503"]
        assert [(await http.get(f"/apis/tts/{task_id}")).status_code for _ in range(3)] == [503, 503, 200]
        state = (await http.get("/_sim/faults")).json()
        assert state["faults"] == {"503": 2}
        assert (await http.get("/_sim/stats")).json()["faults_injected"] == 2
        assert (await http.post("/_sim/faults", json={"rates": {"teapot": 1}})).status_code == 400
        assert (await http.post("/_sim/faults", content=b"not json")).status_code == 400
        assert (await http.put("/_sim/faults")).status_code == 405
        await http.post("/_sim/faults", json={"rates": {"500": 1.0}})
        assert (await http.delete("/_sim/faults")).json()["plan"]["rates"] == {}
        assert (await http.get(f"/apis/tts/{task_id}")).status_code == 200
    assert sim.faults == FaultPlan()


async def test_restart_keeps_port_tasks_and_log(sim: Simulator) -> None:
    """restart() serves again on the same port with the same tasks, log and plan; it is counted."""
    task_id = sim.add_task([("PENDING", 0.0), ("SUCCESS", 0.0)])
    port, url = sim.port, sim.url
    sim.set_faults(FaultPlan(rates={"500": 0.0}))
    with anyio.fail_after(15):
        await anyio.to_thread.run_sync(lambda: sim.restart(downtime=0.05))
        async with httpx.AsyncClient(headers=HEADERS) as http:
            answer = await http.get(f"{url}/tts/{task_id}")
    assert sim.port == port
    assert answer.json()["status"] == "SUCCESS"
    assert sim.stats()["restarts"] == 1
    assert sim.faults.rates == {"500": 0.0}


async def test_each_fault_answers_in_process_as_over_tcp() -> None:
    """In the in-process mode, in the test's own event loop (asyncio or trio), every fault gives
    what it gives over TCP: a dropped answer is a RemoteProtocolError, a stall a ReadTimeout."""
    sim = Simulator(seed=11)
    task_id = sim.add_task([("PENDING", 0.0), ("SUCCESS", 0.0)])
    sim.set_faults(FaultPlan(script=FAULT_KINDS, retry_after=2.0, stall=5.0))
    with anyio.fail_after(10):
        async with sim.asgi_http_client(headers=HEADERS, timeout=httpx.Timeout(5.0, read=0.3)) as http:
            seen = await each_fault(http, f"{sim.asgi_url}/tts/{task_id}")
    assert_each_fault_as_documented(seen)
    assert [r.fault for r in sim.request_log] == list(FAULT_KINDS)
    assert not sim.running


async def test_a_stall_shorter_than_the_read_timeout_answers_in_process() -> None:
    """In process, a stall within the read timeout (or with none) delays the real answer, as over TCP."""
    sim = Simulator()
    task_id = sim.add_task([("SUCCESS", 0.0)])
    sim.set_faults(FaultPlan(script=["stall", "stall"], stall=0.2))
    with anyio.fail_after(10):
        async with sim.asgi_http_client(headers=HEADERS, timeout=httpx.Timeout(5.0)) as http:
            started = anyio.current_time()
            assert (await http.get(f"{sim.asgi_url}/tts/{task_id}")).json()["status"] == "SUCCESS"
            assert anyio.current_time() - started >= 0.2
        async with sim.asgi_http_client(headers=HEADERS, timeout=None) as http:
            assert (await http.get(f"{sim.asgi_url}/tts/{task_id}")).status_code == 200
    assert [r.fault for r in sim.request_log] == ["stall", "stall"]


async def test_a_streamed_result_in_process() -> None:
    """A streamed result (result_size=) is cut by drop, halved by truncated, and comes whole
    without a fault, in process on asyncio and trio."""
    size = 300_000
    sim = Simulator()
    sim.add_task([("SUCCESS", 0.0)], run_id=5, result_size=size)
    sim.set_faults(FaultPlan(script=["drop", "truncated"]))
    with anyio.fail_after(10):
        async with sim.asgi_http_client(headers=HEADERS) as http:
            url = f"{sim.asgi_url}/tts-result/5"
            with pytest.raises(httpx.RemoteProtocolError):
                await http.get(url)
            cut = await http.get(url)
            whole = await http.get(url)
    assert len(cut.content) == int(cut.headers["content-length"]) == size // 2
    assert hashlib.sha256(whole.content).hexdigest() == result_sha256(5, size)
