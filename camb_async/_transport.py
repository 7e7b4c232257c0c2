"""Building the ``httpx.AsyncClient`` the SDK owns, on the transport the caller chose.

``transport="httpx"`` is httpx's own pool (httpcore). ``transport="aiohttp"``
sends through aiohttp (``_aiohttp``; the ``camb-async[aiohttp]`` extra): the
same httpx API above it, with a much cheaper pool and HTTP/1.1 parser below
it, and a short way past httpx's pipeline for status polls. aiohttp only runs
on asyncio, so under trio the SDK falls back to httpx's own transport.

On httpx's transport the SDK splits the pool into pools of a few connections
each (:class:`ShardedTransport`): httpcore's pool does work for every
connection it holds on every request, so one pool of many connections costs
more CPU per request the more requests are in flight.

The client is built on first use, inside the running event loop: only then
is it known which loop that is, and aiohttp needs a running asyncio loop.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal, TypeAlias, cast

import httpx

from ._constants import default_limits
from ._exceptions import CambError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from ._aiohttp import AiohttpClient
    from ._types import TimeoutTypes

__all__ = [
    "TRANSPORTS",
    "BareSend",
    "HttpClientBuilder",
    "MissingExtraError",
    "ShardedTransport",
    "Transport",
    "as_httpx_error",
    "error_classes",
    "httpx_class_of_aiohttp_error",
    "running_on_asyncio",
    "true_transport_error",
]

log = logging.getLogger("camb_async")

Transport = Literal["httpx", "aiohttp"]
TRANSPORTS: tuple[Transport, ...] = ("httpx", "aiohttp")

BareSend: TypeAlias = Callable[[str, str], Awaitable[httpx.Response]]
"""``send(method, url)``: a request with no body and no per-call options, sent with the
client's own headers and timeout, never redirected; its answer comes with its body read."""

_INSTALL_HINT = "pip install 'camb-async[aiohttp]'"


class MissingExtraError(CambError, ImportError):
    """An optional dependency is not installed; the message says what to install.

    Both a ``CambError`` and an ``ImportError``, so either ``except`` catches it.
    """


class HttpClientBuilder:
    """Builds the SDK's own ``httpx.AsyncClient`` once, when first needed.

    Args:
        transport: ``"httpx"`` or ``"aiohttp"``; checked (and the aiohttp
            extra looked for) here, so a mistake shows before any request.
        timeout: The client's per-request timeout.
        in_flight: The most requests the client sends at once (polls and
            transfers); sizes the pool (``default_limits``).

    Raises:
        ValueError: ``transport`` is not one of :data:`TRANSPORTS`.
        CambError: ``transport="aiohttp"`` but ``aiohttp`` is not
            installed (also an ``ImportError``).
    """

    __slots__ = ("_limits", "_timeout", "_transport")

    def __init__(self, transport: Transport, *, timeout: TimeoutTypes, in_flight: int) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(
                f"transport must be one of {', '.join(map(repr, TRANSPORTS))}, got {transport!r}"
            )
        if transport == "aiohttp":
            _aiohttp_client_class()
        self._transport: Transport = transport
        self._timeout = timeout
        self._limits = default_limits(in_flight)

    def build(self, headers: dict[str, str]) -> httpx.AsyncClient:
        """A new client for the running event loop, sending ``headers`` on every
        request; call it from inside that loop."""
        if self._transport == "aiohttp":
            if running_on_asyncio():
                # Its transport gets the same limits; it opens its aiohttp.ClientSession
                # on the first request, inside this loop.
                return _aiohttp_client_class()(
                    headers=headers, timeout=httpx.Timeout(self._timeout), limits=self._limits
                )
            log.info("transport='aiohttp' needs asyncio; on this event loop the SDK uses httpx's transport")
        return httpx.AsyncClient(
            headers=headers, timeout=self._timeout, transport=ShardedTransport(self._limits)
        )

    def bare_sender(self, http: httpx.AsyncClient) -> BareSend | None:
        """The short way for bare requests of a client this builder built, if it has one
        (``AiohttpClient.send_bare``); ``None`` sends them all through ``http.request``."""
        if self._transport != "aiohttp" or not running_on_asyncio():
            return None
        client_class = _aiohttp_client_class()
        return http.send_bare if isinstance(http, client_class) else None


