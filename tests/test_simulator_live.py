"""The simulator's live sessions over real WebSockets, with the bare ``websockets`` client (and httpx-ws on trio)."""

from __future__ import annotations

import base64
import contextlib
import json
import struct
import time
from typing import Any

import anyio
import httpx
import pytest
import websockets
from support import LIVE_KEY
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from camb_async.testing import LiveFaults, LiveSettings, Simulator
from camb_async.testing._live_text import Listener

pytestmark = pytest.mark.integration

TTS = "/apis/live-tts/ws"
LISTEN = "/apis/transcription/listen"
REALTIME = "/v1/realtime"

Frame = str | bytes


@pytest.fixture
def anyio_backend() -> str:
    """The bare ``websockets`` client runs on asyncio; the httpx-ws tests parametrize trio too."""
    return "asyncio"


def url(sim: Simulator, path: str, query: str = "") -> str:
    return f"ws://127.0.0.1:{sim.port}{path}" + (f"?{query}" if query else "")


def connect(sim: Simulator, path: str, query: str = "", key: str | None = LIVE_KEY) -> ws_connect:
    headers = {} if key is None else {"x-api-key": key}
    return ws_connect(
        url(sim, path, query), additional_headers=headers, proxy=None, open_timeout=5, close_timeout=2
    )


async def rest(ws: ClientConnection, seconds: float = 5.0) -> list[Frame]:
    """Every frame until the server closes, normally or not (within ``seconds``)."""
    frames: list[Frame] = []
    with anyio.fail_after(seconds), contextlib.suppress(websockets.ConnectionClosedError):
        async for frame in ws:
            frames.append(frame)
    return frames


async def until(ws: ClientConnection, kind: str, seconds: float = 5.0) -> list[Frame]:
    """Frames up to and including the first JSON one of type ``kind``."""
    frames: list[Frame] = []
    with anyio.fail_after(seconds):
        while True:
            frame = await ws.recv()
            frames.append(frame)
            if isinstance(frame, str) and json.loads(frame)["type"] == kind:
                return frames


def kinds(frames: list[Frame]) -> list[str]:
    return ["binary" if isinstance(f, bytes) else json.loads(f)["type"] for f in frames]


def events(frames: list[Frame], kind: str) -> list[dict[str, Any]]:
    return [e for f in frames if isinstance(f, str) for e in [json.loads(f)] if e["type"] == kind]


def audio(frames: list[Frame]) -> bytes:
    return b"".join(f for f in frames if isinstance(f, bytes))


async def send(ws: ClientConnection, kind: str, **fields: object) -> None:
    await ws.send(json.dumps({"type": kind, **fields}))


def append(data: bytes) -> str:
    return json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(data).decode()})


async def start_tts(ws: ClientConnection, **fields: object) -> dict[str, Any]:
    await send(ws, "session.start", **({"voice_id": 7} | fields))
    ready: dict[str, Any] = json.loads(await ws.recv())
    assert ready["type"] == "session.ready"
    return ready


async def open_realtime(ws: ClientConnection, **session: object) -> dict[str, Any]:
    given = {"source_language": "en-us", "target_language": "fr-fr"} | session
    await send(ws, "session.update", session=given)
    created, updated = json.loads(await ws.recv()), json.loads(await ws.recv())
    assert (created["type"], updated["type"]) == ("session.created", "session.updated")
    return dict(created["session"])


# ---------------------------------------------------------------- live TTS


@pytest.mark.anyio
async def test_tts_voices_each_sentence_in_order_then_ends_with_1000(live_key_sim: Simulator) -> None:
    """Sentences become segments in order (start, audio = the text's UTF-8, done); text.done flushes the rest."""
    async with connect(live_key_sim, TTS) as ws:
        ready = await start_tts(ws, language="fr-fr", output_format="wav")
        assert ready["config"]["voice_id"] == 7
        assert ready["config"]["output_format"] == "wav"
        assert isinstance(ready["session_id"], str)
        assert isinstance(ready["run_id"], int)
        await send(ws, "text.chunk", text="Héllo wor")
        await send(ws, "text.chunk", text="ld! How are")
        await send(ws, "text.chunk", text=" you?\nFine")
        await send(ws, "text.done")
        frames = await rest(ws)
        assert ws.close_code == 1000
    starts = events(frames, "segment.start")
    assert [s["text"] for s in starts] == ["Héllo world!", "How are you?", "Fine"]
    assert [s["segment_id"] for s in starts] == [0, 1, 2]
    assert kinds(frames) == ["segment.start", "binary", "segment.done"] * 3 + ["session.done"]
    assert audio(frames) == "Héllo world!How are you?Fine".encode()


