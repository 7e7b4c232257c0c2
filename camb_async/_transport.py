"""Building the ``httpx.AsyncClient`` the SDK owns, on the transport the caller chose.

``transport="httpx"`` is httpx's own pool (httpcore). ``transport="aiohttp"``
sends through aiohttp via ``httpx_aiohttp`` (the ``camb-async[aiohttp]``
extra): the same httpx API above it, with a much cheaper pool and HTTP/1.1
parser below it. aiohttp only runs on asyncio, so under trio the SDK falls
back to httpx's own transport.

The client is built on first use, inside the running event loop: only then
is it known which loop that is, and aiohttp needs a running asyncio loop.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import httpx

from ._constants import default_limits
from ._exceptions import CambError

if TYPE_CHECKING:
    from ._types import TimeoutTypes

__all__ = ["TRANSPORTS", "HttpClientBuilder", "Transport", "running_on_asyncio"]

log = logging.getLogger("camb_async")

Transport = Literal["httpx", "aiohttp"]
TRANSPORTS: tuple[Transport, ...] = ("httpx", "aiohttp")

_INSTALL_HINT = "pip install 'camb-async[aiohttp]'"


class _MissingExtraError(CambError, ImportError):
    """An optional dependency is not installed; the message says what to install.

    Both a ``CambError`` and an ``ImportError``, so either ``except`` catches it.
    """


class HttpClientBuilder:
    """Builds the SDK's own ``httpx.AsyncClient`` once, when first needed.

    Args:
        transport: ``"httpx"`` or ``"aiohttp"``; checked (and the aiohttp
            extra looked for) here, so a mistake shows before any request.
        timeout: The client's per-request timeout.
        max_concurrent_requests: Sizes the pool (``default_limits``).

    Raises:
        ValueError: ``transport`` is not one of :data:`TRANSPORTS`.
        CambError: ``transport="aiohttp"`` but ``httpx-aiohttp`` is not
            installed (also an ``ImportError``).
    """

    __slots__ = ("_limits", "_timeout", "_transport")

    def __init__(self, transport: Transport, *, timeout: TimeoutTypes, max_concurrent_requests: int) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(
                f"transport must be one of {', '.join(map(repr, TRANSPORTS))}, got {transport!r}"
            )
        if transport == "aiohttp":
            _aiohttp_client_class()
        self._transport: Transport = transport
        self._timeout = timeout
        self._limits = default_limits(max_concurrent_requests)

    def build(self, headers: dict[str, str]) -> httpx.AsyncClient:
        """A new client for the running event loop, sending ``headers`` on every
        request; call it from inside that loop."""
        if self._transport == "aiohttp":
            if running_on_asyncio():
                # Its transport (AiohttpTransport) gets the same limits; it opens its
                # aiohttp.ClientSession on the first request, inside this loop.
                return _aiohttp_client_class()(headers=headers, timeout=self._timeout, limits=self._limits)
            log.info("transport='aiohttp' needs asyncio; on this event loop the SDK uses httpx's transport")
        return httpx.AsyncClient(headers=headers, timeout=self._timeout, limits=self._limits)


def _aiohttp_client_class() -> type[httpx.AsyncClient]:
    """httpx_aiohttp's client class (an ``httpx.AsyncClient`` on ``AiohttpTransport``)."""
    try:
        from httpx_aiohttp import HttpxAiohttpClient
    except ImportError as exc:
        raise _MissingExtraError(
            f"transport='aiohttp' needs the httpx-aiohttp and aiohttp packages: {_INSTALL_HINT}"
        ) from exc
    return HttpxAiohttpClient


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
