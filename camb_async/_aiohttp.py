"""``transport="aiohttp"``: the SDK's own ``httpx.AsyncClient`` sending through aiohttp.

This replaces httpx-aiohttp's transport and client class for the client the
SDK builds. Through theirs a status call cost about 3.5 times a raw
``aiohttp.ClientSession``'s CPU (docs/benchmarks.md): converting between the
two libraries' objects on every request, and httpx's pipeline above the
transport, cost more than aiohttp's whole exchange. Here:

* :class:`AiohttpTransport` hands aiohttp the request's headers as the pairs
  they already are, reuses one ``aiohttp.ClientTimeout`` per distinct httpx
  timeout, reads a small answer whole in one call and gives httpx the bytes,
  and raises the httpx error class of what happened (only an error while
  connecting means the request was never sent; see
  ``_transport.true_transport_error``).
* :class:`AiohttpClient` is an ``httpx.AsyncClient`` on that transport, also
  for proxies from the environment, with a short way for status polls past
  httpx's pipeline (:meth:`AiohttpClient.send_bare`).

Users never see either: they configure the client through ``AsyncCambClient``'s
options, and their own ``http_client=`` always goes through httpx's pipeline.

aiohttp has no write timeout: ``connect``, ``read`` and ``pool`` of httpx's
timeout apply (``pool`` as aiohttp's ``connect``, which covers waiting for a
connection and opening it), ``write`` does not, as with httpx-aiohttp.
"""

from __future__ import annotations

import asyncio
import datetime
import http.cookiejar
import logging
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx

from ._transport import httpx_class_of_aiohttp_error

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Iterator

__all__ = ["URL_CACHE_SIZE", "WHOLE_BODY_LIMIT", "AiohttpClient", "AiohttpTransport"]

WHOLE_BODY_LIMIT = 64 * 1024
"""An answer with a ``Content-Length`` up to this is read whole before httpx gets it."""

URL_CACHE_SIZE = 1024
"""The most requests :meth:`AiohttpClient.send_bare` keeps prepared (the oldest goes first)."""

