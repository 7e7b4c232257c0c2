"""client.live_transcription over real WebSockets against the simulator, on asyncio and trio."""

from __future__ import annotations

import struct
import time
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import anyio
import pytest
from support import API_KEY, ScriptedServer, assert_key_nowhere, json_text, sends, session_ended, write_wav
from wsproto.events import BytesMessage, CloseConnection

from camb_async import (
    AuthenticationError,
    LiveConnectionError,
    LiveEvent,
    LiveSessionError,
    LiveTranscript,
    LiveTranscriptionSession,
    LiveTranscriptWord,
    LiveUtteranceEnd,
    PaymentRequiredError,
)
from camb_async._live.transcription import LiveTranscription
from camb_async.testing import LiveFaults, LiveSettings

if TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncIterable, AsyncIterator, Iterable

    from wsproto.events import Event

    from camb_async import AsyncCambClient
    from camb_async.testing import Simulator

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

MIB = 1024 * 1024
AudioSource: TypeAlias = "bytes | str | pathlib.Path | Iterable[bytes] | AsyncIterable[bytes]"


def alaw_wav(frames: bytes) -> bytes:
    """An 8-bit A-law mono WAV at 8 kHz, as bytes."""
    fmt = struct.pack("<HHIIHHH", 6, 1, 8000, 8000, 1, 8, 0)
    body = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(frames)) + frames
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def finals(results: list[LiveTranscript]) -> list[str]:
    return [r.transcript for r in results if r.is_final]


async def collect(session: LiveTranscriptionSession) -> list[LiveEvent]:
    return [event async for event in session]


async def send_and_collect(camb: AsyncCambClient, audio: bytes, **options: Any) -> list[LiveEvent]:
    """One session: ``audio`` sent, then ``finish()``; every event."""
    async with camb.live_transcription.connect(**options) as session:
        await session.send_audio(audio)
        await session.finish()
        return await collect(session)


async def transcripts_of(
    camb: AsyncCambClient, audio: AudioSource, *, into: list[LiveTranscript] | None = None, **options: Any
) -> list[LiveTranscript]:
    """What ``transcribe(audio)`` yields (also appended to ``into`` as it comes)."""
    got = [] if into is None else into
    async with camb.live_transcription.transcribe(audio, **options) as results:
        async for result in results:
            got.append(result)
    return got


