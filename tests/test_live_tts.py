"""client.live_tts over real WebSockets against the simulator, on asyncio and trio: sessions,
speak() over every kind of text source, the errors, and the close on leaving the block."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import anyio
import pytest
from support import API_KEY, ScriptedServer, assert_key_nowhere, sends, session_ended

from camb_async import (
    APIStatusError,
    AsyncCambClient,
    AuthenticationError,
    CambEvent,
    LiveConnectionError,
    LiveEvent,
    LiveSessionEnded,
    LiveSessionError,
    LiveSessionReady,
    LiveSessionStarted,
    LiveTTSAudio,
    LiveTTSSegmentDone,
    LiveTTSSegmentSkipped,
    LiveTTSSegmentStarted,
    LiveTTSSession,
    LiveTTSSessionDone,
    LiveTTSWord,
    PaymentRequiredError,
)
from camb_async.testing import LiveFaults, LiveSettings, Simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

QUICK = 5.0
"""Seconds within which anything here happens: a hang fails the test instead of the run."""


async def drain(chunks: AsyncIterator[object], into: list[object] | None = None) -> None:
    """Read ``chunks`` to the end (or to their error), keeping them in ``into``."""
    async for chunk in chunks:
        if into is not None:
            into.append(chunk)


async def test_a_session_streams_typed_events_in_order_until_the_server_ends_it(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """connect() returns after session.ready (ids known); each segment is segment.start, its
    audio frames and segment.done; session.done ends the iteration, after a normal close."""
    with anyio.fail_after(QUICK):
        async with live_client.live_tts.connect(voice_id=7, word_timestamps=True) as session:
            assert session.session_id
            assert session.run_id > 0
            assert session.config["voice_id"] == 7
            await session.send_text("Hello there. How")
            await session.send_text(" are you?", index=1)
            await session.finish()
            events = [event async for event in session]
    assert [event.type for event in events] == [
        "segment.start",
        "audio",
        "segment.done",
        "segment.start",
        "audio",
        "segment.done",
        "session.done",
    ]
    first, audio, done, second, audio_2, _, last = events
    assert isinstance(first, LiveTTSSegmentStarted)
    assert (first.segment_id, first.text) == (0, "Hello there.")
    assert first.word_timestamps == [
        LiveTTSWord(word="Hello", start=0.0, end=0.3),
        LiveTTSWord(word="there.", start=0.3, end=0.6),
    ]
    assert isinstance(audio, LiveTTSAudio)
    assert (audio.audio, audio.raw, audio.segment_id) == (b"Hello there.", b"Hello there.", 0)
    assert isinstance(done, LiveTTSSegmentDone)
    assert done.segment_id == 0
    assert isinstance(second, LiveTTSSegmentStarted)
    assert isinstance(audio_2, LiveTTSAudio)
    assert (second.text, audio_2.audio, audio_2.segment_id) == ("How are you?", b"How are you?", 1)
    assert isinstance(last, LiveTTSSessionDone)
    assert last.raw == {"type": "session.done"}
    record = await session_ended(live_simulator, within=1.0)
    assert record.received == ["session.start", "text.chunk", "text.chunk", "text.done"]
    assert record.close_code == 1000
    assert record.key_source == "header"
    assert "api_key" not in record.query


async def test_every_option_goes_into_session_start_and_languages_map_to_locales(
    live_client: AsyncCambClient,
) -> None:
    """Each tuning option is sent; an int language becomes its locale (35 is en-gb), a locale
    string goes as given; options left out keep the server's defaults."""
    async with live_client.live_tts.connect(
        voice_id=3,
        language=35,
        output_format="wav",
        word_timestamps=True,
        idle_timeout=2.5,
        enhance_named_entities_pronunciation=True,
        apply_enhancement=False,
        enhance_reference_audio_quality=True,
        maintain_source_accent=True,
        speaking_rate=1.25,
        sample_rate=24000,
        inference_steps=8,
    ) as session:
        config = session.config
    assert {name: config[name] for name in config if name != "model"} == {
        "voice_id": 3,
        "language": "en-gb",
        "output_format": "wav",
        "word_timestamps": True,
        "idle_timeout": 2.5,
        "enhance_named_entities_pronunciation": True,
        "apply_enhancement": False,
        "enhance_reference_audio_quality": True,
        "maintain_source_accent": True,
        "speaking_rate": 1.25,
        "sample_rate": 24000,
        "inference_steps": 8,
    }
    async with live_client.live_tts.connect(voice_id=3, language="EN-us") as session:
        assert session.config["language"] == "EN-us"
        assert session.config["output_format"] == "mp3"