_CHUNK_SIZE = 64 * 1024
_httpx_log = logging.getLogger("httpx")
_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)  # aiohttp's timeouts are asyncio's
_HTTP11 = b"HTTP/1.1"
_TIMEOUTS_KEPT = 64
_REASONS: dict[str, bytes] = {}  # reason phrases as httpx keeps them
_REASONS_KEPT = 64
_NO_BODY = httpx.ByteStream(b"")
_SENDS_LENGTH = frozenset({"POST", "PUT", "PATCH"})
_Prepared = tuple[httpx.Request, list[tuple[str, str]], aiohttp.ClientTimeout]


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends through one ``aiohttp.ClientSession``.

    The session (and its connection pool) opens on the first request, inside
    the running event loop. Redirects are never followed here, and bodies are
    never decompressed here: httpx does both above the transport, as over its
    own pool.

    Args:
        limits: ``max_connections`` is the pool's size (``None``: no limit);
            ``keepalive_expiry`` how long an idle connection stays open.
        verify: The SSL context that verifies servers (httpx's default when ``None``).
        proxy: A proxy for every request through this transport.
    """

    __slots__ = (
        "_limits",
        "_proxy_auth",
        "_proxy_headers",
        "_proxy_url",
        "_session",
        "_timeouts",
        "ssl_context",
    )

    def __init__(
        self,
        limits: httpx.Limits,
        *,
        verify: ssl.SSLContext | None = None,
        proxy: httpx.Proxy | None = None,
    ) -> None:
        self.ssl_context: ssl.SSLContext = verify if verify is not None else httpx.create_ssl_context()
        self._limits = limits
        # What aiohttp is told of the proxy, the same for every request.
        self._proxy_url = None if proxy is None else str(proxy.url)
        self._proxy_auth = None if proxy is None or proxy.auth is None else aiohttp.BasicAuth(*proxy.auth)
        self._proxy_headers = None if proxy is None else proxy.headers
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The aiohttp session, once the first request has opened it."""
        return self._session

    @property
    def limits(self) -> httpx.Limits:
        """The pool's limits."""
        return self._limits

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._limits.max_connections or 0,
            keepalive_timeout=self._limits.keepalive_expiry or 0,
            ssl=self.ssl_context,
        )
        self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        return self._session

    def timeout_of(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        """aiohttp's timeout of ``request`` (one object per distinct httpx timeout)."""
        given: dict[str, float | None] = request.extensions.get("timeout") or {}
        key = (given.get("connect"), given.get("read"), given.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read, connect=pool)
            if len(self._timeouts) < _TIMEOUTS_KEPT:
                self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        data: Any
        try:
            data = request.content or None
            headers = request.headers.multi_items()
        except httpx.RequestNotRead:  # a streamed body (multipart): aiohttp reads it as it sends
            data = request.stream
            headers = [(k, v) for k, v in request.headers.multi_items() if k != "transfer-encoding"]
        return await self.send(request, headers, data)

    async def send(self, request: httpx.Request, headers: list[tuple[str, str]], data: Any) -> httpx.Response:
        """Send ``request`` with ``headers`` (its headers as text pairs) and body ``data``."""
        answer = await self.exchange(request, str(request.url), headers, data, self.timeout_of(request))
        return await self.response(answer, request)

    async def exchange(
        self,
        request: httpx.Request,
        url: str,
        headers: list[tuple[str, str]],
        data: Any,
        timeout: aiohttp.ClientTimeout,
    ) -> aiohttp.ClientResponse:
        """aiohttp's answer to ``request`` (sent to ``url``, its URL as text, with ``headers``,
        body ``data`` and ``timeout``), its body unread; aiohttp's errors raised as httpx's."""
        session = self._session or self._open()
        try:
            return await session.request(
                request.method,
                url,
                headers=headers,
                data=data,
                allow_redirects=False,
                compress=None,
                timeout=timeout,
                server_hostname=request.extensions.get("sni_hostname"),
                proxy=self._proxy_url,
                proxy_auth=self._proxy_auth,
                proxy_headers=self._proxy_headers,
            )
        except _ERRORS as exc:
            raise _as_httpx_error(exc, request) from exc

    async def response(self, answer: aiohttp.ClientResponse, request: httpx.Request) -> httpx.Response:
        """The httpx response of aiohttp's ``answer``: a small body read whole, a larger one
        (or one of unknown length) streamed as it arrives."""
        length = answer.content_length
        if length is None or length > WHOLE_BODY_LIMIT:
            stream: httpx.AsyncByteStream = _Streamed(answer, request)
        else:
            told = answer.headers
            stream = _Read(await _read(answer, request), "Content-Encoding" in told, "Set-Cookie" in told)
        return httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            stream=stream,
            request=request,
            extensions=_extensions(answer),
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class _Read(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body already read whole: httpx may read it with or without ``await``. Whether its
    answer is encoded or sets a cookie is noted from aiohttp's headers, which answer that
    for less than httpx's (whose first lookup works out the headers' text encoding)."""

    __slots__ = ("body", "encoded", "sets_cookie")

    def __init__(self, body: bytes, encoded: bool = False, sets_cookie: bool = False) -> None:
        self.body = body
        self.encoded = encoded
        self.sets_cookie = sets_cookie

    def __iter__(self) -> Iterator[bytes]:
        if self.body:
            yield self.body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.body:
            yield self.body


class _Streamed(httpx.AsyncByteStream):
    """A body read as it arrives; closing it gives the connection back (or drops it, if unread)."""

    __slots__ = ("_answer", "_request")

    def __init__(self, answer: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._answer = answer
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._answer.content.iter_chunked(_CHUNK_SIZE):
                yield chunk
        except _ERRORS as exc:
            raise _as_httpx_error(exc, self._request) from exc

    async def aclose(self) -> None:
        self._answer.release()


def _as_httpx_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx error of an aiohttp error, as httpcore would have raised it (see
    ``_transport.httpx_class_of_aiohttp_error``); only errors while connecting read as
    never sent."""
    cls: type[httpx.TransportError] = httpx.ReadError
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        cls = httpx.UnsupportedProtocol
    elif isinstance(exc, aiohttp.ClientHttpProxyError):  # the proxy refused the tunnel
        cls = httpx.ProxyError
    else:
        found = httpx_class_of_aiohttp_error(exc)
        if found is not None and issubclass(found, httpx.TransportError):
            cls = found
        elif isinstance(exc, asyncio.TimeoutError):
            cls = httpx.ReadTimeout
    return cls(str(exc) or type(exc).__name__, request=request)


async def _read(answer: aiohttp.ClientResponse, request: httpx.Request) -> bytes:
    """The whole body of ``answer``; it is closed if that fails."""
    try:
        return await answer.read()
    except BaseException as exc:
        answer.close()
        if isinstance(exc, _ERRORS):
            raise _as_httpx_error(exc, request) from exc
        raise


def _extensions(answer: aiohttp.ClientResponse) -> dict[str, Any]:
    """The response extensions httpcore gives an answer: its HTTP version and reason phrase."""
    reason = answer.reason
    if not reason:
        return {"http_version": _HTTP11}
    phrase = _REASONS.get(reason)
    if phrase is None:
        phrase = reason.encode("latin-1", "replace")
        if len(_REASONS) < _REASONS_KEPT:
            _REASONS[reason] = phrase
    return {"http_version": _HTTP11, "reason_phrase": phrase}


class _Jar(http.cookiejar.CookieJar):
    """The client's cookie jar, which notes whether a cookie was ever put in it: asking
    ``httpx.Cookies`` whether it is empty walks the jar on every poll."""

    filled = False

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        self.filled = True
        super().set_cookie(cookie)


class _Answer(httpx.Response):
    """A small answer of the short way, read whole and not encoded: an ``httpx.Response``
    like the one httpx would make of it once read (``content``, ``elapsed``, closed and
    consumed), made for less. Its headers become ``httpx.Headers`` when first asked for,
    and its ``elapsed`` a ``timedelta``: most status polls are parsed from their bytes
    with neither looked at, and converting them costs more than the rest of the object.

    It sets the attributes ``httpx.Response.__init__`` and ``read()`` set, no more
    (tests/test_transport.py holds the two together)."""

    def __init__(
        self,
        status_code: int,
        raw_headers: tuple[tuple[bytes, bytes], ...],
        body: bytes,
        request: httpx.Request,
        extensions: dict[str, Any],
        seconds: float,
    ) -> None:
        self.status_code = status_code
        self._raw_headers = raw_headers
        self._made_headers: httpx.Headers | None = None
        self._request = request
        self.next_request = None
        self.extensions = extensions
        self.history = []
        self.is_closed = True
        self.is_stream_consumed = True
        self.default_encoding = "utf-8"
        self.stream = _Read(body)
        self._num_bytes_downloaded = len(body)
        self._content = body
        self._seconds = seconds

    @property
    def headers(self) -> httpx.Headers:
        made = self._made_headers
        if made is None:
            made = self._made_headers = httpx.Headers(self._raw_headers)
        return made

    @headers.setter
    def headers(self, value: httpx.Headers) -> None:
        self._made_headers = value

    @property
    def elapsed(self) -> datetime.timedelta:
        elapsed = self.__dict__.get("_elapsed")
        if elapsed is None:
            elapsed = self._elapsed = datetime.timedelta(seconds=self._seconds)
        return elapsed

    @elapsed.setter
    def elapsed(self, elapsed: datetime.timedelta) -> None:
        self._elapsed = elapsed


class AiohttpClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` on :class:`AiohttpTransport`, for proxies from the environment too.

    :meth:`send_bare` is its short way for the SDK's most frequent request, a
    status poll: a request with no body and no per-call options.
    """

    def __init__(self, *, headers: dict[str, str], timeout: httpx.Timeout, limits: httpx.Limits) -> None:
        self._direct: AiohttpTransport | None = None
        self._proxied = False
        self._timeout_of: tuple[httpx.Timeout, dict[str, float | None]] | None = None
        self._requests: dict[tuple[str, str], _Prepared] = {}
        self._jar = _Jar()
        super().__init__(headers=headers, timeout=timeout, limits=limits, cookies=self._jar)

    def _init_transport(self, *args: Any, **kwargs: Any) -> AiohttpTransport:
        self._direct = AiohttpTransport(kwargs["limits"])
        return self._direct

    def _init_proxy_transport(self, proxy: httpx.Proxy, *args: Any, **kwargs: Any) -> AiohttpTransport:
        self._proxied = True
        return AiohttpTransport(kwargs["limits"], proxy=proxy)

    async def send_bare(self, method: str, url: str) -> httpx.Response:
        """``await self.request(method, url, follow_redirects=False)``, with its body read, for
        CPU's sake done here rather than by ``httpx.AsyncClient``'s pipeline.

        That pipeline (merging the URL, headers and cookies with the client's, the
        auth and redirect generators, event hooks, the cookie jar's parsing of every
        answer) costs more CPU than aiohttp's whole exchange of a status call. With
        none of it configured it does nothing here but that cost, so the request
        goes straight to the transport: the client's headers and timeout, the
        cookie jar only when an answer sets a cookie, and httpx's log line. A client
        with cookies, auth, event hooks or proxies takes httpx's way.

        A small answer that is not encoded comes back as an :class:`_Answer`.
        """
        direct = self._direct
        if (
            direct is None
            or self.is_closed
            or self._proxied
            or self.auth is not None
            or self._jar.filled
            or self.cookies.jar is not self._jar
            or self.event_hooks["request"]
            or self.event_hooks["response"]
        ):
            return await self.request(method, url, follow_redirects=False)
        request, pairs, timeout = self._bare_request(method, url)
        start = time.perf_counter()
        answer = await direct.exchange(request, url, pairs, None, timeout)
        told = answer.headers
        length = answer.content_length
        response: httpx.Response
        if length is not None and length <= WHOLE_BODY_LIMIT and "Content-Encoding" not in told:
            body = await _read(answer, request)
            response = _Answer(
                answer.status,
                answer.raw_headers,
                body,
                request,
                _extensions(answer),
                time.perf_counter() - start,
            )
        else:
            response = await direct.response(answer, request)
            try:
                await response.aread()
            except BaseException:
                await response.aclose()
                raise
            response.elapsed = datetime.timedelta(seconds=time.perf_counter() - start)
        if "Set-Cookie" in told:
            self.cookies.extract_cookies(response)
        if _httpx_log.isEnabledFor(logging.INFO):
            _httpx_log.info(
                'HTTP Request: %s %s "%s %d %s"',
                method,
                request.url,
                response.http_version,
                response.status_code,
                response.reason_phrase,
            )
        return response

    def _bare_request(self, method: str, url: str) -> _Prepared:
        """The request ``build_request(method, url)`` makes on this client, its headers as
        text pairs for aiohttp and aiohttp's timeout: kept by :meth:`_prepared` and sent
        again as long as the client's timeout is the same object. Nothing changes a request
        once sent (the SDK hands it to no hook), so one object serves every poll of a URL."""
        prepared = self._requests.get((method, url)) or self._prepared(method, url)
        timeout = self._timeout_dict()
        request = prepared[0]
        if request.extensions["timeout"] is not timeout:
            request = httpx.Request(
                method, request.url, headers=request.headers, stream=_NO_BODY, extensions={"timeout": timeout}
            )
            request.read()
            prepared = self._requests[(method, url)] = (request, prepared[1], self._aiohttp_timeout(request))
        return prepared

    def _prepared(self, method: str, url: str) -> _Prepared:
        """What a bodiless ``method`` to ``url`` sends, worked out once and kept for the next
        time (a watch asks for one URL again and again): the request, with the parsed URL
        (httpx's parsing costs a fifth of a status call's CPU) and the client's headers with
        those httpx's preparation of a request adds (Host; ``Content-Length: 0`` on POST,
        PUT, PATCH), its headers as text pairs and its timeout for aiohttp. The SDK never
        changes its client's headers once built, so what is kept stays right."""
        key = (method, url)
        prepared = self._requests.get(key)
        if prepared is None:
            kept = self._requests
            if len(kept) >= URL_CACHE_SIZE:
                del kept[next(iter(kept))]
            parsed = httpx.URL(url)
            headers = httpx.Headers(self.headers)
            if "host" not in headers:
                headers["Host"] = parsed.netloc.decode("ascii")
            if method in _SENDS_LENGTH:
                headers["Content-Length"] = "0"
            request = httpx.Request(
                method, parsed, headers=headers, stream=_NO_BODY, extensions={"timeout": self._timeout_dict()}
            )
            request.read()
            prepared = kept[key] = (request, headers.multi_items(), self._aiohttp_timeout(request))
        return prepared

    def _aiohttp_timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        direct = self._direct
        assert direct is not None
        return direct.timeout_of(request)

    def _timeout_dict(self) -> dict[str, float | None]:
        timeout = self.timeout
        cached = self._timeout_of
        if cached is None or cached[0] is not timeout:
            cached = self._timeout_of = (timeout, timeout.as_dict())
        return cached[1]
