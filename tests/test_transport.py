"""The HTTP client the SDK creates: lazily, on httpx's pool or on aiohttp (``transport=``)."""

from __future__ import annotations

import asyncio
import logging
import ssl
import sys
from typing import TYPE_CHECKING, Any, Literal, cast

import anyio
import httpx
import pytest
import respx
from support import API_KEY, BASE_URL, AnswerServer, HangUpServer, answer, refused_url

from camb_async import (
    DEFAULT_TIMEOUT,
    APIConnectionError,
    APITimeoutError,
    AsyncCambClient,
    CambError,
    CreateOutcomeUnknownError,
    TaskHandle,
    TaskStatus,
)
from camb_async._aiohttp import URL_CACHE_SIZE, WHOLE_BODY_LIMIT, AiohttpClient, AiohttpTransport
from camb_async._retry import was_never_sent
from camb_async._transport import (
    SHARD_CONNECTIONS,
    HttpClientBuilder,
    ShardedTransport,
    Transport,
    running_on_asyncio,
    true_transport_error,
)
from camb_async.testing import set_testing

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from camb_async.testing import Simulator

pytestmark = pytest.mark.anyio


def _http_of(client: AsyncCambClient) -> httpx.AsyncClient:
    """The HTTP client the SDK created (after its first request)."""
    assert client._requester._pool.http is not None
    return client._requester._pool.http


def _transport_of(client: AsyncCambClient) -> httpx.AsyncBaseTransport:
    """The transport under the HTTP client the SDK created."""
    transport: httpx.AsyncBaseTransport = cast("Any", _http_of(client))._transport
    return transport


# -- options, before any request ----------------------------------------------------


def test_unknown_transport_is_refused() -> None:
    """A transport other than "httpx" or "aiohttp" is a ValueError naming both."""
    with pytest.raises(ValueError, match=r"'httpx', 'aiohttp'.*'requests'"):
        AsyncCambClient(API_KEY, base_url=BASE_URL, transport=cast("Any", "requests"))


async def test_http_client_with_aiohttp_transport_is_refused() -> None:
    """transport="aiohttp" and a caller's http_client= together are a ValueError."""
    async with httpx.AsyncClient() as http:
        with pytest.raises(ValueError, match="http_client"):
            AsyncCambClient(API_KEY, base_url=BASE_URL, http_client=http, transport="aiohttp")


def test_missing_aiohttp_extra_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without aiohttp, construction raises a CambError (also an ImportError) naming the extra."""
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # makes `import aiohttp` fail
    monkeypatch.delitem(sys.modules, "camb_async._aiohttp", raising=False)
    with pytest.raises(CambError, match=r"pip install 'camb-async\[aiohttp\]'") as caught:
        AsyncCambClient(API_KEY, base_url=BASE_URL, transport="aiohttp")
    assert isinstance(caught.value, ImportError)
    assert isinstance(caught.value.__cause__, ImportError)


def test_missing_extra_does_not_matter_for_the_default_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default transport never imports aiohttp."""
    monkeypatch.setitem(sys.modules, "aiohttp", None)
    monkeypatch.delitem(sys.modules, "camb_async._aiohttp", raising=False)
    client = AsyncCambClient(API_KEY, base_url=BASE_URL)
    assert client._requester._pool.http is None
    client._requester.lifecycle.close()  # never used: nothing to close, no ResourceWarning


def test_http_client_is_not_created_at_construction() -> None:
    """Construction creates no HTTP client (it needs the running event loop)."""
    transports: list[Literal["httpx", "aiohttp"]] = ["httpx", "aiohttp"]
    for transport in transports:
        client = AsyncCambClient(API_KEY, base_url=BASE_URL, transport=transport)
        assert client._requester._pool.http is None
        client._requester.lifecycle.close()


def test_no_event_loop_is_not_asyncio() -> None:
    """Outside any event loop the builder does not take the loop for asyncio's."""
    assert not running_on_asyncio()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_without_sniffio_the_loop_is_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without sniffio (which trio needs) the running loop can only be asyncio's."""
    monkeypatch.setitem(sys.modules, "sniffio", None)
    assert running_on_asyncio()


# -- the default transport ----------------------------------------------------------


