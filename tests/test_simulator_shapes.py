"""The simulator's ``answer_shapes="docs"``: the API reference pages' answers, over real HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from camb_async.testing import Simulator

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

pytestmark = pytest.mark.integration

HEADERS = {"x-api-key": "k"}
DUB: dict[str, object] = {
    "video_url": "https://v.test/a.mp4",
    "source_language": 1,
    "target_language": "es-es",
}
PENDING_LONG = (("PENDING", 0.0), ("SUCCESS", 3600.0))
DONE = (("SUCCESS", 0.0),)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """A simulator answering in the reference pages' shapes."""
    with Simulator(seed=1, answer_shapes="docs") as server:
        yield server


@pytest.fixture
def http(sim: Simulator) -> Iterator[httpx.Client]:
    """A plain client on the simulator's API, with a key."""
    with httpx.Client(base_url=sim.url, headers=HEADERS) as client:
        yield client


def _run_of(sim: Simulator, family: str, request: Mapping[str, object] | None = None) -> int:
    run_id = sim.record(sim.add_task(DONE, family=family, request=request), family=family).run_id
    assert run_id is not None
    return run_id


def _json(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("family", "segment"),
    [("dubbing_alt_format", "dub-alt-format"), ("audio_separation", "audio-separation")],
)
def test_bare_status_until_success(sim: Simulator, http: httpx.Client, family: str, segment: str) -> None:
    """dub-alt-format and audio-separation answer a bare status string until SUCCESS, which keeps its run id."""
    pending = sim.add_task(PENDING_LONG, family=family)
    assert _json(http.get(f"/{segment}/{pending}")) == "PENDING"
    done = sim.add_task(DONE, family=family)
    answer = _json(http.get(f"/{segment}/{done}"))
    assert answer["status"] == "SUCCESS"
    assert answer["run_id"] == sim.record(done, family=family).run_id


def test_translated_story_success_is_run_id_only(sim: Simulator, http: httpx.Client) -> None:
    """translated-story's SUCCESS is {"run_id": N} without a status; PENDING stays an object."""
    done = sim.add_task(DONE, family="translated_story")
    assert _json(http.get(f"/translated-story/{done}")) == {
        "run_id": sim.record(done, family="translated_story").run_id
    }
    pending = sim.add_task(PENDING_LONG, family="translated_story")
    assert _json(http.get(f"/translated-story/{pending}"))["status"] == "PENDING"


def test_dub_result_endpoint_page_shape(sim: Simulator, http: httpx.Client) -> None:
    """A dub result has run_id, output_audio_url and output_video_url, one or per language, single or batch."""
    one = _run_of(sim, "dubbing", DUB)
    answer = _json(http.get(f"/dub-result/{one}"))
    assert set(answer) == {"run_id", "output_audio_url", "output_video_url", "transcript"}
    assert answer["run_id"] == one
    several = _run_of(
        sim, "dubbing", {**DUB, "target_language": None, "target_languages": ["es-es", "fr-fr"]}
    )
    per_language = _json(http.get(f"/dub-result/{several}"))
    assert set(per_language) == {"es-es", "fr-fr"}
    assert per_language["fr-fr"]["output_audio_url"].endswith(".wav")
    batch = _json(http.post("/dubbing-results", json={"run_ids": [one, several]}))
    assert batch[str(one)] == answer
    assert batch[str(several)] == per_language


def test_transcription_result_bare_list(sim: Simulator, http: httpx.Client) -> None:
    """A transcription in segments is the bare list; an export stays {"transcript": text}."""
    run_id = _run_of(sim, "transcription", {"language": "en-us"})
    segments = _json(http.get(f"/transcription-result/{run_id}"))
    assert isinstance(segments, list)
    assert segments[0]["text"]
    srt = _json(http.get(f"/transcription-result/{run_id}", params={"format_type": "srt"}))
    assert "-->" in srt["transcript"]


def test_text_to_sound_file_url(sim: Simulator, http: httpx.Client) -> None:
    """text-to-sound's URL answer is {"file_url": ...}."""
    run_id = _run_of(sim, "text_to_sound", {"prompt": "rain"})
    answer = _json(http.get(f"/text-to-sound-result/{run_id}", params={"output_type": "file_url"}))
    assert list(answer) == ["file_url"]


def test_project_setup_result_run_details(sim: Simulator, http: httpx.Client) -> None:
    """A project-setup result holds run_details in place of project_details."""
    request = {"media_url": "https://v.test/a.mp4", "source_language": 1, "target_languages": [54]}
    run_id = _run_of(sim, "project_setup", request)
    answer = _json(http.get(f"/project-setup-result/{run_id}"))
    assert set(answer) == {"run_id", "run_details"}
    assert answer["run_details"]["target_languages"] == [54]


def test_folders_folder_name(http: httpx.Client) -> None:
    """A folder is named by folder_name."""
    folders = _json(http.get("/folders"))
    assert folders[0] == {"folder_id": 1, "team_id": 1, "folder_name": "Samples"}


def test_errors_and_other_answers_are_untouched(sim: Simulator, http: httpx.Client) -> None:
    """A 404 and an answer the two sources agree on come as in camb-sdk's shapes."""
    assert http.get("/dub-result/999999").status_code == 404
    run_id = _run_of(sim, "translation", {"texts": ["Hi"], "source_language": 1, "target_language": 54})
    assert _json(http.get(f"/translation-result/{run_id}")) == {"texts": ["[54] Hi"]}


def test_set_answer_shapes_switches_and_checks() -> None:
    """set_answer_shapes takes effect at once; anything but "sdk" or "docs" is a ValueError."""
    with Simulator(seed=1) as sim, httpx.Client(base_url=sim.url, headers=HEADERS) as http:
        task_id = sim.add_task(PENDING_LONG, family="audio_separation")
        assert _json(http.get(f"/audio-separation/{task_id}"))["status"] == "PENDING"
        sim.set_answer_shapes("docs")
        assert _json(http.get(f"/audio-separation/{task_id}")) == "PENDING"
        with pytest.raises(ValueError, match="answer_shapes"):
            sim.set_answer_shapes("camb")  # type: ignore[arg-type]
