"""Batch results in the sizes the API documents: chunks, the lone id, duplicates, parallelism, failures."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
from support import finished_run, make_client

from camb_async import AsyncCambClient, BadRequestError, FileUrl, TranslationResult
from camb_async._resources._base import Endpoints
from camb_async._resources._batch import even_chunks

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import respx

    from camb_async.testing import Simulator

pytestmark = pytest.mark.anyio

DUB: dict[str, object] = {"audio_url": "https://files.test/a.flac", "transcript": []}
"""A dub result as dubbing-results holds it."""


@dataclasses.dataclass(frozen=True)
class Family:
    """A family's results(): its batch path, the sizes it sends, and one run's answer."""

    name: str
    call: Callable[[AsyncCambClient, list[int]], Awaitable[dict[int, Any]]]
    path: str
    size: int
    least: int
    value: Callable[[int], object]


FAMILIES = [
    Family("tts", lambda c, ids: c.tts.results(ids), "/tts-results", 5, 2, lambda i: f"https://f.test/{i}"),
    Family("translation", lambda c, ids: c.translation.results(ids), "/translation-results", 5, 2,
           lambda i: {"texts": [str(i)]}),
    Family("subtitles", lambda c, ids: c.subtitles.results(ids), "/sub-results", 5, 2, lambda i: f"{i}\n"),
    Family("dubbing", lambda c, ids: c.dubbing.results(ids), "/dubbing-results", 100, 1, lambda _: DUB),
    Family("transcription", lambda c, ids: c.transcription.results(ids), "/transcription-results", 5, 1,
           lambda _: {"transcript": []}),
    Family("text_to_sound", lambda c, ids: c.text_to_sound.results(ids), "/text-to-sound-results", 5, 1,
           lambda i: {"output_url": f"https://f.test/{i}"}),
    Family("audio_separation", lambda c, ids: c.audio_separation.results(ids), "/audio-separation-results", 5,
           1, lambda i: {"foreground_audio_url": "f", "background_audio_url": "b"}),
    Family("story", lambda c, ids: c.story.results(ids), "/stories-results", 5, 1, lambda _: {}),
    Family("project_setup", lambda c, ids: c.project_setup.results(ids), "/project-setup-results", 5, 1,
           lambda i: {"run_id": i, "project_details": {}}),
]  # fmt: skip
BY_NAME = {family.name: family for family in FAMILIES}


def echo(family: Family) -> Callable[[httpx.Request], httpx.Response]:
    """A batch endpoint answering every run id it is asked for, as ``family``'s API does."""

    def answer(request: httpx.Request) -> httpx.Response:
        ids: list[int] = json.loads(request.content)["run_ids"]
        if family.name == "project_setup":  # project-setup-results answers a list
            return httpx.Response(200, json=[family.value(i) for i in ids])
        return httpx.Response(200, json={str(i): family.value(i) for i in ids})

    return answer


def sent_ids(route: respx.Route) -> list[list[int]]:
    """The run ids of each request ``route`` received."""
    calls: list[respx.models.Call] = list(route.calls)
    return [json.loads(call.request.content)["run_ids"] for call in calls]


