"""Helpers shared by the test modules (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import io
import json
import os
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
import wave
from typing import TYPE_CHECKING, Any, Protocol, cast

import anyio
import anyio.to_thread
import httpx
import pexpect
import pytest
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, TextMessage

from benchmarks import _redis
from camb_async import AsyncCambClient, TaskStatus
from camb_async._live._endpoint import LiveEndpoint
from camb_async.testing import Simulator

if TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncGenerator, Awaitable, Callable

    import respx
    from typing_extensions import Self
    from wsproto.events import Event

    from camb_async import TaskFamily
    from camb_async.testing import LiveRecord

BASE_URL = "https://camb.test/apis"
API_KEY = "sk-test-SECRET-never-shown"
LIVE_KEY = "sk-live-right"
"""The only key :func:`conftest.live_key_simulator` takes."""

SEGMENTS: dict[TaskFamily, str] = {
    "tts": "tts",
    "dubbing": "dub",
    "translation": "translate",
    "transcription": "transcribe",
    "text_to_sound": "text-to-sound",
    "text_to_voice": "text-to-voice",
    "audio_separation": "audio-separation",
    "subtitles": "sub",
    "story": "story",
    "project_setup": "project-setup",
    "translated_tts": "translated-tts",
    "translated_story": "translated-story",
    "dubbing_alt_format": "dub-alt-format",
}
"""Each task family's path segment: ``POST /{segment}`` creates, ``GET /{segment}/{id}`` polls."""


def typed(
    call: Callable[[AsyncCambClient], Awaitable[object]],
) -> Callable[[AsyncCambClient], Awaitable[object]]:
    """``call`` as it is: gives a lambda in a parameter list its types."""
    return call


def httpcore_pools(client: AsyncCambClient) -> list[Any]:
    """The httpcore connection pools behind ``client``'s httpx client (the SDK's own
    client splits its connections over several; a user's ``httpx.AsyncClient`` has one)."""
    transport = cast("Any", client._requester._pool.http)._transport
    inner = getattr(transport, "pools", [transport])  # ShardedTransport, or httpx.AsyncHTTPTransport
    return [shard._pool for shard in inner]


@contextlib.asynccontextmanager
async def make_client(router: respx.Router, **options: Any) -> AsyncGenerator[AsyncCambClient, None]:
    """A client sending through ``router`` via httpx.MockTransport, with extra client ``options``."""
    http = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    async with http, AsyncCambClient(API_KEY, base_url=BASE_URL, http_client=http, **options) as camb:
        yield camb