@pytest.mark.anyio
async def test_tts_flushes_a_fragment_after_idle_timeout(live_key_sim: Simulator) -> None:
    """A fragment with no sentence end is voiced after the session's idle_timeout, without text.done."""
    async with connect(live_key_sim, TTS) as ws:
        await start_tts(ws, idle_timeout=0.2, word_timestamps=True)
        began = time.monotonic()
        await send(ws, "text.chunk", text="no end here")
        frames = await until(ws, "segment.done")
        assert time.monotonic() - began >= 0.2
        await send(ws, "text.done")
        frames += await rest(ws)
    start = events(frames, "segment.start")[0]
    assert start["text"] == "no end here"
    assert [w["word"] for w in start["word_timestamps"]] == ["no", "end", "here"]
    assert kinds(frames)[-1] == "session.done"


@pytest.mark.anyio
async def test_tts_audio_multiplier_splits_frames_at_the_frame_size(live_key_sim: Simulator) -> None:
    """The multiplier repeats a segment's audio; no binary frame exceeds 65536 bytes."""
    live_key_sim.set_live_settings(LiveSettings(audio_multiplier=50_000))
    async with connect(live_key_sim, TTS) as ws:
        await start_tts(ws)
        await send(ws, "text.chunk", text="Hi there.")
        await send(ws, "text.done")
        frames = await rest(ws)
    binary = [f for f in frames if isinstance(f, bytes)]
    assert max(len(f) for f in binary) == 65536
    assert audio(frames) == b"Hi there." * 50_000


@pytest.mark.anyio
async def test_tts_stops_sending_once_the_client_leaves(live_key_sim: Simulator) -> None:
    """A client that leaves mid-segment ends the session at once: the server does not send on into the void."""
    live_key_sim.set_live_settings(LiveSettings(audio_multiplier=10_000_000))  # 90 MB if it went on
    async with connect(live_key_sim, TTS) as ws:
        await start_tts(ws)
        await send(ws, "text.chunk", text="Hi there.")
        await until(ws, "segment.start")
        assert isinstance(await ws.recv(), bytes)
    record = live_key_sim.live_sessions[-1]
    with anyio.fail_after(5):
        while not record.ended:
            await anyio.sleep(0.01)
            record = live_key_sim.live_sessions[-1]
    assert record.frames_sent < 1000
    assert record.close_code is None


@pytest.mark.anyio
async def test_tts_key_in_the_query_is_accepted_and_recorded(live_key_sim: Simulator) -> None:
    """The api_key query parameter stands in for the header."""
    async with connect(live_key_sim, TTS, f"api_key={LIVE_KEY}", key=None) as ws:
        await start_tts(ws)
    record = live_key_sim.live_sessions[-1]
    assert (record.protocol, record.key_source, record.received) == ("live_tts", "query", ["session.start"])


@pytest.mark.anyio
@pytest.mark.parametrize("key", ["sk-wrong", None])
async def test_tts_bad_key_gets_session_error_then_4401(live_key_sim: Simulator, key: str | None) -> None:
    """A wrong or missing key: session.error, then close 4401."""
    async with connect(live_key_sim, TTS, key=key) as ws:
        frames = await rest(ws)
    assert kinds(frames) == ["session.error"]
    assert ws.close_code == 4401


@pytest.mark.anyio
@pytest.mark.parametrize(
    "first",
    [
        json.dumps({"type": "text.chunk", "text": "hi"}),
        json.dumps({"type": "session.start", "voice_id": 0}),
        json.dumps({"type": "session.start", "voice_id": "7"}),
        json.dumps({"type": "session.start", "voice_id": 7, "language": "xx-yy"}),
        json.dumps({"type": "session.start", "voice_id": 7, "output_format": "ogg"}),
        json.dumps({"type": "session.start", "voice_id": 7, "idle_timeout": 0}),
        json.dumps({"type": "session.start", "voice_id": 7, "word_timestamps": "yes"}),
        json.dumps({"type": "session.start", "voice_id": 7, "apply_enhancement": 1}),
        json.dumps({"type": "session.start", "voice_id": 7, "sample_rate": 1.5}),
        "not json",
        b"\x00\x01",
    ],
)
async def test_tts_bad_first_frame_gets_session_error_then_4400(
    live_key_sim: Simulator, first: Frame
) -> None:
    """A first frame that is not a valid session.start: session.error, then 4400."""
    async with connect(live_key_sim, TTS) as ws:
        await ws.send(first)
        frames = await rest(ws)
    assert kinds(frames) == ["session.error"]
    assert ws.close_code == 4400


@pytest.mark.anyio
@pytest.mark.parametrize(
    "frame", [json.dumps({"type": "text.chunk", "text": 3}), json.dumps({"type": "what"}), b"audio?"]
)
async def test_tts_bad_frame_mid_session_gets_4400(live_key_sim: Simulator, frame: Frame) -> None:
    """A binary, unknown or malformed frame after session.start ends the session with 4400."""
    async with connect(live_key_sim, TTS) as ws:
        await start_tts(ws)
        await ws.send(frame)
        frames = await rest(ws)
    assert kinds(frames) == ["session.error"]
    assert ws.close_code == 4400


