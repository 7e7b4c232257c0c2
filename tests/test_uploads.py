"""Uploads (``camb_async._uploads``): a path or a binary file object, streamed byte for byte.

Over respx the multipart body is checked part by part; over the real simulator
(``integration``) each upload's size and SHA-256 as the server received them
are checked, on httpx's transport and on aiohttp's, and a 256 MB upload goes
through in bounded memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pathlib
import tracemalloc
from typing import IO, TYPE_CHECKING

import httpx
import pytest
from support import API_KEY, parse_multipart, typed

from camb_async import AsyncCambClient, InternalServerError
from camb_async._uploads import open_uploads

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    import respx

    from camb_async._uploads import FileInput
    from camb_async.testing import Simulator

pytestmark = pytest.mark.anyio

MB = 1024 * 1024
MEDIA = bytes(range(256)) * 1000 + b"\r\n--boundary-lookalike\r\n\x00\xff\r"
"""About 256 KB: several of httpx's 64 KiB read chunks, with bytes a multipart writer must not touch."""


@dataclasses.dataclass(frozen=True)
class Uploader:
    """A create that uploads a file: its family, path, file part name, and how to call it."""

    family: str
    path: str
    field: str
    create: Callable[[AsyncCambClient, FileInput], Awaitable[str]]


UPLOADERS = [
    Uploader(
        "transcription", "/transcribe", "media_file", lambda c, m: c.transcription.create(language=1, media=m)
    ),
    Uploader(
        "audio_separation", "/audio-separation", "media_file", lambda c, m: c.audio_separation.create(media=m)
    ),
    Uploader("story", "/story", "file", lambda c, m: c.story.create(file=m, source_language=1)),
]
IDS = [uploader.family for uploader in UPLOADERS]


@pytest.fixture
def media(tmp_path: pathlib.Path) -> pathlib.Path:
    """A file holding ``MEDIA``."""
    path = tmp_path / "clip.wav"
    path.write_bytes(MEDIA)
    return path


def sha256(data: bytes) -> str:
    """The hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


# -- over respx ------------------------------------------------------------------------


@pytest.mark.parametrize("uploader", UPLOADERS, ids=IDS)
@pytest.mark.parametrize("kind", ["str", "Path"])
async def test_a_path_is_uploaded_byte_for_byte(
    client: AsyncCambClient, router: respx.Router, media: pathlib.Path, uploader: Uploader, kind: str
) -> None:
    """A path (str or PathLike) is sent as one file part named after the file, its bytes unchanged."""
    route = router.post(uploader.path).respond(200, json={"task_id": "t-1"})
    assert await uploader.create(client, str(media) if kind == "str" else media) == "t-1"
    assert route.call_count == 1
    _, files = parse_multipart(route.calls.last.request)
    assert files == {uploader.field: ("clip.wav", MEDIA)}


@pytest.mark.parametrize("uploader", UPLOADERS, ids=IDS)
async def test_a_binary_file_object_is_uploaded_from_its_start(
    client: AsyncCambClient, router: respx.Router, media: pathlib.Path, uploader: Uploader
) -> None:
    """A binary file object, even one already read from, is sent whole, named after its file; it stays open."""
    route = router.post(uploader.path).respond(200, json={"task_id": "t-2"})
    with media.open("rb") as file:
        file.seek(1000)
        await uploader.create(client, file)
        assert not file.closed  # the caller's to close
    _, files = parse_multipart(route.calls.last.request)
    assert files == {uploader.field: ("clip.wav", MEDIA)}


@pytest.mark.parametrize("uploader", UPLOADERS, ids=IDS)
async def test_an_in_memory_file_object_is_uploaded_from_its_start(
    client: AsyncCambClient, router: respx.Router, uploader: Uploader
) -> None:
    """An io.BytesIO at its end is sent whole, under the field's name (it has no file name)."""
    route = router.post(uploader.path).respond(200, json={"task_id": "t-3"})
    buffer = io.BytesIO(MEDIA)
    buffer.seek(0, io.SEEK_END)
    await uploader.create(client, buffer)
    _, files = parse_multipart(route.calls.last.request)
    assert files == {uploader.field: (uploader.field, MEDIA)}


async def test_a_named_file_object_sends_only_the_base_name(
    client: AsyncCambClient, router: respx.Router, tmp_path: pathlib.Path
) -> None:
    """A file object's name is sent without its folders (they are the caller's business)."""
    route = router.post("/audio-separation").respond(200, json={"task_id": "t-4"})
    (tmp_path / "private").mkdir()
    secret = tmp_path / "private" / "take 3.mp3"
    secret.write_bytes(b"ID3data")
    with secret.open("rb") as file:
        await client.audio_separation.create(media=file)
    request = route.calls.last.request
    _, files = parse_multipart(request)
    assert files == {"media_file": ("take 3.mp3", b"ID3data")}
    assert b"private" not in request.content


