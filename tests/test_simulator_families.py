"""The simulator's task families, streams, files and catalog, over real HTTP."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import random
import tracemalloc
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

from camb_async.testing import FaultPlan, Simulator, result_bytes, result_sha256
from camb_async.testing._multipart import FormParser, MultipartError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from typing_extensions import Buffer

pytestmark = pytest.mark.integration

HEADERS = {"x-api-key": "k"}
MB = 1024 * 1024


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """A simulator whose created tasks succeed at once."""
    with Simulator(durations=(0.0, 0.0), seed=1) as server:
        yield server


@pytest.fixture
def http(sim: Simulator) -> Iterator[httpx.Client]:
    """A plain client on the simulator's API, with a key."""
    with httpx.Client(base_url=sim.url, headers=HEADERS) as client:
        yield client


def _run_of(sim: Simulator, family: str, request: dict[str, object] | None = None, **options: Any) -> int:
    """Seed a finished task of ``family``; return its run id."""
    task_id = sim.add_task([("PENDING", 0.0), ("SUCCESS", 0.0)], family=family, request=request, **options)
    run_id = sim.record(task_id, family=family).run_id
    assert run_id is not None
    return run_id


def _json(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


@dataclasses.dataclass(frozen=True)
class Case:
    """One family's round trip: what to create, where to poll, where the result is, what it holds."""

    family: str
    create: str
    status: str
    result: str
    check: Callable[[httpx.Response], None]
    json: dict[str, object] | None = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes]] | None = None
    parent: str | None = None