@pytest.mark.anyio
async def test_tts_waits_for_session_start_only_so_long(live_key_sim: Simulator) -> None:
    """No session.start within first_message_timeout: session.error, then 4400."""
    live_key_sim.set_live_settings(LiveSettings(first_message_timeout=0.2))
    async with connect(live_key_sim, TTS) as ws:
        frames = await rest(ws)
    assert kinds(frames) == ["session.error"]
    assert ws.close_code == 4400


@pytest.mark.anyio
async def test_tts_skipped_segment_fault(live_key_sim: Simulator) -> None:
    """A skipped segment is answered by segment.skipped with its text; the others are voiced."""
    live_key_sim.set_live_faults(LiveFaults(skip_segments=frozenset({1})))
    async with connect(live_key_sim, TTS) as ws:
        await start_tts(ws)
        await send(ws, "text.chunk", text="One. Two. Three.")
        await send(ws, "text.done")
        frames = await rest(ws)
    assert events(frames, "segment.skipped") == [{"type": "segment.skipped", "segment_id": 1, "text": "Two."}]
    assert audio(frames) == b"One.Three."


# ---------------------------------------------------------------- live transcription


@pytest.mark.anyio
@pytest.mark.parametrize("path", [LISTEN, "/streaming-transcription/listen"])
async def test_transcription_interims_grow_and_finals_end_utterances(
    live_key_sim: Simulator, path: str
) -> None:
    """Interim Results are cumulative per utterance; "." and CloseStream give finals and UtteranceEnd."""
    async with connect(
        live_key_sim, path, "model=boli-v5&encoding=linear16&sample_rate=16000&channels=1"
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "Ready"
        await ws.send(b"hello wor")
        await ws.send(b"ld. and\x00\x00more")
        await send(ws, "CloseStream")
        frames = await rest(ws)
        assert ws.close_code == 1000
    results = [
        (r["is_final"], r["channel"]["alternatives"][0]["transcript"]) for r in events(frames, "Results")
    ]
    assert results == [
        (False, "hello"),
        (False, "hello world."),
        (True, "hello world."),
        (False, "and"),
        (False, "and more"),
        (True, "and more"),
    ]
    assert kinds(frames).count("UtteranceEnd") == 2
    final = events(frames, "Results")[-1]
    assert [(w["word"], w["start"], w["end"]) for w in final["channel"]["alternatives"][0]["words"]] == [
        ("and", 1.0, 1.4),
        ("more", 1.5, 1.9),
    ]
    assert final["start"] == 1.0
    assert final["duration"] == 0.9


@pytest.mark.anyio
async def test_transcription_closes_after_the_idle_window_keepalive_holds_it(live_key_sim: Simulator) -> None:
    """KeepAlive counts as activity; after listen_idle_close seconds of nothing, pending words are final, then 1000."""
    live_key_sim.set_live_settings(LiveSettings(listen_idle_close=0.4))
    async with connect(live_key_sim, LISTEN) as ws:
        await ws.recv()
        await ws.send(b"still here")
        for _ in range(3):
            await anyio.sleep(0.2)
            await send(ws, "KeepAlive")
        frames = await rest(ws)
    assert ws.close_code == 1000
    assert [r["is_final"] for r in events(frames, "Results")] == [False, False, True]
    assert live_key_sim.live_sessions[-1].received == ["binary", "KeepAlive", "KeepAlive", "KeepAlive"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("query", "key", "code"),
    [
        ("", "sk-wrong", 4401),
        ("encoding=ogg", LIVE_KEY, 4400),
        ("sample_rate=0", LIVE_KEY, 4400),
        ("channels=two", LIVE_KEY, 4400),
        ("language=", LIVE_KEY, 4400),
    ],
)
async def test_transcription_refusals_send_error_then_close(
    live_key_sim: Simulator, query: str, key: str, code: int
) -> None:
    """A bad key or query: an Error message, then the close code."""
    async with connect(live_key_sim, LISTEN, query, key=key) as ws:
        frames = await rest(ws)
    assert kinds(frames) == ["Error"]
    assert ws.close_code == code


@pytest.mark.anyio
@pytest.mark.parametrize("message", [b"x" * (1024 * 1024 + 1), json.dumps({"type": "Finish"}), "{"])
async def test_transcription_bad_messages_get_4400(live_key_sim: Simulator, message: Frame) -> None:
    """A message over 1 MiB, or text that is not KeepAlive/CloseStream: Error, then 4400."""
    async with connect(live_key_sim, LISTEN) as ws:
        await ws.recv()
        await ws.send(message)
        frames = await rest(ws)
    assert kinds(frames) == ["Error"]
    assert ws.close_code == 4400


# ---------------------------------------------------------------- realtime


@pytest.mark.anyio
async def test_realtime_with_the_key_in_session_update_translates_each_utterance(
    live_key_sim: Simulator,
) -> None:
    """camb-sdk's way: no header, auth in session.update; transcript deltas, then upper-cased text and audio."""
    async with connect(live_key_sim, REALTIME, "mode=fast", key=None) as ws:
        await send(
            ws,
            "session.update",
            auth={"api_key": LIVE_KEY},
            session={"source_language": "en-us", "target_language": "de-de", "voice": {"voice_id": 3}},
        )
        await ws.send(append(b"good bye."))
        frames = await until(ws, "response.audio.done")
    assert events(frames, "response.text.done")[0]["text"] == "GOOD BYE."
    assert audio(frames) == b"GOOD BYE."
    created = events(frames, "session.created")[0]["session"]
    assert created["mode"] == "fast"
    assert created["voice"] == {"voice_id": 3}
    assert kinds(frames[:2]) == ["session.created", "session.updated"]
    assert live_key_sim.live_sessions[-1].key_source == "message"


@pytest.mark.anyio
async def test_realtime_output_is_deterministic(live_key_sim: Simulator) -> None:
    """Deltas add up to the transcript; the translation is the transcript upper-cased, as text and audio."""
    async with connect(live_key_sim, REALTIME) as ws:
        await open_realtime(ws)
        await ws.send(append(b"hello wo"))
        await ws.send(append(b"rld. next"))
        frames = await until(ws, "response.audio.done")
        frames += await until(ws, "response.audio.done")  # "next" after realtime_flush without audio
    assert kinds(frames) == [
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
        "response.text.delta",
        "response.text.delta",
        "response.text.done",
        "binary",
        "response.audio.done",
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
        "response.text.delta",
        "response.text.done",
        "binary",
        "response.audio.done",
    ]
    deltas = events(frames, "conversation.item.input_audio_transcription.delta")
    assert "".join(d["delta"] for d in deltas[:2]) == "hello world."
    assert [d["text"] for d in events(frames, "response.text.done")] == ["HELLO WORLD.", "NEXT"]
    assert "".join(d["delta"] for d in events(frames, "response.text.delta")[:2]) == "HELLO WORLD."
    assert audio(frames) == b"HELLO WORLD.NEXT"


@pytest.mark.anyio
async def test_realtime_audio_as_base64_json_and_text_only(live_key_sim: Simulator) -> None:
    """realtime_audio="base64" sends audio in JSON deltas; output_modalities selects what comes."""
    live_key_sim.set_live_settings(LiveSettings(realtime_audio="base64"))
    async with connect(live_key_sim, REALTIME) as ws:
        await open_realtime(ws, output_modalities=["audio"])
        await ws.send(append(b"hi."))
        frames = await until(ws, "response.audio.done")
    assert kinds(frames)[-2:] == ["response.audio.delta", "response.audio.done"]
    assert base64.b64decode(events(frames, "response.audio.delta")[0]["delta"]) == b"HI."
    assert "response.text.done" not in kinds(frames)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("query", "session", "mode"), [("mode=slow", {}, "slow"), ("", {"model": "lilac"}, "slow")]
)
async def test_realtime_slow_mode_starts_with_session_starting(
    live_key_sim: Simulator, query: str, session: dict[str, str], mode: str
) -> None:
    """Slow mode (by mode, or an old model codename) sends session.starting before session.created."""
    async with connect(live_key_sim, REALTIME, query) as ws:
        languages = {"source_language": "en-us", "target_language": "fr-fr"}
        await send(ws, "session.update", session=languages | session)
        frames = await until(ws, "session.updated")
    assert kinds(frames) == ["session.starting", "session.created", "session.updated"]
    assert events(frames, "session.created")[0]["session"]["mode"] == mode