@pytest.mark.parametrize("uploader", UPLOADERS, ids=IDS)
@pytest.mark.parametrize("missing", ["nope.wav", "folder"])
async def test_a_missing_path_raises_before_any_request(
    client: AsyncCambClient,
    unexpected: respx.Route,
    tmp_path: pathlib.Path,
    uploader: Uploader,
    missing: str,
) -> None:
    """A path that names no file (nothing there, or a folder) is a FileNotFoundError naming the call; nothing is sent."""
    (tmp_path / "folder").mkdir()
    with pytest.raises(
        FileNotFoundError, match=rf"{uploader.family}\.create\(\): {uploader.field} .*{missing}"
    ):
        await uploader.create(client, tmp_path / missing)
    assert unexpected.call_count == 0


@pytest.mark.parametrize("uploader", UPLOADERS, ids=IDS)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"RIFF", "wrap bytes in io.BytesIO"),
        (bytearray(b"RIFF"), "wrap bytes in io.BytesIO"),
        (memoryview(b"RIFF"), "wrap bytes in io.BytesIO"),
        (io.StringIO("text"), "text file; open it in binary mode"),
        (42, "must be a path or a binary file object, not int"),
    ],
    ids=["bytes", "bytearray", "memoryview", "StringIO", "int"],
)
async def test_bytes_text_and_other_values_are_type_errors(
    client: AsyncCambClient, unexpected: respx.Route, uploader: Uploader, value: object, message: str
) -> None:
    """Bytes, a text stream or any other non-file is a TypeError naming the call and the field; nothing is sent."""
    with pytest.raises(TypeError, match=rf"{uploader.family}\.create\(\): {uploader.field} .*{message}"):
        await uploader.create(client, value)  # type: ignore[arg-type]
    assert unexpected.call_count == 0


@pytest.mark.parametrize("uploader", UPLOADERS, ids=IDS)
async def test_a_text_mode_file_is_a_type_error(
    client: AsyncCambClient, unexpected: respx.Route, media: pathlib.Path, uploader: Uploader
) -> None:
    """A file opened in text mode is a TypeError saying to open it in binary mode; nothing is sent."""
    with media.open("r", encoding="latin-1") as text, pytest.raises(TypeError, match="binary mode"):
        await uploader.create(client, text)  # type: ignore[arg-type]
    assert unexpected.call_count == 0


@pytest.mark.parametrize("uploader", UPLOADERS, ids=IDS)
async def test_a_closed_file_is_refused_before_any_request(
    client: AsyncCambClient, unexpected: respx.Route, media: pathlib.Path, uploader: Uploader
) -> None:
    """A file object already closed is a ValueError before any request (httpx cannot measure it)."""
    file = media.open("rb")
    file.close()
    with pytest.raises(ValueError, match="closed file"):
        await uploader.create(client, file)
    assert unexpected.call_count == 0


async def test_a_write_only_file_is_a_type_error_before_any_request(
    client: AsyncCambClient, unexpected: respx.Route, tmp_path: pathlib.Path
) -> None:
    """A binary file object that cannot be read (opened 'wb') is a TypeError naming the call; nothing is sent."""
    with (tmp_path / "out.wav").open("wb") as file:
        try:
            with pytest.raises(TypeError, match=r"audio_separation\.create\(\): media_file"):
                await client.audio_separation.create(media=file)
        finally:
            assert unexpected.call_count == 0


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            typed(lambda c: c.audio_separation.create(media=None)),  # type: ignore[arg-type]
            id="audio_separation.create",
        ),
        pytest.param(
            typed(lambda c: c.story.create(file=None, source_language=1)),  # type: ignore[arg-type]
            id="story.create",
        ),
        pytest.param(
            typed(lambda c: c.story.setup(file=None, source_language=1)),  # type: ignore[arg-type]
            id="story.setup",
        ),
        pytest.param(
            typed(lambda c: c.voices.create(file=None, voice_name="V", gender=1)),  # type: ignore[arg-type]
            id="voices.create",
        ),
        pytest.param(
            typed(lambda c: c.dictionaries.create_from_file(file=None, name="D")),  # type: ignore[arg-type]
            id="dictionaries.create_from_file",
        ),
    ],
)
async def test_a_required_file_of_none_is_refused_before_any_request(
    client: AsyncCambClient, unexpected: respx.Route, call: Callable[[AsyncCambClient], Awaitable[object]]
) -> None:
    """A call whose file is required refuses None with a TypeError naming the file, before any request."""
    try:
        with pytest.raises(TypeError, match=r"file|media"):
            await call(client)
    finally:
        assert unexpected.call_count == 0