async def test_default_transport_is_httpx_with_the_sdk_limits_and_timeout() -> None:
    """transport="httpx" builds a plain httpx.AsyncClient with a pooled connection per request
    in flight (64 polls and 8 transfers) and 8 spare, in pools of 8, and the default timeout."""
    builder = HttpClientBuilder("httpx", timeout=DEFAULT_TIMEOUT, in_flight=72)
    async with builder.build({"x-api-key": "k"}) as http:
        assert type(http) is httpx.AsyncClient
        assert http.timeout == DEFAULT_TIMEOUT
        assert http.headers["x-api-key"] == "k"
        transport = cast("Any", http)._transport
        assert type(transport) is ShardedTransport
        assert len(transport.pools) == 80 // SHARD_CONNECTIONS
        for pool in transport.pools:
            assert type(pool) is httpx.AsyncHTTPTransport
            assert pool._pool._max_connections == SHARD_CONNECTIONS
            assert pool._pool._max_keepalive_connections == SHARD_CONNECTIONS
            assert pool._pool._keepalive_expiry == 30.0


async def test_the_default_pool_has_room_for_the_default_ceiling() -> None:
    """256 requests and 8 transfers in flight, and 8 spare: 272 connections in 34 pools."""
    with respx.mock(base_url=BASE_URL) as mock:
        mock.get("/tts/abc").respond(200, json={"status": "PENDING"})
        async with AsyncCambClient(API_KEY, base_url=BASE_URL) as client:
            await client.status("abc")
            transport = _transport_of(client)
            assert isinstance(transport, ShardedTransport)
            assert len(transport.pools) * SHARD_CONNECTIONS == 256 + 8 + 8
            assert client._requester._loop_state().limiter.maximum == 256


async def test_every_pool_verifies_tls_with_one_shared_context() -> None:
    transport = ShardedTransport(httpx.Limits(max_connections=20))
    contexts = {id(cast("Any", pool)._pool._ssl_context) for pool in transport.pools}
    context: ssl.SSLContext = cast("Any", transport.pools[0])._pool._ssl_context
    assert len(contexts) == 1
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    await transport.aclose()


# -- the sharded pool -----------------------------------------------------------------------


class _Body(httpx.AsyncByteStream):
    """A body read from the network, as a real pool's is (not loaded when the response is made)."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"x" * 10


class _Pool(httpx.MockTransport):
    """A stand-in for one of ShardedTransport's pools: answers 200, or fails to connect."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__(self._answer)
        self.fail = fail
        self.requests = 0
        self.closed = False

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.fail:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, stream=_Body())

    async def aclose(self) -> None:
        self.closed = True


def _sharded(pools: int) -> tuple[ShardedTransport, list[_Pool]]:
    transport = ShardedTransport(httpx.Limits(max_connections=pools * SHARD_CONNECTIONS))
    stand_ins = [_Pool() for _ in range(pools)]
    cast("Any", transport)._pools = stand_ins
    return transport, stand_ins


async def test_a_request_goes_to_the_first_pool_with_fewest_in_flight_until_its_response_is_closed() -> None:
    transport, pools = _sharded(3)
    async with httpx.AsyncClient(transport=transport) as http:
        first = await http.send(http.build_request("GET", "http://api/a"), stream=True)
        second = await http.send(http.build_request("GET", "http://api/b"), stream=True)
        assert transport.loads == [1, 1, 0]
        await first.aclose()
        assert transport.loads == [0, 1, 0]
        third = await http.send(http.build_request("GET", "http://api/c"), stream=True)
        assert transport.loads == [1, 1, 0]
        assert await third.aread() == b"x" * 10  # the body comes through whole
        await third.aclose()
        await third.aclose()  # closed twice: counted off once
        await second.aclose()
        assert transport.loads == [0, 0, 0]
        assert [pool.requests for pool in pools] == [2, 1, 0]
    assert all(pool.closed for pool in pools)


async def test_a_request_that_fails_takes_nothing_from_its_pool() -> None:
    transport, pools = _sharded(2)
    pools[0].fail = True
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("http://api/a")
        assert transport.loads == [0, 0]
        pools[0].fail = False
        assert (await http.get("http://api/b")).status_code == 200
        assert transport.loads == [0, 0]
    assert [pool.requests for pool in pools] == [2, 0]


