"""client.live_streams: the requests each call sends (camb-sdk 1.6.6's ``streaming`` shapes), the
answers it reads, the input it refuses before sending, and watch() over a stream's states; then the
same calls over real TCP against the simulator."""

from __future__ import annotations

import datetime
import json
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
from support import API_KEY, make_client, typed

from camb_async import (
    AsyncCambClient,
    BadRequestError,
    CambEvent,
    InternalServerError,
    LiveStream,
    LiveStreamCreated,
    LiveStreamState,
    NotFoundError,
    ResponseValidationError,
    SourceStream,
    StatusChanged,
    StreamConfig,
    StreamMixing,
    StreamPipeline,
    StreamProbe,
    TargetStream,
    WatchEnded,
    WatchStarted,
    WatchTimeoutError,
)
from camb_async.testing import Simulator

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator

    import respx

pytestmark = pytest.mark.anyio

SOURCE = {"language": "en-us", "url": "rtmp://source.test/live"}
TARGET = {"languages": ["fr-fr"], "url": "rtmp://out.test/fr", "type": 1}
CREATED = {
    "stream_id": 7,
    "stream_url_for_languages": [{"languages": [76], "url": "rtmp://out.test/fr"}],
    "task_id": "t-1",
}
UTC = datetime.timezone.utc


def creating(**fields: Any) -> Callable[[AsyncCambClient], Awaitable[object]]:
    """A create with the valid source and target, and ``fields`` over them."""
    merged: dict[str, Any] = {"source_stream": SOURCE, "target_streams": [TARGET], **fields}
    return lambda c: c.live_streams.create(**merged)


def body_of(route: respx.Route) -> Any:
    assert route.call_count == 1
    return json.loads(route.calls.last.request.content)


def stream(status: str, **fields: object) -> httpx.Response:
    return httpx.Response(200, json={"stream_id": 7, "status": status, **fields})


# -- requests -----------------------------------------------------------------------------


async def test_create_sends_camb_sdks_payload(client: AsyncCambClient, router: respx.Router) -> None:
    """POST /stream carries the required voices, dictionaries and config (empty when not given),
    the source and targets with languages as ids, and nothing unset."""
    route = router.post("/stream").respond(200, json=CREATED)
    created = await client.live_streams.create(source_stream=SOURCE, target_streams=[TARGET])
    assert body_of(route) == {
        "voices": [],
        "dictionaries": [],
        "config": {},
        "source_stream": {"language": 1, "url": "rtmp://source.test/live"},
        "target_streams": [{"languages": [76], "url": "rtmp://out.test/fr", "type": 1}],
    }
    assert route.calls.last.request.headers["content-type"] == "application/json"
    assert created == LiveStreamCreated.model_validate(CREATED)
    assert created.stream_id == 7
    assert created.stream_url_for_languages[0].url == "rtmp://out.test/fr"


async def test_create_sends_every_field_given(client: AsyncCambClient, router: respx.Router) -> None:
    """Models and their optional fields go as camb-sdk names them; times in ISO 8601."""
    route = router.post("/stream").respond(200, json=CREATED)
    start = datetime.datetime(2027, 1, 2, 10, 0, tzinfo=UTC)
    await client.live_streams.create(
        source_stream=SourceStream(language=1, url="srt://src", passphrase="pw", audio_stream=1, latency=200),
        target_streams=(
            TargetStream(
                languages=[76, "de-de"], url="srt://out", type=2, pids=[1, None], embed_subtitles=True
            ),
        ),
        voices=[11, 12],
        dictionaries=(3,),
        config=StreamConfig(
            pipeline=StreamPipeline(revoicing="best_model", demixing="pick_left_channel"),
            mixing=StreamMixing(original_audio_gain=0.2, fade_time=1.5),
        ),
        name="Match",
        description="Final",
        initial_delay=5,
        timeout_in_mins=30,
        start_time=start,
        end_time=start + datetime.timedelta(hours=2),
        timezone="Europe/Paris",
    )
    assert body_of(route) == {
        "name": "Match",
        "description": "Final",
        "initial_delay": 5,
        "timeout_in_mins": 30,
        "voices": [11, 12],
        "dictionaries": [3],
        "config": {
            "pipeline": {"demixing": "pick_left_channel", "revoicing": "best_model"},
            "mixing": {"original_audio_gain": 0.2, "fade_time": 1.5},
        },
        "source_stream": {
            "language": 1,
            "url": "srt://src",
            "passphrase": "pw",
            "audio_stream": 1,
            "latency": 200,
        },
        "target_streams": [
            {"languages": [76, 31], "url": "srt://out", "type": 2, "pids": [1, None], "embed_subtitles": True}
        ],
        "start_time": "2027-01-02T10:00:00Z",
        "end_time": "2027-01-02T12:00:00Z",
        "timezone": "Europe/Paris",
    }