class _LocalServer:
    """A threaded TCP server on 127.0.0.1 whose ``_handle(conn)`` serves each connection.
    Use it as a context manager; ``url`` is a base URL for the client."""

    def __init__(self) -> None:
        local = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                local._handle(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=type(self).__name__, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/apis"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError


def _read_head(conn: socket.socket, data: bytes) -> tuple[bytes, bytes] | None:
    """Read from ``conn`` (after ``data``, already read) up to the end of a request's head:
    the head and what came after it, or ``None`` if the client closed first."""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


class HangUpServer(_LocalServer):
    """Reads each HTTP request whole, counts it, and closes the connection without a byte of
    answer: the server had the request, the client never learns what became of it.
    ``reset=True`` closes with a TCP reset."""

    def __init__(self, *, reset: bool = False) -> None:
        self.reset = reset
        self.requests: list[bytes] = []
        super().__init__()

    def _handle(self, conn: socket.socket) -> None:
        read = _read_head(conn, b"")
        if read is None:
            return
        head, body = read
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        self.requests.append(head.split(b"\r\n", 1)[0])
        if self.reset:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()


class AnswerServer(_LocalServer):
    """Answers each HTTP request with the next of ``answers`` (raw HTTP/1.1 bytes; the last
    one again once they run out), after ``delay`` seconds, on connections kept open. It
    records each request's head (``heads``)."""

    def __init__(self, answers: list[bytes], *, delay: float = 0.0) -> None:
        self.answers = answers
        self.delay = delay
        self.heads: list[bytes] = []
        super().__init__()

    def _handle(self, conn: socket.socket) -> None:
        data = b""
        while True:
            read = _read_head(conn, data)
            if read is None:
                return
            head, data = read
            self.heads.append(head)
            time.sleep(self.delay)
            answer = self.answers[min(len(self.heads), len(self.answers)) - 1]
            try:
                conn.sendall(answer)
            except OSError:
                return


def answer(status: str, body: bytes = b"", *headers: str) -> bytes:
    """A raw HTTP/1.1 answer with a ``Content-Length`` (unless ``headers`` say chunked)."""
    lines = [f"HTTP/1.1 {status}", *headers]
    if not any(h.lower().startswith("transfer-encoding:") for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def refused_url() -> str:
    """A base URL on 127.0.0.1 whose port nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/apis"


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on (for the moment)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer(_redis.RedisServer):
    """Debian's redis-server on 127.0.0.1 (see ``benchmarks/_redis.py``), started and stopped
    by the tests. Skips the test when redis-server is not installed."""

    def __init__(self, folder: pathlib.Path) -> None:
        if _redis.program() is None:
            pytest.skip("no redis-server: apt-get install redis-server (the nox integrations session does)")
        super().__init__(folder)


class SilentServer(_LocalServer):
    """Accepts connections and reads what comes, never answering: a Redis that hangs."""

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        with contextlib.suppress(OSError):
            while conn.recv(65536):
                pass

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])


def parse_multipart(
    request: httpx.Request,
) -> tuple[dict[str, str | list[str]], dict[str, tuple[str, bytes]]]:
    """A ``multipart/form-data`` request's form fields (strings; a repeated field as the list
    of its values) and file parts (field -> ``(filename, bytes)``), read with the stdlib
    ``email`` parser. Fails the test if the body is not multipart."""
    import email.parser
    import email.policy

    content_type = request.headers.get("content-type", "")
    assert content_type.startswith("multipart/form-data"), f"not a multipart body: {content_type!r}"
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    assert message.is_multipart()
    fields: dict[str, str | list[str]] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        assert isinstance(name, str), f"a part without a name: {part!r}"
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        filename = part.get_filename()
        if filename is not None:
            assert name not in files, f"file part {name!r} sent twice"
            files[name] = (filename, payload)
            continue
        value = payload.decode()
        before = fields.get(name)
        if before is None:
            fields[name] = value
        elif isinstance(before, list):
            before.append(value)
        else:
            fields[name] = [before, value]
    return fields, files


MEDIA = b"\x00\x01fake media\xff" * 1000
"""The bytes the creates below upload."""


def finished_run(sim: Simulator, family: str, request: dict[str, object]) -> int:
    """The run id of a finished task of ``family`` (a parent run for the families built on one)."""
    task_id = sim.add_task([("SUCCESS", 0.0)], family=family, request=request)
    run_id = sim.record(task_id, family=family).run_id
    assert run_id is not None
    return run_id


async def _create_translated_story(client: AsyncCambClient, sim: Simulator) -> str:
    story_run = finished_run(sim, "story", {"source_language": "1", "title": "A tale"})
    task_id = await client.translated_story.create(run_id=story_run, target_language="es-es")
    assert isinstance(task_id, str)
    return task_id


async def _create_alt_format(client: AsyncCambClient, sim: Simulator) -> str:
    dub_run = finished_run(sim, "dubbing", {"video_url": "https://v.test/a.mp4", "source_language": 1})
    task_id = await client.dubbing_alt_format.create(run_id=dub_run, language="en-us", output_format="mp3")
    assert isinstance(task_id, str)
    return task_id


CREATE: dict[TaskFamily, Callable[[AsyncCambClient, Simulator], Awaitable[str]]] = {
    "tts": lambda c, _: c.tts.create(text="Hello", voice_id=1, language="en-us"),
    "dubbing": lambda c, _: c.dubbing.create(
        video_url="https://v.test/a.mp4", source_language=1, target_languages=["es-es", "fr-fr"]
    ),
    "translation": lambda c, _: c.translation.create(
        texts=["Hello", "World"], source_language=1, target_language="es-es"
    ),
    "transcription": lambda c, _: c.transcription.create(language="auto", media=io.BytesIO(MEDIA)),
    "text_to_sound": lambda c, _: c.text_to_sound.create(prompt="rain on a tin roof", duration=3.0),
    "text_to_voice": lambda c, _: c.text_to_voice.create(
        text="Hi there", voice_description="a warm low voice"
    ),
    "audio_separation": lambda c, _: c.audio_separation.create(media=io.BytesIO(MEDIA)),
    "subtitles": lambda c, _: c.subtitles.create(
        media_url="https://v.test/a.mp4", source_language="en-us", target_languages=["fr-fr"]
    ),
    "story": lambda c, _: c.story.create(
        file=io.BytesIO(b"Once upon a time."), source_language=1, title="A tale"
    ),
    "project_setup": lambda c, _: c.project_setup.create(
        media_url="https://v.test/a.mp4", source_language=1, target_languages=[54]
    ),
    "translated_tts": lambda c, _: c.translated_tts.create(
        text="Hello", voice_id=1, source_language=1, target_language=54
    ),
    "translated_story": _create_translated_story,
    "dubbing_alt_format": _create_alt_format,
}
"""How to create a task of each family against the simulator (its result is checked elsewhere)."""


def arrivals(sim: Simulator) -> list[float]:
    """When each API request reached ``sim`` (its request log's ``/apis/`` paths)."""
    return [record.at for record in sim.request_log if record.path.startswith("/apis/")]


def pcm_wav(frames: bytes, *, rate: int = 16000, channels: int = 1, width: int = 2) -> bytes:
    """A PCM WAV of ``frames``, written by the stdlib ``wave`` module."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return out.getvalue()


def write_wav(path: pathlib.Path, frames: bytes, *, rate: int = 16000, channels: int = 1) -> pathlib.Path:
    """A 16-bit PCM WAV of ``frames`` at ``path``."""
    path.write_bytes(pcm_wav(frames, rate=rate, channels=channels))
    return path


def leftovers(folder: pathlib.Path) -> list[str]:
    """Every file in ``folder``: a download must leave nothing but its target."""
    return sorted(path.name for path in folder.iterdir())


def partly_written(folder: pathlib.Path) -> bool:
    """Whether a download's temporary file in ``folder`` has received bytes."""
    return any(path.suffix == ".part" and path.stat().st_size > 0 for path in folder.iterdir())


HTTPX_UNCLOSED_ITERATORS = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <async_generator object "
    r"(Response\.aiter_raw|BoundAsyncStream\.__aiter__|AsyncResponseStream\.__aiter__|PoolByteStream\.__aiter__"
    r"|HTTP11ConnectionByteStream\.__aiter__|AsyncHTTP11Connection\._receive_response_body) "
    ":pytest.PytestUnraisableExceptionWarning"
)
"""httpx's and httpcore's own generators under ``Response.aiter_bytes`` (HTTP/1.1): when a
body is left early (the SDK closes the response and its own iterator), httpx leaves them to
the garbage collector, which trio reports (encode/httpx#3686, upstream)."""


def virtual_time_backend(name: str) -> tuple[str, dict[str, object]]:
    """An ``anyio_backend`` value whose clock jumps ahead whenever every task waits:
    trio's ``MockClock``, or looptime's event loop on asyncio."""
    if name == "trio":
        from trio.testing import MockClock

        return ("trio", {"clock": MockClock(autojump_threshold=0)})
    looptime = pytest.importorskip("looptime", reason="looptime runs on Python 3.11 and newer")
    return ("asyncio", {"loop_factory": looptime.new_event_loop})


def assert_key_nowhere(exc: BaseException, key: str = API_KEY) -> None:
    """``key`` shows nowhere in ``exc``'s chain: not in the ``str``, ``repr`` or ``args`` of the
    error, of its ``__cause__`` or of its ``__context__`` (followed even where suppressed), nor
    in its formatted traceback."""
    import traceback

    assert key not in "".join(traceback.format_exception(exc))
    seen: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending:
        error = pending.pop()
        if any(error is other for other in seen):
            continue
        seen.append(error)
        assert key not in str(error), error
        assert key not in repr(error), error
        assert key not in repr(error.args), error
        pending.extend(e for e in (error.__cause__, error.__context__) if e is not None)


WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
"""RFC 6455's constant of the Sec-WebSocket-Accept answer."""


class Peer:
    """The server's side of one scripted WebSocket: blocking sends and receives of wsproto events."""

    def __init__(self, conn: socket.socket, ws: Connection) -> None:
        self.conn = conn
        self.ws = ws

    def send(self, event: Event) -> None:
        self.conn.sendall(self.ws.send(event))

    def receive(self) -> Event | None:
        """The client's next event; ``None`` once it closed the connection."""
        while True:
            for event in self.ws.events():
                return event
            data = self.conn.recv(65536)
            if not data:
                return None
            self.ws.receive_data(data)

    def wait_for_close(self) -> None:
        """Read (and drop) whatever comes until the client closes the connection."""
        while self.conn.recv(65536):
            pass


async def session_ended(sim: Simulator, index: int = -1, *, within: float = 5.0) -> LiveRecord:
    """The record of ``sim``'s live session ``index`` once the simulator saw it end (fails
    after ``within`` seconds)."""
    with anyio.fail_after(within):
        while not (record := sim.live_sessions[index]).ended:  # noqa: ASYNC110 (the record has no event)
            await anyio.sleep(0.01)
    return record


def json_text(**payload: object) -> TextMessage:
    """A text message holding ``payload`` as JSON."""
    return TextMessage(data=json.dumps(payload))


def sends(*frames: Event | str | bytes | int, read_first: bool = False) -> Callable[[Peer], None]:
    """A :class:`ScriptedServer` script: read the client's first message (when ``read_first``),
    send ``frames`` (a ``str`` as a text message, ``bytes`` as a binary one, an ``int`` as a
    close with that code, an event as it is), then read until the client leaves."""

    def script(peer: Peer) -> None:
        if read_first:
            peer.receive()
        for frame in frames:
            if isinstance(frame, int):
                peer.send(CloseConnection(code=frame))
            elif isinstance(frame, bytes):
                peer.send(BytesMessage(data=frame))
            elif isinstance(frame, str):
                peer.send(TextMessage(data=frame))
            else:
                peer.send(frame)
        peer.wait_for_close()

    return script


class ScriptedServer(_LocalServer):
    """Accepts each WebSocket upgrade (with a wrong ``Sec-WebSocket-Accept`` unless ``honest``)
    and runs ``script`` on the connection; keeps each upgrade request's head."""

    def __init__(self, script: Callable[[Peer], None], *, honest: bool = True) -> None:
        self.script = script
        self.honest = honest
        self.heads: list[bytes] = []
        super().__init__()

    def endpoint(self, *, keepalive: float = 20.0, keepalive_timeout: float = 10.0) -> LiveEndpoint:
        url = self.url + "/live-tts/ws"
        return LiveEndpoint(
            "live_tts", url, api_key=API_KEY, keepalive=keepalive, keepalive_timeout=keepalive_timeout
        )

    def _handle(self, conn: socket.socket) -> None:
        read = _read_head(conn, b"")
        if read is None:
            return
        head, rest = read
        self.heads.append(head)
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1(key + WEBSOCKET_GUID).digest()) if self.honest else b"wrong"
        conn.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        ws = Connection(ConnectionType.SERVER)
        if rest:
            ws.receive_data(rest)
        with contextlib.suppress(OSError):  # the client left first
            self.script(Peer(conn, ws))