@pytest.mark.integration
async def test_many_requests_over_the_sharded_pool_leave_nothing_counted(simulator: Simulator) -> None:
    """Over real TCP, more requests at once than one pool holds: all answered, none left counted."""
    task_id = simulator.add_task([("PENDING", 0)])
    async with AsyncCambClient(API_KEY, base_url=simulator.url) as client:
        async with anyio.create_task_group() as group:
            for _ in range(3 * SHARD_CONNECTIONS):
                group.start_soon(client.status, task_id)
        transport = _transport_of(client)
        assert isinstance(transport, ShardedTransport)
        assert transport.loads == [0] * len(transport.pools)


async def test_sdk_client_is_created_on_first_request_and_sends_through_httpx() -> None:
    """The SDK-created client appears on the first request; requests go through httpx's transport."""
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as mock:
        route = mock.get("/tts/abc").respond(200, json={"status": "PENDING"})
        async with AsyncCambClient(API_KEY, base_url=BASE_URL) as client:
            assert client._requester._pool.http is None
            status = await client.status("abc")
            assert status.status == "PENDING"
            assert type(_transport_of(client)) is ShardedTransport
            http = _http_of(client)
        assert route.call_count == 1
        assert route.calls.last.request.extensions["timeout"] == DEFAULT_TIMEOUT.as_dict()
    assert http.is_closed


async def test_aclose_without_any_request_is_fine() -> None:
    """aclose() on a client that never sent anything closes nothing and does not fail."""
    client = AsyncCambClient(API_KEY, base_url=BASE_URL, transport="aiohttp")
    await client.aclose()
    assert client.is_closed
    assert client._requester._pool.http is None


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_aiohttp_transport_verifies_tls() -> None:
    """The aiohttp transport verifies certificates and host names, like httpx's."""
    async with AsyncCambClient(API_KEY, transport="aiohttp") as client:
        client._requester._loop_state()  # the SDK creates its HTTP client on first use
        transport = _transport_of(client)
        assert isinstance(transport, AiohttpTransport)
        assert transport.ssl_context.verify_mode == ssl.CERT_REQUIRED
        assert transport.ssl_context.check_hostname is True


# -- the aiohttp transport over real TCP ---------------------------------------------


