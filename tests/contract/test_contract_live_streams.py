"""Live streams held against camb-sdk 1.6.6's ``streaming`` client: the same method, path, query and
JSON body for each call, and camb-sdk's own models reading what the simulator answers."""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from camb_async import AsyncCambClient, SourceStream, StreamConfig, StreamPipeline, TargetStream
from camb_async.testing import Simulator

camb = pytest.importorskip("camb", reason="camb-sdk 1.6.6 is in the contract dependency group")

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

pytestmark = pytest.mark.anyio

BASE_URL = "https://camb.test/apis"
KEY = "sk-contract-streams"
UTC = datetime.timezone.utc
START = datetime.datetime(2027, 1, 2, 10, 0, tzinfo=UTC)
END = START + datetime.timedelta(hours=2)

Sent = tuple[str, str, list[tuple[str, str]], object]


def recorder(sent: list[Sent]) -> httpx.MockTransport:
    """A transport that keeps each request's method, path, query and JSON body, and answers what
    both clients can read."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        sent.append((request.method, request.url.path, sorted(request.url.params.multi_items()), body))
        if request.url.path.endswith("/probe"):
            return httpx.Response(200, json={"video_streams": [], "audio_streams": [], "data_streams": []})
        return httpx.Response(200, json={"stream_id": 3, "stream_url_for_languages": [], "task_id": "t"})

    return httpx.MockTransport(handle)


def case(
    sdk_call: Callable[[Any], Awaitable[object]],
    our_call: Callable[[AsyncCambClient], Awaitable[object]],
    id: str,
) -> Any:
    """One call made through camb-sdk and through camb-async (a function: it gives the lambdas their types)."""
    return pytest.param(sdk_call, our_call, id=id)


CASES: list[Any] = [
    case(
        lambda sdk: sdk.streaming.create_stream(
            voices=[],
            dictionaries=[],
            config=camb.ConfigStream(),
            source_stream=camb.SourceStream(language=1, url="rtmp://src"),
            target_streams=[camb.TargetStream(languages=[76], url="rtmp://out", type=1)],
        ),
        lambda ours: ours.live_streams.create(
            source_stream={"language": "en-us", "url": "rtmp://src"},
            target_streams=[{"languages": ["fr-fr"], "url": "rtmp://out", "type": 1}],
        ),
        id="create-required",
    ),
    case(
        lambda sdk: sdk.streaming.create_stream(
            name="Final",
            description="Match",
            initial_delay=5,
            timeout_in_mins=30,
            voices=[11],
            dictionaries=[3],
            config=camb.ConfigStream(pipeline=camb.ConfigStreamPipeline(revoicing="best_model")),
            source_stream=camb.SourceStream(language=1, url="srt://src", passphrase="pw", audio_stream=1),
            target_streams=[camb.TargetStream(languages=[76, 31], url="srt://out", type=2, latency=200)],
            start_time=START,
            end_time=END,
            timezone="Europe/Paris",
        ),
        lambda ours: ours.live_streams.create(
            name="Final",
            description="Match",
            initial_delay=5,
            timeout_in_mins=30,
            voices=[11],
            dictionaries=[3],
            config=StreamConfig(pipeline=StreamPipeline(revoicing="best_model")),
            source_stream=SourceStream(language=1, url="srt://src", passphrase="pw", audio_stream=1),
            target_streams=[TargetStream(languages=[76, "de-de"], url="srt://out", type=2, latency=200)],
            start_time=START,
            end_time=END,
            timezone="Europe/Paris",
        ),
        id="create-every-field",
    ),
    case(lambda sdk: sdk.streaming.get_stream_result(3), lambda ours: ours.live_streams.get(3), id="get"),
    case(
        lambda sdk: sdk.streaming.patch_stream_data(
            3, end_time=END, target_languages=[76], payload={"k": 1}, timezone="UTC"
        ),
        lambda ours: ours.live_streams.update(
            3, end_time=END, target_languages=["fr-fr"], payload={"k": 1}, timezone="UTC"
        ),
        id="update",
    ),
    case(lambda sdk: sdk.streaming.destroy_stream(3), lambda ours: ours.live_streams.delete(3), id="delete"),
    case(
        lambda sdk: sdk.streaming.get_probe_stream(url="srt://src", passphrase="pw", stream_id="s"),
        lambda ours: ours.live_streams.probe("srt://src", passphrase="pw", stream_id="s"),
        id="probe",
    ),
]


@pytest.mark.parametrize(("sdk_call", "our_call"), CASES)
async def test_the_same_request_as_camb_sdk(
    sdk_call: Callable[[Any], Awaitable[object]], our_call: Callable[[AsyncCambClient], Awaitable[object]]
) -> None:
    """camb-async sends what camb-sdk sends: method, path, query and JSON body."""
    theirs: list[Sent] = []
    ours: list[Sent] = []
    async with httpx.AsyncClient(transport=recorder(theirs)) as http:
        await sdk_call(camb.AsyncCambAI(api_key=KEY, base_url=BASE_URL, httpx_client=http))
    async with (
        httpx.AsyncClient(transport=recorder(ours)) as http,
        AsyncCambClient(KEY, base_url=BASE_URL, http_client=http) as client,
    ):
        await our_call(client)
    assert ours == theirs


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(durations=(0.05, 0.1), seed=5) as simulator:
        yield simulator


@pytest.fixture
async def sdk(sim: Simulator) -> AsyncIterator[Any]:
    async with httpx.AsyncClient() as http:
        yield camb.AsyncCambAI(api_key=KEY, base_url=sim.url, httpx_client=http)


async def test_camb_sdk_reads_the_simulators_streams(sdk: Any) -> None:
    """camb-sdk's models read the simulator's create and probe answers, and its dicts the rest."""
    created = await sdk.streaming.create_stream(
        voices=[],
        dictionaries=[],
        config=camb.ConfigStream(),
        source_stream=camb.SourceStream(language=1, url="rtmp://src"),
        target_streams=[camb.TargetStream(languages=[76], url="rtmp://out", type=1)],
    )
    assert isinstance(created, camb.CreateStreamOut)
    assert created.stream_url_for_languages[0].languages == [76]
    probe = await sdk.streaming.get_probe_stream(url="srt://src")
    assert isinstance(probe, camb.GetProbeStreamOut)
    assert [audio.index for audio in probe.audio_streams] == [1, 2]
    current = await sdk.streaming.get_stream_result(created.stream_id)
    assert current["stream_id"] == created.stream_id
    stopped = await sdk.streaming.destroy_stream(created.stream_id)
    assert stopped["status"] == "STOPPED"