@pytest.mark.anyio
async def test_realtime_header_key_wins_over_the_message(live_key_sim: Simulator) -> None:
    """A wrong header key fails even with a right key in session.update; a right one passes a wrong message key."""
    async with connect(live_key_sim, REALTIME, key="sk-wrong") as ws:
        with contextlib.suppress(websockets.ConnectionClosedError):  # the server may have closed already
            await send(ws, "session.update", auth={"api_key": LIVE_KEY}, session={"source_language": "en-us"})
        frames = await rest(ws)
    assert events(frames, "error")[0]["error"]["type"] == "authentication_error"
    assert ws.close_code == 4401
    async with connect(live_key_sim, REALTIME) as ws:
        await send(
            ws,
            "session.update",
            auth={"api_key": "sk-wrong"},
            session={"source_language": "en-us", "target_language": "ja-jp"},
        )
        assert json.loads(await ws.recv())["type"] == "session.created"
    assert live_key_sim.live_sessions[-1].key_source == "header"


@pytest.mark.anyio
async def test_realtime_without_any_key_gets_authentication_error(live_key_sim: Simulator) -> None:
    """No header, no query key, no auth in session.update: authentication_error, then 4401."""
    async with connect(live_key_sim, REALTIME, key=None) as ws:
        await send(ws, "session.update", session={"source_language": "en-us", "target_language": "ja-jp"})
        frames = await rest(ws)
    assert [e["error"]["type"] for e in events(frames, "error")] == ["authentication_error"]
    assert ws.close_code == 4401


