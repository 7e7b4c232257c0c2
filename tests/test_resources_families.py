"""Every API family over respx: what each call sends, what it returns, and what it refuses.

Creates are checked on the wire (method, path, the whole JSON body or multipart
form), and so are status polls, results, batch results, the catalog calls
(voices, languages, folders, dictionaries) and the streamed calls.
"""

from __future__ import annotations

import dataclasses
import io
import json
from typing import TYPE_CHECKING, Any, cast, get_args

import httpx
import pydantic_core
import pytest
from support import API_KEY, HTTPX_UNCLOSED_ITERATORS, SEGMENTS, parse_multipart, typed

from camb_async import (
    AsyncCambClient,
    AudioSeparationResult,
    CambError,
    CreateOutcomeUnknownError,
    Dictionary,
    DubbingResult,
    FileUrl,
    Folder,
    InferenceOptions,
    InternalServerError,
    Language,
    OutputConfiguration,
    ProjectSetupResult,
    ResponseValidationError,
    SourceTranscript,
    StoryResult,
    StorySetup,
    SubtitleFormatting,
    TargetTranscript,
    TaskFamily,
    TaskResource,
    TaskState,
    TermTranslation,
    TextToVoiceResult,
    TranscriptionResult,
    TranscriptSegment,
    TranslationResult,
    Voice,
    VoiceSettings,
)
from camb_async._resources import FAMILIES

if TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncIterator, Awaitable, Callable

    import respx

pytestmark = pytest.mark.anyio

MEDIA = bytes(range(256)) * 3 + b"\r\n--not-a-boundary\r\n\x00\xff\r"
"""Upload bytes that a careless multipart writer or reader would mangle."""

TASK_ID = "task-7f3a"

FAMILY_NAMES: list[TaskFamily] = list(get_args(TaskFamily))


def created(task_id: str = TASK_ID) -> httpx.Response:
    """A 200 answer to a create."""
    return httpx.Response(200, json={"task_id": task_id})


def only_request(route: respx.Route) -> httpx.Request:
    """The one request ``route`` received."""
    assert route.call_count == 1
    return route.calls.last.request


def query_of(request: httpx.Request) -> list[tuple[str, str]]:
    """A request's query parameters, sorted."""
    return sorted(request.url.params.multi_items())


def requests_of(route: respx.Route) -> list[httpx.Request]:
    """Every request ``route`` received, in order."""
    calls: list[respx.models.Call] = list(route.calls)
    return [call.request for call in calls]


def resource(client: AsyncCambClient, family: str) -> TaskResource:
    """The client attribute of task family ``family``."""
    found = getattr(client, family)
    assert isinstance(found, TaskResource)
    return found


@pytest.fixture
def media(tmp_path: pathlib.Path) -> pathlib.Path:
    """A file holding ``MEDIA``, named like an audio clip."""
    path = tmp_path / "clip.wav"
    path.write_bytes(MEDIA)
    return path


# -- creates sending JSON ----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class JsonCreate:
    """A call that POSTs a JSON body: the call, where it goes, and the exact body."""

    id: str
    path: str
    call: Callable[[AsyncCambClient, pathlib.Path], Awaitable[object]]
    body: dict[str, object]
    answer: dict[str, object] = dataclasses.field(default_factory=lambda: {"task_id": TASK_ID})
    returns: object = TASK_ID


JSON_CREATES = [
    JsonCreate(
        "tts",
        "/tts",
        lambda c, _: c.tts.create(text="Hello", voice_id=20303, language=1),
        {"text": "Hello", "voice_id": 20303, "language": 1},
    ),
    JsonCreate(
        "tts-every-field-locale-as-id",
        "/tts",
        lambda c, _: c.tts.create(
            text="Hola",
            voice_id=0,
            language="es-ES",
            gender=2,
            age=30,
            project_name="Demo",
            project_description="A demo",
            folder_id=0,
        ),
        {
            "text": "Hola",
            "voice_id": 0,
            "language": 54,
            "gender": 2,
            "age": 30,
            "project_name": "Demo",
            "project_description": "A demo",
            "folder_id": 0,
        },
    ),
    JsonCreate(
        "dubbing",
        "/dub",
        lambda c, _: c.dubbing.create(
            video_url="https://v.test/a.mp4", source_language=1, target_language=54
        ),
        {"video_url": "https://v.test/a.mp4", "source_language": 1, "target_language": 54},
    ),
    JsonCreate(
        "dubbing-every-field",
        "/dub",
        lambda c, _: c.dubbing.create(
            video_url="https://v.test/a.mp4",
            source_language="en-us",
            target_languages=[54, "fr-fr"],
            selected_audio_tracks=[0, 2],
            add_output_as_an_audio_track=False,
            chosen_dictionaries=[11],
            ai_optimization=True,
            transcription_mode="slow",
            source_transcript=SourceTranscript(content="1\n00:00:00,000 --> 00:00:01,000\nHi\n"),
            target_transcripts=[
                TargetTranscript(content="1\n00:00:00,000 --> 00:00:01,000\nHola\n", language=54)
            ],
            project_name="P",
            project_description="D",
            folder_id=3,
        ),
        {
            "video_url": "https://v.test/a.mp4",
            "source_language": "en-us",
            "target_languages": [54, "fr-fr"],
            "selected_audio_tracks": [0, 2],
            "add_output_as_an_audio_track": False,
            "chosen_dictionaries": [11],
            "ai_optimization": True,
            "transcription_mode": "slow",
            "source_transcript": {"content": "1\n00:00:00,000 --> 00:00:01,000\nHi\n", "format": "srt"},
            "target_transcripts": [
                {"content": "1\n00:00:00,000 --> 00:00:01,000\nHola\n", "format": "srt", "language": 54}
            ],
            "project_name": "P",
            "project_description": "D",
            "folder_id": 3,
        },
    ),
    JsonCreate(
        "translation",
        "/translate",
        lambda c, _: c.translation.create(texts=["Hello", "World"], source_language=1, target_language=54),
        {"texts": ["Hello", "World"], "source_language": 1, "target_language": 54},
    ),
    JsonCreate(
        "translation-every-field",
        "/translate",
        lambda c, _: c.translation.create(
            texts=("Hi",),
            source_language="en-us",
            target_language="de-de",
            formality=1,
            gender=2,
            age=40,
            chosen_dictionaries=[1, 2],
            project_name="P",
            project_description="D",
            folder_id=9,
        ),
        {
            "texts": ["Hi"],
            "source_language": "en-us",
            "target_language": "de-de",
            "formality": 1,
            "gender": 2,
            "age": 40,
            "chosen_dictionaries": [1, 2],
            "project_name": "P",
            "project_description": "D",
            "folder_id": 9,
        },
    ),
    JsonCreate(
        "text_to_sound",
        "/text-to-sound",
        lambda c, _: c.text_to_sound.create(prompt="Rain on a tin roof"),
        {"prompt": "Rain on a tin roof"},
    ),
    JsonCreate(
        "text_to_sound-every-field",
        "/text-to-sound",
        lambda c, _: c.text_to_sound.create(
            prompt="Calm piano", duration=12.5, audio_type="music", project_name="P", folder_id=1
        ),
        {
            "prompt": "Calm piano",
            "duration": 12.5,
            "audio_type": "music",
            "project_name": "P",
            "folder_id": 1,
        },
    ),
    JsonCreate(
        "text_to_voice",
        "/text-to-voice",
        lambda c, _: c.text_to_voice.create(
            text="Good morning", voice_description="A warm, low voice", project_description="D"
        ),
        {"text": "Good morning", "voice_description": "A warm, low voice", "project_description": "D"},
    ),
    JsonCreate(
        "subtitles",
        "/sub",
        lambda c, _: c.subtitles.create(
            media_url="https://v.test/a.mp4", source_language=1, target_languages=[54, "fr-fr"]
        ),
        {"media_url": "https://v.test/a.mp4", "source_language": 1, "target_languages": [54, "fr-fr"]},
    ),
    JsonCreate(
        "subtitles-every-field",
        "/sub",
        lambda c, _: c.subtitles.create(
            media_url="https://v.test/a.mp4",
            source_language="en-us",
            target_languages=("es-es",),
            transcription_mode="fast",
            formatting_options=SubtitleFormatting(
                max_characters_in_segment=42, min_gap_between_segments_in_frames=0
            ),
            project_name="P",
            project_description="D",
            folder_id=0,
        ),
        {
            "media_url": "https://v.test/a.mp4",
            "source_language": "en-us",
            "target_languages": ["es-es"],
            "transcription_mode": "fast",
            "formatting_options": {"max_characters_in_segment": 42, "min_gap_between_segments_in_frames": 0},
            "project_name": "P",
            "project_description": "D",
            "folder_id": 0,
        },
    ),
    JsonCreate(
        "project_setup",
        "/project-setup",
        lambda c, _: c.project_setup.create(
            media_url="https://v.test/a.mp4", source_language=1, target_languages=[54]
        ),
        {"media_url": "https://v.test/a.mp4", "source_language": 1, "target_languages": [54]},
    ),
    JsonCreate(
        "project_setup-every-field",
        "/project-setup",
        lambda c, _: c.project_setup.create(
            media_url="https://v.test/a.mp4",
            source_language="en-us",
            target_languages=["es-es", 76],
            selected_audio_tracks=[1],
            add_output_as_an_audio_track=True,
            chosen_dictionaries=[4, 5],
            project_name="P",
            project_description="D",
            folder_id=2,
        ),
        {
            "media_url": "https://v.test/a.mp4",
            "source_language": "en-us",
            "target_languages": ["es-es", 76],
            "selected_audio_tracks": [1],
            "add_output_as_an_audio_track": True,
            "chosen_dictionaries": [4, 5],
            "project_name": "P",
            "project_description": "D",
            "folder_id": 2,
        },
    ),
    JsonCreate(
        "translated_tts",
        "/translated-tts",
        lambda c, _: c.translated_tts.create(text="Hello", voice_id=7, source_language=1, target_language=54),
        {"text": "Hello", "voice_id": 7, "source_language": 1, "target_language": 54},
    ),
    JsonCreate(
        "translated_tts-every-field",
        "/translated-tts",
        lambda c, _: c.translated_tts.create(
            text="Hello",
            voice_id=7,
            source_language="en-us",
            target_language="it-it",
            age=22,
            formality=2,
            gender=1,
            chosen_dictionaries=[3],
            project_name="P",
            project_description="D",
            folder_id=8,
        ),
        {
            "text": "Hello",
            "voice_id": 7,
            "source_language": "en-us",
            "target_language": "it-it",
            "age": 22,
            "formality": 2,
            "gender": 1,
            "chosen_dictionaries": [3],
            "project_name": "P",
            "project_description": "D",
            "folder_id": 8,
        },
    ),
    JsonCreate(
        "translated_story",
        "/translated-story/42",
        lambda c, _: c.translated_story.create(run_id=42, target_language=54),
        {"target_language": 54},
        answer={"message": "Task queued", "task_id": TASK_ID},
    ),
    JsonCreate(
        "dubbing_alt_format",
        "/dub-alt-format/42/es-es",
        lambda c, _: c.dubbing_alt_format.create(run_id=42, language="es-es", output_format="mp4"),
        {"output_format": "mp4"},
    ),
    JsonCreate(
        "dubbing_alt_format-int-language",
        "/dub-alt-format/42/54",
        lambda c, _: c.dubbing_alt_format.create(run_id=42, language=54, output_format="flac"),
        {"output_format": "flac"},
    ),
    JsonCreate(
        "folders.create",
        "/folders/create",
        lambda c, _: c.folders.create(name="News"),
        {"folder_name": "News"},
        answer={"folder_id": 12, "name": "News"},
        returns={"folder_id": 12, "name": "News"},
    ),
]