@pytest.mark.integration
async def test_aiohttp_transport_over_tcp(
    simulator: Simulator, anyio_backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """On asyncio the client sends through the SDK's AiohttpTransport; on trio it falls back to httpx's, saying so once."""
    caplog.set_level(logging.DEBUG, logger="camb_async")
    task_id = simulator.add_task([("PENDING", 0), ("SUCCESS", 0.2)])
    async with AsyncCambClient(API_KEY, base_url=simulator.url, transport="aiohttp") as client:
        first = await client.status(task_id)
        final = await client.wait(task_id, interval=0.05)
        transport = _transport_of(client)
        http = _http_of(client)
    assert first.status == "PENDING"
    assert final.status == "SUCCESS"
    assert final.run_id is not None
    assert http.is_closed
    assert http.timeout == DEFAULT_TIMEOUT
    fallbacks = [r for r in caplog.records if "needs asyncio" in r.getMessage()]
    if anyio_backend == "asyncio":
        assert isinstance(transport, AiohttpTransport)
        assert transport.limits.max_connections == 256 + 8 + 8
        assert not fallbacks
    else:
        assert type(transport) is ShardedTransport
        assert len(fallbacks) == 1
        assert fallbacks[0].levelno == logging.INFO


@pytest.mark.integration
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_aiohttp_session_is_closed_by_aclose(simulator: Simulator) -> None:
    """aclose() closes the aiohttp ClientSession the transport opened on the first request."""
    task_id = simulator.add_task([("PENDING", 0)])
    client = AsyncCambClient(API_KEY, base_url=simulator.url, transport="aiohttp")
    await client.status(task_id)
    transport = _transport_of(client)
    assert isinstance(transport, AiohttpTransport)
    session = transport.session
    assert session is not None
    assert not session.closed
    await client.aclose()
    assert session.closed


@pytest.mark.integration
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_aiohttp_fast_path_reads_every_documented_status_shape() -> None:
    """Polls sent through aiohttp's short way read a bare status string and a status-less
    {"run_id": N} as every other path does: one status parser."""
    from camb_async.testing import Simulator

    with Simulator(seed=5, answer_shapes="docs") as sim:
        separating = sim.add_task([("PENDING", 0), ("SUCCESS", 0.2)], family="audio_separation")
        translating = sim.add_task([("PENDING", 0), ("SUCCESS", 0.2)], family="translated_story")
        async with AsyncCambClient(API_KEY, base_url=sim.url, transport="aiohttp") as client:
            first = await client.audio_separation.status(separating)
            assert isinstance(_transport_of(client), AiohttpTransport)
            outcomes = await client.wait_many(
                [
                    TaskHandle(task_id=separating, family="audio_separation"),
                    TaskHandle(task_id=translating, family="translated_story"),
                ]
            )
        polled = sim.request_paths
    assert first.status == "PENDING"
    assert f"/apis/audio-separation/{separating}" in polled
    runs = [sim.record(separating, family="audio_separation").run_id]
    runs.append(sim.record(translating, family="translated_story").run_id)
    assert [outcome.run_id if isinstance(outcome, TaskStatus) else outcome for outcome in outcomes] == runs


@pytest.mark.integration
async def test_aiohttp_transport_maps_api_errors(simulator: Simulator) -> None:
    """Errors read the same through aiohttp: an unknown task is still a NotFoundError."""
    from camb_async import NotFoundError

    async with AsyncCambClient(API_KEY, base_url=simulator.url, transport="aiohttp") as client:
        with pytest.raises(NotFoundError):
            await client.status("no-such-task")


# -- what an error really was: never sent, or maybe sent ---------------------------------

TRANSPORTS_ON_TCP = ("httpx", "aiohttp")


@pytest.mark.integration
@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
@pytest.mark.parametrize("transport", TRANSPORTS_ON_TCP)
async def test_create_that_reached_the_server_is_sent_once(transport: Transport, reset: bool) -> None:
    """A create whose connection is closed (or reset) after the server read it is sent once
    and raises CreateOutcomeUnknownError, on both transports."""
    with HangUpServer(reset=reset) as server:
        async with AsyncCambClient(API_KEY, base_url=server.url, transport=transport) as client:
            with pytest.raises(CreateOutcomeUnknownError, match="may have reached the server") as caught:
                await client.tts.create(text="hello", voice_id=1, language=1)
    assert server.requests == [b"POST /apis/tts HTTP/1.1"]
    assert not isinstance(caught.value, APITimeoutError)
    assert isinstance(caught.value.__cause__, httpx.TransportError)
    assert not isinstance(caught.value.__cause__, httpx.TimeoutException)


@pytest.mark.integration
@pytest.mark.parametrize("transport", TRANSPORTS_ON_TCP)
async def test_status_poll_cut_off_is_retried_and_is_a_connection_error(transport: Transport) -> None:
    """A GET whose connection is closed unanswered is sent again max_retries times, then
    raises a plain APIConnectionError (not a timeout, not CreateOutcomeUnknownError)."""
    with HangUpServer() as server, set_testing():
        async with AsyncCambClient(API_KEY, base_url=server.url, transport=transport) as client:
            with pytest.raises(APIConnectionError) as caught:
                await client.status("abc")
    assert type(caught.value) is APIConnectionError
    # aiohttp itself sends an idempotent request once more when a connection closes unanswered.
    tries = 2 if transport == "aiohttp" and running_on_asyncio() else 1
    assert server.requests == [b"GET /apis/tts/abc HTTP/1.1"] * 3 * tries


@pytest.mark.integration
@pytest.mark.parametrize("transport", TRANSPORTS_ON_TCP)
async def test_refused_connection_is_a_connection_error_and_a_create_is_retried(transport: Transport) -> None:
    """A refused connection is an APIConnectionError, not a timeout, on both transports; a create
    refused never left this machine, so it is tried again (max_retries) before that error."""
    async with AsyncCambClient(API_KEY, base_url=refused_url(), transport=transport) as client:
        with set_testing(), anyio.fail_after(10), pytest.raises(APIConnectionError) as caught:
            await client.tts.create(text="hello", voice_id=1, language=1)
    assert type(caught.value) is APIConnectionError
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_aiohttp_errors_get_the_httpx_class_of_what_happened() -> None:
    """Each aiohttp error, whatever httpx-aiohttp labelled it, becomes the httpx error httpcore
    would raise; only errors while connecting count as never sent."""
    import aiohttp
    from aiohttp.client_reqrep import ConnectionKey

    key = ConnectionKey("h", 1, False, True, None, None, None)
    expected: list[tuple[BaseException, type[httpx.HTTPError], bool]] = [
        (aiohttp.ClientConnectorError(key, OSError(111, "refused")), httpx.ConnectError, True),
        (aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout, True),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout, False),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError, False),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError, False),
        (aiohttp.ClientPayloadError("cut"), httpx.ReadError, False),
    ]
    request = httpx.Request("POST", "https://camb.test/apis/tts")
    for cause, cls, never_sent in expected:
        labelled = httpx.ConnectTimeout("as httpx-aiohttp says", request=request)
        labelled.__cause__ = cause
        fixed = true_transport_error(labelled)
        assert type(fixed) is cls, cause
        assert fixed.__cause__ is cause
        assert fixed.request is request
        assert was_never_sent(fixed) is never_sent, cause


