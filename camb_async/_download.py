"""Result files streamed to a path, a file object or memory, in bounded memory.

* To a path: the bytes go to a temporary file beside the target, which is
  fsynced and renamed over the target only once whole. On any failure or
  cancellation the temporary file is removed and nothing appears under the
  target name; a body that breaks off is fetched again from the start (up to
  ``max_retries`` times), never appended to.
* To a file object: bytes are written as they arrive; once one is written
  nothing is retried, and the error says how many were.

A ``progress`` callback is given ``(bytes so far, total or None)`` once the answer's
headers came and after each chunk written: the total is the ``Content-Length`` when
the server sent one for the bytes as written (not for a compressed body), else
``None``. A transfer that starts over reports from 0 again.

Transfers run on the request path's streams (``Requester.stream``): their own
slots, apart from the polls' adaptive limit, and the API key only for the
API's own origin, also when a result endpoint redirects to storage.
"""

from __future__ import annotations

import codecs
import inspect
import os
import pathlib
import tempfile
from contextlib import aclosing
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeAlias, cast

import anyio
import anyio.to_thread
import httpx

from ._exceptions import APIConnectionError, DownloadInterruptedError
from ._retry import should_retry_exception
from ._transport import true_transport_error

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping

    from ._requester import Requester

__all__ = [
    "CHUNK_SIZE",
    "AsyncWritable",
    "Destination",
    "Progress",
    "download",
    "read_all",
    "stream_chunks",
    "stream_text",
]

CHUNK_SIZE = 256 * 1024
"""Bytes read from the network and written to disk at a time."""


class AsyncWritable(Protocol):
    """A binary file object with an async ``write`` (``anyio.open_file``, aiofiles)."""

    async def write(self, data: bytes, /) -> Any: ...


Destination: TypeAlias = "str | os.PathLike[str] | IO[bytes] | AsyncWritable"
"""Where a download goes: a path, or a binary file object (its ``write`` sync or async)."""

Progress: TypeAlias = "Callable[[int, int | None], object]"
"""A download's progress callback: given (bytes so far, total bytes or ``None`` if unknown)."""


async def download(
    requester: Requester,
    source: str,
    to: Destination,
    *,
    params: Mapping[str, str | int | bool] | None = None,
    progress: Progress | None = None,
) -> int:
    """Stream ``GET source`` (a path under the API, or a URL) into ``to``; return the bytes
    written. ``progress`` (when given) follows it, as the module docstring says."""
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable taking (bytes so far, total or None), got {progress!r}")
    target = await anyio.to_thread.run_sync(check_destination, to)
    if target is not None:
        return await _to_path(requester, source, target, params, progress)
    return await _to_file(requester, source, to.write, params, progress)  # type: ignore[union-attr]


def check_destination(to: object) -> pathlib.Path | None:
    """The target path of a download to a path (``None`` for a file object), or the error
    of a target that cannot be written: checked before any request."""
    if isinstance(to, (str, os.PathLike)):
        target = pathlib.Path(os.fspath(to))  # pyright: ignore[reportUnknownArgumentType]
        if target.is_dir():
            raise IsADirectoryError(f"download target {str(target)!r} is a directory; name a file")
        if not target.parent.is_dir():
            raise FileNotFoundError(f"download target's folder {str(target.parent)!r} does not exist")
        return target
    if not callable(getattr(to, "write", None)):
        raise TypeError(f"to must be a path or a binary file object, not {type(to).__name__}")
    return None


async def read_all(
    requester: Requester, source: str, *, params: Mapping[str, str | int | bool] | None = None
) -> bytes:
    """``GET source``'s whole body, fetched again from the start if it breaks off."""
    parts: list[bytes] = []

    async def keep(chunk: bytes) -> None:
        parts.append(chunk)

    async def restart() -> None:
        parts.clear()

    await _transfer(requester, source, params, keep, restart)
    return b"".join(parts)


async def _to_path(
    requester: Requester,
    source: str,
    target: pathlib.Path,
    params: Mapping[str, str | int | bool] | None,
    progress: Progress | None,
) -> int:
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    temporary = pathlib.Path(name)
    os.chmod(fd, 0o666 & ~_umask())  # as open() would create it, not mkstemp's owner-only 0600
    try:
        async with await anyio.open_file(fd, "wb") as file:

            async def write(chunk: bytes) -> None:
                await file.write(chunk)

            async def restart() -> None:
                await file.seek(0)
                await file.truncate()

            written = await _transfer(requester, source, params, write, restart, progress)
            await file.flush()
            await anyio.to_thread.run_sync(os.fsync, file.wrapped.fileno())
        os.replace(temporary, target)
    except BaseException:
        _remove(temporary)
        raise
    return written