@pytest.mark.parametrize("case", JSON_CREATES, ids=[case.id for case in JSON_CREATES])
async def test_json_create_sends_exactly_its_body(
    client: AsyncCambClient, router: respx.Router, media: pathlib.Path, case: JsonCreate
) -> None:
    """A create POSTs exactly the fields given (unset ones left out) as JSON, and returns the task id."""
    route = router.post(case.path).respond(200, json=case.answer)
    assert await case.call(client, media) == case.returns
    request = only_request(route)
    assert request.method == "POST"
    assert request.url.raw_path == b"/apis" + case.path.encode()
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-api-key"] == API_KEY
    assert json.loads(request.content) == case.body


# -- creates sending a multipart form ----------------------------------------------


@dataclasses.dataclass(frozen=True)
class FormCreate:
    """A call that POSTs a multipart form: the call, where it goes, its form fields and files."""

    id: str
    path: str
    call: Callable[[AsyncCambClient, pathlib.Path], Awaitable[object]]
    fields: dict[str, str | list[str]]
    files: dict[str, tuple[str, bytes]]
    answer: dict[str, object] = dataclasses.field(default_factory=lambda: {"task_id": TASK_ID})
    returns: object = TASK_ID


async def separate_open_file(client: AsyncCambClient, media: pathlib.Path) -> str:
    """audio_separation.create of a file object the caller opened (and closes), with every field."""
    with media.open("rb") as file:
        return await client.audio_separation.create(
            media=file, project_name="P", project_description="D", folder_id=0
        )


FORM_CREATES = [
    FormCreate(
        "transcription-path",
        "/transcribe",
        lambda c, m: c.transcription.create(language=1, media=m),
        {"language": "1"},
        {"media_file": ("clip.wav", MEDIA)},
    ),
    FormCreate(
        "transcription-every-field",
        "/transcribe",
        lambda c, m: c.transcription.create(
            language="auto",
            media=io.BytesIO(MEDIA),
            transcription_mode="slow",
            run_audio_cleaning=False,
            include_music_in_fg=True,
            formatting_options=SubtitleFormatting(
                max_segment_duration_in_seconds=2.5, max_characters_in_segment=42
            ),
            project_name="P",
            project_description="D",
            folder_id=7,
        ),
        {
            "language": "auto",
            "transcription_mode": "slow",
            "run_audio_cleaning": "false",
            "include_music_in_fg": "true",
            "formatting_options": '{"max_segment_duration_in_seconds":2.5,"max_characters_in_segment":42}',
            "project_name": "P",
            "project_description": "D",
            "folder_id": "7",
        },
        {"media_file": ("media_file", MEDIA)},
    ),
    FormCreate(
        "audio_separation",
        "/audio-separation",
        lambda c, m: c.audio_separation.create(media=m),
        {},
        {"media_file": ("clip.wav", MEDIA)},
    ),
    FormCreate(
        "audio_separation-every-field",
        "/audio-separation",
        lambda c, m: separate_open_file(c, m),
        {"project_name": "P", "project_description": "D", "folder_id": "0"},
        {"media_file": ("clip.wav", MEDIA)},
    ),
    FormCreate(
        "story",
        "/story",
        lambda c, m: c.story.create(file=m, source_language=1),
        {"source_language": "1"},
        {"file": ("clip.wav", MEDIA)},
    ),
    FormCreate(
        "story-every-field",
        "/story",
        lambda c, m: c.story.create(
            file=m,
            source_language=1,
            title="The Fox",
            description="A short tale",
            narrator_voice_id=5,
            folder_id=0,
            chosen_dictionaries=[3, 4],
        ),
        {
            "source_language": "1",
            "title": "The Fox",
            "description": "A short tale",
            "narrator_voice_id": "5",
            "folder_id": "0",
            "chosen_dictionaries": ["3", "4"],
        },
        {"file": ("clip.wav", MEDIA)},
    ),
    FormCreate(
        "story.setup",
        "/story-setup",
        lambda c, m: c.story.setup(file=m, source_language=1, title="The Fox"),
        {"source_language": "1", "title": "The Fox"},
        {"file": ("clip.wav", MEDIA)},
        answer={"run_id": 31, "story_details": {"story_title": "The Fox"}, "studio": "x"},
        returns=StorySetup.model_validate(
            {"run_id": 31, "story_details": {"story_title": "The Fox"}, "studio": "x"}
        ),
    ),
    FormCreate(
        "voices.create",
        "/create-custom-voice",
        lambda c, m: c.voices.create(file=m, voice_name="Narrator", gender=1),
        {"voice_name": "Narrator", "gender": "1"},
        {"file": ("clip.wav", MEDIA)},
        answer={"voice_id": 991},
        returns=991,
    ),
    FormCreate(
        "voices.create-every-field",
        "/create-custom-voice",
        lambda c, m: c.voices.create(
            file=io.BytesIO(MEDIA),
            voice_name="Narrator",
            gender=2,
            description="Calm",
            age=41,
            language=1,
            enhance_audio=True,
            publish_voice_to_market_place=False,
        ),
        {
            "voice_name": "Narrator",
            "gender": "2",
            "description": "Calm",
            "age": "41",
            "language": "1",
            "enhance_audio": "true",
            "publish_voice_to_market_place": "false",
        },
        {"file": ("file", MEDIA)},
        answer={"voice_id": 992},
        returns=992,
    ),
    FormCreate(
        "dictionaries.create_from_file",
        "/dictionaries/create-from-file",
        lambda c, m: c.dictionaries.create_from_file(file=m, name="Brand terms", description="Names"),
        {"dictionary_name": "Brand terms", "dictionary_description": "Names"},
        {"dictionary_file": ("clip.wav", MEDIA)},
        answer={"dictionary_id": 6},
        returns={"dictionary_id": 6},
    ),
]


@pytest.mark.parametrize("case", FORM_CREATES, ids=[case.id for case in FORM_CREATES])
async def test_multipart_create_sends_exactly_its_form(
    client: AsyncCambClient, router: respx.Router, media: pathlib.Path, case: FormCreate
) -> None:
    """A multipart create sends its fields as strings (booleans true/false, lists repeated, nested
    objects as JSON text, unset ones left out) and the file byte for byte, and returns the answer."""
    route = router.post(case.path).respond(200, json=case.answer)
    assert await case.call(client, media) == case.returns
    request = only_request(route)
    assert request.method == "POST"
    assert request.url.raw_path == b"/apis" + case.path.encode()
    fields, files = parse_multipart(request)
    assert fields == case.fields
    assert files == case.files


ALL_CREATES: list[JsonCreate | FormCreate] = [*JSON_CREATES, *FORM_CREATES]


