"""Where each live protocol connects, derived from the client's options.

Live TTS and live transcription live on ``base_url``'s host under its path (the
vendor's API reference: ``https://client.camb.ai/apis`` gives
``wss://client.camb.ai/apis/live-tts/ws`` and ``.../apis/transcription/listen``);
``live_transcription_url=`` replaces the latter whole (camb-sdk uses
``wss://realtime.camb.ai/streaming-transcription/listen``). Speech-to-speech has a
host of its own, ``realtime_url`` (``wss://realtime.camb.ai`` by default), under
which the SDK appends ``/v1/realtime``. ``http``/``https`` URLs become ``ws``/``wss``.
"""

from __future__ import annotations

import dataclasses
import logging

import httpx

from ._endpoint import websocket_url

__all__ = ["REALTIME_PATH", "LiveUrls", "live_urls"]

log = logging.getLogger("camb_async")

REALTIME_PATH = "/v1/realtime"
LIVE_TTS_PATH = "/live-tts/ws"
LIVE_TRANSCRIPTION_PATH = "/transcription/listen"
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclasses.dataclass(frozen=True)
class LiveUrls:
    """The WebSocket URL of each live protocol."""

    live_tts: str
    live_transcription: str
    realtime: str


def live_urls(base_url: str, *, realtime_url: str, live_transcription_url: str | None) -> LiveUrls:
    """The live URLs of a client with these options (``base_url`` already checked).

    Raises:
        ValueError: ``realtime_url`` or ``live_transcription_url`` is not a ws(s) or
            http(s) URL with a host, or has a query or fragment.
    """
    base = websocket_url(base_url.rstrip("/"))
    realtime = _checked(realtime_url, "realtime_url").rstrip("/")
    if not realtime.endswith(REALTIME_PATH):
        realtime += REALTIME_PATH
    transcription = (
        base + LIVE_TRANSCRIPTION_PATH
        if live_transcription_url is None
        else _checked(live_transcription_url, "live_transcription_url")
    )
    return LiveUrls(live_tts=base + LIVE_TTS_PATH, live_transcription=transcription, realtime=realtime)


def _checked(url: str, name: str) -> str:
    """``url`` as a ws(s) URL, once it is one with a host and neither query nor fragment."""
    converted = websocket_url(url)
    try:
        parsed = httpx.URL(converted)
    except httpx.InvalidURL as exc:
        raise ValueError(f"{name} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("ws", "wss") or not parsed.host:
        raise ValueError(f"{name} must be a ws(s) or http(s) URL with a host, got {url!r}")
    if parsed.query or parsed.fragment or parsed.userinfo:
        raise ValueError(f"{name} must not have credentials, a query or a fragment")
    if parsed.scheme == "ws" and parsed.host not in _LOCAL_HOSTS:
        log.warning("%s %s sends the API key unencrypted; use wss", name, converted)
    return converted
