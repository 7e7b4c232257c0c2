"""client.realtime (speech-to-speech) over real WebSockets against the simulator, on asyncio and trio."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, cast

import anyio
import pytest
from support import (
    API_KEY,
    Peer,
    ScriptedServer,
    assert_key_nowhere,
    json_text,
    pcm_wav,
    sends,
    session_ended,
)
from wsproto.events import CloseConnection, TextMessage

from camb_async import (
    AsyncCambClient,
    AuthenticationError,
    LiveConnectionError,
    LiveEvent,
    LiveSessionError,
    RealtimeAudio,
    RealtimeErrorEvent,
    RealtimeLanguageEvent,
    RealtimeSession,
    RealtimeSessionUpdated,
    RealtimeText,
    RealtimeTranscript,
)
from camb_async._live.speech import Realtime
from camb_async.testing import LiveFaults, LiveSettings

if TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncIterator

    from wsproto.events import Event

    from camb_async.testing import Simulator

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

KIB = 1024
QUIET = 0.3  # a short quiet window keeps the tests fast; the simulator answers within milliseconds


def step(event: LiveEvent) -> tuple[str, object]:
    """An event as (type, what it carries), for exact comparisons."""
    if isinstance(event, RealtimeAudio):
        return event.type, event.audio
    if isinstance(event, (RealtimeText, RealtimeTranscript)):
        return event.type, event.text
    if isinstance(event, RealtimeLanguageEvent):
        return event.type, (event.language, event.previous_language)
    if isinstance(event, RealtimeErrorEvent):
        return event.type, event.error.code
    return event.type, None


def translation(words: str) -> list[tuple[str, object]]:
    """What the simulator answers to one utterance: transcript deltas, completed, text, audio."""
    split = words.split(" ")
    upper = words.upper()
    transcript = "conversation.item.input_audio_transcription"
    return [
        *[(f"{transcript}.delta", w if i == 0 else f" {w}") for i, w in enumerate(split)],
        (f"{transcript}.completed", words),
        *[("response.text.delta", w if i == 0 else f" {w}") for i, w in enumerate(upper.split(" "))],
        ("response.text.done", upper),
        ("response.audio.delta", upper.encode()),
        ("response.audio.done", None),
    ]


async def collect(session: RealtimeSession) -> list[LiveEvent]:
    return [event async for event in session]


async def speak(camb: AsyncCambClient, audio: bytes, **options: Any) -> list[LiveEvent]:
    """One session en-us → fr-fr: ``audio`` sent, ``finish()``, every event after session.updated."""
    options = {"source_language": "en-us", "target_language": "fr-fr", "quiet_window": QUIET, **options}
    async with camb.realtime.connect(**options) as session:
        await session.send_audio(audio)
        await session.finish()
        events = await collect(session)
    assert isinstance(events[0], RealtimeSessionUpdated)
    return events[1:]


async def translated(camb: AsyncCambClient, audio: Any, **options: Any) -> list[LiveEvent]:
    """What ``translate(audio)`` yields, en-us → fr-fr."""
    options = {"source_language": "en-us", "target_language": "fr-fr", "quiet_window": QUIET, **options}
    async with camb.realtime.translate(audio, **options) as events:
        return [event async for event in events]


async def test_a_session_translates_and_ends_after_the_quiet_window(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """connect() → send_audio() → finish(): transcript, text and audio events, exact, then the end."""
    live_simulator.set_live_settings(LiveSettings(realtime_flush=0.1))  # "and more" has no "."
    started = time.monotonic()
    async with live_client.realtime.connect(
        source_language="en-us", target_language="fr-fr", quiet_window=QUIET
    ) as session:
        assert session.session_id is not None
        assert session.session_id.startswith("sess_")
        assert (session.settings.source_language, session.settings.target_language) == ("en-us", "fr-fr")
        await session.send_audio(b"hello big world. and more")
        await session.finish()
        events = await collect(session)
        ended = time.monotonic()
    assert [step(e) for e in events] == [
        ("session.updated", None),
        *translation("hello big world."),
        *translation("and more"),
    ]
    audio = [e for e in events if isinstance(e, RealtimeAudio)]
    assert [a.raw for a in audio] == [b"HELLO BIG WORLD.", b"AND MORE"]  # binary frames, as sent
    assert ended - started < 5
    record = live_simulator.live_sessions[-1]
    assert (record.query, record.key_source) == ("", "header")
    assert record.received == ["session.update", "input_audio_buffer.append"]


async def test_the_session_waits_the_quiet_window_after_the_last_message(
    live_client: AsyncCambClient,
) -> None:
    """After finish(), the iteration ends only once the server has been quiet for quiet_window."""
    async with live_client.realtime.connect(
        source_language="en-us", target_language="fr-fr", quiet_window=0.6
    ) as session:
        await session.send_audio(b"unfinished")  # translated after the simulator's 0.5 s flush
        await session.finish()
        last = time.monotonic()
        events: list[LiveEvent] = []
        async for event in session:
            events.append(event)
            last = time.monotonic()
        quiet = time.monotonic() - last
    assert [step(e) for e in events][1:] == translation("unfinished")
    assert 0.5 <= quiet < 2.0


async def test_base64_audio_events_decode_like_binary_frames(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """response.audio.delta in JSON (base64) becomes the same RealtimeAudio with decoded bytes."""
    live_simulator.set_live_settings(LiveSettings(realtime_audio="base64"))
    events = await speak(live_client, b"over json.")
    assert [step(e) for e in events] == translation("over json.")
    audio = next(e for e in events if isinstance(e, RealtimeAudio))
    assert isinstance(audio.raw, dict)
    assert audio.raw["delta"] == "T1ZFUiBKU09OLg=="


@pytest.mark.slow
async def test_audio_is_appended_in_pieces_of_at_most_256_kib(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """600 KiB go as three appends (the simulator refuses a bigger one with 4400)."""
    # the simulator reads 600 KiB byte by byte: a quiet window long enough for that
    events = await speak(live_client, b"\0" * (600 * KIB - 4) + b"big.", quiet_window=3.0)
    assert [step(e) for e in events] == translation("big.")
    assert live_simulator.live_sessions[-1].received == ["session.update"] + ["input_audio_buffer.append"] * 3


async def test_model_and_mode_go_in_the_query_as_given(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """model= is sent as the model parameter, camb-sdk's mode= as mode; the server echoes its mode."""
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"model": "lilac"}, "model=lilac", "slow"),
        ({"mode": "fast"}, "mode=fast", "fast"),
    ]
    for options, query, mode in cases:
        async with live_client.realtime.connect(
            source_language="en-us", target_language="de-de", **options
        ) as s:
            assert s.settings.mode == mode
        assert live_simulator.live_sessions[-1].query == query