@pytest.mark.parametrize("family", FAMILIES, ids=[family.name for family in FAMILIES])
@pytest.mark.parametrize("count", [2, 5, 6, 11, 23, 100, 101, 250])
async def test_results_split_into_documented_sizes(
    client: AsyncCambClient, router: respx.Router, family: Family, count: int
) -> None:
    """Any number of ids goes in even requests of at most the family's size (and at least its
    least), each id asked once, and every id comes back, in the order given."""
    route = router.post(family.path).mock(side_effect=echo(family))
    ids = list(range(1000, 1000 + count))
    results = await family.call(client, ids)
    sizes = [len(chunk) for chunk in sent_ids(route)]
    assert route.call_count == -(-count // family.size)
    assert all(family.least <= size <= family.size for size in sizes)
    assert max(sizes) - min(sizes) <= 1
    assert sorted(i for chunk in sent_ids(route) for i in chunk) == ids
    assert list(results) == ids


@pytest.mark.parametrize(
    ("count", "sizes"),
    [(1, [1]), (5, [5]), (6, [3, 3]), (7, [4, 3]), (10, [5, 5]), (11, [4, 4, 3]), (16, [4, 4, 4, 4])],
)
def test_even_chunks_sizes(count: int, sizes: list[int]) -> None:
    """Ids split into as few chunks of at most 5 as hold them, lengths differing by at most one."""
    ids = list(range(count))
    chunks = even_chunks(ids, 5)
    assert [len(chunk) for chunk in chunks] == sizes
    assert [i for chunk in chunks for i in chunk] == ids


def test_even_chunks_never_fall_under_two_at_five() -> None:
    """At 5 a request, every whole of 2 or more ids splits into chunks of 2 or more."""
    for count in range(2, 400):
        assert min(map(len, even_chunks(list(range(count)), 5))) >= 2
    assert even_chunks([], 5) == []


def test_endpoints_refuse_sizes_even_chunks_cannot_meet() -> None:
    """A declaration whose least and size leave no even split (2..2) is refused where it is made."""
    with pytest.raises(ValueError, match=r"no even chunks of 2\.\.2"):
        Endpoints("x", "x", batch="x-results", batch_size=2, batch_least=2)
    with pytest.raises(ValueError, match="no even chunks"):
        Endpoints("x", "x", batch="x-results", batch_least=0)


@pytest.mark.parametrize("family", FAMILIES, ids=[family.name for family in FAMILIES])
async def test_results_ask_repeated_ids_once(
    client: AsyncCambClient, router: respx.Router, family: Family
) -> None:
    """Repeated ids are asked for once, in the order first given."""
    route = router.post(family.path).mock(side_effect=echo(family))
    results = await family.call(client, [3, 1, 3, 2, 1])
    assert sent_ids(route) == [[3, 1, 2]]
    assert list(results) == [3, 1, 2]


@pytest.mark.parametrize("family", FAMILIES, ids=[family.name for family in FAMILIES])
async def test_results_of_no_ids_is_an_empty_dict_without_a_request(
    client: AsyncCambClient, unexpected: respx.Route, family: Family
) -> None:
    """No run ids: no request, and an empty dict."""
    assert await family.call(client, []) == {}
    assert unexpected.call_count == 0


async def test_a_lone_tts_id_asks_the_result_endpoint_for_a_url(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """tts-results takes 2 to 5 ids: a lone id (or one id repeated) is fetched from
    GET /tts-result/{run_id}?output_type=file_url, so every value is a FileUrl."""
    route = router.get("/tts-result/7", params={"output_type": "file_url"}).respond(
        200, json={"output_url": "https://f.test/7"}
    )
    assert await client.tts.results([7, 7]) == {7: FileUrl(output_url="https://f.test/7")}
    assert route.call_count == 1


async def test_a_lone_translation_id_asks_the_result_endpoint(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """translation-results takes 2 to 5 ids: a lone id is fetched from GET /translation-result/{run_id}."""
    route = router.get("/translation-result/7").respond(200, json={"texts": ["hola"]})
    assert await client.translation.results([7]) == {7: TranslationResult(texts=["hola"])}
    assert route.call_count == 1


async def test_a_lone_subtitles_id_asks_the_result_endpoint_with_the_format(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """subtitles.results() takes a lone id (it once refused it): GET /sub-result/{run_id}, same query."""
    route = router.get("/sub-result/7").respond(200, json="1\n00:00")
    assert await client.subtitles.results([7], format_type="srt", data_type="raw_data") == {7: "1\n00:00"}
    assert sorted(route.calls.last.request.url.params.multi_items()) == [
        ("data_type", "raw_data"),
        ("format_type", "srt"),
    ]


async def test_subtitles_results_take_more_than_five_ids(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """subtitles.results() takes 12 ids (it once refused more than 5) and sends 4, 4 and 4 with the query."""
    route = router.post("/sub-results", params={"format_type": "vtt"}).mock(
        side_effect=echo(BY_NAME["subtitles"])
    )
    results = await client.subtitles.results(range(12), format_type="vtt")
    assert sorted(sent_ids(route)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert list(results) == list(range(12))


@pytest.mark.parametrize(
    ("family", "path"),
    [("tts", "/tts-result/7"), ("translation", "/translation-result/7"), ("subtitles", "/sub-result/7")],
)
async def test_a_lone_unknown_run_is_left_out_as_a_batch_leaves_it_out(
    client: AsyncCambClient, router: respx.Router, family: str, path: str
) -> None:
    """A lone id the result endpoint does not know (404) is left out of the dict, as a batch
    answer leaves out a run it does not know."""
    route = router.get(path).respond(404, json={"detail": "run not found"})
    assert await BY_NAME[family].call(client, [7]) == {}
    assert route.call_count == 1


async def test_a_batch_answer_leaving_a_run_out_leaves_it_out(
    client: AsyncCambClient, router: respx.Router
) -> None:
    """Runs a batch answer does not hold are not in the dict; the others are."""
    router.post("/translation-results").respond(200, json={"7": {"texts": ["a"]}})
    assert await client.translation.results([7, 8]) == {7: TranslationResult(texts=["a"])}


@pytest.mark.parametrize("family", ["dubbing", "transcription"])
async def test_a_lone_id_goes_to_a_batch_endpoint_with_no_least(
    client: AsyncCambClient, router: respx.Router, family: str
) -> None:
    """Where no least is documented, a lone id goes to the batch endpoint like any other."""
    route = router.post(BY_NAME[family].path).mock(side_effect=echo(BY_NAME[family]))
    assert list(await BY_NAME[family].call(client, [7])) == [7]
    assert sent_ids(route) == [[7]]


async def test_batch_requests_run_at_once_within_the_client_limit(router: respx.Router) -> None:
    """Eight requests of a 40-id batch run in parallel, never more at once than the
    client's max_concurrent_requests (3)."""
    in_flight = peak = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await anyio.sleep(0.02)
        in_flight -= 1
        return echo(BY_NAME["tts"])(request)

    route = router.post("/tts-results").mock(side_effect=answer)
    async with make_client(router, max_concurrent_requests=3) as client:
        with anyio.fail_after(5):
            results = await client.tts.results(range(40))
    assert route.call_count == 8
    assert peak == 3
    assert list(results) == list(range(40))


async def test_a_failing_chunk_raises_its_error_and_cancels_the_others(router: respx.Router) -> None:
    """When one request fails (a 400, not retried), results() raises that error itself, not a
    group, and the requests still waiting are cancelled rather than awaited: no partial dict."""
    finished: list[int] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        ids: list[int] = json.loads(request.content)["run_ids"]
        if ids[0] == 0:
            return httpx.Response(400, json={"detail": "bad run"})
        await anyio.sleep(30)
        finished.append(ids[0])
        return echo(BY_NAME["tts"])(request)

    router.post("/tts-results").mock(side_effect=answer)
    async with make_client(router) as client:
        with anyio.fail_after(5), pytest.raises(BadRequestError) as caught:
            await client.tts.results(range(15))
    assert type(caught.value) is BadRequestError
    assert finished == []


@pytest.mark.parametrize("count", [1, 7, 12])
async def test_results_meet_the_simulator_rules(
    sim_client: AsyncCambClient, simulator: Simulator, count: int
) -> None:
    """Over real TCP, tts, translation and subtitles batches of 1, 7 and 12 runs pass the simulator's
    2-to-5 rule (it answers 422 otherwise) and every run comes back."""
    tts = [finished_run(simulator, "tts", {"text": "Hi"}) for _ in range(count)]
    translation = [finished_run(simulator, "translation", {"texts": ["a"]}) for _ in range(count)]
    subtitles = [finished_run(simulator, "subtitles", {"source_language": "en-us"}) for _ in range(count)]
    assert list(await sim_client.tts.results(tts)) == tts
    assert all(isinstance(url, FileUrl) for url in (await sim_client.tts.results(tts)).values())
    assert list(await sim_client.translation.results(translation)) == translation
    assert list(await sim_client.subtitles.results(subtitles, format_type="srt")) == subtitles


async def test_cancelling_results_cancels_every_request(router: respx.Router) -> None:
    """A caller's deadline cancels results() and each of its requests at once; the client stays usable."""
    started: list[int] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        started.append(json.loads(request.content)["run_ids"][0])
        await anyio.sleep(30)
        return echo(BY_NAME["tts"])(request)

    router.post("/tts-results").mock(side_effect=answer)
    router.get("/tts-result/1", params={"output_type": "file_url"}).respond(200, json={"output_url": "u"})
    async with make_client(router) as client:
        with anyio.fail_after(5):
            with anyio.move_on_after(0.2) as scope:
                await client.tts.results(range(10))
            assert scope.cancelled_caught
            assert sorted(started) == [0, 5]
            assert await client.tts.results([1]) == {1: FileUrl(output_url="u")}