def _is_wav(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "audio/wav"
    assert response.content.startswith(b"RIFF")


def _check_dub(response: httpx.Response) -> None:
    body = response.json()
    assert set(body) == {"es-es", "fr-fr"}
    assert body["fr-fr"]["transcript"][0]["text"] == "[fr-fr] Hello from the simulator."
    assert body["es-es"]["video_url"].endswith("-dub-es-es.mp4")


def _check_translation(response: httpx.Response) -> None:
    assert response.json() == {"texts": ["[54] hello", "[54] good bye"]}


def _check_transcription(response: httpx.Response) -> None:
    segments = response.json()["transcript"]
    assert [set(s) for s in segments] == [{"start", "end", "text", "speaker"}] * 2


def _check_voices(response: httpx.Response) -> None:
    previews: list[str] = response.json()["previews"]
    assert len(previews) == 3
    assert all(urlsplit(url).hostname == "localhost" for url in previews)


def _check_separation(response: httpx.Response) -> None:
    body = response.json()
    assert body["foreground_audio_url"].endswith("-foreground.wav")
    assert body["background_audio_url"].endswith("-background.wav")


def _check_subtitles(response: httpx.Response) -> None:
    body = response.json()
    assert body["language"] == "es-es"
    assert body["subtitles"].startswith("1\n00:00:00,000 --> 00:00:01,500\n[es-es] Hello")


def _check_story(response: httpx.Response) -> None:
    body = response.json()
    assert body["title"] == "Tale"
    assert body["source_language"] == 1
    assert body["transcript"][0]["text"] == "Hello from the simulator."


def _check_project(response: httpx.Response) -> None:
    details = response.json()["project_details"]
    assert (details["source_language"], details["target_languages"]) == (1, [54, 76])
    assert details["project_name"] == "Launch"


def _check_translated_story(response: httpx.Response) -> None:
    body = response.json()
    assert body["title"] == "Tale"
    assert body["target_language"] == 54
    assert body["transcript"][0]["text"] == "[54] Hello from the simulator."


def _check_alt_format(response: httpx.Response) -> None:
    body = response.json()
    assert body["audio_url"].endswith("-dub-es-es.mp3")
    assert body["video_url"] is None


STORY = {"file": ("tale.txt", b"Once upon a time.")}
CASES = [
    Case("tts", "tts", "tts", "tts-result/{run}", _is_wav, json={"text": "hi", "voice_id": 1, "language": 1}),
    Case(
        "dubbing",
        "dub",
        "dub",
        "dub-result/{run}",
        _check_dub,
        json={
            "video_url": "https://example.com/v.mp4",
            "source_language": 1,
            "target_languages": ["es-es", "fr-fr"],
        },
    ),
    Case(
        "translation",
        "translate",
        "translate",
        "translation-result/{run}",
        _check_translation,
        json={"texts": ["hello", "good bye"], "source_language": 1, "target_language": 54},
    ),
    Case(
        "transcription",
        "transcribe",
        "transcribe",
        "transcription-result/{run}",
        _check_transcription,
        data={"language": "en-us"},
        files={"media_file": ("talk.wav", b"RIFF....")},
    ),
    Case(
        "text_to_sound",
        "text-to-sound",
        "text-to-sound",
        "text-to-sound-result/{run}",
        _is_wav,
        json={"prompt": "rain"},
    ),
    Case(
        "text_to_voice",
        "text-to-voice",
        "text-to-voice",
        "text-to-voice-result/{run}",
        _check_voices,
        json={"text": "hi", "voice_description": "a deep voice"},
    ),
    Case(
        "audio_separation",
        "audio-separation",
        "audio-separation",
        "audio-separation-result/{run}",
        _check_separation,
        files={"media_file": ("mix.wav", b"RIFF....")},
    ),
    Case(
        "subtitles",
        "sub",
        "sub",
        "sub-result/{run}/es-es",
        _check_subtitles,
        json={
            "media_url": "https://example.com/v.mp4",
            "source_language": "en-us",
            "target_languages": ["es-es"],
        },
    ),
    Case(
        "story",
        "story",
        "story",
        "story-result/{run}?include_transcript=true",
        _check_story,
        data={"source_language": "1", "title": "Tale"},
        files=STORY,
    ),
    Case(
        "project_setup",
        "project-setup",
        "project-setup",
        "project-setup-result/{run}",
        _check_project,
        json={
            "media_url": "https://example.com/v.mp4",
            "source_language": "en-us",
            "target_languages": [54, "fr-fr"],
            "project_name": "Launch",
        },
    ),
    Case(
        "translated_tts",
        "translated-tts",
        "translated-tts",
        "tts-result/{run}",
        _is_wav,
        json={"text": "hi", "voice_id": 1, "source_language": 1, "target_language": 54},
    ),
    Case(
        "translated_story",
        "translated-story/{parent}",
        "translated-story",
        "translated-story-result/{run}/54?include_transcript=true",
        _check_translated_story,
        json={"target_language": 54},
        parent="story",
    ),
    Case(
        "dubbing_alt_format",
        "dub-alt-format/{parent}/es-es",
        "dub-alt-format",
        "dub-result/{run}",
        _check_alt_format,
        json={"output_format": "mp3"},
        parent="dubbing",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.family for case in CASES])
def test_every_family_goes_from_create_to_result(sim: Simulator, http: httpx.Client, case: Case) -> None:
    """Each family's create answers a task id, its status a run id, and its result the documented shape."""
    parent = ""
    if case.parent is not None:
        request: dict[str, object] = {"title": "Tale", "source_language": "1"}
        parent = str(_run_of(sim, case.parent, request))
    path = case.create.format(parent=parent)
    created = _json(http.post(path, json=case.json, data=case.data, files=case.files))
    task_id = created["task_id"]
    if case.family == "translated_story":
        assert created["message"]
    status = _json(http.get(f"{case.status}/{task_id}"))
    if case.family == "project_setup":  # a list of results on success
        (status,) = status
    run_id = status["run_id"]
    assert isinstance(run_id, int)
    record = sim.record(task_id, family=case.family)
    assert record.polls == 1
    assert record.request == {**(case.json or {}), **(case.data or {})} | {
        name: {"filename": filename, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
        for name, (filename, content) in (case.files or {}).items()
    }
    assert record.as_json()["request"] == record.request
    answer = http.get(case.result.format(run=run_id))
    assert answer.status_code == 200, answer.text
    case.check(answer)


@pytest.mark.parametrize(
    ("path", "json", "data", "files", "missing"),
    [
        ("tts", {"text": "hi", "language": 1}, None, None, ["voice_id"]),
        ("dub", {"video_url": "u"}, None, None, ["source_language"]),
        ("translate", {"texts": ["a"]}, None, None, ["source_language", "target_language"]),
        ("transcribe", None, {"language": "1"}, None, ["media_file"]),
        ("transcribe", None, None, {"media_file": ("a.wav", b"x")}, ["language"]),
        ("audio-separation", None, {"project_name": "p"}, None, ["media_file"]),
        ("sub", {"media_url": "u", "source_language": 1}, None, None, ["target_languages"]),
        ("story", None, {"source_language": "1"}, None, ["file"]),
        ("story-setup", None, None, {"file": ("a.txt", b"x")}, ["source_language"]),
        ("project-setup", {"media_url": "u"}, None, None, ["source_language", "target_languages"]),
        ("text-to-sound", {"duration": 2}, None, None, ["prompt"]),
        ("text-to-voice", {"text": "a"}, None, None, ["voice_description"]),
        ("translated-tts", {"text": "a", "voice_id": 1}, None, None, ["source_language", "target_language"]),
        ("create-custom-voice", None, {"voice_name": "v"}, {"file": ("a.wav", b"x")}, ["gender"]),
        ("dictionaries/create-from-file", None, {"dictionary_name": "d"}, None, ["dictionary_file"]),
        ("folders/create", {}, None, None, ["folder_name"]),
        ("tts-stream", {"text": "a", "language": "en-us"}, None, None, ["voice_id"]),
        ("translation/stream", {"text": "a", "target_language": "es-es"}, None, None, ["source_language"]),
        ("tts-results", {}, None, None, ["run_ids"]),
    ],
)
def test_a_missing_field_is_a_422(
    http: httpx.Client,
    path: str,
    json: dict[str, object] | None,
    data: dict[str, str] | None,
    files: dict[str, tuple[str, bytes]] | None,
    missing: list[str],
) -> None:
    """A create or call without a required field answers FastAPI's 422 naming each missing field."""
    answer = http.post(path, json=json, data=data, files=files)
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": [{"loc": ["body", name], "msg": "Field required", "type": "missing"} for name in missing]
    }


def test_multipart_uploads_are_recorded_by_size_and_digest(sim: Simulator, http: httpx.Client) -> None:
    """Every file part is recorded by name, size and SHA-256, repeated fields as lists, uploads streamed."""
    content = random.Random(3).randbytes(3 * MB + 17)
    answer = http.post(
        "story",
        data={"source_language": "1", "chosen_dictionaries": ["4", "5"], "title": "Ünïcode"},
        files={"file": ("bök.pdf", content, "application/pdf")},
    )
    record = sim.record(_json(answer)["task_id"], family="story")
    assert record.request == {
        "source_language": "1",
        "chosen_dictionaries": ["4", "5"],
        "title": "Ünïcode",
        "file": {"filename": "bök.pdf", "size": len(content), "sha256": hashlib.sha256(content).hexdigest()},
    }
    voice = _json(
        http.post("create-custom-voice", data={"voice_name": "Mine", "gender": "1"}, files={"file": b""})
    )
    path, fields = sim.request_bodies[-1]
    assert path == "/apis/create-custom-voice"
    assert fields["file"] == {"filename": "upload", "size": 0, "sha256": hashlib.sha256(b"").hexdigest()}
    assert voice["voice_id"] in [v["id"] for v in _json(http.get("list-voices"))]


def test_a_broken_multipart_body_is_a_400(http: httpx.Client) -> None:
    """A multipart body without its closing boundary answers 400."""
    answer = http.post(
        "transcribe",
        content=b'--xyz\r\ncontent-disposition: form-data; name="language"\r\n\r\n1\r\n',
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert answer.status_code == 400


def test_the_form_parser_takes_the_body_in_any_pieces() -> None:
    """Fed one byte at a time or in random pieces, the parser finds the same fields and digests."""
    payload = b"\r\n--not-the-boundary\r\n" + bytes(range(256)) * 50
    request = httpx.Request(
        "POST", "http://x", data={"a": "1", "b": ["x", "y"]}, files={"f": ("f.bin", payload)}
    )
    body = request.read()
    boundary = request.headers["content-type"].split("boundary=")[1]
    expected = {
        "a": "1",
        "b": ["x", "y"],
        "f": {"filename": "f.bin", "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()},
    }
    rng = random.Random(5)
    for sizes in ([1] * len(body), [rng.randint(1, 300) for _ in range(len(body))]):
        parser = FormParser(boundary)
        at = 0
        for size in sizes:
            parser.feed(body[at : at + size])
            at += size
        assert parser.close() == expected
    with pytest.raises(MultipartError):
        FormParser("")


def test_batch_endpoints_answer_by_run_id(sim: Simulator, http: httpx.Client) -> None:
    """Batch results are keyed by the run id as a string, leave unknown ids out, and keep their rules."""
    tts = [_run_of(sim, "tts"), _run_of(sim, "translated_tts")]
    answer = _json(http.post("tts-results", json={"run_ids": [*tts, 999_999]}))
    assert set(answer) == {str(r) for r in tts}
    assert answer[str(tts[0])] == {"output_url": f"{sim.files_url}/run-{tts[0]}.wav"}
    translation = _run_of(sim, "translation", {"texts": ["a"], "target_language": "de-de"})
    assert _json(http.post("translation-results", json={"run_ids": [translation, tts[0]]})) == {
        str(translation): {"texts": ["[de-de] a"]}
    }
    setups = [
        _run_of(sim, "project_setup", {"source_language": 1, "target_languages": [2]}) for _ in range(2)
    ]
    listed = _json(http.post("project-setup-results", json={"run_ids": setups}))
    assert [item["run_id"] for item in listed] == setups
    subs = [_run_of(sim, "subtitles", {"source_language": "en-us"}) for _ in range(2)]
    assert http.post("sub-results", json={"run_ids": subs[:1]}).status_code == 422
    assert http.post("sub-results", json={"run_ids": [subs[0], subs[0]]}).status_code == 422
    answer = _json(http.post("sub-results", params={"format_type": "vtt"}, json={"run_ids": subs}))
    assert answer[str(subs[1])]["subtitles"].startswith(
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n[en-us] Hello"
    )
    stories = _json(http.post("stories-results", json={"run_ids": [_run_of(sim, "story", {"title": "T"})]}))
    assert [story["title"] for story in stories.values()] == ["T"]
    assert http.post("tts-results", json={"run_ids": ["1"]}).status_code == 422


@pytest.mark.parametrize("path", ["tts-results", "translation-results"])
def test_batches_documented_as_two_to_five_refuse_other_counts(http: httpx.Client, path: str) -> None:
    """tts-results and translation-results take 2 to 5 distinct run ids, as the API documents."""
    for run_ids in ([1], [1, 1], [1, 2, 3, 4, 5, 6]):
        assert http.post(path, json={"run_ids": run_ids}).status_code == 422
    assert http.post(path, json={"run_ids": [1, 2, 3, 4, 5]}).status_code == 200


def test_results_of_unknown_or_foreign_runs_are_404(sim: Simulator, http: httpx.Client) -> None:
    """A result endpoint serves only its own families' runs; a status endpoint only its family's tasks."""
    dub = _run_of(sim, "dubbing")
    tts_task = sim.add_task([("PENDING", 0.0)])
    assert http.get(f"tts-result/{dub}").status_code == 404
    assert http.get("tts-result/123456789").status_code == 404
    assert http.get("tts-result/abc").status_code == 404
    assert http.get(f"dub-result/{dub}").status_code == 200
    assert http.get(f"dub/{tts_task}").status_code == 404
    assert (
        http.get(
            f"translated-story-result/{_run_of(sim, 'translated_story', {'target_language': 5})}/6"
        ).status_code
        == 404
    )
    assert http.post("dub-alt-format/424242/es-es", json={"output_format": "mp4"}).status_code == 404
    assert http.post("translated-story/424242", json={"target_language": 5}).status_code == 404
    assert http.put("tts").status_code == 405
    assert http.get("no-such-endpoint").status_code == 404
    assert httpx.get(f"{sim.url}/list-voices").status_code == 401


def test_results_follow_the_query(sim: Simulator, http: httpx.Client) -> None:
    """format_type, data_type, output_type and include_transcript change the result as documented."""
    run = _run_of(sim, "transcription")
    assert _json(http.get(f"transcription-result/{run}", params={"format_type": "txt"})) == {
        "transcript": f"Hello from the simulator.\nThis is run {run}.\n"
    }
    url = _json(http.get(f"transcription-result/{run}", params={"data_type": "file", "format_type": "srt"}))
    assert url == {"transcript": f"{sim.files_url}/run-{run}-transcript.srt"}
    assert httpx.get(url["transcript"]).text.startswith("1\n00:00:00,000 --> ")
    assert http.get(f"transcription-result/{run}", params={"format_type": "doc"}).status_code == 422
    dub = _run_of(sim, "dubbing", {"target_language": "es-es"})
    assert _json(http.get(f"dub-result/{dub}"))["audio_url"] == f"{sim.files_url}/run-{dub}-dub-es-es.wav"
    assert _json(http.get(f"transcript/{dub}/es-es")) == {
        "transcript": f"[es-es] Hello from the simulator.\n[es-es] This is run {dub}.\n"
    }
    assert _json(http.get(f"transcript/{dub}/es-es", params={"data_type": "file"}))["transcript"].endswith(
        ".txt"
    )
    sound = _run_of(sim, "text_to_sound")
    assert _json(http.get(f"text-to-sound-result/{sound}", params={"output_type": "file_url"})) == {
        "output_url": f"{sim.files_url}/run-{sound}.wav"
    }
    assert http.get(f"tts-result/{sound}").status_code == 404
    assert http.get(f"text-to-sound-result/{sound}", params={"output_type": "mp3"}).status_code == 422
    story = _run_of(sim, "story", {"title": "T"})
    assert "transcript" not in _json(http.get(f"story-result/{story}"))


@pytest.mark.anyio
async def test_a_large_result_streams_with_the_right_digest(sim: Simulator) -> None:
    """A 20 MB result arrives in many chunks with its content-length and result_sha256's digest."""
    size = 20 * MB + 3
    run_id = _run_of(sim, "tts", result_size=size)
    digest, chunks = hashlib.sha256(), 0
    url = f"{sim.url}/tts-result/{run_id}"
    async with httpx.AsyncClient(headers=HEADERS) as client, client.stream("GET", url) as response:
        assert response.headers["content-length"] == str(size)
        async for chunk in response.aiter_raw():
            digest.update(chunk)
            chunks += 1
    assert chunks > 10
    assert digest.hexdigest() == result_sha256(run_id, size)
    assert sum(len(piece) for piece in result_bytes(run_id, 100)) == 100


class _Sevens(io.RawIOBase):
    """A file of ``size`` bytes of 0x07, made as it is read."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        with memoryview(buffer) as view:
            size = min(len(view), self.left)
            view[:size] = b"\x07" * size
        self.left -= size
        return size


def test_a_100_mb_result_and_upload_stream_in_bounded_memory(sim: Simulator, http: httpx.Client) -> None:
    """Downloading 100 MB and uploading 64 MB never holds either whole (traced peak well under 20 MB)."""

    run_id = _run_of(sim, "text_to_sound", result_size=100 * MB)
    tracemalloc.start()
    try:
        with http.stream("GET", f"text-to-sound-result/{run_id}") as response:
            received = sum(len(chunk) for chunk in response.iter_raw())
        upload = io.BufferedReader(_Sevens(64 * MB))
        answer = http.post("audio-separation", files={"media_file": ("big.wav", upload)})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == 100 * MB
    fields = sim.record(_json(answer)["task_id"], family="audio_separation").request
    assert fields["media_file"] == {
        "filename": "big.wav",
        "size": 64 * MB,
        "sha256": hashlib.sha256(b"\x07" * 64 * MB).hexdigest(),
    }
    assert peak < 20 * MB


@pytest.mark.anyio
async def test_file_urls_are_on_localhost_and_need_no_key(sim: Simulator) -> None:
    """file_url results point at localhost, which reaches the simulator; each file request's key is noted."""
    run_id = _run_of(sim, "tts", result_size=100_000)
    async with httpx.AsyncClient(headers=HEADERS) as client:
        answer = await client.get(f"{sim.url}/tts-result/{run_id}", params={"output_type": "file_url"})
        url: str = answer.json()["output_url"]
        assert urlsplit(url).hostname == "localhost"
        assert urlsplit(sim.url).hostname == "127.0.0.1"
        async with httpx.AsyncClient() as keyless:
            body = (await keyless.get(url)).content
        await client.get(url)
    assert hashlib.sha256(body).hexdigest() == result_sha256(run_id, 100_000)
    path = urlsplit(url).path
    assert sim.file_requests[-2:] == [(path, False), (path, True)]
    assert sim.file_requests[-1].had_key


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_aiohttp_reaches_localhost_files(sim: Simulator) -> None:
    """aiohttp also reaches the simulator's localhost file URLs."""
    import aiohttp

    run_id = _run_of(sim, "tts")
    async with aiohttp.ClientSession() as session, session.get(f"{sim.files_url}/run-{run_id}.wav") as answer:
        assert answer.status == 200
        assert (await answer.read()).startswith(b"RIFF")


def test_a_redirected_result_points_at_the_localhost_file(sim: Simulator, http: httpx.Client) -> None:
    """redirect_result answers raw bytes with a 302 to localhost; following it with the key is noted."""
    run_id = _run_of(sim, "tts", redirect_result=True)
    for params in ({}, {"output_type": "raw_bytes"}):
        answer = http.get(f"tts-result/{run_id}", params=params)
        assert answer.status_code == 302
        assert answer.headers["location"] == f"{sim.files_url}/run-{run_id}.wav"
    assert _json(http.get(f"tts-result/{run_id}", params={"output_type": "file_url"}))["output_url"]
    followed = http.get(f"tts-result/{run_id}", follow_redirects=True)  # httpx keeps custom headers
    assert followed.content.startswith(b"RIFF")
    assert sim.file_requests[-1] == (f"/_sim/files/run-{run_id}.wav", True)
    with httpx.Client() as keyless:
        assert keyless.get(str(followed.url)).status_code == 200
    assert sim.file_requests[-1].had_key is False


def test_tts_stream_sends_audio_in_chunks(http: httpx.Client) -> None:
    """POST /tts-stream streams WAV audio in several chunks."""
    body = {"text": "hello", "language": "en-us", "voice_id": 1}
    with http.stream("POST", "tts-stream", json=body) as response:
        assert response.headers["content-type"] == "audio/wav"
        assert "content-length" not in response.headers
        chunks = list(response.iter_raw())
    assert len(chunks) >= 3
    assert b"".join(chunks).startswith(b"RIFF")


def test_translation_stream_sends_text_in_chunks(http: httpx.Client) -> None:
    """POST /translation/stream streams the translation as plain text, word by word."""
    body = {"text": "good morning world", "source_language": "en-us", "target_language": "es-es"}
    with http.stream("POST", "translation/stream", json=body) as response:
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        chunks = list(response.iter_raw())
    assert len(chunks) >= 2
    assert b"".join(chunks).decode() == "[es-es] good morning world"


def test_project_setup_status_turns_into_a_list(sim: Simulator, http: httpx.Client) -> None:
    """project-setup's status is the status object while running and a one-item result list on success."""
    request: dict[str, object] = {"source_language": "en-us", "target_languages": ["es-es"]}
    running = sim.add_task([("PENDING", 0.0)], family="project_setup", request=request)
    done = sim.add_task([("PENDING", 0.0), ("SUCCESS", 0.0)], family="project_setup", request=request)
    assert _json(http.get(f"project-setup/{running}")) == {"status": "PENDING", "run_id": None}
    (item,) = _json(http.get(f"project-setup/{done}"))
    assert item["run_id"] == sim.record(done, family="project_setup").run_id
    assert item["project_details"]["target_languages"] == [54]
    assert set(item["project_details"]) >= {"project_name", "created_at", "source_language", "studio_url"}


def test_story_setup_answers_a_finished_setup(sim: Simulator, http: httpx.Client) -> None:
    """POST /story-setup answers a run id and the story's details at once; story-result serves that run."""
    answer = _json(http.post("story-setup", data={"source_language": "31", "folder_id": "7"}, files=STORY))
    details = answer["story_details"]
    assert (details["story_title"], details["source_language"], details["folder_id"]) == ("tale", 31, 7)
    assert _json(http.get(f"story-result/{answer['run_id']}"))["title"] == "tale"


def test_voices_languages_and_folders(http: httpx.Client) -> None:
    """list-voices, source/target-languages and folders answer their documented shapes."""
    voices = _json(http.get("list-voices"))
    keys = {"id", "voice_name", "gender", "age", "language", "description", "is_published"}
    assert all(set(voice) == keys for voice in voices)
    assert (
        http.post(
            "create-custom-voice", data={"voice_name": "v", "gender": "x"}, files={"file": b"a"}
        ).status_code
        == 422
    )
    for path in ("source-languages", "target-languages"):
        languages = _json(http.get(path))
        assert languages[0] == {"id": 1, "language": "English (United States)", "short_name": "en-us"}
        assert {"id": 54, "language": "Spanish (Spain)", "short_name": "es-es"} in languages
    folder_id = _json(http.post("folders/create", json={"folder_name": "Podcasts 2026"}))["folder_id"]
    found = _json(http.get("folders", params={"search_query": "podcasts"}))
    assert {"folder_id": folder_id, "team_id": 1, "name": "Podcasts 2026"} in found
    assert len(_json(http.get("folders", params={"limit": 1}))) == 1
    assert http.get("folders", params={"limit": "many"}).status_code == 422


def test_dictionaries_lifecycle(http: httpx.Client) -> None:
    """A dictionary is created from a file, gains, changes and loses terms, and goes; unknown ids are 404."""
    files = {"dictionary_file": ("terms.csv", b"hello,hola\n")}
    created = _json(
        http.post("dictionaries/create-from-file", data={"dictionary_name": "Glossary"}, files=files)
    )
    key = created["dictionary_id"]
    terms = {
        "translations": [
            {"translation": "hello", "language": 1},
            {"translation": "hola", "language": "es-es"},
        ]
    }
    assert "message" in _json(http.post(f"dictionaries/{key}/add-term", json=terms))
    assert "message" in _json(
        http.post(
            f"dictionaries/{key}/add-term", json={"translations": [{"translation": "cat", "language": 1}]}
        )
    )
    full = _json(http.get(f"dictionaries/{key}/full-details", params={"search_term": "HOL"}))
    assert full["name"] == "Glossary"
    assert full["languages"] == [1, 54]
    (term,) = full["dictionary_terms"]
    assert term["term_translations"] == [
        {"language": 1, "term_text": "hello"},
        {"language": 54, "term_text": "hola"},
    ]
    assert (
        len(_json(http.get(f"dictionaries/{key}/full-details", params={"limit": 1}))["dictionary_terms"]) == 1
    )
    update = {"translations": [{"translation": "hi", "language": 1}]}
    assert "message" in _json(http.put(f"dictionaries/term/{key}/{term['id']}", json=update))
    assert (
        _json(http.get(f"dictionaries/{key}"))["dictionary_terms"][0]["term_translations"][0]["term_text"]
        == "hi"
    )
    assert key in [d["id"] for d in _json(http.get("dictionaries"))]
    bad = http.post(f"dictionaries/{key}/add-term", json={"translations": [{"language": 1}]})
    assert bad.json()["detail"][0]["loc"] == ["body", "translations", 0, "translation"]
    assert "message" in _json(http.delete(f"dictionaries/term/{key}/{term['id']}"))
    assert http.delete(f"dictionaries/term/{key}/{term['id']}").status_code == 404
    assert http.put(f"dictionaries/term/{key}/999999", json=update).status_code == 404
    assert "message" in _json(http.delete(f"dictionaries/{key}"))
    assert http.get(f"dictionaries/{key}").status_code == 404
    assert http.delete(f"dictionaries/{key}").status_code == 404


def test_seeding_names_families_and_sizes(sim: Simulator) -> None:
    """POST /_sim/tasks seeds tasks of any family with a request and a result size; bad specs are a 400."""
    origin = sim.url.removesuffix("/apis")
    spec = {"timeline": [["PENDING", 0], ["SUCCESS", 0]], "family": "dubbing", "result_size": 10}
    with httpx.Client(base_url=origin, headers=HEADERS) as client:
        (task_id,) = _json(
            client.post("/_sim/tasks", json={"tasks": [{**spec, "request": {"target_language": "it"}}]})
        )["task_ids"]
        record = _json(client.get(f"/_sim/tasks/dubbing/{task_id}"))
        assert (record["family"], record["result_size"], record["request"]) == (
            "dubbing",
            10,
            {"target_language": "it"},
        )
        assert client.get(f"/apis/dub/{task_id}").json()["status"] == "SUCCESS"
        assert client.post("/_sim/tasks", json={"tasks": [{**spec, "family": "dub"}]}).status_code == 400
        assert client.post("/_sim/tasks", json={"tasks": [{**spec, "result_size": -1}]}).status_code == 400
    with pytest.raises(ValueError, match="unknown family"):
        sim.add_task(family="translate")
    with pytest.raises(TypeError, match="result_size"):
        sim.add_task(result_size="big")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["drop", "truncated", "html"])
def test_faults_reshape_streamed_bodies(kind: str) -> None:
    """drop cuts a large or chunked stream short, truncated halves it, html replaces it."""
    with Simulator(durations=(0.0, 0.0)) as sim, httpx.Client(base_url=sim.url, headers=HEADERS) as client:
        run_id = _run_of(sim, "tts", result_size=4 * MB)
        sim.set_faults(FaultPlan(script=[kind, kind], methods=["GET", "POST"]))
        stream = {"text": "a", "language": "en-us", "voice_id": 1}
        if kind == "drop":
            for request in (
                client.build_request("GET", f"tts-result/{run_id}"),
                client.build_request("POST", "tts-stream", json=stream),
            ):
                with pytest.raises(httpx.RemoteProtocolError):
                    client.send(request)
        else:
            large = client.get(f"tts-result/{run_id}")
            chunked = client.post("tts-stream", json=stream)
            if kind == "truncated":
                assert large.content == b"".join(result_bytes(run_id, 4 * MB))[: 2 * MB]
                assert 0 < len(chunked.content) < 4096 + 1
            else:
                assert large.headers["content-type"] == chunked.headers["content-type"] == "text/html"
        assert [r.fault for r in sim.request_log] == [kind, kind]


def test_a_stall_delays_a_stream_then_sends_it() -> None:
    """A stalled streamed answer arrives whole once the stall is over."""
    with Simulator() as sim, httpx.Client(base_url=sim.url, headers=HEADERS) as client:
        sim.set_faults(FaultPlan(script=["stall"], stall=0.2, methods=["POST"]))
        body = {"text": "a b", "source_language": "en-us", "target_language": "fr-fr"}
        answer = client.post("translation/stream", json=body)
    assert answer.text == "[fr-fr] a b"
    assert sim.request_log[-1].fault == "stall"


def test_every_result_file_name_is_served(sim: Simulator) -> None:
    """Each file URL a result hands out is served from /_sim/files; unknown names are 404."""
    run_id = _run_of(sim, "audio_separation")
    with httpx.Client(headers=HEADERS) as client:
        urls = _json(client.get(f"{sim.url}/audio-separation-result/{run_id}")).values()
        assert all(client.get(url).content.startswith(b"RIFF") for url in urls)
        assert client.get(f"{sim.files_url}/run-{run_id}-x.mp4").headers["content-type"] == "video/mp4"
        assert client.get(f"{sim.files_url}/nothing.wav").status_code == 404
        assert client.get(f"{sim.files_url}/run-99999999.wav").status_code == 404


def test_the_request_body_log_skips_gets(sim: Simulator, http: httpx.Client) -> None:
    """request_bodies holds each POST's fields with its raw path, and no GETs."""
    before = len(sim.request_bodies)
    http.get("list-voices")
    http.post("folders/create", json={"folder_name": "x"})
    assert sim.request_bodies[before:] == [("/apis/folders/create", {"folder_name": "x"})]


def test_uk_english_is_id_35_as_en_uk_or_en_gb(sim: Simulator, http: httpx.Client) -> None:
    """The simulator reads UK English as id 35 whether a create names it en-uk or en-gb."""
    for locale in ("en-uk", "en-gb"):
        request: dict[str, object] = {
            "media_url": "https://v.test/a.mp4",
            "source_language": locale,
            "target_languages": [locale],
        }
        run_id = _run_of(sim, "project_setup", request)
        details = _json(http.get(f"/project-setup-result/{run_id}"))["project_details"]
        assert (details["source_language"], details["target_languages"]) == (35, [35])
