"""camb-sdk 1.6.6's live transcription and realtime sessions complete against the simulator, unchanged.

They go through camb-sdk's module-level ``connect(api_key, base_url=...)``: its
client accessors always use CAMB's own host.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

import pytest
from camb import live_transcription, realtime
from support import LIVE_KEY

from camb_async.testing import LiveSettings

if TYPE_CHECKING:
    from camb_async.testing import Simulator

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

WAIT = 5.0
# camb-sdk reads a close code through websockets' deprecated ConnectionClosed.code and .reason.
READS_DEPRECATED_CLOSE_CODE = pytest.mark.filterwarnings(
    "ignore:ConnectionClosed.(code|reason) is deprecated:DeprecationWarning"
)


async def test_live_transcription_gets_interim_and_final_results(live_key_sim: Simulator) -> None:
    """Ready, interim Results growing word by word, a final at ".", then a clean close on close()."""
    session = await live_transcription.connect(
        LIVE_KEY, base_url=live_key_sim.realtime_url, sample_rate=16000
    )
    results: list[tuple[bool, str]] = []
    closed: list[int] = []
    final = asyncio.Event()

    def on_results(event: live_transcription.ResultsEvent) -> None:
        results.append((event.is_final, event.transcript))
        if event.is_final:
            final.set()

    def on_closed(event: live_transcription.ClosedEvent) -> None:
        closed.append(event.code)

    session.on(live_transcription.ServerMessageType.RESULTS)(on_results)
    session.on(live_transcription.ServerMessageType.CLOSED)(on_closed)
    await session.wait_until_ready(WAIT)
    await session.send_audio(b"hello camb ")
    await session.keep_alive()
    await session.send_audio(b"world. ")
    await asyncio.wait_for(final.wait(), WAIT)
    await session.close()
    assert results == [
        (False, "hello"),
        (False, "hello camb"),
        (False, "hello camb world."),
        (True, "hello camb world."),
    ]
    assert closed == [1000]
    record = live_key_sim.live_sessions[-1]
    assert (record.path, record.key_source) == ("/streaming-transcription/listen", "header")
    assert record.received == ["binary", "KeepAlive", "binary", "CloseStream"]


@pytest.mark.parametrize("framing", ["binary", "base64"])
async def test_realtime_session_gets_text_and_audio(
    live_key_sim: Simulator, framing: Literal["binary", "base64"]
) -> None:
    """session.created, transcript, translated text and audio (binary frames or base64 JSON), as camb-sdk reads them."""
    live_key_sim.set_live_settings(LiveSettings(realtime_audio=framing))
    session = await realtime.connect(
        LIVE_KEY, base_url=live_key_sim.realtime_url, source_language="en-us", target_language="fr-fr"
    )
    transcripts: list[str] = []
    texts: list[str] = []
    audio: list[bytes] = []
    done = asyncio.Event()

    def on_transcript(event: realtime.TranscriptCompletedEvent) -> None:
        transcripts.append(event.transcript)

    def on_text(event: realtime.TextDoneEvent) -> None:
        texts.append(event.text)

    def on_audio(event: realtime.AudioDeltaEvent) -> None:
        audio.append(event.data)

    def on_audio_done(event: realtime.AudioDoneEvent) -> None:
        done.set()

    kinds = realtime.ServerEventType
    session.on(kinds.TRANSCRIPT_COMPLETED)(on_transcript)
    session.on(kinds.TEXT_DONE)(on_text)
    session.on(kinds.AUDIO_DELTA)(on_audio)
    session.on(kinds.AUDIO_DONE)(on_audio_done)
    await session.wait_until_ready(WAIT)
    await session.send_audio(b"bonjour le monde.")
    await asyncio.wait_for(done.wait(), WAIT)
    await session.close()
    assert (transcripts, texts, audio) == (
        ["bonjour le monde."],
        ["BONJOUR LE MONDE."],
        [b"BONJOUR LE MONDE."],
    )
    record = live_key_sim.live_sessions[-1]
    assert (record.key_source, record.query) == ("message", "mode=fast")


@READS_DEPRECATED_CLOSE_CODE
async def test_realtime_wrong_key_reaches_camb_sdk_as_an_authentication_error(
    live_key_sim: Simulator,
) -> None:
    """A wrong key: camb-sdk's error event carries authentication_error, then the socket closes 4401."""
    session = await realtime.connect(
        "sk-wrong", base_url=live_key_sim.realtime_url, source_language="en-us", target_language="fr-fr"
    )
    errors: list[str | None] = []
    closed: list[int] = []

    def on_error(event: realtime.ErrorEvent) -> None:
        errors.append(event.error_type)

    def on_closed(event: realtime.ClosedEvent) -> None:
        closed.append(event.code)

    session.on(realtime.ServerEventType.ERROR)(on_error)
    session.on(realtime.ServerEventType.CLOSED)(on_closed)
    await asyncio.wait_for(session.run_until_closed(), WAIT)
    await session.close()
    assert errors == ["authentication_error"]
    assert closed == [4401]


@READS_DEPRECATED_CLOSE_CODE
async def test_live_transcription_wrong_key_reaches_camb_sdk_as_an_error_and_4401(
    live_key_sim: Simulator,
) -> None:
    """A wrong key: camb-sdk's Error event, then the socket closes 4401."""
    session = await live_transcription.connect("sk-wrong", base_url=live_key_sim.realtime_url)
    errors: list[str | None] = []
    closed: list[int] = []

    def on_error(event: live_transcription.ErrorEvent) -> None:
        errors.append(event.code)

    def on_closed(event: live_transcription.ClosedEvent) -> None:
        closed.append(event.code)

    session.on(live_transcription.ServerMessageType.ERROR)(on_error)
    session.on(live_transcription.ServerMessageType.CLOSED)(on_closed)
    await asyncio.wait_for(session.run_until_closed(), WAIT)
    await session.close()
    assert errors == ["unauthorized"]
    assert closed == [4401]
