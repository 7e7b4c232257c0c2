"""Every answer the API is documented to give, read endpoint by endpoint (respx).

Two sources disagree about some answers: the vendor's reference pages (docs.camb.ai)
and camb-sdk 1.6.6, the official client generated from the vendor's API definition
(../shared/reference/contract-audit.md holds the audit, row by row). Each case serves
one source's answer and checks what the SDK gives; the case ids name the audit row and
the source (``docs`` or ``sdk``).
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from support import SEGMENTS, typed

from camb_async import (
    AsyncCambClient,
    AudioSeparationResult,
    DubbingResult,
    FileUrl,
    Folder,
    ProjectSetupResult,
    ResponseValidationError,
    StoryMessage,
    StoryResult,
    TaskFamily,
    TaskHandle,
    TaskState,
    TaskStatus,
    TextToVoiceResult,
    TranscriptionResult,
    TranscriptSegment,
    TranslationResult,
    Voice,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import respx

pytestmark = pytest.mark.anyio

SEGMENT_READ = TranscriptSegment(start=0.0, end=1.5, text="Hola", speaker="SPEAKER_0")
SEGMENT = SEGMENT_READ.model_dump()
URL = "https://files.test/out.flac"


# -- status answers ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StatusShape:
    id: str
    answer: object
    status: str
    run_id: int | None


STATUS_SHAPES = [
    StatusShape("object-docs-sdk", {"status": "SUCCESS", "run_id": 5}, "SUCCESS", 5),
    StatusShape("object-pending", {"status": "PENDING", "run_id": None}, "PENDING", None),
    StatusShape("bare-success-docs", "SUCCESS", "SUCCESS", None),
    StatusShape("bare-pending-docs", "PENDING", "PENDING", None),
    StatusShape("bare-unknown", "PROCESSING", "PROCESSING", None),
    StatusShape("run-id-only-docs", {"run_id": 123}, "SUCCESS", 123),
]
"""A status object (every page, camb-sdk), a bare status string (rows 13 and 34) and a
status-less ``{"run_id": N}`` (row 48)."""


# Audit rows 2, 8, 13, 18, 23, 27, 31, 34, 38, 44, 48, 51, 54: each family's status path (SEGMENTS).
@pytest.mark.parametrize("family", list(SEGMENTS))
@pytest.mark.parametrize("shape", STATUS_SHAPES, ids=[shape.id for shape in STATUS_SHAPES])
async def test_status_reads_every_documented_shape(
    client: AsyncCambClient, router: respx.Router, family: TaskFamily, shape: StatusShape
) -> None:
    """status() of every family reads a status object, a bare status string and {"run_id": N}."""
    router.get(f"/{SEGMENTS[family]}/t-1").respond(200, json=shape.answer)
    status = await client.status(TaskHandle(task_id="t-1", family=family))
    assert status.status == shape.status
    assert status.run_id == shape.run_id
    assert isinstance(status.status, TaskState) == (shape.status in TaskState.__members__)


async def test_status_run_id_only_keeps_the_other_fields(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A status-less {"run_id": N} is SUCCESS, and its other fields stay as extras."""
    router.get("/translated-story/t-1").respond(200, json={"run_id": 9, "note": "done"})
    status = await client.translated_story.status("t-1")
    assert status.is_success
    assert status.model_extra == {"note": "done"}


@pytest.mark.parametrize(
    "answer",
    [{}, {"run_id": None}, {"run_id": "9"}, {"run_id": True}, 5, None, ["SUCCESS"]],
    ids=["empty", "null-run-id", "str-run-id", "bool-run-id", "number", "null", "list"],
)
async def test_status_without_a_status_or_run_id_is_unreadable(
    client: AsyncCambClient, router: respx.Router, answer: object
) -> None:
    """An answer with neither a status nor an int run_id is a ResponseValidationError naming the call."""
    router.get("/tts/t-1").respond(200, json=answer)
    with pytest.raises(ResponseValidationError, match=r"GET /apis/tts/t-1 returned 200"):
        await client.with_options(max_retries=0).status("t-1")


