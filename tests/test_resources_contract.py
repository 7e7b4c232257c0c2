"""Every task family end to end over real TCP: create, watch, wait, result (and download).

One parametrised contract runs each registered family against the bundled
simulator, so a family added to the registry without a case here fails
``test_every_family_has_a_contract_case``. It runs twice: with the simulator
answering in camb-sdk's shapes, and in the API reference pages' shapes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from contextlib import aclosing
from typing import TYPE_CHECKING

import pytest
from support import CREATE, MEDIA

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


@pytest.fixture(scope="module", params=["sdk", "docs"])
def quick_sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    """A simulator whose tasks take 50-200 ms, so a contract run is quick; it answers in
    camb-sdk's shapes, then in the API reference pages' (``answer_shapes``)."""
    with Simulator(durations=(0.05, 0.2), seed=3, answer_shapes=request.param) as sim:
        yield sim


@pytest.fixture
async def quick_client(quick_sim: Simulator) -> AsyncIterator[AsyncCambClient]:
    """A client of ``quick_sim`` over real TCP."""
    async with AsyncCambClient(KEY, base_url=quick_sim.url) as client:
        yield client


@dataclasses.dataclass(frozen=True)
class Case:
    """What a family's result must be (its create is ``support.CREATE``)."""

    check: Callable[[AsyncCambClient, int], Awaitable[None]]
    is_file: bool = False


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
    assert result.model_extra["target_language"] == 54  # es-es, sent as the API's id


async def _check_alt_format(client: AsyncCambClient, run_id: int) -> None:
    result = await client.dubbing_alt_format.result(run_id)
    assert isinstance(result, DubbingResult)
    assert result.audio_url.endswith(".mp3")


CASES: dict[TaskFamily, Case] = {
    "tts": Case(_check_audio, is_file=True),
    "dubbing": Case(_check_dubbing),
    "translation": Case(_check_translation),
    "transcription": Case(_check_transcription),
    "text_to_sound": Case(_check_text_to_sound, is_file=True),
    "text_to_voice": Case(_check_text_to_voice),
    "audio_separation": Case(_check_audio_separation),
    "subtitles": Case(_check_subtitles),
    "story": Case(_check_story),
    "project_setup": Case(_check_project_setup),
    "translated_tts": Case(_check_translated_tts, is_file=True),
    "translated_story": Case(_check_translated_story),
    "dubbing_alt_format": Case(_check_alt_format),
}


def test_every_family_has_a_contract_case() -> None:
    """The contract below covers exactly the registered families."""
    assert set(CASES) == set(CREATE) == set(FAMILIES)


@pytest.mark.parametrize("family", sorted(CASES))
async def test_family_end_to_end(
    quick_client: AsyncCambClient, quick_sim: Simulator, family: TaskFamily, tmp_path: pathlib.Path
) -> None:
    """create -> watch -> wait -> result (-> download) for one family, over real TCP, with the
    simulator's record confirming the task it created and the paths it was polled on."""
    case = CASES[family]
    resource = FAMILIES[family]
    task_id = await CREATE[family](quick_client, quick_sim)
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
    task_id = await CREATE["transcription"](quick_client, quick_sim)
    sent = quick_sim.record(task_id, family="transcription").request["media_file"]
    assert sent == {"filename": "media_file", "size": len(MEDIA), "sha256": hashlib.sha256(MEDIA).hexdigest()}