async def test_transcription_from_a_url_is_still_multipart(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A transcription of a media URL (no upload) is still sent as multipart/form-data."""
    route = router.post("/transcribe").mock(return_value=created())
    await client.transcription.create(language=1, media_url="https://v.test/a.mp4")
    fields, files = parse_multipart(only_request(route))
    assert fields == {"language": "1", "media_url": "https://v.test/a.mp4"}
    assert files == {}


async def test_transcription_from_a_url_sends_its_fields(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A transcription of a media URL sends the URL and the language as multipart form fields, and no file."""
    route = router.post("/transcribe").mock(return_value=created())
    assert await client.transcription.create(language=1, media_url="https://v.test/a.mp4") == TASK_ID
    fields, files = parse_multipart(only_request(route))
    assert fields == {"language": "1", "media_url": "https://v.test/a.mp4"}
    assert files == {}


SETUP_ANSWER = {"run_id": 4242, "story_details": {"story_title": "The Fox"}}


async def test_story_create_answered_with_a_setup_is_response_validation_error(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A story create answered with a finished setup (no task id) is a ResponseValidationError naming
    the run, not resent."""
    route = router.post("/story").respond(200, json=SETUP_ANSWER)
    with pytest.raises(ResponseValidationError, match="run_id 4242"):
        await client.story.create(file=io.BytesIO(b"x"), source_language=1)
    assert route.call_count == 1


async def test_story_create_answered_with_a_setup_names_the_run(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """The error for a story create answered with a setup names the run it set up, as documented."""
    router.post("/story").respond(200, json=SETUP_ANSWER)
    with pytest.raises(ResponseValidationError, match="4242"):
        await client.story.create(file=io.BytesIO(b"x"), source_language=1)


@pytest.mark.parametrize(
    ("case", "sent"),
    [
        pytest.param(
            typed(lambda c: c.story.create(file=io.BytesIO(b"x"), source_language="en-us")),
            ("/story", "source_language", "1"),
            id="story.create",
        ),
        pytest.param(
            typed(lambda c: c.story.setup(file=io.BytesIO(b"x"), source_language="en-us")),
            ("/story-setup", "source_language", "1"),
            id="story.setup",
        ),
    ],
)
async def test_story_sends_a_locale_as_its_id(
    client: AsyncCambClient,
    router: respx.Router,
    case: Callable[[AsyncCambClient], Awaitable[object]],
    sent: tuple[str, str, str],
) -> None:
    """A story's source language given as a locale is sent as the int id the endpoint takes."""
    path, field, value = sent
    route = router.post(path).respond(200, json={"task_id": TASK_ID, "run_id": 1})
    await case(client)
    fields, _ = parse_multipart(only_request(route))
    assert fields[field] == value


async def test_translated_story_sends_a_locale_as_its_id(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A translated story's target language given as a locale is sent as its int id."""
    route = router.post("/translated-story/42").mock(return_value=created())
    await client.translated_story.create(run_id=42, target_language="es-es")
    assert json.loads(only_request(route).content) == {"target_language": 54}


async def test_dictionary_term_sends_a_locale_as_its_id(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A term translation's language given as a locale is sent as its int id."""
    route = router.post("/dictionaries/5/add-term").respond(200, json={})
    await client.dictionaries.add_term(5, [TermTranslation(translation="hola", language="es-es")])
    assert json.loads(only_request(route).content) == {
        "translations": [{"translation": "hola", "language": 54}]
    }


@pytest.mark.parametrize("case", ALL_CREATES, ids=[case.id for case in ALL_CREATES])
@pytest.mark.parametrize(
    ("failure", "error"),
    [(httpx.Response(500), InternalServerError), (httpx.ReadError, CreateOutcomeUnknownError)],
    ids=["500", "read-error"],
)
async def test_create_is_never_sent_twice(
    client: AsyncCambClient,
    router: respx.Router,
    media: pathlib.Path,
    no_wait: None,
    case: JsonCreate | FormCreate,
    failure: httpx.Response | type[Exception],
    error: type[CambError],
) -> None:
    """A create that failed after it may have reached the server is not sent again."""
    route = router.post(case.path).mock(side_effect=[failure, httpx.Response(200, json=case.answer)])
    with pytest.raises(error):
        await case.call(client, media)
    assert route.call_count == 1


async def test_tts_stream_is_never_sent_twice(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """tts.stream, which makes audio at once, is not sent again after a 500."""
    route = router.post("/tts-stream").mock(side_effect=[httpx.Response(500), httpx.Response(200)])
    with pytest.raises(InternalServerError):
        async with client.tts.stream(text="Hi", voice_id=1, language=1):
            pass  # pragma: no cover
    assert route.call_count == 1


# -- what a create refuses, before any request ------------------------------------

BAD_INPUT = [
    pytest.param(
        typed(lambda c: c.tts.create(text=1, voice_id=1, language=1)),  # type: ignore[arg-type]
        TypeError,
        r"tts\.create\(\): text",
        id="tts-text-int",
    ),
    pytest.param(
        typed(lambda c: c.tts.create(text="Hi", voice_id="1", language=1)),  # type: ignore[arg-type]
        TypeError,
        r"tts\.create\(\): voice_id",
        id="tts-voice_id-str",
    ),
    pytest.param(
        typed(lambda c: c.tts.create(text="Hi", voice_id=True, language=1)),
        TypeError,
        r"tts\.create\(\): voice_id",
        id="tts-voice_id-bool",
    ),
    pytest.param(
        typed(lambda c: c.tts.create(text="  \n", voice_id=1, language=1)),
        ValueError,
        r"tts\.create\(\): text",
        id="tts-text-blank",
    ),
    pytest.param(
        typed(lambda c: c.tts.create(text="Hi", voice_id=-1, language=1)),
        ValueError,
        r"tts\.create\(\): voice_id",
        id="tts-voice_id-negative",
    ),
    pytest.param(
        typed(lambda c: c.tts.create(text="Hi", voice_id=1, language=0)),
        ValueError,
        r"tts\.create\(\): language",
        id="tts-language-zero",
    ),
    pytest.param(
        typed(lambda c: c.tts.create(text="Hi", voice_id=1, language=1, folder_id=-2)),
        ValueError,
        r"tts\.create\(\): folder_id",
        id="tts-folder_id-negative",
    ),
    pytest.param(
        typed(lambda c: c.tts.create(text="Hi", voice_id=1, language=1, age=-5)),
        ValueError,
        r"tts\.create\(\): age",
        id="tts-age-negative",
    ),
    pytest.param(
        typed(lambda c: c.dubbing.create(video_url=1, source_language=1, target_language=2)),  # type: ignore[arg-type]
        TypeError,
        r"dubbing\.create\(\): video_url",
        id="dubbing-video_url-int",
    ),
    pytest.param(
        typed(lambda c: c.dubbing.create(video_url="https://v.test/a.mp4", source_language=1)),
        ValueError,
        r"dubbing\.create\(\).*target_language",
        id="dubbing-no-target",
    ),
    pytest.param(
        typed(
            lambda c: c.dubbing.create(
                video_url="https://v.test/a.mp4",
                source_language=1,
                target_language=2,
                selected_audio_tracks=[-1],
            )
        ),
        ValueError,
        r"dubbing\.create\(\): selected_audio_tracks\.0",
        id="dubbing-track-negative",
    ),
    pytest.param(
        typed(lambda c: c.translation.create(texts=[], source_language=1, target_language=2)),
        ValueError,
        r"translation\.create\(\): texts",
        id="translation-texts-empty",
    ),
    pytest.param(
        typed(lambda c: c.translation.create(texts=["ok", " "], source_language=1, target_language=2)),
        ValueError,
        r"translation\.create\(\): texts\.1",
        id="translation-text-blank",
    ),
    pytest.param(
        typed(lambda c: c.translation.create(texts="Hello", source_language=1, target_language=2)),
        TypeError,
        r"translation\.create\(\): texts",
        id="translation-texts-str",
    ),
    pytest.param(
        typed(lambda c: c.transcription.create(language=True, media_url="https://v.test/a.mp4")),
        TypeError,
        r"transcription\.create\(\): language",
        id="transcription-language-bool",
    ),
    pytest.param(
        typed(lambda c: c.transcription.create(language=1)),
        ValueError,
        r"transcription\.create\(\).*media",
        id="transcription-no-media",
    ),
    pytest.param(
        typed(
            lambda c: c.transcription.create(language=1, media=io.BytesIO(b"x"), media_url="https://v.test/a")
        ),
        ValueError,
        r"transcription\.create\(\).*media_url",
        id="transcription-both-media",
    ),
    pytest.param(
        typed(lambda c: c.text_to_sound.create(prompt="")),
        ValueError,
        r"text_to_sound\.create\(\): prompt",
        id="text_to_sound-prompt-empty",
    ),
    pytest.param(
        typed(lambda c: c.text_to_sound.create(prompt="Rain", duration=0)),
        ValueError,
        r"text_to_sound\.create\(\): duration",
        id="text_to_sound-duration-zero",
    ),
    pytest.param(
        typed(lambda c: c.text_to_sound.create(prompt="Rain", duration="5")),  # type: ignore[arg-type]
        TypeError,
        r"text_to_sound\.create\(\): duration",
        id="text_to_sound-duration-str",
    ),
    pytest.param(
        typed(lambda c: c.text_to_voice.create(text="Hi", voice_description=1)),  # type: ignore[arg-type]
        TypeError,
        r"text_to_voice\.create\(\): voice_description",
        id="text_to_voice-description-int",
    ),
    pytest.param(
        typed(lambda c: c.text_to_voice.create(text="\t", voice_description="warm")),
        ValueError,
        r"text_to_voice\.create\(\): text",
        id="text_to_voice-text-blank",
    ),
    pytest.param(
        typed(lambda c: c.audio_separation.create(media=io.BytesIO(b"x"), folder_id="1")),  # type: ignore[arg-type]
        TypeError,
        r"audio_separation\.create\(\): folder_id",
        id="audio_separation-folder_id-str",
    ),
    pytest.param(
        typed(
            lambda c: c.subtitles.create(media_url="https://v.test/a", source_language=1, target_languages=[])
        ),
        ValueError,
        r"subtitles\.create\(\): target_languages",
        id="subtitles-targets-empty",
    ),
    pytest.param(
        typed(
            lambda c: c.subtitles.create(
                media_url="https://v.test/a",
                source_language=1,
                target_languages=[2],
                formatting_options={"max_characters_in_segment": 0},  # type: ignore[arg-type]
            )
        ),
        ValueError,
        r"subtitles\.create\(\): formatting_options\.max_characters_in_segment",
        id="subtitles-formatting-out-of-range",
    ),
    pytest.param(
        typed(lambda c: c.story.create(file=io.BytesIO(b"x"), source_language=1, narrator_voice_id="5")),  # type: ignore[arg-type]
        TypeError,
        r"story\.create\(\): narrator_voice_id",
        id="story-narrator-str",
    ),
    pytest.param(
        typed(lambda c: c.story.create(file=io.BytesIO(b"x"), source_language=-3)),
        ValueError,
        r"story\.create\(\): source_language",
        id="story-language-negative",
    ),
    pytest.param(
        typed(
            lambda c: c.project_setup.create(
                media_url="https://v.test/a", source_language=1, target_languages="es"
            )
        ),
        TypeError,
        r"project_setup\.create\(\): target_languages",
        id="project_setup-targets-str",
    ),
    pytest.param(
        typed(lambda c: c.project_setup.create(media_url=" ", source_language=1, target_languages=[2])),
        ValueError,
        r"project_setup\.create\(\): media_url",
        id="project_setup-url-blank",
    ),
    pytest.param(
        typed(
            lambda c: c.translated_tts.create(
                text="Hi",
                voice_id="7",  # type: ignore[arg-type]
                source_language=1,
                target_language=2,
            )
        ),
        TypeError,
        r"translated_tts\.create\(\): voice_id",
        id="translated_tts-voice_id-str",
    ),
    pytest.param(
        typed(
            lambda c: c.translated_tts.create(text="Hi", voice_id=7, source_language=1, target_language=-2)
        ),
        ValueError,
        r"translated_tts\.create\(\): target_language",
        id="translated_tts-language-negative",
    ),
    pytest.param(
        typed(lambda c: c.translated_story.create(run_id=42, target_language="bad locale\n")),
        ValueError,
        r"translated_story\.create\(\): target_language",
        id="translated_story-language-control-char",
    ),
    pytest.param(
        typed(lambda c: c.dubbing_alt_format.create(run_id=42, language="es-es", output_format="avi")),  # type: ignore[arg-type]
        ValueError,
        r"dubbing_alt_format\.create\(\): output_format",
        id="dubbing_alt_format-format-unknown",
    ),
    pytest.param(
        typed(lambda c: c.tts.stream(text="Hi", voice_id="1", language="en-us").__aenter__()),  # type: ignore[arg-type]
        TypeError,
        r"tts\.stream\(\): voice_id",
        id="tts.stream-voice_id-str",
    ),
    pytest.param(
        typed(
            lambda c: c.tts.stream(
                text="Hi",
                voice_id=1,
                language="en-us",
                inference_options={"temperature": 5.0},  # type: ignore[arg-type]
            ).__aenter__()
        ),
        ValueError,
        r"tts\.stream\(\): inference_options\.temperature",
        id="tts.stream-temperature-out-of-range",
    ),
    pytest.param(
        typed(
            lambda c: c.tts.stream(
                text="Hi",
                voice_id=1,
                language="en-us",
                inference_options={"inference_steps": 0},  # type: ignore[arg-type]
            ).__aenter__()
        ),
        ValueError,
        r"tts\.stream\(\): inference_options\.inference_steps",
        id="tts.stream-steps-out-of-range",
    ),
    pytest.param(
        typed(lambda c: c.translation.stream(text="", source_language=1, target_language=2).__aenter__()),
        ValueError,
        r"translation\.stream\(\): text",
        id="translation.stream-text-empty",
    ),
    pytest.param(
        typed(lambda c: c.voices.create(file=io.BytesIO(b"x"), voice_name="V", gender="1")),  # type: ignore[arg-type]
        TypeError,
        r"voices\.create\(\): gender",
        id="voices-gender-str",
    ),
    pytest.param(
        typed(lambda c: c.dictionaries.add_term(5, [{"translation": " ", "language": 1}])),  # type: ignore[list-item]
        ValueError,
        r"dictionaries\.add_term\(\): translations\.0\.translation",
        id="add_term-translation-blank",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD_INPUT)
async def test_bad_input_is_refused_before_any_request(
    client: AsyncCambClient,
    unexpected: respx.Route,
    call: Callable[[AsyncCambClient], Awaitable[object]],
    error: type[Exception],
    message: str,
) -> None:
    """A wrong type is a TypeError, a wrong value a ValueError, each naming the call and the field; nothing is sent."""
    with pytest.raises(error, match=message) as caught:
        await call(client)
    assert type(caught.value) is error
    assert unexpected.call_count == 0


@pytest.mark.parametrize(
    "options",
    [{"temperature": 0.0}, {"stability": 1.5}, {"speaker_similarity": -0.1}, {"inference_steps": 1001}],
    ids=["temperature", "stability", "speaker_similarity", "inference_steps"],
)
def test_inference_options_out_of_range_are_value_errors(options: dict[str, Any]) -> None:
    """InferenceOptions refuses values outside the documented ranges (a ValueError naming the field)."""
    with pytest.raises(ValueError, match=next(iter(options))):
        InferenceOptions(**options)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            typed(lambda c: c.tts.create(text="Hi", voice_id=1, language="xx-yy")),
            r"tts\.create\(\).*language",
            id="tts.create-unknown-locale",
        ),
        pytest.param(
            typed(lambda c: c.tts.stream(text="Hi", voice_id=1, language=9999).__aenter__()),
            r"tts\.stream\(\).*language",
            id="tts.stream-unknown-language-id",
        ),
        pytest.param(
            typed(lambda c: c.translated_story.create(run_id=-1, target_language=54)),
            r"translated_story\.create\(\).*run_id",
            id="translated_story-run_id-negative",
        ),
        pytest.param(
            typed(lambda c: c.dubbing_alt_format.create(run_id=-1, language="es-es", output_format="mp4")),
            r"dubbing_alt_format\.create\(\).*run_id",
            id="dubbing_alt_format-run_id-negative",
        ),
    ],
)
async def test_bad_values_checked_after_the_model_name_the_call(
    client: AsyncCambClient,
    unexpected: respx.Route,
    call: Callable[[AsyncCambClient], Awaitable[object]],
    message: str,
) -> None:
    """A value refused outside the body model (unknown locale, negative run id) also names the call."""
    try:
        with pytest.raises(ValueError, match=message):
            await call(client)
    finally:
        assert unexpected.call_count == 0


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(typed(lambda c: c.tts.create(text="Hi", voice_id=1, language="xx-yy")), id="tts.create"),
        pytest.param(
            typed(lambda c: c.tts.stream(text="Hi", voice_id=1, language=9999).__aenter__()), id="tts.stream"
        ),
    ],
)
async def test_tts_unknown_language_is_refused_before_any_request(
    client: AsyncCambClient, unexpected: respx.Route, call: Callable[[AsyncCambClient], Awaitable[object]]
) -> None:
    """tts refuses a locale (create) or an id (stream) it cannot convert, naming it, before sending."""
    with pytest.raises(ValueError, match="unknown language"):
        await call(client)
    assert unexpected.call_count == 0


# -- status, watch and wait, per family -------------------------------------------


async def test_every_task_family_is_a_client_attribute_of_its_name(client: AsyncCambClient) -> None:
    """TaskFamily's values are FAMILIES' keys, and each names a client attribute of that family."""
    assert set(FAMILY_NAMES) == set(FAMILIES) == set(SEGMENTS)
    assert len(FAMILY_NAMES) == len(FAMILIES)
    for name in FAMILY_NAMES:
        family = resource(client, name)
        assert type(family) is FAMILIES[name]
        assert family.family == name
        assert family.endpoints.segment == SEGMENTS[name]


@pytest.mark.parametrize("family", FAMILY_NAMES)
async def test_status_polls_the_family_path(
    client: AsyncCambClient, router: respx.Router, family: TaskFamily
) -> None:
    """<family>.status(task_id) GETs /{segment}/{task_id} and returns its status."""
    route = router.get(f"/{SEGMENTS[family]}/{TASK_ID}").respond(200, json={"status": "PENDING", "eta": 3})
    status = await resource(client, family).status(TASK_ID)
    assert status.status == TaskState.PENDING
    assert status.model_extra == {"eta": 3}
    assert only_request(route).url.raw_path == f"/apis/{SEGMENTS[family]}/{TASK_ID}".encode()


@pytest.mark.parametrize("family", FAMILY_NAMES)
async def test_client_status_by_family_name_reaches_the_same_path(
    client: AsyncCambClient, router: respx.Router, family: TaskFamily
) -> None:
    """client.status(task_id, family=name) polls the same path as client.<name>.status."""
    route = router.get(f"/{SEGMENTS[family]}/{TASK_ID}").respond(200, json={"status": "SUCCESS", "run_id": 5})
    status = await client.status(TASK_ID, family=family)
    assert status.run_id == 5
    assert route.call_count == 1


@pytest.mark.parametrize("family", FAMILY_NAMES)
async def test_wait_polls_the_family_path_until_done(
    client: AsyncCambClient, router: respx.Router, no_wait: None, family: TaskFamily
) -> None:
    """<family>.wait and client.wait(family=) poll the family's path until SUCCESS and return it."""
    answers = [{"status": "PENDING"}, {"status": "PENDING"}, {"status": "SUCCESS", "run_id": 77}]
    route = router.get(f"/{SEGMENTS[family]}/{TASK_ID}").mock(
        side_effect=[httpx.Response(200, json=a) for a in answers * 2]
    )
    final = await resource(client, family).wait(TASK_ID)
    assert (final.status, final.run_id) == (TaskState.SUCCESS, 77)
    assert route.call_count == 3
    final = await client.wait(TASK_ID, family=family)
    assert final.run_id == 77
    assert route.call_count == 6


async def test_task_id_is_one_encoded_path_segment_for_every_family(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A task id that needs encoding is sent as one percent-encoded segment."""
    route = router.route(method="GET").respond(200, json={"status": "PENDING"})
    for family in FAMILY_NAMES:
        await resource(client, family).status("id with space")
        assert route.calls.last.request.url.raw_path == f"/apis/{SEGMENTS[family]}/id%20with%20space".encode()


# -- project setup's status shapes ---------------------------------------------------

PROJECT = {
    "run_id": 501,
    "project_details": {"project_name": "P", "studio_url": "https://studio.test/p/501"},
    "team": "t",
}


async def test_project_setup_status_list_reads_as_success(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """A non-empty list answer is SUCCESS with the first project's run_id, every project kept under `projects`."""
    second: dict[str, object] = {"run_id": 502, "project_details": {}}
    router.get(f"/project-setup/{TASK_ID}").respond(200, json=[PROJECT, second])
    status = await client.project_setup.status(TASK_ID)
    assert status.status == TaskState.SUCCESS
    assert status.run_id == 501
    assert status.model_extra is not None
    assert status.model_extra["projects"] == [PROJECT, second]


async def test_project_setup_status_empty_list_reads_as_pending(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """An empty list answer reads as PENDING."""
    router.get(f"/project-setup/{TASK_ID}").respond(200, json=[])
    status = await client.project_setup.status(TASK_ID)
    assert status.status == TaskState.PENDING
    assert status.run_id is None


@pytest.mark.parametrize(
    "answer",
    [{"status": "PENDING"}, {"status": "ERROR", "exception_reason": "PROCESSING_ERROR", "message": "no"}],
)
async def test_project_setup_status_object_reads_as_usual(
    client: AsyncCambClient, router: respx.Router, answer: dict[str, str]
) -> None:
    """An ordinary status object reads as for every family."""
    router.get(f"/project-setup/{TASK_ID}").respond(200, json=answer)
    status = await client.project_setup.status(TASK_ID)
    assert status.model_dump(exclude_none=True) == answer


async def test_project_setup_wait_ends_on_a_list(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """wait() on a project setup ends when the status endpoint answers the list of projects."""
    route = router.get(f"/project-setup/{TASK_ID}").mock(
        side_effect=[httpx.Response(200, json=[]), httpx.Response(200, json=[PROJECT])]
    )
    final = await client.wait(TASK_ID, family="project_setup")
    assert (final.status, final.run_id) == (TaskState.SUCCESS, 501)
    assert route.call_count == 2


@pytest.mark.parametrize("body", [b"", b"  \n"], ids=["empty", "blank"])
async def test_project_setup_result_on_an_empty_body_is_none(
    client: AsyncCambClient, router: respx.Router, body: bytes
) -> None:
    """project_setup.result is None when the API answers an empty body."""
    router.get("/project-setup-result/501").respond(200, content=body)
    assert await client.project_setup.result(501) is None


# -- results ----------------------------------------------------------------------

SEGMENT = {"start": 0.0, "end": 1.5, "text": "Hello", "speaker": "SPEAKER_0"}
DUB = {
    "audio_url": "https://files.test/a.flac",
    "video_url": "https://files.test/a.mp4",
    "transcript": [SEGMENT],
    "quality": "hd",
}


@dataclasses.dataclass(frozen=True)
class ResultCase:
    """A result call: what it GETs (path and query), the answer, and the type it returns."""

    id: str
    call: Callable[[AsyncCambClient], Awaitable[object]]
    path: str
    query: list[tuple[str, str]]
    answer: Any
    returns: type
    items: type | None = None


RESULTS = [
    ResultCase("dubbing", lambda c: c.dubbing.result(7), "/dub-result/7", [], DUB, DubbingResult),
    ResultCase(
        "dubbing-per-language",
        lambda c: c.dubbing.result(7),
        "/dub-result/7",
        [],
        {"es-es": DUB, "fr-fr": {**DUB, "audio_url": "https://files.test/b.flac"}},
        dict,
        DubbingResult,
    ),
    ResultCase(
        "dubbing.transcript",
        lambda c: c.dubbing.transcript(7, "es-es", format_type="srt", data_type="file"),
        "/transcript/7/es-es",
        [("data_type", "file"), ("format_type", "srt")],
        {"es-es": "https://files.test/t.srt"},
        dict,
        str,
    ),
    ResultCase(
        "dubbing.transcript-no-query-unless-given-encoded-language",
        lambda c: c.dubbing.transcript(7, "ca-es@valencia"),
        "/transcript/7/ca-es%40valencia",
        [],
        {"text": "Hola"},
        dict,
        str,
    ),
    ResultCase(
        "dubbing.transcript-int-language",
        lambda c: c.dubbing.transcript(7, 54, format_type="vtt"),
        "/transcript/7/54",
        [("format_type", "vtt")],
        {"54": "WEBVTT"},
        dict,
        str,
    ),
    ResultCase(
        "dubbing_alt_format",
        lambda c: c.dubbing_alt_format.result(8),
        "/dub-result/8",
        [],
        DUB,
        DubbingResult,
    ),
    ResultCase(
        "translation",
        lambda c: c.translation.result(7),
        "/translation-result/7",
        [],
        {"texts": ["Hola", "Mundo"], "model": "m1"},
        TranslationResult,
    ),
    ResultCase(
        "transcription",
        lambda c: c.transcription.result(7),
        "/transcription-result/7",
        [],
        {"transcript": [SEGMENT, {**SEGMENT, "start": 1.5, "end": 2.0, "confidence": 0.9}]},
        TranscriptionResult,
    ),
    ResultCase(
        "transcription-export",
        lambda c: c.transcription.result(7, format_type="srt", data_type="raw_data"),
        "/transcription-result/7",
        [("data_type", "raw_data"), ("format_type", "srt")],
        {"transcript": "1\n00:00:00,000 --> 00:00:01,500\nHello\n"},
        TranscriptionResult,
    ),
    ResultCase(
        "transcription-file",
        lambda c: c.transcription.result(7, data_type="file"),
        "/transcription-result/7",
        [("data_type", "file")],
        {"transcript": "https://files.test/t.txt"},
        TranscriptionResult,
    ),
    ResultCase(
        "text_to_voice",
        lambda c: c.text_to_voice.result(7),
        "/text-to-voice-result/7",
        [],
        {"previews": ["https://files.test/p1.wav", "https://files.test/p2.wav"]},
        TextToVoiceResult,
    ),
    ResultCase(
        "audio_separation",
        lambda c: c.audio_separation.result(7),
        "/audio-separation-result/7",
        [],
        {
            "foreground_audio_url": "https://files.test/fg.wav",
            "background_audio_url": "https://files.test/bg.wav",
            "stems": 2,
        },
        AudioSeparationResult,
    ),
    ResultCase(
        "subtitles",
        lambda c: c.subtitles.result(7),
        "/sub-result/7",
        [],
        {"es-es": [{"start": 0, "end": 1, "text": "Hola"}]},
        dict,
    ),
    ResultCase(
        "subtitles-one-language",
        lambda c: c.subtitles.result(7, language="fr-fr", format_type="vtt", data_type="file"),
        "/sub-result/7/fr-fr",
        [("data_type", "file"), ("format_type", "vtt")],
        "https://files.test/s.vtt",
        str,
    ),
    ResultCase(
        "subtitles-encoded-language",
        lambda c: c.subtitles.result(7, language="sr latn"),
        "/sub-result/7/sr%20latn",
        [],
        ["a", "b"],
        list,
    ),
    ResultCase(
        "story",
        lambda c: c.story.result(7),
        "/story-result/7",
        [],
        {"audio_url": "https://files.test/s.flac", "chapters": [1, 2]},
        StoryResult,
    ),
    ResultCase(
        "story-with-transcript",
        lambda c: c.story.result(7, include_transcript=True),
        "/story-result/7",
        [("include_transcript", "true")],
        {"audio_url": "https://files.test/s.flac", "transcript": [SEGMENT]},
        StoryResult,
    ),
    ResultCase(
        "story-without-transcript",
        lambda c: c.story.result(7, include_transcript=False),
        "/story-result/7",
        [("include_transcript", "false")],
        {"audio_url": "https://files.test/s.flac"},
        StoryResult,
    ),
    ResultCase(
        "translated_story",
        lambda c: c.translated_story.result(7, target_language="es-es", include_transcript=False),
        "/translated-story-result/7/54",  # the API takes the language's id
        [("include_transcript", "false")],
        {"audio_url": "https://files.test/s.flac"},
        StoryResult,
    ),
    ResultCase(
        "translated_story-int-language",
        lambda c: c.translated_story.result(7, target_language=54),
        "/translated-story-result/7/54",
        [],
        {"audio_url": "https://files.test/s.flac"},
        StoryResult,
    ),
    ResultCase(
        "project_setup",
        lambda c: c.project_setup.result(501),
        "/project-setup-result/501",
        [],
        PROJECT,
        ProjectSetupResult,
    ),
    ResultCase(
        "tts-file_url",
        lambda c: c.tts.result(7, output_type="file_url"),
        "/tts-result/7",
        [("output_type", "file_url")],
        {"output_url": "https://files.test/7.flac", "expires_in": 600},
        FileUrl,
    ),
    ResultCase(
        "text_to_sound-file_url",
        lambda c: c.text_to_sound.result(7, output_type="file_url"),
        "/text-to-sound-result/7",
        [("output_type", "file_url")],
        {"output_url": "https://files.test/7.wav"},
        FileUrl,
    ),
    ResultCase(
        "translated_tts-file_url",
        lambda c: c.translated_tts.result(7, output_type="file_url"),
        "/tts-result/7",
        [("output_type", "file_url")],
        {"output_url": "https://files.test/7.flac"},
        FileUrl,
    ),
]


@pytest.mark.parametrize("case", RESULTS, ids=[case.id for case in RESULTS])
async def test_result_gets_its_path_and_returns_the_typed_answer(
    client: AsyncCambClient, router: respx.Router, case: ResultCase
) -> None:
    """result() GETs the family's result path and query and returns the answer as its model, extras kept."""
    route = router.route(method="GET").respond(200, json=case.answer)
    result = await case.call(client)
    request = only_request(route)
    assert request.url.raw_path.partition(b"?")[0] == b"/apis" + case.path.encode()
    assert query_of(request) == case.query
    assert type(result) is case.returns
    if case.items is not None:
        assert isinstance(result, dict)
        assert all(type(item) is case.items for item in cast("dict[object, object]", result).values())
    assert pydantic_core.to_jsonable_python(result) == case.answer


async def test_result_keeps_unknown_fields(client: AsyncCambClient, router: respx.Router) -> None:
    """Fields the SDK does not model stay on the result, in model_extra and as attributes."""
    router.get("/dub-result/7").respond(200, json=DUB)
    result = await client.dubbing.result(7)
    assert isinstance(result, DubbingResult)
    assert result.model_extra == {"quality": "hd"}
    assert result.transcript == [TranscriptSegment(start=0.0, end=1.5, text="Hello", speaker="SPEAKER_0")]
    router.get("/story-result/7").respond(200, json={"audio_url": "u", "chapters": 2})
    story = await client.story.result(7)
    assert story.model_extra == {"audio_url": "u", "chapters": 2}


UNFIT = [
    pytest.param(typed(lambda c: c.dubbing.result(7)), "/dub-result/7", {"video_url": "x"}, id="dubbing"),
    pytest.param(
        typed(lambda c: c.dubbing.transcript(7, "es-es")),
        "/transcript/7/es-es",
        {"es-es": [1]},
        id="dubbing.transcript",
    ),
    pytest.param(
        typed(lambda c: c.translation.result(7)), "/translation-result/7", {"texts": "x"}, id="translation"
    ),
    pytest.param(
        typed(lambda c: c.transcription.result(7)),
        "/transcription-result/7",
        {"transcript": 5},
        id="transcription",
    ),
    pytest.param(
        typed(lambda c: c.text_to_voice.result(7)), "/text-to-voice-result/7", {}, id="text_to_voice"
    ),
    pytest.param(
        typed(lambda c: c.audio_separation.result(7)),
        "/audio-separation-result/7",
        {"foreground_audio_url": "x"},
        id="audio_separation",
    ),
    pytest.param(typed(lambda c: c.story.result(7)), "/story-result/7", ["not", "an", "object"], id="story"),
    pytest.param(
        typed(lambda c: c.translated_story.result(7, target_language=54)),
        "/translated-story-result/7/54",
        "text",
        id="translated_story",
    ),
    pytest.param(
        typed(lambda c: c.project_setup.result(7)),
        "/project-setup-result/7",
        {"project_details": {}},
        id="project_setup",
    ),
    pytest.param(
        typed(lambda c: c.tts.result(7, output_type="file_url")),
        "/tts-result/7",
        {"url": "x"},
        id="tts-file_url",
    ),
    pytest.param(
        typed(lambda c: c.dubbing_alt_format.result(7)), "/dub-result/7", [1, 2], id="dubbing_alt_format"
    ),
]


@pytest.mark.parametrize(("call", "path", "answer"), UNFIT)
async def test_result_that_does_not_fit_is_response_validation_error_after_retries(
    client: AsyncCambClient,
    router: respx.Router,
    no_wait: None,
    call: Callable[[AsyncCambClient], Awaitable[object]],
    path: str,
    answer: object,
) -> None:
    """A 2xx result body that does not fit the model is retried (a GET), then ResponseValidationError."""
    route = router.get(path).respond(200, json=answer)
    with pytest.raises(ResponseValidationError):
        await call(client)
    assert route.call_count == 3


# -- batch results ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BatchCase:
    """A batch results call: its path and query, the answer, and what each value becomes."""

    id: str
    call: Callable[[AsyncCambClient, Any], Awaitable[dict[int, Any]]]
    path: str
    answer: Any
    items: type
    query: list[tuple[str, str]] = dataclasses.field(default_factory=list[tuple[str, str]])


BATCHES = [
    BatchCase(
        "tts",
        lambda c, ids: c.tts.results(ids),
        "/tts-results",
        {"7": "https://files.test/7.flac", "8": {"output_url": "https://files.test/8.flac"}},
        FileUrl,
    ),
    BatchCase(
        "dubbing",
        lambda c, ids: c.dubbing.results(ids),
        "/dubbing-results",
        {"7": DUB, "8": DUB},
        DubbingResult,
    ),
    BatchCase(
        "translation",
        lambda c, ids: c.translation.results(ids),
        "/translation-results",
        {"7": {"texts": ["a"]}, "8": {"texts": ["b"]}},
        TranslationResult,
    ),
    BatchCase(
        "transcription",
        lambda c, ids: c.transcription.results(ids),
        "/transcription-results",
        {"7": {"transcript": [SEGMENT]}, "8": {"transcript": []}},
        TranscriptionResult,
    ),
    BatchCase(
        "text_to_sound",
        lambda c, ids: c.text_to_sound.results(ids),
        "/text-to-sound-results",
        {"7": "https://files.test/7.wav", "8": "https://files.test/8.wav"},
        FileUrl,
    ),
    BatchCase(
        "audio_separation",
        lambda c, ids: c.audio_separation.results(ids),
        "/audio-separation-results",
        {
            "7": {"foreground_audio_url": "f7", "background_audio_url": "b7"},
            "8": {"foreground_audio_url": "f8", "background_audio_url": "b8"},
        },
        AudioSeparationResult,
    ),
    BatchCase(
        "subtitles",
        lambda c, ids: c.subtitles.results(ids, format_type="srt", data_type="raw_data"),
        "/sub-results",
        {"7": "1\n...", "8": "2\n..."},
        str,
        [("data_type", "raw_data"), ("format_type", "srt")],
    ),
    BatchCase(
        "story",
        lambda c, ids: c.story.results(ids),
        "/stories-results",
        {"7": {"a": 1}, "8": {}},
        StoryResult,
    ),
    BatchCase(
        "project_setup-list",
        lambda c, ids: c.project_setup.results(ids),
        "/project-setup-results",
        [{**PROJECT, "run_id": 8}, {**PROJECT, "run_id": 7}],
        ProjectSetupResult,
    ),
    BatchCase(
        "project_setup-object",
        lambda c, ids: c.project_setup.results(ids),
        "/project-setup-results",
        {"7": {**PROJECT, "run_id": 7}, "8": {**PROJECT, "run_id": 8}},
        ProjectSetupResult,
    ),
]


@pytest.mark.parametrize("case", BATCHES, ids=[case.id for case in BATCHES])
async def test_results_posts_run_ids_and_keys_answers_by_int(
    client: AsyncCambClient, router: respx.Router, case: BatchCase
) -> None:
    """results(run_ids) POSTs {"run_ids": [...]} to the batch path and returns a dict keyed by int run id."""
    route = router.post(case.path).respond(200, json=case.answer)
    results = await case.call(client, iter([7, 8]))
    request = only_request(route)
    assert request.url.raw_path.partition(b"?")[0] == b"/apis" + case.path.encode()
    assert query_of(request) == case.query
    assert json.loads(request.content) == {"run_ids": [7, 8]}
    assert sorted(results) == [7, 8]
    assert all(type(value) is case.items for value in results.values())


async def test_batch_bare_urls_become_file_urls(client: AsyncCambClient, router: respx.Router) -> None:
    """A batch answer that gives a file result as a bare URL string reads as a FileUrl of it."""
    router.post("/text-to-sound-results").respond(200, json={"7": "https://files.test/7.wav"})
    assert await client.text_to_sound.results([7]) == {7: FileUrl(output_url="https://files.test/7.wav")}


async def test_project_setup_results_list_is_keyed_by_each_run_id(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """project-setup-results' list answer is keyed by each item's run_id, extras kept."""
    router.post("/project-setup-results").respond(200, json=[{**PROJECT, "run_id": 8}, PROJECT])
    results = await client.project_setup.results([501, 8])
    assert sorted(results) == [8, 501]
    assert results[501].project_details == PROJECT["project_details"]
    assert results[8].model_extra == {"team": "t"}


@pytest.mark.parametrize("case", BATCHES, ids=[case.id for case in BATCHES])
@pytest.mark.parametrize(
    ("run_ids", "error"),
    [
        ([2, True], TypeError),
        ([2, "3"], TypeError),
        ([2, -3], ValueError),
        ([2, 3.0], TypeError),
        ("23", TypeError),
    ],
    ids=["bool", "str", "negative", "float", "string"],
)
async def test_results_bad_run_ids_raise_before_any_request(
    client: AsyncCambClient, unexpected: respx.Route, case: BatchCase, run_ids: object, error: type[Exception]
) -> None:
    """Run ids that are not non-negative ints are refused before any request."""
    with pytest.raises(error) as caught:
        await case.call(client, run_ids)
    assert type(caught.value) is error
    assert unexpected.call_count == 0


@pytest.mark.parametrize("run_ids", [[1, 2], [1, 2, 3, 4, 5]], ids=["2", "5"])
async def test_subtitles_results_send_two_to_five_ids(
    client: AsyncCambClient, router: respx.Router, run_ids: list[int]
) -> None:
    """subtitles.results sends 2 and 5 distinct run ids (the API's bounds)."""
    route = router.post("/sub-results").respond(200, json={str(i): "x" for i in run_ids})
    assert sorted(await client.subtitles.results(run_ids)) == run_ids
    assert json.loads(only_request(route).content) == {"run_ids": run_ids}


@pytest.mark.parametrize("case", BATCHES, ids=[case.id for case in BATCHES])
async def test_batch_results_are_retried_like_a_get(
    client: AsyncCambClient, router: respx.Router, no_wait: None, case: BatchCase
) -> None:
    """A batch results POST only reads, so a 503 is retried: 503 then 200 is two calls and an answer."""
    route = router.post(case.path).mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=case.answer)]
    )
    assert sorted(await case.call(client, [7, 8])) == [7, 8]
    assert route.call_count == 2


async def test_batch_results_unfit_answer_is_response_validation_error(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """A batch answer keyed by something that is not a run id is retried, then ResponseValidationError."""
    route = router.post("/translation-results").respond(200, json={"seven": {"texts": []}})
    with pytest.raises(ResponseValidationError):
        await client.translation.results([7, 8])
    assert route.call_count == 3


# -- file results --------------------------------------------------------------------

FILE_FAMILIES = [
    pytest.param("tts", "/tts-result", id="tts"),
    pytest.param("text_to_sound", "/text-to-sound-result", id="text_to_sound"),
    pytest.param("translated_tts", "/tts-result", id="translated_tts"),
]


def file_family(client: AsyncCambClient, family: str) -> Any:
    """The file-result family ``family`` of ``client`` (its result() is overloaded on output_type)."""
    return resource(client, family)


@pytest.mark.parametrize(("family", "path"), FILE_FAMILIES)
async def test_file_result_returns_the_bytes(
    client: AsyncCambClient, router: respx.Router, family: str, path: str
) -> None:
    """result(run_id) GETs the file, with no query, and returns its exact bytes."""
    route = router.get(f"{path}/7").respond(200, content=MEDIA, content_type="audio/flac")
    assert await file_family(client, family).result(7) == MEDIA
    assert await file_family(client, family).result(7, output_type="raw_bytes") == MEDIA
    assert route.call_count == 2
    assert all(query_of(request) == [] for request in requests_of(route))


@pytest.mark.parametrize(("family", "path"), FILE_FAMILIES)
async def test_file_result_url(client: AsyncCambClient, router: respx.Router, family: str, path: str) -> None:
    """result(run_id, output_type="file_url") asks for output_type=file_url and returns a FileUrl."""
    route = router.get(f"{path}/7").respond(200, json={"output_url": "https://files.test/7", "ttl": 60})
    result = await file_family(client, family).result(7, output_type="file_url")
    assert result == FileUrl.model_validate({"output_url": "https://files.test/7", "ttl": 60})
    assert query_of(only_request(route)) == [("output_type", "file_url")]


@pytest.mark.parametrize(("family", "path"), FILE_FAMILIES)
@pytest.mark.parametrize("output_type", ["FILE_URL", "url", "", None])
async def test_file_result_bad_output_type_raises_before_any_request(
    client: AsyncCambClient, unexpected: respx.Route, family: str, path: str, output_type: object
) -> None:
    """An output_type other than raw_bytes/file_url is a ValueError before any request."""
    with pytest.raises(ValueError, match="output_type"):
        await file_family(client, family).result(7, output_type=output_type)
    assert unexpected.call_count == 0


# -- voices, languages, folders, dictionaries ------------------------------------------


async def test_voices_list(client: AsyncCambClient, router: respx.Router) -> None:
    """voices.list GETs /list-voices and returns Voice models, extras kept."""
    answer = [{"id": 1, "voice_name": "Ana", "gender": 2, "accent": "x"}, {"id": 2}]
    route = router.get("/list-voices").respond(200, json=answer)
    voices = await client.voices.list()
    assert only_request(route).method == "GET"
    assert [type(v) for v in voices] == [Voice, Voice]
    assert [(v.id, v.voice_name) for v in voices] == [(1, "Ana"), (2, "")]
    assert voices[0].model_extra == {"accent": "x"}


@pytest.mark.parametrize(
    ("which", "path"), [("source", "/source-languages"), ("target", "/target-languages")]
)
async def test_languages(client: AsyncCambClient, router: respx.Router, which: str, path: str) -> None:
    """languages.source/target GET their list and return Language models."""
    route = router.get(path).respond(200, json=[{"id": 1, "language": "English", "short_name": "en-us"}])
    call = client.languages.source if which == "source" else client.languages.target
    assert await call() == [Language(id=1, language="English", short_name="en-us")]
    assert route.call_count == 1


async def test_folders_list(client: AsyncCambClient, router: respx.Router) -> None:
    """folders.list GETs /folders, with limit and search_query only when given."""
    route = router.get("/folders").respond(200, json=[{"name": "News", "folder_id": 3, "team_id": 1}])
    assert await client.folders.list() == [Folder(name="News", folder_id=3, team_id=1)]
    assert query_of(route.calls.last.request) == []
    await client.folders.list(limit=10, search="new s")
    assert query_of(route.calls.last.request) == [("limit", "10"), ("search_query", "new s")]


async def test_folders_create_empty_answer_is_none(client: AsyncCambClient, router: respx.Router) -> None:
    """folders.create returns None when the API answers an empty body."""
    route = router.post("/folders/create").respond(200, content=b"")
    assert await client.folders.create(name="News") is None
    assert json.loads(only_request(route).content) == {"folder_name": "News"}


async def test_dictionaries_list_and_get(client: AsyncCambClient, router: respx.Router) -> None:
    """dictionaries.list and get(id) GET their paths; get(full=True) asks /full-details with its query."""
    term = {"id": 9, "term_translations": [{"language": 1, "term_text": "hello"}]}
    one = {"id": 5, "name": "Brand", "dictionary_terms": [term], "languages": [1, 54], "owner": "me"}
    listed = router.get("/dictionaries").respond(200, json=[one])
    single = router.get("/dictionaries/5").respond(200, json=one)
    full = router.get("/dictionaries/5/full-details").respond(200, json=one)
    expected = Dictionary.model_validate(one)
    assert await client.dictionaries.list() == [expected]
    assert await client.dictionaries.get(5) == expected
    assert query_of(only_request(single)) == []
    assert await client.dictionaries.get(5, full=True) == expected
    assert query_of(full.calls.last.request) == []
    got = await client.dictionaries.get(5, full=True, limit=20, search_term="hel lo")
    assert query_of(full.calls.last.request) == [("limit", "20"), ("search_term", "hel lo")]
    assert got.model_extra == {"owner": "me"}
    assert got.dictionary_terms is not None
    assert got.dictionary_terms[0].term_translations[0].term_text == "hello"
    assert listed.call_count == 1


async def test_dictionaries_mutations(client: AsyncCambClient, router: respx.Router) -> None:
    """delete, add_term, update_term and delete_term send their method, path and body; empty answers are None."""
    deleted = router.delete("/dictionaries/5").respond(200, content=b"")
    added = router.post("/dictionaries/5/add-term").respond(200, json={"term_id": 9})
    updated = router.put("/dictionaries/term/5/9").respond(200, json={"ok": True})
    removed = router.delete("/dictionaries/term/5/9").respond(204)
    words = [
        TermTranslation(translation="hola", language=54),
        TermTranslation(translation="hello", language=1),
    ]
    sent = {
        "translations": [{"translation": "hola", "language": 54}, {"translation": "hello", "language": 1}]
    }
    assert await client.dictionaries.delete(5) is None
    assert await client.dictionaries.add_term(5, words) == {"term_id": 9}
    assert json.loads(only_request(added).content) == sent
    assert await client.dictionaries.update_term(5, 9, words[:1]) == {"ok": True}
    assert json.loads(only_request(updated).content) == {"translations": sent["translations"][:1]}
    assert await client.dictionaries.delete_term(5, 9) is None
    assert only_request(deleted).method == "DELETE"
    assert only_request(removed).method == "DELETE"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        pytest.param(typed(lambda c: c.dictionaries.get(-1)), ValueError, id="get-negative"),
        pytest.param(typed(lambda c: c.dictionaries.delete(True)), TypeError, id="delete-bool"),
        pytest.param(typed(lambda c: c.dictionaries.delete_term(5, "9")), TypeError, id="delete_term-str"),  # type: ignore[arg-type]
        pytest.param(typed(lambda c: c.folders.list(limit=-1)), ValueError, id="folders-limit-negative"),
        pytest.param(typed(lambda c: c.dubbing.transcript(7, "es/es")), ValueError, id="transcript-slash"),
        pytest.param(
            typed(lambda c: c.subtitles.result(7, language="..")), ValueError, id="subtitles-dotdot"
        ),
        pytest.param(typed(lambda c: c.story.result(-7)), ValueError, id="story-negative"),
        pytest.param(typed(lambda c: c.project_setup.result(True)), TypeError, id="project_setup-bool"),
    ],
)
async def test_bad_ids_and_segments_raise_before_any_request(
    client: AsyncCambClient,
    unexpected: respx.Route,
    call: Callable[[AsyncCambClient], Awaitable[object]],
    error: type[Exception],
) -> None:
    """An id that is not a non-negative int, or a language that is not one path segment, is refused unsent."""
    with pytest.raises(error):
        await call(client)
    assert unexpected.call_count == 0


# -- streamed calls ------------------------------------------------------------------


class Chunks(httpx.AsyncByteStream):
    """A response body sent in the given chunks, noting how many were read and whether it was closed.

    Not an async generator, so that a body left unread leaves no generator to finalize.
    """

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.sent = 0
        self.closed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._Reader(self)

    class _Reader:
        def __init__(self, body: Chunks) -> None:
            self.body = body

        def __aiter__(self) -> Chunks._Reader:
            return self

        async def __anext__(self) -> bytes:
            body = self.body
            if body.closed or body.sent == len(body.chunks):
                raise StopAsyncIteration
            body.sent += 1
            return body.chunks[body.sent - 1]

    async def aclose(self) -> None:
        self.closed = True


def held_generator(chunks: AsyncIterator[bytes]) -> Any:
    """The ``response.aiter_bytes()`` generator the SDK's chunk iterator reads from."""
    return vars(chunks)["_chunks"]


async def test_tts_stream_yields_bytes_and_sends_a_locale(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """tts.stream POSTs /tts-stream with the language as a locale and yields the audio chunks as bytes."""
    body = Chunks([b"ID3", b"\x00\xff", MEDIA])
    route = router.post("/tts-stream").mock(return_value=httpx.Response(200, stream=body))
    async with client.tts.stream(
        text="Hi",
        voice_id=3,
        language=54,
        speech_model="mars-pro",
        output_configuration=OutputConfiguration(format="wav", sample_rate=24000),
        voice_settings=VoiceSettings(apply_ref_loudness_norm=False),
        inference_options=InferenceOptions(temperature=0.7),
    ) as audio:
        chunks = [chunk async for chunk in audio]
    assert b"".join(chunks) == b"ID3\x00\xff" + MEDIA
    assert all(type(chunk) is bytes for chunk in chunks)
    assert body.closed
    assert json.loads(only_request(route).content) == {
        "text": "Hi",
        "voice_id": 3,
        "language": "es-es",
        "speech_model": "mars-pro",
        "output_configuration": {"format": "wav", "sample_rate": 24000},
        "voice_settings": {"apply_ref_loudness_norm": False},
        "inference_options": {"temperature": 0.7},
    }


@HTTPX_UNCLOSED_ITERATORS
async def test_tts_stream_left_early_closes_the_response(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """Leaving tts.stream's block after the first chunk closes the response without reading the rest."""
    body = Chunks([b"a", b"b", b"c", b"d"])
    router.post("/tts-stream").mock(return_value=httpx.Response(200, stream=body))
    async with client.tts.stream(text="Hi", voice_id=3, language="en-us") as audio:
        async for chunk in audio:
            assert chunk == b"a"
            break
    assert body.closed
    assert body.sent == 1


@HTTPX_UNCLOSED_ITERATORS
async def test_tts_stream_left_early_leaves_no_generator_open(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """Leaving tts.stream's block early also closes the body iterator it handed out (no generator to finalize)."""
    router.post("/tts-stream").mock(return_value=httpx.Response(200, stream=Chunks([b"a", b"b"])))
    async with client.tts.stream(text="Hi", voice_id=3, language="en-us") as audio:
        async for _ in audio:
            break
    generator = held_generator(audio)
    try:
        assert generator.ag_frame is None  # closed (or run to its end)
    finally:
        await generator.aclose()  # no warning from this test itself


async def test_translation_stream_decodes_text_chunks(client: AsyncCambClient, router: respx.Router) -> None:
    """translation.stream POSTs its JSON body and yields text, decoding a character split across chunks."""
    encoded = "¡Hola, señor! 你好".encode()
    body = Chunks([encoded[:1], encoded[1:12], encoded[12:20], encoded[20:]])
    route = router.post("/translation/stream").mock(
        return_value=httpx.Response(200, stream=body, headers={"content-type": "text/plain; charset=utf-8"})
    )
    async with client.translation.stream(
        text="Hello, sir! Hi", source_language=1, target_language="es-es", formality=1, team_id=4
    ) as parts:
        texts = [part async for part in parts]
    assert "".join(texts) == "¡Hola, señor! 你好"
    assert all(type(part) is str for part in texts)
    assert body.closed
    assert json.loads(only_request(route).content) == {
        "text": "Hello, sir! Hi",
        "source_language": 1,
        "target_language": "es-es",
        "formality": 1,
        "team_id": 4,
    }


async def test_tts_synthesize_creates_waits_and_returns_audio(
    client: AsyncCambClient, router: respx.Router, no_wait: None, tmp_path: pathlib.Path
) -> None:
    """tts.synthesize creates a task, waits for its run, and returns its audio (or writes it to `to`)."""
    create = router.post("/tts").mock(side_effect=[created("t-1"), created("t-2")])
    router.get("/tts/t-1").mock(
        side_effect=[
            httpx.Response(200, json={"status": "PENDING"}),
            httpx.Response(200, json={"status": "SUCCESS", "run_id": 70}),
        ]
    )
    router.get("/tts/t-2").respond(200, json={"status": "SUCCESS", "run_id": 71})
    router.get("/tts-result/70").respond(200, content=MEDIA)
    router.get("/tts-result/71").respond(200, content=MEDIA[:10])
    assert await client.tts.synthesize(text="Hi", voice_id=1, language="en-us", age=9) == MEDIA
    assert json.loads(requests_of(create)[0].content) == {
        "text": "Hi",
        "voice_id": 1,
        "language": 1,
        "age": 9,
    }
    target = tmp_path / "hi.flac"
    assert await client.tts.synthesize(text="Hi", voice_id=1, language=1, to=target) == 10
    assert target.read_bytes() == MEDIA[:10]


async def test_tts_synthesize_failed_task_raises(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    """tts.synthesize raises the task's error when it fails, and fetches no audio."""
    router.post("/tts").mock(return_value=created())
    router.get(f"/tts/{TASK_ID}").respond(
        200, json={"status": "ERROR", "exception_reason": "PROCESSING_ERROR"}
    )
    with pytest.raises(CambError, match=TASK_ID):
        await client.tts.synthesize(text="Hi", voice_id=1, language=1)