SHARD_CONNECTIONS = 8
"""Connections in each of :class:`ShardedTransport`'s pools."""


class ShardedTransport(httpx.AsyncBaseTransport):
    """httpx's own transport (``httpx.AsyncHTTPTransport``), as several pools of a few connections.

    httpcore's pool, on every request that enters or leaves it, checks every
    connection it holds, and counts all of them again for each idle one: its
    CPU per request grows with its connections, and past a few dozen requests
    in flight it is what limits the client. Measured at 150 ms round trips
    (docs/benchmarks.md), one pool with 96 requests in flight cost about
    12 ms of CPU per request and sent 96 requests a second; pools of 8 cost
    about 1 ms and sent 750 a second with 128 in flight.

    Each request goes to the first pool with the fewest requests in flight, so
    no pool ever holds more than its share, and a request finds a connection
    whenever fewer than ``limits.max_connections`` are in flight. A request
    counts until its response is closed. The pools share one SSL context.

    Args:
        limits: The limits of the whole: ``max_connections`` (split into pools of
            :data:`SHARD_CONNECTIONS`) and ``keepalive_expiry``.
    """

    __slots__ = ("_loads", "_pools")

    def __init__(self, limits: httpx.Limits) -> None:
        total = limits.max_connections or SHARD_CONNECTIONS
        shard = httpx.Limits(
            max_connections=SHARD_CONNECTIONS,
            max_keepalive_connections=SHARD_CONNECTIONS,
            keepalive_expiry=limits.keepalive_expiry,
        )
        context = httpx.create_ssl_context()  # loading the CA bundle costs: once for every pool
        count = math.ceil(total / SHARD_CONNECTIONS)
        self._pools = [httpx.AsyncHTTPTransport(verify=context, limits=shard) for _ in range(count)]
        self._loads = [0] * count

    @property
    def pools(self) -> list[httpx.AsyncHTTPTransport]:
        """The pools, in the order requests fill them."""
        return list(self._pools)

    @property
    def loads(self) -> list[int]:
        """Requests in flight on each pool (a request counts until its response is closed)."""
        return list(self._loads)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        loads = self._loads
        index = loads.index(min(loads))
        loads[index] += 1
        try:
            response = await self._pools[index].handle_async_request(request)
        except BaseException:
            loads[index] -= 1
            raise
        response.stream = _CountedStream(response.stream, loads, index)
        return response

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


class _CountedStream(httpx.AsyncByteStream):
    """A response's body that takes its request off its pool's count when closed."""

    __slots__ = ("_index", "_inner", "_loads")

    def __init__(
        self, inner: httpx.AsyncByteStream | httpx.SyncByteStream, loads: list[int], index: int
    ) -> None:
        self._inner = cast("httpx.AsyncByteStream", inner)
        self._loads: list[int] | None = loads
        self._index = index

    def __aiter__(self) -> AsyncIterator[bytes]:
        """The inner body's own iterator: no async generator of ours in the chain, so an
        abandoned body leaves nothing of this module for the garbage collector to finalize."""
        return self._inner.__aiter__()

    async def aclose(self) -> None:
        if self._loads is not None:
            self._loads[self._index] -= 1
            self._loads = None
        await self._inner.aclose()


def _aiohttp_client_class() -> type[AiohttpClient]:
    """The SDK's client class on aiohttp (``_aiohttp.AiohttpClient``); aiohttp is an extra."""
    try:
        from ._aiohttp import AiohttpClient
    except ImportError as exc:
        raise MissingExtraError(f"transport='aiohttp' needs the aiohttp package: {_INSTALL_HINT}") from exc
    return AiohttpClient


