"""Helpers shared by the test modules (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import httpx

from camb_async import AsyncCambClient

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    import respx

BASE_URL = "https://camb.test/apis"
API_KEY = "sk-test-SECRET-never-shown"


@contextlib.asynccontextmanager
async def make_client(router: respx.Router, **options: Any) -> AsyncGenerator[AsyncCambClient, None]:
    """A client sending through ``router`` via httpx.MockTransport, with extra client ``options``."""
    http = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    async with http, AsyncCambClient(API_KEY, base_url=BASE_URL, http_client=http, **options) as camb:
        yield camb
