"""capture_responses(): the raw answers (status, headers, request id) of the calls in a block."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import httpx
import pytest

from camb_async import AsyncCambClient, RawResponse, capture_responses

if TYPE_CHECKING:
    import respx

pytestmark = pytest.mark.anyio


async def test_a_create_shows_its_headers_and_request_id(
    client: AsyncCambClient, router: respx.Router
) -> None:
    router.post("/tts").respond(
        200, json={"task_id": "t1"}, headers={"x-request-id": "req-1", "x-credits": "7"}
    )
    with capture_responses() as answers:
        assert await client.tts.create(text="Hi", voice_id=20303, language="en-us") == "t1"
    (answer,) = answers
    assert isinstance(answer, RawResponse)
    assert (answer.method, answer.path, answer.status_code) == ("POST", "/apis/tts", 200)
    assert answer.request_id == "req-1"
    assert answer.headers["x-credits"] == "7"
    assert answer.http_version == "HTTP/1.1"


async def test_every_attempt_is_kept_in_order(
    client: AsyncCambClient, router: respx.Router, no_wait: None
) -> None:
    router.get("/tts/t1").mock(
        side_effect=[
            httpx.Response(503, headers={"x-request-id": "a"}),
            httpx.Response(200, json={"status": "PENDING"}),
        ]
    )
    with capture_responses() as answers:
        await client.status("t1")
    assert [(a.status_code, a.request_id) for a in answers] == [(503, "a"), (200, None)]


async def test_nothing_is_kept_outside_a_block(client: AsyncCambClient, router: respx.Router) -> None:
    router.get("/tts/t1").respond(200, json={"status": "PENDING"})
    with capture_responses() as answers:
        pass
    await client.status("t1")
    assert answers == []


async def test_concurrent_captures_see_only_their_own_calls(
    client: AsyncCambClient, router: respx.Router
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        task = request.url.path.rsplit("/", 1)[1]
        return httpx.Response(200, json={"status": "PENDING"}, headers={"x-request-id": task})

    router.get(path__regex=r"/tts/\w+").mock(side_effect=answer)
    seen: dict[str, list[str | None]] = {}

    async def poll(task: str) -> None:
        with capture_responses() as answers:
            for _ in range(3):
                await client.status(task)
                await anyio.lowlevel.checkpoint()
        seen[task] = [answer.request_id for answer in answers]

    async with anyio.create_task_group() as group:
        for task in ("a", "b", "c"):
            group.start_soon(poll, task)
    assert seen == {task: [task] * 3 for task in ("a", "b", "c")}


async def test_tasks_started_in_the_block_are_captured(client: AsyncCambClient, router: respx.Router) -> None:
    router.get(path__regex=r"/tts/\w+").respond(200, json={"status": "SUCCESS", "run_id": 1})
    with capture_responses() as answers:
        async with anyio.create_task_group() as group:
            for task in ("a", "b"):
                group.start_soon(client.status, task)
    assert sorted(answer.path for answer in answers) == ["/apis/tts/a", "/apis/tts/b"]