async def test_create_is_never_retried(router: respx.Router) -> None:
    """A failed create is not sent again: a second stream would go on air."""
    route = router.post("/stream").respond(500, json={"detail": "boom"})
    async with make_client(router, max_retries=3) as client:
        with pytest.raises(InternalServerError):
            await client.live_streams.create(source_stream=SOURCE, target_streams=[TARGET])
    assert route.call_count == 1


async def test_get_update_delete_reach_the_stream(client: AsyncCambClient, router: respx.Router) -> None:
    """GET, PATCH (with its body) and DELETE go to /stream/{stream_id} and read the stream."""
    get = router.get("/stream/7").mock(return_value=stream("LIVE"))
    patch = router.patch("/stream/7").mock(return_value=stream("LIVE"))
    delete = router.delete("/stream/7").mock(return_value=stream("STOPPED"))
    end = datetime.datetime(2027, 1, 1, tzinfo=UTC)
    assert (await client.live_streams.get(7)).status is LiveStreamState.LIVE
    updated = await client.live_streams.update(
        7, end_time=end, target_languages=["de-de", 2], payload={"note": "x"}, timezone="UTC"
    )
    assert updated.is_live
    assert body_of(patch) == {
        "end_time": "2027-01-01T00:00:00Z",
        "payload": {"note": "x"},
        "target_languages": [31, 2],
        "timezone": "UTC",
    }
    stopped = await client.live_streams.delete(7)
    assert stopped.status is LiveStreamState.STOPPED
    assert stopped.is_terminal
    assert not stopped.is_failed
    assert get.call_count == 1
    assert delete.call_count == 1
    assert delete.calls.last.request.content == b""


async def test_probe_sends_the_url_and_reads_the_streams(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """POST /stream/probe sends url (and SRT's passphrase, stream_id) and reads the three lists."""
    route = router.post("/stream/probe").respond(
        200,
        json={
            "video_streams": [{"index": 0, "codec_name": "h264", "codec_long_name": "H.264", "is_avc": True}],
            "audio_streams": [{"index": 1, "codec_name": "aac", "codec_long_name": "AAC", "sample_fmt": "fltp",
                               "sample_rate": 48000, "channels": 2}],
            "data_streams": [],
        },
    )  # fmt: skip
    probe = await client.live_streams.probe("srt://src", passphrase="pw", stream_id="s1")
    assert body_of(route) == {"url": "srt://src", "passphrase": "pw", "stream_id": "s1"}
    assert probe.audio_streams[0].index == 1
    assert probe.audio_streams[0].channels == 2
    assert probe.video_streams[0].model_extra == {"is_avc": True}
    assert probe.audio_streams[0].model_extra == {"sample_fmt": "fltp"}


# -- answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ({"stream_id": 7, "status": "LIVE"}, LiveStreamState.LIVE),
        ({"stream_id": 7, "status": "live"}, LiveStreamState.LIVE),
        ({"id": 7, "state": "Starting"}, LiveStreamState.STARTING),
        ({"stream_status": "stopped"}, LiveStreamState.STOPPED),
        ({"status": "WARMING_UP"}, "WARMING_UP"),
        ({}, None),
        ("ended", LiveStreamState.ENDED),
    ],
    ids=["upper", "lower", "state-and-id", "stream_status", "unknown", "empty", "bare-string"],
)
async def test_get_reads_any_documented_or_likely_shape(
    client: AsyncCambClient, router: respx.Router, answer: object, status: object
) -> None:
    """A known status is its LiveStreamState in any case and under status/state/stream_status;
    an unknown one stays the server's string; a missing one is None."""
    router.get("/stream/7").respond(200, json=answer)
    got = await client.live_streams.get(7)
    assert got.status == status
    assert type(got.status) is type(status)


