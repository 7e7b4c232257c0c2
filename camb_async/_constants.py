"""Every default the client uses, in one place (docs/polling.md explains each)."""

from __future__ import annotations

import httpx

DEFAULT_BASE_URL = "https://client.camb.ai/apis"
API_KEY_ENV = "CAMB_API_KEY"
BASE_URL_ENV = "CAMB_BASE_URL"
DEFAULT_REALTIME_URL = "wss://realtime.camb.ai"
"""The speech-to-speech server; the SDK appends ``/v1/realtime``."""
REALTIME_URL_ENV = "CAMB_REALTIME_URL"

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""Per request: 5 s to connect, 30 s for each read, write and pool wait."""
DEFAULT_MAX_RETRIES = 2
"""Retries after the first try of a request (so up to 3 tries)."""
DEFAULT_MAX_CONCURRENT_REQUESTS = 256
"""The hard ceiling of a client's adaptive limit on requests in flight; more wait their turn in
the client. The limit stays under 64 unless the round trip alone is long (``_limiter``)."""
DEFAULT_MAX_CONCURRENT_TRANSFERS = 8
"""Streamed transfers (downloads, tts.stream) at once per client, apart from the polls' limit."""
DEFAULT_WATCH_TIMEOUT = 600.0
"""Overall deadline of one watch()/wait(), in seconds; None lifts it."""


def default_limits(max_concurrent_requests: int) -> httpx.Limits:
    """Pool limits for a client the SDK creates: a connection for each request it
    allows in flight (polls and transfers together) and 8 spare, all kept alive,
    so no request ever queues in httpx's pool (where queueing costs CPU and ends
    in PoolTimeout)."""
    return httpx.Limits(
        max_connections=max_concurrent_requests + 8,
        max_keepalive_connections=max_concurrent_requests + 8,
        keepalive_expiry=30.0,
    )