def _umask() -> int:
    """The process's umask (read by setting it, and setting it back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove(path: pathlib.Path) -> None:
    """Remove a temporary file at once, without an await: this runs while the download
    is being cancelled, where an await would not run. A metadata call, quick."""
    path.unlink(missing_ok=True)


async def _to_file(
    requester: Requester,
    source: str,
    write: Callable[[bytes], object],
    params: Mapping[str, str | int | bool] | None,
    progress: Progress | None,
) -> int:
    async def sink(chunk: bytes) -> None:
        result = write(chunk)
        if inspect.isawaitable(result):
            await result

    return await _transfer(requester, source, params, sink, None, progress)


async def _transfer(
    requester: Requester,
    source: str,
    params: Mapping[str, str | int | bool] | None,
    sink: Callable[[bytes], Awaitable[None]],
    restart: Callable[[], Awaitable[None]] | None,
    progress: Progress | None = None,
) -> int:
    """Stream ``source`` into ``sink``; on a broken body start over through ``restart``
    (``None``: never, once a byte went to the sink). Returns the bytes delivered, and
    tells ``progress`` how many so far."""
    retries = 0
    while True:
        written = 0
        try:
            async with (
                requester.stream("GET", source, params=params, follow_redirects=True) as response,
                aclosing(cast("AsyncGenerator[bytes, None]", response.aiter_bytes(CHUNK_SIZE))) as chunks,
            ):
                total = expected_size(response.headers) if progress is not None else None
                if progress is not None:
                    progress(0, total)
                async for chunk in chunks:
                    await sink(chunk)
                    written += len(chunk)
                    if progress is not None:
                        progress(written, total)
            return written
        except requester.http_errors as raised:
            exc = true_transport_error(raised)
            fresh = written == 0 or restart is not None
            if fresh and retries < requester.max_retries and should_retry_exception(exc, idempotent=True):
                retries += 1
                if restart is not None and written:
                    await restart()
                await requester.backoff(retries, type(exc).__name__, "GET", httpx.URL(source).path)
                continue
            error = requester.transport_error(exc, "GET", _absolute(requester, source), idempotent=True)
            if isinstance(error, APIConnectionError):
                raise DownloadInterruptedError(
                    f"{error}; the body broke off after {written} bytes"
                    + ("" if restart is not None else " had been written to the file object"),
                    request=error.request,
                    bytes_written=0 if restart is not None else written,
                ) from exc
            raise error from exc


def expected_size(headers: httpx.Headers) -> int | None:
    """The size of a body as delivered, from its ``Content-Length``; ``None`` when it has
    none, a malformed one, or a ``Content-Encoding`` (the length is then the compressed one)."""
    if headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        return None
    length = headers.get("content-length", "").strip()
    return int(length) if length.isdecimal() else None


def _absolute(requester: Requester, source: str) -> str:
    return source if "://" in source else requester.base_url + source


class _Chunks:
    """The body of an open streamed answer, chunk by chunk; a break in it is a typed error."""

    def __init__(self, requester: Requester, response: httpx.Response) -> None:
        self._requester = requester
        self._response = response
        self._chunks = cast("AsyncGenerator[bytes, None]", response.aiter_bytes())
        self._delivered = 0

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = await self._chunks.__anext__()
        except self._requester.http_errors as raised:
            exc = true_transport_error(raised)
            request = self._response.request
            error = self._requester.transport_error(exc, request.method, str(request.url), idempotent=True)
            if not isinstance(error, APIConnectionError):
                raise error from exc
            raise DownloadInterruptedError(
                f"{error}; the body broke off after {self._delivered} bytes",
                request=error.request,
                bytes_written=self._delivered,
            ) from exc
        self._delivered += len(chunk)
        return chunk

    async def aclose(self) -> None:
        """Close the body's iterator (the response itself is closed by its ``stream``)."""
        await self._chunks.aclose()


def stream_chunks(requester: Requester, response: httpx.Response) -> _Chunks:
    """The chunks of ``response``'s body as they arrive (see ``Requester.stream``)."""
    return _Chunks(requester, response)


class _Text:
    """The body of an open streamed answer as text, decoded as it arrives."""

    def __init__(self, chunks: _Chunks, encoding: str) -> None:
        self._chunks = chunks
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._done = False

    def __aiter__(self) -> _Text:
        return self

    async def __anext__(self) -> str:
        while not self._done:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._done = True
                text = self._decoder.decode(b"", final=True)
            else:
                text = self._decoder.decode(chunk)
            if text:
                return text
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Close the body's iterator."""
        await self._chunks.aclose()


def stream_text(requester: Requester, response: httpx.Response) -> _Text:
    """The text of ``response``'s body as it arrives, in its charset (UTF-8 if none)."""
    encoding = response.charset_encoding or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    return _Text(stream_chunks(requester, response), encoding)