@pytest.mark.anyio
async def test_realtime_non_fatal_errors_leave_the_session_open(live_key_sim: Simulator) -> None:
    """Audio before session.created, an unknown event and ignored binary frames: the session goes on."""
    async with connect(live_key_sim, REALTIME) as ws:
        await ws.send(append(b"too early"))
        early = json.loads(await ws.recv())
        await ws.send(b"binary frames are ignored")
        await open_realtime(ws)
        await send(ws, "conversation.item.create")
        unknown = json.loads(await ws.recv())
        await send(ws, "input_audio_buffer.ignore_for_language_detection", item_id="item_1")
        await ws.send(append(b"fine."))
        frames = await until(ws, "response.audio.done")
    assert early["error"]["code"] == "session_not_ready"
    assert unknown["error"]["code"] == "unknown_event"
    assert events(frames, "response.text.done")[0]["text"] == "FINE."


@pytest.mark.anyio
async def test_realtime_later_session_update_changes_the_source_language(live_key_sim: Simulator) -> None:
    """A later session.update is answered by session.updated, and source_language_changed when it changed."""
    async with connect(live_key_sim, REALTIME) as ws:
        first = await open_realtime(ws)
        await send(ws, "session.update", session={"source_language": "es-es"})
        updated = json.loads(await ws.recv())
        changed = json.loads(await ws.recv())
    assert updated["session"] | {"source_language": "en-us"} == first
    assert changed == {
        "type": "session.source_language_changed",
        "language": "es-es",
        "previous_language": "en-us",
    }


@pytest.mark.anyio
async def test_realtime_auto_source_only_transcribes(live_key_sim: Simulator) -> None:
    """An "auto" source with no target: transcripts (with the detected language), no translation."""
    async with connect(live_key_sim, REALTIME) as ws:
        await open_realtime(ws, source_language="auto", target_language="")
        await ws.send(append(b"hola."))
        frames = await until(ws, "conversation.item.input_audio_transcription.completed")
        await ws.send(append(b"x."))
        frames += await until(ws, "conversation.item.input_audio_transcription.completed")
    completed = events(frames, "conversation.item.input_audio_transcription.completed")[0]
    assert completed["language"] == "en-us"
    assert completed["passthrough"] is False
    assert "response.text.delta" not in kinds(frames)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("session", "code"),
    [
        ({"source_language": "en-us"}, "unsupported_language"),
        ({"source_language": "xx", "target_language": "fr-fr"}, "unsupported_language"),
        ({"source_language": "en-us", "target_language": "fr-fr", "mode": "turbo"}, "invalid_mode"),
        (
            {"source_language": "en-us", "target_language": "fr-fr", "output_modalities": ["video"]},
            "invalid_modalities",
        ),
        (
            {"source_language": "en-us", "target_language": "fr-fr", "voice": {"voice_id": "x"}},
            "invalid_voice",
        ),
        (None, "invalid_session"),
    ],
)
async def test_realtime_bad_session_config_gets_4400(
    live_key_sim: Simulator, session: object, code: str
) -> None:
    """A session.update the server cannot use: an invalid_request_error, then 4400."""
    async with connect(live_key_sim, REALTIME) as ws:
        await send(ws, "session.update", session=session)
        frames = await rest(ws)
    error = events(frames, "error")[0]["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", code)
    assert ws.close_code == 4400


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("message", "code"),
    [
        (json.dumps({"type": "input_audio_buffer.append", "audio": "not base64!"}), "invalid_audio"),
        (json.dumps({"type": "input_audio_buffer.append", "audio": None}), "invalid_audio"),
        (append(b"x" * (256 * 1024 + 1)), "audio_too_large"),
        (json.dumps({"type": "x", "pad": "y" * (1024 * 1024)}), "message_too_large"),
        ("[1, 2]", "invalid_json"),
    ],
)
async def test_realtime_fatal_messages_get_4400(live_key_sim: Simulator, message: str, code: str) -> None:
    """Bad base64, an append over 256 KiB, a message over 1 MiB or not an object: error, then 4400."""
    async with connect(live_key_sim, REALTIME) as ws:
        await open_realtime(ws)
        await ws.send(append(b"x" * (256 * 1024)))  # the limit itself is fine
        await ws.send(message)
        frames = await rest(ws)
    assert events(frames, "error")[-1]["error"]["code"] == code
    assert ws.close_code == 4400


