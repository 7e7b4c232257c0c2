"""A FastAPI app on camb_async: speech as audio, a task's progress as Server-Sent Events.

    python examples/fastapi_app.py

serves the app on a free port in front of the bundled simulator (no API key,
no network), calls each endpoint once, prints what came back and stops. To
serve it for real, against the CAMB.AI API (install ``camb-async[fastapi]`` and uvicorn):

    CAMB_API_KEY=... uvicorn fastapi_app:app --app-dir examples

* ``POST /speech`` with ``{"text": ..., "voice_id": ..., "language": ...}``
  creates a TTS task, waits for it and answers with its audio.
* ``GET /speech/{task_id}`` answers with the audio of a task made before.
* ``GET /speech/{task_id}/status`` answers with its status as JSON.
* ``GET /speech/{task_id}/events`` streams its status changes as Server-Sent Events.
* ``POST /speech/live`` with ``{"prompt": ..., "voice_id": ...}`` answers with the audio of
  an LLM's reply as it is written (live TTS; a stand-in LLM echoes the prompt).
* ``WebSocket /listen`` relays a browser's microphone (16 kHz 16-bit mono PCM in binary
  frames, then ``stop``) to live transcription and the transcripts back as JSON.

docs/fastapi.md walks through it.
"""

# [docs:client]
from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Annotated

import anyio
import httpx
import uvicorn
from fastapi import APIRouter, FastAPI, Query, Response, WebSocket
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse

from camb_async import AsyncCambClient, TaskStatus
from camb_async.integrations.fastapi import (
    CLIENT_STATE_KEY,
    CambClient,
    LiveSpeechResponse,
    TaskId,
    bad_input_as_422,
    install_exception_handlers,
    relay_transcription,
    watch_events,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Callable

WATCH_TIMEOUT = 600.0
"""The longest an events stream follows a task, in seconds."""
Wait = Annotated[float, Query(gt=0, le=120, description="How long to wait for the task, in seconds.")]
"""How long a request waits for its task: a handler never waits unbounded."""


def web_client() -> AsyncCambClient:
    """The process's one client (CAMB_API_KEY and CAMB_BASE_URL from the environment).

    ``max_outage=5``: a handler's wait gives up after 5 s of failed polls and
    answers 503, instead of riding out an outage until its deadline.
    """
    return AsyncCambClient(max_outage=5.0)


def create_app(make_client: Callable[[], AsyncCambClient] = web_client) -> FastAPI:
    """The app: one client for the process, opened and closed by the lifespan."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[dict[str, AsyncCambClient], None]:
        async with make_client() as client:
            yield {CLIENT_STATE_KEY: client}  # every request's `client: CambClient`

    app = FastAPI(title="camb-async speech", lifespan=lifespan)
    install_exception_handlers(app)  # CambErrors as 404, 502, 503, 504, ...
    app.include_router(router)
    return app


# [docs:client-end]
# [docs:speech]
router = APIRouter()


class Speech(BaseModel):
    """What ``POST /speech`` takes."""

    text: str = Field(min_length=1, max_length=3000)
    voice_id: int = Field(ge=0)
    language: str = Field(examples=["en-us"])


@router.post("/speech", response_class=Response, responses={200: {"content": {"audio/*": {}}}})
async def speak(speech: Speech, client: CambClient, wait: Wait = 30.0) -> Response:
    """Create a TTS task, wait for it, answer with its audio."""
    with bad_input_as_422():  # the SDK's own checks (an unknown language) answer 422
        task_id = await client.tts.create(
            text=speech.text, voice_id=speech.voice_id, language=speech.language
        )
    return await audio_of(client, task_id, wait)


@router.get("/speech/{task_id}", response_class=Response, responses={200: {"content": {"audio/*": {}}}})
async def speech_audio(task_id: TaskId, client: CambClient, wait: Wait = 30.0) -> Response:
    """The audio of a task made before, once it has finished."""
    return await audio_of(client, task_id, wait)


async def audio_of(client: AsyncCambClient, task_id: str, wait: float) -> Response:
    """Wait up to ``wait`` seconds for the task (504 after), then answer with its audio."""
    final = await client.tts.wait(task_id, timeout=wait)
    assert final.run_id is not None  # a SUCCESS status carries its run's id
    audio = await client.tts.result(final.run_id)
    return Response(audio, media_type=audio_type(audio), headers={"x-task-id": task_id})


def audio_type(audio: bytes) -> str:
    """The media type of TTS audio, from its first bytes."""
    if audio.startswith(b"RIFF"):
        return "audio/wav"
    if audio.startswith(b"fLaC"):
        return "audio/flac"
    if audio.startswith(b"ID3") or audio[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    return "application/octet-stream"


# [docs:speech-end]
# [docs:events]
@router.get("/speech/{task_id}/status")
async def speech_status(task_id: TaskId, client: CambClient) -> TaskStatus:
    """The task's current status."""
    return await client.tts.status(task_id)


@router.get("/speech/{task_id}/events", response_class=EventSourceResponse)
async def speech_events(task_id: TaskId, client: CambClient) -> EventSourceResponse:
    """The task's status changes as Server-Sent Events; the last one is terminal."""
    return await watch_events(client, task_id, timeout=WATCH_TIMEOUT)


# [docs:events-end]
# [docs:live]
class Prompt(BaseModel):
    """What ``POST /speech/live`` takes."""

    prompt: str = Field(min_length=1, max_length=3000)
    voice_id: int = Field(ge=0)
    language: str | None = Field(None, examples=["en-us"])


async def llm_tokens(prompt: str) -> AsyncIterator[str]:
    """A stand-in for an LLM's streamed reply: the prompt back, a token at a time."""
    for token in prompt.split(" "):
        await anyio.sleep(0.01)  # a model's time per token
        yield token + " "


@router.post(
    "/speech/live", response_class=LiveSpeechResponse, responses={200: {"content": {"audio/mpeg": {}}}}
)
async def speak_live(prompt: Prompt, client: CambClient) -> LiveSpeechResponse:
    """The audio of the LLM's reply, streamed while the reply is still being written."""
    tokens = llm_tokens(prompt.prompt)
    return LiveSpeechResponse(client, tokens, voice_id=prompt.voice_id, language=prompt.language)


@router.websocket("/listen")
async def listen(websocket: WebSocket, client: CambClient) -> None:
    """A browser's microphone in (16 kHz 16-bit mono PCM, then ``stop``), transcripts out as JSON."""
    await relay_transcription(websocket, client, encoding="linear16", sample_rate=16000, channels=1)


# [docs:live-end]
app = create_app()
"""For ``uvicorn fastapi_app:app``: the client is made at startup, from the environment."""


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncGenerator[str, None]:
    """Serve ``app`` with uvicorn on a free port of 127.0.0.1 (asyncio); yield its URL, then stop it."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:
                if server.should_exit:
                    raise RuntimeError("the app did not start (see uvicorn's log)")
                await anyio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True


async def read_events(http: httpx.AsyncClient, path: str) -> AsyncIterator[tuple[str, str]]:
    """``(event, data)`` of each Server-Sent Event of ``GET path``, as a browser's EventSource reads them."""
    async with http.stream("GET", path, headers={"accept": "text/event-stream"}) as response:
        response.raise_for_status()
        event, data = "message", ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data = line.removeprefix("data:").strip()
            elif not line and data:
                yield event, data
                event, data = "message", ""


async def main() -> None:
    """Serve the app in front of the simulator and call each endpoint once."""
    from camb_async.testing import Simulator

    async with Simulator(seed=1) as sim:
        simulated = create_app(lambda: AsyncCambClient("simulator-key", base_url=sim.url))
        async with serve(simulated) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
            print(f"serving on {url}, in front of the simulator on {sim.url}")
            speech = {"text": "Hello from FastAPI!", "voice_id": 20303, "language": "en-us"}
            answer = await http.post("/speech", json=speech)
            print(
                f"POST /speech: {answer.status_code} {answer.headers['content-type']}, {len(answer.content)} bytes"
            )

            task_id = sim.add_task([("PENDING", 0), ("PROCESSING", 0.5), ("SUCCESS", 2.0)])
            async for event, data in read_events(http, f"/speech/{task_id}/events"):
                print(f"event {event}: {json.loads(data)['status']}")

            failing = sim.add_task([("PENDING", 0), ("ERROR", 0.3)], exception_reason="PROCESSING_ERROR")
            slow = sim.add_task([("PENDING", 0), ("SUCCESS", 60)])
            for path in ("/speech/no-such-task/status", f"/speech/{failing}", f"/speech/{slow}?wait=0.5"):
                answer = await http.get(path)
                print(f"GET {path}: {answer.status_code} {answer.json()['detail']}")

            prompt = {"prompt": "Hello there. How are you today?", "voice_id": 20303}
            async with http.stream("POST", "/speech/live", json=prompt) as answer:
                sizes = [len(chunk) async for chunk in answer.aiter_bytes()]
            print(
                f"POST /speech/live: {answer.status_code} {answer.headers['content-type']}, chunks of {sizes} bytes"
            )
            await transcribe_over_websocket(url, b"hello from the browser. bye.")
    print("done")


async def transcribe_over_websocket(url: str, audio: bytes) -> None:
    """Play the browser: audio to ``/listen`` over a WebSocket, then ``stop``; print the finals."""
    try:
        from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
    except ImportError:  # the realtime extra's WebSocket client
        print("WebSocket /listen: not tried (pip install 'camb-async[realtime]' for httpx-ws)")
        return

    ws: AsyncWebSocketSession
    async with aconnect_ws(url.replace("http://", "ws://") + "/listen") as ws:
        print(f"WebSocket /listen: {(await ws.receive_json())['type']}")
        await ws.send_bytes(audio)
        await ws.send_text("stop")
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                message = await ws.receive_json()
                if message["is_final"]:
                    print(f"final transcript: {message['transcript']}")


if __name__ == "__main__":
    anyio.run(main)