def test_errors_without_an_aiohttp_cause_are_kept() -> None:
    """An httpx error of httpx's own pool (or with no cause) is returned unchanged."""
    plain = httpx.ReadTimeout("slow")
    assert true_transport_error(plain) is plain
    chained = httpx.ConnectError("refused")
    chained.__cause__ = OSError(111, "refused")
    assert true_transport_error(chained) is chained


# -- the SDK's own aiohttp transport and its short way for status polls ---------------------

_PENDING = answer("200 OK", b'{"status": "PENDING"}', "Content-Type: application/json")


def _count_bare(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each request that takes AiohttpClient.send_bare's short way past httpx's pipeline."""
    bare: list[str] = []
    original = AiohttpTransport.exchange

    async def spy(
        self: AiohttpTransport,
        request: httpx.Request,
        url: str,
        headers: list[tuple[str, str]],
        data: Any,
        timeout: Any,
    ) -> Any:
        if "camb-bare" in request.extensions:
            bare.append(request.url.path)
        return await original(self, request, url, headers, data, timeout)

    send_bare = AiohttpClient.send_bare

    async def marked(self: AiohttpClient, method: str, url: str) -> httpx.Response:
        request_class = httpx.Request

        def tagging(*args: Any, **kwargs: Any) -> httpx.Request:
            request = request_class(*args, **kwargs)
            request.extensions["camb-bare"] = True
            return request

        monkeypatch.setattr(httpx, "Request", tagging)
        try:
            return await send_bare(self, method, url)
        finally:
            monkeypatch.setattr(httpx, "Request", request_class)

    monkeypatch.setattr(AiohttpTransport, "exchange", spy)
    monkeypatch.setattr(AiohttpClient, "send_bare", marked)
    return bare


@pytest.mark.integration
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_status_polls_go_straight_to_the_transport_with_the_client_headers(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A status poll skips httpx's pipeline, yet sends what it would have (the key, the
    SDK's user agent, Host), comes back read and timed, and logs httpx's line."""
    caplog.set_level(logging.INFO, logger="httpx")
    bare = _count_bare(monkeypatch)
    with AnswerServer([_PENDING]) as server:
        async with AsyncCambClient(API_KEY, base_url=server.url, transport="aiohttp") as client:
            first = await client.status("abc")
            second = await client.status("abc")
    assert first.status == second.status == "PENDING"
    assert bare == ["/apis/tts/abc"] * 2
    head = server.heads[0].lower()
    assert head.startswith(b"get /apis/tts/abc http/1.1\r\n")
    assert f"x-api-key: {API_KEY}".lower().encode() in head
    assert b"user-agent: camb-async/" in head
    assert b"accept: application/json" in head
    assert f"host: {httpx.URL(server.url).netloc.decode()}".encode() in head
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines == [f'HTTP Request: GET {server.url}/tts/abc "HTTP/1.1 200 OK"'] * 2


@pytest.mark.integration
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_redirect_is_never_followed_and_the_key_stays_home() -> None:
    """A 302 to another host is an error answer: the transport never follows it."""
    moved = answer("302 Found", b"", "Location: http://127.0.0.2:9/elsewhere")
    with AnswerServer([moved]) as server, set_testing():
        async with AsyncCambClient(
            API_KEY, base_url=server.url, transport="aiohttp", max_retries=0
        ) as client:
            with pytest.raises(CambError):
                await client.status("abc")
    assert len(server.heads) == 1


@pytest.mark.integration
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_cookie_set_by_the_server_is_kept_and_sent_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer's Set-Cookie goes into the client's jar; from then on polls take httpx's way,
    which sends the cookie (a load balancer's stickiness keeps working)."""
    bare = _count_bare(monkeypatch)
    sticky = answer(
        "200 OK", b'{"status": "PENDING"}', "Content-Type: application/json", "Set-Cookie: lb=node-2; Path=/"
    )
    with AnswerServer([sticky, _PENDING]) as server:
        async with AsyncCambClient(API_KEY, base_url=server.url, transport="aiohttp") as client:
            await client.status("abc")
            await client.status("abc")
    assert bare == ["/apis/tts/abc"]
    assert b"cookie: lb=node-2" not in server.heads[0].lower()
    assert b"cookie: lb=node-2" in server.heads[1].lower()


@pytest.mark.integration
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_compressed_and_chunked_answers_are_read() -> None:
    """httpx decodes a gzip body above the transport; a chunked one (no length) is streamed."""
    import gzip

    body = b'{"status": "SUCCESS", "run_id": 7}'
    zipped = answer("200 OK", gzip.compress(body), "Content-Type: application/json", "Content-Encoding: gzip")
    chunked = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )
    with AnswerServer([zipped, chunked]) as server:
        async with AsyncCambClient(API_KEY, base_url=server.url, transport="aiohttp") as client:
            assert (await client.status("abc")).run_id == 7
            assert (await client.status("abc")).run_id == 7


@pytest.mark.integration
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_bare_answer_is_read_as_httpx_reads_it() -> None:
    """send_bare hands a small answer over read, closed and timed, with the content, byte
    count, text and JSON that httpx's own reading of the same answer gives; a gzip answer
    is decoded."""
    import gzip

    body = b'{"status": "PENDING", "run_id": null}'
    plain = answer("200 OK", body, "Content-Type: application/json")
    zipped = answer("200 OK", gzip.compress(body), "Content-Type: application/json", "Content-Encoding: gzip")
    with AnswerServer([plain, plain, zipped, zipped]) as server:
        async with AiohttpClient(headers={}, timeout=DEFAULT_TIMEOUT, limits=httpx.Limits()) as http:
            url = f"{server.url}/tts/abc"
            pairs = [(await http.send_bare("GET", url), await http.get(url)) for _ in range(2)]
    assert [type(bare).__name__ for bare, _ in pairs] == ["_Answer", "Response"]
    for bare, piped in pairs:
        assert bare.is_closed
        assert bare.is_stream_consumed
        assert bare.status_code == piped.status_code
        assert bare.reason_phrase == piped.reason_phrase
        assert bare.http_version == piped.http_version
        assert bare.headers == piped.headers
        assert bare.content == piped.content == body
        assert bare.num_bytes_downloaded == piped.num_bytes_downloaded
        assert bare.json() == piped.json()
        assert bare.text == piped.text
        assert bare.elapsed.total_seconds() >= 0
        assert [chunk async for chunk in bare.aiter_bytes()] == [body]


def test_a_short_way_answer_has_what_httpx_gives_a_read_response() -> None:
    """An _Answer carries every attribute httpx's Response sets when made and read (a new
    one in httpx would fail here), makes its headers and elapsed time when asked, and
    pickles as a Response does."""
    import datetime
    import pickle

    from camb_async._aiohttp import _Answer

    raw = ((b"Content-Type", b"application/json"), (b"Content-Length", b"20"))
    request = httpx.Request("GET", f"{BASE_URL}/tts/abc")
    body = b'{"status":"PENDING"}'
    read = httpx.Response(200, headers=raw, stream=httpx.ByteStream(body), request=request)
    read.read()
    read.elapsed = datetime.timedelta(seconds=0.25)
    made = _Answer(200, raw, body, request, {"http_version": b"HTTP/1.1"}, 0.25)
    assert made.headers == read.headers
    assert made.headers is made.headers
    assert made.elapsed == read.elapsed
    assert set(vars(read)) - {"_decoder", "headers"} <= set(vars(made))
    assert made.json() == read.json() == {"status": "PENDING"}
    assert made.text == read.text
    assert made.num_bytes_downloaded == read.num_bytes_downloaded
    assert made.request is request
    made.headers = httpx.Headers({"x": "1"})
    assert made.headers["x"] == "1"
    assert pickle.loads(pickle.dumps(made)).json() == {"status": "PENDING"}


def test_an_answers_reason_phrase_is_kept_as_httpx_keeps_it() -> None:
    """The extensions of an answer hold its reason phrase as latin-1 bytes (none when it has
    none), the same object for each answer with the same phrase."""
    from types import SimpleNamespace

    from camb_async._aiohttp import _extensions

    def of(reason: str) -> dict[str, Any]:
        return _extensions(cast("Any", SimpleNamespace(reason=reason)))

    assert of("") == {"http_version": b"HTTP/1.1"}
    assert of("Très Bien") == {"http_version": b"HTTP/1.1", "reason_phrase": "Très Bien".encode("latin-1")}
    assert of("Très Bien")["reason_phrase"] is of("Très Bien")["reason_phrase"]
    assert httpx.Response(200, extensions=of("Fine Thanks")).reason_phrase == "Fine Thanks"


@pytest.mark.integration
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_read_timeout_applies_and_counts_as_maybe_sent() -> None:
    """The client's read timeout bounds the wait for an answer; it is an httpx.ReadTimeout
    chained to aiohttp's error, so a create that timed out is not sent again."""
    with AnswerServer([_PENDING], delay=1.0) as server, set_testing():
        timeout = httpx.Timeout(5.0, read=0.2)
        async with AsyncCambClient(
            API_KEY, base_url=server.url, transport="aiohttp", timeout=timeout
        ) as client:
            with anyio.fail_after(10), pytest.raises(CreateOutcomeUnknownError) as caught:
                await client.tts.create(text="hello", voice_id=1, language=1)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert type(caught.value.__cause__.__cause__).__module__.startswith("aiohttp")
    assert len(server.heads) == 1


@pytest.mark.integration
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_small_answers_are_read_whole_and_large_ones_streamed() -> None:
    """An answer up to WHOLE_BODY_LIMIT comes to httpx read; a larger one as it arrives,
    and closing one unread frees its connection for the next request."""
    small = b"a" * WHOLE_BODY_LIMIT
    large = b"b" * (WHOLE_BODY_LIMIT + 1)
    answers = [
        answer("200 OK", small),
        answer("200 OK", large),
        answer("200 OK", large),
        answer("200 OK", small),
    ]
    with AnswerServer(answers) as server:
        transport = AiohttpTransport(httpx.Limits(max_connections=1))
        with anyio.fail_after(10):  # a connection never freed would leave the fourth waiting
            async with transport:
                first = await transport.handle_async_request(httpx.Request("GET", server.url))
                assert type(first.stream).__name__ == "_Read"
                assert await first.aread() == small
                second = await transport.handle_async_request(httpx.Request("GET", server.url))
                assert type(second.stream).__name__ == "_Streamed"
                assert b"".join([chunk async for chunk in second.aiter_bytes()]) == large
                third = await transport.handle_async_request(httpx.Request("GET", server.url))
                await third.aclose()  # unread: its connection is closed, not pooled
                async with httpx.AsyncClient(transport=transport) as http:
                    fourth = await http.get(server.url)
                assert fourth.content == small
                assert fourth.elapsed.total_seconds() >= 0
    assert len(server.heads) == 4


def test_aiohttp_errors_are_raised_as_the_httpx_class_of_what_happened() -> None:
    """The SDK's transport maps aiohttp's errors itself, chained and with the request."""
    import aiohttp
    from aiohttp.client_reqrep import ConnectionKey

    from camb_async._aiohttp import _as_httpx_error

    key = ConnectionKey("h", 1, False, True, None, None, None)
    request = httpx.Request("GET", "https://camb.test/apis/tts/abc")
    expected: list[tuple[BaseException, type[httpx.HTTPError]]] = [
        (aiohttp.ClientConnectorError(key, OSError(111, "refused")), httpx.ConnectError),
        (aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
        (aiohttp.ClientPayloadError("cut"), httpx.ReadError),
        (aiohttp.InvalidURL("nope://x"), httpx.UnsupportedProtocol),
        (aiohttp.ClientError("other"), httpx.ReadError),
        (asyncio.TimeoutError(), httpx.ReadTimeout),
    ]
    for cause, cls in expected:
        error = _as_httpx_error(cause, request)
        assert type(error) is cls, cause
        assert error.request is request
        assert true_transport_error(error) is error


async def test_prepared_requests_are_kept_up_to_the_cache_size() -> None:
    """send_bare keeps each prepared request for the next poll, the oldest going first past
    URL_CACHE_SIZE."""
    http = AiohttpClient(headers={}, timeout=DEFAULT_TIMEOUT, limits=httpx.Limits())
    urls = [f"http://camb.test/apis/tts/{n}" for n in range(URL_CACHE_SIZE + 1)]
    prepared = [http._prepared("GET", url) for url in urls]
    assert http._prepared("GET", urls[-1]) is prepared[-1]
    assert len(http._requests) == URL_CACHE_SIZE
    assert ("GET", urls[0]) not in http._requests
    for (request, pairs, timeout), url in zip(prepared, urls, strict=True):
        assert str(request.url) == url
        assert request.headers["host"] == "camb.test"
        assert pairs == request.headers.multi_items()
        assert timeout.sock_read == DEFAULT_TIMEOUT.read
    await http.aclose()


async def test_a_kept_request_is_sent_again_until_the_timeout_changes() -> None:
    """_bare_request gives the same request object for a URL while the client's timeout
    stays; a new timeout makes a new request carrying it."""
    http = AiohttpClient(headers={}, timeout=DEFAULT_TIMEOUT, limits=httpx.Limits())
    url = "http://camb.test/apis/tts/abc"
    first, pairs, _ = http._bare_request("GET", url)
    assert http._bare_request("GET", url)[0] is first
    assert first.extensions["timeout"] == DEFAULT_TIMEOUT.as_dict()
    http.timeout = httpx.Timeout(3.0)
    again, again_pairs, timeout = http._bare_request("GET", url)
    assert again is not first
    assert again.extensions["timeout"] == httpx.Timeout(3.0).as_dict()
    assert timeout.sock_read == 3.0
    assert again_pairs == pairs
    assert http._bare_request("GET", url)[0] is again
    await http.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_with_options_and_callers_clients_take_httpx_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the SDK's own aiohttp client has the short way, and only for calls with no options:
    a client from with_options() (per-call headers or timeout) and a caller's http_client
    go through httpx.AsyncClient.request."""
    bare = _count_bare(monkeypatch)
    with AnswerServer([_PENDING]) as server:
        async with AsyncCambClient(API_KEY, base_url=server.url, transport="aiohttp") as client:
            await client.with_options(timeout=3.0).status("abc")
            await client.status("abc")
        async with (
            httpx.AsyncClient() as http,
            AsyncCambClient(API_KEY, base_url=server.url, http_client=http) as own,
        ):
            await own.status("abc")
            assert own._requester._loop_state().bare is None
    assert bare == ["/apis/tts/abc"]
    assert len(server.heads) == 3


async def test_a_bare_request_is_the_one_httpx_would_build() -> None:
    """send_bare's request has the URL, headers (Host; Content-Length on a POST), empty body
    and timeout that the client's build_request gives the same call."""
    http = AiohttpClient(
        headers={"x-api-key": API_KEY}, timeout=httpx.Timeout(7.0, read=3.0), limits=httpx.Limits()
    )
    for method in ("GET", "DELETE", "POST", "PUT"):
        for url in (f"{BASE_URL}/tts/abc", "https://camb.test:8443/apis/tts/abc?x=1"):
            bare, pairs, _ = http._bare_request(method, url)
            built = http.build_request(method, url)
            assert bare.method == built.method
            assert bare.url == built.url
            assert sorted(bare.headers.multi_items()) == sorted(built.headers.multi_items()), (method, url)
            assert bare.content == built.content == b""
            assert bare.extensions["timeout"] == built.extensions["timeout"]
            assert sorted(pairs) == sorted(built.headers.multi_items())
    await http.aclose()