# -- outages over real TCP -------------------------------------------------------------


@dataclasses.dataclass
class OutageRun:
    """What watches riding out one outage saw: each task's outcome and when it came, and the
    moments the API went down and came back (``time.monotonic()``, as the outcomes)."""

    outcomes: dict[str, tuple[float, TaskStatus | Exception]]
    down: float
    back: float


async def watches_through_an_outage(
    *, max_outage: float | None, downtime: float, finish: float, count: int = 40
) -> OutageRun:
    """``count`` watches (polls 0.2 s apart) of tasks that end ``finish`` s from now, on their
    own simulator, which stops 0.5 s in for ``downtime`` s."""
    outcomes: dict[str, tuple[float, TaskStatus | Exception]] = {}
    moments: list[float] = []
    with Simulator(seed=16) as sim:  # its own: this one stops and starts
        task_ids = [sim.add_task([("PENDING", 0.0), ("SUCCESS", finish)]) for _ in range(count)]
        async with AsyncCambClient(API_KEY, base_url=sim.url, max_outage=max_outage) as camb:

            async def follow(task_id: str) -> None:
                try:
                    outcome: TaskStatus | Exception = await camb.wait(task_id, interval=0.2, timeout=60.0)
                except Exception as error:  # noqa: BLE001 (the outcome under test)
                    outcome = error
                outcomes[task_id] = (time.monotonic(), outcome)

            async def outage() -> None:
                await anyio.sleep(0.5)
                await anyio.to_thread.run_sync(sim.stop)
                moments.append(time.monotonic())
                await anyio.sleep(downtime)
                await anyio.to_thread.run_sync(sim.start)
                moments.append(time.monotonic())

            with anyio.fail_after(downtime + 20.0):
                async with anyio.create_task_group() as group:
                    group.start_soon(outage)
                    for task_id in task_ids:
                        group.start_soon(follow, task_id)
    return OutageRun(outcomes, moments[0], moments[1])