async def test_bad_options_fail_before_connecting(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """A wrong type, an unknown format or language id, a bad number: raised before any upgrade."""
    before = len(live_simulator.live_sessions)
    with pytest.raises(TypeError, match="voice_id"):
        async with live_client.live_tts.connect(voice_id="7"):  # type: ignore[arg-type]
            pass
    with pytest.raises(ValueError, match="output_format"):
        async with live_client.live_tts.connect(voice_id=7, output_format="ogg"):  # type: ignore[arg-type]
            pass
    with pytest.raises(ValueError, match="language"):
        async with live_client.live_tts.connect(voice_id=7, language=9999):
            pass
    with pytest.raises(ValueError, match="speaking_rate"):
        async with live_client.live_tts.connect(voice_id=7, speaking_rate=0):
            pass
    with pytest.raises(ValueError, match="ready_timeout"):
        async with live_client.live_tts.connect(voice_id=7, ready_timeout=0):
            pass
    with pytest.raises(TypeError, match="speak"):
        async with live_client.live_tts.speak(b"bytes", voice_id=7):  # type: ignore[arg-type]
            pass
    assert len(live_simulator.live_sessions) == before


async def test_a_bad_key_fails_connect_as_an_authentication_error_without_the_key(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """session.error + close 4401: an AuthenticationError (status 401, close code 4401, no HTTP
    response) that is also a LiveSessionError; the key is nowhere in the chain."""
    live_simulator.set_live_faults(LiveFaults(reject_key=True))
    with pytest.raises(AuthenticationError) as caught:
        async with live_client.live_tts.connect(voice_id=7):
            pytest.fail("connect() must fail before the block")
    error = caught.value
    assert isinstance(error, LiveSessionError)
    assert (error.status_code, error.close_code) == (401, 4401)
    assert vars(error)["response"] is None  # no HTTP answer: the server closed the socket
    assert error.reason == "Invalid or missing API key"
    assert "4401" in str(error)
    assert "Invalid or missing API key" in str(error)
    assert_key_nowhere(error)


async def test_a_refused_upgrade_raises_its_status_error_and_a_redirect_is_not_followed(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """An HTTP answer instead of the upgrade: 401 and 403 are AuthenticationError, 402
    PaymentRequiredError (each with its response), a 3xx an APIStatusError: never followed."""
    for status, kind in ((401, AuthenticationError), (403, AuthenticationError), (402, PaymentRequiredError)):
        live_simulator.set_live_faults(LiveFaults(refuse=status))
        with pytest.raises(kind) as caught:
            async with live_client.live_tts.connect(voice_id=7):
                pass
        assert caught.value.status_code == status
        assert caught.value.response is not None
        assert_key_nowhere(caught.value)
    live_simulator.set_live_faults(LiveFaults(refuse=307, location="http://elsewhere.test/steal"))
    before = len(live_simulator.live_sessions)
    with pytest.raises(APIStatusError, match="does not follow") as redirected:
        async with live_client.live_tts.connect(voice_id=7):
            pass
    assert redirected.value.status_code == 307
    assert len(live_simulator.live_sessions) == before + 1


async def test_a_refused_voice_is_a_session_error_showing_the_server_text_and_close_code(
    live_client: AsyncCambClient,
) -> None:
    """session.error + 4400 at connect: a LiveSessionError with .reason and .close_code, both in str()."""
    with pytest.raises(LiveSessionError) as caught:
        async with live_client.live_tts.connect(voice_id=0):
            pass
    error = caught.value
    assert not isinstance(error, AuthenticationError | LiveConnectionError)
    assert (error.close_code, error.reason) == (4400, "voice 0 is not available to this key")
    assert "4400" in str(error)
    assert "voice 0 is not available" in str(error)


@pytest.mark.parametrize(
    ("code", "kind"), [(4402, PaymentRequiredError), (4400, LiveSessionError), (1011, LiveSessionError)]
)
async def test_an_error_close_mid_session_raises_with_the_session_ids(
    live_client: AsyncCambClient, live_simulator: Simulator, code: int, kind: type[Exception]
) -> None:
    """A close with an error code after some audio: the typed error (4402 is also a
    PaymentRequiredError), carrying the session's ids and the close's reason."""
    live_simulator.set_live_faults(LiveFaults(close_after=3, close_code=code, close_reason="out of luck"))
    received: list[object] = []
    ids: list[object] = []

    async def run() -> None:
        async with live_client.live_tts.connect(voice_id=7) as session:
            ids.extend((session.session_id, session.run_id))
            await session.send_text("One. Two. Three.")
            await drain(session, received)

    with anyio.fail_after(QUICK), pytest.raises(LiveSessionError) as caught:
        await run()
    error = caught.value
    assert isinstance(error, kind)
    assert (error.close_code, error.reason) == (code, "out of luck")
    assert [error.session_id, error.run_id] == ids
    assert [type(event) for event in received] == [LiveTTSSegmentStarted, LiveTTSAudio]
    assert f"close code {code}" in str(error)


async def test_a_dropped_connection_raises_live_connection_error_within_seconds(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """The connection cut without a close mid-stream: LiveConnectionError (a LiveSessionError
    and an APIConnectionError) with the run id, within a second, not a hang or a quiet end."""
    live_simulator.set_live_faults(LiveFaults(drop_after=2))
    began: list[float] = []

    async def run() -> None:
        async with live_client.live_tts.speak(["Hello there. ", "And again."], voice_id=7) as audio:
            began.append(time.perf_counter())
            with anyio.fail_after(QUICK):
                await drain(audio)

    with pytest.raises(LiveConnectionError) as caught:
        await run()
    assert time.perf_counter() - began[0] < 1.0
    error = caught.value
    assert error.close_code is None
    assert error.run_id is not None
    assert_key_nowhere(error)


async def test_speak_streams_audio_from_every_kind_of_text_source(live_client: AsyncCambClient) -> None:
    """A str, an iterable and an async iterable of str: the audio, in order, segment by segment."""

    async def tokens() -> AsyncIterator[str]:
        for token in ["Streams ", "are ", "fun. ", "Trailing ", "words"]:
            yield token

    sources: list[str | Iterator[str] | AsyncIterator[str]] = [
        "One. Two!",
        iter(["One. ", "", "Two!"]),
        tokens(),
    ]
    expected = [[b"One.", b"Two!"], [b"One.", b"Two!"], [b"Streams are fun.", b"Trailing words"]]
    for source, audio_chunks in zip(sources, expected, strict=True):
        with anyio.fail_after(QUICK):
            async with live_client.live_tts.speak(source, voice_id=7, language="en-us") as audio:
                assert [chunk async for chunk in audio] == audio_chunks


async def test_speak_hands_back_audio_while_the_source_is_still_open(live_client: AsyncCambClient) -> None:
    """The first audio comes before the source gives its next piece: the source waits for it,
    so a speak() that read the whole source before listening would never finish."""
    first_audio = anyio.Event()

    async def llm() -> AsyncIterator[str]:
        yield "The first sentence. "
        await first_audio.wait()
        yield "The second one."

    chunks: list[bytes] = []
    with anyio.fail_after(QUICK):
        async with live_client.live_tts.speak(llm(), voice_id=7) as audio:
            async for chunk in audio:
                chunks.append(chunk)
                first_audio.set()
    assert chunks == [b"The first sentence.", b"The second one."]


async def test_a_skipped_segment_raises_unless_skips_are_allowed(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """segment.skipped raises a LiveSessionError naming the segment and its text; with
    allow_skipped=True the other segments' audio comes and the skip passes."""
    live_simulator.set_live_faults(LiveFaults(skip_segments={1}))
    chunks: list[object] = []

    async def run() -> None:
        async with live_client.live_tts.speak("One. Two. Three.", voice_id=7) as audio:
            await drain(audio, chunks)

    with anyio.fail_after(QUICK), pytest.raises(LiveSessionError, match="skipped segment 1") as caught:
        await run()
    assert chunks == [b"One."]
    assert caught.value.reason == "Two."
    assert caught.value.run_id is not None
    with anyio.fail_after(QUICK):
        async with live_client.live_tts.speak("One. Two. Three.", voice_id=7, allow_skipped=True) as audio:
            assert [chunk async for chunk in audio] == [b"One.", b"Three."]
        async with live_client.live_tts.connect(voice_id=7) as session:
            await session.send_text("One. Two.")
            await session.finish()
            skipped = [event async for event in session if isinstance(event, LiveTTSSegmentSkipped)]
    assert [(event.segment_id, event.text) for event in skipped] == [(1, "Two.")]


async def test_a_failing_source_raises_its_own_error_and_a_piece_not_str_is_a_type_error(
    live_client: AsyncCambClient,
) -> None:
    """The source's exception comes out of the block as it was raised (not in a group); a piece
    that is not a str raises TypeError."""

    async def broken() -> AsyncIterator[str]:
        yield "Fine. "
        raise KeyError("the LLM gave up")

    async def speak(source: AsyncIterator[str] | list[str]) -> None:
        async with live_client.live_tts.speak(source, voice_id=7) as audio:
            await drain(audio)

    with anyio.fail_after(QUICK), pytest.raises(KeyError, match="the LLM gave up"):
        await speak(broken())
    with anyio.fail_after(QUICK), pytest.raises(TypeError, match="str"):
        await speak(["Fine. ", 42])  # type: ignore[list-item]


async def test_leaving_the_block_closes_the_socket_at_once(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """A break, an exception of the caller's block (raised as it is) and a cancellation each
    close the connection right away, while the server still has audio and text to come."""
    live_simulator.set_live_settings(LiveSettings(audio_multiplier=2000, frame_size=1024))
    endless = iter(lambda: "More words. ", None)

    async def fail_in_block() -> None:
        async with live_client.live_tts.speak(endless, voice_id=7) as audio:
            async for _ in audio:
                _ = 1 / 0

    with anyio.fail_after(QUICK):
        async with live_client.live_tts.speak(endless, voice_id=7) as audio:
            async for _ in audio:
                break
        assert (await session_ended(live_simulator, within=1.0)).ended
        with pytest.raises(ZeroDivisionError):
            await fail_in_block()
        assert (await session_ended(live_simulator, within=1.0)).ended
        with anyio.move_on_after(0.3) as scope:
            async with live_client.live_tts.connect(voice_id=7) as session:
                await session.send_text("Hello.")
                async for _ in session:
                    await anyio.sleep(0.05)
        assert scope.cancelled_caught
        assert (await session_ended(live_simulator, within=1.0)).ended


async def test_hooks_report_each_session_start_ready_and_end(live_simulator: Simulator) -> None:
    """on_event: LiveSessionStarted, LiveSessionReady with the ids, LiveSessionEnded (finished,
    close 1000); a refused one ends with its error."""
    seen: list[CambEvent] = []
    async with AsyncCambClient(API_KEY, base_url=live_simulator.url, on_event=seen.append) as client:
        async with client.live_tts.speak("Hi.", voice_id=7) as audio:
            assert [chunk async for chunk in audio] == [b"Hi."]
        live_simulator.set_live_faults(LiveFaults(reject_key=True))
        with pytest.raises(AuthenticationError):
            async with client.live_tts.connect(voice_id=7):
                pass
    started, ready, finished, started_2, failed = seen
    assert isinstance(started, LiveSessionStarted)
    assert started.session.kind == "live_tts"
    assert started.session.url == client.live_tts.url
    assert isinstance(ready, LiveSessionReady)
    assert ready.session is started.session
    assert isinstance(finished, LiveSessionEnded)
    assert (finished.session_id, finished.run_id) == (ready.session_id, ready.run_id)
    assert (finished.close_code, finished.error, finished.abandoned) == (1000, None, False)
    assert finished.duration > 0
    assert isinstance(started_2, LiveSessionStarted)
    assert isinstance(failed, LiveSessionEnded)
    assert isinstance(failed.error, AuthenticationError)
    assert failed.close_code == 4401
    assert not failed.abandoned


async def test_a_session_is_its_own_connection_whatever_the_clients_transport(
    live_simulator: Simulator,
) -> None:
    """A client whose requests go through a mock transport (no WebSockets) still opens real
    live sessions: each has its own connection."""
    import httpx

    mock = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(599)))
    async with (
        mock,
        AsyncCambClient(API_KEY, base_url=live_simulator.url, http_client=mock) as client,
        client.live_tts.speak("Own line.", voice_id=7) as audio,
    ):
        assert [chunk async for chunk in audio] == [b"Own line."]


async def test_a_server_repeating_the_key_in_its_close_reason_is_redacted(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """Server text quoted in an error (here a close reason echoing the key) shows the key as
    [redacted]: nowhere in the error's str, repr, args or chain."""
    live_simulator.set_live_faults(LiveFaults(close_after=0, close_code=4400, close_reason=f"bad {API_KEY}"))
    with pytest.raises(LiveSessionError) as caught:
        async with live_client.live_tts.connect(voice_id=7):
            pass
    assert caught.value.reason == "bad [redacted]"
    assert_key_nowhere(caught.value)


async def test_one_task_sends_while_another_reads(live_client: AsyncCambClient) -> None:
    """A session's text goes out from one task while another reads its events: each sentence's
    audio comes back before the next one is sent."""
    heard: list[bytes] = []
    voiced = [anyio.Event() for _ in range(3)]

    async def read(session: LiveTTSSession) -> None:
        async for event in session:
            if isinstance(event, LiveTTSAudio):
                heard.append(event.audio)
            elif isinstance(event, LiveTTSSegmentDone):
                voiced[event.segment_id].set()

    with anyio.fail_after(QUICK):
        async with live_client.live_tts.connect(voice_id=7) as session, anyio.create_task_group() as tasks:
            tasks.start_soon(read, session)
            for n, event in enumerate(voiced):
                await session.send_text(f"Sentence {n}.")
                await event.wait()
            await session.finish()
    assert heard == [b"Sentence 0.", b"Sentence 1.", b"Sentence 2."]


async def test_no_session_ready_in_time_is_a_lost_connection_and_leaving_early_is_abandoned(
    live_simulator: Simulator,
) -> None:
    """A server that does not answer session.start within ready_timeout: LiveConnectionError.
    A session left before the server ended it is reported abandoned, without an error."""
    seen: list[CambEvent] = []
    async with AsyncCambClient(API_KEY, base_url=live_simulator.url, on_event=seen.append) as client:
        live_simulator.set_live_faults(LiveFaults(frame_delay=1.0))
        with (
            anyio.fail_after(QUICK),
            pytest.raises(LiveConnectionError, match=r"no session\.ready within 0\.2 s"),
        ):
            async with client.live_tts.connect(voice_id=7, ready_timeout=0.2):
                pass
        live_simulator.set_live_faults(None)
        async with client.live_tts.connect(voice_id=7) as session:
            await session.send_text("Never heard.")
    ends = [event for event in seen if isinstance(event, LiveSessionEnded)]
    assert [(type(end.error), end.abandoned) for end in ends] == [
        (LiveConnectionError, False),
        (type(None), True),
    ]


READY = json.dumps({"type": "session.ready", "session_id": "s-1", "run_id": 42, "config": {}})


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ((b"early audio",), "audio before session.ready"),
        (("{nope",), "not JSON"),
        ((1000,), r"closed the session before session\.ready"),
        ((READY, 1000), r"closed the session before session\.done"),
        ((READY, '{"type": "segment.start", "segment_id": "x"}'), "unreadable fields"),
        ((READY, '{"type": "session.error", "error": "engine down"}', 4400), "engine down"),
    ],
)
async def test_a_server_breaking_the_protocol_is_a_session_error(
    frames: tuple[str | bytes | int, ...], message: str
) -> None:
    """Audio before session.ready, a message that is no JSON object or whose fields do not
    read, a normal close before the session's end, a session.error: a LiveSessionError (not a
    quiet end), never a LiveConnectionError."""
    with ScriptedServer(sends(*frames, read_first=True)) as server:
        async with AsyncCambClient(API_KEY, base_url=server.url) as client:

            async def run() -> None:
                async with client.live_tts.connect(voice_id=7) as session:
                    await drain(session)

            with anyio.fail_after(QUICK), pytest.raises(LiveSessionError, match=message) as caught:
                await run()
    assert not isinstance(caught.value, LiveConnectionError)


async def test_an_unknown_event_comes_as_a_plain_live_event_with_its_payload() -> None:
    """A message type this SDK does not know is yielded as a LiveEvent with .type and .raw."""
    unknown = {"type": "segment.metrics", "latency_ms": 12}
    done = json.dumps({"type": "session.done"})
    with ScriptedServer(sends(READY, json.dumps(unknown), done, 1000, read_first=True)) as server:
        async with (
            AsyncCambClient(API_KEY, base_url=server.url) as client,
            client.live_tts.connect(voice_id=7) as session,
        ):
            assert (session.session_id, session.run_id) == ("s-1", 42)
            with anyio.fail_after(QUICK):
                events = [event async for event in session]
    first, last = events
    assert type(first) is LiveEvent
    assert (first.type, first.raw) == ("segment.metrics", unknown)
    assert isinstance(last, LiveTTSSessionDone)