async def test_project_setup_status_list_sdk(client: AsyncCambClient, router: respx.Router) -> None:
    """Row 54 (sdk): project-setup's status as a list of set-up projects is SUCCESS with the first run."""
    answer = [{"run_id": 31, "project_details": {"project_name": "P"}}]
    router.get("/project-setup/t-1").respond(200, json=answer)
    status = await client.project_setup.status("t-1")
    assert (status.status, status.run_id) == (TaskState.SUCCESS, 31)


@pytest.mark.parametrize(
    ("family", "answers", "run_id"),
    [
        ("dubbing_alt_format", ["PENDING", "PENDING", "SUCCESS"], None),
        ("audio_separation", ["PENDING", {"status": "SUCCESS", "run_id": 4}], 4),
        ("translated_story", [{"status": "PENDING"}, {"run_id": 123}], 123),
    ],
    ids=["row13-bare-strings", "row34-bare-then-object", "row48-run-id-only"],
)
async def test_watch_and_wait_read_the_documented_shapes(
    client: AsyncCambClient,
    router: respx.Router,
    no_wait: None,
    family: TaskFamily,
    answers: list[object],
    run_id: int | None,
) -> None:
    """watch() yields each change and wait() returns SUCCESS, whatever documented shape each poll got."""
    path = f"/{SEGMENTS[family]}/t-1"
    router.get(path).mock(side_effect=[httpx.Response(200, json=a) for a in answers])
    seen = [
        status.status
        async for status in client.watch(TaskHandle(task_id="t-1", family=family), interval=0.01)
    ]
    assert seen == [TaskState.PENDING, TaskState.SUCCESS]
    router.get(path).mock(side_effect=[httpx.Response(200, json=a) for a in answers])
    final = await client.wait(TaskHandle(task_id="t-1", family=family), interval=0.01)
    assert (final.status, final.run_id) == (TaskState.SUCCESS, run_id)