@pytest.mark.anyio
async def test_realtime_waits_for_session_update_only_so_long(live_key_sim: Simulator) -> None:
    """No session.update within first_message_timeout: an error, then 4400."""
    live_key_sim.set_live_settings(LiveSettings(first_message_timeout=0.2))
    async with connect(live_key_sim, REALTIME) as ws:
        frames = await rest(ws)
    assert events(frames, "error")[0]["error"]["code"] == "session_update_timeout"
    assert ws.close_code == 4400


# ---------------------------------------------------------------- faults and settings


@pytest.mark.anyio
async def test_drop_after_cuts_the_connection_without_a_close_frame(live_key_sim: Simulator) -> None:
    """drop_after=N: N frames, then the TCP connection ends with no close frame."""
    live_key_sim.set_live_faults(LiveFaults(drop_after=2))
    async with connect(live_key_sim, TTS) as ws:
        await start_tts(ws)
        await send(ws, "text.chunk", text="One. Two.")
        received = [await ws.recv()]
        with pytest.raises(websockets.ConnectionClosedError) as caught:
            await ws.recv()
    assert caught.value.rcvd is None  # no close frame from the server
    assert kinds(received) == ["segment.start"]
    assert live_key_sim.live_sessions[-1].frames_sent == 2
    assert live_key_sim.live_sessions[-1].close_code is None


@pytest.mark.anyio
async def test_close_after_closes_with_the_code_and_reason(live_key_sim: Simulator) -> None:
    """close_after=N: N frames, then a close with the given code and reason."""
    live_key_sim.set_live_faults(LiveFaults(close_after=1, close_code=4402, close_reason="no credits"))
    async with connect(live_key_sim, LISTEN) as ws:
        frames = await rest(ws)
    assert kinds(frames) == ["Ready"]
    assert (ws.close_code, ws.close_reason) == (4402, "no credits")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "first", "kind"),
    [
        (TTS, json.dumps({"type": "session.start", "voice_id": 1}), "session.error"),
        (LISTEN, None, "Error"),
        (REALTIME, json.dumps({"type": "session.update", "session": {"source_language": "auto"}}), "error"),
    ],
)
async def test_close_error_sends_the_protocols_error_before_the_close(
    live_key_sim: Simulator, path: str, first: str | None, kind: str
) -> None:
    """close_error: the protocol's own error message with that text, then the close."""
    live_key_sim.set_live_faults(LiveFaults(close_after=1, close_code=4402, close_error="out of credits"))
    async with connect(live_key_sim, path) as ws:
        if first is not None:
            await ws.send(first)
        frames = await rest(ws)
    assert kinds(frames)[1:] == [kind]
    assert "out of credits" in str(frames[1])
    assert ws.close_code == 4402


@pytest.mark.anyio
async def test_frame_delay_slows_every_frame(live_key_sim: Simulator) -> None:
    """frame_delay holds each server frame back that long."""
    live_key_sim.set_live_faults(LiveFaults(frame_delay=0.1))
    began = time.monotonic()
    async with connect(live_key_sim, TTS) as ws:
        await start_tts(ws)
        await send(ws, "text.chunk", text="Slow.")
        await until(ws, "segment.done")
    assert time.monotonic() - began >= 0.4  # ready, start, one frame, done


@pytest.mark.anyio
async def test_error_after_injects_a_non_fatal_realtime_error(live_key_sim: Simulator) -> None:
    """error_after=N: an error event right after frame N; the session goes on."""
    live_key_sim.set_live_faults(LiveFaults(error_after=2))
    async with connect(live_key_sim, REALTIME) as ws:
        await send(ws, "session.update", session={"source_language": "en-us", "target_language": "fr-fr"})
        await ws.send(append(b"ok."))
        frames = await until(ws, "response.audio.done")
    assert kinds(frames)[:3] == ["session.created", "session.updated", "error"]
    assert events(frames, "error")[0]["error"]["code"] == "simulated_error"


@pytest.mark.anyio
async def test_faults_apply_only_to_the_protocols_named(live_key_sim: Simulator) -> None:
    """Faults scoped to realtime leave live TTS alone."""
    live_key_sim.set_live_faults(LiveFaults(reject_key=True, protocols=frozenset({"realtime"})))
    async with connect(live_key_sim, TTS) as ws:
        await start_tts(ws)
    async with connect(live_key_sim, REALTIME) as ws:
        frames = await rest(ws)  # the header's key is refused at once
    assert ws.close_code == 4401
    assert kinds(frames) == ["error"]