async def test_get_keeps_unknown_fields_and_tolerates_missing_ones(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """Fields the model does not name stay in model_extra; fields it names may be absent or null."""
    router.get("/stream/7").respond(
        200,
        json={"stream_id": "7", "status": "LIVE", "name": None, "viewers": 12, "source_stream": {"url": "u"}},
    )
    got = await client.live_streams.get(7)
    assert got.stream_id == 7
    assert got.name is None
    assert got.stream_url_for_languages == []
    assert got.model_extra == {"viewers": 12, "source_stream": {"url": "u"}}


@pytest.mark.parametrize(
    ("call", "method", "path", "body"),
    [
        (typed(lambda c: c.live_streams.get(7)), "GET", "/stream/7", b"<html>oops</html>"),
        (typed(lambda c: c.live_streams.delete(7)), "DELETE", "/stream/7", b"[1, 2]"),
        (
            typed(lambda c: c.live_streams.update(7, timezone="UTC")),
            "PATCH",
            "/stream/7",
            b'{"stream_id": {"a": 1}}',
        ),
        (typed(lambda c: c.live_streams.probe("u")), "POST", "/stream/probe", b'{"audio_streams": 3}'),
        (
            creating(),
            "POST",
            "/stream",
            b'{"task_id": "t"}',
        ),
    ],
    ids=["get-html", "delete-list", "update-bad-id", "probe-bad-list", "create-no-stream-id"],
)
async def test_an_unreadable_answer_names_the_endpoint(
    router: respx.Router,
    call: Callable[[AsyncCambClient], Awaitable[object]],
    method: str,
    path: str,
    body: bytes,
) -> None:
    """A 2xx body no model can read is a ResponseValidationError naming the method and path."""
    router.route(method=method, path=path).respond(200, content=body)
    async with make_client(router, max_retries=0) as client:
        with pytest.raises(ResponseValidationError, match=f"{method} /apis{path} returned 200"):
            await call(client)


def test_terminal_and_failed_states() -> None:
    """STOPPED, ENDED, ERROR, TIMEOUT (and a server's FAILED, cancelled...) end a stream; LIVE and
    unknown states do not; only ERROR, TIMEOUT and FAILED are failures."""
    ended = {s: LiveStream(status=s) for s in ["STOPPED", "ENDED", "ERROR", "TIMEOUT", "failed", "cancelled"]}
    going = {
        s: LiveStream(status=s) for s in ["SCHEDULED", "CREATED", "STARTING", "LIVE", "STOPPING", "WARM"]
    }
    assert all(s.is_terminal for s in ended.values())
    assert not any(s.is_terminal for s in going.values())
    assert not LiveStream().is_terminal
    assert [name for name, s in ended.items() if s.is_failed] == ["ERROR", "TIMEOUT", "failed"]
    assert LiveStream(status="live").is_live


# -- bad input ----------------------------------------------------------------------------


START = datetime.datetime(2027, 1, 2, tzinfo=UTC)

BAD_INPUT: list[Any] = [
    pytest.param(creating(target_streams=[]), ValueError, r"live_streams\.create\(\): target_streams",
                 id="no-targets"),
    pytest.param(creating(target_streams=TARGET), TypeError, r"live_streams\.create\(\): expected a list, got dict",
                 id="targets-not-a-list"),
    pytest.param(creating(source_stream={"url": "u"}), ValueError, r"source_stream\.language is required",
                 id="source-no-language"),
    pytest.param(creating(source_stream={**SOURCE, "language": "xx-yy"}), ValueError, r"unknown language 'xx-yy'",
                 id="unknown-language"),
    pytest.param(creating(source_stream={**SOURCE, "colour": 1}), ValueError, r"source_stream\.colour is not a field",
                 id="unknown-field"),
    pytest.param(creating(target_streams=[{**TARGET, "languages": []}]), ValueError, r"target_streams\.0\.languages",
                 id="target-no-languages"),
    pytest.param(creating(target_streams=[{**TARGET, "type": "1"}]), TypeError, r"target_streams\.0\.type",
                 id="target-type-str"),
    pytest.param(creating(config={"mixing": {"original_audio_gain": 1.5}}), ValueError,
                 r"config\.mixing\.original_audio_gain", id="gain-above-1"),
    pytest.param(creating(initial_delay=-1), ValueError, r"initial_delay", id="negative-delay"),
    pytest.param(creating(voices="12"), TypeError, r"expected a list, got str", id="voices-str"),
    pytest.param(creating(start_time=START, end_time=START - datetime.timedelta(days=1)), ValueError,
                 r"end_time must be after start_time", id="end-before-start"),
    pytest.param(creating(start_time="2027-01-01"), TypeError, r"start_time", id="time-str"),
    pytest.param(creating(start_time=START, end_time=datetime.datetime(2027, 1, 3)), ValueError,
                 r"both name a time zone", id="naive-and-aware"),
    pytest.param(typed(lambda c: c.live_streams.get(-1)), ValueError, r"stream_id must not be negative",
                 id="get-negative"),
    pytest.param(typed(lambda c: c.live_streams.get("7")), TypeError,  # type: ignore[arg-type]
                 r"stream_id must be an int", id="get-str"),
    pytest.param(typed(lambda c: c.live_streams.delete(True)), TypeError, r"stream_id must be an int",
                 id="delete-bool"),
    pytest.param(typed(lambda c: c.live_streams.update(7)), ValueError, r"live_streams\.update\(\): .*at least one",
                 id="update-nothing"),
    pytest.param(typed(lambda c: c.live_streams.update(7, target_languages="fr-fr")), TypeError,
                 r"live_streams\.update\(\): expected a list", id="update-languages-str"),
    pytest.param(typed(lambda c: c.live_streams.probe("  ")), ValueError, r"live_streams\.probe\(\): url",
                 id="probe-blank"),
    pytest.param(typed(lambda c: anext(c.live_streams.watch(-3))), ValueError, r"stream_id", id="watch-negative"),
    pytest.param(typed(lambda c: anext(c.live_streams.watch(3, timeout=0))), ValueError, r"timeout",
                 id="watch-timeout-0"),
    pytest.param(typed(lambda c: anext(c.live_streams.watch(3, interval=0))), ValueError, r"interval",
                 id="watch-interval-0"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "error", "message"), BAD_INPUT)
async def test_bad_input_is_refused_before_any_request(
    client: AsyncCambClient,
    unexpected: respx.Route,
    call: Callable[[AsyncCambClient], Awaitable[object]],
    error: type[Exception],
    message: str,
) -> None:
    """A wrong type is a TypeError, a wrong value a ValueError, each naming what is wrong; nothing is sent."""
    with pytest.raises(error, match=message) as caught:
        await call(client)
    assert type(caught.value) is error
    assert unexpected.call_count == 0


# -- watch --------------------------------------------------------------------------------


async def collect(watch: AsyncGenerator[LiveStream, None]) -> list[object]:
    """The statuses a watch yields, to its end."""
    async with aclosing(watch) as streams:
        return [s.status async for s in streams]


@pytest.mark.parametrize("end", ["STOPPED", "ended", "ERROR", "TIMEOUT", "FAILED"])
async def test_watch_yields_each_change_and_ends_on_a_terminal_state(
    client: AsyncCambClient, router: respx.Router, no_wait: None, end: str
) -> None:
    """Repeated states are not yielded again; LIVE is followed on; the watch ends right after the end."""
    states = ["CREATED", "CREATED", "STARTING", "LIVE", "LIVE", "LIVE", end]
    route = router.get("/stream/7").mock(side_effect=[stream(s) for s in states])
    seen = await collect(client.live_streams.watch(7))
    assert [str(s) for s in seen] == ["CREATED", "STARTING", "LIVE", end.upper()]
    assert route.call_count == len(states)


async def test_watch_of_a_live_stream_has_no_deadline_unless_given(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A stream that stays LIVE is followed past the client's watch_timeout; timeout= sets a deadline,
    whose WatchTimeoutError carries the stream last seen."""
    router.get("/stream/7").mock(return_value=stream("LIVE"))
    async with make_client(router, watch_timeout=0.2) as short:
        with anyio.move_on_after(0.5) as scope:
            await collect(short.live_streams.watch(7, interval=0.05))
        assert scope.cancelled_caught  # still following after 0.5 s > watch_timeout
        with pytest.raises(WatchTimeoutError) as caught:
            await collect(short.live_streams.watch(7, interval=0.05, timeout=0.2))
    assert caught.value.task_id == "7"
    assert str(caught.value).startswith("stream '7' did not finish within 0.2 s (last status LIVE)")
    assert isinstance(caught.value.last_status, LiveStream)
    assert caught.value.last_status.status is LiveStreamState.LIVE


async def test_watch_rides_out_an_outage(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """5xx answers while following are retried on the schedule, as a task watch rides them out."""
    answers = [stream("LIVE"), *[httpx.Response(503)] * 8, stream("STOPPED")]
    router.get("/stream/7").mock(side_effect=answers)
    assert await collect(client.live_streams.watch(7)) == ["LIVE", "STOPPED"]


async def test_watch_gives_up_after_the_clients_max_outage(router: respx.Router, no_wait: None) -> None:
    """With max_outage=0 the first failed poll (after its retries) ends the watch with its error."""
    route = router.get("/stream/7").mock(side_effect=[stream("LIVE"), httpx.Response(503), stream("LIVE")])
    async with make_client(router, max_outage=0, max_retries=0) as client:
        with pytest.raises(InternalServerError):
            await collect(client.live_streams.watch(7))
    assert route.call_count == 2


async def test_watch_of_an_unknown_stream_raises_at_once(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A 404 cannot heal: the watch ends with NotFoundError."""
    route = router.get("/stream/9").respond(404, json={"detail": "stream 9 not found"})
    with pytest.raises(NotFoundError):
        await collect(client.live_streams.watch(9))
    assert route.call_count == 1


async def test_watch_reports_to_on_event_hooks(router: respx.Router, no_wait: None) -> None:
    """A stream's watch reports its start, each change and its end, named family live_streams."""
    events: list[CambEvent] = []
    router.get("/stream/7").mock(side_effect=[stream("STARTING"), stream("LIVE"), stream("ENDED")])
    async with make_client(router, on_event=events.append) as client:
        await collect(client.live_streams.watch(7))
    watch_events = [e for e in events if isinstance(e, WatchStarted | StatusChanged | WatchEnded)]
    assert [type(e).__name__ for e in watch_events] == [
        "WatchStarted", "StatusChanged", "StatusChanged", "StatusChanged", "WatchEnded"
    ]  # fmt: skip
    ref = watch_events[0].watch
    assert (ref.family, ref.task_id) == ("live_streams", "7")
    changed = [e for e in watch_events if isinstance(e, StatusChanged)]
    assert isinstance(changed[2].status, LiveStream)
    assert changed[2].previous == changed[1].status
    ended = watch_events[-1]
    assert isinstance(ended, WatchEnded)
    assert ended.error is None
    assert not ended.abandoned


async def test_with_options_keeps_live_streams(client: AsyncCambClient, router: respx.Router) -> None:
    """A derived client has live_streams too, on its own options."""
    route = router.get("/stream/7").mock(side_effect=[httpx.Response(503), stream("LIVE")])
    derived = client.with_options(max_retries=0)
    with pytest.raises(Exception, match="503"):
        await derived.live_streams.get(7)
    assert (await client.live_streams.get(7)).is_live
    assert route.call_count == 2
    assert repr(client.live_streams) == "<LiveStreams family='live_streams'>"


# -- against the simulator, over real TCP -------------------------------------------------


@pytest.fixture(scope="module")
def stream_sim() -> Iterator[Simulator]:
    """A simulator whose streams start within 0.1 s and go live at 0.3 s."""
    with Simulator(durations=(0.1, 0.3), seed=3) as sim:
        yield sim


@pytest.fixture
async def live(stream_sim: Simulator) -> AsyncIterator[AsyncCambClient]:
    async with AsyncCambClient(API_KEY, base_url=stream_sim.url) as camb:
        yield camb


async def create(client: AsyncCambClient, **fields: Any) -> int:
    source = {**SOURCE, **fields.pop("source", {})}
    created = await client.live_streams.create(source_stream=source, target_streams=[TARGET], **fields)
    return created.stream_id


async def test_simulated_stream_goes_live_and_stops_on_delete(live: AsyncCambClient) -> None:
    """CREATED, STARTING, LIVE over time; DELETE stops it; the watch ends on STOPPED."""
    stream_id = await create(live)
    seen: list[object] = []
    async with aclosing(live.live_streams.watch(stream_id, interval=0.03, timeout=10)) as streams:
        async for current in streams:
            seen.append(current.status)
            if current.is_live:
                assert (await live.live_streams.delete(stream_id)).status is LiveStreamState.STOPPED
    assert seen == ["CREATED", "STARTING", "LIVE", "STOPPED"]
    assert (await live.live_streams.get(stream_id)).status is LiveStreamState.STOPPED


async def test_simulated_stream_stops_on_a_past_end_time_and_takes_new_languages(
    live: AsyncCambClient,
) -> None:
    """PATCH target_languages changes the outputs; PATCH with an end_time already past stops the stream."""
    stream_id = await create(live)
    updated = await live.live_streams.update(stream_id, target_languages=["de-de"])
    assert updated.stream_url_for_languages[0].languages == [31]
    past = datetime.datetime.now(UTC) - datetime.timedelta(seconds=1)
    assert (await live.live_streams.update(stream_id, end_time=past)).status is LiveStreamState.STOPPED


async def test_simulated_stream_ends_at_its_end_time(live: AsyncCambClient) -> None:
    """A stream created with an end_time ends ENDED when it comes."""
    end = datetime.datetime.now(UTC) + datetime.timedelta(seconds=0.5)
    stream_id = await create(live, end_time=end)
    with anyio.fail_after(10):
        seen = await collect(live.live_streams.watch(stream_id, interval=0.03))
    assert seen[-1] is LiveStreamState.ENDED
    assert LiveStreamState.LIVE in seen


async def test_simulated_unreachable_source_fails(live: AsyncCambClient) -> None:
    """A source the simulator cannot reach ends in ERROR, and probing it is a 400."""
    stream_id = await create(live, source={"url": "rtmp://unreachable.test/live"})
    with anyio.fail_after(10):
        seen = await collect(live.live_streams.watch(stream_id, interval=0.03))
    assert seen[-1] is LiveStreamState.ERROR
    with pytest.raises(BadRequestError):
        await live.live_streams.probe("rtmp://unreachable.test/live")


async def test_simulated_probe_and_errors(live: AsyncCambClient) -> None:
    """The probe lists the source's streams; an unknown stream is a 404 for every call."""
    probe = await live.live_streams.probe("srt://source.test")
    assert isinstance(probe, StreamProbe)
    assert [a.index for a in probe.audio_streams] == [1, 2]
    for call in (live.live_streams.get, live.live_streams.delete):
        with pytest.raises(NotFoundError):
            await call(999_999)
    with pytest.raises(NotFoundError):
        await live.live_streams.update(999_999, timezone="UTC")


async def test_simulator_refuses_a_create_without_a_target(stream_sim: Simulator) -> None:
    """The simulator answers 422 to a create camb-sdk's schema would refuse (sent raw, past the SDK's checks)."""
    async with httpx.AsyncClient(base_url=stream_sim.url, headers={"x-api-key": API_KEY}) as http:
        bare: dict[str, object] = {"voices": [], "dictionaries": [], "config": {}}
        source = {"source_stream": {"language": 1, "url": "u"}}
        bodies: list[dict[str, object]] = [
            {**bare, **source, "target_streams": []},
            {**bare, **source, "target_streams": [{"url": "u"}]},
            {**bare, "source_stream": {"url": "u"}, "target_streams": [TARGET]},
            bare,
        ]
        for body in bodies:
            assert (await http.post("/stream", json=body)).status_code == 422
        assert (await http.post("/stream/probe", json={})).status_code == 422


async def test_simulated_scheduled_stream_waits_for_its_start(live: AsyncCambClient) -> None:
    """A start_time ahead makes the stream SCHEDULED first; a payload update is merged and read back."""
    start = datetime.datetime.now(UTC) + datetime.timedelta(seconds=0.3)
    stream_id = await create(live, start_time=start, end_time=start + datetime.timedelta(hours=1))
    first = await live.live_streams.get(stream_id)
    assert first.status is LiveStreamState.SCHEDULED
    await live.live_streams.update(stream_id, payload={"a": 1})
    updated = await live.live_streams.update(stream_id, payload={"b": 2})
    assert updated.model_extra is not None
    assert updated.model_extra["payload"] == {"a": 1, "b": 2}
    seen: list[object] = []
    with anyio.fail_after(10):
        async with aclosing(live.live_streams.watch(stream_id, interval=0.03)) as streams:
            async for current in streams:
                seen.append(current.status)
                if current.is_live:
                    await live.live_streams.delete(stream_id)
    assert seen == ["SCHEDULED", "CREATED", "STARTING", "LIVE", "STOPPED"]


async def test_simulator_reads_times_as_the_api_sends_them(
    live: AsyncCambClient, stream_sim: Simulator
) -> None:
    """A time without a zone is UTC, one it cannot read is ignored; a stream that ended stays as it ended;
    an update with nothing to change is a 422."""
    stream_id = await create(live)
    async with httpx.AsyncClient(base_url=stream_sim.url, headers={"x-api-key": API_KEY}) as http:
        assert (await http.patch(f"/stream/{stream_id}", json={})).status_code == 422
        unreadable = await http.patch(f"/stream/{stream_id}", json={"end_time": "soon"})
        assert unreadable.json()["status"] != "STOPPED"
        past = await http.patch(f"/stream/{stream_id}", json={"end_time": "2000-01-01T00:00:00"})
        assert past.json()["status"] == "STOPPED"
    assert (await live.live_streams.delete(stream_id)).status is LiveStreamState.STOPPED


def test_a_state_given_as_a_member_stays_that_member() -> None:
    """A LiveStreamState passed in (not parsed from text) is kept as it is."""
    assert LiveStream(status=LiveStreamState.ENDED).status is LiveStreamState.ENDED
