"""The FastAPI integration's live pieces (LiveSpeechResponse, relay_transcription) and the example's
live endpoints, served by uvicorn in front of the simulator, with real HTTP and WebSocket clients."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
from fastapi import FastAPI, WebSocket
from support import session_ended
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from camb_async.integrations.fastapi import (
    CLIENT_STATE_KEY,
    CambClient,
    LiveSpeechResponse,
    relay_transcription,
)
from camb_async.testing import LiveFaults

from .test_fastapi import ClientFactory, example_app, running

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator

    from websockets.asyncio.client import ClientConnection

    from camb_async.testing import Simulator

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.integration,
    pytest.mark.parametrize("anyio_backend", ["asyncio"]),  # uvicorn serves on asyncio
]

PROMPT = {"prompt": "Hello there. How are you", "voice_id": 1}


def ws_url(http: httpx.AsyncClient, path: str) -> str:
    return str(http.base_url).replace("http://", "ws://").rstrip("/") + path


async def messages(ws: ClientConnection) -> list[dict[str, Any]]:
    """Every JSON message until the server closes."""
    seen: list[dict[str, Any]] = []
    with contextlib.suppress(ConnectionClosed):
        while True:
            seen.append(json.loads(await ws.recv()))
    return seen


@contextlib.asynccontextmanager
async def live_app(
    sim: Simulator, tokens: AsyncIterator[str] | None = None
) -> AsyncGenerator[httpx.AsyncClient, None]:
    """A small app on the integration: ``GET /say`` speaks ``tokens``; ``/listen`` relays."""
    factory = ClientFactory(sim.url)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[dict[str, Any], None]:
        async with factory() as client:
            yield {CLIENT_STATE_KEY: client}

    app = FastAPI(lifespan=lifespan)

    @app.get("/say")
    async def say(client: CambClient) -> LiveSpeechResponse:
        assert tokens is not None
        return LiveSpeechResponse(client, tokens, voice_id=1, output_format="wav")

    @app.websocket("/listen")
    async def listen(websocket: WebSocket, client: CambClient) -> None:
        await relay_transcription(websocket, client)

    async with running(app) as http:
        yield http


# -- an LLM's token stream as streamed audio ----------------------------------------------------


async def test_live_speech_answers_every_segment_in_order(live_simulator: Simulator) -> None:
    """POST /speech/live: the reply's audio, byte for byte, each token sent as it came."""
    async with example_app(live_simulator.url) as http:
        answer = await http.post("/speech/live", json=PROMPT)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "audio/mpeg"
    assert answer.content == b"Hello there.How are you"
    record = live_simulator.live_sessions[-1]
    assert record.received == ["session.start", *["text.chunk"] * 5, "text.done"]


async def test_the_first_audio_goes_out_while_the_source_still_runs(live_simulator: Simulator) -> None:
    """The first sentence's audio reaches the HTTP client before the source gives the second."""
    more = anyio.Event()

    async def tokens() -> AsyncIterator[str]:
        yield "First sentence. "
        await more.wait()
        yield "Second."

    async with live_app(live_simulator, tokens()) as http, http.stream("GET", "/say") as answer:
        assert answer.headers["content-type"] == "audio/wav"
        chunks = answer.aiter_bytes()
        with anyio.fail_after(5):
            assert await anext(chunks) == b"First sentence."
        more.set()
        assert b"".join([chunk async for chunk in chunks]) == b"Second."


@pytest.mark.parametrize(
    ("faults", "voice_id", "status", "detail"),
    [
        (LiveFaults(reject_key=True), 1, 502, "refused this service's API key"),
        (None, 0, 422, "refused the live session"),
        (LiveFaults(close_after=1, close_code=4402, close_reason="no credits"), 1, 503, "no CAMB.AI credits"),
    ],
)
async def test_a_failure_before_the_first_audio_is_an_http_answer(
    live_simulator: Simulator, faults: LiveFaults | None, voice_id: int, status: int, detail: str
) -> None:
    """A refused key, a refused voice or no credits: a JSON answer with the status the table gives."""
    live_simulator.set_live_faults(faults)
    async with example_app(live_simulator.url) as http:
        answer = await http.post("/speech/live", json={**PROMPT, "voice_id": voice_id})
    assert answer.status_code == status, answer.text
    assert detail in answer.json()["detail"]


@pytest.mark.parametrize("faults", [LiveFaults(drop_after=4), LiveFaults(skip_segments={1})])
async def test_a_failure_after_the_first_audio_breaks_the_transfer_off(
    live_simulator: Simulator, faults: LiveFaults
) -> None:
    """A drop or a skipped segment mid-way: the body is never completed, so it cannot pass for whole."""
    live_simulator.set_live_faults(faults)
    async with example_app(live_simulator.url) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/speech/live", json=PROMPT)


async def test_the_http_client_leaving_closes_the_session(live_simulator: Simulator) -> None:
    """An endless source: once the HTTP client goes away, the session ends at once."""

    async def endless() -> AsyncIterator[str]:
        while True:
            yield "More. "
            await anyio.sleep(0.01)

    async with live_app(live_simulator, endless()) as http:
        async with http.stream("GET", "/say") as answer:
            assert await anext(answer.aiter_bytes()) == b"More."
            index = len(live_simulator.live_sessions) - 1
        await session_ended(live_simulator, index)


# -- a browser's microphone to live transcription ------------------------------------------------


async def test_listen_relays_audio_and_transcripts(live_simulator: Simulator) -> None:
    """WebSocket /listen: ready, the audio in, interim and final transcripts back, then a close 1000."""
    async with example_app(live_simulator.url) as http, connect(ws_url(http, "/listen")) as ws:
        assert json.loads(await ws.recv()) == {"type": "ready"}
        await ws.send(b"hello wor")
        await ws.send(b"ld. this is live.")
        await ws.send("stop")
        seen = await messages(ws)
        assert ws.close_code == 1000
    assert {m["type"] for m in seen} == {"transcript"}
    assert [m["transcript"] for m in seen if m["is_final"]] == ["hello world.", "this is live."]
    assert any(not m["is_final"] for m in seen)
    assert seen[-1]["words"][-1]["word"] == "live."
    record = live_simulator.live_sessions[-1]
    assert "sample_rate=16000" in record.query
    assert record.received[-1] == "CloseStream"


@pytest.mark.parametrize(
    ("faults", "status"),
    [(LiveFaults(reject_key=True), 502), (LiveFaults(close_after=2, close_code=1011), 502)],
)
async def test_listen_failures_are_an_error_message_and_close_1011(
    live_simulator: Simulator, faults: LiveFaults, status: int
) -> None:
    """A refused key or an error close: `{"type": "error", ...}` then close 1011; the key nowhere."""
    live_simulator.set_live_faults(faults)
    async with live_app(live_simulator) as http, connect(ws_url(http, "/listen")) as ws:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(b"one two three four five.")
        seen = await messages(ws)
        assert ws.close_code == 1011
    error = seen[-1]
    assert (error["type"], error["status_code"]) == ("error", status)
    assert "sk-" not in error["detail"]


async def test_the_browser_leaving_closes_the_session(live_simulator: Simulator) -> None:
    """The browser closes mid-stream: the relayed session ends at once."""
    async with live_app(live_simulator) as http:
        async with connect(ws_url(http, "/listen")) as ws:
            assert json.loads(await ws.recv()) == {"type": "ready"}
            await ws.send(b"hello there")
            index = len(live_simulator.live_sessions) - 1
        await session_ended(live_simulator, index)