@pytest.mark.anyio
async def test_reject_key_refuses_the_right_key(live_key_sim: Simulator) -> None:
    """reject_key refuses every key, the right one too."""
    live_key_sim.set_live_faults(LiveFaults(reject_key=True))
    async with connect(live_key_sim, LISTEN) as ws:
        frames = await rest(ws)
    assert kinds(frames) == ["Error"]
    assert ws.close_code == 4401


@pytest.mark.parametrize(("status", "location"), [(401, None), (302, "http://localhost:9/apis/live-tts/ws")])
def test_refuse_answers_the_upgrade_with_an_http_status(
    live_key_sim: Simulator, status: int, location: str | None
) -> None:
    """refuse (and location) answer the upgrade request itself: no WebSocket, no redirect followed."""
    live_key_sim.set_live_faults(LiveFaults(refuse=status, location=location))
    headers = {
        "connection": "Upgrade",
        "upgrade": "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": base64.b64encode(b"0123456789abcdef").decode(),
        "x-api-key": LIVE_KEY,
    }
    answer = httpx.get(url(live_key_sim, TTS).replace("ws://", "http://"), headers=headers, timeout=5)
    assert answer.status_code == status
    assert answer.headers.get("location") == location


@pytest.mark.anyio
async def test_unknown_path_is_refused_with_404_and_upgrades_are_logged(live_key_sim: Simulator) -> None:
    """A WebSocket to an unknown path gets a 404; every upgrade is counted and logged as a GET."""
    before = live_key_sim.request_count
    with pytest.raises(websockets.InvalidStatus) as caught:
        async with connect(live_key_sim, "/apis/nowhere"):
            pass
    assert caught.value.response.status_code == 404
    assert live_key_sim.request_count == before + 1
    assert (live_key_sim.request_log[-1].method, live_key_sim.request_log[-1].path) == (
        "GET",
        "/apis/nowhere",
    )


@pytest.mark.anyio
async def test_timestamps_stamp_json_and_binary_frames(live_key_sim: Simulator) -> None:
    """timestamps: JSON frames carry sent_at, binary frames 8 leading bytes of time.time() (">d")."""
    live_key_sim.set_live_settings(LiveSettings(timestamps=True))
    began = time.time()
    async with connect(live_key_sim, TTS) as ws:
        ready = await start_tts(ws)
        await send(ws, "text.chunk", text="Now.")
        frames = await until(ws, "segment.done")
    binary = next(f for f in frames if isinstance(f, bytes))
    (stamp,) = struct.unpack(">d", binary[:8])
    assert binary[8:] == b"Now."
    assert began <= ready["sent_at"] <= stamp <= time.time()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_live_tts_over_httpx_ws_on_both_backends(live_key_sim: Simulator) -> None:
    """The simulator serves any client on any event loop: httpx-ws on asyncio and trio."""
    from httpx_ws import AsyncWebSocketSession, aconnect_ws

    ws: AsyncWebSocketSession
    async with (
        httpx.AsyncClient(headers={"x-api-key": LIVE_KEY}) as client,
        aconnect_ws(url(live_key_sim, TTS).replace("ws://", "http://"), client) as ws,
    ):
        await ws.send_json({"type": "session.start", "voice_id": 1})
        assert (await ws.receive_json())["type"] == "session.ready"
        await ws.send_json({"type": "text.chunk", "text": "Trio too."})
        start = await ws.receive_json()
        data = await ws.receive_bytes()
        done = await ws.receive_json()
    assert (start["type"], data, done["type"]) == ("segment.start", b"Trio too.", "segment.done")


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_in_process_sessions_through_httpx_ws_asgi_transport(live_key_simulator: Simulator) -> None:
    """live_key_sim.app serves live sessions in process (httpx-ws's ASGI transport), on asyncio and trio.

    A realtime utterance with no "." is completed after realtime_flush; a refused upgrade, which
    that transport cannot answer with an HTTP status, is a close 1008 before the upgrade.
    """
    from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
    from httpx_ws.transport import ASGIWebSocketTransport

    ws: AsyncWebSocketSession
    transport = ASGIWebSocketTransport(live_key_simulator.app)
    async with httpx.AsyncClient(transport=transport, headers={"x-api-key": LIVE_KEY}) as client:
        async with aconnect_ws("http://simulator/v1/realtime", client) as ws:
            session = {"source_language": "en-us", "target_language": "fr-fr", "output_modalities": ["text"]}
            await ws.send_json({"type": "session.update", "session": session})
            await ws.send_text(append(b"no full stop"))
            received: list[str] = []
            with anyio.fail_after(5):
                while not received or received[-1] != "response.text.done":
                    received.append((await ws.receive_json())["type"])
        assert received[-3:] == ["response.text.delta", "response.text.delta", "response.text.done"]
        live_key_simulator.set_live_faults(LiveFaults(refuse=401))
        try:
            with pytest.raises(WebSocketDisconnect) as refused:
                async with aconnect_ws("http://simulator/v1/realtime", client):
                    pass
            assert refused.value.code == 1008
        finally:
            live_key_simulator.set_live_faults(None)


