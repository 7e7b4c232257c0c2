"""Every task family end to end over real TCP: create, watch, wait, result (and download).

One parametrised contract runs each registered family against the bundled
simulator, so a family added to the registry without a case here fails
``test_every_family_has_a_contract_case``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from contextlib import aclosing
from typing import TYPE_CHECKING

import pytest

from camb_async import (
    AsyncCambClient,
    AudioSeparationResult,
    DubbingResult,
    FileUrl,
    ProjectSetupResult,
    StoryResult,
    TaskFamily,
    TaskState,
    TextToVoiceResult,
    TranscriptionResult,
    TranslationResult,
)
from camb_async._resources import FAMILIES
from camb_async.testing import Simulator

if TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

KEY = "sk-contract-key"
MEDIA = b"\x00\x01fake media\xff" * 1000


@pytest.fixture(scope="module")
def quick_sim() -> Iterator[Simulator]:
    """A simulator whose tasks take 50-200 ms, so a contract run is quick."""
    with Simulator(durations=(0.05, 0.2), seed=3) as sim:
        yield sim


@pytest.fixture
async def quick_client(quick_sim: Simulator) -> AsyncIterator[AsyncCambClient]:
    """A client of ``quick_sim`` over real TCP."""
    async with AsyncCambClient(KEY, base_url=quick_sim.url) as client:
        yield client


@dataclasses.dataclass(frozen=True)
class Case:
    """How to create a task of one family, and what its result must be."""

    create: Callable[[AsyncCambClient, Simulator], Awaitable[str]]
    check: Callable[[AsyncCambClient, int], Awaitable[None]]
    is_file: bool = False


def _finished_run(sim: Simulator, family: str, request: dict[str, object]) -> int:
    """The run id of a finished task of ``family`` (a parent run for the families built on one)."""
    task_id = sim.add_task([("SUCCESS", 0.0)], family=family, request=request)
    run_id = sim.record(task_id, family=family).run_id
    assert run_id is not None
    return run_id


async def _check_audio(client: AsyncCambClient, run_id: int) -> None:
    audio = await client.tts.result(run_id)
    assert audio.startswith(b"RIFF")


async def _check_dubbing(client: AsyncCambClient, run_id: int) -> None:
    result = await client.dubbing.result(run_id)
    assert isinstance(result, dict)
    assert set(result) == {"es-es", "fr-fr"}
    assert all(dub.transcript for dub in result.values())
    batch = await client.dubbing.results([run_id])
    assert batch == {run_id: result}


async def _check_translation(client: AsyncCambClient, run_id: int) -> None:
    result = await client.translation.result(run_id)
    assert result == TranslationResult(texts=["[es-es] Hello", "[es-es] World"])
    assert await client.translation.results([run_id]) == {run_id: result}


async def _check_transcription(client: AsyncCambClient, run_id: int) -> None:
    result = await client.transcription.result(run_id)
    assert isinstance(result, TranscriptionResult)
    assert not isinstance(result.transcript, str)
    assert result.transcript[1].text == f"This is run {run_id}."
    srt = await client.transcription.result(run_id, format_type="srt")
    assert isinstance(srt.transcript, str)
    assert "-->" in srt.transcript


async def _check_text_to_sound(client: AsyncCambClient, run_id: int) -> None:
    assert (await client.text_to_sound.result(run_id)).startswith(b"RIFF")
    batch = await client.text_to_sound.results([run_id])
    assert isinstance(batch[run_id], FileUrl)


async def _check_text_to_voice(client: AsyncCambClient, run_id: int) -> None:
    result = await client.text_to_voice.result(run_id)
    assert isinstance(result, TextToVoiceResult)
    assert len(result.previews) == 3


async def _check_audio_separation(client: AsyncCambClient, run_id: int) -> None:
    result = await client.audio_separation.result(run_id)
    assert isinstance(result, AudioSeparationResult)
    assert result.foreground_audio_url != result.background_audio_url


async def _check_subtitles(client: AsyncCambClient, run_id: int) -> None:
    result = await client.subtitles.result(run_id)
    assert isinstance(result, dict)
    assert result["run_id"] == run_id
    per_language = await client.subtitles.result(run_id, language="fr-fr")
    assert isinstance(per_language, dict)


async def _check_story(client: AsyncCambClient, run_id: int) -> None:
    result = await client.story.result(run_id, include_transcript=True)
    assert isinstance(result, StoryResult)
    assert result.model_extra is not None
    assert result.model_extra["title"] == "A tale"
    assert "transcript" in result.model_extra


async def _check_project_setup(client: AsyncCambClient, run_id: int) -> None:
    result = await client.project_setup.result(run_id)
    assert isinstance(result, ProjectSetupResult)
    assert result.run_id == run_id
    assert await client.project_setup.results([run_id]) == {run_id: result}


async def _check_translated_tts(client: AsyncCambClient, run_id: int) -> None:
    assert (await client.translated_tts.result(run_id)).startswith(b"RIFF")


async def _check_translated_story(client: AsyncCambClient, run_id: int) -> None:
    result = await client.translated_story.result(run_id, target_language="es-es")
    assert result.model_extra is not None
    assert result.model_extra["target_language"] == "es-es"


async def _check_alt_format(client: AsyncCambClient, run_id: int) -> None:
    result = await client.dubbing_alt_format.result(run_id)
    assert isinstance(result, DubbingResult)
    assert result.audio_url.endswith(".mp3")


async def _create_translated_story(client: AsyncCambClient, sim: Simulator) -> str:
    story_run = _finished_run(sim, "story", {"source_language": "1", "title": "A tale"})
    return await client.translated_story.create(run_id=story_run, target_language="es-es")


async def _create_alt_format(client: AsyncCambClient, sim: Simulator) -> str:
    dub_run = _finished_run(sim, "dubbing", {"video_url": "https://v.test/a.mp4", "source_language": 1})
    return await client.dubbing_alt_format.create(run_id=dub_run, language="en-us", output_format="mp3")


CASES: dict[TaskFamily, Case] = {
    "tts": Case(
        lambda c, _: c.tts.create(text="Hello", voice_id=1, language="en-us"), _check_audio, is_file=True
    ),
    "dubbing": Case(
        lambda c, _: c.dubbing.create(
            video_url="https://v.test/a.mp4", source_language=1, target_languages=["es-es", "fr-fr"]
        ),
        _check_dubbing,
    ),
    "translation": Case(
        lambda c, _: c.translation.create(
            texts=["Hello", "World"], source_language=1, target_language="es-es"
        ),
        _check_translation,
    ),
    "transcription": Case(
        lambda c, _: c.transcription.create(language="auto", media=io.BytesIO(MEDIA)), _check_transcription
    ),
    "text_to_sound": Case(
        lambda c, _: c.text_to_sound.create(prompt="rain on a tin roof", duration=3.0),
        _check_text_to_sound,
        is_file=True,
    ),
    "text_to_voice": Case(
        lambda c, _: c.text_to_voice.create(text="Hi there", voice_description="a warm low voice"),
        _check_text_to_voice,
    ),
    "audio_separation": Case(
        lambda c, _: c.audio_separation.create(media=io.BytesIO(MEDIA)), _check_audio_separation
    ),
    "subtitles": Case(
        lambda c, _: c.subtitles.create(
            media_url="https://v.test/a.mp4", source_language="en-us", target_languages=["fr-fr"]
        ),
        _check_subtitles,
    ),
    "story": Case(
        lambda c, _: c.story.create(file=io.BytesIO(b"Once upon a time."), source_language=1, title="A tale"),
        _check_story,
    ),
    "project_setup": Case(
        lambda c, _: c.project_setup.create(
            media_url="https://v.test/a.mp4", source_language=1, target_languages=[54]
        ),
        _check_project_setup,
    ),
    "translated_tts": Case(
        lambda c, _: c.translated_tts.create(text="Hello", voice_id=1, source_language=1, target_language=54),
        _check_translated_tts,
        is_file=True,
    ),
    "translated_story": Case(_create_translated_story, _check_translated_story),
    "dubbing_alt_format": Case(_create_alt_format, _check_alt_format),
}


def test_every_family_has_a_contract_case() -> None:
    """The contract below covers exactly the registered families."""
    assert set(CASES) == set(FAMILIES)


@pytest.mark.parametrize("family", sorted(CASES))
async def test_family_end_to_end(
    quick_client: AsyncCambClient, quick_sim: Simulator, family: TaskFamily, tmp_path: pathlib.Path
) -> None:
    """create -> watch -> wait -> result (-> download) for one family, over real TCP, with the
    simulator's record confirming the task it created and the paths it was polled on."""
    case = CASES[family]
    resource = FAMILIES[family]
    task_id = await case.create(quick_client, quick_sim)
    record = quick_sim.record(task_id, family=family)
    async with aclosing(quick_client.watch(task_id, family=family, interval=0.02)) as statuses:
        seen = [status async for status in statuses]
    assert seen[-1].status == TaskState.SUCCESS
    final = await getattr(quick_client, family).wait(task_id, interval=0.02)
    assert final.run_id == record.run_id is not None
    assert record.polls >= len(seen) + 1
    assert f"/apis/{resource.endpoints.segment}/{task_id}" in quick_sim.request_paths
    await case.check(quick_client, final.run_id)
    if case.is_file:
        target = tmp_path / "result.wav"
        written = await getattr(quick_client, family).download(final.run_id, target)
        data = target.read_bytes()
        assert written == len(data) > 0
        assert data == await getattr(quick_client, family).result(final.run_id)


async def test_multipart_creates_upload_byte_for_byte(
    quick_client: AsyncCambClient, quick_sim: Simulator
) -> None:
    """A multipart create's file reaches the server whole: the simulator's size and sha256 match."""
    task_id = await quick_client.transcription.create(language="auto", media=io.BytesIO(MEDIA))
    sent = quick_sim.record(task_id, family="transcription").request["media_file"]
    assert sent == {"filename": "media_file", "size": len(MEDIA), "sha256": hashlib.sha256(MEDIA).hexdigest()}