async def test_an_upload_retried_before_it_left_is_sent_whole_again(
    client: AsyncCambClient, router: respx.Router, media: pathlib.Path, no_wait: None
) -> None:
    """A create whose connection failed is retried, and the file is read again from its start."""
    route = router.post("/audio-separation").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={"task_id": "t-5"})]
    )
    with media.open("rb") as file:
        assert await client.audio_separation.create(media=file) == "t-5"
    assert route.call_count == 2
    calls: list[respx.models.Call] = list(route.calls)
    for call in calls:
        _, files = parse_multipart(call.request)
        assert files == {"media_file": ("clip.wav", MEDIA)}


async def test_an_upload_that_may_have_arrived_is_not_sent_again(
    client: AsyncCambClient, router: respx.Router, media: pathlib.Path, no_wait: None
) -> None:
    """An upload answered 500 is not sent again: the task it created may exist."""
    route = router.post("/transcribe").mock(side_effect=[httpx.Response(500), httpx.Response(200)])
    with pytest.raises(InternalServerError):
        await client.transcription.create(language=1, media=media)
    assert route.call_count == 1


def test_open_uploads_opens_paths_for_the_block_and_closes_them(media: pathlib.Path) -> None:
    """open_uploads opens each path for the block (name, file, guessed content type), leaves out an
    optional None, and closes what it opened when the block ends, also on an error."""
    with open_uploads(
        {"media_file": media, "file": None}, "x.create()", optional=frozenset({"file"})
    ) as parts:
        assert list(parts) == ["media_file"]
        name, file, content_type = parts["media_file"]
        assert (name, file.read(), file.closed) == ("clip.wav", MEDIA, False)
        assert content_type.startswith("audio/")
    assert file.closed
    kept: list[IO[bytes]] = []

    def fail_inside() -> None:
        with open_uploads({"file": str(media)}, "x.create()") as parts:
            kept.append(parts["file"][1])
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_inside()
    assert kept[0].closed