# ---------------------------------------------------------------- settings and units


@pytest.mark.parametrize(
    "options",
    [
        {"audio_multiplier": 0},
        {"audio_multiplier": True},
        {"realtime_audio": "hex"},
        {"frame_size": 0},
        {"listen_idle_close": 0},
        {"first_message_timeout": float("inf")},
        {"realtime_flush": "1"},
        {"utterance_words": 0},
    ],
)
def test_live_settings_refuse_bad_values(options: dict[str, Any]) -> None:
    """LiveSettings checks its values."""
    with pytest.raises(ValueError, match=next(iter(options))):
        LiveSettings(**options)


@pytest.mark.parametrize(
    "options",
    [
        {"refuse": 200},
        {"close_code": 1006},
        {"close_reason": "x" * 124},
        {"drop_after": -1},
        {"error_after": 1.5},
        {"frame_delay": -0.1},
        {"protocols": frozenset({"live_music"})},
    ],
)
def test_live_faults_refuse_bad_values(options: dict[str, Any]) -> None:
    """LiveFaults checks its values."""
    with pytest.raises(ValueError, match=next(iter(options)).split("_")[0]):
        LiveFaults(**options)


def test_simulator_exposes_live_settings_and_faults(live_key_simulator: Simulator) -> None:
    """The settings and faults in force read back; None restores the defaults."""

    def in_force() -> tuple[LiveFaults | None, LiveSettings]:
        return live_key_simulator.live_faults, live_key_simulator.live_settings

    faults, settings = LiveFaults(drop_after=3), LiveSettings(timestamps=True)
    live_key_simulator.set_live_faults(faults)
    live_key_simulator.set_live_settings(settings)
    assert in_force() == (faults, settings)
    live_key_simulator.set_live_faults(None)
    live_key_simulator.set_live_settings(None)
    assert in_force() == (None, LiveSettings())
    assert live_key_simulator.realtime_url == f"http://127.0.0.1:{live_key_simulator.port}"


def test_live_controls_over_http(live_key_sim: Simulator) -> None:
    """/_sim/live reads, sets and resets the settings and faults, for a simulator in another process."""
    control = f"http://127.0.0.1:{live_key_sim.port}/_sim/live"
    body = {
        "settings": {"audio_multiplier": 4},
        "faults": {"skip_segments": [2, 1], "protocols": ["live_tts"]},
    }
    answer = httpx.post(control, json=body, timeout=5).json()
    assert answer["settings"]["audio_multiplier"] == 4
    assert (answer["faults"]["skip_segments"], answer["faults"]["protocols"]) == ([1, 2], ["live_tts"])
    assert live_key_sim.live_faults == LiveFaults(
        skip_segments=frozenset({1, 2}), protocols=frozenset({"live_tts"})
    )
    assert httpx.post(control, json={"faults": None}, timeout=5).json()["faults"] is None
    assert live_key_sim.live_settings.audio_multiplier == 4  # settings left as they were
    assert httpx.get(control, timeout=5).json()["sessions"] == len(live_key_sim.live_sessions)
    assert (
        httpx.delete(control, timeout=5).json()["settings"]
        == httpx.get(control, timeout=5).json()["settings"]
    )
    assert live_key_sim.live_settings == LiveSettings()
    for bad in (
        {"settings": {"volume": 2}},
        {"faults": {"drop_after": "x"}},
        {"faults": {"close_code": "x"}},
        [1],
    ):
        assert httpx.post(control, json=bad, timeout=5).status_code == 400
    assert httpx.put(control, json={}, timeout=5).status_code == 405


def test_listener_reads_words_and_utterances() -> None:
    """Printable ASCII makes words, other bytes separate them, "." ends an utterance; flush ends the rest."""
    listener = Listener(max_words=2)
    heard = list(listener.feed(b"a b.\x00c ."))
    assert [(h.words, h.final) for h in heard][-2:] == [(("c",), False), (("c",), True)]  # " ." ends it too
    heard = list(listener.feed(b"x y z a b.\x00c"))
    assert [(h.words, h.final) for h in heard] == [
        (("x",), False),
        (("x", "y"), False),
        (("x", "y"), True),  # max_words
        (("z",), False),
        (("z", "a"), False),
        (("z", "a"), True),
        (("b.",), False),
        (("b.",), True),
    ]
    assert listener.busy
    assert [(h.words, h.final) for h in listener.flush()] == [(("c",), False), (("c",), True)]
    assert (listener.busy, list(listener.flush())) == (False, [])