async def test_many_task_calls_read_the_documented_shapes(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """wait_many, as_completed and watch_many read bare strings and {"run_id": N} beside objects."""
    tasks = [
        TaskHandle(task_id="a", family="dubbing_alt_format"),
        TaskHandle(task_id="b", family="audio_separation"),
        TaskHandle(task_id="c", family="translated_story"),
        TaskHandle(task_id="d", family="tts"),
    ]
    router.get("/dub-alt-format/a").respond(200, json="SUCCESS")
    router.get("/audio-separation/b").respond(200, json="SUCCESS")
    router.get("/translated-story/c").respond(200, json={"run_id": 3})
    router.get("/tts/d").respond(200, json={"status": "SUCCESS", "run_id": 4})
    outcomes = await client.wait_many(tasks)
    assert [o.run_id if isinstance(o, TaskStatus) else o for o in outcomes] == [None, None, 3, 4]
    done = [task async for task, _ in client.as_completed(tasks)]
    assert sorted(t.task_id for t in done) == ["a", "b", "c", "d"]
    changes = [(task.task_id, change) async for task, change in client.watch_many(tasks)]
    assert sorted(task for task, _ in changes) == ["a", "b", "c", "d"]
    assert all(isinstance(change, TaskStatus) and change.is_success for _, change in changes)


# -- creates ----------------------------------------------------------------------


CREATES: list[tuple[str, str, Callable[[AsyncCambClient], Awaitable[object]]]] = [
    ("row1-tts", "/tts", lambda c: c.tts.create(text="Hi", voice_id=1, language=1)),
    ("row7-dub", "/dub", lambda c: c.dubbing.create(video_url="https://v.test/a.mp4", source_language=1, target_language=54)),
    ("row17-translate", "/translate", lambda c: c.translation.create(texts=["Hi"], source_language=1, target_language=54)),
    ("row22-transcribe", "/transcribe", lambda c: c.transcription.create(language=1, media=io.BytesIO(b"RIFF"))),
    ("row26-text-to-sound", "/text-to-sound", lambda c: c.text_to_sound.create(prompt="rain")),
    ("row30-text-to-voice", "/text-to-voice", lambda c: c.text_to_voice.create(text="Hi", voice_description="calm")),
    ("row33-audio-separation", "/audio-separation", lambda c: c.audio_separation.create(media=io.BytesIO(b"RIFF"))),
    ("row37-sub", "/sub", lambda c: c.subtitles.create(media_url="https://v.test/a.mp4", source_language=1, target_languages=[54])),
    ("row42-story", "/story", lambda c: c.story.create(file=io.BytesIO(b"x"), source_language=1)),
    ("row50-translated-tts", "/translated-tts",
     lambda c: c.translated_tts.create(text="Hi", voice_id=1, source_language=1, target_language=54)),
    ("row53-project-setup", "/project-setup",
     lambda c: c.project_setup.create(media_url="https://v.test/a.mp4", source_language=1, target_languages=[54])),
    ("row47-translated-story", "/translated-story/42", lambda c: c.translated_story.create(run_id=42, target_language=54)),
    ("row12-dub-alt-format", "/dub-alt-format/8/54",
     lambda c: c.dubbing_alt_format.create(run_id=8, language=54, output_format="mp3")),
]  # fmt: skip
"""Every task create (docs and camb-sdk: ``{"task_id"}``, extras allowed)."""


@pytest.mark.parametrize(("path", "call"), [c[1:] for c in CREATES], ids=[c[0] for c in CREATES])
async def test_create_task_id_docs_sdk(
    client: AsyncCambClient,
    router: respx.Router,
    path: str,
    call: Callable[[AsyncCambClient], Awaitable[object]],
) -> None:
    """Each create answered {"task_id"} (with a field more) gives that id."""
    router.post(path).respond(200, json={"task_id": "t-9", "message": "queued"})
    assert await call(client) == "t-9"


async def test_alt_format_create_task_sdk(client: AsyncCambClient, router: respx.Router) -> None:
    """Row 12 (sdk): dub-alt-format answering a task gives its task id."""
    router.post("/dub-alt-format/8/54").respond(200, json={"task_id": "t-9"})
    answer = await client.dubbing_alt_format.create(run_id=8, language=54, output_format="mp3")
    assert answer == "t-9"


@pytest.mark.parametrize(
    "answer",
    [{"output_url": URL}, {"file_url": URL}, URL, {"output_url": URL, "task_id": None}],
    ids=["output_url-docs", "file_url", "bare-url", "null-task-id"],
)
async def test_alt_format_create_url_docs(
    client: AsyncCambClient, router: respx.Router, answer: object
) -> None:
    """Row 12 (docs): dub-alt-format answering the rendered file's URL at once gives a FileUrl."""
    router.post("/dub-alt-format/8/54").respond(200, json=answer)
    created = await client.dubbing_alt_format.create(run_id=8, language=54, output_format="mp3")
    assert isinstance(created, FileUrl)
    assert created.output_url == URL


@pytest.mark.parametrize(
    ("answer", "missed"),
    [({"message": "queued"}, "neither a task_id nor an output_url"), ({"task_id": 5}, "task_id")],
    ids=["neither", "int-task-id"],
)
async def test_alt_format_create_unreadable(
    client: AsyncCambClient, router: respx.Router, answer: object, missed: str
) -> None:
    """A dub-alt-format answer with neither a task nor a URL is a ResponseValidationError saying so."""
    router.post("/dub-alt-format/8/54").respond(200, json=answer)
    with pytest.raises(ResponseValidationError, match=rf"POST /apis/dub-alt-format/8/54 .*{missed}"):
        await client.dubbing_alt_format.create(run_id=8, language=54, output_format="mp3")


@pytest.mark.parametrize(
    "answer",
    [{"task_id": "t-9"}, {"task_id": "t-9", "message": "Translation started"}],
    ids=["docs", "sdk-with-message"],
)
async def test_translated_story_create_task(
    client: AsyncCambClient, router: respx.Router, answer: object
) -> None:
    """Row 47: translated-story answering a task id (with or without a message) gives the id."""
    router.post("/translated-story/42").respond(200, json=answer)
    assert await client.translated_story.create(run_id=42, target_language=54) == "t-9"


async def test_translated_story_create_message_only_sdk(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """Row 47 (sdk): a message without a task id gives a StoryMessage, extras kept."""
    answer = {"message": "Target language already added", "task_id": None, "code": 7}
    router.post("/translated-story/42").respond(200, json=answer)
    created = await client.translated_story.create(run_id=42, target_language=54)
    assert isinstance(created, StoryMessage)
    assert created.message == "Target language already added"
    assert created.model_extra == {"code": 7}


async def test_translated_story_create_empty_is_unreadable(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A translated-story answer with neither a task id nor a message names task_id."""
    router.post("/translated-story/42").respond(200, json={})
    with pytest.raises(ResponseValidationError, match="task_id: missing"):
        await client.translated_story.create(run_id=42, target_language=54)


async def test_story_create_task_docs_sdk(client: AsyncCambClient, router: respx.Router) -> None:
    """Row 42: a story create answered with a task gives its id."""
    router.post("/story").respond(200, json={"task_id": "t-9"})
    assert await client.story.create(file=io.BytesIO(b"x"), source_language=1) == "t-9"


async def test_story_create_setup_sdk_names_the_run(client: AsyncCambClient, router: respx.Router) -> None:
    """Row 42 (sdk): a story create answered with a finished setup has no task to return: the
    ResponseValidationError names the run and story.setup(), which reads that answer."""
    setup = {"run_id": 4242, "story_details": {"story_title": "The Fox"}}
    router.post("/story").respond(200, json=setup)
    with pytest.raises(ResponseValidationError, match=r"run_id 4242.*story\.setup\(\)"):
        await client.story.create(file=io.BytesIO(b"x"), source_language=1)
    router.post("/story-setup").respond(200, json=setup)
    done = await client.story.setup(file=io.BytesIO(b"x"), source_language=1)
    assert (done.run_id, done.story_details) == (4242, {"story_title": "The Fox"})


# -- results ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ResultShape:
    id: str
    path: str
    answer: object
    call: Callable[[AsyncCambClient], Awaitable[object]]
    check: Callable[[Any], bool]


def _dub(result: object) -> bool:
    return (
        isinstance(result, DubbingResult)
        and (result.audio_url, result.video_url) == ("https://f.test/a.mp3", "https://f.test/v.mp4")
        and result.transcript == [SEGMENT_READ]
    )


def _file_url(result: object) -> bool:
    return isinstance(result, FileUrl) and result.output_url == URL


def _segments(result: object) -> bool:
    return isinstance(result, TranscriptionResult) and result.transcript == [SEGMENT_READ]


DUB_SDK = {"audio_url": "https://f.test/a.mp3", "video_url": "https://f.test/v.mp4", "transcript": [SEGMENT]}
DUB_DOCS = {
    "run_id": 7,
    "output_audio_url": "https://f.test/a.mp3",
    "output_video_url": "https://f.test/v.mp4",
    "transcript": [SEGMENT],
}
PROJECT = {"project_name": "P", "studio_url": "https://studio.test/p"}

RESULT_SHAPES = [
    ResultShape("row3-tts-output_url-sdk", "/tts-result/7", {"output_url": URL},
                lambda c: c.tts.result(7, output_type="file_url"), _file_url),
    ResultShape("row3-tts-bare-url-sdk", "/tts-result/7", URL,
                lambda c: c.tts.result(7, output_type="file_url"), _file_url),
    ResultShape("row3-tts-file_url", "/tts-result/7", {"file_url": URL},
                lambda c: c.tts.result(7, output_type="file_url"), _file_url),
    ResultShape("row9-dub-result-sdk", "/dub-result/7", DUB_SDK, lambda c: c.dubbing.result(7), _dub),
    ResultShape("row9-dub-result-docs", "/dub-result/7", DUB_DOCS, lambda c: c.dubbing.result(7), _dub),
    ResultShape("row9-dub-result-per-language-sdk", "/dub-result/7", {"es-es": DUB_SDK},
                lambda c: c.dubbing.result(7), lambda r: _dub(r["es-es"])),
    ResultShape("row9-dub-result-per-language-docs", "/dub-result/7", {"es-es": DUB_DOCS},
                lambda c: c.dubbing.result(7), lambda r: _dub(r["es-es"])),
    ResultShape("row14-alt-format-result-docs", "/dub-result/7", DUB_DOCS,
                lambda c: c.dubbing_alt_format.result(7), _dub),
    ResultShape("row11-dub-transcript", "/transcript/7/es-es", {"es-es": "Hola"},
                lambda c: c.dubbing.transcript(7, "es-es"), lambda r: r == {"es-es": "Hola"}),
    ResultShape("row19-translation", "/translation-result/7", {"texts": ["Hola"]},
                lambda c: c.translation.result(7),
                lambda r: isinstance(r, TranslationResult) and r.texts == ["Hola"]),
    ResultShape("row24-transcription-object-sdk", "/transcription-result/7", {"transcript": [SEGMENT]},
                lambda c: c.transcription.result(7), _segments),
    ResultShape("row24-transcription-bare-list-docs", "/transcription-result/7", [SEGMENT],
                lambda c: c.transcription.result(7), _segments),
    ResultShape("row24-transcription-text-sdk", "/transcription-result/7", {"transcript": "WEBVTT"},
                lambda c: c.transcription.result(7, format_type="vtt"),
                lambda r: isinstance(r, TranscriptionResult) and r.transcript == "WEBVTT"),
    ResultShape("row28-text-to-sound-file_url-docs", "/text-to-sound-result/7", {"file_url": URL},
                lambda c: c.text_to_sound.result(7, output_type="file_url"), _file_url),
    ResultShape("row28-text-to-sound-output_url", "/text-to-sound-result/7", {"output_url": URL},
                lambda c: c.text_to_sound.result(7, output_type="file_url"), _file_url),
    ResultShape("row28-text-to-sound-bare-url", "/text-to-sound-result/7", URL,
                lambda c: c.text_to_sound.result(7, output_type="file_url"), _file_url),
    ResultShape("row52-translated-tts-file_url", "/tts-result/7", {"file_url": URL},
                lambda c: c.translated_tts.result(7, output_type="file_url"), _file_url),
    ResultShape("row32-text-to-voice", "/text-to-voice-result/7", {"previews": [URL, URL]},
                lambda c: c.text_to_voice.result(7),
                lambda r: isinstance(r, TextToVoiceResult) and r.previews == [URL, URL]),
    ResultShape("row35-audio-separation", "/audio-separation-result/7",
                {"foreground_audio_url": URL, "background_audio_url": URL},
                lambda c: c.audio_separation.result(7),
                lambda r: isinstance(r, AudioSeparationResult) and r.background_audio_url == URL),
    ResultShape("row45-story", "/story-result/7", {"audio_url": URL, "dialogue_url": URL, "transcript": []},
                lambda c: c.story.result(7),
                lambda r: isinstance(r, StoryResult) and r.model_extra is not None
                and r.model_extra["audio_url"] == URL),
    ResultShape("row49-translated-story", "/translated-story-result/7/54", {"audio_url": URL},
                lambda c: c.translated_story.result(7, target_language="es-es"),
                lambda r: isinstance(r, StoryResult) and r.model_extra == {"audio_url": URL}),
    ResultShape("row3-tts-raw-bytes-docs", "/tts-result/7", None, lambda c: c.tts.result(7),
                lambda r: r == b"fLaC"),
    ResultShape("row39-sub-result", "/sub-result/7", {"run_id": 7, "subtitles": "1\n00:00"},
                lambda c: c.subtitles.result(7), lambda r: r == {"run_id": 7, "subtitles": "1\n00:00"}),
    ResultShape("row40-sub-result-language", "/sub-result/7/fr-fr", "WEBVTT",
                lambda c: c.subtitles.result(7, language="fr-fr", format_type="vtt"), lambda r: r == "WEBVTT"),
    ResultShape("row55-project-setup-sdk", "/project-setup-result/7", {"run_id": 7, "project_details": PROJECT},
                lambda c: c.project_setup.result(7),
                lambda r: isinstance(r, ProjectSetupResult) and r.project_details == PROJECT),
    ResultShape("row55-project-setup-docs", "/project-setup-result/7", {"run_id": 7, "run_details": PROJECT},
                lambda c: c.project_setup.result(7),
                lambda r: isinstance(r, ProjectSetupResult) and r.project_details == PROJECT),
]  # fmt: skip


@pytest.mark.parametrize("case", RESULT_SHAPES, ids=[case.id for case in RESULT_SHAPES])
async def test_result_reads_every_documented_shape(
    client: AsyncCambClient, router: respx.Router, case: ResultShape
) -> None:
    """Each family's result() reads its reference page's answer and camb-sdk's alike."""
    if case.answer is None:  # a file's bytes
        router.get(case.path).respond(200, content=b"fLaC", content_type="audio/flac")
    else:
        router.get(case.path).respond(200, json=case.answer)
    assert case.check(await case.call(client))


async def test_project_setup_result_empty_body_sdk(client: AsyncCambClient, router: respx.Router) -> None:
    """Row 55 (sdk): an empty project-setup-result body is None."""
    router.get("/project-setup-result/7").respond(200, content=b"")
    assert await client.project_setup.result(7) is None


BATCH_SHAPES = [
    ResultShape("row4-tts-output_url-docs-sdk", "/tts-results", {"1": {"output_url": URL}, "2": URL},
                lambda c: c.tts.results([1, 2]), lambda r: _file_url(r[1]) and _file_url(r[2])),
    ResultShape("row10-dubbing-both", "/dubbing-results", {"1": DUB_SDK, "2": {"es-es": DUB_DOCS}},
                lambda c: c.dubbing.results([1, 2]), lambda r: _dub(r[1]) and _dub(r[2]["es-es"])),
    ResultShape("row25-transcription", "/transcription-results", {"1": {"transcript": [SEGMENT]}, "2": [SEGMENT]},
                lambda c: c.transcription.results([1, 2]), lambda r: _segments(r[1]) and _segments(r[2])),
    ResultShape("row29-text-to-sound", "/text-to-sound-results", {"1": {"output_url": URL}, "2": {"file_url": URL}},
                lambda c: c.text_to_sound.results([1, 2]), lambda r: _file_url(r[1]) and _file_url(r[2])),
    ResultShape("row20-translation", "/translation-results", {"1": {"texts": ["a"]}, "2": {"texts": ["b"]}},
                lambda c: c.translation.results([1, 2]),
                lambda r: r == {1: TranslationResult(texts=["a"]), 2: TranslationResult(texts=["b"])}),
    ResultShape("row36-audio-separation", "/audio-separation-results",
                {"1": {"foreground_audio_url": URL, "background_audio_url": URL}, "2": {"foreground_audio_url": URL, "background_audio_url": URL}},
                lambda c: c.audio_separation.results([1, 2]),
                lambda r: all(isinstance(v, AudioSeparationResult) for v in r.values()) and set(r) == {1, 2}),
    ResultShape("row41-sub-results", "/sub-results", {"1": {"subtitles": "a"}, "2": "WEBVTT"},
                lambda c: c.subtitles.results([1, 2]), lambda r: r == {1: {"subtitles": "a"}, 2: "WEBVTT"}),
    ResultShape("row46-stories", "/stories-results", {"1": {"audio_url": URL}, "2": {"audio_url": URL}},
                lambda c: c.story.results([1, 2]),
                lambda r: r[2].model_extra == {"audio_url": URL} and set(r) == {1, 2}),
    ResultShape("row56-project-setup-list-sdk", "/project-setup-results",
                [{"run_id": 1, "project_details": PROJECT}, {"run_id": 2, "run_details": PROJECT}],
                lambda c: c.project_setup.results([1, 2]),
                lambda r: r[1].project_details == PROJECT == r[2].project_details),
]  # fmt: skip


@pytest.mark.parametrize("case", BATCH_SHAPES, ids=[case.id for case in BATCH_SHAPES])
async def test_results_read_every_documented_shape(
    client: AsyncCambClient, router: respx.Router, case: ResultShape
) -> None:
    """Batch answers hold the same shapes as the single results, mixed in one answer."""
    router.post(case.path).respond(200, json=case.answer)
    assert case.check(await case.call(client))


# -- catalog answers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "name", "folder_id"),
    [
        ([{"team_id": 1, "folder_id": 4, "folder_name": "News", "run_count": 2}], "News", 4),
        ([{"team_id": 1, "name": "News"}], "News", None),
    ],
    ids=["row61-docs", "row61-sdk"],
)
async def test_folders_list_reads_both_shapes(
    client: AsyncCambClient, router: respx.Router, answer: object, name: str, folder_id: int | None
) -> None:
    """folders.list() reads name from name (sdk) or folder_name (docs); other fields are kept."""
    router.get("/folders").respond(200, json=answer)
    (folder,) = await client.folders.list()
    assert isinstance(folder, Folder)
    assert (folder.name, folder.folder_id, folder.team_id) == (name, folder_id, 1)


async def test_languages_docs_sdk(client: AsyncCambClient, router: respx.Router) -> None:
    """Rows 59-60: [{id, language, short_name}] from both language endpoints."""
    answer = [{"id": 35, "language": "English (UK)", "short_name": "en-gb"}]
    router.get("/source-languages").respond(200, json=answer)
    router.get("/target-languages").respond(200, json=answer)
    for languages in (await client.languages.source(), await client.languages.target()):
        assert [(lang.id, lang.short_name) for lang in languages] == [(35, "en-gb")]


async def test_dictionaries_docs_sdk(client: AsyncCambClient, router: respx.Router) -> None:
    """Rows 63, 65, 67: dictionaries with their terms; the untyped answers come as JSON (row 64-70)."""
    terms = [{"id": 3, "term_translations": [{"language": 1, "term_text": "CAMB"}]}]
    router.get("/dictionaries").respond(200, json=[{"id": 1, "name": "Brand", "description": None}])
    router.get("/dictionaries/1/full-details").respond(
        200, json={"id": 1, "name": "Brand", "dictionary_terms": terms}
    )
    router.post("/folders/create").respond(
        200, json={"status": "ok", "folder_id": 9, "folder_name": "News", "message": "created"}
    )
    router.delete("/dictionaries/1").respond(200, content=b"")
    (listed,) = await client.dictionaries.list()
    full = await client.dictionaries.get(1, full=True)
    assert (listed.id, listed.name) == (1, "Brand")
    assert full.dictionary_terms is not None
    assert full.dictionary_terms[0].term_translations[0].term_text == "CAMB"
    assert await client.folders.create(name="News") == {
        "status": "ok",
        "folder_id": 9,
        "folder_name": "News",
        "message": "created",
    }
    assert await client.dictionaries.delete(1) is None


async def test_custom_voice_docs_sdk(client: AsyncCambClient, router: respx.Router) -> None:
    """Row 58: {"voice_id"} gives the new voice's id."""
    router.post("/create-custom-voice").respond(200, json={"voice_id": 77})
    assert await client.voices.create(file=io.BytesIO(b"RIFF"), voice_name="N", gender=1) == 77


async def test_translation_stream_text_docs(client: AsyncCambClient, router: respx.Router) -> None:
    """Row 21 (docs): the streamed translation is text, read as it arrives."""
    router.post("/translation/stream").respond(200, content=b"Bonjour", content_type="text/plain")
    async with client.translation.stream(text="Hello", source_language=1, target_language=76) as parts:
        assert "".join([part async for part in parts]) == "Bonjour"


async def test_voices_list_skips_odd_items(
    client: AsyncCambClient, router: respx.Router, caplog: pytest.LogCaptureFixture
) -> None:
    """Row 57: an item without an id, with a null id, or not an object is skipped and logged at DEBUG."""
    answer = [
        {"id": 1, "voice_name": "Ada"},
        {"voice_name": "no id"},
        {"id": None, "voice_name": "null id"},
        "not a voice",
        {"id": 2, "voice_name": "Bo", "accent": "en-gb"},
    ]
    router.get("/list-voices").respond(200, json=answer)
    with caplog.at_level(logging.DEBUG, logger="camb_async"):
        voices = await client.voices.list()
    assert [(v.id, v.voice_name) for v in voices] == [(1, "Ada"), (2, "Bo")]
    assert all(isinstance(v, Voice) for v in voices)
    assert voices[1].model_extra == {"accent": "en-gb"}
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert skipped == [
        "GET /list-voices: skipped item 1, not a voice (id)",
        "GET /list-voices: skipped item 2, not a voice (id)",
        "GET /list-voices: skipped item 3, not a voice (item)",
    ]


async def test_voices_list_that_is_not_a_list_is_unreadable(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A list-voices answer that is not a list at all still raises ResponseValidationError."""
    router.get("/list-voices").respond(200, json={"voices": []})
    with pytest.raises(ResponseValidationError, match="GET /apis/list-voices"):
        await client.with_options(max_retries=0).voices.list()


# -- what unreadable answers say ------------------------------------------------------

EMPTY: dict[str, object] = {}
MANY_MISSING = "missing audio_url, transcript.0.end, transcript.0.start, transcript.0.text, transcript.1.end (and 2 more)"


@pytest.mark.parametrize(
    ("path", "answer", "call", "said"),
    [
        ("/dub-result/7", {"video_url": "v"}, typed(lambda c: c.dubbing.result(7)), "missing audio_url"),
        (
            "/dub-result/7",
            {"audio_url": "a", "transcript": [{"start": 1}]},
            typed(lambda c: c.dubbing.result(7)),
            "missing transcript.0.end, transcript.0.text",
        ),
        (
            "/dub-result/7",
            {"transcript": [EMPTY, EMPTY]},
            typed(lambda c: c.dubbing.result(7)),
            MANY_MISSING,
        ),
        ("/transcription-result/7", {"text": "x"}, typed(lambda c: c.transcription.result(7)), "missing transcript"),
        ("/text-to-sound-result/7", {"url": URL},
         typed(lambda c: c.text_to_sound.result(7, output_type="file_url")), "missing output_url"),
        ("/tts/t-1", {"state": "SUCCESS"}, typed(lambda c: c.tts.status("t-1")), "missing status"),
    ],
    ids=["dub-result", "dub-transcript", "dub-many-missing", "transcription", "file-url", "status"],
)  # fmt: skip
async def test_unreadable_answer_names_the_endpoint_and_missed_fields(
    client: AsyncCambClient,
    router: respx.Router,
    path: str,
    answer: object,
    call: Callable[[AsyncCambClient], Awaitable[object]],
    said: str,
) -> None:
    """A ResponseValidationError names the call and the fields the answer missed, not the shapes tried."""
    router.get(path).respond(200, json=answer)
    with pytest.raises(ResponseValidationError) as caught:
        await call(client.with_options(max_retries=0))
    text = str(caught.value)
    assert f"GET /apis{path} returned 200" in text
    assert text.endswith(f": {said}")
    assert "DubbingResult" not in text


# -- languages and models sent ----------------------------------------------------------


@pytest.mark.parametrize("language", ["en-uk", "en-gb", "EN-GB", 35])
async def test_uk_english_is_id_35_on_tts(
    client: AsyncCambClient, router: respx.Router, language: int | str
) -> None:
    """en-uk and en-gb both mean id 35, the int POST /tts takes."""
    route = router.post("/tts").respond(200, json={"task_id": "t-1"})
    await client.tts.create(text="Hello", voice_id=1, language=language)
    assert json.loads(route.calls.last.request.content)["language"] == 35


@pytest.mark.parametrize("language", ["en-uk", "en-gb", 35])
async def test_uk_english_is_en_uk_on_tts_stream(
    client: AsyncCambClient, router: respx.Router, language: int | str
) -> None:
    """tts-stream is sent en-uk for UK English, the locale camb-sdk's schema lists, however it is named."""
    route = router.post("/tts-stream").respond(200, content=b"RIFF")
    async with client.tts.stream(text="Hello", voice_id=1, language=language) as audio:
        assert b"".join([chunk async for chunk in audio]) == b"RIFF"
    assert json.loads(route.calls.last.request.content)["language"] == "en-uk"


async def test_uk_english_as_a_story_translation_target(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """Calls that take only the id read en-uk as 35 too."""
    route = router.post("/translated-story/42").respond(200, json={"task_id": "t-1"})
    await client.translated_story.create(run_id=42, target_language="en-uk")
    assert json.loads(route.calls.last.request.content) == {"target_language": 35}


@pytest.mark.parametrize("model", ["mars-pro", "mars-9-preview"])
async def test_speech_model_takes_any_name(client: AsyncCambClient, router: respx.Router, model: str) -> None:
    """speech_model takes a documented model or any newer name, sent as given."""
    route = router.post("/tts-stream").respond(200, content=b"")
    async with client.tts.stream(text="Hello", voice_id=1, language="en-us", speech_model=model):
        pass
    assert json.loads(route.calls.last.request.content)["speech_model"] == model


async def test_speech_model_blank_is_refused(client: AsyncCambClient, unexpected: respx.Route) -> None:
    """A blank speech_model is refused before any request."""
    with pytest.raises(ValueError, match="speech_model"):
        async with client.tts.stream(text="Hello", voice_id=1, language="en-us", speech_model=" "):
            pass
    assert unexpected.call_count == 0