async def test_a_session_streams_audio_and_yields_typed_results_until_the_close(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """connect() → send_audio() → finish(): cumulative interims, finals, UtteranceEnd, then the end."""
    async with live_client.live_transcription.connect(
        language="en-us", model="boli-v5", encoding="linear16", sample_rate=16000, channels=1
    ) as session:
        assert session.session_id
        await session.send_audio(b"hello big world. and")
        await session.send_audio(b" more")
        await session.finish()
        events = await collect(session)
    steps = [
        (type(e).__name__, e.transcript, e.is_final) if isinstance(e, LiveTranscript) else (type(e).__name__,)
        for e in events
    ]
    assert steps == [
        ("LiveTranscript", "hello", False),
        ("LiveTranscript", "hello big", False),
        ("LiveTranscript", "hello big world.", False),
        ("LiveTranscript", "hello big world.", True),
        ("LiveUtteranceEnd",),
        ("LiveTranscript", "and", False),
        ("LiveTranscript", "and more", False),
        ("LiveTranscript", "and more", True),
        ("LiveUtteranceEnd",),
    ]
    first = events[3]
    assert isinstance(first, LiveTranscript)
    assert first.type == "Results"
    assert first.words == [
        LiveTranscriptWord(word="hello", start=0.0, end=0.4, confidence=0.99),
        LiveTranscriptWord(word="big", start=0.5, end=0.9, confidence=0.99),
        LiveTranscriptWord(word="world.", start=1.0, end=1.4, confidence=0.99),
    ]
    assert isinstance(first.raw, dict)
    assert first.raw["type"] == "Results"
    end = events[4]
    assert isinstance(end, LiveUtteranceEnd)
    assert (end.type, end.last_word_end) == ("UtteranceEnd", 1.4)
    record = live_simulator.live_sessions[-1]
    assert record.query == "language=en-us&model=boli-v5&encoding=linear16&sample_rate=16000&channels=1"
    assert (record.key_source, record.received, record.close_code) == (
        "header",
        ["binary", "binary", "CloseStream"],
        1000,
    )


async def test_a_language_id_becomes_its_locale_and_a_string_goes_as_given(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """35 is sent as en-gb; a locale string is not rewritten; unset options are left out."""
    for language, sent in ((35, "en-gb"), ("EN-US", "EN-US")):
        async with live_client.live_transcription.connect(language=language) as session:
            await session.finish()
            assert await collect(session) == []
        assert live_simulator.live_sessions[-1].query == f"language={sent}"


async def test_audio_is_split_into_frames_of_at_most_one_mebibyte(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """2.5 MiB go as three binary frames (the simulator refuses a bigger one with 4400)."""
    async with live_client.live_transcription.connect() as session:
        await session.send_audio(b"\0" * (2 * MIB + MIB // 2 - 4) + b"end.")
        await session.finish()
        events = await collect(session)
    assert [e.transcript for e in events if isinstance(e, LiveTranscript)] == ["end.", "end."]
    assert live_simulator.live_sessions[-1].received == ["binary"] * 3 + ["CloseStream"]


async def test_keepalive_holds_the_session_open_through_a_silence(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """The server ends a session 0.5 s after the last message; KeepAlive every 0.15 s outlasts that."""
    live_simulator.set_live_settings(LiveSettings(listen_idle_close=0.5))
    async with live_client.live_transcription.connect(keepalive_interval=0.15) as session:
        await session.send_audio(b"before ")
        await anyio.sleep(1.2)
        await session.send_audio(b"after.")
        await session.finish()
        events = await collect(session)
    assert finals([e for e in events if isinstance(e, LiveTranscript)]) == ["before after."]
    received = live_simulator.live_sessions[-1].received
    assert received[0] == "binary"
    assert received[-2:] == ["binary", "CloseStream"]
    assert received[1:-2] == ["KeepAlive"] * len(received[1:-2])
    assert len(received[1:-2]) >= 4


async def test_without_keepalive_the_silence_ends_the_session(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """keepalive_interval=None sends none: the server flushes and closes after its idle window."""
    live_simulator.set_live_settings(LiveSettings(listen_idle_close=0.3))
    async with live_client.live_transcription.connect(keepalive_interval=None) as session:
        await session.send_audio(b"lonely")
        events = await collect(session)
    assert finals([e for e in events if isinstance(e, LiveTranscript)]) == ["lonely"]
    assert live_simulator.live_sessions[-1].received == ["binary"]


async def test_no_keepalive_goes_while_audio_flows(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """Audio every 0.05 s with a 0.5 s interval: the session sends no KeepAlive."""
    async with live_client.live_transcription.connect(keepalive_interval=0.5) as session:
        for _ in range(12):
            await session.send_audio(b"\0")
            await anyio.sleep(0.05)
        await session.finish()
        await collect(session)
    assert "KeepAlive" not in live_simulator.live_sessions[-1].received


async def test_transcribe_bytes_yields_only_transcripts(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """transcribe(bytes): the transcript events only (no UtteranceEnd), then finish() is sent."""
    async with live_client.live_transcription.transcribe(b"one two. three") as results:
        got = [(r.transcript, r.is_final) async for r in results]
    assert got == [
        ("one", False),
        ("one two.", False),
        ("one two.", True),
        ("three", False),
        ("three", True),
    ]
    assert live_simulator.live_sessions[-1].received == ["binary", "CloseStream"]


async def test_transcribe_a_wav_path_takes_its_format_and_sends_only_its_frames(
    live_client: AsyncCambClient, live_simulator: Simulator, tmp_path: pathlib.Path
) -> None:
    """A WAV's header sets encoding, rate and channels; its bytes never reach the server
    (the simulator would hear "RIFF" and "WAVEfmt" as words)."""
    path = write_wav(tmp_path / "speech.wav", b"from a file. ok!", rate=8000, channels=2)
    for audio in (path, str(path), path.read_bytes()):
        async with live_client.live_transcription.transcribe(audio, language="en-us") as results:
            got = finals([r async for r in results])
        assert got == ["from a file.", "ok!"]
        assert (
            live_simulator.live_sessions[-1].query
            == "language=en-us&encoding=linear16&sample_rate=8000&channels=2"
        )


async def test_transcribe_an_a_law_wav_declares_alaw(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """An A-law WAV is sent with encoding=alaw, its frames only."""
    async with live_client.live_transcription.transcribe(alaw_wav(b"law.")) as results:
        assert finals([r async for r in results]) == ["law."]
    assert live_simulator.live_sessions[-1].query == "encoding=alaw&sample_rate=8000&channels=1"


async def test_a_keyword_matching_the_header_is_fine(
    live_client: AsyncCambClient, live_simulator: Simulator, tmp_path: pathlib.Path
) -> None:
    """Keywords equal to the header's values are accepted."""
    path = write_wav(tmp_path / "speech.wav", b"same.", rate=8000, channels=2)
    async with live_client.live_transcription.transcribe(
        path, encoding="linear16", sample_rate=8000, channels=2
    ) as results:
        assert finals([r async for r in results]) == ["same."]


@pytest.mark.parametrize(
    ("keyword", "value"), [("sample_rate", 16000), ("channels", 1), ("encoding", "linear32")]
)
async def test_a_keyword_contradicting_the_header_fails_before_connecting(
    live_client: AsyncCambClient,
    live_simulator: Simulator,
    tmp_path: pathlib.Path,
    keyword: str,
    value: object,
) -> None:
    """A rate, channel count or encoding other than the WAV's is a ValueError, and no session opens."""
    path = write_wav(tmp_path / "speech.wav", b"x.", rate=8000, channels=2)
    before = len(live_simulator.live_sessions)
    with pytest.raises(ValueError, match=f"{keyword}=.* contradicts the WAV header"):
        async with live_client.live_transcription.transcribe(path, **{keyword: value}):  # type: ignore[arg-type]
            pass
    assert len(live_simulator.live_sessions) == before


async def test_an_unsupported_or_missing_file_fails_before_connecting(
    live_client: AsyncCambClient, live_simulator: Simulator, tmp_path: pathlib.Path
) -> None:
    """A non-WAV path is a ValueError, a missing one a FileNotFoundError, with no session opened."""
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    before = len(live_simulator.live_sessions)
    with pytest.raises(ValueError, match="not a WAV file"):
        async with live_client.live_transcription.transcribe(text):
            pass
    with pytest.raises(FileNotFoundError):
        async with live_client.live_transcription.transcribe(tmp_path / "missing.wav"):
            pass
    with pytest.raises(TypeError, match="audio must be bytes"):
        async with live_client.live_transcription.transcribe(12):  # type: ignore[arg-type]
            pass
    assert len(live_simulator.live_sessions) == before


async def test_transcribe_streams_an_async_source_while_results_come(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """A microphone-like async source: a result arrives before the source has ended."""
    heard = anyio.Event()

    async def microphone() -> AsyncIterator[bytes]:
        yield b"first. "
        with anyio.fail_after(5):
            await heard.wait()  # the source stays open until the first final came back
        yield b"second."

    got: list[str] = []
    async with live_client.live_transcription.transcribe(microphone()) as results:
        async for result in results:
            if result.is_final:
                got.append(result.transcript)
                heard.set()
    assert got == ["first.", "second."]


async def test_transcribe_takes_a_plain_iterable(live_client: AsyncCambClient) -> None:
    """An iterable of chunks (bytearray and memoryview too) is sent in order."""
    chunks = cast("list[bytes]", [b"split ", bytearray(b"in"), memoryview(b" chunks.")])
    async with live_client.live_transcription.transcribe(chunks) as results:
        assert finals([r async for r in results]) == ["split in chunks."]


async def test_a_failing_source_raises_its_own_error_in_the_caller(live_client: AsyncCambClient) -> None:
    """The source's exception reaches the caller as it is (not in an exception group)."""

    async def broken() -> AsyncIterator[bytes]:
        yield b"partial "
        raise OSError("microphone unplugged")

    with anyio.fail_after(5), pytest.raises(OSError, match="microphone unplugged"):
        await transcripts_of(live_client, broken())


async def test_a_chunk_that_is_not_bytes_is_a_type_error(live_client: AsyncCambClient) -> None:
    """A str chunk is refused with a TypeError in the caller."""
    with anyio.fail_after(5), pytest.raises(TypeError, match="audio chunks must be bytes"):
        await transcripts_of(live_client, cast("list[bytes]", [b"ok ", "text"]))


async def test_a_refused_key_is_an_authentication_error(live_simulator: Simulator) -> None:
    """Error + close 4401: AuthenticationError and LiveSessionError, the key nowhere in it."""
    from camb_async import AsyncCambClient

    live_simulator.set_live_faults(LiveFaults(reject_key=True))
    async with AsyncCambClient(API_KEY, base_url=live_simulator.url) as camb:
        with pytest.raises(AuthenticationError) as caught:
            async with camb.live_transcription.connect():
                pass
    error = caught.value
    assert isinstance(error, LiveSessionError)
    assert (error.status_code, error.close_code) == (401, 4401)
    assert cast("object", error.response) is None
    assert "Invalid or missing API key" in (error.reason or "")
    assert "4401" in str(error)
    for text in (str(error), repr(error), repr(error.args), repr(error.__cause__), repr(error.__context__)):
        assert API_KEY not in text


async def test_a_bad_setting_is_the_servers_4400(live_client: AsyncCambClient) -> None:
    """An encoding the server does not take is refused by the server: LiveSessionError 4400."""
    with pytest.raises(LiveSessionError) as caught:
        async with live_client.live_transcription.connect(encoding="mp3"):
            pass
    assert caught.value.close_code == 4400
    assert "encoding must be one of" in (caught.value.reason or "")


async def test_an_error_close_mid_stream_raises(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """A close with an error code after some results raises LiveSessionError with code and reason."""
    live_simulator.set_live_faults(LiveFaults(close_after=3, close_code=4402, close_reason="out of credits"))
    got: list[LiveTranscript] = []
    with pytest.raises(PaymentRequiredError) as caught:
        await transcripts_of(live_client, b"a b c d e", into=got)
    assert [r.transcript for r in got] == ["a", "a b"]
    assert isinstance(caught.value, LiveSessionError)
    assert (caught.value.close_code, caught.value.reason) == (4402, "out of credits")
    assert "4402" in str(caught.value)
    assert "out of credits" in str(caught.value)


async def test_a_dropped_connection_raises_within_seconds(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """A connection cut without a close frame is a LiveConnectionError, never a quiet end or a hang."""
    live_simulator.set_live_faults(LiveFaults(drop_after=2))
    start = time.monotonic()
    with anyio.fail_after(10), pytest.raises(LiveConnectionError) as caught:
        await send_and_collect(live_client, b"a b c d", keepalive_interval=None)
    assert time.monotonic() - start < 5
    assert caught.value.close_code is None


async def test_ready_waits_at_most_ready_timeout(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """A server slow to say Ready is a TimeoutError after ready_timeout."""
    live_simulator.set_live_faults(LiveFaults(frame_delay=2.0))
    with anyio.fail_after(5), pytest.raises(TimeoutError):
        async with live_client.live_transcription.connect(ready_timeout=0.2):
            pass


async def test_leaving_the_block_early_closes_the_socket(
    live_client: AsyncCambClient, live_simulator: Simulator
) -> None:
    """A break out of the results closes the session at once; so does a cancellation."""
    async with live_client.live_transcription.transcribe(b"one two three four") as results:
        async for _ in results:
            break
    await session_ended(live_simulator)
    with anyio.move_on_after(0.3):
        async with live_client.live_transcription.connect() as session:
            await collect(session)  # the server sends nothing: only the cancellation ends this
    await session_ended(live_simulator)
    assert live_simulator.live_sessions[-1].close_code is None  # the client left; the server never closed


async def test_send_audio_after_finish_is_an_error(live_client: AsyncCambClient) -> None:
    """After finish() the stream is closed: more audio is a RuntimeError."""
    async with live_client.live_transcription.connect() as session:
        await session.finish()
        await session.finish()  # again: nothing more is sent
        with pytest.raises(RuntimeError, match="after finish"):
            await session.send_audio(b"late")
        assert await session.receive() is None  # the server closed: nothing was pending
        assert await session.receive() is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sample_rate": 0}, "sample_rate must be a positive int"),
        ({"channels": True}, "channels must be a positive int"),
        ({"keepalive_interval": 0}, "keepalive_interval must be > 0"),
        ({"language": 99999}, "unknown language id"),
    ],
)
async def test_bad_options_fail_before_connecting(
    live_client: AsyncCambClient, live_simulator: Simulator, options: dict[str, object], message: str
) -> None:
    """Values that cannot be right are a ValueError, with no session opened."""
    before = len(live_simulator.live_sessions)
    with pytest.raises(ValueError, match=message):
        async with live_client.live_transcription.connect(**options):  # type: ignore[arg-type]
            pass
    assert len(live_simulator.live_sessions) == before


# What the simulator never does: a server scripted frame by frame (tests/support.py's ScriptedServer).


async def scripted_events(*frames: Event) -> list[LiveEvent]:
    """Every event a session yields from a server sending ``Ready`` and then ``frames``."""
    with ScriptedServer(sends(json_text(type="Ready"), *frames)) as server, anyio.fail_after(5):
        async with LiveTranscription(server.endpoint()).connect(keepalive_interval=None) as session:
            assert "LiveTranscriptionSession" in repr(session)
            return await collect(session)


async def test_an_unknown_message_comes_as_a_plain_event_with_its_payload() -> None:
    """A type this SDK does not know is yielded as a LiveEvent keeping the payload, never an error."""
    events = await scripted_events(json_text(type="SpeechStarted", timestamp=1.5), CloseConnection(code=1000))
    assert [(type(e), e.type, e.raw) for e in events] == [
        (LiveEvent, "SpeechStarted", {"type": "SpeechStarted", "timestamp": 1.5})
    ]


async def test_a_server_error_message_raises_with_its_text_and_the_close_code() -> None:
    """Error then close 4400: LiveSessionError whose reason is the message (and its code)."""
    with pytest.raises(LiveSessionError) as caught:
        await scripted_events(
            json_text(type="Error", code="bad_audio", message="cannot decode"), CloseConnection(4400)
        )
    assert (caught.value.close_code, caught.value.reason) == (4400, "cannot decode (bad_audio)")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (BytesMessage(data=b"\x00"), "a binary frame"),
        (json_text(type="Results", is_final="perhaps"), "'Results' message with unreadable fields"),
    ],
)
async def test_a_message_the_protocol_does_not_allow_is_a_session_error(frame: Event, message: str) -> None:
    """A binary frame, or a Results whose fields do not fit, ends the session with LiveSessionError."""
    with pytest.raises(LiveSessionError, match=message):
        await scripted_events(frame)


async def test_a_close_before_ready_is_a_session_error() -> None:
    """A server that closes normally without sending Ready did not open the session."""
    with ScriptedServer(sends(CloseConnection(code=1000))) as server, anyio.fail_after(5):
        resource = LiveTranscription(server.endpoint())
        assert "LiveTranscription" in repr(resource)
        with pytest.raises(LiveSessionError, match="before it was ready"):
            async with resource.connect():
                pass


async def test_a_server_text_echoing_the_key_is_redacted() -> None:
    """An Error message that repeats the key shows it as [redacted], and nowhere in the exception chain."""
    with pytest.raises(LiveSessionError) as caught:
        await scripted_events(json_text(type="Error", message=f"bad key {API_KEY}"), CloseConnection(4401))
    assert caught.value.reason == "bad key [redacted]"
    assert_key_nowhere(caught.value)


async def test_a_wav_file_is_streamed_in_chunks(
    live_client: AsyncCambClient, live_simulator: Simulator, tmp_path: pathlib.Path
) -> None:
    """A 100 KiB WAV goes out in 32 KiB chunks as it is read, never whole."""
    path = write_wav(tmp_path / "long.wav", b"\0" * (100 * 1024 - 6) + b"done. ", rate=8000, channels=1)
    assert [r.transcript for r in await transcripts_of(live_client, path)] == ["done.", "done."]
    assert live_simulator.live_sessions[-1].received == ["binary"] * 4 + ["CloseStream"]


async def test_concurrent_sessions_on_one_client_each_get_their_own_results(
    live_client: AsyncCambClient,
) -> None:
    """Twenty sessions at once on one client: each transcript is exactly its own audio's."""
    got: dict[int, list[str]] = {}

    async def one(n: int) -> None:
        got[n] = finals(await transcripts_of(live_client, f"session {n} speaking. bye {n}".encode()))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tasks:
            for n in range(20):
                tasks.start_soon(one, n)
    assert got == {n: [f"session {n} speaking.", f"bye {n}"] for n in range(20)}