def error_classes(http: object) -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """The HTTP errors and the transport errors ``http`` raises: httpx's, and for an
    ``httpx2.AsyncClient`` (pydantic's continuation of httpx) httpx2's as well."""
    if type(http).__module__.partition(".")[0] == "httpx2":
        import httpx2  # type: ignore[import-not-found, unused-ignore]  # pyright: ignore[reportMissingImports]

        http_error = cast("type[Exception]", httpx2.HTTPError)  # pyright: ignore[reportUnknownMemberType]
        transport_error = cast("type[Exception]", httpx2.TransportError)  # pyright: ignore[reportUnknownMemberType]
        return (httpx.HTTPError, http_error), (httpx.TransportError, transport_error)
    return (httpx.HTTPError,), (httpx.TransportError,)


def as_httpx_error(exc: BaseException) -> httpx.HTTPError:
    """``exc`` (an httpx error, or httpx2's of the same name) as an httpx error, so one retry
    policy and one error mapping serve both; the original stays the cause."""
    if isinstance(exc, httpx.HTTPError):
        return exc
    cls = getattr(httpx, type(exc).__name__, None)
    if not (isinstance(cls, type) and issubclass(cls, httpx.HTTPError)):
        cls = httpx.TransportError
    translated = cls(str(exc) or type(exc).__name__)  # pyright: ignore[reportCallIssue]
    translated.__cause__ = exc
    with contextlib.suppress(RuntimeError, AttributeError):
        translated.request = exc.request  # type: ignore[attr-defined]
    return translated


def true_transport_error(exc: BaseException) -> httpx.HTTPError:
    """``exc`` as the httpx error class that says what really happened.

    httpx-aiohttp (0.2), which a caller's ``http_client`` may run on, relabels
    aiohttp's ``ServerDisconnectedError``, ``ClientOSError`` (a reset) and
    ``ClientConnectorError`` (refused) all as ``httpx.ConnectTimeout``, which reads
    as "timed out before sending": a create would be sent again after the server
    may have it, and a refused connection would read as a timeout. The aiohttp
    error it chains as the cause says what happened; any other error is returned
    as it is. This runs only on failures. The SDK's own aiohttp transport
    (``_aiohttp``) raises the right class already. An httpx2 error comes back as
    httpx's of the same name (``as_httpx_error``).
    """
    exc = as_httpx_error(exc)
    cause = exc.__cause__
    if cause is None or not type(cause).__module__.startswith("aiohttp"):
        return exc
    cls = httpx_class_of_aiohttp_error(cause)
    if cls is None or type(exc) is cls:
        return exc
    fixed = cls(str(exc) or type(cause).__name__)
    fixed.__cause__ = cause
    with contextlib.suppress(RuntimeError):  # httpx raises it when the error has no request
        fixed.request = exc.request
    return fixed


def httpx_class_of_aiohttp_error(cause: BaseException) -> type[httpx.HTTPError] | None:
    """The httpx error class for an aiohttp error, as httpcore would have raised it.

    Only an error raised while connecting means the request never left: a refused,
    unresolved or TLS-failed connection, or a connect timeout. After that, a closed
    or reset connection or a read timeout may come after the server had the request.
    """
    import aiohttp

    if isinstance(cause, aiohttp.ClientConnectorError):  # refused, DNS, TLS: nothing was sent
        return httpx.ConnectError
    if isinstance(cause, aiohttp.ConnectionTimeoutError):  # no connection (or pool slot) in time
        return httpx.ConnectTimeout
    if isinstance(cause, aiohttp.ServerTimeoutError):  # a read timed out, once the request was sent
        return httpx.ReadTimeout
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError  # httpcore: "Server disconnected without sending a response."
    if isinstance(cause, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)):
        return httpx.ReadError  # a reset or a broken body: maybe sent
    return None


def running_on_asyncio() -> bool:
    """Whether the running event loop is asyncio's (not trio's)."""
    try:
        import sniffio
    except ImportError:  # trio depends on sniffio: without it, the loop is asyncio
        return True
    try:
        return sniffio.current_async_library() == "asyncio"
    except sniffio.AsyncLibraryNotFoundError:
        return False