def test_open_uploads_closes_the_files_it_opened_when_a_later_one_is_missing(
    media: pathlib.Path, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a second file is missing, the first one, already opened, is closed again."""
    opened: list[IO[bytes]] = []
    real_open = pathlib.Path.open

    def spy(self: pathlib.Path, mode: str = "r") -> IO[bytes]:
        assert mode == "rb"
        file = real_open(self, "rb")
        opened.append(file)
        return file

    monkeypatch.setattr(pathlib.Path, "open", spy)
    with (
        pytest.raises(FileNotFoundError, match="file"),
        open_uploads({"media_file": media, "file": tmp_path / "nope"}, "x.create()"),
    ):
        pass  # pragma: no cover
    assert len(opened) == 1
    assert opened[0].closed


def test_open_uploads_unknown_extension_is_octet_stream() -> None:
    """A file object whose name says nothing of its type is sent as application/octet-stream."""
    with open_uploads({"file": io.BytesIO(b"x")}, "x.create()") as parts:
        assert parts["file"][0] == "file"
        assert parts["file"][2] == "application/octet-stream"


# -- over the real simulator -------------------------------------------------------------


@pytest.fixture(params=["httpx", "aiohttp"])
async def upload_client(
    request: pytest.FixtureRequest, simulator: Simulator, sim_client: AsyncCambClient
) -> AsyncIterator[AsyncCambClient]:
    """A client of the simulator over real TCP, on httpx's transport or on aiohttp's
    (which falls back to httpx under trio)."""
    if request.param == "httpx":
        yield sim_client
        return
    async with AsyncCambClient(API_KEY, base_url=simulator.url, transport="aiohttp") as camb:
        yield camb


def received(simulator: Simulator, family: str, task_id: str, field: str) -> object:
    """What the simulator recorded of a create's file part ``field``."""
    return simulator.record(task_id, family=family).request[field]


@pytest.mark.integration
@pytest.mark.parametrize("uploader", UPLOADERS, ids=IDS)
@pytest.mark.parametrize("kind", ["path", "file"])
async def test_uploads_reach_the_server_byte_for_byte(
    simulator: Simulator, upload_client: AsyncCambClient, media: pathlib.Path, uploader: Uploader, kind: str
) -> None:
    """A path and a binary file object both reach the server whole: same size, same SHA-256, same name."""
    if kind == "path":
        task_id = await uploader.create(upload_client, media)
    else:
        with media.open("rb") as file:
            file.seek(123)
            task_id = await uploader.create(upload_client, file)
    expected = {"filename": "clip.wav", "size": len(MEDIA), "sha256": sha256(MEDIA)}
    assert received(simulator, uploader.family, task_id, uploader.field) == expected


@pytest.mark.integration
async def test_upload_form_fields_reach_the_server(
    simulator: Simulator, upload_client: AsyncCambClient, media: pathlib.Path
) -> None:
    """The form fields beside the file arrive as the API reads them (strings, repeated lists, JSON text)."""
    task_id = await upload_client.story.create(
        file=media, source_language=1, title="Fox", narrator_voice_id=5, chosen_dictionaries=[3, 4]
    )
    assert simulator.record(task_id, family="story").request == {
        "source_language": "1",
        "title": "Fox",
        "narrator_voice_id": "5",
        "chosen_dictionaries": ["3", "4"],
        "file": {"filename": "clip.wav", "size": len(MEDIA), "sha256": sha256(MEDIA)},
    }


class Sevens(io.RawIOBase):
    """A stream of ``size`` bytes of 0x07 that cannot seek (so its length is unknown ahead)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        with memoryview(buffer) as view:
            size = min(len(view), self.left)
            view[:size] = b"\x07" * size
        self.left -= size
        return size


@pytest.mark.integration
async def test_an_unseekable_stream_is_uploaded_whole(
    simulator: Simulator, upload_client: AsyncCambClient
) -> None:
    """A binary stream that cannot seek (its length unknown) is uploaded whole, chunked."""
    size = 3 * MB + 17
    task_id = await upload_client.audio_separation.create(media=io.BufferedReader(Sevens(size)))
    assert received(simulator, "audio_separation", task_id, "media_file") == {
        "filename": "media_file",
        "size": size,
        "sha256": sha256(b"\x07" * size),
    }


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, str]:
    """A 256 MB sparse file (a head, zeros, a tail) and its SHA-256, made once."""
    path = tmp_path_factory.mktemp("big") / "long take.wav"
    size = 256 * MB
    head, tail = b"RIFF-head\r\n--", b"\r\n--tail"
    with path.open("wb") as file:
        file.write(head)
        file.truncate(size)
        file.seek(size - len(tail))
        file.write(tail)
    digest = hashlib.sha256(head)
    zeros = bytes(MB)
    middle = size - len(head) - len(tail)
    for _ in range(middle // MB):
        digest.update(zeros)
    digest.update(bytes(middle % MB))
    digest.update(tail)
    return path, digest.hexdigest()


@pytest.mark.integration
@pytest.mark.slow
async def test_a_256_mb_upload_streams_in_bounded_memory(
    simulator: Simulator,
    upload_client: AsyncCambClient,
    big_file: tuple[pathlib.Path, str],
    anyio_backend: str,
    request: pytest.FixtureRequest,
) -> None:
    """A 256 MB file goes up whole while Python's traced memory (client and simulator) peaks well under 32 MB."""
    if anyio_backend == "trio" and "aiohttp" in request.node.callspec.id:
        pytest.skip("aiohttp falls back to httpx on trio: the httpx case covers it")
    path, digest = big_file
    await upload_client.languages.source()  # the connection and the client are set up before tracing
    tracemalloc.start()
    try:
        task_id = await upload_client.audio_separation.create(media=path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received(simulator, "audio_separation", task_id, "media_file") == {
        "filename": "long take.wav",
        "size": 256 * MB,
        "sha256": digest,
    }
    assert peak < 16 * MB, f"traced peak {peak / MB:.1f} MB"


@pytest.mark.integration
async def test_a_missing_file_sends_nothing_to_the_server(
    simulator: Simulator, upload_client: AsyncCambClient, tmp_path: pathlib.Path
) -> None:
    """A missing path fails before the request: the server sees nothing."""
    await upload_client.languages.source()
    before = simulator.request_count
    with pytest.raises(FileNotFoundError):
        await upload_client.transcription.create(language=1, media=tmp_path / "gone.wav")
    assert simulator.request_count == before


@pytest.mark.integration
async def test_a_write_only_file_sends_nothing_to_the_server(
    simulator: Simulator, upload_client: AsyncCambClient, tmp_path: pathlib.Path
) -> None:
    """A file opened 'wb' is refused with a TypeError before the request: the server sees nothing."""
    await upload_client.languages.source()
    before = simulator.request_count
    with (tmp_path / "out.wav").open("wb") as file, pytest.raises(TypeError):
        await upload_client.audio_separation.create(media=file)
    assert simulator.request_count == before