async def test_options_reach_the_session(live_client: AsyncCambClient) -> None:
    """A voice, one output modality and a language id (35 is en-gb) are what the server echoes."""
    async with live_client.realtime.connect(
        source_language=35, target_language="fr-fr", voice=7, output_modalities=["text"], quiet_window=QUIET
    ) as session:
        assert session.settings.source_language == "en-gb"
        assert session.settings.voice == {"type": "cloned", "voice_id": 7}
        assert session.settings.output_modalities == ["text"]
        await session.send_audio(b"text only.")
        await session.finish()
        kinds = {e.type for e in await collect(session)}
    assert "response.text.done" in kinds
    assert "response.audio.delta" not in kinds


async def test_auto_source_language_with_its_options(live_client: AsyncCambClient) -> None:
    """source_language="auto" with speaker_setup and candidates: the transcript names the language."""
    async with live_client.realtime.connect(
        source_language="auto",
        speaker_setup="single_known_speaker",
        source_language_candidates=["en-us", 31],
        quiet_window=QUIET,
    ) as session:
        await session.send_audio(b"which one.")
        await session.finish()
        events = await collect(session)
    completed = [e for e in events if isinstance(e, RealtimeTranscript) and e.type.endswith("completed")]
    assert [(c.text, c.language, c.passthrough) for c in completed] == [("which one.", "en-us", False)]
    assert completed[0].item_id is not None


async def test_update_changes_the_languages_mid_session(live_client: AsyncCambClient) -> None:
    """update(): session.updated, then source_language_changed; the session goes on in the new languages."""
    async with live_client.realtime.connect(
        source_language="en-us", target_language="fr-fr", quiet_window=QUIET
    ) as session:
        await session.update(source_language="de-de", target_language=35)
        await session.ignore_for_language_detection("item_1")
        await session.send_audio(b"weiter.")
        await session.finish()
        events = await collect(session)
    assert [step(e) for e in events[:3]] == [
        ("session.updated", None),
        ("session.updated", None),
        ("session.source_language_changed", ("de-de", "en-us")),
    ]
    assert [step(e) for e in events[3:]] == translation("weiter.")
    assert (session.settings.source_language, session.settings.target_language) == ("de-de", "en-gb")