# -- the camb-async command as a subprocess --------------------------------------------

CLI_KEY = "sk-cli-SECRET-9f8e7d6c"
"""The API key the command's tests give it: never to be seen in what it prints."""


def cli_env(base_url: str | None, key: str | None) -> dict[str, str]:
    """The environment of a ``camb-async`` subprocess: no ``CAMB_`` variable but ``key`` and
    ``base_url`` (when given), no colour, a fixed terminal size."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMB_")}
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    env.update(NO_COLOR="1", COLUMNS="120", LINES="40")
    if key is not None:
        env["CAMB_API_KEY"] = key
    if base_url is not None:
        env["CAMB_BASE_URL"] = base_url
    return env


def cli(
    *args: str, base_url: str | None = None, key: str | None = CLI_KEY, code: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``camb-async args`` to its end; check that the key shows nowhere (and the exit code)."""
    done = subprocess.run(
        [sys.executable, "-m", "camb_async.cli", *args],
        env=cli_env(base_url, key),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert CLI_KEY not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    if code is not None:
        assert done.returncode == code, (done.stdout, done.stderr)
    return done


def json_lines(text: str) -> list[dict[str, Any]]:
    """Each line of ``text`` read as a JSON object."""
    records: list[dict[str, Any]] = [json.loads(line) for line in text.splitlines()]
    return records


class Expecting(Protocol):
    """What the tests use of ``pexpect.spawn.expect``, typed here: its stubs name a timeout type
    (``_typeshed.FloatInt``) that not every checker's bundled typeshed knows."""

    def expect(self, pattern: str | type[pexpect.EOF]) -> int: ...


def expect_output(child: Expecting, pattern: str | type[pexpect.EOF]) -> None:
    """Wait until the child prints ``pattern`` (or ends, for ``pexpect.EOF``), within its timeout."""
    child.expect(pattern)


def spawn_cli(simulator: Simulator, *args: str) -> tuple[pexpect.spawn[str], io.StringIO]:
    """``camb-async args`` under a pseudo-terminal, and everything it draws."""
    env = cli_env(simulator.url, CLI_KEY)
    env.pop("NO_COLOR")
    env["TERM"] = "xterm-256color"
    child: pexpect.spawn[str] = pexpect.spawn(
        sys.executable,
        ["-m", "camb_async.cli", *args],
        env=env,
        dimensions=(40, 120),
        encoding="utf-8",
        timeout=20,
    )
    drawn = io.StringIO()
    child.logfile_read = drawn
    return child, drawn