async def test_update_needs_something_to_change(live_client: AsyncCambClient) -> None:
    """update() with nothing to change is a ValueError."""
    async with live_client.realtime.connect(source_language="en-us", target_language="fr-fr") as session:
        with pytest.raises(ValueError, match="at least one setting"):
            await session.update()


async def test_a_non_fatal_error_is_yielded_and_the_session_goes_on(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """An error event the server does not close after comes as a RealtimeErrorEvent, in order."""
    live_simulator.set_live_faults(LiveFaults(error_after=3))
    events = await speak(live_client, b"still here.")
    steps = [step(e) for e in events]
    assert ("error", "simulated_error") in steps
    assert [s for s in steps if s[0] != "error"] == translation("still here.")
    error = next(e for e in events if isinstance(e, RealtimeErrorEvent))
    assert error.message == "simulated non-fatal error"
    assert error.error.type == "server_error"


async def test_a_refused_key_is_an_authentication_error(live_simulator: Simulator) -> None:
    """error (authentication_error) + 4401: AuthenticationError and LiveSessionError, the key nowhere."""
    live_simulator.set_live_faults(LiveFaults(reject_key=True))
    async with AsyncCambClient(
        API_KEY, base_url=live_simulator.url, realtime_url=live_simulator.realtime_url
    ) as camb:
        with pytest.raises(AuthenticationError) as caught:
            async with camb.realtime.connect(source_language="en-us", target_language="fr-fr"):
                pass
    error = caught.value
    assert isinstance(error, LiveSessionError)
    assert (error.status_code, error.close_code) == (401, 4401)
    assert "Invalid or missing API key" in (error.reason or "")
    for text in (str(error), repr(error), repr(error.args), repr(error.__cause__), repr(error.__context__)):
        assert API_KEY not in text


async def test_a_refused_setting_raises_with_the_servers_text(live_client: AsyncCambClient) -> None:
    """A language the server does not take: its error then close 4400, a LiveSessionError."""
    with pytest.raises(LiveSessionError) as caught:
        async with live_client.realtime.connect(source_language="en-us", target_language="xx-yy"):
            pass
    assert caught.value.close_code == 4400
    assert "unsupported target_language" in (caught.value.reason or "")
    assert "4400" in str(caught.value)


async def test_a_fatal_error_mid_session_raises(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """An error the server closes after (here: an append over the limit, sent raw) raises, not yields."""
    async with live_client.realtime.connect(source_language="en-us", target_language="fr-fr") as session:
        socket = cast("Any", session)._socket
        await socket.send_json({"type": "input_audio_buffer.append", "audio": "not base64!"})
        with pytest.raises(LiveSessionError) as caught:
            await collect(session)
    assert caught.value.close_code == 4400
    assert "audio must be base64" in (caught.value.reason or "")
    assert caught.value.session_id == session.session_id


async def test_an_error_close_mid_stream_raises(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """A close with an error code raises LiveSessionError with the code and the reason."""
    live_simulator.set_live_faults(LiveFaults(close_after=4, close_code=4000, close_reason="shutting down"))
    with pytest.raises(LiveSessionError) as caught:
        await speak(live_client, b"a b c d e.")
    assert (caught.value.close_code, caught.value.reason) == (4000, "shutting down")


async def test_a_dropped_connection_raises_within_seconds(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """A connection cut without a close is a LiveConnectionError, even after finish()."""
    live_simulator.set_live_faults(LiveFaults(drop_after=4))
    start = time.monotonic()
    with anyio.fail_after(10), pytest.raises(LiveConnectionError) as caught:
        await speak(live_client, b"a b c d e.", quiet_window=5.0)
    assert time.monotonic() - start < 5
    assert caught.value.close_code is None


async def test_session_created_waits_at_most_ready_timeout(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """A server slow to create the session is a TimeoutError after ready_timeout."""
    live_simulator.set_live_faults(LiveFaults(frame_delay=2.0))
    with anyio.fail_after(5), pytest.raises(TimeoutError):
        async with live_client.realtime.connect(
            source_language="en-us", target_language="fr-fr", ready_timeout=0.2
        ):
            pass


async def test_translate_bytes_a_wav_and_an_async_source(
    live_client: AsyncCambClient, tmp_path: pathlib.Path
) -> None:
    """translate() takes raw PCM, a 24 kHz mono WAV (path or bytes: frames only) and an async iterable."""
    expected = [("session.updated", None), *translation("one two.")]
    path = tmp_path / "speech.wav"
    path.write_bytes(pcm_wav(b"one two.", rate=24000))

    async def microphone() -> AsyncIterator[bytes]:
        yield b"one "
        yield b"two."

    for audio in (b"one two.", path, str(path), path.read_bytes(), microphone(), [b"one", b" two."]):
        assert [step(e) for e in await translated(live_client, audio)] == expected


async def test_translate_refuses_a_wav_in_another_format_before_connecting(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """A WAV that is not PCM16 mono 24 kHz is a ValueError, and no session opens."""
    before = len(live_simulator.live_sessions)
    for wav in (pcm_wav(b"x", rate=16000), pcm_wav(b"xx", rate=24000, channels=2)):
        with pytest.raises(ValueError, match="realtime audio is 16-bit PCM, mono, 24000 Hz"):
            await translated(live_client, wav)
    assert len(live_simulator.live_sessions) == before


async def test_a_failing_source_raises_its_own_error(live_client: AsyncCambClient) -> None:
    """The source's exception reaches the caller of translate() as it is."""

    async def broken() -> AsyncIterator[bytes]:
        yield b"partial "
        raise OSError("microphone unplugged")

    with anyio.fail_after(5), pytest.raises(OSError, match="microphone unplugged"):
        await translated(live_client, broken())


async def test_leaving_the_block_early_closes_the_socket(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """A break out of the events closes the session at once, the server seeing the client leave."""
    async with live_client.realtime.translate(
        b"one two three.", source_language="en-us", target_language="fr-fr", quiet_window=30
    ) as events:
        async for _ in events:
            break
    await session_ended(live_simulator)


async def test_send_audio_after_finish_is_an_error(live_client: AsyncCambClient) -> None:
    """After finish() the input is over: more audio is a RuntimeError."""
    async with live_client.realtime.connect(
        source_language="en-us", target_language="fr-fr", quiet_window=QUIET
    ) as session:
        await session.finish()
        await session.finish()
        with pytest.raises(RuntimeError, match="after finish"):
            await session.send_audio(b"late")
        assert [e.type for e in await collect(session)] == ["session.updated"]
        assert await collect(session) == []  # ended stays ended
        assert await session.receive() is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"source_language": "en-us"}, "target_language is required"),
        (
            {"source_language": "en-us", "target_language": "fr-fr", "speaker_setup": "changing_speakers"},
            "go with",
        ),
        ({"source_language": "auto", "source_language_candidates": ["en-us"] * 11}, "at most 10"),
        (
            {"source_language": "en-us", "target_language": "fr-fr", "model": "iris", "mode": "fast"},
            "not both",
        ),
        ({"source_language": "en-us", "target_language": "fr-fr", "output_modalities": ["video"]}, "subset"),
        ({"source_language": "en-us", "target_language": "fr-fr", "output_modalities": []}, "subset"),
        ({"source_language": "en-us", "target_language": "fr-fr", "voice": 0}, "voice must be"),
        ({"source_language": "en-us", "target_language": "fr-fr", "quiet_window": 0}, "quiet_window"),
        ({"source_language": "en-us", "target_language": 99999}, "unknown language id"),
    ],
)
async def test_bad_options_fail_before_connecting(
    live_client: AsyncCambClient, live_simulator: Simulator, options: dict[str, Any], message: str
) -> None:
    """Settings that cannot work are a ValueError, with no session opened."""
    before = len(live_simulator.live_sessions)
    with pytest.raises(ValueError, match=message):
        async with live_client.realtime.connect(**options):
            pass
    assert len(live_simulator.live_sessions) == before


# What the simulator never does: a server scripted frame by frame (tests/support.py's ScriptedServer).

CREATED = TextMessage(data=json.dumps({"type": "session.created", "session": {"id": "sess_scripted"}}))


def error(kind: str = "invalid_request_error", message: str = "nope") -> TextMessage:
    return json_text(type="error", error={"type": kind, "code": "scripted", "message": message})


async def scripted_events(*frames: Event, quiet_window: float = QUIET) -> list[LiveEvent]:
    """Every event a session yields from a server sending ``session.created`` and ``frames``."""
    with ScriptedServer(sends(CREATED, *frames, read_first=True)) as server, anyio.fail_after(5):
        realtime = Realtime(server.endpoint())
        assert "Realtime" in repr(realtime)
        async with realtime.connect(
            source_language="en-us", target_language="fr-fr", quiet_window=quiet_window
        ) as session:
            assert repr(session) == "<RealtimeSession 'sess_scripted'>"
            await session.finish()
            return await collect(session)


async def test_an_unknown_message_comes_as_a_plain_event_with_its_payload() -> None:
    """A type this SDK does not know (and the payload-less ones) come as a LiveEvent with the payload."""
    events = await scripted_events(
        json_text(type="session.starting"), json_text(type="response.new_thing", n=1)
    )
    assert [(type(e), e.raw) for e in events] == [
        (LiveEvent, {"type": "session.starting"}),
        (LiveEvent, {"type": "response.new_thing", "n": 1}),
    ]


async def test_an_error_followed_by_a_normal_close_is_fatal() -> None:
    """An error the server closes after, even with 1000, raises with the error's text."""
    with pytest.raises(LiveSessionError) as caught:
        await scripted_events(error(message="gone"), CloseConnection(code=1000))
    assert (caught.value.close_code, caught.value.reason) == (1000, "gone (invalid_request_error, scripted)")


async def test_an_error_followed_by_a_dropped_connection_is_a_connection_error() -> None:
    """An error, then the connection cut without a close: LiveConnectionError."""

    def run(peer: Peer) -> None:
        peer.receive()
        peer.send(CREATED)
        peer.send(error())
        peer.conn.close()

    with ScriptedServer(run) as server, anyio.fail_after(5), pytest.raises(LiveConnectionError):
        async with Realtime(server.endpoint()).connect(
            source_language="en-us", target_language="fr"
        ) as session:
            await collect(session)


async def test_an_error_followed_by_more_events_is_yielded_in_order() -> None:
    """A non-fatal error is yielded, and the message read after it comes next."""
    events = await scripted_events(error(), json_text(type="response.text.done", text="SO"))
    assert [step(e) for e in events] == [("error", "scripted"), ("response.text.done", "SO")]


async def test_audio_that_is_not_base64_is_a_session_error() -> None:
    """A response.audio.delta whose delta is not base64 ends the session with LiveSessionError."""
    with pytest.raises(LiveSessionError, match=r"'response\.audio\.delta' message with unreadable fields"):
        await scripted_events(json_text(type="response.audio.delta", delta="%%%"))


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ((CloseConnection(code=1000),), "before it was created"),
        ((error(message="no such voice"), CloseConnection(code=4400)), "no such voice"),
        ((error(kind="authentication_error", message="bad key"),), "bad key"),
    ],
)
async def test_no_session_without_session_created(frames: tuple[Event, ...], message: str) -> None:
    """A close, or any error, before session.created fails connect() with the server's text."""
    with (
        ScriptedServer(sends(*frames, read_first=True)) as server,
        anyio.fail_after(5),
        pytest.raises(LiveSessionError, match=message),
    ):
        async with Realtime(server.endpoint()).connect(source_language="en-us", target_language="fr-fr"):
            pass


async def test_a_server_text_echoing_the_key_is_redacted() -> None:
    """A fatal error that repeats the key shows it as [redacted], and nowhere in the exception chain."""
    with pytest.raises(LiveSessionError) as caught:
        await scripted_events(error(message=f"unknown key {API_KEY}"), CloseConnection(code=4400))
    assert caught.value.reason == "unknown key [redacted] (invalid_request_error, scripted)"
    assert_key_nowhere(caught.value)


async def test_a_cancellation_while_waiting_for_events_closes_the_socket(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """A session waiting for the server is left at once when its caller is cancelled."""
    with anyio.move_on_after(0.3) as scope:
        async with live_client.realtime.connect(source_language="en-us", target_language="fr-fr") as session:
            await collect(session)  # no audio, no finish(): only the cancellation ends this
    assert scope.cancelled_caught
    await session_ended(live_simulator)
